//! Commercial records (accounts, opportunities, pipelines), read through the viewer's visibility.
//! A record outside the viewer's visibility is reported as NotFound, exactly like a missing one,
//! so guessing ids reveals nothing.

use serde::Serialize;

use crate::search::{Entity, SearchSql, search_sql};
use crate::sort::{Sort, SortList};
use crate::{
    Arg, Page, Result, Store, StoreError, Viewer, Where, bind_all, count_sql, dispatch, fetch_page, from_micros,
};
use model::{
    Account, AccountId, Currency, ForecastCategory, LossReasonId, Money, Opportunity, OpportunityId, Pipeline,
    PipelineId, RegionId, Stage, StageId, StageKind, TimeZoneName, UserId,
};

#[derive(Debug, Clone, Serialize)]
pub struct AccountRow {
    pub account: Account,
    pub owner_name: String,
    pub region_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpportunityRow {
    pub opportunity: Opportunity,
    pub account_name: String,
    pub owner_name: String,
    pub stage_name: String,
    pub stage_kind: StageKind,
    /// The stage's default probability (used when the opportunity has none of its own).
    pub stage_probability: i32,
    pub loss_reason: Option<String>,
}

impl OpportunityRow {
    /// The win probability in percent: the opportunity's own, else its stage's.
    pub fn probability(&self) -> i32 {
        self.opportunity.probability.unwrap_or(self.stage_probability)
    }
}

#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub q: Option<String>,
    pub owner_id: Option<i64>,
    pub region_id: Option<i64>,
    pub country: Option<String>,
    pub industry: Option<String>,
    /// Explicit order; None: relevance when searching, else by name.
    pub sort: Option<Sort>,
    /// Count every match instead of stopping at [`crate::COUNT_CAP`].
    pub exact_count: bool,
}

#[derive(Debug, Clone, Default)]
pub struct OpportunityFilter {
    pub q: Option<String>,
    pub owner_id: Option<i64>,
    pub account_id: Option<i64>,
    pub stage_id: Option<i64>,
    pub stage_kind: Option<StageKind>,
    pub close_from: Option<jiff::civil::Date>,
    pub close_to: Option<jiff::civil::Date>,
    /// Explicit order; None: relevance when searching, else latest close date first.
    pub sort: Option<Sort>,
    /// Count every match instead of stopping at [`crate::COUNT_CAP`].
    pub exact_count: bool,
}

#[derive(sqlx::FromRow)]
struct ARow {
    id: i64,
    name: String,
    industry: String,
    employees: i64,
    country: String,
    region_id: Option<i64>,
    city: String,
    postal_code: String,
    time_zone: String,
    owner_id: i64,
    parent_id: Option<i64>,
    currency: String,
    created_at: i64,
    external_id: Option<String>,
    domain: Option<String>,
    phone: Option<String>,
    owner_name: String,
    region_name: Option<String>,
}

fn corrupt(what: &str, id: i64) -> impl Fn(model::ValueError) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what} {id}: {e}"))
}

