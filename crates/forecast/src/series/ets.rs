//! The ETS (error, trend, seasonality) state-space family of Hyndman, Koehler, Ord and Snyder,
//! fitted by maximum likelihood and selected by AICc.
//!
//! Components: additive or multiplicative error; no, additive or additive-damped trend; no,
//! additive or multiplicative seasonality. Following the reference implementation's defaults,
//! additive error with multiplicative seasonality (infinite forecast variance) and
//! multiplicative trend are not considered, and multiplicative components need positive data.
//! Smoothing parameters (and, with [`Estimation::Full`], the initial states) are estimated by
//! likelihood with Nelder–Mead under the usual bounds (0 < beta < alpha < 1,
//! 0 < gamma < 1 - alpha, 0.8 <= phi <= 0.98); when a seasonal model's optimum lies outside the
//! admissible (forecastable) region, the search is repeated with that region enforced.

use std::fmt;

use super::optimise::NelderMead;
use super::stats::{Decomposition, Random, linear_fit, seasonal_indices, sorted_quantile};

/// Error component of an ETS model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Additive,
    Multiplicative,
}

/// Trend component of an ETS model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrendKind {
    None,
    Additive,
    /// Additive trend damped by `phi`, so long-range forecasts level off.
    Damped,
}

/// Seasonal component of an ETS model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeasonKind {
    None,
    Additive,
    Multiplicative,
}

/// One member of the ETS family, written `ETS(M,Ad,M)` as in the literature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EtsSpec {
    pub error: ErrorKind,
    pub trend: TrendKind,
    pub season: SeasonKind,
}

impl fmt::Display for EtsSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error = match self.error {
            ErrorKind::Additive => "A",
            ErrorKind::Multiplicative => "M",
        };
        let trend = match self.trend {
            TrendKind::None => "N",
            TrendKind::Additive => "A",
            TrendKind::Damped => "Ad",
        };
        let season = match self.season {
            SeasonKind::None => "N",
            SeasonKind::Additive => "A",
            SeasonKind::Multiplicative => "M",
        };
        write!(f, "ETS({error},{trend},{season})")
    }
}

/// A fitted ETS model, in the units of the data.
#[derive(Debug, Clone)]
pub struct EtsFit {
    pub spec: EtsSpec,
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub phi: f64,
    /// Season length used (1 for non-seasonal models).
    pub season_length: usize,
    /// Estimated level and trend before the first observation.
    pub initial_level: f64,
    pub initial_trend: f64,
    /// Corrected Akaike information criterion (up to a constant shared by all models of one series).
    pub aicc: f64,
    /// Variance of the one-step errors (relative errors for multiplicative error).
    pub sigma2: f64,
    /// Level, trend and seasonal states after the last observation (seasonal state `j` applies
    /// to times `t` with `t % season_length == j`).
    level: f64,
    trend: f64,
    seasonal: Vec<f64>,
    /// Number of observations fitted.
    observations: usize,
    /// The optimiser's solution on scaled data, to warm-start a fuller estimation.
    optimum: Vec<f64>,
}

const LOWER: f64 = 1e-4;
const UPPER: f64 = 0.9999;
const PHI_LOWER: f64 = 0.8;
const PHI_UPPER: f64 = 0.98;
const EVALUATIONS_PER_PARAMETER: usize = 250;

/// The models to try for a series: positive data allows multiplicative components; a season
/// length above 1 with at least two full seasons allows seasonal ones.
pub fn candidate_specs(positive: bool, seasonal: bool) -> Vec<EtsSpec> {
    let mut specs = Vec::new();
    let errors: &[ErrorKind] =
        if positive { &[ErrorKind::Additive, ErrorKind::Multiplicative] } else { &[ErrorKind::Additive] };
    for &error in errors {
        for trend in [TrendKind::None, TrendKind::Additive, TrendKind::Damped] {
            let mut seasons = vec![SeasonKind::None];
            if seasonal {
                seasons.push(SeasonKind::Additive);
                if positive && error == ErrorKind::Multiplicative {
                    seasons.push(SeasonKind::Multiplicative);
                }
            }
            for season in seasons {
                specs.push(EtsSpec { error, trend, season });
            }
        }
    }
    specs
}

