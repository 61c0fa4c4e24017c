//! BERT / XLM-RoBERTa / DistilBERT encoder stacks on candle tensors.
//!
//! candle-transformers' models take padded batches with a rectangular mask and do not expose
//! the pooler or DistilBERT's classifier; this thin implementation runs packed (unpadded)
//! batches instead, with candle's gemm for the matrix products (palaute's own on AVX2-only
//! CPUs, `kernels::matmul`; int8 ones in `int8`) and fused kernels for the rest.

use candle_core::{Device, Storage, Tensor};

use super::config::{Family, HeadKind, HfConfig};
use super::error::{ModelError, Result};
use super::int8::QuantLinear;
use super::kernels;
use super::weights::SafeTensors;

mod forward;
mod params;
pub use params::LayerParams;

struct Linear {
    /// `(out, in)` as stored by PyTorch; multiplied as `x · wᵀ`.
    w: Tensor,
    b: Vec<f32>,
    /// The same weights in int8 when the encoder runs at that precision (the f32 ones stay:
    /// adapting layers trains them, and the int8 copy is re-derived from them).
    q: Option<QuantLinear>,
    /// The f32 weights packed for the AVX2 product ([`kernels::matmul`]), made at its first
    /// use and dropped when the weights change: only AVX2-only CPUs pay its memory.
    packed: std::sync::OnceLock<kernels::matmul::PackedF32>,
}

impl Linear {
    fn new(w: Vec<f32>, b: Vec<f32>, out: usize, inp: usize) -> Result<Linear> {
        Ok(Linear {
            w: Tensor::from_vec(w, (out, inp), &Device::Cpu)?,
            b,
            q: None,
            packed: std::sync::OnceLock::new(),
        })
    }

    /// Width of the input (`in` of the `(out, in)` weights).
    fn in_features(&self) -> usize {
        self.w.elem_count() / self.b.len()
    }

    fn quantize(&mut self, on: bool) -> Result<()> {
        self.q = match on {
            true => {
                let (out, inp) = self.w.dims2()?;
                if inp > super::int8::MAX_INPUTS {
                    return Err(ModelError::Config(format!(
                        "a linear layer with {inp} inputs cannot run in int8 (at most {})",
                        super::int8::MAX_INPUTS
                    )));
                }
                Some(with_slice(&self.w, |w| QuantLinear::new(w, out, inp))?)
            }
            false => None,
        };
        Ok(())
    }
}

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

struct Layer {
    /// Query, key and value stacked into one `(3h, h)` projection: one gemm instead of three.
    qkv: Linear,
    out: Linear,
    norm1: Norm,
    up: Linear,
    down: Linear,
    norm2: Norm,
}

#[derive(Clone, Copy)]
enum HeadAct {
    Tanh,
    Relu,
}

struct ClassifierHead {
    pre: Linear,
    pre_act: HeadAct,
    out: Linear,
}

pub struct Transformer {
    pub cfg: HfConfig,
    hidden: usize,
    word: Vec<f32>,
    vocab_rows: usize,
    pos: Vec<f32>,
    token_type: Option<Vec<f32>>,
    emb_norm: Norm,
    layers: Vec<Layer>,
    head: Option<ClassifierHead>,
    eps: f32,
    /// Buffers of the forward pass, kept between batches ([`forward::Scratch`]).
    scratch: std::sync::Mutex<forward::Scratch>,
}

/// Weight-name conventions of one architecture family.
struct Names {
    prefix: String,
    family: Family,
}

impl Names {
    fn emb(&self, what: &str) -> String {
        format!("{}embeddings.{what}", self.prefix)
    }
    fn layer(&self, i: usize, what: &str) -> String {
        match self.family {
            Family::DistilBert => format!("{}transformer.layer.{i}.{what}", self.prefix),
            _ => format!("{}encoder.layer.{i}.{what}", self.prefix),
        }
    }
}

struct Loader<'a> {
    st: &'a mut SafeTensors,
}

impl Loader<'_> {
    fn vec(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        self.st.read_f32(name, shape)
    }

    fn linear(&mut self, base: &str, out: usize, inp: usize) -> Result<Linear> {
        let w = self.vec(&format!("{base}.weight"), &[out, inp])?;
        let b = self.vec(&format!("{base}.bias"), &[out])?;
        Linear::new(w, b, out, inp)
    }

    /// Stacks several `(out_i, in)` projections into one.
    fn stacked(&mut self, bases: &[String], out: usize, inp: usize) -> Result<Linear> {
        let mut w = Vec::with_capacity(bases.len() * out * inp);
        let mut b = Vec::with_capacity(bases.len() * out);
        for base in bases {
            w.extend(self.vec(&format!("{base}.weight"), &[out, inp])?);
            b.extend(self.vec(&format!("{base}.bias"), &[out])?);
        }
        Linear::new(w, b, bases.len() * out, inp)
    }

    /// Old TF-converted checkpoints name layer-norm parameters gamma/beta.
    fn norm(&mut self, base: &str, h: usize) -> Result<Norm> {
        let (g, b) = if self.st.contains(&format!("{base}.weight")) {
            ("weight", "bias")
        } else if self.st.contains(&format!("{base}.gamma")) {
            ("gamma", "beta")
        } else {
            ("weight", "bias")
        };
        Ok(Norm {
            gamma: self.vec(&format!("{base}.{g}"), &[h])?,
            beta: self.vec(&format!("{base}.{b}"), &[h])?,
        })
    }
}

