//! The tables of a small output folder written with polars, for the report tests.

use std::path::Path;

use polars::prelude::*;
use serde_json::json;

use super::super::*;
use crate::analyze::list_col;
use crate::output::{write_json, write_parquet};

pub(super) const HOSTILE: &str =
    "</script><script>alert(\"x\")</script> & 'y' <b>bold</b>\nline two <!--";

pub(super) fn strs(name: &str, v: &[&str]) -> Column {
    Column::new(name.into(), v.to_vec())
}

pub(super) fn opt_strs(name: &str, v: &[Option<&str>]) -> Column {
    Column::new(name.into(), v.to_vec())
}

pub(super) fn nums<T: Clone>(name: &str, v: &[T]) -> Column
where
    Series: NamedFrom<Vec<T>, [T]>,
{
    Column::new(name.into(), v.to_vec())
}

pub(super) fn write(dir: &Path, name: &str, cols: Vec<Column>) {
    let mut df = DataFrame::new_infer_height(cols).unwrap();
    write_parquet(&mut df, &dir.join(name)).unwrap();
}

pub(super) fn run_json(dir: &Path, status: &str) {
    let mut cls = json!({"status": status});
    if status == "done" {
        cls = json!({
            "status": "done", "negative_segments": 3, "emergent_themes": 1,
            "unexplained_negative_share": 0.1,
            "models": [{"id": "intfloat/multilingual-e5-small", "revision": null,
                        "files": [["model.safetensors", "8520eedb7ea5147f2345d7535bda10480394cca9"]]}],
            "heads": [{"task": "sentiment", "training_rows": 1149, "labels": ["negative", "neutral", "positive"]}],
        });
    } else {
        cls["reason"] = json!("no encoder found in ~/.cache/palaute/models");
    }
    let run = json!({
        "palaute_version": "0.1.0",
        "command": "run",
        "inputs": [{"path": "data/survey.csv", "sha256": "ab".repeat(32), "bytes": 100,
                    "format": "delimited", "rows": 3, "documents": 2, "rejects": 1}],
        "config": {"classify": {"codebook": "cx-root-causes", "journey": "b2c"}},
        "classification": cls,
        "counts": {"files": 1, "rows": 3, "documents": 2, "segments": 5, "rejects": 1,
                   "segments_by_lang": {"en": 3, "fi": 2}},
        "timings_s": {"ingest": 0.5, "classify": 2.25, "write": 0.01, "discover": 0.0},
        "total_s": 2.8,
    });
    write_json(&run, &dir.join("run.json")).unwrap();
}

/// The ingest tables and run.json of a run (classified or not).
pub(super) fn ingest_tables(dir: &Path, status: &str) {
    run_json(dir, status);
    let date = Column::new("date".into(), vec![Some(20_700i32), Some(20_720), None])
        .cast(&DataType::Date)
        .unwrap();
    write(
        dir,
        "documents.parquet",
        vec![
            strs(
                "doc_id",
                &["data/survey.csv#2.3", "data/survey.csv#3.3", "i.vtt"],
            ),
            strs(
                "source_file",
                &["data/survey.csv", "data/survey.csv", "i.vtt"],
            ),
            opt_strs("respondent_id", &[Some("r1"), Some("r2"), Some("Anna")]),
            nums("score", &[Some(3.0), Some(10.0), None]),
            opt_strs("score_kind", &[Some("nps"), Some("nps"), None]),
            date,
        ],
    );
    let classified = status == "done";
    let s = |v: &'static str| classified.then_some(v);
    write(
        dir,
        "segments.parquet",
        vec![
            strs(
                "role",
                &[
                    "respondent",
                    "respondent",
                    "interviewer",
                    "participant",
                    "participant",
                ],
            ),
            opt_strs(
                "sentiment",
                &[
                    s("negative"),
                    s("positive"),
                    s("neutral"),
                    s("negative"),
                    s("neutral"),
                ],
            ),
            list_col(
                "themes",
                &[
                    vec!["wait_time".into()],
                    vec!["wait_time".into(), "billing_errors".into()],
                    vec!["other".into()],
                    vec!["wait_time".into()],
                    vec!["other".into()],
                ],
            ),
            opt_strs(
                "stage",
                &[
                    s("support"),
                    s("billing"),
                    s("support"),
                    s("support"),
                    s("onboarding"),
                ],
            ),
        ],
    );
    write(
        dir,
        "rejects.parquet",
        vec![
            strs("source_file", &["data/survey.csv", "data/bad.bin"]),
            nums("line", &[Some(4u64), None]),
            strs(
                "reason",
                &[
                    "non-numeric score \"kymmenen\" in column \"NPS\"",
                    "binary file",
                ],
            ),
            opt_strs("raw", &[Some("r3 | kymmenen | <i>x</i>"), None]),
        ],
    );
}

