//! CPU kernels for the parts of a transformer layer that are not matrix products, and the
//! f32 products on AVX2-only CPUs ([`matmul`]; `gemm` does them elsewhere, `int8` in int8).
//!
//! The encoder runs sequences *packed* (all tokens of a batch back to back, no padding), so
//! attention has to know where each sequence starts: that is what `offsets` carries. Bias adds,
//! residual adds, layer norm and activations are fused into single passes over the matmul
//! outputs because on two cores each extra pass over a (tokens x 1536) buffer is measurable.

use rayon::prelude::*;

use super::config::Activation;

mod attention;
pub mod matmul;
pub use attention::packed_attention;

/// Rows handed to one rayon task: enough work to amortise scheduling, few enough to balance.
const ROWS_PER_TASK: usize = 16;

/// The vector instructions the element-wise kernels below are compiled for, chosen once per
/// process: the widest the CPU has, or narrower when `PALAUTE_SIMD` says so (`avx2`,
/// `baseline`), so a slower CPU's path can be measured on any machine. Results are the same
/// on every level (same arithmetic in the same order; Rust does not fuse multiply-adds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Simd {
    Baseline,
    Avx2Fma,
    Avx512,
}

impl Simd {
    pub fn name(self) -> &'static str {
        match self {
            Simd::Baseline => "baseline (SSE2)",
            Simd::Avx2Fma => "avx2+fma",
            Simd::Avx512 => "avx512f+vl",
        }
    }

    /// What this CPU has.
    pub fn detected() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma");
            if avx2
                && std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                return Simd::Avx512;
            }
            if avx2 {
                return Simd::Avx2Fma;
            }
        }
        Simd::Baseline
    }

    /// The level in use: detected, capped by `PALAUTE_SIMD` (or by [`Simd::cap`]).
    pub fn active() -> Simd {
        match LEVEL.load(Ordering::Relaxed) {
            0 => {
                let cap = match simd_env() {
                    "baseline" => Simd::Baseline,
                    // `avxvnni`: AVX2 element-wise kernels, int8 on AVX-VNNI (see `Int8Kernel`).
                    "avx2" | "avxvnni" => Simd::Avx2Fma,
                    _ => Simd::Avx512,
                };
                Simd::cap(cap)
            }
            1 => Simd::Baseline,
            2 => Simd::Avx2Fma,
            _ => Simd::Avx512,
        }
    }

    /// Uses at most `level` from now on (never more than the CPU has); returns the level now
    /// in use. For benchmarks and the test that every level gives the same bits.
    pub fn cap(level: Simd) -> Simd {
        let l = Simd::detected().min(level);
        LEVEL.store(l as u8 + 1, Ordering::Relaxed);
        l
    }
}

use std::sync::atomic::{AtomicU8, Ordering};

/// `PALAUTE_SIMD` as set when first read: the CPU class to run as (`baseline`, `avx2`,
/// `avxvnni`, `avx512`; empty = the widest this CPU has). [`Simd::active`] caps the
/// element-wise kernels by it, `Int8Kernel::active` picks the int8 kernel by it (read for
/// every product, hence kept).
pub(super) fn simd_env() -> &'static str {
    static ENV: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ENV.get_or_init(|| std::env::var("PALAUTE_SIMD").unwrap_or_default())
}

/// 0 = not chosen yet, else 1 + the `Simd` level.
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// Which kernels run on this machine, for run.json: the element-wise ones (see [`Simd`]), the
/// int8 products (used with `precision = "int8"`) and the f32 matrix products (`f32`): on the
/// AVX2 level palaute's own ([`matmul`]), else candle's `gemm`, which chooses its own path
/// (`gemm`: AVX-512F when built with the `avx512-gemm` feature (the default), else FMA, else
/// scalar) and blocks by the CPU's caches — so f32 embeddings can differ in their last bits
/// between CPU types, never between runs on one machine.
pub fn report() -> serde_json::Value {
    #[cfg(target_arch = "x86_64")]
    let gemm = if cfg!(feature = "avx512-gemm") && std::arch::is_x86_feature_detected!("avx512f") {
        "avx512f"
    } else if std::arch::is_x86_feature_detected!("fma") {
        "fma"
    } else {
        "scalar"
    };
    #[cfg(not(target_arch = "x86_64"))]
    let gemm = "native";
    let f32_products = match matmul::chosen() {
        true => "palaute avx2+fma (6 x 16 tiles, packed weights)".to_string(),
        false => format!("gemm {gemm}"),
    };
    serde_json::json!({
        "elementwise": Simd::active().name(),
        "cpu": Simd::detected().name(),
        "f32": f32_products,
        "gemm": gemm,
        "int8": super::int8::Int8Kernel::active().name(),
    })
}

