//! Built-in mappings for salesops' own CSV, Salesforce (Data Loader API names and report labels)
//! and HubSpot CRM exports.

use std::collections::BTreeMap;

use crate::Entity;
use crate::csvread::{Next, Reader, Record};
use crate::fields::{fields, import_only};
use crate::mapping::{Mapping, MappingError, ProbabilityScale};
use crate::text::eq_fold;

/// The names [`preset`] accepts.
pub const PRESETS: [&str; 3] = ["salesops", "salesforce", "hubspot"];

type Cols = &'static [(&'static str, &'static [&'static str])];

const SF_OWNER: &[&str] = &["Owner Email", "Owner.Email", "OwnerId"];
const SF_CREATED: &[&str] = &["CreatedDate", "Created Date"];

const SALESFORCE_ACCOUNTS: Cols = &[
    ("external_id", &["Id", "Account ID"]),
    ("name", &["Name", "Account Name"]),
    ("industry", &["Industry"]),
    ("employees", &["NumberOfEmployees", "Employees"]),
    ("country", &["BillingCountry", "Billing Country", "BillingCountryCode"]),
    ("city", &["BillingCity", "Billing City"]),
    ("postal_code", &["BillingPostalCode", "Billing Zip/Postal Code"]),
    ("domain", &["Website"]),
    ("phone", &["Phone"]),
    ("owner_email", SF_OWNER),
    ("parent_external_id", &["ParentId", "Parent Account ID"]),
    ("parent_name", &["Parent.Name", "Parent Account"]),
    ("currency", &["CurrencyIsoCode", "Account Currency"]),
    ("created_at", SF_CREATED),
];

const SALESFORCE_CONTACTS: Cols = &[
    ("external_id", &["Id", "Contact ID"]),
    ("first_name", &["FirstName", "First Name"]),
    ("last_name", &["LastName", "Last Name"]),
    ("email", &["Email"]),
    ("phone", &["Phone"]),
    ("title", &["Title"]),
    ("account_external_id", &["AccountId", "Account ID"]),
    ("account_name", &["Account.Name", "Account Name"]),
    ("owner_email", SF_OWNER),
    ("created_at", SF_CREATED),
];

const SALESFORCE_LEADS: Cols = &[
    ("external_id", &["Id", "Lead ID"]),
    ("first_name", &["FirstName", "First Name"]),
    ("last_name", &["LastName", "Last Name"]),
    ("company", &["Company"]),
    ("email", &["Email"]),
    ("phone", &["Phone"]),
    ("source", &["LeadSource", "Lead Source"]),
    ("campaign", &["Campaign", "Campaign Name"]),
    ("status", &["Status", "Lead Status"]),
    ("owner_email", SF_OWNER),
    ("created_at", SF_CREATED),
];

const SALESFORCE_OPPORTUNITIES: Cols = &[
    ("external_id", &["Id", "Opportunity ID"]),
    ("name", &["Name", "Opportunity Name"]),
    ("account_external_id", &["AccountId", "Account ID"]),
    ("account_name", &["Account.Name", "Account Name"]),
    ("owner_email", SF_OWNER),
    ("stage", &["StageName", "Stage"]),
    ("amount", &["Amount"]),
    ("currency", &["CurrencyIsoCode", "Opportunity Currency", "Amount Currency"]),
    ("close_date", &["CloseDate", "Close Date"]),
    ("probability", &["Probability", "Probability (%)"]),
    ("forecast_category", &["ForecastCategoryName", "Forecast Category"]),
    ("loss_reason", &["Loss_Reason__c", "Loss Reason"]),
    ("lead_source", &["LeadSource", "Lead Source"]),
    ("created_at", SF_CREATED),
];

const SALESFORCE_ACTIVITIES: Cols = &[
    ("external_id", &["Id", "Activity ID"]),
    ("kind", &["TaskSubtype", "EventSubtype", "Type", "Task Subtype"]),
    ("subject", &["Subject"]),
    ("at", &["ActivityDateTime", "StartDateTime", "ActivityDate", "Date", "Due Date"]),
    ("duration_seconds", &["CallDurationInSeconds", "Call Duration"]),
    ("outcome", &["CallDisposition", "Call Result"]),
    ("address", &["Location"]),
    ("owner_email", SF_OWNER),
    ("account_external_id", &["AccountId", "Account ID"]),
    ("what_id", &["WhatId"]),
    ("who_id", &["WhoId"]),
];

const HS_CREATED: &[&str] = &["Create Date"];
const HS_COMPANY_IDS: &[&str] =
    &["Associated Company IDs (Primary)", "Associated Company IDs", "Associated Company ID"];
