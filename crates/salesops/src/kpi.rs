//! `salesops kpi`: the KPI table for scripts and analysts, as the user named by `--as` sees it.
//!
//! ```text
//! salesops kpi --metric win_rate --metric revenue --by owner --period 2017-Q3 --compare previous --format table
//! ```
//! A bad metric, dimension, period or comparison prints the reason and exits with status 2.

use std::io::Write as _;
use std::sync::Arc;

use anyhow::Result;
use app::kpi_engine::{Kpi, Unit, Value};
use app::{App, AppError, KpiReport, KpiRequest, SystemClock};
use rust_decimal::Decimal;

/// The output formats.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
    Table,
}

/// The arguments of `salesops kpi`.
#[derive(clap::Args)]
pub struct KpiArgs {
    /// A KPI (repeat or separate with commas): win_rate, revenue, deals_closed, … (see docs/kpis.md)
    #[arg(long = "metric", required = true)]
    pub metrics: Vec<String>,
    /// Slice by: owner (rep), team, region, territory, product (product_line), lead_source
    /// (source), segment; repeat for several. None: company totals.
    #[arg(long = "by")]
    pub by: Vec<String>,
    /// The period: 2017-Q3 (fiscal quarter), FY2017, 2017-03, 2017-W09 or 2017-03-05
    #[arg(long)]
    pub period: String,
    /// Compare with the previous period or the same period last year
    #[arg(long, value_parser = ["previous", "last_year"])]
    pub compare: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[arg(long, env = "SALESOPS_DATABASE_URL")]
    pub database_url: String,
    /// Act as this user (their visibility applies; default: the first administrator)
    #[arg(long = "as")]
    pub as_user: Option<String>,
}

/// A user error: printed with its field, exit status 2.
fn usage(e: &AppError) -> ! {
    match e {
        AppError::Invalid { field, message } => eprintln!("error: --{field}: {message}"),
        other => eprintln!("error: {other}"),
    }
    std::process::exit(2)
}

pub async fn run(args: KpiArgs) -> Result<()> {
    let request = KpiRequest {
        metrics: args.metrics.clone(),
        by: args.by.clone(),
        period: args.period.clone(),
        compare: args.compare.clone(),
    };
    let query = request.parse().unwrap_or_else(|e| usage(&e));
    let store = crate::open(&args.database_url, 2).await?;
    let app = App::new(store, Arc::new(SystemClock));
    let p = app.cli_principal(args.as_user.as_deref()).await.unwrap_or_else(|e| usage(&e));
    let report = match app.kpi_table(&p, &query).await {
        Ok(r) => r,
        Err(e @ AppError::Invalid { .. }) => usage(&e),
        Err(e) => return Err(anyhow::anyhow!("{e}")),
    };
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Csv => csv(&report),
        Format::Table => table(&report),
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(())
}

fn csv_field(s: &str) -> String {
    let s = import::escape_cell(s);
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.into_owned() }
}

fn csv(r: &KpiReport) -> String {
    let (header, lines) = r.csv_rows();
    let mut out = String::new();
    for line in std::iter::once(header).chain(lines) {
        out.push_str(&line.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// A value for people: counts whole, money with the currency, shares in percent.
fn human(kpi: Kpi, v: &Value, currency: model::Currency) -> String {
    let Some(d) = v.to_decimal() else { return "no data".into() };
    match kpi.unit() {
        Unit::Count => d.round_dp(0).to_string(),
        Unit::Money => format!("{} {}", d.round_dp(currency.minor_units()), currency.code()),
        Unit::Share | Unit::Attainment | Unit::Growth => format!("{:.1} %", (d * Decimal::ONE_HUNDRED).round_dp(1)),
        Unit::Days => format!("{:.1} d", d.round_dp(1)),
        Unit::Minutes => format!("{:.0} min", d.round_dp(0)),
        Unit::Seconds => format!("{:.1} h", (d / Decimal::from(3600)).round_dp(1)),
        Unit::Average if kpi == Kpi::AverageRevenuePerRep => {
            format!("{} {}", d.round_dp(currency.minor_units()), currency.code())
        }
        Unit::Average => format!("{:.1}", d.round_dp(1)),
    }
}

fn table(r: &KpiReport) -> String {
    let mut header: Vec<String> = r.by.iter().map(|d| d.name().to_string()).collect();
    for k in &r.kpis {
        header.push(k.name().to_string());
        if r.compare.is_some() {
            header.push("change".into());
        }
    }
    let mut lines = vec![header];
    let mut reasons: Vec<String> = Vec::new();
    for (i, row) in r.rows.iter().chain(std::iter::once(&r.total)).enumerate() {
        let mut line: Vec<String> = if i == r.rows.len() {
            r.by.iter().enumerate().map(|(j, _)| if j == 0 { "TOTAL".to_string() } else { String::new() }).collect()
        } else {
            row.slice.iter().map(|s| if s.label.is_empty() { "(not set)".into() } else { s.label.clone() }).collect()
        };
        for c in &row.cells {
            line.push(human(c.kpi, &c.value, r.currency));
            if let Value::NoData { reason, .. } = &c.value {
                let note = format!("{}: {reason}", c.kpi.name());
                if !reasons.contains(&note) {
                    reasons.push(note);
                }
            }
            if r.compare.is_some() {
                let arrow = |d: Decimal| if d > Decimal::ZERO { "▲" } else { "▼" };
                line.push(match (c.difference, c.relative) {
                    (Some(d), _) if d.is_zero() => "=".into(),
                    (Some(d), _) if c.kpi.unit() == Unit::Share => {
                        format!("{} {:+.1} pp", arrow(d), (d * Decimal::ONE_HUNDRED).round_dp(1))
                    }
                    (Some(d), Some(rel)) => {
                        format!("{} {:+.1} %", arrow(d), (rel * Decimal::ONE_HUNDRED).round_dp(1))
                    }
                    (Some(d), None) => format!("{} {:+}", arrow(d), d.round_dp(2)),
                    _ => String::new(),
                });
            }
        }
        lines.push(line);
    }
    let widths: Vec<usize> =
        (0..lines[0].len()).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = format!(
        "{} ({} – {}){}\n",
        r.period,
        r.from,
        r.to,
        r.baseline_period.map(|b| format!(", compared with {b}")).unwrap_or_default()
    );
    for (n, l) in lines.iter().enumerate() {
        let cells: Vec<String> = l
            .iter()
            .enumerate()
            .map(|(c, v)| {
                let pad = widths[c] - v.chars().count();
                if c < r.by.len() { format!("{v}{}", " ".repeat(pad)) } else { format!("{}{v}", " ".repeat(pad)) }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if n == 0 {
            out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
            out.push('\n');
        }
    }
    for reason in reasons {
        out.push_str(&format!("no data: {reason}\n"));
    }
    if !r.diagnostics.is_empty() {
        out.push_str(&format!("{} records could not be used (see --format json)\n", r.diagnostics.len()));
    }
    out
}
