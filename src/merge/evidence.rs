//! The evidence tables from a classified run's parts, in bounded memory:
//! 1. one pass over documents, segments and embeddings gathers compact facts (a few dozen
//!    bytes per analysed segment) and the unexplained complaints' embeddings;
//! 2. emergent themes are discovered among those complaints;
//! 3. two passes over the embeddings choose quotes (group centroids, then candidates);
//! 4. `analyze` builds the tables from the facts and the quotes.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde_json::{json, Value};

use super::columns::{dates, embeddings, f32s, f64s, list_strs, strs, u64s};
use crate::analyze::quotes::{Centroids, Picker};
use crate::analyze::{self, respondent_key, DocFact, Fact, Facts, Quote, ThemeInfo};
use crate::classify::codebook::{Codebook, CodebookKind, OTHER};
use crate::config::Config;
use crate::discover::{self, EmergentTheme};
use crate::error::Error;
use crate::model::Embeddings;
use crate::parts::{Part, Table};
use crate::progress::Progress;
use crate::record::{Role, Sentiment};

pub struct Evidence {
    /// (file name, table).
    pub tables: Vec<(String, DataFrame)>,
    /// Segment id → emergent theme id, for the segments table.
    pub emergent: HashMap<String, String>,
    pub report: Value,
}

/// Where a chunk's facts are: its part and chunk, its first fact, and each fact's row.
struct ChunkFacts {
    part: usize,
    chunk: usize,
    start: usize,
    rows: Vec<u32>,
}

/// An unexplained complaint, for discovery.
struct Unexplained {
    fact: usize,
    id: String,
    text: String,
    lang: String,
    embedding: Vec<f32>,
}

fn role(s: Option<&str>) -> Role {
    s.map_or(Role::Unknown, Role::parse)
}

pub fn build(parts: &[Part], cfg: &Config, progress: Progress) -> Result<Evidence, Error> {
    let themes_cb = Codebook::resolve(&cfg.classify.codebook, CodebookKind::Theme)?;
    let stages = Codebook::resolve(&cfg.classify.journey, CodebookKind::Stage)?;
    let mut themes: Vec<ThemeInfo> = themes_cb
        .items
        .iter()
        .map(|i| ThemeInfo {
            id: i.id.clone(),
            origin: "codebook",
            labels: i.label.clone(),
            description: i.description.get("en").cloned(),
            parent: i.parent.clone(),
            keywords: Vec::new(),
            representative: None,
        })
        .collect();
    let chunks: usize = parts.iter().map(|p| p.chunk_count()).sum();
    let bar = progress.bar(3 * chunks as u64, "merge");
    let (mut facts, layout, unexplained, negatives) =
        gather(parts, cfg, &themes, &stages, || bar.inc(1))?;

    // Emergent themes: complaints no codebook theme explains.
    let items: Vec<discover::Item> = unexplained
        .iter()
        .map(|u| discover::Item {
            id: &u.id,
            text: &u.text,
            lang: &u.lang,
            embedding: &u.embedding,
        })
        .collect();
    let found: Vec<EmergentTheme> = discover::discover(&items, &cfg.discover);
    let other = themes.iter().position(|t| t.id == OTHER).map(|i| i as u16);
    let mut emergent = HashMap::new();
    for t in &found {
        let idx = themes.len() as u16;
        for &m in &t.members {
            let fact = &mut facts.rows[unexplained[m].fact];
            fact.themes.retain(|x| Some(*x) != other);
            fact.themes.push(idx);
            fact.root_cause = Some(idx);
            emergent.insert(unexplained[m].id.clone(), t.id.clone());
        }
        themes.push(ThemeInfo {
            id: t.id.clone(),
            origin: "emergent",
            labels: BTreeMap::from([("en".to_string(), t.label.clone())]),
            description: None,
            parent: None,
            keywords: t.keywords.clone(),
            representative: Some(unexplained[t.representative].id.clone()),
        });
    }
    let still_unexplained =
        unexplained.len() - found.iter().map(|t| t.members.len()).sum::<usize>();
    drop(items);
    drop(unexplained);

    let quotes = pick_quotes(parts, &facts, &layout, cfg.classify.quotes_per_cell, || {
        bar.inc(1)
    })?;
    bar.finish_and_clear();
    let t = analyze::build(&analyze::Inputs {
        facts: &facts,
        themes: &themes,
        stages: &stages,
        quotes: &quotes,
        cfg: &cfg.analyze,
    })
    .map_err(Error::Analyze)?;
    let mut tables = vec![
        ("themes.parquet".to_string(), t.themes),
        ("theme_stage.parquet".to_string(), t.theme_stage),
        ("drivers.parquet".to_string(), t.drivers),
        ("quotes.parquet".to_string(), t.quotes),
        ("trends.parquet".to_string(), t.trends),
    ];
    if let Some(c) = t.comparisons {
        tables.push(("comparisons.parquet".to_string(), c));
    }
    let report = json!({
        "negative_segments": negatives,
        "emergent_themes": found.len(),
        "unexplained_negative_segments": still_unexplained,
        "unexplained_negative_share": if negatives == 0 { 0.0 } else { still_unexplained as f64 / negatives as f64 },
    });
    Ok(Evidence {
        tables,
        emergent,
        report,
    })
}

