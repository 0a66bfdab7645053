//! Forecast calls (issue 6, F3 + F4 per submitter). Each person of the sales hierarchy submits a
//! commit and a best-case number per period; a manager (or an ops administrator) overrides a
//! report's number with a mandatory note, and the report's own number is kept next to it
//! (submissions are append-only). The roll-up view is the hierarchy as a tree with, per person,
//! the pipeline / best case / commit / closed amounts of their own and their subtree's
//! opportunities, their latest numbers, the override, the call that rolls up and a stale flag.
//! Weekly snapshots of a period's opportunities give the waterfall of how the period moved, and
//! the accuracy table compares each person's call at the start and the middle of a period with
//! what was won.
//!
//! The calculations ([`rollup`], [`waterfall`], [`accuracy_rows`]) are pure functions over
//! plain values; [`App`] methods load, check permissions and call them.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use model::{Currency, FxTable, Money, Period, Permission, Role, Visibility};
use rust_decimal::Decimal;
use serde::Serialize;
use store::{CallOpportunity, CallPerson, NewSubmission, SubmissionRow};

use crate::{App, AppError, Principal};

/// Settings keys.
pub const STALE_DAYS_KEY: &str = "forecast_stale_days";
pub const ROLLUP_METHOD_KEY: &str = "forecast_rollup_method";
/// Days after which a submission is stale, until set.
pub const DEFAULT_STALE_DAYS: i64 = 7;
/// Longest note kept with a submission.
pub const MAX_NOTE: usize = 2000;

/// How category amounts roll up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RollupMethod {
    /// Commit includes closed, best case includes commit and closed, pipeline includes all.
    Cumulative,
    /// Each category on its own.
    Single,
}

impl RollupMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            RollupMethod::Cumulative => "cumulative",
            RollupMethod::Single => "single",
        }
    }

    pub fn parse(s: &str) -> Result<RollupMethod, AppError> {
        match s.trim() {
            "cumulative" => Ok(RollupMethod::Cumulative),
            "single" => Ok(RollupMethod::Single),
            _ => Err(AppError::invalid("rollup_method", "must be cumulative or single")),
        }
    }
}

/// The two numbers a person calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallCategory {
    Commit,
    BestCase,
}

impl CallCategory {
    pub const ALL: [CallCategory; 2] = [CallCategory::Commit, CallCategory::BestCase];

    pub fn as_str(self) -> &'static str {
        match self {
            CallCategory::Commit => "commit",
            CallCategory::BestCase => "best_case",
        }
    }

    pub fn parse(s: &str) -> Result<CallCategory, AppError> {
        match s.trim() {
            "commit" => Ok(CallCategory::Commit),
            "best_case" => Ok(CallCategory::BestCase),
            _ => Err(AppError::invalid("category", "must be commit or best_case")),
        }
    }
}

/// Forecast-call settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CallSettings {
    /// A submission older than this many days is stale.
    pub stale_days: i64,
    pub rollup_method: RollupMethod,
}

/// Amounts per forecast category (reporting currency), after the roll-up method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CategoryAmounts {
    #[schema(value_type = String)]
    pub pipeline: Decimal,
    #[schema(value_type = String)]
    pub best_case: Decimal,
    #[schema(value_type = String)]
    pub commit: Decimal,
    #[schema(value_type = String)]
    pub closed: Decimal,
}

impl CategoryAmounts {
    fn add(&mut self, o: &CategoryAmounts) {
        self.pipeline += o.pipeline;
        self.best_case += o.best_case;
        self.commit += o.commit;
        self.closed += o.closed;
    }
}

/// Where a call comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallSource {
    /// A manager's override of this person's number.
    Override,
    /// The person's own number (for a manager: their call for the whole team).
    Submitted,
    /// The sum of the reports' calls.
    RolledUp,
    /// Nobody has called this number.
    None,
}

/// One called number and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Call {
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    pub source: CallSource,
}

/// A submission as shown in the roll-up and the history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Submission {
    pub id: i64,
    pub user_id: i64,
    pub user_name: String,
    /// The manager who overrode `user_id`'s number; absent for the person's own number.
    pub override_by: Option<i64>,
    pub override_by_name: Option<String>,
    pub category: CallCategory,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: String,
    pub note: String,
    pub rollup_method: String,
    #[schema(value_type = String)]
    pub submitted_at: Timestamp,
}

/// One person in the roll-up tree (pre-order; `depth` 0 for the top).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallNode {
    pub user_id: i64,
    pub name: String,
    pub role: String,
    pub manager_id: Option<i64>,
    pub depth: usize,
    pub has_reports: bool,
    /// The person's own opportunities closing in the period.
    pub own: CategoryAmounts,
    /// Own and every report's (the whole subtree).
    pub team: CategoryAmounts,
    /// The person's latest own numbers.
    pub submitted_commit: Option<Submission>,
    pub submitted_best_case: Option<Submission>,
    /// The latest overrides of the person's numbers.
    pub override_commit: Option<Submission>,
    pub override_best_case: Option<Submission>,
    /// The numbers that roll up: override, else own number, else the sum of the reports' calls.
    pub call_commit: Call,
    pub call_best_case: Call,
    #[schema(value_type = Option<String>)]
    pub last_submitted_at: Option<Timestamp>,
    /// The latest own submission is older than the stale limit.
    pub stale: bool,
}

