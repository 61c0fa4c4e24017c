//! Stable-toolchain fuzzing of every reader (cargo-fuzz needs nightly): proptest mutates the
//! fixtures of each format — bytes flipped, inserted, deleted, runs duplicated, the file cut
//! short — and every mutant must be read without a panic, with every row a table reports
//! either a document's row or a reject's line. Zip-based formats (XLSX, DOCX, ODS) are
//! mutated twice over: the container's bytes (mostly caught by the zip CRC), and the XML part
//! the reader parses, re-zipped, so the XML paths are exercised too. `PROPTEST_CASES` raises
//! the count (default here: 48 mutants per target) and `PALAUTE_FUZZ_SEED` draws other
//! mutants; `scripts/fuzz.sh` runs rounds of both for a time budget.

use std::collections::HashSet;
use std::path::PathBuf;

use proptest::prelude::*;

use super::*;

/// What a mutant is made from: a fixture's bytes, or one part of a zip-based fixture.
#[derive(Debug)]
struct Target {
    fixture: PathBuf,
    part: Option<&'static str>,
}

/// Every fixture, and for zip-based ones also the XML part its reader parses.
fn targets() -> Vec<Target> {
    let mut out = Vec::new();
    for fixture in fixtures() {
        let part = match fixture.extension().and_then(|e| e.to_str()) {
            Some("xlsx") => Some("xl/worksheets/sheet1.xml"),
            Some("docx") => Some("word/document.xml"),
            Some("ods") => Some("content.xml"),
            _ => None,
        };
        if part.is_some() {
            out.push(Target {
                fixture: fixture.clone(),
                part,
            });
        }
        out.push(Target {
            fixture,
            part: None,
        });
    }
    out
}

/// `bytes`, with the zip entry `part` replaced by `mutate(part's bytes)`.
fn rezip(bytes: &[u8], part: &str, mut mutate: impl FnMut(&mut Vec<u8>)) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut zip = ::zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = ::zip::write::SimpleFileOptions::default();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if name == part {
            mutate(&mut data);
        }
        out.start_file(name, options).unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// One fixture per reader: CSV, TSV, XLSX, ODS, DOCX, VTT, SRT, TXT, Markdown, JSON Lines,
/// Parquet.
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
    // No export fixture is an ODS; the hostile set's control file is a plain survey.
    by_ext.insert("ods".into(), repo().join("tests/hostile/ods_survey.ods"));
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
    // As `palaute run` does: Parquet is decoded in a child first, so a decoder that aborts
    // costs its file (found with seed 5), not the fuzzing.
    palaute::ingest::parquet::isolate_with(env!("CARGO_BIN_EXE_palaute").into());
    let seed: u64 = std::env::var("PALAUTE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for target in targets() {
        let fixture = &target.fixture;
        let original = std::fs::read(fixture).unwrap();
        // The same mutants on every run (seed 0), so CI is reproducible; a long exploratory
        // run draws other seeds (found so far: Polars panicking on corrupt Parquet metadata,
        // and line numbers of CSV records ended by a bare CR).
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        let rng = if seed == 0 {
            proptest::test_runner::TestRng::deterministic_rng(
                proptest::test_runner::RngAlgorithm::ChaCha,
            )
        } else {
            proptest::test_runner::TestRng::from_seed(
                proptest::test_runner::RngAlgorithm::ChaCha,
                &key,
            )
        };
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            ProptestConfig {
                cases,
                failure_persistence: None,
                ..ProptestConfig::default()
            },
            rng,
        );
        let result = runner.run(&proptest::collection::vec(edit(), 1..6), |edits| {
            let bytes = match target.part {
                Some(part) => rezip(&original, part, |bytes| {
                    for e in &edits {
                        apply(bytes, e);
                    }
                }),
                None => {
                    let mut bytes = original.clone();
                    for e in &edits {
                        apply(&mut bytes, e);
                    }
                    bytes
                }
            };
            read_mutant(fixture, &bytes)
        });
        if let Err(e) = result {
            panic!("{} {:?}: {e}", fixture.display(), target.part);
        }
    }
    // For scripts/fuzz.sh: how many mutants this round read.
    eprintln!(
        "fuzz: seed {seed}, {} mutants read",
        cases as usize * targets().len()
    );
}
