//! Time-series forecasts of run-rate revenue (F2): won revenue from the store, bucketed by month
//! or week in the reporting currency, forecast by [`forecast::series::auto_forecast`]; and the
//! same forecaster on a series given as CSV or JSON (CLI `salesops forecast series`, API POST).

use std::collections::BTreeMap;

use forecast::series::{Options, auto_forecast};
use jiff::ToSpan;
use jiff::civil::Date;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::Serialize;
use store::RevenueSlice;

use crate::{App, AppError, Principal};

/// Largest horizon accepted, in periods.
pub const MAX_HORIZON: usize = 120;
/// Seed of the interval simulation: the same history always gives the same forecast.
const SEED: u64 = 42;

/// The period length of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    Month,
    Week,
}

impl Grain {
    pub fn parse(s: &str) -> Result<Grain, AppError> {
        match s {
            "month" => Ok(Grain::Month),
            "week" => Ok(Grain::Week),
            _ => Err(AppError::invalid("grain", "must be month or week")),
        }
    }

    /// The season length the forecaster looks for: a year.
    pub fn season(self) -> usize {
        match self {
            Grain::Month => 12,
            Grain::Week => 52,
        }
    }

    /// The first day of the period holding `d` (the month's first day, or the ISO week's Monday).
    pub fn start(self, d: Date) -> Date {
        match self {
            Grain::Month => d.first_of_month(),
            Grain::Week => d.checked_sub((d.weekday().to_monday_zero_offset() as i64).days()).unwrap_or(d),
        }
    }

    /// The first day of the next period.
    pub fn next(self, start: Date) -> Date {
        match self {
            Grain::Month => start.checked_add(1.month()).unwrap_or(start),
            Grain::Week => start.checked_add(7.days()).unwrap_or(start),
        }
    }

    /// The period's label: `2026-03` for a month, the Monday `2026-03-02` for a week.
    pub fn label(self, start: Date) -> String {
        match self {
            Grain::Month => format!("{:04}-{:02}", start.year(), start.month()),
            Grain::Week => start.to_string(),
        }
    }
}

/// How store revenue is sliced: `total`, `product_line` or `region`.
pub fn parse_slice(s: &str) -> Result<RevenueSlice, AppError> {
    match s {
        "total" => Ok(RevenueSlice::Total),
        "product_line" => Ok(RevenueSlice::ProductLine),
        "region" => Ok(RevenueSlice::Region),
        _ => Err(AppError::invalid("by", "must be total, product_line or region")),
    }
}

/// Checks a requested horizon (1 to [`MAX_HORIZON`] periods).
pub fn check_horizon(horizon: usize) -> Result<usize, AppError> {
    if (1..=MAX_HORIZON).contains(&horizon) {
        Ok(horizon)
    } else {
        Err(AppError::invalid("horizon", format!("must be between 1 and {MAX_HORIZON}")))
    }
}

/// One observed period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HistoryPoint {
    pub period: String,
    /// Exact decimal text (store revenue is summed exactly in the reporting currency).
    #[schema(value_type = String)]
    pub value: Decimal,
}

/// One forecast period with its 80% and 95% prediction intervals (rounded decimals).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ForecastPoint {
    pub period: String,
    #[schema(value_type = String)]
    pub point: Decimal,
    #[schema(value_type = String)]
    pub lower_80: Decimal,
    #[schema(value_type = String)]
    pub upper_80: Decimal,
    #[schema(value_type = String)]
    pub lower_95: Decimal,
    #[schema(value_type = String)]
    pub upper_95: Decimal,
}

/// A series forecast: the history it used, the forecasts with intervals, the method the
/// forecaster chose and what it noticed about the data.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SeriesForecast {
    /// The method chosen, in words (e.g. "mean of AICc-weighted ETS (best ETS(A,N,N)), Theta, ...").
    pub method: String,
    /// The season length looked for (12 monthly, 52 weekly, or as given).
    pub season: usize,
    pub horizon: usize,
    /// ISO code of the reporting currency for store revenue; absent for a series given as input.
    pub currency: Option<String>,
    pub history: Vec<HistoryPoint>,
    pub forecast: Vec<ForecastPoint>,
    /// Problems with the data and what was done about them, in words.
    pub diagnostics: Vec<String>,
}

