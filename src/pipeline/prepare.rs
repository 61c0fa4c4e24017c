//! What every run and every shard prepares before its chunks: the stages the configuration
//! chooses, the input files, the encoder and heads (or why classification is skipped), the
//! zero-shot fit, and the settings (with their fingerprint) the parts depend on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};

use super::{chunk, discover, sample, RunOptions};
use crate::config::Config;
use crate::error::Error;
use crate::evidence::ChunkClassifier;
use crate::lang::{self, LanguageDetector};
use crate::output;
use crate::parts;
use crate::segment::{self, Segmenter};

/// Load the encoder and prepare the classifier, or explain in run.json why classification
/// was skipped.
pub(super) fn load_classifier(
    cfg: &Config,
    opts: &RunOptions,
) -> Result<(Option<ChunkClassifier>, Value), Error> {
    if !cfg.classify.enabled {
        return Ok((None, json!({"status": "disabled"})));
    }
    let mut encoder = match cfg.models.load_encoder(opts.model_dir.as_deref()) {
        Ok(e) => e,
        Err(e) if !cfg.classify.require_model => {
            tracing::warn!("classification skipped: {e}");
            return Ok((None, json!({"status": "skipped", "reason": e.to_string()})));
        }
        Err(e) => return Err(e.into()),
    };
    let adapted =
        crate::classify::adapt::adapt_encoder(&cfg.classify, &mut encoder, opts.progress)?;
    let sentiment_model = cfg.models.load_sentiment()?;
    let cl = ChunkClassifier::prepare(cfg, encoder, sentiment_model)?;
    let mut status = json!({"status": "done"});
    // How stages inherit from context: the fitted pooling, or the hand-set weights.
    status["stage_context"] = match cl.classifier.stage_pooling() {
        Some(p) => json!({"method": "learned", "fit": p}),
        None => json!({
            "method": "mixed",
            "question_weight": cfg.classify.question_weight,
            "context_weight": cfg.classify.context_weight,
        }),
    };
    if let Some(p) = cl.classifier.sentiment_pooling() {
        status["sentiment_context"] = json!({"method": "learned", "fit": p});
    }
    if let Some(a) = adapted {
        status["adapted"] = serde_json::to_value(a).unwrap_or_default();
    }
    Ok((Some(cl), status))
}

/// Bumped whenever a part's tables gain, lose or change a column.
const PARTS_LAYOUT: u32 = 2;

/// The settings a part's rows depend on: how inputs are read, segmented, tagged and
/// classified, and with which models. Not the merge's own settings (`discover`, `analyze`,
/// `report`), which may change between a run and a later `palaute merge`, nor the chunk size,
/// which changes nothing, nor model paths, which differ between machines.
pub(super) fn settings(cfg: &Config, classifier: Option<&ChunkClassifier>) -> Value {
    json!({
        "palaute_version": env!("CARGO_PKG_VERSION"),
        // The parts' tables change columns within a version (segments' `in_longer_answer`
        // came on 2026-12-07): parts of another layout must not be merged with these, and
        // an --append onto them is refused naming this setting.
        "parts_layout": PARTS_LAYOUT,
        "ingest": cfg.ingest,
        "transcripts": cfg.transcripts,
        "privacy": cfg.privacy,
        "segment": cfg.segment,
        "lang": cfg.lang,
        "classify": cfg.classify,
        "classified": classifier.is_some(),
        "models": classifier.map(|c| c.models()),
    })
}
/// What a run (or a shard) prepares before the chunks: the stages as the configuration
/// chooses them, the input files, the classifier (with its zero-shot fit, written to the
/// staging folder) and the settings the parts depend on.
pub(super) struct Prepared {
    redactor: crate::redact::Redactor,
    detector: Box<dyn LanguageDetector>,
    segmenter: Box<dyn Segmenter>,
    pub(super) files: Vec<PathBuf>,
    pub(super) classifier: Option<ChunkClassifier>,
    pub(super) classification: Value,
    /// sha256 of the zero-shot fit, when a task is zero-shot.
    pub(super) zero_shot: Option<String>,
    pub(super) settings: Value,
    pub(super) fingerprint: String,
}

