//! Compact text fixtures a sales-ops person can read, turned into facts.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use kpi::facts::{
    ActivityFact, NONE, OpportunityFact, OrderFact, Outcome, QuoteFact, RepFact, StageChangeFact, StageFact,
    VisitOutcome,
};
use kpi::{Facts, Value};
use model::{
    ActivityId, ActivityKind, Currency, OpportunityId, OrderId, QuoteId, QuoteStatus, StageId, StageKind, UserId,
};
use rust_decimal::Decimal;

pub fn day(text: &str) -> Date {
    text.parse().unwrap_or_else(|e| panic!("bad date {text}: {e}"))
}

pub fn at(text: &str) -> Timestamp {
    day(text).to_zoned(TimeZone::UTC).unwrap().timestamp()
}

pub fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

/// Looks a name up in a list, adding it when new: the dense keys the engine wants.
pub fn key(names: &mut Vec<String>, name: &str) -> u16 {
    if name == "-" {
        return NONE;
    }
    match names.iter().position(|n| n == name) {
        Some(i) => i as u16,
        None => {
            names.push(name.to_string());
            (names.len() - 1) as u16
        }
    }
}

/// Name tables behind the dense keys.
#[derive(Default)]
pub struct Names {
    pub reps: Vec<String>,
    pub teams: Vec<String>,
    pub sources: Vec<String>,
    pub segments: Vec<String>,
    pub reasons: Vec<String>,
}

/// Reps: `name team region` per line.
pub fn reps(text: &str, names: &mut Names) -> Vec<RepFact> {
    lines(text)
        .map(|f| {
            let rep = key(&mut names.reps, f[0]);
            RepFact { id: UserId(i64::from(rep) + 1), team: key(&mut names.teams, f[1]), region: f[2].parse().unwrap() }
        })
        .collect()
}

/// Opportunities: `id rep source segment created outcome closed amount [reason]`; `-` for none.
pub fn opportunities(text: &str, names: &mut Names) -> Vec<OpportunityFact> {
    lines(text)
        .map(|f| {
            let outcome = match f[5] {
                "won" => Outcome::Won,
                "lost" => Outcome::Lost,
                _ => Outcome::Open,
            };
            let amount: Decimal = f[7].parse().unwrap();
            OpportunityFact {
                id: OpportunityId(f[0].trim_start_matches('O').parse().unwrap()),
                rep: u32::from(key(&mut names.reps, f[1])),
                territory: 0,
                product_line: 0,
                source: key(&mut names.sources, f[2]),
                segment: key(&mut names.segments, f[3]),
                created_on: day(f[4]),
                cycle_start: day(f[4]),
                outcome,
                closed_on: (f[6] != "-").then(|| day(f[6])),
                amount: (amount * Decimal::ONE_HUNDRED).try_into().unwrap(),
                loss_reason: f.get(8).map_or(NONE, |r| key(&mut names.reasons, r)),
            }
        })
        .collect()
}

/// Activities: `id rep kind day [seconds | visit outcome]`.
pub fn activities(text: &str, names: &mut Names) -> Vec<ActivityFact> {
    lines(text)
        .map(|f| {
            let kind = ActivityKind::parse(f[2]).unwrap();
            ActivityFact {
                id: ActivityId(f[0].trim_start_matches('A').parse().unwrap()),
                rep: u32::from(key(&mut names.reps, f[1])),
                kind,
                on: day(f[3]),
                duration_seconds: if kind == ActivityKind::Call { f[4].parse().unwrap() } else { 0 },
                visit_outcome: f.get(4).and_then(|o| match *o {
                    "sale" => Some(VisitOutcome::Sale),
                    "not_home" => Some(VisitOutcome::NotHome),
                    "no_interest" => Some(VisitOutcome::NoInterest),
                    "callback" => Some(VisitOutcome::Callback),
                    _ => None,
                }),
                territory: NONE,
            }
        })
        .collect()
}

/// Quotes: `id opportunity-position created sent status`.
pub fn quotes(text: &str) -> Vec<QuoteFact> {
    lines(text)
        .map(|f| QuoteFact {
            id: QuoteId(f[0].trim_start_matches('Q').parse().unwrap()),
            opportunity: f[1].parse().unwrap(),
            created_at: at(f[2]),
            sent_at: (f[3] != "-").then(|| at(f[3])),
            sent_on: (f[3] != "-").then(|| day(f[3])),
            status: QuoteStatus::parse(f[4]).unwrap(),
        })
        .collect()
}