/// Forecasts `history` (oldest first). `next_periods` labels the forecast periods (as many as
/// `horizon`); values are rounded to `dp` decimals.
pub fn forecast_history(
    history: Vec<HistoryPoint>,
    next_periods: Vec<String>,
    season: usize,
    horizon: usize,
    dp: u32,
    currency: Option<String>,
    mut diagnostics: Vec<String>,
) -> SeriesForecast {
    let y: Vec<f64> = history.iter().map(|h| h.value.to_f64().unwrap_or(f64::NAN)).collect();
    let options = Options { levels: vec![80.0, 95.0], seed: SEED, simulations: 1000, ..Options::default() };
    let f = auto_forecast(&y, season, horizon, &options);
    let round = |v: f64| Decimal::from_f64(v).unwrap_or_default().round_dp(dp);
    let band = |level: f64, i: usize, point: f64| -> (Decimal, Decimal) {
        match f.intervals.iter().find(|b| (b.level - level).abs() < 1e-9) {
            Some(b) => (round(b.lower[i].min(point)), round(b.upper[i].max(point))),
            None => (round(point), round(point)),
        }
    };
    let forecast = next_periods
        .into_iter()
        .zip(f.point.iter())
        .enumerate()
        .map(|(i, (period, &point))| {
            let (lower_80, upper_80) = band(80.0, i, point);
            let (lower_95, upper_95) = band(95.0, i, point);
            ForecastPoint {
                period,
                point: round(point),
                lower_80: lower_80.min(round(point)),
                upper_80: upper_80.max(round(point)),
                lower_95: lower_95.min(lower_80),
                upper_95: upper_95.max(upper_80),
            }
        })
        .collect();
    diagnostics.extend(f.diagnostics.iter().map(ToString::to_string));
    SeriesForecast { method: f.method.to_string(), season, horizon, currency, history, forecast, diagnostics }
}

/// A series given as text could not be read: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SeriesInputError {
    /// 1-based line of the input (0: the input as a whole).
    pub line: usize,
    pub message: String,
}

/// A series read from CSV: optional period labels and the values, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesInput {
    pub periods: Option<Vec<String>>,
    pub values: Vec<Decimal>,
}

/// Reads a series from CSV text: either one `value` column or `period,value` columns, with or
/// without a header line (a header is a first line whose value is not a number; it may name the
/// columns `period` and `value` in any order). Blank lines are skipped. Periods are labels
/// (`2026-03`, `2026-03-02` or anything else); values are decimal numbers (`1234.5`, `-3`).
pub fn parse_series_csv(text: &str) -> Result<SeriesInput, SeriesInputError> {
    let mut period_col: Option<usize> = None;
    let mut value_col: Option<usize> = None;
    let mut periods = Vec::new();
    let mut values = Vec::new();
    let mut first = true;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim_start_matches('\u{feff}').trim();
        if raw.is_empty() {
            continue;
        }
        let cells: Vec<&str> = raw.split([',', ';', '\t']).map(|c| c.trim().trim_matches('"').trim()).collect();
        if first {
            first = false;
            let lower: Vec<String> = cells.iter().map(|c| c.to_ascii_lowercase()).collect();
            let looks_numeric = cells.last().is_some_and(|c| c.parse::<Decimal>().is_ok() || c.parse::<f64>().is_ok());
            if !looks_numeric {
                match cells.len() {
                    1 => value_col = Some(0),
                    2 => {
                        let v = lower.iter().position(|c| c == "value").unwrap_or(1);
                        value_col = Some(v);
                        period_col = Some(1 - v);
                    }
                    n => {
                        let v = lower.iter().position(|c| c == "value").ok_or_else(|| SeriesInputError {
                            line,
                            message: format!("{n} columns but none named value"),
                        })?;
                        value_col = Some(v);
                        period_col = lower.iter().position(|c| c == "period");
                    }
                }
                continue;
            }
            match cells.len() {
                1 => value_col = Some(0),
                2 => {
                    period_col = Some(0);
                    value_col = Some(1);
                }
                n => {
                    return Err(SeriesInputError {
                        line,
                        message: format!("{n} columns; expected value or period,value (or a header naming them)"),
                    });
                }
            }
        }
        let v = value_col.unwrap_or(0);
        let cell = cells.get(v).copied().ok_or_else(|| SeriesInputError { line, message: "no value".into() })?;
        let value = cell
            .parse::<Decimal>()
            .ok()
            .or_else(|| cell.parse::<f64>().ok().filter(|f| f.is_finite()).and_then(Decimal::from_f64))
            .ok_or_else(|| SeriesInputError { line, message: format!("value {cell:?} is not a number") })?;
        values.push(value);
        if let Some(p) = period_col {
            periods.push(cells.get(p).copied().unwrap_or("").to_string());
        }
    }
    if values.is_empty() {
        return Err(SeriesInputError { line: 0, message: "no values".into() });
    }
    Ok(SeriesInput { periods: period_col.map(|_| periods), values })
}

