//! Retro changes: a locked statement never changes; the difference between it and a
//! recalculation becomes delta lines in the next open period, each saying what it corrects.

use std::collections::HashMap;

use model::Money;
use rust_decimal::Decimal;

use crate::calc::CalcError;
use crate::statement::{Correction, LineKey, LineStatus, PayoutLine, Statement};

/// Delta lines that turn `locked` into `recalculated`, line by line (matched on [`LineKey`]).
///
/// Only payable lines are compared: held lines have not been paid, and the recalculation's
/// `closing.held` replaces the locked one. For every key, `old + delta = new` to the cent, so
/// `locked.payable + sum(deltas) = recalculated.payable`. Keys are visited in the order of the
/// recalculated statement, then keys that disappeared, in the locked statement's order.
pub fn deltas(locked: &Statement, recalculated: &Statement) -> Result<Vec<PayoutLine>, CalcError> {
    if locked.currency != recalculated.currency {
        return Err(CalcError::CurrencyChanged { old: locked.currency, new: recalculated.currency });
    }
    let currency = locked.currency;
    fn sums(s: &Statement) -> (Vec<&PayoutLine>, HashMap<&LineKey, Decimal>) {
        let mut order: Vec<&PayoutLine> = Vec::new();
        let mut by_key: HashMap<&LineKey, Decimal> = HashMap::new();
        for l in s.lines.iter().filter(|l| l.status == LineStatus::Payable) {
            let entry = by_key.entry(&l.key).or_insert_with(|| {
                order.push(l);
                Decimal::ZERO
            });
            *entry += l.amount.amount;
        }
        (order, by_key)
    }
    let (old_order, old) = sums(locked);
    let (new_order, new) = sums(recalculated);
    let mut out = Vec::new();
    let mut emit = |line: &PayoutLine, before: Decimal, after: Decimal| {
        let delta = after - before;
        if !delta.is_zero() {
            out.push(PayoutLine {
                key: line.key.clone(),
                status: LineStatus::Payable,
                amount: Money::new(delta, currency),
                exact: delta,
                explanation: line.explanation.clone(),
                corrects: Some(Box::new(Correction { period: locked.period.clone(), old: before, new: after })),
            });
        }
    };
    for line in new_order {
        emit(line, old.get(&line.key).copied().unwrap_or_default(), new[&line.key]);
    }
    for line in old_order {
        if !new.contains_key(&line.key) {
            emit(line, old[&line.key], Decimal::ZERO);
        }
    }
    Ok(out)
}

/// Appends delta lines to an open period's statement and updates its payable total.
pub fn append_deltas(statement: &mut Statement, deltas: Vec<PayoutLine>) -> Result<(), CalcError> {
    for d in deltas {
        if d.amount.currency != statement.currency {
            return Err(CalcError::CurrencyChanged { old: statement.currency, new: d.amount.currency });
        }
        statement.payable.amount += d.amount.amount;
        statement.lines.push(d);
    }
    Ok(())
}
