//! Shards: one run split over N processes (Slurm array tasks, Kubernetes Indexed Job pods)
//! that share nothing but the output folder.
//!
//! Every shard reads every input (reading and redaction are cheap next to the encoder) and
//! keeps the documents of its blocks: block b of an input — documents b·B … (b+1)·B − 1, B =
//! `[run] chunk_documents` — belongs to shard `(b + hash(source)) mod N + 1`, so one large
//! export is spread over all shards and many small ones start on different shards. A shard
//! processes each of its blocks as one chunk and writes its parts, atomically, to
//! `OUT/parts/shard=K/` (Hive-style: Polars, DuckDB and Spark read `parts/shard=*/…` as
//! one dataset with a `shard` column), with `_shard.json` last as its mark of completion.
//!
//! The merge ([`collect`]) checks that shards 1..N are all there and agree (same inputs,
//! settings and N) and lays each input's chunks out in block order, which is the document
//! order of one run over the same inputs: the merged tables are byte-identical to it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Part, PartInfo, PARTS};
use crate::error::Error;
use crate::util::stable_hash;

/// Folder name prefix of a shard's parts: `shard=K`.
pub const PREFIX: &str = "shard=";
/// A shard's record of itself, written last: a shard folder without it is incomplete.
pub const INFO: &str = "_shard.json";

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// `K/N`, or `auto`: K from the scheduler — Slurm's `SLURM_ARRAY_TASK_ID` (arrays are
    /// submitted as `--array=1-N`: task ids are shard numbers) or Kubernetes' 0-based
    /// `JOB_COMPLETION_INDEX` — and N from `PALAUTE_SHARDS`, else `configured` (`[run]
    /// shards`), else (Slurm only) `SLURM_ARRAY_TASK_COUNT`. A rerun of one task
    /// (`sbatch --array=3`) is an array of one, so its N must come from the first two.
    pub fn parse(
        spec: &str,
        env: &dyn Fn(&str) -> Option<String>,
        configured: Option<usize>,
    ) -> Result<Shard, String> {
        let num = |name: &str, v: &str| -> Result<usize, String> {
            v.trim()
                .parse()
                .map_err(|_| format!("{name} is not a whole number: {v:?}"))
        };
        let shard = if spec == "auto" {
            let given = match env("PALAUTE_SHARDS") {
                Some(v) => Some(num("PALAUTE_SHARDS", &v)?),
                None => configured,
            };
            if let Some(id) = env("SLURM_ARRAY_TASK_ID") {
                let index = num("SLURM_ARRAY_TASK_ID", &id)?;
                if index == 0 {
                    return Err(
                        "Slurm array task 0: submit the array as --array=1-N (task ids \
                                are the shard numbers)"
                            .into(),
                    );
                }
                let count = match given {
                    Some(n) => n,
                    None => num(
                        "SLURM_ARRAY_TASK_COUNT",
                        &env("SLURM_ARRAY_TASK_COUNT").ok_or(
                            "SLURM_ARRAY_TASK_ID is set but neither PALAUTE_SHARDS, [run] \
                             shards nor SLURM_ARRAY_TASK_COUNT",
                        )?,
                    )?,
                };
                if given.is_none() && index > count {
                    return Err(format!(
                        "Slurm task {index} of an array of {count}: to rerun single tasks \
                         (sbatch --array={index}), set PALAUTE_SHARDS to the run's N"
                    ));
                }
                Shard { index, count }
            } else if let Some(i) = env("JOB_COMPLETION_INDEX") {
                let count = given.ok_or(
                    "JOB_COMPLETION_INDEX is set: the number of shards comes from \
                     PALAUTE_SHARDS or [run] shards (the Job's completions)",
                )?;
                Shard {
                    index: num("JOB_COMPLETION_INDEX", &i)? + 1,
                    count,
                }
            } else {
                return Err(
                    "--shard auto needs SLURM_ARRAY_TASK_ID (a Slurm array task) or \
                            JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)"
                        .into(),
                );
            }
        } else {
            let (k, n) = spec
                .split_once('/')
                .ok_or_else(|| format!("--shard takes K/N (e.g. 2/8) or auto, not {spec:?}"))?;
            Shard {
                index: num("K", k)?,
                count: num("N", n)?,
            }
        };
        if shard.count == 0 || shard.index == 0 || shard.index > shard.count {
            return Err(format!(
                "shard {}/{} does not exist: K runs from 1 to N",
                shard.index, shard.count
            ));
        }
        Ok(shard)
    }

    pub fn dir_name(&self) -> String {
        format!("{PREFIX}{}", self.index)
    }

    /// Whether block `block` of the input named `source` is this shard's.
    pub fn owns(&self, source: &str, block: usize) -> bool {
        owner(source, block, self.count) == self.index
    }
}

