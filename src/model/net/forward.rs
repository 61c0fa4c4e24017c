//! The encoder's forward pass over reused buffers.
//!
//! A layer makes seven intermediate arrays (up to tokens × 1536 floats); allocating them fresh
//! per layer meant a serial `memset` or fresh pages for each (the kernels overwrite them
//! anyway), which on two cores was 14 % of the f32 encoder's time and 27 % of int8's (README,
//! Performance). [`Scratch`] keeps them from layer to layer and batch to batch; every kernel
//! writes its whole output before anything reads it, so nothing is zeroed.

use std::sync::Mutex;

use gemm::{gemm, Parallelism};

use super::{with_slice, Layer, Linear, Transformer};
use crate::model::config::Activation;
use crate::model::error::Result;
use crate::model::int8::{Int8Kernel, QuantRows};
use crate::model::kernels;

/// Buffers of one forward pass, grown to the largest batch seen and never shrunk.
#[derive(Default)]
pub(super) struct Scratch {
    /// Hidden states entering (and leaving) a layer.
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    /// Output of the attention and feed-forward down projections, before bias + residual.
    proj: Vec<f32>,
    /// Hidden states between the attention and feed-forward blocks.
    h1: Vec<f32>,
    /// The feed-forward block's wide activations (activated in place; f32 only).
    ffn: Vec<f32>,
    /// Quantised activations: a product's input, and the feed-forward's wide ones.
    quant: [QuantRows; 2],
}

/// `v[..len]`, growing `v` if it is shorter (only growth zero-fills).
fn sized(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    crate::util::grow(v, len);
    &mut v[..len]
}

