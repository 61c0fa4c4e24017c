//! Training sets for the heads: the examples shipped in `assets/` (written for the project),
//! the codebooks' own examples, and a researcher's CSV of corrected labels.

use std::path::Path;

use super::codebook::{Codebook, CodebookKind, OTHER};
use super::documents::shipped_context;
use crate::error::Error;
use crate::record::Task;

pub const SENTIMENT_LABELS: [&str; 3] = ["negative", "neutral", "positive"];

/// The stage label of a segment that names no moment of the journey ("Hyvä firma.", "I live
/// in Turku"): a class of its own, so such a segment gets no stage instead of the nearest one.
pub const NO_STAGE: &str = "none";

/// Feedback written for palaute with all three labels (`id,text,lang,sentiment,themes,stage`):
/// several hundred rows per language across registers (terse answers, interview turns, long
/// mixed comments, sarcasm, negation, plain facts), both polarities per theme and hard
/// negatives between neighbouring themes. Its themes belong to the `cx-root-causes` codebook
/// and its stages to the `journey-b2c` map; see assets/README.md.
const SHIPPED_FEEDBACK: [(&str, &str); 3] = [
    (
        "assets/training/feedback_fi.csv",
        include_str!("../../assets/training/feedback_fi.csv"),
    ),
    (
        "assets/training/feedback_sv.csv",
        include_str!("../../assets/training/feedback_sv.csv"),
    ),
    (
        "assets/training/feedback_en.csv",
        include_str!("../../assets/training/feedback_en.csv"),
    ),
];

/// The codebook whose sentence head also learns from the shipped documents' sentences
/// ([`context_rows`]).
const CONTEXT_CODEBOOK: &str = "cx-root-causes";

/// Codebook ids whose items the shipped feedback is labelled with, and its column for them.
const FEEDBACK_CODEBOOKS: [(&str, &str); 2] =
    [("cx-root-causes", "themes"), ("journey-b2c", "stage")];

/// The shipped sentiment examples (file, text, weight): customer feedback (fi/sv/en) plus
/// everyday registers (dialogue, social media, messages, reviews) in fi/sv and in en and seven
/// other languages, so the head is not tied to the phrasing of survey answers. Feedback is
/// what palaute reads, so its rows count three times: in everyday registers a plain report of
/// a problem ("the bill had the same fee twice") reads as neutral, in feedback it is a
/// complaint. Measured: the weight changes XED/UMSAB macro-F1 by < 0.01 and moves such
/// factual complaints from neutral to negative.
const SHIPPED_SENTIMENT: [(&str, &str, usize); 3] = [
    (
        "assets/sentiment/train.csv",
        include_str!("../../assets/sentiment/train.csv"),
        3,
    ),
    (
        "assets/sentiment/general_fi_sv.csv",
        include_str!("../../assets/sentiment/general_fi_sv.csv"),
        1,
    ),
    (
        "assets/sentiment/general_multi.csv",
        include_str!("../../assets/sentiment/general_multi.csv"),
        1,
    ),
];

/// One labelled text: `labels` holds one label (single-label tasks) or several (themes).
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub id: String,
    pub text: String,
    pub lang: String,
    pub labels: Vec<String>,
    /// Optional `register` column of evaluation files (terse, spoken, sarcasm, …): `palaute
    /// eval` scores each register apart too.
    pub register: Option<String>,
    /// Optional `in_longer_answer` column (as segments.parquet has it): whether the text is
    /// one sentence of a longer answer (`true`) or a whole answer (`false`); `None` when the
    /// file does not say. `palaute train --task themes` keeps such sentences out of the
    /// whole-text head of the built-in codebook's pair (not with `--only-file`, where one
    /// head learns every row).
    pub in_longer_answer: Option<bool>,
}

/// Read `id,text,lang,label[,register][,in_longer_answer]` (label may join several with
/// `|`). Bad rows are errors naming the file and line: a training file is small and must be
/// right.
pub fn read_labelled_csv(text: &str, origin: &Path) -> Result<Vec<Labelled>, Error> {
    read_labelled_columns(text, origin, &["label"])
}

