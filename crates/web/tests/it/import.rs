//! Importing a year of CRM history (C4): Salesforce and HubSpot exports, dry runs with a
//! validation report, all-or-nothing apply, idempotent re-import, historical dates kept, and
//! the salesops export importing back unchanged. Through the API and the import page.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::{ADMIN, As, HEAD, REP, TestApp, both};

async fn post_csv(t: &TestApp, who: &As, path: &str, csv: &str) -> crate::Resp {
    let mut b = Request::builder().method("POST").uri(path).header(header::CONTENT_TYPE, "text/csv");
    match who {
        As::Token(tok) => b = b.header(header::AUTHORIZATION, format!("Bearer {tok}")),
        As::Session { cookie, csrf } => b = b.header(header::COOKIE, cookie).header("x-csrf-token", csrf),
        As::Anonymous => {}
    }
    t.raw(b.body(Body::from(csv.to_string())).unwrap()).await
}

/// A Salesforce report export: account names, owner e-mails, a lost deal with its reason.
const SALESFORCE: &str = "\
Id,Name,Account Name,Owner Email,StageName,Amount,CurrencyIsoCode,CloseDate,Probability (%),CreatedDate,Loss_Reason__c,LeadSource
0068d00000AbCdE,Kantoorinrichting 2026,Import Test B.V.,rep@demo.salesops.io,Proposal,12500.00,EUR,2026-03-31,60,2025-11-02T10:00:00Z,,Website
0068d00000AbCdF,Servicecontract,Import Test B.V.,rep@demo.salesops.io,Closed lost,800.00,EUR,2026-01-31,0,2025-10-02T10:00:00Z,Price,Referral
0068d00000AbCdG,Uitbreiding,Import Test B.V.,rep@demo.salesops.io,Closed won,4200.50,EUR,2026-02-15,100,2025-09-12T08:30:00Z,,
";

both!(a_salesforce_export_is_checked_then_imported_once, |t| {
    let admin = t.session(ADMIN).await;
    // Without creating missing accounts, the unknown account is reported, nothing written.
    let r = post_csv(&t, &admin, "/api/v1/import/opportunities?dry_run=true", SALESFORCE).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = r.json();
    assert_eq!(
        (v["code"].as_str(), v["preset"].as_str(), v["problem_count"].as_u64()),
        (Some("invalid"), Some("salesforce"), Some(3))
    );
    assert_eq!(v["problems"][0]["code"], "unknown_reference");
    assert_eq!(
        (v["problems"][0]["line"].as_u64(), v["problems"][0]["column"].as_str()),
        (Some(2), Some("Account Name"))
    );
    assert!(v["problems"][0]["message"].as_str().unwrap().contains("Import Test B.V."));

    let before = t.get("/api/v1/opportunities?count=exact&limit=1", &admin).await.json()["total"].as_i64().unwrap();
    let r = post_csv(&t, &admin, "/api/v1/import/opportunities?dry_run=true&create_missing=true", SALESFORCE).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.json()["new"].as_u64(), r.json()["applied"].as_bool()), (Some(3), Some(false)));
    let same = t.get("/api/v1/opportunities?count=exact&limit=1", &admin).await.json()["total"].as_i64().unwrap();
    assert_eq!(same, before, "a dry run writes nothing");

    let r = post_csv(&t, &admin, "/api/v1/import/opportunities?create_missing=true", SALESFORCE).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.json()["new"].as_u64(), r.json()["created_accounts"].as_u64()), (Some(3), Some(1)));
    // Re-importing the same file changes nothing.
    let r = post_csv(&t, &admin, "/api/v1/import/opportunities?create_missing=true", SALESFORCE).await;
    assert_eq!(
        (r.json()["new"].as_u64(), r.json()["changed"].as_u64(), r.json()["unchanged"].as_u64()),
        (Some(0), Some(0), Some(3)),
        "{}",
        r.body
    );
    let after = t.get("/api/v1/opportunities?count=exact&limit=1", &admin).await.json()["total"].as_i64().unwrap();
    assert_eq!(after, before + 3);

    // The records keep their history: created date, loss reason, and the rep owns them.
    let rep = t.session(REP).await;
    let list = t.get("/api/v1/opportunities?q=servicecontract", &rep).await.json();
    let lost = &list["items"][0];
    assert_eq!(
        (lost["external_id"].as_str(), lost["loss_reason"].as_str(), lost["created_at"].as_str()),
        (Some("0068d00000AbCdF"), Some("Price"), Some("2025-10-02T10:00:00Z"))
    );
    assert_eq!(lost["amount"], json!({"amount": "800.00", "currency": "EUR"}));

    // A changed amount in the next export updates just that deal, with an audit entry per file.
    let changed = SALESFORCE.replace("12500.00", "13750.00");
    let r = post_csv(&t, &admin, "/api/v1/import/opportunities?create_missing=true", &changed).await;
    assert_eq!((r.json()["changed"].as_u64(), r.json()["unchanged"].as_u64()), (Some(1), Some(2)), "{}", r.body);
    let head = t.session(HEAD).await;
    let audit = t.get("/api/v1/audit?action=import", &head).await.json();
    assert_eq!(audit["total"], 2, "one entry per applied file that changed something: {audit}");

    // Reps cannot import.
    let r = post_csv(&t, &rep, "/api/v1/import/opportunities", SALESFORCE).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

