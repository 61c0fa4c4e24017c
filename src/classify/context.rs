//! Context a segment inherits. A sentence is often ambiguous alone ("It took three weeks.",
//! "Not at all.") but not where it stands: after the interviewer's question or the survey
//! question it answers, next to the other sentences of the same answer. These functions shift
//! a segment's probabilities towards that context, by more the less sure the segment is of
//! itself, so a clear sentence keeps its own label and a topic change within an answer
//! survives. Measured on `eval/heldout/context_*.csv` (README "Evaluation").

use std::collections::HashMap;

use crate::record::{DocKind, Document, Role, Segment};

/// Which segments share context, and which question frames each segment.
pub struct Context {
    /// Groups of segment indices that share context: a survey answer's sentences; the
    /// sentences of one interview answer (between two interviewer turns).
    pub units: Vec<Vec<usize>>,
    /// For each segment, the interviewer segment whose question it answers (interviews).
    pub question: Vec<Option<usize>>,
}

impl Context {
    /// `segs` are in document order (as segmentation writes them); documents need not be
    /// contiguous, a unit is closed by an interviewer segment or the end of its document.
    pub fn new(docs: &HashMap<&str, &Document>, segs: &[Segment]) -> Context {
        let mut units: Vec<Vec<usize>> = Vec::new();
        let mut open: HashMap<&str, usize> = HashMap::new();
        let mut asked: HashMap<&str, usize> = HashMap::new();
        // Documents whose interviewer turn is being read (consecutive interviewer segments).
        let mut in_turn: std::collections::HashSet<&str> = Default::default();
        let mut question = vec![None; segs.len()];
        for (i, seg) in segs.iter().enumerate() {
            let doc = seg.doc_id.as_str();
            let interview = docs.get(doc).is_some_and(|d| d.kind == DocKind::Interview);
            if seg.role == Role::Interviewer {
                open.remove(doc);
                // A turn's last sentence ending in '?' frames the answer; its first sentence
                // stands in when none does ("Tell me about the move.").
                if in_turn.insert(doc) || seg.text.trim_end().ends_with('?') {
                    asked.insert(doc, i);
                }
                continue;
            }
            in_turn.remove(doc);
            if interview {
                question[i] = asked.get(doc).copied();
            }
            match open.get(doc) {
                Some(u) => units[*u].push(i),
                None => {
                    open.insert(doc, units.len());
                    units.push(vec![i]);
                }
            }
        }
        Context { units, question }
    }

    /// For each of `n` segments, whether it shares its unit with another sentence (a
    /// sentence of a longer answer) rather than being a whole answer of its own.
    pub fn in_longer_unit(&self, n: usize) -> Vec<bool> {
        let mut out = vec![false; n];
        for unit in self.units.iter().filter(|u| u.len() > 1) {
            for &i in unit {
                out[i] = true;
            }
        }
        out
    }
}

/// How sure a row is of itself: its largest probability.
fn confidence(p: &[f32]) -> f32 {
    p.iter().copied().fold(0.0, f32::max)
}

/// For each row, the mean of the other rows of its unit (`None` when it has none).
pub fn neighbour_means(rows: &[Vec<f32>], units: &[Vec<usize>]) -> Vec<Option<Vec<f32>>> {
    let mut out = vec![None; rows.len()];
    for unit in units.iter().filter(|u| u.len() > 1) {
        let dim = rows[unit[0]].len();
        let mut sum = vec![0f32; dim];
        for &i in unit {
            for (s, p) in sum.iter_mut().zip(&rows[i]) {
                *s += p;
            }
        }
        let others = (unit.len() - 1) as f32;
        for &i in unit {
            out[i] = Some(
                sum.iter()
                    .zip(&rows[i])
                    .map(|(s, p)| (s - p) / others)
                    .collect(),
            );
        }
    }
    out
}

/// Moves each row of a unit towards the mean of the unit's other rows, by
/// `weight × (1 − confidence)`. Reads the rows as they were before any was moved, so the
/// result does not depend on the order within a unit.
pub fn mix_neighbours(rows: &mut [Vec<f32>], units: &[Vec<usize>], weight: f32) {
    let w = weight.clamp(0.0, 1.0);
    if w == 0.0 {
        return;
    }
    let means = neighbour_means(rows, units);
    for (row, ctx) in rows.iter_mut().zip(means) {
        let Some(ctx) = ctx else { continue };
        let a = w * (1.0 - confidence(row));
        for (p, c) in row.iter_mut().zip(ctx) {
            *p = (1.0 - a) * *p + a * c;
        }
    }
}

