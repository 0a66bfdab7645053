//! Territory balancing use cases (issue 8, P2): a balancing instance as JSON in, the planning
//! engine's outcome with rep and unit names out. Nothing is stored yet: scenarios live in the
//! request (and on the page), they are not kept as drafts.
//!
//! Who may balance: head of commercial ops, sales-ops managers and CRM administrators. The
//! engine runs on a blocking thread; instance sizes are bounded so one request cannot take the
//! server for minutes.

use std::collections::HashMap;

use model::Role;
use planning::balance::{
    Assessment, BalanceError, BalanceOptions, BalanceOutcome, BalanceProblem, Locations, Method, Objective,
    ParetoPoint, Proof, Rep, Unit,
};
use serde::{Deserialize, Serialize};

use crate::{App, AppError, Principal};

/// Most units a balancing request may have.
pub const MAX_UNITS: usize = 5_000;
/// Most reps a balancing request may have.
pub const MAX_REPS: usize = 200;
/// Most unit × rep pairs a Pareto request may have (every point is a full solve).
pub const MAX_PARETO_PAIRS: usize = 5_000;
/// Most epsilon steps of a Pareto sweep.
pub const MAX_PARETO_STEPS: usize = 10;

/// May this role balance territories?
pub fn may_plan(role: Role) -> bool {
    matches!(role, Role::HeadOfCommercialOps | Role::SalesOpsManager | Role::CrmAdmin)
}

/// One sales unit of a request.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct UnitInput {
    /// Postal area, brick or account id.
    pub id: String,
    /// Workload index (the balancing measure).
    pub workload: f64,
    /// Sales potential (reported, not constrained).
    #[serde(default)]
    pub potential: f64,
    /// Coordinates; needed on every unit unless `distances` is given.
    pub x: Option<f64>,
    pub y: Option<f64>,
}

/// A rep and their home unit.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RepInput {
    pub id: String,
    /// Id of the rep's home unit (they always keep it).
    pub home: String,
}

/// A unit given to a rep (today's assignment, or a lock).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct UnitRep {
    pub unit: String,
    pub rep: String,
}

/// A balancing instance.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct BalanceInput {
    pub units: Vec<UnitInput>,
    pub reps: Vec<RepInput>,
    /// Today's assignment: every unit exactly once.
    pub assignment: Vec<UnitRep>,
    /// Optional distance matrix in the order of `units` (instead of coordinates).
    #[serde(default)]
    pub distances: Option<Vec<Vec<f64>>>,
    /// Workload bounds as factors of the mean, e.g. `[0.8, 1.2]`.
    #[serde(default = "default_bounds")]
    #[schema(value_type = Vec<f64>)]
    pub bounds: (f64, f64),
    /// `distance` (default) or `disruption`.
    #[serde(default)]
    pub objective: Option<String>,
    /// Units a manager locks to a rep.
    #[serde(default)]
    pub locks: Vec<UnitRep>,
    /// Pareto only: number of epsilon steps (default 6, at most 10).
    #[serde(default)]
    pub steps: Option<usize>,
}

fn default_bounds() -> (f64, f64) {
    (0.8, 1.2)
}

/// Per-rep figures with the rep's name.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RepFiguresDto {
    pub rep: String,
    pub units: usize,
    pub workload: f64,
    pub potential: f64,
    pub distance: f64,
}

/// Min, max, mean, coefficient of variation and Gini of a per-rep figure.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SpreadDto {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub coefficient_of_variation: f64,
    pub gini: f64,
}

/// The figures of one assignment.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssessmentDto {
    pub per_rep: Vec<RepFiguresDto>,
    pub workload: SpreadDto,
    pub potential: SpreadDto,
    pub total_distance: f64,
    /// Workload-weighted share of units that changed rep (0..1).
    pub disruption: f64,
    pub units_moved: usize,
    pub within_bounds: bool,
}

/// The result of a balancing request.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BalanceResultDto {
    pub objective: String,
    /// The new assignment, in the order of the request's units.
    pub assignment: Vec<UnitRep>,
    pub objective_value: f64,
    /// Proven lower bound on the objective of any feasible assignment.
    pub lower_bound: f64,
    /// Relative gap between the objective and the bound (0 when proven optimal).
    pub gap: f64,
    /// `proven_optimal` or `bounded`.
    pub proof: String,
    pub before: AssessmentDto,
    pub after: AssessmentDto,
    /// Engine diagnostics (warnings and notes).
    pub diagnostics: Vec<String>,
}

