//! The run: discover inputs, then each input file through the per-chunk stages (ingest →
//! segment → language → embed → classify, see [`chunk`]) into the part store, then the merge
//! that builds the final tables, run.json and report.html from the parts. Stages are
//! composed here from the configuration; each stage works on plain records.

mod chunk;
mod forget;
mod prepare;
mod read;
mod shard;

pub use forget::{forget, Forgotten};
use prepare::Prepared;
pub use prepare::ZERO_SHOT;
mod sample;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use serde_json::{json, Value};

use crate::config::Config;
use crate::error::Error;
use crate::ingest::{self, FileDetail};
use crate::output::{self, folder::Commit, folder::Writer};
use crate::parts::{self, PARTS};
use crate::progress::Progress;

/// What to run on and where the tables go.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub progress: Progress,
    /// Encoder directory given on the command line (wins over the configuration).
    pub model_dir: Option<PathBuf>,
    /// Also write `embeddings.parquet` (segment_id, embedding).
    pub write_embeddings: bool,
    /// Add the inputs to the folder's earlier ones (`--append`) instead of replacing them.
    pub append: bool,
    /// Process one shard's share of the inputs into `OUT/parts/shard=K` (no tables: `merge`
    /// builds them once every shard is done).
    pub shard: Option<crate::parts::shard::Shard>,
}

/// Per-input facts for run.json.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub format: &'static str,
    #[serde(flatten)]
    pub detail: FileDetail,
    pub rows: usize,
    pub documents: usize,
    pub rejects: usize,
    /// Personal data replaced, by kind (`EMAIL`, `PHONE`, …; `SPEAKER` = speaker labels
    /// pseudonymised). Counts only, never the values.
    pub redactions: crate::redact::Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub files: usize,
    pub documents: usize,
    pub segments: usize,
    pub rejects: usize,
    pub inputs: Vec<InputSummary>,
    pub outputs: Vec<PathBuf>,
}

/// An input's counts as run.json records them.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct InputSummary {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub rows: usize,
    pub documents: usize,
    pub rejects: usize,
}

