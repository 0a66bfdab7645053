//! Broken files get a clear report (line, row, column, code), never a crash.

use import::{Entity, Limits, Mapping, PRESETS, Problem, Rows, parse, parse_reader, preset};
use proptest::prelude::*;

use crate::parse_with;

const HEADER: &str = "Id,Name,AccountId,StageName,Amount,CurrencyIsoCode,CloseDate";

/// Salesforce opportunities: the header, then `rows`.
fn sf(rows: &str) -> Vec<u8> {
    format!("{HEADER}\n{rows}").into_bytes()
}

fn problems(csv: &[u8]) -> Vec<Problem> {
    parse_with(csv, Entity::Opportunities, "salesforce").problems
}

/// (line, row, column, code) of each problem.
fn summary(ps: &[Problem]) -> Vec<(u64, u64, Option<&str>, &str)> {
    ps.iter().map(|p| (p.line, p.row, p.column.as_deref(), p.code.as_ref())).collect()
}

#[test]
fn ragged_row() {
    let ps = problems(&sf("006A,Acme,001A,Prospecting,100,EUR,2024-09-30\n006B,Globex,001B,Prospecting,100,EUR\n"));
    assert_eq!(summary(&ps), vec![(3, 2, None, "ragged_row")]);
    assert!(ps[0].message.contains("has 6 fields, the header has 7"), "{}", ps[0].message);
}

#[test]
fn bad_utf8_names_the_line_and_reading_goes_on() {
    let mut csv = sf("006A,Acme,001A,Prospecting,100,EUR,2024-09-30\n");
    csv.extend_from_slice(
        b"006B,M\xfcller GmbH,001B,Prospecting,100,EUR,2024-09-30\n006C,Initech,001C,Prospecting,100,EUR,2024-09-30\n",
    );
    let parsed = parse_with(&csv, Entity::Opportunities, "salesforce");
    assert_eq!(summary(&parsed.problems), vec![(3, 2, Some("Name"), "bad_utf8")]);
    assert_eq!(parsed.problems[0].value.as_deref(), Some("M\u{fffd}ller GmbH"));
    assert!(parsed.problems[0].message.contains("latin-1"), "{}", parsed.problems[0].message);
    assert_eq!(parsed.rows.len(), 2, "the other rows were read");
}

#[test]
fn unclosed_quote() {
    let ps = problems(&sf(
        "006A,\"Acme, the big one,001A,Prospecting,100,EUR,2024-09-30\n006B,Globex,001B,Prospecting,100,EUR,2024-09-30\n",
    ));
    assert_eq!(summary(&ps), vec![(2, 1, Some("Name"), "bad_quoting")]);
    assert!(ps[0].message.contains("never closed"), "{}", ps[0].message);
}

#[test]
fn stray_quote_in_unquoted_cell() {
    let ps = problems(&sf("006A,The 5\" screen deal,001A,Prospecting,100,EUR,2024-09-30\n"));
    assert_eq!(summary(&ps), vec![(2, 1, Some("Name"), "bad_quoting")]);
}

