//! The report from tiny synthetic tables written with polars in a temporary folder.

use std::path::Path;

mod fixture;

use super::*;
use crate::analyze::list_col;
use crate::output::folder::FolderError;
use fixture::*;

#[test]
fn heatmap_cells_follow_the_tables_in_journey_order() {
    let dir = full_fixture("Support kept me waiting.");
    let html = render(dir.path(), UiLang::En);
    assert_eq!(
        html.matches("<td class=\"cell\"").count(),
        4,
        "one per non-empty cell"
    );
    assert!(html.contains(
        "data-theme=\"wait_time\" data-stage=\"support\" data-segments=\"3\" data-negative-share=\"1\""
    ));
    // An all-negative cell of 3 segments: its Wilson interval (44–100 %) is too wide to call,
    // so it is marked in the darkest red rather than filled, and the popover gives the
    // intervals.
    assert!(html.contains("data-segments=\"3\" data-negative-share=\"1\" data-few title="));
    assert!(html.contains("<i class=\"mark\" style=\"background-color:#67000d\"></i>"));
    assert!(html.contains("−50.0 (−75.0…−10.0)") || html.contains("-50.0 (-75.0…-10.0)"));
    // A single-segment cell is marked as uncertain rather than shown as a hotspot.
    assert!(html.contains("data-segments=\"1\" data-negative-share=\"0\" data-few title="));
    assert!(html.contains("<i class=\"mark\" style=\"background-color:#fff5f0\"></i><b>1</b>"));
    // Columns are the b2c journey in order, labelled in the UI language.
    let pos = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(pos(">Awareness<") < pos(">Onboarding<") && pos(">Onboarding<") < pos(">Support<"));
    assert!(pos(">Support<") < pos(">Billing<"));
    // Rows: codebook themes, `other` last; unmentioned themes are listed, not drawn.
    assert!(pos("<a href=\"#theme-0\">Wait time</a>") < pos("<a href=\"#theme-3\">Other</a>"));
    assert!(html.contains("Not mentioned: Privacy"));
    // Popover data: the cell's stats and quotes, and the drivers sorted by rank.
    assert!(html.contains("\"title\":\"Wait time × Support\""));
    assert!(pos("data-rank=\"1\"") < pos("data-rank=\"–\""));
    // The first driver's interval as a whisker and in words; the unranked one greyed, why said.
    let i = html
        .find("data-theme=\"wait_time\" data-rank=\"1\"")
        .unwrap();
    assert!(
        html[i..].contains("(−12.2…−4.0)") || html[i..].contains("(-12.2…-4.0)"),
        "interval: {}",
        &html[i..i + 900]
    );
    assert!(html.contains("<g class=\"ci\">"));
    assert!(
        html.contains("class=\"ns\" data-significant=\"false\"") && html.contains("too few scores")
    );
    // Provenance: file and row for surveys, time and speaker for interviews.
    assert!(html.contains("data/survey.csv · row 2 · r1 (respondent) · score 3 · negative"));
    assert!(html.contains("i.vtt · 13:03 · Anna (participant) · negative"));
    // Sentiment split over customer segments (the interviewer's line is not counted).
    assert!(html.contains("negative 2 (67%), neutral 0 (0%), positive 1 (33%)"));
    // Run facts and rejects: short hash, masked reason, whole-file reject.
    assert!(html.contains(">abababababab</code>"));
    assert!(html.contains(
        "non-numeric score \"…\" in column \"…\""
            .replace('"', "&quot;")
            .as_str()
    ));
    assert!(html.contains("data/bad.bin:whole file"));
    assert!(html.contains("intfloat/multilingual-e5-small"));
    // trends.parquet is optional: its absence is noted, not an error.
    assert!(html.contains("Tables not in this folder: trends.parquet"));
    assert!(html.contains("at most 5 quotes per cell, 5 per theme and 400 in all"));
    // Nothing is fetched from anywhere.
    for needle in ["http://", "https://", "src=\"//", "@import", "url("] {
        assert!(!html.contains(needle), "{needle} found");
    }
}

