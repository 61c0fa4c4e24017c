//! Ingest: one reader per input format, each turning a file into `Document`s and `Reject`s.
//! A file never fails the run: whatever cannot be read becomes a reject naming the file and,
//! where possible, the line or row.

pub mod cell;
pub mod columns;
pub mod csv;
pub mod decode;
pub mod excel;
pub mod inflate;
pub mod jsonl;
pub mod parquet;
pub mod table;
pub mod transcript;

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::record::{Document, Reject};
use table::{Layout, RawRow};

/// A record a parser could not use: (1-based line, reason, raw text).
pub type RowReject = (u64, String, String);

/// What a reader made of one file.
#[derive(Debug, Default)]
pub struct Parsed {
    pub documents: Vec<Document>,
    pub rejects: Vec<Reject>,
    /// Input records seen: data rows of a table, cues of a transcript.
    pub rows: usize,
    pub detail: FileDetail,
}

/// How the file was read, recorded in run.json so a wrong guess is visible.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FileDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<Layout>,
}

/// An input file's bytes and the name it is known by in every output table.
pub struct Input<'a> {
    pub path: &'a Path,
    pub source: &'a str,
    pub bytes: &'a [u8],
}

/// A format reader. Implementations are stateless; configuration comes with each call.
pub trait Reader: Sync {
    fn format(&self) -> &'static str;
    fn read(&self, input: &Input, cfg: &Config) -> Result<Parsed, String>;

    /// Like [`read`](Self::read), handing documents to `emit` in batches as they are read;
    /// the returned `Parsed` has no documents. Readers of formats that can be large override
    /// it to stream; the others hand over everything at the end.
    fn read_into(
        &self,
        input: &Input,
        cfg: &Config,
        emit: &mut dyn FnMut(Vec<Document>),
    ) -> Result<Parsed, String> {
        let mut parsed = self.read(input, cfg)?;
        emit(std::mem::take(&mut parsed.documents));
        Ok(parsed)
    }
}

pub struct DelimitedReader;
pub struct ExcelReader;
pub struct JsonLinesReader;
pub struct ParquetReader;
pub struct VttReader;
pub struct SrtReader;
pub struct DocxReader;
pub struct TextTranscriptReader;

/// The reader for a file: by extension, and for `.txt` by content (Excel's "Unicode text"
/// export is a tab-separated table with a .txt name; interview notes are .txt too).
pub fn reader_for(path: &Path, bytes: &[u8], cfg: &Config) -> Option<&'static dyn Reader> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    Some(match ext.as_str() {
        "csv" | "tsv" | "tab" => &DelimitedReader,
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => &ExcelReader,
        "jsonl" | "ndjson" | "json" => &JsonLinesReader,
        "parquet" | "pq" => &ParquetReader,
        "vtt" => &VttReader,
        "srt" => &SrtReader,
        "docx" => &DocxReader,
        "md" | "markdown" => &TextTranscriptReader,
        "txt" | "text" => {
            let tabular = decode::decode(bytes, cfg.ingest.encoding.as_deref())
                .map(|d| looks_tabular(&d.text))
                .unwrap_or(false);
            if tabular {
                &DelimitedReader
            } else {
                &TextTranscriptReader
            }
        }
        _ => return None,
    })
}

/// Tab-separated with a consistent column count over the first lines.
fn looks_tabular(text: &str) -> bool {
    let counts: Vec<usize> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .map(|l| l.matches('\t').count())
        .collect();
    counts.len() >= 2
        && counts[0] >= 1
        && counts.iter().filter(|c| **c == counts[0]).count() * 10 >= counts.len() * 7
}

/// Read one file completely. Never fails: problems become rejects.
pub fn read_file(path: &Path, source: &str, cfg: &Config) -> FileResult {
    let mut documents = Vec::new();
    let mut r = read_file_into(path, source, cfg, &mut |d| documents.extend(d));
    if !r.failed {
        r.parsed.documents = documents;
    }
    r
}

