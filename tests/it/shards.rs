//! A run split into shards (`--shard K/N`) and joined by `palaute merge` gives the tables of
//! one run over the same inputs, byte for byte, whatever N and the block size; the merge
//! refuses, naming them, missing and stale shards; a shard killed before it published leaves
//! nothing behind, and rerunning that one task is enough.

use std::path::{Path, PathBuf};
use std::process::Command;

use palaute::parts::shard::Shard;
use palaute::progress::Progress;
use palaute::{Config, RunOptions};

use super::chunks::{assert_same_tables, tiny_model};
use super::{ingest_only, options, repo, run_with};

fn shard_run(
    cfg: &Config,
    inputs: &[PathBuf],
    out: &Path,
    model: Option<&Path>,
    k: usize,
    n: usize,
) {
    let opts = RunOptions {
        shard: Some(Shard { index: k, count: n }),
        ..options(inputs, out, model, false)
    };
    palaute::run(cfg, &opts).unwrap_or_else(|e| panic!("shard {k}/{n} failed: {e}"));
}

fn merge(cfg: &Config, out: &Path) -> Result<palaute::RunSummary, palaute::Error> {
    palaute::pipeline::merge(cfg, out, Progress::hidden())
}

/// Runs `inputs` once, and as `n` shards in blocks of `block` documents merged; asserts the
/// tables are the same. Returns the sharded folder.
fn sharded_equals_single(
    cfg: &Config,
    inputs: &[PathBuf],
    tmp: &Path,
    model: Option<&Path>,
    n: usize,
    block: usize,
) -> PathBuf {
    let single = tmp.join(format!("single-{n}-{block}"));
    run_with(cfg, inputs, &single, model, false);
    let sharded = tmp.join(format!("sharded-{n}-{block}"));
    let mut small = cfg.clone();
    small.run.chunk_documents = block;
    for k in 1..=n {
        shard_run(&small, inputs, &sharded, model, k, n);
    }
    merge(cfg, &sharded).unwrap();
    assert_same_tables(&single, &sharded);
    sharded
}

#[test]
fn shards_merge_to_the_tables_of_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_model(tmp.path());
    let inputs = [repo().join("data"), repo().join("tests/fixtures")];
    let mut cfg = Config::default();
    cfg.classify.require_model = true;
    // The sample data and every fixture: one export split over all shards.
    let out = sharded_equals_single(&cfg, &inputs, tmp.path(), Some(&model), 3, 7);
    for k in 1..=3 {
        let info: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.join(format!("parts/shard={k}/_shard.json"))).unwrap(),
        )
        .unwrap();
        assert!(info["documents"].as_u64().unwrap() > 0, "shard {k}: {info}");
    }
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["shards"]["count"], 3);
    assert_eq!(run["command"], "merge");
    assert!(run["shards"]["warning"].is_null(), "one CPU type here");
    // A shard from another CPU type (as a mixed cluster would give): the merge says so.
    let record = out.join("parts/shard=2/_shard.json");
    let mut info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    let f32_path = &mut info["classification"]["encoder"]["kernels"]["f32"];
    assert!(f32_path.is_string(), "{info}");
    *f32_path = serde_json::json!("other-cpu");
    std::fs::write(&record, serde_json::to_vec(&info).unwrap()).unwrap();
    merge(&cfg, &out).unwrap();
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    let warning = run["shards"]["warning"].as_str().unwrap_or_default();
    assert!(warning.contains("other-cpu: [2]"), "{run}");
    // int8 products are exact: shards running int8 agree whatever their CPU.
    for k in 1..=3 {
        let record = out.join(format!("parts/shard={k}/_shard.json"));
        let mut info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
        let models = info["classification"]["models"].as_array_mut().unwrap();
        assert!(!models.is_empty(), "{info}");
        models
            .iter_mut()
            .for_each(|m| m["precision"] = serde_json::json!("int8"));
        std::fs::write(&record, serde_json::to_vec(&info).unwrap()).unwrap();
    }
    merge(&cfg, &out).unwrap();
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert!(run["shards"]["warning"].is_null(), "{run}");
    // A names-only codebook: each shard fits the same zero-shot state from all inputs.
    let mut zs = cfg.clone();
    zs.classify.codebook = repo()
        .join("tests/fixtures/codebooks/names_only.toml")
        .display()
        .to_string();
    let data = [
        repo().join("data/fi_nps_qualtrics.csv"),
        repo().join("data/en_nps_surveymonkey.csv"),
    ];
    let out = sharded_equals_single(&zs, &data, tmp.path(), Some(&model), 2, 11);
    assert!(out.join("zero_shot.json").exists());
}

