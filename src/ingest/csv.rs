//! Delimited text (CSV, TSV, Excel "Unicode text"). The delimiter is sniffed by which
//! candidate gives the most consistent field count; a broken record is rejected on its own
//! line and parsing resumes on the next line, so an unbalanced quote cannot swallow the
//! rest of the file.

use super::cell::Cell;
use super::table::RawRow;
use crate::ingest::RowReject;

const CANDIDATES: &[u8] = b",;\t|";

/// Records of a delimited file; `rejects` are (line, reason, raw text) of broken records.
pub struct Parsed {
    pub rows: Vec<RawRow>,
    pub rejects: Vec<RowReject>,
}

pub fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        other => (other as char).to_string(),
    }
}

/// Pick the delimiter under which the first records agree on a field count (≥ 2).
pub fn sniff(text: &str) -> u8 {
    let mut best = (0.0f64, 0usize, b',');
    for &d in CANDIDATES {
        let mut rdr = reader(d, text.as_bytes());
        let counts: Vec<usize> = rdr
            .byte_records()
            .take(40)
            .filter_map(Result::ok)
            .map(|r| r.len())
            .collect();
        if counts.is_empty() {
            continue;
        }
        let mut freq = std::collections::HashMap::new();
        for c in &counts {
            *freq.entry(*c).or_insert(0usize) += 1;
        }
        let (modal, hits) = freq
            .into_iter()
            .max_by_key(|(c, n)| (*n, *c))
            .unwrap_or((1, 0));
        if modal < 2 {
            continue;
        }
        let consistency = hits as f64 / counts.len() as f64;
        if consistency > best.0 || (consistency == best.0 && modal > best.1) {
            best = (consistency, modal, d);
        }
    }
    best.2
}

/// Lines ending in a bare CR (classic Mac exports, or a CRLF file that lost an LF) as LF: the
/// csv crate ends a record at a lone CR but line numbers count LFs, so without this two
/// records would report one line. Borrowed when there is no lone CR.
pub fn lone_cr_to_lf(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let lone = |i: usize| b[i] == b'\r' && b.get(i + 1) != Some(&b'\n');
    if !(0..b.len()).any(lone) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn reader(delimiter: u8, bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes)
}

pub fn parse(text: &str, delimiter: u8) -> Parsed {
    let mut rows = Vec::new();
    let rejects = parse_with(text, delimiter, &mut |r| {
        rows.push(r);
        Ok(())
    })
    .unwrap_or_default();
    Parsed { rows, rejects }
}

/// Parses `text` record by record, handing each good record to `on_row` as it is read (so a
/// large file is never held as rows); stops at the first error `on_row` returns. Returns the
/// broken records.
pub fn parse_with(
    text: &str,
    delimiter: u8,
    on_row: &mut dyn FnMut(RawRow) -> Result<(), String>,
) -> Result<Vec<RowReject>, String> {
    let mut out = Parsed {
        rows: Vec::new(),
        rejects: Vec::new(),
    };
    let bytes = text.as_bytes();
    let mut width: Option<usize> = None;
    let mut lines = LineCounter::default();
    // Byte offset where the current parse pass starts.
    let mut base = 0usize;
    'passes: loop {
        let mut rdr = reader(delimiter, &bytes[base..]);
        let mut record = csv::ByteRecord::new();
        loop {
            let start = rdr.position().byte() as usize;
            match rdr.read_byte_record(&mut record) {
                Ok(false) => break 'passes,
                Ok(true) => {}
                // The csv crate only errors on I/O here; treat it as the end of usable input.
                Err(_) => break 'passes,
            }
            // The crate's own line numbers lag on CRLF files (the LF is consumed with the next
            // record), so count lines from byte offsets, skipping the terminator and blank lines.
            let start_byte = base
                + start
                + bytes[base + start..]
                    .iter()
                    .take_while(|b| matches!(b, b'\r' | b'\n'))
                    .count();
            let end_byte = (base + rdr.position().byte() as usize).min(bytes.len());
            let line = lines.line_at(bytes, start_byte);
            let body = bytes[start_byte..end_byte.max(start_byte)].trim_ascii_end();
            let inner_breaks = body.iter().filter(|b| **b == b'\n').count() as u64;
            let multi_line = inner_breaks > 0;
            let end_line = line + inner_breaks;
            let cells: Vec<Cell> = record
                .iter()
                .map(|f| Cell::Text(String::from_utf8_lossy(f).into_owned()))
                .collect();
            let expected = *width.get_or_insert(cells.len());
            if cells.len() == expected && (!multi_line || strictly_quoted(body, delimiter)) {
                on_row(RawRow { line, cells })?;
                continue;
            }
            let line_end = bytes[start_byte..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(bytes.len(), |p| start_byte + p + 1);
            let raw = String::from_utf8_lossy(&bytes[start_byte..line_end]).into_owned();
            if multi_line {
                out.rejects.push((
                    line,
                    format!(
                        "malformed row: unbalanced quote (read as {} fields spanning lines {line}–{end_line}); the lines after it were re-read on their own",
                        cells.len(),
                    ),
                    raw,
                ));
                // Resume right after the offending physical line.
                base = line_end;
                if line_end >= bytes.len() {
                    break 'passes;
                }
                continue 'passes;
            }
            let reason = if raw.matches('"').count() % 2 == 1 {
                format!(
                    "malformed row: unbalanced quote ({} fields, expected {expected})",
                    cells.len()
                )
            } else {
                format!(
                    "wrong number of fields: found {}, expected {expected}",
                    cells.len()
                )
            };
            out.rejects.push((line, reason, raw));
        }
    }
    Ok(out.rejects)
}

