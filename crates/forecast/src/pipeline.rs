//! Pipeline forecast (F1) from the open opportunities as of a date, and its back-tests (F4).
//!
//! Three estimates for a period (any inclusive date range: a fiscal month, quarter or year):
//! - **stage-weighted**: the exact sum of amount × stage probability over the opportunities whose
//!   expected close date falls in the period ([`stage_weighted`]);
//! - **learned**: a win probability per opportunity from an L2-regularised logistic regression on
//!   the company's own closed history ([`fit_win_model`]), with a calibration report against the
//!   stage weights ([`calibration`]); too little history falls back to the stage weights;
//! - **Monte Carlo** ranges P10/P50/P90 ([`forecast`]): each opportunity wins with its
//!   probability and closes on its expected date moved by a slippage drawn from the history's
//!   actual-minus-expected close dates. Seeded ChaCha streams per simulation: same seed, same
//!   result, whatever the number of threads.
//!
//! [`backtest`] replays as-of snapshots month by month, scores the P50 against what actually
//! closed and the share of outcomes inside P10–P90, and chooses stage-weighted or learned per
//! segment on the earlier (training) snapshots.
//!
//! Amounts are [`Decimal`] in the reporting currency (the app converts with its FX rates first);
//! sums are exact. Probabilities are `f64`.
//!
//! # As-of reconstruction
//! Every input is "the opportunity as it looked on a date". The app builds an
//! [`OpenOpportunity`] from stage history by replaying the stage changes up to the as-of date:
//! the stage and its probability then in force, `age_days` = as-of − created, `days_in_stage` =
//! as-of − date of the last stage change, and the amount and expected close date last recorded on
//! or before the as-of date. A [`ClosedOutcome`] is such a view of an opportunity that later
//! closed (taken on any date while it was open, e.g. each month end it was open), with its final
//! result and actual close date. Training on these views, not on the final state, keeps the
//! learned model honest: it only sees what was known while the opportunity was open.

mod backtest;
mod learned;
mod simulate;

use std::fmt;

use jiff::civil::Date;
use rust_decimal::Decimal;

pub use backtest::{
    BacktestOptions, BacktestReport, BacktestRow, BacktestSnapshot, ErrorSummary, SegmentChoice, Segmentation, backtest,
};
pub use learned::{
    CalibrationReport, LearningOptions, LogisticModel, ReliabilityBin, Scores, WinModel, calibration, fit_win_model,
    logistic_regression,
};
pub use simulate::{SimulatedRange, SimulationOptions, SlippageModel, simulate_period};

/// An open opportunity as it looked on the as-of date (see the module docs on as-of
/// reconstruction).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenOpportunity {
    /// The opportunity's id, used in diagnostics.
    pub id: String,
    /// Amount in the reporting currency.
    pub amount: Decimal,
    /// Stage name, e.g. "Qualify", "Propose".
    pub stage: String,
    /// The stage's configured win probability in `[0, 1]`.
    pub stage_probability: Decimal,
    /// Days since the opportunity was created.
    pub age_days: u32,
    /// Days since the last stage change.
    pub days_in_stage: u32,
    /// The expected close date recorded on the as-of date.
    pub expected_close: Date,
    /// Owner (rep) key.
    pub owner: String,
    /// Product line key.
    pub product_line: String,
    /// Lead source key.
    pub source: String,
}

/// A historical view of an opportunity that has since closed: what was known while it was open,
/// and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedOutcome {
    /// The opportunity as it looked on some date while it was open.
    pub as_seen: OpenOpportunity,
    /// Whether it was won.
    pub won: bool,
    /// The date it was won or lost.
    pub closed_on: Date,
}

/// An inclusive date range: a (fiscal) month, quarter or year. Constructed by [`Period::new`] so
/// the start is never after the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    start: Date,
    end: Date,
}

impl Period {
    /// The period from `start` to `end`, both inclusive.
    ///
    /// # Errors
    /// [`PipelineError::EmptyPeriod`] when `end` is before `start`.
    pub fn new(start: Date, end: Date) -> Result<Self, PipelineError> {
        if end < start {
            return Err(PipelineError::EmptyPeriod { start, end });
        }
        Ok(Self { start, end })
    }

