//! Quotas: exact allocation, seasonality, ramp, capacity check.

use model::{Currency, Money};
use planning::quota::{
    AllocationMethod, Basis, Recipient, RepCapacity, allocate, attainment, capacity_check, flat_seasonality, monthly,
    ramp_capacity, ramped, split, standard_ramp,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn team() -> Vec<Recipient> {
    let rep = |id: &str, prior: &str, ttm: &str, potential: &str| Recipient {
        id: id.into(),
        prior_year: d(prior),
        trailing_twelve_months: d(ttm),
        potential: d(potential),
        capacity: Decimal::ONE,
    };
    vec![
        rep("ana", "400000", "450000", "1000000"),
        rep("bo", "350000", "300000", "500000"),
        rep("cy", "250000", "250000", "500000"),
    ]
}

fn table(allocations: &[planning::quota::Allocation]) -> String {
    allocations.iter().map(|a| format!("{} {}", a.id, a.quota.amount)).collect::<Vec<_>>().join(", ")
}

#[test]
fn one_million_split_three_ways_keeps_every_cent() {
    let (even, _) = allocate(eur("1000000.00"), &team(), &AllocationMethod::Single(Basis::Even)).unwrap();
    assert_eq!(table(&even), "ana 333333.34, bo 333333.33, cy 333333.33");
    let (prior, _) = allocate(eur("1000000.00"), &team(), &AllocationMethod::Single(Basis::PriorYear)).unwrap();
    assert_eq!(table(&prior), "ana 400000.00, bo 350000.00, cy 250000.00");
    let (potential, _) = allocate(eur("1000000.00"), &team(), &AllocationMethod::Single(Basis::Potential)).unwrap();
    assert_eq!(table(&potential), "ana 500000.00, bo 250000.00, cy 250000.00");
    let blend = AllocationMethod::Blend(vec![(Basis::Potential, d("0.5")), (Basis::TrailingTwelveMonths, d("0.5"))]);
    let (blended, _) = allocate(eur("1000000.00"), &team(), &blend).unwrap();
    assert_eq!(table(&blended), "ana 475000.00, bo 275000.00, cy 250000.00");
}

#[test]
fn zero_history_falls_back_to_even_with_a_diagnostic() {
    let people = vec![Recipient::named("new1"), Recipient::named("new2")];
    let (parts, diagnostics) = allocate(eur("100.01"), &people, &AllocationMethod::Single(Basis::PriorYear)).unwrap();
    assert_eq!(table(&parts), "new1 50.01, new2 50.00");
    assert_eq!(diagnostics[0].message, "every PriorYear is zero; that part is split evenly");
}

#[test]
fn yen_has_no_minor_unit() {
    let target = Money::parse("1000", "JPY").unwrap();
    let (parts, _) = allocate(target, &team(), &AllocationMethod::Single(Basis::Even)).unwrap();
    assert_eq!(table(&parts), "ana 334, bo 333, cy 333");
    assert_eq!(parts[0].quota.currency, Currency::parse("JPY").unwrap());
}

#[test]
fn seasonality_and_ramp() {
    let mut season = flat_seasonality();
    season[11] = d("3"); // December weighs three months
    let months = monthly(eur("140000.00"), &season);
    assert_eq!(months[0].amount, d("10000.00"));
    assert_eq!(months[11].amount, d("30000.00"));
    let full = monthly(eur("120000.00"), &flat_seasonality());
    let new_hire = ramped(&full, 2, &standard_ramp());
    let amounts: Vec<String> = new_hire.iter().map(|m| m.amount.to_string()).collect();
    assert_eq!(amounts[..6], ["0.00", "0.00", "2500.00", "5000.00", "7500.00", "10000.00"]);
    // Ten months of the year, three of them ramping: 0.25 + 0.5 + 0.75 + 7 = 8.5 of 12.
    assert_eq!(ramp_capacity(2, &standard_ramp(), &flat_seasonality()).round_dp(6), d("0.708333"));
}

#[test]
fn bottom_up_capacity_check_shows_the_shortfall() {
    let reps = [
        RepCapacity { id: "ana".into(), full_year_productivity: d("600000"), start_month: -24 },
        RepCapacity { id: "new".into(), full_year_productivity: d("600000"), start_month: 6 },
    ];
    let check = capacity_check(eur("1000000.00"), &reps, &standard_ramp(), &flat_seasonality());
    // The new hire sells 0.25 + 0.5 + 0.75 + 3 = 4.5 months of 50,000.
    assert_eq!(check.capacity.amount, d("825000.00"));
    assert_eq!(check.surplus.amount, d("-175000.00"));
    assert_eq!(check.coverage, d("0.825"));
    assert_eq!(attainment(eur("900000"), eur("1000000.00")), Some(d("0.9")));
}

#[test]
fn allocating_level_by_level_still_adds_up() {
    let regions = vec![
        Recipient { potential: d("3"), ..Recipient::named("north") },
        Recipient { potential: d("4"), ..Recipient::named("south") },
    ];
    let (top, _) = allocate(eur("1000000.00"), &regions, &AllocationMethod::Single(Basis::Potential)).unwrap();
    let (north, _) = allocate(top[0].quota, &team(), &AllocationMethod::Single(Basis::Even)).unwrap();
    let total: Decimal = north.iter().map(|part| part.quota.amount).sum();
    assert_eq!(total, top[0].quota.amount);
}

proptest! {
    #[test]
    fn parts_always_sum_to_the_whole(
        cents in -10_000_000_000i64..10_000_000_000,
        weights in proptest::collection::vec(0u32..1_000_000, 1..20),
        decimals in 0u32..4,
    ) {
        let total = Decimal::new(cents, decimals);
        let weights: Vec<Decimal> = weights.into_iter().map(Decimal::from).collect();
        let parts = split(total, &weights, decimals);
        prop_assert_eq!(parts.len(), weights.len());
        prop_assert_eq!(parts.iter().copied().sum::<Decimal>(), total);
        for part in &parts {
            prop_assert!(part.scale() <= decimals);
        }
    }

    #[test]
    fn allocations_sum_to_the_target(cents in 0i64..100_000_000_000, weight in 0u32..100) {
        let target = Money::new(Decimal::new(cents, 2), Currency::EUR);
        let blend = AllocationMethod::Blend(vec![(Basis::Potential, Decimal::from(weight)), (Basis::PriorYear, Decimal::ONE)]);
        let (parts, _) = allocate(target, &team(), &blend).unwrap();
        prop_assert_eq!(parts.iter().map(|p| p.quota.amount).sum::<Decimal>(), target.amount);
    }
}

#[test]
fn waterfall_round_keeps_the_regional_total() {
    use planning::quota::{Decision, Proposal, apply_round};
    let (allocated, _) = allocate(eur("1000000.00"), &team(), &AllocationMethod::Single(Basis::PriorYear)).unwrap();
    let proposals = vec![
        (
            Proposal { id: "ana".into(), proposed: eur("370000.00"), comment: "largest account churned".into() },
            Decision::Approve,
        ),
        (
            Proposal { id: "bo".into(), proposed: eur("300000.00"), comment: "want less".into() },
            Decision::Reject("no reason given".into()),
        ),
    ];
    let (lines, diagnostics) = apply_round(&allocated, &proposals, true);
    let table: Vec<String> = lines
        .iter()
        .map(|line| {
            format!(
                "{} {} -> {} {}",
                line.id,
                line.before.amount,
                line.after.amount,
                line.note.clone().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        table,
        vec![
            "ana 400000.00 -> 370000.00 approved: largest account churned",
            "bo 350000.00 -> 367500.00 rejected (no reason given): want less",
            "cy 250000.00 -> 262500.00 ",
        ]
    );
    assert_eq!(lines.iter().map(|line| line.after.amount).sum::<Decimal>(), d("1000000.00"));
    assert!(diagnostics.is_empty());
}