/// The shard (1-based) that processes block `block` of the input named `source`.
pub fn owner(source: &str, block: usize, count: usize) -> usize {
    let count = count.max(1);
    ((stable_hash(source) % count as u64) as usize + block % count) % count + 1
}

/// What a shard's part records beyond its own rows (`input.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartShard {
    pub index: usize,
    pub count: usize,
    /// Documents per block (`[run] chunk_documents` of the shard).
    pub block_documents: usize,
    /// Documents of the whole input (every shard reads all of it).
    pub total_documents: usize,
}

/// `_shard.json`: what a shard read and wrote, how long it took, where it ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardInfo {
    pub palaute_version: String,
    pub index: usize,
    pub count: usize,
    pub block_documents: usize,
    /// Fingerprint of the settings the rows depend on (as every part records it).
    pub fingerprint: String,
    /// (source name, sha256) of every input, in merge order: the same list in every shard.
    pub inputs: Vec<(String, String)>,
    pub documents: usize,
    pub segments: usize,
    pub rejects: usize,
    /// The classification entry of run.json as this shard saw it (models, heads, encoder).
    pub classification: serde_json::Value,
    pub timings_s: BTreeMap<String, f64>,
    pub total_s: f64,
    /// The node it ran on (`SLURMD_NODENAME`, else `HOSTNAME`), when known.
    pub host: Option<String>,
}

/// Where a shard writes until it publishes: a hidden folder beside the shards, replaced
/// into `parts/shard=K` at the end. A crash leaves only the hidden folder, which the next
/// run of the same shard removes; no reader looks at hidden folders.
pub struct ShardWriter {
    root: PathBuf,
    shard: Shard,
    tmp: tempfile::TempDir,
    _lock: fs::File,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

impl ShardWriter {
    /// Opens shard `shard` of the output folder `out` for writing. Other shards write beside
    /// it without coordinating; the same shard twice at once is refused.
    pub fn begin(out: &Path, shard: Shard) -> Result<ShardWriter, Error> {
        let root = out.join(PARTS);
        fs::create_dir_all(&root).map_err(io(&root))?;
        let lock_path = root.join(format!(".{}.lock", shard.dir_name()));
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::Mismatch {
                    path: root.join(shard.dir_name()),
                    message: "another process is writing this shard".into(),
                })
            }
            // Shared storage without working locks (some NFS mounts): the lock only guards
            // against running one shard twice at once, so go on without it.
            Err(fs::TryLockError::Error(e)) => tracing::warn!(
                "{}: cannot lock ({e}); make sure this shard runs once at a time",
                lock_path.display()
            ),
        }
        // Leftovers of this shard's dead runs (we hold its lock, so none is alive).
        let prefix = format!(".{}-", shard.dir_name());
        for entry in fs::read_dir(&root).map_err(io(&root))?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in(&root)
            .map_err(io(&root))?;
        Ok(ShardWriter {
            root,
            shard,
            tmp,
            _lock: lock,
        })
    }

    /// Where the shard's parts go until [`publish`](Self::publish).
    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `_shard.json` and makes the folder `parts/shard=K`, replacing the shard's
    /// earlier parts. Returns the final folder.
    pub fn publish(self, info: &ShardInfo) -> Result<PathBuf, Error> {
        let value = serde_json::to_value(info).map_err(|e| Error::output(self.dir(), e))?;
        crate::output::write_json(&value, &self.dir().join(INFO))?;
        sync(self.dir());
        // Test hook: a shard killed after writing its parts, before publishing them.
        if std::env::var("PALAUTE_FAULT_SHARD").is_ok_and(|v| v == "publish") {
            std::process::abort();
        }
        let target = self.root.join(self.shard.dir_name());
        let tmp = self.tmp.keep();
        if target.exists() {
            let old = self.root.join(format!(
                ".{}-old-{}",
                self.shard.dir_name(),
                std::process::id()
            ));
            fs::rename(&target, &old).map_err(io(&target))?;
            fs::rename(&tmp, &target).map_err(io(&tmp))?;
            let _ = fs::remove_dir_all(&old);
        } else {
            fs::rename(&tmp, &target).map_err(io(&tmp))?;
        }
        sync(&self.root);
        Ok(target)
    }
}

