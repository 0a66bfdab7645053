//! Translations (Fluent files under `locales/`, compiled into the binary) and the [`Tr`] helper
//! templates use: `{{ t.t("nav-home") }}`. Numbers, money and dates are formatted by `model`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, static_loader};

use model::{Locale, Money, TimeZoneName};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Without this every interpolated value is wrapped in invisible direction marks.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static LANG_IDS: LazyLock<[LanguageIdentifier; 4]> =
    LazyLock::new(|| Locale::ALL.map(|l| l.as_str().parse().unwrap_or_default()));

fn lang(locale: Locale) -> &'static LanguageIdentifier {
    let i = Locale::ALL.iter().position(|l| *l == locale).unwrap_or(0);
    &LANG_IDS[i]
}

/// Translator bound to one locale and time zone; cheap to copy into every template.
#[derive(Debug, Clone)]
pub struct Tr {
    pub locale: Locale,
    pub zone: TimeZoneName,
}

impl Tr {
    pub fn new(locale: Locale, zone: TimeZoneName) -> Tr {
        Tr { locale, zone }
    }

    pub fn t(&self, key: &str) -> String {
        LOCALES.lookup(lang(self.locale), key)
    }

    /// Translation with one named argument, e.g. the row count of a list.
    pub fn t1(&self, key: &str, name: &str, value: impl ToString) -> String {
        self.targs(key, &[(name, value.to_string())])
    }

    /// A count message: `$count` (a number) chooses the plural form, `$shown` is the same number
    /// with the locale's digit grouping ("1.234 rijen").
    pub fn count(&self, key: &str, n: i64) -> String {
        self.targs(key, &[("count", n.to_string()), ("shown", self.int(n))])
    }

    pub fn targs(&self, key: &str, args: &[(&str, String)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(k, v)| {
                // Numbers go in as numbers so plural rules (Polish one/few/many) apply.
                let value = match v.parse::<f64>() {
                    Ok(n) if !v.contains(char::is_alphabetic) => FluentValue::from(n),
                    _ => FluentValue::from(v.clone()),
                };
                (Cow::Owned(k.to_string()), value)
            })
            .collect();
        LOCALES.lookup_with_args(lang(self.locale), key, &map)
    }

    pub fn money(&self, m: &Money) -> String {
        model::format_money(self.locale, *m)
    }

    pub fn date(&self, d: jiff::civil::Date) -> String {
        model::format_date(self.locale, d)
    }

    pub fn ts(&self, ts: jiff::Timestamp) -> String {
        model::format_timestamp(self.locale, ts, &self.zone)
    }

    pub fn int(&self, n: i64) -> String {
        model::format_decimal(self.locale, rust_decimal::Decimal::from(n), 0)
    }

    pub fn role(&self, r: model::Role) -> String {
        self.t(&r.label_key())
    }
}