/// The transformer's scratch, or a fresh one when another pass holds it (a rayon worker
/// waiting inside one pass may pick up another caller's pass: blocking there would deadlock).
pub(super) fn with_scratch<R>(shared: &Mutex<Scratch>, f: impl FnOnce(&mut Scratch) -> R) -> R {
    match shared.try_lock() {
        Ok(mut s) => f(&mut s),
        Err(std::sync::TryLockError::Poisoned(p)) => f(&mut p.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => f(&mut Scratch::default()),
    }
}

impl Linear {
    /// `out = x · wᵀ` (no bias: the next kernel fuses it), `x` of `rows × in`.
    fn matmul_into(&self, x: &[f32], out: &mut [f32], quant: &mut QuantRows) -> Result<()> {
        if let Some(q) = &self.q {
            q.forward_into(Int8Kernel::active(), x, out, quant);
            return Ok(());
        }
        match self.packed()? {
            Some(p) => kernels::matmul::product(p, x, out),
            None => with_slice(&self.w, |w| gemm_f32(x, w, out, self.b.len()))?,
        }
        Ok(())
    }

    /// The weights packed for palaute's own f32 product when the element-wise kernels run at
    /// the AVX2 level (packed at the first call), else `None` (`gemm` multiplies).
    fn packed(&self) -> Result<Option<&kernels::matmul::PackedF32>> {
        if !kernels::matmul::chosen() {
            return Ok(None);
        }
        if let Some(p) = self.packed.get() {
            return Ok(Some(p));
        }
        let (n, k) = (self.b.len(), self.in_features());
        let p = with_slice(&self.w, |w| kernels::matmul::PackedF32::new(w, n, k))?;
        // Two passes may race to pack: both packed the same weights.
        Ok(Some(self.packed.get_or_init(|| p)))
    }

    /// The feed-forward block without its last bias: `out = act(x · upᵀ + b) · downᵀ`. In
    /// int8 the wide activations are never written whole (`forward_quantised`): only their
    /// quantised form is needed, so `wide` stays unused; f32 keeps them in `wide`. Mapped and
    /// quantised per block of rows while the block is in cache: faster than doing it as a pass
    /// of its own (int8 +5 % on VNNI, +14 % on AMX, measured) and than in each 16-column tile
    /// (4 % slower than a pass, measured earlier).
    fn feed_forward(
        up: &Linear,
        down: &Linear,
        act: Activation,
        x: &[f32],
        wide: &mut Vec<f32>,
        out: &mut [f32],
        quant: &mut [QuantRows; 2],
    ) -> Result<()> {
        if let (Some(uq), Some(dq)) = (&up.q, &down.q) {
            let kernel = Int8Kernel::active();
            let f = |row: &mut [f32]| kernels::bias_activation_rows(row, &up.b, act);
            let [a, next] = quant;
            uq.forward_quantised(kernel, x, a, &f, next);
            dq.product(kernel, next, out);
            return Ok(());
        }
        let wide = sized(wide, x.len() / up.in_features() * up.b.len());
        match up.packed()? {
            // Bias and activation on each task's rows while they are in cache: +1–2 % over a
            // pass of their own at two threads (three interleaved rounds), the same bits.
            Some(p) => kernels::matmul::product_then(p, x, wide, &|rows: &mut [f32]| {
                kernels::bias_activation_rows(rows, &up.b, act)
            }),
            None => {
                up.matmul_into(x, wide, &mut quant[0])?;
                kernels::bias_activation(wide, &up.b, act);
            }
        }
        down.matmul_into(wide, out, &mut quant[0])
    }

    /// `x · wᵀ` into a new vector: for the classifier head's two small products per text.
    pub(super) fn apply(&self, x: &[f32]) -> Result<Vec<f32>> {
        let n = self.b.len();
        let mut out = vec![0f32; x.len() / self.in_features() * n];
        self.matmul_into(x, &mut out, &mut QuantRows::default())?;
        Ok(out)
    }
}

/// `out = x · wᵀ` with `w` stored `(n, k)` row-major, by the `gemm` crate as candle calls it
/// (same blocking, same bits), but into a buffer we keep.
fn gemm_f32(x: &[f32], w: &[f32], out: &mut [f32], n: usize) {
    let k = w.len() / n;
    let m = x.len() / k;
    assert!(x.len() == m * k && w.len() == n * k && out.len() == m * n);
    let threads = rayon::current_num_threads();
    let par = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the strides describe `x` as m × k and `w` as the k × n matrix wᵀ, and `out` as
    // m × n, all row-major within the lengths asserted above.
    unsafe {
        gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            x.as_ptr(),
            1,
            k as isize,
            w.as_ptr(),
            k as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

impl Transformer {
    /// Embeddings and layers `..stop` of packed sequences (`ids`, `positions`, `offsets` as
    /// in `forward_until`): the hidden states, `total × hidden`.
    pub(super) fn run_layers(
        &self,
        s: &mut Scratch,
        ids: &[u32],
        positions: &[u32],
        offsets: &[usize],
        stop: usize,
    ) -> Result<Vec<f32>> {
        let total = ids.len();
        let x = sized(&mut s.x, total * self.hidden);
        kernels::embed(
            x,
            ids,
            positions,
            &self.word,
            &self.pos,
            self.token_type.as_deref(),
            &self.emb_norm.gamma,
            &self.emb_norm.beta,
            self.eps,
        );
        for layer in &self.layers[..stop.min(self.layers.len())] {
            self.layer(layer, s, total, offsets)?;
        }
        Ok(s.x[..total * self.hidden].to_vec())
    }

    /// One layer, from `s.x` back into `s.x`.
    fn layer(&self, l: &Layer, s: &mut Scratch, total: usize, offsets: &[usize]) -> Result<()> {
        let h = self.hidden;
        let x = &s.x[..total * h];
        let qkv = sized(&mut s.qkv, total * 3 * h);
        l.qkv.matmul_into(x, qkv, &mut s.quant[0])?;
        let ctx = sized(&mut s.ctx, total * h);
        kernels::packed_attention(ctx, qkv, &l.qkv.b, offsets, self.cfg.num_heads, h);
        let proj = sized(&mut s.proj, total * h);
        l.out.matmul_into(ctx, proj, &mut s.quant[0])?;
        let h1 = sized(&mut s.h1, total * h);
        let (n1, eps) = (&l.norm1, self.eps);
        kernels::bias_residual_layer_norm(h1, proj, &l.out.b, x, &n1.gamma, &n1.beta, eps);
        let act = self.cfg.activation;
        Linear::feed_forward(&l.up, &l.down, act, h1, &mut s.ffn, proj, &mut s.quant)?;
        let (n2, x) = (&l.norm2, &mut s.x[..total * h]);
        kernels::bias_residual_layer_norm(x, proj, &l.down.b, h1, &n2.gamma, &n2.beta, eps);
        Ok(())
    }
}
