//! Integration tests of the demo generator: determinism, sizes, and the invariants the store and
//! the application rely on (hierarchy, logins, e-mails, ids, money, dates, stages).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use demo::{Company, DEMO_PASSWORD, Scale, generate};
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use model::{Currency, ForecastCategory, FxTable, Locale, Role, StageKind, User, UserId};

const TODAY: Date = date(2026, 5, 1);

/// The Small company for seed 42, generated once for all tests.
fn small() -> &'static Company {
    static COMPANY: OnceLock<Company> = OnceLock::new();
    COMPANY.get_or_init(|| generate(Scale::Small, 42, TODAY))
}

fn user(c: &Company, id: UserId) -> &User {
    let u = &c.users[(id.0 - 1) as usize];
    assert_eq!(u.id, id, "users are stored in id order");
    u
}

fn fingerprint(c: &Company) -> String {
    format!(
        "{} users, {} accounts, {} opportunities\n{:?}\n{:?}",
        c.users.len(),
        c.accounts.len(),
        c.opportunities.len(),
        &c.users[..10],
        &c.opportunities[..50]
    )
}

fn end_of_today() -> jiff::Timestamp {
    TODAY.at(23, 59, 59, 0).to_zoned(TimeZone::UTC).unwrap().timestamp()
}

fn utc_date(ts: jiff::Timestamp) -> Date {
    ts.to_zoned(TimeZone::UTC).date()
}

// ---------------------------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------------------------

#[test]
fn same_seed_gives_the_same_company() {
    let again = generate(Scale::Small, 42, TODAY);
    assert_eq!(fingerprint(small()), fingerprint(&again));
    assert!(*small() == again, "the whole company must be identical");
}

#[test]
fn different_seeds_give_different_companies() {
    let other = generate(Scale::Small, 43, TODAY);
    assert_ne!(fingerprint(small()), fingerprint(&other));
    // The shape stays the same: only the content changes.
    assert_eq!(small().users.len(), other.users.len());
    assert_eq!(small().opportunities.len(), other.opportunities.len());
}

#[test]
fn history_is_anchored_on_today() {
    let later = generate(Scale::Small, 42, date(2027, 1, 15));
    let newest = later.opportunities.iter().map(|o| o.created_at).max().unwrap();
    assert!(utc_date(newest) > TODAY);
    assert!(utc_date(newest) <= date(2027, 1, 15));
}

// ---------------------------------------------------------------------------------------------
// Sizes and ids
// ---------------------------------------------------------------------------------------------

#[test]
fn small_scale_has_the_specified_sizes() {
    let c = small();
    assert_eq!(c.reporting_currency, Currency::EUR);
    assert_eq!(c.regions.len(), 6);
    assert_eq!(c.users.iter().filter(|u| u.role == Role::SalesRep).count(), 20);
    assert_eq!(c.accounts.len(), 400);
    assert_eq!(c.opportunities.len(), 3_000);
    assert_eq!(c.pipelines.len(), 2);
    assert_eq!(c.logins.len(), 9);
    assert_eq!(Scale::parse("medium"), Ok(Scale::Medium));
    assert_eq!(DEMO_PASSWORD, "salesops-demo");
}

#[test]
fn ids_are_sequential_from_one() {
    let c = small();
    let seq = |ids: Vec<i64>| ids.iter().enumerate().all(|(i, id)| *id == i as i64 + 1);
    assert!(seq(c.regions.iter().map(|r| r.id.0).collect()));
    assert!(seq(c.teams.iter().map(|t| t.id.0).collect()));
    assert!(seq(c.users.iter().map(|u| u.id.0).collect()));
    assert!(seq(c.pipelines.iter().map(|p| p.id.0).collect()));
    assert!(seq(c.pipelines.iter().flat_map(|p| &p.stages).map(|s| s.id.0).collect()));
    assert!(seq(c.accounts.iter().map(|a| a.id.0).collect()));
    assert!(seq(c.opportunities.iter().map(|o| o.id.0).collect()));
}

// ---------------------------------------------------------------------------------------------
// Organisation
// ---------------------------------------------------------------------------------------------

