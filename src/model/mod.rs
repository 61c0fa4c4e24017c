//! Transformer encoders: sentence embeddings and sequence classification.
//!
//! The rest of the pipeline sees only [`TextEncoder`] (and [`TransformerEncoder::classify`]);
//! everything about weights, tokenisation, windowing and batching stays in here.
//!
//! * [`TransformerEncoder::load`] reads a Hugging Face model directory (BERT, XLM-RoBERTa,
//!   DistilBERT; bare encoders or `*ForSequenceClassification`).
//! * [`registry`] knows the recommended models (`models/models.toml`), where they are cached,
//!   and how to download them ([`registry::fetch`]).
//! * [`embeddings_frame`] turns embeddings into the `embeddings.parquet` table.

pub mod adapt;
mod batching;
pub mod config;
mod encoder;
pub mod error;
mod frame;
mod int8;
mod kernels;
pub use int8::Int8Kernel;
pub use kernels::{report as kernel_report, Simd};
mod net;
pub mod registry;
pub mod tiny;
mod weights;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_fetch;

pub use config::{EncoderConfig, ModelsConfig, Pooling, Precision};
pub use encoder::TransformerEncoder;
pub use error::{ModelError, Result};
pub use frame::embeddings_frame;
pub use registry::{fetch, list_models, ManifestEntry};

use serde::Serialize;

/// How a text is used, which decides the model-specific prefix (E5: `passage: ` / `query: `).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum InputKind {
    /// Text being indexed or analysed (feedback segments).
    Passage,
    /// Short text matched against passages (theme labels, search queries).
    Query,
}

/// Dot product; for two L2-normalised embeddings, their cosine similarity.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Softmax of `v / temperature` in place, shifted by the maximum for stability.
pub fn softmax(v: &mut [f32], temperature: f32) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for x in v.iter_mut() {
        *x = ((*x - max) / temperature).exp();
        sum += *x;
    }
    v.iter_mut().for_each(|x| *x /= sum);
}

/// Row-major matrix of sentence embeddings, one row per input text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Embeddings {
    pub dim: usize,
    pub data: Vec<f32>,
}

impl Embeddings {
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Embedding of input `i`. Panics if `i >= len()`, like slice indexing.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    pub fn rows(&self) -> impl Iterator<Item = &[f32]> {
        self.data.chunks_exact(self.dim.max(1))
    }
}

/// Class probabilities: `rows[i][j]` = P(label j | text i); each row sums to 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probs {
    pub labels: Vec<String>,
    pub rows: Vec<Vec<f32>>,
}

/// Identity of a loaded model, recorded in `run.json` for reproducibility.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    /// Hugging Face repo id when known, else the directory name.
    pub id: String,
    /// Commit of the repo the files came from, when it can be established.
    pub revision: Option<String>,
    pub architecture: String,
    pub dim: usize,
    /// Longest sequence the model is fed (special tokens included); longer inputs are windowed.
    pub max_len: usize,
    /// `(file name relative to the model dir, sha256 hex)` of every file that was read.
    pub files: Vec<(String, String)>,
    /// Key of the fine-tuned top layers replacing the model's own (`[classify.adapt]`): a hash
    /// of the base model, the training examples and the settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapted: Option<String>,
    /// Arithmetic the linear layers run in (`f32` or `int8`; `auto` resolved at load).
    pub precision: Precision,
    /// With `precision = "auto"`: the lowest cosine between int8 and f32 embeddings of the
    /// probe set, on which the choice was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub int8_min_cosine: Option<f32>,
}

/// Counters of one `embed`/`classify` call (or, via `total_stats`, of all calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct EncodeStats {
    pub texts: usize,
    /// Distinct texts actually run through the model (identical inputs are embedded once).
    pub unique_texts: usize,
    /// Inputs longer than `max_len` that were split into overlapping windows.
    pub windowed: usize,
    pub batches: usize,
    /// Tokens of the sequences fed to the model (windows included, special tokens included).
    pub real_tokens: usize,
    /// Padding positions computed. Zero for [`TransformerEncoder`], which runs batches packed;
    /// kept so that a padding backend reports comparable numbers.
    pub padded_tokens: usize,
}

impl EncodeStats {
    /// Share of computed token positions that were padding.
    pub fn padding_waste(&self) -> f64 {
        let total = self.real_tokens + self.padded_tokens;
        if total == 0 {
            0.0
        } else {
            self.padded_tokens as f64 / total as f64
        }
    }

    pub fn add(&mut self, other: &EncodeStats) {
        self.texts += other.texts;
        self.unique_texts += other.unique_texts;
        self.windowed += other.windowed;
        self.batches += other.batches;
        self.real_tokens += other.real_tokens;
        self.padded_tokens += other.padded_tokens;
    }
}

/// A sentence encoder. Implementations must return one L2-normalised row per input text, in
/// input order.
pub trait TextEncoder: Send + Sync {
    fn embed(&self, texts: &[&str], kind: InputKind) -> Result<Embeddings>;
    fn info(&self) -> &ModelInfo;
    fn dim(&self) -> usize;
    /// Counters of the most recent `embed` call.
    fn last_stats(&self) -> EncodeStats;
}
