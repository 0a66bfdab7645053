//! Pipeline forecast benchmark: 100k open opportunities × 10k simulations (timed), the learned
//! model's fit and calibration, and a month-by-month back-test on a synthetic company with
//! close-date slippage, seasonality, sandbagging and over-committing reps and stalled deals.
//!
//! `cargo run --release -p forecast --example bench_pipeline [open] [simulations] [threads]`

use std::time::Instant;

use forecast::pipeline::{
    BacktestOptions, BacktestSnapshot, ClosedOutcome, ForecastOptions, LearningOptions, Method, OpenOpportunity,
    Period, Segmentation, SimulationOptions, backtest, calibration, forecast,
};
use jiff::ToSpan;
use jiff::civil::{Date, date};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rust_decimal::Decimal;

const STAGES: [(&str, &str); 4] =
    [("Discover", "0.10"), ("Qualify", "0.25"), ("Propose", "0.50"), ("Negotiate", "0.75")];
const PRODUCTS: [&str; 3] = ["core", "addon", "services"];
const SOURCES: [&str; 4] = ["web", "partner", "event", "outbound"];
const REPS: usize = 20;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let open_count = args.first().copied().unwrap_or(100_000);
    let simulations = args.get(1).copied().unwrap_or(10_000);
    let threads = args.get(2).copied().unwrap_or(2);

    // About three created opportunities in thirty-two is open on a given day (cycles of ~70 days over
    // three years), so this many lives give about `open_count` open ones.
    let world = World::generate(open_count.max(1) * 32 / 3, 2021);
    let as_of = date(2026, 1, 1);
    let quarter = Period::new(as_of, date(2026, 3, 31)).expect("valid period");
    let open = world.open_on(as_of);
    let history = world.history_until(as_of, 2);
    println!("open opportunities on {as_of}: {}; closed views in the history: {}", open.len(), history.len());

    let options = ForecastOptions {
        method: Method::Learned,
        learning: LearningOptions::default(),
        simulation: SimulationOptions { simulations, seed: 7, threads, spread: 0.0 },
    };
    let started = Instant::now();
    let (result, diagnostics) = forecast(&open, &history, as_of, quarter, &options);
    let total = started.elapsed();
    let stage_only = ForecastOptions { method: Method::StageWeighted, ..options.clone() };
    let started = Instant::now();
    let (stage_result, _) = forecast(&open, &history, as_of, quarter, &stage_only);
    let simulate_only = started.elapsed();
    println!(
        "forecast {quarter} (learned fit + {simulations} simulations, {threads} threads): {:.2} s; stage-weighted \
         simulation alone: {:.2} s",
        total.as_secs_f64(),
        simulate_only.as_secs_f64()
    );
    println!(
        "  in period by expected close: {} opportunities, {} unweighted, {} stage-weighted, {} learned",
        result.open_in_period, result.unweighted, result.stage_weighted, result.learned_weighted
    );
    for (name, r) in [("learned", &result.range), ("stage-weighted", &stage_result.range)] {
        println!("  {name:>14}: P10 {}  P50 {}  P90 {}  mean {}", r.p10, r.p50, r.p90, r.mean);
    }
    println!("  actually won in the period: {}", world.won_in(quarter));
    for d in &diagnostics {
        println!("  note: {d}");
    }

    let started = Instant::now();
    let (report, _) = calibration(&history, &LearningOptions::default());
    println!("calibration (5-fold, {} rows): {:.2} s", report.rows, started.elapsed().as_secs_f64());
    let learned = report.learned.as_ref();
    println!(
        "  Brier: learned {:.4}, stage weights {:.4}; log loss: learned {:.4}, stage weights {:.4}",
        learned.map_or(f64::NAN, |s| s.brier),
        report.stage_weights.brier,
        learned.map_or(f64::NAN, |s| s.log_loss),
        report.stage_weights.log_loss
    );
    println!("  bin        learned (n, predicted, observed)   stage weights (n, predicted, observed)");
    for (k, stage) in report.stage_weights.reliability.iter().enumerate() {
        let l = learned.map(|s| &s.reliability[k]);
        println!(
            "  {:.1}-{:.1}    {:>6} {:.3} {:.3}                 {:>6} {:.3} {:.3}",
            stage.from,
            stage.to,
            l.map_or(0, |b| b.count),
            l.map_or(0.0, |b| b.mean_predicted),
            l.map_or(0.0, |b| b.observed),
            stage.count,
            stage.mean_predicted,
            stage.observed
        );
    }

    // Back-test on a smaller company: month by month over two years.
    let small = World::generate(12_000, 99);
    let snapshots: Vec<BacktestSnapshot> = (0..24)
        .map(|m| {
            let as_of = date(2024, 1, 1).checked_add(m.months()).expect("in range");
            let period = Period::new(as_of, as_of.last_of_month()).expect("valid");
            BacktestSnapshot {
                as_of,
                period,
                open: small.open_on(as_of),
                history: small.history_until(as_of, 12),
                actual_won: small.won_views_in(period),
            }
        })
        .collect();
    for segmentation in [Segmentation::Total, Segmentation::ProductLine] {
        let options = BacktestOptions {
            segmentation,
            training_share: 0.5,
            spreads: vec![0.0, 0.25, 0.5, 0.75, 1.0],
            forecast: ForecastOptions {
                simulation: SimulationOptions { simulations: 2_000, seed: 1, threads, spread: 0.0 },
                ..ForecastOptions::default()
            },
        };
        let started = Instant::now();
        let (report, _) = backtest(&snapshots, &options);
        println!(
            "back-test {segmentation:?}, 24 monthly as-of dates (12 training, 12 test): {:.2} s",
            started.elapsed().as_secs_f64()
        );
        for (name, s) in [("stage-weighted", &report.stage_weighted), ("learned", &report.learned)] {
            println!(
                "  all, no spread, {name:>14}: mean |P50 - actual| {}, bias {}, relative {:.1}%, inside P10-P90 {:.0}%",
                s.mean_absolute_error,
                s.bias,
                100.0 * s.relative_error,
                100.0 * s.coverage
            );
        }
        for s in &report.segments {
            println!(
                "  {:>9}: chose {} with spread {} (training error {} vs {}); test error {}, bias {}, relative {:.1}%, inside {:.0}%",
                s.segment,
                s.chosen,
                s.spread,
                s.training_stage_weighted.mean_absolute_error,
                s.training_learned.mean_absolute_error,
                s.test.mean_absolute_error,
                s.test.bias,
                100.0 * s.test.relative_error,
                100.0 * s.test.coverage
            );
        }
    }
}

