//! `TransformerEncoder`: tokenisation, deduplication, windowing, batching and pooling around
//! the packed transformer in `net`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use tokenizers::Tokenizer;

use super::batching::{plan_batches, split_windows, Parts, Window};
use super::config::{
    default_prefixes, sentence_transformers_pooling, EncoderConfig, HfConfig, Pooling, Precision,
};
use super::error::{ModelError, Result};
use super::int8::Int8Kernel;
use super::net::Transformer;
use super::registry;
use super::weights::{sha256_file, SafeTensors};
use super::{Embeddings, EncodeStats, InputKind, ModelInfo, Probs, TextEncoder};

/// A BERT-family encoder loaded from a Hugging Face model directory, running on the CPU.
pub struct TransformerEncoder {
    pub(super) model: Transformer,
    pub(super) tokenizer: Tokenizer,
    pub(super) info: ModelInfo,
    pooling: Pooling,
    normalize: bool,
    passage_prefix: String,
    query_prefix: String,
    max_len: usize,
    pub(super) batch_tokens: usize,
    max_batch: usize,
    last: Mutex<EncodeStats>,
    total: Mutex<EncodeStats>,
}

/// `precision = "auto"` keeps int8 when no probe text's embedding moves below this cosine.
pub const AUTO_MIN_COSINE: f32 = 0.99;

/// Texts `precision = "auto"` checks int8 on: feedback-like sentences of the three languages
/// palaute is tuned for and a few others, short and long (written for this check, not taken
/// from any evaluation set).
const PROBE: &[&str] = &[
    "Kiitos nopeasta palvelusta!",
    "Tilaus saapui viikon myöhässä eikä kukaan vastannut sähköposteihin.",
    "Sovelluksen kirjautuminen kaatuu joka kerta kun vaihdan puhelinta, ja asiakaspalvelu vain pyysi asentamaan sen uudelleen.",
    "Hinta on ok.",
    "Personalen i butiken var otroligt hjälpsam.",
    "Fakturan var fel två månader i rad och jag fick ringa tre gånger innan någon rättade den.",
    "Leveransen kom i tid.",
    "Appen är svår att använda.",
    "Great support, fixed my issue in five minutes.",
    "The checkout kept timing out and I was charged twice for the same order.",
    "Meh.",
    "I would recommend you to a friend, but the delivery fees are far too high for what you get.",
    "Der Kundenservice war freundlich, aber die Lieferung dauerte zu lange.",
    "El producto llegó roto y nadie respondió a mis correos.",
    "Interviewer: How was the onboarding? Respondent: Honestly it was fine, a bit long, but fine.",
    "NPS 3 – liian kallis, en suosittele.",
];
const _: () = assert!(!PROBE.is_empty());

/// Files read from a model directory besides the weights, in the order they are hashed.
const OPTIONAL_FILES: &[&str] = &["modules.json", "1_Pooling/config.json"];

/// What to compute per window.
#[derive(Clone, Copy, PartialEq)]
enum Output {
    Embedding,
    Logits,
}

