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
        self.scores_rows(emb.rows())
    }

    /// Like [`scores`](Self::scores), after removing each language's mean from its rows
    /// (see [`center_by_language`]).
    pub fn scores_centered(&self, emb: &Embeddings, langs: &[&str]) -> Vec<Vec<f32>> {
        let centered = center_by_language(emb, langs);
        self.scores_rows(centered.rows())
    }

    /// The best prototype's id for each row (ties: the first).
    pub fn best<'a>(&'a self, scores: &[Vec<f32>]) -> Vec<&'a str> {
        scores
            .iter()
            .map(|s| {
                let j = s
                    .iter()
                    .enumerate()
                    .fold(0, |b, (j, v)| if *v > s[b] { j } else { b });
                self.ids[j].as_str()
            })
            .collect()
    }

    fn scores_rows<'a>(&self, rows: impl Iterator<Item = &'a [f32]>) -> Vec<Vec<f32>> {
        rows.map(|r| {
            self.vectors
                .iter()
                .map(|p| p.iter().zip(r).map(|(a, b)| a * b).sum())
                .collect()
        })
        .collect()
    }
}

/// Fewest rows of one language whose mean is trusted as that language's offset.
pub const MIN_ROWS_TO_CENTER: usize = 30;

/// Multilingual encoders place each language (and each corpus) around its own offset, which
/// pulls all of a language's rows towards whichever prototype sits nearest that offset.
/// Subtracting each language's mean over the batch and renormalising removes it (Libovický
/// et al. 2020, "On the language neutrality of pre-trained multilingual representations").
/// Measured on SIB-200 fi/sv/en zero-shot topics: accuracy 0.69 → 0.74. Languages with fewer
/// than [`MIN_ROWS_TO_CENTER`] rows use the mean of all rows instead; a batch smaller than
/// that is left as it is. Deterministic: the means are summed in row order.
pub fn center_by_language(emb: &Embeddings, langs: &[&str]) -> Embeddings {
    let d = emb.dim;
    let mean_of = |idx: &[usize]| -> Vec<f32> {
        let mut m = vec![0f64; d];
        for &i in idx {
            m.iter_mut()
                .zip(emb.row(i))
                .for_each(|(a, v)| *a += f64::from(*v));
        }
        m.into_iter()
            .map(|v| (v / idx.len() as f64) as f32)
            .collect()
    };
    let all: Vec<usize> = (0..emb.len()).collect();
    if all.len() < MIN_ROWS_TO_CENTER {
        return emb.clone();
    }
    let global = mean_of(&all);
    let mut by_lang: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, l) in langs.iter().enumerate().take(emb.len()) {
        by_lang.entry(l).or_default().push(i);
    }
    let mut mean_for = vec![global.clone(); emb.len()];
    for idx in by_lang.values() {
        if idx.len() >= MIN_ROWS_TO_CENTER {
            let m = mean_of(idx);
            for &i in idx {
                mean_for[i] = m.clone();
            }
        }
    }
    let mut data = Vec::with_capacity(emb.data.len());
    for (i, m) in mean_for.iter().enumerate() {
        let mut row: Vec<f32> = emb.row(i).iter().zip(m).map(|(v, m)| v - m).collect();
        let n = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-9);
        row.iter_mut().for_each(|v| *v /= n);
        data.extend(row);
    }
    Embeddings { dim: d, data }
}
