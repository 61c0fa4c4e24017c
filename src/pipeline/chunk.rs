//! One input file through the per-chunk stages: its documents, in chunks of whole documents,
//! are segmented, tagged with a language, embedded and classified, and each chunk's rows are
//! written to the input's part folder as soon as they are done. Only one chunk's segments and
//! embeddings are in memory at a time.

use std::path::Path;

use rayon::prelude::*;

use crate::config::Config;
use crate::error::Error;
use crate::evidence::ChunkClassifier;
use crate::lang::{self, LanguageDetector};
use crate::output::{documents_frame, rejects_frame, segments_frame, write_parquet};
use crate::parts::{self, PartInfo, Table};
use crate::record::{Document, Segment};
use crate::segment::{self, Segmenter};

/// The stages every chunk goes through, prepared once per run.
pub struct Stages<'a> {
    pub cfg: &'a Config,
    pub redactor: &'a crate::redact::Redactor,
    pub detector: &'a dyn LanguageDetector,
    pub segmenter: &'a dyn Segmenter,
    pub classifier: Option<&'a ChunkClassifier>,
    pub settings: &'a serde_json::Value,
    pub fingerprint: &'a str,
    /// The shard of a sharded run: only its blocks of each input are processed.
    pub shard: Option<crate::parts::shard::Shard>,
}

/// Reads one input file and writes its part under `root`: the reader runs on its own thread
/// and hands documents over a bounded channel, and every `chunk_documents` of them are
/// processed and written at once, so a file of any size costs a few chunks of memory (plus
/// its bytes, for the sha256 and the decoder). `done(documents)` after each chunk.
pub fn write_part(
    st: &Stages,
    path: &Path,
    source: &str,
    root: &Path,
    mut done: impl FnMut(usize),
) -> Result<PartInfo, Error> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| Error::Io { path: p, source: e }
    };
    // Chunks go to a folder named when the file's sha256 is known, at the end.
    let tmp = root.join(format!(".reading-{}", parts::key(source, "")));
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let (file, counts, redactions) = read_in_chunks(st, path, source, &tmp, &mut done)?;
    let Counts {
        mut chunks,
        mut documents,
        mut segments,
        mut seen,
    } = counts;
    let mut parsed = file.parsed;
    if file.failed {
        // Rejected as a whole after some documents were read (a reader that panicked
        // mid-file): none of it may reach the outputs.
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        (chunks, documents, segments, seen) = (0, 0, 0, 0);
    }
    parsed.documents.clear();
    // Every shard reads the whole input and so meets every reject; the shard of block 0
    // keeps them.
    let all_rejects = parsed.rejects.len();
    if st.shard.is_some_and(|s| !s.owns(source, 0)) {
        parsed.rejects.clear();
    }
    let rejects_path = tmp.join(parts::REJECTS);
    let mut rejects =
        rejects_frame(&parsed.rejects).map_err(|e| Error::output(&rejects_path, e))?;
    write_parquet(&mut rejects, &rejects_path)?;
    for rej in parsed.rejects.iter().filter(|x| x.line.is_none()) {
        tracing::warn!("{}: {}", rej.source_file, rej.reason);
    }
    let input = serde_json::to_value(super::InputReport {
        path: file.source.clone(),
        sha256: file.sha256.clone(),
        bytes: file.bytes,
        format: file.format,
        detail: parsed.detail.clone(),
        rows: parsed.rows,
        documents: seen,
        rejects: all_rejects,
        redactions,
    })
    .unwrap_or(serde_json::Value::Null);
    let info = PartInfo {
        source: file.source,
        sha256: file.sha256,
        chunks,
        rows: parsed.rows,
        documents,
        segments,
        rejects: parsed.rejects.len(),
        classified: st.classifier.is_some(),
        fingerprint: st.fingerprint.to_string(),
        settings: st.settings.clone(),
        input,
        shard: st.shard.map(|s| parts::shard::PartShard {
            index: s.index,
            count: s.count,
            block_documents: st.cfg.run.chunk_documents.max(1),
            total_documents: seen,
        }),
    };
    parts::write_info(&tmp, &info)?;
    let dir = root.join(parts::key(&info.source, &info.sha256));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
    }
    std::fs::rename(&tmp, &dir).map_err(io(&tmp))?;
    Ok(info)
}

/// Chunks written by [`read_in_chunks`].
struct Counts {
    chunks: usize,
    documents: usize,
    segments: usize,
    /// Documents the reader handed over, this shard's or not.
    seen: usize,
}

/// Runs the reader on its own thread and writes every `chunk_documents` documents it hands
/// over as chunk files in `tmp` — in a sharded run, only the shard's blocks of
/// `chunk_documents` documents, each as one chunk. The file's outcome (with rejects; `failed`
/// when rejected as a whole) and what was written.
fn read_in_chunks(
    st: &Stages,
    path: &Path,
    source: &str,
    tmp: &Path,
    done: &mut dyn FnMut(usize),
) -> Result<(crate::ingest::FileResult, Counts, crate::redact::Counts), Error> {
    let size = st.cfg.run.chunk_documents.max(1);
    let (mut chunks, mut documents, mut segments, mut seen) = (0, 0, 0, 0);
    let mut failure: Option<Error> = None;
    let mut pending: Vec<Document> = Vec::new();
    let mut flush = |docs: &mut Vec<Document>, failure: &mut Option<Error>| {
        if failure.is_some() || docs.is_empty() {
            return;
        }
        match write_chunk(st, docs, tmp, chunks) {
            Ok(n) => {
                segments += n;
                chunks += 1;
                documents += docs.len();
                done(docs.len());
            }
            Err(e) => *failure = Some(e),
        }
    };
    let file = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Document>>(2);
        let cfg = st.cfg;
        let reader = scope.spawn(move || {
            super::read::read_redacted(path, source, cfg, st.redactor, &mut |d| {
                // A closed channel means the chunks failed; the reader just finishes.
                let _ = tx.send(d);
            })
        });
        for batch in rx {
            match st.shard {
                None => {
                    seen += batch.len();
                    pending.extend(batch);
                }
                Some(s) => {
                    for d in batch {
                        // Blocks are whole, so a chunk of `size` is exactly one block.
                        if s.owns(source, seen / size) {
                            pending.push(d);
                        }
                        seen += 1;
                    }
                }
            }
            while pending.len() >= size && failure.is_none() {
                let mut chunk: Vec<Document> = pending.drain(..size).collect();
                flush(&mut chunk, &mut failure);
            }
            if failure.is_some() {
                pending.clear();
            }
        }
        reader.join()
    });
    let (file, redactions) = file.map_err(|_| Error::Output {
        path: path.to_path_buf(),
        message: "the reader thread failed".into(),
    })?;
    if !file.failed {
        flush(&mut pending, &mut failure);
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok((
        file,
        Counts {
            chunks,
            documents,
            segments,
            seen,
        },
        redactions,
    ))
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
        Some(cl) => Some(cl.label(docs, &segs, |_| {})?),
        None => None,
    };
    let frame_err = |table: Table, e: polars::prelude::PolarsError| {
        Error::output(&parts::chunk_path(dir, table, c), e)
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
