//! Territory rules (P1): territories in a hierarchy, rules by country, region, postal-code
//! range, industry, company size and named accounts, with priorities; effective-dated versions
//! of the whole rule set; account assignment with the reason; coverage gaps and overlaps; and
//! the "coin sort" of past sales into a draft design.
//!
//! A rule matches an account when all of its criteria match. Among matching rules, the lowest
//! priority number wins (1 before 10). Two matching rules with the same best priority that point
//! to different territories are an overlap: the first in the rule list wins and the overlap is
//! reported. A rule set can be written as text (see [`parse_rule_set`]).

use std::collections::BTreeMap;
use std::fmt;

use jiff::civil::Date;
use model::Money;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::Diagnostic;

/// An account as the rules see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Account id (named-account rules match it).
    pub id: String,
    /// ISO country code, e.g. `DE`.
    pub country: String,
    /// Region or state within the country, e.g. `BY`.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Industry, e.g. `manufacturing`.
    pub industry: Option<String>,
    /// Number of employees (the size measure).
    pub employees: Option<u32>,
}

/// One condition of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Criterion {
    /// Country code is one of these.
    Country(Vec<String>),
    /// Region is one of these.
    Region(Vec<String>),
    /// Postal code within `from..=to`, compared on the first `from.len()` characters (so `10-29`
    /// covers every code starting with 10 to 29, and `10115-14199` full five-digit codes).
    PostalRange {
        /// Lowest prefix.
        from: String,
        /// Highest prefix.
        to: String,
    },
    /// Industry is one of these.
    Industry(Vec<String>),
    /// Employees within `min..=max` (either end open).
    Size {
        /// Smallest size, inclusive.
        min: Option<u32>,
        /// Largest size, inclusive.
        max: Option<u32>,
    },
    /// Account id is one of these.
    NamedAccounts(Vec<String>),
}

/// A territory rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Rule id, shown as the reason of an assignment.
    pub id: String,
    /// Territory the rule assigns to.
    pub territory: String,
    /// Lower numbers win.
    pub priority: u32,
    /// All must match.
    pub criteria: Vec<Criterion>,
}

/// A territory in the hierarchy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Territory {
    /// Territory id.
    pub id: String,
    /// Parent territory, if any.
    pub parent: Option<String>,
    /// Owner (rep or manager id), if any.
    pub owner: Option<String>,
}

/// The rule set valid from a date until the next version starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleSet {
    /// First day this version applies.
    pub valid_from: Date,
    /// Territories, parents before children not required.
    pub territories: Vec<Territory>,
    /// Rules, in the order ties are broken.
    pub rules: Vec<Rule>,
}

/// All versions of a territory design; history stays.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TerritoryPlan {
    versions: Vec<RuleSet>,
}

impl TerritoryPlan {
    /// An empty plan.
    pub fn new() -> TerritoryPlan {
        TerritoryPlan::default()
    }

    /// Add a version. A version with the same start date as an existing one replaces it (a
    /// correction before it takes effect); otherwise versions are kept in date order.
    pub fn add_version(&mut self, version: RuleSet) {
        self.versions.retain(|existing| existing.valid_from != version.valid_from);
        let position = self.versions.partition_point(|existing| existing.valid_from < version.valid_from);
        self.versions.insert(position, version);
    }

    /// The version in effect on `date`: the latest starting on or before it.
    pub fn version_on(&self, date: Date) -> Option<&RuleSet> {
        self.versions.iter().rev().find(|version| version.valid_from <= date)
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> &[RuleSet] {
        &self.versions
    }
}

/// Where an account goes and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assignment {
    /// Account id.
    pub account: String,
    /// Territory, or `None` for a coverage gap.
    pub territory: Option<String>,
    /// The winning rule.
    pub rule: Option<String>,
    /// Territory path from the root, e.g. `EMEA > DACH > DACH-North`.
    pub path: Vec<String>,
    /// A sentence a sales-ops person can read.
    pub reason: String,
    /// Other territories the account matched at the same best priority (an overlap).
    pub tied_with: Vec<String>,
}

