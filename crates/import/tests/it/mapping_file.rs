//! Mapping files: any CRM's CSV through columns, value maps and formats.

use import::{Entity, Mapping, OpportunityRow, Ref, Rows, parse, preset};
use model::ForecastCategory;

use crate::{date, money, parse_clean, s, some, ts};

const DUTCH_CRM: &str = r#"# Export of our old Dutch CRM: semicolons, decimal commas, day-month-year, Latin-1.
entity = "opportunities"
encoding = "latin-1"
delimiter = ";"
decimal_separator = ","
date_format = "%d-%m-%Y"
datetime_format = "%d-%m-%Y %H:%M"
time_zone = "Europe/Amsterdam"
default_currency = "EUR"

[columns]
external_id = "Kans-ID"
name = "Omschrijving"
account_name = "Klant"
owner_email = "Eigenaar"
stage = "Fase"
amount = "Bedrag"
currency = "Valuta"
close_date = "Sluitdatum"
probability = "Kans %"
forecast_category = "Prognose"
lead_source = "Bron"
created_at = "Aangemaakt"

[values.stage]
"1 - Oriëntatie" = "Discovery"
"2 - Offerte" = "Proposal"
"9 - Gewonnen" = "Closed Won"

[values.forecast_category]
"Beste geval" = "best_case"
"Toezegging" = "commit"

[values.owner_email]
"Jan" = "jan.muller@example.com"
"#;

/// The file as the old CRM wrote it: ISO 8859-1 bytes.
fn latin1(text: &str) -> Vec<u8> {
    text.chars().map(|c| u8::try_from(u32::from(c)).expect("Latin-1 character")).collect()
}

#[test]
fn semicolons_decimal_commas_latin1_value_maps_and_default_currency() {
    let csv = latin1(
        "Kans-ID;Omschrijving;Klant;Eigenaar;Fase;Bedrag;Valuta;Sluitdatum;Kans %;Prognose;Bron;Aangemaakt\r\n\
         K-001;Uitbreiding Müller;Bäckerei Müller GmbH;Jan;1 - Oriëntatie;1.234,56;;31-03-2025;20;Beste geval;Beurs;15-01-2025 09:30\r\n\
         K-002;Onderhoudscontract;De Vries B.V.;jan;2 - Offerte;12.500;USD;30-04-2025;60 %;Toezegging;Website;01-07-2025 14:00\r\n\
         K-003;\"Licenties; 50 stuks\";Öko Bau;Jan;9 - Gewonnen;980,00;;15-02-2025;100;;Partner;10-12-2024 08:15\r\n",
    );
    assert_eq!(csv[csv.iter().position(|b| *b == 0xFC).unwrap() - 1], b'M', "ü is one byte");
    let mapping = Mapping::from_toml(DUTCH_CRM).unwrap();
    let rows = parse_clean(&csv, Entity::Opportunities, &mapping);
    let first = OpportunityRow {
        id: None,
        external_id: some("K-001"),
        name: s("Uitbreiding Müller"),
        account: Ref::Name(s("Bäckerei Müller GmbH")),
        owner_email: some("jan.muller@example.com"),
        pipeline: None,
        stage: s("Discovery"),
        amount: money("1234.56", "EUR"),
        close_date: date("2025-03-31"),
        probability: Some(20),
        forecast_category: Some(ForecastCategory::BestCase),
        loss_reason: None,
        lead_source: some("Beurs"),
        engaged_on: None,
        // 09:30 in Amsterdam in winter (+01:00).
        created_at: Some(ts("2025-01-15T08:30:00Z")),
        stage_entered: vec![],
    };
    let expected = vec![
        first.clone(),
        OpportunityRow {
            external_id: some("K-002"),
            name: s("Onderhoudscontract"),
            account: Ref::Name(s("De Vries B.V.")),
            stage: s("Proposal"),
            amount: money("12500", "USD"),
            close_date: date("2025-04-30"),
            probability: Some(60),
            forecast_category: Some(ForecastCategory::Commit),
            lead_source: some("Website"),
            // 14:00 in Amsterdam in summer (+02:00).
            created_at: Some(ts("2025-07-01T12:00:00Z")),
            ..first.clone()
        },
        OpportunityRow {
            external_id: some("K-003"),
            name: s("Licenties; 50 stuks"),
            account: Ref::Name(s("Öko Bau")),
            stage: s("Closed Won"),
            amount: money("980.00", "EUR"),
            close_date: date("2025-02-15"),
            probability: Some(100),
            forecast_category: None,
            lead_source: some("Partner"),
            created_at: Some(ts("2024-12-10T07:15:00Z")),
            ..first
        },
    ];
    assert_eq!(rows, Rows::Opportunities(expected));
}

