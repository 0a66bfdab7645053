//! `salesops forecast series`: the automatic time-series forecaster on a CSV file.
//! Input errors print the line at fault and exit with status 2.
//!
//! `salesops forecast pipeline --as-of 2026-03-31 --period 2026-Q2 [--seed N] --format json|table`
//! and `salesops forecast backtest --from 2025-01-01 --to 2026-06-01 --format json|table`: the
//! pipeline forecast and its back-test on the database, as the user named by `--as` sees them.

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

/// Output format of `salesops forecast pipeline` and `backtest`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ReportFormat {
    Json,
    Table,
}

/// The arguments of `salesops forecast pipeline`.
#[derive(clap::Args)]
pub struct PipelineArgs {
    /// The day the pipeline is reconstructed on, YYYY-MM-DD (default: today)
    #[arg(long = "as-of")]
    pub as_of: Option<String>,
    /// The period: 2026-03 (month), 2026-Q2 (fiscal quarter) or FY2026 (default: the fiscal
    /// quarter of the as-of date)
    #[arg(long)]
    pub period: Option<String>,
    /// Seed of the simulation: the same seed gives the same result
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// learned (default) or stage_weighted
    #[arg(long)]
    pub method: Option<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[arg(long, env = "SALESOPS_DATABASE_URL")]
    pub database_url: String,
    /// Act as this user (their visibility applies; default: the first administrator)
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

/// The arguments of `salesops forecast backtest`.
#[derive(clap::Args)]
pub struct BacktestArgs {
    /// First as-of period start, YYYY-MM-DD (default: two years before --to)
    #[arg(long)]
    pub from: Option<String>,
    /// Last as-of period start, YYYY-MM-DD (default: today)
    #[arg(long)]
    pub to: Option<String>,
    /// month or quarter
    #[arg(long, default_value = "month")]
    pub grain: String,
    /// Segments to choose the method for: total, owner, product_line or source
    #[arg(long, default_value = "total")]
    pub by: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    #[arg(long, env = "SALESOPS_DATABASE_URL")]
    pub database_url: String,
    /// Act as this user (their visibility applies; default: the first administrator)
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

/// A user error: printed with its field, exit status 2.
fn usage(e: &app::AppError) -> ! {
    match e {
        app::AppError::Invalid { field, message } => eprintln!("error: --{}: {message}", field.replace('_', "-")),
        other => eprintln!("error: {other}"),
    }
    std::process::exit(2)
}

async fn open_app(database_url: &str, as_user: Option<&str>) -> anyhow::Result<(app::App, app::Principal)> {
    let store = crate::open(database_url, 2).await?;
    let app = app::App::new(store, std::sync::Arc::new(app::SystemClock));
    let p = app.cli_principal(as_user).await.unwrap_or_else(|e| usage(&e));
    Ok((app, p))
}

fn or_usage<T>(r: Result<T, app::AppError>) -> anyhow::Result<T> {
    match r {
        Ok(v) => Ok(v),
        Err(e @ app::AppError::Invalid { .. }) => usage(&e),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

pub async fn pipeline(args: PipelineArgs) -> anyhow::Result<()> {
    let as_of = args.as_of.as_deref().map(|d| app::parse_day("as_of", d)).transpose().unwrap_or_else(|e| usage(&e));
    let period = args.period.as_deref().map(app::parse_forecast_period).transpose().unwrap_or_else(|e| usage(&e));
    let method = args.method.as_deref().map(app::parse_method).transpose().unwrap_or_else(|e| usage(&e));
    let (app, p) = open_app(&args.database_url, args.as_user.as_deref()).await?;
    let as_of = as_of.unwrap_or_else(|| app.today_for(&p));
    let period = match period {
        Some(x) => x,
        None => or_usage(app.fiscal_calendar().await)?.period_of(as_of, model::PeriodKind::Quarter),
    };
    let f = or_usage(app.pipeline_forecast(&p, as_of, period, args.seed, method).await)?;
    let out = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&f)?,
        ReportFormat::Table => pipeline_table(&f),
    };
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{}", out.trim_end());
    Ok(())
}

pub async fn backtest(args: BacktestArgs) -> anyhow::Result<()> {
    let from = args.from.as_deref().map(|d| app::parse_day("from", d)).transpose().unwrap_or_else(|e| usage(&e));
    let to = args.to.as_deref().map(|d| app::parse_day("to", d)).transpose().unwrap_or_else(|e| usage(&e));
    let grain = app::BacktestGrain::parse(&args.grain).unwrap_or_else(|e| usage(&e));
    let by = app::parse_segmentation(&args.by).unwrap_or_else(|e| usage(&e));
    let (app, p) = open_app(&args.database_url, args.as_user.as_deref()).await?;
    let to = to.unwrap_or_else(|| app.today_for(&p));
    let from = from.unwrap_or_else(|| {
        use jiff::ToSpan;
        to.checked_sub(2.years()).unwrap_or(to)
    });
    let b = or_usage(app.pipeline_backtest(&p, from, to, grain, by, args.seed).await)?;
    let out = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&b)?,
        ReportFormat::Table => backtest_table(&b),
    };
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{}", out.trim_end());
    Ok(())
}

