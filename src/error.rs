//! Typed errors of the library. Per-file and per-row problems are not errors: they become
//! rejects so one bad input never stops a run. These are the failures that do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("input {0} does not exist")]
    MissingInput(PathBuf),
    #[error("no input files found in {0:?} (supported: .csv .tsv .txt .xlsx .xls .jsonl .ndjson .parquet .vtt .srt .docx .md)")]
    NoInputs(Vec<PathBuf>),
    #[error("language {0:?} is not supported by the detector; supported: {1}")]
    UnsupportedLanguage(String, String),
    #[error("classification: {0}")]
    Classify(String),
    #[error("writing {path}: {message}")]
    Output { path: PathBuf, message: String },
    #[error(transparent)]
    Folder(#[from] crate::output::folder::FolderError),
    /// Parts or settings that cannot go together (appending with another config or model).
    #[error("{path}: {message}")]
    Mismatch { path: PathBuf, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
