//! Automatic time-series forecasting for run-rate revenue and demand.
//!
//! [`auto_forecast`] works on the history alone: it fits every admissible member of the ETS
//! state-space family by likelihood and averages their forecasts with Akaike (AICc) weights,
//! fits the classic Theta method and an automatic ARIMA on the seasonally adjusted series, and
//! (by default) returns the mean of the three, with prediction intervals. Method details and M3
//! figures: `docs/forecasting.md`.
//! Messy input never panics: it yields [`Diagnostic`]s and a simple fallback forecast.

mod arima;
mod ets;
mod optimise;
mod stats;
mod theta;

use std::fmt;

pub use arima::{ArimaFit, fit_arima, fit_arima_candidates};
pub use ets::{
    ErrorKind, Estimation, EtsFit, EtsSpec, SeasonKind, TrendKind, akaike_weights, auto_ets, candidate_specs,
    fit_candidates, fit_ets, fit_ets_with,
};
pub use stats::normal_quantile;
pub use theta::{ThetaFit, fit_theta, seasonal_adjustment};

use stats::Random;

/// Which method [`auto_forecast`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MethodChoice {
    /// Mean of the AICc-weighted ETS forecast, classic Theta and automatic ARIMA (the default).
    #[default]
    Combination,
    /// Mean of the AICc-weighted ETS forecast and classic Theta.
    EtsTheta,
    /// The AICc-selected ETS model alone.
    Ets,
    /// Classic Theta alone.
    Theta,
    /// Automatic non-seasonal ARIMA (AICc-weighted) on the seasonally adjusted series alone.
    Arima,
    /// The value one season earlier (a benchmark).
    SeasonalNaive,
}

/// Settings of [`auto_forecast`].
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Prediction interval levels in percent, e.g. `[80.0, 95.0]`.
    pub levels: Vec<f64>,
    /// Seed of the simulation behind ETS intervals; the same seed gives the same forecast.
    pub seed: u64,
    /// Number of simulated sample paths for ETS intervals. 0 skips the simulation; a forecast
    /// involving ETS then gets random-walk intervals around its point forecast.
    pub simulations: usize,
    /// Which method to run.
    pub method: MethodChoice,
}

impl Default for Options {
    fn default() -> Self {
        Options { levels: vec![80.0, 95.0], seed: 42, simulations: 1000, method: MethodChoice::Combination }
    }
}

/// The method that produced a forecast.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Equal-weight mean of the members' forecasts.
    Combination {
        members: Vec<Method>,
    },
    /// The ETS model with the lowest AICc.
    Ets(EtsSpec),
    /// All fitted ETS models averaged with Akaike weights; `best` has the largest weight.
    EtsWeighted {
        best: EtsSpec,
    },
    Theta {
        seasonal: bool,
    },
    /// Automatic ARIMA: the candidate orders averaged with Akaike weights, fitted to the
    /// seasonally adjusted series when `seasonally_adjusted`; `(p, d, q)` is the best order.
    Arima {
        p: usize,
        d: usize,
        q: usize,
        seasonally_adjusted: bool,
    },
    SeasonalNaive,
    /// Last value carried forward: the fallback for short or degenerate series.
    Naive,
    /// No usable data: zeros.
    NoData,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seasonality = |seasonal: &bool| if *seasonal { "seasonal " } else { "" };
        match self {
            Method::Combination { members } => {
                let names: Vec<String> = members.iter().map(ToString::to_string).collect();
                write!(f, "mean of {}", names.join(", "))
            }
            Method::Arima { p, d, q, seasonally_adjusted } => {
                let adjusted = if *seasonally_adjusted { "seasonally adjusted " } else { "" };
                write!(f, "AICc-weighted {adjusted}ARIMA (best ARIMA({p},{d},{q}))")
            }
            Method::Ets(spec) => write!(f, "{spec}"),
            Method::EtsWeighted { best } => write!(f, "AICc-weighted ETS (best {best})"),
            Method::Theta { seasonal } => write!(f, "{}Theta", seasonality(seasonal)),
            Method::SeasonalNaive => write!(f, "seasonal naive"),
            Method::Naive => write!(f, "naive"),
            Method::NoData => write!(f, "no data"),
        }
    }
}

