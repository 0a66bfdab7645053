//! Products and price books, the lines of an opportunity, quotes and orders (C1): the records
//! behind "proposal rate", "quote response time", "cancel rate", "first time right" and revenue
//! by product line. Pure; the rules for line totals and for the life of quotes and orders live
//! here so the store, the demo generator and the importers agree on them.

use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::{AccountId, Currency, Money, OpportunityId, UserId, ValueError};

macro_rules! commerce_ids {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}
commerce_ids!(ProductId, PriceBookId, QuoteId, OrderId);

/// Something the company sells, in one product line (`family`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub external_id: Option<String>,
    /// Article number (SKU), unique.
    pub code: String,
    pub name: String,
    /// The product line revenue is reported by.
    pub family: String,
    /// What one unit is ("seat/year", "day", "piece").
    pub unit: String,
    pub active: bool,
    pub created_at: Timestamp,
}

/// A list of prices in one currency. An opportunity's lines are priced from the active price
/// book of its currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceBook {
    pub id: PriceBookId,
    pub name: String,
    pub currency: Currency,
    pub active: bool,
}

/// The price of one product in one price book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceBookEntry {
    pub price_book_id: PriceBookId,
    pub product_id: ProductId,
    pub unit_price: Decimal,
}

/// One product on an opportunity: `total = quantity × unit_price × (1 − discount/100)`, rounded
/// to the currency's minor unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpportunityLine {
    pub opportunity_id: OpportunityId,
    pub position: i32,
    pub product_id: ProductId,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount_percent: Decimal,
    pub total: Decimal,
}

/// Largest quantity on one line; beyond it a typo is likelier than an order.
pub const MAX_QUANTITY: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
/// Largest unit price (in any currency).
pub const MAX_UNIT_PRICE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// A line's total in `currency`, after checking its parts: quantity above 0 with at most 4
/// decimals, unit price 0 or more, discount from 0 to 100 percent.
pub fn line_total(
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal,
    currency: Currency,
) -> Result<Decimal, ValueError> {
    if quantity <= Decimal::ZERO || quantity > MAX_QUANTITY || quantity.scale() > 4 {
        return Err(ValueError::new("quantity", "must be above 0 and at most 1,000,000, with at most 4 decimals"));
    }
    if unit_price < Decimal::ZERO || unit_price > MAX_UNIT_PRICE || unit_price.scale() > 4 {
        return Err(ValueError::new(
            "unit_price",
            "must be 0 or more (at most 1,000,000,000), with at most 4 decimals",
        ));
    }
    if discount_percent < Decimal::ZERO || discount_percent > Decimal::ONE_HUNDRED || discount_percent.scale() > 2 {
        return Err(ValueError::new("discount_percent", "must be between 0 and 100, with at most 2 decimals"));
    }
    let gross = quantity * unit_price;
    let net = gross - gross * discount_percent / Decimal::ONE_HUNDRED;
    Ok(net.round_dp_with_strategy(currency.minor_units(), RoundingStrategy::MidpointAwayFromZero))
}

/// The amount of an opportunity with these lines: the sum of their totals.
pub fn lines_amount(lines: &[OpportunityLine], currency: Currency) -> Money {
    Money::new(lines.iter().map(|l| l.total).sum(), currency)
}

/// Where a quote is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuoteStatus {
    Draft,
    Sent,
    Accepted,
    Rejected,
    Withdrawn,
}

impl QuoteStatus {
    pub const ALL: [QuoteStatus; 5] =
        [QuoteStatus::Draft, QuoteStatus::Sent, QuoteStatus::Accepted, QuoteStatus::Rejected, QuoteStatus::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            QuoteStatus::Draft => "draft",
            QuoteStatus::Sent => "sent",
            QuoteStatus::Accepted => "accepted",
            QuoteStatus::Rejected => "rejected",
            QuoteStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Result<QuoteStatus, ValueError> {
        QuoteStatus::ALL.into_iter().find(|q| q.as_str() == s).ok_or_else(|| {
            ValueError::new("status", format!("'{s}' is not draft, sent, accepted, rejected or withdrawn"))
        })
    }

    /// Draft → sent or withdrawn; sent → accepted, rejected or withdrawn; the rest is final.
    pub fn can_move_to(self, to: QuoteStatus) -> bool {
        use QuoteStatus::*;
        matches!((self, to), (Draft, Sent | Withdrawn) | (Sent, Accepted | Rejected | Withdrawn))
    }

    /// The customer has answered (accepted or rejected).
    pub fn is_answered(self) -> bool {
        matches!(self, QuoteStatus::Accepted | QuoteStatus::Rejected)
    }
}

/// One line of a quote as it was when the quote was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub product_id: ProductId,
    pub code: String,
    pub name: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount_percent: Decimal,
    pub total: Decimal,
}

