//! The training loop behind [`super`]: a differentiable copy of the top layers (candle
//! autograd), temporary task heads, AdamW.

use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::{AdaptExample, AdaptObjective, AdaptOptions, AdaptReport, AdaptTask};
use crate::model::batching::plan_batches;
use crate::model::config::Activation;
use crate::model::error::Result;
use crate::model::net::{LayerParams, Transformer};

/// A differentiable copy of one transformer layer.
pub(super) struct TrainLayer {
    vars: Vec<Var>,
}

impl TrainLayer {
    pub(super) fn new(p: &LayerParams) -> Result<Self> {
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
    pub(super) fn forward(&self, x: &Tensor, mask: &Tensor, shape: LayerShape) -> Result<Tensor> {
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
pub(super) struct LayerShape {
    pub(super) heads: usize,
    pub(super) activation: Activation,
    pub(super) eps: f64,
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
pub(super) fn train(
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
    let heads = match opts.objective {
        AdaptObjective::Softmax => trainer.centroid_heads()?,
        AdaptObjective::Pairs => Vec::new(),
    };
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
                let loss = match opts.objective {
                    AdaptObjective::Softmax => {
                        batch_loss(&emb, batch, self.examples, self.tasks, heads, opts.scale)?
                    }
                    AdaptObjective::Pairs => pair_loss(&emb, batch, self.examples, self.tasks)?,
                };
                let Some(loss) = loss else {
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
pub(super) fn pad(
    states: &[Vec<f32>],
    batch: &[usize],
    h: usize,
) -> Result<(Tensor, Tensor, Tensor)> {
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
pub(super) fn pooled(hidden: &Tensor, pool: &Tensor) -> candle_core::Result<Tensor> {
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

/// SetFit's objective over the batch: for each task, every two rows labelled for it, the
/// squared distance of their cosine (embeddings are unit vectors) from 1 when their label
/// sets meet and from 0 when they do not, averaged over the pairs; summed over tasks.
pub(super) fn pair_loss(
    emb: &Tensor,
    batch: &[usize],
    examples: &[AdaptExample],
    tasks: &[AdaptTask],
) -> Result<Option<Tensor>> {
    let mut total: Option<Tensor> = None;
    for t in 0..tasks.len() {
        let labelled: Vec<(u32, &Vec<u32>)> = batch
            .iter()
            .enumerate()
            .filter_map(|(k, &i)| match &examples[i].targets[t] {
                Some(cls) if !cls.is_empty() => Some((k as u32, cls)),
                _ => None,
            })
            .collect();
        let n = labelled.len();
        if n < 2 {
            continue;
        }
        let mut target = vec![0f32; n * n];
        let mut mask = vec![0f32; n * n];
        for (a, (_, ca)) in labelled.iter().enumerate() {
            for (b, (_, cb)) in labelled.iter().enumerate().skip(a + 1) {
                mask[a * n + b] = 1.0;
                target[a * n + b] = f32::from(u8::from(ca.iter().any(|c| cb.contains(c))));
            }
        }
        let pairs = (n * (n - 1) / 2) as f64;
        let rows: Vec<u32> = labelled.iter().map(|(k, _)| *k).collect();
        let e = emb.index_select(&Tensor::from_vec(rows, n, &Device::Cpu)?, 0)?;
        let sim = e.matmul(&e.t()?)?;
        let y = Tensor::from_vec(target, (n, n), &Device::Cpu)?;
        let m = Tensor::from_vec(mask, (n, n), &Device::Cpu)?;
        let loss = ((sim - y)?.sqr()? * m)?
            .sum_all()?
            .affine(1.0 / pairs, 0.0)?;
        total = Some(match total {
            Some(acc) => (acc + loss)?,
            None => loss,
        });
    }
    Ok(total)
}
