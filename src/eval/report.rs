//! The figures of an evaluation: accuracy, macro-F1 and per-label scores, overall, per
//! language (with the parity gap), per register, and the cross-language agreement of parallel
//! files; how they are printed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use super::EvalTask;
use crate::classify::training::Labelled;
use crate::error::Error;
#[derive(Debug, Clone, Serialize)]
pub struct LabelScore {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub file: String,
    pub task: EvalTask,
    /// How classes were scored: trained head, or zero-shot prototypes from label names.
    pub method: String,
    pub rows: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_label: Vec<LabelScore>,
    pub per_lang: BTreeMap<String, (usize, f64, f64)>,
    /// (rows, accuracy, macro-F1) per value of the file's `register` column, when it has one:
    /// sarcasm or negation can fail while the overall figure hides it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub per_register: BTreeMap<String, (usize, f64, f64)>,
    /// Best minus worst of fi/sv/en: (accuracy, macro-F1).
    pub parity_gap: Option<(f64, f64)>,
    /// Parallel files: share of sentence ids whose languages all got the same label.
    pub cross_language_agreement: Option<f64>,
    /// How well the probability stated for each predicted label matches how often it is
    /// right; for trained heads (zero-shot similarities are no probabilities).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// Every row's gold and predicted label (`--predictions`), for reading the errors.
    #[serde(skip)]
    pub predictions: Vec<Prediction>,
}

/// The probability a run writes beside each label (`p_sentiment`, the top theme's score,
/// `stage_score`) against how often that label is right. A researcher reads those columns
/// as "how sure", so a head that says 0.95 and is right 70 % of the time misleads even where
/// its accuracy is fine.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Calibration {
    /// Mean stated probability of the predicted label (compare with the accuracy).
    pub mean_confidence: f64,
    /// Expected calibration error: |accuracy − mean stated probability| within ten
    /// equal-width bins of the stated probability, weighted by the bins' rows.
    pub ece: f64,
}

impl Calibration {
    const BINS: usize = 10;

