//! What the demo company sells and how deals turn into paper: a product catalogue in four
//! product lines, a standard price book per currency, product lines on every opportunity (the
//! opportunity's amount is their sum), quotes for deals that reached the proposal stage (sent
//! and answered times), and orders for won deals with their installation, failed visits and
//! cancellations before installation ("pre-installed churn").

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use model::{
    Currency, InstallationStatus, Money, Opportunity, OpportunityLine, Order, OrderEvent, OrderId, OrderStep,
    PriceBook, PriceBookEntry, PriceBookId, Product, ProductId, Quote, QuoteId, QuoteLine, QuoteStatus, StageChange,
    StageKind,
};
use rand::Rng;
use rust_decimal::Decimal;

use crate::calendar::Calendar;
use crate::data::REGIONS;
use crate::random::{DemoRng, log_normal, pick};

/// (code, name, family, unit, list price in EUR)
const CATALOGUE: [(&str, &str, &str, &str, i64); 10] = [
    ("SW-CORE", "Core platform licence", "Software", "seat/year", 600),
    ("SW-ANL", "Analytics add-on", "Software", "seat/year", 240),
    ("SW-INT", "Integration hub", "Software", "instance/year", 4_800),
    ("HW-TERM", "Field terminal", "Hardware", "piece", 900),
    ("HW-SENS", "Sensor kit", "Hardware", "piece", 350),
    ("SV-IMPL", "Implementation", "Services", "day", 1_100),
    ("SV-TRN", "Training", "Services", "day", 950),
    ("SV-MIG", "Data migration package", "Services", "package", 6_500),
    ("SUP-STD", "Standard support", "Support", "year", 2_400),
    ("SUP-PRM", "Premium support", "Support", "year", 6_000),
];
const CORE: usize = 0;
const ANALYTICS: usize = 1;
const INTEGRATION: usize = 2;
const TERMINAL: usize = 3;
const SENSORS: usize = 4;
const IMPLEMENTATION: usize = 5;
const TRAINING: usize = 6;
const MIGRATION: usize = 7;
const SUPPORT: usize = 8;
const PREMIUM: usize = 9;

const DISCOUNTS: [i64; 7] = [0, 0, 0, 5, 10, 15, 20];
const CANCEL_REASONS: [&str; 5] = [
    "Cooling-off period",
    "Financing refused",
    "Customer changed their mind",
    "Not technically feasible",
    "Found a cheaper offer",
];
/// Share of won new-business orders cancelled before installation.
const CANCEL_BEFORE_INSTALL: f64 = 0.07;
/// Share of installation visits that do not finish the job.
const FAILED_VISIT: f64 = 0.09;

pub(crate) struct Commerce {
    pub products: Vec<Product>,
    pub price_books: Vec<PriceBook>,
    pub prices: Vec<PriceBookEntry>,
    pub lines: Vec<OpportunityLine>,
    pub quotes: Vec<Quote>,
    pub orders: Vec<Order>,
    pub order_events: Vec<OrderEvent>,
}

/// The price books: one "Standard" per currency the regions sell in, list prices converted with
/// the region's scale and rounded to whole units.
fn price_books(start: Timestamp) -> (Vec<Product>, Vec<PriceBook>, Vec<PriceBookEntry>) {
    let products: Vec<Product> = CATALOGUE
        .iter()
        .enumerate()
        .map(|(i, (code, name, family, unit, _))| Product {
            id: ProductId(i as i64 + 1),
            external_id: None,
            code: code.to_string(),
            name: name.to_string(),
            family: family.to_string(),
            unit: unit.to_string(),
            active: true,
            created_at: start,
        })
        .collect();
    let mut books: Vec<PriceBook> = vec![];
    let mut prices = vec![];
    for r in REGIONS.iter() {
        let currency = Currency::parse(r.currency).expect("demo currencies are valid");
        if books.iter().any(|b| b.currency == currency) {
            continue;
        }
        let id = PriceBookId(books.len() as i64 + 1);
        books.push(PriceBook { id, name: "Standard".into(), currency, active: true });
        for (i, (_, _, _, _, eur)) in CATALOGUE.iter().enumerate() {
            let local = (*eur as f64 * r.currency_scale).round() as i64;
            prices.push(PriceBookEntry {
                price_book_id: id,
                product_id: ProductId(i as i64 + 1),
                unit_price: Decimal::new(local, 0),
            });
        }
    }
    (products, books, prices)
}

fn price_of(prices: &[PriceBookEntry], books: &[PriceBook], currency: Currency, product: usize) -> Decimal {
    let book = books.iter().find(|b| b.currency == currency).map_or(PriceBookId(1), |b| b.id);
    prices
        .iter()
        .find(|p| p.price_book_id == book && p.product_id.0 == product as i64 + 1)
        .map_or(Decimal::ONE, |p| p.unit_price)
}

