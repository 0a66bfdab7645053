//! Learned win probability: L2-regularised logistic regression fitted by Newton's method, and
//! its calibration report against the stage weights.

use std::collections::BTreeMap;

use super::{ClosedOutcome, Diagnostic, OpenOpportunity, clamp_probability, decimal_to_f64};

/// Settings of the learned win probability.
#[derive(Debug, Clone, PartialEq)]
pub struct LearningOptions {
    /// L2 penalty on the stage indicators and the standardised numeric features (log age, log
    /// days in stage, log amount).
    pub penalty: f64,
    /// L2 penalty on the owner, product-line and source indicators: larger, so a category with
    /// few closed opportunities stays near the overall rate (shrinkage).
    pub category_penalty: f64,
    /// Fewest closed rows to learn from; at least a fifth of this many must be won and as many
    /// lost. Below it the stage weights are used.
    pub min_rows: usize,
    /// Folds for the out-of-fold calibration report.
    pub folds: usize,
}

impl Default for LearningOptions {
    fn default() -> Self {
        Self { penalty: 1.0, category_penalty: 5.0, min_rows: 40, folds: 5 }
    }
}

/// The win probability used for an open opportunity.
#[derive(Debug, Clone, PartialEq)]
pub enum WinModel {
    /// The stage's configured probability (the fallback).
    StageWeights,
    /// A fitted logistic regression.
    Learned(LogisticModel),
}

impl WinModel {
    /// Probability that `opportunity` is eventually won.
    #[must_use]
    pub fn win_probability(&self, opportunity: &OpenOpportunity) -> f64 {
        match self {
            Self::StageWeights => decimal_to_f64(clamp_probability(opportunity.stage_probability)),
            Self::Learned(model) => model.predict(opportunity),
        }
    }
}

/// A fitted logistic regression over the opportunity features.
///
/// Features: intercept; one indicator per stage, owner, product line and source seen in training
/// (an unseen value has all indicators zero, i.e. the shrunk average); `ln(1 + age)`,
/// `ln(1 + days in stage)` and `ln(1 + amount)`, standardised with the training mean and spread.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticModel {
    encoder: Encoder,
    coefficients: Vec<f64>,
}

impl LogisticModel {
    /// Probability that `opportunity` is eventually won.
    #[must_use]
    pub fn predict(&self, opportunity: &OpenOpportunity) -> f64 {
        let mut row = vec![0.0; self.encoder.width()];
        self.encoder.encode(opportunity, &mut row);
        sigmoid(dot(&row, &self.coefficients))
    }

    /// Named coefficients, for explaining the model ("stage=Propose", "log amount", ...).
    #[must_use]
    pub fn coefficients(&self) -> Vec<(String, f64)> {
        self.encoder.names().into_iter().zip(self.coefficients.iter().copied()).collect()
    }
}

/// Fits the learned win model on `history`, or returns [`WinModel::StageWeights`] with a
/// [`Diagnostic::ThinHistory`] when there are too few rows or too few of either outcome.
#[must_use]
pub fn fit_win_model(history: &[ClosedOutcome], options: &LearningOptions) -> (WinModel, Vec<Diagnostic>) {
    let won = history.iter().filter(|h| h.won).count();
    let lost = history.len() - won;
    let each = options.min_rows.div_ceil(5).max(1);
    if history.len() < options.min_rows || won < each || lost < each {
        let thin = Diagnostic::ThinHistory { rows: history.len(), won, lost, needed: options.min_rows };
        return (WinModel::StageWeights, vec![thin]);
    }
    (WinModel::Learned(fit_logistic_model(history, options)), Vec::new())
}

fn fit_logistic_model(history: &[ClosedOutcome], options: &LearningOptions) -> LogisticModel {
    let encoder = Encoder::learn(history.iter().map(|h| &h.as_seen));
    let width = encoder.width();
    let rows: Vec<Vec<f64>> = history
        .iter()
        .map(|h| {
            let mut row = vec![0.0; width];
            encoder.encode(&h.as_seen, &mut row);
            row
        })
        .collect();
    let labels: Vec<bool> = history.iter().map(|h| h.won).collect();
    let penalties = encoder.penalties(options);
    let coefficients = logistic_regression(&rows, &labels, &penalties);
    LogisticModel { encoder, coefficients }
}

