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