#[test]
fn the_union_of_the_shards_reads_as_a_hive_partitioned_dataset() {
    use polars::prelude::*;
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ingest_only();
    let out = sharded_equals_single(&cfg, &[repo().join("data")], tmp.path(), None, 4, 20);
    let glob = out.join("parts/shard=*/*/segments-*.parquet");
    let df = LazyFrame::scan_parquet(
        PlRefPath::try_from_path(&glob).unwrap(),
        ScanArgsParquet {
            hive_options: HiveOptions::new_enabled(),
            ..Default::default()
        },
    )
    .unwrap()
    .group_by([col("shard")])
    .agg([len().alias("n")])
    .sort(["shard"], Default::default())
    .collect()
    .unwrap();
    let n: u32 = df
        .column("n")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .flatten()
        .sum();
    let segments = super::read(&out, "segments").height() as u32;
    assert_eq!((df.height(), n), (4, segments), "{df}");
}

fn bin_shard(
    inputs: &Path,
    out: &Path,
    spec: &str,
    config: &Path,
    fault: bool,
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palaute"));
    cmd.args(["run", "-q", "--no-classify", "-c"])
        .arg(config)
        .arg(inputs)
        .arg("--out")
        .arg(out)
        .args(["--shard", spec]);
    if fault {
        cmd.env("PALAUTE_FAULT_SHARD", "publish");
    }
    cmd.output().unwrap()
}

#[test]
fn missing_stale_and_crashed_shards_are_named_and_a_rerun_mends_them() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ingest_only();
    let data = repo().join("data");
    let single = tmp.path().join("single");
    run_with(&cfg, std::slice::from_ref(&data), &single, None, false);
    let config = tmp.path().join("palaute.toml");
    std::fs::write(
        &config,
        "[classify]\nenabled = false\n[run]\nchunk_documents = 25\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    for spec in ["1/3", "3/3"] {
        assert!(bin_shard(&data, &out, spec, &config, false)
            .status
            .success());
    }
    // Shard 2 is killed after writing its parts, before publishing them.
    let killed = bin_shard(&data, &out, "2/3", &config, true);
    assert!(!killed.status.success());
    assert!(!out.join("parts/shard=2").exists(), "no partial shard");
    let err = merge(&cfg, &out)
        .expect_err("a shard is missing")
        .to_string();
    assert!(err.contains("missing shards 2 of 3"), "{err}");
    assert!(!out.join("documents.parquet").exists());
    // A task of another array (4 shards) is stale beside the 3-shard run.
    assert!(bin_shard(&data, &out, "2/4", &config, false)
        .status
        .success());
    let err = merge(&cfg, &out).expect_err("shard 2 is stale").to_string();
    assert!(err.contains("stale shard 2 (of 4 shards, not 3)"), "{err}");
    // Rerunning the one task replaces its parts (and the dead run's leftovers).
    assert!(bin_shard(&data, &out, "2/3", &config, false)
        .status
        .success());
    merge(&cfg, &out).unwrap();
    assert_same_tables(&single, &out);
    let hidden: Vec<String> = std::fs::read_dir(out.join("parts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".shard=2-"))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
    // A shard and an ordinary run's parts do not mix; --append is refused on shards.
    let err = palaute::run(
        &cfg,
        &options(std::slice::from_ref(&data), &out, None, true),
    )
    .map(|_| ())
    .expect_err("append to a sharded folder");
    assert!(err.to_string().contains("sharded run"), "{err}");
}

#[test]
fn forget_removes_a_respondent_from_every_shard_as_from_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ingest_only();
    let data = [repo().join("data")];
    let sharded = sharded_equals_single(&cfg, &data, tmp.path(), None, 3, 9);
    let single = tmp.path().join("single-3-9");
    // Respondents spread over the files, hence over the shards.
    let docs = super::read(&single, "documents");
    let ids: Vec<String> = super::strings(&docs, "respondent_id")
        .into_iter()
        .flatten()
        .step_by(40)
        .take(6)
        .collect();
    assert!(ids.len() >= 4, "{ids:?}");
    let (a, _) = palaute::pipeline::forget(&cfg, &single, &ids, Progress::hidden()).unwrap();
    let (b, gone) = palaute::pipeline::forget(&cfg, &sharded, &ids, Progress::hidden()).unwrap();
    assert!(gone.documents >= ids.len(), "{gone:?}");
    assert_eq!((a.documents, a.segments), (b.documents, b.segments));
    assert_same_tables(&single, &sharded);
    // The shards still merge (counts and blocks agree), to the same tables.
    merge(&cfg, &sharded).unwrap();
    assert_same_tables(&single, &sharded);
}
