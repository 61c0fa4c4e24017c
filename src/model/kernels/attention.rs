//! Multi-head self-attention over packed sequences (see the module above for the packing).

use rayon::prelude::*;

use super::{exp_neg, simd_dispatch, sum_lanes, Simd};

/// Multi-head self-attention over packed sequences.
///
/// `qkv` holds, per token, the un-biased query, key and value projections side by side
/// (`3 * hidden` wide); `offsets[s]..offsets[s + 1]` are the rows of sequence `s`. Writes the
/// attention output (`hidden` wide, heads concatenated) to `out`. Sequences only attend to
/// themselves, which is exactly what a padded batch with an attention mask computes, minus the
/// padding.
pub fn packed_attention(
    out: &mut [f32],
    qkv: &[f32],
    bias: &[f32],
    offsets: &[usize],
    heads: usize,
    hidden: usize,
) {
    let mut slices = Vec::with_capacity(offsets.len().saturating_sub(1));
    let mut rest = out;
    for w in offsets.windows(2) {
        let (head, tail) = rest.split_at_mut((w[1] - w[0]) * hidden);
        slices.push((w[0], head));
        rest = tail;
    }
    thread_local! {
        // Per-thread working memory of `attend_one`, kept across sequences and layers instead
        // of allocated and zeroed for every sequence of every layer.
        static WORK: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    slices.into_par_iter().for_each(|(start, o)| {
        let len = o.len() / hidden;
        WORK.with_borrow_mut(|work| {
            attend_one(
                &qkv[start * 3 * hidden..][..len * 3 * hidden],
                bias,
                heads,
                o,
                work,
            )
        });
    });
}

simd_dispatch!(fn attend_one(
    qkv: &[f32], bias: &[f32], heads: usize, out: &mut [f32], work: &mut Vec<f32>,
) => attend_one_impl);

/// Key/score rows are padded to a multiple of this many lanes (one AVX-512 register), so the
/// inner loops have no scalar tails: at typical lengths of 20-40 tokens the tails would cost
/// more than the vector part.
const LANES: usize = 16;
/// Queries of one head handled together by `attend_one`, so each key and value row loaded
/// serves all of them (eight measured no faster).
const QT: usize = 4;

/// Largest of `x` (a multiple of [`LANES`] long) in [`LANES`] independent lanes, NaN skipped.
#[inline(always)]
fn max_lanes(x: &[f32]) -> f32 {
    let max = |a: f32, b: f32| if b > a { b } else { a };
    let mut m = [f32::NEG_INFINITY; LANES];
    for c in x.chunks_exact(LANES) {
        for (m, v) in m.iter_mut().zip(c) {
            *m = max(*m, *v);
        }
    }
    let mut w = LANES / 2;
    while w > 0 {
        for i in 0..w {
            m[i] = max(m[i], m[i + w]);
        }
        w /= 2;
    }
    m[0]
}

/// One sequence's attention. `work` is scratch whose contents do not matter: every value read
/// is written first, except the keys' padding columns, whose scores are discarded.
#[inline(always)]
fn attend_one_impl(qkv: &[f32], bias: &[f32], heads: usize, out: &mut [f32], work: &mut Vec<f32>) {
    let hidden = bias.len() / 3;
    let len = out.len() / hidden;
    let dh = hidden / heads;
    let padded = len.div_ceil(LANES) * LANES;
    let scale = 1.0 / (dh as f32).sqrt();
    // Queries and values head-major (heads, len, dh); keys transposed per head
    // (heads, dh, padded) so that one query against all keys is `dh` contiguous axpys, which
    // vectorise, rather than `len` horizontal dot products, which do not.
    // The queries have `QT` spare rows at the end: a group that runs past the last query reads
    // them (or the next head's) instead of being copied together with repeats.
    let need = (2 * len + QT) * hidden + padded * hidden + QT * padded + dh;
    if work.len() < need {
        work.resize(need, 0.0);
    }
    let (q, rest) = work.split_at_mut(len * hidden + QT * dh);
    let (v, rest) = rest.split_at_mut(len * hidden);
    let (kt, rest) = rest.split_at_mut(padded * hidden);
    let (scores, rest) = rest.split_at_mut(QT * padded);
    let acc = &mut rest[..dh];
    // Queries and values: contiguous runs of `dh`, which vectorise. Keys: a transpose, whose
    // scattered stores do not (written apart so they do not keep the others scalar too).
    for (t, row) in qkv.chunks_exact(3 * hidden).enumerate() {
        let (rq, rest) = row.split_at(hidden);
        let rv = &rest[hidden..];
        let (bq, bv) = (&bias[..hidden], &bias[2 * hidden..]);
        for h in 0..heads {
            let dst = (h * len + t) * dh;
            let c = h * dh..(h + 1) * dh;
            let parts = q[dst..dst + dh]
                .iter_mut()
                .zip(&rq[c.clone()])
                .zip(&bq[c.clone()]);
            for ((o, x), b) in parts {
                *o = (x + b) * scale;
            }
            let parts = v[dst..dst + dh].iter_mut().zip(&rv[c.clone()]).zip(&bv[c]);
            for ((o, x), b) in parts {
                *o = x + b;
            }
        }
    }
    let bk = &bias[hidden..2 * hidden];
    for (c, (kt, b)) in kt.chunks_exact_mut(padded).zip(bk).enumerate() {
        for (o, row) in kt.iter_mut().zip(qkv.chunks_exact(3 * hidden)) {
            *o = row[hidden + c] + b;
        }
    }
    for h in 0..heads {
        let head = Head {
            simd: Simd::active(),
            len,
            q: &q[h * len * dh..][..(len + QT) * dh],
            kt: &kt[h * dh * padded..][..dh * padded],
            v: &v[h * len * dh..][..len * dh],
            padded,
        };
        let mut out = Out {
            rows: &mut *out,
            stride: hidden,
            col: h * dh,
        };
        for i0 in (0..len).step_by(QT) {
            head.attend(i0, scores, acc, &mut out);
        }
    }
}

/// One head of one sequence: its queries and values (`len × dh`, queries already scaled and
/// followed by `QT` rows of anything) and its transposed keys (`dh × padded`).
struct Head<'a> {
    simd: Simd,
    len: usize,
    q: &'a [f32],
    kt: &'a [f32],
    v: &'a [f32],
    padded: usize,
}

