//! Each built-in preset reads a realistic small export into the expected rows.

use import::{AccountRow, ActivityRow, ContactRow, Entity, LeadRow, OpportunityRow, Ref, Rows, detect_preset, preset};
use model::{ActivityKind, Currency, ForecastCategory, LeadStatus};

use crate::{date, money, parse_clean, parse_with, s, some, ts};

const SF_OPPORTUNITIES: &str = r#""Id","Name","AccountId","StageName","Amount","CurrencyIsoCode","CloseDate","Probability","ForecastCategoryName","LeadSource","Loss_Reason__c","Owner Email","CreatedDate"
"0065g00000AbCdEAAZ","Acme - 250 seats","0015g00000XyZaBAAV","Prospecting","125000.00","EUR","2024-09-30","10","Pipeline","Web","","anna.jansen@example.com","2024-03-01T10:15:00.000+0000"
"0065g00000AbCdFAAZ","Globex renewal","0015g00000XyZaCAAV","Negotiation/Review","48000","USD","2024-07-15","90","Commit","Partner Referral","","Bob.Smith@Example.com","2024-02-12T08:00:00.000+0000"
"0065g00000AbCdGAAZ","Initech pilot","0015g00000XyZaDAAV","Closed Lost","9500.50","EUR","2024-05-31","0","Omitted","Cold Call","Price","anna.jansen@example.com","2024-01-05T14:30:00.000+0000"
"#;

#[test]
fn salesforce_opportunities() {
    let rows = parse_clean(
        SF_OPPORTUNITIES.as_bytes(),
        Entity::Opportunities,
        &preset("salesforce", Entity::Opportunities).unwrap(),
    );
    let base = OpportunityRow {
        id: None,
        external_id: some("0065g00000AbCdEAAZ"),
        name: s("Acme - 250 seats"),
        account: Ref::External(s("0015g00000XyZaBAAV")),
        owner_email: some("anna.jansen@example.com"),
        pipeline: None,
        stage: s("Prospecting"),
        amount: money("125000.00", "EUR"),
        close_date: date("2024-09-30"),
        probability: Some(10),
        forecast_category: Some(ForecastCategory::Pipeline),
        loss_reason: None,
        lead_source: some("Web"),
        engaged_on: None,
        created_at: Some(ts("2024-03-01T10:15:00Z")),
        stage_entered: vec![],
    };
    let expected = vec![
        base.clone(),
        OpportunityRow {
            external_id: some("0065g00000AbCdFAAZ"),
            name: s("Globex renewal"),
            account: Ref::External(s("0015g00000XyZaCAAV")),
            owner_email: some("bob.smith@example.com"),
            stage: s("Negotiation/Review"),
            amount: money("48000", "USD"),
            close_date: date("2024-07-15"),
            probability: Some(90),
            forecast_category: Some(ForecastCategory::Commit),
            lead_source: some("Partner Referral"),
            created_at: Some(ts("2024-02-12T08:00:00Z")),
            ..base.clone()
        },
        OpportunityRow {
            external_id: some("0065g00000AbCdGAAZ"),
            name: s("Initech pilot"),
            account: Ref::External(s("0015g00000XyZaDAAV")),
            stage: s("Closed Lost"),
            amount: money("9500.50", "EUR"),
            close_date: date("2024-05-31"),
            probability: Some(0),
            forecast_category: Some(ForecastCategory::Omitted),
            loss_reason: some("Price"),
            lead_source: some("Cold Call"),
            created_at: Some(ts("2024-01-05T14:30:00Z")),
            ..base
        },
    ];
    assert_eq!(rows, Rows::Opportunities(expected));
}

#[test]
fn salesforce_report_labels_are_alternatives() {
    let csv = "Opportunity Name,Account Name,Stage,Amount,Opportunity Currency,Close Date,Probability (%),Forecast Category,Owner Email\n\
               Acme - 250 seats,Acme Holding B.V.,Prospecting,\"125,000.00\",EUR,2024-09-30,10%,Best Case,anna.jansen@example.com\n";
    let Rows::Opportunities(rows) =
        parse_clean(csv.as_bytes(), Entity::Opportunities, &preset("salesforce", Entity::Opportunities).unwrap())
    else {
        panic!("not opportunities")
    };
    assert_eq!(rows[0].account, Ref::Name(s("Acme Holding B.V.")));
    assert_eq!(rows[0].amount, money("125000.00", "EUR"));
    assert_eq!(rows[0].probability, Some(10));
    assert_eq!(rows[0].forecast_category, Some(ForecastCategory::BestCase));
}

