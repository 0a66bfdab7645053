//! Territory balancing (P2): assign sales units to reps so that every rep's workload lies within
//! bounds, each rep keeps their home unit, locked units stay put, and travel distance (or
//! disruption) is as small as possible.
//!
//! The problem is a generalised assignment problem with lower and upper capacities. Small and
//! medium instances are solved exactly (a MIP through `good_lp`/microlp after Lagrangian
//! reduced-cost fixing, see [`exact`]); large ones by a Lagrangian heuristic that reports its
//! proven lower bound and gap (see [`heuristic`]). `docs/planning.md` writes the model out.

mod assess;
mod bound;
mod core;
pub mod exact;
mod generate;
pub mod heuristic;
mod input;

pub use assess::{Assessment, RepFigures, Spread, assess, spread};
pub use generate::{bricks_instance, generate_instance};
pub use input::{InputError, read_instance};

use serde::Serialize;

use crate::Diagnostic;
use crate::balance::core::Costs;

/// One sales unit: a postal area, a pharmaceutical "brick" or an account.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unit {
    /// The unit's identifier as the user knows it (postal code, brick code, account id).
    pub id: String,
    /// Workload index: the effort the unit needs (calls, visits); the balancing measure.
    pub workload: f64,
    /// Sales potential: reported per rep before and after, not constrained.
    pub potential: f64,
}

/// A sales rep and the unit they live in (their home unit, which they always keep).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rep {
    /// The rep's identifier.
    pub id: String,
    /// Index into [`BalanceProblem::units`] of the rep's home unit.
    pub home: usize,
}

/// Where the units are: coordinates (Euclidean distance) or a full unit-by-unit distance matrix.
#[derive(Clone, Debug, PartialEq)]
pub enum Locations {
    /// `(x, y)` per unit, in the same order as the units.
    Coordinates(Vec<(f64, f64)>),
    /// `matrix[a][b]` is the distance from unit `a` to unit `b`; only the columns of home units are read.
    Matrix(Vec<Vec<f64>>),
}

impl Locations {
    /// Distance between unit `a` and unit `b`.
    pub fn distance(&self, a: usize, b: usize) -> f64 {
        match self {
            Locations::Coordinates(points) => {
                let (ax, ay) = points[a];
                let (bx, by) = points[b];
                ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt()
            }
            Locations::Matrix(matrix) => matrix[a][b],
        }
    }
}

/// A balancing instance: units, reps, locations, today's assignment, bounds and locks.
#[derive(Clone, Debug, PartialEq)]
pub struct BalanceProblem {
    /// The sales units.
    pub units: Vec<Unit>,
    /// The reps; each one's home unit is assigned to them in every solution.
    pub reps: Vec<Rep>,
    /// Unit locations.
    pub locations: Locations,
    /// Today's assignment: `current[unit]` is a rep index.
    pub current: Vec<usize>,
    /// Workload bounds as factors of the mean workload per rep, e.g. `(0.8, 1.2)`.
    pub bounds: (f64, f64),
    /// Units a manager has locked to a rep: `(unit index, rep index)`.
    pub locks: Vec<(usize, usize)>,
}

/// What the optimiser minimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Objective {
    /// Total workload-weighted distance: the sum over units of workload × distance from the unit
    /// to the home unit of its rep (a proxy for the travel a rep needs to serve the territory).
    Distance,
    /// Disruption: the workload-weighted share of units whose rep changes from today's assignment.
    Disruption,
}

/// Which algorithm to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Method {
    /// Exact up to [`EXACT_LIMIT`] unit-rep pairs, heuristic above.
    Auto,
    /// Always the MIP (may be slow on large instances).
    Exact,
    /// Always the Lagrangian heuristic.
    Heuristic,
}

/// Above this many unit × rep pairs, [`Method::Auto`] uses the heuristic.
pub const EXACT_LIMIT: usize = 5_000;

/// Options for [`balance`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BalanceOptions {
    /// What to minimise.
    pub objective: Objective,
    /// Optional epsilon constraint: disruption (a share, 0..=1) may not exceed this.
    pub max_disruption: Option<f64>,
    /// Exact, heuristic or automatic choice.
    pub method: Method,
    /// Subgradient iterations of the Lagrangian dual (bound quality versus time).
    pub lagrangian_iterations: usize,
    /// Wall-clock limit in seconds for the MIP's branch and bound. When it runs out, the best
    /// assignment is returned with its proven bound ([`Proof::Bounded`]). This is the one place
    /// where the engine's answer can depend on machine speed; `None` waits for the proof.
    pub mip_time_limit: Option<f64>,
}

