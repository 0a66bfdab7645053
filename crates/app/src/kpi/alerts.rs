//! Trend alerts (A4) brought to users: the scan of the `kpi` crate over the records the caller
//! may see (a preview), and the daily run over the whole company that stores one notification
//! per alert and reader:
//!
//! - a change company-wide or in a region: the head of commercial ops and the sales-ops managers;
//! - a change in a region: also the sales managers of that region;
//! - a change of one rep: the rep and every manager above them.
//!
//! A run is stored once per as-of date (running it again changes nothing), so several `serve`
//! processes or a cron job and the scheduler never notify twice.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;
use kpi::alerts::{Scan, ScanOptions, Scope, scan};
use model::{Role, UserId, Visibility};
use serde::{Deserialize, Serialize};
use store::{AuditContext, Viewer};

use super::Loaded;
use crate::{App, AppError, Principal};

/// One significant change, labelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertView {
    /// KPI name (`win_rate`).
    pub kpi: String,
    /// `share` (rates are 0..1) or `count` (rates are events per day).
    pub unit: String,
    /// `company`, `region` or `rep`.
    pub level: String,
    /// The region's or rep's id.
    pub scope_id: Option<i64>,
    /// The region's or rep's name; empty for the company.
    pub scope_name: String,
    pub baseline_rate: f64,
    pub recent_rate: f64,
    pub z: f64,
    pub p_value: f64,
    /// Worse than the baseline (lower, or higher where lower is better).
    pub worse: bool,
    /// The reps that drove a change of a share, with their mix and rate effects (percentage
    /// points of the overall rate).
    pub drivers: Vec<DriverView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverView {
    pub user_id: i64,
    pub name: String,
    pub mix: f64,
    pub rate: f64,
}

/// A scan with labels: the windows compared and what changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertReport {
    pub as_of: Date,
    pub baseline_from: Date,
    pub baseline_to: Date,
    pub recent_from: Date,
    pub recent_to: Date,
    pub tested: usize,
    pub untested: usize,
    pub alerts: Vec<AlertView>,
}

/// What one notification says (stored as JSON; written out in the reader's language).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertNotice {
    pub as_of: Date,
    pub recent_from: Date,
    pub recent_to: Date,
    pub baseline_from: Date,
    pub baseline_to: Date,
    pub alert: AlertView,
}

/// The outcome of a daily run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRunOutcome {
    pub run_id: i64,
    /// False when a run for this date existed already (nothing was written).
    pub created: bool,
    pub report: AlertReport,
    pub notifications: usize,
}

/// Who may start the company-wide run.
fn runs_alerts(p: &Principal) -> bool {
    p.can(model::Permission::AdministerOrganisation)
        || matches!(p.role(), Role::HeadOfCommercialOps | Role::SalesOpsManager)
}

impl Loaded {
    fn label_scan(&self, as_of: Date, s: &Scan) -> AlertReport {
        let rep_user = |k: u32| self.reps.label(k).copied();
        let user_name = |u: Option<UserId>| u.and_then(|u| self.user_names.get(&u).cloned()).unwrap_or_default();
        let alerts = s
            .alerts
            .iter()
            .map(|a| {
                let (level, scope_id, scope_name) = match a.scope {
                    Scope::Company => ("company", None, String::new()),
                    Scope::Region(k) => {
                        let id = self.regions.label(k).copied();
                        let name = id.and_then(|r| self.region_names.get(&r).cloned()).unwrap_or_default();
                        ("region", id.map(|r| r.0), name)
                    }
                    Scope::Rep(k) => {
                        let id = rep_user(k);
                        ("rep", id.map(|u| u.0), user_name(id))
                    }
                };
                AlertView {
                    kpi: a.kpi.name().to_string(),
                    unit: if a.kpi.unit() == kpi::Unit::Count { "count" } else { "share" }.to_string(),
                    level: level.to_string(),
                    scope_id,
                    scope_name,
                    baseline_rate: a.baseline_rate,
                    recent_rate: a.recent_rate,
                    z: a.z,
                    p_value: a.p_value,
                    worse: a.worse,
                    drivers: a
                        .drivers
                        .iter()
                        .filter_map(|d| {
                            let id = rep_user(d.rep)?;
                            Some(DriverView { user_id: id.0, name: user_name(Some(id)), mix: d.mix, rate: d.rate })
                        })
                        .collect(),
                }
            })
            .collect();
        AlertReport {
            as_of,
            baseline_from: s.baseline_from,
            baseline_to: s.baseline_to,
            recent_from: s.recent_from,
            recent_to: s.recent_to,
            tested: s.tested,
            untested: s.untested,
            alerts,
        }
    }
}

