//! The AVX2 kernel's copy of a layer's weights, bounded so that two quads' `vpmaddubsw` sums
//! can be added in 16 bits before one `vpmaddwd` widens them.
//!
//! Why: the AVX2 kernel multiplies with `vpmaddubsw` (u8·i8 pairs → i16) and widens with
//! `vpmaddwd` (i16 pairs → i32); both run on the same multiply pipes. Widening once per two
//! quads instead of once per quad is three multiplies per 64 products instead of four. On an
//! AMD Zen 4 core at the AVX2 level that made the int8 encoder 6–9 % faster (README, "AMD Zen
//! 4"); an Intel core had measured it within noise (its bound lies elsewhere).
//!
//! The catch is i16: one `vpmaddubsw` lane is at most 255 · 126, within range, but the sum of
//! two is `Σ x·w` over four weights of one output, which stays in ±32 767 for every `x` in
//! 0..=255 only if the positive weights among the four sum to at most 128 and so do the
//! negative ones' magnitudes (255 · 128 = 32 640). The weights are fixed, so each lane is
//! checked once, here, and where it breaks the bound the copy's weights are lowered until it
//! holds and what was taken off is kept as a [`Fix`]: [`Paired::mend`] adds those few products
//! back exactly after the kernel ran. The sums are then the exact integers every other kernel
//! computes, and the results the same bits (the unit tests compare with the portable loop on
//! weights where nearly every lane breaks the bound). In the provisioned e5-small about 0.1 %
//! of lanes do.

use super::{WeightQuad, MR_MAX, NR};

/// Rows of the AVX2 kernel's tile.
pub(super) const ROWS: usize = 4;

/// Most that the positive (or the negative) weights meeting in one i16 lane may add up to.
const LANE_MAX: i32 = 128;

const _: () = assert!(255 * LANE_MAX <= i16::MAX as i32);

/// What the copy took off one weight: output `col` of its panel, input byte `at` of a row.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fix {
    at: u32,
    col: u16,
    amount: i16,
}

/// A layer's weights for the AVX2 kernel (same layout as `QuantLinear::packed`), and per
/// panel what was taken off them.
pub(super) struct Paired {
    pub(super) packed: Vec<WeightQuad>,
    fixes: Vec<Vec<Fix>>,
}

/// The four weights (quad, byte within the panel's quad) that meet in i16 lane `half` of
/// output `col` when quads `2·pair` and `2·pair + 1` are added before widening.
pub(super) fn lane(pair: usize, col: usize, half: usize) -> [(usize, usize); 4] {
    let b = col * 4 + 2 * half;
    let (q0, q1) = (2 * pair, 2 * pair + 1);
    [(q0, b), (q0, b + 1), (q1, b), (q1, b + 1)]
}

impl Paired {
    /// Bounds a copy of `packed` (panels of `quads` quads each; `quads` ≥ 1, as `QuantLinear`
    /// has at least one input). A layer with an odd number of quads keeps its last one as it
    /// is: the kernel widens it alone.
    pub(super) fn new(packed: &[WeightQuad], quads: usize) -> Paired {
        let mut packed = packed.to_vec();
        let mut fixes = vec![Vec::new(); packed.len() / quads];
        for (panel, fixes) in packed.chunks_exact_mut(quads).zip(&mut fixes) {
            for pair in 0..quads / 2 {
                for col in 0..NR {
                    for half in 0..2 {
                        bound_lane(panel, lane(pair, col, half), col, fixes);
                    }
                }
            }
        }
        for fixes in &mut fixes {
            // In the order the rows hold the bytes.
            fixes.sort_by_key(|f| (f.at, f.col));
        }
        Paired { packed, fixes }
    }

    /// Adds to `acc` (the kernel's sums for the [`ROWS`] rows of `a`, `quads` apart, × panel
    /// `panel`) the products of what the copy took off that panel's weights.
    #[inline(always)]
    pub(super) fn mend(
        &self,
        panel: usize,
        a: &[u32],
        quads: usize,
        acc: &mut [[i32; 2 * NR]; MR_MAX],
    ) {
        // Bytes in memory order, as the quantiser wrote them and the kernels read them.
        let bytes: &[u8] = bytemuck::cast_slice(&a[..ROWS * quads]);
        let rows: [&[u8]; ROWS] = std::array::from_fn(|r| &bytes[r * 4 * quads..][..4 * quads]);
        for f in &self.fixes[panel] {
            let (at, col, amount) = (f.at as usize, usize::from(f.col), i32::from(f.amount));
            for (acc, row) in acc.iter_mut().zip(rows) {
                acc[col] += i32::from(row[at]) * amount;
            }
        }
    }

    /// Weights the copy lowered, over every panel.
    #[cfg(test)]
    pub(super) fn fixes(&self) -> usize {
        self.fixes.iter().map(Vec::len).sum()
    }
}

/// Lowers the weights at `at` until their positive sum and their negative sum's magnitude are
/// each at most [`LANE_MAX`], the largest first (fewer of them changed, so fewer products to
/// add back), recording each change.
fn bound_lane(panel: &mut [WeightQuad], at: [(usize, usize); 4], col: usize, fixes: &mut Vec<Fix>) {
    for sign in [1i32, -1] {
        let signed = |w: i8| i32::from(w) * sign;
        let mut at = at;
        at.sort_by_key(|&(q, b)| std::cmp::Reverse(signed(panel[q].0[b])));
        let sum: i32 = at.iter().map(|&(q, b)| signed(panel[q].0[b]).max(0)).sum();
        let mut excess = sum - LANE_MAX;
        for (q, b) in at {
            let w = signed(panel[q].0[b]);
            if excess <= 0 || w <= 0 {
                break;
            }
            let d = w.min(excess);
            // |w| ≤ 63, so both fit an i8.
            panel[q].0[b] = ((w - d) * sign) as i8;
            excess -= d;
            fixes.push(Fix {
                at: (q * 4 + b % 4) as u32,
                col: col as u16,
                amount: (d * sign) as i16,
            });
        }
    }
}
