//! Segmentation: documents → sentences (survey answers) or sentences within speaker turns
//! (interviews), with char spans into the document text and, for interviews, times.
//! Sentence boundaries are UAX-29's, corrected for fi/sv/en abbreviations that UAX-29 takes
//! for sentence ends ("esim. Matti", "t.ex. Kalle", "e.g. The").

use std::collections::HashSet;

use unicode_segmentation::UnicodeSegmentation;

use crate::config::SegmentConfig;
use crate::record::{DocKind, Document, Role, Segment};

/// Splits text into sentence spans. Implementations must return ordered, non-overlapping,
/// trimmed, non-empty char ranges that together hold every non-whitespace char of the text.
pub trait Segmenter: Sync {
    fn split(&self, text: &str) -> Vec<(usize, usize)>;
}

/// Abbreviations that are followed by more of the same sentence. Sentence-final ones
/// ("jne.", "osv.", "etc.") are absent: merging after them would glue two sentences.
const ABBREVIATIONS: &[&str] = &[
    // Finnish
    "esim.", "mm.", "ns.", "ks.", "vrt.", "klo", "puh.", "os.", "ts.", "k.", "ko.", "em.", "ao.",
    "ed.", "nk.", "nro.", "kpl.", "vk.", "kk.", "pvm.", "huom.", "alk.", "n.", "s.", "v.", "ma.",
    "ti.", "ke.", "to.", "pe.", "la.", "su.", "mk.", "tri.", "prof.", "ym.", "eli.", "yht.",
    // Swedish
    "t.ex.", "bl.a.", "d.v.s.", "dvs.", "s.k.", "m.m.", "ca.", "f.d.", "p.g.a.", "pga.", "enl.",
    "kl.", "st.", "nr.", "resp.", "jfr.", "obs.", "ang.", "inkl.", "exkl.", "t.o.m.", "fr.o.m.",
    "t.ex", "bl.a", // English
    "e.g.", "i.e.", "vs.", "mr.", "mrs.", "ms.", "dr.", "no.", "approx.", "dept.", "jr.", "sr.",
    "fig.", "cf.", "est.", "min.", "hrs.", "tel.", "ave.",
];

/// The configured segmenter.
pub fn from_config(cfg: &crate::config::SegmentConfig) -> Box<dyn Segmenter> {
    match cfg.method {
        crate::config::SegmentMethod::Sentences => Box::new(SentenceSegmenter::new(cfg)),
    }
}

pub struct SentenceSegmenter {
    abbreviations: HashSet<String>,
    max_chars: usize,
}

impl SentenceSegmenter {
    pub fn new(cfg: &SegmentConfig) -> Self {
        let mut abbreviations: HashSet<String> =
            ABBREVIATIONS.iter().map(|s| s.to_string()).collect();
        abbreviations.extend(cfg.abbreviations.iter().map(|s| s.to_lowercase()));
        SentenceSegmenter {
            abbreviations,
            max_chars: cfg.max_chars.max(20),
        }
    }

    /// Does a piece end in something that cannot end a sentence?
    fn continues(&self, piece: &str) -> bool {
        let trimmed = piece.trim_end();
        let Some(last) = trimmed.split_whitespace().next_back() else {
            return false;
        };
        let last = last
            .trim_start_matches(['(', '"', '\'', '«', '“'])
            .to_lowercase();
        if self.abbreviations.contains(&last) {
            return true;
        }
        // Finnish day-month dates ("3.9. Soitin" is rare; "soitin 3.9. Asiakaspalveluun" is not).
        let parts: Vec<&str> = last.split('.').collect();
        if parts.len() == 3
            && parts[2].is_empty()
            && parts[..2]
                .iter()
                .all(|p| (1..=2).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()))
        {
            return true;
        }
        // Initials ("J. Smith", "A. Virtanen").
        let mut chars = last.chars();
        matches!((chars.next(), chars.next(), chars.next()), (Some(c), Some('.'), None) if c.is_alphabetic())
    }
}