/// A HubSpot deals export with "Date entered" columns: the stage history comes along.
const HUBSPOT: &str = "\
Record ID,Deal Name,Deal Stage,Pipeline,Amount,Currency,Close Date,Create Date,Deal owner,Associated Company,\"Date entered \"\"Prospecting (New business)\"\"\",\"Date entered \"\"Qualification (New business)\"\"\",\"Date entered \"\"Proposal (New business)\"\"\"
9001,Warmtepompen,Proposal,New business,9900,EUR,2026-05-30,2026-01-05 09:00,rep@demo.salesops.io,HubSpot Klant,2026-01-05 09:00,2026-01-20 14:00,2026-02-11 10:30
";

both!(a_hubspot_export_brings_its_stage_history, |t| {
    let admin = t.session(ADMIN).await;
    let r = post_csv(&t, &admin, "/api/v1/import/opportunities?create_missing=true", HUBSPOT).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["preset"], "hubspot");
    let rep = t.session(REP).await;
    let o = t.get("/api/v1/opportunities?q=warmtepompen", &rep).await.json()["items"][0].clone();
    assert_eq!(o["stage_entered_at"], "2026-02-11T10:30:00Z");
    let h = t.get(&format!("/api/v1/opportunities/{}/history", o["id"]), &rep).await.json();
    let steps: Vec<(&str, &str, &str)> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["to_stage"].as_str().unwrap(), x["at"].as_str().unwrap(), x["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("Prospecting", "2026-01-05T09:00:00Z", "import"),
            ("Qualification", "2026-01-20T14:00:00Z", "import"),
            ("Proposal", "2026-02-11T10:30:00Z", "import"),
        ]
    );
});

both!(bad_files_get_a_report_and_write_nothing, |t| {
    let admin = t.session(ADMIN).await;
    let before = t.get("/api/v1/opportunities?count=exact&limit=1", &admin).await.json()["total"].as_i64().unwrap();
    let header = "Id,Name,Account Name,Owner Email,StageName,Amount,CurrencyIsoCode,CloseDate\n";
    let cases: &[(&str, &str, &str)] = &[
        ("ragged", "A1,Deal,Acme,rep@demo.salesops.io,Proposal,100,EUR\n", "ragged_row"),
        (
            "formula",
            "A2,\"=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",Acme,rep@demo.salesops.io,Proposal,100,EUR,2026-01-01\n",
            "formula",
        ),
        ("unknown owner", "A3,Deal,Acme,nobody@example.com,Proposal,100,EUR,2026-01-01\n", "unknown_reference"),
        ("unknown stage", "A4,Deal,Acme,rep@demo.salesops.io,Signed,100,EUR,2026-01-01\n", "unknown_reference"),
        ("amount", "A5,Deal,Acme,rep@demo.salesops.io,Proposal,12;5,EUR,2026-01-01\n", "bad_number"),
        ("date", "A6,Deal,Acme,rep@demo.salesops.io,Proposal,100,EUR,31/02/2026\n", "bad_date"),
        ("currency", "A7,Deal,Acme,rep@demo.salesops.io,Proposal,100,EUX,2026-01-01\n", "bad_currency"),
        (
            "duplicate",
            "A8,Deal,Acme,rep@demo.salesops.io,Proposal,100,EUR,2026-01-01\nA8,Deal,Acme,rep@demo.salesops.io,Proposal,100,EUR,2026-01-01\n",
            "duplicate_key",
        ),
    ];
    for (what, rows, code) in cases {
        // A valid first row proves nothing is written when a later row is bad.
        let csv = format!("{header}OK1,Good deal,Acme,rep@demo.salesops.io,Proposal,100,EUR,2026-01-01\n{rows}");
        let r = post_csv(&t, &admin, "/api/v1/import/opportunities?preset=salesforce&create_missing=true", &csv).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", r.body);
        let body = r.json();
        let found: Vec<String> =
            body["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_string()).collect();
        assert!(found.iter().any(|c| c == code), "{what}: expected {code} in {}", r.body);
        let p = &body["problems"][0];
        assert!(p["line"].as_u64().unwrap() >= 2, "{what}: a line is named");
    }
    // Bad UTF-8 and an empty body.
    let mut bytes = format!("{header}B1,Caf").into_bytes();
    bytes.extend([0xff, 0xfe]);
    bytes.extend(b",Acme,rep@demo.salesops.io,Proposal,100,EUR,2026-01-01\n");
    let As::Session { cookie, csrf } = &admin else { unreachable!() };
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/import/opportunities?preset=salesforce")
        .header(header::COOKIE, cookie)
        .header("x-csrf-token", csrf)
        .body(Body::from(bytes))
        .unwrap();
    let r = t.raw(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("bad_utf8"), "{}", r.body);
    let r = post_csv(&t, &admin, "/api/v1/import/opportunities", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = post_csv(&t, &admin, "/api/v1/import/planets", "x\n").await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("entity")));
    let after = t.get("/api/v1/opportunities?count=exact&limit=1", &admin).await.json()["total"].as_i64().unwrap();
    assert_eq!(after, before, "no partial writes");
});

