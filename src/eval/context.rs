//! Scoring segments in their context: files whose rows are the segments of documents
//! (`id,doc_id,kind,question,score,seq,role,text,lang,sentiment,themes,stage`; survey answers
//! with their question and NPS score, interview excerpts with the interviewer's questions).
//! The documents are labelled by [`Classifier::classify`], the same call a run makes, so the
//! figures include whatever a segment inherits from its question, score and neighbours.
//! Interviewer rows give context and are not scored.

use std::path::{Path, PathBuf};

use super::{report, EvalReport, EvalTask};
use crate::classify::training::{normalise_sentiment_label, Labelled, NO_STAGE};
use crate::classify::{Classifier, ClassifyError};
use crate::error::Error;
use crate::model::TextEncoder;
use crate::record::{DocKind, Document, Role, ScoreKind, Segment};

/// Whether a labelled CSV is a context file (it has a `doc_id` column).
pub fn is_context_file(path: &Path) -> Result<bool, Error> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let headers = rdr.headers().map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: format!("line 1: {e}"),
    })?;
    Ok(headers
        .iter()
        .any(|h| h.trim().trim_start_matches('\u{feff}') == "doc_id"))
}

/// One scored row: its segment index and gold labels.
struct Gold {
    seg: usize,
    row: Labelled,
}

/// A context set: documents, their segments (in file order) and the rows to score.
#[derive(Default)]
struct Set {
    docs: Vec<Document>,
    segs: Vec<Segment>,
    gold: Vec<Gold>,
}

fn read(paths: &[PathBuf], task: EvalTask) -> Result<Set, Error> {
    let mut set = Set::default();
    for path in paths {
        read_file(path, task, &mut set)?;
    }
    Ok(set)
}

const COLUMNS: [&str; 8] = [
    "id", "doc_id", "kind", "question", "score", "role", "text", "lang",
];

fn read_file(path: &Path, task: EvalTask, set: &mut Set) -> Result<(), Error> {
    let bad = |line: u64, message: String| Error::Config {
        path: path.to_path_buf(),
        message: format!("line {line}: {message}"),
    };
    let mut rdr = csv::Reader::from_path(path).map_err(|e| bad(0, e.to_string()))?;
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| bad(1, e.to_string()))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(1, format!("context file needs a column {name}")))
    };
    let mut c = [0usize; 8];
    for (slot, name) in c.iter_mut().zip(COLUMNS) {
        *slot = col(name)?;
    }
    let [id, doc_id, kind, question, score, role, text, lang] = c;
    let label = col(task.column())?;
    let mut seen: std::collections::HashSet<String> = Default::default();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let f = |i: usize| rec.get(i).unwrap_or("").trim();
        let did = format!("{}#{}", path.display(), f(doc_id));
        let role = match f(role) {
            "interviewer" => Role::Interviewer,
            "participant" => Role::Participant,
            "respondent" => Role::Respondent,
            other => return Err(bad(line, format!("unknown role {other:?}"))),
        };
        if set.docs.last().is_none_or(|d| d.doc_id != did) {
            if !seen.insert(did.clone()) {
                return Err(bad(
                    line,
                    format!("document {} is not contiguous", f(doc_id)),
                ));
            }
            let kind = match f(kind) {
                "interview" => DocKind::Interview,
                "response" => DocKind::Response,
                other => return Err(bad(line, format!("unknown kind {other:?}"))),
            };
            let score = match f(score) {
                "" => None,
                s => Some(
                    s.parse::<f64>()
                        .map_err(|e| bad(line, format!("score: {e}")))?,
                ),
            };
            set.docs.push(document(
                &did,
                kind,
                path,
                line,
                f(question),
                score,
                f(lang),
            ));
        }
        let labels: Vec<String> = f(label)
            .split('|')
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .map(|l| match task {
                EvalTask::Sentiment => normalise_sentiment_label(l).unwrap_or(l).to_string(),
                _ => l.to_string(),
            })
            .collect();
        if role != Role::Interviewer {
            if labels.is_empty() {
                return Err(bad(line, format!("no {} label", task.column())));
            }
            set.gold.push(Gold {
                seg: set.segs.len(),
                row: Labelled {
                    id: f(id).to_string(),
                    text: f(text).to_string(),
                    lang: f(lang).to_string(),
                    labels,
                    register: None,
                },
            });
        }
        set.segs.push(Segment {
            segment_id: f(id).to_string(),
            doc_id: did,
            seq: set.segs.len() as u32,
            turn: None,
            speaker: None,
            role,
            text: f(text).to_string(),
            char_start: 0,
            char_end: 0,
            t_start: None,
            t_end: None,
            lang: f(lang).to_string(),
            lang_confidence: 1.0,
        });
    }
    Ok(())
}

