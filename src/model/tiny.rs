//! Tiny random-weight models in Hugging Face layout, for tests and benchmarks that must run
//! without downloading anything. The weights are seeded, so a given spec always produces the
//! same files.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde_json::{json, Value};

use super::error::{ModelError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TinyArch {
    Bert,
    XlmRoberta,
    DistilBert,
}

#[derive(Debug, Clone)]
pub struct TinySpec {
    pub arch: TinyArch,
    /// `Some(labels)` writes a `*ForSequenceClassification` model with these `id2label`s.
    pub labels: Option<Vec<String>>,
    /// Writes `modules.json` + `1_Pooling/config.json` with this mode when set.
    pub pooling: Option<super::Pooling>,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    /// Longest sequence the model accepts (special tokens included).
    pub max_len: usize,
    pub seed: u64,
    /// Storage dtype of the float tensors (F32, F16 or BF16; others for error tests).
    pub dtype: DType,
}

impl TinySpec {
    pub fn new(arch: TinyArch) -> Self {
        TinySpec {
            arch,
            labels: None,
            pooling: None,
            hidden: 32,
            layers: 2,
            heads: 4,
            intermediate: 64,
            max_len: 64,
            seed: 7,
            dtype: DType::F32,
        }
    }
}

/// Words the tiny tokenizers know; anything else falls back to letters.
const WORDS: &[&str] = &[
    "the",
    "service",
    "was",
    "slow",
    "fast",
    "good",
    "bad",
    "great",
    "terrible",
    "delivery",
    "price",
    "quality",
    "support",
    "customer",
    "i",
    "you",
    "we",
    "it",
    "is",
    "not",
    "very",
    "and",
    "but",
    "or",
    "a",
    "an",
    "to",
    "of",
    "in",
    "on",
    "for",
    "with",
    "this",
    "that",
    "passage",
    "query",
    "hyvä",
    "huono",
    "palvelu",
    "bra",
    "dålig",
    "kundtjänst",
    "waited",
    "minutes",
    "hours",
    "app",
    "crashed",
    "refund",
    "order",
    "never",
    "arrived",
    "love",
    "hate",
    "ok",
];

const PUNCT: &[&str] = &[":", ".", ",", "!", "?", "'", "-"];

fn letters() -> impl Iterator<Item = String> {
    ('a'..='z')
        .chain('0'..='9')
        .chain("äöå".chars())
        .map(|c| c.to_string())
}

fn wordpiece_tokenizer() -> (Value, usize) {
    let mut vocab: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    vocab.extend(WORDS.iter().map(|w| w.to_string()));
    vocab.extend(PUNCT.iter().map(|w| w.to_string()));
    vocab.extend(letters());
    vocab.extend(letters().map(|l| format!("##{l}")));
    let map: serde_json::Map<String, Value> = vocab
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), json!(i)))
        .collect();
    let added = added_tokens(&["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
    let tok = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                        "strip_accents": false, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                   "max_input_chars_per_word": 100, "vocab": map}
    });
    (tok, vocab.len())
}

/// Special tokens with ids 0.. in the order given.
fn added_tokens(specials: &[&str]) -> Vec<Value> {
    specials
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"id": i, "content": t, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect()
}

fn unigram_tokenizer() -> (Value, usize) {
    let specials = ["<s>", "<pad>", "</s>", "<unk>"];
    let mut vocab: Vec<(String, f64)> = specials.iter().map(|s| (s.to_string(), 0.0)).collect();
    vocab.push(("▁".to_string(), -4.0));
    vocab.extend(WORDS.iter().map(|w| (format!("▁{w}"), -3.0)));
    vocab.extend(PUNCT.iter().map(|w| (w.to_string(), -4.0)));
    vocab.extend(letters().map(|l| (l, -6.0)));
    vocab.extend(letters().map(|l| (format!("▁{l}"), -7.0)));
    let n = vocab.len();
    let added = added_tokens(&specials);
    let special = |t: &str, id: usize| json!({"id": t, "ids": [id], "tokens": [t]});
    let tok = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
                           "split": true},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"<s>": special("<s>", 0), "</s>": special("</s>", 2)}
        },
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
                     "split": true},
        "model": {"type": "Unigram", "unk_id": 3, "byte_fallback": false, "vocab": vocab}
    });
    (tok, n)
}

/// Deterministic pseudo-random numbers (SplitMix64) so fixtures need no RNG crate.
struct Rng(u64);

