//! Classification: sentiment, codebook themes, journey stage and root cause per segment,
//! computed from the encoder's embeddings with linear heads (or a fine-tuned sentiment model
//! when one is configured). Heads trained from the shipped examples are cached under the
//! encoder's hash; training is deterministic, so a cached head equals a freshly trained one.

pub mod adapt;
pub mod codebook;
mod config;
pub mod context;
pub mod documents;
mod fit;
pub mod head;
mod head_file;
mod inherit;
pub mod labeller;
pub mod lexical;
pub mod pooling;
pub mod prototype;
pub mod rootcause;
mod sentiment;
mod trainer;
pub mod training;

pub use config::{ClassifyConfig, SentimentContext, StageContext};
pub use sentiment::{document_sentiment, score_prior};
pub use trainer::{fit_head, heads_cache_dir, train_from_file, train_head, training_set, HeadTask};

use std::collections::HashMap;

use crate::error::Error;
use crate::model::{Embeddings, InputKind, TextEncoder, TransformerEncoder};
use crate::record::{DocKind, Document, Role, Segment, Sentiment, Task};
use codebook::{Codebook, CodebookKind, OTHER};
use context::Context;
use head::{HeadError, HeadFile, Inputs, LinearHead};
use labeller::Labeller;
use sentiment::SentimentSource;
use training::{Labelled, NO_STAGE, SENTIMENT_LABELS};

#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error(transparent)]
    Head(#[from] HeadError),
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error(transparent)]
    Config(#[from] Error),
}

/// What classification adds to a segment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentLabels {
    pub sentiment: Sentiment,
    /// Probability of `sentiment`.
    pub p_sentiment: f32,
    /// P(positive) − P(negative), in −1…1: the scale for averages.
    pub sentiment_score: f32,
    pub themes: Vec<String>,
    pub theme_scores: Vec<f32>,
    pub stage: Option<String>,
    pub stage_score: f32,
    pub root_cause_theme: Option<String>,
    /// The segment gives a reason (cause clause, or answers a why-question).
    pub stated_reason: bool,
    /// The segment is one sentence of a longer answer (shares its unit with another sentence:
    /// `Context::in_longer_unit`), not a whole answer of one sentence: its themes came from
    /// the sentence head where there is one. A recoding file carries it back to `palaute
    /// train`, which then trains the heads a run used for such segments. `None` for the
    /// interviewer's segments, which answer nothing.
    pub in_longer_answer: Option<bool>,
}

/// What the zero-shot tasks took from the run's sample: saved as `zero_shot.json` in the
/// output folder, its sha256 in run.json and in the parts' settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ZeroShotArtifact {
    pub themes: Option<prototype::ZeroShotFit>,
    pub stages: Option<prototype::ZeroShotFit>,
}

/// The probability written beside `other`, the label of a text no theme passes: that the best
/// theme does not apply.
pub fn other_probability(theme_probs: &[f32]) -> f32 {
    1.0 - theme_probs.iter().copied().fold(0.0, f32::max)
}

pub struct Classifier {
    pub cfg: ClassifyConfig,
    pub themes: Codebook,
    pub stages: Codebook,
    sentiment: SentimentSource,
    theme_model: Labeller,
    /// The theme head for sentences of longer answers, when the codebook has shipped sentences
    /// labelled in context to train it on (`training::context_rows`); whole answers keep
    /// `theme_model`, trained on whole texts.
    sentence_themes: Option<Labeller>,
    stage_model: Labeller,
    /// How a segment's stage pools with its context, when fitted (`stage_context = "learned"`).
    stage_pooling: Option<pooling::ContextPooling>,
    /// How a segment's sentiment pools with its answer and score (`sentiment_context`).
    sentiment_pooling: Option<pooling::ContextPooling>,
}

/// How texts are embedded as classifier features. The E5 authors recommend the `query: `
/// prefix for embeddings used as features (linear probes, clustering); measured on XED-fi
/// and UMSAB it beats `passage: `. Segments, training examples and evaluation texts all use it.
pub const FEATURES: InputKind = InputKind::Query;

