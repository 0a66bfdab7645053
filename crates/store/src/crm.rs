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
];

pub(crate) fn account_args(a: &Account) -> Vec<Arg> {
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
    ]
}

pub(crate) const LEAD_HISTORY_COLUMNS: &[&str] = &["lead_id", "from_status", "to_status", "reason", "at", "actor_user_id"];

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
