//! The JSON API under `/api/v1`. DTOs are written by hand from `model` (money as decimal
//! strings with a currency, times in UTC RFC 3339). Lists are paginated (`limit`, `offset`)
//! and filterable; `?format=csv` exports the whole filtered list (audited).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ApiAuth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiId, ApiJson, ApiQuery};
use app::{AppError, NewUserInput, UserPatchInput, page_bounds};
use model::{AccountId, OpportunityId, RegionId, Role, StageKind, TeamId, TokenScope, UserId};
use store::{
    AccountFilter, AccountRow, AuditEntry, AuditFilter, OpportunityFilter, OpportunityRow, Page, UserFilter, UserRow,
};

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// A page of results.
#[derive(Serialize, ToSchema)]
pub struct PageDto<T> {
    pub items: Vec<T>,
    /// Matching records; counting stops at 1,000 unless `count=exact` is asked for.
    pub total: i64,
    /// False when `total` is a lower bound (more than 1,000 matches).
    pub total_exact: bool,
    pub limit: i64,
    pub offset: i64,
}

pub(crate) fn page<T, U>(p: Page<T>, f: impl Fn(&T) -> U) -> PageDto<U> {
    PageDto {
        items: p.items.iter().map(f).collect(),
        total: p.total,
        total_exact: p.total_exact,
        limit: p.limit,
        offset: p.offset,
    }
}

#[derive(Serialize, ToSchema)]
pub struct MoneyDto {
    /// Exact decimal amount as a string, e.g. "12500.00".
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
}

