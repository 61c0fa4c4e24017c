//! A run is a stream of chunks merged at the end: the tables do not depend on the chunk size,
//! `palaute merge` rebuilds them from the parts, and `--append` adds a new export to an
//! output folder as if both had been read in one run. Exercised without the real model (the
//! ingest half, and the whole evidence path on the tiny random-weight encoder).

use std::path::{Path, PathBuf};

use palaute::model::tiny::{write_tiny_model, TinyArch, TinySpec};
use palaute::progress::Progress;
use palaute::{Config, RunOptions};

use super::{ingest_only, read, repo, strings};

fn run(cfg: &Config, inputs: &[PathBuf], out: &Path, model: Option<&Path>, append: bool) {
    super::run_with(cfg, inputs, out, model, append);
}

/// The Parquet tables of an output folder, by name, as bytes.
fn tables(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut t: Vec<(String, Vec<u8>)> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    t.sort();
    t
}

pub fn assert_same_tables(a: &Path, b: &Path) {
    let (ta, tb) = (tables(a), tables(b));
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ta), names(&tb));
    for ((name, x), (_, y)) in ta.iter().zip(&tb) {
        assert!(
            x == y,
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

pub fn tiny_model(dir: &Path) -> PathBuf {
    let m = dir.join("tiny-model");
    write_tiny_model(&m, &TinySpec::new(TinyArch::XlmRoberta)).unwrap();
    m
}

/// Runs `inputs` in one chunk and in chunks of `n` documents, asserts the tables are the
/// same, and returns both folders.
fn in_chunks_and_whole(
    cfg: &Config,
    inputs: &[PathBuf],
    tmp: &Path,
    model: &Path,
    n: usize,
) -> (PathBuf, PathBuf) {
    let (one, small) = (tmp.join("one"), tmp.join("small"));
    run(
        &with_chunks(cfg.clone(), 100_000),
        inputs,
        &one,
        Some(model),
        false,
    );
    run(
        &with_chunks(cfg.clone(), n),
        inputs,
        &small,
        Some(model),
        false,
    );
    assert_same_tables(&one, &small);
    (one, small)
}

fn with_chunks(mut cfg: Config, n: usize) -> Config {
    cfg.run.chunk_documents = n;
    cfg
}

#[test]
fn chunk_size_does_not_change_the_tables_of_the_sample_data_and_fixtures() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = [repo().join("data"), repo().join("tests/fixtures")];
    let (one, small) = (tmp.path().join("one"), tmp.path().join("small"));
    run(
        &with_chunks(ingest_only(), 100_000),
        &inputs,
        &one,
        None,
        false,
    );
    run(&with_chunks(ingest_only(), 3), &inputs, &small, None, false);
    assert!(read(&one, "documents").height() > 300);
    assert_same_tables(&one, &small);
}

/// The default run on every machine: tiny encoder → heads trained from the shipped examples
/// (once per machine: they are cached under the tiny model's hash) → classify → discover →
/// analyze → output → report. One test, so the heads are not trained twice at once.
#[test]
fn the_evidence_path_on_the_tiny_model() {
    chunks_do_not_change_the_evidence_tables();
    appending_february_to_january_gives_the_tables_of_one_run_over_both();
    zero_shot_labels_are_fitted_once_and_do_not_depend_on_the_chunks();
}

/// A names-only codebook is labelled zero-shot: centring and prototypes fitted once on the
/// run's sample (saved as zero_shot.json), the same for chunks of 3 documents and one chunk,
/// and reused by an --append.
fn zero_shot_labels_are_fitted_once_and_do_not_depend_on_the_chunks() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_model(tmp.path());
    let mut cfg = Config::default();
    cfg.classify.codebook = repo()
        .join("tests/fixtures/codebooks/names_only.toml")
        .display()
        .to_string();
    let data = |f: &str| repo().join("data").join(f);
    let inputs = [
        data("fi_nps_qualtrics.csv"),
        data("en_nps_surveymonkey.csv"),
    ];
    let (one, small) = in_chunks_and_whole(&cfg, &inputs, tmp.path(), &model, 3);
    let fit = std::fs::read(one.join("zero_shot.json")).unwrap();
    assert_eq!(fit, std::fs::read(small.join("zero_shot.json")).unwrap());
    let runjson: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        runjson["classification"]["zero_shot"],
        serde_json::json!(["themes"])
    );
    assert!(runjson["classification"]["zero_shot_fit"]["sha256"].is_string());
    // The encoder was adapted (with the built-in codebook's examples, the names-only one
    // having none), and run.json says with what.
    let adapted = &runjson["classification"]["adapted"];
    assert_eq!(adapted["layers"], 2, "{adapted}");
    assert!(adapted["examples"].as_u64().unwrap() > 1000, "{adapted}");
    assert_eq!(
        runjson["classification"]["models"][0]["adapted"],
        adapted["key"]
    );
    // Stages of the (built-in B2C) journey pool with their context as fitted on the shipped
    // documents labelled sentence by sentence; run.json says with what.
    let pooled = &runjson["classification"]["stage_context"];
    assert_eq!(pooled["method"], "learned", "{pooled}");
    assert_eq!(pooled["fit"]["bias"].as_array().map(Vec::len), Some(9));
    assert!(
        pooled["fit"]["sentences"].as_u64().unwrap() >= 800,
        "{pooled}"
    );

    // Appending keeps the fit the earlier parts were labelled with.
    let appended = tmp.path().join("appended");
    run(&cfg, &inputs[..1], &appended, Some(&model), false);
    let first = std::fs::read(appended.join("zero_shot.json")).unwrap();
    run(&cfg, &inputs[1..], &appended, Some(&model), true);
    assert_eq!(
        std::fs::read(appended.join("zero_shot.json")).unwrap(),
        first
    );
    // `palaute merge` keeps it too.
    palaute::pipeline::merge(&cfg, &appended, Progress::hidden()).unwrap();
    assert_eq!(
        std::fs::read(appended.join("zero_shot.json")).unwrap(),
        first
    );
}

