//! User-facing configuration (`ModelsConfig`, `EncoderConfig`) and parsing of the Hugging Face
//! files that describe a model directory (`config.json`, `modules.json`, `1_Pooling/config.json`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{ModelError, Result};

pub const DEFAULT_ENCODER: &str = "intfloat/multilingual-e5-small";
pub const DEFAULT_BATCH_TOKENS: usize = 2048;
pub const DEFAULT_MAX_BATCH: usize = 128;

/// `[models]` section of palaute's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelsConfig {
    /// Hugging Face repo id of the sentence encoder.
    pub encoder: String,
    /// Local directory holding the encoder (overrides the cache lookup).
    pub encoder_dir: Option<PathBuf>,
    /// Repo id or local directory of a fine-tuned sequence-classification model for sentiment.
    pub sentiment_model: Option<String>,
    /// Where `palaute models fetch` stores models; defaults to the user cache.
    pub cache_dir: Option<PathBuf>,
    /// Download a model that is neither configured as a directory nor in the cache on first
    /// use (`run`, `eval`, `train`); `false` (or `HF_HUB_OFFLINE=1`) never contacts the hub.
    pub auto_fetch: bool,
    /// Hugging Face hub (or mirror) base URL; default `$HF_ENDPOINT`, else huggingface.co.
    pub endpoint: Option<String>,
    /// Upper bound on tokens per forward batch (including padding).
    pub batch_tokens: usize,
    /// Upper bound on sequences per forward batch.
    pub max_batch: usize,
    /// Overrides the prefix put before texts embedded as passages.
    pub passage_prefix: Option<String>,
    /// Overrides the prefix put before texts embedded as queries.
    pub query_prefix: Option<String>,
    /// Arithmetic of the encoder's matrix products (see [`Precision`]).
    pub precision: Precision,
}

/// Arithmetic of the encoder's linear layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32 matrix products (candle's gemm).
    #[default]
    F32,
    /// int8 weights (per output channel) and activations (per token), i32 accumulation:
    /// faster, embeddings within ~1% cosine of f32 (README "int8").
    Int8,
    /// int8 when this model's int8 embeddings of a fixed multilingual probe set all stay at
    /// cosine ≥ 0.99 to its f32 ones (checked at load), else f32.
    Auto,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Int8 => "int8",
            Precision::Auto => "auto",
        }
    }
}

impl Default for ModelsConfig {
    fn default() -> Self {
        ModelsConfig {
            encoder: DEFAULT_ENCODER.to_string(),
            encoder_dir: None,
            sentiment_model: None,
            cache_dir: None,
            auto_fetch: true,
            endpoint: None,
            batch_tokens: DEFAULT_BATCH_TOKENS,
            max_batch: DEFAULT_MAX_BATCH,
            passage_prefix: None,
            query_prefix: None,
            precision: Precision::F32,
        }
    }
}

impl ModelsConfig {
    /// The encoder options implied by this section.
    pub fn encoder_config(&self) -> EncoderConfig {
        EncoderConfig {
            model_id: Some(self.encoder.clone()),
            passage_prefix: self.passage_prefix.clone(),
            query_prefix: self.query_prefix.clone(),
            batch_tokens: self.batch_tokens,
            max_batch: self.max_batch,
            precision: self.precision,
            ..EncoderConfig::default()
        }
    }
}

/// How sentence embeddings are pooled from token states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    Mean,
    Cls,
}

/// Options of the transformer encoder. `None` fields are filled from the model directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncoderConfig {
    /// Prefix for `InputKind::Passage`; `None` = `"passage: "` for E5 models, else empty.
    pub passage_prefix: Option<String>,
    /// Prefix for `InputKind::Query`; `None` = `"query: "` for E5 models, else empty.
    pub query_prefix: Option<String>,
    /// `None` = from `1_Pooling/config.json`, or mean when absent.
    pub pooling: Option<Pooling>,
    /// L2-normalise sentence embeddings (cosine = dot product downstream).
    pub normalize: bool,
    pub batch_tokens: usize,
    pub max_batch: usize,
    /// Longest sequence fed to the model (special tokens included); `None` = the model's
    /// position limit. Longer inputs are windowed.
    pub max_len: Option<usize>,
    /// Model name used for prefix defaults when the directory name is not telling.
    pub model_id: Option<String>,
    pub precision: Precision,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig {
            passage_prefix: None,
            query_prefix: None,
            pooling: None,
            normalize: true,
            batch_tokens: DEFAULT_BATCH_TOKENS,
            max_batch: DEFAULT_MAX_BATCH,
            max_len: None,
            model_id: None,
            precision: Precision::F32,
        }
    }
}