/// A proposal to the customer: a frozen copy of the opportunity's lines, with the times it was
/// sent and answered (quote response time, proposal rate, conversion on quote).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub id: QuoteId,
    pub external_id: Option<String>,
    pub number: String,
    pub opportunity_id: OpportunityId,
    pub owner_id: UserId,
    pub status: QuoteStatus,
    pub amount: Money,
    pub lines: Vec<QuoteLine>,
    pub valid_until: Option<Date>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub answered_at: Option<Timestamp>,
}

/// How far the delivery of an order has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstallationStatus {
    Pending,
    Scheduled,
    Installed,
}

impl InstallationStatus {
    pub const ALL: [InstallationStatus; 3] =
        [InstallationStatus::Pending, InstallationStatus::Scheduled, InstallationStatus::Installed];

    pub fn as_str(self) -> &'static str {
        match self {
            InstallationStatus::Pending => "pending",
            InstallationStatus::Scheduled => "scheduled",
            InstallationStatus::Installed => "installed",
        }
    }

    pub fn parse(s: &str) -> Result<InstallationStatus, ValueError> {
        InstallationStatus::ALL.into_iter().find(|q| q.as_str() == s).ok_or_else(|| {
            ValueError::new("installation_status", format!("'{s}' is not pending, scheduled or installed"))
        })
    }
}

/// What a won opportunity turns into: installed or delivered, or cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub external_id: Option<String>,
    pub number: String,
    pub opportunity_id: OpportunityId,
    pub account_id: AccountId,
    pub owner_id: UserId,
    pub quote_id: Option<QuoteId>,
    pub amount: Money,
    pub ordered_on: Date,
    pub installation_status: InstallationStatus,
    /// Planned while scheduled, actual once installed.
    pub installation_date: Option<Date>,
    /// Installation visits that did not finish the job; 0 once installed is "first time right".
    pub failed_installations: i32,
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<String>,
    pub created_at: Timestamp,
}

/// A step in the life of an order, as a user asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStep {
    /// Plan (or re-plan) the installation on a day.
    Schedule(Date),
    /// The installation was done on a day.
    Installed(Date),
    /// The installation visit did not finish the job; the order waits for a new date.
    Failed,
    /// The customer cancelled (a reason is required).
    Cancel(String),
}

impl OrderStep {
    /// The event kind stored in the order's history.
    pub fn kind(&self) -> &'static str {
        match self {
            OrderStep::Schedule(_) => "scheduled",
            OrderStep::Installed(_) => "installed",
            OrderStep::Failed => "installation_failed",
            OrderStep::Cancel(_) => "cancelled",
        }
    }
}

impl Order {
    /// Applies a step at `at`, or says why it cannot be taken. A cancelled order takes no more
    /// steps; an installed one can still be cancelled (a late cancellation), but not re-planned.
    pub fn apply(&mut self, step: &OrderStep, at: Timestamp) -> Result<(), ValueError> {
        if self.cancelled_at.is_some() {
            return Err(ValueError::new("order", format!("order {} is cancelled", self.number)));
        }
        let installed = self.installation_status == InstallationStatus::Installed;
        match step {
            OrderStep::Schedule(day) => {
                if installed {
                    return Err(ValueError::new("order", format!("order {} is already installed", self.number)));
                }
                if *day < self.ordered_on {
                    return Err(ValueError::new("date", "the installation cannot be planned before the order date"));
                }
                self.installation_status = InstallationStatus::Scheduled;
                self.installation_date = Some(*day);
            }
            OrderStep::Installed(day) => {
                if installed {
                    return Err(ValueError::new("order", format!("order {} is already installed", self.number)));
                }
                if *day < self.ordered_on {
                    return Err(ValueError::new("date", "the installation cannot be before the order date"));
                }
                self.installation_status = InstallationStatus::Installed;
                self.installation_date = Some(*day);
            }
            OrderStep::Failed => {
                if self.installation_status != InstallationStatus::Scheduled {
                    return Err(ValueError::new(
                        "order",
                        format!("order {} has no planned installation to fail", self.number),
                    ));
                }
                self.installation_status = InstallationStatus::Pending;
                self.installation_date = None;
                self.failed_installations += 1;
            }
            OrderStep::Cancel(reason) => {
                if reason.trim().is_empty() {
                    return Err(ValueError::new("reason", "a cancellation needs a reason"));
                }
                self.cancelled_at = Some(at);
                self.cancel_reason = Some(reason.trim().to_string());
            }
        }
        Ok(())
    }

    /// The status a person reads: cancelled, or the installation status.
    pub fn status(&self) -> &'static str {
        if self.cancelled_at.is_some() { "cancelled" } else { self.installation_status.as_str() }
    }
}

