//! `salesops territory versions|accept` and `salesops quota show|set`: the stored territory
//! versions, scenario acceptance and quotas of a period, through the same use cases as the API.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use app::{App, SystemClock};

use crate::planning::{FormatArg, QuotaCommand, TerritoryCommand};

async fn app_as(database_url: &str, as_user: Option<&str>) -> Result<(App, app::Principal)> {
    let store = crate::open(database_url, 2).await?;
    let app = App::new(store, Arc::new(SystemClock));
    let p = app.cli_principal(as_user).await.map_err(|e| anyhow!("{e}"))?;
    Ok((app, p))
}

/// Whether a command needs the database (and is run here).
pub(crate) fn territory_needs_db(c: &TerritoryCommand) -> bool {
    matches!(c, TerritoryCommand::Versions { .. } | TerritoryCommand::Accept { .. })
}

pub(crate) fn quota_needs_db(c: &QuotaCommand) -> bool {
    matches!(c, QuotaCommand::Show { .. } | QuotaCommand::Set { .. })
}

pub(crate) async fn territory(command: TerritoryCommand) -> Result<()> {
    match command {
        TerritoryCommand::Versions { database_url, format } => {
            let (app, p) = app_as(&database_url, None).await?;
            let view = app.territory_view(&p, None, None).await.map_err(|e| anyhow!("{e}"))?;
            if format == FormatArg::Json {
                say!("{}", serde_json::to_string(&view.versions)?);
            } else {
                let in_force = view.in_force.as_ref().map(|v| v.id);
                say!("id  valid_from  status    rules  note");
                for v in &view.versions {
                    let mark = if Some(v.id) == in_force { " (in force today)" } else { "" };
                    say!("{:<3} {}  {:<8} {:>5}  {}{mark}", v.id, v.valid_from, v.status, v.rules, v.note);
                }
            }
        }
        TerritoryCommand::Accept { database_url, scenario, from, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let input = app::territories::AcceptInput { valid_from: from, note: None };
            let v = app.territory_scenario_accept(&p, scenario, input).await.map_err(|e| anyhow!("{e}"))?;
            say!("scenario {scenario} accepted as territory version {} in force from {}", v.id, v.valid_from);
        }
        _ => unreachable!("only database commands are routed here"),
    }
    Ok(())
}

pub(crate) async fn quota(command: QuotaCommand) -> Result<()> {
    match command {
        QuotaCommand::Show { database_url, period, format, as_user } => {
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let q = app.quotas(&p, &period).await.map_err(|e| anyhow!("{e}"))?;
            if format == FormatArg::Json {
                say!("{}", serde_json::to_string(&q)?);
            } else {
                say!("{} ({} to {})", q.period, q.from, q.to);
                for l in &q.quotas {
                    let att = l
                        .attainment
                        .as_deref()
                        .and_then(|a| a.parse::<rust_decimal::Decimal>().ok())
                        .map(|a| format!("{}%", (a * rust_decimal::Decimal::from(100)).round_dp(1)))
                        .unwrap_or_default();
                    say!("{:<28} {:<7} {:>14} {:<3}  won {:>14}  {att}", l.user, l.kind, l.amount, l.currency, l.won);
                }
                for n in &q.notes {
                    say!("note: {n}");
                }
            }
        }
        QuotaCommand::Set { database_url, period, file, as_user } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let (app, p) = app_as(&database_url, as_user.as_deref()).await?;
            let mut quotas = Vec::new();
            for (n, line) in text.lines().enumerate().skip(1) {
                let cells: Vec<&str> = line.split(',').map(str::trim).collect();
                if cells.iter().all(|c| c.is_empty()) {
                    continue;
                }
                let [email, amount, currency, rest @ ..] = cells.as_slice() else {
                    return Err(anyhow!("{} line {}: expected email,amount,currency[,ramp]", file.display(), n + 1));
                };
                let parsed = model::Email::parse(email)
                    .map_err(|e| anyhow!("{} line {}: {}", file.display(), n + 1, e.reason))?;
                let (user, _) = app
                    .store
                    .user_credentials(&parsed)
                    .await?
                    .ok_or_else(|| anyhow!("{} line {}: no user {email}", file.display(), n + 1))?;
                quotas.push(app::territories::QuotaInput {
                    user_id: user.user.id.0,
                    kind: Some("revenue".into()),
                    amount: amount.to_string(),
                    currency: Some(currency.to_string()),
                    ramp: rest.first().map(|r| r.to_string()),
                    method: Some("cli".into()),
                });
            }
            let written = app
                .quotas_set(&p, &period, app::territories::QuotasInput { quotas })
                .await
                .map_err(|e| anyhow!("{e}"))?;
            say!("{written} quota(s) written for {period}");
        }
        _ => unreachable!("only database commands are routed here"),
    }
    Ok(())
}