impl From<&model::Money> for MoneyDto {
    fn from(m: &model::Money) -> Self {
        MoneyDto { amount: m.amount.to_string(), currency: m.currency.code().into() }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// One of the nine roles, e.g. `sales_rep`.
    pub role: String,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
    pub manager_id: Option<i64>,
    pub manager_name: Option<String>,
    pub region_id: Option<i64>,
    pub region_name: Option<String>,
    /// IANA time zone.
    pub time_zone: String,
    /// en, nl, da or pl.
    pub locale: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

fn user_dto(u: &UserRow) -> UserDto {
    UserDto {
        id: u.user.id.0,
        email: u.user.email.as_str().into(),
        name: u.user.name.clone(),
        role: u.user.role.as_str().into(),
        team_id: u.user.team_id.map(|t| t.0),
        team_name: u.team_name.clone(),
        manager_id: u.user.manager_id.map(|m| m.0),
        manager_name: u.manager_name.clone(),
        region_id: u.user.region_id.map(|r| r.0),
        region_name: u.region_name.clone(),
        time_zone: u.user.time_zone.as_str().into(),
        locale: u.user.locale.as_str().into(),
        active: u.user.active,
        created_at: u.created_at.to_string(),
        updated_at: u.updated_at.to_string(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct TeamDto {
    pub id: i64,
    pub name: String,
    pub region_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RegionDto {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub time_zone: String,
}

#[derive(Serialize, ToSchema)]
pub struct AccountDto {
    pub id: i64,
    pub name: String,
    pub industry: String,
    pub employees: i32,
    pub country: String,
    pub region_id: Option<i64>,
    pub region_name: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub time_zone: String,
    pub owner_id: i64,
    pub owner_name: String,
    pub parent_id: Option<i64>,
    pub currency: String,
    pub created_at: String,
}

fn account_dto(a: &AccountRow) -> AccountDto {
    let x = &a.account;
    AccountDto {
        id: x.id.0,
        name: x.name.clone(),
        industry: x.industry.clone(),
        employees: x.employees,
        country: x.country.clone(),
        region_id: x.region_id.map(|r| r.0),
        region_name: a.region_name.clone(),
        city: x.city.clone(),
        postal_code: x.postal_code.clone(),
        time_zone: x.time_zone.as_str().into(),
        owner_id: x.owner_id.0,
        owner_name: a.owner_name.clone(),
        parent_id: x.parent_id.map(|p| p.0),
        currency: x.currency.code().into(),
        created_at: x.created_at.to_string(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct OpportunityDto {
    pub id: i64,
    pub name: String,
    pub account_id: i64,
    pub account_name: String,
    pub owner_id: i64,
    pub owner_name: String,
    pub pipeline_id: i64,
    pub stage_id: i64,
    pub stage_name: String,
    /// open, won or lost.
    pub stage_kind: String,
    pub amount: MoneyDto,
    pub close_date: String,
    pub forecast_category: String,
    pub created_at: String,
    pub updated_at: String,
    /// The key in the system it was imported from.
    pub external_id: Option<String>,
    /// Win probability in percent (the opportunity's own, else its stage's).
    pub probability: i32,
    pub loss_reason: Option<String>,
    pub lead_source: Option<String>,
    pub next_step: Option<String>,
    pub engaged_on: Option<String>,
    /// When the current stage was entered.
    pub stage_entered_at: String,
}

pub(crate) fn opportunity_dto(o: &OpportunityRow) -> OpportunityDto {
    let x = &o.opportunity;
    OpportunityDto {
        id: x.id.0,
        name: x.name.clone(),
        account_id: x.account_id.0,
        account_name: o.account_name.clone(),
        owner_id: x.owner_id.0,
        owner_name: o.owner_name.clone(),
        pipeline_id: x.pipeline_id.0,
        stage_id: x.stage_id.0,
        stage_name: o.stage_name.clone(),
        stage_kind: o.stage_kind.as_str().into(),
        amount: (&x.amount).into(),
        close_date: x.close_date.to_string(),
        forecast_category: x.forecast_category.as_str().into(),
        created_at: x.created_at.to_string(),
        updated_at: x.updated_at.to_string(),
        external_id: x.external_id.clone(),
        probability: o.probability(),
        loss_reason: o.loss_reason.clone(),
        lead_source: x.lead_source.clone(),
        next_step: x.next_step.clone(),
        engaged_on: x.engaged_on.map(|d| d.to_string()),
        stage_entered_at: x.stage_entered_at.to_string(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditDto {
    pub id: i64,
    pub at: String,
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

fn audit_dto(e: &AuditEntry) -> AuditDto {
    AuditDto {
        id: e.id,
        at: e.at.to_string(),
        actor_user_id: e.actor_user_id,
        actor_name: e.actor_name.clone(),
        actor_token_id: e.actor_token_id,
        ip: e.ip.clone(),
        action: e.action.clone(),
        entity: e.entity.clone(),
        entity_id: e.entity_id.clone(),
        before: e.before.clone(),
        after: e.after.clone(),
    }
}

// ---- CSV export -----------------------------------------------------------------------------

const EXPORT_LIMIT: i64 = 2_000_000;

pub(crate) fn csv_response(name: &str, header_row: &[&str], rows: Vec<Vec<String>>) -> ApiResult<Response> {
    let mut w = csv::Writer::from_writer(vec![]);
    let internal = |e: csv::Error| ApiError::from(AppError::Internal(e.to_string()));
    w.write_record(header_row).map_err(internal)?;
    for r in rows {
        // Cells that a spreadsheet would run as a formula get a leading apostrophe.
        w.write_record(r.iter().map(|c| import::escape_cell(c).into_owned())).map_err(internal)?;
    }
    let body = w.into_inner().map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")),
        ],
        body,
    )
        .into_response())
}

/// Collects every page of a filtered list for export.
pub(crate) async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, AppError>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, AppError>>,
{
    let mut out = vec![];
    let mut offset = 0;
    loop {
        let p = fetch(offset).await?;
        let n = p.items.len() as i64;
        out.extend(p.items);
        offset += n;
        if n < p.limit || offset >= EXPORT_LIMIT {
            return Ok(out);
        }
    }
}

// ---- me, password, tokens -------------------------------------------------------------------

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = UserDto), (status = 401, body = ErrorBody)))]
pub async fn me(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult<axum::Json<UserDto>> {
    Ok(axum::Json(user_dto(&s.app.user(&p, p.user.id).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change your own password (other sessions are signed out).
#[utoipa::path(post, path = "/api/v1/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    s.app.change_password(&p, &b.current_password, &b.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct TokenDto {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    /// read or write.
    pub scope: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

fn token_dto(t: &store::ApiTokenRow) -> TokenDto {
    TokenDto {
        id: t.id.0,
        name: t.name.clone(),
        prefix: t.prefix.clone(),
        scope: t.scope.as_str().into(),
        created_at: t.created_at.to_string(),
        expires_at: t.expires_at.to_string(),
        revoked_at: t.revoked_at.map(|x| x.to_string()),
        last_used_at: t.last_used_at.map(|x| x.to_string()),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    pub name: String,
    /// read or write.
    pub scope: String,
    /// 1 to 366 days; default 90.
    pub expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedTokenDto {
    /// The secret: shown only in this response. Send it as `Authorization: Bearer <secret>`.
    pub secret: String,
    pub token: TokenDto,
}

/// Your API tokens (never the secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", responses((status = 200, body = [TokenDto])))]
pub async fn tokens(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult<axum::Json<Vec<TokenDto>>> {
    Ok(axum::Json(s.app.list_tokens(&p).await?.iter().map(token_dto).collect()))
}

/// Create an API token; the secret is returned once (needs a signed-in session).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = NewTokenBody,
    responses((status = 201, body = CreatedTokenDto), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn token_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<NewTokenBody>,
) -> ApiResult<(StatusCode, axum::Json<CreatedTokenDto>)> {
    let scope = TokenScope::parse(&b.scope).map_err(AppError::from)?;
    let t = s.app.create_token(&p, &b.name, scope, b.expires_in_days.unwrap_or(90)).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedTokenDto { secret: t.secret, token: token_dto(&t.token) })))
}

/// Revoke one of your API tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn token_revoke(State(s): State<AppState>, ApiAuth(p): ApiAuth, ApiId(id): ApiId) -> ApiResult<StatusCode> {
    s.app.revoke_token(&p, model::ApiTokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- users ----------------------------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Search in name and e-mail.
    pub q: Option<String>,
    pub role: Option<String>,
    pub team_id: Option<i64>,
    pub region_id: Option<i64>,
    pub manager_id: Option<i64>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// List users (administrators), filtered and paginated.
#[utoipa::path(get, path = "/api/v1/users", tag = "organisation", params(UserQuery),
    responses((status = 200, body = PageDto<UserDto>), (status = 403, body = ErrorBody)))]
pub async fn users(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> ApiResult<axum::Json<PageDto<UserDto>>> {
    let (limit, offset) = page_bounds(q.limit, q.offset)?;
    let role = q.role.as_deref().map(Role::parse).transpose().map_err(AppError::from)?;
    let f = UserFilter { q: q.q, role, team_id: q.team_id, region_id: q.region_id, manager_id: q.manager_id };
    Ok(axum::Json(page(s.app.users(&p, &f, limit, offset).await?, user_dto)))
}

/// One user (administrators, or yourself).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "organisation", params(("id" = i64, Path)),
    responses((status = 200, body = UserDto), (status = 404, body = ErrorBody)))]
pub async fn user(State(s): State<AppState>, ApiAuth(p): ApiAuth, ApiId(id): ApiId) -> ApiResult<axum::Json<UserDto>> {
    Ok(axum::Json(user_dto(&s.app.user(&p, UserId(id)).await?)))
}

/// Schema twin of `app::NewUserInput` for the OpenAPI document.
#[derive(ToSchema)]
#[allow(dead_code)] // only its schema is used
pub struct NewUserBody {
    pub email: String,
    pub name: String,
    pub role: String,
    pub team_id: Option<i64>,
    pub manager_id: Option<i64>,
    pub region_id: Option<i64>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub password: String,
}

/// Schema twin of `app::UserPatchInput`; for team_id, manager_id and region_id, 0 clears.
#[derive(ToSchema)]
#[allow(dead_code)] // only its schema is used
pub struct UserPatchBody {
    pub name: Option<String>,
    pub role: Option<String>,
    pub team_id: Option<i64>,
    pub manager_id: Option<i64>,
    pub region_id: Option<i64>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub active: Option<bool>,
}

/// Create a user with a role, team, manager, region, time zone and language.
#[utoipa::path(post, path = "/api/v1/users", tag = "organisation", request_body = NewUserBody,
    responses((status = 201, body = UserDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn user_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<NewUserInput>,
) -> ApiResult<(StatusCode, axum::Json<UserDto>)> {
    Ok((StatusCode::CREATED, axum::Json(user_dto(&s.app.create_user(&p, &b).await?))))
}

/// Change a user; users may change their own language and time zone.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = UserPatchBody,
    responses((status = 200, body = UserDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn user_update(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<UserPatchInput>,
) -> ApiResult<axum::Json<UserDto>> {
    Ok(axum::Json(user_dto(&s.app.update_user(&p, UserId(id), &b).await?)))
}

// ---- teams and regions ----------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub name: String,
    pub region_id: Option<i64>,
}

/// List teams.
#[utoipa::path(get, path = "/api/v1/teams", tag = "organisation", responses((status = 200, body = [TeamDto])))]
pub async fn teams(State(s): State<AppState>, ApiAuth(_p): ApiAuth) -> ApiResult<axum::Json<Vec<TeamDto>>> {
    let teams = s.app.teams().await?;
    Ok(axum::Json(
        teams.into_iter().map(|t| TeamDto { id: t.id.0, name: t.name, region_id: t.region_id.map(|r| r.0) }).collect(),
    ))
}

/// Create a team.
#[utoipa::path(post, path = "/api/v1/teams", tag = "organisation", request_body = TeamBody,
    responses((status = 201, body = TeamDto), (status = 422, body = ErrorBody)))]
pub async fn team_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<TeamBody>,
) -> ApiResult<(StatusCode, axum::Json<TeamDto>)> {
    let t = s.app.save_team(&p, None, &b.name, b.region_id).await?;
    Ok((StatusCode::CREATED, axum::Json(TeamDto { id: t.id.0, name: t.name, region_id: t.region_id.map(|r| r.0) })))
}

/// Rename a team or move it to another region.
#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = TeamBody,
    responses((status = 200, body = TeamDto), (status = 404, body = ErrorBody)))]
pub async fn team_update(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<TeamBody>,
) -> ApiResult<axum::Json<TeamDto>> {
    let t = s.app.save_team(&p, Some(TeamId(id)), &b.name, b.region_id).await?;
    Ok(axum::Json(TeamDto { id: t.id.0, name: t.name, region_id: t.region_id.map(|r| r.0) }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionBody {
    pub code: String,
    pub name: String,
    pub currency: String,
    pub time_zone: String,
}

fn region_dto(r: &model::Region) -> RegionDto {
    RegionDto {
        id: r.id.0,
        code: r.code.clone(),
        name: r.name.clone(),
        currency: r.currency.code().into(),
        time_zone: r.time_zone.as_str().into(),
    }
}

/// List regions (markets) with their currency and time zone.
#[utoipa::path(get, path = "/api/v1/regions", tag = "organisation", responses((status = 200, body = [RegionDto])))]
pub async fn regions(State(s): State<AppState>, ApiAuth(_p): ApiAuth) -> ApiResult<axum::Json<Vec<RegionDto>>> {
    Ok(axum::Json(s.app.regions().await?.iter().map(region_dto).collect()))
}

/// Create a region.
#[utoipa::path(post, path = "/api/v1/regions", tag = "organisation", request_body = RegionBody,
    responses((status = 201, body = RegionDto), (status = 422, body = ErrorBody)))]
pub async fn region_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<RegionBody>,
) -> ApiResult<(StatusCode, axum::Json<RegionDto>)> {
    let r = s.app.save_region(&p, None, &b.code, &b.name, &b.currency, &b.time_zone).await?;
    Ok((StatusCode::CREATED, axum::Json(region_dto(&r))))
}

/// Change a region.
#[utoipa::path(patch, path = "/api/v1/regions/{id}", tag = "organisation", params(("id" = i64, Path)), request_body = RegionBody,
    responses((status = 200, body = RegionDto), (status = 404, body = ErrorBody)))]
pub async fn region_update(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<RegionBody>,
) -> ApiResult<axum::Json<RegionDto>> {
    let r = s.app.save_region(&p, Some(RegionId(id)), &b.code, &b.name, &b.currency, &b.time_zone).await?;
    Ok(axum::Json(region_dto(&r)))
}

// ---- currencies -----------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct CurrenciesDto {
    pub reporting_currency: String,
    pub currencies: Vec<String>,
}

/// Known currencies and the reporting currency.
#[utoipa::path(get, path = "/api/v1/currencies", tag = "currencies", responses((status = 200, body = CurrenciesDto)))]
pub async fn currencies(State(s): State<AppState>, ApiAuth(_p): ApiAuth) -> ApiResult<axum::Json<CurrenciesDto>> {
    let reporting = s.app.store.reporting_currency().await.map_err(AppError::from)?;
    let list = s.app.store.currency_list().await.map_err(AppError::from)?;
    Ok(axum::Json(CurrenciesDto {
        reporting_currency: reporting.code().into(),
        currencies: list.iter().map(|(c, _)| c.code().into()).collect(),
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FxRateDto {
    pub from: String,
    pub to: String,
    /// First day the rate applies (YYYY-MM-DD); it holds until the next rate.
    pub valid_from: String,
    /// 1 `from` = `rate` `to`, exact decimal string.
    pub rate: String,
}

/// All dated exchange rates.
#[utoipa::path(get, path = "/api/v1/fx-rates", tag = "currencies", responses((status = 200, body = [FxRateDto])))]
pub async fn fx_rates(State(s): State<AppState>, ApiAuth(_p): ApiAuth) -> ApiResult<axum::Json<Vec<FxRateDto>>> {
    let rates = s.app.store.fx_rates().await.map_err(AppError::from)?;
    Ok(axum::Json(
        rates
            .iter()
            .map(|r| FxRateDto {
                from: r.from.code().into(),
                to: r.to.code().into(),
                valid_from: r.valid_from.to_string(),
                rate: r.rate.to_string(),
            })
            .collect(),
    ))
}

/// Add or replace the exchange rate for a date.
#[utoipa::path(post, path = "/api/v1/fx-rates", tag = "currencies", request_body = FxRateDto,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn fx_rate_set(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<FxRateDto>,
) -> ApiResult<StatusCode> {
    s.app.set_fx_rate(&p, &b.from, &b.to, &b.valid_from, &b.rate).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportingCurrencyBody {
    pub currency: String,
}

/// Set the company reporting currency.
#[utoipa::path(put, path = "/api/v1/settings/reporting-currency", tag = "currencies", request_body = ReportingCurrencyBody,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn reporting_currency(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<ReportingCurrencyBody>,
) -> ApiResult<StatusCode> {
    s.app.set_reporting_currency(&p, &b.currency).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- audit ----------------------------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub actor_user_id: Option<i64>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    /// RFC 3339 instant, inclusive.
    pub from: Option<String>,
    /// RFC 3339 instant, exclusive.
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// json (a page, default), csv or json_export (the whole filtered log, newest first).
    pub format: Option<String>,
    /// `exact` counts every match; by default counting stops at 1,000 (`total_exact` false).
    pub count: Option<String>,
}

fn instant(field: &str, v: &Option<String>) -> Result<Option<jiff::Timestamp>, AppError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<jiff::Timestamp>()
                .map_err(|_| AppError::invalid(field, "must be an RFC 3339 instant, e.g. 2026-01-31T00:00:00Z"))
        })
        .transpose()
}

pub(crate) fn exact_count(count: &Option<String>) -> Result<bool, AppError> {
    match count.as_deref() {
        None | Some("capped") => Ok(false),
        Some("exact") => Ok(true),
        Some(_) => Err(AppError::invalid("count", "must be exact or capped")),
    }
}

/// What a list answers: a JSON page, or the whole filtered list as a CSV or JSON download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListFormat {
    Page,
    Csv,
    Json,
}

pub(crate) fn list_format(format: &Option<String>) -> Result<ListFormat, AppError> {
    match format.as_deref() {
        None | Some("json") => Ok(ListFormat::Page),
        Some("csv") => Ok(ListFormat::Csv),
        Some("json_export") => Ok(ListFormat::Json),
        Some(_) => Err(AppError::invalid("format", "must be json, csv or json_export")),
    }
}

/// `sort` / `dir` of a list, checked against the list's whitelist: 400 `bad_query` otherwise.
pub(crate) fn sort_param(
    list: store::SortList,
    sort: &Option<String>,
    dir: &Option<String>,
) -> Result<Option<store::Sort>, ApiError> {
    list.parse(sort.as_deref(), dir.as_deref()).map_err(|m| {
        let field = if m.starts_with("dir must") { "dir" } else { "sort" };
        ApiError::new(StatusCode::BAD_REQUEST, "bad_query", m).with_field(field)
    })
}

/// Rows per chunk of a streamed export.
const EXPORT_CHUNK: usize = 500;

#[derive(Debug, Clone, Copy)]
pub(crate) enum ExportList {
    Accounts,
    Opportunities,
}

const ACCOUNT_CSV_HEADER: &[&str] = &[
    "id",
    "name",
    "industry",
    "employees",
    "country",
    "region",
    "city",
    "postal_code",
    "time_zone",
    "owner_id",
    "owner_name",
    "parent_id",
    "currency",
    "created_at",
];

fn account_csv(d: AccountDto) -> Vec<String> {
    vec![
        d.id.to_string(),
        d.name,
        d.industry,
        d.employees.to_string(),
        d.country,
        d.region_name.unwrap_or_default(),
        d.city,
        d.postal_code,
        d.time_zone,
        d.owner_id.to_string(),
        d.owner_name,
        d.parent_id.map(|x| x.to_string()).unwrap_or_default(),
        d.currency,
        d.created_at,
    ]
}

const OPPORTUNITY_CSV_HEADER: &[&str] = &[
    "id",
    "name",
    "account_id",
    "account_name",
    "owner_id",
    "owner_name",
    "pipeline_id",
    "stage",
    "stage_kind",
    "amount",
    "currency",
    "close_date",
    "forecast_category",
    "created_at",
    "updated_at",
];

fn opportunity_csv(d: OpportunityDto) -> Vec<String> {
    vec![
        d.id.to_string(),
        d.name,
        d.account_id.to_string(),
        d.account_name,
        d.owner_id.to_string(),
        d.owner_name,
        d.pipeline_id.to_string(),
        d.stage_name,
        d.stage_kind,
        d.amount.amount,
        d.amount.currency,
        d.close_date,
        d.forecast_category,
        d.created_at,
        d.updated_at,
    ]
}

fn csv_lines(rows: impl IntoIterator<Item = Vec<String>>) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(vec![]);
    for r in rows {
        // Cells that a spreadsheet would run as a formula get a leading apostrophe.
        w.write_record(r.iter().map(|c| import::escape_cell(c).into_owned()))
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    w.into_inner().map_err(|e| AppError::Internal(e.to_string()))
}

/// One chunk of an export: the rows of `ids` (in that order) as CSV lines or JSON array items.
async fn export_chunk(
    s: &AppState,
    viewer: &store::Viewer,
    list: ExportList,
    csv: bool,
    ids: &[i64],
    first: bool,
) -> Result<Vec<u8>, AppError> {
    let (json, lines): (Vec<serde_json::Value>, Vec<Vec<String>>) = match list {
        ExportList::Accounts => {
            let rows = s.app.store.accounts_by_ids(viewer, ids).await?;
            if csv {
                (vec![], rows.iter().map(|r| account_csv(account_dto(r))).collect())
            } else {
                (rows.iter().map(|r| serde_json::json!(account_dto(r))).collect(), vec![])
            }
        }
        ExportList::Opportunities => {
            let rows = s.app.store.opportunities_by_ids(viewer, ids).await?;
            if csv {
                (vec![], rows.iter().map(|r| opportunity_csv(opportunity_dto(r))).collect())
            } else {
                (rows.iter().map(|r| serde_json::json!(opportunity_dto(r))).collect(), vec![])
            }
        }
    };
    if csv {
        return csv_lines(lines);
    }
    let mut out = vec![];
    for (i, v) in json.iter().enumerate() {
        if !(first && i == 0) {
            out.extend_from_slice(b",\n");
        }
        out.extend(serde_json::to_vec(v).map_err(|e| AppError::Internal(e.to_string()))?);
    }
    Ok(out)
}

/// Streams a whole filtered list, in list order, as CSV or as one JSON array. The ordered ids
/// are read once (8 bytes a row); the rows follow in chunks, so memory stays flat.
pub(crate) async fn export_response(
    s: AppState,
    viewer: store::Viewer,
    list: ExportList,
    format: ListFormat,
    ids: Vec<i64>,
    name: &str,
) -> ApiResult<Response> {
    use futures_util::StreamExt;
    let csv = format == ListFormat::Csv;
    let head: Vec<u8> = if csv {
        let header = match list {
            ExportList::Accounts => ACCOUNT_CSV_HEADER,
            ExportList::Opportunities => OPPORTUNITY_CSV_HEADER,
        };
        csv_lines([header.iter().map(|h| h.to_string()).collect()])?
    } else {
        b"[".to_vec()
    };
    let tail: Vec<u8> = if csv { vec![] } else { b"]\n".to_vec() };
    let ids: std::sync::Arc<[i64]> = ids.into();
    let chunks = ids.len().div_ceil(EXPORT_CHUNK);
    let rest = futures_util::stream::unfold(0usize, move |i| {
        let (s, viewer, ids) = (s.clone(), viewer.clone(), ids.clone());
        async move {
            if i >= chunks {
                return None;
            }
            let part = &ids[i * EXPORT_CHUNK..((i + 1) * EXPORT_CHUNK).min(ids.len())];
            match export_chunk(&s, &viewer, list, csv, part, i == 0).await {
                Ok(bytes) => Some((Ok::<_, std::io::Error>(bytes), i + 1)),
                Err(e) => {
                    tracing::error!(error = %e, "export failed midway");
                    Some((Err(std::io::Error::other(e.to_string())), usize::MAX))
                }
            }
        }
    });
    let stream = futures_util::stream::iter([Ok(head)]).chain(rest).chain(futures_util::stream::iter([Ok(tail)]));
    let (content_type, ext) = if csv { ("text/csv; charset=utf-8", "csv") } else { ("application/json", "json") };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.{ext}\"")),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// The audit log, filtered and paginated; `format=csv` exports it.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = PageDto<AuditDto>), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    let f = AuditFilter {
        actor_user_id: q.actor_user_id,
        entity: q.entity.clone().filter(|s| !s.is_empty()),
        entity_id: q.entity_id.clone().filter(|s| !s.is_empty()),
        action: q.action.clone().filter(|s| !s.is_empty()),
        from: instant("from", &q.from)?,
        to: instant("to", &q.to)?,
        exact_count: exact_count(&q.count)?,
    };
    let format = list_format(&q.format)?;
    if format == ListFormat::Json {
        let rows = all_pages(|offset| {
            let (s, p, f) = (s.clone(), p.clone(), f.clone());
            async move { s.app.audit_log(&p, &f, app::MAX_PAGE, offset).await }
        })
        .await?;
        s.app.audit_export(&p, "audit_log").await?;
        let items: Vec<AuditDto> = rows.iter().map(audit_dto).collect();
        let body = serde_json::to_vec(&items).map_err(|e| AppError::Internal(e.to_string()))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/json".to_string()),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"audit-log.json\"".to_string()),
            ],
            body,
        )
            .into_response());
    }
    if format == ListFormat::Csv {
        let rows = all_pages(|offset| {
            let (s, p, f) = (s.clone(), p.clone(), f.clone());
            async move { s.app.audit_log(&p, &f, app::MAX_PAGE, offset).await }
        })
        .await?;
        s.app.audit_export(&p, "audit_log").await?;
        let rows = rows
            .iter()
            .map(|e| {
                vec![
                    e.id.to_string(),
                    e.at.to_string(),
                    e.actor_user_id.map(|x| x.to_string()).unwrap_or_default(),
                    e.actor_name.clone().unwrap_or_default(),
                    e.actor_token_id.map(|x| x.to_string()).unwrap_or_default(),
                    e.ip.clone().unwrap_or_default(),
                    e.action.clone(),
                    e.entity.clone(),
                    e.entity_id.clone().unwrap_or_default(),
                    e.before.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                    e.after.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                ]
            })
            .collect();
        let header = [
            "id",
            "at",
            "actor_user_id",
            "actor_name",
            "actor_token_id",
            "ip",
            "action",
            "entity",
            "entity_id",
            "before",
            "after",
        ];
        return csv_response("audit-log", &header, rows);
    }
    let (limit, offset) = page_bounds(q.limit, q.offset)?;
    Ok(axum::Json(page(s.app.audit_log(&p, &f, limit, offset).await?, audit_dto)).into_response())
}

