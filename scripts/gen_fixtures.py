#!/usr/bin/env python3
"""Generate and verify the palaute test fixtures.

    python3 scripts/gen_fixtures.py            # (re)write tests/fixtures/** and expect.toml
    python3 scripts/gen_fixtures.py --check    # regenerate into a temp dir, fail if any byte differs

Every fixture is written from the literal data in this file (all text is original and
fictional: the company "Valopolku" and its customers do not exist).  After writing, every file
is read back from disk with an independent reference reader (declared encoding, csv module
with the declared delimiter, openpyxl / python-docx / pyarrow) and the numbers in
tests/fixtures/expect.toml (documents, rejects, scores, dates, speakers, turns, ...) are
taken from that read-back, then cross-checked against the intent written next to each fixture.

Requires: openpyxl, python-docx, pyarrow (pip install openpyxl python-docx pyarrow).
XLSX/DOCX are made reproducible by rewriting their zip containers with fixed timestamps and
fixed core properties; the Parquet bytes depend on the pyarrow version (created_by string).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import filecmp
import hashlib
import html
import io
import json
import math
import os
import re
import sys
import tempfile
import tomllib
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures")
FIXED_ZIP_TIME = (2026, 9, 1, 12, 0, 0)
FIXED_DT = dt.datetime(2026, 9, 1, 12, 0, 0)

# ---------------------------------------------------------------------------------------------
# helpers for writing delimited text
# ---------------------------------------------------------------------------------------------


def q(field: str, delim: str, always: bool = False) -> str:
    """RFC 4180 quoting: quote if needed (or always), double embedded quotes."""
    need = always or any(c in field for c in (delim, '"', "\r", "\n"))
    if need:
        return '"' + field.replace('"', '""') + '"'
    return field


def row(fields, delim=",", always=False) -> str:
    return delim.join(q(f, delim, always) for f in fields)


def write_bytes(out, rel, data: bytes):
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def normalize_zip(path: str):
    """Rewrite an OOXML zip with fixed timestamps/attributes and fixed core properties."""
    with zipfile.ZipFile(path) as zin:
        entries = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            if name == "docProps/core.xml":
                text = data.decode("utf-8")
                stamp = "2026-09-01T12:00:00Z"
                text = re.sub(r"(<dcterms:created[^>]*>)[^<]*(</dcterms:created>)", r"\g<1>" + stamp + r"\g<2>", text)
                text = re.sub(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", r"\g<1>" + stamp + r"\g<2>", text)
                data = text.encode("utf-8")
            zi = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 0
            zi.external_attr = 0
            zout.writestr(zi, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


# ---------------------------------------------------------------------------------------------
# SURVEY FIXTURES
# Each generator writes the file and returns the "spec" (how a reader must be configured or
# what it must detect) plus the "intent" (what the author meant; used only as a cross-check).
# ---------------------------------------------------------------------------------------------

SURVEYS = []  # list of dicts, filled by the gen_* functions below


def survey(spec, intent):
    SURVEYS.append({"spec": spec, "intent": intent})


def gen_utf8_comma_multiline(out):
    header = ["response_id", "submitted_at", "nps", "comment", "store"]
    rows = [
        ["R001", "2026-09-01T08:12:44Z", "9", "Staff at the Tampere store knew exactly which dimmer fits an old switch box.", "Tampere"],
        ["R002", "2026-09-01T09:40:03Z", "6", "Two things:\r\n1) the delivery slot moved twice\r\n2) nobody told me why", "web"],
        ["R003", "2026-09-02T17:05:51Z", "10", 'I set up the "Evening calm" scene in two minutes, no manual needed.', "app"],
        ["R004", "2026-09-03T11:30:00Z", "3", "Ordered a ceiling lamp.\nArrived with a cracked shade.\nReplacement took 3 weeks.", "web"],
        ["R005", "2026-09-14T07:58:19Z", "8", 'He said "it will be there Friday" and it was. Simple as that.', "Oulu"],
        ["R006", "2026-09-15T20:11:42Z", "7", 'Good prices, but the web shop search is weak:\nsearching "E27 warm" shows garden lights first.', "web"],
        ["R007", "2026-09-16T13:45:10Z", "10", "Installer was on time, covered the floor, and explained the app.", "Helsinki"],
        ["R008", "2026-09-18T15:02:37Z", "5", "Customer service chat closes at 16:00 — too early for anyone who works.", "app"],
    ]
    text = "\r\n".join(row(r) for r in [header] + rows) + "\r\n"
    write_bytes(out, "survey/utf8_comma_multiline.csv", text.encode("utf-8"))
    survey(
        dict(path="survey/utf8_comma_multiline.csv", format="csv", encoding="utf-8", bom=False, newline="crlf",
             delimiter=",", header_rows=1, id_column="response_id", text_columns=["comment"],
             score_column="nps", score_kind="nps", date_column="submitted_at", date_format="%Y-%m-%dT%H:%M:%SZ",
             metadata_columns=["store"],
             must_contain=['I set up the "Evening calm" scene', "Replacement took 3 weeks.",
                           'searching "E27 warm" shows garden lights first.', "16:00 — too early"],
             score_ids=["R001", "R003", "R004"], date_ids=["R005"], multiline_probe=True,
             crlf_rows_only=True),
        dict(records=8, documents=8, rejects=[], multiline_ids=["R002", "R004", "R006"]),
    )


def gen_utf8_bom_semicolon(out):
    header = ["Vastaaja", "Pvm", "Arvosana", "Avoin palaute", "Toimipiste"]
    rows = [
        ["1001", "2.9.2026", "4,5", "Myyjä jaksoi etsiä oikean sävyisen lampun, vaikka kauppa oli täynnä.", "Tampere"],
        ["1002", "3.9.2026", "3", "Tilaus tuli perille, mutta asennusohje oli vain ruotsiksi ja englanniksi.", "Verkkokauppa"],
        ["1003", "14.9.2026", "5", "Nopea nouto; paketti odotti valmiina kassalla.", "Oulu"],
        ["1004", "15.9.2026", "2,5", "Sovellus kirjasi minut ulos aina, kun vaihdoin puhelimen kieltä.", "Sovellus"],
        ["1005", "16.9.2026", "4", "Hyvä valikoima himmentimiä, hinnat hieman yläkanttiin.", "Helsinki Kamppi"],
        ["1006", "21.9.2026", "1,5", "Palautus kesti kolme viikkoa; rahat tulivat vasta muistutuksen jälkeen.", "Turku"],
        ["1007", "22.9.2026", "5", "Asentaja siivosi jälkensä ja neuvoi, miten ajastukset tehdään.", "Tampere"],
        ["1008", "30.9.2026", "3,5", "Kassajono oli pitkä lauantaina, muuten kaikki meni hyvin.", "Helsinki Kamppi"],
    ]
    text = "\r\n".join(row(r, ";") for r in [header] + rows) + "\r\n"
    write_bytes(out, "survey/utf8_bom_semicolon.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    survey(
        dict(path="survey/utf8_bom_semicolon.csv", format="csv", encoding="utf-8", bom=True, newline="crlf",
             delimiter=";", header_rows=1, id_column="Vastaaja", text_columns=["Avoin palaute"],
             score_column="Arvosana", score_kind="csat", date_column="Pvm", date_format="%d.%m.%Y",
             metadata_columns=["Toimipiste"],
             must_contain=["Myyjä jaksoi etsiä oikean sävyisen lampun", "Nopea nouto; paketti odotti valmiina kassalla.",
                           "rahat tulivat vasta muistutuksen jälkeen"],
             score_ids=["1001", "1002", "1004", "1006"], date_ids=["1003", "1008"]),
        dict(records=8, documents=8, rejects=[]),
    )


def gen_excel_unicode_text(out):
    header = ["Id", "Datum", "Betyg (0-10)", "Kommentar", "Butik"]
    rows = [
        ["S-201", "2026-09-02", "9", "Personalen i Vasa hjälpte mig att välja rätt färgtemperatur till köket.", "Vasa"],
        ["S-202", "2026-09-02", "4", "Lampan blinkar när dimmern står på lägsta läget. Ingen har svarat på mitt mejl.", "Åbo"],
        ["S-203", "2026-09-05", "10", "Snabb leverans och snyggt förpackat, tack 👍", "Webbutik"],
        ["S-204", "2026-09-08", "7", 'Säljaren sa "det löser sig" och det gjorde det, men det tog tid.', "Helsingfors"],
        ["S-205", "2026-09-11", "8", "Appen är smidig men översättningen till svenska är halvfärdig.", "Jakobstad"],
        ["S-206", "2026-09-13", "2", "Fel sockel på två av tre glödlampor. Återbetalningen dröjer fortfarande.", "Åbo"],
        ["S-207", "2026-09-19", "6", "Bra öppettider, men trångt vid kassan på fredagar.", "Vasa"],
    ]
    text = "\r\n".join(row(r, "\t") for r in [header] + rows) + "\r\n"
    write_bytes(out, "survey/excel_unicode_text_utf16le.txt", b"\xff\xfe" + text.encode("utf-16-le"))
    survey(
        dict(path="survey/excel_unicode_text_utf16le.txt", format="csv", encoding="utf-16le", bom=True, newline="crlf",
             delimiter="\t", header_rows=1, id_column="Id", text_columns=["Kommentar"],
             score_column="Betyg (0-10)", score_kind="nps", date_column="Datum", date_format="%Y-%m-%d",
             metadata_columns=["Butik"],
             must_contain=["rätt färgtemperatur till köket", "tack 👍", 'Säljaren sa "det löser sig"',
                           "Återbetalningen dröjer fortfarande."],
             score_ids=["S-201", "S-203", "S-206"], date_ids=["S-206"]),
        dict(records=7, documents=7, rejects=[]),
    )


def gen_utf16be(out):
    header = ["id", "date", "nps", "feedback", "region"]
    rows = [
        ["E-01", "2026-09-03", "8", "Delivery to Jyväskylä took only one day, which I did not expect.", "Central Finland"],
        ["E-02", "2026-09-04", "3", "The lamp I ordered — model Kuu 40 — looked nothing like the photo.", "Uusimaa"],
        ["E-03", "2026-09-06", "9", "Loved the café-style pendant; the shop assistant in Espoo found the last one.", "Uusimaa"],
        ["E-04", "2026-09-09", "6", "App works, but the Swedish and Finnish menus mix on the same screen.", "Ostrobothnia"],
        ["E-05", "2026-09-12", "10", "Return was collected from my door in Hämeenlinna. No questions asked.", "Kanta-Häme"],
        ["E-06", "2026-09-20", "7", "Fair prices. Opening hours at Seinäjoki are too short on Saturdays.", "South Ostrobothnia"],
    ]
    text = "\n".join(row(r, "\t") for r in [header] + rows) + "\n"
    write_bytes(out, "survey/utf16be_bom.tsv", b"\xfe\xff" + text.encode("utf-16-be"))
    survey(
        dict(path="survey/utf16be_bom.tsv", format="csv", encoding="utf-16be", bom=True, newline="lf",
             delimiter="\t", header_rows=1, id_column="id", text_columns=["feedback"],
             score_column="nps", score_kind="nps", date_column="date", date_format="%Y-%m-%d",
             metadata_columns=["region"],
             must_contain=["Delivery to Jyväskylä took only one day", "model Kuu 40 — looked nothing like",
                           "café-style pendant", "from my door in Hämeenlinna"],
             score_ids=["E-02", "E-05"], date_ids=["E-06"]),
        dict(records=6, documents=6, rejects=[]),
    )


def gen_cp1252(out):
    header = ["Vastaaja", "Pvm", "Arvosana", "Avoin palaute", "Toimipiste"]
    rows = [
        ["R1", "01.09.2026", "9", "Hyvä palvelu mutta jonottaa piti 20 min, muuten kaikki sujui.", "Jyväskylä"],
        ["R2", "02.09.2026", "3", "Sama lamppu maksoi verkossa 49 € ja myymälässä 59 € – miksi näin?", "Pori"],
        ["R3", "04.09.2026", "10", "Myyjä (Åström) tiesi heti, mikä polttimo sopii vanhaan kattokruunuun.", "Hämeenlinna"],
        ["R4", "07.09.2026", "5", "Öljylamppujen varaosia ei enää löydy valikoimasta, harmi.", "Seinäjoki"],
        ["R5", "09.09.2026", "10", "Äitini sai asennuksen samana päivänä. Kiitos ystävällisestä palvelusta!", "Mikkeli"],
        ["R6", "15.09.2026", "4", "Toimituskulut 12,90 € tuntuivat kovilta pienelle tilaukselle.", "Pori"],
        ["R7", "17.09.2026", "2", "“Ilmainen nouto” mainostettiin, mutta siitä veloitettiin silti 2 €.", "Jyväskylä"],
        ["R8", "23.09.2026", "6", "Kassalla oli vain yksi henkilö… jono ulottui ovelle asti.", "Mikkeli"],
        ["R9", "28.09.2026", "8", "Ääni- ja valo-ohjaus samassa sovelluksessa on kätevä. Öisin himmennys toimii hyvin.", "Hämeenlinna"],
    ]
    text = "\r\n".join(row(r, ";") for r in [header] + rows) + "\r\n"
    write_bytes(out, "survey/cp1252_legacy_fi.csv", text.encode("cp1252"))  # strict: fails if not encodable
    survey(
        dict(path="survey/cp1252_legacy_fi.csv", format="csv", encoding="windows-1252", bom=False, newline="crlf",
             delimiter=";", header_rows=1, id_column="Vastaaja", text_columns=["Avoin palaute"],
             score_column="Arvosana", score_kind="nps", date_column="Pvm", date_format="%d.%m.%Y",
             metadata_columns=["Toimipiste"],
             must_contain=["Hyvä palvelu mutta jonottaa piti 20 min", "€", "49 € ja myymälässä 59 € – miksi näin?",
                           "Myyjä (Åström) tiesi heti", "Öljylamppujen varaosia", "Äitini sai asennuksen",
                           "“Ilmainen nouto”", "yksi henkilö… jono"],
             score_ids=["R1", "R4", "R7"], date_ids=["R6"], wrong_decodings=["utf-8", "latin-1"]),
        dict(records=9, documents=9, rejects=[]),
    )


def gen_pipe(out):
    header = ["id", "date", "nps", "comment", "channel"]
    rows = [
        ["P-1", "2026-09-03", "8", "Hyvä, nopea ja ystävällinen palvelu; suosittelen.", "myymälä"],
        ["P-2", "2026-09-03", "5", "Delivery was fine, the invoice was not: VAT missing, wrong address.", "verkko"],
        ["P-3", "2026-09-05", "9", "Snabbt svar i chatten, kunnig personal, bra råd om dimrar.", "chat"],
        ["P-4", "2026-09-10", "2", "Tilasin 3 kpl, sain 2 kpl; puuttuvaa ei ole vieläkään lähetetty.", "verkko"],
        ["P-5", "2026-09-12", "7", "Sovellus ok. Päivityksen jälkeen kaikki ajastukset, myös herätysvalo, katosivat.", "sovellus"],
        ["P-6", "2026-09-17", "10", "Asennus, siivous ja opastus: kaikki kerralla kuntoon.", "asennus"],
    ]
    text = "\n".join("|".join(r) for r in [header] + rows) + "\n"
    write_bytes(out, "survey/pipe_delimited.csv", text.encode("utf-8"))
    survey(
        dict(path="survey/pipe_delimited.csv", format="csv", encoding="utf-8", bom=False, newline="lf",
             delimiter="|", header_rows=1, id_column="id", text_columns=["comment"],
             score_column="nps", score_kind="nps", date_column="date", date_format="%Y-%m-%d",
             metadata_columns=["channel"],
             must_contain=["Hyvä, nopea ja ystävällinen palvelu; suosittelen.", "Tilasin 3 kpl, sain 2 kpl; puuttuvaa",
                           "bra råd om dimrar", "Asennus, siivous ja opastus: kaikki kerralla kuntoon."],
             score_ids=["P-2", "P-6"], date_ids=["P-5"]),
        dict(records=6, documents=6, rejects=[]),
    )


QUALTRICS_Q2 = "Mikä on tärkein syy antamaasi arvosanaan?"
QUALTRICS_Q3 = "Mitä voisimme tehdä paremmin?"


def gen_qualtrics(out):
    ids = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
           "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
           "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel", "UserLanguage",
           "Q1", "Q2", "Q3_TEXT", "Q4"]
    labels = ["Start Date", "End Date", "Response Type", "IP Address", "Progress", "Duration (in seconds)",
              "Finished", "Recorded Date", "Response ID", "Recipient Last Name", "Recipient First Name",
              "Recipient Email", "External Data Reference", "Location Latitude", "Location Longitude",
              "Distribution Channel", "User Language",
              "Kuinka todennäköisesti suosittelisit Valopolkua ystävällesi tai kollegallesi?",
              QUALTRICS_Q2, QUALTRICS_Q3, "Missä toimipisteessä asioit viimeksi?"]
    tz = ',"timeZone":"Europe/Helsinki"'
    import_ids = ['{"ImportId":"startDate"' + tz + '}', '{"ImportId":"endDate"' + tz + '}', '{"ImportId":"status"}',
                  '{"ImportId":"ipAddress"}', '{"ImportId":"progress"}', '{"ImportId":"duration"}',
                  '{"ImportId":"finished"}', '{"ImportId":"recordedDate"' + tz + '}', '{"ImportId":"_recordId"}',
                  '{"ImportId":"recipientLastName"}', '{"ImportId":"recipientFirstName"}',
                  '{"ImportId":"recipientEmail"}', '{"ImportId":"externalDataReference"}',
                  '{"ImportId":"locationLatitude"}', '{"ImportId":"locationLongitude"}',
                  '{"ImportId":"distributionChannel"}', '{"ImportId":"userLanguage"}',
                  '{"ImportId":"QID1"}', '{"ImportId":"QID2_TEXT"}', '{"ImportId":"QID3_TEXT"}', '{"ImportId":"QID4"}']

    def resp(start, end, dur, rid, q1, q2, q3, q4, progress="100", finished="True"):
        return [start, end, "IP Address", "", progress, dur, finished, end, rid, "", "", "", "", "", "",
                "anonymous", "FI", q1, q2, q3, q4]

    data = [
        resp("2026-09-01 08:12:03", "2026-09-01 08:15:32", "209", "R_2aXk9LmQp4TzW1b", "9",
             "Asentaja tuli sovittuna aamuna ja kertoi koko ajan, mitä oli tekemässä.",
             "Tekstiviesti asentajan saapumisesta olisi kätevä.", "Tampere"),
        resp("2026-09-02 19:40:11", "2026-09-02 19:44:57", "286", "R_3bYl0MnRq5UaX2c", "4",
             "Tilaamani valaisin oli loppu, vaikka verkkokauppa näytti sitä olevan varastossa.",
             "Pitäkää varastosaldot ajan tasalla.", "Verkkokauppa"),
        resp("2026-09-05 12:01:45", "2026-09-05 12:03:10", "85", "R_1cZm1NoSr6VbY3d", "10",
             "Myymälän valaistussuunnittelu oli maksutonta ja todella hyödyllistä.", "", "Helsinki Kamppi"),
        resp("2026-09-08 21:15:00", "2026-09-08 21:15:41", "41", "R_4dAn2OpTs7WcZ4e", "7", "", "", "",
             progress="40", finished="False"),
        resp("2026-09-11 10:22:37", "2026-09-11 10:27:02", "265", "R_5eBo3PqUt8XdA5f", "6",
             "Hinnat ovat kohdallaan, mutta palautusprosessi on kankea.",
             "Palautuslomake sovellukseen, kiitos.", "Oulu"),
        resp("2026-09-14 07:48:19", "2026-09-14 07:52:44", "265", "R_6fCp4QrVu9YeB6g", "8",
             "Sovellus on selkeä; öisin ajastus unohtuu välillä.",
             "Korjatkaa ajastuksen vika ennen pimeää vuodenaikaa.", "Turku"),
        resp("2026-09-20 16:30:50", "2026-09-20 16:36:05", "315", "R_7gDq5RsWv0ZfC7h", "0",
             "Kukaan ei vastannut reklamaatiooni kuukauteen.",
             "Lähettäkää edes automaattinen kuittaus, että viesti on tullut perille.", "Jyväskylä"),
    ]
    text = "\r\n".join(row(r, ",", always=True) for r in [ids, labels, import_ids] + data) + "\r\n"
    write_bytes(out, "survey/qualtrics_two_questions.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    survey(
        dict(path="survey/qualtrics_two_questions.csv", format="csv", encoding="utf-8", bom=True, newline="crlf",
             delimiter=",", header_rows=3, id_column="ResponseId", text_columns=["Q2", "Q3_TEXT"],
             score_column="Q1", score_kind="nps", date_column="RecordedDate", date_format="%Y-%m-%d %H:%M:%S",
             metadata_columns=["Q4"],
             question_texts={"Q2": QUALTRICS_Q2, "Q3_TEXT": QUALTRICS_Q3},
             must_contain=["Asentaja tuli sovittuna aamuna", "Myymälän valaistussuunnittelu oli maksutonta",
                           "öisin ajastus unohtuu välillä", "Lähettäkää edes automaattinen kuittaus"],
             score_ids=["R_2aXk9LmQp4TzW1b", "R_7gDq5RsWv0ZfC7h"], date_ids=["R_6fCp4QrVu9YeB6g"],
             docs_per_id_ids=["R_2aXk9LmQp4TzW1b", "R_1cZm1NoSr6VbY3d"]),
        dict(records=7, documents=11, rejects=[(7, "empty text")]),
    )


SM_NPS = "How likely is it that you would recommend Valopolku to a friend or colleague?"
SM_Q_REASON = "What is the main reason for your score?"
SM_Q_ELSE = "Is there anything else you would like to tell us?"


def gen_surveymonkey(out):
    h1 = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address", "First Name",
          "Last Name", "Custom Data 1", SM_NPS, "Which channels did you use in the last month?", "", "",
          SM_Q_REASON, SM_Q_ELSE]
    h2 = ["", "", "", "", "", "", "", "", "", "Response", "App", "Web shop", "Store",
          "Open-Ended Response", "Open-Ended Response"]

    def r(rid, start, end, store, nps, app, web, shop, reason, other):
        return [rid, "431209877", start, end, "", "", "", "", store, nps, app, web, shop, reason, other]

    data = [
        r("118243790512", "09/01/2026 08:02:11 AM", "09/01/2026 08:06:40 AM", "Tampere", "9", "App", "", "Store",
          "The app's holiday mode makes the house look lived-in while we're at the cottage.",
          "Please add a widget for the home screen."),
        r("118243795530", "09/03/2026 06:45:02 PM", "09/03/2026 06:49:13 PM", "Helsinki", "3", "", "Web shop", "",
          "Paid for express delivery, got it in five days.", "I'd like the extra fee refunded, not a voucher."),
        r("118243801774", "09/14/2026 10:02:11 AM", "09/14/2026 10:05:58 AM", "Turku", "10", "App", "Web shop", "",
          "Myyjä soitti seuraavana päivänä ja varmisti, että valaisin toimii.", ""),
        r("118243809021", "09/15/2026 01:17:45 PM", "09/15/2026 01:22:30 PM", "Vaasa", "7", "", "", "Store",
          "Bra service i butiken, men parkeringen är ett elände.", "Öppna gärna en timme tidigare på lördagar."),
        r("118243812208", "09/21/2026 09:30:00 AM", "09/21/2026 09:33:12 AM", "Oulu", "8", "App", "", "",
          "Setup was easy, though the Finnish and English labels are mixed in the settings menu.",
          "Keep the paper manual, some of us still like it."),
        r("118243819945", "09/28/2026 07:55:31 PM", "09/28/2026 08:01:09 PM", "Tampere", "5", "", "Web shop", "Store",
          "The lamp is beautiful, but the dimmer hums at low brightness.",
          "Ehkä testaisitte himmentimet yhdessä lamppujen kanssa ennen myyntiä."),
    ]
    text = "\r\n".join(row(x, ",") for x in [h1, h2] + data) + "\r\n"
    write_bytes(out, "survey/surveymonkey_two_row_header.csv", text.encode("utf-8"))
    survey(
        dict(path="survey/surveymonkey_two_row_header.csv", format="csv", encoding="utf-8", bom=False,
             newline="crlf", delimiter=",", header_rows=2, id_column="Respondent ID",
             text_columns=[SM_Q_REASON, SM_Q_ELSE], score_column=SM_NPS, score_kind="nps",
             date_column="End Date", date_format="%m/%d/%Y %I:%M:%S %p", metadata_columns=["Custom Data 1"],
             must_contain=["holiday mode makes the house look lived-in", "Myyjä soitti seuraavana päivänä",
                           "parkeringen är ett elände", "Öppna gärna en timme tidigare", "I'd like the extra fee refunded"],
             score_ids=["118243790512", "118243795530", "118243812208"],
             date_ids=["118243801774", "118243819945"],
             docs_per_id_ids=["118243790512", "118243801774"]),
        dict(records=6, documents=11, rejects=[]),
    )


def gen_malformed(out):
    lines = [
        "id,date,nps,comment,store",                                                         # 1
        "M-001,2026-09-01,9,Nopea toimitus ja selkeä seuranta.,Tampere",                     # 2 ok
        'M-002,2026-09-01,7,"Ok, mutta paketti oli märkä.",Oulu',                             # 3 ok
        "M-003,2026-09-02,kymmenen,Paras lamppukauppa ikinä!,Turku",                         # 4 non-numeric score (kept, score null)
        "M-004,2026-09-02,8,Myyjä osasi neuvoa himmentimen kanssa.,Tampere",                 # 5 ok
        "M-005,2026-09-03,5,,Helsinki",                                                      # 6 empty text
        "M-006,2026-09-03,6,Verkkokaupan kassa jumittui kahdesti.,Helsinki",                 # 7 ok
        "M-007,2026-09-04,4,Hinta ok, laatu ei.,Turku",                                      # 8 6 fields
        "M-008,2026-09-05,10,Asentaja oli täsmällinen ja siisti.,Oulu",                      # 9 ok
        'M-009,2026-09-05,9,"Sovellus toimii, ajastus on loistava.",Tampere',                 # 10 ok
        'M-010,2026-09-06,3,"Tuote palautettiin, rahat tulevat kai joskus,Turku',            # 11 unbalanced quote
    ]
    write_bytes(out, "survey/malformed_rows.csv", ("\n".join(lines) + "\n").encode("utf-8"))
    survey(
        dict(path="survey/malformed_rows.csv", format="csv", encoding="utf-8", bom=False, newline="lf",
             delimiter=",", header_rows=1, id_column="id", text_columns=["comment"], score_column="nps",
             score_kind="nps", date_column="date", date_format="%Y-%m-%d", metadata_columns=["store"],
             must_contain=["Nopea toimitus ja selkeä seuranta.", "Ok, mutta paketti oli märkä.",
                           "Asentaja oli täsmällinen ja siisti.", "Paras lamppukauppa ikinä!"],
             must_not_contain=["kymmenen", "Hinta ok", "Tuote palautettiin"],
             score_ids=["M-001", "M-009"], date_ids=["M-008"]),
        dict(records=10, documents=7, rejects=[(4, "non-numeric score", "field"), (6, "empty text", "row"),
                                                (8, "wrong number of fields", "row"),
                                                (11, "unbalanced quote", "row")]),
    )


def gen_duplicate_ids(out):
    header = ["respondent_id", "date", "nps", "comment", "channel"]
    rows = [
        ["D-01", "2026-09-02", "8", "Beställningen kom fram på två dagar, bra förpackning.", "web"],
        ["D-02", "2026-09-02", "6", "Myymälässä oli hyvä tunnelma, mutta kassoja auki vain yksi.", "store"],
        ["D-03", "2026-09-03", "4", "Tilasin väärän kokoisen varjostimen, koska mitat puuttuivat tuotesivulta.", "web"],
        ["D-04", "2026-09-03", "9", "Chat answered within a minute and the advice was spot on.", "chat"],
        ["D-03", "2026-09-04", "7", "Lisäys eiliseen: vaihto onnistui myymälässä ilman kuittia, kiitos.", "store"],
        ["D-05", "2026-09-06", "10", "Appen sköter nu all belysning hemma, även utomhus.", "app"],
    ]
    text = "\n".join(row(r) for r in [header] + rows) + "\n"
    write_bytes(out, "survey/duplicate_ids.csv", text.encode("utf-8"))
    survey(
        dict(path="survey/duplicate_ids.csv", format="csv", encoding="utf-8", bom=False, newline="lf",
             delimiter=",", header_rows=1, id_column="respondent_id", text_columns=["comment"],
             score_column="nps", score_kind="nps", date_column="date", date_format="%Y-%m-%d",
             metadata_columns=["channel"],
             must_contain=["mitat puuttuivat tuotesivulta", "Lisäys eiliseen: vaihto onnistui myymälässä",
                           "Beställningen kom fram på två dagar"],
             score_ids=["D-01", "D-05"], date_ids=["D-05"]),
        dict(records=6, documents=6, rejects=[], duplicate_ids=["D-03"]),
    )


def gen_scores_mixed(out):
    # written by hand so that the odd score spellings stay exactly as they would come out of a
    # hand-edited spreadsheet: "8,0" needs quotes (comma delimiter), " 9 " keeps its spaces.
    lines = [
        "id,date,NPS,CSAT,comment",
        "X-01,2026-09-01,10,5,Paras kokemus tänä vuonna: nouto valmiina viidessä minuutissa.",
        'X-02,2026-09-01,7.0,4,"Helpot ohjeet, mutta ruuvit puuttuivat paketista."',
        'X-03,2026-09-02,"8,0",4,Snabb leverans till Mariehamn.',
        "X-04,2026-09-03, 9 ,5,Asiakaspalvelu soitti takaisin luvatusti.",
        "X-05,2026-09-04,11,3,Would give eleven if I could. The installer was great.",
        "X-06,2026-09-05,0,1,Lamppu hajosi viikossa eikä takuuta hyväksytty.",
        'X-07,2026-09-07,6,2,"Sovellus on hidas käynnistyä, mutta toimii lopulta."',
    ]
    write_bytes(out, "survey/scores_mixed.csv", ("\n".join(lines) + "\n").encode("utf-8"))
    survey(
        dict(path="survey/scores_mixed.csv", format="csv", encoding="utf-8", bom=False, newline="lf",
             delimiter=",", header_rows=1, id_column="id", text_columns=["comment"], score_column="NPS",
             score_kind="nps", csat_column="CSAT", date_column="date", date_format="%Y-%m-%d",
             metadata_columns=[],
             must_contain=["nouto valmiina viidessä minuutissa", "Snabb leverans till Mariehamn.",
                           "eikä takuuta hyväksytty", "Would give eleven"],
             must_not_contain=[],
             score_ids=["X-01", "X-02", "X-03", "X-04", "X-06", "X-07"], csat_ids=["X-01", "X-03", "X-06"],
             date_ids=["X-07"]),
        dict(records=7, documents=7, rejects=[(6, "score out of range", "field")]),
    )


def gen_not_really(out):
    # PNG signature + a plausible IHDR chunk, then deterministic pseudo-random bytes (SHA-256 in
    # counter mode, seed "valopolku-fixture-seed-1") so the file is identical on every platform.
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00\x00\x00\x40\x00\x00\x00\x40\x08\x06\x00\x00\x00"
    png += b"\xaaid\xe7"  # CRC placeholder (not validated by anyone)
    stream = b""
    counter = 0
    while len(png) + len(stream) < 2048:
        stream += hashlib.sha256(b"valopolku-fixture-seed-1" + counter.to_bytes(4, "big")).digest()
        counter += 1
    data = (png + stream)[:2048]
    write_bytes(out, "survey/not_really_a.csv", data)
    survey(dict(path="survey/not_really_a.csv", kind="reject_whole", reason="binary file"), {})


def gen_empty_and_header_only(out):
    write_bytes(out, "survey/empty.csv", b"")
    survey(dict(path="survey/empty.csv", kind="reject_whole", reason="empty file"), {})
    write_bytes(out, "survey/header_only.csv", b"id,date,nps,comment,store\n")
    survey(dict(path="survey/header_only.csv", kind="reject_whole", reason="no data rows"), {})


XLSX_FI_HEADER = ["Vastaaja", "Pvm", "NPS", "Avoin palaute", "Toimipiste"]
XLSX_FI = [
    ["FI-1001", dt.date(2026, 9, 1), 9, "Valaistussuunnittelija kävi kotona ja teki selkeän ehdotuksen.", "Tampere"],
    ["FI-1002", dt.date(2026, 9, 2), 6, "Hyvät tuotteet, mutta toimitusajat vaihtelevat liikaa.", "Verkkokauppa"],
    ["FI-1003", dt.date(2026, 9, 4), 10, "Löysin vihdoin himmentimen, joka ei surise.", "Oulu"],
    ["FI-1004", dt.date(2026, 9, 7), 3, "Sovelluksen kirjautuminen vaatii koodin joka kerta, ärsyttävää.", "Sovellus"],
    ["FI-1005", dt.date(2026, 9, 9), 8, None, "Turku"],
    ["FI-1006", dt.date(2026, 9, 13), 7, "Myymälässä oli pitkä jono, mutta myyjä ehti silti neuvoa hyvin.", "Helsinki Kamppi"],
    ["FI-1007", dt.date(2026, 9, 18), 9, "Pakkaus oli kierrätettävää pahvia, hyvä niin.", "Verkkokauppa"],
    ["FI-1008", dt.date(2026, 9, 25), 5, "Takuuasia hoitui, mutta vasta kolmannella yhteydenotolla.", "Jyväskylä"],
]
XLSX_SV_HEADER = ["Id", "Datum", "Betyg", "Kommentar", "Butik"]
XLSX_SV = [
    ["SE-2001", dt.date(2026, 9, 3), 8, "Trevligt bemötande i butiken i Vasa, bra råd om ljusstyrka.", "Vasa"],
    ["SE-2002", dt.date(2026, 9, 6), 4, "Paketet lämnades utanför dörren i regnet.", "Webbutik"],
    ["SE-2003", dt.date(2026, 9, 12), 10, "Montören förklarade allt på svenska, det uppskattade jag.", "Jakobstad"],
    ["SE-2004", dt.date(2026, 9, 19), 6, "Appen fungerar, men aviseringarna kommer på finska.", "App"],
    ["SE-2005", dt.date(2026, 9, 27), 9, "Smidig retur och pengarna tillbaka inom tre dagar.", "Åbo"],
]


def gen_xlsx(out):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Vastaukset"
    ws.append(XLSX_FI_HEADER)
    for r in XLSX_FI:
        ws.append(r)
    for cell in ws["B"][1:]:
        cell.number_format = "d.m.yyyy"
    ws2 = wb.create_sheet("Muut")
    ws2.append(XLSX_SV_HEADER)
    for r in XLSX_SV:
        ws2.append(r)
    for cell in ws2["B"][1:]:
        cell.number_format = "yyyy-mm-dd"
    wb.properties.creator = "Valopolku"
    wb.properties.lastModifiedBy = "Valopolku"
    wb.properties.created = FIXED_DT
    path = os.path.join(out, "survey/sheets.xlsx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    wb.save(path)
    normalize_zip(path)
    survey(
        dict(path="survey/sheets.xlsx", format="xlsx", sheet="Vastaukset", default_sheet=True, header_rows=1,
             id_column="Vastaaja", text_columns=["Avoin palaute"], score_column="NPS", score_kind="nps",
             date_column="Pvm", metadata_columns=["Toimipiste"],
             must_contain=["Löysin vihdoin himmentimen, joka ei surise.", "vaatii koodin joka kerta, ärsyttävää"],
             must_not_contain=["Montören förklarade allt"],
             score_ids=["FI-1001", "FI-1004"], date_ids=["FI-1006", "FI-1008"]),
        dict(records=8, documents=7, rejects=[(6, "empty text")]),
    )
    survey(
        dict(path="survey/sheets.xlsx", format="xlsx", sheet="Muut", default_sheet=False, header_rows=1,
             id_column="Id", text_columns=["Kommentar"], score_column="Betyg", score_kind="nps",
             date_column="Datum", metadata_columns=["Butik"],
             must_contain=["Montören förklarade allt på svenska", "Smidig retur och pengarna tillbaka"],
             must_not_contain=["Löysin vihdoin himmentimen"],
             score_ids=["SE-2002", "SE-2003"], date_ids=["SE-2003"]),
        dict(records=5, documents=5, rejects=[]),
    )


def gen_jsonl(out):
    def obj(i, score, comment, created, channel, ascii_escape=False):
        return json.dumps({"id": i, "score": score, "comment": comment, "created": created, "channel": channel},
                          ensure_ascii=ascii_escape)

    lines = [
        obj("J-001", 9, "Sovellus muistaa nyt valaistusasetukset myös päivityksen jälkeen.", "2026-09-01", "app"),  # 1
        obj("J-002", 5, "Leveransen kom en dag för sent och kartongen var trasig.", "2026-09-01", "web"),           # 2
        obj("J-003", 10, "Myymälän henkilökunta löysi varaosan, jota ei ollut edes listattu.", "2026-09-02",       # 3
            "store", ascii_escape=True),
        '{"id": "J-004", "score": 7, "comment": "Kassajono oli pitkä, mutta',                                     # 4 truncated
        obj("J-005", 8, "Ordering was quick; the confirmation e-mail arrived twice though.", "2026-09-03", "web"),  # 5
        "",                                                                                                        # 6 blank
        obj("J-006", 6, "Hinta-laatusuhde ok. Kotiinkuljetus maksoi 9,90 €.", "2026-09-05", "web"),                # 7
        obj("J-007", 3, None, "2026-09-06", "app"),                                                               # 8 null
        obj("J-008", 10, "Asennus kesti tunnin, ja kaikki toimi heti.\nSuosittelen lämpimästi!", "2026-09-14",    # 9
            "install"),
        obj("J-009", 7, "Appen är bra men saknar mörkt läge.", "2026-09-20", "app"),                              # 10
    ]
    write_bytes(out, "survey/responses.jsonl", ("\n".join(lines) + "\n").encode("utf-8"))
    survey(
        dict(path="survey/responses.jsonl", format="jsonl", encoding="utf-8", bom=False, newline="lf",
             id_column="id", text_columns=["comment"], score_column="score", score_kind="nps",
             date_column="created", date_format="%Y-%m-%d", metadata_columns=["channel"],
             must_contain=["Myymälän henkilökunta löysi varaosan", "Kotiinkuljetus maksoi 9,90 €.",
                           "Suosittelen lämpimästi!", "Appen är bra men saknar mörkt läge."],
             must_not_contain=["Kassajono oli pitkä"],
             score_ids=["J-001", "J-003", "J-008"], date_ids=["J-008"]),
        dict(records=9, documents=7, rejects=[(4, "invalid json"), (8, "empty text")]),
    )


PARQUET_ROWS = [
    ("PQ-01", 9, "Valopolun sovellus on helppokäyttöinen, ajastukset toimivat moitteetta.", dt.date(2026, 9, 1), "kuluttaja"),
    ("PQ-02", 4, "Tukkutilauksen toimitus myöhästyi kaksi viikkoa ilman ilmoitusta.", dt.date(2026, 9, 2), "yritys"),
    ("PQ-03", 10, "Snabb och kunnig hjälp med belysningen i vår nya butik.", dt.date(2026, 9, 5), "yritys"),
    ("PQ-04", 7, "Good value, but the mounting screws were the wrong length.", dt.date(2026, 9, 9), "kuluttaja"),
    ("PQ-05", 8, "Myyjä kävi läpi energiankulutuksen, säästämme nyt sähkölaskussa.", dt.date(2026, 9, 13), "kuluttaja"),
    ("PQ-06", 2, "Laskussa oli väärä alv-kanta, korjaus vei kuukauden.", dt.date(2026, 9, 16), "yritys"),
    ("PQ-07", 9, "Lättmonterad taklampa, tydliga instruktioner på svenska.", dt.date(2026, 9, 22), "kuluttaja"),
    ("PQ-08", 6, "Delivery fine, packaging excessive: three boxes for one bulb.", dt.date(2026, 9, 29), "kuluttaja"),
]


def gen_parquet(out):
    import pyarrow as pa
    import pyarrow.parquet as pq
    cols = list(zip(*PARQUET_ROWS))
    table = pa.table({
        "respondent_id": pa.array(cols[0], pa.string()),
        "nps": pa.array(cols[1], pa.int64()),
        "feedback": pa.array(cols[2], pa.string()),
        "submitted_at": pa.array(cols[3], pa.date32()),
        "segment": pa.array(cols[4], pa.string()),
    })
    path = os.path.join(out, "survey/responses.parquet")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(table, path, compression="snappy")
    survey(
        dict(path="survey/responses.parquet", format="parquet", id_column="respondent_id",
             text_columns=["feedback"], score_column="nps", score_kind="nps", date_column="submitted_at",
             metadata_columns=["segment"],
             must_contain=["säästämme nyt sähkölaskussa", "tydliga instruktioner på svenska",
                           "Laskussa oli väärä alv-kanta"],
             score_ids=["PQ-02", "PQ-03"], date_ids=["PQ-06"]),
        dict(records=8, documents=8, rejects=[]),
    )


# ---------------------------------------------------------------------------------------------
# TRANSCRIPT FIXTURES
# ---------------------------------------------------------------------------------------------

TRANSCRIPTS = []


def transcript(spec, intent):
    TRANSCRIPTS.append({"spec": spec, "intent": intent})


def gen_teams_vtt(out):
    A, M = "Anna Lehtinen", "Matti Korhonen"
    g = "6c1d2f0a-4b7e-4c2a-9f1e-2a8b3c4d5e6f"
    parts = [
        "WEBVTT",
        "STYLE\n::cue(v[voice=\"Anna Lehtinen\"]) {\n  color: #ffd966;\n}",
        "NOTE\nValopolku asiakashaastattelu 3.9.2026, tallenne 1/1.\nLitterointi on luotu automaattisesti.",
        f"{g}/11-0\n00:00:03.120 --> 00:00:07.480\n<v {A}>Kiitos, että ehdit mukaan. Miten päädyit alun perin Valopolun asiakkaaksi?</v>",
        f"{g}/15-0\n00:00:08.010 --> 00:00:14.950\n<v {M}>Muutimme vanhaan rintamamiestaloon, ja kaikki valaisimet piti vaihtaa.</v>",
        f"{g}/16-0\n00:00:14.950 --> 00:00:21.300\n<v {M}>Naapuri suositteli Koti &amp; Valo -osastoa Tampereen myymälässä,\njoten menin sinne heti ensimmäisenä lauantaina.</v>",
        "NOTE Tässä kohdassa yhteys katkesi hetkeksi.",
        f"{g}/17-0\n00:00:23.400 --> 00:00:29.880\n<v {M}>Myyjä piirsi pohjapiirrokseen, mihin kohdevalot kannattaa sijoittaa.</v>",
        f"{g}/18-0\n00:00:30.500 --> 00:00:33.020\n<v {A}>Mikä siinä käynnissä oli sinulle tärkeintä?</v>",
        f"{g}/19-0\n00:00:33.900 --> 00:00:44.610\n<v {M}>Se, ettei tarvinnut itse tietää mitään lumeneista tai värilämpötiloista. Sain listan, jonka avulla tilasin loput verkosta.</v>",
        f"{g}/20-0\n00:00:45.200 --> 00:00:49.760\n<v {A}>Entä verkkotilaus, miten se sujui?</v>",
        f"{g}/21-0\n00:00:50.300 --> 00:01:02.345\n<v {M}>Tilaus itsessään meni hyvin, mutta toimitusaika venyi kahdesta päivästä yhdeksään.</v>",
        f"{g}/22-0\n00:01:02.345 --> 00:01:08.900\n<v {M}>Soitin asiakaspalveluun &amp; sain vastauksen vasta toisella kerralla.</v>",
        f"{g}/23-0\n00:01:09.500 --> 00:01:13.100\n<v {A}>Jos voisit muuttaa yhden asian, mikä se olisi?</v>",
        f"{g}/24-0\n00:01:13.800 --> 00:01:24.050\n<v {M}>Tekstiviesti, kun paketti on myöhässä. Se riittäisi minulle pitkälle.</v>",
    ]
    write_bytes(out, "transcripts/teams_voice_tags.vtt", ("\n\n".join(parts) + "\n").encode("utf-8"))
    transcript(
        dict(path="transcripts/teams_voice_tags.vtt", format="vtt", encoding="utf-8", newline="lf",
             role_hint="heuristic",
             must_contain=["Naapuri suositteli Koti & Valo -osastoa", "Soitin asiakaspalveluun & sain vastauksen",
                           "joten menin sinne heti ensimmäisenä lauantaina.", "mitään lumeneista tai värilämpötiloista"],
             must_not_contain=["&amp;", "<v ", "</v>", "Litterointi on luotu", "yhteys katkesi", "::cue", "-->"],
             probes=[("Muutimme vanhaan rintamamiestaloon", 2), ("Myyjä piirsi pohjapiirrokseen", 2),
                     ("Soitin asiakaspalveluun & sain", 6)]),
        dict(speakers=[A, M], turns=8, interviewer=A, first_turn_t_start=3.12),
    )


def gen_zoom_vtt(out):
    S, J = "Sofia Berg", "Johan Lindqvist"
    cues = [
        ("00:00:01.500", "00:00:06.200", S, "Hej Johan, tack för att du ställer upp. Hur länge har du handlat hos Valopolku?"),
        ("00:00:06.900", "00:00:13.400", J, "Sedan i våras ungefär. Jag köpte först en golvlampa till vardagsrummet."),
        ("00:00:13.400", "00:00:19.750", J, "Sedan blev det fler, eftersom appen gjorde det enkelt att styra allt på en gång."),
        ("00:00:20.300", "00:00:23.100", S, "Vad fungerar mindre bra i appen?"),
        ("00:00:23.800", "00:00:33.640", J, "Schemat. Om jag ändrar en tid till kl. 06:30 sparas det ibland inte alls."),
        ("00:00:34.200", "00:00:37.900", S, "Har du kontaktat kundtjänst om det?"),
        ("00:00:38.500", "00:00:49.020", J, "Två gånger. Första gången fick jag ett standardsvar, andra gången lovade de en uppdatering i oktober."),
        ("00:00:49.600", "00:00:53.300", S, "Hur skulle du beskriva Valopolku för en vän?"),
        ("00:00:54.000", "00:01:03.480", J, "Bra lampor och trevlig personal, men appen är fortfarande lite av ett lotteri."),
    ]
    parts = ["WEBVTT"] + [f"{i}\n{a} --> {b}\n{who}: {txt}" for i, (a, b, who, txt) in enumerate(cues, 1)]
    write_bytes(out, "transcripts/zoom_name_colon.vtt", ("\n\n".join(parts) + "\n").encode("utf-8"))
    transcript(
        dict(path="transcripts/zoom_name_colon.vtt", format="vtt", encoding="utf-8", newline="lf",
             role_hint="heuristic",
             must_contain=["Om jag ändrar en tid till kl. 06:30 sparas det ibland inte alls.",
                           "appen gjorde det enkelt att styra allt på en gång", "lite av ett lotteri"],
             must_not_contain=["Sofia Berg:", "Johan Lindqvist:"],
             probes=[("eftersom appen gjorde det enkelt", 2), ("kl. 06:30", 4)]),
        dict(speakers=[S, J], turns=8, interviewer=S, first_turn_t_start=1.5),
    )


def gen_srt(out):
    L, O = "Laura Mäkinen", "Oskar Nyström"
    cues = [
        ("00:00:01,000", "00:00:04,200", f"{L}: Thanks for making time today. How do you usually shop for lighting?"),
        ("00:00:04,900", "00:00:10,300", f"{O}: Mostly online. I compare three or four shops before I buy anything."),
        ("00:00:10,300", "00:00:15,800", "and Valopolku tends to win on delivery, not on price."),
        ("00:00:16,400", "00:00:19,000", f"{L}: What made you choose us the last time?"),
        ("00:00:19,700", "00:00:27,250", f"{O}: The live chat. Someone answered in under a minute and actually knew the product."),
        ("00:00:28,000", "00:00:30,900", f"{L}: Was there anything that annoyed you?"),
        ("00:00:31,500", "00:00:39,800", f"{O}: The returns page. I had to print a label myself, and I haven't owned a printer in years."),
        ("00:00:40,400", "00:00:43,000", f"{L}: Would you recommend us to a friend?"),
        ("00:00:43,700", "00:00:51,120", f"{O}: I already did. My sister bought the same pendant lamp for her café in Porvoo."),
    ]
    blocks = [f"{i}\r\n{a} --> {b}\r\n{t}" for i, (a, b, t) in enumerate(cues, 1)]
    write_bytes(out, "transcripts/plain.srt", ("\r\n\r\n".join(blocks) + "\r\n").encode("utf-8"))
    transcript(
        dict(path="transcripts/plain.srt", format="srt", encoding="utf-8", newline="crlf", role_hint="heuristic",
             must_contain=["and Valopolku tends to win on delivery, not on price.", "her café in Porvoo",
                           "I haven't owned a printer in years"],
             must_not_contain=["-->", "\r"],
             probes=[("tends to win on delivery", 2), ("I compare three or four shops", 2)]),
        dict(speakers=[L, O], turns=8, interviewer=L, first_turn_t_start=1.0),
    )


def gen_teams_docx(out):
    import docx
    E, M = "Eva Holmström", "Mikael Ek"
    blocks = [
        ("0:0:2.480", "0:0:6.910", E, "Tack för att du kunde vara med. Vad fick dig att välja Valopolkus installationstjänst?"),
        ("0:0:7.500", "0:0:15.230", M, "Vi renoverade badrummet och elektrikern vi brukar anlita hade inte tid förrän i december."),
        ("0:0:15.230", "0:0:21.40", M, "Valopolku kunde komma inom en vecka, så valet var ganska enkelt."),
        ("0:0:21.800", "0:0:24.600", E, "Hur upplevde du själva installationsdagen?"),
        ("0:0:25.100", "0:0:38.420", M, "Montören var punktlig och lade skyddspapp på golvet. Det enda som störde var att spotlightsen inte var IP44-klassade, så han fick åka och hämta nya."),
        ("0:0:39.0", "0:0:42.330", E, "Vad hände med fakturan efter det?"),
        ("0:0:42.900", "0:0:55.710", M, "Extrakörningen fanns först med på fakturan, men när jag ringde strök de den direkt. Det uppskattade jag."),
        ("0:0:56.200", "0:1:0.50", E, "Skulle du anlita oss igen?"),
        ("0:1:0.600", "0:1:7.900", M, "Ja, i höst ska vi byta belysning i hallen. Då ringer jag er först."),
    ]
    d = docx.Document()
    for i, (a, b, who, txt) in enumerate(blocks):
        d.add_paragraph(f"{a} --> {b}")
        d.add_paragraph(who)
        d.add_paragraph(txt)
        if i != len(blocks) - 1:
            d.add_paragraph("")
    cp = d.core_properties
    cp.author = "Valopolku"
    cp.last_modified_by = "Valopolku"
    cp.title = "Intervju 12 - installationstjänst"
    cp.created = FIXED_DT
    cp.modified = FIXED_DT
    cp.revision = 1
    path = os.path.join(out, "transcripts/teams_transcript.docx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    d.save(path)
    normalize_zip(path)
    transcript(
        dict(path="transcripts/teams_transcript.docx", format="docx", role_hint="heuristic",
             must_contain=["spotlightsen inte var IP44-klassade", "Extrakörningen fanns först med på fakturan",
                           "Vad fick dig att välja Valopolkus installationstjänst?"],
             must_not_contain=["-->", "0:0:"],
             probes=[("Valopolku kunde komma inom en vecka", 2), ("Då ringer jag er först.", 8)]),
        dict(speakers=[E, M], turns=8, interviewer=E, first_turn_t_start=2.48),
    )


def gen_otter_docx(out):
    import docx
    S1, S2 = "Speaker 1", "Speaker 2"
    blocks = [
        (S1, "0:02", ["Okay, I think we're recording. Could you tell me a little about how you use the Valopolku app at home?"]),
        (S2, "0:09", ["Sure. We have eleven smart bulbs now, mostly in the living room and the kids' rooms.",
                      "The app runs a morning routine, the lights come up slowly at half six, which honestly changed our mornings."]),
        (S1, "0:31", ["What happened the first time you set it up?"]),
        (S2, "0:35", ["Pairing took forever. Three of the bulbs kept dropping off the network until I moved the router. The guide never mentioned that the bulbs only use 2.4 GHz."]),
        (S1, "1:04", ["And how did support handle that?"]),
        (S2, "1:08", ["They were polite, but they sent me the same guide I had already read. In the end a forum post from a Swedish user, Åsa something, solved it."]),
        (S2, "1:40", ["One more thing. The Finnish version of the app calls the dimmer “himmennin” on one screen and “säädin” on another. Small, but confusing."]),
        (S1, "1:55", ["That's useful. If you could change one thing, what would it be?"]),
        (S2, "2:01", ["Put the 2.4 GHz note on the box. That alone would have saved me an evening."]),
    ]
    d = docx.Document()
    for i, (who, t, paras) in enumerate(blocks):
        d.add_paragraph(f"{who}  {t}")
        for p in paras:
            d.add_paragraph(p)
        if i != len(blocks) - 1:
            d.add_paragraph("")
    cp = d.core_properties
    cp.author = "Valopolku"
    cp.last_modified_by = "Valopolku"
    cp.title = "Customer interview - app onboarding"
    cp.created = FIXED_DT
    cp.modified = FIXED_DT
    cp.revision = 1
    path = os.path.join(out, "transcripts/otter_export.docx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    d.save(path)
    normalize_zip(path)
    transcript(
        dict(path="transcripts/otter_export.docx", format="docx", role_hint="heuristic",
             must_contain=["a Swedish user, Åsa something, solved it", "“himmennin” on one screen and “säädin”",
                           "the lights come up slowly at half six"],
             must_not_contain=["Speaker 1  0:02", "Speaker 2  1:40"],
             probes=[("We have eleven smart bulbs now", 2), ("the lights come up slowly at half six", 2),
                     ("calls the dimmer “himmennin”", 6)]),
        dict(speakers=[S1, S2], turns=8, interviewer=S1, first_turn_t_start=2.0),
    )


def gen_name_colon_txt(out):
    text = """Interviewer: Thanks for joining. Could you start by telling me how you first found Valopolku?

