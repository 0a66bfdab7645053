//! Known answers on tiny series: simple exponential smoothing by hand, Theta on a straight
//! line, seasonal naive, a seasonal pattern recognised by ETS.

use forecast::series::{
    ErrorKind, EtsSpec, Method, MethodChoice, SeasonKind, TrendKind, auto_forecast, fit_arima, fit_ets, fit_theta,
};

use crate::{quick, show};

#[test]
fn simple_exponential_smoothing_matches_the_recursion_by_hand() {
    let sales = [12.0, 15.0, 11.0, 14.0, 16.0, 13.0, 15.0, 17.0, 14.0, 16.0];
    let spec = EtsSpec { error: ErrorKind::Additive, trend: TrendKind::None, season: SeasonKind::None };
    let fit = fit_ets(&sales, 1, spec).expect("ten points fit ETS(A,N,N)");
    // l_t = l_{t-1} + alpha (y_t - l_{t-1}); the forecast is the last level, flat.
    let mut level = fit.initial_level;
    for value in sales {
        level += fit.alpha * (value - level);
    }
    let forecast = fit.point_forecast(3);
    for value in &forecast {
        assert!((value - level).abs() < 1e-9, "{forecast:?} vs {level}");
    }
    assert!(fit.alpha > 0.0 && fit.alpha < 1.0);
    assert!(forecast[0] > 13.0 && forecast[0] < 16.0, "{forecast:?}");
}

#[test]
fn theta_on_a_straight_line_continues_at_half_the_slope() {
    // Classic Theta is exponential smoothing with drift of half the regression slope: on an
    // exact line, smoothing tracks the last value and the drift adds 1 per step here.
    let line: Vec<f64> = (0..20).map(|t| 10.0 + 2.0 * t as f64).collect();
    let theta = fit_theta(&line, 1).expect("twenty points");
    assert!(!theta.seasonal());
    assert_eq!(show(&theta.point_forecast(4)), "49.00 50.00 51.00 52.00");
}

#[test]
fn seasonal_naive_repeats_the_last_season() {
    let quarters = [100.0, 80.0, 90.0, 130.0, 104.0, 83.0, 95.0, 137.0];
    let forecast = auto_forecast(&quarters, 4, 6, &quick(MethodChoice::SeasonalNaive));
    assert_eq!(forecast.method, Method::SeasonalNaive);
    assert_eq!(show(&forecast.point), "104.00 83.00 95.00 137.00 104.00 83.00");
    // One season ahead the interval is one seasonal step wide, two seasons ahead sqrt(2) as wide.
    let interval = &forecast.intervals[0];
    let width = |h: usize| interval.upper[h] - interval.lower[h];
    assert!((width(4) / width(0) - 2f64.sqrt()).abs() < 1e-9);
}

#[test]
fn ets_recognises_a_multiplicative_season() {
    // Monthly demand growing 1% a month with a strong, proportional season.
    let pattern = [0.7, 0.8, 1.0, 1.1, 1.2, 1.3, 1.3, 1.2, 1.0, 0.9, 0.8, 0.7];
    let demand: Vec<f64> = (0..48).map(|t| 1000.0 * 1.01f64.powi(t) * pattern[t as usize % 12]).collect();
    let forecast = auto_forecast(&demand, 12, 12, &quick(MethodChoice::Ets));
    let Method::Ets(spec) = forecast.method else { panic!("ETS expected, got {}", forecast.method) };
    assert_ne!(spec.season, SeasonKind::None, "{spec}");
    let truth: Vec<f64> = (48..60).map(|t| 1000.0 * 1.01f64.powi(t) * pattern[t as usize % 12]).collect();
    for (f, y) in forecast.point.iter().zip(&truth) {
        assert!((f - y).abs() / y < 0.03, "{spec}: {} vs {}", show(&forecast.point), show(&truth));
    }
}

#[test]
fn the_default_method_averages_weighted_ets_theta_and_arima() {
    let revenue = [120.0, 132.0, 128.0, 141.0, 150.0, 149.0, 158.0, 170.0, 166.0, 178.0, 185.0, 181.0, 195.0, 204.0];
    let forecast = auto_forecast(&revenue, 1, 4, &quick(MethodChoice::Combination));
    let Method::Combination { members } = &forecast.method else { panic!("{}", forecast.method) };
    assert!(matches!(
        members[..],
        [Method::EtsWeighted { .. }, Method::Theta { seasonal: false }, Method::Arima { .. }]
    ));
    assert_eq!(forecast.components.len(), 3);
    for step in 0..4 {
        let mean = forecast.components.iter().map(|c| c.point[step]).sum::<f64>() / 3.0;
        assert!((forecast.point[step] - mean).abs() < 1e-9);
    }
    // A steady upward trend is carried forward.
    assert!(forecast.point[3] > forecast.point[0] && forecast.point[0] > 195.0, "{}", show(&forecast.point));
    assert_eq!(forecast.intervals.iter().map(|i| i.level).collect::<Vec<_>>(), vec![80.0, 95.0]);
    assert!(forecast.diagnostics.is_empty(), "{:?}", forecast.diagnostics);
}

#[test]
fn arima_recognises_a_random_walk_and_an_autoregression() {
    // A random walk needs one difference; its forecast stays near the last value.
    let walk = [
        50.0, 53.0, 51.0, 56.0, 60.0, 58.0, 55.0, 59.0, 64.0, 62.0, 66.0, 63.0, 61.0, 65.0, 70.0, 68.0, 72.0, 69.0,
        73.0, 71.0,
    ];
    let fit = fit_arima(&walk).expect("twenty points");
    assert_eq!(fit.d, 1, "{fit:?}");
    // A stationary AR(1) around 100 with phi = 0.6 (noise from a fixed sequence).
    let noise = [3.0, -2.0, 1.5, -4.0, 2.5, 0.5, -1.0, 3.5, -2.5, 1.0, -3.0, 2.0, 0.0, -1.5, 4.0, -2.0, 1.0, -0.5];
    let mut series = vec![100.0];
    for _ in 0..4 {
        for e in noise {
            let last = series[series.len() - 1];
            series.push(100.0 + 0.6 * (last - 100.0) + e);
        }
    }
    let fit = fit_arima(&series).expect("73 points");
    assert_eq!(fit.d, 0, "{fit:?}");
    let forecast = fit.point_forecast(24);
    assert!((forecast[23] - 100.0).abs() < 3.0, "mean reversion: {}", show(&forecast));
    let intervals = fit.intervals(24, &[95.0]);
    let width = |h: usize| intervals[0].1[h] - intervals[0].0[h];
    assert!(width(23) > width(0) && width(23) < 3.0 * width(0), "stationary: bounded widths");
}
