//! Tabular survey exports (CSV, XLSX, JSON Lines, Parquet) share one path once their readers
//! have produced rows of cells: recognise the tool's extra header rows, find column roles,
//! then turn every row into documents (one per non-empty open-text answer) or a reject.

use std::collections::HashMap;

use serde::Serialize;

use super::cell::Cell;
use super::columns::{self, Roles};
use crate::config::{ColumnOverrides, IngestConfig};
use crate::record::{DocKind, Document, Reject};

/// One physical record of a table, with where it starts in the file.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// 1-based line (text formats) or spreadsheet row.
    pub line: u64,
    pub cells: Vec<Cell>,
}

/// What the table looked like, for run.json: lets a researcher check the guesses.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Layout {
    /// Export shape recognised from the header rows.
    pub shape: &'static str,
    pub header_rows: usize,
    pub id: Option<String>,
    pub score: Option<String>,
    pub score_kind: Option<&'static str>,
    pub date: Option<String>,
    pub text: Vec<String>,
    pub metadata: Vec<String>,
}

#[derive(Debug, Default)]
pub struct TableOutcome {
    pub documents: Vec<Document>,
    pub rejects: Vec<Reject>,
    /// Data rows seen (header rows excluded).
    pub rows: usize,
    pub layout: Layout,
}

/// SurveyMonkey's second header row labels answer types, not questions.
const SURVEYMONKEY_ROW2: &[&str] = &[
    "response",
    "open-ended response",
    "other (please specify)",
    "responses",
];

/// Data rows the column roles are detected from. A table is read as a stream: roles come from
/// its first rows (all of a smaller table), and every later row is turned into documents as
/// it arrives, so a file of millions of rows is never held as rows.
pub const SAMPLE_ROWS: usize = 10_000;

/// Documents handed on at once while streaming.
const BATCH: usize = 1024;

/// What the header rows and the sample decided.
struct Ready {
    headers: Vec<String>,
    questions: Vec<Option<String>>,
    roles: Roles,
    layout: Layout,
}

/// A table read row by row: [`push`](Self::push) each physical row (header rows first), then
/// [`finish`](Self::finish). Documents go to `emit` in batches as soon as the roles are known.
pub struct TableStream<'a> {
    source: &'a str,
    ov: &'a ColumnOverrides,
    /// Longest cell kept whole ([`IngestConfig::max_cell_chars`]).
    max_cell_chars: usize,
    /// Header rows and the sample, until the roles are known.
    pending: Vec<RawRow>,
    ready: Option<Ready>,
    seen_ids: HashMap<String, usize>,
    batch: Vec<Document>,
    rejects: Vec<Reject>,
    rows: usize,
}

impl<'a> TableStream<'a> {
    pub fn new(source: &'a str, cfg: &'a IngestConfig) -> Self {
        TableStream {
            source,
            ov: &cfg.columns,
            max_cell_chars: cfg.max_cell_chars,
            pending: Vec::new(),
            ready: None,
            seen_ids: HashMap::new(),
            batch: Vec::new(),
            rejects: Vec::new(),
            rows: 0,
        }
    }

    /// Errors only when the roles cannot be decided (no open-text column): the whole file.
    pub fn push(
        &mut self,
        mut row: RawRow,
        emit: &mut dyn FnMut(Vec<Document>),
    ) -> Result<(), String> {
        self.cut_giant_cells(&mut row);
        if self.ready.is_none() {
            self.pending.push(row);
            // Header rows (at most 3) plus the sample.
            if self.pending.len() > SAMPLE_ROWS + 3 {
                self.decide(emit)?;
            }
            return Ok(());
        }
        self.row(&row, emit);
        Ok(())
    }

    /// A cell of megabytes is not an answer (typically an unbalanced quote that swallowed the
    /// rest of a CSV, or a pasted document); whole, it would cost ten times its size in
    /// segments through every stage. It is cut at a word boundary and the cut recorded as a
    /// field-level reject, so nothing is lost silently.
    fn cut_giant_cells(&mut self, row: &mut RawRow) {
        let max = self.max_cell_chars;
        for (col, cell) in row.cells.iter_mut().enumerate() {
            let Cell::Text(text) = cell else { continue };
            let Some((at, _)) = text.char_indices().nth(max) else {
                continue;
            };
            let cut = text[..at]
                .rfind(char::is_whitespace)
                .filter(|w| *w >= at / 2)
                .unwrap_or(at);
            let chars = text.chars().count();
            text.truncate(cut);
            let reason = format!(
                "cell in column {} has {chars} characters; cut to the first {} \
                 ([ingest] max_cell_chars = {max})",
                col + 1,
                text.chars().count()
            );
            self.rejects
                .push(Reject::field(self.source, row.line, reason, text));
        }
    }

    fn decide(&mut self, emit: &mut dyn FnMut(Vec<Document>)) -> Result<(), String> {
        let (ready, rows) = prepare(std::mem::take(&mut self.pending), self.ov)?;
        self.ready = Some(ready);
        for row in rows {
            self.row(&row, emit);
        }
        Ok(())
    }