impl Classifier {
    pub fn prepare(
        cfg: &ClassifyConfig,
        encoder: &dyn TextEncoder,
        sentiment_model: Option<TransformerEncoder>,
    ) -> Result<Self, ClassifyError> {
        let themes = Codebook::resolve(&cfg.codebook, CodebookKind::Theme)?;
        let stages = Codebook::resolve(&cfg.journey, CodebookKind::Stage)?;
        let cache = heads_cache_dir();
        let cache = cache.as_deref();
        let sentiment = match (sentiment_model, &cfg.sentiment_head) {
            (Some(m), _) => SentimentSource::Model(Box::new(m)),
            (None, Some(path)) => {
                let head = LinearHead::load(path, encoder.info())?;
                head.expect_labels(path, &SENTIMENT_LABELS)?;
                SentimentSource::Head(Box::new(head))
            }
            (None, None) => {
                let labels: Vec<String> = SENTIMENT_LABELS.iter().map(|s| s.to_string()).collect();
                let train = |head: HeadTask, rows: &[Labelled]| {
                    train_head(head, rows, &labels, false, encoder, cache).map(Box::new)
                };
                SentimentSource::Routed {
                    feedback: train(Task::Sentiment.into(), &training::shipped_sentiment()?)?,
                    general: train(
                        HeadTask::SentimentGeneral,
                        &training::shipped_sentiment_general()?,
                    )?,
                }
            }
        };
        let (theme_model, sentence_themes) = match &cfg.theme_head {
            // A researcher's heads: the pair `palaute train` writes for the built-in
            // codebook, else one head for every segment.
            Some(path) => match HeadFile::load(path, encoder.info())? {
                HeadFile::One(head) => (Labeller::Head(head), None),
                HeadFile::Themes { whole, sentences } => {
                    (Labeller::Head(whole), Some(Labeller::Head(*sentences)))
                }
            },
            None => {
                let whole = Labeller::for_codebook(Task::Themes, &themes, true, encoder, cache)?;
                // Reads the shipped documents twice (milliseconds, once per run) to keep one
                // definition of the rows in `training`.
                let sentences = match &whole {
                    Labeller::Head(_) if !training::context_rows(&themes)?.is_empty() => {
                        let rows = training::head_rows(&themes)?;
                        let head = HeadTask::SentenceThemes;
                        let head = train_head(head, &rows, whole.labels(), true, encoder, cache)?;
                        Some(Labeller::Head(head))
                    }
                    _ => None,
                };
                (whole, sentences)
            }
        };
        let stage_model = match &cfg.stage_head {
            Some(p) => Labeller::Head(LinearHead::load(p, encoder.info())?),
            None => Labeller::for_codebook(Task::Stages, &stages, false, encoder, cache)?,
        };
        let mut classifier = Classifier {
            cfg: cfg.clone(),
            themes,
            stages,
            sentiment,
            theme_model,
            sentence_themes,
            stage_model,
            stage_pooling: None,
            sentiment_pooling: None,
        };
        classifier.stage_pooling = classifier.fit_stage_pooling(encoder, cache)?;
        classifier.sentiment_pooling = classifier.fit_sentiment_pooling(encoder, cache)?;
        Ok(classifier)
    }

    /// Probabilities of negative/neutral/positive for each row.
    pub fn sentiment_probs(&self, inputs: &Inputs) -> Result<Vec<[f32; 3]>, ClassifyError> {
        self.sentiment.probs(inputs)
    }

    /// Theme probabilities of each row.
    pub fn theme_probs(&self, inputs: &Inputs) -> Vec<Vec<f32>> {
        self.theme_model.probs(inputs)
    }

    pub fn theme_ids(&self) -> &[String] {
        self.theme_model.labels()
    }

    pub fn stage_probs(&self, inputs: &Inputs) -> Vec<Vec<f32>> {
        self.stage_model.probs(inputs)
    }

    pub fn stage_ids(&self) -> &[String] {
        self.stage_model.labels()
    }

    /// Themes above threshold (best first, at most `max_themes`), else `other`: a whole
    /// text's, from [`theme_probs`](Self::theme_probs).
    pub fn assign_themes(&self, probs: &[f32]) -> (Vec<String>, Vec<f32>) {
        self.assign_themes_by(probs, |j| self.theme_model.threshold(j))
    }

    /// [`assign_themes`](Self::assign_themes) with the thresholds of the head that gave `probs`.
    fn assign_themes_by(
        &self,
        probs: &[f32],
        threshold: impl Fn(usize) -> f32,
    ) -> (Vec<String>, Vec<f32>) {
        let mut ranked: Vec<(usize, f32)> = probs.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let passes = |j: usize, p: f32| p >= self.cfg.theme_threshold.unwrap_or(threshold(j));
        let most = if self.theme_model.multi_label() {
            self.cfg.max_themes.max(1)
        } else {
            1
        };
        let chosen: Vec<(usize, f32)> = ranked
            .into_iter()
            .filter(|(j, p)| passes(*j, *p))
            .take(most)
            .collect();
        if chosen.is_empty() {
            return (vec![OTHER.to_string()], vec![other_probability(probs)]);
        }
        (
            chosen
                .iter()
                .map(|(j, _)| self.theme_ids()[*j].clone())
                .collect(),
            chosen.iter().map(|(_, p)| *p).collect(),
        )
    }

