//! Customer accounts: believable, unique company names per country, city and postal code, size,
//! industry, owner in the same region, and a few subsidiaries pointing at an earlier parent.

use std::collections::{BTreeMap, HashSet};

use model::{Account, AccountId, TimeZoneName};
use rand::Rng;

use crate::Sizes;
use crate::calendar::Calendar;
use crate::data::{CountrySpec, INDUSTRIES, PUBLIC_SECTOR, Postal, REGIONS};
use crate::org::Org;
use crate::random::{DemoRng, log_normal, pick, pick_index_skewed, pick_weighted};

/// Records are created and touched between 07:00 and 18:00 UTC.
pub(crate) const WORK_START: u32 = 7 * 3600;
pub(crate) const WORK_END: u32 = 18 * 3600;

/// Share of accounts that are subsidiaries of an earlier account in the same region.
const CHILD_SHARE: f64 = 0.05;
/// Share of accounts entered in the first month (the initial import when salesops was adopted).
const IMPORTED_SHARE: f64 = 0.4;

/// What the opportunity generator needs to know about an account beyond the record itself.
pub(crate) struct AccountMeta {
    /// The name without legal form ("Van Dijk Logistiek"), used in opportunity names.
    pub short: String,
    /// The name before a city or number was appended to make it unique (for public bodies:
    /// without the department); subsidiaries and departments are named after it.
    base: String,
    /// User index of the owner.
    pub owner: usize,
    pub region: usize,
    /// Creation day index and second of that day.
    pub day: u32,
    pub second: u32,
    country: &'static CountrySpec,
    city: usize,
    industry: usize,
}

pub(crate) struct Accounts {
    pub accounts: Vec<Account>,
    pub meta: Vec<AccountMeta>,
}

pub(crate) fn build(sizes: &Sizes, org: &Org, cal: &Calendar, rng: &mut DemoRng) -> Accounts {
    let n = sizes.accounts;
    let today = cal.today();
    // Creation instants first, sorted, so that ids grow with creation time and parents (which
    // always come earlier) were created before their subsidiaries.
    let mut created: Vec<(u32, u32)> = (0..n)
        .map(|_| {
            let day = if rng.random_bool(IMPORTED_SHARE) {
                rng.random_range(0..=today.min(30))
            } else {
                rng.random_range(0..=today)
            };
            (day, rng.random_range(WORK_START..=WORK_END))
        })
        .collect();
    created.sort_unstable();

    let city_zones: BTreeMap<&str, TimeZoneName> = REGIONS
        .iter()
        .flat_map(|r| r.countries.iter())
        .flat_map(|(c, _)| c.cities.iter())
        .filter_map(|c| c.zone)
        .map(|z| (z, TimeZoneName::parse(z).expect("demo time zones exist")))
        .collect();
    let industry_weights: Vec<(usize, f64)> = INDUSTRIES.iter().enumerate().map(|(i, (_, w))| (i, *w)).collect();

    let mut names: HashSet<String> = HashSet::with_capacity(n);
    let mut top_level: Vec<Vec<usize>> = vec![Vec::new(); REGIONS.len()];
    let mut accounts: Vec<Account> = Vec::with_capacity(n);
    let mut meta: Vec<AccountMeta> = Vec::with_capacity(n);

    for (i, (day, second)) in created.into_iter().enumerate() {
        let mut owner = *pick(rng, &org.reps);
        let region = org.sellers[owner].region;
        let parent = if rng.random_bool(CHILD_SHARE) && !top_level[region].is_empty() {
            Some(*pick(rng, &top_level[region]))
        } else {
            None
        };

        let (country, city, industry, name, legal, employees) = match parent {
            Some(p) => {
                let pm = &meta[p];
                if rng.random_bool(0.6) {
                    owner = pm.owner;
                }
                if pm.industry == PUBLIC_SECTOR {
                    // Another department of the same public body.
                    let name = Name::plain(department_name(rng, &mut names, pm.country, &pm.base));
                    (pm.country, pm.city, PUBLIC_SECTOR, name, None, employees(rng, 150.0, 1.0))
                } else {
                    // A subsidiary or branch: the parent's name with its city.
                    let country =
                        if rng.random_bool(0.85) { pm.country } else { *pick_weighted(rng, REGIONS[region].countries) };
                    // Another city than the parent's, and one where it has no branch yet.
                    let branch = |city: usize| {
                        let city_name = country.cities[city].name;
                        if pm.base.contains(city_name) { pm.base.clone() } else { format!("{} {city_name}", pm.base) }
                    };
                    let mut city = pick_index_skewed(rng, country.cities.len());
                    for _ in 0..4 {
                        let same_as_parent = std::ptr::eq(country, pm.country) && city == pm.city;
                        if !same_as_parent && !names.contains(&branch(city)) {
                            break;
                        }
                        city = pick_index_skewed(rng, country.cities.len());
                    }
                    let name = Name::plain(claim_numbered(&mut names, branch(city)));
                    let legal = Some(*pick(rng, country.legal));
                    (country, city, pm.industry, name, legal, employees(rng, 40.0, 1.2))
                }
            }
            None => {
                let country = *pick_weighted(rng, REGIONS[region].countries);
                let industry = *pick_weighted(rng, &industry_weights);
                if industry == PUBLIC_SECTOR {
                    // Every town has a council: spread public bodies over all cities.
                    let city = rng.random_range(0..country.cities.len());
                    let name = public_name(rng, &mut names, country, country.cities[city].name);
                    (country, city, industry, name, None, employees(rng, 600.0, 1.0))
                } else {
                    let city = pick_index_skewed(rng, country.cities.len());
                    let name = commercial_name(rng, &mut names, country, industry, country.cities[city].name);
                    let legal = Some(*pick(rng, country.legal));
                    (country, city, industry, name, legal, employees(rng, 80.0, 1.5))
                }
            }
        };

        let city_spec = &country.cities[city];
        let time_zone = match city_spec.zone {
            Some(z) => city_zones[z].clone(),
            None => org.regions[region].time_zone.clone(),
        };
        let Name { short, base } = name;
        accounts.push(Account {
            id: AccountId(i as i64 + 1),
            name: match legal {
                Some(legal) => format!("{short} {legal}"),
                None => short.clone(),
            },
            industry: INDUSTRIES[industry].0.to_string(),
            employees,
            country: country.code.to_string(),
            region_id: Some(org.regions[region].id),
            city: city_spec.name.to_string(),
            postal_code: postal_code(rng, &city_spec.postal),
            time_zone,
            owner_id: org.users[owner].id,
            parent_id: parent.map(|p| accounts[p].id),
            currency: org.regions[region].currency,
            created_at: cal.timestamp(cal.second(day, second)),
            external_id: None,
            domain: model::dedupe::domain_key(&format!("{}.{}", slug(&short), country.code.to_lowercase())),
            phone: None,
        });
        if parent.is_none() {
            top_level[region].push(i);
        }
        meta.push(AccountMeta { short, base, owner, region, day, second, country, city, industry });
    }
    Accounts { accounts, meta }
}

