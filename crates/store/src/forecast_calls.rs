//! Forecast calls (F3): submitted numbers per person, period and category (append-only; a
//! manager's override is a row of its own and never replaces the person's number), the people of
//! the sales hierarchy, the opportunities of a period by owner, and dated snapshots of a period's
//! opportunities for the waterfall. Reads of opportunities and snapshots apply row-level
//! visibility on the owner in the SQL; which submissions a caller may read is decided in `app`
//! from the same subtree.

use jiff::civil::Date;
use serde::Serialize;

use crate::audit::{AuditContext, audit};
use crate::{Arg, Result, Store, StoreError, Viewer, Where, bind_all, dispatch, from_micros, micros};

/// A number to store: `submitter_id`'s call, or an override of it by `override_by`.
#[derive(Debug, Clone, Serialize)]
pub struct NewSubmission {
    pub submitter_id: i64,
    pub override_by: Option<i64>,
    pub period: String,
    /// `commit` or `best_case`.
    pub category: String,
    pub amount: String,
    pub currency: String,
    pub note: String,
    /// The roll-up method in force when the number was given (`cumulative` or `single`).
    pub rollup_method: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubmissionRow {
    pub id: i64,
    pub submitter_id: i64,
    pub submitter_name: String,
    pub override_by: Option<i64>,
    pub override_by_name: Option<String>,
    pub period: String,
    pub category: String,
    pub amount: String,
    pub currency: String,
    pub note: String,
    pub rollup_method: String,
    pub submitted_at: jiff::Timestamp,
}

/// A person of the sales hierarchy (reps, managers and the people they report to).
#[derive(Debug, Clone, Serialize)]
pub struct CallPerson {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub manager_id: Option<i64>,
    pub active: bool,
}

/// An opportunity as a forecast call sees it (and as a snapshot stores it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallOpportunity {
    pub opportunity_id: i64,
    pub name: String,
    pub owner_id: i64,
    /// Amount and currency: the opportunity's own when read live, the reporting currency in a
    /// snapshot.
    pub amount: String,
    pub currency: String,
    pub close_date: Date,
    pub category: String,
    /// `open`, `won` or `lost`.
    pub stage_kind: String,
    /// The day the opportunity was created (UTC).
    pub created_on: Date,
}

type OppDb = (i64, String, i64, String, String, String, String, String, String);
/// As `OppDb`, with the creation time in microseconds.
type LiveDb = (i64, String, i64, String, String, String, String, String, i64);

fn date(what: &str, s: &str) -> Result<Date> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("{what}: '{s}' is not a date")))
}

fn opp_row(r: OppDb) -> Result<CallOpportunity> {
    Ok(CallOpportunity {
        opportunity_id: r.0,
        name: r.1,
        owner_id: r.2,
        amount: r.3,
        currency: r.4,
        close_date: date("close_date", &r.5)?,
        category: r.6,
        stage_kind: r.7,
        created_on: date("created_on", &r.8)?,
    })
}

type SubDb = (i64, i64, String, Option<i64>, Option<String>, String, String, String, String, String, String, i64);

/// Rows per multi-row INSERT of a snapshot (12 arguments each).
const SNAPSHOT_CHUNK: usize = 400;

