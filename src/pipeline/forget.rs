//! `palaute forget`: the right to erasure. A respondent's documents, segments, embeddings and
//! the rejects of their rows are removed from the part store, and every table, quote,
//! run.json and report.html is rebuilt from what remains — staged and committed like a run,
//! so a reader sees the folder before or after, never between.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use polars::prelude::*;
use serde_json::json;

use super::{RunSummary, PARTS};
use crate::config::Config;
use crate::error::Error;
use crate::merge::columns::{strs, u64s};
use crate::output::folder::Writer;
use crate::output::write_parquet;
use crate::parts::{self, Part, Table};
use crate::progress::Progress;

/// What `forget` removed (counts only: the ids are personal data themselves).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Forgotten {
    pub documents: usize,
    pub segments: usize,
    pub rejects: usize,
}

/// Removes the respondents `ids` from the output folder `out` and rebuilds it. An id matches
/// `documents.respondent_id` as written (with `[privacy] pseudonymise_ids`, the id is
/// pseudonymised with the same key first), and its duplicates `ID#2`, `ID#3`, … Errs, changing
/// nothing, when no document matches.
pub fn forget(
    cfg: &Config,
    out: &Path,
    ids: &[String],
    progress: Progress,
) -> Result<(RunSummary, Forgotten), Error> {
    let started = Instant::now();
    cfg.validate()?;
    let redactor = crate::redact::Redactor::new(&cfg.privacy)?;
    let wanted: HashSet<String> = ids.iter().map(|id| redactor.respondent_id(id)).collect();
    let matches = |rid: &str| {
        wanted.contains(rid)
            || rid.rsplit_once('#').is_some_and(|(base, n)| {
                wanted.contains(base) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
            })
    };
    let writer = Writer::begin(out)?;
    let stage = writer.staging().to_path_buf();
    let mut gone = Forgotten::default();
    let parts = match parts::shard::collect(&out.join(PARTS))? {
        Some(sharded) => sharded_without(&sharded, &stage.join(PARTS), &matches, &mut gone)?,
        None => {
            let mut parts = parts::list(&[out.join(PARTS)])?;
            for part in &mut parts {
                if let Some(staged) = without(part, &stage.join(PARTS), &matches, &mut gone)? {
                    *part = staged;
                }
            }
            parts
        }
    };
    if gone.documents == 0 {
        return Err(Error::Mismatch {
            path: out.to_path_buf(),
            message: "no document of these respondents in the folder; nothing changed".into(),
        });
    }
    let previous = super::previous_run(out);
    // A sharded folder keeps its record of the shards.
    let shards = previous.as_ref().and_then(|p| p.get("shards").cloned());
    let summary = super::rebuild(
        cfg,
        out,
        writer,
        &parts,
        "forget",
        started,
        progress,
        previous,
        |r| {
            r["forgotten"] = json!(gone);
            if let Some(s) = shards {
                r["shards"] = s;
            }
        },
    )?;
    Ok((summary, gone))
}

