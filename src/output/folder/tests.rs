//! The commit, recovery and locking of an output folder.
use super::*;

fn put(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}

fn visible(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .map(|n| {
            let text = fs::read_to_string(dir.join(&n)).unwrap();
            (n, text)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_run_replaces_the_outputs_a_report_updates_them() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "notes.txt", "the user's own file");
    let w = Writer::begin(dir.path()).unwrap();
    put(w.staging(), "a.parquet", "a1");
    put(w.staging(), "old.parquet", "o1");
    w.commit(Commit::Replace).unwrap();
    assert_eq!(verify(dir.path()).unwrap().manifest.tables(), ["a", "old"]);

    let w = Writer::begin(dir.path()).unwrap();
    put(w.staging(), "a.parquet", "a2");
    let m = w.commit(Commit::Replace).unwrap();
    assert_eq!(m.tables(), ["a"]);
    assert!(
        !dir.path().join("old.parquet").exists(),
        "the old run's table goes"
    );
    assert!(
        dir.path().join("notes.txt").exists(),
        "files palaute did not write stay"
    );

    let w = Writer::begin(dir.path()).unwrap();
    put(w.staging(), "report.html", "r");
    let m = w.commit(Commit::Update).unwrap();
    let names: Vec<&str> = m.files.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a.parquet", "report.html"]);
    verify(dir.path()).unwrap();
    let hidden: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != LOCK && n != COMMIT_LOCK)
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
}

#[test]
fn a_journal_left_by_a_dead_run_is_finished_by_the_next_reader() {
    let dir = tempfile::tempdir().unwrap();
    let w = Writer::begin(dir.path()).unwrap();
    put(w.staging(), "a.parquet", "a1");
    put(w.staging(), "b.parquet", "b1");
    w.commit(Commit::Replace).unwrap();
    let old = visible(dir.path());
    // A new run staged and journalled its outputs, moved one file, then died.
    let staging = dir.path().join(".palaute-staging-dead");
    fs::create_dir(&staging).unwrap();
    put(&staging, "a.parquet", "a2");
    put(&staging, "b.parquet", "b2");
    let new = seal(&staging, &["a.parquet", "b.parquet"]).unwrap();
    let journal = Journal {
        staging: ".palaute-staging-dead".into(),
        files: vec!["a.parquet".into(), "b.parquet".into(), MANIFEST.into()],
        remove: vec![],
        parts: vec![],
        drop_parts: vec![],
    };
    write_json_file(&dir.path().join(JOURNAL), &journal).unwrap();
    fs::rename(staging.join("a.parquet"), dir.path().join("a.parquet")).unwrap();
    assert_ne!(visible(dir.path()), old);
    assert_eq!(verify(dir.path()).unwrap().manifest, new);
    let now = visible(dir.path());
    assert!(now.contains(&("b.parquet".into(), "b2".into())), "{now:?}");
    assert!(!dir.path().join(JOURNAL).exists() && !staging.exists());
}

#[test]
fn a_journal_that_points_outside_or_lost_its_files_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let victim = tempfile::tempdir().unwrap();
    put(victim.path(), "keep.txt", "precious");
    let hostile = Journal {
        staging: ".palaute-staging-x".into(),
        files: vec![MANIFEST.into()],
        remove: vec![format!(
            "../{}/keep.txt",
            victim.path().file_name().unwrap().to_string_lossy()
        )],
        parts: vec![],
        drop_parts: vec![],
    };
    write_json_file(&dir.path().join(JOURNAL), &hostile).unwrap();
    let err = verify(dir.path()).err().unwrap().to_string();
    assert!(err.contains("outside the output folder"), "{err}");
    assert!(victim.path().join("keep.txt").exists());
    // Part folders to drop are names inside parts/ too, never paths.
    let hostile = Journal {
        staging: ".palaute-staging-x".into(),
        files: vec![MANIFEST.into()],
        remove: vec![],
        parts: vec![],
        drop_parts: vec![format!(
            "../../{}",
            victim.path().file_name().unwrap().to_string_lossy()
        )],
    };
    write_json_file(&dir.path().join(JOURNAL), &hostile).unwrap();
    let err = verify(dir.path()).err().unwrap().to_string();
    assert!(err.contains("outside the output folder"), "{err}");
    assert!(victim.path().join("keep.txt").exists());
    // A journal whose staged file is gone (not moved either): refused, journal kept.
    let lost = Journal {
        staging: ".palaute-staging-y".into(),
        files: vec!["a.parquet".into(), MANIFEST.into()],
        remove: vec![],
        parts: vec![],
        drop_parts: vec![],
    };
    write_json_file(&dir.path().join(JOURNAL), &lost).unwrap();
    let err = Writer::begin(dir.path()).err().unwrap().to_string();
    assert!(err.contains("lost this file"), "{err}");
    assert!(dir.path().join(JOURNAL).exists());
}

#[test]
fn leftovers_of_dead_runs_go_a_live_run_keeps_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".palaute-staging-old")).unwrap();
    put(dir.path(), ".palaute-abc.tmp", "half a table");
    let w = Writer::begin(dir.path()).unwrap();
    assert!(!dir.path().join(".palaute-abc.tmp").exists());
    assert!(!dir.path().join(".palaute-staging-old").exists());
    assert!(matches!(
        Writer::begin(dir.path()),
        Err(FolderError::Busy(_))
    ));
    drop(w);
    Writer::begin(dir.path()).unwrap();
}
