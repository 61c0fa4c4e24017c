//! Classification: sentiment, codebook themes, journey stage and root cause per segment,
//! computed from the encoder's embeddings with linear heads (or a fine-tuned sentiment model
//! when one is configured). Heads trained from the shipped examples are cached under the
//! encoder's hash; training is deterministic, so a cached head equals a freshly trained one.

pub mod codebook;
pub mod head;
pub mod labeller;
pub mod prototype;
pub mod rootcause;
pub mod training;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::model::{Embeddings, InputKind, TextEncoder, TransformerEncoder};
use crate::record::{DocKind, Document, Role, Segment};
use codebook::{Codebook, CodebookKind, OTHER};
use head::{HeadError, LinearHead, Targets, TrainOptions};
use labeller::Labeller;
use training::{Labelled, SENTIMENT_LABELS};

/// `[classify]` in palaute.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifyConfig {
    /// Run the classification stages (needs an encoder); false writes ingest tables only.
    pub enabled: bool,
    /// Theme codebook: built-in `cx-root-causes` or a path to a TOML codebook. Items with
    /// examples train a head; if any item has only a name, all are assigned zero-shot.
    pub codebook: String,
    /// Journey map: built-in `b2c` / `b2b` or a path to a TOML journey map.
    pub journey: String,
    /// Heads trained with `palaute train` (default: trained from the shipped examples).
    pub sentiment_head: Option<PathBuf>,
    pub theme_head: Option<PathBuf>,
    pub stage_head: Option<PathBuf>,
    /// One probability threshold for every theme instead of the calibrated per-theme ones.
    pub theme_threshold: Option<f32>,
    /// At most this many themes per segment (highest scores first).
    pub max_themes: usize,
    /// Touchpoint-triggered surveys: metadata column naming the journey stage of each answer.
    pub stage_column: Option<String>,
    /// Values of `stage_column` → stage ids, for values that are not stage ids or labels.
    pub stage_map: BTreeMap<String, String>,
    /// Interviews: weight of the interviewer's preceding question in an answer's stage (0–1).
    pub question_weight: f32,
    /// Least theme probability for a negative segment's root cause.
    pub root_cause_min: f32,
    /// Factor on `root_cause_min` when the segment states a reason (cause clause, answer to a
    /// why-question).
    pub stated_reason_factor: f32,
    /// Quotes kept per theme × stage cell.
    pub quotes_per_cell: usize,
    /// Survey answers to a why-question ("Mikä on tärkein syy antamaasi arvosanaan?") explain
    /// the score given, so the score is evidence for their sentiment: a detractor's reason
    /// has its negative probability multiplied by 1 + `score_prior` and its positive one by
    /// 1 − `score_prior` (promoters the other way; passives unchanged), then renormalised.
    /// Plain reports of a problem ("the bill had the same fee twice") otherwise read as
    /// neutral. 0 turns it off; the text still decides when it is clearly positive or negative.
    pub score_prior: f32,
    /// Fail the run when no encoder can be loaded (default: write the ingest tables, warn).
    pub require_model: bool,
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        ClassifyConfig {
            enabled: true,
            codebook: "cx-root-causes".into(),
            journey: "b2c".into(),
            sentiment_head: None,
            theme_head: None,
            stage_head: None,
            theme_threshold: None,
            max_themes: 3,
            stage_column: None,
            stage_map: BTreeMap::new(),
            question_weight: 0.5,
            root_cause_min: 0.35,
            stated_reason_factor: 0.7,
            quotes_per_cell: 5,
            score_prior: 0.5,
            require_model: false,
        }
    }
}

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
    pub sentiment: String,
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
}

enum SentimentSource {
    Head(LinearHead),
    Model(Box<TransformerEncoder>),
}

pub struct Classifier {
    pub cfg: ClassifyConfig,
    pub themes: Codebook,
    pub stages: Codebook,
    sentiment: SentimentSource,
    theme_model: Labeller,
    stage_model: Labeller,
}

/// Where heads trained from shipped data are cached.
pub fn heads_cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PALAUTE_CACHE") {
        return Some(PathBuf::from(d).join("heads"));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("palaute").join("heads"))
}

/// How texts are embedded as classifier features. The E5 authors recommend the `query: `
/// prefix for embeddings used as features (linear probes, clustering); measured on XED-fi
/// and UMSAB it beats `passage: `. Segments, training examples and evaluation texts all use it.
pub const FEATURES: InputKind = InputKind::Query;

/// Bumped whenever training changes, so stale cached heads are not reused.
const HEAD_VERSION: &str = "3";