/// Parses an as-of date (`YYYY-MM-DD`).
pub fn parse_as_of(text: &str) -> Result<Date, AppError> {
    text.trim().parse().map_err(|_| AppError::invalid("as_of", format!("'{text}' is not a date (YYYY-MM-DD)")))
}

impl App {
    /// Today in the company's time zone: the default as-of date of a scan.
    pub async fn alerts_today(&self) -> Result<Date, AppError> {
        Ok(self.now().to_zoned(self.company_zone().await?).date())
    }

    /// The hour of the day in the company's time zone (when the daily run may start).
    pub async fn alerts_local_hour(&self) -> Result<i8, AppError> {
        Ok(self.now().to_zoned(self.company_zone().await?).hour())
    }

    async fn alerts_report(&self, viewer: &Viewer, as_of: Date) -> Result<AlertReport, AppError> {
        let calendar = self.fiscal_calendar().await?;
        let loaded = self.kpi_load(viewer, None).await?;
        let (s, _) = scan(&loaded.facts, &calendar, as_of, &ScanOptions::default())
            .map_err(|e| AppError::invalid("as_of", e.to_string()))?;
        Ok(loaded.label_scan(as_of, &s))
    }

    /// The scan over the records `p` may see (a rep: their own figures; a manager: the team),
    /// without storing or notifying anything.
    pub async fn alerts_scan(&self, p: &Principal, as_of: Option<Date>) -> Result<AlertReport, AppError> {
        let as_of = match as_of {
            Some(d) => d,
            None => self.alerts_today().await?,
        };
        let mut report = self.alerts_report(&self.viewer(p).await?, as_of).await?;
        if p.role().visibility() == Visibility::Own {
            // A rep's "company" and "region" are their own figures again.
            report.alerts.retain(|a| a.level == "rep");
        }
        Ok(report)
    }

