//! `salesops alerts scan|run`: the trend scan (A4) from the command line. `scan` prints what the
//! user named by `--as` may see, writing nothing; `run` stores the company-wide run for the date,
//! notifies the people concerned and delivers e-mail (with `--smtp-url`) and webhooks. A cron job
//! can call `run` daily; `serve` also runs it itself (see `--alerts-hour`).

use std::io::Write as _;
use std::sync::Arc;

use anyhow::Result;
use app::{AlertReport, App, AppError, SystemClock, parse_as_of};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Json,
    Table,
}

#[derive(clap::Subcommand)]
pub enum AlertsCommand {
    /// Scan without storing or notifying.
    Scan {
        /// The day after the 7-day window (default: today in the company's time zone).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// Act as this user (their visibility applies; default: the first administrator)
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Store the company-wide run for the date (once) and notify.
    Run {
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// SMTP relay for the e-mails: smtp://host:port (none: no e-mail)
        #[arg(long, env = "SALESOPS_SMTP_URL")]
        smtp_url: Option<String>,
        /// Sender address of the e-mails
        #[arg(long, env = "SALESOPS_MAIL_FROM", default_value = "salesops <salesops@localhost>")]
        mail_from: String,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

fn usage(e: &AppError) -> ! {
    match e {
        AppError::Invalid { field, message } => eprintln!("error: --{}: {message}", field.replace('_', "-")),
        other => eprintln!("error: {other}"),
    }
    std::process::exit(2)
}

fn table(r: &AlertReport) -> String {
    let mut out = format!(
        "last 7 days {} .. {} against {} .. {}: {} series tested, {} with too little data\n",
        r.recent_from, r.recent_to, r.baseline_from, r.baseline_to, r.tested, r.untested
    );
    if r.alerts.is_empty() {
        out.push_str("no significant change\n");
    }
    for a in &r.alerts {
        let fmt = |v: f64| if a.unit == "share" { format!("{:.1} %", v * 100.0) } else { format!("{v:.2}/day") };
        let scope = if a.level == "company" { "company".to_string() } else { format!("{} {}", a.level, a.scope_name) };
        let drivers: Vec<String> =
            a.drivers.iter().map(|d| format!("{} {:+.1} pp", d.name, (d.mix + d.rate) * 100.0)).collect();
        out.push_str(&format!(
            "{:<8} {:<24} {:<28} {:>10} -> {:>10}  p={:.4}{}\n",
            if a.worse { "WORSE" } else { "better" },
            a.kpi,
            scope,
            fmt(a.baseline_rate),
            fmt(a.recent_rate),
            a.p_value,
            if drivers.is_empty() { String::new() } else { format!("  driven by {}", drivers.join(", ")) }
        ));
    }
    out
}

pub async fn run(command: AlertsCommand) -> Result<()> {
    match command {
        AlertsCommand::Scan { as_of, format, database_url, as_user } => {
            let date = as_of.as_deref().map(parse_as_of).transpose().unwrap_or_else(|e| usage(&e));
            let store = crate::open(&database_url, 2).await?;
            let app = App::new(store, Arc::new(SystemClock));
            let p = app.cli_principal(as_user.as_deref()).await.unwrap_or_else(|e| usage(&e));
            let report = app.alerts_scan(&p, date).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let text = match format {
                Format::Json => serde_json::to_string_pretty(&report)? + "\n",
                Format::Table => table(&report),
            };
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
        AlertsCommand::Run { as_of, format, database_url, smtp_url, mail_from, as_user } => {
            let date = as_of.as_deref().map(parse_as_of).transpose().unwrap_or_else(|e| usage(&e));
            let mailer = smtp_url.map(|url| {
                web::alerts::Mailer::parse(&url, &mail_from).unwrap_or_else(|e| {
                    eprintln!("error: --smtp-url: {e}");
                    std::process::exit(2)
                })
            });
            let store = crate::open(&database_url, 2).await?;
            let app = App::new(store, Arc::new(SystemClock));
            let p = app.cli_principal(as_user.as_deref()).await.unwrap_or_else(|e| usage(&e));
            let outcome = match app.alerts_run(Some(&p), date).await {
                Ok(o) => o,
                Err(e @ (AppError::Invalid { .. } | AppError::Forbidden)) => usage(&e),
                Err(e) => return Err(anyhow::anyhow!("{e}")),
            };
            let mut state = web::AppState::new(app);
            state.mailer = mailer;
            let delivery = if outcome.created {
                web::alerts::deliver(&state, outcome.run_id).await.map_err(|e| anyhow::anyhow!("{e}"))?
            } else {
                web::alerts::Delivery::default()
            };
            let text = match format {
                Format::Json => {
                    serde_json::to_string_pretty(&serde_json::json!({
                        "run_id": outcome.run_id, "created": outcome.created,
                        "notifications": outcome.notifications, "delivery": delivery, "report": outcome.report,
                    }))? + "\n"
                }
                Format::Table => {
                    let head = if outcome.created {
                        format!(
                            "run {} stored: {} notifications, {} e-mails sent ({} failed), {} webhooks delivered ({} failed)\n",
                            outcome.run_id,
                            outcome.notifications,
                            delivery.emails_sent,
                            delivery.email_errors,
                            delivery.webhooks_delivered,
                            delivery.webhook_errors
                        )
                    } else {
                        format!(
                            "run {} for {} existed already: nothing sent again\n",
                            outcome.run_id, outcome.report.as_of
                        )
                    };
                    head + &table(&outcome.report)
                }
            };
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    Ok(())
}
