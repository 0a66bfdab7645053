//! Pipeline forecast (F1) and its back-tests (F4) for a caller: the opportunities the caller may
//! see and their stage history are read from the store, the pipeline is reconstructed *as of* a
//! date, and the pure engine [`forecast::pipeline`] does the rest.
//!
//! # As-of reconstruction
//! - The stage of an opportunity on a day is the stage of its last stage change on or before that
//!   day (days in the company's time zone); before its first change it did not exist. An
//!   opportunity is open on a day when that stage is an open stage: one won since then counts as
//!   open then.
//! - Its closing day is the day of the change into its current (won or lost) stage; without any
//!   stage history, its close date.
//! - Age and days in stage are counted from the creation day and the day of the last change.
//! - The store keeps no history of amounts and close dates, so the as-of view carries the
//!   *current* amount and close date. For opportunities that have closed since, that close date
//!   is the actual one: the back-test knows their timing better than a forecaster did then (the
//!   learned model does not use the close date; only the simulation's timing does).
//! - Amounts are converted into the reporting currency with the rate of the opportunity's close
//!   date (as the revenue series do); an amount without a rate is left out and reported.
//! - The closed history known on a day: for every opportunity closed on or before it, one view
//!   at each month end while it was open (one at its creation day if it closed within the month).

use std::collections::{BTreeMap, HashMap, HashSet};

use forecast::pipeline::{
    self as engine, BacktestOptions, BacktestSnapshot, ClosedOutcome, ForecastOptions, LearningOptions, Method,
    OpenOpportunity, Scores, Segmentation, SimulationOptions, WinModel,
};
use jiff::ToSpan;
use jiff::civil::Date;
use model::{Period, PeriodKind, StageId, StageKind, UserId};
use rust_decimal::Decimal;
use serde::Serialize;
use store::Viewer;

use crate::{App, AppError, Principal};

/// Records read from the store per page.
const PAGE: i64 = 2_000;
/// Simulations of a forecast.
pub const SIMULATIONS: usize = 2_000;
/// Simulations per forecast in a back-test (two methods × four spreads per as-of date).
pub const BACKTEST_SIMULATIONS: usize = 1_000;
/// Spread of the common log-odds shift of a forecast (see `SimulationOptions::spread`): the
/// value the engine's back-test chose on its synthetic company. The back-test reports the spread
/// that fits the company's own history.
pub const SPREAD: f64 = 0.25;
/// Spreads a back-test chooses from.
pub const BACKTEST_SPREADS: [f64; 4] = [0.0, 0.25, 0.5, 1.0];
/// Opportunities listed behind a forecast.
pub const TOP: usize = 20;
/// Most as-of dates in one back-test.
pub const MAX_SNAPSHOTS: usize = 60;

/// A stage as the reconstruction needs it.
#[derive(Debug, Clone)]
pub struct StageInfo {
    pub name: String,
    /// Configured win probability, 0 to 1.
    pub probability: Decimal,
    pub kind: StageKind,
}

/// An opportunity with its stage history, as read from the store (amount already converted).
#[derive(Debug, Clone)]
pub struct Deal {
    pub id: i64,
    pub name: String,
    pub owner: UserId,
    /// Current stage (the last entry of the history).
    pub stage: StageId,
    /// Creation day (company time zone).
    pub created: Date,
    /// Amount in the reporting currency; `None` when no exchange rate exists.
    pub amount: Option<Decimal>,
    pub close_date: Date,
    pub source: String,
    pub product_line: String,
    /// Stage changes (day, new stage), oldest first.
    pub changes: Vec<(Date, StageId)>,
}

/// Everything the reconstruction reads.
#[derive(Debug, Clone, Default)]
pub struct PipelineData {
    pub deals: Vec<Deal>,
    pub stages: HashMap<StageId, StageInfo>,
    pub owner_names: HashMap<UserId, String>,
    /// Opportunities left out for want of an exchange rate.
    pub without_rate: usize,
}

impl PipelineData {
    fn kind(&self, stage: StageId) -> Option<StageKind> {
        self.stages.get(&stage).map(|s| s.kind)
    }

    /// The stage `deal` was in at the end of `day`, and the day it entered it.
    pub fn stage_on(&self, deal: &Deal, day: Date) -> Option<(StageId, Date)> {
        if deal.changes.is_empty() {
            return (deal.created <= day).then_some((deal.stage, deal.created));
        }
        deal.changes.iter().rev().find(|(d, _)| *d <= day).map(|(d, s)| (*s, *d))
    }

