//! The funnel and the process map on a dozen opportunities with their stage history.

use kpi::funnel::{Cohort, Funnel};
use kpi::process_map::{BottleneckRule, Move, ProcessMap};
use kpi::{funnel, process_map};

use crate::fixture::{self, Names, show};

/// A dozen opportunities of 2017 (day-month), each with its stage history.
const HISTORY: &str = "
    O1  smb 1000 | Lead 01-02, Qualify 01-04, Proposal 01-10, Negotiate 01-20, Won 02-01
    O2  smb  500 | Lead 01-03, Qualify 01-05, Proposal 01-15, Lost 01-25 (price)
    O3  smb  300 | Lead 01-04, Lost 01-06 (no_budget)
    O4  ent 4000 | Lead 01-05, Qualify 01-06, Nurture 01-10, Qualify 02-10, Proposal 02-20, Won 03-01
    O5  ent 2500 | Lead 01-06, Proposal 01-09, Negotiate 01-19, Lost 02-01 (competitor)
    O6  smb  700 | Lead 01-07, Qualify 01-08
    O7  smb  900 | Lead 01-08, Qualify 01-10, Proposal 01-20, Negotiate 01-25, Won 02-05
    O8  ent 3000 | Lead 01-09, Qualify 01-12, Lost 01-20 (no_budget)
    O9  smb  400 | Lead 01-10, Qualify 01-11, Proposal 01-21, Lost 02-10 (price)
    O10 ent 5000 | Lead 01-11, Qualify 01-13, Proposal 01-16, Negotiate 01-30, Won 02-15
    O11 smb  200 | Lead 01-12, Nurture 01-14
    O12 smb  600 | Lead 01-13, Qualify 01-15, Proposal 01-25, Negotiate 02-01, Lost 02-20 (competitor)
";

fn render_funnel(funnel: &Funnel, names: &Names) -> String {
    let mut out =
        String::from("stage entered advanced lost in_progress conversion drop_off median_days p80_days loss_reasons\n");
    let days = |d: Option<f64>| d.map_or("-".to_string(), |d| format!("{d:.1}"));
    for s in &funnel.stages {
        let reasons: Vec<String> = s
            .loss_reasons
            .iter()
            .map(|(r, n)| format!("{}:{n}", r.map_or("none", |r| names.reasons[r as usize].as_str())))
            .collect();
        out += &format!(
            "{} {} {} {} {} {} {} {} {} {}\n",
            s.name,
            s.entered,
            s.advanced,
            s.lost,
            s.in_progress,
            show(&s.conversion),
            show(&s.drop_off),
            days(s.median_days),
            days(s.p80_days),
            if reasons.is_empty() { "-".to_string() } else { reasons.join(",") }
        );
    }
    out + &format!(
        "won {} of {}; lost before the first stage {}\n",
        funnel.won, funnel.opportunities, funnel.lost_before_first_stage
    )
}

#[test]
fn funnel_from_the_stage_history() {
    let mut names = Names::default();
    let (opportunities, changes) = fixture::histories(HISTORY, &mut names);
    let (result, diagnostics) = funnel(&fixture::stages(), &opportunities, &changes, &Cohort::default());
    assert_eq!(diagnostics, vec![]);
    // O5 skipped Qualify but passed it; O4 looped through nurture and is counted once per stage;
    // O6 and O11 are still in progress; a lost deal counts at the furthest stage it reached.
    let expected = "\
stage entered advanced lost in_progress conversion drop_off median_days p80_days loss_reasons
Lead 12 10 1 1 10/12 1/12 2.0 2.0 no_budget:1
Qualify 10 8 1 1 8/10 1/10 10.0 10.0 no_budget:1
Proposal 8 6 2 0 6/8 2/8 10.0 14.0 price:2
Negotiate 6 4 2 0 4/6 2/6 13.0 16.0 competitor:2
won 4 of 12; lost before the first stage 0
";
    assert_eq!(render_funnel(&result, &names), expected);
}

#[test]
fn funnel_per_segment_and_period() {
    let mut names = Names::default();
    let (opportunities, changes) = fixture::histories(HISTORY, &mut names);
    let enterprise = names.segments.iter().position(|s| s == "ent").unwrap() as u16;
    let cohort = Cohort { segment: Some(enterprise), ..Cohort::default() };
    let (enterprise, _) = funnel(&fixture::stages(), &opportunities, &changes, &cohort);
    let entered: Vec<u64> = enterprise.stages.iter().map(|s| s.entered).collect();
    assert_eq!((entered, enterprise.won, enterprise.opportunities), (vec![4, 4, 3, 3], 2, 4));
    // Created in the first week only: O1 to O7 (2 to 8 January).
    let first_week =
        Cohort { from: Some(fixture::day("2017-01-02")), to: Some(fixture::day("2017-01-08")), segment: None };
    let (early, _) = funnel(&fixture::stages(), &opportunities, &changes, &first_week);
    assert_eq!((early.opportunities, early.won), (7, 3));
}

fn render_map(map: &ProcessMap) -> String {
    let name = |s: u16| map.nodes[s as usize].name.as_str();
    let mut out = String::new();
    for e in &map.edges {
        let movement = match e.movement {
            Move::Skip { skipped } => format!("skip({skipped})"),
            other => format!("{other:?}").to_lowercase(),
        };
        out += &format!(
            "{} -> {} {} {} {} {}\n",
            name(e.from),
            name(e.to),
            e.count,
            show(&e.conversion),
            e.median_days.map_or("-".to_string(), |d| format!("{d:.1}")),
            movement
        );
    }
    for n in map.nodes.iter().filter(|n| n.bottleneck.is_some()) {
        out += &format!("bottleneck: {} {:?}\n", n.name, n.bottleneck.unwrap());
    }
    out
}