impl Segmenter for SentenceSegmenter {
    fn split(&self, text: &str) -> Vec<(usize, usize)> {
        // Byte ranges of sentences after abbreviation repair.
        let mut merged: Vec<(usize, usize)> = Vec::new();
        let mut glue = false;
        for (start, piece) in text.split_sentence_bound_indices() {
            let end = start + piece.len();
            match merged.last_mut() {
                Some(last) if glue => last.1 = end,
                _ => merged.push((start, end)),
            }
            // A line break ends a sentence whatever precedes it.
            glue = !piece.ends_with(['\n', '\r', '\u{2029}']) && self.continues(piece);
        }
        let mut out = Vec::new();
        let mut cursor = CharCursor::new(text);
        for (s, e) in merged {
            let slice = &text[s..e];
            let lead = slice.len() - slice.trim_start().len();
            let trail = slice.len() - slice.trim_end().len();
            if lead + trail >= slice.len() {
                continue;
            }
            let (s, e) = (s + lead, e - trail);
            for (bs, be) in cap_length(text, s, e, self.max_chars) {
                out.push((cursor.char_at(bs), cursor.char_at(be)));
            }
        }
        out
    }
}

/// Split an over-long sentence (a run-on comment, a pasted log) at whitespace so every
/// segment stays a quotable unit. Byte ranges in, byte ranges out, each trimmed.
fn cap_length(text: &str, s: usize, e: usize, max_chars: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = s;
    while start < e {
        let rest = &text[start..e];
        let Some((limit, _)) = rest.char_indices().nth(max_chars) else {
            out.push((start, e));
            break;
        };
        let cut = rest[..limit]
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(limit, |(i, _)| i);
        let cut = if cut == 0 { limit } else { cut };
        let piece = &rest[..cut];
        out.push((start, start + piece.trim_end().len()));
        let next = &rest[cut..];
        start += cut + (next.len() - next.trim_start().len());
    }
    out
}

/// Byte → char offset conversion for increasing byte offsets in one pass overall.
struct CharCursor<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharCursor<'a> {
    fn new(text: &'a str) -> Self {
        CharCursor {
            text,
            byte: 0,
            chars: 0,
        }
    }
    fn char_at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += self.text[self.byte..byte].chars().count();
        self.byte = byte;
        self.chars
    }
}

/// Segments of one document. Ids are `{doc_id}:{seq}`, seq from 1 in reading order.
pub fn segment_document(doc: &Document, seg: &dyn Segmenter) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut push = |doc: &Document,
                    start: usize,
                    end: usize,
                    text: String,
                    turn: Option<(u32, &crate::record::Turn)>,
                    times: (Option<f64>, Option<f64>)| {
        let seq = out.len() as u32 + 1;
        out.push(Segment {
            segment_id: format!("{}:{seq}", doc.doc_id),
            doc_id: doc.doc_id.clone(),
            seq,
            turn: turn.map(|(i, _)| i),
            speaker: turn
                .map(|(_, t)| t.speaker.clone())
                .filter(|s| !s.is_empty()),
            role: turn.map_or(Role::Respondent, |(_, t)| t.role),
            text,
            char_start: start,
            char_end: end,
            t_start: times.0,
            t_end: times.1,
            lang: String::new(),
            lang_confidence: 0.0,
        });
    };
    match doc.kind {
        DocKind::Response => {
            let bytes = CharBytes::new(&doc.text);
            for (s, e) in seg.split(&doc.text) {
                push(doc, s, e, bytes.slice(s, e).to_string(), None, (None, None));
            }
        }
        DocKind::Interview => {
            for (i, turn) in doc.turns.iter().enumerate() {
                let bytes = CharBytes::new(&turn.text);
                for (s, e) in seg.split(&turn.text) {
                    let cue_at = |c: usize| {
                        turn.cues
                            .iter()
                            .find(|q| q.char_start <= c && c < q.char_end.max(q.char_start + 1))
                    };
                    let t0 = cue_at(s).and_then(|q| q.t_start).or(turn.t_start);
                    let t1 = cue_at(e.saturating_sub(1))
                        .and_then(|q| q.t_end)
                        .or(turn.t_end);
                    let text = bytes.slice(s, e).to_string();
                    push(
                        doc,
                        turn.char_start + s,
                        turn.char_start + e,
                        text,
                        Some((i as u32 + 1, turn)),
                        (t0, t1),
                    );
                }
            }
        }
    }
    out
}

