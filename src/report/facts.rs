//! Run facts from run.json and the rejects summary from rejects.parquet. run.json is read
//! leniently (fields may be absent in older files); what it does say is shown as written.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::table::Table;
use super::{fmt, ReportError, MAX_REJECT_EXAMPLES, MAX_REJECT_REASONS};

#[derive(Debug, Default)]
pub struct RunFacts {
    pub version: Option<String>,
    pub inputs: Vec<InputFact>,
    /// (key, value) for files, rows, documents, segments, rejects — those present.
    pub counts: Vec<(&'static str, u64)>,
    pub by_lang: Vec<(String, u64)>,
    pub status: Option<String>,
    pub reason: Option<String>,
    /// Codebook and journey as configured (built-in name or path), to find labels.
    pub codebook: Option<String>,
    pub journey: Option<String>,
    pub models: Vec<ModelFact>,
    pub heads: Vec<HeadFact>,
    pub negative_segments: Option<u64>,
    pub emergent_themes: Option<u64>,
    pub unexplained_negative_share: Option<f64>,
    /// Stage timings in pipeline order, then any others by name.
    pub timings: Vec<(String, f64)>,
    pub total_s: Option<f64>,
    pub rejects: Rejects,
}

#[derive(Debug, Default)]
pub struct InputFact {
    pub path: String,
    pub sha256: Option<String>,
    pub format: Option<String>,
    pub rows: Option<u64>,
    pub documents: Option<u64>,
    pub rejects: Option<u64>,
}

#[derive(Debug, Default)]
pub struct ModelFact {
    pub id: String,
    pub revision: Option<String>,
    pub weights_sha256: Option<String>,
}

#[derive(Debug, Default)]
pub struct HeadFact {
    pub task: String,
    pub training_rows: Option<u64>,
}

#[derive(Debug, Default)]
pub struct Rejects {
    pub total: u64,
    /// Reasons with their quoted values masked, most frequent first.
    pub by_reason: Vec<ReasonGroup>,
    pub reasons_total: usize,
    pub examples: Vec<RejectRow>,
}

#[derive(Debug)]
pub struct ReasonGroup {
    pub reason: String,
    pub count: u64,
    pub first: RejectRow,
}

#[derive(Debug, Clone)]
pub struct RejectRow {
    pub file: String,
    pub line: Option<u64>,
    pub reason: String,
    pub raw: Option<String>,
}

const PIPELINE_ORDER: [&str; 6] = ["discover", "ingest", "segment", "lang", "classify", "write"];
const MAX_RAW_CHARS: usize = 160;

pub fn run_facts(run: &Value, dir: &Path) -> Result<RunFacts, ReportError> {
    let s = |v: &Value| v.as_str().map(str::to_string);
    let cls = &run["classification"];
    let inputs = run["inputs"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| InputFact {
                    path: s(&i["path"]).unwrap_or_default(),
                    sha256: s(&i["sha256"]),
                    format: s(&i["format"]),
                    rows: i["rows"].as_u64(),
                    documents: i["documents"].as_u64(),
                    rejects: i["rejects"].as_u64(),
                })
                .collect()
        })
        .unwrap_or_default();
    let counts = ["files", "rows", "documents", "segments", "rejects"]
        .into_iter()
        .filter_map(|k| run["counts"][k].as_u64().map(|v| (k, v)))
        .collect();
    let by_lang = run["counts"]["segments_by_lang"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_u64().map(|v| (k.clone(), v)))
                .collect()
        })
        .unwrap_or_default();
    let models = cls["models"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| ModelFact {
                    id: s(&m["id"]).unwrap_or_default(),
                    revision: s(&m["revision"]),
                    weights_sha256: m["files"].as_array().and_then(|files| {
                        files.iter().find_map(|f| {
                            let name = f[0].as_str()?;
                            (name.ends_with(".safetensors") || name.ends_with(".bin"))
                                .then(|| f[1].as_str().map(str::to_string))
                                .flatten()
                        })
                    }),
                })
                .collect()
        })
        .unwrap_or_default();
    let heads = cls["heads"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| HeadFact {
                    task: s(&h["task"]).unwrap_or_default(),
                    training_rows: h["training_rows"].as_u64(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut timings: Vec<(String, f64)> = Vec::new();
    if let Some(t) = run["timings_s"].as_object() {
        for k in PIPELINE_ORDER {
            if let Some(v) = t.get(k).and_then(Value::as_f64) {
                timings.push((k.to_string(), v));
            }
        }
        for (k, v) in t {
            if !PIPELINE_ORDER.contains(&k.as_str()) {
                if let Some(v) = v.as_f64() {
                    timings.push((k.clone(), v));
                }
            }
        }
    }
    let classify_cfg = &run["config"]["classify"];
    Ok(RunFacts {
        version: s(&run["palaute_version"]),
        inputs,
        counts,
        by_lang,
        status: s(&cls["status"]),
        reason: s(&cls["reason"]),
        codebook: s(&classify_cfg["codebook"]).or_else(|| s(&cls["codebook"])),
        journey: s(&classify_cfg["journey"]),
        models,
        heads,
        negative_segments: cls["negative_segments"].as_u64(),
        emergent_themes: cls["emergent_themes"].as_u64(),
        unexplained_negative_share: cls["unexplained_negative_share"].as_f64(),
        timings,
        total_s: run["total_s"].as_f64(),
        rejects: rejects(dir)?,
    })
}

/// Reasons carry the offending value (`non-numeric score "kymmenen" in column "NPS"`), so
/// grouping by the literal text would give one group per bad value; quoted parts are masked.
pub fn reason_pattern(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut quoted = false;
    for c in reason.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"…\"");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

fn rejects(dir: &Path) -> Result<Rejects, ReportError> {
    let t = Table::read(
        dir,
        "rejects.parquet",
        &["source_file", "line", "reason", "raw"],
    )?;
    let (file, line, reason, raw) = (
        t.strs("source_file")?,
        t.u64s("line")?,
        t.strs("reason")?,
        t.strs("raw")?,
    );
    let row = |i: usize| RejectRow {
        file: file[i].clone().unwrap_or_default(),
        line: line[i],
        reason: reason[i].clone().unwrap_or_default(),
        raw: raw[i].as_deref().map(|r| fmt::truncate(r, MAX_RAW_CHARS)),
    };
    let mut groups: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for (i, r) in reason.iter().enumerate() {
        let e = groups
            .entry(reason_pattern(r.as_deref().unwrap_or("")))
            .or_insert((0, i));
        e.0 += 1;
    }
    let mut by_reason: Vec<ReasonGroup> = groups
        .into_iter()
        .map(|(reason, (count, first))| ReasonGroup {
            reason,
            count,
            first: row(first),
        })
        .collect();
    by_reason.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    let reasons_total = by_reason.len();
    by_reason.truncate(MAX_REJECT_REASONS);
    Ok(Rejects {
        total: t.height() as u64,
        by_reason,
        reasons_total,
        examples: (0..t.height().min(MAX_REJECT_EXAMPLES)).map(row).collect(),
    })
}
