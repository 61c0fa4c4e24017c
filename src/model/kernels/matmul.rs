//! f32 matrix products `x · wᵀ` for CPUs whose widest vectors are AVX2 + FMA.
//!
//! Why not `gemm` there: on 256-bit units its kernel reaches 81–85 % of the core's FMA peak on
//! the encoder's shapes (384 → 1152 / 384 / 1536, 1536 → 384), and the products are ~80 % of
//! the f32 encoder's time. This one packs the weights once, at first use, into panels of 16
//! outputs (k-major, so a step over k reads 64 contiguous bytes), and each task packs its rows
//! of `x` into tiles of 6 rows (k-major too): a tile × panel keeps 12 sums in registers, and
//! every operand is a contiguous stream. Measured alone (README, Performance): 89–93 % of the
//! peak. On AVX-512 CPUs `gemm`'s 512-bit kernel stays: it measured faster than this layout
//! at that width.
//!
//! Every output is one chain of fused multiply-adds over `k` in order, starting from zero,
//! whatever the tile, the rows in the batch or the thread that computes it: results do not
//! depend on any of them, and equal the scalar chain `acc = x·w + acc` ([`reference`], the
//! unit tests) bit for bit.

use rayon::prelude::*;

/// Outputs per panel: two 8-lane registers.
const NR: usize = 16;
/// Rows per tile: 6 × 2 sums + 2 weight registers + 1 broadcast fit AVX2's 16 registers.
const MR: usize = 6;
/// Most rows one task packs and multiplies (its packed rows, 96 × 1536 floats at the widest,
/// stay in L2 while every panel passes over them).
const MC: usize = 96;

/// Weights `(n, k)` packed for [`product`]: panel `p` holds outputs `16p..16p + 16`, for each
/// input `i` their 16 weights side by side (outputs past `n` are zero).
pub struct PackedF32 {
    panels: Vec<f32>,
    n: usize,
    k: usize,
}

impl PackedF32 {
    /// Packs `w`, stored `(n, k)` row-major as PyTorch stores a linear layer.
    pub fn new(w: &[f32], n: usize, k: usize) -> PackedF32 {
        assert_eq!(w.len(), n * k, "weights are not {n} × {k}");
        let mut panels = vec![0f32; n.div_ceil(NR) * k * NR];
        for (o, row) in w.chunks_exact(k.max(1)).enumerate() {
            let panel = &mut panels[(o / NR) * k * NR..][..k * NR];
            for (i, &v) in row.iter().enumerate() {
                panel[i * NR + o % NR] = v;
            }
        }
        PackedF32 { panels, n, k }
    }
}

/// Whether the encoder's f32 products use this kernel: when the element-wise kernels run at
/// the AVX2 level (an AVX2-only CPU, or `PALAUTE_SIMD=avx2`/`avxvnni`); `gemm` does them at
/// the others. The one place that choice is made (the forward pass and run.json ask here).
pub fn chosen() -> bool {
    super::Simd::active() == super::Simd::Avx2Fma
}

/// Whether [`product`] can run here: x86-64 with AVX2 and FMA.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `out = x · wᵀ`, `x` of `m × k`, `out` of `m × n`, on rayon's threads. Panics if the CPU
/// lacks AVX2 or FMA ([`available`]) or the lengths do not match.
pub fn product(w: &PackedF32, x: &[f32], out: &mut [f32]) {
    product_then(w, x, out, &|_| {});
}