#[test]
fn a_mapping_can_extend_a_preset() {
    let toml = r#"
preset = "hubspot"
default_currency = "EUR"
[columns]
lead_source = "Deal source"
[values.stage]
"contractsent" = "Contract sent"
"#;
    let csv = "Record ID,Deal Name,Deal Stage,Amount,Close Date,Associated Company,Deal source,Date entered contractsent\n\
               1,Acme,contractsent,10,2024-08-31,Acme,Referral,2024-08-01 10:00\n";
    let mapping = Mapping::from_toml(toml).unwrap();
    assert_eq!(mapping.preset, Some("hubspot"));
    let Rows::Opportunities(rows) = parse_clean(csv.as_bytes(), Entity::Opportunities, &mapping) else { panic!() };
    assert_eq!(rows[0].stage, "Contract sent");
    assert_eq!(rows[0].amount, money("10", "EUR"));
    assert_eq!(rows[0].lead_source.as_deref(), Some("Referral"));
    assert_eq!(rows[0].stage_entered, vec![(s("Contract sent"), ts("2024-08-01T10:00:00Z"))]);
}

#[test]
fn stage_history_columns_from_any_crm() {
    let toml = r#"
default_currency = "EUR"
[columns]
name = "Deal"
account_name = "Customer"
stage = "Stage"
amount = "Value"
close_date = "Close"
[stage_entered]
"Discovery" = "Discovery since"
"Proposal" = "Proposal since"
"#;
    let csv = "Deal,Customer,Stage,Value,Close,Discovery since,Proposal since\n\
               Acme,Acme Inc,Proposal,5,2024-09-30,2024-03-01,2024-02-01T10:00:00+01:00\n";
    let Rows::Opportunities(rows) =
        parse_clean(csv.as_bytes(), Entity::Opportunities, &Mapping::from_toml(toml).unwrap())
    else {
        panic!()
    };
    assert_eq!(
        rows[0].stage_entered,
        vec![(s("Proposal"), ts("2024-02-01T09:00:00Z")), (s("Discovery"), ts("2024-03-01T00:00:00Z"))]
    );
}

#[test]
fn errors_name_the_key_and_line() {
    let err = Mapping::from_toml("preset = \"salesforce\"\ncolour = \"blue\"\n").unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(err.to_string().contains("colour"), "{err}");

    let err = Mapping::from_toml("[columns]\nname = \"Name\"\nstag = \"Stage\"\n").unwrap_err();
    assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("columns.stag")));
    assert!(err.message.contains("'stag' is not a salesops field; did you mean 'stage'?"), "{err}");

    let err = Mapping::from_toml("entity = \"accounts\"\n[columns]\nstage = \"Stage\"\n").unwrap_err();
    assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("columns.stage")));
    assert!(err.message.contains("industry"), "lists the accounts fields: {err}");

    let err = Mapping::from_toml("\n\ntime_zone = \"Europe/Atlantis\"\n").unwrap_err();
    assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("time_zone")));

    let err = Mapping::from_toml("[values.forecast]\n\"Best Case\" = \"best_case\"\n").unwrap_err();
    assert_eq!((err.line, err.key.as_deref()), (Some(1), Some("values.forecast")));

    for (text, key) in [
        ("encoding = \"utf-16\"", "encoding"),
        ("delimiter = \";;\"", "delimiter"),
        ("decimal_separator = \"'\"", "decimal_separator"),
        ("date_format = \"%d-%m-%Y %H\"", "date_format"),
        ("default_currency = \"EURO\"", "default_currency"),
        ("preset = \"pipedrive\"", "preset"),
        ("probability = \"ratio\"", "probability"),
    ] {
        let err = Mapping::from_toml(text).unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(1), Some(key)), "{text}: {err}");
    }

    let err = Mapping::from_toml("[columns\nname = 1").unwrap_err();
    assert_eq!(err.line, Some(1), "{err}");

    let err = Mapping::from_toml("preset = \"hubspot\"\ndelimiter = 5\n").unwrap_err();
    assert_eq!((err.line, err.key.as_deref()), (Some(2), Some("delimiter")), "{err}");
}