impl Rng {
    fn next_f32(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

struct Writer {
    rng: Rng,
    dtype: DType,
    tensors: HashMap<String, Tensor>,
}

impl Writer {
    fn put(&mut self, name: String, shape: &[usize], center: f32, scale: f32) -> Result<()> {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n)
            .map(|_| center + scale * self.rng.next_f32())
            .collect();
        let t = Tensor::from_vec(data, shape, &Device::Cpu)?.to_dtype(self.dtype)?;
        self.tensors.insert(name, t);
        Ok(())
    }

    fn linear(&mut self, base: &str, out: usize, inp: usize) -> Result<()> {
        let scale = 1.5 / (inp as f32).sqrt();
        self.put(format!("{base}.weight"), &[out, inp], 0.0, scale)?;
        self.put(format!("{base}.bias"), &[out], 0.0, 0.1)
    }

    fn norm(&mut self, base: &str, h: usize) -> Result<()> {
        self.put(format!("{base}.weight"), &[h], 1.0, 0.1)?;
        self.put(format!("{base}.bias"), &[h], 0.0, 0.1)
    }
}

/// Writes `config.json`, `tokenizer.json`, `model.safetensors` (and pooling files) to `dir`.
pub fn write_tiny_model(dir: &Path, spec: &TinySpec) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let (tokenizer, vocab) = match spec.arch {
        TinyArch::XlmRoberta => unigram_tokenizer(),
        _ => wordpiece_tokenizer(),
    };
    let (h, i) = (spec.hidden, spec.intermediate);
    let classifier = spec.labels.is_some();
    let (family, prefix, max_pos, type_vocab, pad) = match spec.arch {
        TinyArch::Bert => ("Bert", "bert.", spec.max_len, 2, 0),
        TinyArch::XlmRoberta => ("XLMRoberta", "roberta.", spec.max_len + 2, 1, 1),
        TinyArch::DistilBert => ("DistilBert", "distilbert.", spec.max_len, 0, 0),
    };
    let prefix = if classifier { prefix } else { "" };
    let mut w = Writer {
        rng: Rng(spec.seed),
        dtype: spec.dtype,
        tensors: HashMap::new(),
    };
    let emb = |s: &str| format!("{prefix}embeddings.{s}");
    w.put(emb("word_embeddings.weight"), &[vocab, h], 0.0, 1.0)?;
    w.put(emb("position_embeddings.weight"), &[max_pos, h], 0.0, 0.5)?;
    if type_vocab > 0 {
        w.put(
            emb("token_type_embeddings.weight"),
            &[type_vocab, h],
            0.0,
            0.5,
        )?;
    }
    w.norm(&emb("LayerNorm"), h)?;
    for l in 0..spec.layers {
        if spec.arch == TinyArch::DistilBert {
            let n = |s: &str| format!("{prefix}transformer.layer.{l}.{s}");
            for p in ["q_lin", "k_lin", "v_lin", "out_lin"] {
                w.linear(&n(&format!("attention.{p}")), h, h)?;
            }
            w.norm(&n("sa_layer_norm"), h)?;
            w.linear(&n("ffn.lin1"), i, h)?;
            w.linear(&n("ffn.lin2"), h, i)?;
            w.norm(&n("output_layer_norm"), h)?;
        } else {
            let n = |s: &str| format!("{prefix}encoder.layer.{l}.{s}");
            for p in ["query", "key", "value"] {
                w.linear(&n(&format!("attention.self.{p}")), h, h)?;
            }
            w.linear(&n("attention.output.dense"), h, h)?;
            w.norm(&n("attention.output.LayerNorm"), h)?;
            w.linear(&n("intermediate.dense"), i, h)?;
            w.linear(&n("output.dense"), h, i)?;
            w.norm(&n("output.LayerNorm"), h)?;
        }
    }
    if spec.arch == TinyArch::Bert {
        w.linear(&format!("{prefix}pooler.dense"), h, h)?;
    }
    let mut config = match spec.arch {
        TinyArch::DistilBert => json!({
            "model_type": "distilbert", "dim": h, "n_layers": spec.layers, "n_heads": spec.heads,
            "hidden_dim": i, "activation": "gelu", "max_position_embeddings": max_pos,
            "vocab_size": vocab, "pad_token_id": pad, "sinusoidal_pos_embds": false,
        }),
        _ => json!({
            "model_type": if spec.arch == TinyArch::Bert { "bert" } else { "xlm-roberta" },
            "hidden_size": h, "num_hidden_layers": spec.layers, "num_attention_heads": spec.heads,
            "intermediate_size": i, "hidden_act": "gelu", "max_position_embeddings": max_pos,
            "vocab_size": vocab, "type_vocab_size": type_vocab, "pad_token_id": pad,
            "layer_norm_eps": 1e-12, "position_embedding_type": "absolute",
        }),
    };
    let arch_name = if let Some(labels) = &spec.labels {
        let k = labels.len();
        match spec.arch {
            TinyArch::Bert => w.linear("classifier", k, h)?,
            TinyArch::XlmRoberta => {
                w.linear("classifier.dense", h, h)?;
                w.linear("classifier.out_proj", k, h)?;
            }
            TinyArch::DistilBert => {
                w.linear("pre_classifier", h, h)?;
                w.linear("classifier", k, h)?;
            }
        }
        let id2label: serde_json::Map<String, Value> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), json!(l)))
            .collect();
        config["id2label"] = Value::Object(id2label);
        format!("{family}ForSequenceClassification")
    } else {
        format!("{family}Model")
    };
    config["architectures"] = json!([arch_name]);

    let write = |name: &str, v: &Value| -> Result<()> {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ModelError::io(parent, e))?;
        }
        let text =
            serde_json::to_string_pretty(v).map_err(|e| ModelError::Config(e.to_string()))?;
        std::fs::write(&p, text).map_err(|e| ModelError::io(&p, e))
    };
    write("config.json", &config)?;
    write("tokenizer.json", &tokenizer)?;
    if let Some(pooling) = spec.pooling {
        write(
            "modules.json",
            &json!([
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            ]),
        )?;
        let cls = pooling == super::Pooling::Cls;
        write(
            "1_Pooling/config.json",
            &json!({"word_embedding_dimension": h, "pooling_mode_cls_token": cls,
                    "pooling_mode_mean_tokens": !cls}),
        )?;
    }
    candle_core::safetensors::save(&w.tensors, dir.join("model.safetensors"))?;
    Ok(())
}
