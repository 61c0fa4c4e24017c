//! Interview transcripts → one `Document` with speaker turns. Format readers only produce
//! `Cue`s (speaker, text, times); merging cues into turns, placing turns in the document text
//! and deciding who interviews whom happen here, once for every format.

pub mod docx;
pub mod lines;
pub mod srt;
pub mod time;
pub mod vtt;

use std::collections::HashMap;

use crate::config::TranscriptConfig;
use crate::record::{CueSpan, DocKind, Document, Role, Turn};

/// One caption cue or transcript paragraph as a format reader found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// 1-based line where the cue starts (paragraph number for DOCX).
    pub line: u64,
    pub speaker: Option<String>,
    pub text: String,
    pub t_start: Option<f64>,
    pub t_end: Option<f64>,
}

/// Role words in speaker labels ("Haastattelija Anna Virtanen", "Interviewer", "Kund 1").
const INTERVIEWER_WORDS: &[&str] = &[
    "haastattelija",
    "interviewer",
    "intervjuare",
    "moderator",
    "moderaattori",
    "fasilitaattori",
    "facilitator",
    "researcher",
    "tutkija",
    "forskare",
    "host",
];
const PARTICIPANT_WORDS: &[&str] = &[
    "asiakas",
    "participant",
    "customer",
    "kund",
    "respondent",
    "osallistuja",
    "deltagare",
    "haastateltava",
    "interviewee",
    "intervjuperson",
    "client",
];

/// Assemble the interview document. Cues without a speaker continue the previous speaker.
pub fn build_document(
    source: &str,
    mut cues: Vec<Cue>,
    cfg: &TranscriptConfig,
) -> Result<Document, String> {
    cues.retain(|c| !c.text.trim().is_empty());
    if cues.is_empty() {
        return Err("no transcript text found (no cues or speaker turns)".into());
    }
    // Header-only timestamps (Otter, Teams DOCX) give starts; a cue ends where the next begins.
    for i in 0..cues.len() {
        if cues[i].t_end.is_none() {
            cues[i].t_end = cues.get(i + 1).and_then(|n| n.t_start);
        }
    }
    let mut turns: Vec<Turn> = Vec::new();
    let mut speaker: Option<String> = None;
    for cue in cues {
        if cue.speaker.is_some() {
            speaker = cue.speaker.clone();
        }
        let label = speaker.clone().unwrap_or_default();
        let text = cue.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let same = turns.last().is_some_and(|t| t.speaker == label);
        if !same {
            turns.push(Turn {
                speaker: label,
                role: Role::Unknown,
                char_start: 0,
                text: String::new(),
                t_start: cue.t_start,
                t_end: cue.t_end,
                cues: Vec::new(),
            });
        }
        let Some(turn) = turns.last_mut() else {
            continue;
        };
        if !turn.text.is_empty() {
            turn.text.push(' ');
        }
        let start = turn.text.chars().count();
        turn.text.push_str(&text);
        turn.cues.push(CueSpan {
            char_start: start,
            char_end: start + text.chars().count(),
            t_start: cue.t_start,
            t_end: cue.t_end,
        });
        turn.t_start = turn.t_start.or(cue.t_start);
        turn.t_end = cue.t_end.or(turn.t_end);
    }
    assign_roles(&mut turns, cfg);
    let text = crate::record::interview_text(&mut turns);
    let respondent = turns
        .iter()
        .find(|t| t.role == Role::Participant && !t.speaker.is_empty())
        .map(|t| t.speaker.clone());
    Ok(Document {
        doc_id: source.to_string(),
        kind: DocKind::Interview,
        source_file: source.to_string(),
        source_row: None,
        source_column: None,
        question: None,
        respondent_id: respondent,
        score: None,
        score_kind: None,
        date: None,
        metadata: Vec::new(),
        text,
        turns,
        lang: None,
    })
}