#[test]
fn salesforce_owner_ids_need_owner_email() {
    let csv = "Id,Name,AccountId,StageName,Amount,CurrencyIsoCode,CloseDate,OwnerId\n\
               0065g00000AbCdEAAZ,Acme,0015g00000XyZaBAAV,Prospecting,100,EUR,2024-09-30,0055g00000OwNeRAAA\n";
    let parsed = parse_with(csv.as_bytes(), Entity::Opportunities, "salesforce");
    assert_eq!(parsed.problems.len(), 1);
    let p = &parsed.problems[0];
    assert_eq!((p.line, p.row, p.column.as_deref(), p.code.as_ref()), (2, 1, Some("OwnerId"), "unknown_value"));
    assert!(p.message.contains("Owner Email"), "{}", p.message);
}

#[test]
fn salesforce_accounts() {
    let csv = r#"Id,Name,Industry,NumberOfEmployees,BillingCountry,BillingCity,BillingPostalCode,Website,Phone,ParentId,OwnerId,CurrencyIsoCode,CreatedDate
0015g00000XyZaBAAV,Acme Holding B.V.,Manufacturing,1200,Netherlands,Amsterdam,1012 AB,https://www.Acme.example/about,+31 20 555 0100,,anna.jansen@example.com,EUR,2023-11-20T09:00:00.000Z
0015g00000XyZaCAAV,Globex GmbH,Technology,"5,000",Germany,Berlin,10115,globex.example,+49 30 5550100,0015g00000XyZaBAAV,bob.smith@example.com,EUR,2023-12-01T12:00:00.000Z
0015g00000XyZaDAAV,Initech Ltd,Finance,,United Kingdom,London,EC1A 1BB,,,,anna.jansen@example.com,GBP,2024-01-02T08:30:00.000Z
"#;
    let rows = parse_clean(csv.as_bytes(), Entity::Accounts, &preset("salesforce", Entity::Accounts).unwrap());
    let acme = AccountRow {
        id: None,
        external_id: some("0015g00000XyZaBAAV"),
        name: s("Acme Holding B.V."),
        industry: s("Manufacturing"),
        employees: Some(1200),
        country: s("NL"),
        city: s("Amsterdam"),
        postal_code: s("1012 AB"),
        time_zone: None,
        domain: some("acme.example"),
        phone: some("+31 20 555 0100"),
        owner_email: some("anna.jansen@example.com"),
        parent: None,
        currency: Some(Currency::EUR),
        created_at: Some(ts("2023-11-20T09:00:00Z")),
    };
    let expected = vec![
        acme.clone(),
        AccountRow {
            external_id: some("0015g00000XyZaCAAV"),
            name: s("Globex GmbH"),
            industry: s("Technology"),
            employees: Some(5000),
            country: s("DE"),
            city: s("Berlin"),
            postal_code: s("10115"),
            domain: some("globex.example"),
            phone: some("+49 30 5550100"),
            owner_email: some("bob.smith@example.com"),
            parent: Some(Ref::External(s("0015g00000XyZaBAAV"))),
            created_at: Some(ts("2023-12-01T12:00:00Z")),
            ..acme.clone()
        },
        AccountRow {
            external_id: some("0015g00000XyZaDAAV"),
            name: s("Initech Ltd"),
            industry: s("Finance"),
            employees: None,
            country: s("GB"),
            city: s("London"),
            postal_code: s("EC1A 1BB"),
            domain: None,
            phone: None,
            currency: Some(Currency::parse("GBP").unwrap()),
            created_at: Some(ts("2024-01-02T08:30:00Z")),
            ..acme
        },
    ];
    assert_eq!(rows, Rows::Accounts(expected));
}

