//! Documents labelled sentence by sentence in context
//! (`id,doc_id,kind,question,score,seq,role,text,lang,sentiment,themes,stage`; survey answers
//! with their question and NPS score, interview excerpts with the interviewer's questions).
//! `palaute eval` scores such files with the call a run makes; the shipped ones
//! (`assets/training/context_*.csv`) train how a sentence's stage combines with its context
//! and the theme head for sentences of longer answers.
//! Interviewer rows give context and carry no labels.

use std::collections::HashSet;
use std::path::Path;

use super::training::{normalise_sentiment_label, Labelled};
use crate::error::Error;
use crate::record::{DocKind, Document, Role, ScoreKind, Segment, Task};

/// Survey answers and interview excerpts labelled sentence by sentence in context (this
/// module's format), written for palaute apart from its evaluation sets; they fit how a
/// sentence's stage pools with its context ([`super::pooling`]) and train the theme head for
/// sentences of longer answers ([`super::training::context_rows`]). Labelled for the same
/// codebook and map as the feedback rows; see assets/README.md.
pub const SHIPPED_CONTEXT: [(&str, &str); 3] = [
    (
        "assets/training/context_fi.csv",
        include_str!("../../assets/training/context_fi.csv"),
    ),
    (
        "assets/training/context_sv.csv",
        include_str!("../../assets/training/context_sv.csv"),
    ),
    (
        "assets/training/context_en.csv",
        include_str!("../../assets/training/context_en.csv"),
    ),
];

/// The shipped documents ([`SHIPPED_CONTEXT`]) labelled for `task`.
pub fn shipped_context(task: Task) -> Result<LabelledDocs, Error> {
    let mut set = LabelledDocs::default();
    for (path, text) in SHIPPED_CONTEXT {
        set.read(text, Path::new(path), task)?;
    }
    Ok(set)
}

/// One labelled row: its segment index and gold labels.
#[derive(Debug, Clone)]
pub struct Gold {
    pub seg: usize,
    pub row: Labelled,
}

/// Documents, their segments (in file order) and the labelled rows.
#[derive(Debug, Default)]
pub struct LabelledDocs {
    pub docs: Vec<Document>,
    pub segs: Vec<Segment>,
    pub gold: Vec<Gold>,
}

const COLUMNS: [&str; 8] = [
    "id", "doc_id", "kind", "question", "score", "role", "text", "lang",
];

/// Whether a CSV's header has a `doc_id` column (a file of documents, not of single texts).
pub fn has_doc_id(header_line: &str) -> bool {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(header_line.as_bytes());
    rdr.records().next().and_then(Result::ok).is_some_and(|r| {
        r.iter()
            .any(|h| h.trim().trim_start_matches('\u{feff}') == "doc_id")
    })
}

impl LabelledDocs {
    /// Reads the documents of `text` (from `origin`, named in errors with the line) labelled
    /// for `task`, appending to `self`. Document ids are prefixed with `origin` so that two
    /// files may reuse them.
    pub fn read(&mut self, text: &str, origin: &Path, task: Task) -> Result<(), Error> {
        let bad = |line: u64, message: String| Error::Config {
            path: origin.to_path_buf(),
            message: format!("line {line}: {message}"),
        };
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
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
        let mut seen: HashSet<String> = Default::default();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = rec.position().map_or(0, |p| p.line());
            let f = |i: usize| rec.get(i).unwrap_or("").trim();
            let did = format!("{}#{}", origin.display(), f(doc_id));
            let role = match f(role) {
                "interviewer" => Role::Interviewer,
                "participant" => Role::Participant,
                "respondent" => Role::Respondent,
                other => return Err(bad(line, format!("unknown role {other:?}"))),
            };
            if self.docs.last().is_none_or(|d| d.doc_id != did) {
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
                self.docs.push(Document {
                    source_row: Some(line),
                    question: Some(f(question).to_string()).filter(|q| !q.is_empty()),
                    score,
                    score_kind: score.map(|_| ScoreKind::Nps),
                    lang: Some(f(lang).to_string()),
                    ..Document::bare(&did, kind, &origin.display().to_string())
                });
            }
            let labels: Vec<String> = f(label)
                .split('|')
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .map(|l| match task {
                    Task::Sentiment => normalise_sentiment_label(l).unwrap_or(l).to_string(),
                    _ => l.to_string(),
                })
                .collect();
            if role != Role::Interviewer {
                if labels.is_empty() {
                    return Err(bad(line, format!("no {} label", task.column())));
                }
                self.gold.push(Gold {
                    seg: self.segs.len(),
                    row: Labelled {
                        id: f(id).to_string(),
                        text: f(text).to_string(),
                        lang: f(lang).to_string(),
                        labels,
                        ..Default::default()
                    },
                });
            }
            self.segs.push(Segment {
                segment_id: f(id).to_string(),
                doc_id: did,
                seq: self.segs.len() as u32,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "id,doc_id,kind,question,score,seq,role,text,lang,sentiment,themes,stage\n";

    fn read(body: &str, task: Task) -> Result<LabelledDocs, Error> {
        let mut set = LabelledDocs::default();
        set.read(&format!("{HEAD}{body}"), Path::new("context_en.csv"), task)?;
        Ok(set)
    }

    #[test]
    fn documents_segments_and_labelled_rows() {
        assert!(has_doc_id(HEAD) && !has_doc_id("id,text,lang,label\n"));
        let LabelledDocs { docs, segs, gold } = read(
            "e1,d1,response,Why this score?,3,1,respondent,I ordered a sofa.,en,neutral,other,purchase\n\
             e2,d1,response,Why this score?,3,2,respondent,It took three weeks.,en,negative,delivery|wait_time,onboarding\n\
             e3,d2,interview,,,1,interviewer,How were the bills?,en,,,\n\
             e4,d2,interview,,,2,participant,Not great.,en,negative,billing_errors,billing\n",
            Task::Themes,
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].score, Some(3.0));
        assert_eq!(docs[0].question.as_deref(), Some("Why this score?"));
        assert_eq!(docs[1].kind, DocKind::Interview);
        assert_eq!(segs.len(), 4);
        assert_eq!(segs[2].role, Role::Interviewer);
        // The interviewer's row gives context but is not labelled.
        let labelled: Vec<usize> = gold.iter().map(|g| g.seg).collect();
        assert_eq!(labelled, [0, 1, 3]);
        assert_eq!(gold[1].row.labels, ["delivery", "wait_time"]);
    }

    #[test]
    fn a_split_document_or_a_missing_label_names_the_line() {
        let cases = [
            (
                "e1,d1,response,Q?,3,1,respondent,A.,en,neutral,other,none\n\
                 e2,d2,response,Q?,3,1,respondent,B.,en,neutral,other,none\n\
                 e3,d1,response,Q?,3,2,respondent,C.,en,neutral,other,none\n",
                Task::Stages,
                "line 4",
                "not contiguous",
            ),
            (
                "e1,d1,response,Q?,3,1,respondent,A.,en,,other,none\n",
                Task::Sentiment,
                "line 2",
                "no sentiment label",
            ),
            (
                "e1,d1,survey,Q?,3,1,respondent,A.,en,neutral,other,none\n",
                Task::Stages,
                "line 2",
                "unknown kind",
            ),
        ];
        for (body, task, line, what) in cases {
            let err = read(body, task).expect_err("an error").to_string();
            assert!(err.contains(line) && err.contains(what), "{err}");
        }
    }
}
