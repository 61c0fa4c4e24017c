//! Scoring segments in their context: files whose rows are the segments of documents
//! (`id,doc_id,kind,question,score,seq,role,text,lang,sentiment,themes,stage`; survey answers
//! with their question and NPS score, interview excerpts with the interviewer's questions).
//! The documents are labelled by [`Classifier::classify`], the same call a run makes, so the
//! figures include whatever a segment inherits from its question, score and neighbours.
//! Interviewer rows give context and are not scored.

use std::path::{Path, PathBuf};

use super::{report, EvalReport, EvalTask};
use crate::classify::documents::{has_doc_id, LabelledDocs};
use crate::classify::training::{Labelled, NO_STAGE};
use crate::classify::{Classifier, ClassifyError};
use crate::error::Error;
use crate::model::TextEncoder;

/// Whether a labelled CSV is a context file (it has a `doc_id` column).
pub fn is_context_file(path: &Path) -> Result<bool, Error> {
    use std::io::BufRead;
    let io = |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut header = String::new();
    std::io::BufReader::new(std::fs::File::open(path).map_err(io)?)
        .read_line(&mut header)
        .map_err(io)?;
    Ok(has_doc_id(&header))
}

fn read(paths: &[PathBuf], task: EvalTask) -> Result<LabelledDocs, Error> {
    let mut set = LabelledDocs::default();
    for path in paths {
        set.read(&crate::util::read_text(path)?, path, task)?;
    }
    Ok(set)
}

/// Scores `task` on the segments of the context files `paths`, labelled in context.
pub fn evaluate(
    paths: &[PathBuf],
    task: EvalTask,
    classifier: &Classifier,
    encoder: &dyn TextEncoder,
) -> Result<EvalReport, ClassifyError> {
    let LabelledDocs { docs, segs, gold } = read(paths, task)?;
    let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
    let emb = encoder.embed(&texts, crate::classify::FEATURES)?;
    let labels = classifier.classify(&docs, &segs, &emb, encoder)?;
    // Each label with the probability the run writes beside it.
    let (pred, confidence): (Vec<String>, Vec<f32>) = gold
        .iter()
        .map(|g| {
            let l = &labels[g.seg];
            match task {
                EvalTask::Sentiment => (l.sentiment.as_str().to_string(), l.p_sentiment),
                EvalTask::Themes => (l.themes[0].clone(), l.theme_scores[0]),
                EvalTask::Stages => (
                    l.stage.clone().unwrap_or_else(|| NO_STAGE.into()),
                    l.stage_score,
                ),
            }
        })
        .unzip();
    let rows: Vec<Labelled> = gold.into_iter().map(|g| g.row).collect();
    let first: Vec<String> = rows.iter().map(|r| r.labels[0].clone()).collect();
    let c = &classifier.cfg;
    let method = format!(
        "in context ({}, score_prior {})",
        classifier.stage_context_method(),
        c.score_prior
    );
    let file = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ");
    Ok(report(file, task, method, &rows, &first, &pred).with_calibration(&confidence))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_files_are_told_apart_by_their_doc_id_column() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = dir.path().join("context_en.csv");
        std::fs::write(
            &ctx,
            "\u{feff}id,doc_id,kind,question,score,seq,role,text,lang,sentiment,themes,stage\n\
             e1,d1,response,Q?,3,1,respondent,A.,en,neutral,other,none\n",
        )
        .unwrap();
        let flat = dir.path().join("en.csv");
        std::fs::write(&flat, "id,text,lang,label\ne1,A.,en,neutral\n").unwrap();
        assert!(is_context_file(&ctx).unwrap());
        assert!(!is_context_file(&flat).unwrap());
        let set = read(&[ctx], EvalTask::Stages).unwrap();
        assert_eq!((set.docs.len(), set.gold.len()), (1, 1));
        let err = is_context_file(&dir.path().join("missing.csv"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("missing.csv"), "{err}");
    }
}
