//! Quotas (P3): top-down allocation of a target in exact money, monthly seasonality, ramp for
//! new hires, a bottom-up capacity check and attainment.
//!
//! Every split uses the largest-remainder method at the currency's minor unit, so the parts
//! always sum exactly to the whole: no cent appears or disappears.

use model::Money;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::Diagnostic;

/// What a recipient's share is proportional to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Basis {
    /// Equal shares.
    Even,
    /// Last fiscal year's actual bookings.
    PriorYear,
    /// Bookings over the trailing twelve months.
    TrailingTwelveMonths,
    /// Estimated sales potential of the territory.
    Potential,
    /// Capacity given the ramp: the share of a full year the recipient can sell (see [`ramp_capacity`]).
    Capacity,
}

/// An allocation method: one basis, or a weighted blend of bases.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum AllocationMethod {
    /// Shares proportional to one basis.
    Single(Basis),
    /// Each basis is first turned into shares (so scales do not matter), then the shares are
    /// mixed with these weights, e.g. 50% potential, 30% prior year, 20% even.
    Blend(Vec<(Basis, Decimal)>),
}

/// A region, team or rep receiving part of a target, with the figures the bases read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recipient {
    /// Identifier (region code, team name or rep id).
    pub id: String,
    /// Prior fiscal year's actuals.
    pub prior_year: Decimal,
    /// Trailing twelve months' actuals.
    pub trailing_twelve_months: Decimal,
    /// Potential.
    pub potential: Decimal,
    /// Share of a full year the recipient can sell (1 for a fully ramped rep).
    pub capacity: Decimal,
}

impl Recipient {
    /// A recipient with only an id, all figures zero and full capacity.
    pub fn named(id: impl Into<String>) -> Recipient {
        Recipient {
            id: id.into(),
            prior_year: Decimal::ZERO,
            trailing_twelve_months: Decimal::ZERO,
            potential: Decimal::ZERO,
            capacity: Decimal::ONE,
        }
    }

    fn basis(&self, basis: Basis) -> Decimal {
        match basis {
            Basis::Even => Decimal::ONE,
            Basis::PriorYear => self.prior_year,
            Basis::TrailingTwelveMonths => self.trailing_twelve_months,
            Basis::Potential => self.potential,
            Basis::Capacity => self.capacity,
        }
    }
}

/// One recipient's part of a target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Allocation {
    /// Recipient id.
    pub id: String,
    /// The allocated quota.
    pub quota: Money,
}

/// User errors in quota input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum QuotaError {
    /// Nobody to allocate to.
    #[error("no recipients")]
    NoRecipients,
    /// A field is invalid; `place` names it.
    #[error("{place}: {message}")]
    Invalid {
        /// Where the problem is.
        place: String,
        /// What is wrong.
        message: String,
    },
}

/// Split `target` over `recipients` by `method`.
///
/// Negative figures count as zero (with a diagnostic); if every recipient's basis is zero the
/// split falls back to even shares (with a diagnostic). A target with more decimals than the
/// currency has is rounded to the minor unit first (with a diagnostic).
pub fn allocate(
    target: Money,
    recipients: &[Recipient],
    method: &AllocationMethod,
) -> Result<(Vec<Allocation>, Vec<Diagnostic>), QuotaError> {
    if recipients.is_empty() {
        return Err(QuotaError::NoRecipients);
    }
    let mut diagnostics = Vec::new();
    let blend: Vec<(Basis, Decimal)> = match method {
        AllocationMethod::Single(basis) => vec![(*basis, Decimal::ONE)],
        AllocationMethod::Blend(parts) => parts.clone(),
    };
    if let Some(index) = blend.iter().position(|(_, weight)| weight.is_sign_negative()) {
        return Err(QuotaError::Invalid { place: format!("blend[{index}]"), message: "negative weight".into() });
    }
    let weight_total: Decimal = blend.iter().map(|(_, weight)| *weight).sum();
    if weight_total.is_zero() {
        return Err(QuotaError::Invalid { place: "blend".into(), message: "weights sum to zero".into() });
    }
    let mut weights = vec![Decimal::ZERO; recipients.len()];
    for (basis, weight) in &blend {
        let values: Vec<Decimal> = recipients
            .iter()
            .map(|recipient| {
                let value = recipient.basis(*basis);
                if value.is_sign_negative() {
                    diagnostics.push(Diagnostic::warning(format!(
                        "{}: negative {basis:?} {value} counted as zero",
                        recipient.id
                    )));
                    Decimal::ZERO
                } else {
                    value
                }
            })
            .collect();
        let total: Decimal = values.iter().copied().sum();
        for (slot, value) in weights.iter_mut().zip(&values) {
            let share = if total.is_zero() { Decimal::ONE / Decimal::from(recipients.len()) } else { value / total };
            *slot += share * weight / weight_total;
        }
        if total.is_zero() && *basis != Basis::Even {
            diagnostics.push(Diagnostic::warning(format!("every {basis:?} is zero; that part is split evenly")));
        }
    }
    let minor_units = target.currency.minor_units();
    let rounded = target.amount.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointNearestEven);
    if rounded != target.amount {
        diagnostics.push(Diagnostic::warning(format!(
            "target {} rounded to {rounded} {}",
            target.amount,
            target.currency.code()
        )));
    }
    let parts = split(rounded, &weights, minor_units);
    let allocations = recipients
        .iter()
        .zip(parts)
        .map(|(recipient, amount)| Allocation { id: recipient.id.clone(), quota: Money::new(amount, target.currency) })
        .collect();
    Ok((allocations, diagnostics))
}

