//! From the model's records to facts: currency conversion, local days, dense keys, diagnostics.

use jiff::tz::TimeZone;
use kpi::build::OpportunityLabels;
use kpi::{Dimension, FactsBuilder, Kpi, Query, RecordRef, compute};
use model::{
    AccountId, Activity, ActivityId, ActivityKind, Currency, Email, FiscalCalendar, ForecastCategory, FxRate, FxTable,
    InstallationStatus, Lead, LeadId, LeadStatus, Locale, Money, Opportunity, OpportunityId, Order, OrderId,
    PeriodKind, PipelineId, Quote, QuoteId, QuoteStatus, RegionId, Role, StageId, StageKind, TeamId, TimeZoneName,
    User, UserId,
};
use rust_decimal::Decimal;

use crate::fixture::{at, day, show};

fn user(id: i64, team: i64, region: i64) -> User {
    User {
        id: UserId(id),
        email: Email::parse(&format!("rep{id}@example.com")).unwrap(),
        name: format!("Rep {id}"),
        role: Role::SalesRep,
        team_id: Some(TeamId(team)),
        manager_id: None,
        region_id: Some(RegionId(region)),
        time_zone: TimeZoneName::parse("Europe/Amsterdam").unwrap(),
        locale: Locale::En,
        active: true,
    }
}

fn opportunity(id: i64, owner: i64, amount: &str, currency: &str, created: &str, close: &str) -> Opportunity {
    Opportunity {
        id: OpportunityId(id),
        name: format!("Deal {id}"),
        account_id: AccountId(1),
        owner_id: UserId(owner),
        pipeline_id: PipelineId(1),
        stage_id: StageId(5),
        amount: Money::parse(amount, currency).unwrap(),
        close_date: day(close),
        forecast_category: ForecastCategory::Closed,
        created_at: at(created),
        updated_at: at(close),
        external_id: None,
        probability: None,
        loss_reason_id: None,
        lead_source: Some("web".to_string()),
        next_step: None,
        engaged_on: None,
        stage_entered_at: at(close),
    }
}

fn activity(id: i64, owner: i64, kind: ActivityKind, when: &str, outcome: Option<&str>, lead: Option<i64>) -> Activity {
    Activity {
        id: ActivityId(id),
        external_id: None,
        kind,
        subject: String::new(),
        at: when.parse().unwrap(),
        duration_seconds: (kind == ActivityKind::Call).then_some(600),
        outcome: outcome.map(str::to_string),
        address: None,
        owner_id: UserId(owner),
        account_id: None,
        contact_id: None,
        lead_id: lead.map(LeadId),
        opportunity_id: None,
    }
}

