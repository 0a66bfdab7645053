//! Row layouts of the CRM tables: one column list and one record -> bind-arguments function per
//! table, shared by the bulk load, imports and single-record writes so they cannot drift apart.

use crate::{Arg, micros};
use model::{Account, Activity, Contact, Lead, Opportunity, StageChange};

pub(crate) const ACCOUNT_COLUMNS: &[&str] = &[
    "id",
    "name",
    "industry",
    "employees",
    "country",
    "region_id",
    "city",
    "postal_code",
    "time_zone",
    "owner_id",
    "parent_id",
    "currency",
    "created_at",
    "updated_at",
    "external_id",
    "domain",
    "phone",
    "search_name",
    "search_text",
];

pub(crate) fn account_args(a: &Account) -> Vec<Arg> {
    let (name_doc, other_doc) = crate::search::account_doc(a);
    vec![
        Arg::I64(a.id.0),
        Arg::Text(a.name.clone()),
        Arg::Text(a.industry.clone()),
        Arg::I64(a.employees.into()),
        Arg::Text(a.country.clone()),
        Arg::OptI64(a.region_id.map(|r| r.0)),
        Arg::Text(a.city.clone()),
        Arg::Text(a.postal_code.clone()),
        Arg::Text(a.time_zone.as_str().into()),
        Arg::I64(a.owner_id.0),
        Arg::OptI64(a.parent_id.map(|p| p.0)),
        Arg::Text(a.currency.code().into()),
        Arg::I64(micros(a.created_at)),
        Arg::I64(micros(a.created_at)),
        Arg::OptText(a.external_id.clone()),
        Arg::OptText(a.domain.clone()),
        Arg::OptText(a.phone.clone()),
        Arg::Text(name_doc),
        Arg::Text(other_doc),
    ]
}

pub(crate) const OPPORTUNITY_COLUMNS: &[&str] = &[
    "id",
    "name",
    "account_id",
    "owner_id",
    "pipeline_id",
    "stage_id",
    "amount",
    "currency",
    "close_date",
    "forecast_category",
    "created_at",
    "updated_at",
    "external_id",
    "probability",
    "loss_reason_id",
    "lead_source",
    "next_step",
    "engaged_on",
    "stage_entered_at",
    "search_text",
];

pub(crate) fn opportunity_args(o: &Opportunity) -> Vec<Arg> {
    vec![
        Arg::I64(o.id.0),
        Arg::Text(o.name.clone()),
        Arg::I64(o.account_id.0),
        Arg::I64(o.owner_id.0),
        Arg::I64(o.pipeline_id.0),
        Arg::I64(o.stage_id.0),
        Arg::Text(o.amount.amount.to_string()),
        Arg::Text(o.amount.currency.code().into()),
        Arg::Text(o.close_date.to_string()),
        Arg::Text(o.forecast_category.as_str().into()),
        Arg::I64(micros(o.created_at)),
        Arg::I64(micros(o.updated_at)),
        Arg::OptText(o.external_id.clone()),
        Arg::OptI64(o.probability.map(i64::from)),
        Arg::OptI64(o.loss_reason_id.map(|r| r.0)),
        Arg::OptText(o.lead_source.clone()),
        Arg::OptText(o.next_step.clone()),
        Arg::OptText(o.engaged_on.map(|d| d.to_string())),
        Arg::I64(micros(o.stage_entered_at)),
        Arg::Text(crate::search::opportunity_doc(o)),
    ]
}

pub(crate) const STAGE_HISTORY_COLUMNS: &[&str] =
    &["opportunity_id", "from_stage_id", "to_stage_id", "at", "actor_user_id", "source"];

pub(crate) fn stage_change_args(h: &StageChange, source: &str) -> Vec<Arg> {
    vec![
        Arg::I64(h.opportunity_id.0),
        Arg::OptI64(h.from_stage_id.map(|s| s.0)),
        Arg::I64(h.to_stage_id.0),
        Arg::I64(micros(h.at)),
        Arg::OptI64(h.actor_user_id.map(|u| u.0)),
        Arg::Text(source.into()),
    ]
}

pub(crate) const CONTACT_COLUMNS: &[&str] = &[
    "id",
    "external_id",
    "account_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "owner_id",
    "created_at",
    "updated_at",
    "search_text",
];

pub(crate) fn contact_args(c: &Contact) -> Vec<Arg> {
    vec![
        Arg::I64(c.id.0),
        Arg::OptText(c.external_id.clone()),
        Arg::OptI64(c.account_id.map(|a| a.0)),
        Arg::Text(c.first_name.clone()),
        Arg::Text(c.last_name.clone()),
        Arg::OptText(c.email.clone()),
        Arg::OptText(c.phone.clone()),
        Arg::Text(c.title.clone()),
        Arg::I64(c.owner_id.0),
        Arg::I64(micros(c.created_at)),
        Arg::I64(micros(c.created_at)),
        Arg::Text(crate::search::contact_doc(c)),
    ]
}

pub(crate) const LEAD_COLUMNS: &[&str] = &[
    "id",
    "external_id",
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "email_key",
    "phone_key",
    "company_key",
    "domain",
    "source",
    "campaign",
    "status",
    "disqualify_reason",
    "owner_id",
    "created_at",
    "updated_at",
    "converted_at",
    "account_id",
    "contact_id",
    "opportunity_id",
    "search_text",
];

