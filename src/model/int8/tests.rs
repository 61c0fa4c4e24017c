//! The int8 kernels against a plain f32 product and against each other.

use super::*;

/// Deterministic values in `±spread / 2` (also the f32 product's tests' data).
pub(in crate::model) fn pseudo(seed: u64, n: usize, spread: f32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * spread
        })
        .collect()
}

fn reference(x: &[f32], w: &[f32], k: usize) -> Vec<f32> {
    x.chunks_exact(k)
        .flat_map(|x| {
            w.chunks_exact(k)
                .map(|w| x.iter().zip(w).map(|(a, b)| a * b).sum::<f32>())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn close_to_f32_product() {
    // Odd sizes: rows not a multiple of a tile, outputs not of a panel, k not of 4.
    let (m, n, k) = (37, 21, 50);
    let x = pseudo(1, m * k, 4.0);
    let w = pseudo(2, n * k, 0.2);
    let q = QuantLinear::new(&w, n, k);
    let got = q.forward_with(Int8Kernel::Portable, &x);
    let want = reference(&x, &w, k);
    let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 0.03 * scale, "{g} vs {w}");
    }
}

/// Every faster kernel this CPU has gives the portable loop's bits for `x · wᵀ`; returns the
/// kernels compared (the others are reported as skipped).
fn assert_kernels_match_portable(q: &QuantLinear, x: &[f32], case: &str) -> Vec<&'static str> {
    let portable = q.forward_with(Int8Kernel::Portable, x);
    let kernels = [
        Int8Kernel::Avx2,
        Int8Kernel::AvxVnni,
        Int8Kernel::Avx512Vnni,
        Int8Kernel::Amx,
    ];
    let mut ran = vec![];
    for kernel in kernels {
        if kernel.available() {
            assert_eq!(
                q.forward_with(kernel, x),
                portable,
                "{} {case}",
                kernel.name()
            );
            ran.push(kernel.name());
        } else {
            eprintln!("{} not on this CPU: not compared", kernel.name());
        }
    }
    ran
}

#[test]
fn every_kernel_gives_the_same_bits() {
    // Extreme values on both sides: the sums that would saturate a careless AVX2 kernel.
    // Widths 388 (not whole AMX tiles: AMX hands the layer to a vector kernel) and 384
    // (AMX's own path); 45 rows = a block of two 16-row tiles and one of a single tile;
    // 40 outputs = three panels, the last partly padding, plus a padding panel.
    let mut ran = vec![];
    for (m, n, k) in [(45, 40, 388), (45, 40, 384)] {
        let mut x = pseudo(3, m * k, 10.0);
        x[..k].iter_mut().for_each(|v| *v = 5.0);
        let mut w = pseudo(4, n * k, 1.0);
        w[..k].iter_mut().for_each(|v| *v = -1.0);
        let q = QuantLinear::new(&w, n, k);
        ran.extend(assert_kernels_match_portable(&q, &x, &format!("k={k}")));
    }
    eprintln!("compared with the portable kernel: {ran:?}");
}

#[test]
fn tiles_that_do_not_divide_the_padded_rows() {
    // Row counts at and just past the padding's multiples of 16: AVX-VNNI's six-row tiles
    // end past the padded rows there (16 rows: tiles at 0, 6 and 12), so the buffer must hold
    // them; and 50 rows make a 48-row block and a block of two.
    let (n, k) = (40, 388);
    let w = pseudo(9, n * k, 1.0);
    let q = QuantLinear::new(&w, n, k);
    for m in [1, 2, 15, 16, 17, 32, 33, 48, 50] {
        let x = pseudo(10 + m as u64, m * k, 6.0);
        assert_kernels_match_portable(&q, &x, &format!("m={m}"));
    }
}

#[test]
fn zero_rows_and_zero_weights() {
    let q = QuantLinear::new(&[0.0; 8], 2, 4);
    assert_eq!(q.forward(&[1.0, -2.0, 3.0, 0.0]), vec![0.0, 0.0]);
    assert!(q.forward(&[]).is_empty());
    let q = QuantLinear::new(&[1.0, 0.0, 0.0, 0.0], 1, 4);
    assert_eq!(q.forward(&[0.0; 4]), vec![0.0]);
}

#[test]
fn quantising_a_mapped_output_gives_the_bits_of_doing_it_in_turn() {
    use crate::model::config::Activation;
    use crate::model::kernels::bias_activation_rows;
    // 70 rows: two whole blocks and a part; 52 outputs: not whole panels nor quads of the
    // next product's input.
    let (m, n, k, n2) = (70, 52, 64, 24);
    let x = pseudo(5, m * k, 4.0);
    let (up, down) = (pseudo(6, n * k, 0.2), pseudo(8, n2 * n, 0.3));
    let bias = pseudo(7, n, 1.0);
    let (up, down) = (QuantLinear::new(&up, n, k), QuantLinear::new(&down, n2, n));
    let f = |rows: &mut [f32]| bias_activation_rows(rows, &bias, Activation::GeluErf);
    for kernel in [Int8Kernel::Portable, Int8Kernel::active()] {
        let mut mapped = up.forward_with(kernel, &x);
        f(&mut mapped);
        let want = down.forward_with(kernel, &mapped);
        let (mut a, mut next) = (QuantRows::default(), QuantRows::default());
        up.forward_quantised(kernel, &x, &mut a, &f, &mut next);
        let mut got = vec![f32::NAN; m * n2];
        down.product(kernel, &next, &mut got);
        assert_eq!(got, want, "{}", kernel.name());
    }
}

#[test]
fn pairs_of_quads_that_would_pass_16_bits_are_mended() {
    // Rows of weights all +1 or all −1 (quantised to ±63: four in a lane sum to ±252, twice
    // the bound) and pseudo-random ones; activations all 5.0 (quantised to 255) in the first
    // row. Added in 16 bits, two quads' `vpmaddubsw` sums would wrap (255 · 252 = 64 260)
    // unless the AVX2 copy is lowered and the products taken off are added back. 9 and 10
    // quads: with and without a last quad widened alone.
    for k in [36, 40] {
        let (m, n) = (11, 40);
        let mut w = pseudo(11, n * k, 1.0);
        w[..k].iter_mut().for_each(|v| *v = 1.0);
        w[k..2 * k].iter_mut().for_each(|v| *v = -1.0);
        let mut x = pseudo(12, m * k, 10.0);
        x[..k].iter_mut().for_each(|v| *v = 5.0);
        let q = QuantLinear::new(&w, n, k);
        let paired = q.paired();
        // The two extreme rows alone: two weights lowered in each of their lanes.
        let lanes = 2 * (q.quads / 2);
        assert!(
            paired.fixes() >= 2 * lanes * 2,
            "{} weights lowered",
            paired.fixes()
        );
        // Every lane of the copy within the bound, on both sides.
        for panel in paired.packed.chunks_exact(q.quads) {
            for (pair, col, half) in
                (0..q.quads / 2).flat_map(|p| (0..NR).flat_map(move |c| [(p, c, 0), (p, c, 1)]))
            {
                let ws = pairs::lane(pair, col, half).map(|(q, b)| i32::from(panel[q].0[b]));
                let pos: i32 = ws.iter().map(|w| w.max(&0)).sum();
                let neg: i32 = ws.iter().map(|w| (-w).max(0)).sum();
                assert!(pos <= 128 && neg <= 128, "{ws:?}");
            }
        }
        assert_kernels_match_portable(&q, &x, &format!("k={k}"));
    }
}
