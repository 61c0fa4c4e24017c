//! Redact: personal data is replaced with typed placeholders (`[EMAIL]`, `[PHONE]`, `[HETU]`,
//! …) right after ingest, before segmentation, language detection, the model and every
//! output, so nothing downstream — segments, quotes, rejects, the report — can leak it.
//! Speakers of interviews are pseudonymised (`Interviewer 1`, `Participant 1`) and their
//! names redacted where the text mentions them. Segment offsets are computed on the redacted
//! text, so `char_start/char_end` always match it.

pub mod detect;
pub mod names;

use std::collections::BTreeMap;

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::record::{Document, Reject};

/// What a span of personal data is; its placeholder is `[NAME_OF_KIND]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Email,
    Phone,
    Hetu,
    Personnummer,
    Iban,
    Card,
    Name,
    /// A `[[privacy.custom]]` pattern, by its label.
    #[serde(untagged)]
    Custom(String),
}

impl Kind {
    pub const BUILTIN: [Kind; 7] = [
        Kind::Email,
        Kind::Phone,
        Kind::Hetu,
        Kind::Personnummer,
        Kind::Iban,
        Kind::Card,
        Kind::Name,
    ];

    pub fn label(&self) -> String {
        match self {
            Kind::Email => "EMAIL".into(),
            Kind::Phone => "PHONE".into(),
            Kind::Hetu => "HETU".into(),
            Kind::Personnummer => "PERSONNUMMER".into(),
            Kind::Iban => "IBAN".into(),
            Kind::Card => "CARD".into(),
            Kind::Name => "NAME".into(),
            Kind::Custom(label) => label.to_uppercase(),
        }
    }

    pub fn placeholder(&self) -> String {
        format!("[{}]", self.label())
    }
}

/// A user pattern redacted like the built-in kinds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    /// Placeholder label: `customer_no` gives `[CUSTOMER_NO]`.
    pub label: String,
    /// A regular expression (Rust `regex` syntax).
    pub pattern: String,
}

/// `[privacy]`: on by default, every built-in kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Replace personal data with placeholders. Off only when the user says so.
    pub redact: bool,
    /// The kinds to detect.
    pub kinds: Vec<Kind>,
    /// Extra patterns, each redacted as `[LABEL]`.
    pub custom: Vec<CustomPattern>,
    /// Exact strings never redacted (the company's own service address or phone number).
    pub allow: Vec<String>,
    /// Regions whose national phone formats are recognised (ISO 3166 codes); numbers in
    /// international form (`+…`, `00…`) are recognised for every country.
    pub phone_regions: Vec<String>,
    /// Replace interview speaker labels with `Interviewer 1`, `Participant 1`, `Speaker 1`.
    pub pseudonymise_speakers: bool,
    /// Replace respondent ids with a keyed hash (HMAC-SHA256) of them; the key is read from
    /// the environment variable named by `id_key_env` and never written anywhere.
    pub pseudonymise_ids: bool,
    pub id_key_env: String,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            redact: true,
            kinds: Kind::BUILTIN.to_vec(),
            custom: Vec::new(),
            allow: Vec::new(),
            phone_regions: vec!["FI".into(), "SE".into(), "GB".into(), "US".into()],
            pseudonymise_speakers: true,
            pseudonymise_ids: false,
            id_key_env: "PALAUTE_ID_KEY".into(),
        }
    }
}

/// A detected span, byte offsets into the text. Overlaps are resolved by lower `priority`,
/// then the longer span, then the earlier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    pub priority: u8,
}

/// Redactions per kind (placeholder labels), for run.json. Never the values.
pub type Counts = BTreeMap<String, u64>;

/// Why a privacy configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("[privacy] custom pattern {label:?} is not a valid regular expression: {source}")]
    Pattern {
        label: String,
        #[source]
        source: regex::Error,
    },
    #[error("[privacy] phone_regions: unknown region {0:?} (use ISO 3166 codes such as FI, SE)")]
    Region(String),
    #[error(
        "[privacy] pseudonymise_ids is on but the environment variable {0} holding the key is unset or empty"
    )]
    MissingKey(String),
}