/// L2-regularised logistic regression by Newton's method (iteratively reweighted least squares).
///
/// Minimises `Σ log-loss(xᵢ·w, yᵢ) + ½ Σ penaltyⱼ wⱼ²`. `rows` are dense feature vectors (include
/// a constant column for an intercept and give it penalty 0); `penalties` has one entry per
/// column. Returns the coefficients. Stops when no coefficient moves by more than 1e-9 or after
/// 100 steps; a step that would not decrease the objective is halved.
#[must_use]
pub fn logistic_regression(rows: &[Vec<f64>], labels: &[bool], penalties: &[f64]) -> Vec<f64> {
    let width = penalties.len();
    let mut w = vec![0.0; width];
    let mut objective = penalised_loss(rows, labels, penalties, &w);
    for _ in 0..100 {
        let mut gradient: Vec<f64> = penalties.iter().zip(&w).map(|(p, wj)| p * wj).collect();
        // Hessian in row-major order; a tiny ridge keeps it positive definite when a column is
        // constant zero or an unpenalised intercept meets separable data.
        let mut hessian = vec![0.0; width * width];
        for (j, p) in penalties.iter().enumerate() {
            hessian[j * width + j] = p + 1e-9;
        }
        for (row, &label) in rows.iter().zip(labels) {
            let p = sigmoid(dot(row, &w));
            let residual = p - f64::from(u8::from(label));
            let weight = (p * (1.0 - p)).max(1e-12);
            for (j, &xj) in row.iter().enumerate() {
                if xj == 0.0 {
                    continue;
                }
                gradient[j] += residual * xj;
                let line = &mut hessian[j * width..(j + 1) * width];
                for (k, &xk) in row.iter().enumerate().take(j + 1) {
                    line[k] += weight * xj * xk;
                }
            }
        }
        for j in 0..width {
            for k in 0..j {
                hessian[k * width + j] = hessian[j * width + k];
            }
        }
        let Some(step) = cholesky_solve(&mut hessian, &gradient, width) else { break };
        let mut scale = 1.0;
        let mut moved = false;
        for _ in 0..30 {
            let candidate: Vec<f64> = w.iter().zip(&step).map(|(wj, s)| wj - scale * s).collect();
            let value = penalised_loss(rows, labels, penalties, &candidate);
            if value <= objective + 1e-12 {
                w = candidate;
                objective = value;
                moved = true;
                break;
            }
            scale *= 0.5;
        }
        let largest = step.iter().fold(0.0_f64, |m, s| m.max((scale * s).abs()));
        if !moved || largest < 1e-9 {
            break;
        }
    }
    w
}

/// Calibration of the learned model against the stage weights on the same closed history.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationReport {
    /// Rows scored.
    pub rows: usize,
    /// Scores of the learned model's out-of-fold predictions (each row predicted by a model
    /// fitted without its fold), or `None` when history is too thin to learn.
    pub learned: Option<Scores>,
    /// Scores of the stage probabilities.
    pub stage_weights: Scores,
}

/// Probability scores of one method.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// Mean squared error of the probability (0 is perfect; 0.25 is a coin toss).
    pub brier: f64,
    /// Mean negative log-likelihood (probabilities clipped to `[1e-6, 1 − 1e-6]`).
    pub log_loss: f64,
    /// Ten equal-width bins of predicted probability: `[0, 0.1)`, ..., `[0.9, 1]`.
    pub reliability: Vec<ReliabilityBin>,
}

/// One bin of a reliability table.
#[derive(Debug, Clone, PartialEq)]
pub struct ReliabilityBin {
    /// Lower edge of the bin.
    pub from: f64,
    /// Upper edge of the bin.
    pub to: f64,
    /// Rows whose prediction fell in the bin.
    pub count: usize,
    /// Mean predicted probability in the bin (`NaN`-free: 0 when empty).
    pub mean_predicted: f64,
    /// Share won in the bin (0 when empty).
    pub observed: f64,
}

