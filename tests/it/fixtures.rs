//! Every fixture in tests/fixtures/ read through the real readers and checked against
//! tests/fixtures/expect.toml, which was written from an independent read-back of the files.

use palaute::ingest::{self, FileResult};
use palaute::record::Role;
use toml::Value;

use super::*;

fn manifest() -> Vec<toml::Table> {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/expect.toml")).unwrap();
    let v: toml::Table = toml::from_str(&text).unwrap();
    v["file"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_table().unwrap().clone())
        .collect()
}

fn read_fixture(entry: &toml::Table) -> FileResult {
    let rel = entry["path"].as_str().unwrap();
    let mut cfg = Config::default();
    if entry.get("default_sheet").and_then(Value::as_bool) == Some(false) {
        cfg.ingest.sheet = entry["sheet"].as_str().map(str::to_string);
    }
    let path = repo().join("tests/fixtures").join(rel);
    ingest::read_file(&path, rel, &cfg)
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// Reason categories in the manifest → words our messages use.
fn reason_matches(category: &str, reason: &str) -> bool {
    reason.to_lowercase().contains(&category.to_lowercase())
}

fn check_texts(name: &str, entry: &toml::Table, texts: &[&str]) {
    for s in strs(entry.get("must_contain")) {
        assert!(
            texts.iter().any(|t| t.contains(&s)),
            "{name}: no document contains {s:?}"
        );
    }
    for s in strs(entry.get("must_not_contain")) {
        assert!(
            !texts.iter().any(|t| t.contains(&s)),
            "{name}: some document contains {s:?}"
        );
    }
}

fn check_survey(name: &str, entry: &toml::Table, r: &FileResult) {
    let p = &r.parsed;
    let whole: Vec<_> = p.rejects.iter().filter(|x| x.line.is_none()).collect();
    assert!(whole.is_empty(), "{name}: rejected whole: {whole:?}");
    let layout = p.detail.layout.as_ref().unwrap();
    let col = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_string);
    assert_eq!(layout.id, col("id_column"), "{name}: id column");
    assert_eq!(layout.score, col("score_column"), "{name}: score column");
    assert_eq!(
        layout.score_kind.map(str::to_string),
        col("score_kind"),
        "{name}: score kind"
    );
    assert_eq!(layout.date, col("date_column"), "{name}: date column");
    assert_eq!(
        layout.text,
        strs(entry.get("text_columns")),
        "{name}: text columns"
    );
    for m in strs(entry.get("metadata_columns")) {
        assert!(layout.metadata.contains(&m), "{name}: metadata lacks {m}");
    }
    if let Some(h) = entry.get("header_rows").and_then(Value::as_integer) {
        assert_eq!(layout.header_rows as i64, h, "{name}: header rows");
    }
    if let Some(enc) = col("encoding") {
        let got = p.detail.encoding.unwrap().to_lowercase();
        assert!(got.starts_with(&enc), "{name}: encoding {got} vs {enc}");
        let bom = entry.get("bom").and_then(Value::as_bool).unwrap_or(false);
        assert_eq!(got.contains("bom"), bom, "{name}: BOM");
    }
    if let Some(d) = col("delimiter") {
        let want = if d == "\t" { "tab".to_string() } else { d };
        assert_eq!(
            p.detail.delimiter.as_deref(),
            Some(want.as_str()),
            "{name}: delimiter"
        );
    }
    assert_eq!(
        p.rows as i64,
        entry["records"].as_integer().unwrap(),
        "{name}: records"
    );
    assert_eq!(
        p.documents.len() as i64,
        entry["documents"].as_integer().unwrap(),
        "{name}: documents {:#?}",
        p.rejects
    );
    let expected_rejects = entry["rejects"].as_array().unwrap();
    assert_eq!(
        p.rejects.len(),
        expected_rejects.len(),
        "{name}: rejects {:#?}",
        p.rejects
    );
    for (want, got) in expected_rejects.iter().zip(&p.rejects) {
        assert_eq!(
            got.line,
            want["line"].as_integer().map(|l| l as u64),
            "{name}: reject line"
        );
        if let Some(level) = want.get("level").and_then(|l| l.as_str()) {
            assert_eq!(
                got.level.as_str(),
                level,
                "{name}: line {:?} level",
                got.line
            );
        }
        let cat = want["reason"].as_str().unwrap();
        assert!(
            reason_matches(cat, &got.reason),
            "{name}: line {:?}: {:?} is not {cat:?}",
            got.line,
            got.reason
        );
    }
    let texts: Vec<&str> = p.documents.iter().map(|d| d.text.as_str()).collect();
    check_texts(name, entry, &texts);
    fn docs_of<'a>(
        p: &'a ingest::Parsed,
        id: &'a str,
    ) -> impl Iterator<Item = &'a palaute::record::Document> {
        p.documents
            .iter()
            .filter(move |d| d.respondent_id.as_deref() == Some(id))
    }
    if let Some(scores) = entry.get("scores").and_then(Value::as_table) {
        for (id, v) in scores {
            let d = docs_of(p, id)
                .next()
                .unwrap_or_else(|| panic!("{name}: no document for {id}"));
            assert_eq!(d.score, v.as_float(), "{name}: score of {id}");
        }
    }
    if let Some(dates) = entry.get("dates").and_then(Value::as_table) {
        for (id, v) in dates {
            let d = docs_of(p, id)
                .next()
                .unwrap_or_else(|| panic!("{name}: no document for {id}"));
            assert_eq!(
                d.date.map(|x| x.to_string()).as_deref(),
                v.as_str(),
                "{name}: date of {id}"
            );
        }
    }
    if let Some(per) = entry.get("documents_per_id").and_then(Value::as_table) {
        for (id, n) in per {
            assert_eq!(
                docs_of(p, id).count() as i64,
                n.as_integer().unwrap(),
                "{name}: documents of {id}"
            );
        }
    }
    if let Some(q) = entry.get("question_texts").and_then(Value::as_table) {
        for (column, text) in q {
            let d = p
                .documents
                .iter()
                .find(|d| d.source_column.as_deref() == Some(column))
                .unwrap();
            assert_eq!(
                d.question.as_deref(),
                text.as_str(),
                "{name}: question of {column}"
            );
        }
    }
    for id in strs(entry.get("duplicate_ids")) {
        let ids: Vec<&str> = p
            .documents
            .iter()
            .filter_map(|d| d.respondent_id.as_deref())
            .filter(|r| r.starts_with(id.as_str()))
            .collect();
        assert!(ids.len() >= 2, "{name}: duplicate {id} dropped");
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(
            unique.len(),
            ids.len(),
            "{name}: duplicate {id} not disambiguated"
        );
    }
    for id in strs(entry.get("multiline_ids")) {
        assert!(
            docs_of(p, &id).any(|d| d.text.contains('\n')),
            "{name}: {id} lost its line break"
        );
    }
    let doc_ids: std::collections::HashSet<_> = p.documents.iter().map(|d| &d.doc_id).collect();
    assert_eq!(
        doc_ids.len(),
        p.documents.len(),
        "{name}: doc ids not unique"
    );
}

