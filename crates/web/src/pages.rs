//! Server-rendered HTML pages. Handlers turn model data into small view structs of formatted
//! strings (money, dates and times in the viewer's locale and time zone); templates stay dumb.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{ClientIp, FormAuth, PRELOGIN_COOKIE, PageAuth, cookie, csrf_of, same_secret, session_cookie};
use crate::error::status_of;
use crate::i18n::Tr;
use app::{AppError, Principal, page_bounds};
use model::{AccountId, Locale, Permission, StageKind, TimeZoneName};
use store::{AccountFilter, OpportunityFilter};

/// The navigation shell every signed-in page shares.
pub struct Shell {
    pub t: Tr,
    pub user_name: String,
    pub role_label: String,
    pub is_admin: bool,
    pub can_audit: bool,
    pub csrf: String,
    pub active: &'static str,
    pub flash: Option<String>,
}

pub fn tr_of(p: &Principal) -> Tr {
    Tr::new(p.user.locale, p.user.time_zone.clone())
}

pub fn shell(p: &Principal, active: &'static str) -> Shell {
    let t = tr_of(p);
    Shell {
        role_label: t.role(p.user.role),
        t,
        user_name: p.user.name.clone(),
        is_admin: p.can(Permission::AdministerOrganisation),
        can_audit: p.can(Permission::ReadAudit),
        csrf: csrf_of(p),
        active,
        flash: None,
    }
}

pub fn shell_flash(p: &Principal, active: &'static str, done: Option<&str>) -> Shell {
    let mut s = shell(p, active);
    s.flash = done.map(|d| match d {
        "saved" => s.t.t("flash-saved"),
        "password" => s.t.t("flash-password-changed"),
        "revoked" => s.t.t("flash-token-revoked"),
        _ => s.t.t("flash-done"),
    });
    s
}

pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// An error on a page: the sign-in form for anonymous callers, otherwise an error page.
pub enum PageError {
    /// `prelogin` is the caller's existing sign-in CSRF cookie, reused so that a stray 401
    /// (a favicon, a second tab) does not invalidate a sign-in form already on screen.
    Login {
        next: Option<String>,
        prelogin: Option<String>,
    },
    Error {
        error: AppError,
        principal: Option<Box<Principal>>,
    },
}

impl PageError {
    pub fn login(next: Option<String>, prelogin: Option<String>) -> PageError {
        PageError::Login { next, prelogin }
    }
    pub fn new(error: AppError, principal: Option<&Principal>) -> PageError {
        PageError::Error { error, principal: principal.map(|p| Box::new(p.clone())) }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    title: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login { next, prelogin } => {
                let t = Tr::new(Locale::En, TimeZoneName::utc());
                let mut r = login_page(t, None, next.unwrap_or_default(), String::new(), prelogin);
                *r.status_mut() = StatusCode::UNAUTHORIZED;
                r
            }
            PageError::Error { error, principal } => {
                let status = status_of(&error);
                if let AppError::Internal(detail) = &error {
                    tracing::error!(error = %detail, "internal error on page");
                }
                let Some(p) = principal else {
                    return (status, error.to_string()).into_response();
                };
                let sh = shell(&p, "");
                let title = match status {
                    StatusCode::NOT_FOUND => sh.t.t("error-not-found"),
                    StatusCode::FORBIDDEN => sh.t.t("error-forbidden"),
                    StatusCode::INTERNAL_SERVER_ERROR => sh.t.t("error-internal"),
                    _ => sh.t.t("error-invalid"),
                };
                let message = match &error {
                    AppError::Invalid { field, message } => format!("{field}: {message}"),
                    AppError::NotFound => sh.t.t("error-not-found-detail"),
                    AppError::Forbidden => sh.t.t("error-forbidden-detail"),
                    AppError::Csrf => sh.t.t("error-form-expired"),
                    AppError::Internal(_) => sh.t.t("error-internal-detail"),
                    e => e.to_string(),
                };
                let mut r = render(&ErrorPage { shell: sh, title, message });
                *r.status_mut() = status;
                r
            }
        }
    }
}

