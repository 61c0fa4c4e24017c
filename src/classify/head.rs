//! Linear classification heads over sentence embeddings: softmax for single-label tasks
//! (sentiment, stage), independent sigmoids for multi-label themes. Trained with candle
//! (full batch, AdamW, deterministic on CPU), stored as JSON together with the id and weight
//! hash of the encoder that produced the training embeddings — a head is meaningless on any
//! other encoder's vectors, so loading refuses a mismatch.

use std::borrow::Cow;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::fit::{calibrate, fit};
pub use super::head_file::HeadFile;
use super::lexical::{LexicalSpec, Sparse};
use crate::model::{dot, softmax, Embeddings, ModelInfo};

#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("training the {task} head: {message}")]
    Train { task: String, message: String },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{path}: this head was trained on encoder {trained} ({trained_hash}) but the loaded encoder is {loaded} ({loaded_hash}); retrain it with `palaute train`")]
    EncoderMismatch {
        path: String,
        trained: String,
        trained_hash: String,
        loaded: String,
        loaded_hash: String,
    },
}

/// Labels of the training rows.
pub enum Targets {
    /// Index of the one label of each row.
    Single(Vec<u32>),
    /// 0/1 per label for each row.
    Multi(Vec<Vec<f32>>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearHead {
    pub task: String,
    pub labels: Vec<String>,
    pub multi_label: bool,
    pub encoder_id: String,
    /// sha256 of the encoder's weights file: the identity that matters.
    pub encoder_sha256: String,
    pub dim: usize,
    /// `labels.len() × dim`, row-major.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    /// Multi-label: probability at which each label is assigned (calibrated by cross-validation).
    pub thresholds: Vec<f32>,
    pub training_rows: usize,
    /// Weights over the texts' lexical features, when the head uses them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexical: Option<LexicalWeights>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LexicalWeights {
    pub spec: LexicalSpec,
    /// `labels.len() × spec.buckets`, row-major.
    pub weights: Vec<f32>,
}

/// What a head reads of each row: the embedding, and for lexical features the text and its
/// language.
pub struct Inputs<'a> {
    pub emb: &'a Embeddings,
    pub texts: &'a [&'a str],
    pub langs: &'a [&'a str],
}

impl Inputs<'_> {
    fn lexical(&self, spec: &LexicalSpec) -> Vec<Sparse> {
        use rayon::prelude::*;
        (0..self.emb.len())
            .into_par_iter()
            .map(|i| {
                let lang = self.langs.get(i).copied().unwrap_or_default();
                spec.features(self.texts.get(i).copied().unwrap_or_default(), lang)
            })
            .collect()
    }

    /// Embedding and lexical features side by side, as the optimiser sees them.
    fn dense(&self, spec: Option<&LexicalSpec>) -> Cow<'_, Embeddings> {
        let Some(spec) = spec else {
            return Cow::Borrowed(self.emb);
        };
        let d = self.emb.dim + spec.buckets;
        let mut data = vec![0f32; self.emb.len() * d];
        for (i, (row, lex)) in self.emb.rows().zip(self.lexical(spec)).enumerate() {
            let out = &mut data[i * d..(i + 1) * d];
            out[..self.emb.dim].copy_from_slice(row);
            for (b, v) in lex {
                out[self.emb.dim + b as usize] = v;
            }
        }
        Cow::Owned(Embeddings { dim: d, data })
    }
}

/// Identity of the embeddings an encoder gives: its [`weights_hash`], and the arithmetic when
/// it is not f32. Heads are keyed and checked by it.
pub fn encoder_hash(info: &ModelInfo) -> String {
    let base = weights_hash(info);
    // int8 embeddings differ slightly from f32 ones: heads are trained on what a run embeds.
    match info.precision {
        crate::model::Precision::F32 => base,
        p => format!("{base}+{}", p.name()),
    }
}

/// Identity of an encoder's weights (the safetensors hash, else all files; with the key of its
/// adapted layers when it was fine-tuned, whose embeddings differ from the base model's),
/// whatever arithmetic runs them: what adapting the encoder depends on (it trains in f32).
pub fn weights_hash(info: &ModelInfo) -> String {
    let base = info
        .files
        .iter()
        .find(|(name, _)| name.ends_with(".safetensors"))
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| {
            info.files
                .iter()
                .map(|(_, h)| h.as_str())
                .collect::<Vec<_>>()
                .join("")
        });
    match &info.adapted {
        Some(key) => format!("{base}+adapted:{key}"),
        None => base,
    }
}