/// [`product`], then `then` on each task's rows of `out` (whole rows, up to 96) while they
/// are still in cache: the feed-forward's bias and activation, which as a pass of their own
/// would read and write its widest buffer once more.
pub fn product_then(w: &PackedF32, x: &[f32], out: &mut [f32], then: &(dyn Fn(&mut [f32]) + Sync)) {
    let (n, k) = (w.n, w.k);
    assert!(available(), "the packed f32 product needs AVX2 and FMA");
    assert!(
        k > 0 && x.len().is_multiple_of(k),
        "input is not a multiple of {k} wide"
    );
    let m = x.len() / k;
    assert_eq!(out.len(), m * n, "output is not {m} × {n}");
    // Rows per task: enough for both threads to have work on a small batch, at most MC.
    let per_thread = m.div_ceil(rayon::current_num_threads().max(1));
    let mc = per_thread.next_multiple_of(MR).clamp(MR, MC);
    thread_local! {
        // The task's rows packed into tiles, kept between products (a fresh 590 kB buffer per
        // task would be fresh pages every time).
        static TILES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    out.par_chunks_mut(mc * n)
        .zip(x.par_chunks(mc * k))
        .for_each(|(out, x)| {
            TILES.with_borrow_mut(|tiles| task(w, x, out, tiles));
            then(out);
        });
}

/// One task's rows: packs them into tiles, then every panel passes over every tile.
fn task(w: &PackedF32, x: &[f32], out: &mut [f32], tiles: &mut Vec<f32>) {
    let (n, k) = (w.n, w.k);
    let rows = x.len() / k;
    let count = rows.div_ceil(MR);
    crate::util::grow(tiles, count * MR * k);
    for (t, tile) in tiles[..count * MR * k].chunks_exact_mut(MR * k).enumerate() {
        let steps = tile.as_chunks_mut::<MR>().0;
        let live = MR.min(rows - t * MR);
        if live == MR {
            // Written in order, read from six rows at once: row by row into every sixth
            // float, the packing took 4.6–7.6 % of the encoder's f32 time, like this 2.9 %
            // (`perf`, one thread).
            let src: [&[f32]; MR] = std::array::from_fn(|r| &x[(t * MR + r) * k..][..k]);
            for (i, s) in steps.iter_mut().enumerate() {
                *s = std::array::from_fn(|r| src[r][i]);
            }
        } else {
            // Rows past the end are zero: their sums are computed and dropped.
            steps.iter_mut().for_each(|s| *s = [0.0; MR]);
            for r in 0..live {
                let src = &x[(t * MR + r) * k..][..k];
                steps.iter_mut().zip(src).for_each(|(s, &v)| s[r] = v);
            }
        }
    }

    let mut edge = [0f32; MR * NR];
    for (p, panel) in w.panels.chunks_exact(k * NR).enumerate() {
        let cols = NR.min(n - p * NR);
        for (t, tile) in tiles[..count * MR * k].chunks_exact(MR * k).enumerate() {
            let live = MR.min(rows - t * MR);
            let corner = t * MR * n + p * NR;
            if live == MR && cols == NR {
                // SAFETY: `available` was checked by `product`; the tile holds MR × k floats,
                // the panel k × NR, and rows `t*MR..t*MR + MR`, columns `p*NR..p*NR + NR` of
                // `out` (stride n) are inside it, as `live` and `cols` say.
                unsafe { x86::tile(tile.as_ptr(), panel.as_ptr(), k, &mut out[corner..], n) };
            } else {
                // SAFETY: as above, into `edge` (MR × NR, stride NR).
                unsafe { x86::tile(tile.as_ptr(), panel.as_ptr(), k, &mut edge, NR) };
                for r in 0..live {
                    out[corner + r * n..][..cols].copy_from_slice(&edge[r * NR..][..cols]);
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{MR, NR};
    use std::arch::x86_64::*;

    /// Sums of one tile (MR rows, k-major) × one panel (k × NR) into `out` (stride `ldc`).
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; `a` holds `k * MR` floats, `b` `k * NR`; `out` holds MR rows
    /// of NR floats at stride `ldc`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile(a: *const f32, b: *const f32, k: usize, out: &mut [f32], ldc: usize) {
        assert!(out.len() >= (MR - 1) * ldc + NR);
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        // One step over k: a macro, not a closure, so that it is compiled with this
        // function's target features.
        macro_rules! step {
            ($i:expr) => {{
                // SAFETY: `i < k` and `r < MR`, inside the lengths above.
                let b0 = _mm256_loadu_ps(b.add($i * NR));
                let b1 = _mm256_loadu_ps(b.add($i * NR + 8));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let x = _mm256_broadcast_ss(&*a.add($i * MR + r));
                    acc[0] = _mm256_fmadd_ps(x, b0, acc[0]);
                    acc[1] = _mm256_fmadd_ps(x, b1, acc[1]);
                }
            }};
        }
        // Four steps per pass: the loop's own work then hides behind 48 multiply-adds (89–95 %
        // of the FMA peak against 87–90 % one step at a time, measured on a standalone copy).
        let mut i = 0;
        while i + 4 <= k {
            for u in 0..4 {
                step!(i + u);
            }
            i += 4;
        }
        while i < k {
            step!(i);
            i += 1;
        }
        for (r, acc) in acc.iter().enumerate() {
            let row = out.as_mut_ptr().add(r * ldc);
            _mm256_storeu_ps(row, acc[0]);
            _mm256_storeu_ps(row.add(8), acc[1]);
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod x86 {
    pub unsafe fn tile(_: *const f32, _: *const f32, _: usize, _: &mut [f32], _: usize) {
        unreachable!("`product` checks `available` first")
    }
}

/// The product as one scalar chain per output (what every tile computes, in the same order).
#[cfg(test)]
pub fn reference(w: &[f32], n: usize, x: &[f32], out: &mut [f32]) {
    let k = w.len() / n;
    for (xr, or) in x.chunks_exact(k).zip(out.chunks_exact_mut(n)) {
        for (o, wr) in or.iter_mut().zip(w.chunks_exact(k)) {
            *o = xr
                .iter()
                .zip(wr)
                .fold(0f32, |acc, (a, b)| a.mul_add(*b, acc));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of mixed sign and magnitude, so a changed order of the sums changes their last
    /// bits.
    fn values(len: usize, seed: u32) -> Vec<f32> {
        crate::model::int8::tests::pseudo(u64::from(seed), len, 3.0)
    }

    fn product_of(m: usize, n: usize, k: usize) -> (Vec<f32>, Vec<f32>) {
        let x = values(m * k, (m * 31 + k) as u32);
        let w = values(n * k, (n * 17 + k) as u32);
        let mut got = vec![f32::NAN; m * n];
        product(&PackedF32::new(&w, n, k), &x, &mut got);
        let mut want = vec![0f32; m * n];
        reference(&w, n, &x, &mut want);
        (got, want)
    }

    #[test]
    fn tiles_give_the_scalar_chains_bits_at_every_edge() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX2 + FMA");
            return;
        }
        // Rows and outputs that fill no tile, one, one and a bit; k with and without a tail
        // of single steps; a task boundary (MC rows) crossed.
        for m in [1, 5, 6, 7, 13, 97, 200] {
            for n in [1, 15, 16, 17, 40] {
                for k in [1, 3, 4, 37, 384] {
                    let (got, want) = product_of(m, n, k);
                    let same = got
                        .iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "m {m} n {n} k {k}: not the scalar chain's bits");
                }
            }
        }
    }

    #[test]
    fn threads_do_not_change_the_bits() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX2 + FMA");
            return;
        }
        let (m, n, k) = (301, 48, 96);
        let x = values(m * k, 7);
        let w = PackedF32::new(&values(n * k, 8), n, k);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut out = vec![0f32; m * n];
            pool.install(|| product(&w, &x, &mut out));
            out.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(2));
        assert_eq!(run(1), run(5));
    }
}
