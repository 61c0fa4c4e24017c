//! An output folder after a kill is wholly the old run or wholly the new one, and readers
//! (`palaute query`, `palaute report`) refuse a folder whose files disagree with its manifest.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::*;

/// The folder's tables (name → bytes), which are deterministic for given inputs.
fn tables(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".parquet") && !n.starts_with('.'))
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().filter_map(Result::ok) {
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn run(input: &Path, out: &Path) -> std::process::Command {
    let mut c = palaute();
    c.args(["run", "--quiet", "--no-classify"])
        .arg(input)
        .arg("--out")
        .arg(out);
    c
}

/// Opens the folder as a reader would (finishing an interrupted commit) and returns which
/// run's inputs its run.json names, after checking the tables are that run's.
fn which_run(out: &Path, runs: &[(&str, &BTreeMap<String, Vec<u8>>)], context: &str) -> String {
    let q = palaute()
        .args(["query", "--format", "csv"])
        .arg(out)
        .arg("SELECT count(*) AS n FROM documents")
        .output()
        .unwrap();
    assert!(
        q.status.success(),
        "{context}: {}",
        String::from_utf8_lossy(&q.stderr)
    );
    let run_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    let input = run_json["inputs"][0]["path"].as_str().unwrap().to_string();
    let now = tables(out);
    let (name, expected) = runs
        .iter()
        .find(|(name, _)| input.ends_with(name))
        .unwrap_or_else(|| panic!("{context}: run.json names {input}"));
    assert!(
        now == **expected,
        "{context}: run.json is {name}'s but the tables are not: {:?}",
        now.keys().collect::<Vec<_>>()
    );
    for e in std::fs::read_dir(out).unwrap().filter_map(Result::ok) {
        let n = e.file_name().to_string_lossy().into_owned();
        // A dead run's staging folder may stay until the next run (a reader does not take
        // the folder's lock to delete it); an unfinished commit may not.
        assert!(
            n != ".palaute-commit.json",
            "{context}: {n} left after recovery"
        );
    }
    name.to_string()
}

#[test]
fn a_kill_at_any_moment_leaves_one_run_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let old_in = tmp.path().join("january.csv");
    let new_in = tmp.path().join("february.csv");
    std::fs::write(&old_in, "id,comment\n1,Hyvä palvelu\n2,Lasku oli väärin\n").unwrap();
    let mut rows = String::from("id,comment\n");
    for i in 0..400 {
        rows.push_str(&format!(
            "{i},Jonotin puhelimessa {i} minuuttia. Asia ratkesi.\n"
        ));
    }
    std::fs::write(&new_in, rows).unwrap();
    let base = tmp.path().join("base");
    assert!(run(&old_in, &base).status().unwrap().success());
    let old = tables(&base);
    let reference = tmp.path().join("reference");
    copy_dir(&base, &reference);
    let started = Instant::now();
    assert!(run(&new_in, &reference).status().unwrap().success());
    let duration = started.elapsed();
    let new = tables(&reference);
    assert_ne!(old, new);
    assert!(!new.contains_key("themes.parquet"));
    let runs = [("january.csv", &old), ("february.csv", &new)];

    // Killed at each step of the commit: before the journal (step 0) the old run stays;
    // from the journal on (1, then after each move) the next reader completes the new one.
    for step in 0..10 {
        let out = tmp.path().join(format!("step{step}"));
        copy_dir(&base, &out);
        let status = run(&new_in, &out)
            .env("PALAUTE_FAULT_COMMIT", step.to_string())
            .status()
            .unwrap();
        let got = which_run(&out, &runs, &format!("step {step}"));
        let expected = if step == 0 {
            "january.csv"
        } else {
            "february.csv"
        };
        assert_eq!(got, expected, "killed at step {step} ({status})");
        // The next run into the folder clears what the dead one left.
        assert!(run(&old_in, &out).status().unwrap().success());
        let hidden: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') && !n.ends_with(".lock"))
            .collect();
        assert!(hidden.is_empty(), "step {step}: {hidden:?}");
    }

    // SIGKILL at moments spread over a whole run.
    let mut seen = BTreeMap::new();
    for k in 0..8u32 {
        let out = tmp.path().join(format!("kill{k}"));
        copy_dir(&base, &out);
        let mut child = run(&new_in, &out).spawn().unwrap();
        std::thread::sleep(duration * k / 7 + Duration::from_millis(u64::from(k)));
        let _ = child.kill();
        let status = child.wait().unwrap();
        let got = which_run(&out, &runs, &format!("kill {k}"));
        if status.success() {
            assert_eq!(got, "february.csv");
        }
        *seen.entry(got).or_insert(0) += 1;
    }
    assert!(seen.contains_key("january.csv"), "{seen:?}");
}

#[test]
fn readers_refuse_a_folder_whose_tables_disagree() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("a.csv");
    std::fs::write(&input, "id,comment\n1,Hyvä palvelu\n").unwrap();
    let out = tmp.path().join("out");
    assert!(run(&input, &out).status().unwrap().success());
    // Another run's table copied in by hand.
    let other = tmp.path().join("other");
    std::fs::write(
        &input,
        "id,comment\n1,Jonotin tunnin asiakaspalveluun\n2,Lasku tuli kahdesti\n",
    )
    .unwrap();
    assert!(run(&input, &other).status().unwrap().success());
    std::fs::copy(other.join("segments.parquet"), out.join("segments.parquet")).unwrap();
    for args in [
        vec![
            "query".to_string(),
            out.display().to_string(),
            "SELECT 1".into(),
        ],
        vec!["report".to_string(), out.display().to_string()],
    ] {
        let o = palaute().args(&args).output().unwrap();
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("segments.parquet") && err.contains("manifest.json"),
            "{args:?}: {err}"
        );
    }
}
