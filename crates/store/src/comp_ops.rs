//! Compensation operations: holds and their releases, manual adjustments awaiting a second
//! person's approval, and disputes on statement lines with their thread. Every write is audited
//! in its transaction; disputes are visible like statements (payee, their managers, all).

use serde::Serialize;

use crate::audit::{AuditContext, audit};
use crate::{Arg, Result, Store, StoreError, Viewer, Where, bind_all, dispatch, from_micros, micros};

/// A hold to store. `scope` is `opportunity`, `payee` or `plan`, with the matching column set.
#[derive(Debug, Clone, Serialize)]
pub struct NewHold {
    pub scope: String,
    pub opportunity_id: Option<i64>,
    pub payee_id: Option<i64>,
    pub plan_key: Option<String>,
    pub reason: String,
    /// First period held (`YYYY-MM`).
    pub from_period: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HoldRow {
    pub id: i64,
    pub scope: String,
    pub opportunity_id: Option<i64>,
    pub opportunity_name: Option<String>,
    pub payee_id: Option<i64>,
    pub payee_name: Option<String>,
    pub plan_key: Option<String>,
    pub reason: String,
    pub from_period: String,
    /// The period the held lines are paid in; `None` while the hold lasts.
    pub released_in: Option<String>,
    pub created_by: Option<String>,
    pub created_at: jiff::Timestamp,
}

#[derive(sqlx::FromRow)]
struct HoldDb {
    id: i64,
    scope: String,
    opportunity_id: Option<i64>,
    opportunity_name: Option<String>,
    payee_id: Option<i64>,
    payee_name: Option<String>,
    plan_key: Option<String>,
    reason: String,
    from_period: String,
    released_in: Option<String>,
    created_by: Option<String>,
    created_at: i64,
}

/// An adjustment to store (status `pending` until approved).
#[derive(Debug, Clone, Serialize)]
pub struct NewAdjustment {
    pub payee_id: i64,
    pub plan_key: String,
    pub period: String,
    /// Signed decimal text in `currency` (the plan's currency).
    pub amount: String,
    pub currency: String,
    pub reason_code: String,
    pub note: String,
    pub opportunity_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AdjustmentRow {
    pub id: i64,
    pub payee_id: i64,
    pub payee_name: String,
    pub plan_key: String,
    pub period: String,
    pub amount: String,
    pub currency: String,
    pub reason_code: String,
    pub note: String,
    pub opportunity_id: Option<i64>,
    /// pending or approved.
    pub status: String,
    pub requested_by: Option<i64>,
    pub requested_by_name: Option<String>,
    pub approved_by: Option<i64>,
    pub approved_by_name: Option<String>,
    /// The dispute it settles, if any.
    pub dispute_id: Option<i64>,
}

/// A statement line with what a dispute needs to know about it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LineRef {
    pub line_id: i64,
    pub statement_id: i64,
    pub payee_id: i64,
    pub run_id: i64,
    /// The period the line is paid in.
    pub period: String,
    pub plan_key: String,
    pub currency: String,
    pub amount: String,
    pub rule: String,
    pub sentence: String,
    pub opportunity_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DisputeEventRow {
    pub at: jiff::Timestamp,
    pub actor: Option<String>,
    /// The status the step moved the dispute to (`open` for the opening text).
    pub status: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DisputeRow {
    pub id: i64,
    pub line_id: i64,
    pub payee_id: i64,
    pub payee_name: String,
    pub period: String,
    /// open, in_review, accepted or rejected.
    pub status: String,
    pub adjustment_id: Option<i64>,
    pub opened_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
    pub line_rule: String,
    pub line_amount: String,
    pub currency: String,
    pub line_sentence: String,
    pub events: Vec<DisputeEventRow>,
}

#[derive(sqlx::FromRow)]
struct DisputeDb {
    id: i64,
    line_id: i64,
    payee_id: i64,
    payee_name: String,
    period: String,
    status: String,
    adjustment_id: Option<i64>,
    opened_at: i64,
    updated_at: i64,
    line_rule: String,
    line_amount: String,
    currency: String,
    line_sentence: String,
}

/// Which disputes to list.
#[derive(Debug, Clone, Default)]
pub struct DisputeFilter {
    pub id: Option<i64>,
    pub status: Option<String>,
    pub period: Option<String>,
    pub payee_id: Option<i64>,
    /// Only disputes that are not settled (open or in review).
    pub unresolved: bool,
}

const HOLD_SELECT: &str = "SELECT h.id, h.scope, h.opportunity_id, o.name AS opportunity_name, h.payee_id, \
     u.name AS payee_name, h.plan_key, h.reason, h.from_period, h.released_in, c.name AS created_by, h.created_at \
     FROM comp_holds h LEFT JOIN opportunities o ON o.id = h.opportunity_id LEFT JOIN users u ON u.id = h.payee_id \
     LEFT JOIN users c ON c.id = h.created_by";

const ADJUSTMENT_SELECT: &str = "SELECT a.id, a.payee_id, u.name AS payee_name, a.plan_key, a.period, a.amount, \
     a.currency, a.reason_code, a.note, a.opportunity_id, a.status, a.requested_by, r.name AS requested_by_name, \
     a.approved_by, v.name AS approved_by_name, \
     (SELECT MIN(d.id) FROM comp_disputes d WHERE d.adjustment_id = a.id) AS dispute_id \
     FROM comp_adjustments a JOIN users u ON u.id = a.payee_id LEFT JOIN users r ON r.id = a.requested_by \
     LEFT JOIN users v ON v.id = a.approved_by";

const ADJUSTMENT_INSERT: &str = "INSERT INTO comp_adjustments (payee_id, plan_key, period, amount, currency, \
     reason_code, note, opportunity_id, status, requested_by, requested_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10) RETURNING id";

fn hold_row(r: HoldDb) -> Result<HoldRow> {
    Ok(HoldRow {
        id: r.id,
        scope: r.scope,
        opportunity_id: r.opportunity_id,
        opportunity_name: r.opportunity_name,
        payee_id: r.payee_id,
        payee_name: r.payee_name,
        plan_key: r.plan_key,
        reason: r.reason,
        from_period: r.from_period,
        released_in: r.released_in,
        created_by: r.created_by,
        created_at: from_micros(r.created_at)?,
    })
}

impl Store {
    /// Stores a hold.
    pub async fn comp_hold_create(&self, ctx: &AuditContext, h: &NewHold) -> Result<i64> {
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO comp_holds (scope, opportunity_id, payee_id, plan_key, reason, from_period, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(&h.scope).bind(h.opportunity_id).bind(h.payee_id).bind(&h.plan_key).bind(&h.reason)
                .bind(&h.from_period).bind(ctx.actor_user_id.map(|u| u.0)).bind(micros(ctx.at))
                .fetch_one(&mut *tx).await?;
            audit!(tx, ctx, "create", "comp_hold", Some(id.to_string()), None::<&NewHold>, Some(h));
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Releases a hold in `period` (its held lines are paid in that period's calculation).
    /// Refused when it was released already.
    pub async fn comp_hold_release(&self, ctx: &AuditContext, id: i64, period: &str) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let found: Option<(Option<String>,)> = sqlx::query_as("SELECT released_in FROM comp_holds WHERE id = $1")
                .bind(id).fetch_optional(&mut *tx).await?;
            match found {
                None => return Err(StoreError::NotFound),
                Some((Some(done),)) => return Err(StoreError::Refused(format!("hold {id} was released in {done} already"))),
                Some((None,)) => {}
            }
            sqlx::query("UPDATE comp_holds SET released_in = $1, released_by = $2, released_at = $3 WHERE id = $4")
                .bind(period).bind(ctx.actor_user_id.map(|u| u.0)).bind(micros(ctx.at)).bind(id)
                .execute(&mut *tx).await?;
            audit!(tx, ctx, "released", "comp_hold", Some(id.to_string()),
                Some(serde_json::json!({"released_in": null})), Some(serde_json::json!({"released_in": period})));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every hold, newest first.
    pub async fn comp_holds(&self) -> Result<Vec<HoldRow>> {
        let sql = format!("{HOLD_SELECT} ORDER BY h.id DESC");
        let rows: Vec<HoldDb> = dispatch!(self, p => sqlx::query_as(&sql).fetch_all(p).await?);
        rows.into_iter().map(hold_row).collect()
    }

    pub async fn comp_hold(&self, id: i64) -> Result<HoldRow> {
        let sql = format!("{HOLD_SELECT} WHERE h.id = $1");
        let row: Option<HoldDb> = dispatch!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        hold_row(row.ok_or(StoreError::NotFound)?)
    }

    /// Stores an adjustment awaiting approval.
    pub async fn comp_adjustment_create(&self, ctx: &AuditContext, a: &NewAdjustment) -> Result<i64> {
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = sqlx::query_scalar(ADJUSTMENT_INSERT)
                .bind(a.payee_id).bind(&a.plan_key).bind(&a.period).bind(&a.amount).bind(&a.currency)
                .bind(&a.reason_code).bind(&a.note).bind(a.opportunity_id).bind(ctx.actor_user_id.map(|u| u.0))
                .bind(micros(ctx.at)).fetch_one(&mut *tx).await?;
            audit!(tx, ctx, "create", "comp_adjustment", Some(id.to_string()), None::<&NewAdjustment>, Some(a));
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Approves a pending adjustment (the caller checked who may approve).
    pub async fn comp_adjustment_approve(&self, ctx: &AuditContext, id: i64) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let n = sqlx::query("UPDATE comp_adjustments SET status = 'approved', approved_by = $1, approved_at = $2 \
                 WHERE id = $3 AND status = 'pending'")
                .bind(ctx.actor_user_id.map(|u| u.0)).bind(micros(ctx.at)).bind(id).execute(&mut *tx).await?
                .rows_affected();
            if n != 1 {
                return Err(StoreError::Refused(format!("adjustment {id} is not awaiting approval")));
            }
            audit!(tx, ctx, "approved", "comp_adjustment", Some(id.to_string()),
                Some(serde_json::json!({"status": "pending"})), Some(serde_json::json!({"status": "approved"})));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Adjustments, oldest first; optionally only one status, period or payee.
    pub async fn comp_adjustments(
        &self,
        status: Option<&str>,
        period: Option<&str>,
        payee: Option<i64>,
    ) -> Result<Vec<AdjustmentRow>> {
        let mut w = Where::default();
        if let Some(s) = status {
            let p = w.arg(Arg::Text(s.into()));
            w.push(format!("a.status = {p}"));
        }
        if let Some(s) = period {
            let p = w.arg(Arg::Text(s.into()));
            w.push(format!("a.period = {p}"));
        }
        if let Some(id) = payee {
            let p = w.arg(Arg::I64(id));
            w.push(format!("a.payee_id = {p}"));
        }
        let sql = format!("{ADJUSTMENT_SELECT} WHERE {} ORDER BY a.id", w.sql());
        let rows: Vec<AdjustmentRow> =
            dispatch!(self, p => bind_all!(sqlx::query_as(&sql), w.args).fetch_all(p).await?);
        Ok(rows)
    }

    pub async fn comp_adjustment(&self, id: i64) -> Result<AdjustmentRow> {
        let sql = format!("{ADJUSTMENT_SELECT} WHERE a.id = $1");
        let row: Option<AdjustmentRow> = dispatch!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        row.ok_or(StoreError::NotFound)
    }

    /// A statement line with its payee, run, period and plan; `viewer` decides visibility (an
    /// invisible line is not found).
    pub async fn comp_line_ref(&self, viewer: &Viewer, line_id: i64) -> Result<LineRef> {
        let mut w = Where::default();
        let p = w.arg(Arg::I64(line_id));
        w.push(format!("l.id = {p}"));
        w.visible("s.payee_id", viewer);
        let sql = format!(
            "SELECT l.id AS line_id, s.id AS statement_id, s.payee_id, r.id AS run_id, r.period, v.plan_key, s.currency, \
             l.amount, l.rule, l.sentence, l.opportunity_id FROM comp_lines l JOIN comp_statements s ON s.id = l.statement_id \
             JOIN comp_runs r ON r.id = s.run_id JOIN comp_plan_versions v ON v.id = r.plan_version_id WHERE {}",
            w.sql()
        );
        let row: Option<LineRef> =
            dispatch!(self, p => bind_all!(sqlx::query_as(&sql), w.args).fetch_optional(p).await?);
        row.ok_or(StoreError::NotFound)
    }

    /// Opens a dispute on a line with the payee's text. Refused while another dispute on the
    /// same line is not settled.
    pub async fn comp_dispute_open(&self, ctx: &AuditContext, line: &LineRef, text: &str) -> Result<i64> {
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let busy: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM comp_disputes WHERE line_id = $1 AND status IN ('open', 'in_review')")
                .bind(line.line_id).fetch_optional(&mut *tx).await?;
            if let Some(other) = busy {
                return Err(StoreError::Conflict(format!("dispute {other} on this line is still open")));
            }
            let at = micros(ctx.at);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO comp_disputes (line_id, payee_id, period, status, opened_at, updated_at) \
                 VALUES ($1, $2, $3, 'open', $4, $4) RETURNING id")
                .bind(line.line_id).bind(line.payee_id).bind(&line.period).bind(at).fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO comp_dispute_events (dispute_id, at, actor_id, status, note) VALUES ($1, $2, $3, 'open', $4)")
                .bind(id).bind(at).bind(ctx.actor_user_id.map(|u| u.0)).bind(text).execute(&mut *tx).await?;
            let after = serde_json::json!({"line_id": line.line_id, "payee_id": line.payee_id, "period": line.period, "text": text});
            audit!(tx, ctx, "create", "comp_dispute", Some(id.to_string()), None::<&serde_json::Value>, Some(&after));
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Moves a dispute from one of `from` to `to` with a note; for `accepted`, creates the
    /// linked adjustment (pending approval) in the same transaction and returns its id.
    pub async fn comp_dispute_move(
        &self,
        ctx: &AuditContext,
        id: i64,
        from: &[&str],
        to: &str,
        note: &str,
        adjustment: Option<&NewAdjustment>,
    ) -> Result<Option<i64>> {
        let made = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let now: Option<String> = sqlx::query_scalar("SELECT status FROM comp_disputes WHERE id = $1")
                .bind(id).fetch_optional(&mut *tx).await?;
            let now = now.ok_or(StoreError::NotFound)?;
            if !from.contains(&now.as_str()) {
                return Err(StoreError::Refused(format!("dispute {id} is {now}: it cannot move to {to}")));
            }
            let at = micros(ctx.at);
            let mut made = None;
            if let Some(a) = adjustment {
                let aid: i64 = sqlx::query_scalar(ADJUSTMENT_INSERT)
                    .bind(a.payee_id).bind(&a.plan_key).bind(&a.period).bind(&a.amount).bind(&a.currency)
                    .bind(&a.reason_code).bind(&a.note).bind(a.opportunity_id).bind(ctx.actor_user_id.map(|u| u.0))
                    .bind(at).fetch_one(&mut *tx).await?;
                audit!(tx, ctx, "create", "comp_adjustment", Some(aid.to_string()), None::<&NewAdjustment>, Some(a));
                made = Some(aid);
            }
            sqlx::query("UPDATE comp_disputes SET status = $1, updated_at = $2, adjustment_id = COALESCE($3, adjustment_id) WHERE id = $4")
                .bind(to).bind(at).bind(made).bind(id).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO comp_dispute_events (dispute_id, at, actor_id, status, note) VALUES ($1, $2, $3, $4, $5)")
                .bind(id).bind(at).bind(ctx.actor_user_id.map(|u| u.0)).bind(to).bind(note).execute(&mut *tx).await?;
            audit!(tx, ctx, "status", "comp_dispute", Some(id.to_string()),
                Some(serde_json::json!({"status": now})),
                Some(serde_json::json!({"status": to, "note": note, "adjustment_id": made})));
            tx.commit().await?;
            made
        });
        Ok(made)
    }

    /// Disputes `viewer` may see (the payee's own, a manager's team, everybody's for
    /// `Visibility::All`), newest first, each with its thread.
    pub async fn comp_disputes(&self, viewer: &Viewer, f: &DisputeFilter) -> Result<Vec<DisputeRow>> {
        let mut w = Where::default();
        if let Some(id) = f.id {
            let p = w.arg(Arg::I64(id));
            w.push(format!("d.id = {p}"));
        }
        if let Some(s) = &f.status {
            let p = w.arg(Arg::Text(s.clone()));
            w.push(format!("d.status = {p}"));
        }
        if let Some(s) = &f.period {
            let p = w.arg(Arg::Text(s.clone()));
            w.push(format!("d.period = {p}"));
        }
        if let Some(id) = f.payee_id {
            let p = w.arg(Arg::I64(id));
            w.push(format!("d.payee_id = {p}"));
        }
        if f.unresolved {
            w.push("d.status IN ('open', 'in_review')".into());
        }
        w.visible("d.payee_id", viewer);
        let sql = format!(
            "SELECT d.id, d.line_id, d.payee_id, u.name AS payee_name, d.period, d.status, d.adjustment_id, d.opened_at, \
             d.updated_at, l.rule AS line_rule, l.amount AS line_amount, s.currency, l.sentence AS line_sentence \
             FROM comp_disputes d JOIN users u ON u.id = d.payee_id JOIN comp_lines l ON l.id = d.line_id \
             JOIN comp_statements s ON s.id = l.statement_id WHERE {} ORDER BY d.id DESC",
            w.sql()
        );
        let rows: Vec<DisputeDb> = dispatch!(self, p => bind_all!(sqlx::query_as(&sql), w.args).fetch_all(p).await?);
        let mut events: std::collections::HashMap<i64, Vec<DisputeEventRow>> = std::collections::HashMap::new();
        for chunk in rows.iter().map(|r| r.id).collect::<Vec<_>>().chunks(500) {
            // Dispute ids come from the database as integers, so inlining them is injection-safe.
            let sql = format!(
                "SELECT e.dispute_id, e.at, u.name, e.status, e.note FROM comp_dispute_events e \
                 LEFT JOIN users u ON u.id = e.actor_id WHERE e.dispute_id IN ({}) ORDER BY e.dispute_id, e.id",
                chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            );
            let found: Vec<(i64, i64, Option<String>, String, String)> =
                dispatch!(self, p => sqlx::query_as(&sql).fetch_all(p).await?);
            for (d, at, actor, status, note) in found {
                events.entry(d).or_default().push(DisputeEventRow { at: from_micros(at)?, actor, status, note });
            }
        }
        rows.into_iter()
            .map(|r| {
                Ok(DisputeRow {
                    events: events.remove(&r.id).unwrap_or_default(),
                    id: r.id,
                    line_id: r.line_id,
                    payee_id: r.payee_id,
                    payee_name: r.payee_name,
                    period: r.period,
                    status: r.status,
                    adjustment_id: r.adjustment_id,
                    opened_at: from_micros(r.opened_at)?,
                    updated_at: from_micros(r.updated_at)?,
                    line_rule: r.line_rule,
                    line_amount: r.line_amount,
                    currency: r.currency,
                    line_sentence: r.line_sentence,
                })
            })
            .collect()
    }
}
