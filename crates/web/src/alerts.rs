//! Trend alerts (A4) on the web: the `/alerts` page (your notifications, a scan of what you may
//! see, the company-wide run for ops, webhooks for administrators), the JSON API, and delivery of
//! a run: e-mail to every reader (SMTP through `lettre`) and a signed POST to every webhook.
//!
//! Webhook signature: header `X-Salesops-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is
//! HMAC-SHA256 with the webhook's secret over `<t>.<body>`. Receivers recompute it and reject
//! old timestamps.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::ApiResult;
use crate::auth::{ApiAuth, FormAuth, PageAuth};
use crate::error::ErrorBody;
use crate::extract::{ApiId, ApiJson, ApiQuery};
use crate::i18n::Tr;
use crate::pages::{OrPage, PageError, PageResult, render, see_other, shell, url_encode};
use crate::pages_kpi::kpi_label;
use app::kpi_engine::Kpi;
use app::{AlertNotice, AlertReport, AlertView, AppError, Principal, parse_as_of};
use model::{Permission, Role};

/// Where e-mail goes out: an SMTP relay (no TLS and no authentication yet; put a local relay
/// such as Postfix in front for the outside world).
#[derive(Debug, Clone)]
pub struct Mailer {
    pub host: String,
    pub port: u16,
    pub from: String,
}

impl Mailer {
    /// Parses `smtp://host[:port]` (port 25 by default) and a sender address.
    pub fn parse(url: &str, from: &str) -> Result<Mailer, String> {
        let rest = url.strip_prefix("smtp://").ok_or_else(|| format!("'{url}': use smtp://host:port"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| format!("'{url}': bad port"))?),
            None => (rest, 25),
        };
        if host.is_empty() || host.contains('@') {
            return Err(format!("'{url}': use smtp://host:port (authentication is not supported)"));
        }
        from.parse::<lettre::message::Mailbox>().map_err(|e| format!("'{from}': {e}"))?;
        Ok(Mailer { host: host.to_string(), port, from: from.to_string() })
    }
}

/// What a delivery did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, ToSchema)]
pub struct Delivery {
    pub emails_sent: usize,
    pub email_errors: usize,
    pub webhooks_delivered: usize,
    pub webhook_errors: usize,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The signature header value for `body` sent at `t` (unix seconds).
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex(&mac.finalize().into_bytes()))
}

fn percent(t: &Tr, share: f64) -> String {
    let d = rust_decimal::Decimal::from_f64_retain(share * 100.0).unwrap_or_default();
    format!("{} %", model::format_decimal(t.locale, d, 1))
}

/// A rate in the alert's unit: a share as percent, a count per day.
fn rate(t: &Tr, a: &AlertView, r: f64) -> String {
    if a.unit == "share" {
        percent(t, r)
    } else {
        let d = rust_decimal::Decimal::from_f64_retain(r).unwrap_or_default();
        t.t1("alert-per-day", "n", model::format_decimal(t.locale, d, 1))
    }
}

fn scope(t: &Tr, a: &AlertView) -> String {
    match a.level.as_str() {
        "company" => t.t("alert-scope-company"),
        "region" => t.t1("alert-scope-region", "name", &a.scope_name),
        _ => t.t1("alert-scope-rep", "name", &a.scope_name),
    }
}

/// The alert as a sentence in the reader's language.
pub fn sentence(t: &Tr, n: &AlertNotice) -> String {
    let a = &n.alert;
    let kpi = Kpi::parse(&a.kpi).map(|k| kpi_label(t, k)).unwrap_or_else(|| a.kpi.clone());
    let key = if a.worse { "alert-worse" } else { "alert-better" };
    let mut s = t.targs(
        key,
        &[
            ("kpi", kpi),
            ("scope", scope(t, a)),
            ("recent", rate(t, a, a.recent_rate)),
            ("baseline", rate(t, a, a.baseline_rate)),
            ("from", t.date(n.recent_from)),
            ("to", t.date(n.recent_to)),
        ],
    );
    if !a.drivers.is_empty() {
        s.push(' ');
        s.push_str(&t.t1("alert-drivers", "names", drivers(t, a)));
    }
    s
}

