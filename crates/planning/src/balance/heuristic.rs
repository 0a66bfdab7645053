//! The large-instance method: Lagrangian relaxation of the workload (and disruption) constraints
//! for a proven lower bound, with greedy repair and local search for feasible assignments.
//!
//! Relaxing the per-rep workload bounds with one free multiplier `π_j` per rep (`π_j > 0` prices
//! the upper bound, `π_j < 0` the lower bound) and the disruption limit with `ν ≥ 0` leaves a
//! problem that separates by unit: each unit picks the allowed rep with the least
//! `c_ij + π_j·w_i + ν·e_ij`. Its value `L(π, ν)` is a lower bound on every feasible assignment
//! for any multipliers; subgradient ascent (Polyak steps) pushes it up. Because the separated
//! problem has integral solutions, the best bound equals the LP relaxation's value.
//!
//! Every few iterations the relaxed assignment is repaired to feasibility (moving the cheapest
//! units out of overloaded and into underloaded reps) and improved by local search (single-unit
//! shifts, two-unit swaps and two-step ejection chains that keep all constraints). New
//! incumbents are polished by exact re-optimisation of pairs of neighbouring reps (a two-sided
//! knapsack). The best feasible assignment and the best bound give the reported gap.

// Units and reps index several parallel tables; index loops read clearer than zipped iterators.
#![allow(clippy::needless_range_loop)]

use crate::balance::Proof;
use crate::balance::bound::{Item, Knapsack, knapsack_bound, solve_knapsack};
use crate::balance::core::{Costs, Solved, TOLERANCE};

/// Multipliers and the lower bound they prove.
#[derive(Clone, Debug)]
pub(crate) struct Dual {
    pub bound: f64,
    pub price: Vec<f64>,
    pub disruption_price: f64,
}

/// The outcome of the Lagrangian search: the best bound and the best feasible assignment.
#[derive(Clone, Debug)]
pub(crate) struct Search {
    pub dual: Dual,
    pub best: Option<(f64, Vec<usize>)>,
}

