//! Incentive compensation engine: plan text -> [`Plan`]; credits + period -> [`Statement`].
//!
//! - [`Plan::parse`] reads the TOML plan language (`docs/comp-plans.md`) into a validated plan;
//!   errors carry line, column and field.
//! - [`allocate_credits`] credits [`Transaction`]s to payees by their splits (which must total
//!   100%) and to managers as overlay credit.
//! - [`calculate`] computes one payee's [`Statement`] for a [`Period`]: exact decimals, a
//!   documented rounding rule, and [`PayoutLine`]s that each carry a structured [`Explanation`]
//!   and render an English sentence.
//! - [`deltas`] turns the difference between a locked statement and a recalculation into delta
//!   lines for the next open period.
//! - [`what_if`] and [`model_plan`] are differences of calculations: one extra opportunity, or a
//!   draft plan against the current plan over a year of credits.
//!
//! Pure: no I/O, no clock, no randomness. Messy data gives [`Diagnostic`]s, not failures.

mod calc;
mod credit;
mod plan;
mod retro;
mod simulate;
mod statement;

pub use calc::{Adjustment, CalcError, Hold, HoldScope, Payee, calculate, round, round_lines};
pub use credit::{
    Credit, CreditBook, CreditRole, Hierarchy, Reversal, Split, Transaction, TransactionId, TransactionKind,
    TransactionLine, allocate_credits, allocate_credits_on,
};
pub use plan::{
    Base, Caps, Clawback, Component, ComponentKind, CreditFilter, Decelerator, Draw, EarningEvent, Filter, FixedRule,
    Measure, Per, Plan, PlanError, PlanVersions, RateOverride, RateRule, Rule, RuleId, Schedule, ScoreRule, Segment,
    TierMethod,
};
pub use retro::{append_deltas, deltas};
pub use simulate::{Distribution, PayeeComparison, PlanModel, WhatIf, calculate_period, model_plan, what_if};
pub use statement::{
    Correction, Detail, Explanation, HeldLine, LineKey, LineKind, LineStatus, PayeeState, PayoutLine, PayrollRow,
    Period, Statement, payroll,
};

use model::UserId;

/// A finding about the input that did not stop the calculation ("transaction 42: splits total
/// 90%, not 100%; left out").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub transaction: Option<TransactionId>,
    pub payee: Option<UserId>,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = self.payee {
            write!(f, "payee {p}: ")?;
        }
        f.write_str(&self.message)
    }
}