Participant: A friend recommended the store in Jyväskylä when we were renovating
our kitchen. I went in expecting to buy one lamp and left with a whole plan
for the room.

Interviewer: What made the plan useful?

Participant: The sales assistant measured the counter height from my photos
and suggested warmer bulbs over the dining table.

Participant: Later I noticed the plan had also been emailed to me, which was handy.

Interviewer: Was anything frustrating?

Participant: Pick-up. The parcel was ready, but the pick-up point closed at
five and the text message said seven.

Interviewer: How would you rate the experience overall?

Participant: Eight out of ten. The advice was great, the logistics less so, and the café
next door made the waiting bearable.
"""
    write_bytes(out, "transcripts/name_colon.txt", text.encode("utf-8"))
    transcript(
        dict(path="transcripts/name_colon.txt", format="txt", encoding="utf-8", newline="lf", role_hint="names",
             must_contain=["the store in Jyväskylä when we were renovating", "left with a whole plan",
                           "five and the text message said seven.", "next door made the waiting bearable"],
             must_not_contain=["Interviewer:", "Participant:"],
             probes=[("five and the text message said seven", 6), ("the plan had also been emailed", 4),
                     ("next door made the waiting bearable", 8)]),
        dict(speakers=["Interviewer", "Participant"], turns=8, interviewer="Interviewer", first_turn_t_start=None),
    )


def gen_otter_txt(out):
    text = """Speaker 1  0:02
