//! The salesops fields of each entity: what a mapping maps columns to, and the salesops CSV
//! header (the field names, in this order).

use serde::Serialize;

use crate::Entity;

/// One salesops field, for the UI's mapping page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldSpec {
    /// The field name used in mapping files and in the salesops CSV header.
    pub name: &'static str,
    /// A column for it must be in the file (references: see `help`).
    pub required: bool,
    /// What the field holds and the accepted format, in English.
    pub help: &'static str,
}

/// Declares an enum whose discriminants index the field table, so the two cannot drift apart.
macro_rules! field_table {
    ($enum:ident, $table:ident, $names:ident; $( $variant:ident = $name:literal, $req:literal, $help:literal; )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(dead_code)]
        pub(crate) enum $enum { $($variant),* }
        pub(crate) static $table: &[FieldSpec] = &[$(FieldSpec { name: $name, required: $req, help: $help }),*];
        pub(crate) static $names: &[&str] = &[$($name),*];
        impl From<$enum> for usize {
            fn from(f: $enum) -> usize {
                f as usize
            }
        }
    };
}

field_table! { A, ACCOUNT_FIELDS, ACCOUNT_NAMES;
    Id = "id", false, "salesops id of an existing account to update (a whole number)";
    ExternalId = "external_id", false, "the account's id in the source CRM; matches re-imports";
    Name = "name", true, "account name";
    Industry = "industry", false, "industry, free text";
    Employees = "employees", false, "number of employees, a whole number";
    Country = "country", false, "ISO 3166 two-letter code (NL) or English country name (Netherlands)";
    City = "city", false, "city";
    PostalCode = "postal_code", false, "postal code";
    TimeZone = "time_zone", false, "IANA time zone such as Europe/Amsterdam";
    Domain = "domain", false, "web site or domain; stored as example.com";
    Phone = "phone", false, "phone number";
    OwnerEmail = "owner_email", false, "e-mail address of the salesops user who owns the account";
    ParentId = "parent_id", false, "parent account: salesops id";
    ParentExternalId = "parent_external_id", false, "parent account: id in the source CRM";
    ParentName = "parent_name", false, "parent account: name";
    Currency = "currency", false, "ISO 4217 currency code such as EUR";
    CreatedAt = "created_at", false, "when the account was created; kept as history";
}

field_table! { C, CONTACT_FIELDS, CONTACT_NAMES;
    Id = "id", false, "salesops id of an existing contact to update";
    ExternalId = "external_id", false, "the contact's id in the source CRM; matches re-imports";
    FirstName = "first_name", false, "first name";
    LastName = "last_name", false, "last name; a contact needs a first name, last name or e-mail";
    Email = "email", false, "e-mail address";
    Phone = "phone", false, "phone number";
    Title = "title", false, "job title";
    AccountId = "account_id", false, "account: salesops id";
    AccountExternalId = "account_external_id", false, "account: id in the source CRM";
    AccountName = "account_name", false, "account: name";
    OwnerEmail = "owner_email", false, "e-mail address of the salesops user who owns the contact";
    CreatedAt = "created_at", false, "when the contact was created; kept as history";
}

field_table! { L, LEAD_FIELDS, LEAD_NAMES;
    Id = "id", false, "salesops id of an existing lead to update";
    ExternalId = "external_id", false, "the lead's id in the source CRM; matches re-imports";
    FirstName = "first_name", false, "first name";
    LastName = "last_name", false, "last name; a lead needs a first name, last name or e-mail";
    Company = "company", false, "company name";
    Email = "email", false, "e-mail address";
    Phone = "phone", false, "phone number";
    Source = "source", false, "lead source (web, event, referral, ...)";
    Campaign = "campaign", false, "campaign name";
    Status = "status", false, "new, working, nurture, qualified, disqualified or converted";
    DisqualifyReason = "disqualify_reason", false, "why the lead was disqualified";
    OwnerEmail = "owner_email", false, "e-mail address of the salesops user who owns the lead";
    CreatedAt = "created_at", false, "when the lead was created; kept as history";
}