/// How the initial seasonal states are estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimation {
    /// Initial states (level, trend, seasonal) held at their heuristic values: a least-squares
    /// line through the first seasonally adjusted observations and a classical decomposition
    /// of the first three seasons. Only the smoothing parameters are estimated by likelihood
    /// (at most four dimensions instead of up to seventeen). On M3 this forecasts better than
    /// full estimation as well as faster (docs/forecasting.md).
    Quick,
    /// Optimised with everything else by likelihood, as in the reference implementation.
    Full,
}

/// The reference-style automatic ETS: every candidate fitted with full estimation of the
/// initial states, the fit with the lowest AICc returned (several times slower than
/// [`fit_candidates`] with `refine = 0`, which [`super::auto_forecast`] uses).
pub fn auto_ets(y: &[f64], season_length: usize, specs: &[EtsSpec]) -> Option<EtsFit> {
    fit_candidates(y, season_length, specs, usize::MAX).into_iter().next()
}

/// Fits every candidate quickly ([`Estimation::Quick`]), re-estimates the `refine` best ones
/// (by AICc) in full, keeping a refit when it improves the AICc, and returns the fits sorted by
/// AICc, best first.
pub fn fit_candidates(y: &[f64], season_length: usize, specs: &[EtsSpec], refine: usize) -> Vec<EtsFit> {
    let mut fits: Vec<EtsFit> =
        specs.iter().filter_map(|spec| fit_model(y, season_length, *spec, Estimation::Quick, None)).collect();
    fits.sort_by(|a, b| a.aicc.total_cmp(&b.aicc));
    for fit in fits.iter_mut().take(refine) {
        if let Some(better) = fit_model(y, season_length, fit.spec, Estimation::Full, Some(&fit.optimum))
            && better.aicc < fit.aicc
        {
            *fit = better;
        }
    }
    fits.sort_by(|a, b| a.aicc.total_cmp(&b.aicc));
    fits
}

/// Akaike weights of fitted models, `exp(-AICc/2)` normalised to sum to one.
pub fn akaike_weights(fits: &[EtsFit]) -> Vec<f64> {
    let best = fits.iter().map(|f| f.aicc).fold(f64::INFINITY, f64::min);
    let raw: Vec<f64> = fits.iter().map(|f| (-0.5 * (f.aicc - best)).exp()).collect();
    let total: f64 = raw.iter().sum();
    raw.iter().map(|w| w / total).collect()
}

/// Fits one ETS model by maximum likelihood with full estimation. `None` when the series is too
/// short for the model's parameters, the data do not allow it, or no admissible estimate was found.
pub fn fit_ets(y: &[f64], season_length: usize, spec: EtsSpec) -> Option<EtsFit> {
    fit_model(y, season_length, spec, Estimation::Full, None)
}

/// Fits one ETS model with the given estimation of the initial states.
pub fn fit_ets_with(y: &[f64], season_length: usize, spec: EtsSpec, estimation: Estimation) -> Option<EtsFit> {
    fit_model(y, season_length, spec, estimation, None)
}