type Gathered = (Facts, Vec<ChunkFacts>, Vec<Unexplained>, usize);

/// Pass 1: facts of every analysed segment, and the unexplained complaints.
fn gather(
    parts: &[Part],
    cfg: &Config,
    themes: &[ThemeInfo],
    stages: &Codebook,
    mut tick: impl FnMut(),
) -> Result<Gathered, Error> {
    let theme_ix: HashMap<&str, u16> = themes
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i as u16))
        .collect();
    let stage_ix: HashMap<&str, u16> = stages
        .items
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i as u16))
        .collect();
    let mut facts = Facts::default();
    let mut respondent_ix: HashMap<String, u32> = HashMap::new();
    let mut layout = Vec::new();
    let mut unexplained = Vec::new();
    let mut negatives = 0;
    for (pi, p) in parts.iter().enumerate() {
        for c in 0..p.chunk_count() {
            let docs = p.read(Table::Documents, c)?;
            let doc_ix = doc_facts(&docs, cfg, &mut facts, &mut respondent_ix)?;
            let segs = p.read(Table::Segments, c)?;
            let (ids, doc_ids, roles) = (
                strs(&segs, "segment_id")?,
                strs(&segs, "doc_id")?,
                strs(&segs, "role")?,
            );
            let (sent, score) = (strs(&segs, "sentiment")?, f32s(&segs, "sentiment_score")?);
            let (seg_themes, stage, root) = (
                list_strs(&segs, "themes")?,
                strs(&segs, "stage")?,
                strs(&segs, "root_cause_theme")?,
            );
            let (texts, langs) = (strs(&segs, "text")?, strs(&segs, "lang")?);
            let mut emb: Option<Embeddings> = None;
            let mut chunk = ChunkFacts {
                part: pi,
                chunk: c,
                start: facts.rows.len(),
                rows: Vec::new(),
            };
            for i in 0..segs.height() {
                if role(roles[i]) == Role::Interviewer {
                    continue;
                }
                let Some(&doc) = doc_ids[i].and_then(|d| doc_ix.get(d)) else {
                    continue;
                };
                let sentiment = sent[i].and_then(Sentiment::parse).unwrap_or_default();
                let fact = Fact {
                    doc,
                    sentiment,
                    sentiment_score: score[i].unwrap_or(0.0),
                    themes: seg_themes[i]
                        .iter()
                        .filter_map(|t| theme_ix.get(t.as_str()).copied())
                        .collect(),
                    stage: stage[i].and_then(|s| stage_ix.get(s).copied()),
                    root_cause: root[i].and_then(|s| theme_ix.get(s).copied()),
                };
                if sentiment == Sentiment::Negative {
                    negatives += 1;
                    if root[i].is_none() {
                        if emb.is_none() {
                            emb = Some(embeddings(&p.read(Table::Embeddings, c)?)?);
                        }
                        let e = emb.as_ref().map(|e| e.row(i).to_vec()).unwrap_or_default();
                        unexplained.push(Unexplained {
                            fact: facts.rows.len(),
                            id: ids[i].unwrap_or_default().to_string(),
                            text: texts[i].unwrap_or_default().to_string(),
                            lang: langs[i].unwrap_or("und").to_string(),
                            embedding: e,
                        });
                    }
                }
                chunk.rows.push(i as u32);
                facts.rows.push(fact);
            }
            layout.push(chunk);
            tick();
        }
    }
    Ok((facts, layout, unexplained, negatives))
}

