//! int8 linear layers: weights quantised per output channel at load, activations per token
//! (dynamic), products accumulated exactly in i32, then dequantised.
//!
//! Why these ranges: AVX2 has no 8-bit dot product that accumulates in 32 bits; its
//! `vpmaddubsw` multiplies unsigned by signed bytes and adds pairs into *saturating* i16. With
//! activations in 0..=255 and weights in -63..=63 a pair sums to at most 2·255·63 = 32 130 <
//! 32 767, so nothing saturates and the AVX2 kernel computes the same exact integers as VNNI's
//! `vpdpbusd` (512 bits with AVX-512, 256 with AVX-VNNI; it accumulates in i32 directly), as
//! AMX and as the portable loop. The dequantisation after the integer product is one shared
//! piece of code, so every CPU path gives the same bits (checked in the tests by forcing each
//! path).
//!
//! Layout: weights are packed in panels of [`NR`] output channels; inside a panel, for every
//! group of four inputs (`k` quad), 16 × 4 bytes: output 0's four weights, output 1's, … —
//! one 512-bit load for VNNI, two 256-bit loads for AVX2 and AVX-VNNI, one row of an AMX
//! weight tile (`amx.rs`). Activations are stored four to a `u32`, the unit the vector kernels
//! broadcast and 16 of which make a row of an AMX activation tile.

use rayon::prelude::*;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod amx;
mod pairs;
#[cfg(target_arch = "x86_64")]
mod x86;

use super::kernels::{simd_dispatch, simd_env, Simd};
use crate::util::grow;

/// Output channels per packed panel (one 512-bit register of i32 sums).
const NR: usize = 16;
/// Largest |weight| after quantisation (7 bits: see the module comment).
const W_MAX: f32 = 63.0;
/// Activation levels: unsigned 8 bits.
const A_MAX: f32 = 255.0;
/// Rows one rayon task handles ([`Int8Kernel::block_rows`]; the AMX kernel's two 16-row
/// tiles).
const BLOCK_ROWS: usize = 32;
/// Tile height of the tallest vector kernel (the accumulators they fill).
const MR_MAX: usize = 8;
/// Activation rows are padded to a multiple of this: AMX's tile height, and a multiple of
/// every other kernel's but AVX-VNNI's six (see [`QuantRows::reserve`]).
const ROW_PAD: usize = 16;

const _: () = assert!(2.0 * A_MAX * W_MAX <= i16::MAX as f32);

/// Widest input a layer may have: beyond it the i32 sums could overflow (see `dequantise`).
pub const MAX_INPUTS: usize = 60_000;

/// The integer kernel that runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Int8Kernel {
    Portable,
    Avx2,
    AvxVnni,
    Avx512Vnni,
    Amx,
}