/// A prediction interval at one level, per horizon step.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Level in percent.
    pub level: f64,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

/// One model's point forecast inside a combination.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub method: Method,
    pub point: Vec<f64>,
}

/// The result of [`auto_forecast`].
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub method: Method,
    /// Point forecasts for steps `1..=horizon`.
    pub point: Vec<f64>,
    /// One interval per valid requested level, in the order requested.
    pub intervals: Vec<Interval>,
    /// The point forecasts of the models combined (empty for a single model).
    pub components: Vec<Component>,
    /// What was wrong with the input and what was done about it.
    pub diagnostics: Vec<Diagnostic>,
}

/// A problem with the input series or options, and the way it was handled.
#[derive(Debug, Clone, PartialEq)]
pub enum Diagnostic {
    /// The horizon was zero: nothing to forecast.
    ZeroHorizon,
    /// No finite value at all: the forecast is zero.
    NoData,
    /// Non-finite values (NaN, infinity) were dropped at the start or interpolated.
    MissingValues { count: usize },
    /// Too few observations for the models: the last value is carried forward.
    TooShort { observations: usize, needed: usize },
    /// Every value is the same: the forecast is that value, with zero-width intervals.
    Constant,
    /// Zero or negative values: multiplicative models were not considered.
    NonPositive,
    /// Fewer than two full seasons: seasonal models were not considered.
    SeasonTooLong { observations: usize, season: usize },
    /// An interval level outside (0, 100) was ignored.
    InvalidLevel { level: f64 },
    /// No model could be fitted (numerical failure): the last value is carried forward.
    NoModelFitted,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Diagnostic::ZeroHorizon => write!(f, "horizon is zero; nothing to forecast"),
            Diagnostic::NoData => write!(f, "the series has no finite values; forecasting zero"),
            Diagnostic::MissingValues { count } => {
                write!(f, "{count} missing or non-finite values were dropped or interpolated")
            }
            Diagnostic::TooShort { observations, needed } => write!(
                f,
                "only {observations} observations, {needed} needed for a model; carrying the last value forward"
            ),
            Diagnostic::Constant => write!(f, "the series is constant; forecasting that value"),
            Diagnostic::NonPositive => {
                write!(f, "the series has zero or negative values; multiplicative models skipped")
            }
            Diagnostic::SeasonTooLong { observations, season } => {
                write!(f, "{observations} observations are fewer than two seasons of {season}; seasonal models skipped")
            }
            Diagnostic::InvalidLevel { level } => write!(f, "interval level {level} is not between 0 and 100; ignored"),
            Diagnostic::NoModelFitted => write!(f, "no model could be fitted; carrying the last value forward"),
        }
    }
}

/// Minimum observations for the models (simple exponential smoothing has two parameters plus
/// the variance and AICc needs more observations than that plus one).
const MIN_OBSERVATIONS: usize = 5;

