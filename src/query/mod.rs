//! `palaute query`: Polars SQL over the tables of an output folder, each registered under its
//! file name (`segments`, `documents`, `theme_stage`, …), so an analyst can ask a question
//! without leaving the terminal or writing a script.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars::sql::SQLContext;

mod sandbox;
pub use sandbox::Refused;

/// How the result is printed or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum QueryFormat {
    /// Aligned text table (Polars' formatting), for reading in a terminal.
    #[default]
    Table,
    Csv,
    /// One JSON object per row (JSON Lines), for piping into jq or a notebook.
    Json,
    Parquet,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}: the output folder has no tables")]
    NoTables(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot read table: {source}")]
    Table { path: PathBuf, source: PolarsError },
    /// The SQL did not parse or refers to a missing table/column; Polars names which.
    #[error("query failed: {source} (tables: {tables})")]
    Sql { source: PolarsError, tables: String },
    #[error("writing the result: {0}")]
    Write(PolarsError),
    #[error(transparent)]
    Output(#[from] crate::error::Error),
    #[error("--format parquet writes binary; give --output FILE")]
    ParquetNeedsFile,
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Folder(#[from] crate::output::folder::FolderError),
}

/// Tables of `out_dir` as (name, path), sorted by name: the Parquet files its manifest
/// lists, after checking that the folder holds what the manifest says (one run's outputs).
pub fn tables(out_dir: &Path) -> Result<Vec<(String, PathBuf)>, QueryError> {
    let reading = crate::output::folder::verify(out_dir)?;
    table_paths(out_dir, &reading.manifest)
}

fn table_paths(
    out_dir: &Path,
    manifest: &crate::output::folder::Manifest,
) -> Result<Vec<(String, PathBuf)>, QueryError> {
    let out: Vec<(String, PathBuf)> = manifest
        .tables()
        .into_iter()
        .map(|t| (t.to_string(), out_dir.join(format!("{t}.parquet"))))
        .collect();
    if out.is_empty() {
        return Err(QueryError::NoTables(out_dir.to_path_buf()));
    }
    Ok(out)
}

/// Runs `sql` with every table of `out_dir` registered by name. Tables are scanned lazily,
/// so a query that touches two columns of a large `segments` reads only those. Unless
/// `allow_files`, the query may read nothing but those tables (see [`sandbox`]).
pub fn run_query(out_dir: &Path, sql: &str, allow_files: bool) -> Result<DataFrame, QueryError> {
    // Held until the result is collected: no commit replaces the tables mid-query.
    let reading = crate::output::folder::verify(out_dir)?;
    let tables = table_paths(out_dir, &reading.manifest)?;
    if !allow_files {
        let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
        sandbox::check(sql, out_dir, &names)?;
    }
    let mut ctx = SQLContext::new();
    for (name, path) in &tables {
        let lf = LazyFrame::scan_parquet(
            PlRefPath::try_from_path(path).map_err(|source| QueryError::Table {
                path: path.clone(),
                source,
            })?,
            // The path is the file the manifest vouched for, never a pattern ("runs[1]/…").
            ScanArgsParquet {
                glob: false,
                ..Default::default()
            },
        )
        .map_err(|source| QueryError::Table {
            path: path.clone(),
            source,
        })?;
        ctx.register(name, lf);
    }
    let names = tables
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    ctx.execute(sql)
        .and_then(LazyFrame::collect)
        .map_err(|source| QueryError::Sql {
            source,
            tables: names,
        })
}

/// Writes `df` in `format` to `out` (a file when given, else the writer).
pub fn write_result(
    df: &mut DataFrame,
    format: QueryFormat,
    output: Option<&Path>,
    stdout: &mut dyn std::io::Write,
) -> Result<(), QueryError> {
    if let Some(path) = output {
        return crate::output::write_atomic(path, |f| {
            encode(df, format, f).map_err(|e| e.to_string())
        })
        .map_err(QueryError::from);
    }
    if format == QueryFormat::Parquet {
        return Err(QueryError::ParquetNeedsFile);
    }
    encode(df, format, stdout)
}

fn encode(
    df: &mut DataFrame,
    format: QueryFormat,
    w: &mut dyn std::io::Write,
) -> Result<(), QueryError> {
    let io = |e: std::io::Error| QueryError::Write(e.into());
    match format {
        QueryFormat::Table => writeln!(w, "{df}").map_err(io),
        QueryFormat::Csv => CsvWriter::new(w).finish(df).map_err(QueryError::Write),
        QueryFormat::Json => write_json_lines(df, w),
        QueryFormat::Parquet => ParquetWriter::new(w)
            .finish(df)
            .map(|_| ())
            .map_err(QueryError::Write),
    }
}

/// One JSON object per row, keys in column order. Hand-written because Polars' JSON writer
/// needs feature flags that pull a second JSON parser into every build for this one use.
fn write_json_lines(df: &DataFrame, w: &mut dyn std::io::Write) -> Result<(), QueryError> {
    let io = |e: std::io::Error| QueryError::Write(e.into());
    let keys: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| serde_json::Value::from(n.as_str()).to_string())
        .collect();
    let mut line = String::new();
    for row in 0..df.height() {
        line.clear();
        line.push('{');
        for (i, (col, key)) in df.columns().iter().zip(&keys).enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(key);
            line.push(':');
            let value = col.get(row).map_err(QueryError::Write)?;
            line.push_str(&json_value(value).to_string());
        }
        line.push_str("}\n");
        w.write_all(line.as_bytes()).map_err(io)?;
    }
    Ok(())
}

