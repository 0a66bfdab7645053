//! A small automatic non-seasonal ARIMA, used as a third, structurally different member of the
//! combination on seasonally adjusted data.
//!
//! The order of differencing comes from repeated KPSS tests at 5% (as in Hyndman and
//! Khandakar's `auto.arima`); the AR and MA orders (up to 2 each) and the constant from the
//! AICc of conditional-sum-of-squares fits, restricted to stationary and invertible estimates.

use super::optimise::NelderMead;

/// A fitted ARIMA(p, d, q) model with optional constant (mean or drift).
#[derive(Debug, Clone)]
pub struct ArimaFit {
    pub p: usize,
    pub d: usize,
    pub q: usize,
    /// Mean of the differenced series (a drift when `d == 1`), zero when not included.
    pub constant: f64,
    pub ar: Vec<f64>,
    pub ma: Vec<f64>,
    pub aicc: f64,
    /// Variance of the one-step errors.
    pub sigma2: f64,
    /// The last `d` values of each differencing level, to undo the differencing.
    history: Vec<f64>,
    /// Differenced series and its residuals (for the forecast recursion).
    differenced: Vec<f64>,
    residuals: Vec<f64>,
}

/// Fits the automatic ARIMA; `None` for series too short or without a usable fit.
pub fn fit_arima(y: &[f64]) -> Option<ArimaFit> {
    fit_arima_candidates(y).into_iter().next()
}

/// All candidate ARIMA fits for the chosen differencing, sorted by AICc, best first.
pub fn fit_arima_candidates(y: &[f64]) -> Vec<ArimaFit> {
    if y.len() < 8 {
        return Vec::new();
    }
    let scale = y.iter().map(|v| v.abs()).sum::<f64>() / y.len() as f64;
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let data: Vec<f64> = y.iter().map(|v| v / scale).collect();
    let mut d = 0;
    let mut differenced = data.clone();
    while d < 2 && !kpss_stationary(&differenced) {
        let next: Vec<f64> = differenced.windows(2).map(|w| w[1] - w[0]).collect();
        if next.len() < 6 || next.iter().all(|v| *v == next[0]) {
            break;
        }
        differenced = next;
        d += 1;
    }
    let mut fits = Vec::new();
    for p in 0..=2 {
        for q in 0..=2 {
            for with_constant in [true, false] {
                if with_constant && d == 2 {
                    continue;
                }
                if let Some(fit) = fit_order(&differenced, p, d, q, with_constant) {
                    fits.push(fit);
                }
            }
        }
    }
    fits.sort_by(|a, b| a.aicc.total_cmp(&b.aicc));
    // Undo the scaling: keep the last values of each differencing level for integration.
    let mut level = data;
    let mut history = Vec::new();
    for _ in 0..d {
        history.push(level[level.len() - 1] * scale);
        level = level.windows(2).map(|w| w[1] - w[0]).collect();
    }
    for fit in &mut fits {
        fit.history = history.clone();
        fit.constant *= scale;
        fit.sigma2 *= scale * scale;
        fit.differenced.iter_mut().for_each(|v| *v *= scale);
        fit.residuals.iter_mut().for_each(|v| *v *= scale);
    }
    fits
}

impl ArimaFit {
    /// Point forecasts for `horizon` steps (future errors zero), undifferenced.
    pub fn point_forecast(&self, horizon: usize) -> Vec<f64> {
        let mut w = self.differenced.clone();
        let mut e = self.residuals.clone();
        let mu = self.constant;
        let mut out = Vec::with_capacity(horizon);
        for _ in 0..horizon {
            let t = w.len();
            let mut value = mu;
            for (i, phi) in self.ar.iter().enumerate() {
                value += phi * (w[t - 1 - i] - mu);
            }
            for (j, theta) in self.ma.iter().enumerate() {
                value += theta * e[t - 1 - j];
            }
            w.push(value);
            e.push(0.0);
            out.push(value);
        }
        // Integrate back through each differencing level, innermost first.
        for last in self.history.iter().rev() {
            let mut running = *last;
            for value in out.iter_mut() {
                running += *value;
                *value = running;
            }
        }
        out
    }
}

impl ArimaFit {
    /// Normal prediction intervals from the psi weights of the integrated model: the variance
    /// `h` steps ahead is `sigma2 * sum_{j<h} psi_j^2`. Returns `(lower, upper)` per level.
    pub fn intervals(&self, horizon: usize, levels: &[f64]) -> Vec<(Vec<f64>, Vec<f64>)> {
        // AR polynomial times (1 - B)^d, as coefficients of B^1, B^2, ...
        let mut polynomial = vec![1.0];
        for phi in &self.ar {
            polynomial.push(-phi);
        }
        for _ in 0..self.d {
            let mut next = vec![0.0; polynomial.len() + 1];
            for (i, c) in polynomial.iter().enumerate() {
                next[i] += c;
                next[i + 1] -= c;
            }
            polynomial = next;
        }
        let phi_star: Vec<f64> = polynomial[1..].iter().map(|c| -c).collect();
        let mut psi = vec![1.0];
        for j in 1..horizon {
            let mut value = self.ma.get(j - 1).copied().unwrap_or(0.0);
            for (i, phi) in phi_star.iter().enumerate() {
                if i < j {
                    value += phi * psi[j - 1 - i];
                }
            }
            psi.push(value);
        }
        let point = self.point_forecast(horizon);
        let sigma = self.sigma2.max(0.0).sqrt();
        let mut cumulative = 0.0;
        let spread: Vec<f64> = psi
            .iter()
            .map(|p| {
                cumulative += p * p;
                sigma * cumulative.sqrt()
            })
            .collect();
        levels
            .iter()
            .map(|level| {
                let z = super::stats::normal_quantile(0.5 + level / 200.0);
                let lower = point.iter().zip(&spread).map(|(f, s)| f - z * s).collect();
                let upper = point.iter().zip(&spread).map(|(f, s)| f + z * s).collect();
                (lower, upper)
            })
            .collect()
    }
}

