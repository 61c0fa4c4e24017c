//! palaute: customer feedback (survey exports, interview transcripts) → traceable evidence
//! tables. Stages: `ingest` → `segment` → `lang` → `model` (embeddings) → `classify` →
//! `discover` → `analyze` → `output` (→ `report`, the HTML view of an output folder), composed
//! by `pipeline` from a serde `config`.

pub mod analyze;
pub mod classify;
pub mod config;
pub mod discover;
pub mod error;
pub mod eval;
pub mod evidence;
pub mod ingest;
pub mod lang;
pub mod merge;
pub mod model;
pub mod output;
pub mod parts;
pub mod pipeline;
pub mod progress;
pub mod query;
pub mod record;
pub mod redact;
pub mod report;
pub mod segment;
pub mod text;
pub mod util;

pub use config::Config;
pub use error::{Error, Result};
pub use pipeline::{run, RunOptions, RunSummary};