/// Defines `$name` that runs `$body` compiled for AVX-512 or AVX2+FMA when the CPU has them
/// (and [`Simd::active`] allows them).
///
/// The crate is built for baseline x86-64 (SSE2) so that the binary runs anywhere; the loops
/// below are written to auto-vectorise (no reductions across lanes in the hot paths), and
/// recompiling them with wider vectors is where the speed comes from. The variants execute the
/// same arithmetic in the same order, so results do not depend on the CPU.
macro_rules! simd_dispatch {
    ($vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $body:path) => {
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                fn v4($($arg: $ty),*) {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn v3($($arg: $ty),*) {
                    $body($($arg),*)
                }
                match Simd::active() {
                    // SAFETY: `active` never exceeds what `Simd::detected` found on this CPU,
                    // which covers the features `v4` and `v3` are compiled for.
                    Simd::Avx512 => return unsafe { v4($($arg),*) },
                    Simd::Avx2Fma => return unsafe { v3($($arg),*) },
                    Simd::Baseline => {}
                }
            }
            $body($($arg),*)
        }
    };
}

pub(super) use simd_dispatch;

/// Sum with eight independent accumulators, so it vectorises (the order is fixed, so the
/// result is deterministic).
#[inline(always)]
pub(super) fn sum_lanes(x: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for v in tail {
        s += v;
    }
    s
}

/// `out[t] = LayerNorm(x[t] + bias + residual[t]) * gamma + beta`, row by row. `out` is
/// written, never read: the caller's reused buffer needs no zeroing.
pub fn bias_residual_layer_norm(
    out: &mut [f32],
    x: &[f32],
    bias: &[f32],
    residual: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
) {
    let h = gamma.len();
    out.par_chunks_mut(h * ROWS_PER_TASK)
        .zip(x.par_chunks(h * ROWS_PER_TASK))
        .zip(residual.par_chunks(h * ROWS_PER_TASK))
        .for_each(|((o, x), r)| add_norm_rows(o, x, bias, r, gamma, beta, eps));
}

simd_dispatch!(fn add_norm_rows(
    o: &mut [f32], x: &[f32], bias: &[f32], r: &[f32], gamma: &[f32], beta: &[f32], eps: f32,
) => add_norm_rows_impl);

#[inline(always)]
fn add_norm_rows_impl(
    o: &mut [f32],
    x: &[f32],
    bias: &[f32],
    r: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
) {
    let h = gamma.len();
    for ((o, x), r) in o
        .chunks_exact_mut(h)
        .zip(x.chunks_exact(h))
        .zip(r.chunks_exact(h))
    {
        for (((o, x), b), r) in o.iter_mut().zip(x).zip(bias).zip(r) {
            *o = x + b + r;
        }
        layer_norm_row(o, gamma, beta, eps);
    }
}

#[inline(always)]
fn layer_norm_row(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let h = row.len() as f32;
    let mean = sum_lanes(row) / h;
    for v in row.iter_mut() {
        *v -= mean;
    }
    let mut sq = [0f32; 8];
    let chunks = row.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, v) in sq.iter_mut().zip(c) {
            *a += v * v;
        }
    }
    let mut var = sq.iter().sum::<f32>();
    for v in tail {
        var += v * v;
    }
    let inv = 1.0 / (var / h + eps).sqrt();
    for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
        *v = *v * inv * g + b;
    }
}

/// Token + position (+ token type) embeddings followed by layer norm, into `out`
/// (`ids.len()` rows).
#[allow(clippy::too_many_arguments)]
pub fn embed(
    out: &mut [f32],
    ids: &[u32],
    positions: &[u32],
    word: &[f32],
    pos: &[f32],
    token_type: Option<&[f32]>,
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
) {
    let h = gamma.len();
    out.par_chunks_mut(h)
        .zip(ids.par_iter().zip(positions.par_iter()))
        .for_each(|(o, (&id, &p))| {
            let w = &word[id as usize * h..][..h];
            let pe = &pos[p as usize * h..][..h];
            for ((o, w), pe) in o.iter_mut().zip(w).zip(pe) {
                *o = w + pe;
            }
            if let Some(t) = token_type {
                for (o, t) in o.iter_mut().zip(t) {
                    *o += t;
                }
            }
            layer_norm_row(o, gamma, beta, eps);
        });
}

/// `x = act(x + bias)` in place over rows of width `bias.len()` (in place: the feed-forward
/// block's widest buffer is not doubled).
pub fn bias_activation(x: &mut [f32], bias: &[f32], act: Activation) {
    let n = bias.len();
    x.par_chunks_mut(n * ROWS_PER_TASK)
        .for_each(|x| bias_activation_rows(x, bias, act));
}

