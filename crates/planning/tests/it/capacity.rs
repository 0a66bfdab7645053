//! Capacity: projection, hiring plan, headcount split, what-if.

use model::{Currency, Money};
use planning::capacity::{
    CapacityModel, Cohort, Scenario, allocate_headcount, compare, hiring_plan, project, reps_needed,
};
use rust_decimal::Decimal;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// 50,000 a month when ramped, 25/50/75/100% ramp, no attrition, flat year, 10,000 cost.
fn simple() -> CapacityModel {
    CapacityModel {
        full_monthly_productivity: d("50000"),
        currency: Currency::EUR,
        productivity_by_tenure: vec![d("0.25"), d("0.5"), d("0.75"), d("1")],
        monthly_attrition: Decimal::ZERO,
        backfill: false,
        seasonality: Vec::new(),
        cost_per_rep_month: d("10000"),
    }
}

fn team_of(count: i64) -> Vec<Cohort> {
    vec![Cohort { start_month: -12, count: Decimal::from(count) }]
}

#[test]
fn a_ramped_team_sells_its_full_productivity() {
    let projection = project(&simple(), &team_of(10), &[0; 12]);
    assert_eq!(projection.total_capacity.amount, d("6000000.00"));
    assert_eq!(projection.total_cost.amount, d("1200000.00"));
}

#[test]
fn hiring_plan_fills_the_earliest_months_first() {
    let target = Money::new(d("7000000"), Currency::EUR);
    let plan = hiring_plan(&simple(), target, &team_of(10), 12, 2);
    // Each hire in month 0 adds 50,000 × (0.25 + 0.5 + 0.75 + 9) = 525,000; two per month.
    assert_eq!(plan.hires[..3], [2, 0, 0]);
    assert_eq!(plan.total_hires, 2);
    assert!(plan.meets_target);
    assert_eq!(plan.projection.total_capacity.amount, d("7050000.00"));
    assert_eq!(reps_needed(&simple(), target, &team_of(10), 12, 100), Some(2));
}

#[test]
fn an_unreachable_target_says_so() {
    let target = Money::new(d("100000000"), Currency::EUR);
    let plan = hiring_plan(&simple(), target, &team_of(1), 12, 1);
    assert!(!plan.meets_target);
    assert_eq!(plan.total_hires, 12);
    assert_eq!(reps_needed(&simple(), target, &team_of(1), 12, 5), None);
}

#[test]
fn attrition_with_backfill_keeps_headcount_but_loses_ramp_time() {
    let leaky = CapacityModel { monthly_attrition: d("0.02"), ..simple() };
    let without = project(&leaky, &team_of(10), &[0; 12]);
    let with = project(&CapacityModel { backfill: true, ..leaky.clone() }, &team_of(10), &[0; 12]);
    assert_eq!(without.months[11].headcount, d("8.01"));
    assert_eq!(with.months[11].headcount, d("10.00"));
    assert!(with.total_capacity.amount > without.total_capacity.amount);
    assert!(with.total_capacity.amount < d("6000000"));
}

#[test]
fn seasonality_shapes_the_months_not_the_year() {
    let mut weights = vec![Decimal::ONE; 12];
    weights[11] = d("2");
    weights[0] = Decimal::ZERO;
    let seasonal = CapacityModel { seasonality: weights, ..simple() };
    let projection = project(&seasonal, &team_of(10), &[0; 12]);
    assert_eq!(projection.months[0].capacity.amount, d("0.00"));
    assert_eq!(projection.months[11].capacity.amount, d("1000000.00"));
    assert_eq!(projection.total_capacity.amount, d("6000000.00"));
}

#[test]
fn headcount_split_across_regions_adds_up() {
    let regions = vec![("north".to_string(), d("1")), ("south".to_string(), d("1")), ("west".to_string(), d("1"))];
    assert_eq!(
        allocate_headcount(10, &regions),
        vec![("north".to_string(), 4), ("south".to_string(), 3), ("west".to_string(), 3)]
    );
}

#[test]
fn what_if_compares_two_ramp_assumptions() {
    let base = Scenario { name: "today".into(), model: simple(), existing: team_of(5), hires: vec![1; 12] };
    let faster = Scenario {
        name: "faster onboarding".into(),
        model: CapacityModel { productivity_by_tenure: vec![d("0.5"), d("1")], ..simple() },
        ..base.clone()
    };
    let comparison = compare(&base, &faster);
    assert_eq!(comparison.rows[0].difference, d("12500.00"));
    assert!(comparison.total_capacity.1.amount > comparison.total_capacity.0.amount);
    assert_eq!(comparison.total_cost.0, comparison.total_cost.1);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn another_hire_never_lowers_capacity(
            hires in proptest::collection::vec(0u32..4, 12),
            month in 0usize..12,
            attrition in 0u32..50,
            backfill in any::<bool>(),
        ) {
            let model = CapacityModel {
                monthly_attrition: Decimal::new(i64::from(attrition), 3),
                backfill,
                ..simple()
            };
            let before = project(&model, &team_of(3), &hires);
            let mut more = hires.clone();
            more[month] += 1;
            let after = project(&model, &team_of(3), &more);
            prop_assert!(after.total_capacity.amount >= before.total_capacity.amount);
            prop_assert!(after.total_cost.amount >= before.total_cost.amount);
        }

        #[test]
        fn a_plan_that_meets_the_target_really_does(target in 0i64..20_000_000, cap in 1u32..5) {
            let target = Money::new(Decimal::from(target), Currency::EUR);
            let plan = hiring_plan(&simple(), target, &team_of(2), 12, cap);
            prop_assert_eq!(plan.meets_target, plan.projection.total_capacity.amount >= target.amount);
            prop_assert!(plan.hires.iter().all(|&hired| hired <= cap));
            if plan.total_hires > 0 {
                // One hire fewer in the last month used would fall short.
                let mut fewer = plan.hires.clone();
                let last = fewer.iter().rposition(|&hired| hired > 0).unwrap();
                fewer[last] -= 1;
                prop_assert!(project(&simple(), &team_of(2), &fewer).total_capacity.amount < target.amount);
            }
        }
    }
}
