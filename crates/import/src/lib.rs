//! CSV import and export for salesops.
//!
//! [`parse`] turns a CSV file exported from Salesforce, HubSpot, salesops itself or any other CRM
//! (described by a [`Mapping`]) into validated, typed rows ([`Rows`]) plus a list of [`Problem`]s
//! (row, column, value, reason) for a dry-run report. The caller writes nothing when `problems`
//! is non-empty: an import is all-or-nothing. The [`Exporter`] writes salesops' own CSV format,
//! which [`parse`] with the `salesops` preset reads back into the same rows (round trip).
//!
//! Pure: no I/O but reading the bytes the caller hands over, no clock, no global state.
//! Formula injection is refused on import (`=HYPERLINK(..)` is a [`Problem`]) and neutralised on
//! export with [`escape_cell`]. The mapping file format is described in the crate's README.md.

mod countries;
mod csvread;
mod export;
mod fields;
mod mapping;
mod parse;
mod presets;
mod text;

use jiff::Timestamp;
use jiff::civil::Date;
use model::{ActivityKind, Currency, ForecastCategory, LeadStatus, Money, ValueError};
use serde::Serialize;

pub use export::{ExportError, ExportRow, Exporter, export};
pub use fields::{FieldSpec, export_header, fields};
pub use mapping::{Encoding, Mapping, MappingError, ProbabilityScale};
pub use parse::{Chunk, Stream, parse, parse_reader};
pub use presets::{PRESETS, detect_preset, preset};
pub use text::{escape_cell, needs_escape, unescape_cell};

/// What a file holds: one kind of record per import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    Accounts,
    Contacts,
    Leads,
    Opportunities,
    Activities,
}