/// One point of the distance–disruption trade-off.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParetoPointDto {
    pub max_disruption: f64,
    pub distance: f64,
    pub disruption: f64,
    pub proof: String,
    pub assignment: Vec<UnitRep>,
}

/// The Pareto front.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParetoDto {
    pub points: Vec<ParetoPointDto>,
    pub diagnostics: Vec<String>,
}

/// The parsed instance together with the names needed to report on it.
pub struct Instance {
    pub problem: BalanceProblem,
    pub objective: Objective,
}

fn proof_name(proof: Proof) -> String {
    match proof {
        Proof::ProvenOptimal => "proven_optimal",
        Proof::Bounded => "bounded",
    }
    .to_string()
}

/// Parses `distance` or `disruption`.
pub fn parse_objective(text: Option<&str>) -> Result<Objective, AppError> {
    match text.map(str::trim).unwrap_or("distance") {
        "" | "distance" => Ok(Objective::Distance),
        "disruption" => Ok(Objective::Disruption),
        other => Err(AppError::invalid("objective", format!("'{other}' is not distance or disruption"))),
    }
}

/// Checks the request and builds the engine's problem. Errors name the field (`units[3].workload`).
pub fn instance(input: &BalanceInput) -> Result<Instance, AppError> {
    let objective = parse_objective(input.objective.as_deref())?;
    if input.units.is_empty() {
        return Err(AppError::invalid("units", "at least one unit is needed"));
    }
    if input.units.len() > MAX_UNITS {
        return Err(AppError::invalid(
            "units",
            format!("{} units; at most {MAX_UNITS} units per request", input.units.len()),
        ));
    }
    if input.reps.is_empty() {
        return Err(AppError::invalid("reps", "at least one rep is needed"));
    }
    if input.reps.len() > MAX_REPS {
        return Err(AppError::invalid(
            "reps",
            format!("{} reps; at most {MAX_REPS} reps per request", input.reps.len()),
        ));
    }
    let (low, high) = input.bounds;
    if !(low.is_finite() && high.is_finite() && (0.0..=1.0).contains(&low) && high >= 1.0) {
        return Err(AppError::invalid("bounds", "need 0 <= low <= 1 <= high, e.g. [0.8, 1.2]"));
    }
    let mut unit_index: HashMap<&str, usize> = HashMap::new();
    let mut units = Vec::with_capacity(input.units.len());
    let mut points = Vec::with_capacity(input.units.len());
    for (i, u) in input.units.iter().enumerate() {
        let id = u.id.trim();
        if id.is_empty() {
            return Err(AppError::invalid(format!("units[{i}].id"), "empty"));
        }
        if unit_index.insert(id, i).is_some() {
            return Err(AppError::invalid(format!("units[{i}].id"), format!("unit '{id}' appears twice")));
        }
        if !(u.workload.is_finite() && u.workload >= 0.0) {
            return Err(AppError::invalid(format!("units[{i}].workload"), "must be a number >= 0"));
        }
        if !(u.potential.is_finite() && u.potential >= 0.0) {
            return Err(AppError::invalid(format!("units[{i}].potential"), "must be a number >= 0"));
        }
        if let (Some(x), Some(y)) = (u.x, u.y) {
            if !(x.is_finite() && y.is_finite()) {
                return Err(AppError::invalid(format!("units[{i}].x"), "coordinates must be numbers"));
            }
            points.push((x, y));
        }
        units.push(Unit { id: id.to_string(), workload: u.workload, potential: u.potential });
    }
    let locations = match &input.distances {
        Some(matrix) => {
            if matrix.len() != units.len() {
                return Err(AppError::invalid("distances", "one row per unit is needed"));
            }
            for (i, row) in matrix.iter().enumerate() {
                if row.len() != units.len() {
                    return Err(AppError::invalid(format!("distances[{i}]"), "one column per unit is needed"));
                }
                if let Some(j) = row.iter().position(|d| !(d.is_finite() && *d >= 0.0)) {
                    return Err(AppError::invalid(format!("distances[{i}][{j}]"), "must be a number >= 0"));
                }
            }
            Locations::Matrix(matrix.clone())
        }
        None if points.len() == units.len() => Locations::Coordinates(points),
        None => {
            let missing = input.units.iter().position(|u| u.x.is_none() || u.y.is_none()).unwrap_or(0);
            return Err(AppError::invalid(
                format!("units[{missing}].x"),
                "every unit needs x and y when no distance matrix is given",
            ));
        }
    };
    let mut rep_index: HashMap<&str, usize> = HashMap::new();
    let mut reps = Vec::with_capacity(input.reps.len());
    for (j, r) in input.reps.iter().enumerate() {
        let id = r.id.trim();
        if id.is_empty() {
            return Err(AppError::invalid(format!("reps[{j}].id"), "empty"));
        }
        if rep_index.insert(id, j).is_some() {
            return Err(AppError::invalid(format!("reps[{j}].id"), format!("rep '{id}' appears twice")));
        }
        let home = *unit_index
            .get(r.home.trim())
            .ok_or_else(|| AppError::invalid(format!("reps[{j}].home"), format!("unknown unit '{}'", r.home)))?;
        reps.push(Rep { id: id.to_string(), home });
    }
    let pair = |field: String, ur: &UnitRep| -> Result<(usize, usize), AppError> {
        let unit = *unit_index
            .get(ur.unit.trim())
            .ok_or_else(|| AppError::invalid(format!("{field}.unit"), format!("unknown unit '{}'", ur.unit)))?;
        let rep = *rep_index
            .get(ur.rep.trim())
            .ok_or_else(|| AppError::invalid(format!("{field}.rep"), format!("unknown rep '{}'", ur.rep)))?;
        Ok((unit, rep))
    };
    let mut current = vec![usize::MAX; units.len()];
    for (k, ur) in input.assignment.iter().enumerate() {
        let (unit, rep) = pair(format!("assignment[{k}]"), ur)?;
        if current[unit] != usize::MAX {
            return Err(AppError::invalid(
                format!("assignment[{k}].unit"),
                format!("unit '{}' is assigned twice", ur.unit),
            ));
        }
        current[unit] = rep;
    }
    if let Some(i) = current.iter().position(|&r| r == usize::MAX) {
        return Err(AppError::invalid("assignment", format!("unit '{}' has no rep today", units[i].id)));
    }
    let mut locks = Vec::with_capacity(input.locks.len());
    for (k, ur) in input.locks.iter().enumerate() {
        locks.push(pair(format!("locks[{k}]"), ur)?);
    }
    Ok(Instance { problem: BalanceProblem { units, reps, locations, current, bounds: (low, high), locks }, objective })
}

