//! The M3 competition benchmark: parse the series file, forecast every series with the
//! automatic method on the official training part, and score sMAPE and MASE as the
//! competition's literature does (mean over series of each series' mean over the horizon).

use std::fmt;
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::series::{Diagnostic, Forecast, Method, Options, auto_forecast};

/// M3 period of a series, which fixes its season length and horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Yearly,
    Quarterly,
    Monthly,
    Other,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Yearly, Period::Quarterly, Period::Monthly, Period::Other];

    /// Season length used for models and for the MASE scale: 12 monthly, 4 quarterly, else 1.
    pub fn season(self) -> usize {
        match self {
            Period::Monthly => 12,
            Period::Quarterly => 4,
            Period::Yearly | Period::Other => 1,
        }
    }

    fn parse(text: &str) -> Option<Period> {
        match text.trim() {
            "YEARLY" => Some(Period::Yearly),
            "QUARTERLY" => Some(Period::Quarterly),
            "MONTHLY" => Some(Period::Monthly),
            "OTHER" => Some(Period::Other),
            _ => None,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Period::Yearly => "YEARLY",
            Period::Quarterly => "QUARTERLY",
            Period::Monthly => "MONTHLY",
            Period::Other => "OTHER",
        })
    }
}

/// One M3 series with its official split.
#[derive(Debug, Clone, PartialEq)]
pub struct M3Series {
    pub id: String,
    pub period: Period,
    pub category: String,
    pub train: Vec<f64>,
    pub test: Vec<f64>,
}

/// A problem in the M3 file, with the line at fault.
#[derive(Debug, thiserror::Error)]
pub enum M3Error {
    #[error("line {line}: unreadable CSV: {message}")]
    Csv { line: u64, message: String },
    #[error("the header has no `{0}` column")]
    MissingColumn(&'static str),
    #[error("line {line}, column `{column}`: {message}")]
    Field { line: u64, column: &'static str, message: String },
}

/// Parses the M3 file (columns `series`, `period`, `category`, `n_train`, `h`, `train_values`,
/// `test_values`; values space-separated, oldest first) and checks the declared lengths.
pub fn parse_m3(reader: impl Read) -> Result<Vec<M3Series>, M3Error> {
    let mut csv = csv::Reader::from_reader(reader);
    let headers = csv.headers().map_err(|e| M3Error::Csv { line: 1, message: e.to_string() })?.clone();
    let column = |name: &'static str| headers.iter().position(|h| h == name).ok_or(M3Error::MissingColumn(name));
    let id_column = column("series")?;
    let period_column = column("period")?;
    let category_column = column("category")?;
    let train_length_column = column("n_train")?;
    let horizon_column = column("h")?;
    let train_column = column("train_values")?;
    let test_column = column("test_values")?;
    let mut series = Vec::new();
    for record in csv.records() {
        let record =
            record.map_err(|e| M3Error::Csv { line: e.position().map_or(0, |p| p.line()), message: e.to_string() })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |index: usize| record.get(index).unwrap_or("");
        let period_text = field(period_column);
        let period = Period::parse(period_text).ok_or_else(|| M3Error::Field {
            line,
            column: "period",
            message: format!("unknown period `{period_text}`"),
        })?;
        let count = |index: usize, name: &'static str| {
            field(index).trim().parse::<usize>().map_err(|_| M3Error::Field {
                line,
                column: name,
                message: format!("`{}` is not a count", field(index)),
            })
        };
        let values = |index: usize, name: &'static str| {
            field(index)
                .split_whitespace()
                .map(|token| {
                    token.parse::<f64>().map_err(|_| M3Error::Field {
                        line,
                        column: name,
                        message: format!("`{token}` is not a number"),
                    })
                })
                .collect::<Result<Vec<f64>, M3Error>>()
        };
        let train = values(train_column, "train_values")?;
        let test = values(test_column, "test_values")?;
        let train_length = count(train_length_column, "n_train")?;
        let horizon = count(horizon_column, "h")?;
        if train.len() != train_length {
            return Err(M3Error::Field {
                line,
                column: "train_values",
                message: format!("{} values but n_train is {train_length}", train.len()),
            });
        }
        if test.len() != horizon {
            return Err(M3Error::Field {
                line,
                column: "test_values",
                message: format!("{} values but h is {horizon}", test.len()),
            });
        }
        series.push(M3Series {
            id: field(id_column).to_string(),
            period,
            category: field(category_column).to_string(),
            train,
            test,
        });
    }
    Ok(series)
}

