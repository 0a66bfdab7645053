//! CRM endpoints: stage moves and history, activities, leads (lifecycle, conversion,
//! duplicates, merge) and loss reasons.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{ApiResult, OpportunityDto, PageDto, opportunity_dto, page};
use crate::auth::ApiAuth;
use crate::error::ErrorBody;
use crate::extract::{ApiId, ApiJson, ApiQuery};
use app::{ActivityInput, AppError, ConvertInput, LeadInput, LeadStatusInput, MoveInput, page_bounds};
use model::{ActivityKind, LeadId, LeadStatus, OpportunityId};
use store::{ActivityFilter, ActivityRow, LeadFilter, LeadRow};

#[derive(Serialize, ToSchema)]
pub struct StageChangeDto {
    pub from_stage: Option<String>,
    pub to_stage: String,
    /// open, won or lost.
    pub to_kind: String,
    pub at: String,
    pub actor_name: Option<String>,
    /// ui, api, import, demo or conversion.
    pub source: String,
}

/// Moves an opportunity to another stage of its pipeline. Leaving a stage forward needs its
/// exit criteria filled in (error `invalid`, field `exit_criteria`, naming the missing fields);
/// a lost stage needs `loss_reason_id`.
#[utoipa::path(post, path = "/api/v1/opportunities/{id}/move", tag = "records", params(("id" = i64, Path)),
    request_body = MoveInput,
    responses((status = 200, body = OpportunityDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn opportunity_move(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<MoveInput>,
) -> ApiResult<axum::Json<OpportunityDto>> {
    Ok(axum::Json(opportunity_dto(&s.app.move_opportunity(&p, OpportunityId(id), &b).await?)))
}

/// Every stage change of an opportunity, oldest first.
#[utoipa::path(get, path = "/api/v1/opportunities/{id}/history", tag = "records", params(("id" = i64, Path)),
    responses((status = 200, body = [StageChangeDto]), (status = 404, body = ErrorBody)))]
pub async fn opportunity_history(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<axum::Json<Vec<StageChangeDto>>> {
    let rows = s.app.stage_history(&p, OpportunityId(id)).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|h| StageChangeDto {
                from_stage: h.from_stage,
                to_stage: h.to_stage,
                to_kind: h.to_kind,
                at: h.at.to_string(),
                actor_name: h.actor_name,
                source: h.source,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ActivityDto {
    pub id: i64,
    pub external_id: Option<String>,
    /// call, email, meeting, task, note or visit.
    pub kind: String,
    pub subject: String,
    pub at: String,
    pub duration_seconds: Option<i64>,
    pub outcome: Option<String>,
    pub address: Option<String>,
    pub owner_id: i64,
    pub owner_name: String,
    pub account_id: Option<i64>,
    pub opportunity_id: Option<i64>,
    pub lead_id: Option<i64>,
}

fn activity_dto(a: &ActivityRow) -> ActivityDto {
    let x = &a.activity;
    ActivityDto {
        id: x.id.0,
        external_id: x.external_id.clone(),
        kind: x.kind.as_str().into(),
        subject: x.subject.clone(),
        at: x.at.to_string(),
        duration_seconds: x.duration_seconds,
        outcome: x.outcome.clone(),
        address: x.address.clone(),
        owner_id: x.owner_id.0,
        owner_name: a.owner_name.clone(),
        account_id: x.account_id.map(|v| v.0),
        opportunity_id: x.opportunity_id.map(|v| v.0),
        lead_id: x.lead_id.map(|v| v.0),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    pub owner_id: Option<i64>,
    pub account_id: Option<i64>,
    pub opportunity_id: Option<i64>,
    pub lead_id: Option<i64>,
    /// call, email, meeting, task, note or visit.
    pub kind: Option<String>,
    /// RFC 3339, inclusive.
    pub from: Option<String>,
    /// RFC 3339, exclusive.
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub count: Option<String>,
}

fn ts(field: &str, v: &Option<String>) -> Result<Option<jiff::Timestamp>, AppError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| AppError::invalid(field, "must be an RFC 3339 time")))
        .transpose()
}

/// Activities you may see (your own; a manager's team's; everything for operations), newest first.
#[utoipa::path(get, path = "/api/v1/activities", tag = "records", params(ActivityQuery),
    responses((status = 200, body = PageDto<ActivityDto>), (status = 400, body = ErrorBody)))]
