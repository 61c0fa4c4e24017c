//! Training classification heads: from the shipped examples and codebooks (cached under the
//! encoder's hash; training is deterministic, so a cached head equals a freshly trained one)
//! and, for `palaute train`, from a researcher's labelled CSV.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::codebook::{Codebook, CodebookKind, OTHER};
use super::head::{HeadError, LinearHead, Targets, TrainOptions};
use super::training::{self, Labelled, SENTIMENT_LABELS};
use super::{ClassifyConfig, ClassifyError, FEATURES};
use crate::error::Error;
use crate::model::TextEncoder;

/// Where heads trained from shipped data are cached: `$PALAUTE_CACHE/heads`, else `heads`
/// in palaute's user cache.
pub fn heads_cache_dir() -> Option<PathBuf> {
    crate::config::env_path("PALAUTE_CACHE")
        .or_else(crate::config::user_cache_dir)
        .map(|d| d.join("heads"))
}

/// Bumped whenever training changes, so stale cached heads are not reused.
const HEAD_VERSION: &str = "3";

/// Train a head on `rows` (or load it from the cache when the same encoder already did).
pub fn train_head(
    task: &str,
    rows: &[Labelled],
    labels: &[String],
    multi: bool,
    encoder: &dyn TextEncoder,
    cache: Option<&Path>,
) -> Result<LinearHead, ClassifyError> {
    let opts = TrainOptions::default();
    let mut h = Sha256::new();
    h.update(format!(
        "{HEAD_VERSION}|{task}|{}|{multi}|{opts:?}|{labels:?}",
        super::head::encoder_hash(encoder.info())
    ));
    for r in rows {
        h.update(r.text.as_bytes());
        h.update(r.labels.join("|").as_bytes());
        h.update([0]);
    }
    let key = crate::ingest::hex(&h.finalize());
    let cached = cache.map(|d| d.join(format!("{task}-{}.json", &key[..16])));
    if let Some(path) = &cached {
        if let Ok(head) = LinearHead::load(path, encoder.info()) {
            return Ok(head);
        }
    }
    let targets = if multi {
        Targets::Multi(
            rows.iter()
                .map(|r| {
                    labels
                        .iter()
                        .map(|l| f32::from(u8::from(r.labels.contains(l))))
                        .collect()
                })
                .collect(),
        )
    } else {
        // One class per row; a row without a label is a codebook's `other` example.
        let class = |r: &Labelled| {
            let l = r.labels.first().map_or(OTHER, String::as_str);
            labels
                .iter()
                .position(|x| x == l)
                .map(|j| j as u32)
                .ok_or_else(|| HeadError::Train {
                    task: task.to_string(),
                    message: format!("row {}: label {l:?} is not one of {labels:?}", r.id),
                })
        };
        Targets::Single(rows.iter().map(class).collect::<Result<_, _>>()?)
    };
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let x = encoder.embed(&texts, FEATURES)?;
    let head = LinearHead::train(task, labels.to_vec(), &x, &targets, encoder.info(), &opts)?;
    if let Some(path) = &cached {
        // A cache that cannot be written only costs time on the next run.
        if std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).is_ok() {
            if let Err(e) = head.save(path) {
                tracing::debug!("could not cache head: {e}");
            }
        }
    }
    Ok(head)
}

/// The labels a head learns from `cb`: its item ids, without `other` for themes (multi-label),
/// where `other` is what is left when nothing passes rather than a class.
pub(super) fn codebook_labels(cb: &Codebook, multi: bool) -> Vec<String> {
    cb.items
        .iter()
        .filter(|i| !(multi && i.id == OTHER))
        .map(|i| i.id.clone())
        .collect()
}

/// `palaute train`: a head from a researcher's labelled CSV (`id,text,lang,label`), by default
/// together with the shipped examples so classes the file lacks are still learned.
pub fn train_from_file(
    cfg: &ClassifyConfig,
    encoder: &dyn TextEncoder,
    path: &Path,
    task: crate::eval::EvalTask,
    with_shipped: bool,
) -> Result<LinearHead, ClassifyError> {
    use crate::eval::EvalTask;
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut rows = training::read_labelled_csv(&text, path)?;
    let (labels, multi, shipped): (Vec<String>, bool, Vec<Labelled>) = match task {
        EvalTask::Sentiment => {
            for r in &mut rows {
                let l = r.labels.first().cloned().unwrap_or_default();
                let n = training::normalise_sentiment_label(&l).ok_or_else(|| Error::Config {
                    path: path.to_path_buf(),
                    message: format!("row {}: {l:?} is not negative/neutral/positive", r.id),
                })?;
                r.labels = vec![n.to_string()];
            }
            (
                SENTIMENT_LABELS.iter().map(|s| s.to_string()).collect(),
                false,
                training::shipped_sentiment()?,
            )
        }
        EvalTask::Themes => {
            let cb = Codebook::resolve(&cfg.codebook, CodebookKind::Theme)?;
            (
                codebook_labels(&cb, true),
                true,
                training::codebook_rows(&cb),
            )
        }
        EvalTask::Stages => {
            let cb = Codebook::resolve(&cfg.journey, CodebookKind::Stage)?;
            (
                codebook_labels(&cb, false),
                false,
                training::codebook_rows(&cb),
            )
        }
    };
    for r in &rows {
        if let Some(bad) = r
            .labels
            .iter()
            .find(|l| !(labels.contains(l) || (multi && l.as_str() == OTHER)))
        {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!("row {}: label {bad:?} is not one of {labels:?}", r.id),
            }
            .into());
        }
    }
    if with_shipped {
        rows.extend(shipped);
    }
    let name = match task {
        EvalTask::Sentiment => "sentiment",
        EvalTask::Themes => "themes",
        EvalTask::Stages => "stages",
    };
    train_head(name, &rows, &labels, multi, encoder, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tiny::{write_tiny_model, TinyArch, TinySpec};
    use crate::model::{EncoderConfig, TransformerEncoder};

    fn row(id: &str, text: &str, label: &str) -> Labelled {
        Labelled {
            id: id.into(),
            text: text.into(),
            lang: "en".into(),
            labels: vec![label.into()],
            aspect: None,
        }
    }

    #[test]
    fn single_label_rows_must_name_a_class() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny_model(dir.path(), &TinySpec::new(TinyArch::Bert)).unwrap();
        let enc = TransformerEncoder::load(dir.path(), &EncoderConfig::default()).unwrap();
        let labels = vec!["billing".to_string(), "support".to_string()];
        let good = [
            row("1", "the invoice", "billing"),
            row("2", "the queue", "support"),
        ];
        assert!(train_head("stages", &good, &labels, false, &enc, None).is_ok());
        // Used to be trained silently as the first class.
        let bad = [
            row("1", "the invoice", "billing"),
            row("7", "whatever", "other"),
        ];
        let err = train_head("stages", &bad, &labels, false, &enc, None).unwrap_err();
        assert!(err.to_string().contains("row 7"), "{err}");
    }
}
