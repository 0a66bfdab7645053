//! Use cases: everything a user can do, independent of HTTP. Each use case checks the caller's
//! permissions, validates input into model types, and calls the store (which audits writes in
//! the same transaction). The clock is injected ([`Clock`]) so tests control "now".
//!
//! Main types: [`App`] (the handle web and CLI hold), [`Principal`] (an authenticated caller),
//! [`AppError`] (user errors with stable codes, and internal errors).

mod auth;
mod commerce;
mod comp;
mod comp_ops;
mod crm;
mod demo_load;
mod error;
mod forecast;
mod forecast_calls;
mod import;
mod jobs;
mod kpi;
mod kpi_rollup;
mod org;
mod pipeline_forecast;
pub mod planning;
pub mod territories;

use std::sync::Arc;

use jiff::Timestamp;

pub use self::forecast::{
    ForecastPoint, Grain, HistoryPoint, MAX_HORIZON, SeriesForecast, SeriesInput, SeriesInputError, check_horizon,
    forecast_input, next_period_labels, parse_series_csv, parse_slice,
};
pub use self::forecast_calls::{
    Accuracy, AccuracyRow, Call, CallAccuracy, CallCategory, CallNode, CallRollup, CallSettings, CallSource,
    CategoryAmounts, RollupMethod, SnapshotOutcome, StepKind, Submission, Waterfall, WaterfallOpportunity,
    WaterfallStep, parse_call_period,
};
pub use crate::kpi::{AlertNotice, AlertReport, AlertRunOutcome, AlertView, DriverView, NoticeRow, parse_as_of};
pub use crate::kpi::{
    DrillRecord, FlowReport, KpiCell, KpiDrill, KpiQuery, KpiReport, KpiRequest, KpiRow, SliceValue, kpi_names,
    plain_value,
};
pub use crate::pipeline_forecast::{
    BacktestGrain, BacktestRowView, BacktestSummary, BacktestView, CalibrationView, Deal, PipelineData,
    PipelineForecastView, PipelineOpportunity, ReliabilityRow, ScoreView, SegmentView, StageInfo, forecast_options,
    parse_day, parse_forecast_period, parse_method, parse_seed, parse_segmentation,
};
pub use ::comp as comp_engine;
pub use ::forecast::pipeline as pipeline_engine;
pub use ::kpi as kpi_engine;
pub use auth::{LoginOutcome, NewToken, SESSION_IDLE, hash_password, random_hex, token_hash, verify_password};
pub use commerce::{
    LineInput, OrderDetail, OrderInput, OrderStepInput, PriceBookInput, PriceInput, ProductInput, QuoteInput,
    QuoteStatusInput, decimal,
};
pub use comp::{PlansView, RunOutcome, bookings_to_transactions, explanation_json, parse_period};
pub use comp_ops::{
    ADJUSTMENT_REASONS, AdjustmentInput, ComparedLine, DISPUTE_STATES, HoldInput, RunComparison, state_from_json,
    state_json,
};
pub use crm::{
    ActivityInput, ConvertInput, LeadInput, LeadStatusInput, MethodologyInput, MoveInput, OpportunityDetail,
    ScoreInput, default_forecast, missing_exit_fields,
};
pub use demo_load::{DemoSummary, load_demo};
pub use error::AppError;
pub use import::{ImportOptions, ImportReport};
pub use jobs::{ImportJob, JobHandle, JobState};
pub use kpi_rollup::{FULL_REBUILD_ABOVE, RefreshSummary};
pub use org::{AmountTotal, MAX_PAGE, NewUserInput, UserPatchInput, page_bounds};
pub use store;

use model::{Permission, Role, TokenScope, User};
use store::{AuditContext, Store, Viewer};

/// Source of "now"; the only place the application reads the clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stays where a test puts it.
pub struct FixedClock(pub std::sync::Mutex<Timestamp>);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone)]
pub struct App {
    pub store: Store,
    clock: Arc<dyn Clock>,
    running: Arc<jobs::Running>,
}

impl App {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> App {
        App { store, clock, running: Arc::default() }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// What the caller may read, resolved for this request.
    pub async fn viewer(&self, p: &Principal) -> Result<Viewer, AppError> {
        Ok(self.store.viewer(p.user.id, p.user.role.visibility()).await?)
    }
}

/// How the caller authenticated.
#[derive(Debug, Clone)]
pub enum Credential {
    Session {
        token_hash: String,
        csrf_token: String,
    },
    Token {
        id: model::ApiTokenId,
        scope: TokenScope,
    },
    /// The command line, run by an operator with access to the database, acting as a user.
    Cli,
}

/// An authenticated caller: the user, how they came in, and from where.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub credential: Credential,
    pub ip: Option<String>,
}

impl Principal {
    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn audit(&self, at: Timestamp) -> AuditContext {
        AuditContext {
            actor_user_id: Some(self.user.id),
            actor_token_id: match self.credential {
                Credential::Token { id, .. } => Some(id),
                Credential::Session { .. } | Credential::Cli => None,
            },
            ip: self.ip.clone(),
            at,
        }
    }

    pub fn can(&self, p: Permission) -> bool {
        self.user.role.has(p)
    }

    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        if self.can(p) { Ok(()) } else { Err(AppError::Forbidden) }
    }

    /// Writes need a session or a write-scoped token.
    pub fn require_write_credential(&self) -> Result<(), AppError> {
        match self.credential {
            Credential::Token { scope: TokenScope::Read, .. } => Err(AppError::Forbidden),
            _ => Ok(()),
        }
    }
}
