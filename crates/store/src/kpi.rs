//! The records the KPI engine reads (A1, A3, A5), page by page in id order so that a million
//! opportunities never sit in memory as rows and model records at once. Every loader applies the
//! caller's visibility: a rep loads only their own records; quotes, orders and stage changes are
//! visible with their opportunity.

use std::collections::HashMap;

use jiff::civil::Date;
use model::{
    AccountId, Activity, Currency, InstallationStatus, Lead, Money, Opportunity, OpportunityId, Order, OrderId, Quote,
    QuoteId, QuoteStatus, StageChange, StageId, StageKind, UserId,
};
use rust_decimal::Decimal;

use crate::{Arg, Result, Store, StoreError, Viewer, Where, bind_all, dispatch, from_micros};

/// An opportunity with the labels the KPI slices need that live outside the opportunity row.
#[derive(Debug, Clone)]
pub struct KpiOpportunity {
    pub opportunity: Opportunity,
    pub stage_kind: StageKind,
    /// The account's industry (the segment of the KPI slices).
    pub segment: Option<String>,
    /// The product line (product family) of the first line, if the opportunity has lines.
    pub product_line: Option<String>,
}

/// A lead and whether its status history ever reached qualified or converted.
#[derive(Debug, Clone)]
pub struct KpiLead {
    pub lead: Lead,
    pub ever_qualified: bool,
}

#[derive(sqlx::FromRow)]
struct OpportunityExtra {
    id: i64,
    stage_kind: String,
    segment: Option<String>,
    product_line: Option<String>,
}

