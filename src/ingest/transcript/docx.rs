//! DOCX transcripts (Teams and Otter exports): the paragraphs of `word/document.xml`, then the
//! same line parser as plain text. Paragraph numbers serve as line numbers.

use std::io::Read;

use quick_xml::events::Event;

/// Paragraph texts with their 1-based paragraph number; `<w:br/>` splits lines within one.
pub fn paragraphs(bytes: &[u8]) -> Result<Vec<(u64, String)>, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a valid DOCX (zip) file: {e}"))?;
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .map_err(|_| "not a Word document: word/document.xml is missing".to_string())?
        .read_to_string(&mut xml)
        .map_err(|e| format!("cannot read word/document.xml: {e}"))?;
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = Vec::new();
    let mut para = String::new();
    let mut n = 0u64;
    let mut in_text = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => match e.name().as_ref() {
                b"w:p" => {
                    para.clear();
                }
                b"w:t" => in_text = true,
                _ => {}
            },
            Ok(Event::Empty(e)) => match e.name().as_ref() {
                b"w:tab" => para.push('\t'),
                b"w:br" | b"w:cr" => para.push('\n'),
                b"w:p" => n += 1,
                _ => {}
            },
            Ok(Event::Text(t)) if in_text => {
                let s = t
                    .decode()
                    .map_err(|e| format!("bad text in document.xml: {e}"))?;
                para.push_str(&s);
            }
            Ok(Event::GeneralRef(r)) if in_text => {
                let name = r
                    .decode()
                    .map_err(|e| format!("bad entity in document.xml: {e}"))?;
                if let Some(c) = r.resolve_char_ref().ok().flatten() {
                    para.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
                    para.push_str(s);
                }
            }
            Ok(Event::End(e)) => match e.name().as_ref() {
                b"w:t" => in_text = false,
                b"w:p" => {
                    n += 1;
                    for line in para.split('\n') {
                        out.push((n, line.to_string()));
                    }
                    para.clear();
                }
                _ => {}
            },
            Ok(Event::Eof) => break,
            Err(e) => {
                return Err(format!(
                    "malformed document.xml at byte {}: {e}",
                    reader.buffer_position()
                ))
            }
            _ => {}
        }
    }
    Ok(out)
}
