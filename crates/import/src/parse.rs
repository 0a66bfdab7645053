//! Reading a CSV file into validated rows and a list of problems.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::Read;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::fmt::strtime;
use jiff::tz::TimeZone;
use model::{Currency, Money};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::countries::country_code;
use crate::csvread::{Next, Reader, Record};
use crate::fields::{A, C, L, O, V, fields};
use crate::mapping::{Encoding, Mapping, ProbabilityScale, ValueMap};
use crate::text::{
    decode_cp1252, formula_risk, human_size, normalise_domain, parse_activity_kind, parse_decimal, parse_duration,
    parse_email, parse_forecast, parse_int, parse_lead_status, truncate, unescape_str,
};
use crate::{AccountRow, ActivityRow, ContactRow, Entity, LeadRow, Limits, OpportunityRow, Parsed, Problem, Ref, Rows};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads `input` (a whole CSV file) as rows of `entity` described by `mapping`.
///
/// Never panics on any input. The header is checked first: a required field without its column
/// gives one `missing_column` problem each and no rows are read. Then every row is validated;
/// each failure is one [`Problem`]. Import the rows only when [`Parsed::is_ok`].
pub fn parse(input: &[u8], entity: Entity, mapping: &Mapping, limits: &Limits) -> Parsed {
    let mut stream = Stream::new(input, entity, mapping, limits);
    let chunk = stream.next_chunk(usize::MAX);
    let mut parsed = stream.finish();
    if let Some(c) = chunk {
        parsed.rows = c.rows;
        parsed.positions = c.positions;
    }
    parsed
}

/// Like [`parse`], reading from `reader` first; at most `limits.max_bytes` are kept in memory.
/// A larger input is drained to measure it and refused with one `too_large` problem.
pub fn parse_reader(mut reader: impl Read, entity: Entity, mapping: &Mapping, limits: &Limits) -> Parsed {
    let mut buf = Vec::new();
    let file_problem = |code: &'static str, message: String| Parsed {
        rows: Rows::empty(entity),
        problems: vec![Problem { line: 0, row: 0, column: None, value: None, code: code.into(), message }],
        problem_count: 1,
        rows_read: 0,
        ignored_columns: Vec::new(),
        positions: Vec::new(),
        columns: std::collections::BTreeMap::new(),
    };
    if let Err(e) = (&mut reader).take(limits.max_bytes.saturating_add(1)).read_to_end(&mut buf) {
        return file_problem("io_error", format!("the file could not be read: {e}"));
    }
    if buf.len() as u64 > limits.max_bytes {
        let rest = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_or(0);
        return file_problem("too_large", too_large_message(buf.len() as u64 + rest, limits.max_bytes));
    }
    parse(&buf, entity, mapping, limits)
}

fn too_large_message(size: u64, limit: u64) -> String {
    format!(
        "the file is {}; the limit is {}. Split it into smaller files (the header line in each) and import them one by one",
        human_size(size),
        human_size(limit)
    )
}

/// Valid rows read by [`Stream::next_chunk`], with the (line, data-row number) of each.
#[derive(Debug)]
pub struct Chunk {
    pub rows: Rows,
    pub positions: Vec<(u64, u64)>,
}

/// Reads a CSV file chunk by chunk, so the caller can check and write one chunk while the next
/// is read, and never holds every row of a big file at once. Problems (including ids and
/// external ids that occur twice anywhere in the file) collect in the stream; [`Stream::finish`]
/// returns them. [`parse`] is a stream read in one chunk.
pub struct Stream<'a> {
    data: &'a [u8],
    text: Option<&'a str>,
    delimiter: u8,
    /// None when the header failed (or was never read): no rows follow.
    records: Option<Reader<'a>>,
    plan: Option<Plan>,
    entity: Entity,
    sink: Sink,
    rows_read: u64,
    rec: Record,
    buf: String,
    scratch: String,
    row: u64,
    ids: HashMap<i64, u64>,
    exts: HashMap<Box<str>, u64>,
}

impl<'a> Stream<'a> {
    /// Checks the size, the mapping and the header; rows are read by [`Stream::next_chunk`].
    pub fn new(input: &'a [u8], entity: Entity, mapping: &Mapping, limits: &Limits) -> Stream<'a> {
        let data = input.strip_prefix(BOM).unwrap_or(input);
        let mut s = Stream {
            data,
            text: None,
            delimiter: mapping.delimiter,
            records: None,
            plan: None,
            entity,
            sink: Sink { list: Vec::new(), total: 0, max: limits.max_problems },
            rows_read: 0,
            rec: Record::default(),
            buf: String::new(),
            scratch: String::new(),
            row: 0,
            ids: HashMap::new(),
            exts: HashMap::new(),
        };
        let file_problem = |sink: &mut Sink, line: u64, code: &'static str, message: String| {
            sink.add(|| Problem { line, row: 0, column: None, value: None, code: code.into(), message })
        };
        if input.len() as u64 > limits.max_bytes {
            file_problem(&mut s.sink, 0, "too_large", too_large_message(input.len() as u64, limits.max_bytes));
            return s;
        }
        if let Some(e) = mapping.entity
            && e != entity
        {
            let message =
                format!("the mapping is for {e}, but this import is for {entity}; choose the mapping for {entity}");
            file_problem(&mut s.sink, 0, "mapping", message);
            return s;
        }
        // Validating the whole file at once lets cells be plain slices of it.
        s.text = match mapping.encoding {
            Encoding::Utf8 => std::str::from_utf8(data).ok(),
            Encoding::Latin1 => None,
        };
        let mut records = Reader::new(data, mapping.delimiter);
        let mut rec = Record::default();
        let header_line = match records.next(&mut rec) {
            Next::End => {
                let message = "the file is empty; expected a header line with the column names and one row per record";
                file_problem(&mut s.sink, 1, "empty_file", message.into());
                return s;
            }
            Next::BadQuoting(q) => {
                let message = format!("the header line is not valid CSV: a field {}", q.reason);
                s.sink.add(|| Problem {
                    line: q.line,
                    row: 0,
                    column: None,
                    value: Some(truncate(&q.value)),
                    code: "bad_quoting".into(),
                    message,
                });
                return s;
            }
            Next::Record { line } => line,
        };

        let mut header = Vec::with_capacity(rec.len());
        let mut scratch = String::new();
        for cell in rec.iter(data) {
            let name = match mapping.encoding {
                Encoding::Latin1 => {
                    decode_cp1252(cell, &mut scratch);
                    scratch.clone()
                }
                Encoding::Utf8 => match std::str::from_utf8(cell) {
                    Ok(s) => s.to_string(),
                    Err(_) => {
                        let lossy = String::from_utf8_lossy(cell).into_owned();
                        s.sink.add(|| Problem {
                            line: header_line,
                            row: 0,
                            column: None,
                            value: Some(truncate(&lossy)),
                            code: "bad_utf8".into(),
                            message: BAD_UTF8.into(),
                        });
                        lossy
                    }
                },
            };
            header.push(name.trim().to_string());
        }
        let plan = Plan::new(entity, mapping, header, header_line, &mut s.sink);
        if s.sink.total == 0 {
            s.records = Some(records);
        }
        s.rec = rec;
        s.plan = Some(plan);
        s
    }

