//! A file exported by salesops imports back unchanged, for arbitrary rows; escaping is a
//! bijection.

use import::{
    AccountRow, ActivityRow, ContactRow, LeadRow, Limits, Mapping, OpportunityRow, Ref, Rows, escape_cell, export,
    parse, unescape_cell,
};
use jiff::Timestamp;
use jiff::civil::Date;
use model::{ActivityKind, Currency, ForecastCategory, LeadStatus, Money};
use proptest::prelude::*;
use proptest::sample::select;
use rust_decimal::Decimal;

/// Arbitrary Unicode with the awkward starts mixed in, trimmed (the importer trims cells, so
/// text that salesops holds is trimmed).
fn text() -> impl Strategy<Value = String> {
    let starts = select(vec!["", "", "=", "'", "''", "+", "-", "@", "'=", "'+1", "\t=", "\"", "'\t"]);
    (starts, any::<String>(), "[a-zA-Z0-9 ,;\"'@=+\\-\n\\\\]{0,12}")
        .prop_map(|(p, a, b)| format!("{p}{a}{b}").trim().to_string())
}

fn filled() -> impl Strategy<Value = String> {
    text().prop_map(|t| if t.is_empty() { "x".into() } else { t })
}

fn maybe(t: impl Strategy<Value = String>) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(t).prop_map(|o| o.filter(|s| !s.is_empty()))
}

fn email() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9._%+-]{0,8}@[a-z0-9]{1,8}\\.[a-z]{2,4}"
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (Timestamp::MIN.as_second() + 1..Timestamp::MAX.as_second(), 0i32..1_000_000_000)
        .prop_map(|(s, n)| Timestamp::new(s, n).unwrap())
}

