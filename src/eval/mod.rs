//! `palaute eval`: accuracy and macro-F1 of sentiment, themes or stages against a labelled
//! CSV (`id,text,lang,label[,register]`), per language (and register) too, and for parallel files (ids
//! `<name>-<n>-<lang>`) the share of sentences that get the same label in every language.
//! Files with a `doc_id` column are whole documents, scored in context (`context.rs`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod context;
mod cv;
mod report;
pub use cv::cross_validate;
use report::report;
pub use report::{agreement, score, EvalReport, LabelScore, Prediction};

use crate::classify::codebook::OTHER;
use crate::classify::codebook::{Codebook, CodebookKind};
use crate::classify::head::Inputs;
use crate::classify::prototype::Prototypes;
use crate::classify::training::{self, normalise_sentiment_label, NO_STAGE, SENTIMENT_LABELS};
use crate::classify::{Classifier, ClassifyError};
use crate::error::Error;
use crate::model::{TextEncoder, TransformerEncoder};

/// The classification tasks (kept in `record`: classify trains heads per task too).
pub use crate::record::Task as EvalTask;

/// Sentiment classes present in a file's gold labels: files without a neutral class (XED-sv)
/// are scored over the classes they have; a file with none (themes scored with the default
/// `--task sentiment`) is an error, not an empty comparison.
fn sentiment_classes(gold: &BTreeSet<&str>, path: &Path) -> Result<Vec<usize>, ClassifyError> {
    let allowed: Vec<usize> = (0..3)
        .filter(|j| gold.contains(SENTIMENT_LABELS[*j]))
        .collect();
    if allowed.is_empty() {
        return Err(Error::Config {
            path: path.to_path_buf(),
            message: format!(
                "no negative/neutral/positive labels (found {}); is --task right?",
                gold.iter().take(5).copied().collect::<Vec<_>>().join(", ")
            ),
        }
        .into());
    }
    Ok(allowed)
}

/// What the report calls the sentiment method: a file whose labels leave out a class (`xed_sv`
/// has no neutral) is scored by choosing only among the classes it uses, which the report
/// says — a file of only negative rows would otherwise read as a perfect score.
fn sentiment_method(allowed: &[usize]) -> String {
    match allowed.len() {
        3 => "sentiment head".into(),
        _ => {
            let names: Vec<&str> = allowed.iter().map(|j| SENTIMENT_LABELS[*j]).collect();
            format!(
                "sentiment head, choosing only among {}: the classes this file's labels use",
                names.join(" and ")
            )
        }
    }
}

/// `palaute eval`: scores `labels` for `task` with what the configuration sets up — the
/// configured sentiment model or head for sentiment; the heads, or zero-shot against
/// `codebook` (a built-in name or a TOML path), for themes and stages.
pub fn run(
    config: &crate::Config,
    labels: &[PathBuf],
    task: EvalTask,
    codebook: Option<&str>,
    encoder: &TransformerEncoder,
) -> Result<EvalReport, ClassifyError> {
    let zero_shot = match (codebook, task) {
        (None, _) => None,
        (Some(_), EvalTask::Sentiment) => {
            return Err(Error::Config {
                path: labels.first().cloned().unwrap_or_default(),
                message: "--codebook applies to --task themes or stages, not sentiment".into(),
            }
            .into())
        }
        (Some(cb), EvalTask::Themes) => Some(Codebook::resolve(cb, CodebookKind::Theme)?),
        (Some(cb), EvalTask::Stages) => Some(Codebook::resolve(cb, CodebookKind::Stage)?),
    };
    // A second transformer only when sentiment is what is being scored.
    let sentiment_model = match task {
        EvalTask::Sentiment => config.models.load_sentiment()?,
        _ => None,
    };
    let classifier = Classifier::prepare(&config.classify, encoder, sentiment_model)?;
    evaluate(labels, task, &classifier, encoder, zero_shot.as_ref())
}