    /// The day `deal` closed and whether it was won; `None` while it is open.
    pub fn closing(&self, deal: &Deal) -> Option<(Date, bool)> {
        let kind = self.kind(deal.stage)?;
        if kind == StageKind::Open {
            return None;
        }
        let day = deal.changes.last().map(|(d, _)| *d).unwrap_or(deal.close_date);
        Some((day, kind == StageKind::Won))
    }

    /// `deal` as it looked at the end of `day`, if it was open then.
    pub fn view_on(&self, deal: &Deal, day: Date) -> Option<OpenOpportunity> {
        let amount = deal.amount?;
        if deal.created > day {
            return None;
        }
        let (stage, entered) = self.stage_on(deal, day)?;
        let info = self.stages.get(&stage)?;
        if info.kind != StageKind::Open {
            return None;
        }
        Some(OpenOpportunity {
            id: deal.id.to_string(),
            amount,
            stage: info.name.clone(),
            stage_probability: info.probability,
            age_days: days_between(deal.created, day),
            days_in_stage: days_between(entered, day),
            expected_close: deal.close_date,
            owner: deal.owner.0.to_string(),
            product_line: deal.product_line.clone(),
            source: deal.source.clone(),
        })
    }

    /// The opportunities open at the end of `as_of`.
    pub fn open_on(&self, as_of: Date) -> Vec<OpenOpportunity> {
        self.deals.iter().filter_map(|d| self.view_on(d, as_of)).collect()
    }

    /// The closed history known at the end of `as_of`: views of every opportunity closed on or
    /// before it, one per month end while it was open (its creation day when none).
    pub fn history_on(&self, as_of: Date) -> Vec<ClosedOutcome> {
        let mut out = Vec::new();
        for deal in &self.deals {
            let Some((closed_on, won)) = self.closing(deal) else { continue };
            if closed_on > as_of || deal.amount.is_none() {
                continue;
            }
            let mut seen = false;
            let mut day = deal.created.last_of_month();
            while day < closed_on {
                if let Some(view) = self.view_on(deal, day) {
                    out.push(ClosedOutcome { as_seen: view, won, closed_on });
                    seen = true;
                }
                day = day.checked_add(1.day()).map(Date::last_of_month).unwrap_or(closed_on);
            }
            if !seen && let Some(view) = self.view_on(deal, deal.created) {
                out.push(ClosedOutcome { as_seen: view, won, closed_on });
            }
        }
        out
    }

    /// The opportunities won with a closing day in `from..=to` (whenever they were created).
    pub fn won_between(&self, from: Date, to: Date) -> Vec<ClosedOutcome> {
        let mut out = Vec::new();
        for deal in &self.deals {
            let (Some((closed_on, true)), Some(amount)) = (self.closing(deal), deal.amount) else { continue };
            if closed_on < from || closed_on > to {
                continue;
            }
            let stage = self.stages.get(&deal.stage).map(|s| s.name.clone()).unwrap_or_default();
            let as_seen = OpenOpportunity {
                id: deal.id.to_string(),
                amount,
                stage,
                stage_probability: Decimal::ONE,
                age_days: days_between(deal.created, closed_on),
                days_in_stage: 0,
                expected_close: deal.close_date,
                owner: deal.owner.0.to_string(),
                product_line: deal.product_line.clone(),
                source: deal.source.clone(),
            };
            out.push(ClosedOutcome { as_seen, won: true, closed_on });
        }
        out
    }
}

fn days_between(from: Date, to: Date) -> u32 {
    u32::try_from((to - from).get_days()).unwrap_or(0)
}

/// Parses `learned` or `stage_weighted`.
pub fn parse_method(s: &str) -> Result<Method, AppError> {
    match s.trim() {
        "learned" => Ok(Method::Learned),
        "stage_weighted" | "stage-weighted" => Ok(Method::StageWeighted),
        _ => Err(AppError::invalid("method", "must be learned or stage_weighted")),
    }
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::StageWeighted => "stage_weighted",
        Method::Learned => "learned",
    }
}

/// Parses a day `YYYY-MM-DD`; the error names `field`.
pub fn parse_day(field: &str, s: &str) -> Result<Date, AppError> {
    s.trim().parse::<Date>().map_err(|_| AppError::invalid(field, "must be a date YYYY-MM-DD"))
}

/// Parses a seed (a whole number 0 to 2⁶⁴−1).
pub fn parse_seed(s: &str) -> Result<u64, AppError> {
    s.trim().parse::<u64>().map_err(|_| AppError::invalid("seed", "must be a whole number, 0 or more"))
}