/// A labelled file for one task: its `column` (see `EvalTask::column`), else `label`.
pub fn read_task_file(path: &Path, column: &str) -> Result<Vec<Labelled>, Error> {
    let text = crate::util::read_text(path)?;
    read_labelled_columns(&text, path, &[column, "label"])
}

/// Like [`read_labelled_csv`], with the labels taken from the first of `label_columns` the
/// file has: one file can label a text for several tasks (`sentiment,themes,stage`).
pub fn read_labelled_columns(
    text: &str,
    origin: &Path,
    label_columns: &[&str],
) -> Result<Vec<Labelled>, Error> {
    let bad = |line: u64, message: String| Error::Config {
        path: origin.to_path_buf(),
        message: format!("line {line}: {message}"),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| bad(1, e.to_string()))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let label = label_columns.iter().find_map(|c| col(c));
    let (Some(t), Some(l)) = (col("text"), label) else {
        return Err(bad(
            1,
            format!(
                "needs columns text and {} (found {headers:?})",
                label_columns.join(" or ")
            ),
        ));
    };
    let (id, lang, register) = (col("id"), col("lang"), col("register"));
    let longer = col("in_longer_answer");
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let field = |i: Option<usize>| i.and_then(|i| rec.get(i)).map(|s| s.trim().to_string());
        let text = field(Some(t)).unwrap_or_default();
        let labels: Vec<String> = field(Some(l))
            .unwrap_or_default()
            .split('|')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if text.is_empty() || labels.is_empty() {
            return Err(bad(line, "empty text or label".into()));
        }
        let mark = field(longer).unwrap_or_default();
        // Empty, or how R, pandas and Polars write a missing value (the interviewer's rows
        // are null in segments.parquet): the file does not say.
        let in_longer_answer = match mark.to_lowercase().as_str() {
            "" | "na" | "nan" | "null" | "none" => None,
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => {
                return Err(bad(
                    line,
                    format!("in_longer_answer {mark:?} is not true or false (or empty)"),
                ))
            }
        };
        out.push(Labelled {
            id: field(id).unwrap_or_else(|| format!("line{line}")),
            text,
            lang: field(lang).unwrap_or_default(),
            labels,
            register: field(register).filter(|r| !r.is_empty()),
            in_longer_answer,
        });
    }
    Ok(out)
}

/// The shipped examples, each repeated by its file's weight (the loss is a mean, so a row
/// given `k` times weighs `k`; the encoder embeds repeated texts once).
pub fn shipped_sentiment() -> Result<Vec<Labelled>, Error> {
    let mut rows = shipped_sentiment_general()?;
    // The feedback rows count once: at weight 3 (like train.csv) held-out macro-F1 was 0.690
    // but UMSAB tweets fell 0.620 → 0.570; at weight 1 held-out is 0.659 (parity gap 0.025)
    // and UMSAB 0.598. Weight 2 with the multilingual set at 3 did no better (0.670 / 0.590).
    rows.extend(shipped_feedback("sentiment")?);
    Ok(rows)
}

/// [`shipped_sentiment`] without the feedback rows: the head for segments in languages those
/// rows are not written in (see `SentimentSource::Routed`).
pub fn shipped_sentiment_general() -> Result<Vec<Labelled>, Error> {
    let mut rows = Vec::new();
    for (path, text, weight) in SHIPPED_SENTIMENT {
        for r in read_labelled_csv(text, Path::new(path))? {
            rows.extend(std::iter::repeat_n(r, weight));
        }
    }
    Ok(rows)
}

/// Whether a segment in language `lang` (an ISO 639 code or BCP 47 tag, `und` or empty when
/// undetected) is in a language of the shipped feedback rows — or unknown, which is read as
/// feedback too, the register palaute is for.
pub fn in_feedback_language(lang: &str) -> bool {
    let primary = crate::text::primary_subtag(lang);
    primary.is_empty()
        || primary.eq_ignore_ascii_case("und")
        || crate::text::Lang::from_code(primary) != crate::text::Lang::Other
}

/// The shipped feedback rows labelled in `column` (`sentiment`, `themes` or `stage`).
pub fn shipped_feedback(column: &str) -> Result<Vec<Labelled>, Error> {
    let mut rows = Vec::new();
    for (path, text) in SHIPPED_FEEDBACK {
        rows.extend(read_labelled_columns(text, Path::new(path), &[column])?);
    }
    Ok(rows)
}