/// Split `total` in proportion to `weights` (all ≥ 0, not all zero; otherwise evenly) into
/// parts with `decimals` decimal places that sum exactly to `total` (which must have at most
/// `decimals` places). Largest remainder: each part is rounded down (toward zero), and the
/// units left over go one each to the parts with the largest remainders, earlier parts first
/// on ties.
pub fn split(total: Decimal, weights: &[Decimal], decimals: u32) -> Vec<Decimal> {
    if weights.is_empty() {
        return Vec::new();
    }
    let weight_total: Decimal = weights.iter().map(|weight| (*weight).max(Decimal::ZERO)).sum();
    let even = weight_total.is_zero();
    let negative = total.is_sign_negative();
    let magnitude = total.abs();
    let exact: Vec<Decimal> = weights
        .iter()
        .map(|weight| {
            if even {
                magnitude / Decimal::from(weights.len())
            } else {
                magnitude * (*weight).max(Decimal::ZERO) / weight_total
            }
        })
        .collect();
    let mut parts: Vec<Decimal> =
        exact.iter().map(|value| value.round_dp_with_strategy(decimals, RoundingStrategy::ToZero)).collect();
    let unit = Decimal::new(1, decimals);
    let mut left = magnitude - parts.iter().copied().sum::<Decimal>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - parts[b]).cmp(&(exact[a] - parts[a])).then(a.cmp(&b)));
    let mut cursor = 0;
    while left >= unit {
        parts[order[cursor % order.len()]] += unit;
        left -= unit;
        cursor += 1;
    }
    for part in &mut parts {
        if negative {
            *part = -*part;
        }
        // Same number of decimals on every part, so "0.00" prints as such.
        part.rescale(decimals);
    }
    parts
}

/// Split an annual quota into twelve monthly quotas by seasonality weights (e.g. last year's
/// share of bookings per month); the months sum exactly to the annual figure.
pub fn monthly(annual: Money, seasonality: &[Decimal; 12]) -> [Money; 12] {
    let parts = split(annual.amount, seasonality, annual.currency.minor_units());
    std::array::from_fn(|month| Money::new(parts[month], annual.currency))
}

/// The usual ramp for a new hire: 25%, 50%, 75% of a full quota in the first three months.
pub fn standard_ramp() -> Vec<Decimal> {
    vec![Decimal::new(25, 2), Decimal::new(50, 2), Decimal::new(75, 2)]
}

/// Monthly quotas of a rep who starts in `start_month` (0 = first month of the plan; earlier
/// starts are negative): nothing before the start, then `ramp[k]` × the full monthly quota in
/// their `k`-th month, and the full quota once the ramp is over. Each month is rounded to the
/// minor unit (half away from zero), so the year is the sum of its months.
pub fn ramped(full_monthly: &[Money; 12], start_month: i32, ramp: &[Decimal]) -> [Money; 12] {
    std::array::from_fn(|month| {
        let full = full_monthly[month];
        let factor = ramp_factor(month as i32 - start_month, ramp);
        let mut amount = (full.amount * factor)
            .round_dp_with_strategy(full.currency.minor_units(), RoundingStrategy::MidpointAwayFromZero);
        amount.rescale(full.currency.minor_units());
        Money::new(amount, full.currency)
    })
}

/// Ramp factor in the `tenure`-th month (0 = first month): 0 before the start, `ramp[tenure]`
/// during the ramp, 1 after.
pub fn ramp_factor(tenure: i32, ramp: &[Decimal]) -> Decimal {
    if tenure < 0 { Decimal::ZERO } else { ramp.get(tenure as usize).copied().unwrap_or(Decimal::ONE) }
}

/// Share of a full plan year a rep starting in `start_month` can sell, weighting months by
/// `seasonality`: the [`Basis::Capacity`] figure for allocation by experience.
pub fn ramp_capacity(start_month: i32, ramp: &[Decimal], seasonality: &[Decimal; 12]) -> Decimal {
    let total: Decimal = seasonality.iter().copied().sum();
    if total.is_zero() {
        return Decimal::ZERO;
    }
    let weighted: Decimal =
        (0..12).map(|month| seasonality[month] * ramp_factor(month as i32 - start_month, ramp)).sum();
    weighted / total
}

/// Result of the bottom-up check: can the team's capacity carry the target?
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CapacityCheck {
    /// The target being checked.
    pub target: Money,
    /// Sum of what each rep can sell in the year (productivity × ramp capacity).
    pub capacity: Money,
    /// `capacity − target` (negative: a shortfall).
    pub surplus: Money,
    /// `capacity / target` (1.0 = exactly enough).
    pub coverage: Decimal,
}