#[derive(sqlx::FromRow)]
struct QuoteFactRow {
    id: i64,
    opportunity_id: i64,
    owner_id: i64,
    number: String,
    status: String,
    amount: String,
    currency: String,
    created_at: i64,
    sent_at: Option<i64>,
    answered_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct OrderFactRow {
    id: i64,
    opportunity_id: i64,
    account_id: i64,
    owner_id: i64,
    number: String,
    amount: String,
    currency: String,
    ordered_on: String,
    installation_status: String,
    installation_date: Option<String>,
    failed_installations: i64,
    cancelled_at: Option<i64>,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct StageChangeRow {
    id: i64,
    opportunity_id: i64,
    from_stage_id: Option<i64>,
    to_stage_id: i64,
    at: i64,
}

fn corrupt(what: &str, id: i64) -> StoreError {
    StoreError::Corrupt(format!("{what} of record {id}"))
}

fn money(amount: &str, currency: &str, id: i64) -> Result<Money> {
    let amount: Decimal = amount.parse().map_err(|_| corrupt("amount", id))?;
    let currency = Currency::parse(currency).map_err(|_| corrupt("currency", id))?;
    Ok(Money::new(amount, currency))
}

fn date(text: &str, id: i64) -> Result<Date> {
    text.parse().map_err(|_| corrupt("date", id))
}

impl Store {
    /// The ids of the next `limit` records of `table` (alias `alias`, visible through
    /// `owner_column`, joined by `joins`) after id `after`, in id order.
    async fn kpi_ids(
        &self,
        viewer: &Viewer,
        (table, alias): (&str, &str),
        joins: &str,
        owner_column: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<i64>> {
        let mut w = Where::default();
        w.visible(owner_column, viewer);
        let p = w.arg(Arg::I64(after));
        w.push(format!("{alias}.id > {p}"));
        let sql = format!(
            "SELECT {alias}.id FROM {table} {alias} {joins} WHERE {} ORDER BY {alias}.id LIMIT {limit}",
            w.sql()
        );
        Ok(dispatch!(self, p => bind_all!(sqlx::query_scalar::<_, i64>(&sql), w.args).fetch_all(p).await?))
    }

    /// The next `limit` visible opportunities after id `after`, with their stage kind, segment and
    /// product line. An empty page means the end.
    pub async fn kpi_opportunity_page(&self, viewer: &Viewer, after: i64, limit: i64) -> Result<Vec<KpiOpportunity>> {
        let ids = self.kpi_ids(viewer, ("opportunities", "o"), "", "o.owner_id", after, limit).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!(
            "SELECT o.id, s.kind AS stage_kind, a.industry AS segment, \
             (SELECT p.family FROM opportunity_lines l JOIN products p ON p.id = l.product_id \
              WHERE l.opportunity_id = o.id ORDER BY l.position LIMIT 1) AS product_line \
             FROM opportunities o JOIN stages s ON s.id = o.stage_id JOIN accounts a ON a.id = o.account_id \
             WHERE o.id IN ({list})"
        );
        let extras: Vec<OpportunityExtra> =
            dispatch!(self, p => sqlx::query_as::<_, OpportunityExtra>(&sql).fetch_all(p).await?);
        let mut extras: HashMap<i64, OpportunityExtra> = extras.into_iter().map(|e| (e.id, e)).collect();
        let mut records = self.opportunities_by_id(&ids).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (Some(opportunity), Some(extra)) = (records.remove(&id), extras.remove(&id)) else { continue };
            let stage_kind = StageKind::parse(&extra.stage_kind).map_err(|_| corrupt("stage kind", id))?;
            out.push(KpiOpportunity {
                opportunity,
                stage_kind,
                segment: extra.segment.filter(|s| !s.is_empty()),
                product_line: extra.product_line.filter(|s| !s.is_empty()),
            });
        }
        Ok(out)
    }

    /// The next `limit` visible activities after id `after`.
    pub async fn kpi_activity_page(&self, viewer: &Viewer, after: i64, limit: i64) -> Result<Vec<Activity>> {
        let ids = self.kpi_ids(viewer, ("activities", "t"), "", "t.owner_id", after, limit).await?;
        let mut records = self.activities_by_id(&ids).await?;
        Ok(ids.iter().filter_map(|id| records.remove(id)).collect())
    }

    /// The next `limit` visible leads after id `after`, with "ever qualified" from their history.
    pub async fn kpi_lead_page(&self, viewer: &Viewer, after: i64, limit: i64) -> Result<Vec<KpiLead>> {
        let ids = self.kpi_ids(viewer, ("leads", "l"), "", "l.owner_id", after, limit).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!(
            "SELECT DISTINCT lead_id FROM lead_history WHERE lead_id IN ({list}) \
             AND to_status IN ('qualified', 'converted')"
        );
        let qualified: Vec<i64> = dispatch!(self, p => sqlx::query_scalar::<_, i64>(&sql).fetch_all(p).await?);
        let qualified: std::collections::HashSet<i64> = qualified.into_iter().collect();
        let mut records = self.leads_by_id(&ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| Some(KpiLead { lead: records.remove(id)?, ever_qualified: qualified.contains(id) }))
            .collect())
    }

    /// The next `limit` quotes of visible opportunities after id `after` (without their lines).
    pub async fn kpi_quote_page(&self, viewer: &Viewer, after: i64, limit: i64) -> Result<Vec<Quote>> {
        let mut w = Where::default();
        w.visible("o.owner_id", viewer);
        let p = w.arg(Arg::I64(after));
        w.push(format!("q.id > {p}"));
        let sql = format!(
            "SELECT q.id, q.opportunity_id, q.owner_id, q.number, q.status, q.amount, q.currency, q.created_at, \
             q.sent_at, q.answered_at FROM quotes q JOIN opportunities o ON o.id = q.opportunity_id \
             WHERE {} ORDER BY q.id LIMIT {limit}",
            w.sql()
        );
        let rows: Vec<QuoteFactRow> =
            dispatch!(self, p => bind_all!(sqlx::query_as::<_, QuoteFactRow>(&sql), w.args).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| {
                Ok(Quote {
                    id: QuoteId(r.id),
                    external_id: None,
                    number: r.number,
                    opportunity_id: OpportunityId(r.opportunity_id),
                    owner_id: UserId(r.owner_id),
                    status: QuoteStatus::parse(&r.status).map_err(|_| corrupt("quote status", r.id))?,
                    amount: money(&r.amount, &r.currency, r.id)?,
                    lines: Vec::new(),
                    valid_until: None,
                    created_at: from_micros(r.created_at)?,
                    sent_at: r.sent_at.map(from_micros).transpose()?,
                    answered_at: r.answered_at.map(from_micros).transpose()?,
                })
            })
            .collect()
    }

    /// The next `limit` orders of visible opportunities after id `after`.
    pub async fn kpi_order_page(&self, viewer: &Viewer, after: i64, limit: i64) -> Result<Vec<Order>> {
        let mut w = Where::default();
        w.visible("o.owner_id", viewer);
        let p = w.arg(Arg::I64(after));
        w.push(format!("r.id > {p}"));
        let sql = format!(
            "SELECT r.id, r.opportunity_id, r.account_id, r.owner_id, r.number, r.amount, r.currency, r.ordered_on, \
             r.installation_status, r.installation_date, r.failed_installations, r.cancelled_at, r.created_at \
             FROM orders r JOIN opportunities o ON o.id = r.opportunity_id WHERE {} ORDER BY r.id LIMIT {limit}",
            w.sql()
        );
        let rows: Vec<OrderFactRow> =
            dispatch!(self, p => bind_all!(sqlx::query_as::<_, OrderFactRow>(&sql), w.args).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| {
                Ok(Order {
                    id: OrderId(r.id),
                    external_id: None,
                    number: r.number,
                    opportunity_id: OpportunityId(r.opportunity_id),
                    account_id: AccountId(r.account_id),
                    owner_id: UserId(r.owner_id),
                    quote_id: None,
                    amount: money(&r.amount, &r.currency, r.id)?,
                    ordered_on: date(&r.ordered_on, r.id)?,
                    installation_status: InstallationStatus::parse(&r.installation_status)
                        .map_err(|_| corrupt("installation status", r.id))?,
                    installation_date: r.installation_date.as_deref().map(|d| date(d, r.id)).transpose()?,
                    failed_installations: i32::try_from(r.failed_installations).unwrap_or(0),
                    cancelled_at: r.cancelled_at.map(from_micros).transpose()?,
                    cancel_reason: None,
                    created_at: from_micros(r.created_at)?,
                })
            })
            .collect()
    }

    /// The next `limit` stage changes of visible opportunities after history id `after`, in id
    /// order (which is the order they were recorded in); yields the last id read for the next page.
    pub async fn kpi_stage_change_page(
        &self,
        viewer: &Viewer,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<StageChange>, Option<i64>)> {
        let mut w = Where::default();
        w.visible("o.owner_id", viewer);
        let p = w.arg(Arg::I64(after));
        w.push(format!("h.id > {p}"));
        let sql = format!(
            "SELECT h.id, h.opportunity_id, h.from_stage_id, h.to_stage_id, h.at FROM stage_history h \
             JOIN opportunities o ON o.id = h.opportunity_id WHERE {} ORDER BY h.id LIMIT {limit}",
            w.sql()
        );
        let rows: Vec<StageChangeRow> =
            dispatch!(self, p => bind_all!(sqlx::query_as::<_, StageChangeRow>(&sql), w.args).fetch_all(p).await?);
        let last = rows.last().map(|r| r.id);
        let changes = rows
            .into_iter()
            .map(|r| {
                Ok(StageChange {
                    opportunity_id: OpportunityId(r.opportunity_id),
                    from_stage_id: r.from_stage_id.map(StageId),
                    to_stage_id: StageId(r.to_stage_id),
                    at: from_micros(r.at)?,
                    actor_user_id: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((changes, last))
    }
}