impl Prepared {
    pub(super) fn new(
        cfg: &Config,
        opts: &RunOptions,
        stage: &Path,
        timings: &mut BTreeMap<&'static str, f64>,
    ) -> Result<Prepared, Error> {
        let redactor = crate::redact::Redactor::new(&cfg.privacy)?;
        let detector = lang::from_config(&cfg.lang)?;
        let segmenter = segment::from_config(&cfg.segment);
        let files = discover(&opts.inputs, cfg)?;
        if files.is_empty() {
            return Err(Error::NoInputs(opts.inputs.clone()));
        }
        let t = Instant::now();
        let (mut classifier, classification) = load_classifier(cfg, opts)?;
        timings.insert("load_models", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let zero_shot = match classifier.as_mut() {
            Some(c) if !c.classifier.zero_shot_tasks().is_empty() => {
                let ctx = (&*detector, &*segmenter, &redactor);
                Some(zero_shot_fit(cfg, opts, ctx, &files, c, stage)?)
            }
            _ => None,
        };
        if zero_shot.is_some() {
            timings.insert("zero_shot_fit", t.elapsed().as_secs_f64());
        }
        let mut settings = settings(cfg, classifier.as_ref());
        settings["zero_shot_sha256"] = json!(zero_shot);
        let fingerprint = parts::fingerprint(&settings);
        Ok(Prepared {
            redactor,
            detector,
            segmenter,
            files,
            classifier,
            classification,
            zero_shot,
            settings,
            fingerprint,
        })
    }

    /// The `classification` entry of run.json for these chunks: why it was skipped, or the
    /// encoder's statistics, the models and heads, and the zero-shot fit.
    pub(super) fn classification_report(&self) -> Value {
        let mut report = self.classification.clone();
        if let Some(c) = &self.classifier {
            // Keeps what loading recorded (the encoder's adaptation) next to the models.
            report["status"] = json!("done");
            report["encoder"] = c.encoder_report();
            super::merge_json(&mut report, c.models());
        }
        if let Some(sha) = &self.zero_shot {
            report["zero_shot_fit"] =
                json!({"file": ZERO_SHOT, "sha256": sha, "sample": sample::SAMPLE});
        }
        report
    }

    pub(super) fn stages<'a>(
        &'a self,
        cfg: &'a Config,
        shard: Option<crate::parts::shard::Shard>,
    ) -> chunk::Stages<'a> {
        chunk::Stages {
            cfg,
            redactor: &self.redactor,
            detector: &*self.detector,
            segmenter: &*self.segmenter,
            classifier: self.classifier.as_ref(),
            settings: &self.settings,
            fingerprint: &self.fingerprint,
            shard,
        }
    }
}

/// The zero-shot fit of a run, beside its tables.
pub const ZERO_SHOT: &str = "zero_shot.json";

/// The zero-shot state for this run: an `--append` reuses the folder's (its parts were
/// labelled with it), any other run fits it on the inputs' sample. Written to the staging
/// folder; returns its sha256.
fn zero_shot_fit(
    cfg: &Config,
    opts: &RunOptions,
    (detector, segmenter, redactor): (
        &dyn LanguageDetector,
        &dyn Segmenter,
        &crate::redact::Redactor,
    ),
    files: &[PathBuf],
    c: &mut ChunkClassifier,
    stage: &Path,
) -> Result<String, Error> {
    let earlier = opts.out.join(ZERO_SHOT);
    let text = if opts.append && earlier.exists() {
        std::fs::read_to_string(&earlier).map_err(|e| Error::Io {
            path: earlier.clone(),
            source: e,
        })?
    } else {
        let fit = sample::fit_zero_shot(cfg, detector, segmenter, files, c, redactor)?;
        serde_json::to_string(&fit).map_err(|e| Error::output(&stage.join(ZERO_SHOT), e))?
    };
    let fit: crate::classify::ZeroShotArtifact =
        serde_json::from_str(&text).map_err(|e| Error::Config {
            path: earlier.clone(),
            message: e.to_string(),
        })?;
    c.classifier.set_zero_shot(fit)?;
    output::write_atomic(&stage.join(ZERO_SHOT), |f| {
        use std::io::Write;
        f.write_all(text.as_bytes()).map_err(|e| e.to_string())
    })?;
    use sha2::Digest;
    Ok(crate::util::hex(&sha2::Sha256::digest(text.as_bytes())))
}
