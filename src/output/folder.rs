//! An output folder changes as a whole. Each file was always replaced atomically, but a run
//! replaces several, and a kill between two renames used to leave tables of two runs that do
//! not join. Now a run writes everything into a staging folder inside the output folder,
//! then commits: it writes `manifest.json` (every output with its size and sha256) into the
//! staging folder, records the planned renames in a journal (`.palaute-commit.json`, itself
//! written atomically — the commit point), moves the files into place with the manifest last,
//! and deletes the journal. Whoever next opens the folder (a run, `report`, `query`) finishes
//! an interrupted commit from the journal, so the folder is always wholly the old run (killed
//! before the journal) or wholly the new one (killed after it). Readers verify the manifest
//! and refuse a folder whose files disagree with it. Two lock files: `.palaute.lock`, held by a
//! run from start to end, keeps two runs from writing one folder and tells leftovers of dead
//! runs (staging folders, temporary files) from live ones, so those are removed;
//! `.palaute-commit.lock` is held exclusively by a commit and shared by readers while they
//! read, so a reader never sees the folder half-way through a commit.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const MANIFEST: &str = "manifest.json";
const JOURNAL: &str = ".palaute-commit.json";
const LOCK: &str = ".palaute.lock";
const COMMIT_LOCK: &str = ".palaute-commit.lock";
const STAGING_PREFIX: &str = ".palaute-staging-";
/// Prefix of `write_atomic`'s temporary files.
const TMP_PREFIX: &str = ".palaute-";

#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: another palaute run is writing to this folder (it holds {LOCK}); wait for it or choose another --out")]
    Busy(PathBuf),
    #[error("{0}: not a complete palaute output folder (no {MANIFEST}: no run has finished here, or an older palaute wrote it); run `palaute run … --out` into it")]
    NoManifest(PathBuf),
    #[error("{path}: {message}; the folder no longer holds the outputs of one run — rerun `palaute run … --out` into it")]
    Inconsistent { path: PathBuf, message: String },
    #[error("{path}: unreadable: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("{0}: an interrupted run left its commit unfinished and the folder cannot be locked to finish it (read-only?); open it once with write access")]
    Unrecoverable(PathBuf),
    #[error("{path}: {message}")]
    Unsafe { path: PathBuf, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FolderError + '_ {
    move |source| FolderError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// The outputs of the run a folder holds; written last, verified by every reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub palaute_version: String,
    pub files: Vec<Entry>,
}

impl Manifest {
    /// Names of the Parquet tables, without extension, sorted.
    pub fn tables(&self) -> Vec<&str> {
        let mut t: Vec<&str> = self
            .files
            .iter()
            .filter_map(|e| e.name.strip_suffix(".parquet"))
            .collect();
        t.sort_unstable();
        t
    }
}

/// The renames a commit makes, written before the first one.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// Staging folder name inside the output folder.
    staging: String,
    /// Files to move out of it, the manifest last.
    files: Vec<String>,
    /// Outputs of the previous run that the new one does not have.
    remove: Vec<String>,
    /// Part folders (`parts/<key>`) to move out of the staging folder's `parts`.
    #[serde(default)]
    parts: Vec<String>,
    /// Part folders of earlier runs to remove (a run that is not `--append`).
    #[serde(default)]
    drop_parts: Vec<String>,
}

/// Whether a commit replaces the folder's outputs or adds to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// A run: the staged files are all the outputs; the previous run's others go.
    Replace,
    /// `palaute report`: the staged files replace their namesakes; the rest stay.
    Update,
    /// `palaute run --append`, `palaute merge`: files as a run's; the staged part folders
    /// are added to the folder's earlier ones (replacing a namesake).
    Append,
}

/// An output folder opened for writing: locked for this process, with a staging folder.
pub struct Writer {
    dir: PathBuf,
    staging: tempfile::TempDir,
    _lock: File,
}