pub async fn activities(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<ActivityQuery>,
) -> ApiResult<axum::Json<PageDto<ActivityDto>>> {
    let kind = q
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(ActivityKind::parse)
        .transpose()
        .map_err(|e| AppError::invalid("kind", e.reason))?;
    let f = ActivityFilter {
        owner_id: q.owner_id,
        account_id: q.account_id,
        opportunity_id: q.opportunity_id,
        lead_id: q.lead_id,
        kind,
        from: ts("from", &q.from)?,
        to: ts("to", &q.to)?,
        exact_count: q.count.as_deref() == Some("exact"),
    };
    let (limit, offset) = page_bounds(q.limit, q.offset)?;
    Ok(axum::Json(page(s.app.activities(&p, &f, limit, offset).await?, activity_dto)))
}

#[derive(Serialize, ToSchema)]
pub struct CreatedDto {
    pub id: i64,
}

/// Logs an activity as the signed-in user.
#[utoipa::path(post, path = "/api/v1/activities", tag = "records", request_body = ActivityInput,
    responses((status = 201, body = CreatedDto), (status = 400, body = ErrorBody)))]
pub async fn activity_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<ActivityInput>,
) -> ApiResult<(StatusCode, axum::Json<CreatedDto>)> {
    let id = s.app.log_activity(&p, &b).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedDto { id: id.0 })))
}

#[derive(Serialize, ToSchema)]
pub struct LeadDto {
    pub id: i64,
    pub external_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: String,
    pub campaign: String,
    /// new, working, nurture, qualified, disqualified or converted.
    pub status: String,
    pub disqualify_reason: Option<String>,
    pub owner_id: i64,
    pub owner_name: String,
    pub created_at: String,
    pub converted_at: Option<String>,
    pub account_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub opportunity_id: Option<i64>,
    /// Set when this lead was merged into another one.
    pub merged_into_id: Option<i64>,
}

fn lead_dto(r: &LeadRow) -> LeadDto {
    let l = &r.lead;
    LeadDto {
        id: l.id.0,
        external_id: l.external_id.clone(),
        first_name: l.first_name.clone(),
        last_name: l.last_name.clone(),
        company: l.company.clone(),
        email: l.email.clone(),
        phone: l.phone.clone(),
        source: l.source.clone(),
        campaign: l.campaign.clone(),
        status: l.status.as_str().into(),
        disqualify_reason: l.disqualify_reason.clone(),
        owner_id: l.owner_id.0,
        owner_name: r.owner_name.clone(),
        created_at: l.created_at.to_string(),
        converted_at: l.converted_at.map(|t| t.to_string()),
        account_id: l.account_id.map(|v| v.0),
        contact_id: l.contact_id.map(|v| v.0),
        opportunity_id: l.opportunity_id.map(|v| v.0),
        merged_into_id: r.merged_into_id,
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LeadQuery {
    /// Full-text search (name, company, e-mail, phone, campaign): every word is a prefix,
    /// accents and case do not matter.
    pub q: Option<String>,
    /// new, working, nurture, qualified, disqualified or converted.
    pub status: Option<String>,
    pub owner_id: Option<i64>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub count: Option<String>,
    /// name, company, email, status, source, owner, created or updated; `-key` for
    /// descending. Default: relevance when searching, else newest first.
    pub sort: Option<String>,
    /// asc or desc (default: the column's natural direction).
    pub dir: Option<String>,
}

/// Leads you may see (merged-away leads are left out), newest first.
#[utoipa::path(get, path = "/api/v1/leads", tag = "leads", params(LeadQuery),
    responses((status = 200, body = PageDto<LeadDto>), (status = 400, body = ErrorBody)))]
pub async fn leads(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<LeadQuery>,
) -> ApiResult<axum::Json<PageDto<LeadDto>>> {
    let status = q
        .status
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(LeadStatus::parse)
        .transpose()
        .map_err(|e| AppError::invalid("status", e.reason))?;
    let f = LeadFilter {
        q: q.q,
        status,
        owner_id: q.owner_id,
        sort: crate::api::sort_param(store::SortList::Leads, &q.sort, &q.dir)?,
        exact_count: q.count.as_deref() == Some("exact"),
    };
    let (limit, offset) = page_bounds(q.limit, q.offset)?;
    Ok(axum::Json(page(s.app.leads(&p, &f, limit, offset).await?, lead_dto)))
}