/// The roll-up of a period as the caller may see it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallRollup {
    pub period: String,
    #[schema(value_type = String)]
    pub start: Date,
    #[schema(value_type = String)]
    pub end: Date,
    pub currency: String,
    pub settings: CallSettings,
    pub nodes: Vec<CallNode>,
    /// Every submission of the people shown, newest first.
    pub history: Vec<Submission>,
    /// Opportunities left out because no exchange rate converts them.
    pub unconverted: usize,
}

/// One opportunity in a waterfall step.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WaterfallOpportunity {
    pub opportunity_id: i64,
    pub name: String,
    pub owner_id: i64,
    #[schema(value_type = Option<String>)]
    pub amount_before: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub amount_after: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub close_before: Option<Date>,
    #[schema(value_type = Option<String>)]
    pub close_after: Option<Date>,
    /// The signed effect on the period's open pipeline.
    #[schema(value_type = String)]
    pub effect: Decimal,
}

/// What moved an opportunity in or out of a period's open pipeline between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Created after the first snapshot.
    New,
    /// Existed before, moved into the period (close date moved in, or reopened).
    PulledIn,
    /// Amount changed while in the period.
    AmountChanged,
    /// Close date moved past the period's end.
    PushedOut,
    Won,
    Lost,
    /// Deleted, merged or moved before the period.
    Removed,
}

impl StepKind {
    pub const ALL: [StepKind; 7] = [
        StepKind::New,
        StepKind::PulledIn,
        StepKind::AmountChanged,
        StepKind::PushedOut,
        StepKind::Won,
        StepKind::Lost,
        StepKind::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::New => "new",
            StepKind::PulledIn => "pulled_in",
            StepKind::AmountChanged => "amount_changed",
            StepKind::PushedOut => "pushed_out",
            StepKind::Won => "won",
            StepKind::Lost => "lost",
            StepKind::Removed => "removed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WaterfallStep {
    pub kind: StepKind,
    /// Signed: positive adds to the open pipeline, negative takes from it.
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub count: usize,
    pub opportunities: Vec<WaterfallOpportunity>,
}

/// How a period's open pipeline moved between two snapshot days: `end = start + Σ steps`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Waterfall {
    pub period: String,
    #[schema(value_type = String)]
    pub from: Date,
    #[schema(value_type = String)]
    pub to: Date,
    pub currency: String,
    #[schema(value_type = String)]
    pub start: Decimal,
    #[schema(value_type = String)]
    pub end: Decimal,
    pub steps: Vec<WaterfallStep>,
}

/// A snapshot taken.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SnapshotOutcome {
    pub period: String,
    #[schema(value_type = String)]
    pub date: Date,
    pub opportunities: usize,
    /// Opportunities left out because no exchange rate converts them.
    pub unconverted: usize,
}

/// One call of a submitter measured against what was won.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallAccuracy {
    /// The commit number in force at that moment (latest own submission before it).
    #[schema(value_type = Option<String>)]
    pub call: Option<Decimal>,
    /// call − actual.
    #[schema(value_type = Option<String>)]
    pub error: Option<Decimal>,
    /// |error| / actual, in percent (absent when nothing was won).
    #[schema(value_type = Option<String>)]
    pub abs_pct_error: Option<Decimal>,
    /// error / actual, in percent: above 0 over-forecast, below 0 under-forecast.
    #[schema(value_type = Option<String>)]
    pub bias_pct: Option<Decimal>,
}

/// Forecast versus actual for one submitter and period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AccuracyRow {
    pub user_id: i64,
    pub name: String,
    pub depth: usize,
    /// Won in the period by the person's subtree (their own for a rep), reporting currency.
    #[schema(value_type = String)]
    pub actual: Decimal,
    /// The call in force when the period started.
    pub at_start: CallAccuracy,
    /// The call in force in the middle of the period.
    pub at_mid: CallAccuracy,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Accuracy {
    pub period: String,
    pub currency: String,
    #[schema(value_type = String)]
    pub start: Date,
    #[schema(value_type = String)]
    pub mid: Date,
    #[schema(value_type = String)]
    pub end: Date,
    /// Whether the period is over (else `actual` is won so far).
    pub complete: bool,
    pub rows: Vec<AccuracyRow>,
}

// ---- pure calculations ----------------------------------------------------------------------

/// The bucket an opportunity counts in: won stages are closed, lost ones omitted, open ones
/// their forecast category (an open one marked closed counts as commit).
fn bucket(stage_kind: &str, category: &str) -> Option<&'static str> {
    match stage_kind {
        "won" => Some("closed"),
        "lost" => None,
        _ => match category {
            "pipeline" => Some("pipeline"),
            "best_case" => Some("best_case"),
            "commit" | "closed" => Some("commit"),
            _ => None,
        },
    }
}

