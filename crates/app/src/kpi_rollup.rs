//! KPI rollups (issue 5, "Scale"): the refresh of the stored daily cells and the KPI tables read
//! from them.
//!
//! Every write that can change a cell marks its owner dirty in the same transaction (database
//! triggers, migration 0012). Before a read, [`App::kpi_rollups_refresh`] recomputes the cells of
//! the dirty owners from their records with the same [`FactsBuilder`] as the raw path (dated FX,
//! company days) and [`kpi::daily::daily_cells`], and replaces them in one transaction. More than
//! [`FULL_REBUILD_ABOVE`] dirty owners, or a company-wide change (owner 0: FX rates, stages,
//! product families, reporting currency, time zone), rebuild everything in one pass (bulk loads,
//! imports and restores end up here). Refreshes are serialised by a database job lock.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use kpi::daily::{Bucket, BucketCell, DailyCounts};
use kpi::facts::{DenseKeys, NONE};
use kpi::{FactsBuilder, KpiTable};
use model::{FiscalCalendar, UserId, Visibility};
use store::{RollupCell, RollupDims, RollupMonth, RollupSum, Viewer};

use crate::kpi::{KpiQuery, Loaded, engine_query};
use crate::{App, AppError};

/// What every rollup query reads besides the cells, loaded once per page by the dashboard.
pub(crate) struct RollupShared {
    currency: model::Currency,
    fx: model::FxTable,
    zone: jiff::tz::TimeZone,
    users: Vec<model::User>,
    team_names: HashMap<model::TeamId, String>,
    region_names: HashMap<model::RegionId, String>,
}

/// Above this many dirty owners the refresh rebuilds every owner in one pass.
pub const FULL_REBUILD_ABOVE: usize = 100;

const PAGE: i64 = 4_000;
const LOCK: &str = "kpi_rollups";

/// Serialises refreshes within one process (the job lock does it across processes).
static REFRESH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshSummary {
    /// Owners recomputed (0 when nothing was dirty).
    pub owners: usize,
    pub full: bool,
    pub cells: usize,
}

fn to_array(c: &DailyCounts) -> [i64; 16] {
    let u = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    [
        u(c.created),
        u(c.created_won),
        u(c.won),
        u(c.lost),
        c.won_amount,
        c.cycle_days,
        u(c.cycle_count),
        c.pipeline_in,
        c.pipeline_out,
        u(c.activities),
        u(c.calls),
        u(c.talk_seconds),
        u(c.emails),
        u(c.meetings),
        u(c.visits),
        u(c.visit_sales),
    ]
}

fn from_array(a: &[i64; 16]) -> DailyCounts {
    let u = |n: i64| u64::try_from(n).unwrap_or(0);
    DailyCounts {
        created: u(a[0]),
        created_won: u(a[1]),
        won: u(a[2]),
        lost: u(a[3]),
        won_amount: a[4],
        cycle_days: a[5],
        cycle_count: u(a[6]),
        pipeline_in: a[7],
        pipeline_out: a[8],
        activities: u(a[9]),
        calls: u(a[10]),
        talk_seconds: u(a[11]),
        emails: u(a[12]),
        meetings: u(a[13]),
        visits: u(a[14]),
        visit_sales: u(a[15]),
    }
}