/// Roles, in order of authority: names listed in the config, role words in the speaker label,
/// then the heuristic — the interviewer asks: the speaker with the largest share of sentences
/// ending in "?" is the interviewer when at least a quarter of their sentences are questions,
/// their question share beats everyone else's, and they speak less than the others together.
/// Everyone else is a participant. A transcript without speaker labels stays `unknown`.
pub fn assign_roles(turns: &mut [Turn], cfg: &TranscriptConfig) {
    let matches = |name: &str, list: &[String]| {
        let n = name.to_lowercase();
        list.iter()
            .any(|w| !w.is_empty() && n.contains(&w.to_lowercase()))
    };
    let has_word = |name: &str, words: &[&str]| {
        let n = name.to_lowercase();
        words.iter().any(|w| n.contains(w))
    };
    let mut speakers: Vec<String> = Vec::new();
    for t in turns.iter() {
        if !speakers.contains(&t.speaker) {
            speakers.push(t.speaker.clone());
        }
    }
    let mut roles: HashMap<String, Role> = HashMap::new();
    for s in &speakers {
        let role = if s.is_empty() {
            Some(Role::Unknown)
        } else if matches(s, &cfg.interviewers) {
            Some(Role::Interviewer)
        } else if matches(s, &cfg.participants) {
            Some(Role::Participant)
        } else if has_word(s, INTERVIEWER_WORDS) {
            Some(Role::Interviewer)
        } else if has_word(s, PARTICIPANT_WORDS) {
            Some(Role::Participant)
        } else {
            None
        };
        if let Some(r) = role {
            roles.insert(s.clone(), r);
        }
    }
    let undecided: Vec<&String> = speakers
        .iter()
        .filter(|s| !roles.contains_key(*s))
        .collect();
    if !undecided.is_empty() {
        let have_interviewer = roles.values().any(|r| *r == Role::Interviewer);
        let total_chars: usize = turns.iter().map(|t| t.text.chars().count()).sum();
        let profile = |s: &str| {
            let (mut sentences, mut questions, mut chars) = (0usize, 0usize, 0usize);
            for t in turns.iter().filter(|t| t.speaker == s) {
                chars += t.text.chars().count();
                for piece in t.text.split_inclusive(['.', '!', '?']) {
                    if piece.trim().chars().any(char::is_alphanumeric) {
                        sentences += 1;
                        questions += usize::from(piece.trim_end().ends_with('?'));
                    }
                }
            }
            let q = if sentences == 0 {
                0.0
            } else {
                questions as f64 / sentences as f64
            };
            (q, chars as f64 / total_chars.max(1) as f64)
        };
        let profiles: Vec<(&String, f64, f64)> = speakers
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| {
                let (q, talk) = profile(s);
                (s, q, talk)
            })
            .collect();
        let best = profiles
            .iter()
            .filter(|(s, _, _)| undecided.contains(s))
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.2.total_cmp(&a.2)));
        let chosen = best.filter(|(s, q, talk)| {
            !have_interviewer
                && speakers.len() > 1
                && *q >= 0.25
                && *talk < 0.5
                && profiles.iter().all(|(o, oq, _)| o == s || oq < q)
        });
        for s in undecided {
            let role = if chosen.is_some_and(|(c, _, _)| *c == s) {
                Role::Interviewer
            } else {
                Role::Participant
            };
            roles.insert(s.clone(), role);
        }
    }
    for t in turns.iter_mut() {
        t.role = roles.get(&t.speaker).copied().unwrap_or(Role::Unknown);
    }
}

/// A label that can stand before `:` as a speaker: short, capitalised, no sentence punctuation.
pub fn looks_like_name(s: &str) -> bool {
    let s = s.trim();
    let words = s.split_whitespace().count();
    !s.is_empty()
        && s.chars().count() <= 40
        && (1..=4).contains(&words)
        && s.chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c == '[')
        && !s.contains(['.', ',', '?', '!', ';', '"', '(', ')'])
        && s.chars().filter(|c| c.is_ascii_digit()).count() <= 2
}

/// Split `Name: text` when the prefix looks like a speaker label.
pub fn split_name_colon(line: &str) -> Option<(String, String)> {
    let (name, rest) = line.split_once(':')?;
    let name = name.trim().trim_matches(['*', '_']).trim();
    // "klo 9:30" and URLs are not speakers.
    if rest.starts_with(|c: char| c.is_ascii_digit()) || rest.starts_with("//") {
        return None;
    }
    let rest = rest.trim_start_matches(['*', '_']).trim();
    looks_like_name(name).then(|| (name.to_string(), rest.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(s: Option<&str>, text: &str, t: f64) -> Cue {
        Cue {
            line: 1,
            speaker: s.map(str::to_string),
            text: text.into(),
            t_start: Some(t),
            t_end: Some(t + 2.0),
        }
    }

    #[test]
    fn merges_cues_and_infers_interviewer() {
        let cues = vec![
            cue(Some("Anna"), "Miten tilaus sujui?", 0.0),
            cue(Some("Matti"), "Tilaus sujui hyvin.", 2.0),
            cue(
                None,
                "Mutta asennus viivästyi kaksi viikkoa, koska reititin puuttui.",
                4.0,
            ),
            cue(Some("Anna"), "Entä laskutus? Oliko se selkeä?", 6.0),
            cue(Some("Matti"), "Lasku oli väärä.", 8.0),
        ];
        let doc = build_document("x.vtt", cues, &TranscriptConfig::default()).unwrap();
        assert_eq!(doc.turns.len(), 4);
        assert_eq!(doc.turns[1].cues.len(), 2);
        assert_eq!(
            (doc.turns[1].t_start, doc.turns[1].t_end),
            (Some(2.0), Some(6.0))
        );
        assert_eq!(doc.turns[0].role, Role::Interviewer);
        assert_eq!(doc.turns[1].role, Role::Participant);
        let t = &doc.turns[2];
        let in_doc: String = doc
            .text
            .chars()
            .skip(t.char_start)
            .take(t.text.chars().count())
            .collect();
        assert_eq!(in_doc, t.text);
        assert_eq!(doc.respondent_id.as_deref(), Some("Matti"));
    }

    #[test]
    fn config_names_win() {
        let cfg = TranscriptConfig {
            interviewers: vec!["matti".into()],
            participants: vec![],
        };
        let cues = vec![
            cue(Some("Anna"), "Miksi?", 0.0),
            cue(Some("Matti"), "Siksi.", 2.0),
        ];
        let doc = build_document("x.vtt", cues, &cfg).unwrap();
        assert_eq!(doc.turns[1].role, Role::Interviewer);
        assert_eq!(doc.turns[0].role, Role::Participant);
    }

    #[test]
    fn name_colon() {
        assert_eq!(
            split_name_colon("Anna Virtanen: Hei!"),
            Some(("Anna Virtanen".into(), "Hei!".into()))
        );
        assert_eq!(
            split_name_colon("**Haastattelija:** Kerro"),
            Some(("Haastattelija".into(), "Kerro".into()))
        );
        assert_eq!(split_name_colon("Soitin klo 9:30 ja odotin."), None);
        assert_eq!(split_name_colon("the reason was simple: price"), None);
    }
}
