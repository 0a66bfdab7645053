//! Back-tests (F4): replay as-of snapshots, score the P50 and the P10–P90 coverage against what
//! actually closed, and choose per segment, on the training snapshots, stage-weighted or learned
//! (lower P50 error) and the spread of the common shift (P10–P90 coverage closest to 80%).

use std::collections::BTreeMap;

use jiff::civil::Date;
use rust_decimal::Decimal;

use super::{
    ClosedOutcome, Diagnostic, ForecastOptions, Method, OpenOpportunity, Period, SimulatedRange, SimulationOptions,
    SlippageModel, WinModel, clean_open, fit_win_model, simulate_period,
};

/// What the pipeline looked like on one as-of date, and what then happened.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestSnapshot {
    /// The as-of date.
    pub as_of: Date,
    /// The period forecast from that date (e.g. the month or quarter it falls in).
    pub period: Period,
    /// Opportunities open on `as_of`, reconstructed from stage history.
    pub open: Vec<OpenOpportunity>,
    /// Closed history known on `as_of` (closed on or before it).
    pub history: Vec<ClosedOutcome>,
    /// What was actually won with a close date in `period` (including opportunities created
    /// after `as_of`, which no pipeline forecast can see; the error reports that honestly).
    pub actual_won: Vec<ClosedOutcome>,
}

/// How opportunities are grouped for choosing a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Segmentation {
    /// One segment, "total".
    #[default]
    Total,
    /// Per owner.
    Owner,
    /// Per product line.
    ProductLine,
    /// Per lead source.
    Source,
}

impl Segmentation {
    fn key(self, o: &OpenOpportunity) -> String {
        match self {
            Self::Total => "total".to_owned(),
            Self::Owner => o.owner.clone(),
            Self::ProductLine => o.product_line.clone(),
            Self::Source => o.source.clone(),
        }
    }
}

/// Back-test settings.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestOptions {
    /// Grouping for the method choice.
    pub segmentation: Segmentation,
    /// Share of the snapshots (earliest first) used to choose the method; the rest score it.
    pub training_share: f64,
    /// Forecast settings (its `method` and `simulation.spread` are ignored: both methods and
    /// every spread in `spreads` are run).
    pub forecast: ForecastOptions,
    /// Candidate spreads ([`super::SimulationOptions::spread`]); per segment the one whose
    /// training coverage of P10–P90 is closest to the nominal 80% is chosen. Include 0.
    pub spreads: Vec<f64>,
}

impl Default for BacktestOptions {
    fn default() -> Self {
        Self {
            segmentation: Segmentation::Total,
            training_share: 0.5,
            forecast: ForecastOptions::default(),
            spreads: vec![0.0, 0.25, 0.5, 1.0],
        }
    }
}

/// One forecast in the back-test.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestRow {
    /// As-of date.
    pub as_of: Date,
    /// Segment key.
    pub segment: String,
    /// Method forecast with.
    pub method: Method,
    /// Spread of the common log-odds shift simulated.
    pub spread: f64,
    /// Whether the snapshot is in the training part.
    pub training: bool,
    /// The simulated range.
    pub range: SimulatedRange,
    /// What was actually won in the period.
    pub actual: Decimal,
}

impl BacktestRow {
    /// Whether the actual lies within P10–P90 (inclusive).
    #[must_use]
    pub fn inside(&self) -> bool {
        self.range.p10 <= self.actual && self.actual <= self.range.p90
    }
}

/// Error of the P50 and interval coverage over some rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorSummary {
    /// Rows summarised.
    pub count: usize,
    /// Mean of |P50 − actual|.
    pub mean_absolute_error: Decimal,
    /// Mean of P50 − actual (positive: forecasts too high).
    pub bias: Decimal,
    /// Σ|P50 − actual| / Σ actual (0 when nothing was won).
    pub relative_error: f64,
    /// Share of rows whose actual lies within P10–P90.
    pub coverage: f64,
}

/// The method chosen for one segment and how it did.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentChoice {
    /// Segment key.
    pub segment: String,
    /// The method with the lower mean absolute P50 error on the training snapshots (ties and
    /// empty training go to the stage weights), compared without spread.
    pub chosen: Method,
    /// The spread whose training P10–P90 coverage with the chosen method is closest to 80%.
    pub spread: f64,
    /// Stage-weighted on the training snapshots, without spread.
    pub training_stage_weighted: ErrorSummary,
    /// Learned on the training snapshots, without spread.
    pub training_learned: ErrorSummary,
    /// The chosen method and spread on the later (test) snapshots.
    pub test: ErrorSummary,
}

/// The back-test result.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestReport {
    /// Every forecast, both methods, every segment and snapshot.
    pub rows: Vec<BacktestRow>,
    /// Per segment: the choice and its test score.
    pub segments: Vec<SegmentChoice>,
    /// Stage-weighted over all snapshots and segments, without spread.
    pub stage_weighted: ErrorSummary,
    /// Learned over all snapshots and segments, without spread.
    pub learned: ErrorSummary,
}

