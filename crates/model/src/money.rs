//! Money is an exact decimal amount with an ISO 4217 currency. Amounts in different currencies
//! are never added without an explicit, dated exchange rate from an [`FxTable`].

use std::collections::BTreeMap;
use std::fmt;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ValueError;

/// ISO 4217 codes salesops knows, with their minor units (digits after the decimal point).
const CURRENCIES: &[(&str, u32, &str)] = &[
    ("AED", 2, "UAE Dirham"),
    ("AUD", 2, "Australian Dollar"),
    ("BGN", 2, "Bulgarian Lev"),
    ("BRL", 2, "Brazilian Real"),
    ("CAD", 2, "Canadian Dollar"),
    ("CHF", 2, "Swiss Franc"),
    ("CNY", 2, "Yuan Renminbi"),
    ("CZK", 2, "Czech Koruna"),
    ("DKK", 2, "Danish Krone"),
    ("EUR", 2, "Euro"),
    ("GBP", 2, "Pound Sterling"),
    ("HKD", 2, "Hong Kong Dollar"),
    ("HUF", 2, "Forint"),
    ("INR", 2, "Indian Rupee"),
    ("ISK", 0, "Iceland Krona"),
    ("JPY", 0, "Yen"),
    ("KRW", 0, "Won"),
    ("MXN", 2, "Mexican Peso"),
    ("NOK", 2, "Norwegian Krone"),
    ("NZD", 2, "New Zealand Dollar"),
    ("PLN", 2, "Zloty"),
    ("RON", 2, "Romanian Leu"),
    ("SEK", 2, "Swedish Krona"),
    ("SGD", 2, "Singapore Dollar"),
    ("TRY", 2, "Turkish Lira"),
    ("UAH", 2, "Hryvnia"),
    ("USD", 2, "US Dollar"),
    ("ZAR", 2, "Rand"),
];

/// A known ISO 4217 currency code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");
    pub const USD: Currency = Currency(*b"USD");

    pub fn parse(s: &str) -> Result<Currency, ValueError> {
        let up = s.trim().to_ascii_uppercase();
        match CURRENCIES.iter().find(|(code, _, _)| *code == up) {
            Some((code, _, _)) => {
                let b = code.as_bytes();
                Ok(Currency([b[0], b[1], b[2]]))
            }
            None => Err(ValueError::new("currency", format!("'{s}' is not a supported ISO 4217 currency"))),
        }
    }

    pub fn code(&self) -> &str {
        // Constructed only from ASCII codes in CURRENCIES.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    pub fn minor_units(&self) -> u32 {
        CURRENCIES.iter().find(|(c, _, _)| *c == self.code()).map_or(2, |(_, m, _)| *m)
    }

    pub fn name(&self) -> &'static str {
        CURRENCIES.iter().find(|(c, _, _)| *c == self.code()).map_or("", |(_, _, n)| n)
    }

    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES.iter().filter_map(|(c, _, _)| Currency::parse(c).ok())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl TryFrom<String> for Currency {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Currency::parse(&s)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {0} with {1} without an exchange rate")]
    CurrencyMismatch(Currency, Currency),
    #[error("no exchange rate from {from} to {to} on or before {on}")]
    NoRate { from: Currency, to: Currency, on: Date },
    #[error("amount overflow")]
    Overflow,
}

/// An exact amount in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money { amount: Decimal::ZERO, currency }
    }

    /// Parses a plain decimal amount ("1234.50"); no floats, no thousands separators.
    pub fn parse(amount: &str, currency: &str) -> Result<Money, ValueError> {
        let amount: Decimal = amount
            .trim()
            .parse()
            .map_err(|_| ValueError::new("amount", format!("'{}' is not a decimal amount", amount.trim())))?;
        Ok(Money { amount, currency: Currency::parse(currency)? })
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let amount = self.amount.checked_add(other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }

    /// Rounded to the currency's minor units, half away from zero (commercial rounding).
    pub fn rounded(self) -> Money {
        let amount = self
            .amount
            .round_dp_with_strategy(self.currency.minor_units(), rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        Money { amount, currency: self.currency }
    }
}

/// One dated exchange rate: 1 `from` = `rate` `to`, valid from `valid_from` until the next rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxRate {
    pub from: Currency,
    pub to: Currency,
    pub valid_from: Date,
    pub rate: Decimal,
}

/// All known dated rates; converts with the latest rate valid on a date, directly, inverted, or
/// across one pivot currency.
#[derive(Debug, Clone, Default)]
pub struct FxTable {
    rates: BTreeMap<(Currency, Currency), Vec<(Date, Decimal)>>,
}

impl FxTable {
    pub fn new(rates: impl IntoIterator<Item = FxRate>) -> FxTable {
        let mut t = FxTable::default();
        for r in rates {
            if r.rate > Decimal::ZERO {
                t.rates.entry((r.from, r.to)).or_default().push((r.valid_from, r.rate));
            }
        }
        for v in t.rates.values_mut() {
            v.sort_by_key(|(d, _)| *d);
        }
        t
    }

