//! Normalised keys and a fuzzy name score for duplicate detection (L5, D1). Two leads or
//! accounts are likely the same when they share an e-mail, a phone number, a web domain, or a
//! company name that matches after normalisation or nearly matches (typos, word order).

/// Lowercased, trimmed e-mail; None unless it looks like `local@domain.tld`.
pub fn email_key(email: &str) -> Option<String> {
    let e = email.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    (!local.is_empty() && domain.contains('.') && !domain.contains('@')).then_some(e)
}

/// The last nine digits of a phone number: the same number written with or without country
/// code, spaces or punctuation gives the same key. None for fewer than six digits.
pub fn phone_key(phone: &str) -> Option<String> {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return None;
    }
    Some(digits[digits.len().saturating_sub(9)..].iter().collect())
}

/// Web domain from a URL or an e-mail address: lowercase, no scheme, no `www.`, no path.
/// Free-mail domains are not company domains and give None.
pub fn domain_key(url_or_email: &str) -> Option<String> {
    let s = url_or_email.trim().to_lowercase();
    let s = s.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or(s);
    let s = s.split_once("://").map(|(_, rest)| rest).unwrap_or(&s);
    let s = s.split(['/', '?', '#']).next().unwrap_or("");
    let s = s.split(':').next().unwrap_or("");
    let s = s.strip_prefix("www.").unwrap_or(s);
    if !s.contains('.') || s.starts_with('.') || s.ends_with('.') || FREE_MAIL.contains(&s) {
        return None;
    }
    Some(s.to_string())
}

const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "ziggo.nl",
    "kpnmail.nl",
    "live.nl",
    "hotmail.nl",
    "mail.dk",
    "wp.pl",
    "onet.pl",
    "o2.pl",
    "interia.pl",
    "gmx.de",
    "web.de",
];

/// Legal-form words that do not distinguish companies.
const LEGAL_FORMS: &[&str] = &[
    "bv", "nv", "vof", "cv", "aps", "as", "a/s", "ivs", "ab", "oy", "gmbh", "ag", "kg", "sa", "sarl", "srl", "spa",
    "ltd", "limited", "llc", "inc", "corp", "co", "plc", "sp", "zoo", "z", "o", "oo", "spolka", "the", "en", "og",
    "and", "&", "holding", "group", "groep",
];

/// Company name reduced to its distinguishing words: lowercase, accents folded, punctuation and
/// legal forms (B.V., ApS, Sp. z o.o., GmbH, Ltd ...) removed, words sorted.
pub fn company_key(name: &str) -> String {
    let folded: String = name.chars().flat_map(fold).collect::<String>().to_lowercase();
    let cleaned: String = folded.chars().map(|c| if c.is_alphanumeric() || c == '&' { c } else { ' ' }).collect();
    // "B.V." became "b v": join runs of single letters back before removing legal forms.
    let mut words: Vec<String> = vec![];
    let mut letters = String::new();
    for w in cleaned.split_whitespace() {
        if w.chars().count() == 1 && w != "&" {
            letters.push_str(w);
        } else {
            if !letters.is_empty() {
                words.push(std::mem::take(&mut letters));
            }
            words.push(w.to_string());
        }
    }
    if !letters.is_empty() {
        words.push(letters);
    }
    let mut kept: Vec<String> = words.into_iter().filter(|w| !LEGAL_FORMS.contains(&w.as_str())).collect();
    if kept.is_empty() {
        return folded.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    kept.sort();
    kept.join(" ")
}

fn fold(c: char) -> Vec<char> {
    let s = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'ą' | 'À' | 'Á' | 'Â' | 'Ä' | 'Ą' => "a",
        'å' | 'Å' => "aa",
        'æ' | 'Æ' => "ae",
        'ç' | 'ć' | 'č' | 'Ć' | 'Č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ę' | 'É' | 'È' | 'Ę' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Í' => "i",
        'ł' | 'Ł' => "l",
        'ñ' | 'ń' | 'Ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ó' | 'Ö' => "o",
        'ø' | 'Ø' => "oe",
        'ś' | 'š' | 'Ś' => "s",
        'ß' => "ss",
        'ù' | 'ú' | 'û' | 'ü' | 'Ü' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' => "z",
        _ => return vec![c],
    };
    s.chars().collect()
}

/// Jaro-Winkler similarity of two strings, 0.0 (nothing alike) to 1.0 (equal).
pub fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_match = vec![false; a.len()];
    let mut b_match = vec![false; b.len()];
    let mut matches = 0usize;
    for i in 0..a.len() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_match[j] && a[i] == b[j] {
                a_match[i] = true;
                b_match[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let (mut k, mut transpositions) = (0usize, 0usize);
    for i in 0..a.len() {
        if a_match[i] {
            while !b_match[k] {
                k += 1;
            }
            if a[i] != b[k] {
                transpositions += 1;
            }
            k += 1;
        }
    }
    let m = matches as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64 / 2.0) / m) / 3.0;
    let prefix = a.iter().zip(&b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

/// Company names this similar (after [`company_key`]) are reported as possible duplicates.
pub const FUZZY_THRESHOLD: f64 = 0.92;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_normalise_the_usual_variations() {
        assert_eq!(email_key(" Jan.Jansen@Example.NL "), Some("jan.jansen@example.nl".into()));
        assert_eq!(email_key("not-an-email"), None);
        assert_eq!(phone_key("+31 (0)20 123 4567"), phone_key("020-1234567"));
        assert_eq!(phone_key("12"), None);
        assert_eq!(domain_key("https://www.Acme.nl/contact"), Some("acme.nl".into()));
        assert_eq!(domain_key("piet@acme.nl"), Some("acme.nl".into()));
        assert_eq!(domain_key("piet@gmail.com"), None);
        assert_eq!(company_key("Acme B.V."), company_key("ACME bv"));
        assert_eq!(company_key("Nordisk Fjer ApS"), company_key("Nordisk Fjer A/S"));
        assert_eq!(company_key("Łódź Meble Sp. z o.o."), company_key("Lodz Meble"));
        assert_eq!(company_key("Van Dijk Installaties"), company_key("Installaties Van Dijk"));
    }

    #[test]
    fn fuzzy_names_catch_typos_but_not_different_companies() {
        assert!(similarity(&company_key("Bakkerij Jansen"), &company_key("Bakkerij Janssen")) >= FUZZY_THRESHOLD);
        assert!(similarity(&company_key("Bakkerij Jansen"), &company_key("Slagerij Pietersen")) < FUZZY_THRESHOLD);
        assert!((similarity("martha", "marhta") - 0.961).abs() < 0.001);
        assert_eq!(similarity("", ""), 1.0);
    }
}