impl Writer {
    /// Locks `dir` (creating it), finishes or discards what a killed run left, and opens a
    /// staging folder for the new outputs.
    pub fn begin(dir: &Path) -> Result<Writer, FolderError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let lock = lock_file(dir, LOCK)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(FolderError::Busy(dir.into())),
            Err(fs::TryLockError::Error(e)) => return Err(io(&dir.join(LOCK))(e)),
        }
        {
            let commit = lock_file(dir, COMMIT_LOCK)?;
            commit.lock().map_err(io(&dir.join(COMMIT_LOCK)))?;
            recover_locked(dir)?;
        }
        clean_stale(dir)?;
        let staging = tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempdir_in(dir)
            .map_err(io(dir))?;
        Ok(Writer {
            dir: dir.to_path_buf(),
            staging,
            _lock: lock,
        })
    }

    /// Where this run writes its outputs until the commit.
    pub fn staging(&self) -> &Path {
        self.staging.path()
    }

    /// The output folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the staged files the folder's outputs (see the module comment). Returns the
    /// manifest now in force.
    pub fn commit(self, mode: Commit) -> Result<Manifest, FolderError> {
        let staging = self.staging.path();
        let mut staged: Vec<String> = Vec::new();
        for entry in fs::read_dir(staging).map_err(io(staging))? {
            let entry = entry.map_err(io(staging))?;
            if entry.file_type().map_err(io(staging))?.is_file() {
                staged.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        staged.retain(|n| n != MANIFEST && !n.starts_with('.'));
        staged.sort();
        let old = read_manifest(&self.dir).ok();
        let mut files: Vec<Entry> = staged
            .iter()
            .map(|n| entry(&staging.join(n), n))
            .collect::<Result<_, _>>()?;
        let mut remove = Vec::new();
        for e in old.iter().flat_map(|m| &m.files) {
            if staged.contains(&e.name) {
                continue;
            }
            match mode {
                Commit::Update => files.push(e.clone()),
                Commit::Replace | Commit::Append => remove.push(e.name.clone()),
            }
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        let manifest = Manifest {
            palaute_version: env!("CARGO_PKG_VERSION").into(),
            files,
        };
        write_json_file(&staging.join(MANIFEST), &manifest)?;
        sync_dir(staging);
        // Readers wait while the journal and the moves happen (they hold this lock shared).
        let commit_lock = lock_file(&self.dir, COMMIT_LOCK)?;
        commit_lock
            .lock()
            .map_err(io(&self.dir.join(COMMIT_LOCK)))?;
        // From the journal on, the staging folder belongs to the journal: an error or a kill
        // must not delete it, the next opener finishes the moves from it.
        let staging = self.staging.keep();
        let staging = staging.as_path();
        fault(0);
        let mut moves = staged;
        moves.push(MANIFEST.into());
        let parts = part_dirs(&staging.join(PARTS))?;
        let drop_parts = match mode {
            Commit::Replace => part_dirs(&self.dir.join(PARTS))?
                .into_iter()
                .filter(|p| !parts.contains(p))
                .collect(),
            Commit::Update | Commit::Append => Vec::new(),
        };
        let journal = Journal {
            staging: staging
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            files: moves,
            remove,
            parts,
            drop_parts,
        };
        let journal_path = self.dir.join(JOURNAL);
        crate::output::write_atomic(&journal_path, |f| {
            serde_json::to_writer_pretty(f, &journal).map_err(|e| e.to_string())
        })
        .map_err(|e| FolderError::Corrupt {
            path: journal_path.clone(),
            message: e.to_string(),
        })?;
        sync_dir(&self.dir);
        fault(1);
        apply(&self.dir, &journal)?;
        drop(commit_lock);
        Ok(manifest)
    }
}

/// Test hook: `PALAUTE_FAULT_COMMIT=N` aborts the process (as `kill -9` would stop it) at
/// step N of a commit: 0 before the journal, 1 after it, 2 + k after the k-th move.
fn fault(step: usize) {
    static AT: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| {
        std::env::var("PALAUTE_FAULT_COMMIT")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if *at == Some(step) {
        std::process::abort();
    }
}

/// Moves the journal's files into place, removes the old run's leftovers, drops the journal.
/// Idempotent: a file already moved is skipped, so an interrupted apply can be rerun.
fn apply(dir: &Path, journal: &Journal) -> Result<(), FolderError> {
    let staging = dir.join(&journal.staging);
    // Part folders first: the tables moved next are built from them. A part replaced by a
    // namesake is removed, then renamed; rerun after a kill, a staged part still moves.
    if !journal.parts.is_empty() {
        fs::create_dir_all(dir.join(PARTS)).map_err(io(dir))?;
    }
    for key in &journal.parts {
        let (from, to) = (staging.join(PARTS).join(key), dir.join(PARTS).join(key));
        if from.exists() {
            if to.exists() {
                fs::remove_dir_all(&to).map_err(io(&to))?;
            }
            fs::rename(&from, &to).map_err(io(&from))?;
        } else if !to.exists() {
            return Err(FolderError::Inconsistent {
                path: from,
                message: format!("the commit in {JOURNAL} lost this part"),
            });
        }
    }
    for key in &journal.drop_parts {
        match fs::remove_dir_all(dir.join(PARTS).join(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(&dir.join(PARTS).join(key))(e))
            }
            _ => {}
        }
    }
    for (k, name) in journal.files.iter().enumerate() {
        let from = staging.join(name);
        if from.exists() {
            fs::rename(&from, dir.join(name)).map_err(io(&from))?;
        } else if !dir.join(name).exists() {
            // Neither staged nor moved: the journal cannot be completed; keep it (and the
            // folder's refusal to be read) rather than declare a half-moved run whole.
            return Err(FolderError::Inconsistent {
                path: from,
                message: format!("the commit in {JOURNAL} lost this file"),
            });
        }
        fault(2 + k);
    }
    for name in &journal.remove {
        match fs::remove_file(dir.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(&dir.join(name))(e))
            }
            _ => {}
        }
    }
    sync_dir(dir);
    let journal_path = dir.join(JOURNAL);
    fs::remove_file(&journal_path).map_err(io(&journal_path))?;
    sync_dir(dir);
    // The staging folder is empty now; the TempDir removes it, or the next run does.
    let _ = fs::remove_dir_all(&staging);
    Ok(())
}

