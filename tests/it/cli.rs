//! The binary as users call it.

use std::process::Output;

use super::*;

pub fn succeeded(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A failure whose message names `needle` (the file, setting or option at fault).
fn failed_naming(o: &Output, needle: &str) {
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(needle), "{err}");
}

#[test]
fn exit_code_is_failure_only_when_nothing_was_processed() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.csv");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let out = dir.path().join("out");
    let status = palaute()
        .args(["run", "--quiet"])
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!status.status.success());
    let rej = read(&out, "rejects");
    assert_eq!(rej.height(), 1);
    assert!(strings(&rej, "reason")[0]
        .as_deref()
        .unwrap()
        .contains("PNG"));

    let good = dir.path().join("good.csv");
    std::fs::write(&good, "id,comment\n1,Hyvä palvelu ja nopea toimitus\n").unwrap();
    let status = palaute()
        .args(["run", "--quiet"])
        .arg(&bad)
        .arg(&good)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    succeeded(&status);
    // Piped output: no progress bar noise.
    assert!(
        status.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn init_writes_a_config_that_run_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palaute.toml");
    assert!(palaute()
        .arg("init")
        .arg(&cfg)
        .arg("--quiet")
        .status()
        .unwrap()
        .success());
    assert!(
        !palaute()
            .arg("init")
            .arg(&cfg)
            .arg("--quiet")
            .status()
            .unwrap()
            .success(),
        "must not overwrite"
    );
    let input = dir.path().join("a.csv");
    std::fs::write(
        &input,
        "id;palaute\n1;Laskussa oli virhe, koska alennus puuttui\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = palaute()
        .arg("run")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    succeeded(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 documents"));
}

#[test]
fn missing_input_and_bad_config_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = palaute()
        .args(["run", "/no/such/folder", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    failed_naming(&o, "/no/such/folder");
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[lang]\nlanguages = [\"fi\", \"klingon\"]\n").unwrap();
    let o = palaute()
        .args(["run", "data", "--out"])
        .arg(dir.path())
        .arg("--config")
        .arg(&cfg)
        .current_dir(repo())
        .output()
        .unwrap();
    failed_naming(&o, "klingon");
}

#[test]
fn huge_single_comment_is_handled() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("huge.csv");
    let comment = "Jonotin asiakaspalveluun pitkään, koska linjat olivat ruuhkaisia. ".repeat(8000);
    assert!(comment.len() > 500_000);
    std::fs::write(
        &input,
        format!("id,comment\n1,\"{comment}\"\n2,lyhyt kommentti tässä\n"),
    )
    .unwrap();
    // Whole, when the user allows cells that long (by default it is cut at 100 000 chars, see
    // tests/it/hostile.rs).
    let mut cfg = ingest_only();
    cfg.ingest.max_cell_chars = 1_000_000;
    let out = dir.path().join("out");
    let summary = run_into(&[input], &out, &cfg);
    assert_eq!(summary.documents, 2);
    assert!(summary.segments > 8000);
}

/// `palaute run` over the English sample survey without the model stages, with `extra` config;
/// returns the temp dir and the output folder in it.
fn ingest_only_run(extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cfg = dir.path().join("palaute.toml");
    std::fs::write(&cfg, format!("[classify]\nenabled = false\n{extra}")).unwrap();
    let run = palaute()
        .args(["run", "--quiet", "--config"])
        .arg(&cfg)
        .arg(repo().join("data/en_nps_surveymonkey.csv"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    succeeded(&run);
    (dir, out)
}

#[test]
fn run_writes_report_html_and_report_rerenders_it() {
    let (dir, out) = ingest_only_run("[report]\nlang = \"sv\"\n");
    let sv = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(sv.contains("<html lang=\"sv\">") && sv.contains("data-no-classification"));

    // Re-rendered in English (the default without --config) and to another file.
    let en = dir.path().join("en.html");
    let report = palaute()
        .args(["report", "--quiet"])
        .arg(&out)
        .arg("--out")
        .arg(&en)
        .output()
        .unwrap();
    succeeded(&report);
    assert!(std::fs::read_to_string(&en)
        .unwrap()
        .contains("<html lang=\"en\">"));
    // --lang wins, and the same folder gives the same bytes as the run wrote.
    let again = dir.path().join("sv.html");
    let report = palaute()
        .args(["report", "--quiet", "--lang", "sv", "--out"])
        .arg(&again)
        .arg(&out)
        .output()
        .unwrap();
    succeeded(&report);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), sv);

    // Not an output folder: a failure that names the missing file, and creates nothing.
    let missing = palaute()
        .arg("report")
        .arg(dir.path().join("nowhere"))
        .output()
        .unwrap();
    failed_naming(&missing, "manifest.json");
    assert!(!dir.path().join("nowhere").exists());
}

#[test]
fn query_answers_sql_over_the_output_tables() {
    let (dir, out) = ingest_only_run("");
    let docs = read(&out, "documents");
    let detractors = strings(&docs, "nps_group")
        .iter()
        .filter(|g| g.as_deref() == Some("detractor"))
        .count();
    assert!(detractors > 0);

    let query = |args: &[&str]| {
        palaute()
            .arg("query")
            .arg(&out)
            .args(args)
            .output()
            .unwrap()
    };
    let csv = query(&[
        "SELECT nps_group, COUNT(*) AS n FROM documents WHERE nps_group IS NOT NULL \
         GROUP BY nps_group ORDER BY nps_group",
        "--format",
        "csv",
    ]);
    succeeded(&csv);
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(csv.starts_with("nps_group,n\ndetractor,"), "{csv}");
    assert!(csv.contains(&format!("detractor,{detractors}\n")), "{csv}");

    // Tables join by name; JSON Lines keeps column order.
    let json = query(&[
        "SELECT s.segment_id, d.nps_group FROM segments s JOIN documents d ON s.doc_id = d.doc_id \
         ORDER BY s.segment_id LIMIT 2",
        "--format",
        "json",
    ]);
    succeeded(&json);
    let json = String::from_utf8(json.stdout).unwrap();
    assert_eq!(json.lines().count(), 2);
    assert!(json.starts_with("{\"segment_id\":"), "{json}");

    let table = query(&["SELECT COUNT(*) AS documents FROM documents"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains(&docs.height().to_string()));

    let pq = dir.path().join("detractors.parquet");
    let written = query(&[
        "SELECT * FROM documents WHERE nps_group = 'detractor'",
        "--format",
        "parquet",
        "--output",
        pq.to_str().unwrap(),
    ]);
    succeeded(&written);
    let back = polars::prelude::ParquetReader::new(std::fs::File::open(&pq).unwrap())
        .finish()
        .unwrap();
    assert_eq!(back.height(), detractors);

    // Mistakes are errors that say what exists, not panics.
    let bad = query(&["SELECT * FROM segmnets"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("segmnets") && err.contains("documents, rejects"),
        "{err}"
    );
    let binary = query(&["SELECT 1", "--format", "parquet"]);
    failed_naming(&binary, "--output");
}
