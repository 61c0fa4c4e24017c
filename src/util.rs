//! Small helpers several stages share. They live here, not in one stage that the others would
//! then import (the model importing ingest for a hex string).

/// Lower-case hexadecimal of `bytes` (sha256 digests in run.json, manifests and cache keys).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
