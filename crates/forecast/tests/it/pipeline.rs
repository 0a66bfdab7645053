//! Pipeline forecast: stage-weighted sums, learned win probability, slippage, Monte Carlo ranges
//! and back-tests, on small readable fixtures.

use forecast::pipeline::{
    BacktestOptions, BacktestSnapshot, ClosedOutcome, Diagnostic, ForecastOptions, LearningOptions, Method,
    OpenOpportunity, Period, PipelineError, Segmentation, SimulationOptions, SlippageModel, WinModel, backtest,
    calibration, fit_win_model, forecast, logistic_regression, simulate_period, stage_weighted,
};
use jiff::civil::{Date, date};
use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rust_decimal::Decimal;

/// Parses a table of open opportunities, one per line:
/// `id amount stage probability close owner product source age days_in_stage`.
fn deals(table: &str) -> Vec<OpenOpportunity> {
    table
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            OpenOpportunity {
                id: f[0].to_owned(),
                amount: f[1].parse().unwrap(),
                stage: f[2].to_owned(),
                stage_probability: f[3].parse().unwrap(),
                expected_close: f[4].parse().unwrap(),
                owner: f[5].to_owned(),
                product_line: f[6].to_owned(),
                source: f[7].to_owned(),
                age_days: f[8].parse().unwrap(),
                days_in_stage: f[9].parse().unwrap(),
            }
        })
        .collect()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn january() -> Period {
    Period::new(date(2026, 1, 1), date(2026, 1, 31)).unwrap()
}

fn first_quarter() -> Period {
    Period::new(date(2026, 1, 1), date(2026, 3, 31)).unwrap()
}

fn stage_only(simulations: usize, seed: u64) -> ForecastOptions {
    ForecastOptions {
        method: Method::StageWeighted,
        simulation: SimulationOptions { simulations, seed, threads: 2, spread: 0.0 },
        ..ForecastOptions::default()
    }
}

const PIPELINE: &str = "
    A  1000.00  Propose    0.50  2026-01-15  ann  core  web      30  10
    B  2500.50  Qualify    0.20  2026-02-03  bob  core  partner  12   5
    C   333.33  Discover   0.10  2026-01-31  ann  addon web       3   3
    D   100     Negotiate  0.90  2025-12-31  bob  core  event    90  20
";

#[test]
fn stage_weighted_sums_are_exact_per_period() {
    let open = deals(PIPELINE);
    // January: A 1000.00 × 0.5 + C 333.33 × 0.1; D closes in December, B in February.
    assert_eq!(stage_weighted(&open, january()), dec("533.333"));
    // The quarter adds B: 2500.50 × 0.2 = 500.10.
    assert_eq!(stage_weighted(&open, first_quarter()), dec("1033.433"));
    let december = Period::new(date(2025, 12, 1), date(2025, 12, 31)).unwrap();
    assert_eq!(stage_weighted(&open, december), dec("90"));
}

#[test]
fn a_period_ending_before_it_starts_is_refused() {
    let error = Period::new(date(2026, 2, 1), date(2026, 1, 31)).unwrap_err();
    assert_eq!(error, PipelineError::EmptyPeriod { start: date(2026, 2, 1), end: date(2026, 1, 31) });
    assert_eq!(error.to_string(), "period ends on 2026-01-31, before it starts on 2026-02-01");
}

#[test]
fn certain_outcomes_give_exact_totals() {
    // Probabilities 0 and 1, no slippage history: every simulation is the same exact total.
    let open = deals(
        "
        A  1000.01  Commit  1  2026-01-15  ann  core  web  30  10
        B  2500.50  Lost    0  2026-01-20  bob  core  web  30  10
        C    10.10  Commit  1  2026-02-10  bob  core  web  30  10
        D     7.25  Commit  1  2025-12-20  ann  core  web  90  40
    ",
    );
    let (result, diagnostics) = forecast(&open, &[], date(2026, 1, 5), january(), &stage_only(500, 7));
    // D is overdue: still open on 5 January, so it closes in January.
    let expected = dec("1007.26");
    assert_eq!((result.range.p10, result.range.p50, result.range.p90), (expected, expected, expected));
    assert_eq!(result.range.mean, expected);
    assert_eq!(result.open_in_period, 2);
    assert_eq!(result.unweighted, dec("3500.51"));
    assert_eq!(result.stage_weighted, dec("1000.01"));
    assert_eq!(result.method, Method::StageWeighted);
    assert_eq!(diagnostics, vec![Diagnostic::NoSlippageHistory, Diagnostic::OverdueCloseDates { count: 1 }]);
}