    fn row(&mut self, row: &RawRow, emit: &mut dyn FnMut(Vec<Document>)) {
        let Some(r) = &self.ready else { return };
        self.rows += 1;
        let source = self.source;
        match row_documents(
            source,
            row,
            &r.headers,
            &r.questions,
            &r.roles,
            &mut self.seen_ids,
        ) {
            Ok((docs, field_problems)) => {
                self.batch.extend(docs);
                for reason in field_problems {
                    self.rejects
                        .push(Reject::field(source, row.line, reason, &row_raw(row)));
                }
            }
            Err(reason) => self
                .rejects
                .push(Reject::row(source, row.line, reason, &row_raw(row))),
        }
        if self.batch.len() >= BATCH {
            emit(std::mem::take(&mut self.batch));
        }
    }

    /// The rest of the documents to `emit`; the rows seen, rejects and layout.
    pub fn finish(mut self, emit: &mut dyn FnMut(Vec<Document>)) -> Result<TableOutcome, String> {
        if self.ready.is_none() {
            if self.pending.is_empty() {
                return Err("empty file (no header row)".into());
            }
            self.decide(emit)?;
        }
        if !self.batch.is_empty() {
            emit(std::mem::take(&mut self.batch));
        }
        let layout = self.ready.map(|r| r.layout).unwrap_or_default();
        Ok(TableOutcome {
            documents: Vec::new(),
            rejects: self.rejects,
            rows: self.rows,
            layout,
        })
    }
}

/// The whole table at once (XLSX, JSON Lines, Parquet, tests): `rows` starts with the header
/// row. Errs, rejecting the whole file, when the table has no usable open-text column.
pub fn build(source: &str, rows: Vec<RawRow>, cfg: &IngestConfig) -> Result<TableOutcome, String> {
    let mut stream = TableStream::new(source, cfg);
    let mut documents = Vec::new();
    let mut emit = |d: Vec<Document>| documents.extend(d);
    for row in rows {
        stream.push(row, &mut emit)?;
    }
    let outcome = stream.finish(&mut emit)?;
    Ok(TableOutcome {
        documents,
        ..outcome
    })
}

/// Recognises the export's header rows and detects the column roles from the sample: the
/// header state and the data rows of `rows`.
fn prepare(mut rows: Vec<RawRow>, ov: &ColumnOverrides) -> Result<(Ready, Vec<RawRow>), String> {
    if rows.is_empty() {
        return Err("empty file (no header row)".into());
    }
    let header_row = rows.remove(0);
    let mut header_cells = header_row.cells.clone();
    let mut questions: Vec<Option<String>> = vec![None; header_cells.len()];
    let mut shape = "plain";
    if rows.len() >= 2 && is_import_id_row(&rows[1].cells) {
        shape = "qualtrics";
        for (i, q) in questions.iter_mut().enumerate() {
            *q = rows[0].cells.get(i).and_then(Cell::display);
        }
        rows.drain(..2);
    } else if !rows.is_empty() && is_surveymonkey_row2(&rows[0].cells) {
        shape = "surveymonkey";
        let sub = rows.remove(0);
        header_cells = surveymonkey_headers(&header_cells, &sub.cells);
    }
    let headers = header_names(&header_cells);
    questions.resize(headers.len(), None);
    let header_rows = match shape {
        "qualtrics" => 3,
        "surveymonkey" => 2,
        _ => 1,
    };
    let refs: Vec<&[Cell]> = rows.iter().map(|r| r.cells.as_slice()).collect();
    let roles = columns::detect(&headers, &questions, &refs, ov);
    let name = |i: usize| headers[i].clone();
    let layout = Layout {
        shape,
        header_rows,
        id: roles.id.map(name),
        score: roles.score.map(name),
        score_kind: roles.score_kind.map(|k| k.as_str()),
        date: roles.date.map(name),
        text: roles.text.iter().map(|i| name(*i)).collect(),
        metadata: roles.metadata.iter().map(|i| name(*i)).collect(),
    };
    if roles.text.is_empty() {
        return Err(format!(
            "no open-text column found among {:?}; name them in palaute.toml under [ingest.columns] text = [...]",
            headers
        ));
    }
    let ready = Ready {
        headers,
        questions,
        roles,
        layout,
    };
    Ok((ready, rows))
}

fn header_names(cells: &[Cell]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let base = c
                .display()
                .map(|s| s.trim_start_matches('\u{feff}').to_string())
                .unwrap_or_else(|| format!("column_{}", i + 1));
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                base
            } else {
                format!("{base}_{n}")
            }
        })
        .collect()
}

fn is_import_id_row(cells: &[Cell]) -> bool {
    let filled: Vec<String> = cells.iter().filter_map(Cell::display).collect();
    !filled.is_empty()
        && filled
            .iter()
            .filter(|s| s.starts_with("{\"ImportId\""))
            .count()
            * 2
            > filled.len()
}

