//! End to end with the real multilingual model: the sample data must give the evidence a
//! researcher would expect, not just tables that exist.

use super::*;

/// The real model's directory. The tests calling this are ignored (with the reason shown)
/// unless `PALAUTE_TEST_MODEL_DIR` was set when they were built; see build.rs.
pub fn real_model() -> Option<PathBuf> {
    std::env::var_os("PALAUTE_TEST_MODEL_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

fn run_with_model(model: &Path, out: &Path) -> palaute::RunSummary {
    run_configured(model, out, Config::default(), vec![repo().join("data")])
}

fn run_configured(
    model: &Path,
    out: &Path,
    mut cfg: Config,
    inputs: Vec<PathBuf>,
) -> palaute::RunSummary {
    cfg.classify.require_model = true;
    palaute::run(
        &cfg,
        &RunOptions {
            inputs,
            out: out.to_path_buf(),
            progress: Progress::hidden(),
            model_dir: Some(model.to_path_buf()),
            write_embeddings: true,
            append: false,
            shard: None,
        },
    )
    .unwrap_or_else(|e| panic!("run failed: {e}"))
}

fn list_strings(df: &DataFrame, col: &str) -> Vec<Vec<String>> {
    let ca = df.column(col).unwrap().list().unwrap().clone();
    (0..ca.len())
        .map(|i| {
            ca.get_as_series(i)
                .map(|s| {
                    s.str()
                        .unwrap()
                        .iter()
                        .flatten()
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

#[test]
#[cfg_attr(
    not(palaute_test_model),
    ignore = "needs the real model: set PALAUTE_TEST_MODEL_DIR (.ci/run does)"
)]
fn sample_evidence_with_the_real_model() {
    let model = real_model().expect("PALAUTE_TEST_MODEL_DIR: the real model's directory");
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let summary = run_with_model(&model, a.path());
    run_with_model(&model, b.path());
    for t in [
        "documents",
        "segments",
        "themes",
        "theme_stage",
        "drivers",
        "quotes",
        "trends",
        "embeddings",
    ] {
        let x = std::fs::read(a.path().join(format!("{t}.parquet"))).unwrap();
        let y = std::fs::read(b.path().join(format!("{t}.parquet"))).unwrap();
        assert!(x == y, "{t}.parquet differs between identical runs");
    }
    assert_rows_accounted(&summary, a.path());

    // The Finnish billing complaint: negative, billing errors, at the billing stage.
    let segs = read(a.path(), "segments");
    let texts = strings(&segs, "text");
    let themes = list_strings(&segs, "themes");
    let i = texts
        .iter()
        .position(|t| {
            t.as_deref()
                .is_some_and(|t| t.starts_with("Laskussani oli kahteen kertaan sama kuukausimaksu"))
        })
        .expect("billing complaint segment");
    assert_eq!(strings(&segs, "sentiment")[i].as_deref(), Some("negative"));
    assert!(
        themes[i].contains(&"billing_errors".to_string()),
        "{:?}",
        themes[i]
    );
    assert_eq!(strings(&segs, "stage")[i].as_deref(), Some("billing"));
    assert_eq!(
        strings(&segs, "root_cause_theme")[i].as_deref(),
        Some("billing_errors")
    );

    // Praise is positive in every language.
    for praise in ["Hyvä palvelu", "Great service"] {
        let j = texts
            .iter()
            .position(|t| t.as_deref() == Some(praise))
            .expect(praise);
        assert_eq!(
            strings(&segs, "sentiment")[j].as_deref(),
            Some("positive"),
            "{praise}"
        );
    }

    // billing_errors × billing is a complaint cell that costs NPS and has quotes. Interview
    // context sentences about invoices ("the invoice section says Laskut") are rightly
    // neutral, so the cell is not all negative; it is more negative than the data overall.
    let ts = read(a.path(), "theme_stage");
    let (tid, st) = (strings(&ts, "theme_id"), strings(&ts, "stage"));
    let k = (0..ts.height())
        .find(|k| {
            tid[*k].as_deref() == Some("billing_errors") && st[*k].as_deref() == Some("billing")
        })
        .expect("billing_errors × billing cell");
    let neg: f64 = strings(&ts, "negative_share")[k]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let sentiments = strings(&segs, "sentiment");
    let roles = strings(&segs, "role");
    let voiced: Vec<_> = (0..segs.height())
        .filter(|i| roles[*i].as_deref() != Some("interviewer"))
        .collect();
    let overall = voiced
        .iter()
        .filter(|i| sentiments[**i].as_deref() == Some("negative"))
        .count() as f64
        / voiced.len() as f64;
    assert!(
        neg >= 0.45 && neg > overall,
        "negative share {neg} (all segments: {overall})"
    );
    let impact: f64 = strings(&ts, "nps_impact")[k]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        impact < 0.0,
        "billing errors should pull NPS down, impact {impact}"
    );
    let quote_ids = list_strings(&ts, "quote_ids");
    assert!(!quote_ids[k].is_empty());

    // Every quote points at a real segment and carries provenance.
    let quotes = read(a.path(), "quotes");
    let seg_ids: std::collections::HashSet<_> = strings(&segs, "segment_id").into_iter().collect();
    for (id, src) in strings(&quotes, "segment_id")
        .into_iter()
        .zip(strings(&quotes, "source_file"))
    {
        assert!(seg_ids.contains(&id));
        assert!(src.is_some());
    }

    // Drivers are ranked; emergent themes (if any) carry keywords; run.json tells the story.
    let drivers = read(a.path(), "drivers");
    assert!(drivers.height() >= 5);
    // The sample's planted driver is significant after the Holm correction, its interval
    // excludes 0 and holds the estimate; the importances of the tested themes sum to R².
    let f = |c: &str| -> Vec<Option<f64>> {
        drivers.column(c).unwrap().f64().unwrap().iter().collect()
    };
    let ids = strings(&drivers, "theme_id");
    let sig: Vec<Option<bool>> = drivers
        .column("significant")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    let b = ids
        .iter()
        .position(|t| t.as_deref() == Some("billing_errors"))
        .unwrap();
    assert_eq!(sig[b], Some(true), "{drivers}");
    // The decoy (data/README.md): product_quality, planted in 6 detractors' answers — the
    // worst NPS among mentioners of most themes. The labels also find it in a few other
    // remarks, which bring it to the `min_respondents` base (10) with some label sets: below
    // it the theme is flagged low base and not ranked; at it, ranked by its impact, below the
    // planted driver and not significant — never first for its mentioners' NPS.
    let d = ids
        .iter()
        .position(|t| t.as_deref() == Some("product_quality"))
        .unwrap();
    let low: Vec<Option<bool>> = drivers
        .column("low_base")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    let rank: Vec<Option<u32>> = drivers
        .column("rank")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .collect();
    let scored: Vec<Option<u32>> = drivers
        .column("scored_respondents")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .collect();
    match rank[d] {
        None => assert_eq!((low[d], sig[d]), (Some(true), None), "{drivers}"),
        Some(r) => assert!(
            scored[d] >= Some(10) && sig[d] == Some(false) && rank[b].is_some_and(|rb| rb < r),
            "{drivers}"
        ),
    }
    // Whatever falls below the base is flagged and unranked (here at least sustainability).
    let below: Vec<usize> = (0..ids.len()).filter(|&i| scored[i] < Some(10)).collect();
    assert!(!below.is_empty(), "{drivers}");
    for i in below {
        assert_eq!(
            (low[i], rank[i], sig[i]),
            (Some(true), None, None),
            "{drivers}"
        );
    }
    // Ranked by its mentioners' NPS alone it would come before most ranked themes. (Not
    // necessarily first: the labels also find product quality in a few passives' "it works,
    // but …" remarks, which the planted complaints do not control.)
    let nps_m = f("nps_mentioners");
    let ranked: Vec<f64> = (0..ids.len())
        .filter(|&i| rank[i].is_some())
        .filter_map(|i| nps_m[i])
        .collect();
    let better = ranked.iter().filter(|v| Some(**v) > nps_m[d]).count();
    assert!(2 * better > ranked.len(), "{drivers}");
    assert!(rank[b].is_some_and(|r| r <= 3), "{drivers}");
    let (imp, lo, hi) = (f("nps_impact"), f("nps_impact_low"), f("nps_impact_high"));
    assert!(hi[b].unwrap() < 0.0, "{drivers}");
    for i in 0..drivers.height() {
        let (v, l, h) = (imp[i].unwrap(), lo[i].unwrap(), hi[i].unwrap());
        assert!(l <= v + 0.01 && v <= h + 0.01, "row {i}: {l} {v} {h}");
    }
    let ri: f64 = f("relative_importance").iter().flatten().sum();
    let r2 = f("r2")[0].unwrap();
    assert!(r2 > 0.0 && (ri - r2).abs() < 0.01, "{ri} vs {r2}");
    let th = read(a.path(), "themes");
    let origins = strings(&th, "origin");
    let kws = list_strings(&th, "keywords");
    for (o, k) in origins.iter().zip(&kws) {
        if o.as_deref() == Some("emergent") {
            assert!(!k.is_empty());
        }
    }
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.path().join("run.json")).unwrap()).unwrap();
    assert_eq!(run["classification"]["status"], "done");
    assert!(run["classification"]["models"][0]["files"]
        .as_array()
        .is_some_and(|f| !f.is_empty()));
    assert!(run["classification"]["unexplained_negative_share"]
        .as_f64()
        .is_some());
}

#[test]
#[cfg_attr(
    not(palaute_test_model),
    ignore = "needs the real model: set PALAUTE_TEST_MODEL_DIR (.ci/run does)"
)]
fn names_only_codebook_is_classified_zero_shot() {
    let model = real_model().expect("PALAUTE_TEST_MODEL_DIR: the real model's directory");
    let out = tempfile::tempdir().unwrap();
    let mut cfg = Config::default();
    cfg.classify.codebook = repo()
        .join("tests/fixtures/codebooks/names_only.toml")
        .display()
        .to_string();
    let inputs = ["fi_nps_qualtrics.csv", "en_nps_surveymonkey.csv"]
        .map(|f| repo().join("data").join(f))
        .to_vec();
    run_configured(&model, out.path(), cfg, inputs);
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("run.json")).unwrap()).unwrap();
    assert_eq!(
        run["classification"]["zero_shot"],
        serde_json::json!(["themes"])
    );

    let segs = read(out.path(), "segments");
    let texts = strings(&segs, "text");
    let themes = list_strings(&segs, "themes");
    let theme_of = |start: &str| {
        let i = texts
            .iter()
            .position(|t| t.as_deref().is_some_and(|t| t.starts_with(start)))
            .unwrap_or_else(|| panic!("no segment starting {start:?}"));
        themes[i].clone()
    };
    // One theme per segment, from the names codebook.
    assert_eq!(
        theme_of("Laskussani oli kahteen kertaan sama kuukausimaksu"),
        ["billing"]
    );
    assert_eq!(
        theme_of("Jonotin asiakaspalveluun 47 minuuttia"),
        ["customer_service"]
    );
    let known = [
        "billing",
        "delivery",
        "customer_service",
        "price",
        "app",
        "other",
    ];
    assert!(themes
        .iter()
        .all(|t| t.len() == 1 && known.contains(&t[0].as_str())));
    let drivers = strings(&read(out.path(), "drivers"), "theme_id");
    assert!(drivers.iter().any(|t| t.as_deref() == Some("billing")));
}