/// Fits one ETS model; `warm` is the optimum of a quick fit of the same model to start from.
fn fit_model(
    y: &[f64],
    season_length: usize,
    spec: EtsSpec,
    estimation: Estimation,
    warm: Option<&[f64]>,
) -> Option<EtsFit> {
    let m = if spec.season == SeasonKind::None { 1 } else { season_length };
    let n = y.len();
    let multiplicative = spec.error == ErrorKind::Multiplicative || spec.season == SeasonKind::Multiplicative;
    if multiplicative && y.iter().any(|v| *v <= 0.0) {
        return None;
    }
    // Work on data scaled to a mean absolute value of one: the likelihood comparison across
    // models is unchanged and the optimiser sees states and parameters of similar size.
    let scale = y.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let data: Vec<f64> = y.iter().map(|v| v / scale).collect();
    let (mut start, steps, seasonal_start) = initial_values(&data, spec, m)?;
    let smoothing = smoothing_parameters(spec);
    let fixed = (estimation == Estimation::Quick).then(|| FixedStates {
        level: start[smoothing],
        trend: if spec.trend != TrendKind::None { start[smoothing + 1] } else { 0.0 },
        seasonal: if seasonal_start.is_empty() { vec![0.0; m] } else { seasonal_start },
    });
    let layout = Layout::new(spec, m, fixed);
    if let Some(warm) = warm {
        start[..warm.len()].copy_from_slice(warm);
    }
    let start = &start[..layout.size];
    let steps = &steps[..layout.size];
    // Free parameters (initial states count even when held at their heuristic values, as
    // they were estimated from the data) plus the error variance.
    let parameters = Layout::new(spec, m, None).size + 1;
    if n <= parameters + 1 {
        return None;
    }
    let mut workspace = vec![0.0; m];
    let optimiser = NelderMead {
        max_evaluations: EVALUATIONS_PER_PARAMETER * layout.size.max(4),
        relative_tolerance: 1e-8,
        restarts: 1,
    };
    let seasonal_model = spec.season != SeasonKind::None;
    // Roots of the previous characteristic polynomial: neighbouring simplex points have nearby
    // roots, so warm starts make the admissibility check a few iterations.
    let mut roots = Vec::new();
    let mut objective = |x: &[f64], check_admissible: bool| {
        let Some(model) = layout.unpack(x, &mut workspace) else { return f64::INFINITY };
        if check_admissible && !admissible(model.alpha, model.beta, model.gamma, model.phi, m, &mut roots) {
            return f64::INFINITY;
        }
        match filter(&data, &model, &mut workspace) {
            Some(result) => result.criterion,
            None => f64::INFINITY,
        }
    };
    let mut minimum = optimiser.minimise(start, steps, |x| objective(x, false));
    let mut seasonal = vec![0.0; m];
    let inadmissible = |point: &[f64], seasonal: &mut [f64]| {
        layout
            .unpack(point, seasonal)
            .is_some_and(|model| !admissible(model.alpha, model.beta, model.gamma, model.phi, m, &mut Vec::new()))
    };
    if seasonal_model && minimum.value.is_finite() && inadmissible(&minimum.point, &mut seasonal) {
        // The unconstrained optimum is not forecastable: search again with the admissibility
        // check (a polynomial root search, so only when needed) inside the objective.
        minimum = optimiser.minimise(start, steps, |x| objective(x, true));
    }
    if !minimum.value.is_finite() {
        return None;
    }
    let model = layout.unpack(&minimum.point, &mut seasonal)?;
    let result = filter(&data, &model, &mut seasonal)?;
    let k = parameters as f64;
    let nf = n as f64;
    let aicc = result.criterion + 2.0 * k + 2.0 * k * (k + 1.0) / (nf - k - 1.0);
    let sigma2 = result.sum_squares / (nf - layout.size as f64).max(1.0);
    let (level, trend) = (result.level * scale, result.trend * scale);
    if spec.season == SeasonKind::Additive {
        seasonal.iter_mut().for_each(|s| *s *= scale);
    }
    let sigma2 = if spec.error == ErrorKind::Additive { sigma2 * scale * scale } else { sigma2 };
    Some(EtsFit {
        spec,
        alpha: model.alpha,
        beta: model.beta,
        gamma: model.gamma,
        phi: model.phi,
        season_length: m,
        initial_level: model.level * scale,
        initial_trend: model.trend * scale,
        aicc,
        sigma2,
        level,
        trend,
        seasonal,
        observations: n,
        optimum: minimum.point.clone(),
    })
}

