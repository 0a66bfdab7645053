//! The salesops CSV export: header, plain values, and neutralised formulas.

use import::{
    AccountRow, Entity, ExportError, Exporter, OpportunityRow, Ref, Rows, escape_cell, export, export_header, fields,
};
use model::ForecastCategory;

use crate::{date, money, s, some, ts};

fn opportunity() -> OpportunityRow {
    OpportunityRow {
        id: Some(42),
        external_id: some("=1+1"),
        name: s("=HYPERLINK(\"http://evil.example\",\"click\")"),
        account: Ref::Name(s("@Acme")),
        owner_email: some("anna.jansen@example.com"),
        pipeline: some("New business"),
        stage: s("Proposal"),
        amount: money("1234.50", "EUR"),
        close_date: date("2025-03-31"),
        probability: Some(40),
        forecast_category: Some(ForecastCategory::BestCase),
        loss_reason: None,
        lead_source: some("+31 20 555 0100"),
        engaged_on: None,
        created_at: Some(ts("2024-11-01T08:00:00Z")),
        stage_entered: vec![
            (s("Discovery; phase 1"), ts("2024-11-01T09:00:00Z")),
            (s("Proposal"), ts("2025-01-10T15:30:00Z")),
        ],
    }
}

#[test]
fn export_writes_plain_values_and_escapes_text() {
    let out = export(&Rows::Opportunities(vec![opportunity()]), Vec::new()).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        "id,external_id,name,account_id,account_external_id,account_name,owner_email,pipeline,stage,amount,currency,close_date,probability,forecast_category,loss_reason,lead_source,engaged_on,created_at,stage_entered\r\n\
         42,'=1+1,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",,,'@Acme,anna.jansen@example.com,New business,Proposal,1234.50,EUR,2025-03-31,40,best_case,,'+31 20 555 0100,,2024-11-01T08:00:00Z,Discovery\\; phase 1@2024-11-01T09:00:00Z;Proposal@2025-01-10T15:30:00Z\r\n"
    );
    for line in text.lines().skip(1) {
        for cell in line.split(',') {
            assert!(!matches!(cell.as_bytes().first(), Some(b'=' | b'@' | b'\t' | b'\r')), "{cell}");
        }
    }
}

#[test]
fn headers_are_the_field_names() {
    for entity in Entity::ALL {
        let names: Vec<&str> =
            fields(entity).iter().map(|f| f.name).filter(|n| !matches!(*n, "what_id" | "who_id")).collect();
        assert_eq!(export_header(entity), names.as_slice(), "{entity}");
    }
}

#[test]
fn streaming_checks_the_entity() {
    let mut e = Exporter::new(Vec::new(), Entity::Accounts).unwrap();
    assert!(matches!(e.write(&opportunity()), Err(ExportError::WrongEntity { .. })));
    let account = AccountRow {
        id: None,
        external_id: None,
        name: s("Acme"),
        industry: s(""),
        employees: None,
        country: s("NL"),
        city: s(""),
        postal_code: s(""),
        time_zone: some("Europe/Amsterdam"),
        domain: None,
        phone: None,
        owner_email: None,
        parent: Some(Ref::Id(7)),
        currency: None,
        created_at: None,
    };
    e.write(&account).unwrap();
    let text = String::from_utf8(e.finish().unwrap()).unwrap();
    assert_eq!(text.lines().nth(1), Some(",,Acme,,,NL,,,Europe/Amsterdam,,,,7,,,,"));
}

#[test]
fn escape_examples() {
    assert_eq!(escape_cell("=SUM(A1)"), "'=SUM(A1)");
    assert_eq!(escape_cell("'=SUM(A1)"), "''=SUM(A1)");
    assert_eq!(escape_cell("'quoted'"), "'quoted'");
    assert_eq!(escape_cell("-5"), "'-5");
    assert_eq!(escape_cell("Acme"), "Acme");
}
