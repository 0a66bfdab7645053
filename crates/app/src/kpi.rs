//! KPIs (A1), the funnel (A3) and the process map (A5) for a caller: loads the records the caller
//! may see page by page into [`kpi::Facts`] (amounts converted into the reporting currency at the
//! dated rate, days in the company's time zone), runs the pure engine and labels the result
//! (rep names, team and region names) for the CLI, the API and the pages.
//!
//! A cell is addressed by a stable text (`2017-Q3;rep=12;segment=Retail`): the period, then one
//! `dimension=value` per slicing dimension, where reps, teams and regions are ids, other
//! dimensions their label, and `-` stands for "not set".

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;
use kpi::facts::{DenseKeys, StageChangeFact, StageFact};
use kpi::funnel::{Cohort, Funnel};
use kpi::process_map::{BottleneckRule, ProcessMap};
use kpi::{Baseline, Diagnostic, Dimension, Facts, FactsBuilder, Kpi, KpiTable, RecordRef, Value};
use model::{FiscalCalendar, Period, Permission, PipelineId, QuarterScheme, RegionId, TeamId, UserId};
use rust_decimal::Decimal;
use serde::Serialize;
use store::Viewer;

use crate::{App, AppError, Principal};

pub use kpi::build::OpportunityLabels;

/// Records read from the store per page.
const PAGE: i64 = 2_000;

/// What the caller asks for, as typed (CLI flags, query parameters, form fields).
#[derive(Debug, Clone, Default)]
pub struct KpiRequest {
    /// KPI names (`win_rate`); commas inside one entry also separate.
    pub metrics: Vec<String>,
    /// Dimension names (`owner`, `rep`, `team`, …); empty for company totals.
    pub by: Vec<String>,
    /// `2017-Q3`, `2017-03`, `FY2017`, `2017-W09` or a day.
    pub period: String,
    /// `previous`, `last_year` or empty.
    pub compare: Option<String>,
}

/// A parsed, valid [`KpiRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiQuery {
    pub kpis: Vec<Kpi>,
    pub by: Vec<Dimension>,
    pub period: Period,
    pub compare: Option<Baseline>,
}

fn split(values: &[String]) -> impl Iterator<Item = &str> {
    values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|s| !s.is_empty())
}

impl KpiRequest {
    /// Checks every part; the error names the field at fault (`metric`, `by`, `period`, `compare`).
    pub fn parse(&self) -> Result<KpiQuery, AppError> {
        let mut kpis = Vec::new();
        for name in split(&self.metrics) {
            let kpi = Kpi::parse(name).ok_or_else(|| {
                AppError::invalid("metric", format!("'{name}' is not a KPI; known: {}", kpi_names().join(", ")))
            })?;
            if !kpis.contains(&kpi) {
                kpis.push(kpi);
            }
        }
        if kpis.is_empty() {
            return Err(AppError::invalid("metric", "name at least one KPI, e.g. win_rate"));
        }
        let mut by = Vec::new();
        for name in split(&self.by) {
            let d = Dimension::parse(name).ok_or_else(|| {
                AppError::invalid(
                    "by",
                    format!(
                        "'{name}' is not a dimension; use {}",
                        Dimension::ALL.map(Dimension::name).join(", ") + " (or owner, product, lead_source)"
                    ),
                )
            })?;
            if by.contains(&d) {
                return Err(AppError::invalid("by", format!("'{name}' is named twice")));
            }
            by.push(d);
        }
        let period = Period::parse(&self.period).map_err(|e| AppError::invalid("period", e.to_string()))?;
        let compare = match self.compare.as_deref().map(str::trim) {
            None | Some("") | Some("none") => None,
            Some("previous") => Some(Baseline::PreviousPeriod),
            Some("last_year") => Some(Baseline::SamePeriodLastYear),
            Some(other) => {
                return Err(AppError::invalid("compare", format!("'{other}' is not previous or last_year")));
            }
        };
        Ok(KpiQuery { kpis, by, period, compare })
    }
}

/// Every KPI name, in catalogue order.
pub fn kpi_names() -> Vec<&'static str> {
    Kpi::ALL.iter().map(|k| k.name()).collect()
}

