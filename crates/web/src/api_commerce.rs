//! Catalogue, opportunity lines, quotes and orders endpoints.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{
    ApiResult, ListFormat, MoneyDto, PageDto, all_pages, csv_response, date, exact_count, list_format, page,
};
use crate::api_crm::CreatedDto;
use crate::auth::ApiAuth;
use crate::error::ErrorBody;
use crate::extract::{ApiId, ApiJson, ApiQuery};
use app::{
    AppError, LineInput, OrderInput, OrderStepInput, PriceBookInput, PriceInput, ProductInput, QuoteInput,
    QuoteStatusInput, page_bounds,
};
use model::{OpportunityId, OrderId, QuoteId, QuoteStatus};
use store::{LineRow, OrderFilter, OrderRow, ProductRow, QuoteFilter, QuoteRow};

/// The whole filtered list as a JSON array to download.
fn json_download<T: Serialize>(name: &str, items: &[T]) -> Response {
    ([(axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.json\""))], axum::Json(items))
        .into_response()
}

#[derive(Serialize, ToSchema)]
pub struct PriceDto {
    pub price_book_id: i64,
    pub currency: String,
    /// Exact decimal text.
    pub unit_price: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProductDto {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// Product line.
    pub family: String,
    pub unit: String,
    pub active: bool,
    pub prices: Vec<PriceDto>,
}

#[derive(Serialize, ToSchema)]
pub struct PriceBookDto {
    pub id: i64,
    pub name: String,
    pub currency: String,
    pub active: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CatalogueDto {
    pub products: Vec<ProductDto>,
    pub price_books: Vec<PriceBookDto>,
}

fn product_dto(r: &ProductRow, books: &[model::PriceBook]) -> ProductDto {
    ProductDto {
        id: r.product.id.0,
        code: r.product.code.clone(),
        name: r.product.name.clone(),
        family: r.product.family.clone(),
        unit: r.product.unit.clone(),
        active: r.product.active,
        prices: r
            .prices
            .iter()
            .map(|e| PriceDto {
                price_book_id: e.price_book_id.0,
                currency: books
                    .iter()
                    .find(|b| b.id == e.price_book_id)
                    .map(|b| b.currency.code().to_string())
                    .unwrap_or_default(),
                unit_price: e.unit_price.to_string(),
            })
            .collect(),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CatalogueQuery {
    /// Include products no longer sold.
    pub inactive: Option<bool>,
}

/// The product catalogue with prices per price book, and the price books.
#[utoipa::path(get, path = "/api/v1/products", tag = "products", params(CatalogueQuery),
    responses((status = 200, body = CatalogueDto)))]
pub async fn products(
    State(s): State<AppState>,
    ApiAuth(_p): ApiAuth,
    ApiQuery(q): ApiQuery<CatalogueQuery>,
) -> ApiResult<axum::Json<CatalogueDto>> {
    let (rows, books) = s.app.products(q.inactive.unwrap_or(false)).await?;
    Ok(axum::Json(CatalogueDto {
        products: rows.iter().map(|r| product_dto(r, &books)).collect(),
        price_books: books
            .iter()
            .map(|b| PriceBookDto {
                id: b.id.0,
                name: b.name.clone(),
                currency: b.currency.code().into(),
                active: b.active,
            })
            .collect(),
    }))
}

/// Adds a product (administrators).
#[utoipa::path(post, path = "/api/v1/products", tag = "products", request_body = ProductInput,
    responses((status = 201, body = CreatedDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn product_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<ProductInput>,
) -> ApiResult<(StatusCode, axum::Json<CreatedDto>)> {
    let id = s.app.save_product(&p, None, &b).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedDto { id: id.0 })))
}

/// Changes a product (administrators); `active: false` stops selling it.
#[utoipa::path(put, path = "/api/v1/products/{id}", tag = "products", params(("id" = i64, Path)), request_body = ProductInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn product_update(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ProductInput>,
) -> ApiResult<StatusCode> {
    s.app.save_product(&p, Some(id), &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a price book in a currency (administrators).
#[utoipa::path(post, path = "/api/v1/price-books", tag = "products", request_body = PriceBookInput,
    responses((status = 201, body = CreatedDto), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn price_book_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<PriceBookInput>,
) -> ApiResult<(StatusCode, axum::Json<CreatedDto>)> {
    let id = s.app.save_price_book(&p, None, &b).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedDto { id: id.0 })))
}

