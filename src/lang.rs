//! Language identification per segment and per document, restricted to the configured
//! languages: choosing among fi/sv/en is far more reliable on a five-word comment than
//! choosing among seventy. Too little text ("ok", emoji) or a low confidence gives `und`.

use std::collections::HashMap;
use std::str::FromStr;

use lingua::{IsoCode639_1, Language, LanguageDetectorBuilder};

use crate::config::LangConfig;
use crate::error::Error;

pub const UNDETERMINED: &str = "und";

pub trait LanguageDetector: Sync {
    /// ISO 639-1 code (or `und`) and the confidence 0–1.
    fn detect(&self, text: &str) -> (String, f32);
}

/// The configured detector.
pub fn from_config(cfg: &LangConfig) -> Result<Box<dyn LanguageDetector>, Error> {
    match cfg.detector {
        crate::config::DetectorKind::Lingua => Ok(Box::new(LinguaDetector::new(cfg)?)),
    }
}

pub struct LinguaDetector {
    detector: Option<lingua::LanguageDetector>,
    only: Option<Language>,
    min_confidence: f64,
    min_letters: usize,
}

impl LinguaDetector {
    pub fn new(cfg: &LangConfig) -> Result<Self, Error> {
        let supported = || {
            let mut codes: Vec<String> = Language::all()
                .iter()
                .map(|l| l.iso_code_639_1().to_string())
                .collect();
            codes.sort();
            codes.join(", ")
        };
        let mut languages = Vec::new();
        for code in &cfg.languages {
            let lang = IsoCode639_1::from_str(&code.to_lowercase())
                .ok()
                .map(|iso| Language::from_iso_code_639_1(&iso))
                .filter(|l| Language::all().contains(l))
                .ok_or_else(|| Error::UnsupportedLanguage(code.clone(), supported()))?;
            if !languages.contains(&lang) {
                languages.push(lang);
            }
        }
        if languages.is_empty() {
            return Err(Error::UnsupportedLanguage(String::new(), supported()));
        }
        // lingua needs two candidates; with one configured language there is nothing to choose.
        let (detector, only) = if languages.len() == 1 {
            (None, Some(languages[0]))
        } else {
            (
                Some(
                    LanguageDetectorBuilder::from_languages(&languages)
                        .with_preloaded_language_models()
                        .build(),
                ),
                None,
            )
        };
        Ok(LinguaDetector {
            detector,
            only,
            min_confidence: cfg.min_confidence,
            min_letters: cfg.min_letters,
        })
    }
}

impl LanguageDetector for LinguaDetector {
    fn detect(&self, text: &str) -> (String, f32) {
        let letters = text.chars().filter(|c| c.is_alphabetic()).count();
        if letters < self.min_letters {
            return (UNDETERMINED.into(), 0.0);
        }
        if let Some(lang) = self.only {
            return (lang.iso_code_639_1().to_string(), 1.0);
        }
        let Some(detector) = &self.detector else {
            return (UNDETERMINED.into(), 0.0);
        };
        // Long texts are decided by their beginning; scoring 500 kB buys nothing.
        let sample: String = text.chars().take(2000).collect();
        match detector.compute_language_confidence_values(&sample).first() {
            Some((lang, conf)) if *conf >= self.min_confidence => {
                (lang.iso_code_639_1().to_string(), *conf as f32)
            }
            Some((_, conf)) => (UNDETERMINED.into(), *conf as f32),
            None => (UNDETERMINED.into(), 0.0),
        }
    }
}

/// Document language: the language of most of its determined text (by chars).
pub fn majority(segments: &[(&str, usize)]) -> Option<String> {
    let mut weight: HashMap<&str, usize> = HashMap::new();
    for (lang, chars) in segments {
        if *lang != UNDETERMINED {
            *weight.entry(lang).or_insert(0) += chars;
        }
    }
    weight
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(l, _)| l.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fi_sv_en_and_und() {
        let d = LinguaDetector::new(&LangConfig::default()).unwrap();
        assert_eq!(
            d.detect("Laskussani oli kahteen kertaan sama kuukausimaksu.")
                .0,
            "fi"
        );
        assert_eq!(
            d.detect("Jag fick vänta i telefonkö i fyrtio minuter.").0,
            "sv"
        );
        assert_eq!(
            d.detect("The installer never showed up and nobody called.")
                .0,
            "en"
        );
        assert_eq!(d.detect("ok").0, "und");
        assert_eq!(d.detect("👍👍").0, "und");
    }

    #[test]
    fn unknown_language_is_a_clear_error() {
        let cfg = LangConfig {
            languages: vec!["fi".into(), "xx".into()],
            ..LangConfig::default()
        };
        let err = LinguaDetector::new(&cfg)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("\"xx\"") && err.contains("sv"), "{err}");
    }

    #[test]
    fn majority_by_chars() {
        assert_eq!(
            majority(&[("fi", 40), ("en", 10), ("und", 100)]).as_deref(),
            Some("fi")
        );
        assert_eq!(majority(&[("und", 3)]), None);
    }
}