const PREFIXES: &[&str] = &["", "bert.", "roberta.", "distilbert.", "model."];

impl Transformer {
    /// Loads the weights `cfg` describes. `min_vocab` is the tokenizer's vocabulary size: the
    /// embedding table must have at least that many rows.
    pub fn load(cfg: HfConfig, st: &mut SafeTensors, min_vocab: usize) -> Result<Self> {
        let prefix = PREFIXES
            .iter()
            .find(|p| st.contains(&format!("{p}embeddings.word_embeddings.weight")))
            .ok_or_else(|| ModelError::MissingTensor {
                tensor: "embeddings.word_embeddings.weight".to_string(),
                path: st.path().to_path_buf(),
            })?;
        let names = Names {
            prefix: prefix.to_string(),
            family: cfg.family,
        };
        let h = cfg.hidden_size;
        let word_name = names.emb("word_embeddings.weight");
        let vocab_rows = match st.shape(&word_name) {
            Some([rows, cols]) if *cols == h => *rows,
            other => {
                return Err(ModelError::TensorShape {
                    tensor: word_name,
                    found: other.map(<[usize]>::to_vec).unwrap_or_default(),
                    expected: vec![cfg.vocab_size, h],
                })
            }
        };
        if min_vocab > vocab_rows {
            return Err(ModelError::VocabMismatch {
                tokenizer_vocab: min_vocab,
                embedding_rows: vocab_rows,
            });
        }
        // Fail on a bad dtype before reading hundreds of megabytes of other tensors.
        st.check_dtype(&word_name)?;

        let mut ld = Loader { st };
        let word = ld.vec(&word_name, &[vocab_rows, h])?;
        let pos = ld.vec(
            &names.emb("position_embeddings.weight"),
            &[cfg.max_position_embeddings, h],
        )?;
        let token_type = if cfg.family != Family::DistilBert && cfg.type_vocab_size > 0 {
            let all = ld.vec(
                &names.emb("token_type_embeddings.weight"),
                &[cfg.type_vocab_size, h],
            )?;
            // Single-segment inputs only ever use token type 0.
            Some(all[..h].to_vec())
        } else {
            None
        };
        let emb_norm = ld.norm(&names.emb("LayerNorm"), h)?;

        let i = cfg.intermediate_size;
        let mut layers = Vec::with_capacity(cfg.num_layers);
        for l in 0..cfg.num_layers {
            let n = |s: &str| names.layer(l, s);
            let layer = match cfg.family {
                Family::DistilBert => Layer {
                    qkv: ld.stacked(
                        &[
                            n("attention.q_lin"),
                            n("attention.k_lin"),
                            n("attention.v_lin"),
                        ],
                        h,
                        h,
                    )?,
                    out: ld.linear(&n("attention.out_lin"), h, h)?,
                    norm1: ld.norm(&n("sa_layer_norm"), h)?,
                    up: ld.linear(&n("ffn.lin1"), i, h)?,
                    down: ld.linear(&n("ffn.lin2"), h, i)?,
                    norm2: ld.norm(&n("output_layer_norm"), h)?,
                },
                _ => Layer {
                    qkv: ld.stacked(
                        &[
                            n("attention.self.query"),
                            n("attention.self.key"),
                            n("attention.self.value"),
                        ],
                        h,
                        h,
                    )?,
                    out: ld.linear(&n("attention.output.dense"), h, h)?,
                    norm1: ld.norm(&n("attention.output.LayerNorm"), h)?,
                    up: ld.linear(&n("intermediate.dense"), i, h)?,
                    down: ld.linear(&n("output.dense"), h, i)?,
                    norm2: ld.norm(&n("output.LayerNorm"), h)?,
                },
            };
            layers.push(layer);
        }

        let head = if cfg.head == HeadKind::SequenceClassification {
            let labels = cfg.labels.len();
            if labels == 0 {
                return Err(ModelError::Config(format!(
                    "{} has no id2label in config.json",
                    cfg.architecture
                )));
            }
            Some(match cfg.family {
                Family::Bert => ClassifierHead {
                    pre: ld.linear(&format!("{prefix}pooler.dense"), h, h)?,
                    pre_act: HeadAct::Tanh,
                    out: ld.linear("classifier", labels, h)?,
                },
                Family::XlmRoberta => ClassifierHead {
                    pre: ld.linear("classifier.dense", h, h)?,
                    pre_act: HeadAct::Tanh,
                    out: ld.linear("classifier.out_proj", labels, h)?,
                },
                Family::DistilBert => ClassifierHead {
                    pre: ld.linear("pre_classifier", h, h)?,
                    pre_act: HeadAct::Relu,
                    out: ld.linear("classifier", labels, h)?,
                },
            })
        } else {
            None
        };

        Ok(Transformer {
            eps: cfg.layer_norm_eps as f32,
            hidden: h,
            word,
            vocab_rows,
            pos,
            token_type,
            emb_norm,
            layers,
            head,
            cfg,
            scratch: Default::default(),
        })
    }