/// Labels for `horizon` periods after `periods`: months after `YYYY-MM`, dates after two
/// evenly spaced `YYYY-MM-DD` dates, else `+1`, `+2`, ...
pub fn next_period_labels(periods: Option<&[String]>, horizon: usize) -> Vec<String> {
    let fallback = || (1..=horizon).map(|k| format!("+{k}")).collect();
    let Some(ps) = periods else { return fallback() };
    let Some(last) = ps.last() else { return fallback() };
    if let Ok(d) = format!("{last}-01").parse::<Date>()
        && last.len() == 7
    {
        return (1..=horizon)
            .map(|k| d.checked_add((k as i64).months()).map(|m| Grain::Month.label(m)).unwrap_or_default())
            .collect();
    }
    if ps.len() >= 2
        && let (Ok(a), Ok(b)) = (ps[ps.len() - 2].parse::<Date>(), last.parse::<Date>())
        && let Ok(step) = a.until(b)
        && step.get_days() > 0
    {
        let step = step.get_days() as i64;
        return (1..=horizon)
            .map(|k| b.checked_add((step * k as i64).days()).map(|d| d.to_string()).unwrap_or_default())
            .collect();
    }
    fallback()
}

/// Forecasts a series given as input (CSV or JSON values): `horizon` periods with season
/// length `season` (0 or 1: none). Values are rounded to 4 decimals.
pub fn forecast_input(input: SeriesInput, season: usize, horizon: usize) -> SeriesForecast {
    let next = next_period_labels(input.periods.as_deref(), horizon);
    let labels: Vec<String> = match &input.periods {
        Some(p) => p.clone(),
        None => (1..=input.values.len()).map(|k| k.to_string()).collect(),
    };
    let history = labels.into_iter().zip(input.values).map(|(period, value)| HistoryPoint { period, value }).collect();
    forecast_history(history, next, season, horizon, 4, None, Vec::new())
}

/// Sums won amounts per period, exactly, from the first period with revenue to `last_start`
/// (the last complete period), empty periods as zero.
pub fn bucket(amounts: &[(Date, Decimal)], grain: Grain, last_start: Date) -> Vec<HistoryPoint> {
    let mut sums: BTreeMap<Date, Decimal> = BTreeMap::new();
    for (d, v) in amounts {
        *sums.entry(grain.start(*d)).or_default() += *v;
    }
    let Some(first) = sums.keys().next().copied() else { return Vec::new() };
    let mut out = Vec::new();
    let mut at = first;
    while at <= last_start {
        out.push(HistoryPoint { period: grain.label(at), value: sums.get(&at).copied().unwrap_or_default() });
        let next = grain.next(at);
        if next == at {
            break;
        }
        at = next;
    }
    out
}

impl App {
    /// Forecasts run-rate revenue of won opportunities visible to `p` (a rep forecasts their own
    /// book): by `by` (total, product line from opportunity lines, or account region), for the
    /// slice `key` (required unless total), per `grain`, `horizon` periods ahead. Each amount is
    /// converted into the reporting currency at its close date's rate and summed exactly; the
    /// history runs to the last complete period before today (in `p`'s time zone). Amounts
    /// without an exchange rate are left out and reported in the diagnostics.
    pub async fn series_forecast(
        &self,
        p: &Principal,
        by: RevenueSlice,
        key: Option<&str>,
        grain: Grain,
        horizon: usize,
    ) -> Result<SeriesForecast, AppError> {
        let horizon = check_horizon(horizon)?;
        let key = key.map(str::trim).filter(|k| !k.is_empty());
        if by != RevenueSlice::Total && key.is_none() {
            return Err(AppError::invalid("key", "choose a product line or region"));
        }
        let viewer = self.viewer(p).await?;
        let rows = self.store.won_amounts(&viewer, by, if by == RevenueSlice::Total { None } else { key }).await?;
        let fx = self.store.fx_table().await?;
        let reporting = self.store.reporting_currency().await?;
        let today = self.now().to_zoned(p.user.time_zone.tz()).date();
        let last_start = grain.start(today).checked_sub(1.day()).map(|d| grain.start(d)).unwrap_or(today);
        let mut diagnostics = Vec::new();
        let mut missing = 0usize;
        let mut later = 0usize;
        let mut amounts = Vec::with_capacity(rows.len());
        for r in rows {
            if grain.start(r.close_date) > last_start {
                later += 1;
                continue;
            }
            match fx.convert(r.amount, reporting, r.close_date) {
                Ok(m) => amounts.push((r.close_date, m.amount)),
                Err(_) => missing += 1,
            }
        }
        if missing > 0 {
            diagnostics.push(format!("{missing} won amounts have no exchange rate on their close date; left out"));
        }
        if later > 0 {
            diagnostics.push(format!("{later} won amounts in the current (incomplete) period are not in the history"));
        }
        let history = bucket(&amounts, grain, last_start);
        let first_next = history.last().map(|_| grain.next(last_start)).unwrap_or_else(|| grain.start(today));
        let mut next = Vec::with_capacity(horizon);
        let mut at = first_next;
        for _ in 0..horizon {
            next.push(grain.label(at));
            at = grain.next(at);
        }
        Ok(forecast_history(
            history,
            next,
            grain.season(),
            horizon,
            reporting.minor_units(),
            Some(reporting.code().to_string()),
            diagnostics,
        ))
    }