/// 1-based line numbers of increasing byte offsets, counted incrementally.
#[derive(Default)]
struct LineCounter {
    pos: usize,
    newlines: u64,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], pos: usize) -> u64 {
        if pos < self.pos {
            *self = LineCounter::default();
        }
        self.newlines += bytes[self.pos..pos].iter().filter(|b| **b == b'\n').count() as u64;
        self.pos = pos;
        self.newlines + 1
    }
}

/// True when every quoted field in `span` closes right before a delimiter or line end, as
/// writers do. The csv crate accepts `"a"b`, which is how an unbalanced quote earlier in the
/// file silently glues several records into one field.
fn strictly_quoted(span: &[u8], delimiter: u8) -> bool {
    let mut i = 0;
    let mut field_start = true;
    while i < span.len() {
        let b = span[i];
        if field_start && b == b'"' {
            i += 1;
            loop {
                match span.get(i) {
                    None => return false,
                    Some(b'"') if span.get(i + 1) == Some(&b'"') => i += 2,
                    Some(b'"') => {
                        i += 1;
                        match span.get(i) {
                            None | Some(b'\r') | Some(b'\n') => break,
                            Some(c) if *c == delimiter => break,
                            Some(_) => return false,
                        }
                    }
                    Some(_) => i += 1,
                }
            }
            field_start = false;
            continue;
        }
        field_start = b == delimiter || b == b'\n';
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(p: &Parsed) -> Vec<(u64, Vec<String>)> {
        p.rows
            .iter()
            .map(|r| {
                (
                    r.line,
                    r.cells
                        .iter()
                        .map(|c| c.display().unwrap_or_default())
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff("a;b;c\n1;\"x, y\";3\n"), b';');
        assert_eq!(sniff("a,b,c\n1,\"x; y\",3\n"), b',');
        assert_eq!(sniff("a\tb\n1\tx, y; z\n"), b'\t');
        assert_eq!(sniff("a|b\n1|x, y\n"), b'|');
    }

    #[test]
    fn embedded_newlines_keep_start_lines() {
        let p = parse("id,text\n1,\"first\nsecond\"\n2,\"say \"\"hi\"\"\"\n", b',');
        assert_eq!(
            texts(&p),
            vec![
                (1, vec!["id".into(), "text".into()]),
                (2, vec!["1".into(), "first\nsecond".into()]),
                (4, vec!["2".into(), "say \"hi\"".into()]),
            ]
        );
        assert!(p.rejects.is_empty());
    }

    #[test]
    fn unbalanced_quote_mid_file_loses_only_its_line() {
        let p = parse(
            "id,text,score\n1,\"oops,5\n2,fine,7\n3,\"also fine\",9\n",
            b',',
        );
        let lines: Vec<u64> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 3, 4]);
        assert_eq!(p.rejects.len(), 1);
        assert_eq!(p.rejects[0].0, 2);
    }

    #[test]
    fn crlf_line_numbers() {
        let p = parse("a,b\r\n1,\"x\r\ny\"\r\n\r\n3,4\r\n", b',');
        let lines: Vec<u64> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 2, 5]);
    }

    #[test]
    fn too_many_fields_is_rejected_alone() {
        let p = parse("id,text\n1,a\n2,b,c\n3,d\n", b',');
        assert_eq!(p.rows.len(), 3);
        assert_eq!(p.rejects[0].0, 3);
        assert!(p.rejects[0].1.contains("found 3, expected 2"));
    }
}