// ---- records --------------------------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AccountQuery {
    /// Full-text search (name, domain, city, country, external id): every word is a prefix,
    /// accents and case do not matter.
    pub q: Option<String>,
    pub owner_id: Option<i64>,
    pub region_id: Option<i64>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub industry: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// name, industry, country, city, owner, employees, created or updated; `-key` for
    /// descending. Default: relevance when searching, else name.
    pub sort: Option<String>,
    /// asc or desc (default: the column's natural direction).
    pub dir: Option<String>,
    /// json (a page, default), csv or json_export (the whole filtered list, in list order).
    pub format: Option<String>,
    /// `exact` counts every match; by default counting stops at 1,000 (`total_exact` false).
    pub count: Option<String>,
}

/// Accounts you may see, filtered and paginated; `format=csv` exports them all.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "records", params(AccountQuery),
    responses((status = 200, body = PageDto<AccountDto>), (status = 400, body = ErrorBody)))]
pub async fn accounts(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> ApiResult<Response> {
    let f = AccountFilter {
        q: q.q.clone(),
        owner_id: q.owner_id,
        region_id: q.region_id,
        country: q.country.clone().filter(|s| !s.is_empty()),
        industry: q.industry.clone().filter(|s| !s.is_empty()),
        sort: sort_param(store::SortList::Accounts, &q.sort, &q.dir)?,
        exact_count: exact_count(&q.count)?,
    };
    let format = list_format(&q.format)?;
    if format != ListFormat::Page {
        let viewer = s.app.viewer(&p).await?;
        let ids = s.app.store.account_ids(&viewer, &f).await.map_err(AppError::from)?;
        s.app.audit_export(&p, "accounts").await?;
        return export_response(s, viewer, ExportList::Accounts, format, ids, "accounts").await;
    }
    let (limit, offset) = page_bounds(q.limit, q.offset)?;
    Ok(axum::Json(page(s.app.accounts(&p, &f, limit, offset).await?, account_dto)).into_response())
}

/// One account you may see.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "records", params(("id" = i64, Path)),
    responses((status = 200, body = AccountDto), (status = 404, body = ErrorBody)))]
