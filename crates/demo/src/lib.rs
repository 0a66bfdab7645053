//! Deterministic, seeded generator of a believable demo company: six regions in four currencies,
//! a sales organisation with a manager hierarchy, the nine demo logins, two pipelines, accounts,
//! opportunities and monthly exchange rates.
//!
//! Pure: no I/O, no clock, no thread RNG. The same `(scale, seed, today)` always yields the same
//! [`Company`]; all ids are assigned sequentially from 1 per type, so a store can insert them
//! verbatim, in vector order (managers before their reports, parent accounts before children).
//!
//! ```
//! let company = demo::generate(demo::Scale::Small, 42, jiff::civil::date(2026, 5, 1));
//! assert_eq!(company.logins.len(), 9);
//! ```

mod accounts;
mod calendar;
mod commerce;
mod crm;
mod data;
mod fx;
mod opportunities;
mod org;
mod pipelines;
mod random;

pub use org::login_email;

use jiff::civil::Date;
use model::{
    Account, Activity, Contact, Currency, Email, FxRate, Lead, LossReason, LossReasonId, Opportunity, OpportunityLine,
    Order, OrderEvent, Pipeline, PriceBook, PriceBookEntry, Product, Quote, Region, Role, StageChange, Team, User,
    UserId,
};

/// The password of every demo login.
pub const DEMO_PASSWORD: &str = "salesops-demo";

/// How big a company to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// ~20 reps, 400 accounts, 3,000 opportunities: instant, for trying things out.
    Small,
    /// ~200 reps, 8,000 accounts, 50,000 opportunities.
    Medium,
    /// ~2,000 reps, 100,000 accounts, 1,000,000 opportunities: for load and performance work.
    Large,
}

impl Scale {
    /// Parses "small", "medium" or "large" (case-insensitive).
    pub fn parse(s: &str) -> Result<Scale, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "small" => Ok(Scale::Small),
            "medium" => Ok(Scale::Medium),
            "large" => Ok(Scale::Large),
            _ => Err(format!("unknown scale '{s}': expected small, medium or large")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Small => "small",
            Scale::Medium => "medium",
            Scale::Large => "large",
        }
    }

    pub(crate) fn sizes(self) -> Sizes {
        match self {
            Scale::Small => Sizes {
                reps: 20,
                accounts: 400,
                opportunities: 3_000,
                leads: 600,
                activities: 6_000,
                ops_staff: [1; 6],
            },
            Scale::Medium => Sizes {
                reps: 200,
                accounts: 8_000,
                opportunities: 50_000,
                leads: 12_000,
                activities: 100_000,
                ops_staff: [3, 2, 3, 2, 2, 2],
            },
            Scale::Large => Sizes {
                reps: 2_000,
                accounts: 100_000,
                opportunities: 1_000_000,
                leads: 150_000,
                activities: 1_000_000,
                ops_staff: [12, 8, 15, 6, 3, 6],
            },
        }
    }
}

/// Target sizes of one scale.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub reps: usize,
    pub accounts: usize,
    pub opportunities: usize,
    pub leads: usize,
    pub activities: usize,
    /// Head-office staff per role, in the order of `org::OPS_ROLES`.
    pub ops_staff: [usize; 6],
}

/// The whole demo company, ready to be inserted in vector order.
#[derive(Debug, Clone, PartialEq)]
pub struct Company {
    /// The currency management reports in: EUR.
    pub reporting_currency: Currency,
    pub regions: Vec<Region>,
    pub teams: Vec<Team>,
    /// Ids 1..=n; every manager comes before their reports.
    pub users: Vec<User>,
    /// One per role, in [`Role::ALL`] order.
    pub logins: Vec<DemoLogin>,
    pub pipelines: Vec<Pipeline>,
    /// Parents come before their children.
    pub accounts: Vec<Account>,
    pub opportunities: Vec<Opportunity>,
    /// Every stage change of every opportunity, in opportunity order then time.
    pub stage_history: Vec<StageChange>,
    pub loss_reasons: Vec<LossReason>,
    pub contacts: Vec<Contact>,
    pub leads: Vec<Lead>,
    /// In time order.
    pub activities: Vec<Activity>,
    /// Monthly rates from DKK, PLN, GBP and USD to EUR.
    pub fx_rates: Vec<FxRate>,
    /// The catalogue: ten products in four product lines.
    pub products: Vec<Product>,
    /// One "Standard" price book per currency.
    pub price_books: Vec<PriceBook>,
    pub prices: Vec<PriceBookEntry>,
    /// The products of every opportunity; an opportunity's amount is the sum of its lines.
    pub opportunity_lines: Vec<OpportunityLine>,
    /// Quotes of the deals that reached the proposal stage.
    pub quotes: Vec<Quote>,
    /// An order per won deal, with its installation or cancellation.
    pub orders: Vec<Order>,
    /// In order of orders, then time.
    pub order_events: Vec<OrderEvent>,
}

/// A fixed, documented login for trying the product in one role; the password is
/// [`DEMO_PASSWORD`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub role: Role,
    pub email: Email,
    pub user_id: UserId,
}