#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub steps: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// L2 penalty on the weights: a few hundred examples in 384 dimensions are separable, and
    /// without it the head becomes certain of everything.
    pub l2: f64,
    /// Lexical features next to the embedding (see `lexical`), or the embedding alone.
    pub lexical: Option<LexicalSpec>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            steps: 300,
            learning_rate: 0.05,
            weight_decay: 0.0,
            l2: 1.0,
            lexical: None,
        }
    }
}

impl LinearHead {
    pub fn train(
        task: &str,
        labels: Vec<String>,
        inputs: &Inputs,
        y: &Targets,
        encoder: &ModelInfo,
        opts: &TrainOptions,
    ) -> Result<Self, HeadError> {
        let x = inputs.dense(opts.lexical.as_ref());
        let k = labels.len();
        let (weights, bias) = fit(task, k, &x, y, opts)?;
        let multi_label = matches!(y, Targets::Multi(_));
        let mut head = LinearHead::dense(task, labels, multi_label, x.dim, weights, bias);
        if let Targets::Multi(rows) = y {
            head.thresholds = calibrate(task, &x, rows, k, opts)?;
        }
        head.encoder_id = encoder.id.clone();
        head.encoder_sha256 = encoder_hash(encoder);
        head.training_rows = x.len();
        // Split the stacked weights back into the embedding part and the lexical part.
        if let Some(spec) = opts.lexical {
            let (d, b) = (inputs.emb.dim, spec.buckets);
            let mut emb_w = Vec::with_capacity(k * d);
            let mut lex_w = Vec::with_capacity(k * b);
            for row in head.weights.chunks_exact(d + b) {
                emb_w.extend_from_slice(&row[..d]);
                lex_w.extend_from_slice(&row[d..]);
            }
            head.weights = emb_w;
            head.dim = d;
            head.lexical = Some(LexicalWeights {
                spec,
                weights: lex_w,
            });
        }
        Ok(head)
    }

    /// The label a row's probabilities `p` give: the most probable one (multi-label: if it
    /// passes its threshold, else none).
    pub fn top_label(&self, p: &[f32]) -> Option<&str> {
        let j = p
            .iter()
            .enumerate()
            .fold(0, |b, (j, v)| if *v > p[b] { j } else { b });
        let passes = !self.multi_label || p.get(j) >= self.thresholds.get(j);
        passes
            .then(|| self.labels.get(j).map(String::as_str))
            .flatten()
    }

    /// A head over plain feature vectors, before it is tied to an encoder.
    pub(super) fn dense(
        task: &str,
        labels: Vec<String>,
        multi_label: bool,
        dim: usize,
        weights: Vec<f32>,
        bias: Vec<f32>,
    ) -> Self {
        LinearHead {
            task: task.to_string(),
            thresholds: vec![0.5; labels.len()],
            labels,
            multi_label,
            encoder_id: String::new(),
            encoder_sha256: String::new(),
            dim,
            weights,
            bias,
            training_rows: 0,
            lexical: None,
        }
    }

    /// Probabilities per row: softmax (single-label) or sigmoid per label (multi-label).
    pub fn predict(&self, inputs: &Inputs) -> Vec<Vec<f32>> {
        let lex = self.lexical.as_ref().map(|l| (l, inputs.lexical(&l.spec)));
        self.predict_rows(inputs.emb, |i, j| {
            lex.as_ref().map_or(0.0, |(l, feats)| {
                let w = &l.weights[j * l.spec.buckets..(j + 1) * l.spec.buckets];
                feats[i].iter().map(|(b, v)| w[*b as usize] * v).sum()
            })
        })
    }

    /// Probabilities from the embedding part plus `extra(row, label)` on the logits.
    pub(super) fn predict_rows(
        &self,
        x: &Embeddings,
        extra: impl Fn(usize, usize) -> f32,
    ) -> Vec<Vec<f32>> {
        let k = self.labels.len();
        x.rows()
            .enumerate()
            .map(|(i, row)| {
                let logits: Vec<f32> = (0..k)
                    .map(|j| {
                        self.bias[j]
                            + dot(&self.weights[j * self.dim..(j + 1) * self.dim], row)
                            + extra(i, j)
                    })
                    .collect();
                if self.multi_label {
                    logits.iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect()
                } else {
                    let mut p = logits;
                    softmax(&mut p, 1.0);
                    p
                }
            })
            .collect()
    }