#[test]
fn salesforce_leads() {
    let csv = "Id,FirstName,LastName,Company,Email,Phone,LeadSource,Status,Owner Email,CreatedDate\n\
               00Q5g00000LdAAAAA1,Eva,de Vries,Bakkerij de Vries,EVA@devries.example,,Web,Open - Not Contacted,anna.jansen@example.com,2024-04-02T09:00:00.000Z\n\
               00Q5g00000LdAAAAA2,Piotr,Nowak,Nowak Sp. z o.o.,piotr@nowak.example,+48 22 555 01 00,Trade Show,Working - Contacted,bob.smith@example.com,2024-04-03T09:00:00.000Z\n\
               00Q5g00000LdAAAAA3,Lena,Berg,,lena@berg.example,,,Closed - Not Converted,,2024-04-04T09:00:00.000Z\n";
    let rows = parse_clean(csv.as_bytes(), Entity::Leads, &preset("salesforce", Entity::Leads).unwrap());
    let eva = LeadRow {
        id: None,
        external_id: some("00Q5g00000LdAAAAA1"),
        first_name: s("Eva"),
        last_name: s("de Vries"),
        company: s("Bakkerij de Vries"),
        email: some("eva@devries.example"),
        phone: None,
        source: s("Web"),
        campaign: s(""),
        status: Some(LeadStatus::New),
        disqualify_reason: None,
        owner_email: some("anna.jansen@example.com"),
        created_at: Some(ts("2024-04-02T09:00:00Z")),
    };
    let expected = vec![
        eva.clone(),
        LeadRow {
            external_id: some("00Q5g00000LdAAAAA2"),
            first_name: s("Piotr"),
            last_name: s("Nowak"),
            company: s("Nowak Sp. z o.o."),
            email: some("piotr@nowak.example"),
            phone: some("+48 22 555 01 00"),
            source: s("Trade Show"),
            status: Some(LeadStatus::Working),
            owner_email: some("bob.smith@example.com"),
            created_at: Some(ts("2024-04-03T09:00:00Z")),
            ..eva.clone()
        },
        LeadRow {
            external_id: some("00Q5g00000LdAAAAA3"),
            first_name: s("Lena"),
            last_name: s("Berg"),
            company: s(""),
            email: some("lena@berg.example"),
            source: s(""),
            status: Some(LeadStatus::Disqualified),
            owner_email: None,
            created_at: Some(ts("2024-04-04T09:00:00Z")),
            ..eva
        },
    ];
    assert_eq!(rows, Rows::Leads(expected));
}

#[test]
fn salesforce_tasks() {
    let csv = "Id,Subject,ActivityDate,TaskSubtype,CallDurationInSeconds,CallDisposition,WhatId,WhoId,AccountId,Owner Email\n\
               00T5g000001AAAAAA1,Discovery call,2024-05-02,Call,1260,Connected,0065g00000AbCdEAAZ,0035g00000CcCCCAA1,0015g00000XyZaBAAV,anna.jansen@example.com\n\
               00T5g000001AAAAAA2,Sent proposal,2024-05-03,Email,,,0065g00000AbCdEAAZ,,0015g00000XyZaBAAV,anna.jansen@example.com\n\
               00T5g000001AAAAAA3,Follow up with lead,2024-05-06,Task,,,,00Q5g00000LdAAAAA2,,bob.smith@example.com\n";
    let rows = parse_clean(csv.as_bytes(), Entity::Activities, &preset("salesforce", Entity::Activities).unwrap());
    let call = ActivityRow {
        id: None,
        external_id: some("00T5g000001AAAAAA1"),
        kind: ActivityKind::Call,
        subject: s("Discovery call"),
        at: ts("2024-05-02T00:00:00Z"),
        duration_seconds: Some(1260),
        outcome: some("Connected"),
        address: None,
        owner_email: some("anna.jansen@example.com"),
        account: Some(Ref::External(s("0015g00000XyZaBAAV"))),
        opportunity: Some(Ref::External(s("0065g00000AbCdEAAZ"))),
        contact: Some(Ref::External(s("0035g00000CcCCCAA1"))),
        lead: None,
    };
    let expected = vec![
        call.clone(),
        ActivityRow {
            external_id: some("00T5g000001AAAAAA2"),
            kind: ActivityKind::Email,
            subject: s("Sent proposal"),
            at: ts("2024-05-03T00:00:00Z"),
            duration_seconds: None,
            outcome: None,
            contact: None,
            ..call.clone()
        },
        ActivityRow {
            external_id: some("00T5g000001AAAAAA3"),
            kind: ActivityKind::Task,
            subject: s("Follow up with lead"),
            at: ts("2024-05-06T00:00:00Z"),
            duration_seconds: None,
            outcome: None,
            owner_email: some("bob.smith@example.com"),
            account: None,
            opportunity: None,
            contact: None,
            lead: Some(Ref::External(s("00Q5g00000LdAAAAA2"))),
            ..call
        },
    ];
    assert_eq!(rows, Rows::Activities(expected));
}