/// Parses a forecast period: a month `2026-03`, a fiscal quarter `2026-Q1` or a fiscal year
/// `FY2026`.
pub fn parse_forecast_period(s: &str) -> Result<Period, AppError> {
    let period = Period::parse(s).map_err(|e| AppError::invalid("period", e.to_string()))?;
    match period.kind() {
        PeriodKind::Month | PeriodKind::Quarter | PeriodKind::Year => Ok(period),
        _ => Err(AppError::invalid("period", "must be a month (2026-03), quarter (2026-Q1) or year (FY2026)")),
    }
}

/// Back-test rhythm: one as-of date at the start of every month or every fiscal quarter,
/// forecasting that month or quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BacktestGrain {
    Month,
    Quarter,
}

impl BacktestGrain {
    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s.trim() {
            "month" => Ok(Self::Month),
            "quarter" => Ok(Self::Quarter),
            _ => Err(AppError::invalid("grain", "must be month or quarter")),
        }
    }

    fn kind(self) -> PeriodKind {
        match self {
            Self::Month => PeriodKind::Month,
            Self::Quarter => PeriodKind::Quarter,
        }
    }
}

/// Parses the back-test segmentation: `total`, `owner`, `product_line` or `source`.
pub fn parse_segmentation(s: &str) -> Result<Segmentation, AppError> {
    match s.trim() {
        "total" => Ok(Segmentation::Total),
        "owner" => Ok(Segmentation::Owner),
        "product_line" => Ok(Segmentation::ProductLine),
        "source" => Ok(Segmentation::Source),
        _ => Err(AppError::invalid("by", "must be total, owner, product_line or source")),
    }
}

/// An open opportunity behind a forecast.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PipelineOpportunity {
    pub id: i64,
    pub name: String,
    pub owner: String,
    /// The stage on the as-of date.
    pub stage: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    #[schema(value_type = String)]
    pub expected_close: Date,
    /// The stage's configured probability (0 to 1).
    pub stage_probability: f64,
    /// The probability the forecast used (learned, or the stage's when history is thin).
    pub win_probability: f64,
    /// amount × win probability, rounded to the currency.
    #[schema(value_type = String)]
    pub expected_value: Decimal,
    pub age_days: u32,
    pub days_in_stage: u32,
}

/// One bin of a reliability table.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReliabilityRow {
    pub from: f64,
    pub to: f64,
    pub count: usize,
    pub mean_predicted: f64,
    pub observed: f64,
}

/// Probability scores of one method on the closed history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ScoreView {
    pub brier: f64,
    pub log_loss: f64,
    pub reliability: Vec<ReliabilityRow>,
}

impl From<&Scores> for ScoreView {
    fn from(s: &Scores) -> Self {
        ScoreView {
            brier: s.brier,
            log_loss: s.log_loss,
            reliability: s
                .reliability
                .iter()
                .map(|b| ReliabilityRow {
                    from: b.from,
                    to: b.to,
                    count: b.count,
                    mean_predicted: b.mean_predicted,
                    observed: b.observed,
                })
                .collect(),
        }
    }
}

/// Calibration of the learned win probability (out-of-fold) against the stage weights.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CalibrationView {
    /// Closed views scored.
    pub rows: usize,
    /// `None` when the history is too thin to learn.
    pub learned: Option<ScoreView>,
    pub stage_weights: ScoreView,
}

/// The pipeline forecast of a period from the pipeline as of a date.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PipelineForecastView {
    #[schema(value_type = String)]
    pub as_of: Date,
    /// `2026-Q1`, `2026-03`, `FY2026`.
    pub period: String,
    #[schema(value_type = String)]
    pub from: Date,
    #[schema(value_type = String)]
    pub to: Date,
    /// Reporting currency (ISO code).
    pub currency: String,
    pub seed: u64,
    pub simulations: usize,
    /// Spread of the common log-odds shift simulated.
    pub spread: f64,
    /// `learned` or `stage_weighted`: the win probability the simulation used (after any
    /// fallback to the stage weights).
    pub method: String,
    /// Won in the period up to and including the as-of date.
    #[schema(value_type = String)]
    pub closed_won: Decimal,
    /// Open on the as-of date (with an amount in the reporting currency).
    pub open_count: usize,
    /// Of which expected to close in the period.
    pub open_in_period: usize,
    #[schema(value_type = String)]
    pub unweighted: Decimal,
    /// Σ amount × stage probability over the opportunities expected to close in the period.
    #[schema(value_type = String)]
    pub stage_weighted: Decimal,
    /// Σ amount × learned win probability over the same opportunities.
    #[schema(value_type = String)]
    pub learned_weighted: Decimal,
    /// Monte Carlo percentiles of what the open pipeline wins in the period (with slippage).
    #[schema(value_type = String)]
    pub p10: Decimal,
    #[schema(value_type = String)]
    pub p50: Decimal,
    #[schema(value_type = String)]
    pub p90: Decimal,
    #[schema(value_type = String)]
    pub mean: Decimal,
    /// The biggest opportunities expected in the period, by expected value.
    pub opportunities: Vec<PipelineOpportunity>,
    pub calibration: CalibrationView,
    /// Closed views the model learned from.
    pub history_rows: usize,
    pub diagnostics: Vec<String>,
}

