//! Codebooks and journey maps as data: TOML files with items (themes or stages) that have an
//! id, labels and descriptions per language, example phrases per language, an optional parent
//! and, for stages, an order and typical interview questions. Defaults ship in `assets/`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;

pub const OTHER: &str = "other";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodebookKind {
    Theme,
    Stage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodebookMeta {
    pub id: String,
    #[serde(default = "one")]
    pub version: u32,
    pub kind: CodebookKind,
    #[serde(default)]
    pub description: String,
}

fn one() -> u32 {
    1
}

/// Text per language code (`fi`, `sv`, `en`, …).
pub type PerLang<T> = BTreeMap<String, T>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    #[serde(default)]
    pub label: PerLang<String>,
    #[serde(default)]
    pub description: PerLang<String>,
    #[serde(default)]
    pub examples: PerLang<Vec<String>>,
    /// Stages: questions an interviewer asks to open this stage.
    #[serde(default)]
    pub questions: PerLang<Vec<String>>,
    #[serde(default)]
    pub parent: Option<String>,
    /// Stages: position in the journey.
    #[serde(default)]
    pub order: Option<u32>,
}

impl Item {
    /// Label in `lang`, else English, else any, else the id.
    pub fn label_in(&self, lang: &str) -> &str {
        self.label
            .get(lang)
            .or_else(|| self.label.get("en"))
            .or_else(|| self.label.values().next())
            .map_or(self.id.as_str(), String::as_str)
    }

    pub fn all_examples(&self) -> impl Iterator<Item = &str> {
        self.examples.values().flatten().map(String::as_str)
    }

    pub fn all_questions(&self) -> impl Iterator<Item = &str> {
        self.questions.values().flatten().map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Codebook {
    pub codebook: CodebookMeta,
    #[serde(rename = "item")]
    pub items: Vec<Item>,
}

/// Built-in codebooks: name → (file name, TOML text).
const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "cx-root-causes",
        "assets/codebook/cx_root_causes.toml",
        include_str!("../../assets/codebook/cx_root_causes.toml"),
    ),
    (
        "b2c",
        "assets/codebook/journey_b2c.toml",
        include_str!("../../assets/codebook/journey_b2c.toml"),
    ),
    (
        "b2b",
        "assets/codebook/journey_b2b.toml",
        include_str!("../../assets/codebook/journey_b2b.toml"),
    ),
];

impl Codebook {
    /// A built-in name (`cx-root-causes`, `b2c`, `b2b`) or a path to a TOML file.
    pub fn resolve(name_or_path: &str, kind: CodebookKind) -> Result<Self, Error> {
        let cb = match BUILTIN.iter().find(|(n, _, _)| *n == name_or_path) {
            Some((_, file, text)) => Self::parse(text, Path::new(file))?,
            None => {
                let path = Path::new(name_or_path);
                let text = crate::util::read_text(path)?;
                Self::parse(&text, path)?
            }
        };
        if cb.codebook.kind != kind {
            return Err(Error::Config {
                path: name_or_path.into(),
                message: format!("codebook kind is {:?}, expected {kind:?}", cb.codebook.kind),
            });
        }
        Ok(cb)
    }

    pub fn parse(text: &str, origin: &Path) -> Result<Self, Error> {
        let bad = |message: String| Error::Config {
            path: origin.to_path_buf(),
            message,
        };
        let mut cb: Codebook = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        for item in &cb.items {
            if item.id.trim().is_empty() || !seen.insert(item.id.clone()) {
                return Err(bad(format!("item id {:?} is empty or repeated", item.id)));
            }
            if item.label.is_empty() && item.description.is_empty() && item.examples.is_empty() {
                return Err(bad(format!(
                    "item {:?} has no label, description or examples to classify by",
                    item.id
                )));
            }
        }
        for item in &cb.items {
            if let Some(p) = &item.parent {
                if !seen.contains(p) {
                    return Err(bad(format!(
                        "item {:?} names unknown parent {p:?}",
                        item.id
                    )));
                }
            }
        }
        if cb.items.len() < 2 {
            return Err(bad("a codebook needs at least two items".into()));
        }
        if cb.codebook.kind == CodebookKind::Stage {
            cb.items.sort_by_key(|i| i.order.unwrap_or(u32::MAX));
        }
        Ok(cb)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.items.iter().map(|i| i.id.as_str()).collect()
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// True when every item (except `other`) has examples to train on.
    pub fn has_examples(&self) -> bool {
        self.items
            .iter()
            .filter(|i| i.id != OTHER)
            .all(|i| i.all_examples().next().is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_are_complete() {
        let themes = Codebook::resolve("cx-root-causes", CodebookKind::Theme).unwrap();
        for id in [
            "wait_time",
            "staff_attitude",
            "staff_competence",
            "product_quality",
            "price_value",
            "usability",
            "delivery",
            "communication",
            "billing_errors",
            "contract_terms",
            OTHER,
        ] {
            let item = themes.item(id).unwrap_or_else(|| panic!("{id} missing"));
            for lang in ["fi", "sv", "en"] {
                assert!(!item.label_in(lang).is_empty());
                if id != OTHER {
                    assert!(
                        item.examples.get(lang).is_some_and(|e| e.len() >= 10),
                        "{id} {lang}"
                    );
                }
            }
        }
        assert!(themes.has_examples());
        for (name, n) in [("b2c", 8), ("b2b", 8)] {
            let stages = Codebook::resolve(name, CodebookKind::Stage).unwrap();
            assert_eq!(stages.items.len(), n);
            assert!(stages.items.windows(2).all(|w| w[0].order < w[1].order));
            assert!(stages.items.iter().all(|i| i.all_questions().count() >= 10));
        }
        assert!(Codebook::resolve("b2c", CodebookKind::Theme).is_err());
    }

    #[test]
    fn invalid_codebooks_are_clear_errors() {
        let err = Codebook::parse("[codebook]\nid='x'\nkind='theme'\n[[item]]\nid='a'\nlabel={en='A'}\nparent='zz'\n[[item]]\nid='b'\nlabel={en='B'}\n", Path::new("mine.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("mine.toml") && err.contains("zz"), "{err}");
    }
}
