//! The input of every engine in this crate: facts the caller has already loaded, cleaned of
//! currency (amounts in reporting-currency minor units) and keyed by dense small integers so the
//! engines can index arrays instead of hashing.
//!
//! Dimension values are indexes chosen by the caller (`0..n`); [`NONE`] means "not set". Reps are
//! indexes into [`Facts::reps`], which carries each rep's team and region, so every fact owned by a
//! rep can be sliced by team and region. Sources that the caller does not have at all are `None`
//! (the KPIs built on them then return `NoData`), while `Some(vec![])` means "known to be empty".

use jiff::Timestamp;
use jiff::civil::Date;
use model::{
    ActivityId, ActivityKind, Currency, LeadId, OpportunityId, OrderId, QuoteId, QuoteStatus, StageId, UserId,
};
use serde::{Deserialize, Serialize};

/// A dimension value that is not set (an opportunity without a lead source, a visit outside any
/// walking area).
pub const NONE: u16 = u16::MAX;

/// Everything the KPI engine reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Facts {
    /// The reporting currency every amount is expressed in (minor units: cents for EUR).
    pub currency: Currency,
    pub reps: Vec<RepFact>,
    pub opportunities: Vec<OpportunityFact>,
    pub activities: Vec<ActivityFact>,
    pub leads: Option<Vec<LeadFact>>,
    pub quotes: Option<Vec<QuoteFact>>,
    pub orders: Option<Vec<OrderFact>>,
    pub quotas: Option<Vec<QuotaFact>>,
    /// Records created by hand per rep (the audit log's inserts), for the data-entry count.
    pub data_entries: Option<Vec<DataEntryFact>>,
}

/// A sales rep, with the team and region every fact the rep owns is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepFact {
    pub id: UserId,
    pub team: u16,
    pub region: u16,
}

/// Where an opportunity stands now (a reopened opportunity is open again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Open,
    Won,
    Lost,
}

/// One opportunity, in its current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpportunityFact {
    pub id: OpportunityId,
    /// Index into [`Facts::reps`]: the owner.
    pub rep: u32,
    pub territory: u16,
    pub product_line: u16,
    pub source: u16,
    pub segment: u16,
    /// The day the opportunity was created (decides the period of "created" cohorts).
    pub created_on: Date,
    /// The day the sales cycle started (the buyer's first engagement, else `created_on`).
    pub cycle_start: Date,
    pub outcome: Outcome,
    /// The day it was won or lost; `None` while open.
    pub closed_on: Option<Date>,
    /// Amount in minor units of the reporting currency.
    pub amount: i64,
    pub loss_reason: u16,
}

/// A visit's result in field sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    NotHome,
    NoInterest,
    Callback,
    Sale,
}

/// One logged activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityFact {
    pub id: ActivityId,
    pub rep: u32,
    pub kind: ActivityKind,
    /// The local day the activity took place.
    pub on: Date,
    /// Talk time of a call (0 for other kinds).
    pub duration_seconds: u32,
    /// Only for visits.
    pub visit_outcome: Option<VisitOutcome>,
    /// The territory (walking area for field visits), or [`NONE`].
    pub territory: u16,
}

/// One lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadFact {
    pub id: LeadId,
    pub rep: u32,
    pub territory: u16,
    pub source: u16,
    pub segment: u16,
    pub created_on: Date,
    /// Whether the lead ever reached qualified (or was converted), whatever it is now.
    pub qualified: bool,
    /// Minutes from creation to the first follow-up activity; `None` while nobody followed up.
    pub follow_up_minutes: Option<u32>,
}

/// One quote (proposal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteFact {
    pub id: QuoteId,
    /// Index into [`Facts::opportunities`]: the quote is sliced like its opportunity.
    pub opportunity: u32,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// The local day the quote was sent (decides its period).
    pub sent_on: Option<Date>,
    pub status: QuoteStatus,
}

/// One order (what a won opportunity turns into).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFact {
    pub id: OrderId,
    /// Index into [`Facts::opportunities`].
    pub opportunity: u32,
    pub ordered_on: Date,
    pub installed_on: Option<Date>,
    pub cancelled_on: Option<Date>,
    /// Installation visits that did not finish the job.
    pub failed_installations: u16,
}

/// A rep's quota for the period that starts on `starts_on` (a month or a quarter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaFact {
    pub rep: u32,
    pub starts_on: Date,
    /// Minor units of the reporting currency.
    pub amount: i64,
}

/// One record created by hand by a rep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataEntryFact {
    pub rep: u32,
    pub on: Date,
}

/// A stage in a pipeline, for the funnel and the process map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageFact {
    pub id: StageId,
    pub name: String,
    /// Position in the pipeline; won and lost stages come after the open ones.
    pub order: i32,
    pub kind: model::StageKind,
    /// A parking stage outside the forward flow (nurture); moving there is a loop back.
    pub nurture: bool,
}

/// One stage change of an opportunity. The first entry of an opportunity has no `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageChangeFact {
    /// Index into the opportunities the funnel is given.
    pub opportunity: u32,
    /// Index into the stages, `None` for the opportunity's first stage.
    pub from: Option<u16>,
    pub to: u16,
    pub at: Timestamp,
}

impl Facts {
    /// No records at all, in `currency`; sources that are normally present are empty, optional
    /// ones absent.
    pub fn empty(currency: Currency) -> Facts {
        Facts {
            currency,
            reps: Vec::new(),
            opportunities: Vec::new(),
            activities: Vec::new(),
            leads: None,
            quotes: None,
            orders: None,
            quotas: None,
            data_entries: None,
        }
    }
}

/// Maps the caller's keys (team ids, lead-source names, segment labels, user ids) to the dense
/// small integers the facts use, and back for labelling results.
#[derive(Debug, Clone)]
pub struct DenseKeys<K> {
    keys: Vec<K>,
    positions: std::collections::HashMap<K, u32>,
}

impl<K: std::hash::Hash + Eq + Clone> Default for DenseKeys<K> {
    fn default() -> Self {
        DenseKeys { keys: Vec::new(), positions: std::collections::HashMap::new() }
    }
}

impl<K: std::hash::Hash + Eq + Clone> DenseKeys<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The dense key of `key`, assigning the next one when it is new.
    pub fn key(&mut self, key: &K) -> u32 {
        if let Some(&position) = self.positions.get(key) {
            return position;
        }
        let position = self.keys.len() as u32;
        self.keys.push(key.clone());
        self.positions.insert(key.clone(), position);
        position
    }

    /// Like [`key`](Self::key) for a dimension value (a `u16`), or `None` beyond 65,534 values
    /// ([`NONE`] is reserved).
    pub fn small_key(&mut self, key: &K) -> Option<u16> {
        let position = self.key(key);
        u16::try_from(position).ok().filter(|p| *p != NONE)
    }

    /// The dense key of `key`, if it has one.
    pub fn get(&self, key: &K) -> Option<u32> {
        self.positions.get(key).copied()
    }

    /// The caller's key behind a dense key (to label a slice).
    pub fn label(&self, position: u32) -> Option<&K> {
        self.keys.get(position as usize)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_keys_round_trip() {
        let mut sources = DenseKeys::new();
        assert_eq!(sources.small_key(&"web".to_string()), Some(0));
        assert_eq!(sources.small_key(&"fair".to_string()), Some(1));
        assert_eq!(sources.small_key(&"web".to_string()), Some(0));
        assert_eq!(sources.label(1).map(String::as_str), Some("fair"));
        assert_eq!((sources.get(&"tv".to_string()), sources.len()), (None, 2));
    }
}
