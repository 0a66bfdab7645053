//! Full-text search text: one normaliser for what is stored and what is asked, so the two
//! cannot drift apart. Lowercase, accents removed ("Łódź" → "lodz", "Ærø" → "aero"), every
//! run of non-alphanumerics one space. Stored documents also carry the transliterated spelling
//! of words with Nordic and German letters ("ærø" → "aeroe", "Århus" → "aarhus", "Müller" →
//! "mueller"), so both ways of typing them find the record. See docs/search.md.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Most words a query may have (more are ignored): every word is a prefix condition.
pub const MAX_QUERY_WORDS: usize = 8;
/// Longest word kept from a query, in characters.
pub const MAX_WORD_CHARS: usize = 48;

/// Letters without a canonical decomposition, folded by hand.
fn special(c: char) -> Option<&'static str> {
    Some(match c {
        'ł' | 'Ł' => "l",
        'ø' | 'Ø' => "o",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ß' | 'ẞ' => "ss",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'þ' | 'Þ' => "th",
        'ı' => "i",
        'ħ' | 'Ħ' => "h",
        'ŀ' | 'Ŀ' => "l",
        'ŧ' | 'Ŧ' => "t",
        _ => return None,
    })
}

/// Transliterations indexed as a second spelling ("ø" → "oe" next to "o").
fn transliteration(c: char) -> Option<&'static str> {
    Some(match c {
        'ø' | 'Ø' | 'ö' | 'Ö' => "oe",
        'å' | 'Å' => "aa",
        'ä' | 'Ä' => "ae",
        'ü' | 'Ü' => "ue",
        _ => return None,
    })
}

fn push_folded(out: &mut String, c: char) {
    if let Some(s) = special(c) {
        out.push_str(s);
        return;
    }
    if c.is_ascii() {
        out.push(if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { ' ' });
        return;
    }
    for d in std::iter::once(c).nfd() {
        if is_combining_mark(d) {
            continue;
        }
        if let Some(s) = special(d) {
            out.push_str(s);
        } else if d.is_alphanumeric() {
            out.extend(d.to_lowercase());
        } else {
            out.push(' ');
        }
    }
}

/// The normalised form of `s`: lowercase words without accents, separated by single spaces.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_folded(&mut out, c);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text indexed for a record from its searchable fields: every field folded, plus the
/// transliterated spelling of words that have one.
pub fn document<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for f in fields {
        let folded = fold(f);
        if folded.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&folded);
        for word in f.split(|c: char| !c.is_alphanumeric()) {
            if !word.chars().any(|c| transliteration(c).is_some()) {
                continue;
            }
            let mut alt = String::new();
            for c in word.chars() {
                match transliteration(c) {
                    Some(t) => alt.push_str(t),
                    None => push_folded(&mut alt, c),
                }
            }
            let alt = fold(&alt);
            if !alt.is_empty() {
                out.push(' ');
                out.push_str(&alt);
            }
        }
    }
    out
}

/// The words of a search as typed: folded, each one a prefix that must match (AND). Quotes,
/// operators and punctuation are separators, never syntax, so no input can break a query.
pub fn query_words(q: &str) -> Vec<String> {
    let mut words: Vec<String> = vec![];
    for w in fold(q).split(' ').filter(|w| !w.is_empty()) {
        let w: String = w.chars().take(MAX_WORD_CHARS).collect();
        if !words.contains(&w) {
            words.push(w);
        }
        if words.len() == MAX_QUERY_WORDS {
            break;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_accents_and_punctuation() {
        assert_eq!(fold("Łódź Meble"), "lodz meble");
        assert_eq!(fold("Ærø Bakkeri"), "aero bakkeri");
        assert_eq!(fold("Café  Noël-Straße"), "cafe noel strasse");
        assert_eq!(fold("jan@Bakkerij.NL"), "jan bakkerij nl");
        assert_eq!(fold("\"NEAR\" * -x OR (y)"), "near x or y");
        assert_eq!(fold("Škoda Čeština Ångström"), "skoda cestina angstrom");
    }

    #[test]
    fn documents_carry_transliterations() {
        assert_eq!(document(["Ærø Møbler", "Århus"]), "aero mobler aeroe moebler arhus aarhus");
        assert_eq!(document(["Müller", ""]), "muller mueller");
        assert_eq!(document(["Plain"]), "plain");
    }

    #[test]
    fn query_words_are_bounded_and_never_syntax() {
        assert_eq!(query_words("  bakk \"de\" wit* NEAR(a b) -x "), vec!["bakk", "de", "wit", "near", "a", "b", "x"]);
        assert!(query_words("\"*:&|!()'").is_empty());
        assert_eq!(query_words("a a a").len(), 1);
        assert_eq!(
            query_words(
                &"w "
                    .repeat(20)
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if c == 'w' { char::from(b'a' + (i % 26) as u8) } else { c })
                    .collect::<String>()
            )
            .len(),
            MAX_QUERY_WORDS
        );
    }
}