/// One entry of an order's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub order_id: OrderId,
    /// created, scheduled, installed, installation_failed or cancelled.
    pub kind: String,
    pub at: Timestamp,
    pub on_date: Option<Date>,
    pub note: String,
    pub actor_user_id: Option<UserId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn line_totals_round_to_the_currency() {
        // 3 seats at 199.99 with 12.5% off: 524.973750 -> 524.97 EUR
        assert_eq!(line_total(d("3"), d("199.99"), d("12.5"), Currency::EUR).unwrap(), d("524.97"));
        // Half a cent rounds away from zero.
        assert_eq!(line_total(d("1"), d("0.125"), d("0"), Currency::EUR).unwrap(), d("0.13"));
        // A currency without minor units.
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(line_total(d("2"), d("1000.4"), d("0"), jpy).unwrap(), d("2001"));
        assert_eq!(line_total(d("1"), d("100"), d("100"), Currency::EUR).unwrap(), d("0"));
    }

    #[test]
    fn impossible_lines_name_their_field() {
        let eur = Currency::EUR;
        assert_eq!(line_total(d("0"), d("1"), d("0"), eur).unwrap_err().field, "quantity");
        assert_eq!(line_total(d("-1"), d("1"), d("0"), eur).unwrap_err().field, "quantity");
        assert_eq!(line_total(d("1"), d("-1"), d("0"), eur).unwrap_err().field, "unit_price");
        assert_eq!(line_total(d("1"), d("1"), d("100.01"), eur).unwrap_err().field, "discount_percent");
        assert_eq!(line_total(d("2000000"), d("1"), d("0"), eur).unwrap_err().field, "quantity");
    }

    #[test]
    fn quotes_go_from_draft_to_an_answer() {
        use QuoteStatus::*;
        assert!(Draft.can_move_to(Sent));
        assert!(Sent.can_move_to(Accepted) && Sent.can_move_to(Rejected));
        assert!(!Draft.can_move_to(Accepted), "a customer cannot accept what was never sent");
        assert!(!Accepted.can_move_to(Rejected) && !Rejected.can_move_to(Sent));
        for s in QuoteStatus::ALL {
            assert_eq!(QuoteStatus::parse(s.as_str()).unwrap(), s);
        }
    }

    fn order() -> Order {
        Order {
            id: OrderId(1),
            external_id: None,
            number: "O-000001".into(),
            opportunity_id: OpportunityId(1),
            account_id: AccountId(1),
            owner_id: UserId(1),
            quote_id: None,
            amount: Money::new(d("1000"), Currency::EUR),
            ordered_on: date(2026, 3, 2),
            installation_status: InstallationStatus::Pending,
            installation_date: None,
            failed_installations: 0,
            cancelled_at: None,
            cancel_reason: None,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn an_order_is_planned_fails_once_and_is_installed() {
        let now = Timestamp::UNIX_EPOCH;
        let mut o = order();
        assert_eq!(o.apply(&OrderStep::Failed, now).unwrap_err().field, "order");
        o.apply(&OrderStep::Schedule(date(2026, 3, 10)), now).unwrap();
        o.apply(&OrderStep::Failed, now).unwrap();
        assert_eq!((o.status(), o.failed_installations), ("pending", 1));
        assert_eq!(o.apply(&OrderStep::Schedule(date(2026, 3, 1)), now).unwrap_err().field, "date");
        o.apply(&OrderStep::Schedule(date(2026, 3, 17)), now).unwrap();
        o.apply(&OrderStep::Installed(date(2026, 3, 17)), now).unwrap();
        assert_eq!((o.status(), o.installation_date), ("installed", Some(date(2026, 3, 17))));
        assert!(o.apply(&OrderStep::Schedule(date(2026, 4, 1)), now).is_err());
    }

    #[test]
    fn a_cancelled_order_needs_a_reason_and_takes_no_more_steps() {
        let now = Timestamp::UNIX_EPOCH;
        let mut o = order();
        assert_eq!(o.apply(&OrderStep::Cancel("  ".into()), now).unwrap_err().field, "reason");
        o.apply(&OrderStep::Cancel("Cooling-off period".into()), now).unwrap();
        assert_eq!(o.status(), "cancelled");
        assert!(o.apply(&OrderStep::Schedule(date(2026, 3, 10)), now).is_err());
        assert!(o.apply(&OrderStep::Cancel("again".into()), now).is_err());
    }

    proptest::proptest! {
        /// A line never costs less than nothing nor more than its undiscounted price, and more
        /// discount never makes it dearer.
        #[test]
        fn line_totals_stay_between_zero_and_the_list_price(
            qty in 1i64..100_000, qty_scale in 0u32..3, cents in 0i64..10_000_000, d1 in 0i64..=10_000, d2 in 0i64..=10_000,
        ) {
            let q = Decimal::new(qty, qty_scale);
            let price = Decimal::new(cents, 2);
            let (lo, hi) = (Decimal::new(d1.min(d2), 2), Decimal::new(d1.max(d2), 2));
            let list = line_total(q, price, Decimal::ZERO, Currency::EUR).unwrap();
            let less = line_total(q, price, lo, Currency::EUR).unwrap();
            let least = line_total(q, price, hi, Currency::EUR).unwrap();
            proptest::prop_assert!(least >= Decimal::ZERO);
            proptest::prop_assert!(least <= less && less <= list);
            proptest::prop_assert_eq!(list, (q * price).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero));
            proptest::prop_assert!(list.scale() <= 2);
        }
    }
}