impl EtsFit {
    /// Point forecasts for `horizon` steps: the state recursions with zero future errors.
    pub fn point_forecast(&self, horizon: usize) -> Vec<f64> {
        let mut damped_sum = 0.0;
        let mut damping = 1.0;
        (1..=horizon)
            .map(|h| {
                let trend_part = match self.spec.trend {
                    TrendKind::None => 0.0,
                    TrendKind::Additive => h as f64 * self.trend,
                    TrendKind::Damped => {
                        damping *= self.phi;
                        damped_sum += damping;
                        damped_sum * self.trend
                    }
                };
                let base = self.level + trend_part;
                let position = (self.observations + h - 1) % self.season_length;
                match self.spec.season {
                    SeasonKind::None => base,
                    SeasonKind::Additive => base + self.seasonal[position],
                    SeasonKind::Multiplicative => base * self.seasonal[position],
                }
            })
            .collect()
    }

    /// Prediction interval bounds for each level (in percent), from `paths` simulated future
    /// sample paths with Gaussian errors of the fitted variance. Returns `(lower, upper)` per level.
    pub(crate) fn simulated_intervals(
        &self,
        horizon: usize,
        levels: &[f64],
        paths: usize,
        random: &mut Random,
    ) -> Vec<(Vec<f64>, Vec<f64>)> {
        let sigma = self.sigma2.max(0.0).sqrt();
        let mut draws = vec![vec![0.0; paths]; horizon];
        let mut seasonal = self.seasonal.clone();
        let model = Model {
            spec: self.spec,
            alpha: self.alpha,
            beta: self.beta,
            gamma: self.gamma,
            phi: self.phi,
            level: self.level,
            trend: self.trend,
            season_length: self.season_length,
        };
        for path in 0..paths {
            seasonal.copy_from_slice(&self.seasonal);
            let mut level = self.level;
            let mut trend = self.trend;
            for (step, column) in draws.iter_mut().enumerate() {
                let position = (self.observations + step) % self.season_length;
                let noise = sigma * random.standard_normal();
                let (value, next_level, next_trend) =
                    simulate_step(&model, level, trend, &mut seasonal[position], noise);
                column[path] = value;
                level = next_level;
                trend = next_trend;
            }
        }
        for column in &mut draws {
            column.sort_by(f64::total_cmp);
        }
        levels
            .iter()
            .map(|level| {
                let tail = (1.0 - level / 100.0) / 2.0;
                let lower = draws.iter().map(|column| sorted_quantile(column, tail)).collect();
                let upper = draws.iter().map(|column| sorted_quantile(column, 1.0 - tail)).collect();
                (lower, upper)
            })
            .collect()
    }
}

/// Parameters and initial states of one model on scaled data.
#[derive(Debug, Clone, Copy)]
struct Model {
    spec: EtsSpec,
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
    level: f64,
    trend: f64,
    season_length: usize,
}

/// Where each free parameter sits in the optimiser's vector.
struct Layout {
    spec: EtsSpec,
    season_length: usize,
    size: usize,
    /// Initial states held at their heuristic values instead of estimated.
    fixed: Option<FixedStates>,
}

/// Initial states from the heuristic (classical decomposition, least-squares line).
struct FixedStates {
    level: f64,
    trend: f64,
    seasonal: Vec<f64>,
}

/// Number of smoothing parameters (alpha, beta, gamma, phi) a model estimates.
fn smoothing_parameters(spec: EtsSpec) -> usize {
    1 + usize::from(spec.trend != TrendKind::None)
        + usize::from(spec.season != SeasonKind::None)
        + usize::from(spec.trend == TrendKind::Damped)
}

impl Layout {
    fn new(spec: EtsSpec, season_length: usize, fixed: Option<FixedStates>) -> Self {
        let mut size = smoothing_parameters(spec);
        if fixed.is_none() {
            // Initial level, trend, and all but one seasonal state (the last keeps the seasonal
            // states summing to zero, or averaging one).
            size += 1 + usize::from(spec.trend != TrendKind::None);
            if spec.season != SeasonKind::None {
                size += season_length - 1;
            }
        }
        Layout { spec, season_length, size, fixed }
    }