impl Criterion {
    /// Whether the account meets this criterion.
    pub fn matches(&self, account: &Account) -> bool {
        let among = |values: &[String], value: Option<&str>| {
            value.is_some_and(|value| values.iter().any(|candidate| candidate.eq_ignore_ascii_case(value)))
        };
        match self {
            Criterion::Country(values) => among(values, Some(&account.country)),
            Criterion::Region(values) => among(values, account.region.as_deref()),
            Criterion::Industry(values) => among(values, account.industry.as_deref()),
            Criterion::NamedAccounts(values) => values.iter().any(|id| id == &account.id),
            Criterion::Size { min, max } => account
                .employees
                .is_some_and(|size| min.is_none_or(|min| size >= min) && max.is_none_or(|max| size <= max)),
            Criterion::PostalRange { from, to } => account.postal_code.as_deref().is_some_and(|code| {
                let code = normalise_postal(code);
                let width = from.chars().count();
                if code.chars().count() < width {
                    return false;
                }
                let prefix: String = code.chars().take(width).collect();
                prefix.as_str() >= normalise_postal(from).as_str() && prefix.as_str() <= normalise_postal(to).as_str()
            }),
        }
    }
}

fn normalise_postal(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect()
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Criterion::Country(values) => write!(f, "country {}", values.join(",")),
            Criterion::Region(values) => write!(f, "region {}", values.join(",")),
            Criterion::Industry(values) => write!(f, "industry {}", values.join(",")),
            Criterion::NamedAccounts(values) => write!(f, "accounts {}", values.join(",")),
            Criterion::PostalRange { from, to } => write!(f, "postal {from}-{to}"),
            Criterion::Size { min, max } => match (min, max) {
                (Some(min), Some(max)) => write!(f, "size {min}-{max}"),
                (Some(min), None) => write!(f, "size {min}+"),
                (None, Some(max)) => write!(f, "size -{max}"),
                (None, None) => write!(f, "size any"),
            },
        }
    }
}

impl RuleSet {
    /// Assign one account.
    pub fn assign(&self, account: &Account) -> Assignment {
        let matching: Vec<&Rule> =
            self.rules.iter().filter(|rule| rule.criteria.iter().all(|criterion| criterion.matches(account))).collect();
        let Some(best_priority) = matching.iter().map(|rule| rule.priority).min() else {
            return Assignment {
                account: account.id.clone(),
                territory: None,
                rule: None,
                path: Vec::new(),
                reason: "no rule matches".into(),
                tied_with: Vec::new(),
            };
        };
        let best: Vec<&Rule> = matching.iter().copied().filter(|rule| rule.priority == best_priority).collect();
        let winner = best[0];
        let mut tied_with: Vec<String> = best
            .iter()
            .skip(1)
            .map(|rule| rule.territory.clone())
            .filter(|territory| territory != &winner.territory)
            .collect();
        tied_with.dedup();
        let conditions: Vec<String> = winner.criteria.iter().map(ToString::to_string).collect();
        let mut reason = format!("rule {} (priority {}): {}", winner.id, winner.priority, conditions.join(" and "));
        let beaten = matching.len() - best.len();
        if beaten > 0 {
            reason.push_str(&format!("; outranks {beaten} other matching rule(s)"));
        }
        Assignment {
            account: account.id.clone(),
            territory: Some(winner.territory.clone()),
            rule: Some(winner.id.clone()),
            path: self.path(&winner.territory),
            reason,
            tied_with,
        }
    }

    /// Territory ids from the root down to `territory`.
    pub fn path(&self, territory: &str) -> Vec<String> {
        let mut path = vec![territory.to_string()];
        let mut current = territory.to_string();
        // The bound stops a cycle in bad data from looping.
        for _ in 0..self.territories.len() {
            let parent = self.territories.iter().find(|t| t.id == current).and_then(|t| t.parent.clone());
            match parent {
                Some(parent) if !path.contains(&parent) => {
                    path.push(parent.clone());
                    current = parent;
                }
                _ => break,
            }
        }
        path.reverse();
        path
    }

