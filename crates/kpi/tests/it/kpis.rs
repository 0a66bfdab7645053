//! The KPI table on a small, readable book of business (January and February 2017).

use kpi::{Baseline, Dimension, Facts, Kpi, Query, RecordRef, Value, compare_with_target, compute, drill_down};
use model::{FiscalCalendar, OpportunityId, Period, PeriodKind};
use rust_decimal::Decimal;

use crate::fixture::{self, Names, day, show};

const REPS: &str = "
    ann north 0
    bob north 0
    cas south 1
";

const OPPORTUNITIES: &str = "
    # id rep source segment created    outcome closed     amount  reason
    O1   ann web    smb     2017-01-03 won     2017-01-20 1000.00
    O2   ann web    smb     2017-01-10 lost    2017-02-02  500.00 price
    O3   ann fair   ent     2017-01-15 open    -          2000.00
    O4   bob web    smb     2016-12-20 won     2017-02-14 1500.00
    O5   bob fair   ent     2017-02-01 lost    2017-02-20  800.00 competitor
    O6   bob web    smb     2017-02-03 won     2017-03-01  700.00
    O7   cas fair   ent     2017-01-05 won     2017-02-10 3000.00
    O8   cas web    smb     2017-02-12 open    -           900.00
";

const ACTIVITIES: &str = "
    # id rep kind    day        seconds or visit outcome
    A1   ann call    2017-01-04 300
    A2   ann call    2017-01-09 600
    A3   ann email   2017-01-09
    A4   bob call    2017-02-01 120
    A5   cas visit   2017-01-06 not_home
    A6   cas visit   2017-01-06 sale
    A7   cas visit   2017-02-07 no_interest
    A8   bob meeting 2017-02-03
";

const QUOTES: &str = "
    # id opportunity created   sent       status
    Q1   0           2017-01-10 2017-01-11 accepted
    Q2   1           2017-01-12 2017-01-15 rejected
    Q3   5           2017-02-05 2017-02-06 accepted
";

const ORDERS: &str = "
    # id opportunity ordered  installed  cancelled  failed visits
    R1   0           2017-01-20 2017-01-30 -          0
    R2   3           2017-02-14 -          2017-02-20 0
    R3   6           2017-02-10 2017-02-25 -          1
";

fn book() -> (Facts, Names) {
    let mut names = Names::default();
    let reps = fixture::reps(REPS, &mut names);
    let opportunities = fixture::opportunities(OPPORTUNITIES, &mut names);
    let activities = fixture::activities(ACTIVITIES, &mut names);
    let mut facts = fixture::facts(reps, opportunities, activities);
    facts.quotes = Some(fixture::quotes(QUOTES));
    facts.orders = Some(fixture::orders(ORDERS));
    (facts, names)
}

fn query(kpis: &[Kpi], by: &[Dimension]) -> Query {
    Query {
        kpis: kpis.to_vec(),
        by: by.to_vec(),
        period: PeriodKind::Month,
        from: day("2017-01-01"),
        to: day("2017-02-28"),
    }
}

/// The table as text: one line per row, the slice by name.
fn render(facts: &Facts, names: &Names, query: &Query) -> String {
    let (table, diagnostics) = compute(facts, &FiscalCalendar::default(), query).unwrap();
    assert_eq!(diagnostics, vec![]);
    let mut out = format!("slice month {}\n", table.kpis.iter().map(|k| k.name()).collect::<Vec<_>>().join(" "));
    for row in &table.rows {
        let slice: Vec<String> = row
            .slice
            .iter()
            .zip(&table.by)
            .map(|(value, dimension)| match (value, dimension) {
                (Some(v), Dimension::Rep) => names.reps[*v as usize].clone(),
                (Some(v), Dimension::Team) => names.teams[*v as usize].clone(),
                (Some(v), _) => v.to_string(),
                (None, _) => "none".to_string(),
            })
            .collect();
        let values: Vec<String> = row.values.iter().map(show).collect();
        out += &format!("{} {} {}\n", slice.join("/"), row.period, values.join(" "));
    }
    out
}