/// One slice value of a row, labelled.
#[derive(Debug, Clone, Serialize)]
pub struct SliceValue {
    pub dimension: Dimension,
    /// The value in a cell address: an id for reps, teams and regions, the label otherwise, `-`
    /// when not set.
    pub key: String,
    /// What people read: the rep's name, the team's name, the label; empty when not set.
    pub label: String,
}

/// One KPI in one row, with its comparison when one was asked for.
#[derive(Debug, Clone, Serialize)]
pub struct KpiCell {
    pub kpi: Kpi,
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative: Option<Decimal>,
}

/// A row of the report: one slice in the requested period.
#[derive(Debug, Clone, Serialize)]
pub struct KpiRow {
    pub slice: Vec<SliceValue>,
    /// The cell address for drill-down.
    pub cell: String,
    pub cells: Vec<KpiCell>,
}

/// The answer to a [`KpiQuery`]: one row per slice (in slice order) and the total.
#[derive(Debug, Clone, Serialize)]
pub struct KpiReport {
    pub currency: model::Currency,
    pub period: Period,
    pub from: Date,
    pub to: Date,
    pub kpis: Vec<Kpi>,
    pub by: Vec<Dimension>,
    pub compare: Option<Baseline>,
    pub baseline_period: Option<Period>,
    pub rows: Vec<KpiRow>,
    pub total: KpiRow,
    pub diagnostics: Vec<Diagnostic>,
}

/// A record behind a cell, with the page that shows it (if there is one).
#[derive(Debug, Clone, Serialize)]
pub struct DrillRecord {
    #[serde(flatten)]
    pub record: RecordRef,
    pub link: Option<String>,
}

/// The records behind one cell.
#[derive(Debug, Clone, Serialize)]
pub struct KpiDrill {
    pub kpi: Kpi,
    pub cell: String,
    pub value: Value,
    pub numerator: Vec<DrillRecord>,
    pub denominator: Vec<DrillRecord>,
}

/// The stage flow of one pipeline: funnel and process map, labelled.
#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    pub pipeline_id: i64,
    pub pipeline_name: String,
    /// (id, name) of every pipeline, to choose from.
    pub pipelines: Vec<(i64, String)>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// The pipeline's stages; funnel and map stage numbers index this list.
    pub stages: Vec<StageFact>,
    pub funnel: Funnel,
    pub map: ProcessMap,
    /// Names of the loss reasons the funnel's keys point at, by key.
    pub loss_reasons: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The facts the caller may see and the maps to label them.
pub(crate) struct Loaded {
    facts: Facts,
    stages: Vec<StageFact>,
    changes: Vec<StageChangeFact>,
    diagnostics: Vec<Diagnostic>,
    reps: DenseKeys<UserId>,
    teams: DenseKeys<TeamId>,
    regions: DenseKeys<RegionId>,
    territories: DenseKeys<String>,
    product_lines: DenseKeys<String>,
    sources: DenseKeys<String>,
    segments: DenseKeys<String>,
    loss_reasons: DenseKeys<model::LossReasonId>,
    user_names: HashMap<UserId, String>,
    team_names: HashMap<TeamId, String>,
    region_names: HashMap<RegionId, String>,
}

impl Loaded {
    /// The labels of a builder that has its users and dimension keys (the rollup path: no
    /// records, only the reps and the dimension values the cells named), with the team and
    /// region names.
    pub(crate) fn from_builder_with(
        facts: Facts,
        b: &mut FactsBuilder<'_>,
        user_names: HashMap<UserId, String>,
        team_names: HashMap<TeamId, String>,
        region_names: HashMap<RegionId, String>,
    ) -> Loaded {
        Loaded {
            facts,
            stages: Vec::new(),
            changes: Vec::new(),
            diagnostics: Vec::new(),
            reps: std::mem::replace(&mut b.reps, DenseKeys::new()),
            teams: std::mem::replace(&mut b.teams, DenseKeys::new()),
            regions: std::mem::replace(&mut b.regions, DenseKeys::new()),
            territories: std::mem::replace(&mut b.territories, DenseKeys::new()),
            product_lines: std::mem::replace(&mut b.product_lines, DenseKeys::new()),
            sources: std::mem::replace(&mut b.sources, DenseKeys::new()),
            segments: std::mem::replace(&mut b.segments, DenseKeys::new()),
            loss_reasons: std::mem::replace(&mut b.loss_reasons, DenseKeys::new()),
            user_names,
            team_names,
            region_names,
        }
    }

