//! The plain records that flow between stages. Stages exchange these (and Polars frames built
//! from them), never each other, so any stage can be swapped without touching its neighbours.

use chrono::NaiveDate;
use serde::Serialize;

/// What produced a document: one answer to one open question, or one whole interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    Response,
    Interview,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Response => "response",
            DocKind::Interview => "interview",
        }
    }
}

/// Which scale a score column uses; decides the valid range and whether an NPS group exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreKind {
    /// Net Promoter Score question, 0–10.
    Nps,
    /// Customer satisfaction, 1–5.
    Csat,
}

impl ScoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScoreKind::Nps => "nps",
            ScoreKind::Csat => "csat",
        }
    }

    pub fn range(self) -> (f64, f64) {
        match self {
            ScoreKind::Nps => (0.0, 10.0),
            ScoreKind::Csat => (1.0, 5.0),
        }
    }
}

/// NPS bands as Bain defines them: 0–6 detractor, 7–8 passive, 9–10 promoter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NpsGroup {
    Detractor,
    Passive,
    Promoter,
}

impl NpsGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            NpsGroup::Detractor => "detractor",
            NpsGroup::Passive => "passive",
            NpsGroup::Promoter => "promoter",
        }
    }
}

/// The NPS band of a 0–10 score; fractional scores (averaged panels) fall by value.
pub fn nps_group(score: f64) -> NpsGroup {
    if score >= 9.0 {
        NpsGroup::Promoter
    } else if score >= 7.0 {
        NpsGroup::Passive
    } else {
        NpsGroup::Detractor
    }
}

/// A segment's (or document's) sentiment class. The order is the classifier's output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Negative,
    #[default]
    Neutral,
    Positive,
}

impl Sentiment {
    /// In the order of the classifier's probabilities.
    pub const ALL: [Sentiment; 3] = [Sentiment::Negative, Sentiment::Neutral, Sentiment::Positive];

    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Negative => "negative",
            Sentiment::Neutral => "neutral",
            Sentiment::Positive => "positive",
        }
    }

    pub fn parse(s: &str) -> Option<Sentiment> {
        Sentiment::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A classification task: what a head is trained for and `palaute eval` scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Sentiment,
    Themes,
    Stages,
}

impl Task {
    /// The task's name, as heads and `run.json` call it.
    pub fn name(self) -> &'static str {
        match self {
            Task::Sentiment => "sentiment",
            Task::Themes => "themes",
            Task::Stages => "stages",
        }
    }

    /// The column holding this task's labels in a file that labels each text for several
    /// tasks (`sentiment,themes,stage`); files with a `label` column are read by that.
    pub fn column(self) -> &'static str {
        match self {
            Task::Stages => "stage",
            other => other.name(),
        }
    }
}

/// Who is talking in a segment. Survey answers are all `Respondent`; interview turns are
/// `Interviewer` or `Participant` (configured, or inferred from question and talk share).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Respondent,
    Interviewer,
    Participant,
    Unknown,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Respondent => "respondent",
            Role::Interviewer => "interviewer",
            Role::Participant => "participant",
            Role::Unknown => "unknown",
        }
    }

    /// The role [`as_str`](Self::as_str) names; anything else is `Unknown`.
    pub fn parse(s: &str) -> Role {
        [Role::Respondent, Role::Interviewer, Role::Participant]
            .into_iter()
            .find(|r| r.as_str() == s)
            .unwrap_or(Role::Unknown)
    }
}

/// One speaker turn of an interview: consecutive cues of one speaker merged. `cues` keeps each
/// source cue's char range within the turn text so sentence times can be recovered exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub speaker: String,
    pub role: Role,
    /// Char offset of this turn's text in the document text.
    pub char_start: usize,
    pub text: String,
    pub t_start: Option<f64>,
    pub t_end: Option<f64>,
    /// (char_start, char_end, t_start, t_end) of each source cue, relative to `text`.
    pub cues: Vec<CueSpan>,
}

