//! Integration tests: fixture files shaped like real exports, the bundled sample data, and
//! the command-line binary. One test binary keeps link time down.

mod chunks;
mod cli;
mod crash;
mod deploy;
mod evidence;
mod fixtures;
mod fuzz;
mod hostile;
mod privacy;
mod recoding;
mod sample;
mod shards;

use std::path::{Path, PathBuf};

use palaute::progress::Progress;
use palaute::{Config, RunOptions};
use polars::prelude::*;

/// The binary, never downloading a model: these tests must not depend on (or use) the network.
pub fn palaute() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_palaute"));
    c.env("HF_HUB_OFFLINE", "1");
    c
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn run_into(inputs: &[PathBuf], out: &Path, cfg: &Config) -> palaute::RunSummary {
    run_with(cfg, inputs, out, None, false)
}

/// A run with an encoder directory and `--append` as given; panics on failure.
pub fn run_with(
    cfg: &Config,
    inputs: &[PathBuf],
    out: &Path,
    model: Option<&Path>,
    append: bool,
) -> palaute::RunSummary {
    palaute::run(cfg, &options(inputs, out, model, append))
        .unwrap_or_else(|e| panic!("run failed: {e}"))
}

/// A quiet run's options (no embeddings table, not sharded).
pub fn options(inputs: &[PathBuf], out: &Path, model: Option<&Path>, append: bool) -> RunOptions {
    RunOptions {
        inputs: inputs.to_vec(),
        out: out.to_path_buf(),
        progress: Progress::hidden(),
        model_dir: model.map(Path::to_path_buf),
        write_embeddings: false,
        append,
        shard: None,
    }
}

/// Ingest-only configuration: these tests are about reading, not models.
pub fn ingest_only() -> Config {
    let mut cfg = Config::default();
    cfg.classify.enabled = false;
    cfg
}

pub fn read(out: &Path, table: &str) -> DataFrame {
    let f = std::fs::File::open(out.join(format!("{table}.parquet"))).unwrap();
    ParquetReader::new(f).finish().unwrap()
}

pub fn strings(df: &DataFrame, col: &str) -> Vec<Option<String>> {
    df.column(col)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

/// Every data row of every input is in documents (by source row) or in rejects (by line),
/// and whole-file rejects account for files that yielded nothing.
pub fn assert_rows_accounted(summary: &palaute::RunSummary, out: &Path) {
    let docs = read(out, "documents");
    let rej = read(out, "rejects");
    let doc_src = strings(&docs, "source_file");
    let doc_row = strings(&docs, "source_row");
    let doc_kind = strings(&docs, "kind");
    let rej_src = strings(&rej, "source_file");
    let rej_line = strings(&rej, "line");
    let rej_level = strings(&rej, "level");
    for input in &summary.inputs {
        let mut rows: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut interviews = 0;
        for i in 0..docs.height() {
            if doc_src[i].as_deref() == Some(input.path.as_str()) {
                if doc_kind[i].as_deref() == Some("interview") {
                    interviews += 1;
                } else {
                    rows.insert(doc_row[i].clone().unwrap());
                }
            }
        }
        let mut whole_file = 0;
        let mut rejected = std::collections::HashSet::new();
        for i in 0..rej.height() {
            if rej_src[i].as_deref() == Some(input.path.as_str()) {
                match (&rej_line[i], rej_level[i].as_deref()) {
                    // A dropped value: its row must be among the documents.
                    (Some(l), Some("field")) => assert!(
                        rows.contains(l)
                            || doc_kind.iter().any(|k| k.as_deref() == Some("interview")),
                        "{}: field reject on line {l} but the row is not in documents",
                        input.path
                    ),
                    (Some(l), _) => {
                        rejected.insert(l.clone());
                    }
                    (None, _) => whole_file += 1,
                }
            }
        }
        if whole_file > 0 {
            assert!(
                rows.is_empty() && interviews == 0,
                "{}: rejected whole but has documents",
                input.path
            );
            continue;
        }
        if interviews > 0 {
            // Transcript: every cue is in the document or a reject.
            assert_eq!(interviews, 1, "{}", input.path);
            continue;
        }
        assert!(
            rows.is_disjoint(&rejected),
            "{}: a row is both used and rejected",
            input.path
        );
        assert_eq!(
            rows.len() + rejected.len(),
            input.rows,
            "{}: rows not accounted for",
            input.path
        );
    }
}
