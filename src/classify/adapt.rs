//! `[classify.adapt]`: fine-tuning the encoder's top layers on the examples the heads learn
//! from — the shipped sentiment sets and the configured codebook's and journey map's examples
//! with the shipped feedback — before the heads are trained, so the embedding itself separates
//! what the heads must tell apart (see `model::adapt` for the method). The adapted layers are
//! cached like heads, keyed by the base model, the examples and the settings.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::codebook::{Codebook, CodebookKind, OTHER};
use super::trainer::{check_user_labels, read_user_rows, task_labels};
use super::training::{self, Labelled, SENTIMENT_LABELS};
use super::{ClassifyConfig, ClassifyError};
use crate::model::adapt::{AdaptExample, AdaptOptions, AdaptTask};
use crate::model::{InputKind, TextEncoder, TransformerEncoder};
use crate::record::Task;

/// Bumped whenever the method changes, so stale cached layers are not reused.
const ADAPT_VERSION: &str = "1";

/// The prefix the examples are trained with: E5's `passage: `, although segments and the
/// heads' examples are embedded as [`super::FEATURES`] (`query: `). Training with the prefix
/// the layers see at inference was measured (2026-12-06, README "Adapting the encoder") and
/// was no better anywhere: held-out sentiment 0.709 → 0.689, themes 0.821 → 0.810, stages
/// 0.817 → 0.810, `xed_fi` 0.563 → 0.560, `xlmt_umsab` 0.617 → 0.613 (all within the sets'
/// noise, all the same way). The cache key includes this prefix.
const TRAINED_AS: InputKind = InputKind::Passage;

/// What `run.json` records of the adaptation.
#[derive(Debug, Clone, Serialize)]
pub struct AdaptSummary {
    pub key: String,
    pub layers: usize,
    pub examples: usize,
    /// Trained now (with the training report) or read from the cache.
    pub cached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<crate::model::adapt::AdaptReport>,
}

/// Where adapted layers are cached: `$PALAUTE_CACHE/adapted`, else `adapted` in palaute's
/// user cache.
pub fn adapted_cache_dir() -> Option<PathBuf> {
    crate::config::trained_cache_dir("adapted")
}

/// Adapts `enc` when `cfg.adapt.enabled` (from [`adapted_cache_dir`] when the same base
/// model, examples and settings were adapted before); `None` when adaptation is off or no
/// task has examples.
pub fn adapt_encoder(
    cfg: &ClassifyConfig,
    enc: &mut TransformerEncoder,
    progress: crate::progress::Progress,
) -> Result<Option<AdaptSummary>, ClassifyError> {
    if !cfg.adapt.enabled || cfg.adapt.layers == 0 {
        return Ok(None);
    }
    if let Some(key) = &enc.info().adapted {
        // Mixing back towards "pre-trained" layers that are already adapted would be wrong.
        return Err(crate::model::ModelError::Config(format!(
            "internal: the encoder is already adapted ({key})"
        ))
        .into());
    }
    let (tasks, rows) = task_rows(cfg)?;
    if tasks.is_empty() {
        return Ok(None);
    }
    let examples = merge_examples(&tasks, &rows);
    let trained_key = cache_key(enc, &cfg.adapt, &tasks, &examples);
    // The cache holds the fine-tuned layers before mixing, so another `keep` needs no training.
    let key = crate::util::hex(&Sha256::digest(format!(
        "{trained_key}|keep={}",
        cfg.adapt.keep
    )));
    let layers = cfg.adapt.layers.min(enc.num_layers());
    let first = enc.num_layers() - layers;
    let base = enc.layers_from(first)?;
    let path = adapted_cache_dir().map(|d| d.join(format!("{}.safetensors", &trained_key[..16])));
    tracing::debug!("adapted layers: {path:?}");
    // Runs started together (shards on one node, parallel tests) wait for the first one to
    // train instead of all training the same layers; without a lock each just trains.
    let _lock = path.as_deref().and_then(crate::util::lock_beside);
    let cached =
        path.as_deref()
            .filter(|p| p.is_file())
            .is_some_and(|p| match enc.load_layers(p) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!("ignoring cached adapted layers {}: {e}", p.display());
                    false
                }
            });
    let report = if cached {
        None
    } else {
        Some(train_layers(
            enc,
            &tasks,
            &examples,
            cfg,
            path.as_deref(),
            first,
            progress,
        )?)
    };
    enc.interpolate_layers(&base, first, cfg.adapt.keep)?;
    enc.set_adapted(&key);
    Ok(Some(AdaptSummary {
        key,
        layers,
        examples: examples.len(),
        cached,
        report,
    }))
}

