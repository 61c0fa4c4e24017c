//! How fast this core issues the instructions the encoder's products are made of, and what
//! that allows int8 against f32 at the AVX2 level (README, "AMD Zen 1").
//!
//!     cargo run --example mul_pipes
//!
//! Why: the int8 ≥ 2× f32 target assumes the CPU multiplies 8-bit integers at least twice as
//! fast as it runs f32 FMAs. The AVX2 kernel spends 4 `vpmaddubsw` and 2 `vpmaddwd` on 128
//! products (two quads' sums added in 16 bits before one widening), the f32 kernel 16 FMAs.
//! Where the integer multiplies share one pipe and FMAs have two (measured on AMD Zen 1), the
//! products' ceiling is far below 2×, whatever the kernel's blocking; where they issue faster
//! against the FMAs it is not (on the Intel VM the kernel's products ran 1.89–2.12× f32's).
//! Each line is twelve independent 256-bit instructions per pass, from registers, so only issue
//! throughput is measured; the ratio is taken within one run.

#[cfg(target_arch = "x86_64")]
mod probe {
    use std::arch::asm;
    use std::time::Instant;

    const PASSES: usize = 20_000_000;

    /// Runs the twelve instructions given (on ymm0–ymm11, reading ymm12) `PASSES` times in one
    /// loop and returns the instructions per second. Every register starts at zero, so the
    /// FMAs never meet a subnormal (which could take a slow path) and stay at zero.
    macro_rules! rate {
        ($($ins:expr),+) => {{
            let t = Instant::now();
            // SAFETY: touches only the declared ymm0–ymm12 and the counter; `main` checked
            // AVX2 + FMA.
            unsafe {
                asm!(
                    "vpxor xmm0, xmm0, xmm0", "vpxor xmm1, xmm1, xmm1", "vpxor xmm2, xmm2, xmm2",
                    "vpxor xmm3, xmm3, xmm3", "vpxor xmm4, xmm4, xmm4", "vpxor xmm5, xmm5, xmm5",
                    "vpxor xmm6, xmm6, xmm6", "vpxor xmm7, xmm7, xmm7", "vpxor xmm8, xmm8, xmm8",
                    "vpxor xmm9, xmm9, xmm9", "vpxor xmm10, xmm10, xmm10",
                    "vpxor xmm11, xmm11, xmm11", "vpxor xmm12, xmm12, xmm12",
                    "2:",
                    $($ins),+,
                    "dec {n}",
                    "jnz 2b",
                    n = inout(reg) PASSES => _,
                    out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _,
                    out("ymm4") _, out("ymm5") _, out("ymm6") _, out("ymm7") _, out("ymm8") _,
                    out("ymm9") _, out("ymm10") _, out("ymm11") _, out("ymm12") _,
                    options(nostack, nomem),
                );
            }
            (12 * PASSES) as f64 / t.elapsed().as_secs_f64()
        }};
    }

    macro_rules! x12 {
        ($op:literal) => {
            concat!(
                $op,
                " ymm0, ymm0, ymm12\n",
                $op,
                " ymm1, ymm1, ymm12\n",
                $op,
                " ymm2, ymm2, ymm12\n",
                $op,
                " ymm3, ymm3, ymm12\n",
                $op,
                " ymm4, ymm4, ymm12\n",
                $op,
                " ymm5, ymm5, ymm12\n",
                $op,
                " ymm6, ymm6, ymm12\n",
                $op,
                " ymm7, ymm7, ymm12\n",
                $op,
                " ymm8, ymm8, ymm12\n",
                $op,
                " ymm9, ymm9, ymm12\n",
                $op,
                " ymm10, ymm10, ymm12\n",
                $op,
                " ymm11, ymm11, ymm12\n"
            )
        };
    }

    pub fn run(rounds: usize) {
        let (mut fma, mut ubs, mut wd, mut mix) = (0f64, 0f64, 0f64, 0f64);
        // Interleaved rounds, best of each: a busy neighbour slows all four alike.
        for _ in 0..rounds {
            fma = fma.max(rate!(x12!("vfmadd231ps")));
            ubs = ubs.max(rate!(x12!("vpmaddubsw")));
            wd = wd.max(rate!(x12!("vpmaddwd")));
            // The kernel's mix, 2 : 1.
            mix = mix.max(rate!(concat!(
                "vpmaddubsw ymm0, ymm0, ymm12\n",
                "vpmaddubsw ymm1, ymm1, ymm12\n",
                "vpmaddwd ymm2, ymm2, ymm12\n",
                "vpmaddubsw ymm3, ymm3, ymm12\n",
                "vpmaddubsw ymm4, ymm4, ymm12\n",
                "vpmaddwd ymm5, ymm5, ymm12\n",
                "vpmaddubsw ymm6, ymm6, ymm12\n",
                "vpmaddubsw ymm7, ymm7, ymm12\n",
                "vpmaddwd ymm8, ymm8, ymm12\n",
                "vpmaddubsw ymm9, ymm9, ymm12\n",
                "vpmaddubsw ymm10, ymm10, ymm12\n",
                "vpmaddwd ymm11, ymm11, ymm12\n"
            )));
        }
        let g = 1e9;
        println!("vfmadd231ps ymm: {:.2} G/s", fma / g);
        println!("vpmaddubsw ymm:  {:.2} G/s", ubs / g);
        println!("vpmaddwd ymm:    {:.2} G/s", wd / g);
        println!("2 vpmaddubsw : 1 vpmaddwd: {:.2} G/s", mix / g);
        let (f32_peak, int8_peak) = (fma * 8.0, mix * 128.0 / 6.0);
        println!(
            "products' ceiling: f32 {:.1} G, int8 {:.1} G multiply-adds/s per core: int8 {:.2}x f32",
            f32_peak / g,
            int8_peak / g,
            int8_peak / f32_peak
        );
    }
}

fn main() {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        let rounds = std::env::args()
            .nth(1)
            .and_then(|r| r.parse().ok())
            .unwrap_or(3);
        probe::run(rounds);
        return;
    }
    println!("mul_pipes: needs an x86-64 CPU with AVX2 and FMA");
}
