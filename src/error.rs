//! Typed errors of the library. Per-file and per-row problems are not errors: they become
//! rejects so one bad input never stops a run. These are the failures that do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error(transparent)]
    Privacy(#[from] crate::redact::PrivacyError),
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
    /// Labelling failed; the classifier's error (a head, a model, a codebook) is the source.
    #[error("classification: {0}")]
    Classify(#[source] Box<crate::classify::ClassifyError>),
    /// The evidence tables could not be built from the labelled segments.
    #[error("building the evidence tables: {0}")]
    Analyze(#[source] polars::error::PolarsError),
    /// A model could not be loaded or run.
    #[error("model: {0}")]
    Model(#[source] Box<crate::model::ModelError>),
    #[error("writing {path}: {message}")]
    Output { path: PathBuf, message: String },
    #[error(transparent)]
    Folder(#[from] crate::output::folder::FolderError),
    /// Parts or settings that cannot go together (appending with another config or model).
    #[error("{path}: {message}")]
    Mismatch { path: PathBuf, message: String },
}

impl Error {
    /// A failure writing or reading the output at `path`.
    pub fn output(path: &std::path::Path, e: impl std::fmt::Display) -> Error {
        Error::Output {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::classify::ClassifyError> for Error {
    fn from(e: crate::classify::ClassifyError) -> Self {
        Error::Classify(Box::new(e))
    }
}

impl From<crate::model::ModelError> for Error {
    fn from(e: crate::model::ModelError) -> Self {
        Error::Model(Box::new(e))
    }
}