/// Finishes a commit the journal records; the caller holds the lock.
fn recover_locked(dir: &Path) -> Result<(), FolderError> {
    let path = dir.join(JOURNAL);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(&path)(e)),
    };
    let journal: Journal = serde_json::from_str(&text).map_err(|e| FolderError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let names = journal
        .files
        .iter()
        .chain(&journal.remove)
        .chain(&journal.parts)
        .chain(&journal.drop_parts);
    if !journal.staging.starts_with(STAGING_PREFIX)
        || !plain_name(&journal.staging)
        || !names.clone().all(|n| plain_name(n))
    {
        return Err(FolderError::Unsafe {
            path,
            message: "names a file outside the output folder; not followed".into(),
        });
    }
    tracing::warn!(
        "{}: finishing the commit of an interrupted run",
        dir.display()
    );
    apply(dir, &journal)
}

/// Removes staging folders and temporary files of dead runs; the caller holds the lock, so
/// no live run of this folder owns them.
fn clean_stale(dir: &Path) -> Result<(), FolderError> {
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with(STAGING_PREFIX) {
            let _ = fs::remove_dir_all(&path);
        } else if name.starts_with(TMP_PREFIX) && name.ends_with(".tmp") {
            let _ = fs::remove_file(&path);
        }
    }
    Ok(())
}

use crate::parts::PARTS;

/// The part folders under `root` (none when it does not exist), sorted.
fn part_dirs(root: &Path) -> Result<Vec<String>, FolderError> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(root)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io(root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().map_err(io(root))?.is_dir()
            && plain_name(&name)
            && !name.starts_with('.')
        {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// A file name of the output folder itself: one normal path component, not hidden.
fn plain_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!(
        (parts.next(), parts.next()),
        (Some(std::path::Component::Normal(_)), None)
    ) && !name.contains(['/', '\\'])
}

fn lock_file(dir: &Path, name: &str) -> Result<File, FolderError> {
    let path = dir.join(name);
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))
}

