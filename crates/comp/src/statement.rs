//! The output of a calculation: a statement of payout lines, each explaining itself with the
//! rule, base, rate, tier, attainment and source transaction, plus an English sentence.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use jiff::civil::Date;
use model::{Currency, Locale, Money, OpportunityId, UserId, format_decimal};
use rust_decimal::Decimal;

use crate::credit::{TransactionId, TransactionKind};
use crate::plan::{Base, ComponentKind, Measure, RuleId, TierMethod};

/// A calculation period (usually a month), inclusive dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub id: Arc<str>,
    pub start: Date,
    pub end: Date,
}

impl Period {
    /// A calendar month, id "2026-03".
    pub fn month(year: i16, month: i8) -> Result<Period, jiff::Error> {
        let start = Date::new(year, month, 1)?;
        Ok(Period { id: Arc::from(format!("{year:04}-{month:02}")), start, end: start.last_of_month() })
    }

    pub fn contains(&self, day: Date) -> bool {
        self.start <= day && day <= self.end
    }
}

/// What a payout line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineKind {
    /// A percentage of a base.
    Commission,
    /// A fixed amount per unit or per transaction (flat, per unit, SPIF, new customer).
    Fixed,
    /// A score component (MBO, satisfaction, retention).
    Score,
    /// Reduces a component to its period cap.
    PeriodCap,
    /// Raises a component to its period floor.
    PeriodFloor,
    /// Reduces a component to its yearly cap.
    YearCap,
    /// A manual adjustment with reason code and approver.
    Adjustment,
    /// Pays a line held in an earlier period.
    Release,
    /// Tops earnings up to the draw.
    DrawTopUp,
    /// Recovers an earlier recoverable draw.
    DrawRecovery,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Commission => "commission",
            LineKind::Fixed => "fixed",
            LineKind::Score => "score",
            LineKind::PeriodCap => "period cap",
            LineKind::PeriodFloor => "period floor",
            LineKind::YearCap => "year cap",
            LineKind::Adjustment => "adjustment",
            LineKind::Release => "release",
            LineKind::DrawTopUp => "draw",
            LineKind::DrawRecovery => "draw recovery",
        }
    }
}

/// Identifies a line across recalculations of the same period (used for delta lines).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineKey {
    /// Component id, or `adjustment`, `draw`, ... for lines no component produced.
    pub rule: RuleId,
    pub kind: LineKind,
    pub transaction: Option<TransactionId>,
    /// For overlay credit: whose credit it is.
    pub overlay_of: Option<UserId>,
    /// Index of the schedule segment (marginal tiers and accelerators split one transaction
    /// into several lines).
    pub segment: u32,
    /// Index of the rate group (per-product rates split one transaction into several lines),
    /// or the adjustment id, or the original line's position for releases.
    pub group: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStatus {
    Payable,
    /// Kept back by a hold; paid by a release line in a later period.
    Held,
}

/// What a retro delta line corrects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The locked period whose line is corrected.
    pub period: Arc<str>,
    /// Amount on the locked statement and recalculated amount (payout currency, rounded).
    pub old: Decimal,
    pub new: Decimal,
}

/// The structured explanation of a line (translated by the caller; [`PayoutLine::sentence`]
/// renders English). Amounts are in the plan currency.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Explanation {
    pub component_kind: Option<ComponentKind>,
    pub transaction_kind: Option<TransactionKind>,
    pub opportunity: Option<OpportunityId>,
    /// For reversals: the transaction reversed.
    pub reverses: Option<TransactionId>,
    /// The payee's share of the transaction (1 = 100%); `None` for lines not from a transaction.
    pub share: Option<Decimal>,
    pub base_kind: Option<Base>,
    /// Base after split share, tier fraction, currency conversion and sign.
    pub base: Option<Decimal>,
    /// Rate (0.08 = 8%) of a commission line.
    pub rate: Option<Decimal>,
    /// Tier number as written in the plan (1-based); 0 when the component has no tiers.
    pub tier: u32,
    /// What the tiers are measured on and how, for tiered lines.
    pub measure: Option<(Measure, TierMethod)>,
    /// The part of the measure this line covers (marginal), or the final position twice
    /// (retroactive), as credited amounts; attainment = amount / `quota`.
    pub range: Option<(Decimal, Decimal)>,
    pub quota: Option<Decimal>,
    /// Accelerator (> 1) or decelerator (< 1) factor applied.
    pub factor: Option<Decimal>,
    /// Rarer details, boxed to keep the common line small.
    pub detail: Option<Box<Detail>>,
    pub plan_currency: Option<Currency>,
}