    /// From each row's stated probability and whether its label was right.
    pub fn of(confidence: &[f32], correct: &[bool]) -> Option<Calibration> {
        let n = confidence.len().min(correct.len());
        if n == 0 {
            return None;
        }
        let mut bins = [(0usize, 0f64, 0usize); Self::BINS];
        for (c, ok) in confidence.iter().zip(correct) {
            let c = f64::from(*c).clamp(0.0, 1.0);
            let b = &mut bins[((c * Self::BINS as f64) as usize).min(Self::BINS - 1)];
            *b = (b.0 + 1, b.1 + c, b.2 + usize::from(*ok));
        }
        let ece = bins
            .iter()
            .filter(|b| b.0 > 0)
            .map(|&(_, sum, right)| (right as f64 - sum).abs() / n as f64)
            .sum();
        let mean_confidence = bins.iter().map(|b| b.1).sum::<f64>() / n as f64;
        Some(Calibration {
            mean_confidence,
            ece,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub id: String,
    pub lang: String,
    pub gold: String,
    pub predicted: String,
    pub correct: bool,
    pub text: String,
}

impl EvalReport {
    /// The report with the calibration of `confidence`, the stated probability of each row's
    /// predicted label (rows in the order scored).
    pub fn with_calibration(mut self, confidence: &[f32]) -> Self {
        let correct: Vec<bool> = self.predictions.iter().map(|p| p.correct).collect();
        self.calibration = Calibration::of(confidence, &correct);
        self
    }

    /// The rows' predictions as CSV (`id,lang,gold,predicted,correct,text`).
    pub fn write_predictions(&self, path: &Path) -> Result<(), Error> {
        let io = |e: std::io::Error| Error::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let mut w = csv::Writer::from_path(path).map_err(|e| io(e.into()))?;
        for p in &self.predictions {
            w.serialize(p).map_err(|e| io(e.into()))?;
        }
        w.flush().map_err(io)
    }
}

/// Accuracy, macro-F1 and per-label scores of predictions against gold labels.
pub fn score(gold: &[&str], pred: &[&str]) -> (f64, f64, Vec<LabelScore>) {
    let labels: BTreeSet<&str> = gold.iter().copied().collect();
    let n = gold.len().max(1) as f64;
    let accuracy = gold.iter().zip(pred).filter(|(g, p)| g == p).count() as f64 / n;
    let per: Vec<LabelScore> = labels
        .iter()
        .map(|l| {
            let tp = gold
                .iter()
                .zip(pred)
                .filter(|(g, p)| *g == l && *p == l)
                .count() as f64;
            let fp = gold
                .iter()
                .zip(pred)
                .filter(|(g, p)| *g != l && *p == l)
                .count() as f64;
            let fneg = gold
                .iter()
                .zip(pred)
                .filter(|(g, p)| *g == l && *p != l)
                .count() as f64;
            let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
            let recall = if tp + fneg > 0.0 {
                tp / (tp + fneg)
            } else {
                0.0
            };
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            LabelScore {
                label: l.to_string(),
                precision,
                recall,
                f1,
                support: (tp + fneg) as usize,
            }
        })
        .collect();
    let macro_f1 = per.iter().map(|s| s.f1).sum::<f64>() / per.len().max(1) as f64;
    (accuracy, macro_f1, per)
}

/// Same sentence in several languages (ids `<stem>-<lang>`) should get the same label.
pub fn agreement(rows: &[Labelled], pred: &[&str]) -> Option<f64> {
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (r, p) in rows.iter().zip(pred) {
        let stem = r.id.strip_suffix(&format!("-{}", r.lang))?;
        groups.entry(stem.to_string()).or_default().push(p);
    }
    let multi: Vec<&Vec<&str>> = groups.values().filter(|v| v.len() > 1).collect();
    if multi.is_empty() {
        return None;
    }
    Some(
        multi
            .iter()
            .filter(|v| v.iter().all(|p| *p == v[0]))
            .count() as f64
            / multi.len() as f64,
    )
}

/// Scores of `pred` against `gold` (one per row of `rows`), overall and per language.
pub(super) fn report(
    file: String,
    task: EvalTask,
    method: String,
    rows: &[Labelled],
    gold: &[String],
    pred: &[String],
) -> EvalReport {
    let g: Vec<&str> = gold.iter().map(String::as_str).collect();
    // Several gold themes: the top theme is right when it is any of them.
    let p: Vec<&str> = pred
        .iter()
        .zip(rows)
        .zip(&g)
        .map(|((p, r), g)| if r.labels.contains(p) { *g } else { p.as_str() })
        .collect();
    let (accuracy, macro_f1, per_label) = score(&g, &p);
    let per_group = |key: &dyn Fn(&Labelled) -> Option<&str>| {
        let keys: BTreeSet<&str> = rows.iter().filter_map(key).collect();
        keys.into_iter()
            .map(|k| {
                let idx: Vec<usize> = (0..rows.len())
                    .filter(|i| key(&rows[*i]) == Some(k))
                    .collect();
                let gk: Vec<&str> = idx.iter().map(|i| g[*i]).collect();
                let pk: Vec<&str> = idx.iter().map(|i| p[*i]).collect();
                let (a, f, _) = score(&gk, &pk);
                (k.to_string(), (idx.len(), a, f))
            })
            .collect::<BTreeMap<_, _>>()
    };
    let per_lang = per_group(&|r| Some(r.lang.as_str()));
    let per_register = per_group(&|r| r.register.as_deref());
    let parity_gap = parity_gap(&per_lang);
    EvalReport {
        file,
        task,
        method,
        rows: rows.len(),
        accuracy,
        macro_f1,
        per_label,
        per_lang,
        per_register,
        parity_gap,
        cross_language_agreement: agreement(rows, &p),
        calibration: None,
        predictions: rows
            .iter()
            .zip(&g)
            .zip(&p)
            .map(|((r, g), p)| Prediction {
                id: r.id.clone(),
                lang: r.lang.clone(),
                gold: r.labels.join("|"),
                predicted: p.to_string(),
                correct: g == p,
                text: r.text.clone(),
            })
            .collect(),
    }
}

/// Best minus worst language (accuracy, macro-F1) among fi, sv and en, when at least two of
/// them are in the file: how much worse palaute serves its weakest language.
fn parity_gap(per_lang: &BTreeMap<String, (usize, f64, f64)>) -> Option<(f64, f64)> {
    let main: Vec<(f64, f64)> = ["fi", "sv", "en"]
        .iter()
        .filter_map(|l| per_lang.get(*l))
        .map(|(_, a, f)| (*a, *f))
        .collect();
    if main.len() < 2 {
        return None;
    }
    let spread = |v: Vec<f64>| {
        v.iter().copied().fold(f64::MIN, f64::max) - v.iter().copied().fold(f64::MAX, f64::min)
    };
    Some((
        spread(main.iter().map(|x| x.0).collect()),
        spread(main.iter().map(|x| x.1).collect()),
    ))
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} — {:?} ({}), {} rows",
            self.file, self.task, self.method, self.rows
        )?;
        writeln!(
            f,
            "accuracy {:.3}  macro-F1 {:.3}",
            self.accuracy, self.macro_f1
        )?;
        if let Some(c) = self.calibration {
            writeln!(
                f,
                "calibration: mean stated probability {:.3} (accuracy {:.3}), ECE {:.3} over {} bins",
                c.mean_confidence,
                self.accuracy,
                c.ece,
                Calibration::BINS
            )?;
        }
        for (lang, (n, acc, f1)) in &self.per_lang {
            writeln!(
                f,
                "  {lang:<4} n={n:<5} accuracy {acc:.3}  macro-F1 {f1:.3}"
            )?;
        }
        if let Some((a, f1)) = self.parity_gap {
            writeln!(
                f,
                "language parity gap (best − worst of fi/sv/en): accuracy {a:.3}  macro-F1 {f1:.3}"
            )?;
        }
        for (register, (n, acc, f1)) in &self.per_register {
            writeln!(
                f,
                "  register {register:<10} n={n:<4} accuracy {acc:.3}  macro-F1 {f1:.3}"
            )?;
        }
        if let Some(a) = self.cross_language_agreement {
            writeln!(f, "cross-language agreement {a:.3}")?;
        }
        for s in &self.per_label {
            writeln!(
                f,
                "  {:<24} P {:.3} R {:.3} F1 {:.3} n={}",
                s.label, s.precision, s.recall, s.f1, s.support
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Calibration;

    #[test]
    fn calibration_compares_stated_probability_with_accuracy_per_bin() {
        // Said 0.95 and right half the time; said 0.55 and right half the time.
        let conf = [0.95, 0.95, 0.55, 0.55];
        let correct = [true, false, true, false];
        let c = Calibration::of(&conf, &correct).unwrap();
        assert!((c.mean_confidence - 0.75).abs() < 1e-6);
        // Bin 9: |0.5 − 0.95| × 2/4; bin 5: |0.5 − 0.55| × 2/4.
        assert!((c.ece - (0.45 + 0.05) / 2.0).abs() < 1e-6, "{c:?}");
        // Right as often as said: no error, whatever the accuracy.
        let c = Calibration::of(&[0.5, 0.5, 1.0], &[true, false, true]).unwrap();
        assert!(c.ece < 1e-6, "{c:?}");
        // A probability of exactly 1 falls in the top bin, not past it.
        assert!(Calibration::of(&[1.0], &[false]).unwrap().ece > 0.99);
        assert_eq!(Calibration::of(&[], &[]), None);
    }
}
