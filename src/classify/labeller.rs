//! Theme and stage labellers. A codebook whose every item has examples (or a description)
//! trains a linear head on them. A codebook that names some item without any — a researcher's
//! quick list of theme names, or a names-only evaluation codebook — cannot train a head for
//! that item, so all of its items are assigned zero-shot from prototypes instead of failing
//! the run.

use std::path::Path;

use super::codebook::Codebook;
use super::head::{Inputs, LinearHead};
use super::prototype::{Prototypes, ZeroShotFit};
use super::trainer::task_labels;
use super::{train_head, training, ClassifyError};
use crate::model::TextEncoder;
use crate::record::Task;

pub enum Labeller {
    Head(LinearHead),
    /// Prototypes, and what was fitted on the run's sample once it is known (a batch on its
    /// own is used only where no fit is set: `palaute eval`).
    ZeroShot(Prototypes, Option<ZeroShotFit>),
}

impl Labeller {
    /// The labeller for `cb`'s items (without `other` when `multi`: for themes `other` is
    /// what is left when nothing passes, not a class).
    pub fn for_codebook(
        task: Task,
        cb: &Codebook,
        multi: bool,
        encoder: &dyn TextEncoder,
        cache: Option<&Path>,
    ) -> Result<Self, ClassifyError> {
        let rows = training::codebook_rows(cb)?;
        let labels = task_labels(cb, multi, &rows);
        let bare: Vec<&str> = labels
            .iter()
            .filter(|l| !rows.iter().any(|r| r.labels.contains(l)))
            .map(String::as_str)
            .collect();
        if !bare.is_empty() {
            tracing::info!(
                "codebook {}: no examples for {}; {} are assigned zero-shot from the item names",
                cb.codebook.id,
                bare.join(", "),
                task.name()
            );
            let items: Vec<_> = cb.items.iter().filter(|i| labels.contains(&i.id)).collect();
            return Ok(Labeller::ZeroShot(
                Prototypes::from_items(&items, encoder)?,
                None,
            ));
        }
        Ok(Labeller::Head(train_head(
            task.into(),
            &rows,
            &labels,
            multi,
            encoder,
            cache,
        )?))
    }

    pub fn labels(&self) -> &[String] {
        match self {
            Labeller::Head(h) => &h.labels,
            Labeller::ZeroShot(p, _) => &p.ids,
        }
    }

    /// Whether several labels may apply to one segment. Zero-shot picks the closest one.
    pub fn multi_label(&self) -> bool {
        match self {
            Labeller::Head(h) => h.multi_label,
            Labeller::ZeroShot(..) => false,
        }
    }

    /// Least probability for label `j` to be assigned. Zero-shot: twice chance (at most
    /// 0.5), so a segment equally far from every theme ("Kiitos!") stays `other`.
    pub fn threshold(&self, j: usize) -> f32 {
        match self {
            Labeller::Head(h) => h.thresholds.get(j).copied().unwrap_or(0.5),
            Labeller::ZeroShot(p, _) => (2.0 / p.ids.len().max(1) as f32).min(0.5),
        }
    }

    /// Probabilities of each label for each row; `langs` are the rows' languages (zero-shot
    /// centres the batch by language).
    pub fn probs(&self, inputs: &Inputs) -> Vec<Vec<f32>> {
        match self {
            Labeller::Head(h) => h.predict(inputs),
            Labeller::ZeroShot(_, Some(fit)) => fit.probs(inputs.emb, inputs.langs),
            Labeller::ZeroShot(p, None) => p.zero_shot(inputs.emb, inputs.langs),
        }
    }

    /// Fits the zero-shot state on a sample (`inputs`); `None` for a trained head.
    pub fn fit(&self, inputs: &Inputs) -> Option<ZeroShotFit> {
        match self {
            Labeller::ZeroShot(p, _) => Some(p.fit(inputs.emb, inputs.langs)),
            Labeller::Head(_) => None,
        }
    }

    /// Uses `fit` for every later batch. Refused when it is for other labels.
    pub fn set_fit(&mut self, fit: ZeroShotFit) -> Result<(), String> {
        match self {
            Labeller::ZeroShot(p, slot) if p.ids == fit.prototypes.ids => {
                *slot = Some(fit);
                Ok(())
            }
            Labeller::ZeroShot(p, _) => Err(format!(
                "fitted for labels {:?}, the codebook has {:?}",
                fit.prototypes.ids, p.ids
            )),
            Labeller::Head(_) => Err("the task has a trained head, not zero-shot".into()),
        }
    }

    pub fn head(&self) -> Option<&LinearHead> {
        match self {
            Labeller::Head(h) => Some(h),
            Labeller::ZeroShot(..) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tiny::{write_tiny_model, TinyArch, TinySpec};
    use crate::model::{EncoderConfig, TransformerEncoder};

    fn codebook(text: &str) -> Codebook {
        Codebook::parse(text, Path::new("test.toml")).unwrap()
    }

    #[test]
    fn names_only_items_switch_the_codebook_to_zero_shot() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny_model(dir.path(), &TinySpec::new(TinyArch::Bert)).unwrap();
        let enc = TransformerEncoder::load(dir.path(), &EncoderConfig::default()).unwrap();
        let head = "[codebook]\nid = \"t\"\nkind = \"theme\"\n";
        let with_examples = codebook(&format!(
            "{head}[[item]]\nid = \"billing\"\nexamples = {{ en = [\"the invoice was wrong\"] }}\n\
             [[item]]\nid = \"delivery\"\nexamples = {{ en = [\"the parcel was late\"] }}\n\
             [[item]]\nid = \"other\"\nlabel = {{ en = \"other\" }}\n"
        ));
        let trained =
            Labeller::for_codebook(Task::Themes, &with_examples, true, &enc, None).unwrap();
        assert!(trained.head().is_some());
        assert_eq!(trained.labels(), ["billing", "delivery"]);

        // One item with a name only: no head can learn it, so every item goes zero-shot
        // (before, the run failed with "no training rows").
        let partly = codebook(&format!(
            "{head}[[item]]\nid = \"billing\"\nexamples = {{ en = [\"the invoice was wrong\"] }}\n\
             [[item]]\nid = \"wait_time\"\nlabel = {{ en = \"waiting\" }}\n\
             [[item]]\nid = \"other\"\nlabel = {{ en = \"other\" }}\n"
        ));
        let zs = Labeller::for_codebook(Task::Themes, &partly, true, &enc, None).unwrap();
        assert!(zs.head().is_none() && !zs.multi_label());
        assert_eq!(zs.labels(), ["billing", "wait_time"]);
        assert_eq!(zs.threshold(0), 0.5);
        let texts = ["the invoice was wrong", "waiting for an hour", "ok"];
        let emb = enc.embed(&texts, crate::classify::FEATURES).unwrap();
        let probs = zs.probs(&Inputs {
            emb: &emb,
            texts: &texts,
            langs: &["en", "en", "en"],
        });
        assert_eq!(probs.len(), 3);
        for p in probs {
            assert_eq!(p.len(), 2);
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }
}
