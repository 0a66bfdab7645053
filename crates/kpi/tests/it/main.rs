//! Integration tests of the kpi crate: readable fixtures with expected tables, and properties.

mod build;
mod fixture;
mod funnel;
mod kpis;
mod properties;
mod trend;
