//! Training a linear head: full-batch AdamW on standardised features with an L2 penalty
//! (candle, deterministic on CPU), and the per-label thresholds of multi-label heads.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use super::head::{HeadError, LinearHead, Targets, TrainOptions};
use crate::model::Embeddings;

fn cerr(task: &str) -> impl Fn(candle_core::Error) -> HeadError + '_ {
    move |e| HeadError::Train {
        task: task.to_string(),
        message: e.to_string(),
    }
}

/// Fit weights (k × dim) and bias. Features are standardised for the optimiser (E5 cosines
/// crowd into a narrow band, which makes raw features badly conditioned), then the scaling is
/// folded back into the weights so prediction is a plain dot product.
pub(super) fn fit(
    task: &str,
    k: usize,
    x: &Embeddings,
    y: &Targets,
    opts: &TrainOptions,
) -> Result<(Vec<f32>, Vec<f32>), HeadError> {
    let e = cerr(task);
    let (n, d) = (x.len(), x.dim);
    if n == 0 || k == 0 {
        return Err(HeadError::Train {
            task: task.into(),
            message: "no training rows".into(),
        });
    }
    let mut mean = vec![0f32; d];
    for row in x.rows() {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v / n as f32;
        }
    }
    let var: f32 = x
        .rows()
        .map(|r| {
            r.iter()
                .zip(&mean)
                .map(|(v, m)| (v - m) * (v - m))
                .sum::<f32>()
        })
        .sum::<f32>()
        / (n * d) as f32;
    let scale = var.sqrt().max(1e-6);
    let std_data: Vec<f32> = x
        .rows()
        .flat_map(|r| {
            r.iter()
                .zip(&mean)
                .map(|(v, m)| (v - m) / scale)
                .collect::<Vec<_>>()
        })
        .collect();
    let dev = Device::Cpu;
    let xt = Tensor::from_vec(std_data, (n, d), &dev).map_err(&e)?;
    let w = Var::zeros((d, k), DType::F32, &dev).map_err(&e)?;
    let b = Var::zeros(k, DType::F32, &dev).map_err(&e)?;
    let mut opt = AdamW::new(
        vec![w.clone(), b.clone()],
        ParamsAdamW {
            lr: opts.learning_rate,
            weight_decay: opts.weight_decay,
            ..ParamsAdamW::default()
        },
    )
    .map_err(&e)?;
    let targets = match y {
        Targets::Single(t) => Tensor::from_vec(t.clone(), n, &dev).map_err(&e)?,
        Targets::Multi(rows) => Tensor::from_vec(
            rows.iter().flatten().copied().collect::<Vec<f32>>(),
            (n, k),
            &dev,
        )
        .map_err(&e)?,
    };
    // Multi-label: each label's positives are rare; weight them up to balance the loss.
    let pos_weight = match y {
        Targets::Multi(rows) => {
            let pw: Vec<f32> = (0..k)
                .map(|j| {
                    let pos = rows.iter().filter(|r| r[j] > 0.5).count().max(1) as f32;
                    ((n as f32 - pos) / pos).clamp(1.0, 50.0)
                })
                .collect();
            Some(Tensor::from_vec(pw, k, &dev).map_err(&e)?)
        }
        Targets::Single(_) => None,
    };
    // xt · w is differentiated by hand: candle's matmul backward also computes the gradient
    // of the constant features (rows × dim, 82 MB per step for ~4,600 rows with the lexical
    // block) and adds it to a zeroed tensor of that size, two thirds of a step's arithmetic
    // and most of its time in the kernel's page faults. The gradient of `w` is summed from
    // the same two terms with the same calls as candle's (xt^T · dlogits, then the penalty's),
    // so the head is the same bits.
    let xt_t = xt.t().map_err(&e)?;
    for _ in 0..opts.steps {
        let product = xt.matmul(&w.as_tensor().detach()).map_err(&e)?;
        let product = Var::from_tensor(&product).map_err(&e)?;
        let logits = product.broadcast_add(b.as_tensor()).map_err(&e)?;
        let loss = match &pos_weight {
            None => candle_nn::loss::cross_entropy(&logits, &targets),
            Some(pw) => weighted_bce(&logits, &targets, pw),
        }
        .map_err(&e)?;
        let penalty = w
            .as_tensor()
            .sqr()
            .and_then(|t| t.sum_all())
            .and_then(|t| t * (opts.l2 / 2.0))
            .map_err(&e)?;
        let loss = (loss + penalty).map_err(&e)?;
        let mut grads = loss.backward().map_err(&e)?;
        let dlogits = grads
            .remove(product.as_tensor())
            .ok_or_else(|| HeadError::Train {
                task: task.to_string(),
                message: "no gradient reached the logits".into(),
            })?;
        let from_product = xt_t.matmul(&dlogits).map_err(&e)?;
        let grad_w = match grads.remove(w.as_tensor()) {
            Some(from_penalty) => (from_penalty + from_product).map_err(&e)?,
            None => from_product,
        };
        grads.insert(w.as_tensor(), grad_w);
        opt.step(&grads).map_err(&e)?;
    }
    let wv: Vec<Vec<f32>> = w.as_tensor().to_vec2().map_err(&e)?;
    let bv: Vec<f32> = b.as_tensor().to_vec1().map_err(&e)?;
    let mut weights = vec![0f32; k * d];
    let mut bias = bv;
    for j in 0..k {
        for i in 0..d {
            let wij = wv[i][j] / scale;
            weights[j * d + i] = wij;
            bias[j] -= wij * mean[i];
        }
    }
    Ok((weights, bias))
}