/// SurveyMonkey's row 2: answer-type markers under single questions and choice labels under
/// multiple-choice questions; the respondent columns at the left are blank.
fn is_surveymonkey_row2(cells: &[Cell]) -> bool {
    let marker = |c: &Cell| {
        c.display()
            .is_some_and(|s| SURVEYMONKEY_ROW2.contains(&s.to_lowercase().as_str()))
    };
    cells.first().is_some_and(Cell::is_empty) && cells.iter().any(marker)
}

/// Multiple-choice questions span several columns with one header; name each column after
/// its question and choice ("Which channels…? [App]") so metadata stays readable.
fn surveymonkey_headers(top: &[Cell], sub: &[Cell]) -> Vec<Cell> {
    let mut question = String::new();
    (0..top.len().max(sub.len()))
        .map(|i| {
            let head = top.get(i).and_then(Cell::display);
            if let Some(h) = &head {
                question = h.clone();
            }
            let label = sub.get(i).and_then(Cell::display);
            match label {
                Some(l)
                    if !SURVEYMONKEY_ROW2.contains(&l.to_lowercase().as_str())
                        && !question.is_empty() =>
                {
                    Cell::Text(format!("{question} [{l}]"))
                }
                _ => head.map_or(Cell::Empty, Cell::Text),
            }
        })
        .collect()
}

fn row_raw(row: &RawRow) -> String {
    row.cells
        .iter()
        .map(|c| c.display().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn row_documents(
    source: &str,
    row: &RawRow,
    headers: &[String],
    questions: &[Option<String>],
    roles: &Roles,
    seen_ids: &mut HashMap<String, usize>,
) -> Result<(Vec<Document>, Vec<String>), String> {
    let cell = |i: usize| row.cells.get(i).unwrap_or(&Cell::Empty);
    // A bad score costs the score, not the comment: the documents keep a null score and the
    // problem becomes a field-level reject.
    let (score, field_problem) = match roles.score {
        None => (None, None),
        Some(i) => match cell(i).as_number() {
            None => (None, None),
            Some(Err(())) => (
                None,
                Some(format!(
                    "non-numeric score {:?} in column {:?} (comment kept, score null)",
                    cell(i).display().unwrap_or_default(),
                    headers[i]
                )),
            ),
            Some(Ok(v)) => {
                let kind = roles.score_kind.unwrap_or(crate::record::ScoreKind::Nps);
                let (lo, hi) = kind.range();
                if (lo..=hi).contains(&v) {
                    (Some(v), None)
                } else {
                    (
                        None,
                        Some(format!(
                            "score out of range: {v} in column {:?} ({} scores are {lo}–{hi}; comment kept, score null)",
                            headers[i],
                            kind.as_str()
                        )),
                    )
                }
            }
        },
    };
    let texts: Vec<(usize, String)> = roles
        .text
        .iter()
        .filter_map(|i| cell(*i).display().map(|t| (*i, normalise_text(&t))))
        .collect();
    if texts.is_empty() {
        return Err("empty text (no answer in any open-text column)".into());
    }
    let respondent = {
        let base = roles
            .id
            .and_then(|i| cell(i).display())
            .unwrap_or_else(|| format!("row{}", row.line));
        let n = seen_ids.entry(base.clone()).or_insert(0);
        *n += 1;
        // Duplicate ids happen (re-sent surveys, merged exports); keep both, tell them apart.
        if *n == 1 {
            base
        } else {
            format!("{base}#{n}")
        }
    };
    let date = roles.date.and_then(|i| cell(i).as_date());
    let mut field_problems: Vec<String> = field_problem.into_iter().collect();
    if let (None, Some(i)) = (date, roles.date) {
        if let Some(raw) = cell(i).display().filter(|s| !s.trim().is_empty()) {
            field_problems.push(format!(
                "unparseable date {raw:?} in column {:?} (comment kept, date null)",
                headers[i]
            ));
        }
    }
    let metadata: Vec<(String, Option<String>)> = roles
        .metadata
        .iter()
        .map(|i| (headers[*i].clone(), cell(*i).display()))
        .collect();
    let docs = texts
        .into_iter()
        .map(|(col, text)| Document {
            doc_id: format!("{source}#{}.{}", row.line, col + 1),
            kind: DocKind::Response,
            source_file: source.to_string(),
            source_row: Some(row.line),
            source_column: Some(headers[col].clone()),
            question: Some(
                questions[col]
                    .clone()
                    .unwrap_or_else(|| headers[col].clone()),
            ),
            respondent_id: Some(respondent.clone()),
            score,
            score_kind: score.and(roles.score_kind),
            date,
            metadata: metadata.clone(),
            text,
            turns: Vec::new(),
            lang: None,
        })
        .collect();
    Ok((docs, field_problems))
}

/// Line endings differ between tools; one form keeps char offsets comparable across exports.
pub fn normalise_text(s: &str) -> String {
    s.trim().replace("\r\n", "\n").replace('\r', "\n")
}