pub(crate) type PageResult = Result<Response, PageError>;

pub trait OrPage<T> {
    fn or_page(self, p: &Principal) -> Result<T, PageError>;
}

impl<T> OrPage<T> for Result<T, AppError> {
    fn or_page(self, p: &Principal) -> Result<T, PageError> {
        self.map_err(|e| PageError::new(e, Some(p)))
    }
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---- sign-in --------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    error: Option<String>,
    csrf: String,
    next: String,
    email: String,
}

fn login_page(t: Tr, error: Option<String>, next: String, email: String, prelogin: Option<String>) -> Response {
    let csrf = prelogin
        .filter(|c| c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| app::random_hex(16).unwrap_or_default());
    let mut r = render(&LoginPage { t, error, csrf: csrf.clone(), next, email });
    if let Ok(v) =
        HeaderValue::from_str(&format!("{PRELOGIN_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600"))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let prelogin = cookie(&headers, PRELOGIN_COOKIE).map(str::to_string);
    login_page(Tr::new(Locale::En, TimeZoneName::utc()), None, q.next.unwrap_or_default(), String::new(), prelogin)
}

/// Only same-site relative paths are followed after sign-in (no open redirects).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") { next } else { "/" }
}

pub async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> Response {
    let t = Tr::new(Locale::En, TimeZoneName::utc());
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (email, next) = (get("email"), get("next"));
    let expected = cookie(&headers, PRELOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !same_secret(expected, &get("csrf")) {
        let mut r = login_page(t.clone(), Some(t.t("error-form-expired")), next, email, None);
        *r.status_mut() = StatusCode::FORBIDDEN;
        return r;
    }
    match state.app.login(&email, &get("password"), ip.as_deref()).await {
        Ok(out) => {
            let mut r = see_other(safe_next(&next));
            let c = session_cookie(&out.session_token, app::SESSION_IDLE.as_secs(), state.secure_cookies);
            if let Ok(v) = HeaderValue::from_str(&c) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => {
            let (status, msg) = match e {
                AppError::RateLimited { retry_after_seconds } => {
                    (StatusCode::TOO_MANY_REQUESTS, t.t1("error-rate-limited", "seconds", retry_after_seconds))
                }
                AppError::Internal(d) => {
                    tracing::error!(error = %d, "sign-in failed");
                    (StatusCode::INTERNAL_SERVER_ERROR, t.t("error-internal-detail"))
                }
                _ => (StatusCode::UNAUTHORIZED, t.t("error-bad-credentials")),
            };
            let mut r = login_page(t, Some(msg), next, email, Some(expected.to_string()));
            *r.status_mut() = status;
            r
        }
    }
}

pub async fn logout(State(state): State<AppState>, f: FormAuth) -> PageResult {
    state.app.logout(&f.principal).await.or_page(&f.principal)?;
    let mut r = see_other("/login");
    if let Ok(v) = HeaderValue::from_str(&session_cookie("", 0, state.secure_cookies)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

// ---- home -----------------------------------------------------------------------------------

pub struct OppView {
    id: i64,
    name: String,
    account: String,
    owner: String,
    owner_id: i64,
    stage: String,
    stage_id: i64,
    kind: &'static str,
    amount: String,
    close_date: String,
}

fn opp_view(t: &Tr, o: &store::OpportunityRow) -> OppView {
    OppView {
        id: o.opportunity.id.0,
        name: o.opportunity.name.clone(),
        account: o.account_name.clone(),
        owner: o.owner_name.clone(),
        owner_id: o.opportunity.owner_id.0,
        stage: o.stage_name.clone(),
        stage_id: o.opportunity.stage_id.0,
        kind: o.stage_kind.as_str(),
        amount: t.money(&o.opportunity.amount),
        close_date: t.date(o.opportunity.close_date),
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    first_name: String,
    scope_note: String,
    today: String,
    open_count: String,
    open_value: String,
    closing_month: String,
    account_count: String,
    upcoming: Vec<OppView>,
}

pub async fn home(State(state): State<AppState>, PageAuth(p): PageAuth) -> PageResult {
    let sh = shell(&p, "home");
    let app = &state.app;
    let now = app.now();
    let today = now.to_zoned(p.user.time_zone.tz()).date();
    let viewer = app.viewer(&p).await.or_page(&p)?;
    let open = app.store.open_amounts(&viewer).await.map_err(AppError::from).or_page(&p)?;
    let fx = app.store.fx_table().await.map_err(AppError::from).or_page(&p)?;
    let reporting = app.store.reporting_currency().await.map_err(AppError::from).or_page(&p)?;
    let month_end = today.last_of_month();
    let month_start = today.first_of_month();
    // Amounts are converted with the rate of today (pipeline is valued as of now).
    let total = fx.sum_in(reporting, open.iter().map(|o| (o.amount, today)));
    let month = fx.sum_in(
        reporting,
        open.iter().filter(|o| o.close_date >= month_start && o.close_date <= month_end).map(|o| (o.amount, today)),
    );
    let show = |r: Result<model::Money, model::MoneyError>| match r {
        // Whole units on the cards: they are for orientation, details are in the lists.
        Ok(m) => model::format_money_whole(sh.t.locale, m),
        Err(e) => format!("— ({e})"),
    };
    let accounts = app.store.account_count(&viewer).await.map_err(AppError::from).or_page(&p)?;
    let f = OpportunityFilter {
        stage_kind: Some(StageKind::Open),
        close_from: Some(today),
        sort: Some(store::Sort { key: "close_date", desc: false }),
        ..Default::default()
    };
    let upcoming = app.opportunities(&p, &f, 10, 0).await.or_page(&p)?.items;
    let scope_note = match p.user.role.visibility() {
        model::Visibility::Own => sh.t.t("scope-own"),
        model::Visibility::Subtree => sh.t.t("scope-team"),
        model::Visibility::All => sh.t.t("scope-all"),
    };
    let page = HomePage {
        first_name: p.user.name.split_whitespace().next().unwrap_or("").to_string(),
        scope_note,
        today: sh.t.date(today),
        open_count: sh.t.int(open.len() as i64),
        open_value: show(total),
        closing_month: show(month),
        account_count: sh.t.int(accounts),
        upcoming: upcoming.iter().map(|o| opp_view(&sh.t, o)).collect(),
        shell: sh,
    };
    Ok(render(&page))
}

// ---- lists ----------------------------------------------------------------------------------

pub struct Pager {
    pub prev: Option<String>,
    pub next: Option<String>,
    pub label: String,
}

/// "207 rows", or "more than 1,000 rows" when counting stopped at the cap.
pub fn count_label(t: &Tr, total: i64, exact: bool) -> String {
    if exact { t.count("rows-count", total) } else { t.t1("rows-count-more", "count", t.int(total)) }
}

/// Links to the previous and next page; `(total, exact, items)` describe the current page.
pub fn pager(
    t: &Tr,
    base: &str,
    query: &str,
    (total, exact, items): (i64, bool, usize),
    limit: i64,
    offset: i64,
) -> Pager {
    let link = |o: i64| format!("{base}?offset={o}&limit={limit}{query}");
    let from = if items == 0 { 0 } else { offset + 1 };
    let to = offset + items as i64;
    Pager {
        prev: (offset > 0).then(|| link((offset - limit).max(0))),
        next: (items as i64 == limit && (offset + limit < total || !exact)).then(|| link(offset + limit)),
        label: t.targs(
            if exact { "page-range" } else { "page-range-more" },
            &[("from", t.int(from)), ("to", t.int(to)), ("total", t.int(total))],
        ),
    }
}

/// Re-encodes the current filters as `&k=v` pairs for pager and export links.
pub fn query_suffix(pairs: &[(&str, String)]) -> String {
    pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("&{k}={}", url_encode(v))).collect()
}

pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub q: Option<String>,
    pub region_id: Option<String>,
    pub status: Option<String>,
    pub role: Option<String>,
    pub team_id: Option<String>,
    pub owner_id: Option<String>,
    pub stage_id: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub done: Option<String>,
    /// A refused form's message, shown on the page it came back to.
    pub error: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    pub actor_user_id: Option<String>,
    /// `exact` asks for an exact row count instead of stopping at 1,000.
    pub count: Option<String>,
    /// A whitelisted column of the list (see `store::SortList`), and asc or desc.
    pub sort: Option<String>,
    pub dir: Option<String>,
}

/// The clickable column headers of a list: each links to the list sorted by that column
/// (toggling the direction when it is the current one), keeping the other filters.
pub struct Sorter {
    base: &'static str,
    list: store::SortList,
    /// The filters as `&k=v` pairs, without sort and paging.
    filters: String,
    pub current: Option<store::Sort>,
}

impl Sorter {
    /// Parses the page's `sort` / `dir` (an unknown column is a 422 page naming the field).
    pub fn new(base: &'static str, list: store::SortList, q: &ListQuery, filters: &str) -> Result<Sorter, AppError> {
        let current = list
            .parse(q.sort.as_deref(), q.dir.as_deref())
            .map_err(|m| AppError::invalid(if m.starts_with("dir must") { "dir" } else { "sort" }, m))?;
        Ok(Sorter { base, list, filters: filters.to_string(), current })
    }

    /// `&sort=..&dir=..` of the current sort, for pager and export links.
    pub fn suffix(&self) -> String {
        match &self.current {
            Some(s) => format!("&sort={}&dir={}", s.key, if s.desc { "desc" } else { "asc" }),
            None => String::new(),
        }
    }

    pub fn href(&self, key: &str) -> String {
        let desc = match &self.current {
            Some(s) if s.key == key => !s.desc,
            _ => self.list.parse(Some(key), None).ok().flatten().is_some_and(|s| s.desc),
        };
        format!("{}?sort={key}&dir={}{}", self.base, if desc { "desc" } else { "asc" }, self.filters)
    }

    /// ▲ / ▼ on the current sort column.
    pub fn arrow(&self, key: &str) -> &'static str {
        match &self.current {
            Some(s) if s.key == key && s.desc => " ▼",
            Some(s) if s.key == key => " ▲",
            _ => "",
        }
    }

    /// `aria-sort` value of a column header.
    pub fn aria(&self, key: &str) -> &'static str {
        match &self.current {
            Some(s) if s.key == key && s.desc => "descending",
            Some(s) if s.key == key => "ascending",
            _ => "none",
        }
    }
}

pub fn opt_id(field: &str, v: &Option<String>) -> Result<Option<i64>, AppError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| AppError::invalid(field, "must be a number")),
    }
}

