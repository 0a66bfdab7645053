//! Runs the M3 benchmark:
//! `cargo run --release -p forecast --example bench_m3 -- FILE [METHOD] [THREADS] [PERIOD]`
//! where METHOD is `combination` (default), `ets+theta`, `ets`, `theta`, `arima` or `snaive` and PERIOD restricts the
//! run to `YEARLY`, `QUARTERLY`, `MONTHLY` or `OTHER`. Prints the score table and the wall time
//! of fitting and forecasting (parsing excluded).

use std::time::Instant;

use forecast::m3::{parse_m3, run_m3_with};
use forecast::series::{MethodChoice, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let path = arguments
        .next()
        .ok_or("usage: bench_m3 FILE [combination|ets+theta|ets|theta|arima|snaive] [THREADS] [PERIOD]")?;
    let method = match arguments.next().as_deref() {
        None | Some("combination") => MethodChoice::Combination,
        Some("ets") => MethodChoice::Ets,
        Some("theta") => MethodChoice::Theta,
        Some("ets+theta") => MethodChoice::EtsTheta,
        Some("arima") => MethodChoice::Arima,
        Some("snaive") => MethodChoice::SeasonalNaive,
        Some(other) => return Err(format!("unknown method `{other}`").into()),
    };
    let threads: usize = arguments.next().map(|t| t.parse()).transpose()?.unwrap_or(2);
    let period = arguments.next();
    let mut series = parse_m3(std::fs::File::open(&path)?)?;
    if let Some(period) = period {
        series.retain(|item| item.period.to_string() == period);
    }
    let options = Options { method, ..Options::default() };
    let started = Instant::now();
    let report = run_m3_with(&series, threads, &options);
    let elapsed = started.elapsed();
    print!("{report}");
    println!("wall time: {:.2} s on {threads} threads", elapsed.as_secs_f64());
    Ok(())
}
