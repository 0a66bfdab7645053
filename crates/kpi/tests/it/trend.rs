//! Trend detection: false alarms stay rare when nothing changed, a real drop is found, and the
//! change of a ratio splits exactly into mix and rate effects per slice.

use kpi::trend::{Series, SliceWindows, attribute_change, detect_changes};
use kpi::{Ratio, Value};
use rust_decimal::Decimal;

/// SplitMix64, so the simulation is the same on every run.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn binomial(&mut self, n: u64, p: f64) -> u64 {
        (0..n).filter(|_| self.unit() < p).count() as u64
    }
}

fn win_rates(rng: &mut Rng, reps: usize, recent_rate: impl Fn(usize) -> f64) -> Vec<Series> {
    (0..reps)
        .map(|rep| Series::Proportion {
            baseline_successes: rng.binomial(120, 0.3),
            baseline_trials: 120,
            recent_successes: rng.binomial(60, recent_rate(rep)),
            recent_trials: 60,
        })
        .collect()
}

#[test]
fn few_false_alarms_when_nothing_changed() {
    let mut rng = Rng(42);
    // 60 days of 80 reps each, no change: with a 5 % false discovery rate, a day with any alarm
    // should be rare (about 5 % of days under the global null).
    let days_with_alarms = (0..60)
        .filter(|_| detect_changes(&win_rates(&mut rng, 80, |_| 0.3), 0.05).iter().any(|f| f.significant))
        .count();
    assert!(days_with_alarms <= 8, "{days_with_alarms} of 60 quiet days raised an alarm");
}

#[test]
fn a_real_drop_is_found_among_quiet_series() {
    let mut rng = Rng(7);
    // Rep 3's win rate drops from 30 % to 5 %; everyone else is unchanged.
    let series = win_rates(&mut rng, 40, |rep| if rep == 3 { 0.05 } else { 0.3 });
    let findings = detect_changes(&series, 0.05);
    let flagged: Vec<usize> = findings.iter().filter(|f| f.significant).map(|f| f.series).collect();
    assert_eq!(flagged, vec![3]);
    assert!(findings[3].z.unwrap() < -3.0);
}

#[test]
fn counts_compare_rates_per_exposure_and_small_samples_are_not_tested() {
    let series = [
        // 20 calls a day for 28 days, then 12 a day for 7 days: a clear drop.
        Series::Count { baseline_count: 560, baseline_exposure: 28.0, recent_count: 84, recent_exposure: 7.0 },
        // Same rate: no alarm.
        Series::Count { baseline_count: 560, baseline_exposure: 28.0, recent_count: 140, recent_exposure: 7.0 },
        // Two events: too little to say anything.
        Series::Count { baseline_count: 2, baseline_exposure: 28.0, recent_count: 0, recent_exposure: 7.0 },
    ];
    let findings = detect_changes(&series, 0.05);
    assert_eq!(findings.iter().map(|f| f.significant).collect::<Vec<_>>(), [true, false, false]);
    assert_eq!(findings[2].p_value, None);
    assert!((findings[0].recent_rate - 12.0).abs() < 1e-9);
}

#[test]
fn mix_and_rate_effects_add_up_to_the_change() {
    // Win rate by region: North keeps its rate but gets more of the deals (mix); South's own
    // rate falls (rate); East appears only in the recent window.
    let slices = [
        SliceWindows {
            baseline_numerator: 30.0,
            baseline_denominator: 100.0,
            recent_numerator: 45.0,
            recent_denominator: 150.0,
        },
        SliceWindows {
            baseline_numerator: 50.0,
            baseline_denominator: 100.0,
            recent_numerator: 20.0,
            recent_denominator: 80.0,
        },
        SliceWindows {
            baseline_numerator: 0.0,
            baseline_denominator: 0.0,
            recent_numerator: 5.0,
            recent_denominator: 20.0,
        },
    ];
    let before = 80.0 / 200.0;
    let after = 70.0 / 250.0;
    let parts = attribute_change(&slices);
    let total: f64 = parts.iter().map(|p| p.mix + p.rate).sum();
    assert!((total - (after - before)).abs() < 1e-12);
    assert_eq!(parts[0].rate, 0.0, "North's rate did not move");
    assert!(parts[1].rate < -0.05, "South's falling rate drives the drop");
    assert_eq!(parts[2].rate, 0.0, "a new slice changes the mix only");
}

#[test]
fn series_come_straight_from_kpi_cells() {
    let cell = |n: i64, d: i64| Value::ratio(Decimal::from(n), Decimal::from(d), "no closed opportunity");
    let series = Series::from_ratios(&cell(36, 120), &cell(3, 60)).unwrap();
    assert_eq!(
        series,
        Series::Proportion { baseline_successes: 36, baseline_trials: 120, recent_successes: 3, recent_trials: 60 }
    );
    assert!(detect_changes(&[series], 0.05)[0].significant);
    // Cycle length is days over deals, not a proportion of counts: no series.
    let days = Value::Ratio { ratio: Ratio::new(Decimal::new(125, 1), Decimal::from(3)) };
    assert_eq!(Series::from_ratios(&days, &days), None);
    let windows = SliceWindows::from_values(&cell(0, 0), &cell(5, 20));
    assert_eq!((windows.baseline_denominator, windows.recent_numerator), (0.0, 5.0));
}