/// Calibration report: out-of-fold learned predictions (folds from a fixed scramble of the row
/// positions, so the result is deterministic) versus the stage probabilities.
#[must_use]
pub fn calibration(history: &[ClosedOutcome], options: &LearningOptions) -> (CalibrationReport, Vec<Diagnostic>) {
    let labels: Vec<bool> = history.iter().map(|h| h.won).collect();
    let stage: Vec<f64> =
        history.iter().map(|h| decimal_to_f64(clamp_probability(h.as_seen.stage_probability))).collect();
    let stage_weights = score(&stage, &labels);
    let (_, diagnostics) = fit_win_model(history, options);
    if !diagnostics.is_empty() {
        return (CalibrationReport { rows: history.len(), learned: None, stage_weights }, diagnostics);
    }
    let folds = options.folds.max(2);
    // A fixed scramble of the positions, so folds do not line up with any order in the input.
    let fold_of: Vec<usize> = (0..history.len()).map(|i| scramble(i as u64) as usize % folds).collect();
    let mut predicted = vec![0.0; history.len()];
    for fold in 0..folds {
        let training: Vec<ClosedOutcome> =
            history.iter().enumerate().filter(|(i, _)| fold_of[*i] != fold).map(|(_, h)| h.clone()).collect();
        let model = fit_logistic_model(&training, options);
        for (i, h) in history.iter().enumerate().filter(|(i, _)| fold_of[*i] == fold) {
            predicted[i] = model.predict(&h.as_seen);
        }
    }
    let learned = Some(score(&predicted, &labels));
    (CalibrationReport { rows: history.len(), learned, stage_weights }, diagnostics)
}

/// SplitMix64's finaliser: a fixed bijection of `u64` that scatters consecutive positions.
fn scramble(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn score(predicted: &[f64], labels: &[bool]) -> Scores {
    let n = predicted.len().max(1) as f64;
    let mut brier = 0.0;
    let mut log_loss = 0.0;
    let mut bins: Vec<(usize, f64, usize)> = vec![(0, 0.0, 0); 10];
    for (&p, &won) in predicted.iter().zip(labels) {
        let y = f64::from(u8::from(won));
        brier += (p - y) * (p - y);
        let clipped = p.clamp(1e-6, 1.0 - 1e-6);
        log_loss -= if won { clipped.ln() } else { (1.0 - clipped).ln() };
        // Truncation is the binning: p in [k/10, (k+1)/10) goes to bin k, p = 1 to the last.
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "p is in [0, 1]")]
        let bin = ((p * 10.0).floor() as usize).min(9);
        bins[bin].0 += 1;
        bins[bin].1 += p;
        bins[bin].2 += usize::from(won);
    }
    let reliability = bins
        .into_iter()
        .enumerate()
        .map(|(k, (count, sum, won))| {
            let c = count.max(1) as f64;
            ReliabilityBin {
                from: k as f64 / 10.0,
                to: (k + 1) as f64 / 10.0,
                count,
                mean_predicted: sum / c,
                observed: won as f64 / c,
            }
        })
        .collect();
    Scores { brier: brier / n, log_loss: log_loss / n, reliability }
}

/// Maps an opportunity to a dense feature row.
#[derive(Debug, Clone, PartialEq)]
struct Encoder {
    stages: BTreeMap<String, usize>,
    owners: BTreeMap<String, usize>,
    products: BTreeMap<String, usize>,
    sources: BTreeMap<String, usize>,
    /// Mean and spread of the three log features.
    centre: [f64; 3],
    spread: [f64; 3],
}

impl Encoder {
    const NUMERIC: usize = 3;

