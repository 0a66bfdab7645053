//! Trend alerts (A4): one stored run per as-of date, the notifications it created for each
//! reader, and the webhooks that receive every run.

use jiff::Timestamp;

use crate::audit::audit;
use crate::{AuditContext, Result, Store, StoreError, dispatch, from_micros, micros};

/// A stored scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRunRow {
    pub id: i64,
    /// `YYYY-MM-DD`.
    pub as_of: String,
    pub ran_at: Timestamp,
    pub tested: i64,
    pub alert_count: i64,
    /// The labelled scan as JSON.
    pub report: String,
}

/// One notification for one reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRow {
    pub id: i64,
    pub user_id: i64,
    pub alert_run_id: Option<i64>,
    pub created_at: Timestamp,
    pub kind: String,
    pub data: String,
    pub read_at: Option<Timestamp>,
    pub emailed_at: Option<Timestamp>,
}

/// A notification still to be e-mailed, with what the mail needs about its reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMail {
    pub notification_id: i64,
    pub email: String,
    pub name: String,
    pub locale: String,
    pub time_zone: String,
    pub data: String,
}

/// A webhook target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub last_status: Option<String>,
    pub last_at: Option<Timestamp>,
}

type RunTuple = (i64, String, i64, i64, i64, String);
type NotificationTuple = (i64, i64, Option<i64>, i64, String, String, Option<i64>, Option<i64>);
type WebhookTuple = (i64, String, String, bool, i64, Option<String>, Option<i64>);

fn run_row(r: RunTuple) -> Result<AlertRunRow> {
    Ok(AlertRunRow { id: r.0, as_of: r.1, ran_at: from_micros(r.2)?, tested: r.3, alert_count: r.4, report: r.5 })
}

fn notification_row(r: NotificationTuple) -> Result<NotificationRow> {
    Ok(NotificationRow {
        id: r.0,
        user_id: r.1,
        alert_run_id: r.2,
        created_at: from_micros(r.3)?,
        kind: r.4,
        data: r.5,
        read_at: r.6.map(from_micros).transpose()?,
        emailed_at: r.7.map(from_micros).transpose()?,
    })
}

fn webhook_row(r: WebhookTuple) -> Result<WebhookRow> {
    Ok(WebhookRow {
        id: r.0,
        url: r.1,
        secret: r.2,
        active: r.3,
        created_at: from_micros(r.4)?,
        last_status: r.5,
        last_at: r.6.map(from_micros).transpose()?,
    })
}

const RUN_COLUMNS: &str = "id, as_of, ran_at, tested, alert_count, report";
const NOTIFICATION_COLUMNS: &str = "id, user_id, alert_run_id, created_at, kind, data, read_at, emailed_at";

