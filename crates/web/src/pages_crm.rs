//! CRM pages: the opportunity with its stage history, activities and stage-move form; leads
//! with their lifecycle, duplicates, conversion and merge.

use askama::Template;
use axum::extract::{Path, Query, State};

use crate::AppState;
use crate::auth::{FormAuth, PageAuth};
use crate::pages::{
    ListQuery, OrPage, PageError, PageResult, count_label, pager, parse_id, query_suffix, render, see_other, shell,
    shell_flash,
};
use crate::pages_admin::error_text;
use app::{
    ActivityInput, AppError, ConvertInput, LeadInput, LeadStatusInput, MoveInput, Principal, missing_exit_fields,
    page_bounds,
};
use model::{ActivityKind, LeadId, LeadStatus, OpportunityId, StageKind};
use store::LeadFilter;

/// Turns a user error into an inline message on the re-rendered page; anything else is an
/// error page.
fn inline(e: AppError, p: &Principal) -> Result<(String, axum::http::StatusCode), PageError> {
    match e {
        e @ (AppError::Invalid { .. } | AppError::Conflict(_) | AppError::Refused(_)) => {
            Ok((error_text(&e), crate::error::status_of(&e)))
        }
        e => Err(PageError::new(e, Some(p))),
    }
}

pub struct HistoryView {
    from: String,
    to: String,
    kind: String,
    at: String,
    by: String,
}

pub struct ActivityView {
    kind: &'static str,
    kind_label: String,
    subject: String,
    at: String,
    detail: String,
    owner: String,
}

fn activity_view(t: &crate::i18n::Tr, a: &store::ActivityRow) -> ActivityView {
    let mut detail = vec![];
    if let Some(d) = a.activity.duration_seconds {
        detail.push(t.t1("minutes", "n", (d + 59) / 60));
    }
    if let Some(o) = &a.activity.outcome {
        detail.push(t.t(&format!("outcome-{}", o.replace('_', "-"))));
    }
    if let Some(addr) = &a.activity.address {
        detail.push(addr.clone());
    }
    ActivityView {
        kind: a.activity.kind.as_str(),
        kind_label: t.t(&format!("activity-{}", a.activity.kind.as_str())),
        subject: a.activity.subject.clone(),
        at: t.ts(a.activity.at),
        detail: detail.join(" · "),
        owner: a.owner_name.clone(),
    }
}