/// Forecasts `horizon` steps of `y` (oldest first) with season length `season` (12 for monthly,
/// 4 for quarterly, 1 or 0 for none). Model choice uses `y` alone.
pub fn auto_forecast(y: &[f64], season: usize, horizon: usize, options: &Options) -> Forecast {
    let mut diagnostics = Vec::new();
    let levels: Vec<f64> = options
        .levels
        .iter()
        .copied()
        .filter(|level| {
            let valid = *level > 0.0 && *level < 100.0;
            if !valid {
                diagnostics.push(Diagnostic::InvalidLevel { level: *level });
            }
            valid
        })
        .collect();
    if horizon == 0 {
        diagnostics.push(Diagnostic::ZeroHorizon);
    }
    let Some(history) = clean(y, &mut diagnostics) else {
        diagnostics.push(Diagnostic::NoData);
        return flat(Method::NoData, 0.0, 0.0, horizon, &levels, diagnostics);
    };
    let last = history[history.len() - 1];
    if history.iter().all(|v| *v == history[0]) {
        diagnostics.push(Diagnostic::Constant);
        return flat(Method::Naive, last, 0.0, horizon, &levels, diagnostics);
    }
    if history.len() < MIN_OBSERVATIONS {
        diagnostics.push(Diagnostic::TooShort { observations: history.len(), needed: MIN_OBSERVATIONS });
        return naive(&history, horizon, &levels, diagnostics);
    }
    let season = season.max(1);
    if options.method == MethodChoice::SeasonalNaive {
        return seasonal_naive(&history, season, horizon, &levels, diagnostics);
    }
    let positive = history.iter().all(|v| *v > 0.0);
    if !positive {
        diagnostics.push(Diagnostic::NonPositive);
    }
    let seasonal = season > 1 && history.len() >= 2 * season;
    if season > 1 && !seasonal {
        diagnostics.push(Diagnostic::SeasonTooLong { observations: history.len(), season });
    }
    let mut random = Random::new(options.seed);
    let ets_fits = match options.method {
        MethodChoice::Combination | MethodChoice::EtsTheta | MethodChoice::Ets => {
            ets::fit_candidates(&history, season, &ets::candidate_specs(positive, seasonal), 0)
        }
        _ => Vec::new(),
    };
    let theta = match options.method {
        MethodChoice::Combination | MethodChoice::EtsTheta | MethodChoice::Theta => theta::fit_theta(&history, season),
        _ => None,
    };
    let ets_forecast = ets_fits.first().map(|best| {
        let best_point = best.point_forecast(horizon);
        let (method, point) = if options.method != MethodChoice::Ets {
            // Akaike weights average the fitted models: less variance than betting on the
            // single lowest AICc when several models fit about equally well.
            let mut point = vec![0.0; horizon];
            for (fit, weight) in ets_fits.iter().zip(ets::akaike_weights(&ets_fits)) {
                for (sum, value) in point.iter_mut().zip(fit.point_forecast(horizon)) {
                    *sum += weight * value;
                }
            }
            (Method::EtsWeighted { best: best.spec }, point)
        } else {
            (Method::Ets(best.spec), best_point.clone())
        };
        let mut bounds = if options.simulations > 0 {
            best.simulated_intervals(horizon, &levels, options.simulations, &mut random)
        } else {
            Vec::new()
        };
        // Centre the best model's simulated intervals on the weighted forecast.
        for (lower, upper) in &mut bounds {
            for step in 0..horizon {
                let shift = point[step] - best_point[step];
                lower[step] += shift;
                upper[step] += shift;
            }
        }
        Member { method, point, bounds }
    });
    let theta_forecast = theta.map(|fit| Member {
        method: Method::Theta { seasonal: fit.seasonal() },
        point: fit.point_forecast(horizon),
        bounds: fit.intervals(horizon, &levels),
    });
    let arima_forecast = match options.method {
        MethodChoice::Combination | MethodChoice::Arima => arima_member(&history, season, horizon, &levels),
        _ => None,
    };
    let members: Vec<Member> = [ets_forecast, theta_forecast, arima_forecast].into_iter().flatten().collect();
    let forecast = match members.len() {
        0 => {
            diagnostics.push(Diagnostic::NoModelFitted);
            return naive(&history, horizon, &levels, diagnostics);
        }
        1 => {
            let member = members.into_iter().next().expect("one member");
            Forecast {
                method: member.method,
                point: member.point,
                intervals: intervals(&levels, member.bounds),
                components: Vec::new(),
                diagnostics: Vec::new(),
            }
        }
        count => {
            let weight = 1.0 / count as f64;
            let mut point = vec![0.0; horizon];
            for member in &members {
                point.iter_mut().zip(&member.point).for_each(|(sum, value)| *sum += weight * value);
            }
            // Average the bounds: every member's uncertainty counts, and the mean of intervals
            // that each contain their point forecast contains the mean forecast.
            let complete = members.iter().all(|member| member.bounds.len() == levels.len());
            let bounds = if complete {
                (0..levels.len())
                    .map(|level| {
                        let mut lower = vec![0.0; horizon];
                        let mut upper = vec![0.0; horizon];
                        for member in &members {
                            let (member_lower, member_upper) = &member.bounds[level];
                            lower.iter_mut().zip(member_lower).for_each(|(sum, value)| *sum += weight * value);
                            upper.iter_mut().zip(member_upper).for_each(|(sum, value)| *sum += weight * value);
                        }
                        (lower, upper)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Forecast {
                method: Method::Combination { members: members.iter().map(|member| member.method.clone()).collect() },
                point,
                intervals: intervals(&levels, bounds),
                components: members
                    .into_iter()
                    .map(|member| Component { method: member.method, point: member.point })
                    .collect(),
                diagnostics: Vec::new(),
            }
        }
    };
    finish(forecast, &history, horizon, &levels, diagnostics)
}

/// One model's forecast and interval bounds (per level), before combination.
struct Member {
    method: Method,
    point: Vec<f64>,
    bounds: Vec<(Vec<f64>, Vec<f64>)>,
}

/// ARIMA on the M3-style seasonally adjusted series, reseasonalised: the candidate orders
/// averaged with Akaike weights, intervals from the lowest-AICc model centred on that average.
fn arima_member(history: &[f64], season: usize, horizon: usize, levels: &[f64]) -> Option<Member> {
    let indices = theta::seasonal_adjustment(history, season);
    let adjusted: Vec<f64> = match &indices {
        Some(ix) => history.iter().enumerate().map(|(t, v)| v / ix[t % season]).collect(),
        None => history.to_vec(),
    };
    let fits = arima::fit_arima_candidates(&adjusted);
    let best = fits.first()?;
    let best_aicc = best.aicc;
    let raw: Vec<f64> = fits.iter().map(|fit| (-0.5 * (fit.aicc - best_aicc)).exp()).collect();
    let total: f64 = raw.iter().sum();
    let mut weighted = vec![0.0; horizon];
    for (fit, weight) in fits.iter().zip(&raw) {
        for (sum, value) in weighted.iter_mut().zip(fit.point_forecast(horizon)) {
            *sum += weight / total * value;
        }
    }
    let best_point = best.point_forecast(horizon);
    let index = |step: usize| indices.as_ref().map_or(1.0, |ix| ix[(history.len() + step) % season]);
    let rescale = |values: Vec<f64>| -> Vec<f64> {
        values.iter().enumerate().map(|(step, v)| (v + weighted[step] - best_point[step]) * index(step)).collect()
    };
    let bounds =
        best.intervals(horizon, levels).into_iter().map(|(lower, upper)| (rescale(lower), rescale(upper))).collect();
    let point = rescale(best_point.clone());
    Some(Member {
        method: Method::Arima { p: best.p, d: best.d, q: best.q, seasonally_adjusted: indices.is_some() },
        point,
        bounds,
    })
}

fn intervals(levels: &[f64], bounds: Vec<(Vec<f64>, Vec<f64>)>) -> Vec<Interval> {
    levels.iter().zip(bounds).map(|(level, (lower, upper))| Interval { level: *level, lower, upper }).collect()
}

/// Guards the result: a non-finite number falls back to the naive forecast, missing intervals
/// are filled from the naive model and every interval is made to contain the point forecast.
fn finish(
    mut forecast: Forecast,
    history: &[f64],
    horizon: usize,
    levels: &[f64],
    diagnostics: Vec<Diagnostic>,
) -> Forecast {
    let finite = forecast.point.iter().all(|v| v.is_finite())
        && forecast.intervals.iter().all(|i| i.lower.iter().chain(&i.upper).all(|v| v.is_finite()));
    if !finite {
        let mut diagnostics = diagnostics;
        diagnostics.push(Diagnostic::NoModelFitted);
        return naive(history, horizon, levels, diagnostics);
    }
    if forecast.intervals.len() != levels.len() {
        forecast.intervals = naive(history, horizon, levels, Vec::new()).intervals;
        for interval in &mut forecast.intervals {
            let shift: Vec<f64> = forecast.point.iter().map(|p| p - history[history.len() - 1]).collect();
            interval.lower.iter_mut().zip(&shift).for_each(|(v, s)| *v += s);
            interval.upper.iter_mut().zip(&shift).for_each(|(v, s)| *v += s);
        }
    }
    for interval in &mut forecast.intervals {
        for ((lower, upper), point) in interval.lower.iter_mut().zip(interval.upper.iter_mut()).zip(&forecast.point) {
            *lower = lower.min(*point);
            *upper = upper.max(*point);
        }
    }
    forecast.diagnostics = diagnostics;
    forecast
}

/// Drops leading non-finite values and interpolates the others linearly (carrying the last
/// finite value over a trailing gap). `None` when nothing finite remains.
fn clean(y: &[f64], diagnostics: &mut Vec<Diagnostic>) -> Option<Vec<f64>> {
    let missing = y.iter().filter(|v| !v.is_finite()).count();
    if missing > 0 {
        diagnostics.push(Diagnostic::MissingValues { count: missing });
    }
    let start = y.iter().position(|v| v.is_finite())?;
    let values = &y[start..];
    let mut out = values.to_vec();
    let mut previous = 0;
    for t in 1..values.len() {
        if !values[t].is_finite() {
            continue;
        }
        if t > previous + 1 {
            let step = (values[t] - values[previous]) / (t - previous) as f64;
            for (offset, slot) in out[previous + 1..t].iter_mut().enumerate() {
                *slot = values[previous] + step * (offset + 1) as f64;
            }
        }
        previous = t;
    }
    let last = values[previous];
    out[previous + 1..].iter_mut().for_each(|slot| *slot = last);
    Some(out)
}

/// A flat forecast with normal intervals of a random walk with step deviation `sigma`.
fn flat(
    method: Method,
    value: f64,
    sigma: f64,
    horizon: usize,
    levels: &[f64],
    diagnostics: Vec<Diagnostic>,
) -> Forecast {
    // An overflowing spread (values near the float limit) gives point forecasts without width
    // rather than infinite bounds.
    let sigma = if sigma.is_finite() { sigma } else { 0.0 };
    let point = vec![value; horizon];
    let intervals = levels
        .iter()
        .map(|level| {
            let z = normal_quantile(0.5 + level / 200.0);
            let width: Vec<f64> = (1..=horizon).map(|h| z * sigma * (h as f64).sqrt()).collect();
            Interval {
                level: *level,
                lower: width.iter().map(|w| value - w).collect(),
                upper: width.iter().map(|w| value + w).collect(),
            }
        })
        .collect();
    Forecast { method, point, intervals, components: Vec::new(), diagnostics }
}

fn naive(history: &[f64], horizon: usize, levels: &[f64], diagnostics: Vec<Diagnostic>) -> Forecast {
    let steps: Vec<f64> = history.windows(2).map(|w| w[1] - w[0]).collect();
    let sigma =
        if steps.is_empty() { 0.0 } else { (steps.iter().map(|s| s * s).sum::<f64>() / steps.len() as f64).sqrt() };
    flat(Method::Naive, history[history.len() - 1], sigma, horizon, levels, diagnostics)
}

fn seasonal_naive(
    history: &[f64],
    season: usize,
    horizon: usize,
    levels: &[f64],
    diagnostics: Vec<Diagnostic>,
) -> Forecast {
    let n = history.len();
    if n < season {
        return naive(history, horizon, levels, diagnostics);
    }
    let point: Vec<f64> = (0..horizon).map(|step| history[n - season + step % season]).collect();
    let steps: Vec<f64> = history.windows(season + 1).map(|w| w[season] - w[0]).collect();
    let sigma =
        if steps.is_empty() { 0.0 } else { (steps.iter().map(|s| s * s).sum::<f64>() / steps.len() as f64).sqrt() };
    let intervals = levels
        .iter()
        .map(|level| {
            let z = normal_quantile(0.5 + level / 200.0);
            let width: Vec<f64> = (0..horizon).map(|step| z * sigma * ((step / season + 1) as f64).sqrt()).collect();
            Interval {
                level: *level,
                lower: point.iter().zip(&width).map(|(p, w)| p - w).collect(),
                upper: point.iter().zip(&width).map(|(p, w)| p + w).collect(),
            }
        })
        .collect();
    Forecast { method: Method::SeasonalNaive, point, intervals, components: Vec::new(), diagnostics }
}