    /// Reads a parameter vector `[alpha, beta?, gamma?, phi?, level, trend?, seasonal...]`, writing
    /// the initial seasonal states to `seasonal`. `None` outside the usual bounds.
    fn unpack(&self, x: &[f64], seasonal: &mut [f64]) -> Option<Model> {
        let spec = self.spec;
        let mut index = 0;
        let mut next = || {
            let value = x[index];
            index += 1;
            value
        };
        let alpha = next();
        let beta = if spec.trend != TrendKind::None { next() } else { 0.0 };
        let gamma = if spec.season != SeasonKind::None { next() } else { 0.0 };
        let phi = if spec.trend == TrendKind::Damped { next() } else { 1.0 };
        let (level, trend) = match &self.fixed {
            Some(fixed) => (fixed.level, fixed.trend),
            None => (next(), if spec.trend != TrendKind::None { next() } else { 0.0 }),
        };
        if !(LOWER..=UPPER).contains(&alpha) {
            return None;
        }
        if spec.trend != TrendKind::None && !(LOWER..=alpha).contains(&beta) {
            return None;
        }
        if spec.season != SeasonKind::None && !(LOWER..=1.0 - alpha).contains(&gamma) {
            return None;
        }
        if spec.trend == TrendKind::Damped && !(PHI_LOWER..=PHI_UPPER).contains(&phi) {
            return None;
        }
        let m = self.season_length;
        if let Some(fixed) = &self.fixed {
            seasonal.copy_from_slice(&fixed.seasonal);
            return Some(Model { spec, alpha, beta, gamma, phi, level, trend, season_length: m });
        }
        match spec.season {
            SeasonKind::None => seasonal[0] = 0.0,
            SeasonKind::Additive => {
                let mut sum = 0.0;
                for slot in seasonal.iter_mut().take(m - 1) {
                    *slot = next();
                    sum += *slot;
                }
                seasonal[m - 1] = -sum;
            }
            SeasonKind::Multiplicative => {
                let mut sum = 0.0;
                for slot in seasonal.iter_mut().take(m - 1) {
                    *slot = next();
                    sum += *slot;
                }
                seasonal[m - 1] = m as f64 - sum;
                if seasonal.iter().any(|s| *s <= 1e-3) {
                    return None;
                }
            }
        }
        Some(Model { spec, alpha, beta, gamma, phi, level, trend, season_length: m })
    }
}

/// Starting values following the reference implementation: smoothing parameters near the
/// lower bounds, states from a classical decomposition of the first three seasons and a
/// least-squares line through the first (at most) ten seasonally adjusted observations.
fn initial_values(y: &[f64], spec: EtsSpec, m: usize) -> Option<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let n = y.len();
    let mut seasonal = Vec::new();
    let mut adjusted = y.to_vec();
    match spec.season {
        SeasonKind::None => {}
        SeasonKind::Additive => {
            seasonal = seasonal_indices(&y[..n.min(3 * m)], m, Decomposition::Additive)?;
            for (t, value) in adjusted.iter_mut().enumerate() {
                *value -= seasonal[t % m];
            }
        }
        SeasonKind::Multiplicative => {
            seasonal = seasonal_indices(&y[..n.min(3 * m)], m, Decomposition::Multiplicative)?;
            seasonal.iter_mut().for_each(|s| *s = s.max(1e-2));
            let sum: f64 = seasonal.iter().sum();
            seasonal.iter_mut().for_each(|s| *s *= m as f64 / sum);
            for (t, value) in adjusted.iter_mut().enumerate() {
                *value /= seasonal[t % m];
            }
        }
    }
    let first = n.min(10.max(2 * m));
    let (level, trend) = if spec.trend == TrendKind::None {
        (adjusted[..first].iter().sum::<f64>() / first as f64, 0.0)
    } else {
        linear_fit(&adjusted[..first], 1.0)
    };
    let period = if spec.season == SeasonKind::None { 1.0 } else { m as f64 };
    let alpha = LOWER + 0.2 * (UPPER - LOWER) / period;
    let mut start = vec![alpha];
    let mut steps = vec![0.1];
    if spec.trend != TrendKind::None {
        let beta = (LOWER + 0.1 * (UPPER - LOWER)).min(alpha - 1e-3).max(LOWER);
        start.push(beta);
        steps.push(0.05);
    }
    if spec.season != SeasonKind::None {
        let gamma = (LOWER + 0.05 * (UPPER - LOWER)).min(1.0 - alpha - 1e-3);
        start.push(gamma);
        steps.push(0.05);
    }
    if spec.trend == TrendKind::Damped {
        start.push(PHI_LOWER + 0.99 * (PHI_UPPER - PHI_LOWER));
        steps.push(-0.05);
    }
    let spread = y.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
    start.push(level);
    steps.push(0.1 * spread.max(level.abs()));
    if spec.trend != TrendKind::None {
        start.push(trend);
        steps.push(0.1 * trend.abs().max(0.01 * spread));
    }
    if spec.season != SeasonKind::None {
        for value in &seasonal[..m - 1] {
            start.push(*value);
            let size = if spec.season == SeasonKind::Multiplicative { 0.05 } else { 0.05 * spread };
            steps.push(size);
        }
    }
    Some((start, steps, seasonal))
}