const HS_COMPANY_NAME: &[&str] = &["Associated Company (Primary)", "Associated Company", "Associated Companies"];

const HUBSPOT_ACCOUNTS: Cols = &[
    ("external_id", &["Record ID", "Company ID"]),
    ("name", &["Company name", "Name"]),
    ("domain", &["Company Domain Name", "Website URL"]),
    ("industry", &["Industry"]),
    ("employees", &["Number of Employees"]),
    ("country", &["Country/Region", "Country"]),
    ("city", &["City"]),
    ("postal_code", &["Postal Code", "Zip"]),
    ("phone", &["Phone Number"]),
    ("owner_email", &["Company owner"]),
    ("created_at", HS_CREATED),
];

const HUBSPOT_CONTACTS: Cols = &[
    ("external_id", &["Record ID", "Contact ID"]),
    ("first_name", &["First Name"]),
    ("last_name", &["Last Name"]),
    ("email", &["Email"]),
    ("phone", &["Phone Number", "Mobile Phone Number"]),
    ("title", &["Job Title"]),
    ("account_external_id", HS_COMPANY_IDS),
    ("account_name", HS_COMPANY_NAME),
    ("owner_email", &["Contact owner"]),
    ("created_at", HS_CREATED),
];

const HUBSPOT_LEADS: Cols = &[
    ("external_id", &["Record ID", "Contact ID"]),
    ("first_name", &["First Name"]),
    ("last_name", &["Last Name"]),
    ("company", &["Company Name", "Associated Company"]),
    ("email", &["Email"]),
    ("phone", &["Phone Number", "Mobile Phone Number"]),
    ("source", &["Original Source", "Original Traffic Source"]),
    ("status", &["Lead Status", "Lifecycle Stage"]),
    ("owner_email", &["Contact owner", "Lead owner"]),
    ("created_at", HS_CREATED),
];

const HUBSPOT_OPPORTUNITIES: Cols = &[
    ("external_id", &["Record ID", "Deal ID"]),
    ("name", &["Deal Name"]),
    ("account_external_id", HS_COMPANY_IDS),
    ("account_name", HS_COMPANY_NAME),
    ("owner_email", &["Deal owner"]),
    ("pipeline", &["Pipeline"]),
    ("stage", &["Deal Stage"]),
    ("amount", &["Amount"]),
    ("currency", &["Currency", "Deal currency code"]),
    ("close_date", &["Close Date"]),
    ("probability", &["Deal probability"]),
    ("forecast_category", &["Forecast category"]),
    ("loss_reason", &["Closed lost reason"]),
    ("lead_source", &["Original Source Type", "Original Source"]),
    ("created_at", HS_CREATED),
];

const HUBSPOT_ACTIVITIES: Cols = &[
    ("external_id", &["Activity ID", "Record ID"]),
    ("kind", &["Activity type", "Engagement type"]),
    ("subject", &["Subject", "Activity subject", "Call title", "Meeting name", "Task title", "Email subject"]),
    ("at", &["Activity date", "Timestamp", "Create Date"]),
    ("duration_seconds", &["Call duration"]),
    ("outcome", &["Call outcome", "Meeting outcome", "Outcome"]),
    ("address", &["Meeting location", "Location"]),
    ("owner_email", &["Activity assigned to", "Assigned to", "Activity owner"]),
    ("account_external_id", &["Associated Company IDs", "Associated Company ID"]),
    ("account_name", &["Associated Company"]),
    ("opportunity_external_id", &["Associated Deal IDs", "Associated Deal ID"]),
    ("opportunity_name", &["Associated Deal"]),
    ("contact_external_id", &["Associated Contact IDs", "Associated Contact ID"]),
    ("contact_name", &["Associated Contact"]),
];