    fn learn<'a>(rows: impl Iterator<Item = &'a OpenOpportunity> + Clone) -> Self {
        let index = |values: Vec<&String>| -> BTreeMap<String, usize> {
            let mut map = BTreeMap::new();
            for v in values {
                map.entry(v.clone()).or_insert(0);
            }
            for (i, slot) in map.values_mut().enumerate() {
                *slot = i;
            }
            map
        };
        let stages = index(rows.clone().map(|o| &o.stage).collect());
        let owners = index(rows.clone().map(|o| &o.owner).collect());
        let products = index(rows.clone().map(|o| &o.product_line).collect());
        let sources = index(rows.clone().map(|o| &o.source).collect());
        let numeric: Vec<[f64; 3]> = rows.map(numeric_features).collect();
        let n = numeric.len().max(1) as f64;
        let mut centre = [0.0; 3];
        let mut spread = [0.0; 3];
        for j in 0..Self::NUMERIC {
            centre[j] = numeric.iter().map(|r| r[j]).sum::<f64>() / n;
            let var = numeric.iter().map(|r| (r[j] - centre[j]).powi(2)).sum::<f64>() / n;
            spread[j] = if var > 1e-12 { var.sqrt() } else { 1.0 };
        }
        Self { stages, owners, products, sources, centre, spread }
    }

    fn width(&self) -> usize {
        1 + Self::NUMERIC + self.stages.len() + self.owners.len() + self.products.len() + self.sources.len()
    }

    fn encode(&self, o: &OpenOpportunity, row: &mut [f64]) {
        row.fill(0.0);
        row[0] = 1.0;
        let numeric = numeric_features(o);
        for j in 0..Self::NUMERIC {
            row[1 + j] = (numeric[j] - self.centre[j]) / self.spread[j];
        }
        let mut offset = 1 + Self::NUMERIC;
        for (map, key) in [
            (&self.stages, &o.stage),
            (&self.owners, &o.owner),
            (&self.products, &o.product_line),
            (&self.sources, &o.source),
        ] {
            if let Some(&i) = map.get(key) {
                row[offset + i] = 1.0;
            }
            offset += map.len();
        }
    }

    fn penalties(&self, options: &LearningOptions) -> Vec<f64> {
        let mut p = vec![0.0];
        p.extend(std::iter::repeat_n(options.penalty, Self::NUMERIC + self.stages.len()));
        let categories = self.owners.len() + self.products.len() + self.sources.len();
        p.extend(std::iter::repeat_n(options.category_penalty, categories));
        p
    }

    fn names(&self) -> Vec<String> {
        let mut names = vec!["intercept".to_owned(), "log age".into(), "log days in stage".into(), "log amount".into()];
        for (label, map) in
            [("stage", &self.stages), ("owner", &self.owners), ("product", &self.products), ("source", &self.sources)]
        {
            names.extend(map.keys().map(|k| format!("{label}={k}")));
        }
        names
    }
}

fn numeric_features(o: &OpenOpportunity) -> [f64; 3] {
    [f64::from(o.age_days).ln_1p(), f64::from(o.days_in_stage).ln_1p(), decimal_to_f64(o.amount).max(0.0).ln_1p()]
}

fn penalised_loss(rows: &[Vec<f64>], labels: &[bool], penalties: &[f64], w: &[f64]) -> f64 {
    let data: f64 = rows
        .iter()
        .zip(labels)
        .map(|(row, &won)| {
            let z = dot(row, w);
            // log(1 + e^z) - y z, computed without overflow.
            let softplus = if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() };
            softplus - if won { z } else { 0.0 }
        })
        .sum();
    data + 0.5 * penalties.iter().zip(w).map(|(p, wj)| p * wj * wj).sum::<f64>()
}

/// Solves `A x = b` for a symmetric positive definite `A` (row-major, overwritten by its
/// Cholesky factor). `None` when `A` is not positive definite.
fn cholesky_solve(a: &mut [f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let s: f64 = (0..i).map(|k| a[i * n + k] * y[k]).sum();
        y[i] = (b[i] - s) / a[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| a[k * n + i] * x[k]).sum();
        x[i] = (y[i] - s) / a[i * n + i];
    }
    Some(x)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}
