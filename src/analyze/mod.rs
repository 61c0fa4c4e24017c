//! Evidence tables from labelled segments: themes, theme × stage with NPS impact, drivers,
//! representative quotes and monthly trends. Every figure is computed from segments that the
//! quotes table points back to, and ordering is fixed, so reruns are byte-identical.

mod compare;
mod drivers;
pub mod facts;
pub mod quotes;
pub mod stats;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;

use crate::classify::codebook::{Codebook, OTHER};
use crate::record::{nps_group, NpsGroup, Sentiment};
pub use compare::compare_value;
use drivers::DriverCols;
pub use facts::{DocFact, Fact, Facts, Group, Quote, Quotes};
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
    /// Index of the document in [`Facts::docs`] (documents are counted by it).
    doc_idx: u32,
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

pub fn build(inp: &Inputs) -> PolarsResult<Tables> {
    let f = inp.facts;
    let rows: Vec<Row> = f
        .rows
        .iter()
        .filter_map(|fact| {
            let doc = f.docs.get(fact.doc as usize)?;
            Some(Row {
                fact,
                doc,
                doc_idx: fact.doc,
                respondent: f.respondents.get(doc.respondent as usize)?.as_str(),
            })
        })
        .collect();
    let nps_of = &f.nps;
    // Scored respondents in a fixed order, with y = +1/0/−1, for intervals and importance.
    let scored_index: HashMap<&str, usize> = nps_of
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let y: Vec<f64> = nps_of.values().map(|s| stats::nps_value(*s)).collect();
    let scored_of = |respondents: &BTreeSet<&str>| -> Vec<usize> {
        respondents
            .iter()
            .filter_map(|r| scored_index.get(r).copied())
            .collect()
    };
    let all_respondents: BTreeSet<&str> = rows.iter().map(|r| r.respondent).collect();
    let nps_all = nps(nps_of.values());
    let detractor_rate = {
        let n = nps_of.len() as f64;
        (n > 0.0).then(|| detractors(nps_of.values()) as f64 / n)
    };
    let stage_order: Vec<String> = inp.stages.items.iter().map(|i| i.id.clone()).collect();
    let theme_order: Vec<String> = inp.themes.iter().map(|t| t.id.clone()).collect();

    // theme × stage cells.
    let mut cells: BTreeMap<(usize, usize), Vec<&Row>> = BTreeMap::new();
    let mut by_theme: BTreeMap<usize, Vec<&Row>> = BTreeMap::new();
    for r in &rows {
        for g in r.fact.groups() {
            match g {
                Group::Theme(t) if t < theme_order.len() => by_theme.entry(t).or_default().push(r),
                Group::Cell(t, s) if t < theme_order.len() && s < stage_order.len() => {
                    cells.entry((t, s)).or_default().push(r)
                }
                _ => {}
            }
        }
    }
    let impact = |mentioners: &BTreeSet<&str>| -> (Option<f64>, Option<f64>, Option<f64>) {
        let with = nps(nps_of
            .iter()
            .filter(|(k, _)| mentioners.contains(k.as_str()))
            .map(|(_, v)| v));
        let without = nps(nps_of
            .iter()
            .filter(|(k, _)| !mentioners.contains(k.as_str()))
            .map(|(_, v)| v));
        let imp = match (nps_all, without) {
            (Some(a), Some(w)) => Some(round2(a - w)),
            _ => None,
        };
        (with.map(round2), without.map(round2), imp)
    };

    let mut quote_rows: Vec<QuoteRow> = Vec::new();
    let mut ts = TsCols::default();
    let mut cell_groups: Vec<Vec<usize>> = Vec::new();
    for ((ti, si), members) in &cells {
        let respondents: BTreeSet<&str> = members.iter().map(|r| r.respondent).collect();
        cell_groups.push(scored_of(&respondents));
        let negatives = members.iter().filter(|r| r.negative()).count();
        let (lo, hi) = stats::wilson(negatives, members.len()).unzip();
        ts.negative_low.push(lo.map(round2));
        ts.negative_high.push(hi.map(round2));
        let (with, without, imp) = impact(&respondents);
        let picked: &[Quote] = inp.quotes.cells.get(&(*ti, *si)).map_or(&[], Vec::as_slice);
        for (rank, q) in picked.iter().enumerate() {
            quote_rows.push((*ti, *si, rank + 1, q));
        }
        ts.theme.push(theme_order[*ti].clone());
        ts.stage.push(stage_order[*si].clone());
        ts.segments.push(members.len() as u32);
        ts.root_cause.push(
            members
                .iter()
                .filter(|r| r.fact.root_cause == Some(*ti as u16))
                .count() as u32,
        );
        ts.documents.push(
            members
                .iter()
                .map(|r| r.doc_idx)
                .collect::<BTreeSet<_>>()
                .len() as u32,
        );
        ts.respondents.push(respondents.len() as u32);
        ts.negative_share
            .push(round2(share(members, |r| r.negative())));
        ts.mean_sentiment.push(round2(
            members
                .iter()
                .map(|r| r.fact.sentiment_score as f64)
                .sum::<f64>()
                / members.len() as f64,
        ));
        ts.nps_mentioners.push(with);
        ts.nps_others.push(without);
        ts.nps_impact.push(imp);
        ts.quote_ids
            .push(picked.iter().map(|q| q.segment_id.clone()).collect());
    }
    // Cells share the drivers' resamples (same seed and streams), without importance.
    let cell_ci = stats::bootstrap(&y, &cell_groups, None, inp.cfg).impact;
    let (cell_lo, cell_hi): (Vec<Option<f64>>, Vec<Option<f64>>) = cell_ci
        .iter()
        .map(|c| (c.map(|c| round2(c.0)), c.map(|c| round2(c.1))))
        .unzip();
    let theme_stage = DataFrame::new_infer_height(vec![
        Column::new("theme_id".into(), ts.theme),
        Column::new("stage".into(), ts.stage),
        Column::new("segments".into(), ts.segments),
        Column::new("root_cause_segments".into(), ts.root_cause),
        Column::new("documents".into(), ts.documents),
        Column::new("respondents".into(), ts.respondents),
        Column::new("negative_share".into(), ts.negative_share),
        Column::new("negative_share_low".into(), ts.negative_low),
        Column::new("negative_share_high".into(), ts.negative_high),
        Column::new("mean_sentiment".into(), ts.mean_sentiment),
        Column::new("nps_mentioners".into(), ts.nps_mentioners),
        Column::new("nps_others".into(), ts.nps_others),
        Column::new("nps_impact".into(), ts.nps_impact),
        Column::new("nps_impact_low".into(), cell_lo),
        Column::new("nps_impact_high".into(), cell_hi),
        list_col("quote_ids", &ts.quote_ids),
    ])?;

    // Drivers and the themes table share per-theme figures.
    let mut th = ThemeCols::default();
    let mut dr = DriverCols::default();
    for (ti, t) in inp.themes.iter().enumerate() {
        let members = by_theme.get(&ti).map(Vec::as_slice).unwrap_or(&[]);
        let respondents: BTreeSet<&str> = members.iter().map(|r| r.respondent).collect();
        th.id.push(t.id.clone());
        th.origin.push(t.origin.to_string());
        th.label.push(
            t.labels
                .get("en")
                .or_else(|| t.labels.values().next())
                .cloned()
                .unwrap_or_else(|| t.id.clone()),
        );
        for (lang, col) in [
            ("fi", &mut th.label_fi),
            ("sv", &mut th.label_sv),
            ("en", &mut th.label_en),
        ] {
            col.push(t.labels.get(lang).cloned());
        }
        th.description.push(t.description.clone());
        th.parent.push(t.parent.clone());
        th.keywords.push(t.keywords.clone());
        th.segments.push(members.len() as u32);
        th.documents.push(
            members
                .iter()
                .map(|r| r.doc_idx)
                .collect::<BTreeSet<_>>()
                .len() as u32,
        );
        th.respondents.push(respondents.len() as u32);
        th.negative_share
            .push((!members.is_empty()).then(|| round2(share(members, |r| r.negative()))));
        th.root_cause.push(
            rows.iter()
                .filter(|r| r.fact.root_cause == Some(ti as u16))
                .count() as u32,
        );
        th.representative.push(
            t.representative
                .clone()
                .or_else(|| inp.quotes.representative.get(&ti).cloned()),
        );
        if t.id == OTHER || members.is_empty() {
            continue;
        }
        let (with, _, imp) = impact(&respondents);
        let scored: Vec<&f64> = nps_of
            .iter()
            .filter(|(k, _)| respondents.contains(k.as_str()))
            .map(|(_, v)| v)
            .collect();
        let lift = match (detractor_rate, scored.is_empty()) {
            (Some(base), false) if base > 0.0 => Some(round2(
                detractors(scored.iter().copied()) as f64 / scored.len() as f64 / base,
            )),
            _ => None,
        };
        dr.id.push(t.id.clone());
        dr.respondents.push(respondents.len() as u32);
        dr.share.push(round2(
            respondents.len() as f64 / all_respondents.len().max(1) as f64,
        ));
        dr.negative_share
            .push(round2(share(members, |r| r.negative())));
        dr.nps_mentioners.push(with);
        dr.nps_impact.push(imp);
        dr.lift.push(lift);
        dr.scored.push(scored_of(&respondents));
    }
    let themes = DataFrame::new_infer_height(vec![
        Column::new("theme_id".into(), th.id),
        Column::new("origin".into(), th.origin),
        Column::new("label".into(), th.label),
        Column::new("label_fi".into(), th.label_fi),
        Column::new("label_sv".into(), th.label_sv),
        Column::new("label_en".into(), th.label_en),
        Column::new("description".into(), th.description),
        Column::new("parent".into(), th.parent),
        list_col("keywords", &th.keywords),
        Column::new("segments".into(), th.segments),
        Column::new("documents".into(), th.documents),
        Column::new("respondents".into(), th.respondents),
        Column::new("negative_share".into(), th.negative_share),
        Column::new("root_cause_segments".into(), th.root_cause),
        Column::new("representative_segment_id".into(), th.representative),
    ])?;
    let drivers = drivers::table(dr, &y, inp.cfg)?;

    let q = |f: &dyn Fn(&QuoteRow) -> Option<String>| -> Vec<Option<String>> {
        quote_rows.iter().map(f).collect()
    };
    let quotes = DataFrame::new_infer_height(vec![
        Column::new("theme_id".into(), q(&|x| Some(theme_order[x.0].clone()))),
        Column::new("stage".into(), q(&|x| Some(stage_order[x.1].clone()))),
        Column::new(
            "rank".into(),
            quote_rows.iter().map(|x| x.2 as u32).collect::<Vec<_>>(),
        ),
        Column::new("segment_id".into(), q(&|x| Some(x.3.segment_id.clone()))),
        Column::new("doc_id".into(), q(&|x| Some(x.3.doc_id.clone()))),
        Column::new("text".into(), q(&|x| Some(x.3.text.clone()))),
        Column::new("lang".into(), q(&|x| Some(x.3.lang.clone()))),
        Column::new(
            "sentiment".into(),
            q(&|x| Some(x.3.sentiment.as_str().to_string())),
        ),
        Column::new("speaker".into(), q(&|x| x.3.speaker.clone())),
        Column::new("role".into(), q(&|x| Some(x.3.role.as_str().to_string()))),
        Column::new("source_file".into(), q(&|x| Some(x.3.source_file.clone()))),
        Column::new(
            "source_row".into(),
            quote_rows
                .iter()
                .map(|x| x.3.source_row)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "t_start".into(),
            quote_rows.iter().map(|x| x.3.t_start).collect::<Vec<_>>(),
        ),
        Column::new(
            "score".into(),
            quote_rows.iter().map(|x| x.3.score).collect::<Vec<_>>(),
        ),
    ])?;
    let trends = trends(&rows, &theme_order)?;
    let comparisons = compare::table(&rows, &theme_order, nps_of, inp.cfg)?;
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