fn fit_order(w: &[f64], p: usize, d: usize, q: usize, with_constant: bool) -> Option<ArimaFit> {
    let n = w.len();
    let k = p + q + usize::from(with_constant) + 1;
    let effective = n.checked_sub(p)?;
    if effective <= k + 1 {
        return None;
    }
    let mean = w.iter().sum::<f64>() / n as f64;
    let spread = (w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt().max(1e-6);
    let mut start = vec![0.0; p + q];
    let mut steps = vec![0.1; p + q];
    if with_constant {
        start.push(mean);
        steps.push(0.1 * spread);
    }
    let mut residuals = vec![0.0; n];
    let mut objective = |x: &[f64]| -> f64 {
        let (ar, rest) = x.split_at(p);
        let (ma, constant) = rest.split_at(q);
        let mu = constant.first().copied().unwrap_or(0.0);
        if !stationary(ar) || !invertible(ma) {
            return f64::INFINITY;
        }
        css(w, ar, ma, mu, &mut residuals)
    };
    if start.is_empty() {
        let sse = objective(&[]);
        return finish(w, p, d, q, Vec::new(), Vec::new(), 0.0, sse, k, effective);
    }
    let optimiser = NelderMead { max_evaluations: 200 * start.len().max(3), relative_tolerance: 1e-8, restarts: 1 };
    let minimum = optimiser.minimise(&start, &steps, &mut objective);
    if !minimum.value.is_finite() {
        return None;
    }
    let (ar, rest) = minimum.point.split_at(p);
    let (ma, constant) = rest.split_at(q);
    let mu = constant.first().copied().unwrap_or(0.0);
    finish(w, p, d, q, ar.to_vec(), ma.to_vec(), mu, minimum.value, k, effective)
}

#[allow(clippy::too_many_arguments, reason = "internal helper assembling a fit from its parts")]
fn finish(
    w: &[f64],
    p: usize,
    d: usize,
    q: usize,
    ar: Vec<f64>,
    ma: Vec<f64>,
    constant: f64,
    sse: f64,
    k: usize,
    effective: usize,
) -> Option<ArimaFit> {
    if !sse.is_finite() {
        return None;
    }
    let mut residuals = vec![0.0; w.len()];
    css(w, &ar, &ma, constant, &mut residuals);
    let nf = effective as f64;
    let kf = k as f64;
    let sigma2 = sse / nf;
    let aicc = nf * sigma2.max(1e-300).ln() + 2.0 * kf + 2.0 * kf * (kf + 1.0) / (nf - kf - 1.0);
    Some(ArimaFit { p, d, q, constant, ar, ma, aicc, sigma2, history: Vec::new(), differenced: w.to_vec(), residuals })
}

/// Conditional sum of squares of the one-step errors from time `p` on; fills `residuals`.
fn css(w: &[f64], ar: &[f64], ma: &[f64], mu: f64, residuals: &mut [f64]) -> f64 {
    let p = ar.len();
    let mut sse = 0.0;
    residuals.iter_mut().for_each(|r| *r = 0.0);
    for t in p..w.len() {
        let mut predicted = mu;
        for (i, phi) in ar.iter().enumerate() {
            predicted += phi * (w[t - 1 - i] - mu);
        }
        for (j, theta) in ma.iter().enumerate() {
            if t > j {
                predicted += theta * residuals[t - 1 - j];
            }
        }
        let error = w[t] - predicted;
        residuals[t] = error;
        sse += error * error;
    }
    if sse.is_finite() { sse } else { f64::INFINITY }
}

/// Largest allowed |coefficient| on the edges of the stationarity and invertibility regions,
/// keeping estimates away from unit roots.
const MARGIN: f64 = 0.99;

/// AR polynomial `1 - phi_1 z - phi_2 z^2` has its roots outside the unit circle (the
/// triangle conditions for order two; orders are at most two here).
fn stationary(ar: &[f64]) -> bool {
    match *ar {
        [] => true,
        [phi] => phi.abs() < MARGIN,
        [phi1, phi2] => phi2.abs() < MARGIN && phi1 + phi2 < MARGIN && phi2 - phi1 < MARGIN,
        _ => false,
    }
}

/// MA polynomial `1 + theta_1 z + theta_2 z^2` has its roots outside the unit circle.
fn invertible(ma: &[f64]) -> bool {
    let negated: Vec<f64> = ma.iter().map(|theta| -theta).collect();
    stationary(&negated)
}

/// KPSS test of level stationarity at 5% (critical value 0.463), short lag truncation.
fn kpss_stationary(y: &[f64]) -> bool {
    let n = y.len();
    if n < 4 {
        return true;
    }
    let mean = y.iter().sum::<f64>() / n as f64;
    let e: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let lags = (4.0 * (n as f64 / 100.0).powf(0.25)).floor() as usize;
    let mut variance = e.iter().map(|v| v * v).sum::<f64>() / n as f64;
    for lag in 1..=lags.min(n - 1) {
        let weight = 1.0 - lag as f64 / (lags as f64 + 1.0);
        let covariance: f64 = (lag..n).map(|t| e[t] * e[t - lag]).sum::<f64>() / n as f64;
        variance += 2.0 * weight * covariance;
    }
    if variance <= 0.0 {
        return true;
    }
    let mut partial = 0.0;
    let mut sum_squares = 0.0;
    for value in &e {
        partial += value;
        sum_squares += partial * partial;
    }
    let statistic = sum_squares / (n as f64 * n as f64 * variance);
    statistic < 0.463
}