/// Delivers a stored run: e-mails its notifications not sent yet (when a mailer is configured)
/// and posts the run to every active webhook. Failures are logged and counted, never fatal: the
/// notifications are in the app either way.
pub async fn deliver(state: &AppState, run_id: i64) -> Result<Delivery, AppError> {
    let mut out = Delivery::default();
    if let Some(mailer) = &state.mailer {
        send_mails(state, mailer, run_id, &mut out).await?;
    }
    let hooks: Vec<store::WebhookRow> = state.app.store.webhooks().await?.into_iter().filter(|w| w.active).collect();
    if !hooks.is_empty() {
        let report = state.app.alert_run_report(run_id).await?;
        let body =
            serde_json::to_vec(&serde_json::json!({"event": "trend_alerts", "run_id": run_id, "report": report}))
                .map_err(|e| AppError::Internal(e.to_string()))?;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        for hook in hooks {
            let now = state.app.now();
            let sig = signature(&hook.secret, now.as_second(), &body);
            let sent = client
                .post(&hook.url)
                .header("Content-Type", "application/json")
                .header("X-Salesops-Event", "trend_alerts")
                .header("X-Salesops-Signature", sig)
                .body(body.clone())
                .send()
                .await;
            let status = match sent {
                Ok(r) if r.status().is_success() => {
                    out.webhooks_delivered += 1;
                    r.status().as_u16().to_string()
                }
                Ok(r) => {
                    out.webhook_errors += 1;
                    r.status().as_u16().to_string()
                }
                Err(e) => {
                    out.webhook_errors += 1;
                    tracing::warn!(webhook = hook.id, error = %e, "webhook delivery failed");
                    format!("error: {e}")
                }
            };
            state.app.store.webhook_delivered(hook.id, &status, state.app.now()).await?;
        }
    }
    Ok(out)
}

async fn send_mails(state: &AppState, mailer: &Mailer, run_id: i64, out: &mut Delivery) -> Result<(), AppError> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let pending = state.app.store.alert_mail_pending(run_id).await?;
    if pending.is_empty() {
        return Ok(());
    }
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&mailer.host).port(mailer.port).build();
    // One mail per reader with all their alerts of the run.
    let mut by_reader: Vec<(store::PendingMail, Vec<(i64, AlertNotice)>)> = Vec::new();
    for m in pending {
        let notice: AlertNotice = serde_json::from_str(&m.data).map_err(|e| AppError::Internal(e.to_string()))?;
        match by_reader.last_mut() {
            Some((r, list)) if r.email == m.email => list.push((m.notification_id, notice)),
            _ => {
                let id = m.notification_id;
                by_reader.push((m, vec![(id, notice)]));
            }
        }
    }
    by_reader.sort_by(|a, b| a.0.email.cmp(&b.0.email));
    for (reader, notices) in by_reader {
        let locale = model::Locale::parse(&reader.locale).unwrap_or(model::Locale::En);
        let zone = model::TimeZoneName::parse(&reader.time_zone).unwrap_or_else(|_| model::TimeZoneName::utc());
        let t = Tr::new(locale, zone);
        let as_of = notices[0].1.as_of;
        let subject = t.targs("alert-mail-subject", &[("count", notices.len().to_string()), ("date", t.date(as_of))]);
        let mut text = t.t1("alert-mail-greeting", "name", &reader.name);
        text.push_str("\n\n");
        for (_, n) in &notices {
            text.push_str("- ");
            text.push_str(&sentence(&t, n));
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&t.t("alert-mail-footer"));
        text.push('\n');
        let message = (|| -> Result<Message, String> {
            Message::builder()
                .from(mailer.from.parse().map_err(|e| format!("{e}"))?)
                .to(format!("{} <{}>", reader.name.replace(['<', '>', '"'], ""), reader.email)
                    .parse()
                    .map_err(|e| format!("{e}"))?)
                .subject(subject)
                .body(text)
                .map_err(|e| e.to_string())
        })();
        let sent = match message {
            Ok(m) => transport.send(m).await.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => {
                out.emails_sent += 1;
                for (id, _) in &notices {
                    state.app.store.notification_emailed(*id, state.app.now()).await?;
                }
            }
            Err(e) => {
                out.email_errors += 1;
                tracing::warn!(to = %reader.email, error = %e, "alert e-mail failed");
            }
        }
    }
    Ok(())
}

/// The scheduler's daily step, called every few minutes by the process holding the housekeeping
/// lock: once the company's day has begun past `hour`, runs today's scan (if not run yet) and
/// delivers it.
pub async fn daily(state: &AppState, hour: i8) -> Result<Option<(i64, Delivery)>, AppError> {
    let today = state.app.alerts_today().await?;
    let zone_hour = state.app.alerts_local_hour().await?;
    if zone_hour < hour {
        return Ok(None);
    }
    let outcome = state.app.alerts_run(None, Some(today)).await?;
    if !outcome.created {
        return Ok(None);
    }
    let delivery = deliver(state, outcome.run_id).await?;
    Ok(Some((outcome.run_id, delivery)))
}

// ---------------------------------------------------------------------------------------------
// API

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ScanQuery {
    /// The day after the recent window (default: today in the company's time zone).
    pub as_of: Option<String>,
}