#[test]
fn same_seed_same_result_whatever_the_threads() {
    let open = deals(PIPELINE);
    let as_of = date(2026, 1, 2);
    let run = |seed, threads| {
        let mut options = stage_only(1_000, seed);
        options.simulation.threads = threads;
        forecast(&open, &[], as_of, first_quarter(), &options).0
    };
    assert_eq!(run(42, 1), run(42, 2));
    assert_eq!(run(42, 2), run(42, 3));
    let range = run(42, 2).range;
    assert!(range.p10 <= range.p50 && range.p50 <= range.p90, "{range:?}");
}

#[test]
fn negative_amounts_are_excluded_with_a_diagnostic() {
    let open = deals("X  -5  Propose  1.5  2026-01-10  ann  core  web  1  1");
    let (result, diagnostics) = forecast(&open, &[], date(2026, 1, 1), january(), &stage_only(10, 1));
    assert_eq!(result.range.p90, Decimal::ZERO);
    assert_eq!(diagnostics[0], Diagnostic::NegativeAmount { id: "X".into() });
}

#[test]
fn slippage_moves_close_dates_by_the_historical_slips() {
    let slips = SlippageModel::from_slips(vec![-10, 0, 20, 40]);
    // Expected 15 January, as of 1 January: lands on 5 Jan, 15 Jan, 4 Feb or 24 Feb.
    assert_eq!(slips.probability_in_period(date(2026, 1, 15), date(2026, 1, 1), january()), 0.5);
    assert_eq!(slips.probability_in_period(date(2026, 1, 15), date(2026, 1, 1), first_quarter()), 1.0);
    // Overdue by 21 days on 10 January: only the 40-day slip is still possible (29 January).
    assert_eq!(slips.probability_in_period(date(2025, 12, 20), date(2026, 1, 10), january()), 1.0);
    // Later than any slip seen: it closes on the as-of date.
    assert_eq!(slips.probability_in_period(date(2025, 11, 1), date(2026, 1, 10), january()), 1.0);
    let february = Period::new(date(2026, 2, 1), date(2026, 2, 28)).unwrap();
    assert_eq!(slips.probability_in_period(date(2025, 11, 1), date(2026, 1, 10), february), 0.0);
}

#[test]
fn slippage_is_learned_from_won_history() {
    let seen = deals("H  100  Propose  0.5  2026-01-10  ann  core  web  10  5").remove(0);
    let outcome = |won, closed_on| ClosedOutcome { as_seen: seen.clone(), won, closed_on };
    let history =
        [outcome(true, date(2026, 1, 25)), outcome(true, date(2026, 1, 10)), outcome(false, date(2026, 3, 1))];
    let (model, diagnostics) = SlippageModel::learn(&history);
    assert!(diagnostics.is_empty());
    assert_eq!(model, SlippageModel::from_slips(vec![0, 15]));
}

/// Uniform in `[-2, 2)` from a seeded stream.
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    f64::from(rng.next_u32()) / 4_294_967_296.0 * 4.0 - 2.0
}

#[test]
fn logistic_regression_recovers_known_coefficients() {
    let truth = [-0.5, 1.0, -2.0];
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..4_000 {
        let row = vec![1.0, uniform(&mut rng), uniform(&mut rng)];
        let z: f64 = row.iter().zip(truth).map(|(x, w)| x * w).sum();
        let p = 1.0 / (1.0 + (-z).exp());
        labels.push(f64::from(rng.next_u32()) / 4_294_967_296.0 < p);
        rows.push(row);
    }
    let fitted = logistic_regression(&rows, &labels, &[0.0, 1e-6, 1e-6]);
    for (w, t) in fitted.iter().zip(truth) {
        assert!((w - t).abs() < 0.15, "fitted {fitted:?}, truth {truth:?}");
    }
    // A strong penalty shrinks the slopes towards zero.
    let shrunk = logistic_regression(&rows, &labels, &[0.0, 1e5, 1e5]);
    assert!(shrunk[1].abs() < fitted[1].abs() / 10.0 && shrunk[2].abs() < fitted[2].abs() / 10.0, "{shrunk:?}");
}