both!(the_salesops_export_imports_back_unchanged, |t| {
    let admin = t.session(ADMIN).await;
    let r = t.get("/api/v1/opportunities/export", &admin).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let total = t.get("/api/v1/opportunities?count=exact&limit=1", &admin).await.json()["total"].as_u64().unwrap();
    assert_eq!(r.body.lines().count() as u64, total + 1, "every visible opportunity, one header");
    assert!(r.body.lines().next().unwrap().starts_with("id,external_id,name,"), "{}", &r.body[..200]);
    let back = post_csv(&t, &admin, "/api/v1/import/opportunities", &r.body).await;
    assert_eq!(back.status, StatusCode::OK, "{}", &back.body[..back.body.len().min(2000)]);
    let v = back.json();
    assert_eq!(
        (v["preset"].as_str(), v["new"].as_u64(), v["changed"].as_u64(), v["unchanged"].as_u64()),
        (Some("salesops"), Some(0), Some(0), Some(total))
    );
    // A rep's export holds only the rep's deals.
    let rep = t.session(REP).await;
    let mine = t.get("/api/v1/opportunities/export?status=open", &rep).await;
    let rep_total =
        t.get("/api/v1/opportunities?count=exact&limit=1&status=open", &rep).await.json()["total"].as_u64().unwrap();
    assert_eq!(mine.body.lines().count() as u64, rep_total + 1);
    assert!(mine.body.lines().skip(1).all(|l| l.contains("rep@demo.salesops.io")));
});

both!(list_exports_neutralise_formulas, |t| {
    let admin = t.session(ADMIN).await;
    let csv = "Id,Name,Account Name,Owner Email,StageName,Amount,CurrencyIsoCode,CloseDate\nF1,'=1+2 deal,Formula Klant,rep@demo.salesops.io,Proposal,100,EUR,2026-01-01\n";
    let r = post_csv(&t, &admin, "/api/v1/import/opportunities?preset=salesforce&create_missing=true", csv).await;
    assert_eq!(r.status, StatusCode::OK, "an escaped formula imports as text: {}", r.body);
    let list = t.get("/api/v1/opportunities?format=csv&q=deal", &admin).await;
    assert!(list.body.contains("'=1+2 deal"), "{}", list.body);
    assert!(!list.body.contains(",=1+2"));
    let export = t.get("/api/v1/opportunities/export?q=deal", &admin).await;
    assert!(export.body.contains("'=1+2 deal"));
    let json = t.get("/api/v1/opportunities?q=deal", &admin).await.json();
    assert!(json["items"].as_array().unwrap().iter().any(|o| o["name"] == "=1+2 deal"), "stored as the text it is");
});

both!(the_import_page_checks_then_imports, |t| {
    let admin = t.session(ADMIN).await;
    assert_eq!(t.get("/import", &admin).await.status, StatusCode::OK);
    let rep = t.session(REP).await;
    assert_eq!(t.get("/import", &rep).await.status, StatusCode::FORBIDDEN);
    let As::Session { cookie, csrf } = &admin else { unreachable!() };
    let upload = |mode: &str, csrf_value: &str, csv: &str| {
        let boundary = "XyZbOuNdArY";
        let mut body = String::new();
        for (name, value) in [
            ("csrf", csrf_value),
            ("entity", "opportunities"),
            ("preset", ""),
            ("create_missing", "on"),
            ("mode", mode),
        ] {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"deals.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"));
        Request::builder()
            .method("POST")
            .uri("/import")
            .header(header::COOKIE, cookie.clone())
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap()
    };
    let bad = SALESFORCE.replace("2026-02-15", "15.02.2026");
    let r = t.raw(upload("check", csrf, &bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("id=\"import-problems\"") && r.body.contains("15.02.2026") && r.body.contains("CloseDate"),
        "{}",
        r.body
    );
    let r = t.raw(upload("check", csrf, SALESFORCE)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("id=\"import-summary\""));
    let r = t.raw(upload("apply", "forged", SALESFORCE)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "CSRF is checked on uploads");
    let r = t.raw(upload("apply", csrf, SALESFORCE)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let n = t.get("/api/v1/opportunities?q=kantoorinrichting", &admin).await.json()["total"].as_i64().unwrap();
    assert_eq!(n, 1);
});

both!(one_check_reports_format_and_reference_problems_together, |t| {
    let admin = t.session(ADMIN).await;
    let csv = "\
Id,Name,Account Name,Owner Email,StageName,Amount,CurrencyIsoCode,CloseDate
X1,\"Multi-line
name\",Nobody Ltd,rep@demo.salesops.io,Proposal,100,EUR,2026-01-01
X2,Deal two,Nobody Ltd,ghost@demo.salesops.io,Proposal,100,EUR,2026-13-01
X3,Deal three,Nobody Ltd,rep@demo.salesops.io,Proposal,100,EUR,2026-02-01
";
    let r = post_csv(&t, &admin, "/api/v1/import/opportunities?dry_run=true", csv).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = r.json();
    let found: Vec<(u64, u64, &str, &str)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["row"].as_u64().unwrap(),
                p["column"].as_str().unwrap_or(""),
                p["code"].as_str().unwrap(),
            )
        })
        .collect();
    // The first record spans lines 2-3, so the next ones start on lines 4 and 5.
    assert_eq!(
        found,
        [
            (2, 1, "Account Name", "unknown_reference"),
            (4, 2, "CloseDate", "bad_date"),
            (5, 3, "Account Name", "unknown_reference"),
        ]
    );
});