/// Solve heuristically; `None` when no feasible assignment was found.
pub(crate) fn solve(costs: &Costs, iterations: usize) -> Option<Solved> {
    let search = search(costs, iterations);
    let mut incumbent = search.best?;
    let mut bound = search.dual.bound;
    if costs.max_disruption.is_none() && incumbent.0 - bound > 1e-9 * incumbent.0.abs().max(1.0) {
        let start: Vec<f64> = (0..costs.units)
            .map(|unit| {
                (0..costs.reps)
                    .map(|rep| priced(costs, &search.dual.price, search.dual.disruption_price, unit, rep))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        bound = knapsack_bound(costs, start, bound, &mut incumbent, (iterations / 10).max(50)).0;
    }
    let (value, assignment) = incumbent;
    let proven = value - bound <= 1e-9 * value.abs().max(1.0);
    Some(Solved {
        assignment,
        lower_bound: bound.min(value),
        proof: if proven { Proof::ProvenOptimal } else { Proof::Bounded },
    })
}

/// How many subgradient iterations between two primal (repair + local search) rounds.
const PRIMAL_EVERY: usize = 60;
/// Halve the step factor after this many iterations without a better bound.
const PATIENCE: usize = 25;

/// Subgradient ascent on the Lagrangian dual with periodic primal heuristics.
pub(crate) fn search(costs: &Costs, iterations: usize) -> Search {
    let reps = costs.reps;
    let mut price = vec![0.0; reps];
    let mut disruption_price = 0.0;
    let mut relaxed = vec![0; costs.units];
    let mut best_dual = Dual { bound: f64::NEG_INFINITY, price: price.clone(), disruption_price };
    let mut best: Option<(f64, Vec<usize>)> = None;
    let mut step_factor = 2.0;
    let mut since_improvement = 0;
    let disruption_limit = costs.max_disruption;

    for iteration in 0..iterations.max(1) {
        let value = lagrangian(costs, &price, disruption_price, &mut relaxed);
        if value > best_dual.bound {
            best_dual = Dual { bound: value, price: price.clone(), disruption_price };
            since_improvement = 0;
        } else {
            since_improvement += 1;
            if since_improvement >= PATIENCE {
                step_factor /= 2.0;
                since_improvement = 0;
            }
        }
        if iteration % PRIMAL_EVERY == 0
            && let Some(candidate) = improve_from(costs, relaxed.clone(), &price)
        {
            offer(costs, &mut best, candidate);
        }
        // Subgradient of the dual at the current multipliers.
        let loads = costs.loads(&relaxed);
        let mut gradient: Vec<f64> = (0..reps)
            .map(|rep| {
                let load = loads[rep];
                let bound = if price[rep] > 0.0 {
                    costs.high
                } else if price[rep] < 0.0 {
                    costs.low
                } else {
                    load.clamp(costs.low, costs.high)
                };
                load - bound
            })
            .collect();
        let mut disruption_gradient = 0.0;
        if let Some(limit) = disruption_limit {
            disruption_gradient = costs.disruption_of(&relaxed) - limit;
            if disruption_price <= 0.0 && disruption_gradient < 0.0 {
                disruption_gradient = 0.0;
            }
        }
        let norm: f64 = gradient.iter().map(|g| g * g).sum::<f64>() + disruption_gradient * disruption_gradient;
        if norm <= 1e-18 {
            // Complementary slackness holds: the relaxed assignment is feasible and optimal.
            let candidate_value = costs.objective(&relaxed);
            if costs.is_feasible(&relaxed) && best.as_ref().is_none_or(|(value, _)| candidate_value < *value) {
                best = Some((candidate_value, relaxed.clone()));
            }
            break;
        }
        let target = match &best {
            Some((upper, _)) => *upper,
            None => best_dual.bound.abs() * 1.05 + 1e-3,
        };
        let step = step_factor * (target - value).max(1e-9 * target.abs().max(1.0)) / norm;
        for (multiplier, g) in price.iter_mut().zip(gradient.iter_mut()) {
            *multiplier += step * *g;
        }
        disruption_price = (disruption_price + step * disruption_gradient).max(0.0);
        if step_factor < 1e-5 {
            break;
        }
        if let Some((upper, _)) = &best
            && upper - best_dual.bound <= 1e-9 * upper.abs().max(1.0)
        {
            break;
        }
    }
    // A last primal round from the best multipliers.
    lagrangian(costs, &best_dual.price, best_dual.disruption_price, &mut relaxed);
    if let Some(candidate) = improve_from(costs, relaxed, &best_dual.price) {
        offer(costs, &mut best, candidate);
    }
    Search { dual: best_dual, best }
}

/// Candidates up to this relative distance above the incumbent are polished.
const POLISH_WINDOW: f64 = 0.002;

/// Keep `candidate` if it beats the incumbent, after polishing it.
pub(crate) fn offer(costs: &Costs, best: &mut Option<(f64, Vec<usize>)>, mut candidate: Vec<usize>) {
    let value = costs.objective(&candidate);
    // Polishing can lift a near miss above the incumbent; far worse candidates are not worth it.
    if best.as_ref().is_some_and(|(incumbent, _)| value >= *incumbent + POLISH_WINDOW * incumbent.abs()) {
        return;
    }
    polish(costs, &mut candidate);
    let value = costs.objective(&candidate);
    if costs.is_feasible(&candidate) && best.as_ref().is_none_or(|(incumbent, _)| value < *incumbent - TOLERANCE) {
        *best = Some((value, candidate));
    }
}

/// The Lagrangian function: fills `relaxed` with each unit's cheapest rep under the priced
/// costs and returns the bound `L(π, ν)`.
pub(crate) fn lagrangian(costs: &Costs, price: &[f64], disruption_price: f64, relaxed: &mut [usize]) -> f64 {
    let reps = costs.reps;
    let mut total = 0.0;
    for unit in 0..costs.units {
        let (rep, value) = cheapest(costs, price, disruption_price, unit);
        relaxed[unit] = rep;
        total += value;
    }
    for &multiplier in price {
        total -= multiplier * if multiplier >= 0.0 { costs.high } else { costs.low };
    }
    if let Some(limit) = costs.max_disruption {
        total -= disruption_price * limit;
    }
    debug_assert_eq!(relaxed.len(), costs.units);
    debug_assert_eq!(price.len(), reps);
    total
}

/// Priced cost of giving `unit` to `rep`.
pub(crate) fn priced(costs: &Costs, price: &[f64], disruption_price: f64, unit: usize, rep: usize) -> f64 {
    let index = unit * costs.reps + rep;
    costs.primary[index] + price[rep] * costs.workload[unit] + disruption_price * costs.disruption[index]
}

fn cheapest(costs: &Costs, price: &[f64], disruption_price: f64, unit: usize) -> (usize, f64) {
    if let Some(rep) = costs.fixed[unit] {
        return (rep, priced(costs, price, disruption_price, unit, rep));
    }
    let mut best = (0, f64::INFINITY);
    for rep in 0..costs.reps {
        let value = priced(costs, price, disruption_price, unit, rep);
        if value < best.1 {
            best = (rep, value);
        }
    }
    best
}

/// Repair an assignment to feasibility (choosing moves by their priced cost, so units the
/// relaxation was undecided about move first), then improve it by local search.
pub(crate) fn improve_from(costs: &Costs, assignment: Vec<usize>, price: &[f64]) -> Option<Vec<usize>> {
    let mut assignment = repair(costs, assignment, price)?;
    local_search(costs, &mut assignment);
    costs.is_feasible(&assignment).then_some(assignment)
}

/// Polish a promising assignment: exact pair re-optimisation and local search until neither
/// improves (a few rounds at most). Used on new incumbents only, as it costs more than a repair.
pub(crate) fn polish(costs: &Costs, assignment: &mut [usize]) {
    if costs.max_disruption.is_some() {
        return;
    }
    for _ in 0..5 {
        if !pair_polish(costs, assignment) {
            break;
        }
        local_search(costs, assignment);
    }
}

fn cost(costs: &Costs, unit: usize, rep: usize) -> f64 {
    costs.primary[unit * costs.reps + rep]
}

/// Greedy repair: move the cheapest units out of the most overloaded rep, into the most
/// underloaded rep, and back to today's rep while disruption is over its limit.
fn repair(costs: &Costs, mut assignment: Vec<usize>, price: &[f64]) -> Option<Vec<usize>> {
    for (unit, rep) in assignment.iter_mut().enumerate() {
        if let Some(fixed) = costs.fixed[unit] {
            *rep = fixed;
        }
    }
    let mut loads = costs.loads(&assignment);
    let limit = 20 * costs.units + 100;
    for _ in 0..limit {
        let (worst, violation) = loads
            .iter()
            .enumerate()
            .map(|(rep, &load)| (rep, (load - costs.high).max(costs.low - load)))
            .fold((0, f64::NEG_INFINITY), |acc, item| if item.1 > acc.1 { item } else { acc });
        if violation <= TOLERANCE {
            break;
        }
        let overloaded = loads[worst] > costs.high;
        // Candidate moves (unit, from, to) with their cost change; prefer moves that do not
        // create a new violation.
        let mut chosen: Option<(usize, usize, f64, bool)> = None;
        for unit in 0..costs.units {
            if costs.fixed[unit].is_some() {
                continue;
            }
            let from = assignment[unit];
            let weight = costs.workload[unit];
            let targets: Vec<usize> = if overloaded {
                if from != worst {
                    continue;
                }
                (0..costs.reps).filter(|&rep| rep != worst).collect()
            } else {
                if from == worst {
                    continue;
                }
                vec![worst]
            };
            for to in targets {
                let clean =
                    loads[to] + weight <= costs.high + TOLERANCE && loads[from] - weight >= costs.low - TOLERANCE;
                let delta = cost(costs, unit, to) - cost(costs, unit, from) + (price[to] - price[from]) * weight;
                let better = match chosen {
                    None => true,
                    Some((_, _, best_delta, best_clean)) => {
                        (clean && !best_clean) || (clean == best_clean && delta < best_delta)
                    }
                };
                if better {
                    chosen = Some((unit, to, delta, clean));
                }
            }
        }
        let (unit, to, _, _) = chosen?;
        let from = assignment[unit];
        loads[from] -= costs.workload[unit];
        loads[to] += costs.workload[unit];
        assignment[unit] = to;
    }
    if let Some(limit) = costs.max_disruption {
        let mut disruption = costs.disruption_of(&assignment);
        while disruption > limit + TOLERANCE {
            // Send back the unit whose return costs least per unit of disruption removed.
            let mut chosen: Option<(usize, usize, f64)> = None;
            for unit in 0..costs.units {
                let from = assignment[unit];
                let saved = costs.disruption[unit * costs.reps + from];
                if saved <= 0.0 || costs.fixed[unit].is_some() {
                    continue;
                }
                for to in 0..costs.reps {
                    let gain = saved - costs.disruption[unit * costs.reps + to];
                    if to == from || gain <= 0.0 {
                        continue;
                    }
                    let weight = costs.workload[unit];
                    if loads[to] + weight > costs.high + TOLERANCE || loads[from] - weight < costs.low - TOLERANCE {
                        continue;
                    }
                    let ratio = (cost(costs, unit, to) - cost(costs, unit, from)) / gain;
                    if chosen.is_none_or(|(_, _, best)| ratio < best) {
                        chosen = Some((unit, to, ratio));
                    }
                }
            }
            let (unit, to, _) = chosen?;
            let from = assignment[unit];
            loads[from] -= costs.workload[unit];
            loads[to] += costs.workload[unit];
            disruption -= costs.disruption[unit * costs.reps + from] - costs.disruption[unit * costs.reps + to];
            assignment[unit] = to;
        }
    }
    costs.is_feasible(&assignment).then_some(assignment)
}

/// How many of a unit's cheapest reps the swap neighbourhood considers.
const SWAP_CANDIDATES: usize = 12;

/// First-improvement local search with shifts and swaps, keeping every constraint.
pub(crate) fn local_search(costs: &Costs, assignment: &mut [usize]) {
    let reps = costs.reps;
    let mut loads = costs.loads(assignment);
    let mut disruption = costs.disruption_of(assignment);
    let limit = costs.max_disruption.unwrap_or(f64::INFINITY);
    let candidates: Vec<Vec<usize>> = (0..costs.units)
        .map(|unit| {
            let mut order: Vec<usize> = (0..reps).collect();
            order.sort_by(|&a, &b| cost(costs, unit, a).total_cmp(&cost(costs, unit, b)));
            order.truncate(SWAP_CANDIDATES);
            order
        })
        .collect();
    let within = |load: f64| load >= costs.low - TOLERANCE && load <= costs.high + TOLERANCE;
    for _pass in 0..200 {
        let mut improved = false;
        // Shifts.
        for unit in 0..costs.units {
            if costs.fixed[unit].is_some() {
                continue;
            }
            let from = assignment[unit];
            let weight = costs.workload[unit];
            if !within(loads[from] - weight) {
                continue;
            }
            for to in 0..reps {
                if to == from || !within(loads[to] + weight) {
                    continue;
                }
                let delta = cost(costs, unit, to) - cost(costs, unit, from);
                let disruption_delta = costs.disruption[unit * reps + to] - costs.disruption[unit * reps + from];
                if delta < -1e-12 && disruption + disruption_delta <= limit + TOLERANCE {
                    loads[from] -= weight;
                    loads[to] += weight;
                    disruption += disruption_delta;
                    assignment[unit] = to;
                    improved = true;
                    break;
                }
            }
        }
        // Swaps between a unit and a unit of one of its cheapest reps.
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); reps];
        for (unit, &rep) in assignment.iter().enumerate() {
            if costs.fixed[unit].is_none() {
                members[rep].push(unit);
            }
        }
        for unit in 0..costs.units {
            if costs.fixed[unit].is_some() {
                continue;
            }
            for &to in &candidates[unit] {
                let from = assignment[unit];
                if to == from {
                    continue;
                }
                for &other in &members[to] {
                    if assignment[other] != to {
                        continue;
                    }
                    let delta = cost(costs, unit, to) + cost(costs, other, from)
                        - cost(costs, unit, from)
                        - cost(costs, other, to);
                    if delta >= -1e-12 {
                        continue;
                    }
                    let shift = costs.workload[unit] - costs.workload[other];
                    if !within(loads[from] - shift) || !within(loads[to] + shift) {
                        continue;
                    }
                    let disruption_delta = costs.disruption[unit * reps + to] + costs.disruption[other * reps + from]
                        - costs.disruption[unit * reps + from]
                        - costs.disruption[other * reps + to];
                    if disruption + disruption_delta > limit + TOLERANCE {
                        continue;
                    }
                    loads[from] -= shift;
                    loads[to] += shift;
                    disruption += disruption_delta;
                    assignment[unit] = to;
                    assignment[other] = from;
                    improved = true;
                    break;
                }
            }
        }
        // Ejection chains of two: `unit` moves from `first` to `second`, which passes one of
        // its units on to a third rep. Reaches improvements that bounds block for shifts and swaps.
        for unit in 0..costs.units {
            if costs.fixed[unit].is_some() {
                continue;
            }
            'chain: for &second in &candidates[unit] {
                let first = assignment[unit];
                if second == first {
                    continue;
                }
                let weight = costs.workload[unit];
                if !within(loads[first] - weight) {
                    break;
                }
                let gain_in = cost(costs, unit, second) - cost(costs, unit, first);
                for &other in &members[second] {
                    if assignment[other] != second || other == unit {
                        continue;
                    }
                    let other_weight = costs.workload[other];
                    if !within(loads[second] + weight - other_weight) {
                        continue;
                    }
                    for &third in &candidates[other] {
                        if third == second || third == first || !within(loads[third] + other_weight) {
                            continue;
                        }
                        let delta = gain_in + cost(costs, other, third) - cost(costs, other, second);
                        if delta >= -1e-12 {
                            continue;
                        }
                        let disruption_delta = costs.disruption[unit * reps + second]
                            - costs.disruption[unit * reps + first]
                            + costs.disruption[other * reps + third]
                            - costs.disruption[other * reps + second];
                        if disruption + disruption_delta > limit + TOLERANCE {
                            continue;
                        }
                        loads[first] -= weight;
                        loads[second] += weight - other_weight;
                        loads[third] += other_weight;
                        disruption += disruption_delta;
                        assignment[unit] = second;
                        assignment[other] = third;
                        improved = true;
                        break 'chain;
                    }
                }
            }
        }
        if !improved {
            break;
        }
    }
}