/// In chunks of 5 documents and in one, on the sample data and the fixtures; then rebuilt by
/// `palaute merge`.
fn chunks_do_not_change_the_evidence_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_model(tmp.path());
    // The sample data (surveys and interviews in fi/sv/en) and every fixture export.
    let inputs = [repo().join("data"), repo().join("tests/fixtures")];
    let mut cfg = Config::default();
    cfg.classify.require_model = true;
    let (one, small) = in_chunks_and_whole(&cfg, &inputs, tmp.path(), &model, 5);

    // Every evidence table is there, and every quote is a segment of the segments table.
    for t in ["themes", "theme_stage", "drivers", "quotes", "trends"] {
        assert!(one.join(format!("{t}.parquet")).exists(), "{t}");
    }
    let segments = read(&one, "segments");
    assert!(strings(&segments, "sentiment").iter().all(|s| s.is_some()));
    let ids: std::collections::HashSet<Option<String>> =
        strings(&segments, "segment_id").into_iter().collect();
    let quotes = read(&one, "quotes");
    assert!(quotes.height() > 0);
    for q in strings(&quotes, "segment_id") {
        assert!(ids.contains(&q), "quote {q:?} is not a segment");
    }
    assert!(one.join("report.html").exists());
    // Whether a segment was one sentence of a longer answer (what a recoding file carries back
    // to `palaute train`): said for every customer segment, both ways in this data, never for
    // the interviewer's (they answer nothing).
    let longer = segments.column("in_longer_answer").unwrap().bool().unwrap();
    let roles = strings(&segments, "role");
    let mut seen = std::collections::BTreeSet::new();
    for (i, role) in roles.iter().enumerate() {
        let interviewer = role.as_deref() == Some("interviewer");
        assert_eq!(longer.get(i).is_none(), interviewer, "row {i}: {role:?}");
        seen.insert((interviewer, longer.get(i)));
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [(false, Some(false)), (false, Some(true)), (true, None)]
    );

    // `palaute merge` rebuilds the same tables from the parts.
    palaute::pipeline::merge(&cfg, &small, Progress::hidden()).unwrap();
    assert_same_tables(&one, &small);
}