#[test]
fn opportunity_kpis_by_rep_and_month() {
    let (facts, names) = book();
    let kpis = [
        Kpi::OpportunitiesCreated,
        Kpi::DealsClosed,
        Kpi::Revenue,
        Kpi::WinRate,
        Kpi::DealClosingRate,
        Kpi::SalesCycleLength,
        Kpi::OpenPipeline,
        Kpi::RevenueGrowth,
    ];
    let expected = "\
slice month opportunities_created deals_closed revenue win_rate deal_closing_rate sales_cycle_length open_pipeline revenue_growth
ann 2017-01 3 1 1000.00 1/1 1/3 17/1 2500.00 -
ann 2017-02 0 0 0.00 0/1 - - 2000.00 -1000/1000
bob 2017-01 0 0 0.00 - - - 1500.00 -
bob 2017-02 2 1 1500.00 1/2 1/2 56/1 700.00 -
cas 2017-01 1 0 0.00 - 1/1 - 3000.00 -
cas 2017-02 1 1 3000.00 1/1 0/1 36/1 900.00 -
";
    assert_eq!(render(&facts, &names, &query(&kpis, &[Dimension::Rep])), expected);
}

#[test]
fn activity_quote_and_order_kpis_by_rep_and_month() {
    let (facts, names) = book();
    let kpis = [
        Kpi::CallsPlaced,
        Kpi::TalkTime,
        Kpi::EmailsSent,
        Kpi::MeetingsHeld,
        Kpi::Visits,
        Kpi::FieldConversion,
        Kpi::ProposalRate,
        Kpi::QuoteResponseTime,
        Kpi::ConversionOnQuotes,
        Kpi::CancelRate,
        Kpi::PreInstallationCancellation,
        Kpi::FirstTimeRight,
    ];
    let expected = "\
slice month calls_placed talk_time emails_sent meetings_held visits field_conversion proposal_rate quote_response_time conversion_on_quotes cancel_rate pre_installation_cancellation first_time_right
ann 2017-01 2 900 1 0 0 - 2/3 5760/2 1/2 0/1 0/1 1/1
ann 2017-02 0 0 0 0 0 - - - - - - -
bob 2017-01 0 0 0 0 0 - - - - - - -
bob 2017-02 1 120 0 1 0 - 1/2 1440/1 1/1 1/1 1/1 -
cas 2017-01 0 0 0 0 2 1/2 0/1 - - - - -
cas 2017-02 0 0 0 0 1 0/1 0/1 - - 0/1 0/1 0/1
";
    assert_eq!(render(&facts, &names, &query(&kpis, &[Dimension::Rep])), expected);
}