fn engine_error(e: BalanceError) -> AppError {
    match e {
        BalanceError::Invalid { place, message } => AppError::Invalid { field: place, message },
        BalanceError::Infeasible | BalanceError::NoneFound => AppError::invalid("bounds", e.to_string()),
        BalanceError::Solver(m) => AppError::Internal(format!("balancing solver: {m}")),
    }
}

fn names(problem: &BalanceProblem, assignment: &[usize]) -> Vec<UnitRep> {
    assignment
        .iter()
        .enumerate()
        .map(|(i, &r)| UnitRep { unit: problem.units[i].id.clone(), rep: problem.reps[r].id.clone() })
        .collect()
}

fn spread_dto(s: &planning::balance::Spread) -> SpreadDto {
    SpreadDto {
        min: s.min,
        max: s.max,
        mean: s.mean,
        coefficient_of_variation: s.coefficient_of_variation,
        gini: s.gini,
    }
}

/// The engine's figures of one assignment, as a DTO.
pub fn assessment_dto(a: &Assessment) -> AssessmentDto {
    AssessmentDto {
        per_rep: a
            .per_rep
            .iter()
            .map(|r| RepFiguresDto {
                rep: r.rep.clone(),
                units: r.units,
                workload: r.workload,
                potential: r.potential,
                distance: r.distance,
            })
            .collect(),
        workload: spread_dto(&a.workload),
        potential: spread_dto(&a.potential),
        total_distance: a.total_distance,
        disruption: a.disruption,
        units_moved: a.units_moved,
        within_bounds: a.within_bounds,
    }
}