field_table! { O, OPPORTUNITY_FIELDS, OPPORTUNITY_NAMES;
    Id = "id", false, "salesops id of an existing opportunity to update";
    ExternalId = "external_id", false, "the opportunity's id in the source CRM; matches re-imports";
    Name = "name", true, "opportunity name";
    AccountId = "account_id", false, "account: salesops id (one of the account columns is required)";
    AccountExternalId = "account_external_id", false, "account: id in the source CRM (one of the account columns is required)";
    AccountName = "account_name", false, "account: name (one of the account columns is required)";
    OwnerEmail = "owner_email", false, "e-mail address of the salesops user who owns the opportunity";
    Pipeline = "pipeline", false, "pipeline name; empty means the default pipeline";
    Stage = "stage", true, "stage name, matched to the pipeline's stages ignoring case";
    Amount = "amount", true, "amount, an exact decimal number; not negative";
    Currency = "currency", false, "ISO 4217 currency code; required unless the mapping sets default_currency";
    CloseDate = "close_date", true, "expected or actual close date";
    Probability = "probability", false, "win probability in percent, 0 to 100";
    ForecastCategory = "forecast_category", false, "pipeline, best_case, commit, closed or omitted";
    LossReason = "loss_reason", false, "why a lost opportunity was lost";
    LeadSource = "lead_source", false, "where the opportunity came from";
    EngagedOn = "engaged_on", false, "the date the prospect first engaged; kept as history";
    CreatedAt = "created_at", false, "when the opportunity was created; kept as history";
    StageEntered = "stage_entered", false, "stage history: Stage name@2024-01-31T09:00:00Z;Next stage@...";
}

field_table! { V, ACTIVITY_FIELDS, ACTIVITY_NAMES;
    Id = "id", false, "salesops id of an existing activity to update";
    ExternalId = "external_id", false, "the activity's id in the source CRM; matches re-imports";
    Kind = "kind", true, "call, email, meeting, task, note or visit";
    Subject = "subject", false, "subject or title";
    At = "at", true, "when it happened or is due; a date alone means midnight";
    DurationSeconds = "duration_seconds", false, "duration in seconds, or H:MM:SS";
    Outcome = "outcome", false, "outcome or call result";
    Address = "address", false, "where a visit or meeting took place";
    OwnerEmail = "owner_email", false, "e-mail address of the salesops user who did it";
    AccountId = "account_id", false, "account: salesops id";
    AccountExternalId = "account_external_id", false, "account: id in the source CRM";
    AccountName = "account_name", false, "account: name";
    OpportunityId = "opportunity_id", false, "opportunity: salesops id";
    OpportunityExternalId = "opportunity_external_id", false, "opportunity: id in the source CRM";
    OpportunityName = "opportunity_name", false, "opportunity: name";
    ContactId = "contact_id", false, "contact: salesops id";
    ContactExternalId = "contact_external_id", false, "contact: id in the source CRM";
    ContactName = "contact_name", false, "contact: e-mail address or full name";
    LeadId = "lead_id", false, "lead: salesops id";
    LeadExternalId = "lead_external_id", false, "lead: id in the source CRM";
    LeadName = "lead_name", false, "lead: e-mail address or full name";
    WhatId = "what_id", false, "Salesforce WhatId: an opportunity (006...) or account (001...) id; other objects are ignored";
    WhoId = "who_id", false, "Salesforce WhoId: a contact (003...) or lead (00Q...) id; other objects are ignored";
}

/// The salesops fields of `entity`, in the order of the salesops CSV header.
pub fn fields(entity: Entity) -> &'static [FieldSpec] {
    match entity {
        Entity::Accounts => ACCOUNT_FIELDS,
        Entity::Contacts => CONTACT_FIELDS,
        Entity::Leads => LEAD_FIELDS,
        Entity::Opportunities => OPPORTUNITY_FIELDS,
        Entity::Activities => ACTIVITY_FIELDS,
    }
}

/// The salesops CSV header of `entity`: its field names, without the import-only ones.
pub fn export_header(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Accounts => ACCOUNT_NAMES,
        Entity::Contacts => CONTACT_NAMES,
        Entity::Leads => LEAD_NAMES,
        Entity::Opportunities => OPPORTUNITY_NAMES,
        // what_id and who_id, the last two, only read Salesforce files.
        Entity::Activities => &ACTIVITY_NAMES[..ACTIVITY_NAMES.len() - 2],
    }
}

/// Fields that only exist to read other CRMs' files; the salesops export leaves them out.
pub(crate) fn import_only(name: &str) -> bool {
    matches!(name, "what_id" | "who_id")
}

/// The index of a field of `entity`, by name.
pub(crate) fn field_index(entity: Entity, name: &str) -> Option<usize> {
    fields(entity).iter().position(|f| f.name == name)
}

/// Whether any entity has a field of this name.
pub(crate) fn is_known_field(name: &str) -> bool {
    Entity::ALL.iter().any(|e| field_index(*e, name).is_some())
}