fn as_of(text: Option<&str>) -> Result<Option<jiff::civil::Date>, AppError> {
    text.map(str::trim).filter(|s| !s.is_empty()).map(parse_as_of).transpose()
}

/// The trend scan over the records the caller may see: the last 7 days against the 8 weeks
/// before, company, region and rep series tested together (false discovery rate 5 %). Writes
/// nothing.
#[utoipa::path(get, path = "/api/v1/alerts/scan", tag = "kpis", params(ScanQuery),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
pub async fn api_scan(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<ScanQuery>,
) -> ApiResult<axum::Json<AlertReport>> {
    Ok(axum::Json(s.app.alerts_scan(&p, as_of(q.as_of.as_deref())?).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// Default: today in the company's time zone.
    pub as_of: Option<String>,
}

/// Runs the company-wide scan for a date (head of ops, sales-ops managers, administrators),
/// stores one notification per alert and reader and delivers them (e-mail, webhooks). Running a
/// date again changes nothing (`created: false`).
#[utoipa::path(post, path = "/api/v1/alerts/run", tag = "kpis", request_body = RunBody,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_run(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<RunBody>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let outcome = s.app.alerts_run(Some(&p), as_of(b.as_of.as_deref())?).await?;
    let delivery = if outcome.created { deliver(&s, outcome.run_id).await? } else { Delivery::default() };
    Ok(axum::Json(serde_json::json!({
        "run_id": outcome.run_id,
        "created": outcome.created,
        "notifications": outcome.notifications,
        "report": outcome.report,
        "delivery": delivery,
    })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// At most this many, newest first (default 50, at most 500).
    pub limit: Option<i64>,
}

/// Your notifications, newest first, each with its sentence in your language.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "kpis", params(NotificationQuery),
    responses((status = 200, body = Object)))]
pub async fn api_notifications(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let (rows, unread) = s.app.notifications(&p, q.limit.unwrap_or(50)).await?;
    let t = crate::pages::tr_of(&p);
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id, "created_at": r.created_at, "read": r.read,
                "text": sentence(&t, &r.notice), "alert": r.notice.alert, "as_of": r.notice.as_of,
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({"unread": unread, "items": items})))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// One notification; none: all of yours.
    pub id: Option<i64>,
}

/// Marks one of your notifications (or all) read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "kpis", request_body = ReadBody,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn api_notifications_read(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<ReadBody>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let n = s.app.notifications_read(&p, b.id).await?;
    Ok(axum::Json(serde_json::json!({"marked": n})))
}

