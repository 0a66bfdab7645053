//! Products, price books, opportunity lines, quotes and orders. Row layouts (column list plus
//! record -> arguments) are shared by the bulk load and single writes, like in `crm.rs`.
//! Quotes and orders are visible to whoever may see their opportunity's owner.

use jiff::Timestamp;
use jiff::civil::Date;
use model::{
    AccountId, Currency, InstallationStatus, Money, Opportunity, OpportunityId, OpportunityLine, Order, OrderEvent,
    OrderId, PriceBook, PriceBookEntry, PriceBookId, Product, ProductId, Quote, QuoteId, QuoteLine, QuoteStatus,
    UserId,
};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::audit::{AuditContext, audit};
use crate::{
    Arg, Page, Result, Store, StoreError, Viewer, Where, bind_all, count_sql, dispatch, fetch_page, from_micros, micros,
};

pub(crate) const PRODUCT_COLUMNS: &[&str] =
    &["id", "external_id", "code", "name", "family", "unit", "active", "created_at", "updated_at"];

pub(crate) fn product_args(p: &Product) -> Vec<Arg> {
    vec![
        Arg::I64(p.id.0),
        Arg::OptText(p.external_id.clone()),
        Arg::Text(p.code.clone()),
        Arg::Text(p.name.clone()),
        Arg::Text(p.family.clone()),
        Arg::Text(p.unit.clone()),
        Arg::Bool(p.active),
        Arg::I64(micros(p.created_at)),
        Arg::I64(micros(p.created_at)),
    ]
}

pub(crate) const PRICE_BOOK_COLUMNS: &[&str] = &["id", "name", "currency", "active", "created_at"];

pub(crate) fn price_book_args(b: &PriceBook, now: Timestamp) -> Vec<Arg> {
    vec![
        Arg::I64(b.id.0),
        Arg::Text(b.name.clone()),
        Arg::Text(b.currency.code().into()),
        Arg::Bool(b.active),
        Arg::I64(micros(now)),
    ]
}

pub(crate) const PRICE_COLUMNS: &[&str] = &["price_book_id", "product_id", "unit_price"];

pub(crate) fn price_args(e: &PriceBookEntry) -> Vec<Arg> {
    vec![Arg::I64(e.price_book_id.0), Arg::I64(e.product_id.0), Arg::Text(e.unit_price.to_string())]
}

pub(crate) const LINE_COLUMNS: &[&str] =
    &["opportunity_id", "position", "product_id", "quantity", "unit_price", "discount_percent", "total"];

pub(crate) fn line_args(l: &OpportunityLine) -> Vec<Arg> {
    vec![
        Arg::I64(l.opportunity_id.0),
        Arg::I64(l.position.into()),
        Arg::I64(l.product_id.0),
        Arg::Text(l.quantity.normalize().to_string()),
        Arg::Text(l.unit_price.to_string()),
        Arg::Text(l.discount_percent.normalize().to_string()),
        Arg::Text(l.total.to_string()),
    ]
}

pub(crate) const QUOTE_COLUMNS: &[&str] = &[
    "id",
    "external_id",
    "number",
    "opportunity_id",
    "owner_id",
    "status",
    "amount",
    "currency",
    "lines_json",
    "valid_until",
    "created_at",
    "sent_at",
    "answered_at",
    "updated_at",
];

pub(crate) fn quote_args(q: &Quote) -> Vec<Arg> {
    let updated = q.answered_at.or(q.sent_at).unwrap_or(q.created_at);
    vec![
        Arg::I64(q.id.0),
        Arg::OptText(q.external_id.clone()),
        Arg::Text(q.number.clone()),
        Arg::I64(q.opportunity_id.0),
        Arg::I64(q.owner_id.0),
        Arg::Text(q.status.as_str().into()),
        Arg::Text(q.amount.amount.to_string()),
        Arg::Text(q.amount.currency.code().into()),
        Arg::Text(serde_json::to_string(&q.lines).unwrap_or_else(|_| "[]".into())),
        Arg::OptText(q.valid_until.map(|d| d.to_string())),
        Arg::I64(micros(q.created_at)),
        Arg::OptI64(q.sent_at.map(micros)),
        Arg::OptI64(q.answered_at.map(micros)),
        Arg::I64(micros(updated)),
    ]
}