/// The configured redaction, applied to documents and rejects.
pub struct Redactor {
    on: bool,
    kinds: Vec<Kind>,
    custom: Vec<(Kind, regex::Regex)>,
    allow: Vec<String>,
    regions: Vec<phonenumber::country::Id>,
    speakers: bool,
    id_key: Option<Vec<u8>>,
}

impl Redactor {
    pub fn new(cfg: &PrivacyConfig) -> Result<Self, PrivacyError> {
        let custom = cfg
            .custom
            .iter()
            .map(|c| {
                regex::Regex::new(&c.pattern)
                    .map(|r| (Kind::Custom(c.label.clone()), r))
                    .map_err(|source| PrivacyError::Pattern {
                        label: c.label.clone(),
                        source,
                    })
            })
            .collect::<Result<_, _>>()?;
        let regions = cfg
            .phone_regions
            .iter()
            .map(|r| {
                r.to_uppercase()
                    .parse()
                    .map_err(|_| PrivacyError::Region(r.clone()))
            })
            .collect::<Result<_, _>>()?;
        let id_key = if cfg.pseudonymise_ids {
            match std::env::var(&cfg.id_key_env) {
                Ok(k) if !k.is_empty() => Some(k.into_bytes()),
                _ => return Err(PrivacyError::MissingKey(cfg.id_key_env.clone())),
            }
        } else {
            None
        };
        Ok(Redactor {
            on: cfg.redact,
            kinds: cfg.kinds.clone(),
            custom,
            allow: cfg.allow.clone(),
            regions,
            speakers: cfg.pseudonymise_speakers,
            id_key,
        })
    }

    /// Redaction off: everything passes unchanged.
    pub fn off() -> Self {
        Redactor {
            on: false,
            kinds: Vec::new(),
            custom: Vec::new(),
            allow: Vec::new(),
            regions: Vec::new(),
            speakers: false,
            id_key: None,
        }
    }

    /// The spans to replace in `text`, sorted, not overlapping; `extra` are spans found
    /// elsewhere (speaker names).
    pub fn spans(&self, text: &str, mut extra: Vec<Span>) -> Vec<Span> {
        if !self.on {
            return Vec::new();
        }
        detect::builtin(text, &self.kinds, &self.regions, &mut extra);
        if self.kinds.contains(&Kind::Name) {
            names::cued(text, &mut extra);
            names::gazetteer(text, &mut extra);
        }
        for (kind, re) in &self.custom {
            for m in re.find_iter(text).filter(|m| !m.is_empty()) {
                extra.push(Span {
                    start: m.start(),
                    end: m.end(),
                    kind: kind.clone(),
                    priority: 0,
                });
            }
        }
        extra.retain(|s| !self.allow.iter().any(|a| a == &text[s.start..s.end]));
        resolve(extra)
    }

    /// `text` with its personal data replaced, counted into `counts`.
    pub fn text(&self, text: &str, counts: &mut Counts) -> String {
        apply(text, &self.spans(text, Vec::new()), counts).0
    }

    /// Redacts a document in place: its text (and turns, with their cue offsets), metadata
    /// values, speakers and, when configured, its respondent id.
    pub fn document(&self, doc: &mut Document, counts: &mut Counts) {
        if let (Some(key), Some(id)) = (&self.id_key, doc.respondent_id.as_mut()) {
            *id = pseudonym(key, id);
        }
        if !self.on {
            return;
        }
        for (column, value) in &mut doc.metadata {
            let Some(v) = value.as_mut().filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            match personal_column(column) {
                Some(kind) => {
                    *counts.entry(kind.label()).or_insert(0) += 1;
                    *v = kind.placeholder();
                }
                None => *v = self.text(v, counts),
            }
        }
        if doc.turns.is_empty() {
            doc.text = self.text(&doc.text, counts);
        } else {
            names::redact_interview(self, doc, counts);
        }
    }

    /// A respondent id as the outputs carry it: its keyed pseudonym when ids are
    /// pseudonymised, else itself (`palaute forget` finds respondents by it).
    pub fn respondent_id(&self, id: &str) -> String {
        match &self.id_key {
            Some(key) => pseudonym(key, id),
            None => id.to_string(),
        }
    }