pub struct AccountView {
    id: i64,
    name: String,
    industry: String,
    country: String,
    region: String,
    owner: String,
    employees: String,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    shell: Shell,
    count_all: Option<String>,
    total_label: String,
    q: String,
    regions: Vec<(i64, String, bool)>,
    rows: Vec<AccountView>,
    pager: Pager,
    export_query: String,
    sorter: Sorter,
}

pub async fn accounts(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<ListQuery>) -> PageResult {
    let sh = shell(&p, "accounts");
    let (limit, offset) = page_bounds(q.limit, q.offset).or_page(&p)?;
    let region_id = opt_id("region_id", &q.region_id).or_page(&p)?;
    let exact_count = q.count.as_deref() == Some("exact");
    let filters = query_suffix(&[
        ("q", q.q.clone().unwrap_or_default()),
        ("region_id", region_id.map(|r| r.to_string()).unwrap_or_default()),
    ]);
    let sorter = Sorter::new("/accounts", store::SortList::Accounts, &q, &filters).or_page(&p)?;
    let f =
        AccountFilter { q: q.q.clone(), region_id, exact_count, sort: sorter.current.clone(), ..Default::default() };
    let page = state.app.accounts(&p, &f, limit, offset).await.or_page(&p)?;
    let regions = state.app.regions().await.or_page(&p)?;
    let suffix = format!("{filters}{}", sorter.suffix());
    let view = AccountsPage {
        count_all: (!page.total_exact).then(|| format!("/accounts?count=exact{suffix}")),
        total_label: crate::pages::count_label(&sh.t, page.total, page.total_exact),
        q: q.q.unwrap_or_default(),
        regions: regions.iter().map(|r| (r.id.0, r.name.clone(), Some(r.id.0) == region_id)).collect(),
        rows: page
            .items
            .iter()
            .map(|a| AccountView {
                id: a.account.id.0,
                name: a.account.name.clone(),
                industry: a.account.industry.clone(),
                country: a.account.country.clone(),
                region: a.region_name.clone().unwrap_or_default(),
                owner: a.owner_name.clone(),
                employees: sh.t.int(a.account.employees.into()),
            })
            .collect(),
        pager: pager(&sh.t, "/accounts", &suffix, (page.total, page.total_exact, page.items.len()), limit, offset),
        export_query: suffix,
        sorter,
        shell: sh,
    };
    Ok(render(&view))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    shell: Shell,
    name: String,
    industry: String,
    city: String,
    country: String,
    owner: String,
    region: String,
    employees: String,
    postal_code: String,
    time_zone: String,
    local_time: String,
    currency: String,
    created: String,
    domain: String,
    opportunities: Vec<OppView>,
    /// (name, title, e-mail)
    contacts: Vec<(String, String, String)>,
}

