//! Incentive compensation endpoints: plan versions (text in, parse errors with line and column),
//! assignments, acceptance, calculation runs, period approval and locking, statements, what-if
//! and the payroll CSV.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{ApiResult, MoneyDto, csv_response};
use crate::api_crm::CreatedDto;
use crate::auth::ApiAuth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiId, ApiJson, ApiQuery};
use app::AppError;
use store::{PlanVersionRow, StatementRow};

/// A plan text error is a 400 on field `text`; its message starts with "line L, column C".
fn plan_error(e: AppError) -> ApiError {
    match e {
        AppError::Invalid { field, message } if field == "text" => {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid", message).with_field("text")
        }
        e => e.into(),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanTextInput {
    /// The plan in the TOML plan language (docs/comp-plans.md).
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct PlanVersionDto {
    pub id: i64,
    /// The plan's stable id (`[plan] id`).
    pub plan: String,
    pub version: i64,
    pub name: String,
    pub effective_from: String,
    pub effective_to: Option<String>,
    pub text: String,
    pub created_by: Option<String>,
    pub created_at: String,
}

pub(crate) fn plan_dto(v: &PlanVersionRow) -> PlanVersionDto {
    PlanVersionDto {
        id: v.id,
        plan: v.plan_key.clone(),
        version: v.version,
        name: v.name.clone(),
        effective_from: v.effective_from.to_string(),
        effective_to: v.effective_to.map(|d| d.to_string()),
        text: v.body.clone(),
        created_by: v.created_by.clone(),
        created_at: v.created_at.to_string(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentDto {
    pub id: i64,
    pub plan: String,
    pub payee_id: i64,
    pub payee_name: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptanceDto {
    pub plan_version_id: i64,
    pub payee_id: i64,
    pub accepted_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct PlansDto {
    pub versions: Vec<PlanVersionDto>,
    pub assignments: Vec<AssignmentDto>,
    pub acceptances: Vec<AcceptanceDto>,
}

/// Plan versions, assignments and acceptances the caller may read (a payee: their own).
#[utoipa::path(get, path = "/api/v1/comp/plans", tag = "comp", responses((status = 200, body = PlansDto)))]
pub async fn plans(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult<axum::Json<PlansDto>> {
    let v = s.app.comp_plans(&p).await?;
    Ok(axum::Json(PlansDto {
        versions: v.versions.iter().map(plan_dto).collect(),
        assignments: v
            .assignments
            .iter()
            .map(|a| AssignmentDto {
                id: a.id,
                plan: a.plan_key.clone(),
                payee_id: a.payee_id,
                payee_name: a.payee_name.clone(),
                starts_on: a.starts_on.to_string(),
                ends_on: a.ends_on.map(|d| d.to_string()),
            })
            .collect(),
        acceptances: v
            .acceptances
            .iter()
            .map(|a| AcceptanceDto {
                plan_version_id: a.plan_version_id,
                payee_id: a.payee_id,
                accepted_at: a.accepted_at.to_string(),
            })
            .collect(),
    }))
}

/// Adds a plan version from its text (administrators). Errors name line and column.
#[utoipa::path(post, path = "/api/v1/comp/plans", tag = "comp", request_body = PlanTextInput,
    responses((status = 201, body = CreatedDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn plan_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<PlanTextInput>,
) -> ApiResult<(StatusCode, axum::Json<CreatedDto>)> {
    let id = s.app.comp_plan_create(&p, &b.text).await.map_err(plan_error)?;
    Ok((StatusCode::CREATED, axum::Json(CreatedDto { id })))
}

/// The caller accepts a plan version assigned to them.
#[utoipa::path(post, path = "/api/v1/comp/plans/{id}/accept", tag = "comp", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn plan_accept(State(s): State<AppState>, ApiAuth(p): ApiAuth, ApiId(id): ApiId) -> ApiResult<StatusCode> {
    s.app.comp_accept(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    pub plan: String,
    pub payee_id: i64,
    /// YYYY-MM-DD.
    pub starts_on: String,
    /// YYYY-MM-DD, inclusive; absent: open-ended.
    pub ends_on: Option<String>,
}

/// Assigns a plan to a payee (administrators).
#[utoipa::path(post, path = "/api/v1/comp/assignments", tag = "comp", request_body = AssignmentInput,
    responses((status = 201, body = CreatedDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn assignment_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<AssignmentInput>,
) -> ApiResult<(StatusCode, axum::Json<CreatedDto>)> {
    let id = s.app.comp_assign(&p, &b.plan, b.payee_id, &b.starts_on, b.ends_on.as_deref()).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedDto { id })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// A month: "2026-03".
    pub period: String,
    /// Only this plan (`[plan] id`); absent: every plan assigned in the period.
    pub plan: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RunDto {
    pub runs: Vec<i64>,
    pub statements: usize,
    pub diagnostics: Vec<String>,
}

/// Calculates a period (Finance, administrators); all or nothing. A locked period gives delta
/// lines in the next period.
#[utoipa::path(post, path = "/api/v1/comp/runs", tag = "comp", request_body = RunInput,
    responses((status = 201, body = RunDto), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn run_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<RunInput>,
) -> ApiResult<(StatusCode, axum::Json<RunDto>)> {
    let out = s.app.comp_run(&p, &b.period, b.plan.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(RunDto { runs: out.runs, statements: out.statements, diagnostics: out.diagnostics }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodStatusInput {
    /// approved (from calculated) or locked (from approved).
    pub status: String,
}

/// Approves or locks a period (Finance, administrators).
#[utoipa::path(post, path = "/api/v1/comp/periods/{period}/status", tag = "comp", params(("period" = String, Path)),
    request_body = PeriodStatusInput, responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn period_status(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(period): Path<String>,
    ApiJson(b): ApiJson<PeriodStatusInput>,
) -> ApiResult<StatusCode> {
    s.app.comp_period_move(&p, &period, &b.status).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct StatementLineDto {
    /// The line's id (to dispute it).
    pub id: i64,
    pub rule: String,
    pub kind: String,
    /// payable or held.
    pub status: String,
    /// Exact decimal text in the statement's currency.
    pub amount: String,
    pub opportunity_id: Option<i64>,
    /// The line explained in one English sentence.
    pub sentence: String,
    /// The explanation as data (rule, base, rate, tier, attainment, ...).
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct StatementDto {
    pub run_id: i64,
    /// calculation, or delta (corrections of `source_period`).
    pub kind: String,
    pub period: String,
    pub source_period: String,
    pub plan: String,
    pub plan_version: i64,
    pub payee_id: i64,
    pub payee_name: String,
    pub payable: MoneyDto,
    pub held: MoneyDto,
    /// Credited amount in the plan currency.
    pub credited: String,
    pub quota: Option<String>,
    /// 1.04 = 104%.
    pub attainment: Option<String>,
    pub lines: Vec<StatementLineDto>,
}

pub(crate) fn statement_dto(s: &StatementRow) -> StatementDto {
    StatementDto {
        run_id: s.run_id,
        kind: s.run_kind.clone(),
        period: s.period.clone(),
        source_period: s.source_period.clone(),
        plan: s.plan_key.clone(),
        plan_version: s.plan_version,
        payee_id: s.payee_id,
        payee_name: s.payee_name.clone(),
        payable: MoneyDto { amount: s.payable.clone(), currency: s.currency.clone() },
        held: MoneyDto { amount: s.held.clone(), currency: s.currency.clone() },
        credited: s.credited.clone(),
        quota: s.quota.clone(),
        attainment: s.attainment.clone(),
        lines: s
            .lines
            .iter()
            .map(|l| StatementLineDto {
                id: l.id,
                rule: l.rule.clone(),
                kind: l.kind.clone(),
                status: l.status.clone(),
                amount: l.amount.clone(),
                opportunity_id: l.opportunity_id,
                sentence: l.sentence.clone(),
                explanation: l.explanation.clone(),
            })
            .collect(),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatementsQuery {
    /// A month: "2026-03".
    pub period: String,
    /// One payee; 404 when the caller may not see them.
    pub payee: Option<i64>,
}

/// Statements of a period: a rep their own, a manager their team, Finance and administrators all.
#[utoipa::path(get, path = "/api/v1/comp/statements", tag = "comp", params(StatementsQuery),
    responses((status = 200, body = [StatementDto]), (status = 404, body = ErrorBody)))]
pub async fn statements(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<StatementsQuery>,
) -> ApiResult<axum::Json<Vec<StatementDto>>> {
    let rows = s.app.comp_statements(&p, &q.period, q.payee).await?;
    Ok(axum::Json(rows.iter().map(statement_dto).collect()))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WhatIfQuery {
    pub period: String,
    /// Decimal text in the plan's currency.
    pub amount: String,
    pub opportunity: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct WhatIfDto {
    pub before: MoneyDto,
    pub after: MoneyDto,
    /// What the extra booking earns.
    pub difference: MoneyDto,
    pub attainment_before: Option<String>,
    pub attainment_after: Option<String>,
    /// The lines that change, explained.
    pub changes: Vec<String>,
}

fn money(m: &model::Money) -> MoneyDto {
    MoneyDto { amount: m.amount.to_string(), currency: m.currency.code().into() }
}

/// "If I close this at this amount this month, I earn ..." on the caller's own plan.
#[utoipa::path(get, path = "/api/v1/comp/what-if", tag = "comp", params(WhatIfQuery),
    responses((status = 200, body = WhatIfDto), (status = 422, body = ErrorBody)))]
pub async fn what_if(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<WhatIfQuery>,
) -> ApiResult<axum::Json<WhatIfDto>> {
    let (w, _) = s.app.comp_what_if(&p, &q.period, &q.amount, q.opportunity).await?;
    Ok(axum::Json(WhatIfDto {
        before: money(&w.before),
        after: money(&w.after),
        difference: money(&w.difference),
        attainment_before: w.attainment_before.map(|a| a.to_string()),
        attainment_after: w.attainment_after.map(|a| a.to_string()),
        changes: w.changes.iter().map(|l| l.sentence()).collect(),
    }))
}

/// Payable per payee and currency of a run, for payroll (Finance, administrators).
#[utoipa::path(get, path = "/api/v1/comp/runs/{id}/payroll.csv", tag = "comp", params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn payroll_csv(State(s): State<AppState>, ApiAuth(p): ApiAuth, ApiId(id): ApiId) -> ApiResult<Response> {
    let rows = s.app.comp_payroll(&p, id).await?;
    csv_response(
        &format!("payroll-run-{id}"),
        &["email", "name", "currency", "amount"],
        rows.into_iter().map(|(e, n, c, a)| vec![e, n, c, a.to_string()]).collect(),
    )
}
