//! Plan text errors name line, column and field, so a reviewer can fix the plan from the message.

use comp::{Plan, PlanVersions};

use crate::fixture::{d, date, plan};

const VALID: &str = r#"[plan]
id = "ae-2026"
name = "AE 2026"
version = 2
effective_from = 2026-01-01
effective_to = 2026-12-31
currency = "EUR"
earning_event = "invoice"
quota = "50000"

[[component]]
id = "base"
kind = "percentage"
rate = "8%"
"#;

fn error(text: &str) -> String {
    Plan::parse(text).expect_err("plan must be refused").to_string()
}

#[test]
fn a_valid_plan_parses() {
    let p = plan(VALID);
    assert_eq!((&*p.id, p.version, p.quota), ("ae-2026", 2, Some(d("50000"))));
    assert!(p.is_effective_on(date("2026-06-30")) && !p.is_effective_on(date("2027-01-01")));
}

#[test]
fn errors_point_at_the_value() {
    let cases = [
        (
            VALID.replace(r#"rate = "8%""#, r#"rate = "8""#),
            r#"line 14, column 8: component 'base' rate: write a percentage such as "8%", not '8'"#,
        ),
        (
            VALID.replace(r#"rate = "8%""#, "rate = 0.08"),
            "line 14, column 8: write 0.08 as a string (\"0.08\") so it stays exact",
        ),
        (
            VALID.replace(r#"currency = "EUR""#, r#"currency = "EUX""#),
            "line 7, column 12: plan.currency: 'EUX' is not a supported ISO 4217 currency",
        ),
        (
            VALID.replace(r#"earning_event = "invoice""#, r#"earning_event = "order""#),
            "line 8, column 17: plan.earning_event: 'order' is not one of: booking, invoice, payment",
        ),
        (
            VALID.replace("effective_to = 2026-12-31", "effective_to = 2025-12-31"),
            "line 6, column 16: plan.effective_to: is before effective_from",
        ),
        (
            VALID.replace(r#"kind = "percentage""#, r#"kind = "percent""#),
            "line 13, column 8: component 'base' kind: 'percent' is not one of: percentage, tiered, per_unit, flat, spif, new_customer, mbo, retention",
        ),
        (
            format!("{VALID}amount = \"5\"\n"),
            "line 15, column 10: component 'base' amount: not used by a 'percentage' component",
        ),
        (
            format!("{VALID}colour = \"red\"\n"),
            "line 15, column 1: unknown field `colour`, expected one of `id`, `kind`, `label`, `base`, `rate`, `amount`, `per`, `rates`, `tiers`, `tier_measure`, `tier_method`, `accelerator`, `decelerator`, `products`, `product_lines`, `credit`, `from`, `to`, `cap_per_line`, `cap_per_period`, `floor_per_period`, `cap_per_year`, `metric`, `target`, `max_score`",
        ),
        (
            format!("{VALID}\n[[component]]\nid = \"base\"\nkind = \"flat\"\namount = \"10\"\n"),
            "line 17, column 6: component.id: 'base' is used twice",
        ),
        (
            format!(
                "{VALID}\n[[component]]\nid = \"t\"\nkind = \"tiered\"\ntiers = [{{ from = \"0%\", rate = \"5%\" }}, {{ from = \"0%\", rate = \"8%\" }}]\n"
            ),
            "line 19, column 49: component 't' tiers.from: tiers must be in increasing order",
        ),
        (
            VALID.replace("version = 2", "version = 0"),
            "line 4, column 11: plan.version: must be a positive whole number",
        ),
        (VALID.replace("[plan]", "[plan"), "line 1, column 6: unclosed table, expected `]`"),
    ];
    let mismatches: Vec<String> = cases
        .iter()
        .filter(|(text, expected)| error(text) != *expected)
        .map(|(text, expected)| format!("expected: {expected}\n  actual: {}", error(text)))
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn versions_must_not_overlap() {
    let v2 = plan(VALID);
    let v1 = plan(
        &VALID
            .replace("version = 2", "version = 1")
            .replace("2026-01-01", "2025-01-01")
            .replace("2026-12-31", "2025-12-31"),
    );
    let versions = PlanVersions::new(vec![v2.clone(), v1.clone()]).unwrap();
    assert_eq!(versions.effective_on(date("2025-05-01")).map(|p| p.version), Some(1));
    assert_eq!(versions.effective_on(date("2026-05-01")).map(|p| p.version), Some(2));
    let overlapping = plan(&VALID.replace("version = 2", "version = 3").replace("2026-01-01", "2026-06-01"));
    assert!(PlanVersions::new(vec![v2, overlapping]).unwrap_err().contains("overlap"));
}

#[test]
fn the_documented_example_plan_parses() {
    let doc = include_str!("../../../../docs/comp-plans.md");
    let start = doc.find("```toml\n").expect("docs/comp-plans.md has a TOML example") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("the example is closed");
    let example = plan(&doc[start..end]);
    assert_eq!(example.components.len(), 8);
    assert!(example.draw.is_some() && example.clawback.is_some());
}
