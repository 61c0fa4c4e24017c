//! `palaute eval`: accuracy and macro-F1 of sentiment, themes or stages against a labelled
//! CSV (`id,text,lang,label[,aspect]`), per language too, and for parallel files (ids
//! `<name>-<n>-<lang>`) the share of sentences that get the same label in every language.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::classify::codebook::{Codebook, CodebookKind};
use crate::classify::prototype::Prototypes;
use crate::classify::training::{self, normalise_sentiment_label, Labelled, SENTIMENT_LABELS};
use crate::classify::{Classifier, ClassifyError};
use crate::error::Error;
use crate::model::{TextEncoder, TransformerEncoder};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EvalTask {
    Sentiment,
    Themes,
    Stages,
}

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
    /// Parallel files: share of sentence ids whose languages all got the same label.
    pub cross_language_agreement: Option<f64>,
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
    labels: &Path,
    task: EvalTask,
    codebook: Option<&str>,
    encoder: &TransformerEncoder,
) -> Result<EvalReport, ClassifyError> {
    let zero_shot = match (codebook, task) {
        (None, _) => None,
        (Some(_), EvalTask::Sentiment) => {
            return Err(Error::Config {
                path: labels.to_path_buf(),
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

pub fn evaluate(
    path: &Path,
    task: EvalTask,
    classifier: &Classifier,
    encoder: &dyn TextEncoder,
    zero_shot: Option<&Codebook>,
) -> Result<EvalReport, ClassifyError> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let rows = training::read_labelled_csv(&text, path)?;
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let emb = encoder.embed(&texts, crate::classify::FEATURES)?;
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
            let probs = classifier.sentiment_probs(&texts, &emb)?;
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
                    .all(|g| known.iter().any(|k| k == g) || *g == crate::classify::codebook::OTHER)
            {
                let langs: Vec<&str> = rows.iter().map(|r| r.lang.as_str()).collect();
                let probs = if task == EvalTask::Themes {
                    classifier.theme_probs(&emb, &langs)
                } else {
                    classifier.stage_probs(&emb, &langs)
                };
                let pred = probs
                    .iter()
                    .map(|p| {
                        if task == EvalTask::Themes {
                            classifier.assign_themes(p).0[0].clone()
                        } else {
                            let j = p
                                .iter()
                                .enumerate()
                                .fold(0, |b, (j, v)| if *v > p[b] { j } else { b });
                            known[j].clone()
                        }
                    })
                    .collect();
                let task_name = if task == EvalTask::Themes {
                    "themes"
                } else {
                    "stages"
                };
                let method = if classifier.zero_shot_tasks().contains(&task_name) {
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
    let g: Vec<&str> = gold.iter().map(String::as_str).collect();
    let p: Vec<&str> = pred.iter().map(String::as_str).collect();
    let (accuracy, macro_f1, per_label) = score(&g, &p);
    let mut per_lang = BTreeMap::new();
    let langs: BTreeSet<&str> = rows.iter().map(|r| r.lang.as_str()).collect();
    for lang in langs {
        let idx: Vec<usize> = (0..rows.len()).filter(|i| rows[*i].lang == lang).collect();
        let gl: Vec<&str> = idx.iter().map(|i| g[*i]).collect();
        let pl: Vec<&str> = idx.iter().map(|i| p[*i]).collect();
        let (a, f, _) = score(&gl, &pl);
        per_lang.insert(lang.to_string(), (idx.len(), a, f));
    }
    Ok(EvalReport {
        file: path.display().to_string(),
        task,
        method,
        rows: rows.len(),
        accuracy,
        macro_f1,
        per_label,
        per_lang,
        cross_language_agreement: agreement(&rows, &p),
    })
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
                aspect: None,
            })
            .collect();
        assert_eq!(agreement(&rows, &["a", "a", "a", "b"]), Some(0.5));
    }
}