/// [`bias_activation`] on the calling thread (rows of `bias.len()`): for one row at a time,
/// e.g. just before it is quantised.
pub fn bias_activation_rows(x: &mut [f32], bias: &[f32], act: Activation) {
    match act {
        Activation::GeluErf => gelu_erf_rows(x, bias),
        Activation::GeluTanh => gelu_tanh_rows(x, bias),
        Activation::Relu => relu_rows(x, bias),
    }
}

simd_dispatch!(fn gelu_erf_rows(x: &mut [f32], bias: &[f32]) => gelu_erf_rows_impl);
simd_dispatch!(fn gelu_tanh_rows(x: &mut [f32], bias: &[f32]) => gelu_tanh_rows_impl);
simd_dispatch!(fn relu_rows(x: &mut [f32], bias: &[f32]) => relu_rows_impl);

#[inline(always)]
fn gelu_erf_rows_impl(x: &mut [f32], bias: &[f32]) {
    for x in x.chunks_exact_mut(bias.len()) {
        for (x, b) in x.iter_mut().zip(bias) {
            let v = *x + b;
            *x = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

#[inline(always)]
fn gelu_tanh_rows_impl(x: &mut [f32], bias: &[f32]) {
    for x in x.chunks_exact_mut(bias.len()) {
        for (x, b) in x.iter_mut().zip(bias) {
            let v = *x + b;
            let inner = 0.797_884_6 * (v + 0.044_715 * v * v * v);
            *x = 0.5 * v * (1.0 + inner.tanh());
        }
    }
}

#[inline(always)]
fn relu_rows_impl(x: &mut [f32], bias: &[f32]) {
    for x in x.chunks_exact_mut(bias.len()) {
        for (x, b) in x.iter_mut().zip(bias) {
            *x = (*x + b).max(0.0);
        }
    }
}

/// erf for f32 as a rational polynomial on [-4, 4] (beyond which erf is ±1 in f32).
///
/// Branch-free and exp-free so the GELU loop vectorises; the coefficients are the ones Eigen and
/// XLA use (max error a few ulp), which keeps parity with PyTorch's exact GELU.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_4e-5;
    p = x2 * p + -7.349_906_3e-4;
    p = x2 * p + -2.954_6e-3;
    p = x2 * p + -1.609_603_3e-2;
    p *= x;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_6e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329_4e-3;
    q = x2 * q + -1.426_474e-2;
    p / q
}

/// e^x for x <= 0 (softmax arguments), vectorisable: 2^n by exponent bits times a degree-6
/// polynomial on the reduced argument (relative error ~2e-7; results below ~1e-38 flush to
/// about that value instead of 0, which no softmax can tell apart).
#[inline(always)]
pub fn exp_neg(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer without a libm call.
    const ROUND: f32 = 12_582_912.0;
    // Comparisons rather than `clamp`, and the power of two built from float bits rather than
    // an `as i32` cast: these vectorise, `clamp` and the saturating cast kept the softmax's
    // exponentials scalar. Same values as before (NaN still passes through).
    let x = if x < -87.0 { -87.0 } else { x };
    let x = if x > 0.0 { 0.0 } else { x };
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // n + 127 is a whole number in 1..=127, so (n + 127) + 2²³ holds it in its low mantissa
    // bits; shifting them into the exponent field (the rest shifts out) gives 2ⁿ.
    let scale = f32::from_bits(((n + 127.0) + 8_388_608.0).to_bits() << 23);
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf by its Maclaurin series in f64: slow but exact to ~1e-10 on [-4, 4].
    fn erf_ref(x: f64) -> f64 {
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_matches_reference() {
        let mut worst = 0f64;
        for i in -600..=600 {
            let x = i as f64 / 100.0;
            let got = erf(x as f32) as f64;
            let want = if x.abs() > 4.0 {
                x.signum()
            } else {
                erf_ref(x)
            };
            worst = worst.max((got - want).abs());
        }
        assert!(worst < 2e-6, "max erf error {worst}");
    }

    #[test]
    fn exp_neg_matches_std() {
        let mut worst = 0f32;
        for i in 0..=8000 {
            let x = -(i as f32) / 100.0;
            let want = x.exp();
            let got = exp_neg(x);
            worst = worst.max(((got - want) / want.max(1e-30)).abs());
        }
        assert!(worst < 1e-6, "max relative exp error {worst}");
        assert!(exp_neg(-1000.0) < 1e-37);
    }
}
