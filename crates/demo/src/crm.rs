//! The people and the work around the deals: contacts at accounts, leads (with their lifecycle:
//! some qualified and converted, some disqualified, some in the nurture loop), and the activities
//! reps log (calls with talk time, e-mails, meetings, tasks, notes, field visits).

use model::{
    Activity, ActivityId, ActivityKind, Contact, ContactId, Lead, LeadId, LeadStatus, Opportunity, StageChange,
};
use rand::Rng;

use crate::Sizes;
use crate::accounts::{Accounts, WORK_END, WORK_START};
use crate::calendar::Calendar;
use crate::data::{NameSet, REGIONS};
use crate::opportunities::LEAD_SOURCES;
use crate::random::{DemoRng, pick, pick_weighted};

const TITLES: [&str; 8] = [
    "CEO",
    "Managing director",
    "Head of purchasing",
    "Operations manager",
    "IT manager",
    "CFO",
    "Office manager",
    "Facility manager",
];
const CAMPAIGNS: [&str; 5] = ["Spring webinar", "Trade fair autumn", "Newsletter", "Partner referral", "Website demo"];
const DISQUALIFY: [&str; 4] = ["No budget", "Too small", "Not the decision maker", "Outside our market"];
const VISIT_OUTCOMES: [(&str, f64); 4] =
    [("not_home", 35.0), ("no_interest", 35.0), ("callback", 18.0), ("sale", 12.0)];
const CALL_OUTCOMES: [(&str, f64); 3] = [("connected", 55.0), ("voicemail", 30.0), ("no_answer", 15.0)];

pub(crate) struct Crm {
    pub contacts: Vec<Contact>,
    pub leads: Vec<Lead>,
    pub activities: Vec<Activity>,
}

fn person(rng: &mut DemoRng, accs: &Accounts, a: usize) -> (String, String) {
    let names: &&NameSet = pick_weighted(rng, REGIONS[accs.meta[a].region].people);
    let female = rng.random_bool(0.45);
    let first = if female { pick(rng, names.female) } else { pick(rng, names.male) };
    let mut last = pick(rng, names.last).to_string();
    if female && names.feminine_surnames && last.ends_with("ki") {
        last.truncate(last.len() - 1);
        last.push('a');
    }
    (first.to_string(), last)
}

fn email(first: &str, last: &str, domain: Option<&str>) -> Option<String> {
    let local: String = format!("{first}.{last}")
        .to_lowercase()
        .chars()
        .map(|c| model::dedupe::company_key(&c.to_string()).chars().next().unwrap_or('x'))
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    domain.map(|d| format!("{local}@{d}"))
}