/// Result of running the state recursions over the data.
struct Filtered {
    /// `n log(sum e^2)` plus `2 sum log|f|` for multiplicative error: minus twice the
    /// log-likelihood up to a constant.
    criterion: f64,
    sum_squares: f64,
    level: f64,
    trend: f64,
}

/// Runs the model over `y`, updating `seasonal` in place (it must hold the initial seasonal
/// states). `None` when a forecast or state degenerates.
fn filter(y: &[f64], model: &Model, seasonal: &mut [f64]) -> Option<Filtered> {
    use ErrorKind as E;
    use SeasonKind as S;
    use TrendKind as T;
    // One copy of the loop per model, with its component choices known at compile time: the
    // likelihood is evaluated hundreds of times per fit, so branch-free loops pay.
    macro_rules! specialise {
        ($($error:ident $trend:ident $season:ident),* $(,)?) => {
            match (model.spec.error, model.spec.trend, model.spec.season) {
                $((E::$error, T::$trend, S::$season) => filter_as(
                    y,
                    model,
                    seasonal,
                    EtsSpec { error: E::$error, trend: T::$trend, season: S::$season },
                ),)*
            }
        };
    }
    specialise!(
        Additive None None, Additive None Additive, Additive None Multiplicative,
        Additive Additive None, Additive Additive Additive, Additive Additive Multiplicative,
        Additive Damped None, Additive Damped Additive, Additive Damped Multiplicative,
        Multiplicative None None, Multiplicative None Additive, Multiplicative None Multiplicative,
        Multiplicative Additive None, Multiplicative Additive Additive, Multiplicative Additive Multiplicative,
        Multiplicative Damped None, Multiplicative Damped Additive, Multiplicative Damped Multiplicative,
    )
}