/// Splits a survey export into two months' files with the same header.
fn split_export(dir: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(repo().join("data/en_nps_surveymonkey.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // SurveyMonkey: two header rows.
    let (head, rows) = lines.split_at(2);
    let half = rows.len() / 2;
    let write = |name: &str, part: &[&str]| {
        let p = dir.join(name);
        let body: Vec<&str> = head.iter().chain(part).copied().collect();
        std::fs::write(&p, body.join("\n") + "\n").unwrap();
        p
    };
    (
        write("2026-01.csv", &rows[..half]),
        write("2026-02.csv", &rows[half..]),
    )
}

fn appending_february_to_january_gives_the_tables_of_one_run_over_both() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_model(tmp.path());
    let inputs = tmp.path().join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let (jan, feb) = split_export(&inputs);
    let cfg = Config::default();
    let (both, appended) = (tmp.path().join("both"), tmp.path().join("appended"));
    run(
        &cfg,
        &[jan.clone(), feb.clone()],
        &both,
        Some(&model),
        false,
    );
    run(
        &cfg,
        std::slice::from_ref(&jan),
        &appended,
        Some(&model),
        false,
    );
    run(
        &cfg,
        std::slice::from_ref(&feb),
        &appended,
        Some(&model),
        true,
    );
    assert_same_tables(&both, &appended);
    // Appending an input already there changes nothing (skipped by sha256).
    run(
        &cfg,
        std::slice::from_ref(&jan),
        &appended,
        Some(&model),
        true,
    );
    assert_same_tables(&both, &appended);
    let runjson: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(appended.join("run.json")).unwrap()).unwrap();
    assert_eq!(runjson["counts"]["skipped_files"], 1);
    assert_eq!(runjson["counts"]["files"], 2);

    // Other settings: refused, naming what differs; the folder is left as it was.
    let mut other = cfg.clone();
    other.segment.max_chars = 99;
    let append_feb = |cfg: &Config| {
        palaute::run(
            cfg,
            &RunOptions {
                inputs: vec![feb.clone()],
                out: appended.clone(),
                progress: Progress::hidden(),
                model_dir: Some(model.clone()),
                write_embeddings: false,
                append: true,
                shard: None,
            },
        )
        .map(|_| ())
    };
    let err = append_feb(&other).expect_err("appending with other settings must fail");
    assert!(err.to_string().contains("segment"), "{err}");
    assert_same_tables(&both, &appended);

    // Parts written before their tables' columns last changed (settings without
    // `parts_layout`, as before 2026-12-07): refused by name, never merged into tables of
    // mixed columns.
    for part in std::fs::read_dir(appended.join("parts")).unwrap() {
        let path = part.unwrap().path().join("input.json");
        let mut info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let settings = info["settings"].as_object_mut().unwrap();
        assert!(settings.remove("parts_layout").is_some());
        info["fingerprint"] = palaute::parts::fingerprint(&info["settings"]).into();
        std::fs::write(&path, serde_json::to_vec(&info).unwrap()).unwrap();
    }
    let err = append_feb(&cfg).expect_err("appending onto parts of another layout must fail");
    assert!(err.to_string().contains("parts_layout"), "{err}");

    // A run without --append replaces the folder's inputs, parts included.
    run(&cfg, &[jan], &appended, Some(&model), false);
    let parts = std::fs::read_dir(appended.join("parts")).unwrap().count();
    assert_eq!(parts, 1);
}
