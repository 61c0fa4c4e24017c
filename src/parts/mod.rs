//! The part store of an output folder: what the chunks of a run wrote, kept so the final tables
//! can be rebuilt (`palaute merge`) and new exports added without reading the old ones again
//! (`palaute run --append`).
//!
//! ```text
//! OUT/parts/<key>/input.json              one input file: provenance, counts, settings
//!                 rejects.parquet
//!                 documents-000000.parquet  one chunk of whole documents each
//!                 segments-000000.parquet
//!                 embeddings-000000.parquet (classified runs)
//! ```
//! `<key>` names the input by its source name and content, so the same file under the same
//! name always lands in the same place. Parts are merged in (source name, sha256) order, which
//! is also the order of one run over all the inputs: appending January then February gives
//! the tables of one run over both. A sharded run (see [`shard`]) keeps each shard's parts
//! under `OUT/parts/shard=K/`.

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;

pub mod shard;

/// Folder of the part store inside an output folder.
pub const PARTS: &str = "parts";
const INPUT: &str = "input.json";
pub const REJECTS: &str = "rejects.parquet";

/// The three per-chunk tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Documents,
    Segments,
    Embeddings,
}

impl Table {
    fn stem(self) -> &'static str {
        match self {
            Table::Documents => "documents",
            Table::Segments => "segments",
            Table::Embeddings => "embeddings",
        }
    }
}

/// What `input.json` records of one input file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PartInfo {
    /// The name the input is known by in every table (`documents.source_file`).
    pub source: String,
    pub sha256: String,
    pub chunks: usize,
    pub rows: usize,
    pub documents: usize,
    pub segments: usize,
    pub rejects: usize,
    /// Whether the chunks were classified (then they carry labels and embeddings).
    pub classified: bool,
    /// Hash of [`PartInfo::settings`]: parts merge only with parts of equal settings.
    pub fingerprint: String,
    /// The settings the rows depend on (see `pipeline::settings`).
    pub settings: serde_json::Value,
    /// The input's entry of run.json (format, encoding, delimiter, …).
    pub input: serde_json::Value,
    /// Written by one shard of a sharded run: which, and what the whole input held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<shard::PartShard>,
}

/// One input's part: its folder (input.json, rejects) and its chunk files in merge order —
/// all in that folder, or, for the input of a sharded run, interleaved from the shards'.
#[derive(Debug, Clone)]
pub struct Part {
    pub dir: PathBuf,
    pub info: PartInfo,
    /// (folder, chunk number in it) of each chunk, in merge order.
    pub chunks: Vec<(PathBuf, usize)>,
}

impl Part {
    /// The part in `dir`, its chunks all there.
    pub fn local(dir: PathBuf, info: PartInfo) -> Part {
        let chunks = (0..info.chunks).map(|c| (dir.clone(), c)).collect();
        Part { dir, info, chunks }
    }

    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    pub fn chunk(&self, table: Table, chunk: usize) -> PathBuf {
        let (dir, c) = &self.chunks[chunk];
        chunk_path(dir, table, *c)
    }

    pub fn read(&self, table: Table, chunk: usize) -> Result<DataFrame, Error> {
        read_parquet(&self.chunk(table, chunk))
    }
}

pub fn chunk_path(dir: &Path, table: Table, chunk: usize) -> PathBuf {
    dir.join(format!("{}-{chunk:06}.parquet", table.stem()))
}

/// The folder name of an input: its source name and content hashed, so names with any
/// characters map to a plain, fixed-length file name.
pub fn key(source: &str, sha256: &str) -> String {
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    h.update([0u8]);
    h.update(sha256.as_bytes());
    crate::util::hex(&h.finalize()[..10])
}

/// Hash of the settings a part depends on, as canonical JSON.
pub fn fingerprint(settings: &serde_json::Value) -> String {
    crate::util::hex(&Sha256::digest(settings.to_string().as_bytes()))
}

pub fn write_info(dir: &Path, info: &PartInfo) -> Result<(), Error> {
    let value = serde_json::to_value(info).map_err(|e| Error::output(&dir.join(INPUT), e))?;
    crate::output::write_json(&value, &dir.join(INPUT))
}