/// Symmetric MAPE of one series, in percent: the mean over the horizon of
/// `200 |y - f| / (|y| + |f|)` (a step where both are zero counts as zero error).
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    let terms: Vec<f64> = actual
        .iter()
        .zip(forecast)
        .map(|(y, f)| {
            let denominator = y.abs() + f.abs();
            if denominator == 0.0 { 0.0 } else { 200.0 * (y - f).abs() / denominator }
        })
        .collect();
    terms.iter().sum::<f64>() / terms.len().max(1) as f64
}

/// Mean absolute scaled error of one series: the forecast's mean absolute error divided by the
/// in-sample mean absolute seasonal difference at lag `season`. NaN when that scale is zero or
/// the training part is not longer than a season.
pub fn mase(train: &[f64], actual: &[f64], forecast: &[f64], season: usize) -> f64 {
    let season = season.max(1);
    if train.len() <= season {
        return f64::NAN;
    }
    let scale =
        train.windows(season + 1).map(|w| (w[season] - w[0]).abs()).sum::<f64>() / (train.len() - season) as f64;
    if scale == 0.0 {
        return f64::NAN;
    }
    let error = actual.iter().zip(forecast).map(|(y, f)| (y - f).abs()).sum::<f64>() / actual.len().max(1) as f64;
    error / scale
}

/// Scores of one method over one group of series.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    /// `YEARLY` .. `OTHER`, or `ALL`.
    pub group: String,
    pub series: usize,
    /// Mean over series of the per-series sMAPE, in percent.
    pub smape: f64,
    /// Mean over series of the per-series MASE (series with a zero scale left out).
    pub mase: f64,
}

/// The scores of one method (the combination or one of its components), per period and overall.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodScores {
    pub method: String,
    /// One row per period present, then `ALL`.
    pub rows: Vec<ScoreRow>,
}

/// The outcome of [`run_m3`].
#[derive(Debug, Clone, PartialEq)]
pub struct M3Report {
    /// The method as run (first) and, for a combination, each component alone.
    pub methods: Vec<MethodScores>,
    pub series: usize,
    /// Series forecast by a fitted model rather than a fallback.
    pub fitted: usize,
    /// How often each final method was used, most frequent first.
    pub chosen: Vec<(String, usize)>,
    /// Per interval level (percent): the share of test values inside the interval, in percent.
    pub coverage: Vec<(f64, f64)>,
}

impl M3Report {
    /// The overall sMAPE of the method as run.
    pub fn overall_smape(&self) -> f64 {
        self.methods.first().and_then(|m| m.rows.last()).map_or(f64::NAN, |row| row.smape)
    }
}

impl fmt::Display for M3Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} of {} series fitted by a model", self.fitted, self.series)?;
        for scores in &self.methods {
            writeln!(f)?;
            writeln!(f, "{}", scores.method)?;
            writeln!(f, "| period | series | sMAPE | MASE |")?;
            writeln!(f, "|---|---:|---:|---:|")?;
            for row in &scores.rows {
                writeln!(f, "| {} | {} | {:.2} | {:.3} |", row.group, row.series, row.smape, row.mase)?;
            }
        }
        writeln!(f)?;
        for (level, share) in &self.coverage {
            writeln!(f, "{level}% intervals contain {share:.1}% of the test values")?;
        }
        let chosen: Vec<String> = self.chosen.iter().take(8).map(|(name, count)| format!("{name}: {count}")).collect();
        writeln!(f, "most chosen: {}", chosen.join(", "))
    }
}

/// Forecasts every series with the default automatic method ([`Options::default`]) on
/// `threads` threads and scores it.
pub fn run_m3(series: &[M3Series], threads: usize) -> M3Report {
    run_m3_with(series, threads, &Options::default())
}

/// As [`run_m3`] with explicit forecasting options.
pub fn run_m3_with(series: &[M3Series], threads: usize, options: &Options) -> M3Report {
    let forecasts = forecast_all(series, threads, options);
    score(series, &forecasts)
}

/// Forecasts each series (training part, official horizon) with work shared between threads.
pub fn forecast_all(series: &[M3Series], threads: usize, options: &Options) -> Vec<Forecast> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Forecast>>> = Mutex::new(vec![None; series.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = series.get(index) else { break };
                    let forecast = auto_forecast(&item.train, item.period.season(), item.test.len(), options);
                    if let Ok(mut slots) = results.lock() {
                        slots[index] = Some(forecast);
                    }
                }
            });
        }
    });
    let slots = results.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    slots.into_iter().map(|slot| slot.unwrap_or_else(unreachable_forecast)).collect()
}

