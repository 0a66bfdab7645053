//! Transactions from the ERP and how they are credited to payees: splits that total 100% and
//! manager overlay credit up the hierarchy.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use jiff::civil::Date;
use model::{AccountId, Currency, OpportunityId, UserId};
use rust_decimal::Decimal;

use crate::Diagnostic;
use crate::plan::EarningEvent;

/// Id of a transaction (booking, invoice, payment, ...) as known to salesops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(pub i64);

impl std::fmt::Display for TransactionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionKind {
    Booking,
    Cancellation,
    Invoice,
    CreditNote,
    Payment,
    Refund,
}

impl TransactionKind {
    /// The earning event this transaction (or its reversal) belongs to.
    pub fn event(self) -> EarningEvent {
        match self {
            TransactionKind::Booking | TransactionKind::Cancellation => EarningEvent::Booking,
            TransactionKind::Invoice | TransactionKind::CreditNote => EarningEvent::Invoice,
            TransactionKind::Payment | TransactionKind::Refund => EarningEvent::Payment,
        }
    }

    /// Reversals (cancellation, credit note, refund) count negatively.
    pub fn is_reversal(self) -> bool {
        matches!(self, TransactionKind::Cancellation | TransactionKind::CreditNote | TransactionKind::Refund)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TransactionKind::Booking => "booking",
            TransactionKind::Cancellation => "cancellation",
            TransactionKind::Invoice => "invoice",
            TransactionKind::CreditNote => "credit note",
            TransactionKind::Payment => "payment",
            TransactionKind::Refund => "refund",
        }
    }
}

/// One product line of a transaction. Amounts are magnitudes in the transaction's currency; the
/// kind gives the sign (a credit note of 100.00 is written as 100.00 and counts as -100.00).
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionLine {
    pub product: Arc<str>,
    pub product_line: Arc<str>,
    pub quantity: Decimal,
    pub amount: Decimal,
    pub cost: Decimal,
}

/// What a reversal corrects; the date decides whether it falls within the clawback window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reversal {
    pub transaction: TransactionId,
    pub original_date: Date,
}

/// A payee's share of a transaction's credit (0.5 = 50%).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub payee: UserId,
    pub share: Decimal,
}

/// A booking, invoice, payment or one of their reversals (full or partial), from the ERP.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    pub id: TransactionId,
    pub kind: TransactionKind,
    pub date: Date,
    pub currency: Currency,
    pub opportunity: Option<OpportunityId>,
    pub customer: Option<AccountId>,
    /// The customer's first purchase (for new-customer bonuses).
    pub new_customer: bool,
    pub reverses: Option<Reversal>,
    pub lines: Vec<TransactionLine>,
    /// Must total exactly 100%.
    pub splits: Vec<Split>,
}

impl Transaction {
    /// +1 or -1.
    pub fn sign(&self) -> Decimal {
        if self.kind.is_reversal() { Decimal::NEGATIVE_ONE } else { Decimal::ONE }
    }

    /// Signed total amount in the transaction currency.
    pub fn signed_amount(&self) -> Decimal {
        self.sign() * self.lines.iter().map(|l| l.amount).sum::<Decimal>()
    }

    /// Checks that the splits total exactly 100% with no negative or repeated payee.
    pub fn check_splits(&self) -> Result<(), String> {
        if self.splits.is_empty() {
            return Err(format!("transaction {} has no credit split", self.id));
        }
        let total: Decimal = self.splits.iter().map(|s| s.share).sum();
        if let Some(s) = self.splits.iter().find(|s| s.share <= Decimal::ZERO) {
            return Err(format!("transaction {}: payee {} has a share of {}", self.id, s.payee, s.share));
        }
        for (i, s) in self.splits.iter().enumerate() {
            if self.splits[..i].iter().any(|o| o.payee == s.payee) {
                return Err(format!("transaction {}: payee {} is split twice", self.id, s.payee));
            }
        }
        if total != Decimal::ONE {
            return Err(format!(
                "transaction {}: splits total {}%, not 100%",
                self.id,
                (total * Decimal::ONE_HUNDRED).normalize()
            ));
        }
        Ok(())
    }
}

