//! Pages of the catalogue (products and price books), the products and quotes of an opportunity,
//! the quote and order lists, and the order page with its installation steps.

use askama::Template;
use axum::extract::{Path, Query, State};
use rust_decimal::Decimal;

use crate::AppState;
use crate::auth::{FormAuth, PageAuth};
use crate::pages::{
    ListQuery, OrPage, PageError, PageResult, count_label, pager, parse_id, query_suffix, render, see_other,
    shell_flash,
};
use crate::pages_admin::error_text;
use app::{
    AppError, LineInput, OrderInput, OrderStepInput, PriceBookInput, PriceInput, Principal, ProductInput, QuoteInput,
    QuoteStatusInput, page_bounds,
};
use model::{Money, OpportunityId, OrderId, Permission, QuoteId, QuoteStatus};

/// A number as typed into a form: "1250,50" (comma as decimal separator) reads as 1250.50.
fn form_number(s: &str) -> String {
    let t: String = s.trim().chars().filter(|c| !c.is_whitespace()).collect();
    if t.contains(',') && !t.contains('.') { t.replace(',', ".") } else { t }
}

fn user_error(e: AppError, p: &Principal) -> Result<String, PageError> {
    match e {
        e @ (AppError::Invalid { .. } | AppError::Conflict(_) | AppError::Refused(_)) => Ok(error_text(&e)),
        e => Err(PageError::new(e, Some(p))),
    }
}

fn redirect_with_error(to: &str, e: AppError, p: &Principal) -> PageResult {
    let msg = user_error(e, p)?;
    Ok(see_other(&format!("{to}?error={}", crate::pages::url_encode(&msg))))
}

fn quote_status_label(t: &crate::i18n::Tr, s: QuoteStatus) -> String {
    t.t(&format!("quote-status-{}", s.as_str()))
}

fn order_status_label(t: &crate::i18n::Tr, s: &str) -> String {
    t.t(&format!("order-status-{s}"))
}

// ---- catalogue ------------------------------------------------------------------------------

pub struct ProductView {
    id: i64,
    code: String,
    name: String,
    family: String,
    unit: String,
    active: bool,
    /// One cell per price book, in the order of `books`.
    prices: Vec<String>,
}

