//! Bytes → text. Survey tools and Excel write UTF-8 with or without BOM, UTF-16 ("Unicode
//! text"), and legacy Finnish systems Windows-1252; a wrong guess shows up as broken ä/ö in
//! every quote, so the order of checks matters: BOM, UTF-16 without BOM, valid UTF-8, then 1252.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// Decoded text plus the encoding it was read as (recorded in run.json).
#[derive(Debug)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

/// Why a file is not text at all.
#[derive(Debug, PartialEq, Eq)]
pub struct NotText(pub String);

/// Magic numbers of formats people drop into feedback folders by mistake.
const BINARY_MAGIC: &[(&[u8], &str)] = &[
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"\xFF\xD8\xFF", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (
        b"PK\x03\x04",
        "a ZIP archive (XLSX/DOCX must have the .xlsx/.docx extension)",
    ),
    (
        b"\xD0\xCF\x11\xE0",
        "a legacy Office file (save it as .xlsx/.docx or CSV)",
    ),
    (b"PAR1", "a Parquet file (give it the .parquet extension)"),
    (b"\x1F\x8B", "a gzip archive"),
];

pub fn decode(bytes: &[u8], forced: Option<&str>) -> Result<Decoded, NotText> {
    if let Some(label) = forced {
        let enc = Encoding::for_label(label.as_bytes())
            .ok_or_else(|| NotText(format!("unknown encoding {label:?} in configuration")))?;
        let (text, _, had_errors) = enc.decode(bytes);
        if had_errors {
            return Err(NotText(format!("bytes that are not valid {}", enc.name())));
        }
        return Ok(Decoded {
            text: text.into_owned(),
            encoding: enc.name(),
        });
    }
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            return Err(NotText(format!(
                "starts with a {} byte-order mark but contains invalid {} bytes",
                enc.name(),
                enc.name()
            )));
        }
        return Ok(Decoded {
            text: text.into_owned(),
            encoding: bom_name(enc),
        });
    }
    for (magic, what) in BINARY_MAGIC {
        if bytes.starts_with(magic) {
            return Err(NotText(format!("binary file ({what})")));
        }
    }
    if let Some(enc) = utf16_without_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(bytes);
        if !had_errors {
            return Ok(Decoded {
                text: text.into_owned(),
                encoding: enc.name(),
            });
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        check_text(text)?;
        return Ok(Decoded {
            text: text.to_string(),
            encoding: UTF_8.name(),
        });
    }
    let (text, _, _) = WINDOWS_1252.decode(bytes);
    check_text(&text)?;
    Ok(Decoded {
        text: text.into_owned(),
        encoding: WINDOWS_1252.name(),
    })
}

fn bom_name(enc: &'static Encoding) -> &'static str {
    if enc == UTF_8 {
        "UTF-8 (BOM)"
    } else if enc == UTF_16LE {
        "UTF-16LE (BOM)"
    } else {
        "UTF-16BE (BOM)"
    }
}

/// UTF-16 without a BOM shows as NUL in every other byte of ASCII-heavy text.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let even_nul = sample.iter().step_by(2).filter(|b| **b == 0).count();
    let odd_nul = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|b| **b == 0)
        .count();
    if odd_nul * 10 > pairs * 6 && even_nul * 10 < pairs {
        Some(UTF_16LE)
    } else if even_nul * 10 > pairs * 6 && odd_nul * 10 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Text files have no NULs and few control characters; anything else is a binary file with a
/// misleading extension, and reading it as text would flood rejects with garbage.
fn check_text(text: &str) -> Result<(), NotText> {
    let sample: Vec<char> = text.chars().take(8192).collect();
    if sample.is_empty() {
        return Ok(());
    }
    let control = sample
        .iter()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{0C}'))
        .count();
    if sample.contains(&'\0') || control * 100 > sample.len() {
        return Err(NotText(
            "binary content (not a text file in any supported encoding)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_encoding() {
        let s = "Hyvä palvelu; öljy ÅÄÖ €";
        assert_eq!(decode(s.as_bytes(), None).unwrap().encoding, "UTF-8");
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(s.as_bytes());
        let d = decode(&bom, None).unwrap();
        assert_eq!((d.text.as_str(), d.encoding), (s, "UTF-8 (BOM)"));
        let (cp, _, _) = WINDOWS_1252.encode(s);
        let d = decode(&cp, None).unwrap();
        assert_eq!((d.text.as_str(), d.encoding), (s, "windows-1252"));
        let mut le = vec![0xFF, 0xFE];
        le.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(decode(&le, None).unwrap().text, s);
        let be: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        let d = decode(&be, None).unwrap();
        assert_eq!((d.text.as_str(), d.encoding), (s, "UTF-16BE"));
    }

    #[test]
    fn rejects_binary() {
        assert!(decode(b"\x89PNG\r\n\x1a\n\0\0\0", None).is_err());
        let noise: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert!(decode(&noise, None).is_err());
    }
}