fn json_value(av: AnyValue) -> serde_json::Value {
    use serde_json::Value;
    let float = |f: f64| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number);
    match av {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(b),
        AnyValue::String(s) => Value::from(s),
        AnyValue::StringOwned(s) => Value::from(s.as_str()),
        // Through its shortest decimal form, so 0.1f32 prints as 0.1, not 0.10000000149011612.
        AnyValue::Float32(f) => float(f.to_string().parse().unwrap_or(f64::NAN)),
        AnyValue::Float64(f) => float(f),
        AnyValue::UInt8(_) | AnyValue::UInt16(_) | AnyValue::UInt32(_) | AnyValue::UInt64(_) => {
            av.extract::<u64>().map_or(Value::Null, Value::from)
        }
        AnyValue::Int8(_) | AnyValue::Int16(_) | AnyValue::Int32(_) | AnyValue::Int64(_) => {
            av.extract::<i64>().map_or(Value::Null, Value::from)
        }
        AnyValue::List(s) | AnyValue::Array(s, _) => Value::Array(
            (0..s.len())
                .map(|i| s.get(i).map_or(Value::Null, json_value))
                .collect(),
        ),
        // Dates, times and anything rarer: Polars' own text form (ISO dates).
        other => Value::from(other.to_string()),
    }
}

