//! Territories and quotas (issue 8): effective-dated territory rule-set versions (their text, in
//! the planning crate's form), draft balancing scenarios with their input and result, and quotas
//! per user and period. The store knows nothing of the rule language or the optimiser: `app`
//! parses, balances and allocates; the store keeps the text and the results. A changed quota is a
//! new row: the one it replaces is kept with `replaced_at`, so nothing is overwritten silently.

use jiff::civil::Date;
use serde::Serialize;

use crate::audit::{AuditContext, audit};
use crate::{Arg, Result, Store, StoreError, Viewer, Where, bind_all, dispatch, from_micros, micros};

/// A stored territory version.
#[derive(Debug, Clone, Serialize)]
pub struct TerritoryVersionRow {
    pub id: i64,
    pub valid_from: Date,
    /// `draft`, `live` or `replaced` (a live version another live one with the same start replaced).
    pub status: String,
    pub body: String,
    pub note: String,
    pub scenario_id: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: jiff::Timestamp,
}

/// A stored balancing scenario; input and result are the app's JSON.
#[derive(Debug, Clone, Serialize)]
pub struct TerritoryScenarioRow {
    pub id: i64,
    pub name: String,
    /// `draft` or `accepted`.
    pub status: String,
    pub input: serde_json::Value,
    pub result: serde_json::Value,
    pub accepted_version_id: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: jiff::Timestamp,
}

/// A quota to store.
#[derive(Debug, Clone, Serialize)]
pub struct NewQuota {
    pub user_id: i64,
    /// `revenue` or `count`.
    pub kind: String,
    /// Exact decimal text.
    pub amount: String,
    pub currency: String,
    /// Ramp factor (exact decimal text, 1 for a fully ramped rep).
    pub ramp: String,
    /// How it was set (`even`, `ttm`, `manual`, …).
    pub method: String,
}

/// A quota as read.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaRow {
    pub id: i64,
    pub user_id: i64,
    pub user_name: String,
    pub period: String,
    pub kind: String,
    pub amount: String,
    pub currency: String,
    pub ramp: String,
    pub method: String,
    pub set_by: Option<String>,
    pub set_at: jiff::Timestamp,
    pub replaced_at: Option<jiff::Timestamp>,
}

/// An account as territory rules and balancing read it.
#[derive(Debug, Clone, Serialize)]
pub struct TerritoryAccountRow {
    pub id: i64,
    pub name: String,
    pub country: String,
    /// Region code, if any.
    pub region: Option<String>,
    pub postal_code: String,
    pub industry: String,
    pub employees: i64,
    pub owner_id: i64,
    pub owner_name: String,
    pub owner_email: String,
}

/// A won opportunity, for coin sort, potential and attainment.
#[derive(Debug, Clone, Serialize)]
pub struct WonRow {
    pub account_id: i64,
    pub owner_id: i64,
    pub amount: String,
    pub currency: String,
    pub close_date: Date,
}

fn date(what: &str, s: &str) -> Result<Date> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("{what}: '{s}' is not a date")))
}

