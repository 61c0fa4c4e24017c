//! Run configuration: plain serde structs with defaults. Every field is optional in
//! `palaute.toml`; `palaute init` writes [`STARTER_TOML`], which documents them all.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::record::ScoreKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub run: RunConfig,
    pub ingest: IngestConfig,
    pub transcripts: TranscriptConfig,
    pub segment: SegmentConfig,
    pub lang: LangConfig,
    pub privacy: crate::redact::PrivacyConfig,
    pub models: crate::model::ModelsConfig,
    pub classify: crate::classify::ClassifyConfig,
    pub discover: crate::discover::DiscoverConfig,
    pub analyze: crate::analyze::AnalyzeConfig,
    pub report: crate::report::ReportConfig,
}

/// How a run is cut into chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Whole documents per chunk: a chunk's segments and embeddings are what a run holds in
    /// memory at once (about 2 kB per segment while classifying). Outputs do not depend on it.
    pub chunk_documents: usize,
    /// Shards of a sharded run when the scheduler gives only the index (a Kubernetes Indexed
    /// Job's JOB_COMPLETION_INDEX with `--shard auto`): the Job's `completions`.
    pub shards: Option<usize>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            chunk_documents: 2000,
            shards: None,
        }
    }
}

impl Config {
    /// Checks values serde cannot: a clear error up front instead of a clamped value later.
    pub fn validate(&self) -> Result<(), Error> {
        self.check(Path::new("palaute.toml"))
    }

    /// [`validate`](Self::validate), naming `origin` in the error.
    fn check(&self, origin: &Path) -> Result<(), Error> {
        let bad = |message: String| Error::Config {
            path: origin.to_path_buf(),
            message,
        };
        if self.run.chunk_documents == 0 {
            return Err(bad("[run] chunk_documents must be at least 1".into()));
        }
        let c = &self.classify;
        let unit = |name: &str, v: f64| -> Result<(), Error> {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(bad(format!("{name} must be between 0 and 1 (is {v})")))
            }
        };
        let at_least_one = |name: &str, v: usize| -> Result<(), Error> {
            if v >= 1 {
                Ok(())
            } else {
                Err(bad(format!("{name} must be at least 1")))
            }
        };
        at_least_one("[ingest] max_cell_chars", self.ingest.max_cell_chars)?;
        at_least_one(
            "[ingest] max_inflated_mb",
            self.ingest.max_inflated_mb as usize,
        )?;
        at_least_one("[classify] quotes_per_cell", c.quotes_per_cell)?;
        at_least_one("[classify] max_themes", c.max_themes)?;
        unit("[classify] question_weight", c.question_weight.into())?;
        unit("[classify] context_weight", c.context_weight.into())?;
        unit("[classify] root_cause_min", c.root_cause_min.into())?;
        if !(0.0..=0.95).contains(&c.score_prior) {
            return Err(bad(format!(
                "[classify] score_prior must be between 0 and 0.95 (is {})",
                c.score_prior
            )));
        }
        let ad = &c.adapt;
        at_least_one("[classify.adapt] batch", ad.batch)?;
        if let Some(f) = ad.examples.iter().find(|f| !ad.tasks.contains(&f.task)) {
            return Err(bad(format!(
                "[classify.adapt] examples: {} labels {}, which is not in tasks",
                f.file.display(),
                f.task.name()
            )));
        }
        for (name, v) in [("lr", ad.lr), ("head_lr", ad.head_lr), ("scale", ad.scale)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(format!(
                    "[classify.adapt] {name} must be a positive number (is {v})"
                )));
            }
        }
        unit("[classify.adapt] keep", ad.keep.into())?;
        unit("[lang] min_confidence", self.lang.min_confidence)?;
        unit(
            "[discover] merge_similarity",
            self.discover.merge_similarity.into(),
        )?;
        at_least_one(
            "[discover] min_cluster_size",
            self.discover.min_cluster_size,
        )?;
        at_least_one("[discover] max_points", self.discover.max_points)?;
        let a = &self.analyze;
        at_least_one("[analyze] min_respondents", a.min_respondents)?;
        if a.shapley_exact_max > crate::analyze::EXACT_SHAPLEY_LIMIT {
            return Err(bad(format!(
                "[analyze] shapley_exact_max must be at most {} (is {}): 2^n subsets per resample",
                crate::analyze::EXACT_SHAPLEY_LIMIT,
                a.shapley_exact_max
            )));
        }
        if !(a.alpha > 0.0 && a.alpha < 1.0) {
            return Err(bad(format!(
                "[analyze] alpha must be between 0 and 1 (is {})",
                a.alpha
            )));
        }
        Ok(())
    }

    pub fn from_toml(text: &str, origin: &Path) -> Result<Self, Error> {
        let cfg: Config = toml::from_str(text).map_err(|e| Error::Config {
            path: origin.to_path_buf(),
            message: e.to_string(),
        })?;
        cfg.check(origin)?;
        Ok(cfg)
    }

    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = crate::util::read_text(path)?;
        Self::from_toml(&text, path)
    }
}

/// How survey exports are read. Automatic detection covers the common exports; these fields
/// exist for the export that needs a nudge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Force a text encoding (WHATWG label such as "windows-1252", "utf-16le") instead of sniffing.
    pub encoding: Option<String>,
    /// Force a field delimiter instead of sniffing among `,` `;` tab `|`.
    pub delimiter: Option<char>,
    /// XLSX sheet to read; the first sheet when unset.
    pub sheet: Option<String>,
    /// File names skipped when a folder is walked (exact names or `prefix*`); files named
    /// explicitly on the command line are always read.
    pub skip: Vec<String>,
    /// Most megabytes a compressed part of a file (DOCX `word/document.xml`) may inflate to;
    /// beyond it the file is rejected, so a deflate bomb cannot exhaust memory.
    pub max_inflated_mb: u64,
    /// Most characters of one table cell; a longer cell is cut at a word boundary and the cut
    /// is a field-level reject (Excel itself stops at 32 767).
    pub max_cell_chars: usize,
    pub columns: ColumnOverrides,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            encoding: None,
            delimiter: None,
            sheet: None,
            skip: vec![
                "README*".into(),
                "LICENSE*".into(),
                "~$*".into(),
                "palaute.toml".into(),
            ],
            max_inflated_mb: 200,
            max_cell_chars: 100_000,
            columns: ColumnOverrides::default(),
        }
    }
}