fn date() -> impl Strategy<Value = Date> {
    (-9999i16..=9999, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
}

fn currency() -> impl Strategy<Value = Currency> {
    select(Currency::all().collect::<Vec<_>>())
}

fn amount() -> impl Strategy<Value = Decimal> {
    (0i64..i64::MAX, 0u32..=12).prop_map(|(m, s)| Decimal::new(m, s))
}

fn reference() -> impl Strategy<Value = Ref> {
    prop_oneof![any::<i64>().prop_map(Ref::Id), filled().prop_map(Ref::External), filled().prop_map(Ref::Name)]
}

/// Unique upsert keys for row `i`, as the importer refuses duplicates.
fn keys(i: usize, id: bool, ext: Option<String>) -> (Option<i64>, Option<String>) {
    (id.then_some(i as i64 * 7 + 1), ext.map(|e| format!("{e}#{i}")))
}

fn account() -> impl Strategy<Value = AccountRow> {
    let a = (
        filled(),
        text(),
        proptest::option::of(0..=i32::MAX),
        select(vec!["", "NL", "DE", "US", "GB", "PL", "AX"]),
        text(),
        text(),
    );
    let b = (
        proptest::option::of(select(vec!["Europe/Amsterdam", "America/New_York", "UTC", "Asia/Kolkata"])),
        proptest::option::of(
            "[a-z0-9]{1,8}(\\.[a-z0-9]([a-z0-9-]{0,5}[a-z0-9])?)?\\.[a-z]{2,6}"
                .prop_filter("no www", |d| !d.starts_with("www.")),
        ),
        maybe(text()),
        proptest::option::of(email()),
        proptest::option::of(reference()),
        proptest::option::of(currency()),
        proptest::option::of(timestamp()),
    );
    (a, b).prop_map(
        |(
            (name, industry, employees, country, city, postal_code),
            (tz, domain, phone, owner, parent, currency, created_at),
        )| {
            AccountRow {
                id: None,
                external_id: None,
                name,
                industry,
                employees,
                country: country.to_string(),
                city,
                postal_code,
                time_zone: tz.map(str::to_string),
                domain,
                phone,
                owner_email: owner,
                parent,
                currency,
                created_at,
            }
        },
    )
}

fn contact() -> impl Strategy<Value = ContactRow> {
    (
        text(),
        filled(),
        proptest::option::of(email()),
        maybe(text()),
        text(),
        proptest::option::of(reference()),
        proptest::option::of(email()),
        proptest::option::of(timestamp()),
    )
        .prop_map(|(first_name, last_name, email, phone, title, account, owner_email, created_at)| ContactRow {
            id: None,
            external_id: None,
            first_name,
            last_name,
            email,
            phone,
            title,
            account,
            owner_email,
            created_at,
        })
}

fn lead() -> impl Strategy<Value = LeadRow> {
    let a = (text(), filled(), text(), proptest::option::of(email()), maybe(text()), text(), text());
    let b = (
        proptest::option::of(select(LeadStatus::ALL.to_vec())),
        maybe(text()),
        proptest::option::of(email()),
        proptest::option::of(timestamp()),
    );
    (a, b).prop_map(
        |(
            (first_name, last_name, company, email, phone, source, campaign),
            (status, disqualify_reason, owner_email, created_at),
        )| LeadRow {
            id: None,
            external_id: None,
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
        },
    )
}

fn opportunity() -> impl Strategy<Value = OpportunityRow> {
    let a =
        (filled(), reference(), proptest::option::of(email()), maybe(text()), filled(), amount(), currency(), date());
    let b = (
        proptest::option::of(0..=100i32),
        proptest::option::of(select(ForecastCategory::ALL.to_vec())),
        maybe(text()),
        maybe(text()),
        proptest::option::of(date()),
        proptest::option::of(timestamp()),
        proptest::collection::vec((filled(), timestamp()), 0..4),
    );
    (a, b).prop_map(
        |(
            (name, account, owner_email, pipeline, stage, amount, currency, close_date),
            (probability, forecast_category, loss_reason, lead_source, engaged_on, created_at, mut stage_entered),
        )| {
            stage_entered.sort_by_key(|(_, t)| *t);
            OpportunityRow {
                id: None,
                external_id: None,
                name,
                account,
                owner_email,
                pipeline,
                stage,
                amount: Money::new(amount, currency),
                close_date,
                probability,
                forecast_category,
                loss_reason,
                lead_source,
                engaged_on,
                created_at,
                stage_entered,
            }
        },
    )
}

fn activity() -> impl Strategy<Value = ActivityRow> {
    let a = (
        select(ActivityKind::ALL.to_vec()),
        text(),
        timestamp(),
        proptest::option::of(0..=i64::MAX),
        maybe(text()),
        maybe(text()),
        proptest::option::of(email()),
    );
    let r = || proptest::option::of(reference());
    let b = (r(), r(), r(), r());
    (a, b).prop_map(
        |(
            (kind, subject, at, duration_seconds, outcome, address, owner_email),
            (account, opportunity, contact, lead),
        )| ActivityRow {
            id: None,
            external_id: None,
            kind,
            subject,
            at,
            duration_seconds,
            outcome,
            address,
            owner_email,
            account,
            opportunity,
            contact,
            lead,
        },
    )
}

/// Rows with unique keys: `(row, has id, external id)`.
fn rows<T: std::fmt::Debug>(row: impl Strategy<Value = T>) -> impl Strategy<Value = Vec<(T, bool, Option<String>)>> {
    proptest::collection::vec((row, any::<bool>(), maybe(text())), 0..6)
}

fn round_trip(rows: Rows) -> Result<(), TestCaseError> {
    let csv = export(&rows, Vec::new()).unwrap();
    let parsed = parse(&csv, rows.entity(), &Mapping::default(), &Limits::default());
    prop_assert!(parsed.is_ok(), "{}\n{}", parsed.report(), String::from_utf8_lossy(&csv));
    prop_assert_eq!(parsed.rows, rows, "{}", String::from_utf8_lossy(&csv));
    Ok(())
}

macro_rules! with_keys {
    ($v:expr) => {
        $v.into_iter()
            .enumerate()
            .map(|(i, (mut r, id, ext))| {
                (r.id, r.external_id) = keys(i, id, ext);
                r
            })
            .collect()
    };
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn accounts(v in rows(account())) {
        round_trip(Rows::Accounts(with_keys!(v)))?;
    }

    #[test]
    fn contacts(v in rows(contact())) {
        round_trip(Rows::Contacts(with_keys!(v)))?;
    }

    #[test]
    fn leads(v in rows(lead())) {
        round_trip(Rows::Leads(with_keys!(v)))?;
    }

    #[test]
    fn opportunities(v in rows(opportunity())) {
        round_trip(Rows::Opportunities(with_keys!(v)))?;
    }

    #[test]
    fn activities(v in rows(activity())) {
        round_trip(Rows::Activities(with_keys!(v)))?;
    }

    #[test]
    fn escaping_is_a_bijection(s in text(), raw in any::<String>()) {
        let escaped = escape_cell(&s);
        prop_assert_eq!(unescape_cell(&escaped).into_owned(), s.clone());
        prop_assert!(!matches!(escaped.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')));
        let any_escaped = escape_cell(&raw);
        prop_assert_eq!(unescape_cell(&any_escaped).into_owned(), raw.clone());
        // Every cell an export can contain is the escape of exactly one value.
        if !matches!(raw.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')) {
            prop_assert_eq!(escape_cell(&unescape_cell(&raw)).into_owned(), raw.clone());
        }
    }
}