#[inline(always)]
fn filter_as(y: &[f64], model: &Model, seasonal: &mut [f64], spec: EtsSpec) -> Option<Filtered> {
    let m = model.season_length;
    // The product of |forecast| is folded into its logarithm now and then: one `ln` per step
    // would cost more than the rest of the recursion.
    let mut product = 1.0f64;
    let mut level = model.level;
    let mut trend = model.trend;
    let mut sum_squares = 0.0;
    let mut sum_log = 0.0;
    let beta_ratio = model.beta / model.alpha;
    let mut position = 0;
    for &value in y {
        let old_season = seasonal[position];
        let damped = match spec.trend {
            TrendKind::None => 0.0,
            TrendKind::Additive => trend,
            TrendKind::Damped => model.phi * trend,
        };
        let base = level + damped;
        let fitted = match spec.season {
            SeasonKind::None => base,
            SeasonKind::Additive => base + old_season,
            SeasonKind::Multiplicative => base * old_season,
        };
        let error = match spec.error {
            ErrorKind::Additive => value - fitted,
            ErrorKind::Multiplicative => {
                if fitted.abs() < 1e-10 {
                    return None;
                }
                product *= fitted.abs();
                if !(1e-100..=1e100).contains(&product) {
                    sum_log += product.ln();
                    product = 1.0;
                }
                (value - fitted) / fitted
            }
        };
        sum_squares += error * error;
        let seasonally_adjusted = match spec.season {
            SeasonKind::None => value,
            SeasonKind::Additive => value - old_season,
            SeasonKind::Multiplicative => value / old_season,
        };
        let new_level = base + model.alpha * (seasonally_adjusted - base);
        if spec.trend != TrendKind::None {
            trend = damped + beta_ratio * (new_level - level - damped);
        }
        match spec.season {
            SeasonKind::None => {}
            SeasonKind::Additive => {
                seasonal[position] = old_season + model.gamma * (value - base - old_season);
            }
            SeasonKind::Multiplicative => {
                if base.abs() < 1e-10 {
                    return None;
                }
                seasonal[position] = old_season + model.gamma * (value / base - old_season);
            }
        }
        level = new_level;
        position += 1;
        if position == m {
            position = 0;
        }
    }
    sum_log += product.ln();
    let n = y.len() as f64;
    if !(sum_squares.is_finite() && level.is_finite() && trend.is_finite()) {
        return None;
    }
    let criterion = n * sum_squares.max(1e-300).ln() + 2.0 * sum_log;
    Some(Filtered { criterion, sum_squares, level, trend })
}

/// One simulated step from the given states: returns the simulated value and the new level
/// and trend, updating the seasonal state in place.
fn simulate_step(model: &Model, level: f64, trend: f64, season: &mut f64, noise: f64) -> (f64, f64, f64) {
    let spec = model.spec;
    let damped = match spec.trend {
        TrendKind::None => 0.0,
        TrendKind::Additive => trend,
        TrendKind::Damped => model.phi * trend,
    };
    let base = level + damped;
    let old_season = *season;
    let fitted = match spec.season {
        SeasonKind::None => base,
        SeasonKind::Additive => base + old_season,
        SeasonKind::Multiplicative => base * old_season,
    };
    let value = match spec.error {
        ErrorKind::Additive => fitted + noise,
        ErrorKind::Multiplicative => fitted * (1.0 + noise),
    };
    let adjusted = match spec.season {
        SeasonKind::None => value,
        SeasonKind::Additive => value - old_season,
        SeasonKind::Multiplicative => value / old_season,
    };
    let new_level = base + model.alpha * (adjusted - base);
    let new_trend = if spec.trend == TrendKind::None {
        0.0
    } else {
        damped + model.beta / model.alpha * (new_level - level - damped)
    };
    match spec.season {
        SeasonKind::None => {}
        SeasonKind::Additive => *season = old_season + model.gamma * (value - base - old_season),
        SeasonKind::Multiplicative => {
            if base.abs() > 1e-10 {
                *season = old_season + model.gamma * (value / base - old_season);
            }
        }
    }
    (value, new_level, new_trend)
}

/// The admissible (forecastable) region of seasonal ETS models: the easy inequalities of
/// Hyndman et al. (2008, ch. 10), then the roots of the characteristic polynomial.
fn admissible(alpha: f64, beta: f64, gamma: f64, phi: f64, m: usize, roots: &mut Vec<(f64, f64)>) -> bool {
    if gamma < (1.0 - 1.0 / phi - alpha).max(0.0) || gamma > 1.0 + 1.0 / phi - alpha {
        return false;
    }
    let mf = m as f64;
    if alpha < 1.0 - 1.0 / phi - gamma * (1.0 - mf + phi + phi * mf) / (2.0 * phi * mf) {
        return false;
    }
    if beta < -(1.0 - phi) * (gamma / mf + alpha) {
        return false;
    }
    // Coefficients in increasing powers; the polynomial is monic of degree m + 1.
    let mut coefficients = vec![phi * (1.0 - alpha - gamma), alpha + beta - alpha * phi + gamma - 1.0];
    coefficients.extend(std::iter::repeat_n(alpha + beta - alpha * phi, m.saturating_sub(2)));
    coefficients.push(alpha + beta - phi);
    coefficients.push(1.0);
    // Non-damped trends put a double root at one, which Durand–Kerner resolves only to about
    // 1e-8: a tighter tolerance would reject admissible models on round-off.
    largest_root_modulus(&coefficients, roots) <= 1.0 + 1e-6
}

