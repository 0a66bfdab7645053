//! Seeded instance generators for tests, benchmarks, the CLI and the demo.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::balance::{BalanceProblem, Locations, Rep, Unit};

/// The benchmark instance of issue 8: `units` points uniform in the unit square, workloads drawn
/// from gamma(2, 1) and scaled so they sum to `reps` (mean workload per rep = 1), potentials
/// from gamma(2, 1) scaled the same way, one random home unit per rep (distinct), Euclidean
/// distance, bounds [0.8, 1.2], no locks. Today's assignment gives each unit to the rep with the
/// nearest home (territories drawn by proximity, not balanced).
///
/// # Panics
/// If `reps` is 0 or greater than `units`.
pub fn generate_instance(units: usize, reps: usize, seed: u64) -> BalanceProblem {
    assert!(reps >= 1 && reps <= units, "need 1 <= reps <= units");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let points: Vec<(f64, f64)> = (0..units).map(|_| (rng.random::<f64>(), rng.random::<f64>())).collect();
    let raw_workload: Vec<f64> = (0..units).map(|_| gamma_two(&mut rng)).collect();
    let raw_potential: Vec<f64> = (0..units).map(|_| gamma_two(&mut rng)).collect();
    let workload_scale = reps as f64 / raw_workload.iter().sum::<f64>();
    let potential_scale = reps as f64 / raw_potential.iter().sum::<f64>();
    let homes = rand::seq::index::sample(&mut rng, units, reps).into_vec();
    let unit_list: Vec<Unit> = (0..units)
        .map(|index| Unit {
            id: format!("U{index:04}"),
            workload: raw_workload[index] * workload_scale,
            potential: raw_potential[index] * potential_scale,
        })
        .collect();
    let rep_list: Vec<Rep> =
        homes.iter().enumerate().map(|(index, &home)| Rep { id: format!("R{index:03}"), home }).collect();
    let locations = Locations::Coordinates(points);
    let current = nearest_home(&locations, &rep_list, units);
    BalanceProblem { units: unit_list, reps: rep_list, locations, current, bounds: (0.8, 1.2), locks: Vec::new() }
}

/// A 22-brick × 4-rep instance in the form of the pharmaceutical territory models: brick codes,
/// index values (workload) summing to 4, potentials, a symmetric road-distance matrix in whole
/// kilometres, one home brick per rep and today's assignment by nearest home. Synthetic (drawn
/// from `seed`), not a published data set.
pub fn bricks_instance(seed: u64) -> BalanceProblem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let count = 22;
    let points: Vec<(f64, f64)> =
        (0..count).map(|_| (rng.random::<f64>() * 150.0, rng.random::<f64>() * 100.0)).collect();
    // Road distances: Euclidean times a detour factor, rounded to kilometres.
    let mut matrix = vec![vec![0.0; count]; count];
    for a in 0..count {
        for b in (a + 1)..count {
            let straight = ((points[a].0 - points[b].0).powi(2) + (points[a].1 - points[b].1).powi(2)).sqrt();
            let road = (straight * (1.15 + 0.2 * rng.random::<f64>())).round();
            matrix[a][b] = road;
            matrix[b][a] = road;
        }
    }
    let raw: Vec<f64> = (0..count).map(|_| gamma_two(&mut rng)).collect();
    let scale = 4.0 / raw.iter().sum::<f64>();
    // Index values are published with four decimals.
    let units: Vec<Unit> = raw
        .iter()
        .enumerate()
        .map(|(index, value)| Unit {
            id: format!("B{:02}", index + 1),
            workload: (value * scale * 10_000.0).round() / 10_000.0,
            potential: ((value * scale * (0.7 + 0.6 * rng.random::<f64>())) * 10_000.0).round() / 10_000.0,
        })
        .collect();
    let homes = rand::seq::index::sample(&mut rng, count, 4).into_vec();
    let reps: Vec<Rep> =
        homes.iter().enumerate().map(|(index, &home)| Rep { id: format!("SR{}", index + 1), home }).collect();
    let locations = Locations::Matrix(matrix);
    let current = nearest_home(&locations, &reps, count);
    BalanceProblem { units, reps, locations, current, bounds: (0.8, 1.2), locks: Vec::new() }
}

/// Each unit to the rep whose home is nearest.
fn nearest_home(locations: &Locations, reps: &[Rep], units: usize) -> Vec<usize> {
    (0..units)
        .map(|unit| {
            (0..reps.len())
                .min_by(|&a, &b| {
                    locations.distance(unit, reps[a].home).total_cmp(&locations.distance(unit, reps[b].home))
                })
                .unwrap_or(0)
        })
        .collect()
}

/// A gamma(2, 1) draw: the sum of two unit exponentials.
fn gamma_two(rng: &mut ChaCha8Rng) -> f64 {
    let first = 1.0 - rng.random::<f64>();
    let second = 1.0 - rng.random::<f64>();
    -(first.ln() + second.ln())
}