/// Whether a credit is the payee's own or overlay credit from someone in their team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CreditRole {
    Direct,
    /// Overlay credit for a manager: `of` is the rep who earned it, `level` 1 = direct manager.
    Overlay {
        of: UserId,
        level: u8,
    },
}

/// A payee's credit on one transaction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Credit<'a> {
    pub transaction: &'a Transaction,
    pub share: Decimal,
    pub role: CreditRole,
}

/// Who manages whom, and how many levels of managers receive overlay credit.
#[derive(Debug, Clone, Default)]
pub struct Hierarchy {
    pub managers: HashMap<UserId, UserId>,
    /// 0 = no overlay credit; 1 = direct managers; 2 = also their managers; ...
    pub overlay_levels: u8,
}

/// Credits per payee (ordered by payee id for deterministic runs).
pub type CreditBook<'a> = BTreeMap<UserId, Vec<Credit<'a>>>;

/// Credits every transaction to its split payees and their managers (overlay). Transactions
/// whose splits do not total 100% are left out with a diagnostic: nobody is paid on them until
/// the split is corrected. Each payee's credits are in transaction order.
pub fn allocate_credits<'a>(
    transactions: &'a [Transaction],
    hierarchy: &Hierarchy,
) -> (CreditBook<'a>, Vec<Diagnostic>) {
    allocate_credits_on(transactions, hierarchy, 1)
}

/// [`allocate_credits`] on `threads` threads (contiguous chunks of transactions, merged in
/// order), with exactly the same result.
pub fn allocate_credits_on<'a>(
    transactions: &'a [Transaction],
    hierarchy: &Hierarchy,
    threads: usize,
) -> (CreditBook<'a>, Vec<Diagnostic>) {
    let chunk = transactions.len().div_ceil(threads.max(1)).max(1);
    let mut parts: Vec<(PartialBook<'a>, Vec<Diagnostic>)> = if threads <= 1 {
        vec![allocate_part(transactions, hierarchy)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> =
                transactions.chunks(chunk).map(|part| scope.spawn(move || allocate_part(part, hierarchy))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        })
    };
    let mut rest = parts.split_off(1.min(parts.len()));
    let (mut book, mut diagnostics) = parts.pop().unwrap_or_default();
    for (part, more) in rest.drain(..) {
        for (payee, credits) in part {
            book.entry(payee).or_default().extend(credits);
        }
        diagnostics.extend(more);
    }
    (book.into_iter().collect(), diagnostics)
}

/// A hash map while filling (one cheap lookup per credit); ordered once at the end.
type PartialBook<'a> = HashMap<UserId, Vec<Credit<'a>>, BuildHasherDefault<IdHasher>>;

fn allocate_part<'a>(transactions: &'a [Transaction], hierarchy: &Hierarchy) -> (PartialBook<'a>, Vec<Diagnostic>) {
    let mut book = PartialBook::default();
    let mut diagnostics = Vec::new();
    for t in transactions {
        if let Err(message) = t.check_splits() {
            diagnostics.push(Diagnostic { transaction: Some(t.id), payee: None, message });
            continue;
        }
        for s in &t.splits {
            book.entry(s.payee).or_default().push(Credit { transaction: t, share: s.share, role: CreditRole::Direct });
            let mut current = s.payee;
            for level in 1..=hierarchy.overlay_levels {
                let Some(&manager) = hierarchy.managers.get(&current) else { break };
                if manager == s.payee {
                    diagnostics.push(Diagnostic {
                        transaction: Some(t.id),
                        payee: Some(s.payee),
                        message: format!("the management chain above {} loops back to them", s.payee),
                    });
                    break;
                }
                book.entry(manager).or_default().push(Credit {
                    transaction: t,
                    share: s.share,
                    role: CreditRole::Overlay { of: s.payee, level },
                });
                current = manager;
            }
        }
    }
    (book, diagnostics)
}

/// A fast hasher for integer ids (no protection against chosen keys is needed: ids come from
/// our own database).
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_i64(&mut self, n: i64) {
        self.0 = (self.0 ^ u64::from_ne_bytes(n.to_ne_bytes())).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