/// One as-of forecast of a back-test, with what then happened.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BacktestRowView {
    #[schema(value_type = String)]
    pub as_of: Date,
    pub period: String,
    pub segment: String,
    /// The segment's chosen method.
    pub method: String,
    pub spread: f64,
    /// Whether the row was used to choose the method (the rest score it).
    pub training: bool,
    #[schema(value_type = String)]
    pub p10: Decimal,
    #[schema(value_type = String)]
    pub p50: Decimal,
    #[schema(value_type = String)]
    pub p90: Decimal,
    /// Won with a closing day in the period.
    #[schema(value_type = String)]
    pub actual: Decimal,
    pub inside: bool,
}

/// Error of the P50 and coverage of P10–P90 over some rows.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BacktestSummary {
    pub count: usize,
    /// Mean |P50 − actual|.
    #[schema(value_type = String)]
    pub mae: Decimal,
    /// Mean |P50 − actual| / actual over the rows with something won (None: none had).
    pub mape: Option<f64>,
    /// Σ|P50 − actual| / Σ actual.
    pub wape: Option<f64>,
    /// Mean P50 − actual (negative: forecasts too low).
    #[schema(value_type = String)]
    pub bias: Decimal,
    /// Share of rows whose actual lies within P10–P90.
    pub coverage: f64,
}

/// The method chosen for one segment.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SegmentView {
    pub segment: String,
    /// What people read: the rep's name for owners, else the key.
    pub label: String,
    pub method: String,
    pub spread: f64,
    /// Mean |P50 − actual| on the training rows, stage-weighted and learned (without spread).
    #[schema(value_type = String)]
    pub training_mae_stage_weighted: Decimal,
    #[schema(value_type = String)]
    pub training_mae_learned: Decimal,
    /// The choice scored on the later (test) rows.
    pub test: BacktestSummary,
}

/// A back-test over the company's own history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BacktestView {
    #[schema(value_type = String)]
    pub from: Date,
    #[schema(value_type = String)]
    pub to: Date,
    pub grain: BacktestGrain,
    /// `total`, `owner`, `product_line` or `source`.
    pub by: String,
    pub currency: String,
    pub seed: u64,
    pub simulations: usize,
    /// The chosen method's rows, every segment and as-of date.
    pub rows: Vec<BacktestRowView>,
    pub segments: Vec<SegmentView>,
    /// The chosen methods over every row (training and test).
    pub overall: BacktestSummary,
    /// The chosen methods over the test rows only.
    pub test: BacktestSummary,
    pub diagnostics: Vec<String>,
}

fn summary(rows: &[&BacktestRowView]) -> BacktestSummary {
    let count = rows.len();
    if count == 0 {
        return BacktestSummary {
            count,
            mae: Decimal::ZERO,
            mape: None,
            wape: None,
            bias: Decimal::ZERO,
            coverage: 0.0,
        };
    }
    let n = Decimal::from(count);
    let abs: Decimal = rows.iter().map(|r| (r.p50 - r.actual).abs()).sum();
    let signed: Decimal = rows.iter().map(|r| r.p50 - r.actual).sum();
    let actual: Decimal = rows.iter().map(|r| r.actual).sum();
    let ratios: Vec<f64> = rows
        .iter()
        .filter(|r| r.actual > Decimal::ZERO)
        .map(|r| to_f64((r.p50 - r.actual).abs()) / to_f64(r.actual))
        .collect();
    BacktestSummary {
        count,
        mae: (abs / n).round_dp(2),
        mape: (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64),
        wape: (actual > Decimal::ZERO).then(|| to_f64(abs) / to_f64(actual)),
        bias: (signed / n).round_dp(2),
        coverage: rows.iter().filter(|r| r.inside).count() as f64 / count as f64,
    }
}

