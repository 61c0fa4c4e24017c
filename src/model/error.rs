use std::path::PathBuf;

/// Everything that can go wrong while locating, loading or running a model.
///
/// Variants name the file, tensor or architecture involved so that a user pointing palaute at
/// the wrong directory can fix it without reading the source.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file not found: {}", path.display())]
    MissingFile { path: PathBuf },

    #[error(
        "unsupported model architecture `{found}` (from {}); supported: {supported}",
        path.display()
    )]
    UnsupportedArchitecture {
        found: String,
        path: PathBuf,
        supported: String,
    },

    #[error(
        "tokenizer/model vocabulary mismatch: tokenizer has {tokenizer_vocab} tokens but the \
         model's word embedding table has only {embedding_rows} rows (is tokenizer.json from \
         another model?)"
    )]
    VocabMismatch {
        tokenizer_vocab: usize,
        embedding_rows: usize,
    },

    #[error(
        "tensor `{tensor}` in {} has dtype {dtype}; only F32, F16 and BF16 weights are supported",
        path.display()
    )]
    UnsupportedDtype {
        tensor: String,
        dtype: String,
        path: PathBuf,
    },

    #[error("tensor `{tensor}` not found in {}", path.display())]
    MissingTensor { tensor: String, path: PathBuf },

    #[error("tensor `{tensor}` has shape {found:?}, expected {expected:?}")]
    TensorShape {
        tensor: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },

    #[error("invalid {}: {message}", path.display())]
    InvalidFile { path: PathBuf, message: String },

    #[error("tokenizer error: {0}")]
    Tokenizer(String),

    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("model runtime error: {0}")]
    Runtime(#[from] candle_core::Error),

    #[error(
        "model `{id}` is not available locally (looked in {searched}); run `palaute models fetch \
         {id}` on a machine with access to the Hugging Face hub, or pass --model-dir"
    )]
    NotFound { id: String, searched: String },

    #[error(
        "model `{id}` is not available locally (looked in {searched}) and downloading it failed: \
         {source}. Run `palaute models fetch {id}` where the Hugging Face hub is reachable, or \
         pass --model-dir"
    )]
    FetchFailed {
        id: String,
        searched: String,
        #[source]
        source: Box<ModelError>,
    },

    #[error("model hub {endpoint} is unreachable: {message}")]
    HubUnreachable { endpoint: String, message: String },

    #[error("downloading `{file}` of {repo} failed: {message}")]
    Fetch {
        repo: String,
        file: String,
        message: String,
    },

    #[error("sha256 mismatch for `{file}` of {repo}: manifest says {expected}, downloaded file has {actual}")]
    Checksum {
        repo: String,
        file: String,
        expected: String,
        actual: String,
    },

    #[error("model `{id}` has no sequence-classification head (architecture {architecture})")]
    NotAClassifier { id: String, architecture: String },

    #[error("invalid model configuration: {0}")]
    Config(String),
}

pub type Result<T> = std::result::Result<T, ModelError>;

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            ModelError::MissingFile { path }
        } else {
            ModelError::Io { path, source }
        }
    }

    pub(crate) fn invalid(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        ModelError::InvalidFile {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