/// Char-offset slicing in O(1): long comments have thousands of sentences.
struct CharBytes<'a> {
    text: &'a str,
    offsets: Vec<usize>,
}

impl<'a> CharBytes<'a> {
    fn new(text: &'a str) -> Self {
        let mut offsets: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        offsets.push(text.len());
        CharBytes { text, offsets }
    }
    fn slice(&self, start: usize, end: usize) -> &'a str {
        &self.text[self.offsets[start]..self.offsets[end]]
    }
}

pub fn char_slice(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sentences(text: &str) -> Vec<String> {
        let seg = SentenceSegmenter::new(&SegmentConfig::default());
        seg.split(text)
            .into_iter()
            .map(|(s, e)| char_slice(text, s, e))
            .collect()
    }

    #[test]
    fn abbreviations_do_not_split() {
        assert_eq!(
            sentences("Soitin esim. Matille klo 9.30 ja odotin. Sitten tuli lasku, mm. Kela-korvaus puuttui."),
            vec!["Soitin esim. Matille klo 9.30 ja odotin.", "Sitten tuli lasku, mm. Kela-korvaus puuttui."]
        );
        assert_eq!(
            sentences("Jag ringde t.ex. Kundtjänst igår. Ingen svarade!"),
            vec!["Jag ringde t.ex. Kundtjänst igår.", "Ingen svarade!"]
        );
        assert_eq!(
            sentences("Some fees, e.g. The installation fee, were hidden. Mr. Smith agreed."),
            vec![
                "Some fees, e.g. The installation fee, were hidden.",
                "Mr. Smith agreed."
            ]
        );
    }

    #[test]
    fn line_breaks_and_emoji() {
        assert_eq!(sentences("ok\n\nkiitos 👍"), vec!["ok", "kiitos 👍"]);
        assert_eq!(sentences("   "), Vec::<String>::new());
    }

    #[test]
    fn long_text_is_capped() {
        let text = "sana ".repeat(5000);
        let seg = SentenceSegmenter::new(&SegmentConfig {
            max_chars: 100,
            ..SegmentConfig::default()
        });
        let spans = seg.split(&text);
        assert!(spans.len() >= 250);
        assert!(spans.iter().all(|(s, e)| e - s <= 100));
    }

    proptest! {
        #[test]
        fn segments_cover_text_in_order(text in "([a-zA-ZäöåÄÖ]{1,8}|[ .!?\\n]|esim\\.|t\\.ex\\.|e\\.g\\.|9\\.30|👍|\"){0,80}", max in 20usize..200) {
            let seg = SentenceSegmenter::new(&SegmentConfig { max_chars: max, ..SegmentConfig::default() });
            let spans = seg.split(&text);
            let mut prev_end = 0;
            let mut covered = String::new();
            for (s, e) in &spans {
                prop_assert!(s < e && *s >= prev_end);
                let piece = char_slice(&text, *s, *e);
                prop_assert_eq!(piece.trim(), piece.as_str());
                prop_assert!(e - s <= max);
                covered.extend(piece.chars().filter(|c| !c.is_whitespace()));
                prev_end = *e;
            }
            let all: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            prop_assert_eq!(covered, all);
        }
    }
}
