//! `palaute eval`: accuracy and macro-F1 of sentiment, themes or stages against a labelled
//! CSV (`id,text,lang,label[,register]`), per language (and register) too, and for parallel files (ids
//! `<name>-<n>-<lang>`) the share of sentences that get the same label in every language.
//! Files with a `doc_id` column are whole documents, scored in context (`context.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

mod context;
mod cv;
pub use cv::cross_validate;

use crate::classify::codebook::OTHER;
use crate::classify::codebook::{Codebook, CodebookKind};
use crate::classify::head::Inputs;
use crate::classify::prototype::Prototypes;
use crate::classify::training::{
    self, normalise_sentiment_label, Labelled, NO_STAGE, SENTIMENT_LABELS,
};
use crate::classify::{Classifier, ClassifyError};
use crate::error::Error;
use crate::model::{TextEncoder, TransformerEncoder};

/// The classification tasks (kept in `record`: classify trains heads per task too).
pub use crate::record::Task as EvalTask;

#[derive(Debug, Clone, Serialize)]
pub struct LabelScore {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub file: String,
    pub task: EvalTask,
    /// How classes were scored: trained head, or zero-shot prototypes from label names.
    pub method: String,
    pub rows: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_label: Vec<LabelScore>,
    pub per_lang: BTreeMap<String, (usize, f64, f64)>,
    /// (rows, accuracy, macro-F1) per value of the file's `register` column, when it has one:
    /// sarcasm or negation can fail while the overall figure hides it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub per_register: BTreeMap<String, (usize, f64, f64)>,
    /// Best minus worst of fi/sv/en: (accuracy, macro-F1).
    pub parity_gap: Option<(f64, f64)>,
    /// Parallel files: share of sentence ids whose languages all got the same label.
    pub cross_language_agreement: Option<f64>,
    /// Every row's gold and predicted label (`--predictions`), for reading the errors.
    #[serde(skip)]
    pub predictions: Vec<Prediction>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub id: String,
    pub lang: String,
    pub gold: String,
    pub predicted: String,
    pub correct: bool,
    pub text: String,
}

impl EvalReport {
    /// The rows' predictions as CSV (`id,lang,gold,predicted,correct,text`).
    pub fn write_predictions(&self, path: &Path) -> Result<(), Error> {
        let io = |e: std::io::Error| Error::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let mut w = csv::Writer::from_path(path).map_err(|e| io(e.into()))?;
        for p in &self.predictions {
            w.serialize(p).map_err(|e| io(e.into()))?;
        }
        w.flush().map_err(io)
    }
}

/// Accuracy, macro-F1 and per-label scores of predictions against gold labels.
pub fn score(gold: &[&str], pred: &[&str]) -> (f64, f64, Vec<LabelScore>) {
    let labels: BTreeSet<&str> = gold.iter().copied().collect();
    let n = gold.len().max(1) as f64;
    let accuracy = gold.iter().zip(pred).filter(|(g, p)| g == p).count() as f64 / n;
    let per: Vec<LabelScore> = labels
        .iter()
        .map(|l| {
            let tp = gold
                .iter()
                .zip(pred)
                .filter(|(g, p)| *g == l && *p == l)
                .count() as f64;
            let fp = gold
                .iter()
                .zip(pred)
                .filter(|(g, p)| *g != l && *p == l)
                .count() as f64;
            let fneg = gold
                .iter()
                .zip(pred)
                .filter(|(g, p)| *g == l && *p != l)
                .count() as f64;
            let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
            let recall = if tp + fneg > 0.0 {
                tp / (tp + fneg)
            } else {
                0.0
            };
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            LabelScore {
                label: l.to_string(),
                precision,
                recall,
                f1,
                support: (tp + fneg) as usize,
            }
        })
        .collect();
    let macro_f1 = per.iter().map(|s| s.f1).sum::<f64>() / per.len().max(1) as f64;
    (accuracy, macro_f1, per)
}