#[test]
fn regions_have_their_currency_and_zone() {
    let c = small();
    let got: Vec<(&str, &str, &str)> =
        c.regions.iter().map(|r| (r.code.as_str(), r.currency.code(), r.time_zone.as_str())).collect();
    assert_eq!(
        got,
        [
            ("BENELUX", "EUR", "Europe/Amsterdam"),
            ("NORDICS", "DKK", "Europe/Copenhagen"),
            ("PL", "PLN", "Europe/Warsaw"),
            ("UKI", "GBP", "Europe/London"),
            ("DACH", "EUR", "Europe/Berlin"),
            ("NA", "USD", "America/New_York"),
        ]
    );
}

#[test]
fn every_manager_comes_before_their_reports() {
    let c = small();
    let heads: Vec<&User> = c.users.iter().filter(|u| u.manager_id.is_none()).collect();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].role, Role::HeadOfCommercialOps);
    for u in c.users.iter().filter(|u| u.manager_id.is_some()) {
        let manager = user(c, u.manager_id.unwrap());
        assert!(manager.id < u.id, "{} reports to later user {}", u.id, manager.id);
    }
}

#[test]
fn the_sales_organisation_is_director_team_manager_rep() {
    let c = small();
    for u in &c.users {
        let manager = u.manager_id.map(|m| user(c, m));
        match u.role {
            Role::HeadOfCommercialOps => assert!(u.team_id.is_none()),
            Role::SalesRep => {
                let team = c.teams.iter().find(|t| Some(t.id) == u.team_id).expect("every rep has a team");
                assert_eq!(team.region_id, u.region_id);
                let manager = manager.unwrap();
                assert_eq!(manager.role, Role::SalesManager);
                assert_eq!(manager.team_id, u.team_id, "reps report to their team's manager");
            }
            Role::SalesManager => {
                let manager = manager.unwrap();
                assert!(u.region_id.is_some());
                if u.team_id.is_some() {
                    // Team manager -> regional director (a sales manager without a team).
                    assert_eq!(manager.role, Role::SalesManager);
                    assert!(manager.team_id.is_none());
                    assert_eq!(manager.region_id, u.region_id);
                } else {
                    assert_eq!(manager.role, Role::HeadOfCommercialOps);
                }
            }
            _ => {
                assert!(u.team_id.is_none(), "ops staff have no team");
                assert_eq!(manager.unwrap().role, Role::HeadOfCommercialOps);
            }
        }
    }
    // One director per region.
    let directors = c.users.iter().filter(|u| u.role == Role::SalesManager && u.team_id.is_none()).count();
    assert_eq!(directors, 6);
}

#[test]
fn people_match_their_region() {
    let c = small();
    let expected: BTreeMap<i64, Locale> =
        [(1, Locale::Nl), (2, Locale::Da), (3, Locale::Pl), (4, Locale::En), (5, Locale::En), (6, Locale::En)].into();
    for u in c.users.iter().filter(|u| u.region_id.is_some()) {
        let region = &c.regions[(u.region_id.unwrap().0 - 1) as usize];
        assert_eq!(u.locale, expected[&region.id.0], "{}", u.name);
        assert_eq!(u.time_zone, region.time_zone);
        assert!(u.name.contains(' ') && u.active);
    }
}

#[test]
fn every_role_has_exactly_one_fixed_login() {
    let c = small();
    let roles: Vec<Role> = c.logins.iter().map(|l| l.role).collect();
    assert_eq!(roles, Role::ALL);
    let emails: Vec<&str> = c.logins.iter().map(|l| l.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "head@demo.salesops.io",
            "salesops@demo.salesops.io",
            "marketing@demo.salesops.io",
            "success@demo.salesops.io",
            "analyst@demo.salesops.io",
            "admin@demo.salesops.io",
            "manager@demo.salesops.io",
            "rep@demo.salesops.io",
            "finance@demo.salesops.io",
        ]
    );
    for l in &c.logins {
        let u = user(c, l.user_id);
        assert_eq!(u.role, l.role);
        assert_eq!(u.email, l.email);
    }
    // The manager and rep logins belong to the first Benelux team.
    let first_team = &c.teams[0];
    assert_eq!(first_team.region_id, Some(c.regions[0].id));
    assert_eq!(c.regions[0].code, "BENELUX");
    let manager = user(c, c.logins[6].user_id);
    let rep = user(c, c.logins[7].user_id);
    assert_eq!(manager.team_id, Some(first_team.id));
    assert_eq!(rep.team_id, Some(first_team.id));
    assert_eq!(rep.manager_id, Some(manager.id));
}