    /// Redacts the raw text a reject quotes.
    pub fn reject(&self, reject: &mut Reject, counts: &mut Counts) {
        if let Some(raw) = reject.raw.as_mut() {
            *raw = self.text(raw, counts);
        }
    }
}

/// Columns that hold personal data whole, by header (survey tools export them next to the
/// answers: Qualtrics' `RecipientEmail`, `IPAddress`, `LocationLatitude`; Webropol's
/// `Sähköposti`): their values are replaced outright, whatever they look like.
fn personal_column(header: &str) -> Option<Kind> {
    static RULES: LazyLock<Vec<(Regex, Kind)>> = LazyLock::new(|| {
        let rule = |re: &str, kind: Kind| (Regex::new(re).expect("valid regex"), kind);
        vec![
            rule(r"(?i)e-?mail|sähköposti|e-post|epost", Kind::Email),
            rule(r"(?i)phone|puhelin|telefon|mobil|gsm", Kind::Phone),
            rule(
                r"(?i)^ip ?address$|^ipaddress$|^ip$",
                Kind::Custom("ip".into()),
            ),
            rule(
                r"(?i)latitude|longitude|^location ?(lat|long)",
                Kind::Custom("location".into()),
            ),
            rule(
                r"(?i)^(recipient ?)?(first|last|full)? ?name$|^nimi$|^(etu|suku)nimi$|^namn$|^(för|efter)namn$|^name$",
                Kind::Name,
            ),
            rule(r"(?i)henkilötunnus|^hetu$|personnummer|^ssn$", Kind::Hetu),
            rule(r"(?i)address|osoite|adress", Kind::Custom("address".into())),
        ]
    });
    RULES
        .iter()
        .find(|(re, _)| re.is_match(header.trim()))
        .map(|(_, k)| k.clone())
}

/// Keeps the winner of every overlap: lower priority value, then longer, then earlier.
fn resolve(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<Span> = Vec::new();
    for s in spans {
        if kept.iter().all(|k| s.end <= k.start || s.start >= k.end) {
            kept.push(s);
        }
    }
    kept.sort_by_key(|s| s.start);
    kept
}

/// `text` with `spans` (sorted, disjoint) replaced by placeholders, and for each span its
/// (old char start, old char end, new char end), to move char offsets past it.
pub fn apply(
    text: &str,
    spans: &[Span],
    counts: &mut Counts,
) -> (String, Vec<(usize, usize, usize)>) {
    let mut out = String::with_capacity(text.len());
    let mut moves = Vec::with_capacity(spans.len());
    let (mut at, mut old_chars, mut new_chars) = (0usize, 0usize, 0usize);
    for s in spans {
        let before = &text[at..s.start];
        out.push_str(before);
        let n = before.chars().count();
        old_chars += n;
        new_chars += n;
        let placeholder = s.kind.placeholder();
        out.push_str(&placeholder);
        let old_end = old_chars + text[s.start..s.end].chars().count();
        let new_end = new_chars + placeholder.chars().count();
        moves.push((old_chars, old_end, new_end));
        (old_chars, new_chars, at) = (old_end, new_end, s.end);
        *counts.entry(s.kind.label()).or_insert(0) += 1;
    }
    out.push_str(&text[at..]);
    (out, moves)
}

/// Where char offset `old` of a text lands after the replacements `moves` of [`apply`]: the
/// start of a replaced span goes to the start of its placeholder, an offset inside it to the
/// placeholder's end (a span that crosses a cue boundary stays with the earlier cue).
pub fn moved(old: usize, moves: &[(usize, usize, usize)]) -> usize {
    let mut shift: isize = 0;
    for &(start, end, new_end) in moves {
        if old <= start {
            break;
        }
        if old < end {
            return new_end;
        }
        shift = new_end as isize - end as isize;
    }
    (old as isize + shift) as usize
}

/// A keyed pseudonym of a respondent id: HMAC-SHA256, 16 hex digits, stable for one key.
fn pseudonym(key: &[u8], id: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(id.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("r_{}", &crate::util::hex(&digest)[..16])
}

#[cfg(test)]
mod tests;