/// Train a head on `rows` (or load it from the cache when the same encoder already did).
pub fn train_head(
    task: &str,
    rows: &[Labelled],
    labels: &[String],
    multi: bool,
    encoder: &dyn TextEncoder,
    cache: Option<&Path>,
) -> Result<LinearHead, ClassifyError> {
    let opts = TrainOptions::default();
    let mut h = Sha256::new();
    h.update(format!(
        "{HEAD_VERSION}|{task}|{}|{multi}|{opts:?}|{labels:?}",
        head::encoder_hash(encoder.info())
    ));
    for r in rows {
        h.update(r.text.as_bytes());
        h.update(r.labels.join("|").as_bytes());
        h.update([0]);
    }
    let key = crate::ingest::hex(&h.finalize());
    let cached = cache.map(|d| d.join(format!("{task}-{}.json", &key[..16])));
    if let Some(path) = &cached {
        if let Ok(head) = LinearHead::load(path, encoder.info()) {
            return Ok(head);
        }
    }
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let x = encoder.embed(&texts, FEATURES)?;
    let targets = if multi {
        Targets::Multi(
            rows.iter()
                .map(|r| {
                    labels
                        .iter()
                        .map(|l| f32::from(u8::from(r.labels.contains(l))))
                        .collect()
                })
                .collect(),
        )
    } else {
        Targets::Single(
            rows.iter()
                .map(|r| {
                    labels
                        .iter()
                        .position(|l| r.labels.first() == Some(l))
                        .unwrap_or(0) as u32
                })
                .collect(),
        )
    };
    let head = LinearHead::train(task, labels.to_vec(), &x, &targets, encoder.info(), &opts)?;
    if let Some(path) = &cached {
        // A cache that cannot be written only costs time on the next run.
        if std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).is_ok() {
            if let Err(e) = head.save(path) {
                tracing::debug!("could not cache head: {e}");
            }
        }
    }
    Ok(head)
}

