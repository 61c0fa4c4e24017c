//! The shipped training data's checks and the labelled-file reader's.

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
    add(codebook_rows(&Codebook::resolve("cx-root-causes", CodebookKind::Theme).unwrap()).unwrap());
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
            ..Default::default()
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