#[test]
fn hostile_text_is_escaped_in_html_and_json() {
    let dir = full_fixture(HOSTILE);
    let html = render(dir.path(), UiLang::En);
    // Only the two real script elements close.
    assert_eq!(html.matches("</script").count(), 2);
    assert_eq!(html.matches("<script").count(), 2);
    assert!(!html.contains("<b>bold</b>") && !html.contains("<!--"));
    assert!(html.contains(
        "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &lt;b&gt;bold&lt;/b&gt;\nline two &lt;!--"
    ));
    assert!(html.contains("r3 | kymmenen | &lt;i&gt;x&lt;/i&gt;"));
    // The JSON block parses back to the original text.
    let start = html.find("id=\"palaute-data\">").unwrap() + "id=\"palaute-data\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
    let texts: Vec<&str> = data["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["t"].as_str())
        .collect();
    assert!(texts.contains(&HOSTILE), "{texts:?}");
}

#[test]
fn same_tables_give_a_byte_identical_report_written_atomically() {
    let dir = full_fixture("Support kept me waiting.");
    seal(dir.path());
    let opts = ReportOptions::default();
    let path = write_report(dir.path(), &opts).unwrap();
    assert_eq!(path, dir.path().join("report.html"));
    let first = std::fs::read(&path).unwrap();
    write_report(dir.path(), &opts).unwrap();
    assert_eq!(first, std::fs::read(&path).unwrap());
    assert_eq!(first, render(dir.path(), UiLang::En).into_bytes());
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(leftovers, 0);
    let elsewhere = dir.path().join("sub/r.html");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let written = write_report(
        dir.path(),
        &ReportOptions {
            out: Some(elsewhere.clone()),
            ..ReportOptions::default()
        },
    )
    .unwrap();
    assert_eq!(written, elsewhere);
    assert_eq!(std::fs::read(&elsewhere).unwrap(), first);
}

#[test]
fn a_run_without_classification_reports_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    ingest_tables(dir.path(), "skipped");
    // Stale evidence from an earlier run in the same folder must not be presented as this run's.
    evidence_tables(dir.path(), "stale quote");
    std::fs::remove_file(dir.path().join("segments.parquet")).unwrap();
    let html = render(dir.path(), UiLang::En);
    assert!(html.contains("data-no-classification"));
    assert!(html.contains("no encoder found in ~/.cache/palaute/models"));
    assert!(html.contains("data-heatmap-empty") && html.contains("data-drivers-empty"));
    assert!(!html.contains("stale quote") && !html.contains("<td class=\"cell\""));
    assert!(html.contains("data-rejects=\"2\""));
    assert!(html.contains("Reading") && html.contains("2.80\u{a0}s"));
}

#[test]
fn classified_run_with_missing_optional_tables_still_renders() {
    let dir = full_fixture("x");
    for t in ["theme_stage", "drivers", "quotes", "trends"] {
        let _ = std::fs::remove_file(dir.path().join(format!("{t}.parquet")));
    }
    let html = render(dir.path(), UiLang::En);
    assert!(html.contains("data-heatmap-empty") && html.contains("data-drivers-empty"));
    assert!(html.contains("theme_stage.parquet, drivers.parquet, quotes.parquet, trends.parquet"));
    assert!(html.contains("id=\"theme-0\" data-theme=\"wait_time\""));
}