fn check_transcript(name: &str, entry: &toml::Table, r: &FileResult) {
    let p = &r.parsed;
    assert!(p.rejects.is_empty(), "{name}: {:?}", p.rejects);
    assert_eq!(p.documents.len(), 1, "{name}");
    let doc = &p.documents[0];
    let turns = &doc.turns;
    assert_eq!(
        turns.len() as i64,
        entry["turns"].as_integer().unwrap(),
        "{name}: turns {:#?}",
        turns
            .iter()
            .map(|t| (&t.speaker, &t.text))
            .collect::<Vec<_>>()
    );
    let mut speakers: Vec<&str> = Vec::new();
    for t in turns {
        if !speakers.contains(&t.speaker.as_str()) {
            speakers.push(&t.speaker);
        }
    }
    assert_eq!(speakers, strs(entry.get("speakers")), "{name}: speakers");
    let turn_speakers: Vec<&str> = turns.iter().map(|t| t.speaker.as_str()).collect();
    assert_eq!(
        turn_speakers,
        strs(entry.get("turn_speakers")),
        "{name}: turn speakers"
    );
    let interviewer = entry["interviewer"].as_str().unwrap();
    for t in turns {
        let want = if t.speaker == interviewer {
            Role::Interviewer
        } else {
            Role::Participant
        };
        assert_eq!(t.role, want, "{name}: role of {}", t.speaker);
    }
    if let Some(starts) = entry.get("turn_t_starts").and_then(Value::as_array) {
        for (t, want) in turns.iter().zip(starts) {
            let want = want
                .as_float()
                .or_else(|| want.as_integer().map(|i| i as f64))
                .unwrap();
            assert!(
                (t.t_start.unwrap() - want).abs() < 1e-6,
                "{name}: turn start {:?} vs {want}",
                t.t_start
            );
        }
    }
    for tc in entry
        .get("turn_contains")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let i = tc["turn"].as_integer().unwrap() as usize - 1;
        assert_eq!(
            turns[i].speaker,
            tc["speaker"].as_str().unwrap(),
            "{name}: speaker of turn {}",
            i + 1
        );
        let text = tc["text"].as_str().unwrap();
        assert!(
            turns[i].text.contains(text),
            "{name}: turn {} lacks {text:?}: {:?}",
            i + 1,
            turns[i].text
        );
    }
    check_texts(name, entry, &[doc.text.as_str()]);
}

