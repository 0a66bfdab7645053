//! CRM use cases: moving opportunities through their pipeline (exit criteria, loss reasons,
//! history), activities, and the lead lifecycle (qualify, disqualify, nurture and re-entry,
//! conversion, duplicate detection and merge).

use jiff::civil::Date;
use model::{
    Account, AccountId, Activity, ActivityId, ActivityKind, Contact, ContactId, ForecastCategory, LeadId, LeadStatus,
    LossReasonId, Money, Opportunity, OpportunityId, Permission, Pipeline, PipelineId, Stage, StageId, StageKind,
};
use serde::Deserialize;
use store::{
    ActivityFilter, ActivityRow, Conversion, DuplicateCandidate, DuplicateKeys, LeadFilter, LeadHistoryRow, LeadRow,
    NewLead, OpportunityRow, Page, StageHistoryRow, StageMove,
};

use crate::{App, AppError, Principal};

/// An opportunity with everything its detail page shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpportunityDetail {
    pub row: OpportunityRow,
    pub pipeline: Pipeline,
    pub history: Vec<StageHistoryRow>,
    pub activities: Vec<ActivityRow>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct MoveInput {
    pub stage_id: i64,
    /// Required when moving to a lost stage: one of the active loss reasons.
    pub loss_reason_id: Option<i64>,
    /// Replaces the next step (an empty string clears it); absent keeps it.
    pub next_step: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ActivityInput {
    /// call, email, meeting, task, note or visit.
    pub kind: String,
    pub subject: String,
    /// RFC 3339; defaults to now.
    pub at: Option<String>,
    pub duration_minutes: Option<i64>,
    pub outcome: Option<String>,
    pub address: Option<String>,
    pub opportunity_id: Option<i64>,
    pub account_id: Option<i64>,
    pub lead_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct LeadInput {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: Option<String>,
    pub campaign: Option<String>,
    /// Create even when possible duplicates exist.
    #[serde(default)]
    pub allow_duplicate: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct LeadStatusInput {
    /// working, nurture, qualified or disqualified.
    pub status: String,
    /// Required to disqualify.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ConvertInput {
    /// Link to this existing account instead of creating one from the lead's company.
    pub account_id: Option<i64>,
    /// Also create an opportunity (in the first stage of the pipeline).
    #[serde(default)]
    pub create_opportunity: bool,
    pub pipeline_id: Option<i64>,
    pub opportunity_name: Option<String>,
    pub amount: Option<String>,
    pub close_date: Option<String>,
}

/// What blocks an opportunity from leaving its stage: the exit-criteria fields still empty and
/// the scorecard criteria (`score:<key>`) scored below [`model::SCORE_TO_PASS`].
pub fn missing_exit_fields(
    stage: &Stage,
    o: &Opportunity,
    pipeline: &Pipeline,
    scores: &[store::ScoreRow],
) -> Vec<String> {
    stage
        .exit_criteria
        .iter()
        .filter(|f| match f.as_str() {
            "amount" => o.amount.amount.is_zero(),
            "close_date" => false,
            "next_step" => o.next_step.as_deref().is_none_or(|s| s.trim().is_empty()),
            "engaged_on" => o.engaged_on.is_none(),
            "lead_source" => o.lead_source.as_deref().is_none_or(|s| s.trim().is_empty()),
            other => match other.strip_prefix("score:") {
                Some(key) => {
                    let criterion = pipeline.criteria.iter().find(|c| c.key == key);
                    let score =
                        criterion.and_then(|c| scores.iter().find(|s| s.criterion_id == c.id)).map_or(0, |s| s.score);
                    criterion.is_some() && score < model::SCORE_TO_PASS
                }
                None => false,
            },
        })
        .cloned()
        .collect()
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ScoreInput {
    /// The criterion's key, e.g. `economic_buyer`.
    pub key: String,
    /// 0 unknown, 1 weak, 2 confirmed, 3 strong.
    pub score: i32,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct MethodologyInput {
    /// meddic, spin, bant or custom.
    pub methodology: String,
    /// Criteria to add (custom or on top of the preset), as labels; keys are derived from them.
    #[serde(default)]
    pub add: Vec<String>,
}

fn clean(field: &str, s: &str, max: usize) -> Result<String, AppError> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(AppError::invalid(field, format!("at most {max} characters")));
    }
    Ok(s.to_string())
}

fn opt(field: &str, s: Option<&str>, max: usize) -> Result<Option<String>, AppError> {
    Ok(match s.map(|s| clean(field, s, max)).transpose()? {
        Some(s) if s.is_empty() => None,
        other => other,
    })
}

impl App {
    pub(crate) fn require_writer(&self, p: &Principal) -> Result<(), AppError> {
        p.require(Permission::WriteRecords)?;
        p.require_write_credential()
    }

    pub async fn opportunity_detail(&self, p: &Principal, id: OpportunityId) -> Result<OpportunityDetail, AppError> {
        let viewer = self.viewer(p).await?;
        let row = self.store.opportunity_get(&viewer, id).await?;
        let pipeline = self
            .store
            .pipeline_list()
            .await?
            .into_iter()
            .find(|pl| pl.id == row.opportunity.pipeline_id)
            .ok_or_else(|| AppError::Internal(format!("pipeline of opportunity {id} is missing")))?;
        let history = self.store.stage_history(id).await?;
        let f = ActivityFilter { opportunity_id: Some(id.0), ..Default::default() };
        let activities = self.store.activity_list(&viewer, &f, 100, 0).await?.items;
        Ok(OpportunityDetail { row, pipeline, history, activities })
    }

    pub async fn stage_history(&self, p: &Principal, id: OpportunityId) -> Result<Vec<StageHistoryRow>, AppError> {
        self.store.opportunity_get(&self.viewer(p).await?, id).await?;
        Ok(self.store.stage_history(id).await?)
    }

    /// Moves an opportunity to another stage of its pipeline. Leaving a stage forward needs its
    /// exit criteria; losing needs an active loss reason; reopening a closed deal is allowed
    /// (the nurture loop) and, like every move, kept in the history.
    pub async fn move_opportunity(
        &self,
        p: &Principal,
        id: OpportunityId,
        input: &MoveInput,
    ) -> Result<OpportunityRow, AppError> {
        self.require_writer(p)?;
        let viewer = self.viewer(p).await?;
        let row = self.store.opportunity_get(&viewer, id).await?;
        let o = &row.opportunity;
        let pipeline = self
            .store
            .pipeline_list()
            .await?
            .into_iter()
            .find(|pl| pl.id == o.pipeline_id)
            .ok_or_else(|| AppError::Internal("pipeline missing".into()))?;
        let to = pipeline.stages.iter().find(|s| s.id == StageId(input.stage_id)).cloned().ok_or_else(|| {
            AppError::invalid(
                "stage_id",
                format!("stage {} is not a stage of pipeline '{}'", input.stage_id, pipeline.name),
            )
        })?;
        if to.id == o.stage_id {
            return Err(AppError::invalid("stage_id", format!("the opportunity is already in '{}'", to.name)));
        }
        let from = pipeline.stages.iter().find(|s| s.id == o.stage_id).cloned().unwrap_or_else(|| to.clone());
        let mut candidate = o.clone();
        if let Some(n) = &input.next_step {
            candidate.next_step = opt("next_step", Some(n), 200)?;
        }
        let forward = to.kind == StageKind::Won || (to.kind == StageKind::Open && to.position > from.position);
        if forward && from.kind == StageKind::Open {
            let scores = self.store.opportunity_scores(id).await?;
            let missing = missing_exit_fields(&from, &candidate, &pipeline, &scores);
            if !missing.is_empty() {
                return Err(AppError::Invalid {
                    field: "exit_criteria".into(),
                    message: format!("to leave '{}' fill in: {}", from.name, missing.join(", ")),
                });
            }
        }
        let loss_reason_id = if to.kind == StageKind::Lost {
            let rid = input
                .loss_reason_id
                .ok_or_else(|| AppError::invalid("loss_reason_id", "a lost opportunity needs a loss reason"))?;
            let reasons = self.store.loss_reasons().await?;
            if !reasons.iter().any(|r| r.id.0 == rid && r.active) {
                return Err(AppError::invalid("loss_reason_id", format!("{rid} is not an active loss reason")));
            }
            Some(LossReasonId(rid))
        } else {
            None
        };
        let forecast_category = match to.kind {
            StageKind::Won => ForecastCategory::Closed,
            StageKind::Lost => ForecastCategory::Omitted,
            StageKind::Open => match o.forecast_category {
                ForecastCategory::Closed | ForecastCategory::Omitted => default_forecast(to.probability),
                keep => keep,
            },
        };
        let m = StageMove { to, loss_reason_id, next_step: candidate.next_step.clone(), forecast_category };
        self.store.opportunity_move(&p.audit(self.now()), o, &m).await?;
        Ok(self.store.opportunity_get(&viewer, id).await?)
    }

    pub async fn loss_reasons(&self) -> Result<Vec<model::LossReason>, AppError> {
        Ok(self.store.loss_reasons().await?)
    }

    pub async fn save_loss_reason(
        &self,
        p: &Principal,
        id: Option<i64>,
        name: &str,
        active: bool,
    ) -> Result<LossReasonId, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let name = clean("name", name, 80)?;
        if name.is_empty() {
            return Err(AppError::invalid("name", "must not be empty"));
        }
        let r = model::LossReason { id: LossReasonId(id.unwrap_or(0)), name, active };
        Ok(self.store.loss_reason_save(&p.audit(self.now()), &r).await?)
    }

    pub async fn set_exit_criteria(&self, p: &Principal, stage_id: i64, fields: &str) -> Result<(), AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let fields = Stage::parse_exit_criteria(fields)?;
        let stage = self
            .store
            .pipeline_list()
            .await?
            .into_iter()
            .flat_map(|pl| pl.stages)
            .find(|s| s.id.0 == stage_id)
            .ok_or(AppError::NotFound)?;
        let pipeline = self.store.pipeline_list().await?.into_iter().find(|pl| pl.id == stage.pipeline_id);
        for f in &fields {
            if let Some(key) = f.strip_prefix("score:")
                && !pipeline.as_ref().is_some_and(|pl| pl.criteria.iter().any(|c| c.key == key))
            {
                return Err(AppError::invalid(
                    "exit_criteria",
                    format!("'{key}' is not a criterion of this pipeline's scorecard"),
                ));
            }
        }
        Ok(self.store.stage_set_exit_criteria(&p.audit(self.now()), &stage, &fields).await?)
    }

    /// Chooses a pipeline's qualification methodology; its criteria (and any `add`ed ones) are
    /// added to the scorecard.
    pub async fn set_methodology(
        &self,
        p: &Principal,
        pipeline_id: i64,
        input: &MethodologyInput,
    ) -> Result<(), AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let name = input.methodology.trim().to_lowercase();
        let preset = model::methodology_criteria(&name)
            .ok_or_else(|| AppError::invalid("methodology", format!("'{name}' is not meddic, spin, bant or custom")))?;
        let pipeline = self
            .store
            .pipeline_list()
            .await?
            .into_iter()
            .find(|pl| pl.id.0 == pipeline_id)
            .ok_or(AppError::NotFound)?;
        let mut add: Vec<(String, String)> = preset.iter().map(|(k, l)| (k.to_string(), l.to_string())).collect();
        for label in &input.add {
            let label = clean("add", label, 80)?;
            let key: String = label
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
                .split('_')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join("_");
            if key.is_empty() {
                return Err(AppError::invalid("add", format!("'{label}' needs letters or digits")));
            }
            add.push((key, label));
        }
        Ok(self.store.scorecard_set(&p.audit(self.now()), &pipeline, &name, &add).await?)
    }

    /// The scorecard of an opportunity: its pipeline's criteria with the scores given so far.
    pub async fn scorecard(
        &self,
        p: &Principal,
        id: OpportunityId,
    ) -> Result<(Pipeline, Vec<store::ScoreRow>), AppError> {
        let row = self.store.opportunity_get(&self.viewer(p).await?, id).await?;
        let pipeline = self
            .store
            .pipeline_list()
            .await?
            .into_iter()
            .find(|pl| pl.id == row.opportunity.pipeline_id)
            .ok_or_else(|| AppError::Internal("pipeline missing".into()))?;
        Ok((pipeline, self.store.opportunity_scores(id).await?))
    }

    /// Scores an opportunity on its pipeline's criteria (0 unknown .. 3 strong).
    pub async fn score_opportunity(
        &self,
        p: &Principal,
        id: OpportunityId,
        input: &[ScoreInput],
    ) -> Result<(), AppError> {
        self.require_writer(p)?;
        let (pipeline, _) = self.scorecard(p, id).await?;
        let mut scores = vec![];
        for s in input {
            let c = pipeline.criteria.iter().find(|c| c.key == s.key.trim()).ok_or_else(|| {
                AppError::invalid("key", format!("'{}' is not a criterion of pipeline '{}'", s.key, pipeline.name))
            })?;
            if !(0..=3).contains(&s.score) {
                return Err(AppError::invalid("score", "must be 0 (unknown), 1 (weak), 2 (confirmed) or 3 (strong)"));
            }
            scores.push((c.id, s.score, clean("note", &s.note, 200)?));
        }
        Ok(self.store.opportunity_scores_set(&p.audit(self.now()), id, &scores).await?)
    }

    pub async fn activities(
        &self,
        p: &Principal,
        f: &ActivityFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<ActivityRow>, AppError> {
        Ok(self.store.activity_list(&self.viewer(p).await?, f, limit, offset).await?)
    }

    /// Logs an activity for the signed-in user; linked records must be visible to them.
    pub async fn log_activity(&self, p: &Principal, input: &ActivityInput) -> Result<ActivityId, AppError> {
        self.require_writer(p)?;
        let viewer = self.viewer(p).await?;
        let kind = ActivityKind::parse(input.kind.trim())?;
        let subject = clean("subject", &input.subject, 200)?;
        if subject.is_empty() {
            return Err(AppError::invalid("subject", "must not be empty"));
        }
        let at = match input.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => s.parse().map_err(|_| AppError::invalid("at", format!("'{s}' is not an RFC 3339 time")))?,
            None => self.now(),
        };
        let duration_seconds = match input.duration_minutes {
            Some(m) if !(0..=24 * 60).contains(&m) => {
                return Err(AppError::invalid("duration_minutes", "must be between 0 and 1440"));
            }
            m => m.map(|m| m * 60),
        };
        let mut account_id = input.account_id.map(AccountId);
        if let Some(o) = input.opportunity_id {
            let row = self
                .store
                .opportunity_get(&viewer, OpportunityId(o))
                .await
                .map_err(|_| AppError::invalid("opportunity_id", format!("opportunity {o} does not exist")))?;
            account_id = account_id.or(Some(row.opportunity.account_id));
        }
        if let Some(a) = account_id {
            self.store
                .account_get(&viewer, a)
                .await
                .map_err(|_| AppError::invalid("account_id", format!("account {a} does not exist")))?;
        }
        if let Some(l) = input.lead_id {
            self.store
                .lead_get(&viewer, LeadId(l))
                .await
                .map_err(|_| AppError::invalid("lead_id", format!("lead {l} does not exist")))?;
        }
        let a = Activity {
            id: ActivityId(0),
            external_id: None,
            kind,
            subject,
            at,
            duration_seconds,
            outcome: opt("outcome", input.outcome.as_deref(), 80)?,
            address: opt("address", input.address.as_deref(), 200)?,
            owner_id: p.user.id,
            account_id,
            contact_id: None,
            lead_id: input.lead_id.map(LeadId),
            opportunity_id: input.opportunity_id.map(OpportunityId),
        };
        Ok(self.store.activity_create(&p.audit(self.now()), &a).await?)
    }

    /// Contacts you may see, optionally of one account, searched and sorted.
    pub async fn contacts(
        &self,
        p: &Principal,
        f: &store::ContactFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<store::ContactRow>, AppError> {
        Ok(self.store.contact_list(&self.viewer(p).await?, f, limit, offset).await?)
    }

    pub async fn leads(
        &self,
        p: &Principal,
        f: &LeadFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<LeadRow>, AppError> {
        Ok(self.store.lead_list(&self.viewer(p).await?, f, limit, offset).await?)
    }

    /// A lead with its lifecycle history and possible duplicates.
    pub async fn lead(
        &self,
        p: &Principal,
        id: LeadId,
    ) -> Result<(LeadRow, Vec<LeadHistoryRow>, Vec<DuplicateCandidate>), AppError> {
        let row = self.store.lead_get(&self.viewer(p).await?, id).await?;
        let history = self.store.lead_history(id).await?;
        let l = &row.lead;
        let keys = DuplicateKeys::of(l.email.as_deref(), l.phone.as_deref(), &l.company);
        let dups =
            if row.merged_into_id.is_none() { self.store.lead_duplicates(&keys, Some(id)).await? } else { vec![] };
        Ok((row, history, dups))
    }

    /// Creates a lead owned by the signed-in user. Possible duplicates refuse the entry with a
    /// conflict naming them, unless `allow_duplicate` is set.
    pub async fn create_lead(&self, p: &Principal, input: &LeadInput) -> Result<LeadId, AppError> {
        self.require_writer(p)?;
        let first_name = clean("first_name", &input.first_name, 80)?;
        let last_name = clean("last_name", &input.last_name, 80)?;
        let company = clean("company", &input.company, 160)?;
        if last_name.is_empty() && company.is_empty() {
            return Err(AppError::invalid("last_name", "a lead needs a last name or a company"));
        }
        let email = match opt("email", input.email.as_deref(), 200)? {
            Some(e) => Some(
                model::dedupe::email_key(&e)
                    .ok_or_else(|| AppError::invalid("email", format!("'{e}' is not an e-mail address")))?,
            ),
            None => None,
        };
        let phone = opt("phone", input.phone.as_deref(), 40)?;
        if !input.allow_duplicate {
            let keys = DuplicateKeys::of(email.as_deref(), phone.as_deref(), &company);
            let dups = self.store.lead_duplicates(&keys, None).await?;
            if !dups.is_empty() {
                let list = dups
                    .iter()
                    .map(|d| format!("lead {} ({}, {}: {})", d.lead_id, d.name, d.company, d.reason))
                    .collect::<Vec<_>>();
                return Err(AppError::Conflict(format!("possible duplicates: {}", list.join("; "))));
            }
        }
        let l = NewLead {
            first_name,
            last_name,
            company,
            email,
            phone,
            source: opt("source", input.source.as_deref(), 80)?.unwrap_or_default(),
            campaign: opt("campaign", input.campaign.as_deref(), 80)?.unwrap_or_default(),
            owner_id: p.user.id,
        };
        Ok(self.store.lead_create(&p.audit(self.now()), &l).await?)
    }

    pub async fn set_lead_status(&self, p: &Principal, id: LeadId, input: &LeadStatusInput) -> Result<(), AppError> {
        self.require_writer(p)?;
        let row = self.store.lead_get(&self.viewer(p).await?, id).await?;
        if row.merged_into_id.is_some() {
            return Err(AppError::Refused(format!("lead {id} was merged into another lead")));
        }
        let to = LeadStatus::parse(input.status.trim())?;
        if !row.lead.status.can_move_to(to) {
            return Err(AppError::invalid(
                "status",
                format!("a {} lead cannot become {}", row.lead.status.as_str(), to.as_str()),
            ));
        }
        let reason = opt("reason", input.reason.as_deref(), 200)?;
        if to == LeadStatus::Disqualified && reason.is_none() {
            return Err(AppError::invalid("reason", "disqualifying a lead needs a reason"));
        }
        Ok(self.store.lead_set_status(&p.audit(self.now()), &row.lead, to, reason.as_deref()).await?)
    }

    /// Converts a lead into account + contact (+ opportunity) in one step.
    pub async fn convert_lead(
        &self,
        p: &Principal,
        id: LeadId,
        input: &ConvertInput,
    ) -> Result<(AccountId, ContactId, Option<OpportunityId>), AppError> {
        self.require_writer(p)?;
        let viewer = self.viewer(p).await?;
        let row = self.store.lead_get(&viewer, id).await?;
        let l = &row.lead;
        if matches!(l.status, LeadStatus::Converted | LeadStatus::Disqualified) || row.merged_into_id.is_some() {
            return Err(AppError::Refused(format!("a {} lead cannot be converted", l.status.as_str())));
        }
        let now = self.now();
        let region = match p.user.region_id {
            Some(r) => Some(self.store.region_get(r).await?),
            None => None,
        };
        let currency = match &region {
            Some(r) => r.currency,
            None => self.store.reporting_currency().await?,
        };
        let (existing_account, new_account) = match input.account_id {
            Some(a) => {
                self.store
                    .account_get(&viewer, AccountId(a))
                    .await
                    .map_err(|_| AppError::invalid("account_id", format!("account {a} does not exist")))?;
                (Some(AccountId(a)), None)
            }
            None => {
                if l.company.trim().is_empty() {
                    return Err(AppError::invalid("account_id", "the lead has no company: choose an existing account"));
                }
                let account = Account {
                    id: AccountId(0),
                    name: l.company.clone(),
                    industry: String::new(),
                    employees: 0,
                    country: String::new(),
                    region_id: p.user.region_id,
                    city: String::new(),
                    postal_code: String::new(),
                    time_zone: p.user.time_zone.clone(),
                    owner_id: p.user.id,
                    parent_id: None,
                    currency,
                    created_at: now,
                    external_id: None,
                    domain: l.email.as_deref().and_then(model::dedupe::domain_key),
                    phone: l.phone.clone(),
                };
                (None, Some(account))
            }
        };
        let contact = Contact {
            id: ContactId(0),
            external_id: None,
            account_id: None,
            first_name: l.first_name.clone(),
            last_name: l.last_name.clone(),
            email: l.email.clone(),
            phone: l.phone.clone(),
            title: String::new(),
            owner_id: p.user.id,
            created_at: now,
        };
        let opportunity = if input.create_opportunity {
            let pipelines = self.store.pipeline_list().await?;
            let pipeline = match input.pipeline_id {
                Some(pid) => pipelines
                    .into_iter()
                    .find(|pl| pl.id == PipelineId(pid))
                    .ok_or_else(|| AppError::invalid("pipeline_id", format!("pipeline {pid} does not exist")))?,
                None => pipelines.into_iter().next().ok_or_else(|| AppError::Refused("no pipeline exists".into()))?,
            };
            let first = pipeline
                .stages
                .iter()
                .find(|s| s.kind == StageKind::Open)
                .ok_or_else(|| AppError::Refused(format!("pipeline '{}' has no open stage", pipeline.name)))?;
            let amount = match input.amount.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(a) => {
                    let m = Money::parse(a, currency.code())?;
                    if m.amount.is_sign_negative() {
                        return Err(AppError::invalid("amount", "must not be negative"));
                    }
                    m
                }
                None => Money::zero(currency),
            };
            let close_date: Date = match input.close_date.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(d) => d
                    .parse()
                    .map_err(|_| AppError::invalid("close_date", format!("'{d}' is not a date (YYYY-MM-DD)")))?,
                None => now.to_zoned(jiff::tz::TimeZone::UTC).date().saturating_add(jiff::Span::new().days(90)),
            };
            let name = opt("opportunity_name", input.opportunity_name.as_deref(), 200)?
                .unwrap_or_else(|| format!("{} — {}", l.company, pipeline.name));
            Some(Opportunity {
                id: OpportunityId(0),
                name,
                account_id: AccountId(0),
                owner_id: p.user.id,
                pipeline_id: pipeline.id,
                stage_id: first.id,
                amount,
                close_date,
                forecast_category: default_forecast(first.probability),
                created_at: now,
                updated_at: now,
                external_id: None,
                probability: None,
                loss_reason_id: None,
                lead_source: Some(l.source.clone()).filter(|s| !s.is_empty()),
                next_step: None,
                engaged_on: Some(l.created_at.to_zoned(jiff::tz::TimeZone::UTC).date()),
                stage_entered_at: now,
            })
        } else {
            None
        };
        let c = Conversion { existing_account, new_account, contact, opportunity };
        Ok(self.store.lead_convert(&p.audit(now), l, &c).await?)
    }

    /// Merges lead `gone` into lead `keep` (both must be visible and not merged already).
    pub async fn merge_leads(&self, p: &Principal, keep: LeadId, gone: LeadId) -> Result<(), AppError> {
        self.require_writer(p)?;
        if keep == gone {
            return Err(AppError::invalid("merge_id", "a lead cannot be merged into itself"));
        }
        let viewer = self.viewer(p).await?;
        let k = self.store.lead_get(&viewer, keep).await?;
        let g = self
            .store
            .lead_get(&viewer, gone)
            .await
            .map_err(|_| AppError::invalid("merge_id", format!("lead {gone} does not exist")))?;
        if k.merged_into_id.is_some() || g.merged_into_id.is_some() {
            return Err(AppError::Refused("one of the leads was already merged".into()));
        }
        Ok(self.store.lead_merge(&p.audit(self.now()), &k.lead, &g.lead).await?)
    }
}

/// The forecast category a rep would normally pick for an open stage of this probability.
pub fn default_forecast(probability: i32) -> ForecastCategory {
    match probability {
        ..30 => ForecastCategory::Pipeline,
        30..70 => ForecastCategory::BestCase,
        _ => ForecastCategory::Commit,
    }
}