/// The shipped feedback rows for codebook `cb` when it is (a copy of) one of the codebooks the
/// feedback is labelled for, as training rows in `codebook_rows`' shape.
fn feedback_rows(cb: &Codebook) -> Result<Vec<Labelled>, Error> {
    let Some((_, column)) = FEEDBACK_CODEBOOKS
        .iter()
        .find(|(id, _)| *id == cb.codebook.id)
    else {
        return Ok(Vec::new());
    };
    Ok(in_codebook(cb, shipped_feedback(column)?, "feedback"))
}

/// Rows labelled for a built-in codebook, in `codebook_rows`' shape: `other` → no theme,
/// `none` → [`NO_STAGE`], ids prefixed with `origin`. Rows naming an id `cb` lacks are left
/// out, so an edited copy that dropped or renamed an item still trains on the rest.
fn in_codebook(cb: &Codebook, rows: Vec<Labelled>, origin: &str) -> Vec<Labelled> {
    let ids = cb.ids();
    rows.into_iter()
        .filter_map(|mut r| {
            r.labels.retain(|l| l != OTHER);
            let known = r
                .labels
                .iter()
                .all(|l| l == NO_STAGE || ids.contains(&l.as_str()));
            known.then(|| {
                r.id = format!("{origin}-{}", r.id);
                r
            })
        })
        .collect()
}

/// The sentences of the shipped documents as training rows for codebook `cb`'s head, each
/// with the themes it has in its document — for the built-in theme codebook only, else none.
/// A run labels sentences of longer answers, many of which name their theme only by what
/// surrounds them ("Kolme viikkoa.") while the feedback rows are whole texts. They train the
/// head that labels such sentences (`Classifier`'s sentence theme head), not the one for whole
/// answers: they teach a head to give a background sentence ("I reported the damage on
/// Monday.") the theme of what it begins, right in a document and wrong alone (README "In
/// context"). Not for stages: there the same sentences lowered held-out stages whole and in
/// context (0.831 → 0.822, 0.693 → 0.681), and they are what the stage pooling is fitted on.
/// The encoder's adaptation keeps [`codebook_rows`]: it was measured, and is cached, without
/// them.
pub fn context_rows(cb: &Codebook) -> Result<Vec<Labelled>, Error> {
    if cb.codebook.id != CONTEXT_CODEBOOK || cb.codebook.kind != CodebookKind::Theme {
        return Ok(Vec::new());
    }
    let sentences = shipped_context(Task::Themes)?
        .gold
        .into_iter()
        .map(|g| g.row);
    Ok(in_codebook(cb, sentences.collect(), "context"))
}

/// [`codebook_rows`] and [`context_rows`]: what the sentence theme head is trained on and
/// `eval --cv` folds (`palaute train` adds a researcher's corrections to both parts).
pub fn head_rows(cb: &Codebook) -> Result<Vec<Labelled>, Error> {
    let mut rows = codebook_rows(cb)?;
    rows.extend(context_rows(cb)?);
    Ok(rows)
}

/// Theme examples from a codebook: every example (and description) is a positive for its
/// item; `other` examples are negatives for every theme. The built-in codebooks add the
/// shipped feedback rows (see [`SHIPPED_FEEDBACK`]).
pub fn codebook_rows(cb: &Codebook) -> Result<Vec<Labelled>, Error> {
    let mut out = Vec::new();
    for item in &cb.items {
        let labels = if item.id == OTHER {
            vec![]
        } else {
            vec![item.id.clone()]
        };
        let texts = item
            .examples
            .iter()
            .flat_map(|(lang, ex)| ex.iter().map(move |t| (lang.clone(), t.clone())))
            .chain(item.description.iter().map(|(l, d)| (l.clone(), d.clone())))
            .chain(
                item.questions
                    .iter()
                    .flat_map(|(lang, q)| q.iter().map(move |t| (lang.clone(), t.clone()))),
            );
        for (i, (lang, text)) in texts.enumerate() {
            out.push(Labelled {
                id: format!("{}-{i}", item.id),
                text,
                lang,
                labels: labels.clone(),
                register: None,
                in_longer_answer: None,
            });
        }
    }
    out.extend(feedback_rows(cb)?);
    Ok(out)
}

