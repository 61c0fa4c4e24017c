//! The run: discover inputs → ingest → segment → language → write tables, run.json and
//! report.html.
//! Stages are composed here from the configuration; each stage works on plain records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::config::Config;
use crate::error::Error;
use crate::evidence::Evidence;
use crate::ingest::{self, FileDetail};
use crate::lang::{self, LanguageDetector, LinguaDetector};
use crate::output::{self, folder::Commit, folder::Writer};
use crate::progress::Progress;
use crate::record::{Document, Reject, Segment};
use crate::segment::{self, SentenceSegmenter};

/// What to run on and where the tables go.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub progress: Progress,
    /// Encoder directory given on the command line (wins over the configuration).
    pub model_dir: Option<PathBuf>,
    /// Also write `embeddings.parquet` (segment_id, embedding).
    pub write_embeddings: bool,
}

/// Per-input facts for run.json.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub format: &'static str,
    #[serde(flatten)]
    pub detail: FileDetail,
    pub rows: usize,
    pub documents: usize,
    pub rejects: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub files: usize,
    pub documents: usize,
    pub segments: usize,
    pub rejects: usize,
    pub inputs: Vec<InputReport>,
    pub outputs: Vec<PathBuf>,
}

/// Files under the inputs, sorted so runs are reproducible. Hidden files and the config's
/// skip names are left out when walking folders; files named explicitly are always read.
pub fn discover(inputs: &[PathBuf], cfg: &Config) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_file() {
            files.push(input.clone());
        } else if input.is_dir() {
            let mut found = Vec::new();
            walk(input, cfg, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            return Err(Error::MissingInput(input.clone()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    Ok(files)
}

fn skipped(name: &str, cfg: &Config) -> bool {
    name.starts_with('.')
        || cfg.ingest.skip.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == p,
        })
}

fn walk(dir: &Path, cfg: &Config, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io = |e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if skipped(&name, cfg) {
            continue;
        }
        if path.is_dir() {
            walk(&path, cfg, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Load the encoder and classify, or explain in run.json why classification was skipped.
fn classify_stage(
    cfg: &Config,
    opts: &RunOptions,
    docs: &[Document],
    segs: &[Segment],
) -> Result<(Option<Evidence>, serde_json::Value), Error> {
    if !cfg.classify.enabled {
        return Ok((None, json!({"status": "disabled"})));
    }
    let classify_err = |e: crate::classify::ClassifyError| Error::Classify(e.to_string());
    let encoder = match cfg.models.load_encoder(opts.model_dir.as_deref()) {
        Ok(e) => e,
        Err(e) if !cfg.classify.require_model => {
            tracing::warn!("classification skipped: {e}");
            return Ok((None, json!({"status": "skipped", "reason": e.to_string()})));
        }
        Err(e) => return Err(Error::Classify(e.to_string())),
    };
    let sentiment_model = cfg
        .models
        .load_sentiment()
        .map_err(|e| Error::Classify(e.to_string()))?;
    let evidence = crate::evidence::run(cfg, &encoder, sentiment_model, docs, segs, opts.progress)
        .map_err(classify_err)?;
    let mut report = evidence.report.clone();
    report["status"] = json!("done");
    Ok((Some(evidence), report))
}

/// Run the ingest pipeline and write documents/segments/rejects Parquet plus run.json.
pub fn run(cfg: &Config, opts: &RunOptions) -> Result<RunSummary, Error> {
    let started = Instant::now();
    let mut timings: BTreeMap<&str, f64> = BTreeMap::new();
    let mut lap = {
        let mut t = Instant::now();
        move |name: &'static str, timings: &mut BTreeMap<&str, f64>| {
            timings.insert(name, t.elapsed().as_secs_f64());
            t = Instant::now();
        }
    };
    // Fail on configuration problems before any work.
    let detector = LinguaDetector::new(&cfg.lang)?;
    let segmenter = SentenceSegmenter::new(&cfg.segment);
    // Locks the folder (one run at a time), finishes or clears what a killed run left; the
    // outputs go to a staging folder and become visible together at the commit.
    let writer = Writer::begin(&opts.out)?;
    let stage = writer.staging().to_path_buf();
    let in_place = |p: &Path| opts.out.join(p.file_name().unwrap_or_default());

    let files = discover(&opts.inputs, cfg)?;
    if files.is_empty() {
        return Err(Error::NoInputs(opts.inputs.clone()));
    }
    lap("discover", &mut timings);

    let bar = opts.progress.bar(files.len() as u64, "files");
    let results: Vec<ingest::FileResult> = files
        .par_iter()
        .map(|f| {
            let r = ingest::read_file(f, &ingest::source_name(f), cfg);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();
    let mut inputs = Vec::new();
    let mut documents: Vec<Document> = Vec::new();
    let mut rejects: Vec<Reject> = Vec::new();
    for r in results {
        for rej in r.parsed.rejects.iter().filter(|x| x.line.is_none()) {
            tracing::warn!("{}: {}", rej.source_file, rej.reason);
        }
        inputs.push(InputReport {
            path: r.source,
            sha256: r.sha256,
            bytes: r.bytes,
            format: r.format,
            detail: r.parsed.detail,
            rows: r.parsed.rows,
            documents: r.parsed.documents.len(),
            rejects: r.parsed.rejects.len(),
        });
        documents.extend(r.parsed.documents);
        rejects.extend(r.parsed.rejects);
    }
    lap("ingest", &mut timings);

    let bar = opts.progress.bar(documents.len() as u64, "segment");
    let per_doc: Vec<Vec<Segment>> = documents
        .par_iter()
        .map(|d| {
            let s = segment::segment_document(d, &segmenter);
            bar.inc(1);
            s
        })
        .collect();
    bar.finish_and_clear();
    lap("segment", &mut timings);

    let total: usize = per_doc.iter().map(Vec::len).sum();
    let bar = opts.progress.bar(total as u64, "language");
    let per_doc: Vec<Vec<Segment>> = per_doc
        .into_par_iter()
        .map(|mut segs| {
            for s in &mut segs {
                let (l, c) = detector.detect(&s.text);
                s.lang = l;
                s.lang_confidence = c;
            }
            bar.inc(segs.len() as u64);
            segs
        })
        .collect();
    bar.finish_and_clear();
    documents
        .par_iter_mut()
        .zip(per_doc.par_iter())
        .for_each(|(d, segs)| {
            let weights: Vec<(&str, usize)> = segs
                .iter()
                .map(|s| (s.lang.as_str(), s.text.chars().count()))
                .collect();
            d.lang = lang::majority(&weights).or_else(|| {
                let (l, _) = detector.detect(&d.text);
                Some(l)
            });
        });
    lap("lang", &mut timings);

    let n_segments: Vec<u32> = per_doc.iter().map(|s| s.len() as u32).collect();
    let segments: Vec<Segment> = per_doc.into_iter().flatten().collect();

    let (mut evidence, classification) = classify_stage(cfg, opts, &documents, &segments)?;
    lap("classify", &mut timings);

    let mut outputs = output::write_tables(
        &stage,
        &documents,
        &n_segments,
        &segments,
        &rejects,
        evidence.as_mut(),
    )?;
    if let (true, Some(ev)) = (opts.write_embeddings, &evidence) {
        let ids: Vec<String> = segments.iter().map(|s| s.segment_id.clone()).collect();
        let path = stage.join("embeddings.parquet");
        let mut df =
            crate::model::embeddings_frame(&ids, &ev.embeddings).map_err(|e| Error::Output {
                path: path.clone(),
                message: e.to_string(),
            })?;
        output::write_parquet(&mut df, &path)?;
        outputs.push(path);
    }
    let mut outputs: Vec<PathBuf> = outputs.iter().map(|p| in_place(p)).collect();
    lap("write", &mut timings);

    let summary = RunSummary {
        files: files.len(),
        documents: documents.len(),
        segments: segments.len(),
        rejects: rejects.len(),
        inputs,
        outputs: outputs.clone(),
    };
    let run_json = stage.join("run.json");
    let mut langs: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &segments {
        *langs.entry(s.lang.as_str()).or_insert(0) += 1;
    }
    let report = json!({
        "palaute_version": env!("CARGO_PKG_VERSION"),
        "command": "run",
        "inputs": summary.inputs,
        "config": cfg,
        "classification": classification,
        "counts": {
            "files": summary.files,
            "rows": summary.inputs.iter().map(|i| i.rows).sum::<usize>(),
            "documents": summary.documents,
            "segments": summary.segments,
            "rejects": summary.rejects,
            "segments_by_lang": langs,
        },
        "timings_s": timings,
        "total_s": started.elapsed().as_secs_f64(),
    });
    output::write_json(&report, &run_json)?;
    outputs.push(in_place(&run_json));
    // The report is a view of the tables just written: failing to render it is worth a
    // warning, not a failed run whose tables are complete.
    let page = stage.join("report.html");
    match crate::report::write_page(&stage, cfg.report.lang, &page) {
        Ok(()) => outputs.push(in_place(&page)),
        Err(e) => tracing::warn!("report.html not written: {e}"),
    }
    writer.commit(Commit::Replace)?;
    outputs.push(opts.out.join(output::folder::MANIFEST));
    Ok(RunSummary { outputs, ..summary })
}
