//! Parquet tables (data warehouse extracts). Rows are numbered from 1 in file order.

use std::path::Path;

use polars::prelude::*;

use super::cell::Cell;
use super::table::RawRow;

/// Rows read per slice of the file: what reading a Parquet file holds at once.
const SLICE: usize = 50_000;

/// The executable that can decode a Parquet file in a child process (`palaute
/// __check-parquet FILE`), when the host program is palaute itself; see [`isolate_with`].
static CHECKER: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Decode Parquet inputs once in a child process (`exe __check-parquet FILE`) before reading
/// them here. polars-parquet 0.55 asks for 2^61 bytes on some corrupt data pages (found by
/// scripts/fuzz.sh) and an allocation failure aborts the process — it is not a panic that
/// `catch_unwind` could turn into a reject. In a child, the abort costs that file only. The
/// palaute binary sets this; a program embedding the library decodes in-process.
pub fn isolate_with(exe: std::path::PathBuf) {
    let _ = CHECKER.set(exe);
}

/// Every row of the file decoded and dropped: what the child process of [`isolate_with`]
/// runs. Errs as [`read_with`] does, and on a panic (which the parent catches itself when it
/// reads the file): only an abort ends the child otherwise.
pub fn decode_check(path: &Path) -> Result<(), String> {
    crate::util::catch_quietly(|| read_with(path, &mut |_| Ok(()))).and_then(|r| r)
}

/// When decoders are isolated, decodes `path` in the child process first: errs when the
/// child died (the file would have aborted this process); a file the child merely could not
/// read passes, and reading it here gives the reason.
pub fn check_isolated(path: &Path) -> Result<(), String> {
    let Some(exe) = CHECKER.get() else {
        return Ok(());
    };
    let out = match std::process::Command::new(exe)
        .arg("__check-parquet")
        .arg(path)
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(out) => out,
        // No child, no isolation: read in-process as an embedding program would.
        Err(_) => return Ok(()),
    };
    if out.status.success() || out.status.code() == Some(2) {
        return Ok(());
    }
    let why = String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or("no message")
        .to_string();
    Err(format!(
        "the file is corrupt: the Parquet decoder crashed on it in a separate process ({why})"
    ))
}

/// The header row (column names), then every row in file order, handed to `on_row` slice by
/// slice, so a large extract is never held whole; stops at the first error `on_row` returns.
/// Polars panics on some corrupt files; `ingest::read_file` turns a reader's panic into a
/// whole-file reject.
pub fn read_with(
    path: &Path,
    on_row: &mut dyn FnMut(RawRow) -> Result<(), String>,
) -> Result<(), String> {
    let open = || std::fs::File::open(path).map_err(|e| e.to_string());
    let cannot = |e: PolarsError| format!("cannot read Parquet: {e}");
    let total = ParquetReader::new(open()?).num_rows().map_err(cannot)?;
    let mut offset = 0;
    loop {
        let df = ParquetReader::new(open()?)
            .with_slice(Some((offset, SLICE)))
            .finish()
            .map_err(cannot)?;
        if offset == 0 {
            on_row(RawRow {
                line: 0,
                cells: df
                    .get_column_names()
                    .iter()
                    .map(|n| Cell::Text(n.to_string()))
                    .collect(),
            })?;
        }
        let columns: Vec<Vec<Cell>> = df
            .columns()
            .iter()
            .map(column_cells)
            .collect::<Result<_, _>>()?;
        for r in 0..df.height() {
            on_row(RawRow {
                line: (offset + r) as u64 + 1,
                cells: columns.iter().map(|c| c[r].clone()).collect(),
            })?;
        }
        offset += df.height();
        if df.height() == 0 || offset >= total {
            return Ok(());
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// More rows than a slice: every row once, numbered in file order.
    #[test]
    fn a_large_extract_is_read_slice_by_slice() {
        let n = 2 * SLICE + 7;
        let mut df = df!(
            "id" => (0..n as u32).collect::<Vec<_>>(),
            "comment" => (0..n).map(|i| format!("vastaus {i}")).collect::<Vec<_>>(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.parquet");
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .with_row_group_size(Some(30_000))
            .finish(&mut df)
            .unwrap();
        let mut lines = Vec::new();
        let mut last = String::new();
        read_with(&path, &mut |r| {
            lines.push(r.line);
            last = r.cells[1].display().unwrap_or_default();
            Ok(())
        })
        .unwrap();
        assert_eq!(lines.len(), n + 1, "header and every row");
        assert!(lines.windows(2).all(|w| w[1] == w[0] + 1));
        assert_eq!(last, format!("vastaus {}", n - 1));
    }
}
