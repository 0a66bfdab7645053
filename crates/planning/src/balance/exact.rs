//! The exact method: a MIP solved by microlp (pure Rust branch and bound) through `good_lp`.
//!
//! Model, with `x_ij = 1` when unit `i` goes to rep `j`, `w_i` the workload, `c_ij` the
//! objective coefficient (`w_i · d(i, home_j)` for distance, `w_i / W` when `j` is not today's
//! rep for disruption) and `e_ij` the disruption coefficient:
//!
//! ```text
//! minimise    Σ_ij c_ij x_ij
//! subject to  Σ_j x_ij = 1                       for every unit i
//!             L·W/m ≤ Σ_i w_i x_ij ≤ U·W/m       for every rep j
//!             x_ij = 1                           for home units and locks
//!             Σ_ij e_ij x_ij ≤ ε                 (only for the epsilon constraint)
//!             x_ij ∈ {0, 1}
//! ```
//!
//! Before the MIP, the Lagrangian search of [`crate::balance::heuristic`] gives a lower bound
//! `LB` and a feasible assignment of value `UB`. Reduced-cost fixing then drops every pair whose
//! Lagrangian reduced cost `r_ij` satisfies `LB + r_ij > UB`: any assignment using it costs more
//! than `UB`, so the optimum is never cut off. A second fixing round uses the stronger knapsack
//! Lagrangian of [`crate::balance`]'s bound module (each pair forced in, the knapsacks it touches
//! re-solved exactly), repeated on the reduced problem (closed pairs priced out) while it
//! closes more. On the 100 × 10 benchmark this leaves 30 to 90 of the thousand pairs open.
//! The MIP starts from the heuristic's assignment.
//! With a time limit (see [`crate::balance::BalanceOptions::mip_time_limit`]) microlp may stop
//! early; the result is then the best assignment with the proven Lagrangian bound.
//! Optimality is known when microlp reports `ProvenOptimal` (its branch and bound closed every
//! node), or earlier when `UB − LB` is within 1e-9 relative.

use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus, SolverModel, Variable,
    WithInitialSolution, WithTimeLimit, microlp, variable,
};

use crate::balance::bound::{knapsack_bound, open_pairs};
use crate::balance::core::{Costs, Solved};
use crate::balance::heuristic::{self, priced};
use crate::balance::{BalanceError, Proof};

/// Knapsack Lagrangian rounds run for a better bound and starting assignment.
const KNAPSACK_ROUNDS: usize = 100;

/// Most extra rounds of knapsack fixing on the reduced problem (they stop earlier once a round
/// closes little), and their length in subgradient steps.
const FIXING_ROUNDS: usize = 10;
const FIXING_ROUND_LENGTH: usize = 40;

/// The problem restricted to `open` pairs: closed pairs get a prohibitive cost, units with one
/// open pair are fixed to it.
fn reduce(costs: &Costs, open: &[Vec<bool>], upper: f64) -> Costs {
    let mut reduced = costs.clone();
    let prohibitive = 1e3 * (upper.abs() + 1.0);
    for (unit, row) in open.iter().enumerate() {
        if costs.fixed[unit].is_some() {
            continue;
        }
        let reps: Vec<usize> = (0..costs.reps).filter(|&rep| row[rep]).collect();
        for (rep, &is_open) in row.iter().enumerate() {
            if !is_open {
                reduced.primary[unit * costs.reps + rep] = prohibitive;
            }
        }
        if let [only] = reps[..] {
            reduced.fixed[unit] = Some(only);
        }
    }
    reduced
}

