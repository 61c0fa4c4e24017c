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


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    sparse_far_cell()
    docx_empty_paragraphs()
    layouts()
