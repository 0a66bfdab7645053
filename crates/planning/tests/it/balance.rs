//! Balancing: exact optimum against brute force, constraints as properties, readable examples.

use planning::balance::{
    BalanceError, BalanceOptions, BalanceProblem, Locations, Method, Objective, Proof, Rep, Unit, assess, balance,
    bricks_instance, generate_instance, pareto_front, spread,
};
use proptest::prelude::*;

/// Every assignment of a tiny instance, checked for feasibility: the best objective, if any.
fn brute_force(problem: &BalanceProblem, objective: Objective, max_disruption: Option<f64>) -> Option<f64> {
    let units = problem.units.len();
    let reps = problem.reps.len();
    let total: f64 = problem.units.iter().map(|unit| unit.workload).sum();
    let mean = total / reps as f64;
    let mut assignment = vec![0; units];
    let mut best: Option<f64> = None;
    loop {
        let homes_kept = problem.reps.iter().enumerate().all(|(rep, r)| assignment[r.home] == rep);
        let locks_kept = problem.locks.iter().all(|&(unit, rep)| assignment[unit] == rep);
        if homes_kept && locks_kept {
            let figures = assess(problem, &assignment);
            let loads_ok = figures.per_rep.iter().all(|rep| {
                rep.workload >= problem.bounds.0 * mean - 1e-9 && rep.workload <= problem.bounds.1 * mean + 1e-9
            });
            let disruption_ok = max_disruption.is_none_or(|limit| figures.disruption <= limit + 1e-9);
            if loads_ok && disruption_ok {
                let value = match objective {
                    Objective::Distance => figures.total_distance,
                    Objective::Disruption => figures.disruption,
                };
                if best.is_none_or(|best| value < best) {
                    best = Some(value);
                }
            }
        }
        // Next assignment in base `reps`.
        let mut position = 0;
        loop {
            if position == units {
                return best;
            }
            assignment[position] += 1;
            if assignment[position] < reps {
                break;
            }
            assignment[position] = 0;
            position += 1;
        }
    }
}

fn check_constraints(problem: &BalanceProblem, assignment: &[usize]) {
    let figures = assess(problem, assignment);
    assert!(figures.within_bounds, "workload bounds broken: {:?}", figures.per_rep);
    for (rep, r) in problem.reps.iter().enumerate() {
        assert_eq!(assignment[r.home], rep, "rep {} lost their home unit", r.id);
    }
    for &(unit, rep) in &problem.locks {
        assert_eq!(assignment[unit], rep, "locked unit {unit} moved");
    }
}

#[test]
fn exact_optimum_matches_brute_force_on_tiny_instances() {
    let mut compared = 0;
    for seed in 0..24 {
        let mut problem = generate_instance(8, 3, seed);
        problem.bounds = (0.6, 1.4);
        if seed % 3 == 0 {
            // Lock a unit that is not a home unit to the rep it is not nearest to.
            let unit = (0..8).find(|unit| problem.reps.iter().all(|rep| rep.home != *unit)).unwrap();
            problem.locks.push((unit, (problem.current[unit] + 1) % 3));
        }
        for objective in [Objective::Distance, Objective::Disruption] {
            let options = BalanceOptions { objective, method: Method::Exact, ..BalanceOptions::default() };
            let expected = brute_force(&problem, objective, None);
            match (balance(&problem, &options), expected) {
                (Ok((outcome, _)), Some(best)) => {
                    assert_eq!(outcome.proof, Proof::ProvenOptimal);
                    assert!(
                        (outcome.objective_value - best).abs() < 1e-9,
                        "seed {seed}: {} vs brute force {best}",
                        outcome.objective_value
                    );
                    check_constraints(&problem, &outcome.assignment);
                    compared += 1;
                }
                (Err(BalanceError::Infeasible), None) => {}
                (got, expected) => panic!("seed {seed}: solver {got:?}, brute force {expected:?}"),
            }
        }
    }
    assert!(compared >= 30, "only {compared} feasible instances compared");
}

#[test]
fn heuristic_brackets_the_brute_force_optimum() {
    for seed in 0..12 {
        let mut problem = generate_instance(9, 3, 100 + seed);
        problem.bounds = (0.6, 1.4);
        let Some(best) = brute_force(&problem, Objective::Distance, None) else { continue };
        let options = BalanceOptions { method: Method::Heuristic, ..BalanceOptions::default() };
        let (outcome, _) = balance(&problem, &options).expect("a feasible instance");
        assert!(outcome.lower_bound <= best + 1e-9, "seed {seed}: bound {} above optimum {best}", outcome.lower_bound);
        assert!(outcome.objective_value >= best - 1e-9);
        check_constraints(&problem, &outcome.assignment);
    }
}