/// Fine-tunes the top layers from `first` on and caches them (unmixed) at `path`.
fn train_layers(
    enc: &mut TransformerEncoder,
    tasks: &[AdaptTask],
    examples: &[(String, Vec<Option<Vec<u32>>>)],
    cfg: &ClassifyConfig,
    path: Option<&std::path::Path>,
    first: usize,
    progress: crate::progress::Progress,
) -> Result<crate::model::adapt::AdaptReport, ClassifyError> {
    tracing::info!(
        "adapting the encoder's top {} layers to {} examples (once; cached)",
        enc.num_layers() - first,
        examples.len()
    );
    let tokenized = adapt_examples(enc, examples)?;
    let bar = progress.bar(0, "adapting");
    let report = enc.adapt(&tokenized, tasks, &cfg.adapt, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    if let Some(p) = path {
        // A cache that cannot be written only costs time on the next run.
        if let Err(e) = enc.save_layers(p, first) {
            tracing::warn!("could not cache adapted layers: {e}");
        }
    }
    Ok(report)
}

/// The examples as the layers are trained on them, prefixed as [`TRAINED_AS`].
fn adapt_examples(
    enc: &TransformerEncoder,
    examples: &[(String, Vec<Option<Vec<u32>>>)],
) -> Result<Vec<AdaptExample>, crate::model::ModelError> {
    examples
        .iter()
        .map(|(text, targets)| {
            Ok(AdaptExample {
                ids: enc.training_ids(text, TRAINED_AS)?,
                targets: targets.clone(),
            })
        })
        .collect()
}

/// The tasks and their rows: sentiment from the shipped sets, themes and stages from the
/// configured codebook and journey map (the built-in ones' when the configured one is
/// zero-shot), each with the researcher's files for it (`[[classify.adapt.examples]]`).
/// Heads set in the configuration (`palaute train`) do not change this: `train` and `run`
/// must adapt alike, or a trained head would not fit the encoder of the run.
fn task_rows(cfg: &ClassifyConfig) -> Result<(Vec<AdaptTask>, Vec<Vec<RowTarget>>), ClassifyError> {
    let mut tasks = Vec::new();
    let mut rows = Vec::new();
    for &task in &cfg.adapt.tasks {
        let (shipped, labels, multi) = match task {
            Task::Sentiment => (
                training::shipped_sentiment()?,
                SENTIMENT_LABELS.iter().map(|s| s.to_string()).collect(),
                false,
            ),
            Task::Themes | Task::Stages => {
                let defaults = ClassifyConfig::default();
                let (path, default, kind, multi) = if task == Task::Themes {
                    (&cfg.codebook, &defaults.codebook, CodebookKind::Theme, true)
                } else {
                    (&cfg.journey, &defaults.journey, CodebookKind::Stage, false)
                };
                match examples_of(path, kind, multi)? {
                    Some(found) => found,
                    // A zero-shot codebook has no examples to adapt to; the built-in one's
                    // still teach the body what feedback is about (the zero-shot prototypes
                    // are then matched on that body: SIB-200 topics gained from it), and every
                    // names-only codebook shares one adaptation.
                    None => match examples_of(default, kind, multi)? {
                        Some(found) => found,
                        None => continue,
                    },
                }
            }
        };
        // Themes are multi-label: a row with none of them is the extra `other` class.
        let other = multi.then_some(labels.len() as u32);
        let mut task_rows = targets(&shipped, &labels, other);
        for f in cfg.adapt.examples.iter().filter(|f| f.task == task) {
            let user = read_user_rows(&f.file, task)?;
            check_user_labels(&f.file, &user, &labels, multi)?;
            task_rows.extend(targets(&user, &labels, other));
        }
        rows.push(task_rows);
        tasks.push(AdaptTask {
            name: task.name().into(),
            classes: labels.len() + usize::from(multi),
        });
    }
    Ok((tasks, rows))
}

/// A task's rows, its labels, and whether it is multi-label.
type TaskExamples = (Vec<Labelled>, Vec<String>, bool);

/// The examples and labels of the codebook at `path`, or `None` when some item has none
/// (the codebook is assigned zero-shot).
fn examples_of(
    path: &str,
    kind: CodebookKind,
    multi: bool,
) -> Result<Option<TaskExamples>, ClassifyError> {
    let cb = Codebook::resolve(path, kind)?;
    let rows = training::codebook_rows(&cb)?;
    let labels = task_labels(&cb, multi, &rows);
    let zero_shot = labels
        .iter()
        .any(|l| !rows.iter().any(|r| r.labels.contains(l)));
    Ok((!zero_shot).then_some((rows, labels, multi)))
}

/// A row's text and classes for one task.
type RowTarget = (String, Vec<u32>);

fn targets(rows: &[Labelled], labels: &[String], other: Option<u32>) -> Vec<RowTarget> {
    rows.iter()
        .filter_map(|r| {
            let mut cls: Vec<u32> = r
                .labels
                .iter()
                .filter(|l| l.as_str() != OTHER)
                .filter_map(|l| labels.iter().position(|x| x == l).map(|j| j as u32))
                .collect();
            if cls.is_empty() {
                cls.push(other?);
            }
            Some((r.text.clone(), cls))
        })
        .collect()
}

/// One example per distinct text, with its classes for every task (a text repeated to weigh
/// more in a head counts once here; a text in several tasks' rows carries all their labels).
fn merge_examples(
    tasks: &[AdaptTask],
    rows: &[Vec<RowTarget>],
) -> Vec<(String, Vec<Option<Vec<u32>>>)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<(String, Vec<Option<Vec<u32>>>)> = Vec::new();
    for (t, task_rows) in rows.iter().enumerate() {
        for (text, cls) in task_rows {
            let i = *index.entry(text.as_str()).or_insert_with(|| {
                out.push((text.clone(), vec![None; tasks.len()]));
                out.len() - 1
            });
            // The first label a text was given for a task stands.
            out[i].1[t].get_or_insert_with(|| cls.clone());
        }
    }
    out
}

