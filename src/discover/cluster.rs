//! Average-linkage agglomerative clustering on cosine similarity, by the nearest-neighbour
//! chain algorithm: O(n²) time and memory (a condensed similarity matrix), exact for average
//! linkage because it is a reducible linkage. Points are identified by their position, which
//! the caller fixes by sorting on item id, so every tie is broken the same way on every run.

use rayon::prelude::*;

/// Cosine similarity of two vectors given their norms. Accumulates in f64 over eight lanes in
/// a fixed order: fast enough to vectorise, and bit-identical whichever thread computes it.
pub(crate) fn cosine(a: &[f32], b: &[f32], norm_a: f64, norm_b: f64) -> f64 {
    let mut acc = [0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += f64::from(x[l]) * f64::from(y[l]);
        }
    }
    let mut dot = acc.iter().sum::<f64>();
    for (x, y) in ra.iter().zip(rb) {
        dot += f64::from(*x) * f64::from(*y);
    }
    dot / (norm_a * norm_b)
}

/// Upper triangle of a symmetric n×n matrix without the diagonal, row by row.
struct Condensed {
    n: usize,
    data: Vec<f64>,
}

impl Condensed {
    fn index(&self, i: usize, j: usize) -> usize {
        let (i, j) = if i < j { (i, j) } else { (j, i) };
        i * self.n - i * (i + 1) / 2 + (j - i - 1)
    }

    fn get(&self, i: usize, j: usize) -> f64 {
        self.data[self.index(i, j)]
    }

    fn set(&mut self, i: usize, j: usize, v: f64) {
        let k = self.index(i, j);
        self.data[k] = v;
    }
}

/// Every entry is computed on its own by one thread, so the matrix does not depend on the
/// number of threads.
fn similarities(vectors: &[&[f32]], norms: &[f64]) -> Condensed {
    let n = vectors.len();
    let mut data = vec![0f64; n * n.saturating_sub(1) / 2];
    let mut rows: Vec<(usize, &mut [f64])> = Vec::with_capacity(n);
    let mut rest = data.as_mut_slice();
    for i in 0..n {
        let (row, tail) = rest.split_at_mut(n - i - 1);
        rows.push((i, row));
        rest = tail;
    }
    rows.into_par_iter().for_each(|(i, row)| {
        for (off, slot) in row.iter_mut().enumerate() {
            let j = i + 1 + off;
            *slot = cosine(vectors[i], vectors[j], norms[i], norms[j]);
        }
    });
    Condensed { n, data }
}

struct Merge {
    a: usize,
    b: usize,
    similarity: f64,
}