#[test]
fn epsilon_constraint_matches_brute_force() {
    let mut problem = generate_instance(8, 3, 7);
    problem.bounds = (0.7, 1.3);
    for limit in [0.1, 0.3, 0.5] {
        let expected = brute_force(&problem, Objective::Distance, Some(limit));
        let options =
            BalanceOptions { max_disruption: Some(limit), method: Method::Exact, ..BalanceOptions::default() };
        match (balance(&problem, &options), expected) {
            (Ok((outcome, _)), Some(best)) => {
                assert!((outcome.objective_value - best).abs() < 1e-9, "limit {limit}");
                assert!(outcome.after.disruption <= limit + 1e-9);
            }
            (Err(BalanceError::Infeasible), None) => {}
            (got, expected) => panic!("limit {limit}: solver {got:?}, brute force {expected:?}"),
        }
    }
}

/// Six units on a line, two reps living at the ends; today rep A has five units.
fn line() -> BalanceProblem {
    let units = [("P1", 1.0), ("P2", 1.0), ("P3", 1.0), ("P4", 1.0), ("P5", 1.0), ("P6", 1.0)]
        .into_iter()
        .map(|(id, workload)| Unit { id: id.to_string(), workload, potential: workload * 10.0 })
        .collect();
    BalanceProblem {
        units,
        reps: vec![Rep { id: "A".into(), home: 0 }, Rep { id: "B".into(), home: 5 }],
        locations: Locations::Coordinates((0..6).map(|x| (x as f64, 0.0)).collect()),
        current: vec![0, 0, 0, 0, 0, 1],
        bounds: (0.9, 1.1),
        locks: Vec::new(),
    }
}