fn employees(rng: &mut DemoRng, median: f64, sigma: f64) -> i32 {
    log_normal(rng, median, sigma).round().clamp(5.0, 20_000.0) as i32
}

/// Registers `name` if it is still free.
fn claim(names: &mut HashSet<String>, name: &str) -> bool {
    if names.contains(name) {
        return false;
    }
    names.insert(name.to_string());
    true
}

/// `base`, or `base 2`, `base 3`, ... whichever is free first.
fn claim_numbered(names: &mut HashSet<String>, base: String) -> String {
    if claim(names, &base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base} {n}"))
        .find(|candidate| claim(names, candidate))
        .expect("an unbounded range yields a free name")
}

/// First letter upper-case: "van Dijk" -> "Van Dijk" when a surname stands alone.
fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A claimed account name without legal form, and what it was derived from.
struct Name {
    short: String,
    base: String,
}

impl Name {
    fn plain(short: String) -> Name {
        Name { base: short.clone(), short }
    }
}

/// "Van Dijk Logistiek", "Nordhavn Shipping", "Bakker & De Vries Bouw". A few fresh attempts
/// (later ones with two surnames, which leaves far more room), then the city appended, then a
/// number.
fn commercial_name(
    rng: &mut DemoRng,
    names: &mut HashSet<String>,
    country: &CountrySpec,
    industry: usize,
    city: &str,
) -> Name {
    let words = country.lang.words[industry];
    let mut tried: Vec<String> = Vec::new();
    for attempt in 0..8 {
        let word = pick(rng, words);
        let r: f64 = if attempt < 2 { rng.random() } else { 1.0 };
        let candidate = if r < 0.45 {
            format!("{} {word}", capitalised(pick::<&str>(rng, country.surnames.last)))
        } else if r < 0.85 {
            format!("{} {word}", pick(rng, country.stems))
        } else {
            let a = pick(rng, country.surnames.last);
            let b = pick(rng, country.surnames.last);
            if a == b {
                continue;
            }
            format!("{} & {} {word}", capitalised(a), capitalised(b))
        };
        if claim(names, &candidate) {
            return Name::plain(candidate);
        }
        tried.push(candidate);
    }
    if tried.is_empty() {
        tried.push(format!("{} {}", pick(rng, country.stems), pick(rng, words)));
    }
    // The two-surname candidates come last and are the least likely to be taken with the city.
    for base in tried.iter().rev() {
        let short = format!("{base} {city}");
        if claim(names, &short) {
            return Name { short, base: base.clone() };
        }
    }
    let base = tried.pop().unwrap_or_default();
    let short = claim_numbered(names, format!("{base} {city}"));
    Name { short, base }
}

