//! How a sentence's stage combines with its context, learned from documents labelled sentence
//! by sentence (`assets/training/context_*.csv`). The stage head is trained on whole texts and
//! is over-confident on single sentences; the hand-set mix of [`super::context`] inherits by
//! fixed weights. Here the sentence's own probabilities, the question's and the mean of the
//! answer's other sentences are pooled log-linearly (a product of experts) with exponents and
//! a per-stage bias fitted by cross-entropy on the labelled sentences, so how much each source
//! counts — and how sure the result may be — is what those sentences show.

use serde::{Deserialize, Serialize};

/// Probabilities below this are read as this: a head's near-zero outputs carry no more
/// evidence than "very unlikely", and the logarithm must stay finite.
const FLOOR: f32 = 1e-4;

/// What one sentence's stage rests on: its own probabilities, and those of the question it
/// answers and of the other sentences of its answer where it has them.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub own: &'a [f32],
    pub question: Option<&'a [f32]>,
    pub neighbours: Option<&'a [f32]>,
    /// A category of the document that shifts every class by a bias of its own (sentiment:
    /// the side of the respondent's score).
    pub group: Option<usize>,
}

/// The fitted pooling: exponents per source and a bias per class (the stage distribution of
/// sentences, which differs from that of whole texts: more `none`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextPooling {
    pub labels: Vec<String>,
    pub own: f32,
    pub question: f32,
    pub neighbours: f32,
    pub bias: Vec<f32>,
    /// Per group (see [`Evidence::group`]), a bias per class: `groups × labels`.
    #[serde(default)]
    pub group_bias: Vec<f32>,
    /// Labelled sentences it was fitted on.
    pub sentences: usize,
}

/// Per-class features of one sentence: log of its own probabilities; the question's,
/// centred over the stages and scaled by how clearly it names one (a question that names
/// nothing, "Anything else?", adds nothing); the neighbours', centred.
fn features(e: &Evidence, nothing: Option<usize>) -> [Vec<f32>; 3] {
    let k = e.own.len();
    let ln = |p: f32| p.max(FLOOR).ln();
    let own = e.own.iter().map(|p| ln(*p)).collect();
    let centred = |v: Vec<f32>, over: &dyn Fn(usize) -> bool| {
        let n = (0..k).filter(|j| over(*j)).count().max(1) as f32;
        let mean = (0..k).filter(|j| over(*j)).map(|j| v[j]).sum::<f32>() / n;
        (0..k)
            .map(|j| if over(j) { v[j] - mean } else { 0.0 })
            .collect::<Vec<f32>>()
    };
    let question = match e.question {
        None => vec![0.0; k],
        Some(q) => {
            let is_stage = |j: usize| Some(j) != nothing;
            let names =
                nothing.map_or_else(|| q.iter().copied().fold(0.0, f32::max), |j| 1.0 - q[j]);
            let mass: f32 = (0..k).filter(|j| is_stage(*j)).map(|j| q[j]).sum();
            let logs = (0..k).map(|j| ln(q[j] / mass.max(FLOOR))).collect();
            centred(logs, &is_stage)
                .into_iter()
                .map(|v| v * names)
                .collect()
        }
    };
    let neighbours = match e.neighbours {
        None => vec![0.0; k],
        Some(n) => centred(n.iter().map(|p| ln(*p)).collect(), &|_| true),
    };
    [own, question, neighbours]
}

fn softmax(logits: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::MIN, f32::max);
    let mut sum = 0.0;
    for l in logits.iter_mut() {
        *l = (*l - max).exp();
        sum += *l;
    }
    for l in logits.iter_mut() {
        *l /= sum;
    }
}

impl ContextPooling {
    /// The pooled probabilities of one sentence.
    pub fn apply(&self, e: &Evidence, nothing: Option<usize>) -> Vec<f32> {
        let [o, q, n] = features(e, nothing);
        let k = self.bias.len();
        let group = |j: usize| {
            e.group
                .and_then(|g| self.group_bias.get(g * k + j))
                .copied()
                .unwrap_or(0.0)
        };
        let mut logits: Vec<f32> = (0..k)
            .map(|j| {
                self.own * o[j]
                    + self.question * q[j]
                    + self.neighbours * n[j]
                    + self.bias[j]
                    + group(j)
            })
            .collect();
        softmax(&mut logits);
        logits
    }

