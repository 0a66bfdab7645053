//! Forecasting engines for salesops.
//!
//! Pure: data, horizon and seed come in, forecasts come out; no I/O, no clock, no global RNG.
//!
//! - [`series`]: automatic time-series forecasting for run-rate revenue and demand.
//!   [`series::auto_forecast`] fits the ETS state-space family (AICc-weighted), the classic
//!   Theta method and an automatic ARIMA on the history only and returns their mean with
//!   prediction intervals in a [`series::Forecast`], together with [`series::Diagnostic`]s for
//!   messy input.
//! - [`pipeline`]: pipeline forecast from open opportunities: stage-weighted, a win probability
//!   learned from closed history (regularised logistic regression with a calibration report),
//!   Monte Carlo P10/P50/P90 with close-date slippage ([`pipeline::forecast`]) and month-by-month
//!   back-tests that choose the method per segment ([`pipeline::backtest`]).
//! - [`m3`]: the M3 competition benchmark: parse the series file from any reader, forecast every
//!   series on two threads and score sMAPE and MASE per period ([`m3::run_m3`], [`m3::M3Report`]).

pub mod m3;
pub mod pipeline;
pub mod series;
