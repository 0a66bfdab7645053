//! Degenerate input gives a diagnostic and a usable fallback, never a panic or a NaN.

use forecast::series::{Diagnostic, Forecast, Method, MethodChoice, auto_forecast};
use proptest::prelude::*;

use crate::{quick, show};

fn run(values: &[f64], season: usize, horizon: usize) -> Forecast {
    let forecast = auto_forecast(values, season, horizon, &quick(MethodChoice::Combination));
    assert_eq!(forecast.point.len(), horizon);
    for value in forecast.point.iter().chain(forecast.intervals.iter().flat_map(|i| i.lower.iter().chain(&i.upper))) {
        assert!(value.is_finite(), "{forecast:?}");
    }
    forecast
}

#[test]
fn empty_and_all_missing_series_forecast_zero() {
    for values in [vec![], vec![f64::NAN, f64::INFINITY]] {
        let forecast = run(&values, 12, 3);
        assert_eq!(forecast.method, Method::NoData);
        assert_eq!(show(&forecast.point), "0.00 0.00 0.00");
        assert!(forecast.diagnostics.contains(&Diagnostic::NoData));
    }
}

#[test]
fn a_constant_series_forecasts_itself_with_zero_width() {
    let forecast = run(&[5.0; 10], 1, 2);
    assert_eq!(forecast.diagnostics, vec![Diagnostic::Constant]);
    assert_eq!(show(&forecast.point), "5.00 5.00");
    assert_eq!(forecast.intervals[1].lower, forecast.intervals[1].upper);
}

#[test]
fn a_short_series_carries_the_last_value() {
    let forecast = run(&[3.0, 4.0, 6.0], 4, 2);
    assert_eq!(forecast.method, Method::Naive);
    assert_eq!(forecast.diagnostics, vec![Diagnostic::TooShort { observations: 3, needed: 5 }]);
    assert_eq!(show(&forecast.point), "6.00 6.00");
}

#[test]
fn gaps_are_interpolated_and_reported() {
    let forecast = run(&[f64::NAN, 10.0, 12.0, f64::NAN, 16.0, 18.0, 20.0, f64::NAN], 1, 3);
    assert_eq!(forecast.diagnostics, vec![Diagnostic::MissingValues { count: 3 }]);
    assert!(forecast.point[0] > 18.0, "{}", show(&forecast.point));
}

#[test]
fn negative_values_rule_out_multiplicative_models() {
    let margin = [-5.0, 3.0, -2.0, 4.0, 1.0, -3.0, 6.0, 2.0, -1.0, 5.0];
    let forecast = run(&margin, 1, 3);
    assert!(forecast.diagnostics.contains(&Diagnostic::NonPositive));
    assert!(matches!(forecast.method, Method::Combination { .. }), "{}", forecast.method);
}

#[test]
fn a_season_longer_than_the_history_is_dropped() {
    let forecast = run(&[10.0, 12.0, 11.0, 13.0, 12.0, 14.0, 13.0, 15.0], 12, 4);
    assert!(forecast.diagnostics.contains(&Diagnostic::SeasonTooLong { observations: 8, season: 12 }));
}

#[test]
fn zero_horizon_and_bad_levels_are_reported() {
    let mut options = quick(MethodChoice::Combination);
    options.levels = vec![80.0, 150.0];
    let forecast = auto_forecast(&[1.0, 2.0, 3.0, 2.0, 4.0, 3.0], 1, 0, &options);
    assert!(forecast.point.is_empty());
    assert!(forecast.diagnostics.contains(&Diagnostic::ZeroHorizon));
    assert!(forecast.diagnostics.contains(&Diagnostic::InvalidLevel { level: 150.0 }));
    assert_eq!(forecast.intervals.len(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn messy_series_never_panic_nor_give_nan(
        values in prop::collection::vec(
            prop_oneof![8 => -1e6f64..1e6, 1 => Just(f64::NAN), 1 => Just(0.0), 1 => Just(f64::INFINITY)],
            0..30,
        ),
        season in 0usize..13,
        horizon in 0usize..6,
    ) {
        run(&values, season, horizon);
    }
}

#[test]
fn weekly_data_with_a_yearly_season_is_handled() {
    // Two years and a bit of weekly demand: enough for seasonal ETS (two seasons of 52), not
    // for the Theta seasonality test (three seasons), so the members disagree on seasonality.
    let weeks: Vec<f64> = (0..110)
        .map(|t| 200.0 + 0.5 * t as f64 + 40.0 * (2.0 * std::f64::consts::PI * t as f64 / 52.0).sin())
        .collect();
    let forecast = run(&weeks, 52, 26);
    assert!(forecast.diagnostics.is_empty(), "{:?}", forecast.diagnostics);
    assert!(forecast.point.iter().all(|v| (100.0..400.0).contains(v)), "{}", show(&forecast.point));
}
