//! Loading an output folder into plain structs: run.json and the Parquet tables, read with
//! polars and only the columns the report shows. Segment rows are folded into counts while
//! reading; only a bounded pool of quotes survives, so a huge run gives a small report.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use polars::prelude::DataType;
use serde_json::Value;

use super::facts::{self, RunFacts};
use super::quotes::{pick_quotes, quote_rows};
use super::table::Table;
use super::{ReportError, UiLang};
use crate::analyze::respondent_key;
use crate::classify::codebook::{Codebook, CodebookKind, OTHER};

/// Everything the page shows, already in display order.
#[derive(Debug, Default)]
pub struct ReportData {
    pub facts: RunFacts,
    pub overview: Overview,
    /// Journey stages in journey order (stages only seen in the tables come last).
    pub stages: Vec<Stage>,
    /// Codebook themes in codebook order, then emergent themes, then `other`.
    pub themes: Vec<Theme>,
    /// Non-empty theme × stage cells, ordered by theme then stage.
    pub cells: Vec<Cell>,
    pub drivers: Vec<Driver>,
    /// The bounded quote pool; cells and themes point into it.
    pub quotes: Vec<Quote>,
    /// Quotes the tables offered that the total cap left out.
    pub quotes_dropped: usize,
    /// Evidence tables that were absent (or ignored because run.json says classification
    /// did not run, so any such files are from an earlier run).
    pub missing: Vec<&'static str>,
    pub classified: bool,
    /// Significant rows of `comparisons.parquet`, when the run wrote it.
    pub changes: Option<Vec<super::changes::Change>>,
}

