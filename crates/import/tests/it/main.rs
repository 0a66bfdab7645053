//! Integration tests of the import crate, one module per concern. Fixtures are inline CSV as a
//! sales-ops person would see it in a text editor.

mod bad_files;
mod export;
mod mapping_file;
mod presets;
mod round_trip;

use import::{Entity, Limits, Mapping, Parsed, Rows, parse, preset};
use jiff::Timestamp;
use jiff::civil::Date;
use model::{Currency, Money};

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn date(s: &str) -> Date {
    s.parse().unwrap()
}

pub fn money(amount: &str, currency: &str) -> Money {
    Money::new(amount.parse().unwrap(), Currency::parse(currency).unwrap())
}

pub fn s(v: &str) -> String {
    v.to_string()
}

pub fn some(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// Parses with a preset and the default limits.
pub fn parse_with(csv: &[u8], entity: Entity, preset_name: &str) -> Parsed {
    parse(csv, entity, &preset(preset_name, entity).unwrap(), &Limits::default())
}

/// Parses and insists there are no problems.
pub fn parse_clean(csv: &[u8], entity: Entity, mapping: &Mapping) -> Rows {
    let parsed = parse(csv, entity, mapping, &Limits::default());
    assert!(parsed.is_ok(), "unexpected problems:\n{}", parsed.report());
    parsed.rows
}