#[test]
fn kpis_without_source_data_say_so_instead_of_zero() {
    let (mut facts, _) = book();
    facts.orders = None;
    let q = query(&[Kpi::NetPromoterScore, Kpi::QuotaAttainment, Kpi::CancelRate, Kpi::LeadsGenerated], &[]);
    let (table, _) = compute(&facts, &FiscalCalendar::default(), &q).unwrap();
    let reasons: Vec<&str> = table.rows[0]
        .values
        .iter()
        .map(|v| match v {
            Value::NoData { reason, .. } => *reason,
            other => panic!("expected no data, got {other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "no NPS surveys are recorded yet (M2)",
            "no quotas were supplied",
            "no order data was supplied",
            "no lead data was supplied"
        ]
    );
    // Activities have no product line: sliced that way, activity KPIs have no data.
    let q = query(&[Kpi::CallsPlaced, Kpi::Revenue], &[Dimension::ProductLine]);
    let (table, _) = compute(&facts, &FiscalCalendar::default(), &q).unwrap();
    assert_eq!(table.rows[0].values[0], Value::no_data("activities carry no product line"));
    assert!(!table.rows[0].values[1].is_no_data());
}

#[test]
fn totals_re_aggregate_slices_exactly() {
    let (facts, _) = book();
    let kpis = [Kpi::Revenue, Kpi::WinRate, Kpi::OpenPipeline, Kpi::AverageRevenuePerRep, Kpi::RevenueGrowth];
    let (by_rep, _) = compute(&facts, &FiscalCalendar::default(), &query(&kpis, &[Dimension::Rep])).unwrap();
    let (company, _) = compute(&facts, &FiscalCalendar::default(), &query(&kpis, &[])).unwrap();
    let totals = by_rep.totals();
    assert_eq!(totals, company.rows);
    let february: Vec<String> = totals[1].values.iter().map(show).collect();
    // Revenue 1500 + 3000; won 2 of 4 closed (O6 closes in March); pipeline 2000 + 700 + 900;
    // 4500 over 3 active reps; growth from 1000 to 4500.
    assert_eq!(february, ["4500.00", "2/4", "3600.00", "4500/3", "3500/1000"]);
}

#[test]
fn comparisons_with_previous_period_last_year_and_target() {
    let (facts, names) = book();
    let calendar = FiscalCalendar::default();
    let (table, _) = compute(&facts, &calendar, &query(&[Kpi::Revenue, Kpi::WinRate], &[Dimension::Rep])).unwrap();
    let ann = [Some(names.reps.iter().position(|r| r == "ann").unwrap() as u32)];
    let february = Period::parse("2017-02").unwrap();
    let c = table.compare(&calendar, Kpi::Revenue, &ann, february, Baseline::PreviousPeriod).unwrap();
    assert_eq!((c.difference, c.relative), (Some(Decimal::new(-100_000, 2)), Some(Decimal::NEGATIVE_ONE)));
    let c = table.compare(&calendar, Kpi::Revenue, &ann, february, Baseline::SamePeriodLastYear).unwrap();
    assert!(c.baseline.is_no_data(), "February 2016 is outside the computed range");
    assert_eq!(c.difference, None);
    let all = table.compare_all(&calendar, Kpi::Revenue, Baseline::PreviousPeriod);
    let differences: Vec<Option<Decimal>> = all.iter().map(|c| c.difference).collect();
    let euros = |n: i64| Some(Decimal::from(n));
    assert_eq!(differences, [None, euros(-1000), None, euros(1500), None, euros(3000)]);
    let january = table.value(Kpi::WinRate, &ann, Period::parse("2017-01").unwrap()).unwrap();
    let c = compare_with_target(january, Decimal::new(40, 2));
    assert_eq!(c.difference, Some(Decimal::new(60, 2)));
}

#[test]
fn drill_down_lists_the_records_behind_a_cell() {
    let (facts, names) = book();
    let bob = [Some(names.reps.iter().position(|r| r == "bob").unwrap() as u32)];
    let february = Period::parse("2017-02").unwrap();
    let calendar = FiscalCalendar::default();
    let ids = |ids: &[i64]| ids.iter().map(|i| RecordRef::Opportunity(OpportunityId(*i))).collect::<Vec<_>>();
    let win_rate = drill_down(&facts, &calendar, Kpi::WinRate, &[Dimension::Rep], &bob, february).unwrap();
    assert_eq!((win_rate.numerator, win_rate.denominator), (ids(&[4]), ids(&[4, 5])));
    let pipeline = drill_down(&facts, &calendar, Kpi::OpenPipeline, &[Dimension::Rep], &bob, february).unwrap();
    assert_eq!(pipeline.numerator, ids(&[6]));
    assert!(drill_down(&facts, &calendar, Kpi::NetPromoterScore, &[], &[], february).is_err());
}

#[test]
fn messy_records_are_reported_and_left_out() {
    let (mut facts, _) = book();
    facts.opportunities[0].closed_on = None; // won without a close day
    facts.opportunities[1].rep = 99; // unknown owner
    let (table, diagnostics) = compute(&facts, &FiscalCalendar::default(), &query(&[Kpi::DealsClosed], &[])).unwrap();
    let messages: Vec<String> = diagnostics.iter().map(|d| format!("{:?}: {}", d.record.unwrap(), d.message)).collect();
    assert_eq!(
        messages,
        [
            "Opportunity(OpportunityId(1)): won or lost without a close day; counted as open",
            "Opportunity(OpportunityId(2)): owner is not a known rep; left out",
        ]
    );
    assert_eq!(show(&table.rows[0].values[0]), "0");
}

#[test]
fn quarters_follow_the_fiscal_calendar() {
    let (facts, _) = book();
    let april = FiscalCalendar::new(4, model::QuarterScheme::Calendar).unwrap();
    let q = Query { period: PeriodKind::Quarter, ..query(&[Kpi::Revenue], &[]) };
    let (table, _) = compute(&facts, &april, &q).unwrap();
    let rows: Vec<String> = table.rows.iter().map(|r| format!("{} {}", r.period, show(&r.values[0]))).collect();
    // January to March 2017 is the fourth quarter of FY2017 (April 2016 to March 2017); the
    // quarter is computed whole, so O6 (won on 1 March) counts: 1000 + 1500 + 3000 + 700.
    assert_eq!(rows, ["2017-Q4 6200.00"]);
}

#[test]
fn names_for_the_cli_and_the_api() {
    assert_eq!(Kpi::parse("win_rate"), Some(Kpi::WinRate));
    assert!(Kpi::ALL.iter().all(|k| Kpi::parse(k.name()) == Some(*k)));
    assert_eq!(Dimension::parse("owner"), Some(Dimension::Rep));
    assert_eq!(Dimension::parse("product"), Some(Dimension::ProductLine));
    assert!(Dimension::ALL.iter().all(|d| Dimension::parse(d.name()) == Some(*d)));
    assert_eq!(Dimension::parse("colour"), None);
}

#[test]
fn rep_by_segment_matrix() {
    // A2's matrix of where each rep wins: win rate by rep x segment.
    let (facts, names) = book();
    let q = Query { period: PeriodKind::Quarter, ..query(&[Kpi::WinRate], &[Dimension::Rep, Dimension::Segment]) };
    let (table, _) = compute(&facts, &FiscalCalendar::default(), &q).unwrap();
    let cells: Vec<String> = table
        .rows
        .iter()
        .map(|r| {
            let rep = &names.reps[r.slice[0].unwrap() as usize];
            let segment = &names.segments[r.slice[1].unwrap() as usize];
            format!("{rep}/{segment} {}", show(&r.values[0]))
        })
        .collect();
    // The first quarter is computed whole: bob also won O6 on 1 March.
    assert_eq!(cells, ["ann/smb 1/2", "ann/ent -", "bob/smb 2/2", "bob/ent 0/1", "cas/smb -", "cas/ent 1/1"]);
}

#[test]
fn weeks_and_445_quarters_decide_the_period_by_the_close_day() {
    let mut names = Names::default();
    let reps = fixture::reps("ann north 0", &mut names);
    // Won on Sunday 1 January 2017 and on Monday 2 January 2017.
    let opportunities = fixture::opportunities(
        "
        O1 ann web smb 2016-12-01 won 2017-01-01 100.00
        O2 ann web smb 2016-12-01 won 2017-01-02 200.00
        ",
        &mut names,
    );
    let facts = fixture::facts(reps, opportunities, vec![]);
    let revenue = |calendar: FiscalCalendar, period: PeriodKind| -> Vec<String> {
        let q = Query { period, from: day("2016-12-26"), to: day("2017-01-08"), ..query(&[Kpi::Revenue], &[]) };
        let (table, _) = compute(&facts, &calendar, &q).unwrap();
        table.rows.iter().map(|r| format!("{} {}", r.period, show(&r.values[0]))).collect()
    };
    // ISO weeks: Sunday 1 January 2017 is still in week 52 of 2016.
    assert_eq!(revenue(FiscalCalendar::default(), PeriodKind::Week), ["2016-W52 100.00", "2017-W01 200.00"]);
    // 4-4-5 with a January start: FY2017 begins on Monday 2 January (the Monday nearest the 1st).
    let weeks = FiscalCalendar::new(1, model::QuarterScheme::Weeks445).unwrap();
    assert_eq!(revenue(weeks, PeriodKind::Quarter), ["2016-Q4 100.00", "2017-Q1 200.00"]);
    // Calendar quarters: both fall in the first quarter of 2017.
    assert_eq!(revenue(FiscalCalendar::default(), PeriodKind::Quarter), ["2016-Q4 0.00", "2017-Q1 300.00"]);
}

#[test]
fn weeks_do_not_roll_up_into_months() {
    let (facts, _) = book();
    let calendar = FiscalCalendar::default();
    let weekly = Query { period: PeriodKind::Week, ..query(&[Kpi::Revenue], &[]) };
    let (weeks, _) = compute(&facts, &calendar, &weekly).unwrap();
    let error = weeks.roll_up(&calendar, PeriodKind::Month).unwrap_err();
    // The first ISO week of the range, 26 December 2016 to 1 January 2017, straddles two months.
    assert_eq!(error.to_string(), "the period 2016-W52 does not lie inside one month");
    let yearly = weeks.roll_up(&FiscalCalendar::new(1, model::QuarterScheme::Weeks445).unwrap(), PeriodKind::Quarter);
    assert!(yearly.is_ok(), "ISO weeks nest in 4-4-5 quarters");
}
