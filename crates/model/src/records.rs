//! The organisation and commercial records as plain data, shared by the demo generator, the
//! store (row <-> record) and the application layer.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::{
    AccountId, ActivityId, ContactId, Currency, Email, LeadId, Locale, LossReasonId, Money, OpportunityId, PipelineId,
    RegionId, Role, StageId, TeamId, TimeZoneName, UserId, ValueError,
};

/// A market the company sells in (Benelux, Nordics, Poland, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub id: RegionId,
    pub code: String,
    pub name: String,
    pub currency: Currency,
    pub time_zone: TimeZoneName,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub region_id: Option<RegionId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub team_id: Option<TeamId>,
    pub manager_id: Option<UserId>,
    pub region_id: Option<RegionId>,
    pub time_zone: TimeZoneName,
    pub locale: Locale,
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Open,
    Won,
    Lost,
}

impl StageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Open => "open",
            StageKind::Won => "won",
            StageKind::Lost => "lost",
        }
    }
    pub fn parse(s: &str) -> Result<StageKind, ValueError> {
        match s {
            "open" => Ok(StageKind::Open),
            "won" => Ok(StageKind::Won),
            "lost" => Ok(StageKind::Lost),
            _ => Err(ValueError::new("kind", format!("'{s}' is not open, won or lost"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub id: StageId,
    pub pipeline_id: PipelineId,
    pub name: String,
    pub position: i32,
    /// Win probability in percent (0..=100).
    pub probability: i32,
    pub kind: StageKind,
    /// Opportunity fields that must be filled in to leave this stage (see [`EXIT_FIELDS`]).
    pub exit_criteria: Vec<String>,
}

/// The opportunity fields a stage can require before an opportunity may leave it.
pub const EXIT_FIELDS: &[&str] = &["amount", "close_date", "next_step", "engaged_on", "lead_source"];

impl Stage {
    /// Parses a comma-separated exit-criteria list, refusing unknown field names.
    pub fn parse_exit_criteria(s: &str) -> Result<Vec<String>, ValueError> {
        let mut out: Vec<String> = vec![];
        for f in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let is_score = f.strip_prefix("score:").is_some_and(|k| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
            if !EXIT_FIELDS.contains(&f) && !is_score {
                return Err(ValueError::new(
                    "exit_criteria",
                    format!(
                        "'{f}' is not a field a stage can require (one of {}, or score:<criterion> of the scorecard)",
                        EXIT_FIELDS.join(", ")
                    ),
                ));
            }
            if !out.iter().any(|x| x == f) {
                out.push(f.to_string());
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    pub id: PipelineId,
    pub name: String,
    pub stages: Vec<Stage>,
    /// The qualification methodology ("meddic", "spin", "bant", "custom" or "").
    pub methodology: String,
    /// Its scorecard: what every opportunity of the pipeline is scored on.
    pub criteria: Vec<Criterion>,
}

/// One line of a qualification scorecard (e.g. MEDDIC's "Economic buyer"). Opportunities score
/// it 0 (unknown), 1 (weak), 2 (confirmed) or 3 (strong); an exit criterion `score:<key>` needs
/// at least 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub id: i64,
    pub key: String,
    pub label: String,
}

/// The score an exit criterion `score:<key>` requires.
pub const SCORE_TO_PASS: i32 = 2;

/// The criteria of the built-in methodologies: (key, English label).
pub fn methodology_criteria(name: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match name {
        "meddic" => &[
            ("metrics", "Metrics"),
            ("economic_buyer", "Economic buyer"),
            ("decision_criteria", "Decision criteria"),
            ("decision_process", "Decision process"),
            ("identify_pain", "Identify pain"),
            ("champion", "Champion"),
        ],
        "spin" => &[
            ("situation", "Situation"),
            ("problem", "Problem"),
            ("implication", "Implication"),
            ("need_payoff", "Need-payoff"),
        ],
        "bant" => &[("budget", "Budget"), ("authority", "Authority"), ("need", "Need"), ("timeline", "Timeline")],
        "custom" => &[],
        _ => return None,
    })
}

/// Forecast categories (F3): where a rep places an opportunity in their call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecastCategory {
    Pipeline,
    BestCase,
    Commit,
    Closed,
    Omitted,
}

impl ForecastCategory {
    pub const ALL: [ForecastCategory; 5] = [
        ForecastCategory::Pipeline,
        ForecastCategory::BestCase,
        ForecastCategory::Commit,
        ForecastCategory::Closed,
        ForecastCategory::Omitted,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ForecastCategory::Pipeline => "pipeline",
            ForecastCategory::BestCase => "best_case",
            ForecastCategory::Commit => "commit",
            ForecastCategory::Closed => "closed",
            ForecastCategory::Omitted => "omitted",
        }
    }
    pub fn parse(s: &str) -> Result<ForecastCategory, ValueError> {
        ForecastCategory::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ValueError::new("forecast_category", format!("'{s}' is not a forecast category")))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub industry: String,
    pub employees: i32,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub region_id: Option<RegionId>,
    pub city: String,
    pub postal_code: String,
    pub time_zone: TimeZoneName,
    pub owner_id: UserId,
    pub parent_id: Option<AccountId>,
    pub currency: Currency,
    pub created_at: Timestamp,
    /// The key of this account in the system it was imported from (idempotent re-imports).
    pub external_id: Option<String>,
    /// Web domain, normalised (lowercase, no scheme or `www.`): a duplicate-detection key.
    pub domain: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opportunity {
    pub id: OpportunityId,
    pub name: String,
    pub account_id: AccountId,
    pub owner_id: UserId,
    pub pipeline_id: PipelineId,
    pub stage_id: StageId,
    pub amount: Money,
    pub close_date: Date,
    pub forecast_category: ForecastCategory,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub external_id: Option<String>,
    /// Percent; None means the stage's probability.
    pub probability: Option<i32>,
    pub loss_reason_id: Option<LossReasonId>,
    pub lead_source: Option<String>,
    pub next_step: Option<String>,
    /// The day the buyer first engaged: the start of the sales cycle (created_at when None).
    pub engaged_on: Option<Date>,
    /// When the current stage was entered.
    pub stage_entered_at: Timestamp,
}

/// One stage change of an opportunity (C2): the history behind time-in-stage, funnels and cycle
/// length. The first entry of an opportunity has no `from_stage_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageChange {
    pub opportunity_id: OpportunityId,
    pub from_stage_id: Option<StageId>,
    pub to_stage_id: StageId,
    pub at: Timestamp,
    pub actor_user_id: Option<UserId>,
}

/// A managed reason for losing an opportunity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossReason {
    pub id: LossReasonId,
    pub name: String,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub external_id: Option<String>,
    pub account_id: Option<AccountId>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: String,
    pub owner_id: UserId,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub id: LeadId,
    pub external_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: String,
    pub campaign: String,
    pub status: LeadStatus,
    pub disqualify_reason: Option<String>,
    pub owner_id: UserId,
    pub created_at: Timestamp,
    pub converted_at: Option<Timestamp>,
    pub account_id: Option<AccountId>,
    pub contact_id: Option<ContactId>,
    pub opportunity_id: Option<OpportunityId>,
}

/// A call, e-mail, meeting, task, note or field visit. Calls carry a duration; visits an
/// address and an outcome (not home, no interest, callback, sale).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: ActivityId,
    pub external_id: Option<String>,
    pub kind: ActivityKind,
    pub subject: String,
    pub at: Timestamp,
    pub duration_seconds: Option<i64>,
    pub outcome: Option<String>,
    pub address: Option<String>,
    pub owner_id: UserId,
    pub account_id: Option<AccountId>,
    pub contact_id: Option<ContactId>,
    pub lead_id: Option<LeadId>,
    pub opportunity_id: Option<OpportunityId>,
}

/// The kinds of activity a rep logs (C1). `Visit` is a field visit (door-to-door, field sales).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityKind {
    Call,
    Email,
    Meeting,
    Task,
    Note,
    Visit,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 6] = [
        ActivityKind::Call,
        ActivityKind::Email,
        ActivityKind::Meeting,
        ActivityKind::Task,
        ActivityKind::Note,
        ActivityKind::Visit,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Call => "call",
            ActivityKind::Email => "email",
            ActivityKind::Meeting => "meeting",
            ActivityKind::Task => "task",
            ActivityKind::Note => "note",
            ActivityKind::Visit => "visit",
        }
    }
    pub fn parse(s: &str) -> Result<ActivityKind, ValueError> {
        ActivityKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ValueError::new("kind", format!("'{s}' is not call, email, meeting, task, note or visit")))
    }
}