/// Files under the inputs, sorted so runs are reproducible. Hidden files and the config's
/// skip names are left out when walking folders; files named explicitly are always read.
pub fn discover(inputs: &[PathBuf], cfg: &Config) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_file() {
            files.push(input.clone());
        } else if input.is_dir() {
            let mut found = Vec::new();
            walk(input, cfg, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            return Err(Error::MissingInput(input.clone()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    Ok(files)
}

fn skipped(name: &str, cfg: &Config) -> bool {
    name.starts_with('.')
        || cfg.ingest.skip.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == p,
        })
}

fn walk(dir: &Path, cfg: &Config, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io = |e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if skipped(&name, cfg) {
            continue;
        }
        if path.is_dir() {
            walk(&path, cfg, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The folder's parts from earlier runs, checked against this run's settings.
fn earlier_parts(
    out: &Path,
    fingerprint: &str,
    settings: &Value,
) -> Result<Vec<parts::Part>, Error> {
    let earlier = parts::list(&[out.join(PARTS)])?;
    if let Some(p) = earlier.iter().find(|p| p.info.fingerprint != fingerprint) {
        return Err(Error::Mismatch {
            path: out.to_path_buf(),
            message: format!(
                "--append needs the settings of the earlier run ({} was read with other {}); \
                 run without --append to redo every input",
                p.info.source,
                crate::merge::differing(&p.info.settings, settings).join(", ")
            ),
        });
    }
    Ok(earlier)
}

/// Run the pipeline: every input into the part store, then the merge; commit the folder.
pub fn run(cfg: &Config, opts: &RunOptions) -> Result<RunSummary, Error> {
    if let Some(s) = opts.shard {
        return shard::run(cfg, opts, s);
    }
    let started = Instant::now();
    let mut timings: BTreeMap<&str, f64> = BTreeMap::new();
    // Fail on configuration problems before any work.
    cfg.validate()?;
    // Locks the folder (one run at a time), finishes or clears what a killed run left; the
    // outputs go to a staging folder and become visible together at the commit.
    let writer = Writer::begin(&opts.out)?;
    let stage = writer.staging().to_path_buf();
    let prepared = Prepared::new(cfg, opts, &stage, &mut timings)?;
    let earlier = if opts.append {
        earlier_parts(&opts.out, &prepared.fingerprint, &prepared.settings)?
    } else {
        Vec::new()
    };
    let known: std::collections::HashSet<(&str, &str)> = earlier
        .iter()
        .map(|p| (p.info.source.as_str(), p.info.sha256.as_str()))
        .collect();
    let staged_parts = stage.join(PARTS);
    let stages = prepared.stages(cfg, None);

    let t = Instant::now();
    let skipped = write_parts(
        &stages,
        &prepared.files,
        &known,
        &staged_parts,
        opts.progress,
    )?;
    timings.insert("chunks", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let mut roots = vec![staged_parts.clone()];
    if opts.append {
        roots.push(opts.out.join(PARTS));
    }
    let all = parts::list(&roots)?;
    let merged = crate::merge::merge(&all, &stage, cfg, opts.write_embeddings, opts.progress)?;
    timings.insert("merge", t.elapsed().as_secs_f64());
    let mut classification = prepared.classification_report();
    if prepared.classifier.is_some() {
        merge_json(&mut classification, merged.evidence.clone());
    }
    let report = run_json(
        "run",
        cfg,
        &merged,
        classification,
        &timings,
        started,
        skipped,
    );
    let extra: &[&str] = if prepared.zero_shot.is_some() {
        &[ZERO_SHOT]
    } else {
        &[]
    };
    let mode = if opts.append {
        Commit::Append
    } else {
        Commit::Replace
    };
    finish(writer, &opts.out, cfg, merged, &report, extra, mode)
}

/// Every input not already in the folder (`known`: source name and sha256) into a part under
/// `staged`, behind one progress bar over the input bytes. Returns how many were skipped.
fn write_parts(
    stages: &chunk::Stages,
    files: &[PathBuf],
    known: &std::collections::HashSet<(&str, &str)>,
    staged: &Path,
    progress: Progress,
) -> Result<usize, Error> {
    let t = Instant::now();
    let total: u64 = files
        .iter()
        .map(|f| f.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    let bar = progress.run_bar(total);
    let (mut read, mut documents, mut skipped) = (0u64, 0usize, 0usize);
    for f in files {
        let source = ingest::source_name(f);
        let bytes = f.metadata().map(|m| m.len()).unwrap_or(0);
        if !known.is_empty() {
            if let Ok(sha) = crate::util::sha256_file(f) {
                if known.contains(&(source.as_str(), sha.as_str())) {
                    tracing::info!("{source}: already in the folder (same sha256); skipped");
                    skipped += 1;
                    read += bytes;
                    bar.set_position(read);
                    continue;
                }
            }
        }
        let mut done_docs = 0u64;
        chunk::write_part(stages, f, &source, staged, |n| {
            done_docs += n as u64;
            documents += n;
            // Documents per byte are not known ahead: the bar moves by chunks within a
            // file, at most to the file's end.
            bar.set_position(read + bytes.min(done_docs * 64));
            let rate = documents as f64 / t.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{documents} docs {rate:.0}/s"));
        })?;
        read += bytes;
        bar.set_position(read);
    }
    bar.finish_and_clear();
    Ok(skipped)
}

/// Adds `extra`'s fields to `into` (both objects).
fn merge_json(into: &mut Value, extra: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), extra) {
        a.extend(b);
    }
}

fn run_json(
    command: &str,
    cfg: &Config,
    merged: &crate::merge::Merged,
    classification: Value,
    timings: &BTreeMap<&str, f64>,
    started: Instant,
    skipped: usize,
) -> Value {
    json!({
        "palaute_version": env!("CARGO_PKG_VERSION"),
        "command": command,
        "inputs": merged.inputs,
        "config": cfg,
        "classification": classification,
        "counts": {
            "files": merged.inputs.len(),
            "skipped_files": skipped,
            "rows": merged.rows,
            "documents": merged.documents,
            "segments": merged.segments,
            "rejects": merged.rejects,
            "segments_by_lang": merged.segments_by_lang,
        },
        "timings_s": timings,
        "total_s": started.elapsed().as_secs_f64(),
    })
}

/// Writes run.json and report.html beside the merged tables and commits the folder.
fn finish(
    writer: Writer,
    out: &Path,
    cfg: &Config,
    merged: crate::merge::Merged,
    report: &Value,
    extra: &[&str],
    mode: Commit,
) -> Result<RunSummary, Error> {
    let stage = writer.staging().to_path_buf();
    output::write_json(report, &stage.join("run.json"))?;
    let mut names = merged.files.clone();
    names.extend(extra.iter().map(|n| n.to_string()));
    names.push("run.json".into());
    // The report is a view of the tables just written: failing to render it is worth a
    // warning, not a failed run whose tables are complete.
    match crate::report::write_page(&stage, cfg.report.lang, &stage.join("report.html")) {
        Ok(()) => names.push("report.html".into()),
        Err(e) => tracing::warn!("report.html not written: {e}"),
    }
    writer.commit(mode)?;
    names.push(output::folder::MANIFEST.into());
    let inputs = merged
        .inputs
        .iter()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect();
    Ok(RunSummary {
        files: merged.inputs.len(),
        documents: merged.documents,
        segments: merged.segments,
        rejects: merged.rejects,
        inputs,
        outputs: names.iter().map(|n| out.join(n)).collect(),
    })
}

/// `palaute merge`: rebuilds the tables, run.json and report.html of `out` from its parts
/// (with the current `[discover]`, `[analyze]` and `[report]` settings) — or, in the folder of
/// a sharded run, from its shards, once all of them are there.
pub fn merge(cfg: &Config, out: &Path, progress: Progress) -> Result<RunSummary, Error> {
    let started = Instant::now();
    cfg.validate()?;
    let writer = Writer::begin(out)?;
    if let Some(sharded) = parts::shard::collect(&out.join(PARTS))? {
        return shard::merge(cfg, out, writer, sharded, started, progress);
    }
    let all = parts::list(&[out.join(PARTS)])?;
    if all.is_empty() {
        return Err(Error::Mismatch {
            path: out.to_path_buf(),
            message: "no parts to merge (not an output folder of palaute run)".into(),
        });
    }
    let previous = previous_run(out);
    rebuild(
        cfg,
        out,
        writer,
        &all,
        "merge",
        started,
        progress,
        previous,
        |_| {},
    )
}

/// The folder's run.json, when it has a readable one.
fn previous_run(out: &Path) -> Option<Value> {
    std::fs::read_to_string(out.join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
}

/// Builds every table, run.json (written by `command`, its `classification` entry taken from
/// `previous` — the folder's run.json or a shard's record —, then amended by `amend`) and
/// report.html of `out` from `parts`, and commits them with the parts staged by `writer`.
/// What `merge` and `forget` share.
#[allow(clippy::too_many_arguments)]
fn rebuild(
    cfg: &Config,
    out: &Path,
    writer: Writer,
    parts: &[parts::Part],
    command: &str,
    started: Instant,
    progress: Progress,
    previous: Option<Value>,
    amend: impl FnOnce(&mut Value),
) -> Result<RunSummary, Error> {
    let stage = writer.staging().to_path_buf();
    let write_embeddings = out.join("embeddings.parquet").exists();
    let t = Instant::now();
    let merged = crate::merge::merge(parts, &stage, cfg, write_embeddings, progress)?;
    let mut timings = BTreeMap::new();
    timings.insert("merge", t.elapsed().as_secs_f64());
    let mut classification = previous
        .as_ref()
        .and_then(|p| p.get("classification").cloned())
        .unwrap_or(Value::Null);
    if merged.classified {
        merge_json(&mut classification, merged.evidence.clone());
    }
    let mut report = run_json(command, cfg, &merged, classification, &timings, started, 0);
    amend(&mut report);
    // The zero-shot fit the parts were labelled with stays with them.
    let extra: &[&str] = if stage.join(ZERO_SHOT).exists() {
        &[ZERO_SHOT]
    } else if out.join(ZERO_SHOT).exists() {
        std::fs::copy(out.join(ZERO_SHOT), stage.join(ZERO_SHOT)).map_err(|e| Error::Io {
            path: out.join(ZERO_SHOT),
            source: e,
        })?;
        &[ZERO_SHOT]
    } else {
        &[]
    };
    finish(writer, out, cfg, merged, &report, extra, Commit::Append)
}