fn sync(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The shards of a folder, checked and joined for the merge.
pub struct Sharded {
    /// One part per input, its chunks interleaved from the shards in block order.
    pub parts: Vec<Part>,
    /// Every shard's `_shard.json`, by index.
    pub shards: Vec<ShardInfo>,
    /// Every shard's folder, by index.
    pub dirs: Vec<PathBuf>,
}

fn mismatch(path: &Path, message: String) -> Error {
    Error::Mismatch {
        path: path.to_path_buf(),
        message,
    }
}

/// The shards under `root` (`OUT/parts`), or `None` when the folder was not sharded. Errs,
/// naming them, on missing, incomplete or stale shards and on shards mixed with the parts of
/// an ordinary run.
pub fn collect(root: &Path) -> Result<Option<Sharded>, Error> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(root)(e)),
    };
    let (mut found, mut plain): (BTreeMap<usize, PathBuf>, Vec<String>) = Default::default();
    for entry in entries {
        let entry = entry.map_err(io(root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        match name.strip_prefix(PREFIX).map(str::parse::<usize>) {
            Some(Ok(k)) => {
                found.insert(k, entry.path());
            }
            Some(Err(_)) => return Err(mismatch(&entry.path(), "not a shard folder".into())),
            None => plain.push(name),
        }
    }
    if found.is_empty() {
        return Ok(None);
    }
    if !plain.is_empty() {
        return Err(mismatch(
            root,
            format!(
                "holds shards and the parts of an ordinary run ({}); run again, sharded or not",
                plain.join(", ")
            ),
        ));
    }
    let (shards, dirs) = check(root, &found)?;
    Ok(Some(Sharded {
        parts: assemble(&shards, &dirs)?,
        shards,
        dirs,
    }))
}

/// Every shard's record and folder, by index, once shards 1..N are all there, complete and
/// from the same run; else an error naming the missing, incomplete and stale ones.
fn check(
    root: &Path,
    found: &BTreeMap<usize, PathBuf>,
) -> Result<(Vec<ShardInfo>, Vec<PathBuf>), Error> {
    let mut infos: BTreeMap<usize, ShardInfo> = BTreeMap::new();
    let mut incomplete = Vec::new();
    for (k, dir) in found {
        let path = dir.join(INFO);
        match fs::read_to_string(&path) {
            Ok(text) => {
                let info: ShardInfo = serde_json::from_str(&text)
                    .map_err(|e| mismatch(&path, format!("not a shard record: {e}")))?;
                infos.insert(*k, info);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => incomplete.push(*k),
            Err(e) => return Err(io(&path)(e)),
        }
    }
    let reference = reference(&infos);
    let count = reference.map_or(found.len(), |r| r.count);
    let stale: Vec<String> = infos
        .iter()
        .filter(|(k, i)| {
            **k > count
                || i.index != **k
                || reference.is_some_and(|r| {
                    (i.count, &i.fingerprint, &i.inputs, i.block_documents)
                        != (r.count, &r.fingerprint, &r.inputs, r.block_documents)
                })
        })
        .map(|(k, i)| {
            let why = match reference {
                _ if i.index != *k => format!("its record says shard {}", i.index),
                Some(r) if i.count != r.count => format!("of {} shards, not {}", i.count, r.count),
                Some(r) if i.inputs != r.inputs => "over other inputs".to_string(),
                Some(r) if i.fingerprint != r.fingerprint => "with other settings".to_string(),
                Some(r) if i.block_documents != r.block_documents => {
                    "with another [run] chunk_documents".to_string()
                }
                _ => "beyond the shard count".to_string(),
            };
            format!("shard {k} ({why})")
        })
        .collect();
    let missing: Vec<String> = (1..=count)
        .filter(|k| !infos.contains_key(k) && !incomplete.contains(k))
        .map(|k| k.to_string())
        .collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing shards {}", missing.join(", ")));
    }
    if !incomplete.is_empty() {
        let ks: Vec<String> = incomplete.iter().map(|k| k.to_string()).collect();
        problems.push(format!("incomplete shards {} (no {INFO})", ks.join(", ")));
    }
    if !stale.is_empty() {
        problems.push(format!("stale {}", stale.join(", ")));
    }
    if !problems.is_empty() {
        return Err(mismatch(
            root,
            format!(
                "{} of {count}: rerun those tasks (`palaute run … --shard K/{count}`), then merge",
                problems.join("; ")
            ),
        ));
    }
    let shards: Vec<ShardInfo> = (1..=count).map(|k| infos[&k].clone()).collect();
    let dirs: Vec<PathBuf> = (1..=count).map(|k| found[&k].clone()).collect();
    Ok((shards, dirs))
}

/// One part per input from the shards in `dirs` (shard k's folder at k − 1), which agree on
/// `shards[0].inputs`.
pub fn assemble(shards: &[ShardInfo], dirs: &[PathBuf]) -> Result<Vec<Part>, Error> {
    let count = dirs.len();
    let per_shard: Vec<Vec<Part>> = dirs
        .iter()
        .map(|d| super::list(std::slice::from_ref(d)))
        .collect::<Result<_, _>>()?;
    let inputs = &shards[0].inputs;
    let mut parts = Vec::with_capacity(inputs.len());
    for (i, (source, sha)) in inputs.iter().enumerate() {
        let of_input: Vec<&Part> = per_shard
            .iter()
            .zip(dirs)
            .map(|(ps, d)| {
                ps.get(i)
                    .filter(|p| (&p.info.source, &p.info.sha256) == (source, sha))
                    .ok_or_else(|| mismatch(d, format!("has no part of {source}")))
            })
            .collect::<Result<_, _>>()?;
        parts.push(join(&of_input, count)?);
    }
    Ok(parts)
}

/// The shard record most shards agree with (ties: the lowest index's).
fn reference(infos: &BTreeMap<usize, ShardInfo>) -> Option<&ShardInfo> {
    let key = |i: &ShardInfo| (i.count, i.fingerprint.clone(), i.inputs.clone());
    infos.values().max_by_key(|i| {
        let agree = infos.values().filter(|j| key(j) == key(i)).count();
        (agree, std::cmp::Reverse(i.index))
    })
}

/// One input's part from its shards' parts (`of_input[k - 1]` from shard k): chunks in block
/// order, counts summed; rejects and the run.json entry from the shard of block 0, which
/// keeps them.
fn join(of_input: &[&Part], count: usize) -> Result<Part, Error> {
    let first = of_input[0];
    let meta = |p: &Part| {
        p.info.shard.ok_or_else(|| {
            mismatch(
                &p.dir,
                "a part without its shard record in input.json".into(),
            )
        })
    };
    let total = meta(first)?.total_documents;
    let block = meta(first)?.block_documents.max(1);
    let blocks = total.div_ceil(block);
    let source = &first.info.source;
    let mut next = vec![0usize; count];
    let mut chunks = Vec::with_capacity(blocks);
    for b in 0..blocks {
        let k = owner(source, b, count);
        chunks.push((of_input[k - 1].dir.clone(), next[k - 1]));
        next[k - 1] += 1;
    }
    for (p, n) in of_input.iter().zip(&next) {
        let m = meta(p)?;
        if p.info.chunks != *n || m.total_documents != total || m.index == 0 {
            return Err(mismatch(
                &p.dir,
                format!(
                    "{source}: {} chunks of {} documents, where its blocks need {n} of {total}",
                    p.info.chunks, m.total_documents
                ),
            ));
        }
    }
    let keeper = of_input[owner(source, 0, count) - 1];
    let mut info: PartInfo = keeper.info.clone();
    info.chunks = chunks.len();
    info.documents = of_input.iter().map(|p| p.info.documents).sum();
    info.segments = of_input.iter().map(|p| p.info.segments).sum();
    info.rejects = of_input.iter().map(|p| p.info.rejects).sum();
    info.shard = None;
    // The run.json entry counts the whole input (fewer after a `forget`).
    if let Some(input) = info.input.as_object_mut() {
        input.insert("documents".into(), info.documents.into());
        input.insert("rejects".into(), info.rejects.into());
    }
    Ok(Part {
        dir: keeper.dir.clone(),
        info,
        chunks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn shard_specs_from_the_command_line_and_the_schedulers() {
        let none = env(&[]);
        assert_eq!(
            Shard::parse("2/8", &none, None),
            Ok(Shard { index: 2, count: 8 })
        );
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", "auto"] {
            assert!(Shard::parse(bad, &none, None).is_err(), "{bad}");
        }
        // Slurm, --array=1-4: task ids are shard numbers, N the array's size.
        let task4 = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            Shard::parse("auto", &task4, None),
            Ok(Shard { index: 4, count: 4 })
        );
        // A rerun of task 3 alone (--array=3) is an array of one: N from PALAUTE_SHARDS.
        let rerun = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("PALAUTE_SHARDS", "4"),
        ]);
        assert_eq!(
            Shard::parse("auto", &rerun, None),
            Ok(Shard { index: 3, count: 4 })
        );
        let rerun_without_n = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
        ]);
        assert!(Shard::parse("auto", &rerun_without_n, None).is_err());
        let zero = env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert!(Shard::parse("auto", &zero, None).is_err());
        // Kubernetes: a 0-based index, N from the config.
        let k8s = env(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(
            Shard::parse("auto", &k8s, Some(3)),
            Ok(Shard { index: 3, count: 3 })
        );
        assert!(Shard::parse("auto", &k8s, None).is_err());
        assert!(Shard::parse("auto", &env(&[("JOB_COMPLETION_INDEX", "3")]), Some(3)).is_err());
    }

    #[test]
    fn blocks_spread_over_every_shard_and_each_has_one_owner() {
        for n in 1..6 {
            let mut load = vec![0usize; n];
            for b in 0..10 * n {
                let owners: Vec<usize> = (1..=n)
                    .filter(|k| {
                        Shard {
                            index: *k,
                            count: n,
                        }
                        .owns("big.csv", b)
                    })
                    .collect();
                assert_eq!(owners.len(), 1);
                load[owners[0] - 1] += 1;
            }
            assert!(load.iter().all(|l| *l == 10), "{load:?}");
        }
        // Small inputs start on different shards.
        let starts: std::collections::BTreeSet<usize> = (0..20)
            .map(|i| owner(&format!("file{i}.csv"), 0, 4))
            .collect();
        assert!(starts.len() > 2, "{starts:?}");
    }
}
