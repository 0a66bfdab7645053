//! Integration tests for the web crate: HTTP through `Router::oneshot` against a real store.
//! Every test in `both!` runs on SQLite, and on PostgreSQL when `SALESOPS_TEST_PG_URL` is set
//! (each test in its own schema). Browser tests drive headless Chromium via chromedriver.

mod admin;
mod alerts;
mod api_errors;
mod auth;
mod backup;
mod browser;
mod commerce;
mod comp;
mod comp_ops;
mod crm;
mod forecast;
mod forecast_calls;
mod forecast_pipeline;
mod helpers;
mod import;
mod kpi;
mod kpi_rollups;
mod lists;
mod ops;
mod planning;
mod territories;
mod visibility;

pub use helpers::*;
