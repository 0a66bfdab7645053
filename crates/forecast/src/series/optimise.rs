//! A bounded Nelder–Mead simplex minimiser with restarts, used to fit ETS models by likelihood.
//!
//! Bounds are enforced by the objective (it returns `f64::INFINITY` outside the admissible
//! region), as in Hyndman et al.'s reference implementation; the simplex then contracts away
//! from infeasible vertices on its own.

/// Settings of one minimisation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NelderMead {
    /// Evaluation budget over all restarts.
    pub max_evaluations: usize,
    /// Relative tolerance on the spread of objective values across the simplex.
    pub relative_tolerance: f64,
    /// How many times to rebuild the simplex around the best point after convergence.
    pub restarts: usize,
}

/// The minimum found and its objective value.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub point: Vec<f64>,
    pub value: f64,
}

impl NelderMead {
    /// Minimises `objective` from `start` with initial steps `steps` (one per coordinate).
    pub(crate) fn minimise(&self, start: &[f64], steps: &[f64], mut objective: impl FnMut(&[f64]) -> f64) -> Minimum {
        let mut best = Minimum { point: start.to_vec(), value: objective(start) };
        let mut evaluations = 1;
        let mut scale = 1.0;
        for _ in 0..=self.restarts {
            if evaluations >= self.max_evaluations {
                break;
            }
            let budget = self.max_evaluations - evaluations;
            let scaled: Vec<f64> = steps.iter().map(|step| step * scale).collect();
            let (found, used) = self.run(&best.point, &scaled, budget, &mut objective);
            evaluations += used;
            let improved = found.value < best.value - self.relative_tolerance * (best.value.abs() + 1e-10);
            if found.value < best.value {
                best = found;
            }
            if !improved && scale < 1.0 {
                break;
            }
            // Restart with a smaller simplex: a collapsed simplex in a narrow valley is the usual
            // failure of Nelder–Mead, and a fresh one around the best point escapes it cheaply.
            scale *= 0.5;
        }
        best
    }

    fn run(
        &self,
        start: &[f64],
        steps: &[f64],
        budget: usize,
        objective: &mut impl FnMut(&[f64]) -> f64,
    ) -> (Minimum, usize) {
        let dimension = start.len();
        let mut simplex: Vec<Vec<f64>> = Vec::with_capacity(dimension + 1);
        let mut values: Vec<f64> = Vec::with_capacity(dimension + 1);
        let mut evaluations = 0;
        simplex.push(start.to_vec());
        values.push(objective(start));
        evaluations += 1;
        for (coordinate, step) in steps.iter().enumerate() {
            // Step the other way, then shorter, while the vertex leaves the admissible region.
            let mut vertex = start.to_vec();
            let mut value = f64::INFINITY;
            let mut size = *step;
            for _ in 0..4 {
                for direction in [1.0, -1.0] {
                    vertex[coordinate] = start[coordinate] + direction * size;
                    value = objective(&vertex);
                    evaluations += 1;
                    if value.is_finite() {
                        break;
                    }
                }
                if value.is_finite() {
                    break;
                }
                size *= 0.25;
            }
            simplex.push(vertex);
            values.push(value);
        }
        let mut order: Vec<usize> = (0..=dimension).collect();
        let mut centroid = vec![0.0; dimension];
        let mut trial = vec![0.0; dimension];
        let mut second = vec![0.0; dimension];
        while evaluations < budget {
            order.sort_by(|a, b| values[*a].total_cmp(&values[*b]));
            let best = order[0];
            let worst = order[dimension];
            let next_worst = order[dimension - 1];
            let spread = values[worst] - values[best];
            if values[worst].is_finite() && spread <= self.relative_tolerance * (values[best].abs() + 1e-10) {
                break;
            }
            centroid.iter_mut().for_each(|value| *value = 0.0);
            for &index in &order[..dimension] {
                for (sum, coordinate) in centroid.iter_mut().zip(&simplex[index]) {
                    *sum += coordinate;
                }
            }
            centroid.iter_mut().for_each(|value| *value /= dimension as f64);
            // Reflection.
            for ((t, c), w) in trial.iter_mut().zip(&centroid).zip(&simplex[worst]) {
                *t = c + (c - w);
            }
            let reflected = objective(&trial);
            evaluations += 1;
            if reflected < values[best] {
                // Expansion.
                for ((s, c), w) in second.iter_mut().zip(&centroid).zip(&simplex[worst]) {
                    *s = c + 2.0 * (c - w);
                }
                let expanded = objective(&second);
                evaluations += 1;
                if expanded < reflected {
                    simplex[worst].copy_from_slice(&second);
                    values[worst] = expanded;
                } else {
                    simplex[worst].copy_from_slice(&trial);
                    values[worst] = reflected;
                }
                continue;
            }
            if reflected < values[next_worst] {
                simplex[worst].copy_from_slice(&trial);
                values[worst] = reflected;
                continue;
            }
            // Contraction, outside when the reflection helped at all, inside otherwise.
            let outside = reflected < values[worst];
            for ((s, c), (w, t)) in second.iter_mut().zip(&centroid).zip(simplex[worst].iter().zip(&trial)) {
                *s = if outside { c + 0.5 * (t - c) } else { c + 0.5 * (w - c) };
            }
            let contracted = objective(&second);
            evaluations += 1;
            if contracted < values[worst].min(reflected) {
                simplex[worst].copy_from_slice(&second);
                values[worst] = contracted;
                continue;
            }
            // Shrink towards the best vertex.
            let anchor = simplex[best].clone();
            for index in 0..=dimension {
                if index == best {
                    continue;
                }
                for (coordinate, a) in simplex[index].iter_mut().zip(&anchor) {
                    *coordinate = a + 0.5 * (*coordinate - a);
                }
                values[index] = objective(&simplex[index]);
                evaluations += 1;
            }
        }
        let best = (0..=dimension).min_by(|a, b| values[*a].total_cmp(&values[*b])).unwrap_or(0);
        (Minimum { point: simplex[best].clone(), value: values[best] }, evaluations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_bounded_quadratic() {
        let optimiser = NelderMead { max_evaluations: 2000, relative_tolerance: 1e-12, restarts: 2 };
        let minimum = optimiser.minimise(&[0.5, 0.5], &[0.1, 0.1], |x| {
            if x[0] < 0.0 || x[0] > 1.0 {
                return f64::INFINITY;
            }
            (x[0] - 0.9).powi(2) + 10.0 * (x[1] + 2.0).powi(2)
        });
        assert!((minimum.point[0] - 0.9).abs() < 1e-4, "{:?}", minimum.point);
        assert!((minimum.point[1] + 2.0).abs() < 1e-4, "{:?}", minimum.point);
    }
}
