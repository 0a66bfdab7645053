//! Trend detection (A4) as pure functions: is the recent window significantly different from
//! the baseline window, for many series at once, with the false discovery rate controlled
//! (Benjamini–Hochberg); and which slices drove a change of a ratio (mix versus rate).
//!
//! - Proportions (win rate, conversion, cancel rate): a two-sided two-proportion z-test with the
//!   pooled proportion.
//! - Counts (calls, leads, activity volume): a two-sided test that the recent count matches the
//!   baseline rate scaled to the recent exposure (days), conditional on the total (binomial),
//!   with the normal approximation.
//!
//! Tests with too little data (fewer than 5 expected events on either side) are reported with no
//! p-value and never flagged.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::value::{Ratio, Value};

/// The data of one series in the two windows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Series {
    /// Successes out of trials, in the baseline and recent windows.
    Proportion { baseline_successes: u64, baseline_trials: u64, recent_successes: u64, recent_trials: u64 },
    /// Event counts over exposures (e.g. days or rep-days) in the two windows.
    Count { baseline_count: u64, baseline_exposure: f64, recent_count: u64, recent_exposure: f64 },
}

impl Series {
    /// A proportion series from two cells of a share KPI (win rate, conversion, cancel rate) of a
    /// [`KpiTable`](crate::KpiTable); `None` unless both parts of both cells are whole counts.
    pub fn from_ratios(baseline: &Value, recent: &Value) -> Option<Series> {
        let (b, r) = (parts(baseline)?, parts(recent)?);
        Some(Series::Proportion {
            baseline_successes: whole(b.numerator)?,
            baseline_trials: whole(b.denominator)?,
            recent_successes: whole(r.numerator)?,
            recent_trials: whole(r.denominator)?,
        })
    }

    /// A count series from two count cells (calls placed, leads generated) and the lengths of
    /// their windows (days, or rep-days).
    pub fn from_counts(
        baseline: &Value,
        baseline_exposure: f64,
        recent: &Value,
        recent_exposure: f64,
    ) -> Option<Series> {
        match (baseline, recent) {
            (Value::Count { count: b }, Value::Count { count: r }) => {
                Some(Series::Count { baseline_count: *b, baseline_exposure, recent_count: *r, recent_exposure })
            }
            _ => None,
        }
    }
}

impl SliceWindows {
    /// One slice's windows from two cells of a ratio KPI (zero-denominator cells count as empty).
    pub fn from_values(baseline: &Value, recent: &Value) -> SliceWindows {
        let (b, r) = (parts(baseline).unwrap_or_default(), parts(recent).unwrap_or_default());
        let float = |d: Decimal| d.to_f64().unwrap_or(0.0);
        SliceWindows {
            baseline_numerator: float(b.numerator),
            baseline_denominator: float(b.denominator),
            recent_numerator: float(r.numerator),
            recent_denominator: float(r.denominator),
        }
    }
}

fn parts(value: &Value) -> Option<Ratio> {
    match value {
        Value::Ratio { ratio } => Some(*ratio),
        Value::NoData { ratio, .. } => *ratio,
        _ => None,
    }
}

fn whole(value: Decimal) -> Option<u64> {
    value.fract().is_zero().then(|| value.to_u64()).flatten()
}

/// The test result of one series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Position of the series in the input.
    pub series: usize,
    pub baseline_rate: f64,
    pub recent_rate: f64,
    pub z: Option<f64>,
    pub p_value: Option<f64>,
    /// Significant after the Benjamini–Hochberg procedure at the chosen false discovery rate.
    pub significant: bool,
}

/// Tests every series and flags those significant at false discovery rate `fdr` (e.g. 0.05):
/// among flagged series, the expected share of false alarms is at most `fdr`.
pub fn detect_changes(series: &[Series], fdr: f64) -> Vec<Finding> {
    let mut findings: Vec<Finding> = series.iter().enumerate().map(|(i, s)| test(i, s)).collect();
    let mut tested: Vec<(usize, f64)> =
        findings.iter().enumerate().filter_map(|(i, f)| f.p_value.map(|p| (i, p))).collect();
    tested.sort_by(|a, b| a.1.total_cmp(&b.1));
    let m = tested.len() as f64;
    let cutoff = tested
        .iter()
        .enumerate()
        .filter(|(rank, (_, p))| *p <= (*rank as f64 + 1.0) / m * fdr)
        .map(|(rank, _)| rank)
        .max();
    if let Some(cutoff) = cutoff {
        for (i, _) in &tested[..=cutoff] {
            findings[*i].significant = true;
        }
    }
    findings
}