#[test]
fn model_records_become_facts_in_the_reporting_currency() {
    let eur = Currency::EUR;
    let fx = FxTable::new([FxRate {
        from: Currency::USD,
        to: eur,
        valid_from: day("2017-01-01"),
        rate: Decimal::new(9, 1),
    }]);
    let mut builder = FactsBuilder::new(eur, &fx, TimeZone::get("Europe/Amsterdam").unwrap());
    builder.add_user(&user(10, 7, 3));
    builder.add_user(&user(11, 7, 4));
    // Won in USD: 1000.01 USD at 0.9 = 900.009 EUR, rounded to 900.01.
    builder.add_opportunity(
        &opportunity(1, 10, "1000.01", "USD", "2017-01-03", "2017-01-20"),
        StageKind::Won,
        OpportunityLabels::default(),
    );
    builder.add_opportunity(
        &opportunity(2, 11, "500.00", "EUR", "2017-01-04", "2017-01-25"),
        StageKind::Lost,
        OpportunityLabels { segment: Some("smb"), ..OpportunityLabels::default() },
    );
    // Owned by someone who is not a user of the facts, and in a currency without a rate.
    builder.add_opportunity(
        &opportunity(3, 99, "1.00", "EUR", "2017-01-04", "2017-01-25"),
        StageKind::Won,
        OpportunityLabels::default(),
    );
    builder.add_opportunity(
        &opportunity(4, 10, "1.00", "GBP", "2017-01-04", "2017-01-25"),
        StageKind::Won,
        OpportunityLabels::default(),
    );
    // 23:30 UTC on 31 January is 1 February in Amsterdam.
    builder.add_activity(
        &activity(1, 10, ActivityKind::Visit, "2017-01-31T23:30:00Z", Some("sale"), None),
        Some("north-walk"),
    );
    builder.add_activity(&activity(2, 11, ActivityKind::Call, "2017-01-05T09:30:00Z", None, Some(1)), None);
    builder.add_lead(
        &Lead {
            id: LeadId(1),
            external_id: None,
            first_name: "Ada".to_string(),
            last_name: "Lovelace".to_string(),
            company: "Engines".to_string(),
            email: None,
            phone: None,
            source: "web".to_string(),
            campaign: String::new(),
            status: LeadStatus::Working,
            disqualify_reason: None,
            owner_id: UserId(11),
            created_at: "2017-01-05T08:00:00Z".parse().unwrap(),
            converted_at: None,
            account_id: None,
            contact_id: None,
            opportunity_id: None,
        },
        true,
        None,
    );
    builder.add_quote(&Quote {
        id: QuoteId(1),
        external_id: None,
        number: "Q-1".to_string(),
        opportunity_id: OpportunityId(1),
        owner_id: UserId(10),
        status: QuoteStatus::Accepted,
        amount: Money::parse("1000.01", "USD").unwrap(),
        lines: Vec::new(),
        valid_until: None,
        created_at: "2017-01-10T08:00:00Z".parse().unwrap(),
        sent_at: Some("2017-01-10T10:00:00Z".parse().unwrap()),
        answered_at: None,
    });
    builder.add_order(&Order {
        id: OrderId(1),
        external_id: None,
        number: "R-1".to_string(),
        opportunity_id: OpportunityId(1),
        account_id: AccountId(1),
        owner_id: UserId(10),
        quote_id: Some(QuoteId(1)),
        amount: Money::parse("1000.01", "USD").unwrap(),
        ordered_on: day("2017-01-20"),
        installation_status: InstallationStatus::Installed,
        installation_date: Some(day("2017-01-28")),
        failed_installations: 0,
        cancelled_at: None,
        cancel_reason: None,
        created_at: at("2017-01-20"),
    });
    let (facts, _, _, diagnostics) = builder.build();
    let messages: Vec<String> = diagnostics.iter().map(|d| format!("{:?}: {}", d.record.unwrap(), d.message)).collect();
    assert_eq!(
        messages,
        [
            "Opportunity(OpportunityId(3)): owner is not among the users added; left out",
            "Opportunity(OpportunityId(4)): no exchange rate from GBP to EUR on or before 2017-01-25; left out",
        ]
    );
    let kpis = [
        Kpi::Revenue,
        Kpi::WinRate,
        Kpi::Visits,
        Kpi::LeadQualificationRate,
        Kpi::LeadFollowUpTime,
        Kpi::QuoteResponseTime,
        Kpi::FirstTimeRight,
    ];
    let query = Query {
        kpis: kpis.to_vec(),
        by: vec![Dimension::Region],
        period: PeriodKind::Month,
        from: day("2017-01-01"),
        to: day("2017-02-28"),
    };
    let (table, _) = compute(&facts, &FiscalCalendar::default(), &query).unwrap();
    let rows: Vec<String> = table
        .rows
        .iter()
        .map(|r| {
            let region = builder.regions.label(r.slice[0].unwrap()).unwrap();
            let values: Vec<String> = r.values.iter().map(show).collect();
            format!("region {} {} {}", region.0, r.period, values.join(" "))
        })
        .collect();
    assert_eq!(
        rows,
        [
            "region 3 2017-01 900.01 1/1 0 - - 120/1 1/1",
            "region 3 2017-02 0.00 - 1 - - - -",
            "region 4 2017-01 0.00 0/1 0 1/1 90/1 - -",
            "region 4 2017-02 0.00 - 0 - - - -",
        ]
    );
    assert_eq!(facts.activities[0].territory, builder.territories.get(&"north-walk".to_string()).unwrap() as u16);
    assert!(matches!(diagnostics[0].record, Some(RecordRef::Opportunity(_))));
}