pub(crate) fn lead_args(l: &Lead) -> Vec<Arg> {
    use model::dedupe::{company_key, domain_key, email_key, phone_key};
    vec![
        Arg::I64(l.id.0),
        Arg::OptText(l.external_id.clone()),
        Arg::Text(l.first_name.clone()),
        Arg::Text(l.last_name.clone()),
        Arg::Text(l.company.clone()),
        Arg::OptText(l.email.clone()),
        Arg::OptText(l.phone.clone()),
        Arg::OptText(l.email.as_deref().and_then(email_key)),
        Arg::OptText(l.phone.as_deref().and_then(phone_key)),
        Arg::Text(company_key(&l.company)),
        Arg::OptText(l.email.as_deref().and_then(domain_key)),
        Arg::Text(l.source.clone()),
        Arg::Text(l.campaign.clone()),
        Arg::Text(l.status.as_str().into()),
        Arg::OptText(l.disqualify_reason.clone()),
        Arg::I64(l.owner_id.0),
        Arg::I64(micros(l.created_at)),
        Arg::I64(micros(l.converted_at.unwrap_or(l.created_at))),
        Arg::OptI64(l.converted_at.map(micros)),
        Arg::OptI64(l.account_id.map(|a| a.0)),
        Arg::OptI64(l.contact_id.map(|c| c.0)),
        Arg::OptI64(l.opportunity_id.map(|o| o.0)),
        Arg::Text(crate::search::lead_doc(l)),
    ]
}

pub(crate) const LEAD_HISTORY_COLUMNS: &[&str] =
    &["lead_id", "from_status", "to_status", "reason", "at", "actor_user_id"];

/// The history a loaded lead starts with: one entry into its current status.
pub(crate) fn lead_first_history_args(l: &Lead) -> Vec<Arg> {
    vec![
        Arg::I64(l.id.0),
        Arg::OptText(None),
        Arg::Text(l.status.as_str().into()),
        Arg::OptText(l.disqualify_reason.clone()),
        Arg::I64(micros(l.converted_at.unwrap_or(l.created_at))),
        Arg::OptI64(None),
    ]
}

pub(crate) const ACTIVITY_COLUMNS: &[&str] = &[
    "id",
    "external_id",
    "kind",
    "subject",
    "at",
    "duration_seconds",
    "outcome",
    "address",
    "owner_id",
    "account_id",
    "contact_id",
    "lead_id",
    "opportunity_id",
    "created_at",
];