fn test(index: usize, series: &Series) -> Finding {
    let mut finding =
        Finding { series: index, baseline_rate: 0.0, recent_rate: 0.0, z: None, p_value: None, significant: false };
    match *series {
        Series::Proportion { baseline_successes, baseline_trials, recent_successes, recent_trials } => {
            let (x0, n0, x1, n1) =
                (baseline_successes as f64, baseline_trials as f64, recent_successes as f64, recent_trials as f64);
            if n0 > 0.0 {
                finding.baseline_rate = x0 / n0;
            }
            if n1 > 0.0 {
                finding.recent_rate = x1 / n1;
            }
            let pooled = if n0 + n1 > 0.0 { (x0 + x1) / (n0 + n1) } else { 0.0 };
            let enough = [n0 * pooled, n0 * (1.0 - pooled), n1 * pooled, n1 * (1.0 - pooled)].iter().all(|e| *e >= 5.0);
            if enough {
                let se = (pooled * (1.0 - pooled) * (1.0 / n0 + 1.0 / n1)).sqrt();
                let z = (finding.recent_rate - finding.baseline_rate) / se;
                finding.z = Some(z);
                finding.p_value = Some(two_sided_p(z));
            }
        }
        Series::Count { baseline_count, baseline_exposure, recent_count, recent_exposure } => {
            if baseline_exposure > 0.0 {
                finding.baseline_rate = baseline_count as f64 / baseline_exposure;
            }
            if recent_exposure > 0.0 {
                finding.recent_rate = recent_count as f64 / recent_exposure;
            }
            let total = (baseline_count + recent_count) as f64;
            if baseline_exposure > 0.0 && recent_exposure > 0.0 {
                // Under "no change", recent | total ~ Binomial(total, share of the exposure).
                let share = recent_exposure / (baseline_exposure + recent_exposure);
                let expected = total * share;
                if expected >= 5.0 && total - expected >= 5.0 {
                    let z = (recent_count as f64 - expected) / (total * share * (1.0 - share)).sqrt();
                    finding.z = Some(z);
                    finding.p_value = Some(two_sided_p(z));
                }
            }
        }
    }
    finding
}

/// One slice of a ratio KPI in the two windows (e.g. one region's won and closed deals).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SliceWindows {
    pub baseline_numerator: f64,
    pub baseline_denominator: f64,
    pub recent_numerator: f64,
    pub recent_denominator: f64,
}

/// How much of the change of the overall ratio one slice explains.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    pub slice: usize,
    /// Change due to the slice's share of the denominator moving (mix).
    pub mix: f64,
    /// Change due to the slice's own ratio moving (rate).
    pub rate: f64,
}

/// Splits the change of an overall ratio `Σ num / Σ den` into per-slice mix and rate effects,
/// with midpoint weights so the parts add up exactly to the total change. A slice absent from one
/// window is taken to have the other window's rate (its whole effect is mix).
pub fn attribute_change(slices: &[SliceWindows]) -> Vec<Attribution> {
    let total0: f64 = slices.iter().map(|s| s.baseline_denominator).sum();
    let total1: f64 = slices.iter().map(|s| s.recent_denominator).sum();
    slices
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let w0 = if total0 > 0.0 { s.baseline_denominator / total0 } else { 0.0 };
            let w1 = if total1 > 0.0 { s.recent_denominator / total1 } else { 0.0 };
            let r0 = (s.baseline_denominator > 0.0).then(|| s.baseline_numerator / s.baseline_denominator);
            let r1 = (s.recent_denominator > 0.0).then(|| s.recent_numerator / s.recent_denominator);
            let (r0, r1) = match (r0, r1) {
                (Some(a), Some(b)) => (a, b),
                (Some(a), None) => (a, a),
                (None, Some(b)) => (b, b),
                (None, None) => (0.0, 0.0),
            };
            Attribution { slice: i, mix: (w1 - w0) * (r0 + r1) / 2.0, rate: (w0 + w1) / 2.0 * (r1 - r0) }
        })
        .collect()
}

/// Two-sided p-value of a standard normal statistic.
fn two_sided_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// The complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let value = t * poly.exp();
    if x >= 0.0 { value } else { 2.0 - value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_tail_matches_known_values() {
        assert!((two_sided_p(1.959_964) - 0.05).abs() < 1e-6);
        assert!((two_sided_p(0.0) - 1.0).abs() < 1e-6);
        assert!((two_sided_p(-2.575_829) - 0.01).abs() < 1e-6);
    }
}