impl TransformerEncoder {
    /// Loads `dir` (`config.json`, `tokenizer.json`, `model.safetensors`, optional
    /// sentence-transformers `modules.json` / `1_Pooling/config.json`).
    pub fn load(dir: &Path, opts: &EncoderConfig) -> Result<Self> {
        let config_path = dir.join("config.json");
        let tokenizer_path = dir.join("tokenizer.json");
        let weights_path = dir.join("model.safetensors");
        for p in [&config_path, &tokenizer_path, &weights_path] {
            if !p.is_file() {
                return Err(ModelError::MissingFile { path: p.clone() });
            }
        }
        let cfg = HfConfig::from_file(&config_path)?;
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(|e| {
            ModelError::invalid(&tokenizer_path, format!("cannot load tokenizer: {e}"))
        })?;
        // We window long inputs ourselves and run packed batches: the tokenizer must neither
        // truncate nor pad.
        tokenizer
            .with_truncation(None)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        let tokenizer_vocab = tokenizer.get_vocab_size(true);

        let pooling = match opts.pooling {
            Some(p) => p,
            None => sentence_transformers_pooling(dir)?.unwrap_or(Pooling::Mean),
        };
        let model_max = cfg.max_len();
        let max_len = opts.max_len.map_or(model_max, |m| m.min(model_max));

        let mut files: Vec<PathBuf> = vec![config_path, tokenizer_path, weights_path.clone()];
        files.extend(
            OPTIONAL_FILES
                .iter()
                .map(|f| dir.join(f))
                .filter(|p| p.is_file()),
        );
        // Hashing (I/O + sha) and weight loading (I/O + conversion) overlap on two cores.
        let (hashes, model) = rayon::join(
            || {
                files
                    .iter()
                    .map(|p| sha256_file(p).map(|h| (relative(dir, p), h)))
                    .collect::<Result<Vec<_>>>()
            },
            || -> Result<Transformer> {
                let mut st = SafeTensors::open(&weights_path)?;
                Transformer::load(cfg.clone(), &mut st, tokenizer_vocab)
            },
        );
        let files = hashes?;
        let model = model?;

        let (id, revision) = registry::identify(dir, opts.model_id.as_deref(), &files);
        let (default_passage, default_query) = default_prefixes(&format!(
            "{} {}",
            id,
            dir.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let info = ModelInfo {
            id,
            revision,
            architecture: cfg.architecture.clone(),
            dim: cfg.hidden_size,
            max_len,
            files,
            adapted: None,
            precision: Precision::F32,
            int8_min_cosine: None,
        };
        let mut encoder = TransformerEncoder {
            model,
            tokenizer,
            info,
            pooling,
            normalize: opts.normalize,
            passage_prefix: opts.passage_prefix.clone().unwrap_or(default_passage),
            query_prefix: opts.query_prefix.clone().unwrap_or(default_query),
            max_len,
            batch_tokens: opts.batch_tokens.max(1),
            max_batch: opts.max_batch.max(1),
            last: Mutex::new(EncodeStats::default()),
            total: Mutex::new(EncodeStats::default()),
        };
        encoder.set_precision(opts.precision)?;
        Ok(encoder)
    }

    /// Switches the linear layers to `precision`; `Auto` measures the int8 embeddings of
    /// [`PROBE`] against f32 ones and keeps int8 when every cosine is ≥ [`AUTO_MIN_COSINE`].
    pub fn set_precision(&mut self, precision: Precision) -> Result<()> {
        let (int8, check) = match precision {
            Precision::F32 => (false, None),
            Precision::Int8 => (true, None),
            // Without an int8 SIMD kernel the portable loop is an order of magnitude slower
            // than f32 products, so `auto` does not even measure.
            Precision::Auto if Int8Kernel::active() == Int8Kernel::Portable => (false, None),
            Precision::Auto => {
                let cos = self.int8_min_cosine()?;
                (cos >= AUTO_MIN_COSINE, Some(cos))
            }
        };
        self.model.set_int8(int8)?;
        self.info.precision = if int8 {
            Precision::Int8
        } else {
            Precision::F32
        };
        self.info.int8_min_cosine = check;
        Ok(())
    }

    /// Lowest cosine between the int8 and the f32 embedding of each [`PROBE`] text. Leaves the
    /// encoder in int8 and its counters as they were.
    pub fn int8_min_cosine(&mut self) -> Result<f32> {
        let counters = (self.last_stats(), self.total_stats());
        self.model.set_int8(false)?;
        let reference = self.embed(PROBE, InputKind::Passage)?;
        self.model.set_int8(true)?;
        let quantised = self.embed(PROBE, InputKind::Passage)?;
        if let (Ok(mut last), Ok(mut total)) = (self.last.lock(), self.total.lock()) {
            (*last, *total) = counters;
        }
        Ok(reference
            .rows()
            .zip(quantised.rows())
            .map(|(a, b)| super::dot(a, b) / (super::dot(a, a) * super::dot(b, b)).sqrt())
            .fold(1.0, f32::min))
    }

    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    pub fn prefix(&self, kind: InputKind) -> &str {
        match kind {
            InputKind::Passage => &self.passage_prefix,
            InputKind::Query => &self.query_prefix,
        }
    }

    /// Token ids the model is fed for `text` (prefix and special tokens included) before any
    /// windowing.
    pub fn tokenize(&self, text: &str, kind: InputKind) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(format!("{}{text}", self.prefix(kind)), true)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Labels of the classification head (empty for a bare encoder).
    pub fn labels(&self) -> &[String] {
        if self.model.has_classifier() {
            &self.model.cfg.labels
        } else {
            &[]
        }
    }

    /// Number of transformer layers.
    pub fn num_layers(&self) -> usize {
        self.model.num_layers()
    }

    /// Counters summed over every call since loading (for `run.json`).
    pub fn total_stats(&self) -> EncodeStats {
        self.total.lock().map(|s| *s).unwrap_or_default()
    }

    /// Class probabilities from the sequence-classification head. Long texts are windowed like
    /// in `embed`, and window probabilities averaged weighted by their token counts.
    pub fn classify(&self, texts: &[&str]) -> Result<Probs> {
        if !self.model.has_classifier() {
            return Err(ModelError::NotAClassifier {
                id: self.info.id.clone(),
                architecture: self.info.architecture.clone(),
            });
        }
        let labels = self.model.cfg.labels.clone();
        let (per_text, k) = self.run(texts, "", Output::Logits)?;
        let rows = per_text
            .chunks_exact(k.max(1))
            .map(<[f32]>::to_vec)
            .collect();
        Ok(Probs { labels, rows })
    }

    /// Tokenises, windows and batches `texts`; returns one row per input (embedding or
    /// probabilities) and the row width.
    fn run(&self, texts: &[&str], prefix: &str, output: Output) -> Result<(Vec<f32>, usize)> {
        let mut stats = EncodeStats {
            texts: texts.len(),
            ..EncodeStats::default()
        };
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(texts.len());
        let mut unique: Vec<&str> = Vec::new();
        let slot: Vec<usize> = texts
            .iter()
            .map(|t| {
                *index.entry(t).or_insert_with(|| {
                    unique.push(t);
                    unique.len() - 1
                })
            })
            .collect();
        stats.unique_texts = unique.len();

        let prefix_ids: Vec<u32> = if prefix.is_empty() {
            Vec::new()
        } else {
            self.tokenizer
                .encode(prefix, false)
                .map_err(|e| ModelError::Tokenizer(e.to_string()))?
                .get_ids()
                .to_vec()
        };
        let windows: Vec<Vec<Window>> = unique
            .par_iter()
            .enumerate()
            .map(|(u, text)| self.windows(u, &format!("{prefix}{text}"), &prefix_ids))
            .collect::<Result<_>>()?;
        let windowed_unique: Vec<bool> = windows.iter().map(|w| w.len() > 1).collect();
        stats.windowed = slot.iter().filter(|&&u| windowed_unique[u]).count();
        let windows: Vec<Window> = windows.into_iter().flatten().collect();

        let width = match output {
            Output::Embedding => self.model.hidden(),
            Output::Logits => self.model.cfg.labels.len(),
        };
        let lens: Vec<usize> = windows.iter().map(|w| w.ids.len()).collect();
        let mut per_window = vec![0f32; windows.len() * width];
        for batch in plan_batches(&lens, self.batch_tokens, self.max_batch) {
            let seqs: Vec<&[u32]> = batch.iter().map(|&i| windows[i].ids.as_slice()).collect();
            stats.batches += 1;
            stats.real_tokens += seqs.iter().map(|s| s.len()).sum::<usize>();
            let rows = self.forward_batch(&seqs, output)?;
            for (&i, row) in batch.iter().zip(rows.chunks_exact(width)) {
                per_window[i * width..(i + 1) * width].copy_from_slice(row);
            }
        }

        // Windows of one text are averaged, weighted by the content tokens each covers.
        let mut per_unique = vec![0f32; unique.len() * width];
        let mut weight = vec![0f32; unique.len()];
        for (w, row) in windows.iter().zip(per_window.chunks_exact(width)) {
            let dst = &mut per_unique[w.owner * width..(w.owner + 1) * width];
            for (d, v) in dst.iter_mut().zip(row) {
                *d += w.weight * v;
            }
            weight[w.owner] += w.weight;
        }
        for (row, w) in per_unique.chunks_exact_mut(width).zip(&weight) {
            let inv = 1.0 / w.max(f32::MIN_POSITIVE);
            row.iter_mut().for_each(|v| *v *= inv);
            if output == Output::Embedding && self.normalize {
                l2_normalize(row);
            }
        }
        let mut out = Vec::with_capacity(texts.len() * width);
        for &u in &slot {
            out.extend_from_slice(&per_unique[u * width..(u + 1) * width]);
        }
        if let Ok(mut last) = self.last.lock() {
            *last = stats;
        }
        if let Ok(mut total) = self.total.lock() {
            total.add(&stats);
        }
        Ok((out, width))
    }

    pub(super) fn windows(
        &self,
        owner: usize,
        text: &str,
        prefix_ids: &[u32],
    ) -> Result<Vec<Window>> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        let ids = enc.get_ids();
        let special = enc.get_special_tokens_mask();
        let lead = special
            .iter()
            .take_while(|&&s| s == 1)
            .count()
            .min(ids.len());
        let trail = special[lead..]
            .iter()
            .rev()
            .take_while(|&&s| s == 1)
            .count();
        // The prefix is repeated in every window; it is recognised as the longest run of the
        // prefix's own tokens at the start of the content.
        let prefix = ids[lead..ids.len() - trail]
            .iter()
            .zip(prefix_ids)
            .take_while(|(a, b)| a == b)
            .count();
        let parts = Parts {
            lead,
            prefix,
            trail,
        };
        split_windows(ids, parts, self.max_len, owner).ok_or_else(|| {
            ModelError::Config(format!(
                "max_len {} leaves no room for text after special tokens and prefix",
                self.max_len
            ))
        })
    }

    /// One forward pass; returns a row per sequence: pooled (unnormalised) embedding, or
    /// class probabilities.
    fn forward_batch(&self, seqs: &[&[u32]], output: Output) -> Result<Vec<f32>> {
        let h = self.model.hidden();
        let (hidden, offsets) = self.model.forward(seqs)?;
        let pooling = match output {
            Output::Embedding => self.pooling,
            Output::Logits => Pooling::Cls,
        };
        let mut pooled = vec![0f32; seqs.len() * h];
        for (s, dst) in pooled.chunks_exact_mut(h).enumerate() {
            let rows = &hidden[offsets[s] * h..offsets[s + 1] * h];
            match pooling {
                // A sequence can be empty (a tokenizer without special tokens given ""):
                // it pools to zeros rather than panicking.
                Pooling::Cls => {
                    if let Some(first) = rows.get(..h) {
                        dst.copy_from_slice(first);
                    }
                }
                Pooling::Mean => {
                    for r in rows.chunks_exact(h) {
                        for (d, v) in dst.iter_mut().zip(r) {
                            *d += v;
                        }
                    }
                    let inv = 1.0 / (rows.len() / h).max(1) as f32;
                    dst.iter_mut().for_each(|d| *d *= inv);
                }
            }
        }
        match output {
            Output::Embedding => Ok(pooled),
            Output::Logits => {
                let mut logits = self.model.classify_logits(pooled)?;
                let k = self.model.cfg.labels.len();
                logits
                    .chunks_exact_mut(k)
                    .for_each(|row| super::softmax(row, 1.0));
                Ok(logits)
            }
        }
    }
}

impl TextEncoder for TransformerEncoder {
    fn embed(&self, texts: &[&str], kind: InputKind) -> Result<Embeddings> {
        let (data, dim) = self.run(texts, self.prefix(kind), Output::Embedding)?;
        Ok(Embeddings { dim, data })
    }

    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn dim(&self) -> usize {
        self.info.dim
    }

