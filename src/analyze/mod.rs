//! Evidence tables from labelled segments: themes, theme × stage with NPS impact, drivers,
//! representative quotes and monthly trends. Every figure is computed from segments that the
//! quotes table points back to, and ordering is fixed, so reruns are byte-identical.

mod cells;
mod compare;
mod drivers;
pub mod facts;
pub mod importance;
pub mod quotes;
pub mod stats;
mod themes;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;

use crate::classify::codebook::{Codebook, OTHER};
use crate::record::{nps_group, NpsGroup, Sentiment};
pub use compare::compare_value;
pub use facts::{DocFact, Fact, Facts, Group, Quote, Quotes};
pub use importance::EXACT_LIMIT as EXACT_SHAPLEY_LIMIT;
pub use stats::AnalyzeConfig;

/// A theme known to the run: from the codebook or discovered.
#[derive(Debug, Clone)]
pub struct ThemeInfo {
    pub id: String,
    pub origin: &'static str,
    pub labels: BTreeMap<String, String>,
    pub description: Option<String>,
    pub parent: Option<String>,
    pub keywords: Vec<String>,
    pub representative: Option<String>,
}

pub struct Inputs<'a> {
    pub facts: &'a Facts,
    /// Indices in [`Fact::themes`] point here.
    pub themes: &'a [ThemeInfo],
    /// Indices in [`Fact::stage`] point to its items.
    pub stages: &'a Codebook,
    pub quotes: &'a Quotes,
    pub cfg: &'a AnalyzeConfig,
}

pub struct Tables {
    pub themes: DataFrame,
    pub theme_stage: DataFrame,
    pub drivers: DataFrame,
    pub quotes: DataFrame,
    pub trends: DataFrame,
    /// With `[analyze] compare` or `period`.
    pub comparisons: Option<DataFrame>,
}

/// NPS = %promoters − %detractors over respondents with an NPS score (the report's overall
/// NPS uses it too, so the two never disagree). Bands are `record::nps_group`'s, as in
/// `documents.nps_group`.
pub(crate) fn nps<'a>(scores: impl Iterator<Item = &'a f64>) -> Option<f64> {
    let (mut n, mut pro, mut det) = (0f64, 0f64, 0f64);
    for s in scores {
        n += 1.0;
        match nps_group(*s) {
            NpsGroup::Promoter => pro += 1.0,
            NpsGroup::Detractor => det += 1.0,
            NpsGroup::Passive => {}
        }
    }
    (n > 0.0).then(|| 100.0 * (pro - det) / n)
}

/// How many of `scores` are detractors.
fn detractors<'a>(scores: impl Iterator<Item = &'a f64>) -> usize {
    scores
        .filter(|s| nps_group(**s) == NpsGroup::Detractor)
        .count()
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// (theme index, stage index, rank within the cell, the quote).
type QuoteRow<'a> = (usize, usize, usize, &'a Quote);

/// An analysed segment with its document and its author's respondent key.
struct Row<'a> {
    fact: &'a Fact,
    doc: &'a DocFact,
    respondent: &'a str,
}

impl Row<'_> {
    fn negative(&self) -> bool {
        self.fact.sentiment == Sentiment::Negative
    }
}

/// Who a document's author is for counting respondents: the respondent id within its source
/// file (the same id in two files is two people), else the document itself.
pub(crate) fn respondent_key(
    source_file: &str,
    respondent_id: Option<&str>,
    doc_id: &str,
) -> String {
    format!("{source_file}\u{1f}{}", respondent_id.unwrap_or(doc_id))
}

/// What every table is computed from: the analysed rows, the scored respondents (in a fixed
/// order, with y = +1/0/−1 for intervals and importance) and the orders of themes and stages.
struct Base<'a> {
    rows: Vec<Row<'a>>,
    nps_of: &'a BTreeMap<String, f64>,
    scored_index: HashMap<&'a str, usize>,
    y: Vec<f64>,
    nps_all: Option<f64>,
    detractor_rate: Option<f64>,
    /// Respondents with analysed segments.
    respondents: usize,
    theme_order: Vec<String>,
    stage_order: Vec<String>,
}

