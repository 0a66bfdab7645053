//! Time-series forecast endpoints (F2): run-rate revenue from the store, or any series sent in.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::ApiResult;
use crate::auth::ApiAuth;
use crate::error::ErrorBody;
use crate::extract::ApiQuery;
use app::{AppError, Grain, SeriesForecast, SeriesInput, check_horizon, forecast_input, parse_series_csv, parse_slice};
use rust_decimal::Decimal;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    /// total (default), product_line or region.
    pub by: Option<String>,
    /// The product line or region code (required unless `by=total`).
    pub key: Option<String>,
    /// month (default) or week.
    pub grain: Option<String>,
    /// Periods ahead, 1 to 120 (default 12).
    pub horizon: Option<usize>,
}

/// Forecast of won run-rate revenue in the reporting currency, from the opportunities the
/// caller may see (a rep forecasts their own book): history, point forecasts, 80% and 95%
/// intervals, the method chosen and diagnostics.
#[utoipa::path(get, path = "/api/v1/forecasts/series", tag = "forecasts", params(SeriesQuery),
    responses((status = 200, body = SeriesForecast), (status = 422, body = ErrorBody)))]
pub async fn series(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<SeriesQuery>,
) -> ApiResult<axum::Json<SeriesForecast>> {
    let by = parse_slice(q.by.as_deref().unwrap_or("total"))?;
    let grain = Grain::parse(q.grain.as_deref().unwrap_or("month"))?;
    let f = s.app.series_forecast(&p, by, q.key.as_deref(), grain, q.horizon.unwrap_or(12)).await?;
    Ok(axum::Json(f))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SeriesInputQuery {
    /// Periods ahead (for a CSV body).
    pub horizon: Option<usize>,
    /// Season length (for a CSV body): 12 monthly, 52 weekly, 1 none (default).
    pub season: Option<usize>,
}

/// A series to forecast, as JSON.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesInputDto {
    /// The values, oldest first.
    pub values: Vec<f64>,
    /// Optional labels, as many as values (`2026-03` months continue as months).
    pub periods: Option<Vec<String>>,
    pub horizon: usize,
    /// Season length: 12 monthly, 52 weekly, 1 none (default).
    pub season: Option<usize>,
}

/// Forecasts a series sent in: JSON (`SeriesInputDto`) or CSV (`Content-Type: text/csv`, a
/// `value` or `period,value` column, header optional; `horizon` and `season` in the query).
#[utoipa::path(post, path = "/api/v1/forecasts/series", tag = "forecasts", params(SeriesInputQuery),
    request_body(content = SeriesInputDto, description = "JSON, or CSV text with Content-Type text/csv"),
    responses((status = 200, body = SeriesForecast), (status = 422, body = ErrorBody)))]
pub async fn series_input(
    State(_s): State<AppState>,
    ApiAuth(_p): ApiAuth,
    ApiQuery(q): ApiQuery<SeriesInputQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<SeriesForecast>> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let text = std::str::from_utf8(&body).map_err(|_| AppError::invalid("body", "is not UTF-8 text"))?;
    let (input, horizon, season) = if content_type.starts_with("application/json") {
        let dto: SeriesInputDto =
            serde_json::from_str(text).map_err(|e| AppError::invalid(json_field(&e.to_string()), e.to_string()))?;
        let mut values = Vec::with_capacity(dto.values.len());
        for (i, v) in dto.values.iter().enumerate() {
            values.push(
                Decimal::try_from(*v)
                    .map_err(|_| AppError::invalid(format!("values[{i}]"), "is not a finite number"))?,
            );
        }
        if values.is_empty() {
            return Err(AppError::invalid("values", "no values").into());
        }
        if let Some(p) = &dto.periods
            && p.len() != values.len()
        {
            return Err(AppError::invalid("periods", "must have as many labels as values").into());
        }
        (SeriesInput { periods: dto.periods, values }, dto.horizon, dto.season.unwrap_or(1))
    } else {
        let input = parse_series_csv(text).map_err(|e| AppError::invalid("body", e.to_string()))?;
        let horizon = q.horizon.ok_or_else(|| AppError::invalid("horizon", "required"))?;
        (input, horizon, q.season.unwrap_or(1))
    };
    let horizon = check_horizon(horizon)?;
    if season > 366 {
        return Err(AppError::invalid("season", "must be at most 366").into());
    }
    Ok(axum::Json(forecast_input(input, season, horizon)))
}

