//! The funnel (A3) computed from the stage history, not from today's stage alone: how many
//! opportunities reached each forward stage, how many advanced, were lost there or are still in
//! progress, how long they stayed, and why the lost ones were lost.
//!
//! Rules (also in `docs/kpis.md`):
//! - Forward stages are the open, non-nurture stages in pipeline order. Reaching a stage means
//!   entering it or any later forward stage (a skipped stage counts as passed); a won
//!   opportunity has passed every forward stage.
//! - An opportunity that is lost now is counted as lost at the furthest forward stage it reached,
//!   with its loss reason. One that is open now (in any stage, nurture included) is "in
//!   progress" at its furthest forward stage. So for every stage:
//!   `entered = advanced + lost + in_progress`.
//! - Time in stage counts finished stays only (entered and left again), in days; a stage entered
//!   several times contributes each stay.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use model::StageKind;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::facts::{NONE, OpportunityFact, StageChangeFact, StageFact};
use crate::value::Value;
use crate::{Diagnostic, RecordRef};

/// Which opportunities a funnel or process map covers: created in `from ..= to` (either bound
/// optional) and, when set, in one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cohort {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub segment: Option<u16>,
}

/// One forward stage of the funnel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelStage {
    /// Index into the stages given.
    pub stage: u16,
    pub name: String,
    pub entered: u64,
    /// Reached the next forward stage (or won, after the last).
    pub advanced: u64,
    pub lost: u64,
    pub in_progress: u64,
    /// `advanced / entered`.
    pub conversion: Value,
    /// `lost / entered`.
    pub drop_off: Value,
    /// Days, over finished stays; `None` without any.
    pub median_days: Option<f64>,
    pub p80_days: Option<f64>,
    /// Loss reasons of the opportunities lost at this stage, most frequent first (`None` = no
    /// reason given).
    pub loss_reasons: Vec<(Option<u16>, u64)>,
}

/// A funnel over one cohort.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Funnel {
    /// Opportunities in the cohort that have a stage history.
    pub opportunities: u64,
    pub stages: Vec<FunnelStage>,
    pub won: u64,
    /// Opportunities in the cohort lost before reaching any forward stage.
    pub lost_before_first_stage: u64,
}

/// Computes the funnel of `cohort` from the stage history. `changes[i].opportunity` indexes
/// `opportunities`, `from`/`to` index `stages`.
pub fn funnel(
    stages: &[StageFact],
    opportunities: &[OpportunityFact],
    changes: &[StageChangeFact],
    cohort: &Cohort,
) -> (Funnel, Vec<Diagnostic>) {
    let (histories, diagnostics) = histories(stages, opportunities, changes, cohort);
    let forward = forward_stages(stages);
    let position: Vec<Option<usize>> =
        (0..stages.len()).map(|s| forward.iter().position(|f| *f as usize == s)).collect();
    let n = forward.len();
    let mut entered = vec![0u64; n];
    let mut advanced = vec![0u64; n];
    let mut lost = vec![0u64; n];
    let mut in_progress = vec![0u64; n];
    let mut stays: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut reasons: Vec<BTreeMap<Option<u16>, u64>> = vec![BTreeMap::new(); n];
    let (mut won, mut lost_early) = (0u64, 0u64);

    for history in histories.iter() {
        let last = history.steps.last().map(|s| s.stage as usize);
        let kind = last.map_or(StageKind::Open, |s| stages[s].kind);
        let furthest = if kind == StageKind::Won {
            won += 1;
            n.checked_sub(1)
        } else {
            history.steps.iter().filter_map(|s| position[s.stage as usize]).max()
        };
        for (i, step) in history.steps.iter().enumerate() {
            if let (Some(p), Some(next)) = (position[step.stage as usize], history.steps.get(i + 1)) {
                stays[p].push(days_between(step.at, next.at));
            }
        }
        let Some(furthest) = furthest else {
            lost_early += u64::from(kind == StageKind::Lost);
            continue;
        };
        for p in 0..=furthest {
            entered[p] += 1;
            if p < furthest || kind == StageKind::Won {
                advanced[p] += 1;
            }
        }
        match kind {
            StageKind::Won => {}
            StageKind::Lost => {
                lost[furthest] += 1;
                *reasons[furthest].entry(history.loss_reason).or_default() += 1;
            }
            StageKind::Open => in_progress[furthest] += 1,
        }
    }

    let funnel_stages = forward
        .iter()
        .enumerate()
        .map(|(p, &stage)| {
            let mut loss_reasons: Vec<(Option<u16>, u64)> = reasons[p].iter().map(|(r, c)| (*r, *c)).collect();
            loss_reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut days = std::mem::take(&mut stays[p]);
            FunnelStage {
                stage,
                name: stages[stage as usize].name.clone(),
                entered: entered[p],
                advanced: advanced[p],
                lost: lost[p],
                in_progress: in_progress[p],
                conversion: Value::ratio(advanced[p].into(), entered[p].into(), "no opportunity reached this stage"),
                drop_off: Value::ratio(Decimal::from(lost[p]), entered[p].into(), "no opportunity reached this stage"),
                median_days: median_of(&mut days),
                p80_days: percentile_of(&mut days, 0.8),
                loss_reasons,
            }
        })
        .collect();
    let funnel = Funnel {
        opportunities: histories.len() as u64,
        stages: funnel_stages,
        won,
        lost_before_first_stage: lost_early,
    };
    (funnel, diagnostics)
}

