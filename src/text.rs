//! Text → keyword terms: Unicode word segmentation, language-aware stop words, Snowball
//! stemming. Terms are keyed by stem so "reititin", "reitittimen" and "reititintä" count as
//! one word; the surface form is kept for display. Shared by `discover` (keywords of emergent
//! themes) and `classify` (the lexical features of the heads).

use std::collections::HashSet;
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_segmentation::UnicodeSegmentation;

/// The languages with their own stop words and stemmer. Anything else (including `und`) is
/// `Other`: the union of all stop lists and no stemming, because a wrong language's stemmer
/// mangles words while leaving them unstemmed only splits a few inflected forms apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Fi,
    Sv,
    En,
    Other,
}

impl Lang {
    /// Accepts ISO 639-1/639-2 codes and BCP 47 tags ("fi", "FIN", "sv-SE", "en_GB").
    pub(crate) fn from_code(code: &str) -> Lang {
        match primary_subtag(code).to_ascii_lowercase().as_str() {
            "fi" | "fin" => Lang::Fi,
            "sv" | "swe" => Lang::Sv,
            "en" | "eng" => Lang::En,
            _ => Lang::Other,
        }
    }
}

/// The language of a BCP 47 tag or ISO 639 code without its region or script (`sv-SE` → `sv`).
pub(crate) fn primary_subtag(code: &str) -> &str {
    code.split(['-', '_']).next().unwrap_or("").trim()
}

/// One counted word of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    pub stem: String,
    pub surface: String,
}

struct Lists {
    /// Function words, matched by surface form only: stemming them would collide with
    /// content words (Swedish "vara" = to be, stem "var", is also the stem of "varor" = goods).
    function: HashSet<&'static str>,
    /// Topic-free feedback words, matched by surface form and by stem so inflections go too.
    generic: HashSet<&'static str>,
    generic_stems: HashSet<String>,
    stemmer: Option<Stemmer>,
    /// Repair the Finnish stemmer's output with [`finnish_fixup`].
    finnish: bool,
}

fn is_consonant(c: char) -> bool {
    c.is_alphabetic() && !"aeiouyäöå".contains(c)
}

/// Snowball's Finnish stemmer leaves two common noun classes split across their inflections,
/// which splits a cluster's main keyword into several weak ones:
/// - "-in" nouns, the usual name of a device: reititin → "reitit", reititintä → "reititin",
///   reitittimen → "reitittim" (and puhelin, soitin, laskin, kaiutin…). A final "in"/"im" is
///   cut and a double consonant before it halved, giving "reitit" for all three. Only stems of
///   six letters or more are touched, so short stems such as "viin" (viinin) stay as they are.
/// - "-us"/"-ys"/"-os"/"-ös" nouns: toimitus → "toimitus", toimituksen → "toimituks"; the
///   "ks" is turned back into "s".
fn finnish_fixup(mut stem: String) -> String {
    let chars: Vec<char> = stem.chars().collect();
    let n = chars.len();
    if n < 6 {
        return stem;
    }
    let (a, b, c) = (chars[n - 3], chars[n - 2], chars[n - 1]);
    if b == 'i' && (c == 'n' || c == 'm') {
        let mut base: Vec<char> = chars[..n - 2].to_vec();
        let m = base.len();
        if base[m - 1] == base[m - 2] && is_consonant(base[m - 1]) {
            base.pop();
        }
        stem = base.into_iter().collect();
    } else if b == 'k' && c == 's' && "uyoö".contains(a) {
        stem = chars[..n - 2].iter().chain(&['s']).collect();
    }
    stem
}

