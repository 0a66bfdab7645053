//! Invariants: finite forecasts inside their intervals, nested levels, widths that grow with
//! the horizon, the same output for the same seed.

use forecast::series::{MethodChoice, Options, auto_forecast};
use proptest::prelude::*;

use crate::quick;

/// A positive series: level, trend, optional quarterly season and noise from a seed.
fn series() -> impl Strategy<Value = (Vec<f64>, usize)> {
    (8usize..30, 50.0f64..500.0, -3.0f64..3.0, 0.0f64..0.3, prop::bool::ANY, prop::collection::vec(-1.0f64..1.0, 30))
        .prop_map(|(n, level, slope, amplitude, seasonal, noise)| {
            let season = if seasonal { 4 } else { 1 };
            let values = (0..n)
                .map(|t| {
                    let wave = if seasonal { [1.0, -0.5, 0.3, -0.8][t % 4] } else { 0.0 };
                    (level + slope * t as f64) * (1.0 + amplitude * wave) + 0.05 * level * noise[t]
                })
                .map(|v: f64| v.max(1.0))
                .collect();
            (values, season)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn forecasts_lie_inside_nested_intervals((values, season) in series(), horizon in 1usize..10) {
        let forecast = auto_forecast(&values, season, horizon, &quick(MethodChoice::Combination));
        prop_assert_eq!(forecast.point.len(), horizon);
        let [eighty, ninety_five] = [&forecast.intervals[0], &forecast.intervals[1]];
        for step in 0..horizon {
            let point = forecast.point[step];
            prop_assert!(point.is_finite());
            prop_assert!(eighty.lower[step] <= point && point <= eighty.upper[step]);
            prop_assert!(ninety_five.lower[step] <= eighty.lower[step] + 1e-9);
            prop_assert!(eighty.upper[step] <= ninety_five.upper[step] + 1e-9);
        }
    }

    #[test]
    fn theta_interval_widths_grow_with_the_horizon((values, _) in series()) {
        let forecast = auto_forecast(&values, 1, 8, &quick(MethodChoice::Theta));
        let interval = &forecast.intervals[1];
        let widths: Vec<f64> = (0..8).map(|h| interval.upper[h] - interval.lower[h]).collect();
        for pair in widths.windows(2) {
            prop_assert!(pair[1] >= pair[0] - 1e-9, "{:?}", widths);
        }
    }
}

#[test]
fn ets_intervals_widen_over_a_year() {
    // A random walk: every shock persists, so uncertainty builds up (about as the square root
    // of the horizon when the level follows the data closely).
    let walk =
        [100.0, 110.0, 125.0, 118.0, 130.0, 142.0, 135.0, 120.0, 112.0, 104.0, 115.0, 98.0, 90.0, 97.0, 85.0, 78.0];
    let forecast = auto_forecast(&walk, 1, 12, &quick(MethodChoice::Ets));
    let interval = &forecast.intervals[1];
    let width = |h: usize| interval.upper[h] - interval.lower[h];
    assert!(width(11) > 2.0 * width(0), "{}: {} vs {}", forecast.method, width(11), width(0));
}

#[test]
fn same_seed_same_forecast_and_another_seed_other_intervals() {
    let sales = [30.0, 34.0, 29.0, 41.0, 33.0, 37.0, 31.0, 44.0, 35.0, 40.0, 33.0, 47.0, 38.0, 42.0, 36.0, 50.0];
    let options = quick(MethodChoice::Combination);
    let first = auto_forecast(&sales, 4, 8, &options);
    let again = auto_forecast(&sales, 4, 8, &options);
    assert_eq!(first, again);
    let other = auto_forecast(&sales, 4, 8, &Options { seed: 7, ..options });
    assert_eq!(first.point, other.point, "point forecasts do not depend on the seed");
}