/// Where a lead is in its lifecycle (L5). Nurture is the loop of the seeds: a lead that is not
/// ready goes to nurture and can re-enter (back to `Working`) later; the history keeps every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeadStatus {
    New,
    Working,
    Nurture,
    Qualified,
    Disqualified,
    Converted,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 6] = [
        LeadStatus::New,
        LeadStatus::Working,
        LeadStatus::Nurture,
        LeadStatus::Qualified,
        LeadStatus::Disqualified,
        LeadStatus::Converted,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Working => "working",
            LeadStatus::Nurture => "nurture",
            LeadStatus::Qualified => "qualified",
            LeadStatus::Disqualified => "disqualified",
            LeadStatus::Converted => "converted",
        }
    }
    pub fn parse(s: &str) -> Result<LeadStatus, ValueError> {
        LeadStatus::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            ValueError::new(
                "status",
                format!("'{s}' is not new, working, nurture, qualified, disqualified or converted"),
            )
        })
    }
    /// The lifecycle moves a user may make by hand (conversion has its own action).
    pub fn can_move_to(self, to: LeadStatus) -> bool {
        use LeadStatus::*;
        match (self, to) {
            (Converted, _) | (_, Converted) | (_, New) => false,
            (a, b) if a == b => false,
            _ => true,
        }
    }
}