    /// Problems in the design itself: rules to unknown territories, unknown parents, cycles.
    pub fn check(&self) -> Vec<Diagnostic> {
        let known = |id: &str| self.territories.iter().any(|territory| territory.id == id);
        let mut diagnostics = Vec::new();
        for rule in &self.rules {
            if !known(&rule.territory) {
                diagnostics.push(Diagnostic::warning(format!(
                    "rule {} assigns to unknown territory {}",
                    rule.id, rule.territory
                )));
            }
        }
        for territory in &self.territories {
            if let Some(parent) = &territory.parent
                && !known(parent)
            {
                diagnostics
                    .push(Diagnostic::warning(format!("territory {} has unknown parent {parent}", territory.id)));
            }
            let path = self.path(&territory.id);
            if let Some(parent) = self.territories.iter().find(|t| t.id == path[0]).and_then(|t| t.parent.clone())
                && path.contains(&parent)
            {
                diagnostics.push(Diagnostic::warning(format!("territory {} is in a parent cycle", territory.id)));
            }
        }
        diagnostics
    }
}

/// Coverage of a set of accounts by a rule set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// One assignment per account, in input order.
    pub assignments: Vec<Assignment>,
    /// Accounts no rule covers.
    pub gaps: Vec<String>,
    /// Accounts matched by rules of equal best priority to different territories.
    pub overlaps: Vec<(String, Vec<String>)>,
    /// Accounts per territory.
    pub counts: BTreeMap<String, usize>,
}

/// Assign every account and list gaps and overlaps.
pub fn coverage(rules: &RuleSet, accounts: &[Account]) -> Coverage {
    let assignments: Vec<Assignment> = accounts.iter().map(|account| rules.assign(account)).collect();
    let gaps = assignments.iter().filter(|a| a.territory.is_none()).map(|a| a.account.clone()).collect();
    let overlaps = assignments
        .iter()
        .filter(|a| !a.tied_with.is_empty())
        .map(|a| {
            let mut territories = vec![a.territory.clone().unwrap_or_default()];
            territories.extend(a.tied_with.iter().cloned());
            (a.account.clone(), territories)
        })
        .collect();
    let mut counts = BTreeMap::new();
    for assignment in &assignments {
        if let Some(territory) = &assignment.territory {
            *counts.entry(territory.clone()).or_insert(0) += 1;
        }
    }
    Coverage { assignments, gaps, overlaps, counts }
}

/// A past sale to sort into a draft design.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sale {
    /// Account id.
    pub account: String,
    /// Amount won.
    pub amount: Money,
    /// Close date.
    pub date: Date,
}

/// Totals of past sales per territory of a draft design, per currency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoinSort {
    /// `(territory, currency code) -> (total, number of sales)`; `-` is the territory of sales
    /// whose account falls in a coverage gap.
    pub totals: BTreeMap<(String, String), (Decimal, usize)>,
}

/// Name under which coin sort totals sales of accounts no rule covers.
pub const UNASSIGNED: &str = "-";

/// Sort past `sales` into the territories of `draft` ("coin sort"), so a new design can be
/// judged on history before it goes live. Sales of unknown accounts are skipped with a diagnostic.
pub fn coin_sort(draft: &RuleSet, accounts: &[Account], sales: &[Sale]) -> (CoinSort, Vec<Diagnostic>) {
    let by_id: BTreeMap<&str, &Account> = accounts.iter().map(|account| (account.id.as_str(), account)).collect();
    let mut totals: BTreeMap<(String, String), (Decimal, usize)> = BTreeMap::new();
    let mut diagnostics = Vec::new();
    let mut cache: BTreeMap<&str, Option<String>> = BTreeMap::new();
    for sale in sales {
        let Some(account) = by_id.get(sale.account.as_str()) else {
            diagnostics.push(Diagnostic::warning(format!(
                "sale of {} on {} to unknown account {} skipped",
                sale.amount.amount, sale.date, sale.account
            )));
            continue;
        };
        let territory = cache.entry(account.id.as_str()).or_insert_with(|| draft.assign(account).territory).clone();
        let key = (territory.unwrap_or_else(|| UNASSIGNED.to_string()), sale.amount.currency.code().to_string());
        let entry = totals.entry(key).or_insert((Decimal::ZERO, 0));
        entry.0 += sale.amount.amount;
        entry.1 += 1;
    }
    (CoinSort { totals }, diagnostics)
}

