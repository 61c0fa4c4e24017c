//! The model-backed half of a run: embed segments, classify them, discover emergent themes
//! among unexplained complaints and build the evidence tables. Kept apart from `pipeline` so
//! the ingest half runs (and is useful) on a machine without a model.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::analyze::{self, ThemeInfo};
use crate::classify::codebook::OTHER;
use crate::classify::{self, Classifier, ClassifyError, SegmentLabels};
use crate::config::Config;
use crate::discover::{self, EmergentTheme};
use crate::model::{Embeddings, EncodeStats, TextEncoder, TransformerEncoder};
use crate::progress::Progress;
use crate::record::{Document, Role, Segment};

/// Everything classification adds to a run.
pub struct Evidence {
    pub labels: Vec<SegmentLabels>,
    /// Per document: (sentiment label, score) when it has customer-voice segments.
    pub doc_sentiment: Vec<Option<(String, f32)>>,
    pub embeddings: Embeddings,
    pub tables: analyze::Tables,
    /// For run.json: models, heads, encoder statistics, unexplained share.
    pub report: Value,
}

/// Texts per encoder call: bounds memory of one call and lets the progress bar move.
const EMBED_CHUNK: usize = 1024;

pub fn embed_all(
    encoder: &dyn TextEncoder,
    segs: &[Segment],
    progress: Progress,
) -> crate::model::Result<(Embeddings, EncodeStats)> {
    let bar = progress.bar(segs.len() as u64, "embed");
    let mut out = Embeddings {
        dim: encoder.dim(),
        data: Vec::with_capacity(segs.len() * encoder.dim()),
    };
    let mut stats = EncodeStats::default();
    for chunk in segs.chunks(EMBED_CHUNK) {
        let texts: Vec<&str> = chunk.iter().map(|s| s.text.as_str()).collect();
        let e = encoder.embed(&texts, crate::classify::FEATURES)?;
        stats.add(&encoder.last_stats());
        out.data.extend_from_slice(&e.data);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok((out, stats))
}

pub fn run(
    cfg: &Config,
    encoder: &TransformerEncoder,
    sentiment_model: Option<TransformerEncoder>,
    docs: &[Document],
    segs: &[Segment],
    progress: Progress,
) -> Result<Evidence, ClassifyError> {
    let sentiment_info = sentiment_model.as_ref().map(|m| m.info().clone());
    let (embeddings, stats) = embed_all(encoder, segs, progress)?;
    let classifier = Classifier::prepare(&cfg.classify, encoder, sentiment_model)?;
    let mut labels = classifier.classify(docs, segs, &embeddings, encoder)?;

    // Emergent themes: complaints no codebook theme explains.
    let negative: Vec<usize> = (0..segs.len())
        .filter(|i| segs[*i].role != Role::Interviewer && labels[*i].sentiment == "negative")
        .collect();
    let negatives = negative.len();
    let unexplained: Vec<usize> = negative
        .into_iter()
        .filter(|i| labels[*i].root_cause_theme.is_none())
        .collect();
    let items: Vec<discover::Item> = unexplained
        .iter()
        .map(|i| discover::Item {
            id: &segs[*i].segment_id,
            text: &segs[*i].text,
            lang: &segs[*i].lang,
            embedding: embeddings.row(*i),
        })
        .collect();
    let emergent: Vec<EmergentTheme> = discover::discover(&items, &cfg.discover);
    for theme in &emergent {
        for m in &theme.members {
            let l = &mut labels[unexplained[*m]];
            l.root_cause_theme = Some(theme.id.clone());
            l.themes.retain(|t| t != OTHER);
            l.theme_scores.truncate(l.themes.len());
            l.themes.push(theme.id.clone());
            l.theme_scores.push(1.0);
        }
    }
    // Every member of an emergent theme was unexplained and now has it as its root cause.
    let still_unexplained =
        unexplained.len() - emergent.iter().map(|t| t.members.len()).sum::<usize>();

    let mut by_doc: BTreeMap<&str, Vec<(&Segment, &SegmentLabels)>> = BTreeMap::new();
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

    let mut themes: Vec<ThemeInfo> = classifier
        .themes
        .items
        .iter()
        .map(|i| ThemeInfo {
            id: i.id.clone(),
            origin: "codebook",
            labels: i.label.clone(),
            description: i.description.get("en").cloned(),
            parent: i.parent.clone(),
            keywords: Vec::new(),
            representative: None,
        })
        .collect();
    themes.extend(emergent.iter().map(|t| ThemeInfo {
        id: t.id.clone(),
        origin: "emergent",
        labels: BTreeMap::from([("en".to_string(), t.label.clone())]),
        description: None,
        parent: None,
        keywords: t.keywords.clone(),
        representative: Some(segs[unexplained[t.representative]].segment_id.clone()),
    }));
    let tables = analyze::build(&analyze::Inputs {
        docs,
        segs,
        labels: &labels,
        emb: &embeddings,
        themes: &themes,
        stages: &classifier.stages,
        quotes_per_cell: cfg.classify.quotes_per_cell,
        cfg: &cfg.analyze,
    })
    .map_err(|e| {
        ClassifyError::Config(crate::error::Error::Output {
            path: "analysis tables".into(),
            message: e.to_string(),
        })
    })?;
    let mut models = vec![serde_json::to_value(encoder.info()).unwrap_or(Value::Null)];
    if let Some(info) = sentiment_info {
        models.push(serde_json::to_value(info).unwrap_or(Value::Null));
    }
    let heads: Vec<Value> = classifier
        .heads()
        .iter()
        .map(|h| json!({"task": h.task, "labels": h.labels, "encoder_id": h.encoder_id, "encoder_sha256": h.encoder_sha256, "training_rows": h.training_rows, "thresholds": h.thresholds}))
        .collect();
    let report = json!({
        "models": models,
        "heads": heads,
        "zero_shot": classifier.zero_shot_tasks(),
        "codebook": classifier.themes.codebook.id,
        "journey": classifier.stages.codebook.id,
        "encoder": {
            "texts": stats.texts,
            "unique_texts": stats.unique_texts,
            "windowed_segments": stats.windowed,
            "batches": stats.batches,
            "tokens": stats.real_tokens,
            "padding_waste": stats.padding_waste(),
        },
        "negative_segments": negatives,
        "emergent_themes": emergent.len(),
        "unexplained_negative_segments": still_unexplained,
        "unexplained_negative_share": if negatives == 0 { 0.0 } else { still_unexplained as f64 / negatives as f64 },
    });
    Ok(Evidence {
        labels,
        doc_sentiment,
        embeddings,
        tables,
        report,
    })
}
