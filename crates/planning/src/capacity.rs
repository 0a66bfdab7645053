//! Capacity and resources (P4): how many reps a target needs given ramp, attrition, productivity
//! per tenure and seasonality; a month-by-month hiring plan; headcount split across regions;
//! what-if comparison of two scenarios.
//!
//! The projection is an expected-value model in exact decimals: a cohort of `n` reps hired in
//! month `s` has `n·(1 − a)^(m − s)` reps left in month `m` (monthly attrition `a`), each selling
//! `full · f(m − s) · season(m)`, where `f` is productivity by tenure month (the ramp is its start)
//! and `season` the seasonality weights normalised to a mean of 1. With backfill, the expected
//! leavers of a month are rehired the next month and ramp again.

use model::{Currency, Money};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::quota::split;

/// The assumptions of a capacity plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CapacityModel {
    /// Bookings per month of a fully productive rep.
    pub full_monthly_productivity: Decimal,
    /// Currency of productivity, targets and cost.
    pub currency: Currency,
    /// Productivity factor by tenure month (index 0 = first month); the last value holds after.
    /// A 25/50/75/100% ramp is `[0.25, 0.5, 0.75, 1]`; later entries can model veterans.
    pub productivity_by_tenure: Vec<Decimal>,
    /// Share of reps leaving each month (e.g. 0.015 ≈ 17% a year).
    pub monthly_attrition: Decimal,
    /// Whether expected leavers are replaced by new hires the following month.
    pub backfill: bool,
    /// Relative weight of each plan month (normalised to a mean of 1).
    pub seasonality: Vec<Decimal>,
    /// Fully loaded cost of one rep per month (salary, benefits, tools), for the budget.
    pub cost_per_rep_month: Decimal,
}

/// Reps hired together.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Cohort {
    /// Month of hire, relative to the plan's first month (negative = before the plan).
    pub start_month: i32,
    /// Number of reps.
    pub count: Decimal,
}

/// One month of a projection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonthFigures {
    /// Plan month (0 = first).
    pub month: usize,
    /// Planned new hires this month (excluding backfill).
    pub hires: u32,
    /// Expected headcount (including backfill hires).
    pub headcount: Decimal,
    /// Expected bookings capacity.
    pub capacity: Money,
    /// Capacity from the first month to this one.
    pub cumulative: Money,
    /// Expected cost of the headcount.
    pub cost: Money,
}

/// A projection over the plan months.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Projection {
    /// Month by month.
    pub months: Vec<MonthFigures>,
    /// Total capacity over the plan.
    pub total_capacity: Money,
    /// Total cost over the plan.
    pub total_cost: Money,
}

/// Headcounts are carried with this many decimals (expected values, not people).
const HEADCOUNT_DECIMALS: u32 = 6;

impl CapacityModel {
    /// Productivity factor in tenure month `tenure` (0 before the start).
    pub fn productivity_factor(&self, tenure: i32) -> Decimal {
        if tenure < 0 {
            return Decimal::ZERO;
        }
        match self.productivity_by_tenure.get(tenure as usize) {
            Some(factor) => *factor,
            None => self.productivity_by_tenure.last().copied().unwrap_or(Decimal::ONE),
        }
    }

    fn season(&self, month: usize) -> Decimal {
        if self.seasonality.is_empty() {
            return Decimal::ONE;
        }
        let total: Decimal = self.seasonality.iter().copied().sum();
        if total.is_zero() {
            return Decimal::ONE;
        }
        let weight = self.seasonality[month % self.seasonality.len()];
        weight * Decimal::from(self.seasonality.len()) / total
    }

    fn round_money(&self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.currency.minor_units(), RoundingStrategy::MidpointAwayFromZero)
    }
}

/// Project capacity and cost over `hires.len()` months for the `existing` team plus `hires[m]`
/// new reps in month `m`.
pub fn project(model: &CapacityModel, existing: &[Cohort], hires: &[u32]) -> Projection {
    let months = hires.len();
    let retention = Decimal::ONE - model.monthly_attrition;
    // Live cohorts: (start month, count at start) and their current expected size.
    let mut cohorts: Vec<(i32, Decimal)> = existing.iter().map(|cohort| (cohort.start_month, cohort.count)).collect();
    let mut rows = Vec::with_capacity(months);
    let mut cumulative = Decimal::ZERO;
    let mut total_cost = Decimal::ZERO;
    let mut pending_backfill = Decimal::ZERO;
    for (month, &hired) in hires.iter().enumerate() {
        let month_index = month as i32;
        if hired > 0 {
            cohorts.push((month_index, Decimal::from(hired)));
        }
        if pending_backfill > Decimal::ZERO {
            cohorts.push((month_index, pending_backfill));
        }
        let mut headcount = Decimal::ZERO;
        let mut productive = Decimal::ZERO;
        let mut leavers = Decimal::ZERO;
        for &(start, count) in &cohorts {
            if start > month_index {
                continue;
            }
            // Survivors since the later of the hire and the plan start; existing reps are
            // counted at their size at plan start.
            let since = (month_index - start.max(0)) as i64;
            let alive = (count * power(retention, since)).round_dp(HEADCOUNT_DECIMALS);
            headcount += alive;
            productive += alive * model.productivity_factor(month_index - start);
            leavers += alive * model.monthly_attrition;
        }
        pending_backfill = if model.backfill { leavers.round_dp(HEADCOUNT_DECIMALS) } else { Decimal::ZERO };
        let capacity = model.round_money(productive * model.full_monthly_productivity * model.season(month));
        let cost = model.round_money(headcount * model.cost_per_rep_month);
        cumulative += capacity;
        total_cost += cost;
        rows.push(MonthFigures {
            month,
            hires: hired,
            headcount: headcount.round_dp(2),
            capacity: Money::new(capacity, model.currency),
            cumulative: Money::new(cumulative, model.currency),
            cost: Money::new(cost, model.currency),
        });
    }
    Projection {
        months: rows,
        total_capacity: Money::new(cumulative, model.currency),
        total_cost: Money::new(total_cost, model.currency),
    }
}

