//! Use cases of the catalogue (products, price books), opportunity lines, quotes and orders.
//! Administrators keep the catalogue; whoever may write an opportunity prices it, quotes it and,
//! once it is won, turns it into an order whose installation or cancellation is tracked.

use jiff::Timestamp;
use jiff::civil::Date;
use model::{
    Currency, InstallationStatus, Money, OpportunityId, OpportunityLine, Order, OrderEvent, OrderId, OrderStep,
    Permission, PriceBook, PriceBookId, Product, ProductId, Quote, QuoteId, QuoteLine, QuoteStatus, StageKind,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use store::{LineRow, OrderEventRow, OrderFilter, OrderRow, Page, ProductRow, QuoteFilter, QuoteRow};

use crate::{App, AppError, Principal};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProductInput {
    /// Article number (SKU), unique.
    pub code: String,
    pub name: String,
    /// Product line, e.g. "Software".
    pub family: String,
    /// What one unit is, e.g. "seat/year".
    #[serde(default)]
    pub unit: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PriceBookInput {
    pub name: String,
    /// ISO 4217; fixed once created.
    pub currency: String,
    #[serde(default = "yes")]
    pub active: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PriceInput {
    pub product_id: i64,
    /// Decimal text ("1250.00"); null or "" removes the product from the price book.
    pub unit_price: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct LineInput {
    pub product_id: i64,
    /// Decimal text, above 0.
    pub quantity: String,
    /// Decimal text in the opportunity's currency; absent: the price book's price.
    pub unit_price: Option<String>,
    /// 0 to 100; absent: 0.
    pub discount_percent: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct QuoteInput {
    /// YYYY-MM-DD; absent: 30 days from today.
    pub valid_until: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct QuoteStatusInput {
    /// sent, accepted, rejected or withdrawn.
    pub status: String,
    /// When it happened (RFC 3339), for recording a past answer; absent: now. Never in the future.
    pub at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OrderInput {
    /// YYYY-MM-DD; absent: today.
    pub ordered_on: Option<String>,
    /// The accepted quote the order follows; its amount becomes the order's.
    pub quote_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OrderStepInput {
    /// schedule, installed, failed or cancel.
    pub action: String,
    /// YYYY-MM-DD: the planned day (schedule) or the day it was done (installed; absent: today).
    pub date: Option<String>,
    /// Required to cancel; a note otherwise.
    pub reason: Option<String>,
}

/// An order with its history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrderDetail {
    pub row: OrderRow,
    pub events: Vec<OrderEventRow>,
}

fn text(field: &str, s: &str, min: usize, max: usize) -> Result<String, AppError> {
    let s = s.trim();
    let n = s.chars().count();
    if n < min {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if n > max {
        return Err(AppError::invalid(field, format!("at most {max} characters")));
    }
    Ok(s.to_string())
}

/// Parses decimal text as people type it ("1250", "1250.5", "1 250,50" is refused: one format).
pub fn decimal(field: &str, s: &str) -> Result<Decimal, AppError> {
    let t = s.trim();
    t.parse::<Decimal>().map_err(|_| AppError::invalid(field, format!("'{t}' is not a number like 1250.50")))
}

fn date(field: &str, s: &str) -> Result<Date, AppError> {
    let t = s.trim();
    t.parse::<Date>().map_err(|_| AppError::invalid(field, format!("'{t}' is not a date (YYYY-MM-DD)")))
}

impl App {
    fn today(&self) -> Date {
        self.now().to_zoned(jiff::tz::TimeZone::UTC).date()
    }

    /// The catalogue with prices, and the price books.
    pub async fn products(&self, include_inactive: bool) -> Result<(Vec<ProductRow>, Vec<PriceBook>), AppError> {
        Ok((self.store.product_list(include_inactive).await?, self.store.price_book_list().await?))
    }

    /// Adds a product (`id` None) or changes one.
    pub async fn save_product(
        &self,
        p: &Principal,
        id: Option<i64>,
        input: &ProductInput,
    ) -> Result<ProductId, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let code = text("code", &input.code, 1, 40)?;
        if code.chars().any(char::is_whitespace) {
            return Err(AppError::invalid("code", "must not contain spaces"));
        }
        let product = Product {
            id: ProductId(id.unwrap_or(0)),
            external_id: None,
            code,
            name: text("name", &input.name, 1, 120)?,
            family: text("family", &input.family, 1, 60)?,
            unit: text("unit", &input.unit, 0, 30)?,
            active: input.active,
            created_at: self.now(),
        };
        Ok(self.store.product_save(&p.audit(self.now()), &product).await?)
    }

    pub async fn save_price_book(
        &self,
        p: &Principal,
        id: Option<i64>,
        input: &PriceBookInput,
    ) -> Result<PriceBookId, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let currency = Currency::parse(input.currency.trim().to_uppercase().as_str())?;
        let books = self.store.price_book_list().await?;
        if let Some(id) = id {
            let old = books.iter().find(|b| b.id.0 == id).ok_or(AppError::NotFound)?;
            if old.currency != currency {
                return Err(AppError::invalid("currency", "a price book's currency cannot change; create another one"));
            }
        }
        let name = text("name", &input.name, 1, 80)?;
        if books.iter().any(|b| b.currency == currency && b.name.eq_ignore_ascii_case(&name) && Some(b.id.0) != id) {
            return Err(AppError::Conflict(format!("a price book '{name}' in {} exists", currency.code())));
        }
        let book = PriceBook { id: PriceBookId(id.unwrap_or(0)), name, currency, active: input.active };
        Ok(self.store.price_book_save(&p.audit(self.now()), &book).await?)
    }

    /// Sets or removes prices of a price book, all or nothing.
    pub async fn set_prices(&self, p: &Principal, book: i64, input: &[PriceInput]) -> Result<(), AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let books = self.store.price_book_list().await?;
        let book = books.iter().find(|b| b.id.0 == book).ok_or(AppError::NotFound)?;
        let products = self.store.product_list(true).await?;
        let mut prices = vec![];
        for (i, x) in input.iter().enumerate() {
            if !products.iter().any(|r| r.product.id.0 == x.product_id) {
                return Err(AppError::invalid(
                    format!("prices[{i}].product_id"),
                    format!("product {} does not exist", x.product_id),
                ));
            }
            let price = match x.unit_price.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => {
                    let d = decimal(&format!("prices[{i}].unit_price"), s)?;
                    if d < Decimal::ZERO || d > model::MAX_UNIT_PRICE || d.scale() > 4 {
                        return Err(AppError::invalid(
                            format!("prices[{i}].unit_price"),
                            "must be 0 or more (at most 1,000,000,000), with at most 4 decimals",
                        ));
                    }
                    Some(d)
                }
            };
            prices.push((ProductId(x.product_id), price));
        }
        Ok(self.store.prices_set(&p.audit(self.now()), book.id, &prices).await?)
    }

    pub async fn opportunity_lines(&self, p: &Principal, id: OpportunityId) -> Result<Vec<LineRow>, AppError> {
        self.store.opportunity_get(&self.viewer(p).await?, id).await?;
        Ok(self.store.opportunity_lines(id).await?)
    }

    /// Replaces the products of an open opportunity; its amount becomes their sum. Prices come
    /// from the active price book of the opportunity's currency unless typed.
    pub async fn set_opportunity_lines(
        &self,
        p: &Principal,
        id: OpportunityId,
        input: &[LineInput],
    ) -> Result<(Money, Vec<LineRow>), AppError> {
        self.require_writer(p)?;
        let row = self.store.opportunity_get(&self.viewer(p).await?, id).await?;
        if row.stage_kind != StageKind::Open {
            return Err(AppError::Refused(format!(
                "'{}' is closed; reopen it before changing its products",
                row.opportunity.name
            )));
        }
        if input.len() > 200 {
            return Err(AppError::invalid("lines", "at most 200 lines"));
        }
        let currency = row.opportunity.amount.currency;
        let (products, books) = self.products(true).await?;
        let existing = self.store.opportunity_lines(id).await?;
        let book = books.iter().find(|b| b.active && b.currency == currency);
        let mut lines = Vec::with_capacity(input.len());
        for (i, x) in input.iter().enumerate() {
            let f = |name: &str| format!("lines[{i}].{name}");
            let product = products.iter().find(|r| r.product.id.0 == x.product_id).ok_or_else(|| {
                AppError::invalid(f("product_id"), format!("product {} does not exist", x.product_id))
            })?;
            if !product.product.active && !existing.iter().any(|l| l.line.product_id == product.product.id) {
                return Err(AppError::invalid(f("product_id"), format!("{} is no longer sold", product.product.name)));
            }
            let quantity = decimal(&f("quantity"), &x.quantity)?;
            let unit_price = match x.unit_price.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => decimal(&f("unit_price"), s)?,
                None => book
                    .and_then(|b| product.prices.iter().find(|e| e.price_book_id == b.id))
                    .map(|e| e.unit_price)
                    .ok_or_else(|| {
                        AppError::invalid(
                            f("unit_price"),
                            format!("{} has no price in {}; type one", product.product.name, currency.code()),
                        )
                    })?,
            };
            let discount_percent = match x.discount_percent.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => decimal(&f("discount_percent"), s)?,
                None => Decimal::ZERO,
            };
            let total = model::line_total(quantity, unit_price, discount_percent, currency)
                .map_err(|e| AppError::invalid(f(e.field), e.reason))?;
            lines.push(OpportunityLine {
                opportunity_id: id,
                position: i as i32 + 1,
                product_id: product.product.id,
                quantity,
                unit_price,
                discount_percent,
                total,
            });
        }
        let amount = self.store.opportunity_lines_set(&p.audit(self.now()), &row.opportunity, &lines).await?;
        Ok((amount, self.store.opportunity_lines(id).await?))
    }

    pub async fn quotes(
        &self,
        p: &Principal,
        f: &QuoteFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<QuoteRow>, AppError> {
        Ok(self.store.quote_list(&self.viewer(p).await?, f, limit, offset).await?)
    }

    pub async fn quote(&self, p: &Principal, id: QuoteId) -> Result<QuoteRow, AppError> {
        Ok(self.store.quote_get(&self.viewer(p).await?, id).await?)
    }

    /// A draft quote from the opportunity's current products.
    pub async fn create_quote(
        &self,
        p: &Principal,
        id: OpportunityId,
        input: &QuoteInput,
    ) -> Result<QuoteRow, AppError> {
        self.require_writer(p)?;
        let row = self.store.opportunity_get(&self.viewer(p).await?, id).await?;
        if row.stage_kind != StageKind::Open {
            return Err(AppError::Refused(format!("'{}' is closed; it cannot get a new quote", row.opportunity.name)));
        }
        let lines = self.store.opportunity_lines(id).await?;
        if lines.is_empty() {
            return Err(AppError::invalid("lines", "add products to the opportunity before quoting it"));
        }
        let today = self.today();
        let valid_until = match input.valid_until.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => {
                let d = date("valid_until", s)?;
                if d < today {
                    return Err(AppError::invalid("valid_until", "must not be in the past"));
                }
                d
            }
            None => today.saturating_add(jiff::Span::new().days(30)),
        };
        let quote = Quote {
            id: QuoteId(0),
            external_id: None,
            number: String::new(),
            opportunity_id: id,
            owner_id: p.user.id,
            status: QuoteStatus::Draft,
            amount: row.opportunity.amount,
            lines: lines
                .iter()
                .map(|l| QuoteLine {
                    product_id: l.line.product_id,
                    code: l.code.clone(),
                    name: l.name.clone(),
                    quantity: l.line.quantity,
                    unit_price: l.line.unit_price,
                    discount_percent: l.line.discount_percent,
                    total: l.line.total,
                })
                .collect(),
            valid_until: Some(valid_until),
            created_at: self.now(),
            sent_at: None,
            answered_at: None,
        };
        Ok(self.store.quote_create(&p.audit(self.now()), &quote).await?)
    }

    /// Sends, records the answer to, or withdraws a quote.
    pub async fn set_quote_status(
        &self,
        p: &Principal,
        id: QuoteId,
        input: &QuoteStatusInput,
    ) -> Result<QuoteRow, AppError> {
        self.require_writer(p)?;
        let viewer = self.viewer(p).await?;
        let before = self.store.quote_get(&viewer, id).await?.quote;
        let to = QuoteStatus::parse(input.status.trim())?;
        if !before.status.can_move_to(to) {
            return Err(AppError::Refused(format!(
                "quote {} is {}; it cannot become {}",
                before.number,
                before.status.as_str(),
                to.as_str()
            )));
        }
        let now = self.now();
        let at: Timestamp = match input.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => s.parse().map_err(|_| AppError::invalid("at", format!("'{s}' is not an RFC 3339 time")))?,
            None => now,
        };
        if at > now {
            return Err(AppError::invalid("at", "must not be in the future"));
        }
        if at < before.created_at || before.sent_at.is_some_and(|s| at < s) {
            return Err(AppError::invalid("at", "must not be before the quote was made or sent"));
        }
        let mut after = before.clone();
        after.status = to;
        match to {
            QuoteStatus::Sent => after.sent_at = Some(at),
            QuoteStatus::Accepted | QuoteStatus::Rejected => after.answered_at = Some(at),
            QuoteStatus::Draft | QuoteStatus::Withdrawn => {}
        }
        self.store.quote_set_status(&p.audit(now), &before, &after).await?;
        Ok(self.store.quote_get(&viewer, id).await?)
    }

    pub async fn orders(
        &self,
        p: &Principal,
        f: &OrderFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<OrderRow>, AppError> {
        Ok(self.store.order_list(&self.viewer(p).await?, f, limit, offset).await?)
    }

    pub async fn order(&self, p: &Principal, id: OrderId) -> Result<OrderDetail, AppError> {
        let row = self.store.order_get(&self.viewer(p).await?, id).await?;
        let events = self.store.order_events(id).await?;
        Ok(OrderDetail { row, events })
    }

    /// Turns a won opportunity into its order (one per opportunity).
    pub async fn create_order(
        &self,
        p: &Principal,
        id: OpportunityId,
        input: &OrderInput,
    ) -> Result<OrderId, AppError> {
        self.require_writer(p)?;
        let viewer = self.viewer(p).await?;
        let row = self.store.opportunity_get(&viewer, id).await?;
        if row.stage_kind != StageKind::Won {
            return Err(AppError::Refused(format!(
                "'{}' is not won; only won opportunities become orders",
                row.opportunity.name
            )));
        }
        let ordered_on = match input.ordered_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => date("ordered_on", s)?,
            None => self.today(),
        };
        if ordered_on > self.today() {
            return Err(AppError::invalid("ordered_on", "must not be in the future"));
        }
        let mut amount = row.opportunity.amount;
        let quote_id = match input.quote_id {
            Some(q) => {
                let quote = self
                    .store
                    .quote_get(&viewer, QuoteId(q))
                    .await
                    .map_err(|_| AppError::invalid("quote_id", format!("quote {q} does not exist")))?
                    .quote;
                if quote.opportunity_id != id || quote.status != QuoteStatus::Accepted {
                    return Err(AppError::invalid(
                        "quote_id",
                        format!("quote {} is not an accepted quote of this opportunity", quote.number),
                    ));
                }
                amount = quote.amount;
                Some(quote.id)
            }
            None => None,
        };
        let order = Order {
            id: OrderId(0),
            external_id: None,
            number: String::new(),
            opportunity_id: id,
            account_id: row.opportunity.account_id,
            owner_id: row.opportunity.owner_id,
            quote_id,
            amount,
            ordered_on,
            installation_status: InstallationStatus::Pending,
            installation_date: None,
            failed_installations: 0,
            cancelled_at: None,
            cancel_reason: None,
            created_at: self.now(),
        };
        Ok(self.store.order_create(&p.audit(self.now()), &order).await?)
    }

    /// Plans, records or cancels the installation of an order.
    pub async fn order_step(
        &self,
        p: &Principal,
        id: OrderId,
        input: &OrderStepInput,
    ) -> Result<OrderDetail, AppError> {
        self.require_writer(p)?;
        let viewer = self.viewer(p).await?;
        let before = self.store.order_get(&viewer, id).await?.order;
        let day =
            input.date.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| date("date", s)).transpose()?;
        let note = text("reason", input.reason.as_deref().unwrap_or(""), 0, 200)?;
        let today = self.today();
        let step = match input.action.trim() {
            "schedule" => OrderStep::Schedule(day.ok_or_else(|| AppError::invalid("date", "give the planned day"))?),
            "installed" => {
                let d = day.unwrap_or(today);
                if d > today {
                    return Err(AppError::invalid("date", "an installation cannot be done in the future"));
                }
                OrderStep::Installed(d)
            }
            "failed" => OrderStep::Failed,
            "cancel" => OrderStep::Cancel(note.clone()),
            other => {
                return Err(AppError::invalid(
                    "action",
                    format!("'{other}' is not schedule, installed, failed or cancel"),
                ));
            }
        };
        let mut after = before.clone();
        after.apply(&step, self.now()).map_err(|e| match e.field {
            "order" => AppError::Refused(e.reason),
            _ => AppError::from(e),
        })?;
        let event = OrderEvent {
            order_id: id,
            kind: step.kind().into(),
            at: self.now(),
            on_date: match step {
                OrderStep::Schedule(d) | OrderStep::Installed(d) => Some(d),
                _ => None,
            },
            note,
            actor_user_id: Some(p.user.id),
        };
        self.store.order_update(&p.audit(self.now()), &before, &after, &event).await?;
        self.order(p, id).await
    }
}