impl Lists {
    fn new(
        function: &[&'static str],
        generic: &[&'static str],
        algorithm: Option<Algorithm>,
    ) -> Self {
        let mut lists = Lists {
            function: function.iter().copied().collect(),
            generic: generic.iter().copied().collect(),
            generic_stems: HashSet::new(),
            stemmer: algorithm.map(Stemmer::create),
            finnish: algorithm == Some(Algorithm::Finnish),
        };
        lists.generic_stems = generic.iter().map(|w| lists.stem(w)).collect();
        lists
    }

    fn stem(&self, surface: &str) -> String {
        match &self.stemmer {
            Some(s) => {
                let stem = s.stem(surface).into_owned();
                if self.finnish {
                    finnish_fixup(stem)
                } else {
                    stem
                }
            }
            None => surface.to_owned(),
        }
    }

    fn term(&self, surface: &str) -> Option<Term> {
        if self.function.contains(surface) || self.generic.contains(surface) {
            return None;
        }
        let stem = self.stem(surface);
        if stem.chars().count() < 2 || self.generic_stems.contains(&stem) {
            return None;
        }
        Some(Term {
            stem,
            surface: surface.to_owned(),
        })
    }
}

pub(crate) struct Analyzer {
    fi: Lists,
    sv: Lists,
    en: Lists,
    other: Lists,
}

fn words(list: &'static str) -> Vec<&'static str> {
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

impl Analyzer {
    /// Built once per process: the lists are static and stemming the generic words is cheap,
    /// but there is no reason to repeat it per call.
    pub(crate) fn get() -> &'static Analyzer {
        static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
        ANALYZER.get_or_init(Analyzer::build)
    }

    fn build() -> Analyzer {
        let (fi, fi_g) = (
            words(include_str!("../assets/stopwords/fi.txt")),
            words(include_str!("../assets/stopwords/fi_generic.txt")),
        );
        let (sv, sv_g) = (
            words(include_str!("../assets/stopwords/sv.txt")),
            words(include_str!("../assets/stopwords/sv_generic.txt")),
        );
        let (en, en_g) = (
            words(include_str!("../assets/stopwords/en.txt")),
            words(include_str!("../assets/stopwords/en_generic.txt")),
        );
        let all_function: Vec<_> = [&fi, &sv, &en].into_iter().flatten().copied().collect();
        let all_generic: Vec<_> = [&fi_g, &sv_g, &en_g]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        Analyzer {
            fi: Lists::new(&fi, &fi_g, Some(Algorithm::Finnish)),
            sv: Lists::new(&sv, &sv_g, Some(Algorithm::Swedish)),
            en: Lists::new(&en, &en_g, Some(Algorithm::English)),
            other: Lists::new(&all_function, &all_generic, None),
        }
    }

    fn lists(&self, lang: Lang) -> &Lists {
        match lang {
            Lang::Fi => &self.fi,
            Lang::Sv => &self.sv,
            Lang::En => &self.en,
            Lang::Other => &self.other,
        }
    }

    /// Keyword terms of `text` in reading order; stop words, numbers and 1-letter tokens are
    /// left out.
    pub(crate) fn terms(&self, text: &str, lang: Lang) -> Vec<Term> {
        let lists = self.lists(lang);
        text.unicode_words()
            .filter_map(|word| {
                // UAX #29 keeps "DNA:n" / "SJ:s" as one word; the part after the colon is a
                // case ending on an abbreviation, not part of the word.
                let base = word.split(':').next().unwrap_or(word);
                let surface = base.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'");
                let surface = surface.trim_matches('\'');
                if surface.chars().count() < 2 || !surface.chars().any(char::is_alphabetic) {
                    return None;
                }
                lists.term(surface)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(text: &str, lang: &str) -> Vec<String> {
        Analyzer::get()
            .terms(text, Lang::from_code(lang))
            .into_iter()
            .map(|t| t.stem)
            .collect()
    }

    fn surfaces(text: &str, lang: &str) -> Vec<String> {
        Analyzer::get()
            .terms(text, Lang::from_code(lang))
            .into_iter()
            .map(|t| t.surface)
            .collect()
    }

    #[test]
    fn language_codes() {
        assert_eq!(Lang::from_code("fi"), Lang::Fi);
        assert_eq!(Lang::from_code("FIN"), Lang::Fi);
        assert_eq!(Lang::from_code("sv-SE"), Lang::Sv);
        assert_eq!(Lang::from_code("en_GB"), Lang::En);
        assert_eq!(Lang::from_code("und"), Lang::Other);
        assert_eq!(Lang::from_code(""), Lang::Other);
        assert_eq!(Lang::from_code("de"), Lang::Other);
    }

    #[test]
    fn finnish_inflections_share_a_stem() {
        for forms in [
            "reititin reitittimen reititintä reitittimet reitittimessä",
            "puhelin puhelimen puhelinta puhelimia",
            "kaiutin kaiuttimen kaiutinta",
            "toimitus toimituksen toimituksessa",
            "kysymys kysymyksen",
            "lasku laskun laskua laskussa",
        ] {
            let s = stems(forms, "fi");
            assert!(s.len() >= 2 && s.iter().all(|x| x == &s[0]), "{s:?}");
        }
        // Short stems are left alone: "viini" must not collapse to "vi".
        assert_eq!(stems("viinin", "fi"), ["viin"]);
        assert_ne!(stems("lasku", "fi"), stems("laskin", "fi"));
    }

    #[test]
    fn stop_words_numbers_and_single_letters_go() {
        assert_eq!(
            surfaces(
                "Mä en oli ja ei se 40 € 3,5 x kun niin joo että mutta lasku",
                "fi"
            ),
            ["lasku"]
        );
        assert_eq!(
            surfaces("Jag har inte och det var en faktura", "sv"),
            ["faktura"]
        );
        assert_eq!(
            surfaces("I didn\u{2019}t get the invoice, it's wrong", "en"),
            ["invoice", "wrong"]
        );
    }

    #[test]
    fn generic_words_go_in_every_inflection() {
        assert_eq!(surfaces("Asiakkaana huonoa palvelua", "fi"), ["palvelua"]);
        assert_eq!(
            surfaces("Dåliga kunder, bra kundtjänst", "sv"),
            ["kundtjänst"]
        );
        assert_eq!(
            surfaces("Terrible customer service experience", "en"),
            ["service"]
        );
    }

    #[test]
    fn undetermined_uses_every_list_without_stemming() {
        assert_eq!(
            surfaces("ja och and the reititin router", "und"),
            ["reititin", "router"]
        );
        assert_eq!(stems("reitittimen", "und"), ["reitittimen"]);
    }

    #[test]
    fn abbreviation_case_endings_are_cut() {
        assert_eq!(surfaces("DNA:n lasku", "fi"), ["dna", "lasku"]);
    }

    #[test]
    fn domain_words_are_not_stop_words() {
        for (word, lang) in [
            ("lasku", "fi"),
            ("reititin", "fi"),
            ("asiakaspalvelu", "fi"),
            ("palvelu", "fi"),
            ("faktura", "sv"),
            ("kundtjänst", "sv"),
            ("leverans", "sv"),
            ("invoice", "en"),
            ("router", "en"),
            ("delivery", "en"),
            ("service", "en"),
        ] {
            assert_eq!(surfaces(word, lang), [word], "{word} ({lang})");
        }
    }
}
