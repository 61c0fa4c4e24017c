//! Output tables. Every file is written to a temporary name and renamed into place, so a
//! crash leaves the previous file or none, never half of one; a run's files become visible
//! together through [`folder`]. Row order is the input order, and Parquet writing is
//! deterministic, so a rerun is byte-identical.

pub mod folder;

use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use crate::analyze::{list_col, list_f32_col};
use crate::classify::SegmentLabels;
use crate::error::Error;
use crate::record::{Document, Reject, Segment, Sentiment};

pub use crate::util::write_atomic;

pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<(), Error> {
    write_atomic(path, |file| {
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

pub fn write_json(value: &serde_json::Value, path: &Path) -> Result<(), Error> {
    write_atomic(path, |file| {
        serde_json::to_writer_pretty(&mut *file, value).map_err(|e| e.to_string())?;
        file.write_all(b"\n").map_err(|e| e.to_string())
    })
}

fn str_col<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<_>>())
}

pub fn documents_frame(
    docs: &[Document],
    n_segments: &[u32],
    sentiment: Option<&[Option<(Sentiment, f32)>]>,
) -> PolarsResult<DataFrame> {
    // Metadata columns in order of first appearance, each document's values placed by a
    // name → column index: linear in cells, so 5 000 pass-through columns cost what their
    // values do (a linear search per cell made that quadratic: 29 s for 300 rows).
    let mut meta_names: Vec<&str> = Vec::new();
    let mut meta_index: std::collections::HashMap<&str, usize> = Default::default();
    for d in docs {
        for (k, _) in &d.metadata {
            meta_index.entry(k.as_str()).or_insert_with(|| {
                meta_names.push(k.as_str());
                meta_names.len() - 1
            });
        }
    }
    let mut meta_values: Vec<Vec<Option<&str>>> = vec![vec![None; docs.len()]; meta_names.len()];
    for (row, d) in docs.iter().enumerate() {
        // The first value wins when a document repeats a name, as the linear search did.
        for (k, v) in d.metadata.iter().rev() {
            meta_values[meta_index[k.as_str()]][row] = v.as_deref();
        }
    }
    let days_since_epoch =
        |d: &chrono::NaiveDate| (*d - chrono::NaiveDate::default()).num_days() as i32;
    let mut columns = vec![
        str_col("doc_id", docs.iter().map(|d| Some(d.doc_id.as_str()))),
        str_col("kind", docs.iter().map(|d| Some(d.kind.as_str()))),
        str_col(
            "source_file",
            docs.iter().map(|d| Some(d.source_file.as_str())),
        ),
        Column::new(
            "source_row".into(),
            docs.iter().map(|d| d.source_row).collect::<Vec<_>>(),
        ),
        str_col(
            "source_column",
            docs.iter().map(|d| d.source_column.as_deref()),
        ),
        str_col("question", docs.iter().map(|d| d.question.as_deref())),
        str_col(
            "respondent_id",
            docs.iter().map(|d| d.respondent_id.as_deref()),
        ),
        Column::new(
            "score".into(),
            docs.iter().map(|d| d.score).collect::<Vec<_>>(),
        ),
        str_col(
            "score_kind",
            docs.iter().map(|d| d.score_kind.map(|k| k.as_str())),
        ),
        str_col(
            "nps_group",
            docs.iter().map(|d| match (d.score_kind, d.score) {
                (Some(crate::record::ScoreKind::Nps), Some(s)) => {
                    Some(crate::record::nps_group(s).as_str())
                }
                _ => None,
            }),
        ),
        Column::new(
            "date".into(),
            docs.iter()
                .map(|d| d.date.as_ref().map(days_since_epoch))
                .collect::<Vec<_>>(),
        )
        .cast(&DataType::Date)?,
        str_col("lang", docs.iter().map(|d| d.lang.as_deref())),
        Column::new("n_segments".into(), n_segments.to_vec()),
        str_col(
            "sentiment",
            (0..docs.len()).map(|i| {
                sentiment
                    .and_then(|s| s[i].as_ref())
                    .map(|(l, _)| l.as_str())
            }),
        ),
        Column::new(
            "sentiment_score".into(),
            (0..docs.len())
                .map(|i| sentiment.and_then(|s| s[i].as_ref()).map(|(_, v)| *v))
                .collect::<Vec<_>>(),
        ),
        str_col("text", docs.iter().map(|d| Some(d.text.as_str()))),
    ];
    for (name, values) in meta_names.iter().zip(meta_values) {
        columns.push(str_col(&format!("meta_{name}"), values.into_iter()));
    }
    DataFrame::new_infer_height(columns)
}

pub fn segments_frame(
    segs: &[Segment],
    labels: Option<&[SegmentLabels]>,
) -> PolarsResult<DataFrame> {
    let lab = |i: usize| labels.map(|l| &l[i]);
    let n = segs.len();
    let num = |name: &str, f: &dyn Fn(&Segment) -> Option<f64>| {
        Column::new(name.into(), segs.iter().map(f).collect::<Vec<_>>())
    };
    let lab_f32 = |name: &str, f: &dyn Fn(&SegmentLabels) -> f32| {
        Column::new(
            name.into(),
            (0..n).map(|i| lab(i).map(f)).collect::<Vec<_>>(),
        )
    };
    DataFrame::new_infer_height(vec![
        str_col(
            "segment_id",
            segs.iter().map(|s| Some(s.segment_id.as_str())),
        ),
        str_col("doc_id", segs.iter().map(|s| Some(s.doc_id.as_str()))),
        Column::new("seq".into(), segs.iter().map(|s| s.seq).collect::<Vec<_>>()),
        Column::new(
            "turn".into(),
            segs.iter().map(|s| s.turn).collect::<Vec<_>>(),
        ),
        str_col("speaker", segs.iter().map(|s| s.speaker.as_deref())),
        str_col("role", segs.iter().map(|s| Some(s.role.as_str()))),
        str_col("text", segs.iter().map(|s| Some(s.text.as_str()))),
        Column::new(
            "char_start".into(),
            segs.iter().map(|s| s.char_start as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "char_end".into(),
            segs.iter().map(|s| s.char_end as u32).collect::<Vec<_>>(),
        ),
        num("t_start", &|s| s.t_start),
        num("t_end", &|s| s.t_end),
        str_col("lang", segs.iter().map(|s| Some(s.lang.as_str()))),
        Column::new(
            "lang_confidence".into(),
            segs.iter().map(|s| s.lang_confidence).collect::<Vec<_>>(),
        ),
        str_col(
            "sentiment",
            (0..n).map(|i| lab(i).map(|l| l.sentiment.as_str())),
        ),
        lab_f32("p_sentiment", &|l| l.p_sentiment),
        lab_f32("sentiment_score", &|l| l.sentiment_score),
        list_col(
            "themes",
            &(0..n)
                .map(|i| lab(i).map(|l| l.themes.clone()).unwrap_or_default())
                .collect::<Vec<_>>(),
        ),
        list_f32_col(
            "theme_scores",
            &(0..n)
                .map(|i| lab(i).map(|l| l.theme_scores.clone()).unwrap_or_default())
                .collect::<Vec<_>>(),
        ),
        str_col(
            "stage",
            (0..n).map(|i| lab(i).and_then(|l| l.stage.as_deref())),
        ),
        lab_f32("stage_score", &|l| l.stage_score),
        str_col(
            "root_cause_theme",
            (0..n).map(|i| lab(i).and_then(|l| l.root_cause_theme.as_deref())),
        ),
        Column::new(
            "stated_reason".into(),
            (0..n)
                .map(|i| lab(i).map(|l| l.stated_reason))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "in_longer_answer".into(),
            (0..n)
                .map(|i| lab(i).and_then(|l| l.in_longer_answer))
                .collect::<Vec<_>>(),
        ),
    ])
}

pub fn rejects_frame(rejects: &[Reject]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        str_col(
            "source_file",
            rejects.iter().map(|r| Some(r.source_file.as_str())),
        ),
        Column::new(
            "line".into(),
            rejects.iter().map(|r| r.line).collect::<Vec<_>>(),
        ),
        str_col("level", rejects.iter().map(|r| Some(r.level.as_str()))),
        str_col("reason", rejects.iter().map(|r| Some(r.reason.as_str()))),
        str_col("raw", rejects.iter().map(|r| r.raw.as_deref())),
    ])
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn metadata_columns_in_first_seen_order_first_value_wins() {
        let doc = |id: &str, meta: &[(&str, Option<&str>)]| Document {
            metadata: meta
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(String::from)))
                .collect(),
            text: "t".into(),
            ..Document::bare(id, crate::record::DocKind::Response, "f.csv")
        };
        let docs = [
            doc("a", &[("region", Some("north")), ("channel", None)]),
            doc(
                "b",
                &[
                    ("product", Some("p1")),
                    ("region", Some("south")),
                    ("region", Some("x")),
                ],
            ),
        ];
        let df = documents_frame(&docs, &[1, 1], None).unwrap();
        let names: Vec<&str> = df
            .get_column_names()
            .into_iter()
            .map(|n| n.as_str())
            .filter(|n| n.starts_with("meta_"))
            .collect();
        assert_eq!(names, ["meta_region", "meta_channel", "meta_product"]);
        let region: Vec<Option<&str>> = df
            .column("meta_region")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(region, [Some("north"), Some("south")]);
        let product: Vec<Option<&str>> = df
            .column("meta_product")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(product, [None, Some("p1")]);
    }

    #[test]
    fn outputs_are_readable_like_any_written_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        write_atomic(&path, |f| {
            std::io::Write::write_all(f, b"{}").map_err(|e| e.to_string())
        })
        .unwrap();
        // A plain create under the same umask is the reference (0600 was the bug).
        let reference = dir.path().join("ref");
        std::fs::write(&reference, b"").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&reference));
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
    }
}