impl Int8Kernel {
    pub fn name(self) -> &'static str {
        match self {
            Int8Kernel::Portable => "portable",
            Int8Kernel::Avx2 => "avx2 (vpmaddubsw)",
            Int8Kernel::AvxVnni => "avx-vnni (vpdpbusd ymm)",
            Int8Kernel::Avx512Vnni => "avx512-vnni (vpdpbusd)",
            Int8Kernel::Amx => "amx-int8 (tdpbusd)",
        }
    }

    /// The widest kernel this CPU runs, capped like the other kernels by `PALAUTE_SIMD`
    /// ([`Simd::active`]), which names a class of CPU: `avx2` measures the AVX2 path
    /// (`vpmaddubsw`) on any newer machine, `avxvnni` the 256-bit VNNI one of AVX2 CPUs that
    /// have AVX-VNNI (Intel's client cores since Alder Lake, which lack AVX-512), and `avx512`
    /// the AVX-512 VNNI one on a machine with AMX.
    pub fn active() -> Int8Kernel {
        let env = simd_env();
        match Simd::active() {
            Simd::Avx512 if Int8Kernel::Amx.available() && env != "avx512" => Int8Kernel::Amx,
            Simd::Avx512 if vnni_detected() => Int8Kernel::Avx512Vnni,
            Simd::Avx512 | Simd::Avx2Fma if avxvnni_detected() && env != "avx2" => {
                Int8Kernel::AvxVnni
            }
            Simd::Avx512 | Simd::Avx2Fma => Int8Kernel::Avx2,
            Simd::Baseline => Int8Kernel::Portable,
        }
    }

    /// Whether this CPU can run `self` (for tests that force every path).
    pub fn available(self) -> bool {
        match self {
            Int8Kernel::Portable => true,
            Int8Kernel::Avx2 => Simd::detected() >= Simd::Avx2Fma,
            Int8Kernel::AvxVnni => Simd::detected() >= Simd::Avx2Fma && avxvnni_detected(),
            Int8Kernel::Avx512Vnni => Simd::detected() == Simd::Avx512 && vnni_detected(),
            Int8Kernel::Amx => amx_ready(),
        }
    }

    /// The kernel that computes a layer with `quads` input quads: AMX tiles span 16 quads, so
    /// a layer whose width is not a multiple of 64 goes to the widest vector kernel instead
    /// (same bits either way).
    fn for_layer(self, quads: usize) -> Int8Kernel {
        match self {
            Int8Kernel::Amx if !quads.is_multiple_of(TILE_QUADS) => {
                if Int8Kernel::Avx512Vnni.available() {
                    Int8Kernel::Avx512Vnni
                } else {
                    Int8Kernel::Avx2
                }
            }
            k => k,
        }
    }

    fn rows(self) -> usize {
        match self {
            Int8Kernel::Avx512Vnni => 8,
            Int8Kernel::AvxVnni => 6,
            _ => pairs::ROWS,
        }
    }

    /// Rows one rayon task handles: a multiple of the kernel's tile height.
    fn block_rows(self) -> usize {
        match self {
            Int8Kernel::AvxVnni => 48,
            _ => BLOCK_ROWS,
        }
    }

    /// Panels per tile: VNNI's 32 registers hold 8 rows × 2 panels of sums, and two weight
    /// loads per 16 products rather than one per 8 leave the loads fewer than the products.
    fn panels(self) -> usize {
        match self {
            Int8Kernel::Avx512Vnni => 2,
            _ => 1,
        }
    }
}

/// Input quads an AMX tile spans.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
const TILE_QUADS: usize = amx::TILE_QUADS;
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
const TILE_QUADS: usize = 16;

fn amx_ready() -> bool {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        amx::ready()
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    {
        false
    }
}

fn avxvnni_detected() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avxvnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn vnni_detected() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One `k` quad of one panel: 16 outputs × 4 weights, aligned so that the kernels load it
/// with aligned loads (in debug builds, unaligned loads go through `copy_nonoverlapping` and
/// its overlap checks, which cost more than the arithmetic).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct WeightQuad([i8; NR * 4]);

/// A `(out, in)` weight matrix quantised for `x · wᵀ` (no bias: callers fuse it later).
pub struct QuantLinear {
    n: usize,
    k: usize,
    /// Number of `k` quads (`k` rounded up to a multiple of 4, over 4).
    quads: usize,
    /// Panel after panel, each `quads` long.
    packed: Vec<WeightQuad>,
    /// Per output channel (padded to whole panels; padding has scale 0).
    scale: Vec<f32>,
    /// Per output channel: the sum of its quantised weights, which removes the activations'
    /// zero point from the integer product.
    col_sum: Vec<i32>,
    /// The AVX2 kernel's bounded copy of `packed` ([`pairs`]), made when it first runs: other
    /// CPUs do not pay its memory (21 MB for e5-small).
    paired: std::sync::OnceLock<pairs::Paired>,
}