/// Evidence tables: two codebook themes and `other`, three cells, drivers, quotes; no trends.
pub(super) fn evidence_tables(dir: &Path, quote_text: &str) {
    write(
        dir,
        "themes.parquet",
        vec![
            strs(
                "theme_id",
                &["other", "wait_time", "billing_errors", "privacy"],
            ),
            strs("origin", &["codebook"; 4]),
            strs(
                "label",
                &["Other", "Wait time", "Billing errors", "Privacy"],
            ),
            strs(
                "label_fi",
                &["Muu", "Odotusaika", "Laskutusvirheet", "Yksityisyys"],
            ),
            strs(
                "label_sv",
                &["Övrigt", "Väntetid", "Faktureringsfel", "Integritet"],
            ),
            strs(
                "label_en",
                &["Other", "Wait time", "Billing errors", "Privacy"],
            ),
            opt_strs(
                "description",
                &[None, Some("Queues"), Some("Wrong bills"), None],
            ),
            list_col("keywords", &[vec![], vec![], vec![], vec![]]),
            nums("segments", &[1u32, 3, 1, 0]),
            nums("documents", &[1u32, 2, 1, 0]),
            nums("respondents", &[1u32, 2, 1, 0]),
            nums("negative_share", &[Some(0.0), Some(0.67), Some(0.0), None]),
            nums("root_cause_segments", &[0u32, 2, 0, 0]),
            opt_strs(
                "representative_segment_id",
                &[None, Some("data/survey.csv#2.3:1"), None, None],
            ),
        ],
    );
    write(
        dir,
        "theme_stage.parquet",
        vec![
            strs(
                "theme_id",
                &["wait_time", "wait_time", "billing_errors", "other"],
            ),
            strs("stage", &["support", "billing", "billing", "onboarding"]),
            nums("segments", &[3u32, 1, 1, 1]),
            nums("root_cause_segments", &[2u32, 0, 0, 0]),
            nums("documents", &[2u32, 1, 1, 1]),
            nums("respondents", &[2u32, 1, 1, 1]),
            nums("negative_share", &[1.0f64, 0.0, 0.0, 0.0]),
            nums("mean_sentiment", &[-0.8f64, 0.7, 0.7, 0.0]),
            nums(
                "nps_mentioners",
                &[Some(-100.0f64), Some(100.0), Some(100.0), None],
            ),
            nums(
                "nps_impact",
                &[Some(-50.0f64), Some(50.0), Some(50.0), None],
            ),
            // 3 of 3 negative: Wilson 44–100 %, too wide to call a hotspot.
            nums(
                "negative_share_low",
                &[Some(0.44f64), Some(0.0), Some(0.0), Some(0.0)],
            ),
            nums(
                "negative_share_high",
                &[Some(1.0f64), Some(0.79), Some(0.79), Some(0.79)],
            ),
            nums("nps_impact_low", &[Some(-75.0f64), None, None, None]),
            nums("nps_impact_high", &[Some(-10.0f64), None, None, None]),
        ],
    );
    write(
        dir,
        "drivers.parquet",
        vec![
            strs("theme_id", &["wait_time", "billing_errors"]),
            nums("respondents", &[2u32, 1]),
            nums("share_of_respondents", &[0.67f64, 0.33]),
            nums("negative_share", &[0.67f64, 0.0]),
            nums("nps_mentioners", &[Some(0.0f64), Some(100.0)]),
            nums("nps_impact", &[Some(-8.5f64), Some(2.0)]),
            nums("nps_impact_low", &[Some(-12.25f64), None]),
            nums("nps_impact_high", &[Some(-4.0f64), None]),
            nums("significant", &[Some(true), None]),
            nums("low_base", &[false, true]),
            nums("detractor_lift", &[Some(1.5f64), Some(0.0)]),
            nums("rank", &[Some(1u32), None]),
        ],
    );
    write(
        dir,
        "quotes.parquet",
        vec![
            strs("theme_id", &["wait_time", "wait_time", "billing_errors"]),
            strs("stage", &["support", "support", "billing"]),
            nums("rank", &[1u32, 2, 1]),
            strs(
                "segment_id",
                &["data/survey.csv#2.3:1", "i.vtt:4", "data/survey.csv#3.3:1"],
            ),
            strs(
                "text",
                &[
                    quote_text,
                    "I waited on hold for an hour.",
                    "The bill was finally right.",
                ],
            ),
            strs("lang", &["en", "en", "en"]),
            strs("sentiment", &["negative", "negative", "positive"]),
            opt_strs("speaker", &[Some("r1"), Some("Anna"), Some("r2")]),
            strs("role", &["respondent", "participant", "respondent"]),
            strs(
                "source_file",
                &["data/survey.csv", "i.vtt", "data/survey.csv"],
            ),
            nums("source_row", &[Some(2u64), None, Some(3)]),
            nums("t_start", &[None, Some(783.7f64), None]),
            nums("score", &[Some(3.0f64), None, Some(10.0)]),
        ],
    );
}

pub(super) fn full_fixture(quote_text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ingest_tables(dir.path(), "done");
    evidence_tables(dir.path(), quote_text);
    dir
}

pub(super) fn render(dir: &Path, lang: UiLang) -> String {
    render_report(dir, &ReportOptions { lang, out: None }).unwrap()
}