#[test]
fn missing_or_corrupt_required_files_are_typed_errors_naming_the_file() {
    let opts = ReportOptions::default();
    let dir = full_fixture("x");
    std::fs::remove_file(dir.path().join("rejects.parquet")).unwrap();
    match render_report(dir.path(), &opts) {
        Err(ReportError::Missing { path }) => assert!(path.ends_with("rejects.parquet")),
        other => panic!("{other:?}"),
    }
    let dir = full_fixture("x");
    std::fs::write(dir.path().join("documents.parquet"), b"not parquet").unwrap();
    let err = render_report(dir.path(), &opts).unwrap_err();
    assert!(matches!(&err, ReportError::Read { path, .. } if path.ends_with("documents.parquet")));
    assert!(err.to_string().contains("documents.parquet"), "{err}");
    let dir = full_fixture("x");
    std::fs::write(dir.path().join("run.json"), b"{ truncated").unwrap();
    let err = render_report(dir.path(), &opts).unwrap_err();
    assert!(err.to_string().contains("run.json"), "{err}");
    // A corrupt optional table is reported too rather than silently left out.
    let dir = full_fixture("x");
    std::fs::write(dir.path().join("drivers.parquet"), b"PAR1 garbage").unwrap();
    let err = render_report(dir.path(), &opts).unwrap_err();
    assert!(err.to_string().contains("drivers.parquet"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = write_report(empty.path(), &opts).unwrap_err();
    assert!(
        matches!(&err, ReportError::Folder(FolderError::NoManifest(_))),
        "{err}"
    );
    assert!(!empty.path().join("report.html").exists());
    // A table changed after the run: `palaute report` refuses the folder.
    let dir = full_fixture("x");
    seal(dir.path());
    std::fs::write(dir.path().join("quotes.parquet"), b"PAR1 other run").unwrap();
    let err = write_report(dir.path(), &opts).unwrap_err().to_string();
    assert!(
        err.contains("quotes.parquet") && err.contains("rerun"),
        "{err}"
    );
}

/// Lists every file of a hand-made folder in a manifest, as a run's commit would.
fn seal(dir: &Path) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    crate::output::folder::seal(dir, &names).unwrap();
}

#[test]
fn ui_language_switches_strings_and_labels() {
    let dir = full_fixture("x");
    let fi = render(dir.path(), UiLang::Fi);
    assert!(fi.contains("<html lang=\"fi\">"));
    assert!(fi.contains("Juurisyyt asiakaspolun vaiheittain"));
    assert!(fi.contains(">Odotusaika</a>") && fi.contains(">Asiakastuki<"));
    assert!(
        fi.contains("\u{2212}8,5"),
        "Finnish minus sign and decimal comma"
    );
    assert!(fi.contains("rivi 2"));
    let sv = render(dir.path(), UiLang::Sv);
    assert!(sv.contains("<html lang=\"sv\">") && sv.contains(">Väntetid</a>"));
    assert!(sv.contains(">Kundsupport<") && sv.contains("Om körningen"));
    let en = render(dir.path(), UiLang::En);
    assert!(!en.contains("Odotusaika") && en.contains(">Wait time</a>"));
}

#[test]
fn quotes_are_capped_per_cell_per_theme_and_in_total() {
    let dir = tempfile::tempdir().unwrap();
    ingest_tables(dir.path(), "done");
    // 100 themes × 1 stage × 8 quotes: more than every cap allows.
    let themes: Vec<String> = (0..100).map(|i| format!("emergent_{i:03}")).collect();
    let n = themes.len();
    let per = 8;
    let tid: Vec<&str> = themes.iter().map(String::as_str).collect();
    write(
        dir.path(),
        "themes.parquet",
        vec![
            strs("theme_id", &tid),
            strs("origin", &vec!["emergent"; n]),
            strs("label", &tid),
            opt_strs("label_fi", &vec![None; n]),
            opt_strs("label_sv", &vec![None; n]),
            strs("label_en", &tid),
            opt_strs("description", &vec![None; n]),
            list_col(
                "keywords",
                &vec![vec!["jono".to_string(), "odotus".to_string()]; n],
            ),
            nums("segments", &vec![per as u32; n]),
            nums("documents", &vec![per as u32; n]),
            nums("respondents", &vec![per as u32; n]),
            nums("negative_share", &vec![Some(0.5f64); n]),
            nums("root_cause_segments", &vec![0u32; n]),
            opt_strs("representative_segment_id", &vec![None; n]),
        ],
    );
    write(
        dir.path(),
        "theme_stage.parquet",
        vec![
            strs("theme_id", &tid),
            strs("stage", &vec!["support"; n]),
            nums("segments", &vec![per as u32; n]),
            nums("root_cause_segments", &vec![0u32; n]),
            nums("documents", &vec![per as u32; n]),
            nums("respondents", &vec![per as u32; n]),
            nums("negative_share", &vec![0.5f64; n]),
            nums("mean_sentiment", &vec![0.0f64; n]),
            nums("nps_mentioners", &vec![None::<f64>; n]),
            nums("nps_impact", &vec![None::<f64>; n]),
            nums("negative_share_low", &vec![Some(0.3f64); n]),
            nums("negative_share_high", &vec![Some(0.7f64); n]),
            nums("nps_impact_low", &vec![None::<f64>; n]),
            nums("nps_impact_high", &vec![None::<f64>; n]),
        ],
    );
    let rows: Vec<(String, u32, String)> = themes
        .iter()
        .flat_map(|t| (1..=per as u32).map(move |r| (t.clone(), r, format!("{t}:{r}"))))
        .collect();
    let texts: Vec<String> = rows
        .iter()
        .map(|(t, r, _)| format!("{t} quote {r} {}", "long ".repeat(200)))
        .collect();
    let m = rows.len();
    write(
        dir.path(),
        "quotes.parquet",
        vec![
            strs(
                "theme_id",
                &rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
            ),
            strs("stage", &vec!["support"; m]),
            nums("rank", &rows.iter().map(|r| r.1).collect::<Vec<_>>()),
            strs(
                "segment_id",
                &rows.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(),
            ),
            strs(
                "text",
                &texts.iter().map(String::as_str).collect::<Vec<_>>(),
            ),
            strs("lang", &vec!["fi"; m]),
            strs("sentiment", &vec!["negative"; m]),
            opt_strs("speaker", &vec![None; m]),
            strs("role", &vec!["respondent"; m]),
            strs("source_file", &vec!["big.csv"; m]),
            nums("source_row", &vec![Some(1u64); m]),
            nums("t_start", &vec![None::<f64>; m]),
            nums("score", &vec![None::<f64>; m]),
        ],
    );
    let data = data::load(dir.path(), UiLang::En).unwrap();
    assert_eq!(data.quotes.len(), MAX_QUOTES_TOTAL);
    // 100 cells × 5 quotes offered (the cell cap already cut 8 to 5); 400 fit.
    assert_eq!(data.quotes_dropped, 100);
    assert!(data
        .cells
        .iter()
        .all(|c| c.quotes.len() <= MAX_QUOTES_PER_CELL));
    assert!(data
        .themes
        .iter()
        .all(|t| t.quotes.len() <= MAX_QUOTES_PER_THEME));
    // The cap thins evenly: every theme keeps its four best quotes, best first.
    assert!(data.themes.iter().all(
        |t| t.quotes.len() == 4 && data.quotes[t.quotes[0]].segment_id == format!("{}:1", t.id)
    ));
    assert!(data
        .quotes
        .iter()
        .all(|q| q.text.chars().count() <= MAX_QUOTE_CHARS + 1));
    let html = html::render(&data, UiLang::En);
    assert!(html.contains("jono"), "emergent keywords are shown");
    // 800 quotes of ~1,000 characters offered (and 100 theme cards); the caps keep the page
    // well under a megabyte whatever the input size.
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
}

#[test]
fn what_changed_lists_the_significant_comparisons_only_when_there_are_any() {
    let dir = full_fixture("x");
    let html = render(dir.path(), UiLang::En);
    assert!(
        !html.contains("id=\"changes\""),
        "no comparisons table, no section"
    );
    assert!(!html.contains("href=\"#changes\""), "and no link to it");
    write(
        dir.path(),
        "comparisons.parquet",
        vec![
            strs("dimension", &["meta_region", "meta_region", "period"]),
            strs("group", &["north", "south", "2025-02"]),
            strs("baseline", &["rest", "rest", "2025-01"]),
            strs("theme_id", &["wait_time", "wait_time", "billing_errors"]),
            nums("share", &[0.75f64, 0.1, 0.3]),
            nums("baseline_share", &[0.16f64, 0.4, 0.1]),
            nums("share_diff", &[0.59f64, -0.3, 0.2]),
            nums("share_diff_low", &[Some(0.4f64), Some(-0.5), Some(0.05)]),
            nums("share_diff_high", &[Some(0.73f64), Some(-0.1), Some(0.35)]),
            nums("significant", &[Some(true), Some(false), Some(true)]),
            nums("nps_impact", &[Some(-20.0f64), None, Some(-3.5)]),
            nums("negative_share", &[Some(0.9f64), Some(0.5), None]),
            nums("baseline_negative_share", &[Some(0.6f64), Some(0.5), None]),
            nums("negative_share_diff_low", &[Some(0.1f64), None, None]),
            nums("negative_share_diff_high", &[Some(0.45f64), None, None]),
        ],
    );
    let html = render(dir.path(), UiLang::En);
    assert!(html.contains("<h2 id=\"h-changes\">What changed</h2>"));
    assert!(
        html.contains("<a href=\"#changes\">What changed</a>"),
        "nav link"
    );
    let north = html.find("data-group=\"north\"").expect("north row");
    let feb = html.find("data-group=\"2025-02\"").expect("period row");
    assert!(north < feb, "largest difference first");
    assert!(
        !html.contains("data-group=\"south\""),
        "not significant: not listed"
    );
    assert!(html[north..].contains("region: north") && html[north..].contains("vs rest"));
    assert!(
        html[north..].contains("+59 (+40…+73)"),
        "{}",
        &html[north..north + 600]
    );
    assert!(
        html[north..feb].contains("60% → 90% (+10…+45)"),
        "negative share, baseline → group, with the interval: {}",
        &html[north..feb]
    );
    let fi = render(dir.path(), UiLang::Fi);
    assert!(fi.contains("Mikä muuttui"));
}
