#!/usr/bin/env python3
"""Writes tests/hostile/: files shaped to break readers, checked by tests/it/hostile.rs.

sparse_far_cell.xlsx: a two-row survey whose used range reaches XFD1048576 (one stray cell
there, another at XFD3 beside real data). A reader that materialises the used range as a
dense grid allocates 16 384 x 1 048 576 cells and aborts. Written by hand (zipfile + XML) so
the file is exactly this shape; timestamps fixed so it is byte-reproducible.
"""
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "hostile"

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
