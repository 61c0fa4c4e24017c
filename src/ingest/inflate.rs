//! Bounds on what a zip-based file (DOCX, XLSX, XLSB, ODS) may inflate to. A few-MB deflate
//! bomb can expand to gigabytes; every part is measured by inflating it (the sizes in the zip
//! directory can lie) and at most `limit` bytes of any one part are ever inflated.

use std::io::Read;

/// A reader that counts the bytes it hands out.
pub struct Counted<R> {
    pub inner: R,
    pub read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// The reason a part is refused: its (at least) inflated size against the limit.
pub fn too_big(part: &str, size: u64, limit: u64) -> String {
    format!(
        "{part} inflates to {} MB or more, over the limit of {} MB ([ingest] max_inflated_mb)",
        size >> 20,
        limit >> 20
    )
}

/// Errs naming the first part of the archive that inflates past `limit` bytes. Each part is
/// inflated once, as a stream: `inspect(name, part)` may read it (the ODS grid check reads
/// `content.xml` this way), the rest goes to a sink, so this costs time linear in the
/// (bounded) content and no memory. Not a zip archive (XLS is an OLE file) passes: such a
/// file is not compressed.
pub fn check_parts(
    bytes: &[u8],
    limit: u64,
    mut inspect: impl FnMut(&str, &mut dyn Read) -> Result<(), String>,
) -> Result<(), String> {
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return Ok(());
    };
    for i in 0..zip.len() {
        let entry = zip
            .by_index(i)
            .map_err(|e| format!("corrupt zip archive: {e}"))?;
        // A name that is not valid in its declared encoding still names the part in messages;
        // the parts inspected by name (content.xml, document.xml) are ASCII.
        let name = match entry.name() {
            Ok(name) => name.into_owned(),
            Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
        };
        if entry.size() > limit {
            return Err(too_big(&name, entry.size(), limit));
        }
        let mut counted = Counted {
            inner: entry.take(limit + 1),
            read: 0,
        };
        let inspected = inspect(&name, &mut counted);
        std::io::copy(&mut counted, &mut std::io::sink())
            .map_err(|e| format!("corrupt zip archive ({name}): {e}"))?;
        // Cut at the limit, a part ends mid-element: its size is the reason, not the XML.
        if counted.read > limit {
            return Err(too_big(&name, counted.read, limit));
        }
        inspected?;
    }
    Ok(())
}
