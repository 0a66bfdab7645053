//! Cell-level text handling: formula-injection escaping, Windows-1252 decoding, and the value
//! parsers shared by import (numbers, e-mail addresses, domains, enums, durations).

use std::borrow::Cow;

use model::{ActivityKind, ForecastCategory, LeadStatus};
use rust_decimal::Decimal;

/// Whether a spreadsheet could run `s` as a formula (OWASP "CSV injection"), or `s` already
/// looks like an escaped cell: it starts with `=`, `+`, `-`, `@`, TAB or CR, or with `'`
/// followed by something that needs escaping.
pub fn needs_escape(s: &str) -> bool {
    let mut b = s.as_bytes();
    loop {
        match b.first() {
            Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => return true,
            Some(b'\'') => b = &b[1..],
            _ => return false,
        }
    }
}

/// Neutralises formula injection in an exported text cell by prefixing `'`. A bijection with
/// [`unescape_cell`]: `unescape_cell(&escape_cell(s)) == s` for every `s`.
pub fn escape_cell(s: &str) -> Cow<'_, str> {
    if needs_escape(s) {
        let mut out = String::with_capacity(s.len() + 1);
        out.push('\'');
        out.push_str(s);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// The inverse of [`escape_cell`]: drops the `'` of a cell that [`escape_cell`] escaped.
pub fn unescape_cell(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(unescape_str(s))
}

pub(crate) fn unescape_str(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if needs_escape(rest) => rest,
        _ => s,
    }
}

/// Why an imported raw cell would run as a spreadsheet formula, if it would. `raw` is the cell
/// as read, `trimmed` the same without surrounding white space (and not empty).
pub(crate) fn formula_risk(raw: &str, trimmed: &str) -> Option<String> {
    let what = match raw.as_bytes().first() {
        Some(b'\t') => Some("a tab character"),
        Some(b'\r') => Some("a carriage return"),
        _ => None,
    };
    let what = what.or(match trimmed.as_bytes()[0] {
        b'=' => Some("'='"),
        b'@' => Some("'@'"),
        b'+' | b'-' if !number_like(&trimmed[1..]) => {
            if trimmed.starts_with('+') {
                Some("'+' followed by text")
            } else {
                Some("'-' followed by text")
            }
        }
        _ => None,
    })?;
    Some(format!("starts with {what} and would run as a spreadsheet formula; prefix it with ' to import it as text"))
}

/// Digits and the punctuation of numbers and phone numbers: `+31 (20) 555-0100`, `-1.234,56`.
fn number_like(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'(' | b')' | b'.' | b'/' | b'-' | b','))
}

/// Windows-1252 bytes 0x80..=0x9F; the other bytes are ISO 8859-1 (= Unicode code points).
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}', '\u{2C6}', '\u{2030}',
    '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}',
    '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}',
    '\u{17E}', '\u{178}',
];

/// Decodes Latin-1 treated as Windows-1252 (as browsers and Excel do) into `out`.
pub(crate) fn decode_cp1252(bytes: &[u8], out: &mut String) {
    out.clear();
    out.reserve(bytes.len() + 8);
    for &b in bytes {
        out.push(match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        });
    }
}

/// The first 80 characters of `s`.
pub(crate) fn truncate(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// "50 bytes", "1.5 KB", "2.0 GB" (powers of 1024, as file managers show them).
pub(crate) fn human_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Compares ignoring case, and treating space, `-` and `_` as absent: "Best Case" ~ "best_case".
pub(crate) fn loose_eq(s: &str, compact: &str) -> bool {
    if s.is_ascii() {
        let mut b = compact.bytes();
        for c in s.bytes().filter(|c| !matches!(c, b' ' | b'-' | b'_')) {
            if b.next() != Some(c.to_ascii_lowercase()) {
                return false;
            }
        }
        return b.next().is_none();
    }
    let mut a = s.chars().filter(|c| !matches!(c, ' ' | '-' | '_')).flat_map(char::to_lowercase);
    let mut b = compact.chars();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}

/// Case-insensitive equality without allocating for ASCII.
pub(crate) fn eq_fold(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
    }
}

