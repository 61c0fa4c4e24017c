//! Cluster keywords by class-based TF-IDF as BERTopic defines it:
//! W(t, c) = tf(t, c) · log(1 + A / f(t)), with tf(t, c) the frequency of stem t in cluster c
//! L1-normalised per cluster (as BERTopic's `ClassTfidfTransformer` does; it does not change
//! the ranking within a cluster), f(t) the frequency of t over all clusters and A the average
//! number of words per cluster. A is kept real-valued (BERTopic truncates it to an integer, an
//! implementation detail that only perturbs tiny corpora).

use std::collections::{BTreeMap, HashMap};

use crate::text::{Analyzer, Lang};

/// One document of a cluster: its text and language code.
pub(crate) struct Doc<'a> {
    pub text: &'a str,
    pub lang: &'a str,
}

#[derive(Default)]
struct StemCount {
    count: usize,
    /// Surface forms seen for the stem; the most frequent one is shown to the reader.
    surfaces: BTreeMap<String, usize>,
}

impl StemCount {
    fn display(&self) -> Option<&str> {
        // BTreeMap iterates alphabetically, so the first of equally frequent forms wins.
        let mut best: Option<(&str, usize)> = None;
        for (surface, &n) in &self.surfaces {
            if best.is_none_or(|(_, m)| n > m) {
                best = Some((surface.as_str(), n));
            }
        }
        best.map(|(s, _)| s)
    }
}

/// The top `k` keywords (display forms) of every cluster. All clusters must be passed together:
/// f(t) and A are corpus-wide, which is what makes a word that every cluster uses score low.
pub(crate) fn keywords(clusters: &[Vec<Doc<'_>>], k: usize) -> Vec<Vec<String>> {
    let analyzer = Analyzer::get();
    let counts: Vec<BTreeMap<String, StemCount>> = clusters
        .iter()
        .map(|docs| {
            let mut counts: BTreeMap<String, StemCount> = BTreeMap::new();
            for doc in docs {
                for term in analyzer.terms(doc.text, Lang::from_code(doc.lang)) {
                    let entry = counts.entry(term.stem).or_default();
                    entry.count += 1;
                    *entry.surfaces.entry(term.surface).or_default() += 1;
                }
            }
            counts
        })
        .collect();

    let mut total: HashMap<&str, usize> = HashMap::new();
    let mut words = 0usize;
    for cluster in &counts {
        for (stem, c) in cluster {
            *total.entry(stem.as_str()).or_default() += c.count;
            words += c.count;
        }
    }
    let avg_words = if counts.is_empty() {
        0.0
    } else {
        words as f64 / counts.len() as f64
    };

    counts
        .iter()
        .map(|cluster| {
            let len: usize = cluster.values().map(|c| c.count).sum();
            let mut scored: Vec<(f64, &str, &StemCount)> = cluster
                .iter()
                .map(|(stem, c)| {
                    let f = total.get(stem.as_str()).copied().unwrap_or(c.count).max(1) as f64;
                    let tf = c.count as f64 / len.max(1) as f64;
                    (tf * (1.0 + avg_words / f).ln(), stem.as_str(), c)
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            let mut shown: Vec<String> = Vec::with_capacity(k);
            for (_, _, c) in scored {
                if shown.len() == k {
                    break;
                }
                // Two stems can share a surface form across languages; show it once.
                if let Some(d) = c.display().filter(|d| !shown.iter().any(|s| s == d)) {
                    shown.push(d.to_owned());
                }
            }
            shown
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs<'a>(texts: &[&'a str], lang: &'a str) -> Vec<Doc<'a>> {
        texts.iter().map(|&text| Doc { text, lang }).collect()
    }

    #[test]
    fn frequent_distinctive_stem_ranks_first() {
        let clusters = vec![
            docs(&["lasku lasku virhe", "lasku myöhässä"], "fi"),
            docs(&["virhe sovellus", "sovellus kaatuu"], "fi"),
        ];
        let kw = keywords(&clusters, 3);
        assert_eq!(kw[0][0], "lasku");
        assert_eq!(kw[1][0], "sovellus");
    }

    #[test]
    fn score_matches_the_formula() {
        // Cluster 0: a×2, b×1; cluster 1: b×1, c×3. A = 7/2. Using English words that the
        // stemmer leaves alone.
        let clusters = vec![
            docs(&["alpha alpha beta"], "und"),
            docs(&["beta gamma gamma gamma"], "und"),
        ];
        let a: f64 = 3.5;
        let w = |tf: f64, f: f64| tf * (1.0 + a / f).ln();
        // alpha: tf 2/3, f 2; beta: tf 1/3, f 2 → alpha first. gamma: tf 3/4, f 3; beta tf 1/4.
        assert!(w(2.0 / 3.0, 2.0) > w(1.0 / 3.0, 2.0));
        assert_eq!(
            keywords(&clusters, 2),
            vec![vec!["alpha", "beta"], vec!["gamma", "beta"]]
        );
    }

    #[test]
    fn display_form_is_the_most_frequent_surface() {
        let clusters = vec![docs(
            &["Reitittimen toimitus", "reitittimen vika", "reititin rikki"],
            "fi",
        )];
        assert_eq!(keywords(&clusters, 1), vec![vec!["reitittimen"]]);
    }

    #[test]
    fn fewer_words_than_k_and_empty_clusters() {
        let clusters = vec![docs(&["lasku"], "fi"), docs(&["ja ei oli"], "fi")];
        assert_eq!(
            keywords(&clusters, 5),
            vec![vec!["lasku".to_string()], vec![]]
        );
        assert!(keywords(&[], 5).is_empty());
        assert_eq!(keywords(&clusters, 0), vec![Vec::<String>::new(), vec![]]);
    }
}