fn after(t: Timestamp, seconds: f64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs(seconds.max(0.0) as i64)).unwrap_or(t)
}

fn day_of(t: Timestamp) -> Date {
    t.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// At ten in the morning (UTC) of `d`.
fn morning(d: Date) -> Timestamp {
    d.at(10, 0, 0, 0).to_zoned(jiff::tz::TimeZone::UTC).map_or(Timestamp::UNIX_EPOCH, |z| z.timestamp())
}

pub(crate) fn build(
    opportunities: &mut [Opportunity],
    history: &[StageChange],
    pipelines: &[model::Pipeline],
    cal: &Calendar,
    rng: &mut DemoRng,
) -> Commerce {
    let start = cal.timestamp(cal.second(0, 0));
    let now = cal.timestamp(cal.end_of_today());
    let (products, price_books, prices) = price_books(start);
    let stage = |id: model::StageId| pipelines.iter().flat_map(|p| p.stages.iter()).find(|s| s.id == id);
    // The first open stage a quote belongs to: "Proposal" of the new-business pipeline.
    let proposal = pipelines[0].stages.iter().find(|s| s.name == "Proposal").map(|s| s.id);
    let renewal_pipeline = pipelines.get(1).map(|p| p.id);

    let mut lines = Vec::with_capacity(opportunities.len() * 2);
    let mut quotes = vec![];
    let mut orders = vec![];
    let mut order_events = vec![];
    let mut h = 0usize;
    for o in opportunities.iter_mut() {
        // This opportunity's history (history is in opportunity order).
        let first = h;
        while h < history.len() && history[h].opportunity_id == o.id {
            h += 1;
        }
        let way = &history[first..h];
        let currency = o.amount.currency;
        let target = o.amount.amount;
        let renewal = Some(o.pipeline_id) == renewal_pipeline;

        // The products, each with its share of the deal.
        let mix: Vec<(usize, f64)> = if renewal {
            if rng.random_bool(0.5) {
                vec![(if rng.random_bool(0.3) { PREMIUM } else { SUPPORT }, 1.0)]
            } else {
                vec![(CORE, 0.8), (SUPPORT, 0.2)]
            }
        } else {
            let mut m = vec![(CORE, 0.65)];
            if rng.random_bool(0.35) {
                m.push((ANALYTICS, 0.1));
            }
            if rng.random_bool(0.15) {
                m.push((INTEGRATION, 0.15));
            }
            if rng.random_bool(0.25) {
                m.push((*pick(rng, &[TERMINAL, SENSORS]), 0.15));
            }
            if rng.random_bool(0.6) {
                m.push((IMPLEMENTATION, 0.15));
            }
            if rng.random_bool(0.2) {
                m.push((*pick(rng, &[TRAINING, MIGRATION]), 0.08));
            }
            m
        };
        let weight: f64 = mix.iter().map(|(_, w)| w).sum();
        let target_f: f64 = target.try_into().unwrap_or(1000.0);
        let discount = if renewal { 0 } else { *pick(rng, &DISCOUNTS) };
        let mut mine = Vec::with_capacity(mix.len());
        for (position, (product, share)) in mix.iter().enumerate() {
            let unit_price = price_of(&prices, &price_books, currency, *product);
            let unit_f: f64 = unit_price.try_into().unwrap_or(1.0);
            let qty = (target_f * share / weight / unit_f).round().max(1.0) as i64;
            let quantity = Decimal::from(qty);
            let discount_percent = Decimal::from(discount);
            let total = model::line_total(quantity, unit_price, discount_percent, currency)
                .expect("demo lines are within bounds");
            mine.push(OpportunityLine {
                opportunity_id: o.id,
                position: position as i32 + 1,
                product_id: ProductId(*product as i64 + 1),
                quantity,
                unit_price,
                discount_percent,
                total,
            });
        }
        o.amount = model::lines_amount(&mine, currency);

        // A quote once the deal reached the proposal stage.
        let proposed = way.iter().find(|c| Some(c.to_stage_id) == proposal).map(|c| c.at);
        let current = stage(o.stage_id).map(|s| s.kind);
        let closed_at = way.last().map_or(o.updated_at, |c| c.at);
        let mut accepted_quote = None;
        if let Some(asked) = proposed {
            let snapshot: Vec<QuoteLine> = mine
                .iter()
                .map(|l| {
                    let (code, name, ..) = CATALOGUE[(l.product_id.0 - 1) as usize];
                    QuoteLine {
                        product_id: l.product_id,
                        code: code.into(),
                        name: name.into(),
                        quantity: l.quantity,
                        unit_price: l.unit_price,
                        discount_percent: l.discount_percent,
                        total: l.total,
                    }
                })
                .collect();
            // Response time: usually within a working day, sometimes several.
            let sent = after(asked, log_normal(rng, 6.0 * 3600.0, 1.1)).min(now);
            let draft_only = current == Some(StageKind::Open) && rng.random_bool(0.08) && Some(o.stage_id) == proposal;
            let (status, answered) = match current {
                Some(StageKind::Won) => (QuoteStatus::Accepted, Some(closed_at.max(sent))),
                Some(StageKind::Lost) if rng.random_bool(0.8) => (QuoteStatus::Rejected, Some(closed_at.max(sent))),
                Some(StageKind::Lost) => (QuoteStatus::Withdrawn, None),
                _ if draft_only => (QuoteStatus::Draft, None),
                _ => (QuoteStatus::Sent, None),
            };
            let id = QuoteId(quotes.len() as i64 + 1);
            if status == QuoteStatus::Accepted {
                accepted_quote = Some(id);
            }
            quotes.push(Quote {
                id,
                external_id: None,
                number: format!("Q-{:06}", id.0),
                opportunity_id: o.id,
                owner_id: o.owner_id,
                status,
                amount: o.amount,
                lines: snapshot,
                valid_until: Some(day_of(asked).saturating_add(jiff::Span::new().days(30))),
                created_at: asked,
                sent_at: (status != QuoteStatus::Draft).then_some(sent),
                answered_at: answered,
            });
        }

        // An order for every won deal.
        if current == Some(StageKind::Won) {
            let id = OrderId(orders.len() as i64 + 1);
            let ordered_on = day_of(closed_at);
            let mut order = Order {
                id,
                external_id: None,
                number: format!("O-{:06}", id.0),
                opportunity_id: o.id,
                account_id: o.account_id,
                owner_id: o.owner_id,
                quote_id: accepted_quote,
                amount: Money::new(o.amount.amount, currency),
                ordered_on,
                installation_status: InstallationStatus::Pending,
                installation_date: None,
                failed_installations: 0,
                cancelled_at: None,
                cancel_reason: None,
                created_at: closed_at,
            };
            let actor = Some(o.owner_id);
            let mut events = vec![OrderEvent {
                order_id: id,
                kind: "created".into(),
                at: closed_at,
                on_date: Some(ordered_on),
                note: String::new(),
                actor_user_id: actor,
            }];
            let mut step = |order: &mut Order, s: OrderStep, at: Timestamp, on: Option<Date>| -> bool {
                if at > now {
                    return false;
                }
                let note = match &s {
                    OrderStep::Cancel(r) => r.clone(),
                    _ => String::new(),
                };
                let kind = s.kind();
                if order.apply(&s, at).is_err() {
                    return false;
                }
                events.push(OrderEvent {
                    order_id: id,
                    kind: kind.into(),
                    at,
                    on_date: on,
                    note,
                    actor_user_id: actor,
                });
                true
            };
            if renewal {
                // Nothing to install: a renewal is delivered the day it is signed.
                step(&mut order, OrderStep::Installed(ordered_on), closed_at, Some(ordered_on));
            } else if rng.random_bool(CANCEL_BEFORE_INSTALL) {
                let at = after(closed_at, rng.random_range(1.0..14.0) * 86_400.0);
                step(&mut order, OrderStep::Cancel(pick(rng, &CANCEL_REASONS).to_string()), at, None);
            } else {
                let mut planned_at = after(closed_at, rng.random_range(0.2..4.0) * 86_400.0);
                let mut day = ordered_on.saturating_add(jiff::Span::new().days(rng.random_range(7..35)));
                for _ in 0..3 {
                    if !step(&mut order, OrderStep::Schedule(day), planned_at, Some(day)) {
                        break;
                    }
                    let visit = morning(day);
                    if rng.random_bool(FAILED_VISIT) {
                        if !step(&mut order, OrderStep::Failed, visit, Some(day)) {
                            break;
                        }
                        planned_at = after(visit, 3600.0 * 4.0);
                        day = day.saturating_add(jiff::Span::new().days(rng.random_range(5..21)));
                        continue;
                    }
                    step(&mut order, OrderStep::Installed(day), after(visit, 6.0 * 3600.0), Some(day));
                    break;
                }
            }
            orders.push(order);
            order_events.extend(events);
        }
        lines.extend(mine);
    }
    Commerce { products, price_books, prices, lines, quotes, orders, order_events }
}
