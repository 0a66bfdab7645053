//! Compensation operations endpoints: holds and releases, manual adjustments and their
//! approval, disputes on statement lines with their transitions, and two runs compared.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::ApiResult;
use crate::api_crm::CreatedDto;
use crate::auth::ApiAuth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiId, ApiJson, ApiQuery};
use app::{AdjustmentInput, ComparedLine, HoldInput, RunComparison};
use store::{AdjustmentRow, DisputeFilter, DisputeRow, HoldRow};

// ---- holds ----------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// opportunity, payee or plan.
    pub scope: String,
    pub opportunity_id: Option<i64>,
    pub payee_id: Option<i64>,
    /// The plan's `[plan] id`, for scope plan.
    pub plan: Option<String>,
    /// Why, e.g. "until the customer pays".
    pub reason: String,
    /// First month held: "2026-04".
    pub from_period: String,
}

#[derive(Serialize, ToSchema)]
pub struct HoldDto {
    pub id: i64,
    pub scope: String,
    pub opportunity_id: Option<i64>,
    pub opportunity_name: Option<String>,
    pub payee_id: Option<i64>,
    pub payee_name: Option<String>,
    pub plan: Option<String>,
    pub reason: String,
    pub from_period: String,
    /// The month the held lines are paid in; null while the hold lasts.
    pub released_in: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
}

fn hold_dto(h: &HoldRow) -> HoldDto {
    HoldDto {
        id: h.id,
        scope: h.scope.clone(),
        opportunity_id: h.opportunity_id,
        opportunity_name: h.opportunity_name.clone(),
        payee_id: h.payee_id,
        payee_name: h.payee_name.clone(),
        plan: h.plan_key.clone(),
        reason: h.reason.clone(),
        from_period: h.from_period.clone(),
        released_in: h.released_in.clone(),
        created_by: h.created_by.clone(),
        created_at: h.created_at.to_string(),
    }
}

/// Holds, newest first (Finance, payout readers, administrators).
#[utoipa::path(get, path = "/api/v1/comp/holds", tag = "comp",
    responses((status = 200, body = [HoldDto]), (status = 403, body = ErrorBody)))]