#[test]
fn a_mapping_for_another_entity_is_refused() {
    let parsed = parse(
        b"name\nAcme\n",
        Entity::Accounts,
        &preset("salesops", Entity::Opportunities).unwrap(),
        &Default::default(),
    );
    assert_eq!(parsed.problems[0].code, "mapping");
    assert!(parsed.problems[0].message.contains("opportunities"));
}

#[test]
fn unmapped_columns_are_listed() {
    let csv = "name,colour,industry\nAcme,blue,Retail\n";
    let parsed = parse(csv.as_bytes(), Entity::Accounts, &Mapping::default(), &Default::default());
    assert!(parsed.is_ok(), "{}", parsed.report());
    assert_eq!(parsed.ignored_columns, vec![s("colour")]);
}

#[test]
fn value_maps_can_fill_and_clear_cells() {
    let toml = r#"
preset = "salesops"
[values.amount]
"" = "0"
[values.owner_email]
"n/a" = ""
"#;
    let csv =
        "name,account_name,stage,amount,currency,close_date,owner_email\nAcme,Acme,Discovery,,EUR,2024-01-31,N/A\n";
    let Rows::Opportunities(rows) =
        parse_clean(csv.as_bytes(), Entity::Opportunities, &Mapping::from_toml(toml).unwrap())
    else {
        panic!()
    };
    assert_eq!(rows[0].amount, money("0", "EUR"));
    assert_eq!(rows[0].owner_email, None);
}

#[test]
fn the_readme_example_is_a_valid_mapping() {
    let readme = include_str!("../../README.md");
    let start = readme.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + readme[start..].find("\n```").unwrap();
    let mapping = Mapping::from_toml(&readme[start..end]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mapping.preset, Some("salesforce"));
    assert_eq!(mapping.delimiter, b';');
    assert_eq!(mapping.columns["probability"], vec![s("Kans %"), s("Kans")]);
    assert!(mapping.columns["loss_reason"].is_empty());
    assert_eq!(mapping.values["stage"]["9 - Gewonnen"], "Closed Won");
    // The Salesforce preset's value maps are kept alongside the file's own.
    assert_eq!(mapping.values["forecast_category"]["Best Case"], "best_case");
    assert_eq!(mapping.stage_columns["Proposal"], "Datum offerte");
}

#[test]
fn a_preset_column_can_be_left_out() {
    let toml = "preset = \"salesforce\"\n[columns]\nowner_email = \"\"\n";
    let csv = "Id,Name,AccountId,StageName,Amount,CurrencyIsoCode,CloseDate,OwnerId\n\
               006A,Acme,001A,Prospecting,100,EUR,2024-09-30,0055g00000OwNeRAAA\n";
    let Rows::Opportunities(rows) =
        parse_clean(csv.as_bytes(), Entity::Opportunities, &Mapping::from_toml(toml).unwrap())
    else {
        panic!()
    };
    assert_eq!(rows[0].owner_email, None);
}
