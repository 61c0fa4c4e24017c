//! Adapting the encoder body to labelled examples: the top layers of the transformer are
//! fine-tuned, with one temporary softmax head per task on the pooled, normalised embedding,
//! so that one adapted body serves every task (a run still embeds each segment once).
//!
//! Why only the top layers: the lower layers' output for every training text is computed
//! once with the inference kernels, so an epoch costs the top layers' forward and backward
//! passes only (minutes on two cores, not hours), and the multilingual lower layers, which
//! map Finnish, Swedish and English to shared representations, stay as pre-trained.
//!
//! Training is deterministic: examples are batched by length, batch order is shuffled from a
//! fixed seed, and candle's CPU kernels reduce in a fixed order — the same examples and
//! options give the same weights (and so can be cached).

mod train;

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{ModelError, Result};
use super::net::LayerParams;
use super::{InputKind, TransformerEncoder};
use crate::record::Task;

/// One task the body is adapted for: `classes` mutually exclusive classes (a multi-label
/// task adds a class for rows with none of its labels, so every labelled row has a target).
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptTask {
    pub name: String,
    pub classes: usize,
}

/// One training text: its token ids and, per task, the classes it belongs to (several share
/// the target equally; `None` = not labelled for that task).
#[derive(Debug, Clone)]
pub struct AdaptExample {
    pub ids: Vec<u32>,
    pub targets: Vec<Option<Vec<u32>>>,
}

/// `[classify.adapt]`: whether and how the encoder is adapted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdaptOptions {
    /// Fine-tune the encoder before training the heads (once per base model and examples;
    /// cached).
    pub enabled: bool,
    /// Whose examples the body is adapted to; the heads of all three are then trained on the
    /// adapted embeddings.
    pub tasks: Vec<Task>,
    /// A researcher's labelled files (`palaute train`'s format) added to the shipped examples,
    /// so recoded labels improve the encoder as well as the head.
    pub examples: Vec<ExampleFile>,
    /// Top transformer layers that are trained (the rest stay as pre-trained).
    pub layers: usize,
    pub epochs: usize,
    /// Texts per optimisation step.
    pub batch: usize,
    /// AdamW learning rate of the body's layers (linear warm-up over the first tenth of the
    /// steps, then linear decay to zero).
    pub lr: f64,
    /// Learning rate of the temporary task heads (initialised to the class centroids).
    pub head_lr: f64,
    /// Logit scale on the cosine between embedding and class vector (inverse temperature).
    pub scale: f64,
    pub seed: u64,
    /// Share of the fine-tuned change kept (weight-space ensembling with the pre-trained
    /// layers: 1 = fine-tuned, 0 = pre-trained). Mixing keeps more of what the pre-trained
    /// model knows about text unlike the training examples.
    pub keep: f32,
    /// What the layers are trained to do (README, "Adapting the encoder").
    pub objective: AdaptObjective,
}

/// The training objective of [`AdaptOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdaptObjective {
    /// One temporary softmax head per task on the embedding (cross-entropy, summed).
    #[default]
    Softmax,
    /// SetFit's: for every two texts of a batch labelled for a task, the cosine of their
    /// embeddings pulled towards 1 when they share a label and towards 0 when not (squared
    /// error, summed over tasks). No heads.
    Pairs,
}

impl Default for AdaptOptions {
    fn default() -> Self {
        AdaptOptions {
            enabled: true,
            tasks: vec![Task::Sentiment, Task::Themes, Task::Stages],
            examples: Vec::new(),
            layers: 2,
            epochs: 2,
            batch: 32,
            lr: 1e-4,
            head_lr: 1e-3,
            scale: 20.0,
            // "palaute" in ASCII.
            seed: 0x0070_616c_6175_7465,
            keep: 0.3,
            objective: AdaptObjective::Softmax,
        }
    }
}

/// `[[classify.adapt.examples]]`: a labelled file for one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleFile {
    /// CSV with `id,text,lang` and the task's labels in `label` or in its own column
    /// (`sentiment`, `themes`, `stage`), as `palaute train` reads it.
    pub file: std::path::PathBuf,
    pub task: Task,
}

