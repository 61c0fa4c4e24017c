//! The bundled sample data (what the README's run command processes).

use super::*;

#[test]
fn sample_data_runs_reproducibly_and_accounts_for_every_row() {
    let data = repo().join("data");
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let summary = run_into(std::slice::from_ref(&data), a.path(), &ingest_only());
    run_into(&[data], b.path(), &ingest_only());
    assert!(summary.files >= 6, "{summary:?}");
    assert!(summary.documents >= 300, "{}", summary.documents);
    assert_rows_accounted(&summary, a.path());
    for table in ["documents", "segments", "rejects"] {
        let x = std::fs::read(a.path().join(format!("{table}.parquet"))).unwrap();
        let y = std::fs::read(b.path().join(format!("{table}.parquet"))).unwrap();
        assert!(x == y, "{table}.parquet differs between identical runs");
    }
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(a.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());

    let docs = read(a.path(), "documents");
    let langs = strings(&docs, "lang");
    for l in ["fi", "sv", "en"] {
        assert!(
            langs.iter().any(|x| x.as_deref() == Some(l)),
            "no {l} documents"
        );
    }
    let segs = read(a.path(), "segments");
    let roles = strings(&segs, "role");
    assert!(roles.iter().any(|r| r.as_deref() == Some("interviewer")));
    assert!(roles.iter().any(|r| r.as_deref() == Some("participant")));
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.path().join("run.json")).unwrap()).unwrap();
    assert_eq!(
        run["counts"]["documents"].as_u64(),
        Some(summary.documents as u64)
    );
    assert!(run["inputs"][0]["sha256"]
        .as_str()
        .is_some_and(|s| s.len() == 64));
}
