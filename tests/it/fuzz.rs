//! Stable-toolchain fuzzing of every reader (cargo-fuzz needs nightly): proptest mutates the
//! fixtures of each format — bytes flipped, inserted, deleted, runs duplicated, the file cut
//! short — and every mutant must be read without a panic, with every row a table reports
//! either a document's row or a reject's line. `PROPTEST_CASES` raises the count for a long
//! run (default here: 48 mutants per fixture).

use std::collections::HashSet;
use std::path::PathBuf;

use proptest::prelude::*;

use super::*;

/// One fixture per reader: CSV, TSV, XLSX, DOCX, VTT, SRT, TXT, Markdown, JSON Lines, Parquet.
fn fixtures() -> Vec<PathBuf> {
    let mut by_ext: std::collections::BTreeMap<String, PathBuf> = Default::default();
    for dir in ["survey", "transcripts"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/fixtures").join(dir))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            let ext = f.extension().map(|e| e.to_string_lossy().into_owned());
            if let Some(ext) = ext.filter(|e| !matches!(e.as_str(), "toml" | "gitattributes")) {
                by_ext.entry(ext).or_insert(f);
            }
        }
    }
    by_ext.into_values().collect()
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Repeat(usize, usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let bytes = prop_oneof![
        Just(b"\"".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b";,\t|".to_vec()),
        Just(b"-->".to_vec()),
        Just(b"00:00:01.000".to_vec()),
        Just(vec![0xff, 0xfe]),
        Just(vec![0xef, 0xbb, 0xbf]),
        Just(vec![0]),
        proptest::collection::vec(any::<u8>(), 1..16),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), bytes).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), 1usize..64, 2usize..50).prop_map(|(i, n, k)| Edit::Repeat(i, n, k)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, e: &Edit) {
    let len = bytes.len().max(1);
    match e {
        Edit::Flip(i, b) if !bytes.is_empty() => bytes[i % len] ^= b | 1,
        Edit::Insert(i, b) => {
            let at = i % (bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        Edit::Delete(i, n) if !bytes.is_empty() => {
            let at = i % len;
            let end = (at + n).min(bytes.len());
            bytes.drain(at..end);
        }
        Edit::Repeat(i, n, k) if !bytes.is_empty() => {
            let at = i % len;
            let run: Vec<u8> = bytes[at..(at + n).min(bytes.len())].to_vec();
            let copies: Vec<u8> = run.iter().copied().cycle().take(run.len() * k).collect();
            bytes.splice(at..at, copies);
        }
        Edit::Truncate(i) => bytes.truncate(i % len),
        _ => {}
    }
}

/// Reads a mutant and checks the invariants; a panic fails the case.
fn read_mutant(original: &PathBuf, bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(original.file_name().unwrap());
    std::fs::write(&path, bytes).unwrap();
    // A mutant that aborts the process cannot be shrunk or reported by proptest: keep a copy
    // where the next run can be pointed at it.
    if let Ok(keep) = std::env::var("PALAUTE_FUZZ_KEEP") {
        std::fs::write(keep, bytes).unwrap();
    }
    let r = palaute::ingest::read_file(&path, "mutant", &Config::default());
    let p = &r.parsed;
    let whole = p.rejects.iter().any(|x| x.line.is_none());
    if whole {
        prop_assert!(
            p.documents.is_empty(),
            "{:?}: rejected whole but has documents",
            original
        );
        return Ok(());
    }
    if p.documents.iter().all(|d| d.turns.is_empty()) {
        let used: HashSet<u64> = p.documents.iter().filter_map(|d| d.source_row).collect();
        let rejected: HashSet<u64> = p
            .rejects
            .iter()
            .filter(|x| x.level != palaute::record::RejectLevel::Field)
            .filter_map(|x| x.line)
            .collect();
        prop_assert!(
            used.is_disjoint(&rejected),
            "{:?}: a row used and rejected",
            original
        );
        prop_assert_eq!(
            used.len() + rejected.len(),
            p.rows,
            "{:?}: rows not accounted",
            original
        );
    }
    Ok(())
}

#[test]
fn every_reader_survives_mutated_exports() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    for fixture in fixtures() {
        let original = std::fs::read(&fixture).unwrap();
        // The same mutants on every run, so CI is reproducible; a long exploratory run can
        // raise PROPTEST_CASES (found so far: Polars panicking on corrupt Parquet metadata,
        // and line numbers of CSV records ended by a bare CR).
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            ProptestConfig {
                cases,
                failure_persistence: None,
                ..ProptestConfig::default()
            },
            proptest::test_runner::TestRng::deterministic_rng(
                proptest::test_runner::RngAlgorithm::ChaCha,
            ),
        );
        let result = runner.run(&proptest::collection::vec(edit(), 1..6), |edits| {
            let mut bytes = original.clone();
            for e in &edits {
                apply(&mut bytes, e);
            }
            read_mutant(&fixture, &bytes)
        });
        if let Err(e) = result {
            panic!("{}: {e}", fixture.display());
        }
    }
}