/// Polars reads its table-formatting limits from the environment. For `--format table` the
/// binary widens them — every row and full cell text, as the point is to read the answer, not
/// a preview — before any thread starts (changing the environment later races with readers).
/// Settings the user made are kept.
pub fn widen_table_format() {
    for (k, v) in [
        ("POLARS_FMT_MAX_ROWS", "-1"),
        ("POLARS_FMT_MAX_COLS", "-1"),
        ("POLARS_FMT_STR_LEN", "200"),
        ("POLARS_TABLE_WIDTH", "10000"),
    ] {
        if std::env::var_os(k).is_none() {
            std::env::set_var(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::folder::FolderError;

    fn out_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut segs = df!(
            "segment_id" => ["d1-s1", "d1-s2", "d2-s1"],
            "sentiment" => ["negative", "neutral", "negative"],
            "stage" => ["billing", "billing", "support"],
        )
        .unwrap();
        let mut docs = df!("doc_id" => ["d1", "d2"], "score" => [2.0, 9.0]).unwrap();
        let mut themes = df!(
            "theme_id" => ["billing_errors", "wait_time"],
            "keywords" => [Series::new("".into(), ["lasku", "\"virhe\""]), Series::new("".into(), ["jono"])],
            "share" => [Some(0.1f32), None],
        )
        .unwrap();
        crate::output::write_parquet(&mut themes, &dir.path().join("themes.parquet")).unwrap();
        crate::output::write_parquet(&mut segs, &dir.path().join("segments.parquet")).unwrap();
        crate::output::write_parquet(&mut docs, &dir.path().join("documents.parquet")).unwrap();
        // Not a table: a leftover of an interrupted write, and a Parquet file the manifest
        // does not list.
        std::fs::write(dir.path().join(".palaute-x.tmp"), b"junk").unwrap();
        let mut stray = df!("x" => [1]).unwrap();
        crate::output::write_parquet(&mut stray, &dir.path().join("stray.parquet")).unwrap();
        let tables = ["themes.parquet", "segments.parquet", "documents.parquet"];
        crate::output::folder::seal(dir.path(), &tables).unwrap();
        dir
    }

    #[test]
    fn tables_are_registered_by_name_and_joinable() {
        let dir = out_dir();
        let names: Vec<String> = tables(dir.path())
            .unwrap()
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(names, ["documents", "segments", "themes"]);
        let df = run_query(
            dir.path(),
            "SELECT stage, COUNT(*) AS n FROM segments WHERE sentiment = 'negative' \
             GROUP BY stage ORDER BY stage",
            false,
        )
        .unwrap();
        assert_eq!(df.height(), 2);
        let stages: Vec<_> = df.column("stage").unwrap().str().unwrap().iter().collect();
        assert_eq!(stages, [Some("billing"), Some("support")]);
        let joined = run_query(
            dir.path(),
            "SELECT s.segment_id, d.score FROM segments s \
             JOIN documents d ON split_part(s.segment_id, '-', 1) = d.doc_id \
             ORDER BY s.segment_id",
            false,
        )
        .unwrap();
        assert_eq!(joined.height(), 3);
    }

    #[test]
    fn formats_and_errors() {
        let dir = out_dir();
        let mut df =
            run_query(dir.path(), "SELECT * FROM documents ORDER BY doc_id", false).unwrap();
        let mut csv = Vec::new();
        write_result(&mut df, QueryFormat::Csv, None, &mut csv).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "doc_id,score\nd1,2.0\nd2,9.0\n"
        );
        let mut json = Vec::new();
        write_result(&mut df, QueryFormat::Json, None, &mut json).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            "{\"doc_id\":\"d1\",\"score\":2.0}\n{\"doc_id\":\"d2\",\"score\":9.0}\n"
        );
        let mut themes =
            run_query(dir.path(), "SELECT * FROM themes ORDER BY theme_id", false).unwrap();
        let mut json = Vec::new();
        write_result(&mut themes, QueryFormat::Json, None, &mut json).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            "{\"theme_id\":\"billing_errors\",\"keywords\":[\"lasku\",\"\\\"virhe\\\"\"],\"share\":0.1}\n\
             {\"theme_id\":\"wait_time\",\"keywords\":[\"jono\"],\"share\":null}\n"
        );
        let mut table = Vec::new();
        write_result(&mut df, QueryFormat::Table, None, &mut table).unwrap();
        assert!(String::from_utf8(table).unwrap().contains("d2"));
        assert!(matches!(
            write_result(&mut df, QueryFormat::Parquet, None, &mut Vec::new()),
            Err(QueryError::ParquetNeedsFile)
        ));
        let elsewhere = tempfile::tempdir().unwrap();
        let pq = elsewhere.path().join("result.parquet");
        write_result(&mut df, QueryFormat::Parquet, Some(&pq), &mut Vec::new()).unwrap();
        let back = ParquetReader::new(std::fs::File::open(&pq).unwrap())
            .finish()
            .unwrap();
        assert!(back.equals(&df));

        let err = run_query(dir.path(), "SELECT * FROM nonexistent", false).unwrap_err();
        assert!(
            err.to_string().contains("documents, segments, themes"),
            "{err}"
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            run_query(empty.path(), "SELECT 1", false),
            Err(QueryError::Folder(FolderError::NoManifest(_)))
        ));
    }

    #[test]
    fn other_files_only_with_allow_files_and_a_changed_table_is_refused() {
        let dir = out_dir();
        let elsewhere = tempfile::tempdir().unwrap();
        let other = elsewhere.path().join("other.parquet");
        let mut df = df!("secret" => [42]).unwrap();
        crate::output::write_parquet(&mut df, &other).unwrap();
        let sql = format!("SELECT * FROM read_parquet('{}')", other.display());
        let err = run_query(dir.path(), &sql, false).unwrap_err().to_string();
        assert!(err.contains("table functions"), "{err}");
        assert_eq!(run_query(dir.path(), &sql, true).unwrap().height(), 1);
        let mut changed = df!("doc_id" => ["d9"], "score" => [0.0]).unwrap();
        crate::output::write_parquet(&mut changed, &dir.path().join("documents.parquet")).unwrap();
        let err = run_query(dir.path(), "SELECT * FROM segments", false).unwrap_err();
        assert!(
            matches!(&err, QueryError::Folder(FolderError::Inconsistent { path, .. }) if path.ends_with("documents.parquet")),
            "{err}"
        );
    }
}
