//! Forecast-call endpoints (F3, F4 per submitter): the roll-up of a period through the manager
//! hierarchy, submissions and overrides, snapshots, the waterfall between two snapshots, the
//! accuracy of each submitter's call and the settings (stale days, roll-up method).

use axum::extract::State;
use axum::http::StatusCode;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::ApiResult;
use crate::auth::ApiAuth;
use crate::error::ErrorBody;
use crate::extract::{ApiJson, ApiQuery};
use app::{Accuracy, AppError, CallRollup, CallSettings, SnapshotOutcome, Submission, Waterfall};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// A period such as `2026-Q1` (fiscal quarter), `2026-03` or `FY2026`.
    pub period: String,
}

/// The roll-up of a period: the hierarchy the caller sees (a rep: themselves; a manager: their
/// subtree; ops: everyone) with category amounts, latest numbers, overrides, the calls that roll
/// up, stale flags and the submission history.
#[utoipa::path(get, path = "/api/v1/forecasts/calls", tag = "forecasts", params(PeriodQuery),
    responses((status = 200, body = CallRollup), (status = 422, body = ErrorBody)))]
pub async fn rollup(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<axum::Json<CallRollup>> {
    Ok(axum::Json(s.app.forecast_rollup(&p, &q.period).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionInput {
    pub period: String,
    /// `commit` or `best_case`.
    pub category: String,
    /// Decimal text in the reporting currency, e.g. "125000.00".
    pub amount: String,
    /// Whose number: absent for the caller's own; anyone else's is an override (managers for
    /// their subtree, administrators for anyone) and needs a note.
    pub user_id: Option<i64>,
    pub note: Option<String>,
}

/// Submits the caller's number, or overrides a report's (kept next to the report's own).
#[utoipa::path(post, path = "/api/v1/forecasts/calls", tag = "forecasts", request_body = SubmissionInput,
    responses((status = 201, body = Submission), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn submit(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<SubmissionInput>,
) -> ApiResult<(StatusCode, axum::Json<Submission>)> {
    let out = s
        .app
        .forecast_submit(&p, &b.period, b.user_id, &b.category, &b.amount, b.note.as_deref().unwrap_or(""))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotInput {
    pub period: String,
}

/// Takes today's snapshot of the period's opportunities (managers, administrators); taking it
/// again the same day replaces it. Run it weekly (e.g. `salesops forecast call snapshot` in cron).
#[utoipa::path(post, path = "/api/v1/forecasts/calls/snapshots", tag = "forecasts", request_body = SnapshotInput,
    responses((status = 201, body = SnapshotOutcome), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn snapshot(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<SnapshotInput>,
) -> ApiResult<(StatusCode, axum::Json<SnapshotOutcome>)> {
    Ok((StatusCode::CREATED, axum::Json(s.app.forecast_snapshot(&p, &b.period).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct SnapshotDatesDto {
    pub period: String,
    /// YYYY-MM-DD, oldest first.
    pub dates: Vec<String>,
}

/// The days a snapshot of the period was taken.
#[utoipa::path(get, path = "/api/v1/forecasts/calls/snapshots", tag = "forecasts", params(PeriodQuery),
    responses((status = 200, body = SnapshotDatesDto), (status = 422, body = ErrorBody)))]
pub async fn snapshots(
    State(s): State<AppState>,
    ApiAuth(_p): ApiAuth,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<axum::Json<SnapshotDatesDto>> {
    let period = app::parse_call_period(&q.period)?.to_string();
    let dates = s.app.forecast_snapshot_dates(&period).await?;
    Ok(axum::Json(SnapshotDatesDto { period, dates: dates.iter().map(|d| d.to_string()).collect() }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WaterfallQuery {
    pub period: String,
    /// The earlier snapshot day, YYYY-MM-DD.
    pub from: String,
    /// The later snapshot day, YYYY-MM-DD.
    pub to: String,
}

pub(crate) fn parse_day(field: &str, s: &str) -> Result<Date, AppError> {
    s.trim().parse().map_err(|_| AppError::invalid(field, format!("'{s}' is not a date such as 2026-03-31")))
}

/// How the period's open pipeline moved between two snapshots: new, pulled in, amount changed,
/// pushed out, won, lost, removed — each with its amount, count and opportunities.
#[utoipa::path(get, path = "/api/v1/forecasts/calls/waterfall", tag = "forecasts", params(WaterfallQuery),
    responses((status = 200, body = Waterfall), (status = 422, body = ErrorBody)))]
pub async fn waterfall(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<WaterfallQuery>,
) -> ApiResult<axum::Json<Waterfall>> {
    let from = parse_day("from", &q.from)?;
    let to = parse_day("to", &q.to)?;
    Ok(axum::Json(s.app.forecast_waterfall(&p, &q.period, from, to).await?))
}

/// Forecast versus actual per submitter: the commit call in force at the start and the middle
/// of the period against won revenue (error, absolute % error, bias).
#[utoipa::path(get, path = "/api/v1/forecasts/calls/accuracy", tag = "forecasts", params(PeriodQuery),
    responses((status = 200, body = Accuracy), (status = 422, body = ErrorBody)))]
pub async fn accuracy(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<axum::Json<Accuracy>> {
    Ok(axum::Json(s.app.forecast_accuracy(&p, &q.period).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallSettingsInput {
    /// Days after which a submission is flagged stale (1 to 365).
    pub stale_days: Option<i64>,
    /// `cumulative` or `single`. Changing it never touches submissions or overrides.
    pub rollup_method: Option<String>,
}

/// Changes the stale limit and the roll-up method (administrators).
#[utoipa::path(put, path = "/api/v1/forecasts/calls/settings", tag = "forecasts", request_body = CallSettingsInput,
    responses((status = 200, body = CallSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn settings_set(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<CallSettingsInput>,
) -> ApiResult<axum::Json<CallSettings>> {
    Ok(axum::Json(s.app.set_forecast_call_settings(&p, b.stale_days, b.rollup_method.as_deref()).await?))
}
