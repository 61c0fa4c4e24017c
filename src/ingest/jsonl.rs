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