impl Store {
    /// Stores a run and its notifications (`(reader, data)`) in one transaction, audited. When a
    /// run for `as_of` exists already, nothing is written and its id is returned with `false`.
    pub async fn alert_run_save(
        &self,
        ctx: &AuditContext,
        as_of: &str,
        tested: i64,
        alert_count: i64,
        report: &str,
        notifications: &[(i64, String)],
    ) -> Result<(i64, bool)> {
        let out = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM alert_runs WHERE as_of = $1")
                .bind(as_of).fetch_optional(&mut *tx).await?;
            if let Some(id) = existing {
                tx.rollback().await?;
                (id, false)
            } else {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO alert_runs (as_of, ran_at, tested, alert_count, report) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(as_of).bind(micros(ctx.at)).bind(tested).bind(alert_count).bind(report)
                    .fetch_one(&mut *tx).await?;
                for (user, data) in notifications {
                    sqlx::query(
                        "INSERT INTO notifications (user_id, alert_run_id, created_at, kind, data) VALUES ($1, $2, $3, 'trend_alert', $4)")
                        .bind(*user).bind(id).bind(micros(ctx.at)).bind(data).execute(&mut *tx).await?;
                }
                let after = serde_json::json!({
                    "as_of": as_of, "tested": tested, "alerts": alert_count, "notifications": notifications.len()
                });
                audit!(tx, ctx, "create", "alert_run", Some(id.to_string()), None::<&serde_json::Value>, Some(&after));
                tx.commit().await?;
                (id, true)
            }
        });
        Ok(out)
    }

    pub async fn alert_run(&self, id: i64) -> Result<AlertRunRow> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM alert_runs WHERE id = $1");
        let row: Option<RunTuple> = dispatch!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        run_row(row.ok_or(StoreError::NotFound)?)
    }

    /// The most recent runs, newest as-of date first.
    pub async fn alert_runs(&self, limit: i64) -> Result<Vec<AlertRunRow>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM alert_runs ORDER BY as_of DESC LIMIT $1");
        let rows: Vec<RunTuple> = dispatch!(self, p => sqlx::query_as(&sql).bind(limit).fetch_all(p).await?);
        rows.into_iter().map(run_row).collect()
    }

    /// A reader's notifications, newest first.
    pub async fn notifications(&self, user: i64, limit: i64) -> Result<Vec<NotificationRow>> {
        let sql =
            format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2");
        let rows: Vec<NotificationTuple> =
            dispatch!(self, p => sqlx::query_as(&sql).bind(user).bind(limit).fetch_all(p).await?);
        rows.into_iter().map(notification_row).collect()
    }

    pub async fn notifications_unread(&self, user: i64) -> Result<i64> {
        Ok(dispatch!(self, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
            .bind(user).fetch_one(p).await?))
    }

    /// Marks one of the reader's notifications read (`Some(id)`), or all of them; returns how many
    /// changed. Someone else's notification is not found.
    pub async fn notifications_mark_read(&self, ctx: &AuditContext, user: i64, id: Option<i64>) -> Result<u64> {
        let n = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            if let Some(id) = id {
                let owner: Option<i64> = sqlx::query_scalar("SELECT user_id FROM notifications WHERE id = $1")
                    .bind(id).fetch_optional(&mut *tx).await?;
                if owner != Some(user) {
                    tx.rollback().await?;
                    return Err(StoreError::NotFound);
                }
            }
            let done = sqlx::query(
                "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL AND ($3 = 0 OR id = $3)")
                .bind(micros(ctx.at)).bind(user).bind(id.unwrap_or(0)).execute(&mut *tx).await?.rows_affected();
            if done > 0 {
                let after = serde_json::json!({"read": done});
                let entity = id.map_or_else(|| format!("user:{user}"), |i| i.to_string());
                audit!(tx, ctx, "read", "notification", Some(entity), None::<&serde_json::Value>, Some(&after));
            }
            tx.commit().await?;
            done
        });
        Ok(n)
    }

    /// Notifications of a run that were not e-mailed yet, with their readers (active users only).
    pub async fn alert_mail_pending(&self, run: i64) -> Result<Vec<PendingMail>> {
        let rows: Vec<(i64, String, String, String, String, String)> = dispatch!(self, p => sqlx::query_as(
            "SELECT n.id, u.email, u.name, u.locale, u.time_zone, n.data FROM notifications n \
             JOIN users u ON u.id = n.user_id \
             WHERE n.alert_run_id = $1 AND n.emailed_at IS NULL AND u.active ORDER BY n.id")
            .bind(run).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(notification_id, email, name, locale, time_zone, data)| PendingMail {
                notification_id,
                email,
                name,
                locale,
                time_zone,
                data,
            })
            .collect())
    }

    /// Records that a notification went out by e-mail (delivery bookkeeping, not audited).
    pub async fn notification_emailed(&self, id: i64, at: Timestamp) -> Result<()> {
        dispatch!(self, p => sqlx::query("UPDATE notifications SET emailed_at = $2 WHERE id = $1")
            .bind(id).bind(micros(at)).execute(p).await.map(|_| ())?);
        Ok(())
    }

    pub async fn webhook_create(&self, ctx: &AuditContext, url: &str, secret: &str) -> Result<i64> {
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO webhooks (url, secret, active, created_by, created_at) VALUES ($1, $2, TRUE, $3, $4) RETURNING id")
                .bind(url).bind(secret).bind(ctx.actor_user_id.map(|u| u.0)).bind(micros(ctx.at))
                .fetch_one(&mut *tx).await?;
            // The secret never goes into the audit log.
            let after = serde_json::json!({"url": url});
            audit!(tx, ctx, "create", "webhook", Some(id.to_string()), None::<&serde_json::Value>, Some(&after));
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    pub async fn webhooks(&self) -> Result<Vec<WebhookRow>> {
        let rows: Vec<WebhookTuple> = dispatch!(self, p => sqlx::query_as(
            "SELECT id, url, secret, active, created_at, last_status, last_at FROM webhooks ORDER BY id").fetch_all(p).await?);
        rows.into_iter().map(webhook_row).collect()
    }

    pub async fn webhook_delete(&self, ctx: &AuditContext, id: i64) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let url: Option<String> = sqlx::query_scalar("SELECT url FROM webhooks WHERE id = $1")
                .bind(id).fetch_optional(&mut *tx).await?;
            let Some(url) = url else {
                tx.rollback().await?;
                return Err(StoreError::NotFound);
            };
            sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id).execute(&mut *tx).await?;
            let before = serde_json::json!({"url": url});
            audit!(tx, ctx, "delete", "webhook", Some(id.to_string()), Some(&before), None::<&serde_json::Value>);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records the outcome of the last delivery to a webhook (bookkeeping, not audited).
    pub async fn webhook_delivered(&self, id: i64, status: &str, at: Timestamp) -> Result<()> {
        dispatch!(self, p => sqlx::query("UPDATE webhooks SET last_status = $2, last_at = $3 WHERE id = $1")
            .bind(id).bind(status).bind(micros(at)).execute(p).await.map(|_| ())?);
        Ok(())
    }
}