#[test]
fn process_map_with_loops_skips_and_bottlenecks() {
    let mut names = Names::default();
    let (opportunities, changes) = fixture::histories(HISTORY, &mut names);
    // A small book: flag stages with at least 4 exits.
    let rule = BottleneckRule { min_exits: 4, ..BottleneckRule::default() };
    let (map, _) = process_map(&fixture::stages(), &opportunities, &changes, &Cohort::default(), &rule);
    // Each edge: count, share of the exits from its stage, median days in that stage before the
    // move, and the kind of move. Negotiate loses 2 of its 5 exits (40 %), well above the typical
    // stage (18 %): it is marked leaky. No stage is slow (typical median 10 days, none >= 15).
    let expected = "\
Lead -> Qualify 9 9/12 2.0 forward
Lead -> Proposal 1 1/12 3.0 skip(1)
Lead -> Nurture 1 1/12 2.0 loopback
Lead -> Lost 1 1/12 2.0 close
Qualify -> Proposal 7 7/9 10.0 forward
Qualify -> Nurture 1 1/9 4.0 loopback
Qualify -> Lost 1 1/9 8.0 close
Proposal -> Negotiate 5 5/8 10.0 forward
Proposal -> Won 1 1/8 9.0 close
Proposal -> Lost 2 2/8 15.0 close
Negotiate -> Won 3 3/5 12.0 close
Negotiate -> Lost 2 2/5 16.0 close
Nurture -> Qualify 1 1/1 31.0 reentry
bottleneck: Negotiate Leaky
";
    assert_eq!(render_map(&map), expected);
}

mod properties {
    use jiff::Timestamp;
    use kpi::facts::{NONE, OpportunityFact, Outcome, StageChangeFact};
    use kpi::funnel::Cohort;
    use kpi::process_map::BottleneckRule;
    use kpi::{funnel, process_map};
    use model::{OpportunityId, StageKind};
    use proptest::prelude::*;

    use crate::fixture::{self, day};

    /// Random walks through the fixture pipeline: each opportunity takes up to 8 steps.
    fn walks() -> impl Strategy<Value = Vec<Vec<(u8, u16)>>> {
        prop::collection::vec(prop::collection::vec((0u8..7, 0u16..500), 1..8), 0..30)
    }

    fn build(walks: &[Vec<(u8, u16)>]) -> (Vec<OpportunityFact>, Vec<StageChangeFact>) {
        let stages = fixture::stages();
        let mut opportunities = Vec::new();
        let mut changes = Vec::new();
        for (i, walk) in walks.iter().enumerate() {
            let mut at = 1_480_000_000i64;
            let mut from = None;
            for (stage, hours) in walk {
                at += i64::from(*hours) * 3600;
                changes.push(StageChangeFact {
                    opportunity: i as u32,
                    from,
                    to: u16::from(*stage),
                    at: Timestamp::from_second(at).unwrap(),
                });
                from = Some(u16::from(*stage));
            }
            let last = walk.last().unwrap().0 as usize;
            opportunities.push(OpportunityFact {
                id: OpportunityId(i as i64 + 1),
                rep: 0,
                territory: 0,
                product_line: 0,
                source: 0,
                segment: (i % 2) as u16,
                created_on: day("2017-01-01"),
                cycle_start: day("2017-01-01"),
                outcome: match stages[last].kind {
                    StageKind::Won => Outcome::Won,
                    StageKind::Lost => Outcome::Lost,
                    StageKind::Open => Outcome::Open,
                },
                closed_on: None,
                amount: 0,
                loss_reason: NONE,
            });
        }
        (opportunities, changes)
    }

    proptest! {
        #[test]
        fn every_opportunity_that_entered_a_stage_is_accounted_for(walks in walks()) {
            let (opportunities, changes) = build(&walks);
            let (result, _) = funnel(&fixture::stages(), &opportunities, &changes, &Cohort::default());
            let mut previous_entered = u64::MAX;
            for stage in &result.stages {
                prop_assert_eq!(stage.entered, stage.advanced + stage.lost + stage.in_progress, "{}", stage.name);
                prop_assert!(stage.entered <= previous_entered, "a funnel only narrows");
                prop_assert!(stage.median_days <= stage.p80_days);
                previous_entered = stage.entered;
            }
            prop_assert_eq!(result.stages.last().map_or(0, |s| s.advanced), result.won);
            // Segments split the cohort.
            let per_segment: u64 = (0..2)
                .map(|segment| funnel(&fixture::stages(), &opportunities, &changes, &Cohort { segment: Some(segment), ..Cohort::default() }).0.opportunities)
                .sum();
            prop_assert_eq!(per_segment, result.opportunities);
        }

        #[test]
        fn the_process_map_balances_every_stage(walks in walks()) {
            let (opportunities, changes) = build(&walks);
            let (map, _) = process_map(&fixture::stages(), &opportunities, &changes, &Cohort::default(), &BottleneckRule::default());
            for node in &map.nodes {
                let out: u64 = map.edges.iter().filter(|e| e.from == node.stage).map(|e| e.count).sum();
                let first_entries = changes.iter().filter(|c| c.from.is_none() && c.to == node.stage).count() as u64;
                let incoming: u64 = map.edges.iter().filter(|e| e.to == node.stage).map(|e| e.count).sum();
                prop_assert_eq!(out, node.exits);
                prop_assert_eq!(node.entries, node.exits + node.current);
                prop_assert_eq!(node.entries, incoming + first_entries);
            }
        }
    }
}