    /// Problems found so far.
    pub fn problem_count(&self) -> u64 {
        self.sink.total
    }

    /// Bytes of the file read so far.
    pub fn bytes_read(&self) -> usize {
        match &self.records {
            Some(r) => self.data.len() - r.remaining().len(),
            None => self.data.len(),
        }
    }

    /// Field name -> the CSV column it is read from.
    pub fn columns(&self) -> std::collections::BTreeMap<String, String> {
        self.plan.as_ref().map(Plan::field_columns).unwrap_or_default()
    }

    /// The next valid rows, at most `max_rows` (rows with problems are left out and their
    /// problems collected); None at the end of the file.
    pub fn next_chunk(&mut self, max_rows: usize) -> Option<Chunk> {
        let (Some(records), Some(plan)) = (self.records.as_mut(), self.plan.as_ref()) else { return None };
        let data = self.data;
        let mut rows = Rows::empty(self.entity);
        let mut positions: Vec<(u64, u64)> = Vec::new();
        let mut cx = Cx {
            plan,
            data,
            text: self.text,
            rec: std::mem::take(&mut self.rec),
            buf: std::mem::take(&mut self.buf),
            scratch: std::mem::take(&mut self.scratch),
            sink: &mut self.sink,
            line: 0,
            row: self.row,
            ok: true,
        };
        let width = plan.header.len();
        let delimiter = self.delimiter;
        let mut at_end = false;
        while positions.len() < max_rows {
            match records.next(&mut cx.rec) {
                Next::End => {
                    at_end = true;
                    break;
                }
                Next::BadQuoting(q) => {
                    cx.row += 1;
                    self.rows_read += 1;
                    let column = plan.header.get(q.field).cloned();
                    let (line, row) = (q.line, cx.row);
                    let message = format!(
                        "a field {}; quote the whole field (\"...\") and double every quote inside it (\"\")",
                        q.reason
                    );
                    cx.sink.add(|| Problem {
                        line,
                        row,
                        column,
                        value: Some(truncate(&q.value)),
                        code: "bad_quoting".into(),
                        message,
                    });
                }
                Next::Record { line } => {
                    if cx.rec.iter(data).all(|c| c.trim_ascii().is_empty()) {
                        continue;
                    }
                    cx.row += 1;
                    self.rows_read += 1;
                    cx.line = line;
                    if cx.rec.len() != width {
                        let (row, n) = (cx.row, cx.rec.len());
                        cx.sink.add(|| Problem {
                            line,
                            row,
                            column: None,
                            value: None,
                            code: "ragged_row".into(),
                            message: format!(
                                "the row has {n} fields, the header has {width}; check for a missing or extra delimiter or an unquoted '{}' inside a value",
                                char::from(delimiter).escape_default()
                            ),
                        });
                        continue;
                    }
                    cx.ok = true;
                    let keys = match &mut rows {
                        Rows::Accounts(v) => push(v, account(&mut cx)),
                        Rows::Contacts(v) => push(v, contact(&mut cx)),
                        Rows::Leads(v) => push(v, lead(&mut cx)),
                        Rows::Opportunities(v) => push(v, opportunity(&mut cx)),
                        Rows::Activities(v) => push(v, activity(&mut cx)),
                    };
                    if let Some((id, ext)) = keys {
                        duplicate(&mut self.ids, &mut self.exts, id, ext, (line, cx.row), plan, cx.sink);
                        positions.push((line, cx.row));
                        if positions.len() == 1024 {
                            // Size the vectors for the rest of the chunk from the rows so far,
                            // instead of growing (and copying) them step by step.
                            let rest = records.remaining().len();
                            let per_row = (data.len() - rest).max(1) / self.rows_read.max(1) as usize;
                            let more = (rest / per_row.max(1)).min(max_rows - positions.len());
                            positions.reserve(more);
                            match &mut rows {
                                Rows::Accounts(v) => v.reserve(more),
                                Rows::Contacts(v) => v.reserve(more),
                                Rows::Leads(v) => v.reserve(more),
                                Rows::Opportunities(v) => v.reserve(more),
                                Rows::Activities(v) => v.reserve(more),
                            }
                        }
                    }
                }
            }
        }
        self.row = cx.row;
        self.rec = cx.rec;
        self.buf = cx.buf;
        self.scratch = cx.scratch;
        if at_end {
            self.records = None;
            if positions.is_empty() {
                return None;
            }
        }
        Some(Chunk { rows, positions })
    }

    /// The problems, the number of rows read, the ignored columns and the columns used; `rows`
    /// and `positions` are empty (they went out in chunks).
    pub fn finish(mut self) -> Parsed {
        self.sink.list.sort_by_key(|p| (p.line, p.row));
        let (ignored_columns, columns) = match &self.plan {
            Some(p) => (p.ignored_columns(), p.field_columns()),
            None => (Vec::new(), Default::default()),
        };
        Parsed {
            rows: Rows::empty(self.entity),
            problems: self.sink.list,
            problem_count: self.sink.total,
            rows_read: self.rows_read,
            ignored_columns,
            positions: Vec::new(),
            columns,
        }
    }
}

/// Adds a valid row; returns its upsert keys.
fn push<T: Keyed>(v: &mut Vec<T>, row: Option<T>) -> Option<(Option<i64>, Option<Box<str>>)> {
    let row = row?;
    let (id, ext) = row.keys();
    let ext = ext.map(Box::from);
    v.push(row);
    Some((id, ext))
}