/// Parses an exact decimal number with `dec` ('.' or ',') as decimal separator. Thousands
/// separators are accepted between groups of three digits: the other one of '.'/',', a space,
/// a no-break space or an apostrophe ("1.234,56", "1,234.56", "1 234,56", "1'234.56").
pub(crate) fn parse_decimal(s: &str, dec: char) -> Result<Decimal, &'static str> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let thousands =
        |c: char| matches!(c, ' ' | '\'' | '\u{a0}' | '\u{202f}' | '\u{2019}') || (c != dec && (c == '.' || c == ','));
    let mut buf = [0u8; 48];
    let mut n = 0;
    if neg {
        buf[0] = b'-';
        n = 1;
    }
    let mut group = 0usize;
    let mut sep: Option<char> = None;
    let mut in_frac = false;
    let mut digits = 0usize;
    for c in body.chars() {
        if c.is_ascii_digit() {
            if n >= buf.len() - 2 {
                return Err("has too many digits");
            }
            buf[n] = c as u8;
            n += 1;
            digits += 1;
            if !in_frac {
                group += 1;
            }
        } else if c == dec && !in_frac {
            if sep.is_some() && group != 3 {
                return Err("has thousands separators that do not separate groups of three digits");
            }
            if digits == 0 {
                buf[n] = b'0';
                n += 1;
            }
            buf[n] = b'.';
            n += 1;
            in_frac = true;
        } else if !in_frac && thousands(c) {
            match sep {
                Some(p) if p != c => return Err("mixes different thousands separators"),
                Some(_) if group != 3 => {
                    return Err("has thousands separators that do not separate groups of three digits");
                }
                None if group == 0 || group > 3 => {
                    return Err("has thousands separators that do not separate groups of three digits");
                }
                _ => {}
            }
            sep = Some(c);
            group = 0;
        } else if c == dec {
            return Err("has more than one decimal separator");
        } else {
            return Err("contains characters that are not digits or separators");
        }
    }
    if digits == 0 {
        return Err("has no digits");
    }
    if !in_frac && sep.is_some() && group != 3 {
        return Err("has thousands separators that do not separate groups of three digits");
    }
    if in_frac && buf[n - 1] == b'.' {
        n -= 1;
    }
    // Only ASCII digits, '-' and '.' were written.
    let text = std::str::from_utf8(&buf[..n]).map_err(|_| "is not a number")?;
    Decimal::from_str_exact(text).map_err(|_| "is too large or has too many decimals for an exact amount")
}

/// A plain integer (ids): optional sign, digits only.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    s.parse().ok()
}

/// Seconds from "90", "1:30" (M:SS) or "1:02:03" (H:MM:SS).
pub(crate) fn parse_duration(s: &str) -> Option<i64> {
    if !s.contains(':') {
        return s.parse::<i64>().ok().filter(|v| *v >= 0);
    }
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mut total: i64 = 0;
    for (i, p) in parts.iter().enumerate() {
        let v: i64 = p.parse().ok()?;
        if i > 0 && v >= 60 {
            return None;
        }
        total = total.checked_mul(60)?.checked_add(v)?;
    }
    Some(total)
}

/// Lower-cased e-mail address with one '@' and a dot in the domain.
pub(crate) fn parse_email(s: &str) -> Option<String> {
    model::Email::parse(s).ok().map(String::from)
}

/// "https://www.Example.com/about?x" -> "example.com".
pub(crate) fn normalise_domain(s: &str) -> Option<String> {
    let mut d = s.trim();
    if let Some(i) = d.find("://") {
        d = &d[i + 3..];
    }
    if let Some(i) = d.find(['/', '?', '#']) {
        d = &d[..i];
    }
    if let Some(i) = d.rfind('@') {
        d = &d[i + 1..];
    }
    if let Some(i) = d.rfind(':')
        && d[i + 1..].bytes().all(|b| b.is_ascii_digit())
    {
        d = &d[..i];
    }
    let d = d.trim_end_matches('.').to_lowercase();
    let d = d.strip_prefix("www.").map(str::to_string).unwrap_or(d);
    let ok = d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        });
    ok.then_some(d)
}

