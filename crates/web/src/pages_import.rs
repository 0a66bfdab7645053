//! The import page: upload a CSV (and optionally a mapping file), check it (dry run) and see
//! every problem with its line, column and value, then import it all or nothing.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{FromRequest, Multipart, Request, State};

use crate::AppState;
use crate::auth::{PageAuth, same_secret};
use crate::pages::{OrPage, PageError, PageResult, Shell, render, see_other, shell};
use app::{AppError, ImportJob, ImportOptions, ImportReport, JobState, Principal};
use model::Permission;

/// Largest upload the page accepts.
pub const MAX_UPLOAD: usize = 512 * 1024 * 1024;

/// A signed-in user's multipart form with a verified CSRF field (which must come first).
pub struct UploadAuth {
    pub principal: Principal,
    pub fields: HashMap<String, String>,
    pub files: HashMap<String, (String, Vec<u8>)>,
}

impl FromRequest<AppState> for UploadAuth {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = req.into_parts();
        let PageAuth(principal) =
            <PageAuth as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, state).await?;
        let p = principal.clone();
        let bad = move |m: String| PageError::new(AppError::invalid("file", m), Some(&p));
        let app::Credential::Session { csrf_token, .. } = &principal.credential else {
            return Err(PageError::new(AppError::Forbidden, Some(&principal)));
        };
        let csrf_token = csrf_token.clone();
        let mut mp =
            Multipart::from_request(Request::from_parts(parts, body), state).await.map_err(|e| bad(e.body_text()))?;
        let mut fields = HashMap::new();
        let mut files = HashMap::new();
        let mut checked = false;
        while let Some(field) = mp.next_field().await.map_err(|e| bad(e.body_text()))? {
            let name = field.name().unwrap_or("").to_string();
            if !checked && name != "csrf" {
                return Err(PageError::new(AppError::Csrf, Some(&principal)));
            }
            match field.file_name().map(str::to_string) {
                Some(file_name) => {
                    let bytes = field.bytes().await.map_err(|e| bad(e.body_text()))?;
                    files.insert(name, (file_name, bytes.to_vec()));
                }
                None => {
                    let text = field.text().await.map_err(|e| bad(e.body_text()))?;
                    if name == "csrf" {
                        if !same_secret(&text, &csrf_token) {
                            return Err(PageError::new(AppError::Csrf, Some(&principal)));
                        }
                        checked = true;
                    }
                    fields.insert(name, text);
                }
            }
        }
        if !checked {
            return Err(PageError::new(AppError::Csrf, Some(&principal)));
        }
        Ok(UploadAuth { principal, fields, files })
    }
}