/// Read one file, handing its documents to `emit` in batches as they are read (streaming
/// readers) or all at the end. Never fails: problems become rejects. When the result is
/// `failed` (a whole-file reject), documents already emitted must be discarded.
pub fn read_file_into(
    path: &Path,
    source: &str,
    cfg: &Config,
    emit: &mut dyn FnMut(Vec<Document>),
) -> FileResult {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return FileResult::failed(
                source,
                String::new(),
                0,
                "unknown",
                format!("cannot read file: {e}"),
            );
        }
    };
    let sha256 = crate::util::hex(&Sha256::digest(&bytes));
    let size = bytes.len() as u64;
    if bytes.is_empty() {
        return FileResult::failed(
            source,
            sha256,
            size,
            "unknown",
            "empty file (0 bytes)".into(),
        );
    }
    let Some(reader) = reader_for(path, &bytes, cfg) else {
        return FileResult::failed(source, sha256, size, "unknown", "unsupported file type (supported: .csv .tsv .txt .xlsx .xls .ods .jsonl .ndjson .json .parquet .vtt .srt .docx .md)".into());
    };
    let input = Input {
        path,
        source,
        bytes: &bytes,
    };
    // A reader (or a library under it: Polars panics on some corrupt Parquet metadata, found
    // by tests/it/fuzz.rs) that panics costs its file, not the run.
    let outcome = crate::util::catch_quietly(|| reader.read_into(&input, cfg, emit))
        .unwrap_or_else(|panic| {
            Err(format!(
                "the file is corrupt: the {} reader failed on it ({panic})",
                reader.format()
            ))
        });
    match outcome {
        Ok(parsed) => FileResult {
            source: source.to_string(),
            sha256,
            bytes: size,
            format: reader.format(),
            parsed,
            failed: false,
        },
        Err(reason) => FileResult::failed(source, sha256, size, reader.format(), reason),
    }
}

/// One input file's outcome.
#[derive(Debug)]
pub struct FileResult {
    pub source: String,
    pub sha256: String,
    pub bytes: u64,
    pub format: &'static str,
    pub parsed: Parsed,
    /// The whole file was rejected: nothing of it is in the outputs.
    pub failed: bool,
}

impl FileResult {
    fn failed(
        source: &str,
        sha256: String,
        bytes: u64,
        format: &'static str,
        reason: String,
    ) -> Self {
        FileResult {
            source: source.to_string(),
            sha256,
            bytes,
            format,
            parsed: Parsed {
                rejects: vec![Reject::file(source, reason)],
                ..Parsed::default()
            },
            failed: true,
        }
    }
}

fn decode_text(input: &Input, cfg: &Config) -> Result<decode::Decoded, String> {
    decode::decode(input.bytes, cfg.ingest.encoding.as_deref())
        .map_err(|e| format!("cannot read as text: {}", e.0))
}

fn row_rejects(source: &str, raw: Vec<RowReject>) -> Vec<Reject> {
    raw.into_iter()
        .map(|(line, reason, text)| Reject::row(source, line, reason, &text))
        .collect()
}

/// Shared tail of every tabular reader.
fn finish_table(
    input: &Input,
    rows: Vec<RawRow>,
    rejects: Vec<Reject>,
    detail: FileDetail,
    cfg: &Config,
) -> Result<Parsed, String> {
    if rows.len() <= 1 && rejects.is_empty() {
        return Err("no data rows (header only)".into());
    }
    let outcome = table::build(input.source, rows, &cfg.ingest)?;
    Ok(table_parsed(outcome, rejects, detail))
}

/// A streaming reader's documents collected: its `read`.
fn collect_documents(reader: &dyn Reader, input: &Input, cfg: &Config) -> Result<Parsed, String> {
    let mut documents = Vec::new();
    let parsed = reader.read_into(input, cfg, &mut |d| documents.extend(d))?;
    Ok(Parsed {
        documents,
        ..parsed
    })
}

