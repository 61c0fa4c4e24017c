//! A Parquet table read with polars, projected to the columns the report needs, with typed
//! column access whose errors name the file and the column.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::ReportError;

/// A Parquet table with the path for error messages.
pub(super) struct Table {
    pub(super) df: DataFrame,
    path: PathBuf,
}

impl Table {
    /// A table the output folder must have; missing is an error naming it.
    pub(super) fn read(dir: &Path, name: &str, columns: &[&str]) -> Result<Table, ReportError> {
        Self::read_optional(dir, name, columns)?.ok_or_else(|| ReportError::Missing {
            path: dir.join(name),
        })
    }

    /// A table that exists only when the run classified (`None` when the file is absent).
    pub(super) fn read_optional(
        dir: &Path,
        name: &str,
        columns: &[&str],
    ) -> Result<Option<Table>, ReportError> {
        let path = dir.join(name);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ReportError::read(&path, e)),
        };
        let df = ParquetReader::new(file)
            .with_columns(Some(columns.iter().map(|c| c.to_string()).collect()))
            .finish()
            .map_err(|e| ReportError::read(&path, e))?;
        Ok(Some(Table { df, path }))
    }

    pub(super) fn col(&self, name: &str, dtype: &DataType) -> Result<Column, ReportError> {
        self.df
            .column(name)
            .and_then(|c| c.cast(dtype))
            .map_err(|e| ReportError::read(&self.path, format!("column {name}: {e}")))
    }

    pub(super) fn bad(&self, name: &str, e: impl std::fmt::Display) -> ReportError {
        ReportError::read(&self.path, format!("column {name}: {e}"))
    }

    pub(super) fn strs(&self, name: &str) -> Result<Vec<Option<String>>, ReportError> {
        let c = self.col(name, &DataType::String)?;
        let ca = c.str().map_err(|e| self.bad(name, e))?;
        Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
    }

    pub(super) fn f64s(&self, name: &str) -> Result<Vec<Option<f64>>, ReportError> {
        let c = self.col(name, &DataType::Float64)?;
        Ok(c.f64().map_err(|e| self.bad(name, e))?.iter().collect())
    }

    pub(super) fn bools(&self, name: &str) -> Result<Vec<Option<bool>>, ReportError> {
        let c = self.col(name, &DataType::Boolean)?;
        Ok(c.bool().map_err(|e| self.bad(name, e))?.iter().collect())
    }

    pub(super) fn u64s(&self, name: &str) -> Result<Vec<Option<u64>>, ReportError> {
        let c = self.col(name, &DataType::UInt64)?;
        Ok(c.u64().map_err(|e| self.bad(name, e))?.iter().collect())
    }

    pub(super) fn lists(&self, name: &str) -> Result<Vec<Vec<String>>, ReportError> {
        let c = self.col(name, &DataType::List(Box::new(DataType::String)))?;
        let ca = c.list().map_err(|e| self.bad(name, e))?;
        if ca.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(ca.len());
        for s in ca.amortized_iter() {
            out.push(match s {
                Some(s) => s
                    .as_ref()
                    .str()
                    .map_err(|e| self.bad(name, e))?
                    .iter()
                    .flatten()
                    .map(str::to_string)
                    .collect(),
                None => Vec::new(),
            });
        }
        Ok(out)
    }

    pub(super) fn height(&self) -> usize {
        self.df.height()
    }
}