/// An output folder opened for reading: its manifest, verified, and a shared hold on the
/// commit lock so no commit replaces the files while they are read. Keep it alive until the
/// reading is done.
pub struct Reading {
    pub manifest: Manifest,
    _hold: Option<File>,
}

/// Opens `dir` for reading: finishes the commit of a dead run (waiting out a live one), then
/// checks every file the manifest lists against its size and sha256.
pub fn verify(dir: &Path) -> Result<Reading, FolderError> {
    let started = Instant::now();
    loop {
        // A folder we cannot lock (read-only) is still read, without the hold.
        let hold = lock_file(dir, COMMIT_LOCK)
            .ok()
            .filter(|f| f.lock_shared().is_ok());
        if !dir.join(JOURNAL).exists() {
            let manifest = check(dir)?;
            return Ok(Reading {
                manifest,
                _hold: hold,
            });
        }
        // A journal while we hold the commit lock shared: its run died mid-commit.
        drop(hold);
        let Ok(run_lock) = lock_file(dir, LOCK) else {
            return Err(FolderError::Unrecoverable(dir.into()));
        };
        if run_lock.try_lock().is_ok() {
            let commit = lock_file(dir, COMMIT_LOCK)?;
            commit.lock().map_err(io(&dir.join(COMMIT_LOCK)))?;
            recover_locked(dir)?;
            continue;
        }
        // A new run holds the folder and finishes the dead run's commit as it starts.
        if started.elapsed() > Duration::from_secs(60) {
            return Err(FolderError::Busy(dir.into()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every file the manifest lists, as the manifest says it is.
fn check(dir: &Path) -> Result<Manifest, FolderError> {
    let manifest = read_manifest(dir)?;
    for e in &manifest.files {
        let path = dir.join(&e.name);
        if !plain_name(&e.name) {
            return Err(FolderError::Unsafe {
                path: dir.join(MANIFEST),
                message: format!("lists {:?}, which is not a file of the folder", e.name),
            });
        }
        let found = match entry(&path, &e.name) {
            Ok(found) => found,
            Err(FolderError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Err(FolderError::Inconsistent {
                    path,
                    message: format!("listed in {MANIFEST} but missing"),
                })
            }
            Err(other) => return Err(other),
        };
        if found != *e {
            return Err(FolderError::Inconsistent {
                path,
                message: format!("differs from {MANIFEST} (changed after the run wrote it)"),
            });
        }
    }
    Ok(manifest)
}

fn read_manifest(dir: &Path) -> Result<Manifest, FolderError> {
    let path = dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FolderError::NoManifest(dir.into()))
        }
        Err(e) => return Err(io(&path)(e)),
    };
    serde_json::from_str(&text).map_err(|e| FolderError::Corrupt {
        path,
        message: e.to_string(),
    })
}

fn entry(path: &Path, name: &str) -> Result<Entry, FolderError> {
    let mut f = File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(Entry {
        name: name.to_string(),
        bytes,
        sha256: crate::util::hex(&hasher.finalize()),
    })
}

fn write_json_file(path: &Path, value: &impl Serialize) -> Result<(), FolderError> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|e| FolderError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    text.push(b'\n');
    let mut f = File::create(path).map_err(io(path))?;
    std::io::Write::write_all(&mut f, &text).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Makes the renames durable (best effort: not every file system can sync a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes a manifest for the given files already in `dir`: for folders assembled by hand
/// (tests, or tables produced elsewhere that `report`/`query` should read).
pub fn seal(dir: &Path, names: &[&str]) -> Result<Manifest, FolderError> {
    let mut files: Vec<Entry> = names
        .iter()
        .map(|n| entry(&dir.join(n), n))
        .collect::<Result<_, _>>()?;
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let manifest = Manifest {
        palaute_version: env!("CARGO_PKG_VERSION").into(),
        files,
    };
    write_json_file(&dir.join(MANIFEST), &manifest)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests;
