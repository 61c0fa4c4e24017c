//! Quotes that stand for a group of segments: central to it, unlike each other, each text once.
//!
//! Chosen in two streaming passes over the run's embeddings, so no group's embeddings are
//! ever all in memory: [`Centroids`] sums each group's vectors, then [`Picker`] keeps each
//! group's most central candidates (a bounded number) and runs maximal marginal relevance
//! on them. The result depends only on the segments, not on how they were chunked.

use std::collections::BTreeMap;

use super::facts::{Fact, Group, Quote, Quotes};
use crate::model::dot;

/// Sum of each group's embeddings, in segment order (so the float sums are reproducible).
pub struct Centroids {
    dim: usize,
    sums: BTreeMap<Group, Vec<f32>>,
}

impl Centroids {
    pub fn new(dim: usize) -> Self {
        Centroids {
            dim,
            sums: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, fact: &Fact, emb: &[f32]) {
        if emb.len() != self.dim {
            return;
        }
        for g in fact.groups() {
            let sum = self.sums.entry(g).or_insert_with(|| vec![0f32; emb.len()]);
            sum.iter_mut().zip(emb).for_each(|(s, v)| *s += v);
        }
    }

    /// Unit-length centroids.
    fn finish(self) -> BTreeMap<Group, Vec<f32>> {
        self.sums
            .into_iter()
            .map(|(g, mut c)| {
                let norm = c.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-9);
                c.iter_mut().for_each(|v| *v /= norm);
                (g, c)
            })
            .collect()
    }
}

struct Candidate {
    quote: Quote,
    embedding: Vec<f32>,
    relevance: f32,
}

/// Keeps, per group, the `keep` most central distinct texts seen so far (the first segment
/// id of each text; ties by segment id), then picks quotes from them by MMR. The candidates
/// are exactly the `keep` best of all the group's distinct texts, whatever the order they
/// came in: a text's earliest id always beats its later ones, and a candidate dropped once
/// has `keep` better ones that stay.
pub struct Picker {
    centroids: BTreeMap<Group, Vec<f32>>,
    groups: BTreeMap<Group, Vec<Candidate>>,
    keep: usize,
}

/// Very short segments ("ok") make poor evidence: they come after every longer one.
fn relevance(text: &str, emb: &[f32], centroid: &[f32]) -> f32 {
    let short = if text.split_whitespace().count() < 4 {
        1.0
    } else {
        0.0
    };
    dot(emb, centroid) - short
}

impl Picker {
    /// `quotes_per_cell` bounds what MMR may pick; eight times as many candidates (at least
    /// 16) are kept, ample for its diversity term to choose among.
    pub fn new(centroids: Centroids, quotes_per_cell: usize) -> Self {
        Picker {
            centroids: centroids.finish(),
            groups: BTreeMap::new(),
            keep: (8 * quotes_per_cell).max(16),
        }
    }

    /// Offers one analysed segment to each of its groups; `quote` builds its quote.
    pub fn offer(&mut self, fact: &Fact, emb: &[f32], text: &str, quote: impl Fn() -> Quote) {
        for g in fact.groups() {
            let Some(c) = self.centroids.get(&g) else {
                continue;
            };
            if c.len() != emb.len() {
                continue;
            }
            let rel = relevance(text, emb, c);
            let list = self.groups.entry(g).or_default();
            list.push(Candidate {
                quote: quote(),
                embedding: emb.to_vec(),
                relevance: rel,
            });
            if list.len() >= 2 * self.keep {
                prune(list, self.keep);
            }
        }
    }

    /// Ranked quotes of each cell (up to `k`) and the most central segment of each theme.
    pub fn finish(mut self, k: usize) -> Quotes {
        let mut out = Quotes::default();
        for (g, list) in self.groups.iter_mut() {
            prune(list, self.keep);
            match *g {
                Group::Cell(t, s) => {
                    let picked = mmr(list, k);
                    out.cells.insert(
                        (t, s),
                        picked.into_iter().map(|i| list[i].quote.clone()).collect(),
                    );
                }
                Group::Theme(t) => {
                    if let Some(i) = mmr(list, 1).first() {
                        out.representative
                            .insert(t, list[*i].quote.segment_id.clone());
                    }
                }
            }
        }
        out
    }
}

