//! Sentiment per segment (a head over the encoder's embeddings, or a fine-tuned
//! sequence-classification model), the score prior for stated reasons, and document sentiment.

use super::head::{Inputs, LinearHead};
use super::training::{self, SENTIMENT_LABELS};
use super::{ClassifyError, SegmentLabels};
use crate::model::TransformerEncoder;
use crate::record::{Document, Role, Segment, Sentiment};

/// Where segment sentiment comes from.
pub(super) enum SentimentSource {
    Head(Box<LinearHead>),
    /// The shipped heads: one trained with the fi/sv/en feedback rows for segments in those
    /// languages (or undetected), one without them for every other language. The feedback
    /// register helps the languages it is written in and pulled the others' tweets and
    /// reviews towards it: on `xlmt_umsab` (8 languages, 1 of them English) macro-F1 was
    /// 0.620 before the feedback rows joined the head, 0.597 after, 0.617 routed.
    Routed {
        feedback: Box<LinearHead>,
        general: Box<LinearHead>,
    },
    Model(Box<TransformerEncoder>),
}

impl SentimentSource {
    /// The trained heads' parameters, which a pooling fitted to their outputs is keyed by;
    /// `None` for a sequence-classification model (no pooling is fitted to it).
    pub(super) fn heads_json(&self) -> Option<Vec<u8>> {
        match self {
            SentimentSource::Head(h) => serde_json::to_vec(h).ok(),
            SentimentSource::Routed { feedback, general } => {
                let mut v = serde_json::to_vec(feedback).ok()?;
                v.extend(serde_json::to_vec(general).ok()?);
                Some(v)
            }
            SentimentSource::Model(_) => None,
        }
    }

    /// Whether a segment in `lang` is read by the head the pooling was fitted to: the routed
    /// heads' feedback head reads the languages of the shipped documents.
    pub(super) fn pools(&self, lang: &str) -> bool {
        match self {
            SentimentSource::Head(_) => true,
            SentimentSource::Routed { .. } => training::in_feedback_language(lang),
            SentimentSource::Model(_) => false,
        }
    }

    /// Probabilities of negative/neutral/positive for each row.
    pub(super) fn probs(&self, inputs: &Inputs) -> Result<Vec<[f32; 3]>, ClassifyError> {
        let three = |p: Vec<f32>| [p[0], p[1], p[2]];
        match self {
            SentimentSource::Head(h) => Ok(h.predict(inputs).into_iter().map(three).collect()),
            SentimentSource::Routed { feedback, general } => {
                // Both heads on every row (a head is one small product per row), then each
                // row takes its language's.
                let (f, g) = (feedback.predict(inputs), general.predict(inputs));
                Ok(f.into_iter()
                    .zip(g)
                    .enumerate()
                    .map(|(i, (f, g))| {
                        let lang = inputs.langs.get(i).copied().unwrap_or_default();
                        three(if training::in_feedback_language(lang) {
                            f
                        } else {
                            g
                        })
                    })
                    .collect())
            }
            SentimentSource::Model(m) => {
                let probs = m.classify(inputs.texts)?;
                let map: Vec<Option<usize>> = probs
                    .labels
                    .iter()
                    .map(|l| {
                        training::normalise_sentiment_label(l)
                            .and_then(|n| SENTIMENT_LABELS.iter().position(|s| *s == n))
                    })
                    .collect();
                Ok(probs
                    .rows
                    .iter()
                    .map(|row| {
                        let mut out = [0f32; 3];
                        for (p, m) in row.iter().zip(&map) {
                            if let Some(j) = m {
                                out[*j] += p;
                            }
                        }
                        let s: f32 = out.iter().sum();
                        if s > 0.0 {
                            out.map(|v| v / s)
                        } else {
                            [0.0, 1.0, 0.0]
                        }
                    })
                    .collect())
            }
        }
    }
}

/// Shifts `p` (negative, neutral, positive) towards the side of the document's score; see
/// [`ClassifyConfig::score_prior`]. Unscored documents and passives are left as they are.
pub fn score_prior(p: [f32; 3], doc: &Document, strength: f32) -> [f32; 3] {
    let Some(side) = score_side(doc) else {
        return p;
    };
    let s = strength.clamp(0.0, 0.95);
    let w = [1.0 - side * s, 1.0, 1.0 + side * s];
    let q: Vec<f32> = p.iter().zip(w).map(|(a, b)| a * b).collect();
    let sum: f32 = q.iter().sum::<f32>().max(f32::MIN_POSITIVE);
    [q[0] / sum, q[1] / sum, q[2] / sum]
}