/// One synthetic opportunity's life.
struct Life {
    id: usize,
    created: Date,
    closed: Date,
    won: bool,
    expected_close: Date,
    amount: Decimal,
    owner: usize,
    product: usize,
    source: usize,
    /// Days after creation at which it entered stage 1, 2, 3 (stage 0 at creation).
    stage_days: [i64; 3],
}

struct World {
    lives: Vec<Life>,
}

impl World {
    /// `count` opportunities created over 2023-2025 with a seasonal rhythm (more in Q4 and
    /// March). Reps 0-4 sandbag (close later than they say, stage late), reps 5-9 over-commit
    /// (expected close too early); one in six opportunities stalls and is lost late.
    fn generate(count: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let start = date(2023, 1, 1);
        let mut lives = Vec::with_capacity(count);
        while lives.len() < count {
            let day = (unit(&mut rng) * 1_095.0) as i64;
            let created = start.checked_add(day.days()).expect("in range");
            let month = created.month();
            let season = if month >= 10 || month == 3 { 1.0 } else { 0.6 };
            if unit(&mut rng) > season {
                continue;
            }
            let owner = (rng.next_u32() as usize) % REPS;
            let product = (rng.next_u32() as usize) % PRODUCTS.len();
            let source = (rng.next_u32() as usize) % SOURCES.len();
            let stalled = unit(&mut rng) < 1.0 / 6.0;
            let logit =
                -0.4 + [0.4, 0.0, -0.6][product] + [-0.2, 0.6, 0.1, -0.5][source] + (owner as f64 / REPS as f64 - 0.5)
                    - if stalled { 2.0 } else { 0.0 };
            let won = unit(&mut rng) < 1.0 / (1.0 + (-logit).exp());
            let cycle = (60.0 * (0.5 * normal(&mut rng)).exp() * if stalled { 2.5 } else { 1.0 }).max(5.0);
            let cycle_days = cycle as i64;
            let said = match owner {
                0..=4 => cycle * 1.3,
                5..=9 => cycle * 0.6,
                _ => cycle * (0.25 * normal(&mut rng)).exp(),
            };
            let amount = Decimal::new((2_000_000.0 * (0.8 * normal(&mut rng)).exp()) as i64, 2);
            // Lost opportunities die part-way; won ones pass all stages.
            let reach = if won { 1.0 } else { unit(&mut rng) };
            let stage_days = [0.25, 0.5, 0.75].map(|f: f64| {
                let d = (f * cycle) as i64;
                if f <= reach { d } else { i64::MAX / 4 }
            });
            lives.push(Life {
                id: lives.len(),
                created,
                closed: created.checked_add(cycle_days.days()).expect("in range"),
                won,
                expected_close: created.checked_add((said as i64).max(1).days()).expect("in range"),
                amount,
                owner,
                product,
                source,
                stage_days,
            });
        }
        Self { lives }
    }