pub(crate) fn activity_args(a: &Activity) -> Vec<Arg> {
    vec![
        Arg::I64(a.id.0),
        Arg::OptText(a.external_id.clone()),
        Arg::Text(a.kind.as_str().into()),
        Arg::Text(a.subject.clone()),
        Arg::I64(micros(a.at)),
        Arg::OptI64(a.duration_seconds),
        Arg::OptText(a.outcome.clone()),
        Arg::OptText(a.address.clone()),
        Arg::I64(a.owner_id.0),
        Arg::OptI64(a.account_id.map(|x| x.0)),
        Arg::OptI64(a.contact_id.map(|x| x.0)),
        Arg::OptI64(a.lead_id.map(|x| x.0)),
        Arg::OptI64(a.opportunity_id.map(|x| x.0)),
        Arg::I64(micros(a.at)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Reads and writes of the CRM records.

use crate::audit::{AuditContext, audit};
use crate::{Page, Result, Store, StoreError, Viewer, Where, bind_all, count_sql, dispatch, fetch_page, from_micros};
use jiff::Timestamp;
use model::{
    AccountId, ActivityId, ActivityKind, ContactId, LeadId, LeadStatus, LossReason, LossReasonId, OpportunityId, Stage,
    UserId,
};
use serde::Serialize;

/// One step of an opportunity's way through its pipeline, with names for display.
#[derive(Debug, Clone, Serialize)]
pub struct StageHistoryRow {
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub to_kind: String,
    pub at: Timestamp,
    pub actor_name: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivityRow {
    pub activity: Activity,
    pub owner_name: String,
    pub account_name: Option<String>,
    pub opportunity_name: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub owner_id: Option<i64>,
    pub account_id: Option<i64>,
    pub opportunity_id: Option<i64>,
    pub lead_id: Option<i64>,
    pub kind: Option<ActivityKind>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub exact_count: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeadRow {
    pub lead: Lead,
    pub owner_name: String,
    pub merged_into_id: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub q: Option<String>,
    pub status: Option<LeadStatus>,
    pub owner_id: Option<i64>,
    /// Explicit order; None: relevance when searching, else newest first.
    pub sort: Option<crate::Sort>,
    pub exact_count: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    pub q: Option<String>,
    pub account_id: Option<AccountId>,
    /// Explicit order; None: relevance when searching, else by name.
    pub sort: Option<crate::Sort>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeadHistoryRow {
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub at: Timestamp,
    pub actor_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContactRow {
    pub contact: Contact,
    pub account_name: Option<String>,
    pub owner_name: String,
}

/// What changes when an opportunity moves to another stage.
#[derive(Debug, Clone)]
pub struct StageMove {
    pub to: Stage,
    pub loss_reason_id: Option<LossReasonId>,
    pub next_step: Option<String>,
    pub forecast_category: model::ForecastCategory,
}

#[derive(sqlx::FromRow)]
struct ActRow {
    id: i64,
    external_id: Option<String>,
    kind: String,
    subject: String,
    at: i64,
    duration_seconds: Option<i64>,
    outcome: Option<String>,
    address: Option<String>,
    owner_id: i64,
    account_id: Option<i64>,
    contact_id: Option<i64>,
    lead_id: Option<i64>,
    opportunity_id: Option<i64>,
    owner_name: String,
    account_name: Option<String>,
    opportunity_name: Option<String>,
}

impl ActRow {
    fn into_row(self) -> Result<ActivityRow> {
        Ok(ActivityRow {
            activity: Activity {
                id: ActivityId(self.id),
                external_id: self.external_id,
                kind: ActivityKind::parse(&self.kind).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                subject: self.subject,
                at: from_micros(self.at)?,
                duration_seconds: self.duration_seconds,
                outcome: self.outcome,
                address: self.address,
                owner_id: UserId(self.owner_id),
                account_id: self.account_id.map(AccountId),
                contact_id: self.contact_id.map(ContactId),
                lead_id: self.lead_id.map(LeadId),
                opportunity_id: self.opportunity_id.map(OpportunityId),
            },
            owner_name: self.owner_name,
            account_name: self.account_name,
            opportunity_name: self.opportunity_name,
        })
    }
}

const ACTIVITY_SELECT: &str = "SELECT t.id, t.external_id, t.kind, t.subject, t.at, t.duration_seconds, t.outcome, \
     t.address, t.owner_id, t.account_id, t.contact_id, t.lead_id, t.opportunity_id, u.name AS owner_name, \
     a.name AS account_name, o.name AS opportunity_name \
     FROM activities t JOIN users u ON u.id = t.owner_id LEFT JOIN accounts a ON a.id = t.account_id \
     LEFT JOIN opportunities o ON o.id = t.opportunity_id";

#[derive(sqlx::FromRow)]
struct LRow {
    id: i64,
    external_id: Option<String>,
    first_name: String,
    last_name: String,
    company: String,
    email: Option<String>,
    phone: Option<String>,
    source: String,
    campaign: String,
    status: String,
    disqualify_reason: Option<String>,
    owner_id: i64,
    created_at: i64,
    converted_at: Option<i64>,
    account_id: Option<i64>,
    contact_id: Option<i64>,
    opportunity_id: Option<i64>,
    merged_into_id: Option<i64>,
    owner_name: String,
}

impl LRow {
    fn into_row(self) -> Result<LeadRow> {
        Ok(LeadRow {
            lead: Lead {
                id: LeadId(self.id),
                external_id: self.external_id,
                first_name: self.first_name,
                last_name: self.last_name,
                company: self.company,
                email: self.email,
                phone: self.phone,
                source: self.source,
                campaign: self.campaign,
                status: LeadStatus::parse(&self.status).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                disqualify_reason: self.disqualify_reason,
                owner_id: UserId(self.owner_id),
                created_at: from_micros(self.created_at)?,
                converted_at: self.converted_at.map(from_micros).transpose()?,
                account_id: self.account_id.map(AccountId),
                contact_id: self.contact_id.map(ContactId),
                opportunity_id: self.opportunity_id.map(OpportunityId),
            },
            owner_name: self.owner_name,
            merged_into_id: self.merged_into_id,
        })
    }
}

const LEAD_COLS: &str = "l.id, l.external_id, l.first_name, l.last_name, l.company, l.email, l.phone, \
     l.source, l.campaign, l.status, l.disqualify_reason, l.owner_id, l.created_at, l.converted_at, l.account_id, \
     l.contact_id, l.opportunity_id, l.merged_into_id, u.name AS owner_name";

const LEAD_SELECT: &str = "SELECT l.id, l.external_id, l.first_name, l.last_name, l.company, l.email, l.phone, \
     l.source, l.campaign, l.status, l.disqualify_reason, l.owner_id, l.created_at, l.converted_at, l.account_id, \
     l.contact_id, l.opportunity_id, l.merged_into_id, u.name AS owner_name \
     FROM leads l JOIN users u ON u.id = l.owner_id";

#[derive(sqlx::FromRow)]
struct CRow {
    id: i64,
    external_id: Option<String>,
    account_id: Option<i64>,
    first_name: String,
    last_name: String,
    email: Option<String>,
    phone: Option<String>,
    title: String,
    owner_id: i64,
    created_at: i64,
    account_name: Option<String>,
    owner_name: String,
}

impl CRow {
    fn into_row(self) -> Result<ContactRow> {
        Ok(ContactRow {
            contact: Contact {
                id: ContactId(self.id),
                external_id: self.external_id,
                account_id: self.account_id.map(AccountId),
                first_name: self.first_name,
                last_name: self.last_name,
                email: self.email,
                phone: self.phone,
                title: self.title,
                owner_id: UserId(self.owner_id),
                created_at: from_micros(self.created_at)?,
            },
            account_name: self.account_name,
            owner_name: self.owner_name,
        })
    }
}

impl Store {
    /// Contacts by id, any owner (for the store's own maintenance, never for users).
    pub(crate) async fn contacts_by_ids(&self, ids: &[i64]) -> Result<Vec<Contact>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!("{CONTACT_SELECT} WHERE c.id IN ({list}) ORDER BY c.id");
        let rows: Vec<CRow> = dispatch!(self, p => sqlx::query_as::<_, CRow>(&sql).fetch_all(p).await?);
        rows.into_iter().map(|r| r.into_row().map(|r| r.contact)).collect()
    }

    /// Leads by id, any owner (for the store's own maintenance, never for users).
    pub(crate) async fn leads_by_ids(&self, ids: &[i64]) -> Result<Vec<Lead>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!("{LEAD_SELECT} WHERE l.id IN ({list}) ORDER BY l.id");
        let rows: Vec<LRow> = dispatch!(self, p => sqlx::query_as::<_, LRow>(&sql).fetch_all(p).await?);
        rows.into_iter().map(|r| r.into_row().map(|r| r.lead)).collect()
    }
}

const CONTACT_COLS: &str = "c.id, c.external_id, c.account_id, c.first_name, c.last_name, c.email, c.phone, \
     c.title, c.owner_id, c.created_at, a.name AS account_name, u.name AS owner_name";
const CONTACT_JOINS: &str = "JOIN users u ON u.id = c.owner_id LEFT JOIN accounts a ON a.id = c.account_id";

const CONTACT_SELECT: &str = "SELECT c.id, c.external_id, c.account_id, c.first_name, c.last_name, c.email, c.phone, \
     c.title, c.owner_id, c.created_at, a.name AS account_name, u.name AS owner_name \
     FROM contacts c JOIN users u ON u.id = c.owner_id LEFT JOIN accounts a ON a.id = c.account_id";

impl CRow {
    fn into_contact(self) -> Result<Contact> {
        Ok(Contact {
            id: ContactId(self.id),
            external_id: self.external_id,
            account_id: self.account_id.map(AccountId),
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            phone: self.phone,
            title: self.title,
            owner_id: UserId(self.owner_id),
            created_at: from_micros(self.created_at)?,
        })
    }
}

impl Store {
    /// The contacts with these ids, as stored (for comparing an import against).
    pub async fn contacts_by_id(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, Contact>> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let sql = format!("{CONTACT_SELECT} WHERE c.id IN ({list})");
            let rows: Vec<CRow> = dispatch!(self, p => sqlx::query_as::<_, CRow>(&sql).fetch_all(p).await?);
            for r in rows {
                out.insert(r.id, r.into_contact()?);
            }
        }
        Ok(out)
    }

    /// The leads with these ids, as stored.
    pub async fn leads_by_id(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, Lead>> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let sql = format!("{LEAD_SELECT} WHERE l.id IN ({list})");
            let rows: Vec<LRow> = dispatch!(self, p => sqlx::query_as::<_, LRow>(&sql).fetch_all(p).await?);
            for r in rows {
                out.insert(r.id, r.into_row()?.lead);
            }
        }
        Ok(out)
    }

    /// The activities with these ids, as stored.
    pub async fn activities_by_id(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, Activity>> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let sql = format!("{ACTIVITY_SELECT} WHERE t.id IN ({list})");
            let rows: Vec<ActRow> = dispatch!(self, p => sqlx::query_as::<_, ActRow>(&sql).fetch_all(p).await?);
            for r in rows {
                out.insert(r.id, r.into_row()?.activity);
            }
        }
        Ok(out)
    }
}

/// A lead that may be the same person or company as the one being checked, and why.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateCandidate {
    pub lead_id: i64,
    pub name: String,
    pub company: String,
    pub email: Option<String>,
    pub status: String,
    /// "email", "phone", "domain", "company" or "similar_company".
    pub reason: &'static str,
}

/// The normalised keys of a lead-to-be, for duplicate checks.
#[derive(Debug, Clone, Default)]
pub struct DuplicateKeys {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub domain: Option<String>,
    pub company: String,
}

impl DuplicateKeys {
    pub fn of(email: Option<&str>, phone: Option<&str>, company: &str) -> DuplicateKeys {
        use model::dedupe::*;
        DuplicateKeys {
            email: email.and_then(email_key),
            phone: phone.and_then(phone_key),
            domain: email.and_then(domain_key),
            company: company_key(company),
        }
    }
}

/// A new lead as entered in the UI or API.
#[derive(Debug, Clone)]
pub struct NewLead {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: String,
    pub campaign: String,
    pub owner_id: UserId,
}

/// What a lead conversion creates (or links to).
#[derive(Debug, Clone)]
pub struct Conversion {
    /// Link to this account instead of creating one.
    pub existing_account: Option<AccountId>,
    pub new_account: Option<Account>,
    pub contact: Contact,
    pub opportunity: Option<Opportunity>,
}

impl Store {
    pub async fn stage_history(&self, id: OpportunityId) -> Result<Vec<StageHistoryRow>> {
        #[allow(clippy::type_complexity)] // a plain row tuple, named right below
        let rows: Vec<(Option<String>, String, String, i64, Option<String>, String)> = dispatch!(self, p => sqlx::query_as(
            "SELECT f.name, t.name, t.kind, h.at, u.name, h.source FROM stage_history h \
             LEFT JOIN stages f ON f.id = h.from_stage_id JOIN stages t ON t.id = h.to_stage_id \
             LEFT JOIN users u ON u.id = h.actor_user_id WHERE h.opportunity_id = $1 ORDER BY h.at, h.id")
            .bind(id.0).fetch_all(p).await?);
        rows.into_iter()
            .map(|(from_stage, to_stage, to_kind, at, actor_name, source)| {
                Ok(StageHistoryRow { from_stage, to_stage, to_kind, at: from_micros(at)?, actor_name, source })
            })
            .collect()
    }

    /// Moves an opportunity to another stage: the stage, its entry time, forecast category,
    /// loss reason and next step change together with one history entry and one audit entry.
    /// `before` is the opportunity as the caller checked it; a concurrent move makes this a
    /// conflict instead of a lost update.
    pub async fn opportunity_move(&self, ctx: &AuditContext, before: &Opportunity, m: &StageMove) -> Result<()> {
        let at = micros(ctx.at);
        let mut after = before.clone();
        after.stage_id = m.to.id;
        after.stage_entered_at = ctx.at;
        after.updated_at = ctx.at;
        after.loss_reason_id = m.loss_reason_id;
        after.next_step = m.next_step.clone();
        after.forecast_category = m.forecast_category;
        let change = StageChange {
            opportunity_id: before.id,
            from_stage_id: Some(before.stage_id),
            to_stage_id: m.to.id,
            at: ctx.at,
            actor_user_id: ctx.actor_user_id,
        };
        let source = if ctx.actor_token_id.is_some() { "api" } else { "ui" };
        let hist = stage_change_args(&change, source);
        let cols = STAGE_HISTORY_COLUMNS.join(", ");
        let marks = (1..=hist.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let insert = format!("INSERT INTO stage_history ({cols}) VALUES ({marks})");
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let n = sqlx::query(
                "UPDATE opportunities SET stage_id = $1, stage_entered_at = $2, updated_at = $2, loss_reason_id = $3, \
                 next_step = $4, forecast_category = $5, search_text = $8 WHERE id = $6 AND stage_id = $7",
            )
            .bind(m.to.id.0)
            .bind(at)
            .bind(m.loss_reason_id.map(|r| r.0))
            .bind(m.next_step.clone())
            .bind(m.forecast_category.as_str())
            .bind(before.id.0)
            .bind(before.stage_id.0)
            .bind(crate::search::opportunity_doc(&after))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict("the opportunity was moved by someone else meanwhile; reload it".into()));
            }
            bind_all!(sqlx::query(&insert), hist).execute(&mut *tx).await?;
            audit!(tx, ctx, "move", "opportunity", Some(before.id.to_string()), Some(before), Some(&after));
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn loss_reasons(&self) -> Result<Vec<LossReason>> {
        let rows: Vec<(i64, String, bool)> = dispatch!(self, p => sqlx::query_as(
            "SELECT id, name, active FROM loss_reasons ORDER BY name").fetch_all(p).await?);
        Ok(rows.into_iter().map(|(id, name, active)| LossReason { id: LossReasonId(id), name, active }).collect())
    }

    /// Adds a loss reason or renames / (de)activates one. Names are unique.
    pub async fn loss_reason_save(&self, ctx: &AuditContext, r: &LossReason) -> Result<LossReasonId> {
        let taken: Option<i64> = dispatch!(self, p => sqlx::query_scalar(
            "SELECT id FROM loss_reasons WHERE LOWER(name) = LOWER($1)").bind(&r.name).fetch_optional(p).await?);
        if taken.is_some_and(|id| id != r.id.0) {
            return Err(StoreError::Conflict(format!("a loss reason named '{}' exists", r.name)));
        }
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = if r.id.0 == 0 {
                sqlx::query_scalar("INSERT INTO loss_reasons (name, active) VALUES ($1, $2) RETURNING id")
                    .bind(&r.name).bind(r.active).fetch_one(&mut *tx).await?
            } else {
                let n = sqlx::query("UPDATE loss_reasons SET name = $1, active = $2 WHERE id = $3")
                    .bind(&r.name).bind(r.active).bind(r.id.0).execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                r.id.0
            };
            audit!(tx, ctx, if r.id.0 == 0 { "create" } else { "update" }, "loss_reason", Some(id.to_string()), None::<&LossReason>, Some(r));
            tx.commit().await?;
            id
        });
        Ok(LossReasonId(id))
    }

    /// Changes a stage's exit criteria (fields required to leave it).
    pub async fn stage_set_exit_criteria(&self, ctx: &AuditContext, stage: &Stage, fields: &[String]) -> Result<()> {
        let value = fields.join(",");
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            sqlx::query("UPDATE stages SET exit_criteria = $1 WHERE id = $2").bind(&value).bind(stage.id.0).execute(&mut *tx).await?;
            let mut after = stage.clone();
            after.exit_criteria = fields.to_vec();
            audit!(tx, ctx, "update", "stage", Some(stage.id.to_string()), Some(stage), Some(&after));
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn activity_list(
        &self,
        viewer: &Viewer,
        f: &ActivityFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<ActivityRow>> {
        let mut w = Where::default();
        w.visible("t.owner_id", viewer);
        for (col, v) in [
            ("t.owner_id", f.owner_id),
            ("t.account_id", f.account_id),
            ("t.opportunity_id", f.opportunity_id),
            ("t.lead_id", f.lead_id),
        ] {
            if let Some(v) = v {
                let p = w.arg(Arg::I64(v));
                w.push(format!("{col} = {p}"));
            }
        }
        if let Some(k) = f.kind {
            let p = w.arg(Arg::Text(k.as_str().into()));
            w.push(format!("t.kind = {p}"));
        }
        if let Some(t) = f.from {
            let p = w.arg(Arg::I64(micros(t)));
            w.push(format!("t.at >= {p}"));
        }
        if let Some(t) = f.to {
            let p = w.arg(Arg::I64(micros(t)));
            w.push(format!("t.at < {p}"));
        }
        let cond = w.sql();
        let sql = format!("{ACTIVITY_SELECT} WHERE {cond} ORDER BY t.at DESC, t.id DESC LIMIT {limit} OFFSET {offset}");
        let count_sql = count_sql(&format!("activities t WHERE {cond}"), f.exact_count);
        let (rows, counted): (Vec<ActRow>, i64) = fetch_page!(self, ActRow, &sql, &count_sql, w.args);
        let items = rows.into_iter().map(ActRow::into_row).collect::<Result<_>>()?;
        Ok(Page::new(items, counted, f.exact_count, limit, offset))
    }

    /// Logs one activity (owner = the writer, or as given by a manager).
    pub async fn activity_create(&self, ctx: &AuditContext, a: &Activity) -> Result<ActivityId> {
        let mut args = activity_args(a);
        args.remove(0);
        let cols = ACTIVITY_COLUMNS[1..].join(", ");
        let marks = (1..=args.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("INSERT INTO activities ({cols}) VALUES ({marks}) RETURNING id");
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = bind_all!(sqlx::query_scalar(&sql), args).fetch_one(&mut *tx).await?;
            audit!(tx, ctx, "create", "activity", Some(id.to_string()), None::<&Activity>, Some(a));
            tx.commit().await?;
            id
        });
        Ok(ActivityId(id))
    }

    pub async fn lead_list(&self, viewer: &Viewer, f: &LeadFilter, limit: i64, offset: i64) -> Result<Page<LeadRow>> {
        let mut w = Where::default();
        w.visible("l.owner_id", viewer);
        w.push("l.merged_into_id IS NULL".into());
        let search =
            crate::search::search_sql(self.backend(), crate::search::Entity::Leads, "l", f.q.as_deref(), &mut w);
        if let Some(s) = f.status {
            let p = w.arg(Arg::Text(s.as_str().into()));
            w.push(format!("l.status = {p}"));
        }
        if let Some(v) = f.owner_id {
            let p = w.arg(Arg::I64(v));
            w.push(format!("l.owner_id = {p}"));
        }
        let order = crate::records::list_order(
            crate::SortList::Leads,
            &f.sort,
            search.as_ref(),
            "l.created_at DESC, l.id DESC",
        );
        let l = crate::records::ListQuery { w, search: search.unwrap_or_default(), order };
        let sql = l.page_sql(LEAD_COLS, "leads l", "JOIN users u ON u.id = l.owner_id", limit, offset);
        let count_sql = l.count_sql("leads l", f.exact_count);
        let (rows, counted): (Vec<LRow>, i64) = fetch_page!(self, LRow, &sql, &count_sql, l.w.args);
        let items = rows.into_iter().map(LRow::into_row).collect::<Result<_>>()?;
        Ok(Page::new(items, counted, f.exact_count, limit, offset))
    }

    pub async fn lead_get(&self, viewer: &Viewer, id: LeadId) -> Result<LeadRow> {
        let mut w = Where::default();
        let p = w.arg(Arg::I64(id.0));
        w.push(format!("l.id = {p}"));
        w.visible("l.owner_id", viewer);
        let sql = format!("{LEAD_SELECT} WHERE {}", w.sql());
        let row: LRow = dispatch!(self, p => bind_all!(sqlx::query_as::<_, LRow>(&sql), w.args).fetch_one(p).await?);
        row.into_row()
    }

    pub async fn lead_history(&self, id: LeadId) -> Result<Vec<LeadHistoryRow>> {
        #[allow(clippy::type_complexity)] // a plain row tuple, named right below
        let rows: Vec<(Option<String>, String, Option<String>, i64, Option<String>)> = dispatch!(self, p => sqlx::query_as(
            "SELECT h.from_status, h.to_status, h.reason, h.at, u.name FROM lead_history h \
             LEFT JOIN users u ON u.id = h.actor_user_id WHERE h.lead_id = $1 ORDER BY h.at, h.id")
            .bind(id.0).fetch_all(p).await?);
        rows.into_iter()
            .map(|(from_status, to_status, reason, at, actor_name)| {
                Ok(LeadHistoryRow { from_status, to_status, reason, at: from_micros(at)?, actor_name })
            })
            .collect()
    }

    /// Leads (not merged away, any owner) sharing an e-mail, phone, web domain or company name
    /// with `keys`, or with a company name within [`model::dedupe::FUZZY_THRESHOLD`].
    pub async fn lead_duplicates(
        &self,
        keys: &DuplicateKeys,
        except: Option<LeadId>,
    ) -> Result<Vec<DuplicateCandidate>> {
        let mut w = Where::default();
        let mut ors = vec![];
        if let Some(e) = &keys.email {
            let p = w.arg(Arg::Text(e.clone()));
            ors.push(format!("email_key = {p}"));
        }
        if let Some(ph) = &keys.phone {
            let p = w.arg(Arg::Text(ph.clone()));
            ors.push(format!("phone_key = {p}"));
        }
        if let Some(d) = &keys.domain {
            let p = w.arg(Arg::Text(d.clone()));
            ors.push(format!("domain = {p}"));
        }
        // Exact company key, plus same-first-letters candidates for the fuzzy comparison.
        let prefix: String = keys.company.chars().take(3).collect();
        if !keys.company.is_empty() {
            let p = w.arg(Arg::Text(format!("{prefix}%")));
            ors.push(format!("company_key LIKE {p}"));
        }
        if ors.is_empty() {
            return Ok(vec![]);
        }
        w.push(format!("({})", ors.join(" OR ")));
        w.push("merged_into_id IS NULL".into());
        if let Some(x) = except {
            let p = w.arg(Arg::I64(x.0));
            w.push(format!("id <> {p}"));
        }
        let sql = format!(
            "SELECT id, first_name, last_name, company, email, status, email_key, phone_key, domain, company_key \
             FROM leads WHERE {} ORDER BY id LIMIT 500",
            w.sql()
        );
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            i64,
            String,
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
        )> = dispatch!(self, p => bind_all!(sqlx::query_as(&sql), w.args).fetch_all(p).await?);
        let mut out = vec![];
        for (id, first, last, company, email, status, ek, pk, dk, ck) in rows {
            let reason = if ek.is_some() && ek == keys.email {
                "email"
            } else if pk.is_some() && pk == keys.phone {
                "phone"
            } else if dk.is_some() && dk == keys.domain {
                "domain"
            } else if ck == keys.company {
                "company"
            } else if model::dedupe::similarity(&ck, &keys.company) >= model::dedupe::FUZZY_THRESHOLD {
                "similar_company"
            } else {
                continue;
            };
            out.push(DuplicateCandidate {
                lead_id: id,
                name: format!("{first} {last}").trim().to_string(),
                company,
                email,
                status,
                reason,
            });
            if out.len() >= 20 {
                break;
            }
        }
        Ok(out)
    }

    pub async fn lead_create(&self, ctx: &AuditContext, l: &NewLead) -> Result<LeadId> {
        let lead = Lead {
            id: LeadId(0),
            external_id: None,
            first_name: l.first_name.clone(),
            last_name: l.last_name.clone(),
            company: l.company.clone(),
            email: l.email.clone(),
            phone: l.phone.clone(),
            source: l.source.clone(),
            campaign: l.campaign.clone(),
            status: LeadStatus::New,
            disqualify_reason: None,
            owner_id: l.owner_id,
            created_at: ctx.at,
            converted_at: None,
            account_id: None,
            contact_id: None,
            opportunity_id: None,
        };
        let mut args = lead_args(&lead);
        args.remove(0);
        let cols = LEAD_COLUMNS[1..].join(", ");
        let marks = (1..=args.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("INSERT INTO leads ({cols}) VALUES ({marks}) RETURNING id");
        let id = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = bind_all!(sqlx::query_scalar(&sql), args).fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO lead_history (lead_id, from_status, to_status, reason, at, actor_user_id) VALUES ($1, NULL, 'new', NULL, $2, $3)")
                .bind(id).bind(micros(ctx.at)).bind(ctx.actor_user_id.map(|u| u.0)).execute(&mut *tx).await?;
            audit!(tx, ctx, "create", "lead", Some(id.to_string()), None::<&Lead>, Some(&lead));
            tx.commit().await?;
            id
        });
        Ok(LeadId(id))
    }

    /// Moves a lead through its lifecycle (qualify, disqualify with reason, nurture, re-enter).
    pub async fn lead_set_status(
        &self,
        ctx: &AuditContext,
        before: &Lead,
        to: LeadStatus,
        reason: Option<&str>,
    ) -> Result<()> {
        let at = micros(ctx.at);
        let mut after = before.clone();
        after.status = to;
        after.disqualify_reason = if to == LeadStatus::Disqualified { reason.map(str::to_string) } else { None };
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let n = sqlx::query("UPDATE leads SET status = $1, disqualify_reason = $2, updated_at = $3 WHERE id = $4 AND status = $5")
                .bind(to.as_str()).bind(after.disqualify_reason.clone()).bind(at).bind(before.id.0).bind(before.status.as_str())
                .execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict("the lead was changed by someone else meanwhile; reload it".into()));
            }
            sqlx::query("INSERT INTO lead_history (lead_id, from_status, to_status, reason, at, actor_user_id) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(before.id.0).bind(before.status.as_str()).bind(to.as_str()).bind(reason).bind(at).bind(ctx.actor_user_id.map(|u| u.0))
                .execute(&mut *tx).await?;
            audit!(tx, ctx, "status", "lead", Some(before.id.to_string()), Some(before), Some(&after));
            tx.commit().await?;
        });
        Ok(())
    }

    /// Converts a lead in one transaction: account (new or existing), contact, optionally an
    /// opportunity with its first stage entry; the lead becomes `converted` and links to them.
    pub async fn lead_convert(
        &self,
        ctx: &AuditContext,
        before: &Lead,
        c: &Conversion,
    ) -> Result<(AccountId, ContactId, Option<OpportunityId>)> {
        let at = micros(ctx.at);
        fn insert_sql(table: &str, cols: &[&str]) -> String {
            let marks = (1..cols.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            format!("INSERT INTO {table} ({}) VALUES ({marks}) RETURNING id", cols[1..].join(", "))
        }
        let account_sql = insert_sql("accounts", ACCOUNT_COLUMNS);
        let contact_sql = insert_sql("contacts", CONTACT_COLUMNS);
        let opportunity_sql = insert_sql("opportunities", OPPORTUNITY_COLUMNS);
        let history_marks = (1..=STAGE_HISTORY_COLUMNS.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let history_sql =
            format!("INSERT INTO stage_history ({}) VALUES ({history_marks})", STAGE_HISTORY_COLUMNS.join(", "));
        let out = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let account_id: i64 = match (c.existing_account, &c.new_account) {
                (Some(a), _) => a.0,
                (None, Some(a)) => {
                    let mut args = account_args(a);
                    args.remove(0);
                    let id: i64 = bind_all!(sqlx::query_scalar(&account_sql), args).fetch_one(&mut *tx).await?;
                    audit!(tx, ctx, "create", "account", Some(id.to_string()), None::<&Account>, Some(a));
                    id
                }
                (None, None) => return Err(StoreError::Refused("a conversion needs an account".into())),
            };
            let mut contact = c.contact.clone();
            contact.account_id = Some(AccountId(account_id));
            let mut args = contact_args(&contact);
            args.remove(0);
            let contact_id: i64 = bind_all!(sqlx::query_scalar(&contact_sql), args).fetch_one(&mut *tx).await?;
            audit!(tx, ctx, "create", "contact", Some(contact_id.to_string()), None::<&Contact>, Some(&contact));
            let mut opportunity_id = None;
            if let Some(o) = &c.opportunity {
                let mut o = o.clone();
                o.account_id = AccountId(account_id);
                let mut args = opportunity_args(&o);
                args.remove(0);
                let id: i64 = bind_all!(sqlx::query_scalar(&opportunity_sql), args).fetch_one(&mut *tx).await?;
                let first = StageChange { opportunity_id: OpportunityId(id), from_stage_id: None, to_stage_id: o.stage_id, at: ctx.at, actor_user_id: ctx.actor_user_id };
                let hist = stage_change_args(&first, "conversion");
                bind_all!(sqlx::query(&history_sql), hist)
                    .execute(&mut *tx).await?;
                audit!(tx, ctx, "create", "opportunity", Some(id.to_string()), None::<&Opportunity>, Some(&o));
                opportunity_id = Some(id);
            }
            let n = sqlx::query("UPDATE leads SET status = 'converted', converted_at = $1, updated_at = $1, account_id = $2, \
                 contact_id = $3, opportunity_id = $4 WHERE id = $5 AND status = $6")
                .bind(at).bind(account_id).bind(contact_id).bind(opportunity_id).bind(before.id.0).bind(before.status.as_str())
                .execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict("the lead was changed by someone else meanwhile; reload it".into()));
            }
            sqlx::query("INSERT INTO lead_history (lead_id, from_status, to_status, reason, at, actor_user_id) VALUES ($1, $2, 'converted', NULL, $3, $4)")
                .bind(before.id.0).bind(before.status.as_str()).bind(at).bind(ctx.actor_user_id.map(|u| u.0)).execute(&mut *tx).await?;
            let after = serde_json::json!({"status": "converted", "account_id": account_id, "contact_id": contact_id, "opportunity_id": opportunity_id});
            audit!(tx, ctx, "convert", "lead", Some(before.id.to_string()), Some(before), Some(&after));
            tx.commit().await?;
            (AccountId(account_id), ContactId(contact_id), opportunity_id.map(OpportunityId))
        });
        Ok(out)
    }

    /// Merges `gone` into `keep`: activities and history move to `keep`, empty fields of `keep`
    /// are filled from `gone`, and `gone` stays as a tombstone pointing at `keep` (so links and
    /// the audit trail keep working).
    pub async fn lead_merge(&self, ctx: &AuditContext, keep: &Lead, gone: &Lead) -> Result<()> {
        let at = micros(ctx.at);
        let mut after = keep.clone();
        if after.email.is_none() {
            after.email = gone.email.clone();
        }
        if after.phone.is_none() {
            after.phone = gone.phone.clone();
        }
        if after.external_id.is_none() {
            after.external_id = gone.external_id.clone();
        }
        let mut args = lead_args(&after);
        let id = args.remove(0);
        args.push(id);
        let sets = LEAD_COLUMNS[1..]
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let update = format!("UPDATE leads SET {sets} WHERE id = ${}", LEAD_COLUMNS.len());
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            // The external id moves with the merge: free it on the tombstone first (unique index).
            sqlx::query("UPDATE leads SET merged_into_id = $1, external_id = NULL, updated_at = $2 WHERE id = $3 AND merged_into_id IS NULL")
                .bind(keep.id.0).bind(at).bind(gone.id.0).execute(&mut *tx).await?;
            bind_all!(sqlx::query(&update), args).execute(&mut *tx).await?;
            sqlx::query("UPDATE activities SET lead_id = $1 WHERE lead_id = $2").bind(keep.id.0).bind(gone.id.0).execute(&mut *tx).await?;
            sqlx::query("UPDATE lead_history SET lead_id = $1 WHERE lead_id = $2").bind(keep.id.0).bind(gone.id.0).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO lead_history (lead_id, from_status, to_status, reason, at, actor_user_id) VALUES ($1, $2, $2, $3, $4, $5)")
                .bind(keep.id.0).bind(keep.status.as_str()).bind(format!("merged lead {}", gone.id)).bind(at).bind(ctx.actor_user_id.map(|u| u.0))
                .execute(&mut *tx).await?;
            let note = serde_json::json!({"merged_into": keep.id});
            audit!(tx, ctx, "merge", "lead", Some(gone.id.to_string()), Some(gone), Some(&note));
            audit!(tx, ctx, "update", "lead", Some(keep.id.to_string()), Some(keep), Some(&after));
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn contact_list(
        &self,
        viewer: &Viewer,
        f: &ContactFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<ContactRow>> {
        let mut w = Where::default();
        w.visible("c.owner_id", viewer);
        let search =
            crate::search::search_sql(self.backend(), crate::search::Entity::Contacts, "c", f.q.as_deref(), &mut w);
        if let Some(a) = f.account_id {
            let p = w.arg(Arg::I64(a.0));
            w.push(format!("c.account_id = {p}"));
        }
        let order = crate::records::list_order(
            crate::SortList::Contacts,
            &f.sort,
            search.as_ref(),
            "c.last_name ASC, c.first_name ASC, c.id ASC",
        );
        let l = crate::records::ListQuery { w, search: search.unwrap_or_default(), order };
        let sql = l.page_sql(CONTACT_COLS, "contacts c", CONTACT_JOINS, limit, offset);
        let count_sql = l.count_sql("contacts c", false);
        let w = l.w;
        let (rows, counted): (Vec<CRow>, i64) = fetch_page!(self, CRow, &sql, &count_sql, w.args);
        let items = rows.into_iter().map(CRow::into_row).collect::<Result<_>>()?;
        Ok(Page::new(items, counted, false, limit, offset))
    }
}

/// One criterion's score on an opportunity.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreRow {
    pub criterion_id: i64,
    pub score: i32,
    pub note: String,
    pub updated_at: Timestamp,
}