/// `base^exponent` by repeated multiplication, kept to 12 decimals (exponents are months).
fn power(base: Decimal, exponent: i64) -> Decimal {
    let mut result = Decimal::ONE;
    for _ in 0..exponent.max(0) {
        result = (result * base).round_dp(12);
    }
    result
}

/// A hiring plan and whether it reaches the target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HiringPlan {
    /// New hires per month.
    pub hires: Vec<u32>,
    /// Total new hires.
    pub total_hires: u32,
    /// The resulting projection.
    pub projection: Projection,
    /// Whether the projected capacity reaches the target.
    pub meets_target: bool,
}

/// The fewest hires that reach `target` over `months` months, at most `max_hires_per_month` a
/// month: hires are placed as early as possible, since an earlier hire ramps sooner and so adds
/// at least as much capacity as a later one; filling the earliest months first therefore needs
/// the fewest hires.
pub fn hiring_plan(
    model: &CapacityModel,
    target: Money,
    existing: &[Cohort],
    months: usize,
    max_hires_per_month: u32,
) -> HiringPlan {
    let mut hires = vec![0u32; months];
    let mut projection = project(model, existing, &hires);
    'months: for month in 0..months {
        while projection.total_capacity.amount < target.amount {
            if hires[month] >= max_hires_per_month {
                continue 'months;
            }
            hires[month] += 1;
            projection = project(model, existing, &hires);
        }
        break;
    }
    let meets_target = projection.total_capacity.amount >= target.amount;
    HiringPlan { total_hires: hires.iter().sum(), hires, projection, meets_target }
}

/// How many reps, all hired in the plan's first month on top of `existing`, reach `target`
/// within `months` months; `None` if even `limit` reps do not (e.g. zero productivity).
pub fn reps_needed(
    model: &CapacityModel,
    target: Money,
    existing: &[Cohort],
    months: usize,
    limit: u32,
) -> Option<u32> {
    let plan = hiring_plan(model, target, existing, months.max(1), limit);
    plan.meets_target.then_some(plan.hires.first().copied().unwrap_or(0))
}

/// Split a headcount (or budget in whole units) across regions by weights, with largest
/// remainders so the parts sum to the total.
pub fn allocate_headcount(total: u32, regions: &[(String, Decimal)]) -> Vec<(String, u32)> {
    let weights: Vec<Decimal> = regions.iter().map(|(_, weight)| *weight).collect();
    split(Decimal::from(total), &weights, 0)
        .into_iter()
        .zip(regions)
        .map(|(part, (region, _))| (region.clone(), part.to_u32().unwrap_or(0)))
        .collect()
}

/// A named what-if scenario: assumptions, today's team and planned hires.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scenario {
    /// Name shown in the comparison.
    pub name: String,
    /// Assumptions.
    pub model: CapacityModel,
    /// Today's team.
    pub existing: Vec<Cohort>,
    /// Planned hires per month.
    pub hires: Vec<u32>,
}

/// One month of a side-by-side comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparisonRow {
    /// Plan month.
    pub month: usize,
    /// Capacity in the first scenario.
    pub first: Decimal,
    /// Capacity in the second scenario.
    pub second: Decimal,
    /// `second − first`.
    pub difference: Decimal,
    /// Headcount in the first scenario.
    pub first_headcount: Decimal,
    /// Headcount in the second scenario.
    pub second_headcount: Decimal,
}

/// Two scenarios side by side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Names of the two scenarios.
    pub names: (String, String),
    /// Month by month (over the shorter plan).
    pub rows: Vec<ComparisonRow>,
    /// Total capacity of each scenario.
    pub total_capacity: (Money, Money),
    /// Total cost of each scenario.
    pub total_cost: (Money, Money),
}

/// Project both scenarios and put them side by side.
pub fn compare(first: &Scenario, second: &Scenario) -> Comparison {
    let a = project(&first.model, &first.existing, &first.hires);
    let b = project(&second.model, &second.existing, &second.hires);
    let rows = a
        .months
        .iter()
        .zip(&b.months)
        .map(|(x, y)| ComparisonRow {
            month: x.month,
            first: x.capacity.amount,
            second: y.capacity.amount,
            difference: y.capacity.amount - x.capacity.amount,
            first_headcount: x.headcount,
            second_headcount: y.headcount,
        })
        .collect();
    Comparison {
        names: (first.name.clone(), second.name.clone()),
        rows,
        total_capacity: (a.total_capacity, b.total_capacity),
        total_cost: (a.total_cost, b.total_cost),
    }
}