/// Same sentence in several languages (ids `<stem>-<lang>`) should get the same label.
pub fn agreement(rows: &[Labelled], pred: &[&str]) -> Option<f64> {
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (r, p) in rows.iter().zip(pred) {
        let stem = r.id.strip_suffix(&format!("-{}", r.lang))?;
        groups.entry(stem.to_string()).or_default().push(p);
    }
    let multi: Vec<&Vec<&str>> = groups.values().filter(|v| v.len() > 1).collect();
    if multi.is_empty() {
        return None;
    }
    Some(
        multi
            .iter()
            .filter(|v| v.iter().all(|p| *p == v[0]))
            .count() as f64
            / multi.len() as f64,
    )
}

/// Evaluate `task` on the labelled file. Themes/stages whose gold labels are not ids of the
/// classifier's codebook are scored zero-shot: against the prototypes of `zero_shot` (a
/// codebook whose ids are the gold labels, with names in several languages) when given, else
/// against the file's own label names (e.g. SIB-200 topics).
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
/// overall and per-language figures and the parity gap.
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
    let (method, pred): (String, Vec<String>) = match task {
        EvalTask::Sentiment => {
            let allowed = sentiment_classes(&gold_set, path)?;
            let probs = classifier.sentiment_probs(&inputs)?;
            let pred = probs
                .iter()
                .map(|p| {
                    let j =
                        allowed
                            .iter()
                            .copied()
                            .fold(allowed[0], |b, j| if p[j] > p[b] { j } else { b });
                    SENTIMENT_LABELS[j].to_string()
                })
                .collect();
            ("sentiment head".into(), pred)
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
                let pred = probs
                    .iter()
                    .map(|p| {
                        if task == EvalTask::Themes {
                            classifier.assign_themes(p).0[0].clone()
                        } else {
                            let stage = classifier.assign_stage(p).0;
                            stage.unwrap_or_else(|| NO_STAGE.to_string())
                        }
                    })
                    .collect();
                let method = if classifier.zero_shot_tasks().contains(&task.name()) {
                    "zero-shot: codebook without examples, refined on the batch"
                } else {
                    "trained head"
                };
                (method.into(), pred)
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
                )
            }
        }
    };
    Ok(report(
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
    ))
}

/// Scores of `pred` against `gold` (one per row of `rows`), overall and per language.
pub(super) fn report(
    file: String,
    task: EvalTask,
    method: String,
    rows: &[Labelled],
    gold: &[String],
    pred: &[String],
) -> EvalReport {
    let g: Vec<&str> = gold.iter().map(String::as_str).collect();
    // Several gold themes: the top theme is right when it is any of them.
    let p: Vec<&str> = pred
        .iter()
        .zip(rows)
        .zip(&g)
        .map(|((p, r), g)| if r.labels.contains(p) { *g } else { p.as_str() })
        .collect();
    let (accuracy, macro_f1, per_label) = score(&g, &p);
    let per_group = |key: &dyn Fn(&Labelled) -> Option<&str>| {
        let keys: BTreeSet<&str> = rows.iter().filter_map(key).collect();
        keys.into_iter()
            .map(|k| {
                let idx: Vec<usize> = (0..rows.len())
                    .filter(|i| key(&rows[*i]) == Some(k))
                    .collect();
                let gk: Vec<&str> = idx.iter().map(|i| g[*i]).collect();
                let pk: Vec<&str> = idx.iter().map(|i| p[*i]).collect();
                let (a, f, _) = score(&gk, &pk);
                (k.to_string(), (idx.len(), a, f))
            })
            .collect::<BTreeMap<_, _>>()
    };
    let per_lang = per_group(&|r| Some(r.lang.as_str()));
    let per_register = per_group(&|r| r.register.as_deref());
    let parity_gap = parity_gap(&per_lang);
    EvalReport {
        file,
        task,
        method,
        rows: rows.len(),
        accuracy,
        macro_f1,
        per_label,
        per_lang,
        per_register,
        parity_gap,
        cross_language_agreement: agreement(rows, &p),
        predictions: rows
            .iter()
            .zip(&g)
            .zip(&p)
            .map(|((r, g), p)| Prediction {
                id: r.id.clone(),
                lang: r.lang.clone(),
                gold: r.labels.join("|"),
                predicted: p.to_string(),
                correct: g == p,
                text: r.text.clone(),
            })
            .collect(),
    }
}

