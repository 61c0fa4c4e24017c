//! A segment's stage in its context: what the question it answers and the other sentences of
//! its answer say, combined with the segment's own probabilities either by the hand-set mix
//! of [`super::context`] or by the pooling fitted on the shipped documents labelled sentence
//! by sentence ([`super::pooling`]; `[classify] stage_context`).

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::config::{SentimentContext, StageContext};
use super::context::{self, Context};
use super::documents::{self, LabelledDocs};
use super::head::Inputs;
use super::labeller::Labeller;
use super::pooling::{ContextPooling, Evidence};
use super::training::{NO_STAGE, SENTIMENT_LABELS};
use super::{Classifier, ClassifyError, FEATURES};
use crate::model::TextEncoder;
use crate::record::{DocKind, Document, Segment, Task};

/// Bumped when the pooling's features or fitting change, so a cached fit is not reused.
const POOLING_VERSION: &str = "4";

/// The map whose stages the shipped context documents are labelled with.
const POOLING_MAP: &str = "journey-b2c";

impl Classifier {
    /// A segment's stage inherits from the question it answers (the interviewer's, or the
    /// survey's) and from the other sentences of the same answer. Themes are left to the
    /// segment itself, and by default sentiment too: on the held-out context sets neither
    /// improved with its context (README "In context"; sentiment: `inherit_sentiment`).
    pub(super) fn inherit_stage(
        &self,
        ctx: &Context,
        docs: &HashMap<&str, &Document>,
        segs: &[Segment],
        stage_p: &mut [Vec<f32>],
        encoder: &dyn TextEncoder,
    ) -> Result<(), ClassifyError> {
        let none = self.stage_ids().iter().position(|s| s == NO_STAGE);
        let surveys = self.stage_pooling.is_some() || self.cfg.question_weight > 0.0;
        let question = self.question_stage(ctx, docs, segs, stage_p, encoder, surveys)?;
        if let Some(pooling) = &self.stage_pooling {
            // The pooling was fitted on sentences of longer answers, and applies to those; an
            // answer of one sentence is a whole text, for which the head's own probabilities
            // are calibrated, and it takes only the question's hand-set share below.
            let neighbours = context::neighbour_means(stage_p, &ctx.units);
            let pooled: Vec<Option<Vec<f32>>> = (0..segs.len())
                .map(|i| {
                    let e = Evidence {
                        own: &stage_p[i],
                        question: question[i].as_deref(),
                        neighbours: Some(neighbours[i].as_deref()?),
                        group: kind_group(docs.get(segs[i].doc_id.as_str()).copied()),
                    };
                    Some(pooling.apply(&e, none))
                })
                .collect();
            for ((row, p), q) in stage_p.iter_mut().zip(pooled).zip(&question) {
                match (p, q) {
                    (Some(p), _) => *row = p,
                    (None, Some(q)) => {
                        context::mix_question(row, q, self.cfg.question_weight, none)
                    }
                    (None, None) => {}
                }
            }
            return Ok(());
        }
        for (row, q) in stage_p.iter_mut().zip(&question) {
            if let Some(q) = q {
                context::mix_question(row, q, self.cfg.question_weight, none);
            }
        }
        context::mix_neighbours(stage_p, &ctx.units, self.cfg.context_weight);
        Ok(())
    }

    /// The fitted pooling of a stage with its context, if `stage_context = "learned"` applies.
    pub fn stage_pooling(&self) -> Option<&ContextPooling> {
        self.stage_pooling.as_ref()
    }

    /// The fitted pooling of sentiment with its context, if `sentiment_context = "learned"`.
    pub fn sentiment_pooling(&self) -> Option<&ContextPooling> {
        self.sentiment_pooling.as_ref()
    }

