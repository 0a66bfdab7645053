//! Small statistical helpers: least squares line, autocorrelation, classical decomposition,
//! the normal quantile function and a seedable random source for interval simulation.

/// Intercept (value at `x = 0`) and slope of the least-squares line through `(x0 + i, y[i])`.
pub(crate) fn linear_fit(y: &[f64], x0: f64) -> (f64, f64) {
    let n = y.len() as f64;
    if y.len() < 2 {
        return (y.first().copied().unwrap_or(0.0), 0.0);
    }
    let mean_x = x0 + (n - 1.0) / 2.0;
    let mean_y = y.iter().sum::<f64>() / n;
    let mut sxy = 0.0;
    let mut sxx = 0.0;
    for (i, value) in y.iter().enumerate() {
        let dx = x0 + i as f64 - mean_x;
        sxy += dx * (value - mean_y);
        sxx += dx * dx;
    }
    let slope = sxy / sxx;
    (mean_y - slope * mean_x, slope)
}

/// Sample autocorrelations at lags `1..=max_lag` (the usual biased estimator).
pub(crate) fn autocorrelations(y: &[f64], max_lag: usize) -> Vec<f64> {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    let denominator: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    (1..=max_lag)
        .map(|lag| {
            if lag >= n || denominator == 0.0 {
                return 0.0;
            }
            let numerator: f64 = (0..n - lag).map(|t| (y[t] - mean) * (y[t + lag] - mean)).sum();
            numerator / denominator
        })
        .collect()
}

/// Whether `y` shows seasonality of period `season` by the test used with the Theta method in
/// M3: the lag-`season` autocorrelation exceeds its 90% one-sided limit under Bartlett's formula.
pub(crate) fn is_seasonal(y: &[f64], season: usize) -> bool {
    if season < 2 || y.len() < 3 * season {
        return false;
    }
    let r = autocorrelations(y, season);
    let sum_squares: f64 = r[..season - 1].iter().map(|v| v * v).sum();
    let limit = ((1.0 + 2.0 * sum_squares) / y.len() as f64).sqrt();
    r[season - 1].abs() / limit > normal_quantile(0.95)
}

/// Kind of classical decomposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decomposition {
    Additive,
    Multiplicative,
}

/// Seasonal indices of a classical decomposition (centred moving average): `indices[j]` applies
/// to every time `t` with `t % season == j`. Normalised to sum 0 (additive) or average 1
/// (multiplicative). Needs at least `2 * season` observations.
pub(crate) fn seasonal_indices(y: &[f64], season: usize, kind: Decomposition) -> Option<Vec<f64>> {
    let n = y.len();
    if season < 2 || n < 2 * season {
        return None;
    }
    let half = season / 2;
    let mut sums = vec![0.0; season];
    let mut counts = vec![0usize; season];
    for t in half..n - half {
        let trend = if season.is_multiple_of(2) {
            let inner: f64 = y[t + 1 - half..t + half].iter().sum();
            (inner + 0.5 * (y[t - half] + y[t + half])) / season as f64
        } else {
            y[t - half..=t + half].iter().sum::<f64>() / season as f64
        };
        let detrended = match kind {
            Decomposition::Additive => y[t] - trend,
            Decomposition::Multiplicative => {
                if trend == 0.0 {
                    return None;
                }
                y[t] / trend
            }
        };
        sums[t % season] += detrended;
        counts[t % season] += 1;
    }
    if counts.contains(&0) {
        return None;
    }
    let mut indices: Vec<f64> = sums.iter().zip(&counts).map(|(s, c)| s / *c as f64).collect();
    let mean = indices.iter().sum::<f64>() / season as f64;
    match kind {
        Decomposition::Additive => indices.iter_mut().for_each(|v| *v -= mean),
        Decomposition::Multiplicative => {
            if mean == 0.0 {
                return None;
            }
            indices.iter_mut().for_each(|v| *v /= mean)
        }
    }
    Some(indices)
}

/// The standard normal quantile function (Acklam's rational approximation, relative error
/// below 1.2e-9, ample for prediction intervals).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let low = 0.02425;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// Linear-interpolated quantile of already sorted values.
pub(crate) fn sorted_quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let weight = position - below as f64;
    sorted[below] * (1.0 - weight) + sorted[above] * weight
}

/// A small seedable generator (SplitMix64) with Box–Muller normal draws. Owned by one
/// forecast, so results depend on the seed argument only.
pub(crate) struct Random {
    state: u64,
    spare: Option<f64>,
}

impl Random {
    pub(crate) fn new(seed: u64) -> Self {
        Random { state: seed ^ 0x5DEE_CE66_D1CE_4E5B, spare: None }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in the open interval (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub(crate) fn standard_normal(&mut self) -> f64 {
        if let Some(value) = self.spare.take() {
            return value;
        }
        let radius = (-2.0 * self.uniform().ln()).sqrt();
        let angle = 2.0 * std::f64::consts::PI * self.uniform();
        self.spare = Some(radius * angle.sin());
        radius * angle.cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles_match_tables() {
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-6);
        assert!((normal_quantile(0.95) - 1.644_854).abs() < 1e-6);
        assert!((normal_quantile(0.9) - 1.281_552).abs() < 1e-6);
        assert!((normal_quantile(0.01) + 2.326_348).abs() < 1e-6);
        assert_eq!(normal_quantile(0.5), 0.0);
    }

    #[test]
    fn least_squares_line_through_exact_points() {
        let (intercept, slope) = linear_fit(&[3.0, 5.0, 7.0, 9.0], 1.0);
        assert!((intercept - 1.0).abs() < 1e-12 && (slope - 2.0).abs() < 1e-12);
    }

    #[test]
    fn seasonal_indices_recover_a_pure_pattern() {
        let pattern = [0.8, 1.0, 1.2, 1.0];
        let y: Vec<f64> = (0..16).map(|t| 100.0 * pattern[t % 4]).collect();
        let indices = seasonal_indices(&y, 4, Decomposition::Multiplicative).expect("long enough");
        for (index, expected) in indices.iter().zip(pattern) {
            assert!((index - expected).abs() < 1e-9, "{indices:?}");
        }
        assert!(is_seasonal(&y, 4));
    }

    #[test]
    fn normal_draws_have_unit_variance() {
        let mut random = Random::new(7);
        let draws: Vec<f64> = (0..20_000).map(|_| random.standard_normal()).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let variance = draws.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!(mean.abs() < 0.03 && (variance - 1.0).abs() < 0.05, "{mean} {variance}");
    }
}