/// Largest modulus among the roots of a monic polynomial (coefficients in increasing powers),
/// by Durand–Kerner iteration started from `roots` when it holds as many (else a circle).
fn largest_root_modulus(coefficients: &[f64], roots: &mut Vec<(f64, f64)>) -> f64 {
    let degree = coefficients.len() - 1;
    let evaluate = |z: (f64, f64)| {
        let mut value = (0.0, 0.0);
        for &c in coefficients.iter().rev() {
            value = (value.0 * z.0 - value.1 * z.1 + c, value.0 * z.1 + value.1 * z.0);
        }
        value
    };
    if roots.len() != degree || roots.iter().any(|(re, im)| !(re.is_finite() && im.is_finite())) {
        *roots = (0..degree)
            .map(|k| {
                let angle = 2.0 * std::f64::consts::PI * k as f64 / degree as f64 + 0.4;
                (0.9 * angle.cos(), 0.9 * angle.sin())
            })
            .collect();
    } else {
        // Separate roots that converged onto each other last time, or they would stay stuck.
        for (k, root) in roots.iter_mut().enumerate() {
            root.0 += 1e-7 * (k + 1) as f64;
            root.1 += 1e-7;
        }
    }
    for _ in 0..300 {
        let mut change: f64 = 0.0;
        for i in 0..degree {
            let numerator = evaluate(roots[i]);
            let mut denominator = (1.0, 0.0);
            for (j, other) in roots.iter().enumerate() {
                if i != j {
                    let difference = (roots[i].0 - other.0, roots[i].1 - other.1);
                    denominator = (
                        denominator.0 * difference.0 - denominator.1 * difference.1,
                        denominator.0 * difference.1 + denominator.1 * difference.0,
                    );
                }
            }
            let norm = denominator.0 * denominator.0 + denominator.1 * denominator.1;
            if norm == 0.0 {
                continue;
            }
            let step = (
                (numerator.0 * denominator.0 + numerator.1 * denominator.1) / norm,
                (numerator.1 * denominator.0 - numerator.0 * denominator.1) / norm,
            );
            roots[i] = (roots[i].0 - step.0, roots[i].1 - step.1);
            change = change.max(step.0.abs() + step.1.abs());
        }
        if change < 1e-10 {
            break;
        }
    }
    roots.iter().map(|(re, im)| (re * re + im * im).sqrt()).fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_modulus_of_known_polynomials() {
        // (z - 0.5)(z + 2) = z^2 + 1.5 z - 1
        assert!((largest_root_modulus(&[-1.0, 1.5, 1.0], &mut Vec::new()) - 2.0).abs() < 1e-9);
        // z^2 + 0.25: roots +-0.5i
        let mut roots = Vec::new();
        assert!((largest_root_modulus(&[0.25, 0.0, 1.0], &mut roots) - 0.5).abs() < 1e-9);
        // Warm-started from the previous roots, a nearby polynomial converges as well.
        assert!((largest_root_modulus(&[0.36, 0.0, 1.0], &mut roots) - 0.6).abs() < 1e-9);
    }

    #[test]
    fn candidate_set_follows_the_data() {
        assert_eq!(candidate_specs(false, false).len(), 3);
        assert_eq!(candidate_specs(true, false).len(), 6);
        // 6 additive-error models (N, A seasons) and 9 multiplicative-error ones.
        assert_eq!(candidate_specs(true, true).len(), 15);
    }
}