impl QuantLinear {
    /// Quantises `w` (`n` rows of `k`, row-major as PyTorch stores a linear layer).
    pub fn new(w: &[f32], n: usize, k: usize) -> QuantLinear {
        assert_eq!(w.len(), n * k, "weight matrix is {n} x {k}");
        assert!(k <= MAX_INPUTS, "{k} inputs: i32 sums could overflow");
        let quads = k.div_ceil(4);
        // Whole pairs of panels: the AMX kernel computes two at a time (a padding panel has
        // zero weights and scale, and is never stored).
        let np = n.div_ceil(2 * NR) * 2 * NR;
        let mut packed = vec![WeightQuad([0; NR * 4]); np / NR * quads];
        let mut scale = vec![0f32; np];
        let mut col_sum = vec![0i32; np];
        for (o, row) in w.chunks_exact(k).enumerate() {
            let amax = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            let s = if amax > 0.0 { amax / W_MAX } else { 1.0 };
            scale[o] = s;
            let panel = &mut packed[(o / NR) * quads..][..quads];
            let lane = (o % NR) * 4;
            for (i, v) in row.iter().enumerate() {
                let q = (v / s).round_ties_even().clamp(-W_MAX, W_MAX) as i8;
                panel[i / 4].0[lane + i % 4] = q;
                col_sum[o] += q as i32;
            }
        }
        QuantLinear {
            n,
            k,
            quads,
            packed,
            scale,
            col_sum,
            paired: std::sync::OnceLock::new(),
        }
    }

    /// The weights as the AVX2 kernel multiplies them (see [`pairs`]).
    fn paired(&self) -> &pairs::Paired {
        self.paired
            .get_or_init(|| pairs::Paired::new(&self.packed, self.quads))
    }

    /// `x · wᵀ` for `x` of `rows × k`, with the kernel this CPU runs.
    #[cfg(test)]
    pub fn forward(&self, x: &[f32]) -> Vec<f32> {
        self.forward_with(Int8Kernel::active(), x)
    }

    /// `x · wᵀ` with a given kernel (which must be [`Int8Kernel::available`]).
    #[cfg(test)]
    pub fn forward_with(&self, kernel: Int8Kernel, x: &[f32]) -> Vec<f32> {
        let mut out = vec![0f32; x.len() / self.k * self.n];
        self.forward_into(kernel, x, &mut out, &mut QuantRows::default());
        out
    }

    /// `out = x · wᵀ` (`out` is written, never read), quantising `x` into `a`: both buffers
    /// are the caller's, reused from layer to layer.
    pub fn forward_into(&self, kernel: Int8Kernel, x: &[f32], out: &mut [f32], a: &mut QuantRows) {
        a.fill(x, self.k, self.quads);
        self.product(kernel, a, out);
    }

    /// `f(x · wᵀ)`, quantised into `next` (the input of a product whose width is this one's
    /// output) without ever being written out whole: each block of rows is computed into a
    /// per-thread buffer, mapped (the feed-forward's bias and activation) and quantised while
    /// it is still in cache. The same values as [`Self::forward_into`], `f` and
    /// [`QuantRows::fill`] in turn, minus a pass through memory over the widest activations
    /// of the network both ways.
    pub fn forward_quantised(
        &self,
        kernel: Int8Kernel,
        x: &[f32],
        a: &mut QuantRows,
        f: &RowMap<'_>,
        next: &mut QuantRows,
    ) {
        assert!(kernel.available(), "{} kernel on this CPU", kernel.name());
        a.fill(x, self.k, self.quads);
        let (rows, n, quads) = (a.rows, self.n, self.n.div_ceil(4));
        next.reserve(rows, quads);
        let a = &*a;
        let block_rows = kernel.for_layer(self.quads).block_rows();
        next.q[..rows * quads]
            .par_chunks_mut(block_rows * quads)
            .zip(next.scale[..rows].par_chunks_mut(block_rows))
            .zip(next.zero[..rows].par_chunks_mut(block_rows))
            .enumerate()
            .for_each(|(b, ((q, scale), zero))| {
                BLOCK.with_borrow_mut(|buf| {
                    grow(buf, scale.len() * n);
                    let out = &mut buf[..scale.len() * n];
                    block(self, kernel, a, b * block_rows, out);
                    let rows = out.chunks_exact_mut(n).zip(q.chunks_exact_mut(quads));
                    for ((x, q), (s, z)) in rows.zip(scale.iter_mut().zip(zero.iter_mut())) {
                        f(x);
                        quantize_row(x, q, s, z);
                    }
                })
            });
    }