const HUBSPOT_DEALS: &str = r#""Record ID","Deal Name","Pipeline","Deal Stage","Amount","Currency","Close Date","Create Date","Deal owner","Associated Company IDs","Associated Company","Deal probability","Forecast category","Closed lost reason","Date entered ""Appointment Scheduled (Sales Pipeline)""","Date entered ""Contract Sent (Sales Pipeline)""","Date entered ""Closed Won (Sales Pipeline)""","Date exited ""Appointment Scheduled (Sales Pipeline)"""
"9876543210","Acme expansion","Sales Pipeline","contractsent","25000","EUR","2024-08-31 00:00","2024-05-01 09:30","anna.jansen@example.com","1234567890","Acme Holding","0.8","Commit","","2024-05-02 10:00","2024-06-10 16:45","","2024-06-10 16:45"
"9876543211","Globex starter","Sales Pipeline","closedwon","4999.99","USD","2024-06-30","2024-04-15 11:00","bob.smith@example.com","1234567891;1234567892","Globex","1","Closed won","","2024-04-16 09:00","2024-05-20 10:00","2024-06-28 17:00",""
"9876543212","Initech trial","Sales Pipeline","closedlost","1200","EUR","2024-05-15","2024-03-01 08:00","anna.jansen@example.com","","Initech","0","Omit","Went with competitor","2024-03-02 08:00","","",""
"#;

#[test]
fn hubspot_deals() {
    let rows = parse_clean(
        HUBSPOT_DEALS.as_bytes(),
        Entity::Opportunities,
        &preset("hubspot", Entity::Opportunities).unwrap(),
    );
    let acme = OpportunityRow {
        id: None,
        external_id: some("9876543210"),
        name: s("Acme expansion"),
        account: Ref::External(s("1234567890")),
        owner_email: some("anna.jansen@example.com"),
        pipeline: some("Sales Pipeline"),
        stage: s("contractsent"),
        amount: money("25000", "EUR"),
        close_date: date("2024-08-31"),
        probability: Some(80),
        forecast_category: Some(ForecastCategory::Commit),
        loss_reason: None,
        lead_source: None,
        engaged_on: None,
        created_at: Some(ts("2024-05-01T09:30:00Z")),
        stage_entered: vec![
            (s("Appointment Scheduled"), ts("2024-05-02T10:00:00Z")),
            (s("Contract Sent"), ts("2024-06-10T16:45:00Z")),
        ],
    };
    let expected = vec![
        acme.clone(),
        OpportunityRow {
            external_id: some("9876543211"),
            name: s("Globex starter"),
            account: Ref::External(s("1234567891")),
            owner_email: some("bob.smith@example.com"),
            stage: s("closedwon"),
            amount: money("4999.99", "USD"),
            close_date: date("2024-06-30"),
            probability: Some(100),
            forecast_category: Some(ForecastCategory::Closed),
            created_at: Some(ts("2024-04-15T11:00:00Z")),
            stage_entered: vec![
                (s("Appointment Scheduled"), ts("2024-04-16T09:00:00Z")),
                (s("Contract Sent"), ts("2024-05-20T10:00:00Z")),
                (s("Closed Won"), ts("2024-06-28T17:00:00Z")),
            ],
            ..acme.clone()
        },
        OpportunityRow {
            external_id: some("9876543212"),
            name: s("Initech trial"),
            account: Ref::Name(s("Initech")),
            stage: s("closedlost"),
            amount: money("1200", "EUR"),
            close_date: date("2024-05-15"),
            probability: Some(0),
            forecast_category: Some(ForecastCategory::Omitted),
            loss_reason: some("Went with competitor"),
            created_at: Some(ts("2024-03-01T08:00:00Z")),
            stage_entered: vec![(s("Appointment Scheduled"), ts("2024-03-02T08:00:00Z"))],
            ..acme
        },
    ];
    assert_eq!(rows, Rows::Opportunities(expected));
}