#[test]
fn e_mail_addresses_are_unique_and_name_based() {
    let c = small();
    let emails: BTreeSet<&str> = c.users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(emails.len(), c.users.len());
    let logins: BTreeSet<&str> = c.logins.iter().map(|l| l.email.as_str()).collect();
    for u in c.users.iter().filter(|u| !logins.contains(u.email.as_str())) {
        let (local, domain) = u.email.as_str().split_once('@').unwrap();
        assert_eq!(domain, "demo.salesops.io");
        assert!(local.contains('.') && local.is_ascii(), "{local}");
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

#[test]
fn accounts_are_consistent() {
    let c = small();
    let names: BTreeSet<&str> = c.accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names.len(), c.accounts.len(), "account names are unique");
    let oldest = TODAY.checked_sub(jiff::Span::new().years(3)).unwrap();
    for a in &c.accounts {
        let region = &c.regions[(a.region_id.unwrap().0 - 1) as usize];
        assert_eq!(a.currency, region.currency);
        let owner = user(c, a.owner_id);
        assert_eq!(owner.role, Role::SalesRep);
        assert_eq!(owner.region_id, a.region_id, "owner works in the account's region");
        if let Some(parent) = a.parent_id {
            assert!(parent < a.id, "parents come first");
            let parent = &c.accounts[(parent.0 - 1) as usize];
            assert_eq!(parent.region_id, a.region_id);
            assert!(parent.created_at <= a.created_at);
        }
        assert!((5..=20_000).contains(&a.employees));
        assert!(!a.postal_code.is_empty() && !a.city.is_empty() && a.country.len() == 2);
        let created = utc_date(a.created_at);
        assert!(created >= oldest && created <= TODAY, "{created}");
    }
    let children = c.accounts.iter().filter(|a| a.parent_id.is_some()).count();
    assert!((5..=40).contains(&children), "{children} of 400 accounts have a parent");
}

#[test]
fn account_details_are_plausible_per_country() {
    let c = small();
    let countries: BTreeSet<&str> = c.accounts.iter().map(|a| a.country.as_str()).collect();
    for expected in ["NL", "BE", "DK", "SE", "PL", "GB", "DE", "US"] {
        assert!(countries.contains(expected), "no accounts in {expected}");
    }
    for a in &c.accounts {
        let p = a.postal_code.as_str();
        let digits = |s: &str| s.chars().all(|ch| ch.is_ascii_digit());
        match a.country.as_str() {
            "NL" => assert!(p.len() == 7 && digits(&p[..4]) && &p[4..5] == " ", "{p}"),
            "DK" | "BE" | "NO" | "AT" | "CH" => assert!(p.len() == 4 && digits(p), "{p}"),
            "DE" | "US" => assert!(p.len() == 5 && digits(p), "{p}"),
            "PL" => assert!(p.len() == 6 && &p[2..3] == "-", "{p}"),
            "SE" => assert!(p.len() == 6 && &p[3..4] == " ", "{p}"),
            _ => {}
        }
        if a.country == "US" {
            assert!(a.time_zone.as_str().starts_with("America/"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pipelines and opportunities
// ---------------------------------------------------------------------------------------------

#[test]
fn pipelines_have_the_specified_stages() {
    let c = small();
    let describe = |i: usize| -> Vec<(String, i32, i32, StageKind)> {
        c.pipelines[i].stages.iter().map(|s| (s.name.clone(), s.position, s.probability, s.kind)).collect()
    };
    assert_eq!(c.pipelines[0].name, "New business");
    assert_eq!(describe(0)[4], ("Negotiation".to_string(), 5, 80, StageKind::Open));
    assert_eq!(describe(0)[5], ("Closed won".to_string(), 6, 100, StageKind::Won));
    assert_eq!(c.pipelines[1].name, "Renewal");
    assert_eq!(describe(1)[0], ("Renewal due".to_string(), 1, 50, StageKind::Open));
    assert_eq!(describe(1)[3], ("Churned".to_string(), 4, 0, StageKind::Lost));
}

#[test]
fn opportunities_are_consistent() {
    let c = small();
    let stages: BTreeMap<_, _> = c.pipelines.iter().flat_map(|p| &p.stages).map(|s| (s.id, s)).collect();
    let end = end_of_today();
    for o in &c.opportunities {
        let account = &c.accounts[(o.account_id.0 - 1) as usize];
        assert_eq!(account.id, o.account_id);
        let owner = user(c, o.owner_id);
        assert!(matches!(owner.role, Role::SalesRep | Role::SalesManager), "{:?}", owner.role);

        let stage = stages[&o.stage_id];
        assert_eq!(stage.pipeline_id, o.pipeline_id);
        assert_eq!(stage.kind == StageKind::Won, o.forecast_category == ForecastCategory::Closed);
        if stage.kind == StageKind::Lost {
            assert_eq!(o.forecast_category, ForecastCategory::Omitted);
        }
        if stage.kind != StageKind::Open {
            assert!(o.close_date <= TODAY, "closed opportunities closed in the past");
        }

        assert!(o.close_date > utc_date(o.created_at));
        assert!(o.created_at >= account.created_at);
        assert!(o.created_at <= o.updated_at && o.updated_at <= end);

        assert_eq!(o.amount.currency, account.currency);
        assert!(o.amount.amount > rust_decimal::Decimal::ZERO);
        assert!(o.amount.amount.scale() <= 2, "{}", o.amount.amount);
        assert!(o.name.contains(" — "), "{}", o.name);
    }
}

#[test]
fn opportunities_have_a_believable_mix() {
    let c = small();
    let kind: BTreeMap<_, _> = c.pipelines.iter().flat_map(|p| &p.stages).map(|s| (s.id, s.kind)).collect();
    let n = c.opportunities.len() as f64;
    let renewals = c.opportunities.iter().filter(|o| o.pipeline_id == c.pipelines[1].id).count() as f64;
    assert!((0.10..0.20).contains(&(renewals / n)), "renewal share {}", renewals / n);

    let closed: Vec<_> = c.opportunities.iter().filter(|o| kind[&o.stage_id] != StageKind::Open).collect();
    let won = closed.iter().filter(|o| kind[&o.stage_id] == StageKind::Won).count() as f64;
    let win_rate = won / closed.len() as f64;
    assert!((0.25..0.45).contains(&win_rate), "win rate {win_rate}");

    let open_future = c.opportunities.iter().filter(|o| o.close_date >= TODAY).count();
    assert!(open_future > 0, "there is open pipeline ahead");
}

#[test]
fn some_reps_clearly_win_more_than_others() {
    let c = generate(Scale::Medium, 7, TODAY);
    let kind: BTreeMap<_, _> = c.pipelines.iter().flat_map(|p| &p.stages).map(|s| (s.id, s.kind)).collect();
    let mut per_rep: BTreeMap<UserId, (u32, u32)> = BTreeMap::new();
    for o in c.opportunities.iter().filter(|o| o.pipeline_id == c.pipelines[0].id) {
        match kind[&o.stage_id] {
            StageKind::Open => {}
            k => {
                let e = per_rep.entry(o.owner_id).or_default();
                e.0 += u32::from(k == StageKind::Won);
                e.1 += 1;
            }
        }
    }
    let mut rates: Vec<f64> = per_rep
        .iter()
        .filter(|(id, (_, total))| *total >= 50 && user(&c, **id).role == Role::SalesRep)
        .map(|(_, (won, total))| f64::from(*won) / f64::from(*total))
        .collect();
    rates.sort_by(f64::total_cmp);
    let p10 = rates[rates.len() / 10];
    let p90 = rates[rates.len() * 9 / 10];
    assert!(p90 > 1.6 * p10, "p10 {p10:.2}, p90 {p90:.2}");
}

// ---------------------------------------------------------------------------------------------
// Exchange rates
// ---------------------------------------------------------------------------------------------

#[test]
fn fx_rates_cover_the_whole_history() {
    let c = small();
    let currencies: BTreeSet<&str> = c.fx_rates.iter().map(|r| r.from.code()).collect();
    assert_eq!(currencies, ["DKK", "GBP", "PLN", "USD"].into());
    for r in &c.fx_rates {
        assert_eq!(r.to, Currency::EUR);
        assert_eq!(r.valid_from.day(), 1);
        assert!(r.valid_from <= TODAY);
        assert!(r.rate.scale() <= 6);
    }
    let dkk = c.fx_rates.iter().find(|r| r.from.code() == "DKK").unwrap();
    assert!((0.13..0.138).contains(&dkk.rate.to_string().parse::<f64>().unwrap()));

    // Every amount converts to the reporting currency on its creation and close dates.
    let table = FxTable::new(c.fx_rates.clone());
    for o in &c.opportunities {
        assert!(table.convert(o.amount, Currency::EUR, utc_date(o.created_at)).is_ok());
        assert!(table.convert(o.amount, Currency::EUR, o.close_date).is_ok());
    }
}