/// Adds the chunk's documents to `facts`; returns doc_id → index.
fn doc_facts<'a>(
    docs: &'a DataFrame,
    cfg: &Config,
    facts: &mut Facts,
    respondent_ix: &mut HashMap<String, u32>,
) -> Result<HashMap<&'a str, u32>, Error> {
    let (ids, files, respondents) = (
        strs(docs, "doc_id")?,
        strs(docs, "source_file")?,
        strs(docs, "respondent_id")?,
    );
    let (score, kind, date) = (
        f64s(docs, "score")?,
        strs(docs, "score_kind")?,
        dates(docs, "date")?,
    );
    // The compare column, by name without regard to case (as `compare_value` matches).
    let compare: Option<Vec<Option<&str>>> = match &cfg.analyze.compare {
        Some(col) => {
            let key = col.strip_prefix("meta_").unwrap_or(col);
            let name = docs.get_column_names().into_iter().find(|n| {
                n.strip_prefix("meta_")
                    .is_some_and(|m| m.eq_ignore_ascii_case(key))
            });
            match name {
                Some(n) => Some(strs(docs, n.as_str())?),
                None => None,
            }
        }
        None => None,
    };
    let mut out = HashMap::new();
    for i in 0..docs.height() {
        let id = ids[i].unwrap_or_default();
        let key = respondent_key(files[i].unwrap_or_default(), respondents[i], id);
        if let (Some("nps"), Some(s)) = (kind[i], score[i]) {
            facts.nps.insert(key.clone(), s);
        }
        let next = facts.respondents.len() as u32;
        let respondent = *respondent_ix.entry(key.clone()).or_insert_with(|| {
            facts.respondents.push(key);
            next
        });
        let compare = compare
            .as_ref()
            .and_then(|c| c[i])
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from);
        out.insert(id, facts.docs.len() as u32);
        facts.docs.push(DocFact {
            respondent,
            date: date[i],
            compare,
        });
    }
    Ok(out)
}

/// Passes 2 and 3: each group's centroid, then its quotes.
fn pick_quotes(
    parts: &[Part],
    facts: &Facts,
    layout: &[ChunkFacts],
    quotes_per_cell: usize,
    mut tick: impl FnMut(),
) -> Result<analyze::Quotes, Error> {
    let emb_of = |l: &ChunkFacts| -> Result<Embeddings, Error> {
        embeddings(&parts[l.part].read(Table::Embeddings, l.chunk)?)
    };
    let dim = match layout.iter().find(|l| !l.rows.is_empty()) {
        Some(l) => emb_of(l)?.dim,
        None => return Ok(analyze::Quotes::default()),
    };
    let mut centroids = Centroids::new(dim);
    for l in layout {
        if !l.rows.is_empty() {
            let emb = emb_of(l)?;
            for (k, &row) in l.rows.iter().enumerate() {
                centroids.add(&facts.rows[l.start + k], emb.row(row as usize));
            }
        }
        tick();
    }
    let mut picker = Picker::new(centroids, quotes_per_cell);
    for l in layout {
        if l.rows.is_empty() {
            tick();
            continue;
        }
        let p = &parts[l.part];
        let emb = emb_of(l)?;
        let segs = p.read(Table::Segments, l.chunk)?;
        let docs = p.read(Table::Documents, l.chunk)?;
        let (ids, doc_ids, texts, langs) = (
            strs(&segs, "segment_id")?,
            strs(&segs, "doc_id")?,
            strs(&segs, "text")?,
            strs(&segs, "lang")?,
        );
        let (speakers, roles, t_start) = (
            strs(&segs, "speaker")?,
            strs(&segs, "role")?,
            f64s(&segs, "t_start")?,
        );
        let d_ids = strs(&docs, "doc_id")?;
        let (d_files, d_rows, d_scores, d_resp) = (
            strs(&docs, "source_file")?,
            u64s(&docs, "source_row")?,
            f64s(&docs, "score")?,
            strs(&docs, "respondent_id")?,
        );
        let doc_row: HashMap<&str, usize> = d_ids
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some(((*d)?, i)))
            .collect();
        for (k, &row) in l.rows.iter().enumerate() {
            let i = row as usize;
            let fact = &facts.rows[l.start + k];
            let text = texts[i].unwrap_or_default();
            let d = doc_ids[i].and_then(|d| doc_row.get(d)).copied();
            picker.offer(fact, emb.row(i), text, || Quote {
                segment_id: ids[i].unwrap_or_default().to_string(),
                doc_id: doc_ids[i].unwrap_or_default().to_string(),
                text: text.to_string(),
                lang: langs[i].unwrap_or_default().to_string(),
                sentiment: fact.sentiment,
                speaker: speakers[i]
                    .or_else(|| d.and_then(|d| d_resp[d]))
                    .map(String::from),
                role: role(roles[i]),
                source_file: d.and_then(|d| d_files[d]).unwrap_or_default().to_string(),
                source_row: d.and_then(|d| d_rows[d]),
                t_start: t_start[i],
                score: d.and_then(|d| d_scores[d]),
            });
        }
        tick();
    }
    Ok(picker.finish(quotes_per_cell))
}