/// Only reached if a worker thread panicked before storing its result.
fn unreachable_forecast() -> Forecast {
    Forecast {
        method: Method::NoData,
        point: Vec::new(),
        intervals: Vec::new(),
        components: Vec::new(),
        diagnostics: vec![Diagnostic::NoModelFitted],
    }
}

fn component_name(method: &Method) -> String {
    match method {
        Method::Ets(_) => "ETS (AICc-selected)".to_string(),
        Method::EtsWeighted { .. } => "ETS (AICc-weighted)".to_string(),
        Method::Arima { .. } => "ARIMA (AICc-weighted, seasonally adjusted)".to_string(),
        Method::Theta { .. } => "Theta (classic)".to_string(),
        other => other.to_string(),
    }
}

fn method_name(forecast: &Forecast) -> String {
    match &forecast.method {
        Method::Combination { members } => {
            let names: Vec<String> = members.iter().map(component_name).collect();
            format!("mean of {}", names.join(", "))
        }
        other => component_name(other),
    }
}

/// Scores forecasts against the test parts.
pub fn score(series: &[M3Series], forecasts: &[Forecast]) -> M3Report {
    // Per method name: per series (period, sMAPE, MASE).
    let mut per_method: Vec<(String, Vec<SeriesScore>)> = Vec::new();
    let mut record = |name: String, period: Period, smape: f64, mase: f64| match per_method
        .iter_mut()
        .find(|(existing, _)| *existing == name)
    {
        Some((_, rows)) => rows.push((period, smape, mase)),
        None => per_method.push((name, vec![(period, smape, mase)])),
    };
    let mut chosen: Vec<(String, usize)> = Vec::new();
    let mut fitted = 0;
    // Per level: (level, values inside, values checked).
    let mut inside: Vec<(f64, usize, usize)> = Vec::new();
    let overall_name = forecasts.first().map(method_name).unwrap_or_default();
    for (item, forecast) in series.iter().zip(forecasts) {
        let season = item.period.season();
        let failed = forecast
            .diagnostics
            .iter()
            .any(|d| matches!(d, Diagnostic::NoModelFitted | Diagnostic::TooShort { .. } | Diagnostic::NoData));
        if !failed {
            fitted += 1;
        }
        record(
            overall_name.clone(),
            item.period,
            smape(&item.test, &forecast.point),
            mase(&item.train, &item.test, &forecast.point, season),
        );
        for component in &forecast.components {
            record(
                component_name(&component.method),
                item.period,
                smape(&item.test, &component.point),
                mase(&item.train, &item.test, &component.point, season),
            );
        }
        for interval in &forecast.intervals {
            let hits = item
                .test
                .iter()
                .zip(interval.lower.iter().zip(&interval.upper))
                .filter(|&(y, (lower, upper))| lower <= y && y <= upper)
                .count();
            match inside.iter_mut().find(|(level, _, _)| *level == interval.level) {
                Some((_, count, total)) => {
                    *count += hits;
                    *total += item.test.len();
                }
                None => inside.push((interval.level, hits, item.test.len())),
            }
        }
        let label = forecast.method.to_string();
        match chosen.iter_mut().find(|(name, _)| *name == label) {
            Some((_, count)) => *count += 1,
            None => chosen.push((label, 1)),
        }
    }
    chosen.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let methods = per_method
        .into_iter()
        .map(|(method, scores)| {
            let mut rows = Vec::new();
            for period in Period::ALL {
                let group: Vec<&SeriesScore> = scores.iter().filter(|(p, _, _)| *p == period).collect();
                if !group.is_empty() {
                    rows.push(row(period.to_string(), &group));
                }
            }
            let all: Vec<&SeriesScore> = scores.iter().collect();
            rows.push(row("ALL".to_string(), &all));
            MethodScores { method, rows }
        })
        .collect();
    let coverage =
        inside.into_iter().map(|(level, count, total)| (level, 100.0 * count as f64 / total.max(1) as f64)).collect();
    M3Report { methods, series: series.len(), fitted, chosen, coverage }
}

/// Period, sMAPE and MASE of one series under one method.
type SeriesScore = (Period, f64, f64);

fn row(group: String, scores: &[&SeriesScore]) -> ScoreRow {
    let smape = scores.iter().map(|s| s.1).sum::<f64>() / scores.len() as f64;
    let finite: Vec<f64> = scores.iter().map(|s| s.2).filter(|v| v.is_finite()).collect();
    let mase = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
    ScoreRow { group, series: scores.len(), smape, mase }
}
