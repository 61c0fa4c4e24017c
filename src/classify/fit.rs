//! Training a linear head: full-batch AdamW on standardised features with an L2 penalty
//! (candle, deterministic on CPU), and the per-label thresholds of multi-label heads.

use candle_core::backprop::GradStore;
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
    fit_by(task, k, x, y, opts, Gradient::ByHand)
}

/// How a step's gradients are computed: [`grads_by_hand`], or (tests) candle's autograd
/// through the whole step, which the former must equal bit for bit.
#[derive(Clone, Copy)]
enum Gradient {
    ByHand,
    #[cfg(test)]
    Autograd,
}

fn fit_by(
    task: &str,
    k: usize,
    x: &Embeddings,
    y: &Targets,
    opts: &TrainOptions,
    gradient: Gradient,
) -> Result<(Vec<f32>, Vec<f32>), HeadError> {
    let e = cerr(task);
    let (n, d) = (x.len(), x.dim);
    if n == 0 || k == 0 {
        return Err(HeadError::Train {
            task: task.into(),
            message: "no training rows".into(),
        });
    }
    let (mean, scale, std_data) = standardise(x);
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
    let objective = |logits: &Tensor| -> candle_core::Result<Tensor> {
        let loss = match &pos_weight {
            None => candle_nn::loss::cross_entropy(logits, &targets),
            Some(pw) => weighted_bce(logits, &targets, pw),
        }?;
        let penalty = (w.as_tensor().sqr()?.sum_all()? * (opts.l2 / 2.0))?;
        loss + penalty
    };
    let xt_t = xt.t().map_err(&e)?;
    for _ in 0..opts.steps {
        let grads = match gradient {
            Gradient::ByHand => grads_by_hand(&xt, &xt_t, &w, &b, &objective),
            #[cfg(test)]
            Gradient::Autograd => xt
                .matmul(w.as_tensor())
                .and_then(|z| z.broadcast_add(b.as_tensor()))
                .and_then(|logits| objective(&logits))
                .and_then(|loss| loss.backward()),
        }
        .map_err(&e)?;
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

/// Each feature minus its mean, divided by one scale for all (the root mean square of the
/// centred values): the features the optimiser sees, with the mean and scale to fold back.
fn standardise(x: &Embeddings) -> (Vec<f32>, f32, Vec<f32>) {
    let (n, d) = (x.len(), x.dim);
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
    (mean, scale, std_data)
}

/// One step's gradients of `objective(xt · w + b)`, with xt · w differentiated by hand:
/// candle's matmul backward also computes the gradient of the constant features (rows × dim,
/// 82 MB a step for ~4,600 rows with the lexical block) and adds it to a zeroed tensor of that
/// size — two thirds of a step's arithmetic, and most of its time faulting that memory in.
/// The gradient of `w` is summed from the same two terms with the same calls as candle's
/// (xt^T · dlogits, and the penalty's), so the head is the same bits (tested).
fn grads_by_hand(
    xt: &Tensor,
    xt_t: &Tensor,
    w: &Var,
    b: &Var,
    objective: &dyn Fn(&Tensor) -> candle_core::Result<Tensor>,
) -> candle_core::Result<GradStore> {
    let product = Var::from_tensor(&xt.matmul(&w.as_tensor().detach())?)?;
    let mut grads = objective(&product.broadcast_add(b.as_tensor())?)?.backward()?;
    let dlogits = grads
        .remove(product.as_tensor())
        .ok_or_else(|| candle_core::Error::Msg("no gradient reached the logits".into()))?;
    let from_product = xt_t.matmul(&dlogits)?;
    let grad_w = match grads.remove(w.as_tensor()) {
        Some(from_penalty) => (from_penalty + from_product)?,
        None => from_product,
    };
    grads.insert(w.as_tensor(), grad_w);
    Ok(grads)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of `d` values from a fixed sequence (a tiny LCG): any values do, the point is the
    /// same ones for both computations.
    fn rows(n: usize, d: usize, seed: u64) -> Embeddings {
        let mut state = seed;
        let data = (0..n * d)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        Embeddings { dim: d, data }
    }

    #[test]
    fn the_hand_written_gradient_trains_the_same_bits_as_candles_autograd() {
        let (n, d, k) = (60, 48, 3);
        let x = rows(n, d, 7);
        let opts = TrainOptions {
            steps: 40,
            l2: 0.3,
            ..TrainOptions::default()
        };
        let single = Targets::Single((0..n).map(|i| (i % k) as u32).collect());
        let multi = Targets::Multi(
            (0..n)
                .map(|i| {
                    (0..k)
                        .map(|j| f32::from(u8::from((i + j) % 4 == 0)))
                        .collect()
                })
                .collect(),
        );
        // Without a penalty its term drops out of candle's graph, and `w`'s gradient is the
        // product's alone.
        for (y, l2) in [(&single, 0.3), (&multi, 0.3), (&multi, 0.0)] {
            let opts = TrainOptions { l2, ..opts.clone() };
            let by_hand = fit_by("t", k, &x, y, &opts, Gradient::ByHand).unwrap();
            let autograd = fit_by("t", k, &x, y, &opts, Gradient::Autograd).unwrap();
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&by_hand.0), bits(&autograd.0));
            assert_eq!(bits(&by_hand.1), bits(&autograd.1));
            // Trained at all: the weights moved from zero.
            assert!(by_hand.0.iter().any(|w| *w != 0.0));
        }
    }
}