pub(crate) const ORDER_COLUMNS: &[&str] = &[
    "id",
    "external_id",
    "number",
    "opportunity_id",
    "account_id",
    "owner_id",
    "quote_id",
    "amount",
    "currency",
    "ordered_on",
    "installation_status",
    "installation_date",
    "failed_installations",
    "cancelled_at",
    "cancel_reason",
    "created_at",
    "updated_at",
];

pub(crate) fn order_args(o: &Order, updated: Timestamp) -> Vec<Arg> {
    vec![
        Arg::I64(o.id.0),
        Arg::OptText(o.external_id.clone()),
        Arg::Text(o.number.clone()),
        Arg::I64(o.opportunity_id.0),
        Arg::I64(o.account_id.0),
        Arg::I64(o.owner_id.0),
        Arg::OptI64(o.quote_id.map(|q| q.0)),
        Arg::Text(o.amount.amount.to_string()),
        Arg::Text(o.amount.currency.code().into()),
        Arg::Text(o.ordered_on.to_string()),
        Arg::Text(o.installation_status.as_str().into()),
        Arg::OptText(o.installation_date.map(|d| d.to_string())),
        Arg::I64(o.failed_installations.into()),
        Arg::OptI64(o.cancelled_at.map(micros)),
        Arg::OptText(o.cancel_reason.clone()),
        Arg::I64(micros(o.created_at)),
        Arg::I64(micros(updated)),
    ]
}

pub(crate) const ORDER_EVENT_COLUMNS: &[&str] = &["order_id", "kind", "at", "on_date", "note", "actor_user_id"];

pub(crate) fn order_event_args(e: &OrderEvent) -> Vec<Arg> {
    vec![
        Arg::I64(e.order_id.0),
        Arg::Text(e.kind.clone()),
        Arg::I64(micros(e.at)),
        Arg::OptText(e.on_date.map(|d| d.to_string())),
        Arg::Text(e.note.clone()),
        Arg::OptI64(e.actor_user_id.map(|u| u.0)),
    ]
}

/// A product with its price in each price book that lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ProductRow {
    pub product: Product,
    pub prices: Vec<PriceBookEntry>,
}

/// An opportunity line with the product's names, for display.
#[derive(Debug, Clone, Serialize)]
pub struct LineRow {
    pub line: OpportunityLine,
    pub code: String,
    pub name: String,
    pub family: String,
    pub unit: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuoteRow {
    pub quote: Quote,
    pub opportunity_name: String,
    pub account_name: String,
    pub owner_name: String,
}

#[derive(Debug, Clone, Default)]
pub struct QuoteFilter {
    pub opportunity_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub status: Option<QuoteStatus>,
    pub exact_count: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderRow {
    pub order: Order,
    pub opportunity_name: String,
    pub account_name: String,
    pub owner_name: String,
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub opportunity_id: Option<i64>,
    pub account_id: Option<i64>,
    pub owner_id: Option<i64>,
    /// pending, scheduled, installed or cancelled.
    pub status: Option<String>,
    /// Ordered on or after.
    pub from: Option<Date>,
    /// Ordered before.
    pub to: Option<Date>,
    pub exact_count: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderEventRow {
    pub event: OrderEvent,
    pub actor_name: Option<String>,
}

fn dec(what: &str, s: &str) -> Result<Decimal> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("{what}: '{s}' is not a decimal")))
}

fn date(what: &str, s: &str) -> Result<Date> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("{what}: '{s}' is not a date")))
}

fn currency(s: &str) -> Result<Currency> {
    Currency::parse(s).map_err(|e| StoreError::Corrupt(e.reason))
}