    /// The product lines or region codes with won revenue visible to `p`.
    pub async fn series_slice_keys(&self, p: &Principal, by: RevenueSlice) -> Result<Vec<String>, AppError> {
        if by == RevenueSlice::Total {
            return Ok(Vec::new());
        }
        Ok(self.store.won_slice_keys(&self.viewer(p).await?, by).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn csv_with_header_and_periods() {
        let s = parse_series_csv("period,value\n2026-01,10\n2026-02,12.5\n\n2026-03,11\n").unwrap();
        assert_eq!(s.periods.as_deref(), Some(&["2026-01".to_string(), "2026-02".into(), "2026-03".into()][..]));
        assert_eq!(s.values, vec![Decimal::from(10), Decimal::new(125, 1), Decimal::from(11)]);
        assert_eq!(next_period_labels(s.periods.as_deref(), 2), vec!["2026-04", "2026-05"]);
    }

    #[test]
    fn csv_single_column_without_header() {
        let s = parse_series_csv("3\n4\n5\n").unwrap();
        assert_eq!(s.periods, None);
        assert_eq!(s.values.len(), 3);
        assert_eq!(next_period_labels(None, 2), vec!["+1", "+2"]);
    }

    #[test]
    fn csv_errors_name_the_line() {
        assert_eq!(parse_series_csv("value\n1\nabc\n").unwrap_err().line, 3);
        assert_eq!(parse_series_csv("a,b,c\n").unwrap_err().line, 1);
        assert_eq!(parse_series_csv("value\n").unwrap_err().line, 0);
    }

    #[test]
    fn weekly_labels_continue_by_the_step() {
        let p = vec!["2026-01-05".to_string(), "2026-01-12".into()];
        assert_eq!(next_period_labels(Some(&p), 2), vec!["2026-01-19", "2026-01-26"]);
    }

    #[test]
    fn buckets_sum_exactly_and_fill_gaps() {
        let amounts = vec![
            (d("2026-01-03"), Decimal::new(1001, 2)),
            (d("2026-01-31"), Decimal::new(2002, 2)),
            (d("2026-03-15"), Decimal::new(5, 0)),
        ];
        let h = bucket(&amounts, Grain::Month, d("2026-04-01"));
        let got: Vec<(&str, String)> = h.iter().map(|p| (p.period.as_str(), p.value.to_string())).collect();
        assert_eq!(
            got,
            vec![
                ("2026-01", "30.03".into()),
                ("2026-02", "0".into()),
                ("2026-03", "5".into()),
                ("2026-04", "0".into())
            ]
        );
        assert_eq!(Grain::Week.start(d("2026-12-02")), d("2026-11-30"));
    }

    #[test]
    fn intervals_contain_the_point() {
        let input =
            SeriesInput { periods: None, values: (0..36).map(|i| Decimal::from(100 + (i % 12) * 5 + i)).collect() };
        let f = forecast_input(input, 12, 12);
        assert_eq!(f.forecast.len(), 12);
        for p in &f.forecast {
            assert!(
                p.lower_95 <= p.lower_80 && p.lower_80 <= p.point && p.point <= p.upper_80 && p.upper_80 <= p.upper_95
            );
        }
    }
}
