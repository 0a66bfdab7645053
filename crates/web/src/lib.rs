//! HTTP for salesops: the axum [`router`] with server-rendered pages, the JSON API under
//! `/api/v1` with its OpenAPI document, health and metrics endpoints, and [`serve`] with
//! graceful shutdown. Only this crate knows HTTP and JSON.

pub mod alerts;
mod api;
mod api_commerce;
mod api_comp;
mod api_comp_ops;
mod api_crm;
mod api_forecast;
mod api_forecast_calls;
mod api_kpi;
mod api_planning;
mod api_territories;
mod auth;
mod error;
mod extract;
pub mod i18n;
mod metrics;
mod pages;
mod pages_admin;
mod pages_commerce;
mod pages_comp;
mod pages_comp_ops;
mod pages_crm;
mod pages_dashboard;
mod pages_forecast;
mod pages_forecast_calls;
mod pages_import;
mod pages_kpi;
mod pages_pipeline;
mod pages_planning;
mod pages_territories;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use utoipa::OpenApi;

pub use auth::{SESSION_COOKIE, session_cookie};
pub use error::ErrorBody;
pub use metrics::Metrics;

/// Shared by every handler; holds no per-user state (that is all in the database).
#[derive(Clone)]
pub struct AppState {
    pub app: app::App,
    pub metrics: Arc<Metrics>,
    /// Read the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy: bool,
    /// Mark cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// How long the import page waits for an import before showing its job page with the
    /// progress instead.
    pub import_wait: std::time::Duration,
    /// Where alert e-mails go out; none: alerts stay in the app (and webhooks).
    pub mailer: Option<alerts::Mailer>,
}