#[test]
fn hubspot_companies_and_contacts() {
    let companies = "Record ID,Company name,Company Domain Name,Industry,Number of Employees,Country/Region,City,Postal Code,Phone Number,Company owner,Create Date\n\
                     1234567890,Acme Holding,acme.example,COMPUTER_SOFTWARE,250,Netherlands,Amsterdam,1012 AB,+31 20 555 0100,anna.jansen@example.com,2023-10-01 08:00\n\
                     1234567891,Globex,www.globex.example,,,United States,Springfield,,,bob.smith@example.com,2023-10-02 08:00\n";
    let rows = parse_clean(companies.as_bytes(), Entity::Accounts, &preset("hubspot", Entity::Accounts).unwrap());
    let acme = AccountRow {
        id: None,
        external_id: some("1234567890"),
        name: s("Acme Holding"),
        industry: s("COMPUTER_SOFTWARE"),
        employees: Some(250),
        country: s("NL"),
        city: s("Amsterdam"),
        postal_code: s("1012 AB"),
        time_zone: None,
        domain: some("acme.example"),
        phone: some("+31 20 555 0100"),
        owner_email: some("anna.jansen@example.com"),
        parent: None,
        currency: None,
        created_at: Some(ts("2023-10-01T08:00:00Z")),
    };
    let globex = AccountRow {
        external_id: some("1234567891"),
        name: s("Globex"),
        industry: s(""),
        employees: None,
        country: s("US"),
        city: s("Springfield"),
        postal_code: s(""),
        domain: some("globex.example"),
        phone: None,
        owner_email: some("bob.smith@example.com"),
        created_at: Some(ts("2023-10-02T08:00:00Z")),
        ..acme.clone()
    };
    assert_eq!(rows, Rows::Accounts(vec![acme, globex]));

    let contacts = "Record ID,First Name,Last Name,Email,Phone Number,Job Title,Associated Company,Contact owner,Create Date\n\
                    501,Anna,Kowalska,anna@acme.example,+48 600 100 200,Head of Procurement,Acme Holding,anna.jansen@example.com,2023-11-01 10:00\n\
                    502,,,info@globex.example,,,,,2023-11-02 10:00\n";
    let rows = parse_clean(contacts.as_bytes(), Entity::Contacts, &preset("hubspot", Entity::Contacts).unwrap());
    let anna = ContactRow {
        id: None,
        external_id: some("501"),
        first_name: s("Anna"),
        last_name: s("Kowalska"),
        email: some("anna@acme.example"),
        phone: some("+48 600 100 200"),
        title: s("Head of Procurement"),
        account: Some(Ref::Name(s("Acme Holding"))),
        owner_email: some("anna.jansen@example.com"),
        created_at: Some(ts("2023-11-01T10:00:00Z")),
    };
    let info = ContactRow {
        external_id: some("502"),
        first_name: s(""),
        last_name: s(""),
        email: some("info@globex.example"),
        phone: None,
        title: s(""),
        account: None,
        owner_email: None,
        created_at: Some(ts("2023-11-02T10:00:00Z")),
        ..anna.clone()
    };
    assert_eq!(rows, Rows::Contacts(vec![anna, info]));
}

#[test]
fn hubspot_leads_and_activities() {
    let leads = "Record ID,First Name,Last Name,Email,Company Name,Lifecycle Stage,Lead Status,Original Source,Contact owner,Create Date\n\
                 701,Jan,Novak,jan@novak.example,Novak s.r.o.,Lead,In Progress,Organic Search,anna.jansen@example.com,2024-02-01 09:00\n\
                 702,Mia,Lind,mia@lind.example,Lind AB,Subscriber,Unqualified,Paid Social,,2024-02-02 09:00\n";
    let rows = parse_clean(leads.as_bytes(), Entity::Leads, &preset("hubspot", Entity::Leads).unwrap());
    let jan = LeadRow {
        id: None,
        external_id: some("701"),
        first_name: s("Jan"),
        last_name: s("Novak"),
        company: s("Novak s.r.o."),
        email: some("jan@novak.example"),
        phone: None,
        source: s("Organic Search"),
        campaign: s(""),
        status: Some(LeadStatus::Working),
        disqualify_reason: None,
        owner_email: some("anna.jansen@example.com"),
        created_at: Some(ts("2024-02-01T09:00:00Z")),
    };
    let mia = LeadRow {
        external_id: some("702"),
        first_name: s("Mia"),
        last_name: s("Lind"),
        company: s("Lind AB"),
        email: some("mia@lind.example"),
        source: s("Paid Social"),
        status: Some(LeadStatus::Disqualified),
        owner_email: None,
        created_at: Some(ts("2024-02-02T09:00:00Z")),
        ..jan.clone()
    };
    assert_eq!(rows, Rows::Leads(vec![jan, mia]));

    let activities = "Activity ID,Activity type,Activity date,Call title,Call duration,Call outcome,Activity assigned to,Associated Deal IDs,Associated Contact IDs\n\
                      9001,Call,2024-05-02 14:00,Intro call,0:12:30,Connected,anna.jansen@example.com,9876543210,501\n\
                      9002,Meeting,2024-05-10 09:30,,,,bob.smith@example.com,9876543211,\n";
    let rows = parse_clean(activities.as_bytes(), Entity::Activities, &preset("hubspot", Entity::Activities).unwrap());
    let call = ActivityRow {
        id: None,
        external_id: some("9001"),
        kind: ActivityKind::Call,
        subject: s("Intro call"),
        at: ts("2024-05-02T14:00:00Z"),
        duration_seconds: Some(750),
        outcome: some("Connected"),
        address: None,
        owner_email: some("anna.jansen@example.com"),
        account: None,
        opportunity: Some(Ref::External(s("9876543210"))),
        contact: Some(Ref::External(s("501"))),
        lead: None,
    };
    let meeting = ActivityRow {
        external_id: some("9002"),
        kind: ActivityKind::Meeting,
        subject: s(""),
        at: ts("2024-05-10T09:30:00Z"),
        duration_seconds: None,
        outcome: None,
        owner_email: some("bob.smith@example.com"),
        opportunity: Some(Ref::External(s("9876543211"))),
        contact: None,
        ..call.clone()
    };
    assert_eq!(rows, Rows::Activities(vec![call, meeting]));
}

