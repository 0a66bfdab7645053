//! The salesops vocabulary, shared by every other crate.
//!
//! Pure: no I/O, no clock, no randomness. Invariants live in constructors, so any value of
//! these types is valid: a [`Currency`] is a known ISO 4217 code, a [`TimeZoneName`] an IANA zone
//! that exists, an [`Email`] is normalised, a [`Money`] never mixes currencies silently.
//!
//! Main types: [`Role`] and its [`Visibility`], [`Money`] / [`Currency`] / [`FxTable`],
//! [`Locale`] with per-locale number, money and date formatting, and the newtype ids.

mod commerce;
pub mod dedupe;
mod format;
mod ids;
mod money;
mod org;
pub mod period;
mod records;
pub mod search;

pub use commerce::*;
pub use format::{Locale, format_date, format_decimal, format_money, format_money_whole, format_timestamp};
pub use ids::*;
pub use money::{Currency, FxRate, FxTable, Money, MoneyError};
pub use org::{Email, Permission, Role, TimeZoneName, TokenScope, ValueError, Visibility};
pub use period::{FiscalCalendar, Period, PeriodError, PeriodKind, QuarterScheme};
pub use records::*;
