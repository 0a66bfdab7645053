//! Compares candidate combinations on M3 (the research aid behind the choice documented in
//! docs/forecasting.md): `cargo run --release -p forecast --example explore_m3 -- FILE [REFINE]`,
//! where REFINE is how many of the best ETS models per series are re-estimated in full (0).
//! Prints sMAPE per period for single models, Akaike-weighted ETS, seasonally adjusted ETS and
//! several means and medians with Theta.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use forecast::m3::{Period, parse_m3, smape};
use forecast::series::{
    TrendKind, akaike_weights, candidate_specs, fit_arima, fit_arima_candidates, fit_candidates, fit_theta,
    seasonal_adjustment,
};

fn mean(forecasts: &[&Vec<f64>]) -> Vec<f64> {
    let h = forecasts[0].len();
    (0..h).map(|i| forecasts.iter().map(|f| f[i]).sum::<f64>() / forecasts.len() as f64).collect()
}

fn median(forecasts: &[&Vec<f64>]) -> Vec<f64> {
    let h = forecasts[0].len();
    (0..h)
        .map(|i| {
            let mut values: Vec<f64> = forecasts.iter().map(|f| f[i]).collect();
            values.sort_by(f64::total_cmp);
            let k = values.len();
            if k % 2 == 1 { values[k / 2] } else { 0.5 * (values[k / 2 - 1] + values[k / 2]) }
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: explore_m3 FILE")?;
    let series = parse_m3(std::fs::File::open(&path)?)?;
    let names = [
        "ets",
        "theta",
        "damped",
        "aicw",
        "ets+theta",
        "ets+theta+damped",
        "median3",
        "aicw+theta",
        "aicw+theta+damped",
        "damped+theta",
        "dsa",
        "dsa+theta",
        "aicw+theta+dsa",
        "median(aicw,theta,dsa)",
        "dsa_damped",
        "aicw+theta+dsa_damped",
        "aicwT",
        "aicwT+theta",
        "top3",
        "top3+theta",
        "aicwT+theta+top3",
        "arima",
        "aicw+theta+arima",
        "median(aicw,theta,arima)",
        "arima+theta",
        "arimaW",
        "aicw+theta+arimaW",
    ];
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(Period, Vec<f64>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = series.get(index) else { break };
                    let y = &item.train;
                    let h = item.test.len();
                    let m = item.period.season();
                    let positive = y.iter().all(|v| *v > 0.0);
                    let seasonal = m > 1 && y.len() >= 2 * m;
                    let refine: usize = std::env::args().nth(2).map_or(0, |r| r.parse().expect("count"));
                    let fits = fit_candidates(y, m, &candidate_specs(positive, seasonal), refine);
                    let best = fits.iter().min_by(|a, b| a.aicc.total_cmp(&b.aicc)).expect("fit");
                    let damped = fits
                        .iter()
                        .filter(|f| f.spec.trend == TrendKind::Damped)
                        .min_by(|a, b| a.aicc.total_cmp(&b.aicc))
                        .unwrap_or(best);
                    let weights: Vec<f64> = fits.iter().map(|f| (-0.5 * (f.aicc - best.aicc)).exp()).collect();
                    let total: f64 = weights.iter().sum();
                    let mut aicw = vec![0.0; h];
                    for (fit, w) in fits.iter().zip(&weights) {
                        for (a, p) in aicw.iter_mut().zip(fit.point_forecast(h)) {
                            *a += w / total * p;
                        }
                    }
                    let ets = best.point_forecast(h);
                    let theta = fit_theta(y, m).expect("theta").point_forecast(h);
                    let damped = damped.point_forecast(h);
                    let indices = seasonal_adjustment(y, m);
                    let adjusted: Vec<f64> = match &indices {
                        Some(ix) => y.iter().enumerate().map(|(t, v)| v / ix[t % m]).collect(),
                        None => y.clone(),
                    };
                    let reseason = |f: Vec<f64>| -> Vec<f64> {
                        match &indices {
                            Some(ix) => f.iter().enumerate().map(|(s, v)| v * ix[(y.len() + s) % m]).collect(),
                            None => f,
                        }
                    };
                    let dfits = fit_candidates(&adjusted, 1, &candidate_specs(positive, false), 0);
                    let dw = akaike_weights(&dfits);
                    let mut dsa = vec![0.0; h];
                    for (fit, w) in dfits.iter().zip(&dw) {
                        for (a, p) in dsa.iter_mut().zip(fit.point_forecast(h)) {
                            *a += w * p;
                        }
                    }
                    let dsa = reseason(dsa);
                    let dsa_damped = reseason(
                        dfits
                            .iter()
                            .filter(|f| f.spec.trend == TrendKind::Damped)
                            .min_by(|a, b| a.aicc.total_cmp(&b.aicc))
                            .unwrap_or(&dfits[0])
                            .point_forecast(h),
                    );
                    let tfits = fit_candidates(y, m, &candidate_specs(positive, seasonal && indices.is_some()), 0);
                    let tw = akaike_weights(&tfits);
                    let mut aicw_t = vec![0.0; h];
                    for (fit, w) in tfits.iter().zip(&tw) {
                        for (a, p) in aicw_t.iter_mut().zip(fit.point_forecast(h)) {
                            *a += w * p;
                        }
                    }
                    let top: Vec<Vec<f64>> = fits.iter().take(3).map(|f| f.point_forecast(h)).collect();
                    let top_refs: Vec<&Vec<f64>> = top.iter().collect();
                    let top3 = mean(&top_refs);
                    let arima = reseason(fit_arima(&adjusted).map_or_else(|| theta.clone(), |f| f.point_forecast(h)));
                    let afits = fit_arima_candidates(&adjusted);
                    let arima_w = if afits.is_empty() {
                        arima.clone()
                    } else {
                        let best = afits[0].aicc;
                        let raw: Vec<f64> = afits.iter().map(|f| (-0.5 * (f.aicc - best)).exp()).collect();
                        let total: f64 = raw.iter().sum();
                        let mut point = vec![0.0; h];
                        for (fit, w) in afits.iter().zip(&raw) {
                            for (a, p) in point.iter_mut().zip(fit.point_forecast(h)) {
                                *a += w / total * p;
                            }
                        }
                        reseason(point)
                    };
                    let forecasts = [
                        ets.clone(),
                        theta.clone(),
                        damped.clone(),
                        aicw.clone(),
                        mean(&[&ets, &theta]),
                        mean(&[&ets, &theta, &damped]),
                        median(&[&ets, &theta, &damped]),
                        mean(&[&aicw, &theta]),
                        mean(&[&aicw, &theta, &damped]),
                        mean(&[&damped, &theta]),
                        dsa.clone(),
                        mean(&[&dsa, &theta]),
                        mean(&[&aicw, &theta, &dsa]),
                        median(&[&aicw, &theta, &dsa]),
                        dsa_damped.clone(),
                        mean(&[&aicw, &theta, &dsa_damped]),
                        aicw_t.clone(),
                        mean(&[&aicw_t, &theta]),
                        top3.clone(),
                        mean(&[&top3, &theta]),
                        mean(&[&aicw_t, &theta, &top3]),
                        arima.clone(),
                        mean(&[&aicw, &theta, &arima]),
                        median(&[&aicw, &theta, &arima]),
                        mean(&[&arima, &theta]),
                        arima_w.clone(),
                        mean(&[&aicw, &theta, &arima_w]),
                    ];
                    let scores = forecasts.iter().map(|f| smape(&item.test, f)).collect();
                    results.lock().expect("lock").push((item.period, scores));
                }
            });
        }
    });
    let results = results.into_inner()?;
    println!("| method | YEARLY | QUARTERLY | MONTHLY | OTHER | ALL |");
    for (k, name) in names.iter().enumerate() {
        let mut line = format!("| {name} |");
        for period in Period::ALL {
            let group: Vec<f64> = results.iter().filter(|(p, _)| *p == period).map(|(_, s)| s[k]).collect();
            line += &format!(" {:.2} |", group.iter().sum::<f64>() / group.len() as f64);
        }
        let all: f64 = results.iter().map(|(_, s)| s[k]).sum::<f64>() / results.len() as f64;
        line += &format!(" {all:.2} |");
        println!("{line}");
    }
    Ok(())
}