/// The records of a table (the header row first) as `feed` hands them to its callback; `feed`
/// returns the records it could not parse.
type Feed<'f> = &'f mut dyn FnMut(RawRow) -> Result<(), String>;

/// A streamed table: rows to [`table::TableStream`] as `feed` parses them.
fn stream_table(
    input: &Input,
    cfg: &Config,
    detail: FileDetail,
    emit: &mut dyn FnMut(Vec<Document>),
    feed: impl FnOnce(Feed) -> Result<Vec<RowReject>, String>,
) -> Result<Parsed, String> {
    let mut table = table::TableStream::new(input.source, &cfg.ingest);
    let mut records = 0usize;
    let broken = feed(&mut |row| {
        records += 1;
        table.push(row, emit)
    })?;
    if records <= 1 && broken.is_empty() {
        return Err("no data rows (header only)".into());
    }
    let outcome = table.finish(emit)?;
    Ok(table_parsed(
        outcome,
        row_rejects(input.source, broken),
        detail,
    ))
}

/// A table's outcome with the records its parser already rejected (they never reached the
/// table but were rows of the file).
fn table_parsed(
    mut outcome: table::TableOutcome,
    mut rejects: Vec<Reject>,
    detail: FileDetail,
) -> Parsed {
    let rows = outcome.rows + rejects.len();
    rejects.append(&mut outcome.rejects);
    rejects.sort_by_key(|r| r.line);
    Parsed {
        rows,
        documents: outcome.documents,
        rejects,
        detail: FileDetail {
            layout: Some(outcome.layout),
            ..detail
        },
    }
}

impl Reader for DelimitedReader {
    fn format(&self) -> &'static str {
        "delimited"
    }
    fn read(&self, input: &Input, cfg: &Config) -> Result<Parsed, String> {
        collect_documents(self, input, cfg)
    }

    /// Records go to the table one by one: the decoded text and one batch of documents are
    /// what a file of any size costs.
    fn read_into(
        &self,
        input: &Input,
        cfg: &Config,
        emit: &mut dyn FnMut(Vec<Document>),
    ) -> Result<Parsed, String> {
        let decoded = decode_text(input, cfg)?;
        let text = csv::lone_cr_to_lf(&decoded.text);
        let delimiter = cfg
            .ingest
            .delimiter
            .map_or_else(|| csv::sniff(&text), |c| c as u8);
        let detail = FileDetail {
            encoding: Some(decoded.encoding),
            delimiter: Some(csv::delimiter_name(delimiter)),
            ..FileDetail::default()
        };
        stream_table(input, cfg, detail, emit, |on_row| {
            csv::parse_with(&text, delimiter, on_row)
        })
    }
}

impl Reader for ExcelReader {
    fn format(&self) -> &'static str {
        "spreadsheet"
    }
    fn read(&self, input: &Input, cfg: &Config) -> Result<Parsed, String> {
        let limit = cfg.ingest.max_inflated_mb.saturating_mul(1 << 20);
        inflate::check_parts(input.bytes, limit, |name, part| match name {
            "content.xml" => excel::check_ods_grid(part),
            _ => Ok(()),
        })?;
        let (sheet, rows) = excel::read(input.path, cfg.ingest.sheet.as_deref())?;
        let detail = FileDetail {
            sheet: Some(sheet),
            ..FileDetail::default()
        };
        finish_table(input, rows, Vec::new(), detail, cfg)
    }
}