/// Details only some lines have.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Detail {
    /// Units and amount per unit (or per transaction) of fixed components.
    pub quantity: Option<Decimal>,
    pub unit_amount: Option<Decimal>,
    /// Amount before the per-line cap.
    pub capped_from: Option<Decimal>,
    /// Cap, floor or draw amount the line brings the total to.
    pub limit: Option<Decimal>,
    /// Final period attainment, when a decelerator applied because of it.
    pub attainment: Option<Decimal>,
    pub score: Option<Decimal>,
    pub metric: Option<String>,
    /// Reason code (adjustments) or hold reason.
    pub reason: Option<String>,
    pub approver: Option<UserId>,
    /// The approver's name as given with the adjustment.
    pub approver_name: Option<String>,
    /// For releases: the period the line was held in.
    pub held_in: Option<Arc<str>>,
}

impl Explanation {
    /// The detail, created on first use.
    pub fn detail_mut(&mut self) -> &mut Detail {
        self.detail.get_or_insert_with(Box::default)
    }

    fn detail(&self) -> &Detail {
        static EMPTY: Detail = Detail {
            quantity: None,
            unit_amount: None,
            capped_from: None,
            limit: None,
            attainment: None,
            score: None,
            metric: None,
            reason: None,
            approver: None,
            approver_name: None,
            held_in: None,
        };
        self.detail.as_deref().unwrap_or(&EMPTY)
    }
}

/// One line of a statement.
#[derive(Debug, Clone, PartialEq)]
pub struct PayoutLine {
    pub key: LineKey,
    pub status: LineStatus,
    /// Rounded to the payout currency's minor unit (see the rounding rule in `calculate`).
    pub amount: Money,
    /// Unrounded amount in the payout currency.
    pub exact: Decimal,
    pub explanation: Explanation,
    /// Set on retro delta lines (boxed: rare, and lines are many).
    pub corrects: Option<Box<Correction>>,
}

/// A held line carried to later periods, in the plan currency.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldLine {
    pub period: Arc<str>,
    pub key: LineKey,
    pub amount: Decimal,
    pub opportunity: Option<OpportunityId>,
    pub reason: String,
}

/// What a payee carries from one period to the next.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PayeeState {
    /// The year the year-to-date totals belong to; a period in another year starts from zero.
    pub year: i16,
    /// Year-to-date earnings per component (plan currency), for yearly caps.
    pub year_to_date: BTreeMap<RuleId, Decimal>,
    /// Recoverable draw paid and not yet recovered (plan currency).
    pub draw_balance: Decimal,
    pub held: Vec<HeldLine>,
}

/// A payee's statement for one plan and period.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub payee: UserId,
    pub plan: Arc<str>,
    pub plan_version: u32,
    pub period: Arc<str>,
    pub currency: Currency,
    /// Plan -> payout currency rate and its date, when the two currencies differ.
    pub fx: Option<(Decimal, Date)>,
    pub lines: Vec<PayoutLine>,
    /// Sum of payable lines (exactly the sum of their rounded amounts).
    pub payable: Money,
    pub held: Money,
    /// Credited amount in the plan currency (net of reversals), the numerator of attainment.
    pub credited: Decimal,
    pub quota: Option<Decimal>,
    pub attainment: Option<Decimal>,
    /// State to pass to the next period's calculation.
    pub closing: PayeeState,
}