pub(crate) fn parse_id(p: &Principal, raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>().map_err(|_| PageError::new(AppError::NotFound, Some(p)))
}

pub async fn account(State(state): State<AppState>, PageAuth(p): PageAuth, Path(raw): Path<String>) -> PageResult {
    let id = parse_id(&p, &raw)?;
    let sh = shell(&p, "accounts");
    let a = state.app.account(&p, AccountId(id)).await.or_page(&p)?;
    let f = OpportunityFilter { account_id: Some(id), ..Default::default() };
    let opps = state.app.opportunities(&p, &f, 100, 0).await.or_page(&p)?;
    let cf = store::ContactFilter { account_id: Some(AccountId(id)), ..Default::default() };
    let contacts = state.app.contacts(&p, &cf, 100, 0).await.or_page(&p)?;
    let local = state.app.now().to_zoned(a.account.time_zone.tz());
    let view = AccountPage {
        name: a.account.name.clone(),
        industry: a.account.industry.clone(),
        city: a.account.city.clone(),
        country: a.account.country.clone(),
        owner: a.owner_name.clone(),
        region: a.region_name.clone().unwrap_or_default(),
        employees: sh.t.int(a.account.employees.into()),
        postal_code: a.account.postal_code.clone(),
        time_zone: a.account.time_zone.as_str().to_string(),
        local_time: format!("{:02}:{:02}", local.hour(), local.minute()),
        currency: a.account.currency.code().to_string(),
        created: sh.t.ts(a.account.created_at),
        domain: a.account.domain.clone().unwrap_or_default(),
        opportunities: opps.items.iter().map(|o| opp_view(&sh.t, o)).collect(),
        contacts: contacts
            .items
            .iter()
            .map(|c| {
                let ct = &c.contact;
                (
                    format!("{} {}", ct.first_name, ct.last_name).trim().to_string(),
                    ct.title.clone(),
                    ct.email.clone().unwrap_or_default(),
                )
            })
            .collect(),
        shell: sh,
    };
    Ok(render(&view))
}

