//! `salesops forecast call`: submit or override a number, print the roll-up, take the weekly
//! snapshot (for cron), print the waterfall between two snapshots and the accuracy table.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use app::{App, SystemClock};
use clap::{Subcommand, ValueEnum};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
}

#[derive(Subcommand)]
pub(crate) enum CallCommand {
    /// Submit your number for a period, or override a report's (`--user`, with `--note`).
    Submit {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// A period: 2026-Q1, 2026-03 or FY2026
        #[arg(long)]
        period: String,
        /// commit or best_case
        #[arg(long, default_value = "commit")]
        category: String,
        /// Decimal amount in the reporting currency
        #[arg(long)]
        amount: String,
        /// Whose number (e-mail); absent: the acting user's own
        #[arg(long)]
        user: Option<String>,
        /// Why (required for an override)
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Act as this user (default: the first administrator)
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Print the roll-up of a period through the manager hierarchy.
    Rollup {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Take today's snapshot of a period (run weekly from cron); again the same day replaces it.
    Snapshot {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// How the period's open pipeline moved between two snapshots (default: the last two).
    Waterfall {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        #[arg(long)]
        period: String,
        /// YYYY-MM-DD of the earlier snapshot
        #[arg(long)]
        from: Option<String>,
        /// YYYY-MM-DD of the later snapshot
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Forecast versus actual per submitter (error, absolute % error, bias).
    Accuracy {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

async fn app_as(database_url: &str, as_user: Option<&str>) -> Result<(App, app::Principal)> {
    let store = crate::open(database_url, 2).await?;
    let app = App::new(store, Arc::new(SystemClock));
    let p = app.cli_principal(as_user).await.map_err(|e| anyhow!("{e}"))?;
    Ok((app, p))
}

fn json(v: serde_json::Result<serde_json::Value>) {
    say!("{}", v.and_then(|v| serde_json::to_string_pretty(&v)).unwrap_or_default());
}

fn opt(d: Option<rust_decimal::Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
}

pub(crate) async fn run(command: CallCommand, global_json: bool) -> Result<()> {
    let err = |e: app::AppError| anyhow!("{e}");
    match command {
        CallCommand::Submit { database_url, period, category, amount, user, note, format, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let user_id = match user {
                Some(e) => Some(app.cli_principal(Some(&e)).await.map_err(err)?.user.id.0),
                None => None,
            };
            let s = app.forecast_submit(&p, &period, user_id, &category, &amount, &note).await.map_err(err)?;
            if global_json || matches!(format, Format::Json) {
                json(serde_json::to_value(&s));
            } else {
                let who = match &s.override_by_name {
                    Some(m) => format!("{} (override by {m})", s.user_name),
                    None => s.user_name.clone(),
                };
                say!("{} {} {} {} for {who}", s.category.as_str(), period, s.amount, s.currency);
            }
        }
        CallCommand::Rollup { database_url, period, format, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let r = app.forecast_rollup(&p, &period).await.map_err(err)?;
            if global_json || matches!(format, Format::Json) {
                json(serde_json::to_value(&r));
            } else {
                say!(
                    "{} {}..{}  {}  roll-up {}  stale after {} days",
                    r.period,
                    r.start,
                    r.end,
                    r.currency,
                    r.settings.rollup_method.as_str(),
                    r.settings.stale_days
                );
                say!(
                    "{:<40} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14}  source",
                    "person",
                    "pipeline",
                    "best case",
                    "commit",
                    "closed",
                    "commit call",
                    "best call"
                );
                for n in &r.nodes {
                    let name = format!("{}{}{}", "  ".repeat(n.depth), n.name, if n.stale { " [stale]" } else { "" });
                    say!(
                        "{:<40} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14}  {:?}",
                        name,
                        n.team.pipeline,
                        n.team.best_case,
                        n.team.commit,
                        n.team.closed,
                        opt(n.call_commit.amount),
                        opt(n.call_best_case.amount),
                        n.call_commit.source
                    );
                }
            }
        }
        CallCommand::Snapshot { database_url, period, format, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let s = app.forecast_snapshot(&p, &period).await.map_err(err)?;
            if global_json || matches!(format, Format::Json) {
                json(serde_json::to_value(&s));
            } else {
                say!("snapshot of {} on {}: {} opportunities", s.period, s.date, s.opportunities);
                if s.unconverted > 0 {
                    say!("note: {} opportunities left out (no exchange rate)", s.unconverted);
                }
            }
        }
        CallCommand::Waterfall { database_url, period, from, to, format, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let dates = app.forecast_snapshot_dates(&period).await.map_err(err)?;
            let day = |field: &str,
                       v: Option<String>,
                       default: Option<&jiff::civil::Date>|
             -> Result<jiff::civil::Date> {
                match v {
                    Some(s) => s.parse().map_err(|_| anyhow!("--{field}: '{s}' is not a date such as 2026-03-31")),
                    None => default.copied().ok_or_else(|| anyhow!("--{field}: the period needs two snapshots first")),
                }
            };
            let from = day("from", from, dates.len().checked_sub(2).and_then(|i| dates.get(i)))?;
            let to = day("to", to, dates.last())?;
            let w = app.forecast_waterfall(&p, &period, from, to).await.map_err(err)?;
            if global_json || matches!(format, Format::Json) {
                json(serde_json::to_value(&w));
            } else {
                say!("{} open pipeline {} → {} ({})", w.period, w.from, w.to, w.currency);
                say!("{:<16} {:>6} {:>16}", "start", "", w.start);
                for s in &w.steps {
                    say!("{:<16} {:>6} {:>16}", s.kind.as_str(), s.count, s.amount);
                }
                say!("{:<16} {:>6} {:>16}", "end", "", w.end);
            }
        }
        CallCommand::Accuracy { database_url, period, format, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let a = app.forecast_accuracy(&p, &period).await.map_err(err)?;
            if global_json || matches!(format, Format::Json) {
                json(serde_json::to_value(&a));
            } else {
                say!(
                    "{} {}  calls at {} and {}{}",
                    a.period,
                    a.currency,
                    a.start,
                    a.mid,
                    if a.complete { "" } else { " (period still running)" }
                );
                say!(
                    "{:<40} {:>14} {:>14} {:>14} {:>8} {:>8}",
                    "person",
                    "won",
                    "call (start)",
                    "error",
                    "APE %",
                    "bias %"
                );
                for r in &a.rows {
                    say!(
                        "{:<40} {:>14} {:>14} {:>14} {:>8} {:>8}",
                        format!("{}{}", "  ".repeat(r.depth), r.name),
                        r.actual,
                        opt(r.at_start.call),
                        opt(r.at_start.error),
                        opt(r.at_start.abs_pct_error),
                        opt(r.at_start.bias_pct)
                    );
                }
            }
        }
    }
    Ok(())
}