#[derive(Debug, Default)]
pub struct Overview {
    pub respondents: u64,
    pub nps: Option<f64>,
    pub nps_respondents: u64,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    /// Customer segments (interviewer questions excluded) and how many are negative.
    pub customer_segments: u64,
    pub negative_segments: u64,
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub id: String,
    pub label: String,
    /// Customer segments at this stage and the negative ones among them.
    pub segments: u64,
    pub negative: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Theme {
    pub id: String,
    pub label: String,
    pub emergent: bool,
    pub description: Option<String>,
    pub keywords: Vec<String>,
    pub segments: u64,
    pub respondents: u64,
    pub negative_share: Option<f64>,
    pub root_cause_segments: u64,
    /// Negative, neutral, positive customer segments.
    pub sentiment: Option<[u64; 3]>,
    pub quotes: Vec<usize>,
    /// (`YYYY-MM`, segments, negative share), oldest first.
    pub months: Vec<(String, u64, f64)>,
}

#[derive(Debug, Clone)]
pub struct Cell {
    pub theme: usize,
    pub stage: usize,
    pub segments: u64,
    pub documents: u64,
    pub respondents: u64,
    pub root_cause_segments: u64,
    pub negative_share: f64,
    pub mean_sentiment: Option<f64>,
    pub nps_mentioners: Option<f64>,
    pub nps_impact: Option<f64>,
    /// 95 % intervals: Wilson for the negative share, bootstrap for the NPS impact.
    pub negative_ci: Option<(f64, f64)>,
    pub impact_ci: Option<(f64, f64)>,
    pub quotes: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Driver {
    pub theme: usize,
    pub rank: u64,
    pub respondents: u64,
    pub share: f64,
    pub negative_share: Option<f64>,
    pub nps_mentioners: Option<f64>,
    pub nps_impact: Option<f64>,
    /// 95 % interval of `nps_impact`.
    pub impact_ci: Option<(f64, f64)>,
    /// Holm-adjusted significance; `None` when not tested (low base).
    pub significant: Option<bool>,
    pub low_base: bool,
    pub detractor_lift: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub segment_id: String,
    pub text: String,
    pub lang: Option<String>,
    pub sentiment: Option<String>,
    pub speaker: Option<String>,
    pub role: Option<String>,
    pub source_file: Option<String>,
    pub source_row: Option<u64>,
    pub t_start: Option<f64>,
    pub score: Option<f64>,
}

/// Read an output folder. run.json, documents.parquet and rejects.parquet are required;
/// segments.parquet too when run.json says classification ran. The evidence tables are
/// optional: a run without a model has none, and the report then shows what exists.
pub fn load(dir: &Path, lang: UiLang) -> Result<ReportData, ReportError> {
    let run_path = dir.join("run.json");
    let run: Value = match std::fs::read(&run_path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ReportError::read(&run_path, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ReportError::Missing { path: run_path })
        }
        Err(e) => return Err(ReportError::read(&run_path, e)),
    };
    if !run.is_object() {
        return Err(ReportError::read(&run_path, "not a JSON object"));
    }
    let facts = facts::run_facts(&run, dir)?;
    let mut data = ReportData {
        overview: overview(dir)?,
        // Without a status (older run.json) the tables present are taken at their word.
        classified: facts.status.as_deref().is_none_or(|s| s == "done"),
        facts,
        ..ReportData::default()
    };
    data.stages = journey_stages(data.facts.journey.as_deref(), lang);
    if data.classified {
        load_evidence(dir, lang, &mut data)?;
        data.changes = super::changes::load(dir)?;
    } else {
        data.missing = EVIDENCE_TABLES.to_vec();
    }
    Ok(data)
}

impl ReportData {
    /// Whether theme `ti` has anything to show: mentions, or a heatmap cell.
    pub fn theme_shown(&self, ti: usize) -> bool {
        self.themes[ti].segments > 0 || self.cells.iter().any(|c| c.theme == ti)
    }
}

const EVIDENCE_TABLES: [&str; 5] = [
    "themes.parquet",
    "theme_stage.parquet",
    "drivers.parquet",
    "quotes.parquet",
    "trends.parquet",
];

fn overview(dir: &Path) -> Result<Overview, ReportError> {
    let docs = Table::read(
        dir,
        "documents.parquet",
        &[
            "doc_id",
            "source_file",
            "respondent_id",
            "score",
            "score_kind",
            "date",
        ],
    )?;
    let (doc_id, file, resp) = (
        docs.strs("doc_id")?,
        docs.strs("source_file")?,
        docs.strs("respondent_id")?,
    );
    let (score, kind, date) = (
        docs.f64s("score")?,
        docs.strs("score_kind")?,
        docs.strs("date")?,
    );
    let mut respondents = BTreeSet::new();
    let mut nps_of: BTreeMap<String, f64> = BTreeMap::new();
    for i in 0..docs.height() {
        let key = respondent_key(
            file[i].as_deref().unwrap_or(""),
            resp[i].as_deref(),
            doc_id[i].as_deref().unwrap_or_default(),
        );
        if let (Some("nps"), Some(s)) = (kind[i].as_deref(), score[i]) {
            nps_of.insert(key.clone(), s);
        }
        respondents.insert(key);
    }
    let nps = crate::analyze::nps(nps_of.values());
    let dates = date.iter().flatten();
    Ok(Overview {
        respondents: respondents.len() as u64,
        nps,
        nps_respondents: nps_of.len() as u64,
        first_date: dates.clone().min().cloned(),
        last_date: dates.max().cloned(),
        ..Overview::default()
    })
}

/// Stage ids and labels from the run's journey map (a built-in name or a path that may no
/// longer resolve; then the ids from the tables stand in as labels).
fn journey_stages(journey: Option<&str>, lang: UiLang) -> Vec<Stage> {
    let Some(cb) = journey.and_then(|j| Codebook::resolve(j, CodebookKind::Stage).ok()) else {
        return Vec::new();
    };
    cb.items
        .iter()
        .map(|i| Stage {
            id: i.id.clone(),
            label: i.label_in(lang.code()).to_string(),
            segments: 0,
            negative: 0,
        })
        .collect()
}

fn stage_index(stages: &mut Vec<Stage>, id: &str) -> usize {
    stages.iter().position(|s| s.id == id).unwrap_or_else(|| {
        stages.push(Stage {
            id: id.to_string(),
            label: id.to_string(),
            segments: 0,
            negative: 0,
        });
        stages.len() - 1
    })
}

fn theme_index(themes: &mut Vec<Theme>, id: &str) -> usize {
    themes.iter().position(|t| t.id == id).unwrap_or_else(|| {
        themes.push(Theme {
            id: id.to_string(),
            label: id.to_string(),
            ..Theme::default()
        });
        themes.len() - 1
    })
}

fn load_evidence(dir: &Path, lang: UiLang, data: &mut ReportData) -> Result<(), ReportError> {
    let optional = |name: &'static str, cols: &[&str], missing: &mut Vec<&'static str>| {
        let t = Table::read_optional(dir, name, cols)?;
        if t.is_none() {
            missing.push(name);
        }
        Ok::<_, ReportError>(t)
    };
    let mut missing = Vec::new();
    let themes_t = optional(
        "themes.parquet",
        &[
            "theme_id",
            "origin",
            "label",
            "label_fi",
            "label_sv",
            "label_en",
            "description",
            "keywords",
            "segments",
            "respondents",
            "negative_share",
            "root_cause_segments",
            "representative_segment_id",
        ],
        &mut missing,
    )?;
    let cells_t = optional(
        "theme_stage.parquet",
        &[
            "theme_id",
            "stage",
            "segments",
            "root_cause_segments",
            "documents",
            "respondents",
            "negative_share",
            "negative_share_low",
            "negative_share_high",
            "mean_sentiment",
            "nps_mentioners",
            "nps_impact",
            "nps_impact_low",
            "nps_impact_high",
        ],
        &mut missing,
    )?;
    let drivers_t = optional(
        "drivers.parquet",
        &[
            "theme_id",
            "respondents",
            "share_of_respondents",
            "negative_share",
            "nps_mentioners",
            "nps_impact",
            "nps_impact_low",
            "nps_impact_high",
            "significant",
            "low_base",
            "detractor_lift",
            "rank",
        ],
        &mut missing,
    )?;
    let quotes_t = optional(
        "quotes.parquet",
        &[
            "theme_id",
            "stage",
            "rank",
            "segment_id",
            "text",
            "lang",
            "sentiment",
            "speaker",
            "role",
            "source_file",
            "source_row",
            "t_start",
            "score",
        ],
        &mut missing,
    )?;
    let trends_t = optional(
        "trends.parquet",
        &["theme_id", "month", "segments", "negative_share"],
        &mut missing,
    )?;
    data.missing = missing;
    let mut representative: Vec<Option<String>> = Vec::new();
    if let Some(t) = &themes_t {
        let theme_cb = data
            .facts
            .codebook
            .as_deref()
            .and_then(|c| Codebook::resolve(c, CodebookKind::Theme).ok());
        let ids = t.strs("theme_id")?;
        let origin = t.strs("origin")?;
        let label = t.strs("label")?;
        let label_lang = t.strs(&format!("label_{}", lang.code()))?;
        let label_en = t.strs("label_en")?;
        let descr = t.strs("description")?;
        let keywords = t.lists("keywords")?;
        let (segs, resp, root) = (
            t.u64s("segments")?,
            t.u64s("respondents")?,
            t.u64s("root_cause_segments")?,
        );
        let neg = t.f64s("negative_share")?;
        let rep = t.strs("representative_segment_id")?;
        for i in 0..t.height() {
            let id = ids[i].clone().unwrap_or_default();
            let localized = theme_cb
                .as_ref()
                .and_then(|cb| cb.item(&id))
                .and_then(|item| item.description.get(lang.code()).cloned());
            data.themes.push(Theme {
                label: label_lang[i]
                    .clone()
                    .or_else(|| label_en[i].clone())
                    .or_else(|| label[i].clone())
                    .unwrap_or_else(|| id.clone()),
                emergent: origin[i].as_deref() == Some("emergent"),
                description: localized.or_else(|| descr[i].clone()),
                keywords: keywords.get(i).cloned().unwrap_or_default(),
                segments: segs[i].unwrap_or(0),
                respondents: resp[i].unwrap_or(0),
                negative_share: neg[i],
                root_cause_segments: root[i].unwrap_or(0),
                id,
                ..Theme::default()
            });
            representative.push(rep[i].clone());
        }
        // `other` (no theme applied) is context, not a root cause: it goes last.
        if let Some(pos) = data.themes.iter().position(|t| t.id == OTHER) {
            let t = data.themes.remove(pos);
            let r = representative.remove(pos);
            data.themes.push(t);
            representative.push(r);
        }
    }

    if let Some(t) = &cells_t {
        let (theme, stage) = (t.strs("theme_id")?, t.strs("stage")?);
        let (segs, root, docs, resp) = (
            t.u64s("segments")?,
            t.u64s("root_cause_segments")?,
            t.u64s("documents")?,
            t.u64s("respondents")?,
        );
        let (neg, mean, with, impact) = (
            t.f64s("negative_share")?,
            t.f64s("mean_sentiment")?,
            t.f64s("nps_mentioners")?,
            t.f64s("nps_impact")?,
        );
        let (neg_lo, neg_hi) = (
            t.f64s("negative_share_low")?,
            t.f64s("negative_share_high")?,
        );
        let (imp_lo, imp_hi) = (t.f64s("nps_impact_low")?, t.f64s("nps_impact_high")?);
        for i in 0..t.height() {
            let (Some(th), Some(st)) = (&theme[i], &stage[i]) else {
                continue;
            };
            let cell = Cell {
                theme: theme_index(&mut data.themes, th),
                stage: stage_index(&mut data.stages, st),
                segments: segs[i].unwrap_or(0),
                documents: docs[i].unwrap_or(0),
                respondents: resp[i].unwrap_or(0),
                root_cause_segments: root[i].unwrap_or(0),
                negative_share: neg[i].unwrap_or(0.0),
                mean_sentiment: mean[i],
                nps_mentioners: with[i],
                nps_impact: impact[i],
                negative_ci: neg_lo[i].zip(neg_hi[i]),
                impact_ci: imp_lo[i].zip(imp_hi[i]),
                quotes: Vec::new(),
            };
            if cell.segments > 0 {
                data.cells.push(cell);
            }
        }
        data.cells.sort_by_key(|c| (c.theme, c.stage));
    }

    if let Some(t) = &drivers_t {
        let theme = t.strs("theme_id")?;
        let (resp, rank) = (t.u64s("respondents")?, t.u64s("rank")?);
        let (share, neg, with, impact, lift) = (
            t.f64s("share_of_respondents")?,
            t.f64s("negative_share")?,
            t.f64s("nps_mentioners")?,
            t.f64s("nps_impact")?,
            t.f64s("detractor_lift")?,
        );
        let (ci_lo, ci_hi) = (t.f64s("nps_impact_low")?, t.f64s("nps_impact_high")?);
        let (significant, low_base) = (t.bools("significant")?, t.bools("low_base")?);
        for i in 0..t.height() {
            let Some(th) = &theme[i] else { continue };
            data.drivers.push(Driver {
                impact_ci: ci_lo[i].zip(ci_hi[i]),
                significant: significant[i],
                low_base: low_base[i].unwrap_or(false),
                theme: theme_index(&mut data.themes, th),
                rank: rank[i].unwrap_or(u64::MAX),
                respondents: resp[i].unwrap_or(0),
                share: share[i].unwrap_or(0.0),
                negative_share: neg[i],
                nps_mentioners: with[i],
                nps_impact: impact[i],
                detractor_lift: lift[i],
            });
        }
        data.drivers.sort_by_key(|x| (x.rank, x.theme));
    }

    if let Some(t) = &trends_t {
        let (theme, month) = (t.strs("theme_id")?, t.strs("month")?);
        let (segs, neg) = (t.u64s("segments")?, t.f64s("negative_share")?);
        for i in 0..t.height() {
            let (Some(th), Some(m)) = (&theme[i], &month[i]) else {
                continue;
            };
            let ti = theme_index(&mut data.themes, th);
            data.themes[ti]
                .months
                .push((m.clone(), segs[i].unwrap_or(0), neg[i].unwrap_or(0.0)));
        }
        for th in &mut data.themes {
            th.months.sort_by(|a, b| a.0.cmp(&b.0));
        }
    }

    segment_counts(dir, data)?;
    if let Some(t) = &quotes_t {
        let rows = quote_rows(t)?;
        pick_quotes(data, &rows, &representative);
    }
    Ok(())
}

/// Sentiment per theme and per stage over customer segments, counted while scanning
/// segments.parquet (interviewer questions are context, as in the analysis).
fn segment_counts(dir: &Path, data: &mut ReportData) -> Result<(), ReportError> {
    let t = Table::read(
        dir,
        "segments.parquet",
        &["role", "sentiment", "themes", "stage"],
    )?;
    if t.height() == 0 {
        return Ok(());
    }
    let role = t.col("role", &DataType::String)?;
    let sent = t.col("sentiment", &DataType::String)?;
    let stage = t.col("stage", &DataType::String)?;
    let themes = t.col("themes", &DataType::List(Box::new(DataType::String)))?;
    let role = role.str().map_err(|e| t.bad("role", e))?;
    let sent = sent.str().map_err(|e| t.bad("sentiment", e))?;
    let stage = stage.str().map_err(|e| t.bad("stage", e))?;
    let themes = themes.list().map_err(|e| t.bad("themes", e))?;
    let mut by_theme: HashMap<String, [u64; 3]> = HashMap::new();
    let mut by_stage: HashMap<String, [u64; 2]> = HashMap::new();
    let mut rows = role.iter().zip(sent.iter()).zip(stage.iter());
    for th in themes.amortized_iter() {
        let Some(((r, s), st)) = rows.next() else {
            break;
        };
        let Some(s) = s else { continue };
        if r == Some("interviewer") {
            continue;
        }
        let k = match s {
            "negative" => 0,
            "positive" => 2,
            _ => 1,
        };
        data.overview.customer_segments += 1;
        data.overview.negative_segments += u64::from(k == 0);
        if let Some(st) = st {
            let e = by_stage.entry(st.to_string()).or_default();
            e[0] += 1;
            e[1] += u64::from(k == 0);
        }
        let Some(th) = th else { continue };
        let names = th.as_ref().str().map_err(|e| t.bad("themes", e))?;
        for name in names.iter().flatten() {
            match by_theme.get_mut(name) {
                Some(c) => c[k] += 1,
                None => {
                    let mut c = [0; 3];
                    c[k] = 1;
                    by_theme.insert(name.to_string(), c);
                }
            }
        }
    }
    for th in &mut data.themes {
        th.sentiment = by_theme.get(&th.id).copied();
    }
    let mut ids: Vec<&String> = by_stage.keys().collect();
    ids.sort();
    for id in ids.into_iter().cloned().collect::<Vec<_>>() {
        let i = stage_index(&mut data.stages, &id);
        let [n, neg] = by_stage[&id];
        data.stages[i].segments = n;
        data.stages[i].negative = neg;
    }
    Ok(())
}