pub(crate) fn parse_forecast(s: &str) -> Option<ForecastCategory> {
    use ForecastCategory::*;
    [
        ("pipeline", Pipeline),
        ("bestcase", BestCase),
        ("commit", Commit),
        ("closed", Closed),
        ("omitted", Omitted),
        ("omit", Omitted),
    ]
    .into_iter()
    .find(|(k, _)| loose_eq(s, k))
    .map(|(_, v)| v)
}

pub(crate) fn parse_lead_status(s: &str) -> Option<LeadStatus> {
    LeadStatus::ALL.into_iter().find(|k| loose_eq(s, k.as_str()))
}

pub(crate) fn parse_activity_kind(s: &str) -> Option<ActivityKind> {
    use ActivityKind::*;
    const SYNONYMS: &[(&str, ActivityKind)] = &[
        ("call", Call),
        ("calls", Call),
        ("phonecall", Call),
        ("loggedcall", Call),
        ("email", Email),
        ("emails", Email),
        ("listemail", Email),
        ("incomingemail", Email),
        ("outgoingemail", Email),
        ("emailreply", Email),
        ("meeting", Meeting),
        ("meetings", Meeting),
        ("event", Meeting),
        ("appointment", Meeting),
        ("task", Task),
        ("tasks", Task),
        ("todo", Task),
        ("cadence", Task),
        ("note", Note),
        ("notes", Note),
        ("visit", Visit),
        ("fieldvisit", Visit),
        ("sitevisit", Visit),
    ];
    SYNONYMS.iter().find(|(k, _)| loose_eq(s, k)).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_with_separators() {
        let d = |s: &str, sep| parse_decimal(s, sep).map(|d| d.to_string());
        assert_eq!(d("1234.50", '.'), Ok("1234.50".into()));
        assert_eq!(d("1,234.50", '.'), Ok("1234.50".into()));
        assert_eq!(d("1.234,56", ','), Ok("1234.56".into()));
        assert_eq!(d("1 234 567,5", ','), Ok("1234567.5".into()));
        assert_eq!(d("1'234.5", '.'), Ok("1234.5".into()));
        assert_eq!(d("-0,5", ','), Ok("-0.5".into()));
        assert_eq!(d(".5", '.'), Ok("0.5".into()));
        assert_eq!(d("5.", '.'), Ok("5".into()));
        assert!(d("12,3,4", '.').is_err());
        assert!(d("12,3,4", ',').is_err());
        assert!(d("1,23", '.').is_err());
        assert!(d("1.5E6", '.').is_err());
        assert!(d("", '.').is_err());
        assert!(d("-", '.').is_err());
        assert!(d("1.2.3", '.').is_err());
    }

    #[test]
    fn domains_are_normalised() {
        assert_eq!(normalise_domain("https://www.Example.com/about?x=1").as_deref(), Some("example.com"));
        assert_eq!(normalise_domain("shop.example.co.uk.").as_deref(), Some("shop.example.co.uk"));
        assert_eq!(normalise_domain("example.com:8080").as_deref(), Some("example.com"));
        assert_eq!(normalise_domain("not a domain"), None);
        assert_eq!(normalise_domain("localhost"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("1:30"), Some(90));
        assert_eq!(parse_duration("1:02:03"), Some(3723));
        assert_eq!(parse_duration("1:75"), None);
        assert_eq!(parse_duration("-5"), None);
    }

    #[test]
    fn cp1252() {
        let mut s = String::new();
        decode_cp1252(b"M\xfcller \x80 5 \x93ok\x94", &mut s);
        assert_eq!(s, "Müller € 5 \u{201c}ok\u{201d}");
    }

    #[test]
    fn formula_detection() {
        assert!(formula_risk("=HYPERLINK(\"x\")", "=HYPERLINK(\"x\")").is_some());
        assert!(formula_risk("@SUM(A1)", "@SUM(A1)").is_some());
        assert!(formula_risk("+cmd", "+cmd").is_some());
        assert!(formula_risk("-2+3", "-2+3").is_some());
        assert!(formula_risk("+31 (20) 555-0100", "+31 (20) 555-0100").is_none());
        assert!(formula_risk("-1.234,56", "-1.234,56").is_none());
        assert!(formula_risk("'=x", "'=x").is_none());
        assert!(formula_risk("\tx", "x").is_some());
    }
}
