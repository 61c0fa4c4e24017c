//! The `embeddings.parquet` table.

use polars::prelude::*;

use super::Embeddings;

/// `segment_id: str`, `embedding: Array(f32, dim)`, one row per segment in the given order.
pub fn embeddings_frame(segment_ids: &[String], emb: &Embeddings) -> PolarsResult<DataFrame> {
    polars_ensure!(
        emb.dim > 0 && emb.data.len() == segment_ids.len() * emb.dim,
        ShapeMismatch: "{} segment ids for {} embedding values of dim {}",
        segment_ids.len(), emb.data.len(), emb.dim
    );
    let ids = Column::new("segment_id".into(), segment_ids);
    let values = Series::new("embedding".into(), emb.data.as_slice());
    let embedding = if segment_ids.is_empty() {
        Series::new_empty(
            "embedding".into(),
            &DataType::Array(Box::new(DataType::Float32), emb.dim),
        )
    } else {
        values.reshape_array(&[
            ReshapeDimension::Infer,
            ReshapeDimension::new_dimension(emb.dim as u64),
        ])?
    };
    DataFrame::new(segment_ids.len(), vec![ids, embedding.into_column()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_has_fixed_size_list_column() {
        let emb = Embeddings {
            dim: 3,
            data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        };
        let ids = vec!["a".to_string(), "b".to_string()];
        let df = embeddings_frame(&ids, &emb).unwrap();
        assert_eq!(df.height(), 2);
        let col = df.column("embedding").unwrap();
        assert_eq!(
            col.dtype(),
            &DataType::Array(Box::new(DataType::Float32), 3)
        );
        let second = col.array().unwrap().get_as_series(1).unwrap();
        let v: Vec<f32> = second.f32().unwrap().into_no_null_iter().collect();
        assert_eq!(v, vec![4.0, 5.0, 6.0]);
        assert_eq!(df.column("segment_id").unwrap().dtype(), &DataType::String);

        let empty = embeddings_frame(
            &[],
            &Embeddings {
                dim: 3,
                data: vec![],
            },
        )
        .unwrap();
        assert_eq!(empty.height(), 0);
        assert!(embeddings_frame(
            &ids,
            &Embeddings {
                dim: 4,
                data: vec![0.0; 4]
            }
        )
        .is_err());
    }
}
