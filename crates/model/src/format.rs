//! Locale-aware formatting of numbers, money, dates and timestamps for the four UI languages.
//! Written by hand because the rules needed are few and fixed (CLDR conventions for en-GB,
//! nl-NL, da-DK and pl-PL); a full ICU stack would cost minutes of compile time on 2 cores.

use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Money, TimeZoneName, ValueError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Nl,
    Da,
    Pl,
}

impl Locale {
    pub const ALL: [Locale; 4] = [Locale::En, Locale::Nl, Locale::Da, Locale::Pl];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Nl => "nl",
            Locale::Da => "da",
            Locale::Pl => "pl",
        }
    }

    pub fn parse(s: &str) -> Result<Locale, ValueError> {
        let s = s.trim().to_ascii_lowercase();
        let lang = s.split(['-', '_']).next().unwrap_or("");
        Locale::ALL
            .into_iter()
            .find(|l| l.as_str() == lang)
            .ok_or_else(|| ValueError::new("locale", format!("'{s}' is not one of en, nl, da, pl")))
    }

    /// The language's own name, shown in the language picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Nl => "Nederlands",
            Locale::Da => "Dansk",
            Locale::Pl => "Polski",
        }
    }

    fn separators(self) -> (&'static str, &'static str) {
        match self {
            Locale::En => (",", "."),
            Locale::Nl | Locale::Da => (".", ","),
            // Polish groups with a no-break space.
            Locale::Pl => ("\u{a0}", ","),
        }
    }
}

/// Formats a decimal with `dp` decimals and the locale's grouping and decimal separators.
pub fn format_decimal(locale: Locale, value: Decimal, dp: u32) -> String {
    let v = value.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let negative = v.is_sign_negative() && !v.is_zero();
    let abs = v.abs();
    let s = format!("{abs:.prec$}", prec = dp as usize);
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s, None),
    };
    let (group, decimal) = locale.separators();
    // Polish does not group four-digit numbers (CLDR minimumGroupingDigits = 2).
    let min_len = if locale == Locale::Pl { 5 } else { 4 };
    let mut grouped = String::new();
    if int_part.len() >= min_len {
        for (i, ch) in int_part.chars().enumerate() {
            if i > 0 && (int_part.len() - i) % 3 == 0 {
                grouped.push_str(group);
            }
            grouped.push(ch);
        }
    } else {
        grouped = int_part;
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&grouped);
    if let Some(f) = frac_part {
        out.push_str(decimal);
        out.push_str(&f);
    }
    out
}

fn symbol(code: &str) -> Option<&'static str> {
    match code {
        "EUR" => Some("€"),
        "USD" => Some("US$"),
        "GBP" => Some("£"),
        _ => None,
    }
}

/// Formats money with the currency's minor units and the locale's placement of the symbol.
pub fn format_money(locale: Locale, money: Money) -> String {
    money_with_dp(locale, money, money.currency.minor_units())
}

/// Money rounded to whole units, for headline figures ("€17,127,051").
pub fn format_money_whole(locale: Locale, money: Money) -> String {
    money_with_dp(locale, money, 0)
}

fn money_with_dp(locale: Locale, money: Money, dp: u32) -> String {
    let number = format_decimal(locale, money.amount, dp);
    let code = money.currency.code();
    let local_symbol = match (locale, code) {
        (Locale::Da, "DKK") => Some("kr."),
        (Locale::Pl, "PLN") => Some("zł"),
        (Locale::En, "USD") => Some("$"),
        _ => symbol(code),
    };
    let unit = local_symbol.unwrap_or(code);
    match locale {
        Locale::En => {
            if local_symbol.is_some() {
                match number.strip_prefix('-') {
                    Some(n) => format!("-{unit}{n}"),
                    None => format!("{unit}{number}"),
                }
            } else {
                format!("{code}\u{a0}{number}")
            }
        }
        Locale::Nl => format!("{unit}\u{a0}{number}"),
        Locale::Da | Locale::Pl => format!("{number}\u{a0}{unit}"),
    }
}

/// Short numeric date in the locale's order and separators.
pub fn format_date(locale: Locale, d: Date) -> String {
    let (y, m, day) = (d.year(), d.month(), d.day());
    match locale {
        Locale::En => format!("{day:02}/{m:02}/{y}"),
        Locale::Nl => format!("{day:02}-{m:02}-{y}"),
        Locale::Da | Locale::Pl => format!("{day:02}.{m:02}.{y}"),
    }
}

/// A UTC instant shown as date and time in the viewer's time zone.
pub fn format_timestamp(locale: Locale, ts: Timestamp, zone: &TimeZoneName) -> String {
    let zoned = ts.to_zoned(zone.tz());
    let date = format_date(locale, zoned.date());
    format!("{date} {:02}:{:02}", zoned.hour(), zoned.minute())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn numbers_per_locale() {
        let n = d("1234567.891");
        assert_eq!(format_decimal(Locale::En, n, 2), "1,234,567.89");
        assert_eq!(format_decimal(Locale::Nl, n, 2), "1.234.567,89");
        assert_eq!(format_decimal(Locale::Da, n, 2), "1.234.567,89");
        assert_eq!(format_decimal(Locale::Pl, n, 2), "1\u{a0}234\u{a0}567,89");
        assert_eq!(format_decimal(Locale::Pl, d("1234"), 0), "1234");
        assert_eq!(format_decimal(Locale::En, d("-0.005"), 2), "-0.01");
        assert_eq!(format_decimal(Locale::En, d("999"), 0), "999");
    }

    #[test]
    fn money_per_locale() {
        let eur = Money::new(d("1234.5"), Currency::EUR);
        assert_eq!(format_money(Locale::En, eur), "€1,234.50");
        assert_eq!(format_money(Locale::Nl, eur), "€\u{a0}1.234,50");
        assert_eq!(format_money(Locale::Da, eur), "1.234,50\u{a0}€");
        let dkk = Money::new(d("99.9"), Currency::parse("DKK").unwrap());
        assert_eq!(format_money(Locale::Da, dkk), "99,90\u{a0}kr.");
        assert_eq!(format_money(Locale::En, dkk), "DKK\u{a0}99.90");
        let pln = Money::new(d("12345"), Currency::parse("PLN").unwrap());
        assert_eq!(format_money(Locale::Pl, pln), "12\u{a0}345,00\u{a0}zł");
        let jpy = Money::new(d("1000.4"), Currency::parse("JPY").unwrap());
        assert_eq!(format_money(Locale::En, jpy), "JPY\u{a0}1,000");
        assert_eq!(format_money_whole(Locale::Nl, Money::new(d("17127050.57"), Currency::EUR)), "€\u{a0}17.127.051");
    }

    #[test]
    fn timestamps_in_the_viewers_zone_across_dst() {
        let ts: Timestamp = "2026-03-29T00:30:00Z".parse().unwrap();
        let ams = TimeZoneName::parse("Europe/Amsterdam").unwrap();
        assert_eq!(format_timestamp(Locale::Nl, ts, &ams), "29-03-2026 01:30");
        let later: Timestamp = "2026-03-29T01:30:00Z".parse().unwrap();
        assert_eq!(format_timestamp(Locale::Nl, later, &ams), "29-03-2026 03:30");
        let warsaw = TimeZoneName::parse("Europe/Warsaw").unwrap();
        assert_eq!(format_timestamp(Locale::Pl, later, &warsaw), "29.03.2026 03:30");
    }
}