    fn view(life: &Life, as_of: Date) -> OpenOpportunity {
        let age = (as_of - life.created).get_days() as i64;
        let stage = life.stage_days.iter().filter(|&&d| d <= age).count();
        // Sandbaggers keep opportunities one stage lower than they are.
        let shown = if life.owner < 5 { stage.saturating_sub(1) } else { stage };
        let entered = if stage == 0 { 0 } else { life.stage_days[stage - 1] };
        let (name, probability) = STAGES[shown];
        OpenOpportunity {
            id: life.id.to_string(),
            amount: life.amount,
            stage: name.to_owned(),
            stage_probability: probability.parse().expect("decimal"),
            age_days: u32::try_from(age).unwrap_or(0),
            days_in_stage: u32::try_from(age - entered).unwrap_or(0),
            expected_close: life.expected_close,
            owner: format!("rep{:02}", life.owner),
            product_line: PRODUCTS[life.product].to_owned(),
            source: SOURCES[life.source].to_owned(),
        }
    }

    fn open_on(&self, as_of: Date) -> Vec<OpenOpportunity> {
        self.lives.iter().filter(|l| l.created <= as_of && as_of < l.closed).map(|l| Self::view(l, as_of)).collect()
    }

    /// As-of reconstruction of the history: a view on each month start while open, for
    /// opportunities closed before `as_of` within the last `months` months.
    fn history_until(&self, as_of: Date, months: i32) -> Vec<ClosedOutcome> {
        let from = as_of.checked_sub(months.months()).expect("in range");
        let mut history = Vec::new();
        for life in self.lives.iter().filter(|l| l.closed < as_of && l.closed >= from) {
            let mut seen = life.created.first_of_month().checked_add(1.month()).expect("in range");
            while seen < life.closed {
                history.push(ClosedOutcome { as_seen: Self::view(life, seen), won: life.won, closed_on: life.closed });
                seen = seen.checked_add(1.month()).expect("in range");
            }
        }
        history
    }

    fn won_views_in(&self, period: Period) -> Vec<ClosedOutcome> {
        self.lives
            .iter()
            .filter(|l| l.won && period.contains(l.closed))
            .map(|l| ClosedOutcome { as_seen: Self::view(l, l.created), won: true, closed_on: l.closed })
            .collect()
    }

    fn won_in(&self, period: Period) -> Decimal {
        self.lives.iter().filter(|l| l.won && period.contains(l.closed)).map(|l| l.amount).sum()
    }
}

fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u = unit(rng).max(1e-12);
    let v = unit(rng);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}