/// Scores the rows of `paths` together (e.g. one file per language), so the report has
/// overall and per-language figures and the parity gap. Themes/stages whose gold labels are
/// not ids of the classifier's codebook are scored zero-shot: against the prototypes of
/// `zero_shot` (a codebook whose ids are the gold labels, with names in several languages)
/// when given, else against the file's own label names (e.g. SIB-200 topics).
pub fn evaluate(
    paths: &[PathBuf],
    task: EvalTask,
    classifier: &Classifier,
    encoder: &dyn TextEncoder,
    zero_shot: Option<&Codebook>,
) -> Result<EvalReport, ClassifyError> {
    let in_context = paths
        .iter()
        .map(|p| context::is_context_file(p))
        .collect::<Result<Vec<bool>, Error>>()?;
    if in_context.iter().any(|c| *c) {
        if let Some(i) = in_context.iter().position(|c| !c) {
            return Err(Error::Config {
                path: paths[i].clone(),
                message: "cannot be scored together with context files (doc_id column): \
                          evaluate them separately"
                    .into(),
            }
            .into());
        }
        return context::evaluate(paths, task, classifier, encoder);
    }
    let mut rows = Vec::new();
    for file in paths {
        rows.extend(training::read_task_file(file, task.column())?);
    }
    // Errors about the set as a whole name its first file.
    let path = paths.first().map_or(Path::new(""), |p| p.as_path());
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let emb = encoder.embed(&texts, crate::classify::FEATURES)?;
    let row_langs: Vec<&str> = rows.iter().map(|r| r.lang.as_str()).collect();
    let inputs = Inputs {
        emb: &emb,
        texts: &texts,
        langs: &row_langs,
    };
    let gold: Vec<String> = rows
        .iter()
        .map(|r| {
            let l = r.labels.first().map(String::as_str).unwrap_or_default();
            match task {
                EvalTask::Sentiment => normalise_sentiment_label(l).unwrap_or(l).to_string(),
                _ => l.to_string(),
            }
        })
        .collect();
    let gold_set: BTreeSet<&str> = gold.iter().map(String::as_str).collect();
    // The stated probability of each predicted label, where a trained head states one.
    let (method, pred, confidence): (String, Vec<String>, Option<Vec<f32>>) = match task {
        EvalTask::Sentiment => {
            let allowed = sentiment_classes(&gold_set, path)?;
            let probs = classifier.sentiment_probs(&inputs)?;
            let (pred, conf) = probs
                .iter()
                .map(|p| {
                    let j =
                        allowed
                            .iter()
                            .copied()
                            .fold(allowed[0], |b, j| if p[j] > p[b] { j } else { b });
                    (SENTIMENT_LABELS[j].to_string(), p[j])
                })
                .unzip();
            (sentiment_method(&allowed), pred, Some(conf))
        }
        EvalTask::Themes | EvalTask::Stages => {
            let known: Vec<String> = if task == EvalTask::Themes {
                classifier.theme_ids().to_vec()
            } else {
                classifier.stage_ids().to_vec()
            };
            if zero_shot.is_none()
                && gold_set
                    .iter()
                    .all(|g| known.iter().any(|k| k == g) || *g == OTHER || *g == NO_STAGE)
            {
                let probs = if task == EvalTask::Themes {
                    classifier.theme_probs(&inputs)
                } else {
                    classifier.stage_probs(&inputs)
                };
                let (pred, conf) = probs
                    .iter()
                    .map(|p| {
                        if task == EvalTask::Themes {
                            let (themes, scores) = classifier.assign_themes(p);
                            (themes[0].clone(), scores[0])
                        } else {
                            let (stage, score) = classifier.assign_stage(p);
                            (stage.unwrap_or_else(|| NO_STAGE.to_string()), score)
                        }
                    })
                    .unzip();
                let method = if classifier.zero_shot_tasks().contains(&task.name()) {
                    "zero-shot: codebook without examples, refined on the batch"
                } else {
                    "trained head"
                };
                (method.into(), pred, Some(conf))
            } else {
                let langs: Vec<&str> = rows.iter().map(|r| r.lang.as_str()).collect();
                let (protos, method) = match zero_shot {
                    Some(cb) => {
                        let ids = cb.ids();
                        let missing: Vec<&str> = gold_set
                            .iter()
                            .copied()
                            .filter(|g| !ids.iter().any(|i| i == g))
                            .collect();
                        if !missing.is_empty() {
                            return Err(Error::Config {
                                path: path.to_path_buf(),
                                message: format!(
                                    "labels not in codebook {}: {}",
                                    cb.codebook.id,
                                    missing.join(", ")
                                ),
                            }
                            .into());
                        }
                        (
                            Prototypes::from_codebook(cb, encoder)?,
                            format!("zero-shot: codebook {}", cb.codebook.id),
                        )
                    }
                    None => {
                        let names: Vec<String> = gold_set.iter().map(|s| s.to_string()).collect();
                        (
                            Prototypes::from_names(&names, encoder)?,
                            "zero-shot: label names as codebook".to_string(),
                        )
                    }
                };
                let probs = protos.zero_shot(&emb, &langs);
                let pred = protos.best(&probs).into_iter().map(String::from).collect();
                (
                    format!("{method}, standardised per language, refined on the batch"),
                    pred,
                    None,
                )
            }
        }
    };
    let scored = report(
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" + "),
        task,
        method,
        &rows,
        &gold,
        &pred,
    );
    Ok(match confidence {
        Some(c) => scored.with_calibration(&c),
        None => scored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::training::Labelled;

    /// The report of `pred` against each row's first label.
    fn scored(task: EvalTask, rows: &[Labelled], pred: &[&str]) -> EvalReport {
        let gold: Vec<String> = rows.iter().map(|r| r.labels[0].clone()).collect();
        let pred: Vec<String> = pred.iter().map(|s| s.to_string()).collect();
        report("f".into(), task, "m".into(), rows, &gold, &pred)
    }

    #[test]
    fn sentiment_files_need_sentiment_labels() {
        let path = Path::new("themes.csv");
        let gold: BTreeSet<&str> = ["negative", "positive"].into();
        assert_eq!(sentiment_classes(&gold, path).unwrap(), [0, 2]);
        assert_eq!(sentiment_method(&[0, 1, 2]), "sentiment head");
        assert!(
            sentiment_method(&[0, 2]).contains("only among negative and positive"),
            "{}",
            sentiment_method(&[0, 2])
        );
        assert!(sentiment_method(&[0]).contains("only among negative:"));
        let themes: BTreeSet<&str> = ["billing_errors", "wait_time"].into();
        let err = sentiment_classes(&themes, path).unwrap_err().to_string();
        assert!(
            err.contains("themes.csv") && err.contains("--task"),
            "{err}"
        );
    }

    #[test]
    fn any_gold_theme_counts_and_the_parity_gap_spans_fi_sv_en() {
        let row = |lang: &str, labels: &[&str]| Labelled {
            id: format!("{lang}-{}", labels.join("")),
            text: "x".into(),
            lang: lang.into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            ..Default::default()
        };
        let rows = [
            row("fi", &["billing_errors", "communication"]),
            row("fi", &["delivery"]),
            row("en", &["delivery"]),
            row("en", &["other"]),
            row("de", &["other"]),
        ];
        // The second theme of the first row is right; fi 2/2 vs en 1/2; German is not in the gap.
        let pred = ["communication", "delivery", "delivery", "price_value", "x"];
        let r = scored(EvalTask::Themes, &rows, &pred);
        assert_eq!(r.per_lang["fi"].1, 1.0);
        assert_eq!(r.per_lang["en"].1, 0.5);
        assert_eq!(r.parity_gap.map(|g| g.0), Some(0.5));
        assert!((r.accuracy - 3.0 / 5.0).abs() < 1e-9);
        let one_lang = scored(EvalTask::Themes, &rows[..2], &pred[..2]);
        assert_eq!(one_lang.parity_gap, None);
    }

    #[test]
    fn registers_are_scored_apart_when_the_file_names_them() {
        let row = |id: &str, register: Option<&str>, label: &str| Labelled {
            id: id.into(),
            text: "x".into(),
            lang: "en".into(),
            labels: vec![label.into()],
            register: register.map(String::from),
            ..Default::default()
        };
        let rows = [
            row("1", Some("sarcasm"), "negative"),
            row("2", Some("sarcasm"), "negative"),
            row("3", Some("terse"), "positive"),
            row("4", None, "neutral"),
        ];
        let pred = ["positive", "negative", "positive", "negative"];
        let r = scored(EvalTask::Sentiment, &rows, &pred);
        // The row without a register counts overall only.
        assert_eq!(r.per_register.len(), 2);
        assert_eq!(r.per_register["sarcasm"].0, 2);
        assert_eq!(r.per_register["sarcasm"].1, 0.5);
        assert_eq!(r.per_register["terse"], (1, 1.0, 1.0));
        assert_eq!(r.accuracy, 0.5);
        assert!(r.to_string().contains("register sarcasm"), "{r}");
        // Files without the column print and serialise no register lines.
        let plain: Vec<Labelled> = rows
            .iter()
            .map(|r| Labelled {
                register: None,
                in_longer_answer: None,
                ..r.clone()
            })
            .collect();
        let r = scored(EvalTask::Sentiment, &plain, &pred);
        assert!(r.per_register.is_empty() && !r.to_string().contains("register"));
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("per_register"), "{json}");
    }

    #[test]
    fn macro_f1_and_agreement() {
        let (acc, f1, per) = score(&["a", "a", "b", "b"], &["a", "b", "b", "b"]);
        assert_eq!(acc, 0.75);
        assert!((per[0].f1 - 2.0 / 3.0).abs() < 1e-9 && (per[1].f1 - 0.8).abs() < 1e-9);
        assert!((f1 - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-9);
        let rows: Vec<Labelled> = ["s-1-fi", "s-1-en", "s-2-fi", "s-2-en"]
            .iter()
            .map(|id| Labelled {
                id: id.to_string(),
                text: "x".into(),
                lang: id.rsplit('-').next().unwrap().into(),
                labels: vec!["t".into()],
                ..Default::default()
            })
            .collect();
        assert_eq!(agreement(&rows, &["a", "a", "a", "b"]), Some(0.5));
    }
}