#[test]
fn salesops_opportunities_keep_history_and_escapes() {
    let csv = "id,external_id,name,account_id,account_external_id,account_name,owner_email,pipeline,stage,amount,currency,close_date,probability,forecast_category,loss_reason,lead_source,engaged_on,created_at,stage_entered\r\n\
               42,,'=Acme deal,7,,,anna.jansen@example.com,New business,Proposal,1234.50,EUR,2025-03-31,40,best_case,,Web,2024-11-02,2024-11-01T08:00:00Z,Discovery@2024-11-01T09:00:00Z;Proposal\\; v2@2025-01-10T15:30:00.5Z\r\n\
               ,CRM-9,Globex renewal,,,Globex Corp,,,Discovery,0,USD,2025-06-30,,,,,,,\r\n";
    let rows = parse_clean(csv.as_bytes(), Entity::Opportunities, &import::Mapping::default());
    let first = OpportunityRow {
        id: Some(42),
        external_id: None,
        name: s("=Acme deal"),
        account: Ref::Id(7),
        owner_email: some("anna.jansen@example.com"),
        pipeline: some("New business"),
        stage: s("Proposal"),
        amount: money("1234.50", "EUR"),
        close_date: date("2025-03-31"),
        probability: Some(40),
        forecast_category: Some(ForecastCategory::BestCase),
        loss_reason: None,
        lead_source: some("Web"),
        engaged_on: Some(date("2024-11-02")),
        created_at: Some(ts("2024-11-01T08:00:00Z")),
        stage_entered: vec![
            (s("Discovery"), ts("2024-11-01T09:00:00Z")),
            (s("Proposal; v2"), ts("2025-01-10T15:30:00.5Z")),
        ],
    };
    let second = OpportunityRow {
        id: None,
        external_id: some("CRM-9"),
        name: s("Globex renewal"),
        account: Ref::Name(s("Globex Corp")),
        owner_email: None,
        pipeline: None,
        stage: s("Discovery"),
        amount: money("0", "USD"),
        close_date: date("2025-06-30"),
        probability: None,
        forecast_category: None,
        lead_source: None,
        engaged_on: None,
        created_at: None,
        stage_entered: vec![],
        ..first.clone()
    };
    assert_eq!(rows, Rows::Opportunities(vec![first, second]));
}

#[test]
fn presets_are_detected_from_the_header() {
    let first_line = |s: &str| s.lines().next().unwrap().as_bytes().to_vec();
    assert_eq!(detect_preset(&first_line(SF_OPPORTUNITIES), Entity::Opportunities), "salesforce");
    assert_eq!(detect_preset(&first_line(HUBSPOT_DEALS), Entity::Opportunities), "hubspot");
    let salesops = import::export_header(Entity::Opportunities).join(",");
    assert_eq!(detect_preset(salesops.as_bytes(), Entity::Opportunities), "salesops");
    assert_eq!(detect_preset(b"Record ID;Company name;Company Domain Name", Entity::Accounts), "hubspot");
    assert_eq!(detect_preset(b"nothing,we,know", Entity::Accounts), "salesops");
}
