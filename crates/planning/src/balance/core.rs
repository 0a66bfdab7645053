//! The validated, flattened form of a balancing instance that both solvers work on.

use crate::Diagnostic;
use crate::balance::{BalanceError, BalanceOptions, BalanceProblem, Locations, Objective, Proof};

/// Cost tables and constraints, validated. Index `unit * reps + rep`.
#[derive(Clone, Debug)]
pub(crate) struct Costs {
    pub units: usize,
    pub reps: usize,
    pub workload: Vec<f64>,
    /// The objective's coefficient of each unit-rep pair.
    pub primary: Vec<f64>,
    /// Disruption share of each unit-rep pair: workload / total workload when the rep is not today's.
    pub disruption: Vec<f64>,
    /// A unit that must go to one rep (home unit or lock).
    pub fixed: Vec<Option<usize>>,
    pub low: f64,
    pub high: f64,
    pub max_disruption: Option<f64>,
}

/// A solver's answer before it is assessed.
#[derive(Clone, Debug)]
pub(crate) struct Solved {
    pub assignment: Vec<usize>,
    pub lower_bound: f64,
    pub proof: Proof,
}

/// Slack on capacity comparisons so float sums that equal a bound count as within it.
pub(crate) const TOLERANCE: f64 = 1e-9;

fn invalid(place: impl Into<String>, message: impl Into<String>) -> BalanceError {
    BalanceError::Invalid { place: place.into(), message: message.into() }
}

impl Costs {
    pub fn build(
        problem: &BalanceProblem,
        options: &BalanceOptions,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Result<Costs, BalanceError> {
        let units = problem.units.len();
        let reps = problem.reps.len();
        if units == 0 {
            return Err(invalid("units", "no units"));
        }
        if reps == 0 {
            return Err(invalid("reps", "no reps"));
        }
        for (index, unit) in problem.units.iter().enumerate() {
            if !unit.workload.is_finite() || unit.workload < 0.0 {
                return Err(invalid(format!("units[{index}].workload"), "must be a finite number >= 0"));
            }
            if !unit.potential.is_finite() {
                return Err(invalid(format!("units[{index}].potential"), "must be a finite number"));
            }
        }
        match &problem.locations {
            Locations::Coordinates(points) if points.len() != units => {
                return Err(invalid("locations", format!("{} coordinates for {units} units", points.len())));
            }
            Locations::Matrix(rows) => {
                if rows.len() != units {
                    return Err(invalid("locations", format!("{} matrix rows for {units} units", rows.len())));
                }
                for (row_index, row) in rows.iter().enumerate() {
                    if row.len() != units {
                        return Err(invalid(format!("locations[{row_index}]"), format!("{} columns", row.len())));
                    }
                    if let Some(column) = row.iter().position(|d| !d.is_finite() || *d < 0.0) {
                        return Err(invalid(format!("locations[{row_index}][{column}]"), "not a distance >= 0"));
                    }
                }
            }
            Locations::Coordinates(_) => {}
        }
        if problem.current.len() != units {
            return Err(invalid("current", format!("{} entries for {units} units", problem.current.len())));
        }
        if let Some(unit) = problem.current.iter().position(|&rep| rep >= reps) {
            return Err(invalid(format!("current[{unit}]"), "no such rep"));
        }
        let (low_factor, high_factor) = problem.bounds;
        if !(low_factor.is_finite() && high_factor.is_finite() && low_factor <= 1.0 && high_factor >= 1.0) {
            return Err(invalid("bounds", "need low <= 1 <= high"));
        }
        let mut fixed: Vec<Option<usize>> = vec![None; units];
        for (rep_index, rep) in problem.reps.iter().enumerate() {
            if rep.home >= units {
                return Err(invalid(format!("reps[{rep_index}].home"), "no such unit"));
            }
            if let Some(other) = fixed[rep.home] {
                return Err(invalid(
                    format!("reps[{rep_index}].home"),
                    format!("unit {} is also the home of rep {}", problem.units[rep.home].id, problem.reps[other].id),
                ));
            }
            fixed[rep.home] = Some(rep_index);
        }
        for (lock_index, &(unit, rep)) in problem.locks.iter().enumerate() {
            if unit >= units || rep >= reps {
                return Err(invalid(format!("locks[{lock_index}]"), "no such unit or rep"));
            }
            match fixed[unit] {
                Some(existing) if existing == rep => diagnostics.push(Diagnostic::info(format!(
                    "lock of unit {} to rep {} repeats a home unit or another lock",
                    problem.units[unit].id, problem.reps[rep].id
                ))),
                Some(existing) => {
                    return Err(invalid(
                        format!("locks[{lock_index}]"),
                        format!("unit {} is already tied to rep {}", problem.units[unit].id, problem.reps[existing].id),
                    ));
                }
                None => fixed[unit] = Some(rep),
            }
        }
        let workload: Vec<f64> = problem.units.iter().map(|unit| unit.workload).collect();
        let total: f64 = workload.iter().sum();
        let mean = total / reps as f64;
        let mut distance = vec![0.0; units * reps];
        let mut disruption = vec![0.0; units * reps];
        for unit in 0..units {
            for (rep_index, rep) in problem.reps.iter().enumerate() {
                distance[unit * reps + rep_index] = workload[unit] * problem.locations.distance(unit, rep.home);
                if problem.current[unit] != rep_index && total > 0.0 {
                    disruption[unit * reps + rep_index] = workload[unit] / total;
                }
            }
        }
        let primary = match options.objective {
            Objective::Distance => distance,
            Objective::Disruption => disruption.clone(),
        };
        Ok(Costs {
            units,
            reps,
            workload,
            primary,
            disruption,
            fixed,
            low: low_factor * mean,
            high: high_factor * mean,
            max_disruption: options.max_disruption,
        })
    }

    pub fn objective(&self, assignment: &[usize]) -> f64 {
        assignment.iter().enumerate().map(|(unit, &rep)| self.primary[unit * self.reps + rep]).sum()
    }

    pub fn disruption_of(&self, assignment: &[usize]) -> f64 {
        assignment.iter().enumerate().map(|(unit, &rep)| self.disruption[unit * self.reps + rep]).sum()
    }

    pub fn loads(&self, assignment: &[usize]) -> Vec<f64> {
        let mut loads = vec![0.0; self.reps];
        for (unit, &rep) in assignment.iter().enumerate() {
            loads[rep] += self.workload[unit];
        }
        loads
    }

    pub fn allowed(&self, unit: usize, rep: usize) -> bool {
        self.fixed[unit].is_none_or(|fixed| fixed == rep)
    }

    pub fn is_feasible(&self, assignment: &[usize]) -> bool {
        assignment.len() == self.units
            && assignment.iter().enumerate().all(|(unit, &rep)| rep < self.reps && self.allowed(unit, rep))
            && self.loads(assignment).iter().all(|&load| load >= self.low - TOLERANCE && load <= self.high + TOLERANCE)
            && self.max_disruption.is_none_or(|limit| self.disruption_of(assignment) <= limit + TOLERANCE)
    }
}