    /// The most probable stage and its probability; `None` (with the probability of naming no
    /// stage) when that is the [`NO_STAGE`] class.
    pub fn assign_stage(&self, probs: &[f32]) -> (Option<String>, f32) {
        let (j, p) = probs
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::MIN), |b, (j, p)| if p > b.1 { (j, p) } else { b });
        let id = self.stage_ids().get(j).filter(|id| *id != NO_STAGE);
        (id.cloned(), p)
    }

    /// Label every segment. `emb` rows align with `segs`; `encoder` embeds the survey
    /// questions the documents answer (once per distinct question), which frame their stage
    /// and themes like an interviewer's question does.
    pub fn classify(
        &self,
        docs: &[Document],
        segs: &[Segment],
        emb: &Embeddings,
        encoder: &dyn TextEncoder,
    ) -> Result<Vec<SegmentLabels>, ClassifyError> {
        let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        let langs: Vec<&str> = segs.iter().map(|s| s.lang.as_str()).collect();
        let inputs = Inputs {
            emb,
            texts: &texts,
            langs: &langs,
        };
        let doc_index: HashMap<&str, &Document> =
            docs.iter().map(|d| (d.doc_id.as_str(), d)).collect();
        let ctx = Context::new(&doc_index, segs);
        let mut sent = self.sentiment_probs(&inputs)?;
        let pooled = self.inherit_sentiment(&ctx, &doc_index, segs, &mut sent);
        for ((p, seg), pooled) in sent.iter_mut().zip(segs).zip(pooled) {
            match doc_index.get(seg.doc_id.as_str()) {
                Some(d) if !pooled && answers_why(d) => {
                    *p = score_prior(*p, d, self.cfg.score_prior)
                }
                _ => {}
            }
        }
        let in_longer = ctx.in_longer_unit(segs.len());
        let theme_p = self.segment_theme_probs(&inputs, &in_longer);
        let mut stage_p = self.stage_probs(&inputs);
        self.inherit_stage(&ctx, &doc_index, segs, &mut stage_p, encoder)?;
        Ok(segs
            .iter()
            .enumerate()
            .map(|(i, seg)| {
                let doc = doc_index.get(seg.doc_id.as_str()).copied();
                let why = match doc.map(|d| d.kind) {
                    Some(DocKind::Interview) => ctx.question[i].is_some_and(|q| {
                        let q = &segs[q].text;
                        rootcause::is_why_question(q) && q.trim_end().ends_with('?')
                    }),
                    _ => doc.is_some_and(answers_why),
                };
                let stage = match doc.and_then(|d| self.stage_from_metadata(d)) {
                    Some(s) => (Some(s), 1.0),
                    None => self.assign_stage(&stage_p[i]),
                };
                let sentence_head = self.sentence_themes.as_ref().filter(|_| in_longer[i]);
                let themes = match sentence_head {
                    Some(h) => self.assign_themes_by(&theme_p[i], |j| h.threshold(j)),
                    None => self.assign_themes(&theme_p[i]),
                };
                SegmentLabels {
                    in_longer_answer: (seg.role != Role::Interviewer).then_some(in_longer[i]),
                    ..self.label(seg, sent[i], themes, &theme_p[i], stage, why)
                }
            })
            .collect())
    }

    /// Each segment's theme probabilities: sentences of longer answers (`in_longer`) from the
    /// sentence head when there is one, answers of one sentence — whole texts — from the
    /// whole-text head. Each head reads only its own rows (a head is row by row, so this is
    /// what both on every row would give, at half the work on the lexical features).
    fn segment_theme_probs(&self, inputs: &Inputs, in_longer: &[bool]) -> Vec<Vec<f32>> {
        let Some(sentence_head) = &self.sentence_themes else {
            return self.theme_probs(inputs);
        };
        let mut out = vec![Vec::new(); in_longer.len()];
        for (head, longer) in [(&self.theme_model, false), (sentence_head, true)] {
            let rows: Vec<usize> = (0..in_longer.len())
                .filter(|&i| in_longer[i] == longer)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let mut data = Vec::with_capacity(rows.len() * inputs.emb.dim);
            for &i in &rows {
                data.extend_from_slice(inputs.emb.row(i));
            }
            let emb = Embeddings {
                dim: inputs.emb.dim,
                data,
            };
            let texts: Vec<&str> = rows.iter().map(|&i| inputs.texts[i]).collect();
            let langs: Vec<&str> = rows.iter().map(|&i| inputs.langs[i]).collect();
            let sub = Inputs {
                emb: &emb,
                texts: &texts,
                langs: &langs,
            };
            for (i, p) in rows.into_iter().zip(head.probs(&sub)) {
                out[i] = p;
            }
        }
        out
    }

    /// One segment's labels from its (context-adjusted) probabilities, its assigned themes
    /// and stage with their scores (the stage a metadata column names scores 1); `why`
    /// whether the segment answers a why-question.
    fn label(
        &self,
        seg: &Segment,
        sent: [f32; 3],
        (themes, theme_scores): (Vec<String>, Vec<f32>),
        theme_p: &[f32],
        (stage, stage_score): (Option<String>, f32),
        why: bool,
    ) -> SegmentLabels {
        let [neg, _, pos] = sent;
        let k = sent
            .iter()
            .enumerate()
            .fold(0, |b, (j, p)| if *p > sent[b] { j } else { b });
        let stated_reason = why || rootcause::has_cause_clause(&seg.text);
        let root_cause_theme = (k == 0 && seg.role != Role::Interviewer)
            .then(|| {
                let factor = if stated_reason {
                    self.cfg.stated_reason_factor
                } else {
                    1.0
                };
                let min = self.cfg.root_cause_min * factor;
                theme_p
                    .iter()
                    .copied()
                    .enumerate()
                    .filter(|(_, p)| *p >= min)
                    .fold(None, |b: Option<(usize, f32)>, (j, p)| {
                        if b.is_none_or(|(_, bp)| p > bp) {
                            Some((j, p))
                        } else {
                            b
                        }
                    })
                    .map(|(j, _)| self.theme_ids()[j].clone())
            })
            .flatten();
        SegmentLabels {
            sentiment: Sentiment::ALL[k],
            p_sentiment: sent[k],
            sentiment_score: pos - neg,
            themes,
            theme_scores,
            stage,
            stage_score,
            root_cause_theme,
            stated_reason,
            in_longer_answer: None,
        }
    }

    /// Touchpoint-triggered surveys name the stage in a metadata column.
    fn stage_from_metadata(&self, doc: &Document) -> Option<String> {
        let col = self.cfg.stage_column.as_ref()?;
        let value = doc
            .metadata
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(col))
            .and_then(|(_, v)| v.as_deref())?
            .trim();
        if let Some(mapped) = self
            .cfg
            .stage_map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(value))
            .map(|(_, v)| v)
        {
            return Some(mapped.clone());
        }
        self.stages
            .items
            .iter()
            .find(|i| {
                i.id.eq_ignore_ascii_case(value)
                    || i.label.values().any(|l| l.eq_ignore_ascii_case(value))
            })
            .map(|i| i.id.clone())
    }

    /// The trained heads in use (sentiment, themes, stages), for run.json.
    pub fn heads(&self) -> Vec<&LinearHead> {
        let sentiment: Vec<&LinearHead> = match &self.sentiment {
            SentimentSource::Head(h) => vec![h],
            SentimentSource::Routed { feedback, general } => vec![feedback, general],
            SentimentSource::Model(_) => vec![],
        };
        sentiment
            .into_iter()
            .chain(self.theme_model.head())
            .chain(self.sentence_themes.as_ref().and_then(Labeller::head))
            .chain(self.stage_model.head())
            .collect()
    }

    /// Fits the zero-shot tasks' centring and prototypes on a sample of the run (`emb`,
    /// `texts`, `langs` aligned); nothing for tasks with trained heads.
    pub fn fit_zero_shot(
        &self,
        emb: &Embeddings,
        texts: &[&str],
        langs: &[&str],
    ) -> ZeroShotArtifact {
        let inputs = Inputs { emb, texts, langs };
        ZeroShotArtifact {
            themes: self.theme_model.fit(&inputs),
            stages: self.stage_model.fit(&inputs),
        }
    }

    /// Labels every later chunk with `fit` (from [`fit_zero_shot`](Self::fit_zero_shot), or
    /// an earlier run's artifact when appending).
    pub fn set_zero_shot(&mut self, fit: ZeroShotArtifact) -> Result<(), ClassifyError> {
        let bad = |task: &str, e: String| {
            ClassifyError::Config(Error::Config {
                path: "zero_shot.json".into(),
                message: format!("{task}: {e}"),
            })
        };
        if let Some(f) = fit.themes {
            self.theme_model.set_fit(f).map_err(|e| bad("themes", e))?;
        }
        if let Some(f) = fit.stages {
            self.stage_model.set_fit(f).map_err(|e| bad("stages", e))?;
        }
        Ok(())
    }

    /// Tasks assigned zero-shot because their codebook has items without examples.
    pub fn zero_shot_tasks(&self) -> Vec<&'static str> {
        [("themes", &self.theme_model), ("stages", &self.stage_model)]
            .into_iter()
            .filter(|(_, m)| m.head().is_none())
            .map(|(t, _)| t)
            .collect()
    }
}

/// A survey answer to a why-question ("Mikä on tärkein syy antamaasi arvosanaan?") states the
/// reason for its score.
fn answers_why(doc: &Document) -> bool {
    doc.kind != DocKind::Interview
        && doc
            .question
            .as_deref()
            .is_some_and(rootcause::is_why_question)
}
