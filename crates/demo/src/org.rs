//! The organisation: regions, teams and users in a manager hierarchy, the nine demo logins, and
//! each seller's hidden performance profile (used later to make some reps clearly better).

use std::collections::HashSet;

use model::{Email, Locale, Region, RegionId, Role, Team, TeamId, TimeZoneName, User, UserId};
use rand::Rng;

use crate::data::{HQ_PEOPLE, HQ_ZONE, NameSet, REGIONS, SEGMENTS};
use crate::random::{DemoRng, log_normal, pick, pick_weighted};
use crate::{DemoLogin, Sizes};

pub(crate) const EMAIL_DOMAIN: &str = "demo.salesops.io";

/// Ops roles reporting to the head, in the order of [`Sizes::ops_staff`].
pub(crate) const OPS_ROLES: [Role; 6] = [
    Role::SalesOpsManager,
    Role::MarketingOps,
    Role::CustomerSuccessOps,
    Role::DataAnalyst,
    Role::CrmAdmin,
    Role::Finance,
];

/// The fixed e-mail address of each role's demo login ("head@demo.salesops.io").
pub fn login_email(role: Role) -> Email {
    Email::parse(&format!("{}@{EMAIL_DOMAIN}", login_local_part(role))).expect("valid login e-mail")
}

/// The fixed e-mail local part of each role's demo login.
fn login_local_part(role: Role) -> &'static str {
    match role {
        Role::HeadOfCommercialOps => "head",
        Role::SalesOpsManager => "salesops",
        Role::MarketingOps => "marketing",
        Role::CustomerSuccessOps => "success",
        Role::DataAnalyst => "analyst",
        Role::CrmAdmin => "admin",
        Role::SalesManager => "manager",
        Role::SalesRep => "rep",
        Role::Finance => "finance",
    }
}

/// How a user sells; meaningful for reps and team managers (the only opportunity owners).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seller {
    /// Index into `REGIONS`; 0 for headquarters staff (never used for them).
    pub region: usize,
    /// User index of the team manager (reps only).
    pub manager: Option<usize>,
    /// Multiplier on the win rate: ~1 for most, clearly higher for stars, lower for strugglers.
    pub skill: f64,
    /// Multiplier on deal size (segment of the team times personal style).
    pub deal_factor: f64,
}

pub(crate) struct Org {
    pub regions: Vec<Region>,
    pub teams: Vec<Team>,
    pub users: Vec<User>,
    pub logins: Vec<DemoLogin>,
    /// User indices of all sales reps, in id order.
    pub reps: Vec<usize>,
    /// User indices of the sales reps per region index.
    pub reps_by_region: Vec<Vec<usize>>,
    /// One entry per user index.
    pub sellers: Vec<Seller>,
}

/// Splits `total` over `shares` proportionally, rounding so that the parts add up exactly
/// (largest remainder; ties go to the earlier share).
pub(crate) fn apportion(total: usize, shares: &[f64]) -> Vec<usize> {
    let sum: f64 = shares.iter().sum();
    let exact: Vec<f64> = shares.iter().map(|s| total as f64 * s / sum).collect();
    let mut parts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    let missing = total - parts.iter().sum::<usize>();
    for &i in order.iter().take(missing) {
        parts[i] += 1;
    }
    parts
}

/// Lower-case ASCII for e-mail local parts: "Søren" -> "soeren", "O'Brien" -> "obrien",
/// "van der Meer" -> "vandermeer", "Łukasz" -> "lukasz".
pub(crate) fn email_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let folded: &str = match c {
            'a'..='z' | '0'..='9' | '-' => {
                out.push(c);
                continue;
            }
            'ä' | 'æ' => "ae",
            'ö' | 'ø' => "oe",
            'ü' => "ue",
            'å' => "aa",
            'ß' => "ss",
            'á' | 'à' | 'â' | 'ą' => "a",
            'é' | 'è' | 'ê' | 'ë' | 'ę' => "e",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ó' | 'ò' | 'ô' => "o",
            'ú' | 'ù' | 'û' => "u",
            'ć' => "c",
            'ł' => "l",
            'ń' => "n",
            'ś' => "s",
            'ź' | 'ż' => "z",
            _ => "",
        };
        out.push_str(folded);
    }
    out
}

