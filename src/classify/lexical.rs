//! Lexical features next to the sentence embedding: stemmed content words, their bigrams and
//! character 4-grams of the words, hashed into a fixed number of buckets. The 4-bit e5-small
//! embedding blurs the words that name a theme ("lasku", "faktura", "invoice") into the
//! sentence's overall tone; a linear head over both sees the words as well. Character n-grams
//! carry Finnish and Swedish compounds and inflections ("laskutusvirhe", "fakturan") to the
//! same buckets as their parts, and stems fold the rest of the inflection.

use serde::{Deserialize, Serialize};

use crate::text::{Analyzer, Lang};

/// How texts are turned into lexical features; stored with a head so prediction hashes the
/// same way the training did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LexicalSpec {
    /// Hash buckets (features).
    pub buckets: usize,
    /// L2 norm of a text's feature vector: the lexical block's weight against the embedding,
    /// whose norm is 1.
    pub norm: f32,
}

impl Default for LexicalSpec {
    fn default() -> Self {
        LexicalSpec {
            buckets: 4096,
            norm: 1.0,
        }
    }
}

/// Sparse features of one text: (bucket, value), buckets ascending and distinct.
pub type Sparse = Vec<(u32, f32)>;

/// FNV-1a: stable across platforms and Rust versions (std's hasher is not), so a saved head
/// means the same thing everywhere.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl LexicalSpec {
    /// The features of `text` in language `lang` (ISO code; others are not stemmed).
    pub fn features(&self, text: &str, lang: &str) -> Sparse {
        let terms = Analyzer::get().terms(text, Lang::from_code(lang));
        let mut acc: Vec<(u32, f32)> = Vec::new();
        let buckets = self.buckets.max(1) as u64;
        // Signed hashing: colliding features cancel on average instead of adding up.
        let mut add = |kind: &[u8], key: &[u8]| {
            let h = fnv1a(&[kind, key]);
            let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
            acc.push(((h % buckets) as u32, sign));
        };
        for (i, t) in terms.iter().enumerate() {
            add(b"w", t.stem.as_bytes());
            if let Some(next) = terms.get(i + 1) {
                add(b"b", format!("{} {}", t.stem, next.stem).as_bytes());
            }
            let chars: Vec<char> = format!("<{}>", t.surface).chars().collect();
            for gram in chars.windows(4) {
                add(b"c", gram.iter().collect::<String>().as_bytes());
            }
        }
        acc.sort_by_key(|(b, _)| *b);
        let mut out: Sparse = Vec::with_capacity(acc.len());
        for (b, v) in acc {
            match out.last_mut() {
                Some((lb, lv)) if *lb == b => *lv += v,
                _ => out.push((b, v)),
            }
        }
        // Colliding features of opposite sign cancel; ln(0) must not be taken.
        out.retain(|(_, v)| *v != 0.0);
        // Sublinear counts, then a fixed norm: a long complaint does not outweigh its embedding.
        for (_, v) in &mut out {
            *v = v.signum() * (1.0 + v.abs().ln());
        }
        let norm = out.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, v) in &mut out {
                *v *= self.norm / norm;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(a: &Sparse, b: &Sparse) -> usize {
        a.iter()
            .filter(|(i, _)| b.iter().any(|(j, _)| i == j))
            .count()
    }

    #[test]
    fn inflections_and_compounds_share_features() {
        let spec = LexicalSpec::default();
        let a = spec.features("Lasku oli väärin.", "fi");
        let b = spec.features("Laskussa oli virhe.", "fi");
        let c = spec.features("Laskutusvirhe taas!", "fi");
        let unrelated = spec.features("Toimitus myöhästyi viikon.", "fi");
        assert!(shared(&a, &b) >= 3, "{a:?} {b:?}");
        assert!(shared(&a, &c) >= 2);
        assert!(shared(&a, &unrelated) < shared(&a, &b));
        let norm = a.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(a.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(a.iter().all(|(i, _)| (*i as usize) < spec.buckets));
        // Deterministic, and nothing for text without content words.
        assert_eq!(a, spec.features("Lasku oli väärin.", "fi"));
        assert!(spec.features("ja ja", "fi").is_empty());
        // Many words in few buckets: colliding features cancel to zero without a NaN.
        let tiny = LexicalSpec {
            buckets: 2,
            norm: 1.0,
        };
        let many = tiny.features(
            "lasku toimitus jono hinta sopimus sovellus henkilökunta",
            "fi",
        );
        assert!(many.iter().all(|(_, v)| v.is_finite()), "{many:?}");
    }
}