    /// `out = x · wᵀ` for the rows `a` holds, quantised by [`QuantRows::fill`] or
    /// [`Self::forward_quantised`] for this layer's width.
    pub fn product(&self, kernel: Int8Kernel, a: &QuantRows, out: &mut [f32]) {
        assert!(kernel.available(), "{} kernel on this CPU", kernel.name());
        assert_eq!(
            a.quads, self.quads,
            "activations quantised for another width"
        );
        assert_eq!(
            out.len(),
            a.rows * self.n,
            "output of {} x {}",
            a.rows,
            self.n
        );
        let block_rows = kernel.for_layer(self.quads).block_rows();
        out.par_chunks_mut(block_rows * self.n)
            .enumerate()
            .for_each(|(b, o)| block(self, kernel, a, b * block_rows, o));
    }
}

thread_local! {
    /// One block of a product's output per thread (see `forward_quantised`).
    static BLOCK: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

simd_dispatch!(fn block(
    lin: &QuantLinear, kernel: Int8Kernel, a: &QuantRows, r0: usize, out: &mut [f32],
) => block_impl);

/// Rows `r0..` of the output (as many as `out` holds), panel by panel so a panel's weights
/// stay in L1 while every row tile of the block passes over them. Compiled per SIMD level as
/// a whole, so the dequantisation of each 16-wide tile row is inlined and vectorised rather
/// than reached through the dispatch for every 16 values (2–3 % of int8 time, measured).
#[inline(always)]
fn block_impl(lin: &QuantLinear, kernel: Int8Kernel, a: &QuantRows, r0: usize, out: &mut [f32]) {
    let rows = out.len() / lin.n;
    let kernel = kernel.for_layer(lin.quads);
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if kernel == Int8Kernel::Amx {
        return block_amx(lin, a, r0, out);
    }
    let (mr, width) = (kernel.rows(), kernel.panels() * NR);
    let mut acc = [[0i32; 2 * NR]; MR_MAX];
    // The AVX2 kernel multiplies its own bounded copy, then mends the sums (one panel per
    // group there).
    let paired = (kernel == Int8Kernel::Avx2).then(|| lin.paired());
    let weights = paired.map_or(&lin.packed, |p| &p.packed);
    // Panels in groups the kernel computes at once (the panel count is even, see `new`).
    let groups = weights.chunks_exact(kernel.panels() * lin.quads);
    for (g, panels) in groups.take(lin.n.div_ceil(width)).enumerate() {
        let c0 = g * width;
        let cols = width.min(lin.n - c0);
        for t in (0..rows).step_by(mr) {
            let a_tile = &a.q[(r0 + t) * lin.quads..(r0 + t + mr) * lin.quads];
            micro(kernel, a_tile, lin.quads, panels, &mut acc);
            if let Some(p) = paired {
                p.mend(g, a_tile, lin.quads, &mut acc);
            }
            for (r, acc) in acc.iter().enumerate().take(mr.min(rows - t)) {
                let row = r0 + t + r;
                let out = &mut out[(t + r) * lin.n + c0..][..cols];
                let (col_sum, scale) = (&lin.col_sum[c0..c0 + cols], &lin.scale[c0..c0 + cols]);
                dequantise(out, &acc[..cols], col_sum, scale, a.zero[row], a.scale[row]);
            }
        }
    }
}

/// [`block_impl`] on AMX: one or two 16-row tiles against two panels at a time.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[inline(always)]
fn block_amx(lin: &QuantLinear, a: &QuantRows, r0: usize, out: &mut [f32]) {
    let rows = out.len() / lin.n;
    let row_tiles = rows.div_ceil(amx::TILE_ROWS);
    let mut sums: [amx::TileSums; 4] =
        std::array::from_fn(|_| amx::TileSums([[0; NR]; amx::TILE_ROWS]));
    let tiles = amx::Tiles::load();
    for (pair, panels) in lin.packed.chunks_exact(2 * lin.quads).enumerate() {
        amx::product(&tiles, a, r0, row_tiles, lin.quads, panels, &mut sums);
        for (i, tile) in sums.iter().enumerate().take(2 * row_tiles) {
            let (rt, c0) = (i / 2, (2 * pair + i % 2) * NR);
            if c0 >= lin.n {
                continue;
            }
            let cols = NR.min(lin.n - c0);
            let (col_sum, scale) = (&lin.col_sum[c0..c0 + cols], &lin.scale[c0..c0 + cols]);
            let tile_rows = amx::TILE_ROWS.min(rows - rt * amx::TILE_ROWS);
            for (r, acc) in tile.0.iter().enumerate().take(tile_rows) {
                let t = rt * amx::TILE_ROWS + r;
                let out = &mut out[t * lin.n + c0..][..cols];
                dequantise(
                    out,
                    &acc[..cols],
                    col_sum,
                    scale,
                    a.zero[r0 + t],
                    a.scale[r0 + t],
                );
            }
        }
    }
}

/// `out = (acc − zero · col_sum) · row_scale · scale`: the exact integer product of the
/// unquantised values, back in f32. Wrapping arithmetic only to keep debug builds'
/// overflow checks out of the loop: |acc| ≤ k·255·63 and |zero · col_sum| ≤ 255·k·63, far
/// from i32's range for any layer width below 60 000.
#[inline(always)]
fn dequantise(
    out: &mut [f32],
    acc: &[i32],
    col_sum: &[i32],
    scale: &[f32],
    zero: i32,
    row_scale: f32,
) {
    for (((o, a), c), s) in out.iter_mut().zip(acc).zip(col_sum).zip(scale) {
        *o = a.wrapping_sub(zero.wrapping_mul(*c)) as f32 * (row_scale * s);
    }
}

/// Activations quantised per row to `0..=255` with a zero point: `x ≈ scale · (q − zero)`.
/// Kept between calls so that its buffers are allocated once per batch size, not per layer.
#[derive(Default)]
pub struct QuantRows {
    /// Four quantised values per `u32` (in memory order; the kernels broadcast the four bytes,
    /// so their order is that of the inputs on any machine), rows padded to a multiple of
    /// [`ROW_PAD`] and to whole quads.
    q: Vec<u32>,
    scale: Vec<f32>,
    zero: Vec<i32>,
    /// Rows held, and words per row.
    rows: usize,
    quads: usize,
}

impl QuantRows {
    /// Room for `rows` rows of `quads` words, padded to a multiple of [`ROW_PAD`] rows and
    /// [`MR_MAX`] more (the kernels' tiles read them). Buffers only grow, and nothing is
    /// zeroed: the padding rows' products are computed by the tiles but never stored, and bytes
    /// past `k` in a row's last quad meet zero weights.
    fn reserve(&mut self, rows: usize, quads: usize) {
        // Plus a tile's height: AVX-VNNI's six-row tiles start at multiples of 6, so the last
        // one may read up to four rows past a multiple of 16 (read, never stored).
        let padded = rows.div_ceil(ROW_PAD) * ROW_PAD + MR_MAX;
        grow(&mut self.q, padded * quads);
        grow(&mut self.scale, padded);
        grow(&mut self.zero, padded);
        (self.rows, self.quads) = (rows, quads);
    }

    /// Quantises the rows of `x` (`k` wide) into `quads` words each.
    fn fill(&mut self, x: &[f32], k: usize, quads: usize) {
        let rows = x.len() / k;
        self.reserve(rows, quads);
        self.q[..rows * quads]
            .par_chunks_mut(quads)
            .zip(self.scale[..rows].par_iter_mut())
            .zip(self.zero[..rows].par_iter_mut())
            .zip(x.par_chunks(k))
            .for_each(|(((q, s), z), x)| quantize_row(x, q, s, z));
    }
}

/// A map applied in place to each output row before it is quantised (see `forward_quantised`).
pub type RowMap<'a> = dyn Fn(&mut [f32]) + Sync + 'a;

/// Smallest and largest value of `x` and 0, in 32 independent lanes (a plain fold over
/// `f32::min` does not vectorise, and one run of eight made each step wait for the previous
/// compare: a tenth of int8 time), the lanes then folded in halves. Flat arrays indexed in
/// step: nested `[[f32; 8]; 4]` zips were kept in memory and shuffled lane by lane in the AVX2
/// build (13 % of its int8 time). Minimum and maximum are exact, so the grouping does not
/// change the result; NaN is skipped, as `f32::min` skips it.
#[inline(always)]
fn range(x: &[f32]) -> (f32, f32) {
    const L: usize = 32;
    let min = |a: f32, b: f32| if b < a { b } else { a };
    let max = |a: f32, b: f32| if b > a { b } else { a };
    let (mut lo, mut hi) = ([0f32; L], [0f32; L]);
    let chunks = x.chunks_exact(L);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..L {
            lo[i] = min(lo[i], c[i]);
            hi[i] = max(hi[i], c[i]);
        }
    }
    for (i, v) in tail.iter().enumerate() {
        lo[i] = min(lo[i], *v);
        hi[i] = max(hi[i], *v);
    }
    let mut w = L / 2;
    while w > 0 {
        for i in 0..w {
            lo[i] = min(lo[i], lo[i + w]);
            hi[i] = max(hi[i], hi[i + w]);
        }
        w /= 2;
    }
    (lo[0], hi[0])
}