fn table(problem: &BalanceProblem, assignment: &[usize]) -> String {
    problem
        .units
        .iter()
        .zip(assignment)
        .map(|(unit, &rep)| format!("{}->{}", unit.id, problem.reps[rep].id))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_line_splits_in_the_middle_and_reports_before_and_after() {
    let problem = line();
    let (outcome, diagnostics) = balance(&problem, &BalanceOptions::default()).unwrap();
    assert_eq!(table(&problem, &outcome.assignment), "P1->A P2->A P3->A P4->B P5->B P6->B");
    assert_eq!(outcome.proof, Proof::ProvenOptimal);
    // Distance: A serves P2 and P3 at 1 and 2; B serves P4 and P5 at 2 and 1.
    assert!((outcome.objective_value - 6.0).abs() < 1e-9);
    assert_eq!(outcome.after.units_moved, 2);
    assert!((outcome.after.disruption - 2.0 / 6.0).abs() < 1e-9);
    assert_eq!((outcome.before.workload.min, outcome.before.workload.max), (1.0, 5.0));
    assert_eq!((outcome.after.workload.min, outcome.after.workload.max), (3.0, 3.0));
    assert!(outcome.after.workload.gini.abs() < 1e-12);
    assert!(diagnostics.iter().any(|d| d.message.contains("today's assignment violates")));
}

#[test]
fn a_lock_is_kept_even_when_it_costs_distance() {
    let mut problem = line();
    problem.locks.push((3, 0)); // P4 stays with A
    let (outcome, _) = balance(&problem, &BalanceOptions::default()).unwrap();
    assert_eq!(table(&problem, &outcome.assignment), "P1->A P2->A P3->B P4->A P5->B P6->B");
}

#[test]
fn conflicting_lock_and_home_is_a_user_error_naming_the_lock() {
    let mut problem = line();
    problem.locks.push((0, 1)); // P1 is A's home
    let error = balance(&problem, &BalanceOptions::default()).unwrap_err();
    assert_eq!(error.to_string(), "locks[0]: unit P1 is already tied to rep A");
}

#[test]
fn disruption_objective_moves_as_little_workload_as_the_bounds_allow() {
    let problem = line();
    let options = BalanceOptions { objective: Objective::Disruption, ..BalanceOptions::default() };
    let (outcome, _) = balance(&problem, &options).unwrap();
    assert_eq!(outcome.after.units_moved, 2);
    assert!((outcome.objective_value - 2.0 / 6.0).abs() < 1e-9);
}

#[test]
fn pareto_front_trades_distance_for_disruption() {
    let mut problem = bricks_instance(3);
    problem.bounds = (0.85, 1.15);
    let (front, _) = pareto_front(&problem, 4, Method::Exact).unwrap();
    assert!(!front.is_empty());
    for pair in front.windows(2) {
        assert!(pair[0].disruption < pair[1].disruption + 1e-12, "sorted by disruption");
        assert!(pair[0].distance > pair[1].distance - 1e-12, "less disruption costs distance");
    }
    assert!(front.iter().all(|point| point.proof == Proof::ProvenOptimal));
}

#[test]
fn bricks_instance_is_in_the_published_form() {
    let problem = bricks_instance(1);
    assert_eq!((problem.units.len(), problem.reps.len()), (22, 4));
    let total: f64 = problem.units.iter().map(|unit| unit.workload).sum();
    assert!((total - 4.0).abs() < 0.01, "index values sum to the number of reps, got {total}");
    assert_eq!(problem.units[0].id, "B01");
    let (outcome, _) = balance(&problem, &BalanceOptions::default()).unwrap();
    assert_eq!(outcome.proof, Proof::ProvenOptimal);
    check_constraints(&problem, &outcome.assignment);
}

#[test]
fn generator_is_seeded_and_scales_workload_to_the_rep_count() {
    let first = generate_instance(200, 10, 42);
    assert_eq!(first, generate_instance(200, 10, 42));
    assert_ne!(first, generate_instance(200, 10, 43));
    let total: f64 = first.units.iter().map(|unit| unit.workload).sum();
    assert!((total - 10.0).abs() < 1e-9);
}

#[test]
fn spread_of_a_known_table() {
    let figures = spread(&[1.0, 2.0, 3.0, 4.0]);
    assert_eq!((figures.min, figures.max, figures.mean), (1.0, 4.0, 2.5));
    assert!((figures.coefficient_of_variation - 1.25f64.sqrt() / 2.5).abs() < 1e-12);
    assert!((figures.gini - 0.25).abs() < 1e-12);
}

fn small_instance() -> impl Strategy<Value = BalanceProblem> {
    (4usize..=10, 2usize..=3, any::<u64>(), 0.5f64..0.95, 1.05f64..1.6, proptest::option::of(0usize..10)).prop_map(
        |(units, reps, seed, low, high, lock)| {
            let mut problem = generate_instance(units, reps, seed);
            problem.bounds = (low, high);
            if let Some(unit) = lock.map(|lock| lock % units)
                && problem.reps.iter().all(|rep| rep.home != unit)
            {
                problem.locks.push((unit, seed as usize % reps));
            }
            problem
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn every_solution_keeps_bounds_homes_and_locks(problem in small_instance(), heuristic in any::<bool>()) {
        let method = if heuristic { Method::Heuristic } else { Method::Exact };
        let options = BalanceOptions { method, lagrangian_iterations: 400, ..BalanceOptions::default() };
        match balance(&problem, &options) {
            Ok((outcome, _)) => {
                check_constraints(&problem, &outcome.assignment);
                prop_assert!(outcome.lower_bound <= outcome.objective_value + 1e-9);
                prop_assert!(outcome.gap >= 0.0);
            }
            Err(BalanceError::Infeasible) => {
                prop_assert!(!heuristic, "only the exact method proves infeasibility");
                prop_assert!(brute_force(&problem, Objective::Distance, None).is_none());
            }
            Err(BalanceError::NoneFound) => prop_assert!(heuristic),
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

#[test]
fn least_disruption_moves_units_to_nearby_reps() {
    // Three reps on a line; A is overloaded and must give up one unit. Both B and C could take
    // it at the same disruption; B is next door.
    let units = ["A0", "A1", "A2", "A3", "B0", "C0"]
        .into_iter()
        .map(|id| Unit { id: id.to_string(), workload: 1.0, potential: 1.0 })
        .collect();
    let problem = BalanceProblem {
        units,
        reps: vec![Rep { id: "A".into(), home: 0 }, Rep { id: "B".into(), home: 4 }, Rep { id: "C".into(), home: 5 }],
        locations: Locations::Coordinates(vec![
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 1.0),
            (2.0, 0.0),
            (3.0, 0.0),
            (10.0, 0.0),
        ]),
        current: vec![0, 0, 0, 0, 1, 2],
        bounds: (0.5, 1.5),
        locks: Vec::new(),
    };
    let options = BalanceOptions { objective: Objective::Disruption, ..BalanceOptions::default() };
    let (outcome, _) = balance(&problem, &options).unwrap();
    assert_eq!(table(&problem, &outcome.assignment), "A0->A A1->A A2->A A3->B B0->B C0->C");
    assert!((outcome.objective_value - 1.0 / 6.0).abs() < 1e-9);
}

#[test]
fn an_instance_reads_from_csv_text() {
    use planning::balance::read_instance;
    let units = "unit,workload,potential\nP1,1,10\nP2,1,10\nP3,1,10\nP4,1,10\nP5,1,10\nP6,1,10\n";
    let distances = "unit,P1,P2,P3,P4,P5,P6\n\
                     P1,0,1,2,3,4,5\nP2,1,0,1,2,3,4\nP3,2,1,0,1,2,3\nP4,3,2,1,0,1,2\nP5,4,3,2,1,0,1\nP6,5,4,3,2,1,0\n";
    let assignment = "unit,rep,home,locked\nP1,A,yes,\nP2,A,,\nP3,A,,\nP4,A,,yes\nP5,A,,\nP6,B,yes,\n";
    let (problem, diagnostics) =
        read_instance(units.as_bytes(), Some(&mut distances.as_bytes()), assignment.as_bytes(), (0.9, 1.1)).unwrap();
    assert!(diagnostics.is_empty());
    assert_eq!(problem.locks, vec![(3, 0)]);
    let (outcome, _) = balance(&problem, &BalanceOptions::default()).unwrap();
    assert_eq!(table(&problem, &outcome.assignment), "P1->A P2->A P3->B P4->A P5->B P6->B");

    let broken = "unit,rep\nP1,A\nP9,B\n";
    let error =
        read_instance(units.as_bytes(), Some(&mut distances.as_bytes()), broken.as_bytes(), (0.9, 1.1)).unwrap_err();
    assert_eq!(error.to_string(), "assignment line 3: unknown unit 'P9'");
}
