//! Parquet tables (data warehouse extracts). Rows are numbered from 1 in file order.

use std::path::Path;

use polars::prelude::*;

use super::cell::Cell;
use super::table::RawRow;

/// Rows of the file. Polars panics on some corrupt files; `ingest::read_file` turns a reader's
/// panic into a whole-file reject.
pub fn read(path: &Path) -> Result<Vec<RawRow>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| format!("cannot read Parquet: {e}"))?;
    let columns: Vec<Vec<Cell>> = df
        .columns()
        .iter()
        .map(column_cells)
        .collect::<Result<_, _>>()?;
    let mut rows = vec![RawRow {
        line: 0,
        cells: df
            .get_column_names()
            .iter()
            .map(|n| Cell::Text(n.to_string()))
            .collect(),
    }];
    rows.extend((0..df.height()).map(|r| RawRow {
        line: r as u64 + 1,
        cells: columns.iter().map(|c| c[r].clone()).collect(),
    }));
    Ok(rows)
}

fn column_cells(col: &Column) -> Result<Vec<Cell>, String> {
    let s = col.as_materialized_series();
    let err = |e: PolarsError| format!("column {:?}: {e}", s.name());
    let dtype = s.dtype();
    if dtype.is_primitive_numeric() {
        let f = s.cast(&DataType::Float64).map_err(err)?;
        return Ok(f
            .f64()
            .map_err(err)?
            .iter()
            .map(|v| v.map_or(Cell::Empty, Cell::Number))
            .collect());
    }
    if matches!(dtype, DataType::Date | DataType::Datetime(_, _)) {
        let d = s.cast(&DataType::Date).map_err(err)?;
        return Ok(d
            .date()
            .map_err(err)?
            .as_date_iter()
            .map(|v| v.map_or(Cell::Empty, Cell::Date))
            .collect());
    }
    let text = s.cast(&DataType::String).map_err(err)?;
    Ok(text
        .str()
        .map_err(err)?
        .iter()
        .map(|v| v.map_or(Cell::Empty, |t| Cell::Text(t.to_string())))
        .collect())
}