pub(crate) fn build(
    sizes: &Sizes,
    accs: &Accounts,
    opportunities: &[Opportunity],
    history: &[StageChange],
    cal: &Calendar,
    rng: &mut DemoRng,
) -> Crm {
    let today = cal.today();
    // Contacts: one to three per account, created with or soon after the account.
    let mut contacts = vec![];
    for (a, account) in accs.accounts.iter().enumerate() {
        for _ in 0..rng.random_range(1..=3) {
            let (first_name, last_name) = person(rng, accs, a);
            let day = (accs.meta[a].day + rng.random_range(0..30)).min(today);
            contacts.push(Contact {
                id: ContactId(contacts.len() as i64 + 1),
                external_id: None,
                account_id: Some(account.id),
                email: email(&first_name, &last_name, account.domain.as_deref()),
                phone: None,
                first_name,
                last_name,
                title: pick(rng, &TITLES).to_string(),
                owner_id: account.owner_id,
                created_at: cal.timestamp(cal.second(day, rng.random_range(WORK_START..=WORK_END))),
            });
        }
    }

    // Leads: most are worked and then qualified or disqualified; some sit in nurture; the
    // youngest are still new. Qualified ones converted into the account they belong to.
    let mut leads = vec![];
    let mut days: Vec<(u32, u32, usize)> = (0..sizes.leads)
        .map(|_| {
            let a = rng.random_range(0..accs.accounts.len());
            let day = rng.random_range(accs.meta[a].day..=today);
            (day, rng.random_range(WORK_START..=WORK_END), a)
        })
        .collect();
    days.sort_unstable();
    for (day, second, a) in days {
        let account = &accs.accounts[a];
        let (first_name, last_name) = person(rng, accs, a);
        let age = today - day;
        let r: f64 = rng.random();
        let status = if age < 7 {
            LeadStatus::New
        } else if age < 30 && r < 0.5 {
            LeadStatus::Working
        } else if r < 0.30 {
            LeadStatus::Converted
        } else if r < 0.55 {
            LeadStatus::Disqualified
        } else if r < 0.75 {
            LeadStatus::Nurture
        } else if r < 0.85 {
            LeadStatus::Qualified
        } else {
            LeadStatus::Working
        };
        let created = cal.second(day, second);
        let converted = status == LeadStatus::Converted;
        leads.push(Lead {
            id: LeadId(leads.len() as i64 + 1),
            external_id: None,
            email: email(&first_name, &last_name, account.domain.as_deref()),
            phone: None,
            first_name,
            last_name,
            company: account.name.clone(),
            source: pick(rng, &LEAD_SOURCES).to_string(),
            campaign: pick(rng, &CAMPAIGNS).to_string(),
            status,
            disqualify_reason: (status == LeadStatus::Disqualified).then(|| pick(rng, &DISQUALIFY).to_string()),
            owner_id: account.owner_id,
            created_at: cal.timestamp(created),
            converted_at: converted
                .then(|| cal.timestamp((created + rng.random_range(2..=20) * 86_400).min(cal.end_of_today()))),
            account_id: converted.then_some(account.id),
            contact_id: None,
            opportunity_id: None,
        });
    }

    // Activities: around the deals (calls, e-mails, meetings between creation and the last
    // stage change), plus field visits and admin work of reps.
    let mut activities: Vec<Activity> = Vec::with_capacity(sizes.activities);
    let mut last_change = vec![0i64; opportunities.len()];
    for h in history {
        let i = (h.opportunity_id.0 - 1) as usize;
        last_change[i] = last_change[i].max(h.at.as_second());
    }
    let kinds = [
        (ActivityKind::Call, 40.0),
        (ActivityKind::Email, 30.0),
        (ActivityKind::Meeting, 12.0),
        (ActivityKind::Task, 8.0),
        (ActivityKind::Note, 5.0),
        (ActivityKind::Visit, 5.0),
    ];
    let mut planned: Vec<(i64, usize, ActivityKind)> = (0..sizes.activities)
        .map(|_| {
            let o = rng.random_range(0..opportunities.len());
            let opp = &opportunities[o];
            let start = opp.created_at.as_second();
            let end = last_change[o].max(start).min(cal.end_of_today());
            (rng.random_range(start..=end), o, *pick_weighted(rng, &kinds))
        })
        .collect();
    planned.sort_unstable_by_key(|p| (p.0, p.1));
    for (at, o, kind) in planned {
        let opp = &opportunities[o];
        let a = (opp.account_id.0 - 1) as usize;
        let (subject, duration, outcome, address) = match kind {
            ActivityKind::Call => {
                let outcome = *pick_weighted(rng, &CALL_OUTCOMES);
                let secs =
                    if outcome == "connected" { rng.random_range(60..=1_800) } else { rng.random_range(10..=60) };
                ("Call".to_string(), Some(secs), Some(outcome.to_string()), None)
            }
            ActivityKind::Email => ("Follow-up e-mail".to_string(), None, None, None),
            ActivityKind::Meeting => {
                ("Meeting".to_string(), Some(rng.random_range(2..=8) * 900), Some("held".to_string()), None)
            }
            ActivityKind::Task => ("Prepare proposal".to_string(), None, Some("done".to_string()), None),
            ActivityKind::Note => ("Note".to_string(), None, None, None),
            ActivityKind::Visit => {
                let account = &accs.accounts[a];
                let address = format!("{} {}", account.postal_code, account.city);
                let outcome = *pick_weighted(rng, &VISIT_OUTCOMES);
                (
                    "Field visit".to_string(),
                    Some(rng.random_range(5..=45) * 60),
                    Some(outcome.to_string()),
                    Some(address),
                )
            }
        };
        activities.push(Activity {
            id: ActivityId(activities.len() as i64 + 1),
            external_id: None,
            kind,
            subject,
            at: cal.timestamp(at),
            duration_seconds: duration,
            outcome,
            address,
            owner_id: opp.owner_id,
            account_id: Some(opp.account_id),
            contact_id: None,
            lead_id: None,
            opportunity_id: Some(opp.id),
        });
    }
    Crm { contacts, leads, activities }
}
