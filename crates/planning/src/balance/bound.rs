//! A stronger lower bound than the LP relaxation: relax "each unit goes to exactly one rep"
//! with multipliers `u_i` and keep each rep's workload bounds as a 0-1 knapsack.
//!
//! `L(u) = Σ_i u_i + Σ_j min { Σ_i (c_ij − u_i) x_ij : lo ≤ Σ_i w_i x_ij ≤ hi, x binary }`.
//! The knapsacks are solved exactly by depth-first branch and bound with the greedy LP bound,
//! so `L(u)` is a valid lower bound for any `u`; because a knapsack lacks the integrality
//! property, its best value can exceed the LP bound (Fisher, Jaikumar and Van Wassenhove's
//! bound for the generalised assignment problem). Should a knapsack exceed its node budget, its
//! LP value is used instead, which keeps the bound valid.

// Units and reps index several parallel tables; index loops read clearer than zipped iterators.
#![allow(clippy::needless_range_loop)]

use crate::balance::core::Costs;
use crate::balance::heuristic::{improve_from, offer};

/// Node budget per knapsack before falling back to its LP value.
const NODE_BUDGET: usize = 200_000;

/// Improve on `start_bound` by subgradient ascent on the knapsack Lagrangian, starting from
/// multipliers `start` (one per unit). `upper` is the best known feasible value (the Polyak
/// target, improved in place by the Lagrangian heuristic). Returns the best bound found (never
/// below `start_bound`) and the multipliers that prove it, if they beat `start_bound`.
pub(crate) fn knapsack_bound(
    costs: &Costs,
    start: Vec<f64>,
    start_bound: f64,
    incumbent: &mut (f64, Vec<usize>),
    iterations: usize,
) -> (f64, Option<Vec<f64>>) {
    let mut multipliers = start;
    let mut best = start_bound;
    let mut best_multipliers = None;
    let mut step_factor = 1.0;
    let mut since_improvement = 0;
    let mut chosen: Vec<Vec<usize>> = vec![Vec::new(); costs.reps];
    for iteration in 0..iterations {
        let upper = incumbent.0;
        let Some(value) = evaluate(costs, &multipliers, &mut chosen) else {
            return (best, best_multipliers);
        };
        if iteration % 5 == 0 {
            // Lagrangian heuristic: units the knapsacks agree on keep their rep; the others go
            // to their cheapest rep; repair and local search make it feasible and better.
            let mut start = vec![usize::MAX; costs.units];
            for (rep, units) in chosen.iter().enumerate() {
                for &unit in units {
                    let index = unit * costs.reps;
                    if start[unit] == usize::MAX || costs.primary[index + rep] < costs.primary[index + start[unit]] {
                        start[unit] = rep;
                    }
                }
            }
            for unit in 0..costs.units {
                if start[unit] == usize::MAX {
                    let row = &costs.primary[unit * costs.reps..(unit + 1) * costs.reps];
                    start[unit] = (0..costs.reps).min_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap_or(0);
                }
            }
            if let Some(candidate) = improve_from(costs, start, &vec![0.0; costs.reps]) {
                let mut best = Some(std::mem::take(incumbent));
                offer(costs, &mut best, candidate);
                if let Some(best) = best {
                    *incumbent = best;
                }
            }
        }
        if value > best + 1e-12 {
            best = value;
            best_multipliers = Some(multipliers.clone());
            since_improvement = 0;
        } else {
            since_improvement += 1;
            if since_improvement >= 10 {
                step_factor /= 2.0;
                since_improvement = 0;
            }
        }
        if upper - best <= 1e-9 * upper.abs().max(1.0) || step_factor < 1e-4 {
            break;
        }
        let mut gradient = vec![1.0; costs.units];
        for (unit, fixed) in costs.fixed.iter().enumerate() {
            if fixed.is_some() {
                gradient[unit] = 0.0;
            }
        }
        for units in &chosen {
            for &unit in units {
                gradient[unit] -= 1.0;
            }
        }
        let norm: f64 = gradient.iter().map(|g| g * g).sum();
        if norm <= 0.0 {
            break;
        }
        let step = step_factor * (upper - value).max(1e-9) / norm;
        for (multiplier, g) in multipliers.iter_mut().zip(&gradient) {
            *multiplier += step * g;
        }
    }
    (best, best_multipliers)
}