impl<'a> Base<'a> {
    fn new(inp: &Inputs<'a>) -> Self {
        let f = inp.facts;
        let rows: Vec<Row> = f
            .rows
            .iter()
            .filter_map(|fact| {
                let doc = f.docs.get(fact.doc as usize)?;
                Some(Row {
                    fact,
                    doc,
                    respondent: f.respondents.get(doc.respondent as usize)?.as_str(),
                })
            })
            .collect();
        let nps_of = &f.nps;
        let n = nps_of.len() as f64;
        Base {
            respondents: rows
                .iter()
                .map(|r| r.respondent)
                .collect::<BTreeSet<_>>()
                .len(),
            rows,
            nps_of,
            scored_index: nps_of
                .keys()
                .enumerate()
                .map(|(i, k)| (k.as_str(), i))
                .collect(),
            y: nps_of.values().map(|s| stats::nps_value(*s)).collect(),
            nps_all: nps(nps_of.values()),
            detractor_rate: (n > 0.0).then(|| detractors(nps_of.values()) as f64 / n),
            theme_order: inp.themes.iter().map(|t| t.id.clone()).collect(),
            stage_order: inp.stages.items.iter().map(|i| i.id.clone()).collect(),
        }
    }

    /// Positions in `y` of the scored among `respondents`.
    fn scored_of(&self, respondents: &BTreeSet<&str>) -> Vec<usize> {
        respondents
            .iter()
            .filter_map(|r| self.scored_index.get(r).copied())
            .collect()
    }

    /// (NPS of the mentioners, NPS of the others, NPS impact = NPS(all) − NPS(others)).
    fn impact(&self, mentioners: &BTreeSet<&str>) -> (Option<f64>, Option<f64>, Option<f64>) {
        let of = |mention: bool| {
            nps(self
                .nps_of
                .iter()
                .filter(|(k, _)| mentioners.contains(k.as_str()) == mention)
                .map(|(_, v)| v))
        };
        let (with, without) = (of(true), of(false));
        let imp = match (self.nps_all, without) {
            (Some(a), Some(w)) => Some(round2(a - w)),
            _ => None,
        };
        (with.map(round2), without.map(round2), imp)
    }

    /// The rows of each theme × stage cell, and of each theme.
    #[allow(clippy::type_complexity)]
    fn groups(
        &self,
    ) -> (
        BTreeMap<(usize, usize), Vec<&Row<'a>>>,
        BTreeMap<usize, Vec<&Row<'a>>>,
    ) {
        let mut cells: BTreeMap<(usize, usize), Vec<&Row>> = BTreeMap::new();
        let mut by_theme: BTreeMap<usize, Vec<&Row>> = BTreeMap::new();
        let (nt, ns) = (self.theme_order.len(), self.stage_order.len());
        for r in &self.rows {
            for g in r.fact.groups() {
                match g {
                    Group::Theme(t) if t < nt => by_theme.entry(t).or_default().push(r),
                    Group::Cell(t, s) if t < nt && s < ns => {
                        cells.entry((t, s)).or_default().push(r)
                    }
                    _ => {}
                }
            }
        }
        (cells, by_theme)
    }
}

/// Every evidence table, each from its own builder.
pub fn build(inp: &Inputs) -> PolarsResult<Tables> {
    let base = Base::new(inp);
    let (cells, by_theme) = base.groups();
    let (theme_stage, quote_rows) = cells::theme_stage(&base, &cells, inp)?;
    let quotes = cells::quotes(&base, &quote_rows)?;
    let (themes, dr) = themes::themes(&base, &by_theme, inp)?;
    let drivers = drivers::table(dr, &base.y, inp.cfg)?;
    let trends = trends(&base.rows, &base.theme_order)?;
    let comparisons = compare::table(&base.rows, &base.theme_order, base.nps_of, inp.cfg)?;
    Ok(Tables {
        comparisons,
        themes,
        theme_stage,
        drivers,
        quotes,
        trends,
    })
}

fn share(rows: &[&Row], f: impl Fn(&Row) -> bool) -> f64 {
    rows.iter().filter(|r| f(r)).count() as f64 / rows.len().max(1) as f64
}