/// E5 models were trained with these prefixes; embedding without them costs retrieval quality.
/// "e5" must stand as a word of the name ("multilingual-e5-small", "intfloat/e5-base"): a
/// substring match also caught temporary directories (".tmpAbE5xy") and names like "bge5".
pub(crate) fn default_prefixes(model_name: &str) -> (String, String) {
    let lower = model_name.to_ascii_lowercase();
    if lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word == "e5")
    {
        ("passage: ".to_string(), "query: ".to_string())
    } else {
        (String::new(), String::new())
    }
}

/// Model families the encoder implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Bert,
    XlmRoberta,
    DistilBert,
}

/// What sits on top of the encoder stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    /// Bare encoder (or a pre-training head we ignore).
    None,
    SequenceClassification,
}

pub const SUPPORTED_ARCHITECTURES: &[&str] = &[
    "BertModel",
    "BertForSequenceClassification",
    "BertForMaskedLM",
    "XLMRobertaModel",
    "XLMRobertaForSequenceClassification",
    "XLMRobertaForMaskedLM",
    "RobertaModel",
    "RobertaForSequenceClassification",
    "DistilBertModel",
    "DistilBertForSequenceClassification",
];

fn classify_architecture(name: &str) -> Option<(Family, HeadKind)> {
    let (family, rest) = if let Some(r) = name.strip_prefix("XLMRoberta") {
        (Family::XlmRoberta, r)
    } else if let Some(r) = name.strip_prefix("Roberta") {
        (Family::XlmRoberta, r)
    } else if let Some(r) = name.strip_prefix("DistilBert") {
        (Family::DistilBert, r)
    } else if let Some(r) = name.strip_prefix("Bert") {
        (Family::Bert, r)
    } else {
        return None;
    };
    match rest {
        "Model" | "ForMaskedLM" | "ForPreTraining" => Some((family, HeadKind::None)),
        "ForSequenceClassification" => Some((family, HeadKind::SequenceClassification)),
        _ => None,
    }
}

fn family_from_model_type(model_type: &str) -> Option<Family> {
    match model_type {
        "bert" => Some(Family::Bert),
        "xlm-roberta" | "roberta" => Some(Family::XlmRoberta),
        "distilbert" => Some(Family::DistilBert),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    GeluErf,
    GeluTanh,
    Relu,
}

/// The parts of `config.json` the encoder needs, normalised across families.
#[derive(Debug, Clone)]
pub struct HfConfig {
    pub architecture: String,
    pub family: Family,
    pub head: HeadKind,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub intermediate_size: usize,
    pub activation: Activation,
    pub layer_norm_eps: f64,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub pad_token_id: usize,
    /// Labels in class-index order (from `id2label`).
    pub labels: Vec<String>,
}

fn get_usize(v: &Value, keys: &[&str]) -> Option<usize> {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_u64))
        .and_then(|n| usize::try_from(n).ok())
}