/// The document text of an interview: its turns one per line. Sets each turn's `char_start`
/// to where it begins in that text (redaction changes turn lengths and lays them out again).
pub fn interview_text(turns: &mut [Turn]) -> String {
    let mut at = 0usize;
    for t in turns.iter_mut() {
        t.char_start = at;
        at += t.text.chars().count() + 1;
    }
    turns
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CueSpan {
    pub char_start: usize,
    pub char_end: usize,
    pub t_start: Option<f64>,
    pub t_end: Option<f64>,
}

/// One unit of feedback: an answer to one open question, or a whole interview transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub doc_id: String,
    pub kind: DocKind,
    pub source_file: String,
    /// Line (text formats) or spreadsheet row (XLSX) where the record starts, 1-based.
    pub source_row: Option<u64>,
    /// Header of the column the text came from (survey answers only).
    pub source_column: Option<String>,
    pub question: Option<String>,
    pub respondent_id: Option<String>,
    pub score: Option<f64>,
    pub score_kind: Option<ScoreKind>,
    pub date: Option<NaiveDate>,
    /// Pass-through columns in source order: (column name, value).
    pub metadata: Vec<(String, Option<String>)>,
    pub text: String,
    /// Interview turns; empty for survey answers.
    pub turns: Vec<Turn>,
    pub lang: Option<String>,
}

impl Document {
    /// A document with only its identity set (no text, score, date or metadata): the base
    /// that readers and tests fill in with struct update syntax.
    pub fn bare(doc_id: &str, kind: DocKind, source_file: &str) -> Document {
        Document {
            doc_id: doc_id.to_string(),
            kind,
            source_file: source_file.to_string(),
            source_row: None,
            source_column: None,
            question: None,
            respondent_id: None,
            score: None,
            score_kind: None,
            date: None,
            metadata: Vec::new(),
            text: String::new(),
            turns: Vec::new(),
            lang: None,
        }
    }
}

/// A sentence (survey answers) or a sentence within a speaker turn (interviews).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub segment_id: String,
    pub doc_id: String,
    pub seq: u32,
    pub turn: Option<u32>,
    pub speaker: Option<String>,
    pub role: Role,
    pub text: String,
    /// Char (Unicode scalar) offsets into the document's text, end exclusive.
    pub char_start: usize,
    pub char_end: usize,
    pub t_start: Option<f64>,
    pub t_end: Option<f64>,
    pub lang: String,
    pub lang_confidence: f32,
}

/// How much of the input a reject cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RejectLevel {
    /// The whole file: nothing of it is in the outputs.
    File,
    /// One record: nothing of it is in the outputs.
    Row,
    /// One value of a record (a score of 11, "5,7" in a 1–5 column): the record's documents
    /// are kept without that value, so a comment is never lost to a typo in its score.
    Field,
}

impl RejectLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectLevel::File => "file",
            RejectLevel::Row => "row",
            RejectLevel::Field => "field",
        }
    }
}

/// Input that could not be used, with enough provenance for the researcher to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Reject {
    pub source_file: String,
    /// 1-based line (text formats) or row (spreadsheets); `None` when the whole file is rejected.
    pub line: Option<u64>,
    pub level: RejectLevel,
    pub reason: String,
    /// The start of the offending record, so it can be recognised without opening the file.
    pub raw: Option<String>,
}

impl Reject {
    pub fn file(source_file: &str, reason: impl Into<String>) -> Self {
        Reject {
            source_file: source_file.to_string(),
            line: None,
            level: RejectLevel::File,
            reason: reason.into(),
            raw: None,
        }
    }

    pub fn row(source_file: &str, line: u64, reason: impl Into<String>, raw: &str) -> Self {
        Reject {
            source_file: source_file.to_string(),
            line: Some(line),
            level: RejectLevel::Row,
            reason: reason.into(),
            raw: Some(snippet(raw, 200)),
        }
    }

    /// A value dropped from a record whose documents were kept.
    pub fn field(source_file: &str, line: u64, reason: impl Into<String>, raw: &str) -> Self {
        Reject {
            level: RejectLevel::Field,
            ..Reject::row(source_file, line, reason, raw)
        }
    }
}

/// The first `max` chars of `s` with line breaks flattened, for reject messages.
pub fn snippet(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out.replace(['\r', '\n'], " ")
}
