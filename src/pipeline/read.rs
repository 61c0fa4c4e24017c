//! Ingest then redact, as one step every reading path shares (the chunked run and the
//! zero-shot sample): no stage after this one ever sees personal data.

use std::path::Path;

use crate::config::Config;
use crate::ingest::{self, FileResult};
use crate::record::Document;
use crate::redact::{Counts, Redactor};

/// Reads one input, redacting every document before `emit` sees it and every reject's raw
/// text; the file's outcome and the redactions made, by kind.
pub fn read_redacted(
    path: &Path,
    source: &str,
    cfg: &Config,
    redactor: &Redactor,
    emit: &mut dyn FnMut(Vec<Document>),
) -> (FileResult, Counts) {
    let mut counts = Counts::new();
    let mut file = ingest::read_file_into(path, source, cfg, &mut |mut docs| {
        for d in &mut docs {
            redactor.document(d, &mut counts);
        }
        emit(docs);
    });
    for r in &mut file.parsed.rejects {
        redactor.reject(r, &mut counts);
    }
    (file, counts)
}