pub async fn holds(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult<axum::Json<Vec<HoldDto>>> {
    Ok(axum::Json(s.app.comp_holds(&p).await?.iter().map(hold_dto).collect()))
}

/// Puts a hold on an opportunity, a payee or a plan from a month on (Finance, administrators).
/// Its lines show as held on the statements until it is released.
#[utoipa::path(post, path = "/api/v1/comp/holds", tag = "comp", request_body = HoldBody,
    responses((status = 201, body = CreatedDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn hold_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<HoldBody>,
) -> ApiResult<(StatusCode, axum::Json<CreatedDto>)> {
    let input = HoldInput {
        scope: b.scope,
        opportunity_id: b.opportunity_id,
        payee_id: b.payee_id,
        plan: b.plan,
        reason: b.reason,
        from_period: b.from_period,
    };
    let id = s.app.comp_hold_create(&p, &input).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedDto { id })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    /// The month the held lines are paid in: "2026-05".
    pub period: String,
}

/// Releases a hold: the next calculation of `period` pays the lines it kept back, as release
/// lines naming the month they were held in (Finance, administrators).
#[utoipa::path(post, path = "/api/v1/comp/holds/{id}/release", tag = "comp", params(("id" = i64, Path)),
    request_body = ReleaseBody,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn hold_release(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ReleaseBody>,
) -> ApiResult<StatusCode> {
    s.app.comp_hold_release(&p, id, &b.period).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- adjustments ----------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentBody {
    pub payee_id: i64,
    /// The month it is paid in: "2026-05".
    pub period: String,
    /// Signed decimal text (negative takes back) in the plan's currency.
    pub amount: String,
    pub currency: String,
    /// missed_credit, split_correction, calculation_error, dispute, guarantee or other.
    pub reason_code: String,
    pub note: String,
    pub opportunity_id: Option<i64>,
    /// The plan whose statement carries it; absent: the payee's plan in force.
    pub plan: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AdjustmentDto {
    pub id: i64,
    pub payee_id: i64,
    pub payee_name: String,
    pub plan: String,
    pub period: String,
    pub amount: String,
    pub currency: String,
    pub reason_code: String,
    pub note: String,
    pub opportunity_id: Option<i64>,
    /// pending or approved.
    pub status: String,
    pub requested_by: Option<String>,
    pub approved_by: Option<String>,
    pub dispute_id: Option<i64>,
}

fn adjustment_dto(a: &AdjustmentRow) -> AdjustmentDto {
    AdjustmentDto {
        id: a.id,
        payee_id: a.payee_id,
        payee_name: a.payee_name.clone(),
        plan: a.plan_key.clone(),
        period: a.period.clone(),
        amount: a.amount.clone(),
        currency: a.currency.clone(),
        reason_code: a.reason_code.clone(),
        note: a.note.clone(),
        opportunity_id: a.opportunity_id,
        status: a.status.clone(),
        requested_by: a.requested_by_name.clone(),
        approved_by: a.approved_by_name.clone(),
        dispute_id: a.dispute_id,
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentsQuery {
    /// pending or approved.
    pub status: Option<String>,
    pub period: Option<String>,
}

/// Adjustments (Finance and payout readers: all; others: their own).
#[utoipa::path(get, path = "/api/v1/comp/adjustments", tag = "comp", params(AdjustmentsQuery),
    responses((status = 200, body = [AdjustmentDto])))]
pub async fn adjustments(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<AdjustmentsQuery>,
) -> ApiResult<axum::Json<Vec<AdjustmentDto>>> {
    let rows = s.app.comp_adjustments(&p, q.status.as_deref(), q.period.as_deref()).await?;
    Ok(axum::Json(rows.iter().map(adjustment_dto).collect()))
}

/// Requests a manual adjustment (Finance, administrators). It is paid only once someone else
/// approved it, by the next calculation of its month.
#[utoipa::path(post, path = "/api/v1/comp/adjustments", tag = "comp", request_body = AdjustmentBody,
    responses((status = 201, body = CreatedDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn adjustment_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<AdjustmentBody>,
) -> ApiResult<(StatusCode, axum::Json<CreatedDto>)> {
    let input = AdjustmentInput {
        payee_id: b.payee_id,
        period: b.period,
        amount: b.amount,
        currency: b.currency,
        reason_code: b.reason_code,
        note: b.note,
        opportunity_id: b.opportunity_id,
        plan: b.plan,
    };
    let id = s.app.comp_adjustment_create(&p, &input).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedDto { id })))
}

/// Approves an adjustment: 409 `refused` for the person who requested it or is paid by it.
#[utoipa::path(post, path = "/api/v1/comp/adjustments/{id}/approve", tag = "comp", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn adjustment_approve(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<StatusCode> {
    s.app.comp_adjustment_approve(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- disputes -------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeBody {
    /// The statement line (`lines[].id` of a statement).
    pub line_id: i64,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct DisputeEventDto {
    pub at: String,
    pub actor: Option<String>,
    pub status: String,
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct DisputeDto {
    pub id: i64,
    pub line_id: i64,
    pub payee_id: i64,
    pub payee_name: String,
    pub period: String,
    /// open, in_review, accepted or rejected.
    pub status: String,
    /// The adjustment an accepted dispute created.
    pub adjustment_id: Option<i64>,
    pub line_rule: String,
    pub line_amount: String,
    pub currency: String,
    pub line_sentence: String,
    /// The thread: every step in order.
    pub events: Vec<DisputeEventDto>,
}

pub(crate) fn dispute_dto(d: &DisputeRow) -> DisputeDto {
    DisputeDto {
        id: d.id,
        line_id: d.line_id,
        payee_id: d.payee_id,
        payee_name: d.payee_name.clone(),
        period: d.period.clone(),
        status: d.status.clone(),
        adjustment_id: d.adjustment_id,
        line_rule: d.line_rule.clone(),
        line_amount: d.line_amount.clone(),
        currency: d.currency.clone(),
        line_sentence: d.line_sentence.clone(),
        events: d
            .events
            .iter()
            .map(|e| DisputeEventDto {
                at: e.at.to_string(),
                actor: e.actor.clone(),
                status: e.status.clone(),
                note: e.note.clone(),
            })
            .collect(),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DisputesQuery {
    pub status: Option<String>,
    pub period: Option<String>,
    pub payee: Option<i64>,
}

/// Disputes: a rep their own, a manager their team's, Finance all.
#[utoipa::path(get, path = "/api/v1/comp/disputes", tag = "comp", params(DisputesQuery),
    responses((status = 200, body = [DisputeDto]), (status = 422, body = ErrorBody)))]
pub async fn disputes(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<DisputesQuery>,
) -> ApiResult<axum::Json<Vec<DisputeDto>>> {
    let period = q.period.as_deref().map(app::parse_period).transpose()?.map(|p| p.id.to_string());
    let f = DisputeFilter { status: q.status, period, payee_id: q.payee, ..DisputeFilter::default() };
    Ok(axum::Json(s.app.comp_disputes(&p, &f).await?.iter().map(dispute_dto).collect()))
}

/// One dispute with its thread; 404 when the caller may not see it.
#[utoipa::path(get, path = "/api/v1/comp/disputes/{id}", tag = "comp", params(("id" = i64, Path)),
    responses((status = 200, body = DisputeDto), (status = 404, body = ErrorBody)))]
pub async fn dispute(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<axum::Json<DisputeDto>> {
    Ok(axum::Json(dispute_dto(&s.app.comp_dispute(&p, id).await?)))
}

/// The payee opens a dispute on one of their own lines (anybody else's line: 404).
#[utoipa::path(post, path = "/api/v1/comp/disputes", tag = "comp", request_body = DisputeBody,
    responses((status = 201, body = CreatedDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn dispute_open(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<DisputeBody>,
) -> ApiResult<(StatusCode, axum::Json<CreatedDto>)> {
    let id = s.app.comp_dispute_open(&p, b.line_id, &b.text).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedDto { id })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeTransitionBody {
    /// in_review, accepted or rejected.
    pub status: String,
    /// Mandatory for rejected (the reason).
    #[serde(default)]
    pub note: String,
    /// For accepted: the amount of the adjustment it creates (pending approval).
    pub amount: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DisputeTransitionDto {
    pub status: String,
    /// The adjustment created by accepting.
    pub adjustment_id: Option<i64>,
}

/// Moves a dispute (Finance, administrators): open -> in_review -> accepted (creating a linked
/// adjustment awaiting approval) or rejected (reason mandatory).
#[utoipa::path(post, path = "/api/v1/comp/disputes/{id}/transitions", tag = "comp", params(("id" = i64, Path)),
    request_body = DisputeTransitionBody,
    responses((status = 200, body = DisputeTransitionDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn dispute_transition(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<DisputeTransitionBody>,
) -> ApiResult<axum::Json<DisputeTransitionDto>> {
    let adjustment_id = s.app.comp_dispute_move(&p, id, &b.status, &b.note, b.amount.as_deref()).await?;
    Ok(axum::Json(DisputeTransitionDto { status: b.status, adjustment_id }))
}

// ---- compare --------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct ComparedLineDto {
    pub payee_id: i64,
    pub payee_name: String,
    pub rule: String,
    pub kind: String,
    pub status: String,
    pub opportunity_id: Option<i64>,
    pub currency: String,
    /// Amount in run A (null when added).
    pub before: Option<String>,
    /// Amount in run B (null when removed).
    pub after: Option<String>,
    pub sentence: String,
}

#[derive(Serialize, ToSchema)]
pub struct RunComparisonDto {
    pub run_a: i64,
    pub run_b: i64,
    pub period: String,
    pub added: Vec<ComparedLineDto>,
    pub removed: Vec<ComparedLineDto>,
    pub changed: Vec<ComparedLineDto>,
    pub unchanged: usize,
    /// Payable per currency in run A and run B.
    #[schema(value_type = Object)]
    pub payable_a: serde_json::Value,
    #[schema(value_type = Object)]
    pub payable_b: serde_json::Value,
}

fn compared_dto(l: &ComparedLine) -> ComparedLineDto {
    ComparedLineDto {
        payee_id: l.payee_id,
        payee_name: l.payee_name.clone(),
        rule: l.rule.clone(),
        kind: l.kind.clone(),
        status: l.status.clone(),
        opportunity_id: l.opportunity_id,
        currency: l.currency.clone(),
        before: l.before.map(|d| d.to_string()),
        after: l.after.map(|d| d.to_string()),
        sentence: l.sentence.clone(),
    }
}

pub(crate) fn comparison_dto(c: &RunComparison) -> RunComparisonDto {
    let totals = |m: &std::collections::BTreeMap<String, rust_decimal::Decimal>| {
        serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.to_string()))).collect())
    };
    RunComparisonDto {
        run_a: c.run_a,
        run_b: c.run_b,
        period: c.period.clone(),
        added: c.added.iter().map(compared_dto).collect(),
        removed: c.removed.iter().map(compared_dto).collect(),
        changed: c.changed.iter().map(compared_dto).collect(),
        unchanged: c.unchanged,
        payable_a: totals(&c.payable_a),
        payable_b: totals(&c.payable_b),
    }
}

/// Two runs of one period compared line by line: added, removed and changed lines (Finance,
/// payout readers, administrators).
#[utoipa::path(get, path = "/api/v1/comp/runs/{a}/compare/{b}", tag = "comp",
    params(("a" = i64, Path), ("b" = i64, Path)),
    responses((status = 200, body = RunComparisonDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn run_compare(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    axum::extract::Path((a, b)): axum::extract::Path<(String, String)>,
) -> ApiResult<axum::Json<RunComparisonDto>> {
    let id = |raw: &str| {
        raw.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_id", format!("'{raw}' is not a valid id")).with_field("id")
        })
    };
    let c = s.app.comp_run_compare(&p, id(&a)?, id(&b)?).await?;
    Ok(axum::Json(comparison_dto(&c)))
}