/// The parts under each of `roots` (folders holding `<key>/input.json`), in merge order.
/// A key found under several roots is taken from the first: a run's new parts shadow the
/// folder's older parts of the same input. The shards of a sharded run are refused here:
/// [`shard::collect`] joins them.
pub fn list(roots: &[PathBuf]) -> Result<Vec<Part>, Error> {
    let mut parts: Vec<Part> = Vec::new();
    for root in roots {
        let entries = match fs::read_dir(root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(Error::Io {
                    path: root.clone(),
                    source: e,
                })
            }
        };
        for entry in entries {
            let dir = entry
                .map_err(|e| Error::Io {
                    path: root.clone(),
                    source: e,
                })?
                .path();
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
            if !dir.is_dir() || parts.iter().any(|p| p.dir.file_name() == dir.file_name()) {
                continue;
            }
            if name.as_ref().is_some_and(|n| n.starts_with('.')) {
                continue;
            }
            if name.as_ref().is_some_and(|n| n.starts_with(shard::PREFIX)) {
                return Err(Error::Mismatch {
                    path: dir,
                    message: "holds the parts of a sharded run: `palaute merge` joins them; \
                              --append works on folders of one run"
                        .into(),
                });
            }
            let path = dir.join(INPUT);
            let text = fs::read_to_string(&path).map_err(|e| Error::Io {
                path: path.clone(),
                source: e,
            })?;
            let info: PartInfo = serde_json::from_str(&text).map_err(|e| Error::Output {
                path: path.clone(),
                message: format!("not a palaute part: {e}"),
            })?;
            parts.push(Part::local(dir, info));
        }
    }
    parts.sort_by(|a, b| (&a.info.source, &a.info.sha256).cmp(&(&b.info.source, &b.info.sha256)));
    Ok(parts)
}

pub fn read_parquet(path: &Path) -> Result<DataFrame, Error> {
    let file = fs::File::open(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| Error::Output {
            path: path.to_path_buf(),
            message: format!("reading a part: {e}"),
        })
}

/// Rows of a table written in fixed-size row groups whatever the chunks were, so the file's
/// bytes depend only on its rows: a run in chunks of 50 documents and one in a single chunk
/// write the same file. Rows are buffered until a row group is full.
pub struct TableWriter {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
    writer: Option<polars::io::parquet::write::BatchedWriter<fs::File>>,
    pending: Option<DataFrame>,
    rows: usize,
}

/// Rows per row group of the final tables (Polars' default for a whole-frame write).
pub const ROW_GROUP: usize = 512 * 512;

impl TableWriter {
    pub fn create(path: &Path) -> Result<Self, Error> {
        let tmp = crate::util::temp_beside(path)?;
        Ok(TableWriter {
            path: path.to_path_buf(),
            tmp,
            writer: None,
            pending: None,
            rows: 0,
        })
    }

    pub fn write(&mut self, df: DataFrame) -> Result<(), Error> {
        self.rows += df.height();
        let mut all = match self.pending.take() {
            Some(mut p) => {
                p.vstack_mut_owned(df)
                    .map_err(|e| Error::output(&self.path, e))?;
                p
            }
            None => df,
        };
        while all.height() >= ROW_GROUP {
            let rest = all.slice(ROW_GROUP as i64, all.height() - ROW_GROUP);
            self.flush(all.slice(0, ROW_GROUP))?;
            all = rest;
        }
        self.pending = Some(all);
        Ok(())
    }

    fn flush(&mut self, df: DataFrame) -> Result<(), Error> {
        let mut df = df;
        df.rechunk_mut();
        if self.writer.is_none() {
            let file = self
                .tmp
                .reopen()
                .map_err(|e| Error::output(&self.path, e))?;
            let w = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(df.schema())
                .map_err(|e| Error::output(&self.path, e))?;
            self.writer = Some(w);
        }
        if let Some(w) = self.writer.as_mut() {
            if df.height() > 0 {
                w.write_batch(&df)
                    .map_err(|e| Error::output(&self.path, e))?;
            }
        }
        Ok(())
    }

    /// Writes the last row group and the footer and renames the file into place. `empty` is
    /// the table's frame when no rows came at all (the schema of an empty table).
    pub fn finish(
        mut self,
        empty: impl FnOnce() -> PolarsResult<DataFrame>,
    ) -> Result<usize, Error> {
        let last = match self.pending.take() {
            Some(df) => df,
            None => empty().map_err(|e| Error::output(&self.path, e))?,
        };
        if self.writer.is_none() || last.height() > 0 {
            self.flush(last)?;
        }
        if let Some(w) = self.writer.take() {
            w.finish().map_err(|e| Error::output(&self.path, e))?;
        }
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::output(&self.path, e))?;
        self.tmp
            .persist(&self.path)
            .map_err(|e| Error::output(&self.path, e.error))?;
        Ok(self.rows)
    }
}
