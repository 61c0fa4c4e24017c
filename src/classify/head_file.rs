//! The file `palaute train` writes and `[classify] *_head` reads: one head, or for a theme
//! codebook with shipped sentences labelled in context the two theme heads a run uses.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::head::{file_err, save_json, HeadError, LinearHead};
use crate::model::ModelInfo;

/// What `palaute train` writes: one head, or for a theme codebook with shipped sentences
/// labelled in context the two theme heads a run uses (as it trains them when no head is
/// set): `whole` for answers of one sentence and whole texts, `sentences` for sentences of
/// longer answers. Heads trained from a researcher's corrections must keep that split, or
/// whole answers would be labelled by a head that learned what a sentence means in its
/// document (README, "In context").
#[derive(Debug, Clone, PartialEq)]
pub enum HeadFile {
    One(LinearHead),
    Themes {
        whole: LinearHead,
        sentences: Box<LinearHead>,
    },
}

/// The two-head file's layout; a one-head file is a [`LinearHead`] as before.
#[derive(Serialize, Deserialize)]
struct ThemeHeadsFile<H> {
    whole: H,
    sentences: H,
}

impl HeadFile {
    pub fn heads(&self) -> Vec<&LinearHead> {
        match self {
            HeadFile::One(h) => vec![h],
            HeadFile::Themes { whole, sentences } => vec![whole, &**sentences],
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), HeadError> {
        match self {
            HeadFile::One(h) => save_json(path, h),
            HeadFile::Themes { whole, sentences } => save_json(
                path,
                &ThemeHeadsFile {
                    whole,
                    sentences: &**sentences,
                },
            ),
        }
    }

    /// Reads either layout and checks every head in it (encoder, shapes).
    pub fn load(path: &Path, encoder: &ModelInfo) -> Result<Self, HeadError> {
        let file = Self::parse(path)?;
        for head in file.heads() {
            head.check_loaded(path, encoder)?;
        }
        Ok(file)
    }

    /// Either layout, unchecked but for the pair being multi-label heads of the same themes.
    pub(super) fn parse(path: &Path) -> Result<Self, HeadError> {
        let text = std::fs::read_to_string(path).map_err(|e| file_err(path, e))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| file_err(path, e))?;
        if value.get("whole").is_none() {
            let head = serde_json::from_value(value).map_err(|e| file_err(path, e))?;
            return Ok(HeadFile::One(head));
        }
        let pair: ThemeHeadsFile<LinearHead> =
            serde_json::from_value(value).map_err(|e| file_err(path, e))?;
        if pair.whole.labels != pair.sentences.labels
            || !(pair.whole.multi_label && pair.sentences.multi_label)
        {
            return Err(file_err(
                path,
                "the whole-text and sentence heads must be theme heads of the same themes",
            ));
        }
        Ok(HeadFile::Themes {
            whole: pair.whole,
            sentences: Box::new(pair.sentences),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::head::tests::{head, info};

    #[test]
    fn the_two_theme_heads_travel_in_one_file_that_only_theme_head_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("themes.json");
        let theme = |task: &str, labels: &[&str]| LinearHead {
            task: task.into(),
            multi_label: true,
            ..head(labels)
        };
        let pair = HeadFile::Themes {
            whole: theme("themes", &["billing", "delivery"]),
            sentences: Box::new(theme("themes-sentences", &["billing", "delivery"])),
        };
        pair.save(&path).unwrap();
        assert_eq!(HeadFile::load(&path, &info("aaaa")).unwrap(), pair);
        // Every head of the file is checked against the encoder, not only the first.
        let stale = HeadFile::Themes {
            whole: theme("themes", &["billing", "delivery"]),
            sentences: Box::new(LinearHead {
                encoder_sha256: "bbbb".into(),
                ..theme("themes-sentences", &["billing", "delivery"])
            }),
        };
        stale.save(&path).unwrap();
        assert!(matches!(
            HeadFile::load(&path, &info("aaaa")),
            Err(HeadError::EncoderMismatch { .. })
        ));
        // Read as one head (a sentiment or stage head), it names where it belongs instead of
        // dropping the sentence head or failing on a missing field — before any other check,
        // so not "retrain it" when it was also trained on another encoder.
        for (file, encoder) in [(&pair, "aaaa"), (&stale, "cccc")] {
            file.save(&path).unwrap();
            let err = LinearHead::load(&path, &info(encoder)).unwrap_err();
            assert!(err.to_string().contains("theme_head"), "{err}");
            assert!(err.to_string().contains("themes.json"), "{err}");
        }
        // A one-head file reads as before, through either call.
        let one = head(&["negative", "neutral", "positive"]);
        one.save(&path).unwrap();
        assert_eq!(
            HeadFile::load(&path, &info("aaaa")).unwrap(),
            HeadFile::One(one.clone())
        );
        // Two heads of different themes would label whole answers and sentences apart.
        HeadFile::Themes {
            whole: theme("themes", &["billing", "delivery"]),
            sentences: Box::new(theme("themes-sentences", &["billing", "privacy"])),
        }
        .save(&path)
        .unwrap();
        let err = HeadFile::load(&path, &info("aaaa")).unwrap_err();
        assert!(err.to_string().contains("same themes"), "{err}");
    }
}
