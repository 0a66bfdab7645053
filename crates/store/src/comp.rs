//! Incentive compensation records: plan versions (their TOML text), assignments, acceptances,
//! period states and immutable calculation runs with statements and explained lines. The store
//! knows nothing of the plan language: `app` parses and calculates, the store keeps the text and
//! the results. Statements are visible like records: a payee sees their own, a manager their
//! subtree, everyone with `Visibility::All` every one (applied in the SQL).

use jiff::civil::Date;
use serde::Serialize;

use crate::audit::{AuditContext, audit};
use crate::{Arg, Result, Store, StoreError, Viewer, Where, bind_all, dispatch, from_micros, micros};

/// A plan version to store; `body` is the plan text exactly as given.
#[derive(Debug, Clone, Serialize)]
pub struct NewPlanVersion {
    pub plan_key: String,
    pub version: i64,
    pub name: String,
    pub effective_from: Date,
    pub effective_to: Option<Date>,
    pub body: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanVersionRow {
    pub id: i64,
    pub plan_key: String,
    pub version: i64,
    pub name: String,
    pub effective_from: Date,
    pub effective_to: Option<Date>,
    pub body: String,
    pub created_by: Option<String>,
    pub created_at: jiff::Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssignmentRow {
    pub id: i64,
    pub plan_key: String,
    pub payee_id: i64,
    pub payee_name: String,
    pub payee_email: String,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AcceptanceRow {
    pub plan_version_id: i64,
    pub payee_id: i64,
    pub accepted_at: jiff::Timestamp,
}

/// A won opportunity as a booking for the calculation, with its product lines.
#[derive(Debug, Clone)]
pub struct BookingRow {
    pub opportunity_id: i64,
    pub account_id: i64,
    pub owner_id: i64,
    pub amount: String,
    pub currency: String,
    pub close_date: Date,
    /// (product code, product line, quantity, line total)
    pub lines: Vec<(String, String, String, String)>,
}

/// A payout line to store, with its key for later delta lines.
#[derive(Debug, Clone, Serialize)]
pub struct NewLine {
    pub rule: String,
    pub kind: String,
    pub transaction_id: Option<i64>,
    pub overlay_of: Option<i64>,
    pub segment: i64,
    pub grp: i64,
    pub status: String,
    pub amount: String,
    pub opportunity_id: Option<i64>,
    pub sentence: String,
    pub explanation: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewStatement {
    pub payee_id: i64,
    pub currency: String,
    pub payable: String,
    pub held: String,
    pub credited: String,
    pub quota: Option<String>,
    pub attainment: Option<String>,
    pub lines: Vec<NewLine>,
    /// The closing state (year-to-date, draw balance, held lines) as JSON, for the next period.
    pub closing: Option<String>,
}

/// A run to store: all of it or nothing.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub period: String,
    /// `calculation` or `delta`.
    pub kind: String,
    /// The period the lines belong to (a delta run corrects `source_period` in `period`).
    pub source_period: String,
    pub plan_version_id: i64,
    pub inputs_hash: String,
    pub diagnostics: Vec<String>,
    pub statements: Vec<NewStatement>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub period: String,
    pub kind: String,
    pub source_period: String,
    pub plan_version_id: i64,
    pub plan_key: String,
    pub inputs_hash: String,
    pub diagnostics: Vec<String>,
    pub created_at: jiff::Timestamp,
}

/// A stored line as read, with its statement.
#[derive(sqlx::FromRow)]
struct LineDbRow {
    id: i64,
    statement_id: i64,
    position: i64,
    rule: String,
    kind: String,
    transaction_id: Option<i64>,
    overlay_of: Option<i64>,
    segment: i64,
    grp: i64,
    status: String,
    amount: String,
    opportunity_id: Option<i64>,
    sentence: String,
    explanation_json: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineRow {
    /// The line's id (disputes name it).
    pub id: i64,
    pub position: i64,
    pub rule: String,
    pub kind: String,
    pub transaction_id: Option<i64>,
    pub overlay_of: Option<i64>,
    pub segment: i64,
    pub grp: i64,
    pub status: String,
    pub amount: String,
    pub opportunity_id: Option<i64>,
    pub sentence: String,
    pub explanation: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementRow {
    pub id: i64,
    pub run_id: i64,
    pub run_kind: String,
    pub period: String,
    pub source_period: String,
    pub plan_key: String,
    pub plan_version: i64,
    pub payee_id: i64,
    pub payee_name: String,
    pub payee_email: String,
    pub currency: String,
    pub payable: String,
    pub held: String,
    pub credited: String,
    pub quota: Option<String>,
    pub attainment: Option<String>,
    pub lines: Vec<LineRow>,
}

fn date(what: &str, s: &str) -> Result<Date> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("{what}: '{s}' is not a date")))
}

fn opt_date(what: &str, s: Option<String>) -> Result<Option<Date>> {
    s.as_deref().map(|s| date(what, s)).transpose()
}

type PlanDb = (i64, String, i64, String, String, Option<String>, String, Option<String>, i64);

const PLAN_SELECT: &str = "SELECT v.id, v.plan_key, v.version, v.name, v.effective_from, v.effective_to, v.body, \
     u.name, v.created_at FROM comp_plan_versions v LEFT JOIN users u ON u.id = v.created_by";

fn plan_row(r: PlanDb) -> Result<PlanVersionRow> {
    Ok(PlanVersionRow {
        id: r.0,
        plan_key: r.1,
        version: r.2,
        name: r.3,
        effective_from: date("effective_from", &r.4)?,
        effective_to: opt_date("effective_to", r.5)?,
        body: r.6,
        created_by: r.7,
        created_at: from_micros(r.8)?,
    })
}

impl Store {
    /// Stores a new plan version. A version number is never reused for a plan.
    pub async fn comp_plan_create(&self, ctx: &AuditContext, v: &NewPlanVersion) -> Result<i64> {
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let taken: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM comp_plan_versions WHERE plan_key = $1 AND version = $2")
                .bind(&v.plan_key).bind(v.version).fetch_optional(&mut *tx).await?;
            if taken.is_some() {
                return Err(StoreError::Conflict(format!("plan '{}' already has a version {}", v.plan_key, v.version)));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO comp_plan_versions (plan_key, version, name, effective_from, effective_to, body, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(&v.plan_key).bind(v.version).bind(&v.name).bind(v.effective_from.to_string())
                .bind(v.effective_to.map(|d| d.to_string())).bind(&v.body).bind(ctx.actor_user_id.map(|u| u.0))
                .bind(micros(ctx.at)).fetch_one(&mut *tx).await?;
            audit!(tx, ctx, "create", "comp_plan", Some(id.to_string()), None::<&NewPlanVersion>, Some(v));
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Every plan version, by plan and version.
    pub async fn comp_plan_versions(&self) -> Result<Vec<PlanVersionRow>> {
        let sql = format!("{PLAN_SELECT} ORDER BY v.plan_key, v.version");
        let rows: Vec<PlanDb> = dispatch!(self, p => sqlx::query_as(&sql).fetch_all(p).await?);
        rows.into_iter().map(plan_row).collect()
    }

    pub async fn comp_plan_version(&self, id: i64) -> Result<PlanVersionRow> {
        let sql = format!("{PLAN_SELECT} WHERE v.id = $1");
        let row: Option<PlanDb> = dispatch!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        plan_row(row.ok_or(StoreError::NotFound)?)
    }

    /// Assigns a plan to a payee from `starts_on` (to `ends_on`, inclusive).
    pub async fn comp_assign(
        &self,
        ctx: &AuditContext,
        plan_key: &str,
        payee: i64,
        starts_on: Date,
        ends_on: Option<Date>,
    ) -> Result<i64> {
        let after = serde_json::json!({"plan": plan_key, "payee_id": payee, "starts_on": starts_on.to_string(),
            "ends_on": ends_on.map(|d| d.to_string())});
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO comp_assignments (plan_key, payee_id, starts_on, ends_on, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(plan_key).bind(payee).bind(starts_on.to_string()).bind(ends_on.map(|d| d.to_string()))
                .bind(micros(ctx.at)).fetch_one(&mut *tx).await?;
            audit!(tx, ctx, "create", "comp_assignment", Some(id.to_string()), None::<&serde_json::Value>, Some(&after));
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Assignments, all or one payee's.
    pub async fn comp_assignments(&self, payee: Option<i64>) -> Result<Vec<AssignmentRow>> {
        #[allow(clippy::type_complexity)] // a plain row tuple, named right below
        let rows: Vec<(i64, String, i64, String, String, String, Option<String>)> = dispatch!(self, p => sqlx::query_as(
            "SELECT a.id, a.plan_key, a.payee_id, u.name, u.email, a.starts_on, a.ends_on FROM comp_assignments a \
             JOIN users u ON u.id = a.payee_id WHERE $1 IS NULL OR a.payee_id = $1 ORDER BY a.plan_key, u.name, a.id")
            .bind(payee).fetch_all(p).await?);
        rows.into_iter()
            .map(|(id, plan_key, payee_id, payee_name, payee_email, s, e)| {
                Ok(AssignmentRow {
                    id,
                    plan_key,
                    payee_id,
                    payee_name,
                    payee_email,
                    starts_on: date("starts_on", &s)?,
                    ends_on: opt_date("ends_on", e)?,
                })
            })
            .collect()
    }

    /// Records that `payee` accepted a plan version (once; accepting again changes nothing).
    pub async fn comp_accept(&self, ctx: &AuditContext, plan_version_id: i64, payee: i64) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let done: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM comp_acceptances WHERE plan_version_id = $1 AND payee_id = $2")
                .bind(plan_version_id).bind(payee).fetch_optional(&mut *tx).await?;
            if done.is_none() {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO comp_acceptances (plan_version_id, payee_id, accepted_at) VALUES ($1, $2, $3) RETURNING id")
                    .bind(plan_version_id).bind(payee).bind(micros(ctx.at)).fetch_one(&mut *tx).await?;
                let after = serde_json::json!({"plan_version_id": plan_version_id, "payee_id": payee});
                audit!(tx, ctx, "accepted", "comp_plan", Some(plan_version_id.to_string()), None::<&serde_json::Value>, Some(&after));
                let _ = id;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn comp_acceptances(&self) -> Result<Vec<AcceptanceRow>> {
        let rows: Vec<(i64, i64, i64)> = dispatch!(self, p => sqlx::query_as(
            "SELECT plan_version_id, payee_id, accepted_at FROM comp_acceptances ORDER BY id").fetch_all(p).await?);
        rows.into_iter()
            .map(|(plan_version_id, payee_id, at)| {
                Ok(AcceptanceRow { plan_version_id, payee_id, accepted_at: from_micros(at)? })
            })
            .collect()
    }

    /// Won opportunities closed from `from` to `to` (inclusive), by close date then id, with lines.
    pub async fn comp_bookings(&self, from: Date, to: Date) -> Result<Vec<BookingRow>> {
        let rows: Vec<(i64, i64, i64, String, String, String)> = dispatch!(self, p => sqlx::query_as(
            "SELECT o.id, o.account_id, o.owner_id, o.amount, o.currency, o.close_date FROM opportunities o \
             JOIN stages s ON s.id = o.stage_id WHERE s.kind = 'won' AND o.close_date >= $1 AND o.close_date <= $2 \
             ORDER BY o.close_date, o.id")
            .bind(from.to_string()).bind(to.to_string()).fetch_all(p).await?);
        let lines: Vec<(i64, String, String, String, String)> = dispatch!(self, p => sqlx::query_as(
            "SELECT l.opportunity_id, pr.code, pr.family, l.quantity, l.total FROM opportunity_lines l \
             JOIN products pr ON pr.id = l.product_id JOIN opportunities o ON o.id = l.opportunity_id \
             JOIN stages s ON s.id = o.stage_id WHERE s.kind = 'won' AND o.close_date >= $1 AND o.close_date <= $2 \
             ORDER BY l.opportunity_id, l.position, l.id")
            .bind(from.to_string()).bind(to.to_string()).fetch_all(p).await?);
        let mut by_opp: std::collections::HashMap<i64, Vec<(String, String, String, String)>> =
            std::collections::HashMap::new();
        for (opp, code, family, qty, total) in lines {
            by_opp.entry(opp).or_default().push((code, family, qty, total));
        }
        rows.into_iter()
            .map(|(id, account_id, owner_id, amount, currency, close)| {
                Ok(BookingRow {
                    opportunity_id: id,
                    account_id,
                    owner_id,
                    amount,
                    currency,
                    close_date: date("close_date", &close)?,
                    lines: by_opp.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// open, calculated, approved or locked.
    pub async fn comp_period_status(&self, period: &str) -> Result<String> {
        let s: Option<String> = dispatch!(self, p => sqlx::query_scalar(
            "SELECT status FROM comp_periods WHERE period = $1").bind(period).fetch_optional(p).await?);
        Ok(s.unwrap_or_else(|| "open".into()))
    }

    /// Moves a period from `from` to `to`; refused when it is not in `from` any more.
    pub async fn comp_period_move(&self, ctx: &AuditContext, period: &str, from: &str, to: &str) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let now: String = sqlx::query_scalar::<_, String>("SELECT status FROM comp_periods WHERE period = $1")
                .bind(period).fetch_optional(&mut *tx).await?.unwrap_or_else(|| "open".into());
            if now != from {
                return Err(StoreError::Refused(format!("period {period} is {now}, not {from}")));
            }
            sqlx::query("DELETE FROM comp_periods WHERE period = $1").bind(period).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO comp_periods (period, status, updated_at) VALUES ($1, $2, $3)")
                .bind(period).bind(to).bind(micros(ctx.at)).execute(&mut *tx).await?;
            audit!(tx, ctx, "status", "comp_period", Some(period.to_string()),
                Some(serde_json::json!({"status": from})), Some(serde_json::json!({"status": to})));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Writes a run with all its statements and lines in one transaction, and (for a calculation
    /// run) moves its period to `calculated`. Refused when the period is approved or locked.
    pub async fn comp_run_save(&self, ctx: &AuditContext, run: &NewRun) -> Result<i64> {
        Ok(self.comp_runs_save(ctx, std::slice::from_ref(run)).await?.into_iter().next().unwrap_or_default())
    }

    /// Writes the runs of one calculation (one per plan) with their statements, lines and
    /// closing states in ONE transaction: all of them or none.
    pub async fn comp_runs_save(&self, ctx: &AuditContext, runs: &[NewRun]) -> Result<Vec<i64>> {
        let ids = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let mut ids = Vec::with_capacity(runs.len());
            for run in runs {
                let diagnostics = serde_json::to_string(&run.diagnostics).unwrap_or_else(|_| "[]".into());
                let status: String = sqlx::query_scalar::<_, String>("SELECT status FROM comp_periods WHERE period = $1")
                    .bind(&run.period).fetch_optional(&mut *tx).await?.unwrap_or_else(|| "open".into());
                if status == "approved" || status == "locked" {
                    return Err(StoreError::Refused(format!("period {} is {status}: it cannot take a run", run.period)));
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO comp_runs (period, kind, source_period, plan_version_id, inputs_hash, diagnostics_json, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                    .bind(&run.period).bind(&run.kind).bind(&run.source_period).bind(run.plan_version_id)
                    .bind(&run.inputs_hash).bind(&diagnostics).bind(ctx.actor_user_id.map(|u| u.0)).bind(micros(ctx.at))
                    .fetch_one(&mut *tx).await?;
                for s in &run.statements {
                    let sid: i64 = sqlx::query_scalar(
                        "INSERT INTO comp_statements (run_id, payee_id, currency, payable, held, credited, quota, attainment) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                        .bind(id).bind(s.payee_id).bind(&s.currency).bind(&s.payable).bind(&s.held).bind(&s.credited)
                        .bind(&s.quota).bind(&s.attainment).fetch_one(&mut *tx).await?;
                    for (i, l) in s.lines.iter().enumerate() {
                        sqlx::query(
                            "INSERT INTO comp_lines (statement_id, position, rule, kind, transaction_id, overlay_of, segment, grp, \
                             status, amount, opportunity_id, sentence, explanation_json) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
                            .bind(sid).bind(i as i64).bind(&l.rule).bind(&l.kind).bind(l.transaction_id).bind(l.overlay_of)
                            .bind(l.segment).bind(l.grp).bind(&l.status).bind(&l.amount).bind(l.opportunity_id)
                            .bind(&l.sentence).bind(l.explanation.to_string()).execute(&mut *tx).await?;
                    }
                    if let Some(state) = &s.closing {
                        sqlx::query("INSERT INTO comp_closing_states (statement_id, state_json) VALUES ($1, $2)")
                            .bind(sid).bind(state).execute(&mut *tx).await?;
                    }
                }
                if run.kind == "calculation" && status != "calculated" {
                    sqlx::query("DELETE FROM comp_periods WHERE period = $1").bind(&run.period).execute(&mut *tx).await?;
                    sqlx::query("INSERT INTO comp_periods (period, status, updated_at) VALUES ($1, 'calculated', $2)")
                        .bind(&run.period).bind(micros(ctx.at)).execute(&mut *tx).await?;
                }
                let after = serde_json::json!({"period": run.period, "kind": run.kind, "source_period": run.source_period,
                    "plan_version_id": run.plan_version_id, "inputs_hash": run.inputs_hash, "statements": run.statements.len()});
                audit!(tx, ctx, "create", "comp_run", Some(id.to_string()), None::<&serde_json::Value>, Some(&after));
                ids.push(id);
            }
            tx.commit().await?;
            ids
        });
        Ok(ids)
    }

    /// The closing states stored for `plan_key`'s statements of `source_period`, the latest run
    /// first: (payee, state JSON). The caller takes the first one per payee.
    pub async fn comp_closing_states(&self, plan_key: &str, source_period: &str) -> Result<Vec<(i64, String)>> {
        let rows: Vec<(i64, String)> = dispatch!(self, p => sqlx::query_as(
            "SELECT s.payee_id, c.state_json FROM comp_closing_states c JOIN comp_statements s ON s.id = c.statement_id \
             JOIN comp_runs r ON r.id = s.run_id JOIN comp_plan_versions v ON v.id = r.plan_version_id \
             WHERE v.plan_key = $1 AND r.source_period = $2 ORDER BY r.id DESC")
            .bind(plan_key).bind(source_period).fetch_all(p).await?);
        Ok(rows)
    }

    pub async fn comp_run(&self, id: i64) -> Result<RunRow> {
        self.comp_runs_where("r.id = $1", Arg::I64(id)).await?.pop().ok_or(StoreError::NotFound)
    }

    /// The runs of a period (as the period paid in), newest first.
    pub async fn comp_runs(&self, period: &str) -> Result<Vec<RunRow>> {
        self.comp_runs_where("r.period = $1", Arg::Text(period.into())).await
    }

    async fn comp_runs_where(&self, cond: &str, arg: Arg) -> Result<Vec<RunRow>> {
        let sql = format!(
            "SELECT r.id, r.period, r.kind, r.source_period, r.plan_version_id, v.plan_key, r.inputs_hash, \
             r.diagnostics_json, r.created_at FROM comp_runs r JOIN comp_plan_versions v ON v.id = r.plan_version_id \
             WHERE {cond} ORDER BY r.id DESC"
        );
        let args = [arg];
        #[allow(clippy::type_complexity)] // a plain row tuple, named right below
        let rows: Vec<(i64, String, String, String, i64, String, String, String, i64)> =
            dispatch!(self, p => bind_all!(sqlx::query_as(&sql), args).fetch_all(p).await?);
        rows.into_iter()
            .map(|(id, period, kind, source_period, plan_version_id, plan_key, inputs_hash, diag, at)| {
                Ok(RunRow {
                    id,
                    period,
                    kind,
                    source_period,
                    plan_version_id,
                    plan_key,
                    inputs_hash,
                    diagnostics: serde_json::from_str(&diag)
                        .map_err(|e| StoreError::Corrupt(format!("run {id}: diagnostics: {e}")))?,
                    created_at: from_micros(at)?,
                })
            })
            .collect()
    }

    /// Statements of the given runs that `viewer` may see (one payee's when `payee` is given),
    /// with their lines. The visibility rule is in the SQL: a rep's query never returns
    /// another payee's statement.
    pub async fn comp_statements(
        &self,
        viewer: &Viewer,
        runs: &[i64],
        payee: Option<i64>,
    ) -> Result<Vec<StatementRow>> {
        if runs.is_empty() {
            return Ok(vec![]);
        }
        let mut w = Where::default();
        // Run ids come from the database as integers, so inlining them is injection-safe.
        w.push(format!("s.run_id IN ({})", runs.iter().map(i64::to_string).collect::<Vec<_>>().join(",")));
        if let Some(id) = payee {
            let p = w.arg(Arg::I64(id));
            w.push(format!("s.payee_id = {p}"));
        }
        w.visible("s.payee_id", viewer);
        let sql = format!(
            "SELECT s.id, s.run_id, r.kind, r.period, r.source_period, v.plan_key, v.version, s.payee_id, u.name, u.email, \
             s.currency, s.payable, s.held, s.credited, s.quota, s.attainment FROM comp_statements s \
             JOIN comp_runs r ON r.id = s.run_id JOIN comp_plan_versions v ON v.id = r.plan_version_id \
             JOIN users u ON u.id = s.payee_id WHERE {} ORDER BY u.name, s.payee_id, s.run_id",
            w.sql()
        );
        #[allow(clippy::type_complexity)] // a plain row tuple, named right below
        let rows: Vec<(
            i64,
            i64,
            String,
            String,
            String,
            String,
            i64,
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        )> = dispatch!(self, p => bind_all!(sqlx::query_as(&sql), w.args).fetch_all(p).await?);
        // The lines of every selected statement, in a few queries (not one per statement).
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let mut lines_of: std::collections::HashMap<i64, Vec<LineRow>> = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, statement_id, position, rule, kind, transaction_id, overlay_of, segment, grp, status, amount, \
                 opportunity_id, sentence, explanation_json FROM comp_lines WHERE statement_id IN ({}) \
                 ORDER BY statement_id, position",
                chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            );
            let found: Vec<LineDbRow> = dispatch!(self, p => sqlx::query_as(&sql).fetch_all(p).await?);
            for l in found {
                let explanation = serde_json::from_str(&l.explanation_json)
                    .map_err(|e| StoreError::Corrupt(format!("statement {}: explanation: {e}", l.statement_id)))?;
                lines_of.entry(l.statement_id).or_default().push(LineRow {
                    id: l.id,
                    position: l.position,
                    rule: l.rule,
                    kind: l.kind,
                    transaction_id: l.transaction_id,
                    overlay_of: l.overlay_of,
                    segment: l.segment,
                    grp: l.grp,
                    status: l.status,
                    amount: l.amount,
                    opportunity_id: l.opportunity_id,
                    sentence: l.sentence,
                    explanation,
                });
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let lines = lines_of.remove(&r.0).unwrap_or_default();
            out.push(StatementRow {
                id: r.0,
                run_id: r.1,
                run_kind: r.2,
                period: r.3,
                source_period: r.4,
                plan_key: r.5,
                plan_version: r.6,
                payee_id: r.7,
                payee_name: r.8,
                payee_email: r.9,
                currency: r.10,
                payable: r.11,
                held: r.12,
                credited: r.13,
                quota: r.14,
                attainment: r.15,
                lines,
            });
        }
        Ok(out)
    }
}
