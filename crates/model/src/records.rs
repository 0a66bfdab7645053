//! The organisation and commercial records as plain data, shared by the demo generator, the
//! store (row <-> record) and the application layer.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::{
    AccountId, Currency, Email, Locale, Money, OpportunityId, PipelineId, RegionId, Role, StageId, TeamId,
    TimeZoneName, UserId, ValueError,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    pub id: PipelineId,
    pub name: String,
    pub stages: Vec<Stage>,
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
}