pub async fn account(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<axum::Json<AccountDto>> {
    Ok(axum::Json(account_dto(&s.app.account(&p, AccountId(id)).await?)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OpportunityQuery {
    /// Full-text search (name, account name, external id, next step): every word is a prefix,
    /// accents and case do not matter.
    pub q: Option<String>,
    pub owner_id: Option<i64>,
    pub account_id: Option<i64>,
    pub stage_id: Option<i64>,
    /// open, won or lost.
    pub status: Option<String>,
    /// Close date on or after (YYYY-MM-DD).
    pub close_from: Option<String>,
    /// Close date on or before (YYYY-MM-DD).
    pub close_to: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// json (a page, default), csv or json_export (the whole filtered list, in list order).
    pub format: Option<String>,
    /// name, account, owner, stage, amount, close_date, created or updated; `-key` for
    /// descending. Default: relevance when searching, else latest close date first.
    pub sort: Option<String>,
    /// asc or desc (default: the column's natural direction).
    pub dir: Option<String>,
    /// `exact` counts every match; by default counting stops at 1,000 (`total_exact` false).
    pub count: Option<String>,
}

/// The filter of an opportunity list from its query parameters (shared by the list, its CSV
/// and the salesops export): search, (owner, account, stage) ids, status, close-date range.
pub(crate) fn opportunity_filter(
    q: Option<String>,
    (owner_id, account_id, stage_id): (Option<i64>, Option<i64>, Option<i64>),
    status: &Option<String>,
    close_from: &Option<String>,
    close_to: &Option<String>,
) -> Result<OpportunityFilter, AppError> {
    let stage_kind = status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(StageKind::parse)
        .transpose()
        .map_err(|e| AppError::invalid("status", e.reason))?;
    Ok(OpportunityFilter {
        q,
        owner_id,
        account_id,
        stage_id,
        stage_kind,
        close_from: date("close_from", close_from)?,
        close_to: date("close_to", close_to)?,
        sort: None,
        exact_count: false,
    })
}

pub(crate) fn date(field: &str, v: &Option<String>) -> Result<Option<jiff::civil::Date>, AppError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| AppError::invalid(field, "must be a date YYYY-MM-DD")))
        .transpose()
}

/// Opportunities you may see, filtered, sorted and paginated; `format=csv` exports them all.
#[utoipa::path(get, path = "/api/v1/opportunities", tag = "records", params(OpportunityQuery),
    responses((status = 200, body = PageDto<OpportunityDto>), (status = 400, body = ErrorBody)))]