impl Entity {
    pub const ALL: [Entity; 5] =
        [Entity::Accounts, Entity::Contacts, Entity::Leads, Entity::Opportunities, Entity::Activities];

    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Accounts => "accounts",
            Entity::Contacts => "contacts",
            Entity::Leads => "leads",
            Entity::Opportunities => "opportunities",
            Entity::Activities => "activities",
        }
    }

    /// One record of this kind, for messages ("every opportunity needs a stage").
    pub fn singular(self) -> &'static str {
        match self {
            Entity::Accounts => "account",
            Entity::Contacts => "contact",
            Entity::Leads => "lead",
            Entity::Opportunities => "opportunity",
            Entity::Activities => "activity",
        }
    }

    /// Accepts the plural ("opportunities") or singular ("opportunity") name, any case.
    pub fn parse(s: &str) -> Result<Entity, ValueError> {
        let s = s.trim();
        Entity::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(s) || e.singular().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                ValueError::new(
                    "entity",
                    format!("'{s}' is not accounts, contacts, leads, opportunities or activities"),
                )
            })
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference to another record; the store resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Ref {
    /// A salesops id.
    Id(i64),
    /// The record's id in the source CRM (Salesforce Id, HubSpot Record ID, ...).
    External(String),
    /// The record's name (for contacts and leads: the e-mail address or the full name).
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountRow {
    pub id: Option<i64>,
    pub external_id: Option<String>,
    pub name: String,
    pub industry: String,
    pub employees: Option<i32>,
    /// ISO 3166-1 alpha-2, upper case, or "".
    pub country: String,
    pub city: String,
    pub postal_code: String,
    /// A canonical IANA time zone name.
    pub time_zone: Option<String>,
    /// Normalised: lower case, no scheme, no `www.`, no path.
    pub domain: Option<String>,
    pub phone: Option<String>,
    /// Lower case.
    pub owner_email: Option<String>,
    pub parent: Option<Ref>,
    pub currency: Option<Currency>,
    pub created_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactRow {
    pub id: Option<i64>,
    pub external_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: String,
    pub account: Option<Ref>,
    pub owner_email: Option<String>,
    pub created_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeadRow {
    pub id: Option<i64>,
    pub external_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: String,
    pub campaign: String,
    pub status: Option<LeadStatus>,
    pub disqualify_reason: Option<String>,
    pub owner_email: Option<String>,
    pub created_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpportunityRow {
    pub id: Option<i64>,
    pub external_id: Option<String>,
    pub name: String,
    pub account: Ref,
    pub owner_email: Option<String>,
    pub pipeline: Option<String>,
    pub stage: String,
    pub amount: Money,
    pub close_date: Date,
    /// Percent, 0..=100.
    pub probability: Option<i32>,
    pub forecast_category: Option<ForecastCategory>,
    pub loss_reason: Option<String>,
    pub lead_source: Option<String>,
    pub engaged_on: Option<Date>,
    pub created_at: Option<Timestamp>,
    /// Historical stage entries (stage name, when it was entered), oldest first.
    pub stage_entered: Vec<(String, Timestamp)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityRow {
    pub id: Option<i64>,
    pub external_id: Option<String>,
    pub kind: ActivityKind,
    pub subject: String,
    pub at: Timestamp,
    pub duration_seconds: Option<i64>,
    pub outcome: Option<String>,
    pub address: Option<String>,
    pub owner_email: Option<String>,
    pub account: Option<Ref>,
    pub opportunity: Option<Ref>,
    pub contact: Option<Ref>,
    pub lead: Option<Ref>,
}

/// The rows of one file, all of one entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "entity", content = "rows", rename_all = "lowercase")]
pub enum Rows {
    Accounts(Vec<AccountRow>),
    Contacts(Vec<ContactRow>),
    Leads(Vec<LeadRow>),
    Opportunities(Vec<OpportunityRow>),
    Activities(Vec<ActivityRow>),
}

impl Rows {
    pub fn empty(entity: Entity) -> Rows {
        match entity {
            Entity::Accounts => Rows::Accounts(Vec::new()),
            Entity::Contacts => Rows::Contacts(Vec::new()),
            Entity::Leads => Rows::Leads(Vec::new()),
            Entity::Opportunities => Rows::Opportunities(Vec::new()),
            Entity::Activities => Rows::Activities(Vec::new()),
        }
    }

    pub fn entity(&self) -> Entity {
        match self {
            Rows::Accounts(_) => Entity::Accounts,
            Rows::Contacts(_) => Entity::Contacts,
            Rows::Leads(_) => Entity::Leads,
            Rows::Opportunities(_) => Entity::Opportunities,
            Rows::Activities(_) => Entity::Activities,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Rows::Accounts(v) => v.len(),
            Rows::Contacts(v) => v.len(),
            Rows::Leads(v) => v.len(),
            Rows::Opportunities(v) => v.len(),
            Rows::Activities(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One reason a file cannot be imported as it is, for the validation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Problem {
    /// 1-based physical line in the file where the record starts; the header is line 1.
    pub line: u64,
    /// 1-based data row number; 0 for problems with the whole file or its header.
    pub row: u64,
    /// The CSV column as named in the file's header.
    pub column: Option<String>,
    /// The offending value, truncated to 80 characters.
    pub value: Option<String>,
    /// Stable machine-readable code: `required`, `bad_number`, `out_of_range`, `negative_amount`,
    /// `bad_date`, `bad_currency`, `bad_email`, `bad_value`, `unknown_value`, `formula`,
    /// `ragged_row`, `bad_utf8`, `bad_quoting`, `too_large`, `empty_file`, `missing_column`,
    /// `duplicate_key`, `mapping`, `io_error`.
    pub code: std::borrow::Cow<'static, str>,
    /// A clear English sentence naming what is expected.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        if self.row > 0 {
            write!(f, " (row {})", self.row)?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column '{c}'")?;
        }
        if let Some(v) = &self.value {
            write!(f, ", value '{v}'")?;
        }
        write!(f, ": {} [{}]", self.message, self.code)
    }
}

/// The outcome of [`parse`]. Import only when `problems` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parsed {
    /// The valid rows, in file order; partial when there are problems.
    pub rows: Rows,
    /// At most `Limits::max_problems` problems, in file order.
    pub problems: Vec<Problem>,
    /// Every problem found, including those not collected.
    pub problem_count: u64,
    /// Data rows read (the header and blank lines not counted).
    pub rows_read: u64,
    /// Header columns that no field used, so a dry run can say what will not be imported.
    pub ignored_columns: Vec<String>,
    /// (line, data-row number) of each entry of `rows`, in order, so later checks (references
    /// to other records) can name where a row is in the file.
    pub positions: Vec<(u64, u64)>,
    /// salesops field name -> the CSV column it was read from (for the report's column).
    pub columns: std::collections::BTreeMap<String, String>,
}

impl Parsed {
    /// True when the rows may be written.
    pub fn is_ok(&self) -> bool {
        self.problem_count == 0
    }

    /// The dry-run report: one line per problem, and a count of the problems left out.
    pub fn report(&self) -> String {
        let mut s = String::new();
        for p in &self.problems {
            s.push_str(&p.to_string());
            s.push('\n');
        }
        let left = self.problem_count.saturating_sub(self.problems.len() as u64);
        if left > 0 {
            s.push_str(&format!("... and {left} more problems\n"));
        }
        s
    }
}

/// Bounds on what one import may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Larger files are refused with a single `too_large` problem, unread.
    pub max_bytes: u64,
    /// Problems collected; after that they are only counted (`Parsed::problem_count`).
    pub max_problems: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 1 << 30, max_problems: 1000 }
    }
}