/// Runs the back-test over `snapshots` (sorted by as-of date here).
#[must_use]
pub fn backtest(snapshots: &[BacktestSnapshot], options: &BacktestOptions) -> (BacktestReport, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut order: Vec<&BacktestSnapshot> = snapshots.iter().collect();
    order.sort_by_key(|s| s.as_of);
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "share of a count")]
    let training_count = (options.training_share.clamp(0.0, 1.0) * order.len() as f64).round() as usize;

    let mut spreads: Vec<f64> = options.spreads.iter().copied().filter(|s| s.is_finite() && *s >= 0.0).collect();
    if !spreads.contains(&0.0) {
        spreads.insert(0, 0.0);
    }
    let mut rows = Vec::new();
    for (index, snapshot) in order.iter().enumerate() {
        let mut found = Vec::new();
        let open = clean_open(&snapshot.open, &mut found);
        let (learned, thin) = fit_win_model(&snapshot.history, &options.forecast.learning);
        found.extend(thin);
        let (slippage, none) = SlippageModel::learn(&snapshot.history);
        found.extend(none);
        for d in found {
            if !diagnostics.contains(&d) {
                diagnostics.push(d);
            }
        }
        let mut segments: BTreeMap<String, (Vec<&OpenOpportunity>, Decimal)> = BTreeMap::new();
        for o in &open {
            segments.entry(options.segmentation.key(o)).or_default().0.push(o);
        }
        for won in snapshot.actual_won.iter().filter(|w| w.won && snapshot.period.contains(w.closed_on)) {
            segments.entry(options.segmentation.key(&won.as_seen)).or_default().1 += won.as_seen.amount;
        }
        for (segment, (deals, actual)) in segments {
            for (method, model) in [(Method::StageWeighted, &WinModel::StageWeights), (Method::Learned, &learned)] {
                for &spread in &spreads {
                    let simulation = SimulationOptions { spread, ..options.forecast.simulation.clone() };
                    let range = simulate_deals(&deals, model, &slippage, snapshot, &simulation);
                    rows.push(BacktestRow {
                        as_of: snapshot.as_of,
                        segment: segment.clone(),
                        method,
                        spread,
                        training: index < training_count,
                        range,
                        actual,
                    });
                }
            }
        }
    }

    let keys: Vec<String> = {
        let mut k: Vec<String> = rows.iter().map(|r| r.segment.clone()).collect();
        k.sort();
        k.dedup();
        k
    };
    let mut segments = Vec::new();
    for segment in keys {
        let pick = |method: Method, spread: f64, training: bool| -> Vec<&BacktestRow> {
            rows.iter()
                .filter(|r| r.segment == segment && r.method == method && r.spread == spread && r.training == training)
                .collect()
        };
        let training_stage_weighted = summarise(&pick(Method::StageWeighted, 0.0, true));
        let training_learned = summarise(&pick(Method::Learned, 0.0, true));
        let chosen = if training_stage_weighted.count == 0 {
            diagnostics.push(Diagnostic::NoTrainingSnapshots { segment: segment.clone() });
            Method::StageWeighted
        } else if training_learned.mean_absolute_error < training_stage_weighted.mean_absolute_error {
            Method::Learned
        } else {
            Method::StageWeighted
        };
        let mut spread = 0.0;
        let mut best = f64::INFINITY;
        for &candidate in &spreads {
            let miss = (summarise(&pick(chosen, candidate, true)).coverage - 0.8).abs();
            if miss < best - 1e-12 {
                best = miss;
                spread = candidate;
            }
        }
        let test = summarise(&pick(chosen, spread, false));
        segments.push(SegmentChoice { segment, chosen, spread, training_stage_weighted, training_learned, test });
    }
    let of =
        |method: Method| summarise(&rows.iter().filter(|r| r.method == method && r.spread == 0.0).collect::<Vec<_>>());
    let report =
        BacktestReport { stage_weighted: of(Method::StageWeighted), learned: of(Method::Learned), segments, rows };
    (report, diagnostics)
}

fn simulate_deals(
    deals: &[&OpenOpportunity],
    model: &WinModel,
    slippage: &SlippageModel,
    snapshot: &BacktestSnapshot,
    simulation: &SimulationOptions,
) -> SimulatedRange {
    let amounts: Vec<Decimal> = deals.iter().map(|o| o.amount).collect();
    let probabilities: Vec<f64> = deals.iter().map(|o| model.win_probability(o)).collect();
    let closes: Vec<Date> = deals.iter().map(|o| o.expected_close).collect();
    simulate_period(&amounts, &probabilities, &closes, slippage, snapshot.as_of, snapshot.period, simulation)
}

fn summarise(rows: &[&BacktestRow]) -> ErrorSummary {
    let count = rows.len();
    if count == 0 {
        return ErrorSummary {
            count,
            mean_absolute_error: Decimal::ZERO,
            bias: Decimal::ZERO,
            relative_error: 0.0,
            coverage: 0.0,
        };
    }
    let n = Decimal::from(count);
    let absolute: Decimal = rows.iter().map(|r| (r.range.p50 - r.actual).abs()).sum();
    let signed: Decimal = rows.iter().map(|r| r.range.p50 - r.actual).sum();
    let actual: Decimal = rows.iter().map(|r| r.actual).sum();
    let relative_error =
        if actual > Decimal::ZERO { super::decimal_to_f64(absolute) / super::decimal_to_f64(actual) } else { 0.0 };
    let inside = rows.iter().filter(|r| r.inside()).count();
    ErrorSummary {
        count,
        mean_absolute_error: (absolute / n).round_dp(2),
        bias: (signed / n).round_dp(2),
        relative_error,
        coverage: inside as f64 / count as f64,
    }
}
