//! Administration pages (users, organisation, currencies, audit log) and personal settings.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::AppState;
use crate::auth::{FormAuth, PageAuth};
use crate::i18n::Tr;
use crate::pages::{ListQuery, OrPage, PageError, Pager, Shell, pager, query_suffix, render, shell, shell_flash};
use app::{AppError, NewUserInput, Principal, UserPatchInput, page_bounds};
use model::{Locale, Permission, Role, TokenScope, UserId};
use store::{AuditFilter, UserFilter};

type PageResult = Result<Response, PageError>;

fn role_options(t: &Tr, selected: Option<Role>) -> Vec<(String, String, bool)> {
    Role::ALL.iter().map(|r| (r.as_str().to_string(), t.role(*r), Some(*r) == selected)).collect()
}

fn locale_options(selected: Locale) -> Vec<(String, String, bool)> {
    Locale::ALL.iter().map(|l| (l.as_str().to_string(), l.native_name().to_string(), *l == selected)).collect()
}

// ---- users ----------------------------------------------------------------------------------

pub struct UserView {
    id: i64,
    name: String,
    email: String,
    role: String,
    team: String,
    manager: String,
    region: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    shell: Shell,
    total_label: String,
    q: String,
    roles: Vec<(String, String, bool)>,
    rows: Vec<UserView>,
    pager: Pager,
}

pub async fn users(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<ListQuery>) -> PageResult {
    let sh = shell_flash(&p, "users", q.done.as_deref());
    let (limit, offset) = page_bounds(q.limit, q.offset).or_page(&p)?;
    let role = match q.role.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(Role::parse(r).map_err(AppError::from).or_page(&p)?),
        None => None,
    };
    let team_id = crate::pages::opt_id("team_id", &q.team_id).or_page(&p)?;
    let f = UserFilter { q: q.q.clone(), role, team_id, ..Default::default() };
    let page = state.app.users(&p, &f, limit, offset).await.or_page(&p)?;
    let suffix = query_suffix(&[
        ("q", q.q.clone().unwrap_or_default()),
        ("role", role.map(|r| r.as_str().to_string()).unwrap_or_default()),
        ("team_id", team_id.map(|t| t.to_string()).unwrap_or_default()),
    ]);
    let view = UsersPage {
        total_label: crate::pages::count_label(&sh.t, page.total, page.total_exact),
        q: q.q.unwrap_or_default(),
        roles: role_options(&sh.t, role),
        rows: page
            .items
            .iter()
            .map(|u| UserView {
                id: u.user.id.0,
                name: u.user.name.clone(),
                email: u.user.email.as_str().to_string(),
                role: sh.t.role(u.user.role),
                team: u.team_name.clone().unwrap_or_default(),
                manager: u.manager_name.clone().unwrap_or_default(),
                region: u.region_name.clone().unwrap_or_default(),
                active: u.user.active,
            })
            .collect(),
        pager: pager(&sh.t, "/admin/users", &suffix, (page.total, page.total_exact, page.items.len()), limit, offset),
        shell: sh,
    };
    Ok(render(&view))
}

pub struct UserForm {
    id: i64,
    name: String,
    email: String,
    time_zone: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    shell: Shell,
    title: String,
    error: Option<String>,
    action: String,
    is_new: bool,
    f: UserForm,
    roles: Vec<(String, String, bool)>,
    teams: Vec<(i64, String, bool)>,
    managers: Vec<(i64, String, bool)>,
    regions: Vec<(i64, String, bool)>,
    locales: Vec<(String, String, bool)>,
}

struct Selected {
    role: Option<Role>,
    team: Option<i64>,
    manager: Option<i64>,
    region: Option<i64>,
    locale: Locale,
}