/// Rows as aligned columns: the first left-aligned, the rest right-aligned.
fn columns(header: &[&str], rows: &[Vec<String>]) -> String {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().chain(std::iter::once(&header)).map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
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

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn pipeline_table(f: &app::PipelineForecastView) -> String {
    let mut s = format!(
        "pipeline forecast {} ({} to {}) as of {}, {} ({} simulations, seed {})\n",
        f.period, f.from, f.to, f.as_of, f.currency, f.simulations, f.seed
    );
    for d in &f.diagnostics {
        s.push_str(&format!("note: {d}\n"));
    }
    let rows = vec![
        vec!["won so far".to_string(), f.closed_won.to_string()],
        vec![format!("open in period ({})", f.open_in_period), f.unweighted.to_string()],
        vec!["stage-weighted".into(), f.stage_weighted.to_string()],
        vec!["learned".into(), f.learned_weighted.to_string()],
        vec![format!("P10 ({})", f.method), f.p10.to_string()],
        vec![format!("P50 ({})", f.method), f.p50.to_string()],
        vec![format!("P90 ({})", f.method), f.p90.to_string()],
    ];
    s.push('\n');
    s.push_str(&columns(&["figure", "amount"], &rows));
    let c = &f.calibration;
    s.push_str(&format!(
        "\ncalibration on {} closed views: stage weights Brier {:.4}, log loss {:.4}",
        c.rows, c.stage_weights.brier, c.stage_weights.log_loss
    ));
    match &c.learned {
        Some(l) => s.push_str(&format!("; learned Brier {:.4}, log loss {:.4}\n", l.brier, l.log_loss)),
        None => s.push_str("; too little history to learn\n"),
    }
    let bins: Vec<Vec<String>> = c
        .stage_weights
        .reliability
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let l = c.learned.as_ref().and_then(|l| l.reliability.get(i));
            vec![
                format!("{:.0}-{:.0}%", b.from * 100.0, b.to * 100.0),
                b.count.to_string(),
                pct(b.observed),
                l.map(|l| l.count.to_string()).unwrap_or_default(),
                l.map(|l| pct(l.observed)).unwrap_or_default(),
            ]
        })
        .collect();
    s.push('\n');
    s.push_str(&columns(&["predicted", "stage n", "stage won", "learned n", "learned won"], &bins));
    let top: Vec<Vec<String>> = f
        .opportunities
        .iter()
        .map(|o| {
            vec![
                format!("{} {}", o.id, o.name),
                o.stage.clone(),
                o.expected_close.to_string(),
                o.amount.to_string(),
                pct(o.win_probability),
                o.expected_value.to_string(),
            ]
        })
        .collect();
    s.push('\n');
    s.push_str(&columns(&["opportunity", "stage", "close", "amount", "p(win)", "expected"], &top));
    s
}

fn backtest_table(b: &app::BacktestView) -> String {
    let mut s = format!(
        "pipeline back-test {} to {} by {}, segments: {}, {} ({} simulations, seed {})\n",
        b.from,
        b.to,
        match b.grain {
            app::BacktestGrain::Month => "month",
            app::BacktestGrain::Quarter => "quarter",
        },
        b.by,
        b.currency,
        b.simulations,
        b.seed
    );
    for d in &b.diagnostics {
        s.push_str(&format!("note: {d}\n"));
    }
    let rows: Vec<Vec<String>> = b
        .rows
        .iter()
        .map(|r| {
            vec![
                r.period.clone(),
                r.segment.clone(),
                r.method.clone(),
                r.p10.to_string(),
                r.p50.to_string(),
                r.p90.to_string(),
                r.actual.to_string(),
                if r.inside { "yes".into() } else { "no".into() },
                if r.training { "choose".into() } else { "test".into() },
            ]
        })
        .collect();
    s.push('\n');
    s.push_str(&columns(&["period", "segment", "method", "P10", "P50", "P90", "won", "inside", "used to"], &rows));
    let summary = |name: &str, x: &app::BacktestSummary| {
        format!(
            "{name}: {} rows, P50 MAE {}, MAPE {}, WAPE {}, bias {}, inside P10-P90 {}\n",
            x.count,
            x.mae,
            x.mape.map(pct).unwrap_or_else(|| "-".into()),
            x.wape.map(pct).unwrap_or_else(|| "-".into()),
            x.bias,
            pct(x.coverage)
        )
    };
    s.push('\n');
    s.push_str(&summary("all", &b.overall));
    s.push_str(&summary("test", &b.test));
    for seg in &b.segments {
        s.push_str(&format!(
            "segment {}: {} with spread {} (training MAE stage-weighted {}, learned {}); ",
            seg.label, seg.method, seg.spread, seg.training_mae_stage_weighted, seg.training_mae_learned
        ));
        s.push_str(&summary("test", &seg.test));
    }
    s
}