/// Reduced-cost fixing with the knapsack Lagrangian at `multipliers`: `open[unit][rep]` is false
/// when every assignment giving `unit` to `rep` costs more than `upper`. Forcing the pair changes
/// only rep `rep`'s knapsack (unit forced in) and the knapsacks that took the unit (forced out);
/// the bound with those knapsacks re-solved is compared with `upper`.
pub(crate) fn open_pairs(costs: &Costs, multipliers: &[f64], upper: f64) -> Option<Vec<Vec<bool>>> {
    let mut chosen: Vec<Vec<usize>> = vec![Vec::new(); costs.reps];
    let base = evaluate(costs, multipliers, &mut chosen)?;
    let mut base_load = vec![0.0; costs.reps];
    for unit in 0..costs.units {
        if let Some(rep) = costs.fixed[unit] {
            base_load[rep] += costs.workload[unit];
        }
    }
    let values: Vec<f64> = (0..costs.reps)
        .map(|rep| rep_knapsack(costs, multipliers, rep, base_load[rep], None).unwrap_or(f64::INFINITY))
        .collect();
    let mut taken_by: Vec<Vec<usize>> = vec![Vec::new(); costs.units];
    for (rep, units) in chosen.iter().enumerate() {
        for &unit in units {
            taken_by[unit].push(rep);
        }
    }
    let tolerance = 1e-9 * upper.abs().max(1.0);
    let mut open = vec![vec![true; costs.reps]; costs.units];
    for unit in 0..costs.units {
        if costs.fixed[unit].is_some() {
            continue;
        }
        // Cost of keeping the unit out of each knapsack that took it.
        let mut out_increase = vec![0.0; costs.reps];
        for &rep in &taken_by[unit] {
            out_increase[rep] = rep_knapsack(costs, multipliers, rep, base_load[rep], Some((unit, false)))
                .map_or(f64::INFINITY, |value| value - values[rep]);
        }
        let total_out: f64 = out_increase.iter().sum();
        for rep in 0..costs.reps {
            let in_increase = if taken_by[unit].contains(&rep) {
                0.0
            } else {
                rep_knapsack(costs, multipliers, rep, base_load[rep], Some((unit, true)))
                    .map_or(f64::INFINITY, |value| value - values[rep])
            };
            let forced = base + in_increase + (total_out - out_increase[rep]);
            if forced > upper + tolerance {
                open[unit][rep] = false;
            }
        }
    }
    Some(open)
}

/// One rep's knapsack value at `multipliers`, optionally with one unit forced in or out.
fn rep_knapsack(
    costs: &Costs,
    multipliers: &[f64],
    rep: usize,
    base_load: f64,
    force: Option<(usize, bool)>,
) -> Option<f64> {
    let mut low = costs.low - base_load;
    let mut high = costs.high - base_load;
    let mut extra = 0.0;
    let mut items = Vec::with_capacity(costs.units);
    for unit in 0..costs.units {
        if costs.fixed[unit].is_some() {
            continue;
        }
        let cost = costs.primary[unit * costs.reps + rep] - multipliers[unit];
        match force {
            Some((forced, true)) if forced == unit => {
                extra += cost;
                low -= costs.workload[unit];
                high -= costs.workload[unit];
            }
            Some((forced, false)) if forced == unit => {}
            _ => items.push(Item { unit, cost, weight: costs.workload[unit] }),
        }
    }
    knapsack(items, low, high).map(|(value, _)| value + extra)
}

/// `L(u)`; fills `chosen[rep]` with the units each knapsack takes. `None` if a rep's bounds
/// cannot be met at all (the instance is infeasible).
fn evaluate(costs: &Costs, multipliers: &[f64], chosen: &mut [Vec<usize>]) -> Option<f64> {
    let mut total = 0.0;
    let mut base_load = vec![0.0; costs.reps];
    for unit in 0..costs.units {
        match costs.fixed[unit] {
            Some(rep) => {
                total += costs.primary[unit * costs.reps + rep];
                base_load[rep] += costs.workload[unit];
            }
            None => total += multipliers[unit],
        }
    }
    for rep in 0..costs.reps {
        let items: Vec<Item> = (0..costs.units)
            .filter(|&unit| costs.fixed[unit].is_none())
            .map(|unit| Item {
                unit,
                cost: costs.primary[unit * costs.reps + rep] - multipliers[unit],
                weight: costs.workload[unit],
            })
            .collect();
        let (value, taken) = knapsack(items, costs.low - base_load[rep], costs.high - base_load[rep])?;
        total += value;
        chosen[rep] = taken;
    }
    Some(total)
}