both!(a_year_of_salesforce_history_in_five_files, |t| {
    let admin = t.session(ADMIN).await;
    let import = |entity: &'static str, csv: &'static str| {
        let (t, admin) = (&t, &admin);
        async move {
            let r = post_csv(t, admin, &format!("/api/v1/import/{entity}?preset=salesforce"), csv).await;
            assert_eq!(r.status, StatusCode::OK, "{entity}: {}", r.body);
            r.json()
        }
    };
    // The subsidiary comes before its parent in the file.
    let accounts = "\
Id,Name,Industry,NumberOfEmployees,BillingCountry,BillingCity,BillingPostalCode,Website,Phone,ParentId,OwnerId,CurrencyIsoCode,CreatedDate
001A2,Zuidoost Installatie B.V.,Construction,85,Netherlands,Eindhoven,5611 AB,https://www.zo-installatie.nl,+31 40 555 0100,001A1,rep@demo.salesops.io,EUR,2025-02-01T09:00:00.000Z
001A1,Zuidoost Groep N.V.,Construction,1200,Netherlands,Utrecht,3511 AA,zo-groep.nl,,,rep@demo.salesops.io,EUR,2025-01-15T09:00:00.000Z
";
    let contacts = "\
Id,FirstName,LastName,Email,Phone,Title,AccountId,Owner Email,CreatedDate
003C1,Marieke,Bos,marieke.bos@zo-installatie.nl,,Inkoper,001A2,rep@demo.salesops.io,2025-02-03T10:00:00.000Z
";
    let leads = "\
Id,FirstName,LastName,Company,Email,Phone,LeadSource,Status,Owner Email,CreatedDate
00QL1,Joost,Smits,Smits Techniek,joost@smits-techniek.nl,,Web,Working - Contacted,rep@demo.salesops.io,2025-03-02T09:00:00.000Z
";
    let opportunities = "\
Id,Name,AccountId,Owner Email,StageName,Amount,CurrencyIsoCode,CloseDate,CreatedDate
006O1,Warmtepompen 2025,001A2,rep@demo.salesops.io,Closed won,48000.00,EUR,2025-06-30,2025-02-10T09:00:00.000Z
";
    let tasks = "\
Id,Subject,ActivityDate,TaskSubtype,CallDurationInSeconds,CallDisposition,WhatId,WhoId,AccountId,Owner Email
00TT1,Kick-off call,2025-02-12,Call,1260,Connected,006O1,003C1,001A2,rep@demo.salesops.io
";
    assert_eq!(import("accounts", accounts).await["new"], 2);
    assert_eq!(import("contacts", contacts).await["new"], 1);
    assert_eq!(import("leads", leads).await["new"], 1);
    assert_eq!(import("opportunities", opportunities).await["new"], 1);
    assert_eq!(import("activities", tasks).await["new"], 1);
    // Every file again: nothing changes.
    for (entity, csv) in [
        ("accounts", accounts),
        ("contacts", contacts),
        ("leads", leads),
        ("opportunities", opportunities),
        ("activities", tasks),
    ] {
        let v = import(entity, csv).await;
        assert_eq!((v["new"].as_u64(), v["changed"].as_u64()), (Some(0), Some(0)), "{entity}: {v}");
        assert_eq!(v["unchanged"].as_u64(), v["rows_read"].as_u64(), "{entity}: {v}");
    }

    let rep = t.session(REP).await;
    let accs = t.get("/api/v1/accounts?q=zuidoost", &rep).await.json();
    let sub =
        accs["items"].as_array().unwrap().iter().find(|a| a["name"] == "Zuidoost Installatie B.V.").unwrap().clone();
    let parent = accs["items"].as_array().unwrap().iter().find(|a| a["name"] == "Zuidoost Groep N.V.").unwrap().clone();
    assert_eq!(sub["parent_id"], parent["id"], "the parent later in the file is linked");
    let opp = t.get("/api/v1/opportunities?q=warmtepompen", &rep).await.json()["items"][0].clone();
    assert_eq!(
        (opp["account_id"].clone(), opp["stage_kind"].as_str(), opp["created_at"].as_str()),
        (sub["id"].clone(), Some("won"), Some("2025-02-10T09:00:00Z"))
    );
    let acts = t.get(&format!("/api/v1/activities?opportunity_id={}", opp["id"]), &rep).await.json();
    assert_eq!(
        (acts["items"][0]["kind"].as_str(), acts["items"][0]["duration_seconds"].as_i64()),
        (Some("call"), Some(1260))
    );
    let contacts = t.get(&format!("/api/v1/contacts?account_id={}", sub["id"]), &rep).await.json();
    assert_eq!(contacts["items"][0]["last_name"], "Bos");
    let leads = t.get("/api/v1/leads?q=smits", &rep).await.json();
    assert_eq!(leads["items"][0]["status"], "working");
});