/// A rule-set text that could not be read; `line` is 1-based.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RuleSetError {
    /// Line of the problem.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Read a rule set from text, one statement per line (`#` starts a comment):
///
/// ```text
/// version 2027-01-01
/// territory EMEA
/// territory DACH parent EMEA owner anna
/// rule R1 -> DACH priority 10 country DE,AT,CH
/// rule R2 -> DACH-North priority 5 country DE postal 10-29
/// rule R3 -> Strategic priority 1 accounts ACME,GLOBEX
/// rule R4 -> Mid priority 20 size 100-999 industry retail,logistics
/// ```
///
/// Sizes are `min-max`, `min+` or `-max`. Values are comma separated, without spaces.
pub fn parse_rule_set(text: &str) -> Result<RuleSet, RuleSetError> {
    let mut valid_from = None;
    let mut territories = Vec::new();
    let mut rules = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let error = |message: String| RuleSetError { line, message };
        let words: Vec<&str> = content.split_whitespace().collect();
        match words[0] {
            "version" => {
                let date = words.get(1).ok_or_else(|| error("version needs a date".into()))?;
                valid_from = Some(date.parse::<Date>().map_err(|e| error(format!("bad date {date}: {e}")))?);
            }
            "territory" => {
                let id = words.get(1).ok_or_else(|| error("territory needs an id".into()))?.to_string();
                let mut territory = Territory { id, parent: None, owner: None };
                let mut rest = words[2..].chunks(2);
                for pair in rest.by_ref() {
                    match pair {
                        ["parent", value] => territory.parent = Some(value.to_string()),
                        ["owner", value] => territory.owner = Some(value.to_string()),
                        other => return Err(error(format!("unexpected {}", other.join(" ")))),
                    }
                }
                territories.push(territory);
            }
            "rule" => {
                let (id, arrow, territory) = match words.get(1..4) {
                    Some([id, arrow, territory]) => (id, arrow, territory),
                    _ => return Err(error("expected: rule <id> -> <territory> ...".into())),
                };
                if *arrow != "->" {
                    return Err(error(format!("expected -> after rule {id}")));
                }
                let mut rule =
                    Rule { id: id.to_string(), territory: territory.to_string(), priority: 100, criteria: Vec::new() };
                for pair in words[4..].chunks(2) {
                    let [key, value] = pair else {
                        return Err(error(format!("{} needs a value", pair[0])));
                    };
                    let list = || value.split(',').map(str::to_string).collect::<Vec<_>>();
                    match *key {
                        "priority" => {
                            rule.priority = value.parse().map_err(|_| error(format!("bad priority {value}")))?;
                        }
                        "country" => rule.criteria.push(Criterion::Country(list())),
                        "region" => rule.criteria.push(Criterion::Region(list())),
                        "industry" => rule.criteria.push(Criterion::Industry(list())),
                        "accounts" => rule.criteria.push(Criterion::NamedAccounts(list())),
                        "postal" => {
                            let (from, to) = value
                                .split_once('-')
                                .ok_or_else(|| error(format!("postal range {value} needs from-to")))?;
                            rule.criteria.push(Criterion::PostalRange { from: from.to_string(), to: to.to_string() });
                        }
                        "size" => {
                            rule.criteria.push(parse_size(value).ok_or_else(|| error(format!("bad size {value}")))?)
                        }
                        other => return Err(error(format!("unknown criterion {other}"))),
                    }
                }
                rules.push(rule);
            }
            other => return Err(error(format!("unknown statement {other}"))),
        }
    }
    let valid_from = valid_from.ok_or(RuleSetError { line: 1, message: "missing version <date>".into() })?;
    Ok(RuleSet { valid_from, territories, rules })
}