/// Where a head writes: column `col..col + dh` of rows `stride` apart.
struct Out<'a> {
    rows: &'a mut [f32],
    stride: usize,
    col: usize,
}

impl Head<'_> {
    /// Queries `i0..i0 + QT` (those that exist) of this head into `out`. Each score and output
    /// sums its terms in the same order as one query at a time would, so the group size does
    /// not change a bit; rows past the last query are computed and never stored.
    #[inline(always)]
    fn attend(&self, i0: usize, scores: &mut [f32], acc: &mut [f32], out: &mut Out<'_>) {
        let (stride, col, out) = (out.stride, out.col, &mut *out.rows);
        let (simd, padded, dh, len) = (self.simd, self.padded, acc.len(), self.len);
        let live = QT.min(len - i0);
        // The weights of the key rows in `weighted_rows`: query t's dimension d.
        let qg = &self.q[i0 * dh..][..QT * dh];
        for blk in 0..padded / LANES {
            let mut s = [[0f32; LANES]; QT];
            weighted_rows(
                simd,
                &self.kt[blk * LANES..],
                padded,
                dh,
                qg,
                (dh, 1),
                &mut s,
            );
            for (t, s) in s.iter().enumerate() {
                scores[t * padded + blk * LANES..][..LANES].copy_from_slice(s);
            }
        }
        let mut inv = [0f32; QT];
        for (t, inv) in inv.iter_mut().enumerate().take(live) {
            let scores = &mut scores[t * padded..][..padded];
            // Padding keys first get -∞, so the maximum runs over whole registers (max is
            // exact: the lanes' order does not change it), then no weight.
            scores[len..]
                .iter_mut()
                .for_each(|s| *s = f32::NEG_INFINITY);
            let max = max_lanes(scores);
            for s in scores.chunks_exact_mut(LANES) {
                for x in s.iter_mut() {
                    *x = exp_neg(*x - max);
                }
            }
            // Padding keys must get no weight.
            scores[len..].iter_mut().for_each(|s| *s = 0.0);
            *inv = 1.0 / sum_lanes(scores);
        }
        if dh.is_multiple_of(LANES) {
            for c in 0..dh / LANES {
                let mut a = [[0f32; LANES]; QT];
                let v = &self.v[c * LANES..];
                weighted_rows(simd, v, dh, len, scores, (padded, 1), &mut a);
                for (t, a) in a.iter().enumerate().take(live) {
                    let o = &mut out[(i0 + t) * stride + col + c * LANES..][..LANES];
                    for l in 0..LANES {
                        o[l] = a[l] * inv[t];
                    }
                }
            }
        } else {
            for (t, inv) in inv.iter().enumerate().take(live) {
                acc.iter_mut().for_each(|a| *a = 0.0);
                let scores = &scores[t * padded..][..padded];
                for (p, vj) in scores.iter().zip(self.v.chunks_exact(dh)) {
                    for (a, b) in acc.iter_mut().zip(vj) {
                        *a += p * b;
                    }
                }
                let o = &mut out[(i0 + t) * stride + col..][..dh];
                for (o, a) in o.iter_mut().zip(acc.iter()) {
                    *o = a * inv;
                }
            }
        }
    }
}