/// What adapting did, for `run.json` and the log.
#[derive(Debug, Clone, Serialize)]
pub struct AdaptReport {
    pub examples: usize,
    pub tokens: usize,
    pub steps: usize,
    /// Mean training loss (summed over tasks) of the first and the last epoch.
    pub first_epoch_loss: f64,
    pub last_epoch_loss: f64,
    pub seconds: f64,
}

/// Adapting, caching and mixing the layers of a loaded encoder.
impl TransformerEncoder {
    /// Token ids a training text is fed as: the prefix of `kind` (the one the adapted layers
    /// will see at inference), special tokens, and only the first window of a text longer
    /// than `max_len` (training texts are short).
    pub fn training_ids(&self, text: &str, kind: InputKind) -> Result<Vec<u32>> {
        let prefix = self.prefix(kind).to_string();
        let prefix_ids = if prefix.is_empty() {
            Vec::new()
        } else {
            self.tokenizer
                .encode(prefix.as_str(), false)
                .map_err(|e| ModelError::Tokenizer(e.to_string()))?
                .get_ids()
                .to_vec()
        };
        let windows = self.windows(0, &format!("{prefix}{text}"), &prefix_ids)?;
        Ok(windows
            .into_iter()
            .next()
            .map(|w| w.ids)
            .unwrap_or_default())
    }

    /// Fine-tunes the top layers on `examples` (see [`super::adapt`]). Mark the result with
    /// [`TransformerEncoder::set_adapted`].
    pub fn adapt(
        &mut self,
        examples: &[AdaptExample],
        tasks: &[AdaptTask],
        opts: &AdaptOptions,
        on_step: &mut dyn FnMut(usize, usize),
    ) -> Result<AdaptReport> {
        // Trained in f32 whatever the encoder runs at, so one adaptation serves both (the
        // int8 copies of the layers are re-derived from the adapted weights).
        let int8 = self.model.is_int8();
        self.model.set_int8(false)?;
        let report = train::train(
            &mut self.model,
            examples,
            tasks,
            opts,
            self.batch_tokens,
            on_step,
        );
        self.model.set_int8(int8)?;
        report
    }

    /// Records that the layers are no longer the model's own, under `key`, so heads trained on
    /// this encoder are cached and checked apart from the base model's.
    pub fn set_adapted(&mut self, key: &str) {
        self.info.adapted = Some(key.to_string());
    }

    /// Moves the layers from `first` on back towards `base` (their pre-trained values):
    /// θ = θ₀ + `keep` · (θ − θ₀), weight-space ensembling of the fine-tuned and the pre-trained
    /// model (Wortsman et al., 2022, "Robust fine-tuning of zero-shot models").
    pub fn interpolate_layers(
        &mut self,
        base: &[LayerParams],
        first: usize,
        keep: f32,
    ) -> Result<()> {
        for (l, b) in (first..self.model.num_layers()).zip(base) {
            let mut p = self.model.layer_params(l)?;
            for ((data, _), (b, _)) in p.0.iter_mut().zip(&b.0) {
                for (v, b) in data.iter_mut().zip(b) {
                    *v = b + keep * (*v - b);
                }
            }
            self.model.set_layer_params(l, p)?;
        }
        Ok(())
    }

    /// The parameters of the layers from `first` on (to interpolate back towards later).
    pub fn layers_from(&self, first: usize) -> Result<Vec<LayerParams>> {
        (first..self.model.num_layers())
            .map(|l| self.model.layer_params(l))
            .collect()
    }

    /// Writes the adapted layers (those from `first` on) to `path` as safetensors, atomically.
    pub fn save_layers(&self, path: &Path, first: usize) -> Result<()> {
        let mut tensors = HashMap::new();
        for l in first..self.model.num_layers() {
            let p = self.model.layer_params(l)?;
            for (name, (data, shape)) in LayerParams::NAMES.iter().zip(p.0) {
                let t = candle_core::Tensor::from_vec(data, shape, &candle_core::Device::Cpu)?;
                tensors.insert(format!("layer.{l}.{name}"), t);
            }
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
        let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| ModelError::io(dir, e))?;
        candle_core::safetensors::save(&tensors, tmp.path())?;
        tmp.persist(path)
            .map_err(|e| ModelError::io(path, e.error))?;
        Ok(())
    }