impl Store {
    /// Sets a pipeline's methodology and adds the criteria it lacks (by key). Criteria are never
    /// removed: scores given on them stay part of the opportunities' history.
    pub async fn scorecard_set(
        &self,
        ctx: &AuditContext,
        pipeline: &model::Pipeline,
        methodology: &str,
        add: &[(String, String)],
    ) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            sqlx::query("UPDATE pipelines SET methodology = $1 WHERE id = $2").bind(methodology).bind(pipeline.id.0).execute(&mut *tx).await?;
            let mut position = pipeline.criteria.len() as i64;
            for (key, label) in add {
                if pipeline.criteria.iter().any(|c| &c.key == key) {
                    continue;
                }
                position += 1;
                sqlx::query("INSERT INTO scorecard_criteria (pipeline_id, position, key, label) VALUES ($1, $2, $3, $4)")
                    .bind(pipeline.id.0).bind(position).bind(key).bind(label).execute(&mut *tx).await?;
            }
            let after = serde_json::json!({"methodology": methodology, "added": add});
            let before = serde_json::json!({"methodology": pipeline.methodology, "criteria": pipeline.criteria});
            audit!(tx, ctx, "update", "scorecard", Some(pipeline.id.to_string()), Some(&before), Some(&after));
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn opportunity_scores(&self, id: OpportunityId) -> Result<Vec<ScoreRow>> {
        let rows: Vec<(i64, i64, String, i64)> = dispatch!(self, p => sqlx::query_as(
            "SELECT criterion_id, score, note, updated_at FROM opportunity_scores WHERE opportunity_id = $1")
            .bind(id.0).fetch_all(p).await?);
        rows.into_iter()
            .map(|(criterion_id, score, note, at)| {
                Ok(ScoreRow { criterion_id, score: score as i32, note, updated_at: from_micros(at)? })
            })
            .collect()
    }

    /// Sets the scores of an opportunity (criterion id, score 0..=3, note), with one audit entry.
    pub async fn opportunity_scores_set(
        &self,
        ctx: &AuditContext,
        id: OpportunityId,
        scores: &[(i64, i32, String)],
    ) -> Result<()> {
        let before = self.opportunity_scores(id).await?;
        let at = micros(ctx.at);
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            for (criterion, score, note) in scores {
                sqlx::query("DELETE FROM opportunity_scores WHERE opportunity_id = $1 AND criterion_id = $2")
                    .bind(id.0).bind(criterion).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO opportunity_scores (opportunity_id, criterion_id, score, note, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(id.0).bind(criterion).bind(i64::from(*score)).bind(note).bind(at).bind(ctx.actor_user_id.map(|u| u.0))
                    .execute(&mut *tx).await?;
            }
            let after: Vec<serde_json::Value> = scores.iter().map(|(c, s, n)| serde_json::json!({"criterion_id": c, "score": s, "note": n})).collect();
            audit!(tx, ctx, "score", "opportunity", Some(id.to_string()), Some(&before), Some(&after));
            tx.commit().await?;
        });
        Ok(())
    }
}