/// Sets or removes prices in a price book, all or nothing (administrators).
#[utoipa::path(put, path = "/api/v1/price-books/{id}/prices", tag = "products", params(("id" = i64, Path)), request_body = [PriceInput],
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn prices_set(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<Vec<PriceInput>>,
) -> ApiResult<StatusCode> {
    s.app.set_prices(&p, id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct LineDto {
    pub position: i32,
    pub product_id: i64,
    pub code: String,
    pub name: String,
    pub family: String,
    pub unit: String,
    pub quantity: String,
    pub unit_price: String,
    pub discount_percent: String,
    pub total: String,
}

fn line_dto(l: &LineRow) -> LineDto {
    LineDto {
        position: l.line.position,
        product_id: l.line.product_id.0,
        code: l.code.clone(),
        name: l.name.clone(),
        family: l.family.clone(),
        unit: l.unit.clone(),
        quantity: l.line.quantity.normalize().to_string(),
        unit_price: l.line.unit_price.to_string(),
        discount_percent: l.line.discount_percent.normalize().to_string(),
        total: l.line.total.to_string(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct LinesDto {
    /// The opportunity's amount: the sum of its lines when it has any.
    pub amount: MoneyDto,
    pub lines: Vec<LineDto>,
}

/// The products of an opportunity.
#[utoipa::path(get, path = "/api/v1/opportunities/{id}/lines", tag = "products", params(("id" = i64, Path)),
    responses((status = 200, body = [LineDto]), (status = 404, body = ErrorBody)))]
pub async fn lines(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<axum::Json<Vec<LineDto>>> {
    Ok(axum::Json(s.app.opportunity_lines(&p, OpportunityId(id)).await?.iter().map(line_dto).collect()))
}

/// Replaces the products of an open opportunity; its amount becomes their sum. Prices come from
/// the active price book of the opportunity's currency unless given. Errors name the line
/// (`lines[2].quantity`).
#[utoipa::path(put, path = "/api/v1/opportunities/{id}/lines", tag = "products", params(("id" = i64, Path)), request_body = [LineInput],
    responses((status = 200, body = LinesDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn lines_set(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<Vec<LineInput>>,
) -> ApiResult<axum::Json<LinesDto>> {
    let (amount, rows) = s.app.set_opportunity_lines(&p, OpportunityId(id), &b).await?;
    Ok(axum::Json(LinesDto { amount: (&amount).into(), lines: rows.iter().map(line_dto).collect() }))
}

#[derive(Serialize, ToSchema)]
pub struct QuoteLineDto {
    pub product_id: i64,
    pub code: String,
    pub name: String,
    pub quantity: String,
    pub unit_price: String,
    pub discount_percent: String,
    pub total: String,
}

#[derive(Serialize, ToSchema)]
pub struct QuoteDto {
    pub id: i64,
    pub number: String,
    pub opportunity_id: i64,
    pub opportunity_name: String,
    pub account_name: String,
    pub owner_id: i64,
    pub owner_name: String,
    /// draft, sent, accepted, rejected or withdrawn.
    pub status: String,
    pub amount: MoneyDto,
    pub lines: Vec<QuoteLineDto>,
    pub valid_until: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub answered_at: Option<String>,
}

fn quote_dto(r: &QuoteRow) -> QuoteDto {
    let q = &r.quote;
    QuoteDto {
        id: q.id.0,
        number: q.number.clone(),
        opportunity_id: q.opportunity_id.0,
        opportunity_name: r.opportunity_name.clone(),
        account_name: r.account_name.clone(),
        owner_id: q.owner_id.0,
        owner_name: r.owner_name.clone(),
        status: q.status.as_str().into(),
        amount: (&q.amount).into(),
        lines: q
            .lines
            .iter()
            .map(|l| QuoteLineDto {
                product_id: l.product_id.0,
                code: l.code.clone(),
                name: l.name.clone(),
                quantity: l.quantity.normalize().to_string(),
                unit_price: l.unit_price.to_string(),
                discount_percent: l.discount_percent.normalize().to_string(),
                total: l.total.to_string(),
            })
            .collect(),
        valid_until: q.valid_until.map(|d| d.to_string()),
        created_at: q.created_at.to_string(),
        sent_at: q.sent_at.map(|t| t.to_string()),
        answered_at: q.answered_at.map(|t| t.to_string()),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QuoteQuery {
    pub opportunity_id: Option<i64>,
    pub owner_id: Option<i64>,
    /// draft, sent, accepted, rejected or withdrawn.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// json (a page, default), csv or json_export (the whole filtered list).
    pub format: Option<String>,
    pub count: Option<String>,
}

pub(crate) fn quote_filter(
    opportunity_id: Option<i64>,
    owner_id: Option<i64>,
    status: Option<&str>,
    count: &Option<String>,
) -> Result<QuoteFilter, AppError> {
    Ok(QuoteFilter {
        opportunity_id,
        owner_id,
        status: status.filter(|s| !s.is_empty()).map(QuoteStatus::parse).transpose()?,
        exact_count: exact_count(count)?,
    })
}

pub(crate) const QUOTE_CSV_HEADER: [&str; 13] = [
    "id",
    "number",
    "opportunity_id",
    "opportunity_name",
    "account_name",
    "owner_name",
    "status",
    "amount",
    "currency",
    "valid_until",
    "created_at",
    "sent_at",
    "answered_at",
];

pub(crate) fn quote_csv_row(r: &QuoteRow) -> Vec<String> {
    let d = quote_dto(r);
    vec![
        d.id.to_string(),
        d.number,
        d.opportunity_id.to_string(),
        d.opportunity_name,
        d.account_name,
        d.owner_name,
        d.status,
        d.amount.amount,
        d.amount.currency,
        d.valid_until.unwrap_or_default(),
        d.created_at,
        d.sent_at.unwrap_or_default(),
        d.answered_at.unwrap_or_default(),
    ]
}

/// Quotes of the opportunities you may see, newest first; `format=csv` exports them all.
#[utoipa::path(get, path = "/api/v1/quotes", tag = "products", params(QuoteQuery),
    responses((status = 200, body = PageDto<QuoteDto>), (status = 400, body = ErrorBody)))]
pub async fn quotes(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<QuoteQuery>,
) -> ApiResult<Response> {
    let f = quote_filter(q.opportunity_id, q.owner_id, q.status.as_deref(), &q.count)?;
    let format = list_format(&q.format)?;
    if format != ListFormat::Page {
        let rows = all_pages(|offset| {
            let (s, p, f) = (s.clone(), p.clone(), f.clone());
            async move { s.app.quotes(&p, &f, app::MAX_PAGE, offset).await }
        })
        .await?;
        s.app.audit_export(&p, "quotes").await?;
        if format == ListFormat::Json {
            return Ok(json_download("quotes", &rows.iter().map(quote_dto).collect::<Vec<_>>()));
        }
        return csv_response("quotes", &QUOTE_CSV_HEADER, rows.iter().map(quote_csv_row).collect());
    }
    let (limit, offset) = page_bounds(q.limit, q.offset)?;
    Ok(axum::Json(page(s.app.quotes(&p, &f, limit, offset).await?, quote_dto)).into_response())
}

/// One quote, with the lines as they were when it was made.
#[utoipa::path(get, path = "/api/v1/quotes/{id}", tag = "products", params(("id" = i64, Path)),
    responses((status = 200, body = QuoteDto), (status = 404, body = ErrorBody)))]
pub async fn quote(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<axum::Json<QuoteDto>> {
    Ok(axum::Json(quote_dto(&s.app.quote(&p, QuoteId(id)).await?)))
}

/// Makes a draft quote from the opportunity's current products.
#[utoipa::path(post, path = "/api/v1/opportunities/{id}/quotes", tag = "products", params(("id" = i64, Path)), request_body = QuoteInput,
    responses((status = 201, body = QuoteDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn quote_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<QuoteInput>,
) -> ApiResult<(StatusCode, axum::Json<QuoteDto>)> {
    let q = s.app.create_quote(&p, OpportunityId(id), &b).await?;
    Ok((StatusCode::CREATED, axum::Json(quote_dto(&q))))
}

/// Sends a quote, records the customer's answer, or withdraws it. Draft → sent → accepted or
/// rejected; draft or sent → withdrawn. Anything else is `refused` (409).
#[utoipa::path(post, path = "/api/v1/quotes/{id}/status", tag = "products", params(("id" = i64, Path)), request_body = QuoteStatusInput,
    responses((status = 200, body = QuoteDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn quote_status(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<QuoteStatusInput>,
) -> ApiResult<axum::Json<QuoteDto>> {
    Ok(axum::Json(quote_dto(&s.app.set_quote_status(&p, QuoteId(id), &b).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct OrderEventDto {
    /// created, scheduled, installed, installation_failed or cancelled.
    pub kind: String,
    pub at: String,
    pub on_date: Option<String>,
    pub note: String,
    pub actor_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderDto {
    pub id: i64,
    pub number: String,
    pub opportunity_id: i64,
    pub opportunity_name: String,
    pub account_id: i64,
    pub account_name: String,
    pub owner_id: i64,
    pub owner_name: String,
    pub quote_id: Option<i64>,
    pub amount: MoneyDto,
    pub ordered_on: String,
    /// pending, scheduled, installed or cancelled.
    pub status: String,
    /// pending, scheduled or installed (also for cancelled orders: how far they got).
    pub installation_status: String,
    pub installation_date: Option<String>,
    /// Installation visits that did not finish the job (0 once installed: first time right).
    pub failed_installations: i32,
    pub cancelled_at: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: String,
    /// The order's history (only on the single-order endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<OrderEventDto>>,
}

fn order_dto(r: &OrderRow) -> OrderDto {
    let o = &r.order;
    OrderDto {
        id: o.id.0,
        number: o.number.clone(),
        opportunity_id: o.opportunity_id.0,
        opportunity_name: r.opportunity_name.clone(),
        account_id: o.account_id.0,
        account_name: r.account_name.clone(),
        owner_id: o.owner_id.0,
        owner_name: r.owner_name.clone(),
        quote_id: o.quote_id.map(|q| q.0),
        amount: (&o.amount).into(),
        ordered_on: o.ordered_on.to_string(),
        status: o.status().into(),
        installation_status: o.installation_status.as_str().into(),
        installation_date: o.installation_date.map(|d| d.to_string()),
        failed_installations: o.failed_installations,
        cancelled_at: o.cancelled_at.map(|t| t.to_string()),
        cancel_reason: o.cancel_reason.clone(),
        created_at: o.created_at.to_string(),
        events: None,
    }
}

fn order_detail_dto(d: &app::OrderDetail) -> OrderDto {
    let mut dto = order_dto(&d.row);
    dto.events = Some(
        d.events
            .iter()
            .map(|e| OrderEventDto {
                kind: e.event.kind.clone(),
                at: e.event.at.to_string(),
                on_date: e.event.on_date.map(|d| d.to_string()),
                note: e.event.note.clone(),
                actor_name: e.actor_name.clone(),
            })
            .collect(),
    );
    dto
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    pub opportunity_id: Option<i64>,
    pub account_id: Option<i64>,
    pub owner_id: Option<i64>,
    /// pending, scheduled, installed or cancelled.
    pub status: Option<String>,
    /// Ordered on or after (YYYY-MM-DD).
    pub from: Option<String>,
    /// Ordered before (YYYY-MM-DD).
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// json (a page, default), csv or json_export (the whole filtered list).
    pub format: Option<String>,
    pub count: Option<String>,
}

pub(crate) struct OrderParams<'a> {
    pub opportunity_id: Option<i64>,
    pub account_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub status: Option<&'a str>,
    pub from: &'a Option<String>,
    pub to: &'a Option<String>,
    pub count: &'a Option<String>,
}

pub(crate) fn order_filter(q: OrderParams<'_>) -> Result<OrderFilter, AppError> {
    let status = match q.status.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s @ ("pending" | "scheduled" | "installed" | "cancelled")) => Some(s.to_string()),
        Some(s) => {
            return Err(AppError::invalid(
                "status",
                format!("'{s}' is not pending, scheduled, installed or cancelled"),
            ));
        }
        None => None,
    };
    Ok(OrderFilter {
        opportunity_id: q.opportunity_id,
        account_id: q.account_id,
        owner_id: q.owner_id,
        status,
        from: date("from", q.from)?,
        to: date("to", q.to)?,
        exact_count: exact_count(q.count)?,
    })
}

pub(crate) const ORDER_CSV_HEADER: [&str; 16] = [
    "id",
    "number",
    "opportunity_id",
    "opportunity_name",
    "account_name",
    "owner_name",
    "amount",
    "currency",
    "ordered_on",
    "status",
    "installation_status",
    "installation_date",
    "failed_installations",
    "cancelled_at",
    "cancel_reason",
    "quote_id",
];

pub(crate) fn order_csv_row(r: &OrderRow) -> Vec<String> {
    let d = order_dto(r);
    vec![
        d.id.to_string(),
        d.number,
        d.opportunity_id.to_string(),
        d.opportunity_name,
        d.account_name,
        d.owner_name,
        d.amount.amount,
        d.amount.currency,
        d.ordered_on,
        d.status,
        d.installation_status,
        d.installation_date.unwrap_or_default(),
        d.failed_installations.to_string(),
        d.cancelled_at.unwrap_or_default(),
        d.cancel_reason.unwrap_or_default(),
        d.quote_id.map(|q| q.to_string()).unwrap_or_default(),
    ]
}

/// Orders you may see, newest first; `format=csv` exports them all.
#[utoipa::path(get, path = "/api/v1/orders", tag = "products", params(OrderQuery),
    responses((status = 200, body = PageDto<OrderDto>), (status = 400, body = ErrorBody)))]
pub async fn orders(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<OrderQuery>,
) -> ApiResult<Response> {
    let f = order_filter(OrderParams {
        opportunity_id: q.opportunity_id,
        account_id: q.account_id,
        owner_id: q.owner_id,
        status: q.status.as_deref(),
        from: &q.from,
        to: &q.to,
        count: &q.count,
    })?;
    let format = list_format(&q.format)?;
    if format != ListFormat::Page {
        let rows = all_pages(|offset| {
            let (s, p, f) = (s.clone(), p.clone(), f.clone());
            async move { s.app.orders(&p, &f, app::MAX_PAGE, offset).await }
        })
        .await?;
        s.app.audit_export(&p, "orders").await?;
        if format == ListFormat::Json {
            return Ok(json_download("orders", &rows.iter().map(order_dto).collect::<Vec<_>>()));
        }
        return csv_response("orders", &ORDER_CSV_HEADER, rows.iter().map(order_csv_row).collect());
    }
    let (limit, offset) = page_bounds(q.limit, q.offset)?;
    Ok(axum::Json(page(s.app.orders(&p, &f, limit, offset).await?, order_dto)).into_response())
}

/// One order with its history.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "products", params(("id" = i64, Path)),
    responses((status = 200, body = OrderDto), (status = 404, body = ErrorBody)))]
pub async fn order(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
) -> ApiResult<axum::Json<OrderDto>> {
    Ok(axum::Json(order_detail_dto(&s.app.order(&p, OrderId(id)).await?)))
}

/// Turns a won opportunity into its order (one per opportunity; a second is `conflict`).
#[utoipa::path(post, path = "/api/v1/opportunities/{id}/order", tag = "products", params(("id" = i64, Path)), request_body = OrderInput,
    responses((status = 201, body = OrderDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn order_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<OrderInput>,
) -> ApiResult<(StatusCode, axum::Json<OrderDto>)> {
    let order = s.app.create_order(&p, OpportunityId(id), &b).await?;
    Ok((StatusCode::CREATED, axum::Json(order_detail_dto(&s.app.order(&p, order).await?))))
}

/// Plans (`schedule` with `date`), records (`installed`, `failed`) or cancels (`cancel` with
/// `reason`) the installation of an order.
#[utoipa::path(post, path = "/api/v1/orders/{id}/steps", tag = "products", params(("id" = i64, Path)), request_body = OrderStepInput,
    responses((status = 200, body = OrderDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn order_step(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<OrderStepInput>,
) -> ApiResult<axum::Json<OrderDto>> {
    Ok(axum::Json(order_detail_dto(&s.app.order_step(&p, OrderId(id), &b).await?)))
}
