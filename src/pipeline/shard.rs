//! One shard of a sharded run (`palaute run … --shard K/N`): the same stages as a run, over
//! the shard's blocks of every input (see [`crate::parts::shard`]), into
//! `OUT/parts/shard=K/`. No tables: `palaute merge OUT` builds them once every shard is done.
//!
//! What a label depends on beyond its own document is derived identically in every shard:
//! the heads are trained on the shipped examples (deterministic, cached by content hash), and
//! a zero-shot codebook's fit is computed from the same deterministic sample of all inputs
//! (each shard reads them all), so no `fit` step has to run before the array.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::json;

use super::{write_parts, Prepared, RunOptions, RunSummary, ZERO_SHOT};
use crate::config::Config;
use crate::error::Error;
use crate::parts::shard::{Shard, ShardInfo, ShardWriter};
use crate::parts::{self};

pub fn run(cfg: &Config, opts: &RunOptions, shard: Shard) -> Result<RunSummary, Error> {
    let started = Instant::now();
    cfg.validate()?;
    if opts.append {
        return Err(Error::Mismatch {
            path: opts.out.clone(),
            message: "--append and --shard do not go together: run every shard over all \
                      the inputs, then merge"
                .into(),
        });
    }
    let writer = ShardWriter::begin(&opts.out, shard)?;
    let dir = writer.dir().to_path_buf();
    let mut timings: BTreeMap<&'static str, f64> = BTreeMap::new();
    let prepared = Prepared::new(cfg, opts, &dir, &mut timings)?;
    let stages = prepared.stages(cfg, Some(shard));
    let t = Instant::now();
    write_parts(
        &stages,
        &prepared.files,
        &Default::default(),
        // A shard folder holds its parts directly, as the Hive layout wants.
        &dir,
        opts.progress,
    )?;
    timings.insert("chunks", t.elapsed().as_secs_f64());

    let mine = parts::list(std::slice::from_ref(&dir))?;
    let classification = prepared.classification_report();
    let info = ShardInfo {
        palaute_version: env!("CARGO_PKG_VERSION").into(),
        index: shard.index,
        count: shard.count,
        block_documents: cfg.run.chunk_documents.max(1),
        fingerprint: prepared.fingerprint.clone(),
        inputs: mine
            .iter()
            .map(|p| (p.info.source.clone(), p.info.sha256.clone()))
            .collect(),
        documents: mine.iter().map(|p| p.info.documents).sum(),
        segments: mine.iter().map(|p| p.info.segments).sum(),
        rejects: mine.iter().map(|p| p.info.rejects).sum(),
        classification,
        timings_s: timings
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        total_s: started.elapsed().as_secs_f64(),
        host: host(),
    };
    let published = writer.publish(&info)?;
    Ok(RunSummary {
        files: mine.len(),
        documents: info.documents,
        segments: info.segments,
        rejects: info.rejects,
        inputs: mine
            .iter()
            .filter_map(|p| serde_json::from_value(p.info.input.clone()).ok())
            .collect(),
        outputs: vec![published],
    })
}

/// The node a shard ran on: Slurm's name for it, else the host name.
fn host() -> Option<String> {
    std::env::var("SLURMD_NODENAME")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// `palaute merge` of a sharded folder: the tables from the shards' parts (joined in block
/// order by `collect`), run.json with every shard's counts, timings and node, report.html.
pub fn merge(
    cfg: &Config,
    out: &std::path::Path,
    writer: crate::output::folder::Writer,
    sharded: crate::parts::shard::Sharded,
    started: Instant,
    progress: crate::progress::Progress,
) -> Result<RunSummary, Error> {
    // Every shard fitted the same zero-shot state (it is in the parts' fingerprint, which
    // `collect` compared); the merged folder keeps one copy.
    let fit = sharded.dirs[0].join(ZERO_SHOT);
    if fit.exists() {
        let to = writer.staging().join(ZERO_SHOT);
        std::fs::copy(&fit, &to).map_err(|e| Error::Io {
            path: fit.clone(),
            source: e,
        })?;
    }
    let mut classification = sharded.shards[0].classification.clone();
    if let Some(c) = classification.as_object_mut() {
        // Encoder statistics and how the adaptation was obtained are per shard (below).
        c.remove("encoder");
        if let Some(a) = c.get_mut("adapted").and_then(|a| a.as_object_mut()) {
            a.remove("cached");
            a.remove("report");
        }
    }
    let shards: Vec<serde_json::Value> = sharded
        .shards
        .iter()
        .map(|s| {
            json!({
                "index": s.index,
                "host": s.host,
                "documents": s.documents,
                "segments": s.segments,
                "rejects": s.rejects,
                "timings_s": s.timings_s,
                "total_s": s.total_s,
                "encoder": s.classification.get("encoder"),
                // Which shard trained the adapted layers and which read them from the cache.
                "adapted": s.classification.get("adapted"),
            })
        })
        .collect();
    // f32 matrix products follow the CPU (see model::kernel_report): shards whose products ran
    // on different paths may differ from one run in the last bits of an embedding, so say so.
    // int8 ones are exact integer sums, the same bits on every CPU. (`gemm`: records written
    // before `f32` named the path.)
    let mut paths: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for s in &sharded.shards {
        let models = s.classification["models"].as_array();
        if models.is_some_and(|m| !m.is_empty() && m.iter().all(|m| m["precision"] == "int8")) {
            continue;
        }
        let kernels = &s.classification["encoder"]["kernels"];
        if let Some(g) = kernels["f32"].as_str().or(kernels["gemm"].as_str()) {
            paths.entry(g.to_string()).or_default().push(s.index);
        }
    }
    let mixed_cpus = (paths.len() > 1).then(|| {
        let list: Vec<String> = paths.iter().map(|(g, ks)| format!("{g}: {ks:?}")).collect();
        let msg = format!(
            "shards ran on different CPU types ({}); embeddings can differ in their last bits \
             between them, so a borderline label may differ from a single run",
            list.join(", ")
        );
        tracing::warn!("{msg}");
        msg
    });
    let previous = Some(json!({ "classification": classification }));
    super::rebuild(
        cfg,
        out,
        writer,
        &sharded.parts,
        "merge",
        started,
        progress,
        previous,
        |r| {
            r["shards"] = json!({"count": shards.len(), "shards": shards});
            if let Some(m) = mixed_cpus {
                r["shards"]["warning"] = json!(m);
            }
        },
    )
}