/// "Gemeente Utrecht", "Aarhus Kommune", "City of Boston"; when taken, a department of it.
fn public_name(rng: &mut DemoRng, names: &mut HashSet<String>, country: &CountrySpec, city: &str) -> Name {
    let mut first = None;
    for _ in 0..6 {
        let candidate = pick(rng, country.public).replace("{c}", city).replace("{s}", pick::<&str>(rng, country.stems));
        if claim(names, &candidate) {
            return Name::plain(candidate);
        }
        first.get_or_insert(candidate);
    }
    let body = first.unwrap_or_default();
    Name { short: department_name(rng, names, country, &body), base: body }
}

/// "Gemeente Utrecht - ICT": a department of a public body, numbered if all are taken.
fn department_name(rng: &mut DemoRng, names: &mut HashSet<String>, country: &CountrySpec, body: &str) -> String {
    let departments = country.lang.departments;
    let offset = rng.random_range(0..departments.len());
    for k in 0..departments.len() {
        let candidate = format!("{body} - {}", departments[(offset + k) % departments.len()]);
        if claim(names, &candidate) {
            return candidate;
        }
    }
    claim_numbered(names, format!("{body} - {}", departments[offset]))
}

/// A postal code in the country's format, plausible for the city.
pub(crate) fn postal_code(rng: &mut DemoRng, postal: &Postal) -> String {
    const NL_LETTERS: &[u8] = b"ABCDEGHJKLMNPRTVWXZ";
    const GB_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    const EIRCODE_CHARS: &[u8] = b"ACDEFHKNPRTVWXY0123456789";
    fn letter(rng: &mut DemoRng, set: &[u8]) -> char {
        char::from(*pick(rng, set))
    }
    match *postal {
        Postal::Digits { len, lo, hi } => format!("{:0len$}", rng.random_range(lo..=hi)),
        Postal::Nl { lo, hi } => {
            let digits = rng.random_range(lo..=hi);
            format!("{digits} {}{}", letter(rng, NL_LETTERS), letter(rng, NL_LETTERS))
        }
        Postal::Se { lo, hi } => {
            let n = rng.random_range(lo..=hi);
            format!("{} {:02}", n / 100, n % 100)
        }
        Postal::Pl { lo, hi } => format!("{:02}-{:03}", rng.random_range(lo..=hi), rng.random_range(1..=999)),
        Postal::Lu { lo, hi } => format!("L-{}", rng.random_range(lo..=hi)),
        Postal::Gb(areas) => {
            let &(area, lo, hi) = pick(rng, areas);
            let district = rng.random_range(lo..=hi);
            let sector = rng.random_range(1..=9);
            format!("{area}{district} {sector}{}{}", letter(rng, GB_LETTERS), letter(rng, GB_LETTERS))
        }
        Postal::Ie(keys) => {
            let key = pick(rng, keys);
            let unique: String = (0..4).map(|_| letter(rng, EIRCODE_CHARS)).collect();
            format!("{key} {unique}")
        }
    }
}

/// A web-domain label from a company name: "Bakkerij de Vries" -> "bakkerijdevries".
fn slug(name: &str) -> String {
    model::dedupe::company_key(name).chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::stream;

    #[test]
    fn postal_codes_follow_the_country_format() {
        let mut rng = stream(3, 0);
        let nl = postal_code(&mut rng, &Postal::Nl { lo: 1011, hi: 1109 });
        assert!(nl.len() == 7 && nl.as_bytes()[4] == b' ', "{nl}");
        assert_eq!(postal_code(&mut rng, &Postal::Digits { len: 4, lo: 150, hi: 150 }), "0150");
        assert_eq!(postal_code(&mut rng, &Postal::Digits { len: 5, lo: 2108, hi: 2108 }), "02108");
        let pl = postal_code(&mut rng, &Postal::Pl { lo: 0, hi: 0 });
        assert!(pl.starts_with("00-") && pl.len() == 6, "{pl}");
        let se = postal_code(&mut rng, &Postal::Se { lo: 11455, hi: 11455 });
        assert_eq!(se, "114 55");
        let gb = postal_code(&mut rng, &Postal::Gb(&[("SW", 1, 1)]));
        assert!(gb.starts_with("SW1 ") && gb.len() == 7, "{gb}");
        let ie = postal_code(&mut rng, &Postal::Ie(&["D02"]));
        assert!(ie.starts_with("D02 ") && ie.len() == 8, "{ie}");
        assert!(postal_code(&mut rng, &Postal::Lu { lo: 1009, hi: 2999 }).starts_with("L-"));
    }

    #[test]
    fn names_stay_unique() {
        let mut names = HashSet::new();
        assert_eq!(claim_numbered(&mut names, "Stad Gent".into()), "Stad Gent");
        assert_eq!(claim_numbered(&mut names, "Stad Gent".into()), "Stad Gent 2");
        assert_eq!(capitalised("van Dijk"), "Van Dijk");
    }
}
