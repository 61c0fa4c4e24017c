//! Line-oriented transcripts: plain text, Markdown notes and the paragraphs of DOCX exports.
//! Three shapes occur, and a file uses one of them:
//! - header blocks: `Speaker 1  0:02` (Otter) or `Anna Virtanen   0:03` (Teams DOCX), text below;
//! - timing blocks: `0:0:0.0 --> 0:0:4.150` or a bare `0:00:07`, then the speaker's name, then
//!   text (Teams, Word exports that put time, name and text in paragraphs of their own);
//! - `Name: text` lines (notes, Markdown `**Name:** text`), also with the time before the
//!   name (`[00:01:02] Name: text`, `00:01:02 Name: text`) or after it (`Name (0:02): text`);
//!   unprefixed lines continue the turn.
//!
//! The shape is recognised by counting which kind of line the file has most of, not by a fixed
//! order, so a file is read by its structure whichever tool wrote it.
//!
//! Lines before the first speaker (titles, dates) are preamble, not speech.

use super::{looks_like_name, split_name_colon, time, Cue};

#[derive(Debug, PartialEq, Clone, Copy)]
enum Shape {
    Header,
    Timing,
    NameColon,
}

/// `(line number, text)` pairs → cues.
pub fn parse(lines: &[(u64, String)]) -> Vec<Cue> {
    let cleaned: Vec<(u64, String)> = lines.iter().map(|(n, l)| (*n, clean_markdown(l))).collect();
    let headers = cleaned.iter().filter(|(_, l)| header(l).is_some()).count();
    let timings = cleaned.iter().filter(|(_, l)| timing(l).is_some()).count();
    let shape = if headers >= 2 && headers >= timings {
        Shape::Header
    } else if timings >= 2 {
        Shape::Timing
    } else {
        Shape::NameColon
    };
    let mut cues: Vec<Cue> = Vec::new();
    // After a timing line the next short line is the speaker's name.
    let mut awaiting_name: Option<(u64, f64, Option<f64>)> = None;
    for (n, line) in &cleaned {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match shape {
            Shape::Header => {
                if let Some((name, t)) = header(line) {
                    cues.push(cue(*n, Some(name), String::new(), Some(t), None));
                    continue;
                }
            }
            Shape::Timing => {
                if let Some((t0, t1)) = timing(line) {
                    awaiting_name = Some((*n, t0, t1));
                    continue;
                }
                if let Some((start, t0, t1)) = awaiting_name.take() {
                    if looks_like_name(line) {
                        cues.push(cue(
                            start,
                            Some(line.to_string()),
                            String::new(),
                            Some(t0),
                            t1,
                        ));
                    } else {
                        cues.push(cue(start, None, line.to_string(), Some(t0), t1));
                    }
                    continue;
                }
            }
            Shape::NameColon => {
                if let Some((name, rest, t)) = timed_name_colon(line) {
                    cues.push(cue(*n, Some(name), rest, t, None));
                    continue;
                }
            }
        }
        // Continuation of the current cue; nothing to continue means preamble.
        if let Some(c) = cues.last_mut() {
            if !c.text.is_empty() {
                c.text.push(' ');
            }
            c.text.push_str(line);
        }
    }
    cues
}

fn cue(line: u64, speaker: Option<String>, text: String, t0: Option<f64>, t1: Option<f64>) -> Cue {
    Cue {
        line,
        speaker,
        text,
        t_start: t0,
        t_end: t1,
    }
}

/// A line that is only a time: `start --> end`, or a bare `0:00:07` / `[0:07]`.
fn timing(line: &str) -> Option<(f64, Option<f64>)> {
    if let Some((a, b)) = time::parse_range(line) {
        return Some((a, Some(b)));
    }
    let t = line.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    time::parse(t).map(|v| (v, None))
}

/// `Name: text`, optionally with the time before the name (`[0:01:02] Name: text`,
/// `0:01:02 Name: text`) or in parentheses after it (`Name (0:02): text`).
fn timed_name_colon(line: &str) -> Option<(String, String, Option<f64>)> {
    let line = line.trim();
    // Time first.
    let (stamp, rest) = match line.strip_prefix('[') {
        Some(x) => x
            .split_once(']')
            .map_or((None, line), |(a, b)| (Some(a), b)),
        None => line
            .split_once(char::is_whitespace)
            .map_or((None, line), |(a, b)| (Some(a), b)),
    };
    if let Some(t) = stamp.and_then(time::parse) {
        if let Some((name, text)) = split_name_colon(rest.trim()) {
            return Some((name, text, Some(t)));
        }
    }
    // Time in parentheses before the colon.
    if let Some((head, text)) = line.split_once("):") {
        if let Some((name, stamp)) = head.rsplit_once('(') {
            let name = name.trim();
            if let (Some(t), true) = (time::parse(stamp), looks_like_name(name)) {
                return Some((name.to_string(), text.trim().to_string(), Some(t)));
            }
        }
    }
    split_name_colon(line).map(|(name, text)| (name, text, None))
}