/// The five Salesforce files of a small CRM, imported through the API.
async fn import_salesforce_crm(t: &TestApp, admin: &As) {
    let files = [
        (
            "accounts",
            "Id,Name,BillingCountry,OwnerId,CurrencyIsoCode,CreatedDate\n\
             001B1,Noordwest Techniek B.V.,Netherlands,rep@demo.salesops.io,EUR,2025-01-15T09:00:00.000Z\n",
        ),
        (
            "contacts",
            "Id,FirstName,LastName,Email,Title,AccountId,Owner Email,CreatedDate\n\
             003D1,Sanne,de Wit,sanne@nw-techniek.nl,Inkoper,001B1,rep@demo.salesops.io,2025-02-03T10:00:00.000Z\n\
             003D2,Pieter,Kok,pieter@nw-techniek.nl,Directeur,001B1,rep@demo.salesops.io,2025-02-03T10:00:00.000Z\n",
        ),
        (
            "leads",
            "Id,FirstName,LastName,Company,Email,Phone,LeadSource,Status,Owner Email,CreatedDate\n\
             00QM1,Joost,Smits,Smits Techniek,joost@smits-techniek.nl,,Web,Working - Contacted,rep@demo.salesops.io,2025-03-02T09:00:00.000Z\n",
        ),
        (
            "activities",
            "Id,Subject,ActivityDate,TaskSubtype,CallDurationInSeconds,WhoId,AccountId,Owner Email\n\
             00TU1,Kick-off call,2025-02-12,Call,1260,003D1,001B1,rep@demo.salesops.io\n",
        ),
    ];
    for (entity, csv) in files {
        let r = post_csv(t, admin, &format!("/api/v1/import/{entity}?preset=salesforce"), csv).await;
        assert_eq!(r.status, StatusCode::OK, "{entity}: {}", r.body);
    }
}

both!(reimported_contacts_leads_and_activities_are_updated_and_audited, |t| {
    let admin = t.session(ADMIN).await;
    import_salesforce_crm(&t, &admin).await;
    let again = [
        (
            "contacts",
            "Id,FirstName,LastName,Email,Title,AccountId,Owner Email,CreatedDate\n\
             003D1,Sanne,de Wit,sanne@nw-techniek.nl,Hoofd inkoop,001B1,rep@demo.salesops.io,2025-02-03T10:00:00.000Z\n\
             003D2,Pieter,Kok,pieter@nw-techniek.nl,Directeur,001B1,rep@demo.salesops.io,2025-02-03T10:00:00.000Z\n",
            2,
        ),
        (
            "leads",
            "Id,FirstName,LastName,Company,Email,Phone,LeadSource,Status,Owner Email,CreatedDate\n\
             00QM1,Joost,Smits,Smits Techniek,joost@smits-techniek.nl,+31 6 1234 5678,Web,Working - Contacted,rep@demo.salesops.io,2025-03-02T09:00:00.000Z\n",
            1,
        ),
        (
            "activities",
            "Id,Subject,ActivityDate,TaskSubtype,CallDurationInSeconds,WhoId,AccountId,Owner Email\n\
             00TU1,Kick-off call (rescheduled),2025-02-12,Call,1260,003D1,001B1,rep@demo.salesops.io\n",
            1,
        ),
    ];
    for (entity, csv, rows) in again {
        let r = post_csv(&t, &admin, &format!("/api/v1/import/{entity}?preset=salesforce"), csv).await;
        assert_eq!(r.status, StatusCode::OK, "{entity}: {}", r.body);
        let v = r.json();
        assert_eq!(
            (v["new"].as_u64(), v["changed"].as_u64(), v["unchanged"].as_u64()),
            (Some(0), Some(1), Some(rows - 1)),
            "{entity}: only the changed row is written, the rest is unchanged: {v}"
        );
        // The same file once more: nothing left to change.
        let v = post_csv(&t, &admin, &format!("/api/v1/import/{entity}?preset=salesforce"), csv).await.json();
        assert_eq!((v["changed"].as_u64(), v["unchanged"].as_u64()), (Some(0), Some(rows)), "{entity}: {v}");
    }
    let rep = t.session(REP).await;
    let account = t.get("/api/v1/accounts?q=noordwest", &rep).await.json()["items"][0]["id"].clone();
    let contacts = t.get(&format!("/api/v1/contacts?account_id={account}"), &rep).await.json();
    let sanne = contacts["items"].as_array().unwrap().iter().find(|c| c["last_name"] == "de Wit").unwrap().clone();
    assert_eq!(sanne["title"], "Hoofd inkoop");
    assert_eq!(t.get("/api/v1/leads?q=smits", &rep).await.json()["items"][0]["phone"], "+31 6 1234 5678");
    let acts = t.get(&format!("/api/v1/activities?account_id={account}"), &rep).await.json();
    assert_eq!(acts["items"][0]["subject"], "Kick-off call (rescheduled)");
    // Each change is audited with what the record was and became.
    let log = t.get("/api/v1/audit?action=import_update", &admin).await.json();
    let entities: Vec<&str> = log["items"].as_array().unwrap().iter().filter_map(|e| e["entity"].as_str()).collect();
    for e in ["contacts", "leads", "activities"] {
        assert_eq!(entities.iter().filter(|x| **x == e).count(), 1, "{e}: {log}");
    }
    let entry = log["items"].as_array().unwrap().iter().find(|e| e["entity"] == "contacts").unwrap().clone();
    let text = entry.to_string();
    assert!(text.contains("Inkoper") && text.contains("Hoofd inkoop"), "{text}");
    // A status the file changes is a step in the lead's history, as when a user changes it.
    let back_to_new = "Id,FirstName,LastName,Company,Email,Phone,LeadSource,Status,Owner Email,CreatedDate\n\
         00QM1,Joost,Smits,Smits Techniek,joost@smits-techniek.nl,+31 6 1234 5678,Web,Open - Not Contacted,rep@demo.salesops.io,2025-03-02T09:00:00.000Z\n";
    let v = post_csv(&t, &admin, "/api/v1/import/leads?preset=salesforce", back_to_new).await.json();
    assert_eq!(v["changed"], 1, "{v}");
    let lead = t.get("/api/v1/leads?q=smits", &rep).await.json()["items"][0]["id"].clone();
    let detail = t.get(&format!("/api/v1/leads/{lead}"), &rep).await.json();
    let steps: Vec<(String, String)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["from_status"].as_str().unwrap_or("").to_string(), h["to_status"].as_str().unwrap().to_string()))
        .collect();
    assert!(steps.contains(&("working".to_string(), "new".to_string())), "{detail}");
});