/// The message keys defined in one locale's Fluent source (for the completeness test).
pub fn keys_of(source: &str) -> std::collections::BTreeSet<String> {
    source
        .lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn source(locale: &str) -> String {
        std::fs::read_to_string(format!("{}/locales/{locale}/main.ftl", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn every_locale_has_every_key_and_no_extra() {
        let en = keys_of(&source("en"));
        assert!(en.len() > 50, "en has only {} keys", en.len());
        for l in ["nl", "da", "pl"] {
            let other = keys_of(&source(l));
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(missing.is_empty(), "{l} is missing {missing:?}");
            assert!(extra.is_empty(), "{l} has keys en does not: {extra:?}");
        }
    }

    /// Every key the templates and handlers use exists in English (and so, by the test above,
    /// in every locale).
    #[test]
    fn every_used_key_is_defined() {
        let en = keys_of(&source("en"));
        let root = env!("CARGO_MANIFEST_DIR");
        let mut used = BTreeSet::new();
        let mut files = vec![];
        for dir in ["templates", "src"] {
            for e in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
                files.push(e.unwrap().path());
            }
        }
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for pat in [".t(\"", ".t1(\"", ".targs(\"", ".count(\""] {
                for part in text.split(pat).skip(1) {
                    if let Some(key) = part.split('"').next()
                        && !key.is_empty()
                        && key.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit())
                    {
                        used.insert(key.to_string());
                    }
                }
            }
        }
        // Keys built at run time.
        for r in model::Role::ALL {
            used.insert(r.label_key());
        }
        for a in crate::pages_admin::AUDIT_ACTIONS {
            used.insert(format!("audit-action-{}", a.replace('_', "-")));
        }
        for e in crate::pages_admin::AUDIT_ENTITIES {
            used.insert(format!("audit-entity-{}", e.replace('_', "-")));
        }
        for c in model::ForecastCategory::ALL {
            used.insert(format!("forecast-{}", c.as_str().replace('_', "-")));
        }
        for s in model::QuoteStatus::ALL {
            used.insert(format!("quote-status-{}", s.as_str()));
        }
        for s in ["sent", "accepted", "rejected", "withdrawn"] {
            used.insert(format!("quote-to-{s}"));
        }
        for s in ["pending", "scheduled", "installed", "cancelled"] {
            used.insert(format!("order-status-{s}"));
        }
        for s in ["created", "scheduled", "installed", "installation-failed", "cancelled"] {
            used.insert(format!("order-event-{s}"));
        }
        for s in ["open", "calculated", "approved", "locked"] {
            used.insert(format!("comp-status-{s}"));
        }
        for s in app::DISPUTE_STATES {
            used.insert(format!("comp-dispute-status-{}", s.replace('_', "-")));
        }
        for r in app::ADJUSTMENT_REASONS {
            used.insert(format!("comp-reason-{}", r.replace('_', "-")));
        }
        for s in ["opportunity", "payee", "plan"] {
            used.insert(format!("comp-scope-{s}"));
        }
        for m in 1..=12 {
            used.insert(format!("series-month-{m}"));
        }
        for s in ["running", "failed", "interrupted"] {
            used.insert(format!("import-job-{s}"));
        }
        for k in app::kpi_engine::Kpi::ALL {
            used.insert(format!("kpi-{}", k.name().replace('_', "-")));
        }
        for d in app::kpi_engine::Dimension::ALL {
            used.insert(format!("kpi-by-{}", d.name().replace('_', "-")));
        }
        for m in 1..=12 {
            used.insert(format!("kpi-month-{m}"));
        }
        for r in ["opportunity", "activity", "lead", "quote", "order", "quota", "data-entry"] {
            used.insert(format!("kpi-record-{r}"));
        }
        for m in ["forward", "skip", "loop-back", "re-entry", "close", "reopen"] {
            used.insert(format!("kpi-move-{m}"));
        }
        for b in ["slow", "leaky", "slow-leaky"] {
            used.insert(format!("kpi-bottleneck-{b}"));
        }
        let missing: Vec<_> = used.difference(&en).collect();
        assert!(missing.is_empty(), "used but not defined in en: {missing:?}");
    }

    #[test]
    fn polish_plurals_and_formatting() {
        let pl = Tr::new(Locale::Pl, TimeZoneName::utc());
        assert_eq!(pl.count("rows-count", 1), "1 wiersz");
        assert_eq!(pl.count("rows-count", 3), "3 wiersze");
        assert_eq!(pl.count("rows-count", 5), "5 wierszy");
        assert_eq!(pl.count("rows-count", 22_222), "22\u{a0}222 wiersze");
        let en = Tr::new(Locale::En, TimeZoneName::utc());
        assert_eq!(en.count("rows-count", 1), "1 row");
        assert_eq!(en.count("rows-count", 3000), "3,000 rows");
        let nl = Tr::new(Locale::Nl, TimeZoneName::utc());
        assert_eq!(nl.count("rows-count", 1234), "1.234 rijen");
    }
}