/// Map a model's or a file's label names onto negative/neutral/positive.
pub fn normalise_sentiment_label(label: &str) -> Option<&'static str> {
    let l = label.trim().to_lowercase();
    match l.as_str() {
        "negative" | "neg" | "label_0" | "1 star" | "2 stars" | "0" | "negatiivinen"
        | "negativ" => Some("negative"),
        "neutral" | "neu" | "label_1" | "3 stars" | "1" | "neutraali" => Some("neutral"),
        "positive" | "pos" | "label_2" | "4 stars" | "5 stars" | "2" | "positiivinen"
        | "positiv" => Some("positive"),
        _ if l.starts_with("neg") => Some("negative"),
        _ if l.starts_with("pos") => Some("positive"),
        _ if l.starts_with("neu") => Some("neutral"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_labels_several_tasks() {
        let text = "id,text,lang,sentiment,themes,stage\n1,Lasku oli väärin,fi,negative,billing_errors,billing\n2,Asun Turussa,fi,neutral,other,none\n";
        let rows = read_labelled_columns(text, Path::new("x.csv"), &["stage", "label"]).unwrap();
        assert_eq!(rows[0].labels, ["billing"]);
        assert_eq!(rows[1].labels, [NO_STAGE]);
        let err = read_labelled_columns(text, Path::new("x.csv"), &["aspect_label"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("x.csv") && err.contains("aspect_label"),
            "{err}"
        );
    }

    #[test]
    fn shipped_sentiment_is_balanced_and_trilingual() {
        let rows: Vec<Labelled> = SHIPPED_SENTIMENT
            .iter()
            .flat_map(|(path, text, _)| read_labelled_csv(text, Path::new(path)).unwrap())
            .collect();
        for lang in ["fi", "sv", "en"] {
            for label in SENTIMENT_LABELS {
                let n = rows
                    .iter()
                    .filter(|r| r.lang == lang && r.labels == [label])
                    .count();
                assert!(n >= 100, "{lang} {label}: {n}");
            }
        }
        // A sentence in two files (or twice with different labels) would weigh double or
        // contradict itself.
        let mut seen = std::collections::HashSet::new();
        for r in &rows {
            assert!(SENTIMENT_LABELS.contains(&r.labels[0].as_str()), "{r:?}");
            assert!(seen.insert(r.text.to_lowercase()), "duplicate: {}", r.text);
        }
    }

    #[test]
    fn feedback_languages_are_those_the_sentiment_routing_sends_to_its_head() {
        let rows = shipped_feedback("sentiment").unwrap();
        assert!(
            rows.iter().all(|r| in_feedback_language(&r.lang)),
            "a feedback row's language"
        );
        for lang in ["fi", "sv-SE", "EN", "fin", "und", ""] {
            assert!(in_feedback_language(lang), "{lang}");
        }
        for lang in ["de", "ar", "nb", "da", "pt-BR"] {
            assert!(!in_feedback_language(lang), "{lang}");
        }
        // The general head's rows are the shipped ones minus exactly the feedback rows.
        let (general, all) = (
            shipped_sentiment_general().unwrap(),
            shipped_sentiment().unwrap(),
        );
        assert_eq!(general.len() + rows.len(), all.len());
        assert_eq!(general[..], all[..general.len()]);
    }

    /// Lower-case words of `t`, so "No comment." and "no comment" are the same text.
    fn words(t: &str) -> String {
        t.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The held-out and confirmation sets choose and report methods only if nothing is trained
    /// on them: no text of four words or more that a head or the encoder's adaptation learns
    /// from (shipped sentiment and feedback rows, the built-in codebooks' examples, descriptions
    /// and questions, the context documents' sentences) may be one of theirs. Shorter ones
    /// ("no comment", "ok") are answers anyone writes, in training and evaluation alike.
    #[test]
    fn nothing_is_trained_on_an_evaluation_text() {
        let mut trained: std::collections::HashMap<String, String> = Default::default();
        let mut add = |rows: Vec<Labelled>| {
            for r in rows {
                trained.insert(words(&r.text), r.id);
            }
        };
        add(shipped_sentiment().unwrap());
        add(
            codebook_rows(&Codebook::resolve("cx-root-causes", CodebookKind::Theme).unwrap())
                .unwrap(),
        );
        for map in ["b2c", "b2b"] {
            add(codebook_rows(&Codebook::resolve(map, CodebookKind::Stage).unwrap()).unwrap());
        }
        // The context documents' sentences, interviewer questions included: a theme head learns
        // from the labelled ones, and all are embedded and scored when the stage pooling is
        // fitted.
        add(shipped_context(Task::Stages)
            .unwrap()
            .segs
            .iter()
            .map(|s| Labelled {
                id: s.segment_id.clone(),
                text: s.text.clone(),
                lang: s.lang.clone(),
                labels: Vec::new(),
                register: None,
                in_longer_answer: None,
            })
            .collect());
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("eval");
        let mut checked = 0;
        for dir in ["heldout", "confirm"] {
            let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "csv"))
                .collect();
            files.sort();
            for file in files {
                let mut csv = csv::Reader::from_path(&file).unwrap();
                // The reviews' blind labels (`REVIEW_*_blind.csv`) hold no texts.
                let Some(col) = csv.headers().unwrap().iter().position(|h| h == "text") else {
                    continue;
                };
                for rec in csv.records() {
                    let text = words(&rec.unwrap()[col]);
                    checked += 1;
                    if text.split(' ').count() >= 4 {
                        let hit = trained.get(&text);
                        assert!(
                            hit.is_none(),
                            "{}: {text:?} is training row {hit:?}",
                            file.display()
                        );
                    }
                }
            }
        }
        assert!(checked > 900, "{checked} evaluation texts");
    }

    #[test]
    fn shipped_feedback_fits_the_builtin_codebooks() {
        use crate::classify::codebook::CodebookKind;
        let themes = Codebook::resolve("cx-root-causes", CodebookKind::Theme).unwrap();
        let stages = Codebook::resolve("b2c", CodebookKind::Stage).unwrap();
        let sentiment = shipped_feedback("sentiment").unwrap();
        let theme_rows = shipped_feedback("themes").unwrap();
        let stage_rows = shipped_feedback("stage").unwrap();
        assert_eq!(sentiment.len(), theme_rows.len());
        assert_eq!(stage_rows.len(), theme_rows.len());
        let examples: std::collections::HashSet<String> = themes
            .items
            .iter()
            .chain(&stages.items)
            .flat_map(|i| i.all_examples())
            .map(str::to_lowercase)
            .collect();
        let mut seen = std::collections::HashSet::new();
        for ((s, t), g) in sentiment.iter().zip(&theme_rows).zip(&stage_rows) {
            assert!(SENTIMENT_LABELS.contains(&s.labels[0].as_str()), "{s:?}");
            assert!(t.labels.iter().all(|l| themes.item(l).is_some()), "{t:?}");
            assert!(
                g.labels == [NO_STAGE] || stages.item(&g.labels[0]).is_some(),
                "{g:?}"
            );
            assert!(
                seen.insert((s.lang.clone(), s.text.to_lowercase())),
                "duplicate: {}",
                s.text
            );
            assert!(
                !examples.contains(&s.text.to_lowercase()),
                "codebook example: {}",
                s.text
            );
        }
        // Every theme and stage, and both "nothing" classes, in every language.
        for lang in ["fi", "sv", "en"] {
            for item in &themes.items {
                let n = theme_rows
                    .iter()
                    .filter(|r| r.lang == lang && r.labels[0] == item.id)
                    .count();
                assert!(n >= 20, "{lang} {}: {n}", item.id);
            }
            for id in stages.ids().into_iter().chain([NO_STAGE]) {
                let n = stage_rows
                    .iter()
                    .filter(|r| r.lang == lang && r.labels[0] == id)
                    .count();
                assert!(n >= 30, "{lang} {id}: {n}");
            }
        }
        // In training rows `other` means "no theme" and `none` is the no-stage class.
        let rows = codebook_rows(&themes).unwrap();
        assert!(rows
            .iter()
            .any(|r| r.id.starts_with("feedback-") && r.labels.is_empty()));
        let rows = codebook_rows(&stages).unwrap();
        assert!(rows.iter().any(|r| r.labels == [NO_STAGE]));
        // A user codebook with another id trains on its own examples only.
        let mut own = themes.clone();
        own.codebook.id = "mine".into();
        assert!(codebook_rows(&own)
            .unwrap()
            .iter()
            .all(|r| !r.id.starts_with("feedback-")));
    }

    #[test]
    fn the_shipped_documents_sentences_train_the_sentence_theme_head() {
        use crate::classify::codebook::CodebookKind;
        let themes = Codebook::resolve("cx-root-causes", CodebookKind::Theme).unwrap();
        let stages = Codebook::resolve("b2c", CodebookKind::Stage).unwrap();
        let context: Vec<Labelled> = head_rows(&themes)
            .unwrap()
            .into_iter()
            .filter(|r| r.id.starts_with("context-"))
            .collect();
        // Every labelled sentence of the shipped documents, interviewer questions not.
        let labelled = shipped_context(Task::Themes).unwrap().gold.len();
        assert!(labelled >= 800, "{labelled}");
        assert_eq!(context.len(), labelled);
        // `other` is "no theme", as in the feedback rows; the rest are the codebook's ids.
        assert!(context.iter().any(|r| r.labels.is_empty()));
        assert!(context
            .iter()
            .flat_map(|r| &r.labels)
            .all(|l| themes.item(l).is_some()));
        // An elliptic sentence keeps the theme its document gives it.
        let elliptic = context
            .iter()
            .find(|r| r.id == "context-tr-fi-c0178")
            .expect("fi c0178, \"Ei mikään iso juttu.\"");
        assert_eq!(elliptic.labels, ["delivery"]);
        // What `palaute train` and `eval --cv` add them to; the whole-text rows (the adaptation
        // and the whole-text head) stay without.
        assert_eq!(context, context_rows(&themes).unwrap());
        assert_eq!(
            codebook_rows(&themes).unwrap().len() + labelled,
            head_rows(&themes).unwrap().len()
        );
        // Not for stages, nor for a codebook of one's own; an edited copy of the built-in one
        // keeps the sentences whose themes it still has.
        assert!(context_rows(&stages).unwrap().is_empty());
        let mut own = themes.clone();
        own.codebook.id = "mine".into();
        assert!(context_rows(&own).unwrap().is_empty());
        let mut edited = themes.clone();
        edited.items.retain(|i| i.id != "delivery");
        let kept = context_rows(&edited).unwrap();
        assert!(!kept.is_empty() && kept.len() < labelled);
        assert!(kept
            .iter()
            .all(|r| !r.labels.contains(&"delivery".to_string())));
    }

    #[test]
    fn bad_training_rows_name_the_line() {
        let err = read_labelled_csv(
            "id,text,label\n1,hyvä,positive\n2,,negative\n",
            Path::new("fix.csv"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("fix.csv") && err.contains("line 3"), "{err}");
    }

    #[test]
    fn a_recoding_file_says_which_rows_were_sentences_of_longer_answers() {
        let text = "id,text,label,In_Longer_Answer\n1,Hinta on liian korkea.,price_value,true\n\
                    2,Kallis.,price_value,FALSE\n3,Dyrt.,price_value,\n4,Pricey.,price_value,1\n\
                    5,Dyr.,price_value,NA\n";
        let rows = read_labelled_csv(text, Path::new("r.csv")).unwrap();
        let marks: Vec<_> = rows.iter().map(|r| r.in_longer_answer).collect();
        assert_eq!(marks, [Some(true), Some(false), None, Some(true), None]);
        // Without the column nothing is said.
        let rows = read_labelled_csv("text,label\nKallis.,price_value\n", Path::new("r.csv"));
        assert_eq!(rows.unwrap()[0].in_longer_answer, None);
        let err = read_labelled_csv(
            "text,label,in_longer_answer\nKallis.,price_value,true\nDyrt.,price_value,Maybe\n",
            Path::new("r.csv"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("r.csv") && err.contains("line 3") && err.contains("\"Maybe\""),
            "{err}"
        );
    }
}