/// A knapsack item: a unit, its cost if taken, its workload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Item {
    pub unit: usize,
    pub cost: f64,
    pub weight: f64,
}

/// Exact `min Σ cost·x` with `low ≤ Σ weight·x ≤ high`, x binary (or the LP value if the
/// node budget runs out). Returns the value and the units taken.
fn knapsack(items: Vec<Item>, low: f64, high: f64) -> Option<(f64, Vec<usize>)> {
    match solve_knapsack(items, low, high)? {
        Knapsack::Exact(value, taken) => Some((value, taken)),
        Knapsack::Bound(value) => Some((value, Vec::new())),
    }
}

/// A knapsack's answer: exact with the units taken, or only a lower bound (node budget spent).
pub(crate) enum Knapsack {
    Exact(f64, Vec<usize>),
    Bound(f64),
}

/// `min Σ cost·x` with `low ≤ Σ weight·x ≤ high`; `None` if infeasible.
pub(crate) fn solve_knapsack(mut items: Vec<Item>, low: f64, high: f64) -> Option<Knapsack> {
    let slack = 1e-9;
    if high < -slack {
        return None;
    }
    // Weightless items: take exactly the negative ones.
    let mut constant = 0.0;
    let mut taken_always = Vec::new();
    items.retain(|item| {
        if item.weight > 0.0 {
            return true;
        }
        if item.cost < 0.0 {
            constant += item.cost;
            taken_always.push(item.unit);
        }
        false
    });
    items.sort_by(|a, b| (a.cost / a.weight).total_cmp(&(b.cost / b.weight)));
    let total_weight: f64 = items.iter().map(|item| item.weight).sum();
    if total_weight < low - slack {
        return None;
    }
    let mut search =
        Search { items: &items, low, high, best: f64::INFINITY, best_set: Vec::new(), path: Vec::new(), nodes: 0 };
    search.dive(0, 0.0, 0.0);
    if search.nodes > NODE_BUDGET || !search.best.is_finite() {
        let root = lp_bound(&items, 0, 0.0, low, high);
        return root.map(|value| Knapsack::Bound(value + constant));
    }
    let mut taken = taken_always;
    taken.extend(search.best_set.iter().map(|&index| items[index].unit));
    Some(Knapsack::Exact(search.best + constant, taken))
}

struct Search<'a> {
    items: &'a [Item],
    low: f64,
    high: f64,
    best: f64,
    best_set: Vec<usize>,
    path: Vec<usize>,
    nodes: usize,
}

impl Search<'_> {
    fn dive(&mut self, next: usize, load: f64, cost: f64) {
        self.nodes += 1;
        if self.nodes > NODE_BUDGET {
            return;
        }
        let Some(bound) = lp_bound(self.items, next, load, self.low, self.high) else {
            return;
        };
        if cost + bound >= self.best - 1e-12 {
            return;
        }
        // Once the lower bound is met and only costly items remain (they are sorted by cost per
        // workload, so the next one tells), taking nothing more is best.
        if load >= self.low - 1e-9 && self.items.get(next).is_none_or(|item| item.cost >= 0.0) {
            self.best = cost;
            self.best_set = self.path.clone();
            return;
        }
        if next == self.items.len() {
            return;
        }
        let item = self.items[next];
        if load + item.weight <= self.high + 1e-9 {
            self.path.push(next);
            self.dive(next + 1, load + item.weight, cost + item.cost);
            self.path.pop();
        }
        self.dive(next + 1, load, cost);
    }
}

/// Greedy LP value of items `next..` given `load` already taken: take items in ratio order while
/// they pay (negative cost) and fit, then as much as needed to reach `low`. `None` if `low`
/// cannot be reached.
fn lp_bound(items: &[Item], next: usize, load: f64, low: f64, high: f64) -> Option<f64> {
    let mut load = load;
    let mut value = 0.0;
    for item in &items[next..] {
        let wanted = if item.cost < 0.0 { high - load } else { low - load };
        if wanted <= 0.0 {
            if item.cost < 0.0 {
                break;
            }
            return Some(value);
        }
        let fraction = (wanted / item.weight).min(1.0);
        value += fraction * item.cost;
        load += fraction * item.weight;
    }
    if load < low - 1e-9 { None } else { Some(value) }
}
