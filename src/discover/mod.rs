//! Emergent themes: negative segments that no codebook theme explains are clustered by their
//! sentence embeddings (average-linkage agglomerative clustering on cosine similarity) and each
//! cluster is named by c-TF-IDF keywords and a representative quote. A cluster with no keyword
//! (its members are stop words only: non-answers such as "Not really.") is no theme.
//!
//! Deterministic by construction: work is ordered by item id (input order is irrelevant),
//! every similarity is computed independently of thread scheduling, every tie is broken by
//! id. Members of no theme are the unexplained remainder: `items.len()` minus the summed
//! `members.len()` (themes are disjoint).
//!
//! ## Choosing `merge_similarity`
//! Feedback about one company is one domain, and E5 places all of it close together: with
//! multilingual-e5-small (`passage: ` prefix) sentences of *different* intents in BANKING77
//! average cosine 0.83 (95th percentile 0.89) against 0.89 within an intent. Thresholds that
//! look strict elsewhere (0.80–0.85) therefore merge nearly everything into a few blobs.
//! BCubed F1 of the cut (clusters under `min_cluster_size` counted as unexplained
//! singletons), average linkage, by threshold:
//!
//! | data | 0.84 | 0.86 | 0.87 | 0.88 | 0.89 | 0.90 |
//! |---|---|---|---|---|---|---|
//! | BANKING77, 1000 queries, 77 intents | .12 | .32 | .37 | .41 | .44 | .45 |
//! | Bitext support, 978, 27 intents | .12 | .41 | .53 | .61 | .63 | .60 |
//! | Bitext support, 11 categories | .25 | .54 | .56 | .54 | .47 | .42 |
//! | 84 fi/sv/en complaints, 7 themes × language | – | .44 | .50 | .50 | .50 | .49 |
//!
//! 0.88 sits between the fine (intent) and coarse (category) optimum and, unlike 0.89, keeps
//! most of a small corpus explained (82 % against 54 % on the 84 complaints). Two caveats that
//! a different model or corpus changes: E5 scores same-language pairs higher than translations
//! (0.89 against 0.85 for the same complaint), so a theme voiced in Finnish and in English
//! tends to come out as two themes; and another encoder needs its own threshold.

mod cluster;
mod keywords;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use keywords::Doc;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoverConfig {
    /// Clusters with fewer members stay unexplained: one or two similar complaints are an
    /// anecdote rather than a theme, and keywords from one or two sentences merely repeat them.
    /// Values below 1 act as 1.
    pub min_cluster_size: usize,
    /// Average-linkage cosine similarity at which clusters stop merging: two clusters join only
    /// while the mean similarity over all their cross pairs is at least this. E5 embeddings
    /// compress cosines into about 0.7–1.0 (unrelated sentences of one domain still score
    /// ~0.83), so useful thresholds are high; 0.88 was chosen on multilingual-e5-small (see the
    /// module documentation for the measurements).
    pub merge_similarity: f32,
    /// Bound on points clustered (the similarity matrix takes 4·n² bytes). Beyond it a
    /// deterministic sample (by id hash) is clustered and every other point joins the cluster
    /// whose average similarity to it is highest, if that reaches `merge_similarity`.
    pub max_points: usize,
    /// Keywords per theme.
    pub keywords: usize,
}

impl Default for DiscoverConfig {
    fn default() -> Self {
        DiscoverConfig {
            min_cluster_size: 3,
            merge_similarity: 0.88,
            max_points: 4000,
            keywords: 5,
        }
    }
}

