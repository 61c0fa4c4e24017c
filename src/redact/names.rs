//! Names: interview speakers pseudonymised per role, their names redacted where the text
//! mentions them (Finnish inflections included), and names introduced by a cue in free text
//! ("nimeni on Matti Virtanen", "jag heter Anna", "ask for John Smith").

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::{apply, moved, Counts, Kind, Redactor, Span};
use crate::record::{Document, Role};

/// One or two capitalised words after a cue that introduces a person, in fi/sv/en. The cue
/// is matched case-insensitively; the name must be capitalised.
static CUED: LazyLock<Regex> = LazyLock::new(|| {
    let cues = [
        // fi
        "nimeni on",
        "minun nimeni on",
        "nimi on",
        "myyjä",
        "myyjä nimeltä",
        "asiakaspalvelija",
        "asentaja",
        "kuljettaja",
        "nimeltä",
        "puhuin",
        "soitin",
        "kysykää",
        "kysy",
        // sv
        "jag heter",
        "mitt namn är",
        "heter",
        "handläggaren",
        "säljaren",
        "kundtjänstmedarbetaren",
        "montören",
        "chauffören",
        "pratade med",
        "talade med",
        "fråga efter",
        // en
        "my name is",
        "name is",
        "this is",
        "ask for",
        "asked for",
        "spoke to",
        "spoke with",
        "talked to",
        "talked with",
        "speak to",
        "thanks to",
        "thank you",
        "agent",
        "technician",
    ];
    let alternation = cues.map(regex::escape).join("|");
    // A cue's name follows in the same sentence: a comma may come between ("thank you,
    // Anna"), a full stop only after a title ("Mr. Smith"), never "Friendly technician.
    // Correct invoice.".
    Regex::new(&format!(
        r"(?i:\b(?:(?:{alternation}),?|(?:mr|mrs|ms|dr)\.?))\s+(\p{{Lu}}\p{{Ll}}+(?:-\p{{Lu}}\p{{Ll}}+)?(?:\s+\p{{Lu}}\p{{Ll}}+(?:-\p{{Lu}}\p{{Ll}}+)?)?)"
    ))
    .expect("valid regex")
});

/// Capitalised words that follow cues but are not people.
const NOT_NAMES: &[&str] = &[
    "I",
    "The",
    "A",
    "An",
    "It",
    "We",
    "You",
    "They",
    "He",
    "She",
    "Minä",
    "Me",
    "Te",
    "Hän",
    "Jag",
    "Vi",
    "Ni",
    "Han",
    "Hon",
    "Det",
    "Den",
    "Customer",
    "Support",
    "Service",
    "Asiakas",
    "Asiakaspalvelu",
    "Kundtjänst",
    "Kundservice",
    "Teille",
    "Teitä",
    "Er",
    "Dig",
    "Sinulle",
];

/// Names introduced by a cue.
pub fn cued(text: &str, out: &mut Vec<Span>) {
    for c in CUED.captures_iter(text) {
        let Some(name) = c.get(1) else { continue };
        let mut words = name.as_str().split_whitespace();
        let first = words.next().unwrap_or_default();
        if NOT_NAMES.contains(&first) {
            continue;
        }
        // A second capitalised word that is a stop word ("Anna The…") is not a surname.
        let end = match words.next() {
            Some(second) if NOT_NAMES.contains(&second) => name.start() + first.len(),
            _ => name.end(),
        };
        out.push(Span {
            start: name.start(),
            end,
            kind: Kind::Name,
            priority: 5,
        });
    }
}

/// Words of speaker labels that name a role, not a person.
const ROLE_WORDS: &[&str] = &[
    "haastattelija",
    "haastateltava",
    "asiakas",
    "puhuja",
    "moderaattori",
    "interviewer",
    "interviewee",
    "participant",
    "respondent",
    "customer",
    "speaker",
    "moderator",
    "host",
    "guest",
    "intervjuare",
    "intervjuperson",
    "kund",
    "deltagare",
    "talare",
    "unknown",
];