/// Category amounts of opportunities (amounts already in the reporting currency).
pub fn category_amounts<'a>(
    opportunities: impl IntoIterator<Item = (&'a str, &'a str, Decimal)>,
    method: RollupMethod,
) -> CategoryAmounts {
    let mut single = CategoryAmounts::default();
    for (kind, category, amount) in opportunities {
        match bucket(kind, category) {
            Some("closed") => single.closed += amount,
            Some("commit") => single.commit += amount,
            Some("best_case") => single.best_case += amount,
            Some("pipeline") => single.pipeline += amount,
            _ => {}
        }
    }
    match method {
        RollupMethod::Single => single,
        RollupMethod::Cumulative => {
            let commit = single.closed + single.commit;
            let best_case = commit + single.best_case;
            CategoryAmounts { closed: single.closed, commit, best_case, pipeline: best_case + single.pipeline }
        }
    }
}

fn to_submission(r: &SubmissionRow) -> Option<Submission> {
    Some(Submission {
        id: r.id,
        user_id: r.submitter_id,
        user_name: r.submitter_name.clone(),
        override_by: r.override_by,
        override_by_name: r.override_by_name.clone(),
        category: CallCategory::parse(&r.category).ok()?,
        amount: r.amount.parse().ok()?,
        currency: r.currency.clone(),
        note: r.note.clone(),
        rollup_method: r.rollup_method.clone(),
        submitted_at: r.submitted_at,
    })
}

/// The people to show: the roots and everyone below them, in pre-order with depths.
fn tree(people: &[CallPerson], roots: &[i64]) -> Vec<(usize, CallPerson)> {
    let mut children: BTreeMap<i64, Vec<&CallPerson>> = BTreeMap::new();
    for p in people {
        if let Some(m) = p.manager_id {
            children.entry(m).or_default().push(p);
        }
    }
    for c in children.values_mut() {
        c.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    }
    let by_id: HashMap<i64, &CallPerson> = people.iter().map(|p| (p.id, p)).collect();
    let mut out = vec![];
    let mut seen = HashSet::new();
    let mut stack: Vec<(usize, &CallPerson)> =
        roots.iter().rev().filter_map(|r| by_id.get(r).map(|p| (0, *p))).collect();
    while let Some((depth, p)) = stack.pop() {
        if !seen.insert(p.id) {
            continue;
        }
        out.push((depth, p.clone()));
        if let Some(c) = children.get(&p.id) {
            stack.extend(c.iter().rev().map(|c| (depth + 1, *c)));
        }
    }
    out
}

/// Everything the roll-up is computed from.
pub struct RollupInput<'a> {
    pub people: &'a [CallPerson],
    /// The tops of the tree the caller sees.
    pub roots: &'a [i64],
    /// Opportunities closing in the period: (owner, stage kind, forecast category, amount in the
    /// reporting currency).
    pub opportunities: &'a [(i64, String, String, Decimal)],
    pub submissions: &'a [SubmissionRow],
    pub settings: CallSettings,
    pub now: Timestamp,
}

/// The roll-up tree (pre-order). A person's call per category is the latest override of their
/// number, else their own latest number, else (with reports) the sum of the reports' calls.
pub fn rollup(input: &RollupInput) -> Vec<CallNode> {
    let shown = tree(input.people, input.roots);
    let ids: HashSet<i64> = shown.iter().map(|(_, p)| p.id).collect();
    let method = input.settings.rollup_method;
    let mut own_opps: HashMap<i64, Vec<(&str, &str, Decimal)>> = HashMap::new();
    for (owner, kind, cat, amount) in input.opportunities {
        own_opps.entry(*owner).or_default().push((kind.as_str(), cat.as_str(), *amount));
    }
    // Latest own number and latest override per (person, category); submissions are oldest first.
    let mut latest_own: HashMap<(i64, CallCategory), Submission> = HashMap::new();
    let mut latest_override: HashMap<(i64, CallCategory), Submission> = HashMap::new();
    let mut last_at: HashMap<i64, Timestamp> = HashMap::new();
    for r in input.submissions {
        let Some(s) = to_submission(r) else { continue };
        if s.override_by.is_some() {
            latest_override.insert((s.user_id, s.category), s);
        } else {
            last_at.insert(s.user_id, s.submitted_at);
            latest_own.insert((s.user_id, s.category), s);
        }
    }
    let stale_after = SignedDuration::from_hours(24 * input.settings.stale_days.max(0));
    let mut nodes: Vec<CallNode> = shown
        .iter()
        .map(|(depth, p)| {
            let own = category_amounts(own_opps.get(&p.id).into_iter().flatten().copied(), method);
            let last = last_at.get(&p.id).copied();
            CallNode {
                user_id: p.id,
                name: p.name.clone(),
                role: p.role.clone(),
                manager_id: p.manager_id.filter(|m| ids.contains(m)),
                depth: *depth,
                has_reports: false,
                own,
                team: own,
                submitted_commit: latest_own.get(&(p.id, CallCategory::Commit)).cloned(),
                submitted_best_case: latest_own.get(&(p.id, CallCategory::BestCase)).cloned(),
                override_commit: latest_override.get(&(p.id, CallCategory::Commit)).cloned(),
                override_best_case: latest_override.get(&(p.id, CallCategory::BestCase)).cloned(),
                call_commit: Call { amount: None, source: CallSource::None },
                call_best_case: Call { amount: None, source: CallSource::None },
                last_submitted_at: last,
                stale: last.is_some_and(|t| input.now.duration_since(t) > stale_after),
            }
        })
        .collect();
    // Children come after their manager in pre-order: fold bottom-up.
    let index: HashMap<i64, usize> = nodes.iter().enumerate().map(|(i, n)| (n.user_id, i)).collect();
    let mut sums: Vec<[Option<Decimal>; 2]> = vec![[None, None]; nodes.len()];
    for i in (0..nodes.len()).rev() {
        for (k, cat) in CallCategory::ALL.into_iter().enumerate() {
            let n = &nodes[i];
            let (ovr, own) = match cat {
                CallCategory::Commit => (&n.override_commit, &n.submitted_commit),
                CallCategory::BestCase => (&n.override_best_case, &n.submitted_best_case),
            };
            let call = if let Some(o) = ovr {
                Call { amount: Some(o.amount), source: CallSource::Override }
            } else if let Some(s) = own {
                Call { amount: Some(s.amount), source: CallSource::Submitted }
            } else if let Some(sum) = sums[i][k] {
                Call { amount: Some(sum), source: CallSource::RolledUp }
            } else {
                Call { amount: None, source: CallSource::None }
            };
            match cat {
                CallCategory::Commit => nodes[i].call_commit = call,
                CallCategory::BestCase => nodes[i].call_best_case = call,
            }
            if let Some(parent) = nodes[i].manager_id.and_then(|m| index.get(&m).copied())
                && let Some(a) = call.amount
            {
                sums[parent][k] = Some(sums[parent][k].unwrap_or_default() + a);
            }
        }
        if let Some(parent) = nodes[i].manager_id.and_then(|m| index.get(&m).copied()) {
            let team = nodes[i].team;
            nodes[parent].team.add(&team);
            nodes[parent].has_reports = true;
        }
    }
    nodes
}

