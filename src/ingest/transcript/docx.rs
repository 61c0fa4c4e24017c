//! DOCX transcripts (Teams and Otter exports): the paragraphs of `word/document.xml`, then the
//! same line parser as plain text. Paragraph numbers serve as line numbers.
//!
//! The XML is inflated as a stream and parsed as it comes, never held whole, and at most
//! `limit` bytes are inflated: a few-MB deflate bomb expanding to gigabytes is rejected with
//! its size instead of exhausting memory. Runs of empty paragraphs are kept as one blank line
//! (all the line parser needs), so millions of `<w:p/>` cost nothing either.

use std::io::{BufReader, Read};

use quick_xml::events::Event;

use crate::ingest::inflate::{too_big, Counted};

/// Paragraph texts with their 1-based paragraph number; `<w:br/>` splits lines within one.
/// At most `limit` bytes of XML are inflated.
pub fn paragraphs(bytes: &[u8], limit: u64) -> Result<Vec<(u64, String)>, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a valid DOCX (zip) file: {e}"))?;
    let entry = zip
        .by_name("word/document.xml")
        .map_err(|_| "not a Word document: word/document.xml is missing".to_string())?;
    let too_big = |size: u64| too_big("word/document.xml", size, limit);
    // The declared size can lie; the `take` below enforces the limit whatever it says.
    if entry.size() > limit {
        return Err(too_big(entry.size()));
    }
    let mut counted = Counted {
        inner: entry.take(limit + 1),
        read: 0,
    };
    let parsed = parse(&mut counted);
    // Cut at the limit, the XML ends mid-element: say why rather than "malformed".
    if counted.read > limit {
        return Err(too_big(counted.read));
    }
    parsed
}

fn parse(xml: impl Read) -> Result<Vec<(u64, String)>, String> {
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(xml));
    let mut buf = Vec::new();
    let mut out: Vec<(u64, String)> = Vec::new();
    let mut para = String::new();
    let mut n = 0u64;
    let mut in_text = false;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => match e.name().as_ref() {
                "w:p" => {
                    para.clear();
                }
                "w:t" => in_text = true,
                _ => {}
            },
            Ok(Event::Empty(e)) => match e.name().as_ref() {
                "w:tab" => para.push('\t'),
                "w:br" | "w:cr" => para.push('\n'),
                "w:p" => n += 1,
                _ => {}
            },
            Ok(Event::Text(t)) if in_text => {
                // The reader has checked the text is UTF-8 (a bad byte is its error below).
                para.push_str(&t.xml10_content());
            }
            Ok(Event::GeneralRef(r)) if in_text => {
                let name: &str = &r;
                if let Some(c) = r.resolve_char_ref().ok().flatten() {
                    para.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(name) {
                    para.push_str(s);
                }
            }
            Ok(Event::End(e)) => match e.name().as_ref() {
                "w:t" => in_text = false,
                "w:p" => {
                    n += 1;
                    for line in para.split('\n') {
                        let blank_again = line.trim().is_empty()
                            && out.last().is_some_and(|(_, l)| l.trim().is_empty());
                        if !blank_again {
                            out.push((n, line.to_string()));
                        }
                    }
                    para.clear();
                }
                _ => {}
            },
            Ok(Event::Eof) => break,
            Err(e) => {
                return Err(format!(
                    "malformed or truncated document.xml at byte {}: {e}",
                    reader.buffer_position()
                ))
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(runs: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document><w:body>{runs}</w:body></w:document>"
        )
    }

    #[test]
    fn entities_and_character_references_are_resolved_inside_text_runs() {
        let xml = body(
            "<w:p><w:r><w:t>Hinta &amp; laatu &lt;3 p&#228;iv&#xE4;&#228;</w:t></w:r></w:p>\
             <w:p><w:r><w:t>Moi</w:t><w:tab/><w:t>&quot;joo&quot;</w:t><w:br/><w:t>toka</w:t></w:r></w:p>",
        );
        let got = parse(xml.as_bytes()).unwrap();
        assert_eq!(
            got,
            vec![
                (1, "Hinta & laatu <3 päivää".to_string()),
                (2, "Moi\t\"joo\"".to_string()),
                (2, "toka".to_string()),
            ]
        );
    }

    #[test]
    fn text_that_is_not_utf8_is_an_error_with_its_position() {
        let mut xml = body("<w:p><w:r><w:t>k\u{e4}ytt\u{f6}</w:t></w:r></w:p>").into_bytes();
        // Latin-1 bytes where UTF-8 was declared: an export re-saved by a wrong tool.
        let at = xml.windows(2).position(|w| w == "ä".as_bytes()).unwrap();
        xml.splice(at..at + 2, [0xe4]);
        let err = parse(&xml[..]).unwrap_err();
        assert!(err.contains("document.xml"), "{err}");
    }
}
