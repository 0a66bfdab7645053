//! How the columns and values of a CSV file map onto salesops fields: a preset, or a TOML
//! mapping file (see README.md) optionally based on a preset.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use jiff::tz::TimeZone;
use model::Currency;
use serde::Deserialize;
use toml::Spanned;

use crate::Entity;
use crate::fields::{field_index, fields, is_known_field};
use crate::presets;

/// The character encoding of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// ISO 8859-1, read as Windows-1252 (its superset that Excel and browsers use).
    Latin1,
}

/// How the probability column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbabilityScale {
    /// 0 to 100, optionally with '%'.
    Percent,
    /// 0 to 1 (HubSpot's deal probability).
    Fraction,
}

/// A complete description of a file format: which column feeds which salesops field, how values
/// are written, and value maps. Build it with [`crate::preset`], [`Mapping::from_toml`], or by
/// hand. Fields not in `columns` come from `preset` (if set) for the entity being imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// Base preset ("salesops", "salesforce", "hubspot"): its columns apply to fields that
    /// `columns` does not mention.
    pub preset: Option<&'static str>,
    /// If set, the mapping is for this entity only; parsing another entity is a problem.
    pub entity: Option<Entity>,
    pub encoding: Encoding,
    pub delimiter: u8,
    /// '.' or ','; the other one, spaces and apostrophes are accepted as thousands separators.
    pub decimal_separator: char,
    /// jiff strtime format for dates; ISO 8601 (2024-03-31) is always accepted too.
    pub date_format: Option<String>,
    /// jiff strtime format for timestamps; RFC 3339, "YYYY-MM-DD HH:MM[:SS]" and dates alone
    /// are always accepted too.
    pub datetime_format: Option<String>,
    /// Zone of timestamps written without an offset.
    pub time_zone: TimeZone,
    /// Currency of amounts when the currency column is missing or empty.
    pub default_currency: Option<Currency>,
    pub probability: ProbabilityScale,
    /// Association columns holding several values ("123;456") use the first one.
    pub association_separator: Option<char>,
    /// Columns named `<prefix>Stage name` or `<prefix>"Stage (Pipeline)"` hold the timestamp the
    /// opportunity entered that stage (HubSpot: `Date entered `).
    pub stage_entered_prefix: Option<String>,
    /// salesops field -> CSV column names, first present wins; an empty list imports nothing.
    pub columns: BTreeMap<String, Vec<String>>,
    /// salesops field -> (CSV value -> salesops value), applied before validation; keys match
    /// exactly, else ignoring case. The key "" maps empty cells.
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Stage name -> CSV column holding when the opportunity entered that stage.
    pub stage_columns: BTreeMap<String, String>,
}

impl Default for Mapping {
    /// The salesops format.
    fn default() -> Self {
        Mapping {
            preset: Some("salesops"),
            entity: None,
            encoding: Encoding::Utf8,
            delimiter: b',',
            decimal_separator: '.',
            date_format: None,
            datetime_format: None,
            time_zone: TimeZone::UTC,
            default_currency: None,
            probability: ProbabilityScale::Percent,
            association_separator: None,
            stage_entered_prefix: None,
            columns: BTreeMap::new(),
            values: BTreeMap::new(),
            stage_columns: BTreeMap::new(),
        }
    }
}