/// A rep as the bottom-up check sees them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RepCapacity {
    /// Rep id.
    pub id: String,
    /// What a fully ramped rep sells in a year.
    pub full_year_productivity: Decimal,
    /// Start month (0 = first month of the plan; negative = already there).
    pub start_month: i32,
}

/// Bottom-up check of `target` against the capacity of `reps` with `ramp` and `seasonality`.
pub fn capacity_check(
    target: Money,
    reps: &[RepCapacity],
    ramp: &[Decimal],
    seasonality: &[Decimal; 12],
) -> CapacityCheck {
    let capacity: Decimal = reps
        .iter()
        .map(|rep| rep.full_year_productivity * ramp_capacity(rep.start_month, ramp, seasonality))
        .sum::<Decimal>()
        .round_dp_with_strategy(target.currency.minor_units(), RoundingStrategy::MidpointAwayFromZero);
    let coverage = if target.amount.is_zero() { Decimal::ZERO } else { (capacity / target.amount).round_dp(4) };
    CapacityCheck {
        target,
        capacity: Money::new(capacity, target.currency),
        surplus: Money::new(capacity - target.amount, target.currency),
        coverage,
    }
}

/// Attainment of `actual` against `quota` as a ratio (1.0 = 100%), rounded to 4 decimals;
/// `None` when the quota is zero or the currencies differ.
pub fn attainment(actual: Money, quota: Money) -> Option<Decimal> {
    if actual.currency != quota.currency || quota.amount.is_zero() {
        return None;
    }
    Some((actual.amount / quota.amount).round_dp(4))
}

/// Even seasonality: every month weighs the same.
pub fn flat_seasonality() -> [Decimal; 12] {
    [Decimal::ONE; 12]
}

/// A change proposed in a bottom-up (waterfall) round: a level below asks for a different quota.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Proposal {
    /// Recipient whose quota would change.
    pub id: String,
    /// The quota they propose.
    pub proposed: Money,
    /// Why (shown to the owner who decides).
    pub comment: String,
}

/// The owner's decision on a proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Decision {
    /// Take the proposed quota.
    Approve,
    /// Keep the allocated quota; the reason is kept with the round.
    Reject(String),
}

/// One line of a decided round, for the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundLine {
    /// Recipient id.
    pub id: String,
    /// Quota before the round.
    pub before: Money,
    /// Quota after the round.
    pub after: Money,
    /// The proposal's comment and the decision, if there was a proposal.
    pub note: Option<String>,
}

/// Apply a decided bottom-up round to `allocations`. Approved proposals take their proposed
/// quota. With `keep_total`, the difference is spread over the recipients without an approved
/// change, in proportion to their quotas (remainder-safe), so the parent's total is unchanged;
/// if nobody is left to absorb it the total changes and a diagnostic says so. Proposals for
/// unknown recipients or in another currency are ignored with a diagnostic.
pub fn apply_round(
    allocations: &[Allocation],
    proposals: &[(Proposal, Decision)],
    keep_total: bool,
) -> (Vec<RoundLine>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut lines: Vec<RoundLine> = allocations
        .iter()
        .map(|allocation| RoundLine {
            id: allocation.id.clone(),
            before: allocation.quota,
            after: allocation.quota,
            note: None,
        })
        .collect();
    let mut changed = vec![false; lines.len()];
    for (proposal, decision) in proposals {
        let Some(index) = lines.iter().position(|line| line.id == proposal.id) else {
            diagnostics.push(Diagnostic::warning(format!("proposal for unknown recipient {} ignored", proposal.id)));
            continue;
        };
        if proposal.proposed.currency != lines[index].before.currency {
            diagnostics.push(Diagnostic::warning(format!("proposal for {} in another currency ignored", proposal.id)));
            continue;
        }
        match decision {
            Decision::Approve => {
                lines[index].after = proposal.proposed;
                changed[index] = true;
                lines[index].note = Some(format!("approved: {}", proposal.comment));
            }
            Decision::Reject(reason) => {
                lines[index].note = Some(format!("rejected ({reason}): {}", proposal.comment));
            }
        }
    }
    if keep_total {
        let difference: Decimal = lines.iter().map(|line| line.before.amount - line.after.amount).sum();
        let absorbers: Vec<usize> = (0..lines.len()).filter(|&index| !changed[index]).collect();
        if !difference.is_zero() {
            if absorbers.is_empty() {
                diagnostics
                    .push(Diagnostic::warning(format!("every quota changed; the total moves by {}", -difference)));
            } else {
                let weights: Vec<Decimal> = absorbers.iter().map(|&index| lines[index].before.amount).collect();
                let decimals = lines[0].before.currency.minor_units();
                for (&index, part) in absorbers.iter().zip(split(difference, &weights, decimals)) {
                    lines[index].after = Money::new(lines[index].after.amount + part, lines[index].after.currency);
                }
            }
        }
    }
    (lines, diagnostics)
}