/// Moves a row towards the probabilities of the question it answers, by
/// `weight × (1 − confidence) × how clearly the question names a label`: 1 − P(`nothing`)
/// for a task with a class meaning "no label" (the `none` stage), else the question's own
/// confidence (themes). A question that names nothing ("Anything else?") leaves the answer
/// alone.
pub fn mix_question(row: &mut [f32], question: &[f32], weight: f32, nothing: Option<usize>) {
    let names = nothing.map_or(confidence(question), |j| 1.0 - question[j]);
    let a = weight.clamp(0.0, 1.0) * (1.0 - confidence(row)) * names;
    if a == 0.0 {
        return;
    }
    for (p, q) in row.iter_mut().zip(question) {
        *p = (1.0 - a) * *p + a * q;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::DocKind;

    fn doc(id: &str, kind: DocKind) -> Document {
        Document::bare(id, kind, "f")
    }

    fn seg(doc: &str, role: Role, text: &str) -> Segment {
        Segment {
            segment_id: String::new(),
            doc_id: doc.into(),
            seq: 0,
            turn: None,
            speaker: None,
            role,
            text: text.into(),
            char_start: 0,
            char_end: 0,
            t_start: None,
            t_end: None,
            lang: "en".into(),
            lang_confidence: 1.0,
        }
    }

    #[test]
    fn units_are_answers_and_questions_frame_them() {
        let (r, i) = (doc("r", DocKind::Response), doc("i", DocKind::Interview));
        let docs: HashMap<&str, &Document> = [("r", &r), ("i", &i)].into();
        let segs = [
            seg("r", Role::Respondent, "I ordered a sofa."),
            seg("i", Role::Interviewer, "Thanks. How was the delivery?"),
            seg("i", Role::Interviewer, "Take your time."),
            seg("r", Role::Respondent, "It took three weeks."),
            seg("i", Role::Participant, "Slow."),
            seg("i", Role::Participant, "Very slow."),
            seg("i", Role::Interviewer, "And the bills?"),
            seg("i", Role::Participant, "Fine."),
        ];
        let c = Context::new(&docs, &segs);
        assert_eq!(c.units, vec![vec![0, 3], vec![4, 5], vec![7]]);
        // The question sentence of a turn frames the answer, not the sentence after it.
        assert_eq!(c.question[4], Some(1));
        assert_eq!(c.question[5], Some(1));
        assert_eq!(c.question[7], Some(6));
        assert_eq!(c.question[3], None, "survey answers have no interviewer");
    }

    #[test]
    fn neighbours_are_the_other_rows_of_a_unit() {
        let rows = vec![
            vec![1.0, 0.0],
            vec![0.0, 1.0],
            vec![0.5, 0.5],
            vec![0.2, 0.8],
        ];
        let n = neighbour_means(&rows, &[vec![0, 1, 2], vec![3]]);
        assert_eq!(n[0], Some(vec![0.25, 0.75]));
        assert_eq!(n[2], Some(vec![0.5, 0.5]));
        assert_eq!(n[3], None, "alone in its unit");
    }

    #[test]
    fn unsure_rows_move_towards_their_context_sure_ones_stay() {
        let mut rows = vec![vec![0.9, 0.1], vec![0.5, 0.5], vec![0.1, 0.9]];
        mix_neighbours(&mut rows, &[vec![0, 1]], 0.5);
        // Row 1 (confidence 0.5) moves a quarter of the way to row 0; row 0 moves 5 %.
        assert!((rows[1][0] - (0.75 * 0.5 + 0.25 * 0.9)).abs() < 1e-6);
        assert!((rows[0][0] - (0.95 * 0.9 + 0.05 * 0.5)).abs() < 1e-6);
        assert_eq!(rows[2], vec![0.1, 0.9], "not in a unit");
        let mut same = rows.clone();
        mix_neighbours(&mut same, &[vec![0, 1]], 0.0);
        assert_eq!(same, rows);
    }

    #[test]
    fn a_sentence_of_a_longer_answer_is_told_from_a_whole_answer() {
        let ctx = Context {
            units: vec![vec![0, 1], vec![3], vec![4, 5, 6]],
            question: vec![None; 7],
        };
        // Segment 2 (an interviewer's) belongs to no unit.
        assert_eq!(
            ctx.in_longer_unit(7),
            [true, true, false, false, true, true, true]
        );
    }

    #[test]
    fn a_question_that_names_nothing_leaves_the_answer_alone() {
        let mut row = vec![0.4, 0.3, 0.3];
        mix_question(&mut row, &[0.0, 0.0, 1.0], 0.5, Some(2));
        assert_eq!(row, vec![0.4, 0.3, 0.3]);
        mix_question(&mut row, &[0.0, 1.0, 0.0], 0.5, Some(2));
        assert!((row[1] - (0.7 * 0.3 + 0.3)).abs() < 1e-6, "{row:?}");
        // Themes: a question with no clear theme barely moves the answer.
        let mut row = vec![0.4, 0.2];
        mix_question(&mut row, &[0.1, 0.05], 0.5, None);
        assert!((row[0] - (0.97 * 0.4 + 0.03 * 0.1)).abs() < 1e-6, "{row:?}");
    }
}