fn marks(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `INSERT INTO table (columns without id) VALUES (...) RETURNING id`, with the id argument
/// removed from `args`.
fn insert_returning_id(table: &str, columns: &[&str], args: &mut Vec<Arg>) -> String {
    args.remove(0);
    format!("INSERT INTO {table} ({}) VALUES ({}) RETURNING id", columns[1..].join(", "), marks(args.len()))
}

#[derive(sqlx::FromRow)]
struct QuoteDbRow {
    id: i64,
    external_id: Option<String>,
    number: String,
    opportunity_id: i64,
    owner_id: i64,
    status: String,
    amount: String,
    currency: String,
    lines_json: String,
    valid_until: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
    answered_at: Option<i64>,
    opportunity_name: String,
    account_name: String,
    owner_name: String,
}

impl QuoteDbRow {
    fn into_row(self) -> Result<QuoteRow> {
        let lines: Vec<QuoteLine> = serde_json::from_str(&self.lines_json)
            .map_err(|e| StoreError::Corrupt(format!("quote {}: lines: {e}", self.id)))?;
        Ok(QuoteRow {
            quote: Quote {
                id: QuoteId(self.id),
                external_id: self.external_id,
                number: self.number,
                opportunity_id: OpportunityId(self.opportunity_id),
                owner_id: UserId(self.owner_id),
                status: QuoteStatus::parse(&self.status).map_err(|e| StoreError::Corrupt(e.reason))?,
                amount: Money::new(dec("quote amount", &self.amount)?, currency(&self.currency)?),
                lines,
                valid_until: self.valid_until.as_deref().map(|s| date("valid_until", s)).transpose()?,
                created_at: from_micros(self.created_at)?,
                sent_at: self.sent_at.map(from_micros).transpose()?,
                answered_at: self.answered_at.map(from_micros).transpose()?,
            },
            opportunity_name: self.opportunity_name,
            account_name: self.account_name,
            owner_name: self.owner_name,
        })
    }
}

const QUOTE_SELECT: &str = "SELECT q.id, q.external_id, q.number, q.opportunity_id, q.owner_id, q.status, q.amount, \
     q.currency, q.lines_json, q.valid_until, q.created_at, q.sent_at, q.answered_at, o.name AS opportunity_name, \
     a.name AS account_name, u.name AS owner_name FROM quotes q JOIN opportunities o ON o.id = q.opportunity_id \
     JOIN accounts a ON a.id = o.account_id JOIN users u ON u.id = q.owner_id";

#[derive(sqlx::FromRow)]
struct OrderDbRow {
    id: i64,
    external_id: Option<String>,
    number: String,
    opportunity_id: i64,
    account_id: i64,
    owner_id: i64,
    quote_id: Option<i64>,
    amount: String,
    currency: String,
    ordered_on: String,
    installation_status: String,
    installation_date: Option<String>,
    failed_installations: i64,
    cancelled_at: Option<i64>,
    cancel_reason: Option<String>,
    created_at: i64,
    opportunity_name: String,
    account_name: String,
    owner_name: String,
}

impl OrderDbRow {
    fn into_row(self) -> Result<OrderRow> {
        Ok(OrderRow {
            order: Order {
                id: OrderId(self.id),
                external_id: self.external_id,
                number: self.number,
                opportunity_id: OpportunityId(self.opportunity_id),
                account_id: AccountId(self.account_id),
                owner_id: UserId(self.owner_id),
                quote_id: self.quote_id.map(QuoteId),
                amount: Money::new(dec("order amount", &self.amount)?, currency(&self.currency)?),
                ordered_on: date("ordered_on", &self.ordered_on)?,
                installation_status: InstallationStatus::parse(&self.installation_status)
                    .map_err(|e| StoreError::Corrupt(e.reason))?,
                installation_date: self
                    .installation_date
                    .as_deref()
                    .map(|s| date("installation_date", s))
                    .transpose()?,
                failed_installations: self.failed_installations as i32,
                cancelled_at: self.cancelled_at.map(from_micros).transpose()?,
                cancel_reason: self.cancel_reason,
                created_at: from_micros(self.created_at)?,
            },
            opportunity_name: self.opportunity_name,
            account_name: self.account_name,
            owner_name: self.owner_name,
        })
    }
}

const ORDER_SELECT: &str = "SELECT r.id, r.external_id, r.number, r.opportunity_id, r.account_id, r.owner_id, \
     r.quote_id, r.amount, r.currency, r.ordered_on, r.installation_status, r.installation_date, \
     r.failed_installations, r.cancelled_at, r.cancel_reason, r.created_at, o.name AS opportunity_name, \
     a.name AS account_name, u.name AS owner_name FROM orders r JOIN opportunities o ON o.id = r.opportunity_id \
     JOIN accounts a ON a.id = r.account_id JOIN users u ON u.id = r.owner_id";

impl Store {
    // -----------------------------------------------------------------------------------------
    // Products and price books

    /// Every product (inactive ones too when asked) with its prices, ordered by family and code.
    pub async fn product_list(&self, include_inactive: bool) -> Result<Vec<ProductRow>> {
        #[allow(clippy::type_complexity)] // a plain row tuple, named right below
        let rows: Vec<(i64, Option<String>, String, String, String, String, bool, i64)> = dispatch!(self, p => sqlx::query_as(
            "SELECT id, external_id, code, name, family, unit, active, created_at FROM products \
             WHERE active OR $1 ORDER BY family, code").bind(include_inactive).fetch_all(p).await?);
        let prices: Vec<(i64, i64, String)> = dispatch!(self, p => sqlx::query_as(
            "SELECT price_book_id, product_id, unit_price FROM price_book_entries ORDER BY price_book_id")
            .fetch_all(p).await?);
        let mut out = Vec::with_capacity(rows.len());
        for (id, external_id, code, name, family, unit, active, created_at) in rows {
            let mut entries = vec![];
            for (book, product, price) in prices.iter().filter(|(_, p, _)| *p == id) {
                entries.push(PriceBookEntry {
                    price_book_id: PriceBookId(*book),
                    product_id: ProductId(*product),
                    unit_price: dec("unit_price", price)?,
                });
            }
            out.push(ProductRow {
                product: Product {
                    id: ProductId(id),
                    external_id,
                    code,
                    name,
                    family,
                    unit,
                    active,
                    created_at: from_micros(created_at)?,
                },
                prices: entries,
            });
        }
        Ok(out)
    }

    /// Adds a product (`id` 0) or changes one. Codes are unique.
    pub async fn product_save(&self, ctx: &AuditContext, product: &Product) -> Result<ProductId> {
        let taken: Option<i64> = dispatch!(self, p => sqlx::query_scalar(
            "SELECT id FROM products WHERE LOWER(code) = LOWER($1)").bind(&product.code).fetch_optional(p).await?);
        if taken.is_some_and(|id| id != product.id.0) {
            return Err(StoreError::Conflict(format!("a product with code '{}' exists", product.code)));
        }
        let before = if product.id.0 == 0 {
            None
        } else {
            Some(
                self.product_list(true)
                    .await?
                    .into_iter()
                    .find(|r| r.product.id == product.id)
                    .ok_or(StoreError::NotFound)?
                    .product,
            )
        };
        let at = micros(ctx.at);
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = if product.id.0 == 0 {
                let mut args = product_args(product);
                let sql = insert_returning_id("products", PRODUCT_COLUMNS, &mut args);
                bind_all!(sqlx::query_scalar(&sql), args).fetch_one(&mut *tx).await?
            } else {
                sqlx::query("UPDATE products SET code = $1, name = $2, family = $3, unit = $4, active = $5, updated_at = $6 WHERE id = $7")
                    .bind(&product.code).bind(&product.name).bind(&product.family).bind(&product.unit)
                    .bind(product.active).bind(at).bind(product.id.0).execute(&mut *tx).await?;
                product.id.0
            };
            let action = if before.is_none() { "create" } else { "update" };
            audit!(tx, ctx, action, "product", Some(id.to_string()), before.as_ref(), Some(product));
            tx.commit().await?;
            id
        });
        Ok(ProductId(id))
    }

    pub async fn price_book_list(&self) -> Result<Vec<PriceBook>> {
        let rows: Vec<(i64, String, String, bool)> = dispatch!(self, p => sqlx::query_as(
            "SELECT id, name, currency, active FROM price_books ORDER BY currency, name").fetch_all(p).await?);
        rows.into_iter()
            .map(|(id, name, cur, active)| {
                Ok(PriceBook { id: PriceBookId(id), name, currency: currency(&cur)?, active })
            })
            .collect()
    }

    /// Adds a price book (`id` 0) or renames / (de)activates one; its currency never changes.
    pub async fn price_book_save(&self, ctx: &AuditContext, book: &PriceBook) -> Result<PriceBookId> {
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = if book.id.0 == 0 {
                let mut args = price_book_args(book, ctx.at);
                let sql = insert_returning_id("price_books", PRICE_BOOK_COLUMNS, &mut args);
                bind_all!(sqlx::query_scalar(&sql), args).fetch_one(&mut *tx).await?
            } else {
                let n = sqlx::query("UPDATE price_books SET name = $1, active = $2 WHERE id = $3")
                    .bind(&book.name).bind(book.active).bind(book.id.0).execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                book.id.0
            };
            let action = if book.id.0 == 0 { "create" } else { "update" };
            audit!(tx, ctx, action, "price_book", Some(id.to_string()), None::<&PriceBook>, Some(book));
            tx.commit().await?;
            id
        });
        Ok(PriceBookId(id))
    }

    /// Sets (or with `None` removes) the prices of products in a price book, in one transaction.
    pub async fn prices_set(
        &self,
        ctx: &AuditContext,
        book: PriceBookId,
        prices: &[(ProductId, Option<Decimal>)],
    ) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let mut before = vec![];
            for (product, price) in prices {
                let old: Option<String> = sqlx::query_scalar(
                    "SELECT unit_price FROM price_book_entries WHERE price_book_id = $1 AND product_id = $2")
                    .bind(book.0).bind(product.0).fetch_optional(&mut *tx).await?;
                before.push(serde_json::json!({"product_id": product.0, "unit_price": old}));
                sqlx::query("DELETE FROM price_book_entries WHERE price_book_id = $1 AND product_id = $2")
                    .bind(book.0).bind(product.0).execute(&mut *tx).await?;
                if let Some(price) = price {
                    sqlx::query("INSERT INTO price_book_entries (price_book_id, product_id, unit_price) VALUES ($1, $2, $3)")
                        .bind(book.0).bind(product.0).bind(price.to_string()).execute(&mut *tx).await?;
                }
            }
            let after: Vec<serde_json::Value> = prices.iter()
                .map(|(pr, v)| serde_json::json!({"product_id": pr.0, "unit_price": v.map(|d| d.to_string())})).collect();
            audit!(tx, ctx, "update", "price_book", Some(book.to_string()), Some(&before), Some(&after));
            tx.commit().await?;
        });
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Opportunity lines

    pub async fn opportunity_lines(&self, id: OpportunityId) -> Result<Vec<LineRow>> {
        #[allow(clippy::type_complexity)] // a plain row tuple, named right below
        let rows: Vec<(i64, i64, String, String, String, String, String, String, String, String)> = dispatch!(self, p => sqlx::query_as(
            "SELECT l.position, l.product_id, l.quantity, l.unit_price, l.discount_percent, l.total, p.code, p.name, \
             p.family, p.unit FROM opportunity_lines l JOIN products p ON p.id = l.product_id \
             WHERE l.opportunity_id = $1 ORDER BY l.position, l.id").bind(id.0).fetch_all(p).await?);
        rows.into_iter()
            .map(|(position, product, qty, price, discount, total, code, name, family, unit)| {
                Ok(LineRow {
                    line: OpportunityLine {
                        opportunity_id: id,
                        position: position as i32,
                        product_id: ProductId(product),
                        quantity: dec("quantity", &qty)?,
                        unit_price: dec("unit_price", &price)?,
                        discount_percent: dec("discount_percent", &discount)?,
                        total: dec("total", &total)?,
                    },
                    code,
                    name,
                    family,
                    unit,
                })
            })
            .collect()
    }

    /// Replaces the lines of an opportunity. With lines, the opportunity's amount becomes their
    /// sum (same transaction, one audit entry with both); without, the amount stays as typed.
    /// `before` is the opportunity as the caller read it: a concurrent change is a conflict.
    pub async fn opportunity_lines_set(
        &self,
        ctx: &AuditContext,
        before: &Opportunity,
        lines: &[OpportunityLine],
    ) -> Result<Money> {
        let old_lines = self.opportunity_lines(before.id).await?;
        let amount = if lines.is_empty() { before.amount } else { model::lines_amount(lines, before.amount.currency) };
        let at = micros(ctx.at);
        let insert = format!("INSERT INTO opportunity_lines ({}) VALUES ({})", LINE_COLUMNS.join(", "), marks(7));
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let n = sqlx::query("UPDATE opportunities SET amount = $1, updated_at = $2 WHERE id = $3 AND updated_at = $4")
                .bind(amount.amount.to_string()).bind(at).bind(before.id.0).bind(micros(before.updated_at))
                .execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict("the opportunity was changed by someone else meanwhile; reload it".into()));
            }
            sqlx::query("DELETE FROM opportunity_lines WHERE opportunity_id = $1").bind(before.id.0).execute(&mut *tx).await?;
            for l in lines {
                bind_all!(sqlx::query(&insert), line_args(l)).execute(&mut *tx).await?;
            }
            let old: Vec<&OpportunityLine> = old_lines.iter().map(|l| &l.line).collect();
            let b = serde_json::json!({"amount": before.amount, "lines": old});
            let a = serde_json::json!({"amount": amount, "lines": lines});
            audit!(tx, ctx, "update_lines", "opportunity", Some(before.id.to_string()), Some(&b), Some(&a));
            tx.commit().await?;
        });
        Ok(amount)
    }

    // -----------------------------------------------------------------------------------------
    // Quotes

    pub async fn quote_list(
        &self,
        viewer: &Viewer,
        f: &QuoteFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<QuoteRow>> {
        let mut w = Where::default();
        w.visible("o.owner_id", viewer);
        for (col, v) in [("q.opportunity_id", f.opportunity_id), ("q.owner_id", f.owner_id)] {
            if let Some(v) = v {
                let p = w.arg(Arg::I64(v));
                w.push(format!("{col} = {p}"));
            }
        }
        if let Some(s) = f.status {
            let p = w.arg(Arg::Text(s.as_str().into()));
            w.push(format!("q.status = {p}"));
        }
        let cond = w.sql();
        let sql =
            format!("{QUOTE_SELECT} WHERE {cond} ORDER BY q.created_at DESC, q.id DESC LIMIT {limit} OFFSET {offset}");
        let count =
            count_sql(&format!("quotes q JOIN opportunities o ON o.id = q.opportunity_id WHERE {cond}"), f.exact_count);
        let (rows, counted): (Vec<QuoteDbRow>, i64) = fetch_page!(self, QuoteDbRow, &sql, &count, w.args);
        let items = rows.into_iter().map(QuoteDbRow::into_row).collect::<Result<_>>()?;
        Ok(Page::new(items, counted, f.exact_count, limit, offset))
    }

    pub async fn quote_get(&self, viewer: &Viewer, id: QuoteId) -> Result<QuoteRow> {
        let mut w = Where::default();
        let p = w.arg(Arg::I64(id.0));
        w.push(format!("q.id = {p}"));
        w.visible("o.owner_id", viewer);
        let sql = format!("{QUOTE_SELECT} WHERE {}", w.sql());
        let row: Option<QuoteDbRow> =
            dispatch!(self, p => bind_all!(sqlx::query_as::<_, QuoteDbRow>(&sql), w.args).fetch_optional(p).await?);
        row.ok_or(StoreError::NotFound)?.into_row()
    }

    /// Saves a new quote; its number (`Q-000042`) comes from its id.
    pub async fn quote_create(&self, ctx: &AuditContext, q: &Quote) -> Result<QuoteRow> {
        let mut args = quote_args(q);
        // A unique placeholder number until the id is known.
        args[2] = Arg::Text(format!("new-{}-{}", micros(ctx.at), q.opportunity_id.0));
        let sql = insert_returning_id("quotes", QUOTE_COLUMNS, &mut args);
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = bind_all!(sqlx::query_scalar(&sql), args).fetch_one(&mut *tx).await?;
            let number = format!("Q-{id:06}");
            sqlx::query("UPDATE quotes SET number = $1 WHERE id = $2").bind(&number).bind(id).execute(&mut *tx).await?;
            let mut after = q.clone();
            after.id = QuoteId(id);
            after.number = number;
            audit!(tx, ctx, "create", "quote", Some(id.to_string()), None::<&Quote>, Some(&after));
            tx.commit().await?;
            id
        });
        let viewer = Viewer { user_id: UserId(0), visibility: model::Visibility::All, subtree: None };
        self.quote_get(&viewer, QuoteId(id)).await
    }

    /// Moves a quote to `after.status`, with its sent/answered times; a concurrent change of the
    /// status is a conflict.
    pub async fn quote_set_status(&self, ctx: &AuditContext, before: &Quote, after: &Quote) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let n = sqlx::query("UPDATE quotes SET status = $1, sent_at = $2, answered_at = $3, updated_at = $4 WHERE id = $5 AND status = $6")
                .bind(after.status.as_str()).bind(after.sent_at.map(micros)).bind(after.answered_at.map(micros))
                .bind(micros(ctx.at)).bind(before.id.0).bind(before.status.as_str())
                .execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict("the quote was changed by someone else meanwhile; reload it".into()));
            }
            audit!(tx, ctx, after.status.as_str(), "quote", Some(before.id.to_string()), Some(before), Some(after));
            tx.commit().await?;
        });
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Orders

    pub async fn order_list(
        &self,
        viewer: &Viewer,
        f: &OrderFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<OrderRow>> {
        let (w, cond) = order_where(viewer, f);
        let sql =
            format!("{ORDER_SELECT} WHERE {cond} ORDER BY r.ordered_on DESC, r.id DESC LIMIT {limit} OFFSET {offset}");
        let count = count_sql(&format!("orders r WHERE {cond}"), f.exact_count);
        let (rows, counted): (Vec<OrderDbRow>, i64) = fetch_page!(self, OrderDbRow, &sql, &count, w.args);
        let items = rows.into_iter().map(OrderDbRow::into_row).collect::<Result<_>>()?;
        Ok(Page::new(items, counted, f.exact_count, limit, offset))
    }

    pub async fn order_get(&self, viewer: &Viewer, id: OrderId) -> Result<OrderRow> {
        let mut w = Where::default();
        let p = w.arg(Arg::I64(id.0));
        w.push(format!("r.id = {p}"));
        w.visible("r.owner_id", viewer);
        let sql = format!("{ORDER_SELECT} WHERE {}", w.sql());
        let row: Option<OrderDbRow> =
            dispatch!(self, p => bind_all!(sqlx::query_as::<_, OrderDbRow>(&sql), w.args).fetch_optional(p).await?);
        row.ok_or(StoreError::NotFound)?.into_row()
    }

    pub async fn order_events(&self, id: OrderId) -> Result<Vec<OrderEventRow>> {
        #[allow(clippy::type_complexity)] // a plain row tuple, named right below
        let rows: Vec<(String, i64, Option<String>, String, Option<i64>, Option<String>)> = dispatch!(self, p => sqlx::query_as(
            "SELECT e.kind, e.at, e.on_date, e.note, e.actor_user_id, u.name FROM order_events e \
             LEFT JOIN users u ON u.id = e.actor_user_id WHERE e.order_id = $1 ORDER BY e.at, e.id")
            .bind(id.0).fetch_all(p).await?);
        rows.into_iter()
            .map(|(kind, at, on_date, note, actor, actor_name)| {
                Ok(OrderEventRow {
                    event: OrderEvent {
                        order_id: id,
                        kind,
                        at: from_micros(at)?,
                        on_date: on_date.as_deref().map(|s| date("on_date", s)).transpose()?,
                        note,
                        actor_user_id: actor.map(UserId),
                    },
                    actor_name,
                })
            })
            .collect()
    }

    /// Saves a new order with its "created" event; its number (`O-000042`) comes from its id.
    /// One order per opportunity: a second is a conflict.
    pub async fn order_create(&self, ctx: &AuditContext, o: &Order) -> Result<OrderId> {
        let mut args = order_args(o, ctx.at);
        args[2] = Arg::Text(format!("new-{}-{}", micros(ctx.at), o.opportunity_id.0));
        let sql = insert_returning_id("orders", ORDER_COLUMNS, &mut args);
        let event_sql = format!("INSERT INTO order_events ({}) VALUES ({})", ORDER_EVENT_COLUMNS.join(", "), marks(6));
        let existing: Option<String> = dispatch!(self, p => sqlx::query_scalar(
            "SELECT number FROM orders WHERE opportunity_id = $1").bind(o.opportunity_id.0).fetch_optional(p).await?);
        if let Some(n) = existing {
            return Err(StoreError::Conflict(format!("the opportunity already has order {n}")));
        }
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = bind_all!(sqlx::query_scalar(&sql), args).fetch_one(&mut *tx).await?;
            let number = format!("O-{id:06}");
            sqlx::query("UPDATE orders SET number = $1 WHERE id = $2").bind(&number).bind(id).execute(&mut *tx).await?;
            let event = OrderEvent {
                order_id: OrderId(id),
                kind: "created".into(),
                at: ctx.at,
                on_date: Some(o.ordered_on),
                note: String::new(),
                actor_user_id: ctx.actor_user_id,
            };
            bind_all!(sqlx::query(&event_sql), order_event_args(&event)).execute(&mut *tx).await?;
            let mut after = o.clone();
            after.id = OrderId(id);
            after.number = number;
            audit!(tx, ctx, "create", "order", Some(id.to_string()), None::<&Order>, Some(&after));
            tx.commit().await?;
            id
        });
        Ok(OrderId(id))
    }

    /// Writes an order after a step (see [`model::Order::apply`]) with its event; a concurrent
    /// change is a conflict.
    pub async fn order_update(
        &self,
        ctx: &AuditContext,
        before: &Order,
        after: &Order,
        event: &OrderEvent,
    ) -> Result<()> {
        let event_sql = format!("INSERT INTO order_events ({}) VALUES ({})", ORDER_EVENT_COLUMNS.join(", "), marks(6));
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let n = sqlx::query(
                "UPDATE orders SET installation_status = $1, installation_date = $2, failed_installations = $3, \
                 cancelled_at = $4, cancel_reason = $5, updated_at = $6 WHERE id = $7 AND installation_status = $8 \
                 AND failed_installations = $9 AND cancelled_at IS NULL")
                .bind(after.installation_status.as_str()).bind(after.installation_date.map(|d| d.to_string()))
                .bind(i64::from(after.failed_installations)).bind(after.cancelled_at.map(micros))
                .bind(after.cancel_reason.clone()).bind(micros(ctx.at)).bind(before.id.0)
                .bind(before.installation_status.as_str()).bind(i64::from(before.failed_installations))
                .execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict("the order was changed by someone else meanwhile; reload it".into()));
            }
            bind_all!(sqlx::query(&event_sql), order_event_args(event)).execute(&mut *tx).await?;
            audit!(tx, ctx, event.kind.as_str(), "order", Some(before.id.to_string()), Some(before), Some(after));
            tx.commit().await?;
        });
        Ok(())
    }
}

fn order_where(viewer: &Viewer, f: &OrderFilter) -> (Where, String) {
    let mut w = Where::default();
    w.visible("r.owner_id", viewer);
    for (col, v) in [("r.opportunity_id", f.opportunity_id), ("r.account_id", f.account_id), ("r.owner_id", f.owner_id)]
    {
        if let Some(v) = v {
            let p = w.arg(Arg::I64(v));
            w.push(format!("{col} = {p}"));
        }
    }
    match f.status.as_deref() {
        Some("cancelled") => w.push("r.cancelled_at IS NOT NULL".into()),
        Some(s) => {
            let p = w.arg(Arg::Text(s.into()));
            w.push(format!("r.cancelled_at IS NULL AND r.installation_status = {p}"));
        }
        None => {}
    }
    if let Some(d) = f.from {
        let p = w.arg(Arg::Text(d.to_string()));
        w.push(format!("r.ordered_on >= {p}"));
    }
    if let Some(d) = f.to {
        let p = w.arg(Arg::Text(d.to_string()));
        w.push(format!("r.ordered_on < {p}"));
    }
    let cond = w.sql();
    (w, cond)
}