/// The built-in column alternatives of a preset for an entity, per field.
pub(crate) fn columns(preset: &str, entity: Entity) -> Vec<(&'static str, &'static [&'static str])> {
    let table: Cols = match (preset, entity) {
        ("salesops", _) => {
            return fields(entity)
                .iter()
                .filter(|f| !import_only(f.name))
                .map(|f| (f.name, std::slice::from_ref(&f.name)))
                .collect();
        }
        ("salesforce", Entity::Accounts) => SALESFORCE_ACCOUNTS,
        ("salesforce", Entity::Contacts) => SALESFORCE_CONTACTS,
        ("salesforce", Entity::Leads) => SALESFORCE_LEADS,
        ("salesforce", Entity::Opportunities) => SALESFORCE_OPPORTUNITIES,
        ("salesforce", Entity::Activities) => SALESFORCE_ACTIVITIES,
        ("hubspot", Entity::Accounts) => HUBSPOT_ACCOUNTS,
        ("hubspot", Entity::Contacts) => HUBSPOT_CONTACTS,
        ("hubspot", Entity::Leads) => HUBSPOT_LEADS,
        ("hubspot", Entity::Opportunities) => HUBSPOT_OPPORTUNITIES,
        ("hubspot", Entity::Activities) => HUBSPOT_ACTIVITIES,
        _ => &[],
    };
    table.to_vec()
}

fn value_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A preset's settings and value maps, without columns (those depend on the entity).
pub(crate) fn base(name: &'static str) -> Mapping {
    let mut m = Mapping { preset: Some(name), ..Mapping::default() };
    match name {
        "salesforce" => {
            m.values.insert(
                "forecast_category".into(),
                value_map(&[
                    ("Pipeline", "pipeline"),
                    ("Best Case", "best_case"),
                    ("Commit", "commit"),
                    ("Closed", "closed"),
                    ("Omitted", "omitted"),
                ]),
            );
            m.values.insert(
                "status".into(),
                value_map(&[
                    ("Open - Not Contacted", "new"),
                    ("Working - Contacted", "working"),
                    ("Closed - Converted", "converted"),
                    ("Closed - Not Converted", "disqualified"),
                ]),
            );
        }
        "hubspot" => {
            m.probability = ProbabilityScale::Fraction;
            m.association_separator = Some(';');
            m.stage_entered_prefix = Some("Date entered ".into());
            m.values.insert(
                "forecast_category".into(),
                value_map(&[("Closed won", "closed"), ("Not forecasted", "omitted"), ("Omit", "omitted")]),
            );
            m.values.insert(
                "status".into(),
                value_map(&[
                    // Lead Status
                    ("Open", "new"),
                    ("In Progress", "working"),
                    ("Attempted to contact", "working"),
                    ("Connected", "working"),
                    ("Open Deal", "qualified"),
                    ("Unqualified", "disqualified"),
                    ("Bad Timing", "nurture"),
                    // Lifecycle Stage (labels and internal values)
                    ("Subscriber", "new"),
                    ("Lead", "new"),
                    ("Marketing Qualified Lead", "working"),
                    ("marketingqualifiedlead", "working"),
                    ("Sales Qualified Lead", "qualified"),
                    ("salesqualifiedlead", "qualified"),
                    ("Opportunity", "converted"),
                    ("Customer", "converted"),
                    ("Evangelist", "converted"),
                ]),
            );
        }
        _ => {}
    }
    m
}

/// The built-in mapping `name` ("salesops", "salesforce", "hubspot") for `entity`, with its
/// columns filled in so a UI can show them.
pub fn preset(name: &str, entity: Entity) -> Result<Mapping, MappingError> {
    let name = PRESETS.iter().find(|p| p.eq_ignore_ascii_case(name.trim())).ok_or_else(|| {
        MappingError::new("preset", format!("unknown preset '{name}'; expected salesops, salesforce or hubspot"))
    })?;
    let mut m = base(name);
    m.entity = Some(entity);
    m.columns = columns(name, entity)
        .into_iter()
        .map(|(f, alts)| (f.to_string(), alts.iter().map(|s| s.to_string()).collect()))
        .collect();
    Ok(m)
}

/// The preset whose columns best match a file's header line (the first line of `header`; the
/// delimiter is guessed). Ties and headers that match nothing give "salesops".
pub fn detect_preset(header: &[u8], entity: Entity) -> &'static str {
    let header = header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(header);
    let line = header.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| (line.iter().filter(|b| *b == d).count(), *d == b','))
        .unwrap_or(b',');
    let mut reader = Reader::new(line, delimiter);
    let mut rec = Record::default();
    if !matches!(reader.next(&mut rec), Next::Record { .. }) {
        return "salesops";
    }
    let names: Vec<String> = rec.iter(line).map(|c| String::from_utf8_lossy(c).trim().to_string()).collect();
    let mut best = ("salesops", 0usize);
    for p in PRESETS {
        let cols = columns(p, entity);
        let prefix = base(p).stage_entered_prefix;
        let score = names
            .iter()
            .filter(|n| {
                cols.iter().any(|(_, alts)| alts.iter().any(|a| eq_fold(a, n)))
                    || prefix
                        .as_deref()
                        .is_some_and(|pre| n.len() > pre.len() && n.get(..pre.len()).is_some_and(|h| eq_fold(h, pre)))
            })
            .count();
        if score > best.1 {
            best = (p, score);
        }
    }
    best.0
}