pub struct ProblemView {
    line: u64,
    row: u64,
    column: String,
    value: String,
    message: String,
    code: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    shell: Shell,
    entity: String,
    preset: String,
    entities: Vec<(&'static str, String)>,
    presets: Vec<(&'static str, String)>,
    create_missing: bool,
    foreign_ids: bool,
    error: Option<String>,
    /// Set after a check or an import.
    result: Option<ResultView>,
    /// The user's recent import jobs.
    jobs: Vec<JobLine>,
}

pub struct ResultView {
    file: String,
    applied: bool,
    dry_run: bool,
    ok: bool,
    summary: String,
    problems: Vec<ProblemView>,
    more: String,
    ignored: String,
}

fn page(p: &Principal, entity: &str, preset: &str, create_missing: bool) -> ImportPage {
    let sh = shell(p, "import");
    ImportPage {
        entities: ["opportunities", "accounts", "contacts", "leads", "activities"]
            .into_iter()
            .map(|e| (e, sh.t.t(&format!("import-entity-{e}"))))
            .collect(),
        presets: ["", "salesforce", "hubspot", "salesops"]
            .into_iter()
            .map(|e| (e, sh.t.t(&format!("import-preset-{}", if e.is_empty() { "auto" } else { e }))))
            .collect(),
        entity: entity.into(),
        preset: preset.into(),
        create_missing,
        foreign_ids: false,
        error: None,
        result: None,
        jobs: vec![],
        shell: sh,
    }
}

pub async fn import_form(State(state): State<AppState>, PageAuth(p): PageAuth) -> PageResult {
    p.require(Permission::AdministerOrganisation).or_page(&p)?;
    let mut view = page(&p, "opportunities", "", false);
    view.jobs = recent_jobs(&state, &p, &view.shell.t).await?;
    Ok(render(&view))
}

fn result_view(t: &crate::i18n::Tr, file: &str, r: &ImportReport) -> ResultView {
    let ok = r.problem_count == 0;
    let key = match (ok, r.applied) {
        (false, _) => "import-result-problems",
        (true, true) => "import-result-applied",
        (true, false) => "import-result-checked",
    };
    let summary = t.targs(
        key,
        &[
            ("rows", t.int(r.rows_read as i64)),
            ("new", t.int(r.new as i64)),
            ("changed", t.int(r.changed as i64)),
            ("unchanged", t.int(r.unchanged as i64)),
            ("problems", r.problem_count.to_string()),
            ("problems_shown", t.int(r.problem_count as i64)),
            ("accounts", r.created_accounts.to_string()),
        ],
    );
    let more = r.problem_count.saturating_sub(r.problems.len() as u64);
    ResultView {
        file: file.to_string(),
        applied: r.applied,
        dry_run: r.dry_run,
        ok,
        summary,
        problems: r
            .problems
            .iter()
            .map(|p| ProblemView {
                line: p.line,
                row: p.row,
                column: p.column.clone().unwrap_or_default(),
                value: p.value.clone().unwrap_or_default(),
                message: p.message.clone(),
                code: p.code.to_string(),
            })
            .collect(),
        more: if more > 0 { t.t1("import-more-problems", "count", t.int(more as i64)) } else { String::new() },
        ignored: r.ignored_columns.join(", "),
    }
}

pub async fn import_submit(State(state): State<AppState>, u: UploadAuth) -> PageResult {
    let p = &u.principal;
    p.require(Permission::AdministerOrganisation).or_page(p)?;
    let get = |k: &str| u.fields.get(k).map(String::as_str).unwrap_or("");
    let entity_name = get("entity").to_string();
    let preset = get("preset").to_string();
    let create_missing = get("create_missing") == "on";
    let foreign_ids = get("foreign_ids") == "on";
    let mut view = page(p, &entity_name, &preset, create_missing);
    view.foreign_ids = foreign_ids;
    let entity = match import::Entity::parse(&entity_name) {
        Ok(e) => e,
        Err(e) => return Err(PageError::new(AppError::invalid("entity", e.reason), Some(p))),
    };
    let Some((file_name, data)) = u.files.get("file").filter(|(_, d)| !d.is_empty()) else {
        view.error = Some(view.shell.t.t("import-no-file"));
        let mut r = render(&view);
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(r);
    };
    let mapping = match u.files.get("mapping").filter(|(_, d)| !d.is_empty()) {
        Some((_, bytes)) => match String::from_utf8(bytes.clone()) {
            Ok(s) => Some(s),
            Err(_) => {
                return Err(PageError::new(AppError::invalid("mapping", "the mapping file is not UTF-8"), Some(p)));
            }
        },
        None => None,
    };
    let opts = ImportOptions {
        entity,
        preset: (!preset.is_empty()).then(|| preset.clone()),
        mapping,
        dry_run: get("mode") != "apply",
        create_missing,
        foreign_ids,
        file_name: file_name.clone(),
        max_bytes: MAX_UPLOAD as u64,
    };
    let (job, mut handle) = match state.app.start_import_job(p, data.clone(), opts).await {
        Ok(started) => started,
        Err(e) => return Err(PageError::new(e, Some(p))),
    };
    // A small file is done at once and its result shown here; a large one continues as a job
    // whose page shows the progress.
    if state.import_wait.is_zero() {
        return Ok(see_other(&format!("/import/jobs/{job}")));
    }
    let outcome = match tokio::time::timeout(state.import_wait, &mut handle).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Err(AppError::Internal("the import job stopped unexpectedly".into())),
        Err(_) => return Ok(see_other(&format!("/import/jobs/{job}"))),
    };
    match outcome {
        Ok(report) => {
            let status = if report.problem_count > 0 {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            } else {
                axum::http::StatusCode::OK
            };
            view.result = Some(result_view(&view.shell.t, file_name, &report));
            view.jobs = recent_jobs(&state, p, &view.shell.t).await?;
            let mut r = render(&view);
            *r.status_mut() = status;
            Ok(r)
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Refused(_) | AppError::Conflict(_))) => {
            view.error = Some(crate::pages_admin::error_text(&e));
            view.jobs = recent_jobs(&state, p, &view.shell.t).await?;
            let mut r = render(&view);
            *r.status_mut() = crate::error::status_of(&e);
            Ok(r)
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

/// One line of the "recent imports" table.
pub struct JobLine {
    id: i64,
    file: String,
    what: String,
    state: String,
    state_class: &'static str,
    rows: String,
    started: String,
}

async fn recent_jobs(state: &AppState, p: &Principal, t: &crate::i18n::Tr) -> Result<Vec<JobLine>, PageError> {
    let jobs = state.app.import_jobs(p, 10).await.or_page(p)?;
    Ok(jobs
        .iter()
        .map(|j| JobLine {
            id: j.id,
            file: j.file_name.clone(),
            what: job_what(t, j),
            state: job_state(t, j),
            state_class: state_class(j),
            rows: t.int(j.report.as_ref().map_or(j.rows_read, |r| r.rows_read) as i64),
            started: t.ts(j.started_at),
        })
        .collect())
}

fn job_what(t: &crate::i18n::Tr, j: &ImportJob) -> String {
    let mode = t.t(if j.dry_run { "import-job-check" } else { "import-job-apply" });
    format!("{} · {mode}", t.t(&format!("import-entity-{}", j.entity)))
}

/// The state in words; a finished job says how it ended.
fn job_state(t: &crate::i18n::Tr, j: &ImportJob) -> String {
    match (j.state, &j.report) {
        (JobState::Done, Some(r)) if r.problem_count > 0 => t.t("import-job-problems"),
        (JobState::Done, Some(r)) if r.applied => t.t("import-job-applied"),
        (JobState::Done, _) => t.t("import-job-checked"),
        (s, _) => t.t(&format!("import-job-{}", s.as_str())),
    }
}

fn state_class(j: &ImportJob) -> &'static str {
    match (j.state, &j.report) {
        (JobState::Running, _) => "open",
        (JobState::Done, Some(r)) if r.problem_count == 0 => "won",
        _ => "lost",
    }
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    shell: Shell,
    id: i64,
    file: String,
    what: String,
    state: String,
    state_class: &'static str,
    running: bool,
    percent: u64,
    progress: String,
    started: String,
    finished: String,
    error: Option<String>,
    entity: String,
    result: Option<ResultView>,
}

/// A job's page: a progress bar that refreshes itself while the job runs, then its result.
pub async fn import_job(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> PageResult {
    let j = state.app.import_job(&p, id).await.or_page(&p)?;
    let sh = shell(&p, "import");
    let t = &sh.t;
    let page = JobPage {
        id: j.id,
        file: j.file_name.clone(),
        what: job_what(t, &j),
        state: job_state(t, &j),
        state_class: state_class(&j),
        running: j.state == JobState::Running,
        percent: j.percent(),
        progress: t.targs(
            "import-job-progress",
            &[("read", t.int(j.rows_read as i64)), ("total", t.int(j.rows_total as i64))],
        ),
        started: t.ts(j.started_at),
        finished: j.finished_at.map(|f| t.ts(f)).unwrap_or_default(),
        error: match j.state {
            JobState::Failed => Some(j.error.clone().unwrap_or_default()),
            JobState::Interrupted => Some(t.t("import-job-interrupted-hint")),
            _ => None,
        },
        entity: j.entity.clone(),
        result: j.report.as_ref().map(|r| result_view(t, &j.file_name, r)),
        shell: sh,
    };
    Ok(render(&page))
}