    pub fn hidden(&self) -> usize {
        self.hidden
    }

    pub fn has_classifier(&self) -> bool {
        self.head.is_some()
    }

    /// Final hidden states of packed sequences: `(total tokens, hidden)` row-major, rows of
    /// sequence `s` at `offsets[s]..offsets[s + 1]`.
    pub fn forward(&self, seqs: &[&[u32]]) -> Result<(Vec<f32>, Vec<usize>)> {
        self.forward_until(seqs, self.layers.len())
    }

    /// Runs the layers' linear projections in int8 (`true`) or f32. The classifier head of a
    /// sequence-classification model stays f32: it is two small products per text.
    pub fn set_int8(&mut self, on: bool) -> Result<()> {
        if self.is_int8() == on {
            return Ok(());
        }
        for l in &mut self.layers {
            for lin in [&mut l.qkv, &mut l.out, &mut l.up, &mut l.down] {
                lin.quantize(on)?;
            }
        }
        Ok(())
    }

    pub fn is_int8(&self) -> bool {
        self.layers.first().is_some_and(|l| l.qkv.q.is_some())
    }

    /// Number of transformer layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Hidden states entering layer `stop` (the final ones when `stop` is the layer count):
    /// what adapting the layers from `stop` on starts from, computed once.
    pub fn forward_until(&self, seqs: &[&[u32]], stop: usize) -> Result<(Vec<f32>, Vec<usize>)> {
        let mut offsets = Vec::with_capacity(seqs.len() + 1);
        offsets.push(0);
        let mut ids = Vec::new();
        let mut positions = Vec::new();
        let offset = self.cfg.position_offset() as u32;
        for s in seqs {
            if s.len() + self.cfg.position_offset() > self.cfg.max_position_embeddings {
                return Err(ModelError::Config(format!(
                    "sequence of {} tokens exceeds the model's {} positions",
                    s.len(),
                    self.cfg.max_len()
                )));
            }
            if let Some(&bad) = s.iter().find(|&&t| t as usize >= self.vocab_rows) {
                return Err(ModelError::Tokenizer(format!(
                    "token id {bad} is outside the model's vocabulary of {}",
                    self.vocab_rows
                )));
            }
            ids.extend_from_slice(s);
            positions.extend((0..s.len() as u32).map(|p| p + offset));
            offsets.push(ids.len());
        }
        if ids.is_empty() {
            return Ok((Vec::new(), offsets));
        }
        let out = forward::with_scratch(&self.scratch, |s| {
            self.run_layers(s, &ids, &positions, &offsets, stop)
        })?;
        Ok((out, offsets))
    }

    /// Number of attention heads and the activation of the feed-forward block: what a
    /// differentiable copy of a layer needs besides its parameters.
    pub fn layer_shape(&self) -> (usize, super::config::Activation, f32) {
        (self.cfg.num_heads, self.cfg.activation, self.eps)
    }

    /// Class logits from the first-token states `cls` (`n x hidden`, row-major).
    pub fn classify_logits(&self, cls: Vec<f32>) -> Result<Vec<f32>> {
        let head = self
            .head
            .as_ref()
            .ok_or_else(|| ModelError::NotAClassifier {
                id: String::new(),
                architecture: self.cfg.architecture.clone(),
            })?;
        let mut pre = head.pre.apply(&cls)?;
        for row in pre.chunks_exact_mut(self.hidden) {
            for (v, b) in row.iter_mut().zip(&head.pre.b) {
                let z = *v + b;
                *v = match head.pre_act {
                    HeadAct::Tanh => z.tanh(),
                    HeadAct::Relu => z.max(0.0),
                };
            }
        }
        let mut logits = head.out.apply(&pre)?;
        let k = head.out.b.len();
        for row in logits.chunks_exact_mut(k) {
            for (v, b) in row.iter_mut().zip(&head.out.b) {
                *v += b;
            }
        }
        Ok(logits)
    }
}

/// Runs `f` on the contiguous f32 data of a CPU tensor without copying it.
fn with_slice<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else {
        return Err(ModelError::Config(
            "encoder runs on CPU tensors only".into(),
        ));
    };
    let data = cpu.as_slice::<f32>()?;
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| ModelError::Config("internal: non-contiguous activation".into()))?;
    Ok(f(&data[start..end]))
}

impl std::fmt::Debug for Transformer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transformer")
            .field("architecture", &self.cfg.architecture)
            .field("hidden", &self.hidden)
            .field("layers", &self.layers.len())
            .finish()
    }
}