/// A Polish surname in its feminine form ("Kowalski" -> "Kowalska"); others unchanged.
pub(crate) fn feminine(last: &str) -> String {
    match last.strip_suffix("ki") {
        Some(stem) => format!("{stem}ka"),
        None => last.to_string(),
    }
}

struct NewUser<'a> {
    role: Role,
    people: &'a NameSet,
    login: bool,
    team_id: Option<TeamId>,
    manager: Option<usize>,
    region: Option<usize>,
    time_zone: &'a TimeZoneName,
    locale: Locale,
}

struct Builder<'r> {
    rng: &'r mut DemoRng,
    users: Vec<User>,
    sellers: Vec<Seller>,
    emails: HashSet<String>,
}

impl Builder<'_> {
    fn add(&mut self, u: NewUser<'_>, seller: Seller) -> usize {
        let female = self.rng.random_bool(0.5);
        let first = *pick(self.rng, if female { u.people.female } else { u.people.male });
        let base_last = *pick(self.rng, u.people.last);
        let last = if female && u.people.feminine_surnames { feminine(base_last) } else { base_last.to_string() };
        let local = if u.login {
            login_local_part(u.role).to_string()
        } else {
            let base = format!("{}.{}", email_part(first), email_part(&last));
            let mut local = base.clone();
            let mut n = 2;
            while self.emails.contains(&local) {
                local = format!("{base}.{n}");
                n += 1;
            }
            local
        };
        let email = Email::parse(&format!("{local}@{EMAIL_DOMAIN}")).expect("generated e-mail addresses are valid");
        self.emails.insert(local);
        let index = self.users.len();
        self.users.push(User {
            id: UserId(index as i64 + 1),
            email,
            name: format!("{first} {last}"),
            role: u.role,
            team_id: u.team_id,
            manager_id: u.manager.map(|m| self.users[m].id),
            region_id: u.region.map(|r| RegionId(r as i64 + 1)),
            time_zone: u.time_zone.clone(),
            locale: u.locale,
            active: true,
        });
        self.sellers.push(seller);
        index
    }

    /// Most reps perform around the norm; some are stars, some struggle.
    fn skill(&mut self) -> f64 {
        let r: f64 = self.rng.random();
        if r < 0.15 {
            self.rng.random_range(1.35..1.7)
        } else if r < 0.30 {
            self.rng.random_range(0.45..0.75)
        } else {
            self.rng.random_range(0.85..1.15)
        }
    }
}

fn zone(name: &str) -> TimeZoneName {
    TimeZoneName::parse(name).expect("demo time zones exist in the bundled tz database")
}