#[derive(Serialize, ToSchema)]
pub struct LeadHistoryDto {
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub at: String,
    pub actor_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DuplicateDto {
    pub lead_id: i64,
    pub name: String,
    pub company: String,
    pub email: Option<String>,
    pub status: String,
    /// email, phone, domain, company or similar_company.
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct LeadDetailDto {
    pub lead: LeadDto,
    pub history: Vec<LeadHistoryDto>,
    pub duplicates: Vec<DuplicateDto>,
}

/// One lead with its lifecycle history and possible duplicates.
#[utoipa::path(get, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = i64, Path)),
    responses((status = 200, body = LeadDetailDto), (status = 404, body = ErrorBody)))]
pub async fn lead(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<axum::Json<LeadDetailDto>> {
    let (row, history, dups) = s.app.lead(&p, LeadId(id)).await?;
    Ok(axum::Json(LeadDetailDto {
        lead: lead_dto(&row),
        history: history
            .into_iter()
            .map(|h| LeadHistoryDto {
                from_status: h.from_status,
                to_status: h.to_status,
                reason: h.reason,
                at: h.at.to_string(),
                actor_name: h.actor_name,
            })
            .collect(),
        duplicates: dups
            .into_iter()
            .map(|d| DuplicateDto {
                lead_id: d.lead_id,
                name: d.name,
                company: d.company,
                email: d.email,
                status: d.status,
                reason: d.reason.into(),
            })
            .collect(),
    }))
}

/// Creates a lead owned by you. Possible duplicates (same e-mail, phone, web domain or a
/// (nearly) identical company name) give 409 `conflict` naming them, unless `allow_duplicate`.
#[utoipa::path(post, path = "/api/v1/leads", tag = "leads", request_body = LeadInput,
    responses((status = 201, body = CreatedDto), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn lead_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<LeadInput>,
) -> ApiResult<(StatusCode, axum::Json<CreatedDto>)> {
    let id = s.app.create_lead(&p, &b).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedDto { id: id.0 })))
}

