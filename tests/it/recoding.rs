//! The recoding loop as a researcher runs it: corrected labels → `palaute train` → the head
//! set in palaute.toml → `palaute run` labels with it.

use std::path::Path;

use super::chunks::tiny_model;
use super::cli::succeeded;
use super::*;

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `palaute run` on the sample's English survey with `[classify]` lines `classify`, into
/// `tmp/name`.
fn run_cli(tmp: &Path, model: &Path, name: &str, classify: &str) -> std::process::Output {
    let cfg = tmp.join(format!("{name}.toml"));
    std::fs::write(&cfg, format!("[classify]\n{classify}\n")).unwrap();
    palaute()
        .arg("-q")
        .arg("-c")
        .arg(&cfg)
        .arg("run")
        .arg(repo().join("data/en_nps_surveymonkey.csv"))
        .arg("--out")
        .arg(tmp.join(name))
        .arg("--model-dir")
        .arg(model)
        .output()
        .unwrap()
}

/// [`run_cli`]; run.json's theme heads as (task, training rows).
fn run_heads(tmp: &Path, model: &Path, name: &str, classify: &str) -> Vec<(String, u64)> {
    succeeded(&run_cli(tmp, model, name, classify));
    let run = json(&tmp.join(name).join("run.json"));
    run["classification"]["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let task = h["task"].as_str().unwrap().to_string();
            (task, h["training_rows"].as_u64().unwrap())
        })
        .filter(|(t, _)| t.starts_with("themes"))
        .collect()
}

/// With the built-in codebook a run labels whole answers and sentences of longer answers with
/// two theme heads; a researcher's recoding must keep that split, with the corrections in both.
#[test]
fn a_theme_recoding_trains_both_theme_heads_and_the_run_uses_them() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let model = tiny_model(tmp);
    let corrections = repo().join("tests/recoding/themes_corrections.csv");
    let rows = std::fs::read_to_string(&corrections)
        .unwrap()
        .lines()
        .count() as u64
        - 1;
    let train = |out: &Path, extra: &[&str]| {
        let o = palaute()
            .arg("train")
            .arg(&corrections)
            .args(["--task", "themes", "--out"])
            .arg(out)
            .arg("--model-dir")
            .arg(&model)
            .args(extra)
            .output()
            .unwrap();
        succeeded(&o);
        String::from_utf8_lossy(&o.stderr).into_owned()
    };

    let shipped = run_heads(tmp, &model, "shipped", "");
    let [(whole, whole_rows), (sentences, sentence_rows)] = &shipped[..] else {
        panic!("two theme heads by default: {shipped:?}");
    };
    assert_eq!(
        (whole.as_str(), sentences.as_str()),
        ("themes", "themes-sentences")
    );

    let pair = tmp.join("themes.json");
    let said = train(&pair, &[]);
    assert!(said.contains("themes-sentences head"), "{said}");
    let file = json(&pair);
    assert_eq!(file["whole"]["task"], "themes");
    assert_eq!(file["sentences"]["task"], "themes-sentences");
    let setting = format!("theme_head = {:?}", pair.display().to_string());
    assert_eq!(
        run_heads(tmp, &model, "recoded", &setting),
        [
            ("themes".to_string(), whole_rows + rows),
            ("themes-sentences".to_string(), sentence_rows + rows),
        ]
    );

    // The loop from a run's own table: segments.parquet says which segments were sentences
    // of longer answers, a recoding file keeps that column, and those rows train only the
    // sentence head (as the shipped documents' sentences do); whole answers train both.
    let segs = read(&tmp.join("shipped"), "segments");
    let (ids, texts, langs, longer) = (
        segs.column("segment_id").unwrap().str().unwrap(),
        segs.column("text").unwrap().str().unwrap(),
        segs.column("lang").unwrap().str().unwrap(),
        segs.column("in_longer_answer").unwrap().bool().unwrap(),
    );
    let mut csv = String::from("id,text,lang,label,in_longer_answer\n");
    let (mut n_whole, mut n_sentences) = (0u64, 0u64);
    for i in 0..segs.height() {
        let longer = longer
            .get(i)
            .expect("a respondent's segment says whether it is");
        let n = if longer {
            &mut n_sentences
        } else {
            &mut n_whole
        };
        if *n < 3 {
            *n += 1;
            let text = texts.get(i).unwrap().replace('"', "\"\"");
            let (id, lang) = (ids.get(i).unwrap(), langs.get(i).unwrap());
            csv += &format!("{id},\"{text}\",{lang},price_value,{longer}\n");
        }
    }
    assert_eq!((n_whole, n_sentences), (3, 3), "the sample has both kinds");
    let marked = tmp.join("marked.csv");
    std::fs::write(&marked, csv).unwrap();
    let out = tmp.join("marked.json");
    let o = palaute()
        .arg("train")
        .arg(&marked)
        .args(["--task", "themes", "--out"])
        .arg(&out)
        .arg("--model-dir")
        .arg(&model)
        .output()
        .unwrap();
    succeeded(&o);
    let setting = format!("theme_head = {:?}", out.display().to_string());
    assert_eq!(
        run_heads(tmp, &model, "marked", &setting),
        [
            ("themes".to_string(), whole_rows + n_whole),
            (
                "themes-sentences".to_string(),
                sentence_rows + n_whole + n_sentences
            ),
        ]
    );

    // The file alone: one head, and it labels every segment.
    let alone = tmp.join("alone.json");
    train(&alone, &["--only-file"]);
    let setting = format!("theme_head = {:?}", alone.display().to_string());
    assert_eq!(
        run_heads(tmp, &model, "alone", &setting),
        [("themes".to_string(), rows)]
    );

    // The pair given where one head is read is refused, naming the file and the setting.
    let setting = format!("stage_head = {:?}", pair.display().to_string());
    let o = run_cli(tmp, &model, "misplaced", &setting);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("themes.json") && err.contains("theme_head"),
        "{err}"
    );
}
