//! Reading the columns of a part back into Rust values, with errors that name the column.

use polars::prelude::*;

use crate::error::Error;

fn err(name: &str, e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: format!("part column {name}").into(),
        message: e.to_string(),
    }
}

pub fn strs<'a>(df: &'a DataFrame, name: &str) -> Result<Vec<Option<&'a str>>, Error> {
    let c = df.column(name).map_err(|e| err(name, e))?;
    Ok(c.str().map_err(|e| err(name, e))?.iter().collect())
}

pub fn f64s(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, Error> {
    let c = df.column(name).map_err(|e| err(name, e))?;
    Ok(c.f64().map_err(|e| err(name, e))?.iter().collect())
}

pub fn f32s(df: &DataFrame, name: &str) -> Result<Vec<Option<f32>>, Error> {
    let c = df.column(name).map_err(|e| err(name, e))?;
    Ok(c.f32().map_err(|e| err(name, e))?.iter().collect())
}

pub fn u64s(df: &DataFrame, name: &str) -> Result<Vec<Option<u64>>, Error> {
    let c = df.column(name).map_err(|e| err(name, e))?;
    Ok(c.u64().map_err(|e| err(name, e))?.iter().collect())
}

/// A Date column as days since 1970-01-01.
pub fn dates(df: &DataFrame, name: &str) -> Result<Vec<Option<chrono::NaiveDate>>, Error> {
    let c = df.column(name).map_err(|e| err(name, e))?;
    let days = c.date().map_err(|e| err(name, e))?.physical().clone();
    Ok(days
        .iter()
        .map(|d| {
            d.and_then(|d| {
                chrono::NaiveDate::default().checked_add_signed(chrono::TimeDelta::days(d.into()))
            })
        })
        .collect())
}

/// A list column, each row's values read by `values` (empty for a null row).
fn lists<T>(
    df: &DataFrame,
    name: &str,
    values: impl Fn(&Series) -> PolarsResult<Vec<T>>,
) -> Result<Vec<Vec<T>>, Error> {
    let c = df.column(name).map_err(|e| err(name, e))?;
    let list = c.list().map_err(|e| err(name, e))?;
    (0..list.len())
        .map(|i| match list.get_as_series(i) {
            Some(s) => values(&s).map_err(|e| err(name, e)),
            None => Ok(Vec::new()),
        })
        .collect()
}

pub fn list_strs(df: &DataFrame, name: &str) -> Result<Vec<Vec<String>>, Error> {
    lists(df, name, |s| {
        Ok(s.str()?.iter().flatten().map(String::from).collect())
    })
}

pub fn list_f32s(df: &DataFrame, name: &str) -> Result<Vec<Vec<f32>>, Error> {
    lists(df, name, |s| Ok(s.f32()?.iter().flatten().collect()))
}

/// The `embedding` column of an embeddings part as one row-major matrix and its width.
pub fn embeddings(df: &DataFrame) -> Result<crate::model::Embeddings, Error> {
    let name = "embedding";
    let c = df.column(name).map_err(|e| err(name, e))?;
    let arr = c.array().map_err(|e| err(name, e))?;
    let dim = arr.width();
    let inner = arr.get_inner().rechunk();
    let data: Vec<f32> = inner
        .f32()
        .map_err(|e| err(name, e))?
        .iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    Ok(crate::model::Embeddings { dim, data })
}