pub(crate) fn build(sizes: &Sizes, rng: &mut DemoRng) -> Org {
    let regions: Vec<Region> = REGIONS
        .iter()
        .enumerate()
        .map(|(i, r)| Region {
            id: RegionId(i as i64 + 1),
            code: r.code.to_string(),
            name: r.name.to_string(),
            currency: model::Currency::parse(r.currency).expect("demo currencies are known"),
            time_zone: zone(r.zone),
        })
        .collect();
    let shares: Vec<f64> = REGIONS.iter().map(|r| r.rep_share).collect();
    let rep_counts = apportion(sizes.reps, &shares);

    let hq_zone = zone(HQ_ZONE);
    let mut b = Builder { rng, users: Vec::new(), sellers: Vec::new(), emails: HashSet::new() };
    let office = Seller { region: 0, manager: None, skill: 1.0, deal_factor: 1.0 };

    let people = *pick_weighted(b.rng, &HQ_PEOPLE);
    let head = b.add(
        NewUser {
            role: Role::HeadOfCommercialOps,
            people,
            login: true,
            team_id: None,
            manager: None,
            region: None,
            time_zone: &hq_zone,
            locale: Locale::En,
        },
        office,
    );
    for (role, count) in OPS_ROLES.into_iter().zip(sizes.ops_staff) {
        for k in 0..count {
            let people = *pick_weighted(b.rng, &HQ_PEOPLE);
            let user = NewUser {
                role,
                people,
                login: k == 0,
                team_id: None,
                manager: Some(head),
                region: None,
                time_zone: &hq_zone,
                locale: Locale::En,
            };
            b.add(user, office);
        }
    }

    let mut teams = Vec::new();
    let mut reps = Vec::new();
    let mut reps_by_region = vec![Vec::new(); REGIONS.len()];
    for (r, spec) in REGIONS.iter().enumerate() {
        let time_zone = &regions[r].time_zone;
        let person =
            |role: Role, people: &'static NameSet, login: bool, team_id: Option<TeamId>, manager: Option<usize>| {
                NewUser { role, people, login, team_id, manager, region: Some(r), time_zone, locale: spec.locale }
            };
        let people = *pick_weighted(b.rng, spec.people);
        let director_seller = Seller { region: r, manager: None, skill: 1.0, deal_factor: 1.0 };
        let director = b.add(person(Role::SalesManager, people, false, None, Some(head)), director_seller);

        let team_count = rep_counts[r].div_ceil(8).max(1);
        let team_sizes = apportion(rep_counts[r], &vec![1.0; team_count]);
        for (k, &team_size) in team_sizes.iter().enumerate() {
            let (segment, segment_factor) = SEGMENTS[k % SEGMENTS.len()];
            let round = k / SEGMENTS.len();
            let name = if round == 0 {
                format!("{} {segment}", spec.name)
            } else {
                format!("{} {segment} {}", spec.name, round + 1)
            };
            let team_id = TeamId(teams.len() as i64 + 1);
            let first_team = teams.is_empty();
            teams.push(Team { id: team_id, name, region_id: Some(regions[r].id) });

            let people = *pick_weighted(b.rng, spec.people);
            let manager_seller = Seller { region: r, manager: None, skill: 1.1, deal_factor: 1.3 * segment_factor };
            let manager =
                b.add(person(Role::SalesManager, people, first_team, Some(team_id), Some(director)), manager_seller);
            for j in 0..team_size {
                let people = *pick_weighted(b.rng, spec.people);
                let skill = b.skill();
                let deal_factor = segment_factor * log_normal(b.rng, 1.0, 0.2);
                let seller = Seller { region: r, manager: Some(manager), skill, deal_factor };
                let rep =
                    b.add(person(Role::SalesRep, people, first_team && j == 0, Some(team_id), Some(manager)), seller);
                reps.push(rep);
                reps_by_region[r].push(rep);
            }
        }
    }

    let users = b.users;
    let logins = Role::ALL
        .into_iter()
        .map(|role| {
            let email = login_email(role);
            let user = users.iter().find(|u| u.email == email).expect("every role has a demo login user");
            DemoLogin { role, email, user_id: user.id }
        })
        .collect();

    Org { regions, teams, users, logins, reps, reps_by_region, sellers: b.sellers }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_adds_up() {
        assert_eq!(apportion(20, &[0.25, 0.13, 0.12, 0.13, 0.25, 0.12]), vec![5, 3, 2, 3, 5, 2]);
        assert_eq!(apportion(7, &[1.0, 1.0, 1.0]), vec![3, 2, 2]);
        let shares: Vec<f64> = REGIONS.iter().map(|r| r.rep_share).collect();
        assert_eq!(apportion(2000, &shares).iter().sum::<usize>(), 2000);
    }

    #[test]
    fn email_parts_are_ascii() {
        assert_eq!(email_part("Søren"), "soeren");
        assert_eq!(email_part("van der Meer"), "vandermeer");
        assert_eq!(email_part("O'Brien"), "obrien");
        assert_eq!(email_part("Łukasz"), "lukasz");
        assert_eq!(email_part("Wiśniewska"), "wisniewska");
        assert_eq!(email_part("Pieter-Jan"), "pieter-jan");
        assert_eq!(email_part("Müller"), "mueller");
    }

    #[test]
    fn polish_surnames_agree_with_gender() {
        assert_eq!(feminine("Kowalski"), "Kowalska");
        assert_eq!(feminine("Nowicki"), "Nowicka");
        assert_eq!(feminine("Nowak"), "Nowak");
    }
}
