#!/usr/bin/env python3
"""Generate palaute's bundled sample input data in data/.

All texts are original and fictional (company "Valopolku Oy", invented people). They are kept
as hand-written plain-text sources in scripts/sample_text/ (NOT under data/, because the
pipeline reads every file under data/). This script renders them into files shaped like real
exports from the tools named below. Output is fully deterministic: the same sources always
produce byte-identical files.

    data/fi_nps_qualtrics.csv     Qualtrics CSV export ("use choice text"), UTF-8 BOM, CRLF
    data/sv_csat_webropol.xlsx    Webropol-like XLSX export, sheets "Svar" + "Info"
    data/en_nps_surveymonkey.csv  SurveyMonkey CSV export (2 header rows), UTF-8, LF
    data/fi_interview_teams.vtt   Microsoft Teams WebVTT transcript
    data/en_interview_otter.docx  Otter.ai DOCX transcript export
    data/sv_interview_zoom.srt    Zoom-style SRT transcript, CRLF

Usage:
    pip install -r scripts/requirements-dev.txt
    python3 scripts/gen_sample_data.py            # (re)write files in data/
    python3 scripts/gen_sample_data.py --check    # verify data/ matches the sources
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import filecmp
import io
import random
import re
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "scripts" / "sample_text"

# Fixed timestamp written into zip entries and document properties (determinism).
FIXED_ZIP_TIME = (2026, 10, 1, 9, 0, 0)
FIXED_DOC_TIME = dt.datetime(2026, 10, 1, 9, 0, 0)


# --------------------------------------------------------------------------------------------
# Source parsing
# --------------------------------------------------------------------------------------------

def parse_survey(path: Path) -> list[dict]:
    """Parse a survey source file into records {score, tags, opts, texts}."""
    records: list[dict] = []
    cur = None
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("=== "):
            head = line[4:].split()
            opts = dict(tok.split("=", 1) for tok in head[1:] if "=" in tok)
            tags = [tok for tok in head[1:] if "=" not in tok]
            cur = {"score": head[0], "tags": tags, "opts": opts, "parts": [[]]}
            records.append(cur)
        elif cur is None:
            continue  # preamble / comments
        elif line == "---":
            cur["parts"].append([])
        else:
            cur["parts"][-1].append(line)
    for r in records:
        r["texts"] = ["\n".join(p).strip("\n") for p in r.pop("parts")]
        while len(r["texts"]) < 2:
            r["texts"].append("")
    return records


def parse_turns(path: Path, prefixes: dict[str, str]) -> list[dict]:
    """Parse an interview source: turns of (speaker, [lines]); '@pause N' / '@gap N' directives.

    A line "X: text" starts a cue/paragraph for speaker X. Within a turn (no blank line between),
    further "X: text" lines of the same speaker are extra cues; lines without a prefix continue
    the previous item as an extra paragraph (used by the Otter source).
    """
    turns: list[dict] = []
    cur = None
    pending_pause = 0.0
    for raw in path.read_text(encoding="utf-8").split("\n"):
        line = raw.rstrip()
        if line.startswith("#"):
            continue
        if not line:
            cur = None
            continue
        m = re.match(r"@(?:pause|gap) (\d+(?:\.\d+)?)$", line)
        if m:
            pending_pause += float(m.group(1))
            cur = None
            continue
        m = re.match(r"([A-Z]): (.*)$", line)
        if m:
            spk = prefixes[m.group(1)]
            if cur is None or cur["speaker"] != spk:
                cur = {"speaker": spk, "items": [], "pause": pending_pause}
                pending_pause = 0.0
                turns.append(cur)
            cur["items"].append(m.group(2))
        else:
            if cur is None:
                raise ValueError(f"continuation line outside a turn: {line!r}")
            cur["items"].append(line)
    return turns


def weighted(rng: random.Random, table: dict[str, float]) -> str:
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys], k=1)[0]


def response_time(rng: random.Random, start: dt.datetime, reminder_day: int) -> dt.datetime:
    """Plausible survey response time: most answers right after the invite / reminder."""
    day = weighted(rng, {"0": 30, "1": 14, "2": 8, "3": 5, "4": 4, "5": 3, "6": 3,
                         str(reminder_day): 14, str(reminder_day + 1): 7, str(reminder_day + 2): 4,
                         str(reminder_day + 3): 3, str(reminder_day + 4): 2, str(reminder_day + 5): 1})
    day = int(day)
    hour_table = {str(h): w for h, w in zip(range(6, 24),
                                            [1, 4, 8, 7, 5, 4, 6, 4, 3, 3, 4, 5, 6, 7, 8, 7, 5, 2])}
    while True:
        hour = int(weighted(rng, hour_table))
        if day in (0, reminder_day) and hour < start.hour:
            continue
        break
    t = start.replace(hour=hour, minute=0, second=0) + dt.timedelta(days=day)
    return t + dt.timedelta(seconds=rng.randrange(3600))


# --------------------------------------------------------------------------------------------
# 1. Qualtrics (Finnish NPS)
# --------------------------------------------------------------------------------------------

QUALTRICS_COLUMNS = [
    "StartDate", "EndDate", "Status", "Progress", "Duration (in seconds)", "Finished",
    "RecordedDate", "ResponseId", "UserLanguage", "Q1", "Q2", "Q3", "Asiakkuus", "Alue", "Kanava",
]
QUALTRICS_LABELS = [
    "Start Date", "End Date", "Response Type", "Progress", "Duration (in seconds)", "Finished",
    "Recorded Date", "Response ID", "User Language",
    "Kuinka todennäköisesti suosittelisit Valopolkua ystävällesi tai kollegallesi? (0–10)",
    "Mikä on tärkein syy antamaasi arvosanaan?",
    "Mitä voisimme tehdä paremmin?",
    "Asiakkuus", "Alue", "Kanava",
]
TZ = ',"timeZone":"Europe/Helsinki"'
QUALTRICS_IMPORT_IDS = [
    '{"ImportId":"startDate"' + TZ + "}",
    '{"ImportId":"endDate"' + TZ + "}",
    '{"ImportId":"status"}',
    '{"ImportId":"progress"}',
    '{"ImportId":"duration"}',
    '{"ImportId":"finished"}',
    '{"ImportId":"recordedDate"' + TZ + "}",
    '{"ImportId":"_recordId"}',
    '{"ImportId":"userLanguage"}',
    '{"ImportId":"QID1"}',
    '{"ImportId":"QID2_TEXT"}',
    '{"ImportId":"QID3_TEXT"}',
    '{"ImportId":"Asiakkuus"}',
    '{"ImportId":"Alue"}',
    '{"ImportId":"Kanava"}',
]
FI_PRODUCTS = {"L": "Laajakaista", "M": "Mobiili", "S": "Sähkö"}
FI_CHANNELS = {"v": "verkkokauppa", "m": "myymälä", "p": "puhelin"}
FI_REGIONS = {
    "Uusimaa": 34, "Pirkanmaa": 12, "Varsinais-Suomi": 10, "Pohjois-Pohjanmaa": 7,
    "Keski-Suomi": 5, "Pohjois-Savo": 4, "Päijät-Häme": 4, "Kanta-Häme": 3, "Satakunta": 3,
    "Kymenlaakso": 3, "Etelä-Pohjanmaa": 3, "Pohjanmaa": 3, "Lappi": 3, "Pohjois-Karjala": 2,
    "Etelä-Savo": 2,
}
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def gen_qualtrics(out: Path) -> int:
    rng = random.Random(20260914)
    records = parse_survey(SRC / "fi_nps.txt")
    invite = dt.datetime(2026, 9, 14, 8, 0, 0)
    fmt = "%Y-%m-%d %H:%M:%S"
    used_ids: set[str] = set()
    rows = []
    for r in records:
        start = response_time(rng, invite, reminder_day=7)
        q2, q3 = r["texts"]
        chars = len(q2) + len(q3)
        duration = int(25 + chars * rng.uniform(0.35, 0.9) + rng.expovariate(1 / 20))
        if rng.random() < 0.03:  # left the tab open for a while
            duration += rng.randrange(900, 4000)
        progress = int(r["opts"].get("progress", 100))
        finished = progress == 100
        end = start + dt.timedelta(seconds=duration)
        recorded = end + dt.timedelta(seconds=rng.choice([0, 0, 1]))
        if not finished:
            # Qualtrics closes abandoned sessions a week after the last activity.
            recorded = end + dt.timedelta(days=7)
        while True:
            rid = "R_" + "".join(rng.choice(BASE62) for _ in range(15))
            if rid not in used_ids:
                used_ids.add(rid)
                break
        prod, chan = (r["tags"] + ["*", "*"])[:2]
        product = FI_PRODUCTS[prod] if prod != "*" else weighted(
            rng, {"Laajakaista": 45, "Mobiili": 35, "Sähkö": 20})
        channel = FI_CHANNELS[chan] if chan != "*" else weighted(
            rng, {"verkkokauppa": 45, "myymälä": 25, "puhelin": 30})
        region = r["opts"].get("alue") or weighted(rng, FI_REGIONS)
        rows.append([
            start.strftime(fmt), end.strftime(fmt), "IP Address", str(progress), str(duration),
            "True" if finished else "False", recorded.strftime(fmt), rid,
            r["opts"].get("lang", "FI"), r["score"], q2, q3, product, region, channel,
        ])
    rows.sort(key=lambda row: (row[6], row[7]))
    with open(out, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(QUALTRICS_COLUMNS)
        w.writerow(QUALTRICS_LABELS)
        w.writerow(QUALTRICS_IMPORT_IDS)
        w.writerows(rows)
    return len(rows)


# --------------------------------------------------------------------------------------------
# 2. Webropol-like XLSX (Swedish CSAT)
# --------------------------------------------------------------------------------------------

SV_TOUCHPOINTS = {"K": "Kundtjänst", "L": "Leverans", "F": "Faktura", "B": "Butik", "A": "App"}
SV_REGIONS = {"Nyland": 40, "Österbotten": 30, "Egentliga Finland": 14,
              "Mellersta Österbotten": 8, "Birkaland": 4, "Kymmenedalen": 4}
SV_SCORE_HEADER = "Hur nöjd är du med ditt senaste ärende? (1–5)"


def gen_webropol(out: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    rng = random.Random(20260901)
    records = parse_survey(SRC / "sv_csat.txt")
    first = dt.datetime(2026, 9, 1, 0, 0, 0)
    rows = []
    for r in records:
        # CSAT is sent after each closed case, so answers spread over the whole month.
        when = first + dt.timedelta(days=rng.randrange(30), hours=rng.choice(range(7, 23)),
                                    minutes=rng.randrange(60))
        score_raw = r["score"]
        score: object = score_raw[2:] if score_raw.startswith("s:") else int(score_raw)
        tp = SV_TOUCHPOINTS[r["tags"][0]]
        region = r["opts"].get("region") or weighted(rng, SV_REGIONS)
        rows.append([when, tp, score, r["texts"][0] or None, region])
    rows.sort(key=lambda row: row[0])

    wb = Workbook()
    ws = wb.active
    ws.title = "Svar"
    header = ["Svars-ID", "Datum", "Kontaktpunkt", SV_SCORE_HEADER, "Berätta gärna varför", "Region"]
    ws.append(header)
    for c in ws[1]:
        c.font = Font(bold=True)
    for i, (when, tp, score, text, region) in enumerate(rows, start=1):
        ws.append([i, when, tp, score, text, region])
        ws.cell(row=i + 1, column=2).number_format = "yyyy-mm-dd hh:mm"
        if text and "\n" in text:
            ws.cell(row=i + 1, column=5).alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in zip("ABCDEF", [10, 17, 14, 22, 80, 22]):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"

    info = wb.create_sheet("Info")
    info_rows = [
        ["Enkät", "Kundnöjdhet efter ärende – september 2026 (CSAT)"],
        ["Organisation", "Valopolku Oy"],
        ["Språkversion", "Svenska"],
        ["Svarsperiod", "1.9.2026–30.9.2026"],
        ["Antal svar", len(rows)],
        ["Exporterad", "1.10.2026 kl. 9.00"],
        ["Verktyg", "Webropol (rapportexport, råsvar)"],
        [],
        ["Skala", "1 = Mycket missnöjd, 2 = Missnöjd, 3 = Varken eller, 4 = Nöjd, 5 = Mycket nöjd"],
        ["Anmärkning", "Fiktiva exempeldata skrivna för palaute-projektet. Alla namn och svar är påhittade."],
    ]
    for row in info_rows:
        info.append(row)
    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 90
    wb.properties.creator = "Webropol"
    wb.properties.title = "Kundnöjdhet efter ärende – september 2026"
    wb.properties.created = FIXED_DOC_TIME
    wb.save(out)
    normalize_zip(out, fix_core_modified=True)
    return len(rows)


# --------------------------------------------------------------------------------------------
# 3. SurveyMonkey (English NPS)
# --------------------------------------------------------------------------------------------

SM_HEADER = [
    "Respondent ID", "Collector ID", "Start Date", "End Date",
    "How likely is it that you would recommend Valopolku to a friend or colleague?",
    "What is the main reason for your score?",
    "Which product do you use?",
]
SM_SUBHEADER = ["", "", "", "", "Response", "Open-Ended Response", "Response"]
EN_PRODUCTS = {"B": "Broadband", "M": "Mobile", "E": "Home electricity", "BM": "Broadband and mobile"}


def gen_surveymonkey(out: Path) -> int:
    rng = random.Random(20260915)
    records = parse_survey(SRC / "en_nps.txt")
    invite = dt.datetime(2026, 9, 14, 9, 0, 0)
    collectors = {"431872655": 75, "431872901": 25}  # email invitation / web link
    timed = []
    for r in records:
        start = response_time(rng, invite, reminder_day=7)
        end = start + dt.timedelta(seconds=int(20 + len(r["texts"][0]) * rng.uniform(0.3, 0.8)
                                               + rng.expovariate(1 / 15)))
        prod = r["tags"][0] if r["tags"] and r["tags"][0] != "*" else weighted(
            rng, {"B": 45, "M": 30, "E": 10, "BM": 15})
        timed.append((start, end, weighted(rng, collectors), r["score"], r["texts"][0],
                      EN_PRODUCTS[prod]))
    timed.sort(key=lambda t: t[0])
    fmt = "%m/%d/%Y %I:%M:%S %p"
    rid = 11482930571
    rows = []
    for start, end, coll, score, text, product in timed:
        rid += rng.randrange(2_000, 900_000)  # IDs are global across all SurveyMonkey surveys
        rows.append([str(rid), coll, start.strftime(fmt), end.strftime(fmt), score, text, product])
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SM_HEADER)
        w.writerow(SM_SUBHEADER)
        w.writerows(rows)
    return len(rows)


# --------------------------------------------------------------------------------------------
# 4. Microsoft Teams WebVTT (Finnish interview)
# --------------------------------------------------------------------------------------------

def fmt_ts(seconds: float, sep: str = ".") -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def gen_teams_vtt(out: Path) -> int:
    rng = random.Random(20260922)
    speakers = {"A": "Haastattelija Anna Virtanen", "M": "Matti Korhonen"}
    turns = parse_turns(SRC / "fi_interview.txt", speakers)
    # Teams cue ids: <speaker stream GUID>/<utterance number>-<segment index>
    guids = {name: str(uuid.UUID(int=rng.getrandbits(128), version=4)) for name in speakers.values()}
    t = 3.12
    lines = ["WEBVTT", ""]
    utterance = 12
    cues = 0
    for ti, turn in enumerate(turns):
        if ti > 0:
            t += rng.uniform(0.6, 2.2) + turn["pause"]
        for k, text in enumerate(turn["items"]):
            if k > 0:
                t += rng.uniform(0.05, 0.45)
            dur = max(1.2, len(text) / rng.uniform(8.0, 9.6))
            start, end = t, t + dur
            lines += [f"{guids[turn['speaker']]}/{utterance}-{k}",
                      f"{fmt_ts(start)} --> {fmt_ts(end)}",
                      f"<v {turn['speaker']}>{text}</v>", ""]
            t = end
            cues += 1
        utterance += 1
    out.write_text("\n".join(lines), encoding="utf-8", newline="\n")
    return cues


# --------------------------------------------------------------------------------------------
# 5. Otter.ai DOCX (English interview)
# --------------------------------------------------------------------------------------------

def fmt_otter(seconds: float) -> str:
    s = int(seconds)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def gen_otter_docx(out: Path) -> int:
    import docx
    from docx.shared import Pt, RGBColor

    rng = random.Random(20260923)
    speakers = {"L": "Laura Bennett", "S": "Speaker 2"}
    turns = parse_turns(SRC / "en_interview.txt", speakers)
    d = docx.Document()
    d.core_properties.author = "Otter.ai"
    d.core_properties.title = "Valopolku customer interview – Espoo, participant 07"
    d.core_properties.created = FIXED_DOC_TIME
    d.core_properties.modified = FIXED_DOC_TIME
    d.core_properties.last_modified_by = "Otter.ai"
    d.core_properties.revision = 1
    d.add_paragraph("Valopolku customer interview – Espoo, participant 07", style="Title")
    t = 2.0
    for turn in turns:
        t += turn["pause"]
        head = d.add_paragraph()
        name_run = head.add_run(turn["speaker"])
        name_run.bold = True
        time_run = head.add_run("  " + fmt_otter(t))
        time_run.font.color.rgb = RGBColor(0x80, 0x80, 0x80)
        time_run.font.size = Pt(9)
        for para in turn["items"]:
            d.add_paragraph(para)
        words = sum(len(p.split()) for p in turn["items"])
        t += words / rng.uniform(2.3, 2.8) + rng.uniform(0.4, 1.8)
        d.add_paragraph("")
    d.add_paragraph("Transcribed by https://otter.ai")
    d.save(out)
    normalize_zip(out)
    return len(turns)


# --------------------------------------------------------------------------------------------
# 6. Zoom-style SRT (Swedish interview)
# --------------------------------------------------------------------------------------------

def gen_zoom_srt(out: Path) -> int:
    rng = random.Random(20260924)
    speakers = {"E": "Intervjuare Eva", "L": "Lars Nyström"}
    turns = parse_turns(SRC / "sv_interview.txt", speakers)
    t = 1.25
    blocks = []
    n = 0
    for ti, turn in enumerate(turns):
        if ti > 0:
            t += rng.uniform(0.5, 1.8) + turn["pause"]
        for k, text in enumerate(turn["items"]):
            if k > 0:
                t += rng.uniform(0.1, 0.6)
            dur = max(1.5, len(text) / rng.uniform(12.0, 14.5))
            n += 1
            blocks.append(f"{n}\r\n{fmt_ts(t, ',')} --> {fmt_ts(t + dur, ',')}\r\n"
                          f"{turn['speaker']}: {text}\r\n")
            t += dur
    out.write_text("\r\n".join(blocks), encoding="utf-8", newline="")
    return n


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def normalize_zip(path: Path, fix_core_modified: bool = False) -> None:
    """Rewrite an OOXML zip with fixed entry timestamps (and fixed dcterms:modified)."""
    with zipfile.ZipFile(path) as zin:
        entries = [(i, zin.read(i.filename)) for i in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in entries:
            if fix_core_modified and info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>2026-10-01T09:00:00Z\g<2>", data)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, data)
    path.write_bytes(buf.getvalue())


GENERATORS = [
    ("fi_nps_qualtrics.csv", gen_qualtrics, "responses"),
    ("sv_csat_webropol.xlsx", gen_webropol, "responses"),
    ("en_nps_surveymonkey.csv", gen_surveymonkey, "responses"),
    ("fi_interview_teams.vtt", gen_teams_vtt, "cues"),
    ("en_interview_otter.docx", gen_otter_docx, "speaker blocks"),
    ("sv_interview_zoom.srt", gen_zoom_srt, "cues"),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "data", help="output directory (default: data/)")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temp dir and compare with --out instead of writing")
    args = ap.parse_args()

    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            tmpdir = Path(tmp)
            bad = []
            for name, gen, _ in GENERATORS:
                gen(tmpdir / name)
                if not (args.out / name).exists() or not filecmp.cmp(tmpdir / name, args.out / name,
                                                                     shallow=False):
                    bad.append(name)
            if bad:
                print("out of date: " + ", ".join(bad), file=sys.stderr)
                return 1
            print("sample data up to date")
            return 0

    args.out.mkdir(parents=True, exist_ok=True)
    for name, gen, unit in GENERATORS:
        n = gen(args.out / name)
        print(f"{name}: {n} {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
