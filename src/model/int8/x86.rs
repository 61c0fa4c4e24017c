//! The x86 vector kernels of the int8 product (AVX2 and AVX-512 VNNI; AMX is `amx.rs`).

use std::arch::x86_64::*;

use super::{WeightQuad, MR_MAX, NR};

/// Four rows × 16 outputs: per two quads, `vpmaddubsw` (u8·i8 pairs → i16) on each, the two
/// added in i16, then `vpmaddwd` by 1 (pairs → i32) and an add; a last odd quad widened alone.
/// The weights must be [`super::pairs::Paired`]'s bounded copy: with any others the 16-bit
/// add can wrap. Only aligned derefs and `wrapping_add` in the loop: `cargo run` builds with
/// debug assertions, whose checks on `ptr::add` and unaligned loads would cost more than the
/// arithmetic.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn micro_avx2(
    a: &[u32],
    quads: usize,
    panel: &[WeightQuad],
    acc: &mut [[i32; 2 * NR]; MR_MAX],
) {
    let ones = _mm256_set1_epi16(1);
    let mut w = panel.as_ptr() as *const __m256i;
    let mut x = a.as_ptr();
    let (mut c00, mut c01, mut c10, mut c11) = (zero(), zero(), zero(), zero());
    let (mut c20, mut c21, mut c30, mut c31) = (zero(), zero(), zero(), zero());
    for _ in 0..quads / 2 {
        let (w0, w1) = (*w, *w.wrapping_add(1));
        let (v0, v1) = (*w.wrapping_add(2), *w.wrapping_add(3));
        let step = |c0: &mut __m256i, c1: &mut __m256i, x: *const u32| {
            let (xa, xb) = (
                _mm256_set1_epi32(*x as i32),
                _mm256_set1_epi32(*x.wrapping_add(1) as i32),
            );
            let s0 = _mm256_add_epi16(_mm256_maddubs_epi16(xa, w0), _mm256_maddubs_epi16(xb, v0));
            let s1 = _mm256_add_epi16(_mm256_maddubs_epi16(xa, w1), _mm256_maddubs_epi16(xb, v1));
            *c0 = _mm256_add_epi32(*c0, _mm256_madd_epi16(s0, ones));
            *c1 = _mm256_add_epi32(*c1, _mm256_madd_epi16(s1, ones));
        };
        step(&mut c00, &mut c01, x);
        step(&mut c10, &mut c11, x.wrapping_add(quads));
        step(&mut c20, &mut c21, x.wrapping_add(2 * quads));
        step(&mut c30, &mut c31, x.wrapping_add(3 * quads));
        w = w.wrapping_add(4);
        x = x.wrapping_add(2);
    }
    if quads % 2 == 1 {
        let (w0, w1) = (*w, *w.wrapping_add(1));
        let step = |c0: &mut __m256i, c1: &mut __m256i, quad: u32| {
            let x = _mm256_set1_epi32(quad as i32);
            let p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(x, w0), ones);
            let p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(x, w1), ones);
            *c0 = _mm256_add_epi32(*c0, p0);
            *c1 = _mm256_add_epi32(*c1, p1);
        };
        step(&mut c00, &mut c01, *x);
        step(&mut c10, &mut c11, *x.wrapping_add(quads));
        step(&mut c20, &mut c21, *x.wrapping_add(2 * quads));
        step(&mut c30, &mut c31, *x.wrapping_add(3 * quads));
    }
    for (acc, (c0, c1)) in acc
        .iter_mut()
        .zip([(c00, c01), (c10, c11), (c20, c21), (c30, c31)])
    {
        _mm256_storeu_si256(acc.as_mut_ptr() as *mut __m256i, c0);
        _mm256_storeu_si256(acc.as_mut_ptr().add(8) as *mut __m256i, c1);
    }
}

#[inline(always)]
unsafe fn zero() -> __m256i {
    _mm256_setzero_si256()
}

/// Six rows × 16 outputs with AVX-VNNI's 256-bit `vpdpbusd` (u8·i8 quads summed straight
/// into i32, exact like the rest) instead of [`micro_avx2`]'s three instructions per product:
/// the AVX2 CPUs that have it (Intel client cores since Alder Lake) lack AVX-512 and so its
/// VNNI. Six rows rather than four: twelve independent sums instead of eight (each
/// `vpdpbusd` waits for the previous one into its sum; twelve are as many as the 16 registers
/// hold beside two weight halves and the broadcast) ran the kernel 17–36 % faster alone
/// (README, "Performance").
#[target_feature(enable = "avx2,avxvnni")]
pub(super) unsafe fn micro_avxvnni(
    a: &[u32],
    quads: usize,
    panel: &[WeightQuad],
    acc: &mut [[i32; 2 * NR]; MR_MAX],
) {
    let mut w = panel.as_ptr() as *const __m256i;
    let mut x = a.as_ptr();
    let mut c = [[_mm256_setzero_si256(); 2]; 6];
    for _ in 0..quads {
        let (w0, w1) = (*w, *w.wrapping_add(1));
        let mut xr = x;
        for c in c.iter_mut() {
            let xv = _mm256_set1_epi32(*xr as i32);
            c[0] = _mm256_dpbusd_avx_epi32(c[0], xv, w0);
            c[1] = _mm256_dpbusd_avx_epi32(c[1], xv, w1);
            xr = xr.wrapping_add(quads);
        }
        w = w.wrapping_add(2);
        x = x.wrapping_add(1);
    }
    for (acc, c) in acc.iter_mut().zip(c) {
        _mm256_storeu_si256(acc.as_mut_ptr() as *mut __m256i, c[0]);
        _mm256_storeu_si256(acc.as_mut_ptr().add(8) as *mut __m256i, c[1]);
    }
}

/// Eight rows × two panels of 16 outputs: one `vpdpbusd` per row, panel and quad. Sixteen
/// independent sums also cover the instruction's latency at two per cycle.
#[target_feature(enable = "avx512f,avx512vnni")]
pub(super) unsafe fn micro_vnni(
    a: &[u32],
    quads: usize,
    panels: &[WeightQuad],
    acc: &mut [[i32; 2 * NR]; MR_MAX],
) {
    let mut w = panels.as_ptr() as *const __m512i;
    let mut x = a.as_ptr();
    let mut c = [[_mm512_setzero_si512(); 2]; MR_MAX];
    for _ in 0..quads {
        let (w0, w1) = (*w, *w.wrapping_add(quads));
        let mut xr = x;
        for c in c.iter_mut() {
            let xv = _mm512_set1_epi32(*xr as i32);
            c[0] = _mm512_dpbusd_epi32(c[0], xv, w0);
            c[1] = _mm512_dpbusd_epi32(c[1], xv, w1);
            xr = xr.wrapping_add(quads);
        }
        w = w.wrapping_add(1);
        x = x.wrapping_add(1);
    }
    for (acc, c) in acc.iter_mut().zip(c) {
        _mm512_storeu_si512(acc.as_mut_ptr() as *mut __m512i, c[0]);
        _mm512_storeu_si512(acc.as_mut_ptr().add(NR) as *mut __m512i, c[1]);
    }
}