    fn label(&self, d: Dimension, key: Option<u32>) -> SliceValue {
        let Some(k) = key else {
            return SliceValue { dimension: d, key: "-".into(), label: String::new() };
        };
        let text = |keys: &DenseKeys<String>| keys.label(k).cloned().unwrap_or_default();
        let (key, label) = match d {
            Dimension::Rep => {
                let id = self.reps.label(k).copied();
                (id.map(|i| i.0.to_string()), id.and_then(|i| self.user_names.get(&i).cloned()))
            }
            Dimension::Team => {
                let id = self.teams.label(k).copied();
                (id.map(|i| i.0.to_string()), id.and_then(|i| self.team_names.get(&i).cloned()))
            }
            Dimension::Region => {
                let id = self.regions.label(k).copied();
                (id.map(|i| i.0.to_string()), id.and_then(|i| self.region_names.get(&i).cloned()))
            }
            Dimension::Territory => (Some(text(&self.territories)), None),
            Dimension::ProductLine => (Some(text(&self.product_lines)), None),
            Dimension::Source => (Some(text(&self.sources)), None),
            Dimension::Segment => (Some(text(&self.segments)), None),
        };
        let key = key.unwrap_or_default();
        let label = label.unwrap_or_else(|| key.clone());
        SliceValue { dimension: d, key, label }
    }

    /// The dense key of a cell-address value; `Err` when nothing visible has it.
    fn key_of(&self, d: Dimension, value: &str) -> Result<Option<u32>, ()> {
        if value == "-" {
            return Ok(None);
        }
        let id = || value.parse::<i64>().map_err(|_| ());
        let found = match d {
            Dimension::Rep => self.reps.get(&UserId(id()?)),
            Dimension::Team => self.teams.get(&TeamId(id()?)),
            Dimension::Region => self.regions.get(&RegionId(id()?)),
            Dimension::Territory => self.territories.get(&value.to_string()),
            Dimension::ProductLine => self.product_lines.get(&value.to_string()),
            Dimension::Source => self.sources.get(&value.to_string()),
            Dimension::Segment => self.segments.get(&value.to_string()),
        };
        found.map(Some).ok_or(())
    }
}

fn cell_address(period: Period, slice: &[SliceValue]) -> String {
    let mut s = period.to_string();
    for v in slice {
        s.push(';');
        s.push_str(v.dimension.name());
        s.push('=');
        s.push_str(&v.key);
    }
    s
}

fn link_of(r: RecordRef) -> Option<String> {
    match r {
        RecordRef::Opportunity(id) => Some(format!("/opportunities/{}", id.0)),
        RecordRef::Lead(id) => Some(format!("/leads/{}", id.0)),
        RecordRef::Order(id) => Some(format!("/orders/{}", id.0)),
        RecordRef::Quote(_) | RecordRef::Activity(_) | RecordRef::Quota(_) | RecordRef::DataEntry(_) => None,
    }
}

/// Whether a stage is the parking stage outside the forward flow.
fn is_nurture(name: &str) -> bool {
    name.to_lowercase().contains("nurture")
}

impl App {
    /// The company's fiscal calendar (settings `fiscal_year_start_month`, default 1, and
    /// `quarter_scheme`, `calendar` or `445`).
    pub async fn fiscal_calendar(&self) -> Result<FiscalCalendar, AppError> {
        let month = match self.store.setting_get("fiscal_year_start_month").await? {
            Some(m) => m.parse::<i8>().map_err(|_| AppError::Internal(format!("bad fiscal_year_start_month '{m}'")))?,
            None => 1,
        };
        let scheme = match self.store.setting_get("quarter_scheme").await?.as_deref() {
            Some("445") => QuarterScheme::Weeks445,
            _ => QuarterScheme::Calendar,
        };
        FiscalCalendar::new(month, scheme).map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Sets the fiscal calendar (administrators): the start month 1 to 12 and `calendar` or `445`.
    pub async fn set_fiscal_calendar(&self, p: &Principal, start_month: &str, scheme: &str) -> Result<(), AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let month: i8 = start_month
            .trim()
            .parse()
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or_else(|| AppError::invalid("fiscal_year_start_month", "must be a month number 1 to 12"))?;
        let scheme = match scheme.trim() {
            "calendar" => "calendar",
            "445" | "4-4-5" => "445",
            _ => return Err(AppError::invalid("quarter_scheme", "must be calendar or 445")),
        };
        let ctx = p.audit(self.now());
        self.store.setting_set(&ctx, "fiscal_year_start_month", &month.to_string()).await?;
        self.store.setting_set(&ctx, "quarter_scheme", scheme).await?;
        Ok(())
    }