#[derive(Clone, Copy)]
enum Place {
    /// Not in the snapshot at all.
    Absent,
    /// In the snapshot with a close date before the period.
    Before,
    /// In the period, with its stage kind.
    In(&'static str),
    /// Close date after the period.
    After,
}

fn place(row: Option<&CallOpportunity>, start: Date, end: Date) -> Place {
    match row {
        None => Place::Absent,
        Some(r) if r.close_date < start => Place::Before,
        Some(r) if r.close_date > end => Place::After,
        Some(r) => Place::In(match r.stage_kind.as_str() {
            "won" => "won",
            "lost" => "lost",
            _ => "open",
        }),
    }
}

fn amount_of(r: Option<&CallOpportunity>) -> Decimal {
    r.and_then(|r| r.amount.parse().ok()).unwrap_or_default()
}

/// The waterfall of a period's open pipeline between snapshot `a` (taken on `from`) and `b`.
/// Amounts in the snapshots are already in one currency. Every opportunity's effects add up to
/// its change, so `end = start + Σ steps` exactly.
pub fn waterfall(
    a: &[CallOpportunity],
    b: &[CallOpportunity],
    start: Date,
    end: Date,
    from: Date,
) -> (Decimal, Decimal, Vec<WaterfallStep>) {
    let a_by: BTreeMap<i64, &CallOpportunity> = a.iter().map(|r| (r.opportunity_id, r)).collect();
    let b_by: BTreeMap<i64, &CallOpportunity> = b.iter().map(|r| (r.opportunity_id, r)).collect();
    let ids: std::collections::BTreeSet<i64> = a_by.keys().chain(b_by.keys()).copied().collect();
    let mut steps: BTreeMap<StepKind, WaterfallStep> = StepKind::ALL
        .into_iter()
        .map(|k| (k, WaterfallStep { kind: k, amount: Decimal::ZERO, count: 0, opportunities: vec![] }))
        .collect();
    let (mut total_a, mut total_b) = (Decimal::ZERO, Decimal::ZERO);
    for id in ids {
        let (ra, rb) = (a_by.get(&id).copied(), b_by.get(&id).copied());
        let (pa, pb) = (place(ra, start, end), place(rb, start, end));
        let (amt_a, amt_b) = (amount_of(ra), amount_of(rb));
        let a_open = matches!(pa, Place::In("open"));
        if a_open {
            total_a += amt_a;
        }
        if matches!(pb, Place::In("open")) {
            total_b += amt_b;
        }
        let mut effects: Vec<(StepKind, Decimal)> = vec![];
        if a_open {
            match pb {
                Place::Absent | Place::Before => effects.push((StepKind::Removed, -amt_a)),
                Place::After => {
                    if amt_b != amt_a {
                        effects.push((StepKind::AmountChanged, amt_b - amt_a));
                    }
                    effects.push((StepKind::PushedOut, -amt_b));
                }
                Place::In(kind) => {
                    if amt_b != amt_a {
                        effects.push((StepKind::AmountChanged, amt_b - amt_a));
                    }
                    match kind {
                        "won" => effects.push((StepKind::Won, -amt_b)),
                        "lost" => effects.push((StepKind::Lost, -amt_b)),
                        _ => {}
                    }
                }
            }
        } else if let Place::In(kind_b) = pb {
            // Entered the open pipeline (and may have closed) since the first snapshot; an
            // opportunity already closed in the period at the first snapshot stays out of it.
            let was_closed_here = matches!(pa, Place::In(_));
            if !(was_closed_here && kind_b != "open") {
                let created_after = rb.is_some_and(|r| r.created_on > from);
                let entry =
                    if matches!(pa, Place::Absent) && created_after { StepKind::New } else { StepKind::PulledIn };
                effects.push((entry, amt_b));
                match kind_b {
                    "won" => effects.push((StepKind::Won, -amt_b)),
                    "lost" => effects.push((StepKind::Lost, -amt_b)),
                    _ => {}
                }
            }
        }
        for (kind, effect) in effects {
            let r = rb.or(ra).expect("an id comes from one of the snapshots");
            let step = steps.get_mut(&kind).expect("every kind has a step");
            step.amount += effect;
            step.count += 1;
            step.opportunities.push(WaterfallOpportunity {
                opportunity_id: id,
                name: r.name.clone(),
                owner_id: r.owner_id,
                amount_before: ra.map(|_| amt_a),
                amount_after: rb.map(|_| amt_b),
                close_before: ra.map(|r| r.close_date),
                close_after: rb.map(|r| r.close_date),
                effect,
            });
        }
    }
    (total_a, total_b, steps.into_values().collect())
}

fn measure(call: Option<Decimal>, actual: Decimal) -> CallAccuracy {
    let error = call.map(|c| c - actual);
    let pct = |e: Decimal| (e * Decimal::ONE_HUNDRED / actual).round_dp(1);
    CallAccuracy {
        call,
        error,
        abs_pct_error: error.filter(|_| !actual.is_zero()).map(|e| pct(e.abs())),
        bias_pct: error.filter(|_| !actual.is_zero()).map(pct),
    }
}

/// Forecast versus actual per person: the latest own commit number before `start` and before
/// `mid` against `actual[person]`.
pub fn accuracy_rows(
    nodes: &[CallNode],
    submissions: &[SubmissionRow],
    actual: &HashMap<i64, Decimal>,
    start: Timestamp,
    mid: Timestamp,
) -> Vec<AccuracyRow> {
    let latest_before = |user: i64, at: Timestamp| -> Option<Decimal> {
        submissions
            .iter()
            .filter(|s| {
                s.submitter_id == user
                    && s.override_by.is_none()
                    && s.category == CallCategory::Commit.as_str()
                    && s.submitted_at < at
            })
            .max_by_key(|s| (s.submitted_at, s.id))
            .and_then(|s| s.amount.parse().ok())
    };
    nodes
        .iter()
        .map(|n| {
            let a = actual.get(&n.user_id).copied().unwrap_or_default();
            AccuracyRow {
                user_id: n.user_id,
                name: n.name.clone(),
                depth: n.depth,
                actual: a,
                at_start: measure(latest_before(n.user_id, start), a),
                at_mid: measure(latest_before(n.user_id, mid), a),
            }
        })
        .collect()
}

// ---- use cases ------------------------------------------------------------------------------

fn day_start(d: Date) -> Result<Timestamp, AppError> {
    d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).map_err(|e| AppError::Internal(e.to_string()))
}

