//! Small helpers several stages share. They live here, not in one stage that the others would
//! then import (the model importing ingest for a hex string).

use std::path::Path;

use crate::error::Error;

/// Lower-case hexadecimal of `bytes` (sha256 digests in run.json, manifests and cache keys).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex sha256 of a file, streamed so that hashing does not add to resident memory.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
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
/// are the same everywhere. The finaliser matters: FNV alone barely changes its high bits for
/// ids that differ only at the end ("r-101", "r-102"), so sorting by it would sample runs of
/// consecutive ids.
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

/// Path as it appears in outputs: forward slashes, no leading `./`, so reruns from the same
/// place give identical tables on any OS.
pub fn source_name(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.trim_start_matches("./").to_string()
}

/// A temporary file beside `path` (same folder, so a rename puts it in place atomically),
/// readable like any file a program writes: temp files are private (0600) by default, but
/// outputs are for the team that reads them, so they get the usual 0666 & !umask.
pub fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile, Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".palaute-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir).map_err(|e| Error::output(path, e))
}

/// An exclusive lock on `<path>.lock` (waiting for another process holding it), held until
/// the returned file is dropped: so that processes sharing a cache compute an entry once.
/// `None` when the file system has no locks; the caller then works unlocked.
pub fn lock_beside(path: &Path) -> Option<std::fs::File> {
    let dir = path.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_extension("lock"))
        .ok()?;
    file.lock().ok()?;
    Some(file)
}

/// Write `path` via a temporary file in the same folder, synced, and a rename: a crash leaves
/// the previous file or none, never half of one.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), String>,
) -> Result<(), Error> {
    let mut tmp = temp_beside(path)?;
    write(tmp.as_file_mut()).map_err(|e| Error::output(path, e))?;
    tmp.as_file_mut()
        .sync_all()
        .map_err(|e| Error::output(path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::output(path, e.error))?;
    Ok(())
}

thread_local! {
    /// Set while [`catch_quietly`] runs on this thread; holds the panic message once caught.
    static QUIET: std::cell::RefCell<Option<Option<String>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f`, turning a panic into `Err(message)` without printing it: a reader panicking
/// inside a library (Polars on corrupt Parquet metadata) becomes a whole-file reject whose
/// reason says why, and the researcher's terminal does not show a backtrace for a handled
/// case. Panics elsewhere, and on other threads, still go to the previous hook.
pub fn catch_quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let quiet = QUIET.with(|q| {
                let mut q = q.borrow_mut();
                match q.as_mut() {
                    Some(slot) => {
                        let payload = info.payload();
                        let message = payload
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| payload.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "panic".into());
                        *slot = Some(message);
                        true
                    }
                    None => false,
                }
            });
            if !quiet {
                previous(info);
            }
        }));
    });
    let outer = QUIET.with(|q| q.borrow_mut().replace(None));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let message = QUIET
        .with(|q| std::mem::replace(&mut *q.borrow_mut(), outer))
        .flatten();
    result.map_err(|_| message.unwrap_or_else(|| "panic".into()))
}

/// Lengthens `v` to `len` with default values if it is shorter; never shortens it. For
/// working buffers kept between calls, so that only growth pays for initialising memory.
pub fn grow<T: Clone + Default>(v: &mut Vec<T>, len: usize) {
    if v.len() < len {
        v.resize(len, T::default());
    }
}

/// The text of the file at `path`; the error names it.
pub fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })
}
