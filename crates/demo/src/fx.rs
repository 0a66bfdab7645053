//! Monthly exchange rates to EUR for the non-euro demo currencies, following a small,
//! mean-reverting random walk around a realistic level.

use jiff::ToSpan;
use model::{Currency, FxRate};
use rust_decimal::Decimal;

use crate::calendar::Calendar;
use crate::random::{DemoRng, normal};

/// (currency, EUR per unit, monthly volatility). DKK is pegged, so it barely moves.
const CURRENCIES: [(&str, f64, f64); 4] =
    [("DKK", 0.134_05, 0.000_8), ("PLN", 0.232_6, 0.010), ("GBP", 1.176_5, 0.009), ("USD", 0.925_9, 0.015)];

/// One rate per currency and month, valid from the first of the month, from the month in which
/// the demo history starts up to the current month; ordered by currency, then date.
pub(crate) fn build(cal: &Calendar, rng: &mut DemoRng) -> Vec<FxRate> {
    let first = cal.date(0).first_of_month();
    let last = cal.date(cal.today()).first_of_month();
    let mut months = Vec::new();
    let mut m = first;
    while m <= last {
        months.push(m);
        match m.checked_add(1.month()) {
            Ok(next) => m = next,
            Err(_) => break,
        }
    }
    let mut rates = Vec::with_capacity(months.len() * CURRENCIES.len());
    for (code, level, volatility) in CURRENCIES {
        let from = Currency::parse(code).expect("demo currencies are known");
        let mut deviation = 0.0;
        for &valid_from in &months {
            deviation = 0.9 * deviation + volatility * normal(rng);
            let rate = level * f64::exp(deviation);
            rates.push(FxRate {
                from,
                to: Currency::EUR,
                valid_from,
                rate: Decimal::new((rate * 1e6).round() as i64, 6),
            });
        }
    }
    rates
}