/// `2026-Q1`, `2026-03`, `FY2026`… → the period and its canonical text.
pub fn parse_call_period(s: &str) -> Result<Period, AppError> {
    Period::parse(s).map_err(|_| AppError::invalid("period", format!("'{s}' is not a period such as 2026-Q1")))
}

fn may_override_all(p: &Principal) -> bool {
    p.can(Permission::AdministerOrganisation)
}

/// Converts an opportunity's amount to `to` at its close date, rounded to the currency.
fn convert(fx: &FxTable, o: &CallOpportunity, to: Currency) -> Option<Decimal> {
    let m = Money::parse(&o.amount, &o.currency).ok()?;
    let c = fx.convert(m, to, o.close_date).ok()?;
    Some(c.amount.round_dp(to.minor_units()))
}

impl App {
    /// Stale limit and roll-up method (defaults: 7 days, cumulative).
    pub async fn forecast_call_settings(&self) -> Result<CallSettings, AppError> {
        let stale_days = match self.store.setting_get(STALE_DAYS_KEY).await? {
            Some(v) => v.parse().map_err(|_| AppError::Internal(format!("bad {STALE_DAYS_KEY} '{v}'")))?,
            None => DEFAULT_STALE_DAYS,
        };
        let rollup_method = match self.store.setting_get(ROLLUP_METHOD_KEY).await? {
            Some(v) => RollupMethod::parse(&v)?,
            None => RollupMethod::Cumulative,
        };
        Ok(CallSettings { stale_days, rollup_method })
    }