simd_dispatch!(fn quantize_row(x: &[f32], q: &mut [u32], scale: &mut f32, zero: &mut i32)
    => quantize_row_impl);

/// Asymmetric quantisation of one row; the range always includes 0 so that zero stays exact
/// (GELU outputs are mostly near it). Compiled per SIMD level (a baseline build rounds by
/// calling `rintf` per value); every level rounds the same way.
#[inline(always)]
fn quantize_row_impl(x: &[f32], q: &mut [u32], scale: &mut f32, zero_point: &mut i32) {
    let (lo, hi) = range(x);
    let s = if hi > lo { (hi - lo) / A_MAX } else { 1.0 };
    let inv = 1.0 / s;
    let zero = (-lo * inv).round_ties_even().clamp(0.0, A_MAX);
    // Written through a byte view: value i of a quad is byte i in memory on any machine.
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(q);
    for (q, v) in bytes.iter_mut().zip(x) {
        let v = (v * inv + zero).round_ties_even();
        // Comparisons rather than `clamp`, and the integer read off the bits of v + 2²³
        // (whose low mantissa bits are v, a whole number in 0..=255) rather than an `as`
        // cast: these vectorise, `clamp` and the saturating cast did not. NaN ends up 0.
        let v = if v > A_MAX { A_MAX } else { v };
        let v = if v > 0.0 { v } else { 0.0 };
        *q = (v + 8_388_608.0).to_bits() as u8;
    }
    (*scale, *zero_point) = (s, zero as i32);
}