/// The upsert keys of a row: salesops id and external id.
trait Keyed {
    fn keys(&self) -> (Option<i64>, Option<&str>);
}

macro_rules! keyed {
    ($($t:ty),*) => {$(
        impl Keyed for $t {
            fn keys(&self) -> (Option<i64>, Option<&str>) {
                (self.id, self.external_id.as_deref())
            }
        }
    )*};
}
keyed!(AccountRow, ContactRow, LeadRow, OpportunityRow, ActivityRow);

/// Reports an id or external id seen before in the file (anywhere, also in earlier chunks).
fn duplicate(
    ids: &mut HashMap<i64, u64>,
    exts: &mut HashMap<Box<str>, u64>,
    id: Option<i64>,
    ext: Option<Box<str>>,
    (line, row): (u64, u64),
    plan: &Plan,
    sink: &mut Sink,
) {
    let column = |f: usize| plan.cols[f].and_then(|c| plan.header.get(c).cloned());
    if let Some(id) = id {
        match ids.entry(id) {
            Entry::Occupied(first) => {
                let first = *first.get();
                sink.add(|| Problem {
                    line,
                    row,
                    column: column(0),
                    value: Some(id.to_string()),
                    code: "duplicate_key".into(),
                    message: format!("the id {id} is also on line {first}; a record may appear only once per file"),
                });
            }
            Entry::Vacant(e) => {
                e.insert(line);
            }
        }
    }
    if let Some(ext) = ext {
        match exts.entry(ext) {
            Entry::Occupied(e) => {
                let (first, ext) = (*e.get(), e.key());
                sink.add(|| Problem {
                    line,
                    row,
                    column: column(1),
                    value: Some(truncate(ext)),
                    code: "duplicate_key".into(),
                    message: format!(
                        "the external id '{}' is also on line {first}; a record may appear only once per file",
                        truncate(ext)
                    ),
                });
            }
            Entry::Vacant(e) => {
                e.insert(line);
            }
        }
    }
}

const BAD_UTF8: &str = "is not valid UTF-8; save the file as UTF-8, or set encoding = \"latin-1\" in the mapping if it is Latin-1 / Windows-1252";

/// Collected problems, capped, with a running count.
struct Sink {
    list: Vec<Problem>,
    total: u64,
    max: usize,
}

