//! `report.html`: one self-contained page (inline CSS, JS and SVG; no network) that presents
//! an output folder — the theme × journey-stage heatmap, NPS drivers, per-theme evidence with
//! quotes, and the run facts with rejects. Static parts are rendered here as HTML and SVG so
//! they read (and print) without JavaScript; the script only adds the cell popovers.
//!
//! The page is a pure function of the folder's tables and run.json: no clock, no random ids,
//! fixed ordering, so the same folder renders byte-identically.

mod changes;
mod data;
mod drivers;
mod facts;
mod fmt;
mod html;
mod i18n;
mod quotes;
mod sections;
mod table;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Quotes kept per theme × stage cell (quotes.parquet may hold more).
pub const MAX_QUOTES_PER_CELL: usize = 5;
/// Quotes shown per theme.
pub const MAX_QUOTES_PER_THEME: usize = 5;
/// Quotes embedded in the whole page: bounds its size whatever the number of themes.
pub const MAX_QUOTES_TOTAL: usize = 400;
/// Longer quotes are cut (at a word boundary) to this many characters.
pub const MAX_QUOTE_CHARS: usize = 400;
/// Reject examples listed, and reject reason groups listed.
pub const MAX_REJECT_EXAMPLES: usize = 10;
pub const MAX_REJECT_REASONS: usize = 20;

/// Language of the report's interface (theme and stage labels follow it too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum UiLang {
    Fi,
    Sv,
    #[default]
    En,
}

impl UiLang {
    pub fn code(self) -> &'static str {
        match self {
            UiLang::Fi => "fi",
            UiLang::Sv => "sv",
            UiLang::En => "en",
        }
    }
}

/// `[report]` in palaute.toml: the report `palaute run` writes at the end.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportConfig {
    /// Interface language of report.html: "fi", "sv" or "en".
    pub lang: UiLang,
}

#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub lang: UiLang,
    /// Where to write; `OUT_DIR/report.html` when unset.
    pub out: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path} is missing (is this a `palaute run` output folder?)")]
    Missing { path: PathBuf },
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    /// Writing report.html (the message names the file).
    #[error(transparent)]
    Write(#[from] crate::Error),
    /// The output folder is locked, inconsistent or incomplete.
    #[error(transparent)]
    Folder(#[from] crate::output::folder::FolderError),
}

impl ReportError {
    fn read(path: &Path, e: impl std::fmt::Display) -> Self {
        ReportError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

/// The page for an output folder, as a string.
pub fn render_report(out_dir: &Path, opts: &ReportOptions) -> Result<String, ReportError> {
    let data = data::load(out_dir, opts.lang)?;
    Ok(html::render(&data, opts.lang))
}

/// `palaute report`: renders the output folder `out_dir` (after checking it holds one run's
/// outputs) and writes the page to `opts.out`, or as the folder's `report.html` through a
/// commit that updates its manifest. Returns the path written.
pub fn write_report(out_dir: &Path, opts: &ReportOptions) -> Result<PathBuf, ReportError> {
    use crate::output::folder::{verify, Commit, Writer};
    // Checked before locking too, so a mistyped folder is an error, not a new empty folder.
    let reading = verify(out_dir)?;
    if let Some(path) = &opts.out {
        write_page(out_dir, opts.lang, path)?;
        return Ok(path.clone());
    }
    drop(reading);
    let writer = Writer::begin(out_dir)?;
    let reading = verify(out_dir)?;
    write_page(out_dir, opts.lang, &writer.staging().join("report.html"))?;
    // The commit takes the lock this reading holds shared.
    drop(reading);
    writer.commit(Commit::Update)?;
    Ok(out_dir.join("report.html"))
}

/// Renders the tables in `tables_dir` and writes the page to `path` atomically (temporary
/// file beside it, then rename).
pub fn write_page(tables_dir: &Path, lang: UiLang, path: &Path) -> Result<(), ReportError> {
    let page = render_report(tables_dir, &ReportOptions { lang, out: None })?;
    crate::output::write_atomic(path, |f| {
        std::io::Write::write_all(f, page.as_bytes()).map_err(|e| e.to_string())
    })?;
    Ok(())
}