async fn user_page(
    state: &AppState,
    p: &Principal,
    id: Option<i64>,
    f: UserForm,
    sel: Selected,
    error: Option<String>,
) -> PageResult {
    p.require(Permission::AdministerOrganisation).or_page(p)?;
    let sh = shell(p, "users");
    let teams = state.app.teams().await.or_page(p)?;
    let regions = state.app.regions().await.or_page(p)?;
    // Managers: everyone who can lead people (managers, heads and ops leads).
    let mut managers = vec![];
    for role in [Role::HeadOfCommercialOps, Role::SalesManager, Role::SalesOpsManager] {
        let f = UserFilter { role: Some(role), ..Default::default() };
        managers.extend(state.app.users(p, &f, 500, 0).await.or_page(p)?.items);
    }
    managers.sort_by(|a, b| a.user.name.cmp(&b.user.name));
    let title = match id {
        Some(_) => f.name.clone(),
        None => sh.t.t("user-new"),
    };
    let page = UserPage {
        title,
        error,
        action: id.map_or_else(|| "/admin/users/new".to_string(), |i| format!("/admin/users/{i}")),
        is_new: id.is_none(),
        roles: role_options(&sh.t, sel.role),
        teams: teams.iter().map(|t| (t.id.0, t.name.clone(), Some(t.id.0) == sel.team)).collect(),
        managers: managers
            .iter()
            .filter(|m| Some(m.user.id.0) != id)
            .map(|m| {
                (m.user.id.0, format!("{} ({})", m.user.name, sh.t.role(m.user.role)), Some(m.user.id.0) == sel.manager)
            })
            .collect(),
        regions: regions.iter().map(|r| (r.id.0, r.name.clone(), Some(r.id.0) == sel.region)).collect(),
        locales: locale_options(sel.locale),
        f,
        shell: sh,
    };
    Ok(render(&page))
}

pub async fn user_new(State(state): State<AppState>, PageAuth(p): PageAuth) -> PageResult {
    let f = UserForm {
        id: 0,
        name: String::new(),
        email: String::new(),
        time_zone: p.user.time_zone.as_str().into(),
        active: true,
    };
    let sel = Selected { role: Some(Role::SalesRep), team: None, manager: None, region: None, locale: p.user.locale };
    user_page(&state, &p, None, f, sel, None).await
}

fn sel_from_form(f: &FormAuth) -> Selected {
    Selected {
        role: Role::parse(f.get("role")).ok(),
        team: f.id("team_id").ok().flatten(),
        manager: f.id("manager_id").ok().flatten(),
        region: f.id("region_id").ok().flatten(),
        locale: Locale::parse(f.get("locale")).unwrap_or_default(),
    }
}

pub(crate) fn error_text(e: &AppError) -> String {
    match e {
        AppError::Invalid { field, message } => format!("{field}: {message}"),
        e => e.to_string(),
    }
}