fn theme_labels(cb: &Codebook) -> Vec<String> {
    cb.items
        .iter()
        .filter(|i| i.id != OTHER)
        .map(|i| i.id.clone())
        .collect()
}

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
        let load_or =
            |path: &Option<PathBuf>, train: &dyn Fn() -> Result<LinearHead, ClassifyError>| {
                match path {
                    Some(p) => Ok(LinearHead::load(p, encoder.info())?),
                    None => train(),
                }
            };
        let sentiment = match sentiment_model {
            Some(m) => SentimentSource::Model(Box::new(m)),
            None => SentimentSource::Head(load_or(&cfg.sentiment_head, &|| {
                let labels: Vec<String> = SENTIMENT_LABELS.iter().map(|s| s.to_string()).collect();
                train_head(
                    "sentiment",
                    &training::shipped_sentiment()?,
                    &labels,
                    false,
                    encoder,
                    cache,
                )
            })?),
        };
        let labeller = |path: &Option<PathBuf>, task: &str, cb: &Codebook, multi: bool| match path {
            Some(p) => Ok(Labeller::Head(LinearHead::load(p, encoder.info())?)),
            None => Labeller::for_codebook(task, cb, multi, encoder, cache),
        };
        let theme_model = labeller(&cfg.theme_head, "themes", &themes, true)?;
        let stage_model = labeller(&cfg.stage_head, "stages", &stages, false)?;
        Ok(Classifier {
            cfg: cfg.clone(),
            themes,
            stages,
            sentiment,
            theme_model,
            stage_model,
        })
    }

    /// Probabilities of negative/neutral/positive for each row.
    pub fn sentiment_probs(
        &self,
        texts: &[&str],
        emb: &Embeddings,
    ) -> Result<Vec<[f32; 3]>, ClassifyError> {
        match &self.sentiment {
            SentimentSource::Head(h) => Ok(h
                .predict(emb)
                .into_iter()
                .map(|p| [p[0], p[1], p[2]])
                .collect()),
            SentimentSource::Model(m) => {
                let probs = m.classify(texts)?;
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

    /// Theme probabilities of rows in languages `langs` (zero-shot codebooks use them).
    pub fn theme_probs(&self, emb: &Embeddings, langs: &[&str]) -> Vec<Vec<f32>> {
        self.theme_model.probs(emb, langs)
    }

    pub fn theme_ids(&self) -> &[String] {
        self.theme_model.labels()
    }

    pub fn stage_probs(&self, emb: &Embeddings, langs: &[&str]) -> Vec<Vec<f32>> {
        self.stage_model.probs(emb, langs)
    }

    pub fn stage_ids(&self) -> &[String] {
        self.stage_model.labels()
    }

    /// Themes above threshold (best first, at most `max_themes`), else `other`.
    pub fn assign_themes(&self, probs: &[f32]) -> (Vec<String>, Vec<f32>) {
        let mut ranked: Vec<(usize, f32)> = probs.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let passes = |j: usize, p: f32| {
            p >= self
                .cfg
                .theme_threshold
                .unwrap_or(self.theme_model.threshold(j))
        };
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
            let best = probs.iter().copied().fold(0.0, f32::max);
            return (vec![OTHER.to_string()], vec![1.0 - best]);
        }
        (
            chosen
                .iter()
                .map(|(j, _)| self.theme_ids()[*j].clone())
                .collect(),
            chosen.iter().map(|(_, p)| *p).collect(),
        )
    }

    /// Label every segment. `emb` rows align with `segs`.
    pub fn classify(
        &self,
        docs: &[Document],
        segs: &[Segment],
        emb: &Embeddings,
    ) -> Result<Vec<SegmentLabels>, ClassifyError> {
        let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        let sent = self.sentiment_probs(&texts, emb)?;
        let langs: Vec<&str> = segs.iter().map(|s| s.lang.as_str()).collect();
        let theme_p = self.theme_probs(emb, &langs);
        let mut stage_p = self.stage_probs(emb, &langs);
        let doc_index: std::collections::HashMap<&str, &Document> =
            docs.iter().map(|d| (d.doc_id.as_str(), d)).collect();
        let mut out = Vec::with_capacity(segs.len());
        // Interviews: the interviewer's last question frames the answers that follow it.
        let mut question: Option<(String, Vec<f32>, bool)> = None;
        for (i, seg) in segs.iter().enumerate() {
            let doc = doc_index.get(seg.doc_id.as_str()).copied();
            let mut sent_i = sent[i];
            if let Some(d) = doc.filter(|d| {
                d.kind != DocKind::Interview
                    && d.question
                        .as_deref()
                        .is_some_and(rootcause::is_why_question)
            }) {
                sent_i = score_prior(sent_i, d, self.cfg.score_prior);
            }
            let [neg, _, pos] = sent_i;
            let k = sent_i
                .iter()
                .enumerate()
                .fold(0, |b, (j, p)| if *p > sent_i[b] { j } else { b });
            let (themes, theme_scores) = self.assign_themes(&theme_p[i]);
            let mut stated_reason = rootcause::has_cause_clause(&seg.text);
            match doc.map(|d| d.kind) {
                Some(DocKind::Interview) => {
                    if seg.role == Role::Interviewer {
                        let why = rootcause::is_why_question(&seg.text)
                            && seg.text.trim_end().ends_with('?');
                        let same_doc = question.as_ref().is_some_and(|(d, _, _)| *d == seg.doc_id);
                        // Several sentences of one question turn: the question sentences decide.
                        if seg.text.trim_end().ends_with('?') || !same_doc {
                            question = Some((seg.doc_id.clone(), stage_p[i].clone(), why));
                        }
                    } else if let Some((d, q, why)) = &question {
                        if *d == seg.doc_id {
                            let w = self.cfg.question_weight.clamp(0.0, 1.0);
                            stage_p[i] = stage_p[i]
                                .iter()
                                .zip(q)
                                .map(|(a, b)| (1.0 - w) * a + w * b)
                                .collect();
                            stated_reason |= *why;
                        }
                    }
                }
                _ => {
                    stated_reason |= doc
                        .and_then(|d| d.question.as_deref())
                        .is_some_and(rootcause::is_why_question);
                }
            }
            let (stage, stage_score) = match doc.and_then(|d| self.stage_from_metadata(d)) {
                Some(s) => (Some(s), 1.0),
                None => {
                    let (j, p) = stage_p[i]
                        .iter()
                        .copied()
                        .enumerate()
                        .fold((0, f32::MIN), |b, (j, p)| if p > b.1 { (j, p) } else { b });
                    (self.stage_ids().get(j).cloned(), p)
                }
            };
            let negative = k == 0 && seg.role != Role::Interviewer;
            let root_cause_theme = if negative {
                let min = self.cfg.root_cause_min
                    * if stated_reason {
                        self.cfg.stated_reason_factor
                    } else {
                        1.0
                    };
                theme_p[i]
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
            } else {
                None
            };
            out.push(SegmentLabels {
                sentiment: SENTIMENT_LABELS[k].to_string(),
                p_sentiment: sent_i[k],
                sentiment_score: pos - neg,
                themes,
                theme_scores,
                stage,
                stage_score,
                root_cause_theme,
                stated_reason,
            });
        }
        Ok(out)
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
        let sentiment = match &self.sentiment {
            SentimentSource::Head(h) => Some(h),
            SentimentSource::Model(_) => None,
        };
        sentiment
            .into_iter()
            .chain(self.theme_model.head())
            .chain(self.stage_model.head())
            .collect()
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

/// Shifts `p` (negative, neutral, positive) towards the side of the document's score; see
/// [`ClassifyConfig::score_prior`]. Unscored documents and passives are left as they are.
pub fn score_prior(p: [f32; 3], doc: &Document, strength: f32) -> [f32; 3] {
    let (Some(score), Some(kind)) = (doc.score, doc.score_kind) else {
        return p;
    };
    let s = strength.clamp(0.0, 0.95);
    // CSAT 1–2 / 4–5 play the part of detractors / promoters.
    let side = match kind {
        crate::record::ScoreKind::Nps => match crate::record::nps_group(score) {
            "detractor" => -1.0,
            "promoter" => 1.0,
            _ => 0.0,
        },
        crate::record::ScoreKind::Csat if score <= 2.0 => -1.0,
        crate::record::ScoreKind::Csat if score >= 4.0 => 1.0,
        crate::record::ScoreKind::Csat => 0.0,
    };
    let w = [1.0 - side * s, 1.0, 1.0 + side * s];
    let q: Vec<f32> = p.iter().zip(w).map(|(a, b)| a * b).collect();
    let sum: f32 = q.iter().sum::<f32>().max(f32::MIN_POSITIVE);
    [q[0] / sum, q[1] / sum, q[2] / sum]
}

/// Document sentiment: the char-weighted mean of its non-interviewer segments' scores.
pub fn document_sentiment(segs: &[(&Segment, &SegmentLabels)]) -> Option<(String, f32)> {
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
        "negative"
    } else if score >= 0.2 {
        "positive"
    } else {
        "neutral"
    };
    Some((label.to_string(), score))
}

/// `palaute train`: a head from a researcher's labelled CSV (`id,text,lang,label`), by default
/// together with the shipped examples so classes the file lacks are still learned.
pub fn train_from_file(
    cfg: &ClassifyConfig,
    encoder: &dyn TextEncoder,
    path: &Path,
    task: crate::eval::EvalTask,
    with_shipped: bool,
) -> Result<LinearHead, ClassifyError> {
    use crate::eval::EvalTask;
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut rows = training::read_labelled_csv(&text, path)?;
    let (labels, multi, shipped): (Vec<String>, bool, Vec<Labelled>) = match task {
        EvalTask::Sentiment => {
            for r in &mut rows {
                let l = r.labels.first().cloned().unwrap_or_default();
                let n = training::normalise_sentiment_label(&l).ok_or_else(|| Error::Config {
                    path: path.to_path_buf(),
                    message: format!("row {}: {l:?} is not negative/neutral/positive", r.id),
                })?;
                r.labels = vec![n.to_string()];
            }
            (
                SENTIMENT_LABELS.iter().map(|s| s.to_string()).collect(),
                false,
                training::shipped_sentiment()?,
            )
        }
        EvalTask::Themes => {
            let cb = Codebook::resolve(&cfg.codebook, CodebookKind::Theme)?;
            (theme_labels(&cb), true, training::codebook_rows(&cb))
        }
        EvalTask::Stages => {
            let cb = Codebook::resolve(&cfg.journey, CodebookKind::Stage)?;
            (
                cb.ids().iter().map(|s| s.to_string()).collect(),
                false,
                training::codebook_rows(&cb),
            )
        }
    };
    for r in &rows {
        if let Some(bad) = r
            .labels
            .iter()
            .find(|l| !labels.contains(l) && l.as_str() != OTHER)
        {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!("row {}: label {bad:?} is not one of {labels:?}", r.id),
            }
            .into());
        }
    }
    if with_shipped {
        rows.extend(shipped);
    }
    let name = match task {
        EvalTask::Sentiment => "sentiment",
        EvalTask::Themes => "themes",
        EvalTask::Stages => "stages",
    };
    train_head(name, &rows, &labels, multi, encoder, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ScoreKind;

    fn doc(score: Option<f64>, kind: ScoreKind) -> Document {
        Document {
            doc_id: "d".into(),
            kind: DocKind::Response,
            source_file: "f.csv".into(),
            source_row: Some(2),
            source_column: None,
            question: Some("Mikä on tärkein syy antamaasi arvosanaan?".into()),
            respondent_id: None,
            score,
            score_kind: score.map(|_| kind),
            date: None,
            metadata: vec![],
            text: String::new(),
            turns: vec![],
            lang: None,
        }
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