/// `acc[r][j] = Σ_k a[r][k] · panels[k][j]` for one tile of rows (`kernel.rows()` of them,
/// `quads` apart in `a`) and `kernel.panels()` panels (columns `16·p..` of `acc`).
fn micro(
    kernel: Int8Kernel,
    a: &[u32],
    quads: usize,
    panels: &[WeightQuad],
    acc: &mut [[i32; 2 * NR]; MR_MAX],
) {
    assert!(a.len() >= kernel.rows() * quads && panels.len() == kernel.panels() * quads);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `product` and `forward_quantised` checked that the CPU has AVX2; the slices are as long as
        // the kernel reads (asserted above).
        Int8Kernel::Avx2 => unsafe { x86::micro_avx2(a, quads, panels, acc) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, for AVX-VNNI.
        Int8Kernel::AvxVnni => unsafe { x86::micro_avxvnni(a, quads, panels, acc) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, for AVX-512F + VNNI.
        Int8Kernel::Avx512Vnni => unsafe { x86::micro_vnni(a, quads, panels, acc) },
        _ => micro_portable(a, quads, panels, acc),
    }
}

fn micro_portable(
    a: &[u32],
    quads: usize,
    panel: &[WeightQuad],
    acc: &mut [[i32; 2 * NR]; MR_MAX],
) {
    for (r, acc) in acc.iter_mut().enumerate().take(4) {
        let a = &a[r * quads..(r + 1) * quads];
        let acc = &mut acc[..NR];
        acc.fill(0);
        for (quad, w) in a.iter().zip(panel) {
            let x = quad.to_ne_bytes(); // memory order, as the byte view wrote them
            for (acc, w) in acc.iter_mut().zip(w.0.chunks_exact(4)) {
                for (x, w) in x.iter().zip(w) {
                    *acc += *x as i32 * *w as i32;
                }
            }
        }
    }
}

#[cfg(test)]
pub(in crate::model) mod tests;
