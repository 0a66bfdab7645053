//! KPI values: counts, money, ratios that keep their numerator and denominator, and `NoData`.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

/// A ratio with its parts kept, so slices can be re-aggregated exactly (sum the numerators, sum
/// the denominators). The denominator of a [`Value::Ratio`] is never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ratio {
    pub numerator: Decimal,
    pub denominator: Decimal,
}

/// One KPI in one cell (slice × period).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Value {
    Count {
        count: u64,
    },
    /// In the reporting currency.
    Money {
        amount: Decimal,
    },
    Ratio {
        ratio: Ratio,
    },
    /// No honest number: the source data is missing, or the denominator is zero. `ratio` keeps the
    /// parts of a zero-denominator ratio (its numerator may be non-zero, e.g. growth from nothing)
    /// so that totals stay exact.
    NoData {
        reason: &'static str,
        ratio: Option<Ratio>,
    },
}

impl Ratio {
    pub fn new(numerator: Decimal, denominator: Decimal) -> Ratio {
        Ratio { numerator, denominator }
    }

    /// The ratio as a float, `None` when the denominator is zero.
    pub fn to_f64(&self) -> Option<f64> {
        if self.denominator.is_zero() {
            return None;
        }
        Some(self.numerator.to_f64()? / self.denominator.to_f64()?)
    }
}

impl Value {
    /// A ratio, or `NoData` with `reason` when the denominator is zero.
    pub fn ratio(numerator: Decimal, denominator: Decimal, reason: &'static str) -> Value {
        let ratio = Ratio::new(numerator, denominator);
        if denominator.is_zero() { Value::NoData { reason, ratio: Some(ratio) } } else { Value::Ratio { ratio } }
    }

    pub fn no_data(reason: &'static str) -> Value {
        Value::NoData { reason, ratio: None }
    }

    pub fn is_no_data(&self) -> bool {
        matches!(self, Value::NoData { .. })
    }

    /// The number as a float for charts and statistics; `None` for `NoData`.
    pub fn to_f64(&self) -> Option<f64> {
        match self {
            Value::Count { count } => Some(*count as f64),
            Value::Money { amount } => amount.to_f64(),
            Value::Ratio { ratio } => ratio.to_f64(),
            Value::NoData { .. } => None,
        }
    }

    /// The number as an exact decimal (ratios divided to 28 significant digits); `None` for `NoData`.
    pub fn to_decimal(&self) -> Option<Decimal> {
        match self {
            Value::Count { count } => Some(Decimal::from(*count)),
            Value::Money { amount } => Some(*amount),
            Value::Ratio { ratio } => ratio.numerator.checked_div(ratio.denominator),
            Value::NoData { .. } => None,
        }
    }

    /// Re-aggregates two cells of the same KPI (counts and money add, ratios add their parts).
    /// Mixing kinds gives `NoData`.
    pub fn combine(&self, other: &Value) -> Value {
        match (self, other) {
            (Value::Count { count: a }, Value::Count { count: b }) => Value::Count { count: a + b },
            (Value::Money { amount: a }, Value::Money { amount: b }) => Value::Money { amount: a + b },
            (a, b) => match (a.parts(), b.parts()) {
                (Some(x), Some(y)) => {
                    Value::ratio(x.numerator + y.numerator, x.denominator + y.denominator, a.reason_or(b))
                }
                (Some(_), None) if b.is_no_data() => a.clone(),
                (None, Some(_)) if a.is_no_data() => b.clone(),
                (None, None) if a.is_no_data() && b.is_no_data() => a.clone(),
                _ => Value::no_data("cannot combine values of different kinds"),
            },
        }
    }

    fn parts(&self) -> Option<Ratio> {
        match self {
            Value::Ratio { ratio } => Some(*ratio),
            Value::NoData { ratio, .. } => *ratio,
            _ => None,
        }
    }

    fn reason_or(&self, other: &Value) -> &'static str {
        match (self, other) {
            (Value::NoData { reason, .. }, _) | (_, Value::NoData { reason, .. }) => reason,
            _ => "the denominator is zero",
        }
    }
}