    fn last_stats(&self) -> EncodeStats {
        self.last.lock().map(|s| *s).unwrap_or_default()
    }
}

impl std::fmt::Debug for TransformerEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransformerEncoder")
            .field("info", &self.info)
            .field("pooling", &self.pooling)
            .finish_non_exhaustive()
    }
}

/// A model file's name relative to the model directory, `/`-separated.
fn relative(dir: &Path, p: &Path) -> String {
    crate::util::source_name(p.strip_prefix(dir).unwrap_or(p))
}

fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Loading the configured models. Here, not in `registry`, so the registry (where models are,
/// which ones are recommended) does not depend on the encoder that runs them.
impl super::ModelsConfig {
    pub fn load_encoder(&self, cli_dir: Option<&Path>) -> Result<TransformerEncoder> {
        let dir = self.resolve_encoder_dir(cli_dir)?;
        TransformerEncoder::load(&dir, &self.encoder_config())
    }

    pub fn load_sentiment(&self) -> Result<Option<TransformerEncoder>> {
        let Some(dir) = self.resolve_sentiment_dir()? else {
            return Ok(None);
        };
        let opts = super::EncoderConfig {
            model_id: self.sentiment_model.clone(),
            passage_prefix: Some(String::new()),
            query_prefix: Some(String::new()),
            ..self.encoder_config()
        };
        TransformerEncoder::load(&dir, &opts).map(Some)
    }
}