impl AppState {
    pub fn new(app: app::App) -> AppState {
        AppState {
            app,
            metrics: Arc::new(Metrics::default()),
            trust_proxy: false,
            secure_cookies: false,
            import_wait: std::time::Duration::from_secs(2),
            mailer: None,
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "salesops API", description = "Sales & commercial operations platform. Authenticate with `Authorization: Bearer <token>` (create tokens under Settings), or with the session cookie plus an `X-CSRF-Token` header for unsafe methods. Errors are `{code, message, field?}`."),
    paths(
        api::me, api::change_password, api::tokens, api::token_create, api::token_revoke,
        api::users, api::user, api::user_create, api::user_update,
        api::teams, api::team_create, api::team_update, api::regions, api::region_create, api::region_update,
        api::currencies, api::fx_rates, api::fx_rate_set, api::reporting_currency,
        api::audit, api::accounts, api::account, api::opportunities, api::opportunities_total, api::opportunity, api::pipelines,
        api_crm::opportunity_move, api_crm::opportunity_history, api_crm::activities, api_crm::activity_create,
        api_crm::leads, api_crm::lead, api_crm::lead_create, api_crm::lead_status, api_crm::lead_convert,
        api_crm::lead_merge, api_crm::loss_reasons, api_crm::loss_reason_create, api_crm::stage_exit_criteria,
        api_crm::opportunities_export, api_crm::accounts_export, api_crm::contacts_export, api_crm::leads_export,
        api_crm::activities_export, api_crm::import, api_crm::contacts, api_crm::scorecard,
        api_crm::scorecard_set, api_crm::methodology_set,
        api_commerce::products, api_commerce::product_create, api_commerce::product_update,
        api_commerce::price_book_create, api_commerce::prices_set, api_commerce::lines, api_commerce::lines_set,
        api_commerce::quotes, api_commerce::quote, api_commerce::quote_create, api_commerce::quote_status,
        api_commerce::orders, api_commerce::order, api_commerce::order_create, api_commerce::order_step,
        api_kpi::kpis, api_kpi::drill, api_kpi::flow, api_kpi::fiscal_calendar_set,
        api_comp::plans, api_comp::plan_create, api_comp::plan_accept, api_comp::assignment_create, api_comp::run_create, api_comp::period_status, api_comp::statements, api_comp::what_if, api_comp::payroll_csv,
        api_comp_ops::holds, api_comp_ops::hold_create, api_comp_ops::hold_release, api_comp_ops::adjustments,
        api_comp_ops::adjustment_create, api_comp_ops::adjustment_approve, api_comp_ops::disputes, api_comp_ops::dispute,
        api_comp_ops::dispute_open, api_comp_ops::dispute_transition, api_comp_ops::run_compare,
        api_planning::balance, api_planning::pareto, api_planning::quotas_allocate, api_planning::capacity_plan,
        alerts::api_scan, alerts::api_run, alerts::api_notifications, alerts::api_notifications_read,
        alerts::api_webhooks, alerts::api_webhook_create, alerts::api_webhook_delete,
        api_forecast_calls::rollup, api_forecast_calls::submit, api_forecast_calls::snapshot, api_forecast_calls::snapshots,
        api_forecast_calls::waterfall, api_forecast_calls::accuracy, api_forecast_calls::settings_set,
        api_territories::versions, api_territories::version_create, api_territories::view, api_territories::scenario_create,
        api_territories::scenarios, api_territories::scenario, api_territories::scenario_compare, api_territories::scenario_accept,
        api_territories::quotas, api_territories::quotas_set,
        api_forecast::series, api_forecast::series_input, api_forecast::pipeline, api_forecast::pipeline_backtest,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "organisation"), (name = "currencies"), (name = "audit"), (name = "records"), (name = "leads"), (name = "products"), (name = "import"), (name = "kpis"), (name = "comp"), (name = "territories"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}

/// The OpenAPI 3.1 document as JSON.
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json()).into_response()
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct ApiDocsPage {
    shell: pages::Shell,
    endpoints: Vec<(String, String, String)>,
}

async fn api_docs(auth::PageAuth(p): auth::PageAuth) -> Response {
    let doc = ApiDoc::openapi();
    let mut endpoints = vec![];
    for (path, item) in doc.paths.paths.iter() {
        let ops = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (m, op) in ops {
            if let Some(op) = op {
                let summary = op.summary.clone().or_else(|| op.description.clone()).unwrap_or_default();
                endpoints.push((m.to_string(), path.clone(), summary));
            }
        }
    }
    pages::render(&ApiDocsPage { shell: pages::shell(&p, "api"), endpoints })
}

async fn healthz(State(s): State<AppState>) -> Response {
    match s.app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// Prometheus metrics; needs a token or session of a role that may read the audit log.
async fn metrics_endpoint(
    State(s): State<AppState>,
    auth::ApiAuth(p): auth::ApiAuth,
) -> Result<Response, error::ApiError> {
    p.require(model::Permission::ReadAudit)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render(s.app.store.pool_stats()))
        .into_response())
}

async fn static_css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/app.css"),
    )
        .into_response()
}

async fn static_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/app.js"),
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../static/favicon.svg"),
    )
        .into_response()
}

async fn page_not_found(auth::PageAuth(p): auth::PageAuth) -> Response {
    pages::PageError::new(app::AppError::NotFound, Some(&p)).into_response()
}

