//! Stored territories and quotas (issue 8): territory versions, the design on a date, draft
//! balancing scenarios built from the company's accounts and their acceptance, quotas per period.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::ApiResult;
use crate::auth::ApiAuth;
use crate::error::ErrorBody;
use crate::extract::{ApiId, ApiJson, ApiQuery};
use app::AppError;
use app::territories::{
    AcceptInput, NewVersionInput, QuotasDto, QuotasInput, ScenarioComparisonDto, ScenarioDto, ScenarioInput,
    TerritoryVersionDto, TerritoryViewDto,
};

/// A created version and the design checks (rules to unknown territories, parent cycles).
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedVersion {
    pub version: TerritoryVersionDto,
    pub notes: Vec<String>,
}

/// Every territory version (draft, live, replaced), oldest start first.
#[utoipa::path(get, path = "/api/v1/territories/versions", tag = "territories",
    responses((status = 200, body = Vec<TerritoryVersionDto>)))]
pub async fn versions(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
) -> ApiResult<axum::Json<Vec<TerritoryVersionDto>>> {
    Ok(axum::Json(s.app.territory_versions(&p).await?))
}

/// Stores a version from its rule-set text (planners). Bad text: 422 on `body` naming the line.
#[utoipa::path(post, path = "/api/v1/territories/versions", tag = "territories", request_body = NewVersionInput,
    responses((status = 201, body = CreatedVersion), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn version_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<NewVersionInput>,
) -> ApiResult<(StatusCode, axum::Json<CreatedVersion>)> {
    let (version, notes) = s.app.territory_version_create(&p, b).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedVersion { version, notes })))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ViewQuery {
    /// Date (YYYY-MM-DD) the design is read for; default today.
    pub on: Option<String>,
    /// A version id to coin-sort against the live design.
    pub draft: Option<i64>,
}

/// The design in force on a date: accounts with territory and reason (a rep: their own), gaps,
/// overlaps, and the coin sort of the last twelve months' won revenue (live vs `draft`).
#[utoipa::path(get, path = "/api/v1/territories", tag = "territories", params(ViewQuery),
    responses((status = 200, body = TerritoryViewDto), (status = 422, body = ErrorBody)))]
pub async fn view(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<ViewQuery>,
) -> ApiResult<axum::Json<TerritoryViewDto>> {
    let on = match q.on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(d.parse().map_err(|_| AppError::invalid("on", format!("'{d}' is not a date")))?),
        None => None,
    };
    Ok(axum::Json(s.app.territory_view(&p, on, q.draft).await?))
}

/// Builds a balancing scenario from the company's accounts (units = postal areas), runs the
/// optimiser and stores it as a draft (planners).
#[utoipa::path(post, path = "/api/v1/territories/scenarios", tag = "territories", request_body = ScenarioInput,
    responses((status = 201, body = ScenarioDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn scenario_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<ScenarioInput>,
) -> ApiResult<(StatusCode, axum::Json<ScenarioDto>)> {
    Ok((StatusCode::CREATED, axum::Json(s.app.territory_scenario_create(&p, b).await?)))
}

/// Every scenario, newest first (planners).
#[utoipa::path(get, path = "/api/v1/territories/scenarios", tag = "territories",
    responses((status = 200, body = Vec<ScenarioDto>), (status = 403, body = ErrorBody)))]
pub async fn scenarios(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult<axum::Json<Vec<ScenarioDto>>> {
    Ok(axum::Json(s.app.territory_scenarios(&p).await?))
}

/// One scenario: its input built from the accounts and its result.
#[utoipa::path(get, path = "/api/v1/territories/scenarios/{id}", tag = "territories",
    responses((status = 200, body = ScenarioDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn scenario(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<axum::Json<ScenarioDto>> {
    Ok(axum::Json(s.app.territory_scenario(&p, id).await?))
}

/// The scenario and the other drafts on the same units side by side with the live assignment.
#[utoipa::path(get, path = "/api/v1/territories/scenarios/{id}/compare", tag = "territories",
    responses((status = 200, body = ScenarioComparisonDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn scenario_compare(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<axum::Json<ScenarioComparisonDto>> {
    Ok(axum::Json(s.app.territory_scenario_compare(&p, id).await?))
}

/// Accepts a draft: a new live territory version from `valid_from` (earlier versions stay and
/// still answer for earlier dates). 409 when it was accepted already.
#[utoipa::path(post, path = "/api/v1/territories/scenarios/{id}/accept", tag = "territories", request_body = AcceptInput,
    responses((status = 201, body = TerritoryVersionDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn scenario_accept(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<AcceptInput>,
) -> ApiResult<(StatusCode, axum::Json<TerritoryVersionDto>)> {
    Ok((StatusCode::CREATED, axum::Json(s.app.territory_scenario_accept(&p, id, b).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PeriodQuery {
    /// `2026-Q3`, `2026-07` or `FY2026`.
    pub period: String,
}

/// The quotas of a period the caller may see (a rep: their own) with won revenue and attainment.
#[utoipa::path(get, path = "/api/v1/quotas", tag = "territories", params(PeriodQuery),
    responses((status = 200, body = QuotasDto), (status = 422, body = ErrorBody)))]
pub async fn quotas(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<axum::Json<QuotasDto>> {
    Ok(axum::Json(s.app.quotas(&p, &q.period).await?))
}

/// How many quota rows a PUT wrote (unchanged quotas are not written again).
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuotasWritten {
    pub written: usize,
}

/// Sets quotas of a period (planners). A changed quota replaces the current one, which is kept.
#[utoipa::path(put, path = "/api/v1/quotas", tag = "territories", params(PeriodQuery), request_body = QuotasInput,
    responses((status = 200, body = QuotasWritten), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn quotas_set(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<PeriodQuery>,
    ApiJson(b): ApiJson<QuotasInput>,
) -> ApiResult<axum::Json<QuotasWritten>> {
    Ok(axum::Json(QuotasWritten { written: s.app.quotas_set(&p, &q.period, b).await? }))
}