/// Best minus worst language (accuracy, macro-F1) among fi, sv and en, when at least two of
/// them are in the file: how much worse palaute serves its weakest language.
fn parity_gap(per_lang: &BTreeMap<String, (usize, f64, f64)>) -> Option<(f64, f64)> {
    let main: Vec<(f64, f64)> = ["fi", "sv", "en"]
        .iter()
        .filter_map(|l| per_lang.get(*l))
        .map(|(_, a, f)| (*a, *f))
        .collect();
    if main.len() < 2 {
        return None;
    }
    let spread = |v: Vec<f64>| {
        v.iter().copied().fold(f64::MIN, f64::max) - v.iter().copied().fold(f64::MAX, f64::min)
    };
    Some((
        spread(main.iter().map(|x| x.0).collect()),
        spread(main.iter().map(|x| x.1).collect()),
    ))
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} — {:?} ({}), {} rows",
            self.file, self.task, self.method, self.rows
        )?;
        writeln!(
            f,
            "accuracy {:.3}  macro-F1 {:.3}",
            self.accuracy, self.macro_f1
        )?;
        for (lang, (n, acc, f1)) in &self.per_lang {
            writeln!(
                f,
                "  {lang:<4} n={n:<5} accuracy {acc:.3}  macro-F1 {f1:.3}"
            )?;
        }
        if let Some((a, f1)) = self.parity_gap {
            writeln!(
                f,
                "language parity gap (best − worst of fi/sv/en): accuracy {a:.3}  macro-F1 {f1:.3}"
            )?;
        }
        for (register, (n, acc, f1)) in &self.per_register {
            writeln!(
                f,
                "  register {register:<10} n={n:<4} accuracy {acc:.3}  macro-F1 {f1:.3}"
            )?;
        }
        if let Some(a) = self.cross_language_agreement {
            writeln!(f, "cross-language agreement {a:.3}")?;
        }
        for s in &self.per_label {
            writeln!(
                f,
                "  {:<24} P {:.3} R {:.3} F1 {:.3} n={}",
                s.label, s.precision, s.recall, s.f1, s.support
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentiment_files_need_sentiment_labels() {
        let path = Path::new("themes.csv");
        let gold: BTreeSet<&str> = ["negative", "positive"].into();
        assert_eq!(sentiment_classes(&gold, path).unwrap(), [0, 2]);
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
            register: None,
        };
        let rows = [
            row("fi", &["billing_errors", "communication"]),
            row("fi", &["delivery"]),
            row("en", &["delivery"]),
            row("en", &["other"]),
            row("de", &["other"]),
        ];
        let gold: Vec<String> = rows.iter().map(|r| r.labels[0].clone()).collect();
        // The second theme of the first row is right; fi 2/2 vs en 1/2; German is not in the gap.
        let pred: Vec<String> = ["communication", "delivery", "delivery", "price_value", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let r = report(
            "f".into(),
            EvalTask::Themes,
            "m".into(),
            &rows,
            &gold,
            &pred,
        );
        assert_eq!(r.per_lang["fi"].1, 1.0);
        assert_eq!(r.per_lang["en"].1, 0.5);
        assert_eq!(r.parity_gap.map(|g| g.0), Some(0.5));
        assert!((r.accuracy - 3.0 / 5.0).abs() < 1e-9);
        let one_lang = report(
            "f".into(),
            EvalTask::Themes,
            "m".into(),
            &rows[..2],
            &gold[..2],
            &pred[..2],
        );
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
        };
        let rows = [
            row("1", Some("sarcasm"), "negative"),
            row("2", Some("sarcasm"), "negative"),
            row("3", Some("terse"), "positive"),
            row("4", None, "neutral"),
        ];
        let gold: Vec<String> = rows.iter().map(|r| r.labels[0].clone()).collect();
        let pred: Vec<String> = ["positive", "negative", "positive", "negative"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let r = report(
            "f".into(),
            EvalTask::Sentiment,
            "m".into(),
            &rows,
            &gold,
            &pred,
        );
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
                ..r.clone()
            })
            .collect();
        let r = report(
            "f".into(),
            EvalTask::Sentiment,
            "m".into(),
            &plain,
            &gold,
            &pred,
        );
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
                register: None,
            })
            .collect();
        assert_eq!(agreement(&rows, &["a", "a", "a", "b"]), Some(0.5));
    }
}