/// A mapping file that cannot be used, naming the line and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{}", line.map(|l| format!("line {l}: ")).unwrap_or_default(), key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default(), message)]
pub struct MappingError {
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl MappingError {
    pub(crate) fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        MappingError { line: None, key: Some(key.into()), message: message.into() }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    preset: Option<Spanned<String>>,
    entity: Option<Spanned<String>>,
    encoding: Option<Spanned<String>>,
    delimiter: Option<Spanned<String>>,
    decimal_separator: Option<Spanned<String>>,
    date_format: Option<Spanned<String>>,
    datetime_format: Option<Spanned<String>>,
    time_zone: Option<Spanned<String>>,
    default_currency: Option<Spanned<String>>,
    probability: Option<Spanned<String>>,
    association_separator: Option<Spanned<String>>,
    stage_entered_prefix: Option<Spanned<String>>,
    #[serde(default)]
    columns: BTreeMap<Spanned<String>, Columns>,
    #[serde(default)]
    values: BTreeMap<Spanned<String>, BTreeMap<String, String>>,
    #[serde(default)]
    stage_entered: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Columns {
    One(String),
    Many(Vec<String>),
}

impl Mapping {
    /// Reads a TOML mapping file (format in README.md). Unknown keys, unknown field names and
    /// invalid settings are errors naming the key and its line.
    pub fn from_toml(text: &str) -> Result<Mapping, MappingError> {
        let file: File = toml::from_str(text).map_err(|e| MappingError {
            line: e.span().map(|s| line_of(text, s.start)),
            key: e.span().and_then(|s| key_at(text, s.start)),
            message: e.message().trim().to_string(),
        })?;
        let err = |span: Range<usize>, key: &str, message: String| MappingError {
            line: Some(line_of(text, span.start)),
            key: Some(key.to_string()),
            message,
        };

        let mut m = match &file.preset {
            Some(p) => {
                let name =
                    presets::PRESETS.iter().find(|n| n.eq_ignore_ascii_case(p.get_ref().trim())).ok_or_else(|| {
                        err(
                            p.span(),
                            "preset",
                            format!("unknown preset '{}'; expected salesops, salesforce or hubspot", p.get_ref()),
                        )
                    })?;
                presets::base(name)
            }
            None => Mapping { preset: None, ..Mapping::default() },
        };

        if let Some(e) = &file.entity {
            m.entity = Some(Entity::parse(e.get_ref()).map_err(|v| err(e.span(), "entity", v.reason))?);
        }
        if let Some(e) = &file.encoding {
            m.encoding = match e.get_ref().trim().to_ascii_lowercase().as_str() {
                "utf-8" | "utf8" => Encoding::Utf8,
                "latin-1" | "latin1" | "iso-8859-1" | "windows-1252" | "cp1252" => Encoding::Latin1,
                other => {
                    return Err(err(
                        e.span(),
                        "encoding",
                        format!("unknown encoding '{other}'; expected \"utf-8\" or \"latin-1\""),
                    ));
                }
            };
        }
        if let Some(d) = &file.delimiter {
            let s = d.get_ref();
            m.delimiter = match s.as_str() {
                "tab" | "\\t" | "\t" => b'\t',
                _ if s.len() == 1 && s.is_ascii() && !matches!(s.as_bytes()[0], b'"' | b'\n' | b'\r') => {
                    s.as_bytes()[0]
                }
                _ => {
                    return Err(err(
                        d.span(),
                        "delimiter",
                        format!(
                            "'{s}' cannot separate columns; use one character such as \",\", \";\", \"|\" or \"\\t\""
                        ),
                    ));
                }
            };
        }
        if let Some(d) = &file.decimal_separator {
            m.decimal_separator = match d.get_ref().as_str() {
                "." => '.',
                "," => ',',
                s => return Err(err(d.span(), "decimal_separator", format!("'{s}' is not \".\" or \",\""))),
            };
        }
        if let Some(f) = &file.date_format {
            let sample = jiff::civil::date(2024, 3, 31);
            jiff::fmt::strtime::format(f.get_ref().as_str(), sample).map_err(|e| {
                err(
                    f.span(),
                    "date_format",
                    format!("'{}' is not a date format with only date parts ({e})", f.get_ref()),
                )
            })?;
            m.date_format = Some(f.get_ref().clone());
        }
        if let Some(f) = &file.datetime_format {
            let sample = jiff::civil::date(2024, 3, 31)
                .at(14, 30, 0, 0)
                .to_zoned(TimeZone::UTC)
                .map_err(|e| err(f.span(), "datetime_format", e.to_string()))?;
            jiff::fmt::strtime::format(f.get_ref().as_str(), &sample).map_err(|e| {
                err(f.span(), "datetime_format", format!("'{}' is not a date-time format ({e})", f.get_ref()))
            })?;
            m.datetime_format = Some(f.get_ref().clone());
        }
        if let Some(z) = &file.time_zone {
            m.time_zone = TimeZone::get(z.get_ref().trim()).map_err(|_| {
                err(
                    z.span(),
                    "time_zone",
                    format!("'{}' is not an IANA time zone such as Europe/Amsterdam", z.get_ref()),
                )
            })?;
        }
        if let Some(c) = &file.default_currency {
            m.default_currency =
                Some(Currency::parse(c.get_ref()).map_err(|v| err(c.span(), "default_currency", v.reason))?);
        }
        if let Some(p) = &file.probability {
            m.probability = match p.get_ref().trim() {
                "percent" => ProbabilityScale::Percent,
                "fraction" => ProbabilityScale::Fraction,
                s => return Err(err(p.span(), "probability", format!("'{s}' is not \"percent\" or \"fraction\""))),
            };
        }
        if let Some(a) = &file.association_separator {
            let s = a.get_ref();
            let mut chars = s.chars();
            m.association_separator = match (chars.next(), chars.next()) {
                (None, _) => None,
                (Some(c), None) => Some(c),
                _ => return Err(err(a.span(), "association_separator", format!("'{s}' is not one character"))),
            };
        }
        if let Some(p) = &file.stage_entered_prefix {
            m.stage_entered_prefix = Some(p.get_ref().clone()).filter(|s| !s.is_empty());
        }

        let check_field = |key: &Spanned<String>, section: &str| -> Result<(), MappingError> {
            let name = key.get_ref();
            let known = match m.entity {
                Some(e) => field_index(e, name).is_some(),
                None => is_known_field(name),
            };
            if known {
                return Ok(());
            }
            let candidates: Vec<&str> = match m.entity {
                Some(e) => fields(e).iter().map(|f| f.name).collect(),
                None => Entity::ALL.iter().flat_map(|e| fields(*e).iter().map(|f| f.name)).collect(),
            };
            let mut message = match m.entity {
                Some(e) => format!("'{name}' is not a field of {e}"),
                None => format!("'{name}' is not a salesops field"),
            };
            match candidates.iter().min_by_key(|c| edit_distance(name, c)) {
                Some(c) if edit_distance(name, c) <= 3 => message.push_str(&format!("; did you mean '{c}'?")),
                _ => message.push('.'),
            }
            match m.entity {
                Some(_) => message.push_str(&format!(" The fields are: {}", candidates.join(", "))),
                None => message.push_str(" The fields of each entity are listed in the import README."),
            }
            Err(err(key.span(), &format!("{section}.{name}"), message))
        };
        for (key, cols) in file.columns {
            check_field(&key, "columns")?;
            let list = match cols {
                Columns::One(s) => vec![s],
                Columns::Many(v) => v,
            };
            let list: Vec<String> = list.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            m.columns.insert(key.into_inner(), list);
        }
        for (key, map) in file.values {
            check_field(&key, "values")?;
            let entry = m.values.entry(key.into_inner()).or_default();
            for (k, v) in map {
                entry.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
        for (stage, col) in file.stage_entered {
            m.stage_columns.insert(stage.trim().to_string(), col.trim().to_string());
        }
        Ok(m)
    }

    /// The columns and value maps for one entity: the preset's, overridden by this mapping's.
    pub(crate) fn resolve(&self, entity: Entity) -> Resolved {
        let builtin = self.preset.map(|p| presets::columns(p, entity)).unwrap_or_default();
        let mut cols = Vec::new();
        let mut maps = Vec::new();
        for f in fields(entity) {
            let preset_alts: Vec<String> = builtin
                .iter()
                .find(|(name, _)| *name == f.name)
                .map(|(_, alts)| alts.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            let choice = match self.columns.get(f.name) {
                Some(user) => ColumnChoice { explicit: *user != preset_alts, names: user.clone() },
                None => ColumnChoice { explicit: false, names: preset_alts },
            };
            cols.push(choice);
            maps.push(self.values.get(f.name).map(ValueMap::new));
        }
        let stage_map = self.values.get("stage").map(ValueMap::new);
        Resolved {
            cols,
            maps,
            stage_map,
            stage_columns: self.stage_columns.iter().map(|(s, c)| (s.clone(), c.clone())).collect(),
        }
    }
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The key on the line containing `offset` ("delimiter" in `delimiter = 5`), for error messages.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let key = line.split_once('=')?.0.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_string())
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

pub(crate) struct ColumnChoice {
    pub names: Vec<String>,
    /// Named by the user rather than the preset: a missing column is then a problem.
    pub explicit: bool,
}

pub(crate) struct Resolved {
    /// Per field of the entity.
    pub cols: Vec<ColumnChoice>,
    pub maps: Vec<Option<ValueMap>>,
    /// The stage value map, also applied to stage names of stage-entered columns.
    pub stage_map: Option<ValueMap>,
    pub stage_columns: Vec<(String, String)>,
}

/// A prepared value map: exact lookup first, then ignoring case.
#[derive(Debug)]
pub(crate) struct ValueMap {
    exact: HashMap<String, String>,
    folded: HashMap<String, String>,
}

impl ValueMap {
    fn new(m: &BTreeMap<String, String>) -> ValueMap {
        ValueMap {
            exact: m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            folded: m.iter().map(|(k, v)| (k.to_lowercase(), v.clone())).collect(),
        }
    }

    /// `scratch` is reused for the lower-cased key so lookups do not allocate.
    pub fn get<'a>(&'a self, s: &str, scratch: &mut String) -> Option<&'a str> {
        if let Some(v) = self.exact.get(s) {
            return Some(v);
        }
        scratch.clear();
        scratch.extend(s.chars().flat_map(char::to_lowercase));
        self.folded.get(scratch.as_str()).map(String::as_str)
    }
}