Sorry I'm a few minutes late, the tram was stuck behind a delivery van on Hämeenkatu.

Speaker 2  0:09
No problem at all. Shall we start with your most recent order?

Speaker 1  0:14
Sure. I ordered two wall lamps and a dimmer for the bedroom in August.
The lamps came in two days, the dimmer took almost three weeks.

Speaker 2  0:41
Did anyone tell you why the dimmer was delayed?

Speaker 1  0:46
Nobody. I found out from the tracking page that it was shipped from a different warehouse.

Speaker 2  1:15
How did that affect the installation?

Speaker 1  1:19
The electrician had to come twice, and I paid for both visits.

Speaker 1  12:48
Coming back to the dimmer, it works well now. I just wish the order page had shown two separate delivery dates.

Speaker 2  59:30
Thank you, this has been really helpful. Is there anything else you want to add?

Speaker 1  1:02:03
Only that the staff at the Tampere store were lovely. The logistics are the weak part, not the people.
"""
    write_bytes(out, "transcripts/otter_blocks.txt", text.encode("utf-8"))
    transcript(
        dict(path="transcripts/otter_blocks.txt", format="txt", encoding="utf-8", newline="lf",
             role_hint="heuristic",
             must_contain=["stuck behind a delivery van on Hämeenkatu", "The lamps came in two days",
                           "The logistics are the weak part, not the people."],
             must_not_contain=["Speaker 1  ", "1:02:03"],
             probes=[("The lamps came in two days", 3), ("I paid for both visits", 7), ("it works well now", 7),
                     ("the staff at the Tampere store", 9)]),
        dict(speakers=["Speaker 1", "Speaker 2"], turns=9, interviewer="Speaker 2", first_turn_t_start=2.0),
    )


def gen_notes_md(out):
    text = """# Asiakashaastattelu 7 – Valopolku-sovellus