impl Reader for JsonLinesReader {
    fn format(&self) -> &'static str {
        "jsonl"
    }
    fn read(&self, input: &Input, cfg: &Config) -> Result<Parsed, String> {
        collect_documents(self, input, cfg)
    }

    /// JSON Lines are streamed like CSV ([`jsonl::parse_lines_with`]); a JSON array is one
    /// value and is read whole.
    fn read_into(
        &self,
        input: &Input,
        cfg: &Config,
        emit: &mut dyn FnMut(Vec<Document>),
    ) -> Result<Parsed, String> {
        let decoded = decode_text(input, cfg)?;
        let detail = FileDetail {
            encoding: Some(decoded.encoding),
            ..FileDetail::default()
        };
        if jsonl::is_array(&decoded.text) {
            let parsed = jsonl::parse(&decoded.text);
            let rejects = row_rejects(input.source, parsed.rejects);
            let mut p = finish_table(input, parsed.rows, rejects, detail, cfg)?;
            emit(std::mem::take(&mut p.documents));
            return Ok(p);
        }
        stream_table(input, cfg, detail, emit, |on_row| {
            jsonl::parse_lines_with(&decoded.text, on_row)
        })
    }
}

impl Reader for ParquetReader {
    fn format(&self) -> &'static str {
        "parquet"
    }
    fn read(&self, input: &Input, cfg: &Config) -> Result<Parsed, String> {
        collect_documents(self, input, cfg)
    }

    /// Read slice by slice ([`parquet::read_with`]) into the streamed table.
    fn read_into(
        &self,
        input: &Input,
        cfg: &Config,
        emit: &mut dyn FnMut(Vec<Document>),
    ) -> Result<Parsed, String> {
        parquet::check_isolated(input.path)?;
        stream_table(input, cfg, FileDetail::default(), emit, |on_row| {
            parquet::read_with(input.path, on_row).map(|()| Vec::new())
        })
    }
}

fn finish_transcript(
    input: &Input,
    cues: Vec<transcript::Cue>,
    raw_rejects: Vec<RowReject>,
    detail: FileDetail,
    cfg: &Config,
) -> Result<Parsed, String> {
    let rejects = row_rejects(input.source, raw_rejects);
    let rows = cues.len() + rejects.len();
    let doc = transcript::build_document(input.source, cues, &cfg.transcripts)?;
    Ok(Parsed {
        documents: vec![doc],
        rejects,
        rows,
        detail,
    })
}

impl Reader for VttReader {
    fn format(&self) -> &'static str {
        "webvtt"
    }
    fn read(&self, input: &Input, cfg: &Config) -> Result<Parsed, String> {
        let decoded = decode_text(input, cfg)?;
        let (cues, rejects) = transcript::vtt::parse(&decoded.text)?;
        let detail = FileDetail {
            encoding: Some(decoded.encoding),
            ..FileDetail::default()
        };
        finish_transcript(input, cues, rejects, detail, cfg)
    }
}

impl Reader for SrtReader {
    fn format(&self) -> &'static str {
        "srt"
    }
    fn read(&self, input: &Input, cfg: &Config) -> Result<Parsed, String> {
        let decoded = decode_text(input, cfg)?;
        let (cues, rejects) = transcript::srt::parse(&decoded.text);
        let detail = FileDetail {
            encoding: Some(decoded.encoding),
            ..FileDetail::default()
        };
        finish_transcript(input, cues, rejects, detail, cfg)
    }
}

impl Reader for DocxReader {
    fn format(&self) -> &'static str {
        "docx"
    }
    fn read(&self, input: &Input, cfg: &Config) -> Result<Parsed, String> {
        let limit = cfg.ingest.max_inflated_mb.saturating_mul(1 << 20);
        let paragraphs = transcript::docx::paragraphs(input.bytes, limit)?;
        let cues = transcript::lines::parse(&paragraphs);
        finish_transcript(input, cues, Vec::new(), FileDetail::default(), cfg)
    }
}

impl Reader for TextTranscriptReader {
    fn format(&self) -> &'static str {
        "text transcript"
    }
    fn read(&self, input: &Input, cfg: &Config) -> Result<Parsed, String> {
        let decoded = decode_text(input, cfg)?;
        let cues = transcript::lines::parse(&transcript::lines::from_text(&decoded.text));
        let detail = FileDetail {
            encoding: Some(decoded.encoding),
            ..FileDetail::default()
        };
        finish_transcript(input, cues, Vec::new(), detail, cfg)
    }
}

pub use crate::util::source_name;