pub async fn opportunities(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<OpportunityQuery>,
) -> ApiResult<Response> {
    let mut f =
        opportunity_filter(q.q.clone(), (q.owner_id, q.account_id, q.stage_id), &q.status, &q.close_from, &q.close_to)?;
    f.sort = sort_param(store::SortList::Opportunities, &q.sort, &q.dir)?;
    f.exact_count = exact_count(&q.count)?;
    let format = list_format(&q.format)?;
    if format != ListFormat::Page {
        let viewer = s.app.viewer(&p).await?;
        let ids = s.app.store.opportunity_ids(&viewer, &f).await.map_err(AppError::from)?;
        s.app.audit_export(&p, "opportunities").await?;
        return export_response(s, viewer, ExportList::Opportunities, format, ids, "opportunities").await;
    }
    let (limit, offset) = page_bounds(q.limit, q.offset)?;
    Ok(axum::Json(page(s.app.opportunities(&p, &f, limit, offset).await?, opportunity_dto)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct AmountTotalDto {
    /// Opportunities counted (all matches, not a page).
    pub count: i64,
    /// The currencies their amounts are in.
    pub currencies: Vec<String>,
    /// The total in the reporting currency; absent when an exchange rate is missing.
    pub total: Option<MoneyDto>,
    /// Why there is no total (the missing rate).
    pub error: Option<String>,
    /// How amounts were converted.
    pub conversion: String,
}

/// The total amount of a filtered opportunity list (same filters as the list), converted into
/// the reporting currency: each amount at the rate of its close date, or today's for a close
/// date still ahead.
#[utoipa::path(get, path = "/api/v1/opportunities/total", tag = "records", params(OpportunityQuery),
    responses((status = 200, body = AmountTotalDto), (status = 422, body = ErrorBody)))]
pub async fn opportunities_total(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<OpportunityQuery>,
) -> ApiResult<axum::Json<AmountTotalDto>> {
    let f =
        opportunity_filter(q.q.clone(), (q.owner_id, q.account_id, q.stage_id), &q.status, &q.close_from, &q.close_to)?;
    let t = s.app.opportunities_total(&p, &f).await?;
    Ok(axum::Json(AmountTotalDto {
        count: t.count,
        currencies: t.currencies,
        total: t.total.as_ref().ok().map(MoneyDto::from),
        error: t.total.as_ref().err().map(|e| e.to_string()),
        conversion: "close_date_rate_or_today".into(),
    }))
}

/// One opportunity you may see.
#[utoipa::path(get, path = "/api/v1/opportunities/{id}", tag = "records", params(("id" = i64, Path)),
    responses((status = 200, body = OpportunityDto), (status = 404, body = ErrorBody)))]