impl App {
    /// Brings the rollups up to date with every committed write (see the module doc).
    pub async fn kpi_rollups_refresh(&self) -> Result<RefreshSummary, AppError> {
        if self.store.kpi_rollup_dirty().await?.is_empty() {
            return Ok(RefreshSummary::default());
        }
        let _one = REFRESH.lock().await;
        let holder = crate::random_hex(12)?;
        let mut waited = 0;
        while !self
            .store
            .job_lock_acquire(LOCK, &holder, self.now(), self.now() + jiff::SignedDuration::from_mins(30))
            .await?
        {
            if waited >= 6_000 {
                return Err(AppError::Internal("the KPI rollups are being refreshed elsewhere for too long".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += 1;
        }
        let result = self.refresh_locked().await;
        self.store.job_lock_release(LOCK, &holder).await?;
        result
    }

    async fn refresh_locked(&self) -> Result<RefreshSummary, AppError> {
        let dirty = self.store.kpi_rollup_dirty().await?;
        if dirty.is_empty() {
            return Ok(RefreshSummary::default());
        }
        let full = dirty.len() > FULL_REBUILD_ABOVE || dirty.iter().any(|(o, _)| *o == 0);
        let owners: Vec<i64> = dirty.iter().map(|(o, _)| *o).filter(|o| *o != 0).collect();
        let viewer = if full {
            Viewer { user_id: UserId(0), visibility: Visibility::All, subtree: None }
        } else {
            Viewer { user_id: UserId(0), visibility: Visibility::Subtree, subtree: Some(owners.clone().into()) }
        };
        let store = &self.store;
        let currency = store.reporting_currency().await?;
        let fx = store.fx_table().await?;
        let zone = self.company_zone().await?;
        let mut b = FactsBuilder::new(currency, &fx, zone);
        self.add_users(&mut b).await?;
        let mut after = 0;
        loop {
            let page = store.kpi_opportunity_page(&viewer, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.opportunity.id.0;
            for o in &page {
                let labels = kpi::build::OpportunityLabels {
                    territory: None,
                    product_line: o.product_line.as_deref(),
                    segment: o.segment.as_deref(),
                };
                b.add_opportunity(&o.opportunity, o.stage_kind, labels);
            }
        }
        let mut after = 0;
        loop {
            let page = store.kpi_activity_page(&viewer, after, PAGE * 2).await?;
            let Some(last) = page.last() else { break };
            after = last.id.0;
            for a in &page {
                b.add_activity(a, None);
            }
        }
        let (facts, _, _, _) = b.build();
        let daily = kpi::daily::daily_cells(&facts);
        let label = |keys: &DenseKeys<String>, k: u16| {
            if k == NONE { String::new() } else { keys.label(u32::from(k)).cloned().unwrap_or_default() }
        };
        let mut months: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
        let mut cells = Vec::with_capacity(daily.len());
        for (key, counts) in &daily {
            let owner = facts.reps[key.rep as usize].id.0;
            let day = key.day.to_string();
            let month = months.entry((owner, day[..7].to_string())).or_default();
            month.0 += i64::try_from(counts.created).unwrap_or(i64::MAX);
            month.1 += counts.pipeline_in - counts.pipeline_out;
            cells.push(RollupCell {
                owner_id: owner,
                day,
                product_line: label(&b.product_lines, key.product_line),
                source: label(&b.sources, key.source),
                segment: label(&b.segments, key.segment),
                counts: to_array(counts),
            });
        }
        let months = months
            .into_iter()
            .filter(|(_, (created, net))| *created != 0 || *net != 0)
            .map(|((owner_id, month), (created, pipeline_net))| RollupMonth { owner_id, month, created, pipeline_net })
            .collect();
        let summary =
            RefreshSummary { owners: if full { facts.reps.len() } else { owners.len() }, full, cells: cells.len() };
        store.kpi_rollup_replace(if full { None } else { Some(&owners) }, cells, months, &dirty).await?;
        Ok(summary)
    }

    /// Adds every user to the builder (in the same order as the raw path, so dense keys agree).
    pub(crate) async fn add_users(&self, b: &mut FactsBuilder<'_>) -> Result<HashMap<UserId, String>, AppError> {
        let mut names = HashMap::new();
        for user in self.all_users().await? {
            b.add_user(&user);
            names.insert(user.id, user.name);
        }
        Ok(names)
    }

    /// `q` computed from the rollups over what `viewer` may see (after a refresh), with the
    /// labels of its slices. Only for queries [`kpi::daily::supports`].
    pub(crate) async fn kpi_from_rollups(
        &self,
        viewer: &Viewer,
        calendar: &FiscalCalendar,
        q: &KpiQuery,
    ) -> Result<(Loaded, KpiTable), AppError> {
        self.kpi_rollup_query(viewer, calendar, &engine_query(calendar, q)).await
    }

    /// `kpis` for the company (what `p` may see) in every period of `kind` from `from` to `to`,
    /// from the rollups: one total row per period, for trend charts.
    pub async fn kpi_series(
        &self,
        p: &crate::Principal,
        kpis: &[kpi::Kpi],
        by: &[kpi::Dimension],
        kind: model::PeriodKind,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<KpiTable, AppError> {
        if !kpi::daily::supports(kpis, by) {
            return Err(AppError::invalid("metric", "these KPIs are not kept in the rollups"));
        }
        let calendar = self.fiscal_calendar().await?;
        let viewer = self.viewer(p).await?;
        let kq = kpi::Query { kpis: kpis.to_vec(), by: by.to_vec(), period: kind, from, to };
        Ok(self.kpi_rollup_query(&viewer, &calendar, &kq).await?.1)
    }

    async fn kpi_rollup_query(
        &self,
        viewer: &Viewer,
        calendar: &FiscalCalendar,
        kq: &kpi::Query,
    ) -> Result<(Loaded, KpiTable), AppError> {
        let shared = self.rollup_shared().await?;
        self.kpi_rollup_query_with(&shared, viewer, calendar, kq).await
    }

    /// Refreshes the rollups, then loads what every rollup query reads besides the cells: the
    /// reporting currency, FX table, company zone, users, teams and regions.
    pub(crate) async fn rollup_shared(&self) -> Result<RollupShared, AppError> {
        self.kpi_rollups_refresh().await?;
        let store = &self.store;
        let users = self.all_users().await?;
        Ok(RollupShared {
            currency: store.reporting_currency().await?,
            fx: store.fx_table().await?,
            zone: self.company_zone().await?,
            users,
            team_names: store.team_list().await?.into_iter().map(|t| (t.id, t.name)).collect(),
            region_names: store.region_list().await?.into_iter().map(|r| (r.id, r.name)).collect(),
        })
    }

    /// [`kpi_rollup_query`](Self::kpi_rollup_query) with the shared loads done once beforehand
    /// (the dashboard runs several queries per page).
    pub(crate) async fn kpi_rollup_query_with(
        &self,
        shared: &RollupShared,
        viewer: &Viewer,
        calendar: &FiscalCalendar,
        kq: &kpi::Query,
    ) -> Result<(Loaded, KpiTable), AppError> {
        let store = &self.store;
        let currency = shared.currency;
        let mut b = FactsBuilder::new(currency, &shared.fx, shared.zone.clone());
        let mut user_names = HashMap::new();
        for user in &shared.users {
            user_names.insert(user.id, user.name.clone());
            b.add_user(user);
        }
        let q = kq;
        let periods = calendar.periods_between(kq.from, kq.to, kq.period);
        let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
            return Err(AppError::invalid("period", "the period has no days"));
        };
        let starts: Vec<String> = periods.iter().map(|p| calendar.start(*p).to_string()).collect();
        let from = calendar.start(*first).to_string();
        let end = calendar.end(*last).to_string();
        let dims = RollupDims {
            product_line: q.by.contains(&kpi::Dimension::ProductLine),
            source: q.by.contains(&kpi::Dimension::Source),
            segment: q.by.contains(&kpi::Dimension::Segment),
        };
        let mut sums: Vec<RollupSum> = store.kpi_rollup_range(viewer, &starts, &end, dims).await?;
        let after = periods.len() as i64;
        if dims.product_line || dims.source || dims.segment {
            sums.extend(store.kpi_rollup_outside(viewer, &from, &end, after, dims).await?);
        } else {
            for (owner_id, created, net) in store.kpi_rollup_owner_totals(viewer, &from[..7], &from).await? {
                let mut counts = [0i64; 16];
                counts[0] = created;
                counts[7] = net;
                sums.push(RollupSum {
                    bucket: -1,
                    owner_id,
                    product_line: String::new(),
                    source: String::new(),
                    segment: String::new(),
                    counts,
                });
            }
        }
        let small = |keys: &mut DenseKeys<String>, label: &str| {
            if label.is_empty() { NONE } else { keys.small_key(&label.to_string()).unwrap_or(NONE) }
        };
        let mut cells = Vec::with_capacity(sums.len());
        for s in &sums {
            let Some(rep) = b.reps.get(&UserId(s.owner_id)) else { continue };
            let bucket = match s.bucket {
                -1 => Bucket::Before,
                n if n >= after => Bucket::After,
                n => Bucket::Period(n as u32),
            };
            cells.push(BucketCell {
                bucket,
                rep,
                product_line: small(&mut b.product_lines, &s.product_line),
                source: small(&mut b.sources, &s.source),
                segment: small(&mut b.segments, &s.segment),
                counts: from_array(&s.counts),
            });
        }
        let counts = [b.product_lines.len() as u64, b.sources.len() as u64, b.segments.len() as u64];
        let (facts, _, _, _) = b.build();
        let table = kpi::daily::compute_from_cells(&facts.reps, counts, currency, calendar, kq, &cells)
            .map_err(crate::kpi::engine_error)?;
        let loaded = Loaded::from_builder_with(
            facts,
            &mut b,
            user_names,
            shared.team_names.clone(),
            shared.region_names.clone(),
        );
        Ok((loaded, table))
    }
}