/// `Name  0:02` / `Name 1:02:03`: a speaker label followed by a timestamp and nothing else.
fn header(line: &str) -> Option<(String, f64)> {
    let line = line.trim();
    let (name, stamp) = line.rsplit_once(char::is_whitespace)?;
    let t = time::parse(stamp)?;
    let name = name.trim().trim_end_matches(['|', '-', '–']).trim();
    looks_like_name(name).then(|| (name.to_string(), t))
}

/// Markdown emphasis and list markers around speaker labels; headings are preamble.
fn clean_markdown(line: &str) -> String {
    let t = line.trim();
    if t.starts_with('#') || t == "---" {
        return String::new();
    }
    let t = t
        .strip_prefix("- ")
        .or_else(|| t.strip_prefix("* "))
        .unwrap_or(t);
    t.replace("**", "").replace("__", "")
}

/// Plain text → numbered lines.
pub fn from_text(text: &str) -> Vec<(u64, String)> {
    text.trim_start_matches('\u{feff}')
        .lines()
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speakers(cues: &[Cue]) -> Vec<(Option<&str>, &str, Option<f64>)> {
        cues.iter()
            .map(|c| (c.speaker.as_deref(), c.text.as_str(), c.t_start))
            .collect()
    }

    #[test]
    fn otter_blocks() {
        let t = "Interview with customer\n\nSpeaker 1  0:02\nHow did you find us?\n\nSpeaker 2  0:05\nThrough an ad.\nIt was on TV.\n\nSpeaker 1  1:02:03\nThanks.\n";
        let cues = parse(&from_text(t));
        assert_eq!(
            speakers(&cues),
            vec![
                (Some("Speaker 1"), "How did you find us?", Some(2.0)),
                (Some("Speaker 2"), "Through an ad. It was on TV.", Some(5.0)),
                (Some("Speaker 1"), "Thanks.", Some(3723.0)),
            ]
        );
    }

    #[test]
    fn teams_timing_blocks() {
        let t = "0:0:0.0 --> 0:0:4.150\nAnna Virtanen\nMiten tilaus sujui?\n\n0:0:4.150 --> 0:0:9.0\nMatti Korhonen\nHyvin.\n";
        let cues = parse(&from_text(t));
        assert_eq!(cues.len(), 2);
        assert_eq!(cues[1].speaker.as_deref(), Some("Matti Korhonen"));
        assert_eq!((cues[1].t_start, cues[1].t_end), (Some(4.15), Some(9.0)));
    }

    #[test]
    fn time_then_name_then_text_paragraphs() {
        // Teams/Word: a timestamp paragraph, the speaker's paragraph, then what was said.
        let t = "Haastattelu 3.9.2026\n0:00:00\nLiisa Haastattelija\nMiten koit tämän vaiheen?\n0:00:07\nMatti Asiakas\nIhan hyvin.\nVähän hidasta.\n";
        let cues = parse(&from_text(t));
        assert_eq!(
            speakers(&cues),
            vec![
                (
                    Some("Liisa Haastattelija"),
                    "Miten koit tämän vaiheen?",
                    Some(0.0)
                ),
                (
                    Some("Matti Asiakas"),
                    "Ihan hyvin. Vähän hidasta.",
                    Some(7.0)
                ),
            ]
        );
    }

    #[test]
    fn bracketed_time_and_time_in_parentheses_before_the_colon() {
        let t = "[00:01:02] Interviewer: How was the delivery?\n[00:01:09] Kund: Den kom sent.\n";
        assert_eq!(
            speakers(&parse(&from_text(t))),
            vec![
                (Some("Interviewer"), "How was the delivery?", Some(62.0)),
                (Some("Kund"), "Den kom sent.", Some(69.0)),
            ]
        );
        let t = "Anna (0:02): Miten tilaus sujui?\nMatti (0:05): Hyvin,\nkiitos.\n";
        assert_eq!(
            speakers(&parse(&from_text(t))),
            vec![
                (Some("Anna"), "Miten tilaus sujui?", Some(2.0)),
                (Some("Matti"), "Hyvin, kiitos.", Some(5.0)),
            ]
        );
        let t = "00:00:03 Asiakas: Lasku oli väärin.\n00:00:09 Haastattelija: Kerro lisää?\n";
        assert_eq!(
            speakers(&parse(&from_text(t))),
            vec![
                (Some("Asiakas"), "Lasku oli väärin.", Some(3.0)),
                (Some("Haastattelija"), "Kerro lisää?", Some(9.0)),
            ]
        );
    }

    #[test]
    fn name_colon_with_markdown_and_wrapping() {
        let t = "# Haastattelu 14.9.\n\n**Haastattelija:** Miten asennus meni?\n**Asiakas:** Huonosti, koska asentaja ei tullut\nsovittuna päivänä.\n";
        let cues = parse(&from_text(t));
        assert_eq!(
            speakers(&cues),
            vec![
                (Some("Haastattelija"), "Miten asennus meni?", None),
                (
                    Some("Asiakas"),
                    "Huonosti, koska asentaja ei tullut sovittuna päivänä.",
                    None
                ),
            ]
        );
    }
}