fn trends(rows: &[Row], theme_order: &[String]) -> PolarsResult<DataFrame> {
    let mut cells: BTreeMap<(usize, String), Vec<&Row>> = BTreeMap::new();
    for r in rows {
        let Some(date) = r.doc.date else { continue };
        let month = date.format("%Y-%m").to_string();
        for &t in &r.fact.themes {
            if (t as usize) < theme_order.len() {
                cells
                    .entry((t as usize, month.clone()))
                    .or_default()
                    .push(r);
            }
        }
    }
    let mut theme = Vec::new();
    let mut month = Vec::new();
    let mut segments = Vec::new();
    let mut respondents = Vec::new();
    let mut negative = Vec::new();
    let mut mean = Vec::new();
    for ((ti, m), members) in &cells {
        theme.push(theme_order[*ti].clone());
        month.push(m.clone());
        segments.push(members.len() as u32);
        respondents.push(
            members
                .iter()
                .map(|r| r.respondent)
                .collect::<BTreeSet<_>>()
                .len() as u32,
        );
        negative.push(round2(share(members, |r| r.negative())));
        mean.push(round2(
            members
                .iter()
                .map(|r| r.fact.sentiment_score as f64)
                .sum::<f64>()
                / members.len() as f64,
        ));
    }
    DataFrame::new_infer_height(vec![
        Column::new("theme_id".into(), theme),
        Column::new("month".into(), month),
        Column::new("segments".into(), segments),
        Column::new("respondents".into(), respondents),
        Column::new("negative_share".into(), negative),
        Column::new("mean_sentiment".into(), mean),
    ])
}

pub fn list_col(name: &str, rows: &[Vec<String>]) -> Column {
    let ca: ListChunked = rows
        .iter()
        .map(|r| Some(Series::new(PlSmallStr::EMPTY, r.as_slice())))
        .collect();
    ca.with_name(name.into()).into_column()
}

pub fn list_f32_col(name: &str, rows: &[Vec<f32>]) -> Column {
    let ca: ListChunked = rows
        .iter()
        .map(|r| Some(Series::new(PlSmallStr::EMPTY, r.as_slice())))
        .collect();
    ca.with_name(name.into()).into_column()
}

#[derive(Default)]
struct TsCols {
    theme: Vec<String>,
    stage: Vec<String>,
    segments: Vec<u32>,
    root_cause: Vec<u32>,
    documents: Vec<u32>,
    respondents: Vec<u32>,
    negative_share: Vec<f64>,
    negative_low: Vec<Option<f64>>,
    negative_high: Vec<Option<f64>>,
    mean_sentiment: Vec<f64>,
    nps_mentioners: Vec<Option<f64>>,
    nps_others: Vec<Option<f64>>,
    nps_impact: Vec<Option<f64>>,
    quote_ids: Vec<Vec<String>>,
}

#[derive(Default)]
struct ThemeCols {
    id: Vec<String>,
    origin: Vec<String>,
    label: Vec<String>,
    label_fi: Vec<Option<String>>,
    label_sv: Vec<Option<String>>,
    label_en: Vec<Option<String>>,
    description: Vec<Option<String>>,
    parent: Vec<Option<String>>,
    keywords: Vec<Vec<String>>,
    segments: Vec<u32>,
    documents: Vec<u32>,
    respondents: Vec<u32>,
    negative_share: Vec<Option<f64>>,
    root_cause: Vec<u32>,
    representative: Vec<Option<String>>,
}

#[cfg(test)]
mod tests_by_hand;

#[cfg(test)]
mod tests {
    use super::*;

    /// Fractional scores (averaged panels, "6,5" with a decimal comma) fall in the same band
    /// in NPS, detractor rates and `documents.nps_group`.
    #[test]
    fn nps_bands_match_the_documents_nps_group() {
        let scores = [6.5, 8.9, 9.0, 10.0];
        let groups: Vec<&str> = scores
            .iter()
            .map(|s| crate::record::nps_group(*s).as_str())
            .collect();
        assert_eq!(groups, ["detractor", "passive", "promoter", "promoter"]);
        // 2 promoters, 1 detractor of 4.
        assert_eq!(nps(scores.iter()), Some(25.0));
        assert_eq!(detractors(scores.iter()), 1);
    }
}
