//! Integration tests of the forecast crate: known answers, invariants, degenerate input and an
//! M3 subset smoke test, and the pipeline forecast.

mod degenerate;
mod invariants;
mod known_answers;
mod m3_subset;
mod pipeline;

use forecast::series::{MethodChoice, Options};

/// Options with few simulated paths, so debug-build tests stay fast.
fn quick(method: MethodChoice) -> Options {
    Options { simulations: 200, method, ..Options::default() }
}

/// Formats numbers with two decimals, separated by spaces, for readable expectations.
fn show(values: &[f64]) -> String {
    values.iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>().join(" ")
}
