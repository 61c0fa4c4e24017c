//! `palaute eval --cv K`: cross-validation of a head on its own training data.

use std::collections::BTreeSet;

use sha2::Digest;

use super::{report, EvalReport, EvalTask};
use crate::classify::codebook::OTHER;
use crate::classify::head::Inputs;
use crate::classify::training::Labelled;
use crate::classify::ClassifyError;
use crate::model::{Embeddings, TextEncoder};

/// `palaute eval --cv K`: K-fold cross-validation of `task`'s head on the training data it is
/// built from (the shipped examples and the configured codebook). Rows are split by their
/// text, so a text repeated for weight never sits on both sides. These figures show what the
/// head learned of its own data's style; held-out sets written apart from it are the measure
/// of generalisation.
pub fn cross_validate(
    config: &crate::Config,
    task: EvalTask,
    folds: usize,
    encoder: &dyn TextEncoder,
) -> Result<EvalReport, ClassifyError> {
    let folds = folds.max(2);
    let (rows, labels, multi) = crate::classify::training_set(&config.classify, task)?;
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let langs: Vec<&str> = rows.iter().map(|r| r.lang.as_str()).collect();
    let emb = encoder.embed(&texts, crate::classify::FEATURES)?;
    let fold_of: Vec<usize> = texts
        .iter()
        .map(|t| {
            let h = sha2::Sha256::digest(t.to_lowercase().as_bytes());
            (u64::from_le_bytes(h[..8].try_into().unwrap_or_default()) % folds as u64) as usize
        })
        .collect();
    let gold_of = |r: &Labelled| match task {
        EvalTask::Themes => r.labels.first().map_or(OTHER, String::as_str).to_string(),
        _ => r.labels.first().cloned().unwrap_or_default(),
    };
    let mut pred = vec![String::new(); rows.len()];
    // The probability each prediction states, as a run would write it.
    let mut stated = vec![0f32; rows.len()];
    for fold in 0..folds {
        let (train, test): (Vec<usize>, Vec<usize>) =
            (0..rows.len()).partition(|i| fold_of[*i] != fold);
        let pick = |idx: &[usize]| -> (Vec<Labelled>, Embeddings) {
            let data = idx.iter().flat_map(|i| emb.row(*i).to_vec()).collect();
            (
                idx.iter().map(|i| rows[*i].clone()).collect(),
                Embeddings { dim: emb.dim, data },
            )
        };
        let (train_rows, train_emb) = pick(&train);
        let head = crate::classify::fit_head(
            task.into(),
            &train_rows,
            &train_emb,
            &labels,
            multi,
            encoder.info(),
        )?;
        let (_, test_emb) = pick(&test);
        let test_texts: Vec<&str> = test.iter().map(|i| texts[*i]).collect();
        let test_langs: Vec<&str> = test.iter().map(|i| langs[*i]).collect();
        let probs = head.predict(&Inputs {
            emb: &test_emb,
            texts: &test_texts,
            langs: &test_langs,
        });
        for (i, p) in test.iter().zip(probs) {
            let label = head.top_label(&p);
            // A label's own probability (single-label heads always give one); `other`'s as a
            // run states it.
            stated[*i] = match label {
                Some(_) => p.iter().copied().fold(0.0, f32::max),
                None => crate::classify::other_probability(&p),
            };
            pred[*i] = label.unwrap_or(OTHER).to_string();
        }
    }
    // Each text once: a row repeated for weight is one sentence, not several.
    let mut seen = BTreeSet::new();
    let keep: Vec<usize> = (0..rows.len())
        .filter(|i| seen.insert(rows[*i].text.to_lowercase()))
        .collect();
    let scored: Vec<Labelled> = keep.iter().map(|i| rows[*i].clone()).collect();
    let gold: Vec<String> = scored.iter().map(gold_of).collect();
    let pred: Vec<String> = keep.iter().map(|i| pred[*i].clone()).collect();
    let stated: Vec<f32> = keep.iter().map(|i| stated[*i]).collect();
    Ok(report(
        format!("{folds}-fold cross-validation on the training data"),
        task,
        format!("trained head ({} training rows)", rows.len()),
        &scored,
        &gold,
        &pred,
    )
    .with_calibration(&stated))
}