#[test]
fn formula_injection_cell() {
    let ps = problems(&sf("006A,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",001A,Prospecting,100,EUR,2024-09-30\n"));
    assert_eq!(summary(&ps), vec![(2, 1, Some("Name"), "formula")]);
    assert_eq!(ps[0].value.as_deref(), Some("=HYPERLINK(\"http://x\",\"y\")"));
    assert_eq!(
        ps[0].message,
        "starts with '=' and would run as a spreadsheet formula; prefix it with ' to import it as text"
    );
    // The same value, escaped, imports as text.
    let parsed = parse_with(
        &sf("006A,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",001A,Prospecting,100,EUR,2024-09-30\n"),
        Entity::Opportunities,
        "salesforce",
    );
    let Rows::Opportunities(rows) = parsed.rows else { panic!() };
    assert_eq!(rows[0].name, "=HYPERLINK(\"http://x\",\"y\")");
}

#[test]
fn other_formula_starts() {
    for (cell, ok) in [("@SUM(A1)", false), ("+cmd|' /C calc'!A0", false), ("-2+3", false), ("\tx", false), ("-", true)]
    {
        let csv = sf(&format!("006A,\"{cell}\",001A,Prospecting,100,EUR,2024-09-30\n"));
        let ps = problems(&csv);
        assert_eq!(ps.is_empty(), ok, "{cell:?}: {ps:?}");
    }
}

#[test]
fn too_large() {
    let csv = sf("006A,Acme,001A,Prospecting,100,EUR,2024-09-30\n");
    let limits = Limits { max_bytes: 50, max_problems: 10 };
    let parsed =
        parse(&csv, Entity::Opportunities, &import::preset("salesforce", Entity::Opportunities).unwrap(), &limits);
    assert_eq!(summary(&parsed.problems), vec![(0, 0, None, "too_large")]);
    assert!(
        parsed.problems[0].message.starts_with("the file is 107 bytes; the limit is 50 bytes"),
        "{}",
        parsed.problems[0].message
    );
    assert_eq!(parsed.rows_read, 0);

    let parsed = parse_reader(&csv[..], Entity::Opportunities, &Mapping::default(), &limits);
    assert_eq!(parsed.problems[0].code, "too_large");
    assert!(parsed.problems[0].message.starts_with("the file is 107 bytes"), "{}", parsed.problems[0].message);
}

#[test]
fn too_large_in_gigabytes() {
    struct Zeros(u64);
    impl std::io::Read for Zeros {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0 as usize);
            buf[..n].fill(b'a');
            self.0 -= n as u64;
            Ok(n)
        }
    }
    let limits = Limits { max_bytes: 1 << 20, max_problems: 10 };
    let parsed = parse_reader(Zeros(2 << 30), Entity::Accounts, &Mapping::default(), &limits);
    assert!(
        parsed.problems[0].message.starts_with("the file is 2.0 GB; the limit is 1.0 MB"),
        "{}",
        parsed.problems[0].message
    );
}

#[test]
fn missing_required_column() {
    let csv = "Id,Name,AccountId,Amount,CurrencyIsoCode\n006A,Acme,001A,100,EUR\n";
    let parsed = parse_with(csv.as_bytes(), Entity::Opportunities, "salesforce");
    assert_eq!(
        summary(&parsed.problems),
        vec![(1, 0, Some("StageName"), "missing_column"), (1, 0, Some("CloseDate"), "missing_column")]
    );
    assert!(parsed.problems[0].message.contains("'StageName' or 'Stage'"), "{}", parsed.problems[0].message);
    assert_eq!((parsed.rows_read, parsed.rows.len()), (0, 0));
}

#[test]
fn missing_account_and_currency_columns() {
    let csv = "Name,StageName,Amount,CloseDate\nAcme,Prospecting,100,2024-09-30\n";
    let parsed = parse_with(csv.as_bytes(), Entity::Opportunities, "salesforce");
    let codes: Vec<_> = summary(&parsed.problems);
    assert_eq!(
        codes,
        vec![(1, 0, Some("AccountId"), "missing_column"), (1, 0, Some("CurrencyIsoCode"), "missing_column")]
    );
}

#[test]
fn duplicate_external_id() {
    let ps = problems(&sf(
        "006A,Acme,001A,Prospecting,100,EUR,2024-09-30\n006B,Globex,001B,Prospecting,100,EUR,2024-09-30\n006A,Acme again,001A,Prospecting,100,EUR,2024-09-30\n",
    ));
    assert_eq!(summary(&ps), vec![(4, 3, Some("Id"), "duplicate_key")]);
    assert!(ps[0].message.contains("also on line 2"), "{}", ps[0].message);
}

#[test]
fn duplicate_salesops_id() {
    let csv =
        "id,name,account_id,stage,amount,currency,close_date\n1,A,5,S,1,EUR,2024-01-01\n1,B,5,S,1,EUR,2024-01-01\n";
    let parsed = parse(csv.as_bytes(), Entity::Opportunities, &Mapping::default(), &Limits::default());
    assert_eq!(summary(&parsed.problems), vec![(3, 2, Some("id"), "duplicate_key")]);
}

#[test]
fn bad_amount() {
    let ps = problems(&sf("006A,Acme,001A,Prospecting,\"12,3,4\",EUR,2024-09-30\n"));
    assert_eq!(summary(&ps), vec![(2, 1, Some("Amount"), "bad_number")]);
    assert_eq!(ps[0].value.as_deref(), Some("12,3,4"));
    assert!(ps[0].message.contains("groups of three digits"), "{}", ps[0].message);
}

#[test]
fn negative_amount() {
    let ps = problems(&sf("006A,Acme,001A,Prospecting,-100.00,EUR,2024-09-30\n"));
    assert_eq!(summary(&ps), vec![(2, 1, Some("Amount"), "negative_amount")]);
}

#[test]
fn bad_date() {
    let ps = problems(&sf("006A,Acme,001A,Prospecting,100,EUR,31/09/2024\n"));
    assert_eq!(summary(&ps), vec![(2, 1, Some("CloseDate"), "bad_date")]);
    assert!(ps[0].message.contains("YYYY-MM-DD"), "{}", ps[0].message);
}

#[test]
fn unknown_currency() {
    let ps = problems(&sf("006A,Acme,001A,Prospecting,100,EURO,2024-09-30\n"));
    assert_eq!(summary(&ps), vec![(2, 1, Some("CurrencyIsoCode"), "bad_currency")]);
    assert_eq!(ps[0].value.as_deref(), Some("EURO"));
}

#[test]
fn empty_required_cells_and_bad_values() {
    let csv = "Id,Name,AccountId,StageName,Amount,CurrencyIsoCode,CloseDate,Probability,ForecastCategoryName,Owner Email\n\
               006A,,001A,Prospecting,100,EUR,2024-09-30,150,Maybe,anna(at)example.com\n";
    let ps = problems(csv.as_bytes());
    assert_eq!(
        summary(&ps),
        vec![
            (2, 1, Some("Name"), "required"),
            (2, 1, Some("Owner Email"), "unknown_value"),
            (2, 1, Some("Probability"), "out_of_range"),
            (2, 1, Some("ForecastCategoryName"), "unknown_value"),
        ]
    );
}

#[test]
fn empty_file_and_header_only() {
    let parsed = parse_with(b"", Entity::Opportunities, "salesforce");
    assert_eq!(summary(&parsed.problems), vec![(1, 0, None, "empty_file")]);
    let parsed = parse_with(HEADER.as_bytes(), Entity::Opportunities, "salesforce");
    assert!(parsed.is_ok());
    assert_eq!(parsed.rows_read, 0);
}

#[test]
fn problems_are_capped_but_counted() {
    let rows: String = (0..50).map(|i| format!("006{i},Acme,001A,Prospecting,oops,EUR,2024-09-30\n")).collect();
    let limits = Limits { max_bytes: 1 << 20, max_problems: 10 };
    let parsed = parse(
        &sf(&rows),
        Entity::Opportunities,
        &import::preset("salesforce", Entity::Opportunities).unwrap(),
        &limits,
    );
    assert_eq!((parsed.problems.len(), parsed.problem_count, parsed.rows_read), (10, 50, 50));
    assert!(parsed.report().ends_with("... and 40 more problems\n"));
}

#[test]
fn blank_lines_and_bom_are_fine() {
    let mut csv = b"\xEF\xBB\xBF".to_vec();
    csv.extend(sf("\r\n006A,Acme,001A,Prospecting,100,EUR,2024-09-30\r\n,,,,,,\r\n\r\n"));
    let parsed = parse_with(&csv, Entity::Opportunities, "salesforce");
    assert!(parsed.is_ok(), "{}", parsed.report());
    assert_eq!((parsed.rows.len(), parsed.rows_read), (1, 1));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let inputs: [&[u8]; 8] = [
        b"\"",
        b"\"\"\"",
        b",,,\n\"",
        b"\xff\xfe\x00\n\x00",
        b"name\n\"a\"\"",
        b"name\r\r\r\"x\"y\n",
        b"\xEF\xBB",
        b"name,stage_entered\nA,x@;@;\\\n",
    ];
    for input in inputs {
        for entity in Entity::ALL {
            let _ = parse(input, entity, &Mapping::default(), &Limits::default());
            let _ = parse_with(input, entity, "hubspot");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random bytes, and random CSV-like text under each preset's header, never panic and
    /// every problem points into the file.
    #[test]
    fn garbage_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        body in "([a-zA-Z0-9 ,;\"'=+@.\\-]|\r|\n|\t|\u{fc}|\u{a0}){0,300}",
        entity in proptest::sample::select(Entity::ALL.to_vec()),
        name in proptest::sample::select(PRESETS.to_vec()),
    ) {
        let mapping = preset(name, entity).unwrap();
        let header = mapping.columns.values().filter_map(|alts| alts.first().cloned()).collect::<Vec<_>>().join(",");
        let breaks = |b: &[u8]| b.iter().filter(|b| matches!(b, b'\n' | b'\r')).count() as u64;
        let lines = breaks(body.as_bytes()) + breaks(&bytes) + 2;
        for input in [bytes.clone(), format!("{header}\n{body}").into_bytes()] {
            let parsed = parse(&input, entity, &mapping, &Limits::default());
            for p in &parsed.problems {
                prop_assert!(p.line <= lines, "{p}");
                prop_assert!(p.value.as_ref().is_none_or(|v| v.chars().count() <= 80));
            }
            prop_assert_eq!(parsed.problem_count as usize, parsed.problems.len());
        }
    }
}
