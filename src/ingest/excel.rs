//! XLSX/XLS/ODS workbooks via calamine. Real Excel dates arrive typed; strings such as "4,5"
//! are left to the lenient number parser like any CSV cell.

use std::path::Path;

use calamine::{open_workbook_auto, Data, DataRef, Reader, Sheets};

use super::cell::{parse_date, Cell};
use super::table::RawRow;

/// Rows of the chosen sheet (first sheet unless `sheet` names one) and the sheet's name.
pub fn read(path: &Path, sheet: Option<&str>) -> Result<(String, Vec<RawRow>), String> {
    let mut wb = open_workbook_auto(path).map_err(|e| format!("cannot open workbook: {e}"))?;
    let names = wb.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(wanted))
            .cloned()
            .ok_or_else(|| format!("sheet {wanted:?} not found; the workbook has {names:?}"))?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| "workbook has no sheets".to_string())?,
    };
    // XLSX (and XLSB) cells are streamed and kept sparse: a workbook whose used range reaches
    // a stray cell at XFD1048576 must not be materialised as a dense grid (a 16 384 × 1 M range
    // of cells aborts on allocation). XLS and ODS have no cell stream in calamine; their
    // formats cap the grid (65 536 × 256 for XLS).
    let cells = match &mut wb {
        Sheets::Xlsx(x) => {
            let mut reader = x
                .worksheet_cells_reader(&name)
                .map_err(|e| format!("cannot read sheet {name:?}: {e}"))?;
            sparse(|| reader.next_cell().map_err(|e| e.to_string()))?
        }
        Sheets::Xlsb(x) => {
            let mut reader = x
                .worksheet_cells_reader(&name)
                .map_err(|e| format!("cannot read sheet {name:?}: {e}"))?;
            sparse(|| reader.next_cell().map_err(|e| e.to_string()))?
        }
        _ => {
            let range = wb
                .worksheet_range(&name)
                .map_err(|e| format!("cannot read sheet {name:?}: {e}"))?;
            let mut cells = Vec::new();
            for (r, c, d) in range.used_cells() {
                let (r0, c0) = range.start().unwrap_or((0, 0));
                cells.push((r0 + r as u32, c0 + c as u32, to_cell(d)));
            }
            cells
        }
    };
    Ok((name, rows_of(cells)?))
}

/// Rows beyond this column are refused: no export has a question in column ALL (1 000), and
/// a row's cells are held densely from column A.
pub const MAX_COLUMNS: u32 = 1000;

/// Non-empty cells (row, column, value) from a calamine cell stream.
fn sparse<'a>(
    mut next: impl FnMut() -> Result<Option<calamine::Cell<DataRef<'a>>>, String>,
) -> Result<Vec<(u32, u32, Cell)>, String> {
    let mut out = Vec::new();
    while let Some(cell) = next()? {
        let (r, c) = cell.get_position();
        let value = to_cell(&Data::from(cell.get_value().clone()));
        if !value.is_empty() {
            out.push((r, c, value));
        }
    }
    Ok(out)
}

/// Rows from sparse cells, in sheet order, each with its cells at their absolute column
/// ("column_3" means column C). Cells past [`MAX_COLUMNS`] are dropped with a warning; a row
/// that had nothing else stays as an empty row, so it is still accounted for (rejected as
/// having no text) rather than vanishing.
fn rows_of(mut cells: Vec<(u32, u32, Cell)>) -> Result<Vec<RawRow>, String> {
    cells.sort_by_key(|(r, c, _)| (*r, *c));
    let far = cells.iter().filter(|(_, c, _)| *c >= MAX_COLUMNS).count();
    if far > 0 {
        tracing::warn!(
            "{far} cell(s) past column {MAX_COLUMNS} ignored (stray cells far right of the data)"
        );
    }
    let mut rows: Vec<RawRow> = Vec::new();
    let mut current: Option<RawRow> = None;
    for (r, c, value) in cells {
        let line = u64::from(r) + 1;
        if current.as_ref().is_some_and(|row| row.line != line) {
            rows.extend(current.take());
        }
        let row = current.get_or_insert_with(|| RawRow {
            line,
            cells: Vec::new(),
        });
        if c >= MAX_COLUMNS {
            continue;
        }
        if row.cells.len() <= c as usize {
            row.cells.resize(c as usize + 1, Cell::Empty);
        }
        row.cells[c as usize] = value;
    }
    rows.extend(current);
    Ok(rows)
}

fn to_cell(d: &Data) -> Cell {
    match d {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Float(f) => Cell::Number(*f),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(dt) => dt
            .as_datetime()
            .map(|t| Cell::Date(t.date()))
            .unwrap_or_else(|| Cell::Number(dt.as_f64())),
        Data::DateTimeIso(s) => parse_date(s).map_or_else(|| Cell::Text(s.clone()), Cell::Date),
        Data::DurationIso(s) => Cell::Text(s.clone()),
    }
}