/// `part` without the matching respondents' rows, written under `staged_root` with the same
/// folder name; `None` when none of its documents match (the part stays as it is).
fn without(
    part: &Part,
    staged_root: &Path,
    matches: &dyn Fn(&str) -> bool,
    gone: &mut Forgotten,
) -> Result<Option<Part>, Error> {
    let chunks = part.chunk_count();
    // Two passes over the chunks, one chunk in memory at a time: find, then rewrite.
    let mut doc_ids: HashSet<String> = HashSet::new();
    let mut rows: HashSet<u64> = HashSet::new();
    for c in 0..chunks {
        let df = &parts::read_parquet(&part.chunk(Table::Documents, c))?;
        let rids = strs(df, "respondent_id")?;
        let ids = strs(df, "doc_id")?;
        let lines = u64s(df, "source_row")?;
        for ((rid, id), line) in rids.iter().zip(&ids).zip(&lines) {
            if rid.is_some_and(matches) {
                doc_ids.extend(id.map(str::to_string));
                rows.extend(*line);
            }
        }
    }
    if doc_ids.is_empty() {
        return Ok(None);
    }
    let dir = staged_root.join(part.dir.file_name().unwrap_or_default());
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        path: dir.clone(),
        source: e,
    })?;
    let mut info = part.info.clone();
    let mut segment_ids: HashSet<String> = HashSet::new();
    for c in 0..chunks {
        let df = parts::read_parquet(&part.chunk(Table::Documents, c))?;
        let keep = mask(&df, "doc_id", |id| !doc_ids.contains(id))?;
        info.documents -= keep.iter().filter(|k| k == &Some(false)).count();
        write(df, &keep, &parts::chunk_path(&dir, Table::Documents, c))?;
        let segs = parts::read_parquet(&part.chunk(Table::Segments, c))?;
        for (id, seg) in strs(&segs, "doc_id")?
            .iter()
            .zip(strs(&segs, "segment_id")?)
        {
            if id.is_some_and(|id| doc_ids.contains(id)) {
                segment_ids.extend(seg.map(str::to_string));
            }
        }
        let keep = mask(&segs, "doc_id", |id| !doc_ids.contains(id))?;
        write(segs, &keep, &parts::chunk_path(&dir, Table::Segments, c))?;
        if info.classified {
            let emb = parts::read_parquet(&part.chunk(Table::Embeddings, c))?;
            let keep = mask(&emb, "segment_id", |id| !segment_ids.contains(id))?;
            write(emb, &keep, &parts::chunk_path(&dir, Table::Embeddings, c))?;
        }
    }
    // Field-level rejects of their rows quote their values.
    let rejects = parts::read_parquet(&part.dir.join(parts::REJECTS))?;
    let lines = u64s(&rejects, "line")?;
    let keep: BooleanChunked = lines
        .iter()
        .map(|l| Some(!l.is_some_and(|l| rows.contains(&l))))
        .collect();
    let dropped = keep.iter().filter(|k| k == &Some(false)).count();
    write(rejects, &keep, &dir.join(parts::REJECTS))?;
    let segments = segment_ids.len();
    info.segments -= segments;
    info.rejects -= dropped;
    if let Some(input) = info.input.as_object_mut() {
        input.insert("documents".into(), json!(info.documents));
        input.insert("rejects".into(), json!(info.rejects));
    }
    parts::write_info(&dir, &info)?;
    gone.documents += doc_ids.len();
    gone.segments += segments;
    gone.rejects += dropped;
    Ok(Some(Part::local(dir, info)))
}

/// The parts of a sharded folder without the matching respondents: every shard that held one
/// of their rows is staged whole (its other parts and files hard-linked, `_shard.json` with
/// the new counts), so the commit replaces that shard folder at once.
fn sharded_without(
    sharded: &parts::shard::Sharded,
    staged_root: &Path,
    matches: &dyn Fn(&str) -> bool,
    gone: &mut Forgotten,
) -> Result<Vec<Part>, Error> {
    let mut dirs = sharded.dirs.clone();
    let mut infos = sharded.shards.clone();
    for (k, dir) in sharded.dirs.iter().enumerate() {
        let staged = staged_root.join(dir.file_name().unwrap_or_default());
        let mut mine = Forgotten::default();
        let mut untouched = Vec::new();
        for part in parts::list(std::slice::from_ref(dir))? {
            if without(&part, &staged, matches, &mut mine)?.is_none() {
                untouched.push(part.dir);
            }
        }
        if mine.documents == 0 {
            continue;
        }
        for from in untouched {
            link_files(&from, &staged.join(from.file_name().unwrap_or_default()))?;
        }
        link_files(dir, &staged)?;
        let info = &mut infos[k];
        info.documents -= mine.documents;
        info.segments -= mine.segments;
        info.rejects -= mine.rejects;
        let value = serde_json::to_value(&*info).map_err(|e| Error::output(&staged, e))?;
        crate::output::write_json(&value, &staged.join(parts::shard::INFO))?;
        dirs[k] = staged;
        gone.documents += mine.documents;
        gone.segments += mine.segments;
        gone.rejects += mine.rejects;
    }
    parts::shard::assemble(&infos, &dirs)
}

/// Hard-links the files of `from` (not its folders) into `to`, keeping any already there.
fn link_files(from: &Path, to: &Path) -> Result<(), Error> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| Error::Io { path: p, source: e }
    };
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let path = entry.map_err(io(from))?.path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_file() && !target.exists() {
            std::fs::hard_link(&path, &target)
                .or_else(|_| std::fs::copy(&path, &target).map(|_| ()))
                .map_err(io(&path))?;
        }
    }
    Ok(())
}

/// True for the rows of `df` whose `column` value passes `keep` (null values are kept).
fn mask(
    df: &DataFrame,
    column: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<BooleanChunked, Error> {
    Ok(strs(df, column)?
        .iter()
        .map(|v| Some(v.is_none_or(&keep)))
        .collect())
}

fn write(df: DataFrame, keep: &BooleanChunked, path: &Path) -> Result<(), Error> {
    let mut kept = df.filter(keep).map_err(|e| Error::output(path, e))?;
    write_parquet(&mut kept, path)
}
