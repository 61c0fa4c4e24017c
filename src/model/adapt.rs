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

use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::batching::plan_batches;
use super::config::Activation;
use super::error::Result;
use super::net::{LayerParams, Transformer};
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

/// `[classify.adapt]` training settings (besides `enabled`, which lives with the config).
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

/// A differentiable copy of one transformer layer.
struct TrainLayer {
    vars: Vec<Var>,
}

impl TrainLayer {
    fn new(p: &LayerParams) -> Result<Self> {
        let vars =
            p.0.iter()
                .map(|(data, shape)| {
                    Var::from_tensor(&Tensor::from_slice(data, shape.as_slice(), &Device::Cpu)?)
                })
                .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(TrainLayer { vars })
    }

    fn params(&self) -> Result<LayerParams> {
        let p = self
            .vars
            .iter()
            .map(|v| -> Result<_> {
                let t = v.as_tensor();
                Ok((t.flatten_all()?.to_vec1::<f32>()?, t.dims().to_vec()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(LayerParams(p))
    }

    /// `x`: `(batch, tokens, hidden)`; `mask`: additive `(batch, 1, 1, tokens)` (0 for real
    /// tokens, a large negative number for padding).
    fn forward(&self, x: &Tensor, mask: &Tensor, shape: LayerShape) -> Result<Tensor> {
        let v: Vec<&Tensor> = self.vars.iter().map(|v| v.as_tensor()).collect();
        let (b, t, h) = x.dims3()?;
        let heads = shape.heads;
        let dh = h / heads;
        let qkv = linear(x, v[0], v[1])?
            .reshape((b, t, 3, heads, dh))?
            .permute((2, 0, 3, 1, 4))?;
        let q = qkv.get(0)?.contiguous()?;
        let k = qkv.get(1)?.contiguous()?;
        let val = qkv.get(2)?.contiguous()?;
        let scores =
            (q.matmul(&k.t()?.contiguous()?)? * (1.0 / (dh as f64).sqrt()))?.broadcast_add(mask)?;
        let p = candle_nn::ops::softmax(&scores, D::Minus1)?;
        let ctx = p.matmul(&val)?.transpose(1, 2)?.reshape((b, t, h))?;
        let h1 = layer_norm(&(linear(&ctx, v[2], v[3])? + x)?, v[4], v[5], shape.eps)?;
        let up = linear(&h1, v[6], v[7])?;
        let act = match shape.activation {
            Activation::GeluErf => up.gelu_erf()?,
            Activation::GeluTanh => up.gelu()?,
            Activation::Relu => up.relu()?,
        };
        Ok(layer_norm(
            &(linear(&act, v[8], v[9])? + &h1)?,
            v[10],
            v[11],
            shape.eps,
        )?)
    }
}

#[derive(Clone, Copy)]
struct LayerShape {
    heads: usize,
    activation: Activation,
    eps: f64,
}

fn linear(x: &Tensor, w: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    x.broadcast_matmul(&w.t()?)?.broadcast_add(b)
}

fn layer_norm(x: &Tensor, g: &Tensor, b: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let xc = x.broadcast_sub(&mean)?;
    let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
    xc.broadcast_div(&(var + eps)?.sqrt()?)?
        .broadcast_mul(g)?
        .broadcast_add(b)
}

/// Fine-tunes the top `opts.layers` layers of `model` on `examples` and writes the result into
/// `model`. `batch_tokens` bounds the packed batches of the frozen pass, as in inference;
/// `on_step(done, total)` reports progress.
pub fn train(
    model: &mut Transformer,
    examples: &[AdaptExample],
    tasks: &[AdaptTask],
    opts: &AdaptOptions,
    batch_tokens: usize,
    on_step: &mut dyn FnMut(usize, usize),
) -> Result<AdaptReport> {
    let started = Instant::now();
    let n_layers = model.num_layers();
    let first = n_layers.saturating_sub(opts.layers.min(n_layers));
    let (heads, activation, eps) = model.layer_shape();
    let trainer = Trainer {
        examples,
        tasks,
        h: model.hidden(),
        shape: LayerShape {
            heads,
            activation,
            eps: f64::from(eps),
        },
        states: frozen_states(model, examples, first, batch_tokens)?,
        layers: (first..n_layers)
            .map(|l| model.layer_params(l).and_then(|p| TrainLayer::new(&p)))
            .collect::<Result<_>>()?,
        batches: length_batches(examples, opts.batch),
    };
    let heads = trainer.centroid_heads()?;
    let (steps, first_epoch_loss, last_epoch_loss) = trainer.optimise(&heads, opts, on_step)?;
    for (l, layer) in (first..n_layers).zip(&trainer.layers) {
        model.set_layer_params(l, layer.params()?)?;
    }
    Ok(AdaptReport {
        examples: examples.len(),
        tokens: examples.iter().map(|e| e.ids.len()).sum(),
        steps,
        first_epoch_loss,
        last_epoch_loss,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The output of the frozen layers (those below `first`) for every example, computed once
/// with the inference kernels.
fn frozen_states(
    model: &Transformer,
    examples: &[AdaptExample],
    first: usize,
    batch_tokens: usize,
) -> Result<Vec<Vec<f32>>> {
    let h = model.hidden();
    let lens: Vec<usize> = examples.iter().map(|e| e.ids.len()).collect();
    let mut states: Vec<Vec<f32>> = vec![Vec::new(); examples.len()];
    for batch in plan_batches(&lens, batch_tokens, 256) {
        let seqs: Vec<&[u32]> = batch.iter().map(|&i| examples[i].ids.as_slice()).collect();
        let (hidden, offsets) = model.forward_until(&seqs, first)?;
        for (k, &i) in batch.iter().enumerate() {
            states[i] = hidden[offsets[k] * h..offsets[k + 1] * h].to_vec();
        }
    }
    Ok(states)
}

/// Batches of `size` examples of similar length (little padding), in a fixed order.
fn length_batches(examples: &[AdaptExample], size: usize) -> Vec<Vec<usize>> {
    let mut by_len: Vec<usize> = (0..examples.len()).collect();
    by_len.sort_by_key(|&i| (examples[i].ids.len(), i));
    by_len.chunks(size.max(1)).map(<[usize]>::to_vec).collect()
}

/// A task's temporary head: class vectors `(classes, hidden)` and biases.
type TaskHead = (Var, Var);

struct Trainer<'a> {
    examples: &'a [AdaptExample],
    tasks: &'a [AdaptTask],
    h: usize,
    shape: LayerShape,
    states: Vec<Vec<f32>>,
    layers: Vec<TrainLayer>,
    batches: Vec<Vec<usize>>,
}

impl Trainer<'_> {
    /// Pooled, normalised embeddings `(batch, hidden)` of the examples `batch`.
    fn embed(&self, batch: &[usize]) -> Result<Tensor> {
        let (mut x, mask, pool) = pad(&self.states, batch, self.h)?;
        for l in &self.layers {
            x = l.forward(&x, &mask, self.shape)?;
        }
        Ok(pooled(&x, &pool)?)
    }

    /// Heads start at the class centroids of the unadapted embeddings, so the first steps
    /// already push the body the right way instead of training random heads.
    fn centroid_heads(&self) -> Result<Vec<TaskHead>> {
        let h = self.h;
        let mut sums = vec![vec![0f64; h]; self.tasks.iter().map(|t| t.classes).sum()];
        for batch in &self.batches {
            let emb = self.embed(batch)?.to_vec2::<f32>()?;
            for (row, &i) in emb.iter().zip(batch) {
                let mut base = 0;
                for (t, task) in self.tasks.iter().enumerate() {
                    for &c in self.examples[i].targets[t].iter().flatten() {
                        for (s, v) in sums[base + c as usize].iter_mut().zip(row) {
                            *s += f64::from(*v);
                        }
                    }
                    base += task.classes;
                }
            }
        }
        let mut heads = Vec::new();
        let mut base = 0;
        for task in self.tasks {
            let mut w = Vec::with_capacity(task.classes * h);
            for s in &sums[base..base + task.classes] {
                let norm = s.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
                w.extend(s.iter().map(|v| (v / norm) as f32));
            }
            base += task.classes;
            heads.push((
                Var::from_tensor(&Tensor::from_vec(w, (task.classes, h), &Device::Cpu)?)?,
                Var::zeros(task.classes, DType::F32, &Device::Cpu)?,
            ));
        }
        Ok(heads)
    }

    /// AdamW over the layers and heads, batches in a seeded order per epoch, linear warm-up
    /// and decay. Returns the steps taken and the mean loss of the first and last epoch.
    fn optimise(
        &self,
        heads: &[TaskHead],
        opts: &AdaptOptions,
        on_step: &mut dyn FnMut(usize, usize),
    ) -> Result<(usize, f64, f64)> {
        let adamw = |vars: Vec<Var>, lr: f64, weight_decay: f64| {
            AdamW::new(
                vars,
                ParamsAdamW {
                    lr,
                    weight_decay,
                    ..ParamsAdamW::default()
                },
            )
        };
        let body: Vec<Var> = self.layers.iter().flat_map(|l| l.vars.clone()).collect();
        let mut body_opt = adamw(body, opts.lr, 0.01)?;
        let head_vars = heads.iter().flat_map(|(w, b)| [w.clone(), b.clone()]);
        let mut head_opt = adamw(head_vars.collect(), opts.head_lr, 0.0)?;

        let total_steps = (self.batches.len() * opts.epochs).max(1);
        let warmup = (total_steps / 10).max(1);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
        let mut order: Vec<usize> = (0..self.batches.len()).collect();
        let mut step = 0usize;
        let (mut first_loss, mut last_loss) = (0f64, 0f64);
        for epoch in 0..opts.epochs {
            order.shuffle(&mut rng);
            let mut epoch_loss = 0f64;
            for &bi in &order {
                let batch = &self.batches[bi];
                let factor = if step < warmup {
                    (step + 1) as f64 / warmup as f64
                } else {
                    (total_steps - step) as f64 / (total_steps - warmup).max(1) as f64
                };
                body_opt.set_learning_rate(opts.lr * factor);
                head_opt.set_learning_rate(opts.head_lr * factor);
                let emb = self.embed(batch)?;
                let Some(loss) =
                    batch_loss(&emb, batch, self.examples, self.tasks, heads, opts.scale)?
                else {
                    continue;
                };
                epoch_loss += f64::from(loss.to_scalar::<f32>()?);
                let grads = loss.backward()?;
                body_opt.step(&grads)?;
                head_opt.step(&grads)?;
                step += 1;
                on_step(step, total_steps);
            }
            let mean = epoch_loss / self.batches.len().max(1) as f64;
            tracing::info!("adapting the encoder: epoch {} loss {mean:.4}", epoch + 1);
            if epoch == 0 {
                first_loss = mean;
            }
            last_loss = mean;
        }
        Ok((step, first_loss, last_loss))
    }
}

/// The examples `batch` padded to its longest: hidden states `(b, t, h)`, the additive
/// attention mask `(b, 1, 1, t)` and the pooling weights `(b, t, 1)` (1/len on real tokens).
fn pad(states: &[Vec<f32>], batch: &[usize], h: usize) -> Result<(Tensor, Tensor, Tensor)> {
    let t = batch
        .iter()
        .map(|&i| states[i].len() / h)
        .max()
        .unwrap_or(0)
        .max(1);
    let b = batch.len();
    let mut x = vec![0f32; b * t * h];
    let mut mask = vec![-1e4f32; b * t];
    let mut pool = vec![0f32; b * t];
    for (k, &i) in batch.iter().enumerate() {
        let len = states[i].len() / h;
        x[k * t * h..k * t * h + len * h].copy_from_slice(&states[i]);
        for j in 0..len {
            mask[k * t + j] = 0.0;
            pool[k * t + j] = 1.0 / len.max(1) as f32;
        }
    }
    Ok((
        Tensor::from_vec(x, (b, t, h), &Device::Cpu)?,
        Tensor::from_vec(mask, (b, 1, 1, t), &Device::Cpu)?,
        Tensor::from_vec(pool, (b, t, 1), &Device::Cpu)?,
    ))
}

/// Mean over real tokens, then L2-normalised: the sentence embedding inference computes.
fn pooled(hidden: &Tensor, pool: &Tensor) -> candle_core::Result<Tensor> {
    let mean = hidden.broadcast_mul(pool)?.sum(1)?;
    let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
    mean.broadcast_div(&(norm + 1e-12)?)
}

/// Cross-entropy of every task over the batch's rows labelled for it, summed over tasks.
fn batch_loss(
    emb: &Tensor,
    batch: &[usize],
    examples: &[AdaptExample],
    tasks: &[AdaptTask],
    heads: &[TaskHead],
    scale: f64,
) -> Result<Option<Tensor>> {
    let mut total: Option<Tensor> = None;
    for (t, (task, (w, b))) in tasks.iter().zip(heads).enumerate() {
        let mut rows = Vec::new();
        let mut target = Vec::new();
        for (k, &i) in batch.iter().enumerate() {
            if let Some(cls) = &examples[i].targets[t] {
                if cls.is_empty() {
                    continue;
                }
                rows.push(k as u32);
                let mut y = vec![0f32; task.classes];
                for &c in cls {
                    y[c as usize] = 1.0 / cls.len() as f32;
                }
                target.extend(y);
            }
        }
        if rows.is_empty() {
            continue;
        }
        let n = rows.len();
        let idx = Tensor::from_vec(rows, n, &Device::Cpu)?;
        let e = emb.index_select(&idx, 0)?;
        let logits = (e.matmul(&w.as_tensor().t()?)? * scale)?.broadcast_add(b.as_tensor())?;
        let logp = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
        let y = Tensor::from_vec(target, (n, task.classes), &Device::Cpu)?;
        let loss = ((logp * y)?.sum_all()? * (-1.0 / n as f64))?;
        total = Some(match total {
            Some(acc) => (acc + loss)?,
            None => loss,
        });
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tiny::{write_tiny_model, TinyArch, TinySpec};
    use crate::model::{EncoderConfig, InputKind, TextEncoder, TransformerEncoder};

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
                ids: enc.training_ids(t).unwrap(),
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
