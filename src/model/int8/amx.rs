//! The int8 product on Intel AMX (Sapphire Rapids and later): `tdpbusd` multiplies a 16 × 64
//! byte tile of activations (u8) by a 16 × 64 byte tile of weights (i8, four inputs per
//! output side by side) into 16 × 16 exact i32 sums — the same integers as `vpdpbusd`, sixteen
//! times the work per instruction. The weight panels' layout ([`super::WeightQuad`]: per input
//! quad, 16 outputs × 4 bytes) is already the layout AMX wants for its second operand, and
//! the quantised activations' rows (`quads` words apart) are its first, so nothing is copied.
//!
//! AMX needs the kernel's permission per process (`arch_prctl`, asked once) and a tile
//! configuration per thread (loaded at the start of every block, released at its end, so a
//! thread holding no tile data is not slower to switch). Rust has no AMX intrinsics on stable,
//! hence `asm!`.

use std::arch::asm;
use std::sync::OnceLock;

use super::{QuantRows, WeightQuad, NR};

/// Input quads per tile (64 bytes of a tile row).
pub(super) const TILE_QUADS: usize = 16;
/// Rows per tile.
pub(super) const TILE_ROWS: usize = 16;

/// Whether this CPU has AMX-INT8 and the kernel lets this process use it.
pub(super) fn ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        // CPUID leaf 7: EDX bit 24 AMX-TILE, bit 25 AMX-INT8.
        let edx = std::arch::x86_64::__cpuid_count(7, 0).edx;
        if edx >> 24 & 1 == 0 || edx >> 25 & 1 == 0 {
            return false;
        }
        const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
        const XFEATURE_XTILEDATA: libc::c_long = 18;
        // SAFETY: a plain system call with integer arguments; a kernel without AMX support
        // (or one that refuses) returns an error and AMX is not used.
        unsafe {
            libc::syscall(
                libc::SYS_arch_prctl,
                ARCH_REQ_XCOMP_PERM,
                XFEATURE_XTILEDATA,
            ) == 0
        }
    })
}

/// The tile configuration: palette 1, all eight tiles 16 rows × 64 bytes (tiles 0–3 the sums
/// of two row tiles × two panels, 4–5 the activations, 6–7 the weights).
#[repr(C, align(64))]
struct TileConfig([u8; 64]);

const CONFIG: TileConfig = {
    let mut c = [0u8; 64];
    c[0] = 1;
    let mut t = 0;
    while t < 8 {
        c[16 + 2 * t] = (TILE_QUADS * 4) as u8;
        c[48 + t] = TILE_ROWS as u8;
        t += 1;
    }
    TileConfig(c)
};

/// Sums of one 16-row tile and one panel, as the tile store writes them.
#[repr(C, align(64))]
pub(super) struct TileSums(pub(super) [[i32; NR]; TILE_ROWS]);

/// The tile configuration, loaded on this thread for as long as the guard lives (one block of
/// rows) and released when it drops, so a thread holding no tile data switches as cheaply as
/// before. Not `Send`: tile state belongs to the thread that loaded it.
pub(super) struct Tiles(std::marker::PhantomData<*const ()>);

impl Tiles {
    pub(super) fn load() -> Tiles {
        assert!(ready(), "AMX tiles without AMX");
        // SAFETY: `ready()` checked the CPU and the permission; the configuration is 64
        // aligned bytes read by the instruction.
        unsafe { asm!("ldtilecfg [{0}]", in(reg) CONFIG.0.as_ptr(), options(nostack, readonly)) };
        Tiles(std::marker::PhantomData)
    }
}

impl Drop for Tiles {
    fn drop(&mut self) {
        // SAFETY: the tiles were configured by `load` on this thread (the guard is not Send).
        unsafe { asm!("tilerelease", options(nostack, nomem)) };
    }
}

/// `sums[i][j]` = the exact products of row tile `i / 2` (rows `r0 + 16·(i/2)..`) with panel
/// `i % 2` of `panels` (two panels of `quads` quads each), for `row_tiles` (1 or 2) row tiles.
/// `quads` must be a multiple of [`TILE_QUADS`] and `a` must hold every row of the tiles.
pub(super) fn product(
    _tiles: &Tiles,
    a: &QuantRows,
    r0: usize,
    row_tiles: usize,
    quads: usize,
    panels: &[WeightQuad],
    sums: &mut [TileSums; 4],
) {
    assert!(quads.is_multiple_of(TILE_QUADS) && (1..=2).contains(&row_tiles));
    assert!(panels.len() == 2 * quads && a.q.len() >= (r0 + row_tiles * TILE_ROWS) * quads);
    let stride_a = quads * 4;
    let a0 = a.q[r0 * quads..].as_ptr();
    let w = panels.as_ptr();
    // SAFETY: `_tiles` holds this thread's tile configuration (so AMX is ready); every tile
    // load reads 16 rows of 64 bytes inside `a.q` (rows r0.. of the tiles, asserted above) or `panels` (16 quads of
    // one panel), and every store writes one `TileSums`.
    unsafe {
        asm!(
            "tilezero tmm0",
            "tilezero tmm1",
            "tilezero tmm2",
            "tilezero tmm3",
            options(nostack, nomem)
        );
        for kq in (0..quads).step_by(TILE_QUADS) {
            let a_k = a0.add(kq) as *const u8;
            let w0 = w.add(kq) as *const u8;
            let w1 = w.add(quads + kq) as *const u8;
            if row_tiles == 2 {
                asm!(
                    "tileloadd tmm4, [{a} + {sa}*1]",
                    "tileloadd tmm5, [{a1} + {sa}*1]",
                    "tileloadd tmm6, [{w0} + {sw}*1]",
                    "tileloadd tmm7, [{w1} + {sw}*1]",
                    "tdpbusd tmm0, tmm4, tmm6",
                    "tdpbusd tmm1, tmm4, tmm7",
                    "tdpbusd tmm2, tmm5, tmm6",
                    "tdpbusd tmm3, tmm5, tmm7",
                    a = in(reg) a_k,
                    a1 = in(reg) a_k.add(TILE_ROWS * stride_a),
                    sa = in(reg) stride_a,
                    w0 = in(reg) w0,
                    w1 = in(reg) w1,
                    sw = in(reg) NR * 4,
                    options(nostack, readonly),
                );
            } else {
                asm!(
                    "tileloadd tmm4, [{a} + {sa}*1]",
                    "tileloadd tmm6, [{w0} + {sw}*1]",
                    "tileloadd tmm7, [{w1} + {sw}*1]",
                    "tdpbusd tmm0, tmm4, tmm6",
                    "tdpbusd tmm1, tmm4, tmm7",
                    a = in(reg) a_k,
                    sa = in(reg) stride_a,
                    w0 = in(reg) w0,
                    w1 = in(reg) w1,
                    sw = in(reg) NR * 4,
                    options(nostack, readonly),
                );
            }
        }
        let stride_c = NR * 4;
        asm!(
            "tilestored [{c0} + {sc}*1], tmm0",
            "tilestored [{c1} + {sc}*1], tmm1",
            "tilestored [{c2} + {sc}*1], tmm2",
            "tilestored [{c3} + {sc}*1], tmm3",
            c0 = in(reg) sums[0].0.as_mut_ptr(),
            c1 = in(reg) sums[1].0.as_mut_ptr(),
            c2 = in(reg) sums[2].0.as_mut_ptr(),
            c3 = in(reg) sums[3].0.as_mut_ptr(),
            sc = in(reg) stride_c,
            options(nostack),
        );
    }
}