    /// The company-wide run for `as_of`: stores the scan and one notification per alert and
    /// reader. `p` is `None` for the scheduler (audited as the system). Idempotent per date.
    pub async fn alerts_run(&self, p: Option<&Principal>, as_of: Option<Date>) -> Result<AlertRunOutcome, AppError> {
        if let Some(p) = p {
            if !runs_alerts(p) {
                return Err(AppError::Forbidden);
            }
            p.require_write_credential()?;
        }
        let as_of = match as_of {
            Some(d) => d,
            None => self.alerts_today().await?,
        };
        let all = Viewer { user_id: UserId(0), visibility: Visibility::All, subtree: None };
        let report = self.alerts_report(&all, as_of).await?;
        let users = self.all_users().await?;
        let users: Vec<&model::User> = users.iter().filter(|u| u.active).collect();
        let manager_of: HashMap<UserId, UserId> =
            users.iter().filter_map(|u| u.manager_id.map(|m| (u.id, m))).collect();
        let ops: Vec<UserId> = users
            .iter()
            .filter(|u| matches!(u.role, Role::HeadOfCommercialOps | Role::SalesOpsManager))
            .map(|u| u.id)
            .collect();
        let mut readers: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, a) in report.alerts.iter().enumerate() {
            let mut to: BTreeSet<UserId> = BTreeSet::new();
            match a.level.as_str() {
                "company" => to.extend(&ops),
                "region" => {
                    to.extend(&ops);
                    to.extend(
                        users
                            .iter()
                            .filter(|u| u.role == Role::SalesManager && u.region_id.map(|r| r.0) == a.scope_id)
                            .map(|u| u.id),
                    );
                }
                _ => {
                    if let Some(rep) = a.scope_id.map(UserId) {
                        to.insert(rep);
                        let mut at = rep;
                        let mut hops = 0;
                        while let Some(m) = manager_of.get(&at) {
                            if !to.insert(*m) || hops > 64 {
                                break;
                            }
                            at = *m;
                            hops += 1;
                        }
                    }
                }
            }
            for u in to {
                readers.entry(u.0).or_default().push(i);
            }
        }
        let mut notifications = Vec::new();
        for (user, alerts) in &readers {
            for i in alerts {
                let notice = AlertNotice {
                    as_of,
                    recent_from: report.recent_from,
                    recent_to: report.recent_to,
                    baseline_from: report.baseline_from,
                    baseline_to: report.baseline_to,
                    alert: report.alerts[*i].clone(),
                };
                let data = serde_json::to_string(&notice).map_err(|e| AppError::Internal(e.to_string()))?;
                notifications.push((*user, data));
            }
        }
        let ctx = match p {
            Some(p) => p.audit(self.now()),
            None => AuditContext::system(self.now()),
        };
        let json = serde_json::to_string(&report).map_err(|e| AppError::Internal(e.to_string()))?;
        let (run_id, created) = self
            .store
            .alert_run_save(
                &ctx,
                &as_of.to_string(),
                report.tested as i64,
                report.alerts.len() as i64,
                &json,
                &notifications,
            )
            .await?;
        if !created {
            let report = self.alert_run_report(run_id).await?;
            return Ok(AlertRunOutcome { run_id, created, report, notifications: 0 });
        }
        Ok(AlertRunOutcome { run_id, created, report, notifications: notifications.len() })
    }

    /// A stored run's labelled report (the webhook body).
    pub async fn alert_run_report(&self, run: i64) -> Result<AlertReport, AppError> {
        let stored = self.store.alert_run(run).await?;
        serde_json::from_str(&stored.report).map_err(|e| AppError::Internal(format!("alert run {run}: {e}")))
    }

    /// The caller's notifications, newest first, with the unread count.
    pub async fn notifications(&self, p: &Principal, limit: i64) -> Result<(Vec<NoticeRow>, i64), AppError> {
        let rows = self.store.notifications(p.user.id.0, limit.clamp(1, 500)).await?;
        let unread = self.store.notifications_unread(p.user.id.0).await?;
        let rows = rows
            .into_iter()
            .map(|r| {
                let notice: AlertNotice = serde_json::from_str(&r.data)
                    .map_err(|e| AppError::Internal(format!("notification {}: {e}", r.id)))?;
                Ok(NoticeRow { id: r.id, created_at: r.created_at, read: r.read_at.is_some(), notice })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok((rows, unread))
    }

    /// Marks one notification (or all) of the caller read.
    pub async fn notifications_read(&self, p: &Principal, id: Option<i64>) -> Result<u64, AppError> {
        p.require_write_credential()?;
        Ok(self.store.notifications_mark_read(&p.audit(self.now()), p.user.id.0, id).await?)
    }

    pub async fn webhooks(&self, p: &Principal) -> Result<Vec<store::WebhookRow>, AppError> {
        p.require(model::Permission::AdministerOrganisation)?;
        Ok(self.store.webhooks().await?)
    }

    /// Adds a webhook (administrators): an `http://` or `https://` URL and a secret of at least
    /// 16 characters used to sign every delivery.
    pub async fn webhook_create(&self, p: &Principal, url: &str, secret: &str) -> Result<i64, AppError> {
        p.require(model::Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let url = url.trim();
        let ok = (url.starts_with("http://") || url.starts_with("https://"))
            && url.len() > 10
            && url.len() <= 2000
            && !url.chars().any(char::is_whitespace);
        if !ok {
            return Err(AppError::invalid("url", "an http:// or https:// address"));
        }
        if secret.chars().count() < 16 || secret.len() > 200 {
            return Err(AppError::invalid("secret", "between 16 and 200 characters"));
        }
        Ok(self.store.webhook_create(&p.audit(self.now()), url, secret).await?)
    }

    pub async fn webhook_delete(&self, p: &Principal, id: i64) -> Result<(), AppError> {
        p.require(model::Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        Ok(self.store.webhook_delete(&p.audit(self.now()), id).await?)
    }
}

/// A notification as the reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeRow {
    pub id: i64,
    pub created_at: jiff::Timestamp,
    pub read: bool,
    pub notice: AlertNotice,
}
