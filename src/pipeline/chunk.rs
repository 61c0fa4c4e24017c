//! One input file through the per-chunk stages: its documents, in chunks of whole documents,
//! are segmented, tagged with a language, embedded and classified, and each chunk's rows are
//! written to the input's part folder as soon as they are done. Only one chunk's segments and
//! embeddings are in memory at a time.

use std::path::Path;

use rayon::prelude::*;

use crate::config::Config;
use crate::error::Error;
use crate::evidence::ChunkClassifier;
use crate::ingest::FileResult;
use crate::lang::{self, LanguageDetector, LinguaDetector};
use crate::output::{documents_frame, rejects_frame, segments_frame, write_parquet};
use crate::parts::{self, PartInfo, Table};
use crate::record::{Document, Segment};
use crate::segment::{self, SentenceSegmenter};

/// The stages every chunk goes through, prepared once per run.
pub struct Stages<'a> {
    pub cfg: &'a Config,
    pub detector: &'a LinguaDetector,
    pub segmenter: &'a SentenceSegmenter,
    pub classifier: Option<&'a ChunkClassifier>,
    pub settings: &'a serde_json::Value,
    pub fingerprint: &'a str,
}

/// Writes the part of one input file under `root`; `done(documents)` after each chunk.
pub fn write_part(
    st: &Stages,
    file: FileResult,
    input: serde_json::Value,
    root: &Path,
    mut done: impl FnMut(usize),
) -> Result<PartInfo, Error> {
    let dir = root.join(parts::key(&file.source, &file.sha256));
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        path: dir.clone(),
        source: e,
    })?;
    let mut parsed = file.parsed;
    let out = |name: &Path, e: polars::prelude::PolarsError| Error::Output {
        path: name.to_path_buf(),
        message: e.to_string(),
    };
    let rejects_path = dir.join(parts::REJECTS);
    let mut rejects = rejects_frame(&parsed.rejects).map_err(|e| out(&rejects_path, e))?;
    write_parquet(&mut rejects, &rejects_path)?;
    let size = st.cfg.run.chunk_documents.max(1);
    let (mut chunks, mut segments) = (0, 0);
    for (c, docs) in parsed.documents.chunks_mut(size).enumerate() {
        segments += write_chunk(st, docs, &dir, c)?;
        chunks += 1;
        done(docs.len());
    }
    let info = PartInfo {
        source: file.source,
        sha256: file.sha256,
        chunks,
        rows: parsed.rows,
        documents: parsed.documents.len(),
        segments,
        rejects: parsed.rejects.len(),
        classified: st.classifier.is_some(),
        fingerprint: st.fingerprint.to_string(),
        settings: st.settings.clone(),
        input,
    };
    parts::write_info(&dir, &info)?;
    Ok(info)
}

/// Segments, languages and labels of one chunk, written as its part files. Returns the
/// number of segments.
fn write_chunk(st: &Stages, docs: &mut [Document], dir: &Path, c: usize) -> Result<usize, Error> {
    let per_doc: Vec<Vec<Segment>> = docs
        .par_iter()
        .map(|d| {
            let mut segs = segment::segment_document(d, st.segmenter);
            for s in &mut segs {
                let (l, conf) = st.detector.detect(&s.text);
                s.lang = l;
                s.lang_confidence = conf;
            }
            segs
        })
        .collect();
    docs.par_iter_mut()
        .zip(per_doc.par_iter())
        .for_each(|(d, segs)| {
            let weights: Vec<(&str, usize)> = segs
                .iter()
                .map(|s| (s.lang.as_str(), s.text.chars().count()))
                .collect();
            d.lang = lang::majority(&weights).or_else(|| Some(st.detector.detect(&d.text).0));
        });
    let n_segments: Vec<u32> = per_doc.iter().map(|s| s.len() as u32).collect();
    let segs: Vec<Segment> = per_doc.into_iter().flatten().collect();
    let labelled = match st.classifier {
        Some(cl) => Some(
            cl.label(docs, &segs, |_| {})
                .map_err(|e| Error::Classify(e.to_string()))?,
        ),
        None => None,
    };
    let frame_err = |table: Table, e: polars::prelude::PolarsError| Error::Output {
        path: parts::chunk_path(dir, table, c),
        message: e.to_string(),
    };
    let mut df = documents_frame(
        docs,
        &n_segments,
        labelled.as_ref().map(|l| l.doc_sentiment.as_slice()),
    )
    .map_err(|e| frame_err(Table::Documents, e))?;
    write_parquet(&mut df, &parts::chunk_path(dir, Table::Documents, c))?;
    let mut df = segments_frame(&segs, labelled.as_ref().map(|l| l.labels.as_slice()))
        .map_err(|e| frame_err(Table::Segments, e))?;
    write_parquet(&mut df, &parts::chunk_path(dir, Table::Segments, c))?;
    if let Some(l) = &labelled {
        let ids: Vec<String> = segs.iter().map(|s| s.segment_id.clone()).collect();
        let mut df = crate::model::embeddings_frame(&ids, &l.embeddings)
            .map_err(|e| frame_err(Table::Embeddings, e))?;
        write_parquet(&mut df, &parts::chunk_path(dir, Table::Embeddings, c))?;
    }
    Ok(segs.len())
}
