//! What a query may touch. `palaute query` is handed to colleagues and run behind notebooks
//! and services, so by default it sees only the output folder's tables: Polars SQL would
//! otherwise read any file on the machine (`read_parquet('/home/x/*.parquet')`), fetch URLs
//! (`read_parquet('https://…')`, with retries) and run statements that build tables from
//! them. The SQL is parsed here with the parser Polars itself uses and checked before Polars
//! sees it: read-only statements, tables by name, no table functions. `--allow-files` lifts
//! the restriction.

use std::ops::ControlFlow;
use std::path::Path;

use sqlparser::ast::{Statement, TableFactor, Visit};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserOptions};

/// Why a query was refused; the message names what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {why}; a query reads the tables of {folder} by name ({tables}){hint}")]
pub struct Refused {
    pub what: String,
    pub why: String,
    pub folder: String,
    pub tables: String,
    hint: &'static str,
}

/// Checks `sql` against the folder `out_dir` whose tables are `tables`: read-only statements
/// (a query, `EXPLAIN` of one, `SHOW TABLES`) that read tables by name, never through a
/// table function. SQL that does not parse is left to Polars, which reports the error with
/// its position.
pub fn check(sql: &str, out_dir: &Path, tables: &[&str]) -> Result<(), Refused> {
    let refuse = |what: String, why: &str| Refused {
        what,
        why: why.to_string(),
        folder: out_dir.display().to_string(),
        tables: tables.join(", "),
        hint: "; pass --allow-files to read other files",
    };
    let Ok(statements) = Parser::new(&GenericDialect)
        .with_options(ParserOptions {
            trailing_commas: true,
            ..Default::default()
        })
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
    else {
        return Ok(());
    };
    for statement in &statements {
        let read_only = match statement {
            Statement::Query(_) | Statement::ShowTables { .. } => true,
            Statement::Explain { statement, .. } => matches!(**statement, Statement::Query(_)),
            _ => false,
        };
        if !read_only {
            let first = statement.to_string();
            let verb: String = first
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            return Err(Refused {
                hint: "",
                ..refuse(
                    verb,
                    "only SELECT (with WITH, JOIN, …), EXPLAIN SELECT and SHOW TABLES run here",
                )
            });
        }
    }
    let mut outcome = Ok(());
    let _ = statements.visit(&mut TableFactors(|factor: &TableFactor| {
        if let Some(call) = table_function(factor) {
            outcome = Err(refuse(
                call,
                "table functions read files and URLs, not the folder's tables",
            ));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }));
    outcome
}

/// The call, when a `FROM` item is a table function (`read_parquet('…')`, `read_csv`, …;
/// Polars' only ones read files or URLs) rather than a table, subquery or join.
fn table_function(factor: &TableFactor) -> Option<String> {
    let (name, args): (String, Vec<String>) = match factor {
        TableFactor::Table {
            name,
            args: Some(args),
            ..
        } => (
            name.to_string(),
            args.args.iter().map(|a| a.to_string()).collect(),
        ),
        TableFactor::Function { name, args, .. } => (
            name.to_string(),
            args.iter().map(|a| a.to_string()).collect(),
        ),
        TableFactor::TableFunction { expr, .. } => return Some(format!("TABLE({expr})")),
        _ => return None,
    };
    Some(format!("{name}({})", args.join(", ")))
}

/// Calls the closure on every table factor of the AST, subqueries and joins included.
struct TableFactors<F>(F);

impl<F: FnMut(&TableFactor) -> ControlFlow<()>> sqlparser::ast::Visitor for TableFactors<F> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        (self.0)(factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> String {
        check(sql, Path::new("out"), &["documents", "segments"])
            .expect_err(sql)
            .to_string()
    }

    #[test]
    fn tables_by_name_subqueries_and_joins_pass() {
        for sql in [
            "SELECT * FROM segments",
            "WITH s AS (SELECT doc_id FROM segments) SELECT count(*) FROM s JOIN documents d ON s.doc_id = d.doc_id",
            "SELECT * FROM (SELECT 1 AS x) t",
            "EXPLAIN SELECT * FROM documents",
            "SHOW TABLES",
            "SELEC nonsense (",
        ] {
            assert_eq!(check(sql, Path::new("out"), &["segments"]), Ok(()), "{sql}");
        }
    }

    #[test]
    fn files_urls_and_writes_are_refused_naming_what_is_allowed() {
        let e = refused("SELECT * FROM read_parquet('/home/x/secret.parquet')");
        assert!(
            e.starts_with("read_parquet('/home/x/secret.parquet')"),
            "{e}"
        );
        assert!(
            e.contains("tables of out by name (documents, segments)")
                && e.contains("--allow-files"),
            "{e}"
        );
        assert!(
            refused("SELECT * FROM read_parquet('http://example.com/x.parquet')")
                .contains("table functions")
        );
        assert!(refused("SELECT * FROM read_csv('/tmp/*.csv')").contains("table functions"));
        // Even a file inside the folder: a query reads the tables the manifest lists.
        assert!(refused("SELECT * FROM read_ipc('out/segments.parquet')").contains("read_ipc"));
        // Hidden in a subquery of a join, or in a CTE.
        assert!(refused(
            "SELECT * FROM segments JOIN (SELECT * FROM read_json('/etc/x.json')) x ON true"
        )
        .contains("read_json"));
        assert!(
            refused("WITH x AS (SELECT * FROM read_parquet('/x.parquet')) SELECT * FROM x")
                .contains("read_parquet")
        );
        let e = refused("CREATE TABLE t AS SELECT * FROM read_parquet('/etc/x.parquet')");
        assert!(
            e.starts_with("CREATE TABLE") && e.contains("only SELECT"),
            "{e}"
        );
        assert!(refused("DROP TABLE segments").contains("only SELECT"));
        assert!(refused("SELECT 1; DROP TABLE segments").contains("only SELECT"));
    }
}