impl Store {
    /// Appends a submission (own number or override), audited.
    pub async fn forecast_submission_add(&self, ctx: &AuditContext, s: &NewSubmission) -> Result<i64> {
        let at = micros(ctx.at);
        let after = serde_json::to_value(s).ok();
        let id: i64 = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO forecast_submissions (submitter_id, override_by, period, category, amount, currency, note, rollup_method, submitted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
                .bind(s.submitter_id).bind(s.override_by).bind(&s.period).bind(&s.category).bind(&s.amount)
                .bind(&s.currency).bind(&s.note).bind(&s.rollup_method).bind(at)
                .fetch_one(&mut *tx).await?;
            let action = if s.override_by.is_some() { "override" } else { "submit" };
            audit!(tx, ctx, action, "forecast_call", Some(id.to_string()), None::<serde_json::Value>, after);
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Every submission for `period` (all people, oldest first); the app keeps those the caller
    /// may read.
    pub async fn forecast_submissions(&self, period: &str) -> Result<Vec<SubmissionRow>> {
        let rows: Vec<SubDb> = dispatch!(self, p => sqlx::query_as(
            "SELECT f.id, f.submitter_id, u.name, f.override_by, m.name, f.period, f.category, f.amount, f.currency, f.note, \
             f.rollup_method, f.submitted_at FROM forecast_submissions f JOIN users u ON u.id = f.submitter_id \
             LEFT JOIN users m ON m.id = f.override_by WHERE f.period = $1 ORDER BY f.submitted_at, f.id")
            .bind(period).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| {
                Ok(SubmissionRow {
                    id: r.0,
                    submitter_id: r.1,
                    submitter_name: r.2,
                    override_by: r.3,
                    override_by_name: r.4,
                    period: r.5,
                    category: r.6,
                    amount: r.7,
                    currency: r.8,
                    note: r.9,
                    rollup_method: r.10,
                    submitted_at: from_micros(r.11)?,
                })
            })
            .collect()
    }

    /// The sales hierarchy: every sales rep and sales manager, and everyone they report to.
    pub async fn forecast_people(&self) -> Result<Vec<CallPerson>> {
        let rows: Vec<(i64, String, String, Option<i64>, bool)> = dispatch!(self, p => sqlx::query_as(
            "WITH RECURSIVE up(id) AS (SELECT id FROM users WHERE role IN ('sales_rep', 'sales_manager') \
             UNION SELECT u.manager_id FROM users u JOIN up ON u.id = up.id WHERE u.manager_id IS NOT NULL) \
             SELECT u.id, u.name, u.role, u.manager_id, u.active FROM users u WHERE u.id IN (SELECT id FROM up) ORDER BY u.id")
            .fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(id, name, role, manager_id, active)| CallPerson { id, name, role, manager_id, active })
            .collect())
    }

    /// Opportunities `viewer` may see that close between `from` and `to` (inclusive), in their
    /// own currency.
    pub async fn forecast_opportunities(&self, viewer: &Viewer, from: Date, to: Date) -> Result<Vec<CallOpportunity>> {
        let mut w = Where::default();
        w.visible("o.owner_id", viewer);
        let a = w.arg(Arg::Text(from.to_string()));
        let b = w.arg(Arg::Text(to.to_string()));
        w.push(format!("o.close_date >= {a} AND o.close_date <= {b}"));
        self.call_opportunities(&w).await
    }

    /// What a snapshot of the period `from`..=`to` holds: every opportunity closing in the
    /// period and every open one, company-wide, in their own currency.
    pub async fn forecast_snapshot_source(&self, from: Date, to: Date) -> Result<Vec<CallOpportunity>> {
        let mut w = Where::default();
        let a = w.arg(Arg::Text(from.to_string()));
        let b = w.arg(Arg::Text(to.to_string()));
        w.push(format!("((o.close_date >= {a} AND o.close_date <= {b}) OR s.kind = 'open')"));
        self.call_opportunities(&w).await
    }

    async fn call_opportunities(&self, w: &Where) -> Result<Vec<CallOpportunity>> {
        let sql = format!(
            "SELECT o.id, o.name, o.owner_id, o.amount, o.currency, o.close_date, o.forecast_category, s.kind, o.created_at \
             FROM opportunities o JOIN stages s ON s.id = o.stage_id WHERE {} ORDER BY o.id",
            w.sql()
        );
        let rows: Vec<LiveDb> = dispatch!(self, p => bind_all!(sqlx::query_as(&sql), w.args).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| {
                let created = from_micros(r.8)?.to_zoned(jiff::tz::TimeZone::UTC).date();
                opp_row((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, created.to_string()))
            })
            .collect()
    }

    /// Writes the snapshot of `period` for `day` (amounts already in the reporting currency).
    /// Taking it again the same day replaces that day's rows, so it is idempotent per day.
    pub async fn forecast_snapshot_write(
        &self,
        ctx: &AuditContext,
        period: &str,
        day: Date,
        rows: &[CallOpportunity],
    ) -> Result<()> {
        let d = day.to_string();
        let at = micros(ctx.at);
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM forecast_snapshots WHERE period = $1 AND snapshot_date = $2")
                .bind(period).bind(&d).fetch_one(&mut *tx).await?;
            sqlx::query("DELETE FROM forecast_snapshots WHERE period = $1 AND snapshot_date = $2")
                .bind(period).bind(&d).execute(&mut *tx).await?;
            for chunk in rows.chunks(SNAPSHOT_CHUNK) {
                let mut args: Vec<Arg> = Vec::with_capacity(chunk.len() * 12);
                let mut values = Vec::with_capacity(chunk.len());
                for r in chunk {
                    let n = args.len();
                    values.push(format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        n + 1, n + 2, n + 3, n + 4, n + 5, n + 6, n + 7, n + 8, n + 9, n + 10, n + 11, n + 12
                    ));
                    args.extend([
                        Arg::Text(period.to_string()),
                        Arg::Text(d.clone()),
                        Arg::I64(r.opportunity_id),
                        Arg::Text(r.name.clone()),
                        Arg::I64(r.owner_id),
                        Arg::Text(r.amount.clone()),
                        Arg::Text(r.currency.clone()),
                        Arg::Text(r.close_date.to_string()),
                        Arg::Text(r.category.clone()),
                        Arg::Text(r.stage_kind.clone()),
                        Arg::Text(r.created_on.to_string()),
                        Arg::I64(at),
                    ]);
                }
                let sql = format!(
                    "INSERT INTO forecast_snapshots (period, snapshot_date, opportunity_id, name, owner_id, amount, currency, \
                     close_date, category, stage_kind, created_on, taken_at) VALUES {}",
                    values.join(", ")
                );
                bind_all!(sqlx::query(&sql), args).execute(&mut *tx).await?;
            }
            audit!(tx, ctx, "snapshot", "forecast_snapshot", Some(format!("{period}@{d}")),
                Some(serde_json::json!({"rows": before})), Some(serde_json::json!({"rows": rows.len()})));
            tx.commit().await?;
        });
        Ok(())
    }

    /// The days a snapshot of `period` was taken, oldest first.
    pub async fn forecast_snapshot_dates(&self, period: &str) -> Result<Vec<Date>> {
        let rows: Vec<String> = dispatch!(self, p => sqlx::query_scalar(
            "SELECT DISTINCT snapshot_date FROM forecast_snapshots WHERE period = $1 ORDER BY snapshot_date")
            .bind(period).fetch_all(p).await?);
        rows.iter().map(|d| date("snapshot_date", d)).collect()
    }

    /// The rows of one snapshot that `viewer` may see (by the owner at the time).
    pub async fn forecast_snapshot(&self, viewer: &Viewer, period: &str, day: Date) -> Result<Vec<CallOpportunity>> {
        let mut w = Where::default();
        w.visible("f.owner_id", viewer);
        let a = w.arg(Arg::Text(period.to_string()));
        let b = w.arg(Arg::Text(day.to_string()));
        w.push(format!("f.period = {a} AND f.snapshot_date = {b}"));
        let sql = format!(
            "SELECT f.opportunity_id, f.name, f.owner_id, f.amount, f.currency, f.close_date, f.category, f.stage_kind, f.created_on \
             FROM forecast_snapshots f WHERE {} ORDER BY f.opportunity_id",
            w.sql()
        );
        let rows: Vec<OppDb> = dispatch!(self, p => bind_all!(sqlx::query_as(&sql), w.args).fetch_all(p).await?);
        rows.into_iter().map(opp_row).collect()
    }
}