#[derive(Template)]
#[template(path = "products.html")]
struct ProductsPage {
    shell: crate::pages::Shell,
    /// (id, "Standard EUR")
    books: Vec<(i64, String)>,
    products: Vec<ProductView>,
    can_admin: bool,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct MsgQuery {
    pub done: Option<String>,
    pub error: Option<String>,
}

pub async fn products(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<MsgQuery>) -> PageResult {
    let sh = shell_flash(&p, "products", q.done.as_deref());
    let can_admin = p.can(Permission::AdministerOrganisation);
    let (rows, books) = state.app.products(can_admin).await.or_page(&p)?;
    let view = ProductsPage {
        books: books
            .iter()
            .map(|b| {
                // "EUR" for the standard price book of a currency, "Partner EUR" for others.
                let mut label = if b.name == "Standard" {
                    b.currency.code().to_string()
                } else {
                    format!("{} {}", b.name, b.currency.code())
                };
                if !b.active {
                    label.push_str(&format!(" ({})", sh.t.t("inactive")));
                }
                (b.id.0, label)
            })
            .collect(),
        products: rows
            .iter()
            .map(|r| ProductView {
                id: r.product.id.0,
                code: r.product.code.clone(),
                name: r.product.name.clone(),
                family: r.product.family.clone(),
                unit: r.product.unit.clone(),
                active: r.product.active,
                prices: books
                    .iter()
                    .map(|b| {
                        r.prices
                            .iter()
                            .find(|e| e.price_book_id == b.id)
                            .map(|e| sh.t.money(&Money::new(e.unit_price, b.currency)))
                            .unwrap_or_default()
                    })
                    .collect(),
            })
            .collect(),
        can_admin,
        error: q.error,
        shell: sh,
    };
    Ok(render(&view))
}

pub async fn product_save(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = f.id("id").or_page(p)?;
    let input = ProductInput {
        code: f.get("code").into(),
        name: f.get("name").into(),
        family: f.get("family").into(),
        unit: f.get("unit").into(),
        active: id.is_none() || f.get("active") == "on",
    };
    match state.app.save_product(p, id, &input).await {
        Ok(_) => Ok(see_other("/products?done=saved")),
        Err(e) => redirect_with_error("/products", e, p),
    }
}

pub async fn price_book_create(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let input = PriceBookInput { name: f.get("name").into(), currency: f.get("currency").into(), active: true };
    match state.app.save_price_book(p, None, &input).await {
        Ok(_) => Ok(see_other("/products?done=saved")),
        Err(e) => redirect_with_error("/products", e, p),
    }
}

pub async fn price_set(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let book = f.id("price_book_id").or_page(p)?.unwrap_or(0);
    let product_id = f.id("product_id").or_page(p)?.unwrap_or(0);
    let price = form_number(f.get("unit_price"));
    let input = [PriceInput { product_id, unit_price: Some(price).filter(|s| !s.is_empty()) }];
    match state.app.set_prices(p, book, &input).await {
        Ok(()) => Ok(see_other("/products?done=saved")),
        Err(e) => redirect_with_error("/products", e, p),
    }
}

// ---- opportunity lines and quotes (forms on the opportunity page) ---------------------------

pub async fn lines_save(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let mut input = vec![];
    // Existing lines are product_0.., the empty row for a new one is product_new.
    let mut keys: Vec<String> =
        f.form.keys().filter_map(|k| k.strip_prefix("product_").map(str::to_string)).filter(|k| k != "new").collect();
    keys.sort_by_key(|k| k.parse::<i64>().unwrap_or(i64::MAX));
    keys.push("new".into());
    for k in keys {
        let product = f.get(&format!("product_{k}")).trim().to_string();
        if product.is_empty() || f.get(&format!("remove_{k}")) == "on" {
            continue;
        }
        let product_id = product.parse().map_err(|_| AppError::invalid("product_id", "choose a product")).or_page(p)?;
        let quantity = form_number(f.get(&format!("quantity_{k}")));
        input.push(LineInput {
            product_id,
            quantity: if quantity.is_empty() { "1".into() } else { quantity },
            unit_price: Some(form_number(f.get(&format!("price_{k}")))).filter(|s| !s.is_empty()),
            discount_percent: Some(form_number(f.get(&format!("discount_{k}")))).filter(|s| !s.is_empty()),
        });
    }
    let to = format!("/opportunities/{id}");
    match state.app.set_opportunity_lines(p, OpportunityId(id), &input).await {
        Ok(_) => Ok(see_other(&format!("{to}?done=saved#products"))),
        Err(e) => redirect_with_error(&to, e, p),
    }
}

pub async fn quote_create(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let input = QuoteInput { valid_until: Some(f.get("valid_until").to_string()).filter(|s| !s.trim().is_empty()) };
    let to = format!("/opportunities/{id}");
    match state.app.create_quote(p, OpportunityId(id), &input).await {
        Ok(_) => Ok(see_other(&format!("{to}?done=saved#quotes"))),
        Err(e) => redirect_with_error(&to, e, p),
    }
}

pub async fn quote_status(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let back = f.get("back").trim().to_string();
    let to = if back.starts_with("/opportunities/") || back == "/quotes" { back } else { "/quotes".to_string() };
    let input = QuoteStatusInput { status: f.get("status").into(), at: None };
    match state.app.set_quote_status(p, QuoteId(id), &input).await {
        Ok(_) => Ok(see_other(&format!("{to}?done=saved"))),
        Err(e) => redirect_with_error(&to, e, p),
    }
}

pub async fn order_create(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let input = OrderInput {
        ordered_on: Some(f.get("ordered_on").to_string()).filter(|s| !s.trim().is_empty()),
        quote_id: f.id("quote_id").or_page(p)?,
    };
    match state.app.create_order(p, OpportunityId(id), &input).await {
        Ok(order) => Ok(see_other(&format!("/orders/{}?done=saved", order.0))),
        Err(e) => redirect_with_error(&format!("/opportunities/{id}"), e, p),
    }
}

// ---- quote list ------------------------------------------------------------------------------

pub struct QuoteView {
    pub id: i64,
    pub number: String,
    pub opportunity_id: i64,
    pub opportunity: String,
    pub account: String,
    pub owner: String,
    pub status: &'static str,
    pub status_label: String,
    pub amount: String,
    pub created: String,
    pub sent: String,
    pub answered: String,
    pub valid_until: String,
    /// (status, label) of the steps this quote can take.
    pub next: Vec<(&'static str, String)>,
}

pub fn quote_view(t: &crate::i18n::Tr, r: &store::QuoteRow, can_write: bool) -> QuoteView {
    let q = &r.quote;
    QuoteView {
        id: q.id.0,
        number: q.number.clone(),
        opportunity_id: q.opportunity_id.0,
        opportunity: r.opportunity_name.clone(),
        account: r.account_name.clone(),
        owner: r.owner_name.clone(),
        status: q.status.as_str(),
        status_label: quote_status_label(t, q.status),
        amount: t.money(&q.amount),
        created: t.ts(q.created_at),
        sent: q.sent_at.map(|x| t.ts(x)).unwrap_or_default(),
        answered: q.answered_at.map(|x| t.ts(x)).unwrap_or_default(),
        valid_until: q.valid_until.map(|d| t.date(d)).unwrap_or_default(),
        next: if can_write {
            QuoteStatus::ALL
                .into_iter()
                .filter(|s| q.status.can_move_to(*s))
                .map(|s| (s.as_str(), t.t(&format!("quote-to-{}", s.as_str()))))
                .collect()
        } else {
            vec![]
        },
    }
}

#[derive(Template)]
#[template(path = "quotes.html")]
struct QuotesPage {
    shell: crate::pages::Shell,
    total_label: String,
    status: String,
    statuses: Vec<(&'static str, String)>,
    rows: Vec<QuoteView>,
    pager: crate::pages::Pager,
    export_query: String,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct CommerceListQuery {
    pub status: Option<String>,
    pub owner_id: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub done: Option<String>,
    pub error: Option<String>,
}

pub async fn quotes(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<CommerceListQuery>,
) -> PageResult {
    let sh = shell_flash(&p, "quotes", q.done.as_deref());
    let (limit, offset) = page_bounds(q.limit, q.offset).or_page(&p)?;
    let status = q.status.clone().unwrap_or_default();
    let owner = crate::pages::opt_id("owner_id", &q.owner_id).or_page(&p)?;
    let f = crate::api_commerce::quote_filter(None, owner, Some(&status), &None).or_page(&p)?;
    let page = state.app.quotes(&p, &f, limit, offset).await.or_page(&p)?;
    let suffix = query_suffix(&[("status", status.clone()), ("owner_id", q.owner_id.clone().unwrap_or_default())]);
    let can_write = p.can(Permission::WriteRecords);
    let view = QuotesPage {
        total_label: count_label(&sh.t, page.total, page.total_exact),
        statuses: QuoteStatus::ALL.iter().map(|s| (s.as_str(), quote_status_label(&sh.t, *s))).collect(),
        status,
        rows: page.items.iter().map(|r| quote_view(&sh.t, r, can_write)).collect(),
        pager: pager(&sh.t, "/quotes", &suffix, (page.total, page.total_exact, page.items.len()), limit, offset),
        export_query: suffix,
        error: q.error,
        shell: sh,
    };
    Ok(render(&view))
}

// ---- orders ----------------------------------------------------------------------------------

pub struct OrderView {
    id: i64,
    number: String,
    opportunity_id: i64,
    opportunity: String,
    account_id: i64,
    account: String,
    owner: String,
    amount: String,
    ordered_on: String,
    status: &'static str,
    status_label: String,
    installation_date: String,
    failed: i32,
    cancel_reason: String,
}

fn order_view(t: &crate::i18n::Tr, r: &store::OrderRow) -> OrderView {
    let o = &r.order;
    OrderView {
        id: o.id.0,
        number: o.number.clone(),
        opportunity_id: o.opportunity_id.0,
        opportunity: r.opportunity_name.clone(),
        account_id: o.account_id.0,
        account: r.account_name.clone(),
        owner: r.owner_name.clone(),
        amount: t.money(&o.amount),
        ordered_on: t.date(o.ordered_on),
        status: o.status(),
        status_label: order_status_label(t, o.status()),
        installation_date: o.installation_date.map(|d| t.date(d)).unwrap_or_default(),
        failed: o.failed_installations,
        cancel_reason: o.cancel_reason.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    shell: crate::pages::Shell,
    total_label: String,
    status: String,
    statuses: Vec<(&'static str, String)>,
    rows: Vec<OrderView>,
    pager: crate::pages::Pager,
    export_query: String,
}

const ORDER_STATUSES: [&str; 4] = ["pending", "scheduled", "installed", "cancelled"];

pub async fn orders(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<ListQuery>) -> PageResult {
    let sh = shell_flash(&p, "orders", q.done.as_deref());
    let (limit, offset) = page_bounds(q.limit, q.offset).or_page(&p)?;
    let status = q.status.clone().unwrap_or_default();
    let f = crate::api_commerce::order_filter(crate::api_commerce::OrderParams {
        opportunity_id: None,
        account_id: None,
        owner_id: crate::pages::opt_id("owner_id", &q.owner_id).or_page(&p)?,
        status: Some(&status),
        from: &None,
        to: &None,
        count: &q.count,
    })
    .or_page(&p)?;
    let page = state.app.orders(&p, &f, limit, offset).await.or_page(&p)?;
    let suffix = query_suffix(&[("status", status.clone()), ("owner_id", q.owner_id.clone().unwrap_or_default())]);
    let view = OrdersPage {
        total_label: count_label(&sh.t, page.total, page.total_exact),
        statuses: ORDER_STATUSES.iter().map(|s| (*s, order_status_label(&sh.t, s))).collect(),
        status,
        rows: page.items.iter().map(|r| order_view(&sh.t, r)).collect(),
        pager: pager(&sh.t, "/orders", &suffix, (page.total, page.total_exact, page.items.len()), limit, offset),
        export_query: suffix,
        shell: sh,
    };
    Ok(render(&view))
}

pub struct EventView {
    kind: String,
    at: String,
    on_date: String,
    note: String,
    by: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    shell: crate::pages::Shell,
    o: OrderView,
    installation_status: String,
    quote_id: Option<i64>,
    events: Vec<EventView>,
    can_write: bool,
    is_open: bool,
    is_scheduled: bool,
    is_installed: bool,
    today: String,
    error: Option<String>,
}

pub async fn order(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Path(raw): Path<String>,
    Query(q): Query<MsgQuery>,
) -> PageResult {
    let id = parse_id(&p, &raw)?;
    let sh = shell_flash(&p, "orders", q.done.as_deref());
    let d = state.app.order(&p, OrderId(id)).await.or_page(&p)?;
    let o = &d.row.order;
    let view = OrderPage {
        installation_status: sh.t.t(&format!("order-status-{}", o.installation_status.as_str())),
        quote_id: o.quote_id.map(|q| q.0),
        events: d
            .events
            .iter()
            .map(|e| EventView {
                kind: sh.t.t(&format!("order-event-{}", e.event.kind.replace('_', "-"))),
                at: sh.t.ts(e.event.at),
                on_date: e.event.on_date.map(|x| sh.t.date(x)).unwrap_or_default(),
                note: e.event.note.clone(),
                by: e.actor_name.clone().unwrap_or_default(),
            })
            .rev()
            .collect(),
        can_write: p.can(Permission::WriteRecords),
        is_open: o.cancelled_at.is_none(),
        is_scheduled: o.installation_status == model::InstallationStatus::Scheduled,
        is_installed: o.installation_status == model::InstallationStatus::Installed,
        today: state.app.now().to_zoned(p.user.time_zone.tz()).date().to_string(),
        o: order_view(&sh.t, &d.row),
        error: q.error,
        shell: sh,
    };
    Ok(render(&view))
}

pub async fn order_step(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let input = OrderStepInput {
        action: f.get("action").into(),
        date: Some(f.get("date").to_string()).filter(|s| !s.trim().is_empty()),
        reason: Some(f.get("reason").to_string()),
    };
    let to = format!("/orders/{id}");
    match state.app.order_step(p, OrderId(id), &input).await {
        Ok(_) => Ok(see_other(&format!("{to}?done=saved"))),
        Err(e) => redirect_with_error(&to, e, p),
    }
}

// ---- the opportunity page's commerce panels ---------------------------------------------------

pub struct LineView {
    pub key: String,
    pub product_id: i64,
    pub product: String,
    pub quantity: String,
    pub unit_price: String,
    pub unit_price_raw: String,
    pub discount: String,
    pub total: String,
}

/// What the opportunity page shows about products, quotes and the order.
pub struct CommercePanels {
    pub lines: Vec<LineView>,
    pub lines_total: String,
    /// (id, "SW-CORE · Core platform licence (600.00 EUR)") of active products.
    pub product_options: Vec<(i64, String)>,
    pub quotes: Vec<QuoteView>,
    pub accepted_quote: Option<i64>,
    pub order: Option<(i64, String, String)>,
    pub default_valid_until: String,
}

pub async fn panels(
    state: &AppState,
    p: &Principal,
    id: OpportunityId,
    currency: model::Currency,
    t: &crate::i18n::Tr,
) -> Result<CommercePanels, AppError> {
    let lines = state.app.opportunity_lines(p, id).await?;
    let (products, books) = state.app.products(false).await?;
    let book = books.iter().find(|b| b.active && b.currency == currency);
    let can_write = p.can(Permission::WriteRecords);
    let quotes =
        state.app.quotes(p, &store::QuoteFilter { opportunity_id: Some(id.0), ..Default::default() }, 50, 0).await?;
    let orders =
        state.app.orders(p, &store::OrderFilter { opportunity_id: Some(id.0), ..Default::default() }, 1, 0).await?;
    let total: Decimal = lines.iter().map(|l| l.line.total).sum();
    Ok(CommercePanels {
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, l)| LineView {
                key: i.to_string(),
                product_id: l.line.product_id.0,
                product: format!("{} · {}", l.code, l.name),
                quantity: l.line.quantity.normalize().to_string(),
                unit_price: t.money(&Money::new(l.line.unit_price, currency)),
                unit_price_raw: l.line.unit_price.to_string(),
                discount: l.line.discount_percent.normalize().to_string(),
                total: t.money(&Money::new(l.line.total, currency)),
            })
            .collect(),
        lines_total: t.money(&Money::new(total, currency)),
        product_options: products
            .iter()
            .map(|r| {
                let price = book
                    .and_then(|b| r.prices.iter().find(|e| e.price_book_id == b.id))
                    .map(|e| format!(" ({})", t.money(&Money::new(e.unit_price, currency))))
                    .unwrap_or_default();
                (r.product.id.0, format!("{} · {}{price}", r.product.code, r.product.name))
            })
            .collect(),
        accepted_quote: quotes.items.iter().find(|q| q.quote.status == QuoteStatus::Accepted).map(|q| q.quote.id.0),
        quotes: quotes.items.iter().map(|q| quote_view(t, q, can_write)).collect(),
        order: orders
            .items
            .first()
            .map(|o| (o.order.id.0, o.order.number.clone(), order_status_label(t, o.order.status()))),
        default_valid_until: state
            .app
            .now()
            .to_zoned(p.user.time_zone.tz())
            .date()
            .saturating_add(jiff::Span::new().days(30))
            .to_string(),
    })
}