#[derive(Template)]
#[template(path = "opportunity.html")]
struct OpportunityPage {
    shell: crate::pages::Shell,
    id: i64,
    name: String,
    account_id: i64,
    account: String,
    stage: String,
    kind: &'static str,
    amount: String,
    amount_reporting: String,
    reporting_code: String,
    probability: i32,
    owner: String,
    pipeline: String,
    close_date: String,
    forecast_category: String,
    next_step: String,
    lead_source: String,
    engaged_on: String,
    loss_reason: String,
    in_stage: String,
    created: String,
    updated: String,
    /// (id, label, is current)
    stages: Vec<(i64, String, bool)>,
    exit_note: String,
    loss_reasons: Vec<(i64, String)>,
    history: Vec<HistoryView>,
    activities: Vec<ActivityView>,
    kinds: Vec<(&'static str, String)>,
    /// (key, label, score, note)
    scorecard: Vec<(String, String, i32, String)>,
    methodology: String,
    score_labels: Vec<(i32, String)>,
    can_write: bool,
    error: Option<String>,
    commerce: crate::pages_commerce::CommercePanels,
}

/// How an exit criterion reads in the user's language: a field name, or a scorecard line.
fn exit_label(t: &crate::i18n::Tr, pipeline: &model::Pipeline, f: &str) -> String {
    match f.strip_prefix("score:") {
        Some(key) => {
            let label = pipeline.criteria.iter().find(|c| c.key == key).map_or(key, |c| c.label.as_str());
            t.t1("exit-score", "criterion", label)
        }
        None => t.t(&format!("field-{}", f.replace('_', "-"))),
    }
}

/// What the user typed into the move form, shown again when the move is refused.
struct MoveForm {
    stage_id: i64,
    next_step: String,
}

async fn opportunity_page(
    state: &AppState,
    p: &Principal,
    id: i64,
    error: Option<String>,
    done: Option<&str>,
    form: Option<MoveForm>,
) -> PageResult {
    let sh = shell_flash(p, "opportunities", done);
    let d = state.app.opportunity_detail(p, OpportunityId(id)).await.or_page(p)?;
    let mut candidate = d.row.opportunity.clone();
    if let Some(f) = &form {
        candidate.next_step = Some(f.next_step.clone()).filter(|s| !s.trim().is_empty());
    }
    let o = &candidate;
    let chosen_stage = form.as_ref().map_or(o.stage_id.0, |f| f.stage_id);
    let fx = state.app.store.fx_table().await.map_err(AppError::from).or_page(p)?;
    let reporting = state.app.store.reporting_currency().await.map_err(AppError::from).or_page(p)?;
    let today = state.app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let converted = fx.convert(o.amount, reporting, o.close_date.min(today));
    let current = d.pipeline.stages.iter().find(|s| s.id == o.stage_id);
    let scores = state.app.store.opportunity_scores(OpportunityId(id)).await.map_err(AppError::from).or_page(p)?;
    let missing = current.map(|s| missing_exit_fields(s, o, &d.pipeline, &scores)).unwrap_or_default();
    let exit_note = match current {
        Some(s) if !s.exit_criteria.is_empty() && s.kind == StageKind::Open => {
            let fields: Vec<String> = s.exit_criteria.iter().map(|f| exit_label(&sh.t, &d.pipeline, f)).collect();
            let still: Vec<String> = missing.iter().map(|f| exit_label(&sh.t, &d.pipeline, f)).collect();
            if still.is_empty() {
                sh.t.t1("exit-criteria-met", "fields", fields.join(", "))
            } else {
                sh.t.t1("exit-criteria-missing", "fields", still.join(", "))
            }
        }
        _ => String::new(),
    };
    let reasons = state.app.loss_reasons().await.or_page(p)?;
    let in_days = (state.app.now().as_second() - o.stage_entered_at.as_second()).max(0) / 86_400;
    let commerce =
        crate::pages_commerce::panels(state, p, OpportunityId(id), o.amount.currency, &sh.t).await.or_page(p)?;
    let view = OpportunityPage {
        id,
        name: o.name.clone(),
        account_id: o.account_id.0,
        account: d.row.account_name.clone(),
        stage: d.row.stage_name.clone(),
        kind: d.row.stage_kind.as_str(),
        amount: sh.t.money(&o.amount),
        amount_reporting: match converted {
            Ok(m) => sh.t.money(&m.rounded()),
            Err(_) => sh.t.t("no-fx-rate"),
        },
        reporting_code: reporting.code().to_string(),
        probability: d.row.probability(),
        owner: d.row.owner_name.clone(),
        pipeline: d.pipeline.name.clone(),
        close_date: sh.t.date(o.close_date),
        forecast_category: sh.t.t(&format!("forecast-{}", o.forecast_category.as_str().replace('_', "-"))),
        next_step: o.next_step.clone().unwrap_or_default(),
        lead_source: o.lead_source.clone().unwrap_or_default(),
        engaged_on: o.engaged_on.map(|d| sh.t.date(d)).unwrap_or_default(),
        loss_reason: d.row.loss_reason.clone().unwrap_or_default(),
        in_stage: sh.t.count("days-count", in_days),
        created: sh.t.ts(o.created_at),
        updated: sh.t.ts(o.updated_at),
        stages: d
            .pipeline
            .stages
            .iter()
            .map(|s| {
                let label = match s.kind {
                    StageKind::Open => s.name.clone(),
                    k => format!("{} ({})", s.name, sh.t.t(&format!("stage-kind-{}", k.as_str()))),
                };
                (s.id.0, label, s.id.0 == chosen_stage)
            })
            .collect(),
        exit_note,
        loss_reasons: reasons.into_iter().filter(|r| r.active).map(|r| (r.id.0, r.name)).collect(),
        history: d
            .history
            .iter()
            .map(|h| HistoryView {
                from: h.from_stage.clone().unwrap_or_default(),
                to: h.to_stage.clone(),
                kind: h.to_kind.clone(),
                at: sh.t.ts(h.at),
                by: match (&h.actor_name, h.source.as_str()) {
                    (Some(n), _) => n.clone(),
                    (None, src) => sh.t.t(&format!("source-{src}")),
                },
            })
            .rev()
            .collect(),
        activities: d.activities.iter().map(|a| activity_view(&sh.t, a)).collect(),
        kinds: ActivityKind::ALL.iter().map(|k| (k.as_str(), sh.t.t(&format!("activity-{}", k.as_str())))).collect(),
        scorecard: d
            .pipeline
            .criteria
            .iter()
            .map(|c| {
                let s = scores.iter().find(|s| s.criterion_id == c.id);
                (
                    c.key.clone(),
                    c.label.clone(),
                    s.map_or(0, |s| s.score),
                    s.map(|s| s.note.clone()).unwrap_or_default(),
                )
            })
            .collect(),
        methodology: d.pipeline.methodology.to_uppercase(),
        score_labels: (0..=3).map(|n| (n, sh.t.t(&format!("score-{n}")))).collect(),
        can_write: p.can(model::Permission::WriteRecords),
        error,
        commerce,
        shell: sh,
    };
    Ok(render(&view))
}

pub async fn opportunity_score(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let mut input = vec![];
    for (k, v) in &f.form {
        if let Some(key) = k.strip_prefix("score_") {
            let score =
                v.trim().parse::<i32>().map_err(|_| AppError::invalid("score", "must be a number")).or_page(p)?;
            let note = f.get(&format!("note_{key}")).to_string();
            input.push(app::ScoreInput { key: key.to_string(), score, note });
        }
    }
    input.sort_by(|a, b| a.key.cmp(&b.key));
    match state.app.score_opportunity(p, OpportunityId(id), &input).await {
        Ok(()) => Ok(see_other(&format!("/opportunities/{id}?done=saved"))),
        Err(e) => {
            let (msg, status) = inline(e, p)?;
            let mut r = opportunity_page(&state, p, id, Some(msg), None, None).await?;
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

pub async fn opportunity(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Path(raw): Path<String>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let id = parse_id(&p, &raw)?;
    opportunity_page(&state, &p, id, q.error.clone(), q.done.as_deref(), None).await
}

pub async fn opportunity_move(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let input = MoveInput {
        stage_id: f.id("stage_id").or_page(p)?.unwrap_or(0),
        loss_reason_id: f.id("loss_reason_id").or_page(p)?,
        next_step: Some(f.get("next_step").to_string()),
    };
    match state.app.move_opportunity(p, OpportunityId(id), &input).await {
        Ok(_) => Ok(see_other(&format!("/opportunities/{id}?done=saved"))),
        Err(e) => {
            let t = crate::pages::tr_of(p);
            let msg = match &e {
                // "to leave 'Qualification' fill in: next_step, amount" -> the user's language.
                AppError::Invalid { field, message } if field == "exit_criteria" => {
                    let fields: Vec<String> = message
                        .rsplit_once("fill in: ")
                        .map(|(_, f)| {
                            f.split(", ")
                                .map(|f| match f.strip_prefix("score:") {
                                    Some(k) => t.t1("exit-score", "criterion", k),
                                    None => t.t(&format!("field-{}", f.replace('_', "-"))),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    Some(t.t1("exit-criteria-missing", "fields", fields.join(", ")))
                }
                _ => None,
            };
            let (text, status) = inline(e, p)?;
            let form = MoveForm { stage_id: input.stage_id, next_step: input.next_step.clone().unwrap_or_default() };
            let mut r = opportunity_page(&state, p, id, Some(msg.unwrap_or(text)), None, Some(form)).await?;
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

pub async fn activity_create(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let opportunity_id = f.id("opportunity_id").or_page(p)?;
    let lead_id = f.id("lead_id").or_page(p)?;
    let duration_minutes = f.id("duration_minutes").or_page(p)?;
    let input = ActivityInput {
        kind: f.get("kind").into(),
        subject: f.get("subject").into(),
        at: None,
        duration_minutes,
        outcome: Some(f.get("outcome").into()),
        address: Some(f.get("address").into()),
        opportunity_id,
        account_id: None,
        lead_id,
    };
    let back = match (opportunity_id, lead_id) {
        (Some(o), _) => format!("/opportunities/{o}"),
        (None, Some(l)) => format!("/leads/{l}"),
        _ => "/".to_string(),
    };
    match state.app.log_activity(p, &input).await {
        Ok(_) => Ok(see_other(&format!("{back}?done=saved"))),
        Err(e) => {
            let (msg, status) = inline(e, p)?;
            let mut r = match (opportunity_id, lead_id) {
                (Some(o), _) => opportunity_page(&state, p, o, Some(msg), None, None).await?,
                (None, Some(l)) => lead_page(&state, p, l, Some(msg), None).await?,
                _ => return Err(PageError::new(AppError::invalid("opportunity_id", msg), Some(p))),
            };
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

// ---- leads ----------------------------------------------------------------------------------

pub struct LeadView {
    id: i64,
    name: String,
    company: String,
    email: String,
    status: &'static str,
    status_label: String,
    source: String,
    owner: String,
    created: String,
}

#[derive(Template)]
#[template(path = "leads.html")]
struct LeadsPage {
    shell: crate::pages::Shell,
    total_label: String,
    q: String,
    status: String,
    statuses: Vec<(&'static str, String)>,
    rows: Vec<LeadView>,
    pager: crate::pages::Pager,
    can_write: bool,
    sorter: crate::pages::Sorter,
}

fn status_label(t: &crate::i18n::Tr, s: &str) -> String {
    t.t(&format!("lead-status-{s}"))
}

pub async fn leads(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<ListQuery>) -> PageResult {
    let sh = shell_flash(&p, "leads", q.done.as_deref());
    let (limit, offset) = page_bounds(q.limit, q.offset).or_page(&p)?;
    let status = q.status.clone().unwrap_or_default();
    let st =
        if status.is_empty() { None } else { Some(LeadStatus::parse(&status).map_err(AppError::from).or_page(&p)?) };
    let filters = query_suffix(&[("q", q.q.clone().unwrap_or_default()), ("status", status.clone())]);
    let sorter = crate::pages::Sorter::new("/leads", store::SortList::Leads, &q, &filters).or_page(&p)?;
    let f = LeadFilter { q: q.q.clone(), status: st, sort: sorter.current.clone(), ..Default::default() };
    let page = state.app.leads(&p, &f, limit, offset).await.or_page(&p)?;
    let suffix = format!("{filters}{}", sorter.suffix());
    let view = LeadsPage {
        total_label: count_label(&sh.t, page.total, page.total_exact),
        q: q.q.unwrap_or_default(),
        statuses: LeadStatus::ALL.iter().map(|s| (s.as_str(), status_label(&sh.t, s.as_str()))).collect(),
        status,
        rows: page
            .items
            .iter()
            .map(|l| LeadView {
                id: l.lead.id.0,
                name: format!("{} {}", l.lead.first_name, l.lead.last_name).trim().to_string(),
                company: l.lead.company.clone(),
                email: l.lead.email.clone().unwrap_or_default(),
                status: l.lead.status.as_str(),
                status_label: status_label(&sh.t, l.lead.status.as_str()),
                source: l.lead.source.clone(),
                owner: l.owner_name.clone(),
                created: sh.t.date(l.lead.created_at.to_zoned(p.user.time_zone.tz()).date()),
            })
            .collect(),
        pager: pager(&sh.t, "/leads", &suffix, (page.total, page.total_exact, page.items.len()), limit, offset),
        can_write: p.can(model::Permission::WriteRecords),
        sorter,
        shell: sh,
    };
    Ok(render(&view))
}

#[derive(Template)]
#[template(path = "lead_new.html")]
struct LeadNewPage {
    shell: crate::pages::Shell,
    first_name: String,
    last_name: String,
    company: String,
    email: String,
    phone: String,
    source: String,
    campaign: String,
    error: Option<String>,
    duplicates: bool,
}

pub async fn lead_new(PageAuth(p): PageAuth) -> PageResult {
    p.require(model::Permission::WriteRecords).or_page(&p)?;
    let view = LeadNewPage {
        shell: shell(&p, "leads"),
        first_name: String::new(),
        last_name: String::new(),
        company: String::new(),
        email: String::new(),
        phone: String::new(),
        source: String::new(),
        campaign: String::new(),
        error: None,
        duplicates: false,
    };
    Ok(render(&view))
}

pub async fn lead_create(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let input = LeadInput {
        first_name: f.get("first_name").into(),
        last_name: f.get("last_name").into(),
        company: f.get("company").into(),
        email: Some(f.get("email").into()),
        phone: Some(f.get("phone").into()),
        source: Some(f.get("source").into()),
        campaign: Some(f.get("campaign").into()),
        allow_duplicate: f.get("allow_duplicate") == "on",
    };
    match state.app.create_lead(p, &input).await {
        Ok(id) => Ok(see_other(&format!("/leads/{id}?done=saved"))),
        Err(e) => {
            let duplicates = matches!(e, AppError::Conflict(_));
            let (msg, status) = inline(e, p)?;
            let view = LeadNewPage {
                shell: shell(p, "leads"),
                first_name: input.first_name,
                last_name: input.last_name,
                company: input.company,
                email: input.email.unwrap_or_default(),
                phone: input.phone.unwrap_or_default(),
                source: input.source.unwrap_or_default(),
                campaign: input.campaign.unwrap_or_default(),
                error: Some(msg),
                duplicates,
            };
            let mut r = render(&view);
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

pub struct LeadHistoryView {
    from: String,
    to: String,
    reason: String,
    at: String,
    by: String,
}

pub struct DuplicateView {
    id: i64,
    name: String,
    company: String,
    email: String,
    reason: String,
    status: String,
}

#[derive(Template)]
#[template(path = "lead.html")]
struct LeadPage {
    shell: crate::pages::Shell,
    id: i64,
    name: String,
    company: String,
    email: String,
    phone: String,
    source: String,
    campaign: String,
    status: &'static str,
    status_label: String,
    disqualify_reason: String,
    owner: String,
    created: String,
    merged_into: Option<i64>,
    converted: Option<(i64, Option<i64>)>,
    /// Lifecycle moves offered from the current status: (status, label).
    moves: Vec<(&'static str, String)>,
    can_convert: bool,
    history: Vec<LeadHistoryView>,
    duplicates: Vec<DuplicateView>,
    activities: Vec<ActivityView>,
    kinds: Vec<(&'static str, String)>,
    can_write: bool,
    error: Option<String>,
}

async fn lead_page(state: &AppState, p: &Principal, id: i64, error: Option<String>, done: Option<&str>) -> PageResult {
    let sh = shell_flash(p, "leads", done);
    let (row, history, dups) = state.app.lead(p, LeadId(id)).await.or_page(p)?;
    let l = &row.lead;
    let f = store::ActivityFilter { lead_id: Some(id), ..Default::default() };
    let activities = state.app.activities(p, &f, 100, 0).await.or_page(p)?.items;
    let tz = p.user.time_zone.tz();
    let open = row.merged_into_id.is_none() && l.status != LeadStatus::Converted;
    let view = LeadPage {
        id,
        name: format!("{} {}", l.first_name, l.last_name).trim().to_string(),
        company: l.company.clone(),
        email: l.email.clone().unwrap_or_default(),
        phone: l.phone.clone().unwrap_or_default(),
        source: l.source.clone(),
        campaign: l.campaign.clone(),
        status: l.status.as_str(),
        status_label: status_label(&sh.t, l.status.as_str()),
        disqualify_reason: l.disqualify_reason.clone().unwrap_or_default(),
        owner: row.owner_name.clone(),
        created: sh.t.date(l.created_at.to_zoned(tz).date()),
        merged_into: row.merged_into_id,
        converted: l
            .account_id
            .filter(|_| l.status == LeadStatus::Converted)
            .map(|a| (a.0, l.opportunity_id.map(|o| o.0))),
        moves: if open {
            [LeadStatus::Working, LeadStatus::Qualified, LeadStatus::Nurture, LeadStatus::Disqualified]
                .into_iter()
                .filter(|s| l.status.can_move_to(*s))
                .map(|s| (s.as_str(), sh.t.t(&format!("lead-action-{}", s.as_str()))))
                .collect()
        } else {
            vec![]
        },
        can_convert: open && l.status != LeadStatus::Disqualified,
        history: history
            .iter()
            .rev()
            .map(|h| LeadHistoryView {
                from: h.from_status.as_deref().map(|s| status_label(&sh.t, s)).unwrap_or_default(),
                to: status_label(&sh.t, &h.to_status),
                reason: h.reason.clone().unwrap_or_default(),
                at: sh.t.ts(h.at),
                by: h.actor_name.clone().unwrap_or_else(|| sh.t.t("source-import")),
            })
            .collect(),
        duplicates: dups
            .iter()
            .map(|d| DuplicateView {
                id: d.lead_id,
                name: d.name.clone(),
                company: d.company.clone(),
                email: d.email.clone().unwrap_or_default(),
                reason: sh.t.t(&format!("duplicate-{}", d.reason.replace('_', "-"))),
                status: status_label(&sh.t, &d.status),
            })
            .collect(),
        activities: activities.iter().map(|a| activity_view(&sh.t, a)).collect(),
        kinds: ActivityKind::ALL.iter().map(|k| (k.as_str(), sh.t.t(&format!("activity-{}", k.as_str())))).collect(),
        can_write: p.can(model::Permission::WriteRecords),
        error,
        shell: sh,
    };
    Ok(render(&view))
}

pub async fn lead(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Path(raw): Path<String>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let id = parse_id(&p, &raw)?;
    lead_page(&state, &p, id, None, q.done.as_deref()).await
}

async fn lead_result<T>(state: &AppState, p: &Principal, id: i64, r: Result<T, AppError>) -> PageResult {
    match r {
        Ok(_) => Ok(see_other(&format!("/leads/{id}?done=saved"))),
        Err(e) => {
            let (msg, status) = inline(e, p)?;
            let mut r = lead_page(state, p, id, Some(msg), None).await?;
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

pub async fn lead_status(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let input = LeadStatusInput { status: f.get("status").into(), reason: Some(f.get("reason").into()) };
    let r = state.app.set_lead_status(p, LeadId(id), &input).await;
    lead_result(&state, p, id, r).await
}

pub async fn lead_convert(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let input = ConvertInput {
        account_id: f.id("account_id").or_page(p)?,
        create_opportunity: f.get("create_opportunity") == "on",
        pipeline_id: None,
        opportunity_name: Some(f.get("opportunity_name").into()),
        amount: Some(f.get("amount").into()),
        close_date: Some(f.get("close_date").into()),
    };
    match state.app.convert_lead(p, LeadId(id), &input).await {
        Ok((_, _, Some(o))) => Ok(see_other(&format!("/opportunities/{o}?done=saved"))),
        Ok((a, _, None)) => Ok(see_other(&format!("/accounts/{a}"))),
        Err(e) => lead_result::<()>(&state, p, id, Err(e)).await,
    }
}

pub async fn lead_merge(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let gone = f.id("merge_id").or_page(p)?.unwrap_or(0);
    let r = state.app.merge_leads(p, LeadId(id), LeadId(gone)).await;
    lead_result(&state, p, id, r).await
}

// ---- sales process administration -----------------------------------------------------------

pub struct StageAdminView {
    id: i64,
    name: String,
    kind: &'static str,
    probability: i32,
    exit: String,
}

#[derive(Template)]
#[template(path = "admin_process.html")]
struct ProcessPage {
    shell: crate::pages::Shell,
    /// (pipeline id, name, methodology, criteria labels, stages)
    pipelines: Vec<(i64, String, String, String, Vec<StageAdminView>)>,
    methodologies: Vec<(&'static str, String)>,
    fields: String,
    reasons: Vec<(i64, String, bool)>,
    error: Option<String>,
}

async fn process_page(state: &AppState, p: &Principal, error: Option<String>, done: Option<&str>) -> PageResult {
    p.require(model::Permission::AdministerOrganisation).or_page(p)?;
    let sh = shell_flash(p, "process", done);
    let pipelines = state.app.store.pipeline_list().await.map_err(AppError::from).or_page(p)?;
    let reasons = state.app.loss_reasons().await.or_page(p)?;
    let view = ProcessPage {
        pipelines: pipelines
            .into_iter()
            .map(|pl| {
                let stages = pl
                    .stages
                    .iter()
                    .map(|s| StageAdminView {
                        id: s.id.0,
                        name: s.name.clone(),
                        kind: s.kind.as_str(),
                        probability: s.probability,
                        exit: s.exit_criteria.join(", "),
                    })
                    .collect();
                let criteria =
                    pl.criteria.iter().map(|c| format!("{} (score:{})", c.label, c.key)).collect::<Vec<_>>().join(", ");
                (pl.id.0, pl.name, pl.methodology, criteria, stages)
            })
            .collect(),
        methodologies: ["meddic", "spin", "bant", "custom"]
            .into_iter()
            .map(|m| (m, sh.t.t(&format!("methodology-{m}"))))
            .collect(),
        fields: model::EXIT_FIELDS.join(", "),
        reasons: reasons.into_iter().map(|r| (r.id.0, r.name, r.active)).collect(),
        error,
        shell: sh,
    };
    Ok(render(&view))
}

pub async fn process(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<ListQuery>) -> PageResult {
    process_page(&state, &p, None, q.done.as_deref()).await
}

async fn process_result<T>(state: &AppState, p: &Principal, r: Result<T, AppError>) -> PageResult {
    match r {
        Ok(_) => Ok(see_other("/admin/sales-process?done=saved")),
        Err(e) => {
            let (msg, status) = inline(e, p)?;
            let mut r = process_page(state, p, Some(msg), None).await?;
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

pub async fn stage_exit_criteria(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let r = state.app.set_exit_criteria(p, id, f.get("exit_criteria")).await;
    process_result(&state, p, r).await
}

pub async fn methodology_save(State(state): State<AppState>, Path(raw): Path<String>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = parse_id(p, &raw)?;
    let add: Vec<String> = f.get("add").split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
    let input = app::MethodologyInput { methodology: f.get("methodology").into(), add };
    let r = state.app.set_methodology(p, id, &input).await;
    process_result(&state, p, r).await
}

pub async fn loss_reason_save(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = f.id("id").or_page(p)?;
    let active = id.is_none() || f.get("active") == "on";
    let r = state.app.save_loss_reason(p, id, f.get("name"), active).await;
    process_result(&state, p, r).await
}
