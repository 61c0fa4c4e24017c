//! WebVTT (Teams, Zoom, Otter caption exports). Speakers come from `<v Name>` voice spans
//! (Teams) or a `Name:` prefix (Zoom); NOTE/STYLE/REGION blocks carry no speech.

use super::{split_name_colon, time, Cue};
use crate::ingest::RowReject;

/// Cues of the file and rejects `(line, reason, raw)` for blocks that are not valid cues.
pub fn parse(text: &str) -> Result<(Vec<Cue>, Vec<RowReject>), String> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    if !text.trim_start_matches('\u{feff}').starts_with("WEBVTT") {
        return Err("not a WebVTT file: the first line must be WEBVTT".into());
    }
    let mut cues = Vec::new();
    let mut rejects = Vec::new();
    for (line, block) in blocks(&text).into_iter().skip(1) {
        let first = block[0].trim();
        if first.starts_with("NOTE") || first == "STYLE" || first == "REGION" {
            continue;
        }
        let (ti, t0, t1) = match timing(line, &block, "cue") {
            Ok(t) => t,
            Err(reject) => {
                rejects.push(reject);
                continue;
            }
        };
        let payload = block[ti + 1..].join("\n");
        for (speaker, text) in voices(&payload) {
            let text = unescape(&strip_tags(&text));
            let (speaker, text) = match speaker {
                Some(s) => (Some(s), text),
                None => match split_name_colon(&text) {
                    Some((s, rest)) => (Some(s), rest),
                    None => (None, text),
                },
            };
            cues.push(Cue {
                line: line + ti as u64 + 1,
                speaker,
                text: text.split_whitespace().collect::<Vec<_>>().join(" "),
                t_start: Some(t0),
                t_end: Some(t1),
            });
        }
    }
    Ok((cues, rejects))
}

/// The timing line of a cue block (the first or, after a cue id, the second line) as
/// (its index, start, end); `what` names the block in the reject ("cue", "subtitle").
pub fn timing(line: u64, block: &[&str], what: &str) -> Result<(usize, f64, f64), RowReject> {
    let Some(ti) = block
        .iter()
        .position(|l| l.contains("-->"))
        .filter(|i| *i <= 1)
    else {
        return Err((
            line,
            format!("{what} without a valid timing line"),
            block.join(" "),
        ));
    };
    match time::parse_range(block[ti]) {
        Some((t0, t1)) => Ok((ti, t0, t1)),
        None => Err((
            line + ti as u64,
            format!("invalid {what} timing {:?}", block[ti]),
            block.join(" "),
        )),
    }
}

/// Blank-line separated blocks with the 1-based line of their first line.
pub fn blocks(text: &str) -> Vec<(u64, Vec<&str>)> {
    let mut out: Vec<(u64, Vec<&str>)> = Vec::new();
    let mut current: Option<(u64, Vec<&str>)> = None;
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            out.extend(current.take());
        } else {
            current.get_or_insert((i as u64 + 1, Vec::new())).1.push(l);
        }
    }
    out.extend(current);
    out
}

/// Split a payload at `<v Name>` spans; text outside any span has no speaker.
fn voices(payload: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    let mut rest = payload;
    let mut speaker: Option<String> = None;
    while let Some(pos) = rest.find("<v") {
        let after = &rest[pos + 2..];
        if !after.starts_with([' ', '.']) {
            break;
        }
        let Some(close) = after.find('>') else { break };
        let before = &rest[..pos];
        if !before.trim().is_empty() {
            out.push((speaker.clone(), before.to_string()));
        }
        let tag = &after[..close];
        // `<v.loud Anna Virtanen>`: classes come before the first space.
        let name = tag.split_once(' ').map_or("", |(_, n)| n).trim();
        speaker = (!name.is_empty()).then(|| unescape(name));
        rest = &after[close + 1..];
    }
    if !rest.trim().is_empty() {
        out.push((speaker, rest.to_string()));
    }
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = false;
    for c in s.chars() {
        match c {
            '<' => depth = true,
            '>' if depth => depth = false,
            _ if !depth => out.push(c),
            _ => {}
        }
    }
    out
}

pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&lrm;", "")
        .replace("&rlm;", "")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_voice_tags_and_zoom_prefix() {
        let vtt = "WEBVTT\n\nNOTE hello\n\n3f2a/12-0\n00:00:03.120 --> 00:00:07.480\n<v Anna Virtanen>Miten tilaus\nsujui?</v>\n\n2\n00:00:08.000 --> 00:00:09.000\nMatti: Hyvin &amp; nopeasti.\n\n00:00:10.000 --> 00:00:11.000\n<v.loud Anna Virtanen>Kiitos!</v> <v Matti>Ole hyvä.</v>\n";
        let (cues, rejects) = parse(vtt).unwrap();
        assert!(rejects.is_empty());
        let got: Vec<(Option<&str>, &str)> = cues
            .iter()
            .map(|c| (c.speaker.as_deref(), c.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("Anna Virtanen"), "Miten tilaus sujui?"),
                (Some("Matti"), "Hyvin & nopeasti."),
                (Some("Anna Virtanen"), "Kiitos!"),
                (Some("Matti"), "Ole hyvä."),
            ]
        );
        assert_eq!(cues[0].t_start, Some(3.12));
    }
}