/// Security headers on every response.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("same-origin"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        ),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    }
    r
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/me", get(api::me))
        .route("/password", post(api::change_password))
        .route("/tokens", get(api::tokens).post(api::token_create))
        .route("/tokens/{id}", axum::routing::delete(api::token_revoke))
        .route("/users", get(api::users).post(api::user_create))
        .route("/users/{id}", get(api::user).patch(api::user_update))
        .route("/teams", get(api::teams).post(api::team_create))
        .route("/teams/{id}", axum::routing::patch(api::team_update))
        .route("/regions", get(api::regions).post(api::region_create))
        .route("/regions/{id}", axum::routing::patch(api::region_update))
        .route("/currencies", get(api::currencies))
        .route("/fx-rates", get(api::fx_rates).post(api::fx_rate_set))
        .route("/settings/reporting-currency", axum::routing::put(api::reporting_currency))
        .route("/audit", get(api::audit))
        .route("/accounts", get(api::accounts))
        .route("/accounts/{id}", get(api::account))
        .route("/opportunities", get(api::opportunities))
        .route("/opportunities/total", get(api::opportunities_total))
        .route("/opportunities/export", get(api_crm::opportunities_export))
        .route("/accounts/export", get(api_crm::accounts_export))
        .route("/contacts/export", get(api_crm::contacts_export))
        .route("/leads/export", get(api_crm::leads_export))
        .route("/activities/export", get(api_crm::activities_export))
        .route(
            "/import/{entity}",
            post(api_crm::import).layer(DefaultBodyLimit::max(pages_import::MAX_UPLOAD + 64 * 1024)),
        )
        .route("/opportunities/{id}", get(api::opportunity))
        .route("/opportunities/{id}/move", post(api_crm::opportunity_move))
        .route("/opportunities/{id}/history", get(api_crm::opportunity_history))
        .route("/opportunities/{id}/scorecard", get(api_crm::scorecard).put(api_crm::scorecard_set))
        .route("/pipelines/{id}/methodology", axum::routing::put(api_crm::methodology_set))
        .route("/activities", get(api_crm::activities).post(api_crm::activity_create))
        .route("/contacts", get(api_crm::contacts))
        .route("/leads", get(api_crm::leads).post(api_crm::lead_create))
        .route("/leads/{id}", get(api_crm::lead))
        .route("/leads/{id}/status", post(api_crm::lead_status))
        .route("/leads/{id}/convert", post(api_crm::lead_convert))
        .route("/leads/{id}/merge", post(api_crm::lead_merge))
        .route("/loss-reasons", get(api_crm::loss_reasons).post(api_crm::loss_reason_create))
        .route("/stages/{id}/exit-criteria", axum::routing::put(api_crm::stage_exit_criteria))
        .route("/pipelines", get(api::pipelines))
        .route("/products", get(api_commerce::products).post(api_commerce::product_create))
        .route("/products/{id}", axum::routing::put(api_commerce::product_update))
        .route("/price-books", post(api_commerce::price_book_create))
        .route("/price-books/{id}/prices", axum::routing::put(api_commerce::prices_set))
        .route("/opportunities/{id}/lines", get(api_commerce::lines).put(api_commerce::lines_set))
        .route("/opportunities/{id}/quotes", post(api_commerce::quote_create))
        .route("/opportunities/{id}/order", post(api_commerce::order_create))
        .route("/quotes", get(api_commerce::quotes))
        .route("/quotes/{id}", get(api_commerce::quote))
        .route("/quotes/{id}/status", post(api_commerce::quote_status))
        .route("/orders", get(api_commerce::orders))
        .route("/orders/{id}", get(api_commerce::order))
        .route("/orders/{id}/steps", post(api_commerce::order_step))
        .route("/kpis", get(api_kpi::kpis))
        .route("/kpis/drill", get(api_kpi::drill))
        .route("/kpis/flow", get(api_kpi::flow))
        .route("/settings/fiscal-calendar", axum::routing::put(api_kpi::fiscal_calendar_set))
        .route("/comp/plans", get(api_comp::plans).post(api_comp::plan_create))
        .route("/comp/plans/{id}/accept", post(api_comp::plan_accept))
        .route("/comp/assignments", post(api_comp::assignment_create))
        .route("/comp/runs", post(api_comp::run_create))
        .route("/comp/runs/{id}/payroll.csv", get(api_comp::payroll_csv))
        .route("/comp/periods/{period}/status", post(api_comp::period_status))
        .route("/comp/statements", get(api_comp::statements))
        .route("/comp/what-if", get(api_comp::what_if))
        .route("/comp/holds", get(api_comp_ops::holds).post(api_comp_ops::hold_create))
        .route("/comp/holds/{id}/release", post(api_comp_ops::hold_release))
        .route("/comp/adjustments", get(api_comp_ops::adjustments).post(api_comp_ops::adjustment_create))
        .route("/comp/adjustments/{id}/approve", post(api_comp_ops::adjustment_approve))
        .route("/comp/disputes", get(api_comp_ops::disputes).post(api_comp_ops::dispute_open))
        .route("/comp/disputes/{id}", get(api_comp_ops::dispute))
        .route("/comp/disputes/{id}/transitions", post(api_comp_ops::dispute_transition))
        .route("/comp/runs/{a}/compare/{b}", get(api_comp_ops::run_compare))
        .route("/territories/balance", post(api_planning::balance))
        .route("/territories/pareto", post(api_planning::pareto))
        .route("/quotas/allocate", post(api_planning::quotas_allocate))
        .route("/capacity/plan", post(api_planning::capacity_plan))
        .route("/territories", get(api_territories::view))
        .route("/territories/versions", get(api_territories::versions).post(api_territories::version_create))
        .route("/territories/scenarios", get(api_territories::scenarios).post(api_territories::scenario_create))
        .route("/territories/scenarios/{id}", get(api_territories::scenario))
        .route("/territories/scenarios/{id}/compare", get(api_territories::scenario_compare))
        .route("/territories/scenarios/{id}/accept", post(api_territories::scenario_accept))
        .route("/quotas", get(api_territories::quotas).put(api_territories::quotas_set))
        .route("/forecasts/series", get(api_forecast::series).post(api_forecast::series_input))
        .route("/alerts/scan", get(alerts::api_scan))
        .route("/alerts/run", post(alerts::api_run))
        .route("/notifications", get(alerts::api_notifications))
        .route("/notifications/read", post(alerts::api_notifications_read))
        .route("/webhooks", get(alerts::api_webhooks).post(alerts::api_webhook_create))
        .route("/webhooks/{id}", axum::routing::delete(alerts::api_webhook_delete))
        .route("/forecasts/calls", get(api_forecast_calls::rollup).post(api_forecast_calls::submit))
        .route("/forecasts/calls/snapshots", get(api_forecast_calls::snapshots).post(api_forecast_calls::snapshot))
        .route("/forecasts/calls/waterfall", get(api_forecast_calls::waterfall))
        .route("/forecasts/calls/accuracy", get(api_forecast_calls::accuracy))
        .route("/forecasts/calls/settings", axum::routing::put(api_forecast_calls::settings_set))
        .route("/forecasts/pipeline", get(api_forecast::pipeline))
        .route("/forecasts/pipeline/backtest", get(api_forecast::pipeline_backtest))
        .fallback(api::not_found);
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login_submit))
        .route("/logout", post(pages::logout))
        .route("/accounts", get(pages::accounts))
        .route("/accounts/{id}", get(pages::account))
        .route("/opportunities", get(pages::opportunities))
        .route("/opportunities/{id}", get(pages_crm::opportunity))
        .route("/opportunities/{id}/move", post(pages_crm::opportunity_move))
        .route("/opportunities/{id}/scorecard", post(pages_crm::opportunity_score))
        .route("/admin/pipelines/{id}/methodology", post(pages_crm::methodology_save))
        .route("/activities", post(pages_crm::activity_create))
        .route("/opportunities/{id}/lines", post(pages_commerce::lines_save))
        .route("/opportunities/{id}/quotes", post(pages_commerce::quote_create))
        .route("/opportunities/{id}/order", post(pages_commerce::order_create))
        .route("/kpis", get(pages_kpi::kpis))
        .route("/kpis/drill", get(pages_kpi::drill))
        .route("/kpis/fiscal-calendar", post(pages_kpi::fiscal_calendar))
        .route("/funnel", get(pages_kpi::funnel))
        .route("/process-map", get(pages_kpi::process_map))
        .route("/quotes", get(pages_commerce::quotes))
        .route("/forecasts/series", get(pages_forecast::series))
        .route("/forecasts/series.csv", get(pages_forecast::series_csv))
        .route("/alerts", get(alerts::page).post(alerts::page_action))
        .route("/forecasts/calls", get(pages_forecast_calls::calls).post(pages_forecast_calls::submit))
        .route("/forecasts/calls/snapshot", post(pages_forecast_calls::snapshot))
        .route("/forecasts/calls/settings", post(pages_forecast_calls::settings))
        .route("/dashboard", get(pages_dashboard::page))
        .route("/dashboard/chart/{name}", get(pages_dashboard::chart))
        .route("/forecasts/pipeline", get(pages_pipeline::pipeline))
        .route("/quotes/{id}/status", post(pages_commerce::quote_status))
        .route("/orders", get(pages_commerce::orders))
        .route("/orders/{id}", get(pages_commerce::order))
        .route("/orders/{id}/steps", post(pages_commerce::order_step))
        .route("/comp/plans", get(pages_comp::plans).post(pages_comp::plan_create))
        .route("/comp/plans/accept", post(pages_comp::plan_accept))
        .route("/comp/statement", get(pages_comp::statement))
        .route("/comp/period", post(pages_comp::period_action))
        .route("/comp/disputes", post(pages_comp_ops::dispute_open))
        .route("/comp/operations", get(pages_comp_ops::operations))
        .route("/comp/operations/action", post(pages_comp_ops::action))
        .route("/comp/compare", get(pages_comp_ops::compare))
        .route("/products", get(pages_commerce::products).post(pages_commerce::product_save))
        .route("/price-books", post(pages_commerce::price_book_create))
        .route("/price-books/prices", post(pages_commerce::price_set))
        .route("/leads", get(pages_crm::leads).post(pages_crm::lead_create))
        .route("/leads/new", get(pages_crm::lead_new))
        .route("/leads/{id}", get(pages_crm::lead))
        .route("/leads/{id}/status", post(pages_crm::lead_status))
        .route("/leads/{id}/convert", post(pages_crm::lead_convert))
        .route("/leads/{id}/merge", post(pages_crm::lead_merge))
        .route(
            "/import",
            get(pages_import::import_form)
                .post(pages_import::import_submit)
                .layer(DefaultBodyLimit::max(pages_import::MAX_UPLOAD + 64 * 1024)),
        )
        .route("/import/jobs/{id}", get(pages_import::import_job))
        .route("/territories/balance", get(pages_planning::balance_page).post(pages_planning::balance_csv))
        .route("/territories", get(pages_territories::territories))
        .route("/territories/versions", post(pages_territories::version_save))
        .route("/territories/scenarios", post(pages_territories::scenario_create))
        .route("/territories/scenarios/{id}", get(pages_territories::scenario))
        .route("/territories/scenarios/{id}/accept", post(pages_territories::scenario_accept))
        .route("/quotas", get(pages_territories::quotas).post(pages_territories::quotas_save))
        .route("/quotas/allocate", post(pages_territories::quotas_allocate))
        .route("/admin/sales-process", get(pages_crm::process))
        .route("/admin/stages/{id}/exit-criteria", post(pages_crm::stage_exit_criteria))
        .route("/admin/loss-reasons", post(pages_crm::loss_reason_save))
        .route("/admin/users", get(pages_admin::users))
        .route("/admin/users/new", get(pages_admin::user_new).post(pages_admin::user_create))
        .route("/admin/users/{id}", get(pages_admin::user_edit).post(pages_admin::user_update))
        .route("/admin/organisation", get(pages_admin::organisation))
        .route("/admin/regions", post(pages_admin::region_create))
        .route("/admin/teams", post(pages_admin::team_create))
        .route("/admin/currencies", get(pages_admin::currencies))
        .route("/admin/fx-rates", post(pages_admin::fx_rate_create))
        .route("/admin/reporting-currency", post(pages_admin::reporting_currency))
        .route("/admin/audit", get(pages_admin::audit))
        .route("/settings", get(pages_admin::settings))
        .route("/settings/preferences", post(pages_admin::preferences))
        .route("/settings/password", post(pages_admin::password))
        .route("/settings/tokens", post(pages_admin::token_create))
        .route("/settings/tokens/{id}/revoke", post(pages_admin::token_revoke))
        .route("/api/docs", get(api_docs))
        .route("/api/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_endpoint))
        .route("/static/app.css", get(static_css))
        .route("/static/app.js", get(static_js))
        .route("/favicon.ico", get(favicon))
        .route("/static/favicon.svg", get(favicon))
        .nest("/api/v1", api)
        .fallback(page_not_found)
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until Ctrl-C or SIGTERM, then stops accepting and finishes requests in flight.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