    /// First day.
    #[must_use]
    pub fn start(self) -> Date {
        self.start
    }

    /// Last day (inclusive).
    #[must_use]
    pub fn end(self) -> Date {
        self.end
    }

    /// Whether `date` lies in the period.
    #[must_use]
    pub fn contains(self, date: Date) -> bool {
        self.start <= date && date <= self.end
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.start, self.end)
    }
}

/// User errors of the pipeline forecast.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    /// A period whose end lies before its start.
    #[error("period ends on {end}, before it starts on {start}")]
    EmptyPeriod {
        /// Given start.
        start: Date,
        /// Given end.
        end: Date,
    },
}

/// Findings on messy data: the forecast still runs, and these say what was done about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Diagnostic {
    /// An open opportunity with a negative amount; excluded.
    NegativeAmount {
        /// Opportunity id.
        id: String,
    },
    /// A stage probability outside `[0, 1]`; clamped.
    StageProbabilityOutOfRange {
        /// Opportunity id.
        id: String,
    },
    /// Too little closed history to learn a win probability: stage weights are used instead.
    ThinHistory {
        /// Closed views given.
        rows: usize,
        /// Of which won.
        won: usize,
        /// Of which lost.
        lost: usize,
        /// Rows needed, and at least this many of each outcome (a fifth of it).
        needed: usize,
    },
    /// No won history to learn close-date slippage from: expected close dates are taken as is.
    NoSlippageHistory,
    /// Opportunities whose expected close date lies before the as-of date (overdue); they are
    /// simulated as closing on or after the as-of date.
    OverdueCloseDates {
        /// How many.
        count: usize,
    },
    /// The period ends before the as-of date: nothing open can close in it.
    PeriodInThePast,
    /// The back-test had no training snapshots for a segment; the stage weights were chosen.
    NoTrainingSnapshots {
        /// Segment key.
        segment: String,
    },
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NegativeAmount { id } => write!(f, "opportunity {id} has a negative amount; excluded"),
            Self::StageProbabilityOutOfRange { id } => {
                write!(f, "opportunity {id} has a stage probability outside 0..1; clamped")
            }
            Self::ThinHistory { rows, won, lost, needed } => write!(
                f,
                "only {rows} closed rows ({won} won, {lost} lost; need {needed} and a fifth of each): \
                 using stage weights"
            ),
            Self::NoSlippageHistory => write!(f, "no won history: close dates are not slipped"),
            Self::OverdueCloseDates { count } => {
                write!(f, "{count} opportunities have an expected close date before the as-of date")
            }
            Self::PeriodInThePast => write!(f, "the period ends before the as-of date"),
            Self::NoTrainingSnapshots { segment } => {
                write!(f, "segment {segment} has no training snapshots: stage weights chosen")
            }
        }
    }
}

/// Which win probability drives the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Method {
    /// The stage's configured probability.
    #[default]
    StageWeighted,
    /// The probability learned from closed history (stage weights when history is too thin).
    Learned,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::StageWeighted => "stage-weighted",
            Self::Learned => "learned",
        })
    }
}

/// Options of [`forecast`].
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastOptions {
    /// Win probability used by the simulation.
    pub method: Method,
    /// Logistic-regression settings.
    pub learning: LearningOptions,
    /// Monte Carlo settings (simulations, seed, threads).
    pub simulation: SimulationOptions,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        Self { method: Method::Learned, learning: LearningOptions::default(), simulation: SimulationOptions::default() }
    }
}

/// The pipeline forecast for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineForecast {
    /// The period forecast.
    pub period: Period,
    /// Open opportunities (valid amount) whose expected close date is in the period.
    pub open_in_period: usize,
    /// Their total amount, unweighted.
    pub unweighted: Decimal,
    /// Their exact sum of amount × stage probability.
    pub stage_weighted: Decimal,
    /// Their sum of amount × learned win probability, rounded to the amounts' scale (equals the
    /// stage-weighted sum when history was too thin).
    pub learned_weighted: Decimal,
    /// The method the simulation used, after any fallback.
    pub method: Method,
    /// Monte Carlo range of the amount won in the period, over all open opportunities, with
    /// close-date slippage.
    pub range: SimulatedRange,
}