    pub fn save(&self, path: &Path) -> Result<(), HeadError> {
        save_json(path, self)
    }

    /// One head from `path`. A file with the two theme heads (see [`HeadFile`]) is refused
    /// with where it belongs, before any other check: read alone, its sentence head would be
    /// dropped unnoticed.
    pub fn load(path: &Path, encoder: &ModelInfo) -> Result<Self, HeadError> {
        match HeadFile::parse(path)? {
            HeadFile::One(head) => {
                head.check_loaded(path, encoder)?;
                Ok(head)
            }
            HeadFile::Themes { .. } => Err(file_err(
                path,
                "holds the two theme heads `palaute train --task themes` writes (whole \
                 answers and sentences of longer ones): set it as [classify] theme_head",
            )),
        }
    }

    /// The checks every loaded head passes: trained on this encoder, and weights that fit
    /// its labels.
    pub(super) fn check_loaded(&self, path: &Path, encoder: &ModelInfo) -> Result<(), HeadError> {
        self.check_encoder(&path.display().to_string(), encoder)?;
        if self.labels.is_empty() {
            return Err(file_err(path, "the head has no labels"));
        }
        if self.weights.len() != self.labels.len() * self.dim
            || self.bias.len() != self.labels.len()
            || self.lexical.as_ref().is_some_and(|l| {
                l.spec.buckets == 0 || l.weights.len() != self.labels.len() * l.spec.buckets
            })
        {
            return Err(file_err(path, "weights do not match labels × dim"));
        }
        Ok(())
    }

    /// A head read positionally (sentiment: negative, neutral, positive) must have exactly
    /// these labels in this order; a head trained for another task would be misread silently.
    pub fn expect_labels(&self, path: &Path, expected: &[&str]) -> Result<(), HeadError> {
        if self
            .labels
            .iter()
            .map(String::as_str)
            .ne(expected.iter().copied())
        {
            return Err(file_err(
                path,
                format!(
                    "a {} head with labels {:?}, expected {expected:?}",
                    self.task, self.labels
                ),
            ));
        }
        Ok(())
    }

    pub fn check_encoder(&self, origin: &str, encoder: &ModelInfo) -> Result<(), HeadError> {
        let hash = encoder_hash(encoder);
        if self.encoder_sha256 != hash || self.dim != encoder.dim {
            return Err(HeadError::EncoderMismatch {
                path: origin.to_string(),
                trained: self.encoder_id.clone(),
                trained_hash: short(&self.encoder_sha256),
                loaded: encoder.id.clone(),
                loaded_hash: short(&hash),
            });
        }
        Ok(())
    }
}

/// Writes `value` as JSON to `path` atomically (a half-written head never loads).
pub(super) fn save_json(path: &Path, value: &impl Serialize) -> Result<(), HeadError> {
    let text = serde_json::to_string(value).map_err(|e| file_err(path, e))?;
    crate::util::write_atomic(path, |f| {
        std::io::Write::write_all(f, text.as_bytes()).map_err(|e| e.to_string())
    })
    .map_err(|e| file_err(path, e))
}

fn short(h: &str) -> String {
    h.chars().take(12).collect()
}

