//! Quotes that stand for a group of segments: central to it, unlike each other, each text once.

use super::Row;
use crate::model::{dot, Embeddings};

/// Representative and diverse quotes of a group of rows (see [`mmr`]).
pub(super) fn pick_quotes<'a>(
    members: &[&'a Row<'a>],
    emb: &Embeddings,
    k: usize,
) -> Vec<&'a Row<'a>> {
    let items: Vec<(&str, &str, usize)> = members
        .iter()
        .map(|r| (r.seg.segment_id.as_str(), r.seg.text.as_str(), r.idx))
        .collect();
    mmr(&items, emb, k)
        .into_iter()
        .map(|i| members[i])
        .collect()
}

/// Picks up to `k` of `items` (segment id, text, embedding row) by maximal marginal relevance:
/// the one closest to the group's centroid first, then the one most central yet least like
/// those already chosen. A text is quoted once however often it was said; very short
/// segments ("ok") make poor evidence and come last. Returns positions in `items`.
fn mmr(items: &[(&str, &str, usize)], emb: &Embeddings, k: usize) -> Vec<usize> {
    if items.is_empty() || k == 0 || emb.is_empty() {
        return Vec::new();
    }
    let mut centroid = vec![0f32; emb.dim];
    for &(_, _, row) in items {
        for (c, v) in centroid.iter_mut().zip(emb.row(row)) {
            *c += v;
        }
    }
    let norm = centroid.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-9);
    centroid.iter_mut().for_each(|v| *v /= norm);
    // In segment-id order, the first segment of each distinct text.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|a, b| items[*a].0.cmp(items[*b].0));
    let mut seen = std::collections::HashSet::new();
    order.retain(|&i| seen.insert(items[i].1));
    let relevance: Vec<f32> = order
        .iter()
        .map(|&i| {
            let (_, text, row) = items[i];
            let short = if text.split_whitespace().count() < 4 {
                1.0
            } else {
                0.0
            };
            dot(emb.row(row), &centroid) - short
        })
        .collect();
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < k && chosen.len() < order.len() {
        let best = order
            .iter()
            .zip(&relevance)
            .filter(|(i, _)| !chosen.contains(i))
            .map(|(&i, rel)| {
                let redundancy = chosen
                    .iter()
                    .map(|&s| dot(emb.row(items[s].2), emb.row(items[i].2)))
                    .fold(0f32, f32::max);
                (i, 0.7 * rel - 0.3 * redundancy)
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

    #[test]
    fn quotes_are_central_diverse_and_each_text_once() {
        // Rows 0 and 3 say the same thing; in id order they are not neighbours.
        let emb = Embeddings {
            dim: 2,
            data: vec![1.0, 0.0, 0.9, 0.436, 0.0, 1.0, 1.0, 0.0],
        };
        let same = "Laskussa oli sama maksu kahteen kertaan";
        let items = [
            ("d1:1", same, 0),
            ("d2:1", "Lasku tuli kahdesti samalta kuulta", 1),
            ("d3:1", "ok", 2),
            ("d9:1", same, 3),
        ];
        let picked = mmr(&items, &emb, 4);
        let texts: Vec<&str> = picked.iter().map(|&i| items[i].1).collect();
        assert_eq!(texts.len(), 3, "{texts:?}");
        assert_eq!(texts.iter().filter(|t| **t == same).count(), 1, "{texts:?}");
        // The short "ok" comes last; the earliest id stands for the repeated text.
        assert_eq!(picked.last(), Some(&2));
        assert!(picked.contains(&0) && !picked.contains(&3));
    }
}