pub async fn opportunity(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<axum::Json<OpportunityDto>> {
    Ok(axum::Json(opportunity_dto(&s.app.opportunity(&p, OpportunityId(id)).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct StageDto {
    pub id: i64,
    pub name: String,
    pub position: i32,
    pub probability: i32,
    pub kind: String,
    /// Fields an opportunity needs before it may leave this stage.
    pub exit_criteria: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PipelineDto {
    pub id: i64,
    pub name: String,
    pub stages: Vec<StageDto>,
}

/// Sales pipelines and their stages.
#[utoipa::path(get, path = "/api/v1/pipelines", tag = "records", responses((status = 200, body = [PipelineDto])))]
pub async fn pipelines(State(s): State<AppState>, ApiAuth(_p): ApiAuth) -> ApiResult<axum::Json<Vec<PipelineDto>>> {
    let list = s.app.store.pipeline_list().await.map_err(AppError::from)?;
    Ok(axum::Json(
        list.into_iter()
            .map(|p| PipelineDto {
                id: p.id.0,
                name: p.name,
                stages: p
                    .stages
                    .into_iter()
                    .map(|s| StageDto {
                        id: s.id.0,
                        name: s.name,
                        position: s.position,
                        probability: s.probability,
                        kind: s.kind.as_str().into(),
                        exit_criteria: s.exit_criteria,
                    })
                    .collect(),
            })
            .collect(),
    ))
}

/// Unknown routes under /api answer in JSON too.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}