/// Solve to proven optimality (or report the bound if microlp stops early).
pub(crate) fn solve(costs: &Costs, iterations: usize, time_limit: Option<f64>) -> Result<Solved, BalanceError> {
    let mut search = heuristic::search(costs, iterations);
    let mut knapsack_fixing: Option<Vec<Vec<bool>>> = None;
    let mut knapsack_lower = f64::NEG_INFINITY;
    // A few rounds of the knapsack Lagrangian heuristic improve the starting assignment, so
    // reduced-cost fixing removes more pairs.
    if costs.max_disruption.is_none()
        && let Some(incumbent) = search.best.as_mut()
    {
        let start: Vec<f64> = (0..costs.units)
            .map(|unit| {
                (0..costs.reps)
                    .map(|rep| priced(costs, &search.dual.price, search.dual.disruption_price, unit, rep))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        let (bound, multipliers) = knapsack_bound(costs, start, search.dual.bound, incumbent, KNAPSACK_ROUNDS);
        knapsack_lower = bound;
        if let Some(mut multipliers) = multipliers {
            knapsack_fixing = open_pairs(costs, &multipliers, incumbent.0);
            // Fixing rounds on the reduced problem: closed pairs priced out, single-rep units
            // fixed. Any assignment better than the incumbent uses open pairs only, so bounds
            // and fixing on the reduced problem stay valid for it.
            let count = |open: &Vec<Vec<bool>>| {
                open.iter().map(|row| row.iter().filter(|&&is_open| is_open).count()).sum::<usize>()
            };
            let mut previous = usize::MAX;
            for _ in 0..FIXING_ROUNDS {
                let Some(open) = knapsack_fixing.as_ref() else { break };
                // Stop once a round closes less than a tenth of what is open.
                let now = count(open);
                if now.saturating_mul(10) > previous.saturating_mul(9) {
                    break;
                }
                previous = now;
                let reduced = reduce(costs, open, incumbent.0);
                let (bound, better) =
                    knapsack_bound(&reduced, multipliers.clone(), f64::NEG_INFINITY, incumbent, FIXING_ROUND_LENGTH);
                knapsack_lower = knapsack_lower.max(bound.min(incumbent.0));
                if let Some(better) = better {
                    multipliers = better;
                }
                match open_pairs(&reduced, &multipliers, incumbent.0) {
                    Some(tighter) => {
                        let merged: Vec<Vec<bool>> = open
                            .iter()
                            .zip(&tighter)
                            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| *x && *y).collect())
                            .collect();
                        knapsack_fixing = Some(merged);
                    }
                    None => break,
                }
            }
        }
    }
    let dual = &search.dual;
    let proven_bound = dual.bound.max(knapsack_lower);
    if let Some((value, assignment)) = &search.best
        && value - proven_bound <= 1e-9 * value.abs().max(1.0)
    {
        return Ok(Solved { assignment: assignment.clone(), lower_bound: *value, proof: Proof::ProvenOptimal });
    }

    // Reduced-cost fixing: which pairs can still be in an optimal assignment.
    let mut open: Vec<Vec<usize>> = Vec::with_capacity(costs.units);
    for unit in 0..costs.units {
        if let Some(rep) = costs.fixed[unit] {
            open.push(vec![rep]);
            continue;
        }
        let priced_costs: Vec<f64> =
            (0..costs.reps).map(|rep| priced(costs, &dual.price, dual.disruption_price, unit, rep)).collect();
        let least = priced_costs.iter().copied().fold(f64::INFINITY, f64::min);
        let reps: Vec<usize> = match &search.best {
            Some((upper, _)) => (0..costs.reps)
                .filter(|&rep| dual.bound + (priced_costs[rep] - least) <= upper + 1e-9 * upper.abs().max(1.0))
                .filter(|&rep| knapsack_fixing.as_ref().is_none_or(|open| open[unit][rep]))
                .collect(),
            None => (0..costs.reps).collect(),
        };
        // Float noise must never close every rep of a unit: keep the incumbent's.
        match (&search.best, reps.is_empty()) {
            (Some((_, assignment)), true) => open.push(vec![assignment[unit]]),
            _ => open.push(reps),
        }
    }

    let mut variables = ProblemVariables::new();
    let mut pair_variables: Vec<Vec<(usize, Variable)>> = Vec::with_capacity(costs.units);
    for reps in &open {
        let row = if reps.len() > 1 {
            reps.iter().map(|&rep| (rep, variables.add(variable().binary()))).collect()
        } else {
            Vec::new()
        };
        pair_variables.push(row);
    }
    let mut objective = Expression::from(0.0);
    let mut load: Vec<Expression> = (0..costs.reps).map(|_| Expression::from(0.0)).collect();
    let mut disruption = Expression::from(0.0);
    let mut choose_one = Vec::new();
    for unit in 0..costs.units {
        let weight = costs.workload[unit];
        if pair_variables[unit].is_empty() {
            let rep = open[unit][0];
            load[rep] += weight;
            disruption += costs.disruption[unit * costs.reps + rep];
            continue;
        }
        let mut one = Expression::from(0.0);
        for &(rep, x) in &pair_variables[unit] {
            let index = unit * costs.reps + rep;
            objective.add_mul(costs.primary[index], x);
            load[rep].add_mul(weight, x);
            disruption.add_mul(costs.disruption[index], x);
            one += x;
        }
        choose_one.push(one);
    }
    let mut model = variables.minimise(objective.clone()).using(microlp);
    if let Some((_, assignment)) = &search.best {
        let start: Vec<(Variable, f64)> = pair_variables
            .iter()
            .enumerate()
            .flat_map(|(unit, row)| {
                row.iter().map(move |&(rep, x)| (x, if assignment[unit] == rep { 1.0 } else { 0.0 }))
            })
            .collect();
        model = model.with_initial_solution(start);
    }
    if let Some(seconds) = time_limit {
        model = model.with_time_limit(seconds);
    }
    for one in choose_one {
        model.add_constraint(one.eq(1.0));
    }
    for expression in load {
        model.add_constraint(expression.clone().geq(costs.low));
        model.add_constraint(expression.leq(costs.high));
    }
    if let Some(limit) = costs.max_disruption {
        model.add_constraint(disruption.leq(limit));
    }
    let solution = match model.solve() {
        Ok(solution) => solution,
        Err(ResolutionError::Infeasible) => {
            return match search.best {
                Some((_, assignment)) => Ok(Solved { assignment, lower_bound: proven_bound, proof: Proof::Bounded }),
                None => Err(BalanceError::Infeasible),
            };
        }
        // The time limit ran out before microlp had an assignment of its own.
        Err(_) if search.best.is_some() && time_limit.is_some() => {
            let (_, assignment) = search.best.clone().unwrap_or_default();
            return Ok(Solved { assignment, lower_bound: proven_bound, proof: Proof::Bounded });
        }
        Err(other) => return Err(BalanceError::Solver(other.to_string())),
    };
    let mut assignment: Vec<usize> = open.iter().map(|reps| reps[0]).collect();
    for (unit, row) in pair_variables.iter().enumerate() {
        if let Some(&(rep, _)) = row.iter().max_by(|a, b| solution.value(a.1).total_cmp(&solution.value(b.1))) {
            assignment[unit] = rep;
        }
    }
    let value = costs.objective(&assignment);
    let proven = matches!(solution.status(), SolutionStatus::Optimal) && costs.is_feasible(&assignment);
    if let Some((best_value, best_assignment)) = &search.best
        && (*best_value < value - 1e-9 || !costs.is_feasible(&assignment))
    {
        // The solver's rounding lost a little; the heuristic's assignment is as good.
        let lower_bound = if proven { value.min(*best_value) } else { proven_bound };
        return Ok(Solved {
            assignment: best_assignment.clone(),
            lower_bound,
            proof: if proven { Proof::ProvenOptimal } else { Proof::Bounded },
        });
    }
    if !costs.is_feasible(&assignment) {
        return Err(BalanceError::Solver("the solver returned an assignment that breaks a constraint".into()));
    }
    Ok(Solved {
        assignment,
        lower_bound: if proven { value } else { proven_bound },
        proof: if proven { Proof::ProvenOptimal } else { Proof::Bounded },
    })
}
