//! `salesops forecast series`: the automatic time-series forecaster on a CSV file.
//! Input errors print the line at fault and exit with status 2.

use std::path::Path;

use app::SeriesForecast;

/// Output format of `salesops forecast series`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SeriesFormat {
    Json,
    Csv,
    Table,
}

/// Reads `input`, forecasts `horizon` periods with season length `season` and prints the
/// result. Bad input prints the place at fault and exits the process with status 2.
pub fn series(input: &Path, horizon: usize, season: usize, format: SeriesFormat) -> anyhow::Result<()> {
    let fail = |message: String| -> anyhow::Result<()> {
        eprintln!("error: {message}");
        std::process::exit(2)
    };
    if let Err(e) = app::check_horizon(horizon) {
        return fail(format!("--{e}"));
    }
    let text = match std::fs::read_to_string(input) {
        Ok(t) => t,
        Err(e) => return fail(format!("cannot read {}: {e}", input.display())),
    };
    let series = match app::parse_series_csv(&text) {
        Ok(s) => s,
        Err(e) if e.line == 0 => return fail(format!("{}: {}", input.display(), e.message)),
        Err(e) => return fail(format!("{}: {e}", input.display())),
    };
    let f = app::forecast_input(series, season, horizon);
    let out = match format {
        SeriesFormat::Json => serde_json::to_string_pretty(&f).unwrap_or_default(),
        SeriesFormat::Csv => {
            for d in &f.diagnostics {
                eprintln!("note: {d}");
            }
            eprintln!("method: {}", f.method);
            csv(&f)
        }
        SeriesFormat::Table => table(&f),
    };
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{}", out.trim_end());
    Ok(())
}

fn csv(f: &SeriesForecast) -> String {
    let mut s = String::from("period,point,lower_80,upper_80,lower_95,upper_95\n");
    for p in &f.forecast {
        s.push_str(&format!("{},{},{},{},{},{}\n", p.period, p.point, p.lower_80, p.upper_80, p.lower_95, p.upper_95));
    }
    s
}

fn table(f: &SeriesForecast) -> String {
    let mut s = format!("method: {}\n", f.method);
    for d in &f.diagnostics {
        s.push_str(&format!("note: {d}\n"));
    }
    s.push_str(&format!("{} observations, season {}, {} periods ahead\n\n", f.history.len(), f.season, f.horizon));
    let rows: Vec<[String; 6]> = f
        .forecast
        .iter()
        .map(|p| {
            [
                p.period.clone(),
                p.point.to_string(),
                p.lower_80.to_string(),
                p.upper_80.to_string(),
                p.lower_95.to_string(),
                p.upper_95.to_string(),
            ]
        })
        .collect();
    let header = ["period", "forecast", "80% low", "80% high", "95% low", "95% high"].map(String::from);
    let widths: Vec<usize> =
        (0..6).map(|c| rows.iter().chain(std::iter::once(&header)).map(|r| r[c].len()).max().unwrap_or(0)).collect();
    for r in std::iter::once(&header).chain(rows.iter()) {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, v)| if c == 0 { format!("{v:<w$}", w = widths[c]) } else { format!("{v:>w$}", w = widths[c]) })
            .collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
    }
    s
}