/// Generates the demo company. `today` anchors the three years of history (and the open
/// pipeline after it); `seed` picks one of many equally believable companies.
pub fn generate(scale: Scale, seed: u64, today: Date) -> Company {
    let sizes = scale.sizes();
    let cal = calendar::Calendar::new(today);
    let org = org::build(&sizes, &mut random::stream(seed, 1));
    let pipelines = pipelines::build();
    let accs = accounts::build(&sizes, &org, &cal, &mut random::stream(seed, 2));
    let (mut opportunities, stage_history) =
        opportunities::build(&sizes, &org, &accs, &pipelines, &cal, &mut random::stream(seed, 3));
    let fx_rates = fx::build(&cal, &mut random::stream(seed, 4));
    let crm = crm::build(&sizes, &accs, &opportunities, &stage_history, &cal, &mut random::stream(seed, 5));
    let com = commerce::build(&mut opportunities, &stage_history, &pipelines, &cal, &mut random::stream(seed, 6));
    let loss_reasons = opportunities::LOSS_REASONS
        .iter()
        .enumerate()
        .map(|(i, name)| LossReason { id: LossReasonId(i as i64 + 1), name: name.to_string(), active: true })
        .collect();
    Company {
        reporting_currency: Currency::EUR,
        regions: org.regions,
        teams: org.teams,
        users: org.users,
        logins: org.logins,
        pipelines,
        accounts: accs.accounts,
        opportunities,
        stage_history,
        loss_reasons,
        contacts: crm.contacts,
        leads: crm.leads,
        activities: crm.activities,
        fx_rates,
        products: com.products,
        price_books: com.price_books,
        prices: com.prices,
        opportunity_lines: com.lines,
        quotes: com.quotes,
        orders: com.orders,
        order_events: com.order_events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reps(c: &Company) -> usize {
        c.users.iter().filter(|u| u.role == Role::SalesRep).count()
    }

    #[test]
    fn scales_parse_and_print() {
        for s in [Scale::Small, Scale::Medium, Scale::Large] {
            assert_eq!(Scale::parse(s.as_str()), Ok(s));
        }
        assert_eq!(Scale::parse(" Large "), Ok(Scale::Large));
        assert!(Scale::parse("huge").is_err());
    }

    #[test]
    fn scale_sizes_are_as_specified() {
        let large = Scale::Large.sizes();
        assert_eq!((large.reps, large.accounts, large.opportunities), (2_000, 100_000, 1_000_000));

        let today = jiff::civil::date(2026, 5, 1);
        let small = generate(Scale::Small, 1, today);
        assert_eq!(reps(&small), 20);
        assert_eq!(small.accounts.len(), 400);
        assert_eq!(small.opportunities.len(), 3_000);

        let medium = generate(Scale::Medium, 1, today);
        assert_eq!(reps(&medium), 200);
        assert_eq!(medium.accounts.len(), 8_000);
        assert_eq!(medium.opportunities.len(), 50_000);
        // Teams of about eight.
        assert!((25..=30).contains(&medium.teams.len()), "{} teams", medium.teams.len());
    }

    #[test]
    fn stage_history_leads_to_the_current_stage_in_time_order() {
        let c = generate(Scale::Small, 3, jiff::civil::date(2026, 5, 1));
        let mut last: Vec<Option<&StageChange>> = vec![None; c.opportunities.len()];
        for h in &c.stage_history {
            let i = (h.opportunity_id.0 - 1) as usize;
            assert_eq!(h.from_stage_id, last[i].map(|p| p.to_stage_id), "{h:?} continues from the previous stage");
            if let Some(p) = last[i] {
                assert!(p.at <= h.at, "history of {} runs forward", h.opportunity_id);
            }
            last[i] = Some(h);
        }
        for (o, l) in c.opportunities.iter().zip(&last) {
            let l = l.expect("every opportunity has history");
            assert_eq!((l.to_stage_id, l.at), (o.stage_id, o.stage_entered_at));
        }
        let lost = c.opportunities.iter().filter(|o| o.loss_reason_id.is_some()).count();
        assert!(lost > 300, "{lost} lost deals carry a reason");
        assert!(c.leads.iter().any(|l| l.status == model::LeadStatus::Nurture));
        assert!(c.activities.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn deals_carry_products_quotes_and_orders_that_add_up() {
        let c = generate(Scale::Small, 3, jiff::civil::date(2026, 5, 1));
        // Every opportunity's amount is the sum of its lines, in its own currency.
        let mut sums = std::collections::HashMap::new();
        for l in &c.opportunity_lines {
            *sums.entry(l.opportunity_id).or_insert(rust_decimal::Decimal::ZERO) += l.total;
        }
        for o in &c.opportunities {
            assert_eq!(sums.get(&o.id), Some(&o.amount.amount), "{} adds up", o.id);
        }
        // Every won deal has one order; quotes were sent before they were answered.
        let won = c.opportunities.iter().filter(|o| o.forecast_category == model::ForecastCategory::Closed).count();
        assert_eq!(c.orders.len(), won);
        assert!(c.quotes.len() > c.orders.len(), "more quotes ({}) than orders", c.quotes.len());
        for q in &c.quotes {
            if let (Some(s), Some(a)) = (q.sent_at, q.answered_at) {
                assert!(s <= a, "{} answered after it was sent", q.number);
            }
            assert_eq!(q.answered_at.is_some(), q.status.is_answered(), "{}", q.number);
        }
        let cancelled = c.orders.iter().filter(|o| o.cancelled_at.is_some()).count();
        let installed = c.orders.iter().filter(|o| o.status() == "installed").count();
        let retried = c.orders.iter().filter(|o| o.failed_installations > 0).count();
        assert!(cancelled > 0 && installed > c.orders.len() / 2 && retried > 0, "{cancelled} {installed} {retried}");
        // Events of an order run forward in time, starting with its creation.
        for w in c.order_events.windows(2) {
            if w[0].order_id == w[1].order_id {
                assert!(w[0].at <= w[1].at, "{:?}", w[1]);
            } else {
                assert_eq!(w[1].kind, "created");
            }
        }
    }
}