**Haastattelija:** Kiitos, että tulit. Kuinka usein käytät Valopolku-sovellusta?

**Asiakas:** Päivittäin. Ajastan sillä olohuoneen ja eteisen valot, ja talvella myös pihavalot.

**Haastattelija:** Mikä sovelluksessa toimii parhaiten?

**Asiakas:** Lomatila. Se sytyttää valoja satunnaisesti, kun olemme mökillä, eikä naapurin tarvitse käydä katsomassa.

**Asiakas:** Tosin lomatila nollautui viime päivityksessä, enkä huomannut sitä ennen kuin olimme jo lähteneet.

**Haastattelija:** Miten toivoisit, että päivitykset hoidettaisiin?

**Asiakas:** Sovellus voisi kertoa etukäteen, mitkä asetukset muuttuvat.
Nyt se vain ilmoittaa, että päivitys on valmis.

**Haastattelija:** Suosittelisitko sovellusta ystävällesi?

**Asiakas:** Kyllä, jos he jaksavat tarkistaa asetukset jokaisen päivityksen jälkeen.
"""
    write_bytes(out, "transcripts/notes.md", text.encode("utf-8"))
    transcript(
        dict(path="transcripts/notes.md", format="md", encoding="utf-8", newline="lf", role_hint="names",
             must_contain=["Lomatila. Se sytyttää valoja satunnaisesti", "lomatila nollautui viime päivityksessä",
                           "Nyt se vain ilmoittaa, että päivitys on valmis."],
             must_not_contain=["**", "Asiakashaastattelu 7", "#"],
             probes=[("lomatila nollautui", 4), ("Nyt se vain ilmoittaa", 6)]),
        dict(speakers=["Haastattelija", "Asiakas"], turns=8, interviewer="Haastattelija", first_turn_t_start=None),
    )


# ---------------------------------------------------------------------------------------------
# REFERENCE READERS (verification).  They only see the bytes on disk plus the declared spec.
# ---------------------------------------------------------------------------------------------

PY_CODEC = {"utf-8": "utf-8", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be", "windows-1252": "cp1252"}
BOMS = {"utf-8": b"\xef\xbb\xbf", "utf-16le": b"\xff\xfe", "utf-16be": b"\xfe\xff"}


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def decode_declared(raw: bytes, spec) -> str:
    enc = spec["encoding"]
    bom = BOMS.get(enc)
    has_bom = bool(bom) and raw.startswith(bom)
    check(has_bom == spec["bom"], f"{spec['path']}: BOM presence {has_bom} != declared {spec['bom']}")
    if has_bom:
        raw = raw[len(bom):]
    text = raw.decode(PY_CODEC[enc])  # strict
    check("\ufeff" not in text, f"{spec['path']}: stray BOM inside text")
    nl = spec.get("newline")
    if nl == "crlf":
        check(re.search(r"(?<!\r)\n", text) is None or spec.get("crlf_rows_only"), f"{spec['path']}: bare LF")
    elif nl == "lf":
        check("\r" not in text, f"{spec['path']}: CR found in LF file")
    return text


def split_records(text: str, delim: str):
    """Own RFC 4180 splitter: returns list of (start_line, fields, unterminated_quote)."""
    recs = []
    i, n, line = 0, len(text), 1
    while i < n:
        start = line
        fields, field, inq, quoted_once, unterminated = [], [], False, False, False
        while True:
            if i >= n:
                if inq:
                    unterminated = True
                fields.append("".join(field))
                break
            c = text[i]
            if inq:
                if c == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        field.append('"')
                        i += 2
                        continue
                    inq = False
                    i += 1
                    continue
                if c == "\n":
                    line += 1
                field.append(c)
                i += 1
                continue
            if c == '"' and not field and not quoted_once:
                inq, quoted_once = True, True
                i += 1
                continue
            if c == delim:
                fields.append("".join(field))
                field, quoted_once = [], False
                i += 1
                continue
            if c == "\r" and i + 1 < n and text[i + 1] == "\n":
                i += 2
                line += 1
                fields.append("".join(field))
                break
            if c == "\n":
                i += 1
                line += 1
                fields.append("".join(field))
                break
            field.append(c)
            i += 1
        recs.append((start, fields, unterminated))
    return recs


def csv_module_records(text: str, delim: str):
    """Cross-check with the stdlib csv module (strict mode); stops at the first structural error."""
    out = []
    rdr = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    prev = 0
    try:
        for rec in rdr:
            out.append((prev + 1, rec))
            prev = rdr.line_num
    except csv.Error as e:
        out.append((prev + 1, ("csv.Error", str(e))))
    return out


def parse_score(raw, kind):
    """-> (value|None, problem|None). NPS 0..=10, CSAT 1..=5; decimal comma accepted; trimmed."""
    if raw is None:
        return None, None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        v = float(raw)
    else:
        s = str(raw).strip()
        if s == "":
            return None, None
        try:
            v = float(s.replace(",", "."))
        except ValueError:
            return None, "non-numeric score"
        if not math.isfinite(v):
            return None, "non-numeric score"
    lo, hi = (0.0, 10.0) if kind == "nps" else (1.0, 5.0)
    if not (lo <= v <= hi):
        return None, "score out of range"
    return v, None


def parse_date(raw, fmt):
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    return dt.datetime.strptime(raw.strip(), fmt).date()


def rows_from_table(spec, header, data_rows):
    """data_rows: list of (line, dict|None, structural_problem|None). Applies the reader rules."""
    docs, rejects, scores, csats, dates, records = [], [], {}, {}, {}, 0
    for line, rec, structural in data_rows:
        records += 1
        problems = []
        field_problems = []
        if structural:
            problems.append(structural)
        else:
            texts = {c: rec.get(c) for c in spec["text_columns"]}
            nonempty = {c: t.strip() for c, t in texts.items() if isinstance(t, str) and t.strip()}
            if not nonempty:
                problems.append("empty text")
            # A bad score loses the score, not the comment: the row is kept with a null score
            # and the problem is a field-level reject.
            v, p = parse_score(rec.get(spec["score_column"]), spec["score_kind"])
            if p:
                field_problems.append(p)
            if spec.get("csat_column"):
                cv, cp = parse_score(rec.get(spec["csat_column"]), "csat")
                if cp:
                    field_problems.append("csat " + cp)
        check(len(problems) + len(field_problems) <= 1,
              f"{spec['path']} line {line}: several problems {problems + field_problems} (ambiguous fixture)")
        if problems:
            rejects.append((line, problems[0], "row"))
            continue
        for p in field_problems:
            rejects.append((line, p, "field"))
        rid = str(rec[spec["id_column"]]).strip()
        scores.setdefault(rid, []).append(v)
        if spec.get("csat_column"):
            csats.setdefault(rid, []).append(cv)
        if spec.get("date_column"):
            dates.setdefault(rid, []).append(parse_date(rec.get(spec["date_column"]), spec.get("date_format")))
        for c in spec["text_columns"]:
            if c in nonempty:
                docs.append({"id": rid, "column": c, "text": texts[c], "line": line})
    return dict(records=records, docs=docs, rejects=rejects, scores=scores, csats=csats, dates=dates)


def read_delimited(spec, root):
    raw = open(os.path.join(root, spec["path"]), "rb").read()
    text = decode_declared(raw, spec)
    d = spec["delimiter"]
    recs = split_records(text, d)
    # cross-check against the csv module for every record up to the first structural error
    ref = csv_module_records(text, d)
    for (l1, f1, bad), (l2, f2) in zip(recs, ref):
        if isinstance(f2, tuple):
            check(bad, f"{spec['path']}: csv module error {f2} at line {l2} but own splitter saw no bad quote")
            break
        check((l1, f1) == (l2, f2), f"{spec['path']}: splitter mismatch line {l1}: {f1} vs {l2}: {f2}")
    hr = spec["header_rows"]
    check(len(recs) >= hr, f"{spec['path']}: fewer records than header rows")
    header = recs[0][1]
    check(len(set(h for h in header if h)) == len([h for h in header if h]), f"{spec['path']}: duplicate header")
    for c in [spec["id_column"], spec["score_column"], *spec["text_columns"], *spec.get("metadata_columns", [])]:
        check(c in header, f"{spec['path']}: column {c!r} not in header")
    extra = {}
    if hr == 3:  # Qualtrics: row 2 question text, row 3 ImportId JSON
        qtexts = dict(zip(header, recs[1][1]))
        imports = [json.loads(x)["ImportId"] for x in recs[2][1]]
        extra["question_texts"] = {c: qtexts[c] for c in spec["text_columns"]}
        extra["import_ids"] = dict(zip(header, imports))
        for c in spec["text_columns"]:
            check(extra["import_ids"][c].endswith("_TEXT"), f"{spec['path']}: {c} ImportId not *_TEXT")
    if hr == 2:  # SurveyMonkey: row 2 sub-headers
        sub = dict(zip(header, recs[1][1]))
        for c in spec["text_columns"]:
            check(sub[c] == "Open-Ended Response", f"{spec['path']}: {c} is not an Open-Ended Response column")
        check(sub[spec["score_column"]] == "Response", f"{spec['path']}: score column sub-header")
    data_rows = []
    for line, fields, unterminated in recs[hr:]:
        if unterminated:
            data_rows.append((line, None, "unbalanced quote"))
        elif len(fields) != len(header):
            data_rows.append((line, None, "wrong number of fields"))
        else:
            data_rows.append((line, dict(zip(header, fields)), None))
    res = rows_from_table(spec, header, data_rows)
    res.update(extra)
    res["text"] = text
    res["raw"] = raw
    return res


def read_xlsx(spec, root):
    import openpyxl
    path = os.path.join(root, spec["path"])
    wb = openpyxl.load_workbook(path)
    check(wb.sheetnames == ["Vastaukset", "Muut"], f"sheet order {wb.sheetnames}")
    ws = wb.worksheets[0] if spec["default_sheet"] else wb[spec["sheet"]]
    check(ws.title == spec["sheet"], "sheet title")
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    data_rows = []
    for idx, r in enumerate(rows[1:], start=2):
        rec = dict(zip(header, r))
        check(isinstance(rec[spec["date_column"]], dt.datetime), f"xlsx date not a real Excel date: {rec}")
        check(isinstance(rec[spec["score_column"]], int), "xlsx score not numeric")
        data_rows.append((idx, rec, None))
    return rows_from_table(spec, header, data_rows)


def read_jsonl(spec, root):
    raw = open(os.path.join(root, spec["path"]), "rb").read()
    text = decode_declared(raw, spec)
    data_rows = []
    for i, line in enumerate(text.split("\n"), start=1):
        if i == len(text.split("\n")) and line == "":
            break  # final newline
        if line.strip() == "":
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            data_rows.append((i, None, "invalid json"))
            continue
        data_rows.append((i, obj, None))
    res = rows_from_table(spec, None, data_rows)
    res["text"] = text
    return res


def read_parquet(spec, root):
    import pyarrow as pa
    import pyarrow.parquet as pq
    t = pq.read_table(os.path.join(root, spec["path"]))
    check(t.schema.field("respondent_id").type == pa.string(), "pq id type")
    check(t.schema.field("nps").type == pa.int64(), "pq nps type")
    check(t.schema.field("feedback").type == pa.string(), "pq feedback type")
    check(t.schema.field("submitted_at").type == pa.date32(), "pq date type")
    check(t.schema.field("segment").type == pa.string(), "pq segment type")
    data_rows = [(i, r, None) for i, r in enumerate(t.to_pylist(), start=1)]
    return rows_from_table(spec, None, data_rows)


def verify_survey(entry, root):
    spec, intent = entry["spec"], entry["intent"]
    path = os.path.join(root, spec["path"])
    raw = open(path, "rb").read()
    if spec.get("kind") == "reject_whole":
        if spec["reason"] == "empty file":
            check(len(raw) == 0, "empty.csv not empty")
        elif spec["reason"] == "no data rows":
            recs = split_records(raw.decode("utf-8"), ",")
            check(len(recs) == 1 and len(recs[0][1]) == 5 and not recs[0][2], "header_only shape")
        else:
            check(b"\x00" in raw, "binary fixture has no NUL byte")
            check(not any(raw.startswith(b) for b in BOMS.values()), "binary fixture starts with a BOM")
            try:
                raw.decode("utf-8")
                raise Fail("binary fixture decodes as UTF-8")
            except UnicodeDecodeError:
                pass
            check(raw.startswith(b"\x89PNG\r\n\x1a\n") and len(raw) == 2048, "binary fixture shape")
        return {"path": spec["path"], "kind": "reject_whole", "reason": spec["reason"],
                "bytes": len(raw)}
    fmt = spec["format"]
    res = {"csv": read_delimited, "xlsx": read_xlsx, "jsonl": read_jsonl, "parquet": read_parquet}[fmt](spec, root)
    docs = res["docs"]
    all_text = [d["text"] for d in docs]
    for s in spec["must_contain"]:
        check(any(s in t for t in all_text), f"{spec['path']}: must_contain {s!r} not found in any document")
    for s in spec.get("must_not_contain", []):
        check(not any(s in t for t in all_text), f"{spec['path']}: must_not_contain {s!r} found")
    # wrong decodings must visibly break at least one must_contain string
    for wrong in spec.get("wrong_decodings", []):
        garbled = res["raw"].decode(wrong, errors="replace")
        check(not all(s in garbled for s in spec["must_contain"]), f"{spec['path']}: decodes fine as {wrong}")
    if fmt == "csv" and spec["encoding"] != "utf-8":
        try:
            res["raw"].decode("utf-8")
            raise Fail(f"{spec['path']}: non-UTF-8 fixture is valid UTF-8")
        except UnicodeDecodeError:
            pass
    # intent cross-check
    got_rejects = [tuple(r) for r in res["rejects"]]
    check(res["records"] == intent["records"], f"{spec['path']}: records {res['records']} != intent {intent['records']}")
    check(len(docs) == intent["documents"], f"{spec['path']}: documents {len(docs)} != intent {intent['documents']}")
    # Intents name a level only for field-level rejects; the rest are whole rows.
    want_rejects = [r if len(r) == 3 else (*r, "row") for r in intent["rejects"]]
    check(got_rejects == want_rejects, f"{spec['path']}: rejects {got_rejects} != intent {want_rejects}")
    dup = sorted(k for k, v in res["scores"].items() if len(v) > 1)
    check(dup == intent.get("duplicate_ids", []), f"{spec['path']}: duplicate ids {dup}")
    out = {"path": spec["path"], "kind": "survey"}
    for k in ("format", "sheet", "default_sheet", "encoding", "bom", "newline", "delimiter", "header_rows",
              "id_column", "text_columns"):
        if k in spec:
            out[k] = spec[k]
    if "question_texts" in res:
        check(res["question_texts"] == spec["question_texts"], "question texts")
        out["question_texts"] = res["question_texts"]
    for k in ("score_column", "score_kind", "csat_column", "date_column", "date_format", "metadata_columns"):
        if k in spec:
            out[k] = spec[k]
    out["records"] = res["records"]
    out["documents"] = len(docs)
    out["rejects"] = [{"line": l, "reason": r, "level": lv} for l, r, lv in res["rejects"]]
    if dup:
        out["duplicate_ids"] = dup
    if "docs_per_id_ids" in spec:
        out["documents_per_id"] = {i: sum(1 for d in docs if d["id"] == i) for i in spec["docs_per_id_ids"]}
    if spec.get("multiline_probe"):
        ml = sorted({d["id"] for d in docs if "\n" in d["text"] or "\r" in d["text"]})
        check(ml == intent["multiline_ids"], f"multiline ids {ml}")
        out["multiline_ids"] = ml
    out["must_contain"] = spec["must_contain"]
    if spec.get("must_not_contain"):
        out["must_not_contain"] = spec["must_not_contain"]

    def single(mapping, i, what):
        vals = mapping.get(i)
        check(vals is not None and len(vals) == 1, f"{spec['path']}: {what} probe {i} missing or duplicated")
        return vals[0]

    if spec["score_ids"]:
        out["scores"] = {i: single(res["scores"], i, "score") for i in spec["score_ids"]}
    if spec.get("csat_ids"):
        out["csat_scores"] = {i: single(res["csats"], i, "csat") for i in spec["csat_ids"]}
    if spec.get("date_ids"):
        out["dates"] = {i: single(res["dates"], i, "date").isoformat() for i in spec["date_ids"]}
    return out


# ---- transcripts ----------------------------------------------------------------------------

TS = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:[.,]\d+)?)$")


def secs(s: str) -> float:
    m = TS.match(s.strip())
    check(m is not None, f"bad timestamp {s!r}")
    h, mi, se = m.groups()
    return round(int(h or 0) * 3600 + int(mi) * 60 + float(se.replace(",", ".")), 3)


NAME_COLON = re.compile(r"^([A-ZÅÄÖ][\wÅÄÖåäö .'-]{0,40}?):\s+(.*)$")


def merge_segments(segs):
    """segs: list of (speaker, t_start|None, text). Consecutive same-speaker segments -> one turn."""
    turns = []
    for spk, t, txt in segs:
        txt = txt.strip()
        if turns and turns[-1]["speaker"] == spk:
            turns[-1]["text"] += " " + txt
        else:
            turns.append({"speaker": spk, "t_start": t, "text": txt})
    return turns


def read_vtt(text):
    blocks = [b for b in re.split(r"\n\s*\n", text.strip("\n"))]
    check(blocks[0].startswith("WEBVTT"), "vtt header")
    segs, has_voice = [], "<v " in text
    for b in blocks[1:]:
        lines = b.split("\n")
        if re.match(r"^(NOTE|STYLE|REGION)(\s|$)", lines[0]):
            continue
        ti = next(i for i, l in enumerate(lines) if "-->" in l)
        start = lines[ti].split("-->")[0].strip()
        payload = lines[ti + 1:]
        if has_voice:
            m = re.match(r"^<v(?:\.[^ >]+)?\s+([^>]+)>", payload[0])
            check(m is not None, f"cue without voice tag: {payload}")
            spk = m.group(1).strip()
        else:
            m = NAME_COLON.match(payload[0])
            check(m is not None, f"zoom cue without Name: prefix {payload}")
            spk = m.group(1)
            payload = [m.group(2)] + payload[1:]
        body = " ".join(html.unescape(re.sub(r"</?[^>]+>", "", l)).strip() for l in payload)
        segs.append((spk, secs(start), body))
    return merge_segments(segs)


def read_srt(text):
    text = text.replace("\r\n", "\n")
    segs, prev = [], None
    for b in re.split(r"\n\s*\n", text.strip("\n")):
        lines = b.split("\n")
        check(lines[0].isdigit(), "srt index")
        start = lines[1].split("-->")[0].strip()
        check(re.match(r"^\d\d:\d\d:\d\d,\d{3}$", start) is not None, "srt comma ms")
        m = NAME_COLON.match(lines[2])
        if m:
            prev, body = m.group(1), " ".join([m.group(2)] + lines[3:])
        else:
            check(prev is not None, "srt continuation without previous speaker")
            body = " ".join(lines[2:])
        segs.append((prev, secs(start), body))
    return merge_segments(segs)


def read_teams_docx(paras):
    segs, i = [], 0
    rx = re.compile(r"^(\d+:\d+:\d+(?:\.\d+)?) --> (\d+:\d+:\d+(?:\.\d+)?)$")
    while i < len(paras):
        m = rx.match(paras[i])
        if not m:
            check(paras[i].strip() == "", f"unexpected paragraph {paras[i]!r}")
            i += 1
            continue
        spk, body = paras[i + 1], []
        i += 2
        while i < len(paras) and paras[i].strip() and not rx.match(paras[i]):
            body.append(paras[i])
            i += 1
        segs.append((spk, secs(m.group(1)), " ".join(body)))
    return merge_segments(segs)


OTTER_HDR = re.compile(r"^(.+?)  (\d{1,2}:\d{2}(?::\d{2})?)$")


def read_otter(lines):
    segs, cur = [], None
    for l in lines:
        m = OTTER_HDR.match(l)
        if m:
            cur = [m.group(1), secs(m.group(2)), []]
            segs.append(cur)
        elif l.strip():
            check(cur is not None, "otter text before first header")
            cur[2].append(l.strip())
    return merge_segments([(s, t, " ".join(b)) for s, t, b in segs])


def read_name_colon(lines, rx):
    segs, cur = [], None
    for l in lines:
        if not l.strip() or l.startswith("#"):
            continue
        m = rx.match(l)
        if m:
            cur = [m.group(1), None, [m.group(2)]]
            segs.append(cur)
        else:
            check(cur is not None, f"continuation before first speaker: {l!r}")
            cur[2].append(l.strip())
    return merge_segments([(s, t, " ".join(b)) for s, t, b in segs])


def docx_paragraphs(path):
    import docx
    return [p.text for p in docx.Document(path).paragraphs]


def guess_interviewer(turns):
    stats = {}
    for t in turns:
        s = stats.setdefault(t["speaker"], {"turns": 0, "q": 0, "chars": 0})
        s["turns"] += 1
        s["q"] += t["text"].rstrip().endswith("?")
        s["chars"] += len(t["text"])
    total = sum(s["chars"] for s in stats.values())
    by_q = max(stats, key=lambda k: stats[k]["q"] / stats[k]["turns"])
    by_talk = min(stats, key=lambda k: stats[k]["chars"])
    return by_q, by_talk, {k: dict(v, talk_share=round(v["chars"] / total, 3)) for k, v in stats.items()}


def verify_transcript(entry, root):
    spec, intent = entry["spec"], entry["intent"]
    path = os.path.join(root, spec["path"])
    fmt = spec["format"]
    if fmt == "docx":
        paras = docx_paragraphs(path)
        turns = read_teams_docx(paras) if "teams" in spec["path"] else read_otter(paras)
    else:
        raw = open(path, "rb").read()
        check(not raw.startswith(b"\xef\xbb\xbf"), "unexpected BOM")
        text = decode_declared(raw, dict(spec, bom=False))
        if fmt == "vtt":
            turns = read_vtt(text)
        elif fmt == "srt":
            turns = read_srt(text)
        elif "otter" in spec["path"]:
            turns = read_otter(text.split("\n"))
        elif fmt == "md":
            turns = read_name_colon(text.split("\n"), re.compile(r"^\*\*(.+?):\*\*\s*(.*)$"))
        else:
            turns = read_name_colon(text.split("\n"), NAME_COLON)
    speakers = []
    for t in turns:
        if t["speaker"] not in speakers:
            speakers.append(t["speaker"])
    by_q, by_talk, stats = guess_interviewer(turns)
    check(speakers == intent["speakers"], f"{spec['path']}: speakers {speakers}")
    check(len(turns) == intent["turns"], f"{spec['path']}: turns {len(turns)} != {intent['turns']}")
    check(by_q == by_talk == intent["interviewer"], f"{spec['path']}: heuristic {by_q}/{by_talk} {stats}")
    others = [s for s in speakers if s != by_q]
    for o in others:
        check(stats[o]["q"] == 0, f"{spec['path']}: participant {o} asks questions")
    check(turns[0]["t_start"] == intent["first_turn_t_start"], f"{spec['path']}: first t {turns[0]['t_start']}")
    texts = [t["text"] for t in turns]
    for s in spec["must_contain"]:
        check(any(s in t for t in texts), f"{spec['path']}: must_contain {s!r} missing")
    for s in spec.get("must_not_contain", []):
        check(not any(s in t for t in texts), f"{spec['path']}: must_not_contain {s!r} present")
    probes = []
    for p, want in spec.get("probes", []):
        hits = [i for i, t in enumerate(texts, start=1) if p in t]
        check(hits == [want], f"{spec['path']}: probe {p!r} in turns {hits}, intended turn {want}")
        probes.append({"turn": hits[0], "speaker": turns[hits[0] - 1]["speaker"], "text": p})
    out = {"path": spec["path"], "kind": "transcript", "format": fmt}
    for k in ("encoding", "newline"):
        if k in spec:
            out[k] = spec[k]
    out.update(speakers=speakers, turns=len(turns), interviewer=by_q, role_hint=spec["role_hint"])
    if turns[0]["t_start"] is not None:
        out["first_turn_t_start"] = turns[0]["t_start"]
        out["turn_t_starts"] = [t["t_start"] for t in turns]
    out["turn_speakers"] = [t["speaker"] for t in turns]
    out["talk_share"] = {k: v["talk_share"] for k, v in stats.items()}
    out["question_turns"] = {k: v["q"] for k, v in stats.items()}
    out["turn_contains"] = probes
    out["must_contain"] = spec["must_contain"]
    if spec.get("must_not_contain"):
        out["must_not_contain"] = spec["must_not_contain"]
    return out


# ---------------------------------------------------------------------------------------------
# TOML output
# ---------------------------------------------------------------------------------------------


BARE_KEYS = {"line", "reason", "level", "turn", "speaker", "text"}


def tval(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(tval(x) for x in v) + "]"
    if isinstance(v, dict):
        def key(k):
            return k if k in BARE_KEYS else json.dumps(str(k), ensure_ascii=False)
        return "{ " + ", ".join(f"{key(k)} = {tval(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


MANIFEST_HEAD = '''# palaute test fixtures: what a correct reader must extract from each file.
# GENERATED by scripts/gen_fixtures.py from a read-back of the files on disk; do not edit by hand.
#
# Common keys
#   path            relative to tests/fixtures/
#   kind            "survey" | "transcript" | "reject_whole" (whole file refused, `reason` says why:
#                   "binary file" | "empty file" | "no data rows"; `bytes` = file size)
#   format          csv | xlsx | jsonl | parquet | vtt | srt | docx | txt | md
#   encoding        as written on disk (WHATWG/encoding_rs label); `bom` = file starts with a BOM
#   newline         record terminator used by the file ("crlf" | "lf"); quoted fields may hold other breaks
#   must_contain    exact substrings of at least one document / turn text after decoding & unescaping;
#                   never spans a line break inside a field/cue or a join between merged segments
#   must_not_contain  substrings that must appear in no document / turn (rejected rows, markup, labels)
#
# Survey keys
#   header_rows     physical header records before data (Qualtrics 3, SurveyMonkey 2, else 1)
#   sheet / default_sheet   XLSX: sheet name; default_sheet = true means "what you get with no sheet option"
#   id_column, text_columns, score_column, score_kind ("nps" 0..=10 | "csat" 1..=5), date_column,
#   date_format (strftime, as written; informational)
#   metadata_columns  minimum set that must be carried as metadata (a reader may carry more columns)
#   csat_column     a second score column (CSAT 1..=5) next to the NPS one; all its values are valid
#   question_texts  Qualtrics: row-2 question text for each text column (carried by each document)
#   records         data records in the file/sheet (accepted + rejected; header rows and blank JSONL lines excluded)
#   documents       accepted non-empty open-text cells (accepted rows x non-empty text columns)
#   documents_per_id  documents produced for a respondent id
#   rejects         line = 1-based physical line where the record starts (XLSX: spreadsheet row; JSONL: line)
#                   reason: "non-numeric score" | "score out of range" | "empty text" | "wrong number of fields"
#                           | "unbalanced quote" | "invalid json"   (short canonical phrase: a reader's message
#                           may say more; compare case-insensitively by category)
#                   level: "row" (nothing of the record kept) | "field" (the record's documents kept
#                           without that value, e.g. a score of 11 → score null)
#   duplicate_ids   ids occurring on more than one accepted row (all rows kept, disambiguation is the reader's)
#   multiline_ids   ids whose document text contains a line break (CRLF inside quotes may be kept or normalised)
#   scores / csat_scores / dates   id -> parsed value (dates as ISO yyyy-mm-dd, local date as written)
#
# Transcript keys
#   speakers        in order of first appearance; turns = count after merging consecutive same-speaker segments
#   interviewer     speaker who asks the questions; role_hint = "names" (label says so) | "heuristic"
#                   (names give no role: decide by question share and talk share)
#   first_turn_t_start / turn_t_starts   seconds (omitted when the format has no timestamps)
#   turn_speakers   speaker of each merged turn, in order
#   talk_share / question_turns   per speaker: share of turn characters, turns ending in "?" (reference values)
#   turn_contains   {turn (1-based), speaker, text}: `text` must be inside that merged turn
'''


def emit_manifest(entries, path):
    lines = [MANIFEST_HEAD]
    for e in entries:
        lines.append("[[file]]")
        for k, v in e.items():
            if k == "rejects" or k == "turn_contains":
                if not v:
                    lines.append(f"{k} = []")
                else:
                    lines.append(f"{k} = [")
                    for r in v:
                        lines.append("  " + tval(r) + ",")
                    lines.append("]")
            else:
                lines.append(f"{k} = {tval(v)}")
        lines.append("")
    text = "\n".join(lines)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    parsed = tomllib.loads(text)
    check(len(parsed["file"]) == len(entries), "toml round trip")
    for a, b in zip(parsed["file"], entries):
        check(a == b, f"toml round trip mismatch for {b['path']}")


README = """# palaute test fixtures