    fn direct(&self, from: Currency, to: Currency, on: Date) -> Option<Decimal> {
        if from == to {
            return Some(Decimal::ONE);
        }
        let find = |k: &(Currency, Currency)| {
            self.rates.get(k).and_then(|v| v.iter().rev().find(|(d, _)| *d <= on).map(|(_, r)| *r))
        };
        find(&(from, to)).or_else(|| find(&(to, from)).and_then(|r| Decimal::ONE.checked_div(r)))
    }

    /// The rate to multiply an amount in `from` by to get `to`, valid on `on`.
    pub fn rate(&self, from: Currency, to: Currency, on: Date) -> Option<Decimal> {
        if let Some(r) = self.direct(from, to, on) {
            return Some(r);
        }
        let pivots: std::collections::BTreeSet<Currency> = self.rates.keys().flat_map(|(a, b)| [*a, *b]).collect();
        pivots.into_iter().find_map(|p| {
            let a = self.direct(from, p, on)?;
            let b = self.direct(p, to, on)?;
            a.checked_mul(b)
        })
    }

    pub fn convert(&self, money: Money, to: Currency, on: Date) -> Result<Money, MoneyError> {
        let rate = self.rate(money.currency, to, on).ok_or(MoneyError::NoRate { from: money.currency, to, on })?;
        let amount = money.amount.checked_mul(rate).ok_or(MoneyError::Overflow)?.round_dp(6);
        Ok(Money { amount, currency: to })
    }

    /// Sums amounts in any currencies into `to`, each converted with the rate of its own date.
    pub fn sum_in(&self, to: Currency, items: impl IntoIterator<Item = (Money, Date)>) -> Result<Money, MoneyError> {
        items.into_iter().try_fold(Money::zero(to), |acc, (m, d)| acc.checked_add(self.convert(m, to, d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn eur(s: &str) -> Money {
        Money::parse(s, "EUR").unwrap()
    }

    #[test]
    fn currencies_are_checked() {
        assert_eq!(Currency::parse("eur").unwrap().code(), "EUR");
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("XYZ").is_err());
    }

    #[test]
    fn adding_across_currencies_needs_a_rate() {
        let usd = Money::parse("10", "USD").unwrap();
        assert!(matches!(eur("1").checked_add(usd), Err(MoneyError::CurrencyMismatch(..))));
        assert_eq!(eur("0.10").checked_add(eur("0.20")).unwrap(), eur("0.30"));
    }

    #[test]
    fn dated_rates_direct_inverse_and_cross() {
        let c = |s| Currency::parse(s).unwrap();
        let t = FxTable::new([
            FxRate { from: c("USD"), to: c("EUR"), valid_from: date(2026, 1, 1), rate: "0.90".parse().unwrap() },
            FxRate { from: c("USD"), to: c("EUR"), valid_from: date(2026, 6, 1), rate: "0.80".parse().unwrap() },
            FxRate { from: c("EUR"), to: c("DKK"), valid_from: date(2026, 1, 1), rate: "7.46".parse().unwrap() },
        ]);
        let ten_usd = Money::parse("10", "USD").unwrap();
        assert_eq!(t.convert(ten_usd, c("EUR"), date(2026, 3, 1)).unwrap(), eur("9.00"));
        assert_eq!(t.convert(ten_usd, c("EUR"), date(2026, 7, 1)).unwrap(), eur("8.00"));
        assert!(t.convert(ten_usd, c("EUR"), date(2025, 12, 31)).is_err());
        assert_eq!(t.convert(eur("9"), c("USD"), date(2026, 3, 1)).unwrap().rounded().amount.to_string(), "10.00");
        assert_eq!(t.convert(ten_usd, c("DKK"), date(2026, 3, 1)).unwrap().amount.to_string(), "67.1400");
        let total = t.sum_in(c("EUR"), [(ten_usd, date(2026, 3, 1)), (eur("1"), date(2026, 3, 1))]).unwrap();
        assert_eq!(total, eur("10.00"));
    }

    proptest! {
        #[test]
        fn sums_in_one_currency_are_exact(cents in proptest::collection::vec(0i64..10_000_000, 0..50)) {
            let total = cents.iter().fold(Money::zero(Currency::EUR), |acc, c| {
                acc.checked_add(Money::new(Decimal::new(*c, 2), Currency::EUR)).unwrap()
            });
            prop_assert_eq!(total.amount, Decimal::new(cents.iter().sum(), 2));
        }

        #[test]
        fn rounding_is_idempotent(units in -1_000_000_000i64..1_000_000_000, scale in 0u32..6) {
            let m = Money::new(Decimal::new(units, scale), Currency::EUR).rounded();
            prop_assert_eq!(m.rounded(), m);
            prop_assert!(m.amount.scale() <= 2);
        }
    }
}
