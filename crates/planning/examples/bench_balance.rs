//! Benchmark of territory balancing (issue 8 figures):
//! `cargo run --release -p planning --example bench_balance [seed]`.

use std::time::Instant;

use planning::balance::{BalanceOptions, BalanceProblem, Method, Proof, balance, bricks_instance, generate_instance};

fn run(name: &str, problem: &BalanceProblem, method: Method, iterations: usize) {
    let options = BalanceOptions { method, lagrangian_iterations: iterations, ..BalanceOptions::default() };
    let started = Instant::now();
    let (outcome, _) = balance(problem, &options).expect("instance solves");
    let seconds = started.elapsed().as_secs_f64();
    let proof = match outcome.proof {
        Proof::ProvenOptimal => "proven optimal",
        Proof::Bounded => "bounded",
    };
    println!(
        "{name}: {:.4} s, objective {:.6}, lower bound {:.6}, gap {:.4}%, {proof}; workload {:.3}..{:.3} (cv {:.3} -> {:.3}), units moved {}",
        seconds,
        outcome.objective_value,
        outcome.lower_bound,
        outcome.gap * 100.0,
        outcome.after.workload.min,
        outcome.after.workload.max,
        outcome.before.workload.coefficient_of_variation,
        outcome.after.workload.coefficient_of_variation,
        outcome.after.units_moved,
    );
}

fn main() {
    let seed: u64 = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(8);
    println!("seed {seed}");
    run("bricks 22x4 (exact)", &bricks_instance(seed), Method::Exact, 3_000);
    run("uniform 22x4 (exact)", &generate_instance(22, 4, seed), Method::Exact, 3_000);
    run("uniform 100x10 (exact)", &generate_instance(100, 10, seed), Method::Exact, 3_000);
    run("uniform 2000x100 (heuristic)", &generate_instance(2_000, 100, seed), Method::Heuristic, 3_000);
}