    /// Replaces layers with those [`TransformerEncoder::save_layers`] wrote.
    pub fn load_layers(&mut self, path: &Path) -> Result<()> {
        let tensors = candle_core::safetensors::load(path, &candle_core::Device::Cpu)?;
        let mut layers: Vec<usize> = tensors
            .keys()
            .filter_map(|k| k.strip_prefix("layer.")?.split('.').next()?.parse().ok())
            .collect();
        layers.sort_unstable();
        layers.dedup();
        // Everything is read and checked before any layer is replaced: a bad file leaves the
        // encoder as it was.
        let mut read = Vec::with_capacity(layers.len());
        for l in layers {
            if l >= self.model.num_layers() {
                return Err(ModelError::invalid(
                    path,
                    format!("no layer {l} in the model"),
                ));
            }
            let p = LayerParams::NAMES
                .iter()
                .map(|name| {
                    let t = tensors.get(&format!("layer.{l}.{name}")).ok_or_else(|| {
                        ModelError::invalid(path, format!("layer.{l}.{name} is missing"))
                    })?;
                    Ok((t.flatten_all()?.to_vec1::<f32>()?, t.dims().to_vec()))
                })
                .collect::<Result<Vec<_>>>()?;
            let p = LayerParams(p);
            self.model
                .check_layer_params(l, &p)
                .map_err(|e| ModelError::invalid(path, e))?;
            read.push((l, p));
        }
        for (l, p) in read {
            self.model.set_layer_params(l, p)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::train::{pad, pooled, LayerShape, TrainLayer};
    use super::*;
    use crate::model::tiny::{write_tiny_model, TinyArch, TinySpec};
    use crate::model::{EncoderConfig, InputKind, TextEncoder, TransformerEncoder};
    use candle_core::{DType, Device, Tensor};

    fn tiny(arch: TinyArch) -> (tempfile::TempDir, TransformerEncoder) {
        let dir = tempfile::tempdir().unwrap();
        write_tiny_model(dir.path(), &TinySpec::new(arch)).unwrap();
        let enc = TransformerEncoder::load(dir.path(), &EncoderConfig::default()).unwrap();
        (dir, enc)
    }

    const TEXTS: [&str; 6] = [
        "the service was slow",
        "slow slow",
        "was the service slow",
        "good",
        "the service was good",
        "good good good",
    ];

    fn examples(enc: &TransformerEncoder) -> Vec<AdaptExample> {
        TEXTS
            .iter()
            .enumerate()
            .map(|(i, t)| AdaptExample {
                ids: enc.training_ids(t, InputKind::Passage).unwrap(),
                targets: vec![Some(vec![u32::from(i >= 3)])],
            })
            .collect()
    }

    fn task() -> Vec<AdaptTask> {
        vec![AdaptTask {
            name: "sentiment".into(),
            classes: 2,
        }]
    }

    /// The differentiable copy must compute what the inference kernels compute, or training
    /// would optimise another network than the one that runs.
    #[test]
    fn training_forward_matches_inference() {
        for arch in [TinyArch::Bert, TinyArch::XlmRoberta, TinyArch::DistilBert] {
            let (_dir, enc) = tiny(arch);
            let model = &enc.model;
            let ex = examples(&enc);
            let seqs: Vec<&[u32]> = ex.iter().map(|e| e.ids.as_slice()).collect();
            let first = model.num_layers() - 1;
            let (hidden, offsets) = model.forward_until(&seqs, first).unwrap();
            let h = model.hidden();
            let states: Vec<Vec<f32>> = (0..seqs.len())
                .map(|s| hidden[offsets[s] * h..offsets[s + 1] * h].to_vec())
                .collect();
            let (heads, activation, eps) = model.layer_shape();
            let shape = LayerShape {
                heads,
                activation,
                eps: f64::from(eps),
            };
            let layer = TrainLayer::new(&model.layer_params(first).unwrap()).unwrap();
            let batch: Vec<usize> = (0..seqs.len()).collect();
            let (x, mask, pool) = pad(&states, &batch, h).unwrap();
            let got = pooled(&layer.forward(&x, &mask, shape).unwrap(), &pool)
                .unwrap()
                .to_vec2::<f32>()
                .unwrap();
            let want = enc.embed(&TEXTS, InputKind::Passage).unwrap();
            for (i, row) in got.iter().enumerate() {
                for (a, b) in row.iter().zip(want.row(i)) {
                    assert!((a - b).abs() < 1e-5, "{arch:?} text {i}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn adapting_learns_is_deterministic_and_round_trips() {
        let opts = AdaptOptions {
            enabled: true,
            layers: 1,
            epochs: 8,
            batch: 2,
            lr: 1e-2,
            head_lr: 1e-2,
            ..AdaptOptions::default()
        };
        let (_d1, mut a) = tiny(TinyArch::Bert);
        let ex = examples(&a);
        let before = a.embed(&TEXTS, InputKind::Passage).unwrap();
        let mut steps = 0;
        let report = a
            .adapt(&ex, &task(), &opts, &mut |done, _| steps = done)
            .unwrap();
        a.set_adapted("k");
        assert_eq!(steps, report.steps);
        assert!(
            report.last_epoch_loss < report.first_epoch_loss * 0.8,
            "{report:?}"
        );
        let after = a.embed(&TEXTS, InputKind::Passage).unwrap();
        assert_ne!(before, after);
        assert_eq!(a.info().adapted.as_deref(), Some("k"));
        // Only the top layer was trained.
        let (_d0, base) = tiny(TinyArch::Bert);
        assert_eq!(
            a.model.layer_params(0).unwrap(),
            base.model.layer_params(0).unwrap()
        );

        let (_d2, mut b) = tiny(TinyArch::Bert);
        b.adapt(&ex, &task(), &opts, &mut |_, _| ()).unwrap();
        assert_eq!(after, b.embed(&TEXTS, InputKind::Passage).unwrap());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("layers.safetensors");
        a.save_layers(&path, 1).unwrap();
        let (_d3, mut c) = tiny(TinyArch::Bert);
        c.load_layers(&path).unwrap();
        assert_eq!(after, c.embed(&TEXTS, InputKind::Passage).unwrap());

        // Keeping none of the change is the pre-trained model again; half of it is in between.
        let (_d4, mut d) = tiny(TinyArch::Bert);
        let base_layers = d.layers_from(1).unwrap();
        d.load_layers(&path).unwrap();
        d.interpolate_layers(&base_layers, 1, 0.0).unwrap();
        assert_eq!(before, d.embed(&TEXTS, InputKind::Passage).unwrap());
        d.load_layers(&path).unwrap();
        d.interpolate_layers(&base_layers, 1, 0.5).unwrap();
        let half = d.embed(&TEXTS, InputKind::Passage).unwrap();
        assert!(half != before && half != after);
    }

    #[test]
    fn pair_loss_is_setfits_squared_cosine_error() {
        let tasks = [AdaptTask {
            name: "sentiment".into(),
            classes: 2,
        }];
        let ex = |t: Option<Vec<u32>>| AdaptExample {
            ids: vec![1],
            targets: vec![t],
        };
        let examples = [
            ex(Some(vec![0])),
            ex(None),
            ex(Some(vec![0, 1])),
            ex(Some(vec![1])),
        ];
        // Rows 0, 2 and 3 are labelled: (0, 2) share class 0, (2, 3) class 1, (0, 3) nothing.
        let rows = vec![1f32, 0., 0., 1., 0.6, 0.8, 1., 0.];
        let emb = Tensor::from_vec(rows, (4, 2), &Device::Cpu).unwrap();
        let loss = super::train::pair_loss(&emb, &[0, 1, 2, 3], &examples, &tasks)
            .unwrap()
            .expect("three labelled rows make pairs");
        // Cosines 0.6 (target 1), 0.6 (target 1) and 1 (target 0).
        let want = (0.16 + 0.16 + 1.0) / 3.0;
        let got = loss.to_scalar::<f32>().unwrap();
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        // One labelled row makes no pair.
        let none = super::train::pair_loss(&emb, &[0, 1], &examples, &tasks).unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn a_file_of_another_model_is_an_error() {
        let (_d, mut enc) = tiny(TinyArch::Bert);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.safetensors");
        let t = Tensor::zeros((3, 3), DType::F32, &Device::Cpu).unwrap();
        let mut m = std::collections::HashMap::new();
        m.insert("layer.1.qkv.weight".to_string(), t);
        candle_core::safetensors::save(&m, &path).unwrap();
        let err = enc.load_layers(&path).unwrap_err().to_string();
        assert!(err.contains("bad.safetensors"), "{err}");
        assert_eq!(enc.info().adapted, None);
    }
}