/// Name stems from speaker labels: "Liisa Haastattelija" gives "Liis"; "Pekka Virtanen"
/// gives "Pek", "Virta". A word of the text starting with a stem (and not much longer than
/// the name) is that person, inflected: "Pekalle", "Virtasen".
fn stems(labels: &[&String]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for label in labels {
        for word in label.split(|c: char| !c.is_alphabetic() && c != '-') {
            let chars: Vec<char> = word.chars().collect();
            let capital = chars.first().is_some_and(|c| c.is_uppercase());
            if chars.len() < 3 || !capital || ROLE_WORDS.contains(&word.to_lowercase().as_str()) {
                continue;
            }
            let keep = if word.ends_with("nen") {
                chars.len() - 3
            } else {
                chars.len().saturating_sub(2)
            };
            let stem: String = chars[..keep.max(3).min(chars.len())].iter().collect();
            out.push((stem, chars.len() + 4));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Spans of words in `text` that are one of the speakers, by [`stems`].
fn speaker_mentions(text: &str, stems: &[(String, usize)]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut at = 0;
    for word in text.split_inclusive(|c: char| !c.is_alphanumeric() && c != '-') {
        let bare = word.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '-');
        let len = bare.chars().count();
        if stems
            .iter()
            .any(|(stem, max)| len <= *max && bare.starts_with(stem.as_str()))
        {
            out.push(Span {
                start: at,
                end: at + bare.len(),
                kind: Kind::Name,
                priority: 5,
            });
        }
        at += word.len();
    }
    out
}

/// Redacts an interview: speaker labels become `Interviewer 1`, `Participant 1`, `Speaker 1`
/// (numbered per role in order of appearance) when `pseudonymise`, the speakers' names and
/// all other personal data in the turns are replaced, cue offsets follow the new text, and
/// the document text is rebuilt from the turns as the transcript reader builds it.
pub fn redact_interview(r: &Redactor, doc: &mut Document, counts: &mut Counts) {
    let pseudonymise = r.speakers;
    let mut labels: Vec<&String> = Vec::new();
    for t in &doc.turns {
        if !t.speaker.is_empty() && !labels.contains(&&t.speaker) {
            labels.push(&t.speaker);
        }
    }
    let stems = if r.kinds.contains(&Kind::Name) {
        stems(&labels)
    } else {
        Vec::new()
    };
    let mut per_role: HashMap<Role, usize> = HashMap::new();
    let renamed: HashMap<String, String> = labels
        .iter()
        .map(|label| {
            let role = doc
                .turns
                .iter()
                .find(|t| &&t.speaker == label)
                .map(|t| t.role)
                .unwrap_or(Role::Unknown);
            let n = per_role.entry(role).or_insert(0);
            *n += 1;
            let base = match role {
                Role::Interviewer => "Interviewer",
                Role::Participant | Role::Respondent => "Participant",
                Role::Unknown => "Speaker",
            };
            ((*label).clone(), format!("{base} {n}"))
        })
        .collect();
    for turn in &mut doc.turns {
        let spans = r.spans(&turn.text, speaker_mentions(&turn.text, &stems));
        let (text, moves) = apply(&turn.text, &spans, counts);
        for cue in &mut turn.cues {
            cue.char_start = moved(cue.char_start, &moves);
            cue.char_end = moved(cue.char_end, &moves);
        }
        turn.text = text;
        if pseudonymise {
            if let Some(name) = renamed.get(&turn.speaker) {
                turn.speaker = name.clone();
            }
        }
    }
    if pseudonymise {
        if let Some(id) = doc.respondent_id.as_mut() {
            if let Some(name) = renamed.get(id.as_str()) {
                *id = name.clone();
            }
        }
        *counts.entry("SPEAKER".into()).or_insert(0) += renamed.len() as u64;
    }
    doc.text = crate::record::interview_text(&mut doc.turns);
}

/// First names and surnames from open population statistics (assets/names, written by
/// scripts/gen_name_lists.py: Finland's DVV, Sweden's Skatteverket/ISOF, the US SSA and
/// Census, the UK ONS), all languages together: a Swede is named in Finnish feedback too.
struct Gazetteer {
    first: HashSet<&'static str>,
    last: HashSet<&'static str>,
}

static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(|| {
    let lines = |s: &'static str| s.lines().filter(|l| !l.is_empty());
    Gazetteer {
        first: lines(include_str!("../../assets/names/fi_first.txt"))
            .chain(lines(include_str!("../../assets/names/sv_first.txt")))
            .chain(lines(include_str!("../../assets/names/en_first.txt")))
            .collect(),
        last: lines(include_str!("../../assets/names/fi_last.txt"))
            .chain(lines(include_str!("../../assets/names/sv_last.txt")))
            .chain(lines(include_str!("../../assets/names/en_last.txt")))
            .collect(),
    }
});

/// Capitalised English words that are surnames or first names in the census lists but
/// name no person: languages and nationalities, months, weekdays, holidays.
const NOT_PEOPLE: &[&str] = &[
    "English",
    "Finnish",
    "Swedish",
    "French",
    "German",
    "Spanish",
    "Danish",
    "Norwegian",
    "Russian",
    "Estonian",
    "British",
    "American",
    "Nordic",
    "Scandinavian",
    "European",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Christmas",
    "Easter",
];

/// Finnish case endings, longest first: "Annalta", "Matille", "Virtasen" are Anna, Matti,
/// Virtanen; the Swedish genitive "Fredriks" is Fredrik.
const ENDINGS: &[&str] = &[
    "ineen", "lleen", "ltaan", "llaan", "staan", "ssaan", "seen", "ksi", "lle", "lta", "ltä",
    "lla", "llä", "sta", "stä", "ssa", "ssä", "na", "nä", "ta", "tä", "n", "s", "a", "ä",
];

/// The base forms `word` may be an inflection of (itself first).
fn bases(word: &str) -> Vec<String> {
    let mut out = vec![word.to_string()];
    for ending in ENDINGS {
        let Some(stem) = word.strip_suffix(ending) else {
            continue;
        };
        if stem.chars().count() < 2 {
            continue;
        }
        out.push(stem.to_string());
        // Virtase-n ← Virtanen
        if let Some(s) = stem.strip_suffix("se") {
            out.push(format!("{s}nen"));
        }
        // Consonant gradation: Mati-lle ← Matti, Peka-lta ← Pekka.
        let chars: Vec<char> = stem.chars().collect();
        if let [.., c, v] = chars[..] {
            if "kpt".contains(c) && "aeiouyäö".contains(v) {
                let mut strong: String = chars[..chars.len() - 1].iter().collect();
                strong.push(c);
                strong.push(v);
                out.push(strong);
            }
        }
    }
    out
}

/// Names found by the gazetteer: a known first name followed by a capitalised word (a
/// surname, known or not: "Pekka Laaksonen"), anywhere; a known first name or surname alone
/// (inflected too) where a capital cannot be the sentence's first word. A name alone at the
/// start of a sentence is left (in Finnish and Swedish "Tuuli", "Onni", "Björk" are words).
pub fn gazetteer(text: &str, out: &mut Vec<Span>) {
    let g = &*GAZETTEER;
    let words = capitalised_words(text);
    let known = |w: &str, set: &HashSet<&'static str>| {
        !NOT_PEOPLE.contains(&w) && bases(w).iter().any(|b| set.contains(b.as_str()))
    };
    let mut i = 0;
    while i < words.len() {
        let (start, end, sentence_start) = words[i];
        let word = &text[start..end];
        let next = words
            .get(i + 1)
            .filter(|(s, _, starts)| !starts && text[end..*s].chars().all(|c| c == ' '));
        // An inflected first name ("Jonnalle") is followed by an inflected surname, not by
        // any capitalised word ("Jonnalle Tampereen liikkeessä": a city).
        let pair = next.filter(|&&(s, e, _)| {
            g.first.contains(word) || (known(word, &g.first) && known(&text[s..e], &g.last))
        });
        if let Some(&(_, next_end, _)) = pair {
            out.push(Span {
                start,
                end: next_end,
                kind: Kind::Name,
                priority: 5,
            });
            i += 2;
            continue;
        }
        if !sentence_start && (known(word, &g.first) || known(word, &g.last)) {
            out.push(Span {
                start,
                end,
                kind: Kind::Name,
                priority: 5,
            });
        }
        i += 1;
    }
}

/// Capitalised words (then lowercase letters, hyphenated parts allowed) with their byte span
/// and whether they begin a sentence (nothing but punctuation, quotes or spaces since the
/// last `.`, `!`, `?`, `:`, line break or the start).
fn capitalised_words(text: &str) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let mut sentence_start = true;
    let mut at = 0;
    for word in text.split_inclusive(|c: char| !(c.is_alphanumeric() || c == '-')) {
        let len = word.len();
        let bare = word.trim_end_matches(|c: char| !(c.is_alphanumeric() || c == '-'));
        let tail = &word[bare.len()..];
        let mut chars = bare.chars();
        let capital = chars.next().is_some_and(char::is_uppercase)
            && chars.clone().next().is_some_and(char::is_lowercase)
            && chars.all(|c| c.is_lowercase() || c == '-' || c.is_uppercase());
        if !bare.is_empty() {
            if capital {
                out.push((at, at + bare.len(), sentence_start));
            }
            sentence_start = false;
        }
        if tail
            .chars()
            .any(|c| matches!(c, '.' | '!' | '?' | ':' | '\n'))
        {
            sentence_start = true;
        }
        at += len;
    }
    out
}