impl Default for BalanceOptions {
    fn default() -> BalanceOptions {
        BalanceOptions {
            objective: Objective::Distance,
            max_disruption: None,
            method: Method::Auto,
            lagrangian_iterations: 3_000,
            mip_time_limit: Some(10.0),
        }
    }
}

/// How good the returned assignment is known to be.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Proof {
    /// The MIP solver finished branch and bound (or the Lagrangian bound met the solution):
    /// no assignment is better, up to floating-point tolerance.
    ProvenOptimal,
    /// A feasible assignment with a proven lower bound; the optimum lies in `[lower_bound, objective]`.
    Bounded,
}

/// The result of [`balance`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BalanceOutcome {
    /// The new assignment: `assignment[unit]` is a rep index.
    pub assignment: Vec<usize>,
    /// Objective value of the new assignment (distance, or disruption share).
    pub objective_value: f64,
    /// Proven lower bound on the objective of any feasible assignment.
    pub lower_bound: f64,
    /// Relative gap `(objective - bound) / objective` (0 when proven optimal).
    pub gap: f64,
    /// What is known about optimality.
    pub proof: Proof,
    /// Figures for today's assignment.
    pub before: Assessment,
    /// Figures for the new assignment.
    pub after: Assessment,
}

/// User errors: the instance cannot be balanced as given.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BalanceError {
    /// A field of the instance is invalid; `place` names it (e.g. `units[3].workload`).
    #[error("{place}: {message}")]
    Invalid {
        /// Where the problem is.
        place: String,
        /// What is wrong.
        message: String,
    },
    /// No assignment satisfies the bounds, home units, locks and disruption limit (proven by
    /// the exact method).
    #[error("no assignment satisfies the workload bounds, home units and locks")]
    Infeasible,
    /// The heuristic found no feasible assignment; the instance may still have one.
    #[error("the heuristic found no assignment within the workload bounds; try wider bounds or the exact method")]
    NoneFound,
    /// The MIP solver failed for a reason other than infeasibility.
    #[error("solver failed: {0}")]
    Solver(String),
}

/// Balance the territories of `problem`.
///
/// Returns the outcome and diagnostics (e.g. a lock on a home unit that agrees with the home,
/// today's assignment violating the bounds).
pub fn balance(
    problem: &BalanceProblem,
    options: &BalanceOptions,
) -> Result<(BalanceOutcome, Vec<Diagnostic>), BalanceError> {
    let mut diagnostics = Vec::new();
    let costs = Costs::build(problem, options, &mut diagnostics)?;
    let pairs = problem.units.len() * problem.reps.len();
    let use_exact = match options.method {
        Method::Exact => true,
        Method::Heuristic => false,
        Method::Auto => pairs <= EXACT_LIMIT,
    };
    let mut solved = if use_exact {
        exact::solve(&costs, options.lagrangian_iterations, options.mip_time_limit)?
    } else {
        heuristic::solve(&costs, options.lagrangian_iterations).ok_or(BalanceError::NoneFound)?
    };
    if options.objective == Objective::Disruption {
        // Many assignments move the same workload; among them prefer short distances. Local
        // search on distance with disruption capped at the value found never raises disruption,
        // so the optimality statement still holds.
        let achieved = costs.disruption_of(&solved.assignment);
        let tidy_options = BalanceOptions {
            objective: Objective::Distance,
            max_disruption: Some(options.max_disruption.map_or(achieved, |limit| limit.min(achieved))),
            ..options.clone()
        };
        let distance_costs = Costs::build(problem, &tidy_options, &mut Vec::new())?;
        heuristic::local_search(&distance_costs, &mut solved.assignment);
    }
    let before = assess(problem, &problem.current);
    let after = assess(problem, &solved.assignment);
    if !before.within_bounds {
        diagnostics.push(Diagnostic::info("today's assignment violates the workload bounds"));
    }
    let objective_value = costs.objective(&solved.assignment);
    let gap = relative_gap(objective_value, solved.lower_bound);
    Ok((
        BalanceOutcome {
            assignment: solved.assignment,
            objective_value,
            lower_bound: solved.lower_bound,
            gap,
            proof: solved.proof,
            before,
            after,
        },
        diagnostics,
    ))
}