/// Moves a lead through its lifecycle: working (also re-entry from nurture), nurture,
/// qualified, disqualified (needs `reason`).
#[utoipa::path(post, path = "/api/v1/leads/{id}/status", tag = "leads", params(("id" = i64, Path)),
    request_body = LeadStatusInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lead_status(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<LeadStatusInput>,
) -> ApiResult<StatusCode> {
    s.app.set_lead_status(&p, LeadId(id), &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ConvertedDto {
    pub account_id: i64,
    pub contact_id: i64,
    pub opportunity_id: Option<i64>,
}

/// Converts a lead into an account (new or existing), a contact and optionally an opportunity,
/// in one step.
#[utoipa::path(post, path = "/api/v1/leads/{id}/convert", tag = "leads", params(("id" = i64, Path)),
    request_body = ConvertInput,
    responses((status = 200, body = ConvertedDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lead_convert(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ConvertInput>,
) -> ApiResult<axum::Json<ConvertedDto>> {
    let (a, c, o) = s.app.convert_lead(&p, LeadId(id), &b).await?;
    Ok(axum::Json(ConvertedDto { account_id: a.0, contact_id: c.0, opportunity_id: o.map(|o| o.0) }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The lead merged into this one; it stays as a tombstone pointing here.
    pub merge_id: i64,
}

/// Merges another lead into this one, keeping both histories and the audit trail.
#[utoipa::path(post, path = "/api/v1/leads/{id}/merge", tag = "leads", params(("id" = i64, Path)),
    request_body = MergeInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lead_merge(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<MergeInput>,
) -> ApiResult<StatusCode> {
    s.app.merge_leads(&p, LeadId(id), LeadId(b.merge_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct LossReasonDto {
    pub id: i64,
    pub name: String,
    pub active: bool,
}

/// The managed list of loss reasons.
#[utoipa::path(get, path = "/api/v1/loss-reasons", tag = "records", responses((status = 200, body = [LossReasonDto])))]
pub async fn loss_reasons(
    State(s): State<AppState>,
    ApiAuth(_p): ApiAuth,
) -> ApiResult<axum::Json<Vec<LossReasonDto>>> {
    let list = s.app.loss_reasons().await?;
    Ok(axum::Json(list.into_iter().map(|r| LossReasonDto { id: r.id.0, name: r.name, active: r.active }).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LossReasonInput {
    pub name: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Adds a loss reason (administrators).
#[utoipa::path(post, path = "/api/v1/loss-reasons", tag = "records", request_body = LossReasonInput,
    responses((status = 201, body = CreatedDto), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn loss_reason_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<LossReasonInput>,
) -> ApiResult<(StatusCode, axum::Json<CreatedDto>)> {
    let id = s.app.save_loss_reason(&p, None, &b.name, b.active).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedDto { id: id.0 })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExitCriteriaInput {
    /// Comma-separated fields: amount, close_date, next_step, engaged_on, lead_source.
    pub exit_criteria: String,
}

/// Sets the fields an opportunity needs before it may leave this stage (administrators).
#[utoipa::path(put, path = "/api/v1/stages/{id}/exit-criteria", tag = "records", params(("id" = i64, Path)),
    request_body = ExitCriteriaInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stage_exit_criteria(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ExitCriteriaInput>,
) -> ApiResult<StatusCode> {
    s.app.set_exit_criteria(&p, id, &b.exit_criteria).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Search in the opportunity name.
    pub q: Option<String>,
    pub owner_id: Option<i64>,
    pub account_id: Option<i64>,
    pub stage_id: Option<i64>,
    /// open, won or lost.
    pub status: Option<String>,
    pub close_from: Option<String>,
    pub close_to: Option<String>,
}

/// The opportunities you may see, filtered, as salesops CSV with references by e-mail, name and
/// external id and the stage history: the file imports back unchanged. Streams in pages.
#[utoipa::path(get, path = "/api/v1/opportunities/export", tag = "import", params(ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody)))]
pub async fn opportunities_export(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<axum::response::Response> {
    let f = crate::api::opportunity_filter(
        q.q,
        (q.owner_id, q.account_id, q.stage_id),
        &q.status,
        &q.close_from,
        &q.close_to,
    )?;
    // The first page is fetched before answering, so errors still get a proper status.
    let (first, next, _) = s.app.export_opportunities_page(&p, &f, 0).await?;
    let state = (s, p, f, next);
    let rest = futures_util::stream::unfold(Some(state), |st| async move {
        let (s, p, f, next) = st?;
        let after = next?;
        match s.app.export_opportunities_page(&p, &f, after).await {
            Ok((bytes, next, _)) => Some((Ok::<_, std::io::Error>(bytes), Some((s, p, f, next)))),
            Err(e) => {
                tracing::error!(error = %e, "export failed midway");
                Some((Err(std::io::Error::other(e.to_string())), None))
            }
        }
    });
    let body = futures_util::stream::iter([Ok(first)]);
    use futures_util::StreamExt;
    let stream = body.chain(rest);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"opportunities.csv\""),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// Streams the salesops CSV export of `entity` (all the records you may see), page by page.
async fn export_entity(s: AppState, p: app::Principal, entity: import::Entity) -> ApiResult<axum::response::Response> {
    // The first page is fetched before answering, so errors still get a proper status.
    let (first, next, _) = s.app.export_page(&p, entity, 0).await?;
    let rest = futures_util::stream::unfold(Some((s, p, next)), move |st| async move {
        let (s, p, next) = st?;
        let after = next?;
        match s.app.export_page(&p, entity, after).await {
            Ok((bytes, next, _)) => Some((Ok::<_, std::io::Error>(bytes), Some((s, p, next)))),
            Err(e) => {
                tracing::error!(error = %e, "export failed midway");
                Some((Err(std::io::Error::other(e.to_string())), None))
            }
        }
    });
    use futures_util::StreamExt;
    let stream = futures_util::stream::iter([Ok(first)]).chain(rest);
    let disposition = format!("attachment; filename=\"{}.csv\"", entity.as_str());
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// The accounts you may see as salesops CSV (parents by external id or id, owners by
/// e-mail): the file imports back unchanged. Streams in pages.
#[utoipa::path(get, path = "/api/v1/accounts/export", tag = "import",
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn accounts_export(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult<axum::response::Response> {
    export_entity(s, p, import::Entity::Accounts).await
}

/// The contacts you may see as salesops CSV (accounts by external id or id, owners by
/// e-mail): the file imports back unchanged. Streams in pages.
#[utoipa::path(get, path = "/api/v1/contacts/export", tag = "import",
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn contacts_export(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult<axum::response::Response> {
    export_entity(s, p, import::Entity::Contacts).await
}

/// The leads you may see as salesops CSV: the file imports back unchanged. Streams in pages.
#[utoipa::path(get, path = "/api/v1/leads/export", tag = "import",
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn leads_export(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult<axum::response::Response> {
    export_entity(s, p, import::Entity::Leads).await
}

/// The activities you may see as salesops CSV (the records they concern by external id or
/// id): the file imports back unchanged. Streams in pages.
#[utoipa::path(get, path = "/api/v1/activities/export", tag = "import",
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn activities_export(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult<axum::response::Response> {
    export_entity(s, p, import::Entity::Activities).await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// salesops, salesforce or hubspot; detected from the header when absent.
    pub preset: Option<String>,
    /// true: validate and report only.
    pub dry_run: Option<bool>,
    /// true: create accounts that opportunities refer to but that do not exist.
    pub create_missing: Option<bool>,
    /// true: the file is another salesops's export; its salesops ids are read as external ids.
    pub foreign_ids: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportProblemDto {
    pub line: u64,
    pub row: u64,
    pub column: Option<String>,
    pub value: Option<String>,
    /// Stable: required, bad_number, bad_date, bad_currency, unknown_value, unknown_reference,
    /// formula, ragged_row, bad_utf8, bad_quoting, too_large, missing_column, duplicate_key, ...
    pub code: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportReportDto {
    /// `ok` when valid (and written unless a dry run); `invalid` when there are problems.
    pub code: String,
    pub message: String,
    pub entity: String,
    pub preset: String,
    pub dry_run: bool,
    pub applied: bool,
    pub rows_read: u64,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub created_accounts: usize,
    pub problem_count: u64,
    pub problems: Vec<ImportProblemDto>,
    pub ignored_columns: Vec<String>,
}

/// Imports a CSV file sent as the request body (up to 512 MiB): accounts, contacts, leads,
/// opportunities or activities. All or nothing; upserts by salesops id or external id, so
/// sending the same file again changes nothing. 422 with every problem (line, column, value,
/// code) when the file cannot be imported as it is.
#[utoipa::path(post, path = "/api/v1/import/{entity}", tag = "import",
    params(("entity" = String, Path, description = "accounts, contacts, leads, opportunities or activities"), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReportDto), (status = 422, body = ImportReportDto), (status = 403, body = ErrorBody)))]
pub async fn import(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    axum::extract::Path(entity): axum::extract::Path<String>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, axum::Json<ImportReportDto>)> {
    let entity = import::Entity::parse(&entity).map_err(|e| AppError::invalid("entity", e.reason))?;
    let opts = app::ImportOptions {
        entity,
        preset: q.preset.filter(|p| !p.is_empty()),
        mapping: None,
        dry_run: q.dry_run.unwrap_or(false),
        create_missing: q.create_missing.unwrap_or(false),
        foreign_ids: q.foreign_ids.unwrap_or(false),
        file_name: "api upload".into(),
        max_bytes: crate::pages_import::MAX_UPLOAD as u64,
    };
    let r = s.app.import_file(&p, &body, &opts, &|_| {}).await?;
    let ok = r.problem_count == 0;
    let dto = ImportReportDto {
        code: if ok { "ok" } else { "invalid" }.into(),
        message: if ok {
            format!("{} rows: {} new, {} changed, {} unchanged", r.rows_read, r.new, r.changed, r.unchanged)
        } else {
            let n = r.problem_count;
            format!("{n} {}; nothing was written", if n == 1 { "problem" } else { "problems" })
        },
        entity: r.entity,
        preset: r.preset,
        dry_run: r.dry_run,
        applied: r.applied,
        rows_read: r.rows_read,
        new: r.new,
        changed: r.changed,
        unchanged: r.unchanged,
        created_accounts: r.created_accounts,
        problem_count: r.problem_count,
        problems: r
            .problems
            .into_iter()
            .map(|p| ImportProblemDto {
                line: p.line,
                row: p.row,
                column: p.column,
                value: p.value,
                code: p.code.into_owned(),
                message: p.message,
            })
            .collect(),
        ignored_columns: r.ignored_columns,
    };
    Ok((if ok { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }, axum::Json(dto)))
}

#[derive(Serialize, ToSchema)]
pub struct ContactDto {
    pub id: i64,
    pub external_id: Option<String>,
    pub account_id: Option<i64>,
    pub account_name: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: String,
    pub owner_id: i64,
    pub owner_name: String,
    pub created_at: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    /// Full-text search (name, e-mail, phone, title): every word is a prefix, accents and case
    /// do not matter.
    pub q: Option<String>,
    pub account_id: Option<i64>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// name, email, title, account, owner or created; `-key` for descending. Default:
    /// relevance when searching, else name.
    pub sort: Option<String>,
    /// asc or desc (default: the column's natural direction).
    pub dir: Option<String>,
}

/// Contacts you may see (those you own; a manager's team's; everything for operations).
#[utoipa::path(get, path = "/api/v1/contacts", tag = "records", params(ContactQuery),
    responses((status = 200, body = PageDto<ContactDto>), (status = 400, body = ErrorBody)))]
pub async fn contacts(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<ContactQuery>,
) -> ApiResult<axum::Json<PageDto<ContactDto>>> {
    let (limit, offset) = page_bounds(q.limit, q.offset)?;
    let f = store::ContactFilter {
        q: q.q,
        account_id: q.account_id.map(model::AccountId),
        sort: crate::api::sort_param(store::SortList::Contacts, &q.sort, &q.dir)?,
    };
    let list = s.app.contacts(&p, &f, limit, offset).await?;
    Ok(axum::Json(page(list, |c| {
        let x = &c.contact;
        ContactDto {
            id: x.id.0,
            external_id: x.external_id.clone(),
            account_id: x.account_id.map(|a| a.0),
            account_name: c.account_name.clone(),
            first_name: x.first_name.clone(),
            last_name: x.last_name.clone(),
            email: x.email.clone(),
            phone: x.phone.clone(),
            title: x.title.clone(),
            owner_id: x.owner_id.0,
            owner_name: c.owner_name.clone(),
            created_at: x.created_at.to_string(),
        }
    })))
}

#[derive(Serialize, ToSchema)]
pub struct ScoreDto {
    pub key: String,
    pub label: String,
    /// 0 unknown, 1 weak, 2 confirmed, 3 strong.
    pub score: i32,
    pub note: String,
    pub updated_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ScorecardDto {
    /// meddic, spin, bant, custom or empty.
    pub methodology: String,
    pub criteria: Vec<ScoreDto>,
}

/// The qualification scorecard of an opportunity (its pipeline's criteria and their scores).
#[utoipa::path(get, path = "/api/v1/opportunities/{id}/scorecard", tag = "records", params(("id" = i64, Path)),
    responses((status = 200, body = ScorecardDto), (status = 404, body = ErrorBody)))]
pub async fn scorecard(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<axum::Json<ScorecardDto>> {
    let (pipeline, scores) = s.app.scorecard(&p, OpportunityId(id)).await?;
    Ok(axum::Json(ScorecardDto {
        methodology: pipeline.methodology.clone(),
        criteria: pipeline
            .criteria
            .iter()
            .map(|c| {
                let sc = scores.iter().find(|x| x.criterion_id == c.id);
                ScoreDto {
                    key: c.key.clone(),
                    label: c.label.clone(),
                    score: sc.map_or(0, |x| x.score),
                    note: sc.map(|x| x.note.clone()).unwrap_or_default(),
                    updated_at: sc.map(|x| x.updated_at.to_string()),
                }
            })
            .collect(),
    }))
}

/// Scores an opportunity on its pipeline's criteria; criteria not listed keep their score.
#[utoipa::path(put, path = "/api/v1/opportunities/{id}/scorecard", tag = "records", params(("id" = i64, Path)),
    request_body = [app::ScoreInput],
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn scorecard_set(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<Vec<app::ScoreInput>>,
) -> ApiResult<StatusCode> {
    s.app.score_opportunity(&p, OpportunityId(id), &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Chooses a pipeline's qualification methodology (meddic, spin, bant, custom) and adds criteria.
/// Its criteria can then be exit criteria (`score:<key>`). Administrators.
#[utoipa::path(put, path = "/api/v1/pipelines/{id}/methodology", tag = "records", params(("id" = i64, Path)),
    request_body = app::MethodologyInput,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn methodology_set(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<app::MethodologyInput>,
) -> ApiResult<StatusCode> {
    s.app.set_methodology(&p, id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}