/// Closed history where the stage weights are wrong: "Late" wins 80% (configured 50%), "Early"
/// 10% (configured 50%). Outcome by position, so the rates are exact.
fn miscalibrated_history(rows: usize) -> Vec<ClosedOutcome> {
    (0..rows)
        .map(|i| {
            let late = i % 2 == 0;
            let k = i / 2 % 10;
            let won = if late { k < 8 } else { k < 1 };
            let stage = if late { "Late" } else { "Early" };
            let line = format!("H{i} 1000 {stage} 0.5 2026-01-15 rep{} core web 40 10", i % 3);
            ClosedOutcome { as_seen: deals(&line).remove(0), won, closed_on: date(2026, 1, 20) }
        })
        .collect()
}

#[test]
fn thin_history_falls_back_to_stage_weights() {
    let history = miscalibrated_history(20);
    let (model, diagnostics) = fit_win_model(&history, &LearningOptions::default());
    assert_eq!(model, WinModel::StageWeights);
    assert_eq!(diagnostics, vec![Diagnostic::ThinHistory { rows: 20, won: 9, lost: 11, needed: 40 }]);
    let (report, _) = calibration(&history, &LearningOptions::default());
    assert!(report.learned.is_none());
}

#[test]
fn learned_probabilities_follow_the_history_and_calibrate_better() {
    let history = miscalibrated_history(200);
    let (model, diagnostics) = fit_win_model(&history, &LearningOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let probe = deals(
        "
        L  1000  Late   0.5  2026-02-01  rep0  core  web  40  10
        E  1000  Early  0.5  2026-02-01  rep0  core  web  40  10
    ",
    );
    let late = model.win_probability(&probe[0]);
    let early = model.win_probability(&probe[1]);
    assert!((late - 0.8).abs() < 0.05 && (early - 0.1).abs() < 0.05, "late {late}, early {early}");

    let (report, _) = calibration(&history, &LearningOptions::default());
    let learned = report.learned.unwrap();
    // Stage weights of 0.5 on every row: Brier exactly 0.25.
    assert!((report.stage_weights.brier - 0.25).abs() < 1e-12);
    assert!(learned.brier < 0.15 && learned.log_loss < report.stage_weights.log_loss, "{learned:?}");
    assert_eq!(report.stage_weights.reliability[5].count, 200);
    assert!((report.stage_weights.reliability[5].observed - 0.45).abs() < 1e-12);
    assert_eq!(learned.reliability.iter().map(|b| b.count).sum::<usize>(), 200);
}

#[test]
fn learned_method_uses_the_learned_probabilities() {
    let history = miscalibrated_history(200);
    let open = deals("L  1000  Late  0.5  2026-01-20  rep0  core  web  40  10");
    let options = ForecastOptions {
        simulation: SimulationOptions { simulations: 2_000, seed: 3, threads: 2, spread: 0.0 },
        ..Default::default()
    };
    let (result, _) = forecast(&open, &history, date(2026, 1, 2), january(), &options);
    assert_eq!(result.method, Method::Learned);
    assert_eq!(result.stage_weighted, dec("500.0"));
    let learned = result.learned_weighted;
    assert!(learned > dec("750") && learned < dec("850"), "{learned}");
}

/// Month-by-month snapshots of a tiny company whose deals all have probability 0 or 1.
fn certain_snapshots() -> Vec<BacktestSnapshot> {
    (1..=4)
        .map(|month| {
            let start = date(2026, month, 1);
            let period = Period::new(start, start.last_of_month()).unwrap();
            let close: Date = date(2026, month, 20);
            let open = deals(&format!(
                "
                W{month}  {}  Commit  1  {close}  ann  core  web  30  10
                L{month}  999  Lost    0  {close}  bob  core  web  30  10
            ",
                100 * i32::from(month)
            ));
            let won = ClosedOutcome { as_seen: open[0].clone(), won: true, closed_on: close };
            BacktestSnapshot { as_of: start, period, open, history: Vec::new(), actual_won: vec![won] }
        })
        .collect()
}

#[test]
fn backtest_of_certain_deals_has_no_error() {
    let options = BacktestOptions {
        segmentation: Segmentation::Owner,
        spreads: vec![0.0],
        forecast: ForecastOptions {
            simulation: SimulationOptions { simulations: 50, seed: 1, threads: 1, spread: 0.0 },
            ..Default::default()
        },
        ..BacktestOptions::default()
    };
    let (report, diagnostics) = backtest(&certain_snapshots(), &options);
    assert!(diagnostics.contains(&Diagnostic::NoSlippageHistory));
    // 4 snapshots × 2 owners × 2 methods.
    assert_eq!(report.rows.len(), 16);
    let choices: Vec<(String, Method, usize)> =
        report.segments.iter().map(|s| (s.segment.clone(), s.chosen, s.test.count)).collect();
    assert_eq!(choices, vec![("ann".into(), Method::StageWeighted, 2), ("bob".into(), Method::StageWeighted, 2)]);
    for summary in [&report.stage_weighted, &report.learned] {
        assert_eq!(summary.mean_absolute_error, Decimal::ZERO);
        assert_eq!(summary.coverage, 1.0);
    }
}

#[test]
fn backtest_reports_bias_when_the_pipeline_misses_new_business() {
    let mut snapshots = certain_snapshots();
    // In April a deal nobody saw on 1 April was won too.
    let surprise = deals("N  50  Commit  1  2026-04-25  ann  core  web  1  1").remove(0);
    snapshots[3].actual_won.push(ClosedOutcome { as_seen: surprise, won: true, closed_on: date(2026, 4, 25) });
    let options = BacktestOptions {
        forecast: ForecastOptions {
            simulation: SimulationOptions { simulations: 50, seed: 1, threads: 1, spread: 0.0 },
            ..Default::default()
        },
        ..BacktestOptions::default()
    };
    let (report, _) = backtest(&snapshots, &options);
    // 4 snapshots × 2 methods × 4 spreads; certain deals ignore the spread.
    assert_eq!(report.rows.len(), 32);
    let total = &report.segments[0];
    assert_eq!(total.segment, "total");
    assert_eq!(total.test.mean_absolute_error, dec("25"));
    assert_eq!(total.test.bias, dec("-25"));
    assert_eq!(total.test.coverage, 0.5);
}

#[test]
fn a_common_shift_widens_the_range_but_not_certain_outcomes() {
    let open: Vec<OpenOpportunity> = (0..200)
        .map(|i| deals(&format!("O{i}  1000  Propose  0.4  2026-01-15  ann  core  web  30  10")).remove(0))
        .chain(deals("C  5000  Commit  1  2026-01-20  ann  core  web  30  10"))
        .collect();
    let width = |spread| {
        let mut options = stage_only(2_000, 5);
        options.simulation.spread = spread;
        let range = forecast(&open, &[], date(2026, 1, 2), january(), &options).0.range;
        assert!(range.p10 >= dec("5000"), "{range:?}");
        range.p90 - range.p10
    };
    let independent = width(0.0);
    let shifted = width(1.0);
    // Independent: 200 × Bernoulli(0.4) has sd ~ 6.9 wins, P10-P90 ~ 17.7 wins of 1000.
    assert!(independent > dec("12000") && independent < dec("24000"), "{independent}");
    assert!(shifted > independent * dec("3"), "{shifted} vs {independent}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn percentiles_are_ordered_and_within_bounds(
        cents in prop::collection::vec(0_i64..1_000_000, 1..30),
        probabilities in prop::collection::vec(0.0_f64..=1.0, 30),
        offsets in prop::collection::vec(-40_i64..80, 30),
        seed in any::<u64>(),
        spread in prop_oneof![Just(0.0), 0.0_f64..2.0],
    ) {
        let amounts: Vec<Decimal> = cents.iter().map(|c| Decimal::new(*c, 2)).collect();
        let closes: Vec<Date> = offsets[..amounts.len()].iter().map(|d| date(2026, 1, 1).saturating_add(jiff::Span::new().days(*d))).collect();
        let slips = SlippageModel::from_slips(vec![-5, 0, 0, 10, 30]);
        let options = SimulationOptions { simulations: 100, seed, threads: 2, spread };
        let range = simulate_period(&amounts, &probabilities[..amounts.len()], &closes, &slips, date(2026, 1, 1), january(), &options);
        prop_assert!(range.p10 <= range.p50 && range.p50 <= range.p90);
        prop_assert!(range.p10 >= Decimal::ZERO);
        prop_assert!(range.p90 <= amounts.iter().copied().sum::<Decimal>());
    }
}