/// One unexplained negative segment. `lang` is an ISO 639 code or BCP 47 tag (`fi`, `sv`,
/// `en`; anything else, such as `und`, uses every stop list and no stemming).
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub id: &'a str,
    pub text: &'a str,
    pub lang: &'a str,
    /// L2-normalised sentence embedding. Items whose embedding is empty, not finite, zero or
    /// of a different length than most items' are never clustered.
    pub embedding: &'a [f32],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmergentTheme {
    /// `emergent_1`, `emergent_2`, … by size descending, then by smallest member id.
    pub id: String,
    /// The top three keywords joined by " / ".
    pub label: String,
    /// Display forms: the most frequent surface word of each top stem in the cluster; never
    /// empty.
    pub keywords: Vec<String>,
    /// Indices into the input slice, ascending.
    pub members: Vec<usize>,
    /// The member closest to the cluster centroid (ties → smallest id).
    pub representative: usize,
}

/// Items that take part, in id order, with their norms.
struct Prepared<'a> {
    order: Vec<usize>,
    vectors: Vec<&'a [f32]>,
    norms: Vec<f64>,
}

fn by_id(items: &[Item], a: usize, b: usize) -> Ordering {
    let (x, y) = (&items[a], &items[b]);
    (x.id, x.text, x.lang)
        .cmp(&(y.id, y.text, y.lang))
        .then_with(|| a.cmp(&b))
}

fn prepare<'a>(items: &[Item<'a>]) -> Prepared<'a> {
    // The most common embedding length (ties → the shorter) defines the space; a stray vector
    // of another model cannot be compared with the rest.
    let mut lens: Vec<usize> = items
        .iter()
        .map(|i| i.embedding.len())
        .filter(|&l| l > 0)
        .collect();
    lens.sort_unstable();
    let mut dim = 0;
    let mut best = 0;
    for run in lens.chunk_by(|a, b| a == b) {
        if run.len() > best {
            (dim, best) = (run[0], run.len());
        }
    }
    let mut order: Vec<usize> = (0..items.len())
        .filter(|&i| {
            let e = items[i].embedding;
            e.len() == dim && e.iter().all(|x| x.is_finite()) && e.iter().any(|&x| x != 0.0)
        })
        .collect();
    order.sort_by(|&a, &b| by_id(items, a, b));
    let vectors: Vec<&[f32]> = order.iter().map(|&i| items[i].embedding).collect();
    // Re-normalising costs nothing and keeps similarities true cosines if a caller forgot to.
    let norms = vectors
        .iter()
        .map(|v| {
            v.iter()
                .map(|&x| f64::from(x) * f64::from(x))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    Prepared {
        order,
        vectors,
        norms,
    }
}

/// Positions (into `Prepared`) of the points to cluster, ascending, and of the rest.
fn sample(items: &[Item], p: &Prepared, max_points: usize) -> (Vec<usize>, Vec<usize>) {
    let n = p.order.len();
    if n <= max_points {
        return ((0..n).collect(), Vec::new());
    }
    let mut ranked: Vec<usize> = (0..n).collect();
    // Positions are already in id order, so they break hash ties by id.
    ranked.sort_by_key(|&pos| (crate::util::stable_hash(items[p.order[pos]].id), pos));
    let (chosen, rest) = ranked.split_at(max_points);
    let (mut chosen, mut rest) = (chosen.to_vec(), rest.to_vec());
    chosen.sort_unstable();
    rest.sort_unstable();
    (chosen, rest)
}

/// Sum of the member vectors scaled to unit length each, in member order (which is id
/// order, so the float sum is reproducible); divided by the count it is the mean vector.
fn mean(p: &Prepared, members: &[usize]) -> Vec<f64> {
    let dim = members.first().map_or(0, |&m| p.vectors[m].len());
    let mut sum = vec![0f64; dim];
    for &m in members {
        for (s, &x) in sum.iter_mut().zip(p.vectors[m]) {
            *s += f64::from(x) / p.norms[m];
        }
    }
    let count = members.len().max(1) as f64;
    sum.iter_mut().for_each(|s| *s /= count);
    sum
}

/// Dot product of a unit-scaled point with a mean vector: for the mean of a cluster's unit
/// vectors this is exactly the point's average cosine to the members, i.e. the average-linkage
/// similarity between the point and the cluster.
fn affinity(p: &Prepared, pos: usize, mean: &[f64]) -> f64 {
    let v = p.vectors[pos];
    let dot: f64 = v.iter().zip(mean).map(|(&x, &m)| f64::from(x) * m).sum();
    dot / p.norms[pos]
}

/// Joins each point outside the sample to the sampled cluster with the highest average
/// similarity, if it reaches the threshold. Each point is decided on its own against fixed
/// cluster means, so neither the order nor the thread count matters.
fn assign_rest(p: &Prepared, clusters: &mut [Vec<usize>], rest: &[usize], threshold: f64) {
    let means: Vec<Vec<f64>> = clusters.iter().map(|c| mean(p, c)).collect();
    let choices: Vec<Option<usize>> = rest
        .par_iter()
        .map(|&pos| {
            let mut best: Option<(usize, f64)> = None;
            for (c, m) in means.iter().enumerate() {
                let s = affinity(p, pos, m);
                if s >= threshold && best.is_none_or(|(_, b)| s > b) {
                    best = Some((c, s));
                }
            }
            best.map(|(c, _)| c)
        })
        .collect();
    for (&pos, choice) in rest.iter().zip(choices) {
        if let Some(c) = choice {
            clusters[c].push(pos);
        }
    }
    for c in clusters.iter_mut() {
        c.sort_unstable();
    }
}

fn representative(p: &Prepared, members: &[usize]) -> usize {
    let centre = mean(p, members);
    let mut best: Option<(usize, f64)> = None;
    for &m in members {
        let s = affinity(p, m, &centre);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((m, s));
        }
    }
    best.map_or(0, |(m, _)| m)
}