impl Sink {
    fn add(&mut self, make: impl FnOnce() -> Problem) {
        self.total += 1;
        if self.list.len() < self.max {
            self.list.push(make());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Plan: the header matched against the mapping.

struct Plan {
    entity: Entity,
    header: Vec<String>,
    /// Per field of the entity: the column index, if the file has it.
    cols: Vec<Option<usize>>,
    maps: Vec<Option<ValueMap>>,
    /// (stage name, column) of stage-entered timestamp columns.
    stage_cols: Vec<(String, usize)>,
    encoding: Encoding,
    dec: char,
    date_format: Option<String>,
    datetime_format: Option<String>,
    tz: TimeZone,
    default_currency: Option<Currency>,
    probability: ProbabilityScale,
    assoc_sep: Option<char>,
}

impl Plan {
    /// Matches the header; missing columns are reported to `sink`.
    fn new(entity: Entity, mapping: &Mapping, header: Vec<String>, line: u64, sink: &mut Sink) -> Plan {
        let resolved = mapping.resolve(entity);
        let lower: Vec<String> = header.iter().map(|h| h.to_lowercase()).collect();
        let find = |name: &str| {
            let l = name.trim().to_lowercase();
            lower.iter().position(|h| *h == l)
        };
        let specs = fields(entity);
        let cols: Vec<Option<usize>> = resolved.cols.iter().map(|c| c.names.iter().find_map(|n| find(n))).collect();
        let mut missing = |column: Option<String>, message: String| {
            sink.add(|| Problem { line, row: 0, column, value: None, code: "missing_column".into(), message })
        };
        let names_of =
            |i: usize| resolved.cols[i].names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(" or ");
        for (i, spec) in specs.iter().enumerate() {
            let choice = &resolved.cols[i];
            let named_by_user = choice.explicit && !choice.names.is_empty();
            if cols[i].is_some() || !(spec.required || named_by_user) {
                continue;
            }
            let column = choice.names.first().cloned();
            let message = if choice.names.is_empty() {
                format!(
                    "no column is mapped to the required field '{}' ({}); map one under [columns] in the mapping",
                    spec.name, spec.help
                )
            } else if spec.required {
                format!(
                    "the header has no column {} for the required field '{}' ({}); add the column or map another one under [columns]",
                    names_of(i),
                    spec.name,
                    spec.help
                )
            } else {
                format!(
                    "the mapping names column {} for '{}', but the header has no such column",
                    names_of(i),
                    spec.name
                )
            };
            missing(column, message);
        }
        if entity == Entity::Opportunities {
            let group = [O::AccountId, O::AccountExternalId, O::AccountName].map(usize::from);
            if group.iter().all(|i| cols[*i].is_none()) {
                let names: Vec<String> =
                    group.iter().filter(|i| !resolved.cols[**i].names.is_empty()).map(|i| names_of(*i)).collect();
                let column = group.iter().find_map(|i| resolved.cols[*i].names.first().cloned());
                missing(
                    column,
                    format!(
                        "the header has no account column ({}); every opportunity needs its account: map account_id, account_external_id or account_name under [columns]",
                        if names.is_empty() { "none mapped".to_string() } else { names.join(", ") }
                    ),
                );
            }
            let (amount, currency) = (usize::from(O::Amount), usize::from(O::Currency));
            if cols[amount].is_some() && cols[currency].is_none() && mapping.default_currency.is_none() {
                missing(
                    resolved.cols[currency].names.first().cloned(),
                    "the header has no currency column and the mapping sets no default_currency; add one of the two"
                        .to_string(),
                );
            }
        }
        let mut stage_cols = Vec::new();
        if entity == Entity::Opportunities {
            for (stage, column) in &resolved.stage_columns {
                match find(column) {
                    Some(i) => stage_cols.push((stage.clone(), i)),
                    None => missing(
                        Some(column.clone()),
                        format!(
                            "the mapping names column '{column}' for entering stage '{stage}', but the header has no such column"
                        ),
                    ),
                }
            }
            if let Some(prefix) = &mapping.stage_entered_prefix {
                let mut scratch = String::new();
                for (i, h) in header.iter().enumerate() {
                    let Some(stage) = stage_from_header(h, prefix) else { continue };
                    let stage = match &resolved.stage_map {
                        Some(m) => m.get(&stage, &mut scratch).map(str::to_string).unwrap_or(stage),
                        None => stage,
                    };
                    stage_cols.push((stage, i));
                }
            }
        }
        Plan {
            entity,
            header,
            cols,
            maps: resolved.maps,
            stage_cols,
            encoding: mapping.encoding,
            dec: mapping.decimal_separator,
            date_format: mapping.date_format.clone(),
            datetime_format: mapping.datetime_format.clone(),
            tz: mapping.time_zone.clone(),
            default_currency: mapping.default_currency,
            probability: mapping.probability,
            assoc_sep: mapping.association_separator,
        }
    }

    /// Field name -> the header column it is read from.
    fn field_columns(&self) -> std::collections::BTreeMap<String, String> {
        crate::fields(self.entity)
            .iter()
            .zip(&self.cols)
            .filter_map(|(f, c)| c.map(|c| (f.name.to_string(), self.header[c].clone())))
            .collect()
    }

    fn ignored_columns(&self) -> Vec<String> {
        let mut used = vec![false; self.header.len()];
        for c in self.cols.iter().flatten().chain(self.stage_cols.iter().map(|(_, c)| c)) {
            used[*c] = true;
        }
        self.header.iter().zip(used).filter(|(h, u)| !u && !h.is_empty()).map(|(h, _)| h.clone()).collect()
    }

    fn date(&self, s: &str) -> Result<Date, Fail> {
        if let Some(f) = &self.date_format
            && let Ok(d) = strtime::parse(f, s).and_then(|t| t.to_date())
        {
            return Ok(d);
        }
        if let Some(d) = iso_date_fast(s) {
            return Ok(d);
        }
        if let Ok(d) = s.parse::<Date>() {
            return Ok(d);
        }
        if let Ok(ts) = s.parse::<Timestamp>() {
            return Ok(self.tz.to_datetime(ts).date());
        }
        let expected = match &self.date_format {
            Some(f) => format!("a date like {} (format {f}) or 2024-03-31", example(f)),
            None => "a date like 2024-03-31 (YYYY-MM-DD); set date_format in the mapping for other formats".into(),
        };
        Err(fail("bad_date", format!("is not a date; expected {expected}")))
    }

    fn timestamp(&self, s: &str) -> Result<Timestamp, Fail> {
        if let Some(f) = &self.datetime_format
            && let Ok(t) = strtime::parse(f, s)
        {
            if let Ok(ts) = t.to_timestamp() {
                return Ok(ts);
            }
            if let Ok(dt) = t.to_datetime()
                && let Some(ts) = self.civil(dt)
            {
                return Ok(ts);
            }
        }
        if let Some(ts) = rfc3339_utc_fast(s) {
            return Ok(ts);
        }
        if let Ok(ts) = s.parse::<Timestamp>() {
            return Ok(ts);
        }
        if let Some(f) = &self.date_format
            && let Ok(d) = strtime::parse(f, s).and_then(|t| t.to_date())
            && let Some(ts) = self.civil(d.to_datetime(jiff::civil::Time::midnight()))
        {
            return Ok(ts);
        }
        if let Ok(dt) = s.parse::<DateTime>()
            && let Some(ts) = self.civil(dt)
        {
            return Ok(ts);
        }
        let expected = match &self.datetime_format {
            Some(f) => format!("a date and time like {} (format {f}) or 2024-03-31T14:30:00Z", example(f)),
            None => "a date and time like 2024-03-31T14:30:00Z (RFC 3339), 2024-03-31 14:30 or a date like 2024-03-31; set datetime_format in the mapping for other formats".into(),
        };
        Err(fail("bad_date", format!("is not a date and time; expected {expected}")))
    }

    fn civil(&self, dt: DateTime) -> Option<Timestamp> {
        self.tz.to_ambiguous_timestamp(dt).compatible().ok()
    }

    fn decimal(&self, s: &str, what: &str) -> Result<Decimal, Fail> {
        parse_decimal(s, self.dec).map_err(|why| {
            let example = if self.dec == ',' { "1234,56 or 1.234,56" } else { "1234.56 or 1,234.56" };
            let hint = if self.dec == '.' && s.contains(',') && !s.contains('.') {
                "; if ',' is the decimal separator, set decimal_separator = \",\" in the mapping"
            } else {
                ""
            };
            fail("bad_number", format!("is not {what}: it {why}; expected a number like {example}{hint}"))
        })
    }

    fn amount(&self, s: &str) -> Result<Decimal, Fail> {
        let d = self.decimal(s, "an amount")?;
        if d.is_sign_negative() && !d.is_zero() {
            return Err(fail("negative_amount", "is negative; an opportunity amount must be zero or more"));
        }
        Ok(d)
    }

    fn whole(&self, s: &str, what: &str, max: i64) -> Result<i64, Fail> {
        let d = self.decimal(s, what)?;
        if !d.fract().is_zero() {
            return Err(fail("bad_number", format!("is not {what}: expected a whole number")));
        }
        let v: i64 = d.try_into().map_err(|_| fail("out_of_range", format!("is too large for {what}")))?;
        if !(0..=max).contains(&v) {
            return Err(fail("out_of_range", format!("is not {what}: expected a number from 0 to {max}")));
        }
        Ok(v)
    }

    fn probability(&self, s: &str) -> Result<i32, Fail> {
        let (num, percent_sign) = match s.strip_suffix('%') {
            Some(r) => (r.trim_end(), true),
            None => (s, false),
        };
        let mut d = self.decimal(num, "a probability")?;
        if self.probability == ProbabilityScale::Fraction && !percent_sign {
            if d > Decimal::ONE || d.is_sign_negative() && !d.is_zero() {
                return Err(fail(
                    "out_of_range",
                    "is not a probability: expected a fraction from 0 to 1 (HubSpot's deal probability); set probability = \"percent\" in the mapping if the file holds percentages",
                ));
            }
            d *= Decimal::ONE_HUNDRED;
        }
        if !d.fract().is_zero() {
            return Err(fail("bad_number", "is not a whole percentage; expected a number from 0 to 100"));
        }
        let v = d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        match i32::try_from(v) {
            Ok(p) if (0..=100).contains(&p) => Ok(p),
            _ => Err(fail("out_of_range", "is not a probability: expected a percentage from 0 to 100")),
        }
    }

    /// `Stage name@2024-01-31T09:00:00Z;Other@...`, with `\;`, `\@` and `\\` inside names.
    fn stage_history(&self, s: &str) -> Result<Vec<(String, Timestamp)>, Fail> {
        let mut out = Vec::new();
        for entry in split_escaped(s, b';') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let bad = |why: &str| {
                fail(
                    "bad_value",
                    format!(
                        "has an entry '{}' that {why}; expected Stage name@2024-01-31T09:00:00Z entries separated by ';'",
                        truncate(entry)
                    ),
                )
            };
            let at = last_unescaped(entry, b'@').ok_or_else(|| bad("has no '@' before the time"))?;
            let name = unescape_history(entry[..at].trim());
            if name.is_empty() {
                return Err(bad("has no stage name"));
            }
            let ts = self.timestamp(entry[at + 1..].trim()).map_err(|_| bad("has no valid time after '@'"))?;
            out.push((name, ts));
        }
        Ok(out)
    }
}

fn example(format: &str) -> String {
    let sample = jiff::civil::date(2024, 3, 31).at(14, 30, 0, 0).to_zoned(TimeZone::UTC);
    sample.ok().and_then(|z| strtime::format(format, &z).ok()).unwrap_or_default()
}

fn iso_date_fast(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0i16, |acc, c| c.is_ascii_digit().then(|| acc * 10 + i16::from(c - b'0')))
    };
    Date::new(num(0..4)?, i8::try_from(num(5..7)?).ok()?, i8::try_from(num(8..10)?).ok()?).ok()
}