/// The outcome as a DTO with names instead of indices.
pub fn outcome_dto(
    problem: &BalanceProblem,
    objective: Objective,
    outcome: &BalanceOutcome,
    diagnostics: &[planning::Diagnostic],
) -> BalanceResultDto {
    BalanceResultDto {
        objective: match objective {
            Objective::Distance => "distance",
            Objective::Disruption => "disruption",
        }
        .to_string(),
        assignment: names(problem, &outcome.assignment),
        objective_value: outcome.objective_value,
        lower_bound: outcome.lower_bound,
        gap: outcome.gap,
        proof: proof_name(outcome.proof),
        before: assessment_dto(&outcome.before),
        after: assessment_dto(&outcome.after),
        diagnostics: diagnostics.iter().map(|d| d.message.clone()).collect(),
    }
}

/// Balances a parsed instance (synchronous; callers in async code use [`App::balance_territories`]).
pub fn run_balance(instance: &Instance) -> Result<(BalanceOutcome, Vec<planning::Diagnostic>), AppError> {
    let options = BalanceOptions { objective: instance.objective, ..BalanceOptions::default() };
    planning::balance::balance(&instance.problem, &options).map_err(engine_error)
}

/// The Pareto front of a parsed instance (synchronous).
pub fn run_pareto(
    instance: &Instance,
    steps: usize,
) -> Result<(Vec<ParetoPoint>, Vec<planning::Diagnostic>), AppError> {
    let pairs = instance.problem.units.len() * instance.problem.reps.len();
    if pairs > MAX_PARETO_PAIRS {
        return Err(AppError::invalid(
            "units",
            format!("{pairs} unit × rep pairs; the Pareto front is limited to {MAX_PARETO_PAIRS} pairs per request"),
        ));
    }
    if steps == 0 || steps > MAX_PARETO_STEPS {
        return Err(AppError::invalid("steps", format!("must be between 1 and {MAX_PARETO_STEPS}")));
    }
    planning::balance::pareto_front(&instance.problem, steps, Method::Auto).map_err(engine_error)
}

/// The Pareto front as a DTO.
pub fn pareto_dto(problem: &BalanceProblem, points: &[ParetoPoint], diagnostics: &[planning::Diagnostic]) -> ParetoDto {
    ParetoDto {
        points: points
            .iter()
            .map(|p| ParetoPointDto {
                max_disruption: p.max_disruption,
                distance: p.distance,
                disruption: p.disruption,
                proof: proof_name(p.proof),
                assignment: names(problem, &p.assignment),
            })
            .collect(),
        diagnostics: diagnostics.iter().map(|d| d.message.clone()).collect(),
    }
}

fn require_planner(p: &Principal) -> Result<(), AppError> {
    if may_plan(p.user.role) { Ok(()) } else { Err(AppError::Forbidden) }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| AppError::Internal(format!("balancing task: {e}")))?
}

impl App {
    /// Balances territories (planners only). Reads and writes nothing in the store.
    pub async fn balance_territories(&self, p: &Principal, input: BalanceInput) -> Result<BalanceResultDto, AppError> {
        require_planner(p)?;
        let instance = instance(&input)?;
        blocking(move || {
            let (outcome, diagnostics) = run_balance(&instance)?;
            Ok(outcome_dto(&instance.problem, instance.objective, &outcome, &diagnostics))
        })
        .await
    }

    /// The distance–disruption Pareto front (planners only).
    pub async fn territory_pareto(&self, p: &Principal, input: BalanceInput) -> Result<ParetoDto, AppError> {
        require_planner(p)?;
        let steps = input.steps.unwrap_or(6);
        let instance = instance(&input)?;
        blocking(move || {
            let (points, diagnostics) = run_pareto(&instance, steps)?;
            Ok(pareto_dto(&instance.problem, &points, &diagnostics))
        })
        .await
    }

    /// Checks that the caller may open the planning pages.
    pub fn require_planner(&self, p: &Principal) -> Result<(), AppError> {
        require_planner(p)
    }
}

/// A recipient of a quota allocation with the figures the bases read (exact decimal text).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct QuotaRecipientInput {
    pub id: String,
    #[serde(default)]
    pub prior_year: Option<String>,
    #[serde(default)]
    pub trailing_twelve_months: Option<String>,
    #[serde(default)]
    pub potential: Option<String>,
    /// Share of a full year the recipient can sell (default 1).
    #[serde(default)]
    pub capacity: Option<String>,
}

