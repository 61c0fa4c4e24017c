//! The merge step: the final tables of an output folder built from its parts (`parts`), one
//! chunk at a time. documents, segments, rejects and embeddings are the parts' rows in merge
//! order, rewritten in fixed row groups; the evidence tables (themes, theme_stage, drivers,
//! quotes, trends, comparisons) come from compact per-segment facts (`evidence`). The same
//! merge serves a run, `palaute merge` and `palaute run --append`.

pub(crate) mod columns;
mod evidence;

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;
use serde_json::{json, Value};

use crate::analyze::list_col;
use crate::config::Config;
use crate::error::Error;
use crate::output::{self, documents_frame, rejects_frame, segments_frame};
use crate::parts::{self, Part, Table, TableWriter};
use crate::progress::Progress;
use columns::{list_f32s, list_strs, strs};

/// What a merge wrote and counted.
pub struct Merged {
    /// File names written into the target folder.
    pub files: Vec<String>,
    pub classified: bool,
    pub documents: usize,
    pub segments: usize,
    pub rejects: usize,
    pub rows: usize,
    /// Each input's run.json entry, in merge order.
    pub inputs: Vec<Value>,
    /// Segments per language.
    pub segments_by_lang: std::collections::BTreeMap<String, usize>,
    /// Negative, emergent and unexplained counts (classified runs).
    pub evidence: Value,
}