/// The side of a document's score: −1 detractor, 0 passive, 1 promoter (CSAT 1–2 / 4–5 play
/// the part of detractors / promoters); `None` when unscored.
pub(super) fn score_side(doc: &Document) -> Option<f32> {
    let (Some(score), Some(kind)) = (doc.score, doc.score_kind) else {
        return None;
    };
    Some(match kind {
        crate::record::ScoreKind::Nps => match crate::record::nps_group(score) {
            crate::record::NpsGroup::Detractor => -1.0,
            crate::record::NpsGroup::Promoter => 1.0,
            crate::record::NpsGroup::Passive => 0.0,
        },
        crate::record::ScoreKind::Csat if score <= 2.0 => -1.0,
        crate::record::ScoreKind::Csat if score >= 4.0 => 1.0,
        crate::record::ScoreKind::Csat => 0.0,
    })
}

/// Document sentiment: the char-weighted mean of its non-interviewer segments' scores.
pub fn document_sentiment(segs: &[(&Segment, &SegmentLabels)]) -> Option<(Sentiment, f32)> {
    let (mut sum, mut weight) = (0f32, 0f32);
    for (s, l) in segs.iter().filter(|(s, _)| s.role != Role::Interviewer) {
        let w = s.text.chars().count() as f32;
        sum += w * l.sentiment_score;
        weight += w;
    }
    if weight == 0.0 {
        return None;
    }
    let score = sum / weight;
    let label = if score <= -0.2 {
        Sentiment::Negative
    } else if score >= 0.2 {
        Sentiment::Positive
    } else {
        Sentiment::Neutral
    };
    Some((label, score))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::HeadTask;
    use crate::record::{DocKind, ScoreKind};

    fn doc(score: Option<f64>, kind: ScoreKind) -> Document {
        Document {
            source_row: Some(2),
            question: Some("Mikä on tärkein syy antamaasi arvosanaan?".into()),
            score,
            score_kind: score.map(|_| kind),
            ..Document::bare("d", DocKind::Response, "f.csv")
        }
    }

    /// A head over 2-dimensional embeddings that always says `label`.
    fn constant_head(task: &str, label: usize) -> LinearHead {
        let mut bias = vec![0.0; 3];
        bias[label] = 10.0;
        LinearHead {
            task: task.into(),
            labels: SENTIMENT_LABELS.iter().map(|l| l.to_string()).collect(),
            multi_label: false,
            encoder_id: "test/encoder".into(),
            encoder_sha256: "aaaa".into(),
            dim: 2,
            weights: vec![0.0; 6],
            bias,
            thresholds: vec![0.5; 3],
            training_rows: 3,
            lexical: None,
        }
    }

    #[test]
    fn shipped_heads_are_routed_by_the_segments_language() {
        let source = SentimentSource::Routed {
            feedback: Box::new(constant_head("sentiment", 0)),
            general: Box::new(constant_head(HeadTask::SentimentGeneral.name(), 2)),
        };
        let langs = ["fi", "de", "und", "sv-SE", "ar", "en", ""];
        let emb = crate::model::Embeddings {
            dim: 2,
            data: vec![0.5; 2 * langs.len()],
        };
        let texts = vec![""; langs.len()];
        let inputs = Inputs {
            emb: &emb,
            texts: &texts,
            langs: &langs,
        };
        let negative: Vec<bool> = source
            .probs(&inputs)
            .unwrap()
            .iter()
            .map(|p| p[0] > 0.9)
            .collect();
        // fi/sv/en and undetected: the feedback head; German and Arabic: the general one.
        assert_eq!(negative, [true, false, true, true, false, true, true]);
    }

    #[test]
    fn score_prior_leans_reasons_towards_the_score() {
        let p = [0.40, 0.45, 0.15];
        let det = score_prior(p, &doc(Some(2.0), ScoreKind::Nps), 0.5);
        assert!(det[0] > det[1] && det[0] > det[2], "{det:?}");
        assert!((det.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        let pro = score_prior(p, &doc(Some(10.0), ScoreKind::Nps), 0.5);
        assert!(pro[2] > p[2] && pro[0] < p[0], "{pro:?}");
        // Passives, unscored answers and strength 0 leave the text's verdict alone.
        assert_eq!(score_prior(p, &doc(Some(8.0), ScoreKind::Nps), 0.5), p);
        assert_eq!(score_prior(p, &doc(None, ScoreKind::Nps), 0.5), p);
        assert_eq!(score_prior(p, &doc(Some(1.0), ScoreKind::Nps), 0.0), p);
        // A clearly positive text stays positive even from a detractor.
        let clear = score_prior([0.05, 0.10, 0.85], &doc(Some(3.0), ScoreKind::Nps), 0.5);
        assert!(clear[2] > clear[0] && clear[2] > clear[1], "{clear:?}");
        // CSAT 1–2 counts as the detractor side.
        let csat = score_prior(p, &doc(Some(1.0), ScoreKind::Csat), 0.5);
        assert!(csat[0] > p[0]);
    }
}