/// One basis of a blend and its weight.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BlendPart {
    /// even, prior_year, ttm, potential or capacity
    pub basis: String,
    /// Exact decimal text.
    pub weight: String,
}

/// A top-down quota allocation request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct QuotaAllocateInput {
    /// Exact decimal text.
    pub target: String,
    pub currency: String,
    pub recipients: Vec<QuotaRecipientInput>,
    /// The blend of bases; one part for a single basis. Empty means even.
    #[serde(default)]
    pub method: Vec<BlendPart>,
}

/// One recipient's quota.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaDto {
    pub id: String,
    /// Exact decimal text.
    pub quota: String,
    pub currency: String,
}

/// The allocation: the parts sum exactly to the target.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaAllocationDto {
    pub allocations: Vec<QuotaDto>,
    pub diagnostics: Vec<String>,
}

/// Most recipients of one allocation request.
pub const MAX_RECIPIENTS: usize = 10_000;

/// Checks and runs a quota allocation (pure; errors name the field).
pub fn allocate_quotas(input: &QuotaAllocateInput) -> Result<QuotaAllocationDto, AppError> {
    use planning::quota::{AllocationMethod, Basis, Recipient, allocate};
    use rust_decimal::Decimal;
    let target = model::Money::parse(&input.target, &input.currency)?;
    if input.recipients.is_empty() {
        return Err(AppError::invalid("recipients", "at least one recipient is needed"));
    }
    if input.recipients.len() > MAX_RECIPIENTS {
        return Err(AppError::invalid("recipients", format!("at most {MAX_RECIPIENTS} recipients per request")));
    }
    let figure = |field: String, text: &Option<String>, default: Decimal| -> Result<Decimal, AppError> {
        match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(default),
            Some(t) => t.parse().map_err(|_| AppError::invalid(field, format!("'{t}' is not a number"))),
        }
    };
    let mut recipients = Vec::with_capacity(input.recipients.len());
    for (i, r) in input.recipients.iter().enumerate() {
        if r.id.trim().is_empty() {
            return Err(AppError::invalid(format!("recipients[{i}].id"), "empty"));
        }
        recipients.push(Recipient {
            id: r.id.trim().to_string(),
            prior_year: figure(format!("recipients[{i}].prior_year"), &r.prior_year, Decimal::ZERO)?,
            trailing_twelve_months: figure(
                format!("recipients[{i}].trailing_twelve_months"),
                &r.trailing_twelve_months,
                Decimal::ZERO,
            )?,
            potential: figure(format!("recipients[{i}].potential"), &r.potential, Decimal::ZERO)?,
            capacity: figure(format!("recipients[{i}].capacity"), &r.capacity, Decimal::ONE)?,
        });
    }
    let mut parts = Vec::new();
    for (k, part) in input.method.iter().enumerate() {
        let basis = match part.basis.trim() {
            "even" => Basis::Even,
            "prior_year" => Basis::PriorYear,
            "ttm" | "trailing_twelve_months" => Basis::TrailingTwelveMonths,
            "potential" => Basis::Potential,
            "capacity" => Basis::Capacity,
            other => {
                return Err(AppError::invalid(
                    format!("method[{k}].basis"),
                    format!("'{other}' is not even, prior_year, ttm, potential or capacity"),
                ));
            }
        };
        let weight = figure(format!("method[{k}].weight"), &Some(part.weight.clone()), Decimal::ONE)?;
        parts.push((basis, weight));
    }
    let method = match parts.len() {
        0 => AllocationMethod::Single(Basis::Even),
        _ => AllocationMethod::Blend(parts),
    };
    let (allocations, diagnostics) = allocate(target, &recipients, &method).map_err(|e| match e {
        planning::quota::QuotaError::NoRecipients => AppError::invalid("recipients", e.to_string()),
        planning::quota::QuotaError::Invalid { place, message } => {
            AppError::Invalid { field: place.replace("blend", "method"), message }
        }
    })?;
    Ok(QuotaAllocationDto {
        allocations: allocations
            .iter()
            .map(|a| QuotaDto {
                id: a.id.clone(),
                quota: a.quota.amount.to_string(),
                currency: a.quota.currency.code().to_string(),
            })
            .collect(),
        diagnostics: diagnostics.iter().map(|d| d.message.clone()).collect(),
    })
}