    /// How stages inherit from context, as `palaute eval` reports it.
    pub fn stage_context_method(&self) -> String {
        match &self.stage_pooling {
            Some(p) => format!(
                "stage pooled with its context as fitted on {} labelled sentences \
                 (exponents: own {:.2}, question {:.2}, neighbours {:.2})",
                p.sentences, p.own, p.question, p.neighbours
            ),
            None => format!(
                "question_weight {}, context_weight {}",
                self.cfg.question_weight, self.cfg.context_weight
            ),
        }
    }

    /// The stage probabilities of the question each segment answers, if it has one.
    /// Survey questions are embedded only when `surveys` (they cost an embedding each).
    fn question_stage(
        &self,
        ctx: &Context,
        docs: &HashMap<&str, &Document>,
        segs: &[Segment],
        stage_p: &[Vec<f32>],
        encoder: &dyn TextEncoder,
        surveys: bool,
    ) -> Result<Vec<Option<Vec<f32>>>, ClassifyError> {
        // Survey questions, embedded once per distinct text and answer language (the
        // lexical features stem in it). Keyed by both, a question's probabilities do not
        // depend on which answers a chunk holds.
        let mut asked: Vec<(&str, &str)> = segs
            .iter()
            .filter_map(|s| Some((docs.get(s.doc_id.as_str())?, s.lang.as_str())))
            .filter(|(d, _)| d.kind != DocKind::Interview)
            .filter_map(|(d, lang)| Some((d.question.as_deref()?, lang)))
            .collect();
        asked.sort_unstable();
        asked.dedup();
        let survey: HashMap<(&str, &str), Vec<f32>> = if surveys && !asked.is_empty() {
            let (texts, langs): (Vec<&str>, Vec<&str>) = asked.iter().copied().unzip();
            let emb = encoder.embed(&texts, FEATURES)?;
            let inputs = Inputs {
                emb: &emb,
                texts: &texts,
                langs: &langs,
            };
            let probs = self.stage_probs(&inputs);
            asked.iter().copied().zip(probs).collect()
        } else {
            HashMap::new()
        };
        Ok(segs
            .iter()
            .enumerate()
            .map(|(i, seg)| match ctx.question[i] {
                // The interviewer question's own probabilities, never an answer's mix.
                Some(q) => Some(stage_p[q].clone()),
                None => docs
                    .get(seg.doc_id.as_str())
                    .and_then(|d| d.question.as_deref())
                    .and_then(|q| survey.get(&(q, seg.lang.as_str())))
                    .cloned(),
            })
            .collect())
    }

    /// The pooling for this classifier's stage head, fitted on the shipped context documents
    /// (or read from `cache`), when `stage_context = "learned"` and the journey map is the
    /// one they are labelled for; `None` otherwise (the hand-set mix applies).
    pub(super) fn fit_stage_pooling(
        &self,
        encoder: &dyn TextEncoder,
        cache: Option<&Path>,
    ) -> Result<Option<ContextPooling>, ClassifyError> {
        let Labeller::Head(head) = &self.stage_model else {
            return Ok(None);
        };
        if self.cfg.stage_context != StageContext::Learned || self.stages.codebook.id != POOLING_MAP
        {
            return Ok(None);
        }
        let key = pooling_key("stage", &serde_json::to_vec(head).unwrap_or_default());
        cached_pooling(cache, "stage-context", &key, &head.labels, || {
            self.fit_pooling_on(&documents::shipped_context(Task::Stages)?, encoder)
        })
    }