fn document(
    doc_id: &str,
    kind: DocKind,
    path: &Path,
    line: u64,
    question: &str,
    score: Option<f64>,
    lang: &str,
) -> Document {
    Document {
        source_row: Some(line),
        question: Some(question.to_string()).filter(|q| !q.is_empty()),
        score,
        score_kind: score.map(|_| ScoreKind::Nps),
        lang: Some(lang.to_string()),
        ..Document::bare(doc_id, kind, &path.display().to_string())
    }
}

/// Scores `task` on the segments of the context files `paths`, labelled in context.
pub fn evaluate(
    paths: &[PathBuf],
    task: EvalTask,
    classifier: &Classifier,
    encoder: &dyn TextEncoder,
) -> Result<EvalReport, ClassifyError> {
    let Set { docs, segs, gold } = read(paths, task)?;
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
        "in context (question_weight {}, context_weight {}, score_prior {})",
        c.question_weight, c.context_weight, c.score_prior
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

    const HEAD: &str = "id,doc_id,kind,question,score,seq,role,text,lang,sentiment,themes,stage\n";

    fn file(dir: &Path, body: &str) -> PathBuf {
        let p = dir.join("context_en.csv");
        std::fs::write(&p, format!("{HEAD}{body}")).unwrap();
        p
    }

    #[test]
    fn documents_segments_and_scored_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(
            dir.path(),
            "e1,d1,response,Why this score?,3,1,respondent,I ordered a sofa.,en,neutral,other,purchase\n\
             e2,d1,response,Why this score?,3,2,respondent,It took three weeks.,en,negative,delivery|wait_time,onboarding\n\
             e3,d2,interview,,,1,interviewer,How were the bills?,en,,,\n\
             e4,d2,interview,,,2,participant,Not great.,en,negative,billing_errors,billing\n",
        );
        assert!(is_context_file(&p).unwrap());
        let Set { docs, segs, gold } = read(std::slice::from_ref(&p), EvalTask::Themes).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].score, Some(3.0));
        assert_eq!(docs[0].question.as_deref(), Some("Why this score?"));
        assert_eq!(docs[1].kind, DocKind::Interview);
        assert_eq!(segs.len(), 4);
        assert_eq!(segs[2].role, Role::Interviewer);
        // The interviewer's row gives context but is not scored.
        let scored: Vec<usize> = gold.iter().map(|g| g.seg).collect();
        assert_eq!(scored, [0, 1, 3]);
        assert_eq!(gold[1].row.labels, ["delivery", "wait_time"]);
    }

    #[test]
    fn a_split_document_or_a_missing_label_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(
            dir.path(),
            "e1,d1,response,Q?,3,1,respondent,A.,en,neutral,other,none\n\
             e2,d2,response,Q?,3,1,respondent,B.,en,neutral,other,none\n\
             e3,d1,response,Q?,3,2,respondent,C.,en,neutral,other,none\n",
        );
        let err = read(&[p], EvalTask::Stages).err().unwrap().to_string();
        assert!(
            err.contains("line 4") && err.contains("not contiguous"),
            "{err}"
        );
        let p = file(
            dir.path(),
            "e1,d1,response,Q?,3,1,respondent,A.,en,,other,none\n",
        );
        let err = read(&[p], EvalTask::Sentiment).err().unwrap().to_string();
        assert!(
            err.contains("line 2") && err.contains("no sentiment label"),
            "{err}"
        );
    }
}