/// Clusters `items` into emergent themes. Items in no returned theme are left unexplained.
pub fn discover(items: &[Item], cfg: &DiscoverConfig) -> Vec<EmergentTheme> {
    let min_size = cfg.min_cluster_size.max(1);
    let threshold = f64::from(cfg.merge_similarity);
    let p = prepare(items);
    if p.order.len() < min_size {
        return Vec::new();
    }
    let (chosen, rest) = sample(items, &p, cfg.max_points.max(1));
    let vectors: Vec<&[f32]> = chosen.iter().map(|&pos| p.vectors[pos]).collect();
    let norms: Vec<f64> = chosen.iter().map(|&pos| p.norms[pos]).collect();
    let mut clusters: Vec<Vec<usize>> = cluster::cluster(&vectors, &norms, threshold)
        .into_iter()
        .map(|c| c.into_iter().map(|k| chosen[k]).collect())
        .collect();
    if !rest.is_empty() {
        assign_rest(&p, &mut clusters, &rest, threshold);
    }
    clusters.retain(|c| c.len() >= min_size);
    // Each cluster is ascending by position = id order, so its first member is its smallest id.
    clusters.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a[0].cmp(&b[0])));

    let docs: Vec<Vec<Doc>> = clusters
        .iter()
        .map(|c| {
            c.iter()
                .map(|&pos| {
                    let item = &items[p.order[pos]];
                    Doc {
                        text: item.text,
                        lang: item.lang,
                    }
                })
                .collect()
        })
        .collect();
    let words = keywords::keywords(&docs, cfg.keywords);

    // A cluster whose members say nothing but stop words ("Not really.", "It wasn't.", "Ei
    // oikeastaan.") shares a way of answering, not a topic: its members stay unexplained
    // rather than becoming a theme called by one of them.
    clusters
        .iter()
        .zip(words)
        .filter(|(_, keywords)| !keywords.is_empty())
        .enumerate()
        .map(|(k, (members, keywords))| {
            let representative = p.order[representative(&p, members)];
            let label = keywords
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(" / ");
            let mut members: Vec<usize> = members.iter().map(|&pos| p.order[pos]).collect();
            members.sort_unstable();
            EmergentTheme {
                id: format!("emergent_{}", k + 1),
                label,
                keywords,
                members,
                representative,
            }
        })
        .collect()
}