#[test]
fn every_fixture_reads_as_expected() {
    let entries = manifest();
    assert!(entries.len() >= 25);
    for entry in &entries {
        let name = format!(
            "{} {}",
            entry["path"].as_str().unwrap(),
            entry.get("sheet").and_then(Value::as_str).unwrap_or("")
        );
        let r = read_fixture(entry);
        match entry["kind"].as_str().unwrap() {
            "survey" => check_survey(&name, entry, &r),
            "transcript" => check_transcript(&name, entry, &r),
            "reject_whole" => {
                assert_eq!(r.parsed.documents.len(), 0, "{name}");
                assert_eq!(r.parsed.rejects.len(), 1, "{name}: {:?}", r.parsed.rejects);
                let rej = &r.parsed.rejects[0];
                assert_eq!(rej.line, None, "{name}");
                assert!(
                    reason_matches(entry["reason"].as_str().unwrap(), &rej.reason),
                    "{name}: {:?}",
                    rej.reason
                );
                assert_eq!(rej.source_file, entry["path"].as_str().unwrap());
            }
            other => panic!("unknown kind {other}"),
        }
    }
}

#[test]
fn whole_fixture_folder_in_one_run_accounts_for_every_row() {
    let out = tempfile::tempdir().unwrap();
    let summary = run_into(&[repo().join("tests/fixtures")], out.path(), &ingest_only());
    assert_rows_accounted(&summary, out.path());
    let segs = read(out.path(), "segments");
    let docs = read(out.path(), "documents");
    // Segment spans point into the document text.
    let doc_text: std::collections::HashMap<String, String> = strings(&docs, "doc_id")
        .into_iter()
        .zip(strings(&docs, "text"))
        .map(|(a, b)| (a.unwrap(), b.unwrap()))
        .collect();
    let ids = strings(&segs, "doc_id");
    let texts = strings(&segs, "text");
    let starts = strings(&segs, "char_start");
    let ends = strings(&segs, "char_end");
    for i in 0..segs.height() {
        let doc = &doc_text[ids[i].as_ref().unwrap()];
        let (s, e): (usize, usize) = (
            starts[i].as_ref().unwrap().parse().unwrap(),
            ends[i].as_ref().unwrap().parse().unwrap(),
        );
        let slice: String = doc.chars().skip(s).take(e - s).collect();
        assert_eq!(Some(slice), texts[i].clone());
    }
}

/// A CSAT export (1–5, decimals) with one "5,7" and one impossible date: both comments are
/// kept with the bad value null, and each problem is a field-level reject naming the line.
#[test]
fn a_bad_score_or_date_costs_the_value_not_the_comment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("csat.csv");
    std::fs::write(
        &path,
        "id;pvm;CSAT;palaute\n\
         a1;01.09.2026;4,5;Toimitus tuli ajallaan ja asentaja oli huolellinen.\n\
         a2;02.09.2026;5,7;Paras palvelu pitkään aikaan, kiitos myyjälle.\n\
         a3;31.02.2026;1,1;Lasku oli väärin jo toista kertaa peräkkäin.\n\
         a4;03.09.2026;3,0;Sovellus kaatuu kirjautuessa.\n\
         a5;04.09.2026;2,0;Jonotin puhelimessa puoli tuntia.\n\
         a6;05.09.2026;5,0;Kaikki sujui hyvin.\n",
    )
    .unwrap();
    let r = ingest::read_file(&path, "csat.csv", &Config::default());
    let p = &r.parsed;
    assert_eq!(p.documents.len(), 6, "{:?}", p.rejects);
    let by_id = |id: &str| {
        p.documents
            .iter()
            .find(|d| d.respondent_id.as_deref() == Some(id))
            .unwrap()
    };
    assert_eq!(by_id("a1").score, Some(4.5));
    assert!(by_id("a1").date.is_some(), "pvm is the date column");
    assert_eq!(by_id("a2").score, None, "5,7 is outside 1–5");
    assert!(by_id("a3").date.is_none() && by_id("a3").score == Some(1.1));
    let got: Vec<(Option<u64>, &str)> = p
        .rejects
        .iter()
        .map(|x| (x.line, x.level.as_str()))
        .collect();
    assert_eq!(
        got,
        [(Some(3), "field"), (Some(4), "field")],
        "{:?}",
        p.rejects
    );
    assert!(
        p.rejects[0].reason.contains("score out of range"),
        "{}",
        p.rejects[0].reason
    );
    assert!(
        p.rejects[1].reason.contains("unparseable date"),
        "{}",
        p.rejects[1].reason
    );
}
