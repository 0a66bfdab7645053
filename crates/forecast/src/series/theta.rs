//! The classic Theta method of Assimakopoulos and Nikolopoulos, as run in the M3 competition.
//!
//! Seasonality is tested at 90% with the lag-`m` autocorrelation; a seasonal series is
//! deseasonalised by classical multiplicative decomposition. The adjusted series is forecast by
//! simple exponential smoothing (ETS(A,N,N) fitted by likelihood) plus half the slope of its
//! least-squares line (the theta = 0 line), which is Hyndman and Billah's equivalent form; the
//! seasonal indices are then put back.

use super::ets::{ErrorKind, EtsFit, EtsSpec, SeasonKind, TrendKind, fit_ets};
use super::stats::{Decomposition, is_seasonal, linear_fit, normal_quantile, seasonal_indices};

/// A fitted classic Theta model.
#[derive(Debug, Clone)]
pub struct ThetaFit {
    /// Multiplicative seasonal indices by position (`t % m`), when the test found seasonality.
    indices: Option<Vec<f64>>,
    smoothing: EtsFit,
    half_slope: f64,
    observations: usize,
}

/// The M3 seasonal adjustment: when the data are positive and the 90% autocorrelation test finds
/// seasonality of period `season_length`, the multiplicative seasonal indices of a classical
/// decomposition by position (`t % season_length`); otherwise `None`.
pub fn seasonal_adjustment(y: &[f64], season_length: usize) -> Option<Vec<f64>> {
    let positive = y.iter().all(|v| *v > 0.0);
    if !(positive && is_seasonal(y, season_length)) {
        return None;
    }
    seasonal_indices(y, season_length, Decomposition::Multiplicative).filter(|ix| ix.iter().all(|v| v.abs() > 1e-4))
}

/// Fits the classic Theta method; `None` when the series is too short for exponential smoothing.
pub fn fit_theta(y: &[f64], season_length: usize) -> Option<ThetaFit> {
    let n = y.len();
    let indices = seasonal_adjustment(y, season_length);
    let adjusted: Vec<f64> = match &indices {
        Some(ix) => y.iter().enumerate().map(|(t, v)| v / ix[t % season_length]).collect(),
        None => y.to_vec(),
    };
    let spec = EtsSpec { error: ErrorKind::Additive, trend: TrendKind::None, season: SeasonKind::None };
    let smoothing = fit_ets(&adjusted, 1, spec)?;
    let (_, slope) = linear_fit(&adjusted, 0.0);
    Some(ThetaFit { indices, smoothing, half_slope: slope / 2.0, observations: n })
}

impl ThetaFit {
    /// Whether the seasonality test found seasonality (and the forecast is reseasonalised).
    pub fn seasonal(&self) -> bool {
        self.indices.is_some()
    }

    fn index(&self, step: usize) -> f64 {
        match &self.indices {
            Some(ix) => ix[(self.observations + step) % ix.len()],
            None => 1.0,
        }
    }

    /// Point forecasts for `horizon` steps.
    pub fn point_forecast(&self, horizon: usize) -> Vec<f64> {
        let alpha = self.smoothing.alpha.max(1e-10);
        let n = self.observations as f64;
        let offset = (1.0 - (1.0 - alpha).powf(n)) / alpha;
        self.smoothing
            .point_forecast(horizon)
            .into_iter()
            .enumerate()
            .map(|(step, level)| (level + self.half_slope * (step as f64 + offset)) * self.index(step))
            .collect()
    }

    /// Normal prediction intervals of simple exponential smoothing around the Theta forecast,
    /// scaled by the seasonal index. Returns `(lower, upper)` per level (in percent).
    pub fn intervals(&self, horizon: usize, levels: &[f64]) -> Vec<(Vec<f64>, Vec<f64>)> {
        let point = self.point_forecast(horizon);
        let alpha = self.smoothing.alpha;
        let sigma = self.smoothing.sigma2.max(0.0).sqrt();
        levels
            .iter()
            .map(|level| {
                let z = normal_quantile(0.5 + level / 200.0);
                let half_width: Vec<f64> = (0..horizon)
                    .map(|step| z * sigma * (1.0 + step as f64 * alpha * alpha).sqrt() * self.index(step))
                    .collect();
                let lower = point.iter().zip(&half_width).map(|(p, w)| p - w).collect();
                let upper = point.iter().zip(&half_width).map(|(p, w)| p + w).collect();
                (lower, upper)
            })
            .collect()
    }
}
