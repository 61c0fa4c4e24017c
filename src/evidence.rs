//! The model-backed half of a run, per chunk: embed the chunk's segments and classify them.
//! Kept apart from `pipeline` so the ingest half runs (and is useful) on a machine without a
//! model. Everything here depends only on the chunk's own documents, so labels do not depend
//! on how a run is cut into chunks.

use std::sync::Mutex;

use serde_json::{json, Value};

use crate::classify::{self, Classifier, ClassifyError, SegmentLabels};
use crate::config::Config;
use crate::model::{Embeddings, EncodeStats, TextEncoder, TransformerEncoder};
use crate::record::{Document, Segment, Sentiment};

/// What classification adds to a chunk.
pub struct Labelled {
    pub labels: Vec<SegmentLabels>,
    /// Per document: (sentiment, score) when it has customer-voice segments.
    pub doc_sentiment: Vec<Option<(Sentiment, f32)>>,
    pub embeddings: Embeddings,
}

/// The encoder and the classifier, prepared once per run and applied to every chunk.
pub struct ChunkClassifier {
    pub encoder: TransformerEncoder,
    pub classifier: Classifier,
    sentiment_info: Option<crate::model::ModelInfo>,
    stats: Mutex<EncodeStats>,
}

/// Texts per encoder call: bounds memory of one call and lets the progress bar move.
const EMBED_CHUNK: usize = 1024;

/// Embeddings of `texts` as classifier features, in encoder calls of bounded size;
/// `progress(n)` after each call.
pub fn embed_all(
    encoder: &dyn TextEncoder,
    texts: &[&str],
    mut progress: impl FnMut(usize),
) -> crate::model::Result<(Embeddings, EncodeStats)> {
    let mut out = Embeddings {
        dim: encoder.dim(),
        data: Vec::with_capacity(texts.len() * encoder.dim()),
    };
    let mut stats = EncodeStats::default();
    for chunk in texts.chunks(EMBED_CHUNK) {
        let e = encoder.embed(chunk, crate::classify::FEATURES)?;
        stats.add(&encoder.last_stats());
        out.data.extend_from_slice(&e.data);
        progress(chunk.len());
    }
    Ok((out, stats))
}

impl ChunkClassifier {
    pub fn prepare(
        cfg: &Config,
        encoder: TransformerEncoder,
        sentiment_model: Option<TransformerEncoder>,
    ) -> Result<Self, ClassifyError> {
        let sentiment_info = sentiment_model.as_ref().map(|m| m.info().clone());
        let classifier = Classifier::prepare(&cfg.classify, &encoder, sentiment_model)?;
        Ok(ChunkClassifier {
            encoder,
            classifier,
            sentiment_info,
            stats: Mutex::new(EncodeStats::default()),
        })
    }

    /// Embeds and labels one chunk of whole documents.
    pub fn label(
        &self,
        docs: &[Document],
        segs: &[Segment],
        progress: impl FnMut(usize),
    ) -> Result<Labelled, ClassifyError> {
        let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        let (embeddings, stats) = embed_all(&self.encoder, &texts, progress)?;
        if let Ok(mut s) = self.stats.lock() {
            s.add(&stats);
        }
        let labels = self
            .classifier
            .classify(docs, segs, &embeddings, &self.encoder)?;
        let mut by_doc: std::collections::HashMap<&str, Vec<(&Segment, &SegmentLabels)>> =
            Default::default();
        for (s, l) in segs.iter().zip(&labels) {
            by_doc.entry(s.doc_id.as_str()).or_default().push((s, l));
        }
        let doc_sentiment = docs
            .iter()
            .map(|d| {
                by_doc
                    .get(d.doc_id.as_str())
                    .and_then(|v| classify::document_sentiment(v))
            })
            .collect();
        Ok(Labelled {
            labels,
            doc_sentiment,
            embeddings,
        })
    }

    /// The models and heads: what the labels depend on besides the text. Parts are only
    /// merged (and appended to) with parts of equal models.
    pub fn models(&self) -> Value {
        let mut models = vec![serde_json::to_value(self.encoder.info()).unwrap_or(Value::Null)];
        if let Some(info) = &self.sentiment_info {
            models.push(serde_json::to_value(info).unwrap_or(Value::Null));
        }
        let heads: Vec<Value> = self
            .classifier
            .heads()
            .iter()
            .map(|h| json!({"task": h.task, "labels": h.labels, "encoder_id": h.encoder_id, "encoder_sha256": h.encoder_sha256, "training_rows": h.training_rows, "thresholds": h.thresholds}))
            .collect();
        json!({
            "models": models,
            "heads": heads,
            "zero_shot": self.classifier.zero_shot_tasks(),
            "codebook": self.classifier.themes.codebook.id,
            "journey": self.classifier.stages.codebook.id,
        })
    }

    /// For run.json: encoder statistics over the run's chunks.
    pub fn encoder_report(&self) -> Value {
        let stats = self.stats.lock().map(|s| *s).unwrap_or_default();
        json!({
            "texts": stats.texts,
            "unique_texts": stats.unique_texts,
            "windowed_segments": stats.windowed,
            "batches": stats.batches,
            "tokens": stats.real_tokens,
            "padding_waste": stats.padding_waste(),
            "kernels": crate::model::kernel_report(),
        })
    }
}
