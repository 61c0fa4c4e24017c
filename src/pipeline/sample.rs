//! Zero-shot tasks (a codebook or journey map that names items without examples) take their
//! centring and refined prototypes from data. Fitted on a batch, a segment's label would
//! depend on the rows that came with it; so they are fitted once, before the chunks, on a
//! deterministic sample of the run's segments (the `SAMPLE` with the smallest
//! `util::stable_hash` of their ids: the same whatever the order, chunking or sharding of the
//! inputs), and applied to every chunk.

use std::collections::BinaryHeap;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::classify::ZeroShotArtifact;
use crate::config::Config;
use crate::error::Error;
use crate::evidence::ChunkClassifier;
use crate::ingest;
use crate::lang::LanguageDetector;
use crate::record::Document;
use crate::segment::{self, Segmenter};
use crate::util::stable_hash;

/// Segments the zero-shot state is fitted on.
pub const SAMPLE: usize = 5000;

/// (hash, segment id, text, language): ordered by hash, then id.
type Sampled = (u64, String, String, String);

/// Reads every input once (segment and language only) and fits the zero-shot state on the
/// sample's embeddings.
pub fn fit_zero_shot(
    cfg: &Config,
    detector: &dyn LanguageDetector,
    segmenter: &dyn Segmenter,
    files: &[PathBuf],
    cl: &ChunkClassifier,
    redactor: &crate::redact::Redactor,
) -> Result<ZeroShotArtifact, Error> {
    let mut kept: BinaryHeap<Sampled> = BinaryHeap::new();
    for f in files {
        let source = ingest::source_name(f);
        let mut mine: BinaryHeap<Sampled> = BinaryHeap::new();
        let (r, _) =
            super::read::read_redacted(f, &source, cfg, redactor, &mut |docs: Vec<Document>| {
                let found: Vec<Sampled> = docs
                    .par_iter()
                    .flat_map_iter(|d| segment::segment_document(d, segmenter))
                    .map(|s| {
                        let lang = detector.detect(&s.text).0;
                        (stable_hash(&s.segment_id), s.segment_id, s.text, lang)
                    })
                    .collect();
                for x in found {
                    keep(&mut mine, x);
                }
            });
        // A file rejected as a whole is in no table; it shapes no label either.
        if !r.failed {
            for x in mine {
                keep(&mut kept, x);
            }
        }
    }
    let sample = kept.into_sorted_vec();
    let texts: Vec<&str> = sample.iter().map(|s| s.2.as_str()).collect();
    let langs: Vec<&str> = sample.iter().map(|s| s.3.as_str()).collect();
    let (emb, _) = crate::evidence::embed_all(&cl.encoder, &texts, |_| {})?;
    Ok(cl.classifier.fit_zero_shot(&emb, &texts, &langs))
}

/// Keeps the `SAMPLE` smallest.
fn keep(heap: &mut BinaryHeap<Sampled>, x: Sampled) {
    if heap.len() < SAMPLE {
        heap.push(x);
    } else if heap.peek().is_some_and(|top| x < *top) {
        heap.pop();
        heap.push(x);
    }
}