    /// The time zone days are counted in: the setting `company_time_zone`, else UTC.
    pub(crate) async fn company_zone(&self) -> Result<jiff::tz::TimeZone, AppError> {
        Ok(match self.store.setting_get("company_time_zone").await? {
            Some(z) => model::TimeZoneName::parse(&z).map(|z| z.tz()).unwrap_or(jiff::tz::TimeZone::UTC),
            None => jiff::tz::TimeZone::UTC,
        })
    }

    /// Loads what `viewer` may see. With `pipeline`, only that pipeline's stages and
    /// opportunities (for the funnel and the process map).
    async fn kpi_load(&self, viewer: &Viewer, pipeline: Option<PipelineId>) -> Result<Loaded, AppError> {
        let store = &self.store;
        let currency = store.reporting_currency().await?;
        let fx = store.fx_table().await?;
        let zone = self.company_zone().await?;
        let mut b = FactsBuilder::new(currency, &fx, zone);
        let mut user_names = HashMap::new();
        for user in self.all_users().await? {
            b.add_user(&user);
            user_names.insert(user.id, user.name);
        }
        let team_names = store.team_list().await?.into_iter().map(|t| (t.id, t.name)).collect();
        let region_names = store.region_list().await?.into_iter().map(|r| (r.id, r.name)).collect();
        for p in store.pipeline_list().await? {
            if pipeline.is_none_or(|id| id == p.id) {
                for s in &p.stages {
                    b.add_stage(s, is_nurture(&s.name));
                }
            }
        }
        let mut added = HashSet::new();
        let mut after = 0;
        loop {
            let page = store.kpi_opportunity_page(viewer, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.opportunity.id.0;
            for o in &page {
                if pipeline.is_some_and(|id| id != o.opportunity.pipeline_id) {
                    continue;
                }
                added.insert(o.opportunity.id);
                let labels = OpportunityLabels {
                    territory: None,
                    product_line: o.product_line.as_deref(),
                    segment: o.segment.as_deref(),
                };
                b.add_opportunity(&o.opportunity, o.stage_kind, labels);
            }
        }
        let mut after = 0;
        loop {
            let (page, last) = store.kpi_stage_change_page(viewer, after, PAGE * 2).await?;
            let Some(last) = last else { break };
            after = last;
            for c in page.iter().filter(|c| added.contains(&c.opportunity_id)) {
                b.add_stage_change(c);
            }
        }
        if pipeline.is_none() {
            let mut after = 0;
            loop {
                let page = store.kpi_activity_page(viewer, after, PAGE * 2).await?;
                let Some(last) = page.last() else { break };
                after = last.id.0;
                for a in &page {
                    b.add_activity(a, None);
                }
            }
            let mut after = 0;
            loop {
                let page = store.kpi_lead_page(viewer, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.lead.id.0;
                for l in &page {
                    b.add_lead(&l.lead, l.ever_qualified, None);
                }
            }
            let mut after = 0;
            loop {
                let page = store.kpi_quote_page(viewer, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.id.0;
                for q in &page {
                    b.add_quote(q);
                }
            }
            let mut after = 0;
            loop {
                let page = store.kpi_order_page(viewer, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.id.0;
                for o in &page {
                    b.add_order(o);
                }
            }
        }
        let (facts, stages, changes, diagnostics) = b.build();
        Ok(Loaded {
            facts,
            stages,
            changes,
            diagnostics,
            reps: std::mem::replace(&mut b.reps, DenseKeys::new()),
            teams: std::mem::replace(&mut b.teams, DenseKeys::new()),
            regions: std::mem::replace(&mut b.regions, DenseKeys::new()),
            territories: std::mem::replace(&mut b.territories, DenseKeys::new()),
            product_lines: std::mem::replace(&mut b.product_lines, DenseKeys::new()),
            sources: std::mem::replace(&mut b.sources, DenseKeys::new()),
            segments: std::mem::replace(&mut b.segments, DenseKeys::new()),
            loss_reasons: std::mem::replace(&mut b.loss_reasons, DenseKeys::new()),
            user_names,
            team_names,
            region_names,
        })
    }

    /// The facts of everything `p` may see, in the reporting currency (for checks and tools).
    pub async fn kpi_facts(&self, p: &Principal) -> Result<(Facts, Vec<Diagnostic>), AppError> {
        let loaded = self.kpi_load(&self.viewer(p).await?, None).await?;
        Ok((loaded.facts, loaded.diagnostics))
    }

    /// Computes `q` over the records `p` may see: one row per slice in the requested period, with
    /// the comparison, and the total; diagnostics about records left out.
    ///
    /// Queries the rollups can answer ([`kpi::daily::supports`]: opportunity and activity KPIs
    /// by rep, team, region, product line, source or segment) read the stored daily cells after
    /// refreshing them; the others load the records.
    pub async fn kpi_table(&self, p: &Principal, q: &KpiQuery) -> Result<KpiReport, AppError> {
        self.kpi_table_with(p, q, kpi::daily::supports(&q.kpis, &q.by)).await
    }

    /// [`kpi_table`](Self::kpi_table) computed from the records, never from the rollups (for
    /// checks and drill-down).
    pub async fn kpi_table_from_records(&self, p: &Principal, q: &KpiQuery) -> Result<KpiReport, AppError> {
        self.kpi_table_with(p, q, false).await
    }

    async fn kpi_table_with(&self, p: &Principal, q: &KpiQuery, rollups: bool) -> Result<KpiReport, AppError> {
        let calendar = self.fiscal_calendar().await?;
        let viewer = self.viewer(p).await?;
        let (loaded, table, diagnostics) = if rollups {
            let (loaded, table) = self.kpi_from_rollups(&viewer, &calendar, q).await?;
            (loaded, table, Vec::new())
        } else {
            let loaded = self.kpi_load(&viewer, None).await?;
            let (table, diagnostics) = compute(&loaded.facts, &calendar, q)?;
            (loaded, table, diagnostics)
        };
        Ok(kpi_report(&calendar, q, &loaded, &table, diagnostics))
    }

    /// Several [`kpi_table`](Self::kpi_table)s and a monthly-or-other series (see
    /// [`kpi_series`](Self::kpi_series)) for one page, such as the dashboard: the rollups are
    /// refreshed and the calendar, viewer, currency, FX table, users, teams and regions loaded once,
    /// not per table. Results are those of the separate calls.
    pub async fn kpi_tables(
        &self,
        p: &Principal,
        tables: &[KpiQuery],
        series: Option<&kpi::Query>,
    ) -> Result<(Vec<KpiReport>, Option<KpiTable>), AppError> {
        if let Some(s) = series
            && !kpi::daily::supports(&s.kpis, &s.by)
        {
            return Err(AppError::invalid("metric", "these KPIs are not kept in the rollups"));
        }
        let calendar = self.fiscal_calendar().await?;
        let viewer = self.viewer(p).await?;
        let shared = self.rollup_shared().await?;
        let mut reports = Vec::with_capacity(tables.len());
        for q in tables {
            if kpi::daily::supports(&q.kpis, &q.by) {
                let (loaded, table) =
                    self.kpi_rollup_query_with(&shared, &viewer, &calendar, &engine_query(&calendar, q)).await?;
                reports.push(kpi_report(&calendar, q, &loaded, &table, Vec::new()));
            } else {
                reports.push(self.kpi_table_with(p, q, false).await?);
            }
        }
        let series = match series {
            Some(s) => Some(self.kpi_rollup_query_with(&shared, &viewer, &calendar, s).await?.1),
            None => None,
        };
        Ok((reports, series))
    }

    /// The records behind the cell `cell` (see the module doc) of `kpi`: only records `p` may see.
    pub async fn kpi_drill(&self, p: &Principal, kpi: Kpi, by: &[Dimension], cell: &str) -> Result<KpiDrill, AppError> {
        let calendar = self.fiscal_calendar().await?;
        let loaded = self.kpi_load(&self.viewer(p).await?, None).await?;
        let mut parts = cell.split(';');
        let period = Period::parse(parts.next().unwrap_or_default())
            .map_err(|e| AppError::invalid("cell", format!("the cell must start with its period: {e}")))?;
        let mut given: Vec<(Dimension, String)> = Vec::new();
        for part in parts {
            let (d, v) = part
                .split_once('=')
                .ok_or_else(|| AppError::invalid("cell", format!("'{part}' is not dimension=value")))?;
            let d =
                Dimension::parse(d).ok_or_else(|| AppError::invalid("cell", format!("'{d}' is not a dimension")))?;
            given.push((d, v.to_string()));
        }
        let by: Vec<Dimension> = if by.is_empty() { given.iter().map(|(d, _)| *d).collect() } else { by.to_vec() };
        if by.len() != given.len() || by.iter().zip(&given).any(|(d, (g, _))| d != g) {
            return Err(AppError::invalid("cell", "the cell's dimensions must match 'by'"));
        }
        let mut slice = Vec::with_capacity(given.len());
        let mut unknown = false;
        for (d, v) in &given {
            match loaded.key_of(*d, v) {
                Ok(k) => slice.push(k),
                Err(()) => unknown = true,
            }
        }
        let empty = |value: Value| KpiDrill {
            kpi,
            cell: cell.to_string(),
            value,
            numerator: Vec::new(),
            denominator: Vec::new(),
        };
        if unknown {
            return Ok(empty(Value::no_data("no visible records in this slice")));
        }
        let query = kpi::Query {
            kpis: vec![kpi],
            by: by.clone(),
            period: period.kind(),
            from: calendar.start(period),
            to: calendar.end(period),
        };
        let (table, _) = kpi::compute(&loaded.facts, &calendar, &query).map_err(engine_error)?;
        let value =
            table.value(kpi, &slice, period).cloned().unwrap_or_else(|| Value::no_data("no records in this cell"));
        match kpi::drill_down(&loaded.facts, &calendar, kpi, &by, &slice, period) {
            Ok(d) => {
                let records = |v: Vec<RecordRef>| {
                    v.into_iter().map(|record| DrillRecord { record, link: link_of(record) }).collect()
                };
                Ok(KpiDrill {
                    kpi,
                    cell: cell.to_string(),
                    value,
                    numerator: records(d.numerator),
                    denominator: records(d.denominator),
                })
            }
            Err(kpi::KpiError::NoData { .. }) => Ok(empty(value)),
            Err(e) => Err(engine_error(e)),
        }
    }

    /// The funnel and the process map of one pipeline (default: the first) for the opportunities
    /// `p` may see, created in `from ..= to` (either open-ended).
    pub async fn kpi_flow(
        &self,
        p: &Principal,
        pipeline: Option<i64>,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<FlowReport, AppError> {
        let pipelines = self.store.pipeline_list().await?;
        let chosen = match pipeline {
            Some(id) => pipelines
                .iter()
                .find(|p| p.id.0 == id)
                .ok_or_else(|| AppError::invalid("pipeline", format!("no pipeline has the id {id}")))?,
            None => pipelines.first().ok_or(AppError::NotFound)?,
        };
        let loaded = self.kpi_load(&self.viewer(p).await?, Some(chosen.id)).await?;
        let cohort = Cohort { from, to, segment: None };
        let (funnel, mut diagnostics) =
            kpi::funnel(&loaded.stages, &loaded.facts.opportunities, &loaded.changes, &cohort);
        let (map, more) = kpi::process_map(
            &loaded.stages,
            &loaded.facts.opportunities,
            &loaded.changes,
            &cohort,
            &BottleneckRule::default(),
        );
        diagnostics.extend(more);
        let reason_names: HashMap<model::LossReasonId, String> =
            self.store.loss_reasons().await?.into_iter().map(|r| (r.id, r.name)).collect();
        let loss_reasons = (0..loaded.loss_reasons.len() as u32)
            .map(|k| loaded.loss_reasons.label(k).and_then(|id| reason_names.get(id).cloned()).unwrap_or_default())
            .collect();
        Ok(FlowReport {
            pipeline_id: chosen.id.0,
            pipeline_name: chosen.name.clone(),
            pipelines: pipelines.iter().map(|p| (p.id.0, p.name.clone())).collect(),
            from,
            to,
            stages: loaded.stages,
            funnel,
            map,
            loss_reasons,
            diagnostics,
        })
    }
}

/// A value as plain text for CSV: counts and money as they are, ratios as a decimal (8 places);
/// empty for no data.
pub fn plain_value(v: &Value) -> String {
    match v {
        Value::NoData { .. } => String::new(),
        Value::Count { count } => count.to_string(),
        Value::Money { amount } => amount.normalize().to_string(),
        Value::Ratio { ratio } => ratio
            .numerator
            .checked_div(ratio.denominator)
            .map(|d| d.round_dp(8).normalize().to_string())
            .unwrap_or_default(),
    }
}

fn parts(v: &Value) -> (String, String) {
    match v {
        Value::Ratio { ratio } | Value::NoData { ratio: Some(ratio), .. } => {
            (ratio.numerator.normalize().to_string(), ratio.denominator.normalize().to_string())
        }
        _ => (String::new(), String::new()),
    }
}

fn dec(d: Option<Decimal>) -> String {
    d.map(|d| d.round_dp(8).normalize().to_string()).unwrap_or_default()
}

impl KpiReport {
    /// The report as CSV cells: a header and one line per slice × KPI (the total has empty slice
    /// columns), the same for the API and the CLI.
    pub fn csv_rows(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let r = self;
        let mut header: Vec<String> = r.by.iter().map(|d| d.name().to_string()).collect();
        header.extend(
            [
                "period",
                "kpi",
                "value",
                "numerator",
                "denominator",
                "baseline",
                "difference",
                "relative",
                "no_data_reason",
                "cell",
            ]
            .map(String::from),
        );
        let mut lines = Vec::new();
        for row in r.rows.iter().chain(std::iter::once(&r.total)) {
            for c in &row.cells {
                let mut line: Vec<String> = if row.slice.is_empty() {
                    r.by.iter().map(|_| String::new()).collect()
                } else {
                    row.slice.iter().map(|s| s.label.clone()).collect()
                };
                let (n, d) = parts(&c.value);
                let reason = match &c.value {
                    Value::NoData { reason, .. } => reason.to_string(),
                    _ => String::new(),
                };
                line.extend([
                    r.period.to_string(),
                    c.kpi.name().to_string(),
                    plain_value(&c.value),
                    n,
                    d,
                    c.baseline.as_ref().map(plain_value).unwrap_or_default(),
                    dec(c.difference),
                    dec(c.relative),
                    reason,
                    row.cell.clone(),
                ]);
                lines.push(line);
            }
        }
        (header, lines)
    }
}

/// The engine's table for `q`: the requested period and, with a comparison, every period back to
/// the baseline.
fn compute(facts: &Facts, calendar: &FiscalCalendar, q: &KpiQuery) -> Result<(KpiTable, Vec<Diagnostic>), AppError> {
    kpi::compute(facts, calendar, &engine_query(calendar, q)).map_err(engine_error)
}

/// The engine's query for `q`: the requested period and, with a comparison, every period back to
/// the baseline (and the one before the first for revenue growth).
pub(crate) fn engine_query(calendar: &FiscalCalendar, q: &KpiQuery) -> kpi::Query {
    let mut from = calendar.start(q.period);
    match q.compare {
        Some(Baseline::PreviousPeriod) => from = calendar.start(calendar.previous(q.period)),
        Some(Baseline::SamePeriodLastYear) => from = calendar.start(calendar.same_period_last_year(q.period)),
        None => {}
    }
    // Revenue growth needs the period before the first one asked for.
    if q.kpis.contains(&Kpi::RevenueGrowth) {
        let kind = q.period.kind();
        let first = calendar.period_of(from, kind);
        from = calendar.start(calendar.previous(first));
    }
    kpi::Query { kpis: q.kpis.clone(), by: q.by.clone(), period: q.period.kind(), from, to: calendar.end(q.period) }
}

fn compare_pair(current: &Value, base: &Value) -> KpiCell {
    let c = kpi::compare_with_target(current, base.to_decimal().unwrap_or_default());
    let (difference, relative) = if base.is_no_data() { (None, None) } else { (c.difference, c.relative) };
    KpiCell { kpi: Kpi::Revenue, value: current.clone(), baseline: None, difference, relative }
}

pub(crate) fn engine_error(e: kpi::KpiError) -> AppError {
    match e {
        kpi::KpiError::EmptyRange { .. } => AppError::invalid("period", e.to_string()),
        kpi::KpiError::SliceShape { .. } => AppError::invalid("cell", e.to_string()),
        kpi::KpiError::PeriodsDoNotNest { .. } => AppError::invalid("period", e.to_string()),
        kpi::KpiError::NoData { .. } => AppError::invalid("metric", e.to_string()),
    }
}

mod alerts;
pub use alerts::{AlertNotice, AlertReport, AlertRunOutcome, AlertView, DriverView, NoticeRow, parse_as_of};

/// The report of `q` from its computed `table` (rows of the requested period, comparison, total).
fn kpi_report(
    calendar: &FiscalCalendar,
    q: &KpiQuery,
    loaded: &Loaded,
    table: &KpiTable,
    mut diagnostics: Vec<Diagnostic>,
) -> KpiReport {
    diagnostics.splice(0..0, loaded.diagnostics.iter().cloned());
    let baseline_period = q.compare.map(|b| match b {
        Baseline::PreviousPeriod => calendar.previous(q.period),
        Baseline::SamePeriodLastYear => calendar.same_period_last_year(q.period),
    });
    let cells_of = |slice: &[Option<u32>], values: &[Value], base: Option<&[Value]>| -> Vec<KpiCell> {
        q.kpis
            .iter()
            .enumerate()
            .map(|(i, kpi)| {
                let value = values[i].clone();
                match (q.compare, base) {
                    (Some(b), None) => {
                        let c = table.compare(calendar, *kpi, slice, q.period, b);
                        KpiCell {
                            kpi: *kpi,
                            value,
                            baseline: c.as_ref().map(|c| c.baseline.clone()),
                            difference: c.as_ref().and_then(|c| c.difference),
                            relative: c.and_then(|c| c.relative),
                        }
                    }
                    (Some(_), Some(base)) => {
                        let c = compare_pair(&value, &base[i]);
                        KpiCell { kpi: *kpi, value, baseline: Some(base[i].clone()), ..c }
                    }
                    (None, _) => KpiCell { kpi: *kpi, value, baseline: None, difference: None, relative: None },
                }
            })
            .collect()
    };
    let rows = table
        .rows
        .iter()
        .filter(|r| r.period == q.period)
        .map(|r| {
            let slice: Vec<SliceValue> = q.by.iter().zip(&r.slice).map(|(d, k)| loaded.label(*d, *k)).collect();
            KpiRow { cell: cell_address(q.period, &slice), cells: cells_of(&r.slice, &r.values, None), slice }
        })
        .collect();
    let totals = table.totals();
    let total_of = |period: Period| totals.iter().find(|t| t.period == period).map(|t| t.values.clone());
    let current = total_of(q.period)
        .unwrap_or_else(|| q.kpis.iter().map(|_| Value::no_data("no records in this period")).collect());
    let base = baseline_period.map(|b| {
        total_of(b).unwrap_or_else(|| q.kpis.iter().map(|_| Value::no_data("no records in this period")).collect())
    });
    let total =
        KpiRow { slice: Vec::new(), cell: q.period.to_string(), cells: cells_of(&[], &current, base.as_deref()) };
    KpiReport {
        currency: loaded.facts.currency,
        period: q.period,
        from: calendar.start(q.period),
        to: calendar.end(q.period),
        kpis: q.kpis.clone(),
        by: q.by.clone(),
        compare: q.compare,
        baseline_period,
        rows,
        total,
        diagnostics,
    }
}
