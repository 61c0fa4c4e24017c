//! XLSX/XLS/ODS workbooks via calamine. Real Excel dates arrive typed; strings such as "4,5"
//! are left to the lenient number parser like any CSV cell.

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};

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
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| format!("cannot read sheet {name:?}: {e}"))?;
    let first_row = range.start().map_or(0, |(r, _)| r as u64);
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            // Keep column positions absolute so "column_3" means column C.
            let mut cells = vec![Cell::Empty; first_col];
            cells.extend(row.iter().map(to_cell));
            RawRow {
                line: first_row + i as u64 + 1,
                cells,
            }
        })
        .filter(|r| r.cells.iter().any(|c| !c.is_empty()))
        .collect();
    Ok((name, rows))
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