impl ARow {
    fn into_row(self) -> Result<AccountRow> {
        let id = self.id;
        Ok(AccountRow {
            account: Account {
                id: AccountId(id),
                name: self.name,
                industry: self.industry,
                employees: i32::try_from(self.employees).unwrap_or(i32::MAX),
                country: self.country,
                region_id: self.region_id.map(RegionId),
                city: self.city,
                postal_code: self.postal_code,
                time_zone: TimeZoneName::parse(&self.time_zone).map_err(corrupt("account", id))?,
                owner_id: UserId(self.owner_id),
                parent_id: self.parent_id.map(AccountId),
                currency: Currency::parse(&self.currency).map_err(corrupt("account", id))?,
                created_at: from_micros(self.created_at)?,
                external_id: self.external_id,
                domain: self.domain,
                phone: self.phone,
            },
            owner_name: self.owner_name,
            region_name: self.region_name,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ORow {
    id: i64,
    name: String,
    account_id: i64,
    owner_id: i64,
    pipeline_id: i64,
    stage_id: i64,
    amount: String,
    currency: String,
    close_date: String,
    forecast_category: String,
    created_at: i64,
    updated_at: i64,
    external_id: Option<String>,
    probability: Option<i64>,
    loss_reason_id: Option<i64>,
    lead_source: Option<String>,
    next_step: Option<String>,
    engaged_on: Option<String>,
    stage_entered_at: Option<i64>,
    account_name: String,
    owner_name: String,
    stage_name: String,
    stage_kind: String,
    stage_probability: i64,
    loss_reason: Option<String>,
}

impl ORow {
    fn into_row(self) -> Result<OpportunityRow> {
        let id = self.id;
        let c = corrupt("opportunity", id);
        Ok(OpportunityRow {
            opportunity: Opportunity {
                id: OpportunityId(id),
                name: self.name,
                account_id: AccountId(self.account_id),
                owner_id: UserId(self.owner_id),
                pipeline_id: PipelineId(self.pipeline_id),
                stage_id: StageId(self.stage_id),
                amount: Money::parse(&self.amount, &self.currency).map_err(&c)?,
                close_date: self
                    .close_date
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("opportunity {id}: bad close date")))?,
                forecast_category: ForecastCategory::parse(&self.forecast_category).map_err(&c)?,
                created_at: from_micros(self.created_at)?,
                updated_at: from_micros(self.updated_at)?,
                external_id: self.external_id,
                probability: self.probability.map(|p| p as i32),
                loss_reason_id: self.loss_reason_id.map(LossReasonId),
                lead_source: self.lead_source,
                next_step: self.next_step,
                engaged_on: match self.engaged_on {
                    Some(d) => Some(d.parse().map_err(|_| StoreError::Corrupt(format!("opportunity {id}: bad date")))?),
                    None => None,
                },
                stage_entered_at: from_micros(self.stage_entered_at.unwrap_or(self.created_at))?,
            },
            account_name: self.account_name,
            owner_name: self.owner_name,
            stage_name: self.stage_name,
            stage_kind: StageKind::parse(&self.stage_kind).map_err(&c)?,
            stage_probability: self.stage_probability as i32,
            loss_reason: self.loss_reason,
        })
    }
}

const ACCOUNT_COLS: &str = "a.id, a.name, a.industry, a.employees, a.country, a.region_id, a.city, a.postal_code, \
     a.time_zone, a.owner_id, a.parent_id, a.currency, a.created_at, a.external_id, a.domain, a.phone, \
     u.name AS owner_name, r.name AS region_name";
const ACCOUNT_JOINS: &str = "JOIN users u ON u.id = a.owner_id LEFT JOIN regions r ON r.id = a.region_id";
const ACCOUNT_SELECT: &str = "SELECT a.id, a.name, a.industry, a.employees, a.country, a.region_id, a.city, a.postal_code, \
     a.time_zone, a.owner_id, a.parent_id, a.currency, a.created_at, a.external_id, a.domain, a.phone, \
     u.name AS owner_name, r.name AS region_name \
     FROM accounts a JOIN users u ON u.id = a.owner_id LEFT JOIN regions r ON r.id = a.region_id";

const OPPORTUNITY_COLS: &str = "o.id, o.name, o.account_id, o.owner_id, o.pipeline_id, o.stage_id, o.amount, \
     o.currency, o.close_date, o.forecast_category, o.created_at, o.updated_at, o.external_id, o.probability, \
     o.loss_reason_id, o.lead_source, o.next_step, o.engaged_on, o.stage_entered_at, a.name AS account_name, \
     u.name AS owner_name, s.name AS stage_name, s.kind AS stage_kind, s.probability AS stage_probability, \
     lr.name AS loss_reason";
const OPPORTUNITY_JOINS: &str = "JOIN accounts a ON a.id = o.account_id JOIN users u ON u.id = o.owner_id \
     JOIN stages s ON s.id = o.stage_id LEFT JOIN loss_reasons lr ON lr.id = o.loss_reason_id";

fn opportunity_select() -> String {
    format!("SELECT {OPPORTUNITY_COLS} FROM opportunities o {OPPORTUNITY_JOINS}")
}

/// A list query under construction: the search prefix and join, the WHERE and the ORDER BY.
pub(crate) struct ListQuery {
    pub w: Where,
    pub search: SearchSql,
    pub order: String,
}

impl ListQuery {
    /// `base` is "table alias", `joins` the joins the columns and the order need.
    pub fn page_sql(&self, cols: &str, base: &str, joins: &str, limit: i64, offset: i64) -> String {
        let SearchSql { with, join } = &self.search;
        format!(
            "{with}SELECT {cols} FROM {base} {join} {joins} WHERE {} ORDER BY {} LIMIT {limit} OFFSET {offset}",
            self.w.sql(),
            self.order
        )
    }
    pub fn count_sql(&self, base: &str, exact: bool) -> String {
        let SearchSql { with, join } = &self.search;
        format!("{with}{}", count_sql(&format!("{base} {join} WHERE {}", self.w.sql()), exact))
    }
    /// Every matching id in list order (exports fetch the rows in chunks by id).
    pub fn ids_sql(&self, id: &str, base: &str, joins: &str) -> String {
        let SearchSql { with, join } = &self.search;
        format!("{with}SELECT {id} FROM {base} {join} {joins} WHERE {} ORDER BY {}", self.w.sql(), self.order)
    }
}

/// The ORDER BY of a list: the explicit sort, else relevance when searching, else `default`.
pub(crate) fn list_order(list: SortList, sort: &Option<Sort>, search: Option<&SearchSql>, default: &str) -> String {
    let id = match list {
        SortList::Accounts => "a.id",
        SortList::Opportunities => "o.id",
        SortList::Contacts => "c.id",
        SortList::Leads => "l.id",
    };
    match (sort, search) {
        (Some(s), _) => list.order_by(s),
        // Ranked by relevance where the search brings a score (not on opportunities).
        (None, Some(s)) if !s.with.is_empty() => format!("COALESCE(h.score, 0) DESC, {id} ASC"),
        (None, _) => default.to_string(),
    }
}

/// Rows of `ids` in the order given, fetched through `fetch` (which applies visibility);
/// ids that are no longer visible or gone are skipped.
pub(crate) fn in_order<T>(ids: &[i64], rows: Vec<T>, id_of: impl Fn(&T) -> i64) -> Vec<T> {
    let mut by_id: std::collections::HashMap<i64, T> = rows.into_iter().map(|r| (id_of(&r), r)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

impl Store {
    pub async fn account_list(
        &self,
        viewer: &Viewer,
        f: &AccountFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<AccountRow>> {
        let l = self.account_query(viewer, f);
        let sql = l.page_sql(ACCOUNT_COLS, "accounts a", ACCOUNT_JOINS, limit, offset);
        let count_sql = l.count_sql("accounts a", f.exact_count);
        let (rows, counted): (Vec<ARow>, i64) = fetch_page!(self, ARow, &sql, &count_sql, l.w.args);
        let items = rows.into_iter().map(ARow::into_row).collect::<Result<_>>()?;
        Ok(Page::new(items, counted, f.exact_count, limit, offset))
    }

    fn account_query(&self, viewer: &Viewer, f: &AccountFilter) -> ListQuery {
        let mut w = Where::default();
        w.visible("a.owner_id", viewer);
        let search = search_sql(self.backend(), Entity::Accounts, "a", f.q.as_deref(), &mut w);
        if let Some(v) = f.owner_id {
            let p = w.arg(Arg::I64(v));
            w.push(format!("a.owner_id = {p}"));
        }
        if let Some(v) = f.region_id {
            let p = w.arg(Arg::I64(v));
            w.push(format!("a.region_id = {p}"));
        }
        if let Some(v) = &f.country {
            let p = w.arg(Arg::Text(v.to_uppercase()));
            w.push(format!("a.country = {p}"));
        }
        if let Some(v) = &f.industry {
            let p = w.arg(Arg::Text(v.clone()));
            w.push(format!("a.industry = {p}"));
        }
        let order = list_order(SortList::Accounts, &f.sort, search.as_ref(), "a.name ASC, a.id ASC");
        ListQuery { w, search: search.unwrap_or_default(), order }
    }

    /// Every account id of a filtered list, in its order (for exports).
    pub async fn account_ids(&self, viewer: &Viewer, f: &AccountFilter) -> Result<Vec<i64>> {
        let l = self.account_query(viewer, f);
        let sql = l.ids_sql("a.id", "accounts a", ACCOUNT_JOINS);
        Ok(dispatch!(self, p => bind_all!(sqlx::query_scalar::<_, i64>(&sql), l.w.args).fetch_all(p).await?))
    }

    /// The visible accounts among `ids`, in the order of `ids`.
    pub async fn accounts_by_ids(&self, viewer: &Viewer, ids: &[i64]) -> Result<Vec<AccountRow>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut w = Where::default();
        w.visible("a.owner_id", viewer);
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        w.push(format!("a.id IN ({list})"));
        let sql = format!("{ACCOUNT_SELECT} WHERE {}", w.sql());
        let rows: Vec<ARow> =
            dispatch!(self, p => bind_all!(sqlx::query_as::<_, ARow>(&sql), w.args).fetch_all(p).await?);
        let rows = rows.into_iter().map(ARow::into_row).collect::<Result<Vec<_>>>()?;
        Ok(in_order(ids, rows, |r| r.account.id.0))
    }

    pub async fn account_get(&self, viewer: &Viewer, id: AccountId) -> Result<AccountRow> {
        let mut w = Where::default();
        let p = w.arg(Arg::I64(id.0));
        w.push(format!("a.id = {p}"));
        w.visible("a.owner_id", viewer);
        let sql = format!("{ACCOUNT_SELECT} WHERE {}", w.sql());
        let row: ARow = dispatch!(self, p => bind_all!(sqlx::query_as::<_, ARow>(&sql), w.args).fetch_one(p).await?);
        row.into_row()
    }

    pub async fn opportunity_list(
        &self,
        viewer: &Viewer,
        f: &OpportunityFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<OpportunityRow>> {
        let l = self.opportunity_query(viewer, f);
        let sql = l.page_sql(OPPORTUNITY_COLS, "opportunities o", OPPORTUNITY_JOINS, limit, offset);
        let count_sql = l.count_sql("opportunities o", f.exact_count);
        let (rows, counted): (Vec<ORow>, i64) = fetch_page!(self, ORow, &sql, &count_sql, l.w.args);
        let items = rows.into_iter().map(ORow::into_row).collect::<Result<_>>()?;
        Ok(Page::new(items, counted, f.exact_count, limit, offset))
    }

    pub(crate) fn opportunity_query(&self, viewer: &Viewer, f: &OpportunityFilter) -> ListQuery {
        let (w, search) = opportunity_where(self.backend(), viewer, f);
        let order = list_order(SortList::Opportunities, &f.sort, search.as_ref(), "o.close_date DESC, o.id DESC");
        ListQuery { w, search: search.unwrap_or_default(), order }
    }

    /// Amount and close date of every opportunity of a filtered list (for its total).
    pub async fn opportunity_amounts(&self, viewer: &Viewer, f: &OpportunityFilter) -> Result<Vec<OpenAmount>> {
        let l = self.opportunity_query(viewer, f);
        let SearchSql { with, join } = &l.search;
        let sql =
            format!("{with}SELECT o.amount, o.currency, o.close_date FROM opportunities o {join} WHERE {}", l.w.sql());
        let rows: Vec<(String, String, String)> = dispatch!(self, p => bind_all!(sqlx::query_as::<_, (String, String, String)>(&sql), l.w.args).fetch_all(p).await?);
        rows.into_iter()
            .map(|(a, c, d)| {
                Ok(OpenAmount {
                    amount: Money::parse(&a, &c).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    close_date: d.parse().map_err(|_| StoreError::Corrupt(format!("bad date {d}")))?,
                })
            })
            .collect()
    }

    /// Every opportunity id of a filtered list, in its order (for exports).
    pub async fn opportunity_ids(&self, viewer: &Viewer, f: &OpportunityFilter) -> Result<Vec<i64>> {
        let l = self.opportunity_query(viewer, f);
        let sql = l.ids_sql("o.id", "opportunities o", OPPORTUNITY_JOINS);
        Ok(dispatch!(self, p => bind_all!(sqlx::query_scalar::<_, i64>(&sql), l.w.args).fetch_all(p).await?))
    }

    /// The visible opportunities among `ids`, in the order of `ids`.
    pub async fn opportunities_by_ids(&self, viewer: &Viewer, ids: &[i64]) -> Result<Vec<OpportunityRow>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut w = Where::default();
        w.visible("o.owner_id", viewer);
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        w.push(format!("o.id IN ({list})"));
        let sql = format!("{} WHERE {}", opportunity_select(), w.sql());
        let rows: Vec<ORow> =
            dispatch!(self, p => bind_all!(sqlx::query_as::<_, ORow>(&sql), w.args).fetch_all(p).await?);
        let rows = rows.into_iter().map(ORow::into_row).collect::<Result<Vec<_>>>()?;
        Ok(in_order(ids, rows, |r| r.opportunity.id.0))
    }

    pub async fn opportunity_get(&self, viewer: &Viewer, id: OpportunityId) -> Result<OpportunityRow> {
        let mut w = Where::default();
        let p = w.arg(Arg::I64(id.0));
        w.push(format!("o.id = {p}"));
        w.visible("o.owner_id", viewer);
        let sql = format!("{} WHERE {}", opportunity_select(), w.sql());
        let row: ORow = dispatch!(self, p => bind_all!(sqlx::query_as::<_, ORow>(&sql), w.args).fetch_one(p).await?);
        row.into_row()
    }

    /// Opportunities matching a condition built by the store itself (never from user input).
    pub(crate) async fn opportunity_rows_where(&self, cond: &str) -> Result<Vec<OpportunityRow>> {
        let sql = format!("{} WHERE {cond}", opportunity_select());
        let rows: Vec<ORow> = dispatch!(self, p => sqlx::query_as::<_, ORow>(&sql).fetch_all(p).await?);
        rows.into_iter().map(ORow::into_row).collect()
    }

    /// Accounts matching a condition built by the store itself (never from user input).
    pub(crate) async fn account_rows_where(&self, cond: &str) -> Result<Vec<AccountRow>> {
        let sql = format!("{ACCOUNT_SELECT} WHERE {cond}");
        let rows: Vec<ARow> = dispatch!(self, p => sqlx::query_as::<_, ARow>(&sql).fetch_all(p).await?);
        rows.into_iter().map(ARow::into_row).collect()
    }

    pub async fn pipeline_list(&self) -> Result<Vec<Pipeline>> {
        let pipes: Vec<(i64, String, String)> = dispatch!(self, p => sqlx::query_as("SELECT id, name, methodology FROM pipelines ORDER BY id").fetch_all(p).await?);
        let criteria: Vec<(i64, i64, String, String)> = dispatch!(self, p => sqlx::query_as(
            "SELECT id, pipeline_id, key, label FROM scorecard_criteria ORDER BY pipeline_id, position, id").fetch_all(p).await?);
        #[allow(clippy::type_complexity)] // a plain row tuple, named right below
        let stages: Vec<(i64, i64, String, i64, i64, String, String)> = dispatch!(self, p => sqlx::query_as(
            "SELECT id, pipeline_id, name, position, probability, kind, exit_criteria FROM stages ORDER BY pipeline_id, position").fetch_all(p).await?);
        let mut out: Vec<Pipeline> = pipes
            .into_iter()
            .map(|(id, name, methodology)| Pipeline {
                id: PipelineId(id),
                name,
                stages: vec![],
                methodology,
                criteria: vec![],
            })
            .collect();
        for (id, pipeline_id, key, label) in criteria {
            if let Some(pl) = out.iter_mut().find(|p| p.id.0 == pipeline_id) {
                pl.criteria.push(model::Criterion { id, key, label });
            }
        }
        for (id, pipeline_id, name, position, probability, kind, exit) in stages {
            let kind = StageKind::parse(&kind).map_err(corrupt("stage", id))?;
            if let Some(pl) = out.iter_mut().find(|p| p.id.0 == pipeline_id) {
                pl.stages.push(Stage {
                    id: StageId(id),
                    pipeline_id: PipelineId(pipeline_id),
                    name,
                    position: position as i32,
                    probability: probability as i32,
                    kind,
                    exit_criteria: Stage::parse_exit_criteria(&exit).map_err(corrupt("stage", id))?,
                });
            }
        }
        Ok(out)
    }

    /// Counts of records per table, for the admin overview and the demo summary.
    pub async fn record_counts(&self) -> Result<Vec<(&'static str, i64)>> {
        let mut out = vec![];
        for t in ["users", "teams", "regions", "accounts", "opportunities", "audit_log"] {
            let sql = format!("SELECT COUNT(*) FROM {t}");
            let n: i64 = dispatch!(self, p => sqlx::query_scalar(&sql).fetch_one(p).await?);
            out.push((t, n));
        }
        Ok(out)
    }
}

/// Open opportunities of the visible set, reduced to what the home page sums.
#[derive(Debug, Clone)]
pub struct OpenAmount {
    pub amount: Money,
    pub close_date: jiff::civil::Date,
}

impl Store {
    pub async fn open_amounts(&self, viewer: &Viewer) -> Result<Vec<OpenAmount>> {
        let mut w = Where::default();
        w.visible("o.owner_id", viewer);
        w.push("o.stage_id IN (SELECT id FROM stages WHERE kind = 'open')".into());
        let sql = format!("SELECT o.amount, o.currency, o.close_date FROM opportunities o WHERE {}", w.sql());
        let rows: Vec<(String, String, String)> = dispatch!(self, p => bind_all!(sqlx::query_as::<_, (String, String, String)>(&sql), w.args).fetch_all(p).await?);
        rows.into_iter()
            .map(|(a, c, d)| {
                Ok(OpenAmount {
                    amount: Money::parse(&a, &c).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    close_date: d.parse().map_err(|_| StoreError::Corrupt(format!("bad date {d}")))?,
                })
            })
            .collect()
    }

    pub async fn account_count(&self, viewer: &Viewer) -> Result<i64> {
        let mut w = Where::default();
        w.visible("a.owner_id", viewer);
        let sql = format!("SELECT COUNT(*) FROM accounts a WHERE {}", w.sql());
        Ok(dispatch!(self, p => bind_all!(sqlx::query_scalar::<_, i64>(&sql), w.args).fetch_one(p).await?))
    }
}

/// The filter of an opportunity list as SQL on `opportunities o`, within the viewer's
/// visibility, with the search's prefix and join when there is a search.
pub(crate) fn opportunity_where(
    backend: crate::Backend,
    viewer: &Viewer,
    f: &OpportunityFilter,
) -> (Where, Option<SearchSql>) {
    let mut w = Where::default();
    w.visible("o.owner_id", viewer);
    let search = search_sql(backend, Entity::Opportunities, "o", f.q.as_deref(), &mut w);
    if let Some(v) = f.owner_id {
        let p = w.arg(Arg::I64(v));
        w.push(format!("o.owner_id = {p}"));
    }
    if let Some(v) = f.account_id {
        let p = w.arg(Arg::I64(v));
        w.push(format!("o.account_id = {p}"));
    }
    if let Some(v) = f.stage_id {
        let p = w.arg(Arg::I64(v));
        w.push(format!("o.stage_id = {p}"));
    }
    if let Some(k) = f.stage_kind {
        let p = w.arg(Arg::Text(k.as_str().into()));
        w.push(format!("o.stage_id IN (SELECT id FROM stages WHERE kind = {p})"));
    }
    if let Some(d) = f.close_from {
        let p = w.arg(Arg::Text(d.to_string()));
        w.push(format!("o.close_date >= {p}"));
    }
    if let Some(d) = f.close_to {
        let p = w.arg(Arg::Text(d.to_string()));
        w.push(format!("o.close_date <= {p}"));
    }
    (w, search)
}
