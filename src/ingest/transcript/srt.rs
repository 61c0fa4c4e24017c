//! SubRip (.srt), as Zoom and many caption tools export: index, `hh:mm:ss,mmm --> …`, text
//! with an optional `Name:` speaker prefix.

use super::vtt::{blocks, timing, unescape};
use super::{split_name_colon, Cue};
use crate::ingest::RowReject;

pub fn parse(text: &str) -> (Vec<Cue>, Vec<RowReject>) {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim_start_matches('\u{feff}');
    let mut cues = Vec::new();
    let mut rejects = Vec::new();
    for (line, block) in blocks(text) {
        let (ti, t0, t1) = match timing(line, &block, "subtitle") {
            Ok(t) => t,
            Err(reject) => {
                rejects.push(reject);
                continue;
            }
        };
        let body: Vec<String> = block[ti + 1..]
            .iter()
            .map(|l| strip_markup(l.trim_start_matches("- ")))
            .collect();
        let joined = body.join(" ");
        let (speaker, text) = match split_name_colon(&joined) {
            Some((s, rest)) => (Some(s), rest),
            None => (None, joined),
        };
        cues.push(Cue {
            line: line + ti as u64 + 1,
            speaker,
            text,
            t_start: Some(t0),
            t_end: Some(t1),
        });
    }
    (cues, rejects)
}

fn strip_markup(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' | '{' => in_tag = true,
            '>' | '}' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaker_prefix_and_continuation() {
        let srt = "1\r\n00:00:01,000 --> 00:00:03,500\r\nEva: Hur hittade du oss?\r\n\r\n2\r\n00:00:04,000 --> 00:00:06,000\r\nLars: Via en vän,\r\neftersom jag flyttade.\r\n\r\n3\r\n00:00:06,000 --> 00:00:07,000\r\nDet var i maj.\r\n";
        let (cues, rejects) = parse(srt);
        assert!(rejects.is_empty());
        assert_eq!(cues.len(), 3);
        assert_eq!(cues[1].speaker.as_deref(), Some("Lars"));
        assert_eq!(cues[1].text, "Via en vän, eftersom jag flyttade.");
        assert_eq!(cues[2].speaker, None);
        assert_eq!(cues[0].t_end, Some(3.5));
    }
}
