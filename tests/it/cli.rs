//! The binary as users call it.

use std::process::Command;

use super::*;

fn palaute() -> Command {
    Command::new(env!("CARGO_BIN_EXE_palaute"))
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
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
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
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
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
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/no/such/folder"));
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
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("klingon"));
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
    let out = dir.path().join("out");
    let summary = run_into(&[input], &out, &ingest_only());
    assert_eq!(summary.documents, 2);
    assert!(summary.segments > 8000);
}

#[test]
fn run_writes_report_html_and_report_rerenders_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cfg = dir.path().join("palaute.toml");
    std::fs::write(
        &cfg,
        "[classify]\nenabled = false\n[report]\nlang = \"sv\"\n",
    )
    .unwrap();
    let run = palaute()
        .args(["run", "--quiet", "--config"])
        .arg(&cfg)
        .arg(repo().join("data/en_nps_surveymonkey.csv"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
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
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
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
    assert!(report.status.success());
    assert_eq!(std::fs::read_to_string(&again).unwrap(), sv);

    // Not an output folder: a failure that names the missing file.
    let missing = palaute()
        .arg("report")
        .arg(dir.path().join("nowhere"))
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("run.json"));
}