/// Checks that the parts can be merged: equal settings (config and models).
pub fn check(parts: &[Part]) -> Result<(), Error> {
    let Some(first) = parts.first() else {
        return Ok(());
    };
    for p in &parts[1..] {
        if p.info.fingerprint != first.info.fingerprint {
            return Err(Error::Mismatch {
                path: p.dir.clone(),
                message: format!(
                    "{} was processed with other settings than {} ({}); rerun without --append",
                    p.info.source,
                    first.info.source,
                    differing(&first.info.settings, &p.info.settings).join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// The top-level settings (config sections, models) that differ.
pub fn differing(a: &Value, b: &Value) -> Vec<String> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return vec!["settings".into()];
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| k.to_string())
        .collect()
}

/// Builds every table from `parts` into `out`.
pub fn merge(
    parts: &[Part],
    out: &Path,
    cfg: &Config,
    write_embeddings: bool,
    progress: Progress,
) -> Result<Merged, Error> {
    check(parts)?;
    let classified = parts.first().is_some_and(|p| p.info.classified);
    let mut files = Vec::new();
    let rejects = merge_rejects(parts, out)?;
    files.push(parts::REJECTS.to_string());
    let documents = merge_documents(parts, out)?;
    files.push("documents.parquet".into());
    let (emergent, evidence) = if classified {
        let ev = evidence::build(parts, cfg, progress)?;
        for (name, mut df) in ev.tables {
            output::write_parquet(&mut df, &out.join(&name))?;
            files.push(name);
        }
        (ev.emergent, ev.report)
    } else {
        (HashMap::new(), json!(null))
    };
    let (segments, segments_by_lang) = merge_segments(parts, out, classified, &emergent)?;
    files.push("segments.parquet".into());
    if write_embeddings && classified {
        let mut w = TableWriter::create(&out.join("embeddings.parquet"))?;
        for_each_chunk(parts, Table::Embeddings, |df| w.write(df))?;
        w.finish(|| crate::model::embeddings_frame(&[], &crate::model::Embeddings::default()))?;
        files.push("embeddings.parquet".into());
    }
    Ok(Merged {
        files,
        classified,
        documents,
        segments,
        rejects,
        rows: parts.iter().map(|p| p.info.rows).sum(),
        inputs: parts.iter().map(|p| p.info.input.clone()).collect(),
        segments_by_lang,
        evidence,
    })
}

/// Calls `f` with each chunk of `table`, in merge order.
fn for_each_chunk(
    parts: &[Part],
    table: Table,
    mut f: impl FnMut(DataFrame) -> Result<(), Error>,
) -> Result<(), Error> {
    for p in parts {
        for c in 0..p.chunk_count() {
            f(p.read(table, c)?)?;
        }
    }
    Ok(())
}

fn merge_rejects(parts: &[Part], out: &Path) -> Result<usize, Error> {
    let mut w = TableWriter::create(&out.join(parts::REJECTS))?;
    for p in parts {
        w.write(parts::read_parquet(&p.dir.join(parts::REJECTS))?)?;
    }
    w.finish(|| rejects_frame(&[]))
}

/// Documents of every part; metadata columns are the union over all parts, in order of
/// first appearance (as one frame of all documents would have them), absent ones null.
fn merge_documents(parts: &[Part], out: &Path) -> Result<usize, Error> {
    let base: Vec<String> = documents_frame(&[], &[], None)
        .map_err(|e| Error::output(out, e))?
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut meta: Vec<String> = Vec::new();
    for p in parts {
        for c in 0..p.chunk_count() {
            let path = p.chunk(Table::Documents, c);
            let file = std::fs::File::open(&path).map_err(|e| Error::Io {
                path: path.clone(),
                source: e,
            })?;
            let schema = ParquetReader::new(file)
                .schema()
                .map_err(|e| Error::output(&path, e))?;
            for name in schema.iter_names() {
                if name.starts_with("meta_") && !meta.iter().any(|m| m == name.as_str()) {
                    meta.push(name.to_string());
                }
            }
        }
    }
    let order: Vec<String> = base.iter().chain(&meta).cloned().collect();
    let mut w = TableWriter::create(&out.join("documents.parquet"))?;
    for_each_chunk(parts, Table::Documents, |mut df| {
        let height = df.height();
        for m in &meta {
            if df.column(m).is_err() {
                df.with_column(Column::full_null(m.into(), height, &DataType::String))
                    .map_err(|e| Error::output(out, e))?;
            }
        }
        w.write(
            df.select(order.iter().cloned())
                .map_err(|e| Error::output(out, e))?,
        )
    })?;
    let empty_order = order.clone();
    w.finish(move || {
        let mut df = documents_frame(&[], &[], None)?;
        for m in &meta {
            df.with_column(Column::full_null(m.into(), 0, &DataType::String))?;
        }
        df.select(empty_order)
    })
}

/// Segments of every part; members of emergent themes get the theme (and it as their root
/// cause), as the emergent themes were found only at the merge.
fn merge_segments(
    parts: &[Part],
    out: &Path,
    classified: bool,
    emergent: &HashMap<String, String>,
) -> Result<(usize, std::collections::BTreeMap<String, usize>), Error> {
    let mut langs = std::collections::BTreeMap::new();
    let mut w = TableWriter::create(&out.join("segments.parquet"))?;
    for_each_chunk(parts, Table::Segments, |df| {
        for l in strs(&df, "lang")?.into_iter().flatten() {
            *langs.entry(l.to_string()).or_insert(0) += 1;
        }
        let df = if emergent.is_empty() {
            df
        } else {
            with_emergent(df, emergent)?
        };
        w.write(df)
    })?;
    let n = w.finish(|| segments_frame(&[], if classified { Some(&[]) } else { None }))?;
    Ok((n, langs))
}

fn with_emergent(
    mut df: DataFrame,
    emergent: &HashMap<String, String>,
) -> Result<DataFrame, Error> {
    let ids = strs(&df, "segment_id")?;
    let hits: Vec<(usize, &String)> = ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| Some((i, emergent.get((*id)?)?)))
        .collect();
    if hits.is_empty() {
        return Ok(df);
    }
    let mut themes = list_strs(&df, "themes")?;
    let mut scores = list_f32s(&df, "theme_scores")?;
    let mut root: Vec<Option<String>> = strs(&df, "root_cause_theme")?
        .into_iter()
        .map(|v| v.map(String::from))
        .collect();
    for (i, theme) in hits {
        // As a codebook theme would be: `other` gives way, the theme is the root cause.
        themes[i].retain(|t| t != crate::classify::codebook::OTHER);
        scores[i].truncate(themes[i].len());
        themes[i].push(theme.clone());
        scores[i].push(1.0);
        root[i] = Some(theme.clone());
    }
    let err = |e: PolarsError| Error::output(Path::new("segments.parquet"), e);
    df.with_column(list_col("themes", &themes)).map_err(err)?;
    df.with_column(crate::analyze::list_f32_col("theme_scores", &scores))
        .map_err(err)?;
    df.with_column(Column::new("root_cause_theme".into(), root))
        .map_err(err)?;
    Ok(df)
}