/// Exact stage-weighted sum over the opportunities whose expected close date lies in `period`.
/// Negative amounts are skipped and probabilities clamped to `[0, 1]` (see [`forecast`] for the
/// diagnostics).
#[must_use]
pub fn stage_weighted(open: &[OpenOpportunity], period: Period) -> Decimal {
    open.iter()
        .filter(|o| o.amount >= Decimal::ZERO && period.contains(o.expected_close))
        .map(|o| o.amount * clamp_probability(o.stage_probability))
        .sum()
}

/// The pipeline forecast for `period` from the opportunities open on `as_of` and the closed
/// history known on `as_of`.
///
/// Learns the win model (if `options.method` is [`Method::Learned`]) and the slippage model
/// from `history`, then simulates.
#[must_use]
pub fn forecast(
    open: &[OpenOpportunity],
    history: &[ClosedOutcome],
    as_of: Date,
    period: Period,
    options: &ForecastOptions,
) -> (PipelineForecast, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let valid = clean_open(open, &mut diagnostics);
    let (model, method) = match options.method {
        Method::StageWeighted => (WinModel::StageWeights, Method::StageWeighted),
        Method::Learned => {
            let (model, found) = fit_win_model(history, &options.learning);
            diagnostics.extend(found);
            let method = if matches!(model, WinModel::Learned(_)) { Method::Learned } else { Method::StageWeighted };
            (model, method)
        }
    };
    let (slippage, found) = SlippageModel::learn(history);
    diagnostics.extend(found);
    if period.end() < as_of {
        diagnostics.push(Diagnostic::PeriodInThePast);
    }
    let overdue = valid.iter().filter(|o| o.expected_close < as_of).count();
    if overdue > 0 {
        diagnostics.push(Diagnostic::OverdueCloseDates { count: overdue });
    }

    let in_period: Vec<&OpenOpportunity> =
        valid.iter().copied().filter(|o| period.contains(o.expected_close)).collect();
    let unweighted = in_period.iter().map(|o| o.amount).sum();
    let stage = in_period.iter().map(|o| o.amount * clamp_probability(o.stage_probability)).sum();
    let scale = in_period.iter().map(|o| o.amount.scale()).max().unwrap_or(2);
    let learned: f64 = in_period.iter().map(|o| decimal_to_f64(o.amount) * model.win_probability(o)).sum();
    let learned_weighted = if method == Method::Learned {
        Decimal::from_f64_retain(learned).unwrap_or_default().round_dp(scale)
    } else {
        stage
    };

    let probabilities: Vec<f64> = valid.iter().map(|o| model.win_probability(o)).collect();
    let amounts: Vec<Decimal> = valid.iter().map(|o| o.amount).collect();
    let closes: Vec<Date> = valid.iter().map(|o| o.expected_close).collect();
    let range = simulate_period(&amounts, &probabilities, &closes, &slippage, as_of, period, &options.simulation);
    let output = PipelineForecast {
        period,
        open_in_period: in_period.len(),
        unweighted,
        stage_weighted: stage,
        learned_weighted,
        method,
        range,
    };
    (output, diagnostics)
}

/// The opportunities fit to forecast: negative amounts are dropped, out-of-range probabilities
/// reported (they are clamped wherever used).
fn clean_open<'a>(open: &'a [OpenOpportunity], diagnostics: &mut Vec<Diagnostic>) -> Vec<&'a OpenOpportunity> {
    let mut valid = Vec::with_capacity(open.len());
    for o in open {
        if o.amount < Decimal::ZERO {
            diagnostics.push(Diagnostic::NegativeAmount { id: o.id.clone() });
            continue;
        }
        if o.stage_probability < Decimal::ZERO || o.stage_probability > Decimal::ONE {
            diagnostics.push(Diagnostic::StageProbabilityOutOfRange { id: o.id.clone() });
        }
        valid.push(o);
    }
    valid
}

fn clamp_probability(p: Decimal) -> Decimal {
    p.clamp(Decimal::ZERO, Decimal::ONE)
}

/// Decimal to float for statistics only (never for sums reported as money).
fn decimal_to_f64(value: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    value.to_f64().unwrap_or(0.0)
}