/// Column roles by header name (exact, case-insensitive). Unset roles are detected from header
/// names in fi/sv/en and from the values. A named column missing from a file is ignored there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnOverrides {
    /// Respondent id column.
    pub id: Option<String>,
    /// Open-text columns; each non-empty cell becomes one document.
    pub text: Vec<String>,
    /// Score column (NPS or CSAT).
    pub score: Option<String>,
    /// Scale of the score column; inferred from header and values when unset.
    pub score_kind: Option<ScoreKind>,
    /// Response date column.
    pub date: Option<String>,
    /// Columns never used (neither text nor metadata), e.g. e-mail addresses.
    pub ignore: Vec<String>,
}

/// Interview speaker roles. Names match case-insensitively as substrings of the speaker label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TranscriptConfig {
    pub interviewers: Vec<String>,
    pub participants: Vec<String>,
}

/// Segmenters: chosen here, built by `segment::from_config`; another one is a variant and an
/// arm there, not a change to the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentMethod {
    /// Sentences (Unicode rules plus fi/sv/en abbreviations), long ones split at whitespace.
    Sentences,
}

/// Language detectors, built by `lang::from_config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectorKind {
    /// lingua's n-gram models, restricted to `languages`.
    Lingua,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentConfig {
    /// The segmenter implementation.
    pub method: SegmentMethod,
    /// Sentences longer than this many chars are split at the last whitespace before it, so a
    /// run-on comment still yields quotable units.
    pub max_chars: usize,
    /// Extra abbreviations (with their final dot, e.g. "ns.") that never end a sentence.
    pub abbreviations: Vec<String>,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        SegmentConfig {
            method: SegmentMethod::Sentences,
            max_chars: 1000,
            abbreviations: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LangConfig {
    /// The language detector implementation.
    pub detector: DetectorKind,
    /// ISO 639-1 codes the detector may answer with; restricting the set is what makes short
    /// texts reliable.
    pub languages: Vec<String>,
    /// Below this confidence (0–1) a segment is `und`.
    pub min_confidence: f64,
    /// Texts with fewer letters than this ("ok", emoji) are `und` without asking the detector.
    pub min_letters: usize,
}

impl Default for LangConfig {
    fn default() -> Self {
        LangConfig {
            detector: DetectorKind::Lingua,
            languages: vec!["fi".into(), "sv".into(), "en".into()],
            min_confidence: 0.5,
            min_letters: 4,
        }
    }
}

/// The file `palaute init` writes: every setting with its default, commented.
pub const STARTER_TOML: &str = include_str!("../palaute.example.toml");

/// A non-empty environment variable as a path.
pub(crate) fn env_path(key: &str) -> Option<PathBuf> {
    std::env::var_os(key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// palaute's per-user cache: `$XDG_CACHE_HOME/palaute`, else `~/.cache/palaute` (models and
/// trained heads live below it unless `PALAUTE_MODELS` / `PALAUTE_CACHE` say otherwise).
pub(crate) fn user_cache_dir() -> Option<PathBuf> {
    env_path("XDG_CACHE_HOME")
        .or_else(|| env_path("HOME").map(|h| h.join(".cache")))
        .map(|d| d.join("palaute"))
}

/// Folder `sub` of what palaute trains once and reuses (heads, adapted layers):
/// `$PALAUTE_CACHE/sub`, else `sub` in the [`user_cache_dir`].
pub(crate) fn trained_cache_dir(sub: &str) -> Option<PathBuf> {
    env_path("PALAUTE_CACHE")
        .or_else(user_cache_dir)
        .map(|d| d.join(sub))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_file_is_the_defaults() {
        let cfg = Config::from_toml(STARTER_TOML, Path::new("palaute.example.toml")).unwrap();
        // Values serde accepts but palaute cannot use: refused at load, naming the key.
        let err = Config::from_toml("[run]\nchunk_documents = 0\n", Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("p.toml") && err.contains("chunk_documents"),
            "{err}"
        );
        for (toml, key) in [
            ("[classify.adapt]\ntasks = [\"topics\"]\n", "topics"),
            ("[classify.adapt]\nkeep = 2.0\n", "keep"),
            ("[classify.adapt]\nlr = 0.0\n", "lr"),
            ("[classify.adapt]\nbatch = 0\n", "batch"),
            ("[classify.adapt]\nepoch = 3\n", "epoch"),
            (
                "[classify.adapt]\ntasks = [\"sentiment\"]\n\
                 [[classify.adapt.examples]]\nfile = \"x.csv\"\ntask = \"stages\"\n",
                "x.csv labels stages",
            ),
        ] {
            let err = Config::from_toml(toml, Path::new("p.toml"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{toml}: {err}");
        }
        let err = Config::from_toml("[classify]\ncontext_weight = 1.5\n", Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("context_weight") && err.contains("1.5"),
            "{err}"
        );
        assert_eq!(cfg, Config::default());
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_file() {
        let err =
            Config::from_toml("[ingest]\ndelimeter = ';'\n", Path::new("x.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("x.toml") && msg.contains("delimeter"), "{msg}");
    }
}
