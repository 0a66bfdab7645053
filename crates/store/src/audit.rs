//! The append-only audit log: every user-initiated write inserts one entry in the same
//! transaction. Triggers in both schemas refuse UPDATE and DELETE on the table.

use jiff::Timestamp;
use serde::Serialize;

use crate::{Arg, Page, Result, Store, Where, bind_all, count_sql, dispatch, fetch_page, from_micros, micros};

/// Who is writing, from where, and when ("now" comes from the caller's clock).
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub actor_user_id: Option<model::UserId>,
    pub actor_token_id: Option<model::ApiTokenId>,
    pub ip: Option<String>,
    pub at: Timestamp,
}

impl AuditContext {
    /// Writes done by the system itself (demo loading, CLI administration).
    pub fn system(at: Timestamp) -> AuditContext {
        AuditContext { actor_user_id: None, actor_token_id: None, ip: None, at }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor_user_id: Option<i64>,
    pub actor_name: Option<String>,
    pub actor_token_id: Option<i64>,
    pub ip: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_user_id: Option<i64>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Count every match instead of stopping at [`crate::COUNT_CAP`].
    pub exact_count: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: i64,
    actor_user_id: Option<i64>,
    actor_name: Option<String>,
    actor_token_id: Option<i64>,
    ip: Option<String>,
    action: String,
    entity: String,
    entity_id: Option<String>,
    before_json: Option<String>,
    after_json: Option<String>,
}

/// Inserts one audit entry on an open transaction `$tx`.
macro_rules! audit {
    ($tx:expr, $ctx:expr, $action:expr, $entity:expr, $entity_id:expr, $before:expr, $after:expr) => {{
        let before: Option<String> = $before.map(|v| serde_json::to_string(&v).unwrap_or_default());
        let after: Option<String> = $after.map(|v| serde_json::to_string(&v).unwrap_or_default());
        sqlx::query(
            "INSERT INTO audit_log (at, actor_user_id, actor_token_id, ip, action, entity, entity_id, before_json, after_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind($ctx.at.as_microsecond())
        .bind($ctx.actor_user_id.map(|u| u.0))
        .bind($ctx.actor_token_id.map(|t| t.0))
        .bind($ctx.ip.clone())
        .bind($action)
        .bind($entity)
        .bind($entity_id)
        .bind(before)
        .bind(after)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use audit;

impl Store {
    pub async fn audit_list(&self, f: &AuditFilter, limit: i64, offset: i64) -> Result<Page<AuditEntry>> {
        let mut w = Where::default();
        if let Some(a) = f.actor_user_id {
            let p = w.arg(Arg::I64(a));
            w.push(format!("a.actor_user_id = {p}"));
        }
        if let Some(e) = &f.entity {
            let p = w.arg(Arg::Text(e.clone()));
            w.push(format!("a.entity = {p}"));
        }
        if let Some(e) = &f.entity_id {
            let p = w.arg(Arg::Text(e.clone()));
            w.push(format!("a.entity_id = {p}"));
        }
        if let Some(e) = &f.action {
            let p = w.arg(Arg::Text(e.clone()));
            w.push(format!("a.action = {p}"));
        }
        if let Some(t) = f.from {
            let p = w.arg(Arg::I64(micros(t)));
            w.push(format!("a.at >= {p}"));
        }
        if let Some(t) = f.to {
            let p = w.arg(Arg::I64(micros(t)));
            w.push(format!("a.at < {p}"));
        }
        let cond = w.sql();
        let sql = format!(
            "SELECT a.id, a.at, a.actor_user_id, u.name AS actor_name, a.actor_token_id, a.ip, a.action, a.entity, \
             a.entity_id, a.before_json, a.after_json FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id \
             WHERE {cond} ORDER BY a.id DESC LIMIT {limit} OFFSET {offset}"
        );
        let count_sql = count_sql(&format!("audit_log a WHERE {cond}"), f.exact_count);
        let (rows, counted): (Vec<Row>, i64) = fetch_page!(self, Row, &sql, &count_sql, w.args);
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.id,
                    at: from_micros(r.at)?,
                    actor_user_id: r.actor_user_id,
                    actor_name: r.actor_name,
                    actor_token_id: r.actor_token_id,
                    ip: r.ip,
                    action: r.action,
                    entity: r.entity,
                    entity_id: r.entity_id,
                    before: parse(r.before_json),
                    after: parse(r.after_json),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::new(items, counted, f.exact_count, limit, offset))
    }

    /// Appends an entry that is not tied to a record change (sign-in, sign-out, export).
    pub async fn audit_event(
        &self,
        ctx: &AuditContext,
        action: &str,
        entity: &str,
        entity_id: Option<String>,
    ) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            audit!(tx, ctx, action, entity, entity_id, None::<serde_json::Value>, None::<serde_json::Value>);
            tx.commit().await?;
        });
        Ok(())
    }
}
