//! JSON Lines (one object per line) and JSON arrays of objects, as feedback APIs and
//! webhooks export them. Keys become columns in first-seen order.

use crate::ingest::RowReject;
use serde_json::Value;

use super::cell::{parse_date, Cell};
use super::table::RawRow;

pub struct Parsed {
    /// Header row first, then one row per object.
    pub rows: Vec<RawRow>,
    pub rejects: Vec<RowReject>,
}

/// Whether `text` is one JSON array (read whole) rather than JSON Lines (streamed).
pub fn is_array(text: &str) -> bool {
    text.trim_start().starts_with('[')
}

/// JSON Lines streamed in two passes over the text, so the objects are never all held: the
/// first collects the keys (the columns, in first-seen order, as [`parse`] has them), the
/// second hands the header row and then each object's row to `on_row` as it is parsed.
/// Returns the broken lines.
pub fn parse_lines_with(
    text: &str,
    on_row: &mut dyn FnMut(RawRow) -> Result<(), String>,
) -> Result<Vec<RowReject>, String> {
    let objects = || {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, line)| (i as u64 + 1, line, serde_json::from_str::<Value>(line)))
    };
    let mut columns: Vec<String> = Vec::new();
    let mut known: std::collections::HashSet<String> = Default::default();
    for (_, _, v) in objects() {
        if let Ok(Value::Object(m)) = v {
            for k in m.keys() {
                if known.insert(k.clone()) {
                    columns.push(k.clone());
                }
            }
        }
    }
    on_row(RawRow {
        line: 0,
        cells: columns.iter().map(|c| Cell::Text(c.clone())).collect(),
    })?;
    let mut rejects = Vec::new();
    for (n, line, v) in objects() {
        match v {
            Ok(Value::Object(m)) => on_row(RawRow {
                line: n,
                cells: columns
                    .iter()
                    .map(|c| m.get(c).map_or(Cell::Empty, to_cell))
                    .collect(),
            })?,
            Ok(_) => rejects.push((
                n,
                "line is valid JSON but not an object".into(),
                line.to_string(),
            )),
            Err(e) => rejects.push((n, format!("invalid JSON: {e}"), line.to_string())),
        }
    }
    Ok(rejects)
}

pub fn parse(text: &str) -> Parsed {
    let mut objects: Vec<(u64, serde_json::Map<String, Value>)> = Vec::new();
    let mut rejects = Vec::new();
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        match serde_json::from_str::<Vec<Value>>(trimmed) {
            Ok(values) => {
                for (i, v) in values.into_iter().enumerate() {
                    match v {
                        Value::Object(m) => objects.push((i as u64 + 1, m)),
                        other => rejects.push((
                            i as u64 + 1,
                            "array element is not an object".into(),
                            other.to_string(),
                        )),
                    }
                }
            }
            Err(e) => rejects.push((e.line() as u64, format!("invalid JSON: {e}"), String::new())),
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            let n = i as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(m)) => objects.push((n, m)),
                Ok(_) => rejects.push((
                    n,
                    "line is valid JSON but not an object".into(),
                    line.to_string(),
                )),
                Err(e) => rejects.push((n, format!("invalid JSON: {e}"), line.to_string())),
            }
        }
    }
    let mut columns: Vec<String> = Vec::new();
    for (_, m) in &objects {
        for k in m.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let mut rows = vec![RawRow {
        line: 0,
        cells: columns.iter().map(|c| Cell::Text(c.clone())).collect(),
    }];
    rows.extend(objects.into_iter().map(|(line, m)| {
        RawRow {
            line,
            cells: columns
                .iter()
                .map(|c| m.get(c).map_or(Cell::Empty, to_cell))
                .collect(),
        }
    }));
    Parsed { rows, rejects }
}

fn to_cell(v: &Value) -> Cell {
    match v {
        Value::Null => Cell::Empty,
        Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Number),
        Value::String(s) => match parse_date(s) {
            // Only whole ISO-like strings become dates; free text stays text.
            Some(d) if s.len() <= 32 && s.starts_with(|c: char| c.is_ascii_digit()) => {
                Cell::Date(d)
            }
            _ => Cell::Text(s.clone()),
        },
        Value::Bool(b) => Cell::Text(b.to_string()),
        other => Cell::Text(other.to_string()),
    }
}

#[cfg(test)]
mod streaming_tests {
    use super::*;

    /// The streamed rows are the rows of the whole-text parse: keys of later objects become
    /// columns too (a key first seen on the last line), broken lines are rejected alone.
    #[test]
    fn streamed_json_lines_equal_the_whole_parse() {
        let text = "{\"id\": 1, \"comment\": \"Hyvä\"}\n\n[1,2]\n{\"comment\": \"Huono\", \"score\": 3}\n{oops\n{\"id\": 3, \"late\": \"x\"}\n";
        let whole = parse(text);
        let mut rows = Vec::new();
        let rejects = parse_lines_with(text, &mut |r| {
            rows.push(r);
            Ok(())
        })
        .unwrap();
        let show = |r: &[RawRow]| -> Vec<(u64, Vec<Option<String>>)> {
            r.iter()
                .map(|r| (r.line, r.cells.iter().map(Cell::display).collect()))
                .collect()
        };
        assert_eq!(show(&rows), show(&whole.rows));
        assert_eq!(rows[0].cells.len(), 4, "id, comment, score, late");
        assert_eq!(rejects, whole.rejects);
        assert_eq!(rejects.iter().map(|r| r.0).collect::<Vec<_>>(), [3, 5]);
    }
}