fn to_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}

fn simulation(seed: u64, simulations: usize, spread: f64) -> SimulationOptions {
    SimulationOptions { simulations, seed, threads: 2, spread }
}

/// The engine's forecast options of [`App::pipeline_forecast`].
pub fn forecast_options(method: Method, seed: u64) -> ForecastOptions {
    ForecastOptions { method, learning: LearningOptions::default(), simulation: simulation(seed, SIMULATIONS, SPREAD) }
}

impl App {
    /// Today in `p`'s time zone (the default as-of date).
    pub fn today_for(&self, p: &Principal) -> Date {
        self.now().to_zoned(p.user.time_zone.tz()).date()
    }

    /// Reads the opportunities `viewer` may see with their stage history, the stages and the
    /// owners' names; amounts converted into the reporting currency.
    pub async fn pipeline_data(&self, viewer: &Viewer) -> Result<PipelineData, AppError> {
        let store = &self.store;
        let currency = store.reporting_currency().await?;
        let fx = store.fx_table().await?;
        let zone = self.company_zone().await?;
        let mut data = PipelineData::default();
        for p in store.pipeline_list().await? {
            for s in p.stages {
                data.stages.insert(
                    s.id,
                    StageInfo { name: s.name, probability: Decimal::new(i64::from(s.probability), 2), kind: s.kind },
                );
            }
        }
        let mut index: HashMap<i64, usize> = HashMap::new();
        let mut after = 0;
        loop {
            let page = store.kpi_opportunity_page(viewer, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.opportunity.id.0;
            for k in page {
                let o = k.opportunity;
                let amount = fx.convert(o.amount, currency, o.close_date).ok().map(|m| m.amount);
                if amount.is_none() {
                    data.without_rate += 1;
                }
                index.insert(o.id.0, data.deals.len());
                data.deals.push(Deal {
                    id: o.id.0,
                    name: o.name,
                    owner: o.owner_id,
                    stage: o.stage_id,
                    created: o.created_at.to_zoned(zone.clone()).date(),
                    amount,
                    close_date: o.close_date,
                    source: o.lead_source.unwrap_or_default(),
                    product_line: k.product_line.unwrap_or_default(),
                    changes: Vec::new(),
                });
            }
        }
        let mut after = 0;
        loop {
            let (page, last) = store.kpi_stage_change_page(viewer, after, PAGE * 2).await?;
            let Some(last) = last else { break };
            after = last;
            for c in page {
                if let Some(&i) = index.get(&c.opportunity_id.0) {
                    data.deals[i].changes.push((c.at.to_zoned(zone.clone()).date(), c.to_stage_id));
                }
            }
        }
        let owners: HashSet<UserId> = data.deals.iter().map(|d| d.owner).collect();
        for user in self.all_users().await? {
            if owners.contains(&user.id) {
                data.owner_names.insert(user.id, user.name);
            }
        }
        Ok(data)
    }

    /// The open pipeline on `as_of` and the closed history known then, as `p` may see them: the
    /// engine's input (for tests and for anyone checking the figures).
    pub async fn pipeline_inputs(
        &self,
        p: &Principal,
        as_of: Date,
    ) -> Result<(Vec<OpenOpportunity>, Vec<ClosedOutcome>), AppError> {
        let data = self.pipeline_data(&self.viewer(p).await?).await?;
        Ok((data.open_on(as_of), data.history_on(as_of)))
    }

    /// The pipeline forecast of `period` (a month, fiscal quarter or fiscal year) from the
    /// pipeline `p` may see as it was on `as_of`: a rep forecasts their own pipeline, a manager
    /// their team's, ops the company's. `method` defaults to learned.
    pub async fn pipeline_forecast(
        &self,
        p: &Principal,
        as_of: Date,
        period: Period,
        seed: u64,
        method: Option<Method>,
    ) -> Result<PipelineForecastView, AppError> {
        let calendar = self.fiscal_calendar().await?;
        let (from, to) = (calendar.start(period), calendar.end(period));
        let range = engine::Period::new(from, to).map_err(|e| AppError::invalid("period", e.to_string()))?;
        let currency = self.store.reporting_currency().await?;
        let data = self.pipeline_data(&self.viewer(p).await?).await?;
        let open = data.open_on(as_of);
        let history = data.history_on(as_of);
        let options = forecast_options(method.unwrap_or(Method::Learned), seed);
        let (f, found) = engine::forecast(&open, &history, as_of, range, &options);
        let (calibration, _) = engine::calibration(&history, &options.learning);
        let model = if f.method == Method::Learned {
            engine::fit_win_model(&history, &options.learning).0
        } else {
            WinModel::StageWeights
        };
        let dp = currency.minor_units();
        let names: HashMap<i64, &Deal> = data.deals.iter().map(|d| (d.id, d)).collect();
        let mut opportunities: Vec<PipelineOpportunity> = open
            .iter()
            .filter(|o| range.contains(o.expected_close) && o.amount >= Decimal::ZERO)
            .map(|o| {
                let win = model.win_probability(o);
                let id: i64 = o.id.parse().unwrap_or_default();
                let deal = names.get(&id);
                PipelineOpportunity {
                    id,
                    name: deal.map(|d| d.name.clone()).unwrap_or_default(),
                    owner: deal.and_then(|d| data.owner_names.get(&d.owner).cloned()).unwrap_or_default(),
                    stage: o.stage.clone(),
                    amount: o.amount.round_dp(dp),
                    expected_close: o.expected_close,
                    stage_probability: to_f64(o.stage_probability),
                    win_probability: win,
                    expected_value: (o.amount * Decimal::from_f64_retain(win).unwrap_or_default()).round_dp(dp),
                    age_days: o.age_days,
                    days_in_stage: o.days_in_stage,
                }
            })
            .collect();
        opportunities.sort_by(|a, b| b.expected_value.cmp(&a.expected_value).then(a.id.cmp(&b.id)));
        opportunities.truncate(TOP);
        let closed_won: Decimal = data.won_between(from, as_of.min(to)).iter().map(|w| w.as_seen.amount).sum();
        let mut diagnostics: Vec<String> = found.iter().map(ToString::to_string).collect();
        if data.without_rate > 0 {
            diagnostics.push(format!(
                "{} opportunities have no exchange rate on their close date; left out",
                data.without_rate
            ));
        }
        Ok(PipelineForecastView {
            as_of,
            period: period.to_string(),
            from,
            to,
            currency: currency.code().to_string(),
            seed,
            simulations: f.range.simulations,
            spread: SPREAD,
            method: method_name(f.method).into(),
            closed_won: closed_won.round_dp(dp),
            open_count: open.len(),
            open_in_period: f.open_in_period,
            unweighted: f.unweighted.round_dp(dp),
            stage_weighted: f.stage_weighted.round_dp(dp),
            learned_weighted: f.learned_weighted.round_dp(dp),
            p10: f.range.p10.round_dp(dp),
            p50: f.range.p50.round_dp(dp),
            p90: f.range.p90.round_dp(dp),
            mean: f.range.mean.round_dp(dp),
            opportunities,
            calibration: CalibrationView {
                rows: calibration.rows,
                learned: calibration.learned.as_ref().map(ScoreView::from),
                stage_weights: ScoreView::from(&calibration.stage_weights),
            },
            history_rows: history.len(),
            diagnostics,
        })
    }

    /// Back-tests the pipeline forecast on `p`'s own history: an as-of date at the start of
    /// every month (or fiscal quarter) from `from` to `to` whose period has ended by today,
    /// forecasting that period from the pipeline reconstructed then; both methods and every
    /// spread are simulated, the earlier half chooses per segment, the later half scores.
    pub async fn pipeline_backtest(
        &self,
        p: &Principal,
        from: Date,
        to: Date,
        grain: BacktestGrain,
        by: Segmentation,
        seed: u64,
    ) -> Result<BacktestView, AppError> {
        if to < from {
            return Err(AppError::invalid("to", "must not be before from"));
        }
        let calendar = self.fiscal_calendar().await?;
        let today = self.now().to_zoned(self.company_zone().await?).date();
        let mut diagnostics = Vec::new();
        let mut periods = Vec::new();
        let mut unfinished = 0;
        for period in calendar.periods_between(from, to, grain.kind()) {
            let start = calendar.start(period);
            if start < from || start > to {
                continue;
            }
            if calendar.end(period) >= today {
                unfinished += 1;
                continue;
            }
            periods.push(period);
        }
        if periods.len() > MAX_SNAPSHOTS {
            return Err(AppError::invalid("from", format!("at most {MAX_SNAPSHOTS} as-of dates per back-test")));
        }
        if unfinished > 0 {
            diagnostics.push(format!("{unfinished} periods that have not ended yet are left out"));
        }
        let currency = self.store.reporting_currency().await?;
        let dp = currency.minor_units();
        let data = self.pipeline_data(&self.viewer(p).await?).await?;
        let mut labels: HashMap<Date, String> = HashMap::new();
        let snapshots: Vec<BacktestSnapshot> = periods
            .iter()
            .map(|&period| {
                let (start, end) = (calendar.start(period), calendar.end(period));
                // The pipeline as it was at the end of the day before the period starts.
                let as_of = start.checked_sub(1.day()).unwrap_or(start);
                labels.insert(as_of, period.to_string());
                BacktestSnapshot {
                    as_of,
                    period: engine::Period::new(start, end).unwrap_or_else(|_| {
                        engine::Period::new(start, start).expect("a one-day period is never empty")
                    }),
                    open: data.open_on(as_of),
                    history: data.history_on(as_of),
                    actual_won: data.won_between(start, end),
                }
            })
            .collect();
        let options = BacktestOptions {
            segmentation: by,
            training_share: 0.5,
            forecast: ForecastOptions {
                method: Method::Learned,
                learning: LearningOptions::default(),
                simulation: simulation(seed, BACKTEST_SIMULATIONS, 0.0),
            },
            spreads: BACKTEST_SPREADS.to_vec(),
        };
        let (report, found) = engine::backtest(&snapshots, &options);
        diagnostics.extend(found.iter().map(ToString::to_string));
        if data.without_rate > 0 {
            diagnostics.push(format!(
                "{} opportunities have no exchange rate on their close date; left out",
                data.without_rate
            ));
        }
        let chosen: BTreeMap<&str, (Method, f64)> =
            report.segments.iter().map(|s| (s.segment.as_str(), (s.chosen, s.spread))).collect();
        let rows: Vec<BacktestRowView> = report
            .rows
            .iter()
            .filter(|r| chosen.get(r.segment.as_str()).is_some_and(|&(m, s)| m == r.method && s == r.spread))
            .map(|r| BacktestRowView {
                as_of: r.as_of,
                period: labels.get(&r.as_of).cloned().unwrap_or_default(),
                segment: r.segment.clone(),
                method: method_name(r.method).into(),
                spread: r.spread,
                training: r.training,
                p10: r.range.p10.round_dp(dp),
                p50: r.range.p50.round_dp(dp),
                p90: r.range.p90.round_dp(dp),
                actual: r.actual.round_dp(dp),
                inside: r.inside(),
            })
            .collect();
        let label = |key: &str| -> String {
            if by == Segmentation::Owner
                && let Ok(id) = key.parse::<i64>()
                && let Some(name) = data.owner_names.get(&UserId(id))
            {
                return name.clone();
            }
            if key.is_empty() { "-".into() } else { key.to_string() }
        };
        let segments = report
            .segments
            .iter()
            .map(|s| {
                let test: Vec<&BacktestRowView> =
                    rows.iter().filter(|r| r.segment == s.segment && !r.training).collect();
                SegmentView {
                    segment: s.segment.clone(),
                    label: label(&s.segment),
                    method: method_name(s.chosen).into(),
                    spread: s.spread,
                    training_mae_stage_weighted: s.training_stage_weighted.mean_absolute_error,
                    training_mae_learned: s.training_learned.mean_absolute_error,
                    test: summary(&test),
                }
            })
            .collect();
        let all: Vec<&BacktestRowView> = rows.iter().collect();
        let test: Vec<&BacktestRowView> = rows.iter().filter(|r| !r.training).collect();
        Ok(BacktestView {
            from,
            to,
            grain,
            by: match by {
                Segmentation::Total => "total",
                Segmentation::Owner => "owner",
                Segmentation::ProductLine => "product_line",
                Segmentation::Source => "source",
            }
            .into(),
            currency: currency.code().to_string(),
            seed,
            simulations: BACKTEST_SIMULATIONS,
            overall: summary(&all),
            test: summary(&test),
            rows,
            segments,
            diagnostics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    const QUALIFY: StageId = StageId(1);
    const PROPOSE: StageId = StageId(2);
    const WON: StageId = StageId(3);
    const LOST: StageId = StageId(4);

    fn data(deals: Vec<Deal>) -> PipelineData {
        let mut stages = HashMap::new();
        for (id, name, pct, kind) in [
            (QUALIFY, "Qualify", 20, StageKind::Open),
            (PROPOSE, "Propose", 60, StageKind::Open),
            (WON, "Won", 100, StageKind::Won),
            (LOST, "Lost", 0, StageKind::Lost),
        ] {
            stages.insert(id, StageInfo { name: name.into(), probability: Decimal::new(pct, 2), kind });
        }
        PipelineData { deals, stages, owner_names: HashMap::new(), without_rate: 0 }
    }

    fn deal(id: i64, created: &str, changes: &[(&str, StageId)], close: &str) -> Deal {
        Deal {
            id,
            name: format!("deal {id}"),
            owner: UserId(7),
            stage: changes.last().map(|c| c.1).unwrap_or(QUALIFY),
            created: d(created),
            amount: Some(Decimal::new(100_000, 2)),
            close_date: d(close),
            source: "Website".into(),
            product_line: "Pumps".into(),
            changes: changes.iter().map(|(day, s)| (d(day), *s)).collect(),
        }
    }

    #[test]
    fn an_opportunity_won_since_counts_as_open_then_in_the_stage_it_had() {
        let won_later = deal(
            1,
            "2026-01-10",
            &[("2026-01-10", QUALIFY), ("2026-02-20", PROPOSE), ("2026-04-02", WON)],
            "2026-04-02",
        );
        let data = data(vec![won_later]);
        let open = data.open_on(d("2026-03-31"));
        assert_eq!(open.len(), 1, "open on 31 March, won on 2 April");
        let o = &open[0];
        assert_eq!((o.stage.as_str(), o.stage_probability), ("Propose", Decimal::new(60, 2)));
        assert_eq!((o.age_days, o.days_in_stage), (80, 39));
        assert!(data.history_on(d("2026-03-31")).is_empty(), "its outcome is not known yet");
        assert!(data.open_on(d("2026-04-02")).is_empty(), "closed at the end of 2 April");
        assert!(data.open_on(d("2026-01-09")).is_empty(), "not created yet");
        let early = data.open_on(d("2026-02-01"));
        assert_eq!(early[0].stage, "Qualify");
    }

    #[test]
    fn history_has_one_view_per_month_end_while_open_and_only_closed_by_the_as_of_date() {
        let lost = deal(
            2,
            "2026-01-10",
            &[("2026-01-10", QUALIFY), ("2026-02-20", PROPOSE), ("2026-03-15", LOST)],
            "2026-03-31",
        );
        let quick = deal(3, "2026-02-03", &[("2026-02-03", PROPOSE), ("2026-02-10", WON)], "2026-02-10");
        let open = deal(4, "2026-01-05", &[("2026-01-05", QUALIFY)], "2026-06-30");
        let data = data(vec![lost, quick, open]);
        let h = data.history_on(d("2026-03-31"));
        let views: Vec<(&str, &str, bool)> =
            h.iter().map(|c| (c.as_seen.id.as_str(), c.as_seen.stage.as_str(), c.won)).collect();
        assert_eq!(
            views,
            vec![("2", "Qualify", false), ("2", "Propose", false), ("3", "Propose", true)],
            "month ends 31 Jan and 28 Feb for the lost one; the quick win seen at creation"
        );
        assert_eq!(h[0].closed_on, d("2026-03-15"));
        assert_eq!(data.history_on(d("2026-03-14")).len(), 1, "the loss is not known on 14 March");
        let won = data.won_between(d("2026-02-01"), d("2026-02-28"));
        assert_eq!(won.len(), 1);
        assert_eq!(won[0].as_seen.amount, Decimal::new(100_000, 2));
    }

    #[test]
    fn periods_parse_through_the_fiscal_calendar_and_bad_input_names_the_field() {
        assert_eq!(parse_forecast_period("2026-Q1").unwrap().kind(), PeriodKind::Quarter);
        assert_eq!(parse_forecast_period("FY2026").unwrap().kind(), PeriodKind::Year);
        assert_eq!(parse_forecast_period("2026-03").unwrap().kind(), PeriodKind::Month);
        for bad in ["2026-W09", "2026-03-05", "Q1", ""] {
            assert!(matches!(parse_forecast_period(bad), Err(AppError::Invalid { field, .. }) if field == "period"));
        }
        assert!(matches!(parse_day("as_of", "2026-02-30"), Err(AppError::Invalid { field, .. }) if field == "as_of"));
        assert!(matches!(parse_seed("-1"), Err(AppError::Invalid { field, .. }) if field == "seed"));
        assert!(matches!(parse_method("magic"), Err(AppError::Invalid { field, .. }) if field == "method"));
    }
}