both!(every_kind_exports_in_the_salesops_format_and_imports_back_unchanged, |t| {
    let admin = t.session(ADMIN).await;
    import_salesforce_crm(&t, &admin).await;
    for entity in ["accounts", "contacts", "leads", "opportunities", "activities"] {
        let r = t.get(&format!("/api/v1/{entity}/export"), &admin).await;
        assert_eq!(r.status, StatusCode::OK, "{entity}: {}", r.body);
        assert_eq!(r.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        assert!(r.body.starts_with("id,external_id,"), "{entity}: {}", &r.body[..r.body.len().min(200)]);
        let back = post_csv(&t, &admin, &format!("/api/v1/import/{entity}"), &r.body).await;
        assert_eq!(back.status, StatusCode::OK, "{entity}: {}", &back.body[..back.body.len().min(2000)]);
        let v = back.json();
        assert!(v["rows_read"].as_u64().unwrap() > 0, "{entity}: {v}");
        assert_eq!(
            (v["preset"].as_str(), v["new"].as_u64(), v["changed"].as_u64(), v["unchanged"].as_u64()),
            (Some("salesops"), Some(0), Some(0), v["rows_read"].as_u64()),
            "{entity}"
        );
    }
    // A rep's export holds only the rep's records.
    let rep = t.session(REP).await;
    let mine = t.get("/api/v1/contacts/export", &rep).await;
    assert!(mine.body.lines().skip(1).all(|l| l.contains("rep@demo.salesops.io")), "{}", mine.body);
    // The list pages and the import page link the exports.
    assert!(t.get("/accounts", &admin).await.body.contains("/api/v1/accounts/export"));
    assert!(t.get("/leads", &admin).await.body.contains("/api/v1/leads/export"));
    assert!(t.get("/import", &admin).await.body.contains("/api/v1/activities/export"));
});

both!(another_salesops_export_fills_a_fresh_database, |t| {
    let admin = t.session(ADMIN).await;
    import_salesforce_crm(&t, &admin).await;
    let mut files = vec![];
    for entity in ["accounts", "contacts", "leads", "opportunities", "activities"] {
        let r = t.get(&format!("/api/v1/{entity}/export"), &admin).await;
        assert_eq!(r.status, StatusCode::OK, "{entity}");
        files.push((entity, r.body));
    }
    // Another installation: the same people and sales process, no CRM records yet.
    let fresh = crate::helpers::empty_store(t.kind).await.unwrap();
    let now: jiff::Timestamp = crate::helpers::NOW.parse().unwrap();
    let company = demo::generate(demo::Scale::Small, 7, now.to_zoned(jiff::tz::TimeZone::UTC).date());
    let set = store::BulkSet {
        reporting_currency: company.reporting_currency,
        fx_rates: &company.fx_rates,
        regions: &company.regions,
        teams: &company.teams,
        users: &company.users,
        password_hash: None,
        pipelines: &company.pipelines,
        accounts: &[],
        opportunities: &[],
        stage_history: &[],
        loss_reasons: &company.loss_reasons,
        contacts: &[],
        leads: &[],
        activities: &[],
        products: &company.products,
        price_books: &company.price_books,
        prices: &company.prices,
        opportunity_lines: &[],
        quotes: &[],
        orders: &[],
        order_events: &[],
        now,
    };
    fresh.store.bulk_load(&set, &|_| {}).await.unwrap();
    let other = app::App::new(fresh.store.clone(), std::sync::Arc::new(app::SystemClock));
    let p = other.cli_principal(Some(ADMIN)).await.unwrap();
    for (entity, csv) in &files {
        let opts = app::ImportOptions {
            entity: import::Entity::parse(entity).unwrap(),
            preset: Some("salesops".into()),
            mapping: None,
            dry_run: false,
            create_missing: false,
            foreign_ids: true,
            file_name: format!("{entity}.csv"),
            max_bytes: 1 << 30,
        };
        let r = other.import_file(&p, csv.as_bytes(), &opts, &|_| {}).await.unwrap();
        assert_eq!((r.problem_count, r.applied), (0, true), "{entity}: {:?}", r.problems.first());
        assert_eq!(r.new as u64, r.rows_read, "{entity}: every record is new there");
        // The same file again changes nothing.
        let r = other.import_file(&p, csv.as_bytes(), &opts, &|_| {}).await.unwrap();
        assert_eq!((r.new, r.changed, r.unchanged as u64), (0, 0, r.rows_read), "{entity}");
    }
});

/// `n` salesops-format opportunity rows on demo accounts, `bad` (if any) replacing the last.
fn many_opportunities(n: usize, last: Option<&str>) -> String {
    let mut csv = String::from("external_id,name,account_id,owner_email,stage,amount,currency,close_date\n");
    for i in 0..n {
        if i + 1 == n
            && let Some(l) = last
        {
            csv.push_str(l);
            csv.push('\n');
            break;
        }
        csv.push_str(&format!(
            "BULK-{i},Bulk deal {i},1,rep@demo.salesops.io,Proposal,{}.50,EUR,2026-09-30\n",
            1000 + i
        ));
    }
    csv
}

both!(a_file_larger_than_one_chunk_is_written_all_or_nothing, |t| {
    let admin = t.session(ADMIN).await;
    let count =
        async || t.get("/api/v1/opportunities?count=exact&limit=1", &admin).await.json()["total"].as_u64().unwrap();
    let before = count().await;
    // Rows are read and written in chunks of 16,384: a problem on the last line (or a key
    // repeated from the first chunk) still leaves nothing written.
    for last in [
        "BULK-LAST,Broken deal,1,rep@demo.salesops.io,Proposal,12x,EUR,2026-09-30",
        "BULK-0,Twice,1,rep@demo.salesops.io,Proposal,10,EUR,2026-09-30",
    ] {
        let r = post_csv(
            &t,
            &admin,
            "/api/v1/import/opportunities?preset=salesops",
            &many_opportunities(20_000, Some(last)),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &r.body[..r.body.len().min(500)]);
        let v = r.json();
        assert_eq!((v["problem_count"].as_u64(), v["problems"][0]["line"].as_u64()), (Some(1), Some(20_001)), "{v}");
        assert_eq!(count().await, before, "nothing written");
    }
    let r =
        post_csv(&t, &admin, "/api/v1/import/opportunities?preset=salesops", &many_opportunities(20_000, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", &r.body[..r.body.len().min(500)]);
    assert_eq!(r.json()["new"], 20_000);
    assert_eq!(count().await, before + 20_000);
    let again =
        post_csv(&t, &admin, "/api/v1/import/opportunities?preset=salesops", &many_opportunities(20_000, None)).await;
    assert_eq!((again.json()["new"].as_u64(), again.json()["unchanged"].as_u64()), (Some(0), Some(20_000)));
});

/// The import page's multipart form, as a browser sends it.
fn import_form(who: &As, mode: &str, file_name: &str, csv: &str) -> Request<Body> {
    let As::Session { cookie, csrf } = who else { unreachable!() };
    let boundary = "JoBbOuNdArY";
    let mut body = String::new();
    for (name, value) in
        [("csrf", csrf.as_str()), ("entity", "opportunities"), ("preset", ""), ("create_missing", "on"), ("mode", mode)]
    {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"));
    Request::builder()
        .method("POST")
        .uri("/import")
        .header(header::COOKIE, cookie.clone())
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap()
}

both!(an_import_that_takes_long_continues_as_a_job_with_a_progress_page, |t| {
    // The page waits no time at all, as if every file were large.
    let mut t = t;
    t.router =
        web::router(web::AppState { import_wait: std::time::Duration::ZERO, ..web::AppState::new(t.app.clone()) });
    let admin = t.session(ADMIN).await;
    let r = t.raw(import_form(&admin, "apply", "year-2026.csv", SALESFORCE)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let job_page = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(job_page.starts_with("/import/jobs/"), "{job_page}");
    let first = t.get(&job_page, &admin).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.contains("year-2026.csv"));
    assert!(
        first.body.contains("id=\"import-progress\"") || first.body.contains("id=\"import-result\""),
        "a running job shows its progress bar, a finished one its result: {}",
        first.body
    );
    // The page refreshes itself until the job ends.
    let mut page = first;
    for _ in 0..500 {
        if !page.body.contains("http-equiv=\"refresh\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        page = t.get(&job_page, &admin).await;
    }
    assert!(!page.body.contains("http-equiv=\"refresh\""), "the job ended: {}", page.body);
    assert!(page.body.contains("id=\"import-result\"") && page.body.contains("id=\"import-summary\""), "{}", page.body);
    assert!(page.body.contains("class=\"badge won\""), "{}", page.body);
    let n = t.get("/api/v1/opportunities?q=kantoorinrichting", &admin).await.json()["total"].as_i64().unwrap();
    assert_eq!(n, 1, "the job imported the file");
    // The import page lists it under recent imports.
    let form = t.get("/import", &admin).await;
    assert!(form.body.contains("id=\"import-jobs\"") && form.body.contains(&format!("href=\"{job_page}\"")));
    // A job is its owner's: another administrator gets 404, a rep 403.
    let head = t.session(HEAD).await;
    assert_eq!(t.get(&job_page, &head).await.status, StatusCode::NOT_FOUND);
    let rep = t.session(REP).await;
    assert_eq!(t.get(&job_page, &rep).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.get("/import/jobs/999999", &admin).await.status, StatusCode::NOT_FOUND);
});

both!(a_job_whose_server_stopped_is_shown_as_interrupted, |t| {
    let admin = t.session(ADMIN).await;
    let me = model::UserId(t.user_id(crate::ADMIN).await);
    // A job row left running by a process that is gone (no heartbeat for a minute).
    let started = t.app.now() - jiff::SignedDuration::from_secs(60);
    let id = t.store.import_job_start(me, "accounts", "lost.csv", false, 10, started).await.unwrap();
    let page = t.get(&format!("/import/jobs/{id}"), &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"import-job-state\">Interrupted"), "{}", page.body);
    assert!(!page.body.contains("http-equiv=\"refresh\""));
});

both!(activities_that_name_missing_records_are_reported_not_written, |t| {
    let admin = t.session(ADMIN).await;
    let csv = "\
kind,subject,at,owner_email,opportunity_id,contact_external_id
call,Follow-up,2026-01-05T10:00:00Z,rep@demo.salesops.io,987654321,
call,Intro,2026-01-06T10:00:00Z,rep@demo.salesops.io,,C-NOBODY
";
    let r = post_csv(&t, &admin, "/api/v1/import/activities?preset=salesops", csv).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = r.json();
    let found: Vec<(u64, &str, &str, &str)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["column"].as_str().unwrap(),
                p["value"].as_str().unwrap(),
                p["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (2, "opportunity_id", "987654321", "unknown_reference"),
            (3, "contact_external_id", "C-NOBODY", "unknown_reference")
        ]
    );
    assert_eq!(v["applied"], false);
});

both!(a_list_total_converts_each_amount_at_its_dated_rate, |t| {
    let admin = t.session(ADMIN).await;
    for (from, rate) in [("2025-01-01", "2"), ("2026-01-01", "3")] {
        let body = json!({"from": "CHF", "to": "EUR", "valid_from": from, "rate": rate});
        assert_eq!(t.send("POST", "/api/v1/fx-rates", &admin, Some(body)).await.status, StatusCode::NO_CONTENT);
    }
    let csv = "\
Id,Name,Account Name,Owner Email,StageName,Amount,CurrencyIsoCode,CloseDate
T1,Zwitsers totaal een,Totaal Klant,rep@demo.salesops.io,Closed won,100.00,CHF,2025-06-30
T2,Zwitsers totaal twee,Totaal Klant,rep@demo.salesops.io,Closed won,10.00,CHF,2026-02-01
T3,Zwitsers totaal drie,Totaal Klant,manager@demo.salesops.io,Closed won,5.00,EUR,2026-02-01
";
    let r = post_csv(&t, &admin, "/api/v1/import/opportunities?preset=salesforce&create_missing=true", csv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // 100 CHF at 2 (2025 rate) + 10 CHF at 3 (2026 rate) + 5 EUR = 235 EUR; never 115 of anything.
    let v = t.get("/api/v1/opportunities/total?q=zwitsers+totaal", &admin).await.json();
    assert_eq!(v["count"], 3, "{v}");
    assert_eq!(v["currencies"], json!(["CHF", "EUR"]));
    assert_eq!((v["total"]["amount"].as_str(), v["total"]["currency"].as_str()), (Some("235.00"), Some("EUR")), "{v}");
    // The list page says the same, and how it converted.
    let page = t.get("/opportunities?q=zwitsers+totaal", &admin).await;
    assert!(
        page.body.contains("id=\"amount-total\"") && page.body.contains("235.00") && page.body.contains("CHF, EUR"),
        "{}",
        page.body
    );
    // A rep's total covers only what the rep may see; filters apply as in the list.
    let won_eur = t.get("/api/v1/opportunities/total?q=zwitsers+totaal&close_from=2026-01-01", &admin).await.json();
    assert_eq!(won_eur["total"]["amount"], "35.00");
    let rep = t.session(REP).await;
    let mine = t.get("/api/v1/opportunities/total?q=zwitsers+totaal", &rep).await.json();
    assert_eq!((mine["count"].as_i64(), mine["total"]["amount"].as_str()), (Some(2), Some("230.00")), "{mine}");
    assert_eq!(
        t.get("/api/v1/opportunities/total?status=sideways", &admin).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
});
