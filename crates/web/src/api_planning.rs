//! Territory balancing endpoints (issue 8, P2). Nothing is stored: the instance comes in the
//! body and the outcome goes back.

use axum::extract::State;

use crate::AppState;
use crate::api::ApiResult;
use crate::auth::ApiAuth;
use crate::error::ErrorBody;
use crate::extract::ApiJson;
use app::planning::{BalanceInput, BalanceResultDto, ParetoDto};

/// Balances territories: minimise distance or disruption with every rep's workload within the
/// bounds, home units kept and locks respected. At most 5,000 units and 200 reps.
#[utoipa::path(post, path = "/api/v1/territories/balance", tag = "planning", request_body = BalanceInput,
    responses((status = 200, body = BalanceResultDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn balance(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<BalanceInput>,
) -> ApiResult<axum::Json<BalanceResultDto>> {
    Ok(axum::Json(s.app.balance_territories(&p, b).await?))
}

/// The distance–disruption trade-off (Pareto front) by an epsilon-constraint sweep; `steps`
/// (1–10, default 6). At most 5,000 unit × rep pairs.
#[utoipa::path(post, path = "/api/v1/territories/pareto", tag = "planning", request_body = BalanceInput,
    responses((status = 200, body = ParetoDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn pareto(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<BalanceInput>,
) -> ApiResult<axum::Json<ParetoDto>> {
    Ok(axum::Json(s.app.territory_pareto(&p, b).await?))
}

/// Allocates a target top down over recipients by a basis or a weighted blend (even,
/// prior_year, ttm, potential, capacity); the quotas sum exactly to the target. Nothing is stored.
#[utoipa::path(post, path = "/api/v1/quotas/allocate", tag = "planning", request_body = app::planning::QuotaAllocateInput,
    responses((status = 200, body = app::planning::QuotaAllocationDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn quotas_allocate(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<app::planning::QuotaAllocateInput>,
) -> ApiResult<axum::Json<app::planning::QuotaAllocationDto>> {
    Ok(axum::Json(s.app.allocate_quotas(&p, b).await?))
}

/// A hiring plan: the fewest hires, as early as possible, so that projected capacity (ramp,
/// attrition, seasonality) reaches the target; month by month with headcount, capacity and cost.
#[utoipa::path(post, path = "/api/v1/capacity/plan", tag = "planning", request_body = app::planning::CapacityPlanInput,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn capacity_plan(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<app::planning::CapacityPlanInput>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    Ok(axum::Json(s.app.plan_capacity(&p, b).await?))
}