impl HfConfig {
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| ModelError::invalid(path, e))?;
        Self::from_value(&v, path)
    }

    pub fn from_value(v: &Value, path: &Path) -> Result<Self> {
        let unsupported = |found: String| ModelError::UnsupportedArchitecture {
            found,
            path: path.to_path_buf(),
            supported: SUPPORTED_ARCHITECTURES.join(", "),
        };
        let model_type = v.get("model_type").and_then(Value::as_str).unwrap_or("");
        let archs: Vec<String> = v
            .get("architectures")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let (architecture, family, head) = match archs.first() {
            Some(name) => {
                let (f, h) =
                    classify_architecture(name).ok_or_else(|| unsupported(name.clone()))?;
                (name.clone(), f, h)
            }
            None => {
                let f = family_from_model_type(model_type).ok_or_else(|| {
                    unsupported(if model_type.is_empty() {
                        "<no `architectures` or `model_type` in config.json>".to_string()
                    } else {
                        format!("model_type={model_type}")
                    })
                })?;
                (format!("model_type={model_type}"), f, HeadKind::None)
            }
        };

        let need = |keys: &[&str]| {
            get_usize(v, keys).ok_or_else(|| {
                ModelError::invalid(path, format!("missing integer field `{}`", keys[0]))
            })
        };
        let hidden_size = need(&["hidden_size", "dim"])?;
        let num_heads = need(&["num_attention_heads", "n_heads"])?;
        if num_heads == 0 || hidden_size % num_heads != 0 {
            return Err(ModelError::invalid(
                path,
                format!("hidden size {hidden_size} is not divisible by {num_heads} heads"),
            ));
        }
        let act_name = v
            .get("hidden_act")
            .or_else(|| v.get("activation"))
            .and_then(Value::as_str)
            .unwrap_or("gelu");
        let activation = match act_name {
            "gelu" => Activation::GeluErf,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Activation::GeluTanh,
            "relu" => Activation::Relu,
            other => {
                return Err(ModelError::invalid(
                    path,
                    format!("unsupported activation `{other}` (supported: gelu, gelu_new, relu)"),
                ))
            }
        };
        if let Some(kind) = v.get("position_embedding_type").and_then(Value::as_str) {
            if kind != "absolute" {
                return Err(unsupported(format!(
                    "{architecture} with position_embedding_type={kind}"
                )));
            }
        }
        if v.get("sinusoidal_pos_embds").and_then(Value::as_bool) == Some(true) {
            return Err(unsupported(format!(
                "{architecture} with sinusoidal_pos_embds"
            )));
        }
        let default_pad = if family == Family::XlmRoberta { 1 } else { 0 };
        let labels = parse_labels(v, path)?;
        Ok(HfConfig {
            architecture,
            family,
            head,
            vocab_size: need(&["vocab_size"])?,
            hidden_size,
            num_layers: need(&["num_hidden_layers", "n_layers"])?,
            num_heads,
            intermediate_size: need(&["intermediate_size", "hidden_dim"])?,
            activation,
            layer_norm_eps: v
                .get("layer_norm_eps")
                .and_then(Value::as_f64)
                .unwrap_or(1e-12),
            max_position_embeddings: need(&["max_position_embeddings"])?,
            type_vocab_size: get_usize(v, &["type_vocab_size"]).unwrap_or(0),
            pad_token_id: get_usize(v, &["pad_token_id"]).unwrap_or(default_pad),
            labels,
        })
    }

    /// XLM-R numbers positions from `pad_token_id + 1`, so two position slots are unusable.
    pub fn position_offset(&self) -> usize {
        match self.family {
            Family::XlmRoberta => self.pad_token_id + 1,
            _ => 0,
        }
    }

    /// Longest sequence (special tokens included) the position table allows.
    pub fn max_len(&self) -> usize {
        self.max_position_embeddings
            .saturating_sub(self.position_offset())
    }
}

fn parse_labels(v: &Value, path: &Path) -> Result<Vec<String>> {
    let Some(map) = v.get("id2label").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut by_id = BTreeMap::new();
    for (k, name) in map {
        let id: usize = k.parse().map_err(|_| {
            ModelError::invalid(path, format!("id2label key `{k}` is not an index"))
        })?;
        let name = name
            .as_str()
            .ok_or_else(|| ModelError::invalid(path, format!("id2label[{k}] is not a string")))?;
        by_id.insert(id, name.to_string());
    }
    let labels: Vec<String> = by_id.values().cloned().collect();
    if by_id.keys().copied().ne(0..labels.len()) {
        return Err(ModelError::invalid(
            path,
            "id2label keys must be 0..n without gaps",
        ));
    }
    Ok(labels)
}

/// Pooling declared by a sentence-transformers layout, if the directory has one.
pub fn sentence_transformers_pooling(dir: &Path) -> Result<Option<Pooling>> {
    let modules = dir.join("modules.json");
    let pooling_dir = if modules.is_file() {
        let text = std::fs::read_to_string(&modules).map_err(|e| ModelError::io(&modules, e))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| ModelError::invalid(&modules, e))?;
        let found = v.as_array().and_then(|mods| {
            mods.iter().find_map(|m| {
                let ty = m.get("type")?.as_str()?;
                ty.ends_with("Pooling").then(|| {
                    m.get("path")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
            })
        });
        match found {
            Some(p) => dir.join(p),
            None => return Ok(None),
        }
    } else {
        dir.join("1_Pooling")
    };
    let cfg_path = pooling_dir.join("config.json");
    if !cfg_path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&cfg_path).map_err(|e| ModelError::io(&cfg_path, e))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| ModelError::invalid(&cfg_path, e))?;
    let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    if flag("pooling_mode_cls_token") {
        Ok(Some(Pooling::Cls))
    } else if flag("pooling_mode_mean_tokens") {
        Ok(Some(Pooling::Mean))
    } else if flag("pooling_mode_max_tokens") || flag("pooling_mode_mean_sqrt_len_tokens") {
        Err(ModelError::invalid(
            &cfg_path,
            "only mean and CLS pooling are supported",
        ))
    } else {
        Ok(None)
    }
}