/// How many of each unit's cheapest other reps make a neighbouring rep for [`pair_polish`].
const POLISH_NEIGHBOURS: usize = 3;

/// Re-optimise pairs of neighbouring reps exactly: with every other rep fixed, splitting the two
/// reps' units between them is a two-sided knapsack (which units go to the first rep), solved
/// exactly. This reaches multi-unit exchanges that shifts, swaps and chains miss. Returns
/// whether anything improved. Only without a disruption limit (the knapsack ignores it).
fn pair_polish(costs: &Costs, assignment: &mut [usize]) -> bool {
    let reps = costs.reps;
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); reps];
    for unit in 0..costs.units {
        let own = assignment[unit];
        let mut order: Vec<usize> = (0..reps).filter(|&rep| rep != own).collect();
        order.sort_by(|&a, &b| cost(costs, unit, a).total_cmp(&cost(costs, unit, b)));
        for &other in order.iter().take(POLISH_NEIGHBOURS) {
            let (first, second) = (own.min(other), own.max(other));
            if !neighbours[first].contains(&second) {
                neighbours[first].push(second);
            }
        }
    }
    let mut improved = false;
    for first in 0..reps {
        for &second in &neighbours[first].clone() {
            improved |= polish_pair(costs, assignment, first, second);
        }
    }
    improved
}

fn polish_pair(costs: &Costs, assignment: &mut [usize], first: usize, second: usize) -> bool {
    let mut fixed_first = 0.0;
    let mut total = 0.0;
    let mut items = Vec::new();
    let mut current = 0.0;
    for unit in 0..costs.units {
        let rep = assignment[unit];
        if rep != first && rep != second {
            continue;
        }
        let weight = costs.workload[unit];
        total += weight;
        match costs.fixed[unit] {
            Some(fixed) => {
                if fixed == first {
                    fixed_first += weight;
                }
            }
            None => {
                let relative = cost(costs, unit, first) - cost(costs, unit, second);
                if rep == first {
                    current += relative;
                }
                items.push(Item { unit, cost: relative, weight });
            }
        }
    }
    // Load of the first rep must keep both reps within bounds.
    let low = costs.low.max(total - costs.high) - fixed_first;
    let high = costs.high.min(total - costs.low) - fixed_first;
    let Some(Knapsack::Exact(value, taken)) = solve_knapsack(items.clone(), low, high) else {
        return false;
    };
    if value >= current - 1e-12 {
        return false;
    }
    for item in &items {
        assignment[item.unit] = second;
    }
    for unit in taken {
        assignment[unit] = first;
    }
    true
}
