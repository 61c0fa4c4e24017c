//! What the evidence tables are built from: a compact record per analysed segment (customer
//! voice) and per document, gathered from the run's parts without their texts or embeddings,
//! and the quotes chosen for each group (see `merge`). A run of millions of segments keeps a
//! few dozen bytes per segment here.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::record::{Role, Sentiment};

/// One analysed segment. Themes and stage are indices into the run's theme list and the
/// journey map's stages.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// Index into [`Facts::docs`].
    pub doc: u32,
    pub sentiment: Sentiment,
    /// P(positive) − P(negative).
    pub sentiment_score: f32,
    pub themes: Vec<u16>,
    pub stage: Option<u16>,
    pub root_cause: Option<u16>,
}

/// One document that has analysed segments.
#[derive(Debug, Clone, PartialEq)]
pub struct DocFact {
    /// Index into [`Facts::respondents`].
    pub respondent: u32,
    pub date: Option<NaiveDate>,
    /// The value of the `[analyze] compare` column, trimmed, when set and not blank.
    pub compare: Option<String>,
}

/// Everything the tables count, in the order of the segments table.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub rows: Vec<Fact>,
    pub docs: Vec<DocFact>,
    /// Respondent keys ([`super::respondent_key`]).
    pub respondents: Vec<String>,
    /// NPS score per respondent key (all of a respondent's documents carry the same score).
    pub nps: BTreeMap<String, f64>,
}

/// A quote as the quotes table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub segment_id: String,
    pub doc_id: String,
    pub text: String,
    pub lang: String,
    pub sentiment: Sentiment,
    pub speaker: Option<String>,
    pub role: Role,
    pub source_file: String,
    pub source_row: Option<u64>,
    pub t_start: Option<f64>,
    pub score: Option<f64>,
}

/// The quotes picked for each theme × stage cell (ranked) and each theme's representative
/// segment.
#[derive(Debug, Clone, Default)]
pub struct Quotes {
    pub cells: BTreeMap<(usize, usize), Vec<Quote>>,
    pub representative: BTreeMap<usize, String>,
}

/// A group of segments that gets quotes: a theme, or a theme × stage cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Theme(usize),
    Cell(usize, usize),
}

impl Fact {
    /// The groups this segment belongs to: each of its themes, and each theme × its stage.
    pub fn groups(&self) -> impl Iterator<Item = Group> + '_ {
        self.themes.iter().flat_map(move |&t| {
            std::iter::once(Group::Theme(t as usize))
                .chain(self.stage.map(|s| Group::Cell(t as usize, s as usize)))
        })
    }
}