/// `acc[t][l] = Σ_j c[t·ct + j·cj] · rows[j·stride + l]` over `n` rows of [`LANES`] values
/// (`rows[j·stride..]`) weighted per query `t` of a group of [`QT`]: both halves of attention —
/// queries × transposed keys (rows = key dimensions, weights = the group's queries) and
/// softmax weights × values (rows = tokens' values, weights = the scores). Summed in `j` order
/// with a separate multiply and add, so every path gives the same bits. Written with
/// intrinsics: the compiler's own vectorisation of these loops was fragile (scalar code, or
/// gathers across the queries, in some builds), and they are most of the attention's time.
#[inline(always)]
fn weighted_rows(
    simd: Simd,
    rows: &[f32],
    stride: usize,
    n: usize,
    c: &[f32],
    (ct, cj): (usize, usize),
    acc: &mut [[f32; LANES]; QT],
) {
    if n == 0 {
        *acc = [[0.0; LANES]; QT];
        return;
    }
    assert!(rows.len() >= (n - 1) * stride + LANES && c.len() > (QT - 1) * ct + (n - 1) * cj);
    #[cfg(target_arch = "x86_64")]
    match simd {
        // SAFETY: `simd` never exceeds what the CPU has (`Simd::active`); every read stays in
        // `rows` and `c` (asserted above).
        Simd::Avx512 => {
            return unsafe { x86::weighted_rows_avx512(rows, stride, n, c, ct, cj, acc) }
        }
        // SAFETY: as above.
        Simd::Avx2Fma => {
            return unsafe { x86::weighted_rows_avx2(rows, stride, n, c, ct, cj, acc) }
        }
        Simd::Baseline => {}
    }
    let _ = simd;
    *acc = [[0.0; LANES]; QT];
    for j in 0..n {
        let row = &rows[j * stride..][..LANES];
        for (t, acc) in acc.iter_mut().enumerate() {
            let w = c[t * ct + j * cj];
            for (a, x) in acc.iter_mut().zip(row) {
                *a += w * x;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{LANES, QT};

    /// [`super::weighted_rows`] with one 16-lane register per query.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn weighted_rows_avx512(
        rows: &[f32],
        stride: usize,
        n: usize,
        c: &[f32],
        ct: usize,
        cj: usize,
        out: &mut [[f32; LANES]; QT],
    ) {
        let mut acc = [_mm512_setzero_ps(); QT];
        for j in 0..n {
            let row = _mm512_loadu_ps(rows.as_ptr().add(j * stride));
            for (t, acc) in acc.iter_mut().enumerate() {
                let w = _mm512_set1_ps(*c.get_unchecked(t * ct + j * cj));
                *acc = _mm512_add_ps(*acc, _mm512_mul_ps(w, row));
            }
        }
        for (o, acc) in out.iter_mut().zip(acc) {
            _mm512_storeu_ps(o.as_mut_ptr(), acc);
        }
    }

    /// [`super::weighted_rows`] with two 8-lane registers per query.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn weighted_rows_avx2(
        rows: &[f32],
        stride: usize,
        n: usize,
        c: &[f32],
        ct: usize,
        cj: usize,
        out: &mut [[f32; LANES]; QT],
    ) {
        let mut acc = [[_mm256_setzero_ps(); 2]; QT];
        for j in 0..n {
            let row = rows.as_ptr().add(j * stride);
            let (r0, r1) = (_mm256_loadu_ps(row), _mm256_loadu_ps(row.add(8)));
            for (t, acc) in acc.iter_mut().enumerate() {
                let w = _mm256_set1_ps(*c.get_unchecked(t * ct + j * cj));
                acc[0] = _mm256_add_ps(acc[0], _mm256_mul_ps(w, r0));
                acc[1] = _mm256_add_ps(acc[1], _mm256_mul_ps(w, r1));
            }
        }
        for (o, acc) in out.iter_mut().zip(acc) {
            _mm256_storeu_ps(o.as_mut_ptr(), acc[0]);
            _mm256_storeu_ps(o.as_mut_ptr().add(8), acc[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attention_ignores_other_sequences() {
        let hidden = 4;
        let heads = 2;
        let qkv: Vec<f32> = (0..5 * 3 * hidden)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let bias = vec![0.1f32; 3 * hidden];
        let attend = |qkv: &[f32], offsets: &[usize]| {
            let mut out = vec![f32::NAN; offsets[offsets.len() - 1] * hidden];
            packed_attention(&mut out, qkv, &bias, offsets, heads, hidden);
            out
        };
        let both = attend(&qkv, &[0, 2, 5]);
        let first = attend(&qkv[..2 * 3 * hidden], &[0, 2]);
        let second = attend(&qkv[2 * 3 * hidden..], &[0, 3]);
        assert_eq!(&both[..2 * hidden], first.as_slice());
        assert_eq!(&both[2 * hidden..], second.as_slice());
    }
}