impl Statement {
    /// A compact, readable table: one line per payout line (used by fixtures and the CLI).
    pub fn table(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            let held = if l.status == LineStatus::Held { " [held]" } else { "" };
            let _ = writeln!(out, "{:>12} {}{held} | {}", money_text(l.amount), l.key.rule, l.sentence());
        }
        let _ = write!(out, "{:>12} total payable", money_text(self.payable));
        if !self.held.amount.is_zero() {
            let _ = write!(out, ", {} held", money_text(self.held));
        }
        if let Some((rate, day)) = self.fx {
            let _ = write!(out, ", converted at {} on {day}", plain(rate));
        }
        out
    }
}

fn money_text(m: Money) -> String {
    format!("{} {}", format_decimal(Locale::En, m.amount, m.currency.minor_units()), m.currency)
}

fn percent_text(fraction: Decimal) -> String {
    let p = (fraction * Decimal::ONE_HUNDRED).round_dp(2).normalize();
    format!("{p}%")
}

fn plain(d: Decimal) -> String {
    d.normalize().to_string()
}

impl PayoutLine {
    /// The explanation as an English sentence, e.g. "8% of 12,400.00 EUR amount on invoice 77
    /// (opportunity 123), tier 2 because attainment 104%".
    pub fn sentence(&self) -> String {
        let e = &self.explanation;
        let x = e.detail();
        let cur = e.plan_currency.unwrap_or(self.amount.currency);
        let money = |d: Decimal| money_text(Money::new(d, cur));
        let mut s = String::with_capacity(96);
        match self.key.kind {
            LineKind::Commission => {
                let _ = write!(
                    s,
                    "{} of {} {}",
                    percent_text(e.rate.unwrap_or_default()),
                    money(e.base.unwrap_or_default()),
                    e.base_kind.map_or("", Base::as_str)
                );
            }
            LineKind::Fixed => {
                let unit = money(x.unit_amount.unwrap_or_default());
                match x.quantity {
                    Some(q) => {
                        let _ = write!(s, "{unit} per unit x {}", plain(q));
                    }
                    None => {
                        let _ = write!(s, "{unit} per transaction");
                    }
                }
                if e.component_kind == Some(ComponentKind::NewCustomer) {
                    s.push_str(" for a new customer");
                } else if e.component_kind == Some(ComponentKind::Spif) {
                    s.push_str(" (SPIF)");
                }
            }
            LineKind::Score => {
                let _ = write!(
                    s,
                    "{} score {} of target {}",
                    x.metric.as_deref().unwrap_or(""),
                    percent_text(x.score.unwrap_or_default()),
                    money(x.unit_amount.unwrap_or_default())
                );
            }
            LineKind::PeriodCap => {
                let _ = write!(s, "capped at {} for the period", money(x.limit.unwrap_or_default()));
            }
            LineKind::PeriodFloor => {
                let _ = write!(s, "raised to the floor of {} for the period", money(x.limit.unwrap_or_default()));
            }
            LineKind::YearCap => {
                let _ = write!(s, "capped at {} for the year", money(x.limit.unwrap_or_default()));
            }
            LineKind::Adjustment => {
                let _ = write!(s, "manual adjustment, reason {}", x.reason.as_deref().unwrap_or(""));
                match (x.approver_name.as_deref(), x.approver) {
                    (Some(name), _) => {
                        let _ = write!(s, ", approved by {name}");
                    }
                    (None, Some(a)) => {
                        let _ = write!(s, ", approved by user {a}");
                    }
                    (None, None) => {}
                }
            }
            LineKind::Release => {
                let _ = write!(
                    s,
                    "release of {} held in {}",
                    self.key.rule,
                    x.held_in.as_deref().unwrap_or("an earlier period")
                );
            }
            LineKind::DrawTopUp => {
                let _ = write!(s, "draw tops earnings up to {}", money(x.limit.unwrap_or_default()));
            }
            LineKind::DrawRecovery => {
                let _ = write!(s, "recovery of an earlier draw (draw {})", money(x.limit.unwrap_or_default()));
            }
        }
        if let (Some(kind), Some(t)) = (e.transaction_kind, self.key.transaction) {
            let _ = write!(s, " on {} {t}", kind.as_str());
            if let Some(r) = e.reverses {
                let _ = write!(s, " reversing {r}");
            }
            if let Some(o) = e.opportunity {
                let _ = write!(s, " (opportunity {o})");
            }
        } else if let Some(o) = e.opportunity {
            let _ = write!(s, " on opportunity {o}");
        }
        if let Some(share) = e.share.filter(|s| *s != Decimal::ONE) {
            let _ = write!(s, ", {} split", percent_text(share));
        }
        if let Some(of) = self.key.overlay_of {
            let _ = write!(s, ", overlay credit from {of}");
        }
        if e.tier > 0 {
            let _ = write!(s, ", tier {}", e.tier);
        }
        if let (Some((measure, method)), Some((lo, hi))) = (e.measure, e.range) {
            let attainment = |amount: Decimal| match e.quota {
                Some(q) if !q.is_zero() => percent_text(amount / q),
                _ => String::from("?"),
            };
            let _ = match (measure, method) {
                (Measure::Attainment, TierMethod::Marginal) => {
                    write!(s, " for attainment {} to {}", attainment(lo), attainment(hi))
                }
                (Measure::Attainment, TierMethod::Retroactive) => {
                    write!(s, " because attainment {}", attainment(hi))
                }
                (Measure::PeriodAmount, TierMethod::Marginal) => {
                    write!(s, " for period credit {} to {}", money(lo), money(hi))
                }
                (Measure::PeriodAmount, TierMethod::Retroactive) => {
                    write!(s, " because period credit {}", money(hi))
                }
                (Measure::TransactionAmount, TierMethod::Marginal) => {
                    write!(s, " for {} to {} of the transaction", money(lo), money(hi))
                }
                (Measure::TransactionAmount, TierMethod::Retroactive) => Ok(()),
            };
        }
        if let Some(f) = e.factor {
            let word = if f > Decimal::ONE { "accelerator" } else { "decelerator" };
            let _ = write!(s, ", {word} x{}", plain(f));
            if let Some(a) = x.attainment {
                let _ = write!(s, " because attainment {}", percent_text(a));
            }
        }
        if let Some(from) = x.capped_from {
            let _ = write!(s, ", capped per line from {}", money(from));
        }
        if self.status == LineStatus::Held
            && let Some(r) = &x.reason
        {
            let _ = write!(s, ", held: {r}");
        }
        if let Some(c) = &self.corrects {
            let _ = write!(
                s,
                "; corrects {}: was {}, now {}",
                c.period,
                money_text(Money::new(c.old, self.amount.currency)),
                money_text(Money::new(c.new, self.amount.currency))
            );
        }
        s
    }
}

/// One payroll row: what to pay a payee in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayrollRow {
    pub payee: UserId,
    pub amount: Money,
    /// Statements (plan, period) the amount comes from.
    pub statements: Vec<(Arc<str>, Arc<str>)>,
}

/// Payable totals per payee and currency, for the payroll export (the caller writes the CSV).
/// Held amounts are not included; they are paid by a release in a later period.
pub fn payroll(statements: &[Statement]) -> Vec<PayrollRow> {
    let mut rows: BTreeMap<(UserId, Currency), PayrollRow> = BTreeMap::new();
    for s in statements {
        let row = rows.entry((s.payee, s.currency)).or_insert_with(|| PayrollRow {
            payee: s.payee,
            amount: Money::zero(s.currency),
            statements: Vec::new(),
        });
        row.amount.amount += s.payable.amount;
        row.statements.push((s.plan.clone(), s.period.clone()));
    }
    rows.into_values().collect()
}
