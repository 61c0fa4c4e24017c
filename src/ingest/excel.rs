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

/// Most cells an ODS sheet may span as a grid (first to last non-empty row × column): about
/// 320 MB of cells. calamine materialises ODS sheets densely (up to 100 M cells), and a few
/// repeat attributes in a small file describe millions of rows; XLSX/XLSB are streamed
/// sparse instead, and XLS's format caps a sheet at 65 536 × 256.
pub const MAX_ODS_GRID_CELLS: u64 = 10_000_000;

/// Errs when a sheet of an ODS `content.xml` spans more than [`MAX_ODS_GRID_CELLS`] cells, or
/// when the XML ends before its elements are closed: calamine 0.38 loops forever on a
/// `content.xml` cut inside a sheet or a cell comment (found by scripts/fuzz.sh). Measured
/// from the XML as it inflates ([`super::inflate::check_parts`] hands it over), before
/// calamine reads anything.
pub fn check_ods_grid(xml: &mut dyn std::io::Read) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::new(xml));
    let mut buf = Vec::new();
    let mut grid = Grid::default();
    let mut depth = 0usize;
    loop {
        buf.clear();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("not a valid ODS spreadsheet: {e}"))?;
        let (e, has_content) = match &event {
            quick_xml::events::Event::Start(e) => {
                depth += 1;
                (e, true)
            }
            quick_xml::events::Event::Empty(e) => (e, false),
            quick_xml::events::Event::End(e) => {
                depth = depth.saturating_sub(1);
                if e.name().as_ref() == "table:table" {
                    grid.check()?;
                    grid = Grid::default();
                }
                continue;
            }
            quick_xml::events::Event::Eof if depth > 0 => {
                return Err(
                    "not a valid ODS spreadsheet: content.xml ends before its elements are closed (truncated file?)"
                        .into(),
                )
            }
            quick_xml::events::Event::Eof => return grid.check(),
            _ => continue,
        };
        let repeat = |attr: &str| -> u64 {
            e.try_get_attribute(attr)
                .ok()
                .flatten()
                .and_then(|a| a.value.parse().ok())
                .unwrap_or(1)
                .max(1)
        };
        match e.name().as_ref() {
            "table:table-row" => grid.row(repeat("table:number-rows-repeated")),
            "table:table-cell" | "table:covered-table-cell" => {
                let filled = has_content
                    || e.try_get_attribute("office:value-type")
                        .ok()
                        .flatten()
                        .is_some();
                grid.cells(repeat("table:number-columns-repeated"), filled);
            }
            _ => {}
        }
    }
}

/// The extent of one ODS sheet's non-empty cells, counted with their repeats.
#[derive(Default)]
struct Grid {
    /// Rows so far, and the current row's first index and repeat count.
    rows: u64,
    row_repeat: u64,
    col: u64,
    first_row: Option<u64>,
    last_row: u64,
    first_col: u64,
    last_col: u64,
}

impl Grid {
    fn row(&mut self, repeat: u64) {
        self.rows = self.rows.saturating_add(self.row_repeat);
        self.row_repeat = repeat;
        self.col = 0;
    }

    fn cells(&mut self, repeat: u64, filled: bool) {
        if filled {
            let first = self.col;
            let last = self.col.saturating_add(repeat - 1);
            if self.first_row.is_none() {
                self.first_row = Some(self.rows);
                self.first_col = first;
            }
            self.first_col = self.first_col.min(first);
            self.last_col = self.last_col.max(last);
            self.last_row = self.rows.saturating_add(self.row_repeat.saturating_sub(1));
        }
        self.col = self.col.saturating_add(repeat);
    }

    fn check(&self) -> Result<(), String> {
        let Some(first_row) = self.first_row else {
            return Ok(());
        };
        let rows = self.last_row - first_row + 1;
        let cols = self.last_col - self.first_col + 1;
        if rows.saturating_mul(cols) > MAX_ODS_GRID_CELLS {
            return Err(format!(
                "a sheet spans {rows} rows × {cols} columns of cells (stray cells far from the data?), \
                 over the {MAX_ODS_GRID_CELLS} cells an ODS sheet may span; delete the stray cells or save as XLSX"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: &str) -> Result<(), String> {
        let xml = format!(
            "<office:document-content><office:body><office:spreadsheet><table:table>{rows}</table:table></office:spreadsheet></office:body></office:document-content>"
        );
        check_ods_grid(&mut xml.as_bytes())
    }

    #[test]
    fn ods_extent_counts_repeats_and_survives_zero_repeats() {
        let filled =
            r#"<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>"#;
        assert!(grid(&format!("<table:table-row>{filled}</table:table-row>")).is_ok());
        let far = format!(
            r#"<table:table-row>{filled}</table:table-row><table:table-row table:number-rows-repeated="5000"><table:table-cell table:number-columns-repeated="3000"/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="4000"/>{filled}</table:table-row>"#
        );
        let err = grid(&far).unwrap_err();
        assert!(err.contains("5002 rows × 4001 columns"), "{err}");
        // A repeat of 0 (nonsense, but written by hand or a fuzzer) counts as one cell.
        let zero = r#"<table:table-row><table:table-cell table:number-columns-repeated="0" office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>"#;
        assert!(grid(zero).is_ok());
    }
}