Generated by `python3 scripts/gen_fixtures.py` (verify reproducibility with `--check`); what a reader
must extract from each file is in `expect.toml`. `.gitattributes` (`* -text`) stops git from converting
line endings, which several fixtures depend on. All people, stores and feedback are fictional
("Valopolku"), written for these fixtures in Finnish, Swedish and English.

## survey/
- `utf8_comma_multiline.csv` – generic web-form/CRM CSV export (RFC 4180, CRLF): quoted fields with embedded CRLF and LF line breaks and doubled `""` quotes; NPS + one open-text column.
- `utf8_bom_semicolon.csv` – Finnish-locale Excel "CSV (semicolon)" save: UTF-8 BOM, `;` delimiter, decimal-comma CSAT (`4,5`), `d.m.yyyy` dates, Finnish headers, quoted field containing `;`.
- `excel_unicode_text_utf16le.txt` – Excel "Unicode Text (*.txt)" save: UTF-16LE with BOM, TAB, CRLF, Swedish headers, an emoji (surrogate pair) and an Excel-quoted field with `""`.
- `utf16be_bom.tsv` – UTF-16BE-with-BOM TSV (as written by some Mac/Java tools): byte-order detection; English text with ä/é/— so a wrong decode shows.
- `cp1252_legacy_fi.csv` – legacy Windows ("ANSI") Finnish Excel export: windows-1252, not UTF-8; ä ö å Ä Ö, € (0x80), – (0x96), … (0x85), “ ” (0x93/0x94) so both UTF-8 and ISO-8859-1 decoding visibly fail.
- `pipe_delimited.csv` – pipe-separated dump from a database/BI tool: `|` delimiter with unquoted commas and semicolons in text.
- `qualtrics_two_questions.csv` – Qualtrics "CSV, use numeric values" export: 3 header rows (ids, question texts, ImportId JSON), UTF-8 BOM, every field quoted; two open-text questions -> two documents per respondent; one partial response with both texts empty.
- `surveymonkey_two_row_header.csv` – SurveyMonkey "All individual responses" CSV: 2-row header (`Response` / `Open-Ended Response`, multi-choice option columns with blank row-1 cells), US `mm/dd/yyyy hh:mm:ss AM` dates.
- `malformed_rows.csv` – otherwise normal CSV with one bad row of each kind (non-numeric score `kymmenen`, empty text, too many fields, unbalanced quote as the last record) between good rows.
- `duplicate_ids.csv` – the same respondent id on two rows (re-submitted form); both must be kept.
- `scores_mixed.csv` – hand-edited spreadsheet scores: `10`, `7.0`, `"8,0"`, ` 9 `, `0`, out-of-range `11`; plus a CSAT 1-5 column.
- `not_really_a.csv` – 2 KiB PNG header + deterministic pseudo-random bytes named `.csv` (mis-named upload): reject the whole file.
- `empty.csv` – zero-byte file (failed export): reject the whole file.
- `header_only.csv` – export of a survey with no responses yet: header, no rows -> whole file refused (\"no data rows\").
- `sheets.xlsx` – Excel workbook: first sheet `Vastaukset` (Finnish, numeric NPS, real date cells, one empty answer) and second sheet `Muut` (Swedish): default-sheet vs named-sheet reading.
- `responses.jsonl` – JSON Lines from an app/webhook log: one truncated (malformed) line, one blank line, one `"comment": null`, one line with `\\u00e4`-style escapes and one with an escaped `\\n`.
- `responses.parquet` – Parquet table from a data warehouse (pyarrow): string/int64/date32 columns.

## transcripts/
- `teams_voice_tags.vtt` – Microsoft Teams WebVTT: GUID cue ids, `<v Name>` voice tags, STYLE and NOTE blocks (one NOTE between cues of the same speaker), a two-line cue, `&amp;`, consecutive cues of one speaker to merge.
- `zoom_name_colon.vtt` – Zoom cloud-recording WebVTT: numeric cue ids, `Name: text` in the cue, a `06:30` colon inside text.
- `plain.srt` – SubRip with CRLF, comma milliseconds, `Name: text` lines and one cue without a speaker prefix (continues the previous speaker).
- `teams_transcript.docx` – older Teams "Download as .docx": `0:0:2.480 --> 0:0:6.910` / name / text paragraphs (unpadded times).
- `otter_export.docx` – Otter.ai DOCX export: `Speaker 1  0:02` paragraphs followed by one or more text paragraphs.
- `name_colon.txt` – hand-typed notes: `Interviewer:` / `Participant:` lines, wrapped continuation lines, blank lines between turns, two consecutive Participant paragraphs.
- `otter_blocks.txt` – Otter.ai TXT export: `Speaker N  m:ss` header lines incl. `1:02:03`; the participant speaks first and names give no role, so the interviewer must be found by heuristic.
- `notes.md` – Markdown interview notes: `# Title`, `**Haastattelija:**` / `**Asiakas:**` bold labels, one soft-wrapped line.
"""


GENERATORS = [gen_utf8_comma_multiline, gen_utf8_bom_semicolon, gen_excel_unicode_text, gen_utf16be, gen_cp1252,
              gen_pipe, gen_qualtrics, gen_surveymonkey, gen_malformed, gen_duplicate_ids, gen_scores_mixed,
              gen_not_really, gen_empty_and_header_only, gen_xlsx, gen_jsonl, gen_parquet,
              gen_teams_vtt, gen_zoom_vtt, gen_srt, gen_teams_docx, gen_otter_docx, gen_name_colon_txt,
              gen_otter_txt, gen_notes_md]


def generate(out):
    SURVEYS.clear()
    TRANSCRIPTS.clear()
    os.makedirs(out, exist_ok=True)
    for g in GENERATORS:
        g(out)
    entries = [verify_survey(e, out) for e in SURVEYS] + [verify_transcript(e, out) for e in TRANSCRIPTS]
    emit_manifest(entries, os.path.join(out, "expect.toml"))
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(README)
    # CRLF/LF and encodings are part of what the fixtures test: never let git convert line endings.
    with open(os.path.join(out, ".gitattributes"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# line endings and encodings are part of the fixtures: no eol conversion\n* -text\n")
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare with --out")
    a = ap.parse_args()
    if a.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(tmp)
            bad = []
            filecmp.clear_cache()
            for dp, _, fns in os.walk(tmp):
                for fn in fns:
                    rel = os.path.relpath(os.path.join(dp, fn), tmp)
                    other = os.path.join(a.out, rel)
                    if not os.path.exists(other) or not filecmp.cmp(os.path.join(dp, fn), other, shallow=False):
                        bad.append(rel)
            if bad:
                print("fixtures out of date:", ", ".join(sorted(set(bad))), file=sys.stderr)
                sys.exit(1)
            print("fixtures up to date")
        return
    entries = generate(a.out)
    print(f"wrote {len(entries)} manifest entries to {os.path.join(a.out, 'expect.toml')}")


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print("VERIFICATION FAILED:", e, file=sys.stderr)
        sys.exit(2)