/// Mean over rows and labels of −[w·y·log σ(z) + (1−y)·log(1−σ(z))], computed stably.
fn weighted_bce(z: &Tensor, y: &Tensor, pos_weight: &Tensor) -> candle_core::Result<Tensor> {
    // log σ(z) = −softplus(−z); log(1−σ(z)) = −softplus(z); softplus(t) = max(t,0) + log(1+e^−|t|).
    let softplus = |t: &Tensor| -> candle_core::Result<Tensor> {
        t.relu()? + (t.abs()?.neg()?.exp()? + 1.0)?.log()?
    };
    let pos = (softplus(&z.neg()?)? * y)?.broadcast_mul(pos_weight)?;
    let neg = (softplus(z)? * (1.0 - y)?)?;
    (pos + neg)?.mean_all()
}

/// Per-label thresholds from 3-fold cross-validation: the probability cut that maximises F1
/// on held-out rows, so "assigned" means the same thing for a rare and a common theme.
pub(super) fn calibrate(
    task: &str,
    x: &Embeddings,
    rows: &[Vec<f32>],
    k: usize,
    opts: &TrainOptions,
) -> Result<Vec<f32>, HeadError> {
    const FOLDS: usize = 3;
    let n = x.len();
    let mut held_probs: Vec<Vec<f32>> = vec![Vec::new(); n];
    for fold in 0..FOLDS {
        let train: Vec<usize> = (0..n).filter(|i| i % FOLDS != fold).collect();
        let test: Vec<usize> = (0..n).filter(|i| i % FOLDS == fold).collect();
        let sub = |idx: &[usize]| Embeddings {
            dim: x.dim,
            data: idx.iter().flat_map(|i| x.row(*i).to_vec()).collect(),
        };
        let y = Targets::Multi(train.iter().map(|i| rows[*i].clone()).collect());
        let (weights, bias) = fit(task, k, &sub(&train), &y, opts)?;
        let probe = LinearHead::dense(task, vec![String::new(); k], true, x.dim, weights, bias);
        for (i, p) in test.iter().zip(probe.predict_rows(&sub(&test), |_, _| 0.0)) {
            held_probs[*i] = p;
        }
    }
    Ok((0..k)
        .map(|j| {
            let mut best = (0.0f32, 0.5f32);
            for step in 1..=19 {
                let t = step as f32 * 0.05;
                let (mut tp, mut fp, mut fneg) = (0.0, 0.0, 0.0);
                for (p, y) in held_probs.iter().zip(rows) {
                    match (p[j] >= t, y[j] > 0.5) {
                        (true, true) => tp += 1.0,
                        (true, false) => fp += 1.0,
                        (false, true) => fneg += 1.0,
                        _ => {}
                    }
                }
                let f1 = if tp == 0.0 {
                    0.0
                } else {
                    2.0 * tp / (2.0 * tp + fp + fneg)
                };
                if f1 > best.0 {
                    best = (f1, t);
                }
            }
            best.1
        })
        .collect())
}