/// One evaluation set's three language files, e.g. `eval/heldout/context_{l}.csv`.
fn per_language(pattern: &str) -> Vec<PathBuf> {
    ["fi", "sv", "en"]
        .map(|l| repo().join(pattern.replace("{l}", l)))
        .to_vec()
}

/// The figure a task is judged by: macro-F1 for sentiment (its classes are unbalanced),
/// accuracy for themes and stages. `(accuracy, macro_f1)` of a whole set or one language.
fn headline(task: palaute::eval::EvalTask, accuracy: f64, macro_f1: f64) -> f64 {
    if task == palaute::eval::EvalTask::Sentiment {
        macro_f1
    } else {
        accuracy
    }
}

/// The labels must not quietly get worse: the held-out sets (eval/heldout, written apart from
/// the training data) scored with the default heads, each task a little below its figure in
/// README ("Held-out sets"), so a change to the training data, the features or the heads that
/// costs accuracy fails here rather than in a researcher's tables.
#[test]
#[cfg_attr(
    not(palaute_test_model),
    ignore = "needs the real model: set PALAUTE_TEST_MODEL_DIR (.ci/run does)"
)]
fn heldout_labels_do_not_regress() {
    use palaute::eval::EvalTask;
    use palaute::model::{EncoderConfig, TextEncoder, TransformerEncoder};
    let model = real_model().expect("PALAUTE_TEST_MODEL_DIR: the real model's directory");
    let mut encoder = TransformerEncoder::load(&model, &EncoderConfig::default()).unwrap();
    let files = per_language("eval/heldout/{l}.csv");
    let cfg = Config::default();
    // The encoder as a run uses it: its top layers adapted to the shipped examples.
    let adapted = palaute::classify::adapt::adapt_encoder(
        &cfg.classify,
        &mut encoder,
        palaute::progress::Progress::hidden(),
    )
    .unwrap();
    assert!(adapted.is_some() && encoder.info().adapted.is_some());
    // (task, least overall score, least score of the weakest language); macro-F1 for
    // sentiment, accuracy for themes and stages.
    // Measured with the adapted encoder and the per-task L2 penalties (2026-12-06, three
    // adaptation seeds): sentiment 0.714 (weakest language 0.699), themes 0.861–0.873
    // (fi 0.762–0.786; 0.841–0.849 with the head for sentences of longer answers, which must
    // not label whole ones), stages 0.829–0.837 (weakest 0.821–0.833); with the heads' former
    // penalty 0.714, 0.813–0.829, 0.778–0.794; before adaptation 0.659, 0.817, 0.738. The
    // floors sit below that spread: the adaptation's batch order alone moved stage accuracy
    // by ±0.04 with the former penalty, and another CPU's matrix products change the adapted
    // layers as a seed does (README, Evaluation). The last figure is the most the calibration
    // error (ECE) may be: the probability written beside a label must mean what it says
    // (measured 0.095, 0.085, 0.035; stages were at 0.209 with the former penalty).
    for (task, overall, weakest, ece) in [
        (EvalTask::Sentiment, 0.68, 0.66, 0.14),
        (EvalTask::Themes, 0.83, 0.72, 0.13),
        (EvalTask::Stages, 0.79, 0.75, 0.10),
    ] {
        let r = palaute::eval::run(&cfg, &files, task, None, &encoder).unwrap();
        let all = headline(task, r.accuracy, r.macro_f1);
        assert_eq!(r.rows, 252, "{task:?}");
        assert!(all >= overall, "{task:?}: {all:.3} < {overall}\n{r}");
        let c = r.calibration.expect("a trained head states probabilities");
        assert!(
            c.ece <= ece,
            "{task:?}: calibration error {:.3} > {ece}\n{r}",
            c.ece
        );
        for lang in ["fi", "sv", "en"] {
            let (_, acc, f1) = r.per_lang[lang];
            let v = headline(task, acc, f1);
            assert!(v >= weakest, "{task:?} {lang}: {v:.3} < {weakest}\n{r}");
        }
    }
    // The confirmation set (eval/confirm, written after the method was chosen; nothing is
    // chosen on it): measured sentiment macro-F1 0.631–0.634, themes 0.789–0.804, stages
    // 0.778–0.785 (three seeds; with the former theme and stage penalty 0.774–0.785 and
    // 0.756–0.785).
    let confirm = per_language("eval/confirm/{l}.csv");
    for (task, least) in [
        (EvalTask::Sentiment, 0.59),
        (EvalTask::Themes, 0.76),
        (EvalTask::Stages, 0.74),
    ] {
        let r = palaute::eval::run(&cfg, &confirm, task, None, &encoder).unwrap();
        assert_eq!(r.rows, 270, "{task:?}");
        assert_eq!(r.per_register.len(), 6, "{task:?}");
        let v = headline(task, r.accuracy, r.macro_f1);
        assert!(v >= least, "{task:?}: {v:.3} < {least}\n{r}");
    }
    // The same in context: sentences of whole survey answers and interview excerpts
    // (eval/heldout/context_*.csv), labelled by the call a run makes. Measured (three seeds):
    // sentiment macro-F1 0.712–0.713, themes 0.714–0.720 with sentences of longer answers
    // labelled by their own head (0.669–0.684 by the whole-text head), stages 0.690–0.699 with the stage
    // pooled with its context (weakest language 0.627–0.636; 0.568–0.571 with nothing
    // inherited); with the hand-set context weights 0.75 stages 0.663–0.669, 0.5: 0.629–0.638;
    // with the heads' former penalty 0.712–0.713, 0.663–0.681, 0.599–0.620; before
    // adaptation 0.696, 0.657, 0.559.
    let context = per_language("eval/heldout/context_{l}.csv");
    let score = |cfg: &Config, files: &[PathBuf], task: EvalTask, rows: usize| {
        let r = palaute::eval::run(cfg, files, task, None, &encoder).unwrap();
        assert_eq!(r.rows, rows, "{task:?}");
        r
    };
    let sentiment = score(&cfg, &context, EvalTask::Sentiment, 329);
    assert!(sentiment.macro_f1 >= 0.67, "{sentiment}");
    let themes = score(&cfg, &context, EvalTask::Themes, 329);
    assert!(themes.accuracy >= 0.69, "{themes}");
    let stages = score(&cfg, &context, EvalTask::Stages, 329);
    assert!(stages.accuracy >= 0.63, "{stages}");
    for lang in ["fi", "sv", "en"] {
        assert!(stages.per_lang[lang].1 >= 0.57, "{lang}\n{stages}");
    }
    // The stage pooled with its context as fitted on the shipped documents states what it is
    // worth: calibration error 0.05–0.07 here and 0.053–0.068 on the confirmation documents,
    // where the hand-set mix had 0.11–0.12 and 0.13–0.15 (README "In context").
    let stage_ece = |r: &palaute::eval::EvalReport| r.calibration.as_ref().map(|c| c.ece);
    assert!(stage_ece(&stages).is_some_and(|e| e <= 0.08), "{stages}");
    // And the confirmation set's documents (eval/confirm/context_*.csv, read only after the
    // context weights and the pooling were chosen on the held-out ones): measured sentiment
    // macro-F1 0.612–0.620, themes 0.634–0.650 (0.608–0.621 by the whole-text theme head),
    // stages 0.561–0.566 pooled (0.555–0.563 with
    // the weights 0.75, 0.542–0.545 with 0.5, 0.513 with nothing inherited).
    let confirm_context = per_language("eval/confirm/context_{l}.csv");
    for (task, least) in [
        (EvalTask::Sentiment, 0.58),
        (EvalTask::Themes, 0.60),
        (EvalTask::Stages, 0.52),
    ] {
        let r = score(&cfg, &confirm_context, task, 380);
        let v = headline(task, r.accuracy, r.macro_f1);
        assert!(v >= least, "{task:?}: {v:.3} < {least}\n{r}");
        if task == EvalTask::Stages {
            assert!(stage_ece(&r).is_some_and(|e| e <= 0.08), "{r}");
        }
    }
    // Whole answers and sentences of longer answers have a theme head each (run.json `heads`).
    let classifier = palaute::classify::Classifier::prepare(&cfg.classify, &encoder, None).unwrap();
    let heads: Vec<&str> = classifier.heads().iter().map(|h| h.task.as_str()).collect();
    assert!(
        heads.contains(&"themes") && heads.contains(&"themes-sentences"),
        "{heads:?}"
    );
    let mut alone = cfg.clone();
    alone.classify.stage_context = palaute::classify::StageContext::Mixed;
    alone.classify.question_weight = 0.0;
    alone.classify.context_weight = 0.0;
    let alone = score(&alone, &context, EvalTask::Stages, 329);
    assert!(
        stages.accuracy >= alone.accuracy + 0.06,
        "context should help stages: {:.3} vs {:.3} alone",
        stages.accuracy,
        alone.accuracy
    );
}