/// The median of unsorted values, in linear time (reorders `values`).
pub(crate) fn median_of(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (left, middle, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    let middle = *middle;
    if n % 2 == 1 {
        return Some(middle);
    }
    let below = left.iter().copied().max_by(f64::total_cmp).unwrap_or(middle);
    Some((below + middle) / 2.0)
}

/// The nearest-rank percentile of unsorted values, in linear time (reorders `values`).
pub(crate) fn percentile_of(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(*values.select_nth_unstable_by(rank - 1, f64::total_cmp).1)
}

#[derive(Clone, Copy)]
pub(crate) struct Step {
    pub stage: u16,
    pub at: Timestamp,
}

pub(crate) struct History<'a> {
    pub steps: &'a [Step],
    pub loss_reason: Option<u16>,
}

/// The stage histories of a cohort, stored in one buffer grouped by opportunity.
pub(crate) struct Histories {
    steps: Vec<Step>,
    /// Per opportunity with a history: start and end in `steps`, and its loss reason.
    spans: Vec<(usize, usize, Option<u16>)>,
}

impl Histories {
    pub fn iter(&self) -> impl Iterator<Item = History<'_>> {
        self.spans.iter().map(|&(start, end, loss_reason)| History { steps: &self.steps[start..end], loss_reason })
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }
}

/// The stage history of every opportunity in the cohort, in time order. A counting sort groups
/// the changes by opportunity in linear time (no allocation per opportunity); changes with the
/// same time keep their input order.
pub(crate) fn histories(
    stages: &[StageFact],
    opportunities: &[OpportunityFact],
    changes: &[StageChangeFact],
    cohort: &Cohort,
) -> (Histories, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let in_cohort: Vec<bool> = opportunities
        .iter()
        .map(|o| {
            cohort.from.is_none_or(|from| o.created_on >= from)
                && cohort.to.is_none_or(|to| o.created_on <= to)
                && cohort.segment.is_none_or(|segment| o.segment == segment)
        })
        .collect();
    let mut starts = vec![0usize; opportunities.len() + 1];
    let mut dropped = 0usize;
    let mut usable = vec![false; changes.len()];
    for (i, change) in changes.iter().enumerate() {
        let o = change.opportunity as usize;
        let Some(o_fact) = opportunities.get(o) else {
            dropped += 1;
            continue;
        };
        if usize::from(change.to) >= stages.len() || change.from.is_some_and(|f| usize::from(f) >= stages.len()) {
            diagnostics.push(Diagnostic {
                record: Some(RecordRef::Opportunity(o_fact.id)),
                message: "stage change to an unknown stage; left out".to_string(),
            });
            continue;
        }
        if in_cohort[o] {
            usable[i] = true;
            starts[o + 1] += 1;
        }
    }
    if dropped > 0 {
        diagnostics.push(Diagnostic {
            record: None,
            message: format!("{dropped} stage changes point at no known opportunity; left out"),
        });
    }
    for o in 0..opportunities.len() {
        starts[o + 1] += starts[o];
    }
    let mut next = starts.clone();
    let mut steps = vec![Step { stage: 0, at: Timestamp::UNIX_EPOCH }; starts[opportunities.len()]];
    for (change, _) in changes.iter().zip(&usable).filter(|(_, usable)| **usable) {
        let slot = &mut next[change.opportunity as usize];
        steps[*slot] = Step { stage: change.to, at: change.at };
        *slot += 1;
    }
    let mut spans = Vec::new();
    for (o, opportunity) in opportunities.iter().enumerate() {
        let (start, end) = (starts[o], starts[o + 1]);
        if start == end {
            continue;
        }
        let history = &mut steps[start..end];
        if !history.is_sorted_by_key(|s| s.at) {
            history.sort_by_key(|s| s.at);
        }
        let reason = opportunity.loss_reason;
        spans.push((start, end, (reason != NONE).then_some(reason)));
    }
    (Histories { steps, spans }, diagnostics)
}

/// Open, non-nurture stages in pipeline order.
pub(crate) fn forward_stages(stages: &[StageFact]) -> Vec<u16> {
    let mut forward: Vec<u16> = (0..stages.len() as u16)
        .filter(|s| stages[*s as usize].kind == StageKind::Open && !stages[*s as usize].nurture)
        .collect();
    forward.sort_by_key(|s| stages[*s as usize].order);
    forward
}

pub(crate) fn days_between(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_second() - from.as_second()) as f64 / 86_400.0
}