pub(super) fn file_err(path: &Path, e: impl std::fmt::Display) -> HeadError {
    HeadError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::classify) fn info(weights_hash: &str) -> ModelInfo {
        ModelInfo {
            id: "test/encoder".into(),
            revision: None,
            architecture: "BertModel".into(),
            dim: 2,
            max_len: 16,
            files: vec![("model.safetensors".into(), weights_hash.into())],
            adapted: None,
            precision: crate::model::Precision::F32,
            int8_min_cosine: None,
        }
    }

    #[test]
    fn int8_embeddings_key_heads_apart() {
        let f32 = info("abc");
        let int8 = ModelInfo {
            precision: crate::model::Precision::Int8,
            ..info("abc")
        };
        assert_eq!(encoder_hash(&f32), "abc");
        assert_eq!(encoder_hash(&int8), "abc+int8");
        assert_eq!(weights_hash(&int8), "abc");
    }

    pub(in crate::classify) fn head(labels: &[&str]) -> LinearHead {
        LinearHead {
            task: "sentiment".into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            multi_label: false,
            encoder_id: "test/encoder".into(),
            encoder_sha256: "aaaa".into(),
            dim: 2,
            weights: vec![0.5; labels.len() * 2],
            bias: vec![0.0; labels.len()],
            thresholds: vec![0.5; labels.len()],
            training_rows: 3,
            lexical: None,
        }
    }

    #[test]
    fn lexical_features_carry_the_words_and_survive_saving() {
        use crate::model::tiny::{write_tiny_model, TinyArch, TinySpec};
        use crate::model::{EncoderConfig, TextEncoder, TransformerEncoder};
        let dir = tempfile::tempdir().unwrap();
        write_tiny_model(dir.path(), &TinySpec::new(TinyArch::Bert)).unwrap();
        let enc = TransformerEncoder::load(dir.path(), &EncoderConfig::default()).unwrap();
        // A tiny random encoder's vectors mean nothing: whatever is learned is in the words.
        let train = [
            ("Lasku oli väärin.", 0),
            ("Laskussa oli virhe taas.", 0),
            ("Laskutus meni pieleen.", 0),
            ("Toimitus myöhästyi.", 1),
            ("Toimituksen kanssa ongelmia.", 1),
            ("Paketin toimitus kesti viikon.", 1),
        ];
        let test = [
            ("Väärä lasku!", "billing"),
            ("Laskuun tuli virhe.", "billing"),
            ("Toimitusaika oli pitkä.", "delivery"),
            ("Toimitukset myöhässä.", "delivery"),
        ];
        let inputs = |texts: &[&'static str]| -> (Embeddings, Vec<&'static str>) {
            (
                enc.embed(texts, crate::classify::FEATURES).unwrap(),
                vec!["fi"; texts.len()],
            )
        };
        let texts: Vec<&str> = train.iter().map(|t| t.0).collect();
        let (emb, langs) = inputs(&texts);
        let y = Targets::Single(train.iter().map(|t| t.1).collect());
        let opts = TrainOptions {
            lexical: Some(LexicalSpec::default()),
            ..TrainOptions::default()
        };
        let labels = vec!["billing".to_string(), "delivery".to_string()];
        let x = Inputs {
            emb: &emb,
            texts: &texts,
            langs: &langs,
        };
        let head = LinearHead::train("stages", labels, &x, &y, enc.info(), &opts).unwrap();
        assert_eq!(head.dim, emb.dim);
        let texts: Vec<&str> = test.iter().map(|t| t.0).collect();
        let (emb, langs) = inputs(&texts);
        let x = Inputs {
            emb: &emb,
            texts: &texts,
            langs: &langs,
        };
        let probs = head.predict(&x);
        for ((text, gold), p) in test.iter().zip(&probs) {
            assert_eq!(head.top_label(p), Some(*gold), "{text}: {p:?}");
        }
        let path = dir.path().join("head.json");
        head.save(&path).unwrap();
        let loaded = LinearHead::load(&path, enc.info()).unwrap();
        assert_eq!(loaded.predict(&x), probs);
    }

    #[test]
    fn heads_load_only_on_their_encoder_and_with_sane_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("head.json");
        let h = head(&["negative", "neutral", "positive"]);
        h.save(&path).unwrap();
        assert_eq!(LinearHead::load(&path, &info("aaaa")).unwrap(), h);
        assert!(matches!(
            LinearHead::load(&path, &info("bbbb")),
            Err(HeadError::EncoderMismatch { .. })
        ));
        h.expect_labels(&path, &["negative", "neutral", "positive"])
            .unwrap();
        // A themes head given as the sentiment head, or the classes in another order.
        let err = head(&["positive", "negative", "neutral"])
            .expect_labels(&path, &["negative", "neutral", "positive"])
            .unwrap_err();
        assert!(err.to_string().contains("expected"), "{err}");

        head(&[]).save(&path).unwrap();
        let err = LinearHead::load(&path, &info("aaaa")).unwrap_err();
        assert!(err.to_string().contains("no labels"), "{err}");
    }
}