fn json(what: &str, s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

type VersionDb = (i64, String, String, String, String, Option<i64>, Option<String>, i64);

const VERSION_SELECT: &str = "SELECT v.id, v.valid_from, v.status, v.body, v.note, v.scenario_id, u.name, v.created_at \
     FROM territory_versions v LEFT JOIN users u ON u.id = v.created_by";

fn version_row(r: VersionDb) -> Result<TerritoryVersionRow> {
    Ok(TerritoryVersionRow {
        id: r.0,
        valid_from: date("valid_from", &r.1)?,
        status: r.2,
        body: r.3,
        note: r.4,
        scenario_id: r.5,
        created_by: r.6,
        created_at: from_micros(r.7)?,
    })
}

type ScenarioDb = (i64, String, String, String, String, Option<i64>, Option<String>, i64);

const SCENARIO_SELECT: &str = "SELECT s.id, s.name, s.status, s.input_json, s.result_json, s.accepted_version_id, u.name, \
     s.created_at FROM territory_scenarios s LEFT JOIN users u ON u.id = s.created_by";

fn scenario_row(r: ScenarioDb) -> Result<TerritoryScenarioRow> {
    Ok(TerritoryScenarioRow {
        id: r.0,
        name: r.1,
        status: r.2,
        input: json("input_json", &r.3)?,
        result: json("result_json", &r.4)?,
        accepted_version_id: r.5,
        created_by: r.6,
        created_at: from_micros(r.7)?,
    })
}

type QuotaDb = (i64, i64, String, String, String, String, String, String, String, Option<String>, i64, Option<i64>);

const QUOTA_SELECT: &str = "SELECT q.id, q.user_id, u.name, q.period, q.kind, q.amount, q.currency, q.ramp, q.method, \
     s.name, q.set_at, q.replaced_at FROM quotas q JOIN users u ON u.id = q.user_id LEFT JOIN users s ON s.id = q.set_by";

fn quota_row(r: QuotaDb) -> Result<QuotaRow> {
    Ok(QuotaRow {
        id: r.0,
        user_id: r.1,
        user_name: r.2,
        period: r.3,
        kind: r.4,
        amount: r.5,
        currency: r.6,
        ramp: r.7,
        method: r.8,
        set_by: r.9,
        set_at: from_micros(r.10)?,
        replaced_at: r.11.map(from_micros).transpose()?,
    })
}

/// Inserts a version inside a write transaction (in both arms of `dispatch!`). A live version
/// with the same start as an existing live one marks that one `replaced`.
macro_rules! insert_version {
    ($tx:ident, $ctx:expr, $valid_from:expr, $status:expr, $body:expr, $note:expr, $scenario:expr) => {{
        let from = $valid_from.to_string();
        if $status == "live" {
            let same: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM territory_versions WHERE status = 'live' AND valid_from = $1")
                .bind(&from).fetch_all(&mut *$tx).await?;
            for old in same {
                sqlx::query("UPDATE territory_versions SET status = 'replaced' WHERE id = $1")
                    .bind(old).execute(&mut *$tx).await?;
                audit!($tx, $ctx, "status", "territory_version", Some(old.to_string()),
                    Some(serde_json::json!({"status": "live"})), Some(serde_json::json!({"status": "replaced"})));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO territory_versions (valid_from, status, body, note, scenario_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(&from).bind($status).bind($body).bind($note).bind($scenario)
            .bind($ctx.actor_user_id.map(|u| u.0)).bind(micros($ctx.at)).fetch_one(&mut *$tx).await?;
        let after = serde_json::json!({"valid_from": from, "status": $status, "note": $note, "scenario_id": $scenario});
        audit!($tx, $ctx, "create", "territory_version", Some(id.to_string()), None::<&serde_json::Value>, Some(&after));
        id
    }};
}

impl Store {
    /// Stores a territory version. A live version with the same start date as an existing live
    /// one replaces it (that one is kept as `replaced`, both changes audited).
    pub async fn territory_version_create(
        &self,
        ctx: &AuditContext,
        valid_from: Date,
        status: &str,
        body: &str,
        note: &str,
    ) -> Result<i64> {
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id = insert_version!(tx, ctx, valid_from, status, body, note, None::<i64>);
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Every territory version, oldest start first.
    pub async fn territory_versions(&self) -> Result<Vec<TerritoryVersionRow>> {
        let sql = format!("{VERSION_SELECT} ORDER BY v.valid_from, v.id");
        let rows: Vec<VersionDb> = dispatch!(self, p => sqlx::query_as(&sql).fetch_all(p).await?);
        rows.into_iter().map(version_row).collect()
    }

    pub async fn territory_version(&self, id: i64) -> Result<TerritoryVersionRow> {
        let sql = format!("{VERSION_SELECT} WHERE v.id = $1");
        let row: Option<VersionDb> = dispatch!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        version_row(row.ok_or(StoreError::NotFound)?)
    }

    /// Stores a draft scenario.
    pub async fn territory_scenario_create(
        &self,
        ctx: &AuditContext,
        name: &str,
        input: &serde_json::Value,
        result: &serde_json::Value,
    ) -> Result<i64> {
        let (input_text, result_text) = (input.to_string(), result.to_string());
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO territory_scenarios (name, status, input_json, result_json, created_by, created_at) \
                 VALUES ($1, 'draft', $2, $3, $4, $5) RETURNING id")
                .bind(name).bind(&input_text).bind(&result_text).bind(ctx.actor_user_id.map(|u| u.0))
                .bind(micros(ctx.at)).fetch_one(&mut *tx).await?;
            let after = serde_json::json!({"name": name, "status": "draft"});
            audit!(tx, ctx, "create", "territory_scenario", Some(id.to_string()), None::<&serde_json::Value>, Some(&after));
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Every scenario, newest first.
    pub async fn territory_scenarios(&self) -> Result<Vec<TerritoryScenarioRow>> {
        let sql = format!("{SCENARIO_SELECT} ORDER BY s.id DESC");
        let rows: Vec<ScenarioDb> = dispatch!(self, p => sqlx::query_as(&sql).fetch_all(p).await?);
        rows.into_iter().map(scenario_row).collect()
    }

    pub async fn territory_scenario(&self, id: i64) -> Result<TerritoryScenarioRow> {
        let sql = format!("{SCENARIO_SELECT} WHERE s.id = $1");
        let row: Option<ScenarioDb> = dispatch!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        scenario_row(row.ok_or(StoreError::NotFound)?)
    }

    /// Accepts a draft scenario: its rule set becomes a live version from `valid_from` and the
    /// scenario is marked accepted, in one transaction. Refused when it was accepted already.
    pub async fn territory_scenario_accept(
        &self,
        ctx: &AuditContext,
        scenario_id: i64,
        valid_from: Date,
        body: &str,
        note: &str,
    ) -> Result<i64> {
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let status: Option<String> = sqlx::query_scalar("SELECT status FROM territory_scenarios WHERE id = $1")
                .bind(scenario_id).fetch_optional(&mut *tx).await?;
            match status.as_deref() {
                None => return Err(StoreError::NotFound),
                Some("draft") => {}
                Some(other) => return Err(StoreError::Refused(format!("scenario {scenario_id} is {other}, not a draft"))),
            }
            let id = insert_version!(tx, ctx, valid_from, "live", body, note, Some(scenario_id));
            sqlx::query("UPDATE territory_scenarios SET status = 'accepted', accepted_version_id = $1 WHERE id = $2")
                .bind(id).bind(scenario_id).execute(&mut *tx).await?;
            audit!(tx, ctx, "accepted", "territory_scenario", Some(scenario_id.to_string()),
                Some(serde_json::json!({"status": "draft"})),
                Some(serde_json::json!({"status": "accepted", "version_id": id, "valid_from": valid_from.to_string()})));
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Accounts as the territory rules see them, limited to what `viewer` may read.
    pub async fn territory_accounts(&self, viewer: &Viewer) -> Result<Vec<TerritoryAccountRow>> {
        let mut w = Where::default();
        w.visible("a.owner_id", viewer);
        let sql = format!(
            "SELECT a.id, a.name, a.country, r.code, a.postal_code, a.industry, a.employees, a.owner_id, u.name, u.email \
             FROM accounts a LEFT JOIN regions r ON r.id = a.region_id JOIN users u ON u.id = a.owner_id \
             WHERE {} ORDER BY a.id",
            w.sql()
        );
        type Row = (i64, String, String, Option<String>, String, String, i64, i64, String, String);
        let rows: Vec<Row> =
            dispatch!(self, p => bind_all!(sqlx::query_as::<_, Row>(&sql), w.args).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| TerritoryAccountRow {
                id: r.0,
                name: r.1,
                country: r.2,
                region: r.3,
                postal_code: r.4,
                industry: r.5,
                employees: r.6,
                owner_id: r.7,
                owner_name: r.8,
                owner_email: r.9,
            })
            .collect())
    }

    /// Work per account: open opportunities, and activities since `since`. `(account, open, activities)`.
    pub async fn territory_account_work(&self, since: jiff::Timestamp) -> Result<Vec<(i64, i64, i64)>> {
        let open: Vec<(i64, i64)> = dispatch!(self, p => sqlx::query_as(
            "SELECT o.account_id, COUNT(*) FROM opportunities o JOIN stages s ON s.id = o.stage_id \
             WHERE s.kind = 'open' GROUP BY o.account_id").fetch_all(p).await?);
        let acts: Vec<(i64, i64)> = dispatch!(self, p => sqlx::query_as(
            "SELECT account_id, COUNT(*) FROM activities WHERE account_id IS NOT NULL AND at >= $1 GROUP BY account_id")
            .bind(micros(since)).fetch_all(p).await?);
        let mut by: std::collections::BTreeMap<i64, (i64, i64)> = std::collections::BTreeMap::new();
        for (a, n) in open {
            by.entry(a).or_default().0 = n;
        }
        for (a, n) in acts {
            by.entry(a).or_default().1 = n;
        }
        Ok(by.into_iter().map(|(a, (o, n))| (a, o, n)).collect())
    }

    /// Won opportunities closed from `from` to `to` (inclusive), visible to `viewer`.
    pub async fn won_between(&self, viewer: &Viewer, from: Date, to: Date) -> Result<Vec<WonRow>> {
        let mut w = Where::default();
        w.visible("o.owner_id", viewer);
        w.push("s.kind = 'won'".into());
        let a = w.arg(Arg::Text(from.to_string()));
        let b = w.arg(Arg::Text(to.to_string()));
        w.push(format!("o.close_date >= {a} AND o.close_date <= {b}"));
        let sql = format!(
            "SELECT o.account_id, o.owner_id, o.amount, o.currency, o.close_date FROM opportunities o \
             JOIN stages s ON s.id = o.stage_id WHERE {} ORDER BY o.close_date, o.id",
            w.sql()
        );
        type Row = (i64, i64, String, String, String);
        let rows: Vec<Row> =
            dispatch!(self, p => bind_all!(sqlx::query_as::<_, Row>(&sql), w.args).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| {
                Ok(WonRow {
                    account_id: r.0,
                    owner_id: r.1,
                    amount: r.2,
                    currency: r.3,
                    close_date: date("close_date", &r.4)?,
                })
            })
            .collect()
    }

    /// The first account creation time per owner (`owner -> micros`), a stand-in for a start date.
    pub async fn first_account_per_owner(&self) -> Result<Vec<(i64, jiff::Timestamp)>> {
        let rows: Vec<(i64, i64)> = dispatch!(self, p => sqlx::query_as(
            "SELECT owner_id, MIN(created_at) FROM accounts GROUP BY owner_id").fetch_all(p).await?);
        rows.into_iter().map(|(o, t)| Ok((o, from_micros(t)?))).collect()
    }

    /// Sets quotas of a period. A quota equal to the current one is left alone; a different one
    /// replaces it (the old row is kept with `replaced_at`). Returns how many rows were written.
    pub async fn quotas_set(&self, ctx: &AuditContext, period: &str, quotas: &[NewQuota]) -> Result<usize> {
        let written = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let mut written = 0usize;
            for q in quotas {
                let current: Option<(i64, String, String, String, String)> = sqlx::query_as(
                    "SELECT id, amount, currency, ramp, method FROM quotas \
                     WHERE user_id = $1 AND period = $2 AND kind = $3 AND replaced_at IS NULL")
                    .bind(q.user_id).bind(period).bind(&q.kind).fetch_optional(&mut *tx).await?;
                if let Some((_, amount, currency, ramp, method)) = &current
                    && amount == &q.amount && currency == &q.currency && ramp == &q.ramp && method == &q.method
                {
                    continue;
                }
                if let Some((old, ..)) = &current {
                    sqlx::query("UPDATE quotas SET replaced_at = $1 WHERE id = $2")
                        .bind(micros(ctx.at)).bind(old).execute(&mut *tx).await?;
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO quotas (user_id, period, kind, amount, currency, ramp, method, set_by, set_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
                    .bind(q.user_id).bind(period).bind(&q.kind).bind(&q.amount).bind(&q.currency).bind(&q.ramp)
                    .bind(&q.method).bind(ctx.actor_user_id.map(|u| u.0)).bind(micros(ctx.at)).fetch_one(&mut *tx).await?;
                let before = current.as_ref().map(|(old, amount, currency, ramp, method)| serde_json::json!({
                    "id": old, "amount": amount, "currency": currency, "ramp": ramp, "method": method}));
                let after = serde_json::json!({"period": period, "user_id": q.user_id, "kind": q.kind, "amount": q.amount,
                    "currency": q.currency, "ramp": q.ramp, "method": q.method});
                let action = if current.is_some() { "update" } else { "create" };
                audit!(tx, ctx, action, "quota", Some(id.to_string()), before, Some(&after));
                written += 1;
            }
            tx.commit().await?;
            written
        });
        Ok(written)
    }

    /// The quotas of a period visible to `viewer` (current ones; with `history`, replaced ones too).
    pub async fn quotas_of_period(&self, viewer: &Viewer, period: &str, history: bool) -> Result<Vec<QuotaRow>> {
        let mut w = Where::default();
        w.visible("q.user_id", viewer);
        let p = w.arg(Arg::Text(period.to_string()));
        w.push(format!("q.period = {p}"));
        if !history {
            w.push("q.replaced_at IS NULL".into());
        }
        let sql = format!("{QUOTA_SELECT} WHERE {} ORDER BY u.name, q.user_id, q.kind, q.id", w.sql());
        let rows: Vec<QuotaDb> =
            dispatch!(self, p => bind_all!(sqlx::query_as::<_, QuotaDb>(&sql), w.args).fetch_all(p).await?);
        rows.into_iter().map(quota_row).collect()
    }

    /// A user's current quota of a kind for a period.
    pub async fn quota_for(&self, user_id: i64, period: &str, kind: &str) -> Result<Option<QuotaRow>> {
        let sql =
            format!("{QUOTA_SELECT} WHERE q.user_id = $1 AND q.period = $2 AND q.kind = $3 AND q.replaced_at IS NULL");
        let row: Option<QuotaDb> =
            dispatch!(self, p => sqlx::query_as(&sql).bind(user_id).bind(period).bind(kind).fetch_optional(p).await?);
        row.map(quota_row).transpose()
    }
}