/// One candidate per text (the earliest segment id), the `keep` most relevant, in segment-id
/// order.
fn prune(list: &mut Vec<Candidate>, keep: usize) {
    list.sort_by(|a, b| {
        a.quote
            .text
            .cmp(&b.quote.text)
            .then_with(|| a.quote.segment_id.cmp(&b.quote.segment_id))
    });
    list.dedup_by(|later, first| later.quote.text == first.quote.text);
    list.sort_by(|a, b| {
        b.relevance
            .total_cmp(&a.relevance)
            .then_with(|| a.quote.segment_id.cmp(&b.quote.segment_id))
    });
    list.truncate(keep);
    list.sort_by(|a, b| a.quote.segment_id.cmp(&b.quote.segment_id));
}

/// Maximal marginal relevance over candidates in segment-id order: the most central first,
/// then the one most central yet least like those already chosen (ties: the earliest id).
fn mmr(items: &[Candidate], k: usize) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < k && chosen.len() < items.len() {
        let best = (0..items.len())
            .filter(|i| !chosen.contains(i))
            .map(|i| {
                let redundancy = chosen
                    .iter()
                    .map(|&s| dot(&items[s].embedding, &items[i].embedding))
                    .fold(0f32, f32::max);
                (i, 0.7 * items[i].relevance - 0.3 * redundancy)
            })
            .fold(None, |b: Option<(usize, f32)>, (i, s)| {
                if b.is_none_or(|(_, bs)| s > bs) {
                    Some((i, s))
                } else {
                    b
                }
            });
        match best {
            Some((i, _)) => chosen.push(i),
            None => break,
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Role, Sentiment};

    fn quote(id: &str, text: &str) -> Quote {
        Quote {
            segment_id: id.into(),
            doc_id: id.into(),
            text: text.into(),
            lang: "fi".into(),
            sentiment: Sentiment::Negative,
            speaker: None,
            role: Role::Respondent,
            source_file: "f.csv".into(),
            source_row: None,
            t_start: None,
            score: None,
        }
    }

    /// The cell's quotes when the rows are offered in `order`, with `keep` candidates.
    fn pick(rows: &[(&str, &str, [f32; 2])], keep: usize, order: &[usize]) -> Vec<String> {
        let fact = Fact {
            doc: 0,
            sentiment: Sentiment::Negative,
            sentiment_score: -1.0,
            themes: vec![0],
            stage: Some(0),
            root_cause: None,
        };
        let mut c = Centroids::new(2);
        for (_, _, e) in rows {
            c.add(&fact, e);
        }
        let mut p = Picker::new(c, 4);
        p.keep = keep;
        for &i in order {
            let (id, text, e) = rows[i];
            p.offer(&fact, &e, text, || quote(id, text));
        }
        let q = p.finish(4);
        q.cells[&(0, 0)]
            .iter()
            .map(|q| q.segment_id.clone())
            .collect()
    }

    #[test]
    fn quotes_are_central_diverse_and_each_text_once() {
        // Rows 0 and 3 say the same thing; in id order they are not neighbours.
        let same = "Laskussa oli sama maksu kahteen kertaan";
        let rows = [
            ("d1:1", same, [1.0, 0.0]),
            ("d2:1", "Lasku tuli kahdesti samalta kuulta", [0.9, 0.436]),
            ("d3:1", "ok", [0.0, 1.0]),
            ("d9:1", same, [1.0, 0.0]),
        ];
        // All candidates kept: three distinct texts, the most central first (the centroid
        // leans towards d2), the short "ok" last.
        assert_eq!(pick(&rows, 16, &[0, 1, 2, 3]), ["d2:1", "d1:1", "d3:1"]);
        // Two kept (pruned as rows come): the earliest id stands for the repeated text and
        // the least central text is the one dropped, in whatever order the rows come
        // (chunks, shards).
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 3, 0, 1]] {
            assert_eq!(pick(&rows, 2, &order), ["d2:1", "d1:1"], "{order:?}");
        }
    }
}