fn parse_size(value: &str) -> Option<Criterion> {
    let number = |text: &str| if text.is_empty() { Some(None) } else { text.parse::<u32>().ok().map(Some) };
    if let Some(min) = value.strip_suffix('+') {
        return Some(Criterion::Size { min: Some(min.parse().ok()?), max: None });
    }
    let (min, max) = value.split_once('-')?;
    Some(Criterion::Size { min: number(min)?, max: number(max)? })
}

/// What the units of a balanced assignment are, so it can become rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum UnitKind {
    /// Unit ids are postal codes (or postal prefixes such as bricks keyed by a code).
    PostalCode,
    /// Unit ids are account ids.
    Account,
}

/// Accept a balanced assignment as a new effective-dated rule-set version: one territory per
/// rep (owned by the rep, under `parent` if given) and rules that give each unit to its rep's
/// territory. Territory ids are `<prefix><rep id>`. Add the result to a [`TerritoryPlan`] with
/// [`TerritoryPlan::add_version`]; the previous versions stay for history.
pub fn accept_assignment(
    problem: &crate::balance::BalanceProblem,
    assignment: &[usize],
    valid_from: Date,
    kind: UnitKind,
    prefix: &str,
    parent: Option<&str>,
) -> RuleSet {
    let territories: Vec<Territory> = problem
        .reps
        .iter()
        .map(|rep| Territory {
            id: format!("{prefix}{}", rep.id),
            parent: parent.map(str::to_string),
            owner: Some(rep.id.clone()),
        })
        .collect();
    let mut rules = Vec::new();
    for (rep_index, rep) in problem.reps.iter().enumerate() {
        let units: Vec<String> = problem
            .units
            .iter()
            .zip(assignment)
            .filter(|(_, assigned)| **assigned == rep_index)
            .map(|(unit, _)| unit.id.clone())
            .collect();
        let territory = format!("{prefix}{}", rep.id);
        match kind {
            UnitKind::Account => rules.push(Rule {
                id: format!("{territory}-accounts"),
                territory,
                priority: 50,
                criteria: vec![Criterion::NamedAccounts(units)],
            }),
            UnitKind::PostalCode => {
                for code in units {
                    rules.push(Rule {
                        id: format!("{territory}-{code}"),
                        territory: territory.clone(),
                        priority: 50,
                        criteria: vec![Criterion::PostalRange { from: code.clone(), to: code }],
                    });
                }
            }
        }
    }
    RuleSet { valid_from, territories, rules }
}

impl RuleSet {
    /// The rule set in the text form [`parse_rule_set`] reads (parsing it gives this rule set
    /// back), e.g. to store an accepted assignment as a version.
    pub fn to_text(&self) -> String {
        let mut out = format!("version {}\n", self.valid_from);
        for territory in &self.territories {
            out.push_str(&format!("territory {}", territory.id));
            if let Some(parent) = &territory.parent {
                out.push_str(&format!(" parent {parent}"));
            }
            if let Some(owner) = &territory.owner {
                out.push_str(&format!(" owner {owner}"));
            }
            out.push('\n');
        }
        for rule in &self.rules {
            out.push_str(&format!("rule {} -> {} priority {}", rule.id, rule.territory, rule.priority));
            for criterion in &rule.criteria {
                out.push(' ');
                out.push_str(&criterion.to_string());
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn a_rule_set_written_as_text_reads_back_the_same() {
        let text = "version 2027-01-01\nterritory EMEA\nterritory DACH parent EMEA owner anna@x.io\n\
                    rule north -> DACH priority 5 country DE postal 10-29\n\
                    rule named -> EMEA priority 1 accounts 17,42\nrule mid -> DACH priority 20 size 100-999 industry retail\n\
                    rule big -> DACH priority 30 size 1000+ region BY\n";
        let rules = parse_rule_set(text).expect("parses");
        assert_eq!(rules.to_text(), text);
        assert_eq!(parse_rule_set(&rules.to_text()).expect("reads back"), rules);
    }
}
