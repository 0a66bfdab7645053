//! Territory rules: assignment with reasons, gaps, overlaps, versions and coin sort.

use jiff::civil::date;
use model::Money;
use planning::rules::{Account, Sale, TerritoryPlan, coin_sort, coverage, parse_rule_set};

const DESIGN_2027: &str = "
version 2027-01-01
territory EMEA
territory DACH parent EMEA owner anna
territory DACH-North parent DACH owner ben
territory Strategic parent EMEA owner carla
territory Benelux parent EMEA owner dirk
rule named     -> Strategic  priority 1  accounts ACME,GLOBEX
rule north     -> DACH-North priority 5  country DE postal 10-29
rule dach      -> DACH       priority 10 country DE,AT,CH
rule benelux   -> Benelux    priority 10 country NL,BE,LU
rule big-de    -> Benelux    priority 10 country DE size 5000+   # a mistake: overlaps dach
";

/// `id country postal industry employees`, one account per line.
fn accounts(table: &str) -> Vec<Account> {
    table
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            Account {
                id: cells[0].to_string(),
                country: cells[1].to_string(),
                region: None,
                postal_code: (cells[2] != "-").then(|| cells[2].to_string()),
                industry: (cells[3] != "-").then(|| cells[3].to_string()),
                employees: cells[4].parse().ok(),
            }
        })
        .collect()
}

fn book() -> Vec<Account> {
    accounts(
        "
        ACME     DE 80331 manufacturing 12000
        HAMBURG  DE 20095 retail        300
        MUNICH   DE 80331 retail        300
        BIGCO    DE 60311 chemicals     9000
        VIENNA   AT 1010  retail        50
        UTRECHT  NL 3511  logistics     800
        PARIS    FR 75001 retail        400
        ",
    )
}

#[test]
fn each_account_gets_a_territory_and_the_reason() {
    let rules = parse_rule_set(DESIGN_2027).unwrap();
    let lines: Vec<String> = book()
        .iter()
        .map(|account| {
            let assignment = rules.assign(account);
            format!("{} -> {} | {}", account.id, assignment.path.join(" > "), assignment.reason)
        })
        .collect();
    assert_eq!(
        lines.join("\n"),
        "\
ACME -> EMEA > Strategic | rule named (priority 1): accounts ACME,GLOBEX; outranks 2 other matching rule(s)
HAMBURG -> EMEA > DACH > DACH-North | rule north (priority 5): country DE and postal 10-29; outranks 1 other matching rule(s)
MUNICH -> EMEA > DACH | rule dach (priority 10): country DE,AT,CH
BIGCO -> EMEA > DACH | rule dach (priority 10): country DE,AT,CH
VIENNA -> EMEA > DACH | rule dach (priority 10): country DE,AT,CH
UTRECHT -> EMEA > Benelux | rule benelux (priority 10): country NL,BE,LU
PARIS ->  | no rule matches"
    );
}

#[test]
fn coverage_lists_gaps_and_overlaps() {
    let rules = parse_rule_set(DESIGN_2027).unwrap();
    let report = coverage(&rules, &book());
    assert_eq!(report.gaps, vec!["PARIS".to_string()]);
    assert_eq!(report.overlaps, vec![("BIGCO".to_string(), vec!["DACH".to_string(), "Benelux".to_string()])]);
    assert_eq!(report.counts.get("DACH"), Some(&3));
}

#[test]
fn versions_take_effect_on_their_date_and_history_stays() {
    let mut plan = TerritoryPlan::new();
    plan.add_version(parse_rule_set(DESIGN_2027).unwrap());
    plan.add_version(
        parse_rule_set("version 2027-07-01\nterritory EMEA\nrule all -> EMEA country DE,AT,CH,NL,BE,LU,FR").unwrap(),
    );
    let paris = &book()[6];
    assert_eq!(plan.version_on(date(2026, 12, 31)), None);
    assert_eq!(plan.version_on(date(2027, 6, 30)).unwrap().assign(paris).territory, None);
    assert_eq!(plan.version_on(date(2027, 7, 1)).unwrap().assign(paris).territory.as_deref(), Some("EMEA"));
    assert_eq!(plan.versions().len(), 2);
}

#[test]
fn coin_sort_totals_past_sales_per_draft_territory() {
    let rules = parse_rule_set(DESIGN_2027).unwrap();
    let sale = |account: &str, amount: &str| Sale {
        account: account.to_string(),
        amount: Money::parse(amount, "EUR").unwrap(),
        date: date(2026, 3, 1),
    };
    let sales = vec![
        sale("ACME", "120000.00"),
        sale("HAMBURG", "10000.10"),
        sale("HAMBURG", "5000.05"),
        sale("PARIS", "700.00"),
        sale("GHOST", "1.00"),
    ];
    let (sorted, diagnostics) = coin_sort(&rules, &book(), &sales);
    let lines: Vec<String> = sorted
        .totals
        .iter()
        .map(|((territory, currency), (total, count))| format!("{territory} {currency} {total} ({count})"))
        .collect();
    assert_eq!(lines, vec!["- EUR 700.00 (1)", "DACH-North EUR 15000.15 (2)", "Strategic EUR 120000.00 (1)"]);
    assert_eq!(diagnostics.len(), 1);
    assert!(diagnostics[0].message.contains("unknown account GHOST"));
}

#[test]
fn design_check_finds_unknown_territories() {
    let rules = parse_rule_set("version 2027-01-01\nterritory A parent Z\nrule r -> B country DE").unwrap();
    let messages: Vec<String> = rules.check().into_iter().map(|d| d.message).collect();
    assert_eq!(messages, vec!["rule r assigns to unknown territory B", "territory A has unknown parent Z"]);
}

#[test]
fn bad_rule_text_names_the_line() {
    let error = parse_rule_set("version 2027-01-01\nrule r -> A colour red").unwrap_err();
    assert_eq!(error.to_string(), "line 2: unknown criterion colour");
}

#[test]
fn a_balanced_assignment_becomes_the_next_version() {
    use planning::balance::{BalanceOptions, balance, bricks_instance, compare_scenarios};
    use planning::rules::{UnitKind, accept_assignment};
    let problem = bricks_instance(5);
    let (outcome, _) = balance(&problem, &BalanceOptions::default()).unwrap();
    let side_by_side = compare_scenarios(
        &problem,
        &[("live".to_string(), problem.current.clone()), ("balanced".to_string(), outcome.assignment.clone())],
    );
    assert_eq!(side_by_side[1].1, outcome.after);
    let mut plan = TerritoryPlan::new();
    plan.add_version(parse_rule_set(DESIGN_2027).unwrap());
    plan.add_version(accept_assignment(
        &problem,
        &outcome.assignment,
        date(2027, 4, 1),
        UnitKind::PostalCode,
        "T-",
        Some("EMEA"),
    ));
    let version = plan.version_on(date(2027, 4, 1)).unwrap();
    for (unit, &rep) in problem.units.iter().zip(&outcome.assignment) {
        let account = Account {
            id: format!("acct-in-{}", unit.id),
            country: "TR".into(),
            region: None,
            postal_code: Some(unit.id.clone()),
            industry: None,
            employees: None,
        };
        let assignment = version.assign(&account);
        assert_eq!(assignment.territory, Some(format!("T-{}", problem.reps[rep].id)));
        assert_eq!(assignment.path[0], "EMEA");
    }
    assert!(plan.version_on(date(2027, 3, 31)).unwrap().rules.iter().any(|rule| rule.id == "dach"));
}