    /// Fits the exponents and biases to `samples` (evidence, index of the gold label) by
    /// full-batch gradient descent (Adam) on the mean cross-entropy, with a small L2 penalty on
    /// the biases only. `groups`: how many values [`Evidence::group`] takes (0: none).
    /// Deterministic: sums in a fixed order, fixed steps.
    pub fn fit(
        labels: Vec<String>,
        samples: &[(Evidence, usize)],
        nothing: Option<usize>,
        groups: usize,
    ) -> Self {
        const STEPS: usize = 1500;
        const LR: f64 = 0.02;
        const BIAS_L2: f64 = 0.01;
        let k = labels.len();
        let feats: Vec<([Vec<f32>; 3], Option<usize>, usize)> = samples
            .iter()
            .map(|(e, y)| (features(e, nothing), e.group.filter(|g| *g < groups), *y))
            .collect();
        // θ = [own, question, neighbours, bias_0 … bias_k-1, group biases (g × k)]; start
        // from the sentence alone.
        let dim = 3 + k + groups * k;
        let mut theta = vec![0f64; dim];
        theta[0] = 1.0;
        let (mut m, mut v) = (vec![0f64; dim], vec![0f64; dim]);
        let n = feats.len().max(1) as f64;
        for step in 1..=STEPS {
            let mut grad = vec![0f64; dim];
            for (f, g, y) in &feats {
                let gb = |j: usize| g.map_or(0.0, |g| theta[3 + k + g * k + j]);
                let mut p: Vec<f32> = (0..k)
                    .map(|j| {
                        (theta[0] * f64::from(f[0][j])
                            + theta[1] * f64::from(f[1][j])
                            + theta[2] * f64::from(f[2][j])
                            + theta[3 + j]
                            + gb(j)) as f32
                    })
                    .collect();
                softmax(&mut p);
                for j in 0..k {
                    let d = f64::from(p[j]) - if j == *y { 1.0 } else { 0.0 };
                    for s in 0..3 {
                        grad[s] += d * f64::from(f[s][j]) / n;
                    }
                    grad[3 + j] += d / n;
                    if let Some(g) = g {
                        grad[3 + k + g * k + j] += d / n;
                    }
                }
            }
            for i in 3..dim {
                grad[i] += BIAS_L2 * theta[i];
            }
            let (b1, b2) = (0.9f64, 0.999f64);
            for i in 0..theta.len() {
                m[i] = b1 * m[i] + (1.0 - b1) * grad[i];
                v[i] = b2 * v[i] + (1.0 - b2) * grad[i] * grad[i];
                let mh = m[i] / (1.0 - b1.powi(step as i32));
                let vh = v[i] / (1.0 - b2.powi(step as i32));
                theta[i] -= LR * mh / (vh.sqrt() + 1e-8);
            }
        }
        ContextPooling {
            labels,
            own: theta[0] as f32,
            question: theta[1] as f32,
            neighbours: theta[2] as f32,
            bias: theta[3..3 + k].iter().map(|b| *b as f32).collect(),
            group_bias: theta[3 + k..].iter().map(|b| *b as f32).collect(),
            sentences: samples.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(k: usize) -> Vec<String> {
        (0..k).map(|j| format!("s{j}")).collect()
    }

    #[test]
    fn learns_to_trust_the_source_that_is_right() {
        // Three classes, the last meaning "nothing". The sentence alone is a coin toss
        // between 0 and 1; the question names the right one; neighbours are noise.
        // (own, question, neighbours, gold) per row.
        type Row = ([f32; 3], [f32; 3], [f32; 3], usize);
        let rows: Vec<Row> = (0..60)
            .map(|i| {
                let y = i % 2;
                let q = if y == 0 {
                    [0.8, 0.1, 0.1]
                } else {
                    [0.1, 0.8, 0.1]
                };
                let noise = if i % 3 == 0 {
                    [0.6, 0.3, 0.1]
                } else {
                    [0.3, 0.6, 0.1]
                };
                ([0.45, 0.45, 0.1], q, noise, y)
            })
            .collect();
        let samples: Vec<(Evidence, usize)> = rows
            .iter()
            .map(|(o, q, n, y)| {
                (
                    Evidence {
                        own: o,
                        question: Some(q),
                        neighbours: Some(n),
                        group: None,
                    },
                    *y,
                )
            })
            .collect();
        let fit = ContextPooling::fit(labels(3), &samples, Some(2), 0);
        assert!(fit.question > 1.0, "{fit:?}");
        assert!(fit.neighbours.abs() < fit.question / 2.0, "{fit:?}");
        for (e, y) in &samples {
            let p = fit.apply(e, Some(2));
            assert!(p[*y] > 0.7, "{p:?} {fit:?}");
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        // Deterministic.
        assert_eq!(fit, ContextPooling::fit(labels(3), &samples, Some(2), 0));
    }

    #[test]
    fn a_question_that_names_nothing_adds_nothing() {
        let own = [0.5, 0.3, 0.2];
        let alone = Evidence {
            own: &own,
            question: None,
            neighbours: None,
            group: None,
        };
        let vague = Evidence {
            question: Some(&[0.0, 0.0, 1.0]),
            ..alone
        };
        let pooling = ContextPooling {
            labels: labels(3),
            own: 1.0,
            question: 2.0,
            neighbours: 1.0,
            bias: vec![0.0; 3],
            group_bias: Vec::new(),
            sentences: 0,
        };
        assert_eq!(
            pooling.apply(&alone, Some(2)),
            pooling.apply(&vague, Some(2))
        );
        // An unknown group adds nothing either.
        let other = Evidence {
            group: Some(5),
            ..alone
        };
        assert_eq!(
            pooling.apply(&alone, Some(2)),
            pooling.apply(&other, Some(2))
        );
        // With exponent 1 and no bias, a sentence alone keeps its own probabilities.
        let p = pooling.apply(&alone, Some(2));
        assert!(
            p.iter().zip(own).all(|(a, b)| (a - b).abs() < 1e-5),
            "{p:?}"
        );
    }
}

#[cfg(test)]
mod group_tests {
    use super::*;

    #[test]
    fn a_group_that_predicts_the_label_gets_its_bias() {
        // The sentence says nothing (uniform); the group is the label, two times in three.
        let own = [1.0 / 3.0; 3];
        let samples: Vec<(Evidence, usize)> = (0..90)
            .map(|i| {
                let g = i % 3;
                let y = if i % 9 < 6 { g } else { (g + 1) % 3 };
                let e = Evidence {
                    own: &own,
                    question: None,
                    neighbours: None,
                    group: Some(g),
                };
                (e, y)
            })
            .collect();
        let labels = vec!["a".to_string(), "b".into(), "c".into()];
        let fit = ContextPooling::fit(labels, &samples, None, 3);
        assert_eq!(fit.group_bias.len(), 9);
        for g in 0..3 {
            let p = fit.apply(
                &Evidence {
                    group: Some(g),
                    ..samples[0].0
                },
                None,
            );
            // Close to the two thirds the group's rows have, not certain.
            assert!(p[g] > 0.5 && p[g] < 0.8, "{g}: {p:?}");
        }
    }
}
