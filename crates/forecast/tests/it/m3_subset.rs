//! Smoke test on 21 M3 series (every 150th of the file): parsing, the two-thread run and the
//! scores, with a loose bound. The full benchmark is `examples/bench_m3.rs`.

use forecast::m3::{Period, mase, parse_m3, run_m3, smape};

const SUBSET: &str = include_str!("fixtures/m3_subset.csv");

#[test]
fn the_subset_is_forecast_better_than_seasonal_naive() {
    let series = parse_m3(SUBSET.as_bytes()).expect("fixture parses");
    assert_eq!(series.len(), 21);
    assert_eq!(series.iter().filter(|s| s.period == Period::Monthly).count(), 9);
    let report = run_m3(&series, 2);
    assert_eq!((report.series, report.fitted), (21, 21));
    let naive: f64 = series
        .iter()
        .map(|s| {
            let m = s.period.season();
            let last = &s.train[s.train.len() - m..];
            let forecast: Vec<f64> = (0..s.test.len()).map(|h| last[h % m]).collect();
            smape(&s.test, &forecast)
        })
        .sum::<f64>()
        / 21.0;
    let overall = report.overall_smape();
    assert!(overall < naive && overall < 15.0, "combination {overall:.2}, seasonal naive {naive:.2}\n{report}");
    let text = report.to_string();
    assert!(text.contains("| ALL | 21 |"), "{text}");
}

#[test]
fn scores_follow_the_readme_definitions() {
    // sMAPE: mean of 200|y - f| / (|y| + |f|).
    assert!((smape(&[100.0, 50.0], &[110.0, 50.0]) - 100.0 * 10.0 / 210.0).abs() < 1e-12);
    // MASE: mean absolute error over the in-sample mean absolute lag-2 difference (here 2).
    assert!((mase(&[1.0, 5.0, 3.0, 7.0], &[9.0, 9.0], &[8.0, 12.0], 2) - 1.0).abs() < 1e-12);
}

#[test]
fn a_bad_value_is_reported_with_its_line_and_column() {
    let text = "series,period,category,n_train,h,train_values,test_values\n\
                N1,YEARLY,MICRO,3,1,1 2 3,4\n\
                N2,YEARLY,MICRO,3,1,1 x 3,4\n";
    let error = parse_m3(text.as_bytes()).expect_err("x is not a number").to_string();
    assert_eq!(error, "line 3, column `train_values`: `x` is not a number");
    let short = "series,period,category,n_train,h,train_values,test_values\nN1,YEARLY,MICRO,4,1,1 2 3,4\n";
    let error = parse_m3(short.as_bytes()).expect_err("length mismatch").to_string();
    assert_eq!(error, "line 2, column `train_values`: 3 values but n_train is 4");
}