/// Relative gap between a solution value and a lower bound, 0 when they meet.
pub fn relative_gap(value: f64, bound: f64) -> f64 {
    if value <= bound || value.abs() < 1e-12 { 0.0 } else { (value - bound) / value.abs() }
}

/// One point of the distance–disruption trade-off.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParetoPoint {
    /// The disruption limit used (share of workload).
    pub max_disruption: f64,
    /// Total workload-weighted distance of the solution.
    pub distance: f64,
    /// Disruption of the solution (share of workload).
    pub disruption: f64,
    /// Optimality status of this point.
    pub proof: Proof,
    /// The assignment, so a manager can pick it as a draft scenario.
    pub assignment: Vec<usize>,
}

/// The Pareto front between distance and disruption by an epsilon-constraint sweep: minimise
/// distance subject to disruption ≤ ε for `steps + 1` values of ε from the least possible
/// disruption to the disruption of the distance optimum. Dominated points are dropped.
pub fn pareto_front(
    problem: &BalanceProblem,
    steps: usize,
    method: Method,
) -> Result<(Vec<ParetoPoint>, Vec<Diagnostic>), BalanceError> {
    let base = BalanceOptions { method, ..BalanceOptions::default() };
    let (least_disruption, mut diagnostics) =
        balance(problem, &BalanceOptions { objective: Objective::Disruption, ..base.clone() })?;
    let (least_distance, _) = balance(problem, &base)?;
    let low = least_disruption.after.disruption;
    let high = least_distance.after.disruption;
    // The two ends are points of the front themselves.
    let end_point = |outcome: &BalanceOutcome, proof: Proof| ParetoPoint {
        max_disruption: outcome.after.disruption,
        distance: outcome.after.total_distance,
        disruption: outcome.after.disruption,
        proof,
        assignment: outcome.assignment.clone(),
    };
    let mut points: Vec<ParetoPoint> = Vec::new();
    let steps = steps.max(1);
    for step in 0..=steps {
        let epsilon = low + (high - low) * step as f64 / steps as f64;
        // A hair of slack so the endpoints stay feasible despite rounding.
        let limit = epsilon + 1e-9;
        let options = BalanceOptions { max_disruption: Some(limit), ..base.clone() };
        match balance(problem, &options) {
            Ok((outcome, _)) => points.push(ParetoPoint {
                max_disruption: epsilon,
                distance: outcome.after.total_distance,
                disruption: outcome.after.disruption,
                proof: outcome.proof,
                assignment: outcome.assignment,
            }),
            Err(error) => {
                diagnostics.push(Diagnostic::warning(format!("no point for disruption <= {epsilon:.4}: {error}")));
            }
        }
    }
    // After the sweep, so that a sweep point with the same figures (and its proof) is kept.
    // The least-disruption end did not minimise distance, hence `Bounded`.
    points.push(end_point(&least_disruption, Proof::Bounded));
    points.push(end_point(&least_distance, least_distance.proof));
    let mut front: Vec<ParetoPoint> = Vec::new();
    for point in &points {
        let dominated = points.iter().any(|other| {
            other.distance <= point.distance + 1e-9
                && other.disruption <= point.disruption + 1e-9
                && (other.distance < point.distance - 1e-9 || other.disruption < point.disruption - 1e-9)
        });
        let duplicate = front.iter().any(|kept| {
            (kept.distance - point.distance).abs() < 1e-9 && (kept.disruption - point.disruption).abs() < 1e-9
        });
        if !dominated && !duplicate {
            front.push(point.clone());
        }
    }
    front.sort_by(|a, b| a.disruption.total_cmp(&b.disruption));
    Ok((front, diagnostics))
}

/// Draft scenarios side by side: each named assignment assessed against the same problem
/// (today's assignment is `problem.current`; include it as "live" to compare with it).
pub fn compare_scenarios(problem: &BalanceProblem, scenarios: &[(String, Vec<usize>)]) -> Vec<(String, Assessment)> {
    scenarios.iter().map(|(name, assignment)| (name.clone(), assess(problem, assignment))).collect()
}