pub async fn user_create(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let input = NewUserInput {
        email: f.get("email").into(),
        name: f.get("name").into(),
        role: f.get("role").into(),
        team_id: f.id("team_id").or_page(p)?,
        manager_id: f.id("manager_id").or_page(p)?,
        region_id: f.id("region_id").or_page(p)?,
        time_zone: Some(f.get("time_zone").into()),
        locale: Some(f.get("locale").into()),
        password: f.get("password").into(),
    };
    match state.app.create_user(p, &input).await {
        Ok(_) => Ok(Redirect::to("/admin/users?done=saved").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_) | AppError::Refused(_))) => {
            let form = UserForm {
                id: 0,
                name: input.name.clone(),
                email: input.email.clone(),
                time_zone: f.get("time_zone").into(),
                active: true,
            };
            let mut r = user_page(&state, p, None, form, sel_from_form(&f), Some(error_text(&e))).await?;
            *r.status_mut() = crate::error::status_of(&e);
            Ok(r)
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

pub async fn user_edit(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Path(raw): Path<String>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let id = raw.parse::<i64>().map_err(|_| PageError::new(AppError::NotFound, Some(&p)))?;
    p.require(Permission::AdministerOrganisation).or_page(&p)?;
    let u = state.app.user(&p, UserId(id)).await.or_page(&p)?.user;
    let f = UserForm {
        id,
        name: u.name.clone(),
        email: u.email.as_str().into(),
        time_zone: u.time_zone.as_str().into(),
        active: u.active,
    };
    let sel = Selected {
        role: Some(u.role),
        team: u.team_id.map(|t| t.0),
        manager: u.manager_id.map(|m| m.0),
        region: u.region_id.map(|r| r.0),
        locale: u.locale,
    };
    let _ = q;
    user_page(&state, &p, Some(id), f, sel, None).await
}

pub async fn user_update(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = raw.parse::<i64>().map_err(|_| PageError::new(AppError::NotFound, Some(p)))?;
    let zero_if_none = |v: Option<i64>| Some(v.unwrap_or(0));
    let input = UserPatchInput {
        name: Some(f.get("name").into()),
        role: Some(f.get("role").into()),
        team_id: zero_if_none(f.id("team_id").or_page(p)?),
        manager_id: zero_if_none(f.id("manager_id").or_page(p)?),
        region_id: zero_if_none(f.id("region_id").or_page(p)?),
        time_zone: Some(f.get("time_zone").into()),
        locale: Some(f.get("locale").into()),
        active: Some(f.get("active") != "false"),
    };
    match state.app.update_user(p, UserId(id), &input).await {
        Ok(_) => Ok(Redirect::to("/admin/users?done=saved").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_) | AppError::Refused(_))) => {
            let form = UserForm {
                id,
                name: f.get("name").into(),
                email: String::new(),
                time_zone: f.get("time_zone").into(),
                active: f.get("active") != "false",
            };
            let mut r = user_page(&state, p, Some(id), form, sel_from_form(&f), Some(error_text(&e))).await?;
            *r.status_mut() = crate::error::status_of(&e);
            Ok(r)
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

// ---- organisation ---------------------------------------------------------------------------

pub struct RegionView {
    id: i64,
    code: String,
    name: String,
    currency: String,
    time_zone: String,
    users: i64,
}

pub struct TeamView {
    id: i64,
    name: String,
    region: String,
    users: i64,
}

#[derive(Template)]
#[template(path = "admin_org.html")]
struct OrgPage {
    shell: Shell,
    error: Option<String>,
    regions: Vec<RegionView>,
    teams: Vec<TeamView>,
}

async fn org_page(state: &AppState, p: &Principal, error: Option<String>, done: Option<&str>) -> PageResult {
    p.require(Permission::AdministerOrganisation).or_page(p)?;
    let sh = shell_flash(p, "organisation", done);
    let regions = state.app.regions().await.or_page(p)?;
    let teams = state.app.teams().await.or_page(p)?;
    let counts = state.app.store.org_user_counts().await.map_err(AppError::from).or_page(p)?;
    let page = OrgPage {
        error,
        regions: regions
            .iter()
            .map(|r| RegionView {
                id: r.id.0,
                code: r.code.clone(),
                name: r.name.clone(),
                currency: r.currency.code().into(),
                time_zone: r.time_zone.as_str().into(),
                users: counts.by_region.get(&r.id.0).copied().unwrap_or(0),
            })
            .collect(),
        teams: teams
            .iter()
            .map(|t| TeamView {
                id: t.id.0,
                name: t.name.clone(),
                region: t
                    .region_id
                    .and_then(|id| regions.iter().find(|r| r.id == id))
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
                users: counts.by_team.get(&t.id.0).copied().unwrap_or(0),
            })
            .collect(),
        shell: sh,
    };
    Ok(render(&page))
}

pub async fn organisation(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<ListQuery>,
) -> PageResult {
    org_page(&state, &p, None, q.done.as_deref()).await
}

pub async fn region_create(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    match state.app.save_region(p, None, f.get("code"), f.get("name"), f.get("currency"), f.get("time_zone")).await {
        Ok(_) => Ok(Redirect::to("/admin/organisation?done=saved").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let mut r = org_page(&state, p, Some(error_text(&e)), None).await?;
            *r.status_mut() = crate::error::status_of(&e);
            Ok(r)
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

pub async fn team_create(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let region = f.id("region_id").or_page(p)?;
    match state.app.save_team(p, None, f.get("name"), region).await {
        Ok(_) => Ok(Redirect::to("/admin/organisation?done=saved").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let mut r = org_page(&state, p, Some(error_text(&e)), None).await?;
            *r.status_mut() = crate::error::status_of(&e);
            Ok(r)
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

// ---- currencies -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin_currencies.html")]
struct CurrenciesPage {
    shell: Shell,
    error: Option<String>,
    reporting: String,
    currencies: Vec<String>,
    rates: Vec<(String, String, String, String)>,
}

async fn currencies_page(state: &AppState, p: &Principal, error: Option<String>, done: Option<&str>) -> PageResult {
    p.require(Permission::AdministerOrganisation).or_page(p)?;
    let sh = shell_flash(p, "currencies", done);
    let st = &state.app.store;
    let reporting = st.reporting_currency().await.map_err(AppError::from).or_page(p)?;
    let currencies = st.currency_list().await.map_err(AppError::from).or_page(p)?;
    let mut rates = st.fx_rates().await.map_err(AppError::from).or_page(p)?;
    // Newest first; the full history is in the API.
    rates.sort_by(|a, b| b.valid_from.cmp(&a.valid_from).then(a.from.cmp(&b.from)));
    rates.truncate(60);
    let page = CurrenciesPage {
        error,
        reporting: reporting.code().into(),
        currencies: currencies.iter().map(|(c, _)| c.code().to_string()).collect(),
        rates: rates
            .iter()
            .map(|r| {
                (
                    r.from.code().into(),
                    r.to.code().into(),
                    sh.t.date(r.valid_from),
                    model::format_decimal(sh.t.locale, r.rate, 6),
                )
            })
            .collect(),
        shell: sh,
    };
    Ok(render(&page))
}

pub async fn currencies(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<ListQuery>,
) -> PageResult {
    currencies_page(&state, &p, None, q.done.as_deref()).await
}

pub async fn fx_rate_create(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    match state.app.set_fx_rate(p, f.get("from"), f.get("to"), f.get("valid_from"), f.get("rate")).await {
        Ok(()) => Ok(Redirect::to("/admin/currencies?done=saved").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Refused(_))) => {
            let mut r = currencies_page(&state, p, Some(error_text(&e)), None).await?;
            *r.status_mut() = crate::error::status_of(&e);
            Ok(r)
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

pub async fn reporting_currency(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    state.app.set_reporting_currency(p, f.get("currency")).await.or_page(p)?;
    Ok(Redirect::to("/admin/currencies?done=saved").into_response())
}

// ---- audit ----------------------------------------------------------------------------------

pub struct AuditView {
    at: String,
    who: String,
    action: String,
    entity: String,
    source: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    shell: Shell,
    total_label: String,
    entity: String,
    entity_id: String,
    action: String,
    actor: String,
    rows: Vec<AuditView>,
    pager: Pager,
    export_query: String,
}

pub fn audit_filter(q: &ListQuery) -> Result<AuditFilter, AppError> {
    let s = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    Ok(AuditFilter {
        actor_user_id: crate::pages::opt_id("actor_user_id", &q.actor_user_id)?,
        entity: s(&q.entity),
        entity_id: s(&q.entity_id),
        action: s(&q.action),
        from: None,
        to: None,
        exact_count: false,
    })
}

/// Audit actions and record kinds the application writes; shown translated, anything else raw.
pub const AUDIT_ACTIONS: &[&str] = &[
    "create",
    "update",
    "sign_in",
    "sign_out",
    "change_password",
    "revoke",
    "set",
    "export",
    "bulk_load",
    "move",
    "status",
    "convert",
    "merge",
    "import",
    "score",
    "update_lines",
    "sent",
    "accepted",
    "rejected",
    "withdrawn",
    "scheduled",
    "installed",
    "installation_failed",
    "cancelled",
    "read",
    "delete",
    "submit",
    "override",
    "snapshot",
    "released",
    "approved",
];
pub const AUDIT_ENTITIES: &[&str] = &[
    "user",
    "team",
    "region",
    "session",
    "api_token",
    "fx_rate",
    "setting",
    "company",
    "audit_log",
    "accounts",
    "opportunities",
    "opportunity",
    "lead",
    "contact",
    "account",
    "activity",
    "loss_reason",
    "stage",
    "scorecard",
    "product",
    "price_book",
    "quote",
    "order",
    "quotes",
    "orders",
    "comp_plan",
    "comp_assignment",
    "comp_period",
    "comp_run",
    "alert_run",
    "notification",
    "webhook",
    "forecast_call",
    "forecast_snapshot",
    "territory_version",
    "territory_scenario",
    "quota",
    "comp_hold",
    "comp_adjustment",
    "comp_dispute",
];

fn audit_label(t: &Tr, prefix: &str, known: &[&str], code: &str) -> String {
    if known.contains(&code) { t.t(&format!("{prefix}-{}", code.replace('_', "-"))) } else { code.to_string() }
}

fn short_json(v: &Option<serde_json::Value>) -> String {
    v.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_default()).unwrap_or_default()
}

pub async fn audit(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<ListQuery>) -> PageResult {
    let sh = shell(&p, "audit");
    let (limit, offset) = page_bounds(q.limit, q.offset).or_page(&p)?;
    let f = audit_filter(&q).or_page(&p)?;
    let page = state.app.audit_log(&p, &f, limit, offset).await.or_page(&p)?;
    let suffix = query_suffix(&[
        ("entity", f.entity.clone().unwrap_or_default()),
        ("entity_id", f.entity_id.clone().unwrap_or_default()),
        ("action", f.action.clone().unwrap_or_default()),
        ("actor_user_id", f.actor_user_id.map(|a| a.to_string()).unwrap_or_default()),
    ]);
    let view = AuditPage {
        total_label: crate::pages::count_label(&sh.t, page.total, page.total_exact),
        entity: f.entity.clone().unwrap_or_default(),
        entity_id: f.entity_id.clone().unwrap_or_default(),
        action: f.action.clone().unwrap_or_default(),
        actor: f.actor_user_id.map(|a| a.to_string()).unwrap_or_default(),
        rows: page
            .items
            .iter()
            .map(|e| AuditView {
                at: sh.t.ts(e.at),
                who: e.actor_name.clone().unwrap_or_else(|| sh.t.t("audit-system")),
                action: audit_label(&sh.t, "audit-action", AUDIT_ACTIONS, &e.action),
                entity: format!(
                    "{} {}",
                    audit_label(&sh.t, "audit-entity", AUDIT_ENTITIES, &e.entity),
                    e.entity_id.clone().unwrap_or_default()
                ),
                source: match (e.actor_token_id, &e.ip) {
                    (Some(t), ip) => format!("{} #{t} {}", sh.t.t("audit-token"), ip.clone().unwrap_or_default()),
                    (None, Some(ip)) => ip.clone(),
                    (None, None) => String::new(),
                },
                before: short_json(&e.before),
                after: short_json(&e.after),
            })
            .collect(),
        pager: pager(&sh.t, "/admin/audit", &suffix, (page.total, page.total_exact, page.items.len()), limit, offset),
        export_query: suffix,
        shell: sh,
    };
    Ok(render(&view))
}

// ---- settings -------------------------------------------------------------------------------

pub struct TokenView {
    id: i64,
    name: String,
    prefix: String,
    scope: String,
    created: String,
    expires: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    shell: Shell,
    error: Option<String>,
    new_secret: Option<String>,
    locales: Vec<(String, String, bool)>,
    time_zone: String,
    tokens: Vec<TokenView>,
}

async fn settings_page(
    state: &AppState,
    p: &Principal,
    error: Option<String>,
    new_secret: Option<String>,
    done: Option<&str>,
) -> PageResult {
    let sh = shell_flash(p, "settings", done);
    let tokens = state.app.list_tokens(p).await.or_page(p)?;
    let now = state.app.now();
    let page = SettingsPage {
        error,
        new_secret,
        locales: locale_options(p.user.locale),
        time_zone: p.user.time_zone.as_str().into(),
        tokens: tokens
            .iter()
            .map(|t| TokenView {
                id: t.id.0,
                name: t.name.clone(),
                prefix: t.prefix.clone(),
                scope: sh.t.t(if t.scope == TokenScope::Write { "scope-write" } else { "scope-read" }),
                created: sh.t.ts(t.created_at),
                expires: sh.t.ts(t.expires_at),
                last_used: t.last_used_at.map(|l| sh.t.ts(l)).unwrap_or_else(|| "—".into()),
                revoked: t.revoked_at.is_some() || t.expires_at <= now,
            })
            .collect(),
        shell: sh,
    };
    Ok(render(&page))
}

pub async fn settings(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<ListQuery>) -> PageResult {
    settings_page(&state, &p, None, None, q.done.as_deref()).await
}

pub async fn preferences(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let input = UserPatchInput {
        locale: Some(f.get("locale").into()),
        time_zone: Some(f.get("time_zone").into()),
        ..Default::default()
    };
    match state.app.update_user(p, p.user.id, &input).await {
        Ok(_) => Ok(Redirect::to("/settings?done=saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            let mut r = settings_page(&state, p, Some(error_text(&e)), None, None).await?;
            *r.status_mut() = crate::error::status_of(&e);
            Ok(r)
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

pub async fn password(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    match state.app.change_password(p, f.get("current_password"), f.get("new_password")).await {
        Ok(()) => Ok(Redirect::to("/settings?done=password").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            let mut r = settings_page(&state, p, Some(error_text(&e)), None, None).await?;
            *r.status_mut() = crate::error::status_of(&e);
            Ok(r)
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

pub async fn token_create(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let scope = TokenScope::parse(f.get("scope")).map_err(AppError::from);
    let days = f
        .get("expires_in_days")
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::invalid("expires_in_days", "must be a whole number"));
    let result = match (scope, days) {
        (Ok(scope), Ok(days)) => state.app.create_token(p, f.get("name"), scope, days).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match result {
        Ok(t) => settings_page(&state, p, None, Some(t.secret), None).await,
        Err(e @ (AppError::Invalid { .. } | AppError::Refused(_))) => {
            let mut r = settings_page(&state, p, Some(error_text(&e)), None, None).await?;
            *r.status_mut() = crate::error::status_of(&e);
            Ok(r)
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

pub async fn token_revoke(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = raw.parse::<i64>().map_err(|_| PageError::new(AppError::NotFound, Some(p)))?;
    state.app.revoke_token(p, model::ApiTokenId(id)).await.or_page(p)?;
    Ok(Redirect::to("/settings?done=revoked").into_response())
}
