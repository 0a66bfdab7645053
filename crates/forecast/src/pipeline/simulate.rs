//! Monte Carlo ranges of the amount won in a period, with close-date slippage learned from
//! history.
//!
//! Win and slippage are independent per opportunity, so an opportunity lands in the period with
//! probability `p(win) × P(expected close + slip ∈ period | not closed before the as-of date)`:
//! one uniform draw per opportunity and simulation. Optionally one more draw per simulation
//! picks a common shift of every opportunity's log-odds ([`SimulationOptions::spread`]), so the
//! opportunities move together and the range widens to what history shows. Amounts are summed as integers in the
//! amounts' smallest unit, so every simulated total, and so every percentile, is an exact sum of
//! amounts.

use jiff::civil::Date;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rust_decimal::Decimal;

use super::{ClosedOutcome, Diagnostic, Period};
use crate::series::normal_quantile;

/// Monte Carlo settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationOptions {
    /// Number of simulated outcomes.
    pub simulations: usize,
    /// Seed of the ChaCha8 generator; simulation `i` uses stream `i` of this seed, so the result
    /// does not depend on `threads`.
    pub seed: u64,
    /// Worker threads (at least one).
    pub threads: usize,
    /// Standard deviation of a shift of every win probability's log-odds, common to all
    /// opportunities within one simulation (a good or bad quarter lifts or sinks every
    /// opportunity together). 0 treats opportunities as independent, which gives narrow ranges
    /// on large pipelines; [`super::backtest`] chooses it per segment.
    pub spread: f64,
}

impl Default for SimulationOptions {
    fn default() -> Self {
        Self { simulations: 2_000, seed: 0, threads: 2, spread: 0.0 }
    }
}

/// Percentiles of the simulated amount won in the period. Each is one simulated total (nearest
/// rank), so `p10 <= p50 <= p90` always and each is an exact sum of amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedRange {
    /// Simulations run.
    pub simulations: usize,
    /// 10th percentile.
    pub p10: Decimal,
    /// Median.
    pub p50: Decimal,
    /// 90th percentile.
    pub p90: Decimal,
    /// Mean of the simulated totals, rounded to the amounts' scale.
    pub mean: Decimal,
}

/// Close-date slippage: the empirical distribution of actual minus expected close date (days)
/// over the won history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlippageModel {
    /// Sorted slips in days; `[0]` when there is no history.
    slips: Vec<i64>,
}

impl SlippageModel {
    /// Learns slips from the won rows of `history`; with none, no slippage and a
    /// [`Diagnostic::NoSlippageHistory`].
    #[must_use]
    pub fn learn(history: &[ClosedOutcome]) -> (Self, Vec<Diagnostic>) {
        let mut slips: Vec<i64> =
            history.iter().filter(|h| h.won).map(|h| days_between(h.as_seen.expected_close, h.closed_on)).collect();
        if slips.is_empty() {
            return (Self::none(), vec![Diagnostic::NoSlippageHistory]);
        }
        slips.sort_unstable();
        (Self { slips }, Vec::new())
    }

    /// No slippage: every opportunity closes on its expected date (or on the as-of date when
    /// that is already past).
    #[must_use]
    pub fn none() -> Self {
        Self { slips: vec![0] }
    }

    /// Slippage from a given list of slips in days (e.g. from a stored model).
    #[must_use]
    pub fn from_slips(mut slips: Vec<i64>) -> Self {
        if slips.is_empty() {
            return Self::none();
        }
        slips.sort_unstable();
        Self { slips }
    }

    /// Probability that an opportunity expected to close on `expected` and still open on `as_of`
    /// closes within `period`. The slip is drawn from the history conditioned on the close not
    /// lying before `as_of`; when no historical slip is that late, it closes on `as_of`.
    #[must_use]
    pub fn probability_in_period(&self, expected: Date, as_of: Date, period: Period) -> f64 {
        let earliest = days_between(expected, as_of);
        let from = days_between(expected, period.start()).max(earliest);
        let to = days_between(expected, period.end());
        let possible = self.slips.len() - self.slips.partition_point(|&s| s < earliest);
        if possible == 0 {
            return if period.contains(as_of) { 1.0 } else { 0.0 };
        }
        if to < from {
            return 0.0;
        }
        let inside = self.slips.partition_point(|&s| s <= to) - self.slips.partition_point(|&s| s < from);
        inside as f64 / possible as f64
    }
}

