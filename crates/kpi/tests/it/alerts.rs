//! The daily trend scan: a rep whose win rate collapses last week is flagged at rep, region and
//! company level and named as the driver; steady figures raise nothing.

use jiff::ToSpan;
use kpi::alerts::{ScanError, ScanOptions, Scope, scan};
use kpi::facts::{ActivityFact, NONE, OpportunityFact, Outcome, RepFact};
use kpi::{Facts, Kpi};
use model::{ActivityId, ActivityKind, FiscalCalendar, OpportunityId, UserId};

use crate::fixture::{day, eur};

/// Six reps in two regions (0: ann, bob, cem; 1: dag, eva, fay). Every day from 2017-01-02 to
/// 2017-03-07 each rep closes twenty opportunities, eight of them won (40 %), and places ten calls;
/// `ann_recent_wins` replaces ann's daily wins from 2017-03-01 on.
fn company(ann_recent_wins: u32) -> Facts {
    let reps: Vec<RepFact> =
        (0..6).map(|i| RepFact { id: UserId(i + 1), team: (i / 3) as u16, region: (i / 3) as u16 }).collect();
    let (mut opportunities, mut activities) = (Vec::new(), Vec::new());
    let mut d = day("2017-01-02");
    while d <= day("2017-03-07") {
        for rep in 0..6u32 {
            let wins = if rep == 0 && d >= day("2017-03-01") { ann_recent_wins } else { 8 };
            for k in 0..20 {
                let id = opportunities.len() as i64 + 1;
                opportunities.push(OpportunityFact {
                    id: OpportunityId(id),
                    rep,
                    territory: NONE,
                    product_line: NONE,
                    source: NONE,
                    segment: NONE,
                    created_on: d - 30.days(),
                    cycle_start: d - 30.days(),
                    outcome: if k < wins { Outcome::Won } else { Outcome::Lost },
                    closed_on: Some(d),
                    amount: 100_000,
                    loss_reason: NONE,
                });
            }
            for _ in 0..10 {
                let id = activities.len() as i64 + 1;
                activities.push(ActivityFact {
                    id: ActivityId(id),
                    rep,
                    kind: ActivityKind::Call,
                    on: d,
                    duration_seconds: 120,
                    visit_outcome: None,
                    territory: NONE,
                });
            }
        }
        d = d.tomorrow().unwrap();
    }
    Facts { reps, opportunities, activities, ..Facts::empty(eur()) }
}

fn options() -> ScanOptions {
    ScanOptions { kpis: vec![Kpi::WinRate, Kpi::CallsPlaced], ..ScanOptions::default() }
}

#[test]
fn a_collapsed_win_rate_is_flagged_with_its_driver() {
    let calendar = FiscalCalendar::default();
    let (scan, _) = scan(&company(0), &calendar, day("2017-03-08"), &options()).unwrap();
    assert_eq!((scan.recent_from, scan.recent_to), (day("2017-03-01"), day("2017-03-07")));
    assert_eq!((scan.baseline_from, scan.baseline_to), (day("2017-01-04"), day("2017-02-28")));
    let flagged: Vec<(Kpi, Scope)> = scan.alerts.iter().map(|a| (a.kpi, a.scope)).collect();
    for expected in [(Kpi::WinRate, Scope::Rep(0)), (Kpi::WinRate, Scope::Region(0)), (Kpi::WinRate, Scope::Company)] {
        assert!(flagged.contains(&expected), "{expected:?} missing from {flagged:?}");
    }
    assert!(flagged.iter().all(|(k, _)| *k == Kpi::WinRate), "calls did not change: {flagged:?}");
    assert!(!flagged.contains(&(Kpi::WinRate, Scope::Region(1))));
    let company = scan.alerts.iter().find(|a| a.scope == Scope::Company).unwrap();
    assert!(company.worse);
    assert!((company.baseline_rate - 0.4).abs() < 1e-9);
    assert!((company.recent_rate - 280.0 / 840.0).abs() < 1e-9);
    // Ann explains the whole drop: her rate effect, nobody else's.
    assert_eq!(company.drivers.len(), 1);
    assert_eq!(company.drivers[0].rep, 0);
    assert!(
        (company.drivers[0].mix + company.drivers[0].rate - (company.recent_rate - company.baseline_rate)).abs() < 1e-9
    );
}

#[test]
fn steady_figures_raise_nothing() {
    let (scan, _) = scan(&company(8), &FiscalCalendar::default(), day("2017-03-08"), &options()).unwrap();
    assert!(scan.alerts.is_empty(), "{:?}", scan.alerts);
    // Company, two regions and six reps, two KPIs each.
    assert_eq!(scan.tested + scan.untested, 18);
}

#[test]
fn impossible_options_are_refused() {
    let facts = company(8);
    let calendar = FiscalCalendar::default();
    let bad = ScanOptions { recent_days: 0, ..options() };
    assert!(matches!(scan(&facts, &calendar, day("2017-03-08"), &bad), Err(ScanError::Windows { .. })));
    let bad = ScanOptions { fdr: 1.5, ..options() };
    assert!(matches!(scan(&facts, &calendar, day("2017-03-08"), &bad), Err(ScanError::Fdr(_))));
    let bad = ScanOptions { kpis: vec![Kpi::Revenue], ..options() };
    assert!(matches!(scan(&facts, &calendar, day("2017-03-08"), &bad), Err(ScanError::NotWatchable("revenue"))));
}