/// Unicode trim with an ASCII fast path.
fn trim(s: &str) -> &str {
    let t = s.trim_ascii();
    match (t.as_bytes().first(), t.as_bytes().last()) {
        (Some(f), Some(l)) if f.is_ascii() && l.is_ascii() => t,
        _ => t.trim(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the salesops export format, without the general parser.
fn rfc3339_utc_fast(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
        || !matches!(b[b.len() - 1], b'Z' | b'z')
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0i64, |acc, c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            let v = num(20..b.len() - 1)?;
            v * 10i64.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    Date::new(i16::try_from(y).ok()?, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()?;
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    // Days since 1970-01-01 (H. Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Timestamp::new(days * 86_400 + h * 3600 + mi * 60 + sec, i32::try_from(nanos).ok()?).ok()
}

/// `Date entered "Stage (Pipeline)"` / `Date entered Stage` -> the stage name.
fn stage_from_header(h: &str, prefix: &str) -> Option<String> {
    let head = h.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = h[prefix.len()..].trim();
    let name = match rest.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => match inner.rfind(" (") {
            Some(i) if inner.ends_with(')') => inner[..i].trim(),
            _ => inner.trim(),
        },
        None => rest,
    };
    (!name.is_empty()).then(|| name.to_string())
}

/// Splits at `sep` bytes not preceded by an escaping backslash.
fn split_escaped(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let b = s.as_bytes();
    let (mut start, mut i) = (0, 0);
    std::iter::from_fn(move || {
        if start > b.len() {
            return None;
        }
        while i < b.len() {
            if b[i] == b'\\' {
                i += 2;
                continue;
            }
            if b[i] == sep {
                let part = &s[start..i];
                i += 1;
                start = i;
                return Some(part);
            }
            i += 1;
        }
        let part = s.get(start..).unwrap_or_default();
        start = b.len() + 1;
        Some(part)
    })
}

fn last_unescaped(s: &str, c: u8) -> Option<usize> {
    let b = s.as_bytes();
    let (mut found, mut i) = (None, 0);
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == c {
            found = Some(i);
        }
        i += 1;
    }
    found
}

fn unescape_history(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The inverse of `unescape_history`, for the exporter.
pub(crate) fn escape_history(s: &str, out: &mut String) {
    for c in s.chars() {
        if matches!(c, '\\' | ';' | '@') {
            out.push('\\');
        }
        out.push(c);
    }
}

// ---------------------------------------------------------------------------------------------
// Cx: one row's cells, typed.

struct Fail {
    code: &'static str,
    message: String,
}

fn fail(code: &'static str, message: impl Into<String>) -> Fail {
    Fail { code, message: message.into() }
}

enum Got<T> {
    Absent,
    Bad,
    Val(T),
}

impl<T> Got<T> {
    fn ok(self) -> Option<T> {
        match self {
            Got::Val(v) => Some(v),
            _ => None,
        }
    }
}

struct Cx<'p, 's> {
    plan: &'p Plan,
    data: &'p [u8],
    /// `data` as text, when it is all valid UTF-8.
    text: Option<&'p str>,
    rec: Record,
    /// Decoded Latin-1 cell.
    buf: String,
    /// Lower-cased value-map key.
    scratch: String,
    sink: &'s mut Sink,
    line: u64,
    row: u64,
    /// No problem in the current row yet.
    ok: bool,
}

/// Cells stored as text are checked for formula injection; typed cells only by their parser.
const TEXT: bool = true;
const TYPED: bool = false;

type CellResult<T> = Result<Option<T>, (Fail, String)>;

/// Trim, refuse formulas (in `text` cells: typed cells are checked by their parser, and a
/// negative date or number is no formula), unescape, apply the value map, parse.
fn cell_value<T>(
    raw: &str,
    map: Option<&ValueMap>,
    scratch: &mut String,
    text: bool,
    parse: impl FnOnce(&str) -> Result<T, Fail>,
) -> CellResult<T> {
    let t = trim(raw);
    let (input, mapped) = match map.and_then(|m| m.get(t, scratch)) {
        Some(v) => (v, true),
        None => {
            if t.is_empty() {
                return Ok(None);
            }
            if let Some(why) = formula_risk(raw, t).filter(|_| text) {
                return Err((fail("formula", why), t.to_string()));
            }
            let u = unescape_str(t);
            match map.filter(|_| u.len() != t.len()).and_then(|m| m.get(u, scratch)) {
                Some(v) => (v, true),
                None => (u, false),
            }
        }
    };
    if input.is_empty() {
        return Ok(None);
    }
    parse(input).map(Some).map_err(|f| {
        let f = if mapped { fail(f.code, format!("(mapped to '{}') {}", truncate(input), f.message)) } else { f };
        (f, t.to_string())
    })
}

impl Cx<'_, '_> {
    fn get<T>(&mut self, f: impl Into<usize>, text: bool, parse: impl FnOnce(&str) -> Result<T, Fail>) -> Got<T> {
        let f = f.into();
        let plan = self.plan;
        match plan.cols[f] {
            Some(col) => self.get_col(col, plan.maps[f].as_ref(), text, parse),
            None => Got::Absent,
        }
    }

    fn get_col<T>(
        &mut self,
        col: usize,
        map: Option<&ValueMap>,
        text: bool,
        parse: impl FnOnce(&str) -> Result<T, Fail>,
    ) -> Got<T> {
        let outcome = match self.plan.encoding {
            Encoding::Utf8 => {
                let s = match self.text {
                    Some(text) => self.rec.str(text, col),
                    None => std::str::from_utf8(self.rec.bytes(self.data, col)).ok(),
                };
                match s {
                    Some(s) => cell_value(s, map, &mut self.scratch, text, parse),
                    None => {
                        let raw = self.rec.bytes(self.data, col);
                        let at = std::str::from_utf8(raw).err().map_or(0, |e| e.valid_up_to());
                        let byte = raw.get(at).copied().unwrap_or_default();
                        let message = format!("has the byte 0x{byte:02X} at position {} that {BAD_UTF8}", at + 1);
                        Err((fail("bad_utf8", message), String::from_utf8_lossy(raw).trim().to_string()))
                    }
                }
            }
            Encoding::Latin1 => {
                let raw = self.rec.bytes(self.data, col);
                match std::str::from_utf8(raw) {
                    Ok(s) if raw.is_ascii() => cell_value(s, map, &mut self.scratch, text, parse),
                    _ => {
                        decode_cp1252(raw, &mut self.buf);
                        cell_value(&self.buf, map, &mut self.scratch, text, parse)
                    }
                }
            }
        };
        match outcome {
            Ok(Some(v)) => Got::Val(v),
            Ok(None) => Got::Absent,
            Err((f, value)) => {
                self.report(Some(col), Some(value), f);
                Got::Bad
            }
        }
    }

    fn report(&mut self, col: Option<usize>, value: Option<String>, f: Fail) {
        self.ok = false;
        let (line, row, plan) = (self.line, self.row, self.plan);
        self.sink.add(|| Problem {
            line,
            row,
            column: col.and_then(|c| plan.header.get(c).cloned()),
            value: value.map(|v| truncate(&v)),
            code: f.code.into(),
            message: f.message,
        });
    }

    fn required(&mut self, f: usize, message: String) {
        let col = self.plan.cols[f];
        self.report(col, None, fail("required", message));
    }

    fn opt<T>(&mut self, f: impl Into<usize>, text: bool, parse: impl FnOnce(&str) -> Result<T, Fail>) -> Option<T> {
        self.get(f, text, parse).ok()
    }

    fn req<T>(&mut self, f: impl Into<usize>, text: bool, parse: impl FnOnce(&str) -> Result<T, Fail>) -> Option<T> {
        let f = f.into();
        match self.get(f, text, parse) {
            Got::Val(v) => Some(v),
            Got::Bad => None,
            Got::Absent => {
                let (entity, name) = (self.plan.entity.singular(), fields(self.plan.entity)[f].name);
                self.required(f, format!("is empty, but every {entity} needs a value for '{name}'"));
                None
            }
        }
    }

    fn text(&mut self, f: impl Into<usize>) -> Option<String> {
        self.opt(f, TEXT, |s| Ok(s.to_string()))
    }

    fn string(&mut self, f: impl Into<usize>) -> String {
        self.text(f).unwrap_or_default()
    }

    fn email(&mut self, f: impl Into<usize>) -> Option<String> {
        self.opt(f, TEXT, |s| {
            parse_email(s)
                .ok_or_else(|| fail("bad_email", "is not an e-mail address; expected one like anna@example.com"))
        })
    }

    /// Owners are matched by e-mail; Salesforce user ids and names are refused with a hint.
    fn owner(&mut self, f: impl Into<usize>) -> Option<String> {
        self.opt(f, TEXT, |s| {
            if !s.contains('@') {
                let sf_user = (s.len() == 15 || s.len() == 18) && s.starts_with("005") && s.bytes().all(|b| b.is_ascii_alphanumeric());
                let why = if sf_user {
                    "is a Salesforce user id, not an e-mail address; export the 'Owner Email' column (Owner.Email) instead of OwnerId, or map the ids to e-mail addresses under [values.owner_email]"
                } else {
                    "is not an e-mail address; salesops finds owners by e-mail: export the owner's e-mail column, or map the values to e-mail addresses under [values.owner_email]"
                };
                return Err(fail("unknown_value", why));
            }
            parse_email(s).ok_or_else(|| fail("bad_email", "is not an e-mail address; expected one like anna@example.com"))
        })
    }

    fn id(&mut self, f: impl Into<usize>) -> Option<i64> {
        self.opt(f, TYPED, |s| {
            parse_int(s).ok_or_else(|| fail("bad_number", "is not a salesops id; expected a whole number such as 42"))
        })
    }

    fn external_id(&mut self, f: impl Into<usize>) -> Option<String> {
        self.text(f)
    }

    fn reference(&mut self, id: impl Into<usize>, ext: impl Into<usize>, name: impl Into<usize>) -> Got<Ref> {
        let sep = self.plan.assoc_sep;
        let first = move |s: &str| -> String {
            match sep {
                Some(c) => s.split(c).map(str::trim).find(|p| !p.is_empty()).unwrap_or(s).to_string(),
                None => s.to_string(),
            }
        };
        let id = self.get(id, TYPED, |s| {
            parse_int(s).ok_or_else(|| fail("bad_number", "is not a salesops id; expected a whole number such as 42"))
        });
        match id {
            Got::Val(v) => return Got::Val(Ref::Id(v)),
            Got::Bad => return Got::Bad,
            Got::Absent => {}
        }
        match self.get(ext, TEXT, |s| Ok(first(s))) {
            Got::Val(v) => return Got::Val(Ref::External(v)),
            Got::Bad => return Got::Bad,
            Got::Absent => {}
        }
        match self.get(name, TEXT, |s| Ok(first(s))) {
            Got::Val(v) => Got::Val(Ref::Name(v)),
            Got::Bad => Got::Bad,
            Got::Absent => Got::Absent,
        }
    }

    fn opt_ref(&mut self, id: impl Into<usize>, ext: impl Into<usize>, name: impl Into<usize>) -> Option<Ref> {
        self.reference(id, ext, name).ok()
    }

    fn date(&mut self, f: impl Into<usize>) -> Option<Date> {
        let plan = self.plan;
        self.opt(f, TYPED, |s| plan.date(s))
    }

    fn timestamp(&mut self, f: impl Into<usize>) -> Option<Timestamp> {
        let plan = self.plan;
        self.opt(f, TYPED, |s| plan.timestamp(s))
    }

    fn currency(&mut self, f: impl Into<usize>) -> Got<Currency> {
        let got = self.get(f, TYPED, |s| {
            Currency::parse(s).map_err(|_| {
                fail("bad_currency", "is not a supported ISO 4217 currency code; expected one like EUR, USD or GBP")
            })
        });
        match got {
            Got::Absent => match self.plan.default_currency {
                Some(c) => Got::Val(c),
                None => Got::Absent,
            },
            other => other,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One builder per entity.

fn account(cx: &mut Cx) -> Option<AccountRow> {
    let plan = cx.plan;
    let id = cx.id(A::Id);
    let external_id = cx.external_id(A::ExternalId);
    let name = cx.req(A::Name, TEXT, |s| Ok(s.to_string()));
    let industry = cx.string(A::Industry);
    let employees = cx.opt(A::Employees, TYPED, |s| plan.whole(s, "a number of employees", i64::from(i32::MAX)));
    let country = cx
        .opt(A::Country, TYPED, |s| {
            country_code(s).map(str::to_string).ok_or_else(|| {
                fail(
                    "unknown_value",
                    "is not a country; expected an ISO 3166 two-letter code such as NL or an English name such as Netherlands, or map it under [values.country]",
                )
            })
        })
        .unwrap_or_default();
    let city = cx.string(A::City);
    let postal_code = cx.string(A::PostalCode);
    let time_zone = cx.opt(A::TimeZone, TYPED, |s| {
        TimeZone::get(s).ok().and_then(|z| z.iana_name().map(str::to_string)).ok_or_else(|| {
            fail("unknown_value", "is not an IANA time zone; expected one like Europe/Amsterdam or America/New_York")
        })
    });
    let domain = cx.opt(A::Domain, TYPED, |s| {
        normalise_domain(s)
            .ok_or_else(|| fail("bad_value", "is not a web address or domain; expected one like example.com"))
    });
    let phone = cx.text(A::Phone);
    let owner_email = cx.owner(A::OwnerEmail);
    let parent = cx.opt_ref(A::ParentId, A::ParentExternalId, A::ParentName);
    let currency = cx.currency(A::Currency).ok();
    let created_at = cx.timestamp(A::CreatedAt);
    if !cx.ok {
        return None;
    }
    Some(AccountRow {
        id,
        external_id,
        name: name?,
        industry,
        employees: employees.map(|e| e as i32),
        country,
        city,
        postal_code,
        time_zone,
        domain,
        phone,
        owner_email,
        parent,
        currency,
        created_at,
    })
}

fn contact(cx: &mut Cx) -> Option<ContactRow> {
    let id = cx.id(C::Id);
    let external_id = cx.external_id(C::ExternalId);
    let first_name = cx.string(C::FirstName);
    let last_name = cx.string(C::LastName);
    let email = cx.email(C::Email);
    let phone = cx.text(C::Phone);
    let title = cx.string(C::Title);
    let account = cx.opt_ref(C::AccountId, C::AccountExternalId, C::AccountName);
    let owner_email = cx.owner(C::OwnerEmail);
    let created_at = cx.timestamp(C::CreatedAt);
    if cx.ok && first_name.is_empty() && last_name.is_empty() && email.is_none() {
        cx.required(
            C::LastName.into(),
            "is empty, and so are the first name and e-mail; a contact needs at least one".into(),
        );
    }
    if !cx.ok {
        return None;
    }
    Some(ContactRow { id, external_id, first_name, last_name, email, phone, title, account, owner_email, created_at })
}

fn lead(cx: &mut Cx) -> Option<LeadRow> {
    let id = cx.id(L::Id);
    let external_id = cx.external_id(L::ExternalId);
    let first_name = cx.string(L::FirstName);
    let last_name = cx.string(L::LastName);
    let company = cx.string(L::Company);
    let email = cx.email(L::Email);
    let phone = cx.text(L::Phone);
    let source = cx.string(L::Source);
    let campaign = cx.string(L::Campaign);
    let status = cx.opt(L::Status, TYPED, |s| {
        parse_lead_status(s).ok_or_else(|| {
            fail(
                "unknown_value",
                "is not a lead status; expected new, working, nurture, qualified, disqualified or converted, or map it under [values.status]",
            )
        })
    });
    let disqualify_reason = cx.text(L::DisqualifyReason);
    let owner_email = cx.owner(L::OwnerEmail);
    let created_at = cx.timestamp(L::CreatedAt);
    if cx.ok && first_name.is_empty() && last_name.is_empty() && email.is_none() {
        cx.required(
            L::LastName.into(),
            "is empty, and so are the first name and e-mail; a lead needs at least one".into(),
        );
    }
    if !cx.ok {
        return None;
    }
    Some(LeadRow {
        id,
        external_id,
        first_name,
        last_name,
        company,
        email,
        phone,
        source,
        campaign,
        status,
        disqualify_reason,
        owner_email,
        created_at,
    })
}

fn opportunity(cx: &mut Cx) -> Option<OpportunityRow> {
    let plan = cx.plan;
    let id = cx.id(O::Id);
    let external_id = cx.external_id(O::ExternalId);
    let name = cx.req(O::Name, TEXT, |s| Ok(s.to_string()));
    let account = match cx.reference(O::AccountId, O::AccountExternalId, O::AccountName) {
        Got::Val(r) => Some(r),
        Got::Bad => None,
        Got::Absent => {
            let f = [O::AccountId, O::AccountExternalId, O::AccountName]
                .map(usize::from)
                .into_iter()
                .find(|f| plan.cols[*f].is_some())
                .unwrap_or(O::AccountName.into());
            cx.required(f, "is empty, but every opportunity needs its account (an id, external id or name)".into());
            None
        }
    };
    let owner_email = cx.owner(O::OwnerEmail);
    let pipeline = cx.text(O::Pipeline);
    let stage = cx.req(O::Stage, TEXT, |s| Ok(s.to_string()));
    let amount = cx.req(O::Amount, TYPED, |s| plan.amount(s));
    let currency = match cx.currency(O::Currency) {
        Got::Val(c) => Some(c),
        Got::Bad => None,
        Got::Absent => {
            if amount.is_some() {
                cx.required(
                    O::Currency.into(),
                    "is empty and the mapping sets no default_currency; every amount needs its currency".into(),
                );
            }
            None
        }
    };
    let close_date = cx.req(O::CloseDate, TYPED, |s| plan.date(s));
    let probability = cx.opt(O::Probability, TYPED, |s| plan.probability(s));
    let forecast_category = cx.opt(O::ForecastCategory, TYPED, |s| {
        parse_forecast(s).ok_or_else(|| {
            fail(
                "unknown_value",
                "is not a forecast category; expected pipeline, best_case, commit, closed or omitted, or map it under [values.forecast_category]",
            )
        })
    });
    let loss_reason = cx.text(O::LossReason);
    let lead_source = cx.text(O::LeadSource);
    let engaged_on = cx.date(O::EngagedOn);
    let created_at = cx.timestamp(O::CreatedAt);
    let mut stage_entered = cx.opt(O::StageEntered, TEXT, |s| plan.stage_history(s)).unwrap_or_default();
    for (stage, col) in &plan.stage_cols {
        if let Got::Val(ts) = cx.get_col(*col, None, TYPED, |s| plan.timestamp(s)) {
            stage_entered.push((stage.clone(), ts));
        }
    }
    stage_entered.sort_by_key(|(_, ts)| *ts);
    if !cx.ok {
        return None;
    }
    Some(OpportunityRow {
        id,
        external_id,
        name: name?,
        account: account?,
        owner_email,
        pipeline,
        stage: stage?,
        amount: Money::new(amount?, currency?),
        close_date: close_date?,
        probability,
        forecast_category,
        loss_reason,
        lead_source,
        engaged_on,
        created_at,
        stage_entered,
    })
}

fn activity(cx: &mut Cx) -> Option<ActivityRow> {
    let plan = cx.plan;
    let id = cx.id(V::Id);
    let external_id = cx.external_id(V::ExternalId);
    let kind = cx.req(V::Kind, TYPED, |s| {
        parse_activity_kind(s).ok_or_else(|| {
            fail(
                "unknown_value",
                "is not an activity kind; expected call, email, meeting, task, note or visit, or map it under [values.kind]",
            )
        })
    });
    let subject = cx.string(V::Subject);
    let at = cx.req(V::At, TYPED, |s| plan.timestamp(s));
    let duration_seconds = cx.opt(V::DurationSeconds, TYPED, |s| {
        parse_duration(s)
            .ok_or_else(|| fail("bad_number", "is not a duration; expected seconds (90) or H:MM:SS (0:01:30)"))
    });
    let outcome = cx.text(V::Outcome);
    let address = cx.text(V::Address);
    let owner_email = cx.owner(V::OwnerEmail);
    let mut account = cx.opt_ref(V::AccountId, V::AccountExternalId, V::AccountName);
    let mut opportunity = cx.opt_ref(V::OpportunityId, V::OpportunityExternalId, V::OpportunityName);
    let mut contact = cx.opt_ref(V::ContactId, V::ContactExternalId, V::ContactName);
    let mut lead = cx.opt_ref(V::LeadId, V::LeadExternalId, V::LeadName);
    // Salesforce's polymorphic WhatId / WhoId: the key prefix says which object it points to.
    if let Some(what) = cx.text(V::WhatId) {
        if what.starts_with("006") && opportunity.is_none() {
            opportunity = Some(Ref::External(what));
        } else if what.starts_with("001") && account.is_none() {
            account = Some(Ref::External(what));
        }
    }
    if let Some(who) = cx.text(V::WhoId) {
        if who.starts_with("003") && contact.is_none() {
            contact = Some(Ref::External(who));
        } else if who.starts_with("00Q") && lead.is_none() {
            lead = Some(Ref::External(who));
        }
    }
    if !cx.ok {
        return None;
    }
    Some(ActivityRow {
        id,
        external_id,
        kind: kind?,
        subject,
        at: at?,
        duration_seconds,
        outcome,
        address,
        owner_email,
        account,
        opportunity,
        contact,
        lead,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_timestamps_agree_with_jiff() {
        for s in [
            "2024-03-01T10:15:00Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.5Z",
            "2000-02-29T12:00:00.123456789Z",
            "0001-01-01T00:00:00Z",
            "9999-12-30T21:59:59.999999999Z",
            "2024-03-01 10:15:00Z",
        ] {
            assert_eq!(rfc3339_utc_fast(s), Some(s.parse::<Timestamp>().unwrap()), "{s}");
        }
        for s in ["2023-02-29T00:00:00Z", "2024-03-01T24:00:00Z", "2024-03-01T10:15:00+01:00", "2024-03-01T10:15:00.Z"]
        {
            assert_eq!(rfc3339_utc_fast(s), None, "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_timestamps_match(secs in -62_135_596_800i64..253_402_300_799, nanos in 0i32..1_000_000_000) {
            let ts = Timestamp::new(secs, nanos).unwrap();
            proptest::prop_assert_eq!(rfc3339_utc_fast(&ts.to_string()), Some(ts));
        }
    }

    #[test]
    fn hubspot_stage_headers() {
        let p = "Date entered ";
        assert_eq!(
            stage_from_header("Date entered \"Appointment Scheduled (Sales Pipeline)\"", p).as_deref(),
            Some("Appointment Scheduled")
        );
        assert_eq!(stage_from_header("Date entered Closed Won", p).as_deref(), Some("Closed Won"));
        assert_eq!(stage_from_header("Date exited Closed Won", p), None);
    }

    #[test]
    fn history_escapes() {
        let mut s = String::new();
        escape_history("a;b@c\\d", &mut s);
        assert_eq!(s, "a\\;b\\@c\\\\d");
        assert_eq!(unescape_history(&s), "a;b@c\\d");
        assert_eq!(split_escaped("x\\;y@1;z@2", b';').collect::<Vec<_>>(), vec!["x\\;y@1", "z@2"]);
        assert_eq!(last_unescaped("a\\@b@c", b'@'), Some(4));
    }
}
