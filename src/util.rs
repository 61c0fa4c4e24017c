//! Small helpers several stages share. They live here, not in one stage that the others would
//! then import (the model importing ingest for a hex string).

/// Lower-case hexadecimal of `bytes` (sha256 digests in run.json, manifests and cache keys).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex sha256 of a file, streamed so that hashing does not add to resident memory.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// FNV-1a, then MurmurHash3's 64-bit finaliser: stable across platforms and releases, unlike
/// `std`'s hasher, so the samples a run takes (emergent-theme clustering, zero-shot fitting)
/// are the same everywhere. The finaliser matters: FNV alone barely changes its high bits for ids that differ only at the end
/// ("r-101", "r-102"), so sorting by it would sample runs of consecutive ids.
pub fn stable_hash(id: &str) -> u64 {
    let mut h = id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}