    fn fit_pooling_on(
        &self,
        set: &LabelledDocs,
        encoder: &dyn TextEncoder,
    ) -> Result<Option<ContextPooling>, ClassifyError> {
        let own = embedded(set, encoder, |inputs| Ok(self.stage_probs(inputs)))?;
        let docs: HashMap<&str, &Document> =
            set.docs.iter().map(|d| (d.doc_id.as_str(), d)).collect();
        let ctx = Context::new(&docs, &set.segs);
        // Every question, whatever `question_weight` says: the fit must see what it will
        // be applied to, and does not depend on the setting (nor its cache key).
        let question = self.question_stage(&ctx, &docs, &set.segs, &own, encoder, true)?;
        let neighbours = context::neighbour_means(&own, &ctx.units);
        let ids = self.stage_ids();
        let samples: Vec<(Evidence, usize)> = set
            .gold
            .iter()
            .filter_map(|g| {
                let y = ids.iter().position(|id| *id == g.row.labels[0])?;
                // Only sentences of longer answers: the pooling applies to no other.
                let e = Evidence {
                    own: &own[g.seg],
                    question: question[g.seg].as_deref(),
                    neighbours: Some(neighbours[g.seg].as_deref()?),
                    group: kind_group(docs.get(set.segs[g.seg].doc_id.as_str()).copied()),
                };
                Some((e, y))
            })
            .collect();
        if samples.is_empty() {
            return Ok(None);
        }
        let none = ids.iter().position(|s| s == NO_STAGE);
        Ok(Some(ContextPooling::fit(
            ids.to_vec(),
            &samples,
            none,
            KIND_GROUPS,
        )))
    }
}

impl Classifier {
    /// A sentence of a longer answer pools its sentiment with the answer's other sentences
    /// and its score's side, when `sentiment_context = "learned"` fitted a pooling.
    /// Returns which segments it pooled: `score_prior` applies to the others only (the
    /// pooling has the score's side among its own evidence).
    pub(super) fn inherit_sentiment(
        &self,
        ctx: &Context,
        docs: &HashMap<&str, &Document>,
        segs: &[Segment],
        sent: &mut [[f32; 3]],
    ) -> Vec<bool> {
        let mut pooled = vec![false; segs.len()];
        let Some(pooling) = &self.sentiment_pooling else {
            return pooled;
        };
        let rows: Vec<Vec<f32>> = sent.iter().map(|p| p.to_vec()).collect();
        let neighbours = context::neighbour_means(&rows, &ctx.units);
        for (i, seg) in segs.iter().enumerate() {
            let Some(n) = neighbours[i].as_deref() else {
                continue;
            };
            if !self.sentiment.pools(&seg.lang) {
                continue;
            }
            pooled[i] = true;
            let e = Evidence {
                own: &rows[i],
                question: None,
                neighbours: Some(n),
                group: score_group(docs.get(seg.doc_id.as_str()).copied()),
            };
            let p = pooling.apply(&e, None);
            sent[i] = [p[0], p[1], p[2]];
        }
        pooled
    }

    /// The sentiment pooling, fitted on the shipped context documents (or read from `cache`)
    /// when `sentiment_context = "learned"` and the sentiment comes from trained heads.
    pub(super) fn fit_sentiment_pooling(
        &self,
        encoder: &dyn TextEncoder,
        cache: Option<&Path>,
    ) -> Result<Option<ContextPooling>, ClassifyError> {
        if self.cfg.sentiment_context != SentimentContext::Learned {
            return Ok(None);
        }
        let Some(heads) = self.sentiment.heads_json() else {
            return Ok(None);
        };
        let key = pooling_key("sentiment", &heads);
        let labels: Vec<String> = SENTIMENT_LABELS.iter().map(|s| s.to_string()).collect();
        cached_pooling(cache, "sentiment-context", &key, &labels, || {
            let set = documents::shipped_context(Task::Sentiment)?;
            let own = embedded(&set, encoder, |inputs| {
                let probs = self.sentiment_probs(inputs)?;
                Ok(probs.iter().map(|p| p.to_vec()).collect())
            })?;
            let docs: HashMap<&str, &Document> =
                set.docs.iter().map(|d| (d.doc_id.as_str(), d)).collect();
            let ctx = Context::new(&docs, &set.segs);
            let neighbours = context::neighbour_means(&own, &ctx.units);
            let samples: Vec<(Evidence, usize)> = set
                .gold
                .iter()
                .filter_map(|g| {
                    let y = labels.iter().position(|l| *l == g.row.labels[0])?;
                    let seg = &set.segs[g.seg];
                    let e = Evidence {
                        own: &own[g.seg],
                        question: None,
                        neighbours: Some(neighbours[g.seg].as_deref()?),
                        group: score_group(docs.get(seg.doc_id.as_str()).copied()),
                    };
                    Some((e, y))
                })
                .collect();
            Ok((!samples.is_empty())
                .then(|| ContextPooling::fit(labels.clone(), &samples, None, SCORE_GROUPS)))
        })
    }
}

