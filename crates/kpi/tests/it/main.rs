//! Integration tests of the kpi crate: readable fixtures with expected tables, and properties.

mod alerts;
mod build;
mod fixture;
mod funnel;
mod kpis;
mod properties;
mod trend;