/// Webhooks (administrators); secrets are never shown again.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "kpis",
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn api_webhooks(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult<axum::Json<serde_json::Value>> {
    let hooks = s.app.webhooks(&p).await?;
    Ok(axum::Json(serde_json::json!(
        hooks
            .iter()
            .map(|w| serde_json::json!({
                "id": w.id, "url": w.url, "active": w.active, "created_at": w.created_at,
                "last_status": w.last_status, "last_at": w.last_at,
            }))
            .collect::<Vec<_>>()
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    pub url: String,
    /// At least 16 characters; signs every delivery (HMAC-SHA256).
    pub secret: String,
}

/// Adds a webhook (administrators).
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "kpis", request_body = WebhookBody,
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_webhook_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<WebhookBody>,
) -> ApiResult<Response> {
    let id = s.app.webhook_create(&p, &b.url, &b.secret).await?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(serde_json::json!({"id": id}))).into_response())
}

/// Removes a webhook (administrators).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "kpis", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn api_webhook_delete(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<Response> {
    s.app.webhook_delete(&p, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------------------------------------
// Page

#[derive(Deserialize, Default)]
pub struct PageQuery {
    pub as_of: Option<String>,
    pub done: Option<String>,
    pub error: Option<String>,
}

struct NoticeView {
    id: i64,
    when: String,
    read: bool,
    worse: bool,
    text: String,
}

struct AlertRowView {
    kpi: String,
    scope: String,
    baseline: String,
    recent: String,
    worse: bool,
    p_value: String,
    drivers: String,
}

struct HookView {
    id: i64,
    url: String,
    last: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    shell: crate::pages::Shell,
    unread: i64,
    notices: Vec<NoticeView>,
    as_of: String,
    error: Option<String>,
    done: Option<String>,
    windows: String,
    tested: String,
    rows: Vec<AlertRowView>,
    can_run: bool,
    hooks: Option<Vec<HookView>>,
}

fn can_run(p: &Principal) -> bool {
    p.can(Permission::AdministerOrganisation) || matches!(p.role(), Role::HeadOfCommercialOps | Role::SalesOpsManager)
}

pub async fn page(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<PageQuery>) -> PageResult {
    let sh = shell(&p, "alerts");
    let t = sh.t.clone();
    let (rows, unread) = state.app.notifications(&p, 100).await.or_page(&p)?;
    let notices = rows
        .iter()
        .map(|r| NoticeView {
            id: r.id,
            when: t.date(r.notice.as_of),
            read: r.read,
            worse: r.notice.alert.worse,
            text: sentence(&t, &r.notice),
        })
        .collect();
    let mut error = q.error.clone();
    let date = match as_of(q.as_of.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            error = Some(crate::pages_admin::error_text(&e));
            None
        }
    };
    let report = if error.is_none() { Some(state.app.alerts_scan(&p, date).await.or_page(&p)?) } else { None };
    let (windows, tested, alert_rows, as_of_text) = match &report {
        Some(r) => (
            t.targs(
                "alert-windows",
                &[
                    ("from", t.date(r.recent_from)),
                    ("to", t.date(r.recent_to)),
                    ("bfrom", t.date(r.baseline_from)),
                    ("bto", t.date(r.baseline_to)),
                ],
            ),
            t.targs("alert-tested", &[("count", r.tested.to_string()), ("untested", r.untested.to_string())]),
            r.alerts
                .iter()
                .map(|a| AlertRowView {
                    kpi: Kpi::parse(&a.kpi).map(|k| kpi_label(&t, k)).unwrap_or_else(|| a.kpi.clone()),
                    scope: scope(&t, a),
                    baseline: rate(&t, a, a.baseline_rate),
                    recent: rate(&t, a, a.recent_rate),
                    worse: a.worse,
                    p_value: if a.p_value < 0.0001 { "< 0.0001".into() } else { format!("{:.4}", a.p_value) },
                    drivers: drivers(&t, a),
                })
                .collect(),
            r.as_of.to_string(),
        ),
        None => (String::new(), String::new(), Vec::new(), q.as_of.clone().unwrap_or_default()),
    };
    let hooks = if p.can(Permission::AdministerOrganisation) {
        Some(
            state
                .app
                .webhooks(&p)
                .await
                .or_page(&p)?
                .into_iter()
                .map(|w| HookView {
                    id: w.id,
                    url: w.url,
                    last: match (w.last_status, w.last_at) {
                        (Some(s), Some(at)) => format!("{s} · {}", t.ts(at)),
                        _ => t.t("alert-webhook-never"),
                    },
                })
                .collect(),
        )
    } else {
        None
    };
    let done = q.done.as_deref().map(|d| match d {
        "read" => t.t("alert-flash-read"),
        "hook" => t.t("flash-saved"),
        n => t.t1("alert-flash-run", "count", n),
    });
    Ok(render(&AlertsPage {
        can_run: can_run(&p),
        shell: sh,
        unread,
        notices,
        as_of: as_of_text,
        error,
        done,
        windows,
        tested,
        rows: alert_rows,
        hooks,
    }))
}

/// The drivers of a share change with their effect in percentage points: "Ann (-4.2 pp), Bo (-1.0 pp)".
fn drivers(t: &Tr, a: &AlertView) -> String {
    a.drivers
        .iter()
        .map(|d| {
            let pp = rust_decimal::Decimal::from_f64_retain((d.mix + d.rate) * 100.0).unwrap_or_default();
            format!("{} ({} pp)", d.name, model::format_decimal(t.locale, pp, 1))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The page's forms: `read` (one id or all), `run` (ops), `hook_add` / `hook_delete` (admins).
pub async fn page_action(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let result: Result<String, AppError> = match f.get("action") {
        "read" => match f.id("id") {
            Ok(id) => state.app.notifications_read(p, id).await.map(|_| "done=read".to_string()),
            Err(e) => Err(e),
        },
        "run" => match as_of(Some(f.get("as_of"))) {
            Ok(d) => match state.app.alerts_run(Some(p), d).await {
                Ok(o) => {
                    if o.created {
                        deliver(&state, o.run_id).await.map_err(|e| PageError::new(e, Some(p)))?;
                    }
                    Ok(format!("done={}&as_of={}", o.notifications, o.report.as_of))
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        "hook_add" => state.app.webhook_create(p, f.get("url"), f.get("secret")).await.map(|_| "done=hook".into()),
        "hook_delete" => match f.id("id") {
            Ok(Some(id)) => state.app.webhook_delete(p, id).await.map(|_| "done=hook".into()),
            Ok(None) => Err(AppError::invalid("id", "which webhook")),
            Err(e) => Err(e),
        },
        _ => Err(AppError::invalid("action", "unknown action")),
    };
    match result {
        Ok(q) => Ok(see_other(&format!("/alerts?{q}"))),
        Err(e @ (AppError::Invalid { .. } | AppError::Refused(_) | AppError::Conflict(_))) => {
            Ok(see_other(&format!("/alerts?error={}", url_encode(&crate::pages_admin::error_text(&e)))))
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}
