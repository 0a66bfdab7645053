//! `salesops comp`: calculate a period, print a payee's statement, model a draft plan; hold and
//! release payouts, request and approve adjustments, list disputes.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use app::{App, SystemClock};
use clap::{Subcommand, ValueEnum};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
}

#[derive(Subcommand)]
pub(crate) enum CompCommand {
    /// Calculate a month for every plan assigned in it (or one plan): all or nothing. A locked
    /// month gives delta lines in the next month.
    Calc {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// A month: 2026-03
        #[arg(long)]
        period: String,
        /// Only this plan (its `[plan] id`)
        #[arg(long)]
        plan: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Also write the payroll CSV (payable per payee and currency) to this file
        #[arg(long)]
        payroll: Option<PathBuf>,
        /// Act as this user (Finance or an administrator; default: the first administrator)
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Print a payee's statement of a month, every line explained.
    Statement {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// The payee's e-mail
        #[arg(long)]
        payee: String,
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Run a draft plan (a TOML file) against the current plan over the stored history.
    Simulate {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// The draft plan file
        #[arg(long)]
        plan: PathBuf,
        /// First month: 2026-01
        #[arg(long)]
        from: String,
        /// Last month: 2026-12
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Hold payouts from a month on: of one opportunity, one payee or one plan.
    Hold {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// Hold the lines of this opportunity (id)
        #[arg(long, conflicts_with_all = ["payee", "plan"])]
        opportunity: Option<i64>,
        /// Hold everything of this payee (e-mail)
        #[arg(long, conflicts_with = "plan")]
        payee: Option<String>,
        /// Hold everything of this plan (its `[plan] id`)
        #[arg(long)]
        plan: Option<String>,
        /// Why, e.g. "until the customer pays"
        #[arg(long)]
        reason: String,
        /// First month held: 2026-04
        #[arg(long)]
        from: String,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Release a hold: its held lines are paid by the next calculation of `--period`.
    Release {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// The hold's id
        #[arg(long)]
        id: i64,
        /// The month to pay the held lines in: 2026-05
        #[arg(long)]
        period: String,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Request a manual adjustment (paid once another person approved it), or approve one.
    Adjust {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// Approve the adjustment with this id instead of requesting one
        #[arg(long, conflicts_with_all = ["payee", "period", "amount", "reason", "note"])]
        approve: Option<i64>,
        /// The payee's e-mail
        #[arg(long, required_unless_present = "approve")]
        payee: Option<String>,
        /// The month it is paid in: 2026-05
        #[arg(long, required_unless_present = "approve")]
        period: Option<String>,
        /// Signed amount in the plan's currency (negative takes back)
        #[arg(long, required_unless_present = "approve", allow_hyphen_values = true)]
        amount: Option<String>,
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// missed_credit, split_correction, calculation_error, dispute, guarantee or other
        #[arg(long, required_unless_present = "approve")]
        reason: Option<String>,
        #[arg(long, required_unless_present = "approve")]
        note: Option<String>,
        #[arg(long)]
        opportunity: Option<i64>,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// List disputes on statement lines with their threads.
    Disputes {
        #[arg(long, env = "SALESOPS_DATABASE_URL")]
        database_url: String,
        /// open, in_review, accepted or rejected
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        period: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

async fn user_id(app: &App, email: &str) -> Result<i64> {
    let parsed = model::Email::parse(email).map_err(|e| anyhow!("{email}: {}", e.reason))?;
    let (user, _) = app.store.user_credentials(&parsed).await?.ok_or_else(|| anyhow!("no user {email}"))?;
    Ok(user.user.id.0)
}

async fn app_as(database_url: &str, as_user: Option<&str>) -> Result<(App, app::Principal)> {
    let store = crate::open(database_url, 2).await?;
    let app = App::new(store, Arc::new(SystemClock));
    let p = app.cli_principal(as_user).await.map_err(|e| anyhow!("{e}"))?;
    Ok((app, p))
}

fn print_statement(s: &store::StatementRow) {
    let attainment = s
        .attainment
        .as_deref()
        .and_then(|a| a.parse::<rust_decimal::Decimal>().ok())
        .map(|a| format!("{}%", (a * rust_decimal::Decimal::from(100)).round_dp(1)))
        .unwrap_or_default();
    say!(
        "{} <{}>  {} {}  plan {} v{}  payable {} {}  held {}  attainment {}",
        s.payee_name,
        s.payee_email,
        s.run_kind,
        s.source_period,
        s.plan_key,
        s.plan_version,
        s.payable,
        s.currency,
        s.held,
        attainment
    );
    for l in &s.lines {
        say!("  {:>14} {}  {}", l.amount, s.currency, l.sentence);
    }
}

pub(crate) async fn run(command: CompCommand, json: bool) -> Result<()> {
    match command {
        CompCommand::Calc { database_url, period, plan, format, payroll, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let out = app.comp_run(&p, &period, plan.as_deref()).await.map_err(|e| anyhow!("{e}"))?;
            let mut statements = Vec::new();
            let mut payroll_rows = Vec::new();
            for run in &out.runs {
                statements.extend(app.comp_run_statements(&p, *run).await.map_err(|e| anyhow!("{e}"))?);
                payroll_rows.extend(app.comp_payroll(&p, *run).await.map_err(|e| anyhow!("{e}"))?);
            }
            if let Some(file) = &payroll {
                let mut text = String::from("email,name,currency,amount\n");
                for (email, name, currency, amount) in &payroll_rows {
                    let name = if name.contains([',', '"']) {
                        format!("\"{}\"", name.replace('"', "\"\""))
                    } else {
                        name.clone()
                    };
                    text.push_str(&format!("{email},{name},{currency},{amount}\n"));
                }
                std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display()))?;
            }
            if json || matches!(format, Format::Json) {
                say!(
                    "{}",
                    serde_json::json!({"runs": out.runs, "diagnostics": out.diagnostics, "statements": statements})
                );
            } else {
                for s in &statements {
                    print_statement(s);
                }
                say!("{} statements in run(s) {:?}", out.statements, out.runs);
                for d in &out.diagnostics {
                    say!("note: {d}");
                }
            }
        }
        CompCommand::Statement { database_url, payee, period, format, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let email = model::Email::parse(&payee).map_err(|e| anyhow!("payee: {}", e.reason))?;
            let (user, _) = app.store.user_credentials(&email).await?.ok_or_else(|| anyhow!("no user {payee}"))?;
            let rows = app.comp_statements(&p, &period, Some(user.user.id.0)).await.map_err(|e| anyhow!("{e}"))?;
            if json || matches!(format, Format::Json) {
                say!("{}", serde_json::to_string(&rows)?);
            } else {
                for s in &rows {
                    print_statement(s);
                }
            }
        }
        CompCommand::Simulate { database_url, plan, from, to, format, as_user } => {
            let text = std::fs::read_to_string(&plan).with_context(|| format!("cannot read {}", plan.display()))?;
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let (m, notes) = app.comp_simulate(&p, &text, &from, &to).await.map_err(|e| anyhow!("{e}"))?;
            let pct = |r: Option<rust_decimal::Decimal>| {
                r.map(|r| format!("{}%", (r * rust_decimal::Decimal::from(100)).round_dp(2))).unwrap_or_default()
            };
            if json || matches!(format, Format::Json) {
                say!(
                    "{}",
                    serde_json::json!({
                        "currency": m.currency.code(), "revenue": m.revenue.to_string(),
                        "cost_current": m.cost_current.to_string(), "cost_draft": m.cost_draft.to_string(),
                        "cost_ratio_current": m.cost_ratio_current.map(|d| d.to_string()),
                        "cost_ratio_draft": m.cost_ratio_draft.map(|d| d.to_string()),
                        "earn_more": m.earn_more, "earn_less": m.earn_less,
                        "payees": m.payees.iter().map(|c| serde_json::json!({"payee_id": c.payee.0,
                            "current": c.current.to_string(), "draft": c.draft.to_string(),
                            "difference": c.difference.to_string()})).collect::<Vec<_>>(),
                        "diagnostics": notes,
                    })
                );
            } else {
                say!("revenue        {} {}", m.revenue.round_dp(2), m.currency.code());
                say!("cost current   {} ({} of revenue)", m.cost_current.round_dp(2), pct(m.cost_ratio_current));
                say!("cost draft     {} ({} of revenue)", m.cost_draft.round_dp(2), pct(m.cost_ratio_draft));
                say!(
                    "payout draft   min {} p50 {} max {}",
                    m.payouts_draft.min.round_dp(2),
                    m.payouts_draft.p50.round_dp(2),
                    m.payouts_draft.max.round_dp(2)
                );
                say!("{} payees earn more, {} earn less under the draft", m.earn_more, m.earn_less);
                for c in &m.payees {
                    say!(
                        "  payee {:>6}  current {:>12}  draft {:>12}  {:+}",
                        c.payee.0,
                        c.current.round_dp(2),
                        c.draft.round_dp(2),
                        c.difference.round_dp(2)
                    );
                }
                for n in &notes {
                    say!("note: {n}");
                }
            }
        }
        CompCommand::Hold { database_url, opportunity, payee, plan, reason, from, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let payee_id = match &payee {
                Some(e) => Some(user_id(&app, e).await?),
                None => None,
            };
            let scope = match (opportunity, &payee, &plan) {
                (Some(_), _, _) => "opportunity",
                (_, Some(_), _) => "payee",
                (_, _, Some(_)) => "plan",
                _ => return Err(anyhow!("give --opportunity, --payee or --plan")),
            };
            let input = app::HoldInput {
                scope: scope.into(),
                opportunity_id: opportunity,
                payee_id,
                plan,
                reason,
                from_period: from,
            };
            let id = app.comp_hold_create(&p, &input).await.map_err(|e| anyhow!("{e}"))?;
            say!("hold {id}");
        }
        CompCommand::Release { database_url, id, period, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            app.comp_hold_release(&p, id, &period).await.map_err(|e| anyhow!("{e}"))?;
            say!("hold {id} released into {period}");
        }
        CompCommand::Adjust {
            database_url,
            approve,
            payee,
            period,
            amount,
            currency,
            reason,
            note,
            opportunity,
            as_user,
        } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            if let Some(id) = approve {
                app.comp_adjustment_approve(&p, id).await.map_err(|e| anyhow!("{e}"))?;
                say!("adjustment {id} approved");
            } else {
                let input = app::AdjustmentInput {
                    payee_id: user_id(&app, payee.as_deref().unwrap_or_default()).await?,
                    period: period.unwrap_or_default(),
                    amount: amount.unwrap_or_default(),
                    currency,
                    reason_code: reason.unwrap_or_default(),
                    note: note.unwrap_or_default(),
                    opportunity_id: opportunity,
                    plan: None,
                };
                let id = app.comp_adjustment_create(&p, &input).await.map_err(|e| anyhow!("{e}"))?;
                say!("adjustment {id} awaits approval by somebody else");
            }
        }
        CompCommand::Disputes { database_url, status, period, format, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let period = period.as_deref().map(app::parse_period).transpose().map_err(|e| anyhow!("{e}"))?;
            let f = store::DisputeFilter { status, period: period.map(|p| p.id.to_string()), ..Default::default() };
            let rows = app.comp_disputes(&p, &f).await.map_err(|e| anyhow!("{e}"))?;
            if json || matches!(format, Format::Json) {
                say!("{}", serde_json::to_string(&rows)?);
            } else {
                for d in &rows {
                    say!(
                        "dispute {}  {}  {}  {}  line {} {} {}: {}",
                        d.id,
                        d.status,
                        d.payee_name,
                        d.period,
                        d.line_id,
                        d.line_amount,
                        d.currency,
                        d.line_sentence
                    );
                    for e in &d.events {
                        say!("    {}  {}  {}  {}", e.at, e.actor.as_deref().unwrap_or(""), e.status, e.note);
                    }
                }
                say!("{} disputes", rows.len());
            }
        }
    }
    Ok(())
}
