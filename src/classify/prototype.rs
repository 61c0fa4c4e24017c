//! Zero-shot classification by similarity to prototypes: each class is the normalised mean
//! embedding of its names (embedded as queries, as E5 expects for short label texts) and, when
//! a codebook provides them, its descriptions and examples. Used when a codebook has no
//! examples to train a head on, and by `palaute eval` for label-name-only codebooks.

use super::codebook::Codebook;
use crate::model::{Embeddings, InputKind, Result, TextEncoder};

pub struct Prototypes {
    pub ids: Vec<String>,
    vectors: Vec<Vec<f32>>,
}

fn normalised_mean(rows: impl Iterator<Item = Vec<f32>>) -> Vec<f32> {
    let mut sum: Vec<f32> = Vec::new();
    for r in rows {
        if sum.is_empty() {
            sum = vec![0.0; r.len()];
        }
        sum.iter_mut().zip(&r).for_each(|(s, v)| *s += v);
    }
    let n = sum.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-9);
    sum.into_iter().map(|v| v / n).collect()
}

/// "science/technology" reads better to an encoder as "science and technology".
fn readable(name: &str) -> String {
    name.replace(['/', '_'], " and ").replace("  ", " ")
}

impl Prototypes {
    /// Classes given only by name.
    pub fn from_names(names: &[String], encoder: &dyn TextEncoder) -> Result<Self> {
        let texts: Vec<String> = names.iter().map(|n| readable(n)).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let emb = encoder.embed(&refs, InputKind::Query)?;
        Ok(Prototypes {
            ids: names.to_vec(),
            vectors: emb.rows().map(<[f32]>::to_vec).collect(),
        })
    }

    /// Classes from a codebook: labels in every language as queries, descriptions and
    /// examples as passages; all averaged into one direction per item.
    pub fn from_codebook(cb: &Codebook, encoder: &dyn TextEncoder) -> Result<Self> {
        let mut vectors = Vec::new();
        for item in &cb.items {
            let labels: Vec<String> = if item.label.is_empty() {
                vec![readable(&item.id)]
            } else {
                item.label.values().cloned().collect()
            };
            let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
            let mut rows: Vec<Vec<f32>> = encoder
                .embed(&label_refs, InputKind::Query)?
                .rows()
                .map(<[f32]>::to_vec)
                .collect();
            let passages: Vec<&str> = item
                .description
                .values()
                .map(String::as_str)
                .chain(item.all_examples())
                .collect();
            if !passages.is_empty() {
                rows.extend(
                    encoder
                        .embed(&passages, InputKind::Passage)?
                        .rows()
                        .map(<[f32]>::to_vec),
                );
            }
            vectors.push(normalised_mean(rows.into_iter()));
        }
        Ok(Prototypes {
            ids: cb.ids().iter().map(|s| s.to_string()).collect(),
            vectors,
        })
    }

    /// Cosine similarity of each row to each prototype.
    pub fn scores(&self, emb: &Embeddings) -> Vec<Vec<f32>> {
        emb.rows()
            .map(|r| {
                self.vectors
                    .iter()
                    .map(|p| p.iter().zip(r).map(|(a, b)| a * b).sum())
                    .collect()
            })
            .collect()
    }
}