impl App {
    /// Allocates a target top down (planners only). Stores nothing.
    pub async fn allocate_quotas(
        &self,
        p: &Principal,
        input: QuotaAllocateInput,
    ) -> Result<QuotaAllocationDto, AppError> {
        require_planner(p)?;
        allocate_quotas(&input)
    }
}

/// A capacity (hiring) plan request; amounts and shares are exact decimal text.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CapacityPlanInput {
    /// Bookings target over the plan.
    pub target: String,
    pub currency: String,
    /// Bookings per month of a fully productive rep.
    pub productivity: String,
    /// Fully ramped reps on the team today (default 0).
    #[serde(default)]
    pub existing: Option<String>,
    /// Plan months (1–120, default 12).
    #[serde(default)]
    pub months: Option<usize>,
    /// Productivity by tenure month (default 0.25, 0.5, 0.75, 1).
    #[serde(default)]
    pub ramp: Vec<String>,
    /// Share of reps leaving each month (default 0).
    #[serde(default)]
    pub attrition: Option<String>,
    #[serde(default)]
    pub backfill: bool,
    /// Weights of the plan months (default flat).
    #[serde(default)]
    pub seasonality: Vec<String>,
    /// Fully loaded monthly cost of a rep (default 0).
    #[serde(default)]
    pub cost: Option<String>,
    /// Default 10.
    #[serde(default)]
    pub max_hires_per_month: Option<u32>,
}

/// Checks and runs a hiring plan (pure); the engine's `HiringPlan` as JSON.
pub fn capacity_plan(input: &CapacityPlanInput) -> Result<serde_json::Value, AppError> {
    use planning::capacity::{CapacityModel, Cohort, hiring_plan};
    use rust_decimal::Decimal;
    let target = model::Money::parse(&input.target, &input.currency)?;
    let number = |field: String, text: Option<&str>, default: Decimal| -> Result<Decimal, AppError> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(default),
            Some(t) => match t.parse::<Decimal>() {
                Ok(v) if !v.is_sign_negative() => Ok(v),
                _ => Err(AppError::invalid(field, format!("'{t}' is not a number >= 0"))),
            },
        }
    };
    let months = input.months.unwrap_or(12);
    if !(1..=120).contains(&months) {
        return Err(AppError::invalid("months", "must be between 1 and 120"));
    }
    let attrition = number("attrition".into(), input.attrition.as_deref(), Decimal::ZERO)?;
    if attrition >= Decimal::ONE {
        return Err(AppError::invalid("attrition", "a monthly share below 1, e.g. 0.015"));
    }
    let list = |name: &str, items: &[String]| -> Result<Vec<Decimal>, AppError> {
        items.iter().enumerate().map(|(k, t)| number(format!("{name}[{k}]"), Some(t), Decimal::ZERO)).collect()
    };
    let ramp = if input.ramp.is_empty() { planning::quota::standard_ramp() } else { list("ramp", &input.ramp)? };
    let model = CapacityModel {
        full_monthly_productivity: number("productivity".into(), Some(&input.productivity), Decimal::ZERO)?,
        currency: target.currency,
        productivity_by_tenure: ramp,
        monthly_attrition: attrition,
        backfill: input.backfill,
        seasonality: list("seasonality", &input.seasonality)?,
        cost_per_rep_month: number("cost".into(), input.cost.as_deref(), Decimal::ZERO)?,
    };
    let team =
        vec![Cohort { start_month: -120, count: number("existing".into(), input.existing.as_deref(), Decimal::ZERO)? }];
    let max = input.max_hires_per_month.unwrap_or(10);
    if max > 1_000 {
        return Err(AppError::invalid("max_hires_per_month", "at most 1000"));
    }
    let plan = hiring_plan(&model, target, &team, months, max);
    serde_json::to_value(&plan).map_err(|e| AppError::Internal(e.to_string()))
}

impl App {
    /// A hiring plan that reaches a target (planners only). Stores nothing.
    pub async fn plan_capacity(&self, p: &Principal, input: CapacityPlanInput) -> Result<serde_json::Value, AppError> {
        require_planner(p)?;
        capacity_plan(&input)
    }
}