/// The field named in a serde_json message ("missing field `horizon`", "unknown field `x`").
fn json_field(msg: &str) -> String {
    msg.split('`').nth(1).map(str::to_string).unwrap_or_else(|| "body".into())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PipelineQuery {
    /// The day the pipeline is reconstructed on, YYYY-MM-DD (default: today).
    pub as_of: Option<String>,
    /// The period forecast: 2026-03, 2026-Q1 (fiscal) or FY2026 (default: the fiscal quarter of
    /// the as-of date).
    pub period: Option<String>,
    /// Seed of the simulation (default 0): the same seed gives the same result.
    pub seed: Option<String>,
    /// learned (default) or stage_weighted: the win probability the simulation uses.
    pub method: Option<String>,
}

/// The pipeline request in app terms; shared with the page.
pub struct PipelineArgs {
    pub as_of: jiff::civil::Date,
    pub period: model::Period,
    pub seed: u64,
    pub method: Option<app::pipeline_engine::Method>,
}

/// Checks the pipeline query; empty values take their defaults.
pub async fn pipeline_args(
    s: &AppState,
    p: &app::Principal,
    as_of: Option<&str>,
    period: Option<&str>,
    seed: Option<&str>,
    method: Option<&str>,
) -> Result<PipelineArgs, AppError> {
    let some = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let as_of = match some(as_of) {
        Some(d) => app::parse_day("as_of", &d)?,
        None => s.app.today_for(p),
    };
    let period = match some(period) {
        Some(x) => app::parse_forecast_period(&x)?,
        None => s.app.fiscal_calendar().await?.period_of(as_of, model::PeriodKind::Quarter),
    };
    let seed = some(seed).map(|x| app::parse_seed(&x)).transpose()?.unwrap_or(0);
    let method = some(method).map(|x| app::parse_method(&x)).transpose()?;
    Ok(PipelineArgs { as_of, period, seed, method })
}

/// Pipeline forecast (F1) of a period from the open pipeline as it was on `as_of`, as the caller
/// may see it (a rep: their own pipeline; a manager: the team's; ops: the company's):
/// stage-weighted and learned totals, Monte Carlo P10/P50/P90 with close-date slippage, the
/// biggest opportunities, the learned model's calibration against the stage weights.
#[utoipa::path(get, path = "/api/v1/forecasts/pipeline", tag = "forecasts", params(PipelineQuery),
    responses((status = 200, body = app::PipelineForecastView), (status = 422, body = ErrorBody)))]
pub async fn pipeline(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<PipelineQuery>,
) -> ApiResult<axum::Json<app::PipelineForecastView>> {
    let a =
        pipeline_args(&s, &p, q.as_of.as_deref(), q.period.as_deref(), q.seed.as_deref(), q.method.as_deref()).await?;
    Ok(axum::Json(s.app.pipeline_forecast(&p, a.as_of, a.period, a.seed, a.method).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BacktestQuery {
    /// First as-of period start, YYYY-MM-DD (default: two years before `to`).
    pub from: Option<String>,
    /// Last as-of period start, YYYY-MM-DD (default: today).
    pub to: Option<String>,
    /// month (default) or quarter.
    pub grain: Option<String>,
    /// Segments the method is chosen for: total (default), owner, product_line or source.
    pub by: Option<String>,
    /// Seed of the simulations (default 0).
    pub seed: Option<String>,
}

/// The back-test request in app terms; shared with the page.
pub struct BacktestArgs {
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub grain: app::BacktestGrain,
    pub by: app::pipeline_engine::Segmentation,
    pub seed: u64,
}

/// Checks the back-test query; empty values take their defaults.
pub fn backtest_args(
    s: &AppState,
    p: &app::Principal,
    from: Option<&str>,
    to: Option<&str>,
    grain: Option<&str>,
    by: Option<&str>,
    seed: Option<&str>,
) -> Result<BacktestArgs, AppError> {
    use jiff::ToSpan;
    let some = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let to = match some(to) {
        Some(d) => app::parse_day("to", &d)?,
        None => s.app.today_for(p),
    };
    let from = match some(from) {
        Some(d) => app::parse_day("from", &d)?,
        None => to.checked_sub(2.years()).unwrap_or(to),
    };
    let grain = app::BacktestGrain::parse(some(grain).as_deref().unwrap_or("month"))?;
    let by = app::parse_segmentation(some(by).as_deref().unwrap_or("total"))?;
    let seed = some(seed).map(|x| app::parse_seed(&x)).transpose()?.unwrap_or(0);
    Ok(BacktestArgs { from, to, grain, by, seed })
}

/// Back-test of the pipeline forecast on the caller's own history: an as-of reconstruction at
/// the start of every month (or quarter) from `from` to `to`, forecasting that period; per
/// segment the method (stage-weighted or learned) and spread chosen on the earlier half, scored
/// on the later half: P50 error (MAE, MAPE, bias) and the share inside P10–P90.
#[utoipa::path(get, path = "/api/v1/forecasts/pipeline/backtest", tag = "forecasts", params(BacktestQuery),
    responses((status = 200, body = app::BacktestView), (status = 422, body = ErrorBody)))]
pub async fn pipeline_backtest(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<BacktestQuery>,
) -> ApiResult<axum::Json<app::BacktestView>> {
    let a = backtest_args(
        &s,
        &p,
        q.from.as_deref(),
        q.to.as_deref(),
        q.grain.as_deref(),
        q.by.as_deref(),
        q.seed.as_deref(),
    )?;
    Ok(axum::Json(s.app.pipeline_backtest(&p, a.from, a.to, a.grain, a.by, a.seed).await?))
}
