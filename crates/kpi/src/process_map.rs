//! The process map (A5): the real flow of opportunities between stages, as data for a diagram.
//! Nodes are stages with their visits and time in stage; edges are the transitions that actually
//! happened, with counts, their share of the exits from the source stage, the median time spent
//! before taking them, and what kind of move they are (forward, skip, loop back, close, reopen).
//!
//! Bottleneck rule (documented in `docs/kpis.md`): among open, non-nurture stages with at least
//! [`BottleneckRule::min_exits`] exits, a stage is a bottleneck when
//! - its median time in stage is at least `slow_factor` times the median of those stages' median
//!   times (**slow**), or
//! - the share of its exits that go to a lost stage is at least `leak_factor` times the median of
//!   those stages' loss shares, and at least `min_loss_share` (**leaky**).

use model::StageKind;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Diagnostic;
use crate::facts::{OpportunityFact, StageChangeFact, StageFact};
use crate::funnel::{Cohort, days_between, forward_stages, histories, median_of};
use crate::value::Value;

/// Thresholds of the bottleneck rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BottleneckRule {
    pub min_exits: u64,
    pub slow_factor: f64,
    pub leak_factor: f64,
    pub min_loss_share: f64,
}

impl Default for BottleneckRule {
    /// 20 exits, 1.5 × the median time, 1.5 × the median loss share and at least 10 % lost.
    fn default() -> Self {
        BottleneckRule { min_exits: 20, slow_factor: 1.5, leak_factor: 1.5, min_loss_share: 0.10 }
    }
}

/// Why a stage is marked as a bottleneck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bottleneck {
    Slow,
    Leaky,
    SlowAndLeaky,
}

/// What kind of move a transition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Move {
    /// To the next forward stage.
    Forward,
    /// Forward, jumping over `skipped` forward stages.
    Skip { skipped: u16 },
    /// Back to an earlier stage or into nurture.
    LoopBack,
    /// Out of nurture back into the forward flow.
    ReEntry,
    /// To a won or lost stage.
    Close,
    /// From a won or lost stage back to an open one.
    Reopen,
}

/// A stage on the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub stage: u16,
    pub name: String,
    /// Times the stage was entered (an opportunity can enter a stage more than once).
    pub entries: u64,
    pub exits: u64,
    /// Opportunities in this stage now.
    pub current: u64,
    /// Days over finished stays.
    pub median_days: Option<f64>,
    /// Share of exits that went to a lost stage.
    pub loss_share: Value,
    pub bottleneck: Option<Bottleneck>,
}

/// A transition that happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    pub from: u16,
    pub to: u16,
    pub count: u64,
    /// `count` over all exits from `from`.
    pub conversion: Value,
    /// Median days spent in `from` before this move.
    pub median_days: Option<f64>,
    #[serde(flatten)]
    pub movement: Move,
}

/// The data behind the process diagram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessMap {
    pub nodes: Vec<Node>,
    /// Sorted by `from`, then `to`.
    pub edges: Vec<Edge>,
}

/// Builds the process map of `cohort` from the stage history.
pub fn process_map(
    stages: &[StageFact],
    opportunities: &[OpportunityFact],
    changes: &[StageChangeFact],
    cohort: &Cohort,
    rule: &BottleneckRule,
) -> (ProcessMap, Vec<Diagnostic>) {
    let (histories, diagnostics) = histories(stages, opportunities, changes, cohort);
    let forward = forward_stages(stages);
    let position: Vec<Option<usize>> =
        (0..stages.len()).map(|s| forward.iter().position(|f| *f as usize == s)).collect();
    let n = stages.len();
    let mut entries = vec![0u64; n];
    let mut exits = vec![0u64; n];
    let mut current = vec![0u64; n];
    let mut lost_exits = vec![0u64; n];
    let mut stays: Vec<Vec<f64>> = vec![Vec::new(); n];
    // Days before each move, per (from, to) pair: a dense matrix, the pipeline is small.
    let mut moves: Vec<Vec<f64>> = vec![Vec::new(); n * n];
    for history in histories.iter() {
        for (i, step) in history.steps.iter().enumerate() {
            entries[step.stage as usize] += 1;
            match history.steps.get(i + 1) {
                Some(next) => {
                    let days = days_between(step.at, next.at);
                    exits[step.stage as usize] += 1;
                    lost_exits[step.stage as usize] += u64::from(stages[next.stage as usize].kind == StageKind::Lost);
                    stays[step.stage as usize].push(days);
                    moves[step.stage as usize * n + next.stage as usize].push(days);
                }
                None => current[step.stage as usize] += 1,
            }
        }
    }

    let movement = |from: u16, to: u16| -> Move {
        let (f, t) = (&stages[from as usize], &stages[to as usize]);
        match (f.kind, t.kind) {
            (StageKind::Won | StageKind::Lost, StageKind::Open) => Move::Reopen,
            (_, StageKind::Won | StageKind::Lost) => Move::Close,
            _ if t.nurture => Move::LoopBack,
            _ if f.nurture => Move::ReEntry,
            _ => match (position[from as usize], position[to as usize]) {
                (Some(a), Some(b)) if b == a + 1 => Move::Forward,
                (Some(a), Some(b)) if b > a + 1 => Move::Skip { skipped: (b - a - 1) as u16 },
                _ => Move::LoopBack,
            },
        }
    };
    let edges = moves
        .into_iter()
        .enumerate()
        .filter(|(_, days)| !days.is_empty())
        .map(|(pair, mut days)| {
            let (from, to) = ((pair / n) as u16, (pair % n) as u16);
            Edge {
                from,
                to,
                count: days.len() as u64,
                conversion: Value::ratio(
                    Decimal::from(days.len()),
                    Decimal::from(exits[from as usize]),
                    "no exits from this stage",
                ),
                median_days: median_of(&mut days),
                movement: movement(from, to),
            }
        })
        .collect();

    let medians: Vec<Option<f64>> = stays.iter_mut().map(|days| median_of(days)).collect();
    let eligible: Vec<usize> = forward.iter().map(|s| *s as usize).filter(|s| exits[*s] >= rule.min_exits).collect();
    let loss_share = |s: usize| lost_exits[s] as f64 / exits[s] as f64;
    let mut typical_days: Vec<f64> = eligible.iter().filter_map(|s| medians[*s]).collect();
    let mut typical_loss: Vec<f64> = eligible.iter().map(|s| loss_share(*s)).collect();
    let (typical_days, typical_loss) = (median_of(&mut typical_days), median_of(&mut typical_loss));

    let nodes = (0..n)
        .map(|s| {
            let bottleneck = if eligible.contains(&s) {
                let slow =
                    matches!((medians[s], typical_days), (Some(m), Some(t)) if m >= rule.slow_factor * t && m > 0.0);
                let share = loss_share(s);
                let leaky = share >= rule.min_loss_share && typical_loss.is_some_and(|t| share >= rule.leak_factor * t);
                match (slow, leaky) {
                    (true, true) => Some(Bottleneck::SlowAndLeaky),
                    (true, false) => Some(Bottleneck::Slow),
                    (false, true) => Some(Bottleneck::Leaky),
                    (false, false) => None,
                }
            } else {
                None
            };
            Node {
                stage: s as u16,
                name: stages[s].name.clone(),
                entries: entries[s],
                exits: exits[s],
                current: current[s],
                median_days: medians[s],
                loss_share: Value::ratio(lost_exits[s].into(), exits[s].into(), "no exits from this stage"),
                bottleneck,
            }
        })
        .collect();
    (ProcessMap { nodes, edges }, diagnostics)
}
