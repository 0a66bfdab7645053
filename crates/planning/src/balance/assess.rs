//! Before/after figures of an assignment: per-rep workload, potential and distance, and the
//! fairness spread (min, max, coefficient of variation, Gini).

use serde::Serialize;

use crate::balance::BalanceProblem;

/// Figures for one rep under an assignment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RepFigures {
    /// The rep's id.
    pub rep: String,
    /// Number of units assigned.
    pub units: usize,
    /// Sum of the units' workload.
    pub workload: f64,
    /// Sum of the units' potential.
    pub potential: f64,
    /// Workload-weighted distance from the units to the rep's home unit.
    pub distance: f64,
}

/// Spread of a figure across reps.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value.
    pub mean: f64,
    /// Coefficient of variation: population standard deviation / mean.
    pub coefficient_of_variation: f64,
    /// Gini coefficient (0 = perfectly equal, 1 = all with one rep).
    pub gini: f64,
}

/// Figures for a whole assignment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessment {
    /// One row per rep, in rep order.
    pub per_rep: Vec<RepFigures>,
    /// Spread of workload.
    pub workload: Spread,
    /// Spread of potential.
    pub potential: Spread,
    /// Total workload-weighted distance.
    pub total_distance: f64,
    /// Workload-weighted share of units whose rep differs from today's assignment.
    pub disruption: f64,
    /// Number of units whose rep differs from today's assignment.
    pub units_moved: usize,
    /// Whether every rep's workload lies within the bounds.
    pub within_bounds: bool,
}

/// Assess `assignment` (a rep index per unit) against `problem`.
pub fn assess(problem: &BalanceProblem, assignment: &[usize]) -> Assessment {
    let mut per_rep: Vec<RepFigures> = problem
        .reps
        .iter()
        .map(|rep| RepFigures { rep: rep.id.clone(), units: 0, workload: 0.0, potential: 0.0, distance: 0.0 })
        .collect();
    let mut moved_workload = 0.0;
    let mut units_moved = 0;
    for (unit_index, (&rep, unit)) in assignment.iter().zip(&problem.units).enumerate() {
        let figures = &mut per_rep[rep];
        figures.units += 1;
        figures.workload += unit.workload;
        figures.potential += unit.potential;
        figures.distance += unit.workload * problem.locations.distance(unit_index, problem.reps[rep].home);
        if problem.current.get(unit_index) != Some(&rep) {
            units_moved += 1;
            moved_workload += unit.workload;
        }
    }
    let total_workload: f64 = problem.units.iter().map(|unit| unit.workload).sum();
    let workloads: Vec<f64> = per_rep.iter().map(|figures| figures.workload).collect();
    let potentials: Vec<f64> = per_rep.iter().map(|figures| figures.potential).collect();
    let mean = total_workload / problem.reps.len().max(1) as f64;
    let (low, high) = problem.bounds;
    let within_bounds = workloads.iter().all(|&load| load >= low * mean - 1e-9 && load <= high * mean + 1e-9);
    Assessment {
        total_distance: per_rep.iter().map(|figures| figures.distance).sum(),
        per_rep,
        workload: spread(&workloads),
        potential: spread(&potentials),
        disruption: if total_workload > 0.0 { moved_workload / total_workload } else { 0.0 },
        units_moved,
        within_bounds,
    }
}

/// Min, max, mean, coefficient of variation and Gini of `values` (all 0 for an empty slice).
pub fn spread(values: &[f64]) -> Spread {
    if values.is_empty() {
        return Spread { min: 0.0, max: 0.0, mean: 0.0, coefficient_of_variation: 0.0, gini: 0.0 };
    }
    let count = values.len() as f64;
    let mean = values.iter().sum::<f64>() / count;
    let variance = values.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / count;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    // Gini = Σ_i (2i − n − 1)·x_(i) / (n · Σ x), with i from 1 over sorted values.
    let total: f64 = sorted.iter().sum();
    let gini = if total.abs() < 1e-300 {
        0.0
    } else {
        sorted.iter().enumerate().map(|(index, value)| (2.0 * (index as f64 + 1.0) - count - 1.0) * value).sum::<f64>()
            / (count * total)
    };
    Spread {
        min: sorted[0],
        max: sorted[sorted.len() - 1],
        mean,
        coefficient_of_variation: if mean.abs() < 1e-300 { 0.0 } else { variance.sqrt() / mean },
        gini,
    }
}