/// The cache key of a pooling for `task` fitted to a model with parameters `model` on the
/// shipped documents.
fn pooling_key(task: &str, model: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(POOLING_VERSION);
    h.update(task);
    h.update(model);
    for (_, text) in documents::SHIPPED_CONTEXT {
        h.update(text);
    }
    crate::util::hex(&h.finalize())
}

/// `probs` of the segments of `set`, embedded as a run embeds them.
fn embedded(
    set: &LabelledDocs,
    encoder: &dyn TextEncoder,
    probs: impl FnOnce(&Inputs) -> Result<Vec<Vec<f32>>, ClassifyError>,
) -> Result<Vec<Vec<f32>>, ClassifyError> {
    let texts: Vec<&str> = set.segs.iter().map(|s| s.text.as_str()).collect();
    let langs: Vec<&str> = set.segs.iter().map(|s| s.lang.as_str()).collect();
    let emb = encoder.embed(&texts, FEATURES)?;
    probs(&Inputs {
        emb: &emb,
        texts: &texts,
        langs: &langs,
    })
}

/// Survey answer / interview: the groups of [`kind_group`].
const KIND_GROUPS: usize = 2;

/// A stage's pooling group: the kind of document. Interviews move through the journey in
/// another proportion than survey answers do (a bias per stage and kind: measured in README
/// "In context").
fn kind_group(doc: Option<&Document>) -> Option<usize> {
    Some(usize::from(doc?.kind == DocKind::Interview))
}

/// Detractor / passive / promoter: the groups of [`score_group`].
const SCORE_GROUPS: usize = 3;

/// The side of the document's score as a pooling group (unscored: none).
fn score_group(doc: Option<&Document>) -> Option<usize> {
    let side = super::sentiment::score_side(doc?)?;
    Some((side + 1.0) as usize)
}

/// A pooling read from `cache` (`{name}-{key}.json`, when it is for `labels`), else fitted by
/// `fit` and written there. Parallel runs sharing the cache fit it once.
fn cached_pooling(
    cache: Option<&Path>,
    name: &str,
    key: &str,
    labels: &[String],
    fit: impl FnOnce() -> Result<Option<ContextPooling>, ClassifyError>,
) -> Result<Option<ContextPooling>, ClassifyError> {
    let cached = cache.map(|d| d.join(format!("{name}-{}.json", &key[..16])));
    let _lock = cached.as_deref().and_then(crate::util::lock_beside);
    if let Some(found) = cached
        .as_deref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<ContextPooling>(&b).ok())
        .filter(|f| {
            let k = labels.len();
            f.labels == labels && f.bias.len() == k && f.group_bias.len() % k.max(1) == 0
        })
    {
        return Ok(Some(found));
    }
    // Embeds the documents' ~1,000 sentences and questions once: a few seconds.
    tracing::info!("fitting {name} pooling on the shipped documents labelled in context");
    let fitted = fit()?;
    if let (Some(path), Some(fitted)) = (&cached, &fitted) {
        let bytes = serde_json::to_vec_pretty(fitted).unwrap_or_default();
        let write =
            |f: &mut std::fs::File| std::io::Write::write_all(f, &bytes).map_err(|e| e.to_string());
        // A cache that cannot be written only costs time on the next run.
        if let Err(e) = crate::util::write_atomic(path, write) {
            tracing::debug!("could not cache {name}: {e}");
        }
    }
    Ok(fitted)
}