#[derive(Template)]
#[template(path = "opportunities.html")]
struct OpportunitiesPage {
    shell: Shell,
    count_all: Option<String>,
    total_label: String,
    /// The list's amounts added up in the reporting currency (empty when not counted).
    amount_total: String,
    q: String,
    status: String,
    /// (id, "Pipeline · Stage", selected)
    stages: Vec<(i64, String, bool)>,
    /// The owner filter: (user id, name).
    owner: Option<(i64, String)>,
    rows: Vec<OppView>,
    pager: Pager,
    export_query: String,
    sorter: Sorter,
}

pub async fn opportunities(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let sh = shell(&p, "opportunities");
    let (limit, offset) = page_bounds(q.limit, q.offset).or_page(&p)?;
    let status = q.status.clone().unwrap_or_default();
    let stage_kind =
        if status.is_empty() { None } else { Some(StageKind::parse(&status).map_err(AppError::from).or_page(&p)?) };
    let exact_count = q.count.as_deref() == Some("exact");
    let owner_id = opt_id("owner_id", &q.owner_id).or_page(&p)?;
    let stage_id = opt_id("stage_id", &q.stage_id).or_page(&p)?;
    let filters = query_suffix(&[
        ("q", q.q.clone().unwrap_or_default()),
        ("status", status.clone()),
        ("owner_id", owner_id.map(|o| o.to_string()).unwrap_or_default()),
        ("stage_id", stage_id.map(|o| o.to_string()).unwrap_or_default()),
    ]);
    let sorter = Sorter::new("/opportunities", store::SortList::Opportunities, &q, &filters).or_page(&p)?;
    let f = OpportunityFilter {
        q: q.q.clone(),
        owner_id,
        stage_id,
        stage_kind,
        exact_count,
        sort: sorter.current.clone(),
        ..Default::default()
    };
    let page = state.app.opportunities(&p, &f, limit, offset).await.or_page(&p)?;
    let pipelines = state.app.store.pipeline_list().await.map_err(AppError::from).or_page(&p)?;
    let stages = pipelines
        .iter()
        .flat_map(|pl| {
            pl.stages.iter().map(move |s| (s.id.0, format!("{} · {}", pl.name, s.name), Some(s.id.0) == stage_id))
        })
        .collect();
    let owner_name =
        owner_id.and_then(|o| page.items.iter().find(|r| r.opportunity.owner_id.0 == o)).map(|r| r.owner_name.clone());
    let suffix = format!("{filters}{}", sorter.suffix());
    // The amount total once every match is counted (a small list, or "count all" asked for).
    let amount_total = if page.total_exact && page.total > 0 {
        let t = state.app.opportunities_total(&p, &f).await.or_page(&p)?;
        amount_total_label(&sh.t, &t)
    } else {
        String::new()
    };
    let view = OpportunitiesPage {
        amount_total,
        count_all: (!page.total_exact).then(|| format!("/opportunities?count=exact{suffix}")),
        total_label: crate::pages::count_label(&sh.t, page.total, page.total_exact),
        q: q.q.unwrap_or_default(),
        status,
        stages,
        owner: owner_id.map(|o| (o, owner_name.unwrap_or_else(|| format!("#{o}")))),
        rows: page.items.iter().map(|o| opp_view(&sh.t, o)).collect(),
        pager: pager(&sh.t, "/opportunities", &suffix, (page.total, page.total_exact, page.items.len()), limit, offset),
        export_query: suffix,
        sorter,
        shell: sh,
    };
    Ok(render(&view))
}

/// "Total 12,345 EUR", saying how other currencies were converted.
pub(crate) fn amount_total_label(t: &crate::i18n::Tr, total: &app::AmountTotal) -> String {
    match &total.total {
        Ok(m) if total.currencies.iter().all(|c| c == total.reporting.code()) => {
            t.t1("list-amount-total", "amount", model::format_money(t.locale, *m))
        }
        Ok(m) => t.targs(
            "list-amount-total-converted",
            &[("amount", model::format_money(t.locale, *m)), ("currencies", total.currencies.join(", "))],
        ),
        Err(e) => t.t1("list-amount-total-missing", "reason", e),
    }
}