    /// Changes the settings (administrators). Submissions and overrides are never touched.
    pub async fn set_forecast_call_settings(
        &self,
        p: &Principal,
        stale_days: Option<i64>,
        method: Option<&str>,
    ) -> Result<CallSettings, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let method = method.map(RollupMethod::parse).transpose()?;
        if let Some(d) = stale_days
            && !(1..=365).contains(&d)
        {
            return Err(AppError::invalid("stale_days", "must be between 1 and 365"));
        }
        let ctx = p.audit(self.now());
        if let Some(d) = stale_days {
            self.store.setting_set(&ctx, STALE_DAYS_KEY, &d.to_string()).await?;
        }
        if let Some(m) = method {
            self.store.setting_set(&ctx, ROLLUP_METHOD_KEY, m.as_str()).await?;
        }
        self.forecast_call_settings().await
    }

    /// The people of the hierarchy the caller sees and the tops of their tree.
    async fn call_scope(&self, p: &Principal) -> Result<(Vec<CallPerson>, Vec<i64>), AppError> {
        let people = self.store.forecast_people().await?;
        let me = p.user.id.0;
        let roots = match p.user.role.visibility() {
            Visibility::All => {
                let ids: HashSet<i64> = people.iter().map(|x| x.id).collect();
                people.iter().filter(|x| x.manager_id.is_none_or(|m| !ids.contains(&m))).map(|x| x.id).collect()
            }
            Visibility::Subtree | Visibility::Own => {
                if people.iter().any(|x| x.id == me) {
                    vec![me]
                } else {
                    vec![]
                }
            }
        };
        // A rep's tree is themselves only, even if someone reports to them.
        let people = if p.user.role.visibility() == Visibility::Own {
            people.into_iter().filter(|x| x.id == me).map(|x| CallPerson { manager_id: None, ..x }).collect()
        } else {
            people
        };
        Ok((people, roots))
    }

    async fn period_bounds(&self, period: &str) -> Result<(String, Date, Date), AppError> {
        let period = parse_call_period(period)?;
        let cal = self.fiscal_calendar().await?;
        Ok((period.to_string(), cal.start(period), cal.end(period)))
    }

    /// The roll-up of `period` as the caller may see it.
    pub async fn forecast_rollup(&self, p: &Principal, period: &str) -> Result<CallRollup, AppError> {
        let (period, start, end) = self.period_bounds(period).await?;
        let settings = self.forecast_call_settings().await?;
        let (people, roots) = self.call_scope(p).await?;
        let viewer = self.viewer(p).await?;
        let currency = self.store.reporting_currency().await?;
        let fx = self.store.fx_table().await?;
        let mut unconverted = 0;
        let opportunities: Vec<(i64, String, String, Decimal)> = self
            .store
            .forecast_opportunities(&viewer, start, end)
            .await?
            .into_iter()
            .filter_map(|o| match convert(&fx, &o, currency) {
                Some(a) => Some((o.owner_id, o.stage_kind, o.category, a)),
                None => {
                    unconverted += 1;
                    None
                }
            })
            .collect();
        let submissions = self.store.forecast_submissions(&period).await?;
        let nodes = rollup(&RollupInput {
            people: &people,
            roots: &roots,
            opportunities: &opportunities,
            submissions: &submissions,
            settings,
            now: self.now(),
        });
        let shown: HashSet<i64> = nodes.iter().map(|n| n.user_id).collect();
        let mut history: Vec<Submission> =
            submissions.iter().filter(|s| shown.contains(&s.submitter_id)).filter_map(to_submission).collect();
        history.reverse();
        Ok(CallRollup {
            period,
            start,
            end,
            currency: currency.code().to_string(),
            settings,
            nodes,
            history,
            unconverted,
        })
    }

    /// Submits `user`'s number (absent: the caller's own). For anyone else it is an override:
    /// the caller must manage them (or administer the organisation) and give a note. The
    /// person's own numbers are kept.
    pub async fn forecast_submit(
        &self,
        p: &Principal,
        period: &str,
        user: Option<i64>,
        category: &str,
        amount: &str,
        note: &str,
    ) -> Result<Submission, AppError> {
        p.require_write_credential()?;
        let (period, _, _) = self.period_bounds(period).await?;
        let category = CallCategory::parse(category)?;
        let currency = self.store.reporting_currency().await?;
        let amount: Decimal = amount
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("amount", "must be a decimal number such as 125000.00"))?;
        if amount.is_sign_negative() {
            return Err(AppError::invalid("amount", "must not be negative"));
        }
        if amount.scale() > currency.minor_units() {
            return Err(AppError::invalid("amount", format!("at most {} decimals", currency.minor_units())));
        }
        let note = note.trim();
        if note.chars().count() > MAX_NOTE {
            return Err(AppError::invalid("note", format!("at most {MAX_NOTE} characters")));
        }
        let me = p.user.id.0;
        let subject = user.unwrap_or(me);
        let people = self.store.forecast_people().await?;
        if subject == me {
            if !p.can(Permission::WriteRecords) || !people.iter().any(|x| x.id == me) {
                return Err(AppError::Forbidden);
            }
        } else {
            let manages = match p.user.role.visibility() {
                Visibility::Own => false,
                _ if p.user.role == Role::SalesManager => self.store.subtree_ids(p.user.id).await?.contains(&subject),
                _ => may_override_all(p),
            };
            if !manages {
                return Err(AppError::Forbidden);
            }
            if !people.iter().any(|x| x.id == subject) {
                return Err(AppError::invalid("user_id", "is not in the sales hierarchy"));
            }
            if note.is_empty() {
                return Err(AppError::invalid("note", "an override needs a note saying why"));
            }
        }
        let settings = self.forecast_call_settings().await?;
        let new = NewSubmission {
            submitter_id: subject,
            override_by: (subject != me).then_some(me),
            period: period.clone(),
            category: category.as_str().to_string(),
            amount: amount.to_string(),
            currency: currency.code().to_string(),
            note: note.to_string(),
            rollup_method: settings.rollup_method.as_str().to_string(),
        };
        let id = self.store.forecast_submission_add(&p.audit(self.now()), &new).await?;
        let rows = self.store.forecast_submissions(&period).await?;
        rows.iter()
            .find(|r| r.id == id)
            .and_then(to_submission)
            .ok_or_else(|| AppError::Internal("submission not read back".into()))
    }

    /// Writes today's snapshot of `period` (company-wide; managers and administrators). Taking
    /// it again the same day replaces the day's snapshot.
    pub async fn forecast_snapshot(&self, p: &Principal, period: &str) -> Result<SnapshotOutcome, AppError> {
        if !(may_override_all(p) || p.user.role == Role::SalesManager) {
            return Err(AppError::Forbidden);
        }
        p.require_write_credential()?;
        let (period, start, end) = self.period_bounds(period).await?;
        let currency = self.store.reporting_currency().await?;
        let fx = self.store.fx_table().await?;
        let mut unconverted = 0;
        let rows: Vec<CallOpportunity> = self
            .store
            .forecast_snapshot_source(start, end)
            .await?
            .into_iter()
            .filter_map(|o| match convert(&fx, &o, currency) {
                Some(a) => Some(CallOpportunity { amount: a.to_string(), currency: currency.code().to_string(), ..o }),
                None => {
                    unconverted += 1;
                    None
                }
            })
            .collect();
        let now = self.now();
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        self.store.forecast_snapshot_write(&p.audit(now), &period, today, &rows).await?;
        Ok(SnapshotOutcome { period, date: today, opportunities: rows.len(), unconverted })
    }

    /// The days `period` has snapshots.
    pub async fn forecast_snapshot_dates(&self, period: &str) -> Result<Vec<Date>, AppError> {
        let (period, _, _) = self.period_bounds(period).await?;
        Ok(self.store.forecast_snapshot_dates(&period).await?)
    }

    /// How the period's open pipeline (of opportunities the caller may see) moved between the
    /// snapshots of `from` and `to`.
    pub async fn forecast_waterfall(
        &self,
        p: &Principal,
        period: &str,
        from: Date,
        to: Date,
    ) -> Result<Waterfall, AppError> {
        let (period, start, end) = self.period_bounds(period).await?;
        if from >= to {
            return Err(AppError::invalid("to", "must be after from"));
        }
        let dates = self.store.forecast_snapshot_dates(&period).await?;
        for (field, d) in [("from", from), ("to", to)] {
            if !dates.contains(&d) {
                return Err(AppError::invalid(field, format!("no snapshot of {period} was taken on {d}")));
            }
        }
        let viewer = self.viewer(p).await?;
        let a = self.store.forecast_snapshot(&viewer, &period, from).await?;
        let b = self.store.forecast_snapshot(&viewer, &period, to).await?;
        let currency = self.store.reporting_currency().await?;
        let (start_total, end_total, steps) = waterfall(&a, &b, start, end, from);
        Ok(Waterfall {
            period,
            from,
            to,
            currency: currency.code().to_string(),
            start: start_total,
            end: end_total,
            steps,
        })
    }

    /// Forecast versus actual per person the caller sees.
    pub async fn forecast_accuracy(&self, p: &Principal, period: &str) -> Result<Accuracy, AppError> {
        let roll = self.forecast_rollup(p, period).await?;
        let submissions = self.store.forecast_submissions(&roll.period).await?;
        let days = (roll.end - roll.start).get_days();
        let mid = roll.start.checked_add(jiff::Span::new().days(i64::from(days / 2 + 1))).unwrap_or(roll.end);
        // Won in the period per subtree: the roll-up's team closed amount counts won deals in
        // single-category terms under either method.
        let actual: HashMap<i64, Decimal> = roll.nodes.iter().map(|n| (n.user_id, n.team.closed)).collect();
        let rows = accuracy_rows(&roll.nodes, &submissions, &actual, day_start(roll.start)?, day_start(mid)?);
        let today = self.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        Ok(Accuracy {
            period: roll.period,
            currency: roll.currency,
            start: roll.start,
            mid,
            end: roll.end,
            complete: today > roll.end,
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: i64, manager: Option<i64>) -> CallPerson {
        CallPerson { id, name: format!("P{id}"), role: "sales_rep".into(), manager_id: manager, active: true }
    }

    fn sub(id: i64, who: i64, by: Option<i64>, cat: &str, amount: &str, at: i64) -> SubmissionRow {
        SubmissionRow {
            id,
            submitter_id: who,
            submitter_name: format!("P{who}"),
            override_by: by,
            override_by_name: None,
            period: "2026-Q2".into(),
            category: cat.into(),
            amount: amount.into(),
            currency: "EUR".into(),
            note: String::new(),
            rollup_method: "cumulative".into(),
            submitted_at: Timestamp::from_second(at).unwrap(),
        }
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn cumulative_commit_includes_closed_and_single_does_not() {
        let opps = [("won", "closed", d("100")), ("open", "commit", d("50")), ("open", "pipeline", d("7"))];
        let c = category_amounts(opps.iter().map(|(k, c, a)| (*k, *c, *a)), RollupMethod::Cumulative);
        assert_eq!((c.closed, c.commit, c.best_case, c.pipeline), (d("100"), d("150"), d("150"), d("157")));
        let s = category_amounts(opps.iter().map(|(k, c, a)| (*k, *c, *a)), RollupMethod::Single);
        assert_eq!((s.closed, s.commit, s.best_case, s.pipeline), (d("100"), d("50"), d("0"), d("7")));
    }

    #[test]
    fn calls_roll_up_overrides_win_and_own_numbers_stay() {
        // 1 manages 2, 2 manages 3 and 4.
        let people = [person(1, None), person(2, Some(1)), person(3, Some(2)), person(4, Some(2))];
        let subs = [
            sub(1, 3, None, "commit", "100", 10),
            sub(2, 4, None, "commit", "50", 20),
            sub(3, 4, Some(2), "commit", "30", 30),
        ];
        let settings = CallSettings { stale_days: 7, rollup_method: RollupMethod::Cumulative };
        let now = Timestamp::from_second(40).unwrap();
        let nodes = rollup(&RollupInput {
            people: &people,
            roots: &[1],
            opportunities: &[(3, "won".into(), "closed".into(), d("10"))],
            submissions: &subs,
            settings,
            now,
        });
        let by: HashMap<i64, &CallNode> = nodes.iter().map(|n| (n.user_id, n)).collect();
        assert_eq!(by[&4].call_commit, Call { amount: Some(d("30")), source: CallSource::Override });
        assert_eq!(by[&4].submitted_commit.as_ref().unwrap().amount, d("50"));
        assert_eq!(by[&2].call_commit, Call { amount: Some(d("130")), source: CallSource::RolledUp });
        assert_eq!(by[&1].call_commit, Call { amount: Some(d("130")), source: CallSource::RolledUp });
        assert_eq!(by[&1].team.closed, d("10"));
        assert_eq!(nodes.iter().map(|n| n.depth).collect::<Vec<_>>(), vec![0, 1, 2, 2]);
        assert!(!by[&3].stale);
    }

    fn opp(id: i64, close: &str, kind: &str, amount: &str, created: &str) -> CallOpportunity {
        CallOpportunity {
            opportunity_id: id,
            name: format!("O{id}"),
            owner_id: 1,
            amount: amount.into(),
            currency: "EUR".into(),
            close_date: close.parse().unwrap(),
            category: "commit".into(),
            stage_kind: kind.into(),
            created_on: created.parse().unwrap(),
        }
    }

    #[test]
    fn the_waterfall_classifies_and_adds_up() {
        let (s, e, from) =
            ("2026-04-01".parse().unwrap(), "2026-06-30".parse().unwrap(), "2026-05-01".parse().unwrap());
        let a = [
            opp(1, "2026-06-01", "open", "100", "2026-01-01"), // pushed
            opp(2, "2026-06-02", "open", "200", "2026-01-01"), // won at 250
            opp(3, "2026-07-15", "open", "40", "2026-01-01"),  // pulled in
            opp(4, "2026-06-03", "open", "60", "2026-01-01"),  // lost
            opp(6, "2026-05-20", "open", "10", "2026-01-01"),  // removed
        ];
        let b = [
            opp(1, "2026-08-01", "open", "100", "2026-01-01"),
            opp(2, "2026-05-10", "won", "250", "2026-01-01"),
            opp(3, "2026-06-20", "open", "40", "2026-01-01"),
            opp(4, "2026-06-03", "lost", "60", "2026-01-01"),
            opp(5, "2026-06-25", "open", "70", "2026-05-08"), // new
        ];
        let (start, end, steps) = waterfall(&a, &b, s, e, from);
        assert_eq!(start, d("370"));
        assert_eq!(end, d("110"));
        assert_eq!(start + steps.iter().map(|s| s.amount).sum::<Decimal>(), end);
        let step = |k: StepKind| steps.iter().find(|s| s.kind == k).unwrap();
        assert_eq!((step(StepKind::New).amount, step(StepKind::New).count), (d("70"), 1));
        assert_eq!(step(StepKind::PulledIn).amount, d("40"));
        assert_eq!(step(StepKind::PushedOut).amount, d("-100"));
        assert_eq!(step(StepKind::Won).amount, d("-250"));
        assert_eq!(step(StepKind::AmountChanged).amount, d("50"));
        assert_eq!(step(StepKind::Lost).amount, d("-60"));
        assert_eq!(step(StepKind::Removed).amount, d("-10"));
    }

    #[test]
    fn accuracy_measures_the_call_in_force() {
        let node = CallNode {
            user_id: 3,
            name: "P3".into(),
            role: "sales_rep".into(),
            manager_id: None,
            depth: 0,
            has_reports: false,
            own: CategoryAmounts::default(),
            team: CategoryAmounts::default(),
            submitted_commit: None,
            submitted_best_case: None,
            override_commit: None,
            override_best_case: None,
            call_commit: Call { amount: None, source: CallSource::None },
            call_best_case: Call { amount: None, source: CallSource::None },
            last_submitted_at: None,
            stale: false,
        };
        let subs = [sub(1, 3, None, "commit", "120", 10), sub(2, 3, None, "commit", "90", 50)];
        let actual = HashMap::from([(3, d("100"))]);
        let rows = accuracy_rows(
            &[node],
            &subs,
            &actual,
            Timestamp::from_second(20).unwrap(),
            Timestamp::from_second(60).unwrap(),
        );
        assert_eq!(rows[0].at_start.error, Some(d("20")));
        assert_eq!(rows[0].at_start.abs_pct_error, Some(d("20.0")));
        assert_eq!(rows[0].at_mid.bias_pct, Some(d("-10.0")));
    }
}
