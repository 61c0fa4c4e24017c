#!/usr/bin/env python3
"""Writes tests/hostile/ (files shaped to break readers) and tests/layouts/ (transcript layouts
written by other tools), checked by tests/it/hostile.rs.

sparse_far_cell.xlsx: a two-row survey whose used range reaches XFD1048576 (one stray cell
there, another at XFD3 beside real data). A reader that materialises the used range as a
dense grid allocates 16 384 x 1 048 576 cells and aborts. Written by hand (zipfile + XML) so
the file is exactly this shape; timestamps fixed so it is byte-reproducible.
"""
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "hostile"
LAYOUTS = OUT.parent / "layouts"

CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"""
RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
WB = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Vastaukset" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WB_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"""


def text(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def num(ref: str, value: float) -> str:
    return f'<c r="{ref}"><v>{value}</v></c>'


def sparse_far_cell() -> None:
    sheet = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData>
<row r="1">{text("A1", "Vastaaja")}{text("B1", "Suosittelu (0-10)")}{text("C1", "Mikä on tärkein syy antamaasi arvosanaan?")}</row>
<row r="2">{text("A2", "r1")}{num("B2", 3)}{text("C2", "Lasku tuli kahteen kertaan eikä kukaan vastannut sähköposteihin.")}</row>
<row r="3">{text("A3", "r2")}{num("B3", 9)}{text("C3", "Asentaja tuli ajallaan ja kaikki toimi heti.")}{text("XFD3", "hajasolu")}</row>
<row r="1048576">{text("XFD1048576", "x")}</row>
</sheetData></worksheet>"""
    parts = [
        ("[Content_Types].xml", CT),
        ("_rels/.rels", RELS),
        ("xl/workbook.xml", WB),
        ("xl/_rels/workbook.xml.rels", WB_RELS),
        ("xl/worksheets/sheet1.xml", sheet),
    ]
    with zipfile.ZipFile(OUT / "sparse_far_cell.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def write_docx(path: Path, paragraphs: list[str], extra_xml: str = "") -> None:
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{t}</w:t></w:r></w:p>" for t in paragraphs)
    xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {ns}><w:body>{body}{extra_xml}</w:body></w:document>'
    ct = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"""
    rels = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in [("[Content_Types].xml", ct), ("_rels/.rels", rels), ("word/document.xml", xml)]:
            info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def layouts() -> None:
    """One transcript per layout the readers must recognise by structure."""
    LAYOUTS.mkdir(parents=True, exist_ok=True)
    # Teams meeting transcript saved from Word: time, name and text each in a paragraph.
    write_docx(LAYOUTS / "teams_time_name_text.docx", [
        "Asiakashaastattelu – laajakaista", "3. syyskuuta 2026",
        "0:00:00", "Liisa Haastattelija", "Miten koit tämän vaiheen?",
        "0:00:06", "Pekka Asiakas", "No, asennus venyi kaksi viikkoa eikä kukaan kertonut miksi.",
        "0:00:19", "Liisa Haastattelija", "Entä laskutus?",
        "0:00:23", "Pekka Asiakas", "Lasku oli selkeä.",
    ])
    (LAYOUTS / "bracketed_time_name_colon.txt").write_text(
        "[00:00:02] Interviewer: How did the move to the new plan go?\n"
        "[00:00:08] Kund: Det tog tre veckor innan fakturan blev rätt.\n"
        "Jag ringde två gånger.\n"
        "[00:00:21] Interviewer: And the app?\n"
        "[00:00:25] Kund: Appen fungerar bra.\n", encoding="utf-8")
    (LAYOUTS / "name_time_in_parentheses.txt").write_text(
        "Haastattelija (0:02): Miten tilaus sujui?\n"
        "Asiakas (0:07): Toimitus myöhästyi viikon.\n"
        "Haastattelija (0:15): Saitteko tietoa viivästyksestä?\n"
        "Asiakas (0:19): Emme saaneet mitään viestiä.\n", encoding="utf-8")


def docx_empty_paragraphs() -> None:
    """A real three-turn Teams transcript followed by 2 million empty paragraphs: 12 MB of XML
    in a ~30 kB file. Read whole it is a transcript; under a 1 MB inflate limit it is refused."""
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    turns = [
        "Liisa Haastattelija   0:03",
        "Miten koit asennuksen?",
        "Matti Asiakas   0:09",
        "Asentaja myöhästyi kaksi tuntia eikä kukaan ilmoittanut siitä.",
        "Liisa Haastattelija   0:21",
        "Entä laskutus?",
        "Matti Asiakas   0:25",
        "Ensimmäinen lasku oli oikein.",
    ]
    body = "".join(f"<w:p><w:r><w:t>{t}</w:t></w:r></w:p>" for t in turns) + "<w:p/>" * 2_000_000
    xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {ns}><w:body>{body}</w:body></w:document>'
    ct = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"""
    rels = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"""
    with zipfile.ZipFile(OUT / "docx_empty_paragraphs.docx", "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in [("[Content_Types].xml", ct), ("_rels/.rels", rels), ("word/document.xml", xml)]:
            info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def xlsx_giant_shared_string() -> None:
    """A survey whose one comment (in sharedStrings.xml) is a 3 MB pasted text: a 20 kB file.
    Read whole it is cut to [ingest] max_cell_chars; under max_inflated_mb = 1 the part is
    refused before calamine loads the shared strings into memory."""
    giant = ("Lasku oli väärin ja asiakaspalvelu ei vastannut. " * 62_000)[:3_000_000]
    shared = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>{giant}</t></si></sst>"""
    sheet = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1">{text("A1", "Vastaaja")}{text("B1", "Suosittelu (0-10)")}{text("C1", "Mikä on tärkein syy antamaasi arvosanaan?")}</row>
<row r="2">{text("A2", "r1")}{num("B2", 2)}<c r="C2" t="s"><v>0</v></c></row>
<row r="3">{text("A3", "r2")}{num("B3", 9)}{text("C3", "Asentaja tuli ajallaan ja kaikki toimi heti.")}</row>
</sheetData></worksheet>"""
    ct = CT.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    wb_rels = WB_RELS.replace("</Relationships>", '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    parts = [
        ("[Content_Types].xml", ct),
        ("_rels/.rels", RELS),
        ("xl/workbook.xml", WB),
        ("xl/_rels/workbook.xml.rels", wb_rels),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/sharedStrings.xml", shared),
    ]
    write_zip(OUT / "xlsx_giant_shared_string.xlsx", parts)


def write_zip(path: Path, parts: list[tuple[str, str]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
            # ODS wants its mimetype first and stored.
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def ods(path: Path, extra_rows: str) -> None:
    def cell(v: str) -> str:
        kind = 'office:value-type="float" office:value="%s"' % v if v.isdigit() else 'office:value-type="string"'
        return f"<table:table-cell {kind}><text:p>{v}</text:p></table:table-cell>"

    def row(*vs: str) -> str:
        return "<table:table-row>" + "".join(cell(v) for v in vs) + "</table:table-row>"

    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Vastaukset">
{row("Vastaaja", "Suosittelu (0-10)", "Mikä on tärkein syy antamaasi arvosanaan?")}
{row("r1", "3", "Lasku tuli kahteen kertaan eikä kukaan vastannut sähköposteihin.")}
{row("r2", "9", "Asentaja tuli ajallaan ja kaikki toimi heti.")}
{extra_rows}</table:table></office:spreadsheet></office:body></office:document-content>"""
    manifest = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"""
    write_zip(path, [
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
        ("META-INF/manifest.xml", manifest),
        ("content.xml", content),
    ])


def ods_repeated_rows() -> None:
    """Two survey rows, then one row repeated 3 000 times whose one filled cell is repeated
    across all 16 384 columns: 49 million cells described in 1 kB. calamine expands the
    sheet densely (under its 100 M-cell cap): gigabytes; palaute measures the extent first.
    ods_survey.ods is the same survey without that row."""
    ods(OUT / "ods_survey.ods", "")
    # Found by scripts/fuzz.sh: content.xml cut before the sheet is closed made calamine 0.38
    # loop forever (it ignores end-of-file inside a table).
    with zipfile.ZipFile(OUT / "ods_survey.ods") as z:
        parts = [(n, z.read(n).decode()) for n in z.namelist()]
    parts = [(n, d[: d.index("</table:table>")] if n == "content.xml" else d) for n, d in parts]
    write_zip(OUT / "ods_truncated.ods", parts)
    ods(OUT / "ods_repeated_rows.ods", '<table:table-row table:number-rows-repeated="3000"><table:table-cell office:value-type="string" table:number-columns-repeated="16384"><text:p>x</text:p></table:table-cell></table:table-row>')


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    sparse_far_cell()
    docx_empty_paragraphs()
    xlsx_giant_shared_string()
    ods_repeated_rows()
    layouts()