/// Orders: `id opportunity-position ordered installed cancelled failed-visits`.
pub fn orders(text: &str) -> Vec<OrderFact> {
    lines(text)
        .map(|f| OrderFact {
            id: OrderId(f[0].trim_start_matches('R').parse().unwrap()),
            opportunity: f[1].parse().unwrap(),
            ordered_on: day(f[2]),
            installed_on: (f[3] != "-").then(|| day(f[3])),
            cancelled_on: (f[4] != "-").then(|| day(f[4])),
            failed_installations: f[5].parse().unwrap(),
        })
        .collect()
}

pub fn facts(reps: Vec<RepFact>, opportunities: Vec<OpportunityFact>, activities: Vec<ActivityFact>) -> Facts {
    Facts { reps, opportunities, activities, ..Facts::empty(eur()) }
}

/// The pipeline of the funnel fixtures: four forward stages, nurture, won and lost.
pub fn stages() -> Vec<StageFact> {
    [
        ("Lead", 1, StageKind::Open, false),
        ("Qualify", 2, StageKind::Open, false),
        ("Proposal", 3, StageKind::Open, false),
        ("Negotiate", 4, StageKind::Open, false),
        ("Nurture", 5, StageKind::Open, true),
        ("Won", 6, StageKind::Won, false),
        ("Lost", 7, StageKind::Lost, false),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (name, order, kind, nurture))| StageFact {
        id: StageId(i as i64 + 1),
        name: name.to_string(),
        order,
        kind,
        nurture,
    })
    .collect()
}

/// Opportunities with their stage history, one per line:
/// `O1 smb 1000 | Lead 01-02, Qualify 01-04, ..., Lost 01-25 (price)` (days of 2017).
pub fn histories(text: &str, names: &mut Names) -> (Vec<OpportunityFact>, Vec<StageChangeFact>) {
    let stages = stages();
    let mut opportunities = Vec::new();
    let mut changes = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (head, history) = line.split_once('|').unwrap();
        let head: Vec<&str> = head.split_whitespace().collect();
        let index = opportunities.len() as u32;
        let mut previous: Option<u16> = None;
        let mut reason = NONE;
        let mut first = None;
        let mut last = None;
        for step in history.split(',') {
            let mut words = step.split_whitespace();
            let stage = words.next().unwrap();
            let when = format!("2017-{}", words.next().unwrap());
            if let Some(why) = words.next() {
                reason = key(&mut names.reasons, why.trim_matches(|c| c == '(' || c == ')'));
            }
            let to = stages.iter().position(|s| s.name == stage).unwrap() as u16;
            changes.push(StageChangeFact { opportunity: index, from: previous, to, at: at(&when) });
            previous = Some(to);
            first.get_or_insert(day(&when));
            last = Some((to, day(&when)));
        }
        let (last_stage, last_day) = last.unwrap();
        let outcome = match stages[last_stage as usize].kind {
            StageKind::Won => Outcome::Won,
            StageKind::Lost => Outcome::Lost,
            StageKind::Open => Outcome::Open,
        };
        opportunities.push(OpportunityFact {
            id: OpportunityId(head[0].trim_start_matches('O').parse().unwrap()),
            rep: 0,
            territory: 0,
            product_line: 0,
            source: 0,
            segment: key(&mut names.segments, head[1]),
            created_on: first.unwrap(),
            cycle_start: first.unwrap(),
            outcome,
            closed_on: (outcome != Outcome::Open).then_some(last_day),
            amount: head[2].parse::<i64>().unwrap() * 100,
            loss_reason: reason,
        });
    }
    (opportunities, changes)
}

/// A value as a sales-ops person would read it in a table cell.
pub fn show(value: &Value) -> String {
    match value {
        Value::Count { count } => count.to_string(),
        Value::Money { amount } => amount.to_string(),
        Value::Ratio { ratio } => format!("{}/{}", ratio.numerator.normalize(), ratio.denominator.normalize()),
        Value::NoData { .. } => "-".to_string(),
    }
}

fn lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect())
}