/// The full dendrogram: n − 1 merges of node ids (leaves 0..n, merge m creates node n + m).
fn dendrogram(mut sim: Condensed) -> Vec<Merge> {
    let n = sim.n;
    // Active cluster slots in ascending order; a merged cluster lives on in the lower slot.
    let mut active: Vec<usize> = (0..n).collect();
    let mut size = vec![1f64; n];
    let mut node: Vec<usize> = (0..n).collect();
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    let mut chain: Vec<usize> = Vec::new();
    while active.len() > 1 {
        if chain.is_empty() {
            chain.push(active[0]);
        }
        let (x, y) = loop {
            let Some(&x) = chain.last() else {
                return merges;
            };
            let prev = chain.len().checked_sub(2).map(|p| chain[p]);
            let mut best: Option<(usize, f64)> = None;
            for &k in &active {
                let s = if k == x { continue } else { sim.get(x, k) };
                // Strictly greater: among equals the lowest slot wins.
                if best.is_none_or(|(_, b)| s > b) {
                    best = Some((k, s));
                }
            }
            let Some((mut y, best_s)) = best else {
                return merges;
            };
            // Preferring the previous chain element on a tie is what guarantees the chain
            // ends in a reciprocal pair instead of cycling.
            if let Some(p) = prev {
                if sim.get(x, p) >= best_s {
                    y = p;
                }
            }
            if Some(y) == prev {
                break (x, y);
            }
            chain.push(y);
        };
        chain.truncate(chain.len().saturating_sub(2));
        let (keep, gone) = (x.min(y), x.max(y));
        let similarity = sim.get(keep, gone);
        let (nk, ng) = (size[keep], size[gone]);
        for &k in &active {
            if k != keep && k != gone {
                // Lance–Williams for average linkage: the mean of all cross-pair similarities.
                let v = (nk * sim.get(keep, k) + ng * sim.get(gone, k)) / (nk + ng);
                sim.set(keep, k, v);
            }
        }
        size[keep] = nk + ng;
        merges.push(Merge {
            a: node[keep],
            b: node[gone],
            similarity,
        });
        node[keep] = n + merges.len() - 1;
        if let Ok(pos) = active.binary_search(&gone) {
            active.remove(pos);
        }
    }
    merges
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Flat clusters where the dendrogram is cut at `threshold`: a merge is kept when its
/// similarity reaches the threshold and both its children were kept. Requiring the children
/// guards against a float rounding inversion joining clusters whose own merge was refused.
/// Returns clusters of point positions, each ascending, ordered by their first position.
pub(crate) fn cluster(vectors: &[&[f32]], norms: &[f64], threshold: f64) -> Vec<Vec<usize>> {
    let n = vectors.len();
    let merges = dendrogram(similarities(vectors, norms));
    let mut parent: Vec<usize> = (0..n).collect();
    let mut kept = vec![true; n + merges.len()];
    let mut leaf: Vec<usize> = (0..n).collect();
    for (m, merge) in merges.iter().enumerate() {
        leaf.push(leaf[merge.a]);
        let keep = merge.similarity >= threshold && kept[merge.a] && kept[merge.b];
        kept[n + m] = keep;
        if keep {
            let (ra, rb) = (
                find(&mut parent, leaf[merge.a]),
                find(&mut parent, leaf[merge.b]),
            );
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    // Roots are the smallest member after `parent[max] = min`, so the first time a root is
    // seen is at its smallest member and clusters come out ordered by it.
    let mut slot_of_root = vec![usize::MAX; n];
    let mut clusters: Vec<Vec<usize>> = Vec::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        if slot_of_root[r] == usize::MAX {
            slot_of_root[r] = clusters.len();
            clusters.push(Vec::new());
        }
        clusters[slot_of_root[r]].push(i);
    }
    clusters
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(points: &[Vec<f32>], threshold: f64) -> Vec<Vec<usize>> {
        let refs: Vec<&[f32]> = points.iter().map(|p| p.as_slice()).collect();
        let norms: Vec<f64> = points
            .iter()
            .map(|p| {
                p.iter()
                    .map(|&x| f64::from(x) * f64::from(x))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        cluster(&refs, &norms, threshold)
    }

    fn unit(deg: f64) -> Vec<f32> {
        let r = deg.to_radians();
        vec![r.cos() as f32, r.sin() as f32]
    }

    #[test]
    fn condensed_indexing_covers_the_triangle() {
        let n = 5;
        let c = Condensed {
            n,
            data: vec![0.0; n * (n - 1) / 2],
        };
        let mut seen: Vec<usize> = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .map(|(i, j)| c.index(i, j))
            .collect();
        assert_eq!(c.index(3, 1), c.index(1, 3));
        seen.sort();
        assert_eq!(seen, (0..n * (n - 1) / 2).collect::<Vec<_>>());
    }

    #[test]
    fn cosine_handles_remainders_and_norms() {
        let a: Vec<f32> = (0..11).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..11).map(|i| (i * 2) as f32).collect();
        let na = a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        let nb = b.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        assert!((cosine(&a, &b, na, nb) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn average_linkage_matches_hand_computation() {
        // Angles 0, 10, 25 and 90, 95: cos 10° ≈ 0.985, cos 15° ≈ 0.966, cos 25° ≈ 0.906,
        // cos 5° ≈ 0.996. {0°,10°} merge at 0.985; 25° joins at the mean of 0.906 and 0.966.
        let pts = [unit(0.0), unit(10.0), unit(25.0), unit(90.0), unit(95.0)];
        assert_eq!(run(&pts, 0.95), vec![vec![0, 1], vec![2], vec![3, 4]]);
        assert_eq!(run(&pts, 0.93), vec![vec![0, 1, 2], vec![3, 4]]);
        assert_eq!(run(&pts, -1.0), vec![vec![0, 1, 2, 3, 4]]);
        assert_eq!(
            run(&pts, 1.0 + 1e-9),
            (0..5).map(|i| vec![i]).collect::<Vec<_>>()
        );
    }

    #[test]
    fn ties_resolve_to_lower_positions() {
        // Four identical points: every similarity ties; one cluster, and no panic or loop.
        let pts = vec![unit(30.0); 4];
        assert_eq!(run(&pts, 0.99), vec![vec![0, 1, 2, 3]]);
        // 0–1 and 1–2 tie at similarity 0: the lowest pair merges first.
        let pts = [vec![1.0, 0.0], vec![0.0, 1.0], vec![-1.0, 0.0]];
        assert_eq!(run(&pts, 0.0), vec![vec![0, 1], vec![2]]);
    }

    #[test]
    fn trivial_sizes() {
        assert!(run(&[], 0.5).is_empty());
        assert_eq!(run(&[unit(1.0)], 0.5), vec![vec![0]]);
    }
}
