//! KPI endpoints: the KPI table (JSON or CSV), the records behind a cell, the stage flow (funnel
//! and process map) and the fiscal calendar setting.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{ApiResult, csv_response};
use crate::auth::ApiAuth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use app::kpi_engine::{Dimension, Kpi};
use app::{AppError, KpiRequest};

/// Parameter errors are `400 bad_query` with the parameter at fault.
fn bad_query(e: AppError) -> ApiError {
    match e {
        AppError::Invalid { field, message } => {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message).with_field(field)
        }
        other => other.into(),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct KpiParams {
    /// KPI names, comma-separated: `win_rate,revenue` (see `docs/kpis.md`).
    pub metric: Option<String>,
    /// Slicing dimensions, comma-separated: rep (owner), team, region, territory, product_line
    /// (product), source (lead_source), segment. Absent: company totals.
    pub by: Option<String>,
    /// `2017-Q3` (fiscal quarter), `FY2017`, `2017-03`, `2017-W09` or a day `2017-03-05`.
    pub period: Option<String>,
    /// `previous` (the period before) or `last_year` (the same period last year).
    pub compare: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

fn request_of(metric: &str, by: Option<&str>, period: &str, compare: Option<&str>) -> KpiRequest {
    KpiRequest {
        metrics: vec![metric.to_string()],
        by: by.map(|b| vec![b.to_string()]).unwrap_or_default(),
        period: period.to_string(),
        compare: compare.map(str::to_string),
    }
}

/// KPIs for one period, sliced and compared: one row per slice plus the total. Values are
/// `{type: count|money|ratio|no_data, …}`; a ratio keeps numerator and denominator; `no_data`
/// carries the reason (never a made-up zero). Each row's `cell` addresses its drill-down.
#[utoipa::path(get, path = "/api/v1/kpis", tag = "kpis", params(KpiParams),
    responses((status = 200, description = "The KPI report (JSON) or CSV"), (status = 400, body = ErrorBody)))]
pub async fn kpis(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<KpiParams>,
) -> ApiResult<Response> {
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_query", format!("'{other}' is not json or csv"))
                .with_field("format"));
        }
    };
    let query = request_of(
        q.metric.as_deref().unwrap_or_default(),
        q.by.as_deref(),
        q.period.as_deref().unwrap_or_default(),
        q.compare.as_deref(),
    )
    .parse()
    .map_err(bad_query)?;
    let report = s.app.kpi_table(&p, &query).await.map_err(bad_query)?;
    if csv {
        let (header, lines) = report.csv_rows();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        return csv_response("kpis", &header, lines);
    }
    Ok(axum::Json(report).into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DrillParams {
    /// One KPI name.
    pub metric: String,
    /// The `cell` of a row of `/api/v1/kpis`: `2017-Q3;rep=12` (period, then dimension=value).
    pub cell: String,
}

/// The records behind one cell (only those the caller may see), with links to their pages:
/// `numerator` for counts and amounts or the numerator side of a ratio, `denominator` the other.
#[utoipa::path(get, path = "/api/v1/kpis/drill", tag = "kpis", params(DrillParams),
    responses((status = 200, description = "The records behind the cell"), (status = 400, body = ErrorBody)))]
pub async fn drill(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<DrillParams>,
) -> ApiResult<Response> {
    let kpi = Kpi::parse(q.metric.trim()).ok_or_else(|| {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_query", format!("'{}' is not a KPI", q.metric)).with_field("metric")
    })?;
    let by: Vec<Dimension> = Vec::new();
    let d = s.app.kpi_drill(&p, kpi, &by, &q.cell).await.map_err(bad_query)?;
    Ok(axum::Json(d).into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FlowParams {
    /// Pipeline id; absent: the first pipeline.
    pub pipeline: Option<i64>,
    /// Cohort: opportunities created on or after this day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Cohort: created on or before this day.
    pub to: Option<String>,
}

pub fn parse_day(field: &str, v: Option<&str>) -> Result<Option<jiff::civil::Date>, AppError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| AppError::invalid(field, "must be a date YYYY-MM-DD")),
    }
}

/// The funnel (stage-to-stage conversion, drop-off, time in stage, loss reasons) and the process
/// map (transitions with loops, skips and bottlenecks) of one pipeline, from the stage history.
#[utoipa::path(get, path = "/api/v1/kpis/flow", tag = "kpis", params(FlowParams),
    responses((status = 200, description = "Funnel and process map"), (status = 400, body = ErrorBody)))]
pub async fn flow(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiQuery(q): ApiQuery<FlowParams>,
) -> ApiResult<Response> {
    let from = parse_day("from", q.from.as_deref()).map_err(bad_query)?;
    let to = parse_day("to", q.to.as_deref()).map_err(bad_query)?;
    let f = s.app.kpi_flow(&p, q.pipeline, from, to).await.map_err(bad_query)?;
    Ok(axum::Json(f).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FiscalCalendarBody {
    /// 1 (January) to 12.
    pub fiscal_year_start_month: i64,
    /// `calendar` (three calendar months) or `445` (13 whole weeks per quarter).
    pub quarter_scheme: String,
}

/// Sets the company's fiscal calendar (administrators). Fiscal years are named after the calendar
/// year they end in.
#[utoipa::path(put, path = "/api/v1/settings/fiscal-calendar", tag = "kpis", request_body = FiscalCalendarBody,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn fiscal_calendar_set(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    ApiJson(b): ApiJson<FiscalCalendarBody>,
) -> ApiResult<StatusCode> {
    s.app.set_fiscal_calendar(&p, &b.fiscal_year_start_month.to_string(), &b.quarter_scheme).await?;
    Ok(StatusCode::NO_CONTENT)
}
