//! Sales planning engines: territories and their rules, territory balancing, quotas and capacity.
//!
//! Pure: no I/O, no clock, no global randomness; dates, seeds and data are arguments.
//!
//! - [`balance`]: assign sales units to reps within workload bounds at least distance or
//!   disruption; exact MIP for small and medium instances, Lagrangian heuristic with a proven
//!   lower bound for large ones; before/after fairness figures and the Pareto front.
//! - [`rules`]: territory rules (geography, postal ranges, industry, size, named accounts) with
//!   priorities, a hierarchy and effective-dated versions; assignment with the reason, coverage
//!   gaps and overlaps, and the "coin sort" of past sales into a draft design.
//! - [`quota`]: top-down quota allocation in exact money with remainder-safe rounding, monthly
//!   seasonality, ramp for new hires and a bottom-up capacity check.
//! - [`capacity`]: reps needed for a target, a month-by-month hiring plan and what-if comparison.

pub mod balance;
pub mod capacity;
pub mod quota;
pub mod rules;

use serde::Serialize;

/// A finding about messy input that did not stop the calculation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// How serious the finding is.
    pub severity: Severity,
    /// A sentence a sales-ops person can read.
    pub message: String,
}

/// Severity of a [`Diagnostic`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Severity {
    /// Worth knowing; nothing was excluded.
    Info,
    /// Something was excluded or adjusted.
    Warning,
}

impl Diagnostic {
    /// An informational finding.
    pub fn info(message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Info, message: message.into() }
    }

    /// A finding where data was excluded or adjusted.
    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, message: message.into() }
    }
}