/// Simulates the amount won in `period`. The slices are parallel: amount, win probability and
/// expected close date per open opportunity. Negative amounts count as zero.
#[must_use]
pub fn simulate_period(
    amounts: &[Decimal],
    win_probabilities: &[f64],
    expected_closes: &[Date],
    slippage: &SlippageModel,
    as_of: Date,
    period: Period,
    options: &SimulationOptions,
) -> SimulatedRange {
    // Larger scales are rounded: 10 decimals are far below any currency's smallest unit.
    let scale = amounts.iter().map(Decimal::scale).max().unwrap_or(0).min(10);
    let shifts = shift_levels(options.spread);
    let mut certain: i128 = 0;
    // thresholds[level][i]: opportunity i lands in the period when a uniform u32 is below it.
    let mut thresholds: Vec<Vec<u32>> = vec![Vec::new(); shifts.len()];
    let mut units: Vec<i64> = Vec::new();
    let mut huge_thresholds: Vec<Vec<u32>> = vec![Vec::new(); shifts.len()];
    let mut huge: Vec<i128> = Vec::new();
    for ((&amount, &p), &close) in amounts.iter().zip(win_probabilities).zip(expected_closes) {
        let value = to_units(amount.max(Decimal::ZERO), scale);
        let in_period = slippage.probability_in_period(close, as_of, period);
        let levels: Vec<f64> =
            shifts.iter().map(|&z| (shift(p, z) * in_period).clamp(0.0, 1.0) * 4_294_967_296.0).collect();
        if levels.iter().all(|&t| t.round() >= 4_294_967_296.0) {
            certain += value;
            continue;
        }
        if value == 0 || levels.iter().all(|&t| t.round() < 1.0 || t.is_nan()) {
            continue;
        }
        // Rounded into [0, 2^32 - 1]; NaN (a NaN probability) becomes 0, never wins.
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "saturating conversion")]
        let levels = levels.iter().map(|&t| t.round().min(4_294_967_295.0) as u32);
        if let Ok(value) = i64::try_from(value) {
            units.push(value);
            levels.zip(&mut thresholds).for_each(|(t, list)| list.push(t));
        } else {
            // Beyond 2^63 smallest units: kept exact on a slower path.
            huge.push(value);
            levels.zip(&mut huge_thresholds).for_each(|(t, list)| list.push(t));
        }
    }
    let simulations = options.simulations.max(1);
    let threads = options.threads.clamp(1, simulations);
    let mut totals = vec![0_i128; simulations];
    let chunk = simulations.div_ceil(threads);
    let level_count = u32::try_from(shifts.len()).unwrap_or(1);
    std::thread::scope(|scope| {
        for (c, part) in totals.chunks_mut(chunk).enumerate() {
            let (thresholds, units, huge_thresholds, huge) = (&thresholds, &units, &huge_thresholds, &huge);
            scope.spawn(move || {
                for (k, total) in part.iter_mut().enumerate() {
                    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
                    rng.set_stream((c * chunk + k) as u64);
                    let level = if level_count > 1 { (rng.next_u32() % level_count) as usize } else { 0 };
                    // Branch-free: the outcomes are random, so a branch would mispredict half
                    // the time. Each amount is below 2^63 and there are fewer than 2^64 of them.
                    let mut sum = certain;
                    for (&t, &u) in thresholds[level].iter().zip(units) {
                        sum += i128::from(u) * i128::from(rng.next_u32() < t);
                    }
                    for (&t, &u) in huge_thresholds[level].iter().zip(huge) {
                        sum += u * i128::from(rng.next_u32() < t);
                    }
                    *total = sum;
                }
            });
        }
    });
    let mean_units = totals.iter().sum::<i128>();
    totals.sort_unstable();
    let at = |q: f64| {
        // Nearest rank: the smallest total with at least q of the simulations at or below it.
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "in 1..=simulations")]
        let rank = ((q * simulations as f64).ceil() as usize).clamp(1, simulations);
        Decimal::from_i128_with_scale(totals[rank - 1], scale)
    };
    let mean = (Decimal::from_i128_with_scale(mean_units, scale) / Decimal::from(simulations)).round_dp(scale);
    SimulatedRange { simulations, p10: at(0.1), p50: at(0.5), p90: at(0.9), mean }
}

/// Equally likely shifts of the log-odds: the midpoints of 20 equal-probability slices of a
/// normal distribution with standard deviation `spread`; just `[0]` when `spread` is zero.
fn shift_levels(spread: f64) -> Vec<f64> {
    if spread <= 0.0 || !spread.is_finite() {
        return vec![0.0];
    }
    (0..20).map(|k| spread * normal_quantile((f64::from(k) + 0.5) / 20.0)).collect()
}

/// `p` with its log-odds shifted by `z` (0 and 1 stay put).
fn shift(p: f64, z: f64) -> f64 {
    let p = p.clamp(0.0, 1.0);
    if z == 0.0 || p <= 0.0 || p >= 1.0 {
        return p;
    }
    let odds = p / (1.0 - p) * z.exp();
    odds / (1.0 + odds)
}

/// `amount` in units of `10^-scale` (rounded half to even beyond that scale).
fn to_units(amount: Decimal, scale: u32) -> i128 {
    let mut value = amount.round_dp(scale);
    value.rescale(scale);
    value.mantissa()
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub(super) fn days_between(from: Date, to: Date) -> i64 {
    i64::from((to - from).get_days())
}
