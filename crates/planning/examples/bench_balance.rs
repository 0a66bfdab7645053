//! Benchmark of territory balancing (issue 8 figures):
//! `cargo run --release -p planning --example bench_balance [seed ...]` (default seed 8).
//!
//! Prints, per instance, the time, objective, proven lower bound, gap and workload spread, and
//! the machine's load average before each run (the machine is shared).

use std::time::Instant;

use planning::balance::{
    BalanceOptions, BalanceProblem, Method, Proof, balance, bricks_instance, generate_instance, pareto_front,
};

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().next().unwrap_or("?").to_string())
        .unwrap_or_else(|_| "?".into())
}

fn run(name: &str, problem: &BalanceProblem, method: Method) {
    let options = BalanceOptions { method, ..BalanceOptions::default() };
    let load_before = load();
    let started = Instant::now();
    let (outcome, _) = balance(problem, &options).expect("instance solves");
    let seconds = started.elapsed().as_secs_f64();
    let proof = match outcome.proof {
        Proof::ProvenOptimal => "proven optimal",
        Proof::Bounded => "bounded",
    };
    println!(
        "{name}: {seconds:.3} s (load {load_before}), objective {:.6}, lower bound {:.6}, gap {:.3}%, {proof}; \
         workload {:.3}..{:.3}, cv {:.3} -> {:.3}, gini {:.3} -> {:.3}, units moved {}",
        outcome.objective_value,
        outcome.lower_bound,
        outcome.gap * 100.0,
        outcome.after.workload.min,
        outcome.after.workload.max,
        outcome.before.workload.coefficient_of_variation,
        outcome.after.workload.coefficient_of_variation,
        outcome.before.workload.gini,
        outcome.after.workload.gini,
        outcome.after.units_moved,
    );
}

fn main() {
    let mut seeds: Vec<u64> = std::env::args().skip(1).filter_map(|arg| arg.parse().ok()).collect();
    if seeds.is_empty() {
        seeds.push(8);
    }
    for seed in seeds {
        println!("seed {seed}");
        run("  bricks 22x4 (exact)", &bricks_instance(seed), Method::Exact);
        run("  uniform 22x4 (exact)", &generate_instance(22, 4, seed), Method::Exact);
        run("  uniform 100x10 (exact)", &generate_instance(100, 10, seed), Method::Exact);
        let started = Instant::now();
        let (front, _) = pareto_front(&bricks_instance(seed), 5, Method::Exact).expect("front");
        println!(
            "  pareto front bricks 22x4, 6 epsilon steps: {} points in {:.3} s",
            front.len(),
            started.elapsed().as_secs_f64()
        );
        for point in &front {
            println!("    disruption {:.3}  distance {:.1}", point.disruption, point.distance);
        }
        run("  uniform 2000x100 (heuristic)", &generate_instance(2_000, 100, seed), Method::Heuristic);
    }
}