fn cache_key(
    enc: &TransformerEncoder,
    opts: &AdaptOptions,
    tasks: &[AdaptTask],
    examples: &[(String, Vec<Option<Vec<u32>>>)],
) -> String {
    let mut h = Sha256::new();
    // `enabled` and `keep` do not change the trained layers, and the examples' files count by
    // their rows (hashed below), not by where they are.
    let trained = AdaptOptions {
        enabled: true,
        keep: 1.0,
        examples: Vec::new(),
        ..opts.clone()
    };
    h.update(format!(
        "{ADAPT_VERSION}|{}|{}|{trained:?}|{tasks:?}",
        super::head::weights_hash(enc.info()),
        enc.prefix(TRAINED_AS),
    ));
    for (text, targets) in examples {
        h.update(text.as_bytes());
        h.update(format!("{targets:?}").as_bytes());
        h.update([0]);
    }
    crate::util::hex(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::adapt::ExampleFile;

    /// The adaptation trains on exactly the token ids the inference path makes of a text
    /// with the same prefix (special tokens, prefix, no second window for a short text).
    #[test]
    fn examples_are_fed_as_the_encoder_tokenizes_them() {
        use crate::model::tiny::{write_tiny_model, TinyArch, TinySpec};
        use crate::model::EncoderConfig;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("tiny-e5-small");
        write_tiny_model(&dir, &TinySpec::new(TinyArch::XlmRoberta)).unwrap();
        let enc = TransformerEncoder::load(&dir, &EncoderConfig::default()).unwrap();
        assert_eq!(enc.prefix(TRAINED_AS), "passage: ");
        let examples = vec![("slow delivery".to_string(), vec![Some(vec![0])])];
        let fed = adapt_examples(&enc, &examples).unwrap();
        assert_eq!(
            fed[0].ids,
            enc.tokenize("slow delivery", TRAINED_AS).unwrap()
        );
        assert_eq!(fed[0].targets, examples[0].1);
    }

    #[test]
    fn a_text_in_several_tasks_carries_every_label_once() {
        let tasks = [
            AdaptTask {
                name: "sentiment".into(),
                classes: 3,
            },
            AdaptTask {
                name: "themes".into(),
                classes: 3,
            },
        ];
        let rows = vec![
            vec![
                ("Bill wrong".to_string(), vec![0]),
                ("Bill wrong".to_string(), vec![0]),
                ("Fine".to_string(), vec![2]),
            ],
            vec![
                ("Bill wrong".to_string(), vec![1]),
                ("Hi".to_string(), vec![2]),
            ],
        ];
        let ex = merge_examples(&tasks, &rows);
        assert_eq!(
            ex,
            vec![
                ("Bill wrong".to_string(), vec![Some(vec![0]), Some(vec![1])]),
                ("Fine".to_string(), vec![Some(vec![2]), None]),
                ("Hi".to_string(), vec![None, Some(vec![2])]),
            ]
        );
    }

    #[test]
    fn a_researchers_files_join_the_shipped_examples() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("recoded.csv");
        std::fs::write(
            &good,
            "id,text,lang,label\n1,Laskutus meni taas pieleen,fi,billing_errors\n\
             2,Ei mitään sanottavaa,fi,other\n",
        )
        .unwrap();
        let mut cfg = ClassifyConfig::default();
        cfg.adapt.tasks = vec![Task::Themes];
        let (_, shipped) = task_rows(&cfg).unwrap();
        cfg.adapt.examples = vec![ExampleFile {
            file: good.clone(),
            task: Task::Themes,
        }];
        let (tasks, rows) = task_rows(&cfg).unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(rows[0].len(), shipped[0].len() + 2);
        let other = tasks[0].classes as u32 - 1;
        assert_eq!(
            rows[0].last().unwrap(),
            &("Ei mitään sanottavaa".into(), vec![other])
        );

        // A misspelt label is an error naming the file and the row, not a silent `other`.
        let bad = dir.path().join("typo.csv");
        std::fs::write(&bad, "id,text,lang,label\n7,Lasku,fi,biling_errors\n").unwrap();
        cfg.adapt.examples[0].file = bad;
        let err = task_rows(&cfg).unwrap_err().to_string();
        assert!(err.contains("typo.csv") && err.contains("row 7"), "{err}");
    }

    #[test]
    fn rows_without_a_known_label_are_the_other_class_or_left_out() {
        let labels = vec!["price".to_string(), "billing".to_string()];
        let row = |labels: &[&str]| Labelled {
            id: "1".into(),
            text: "t".into(),
            lang: "en".into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let rows = [row(&["billing", "price"]), row(&[]), row(&["other"])];
        assert_eq!(
            targets(&rows, &labels, Some(2)),
            vec![
                ("t".to_string(), vec![1, 0]),
                ("t".to_string(), vec![2]),
                ("t".to_string(), vec![2])
            ]
        );
        assert_eq!(
            targets(&rows, &labels, None),
            vec![("t".to_string(), vec![1, 0])]
        );
    }
}
