//! Column roles of a survey table: which column is the respondent id, the score, the date,
//! which are open-text answers and which are metadata to pass through. Header names are
//! matched in Finnish, Swedish and English (and the question text, since Qualtrics headers
//! are just `Q1`, `Q2`); values confirm the guess so a "Comments" column full of numbers is
//! not taken for text.

use serde::Serialize;

use super::cell::Cell;
use crate::config::ColumnOverrides;
use crate::record::ScoreKind;

/// The roles found for one table; indices into the header.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Roles {
    pub id: Option<usize>,
    pub score: Option<usize>,
    pub score_kind: Option<ScoreKind>,
    pub date: Option<usize>,
    pub text: Vec<usize>,
    pub metadata: Vec<usize>,
}

/// Exact (normalised) header names of respondent-id columns, most specific first.
const ID_NAMES: &[&str] = &[
    "responseid",
    "response id",
    "response_id",
    "respondent id",
    "respondentid",
    "respondent_id",
    "vastaajatunnus",
    "vastaajan tunnus",
    "vastaaja id",
    "vastaajan id",
    "vastaaja",
    "vastaus-id",
    "vastaus id",
    "vastausnumero",
    "svars-id",
    "svarsid",
    "svar-id",
    "svar id",
    "respondent",
    "record id",
    "_recordid",
    "recordid",
    "user id",
    "userid",
    "customer id",
    "asiakasnumero",
    "kundnummer",
    "id",
    "tunnus",
    "nro",
];

const DATE_NAMES: &[&str] = &[
    "recordeddate",
    "enddate",
    "end date",
    "date",
    "pvm",
    "päivämäärä",
    "vastauspäivä",
    "datum",
    "svarsdatum",
    "submitted",
    "submitted_at",
    "submitted at",
    "created",
    "created_at",
    "timestamp",
    "aikaleima",
    "tidpunkt",
    "vastattu",
    "startdate",
    "start date",
    "time",
];

const NPS_HINTS: &[&str] = &[
    "nps",
    "recommend",
    "suosittel",
    "rekommend",
    "0-10",
    "0–10",
    "0 - 10",
    "0 – 10",
    "todennäköi",
    "sannolik",
    "likely",
];

const CSAT_HINTS: &[&str] = &[
    "csat",
    "1-5",
    "1–5",
    "1 - 5",
    "1 – 5",
    "nöjd",
    "tyytyväi",
    "satisf",
];

/// Score columns whose name says nothing about the scale; the values decide.
const SCORE_HINTS: &[&str] = &[
    "betyg", "arvosana", "rating", "score", "pisteet", "omdöme", "grade",
];

const TEXT_HINTS: &[&str] = &[
    "comment",
    "kommentti",
    "kommentoi",
    "palaute",
    "feedback",
    "kommentar",
    "reason",
    "syy",
    "miksi",
    "why",
    "varför",
    "open",
    "avoin",
    "vapaa",
    "berätta",
    "kerro",
    "improve",
    "parantaa",
    "paremmin",
    "förbättra",
    "suggestion",
    "ehdotus",
    "förslag",
    "_text",
    "describe",
    "kuvaile",
    "beskriv",
    "anything else",
    "muuta",
    "övrigt",
    "what",
    "mitä",
    "vad",
    "verbatim",
    "answer",
    "vastaus",
    "svar",
];

/// Value statistics of one column over the data rows.
#[derive(Debug, Default)]
struct Stats {
    non_empty: usize,
    numeric: usize,
    /// Numeric values within 0–10, the widest score scale.
    in_scale: usize,
    min: f64,
    max: f64,
    dates: usize,
    chars: usize,
    words: usize,
    distinct: usize,
}

fn stats(rows: &[&[Cell]], col: usize) -> Stats {
    let mut s = Stats {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        ..Stats::default()
    };
    let mut seen = std::collections::HashSet::new();
    for row in rows {
        let Some(cell) = row.get(col) else { continue };
        if cell.is_empty() {
            continue;
        }
        s.non_empty += 1;
        if let Some(Ok(n)) = cell.as_number() {
            s.numeric += 1;
            s.in_scale += usize::from((0.0..=10.0).contains(&n));
            s.min = s.min.min(n);
            s.max = s.max.max(n);
        }
        if matches!(cell, Cell::Date(_))
            || (matches!(cell, Cell::Text(_)) && cell.as_date().is_some())
        {
            s.dates += 1;
        }
        let shown = cell.display().unwrap_or_default();
        s.chars += shown.chars().count();
        s.words += shown.split_whitespace().count();
        seen.insert(shown);
    }
    s.distinct = seen.len();
    s
}

impl Stats {
    fn share(&self, n: usize) -> f64 {
        if self.non_empty == 0 {
            0.0
        } else {
            n as f64 / self.non_empty as f64
        }
    }
    fn avg_chars(&self) -> f64 {
        self.share(self.chars)
    }
    fn avg_words(&self) -> f64 {
        self.share(self.words)
    }
    /// Free text varies from row to row and has several words; categorical columns ("Alue",
    /// "Kanava") repeat a few short values.
    fn looks_like_free_text(&self) -> bool {
        self.non_empty > 0
            && self.share(self.numeric) < 0.2
            && self.share(self.dates) < 0.2
            && (self.avg_words() >= 3.0 || self.avg_chars() >= 20.0)
            && (self.distinct as f64 >= 0.5 * self.non_empty as f64 || self.non_empty < 4)
    }
}

fn norm(s: &str) -> String {
    s.trim().trim_start_matches('\u{feff}').to_lowercase()
}

fn hinted(label: &str, hints: &[&str]) -> bool {
    let l = norm(label);
    hints.iter().any(|h| l.contains(h))
}

/// Detect roles. `labels[i]` is the header and, when the export has one, the question text.
pub fn detect(
    headers: &[String],
    questions: &[Option<String>],
    rows: &[&[Cell]],
    ov: &ColumnOverrides,
) -> Roles {
    let n = headers.len();
    let label = |i: usize| match &questions[i] {
        Some(q) => format!("{} {}", headers[i], q),
        None => headers[i].clone(),
    };
    let find = |name: &Option<String>| {
        name.as_ref()
            .and_then(|w| headers.iter().position(|h| norm(h) == norm(w)))
    };
    let ignored: Vec<usize> = (0..n)
        .filter(|i| ov.ignore.iter().any(|w| norm(w) == norm(&headers[*i])))
        .collect();
    let all_stats: Vec<Stats> = (0..n).map(|i| stats(rows, i)).collect();
    let mut taken = vec![false; n];
    for i in &ignored {
        taken[*i] = true;
    }

    let id = find(&ov.id).or_else(|| {
        ID_NAMES
            .iter()
            .find_map(|name| (0..n).find(|i| !taken[*i] && norm(&headers[*i]) == *name))
    });
    if let Some(i) = id {
        taken[i] = true;
    }

    let score = find(&ov.score).or_else(|| {
        let numeric = |i: usize| {
            let s = &all_stats[i];
            // A stray out-of-range value is a bad row, not a reason to miss the column.
            s.non_empty > 0 && s.share(s.in_scale) >= 0.8
        };
        let by_hint = |hints: &[&str]| {
            (0..n).find(|i| !taken[*i] && hinted(&label(*i), hints) && numeric(*i))
        };
        by_hint(NPS_HINTS)
            .or_else(|| by_hint(CSAT_HINTS))
            .or_else(|| by_hint(SCORE_HINTS))
    });
    let mut score_kind = None;
    if let Some(i) = score {
        taken[i] = true;
        let s = &all_stats[i];
        score_kind = Some(ov.score_kind.unwrap_or(if hinted(&label(i), NPS_HINTS) {
            ScoreKind::Nps
        } else if hinted(&label(i), CSAT_HINTS) || (s.min >= 1.0 && s.max <= 5.0) {
            ScoreKind::Csat
        } else {
            ScoreKind::Nps
        }));
    }

    let date = find(&ov.date).or_else(|| {
        DATE_NAMES.iter().find_map(|name| {
            (0..n).find(|i| {
                let s = &all_stats[*i];
                !taken[*i]
                    && norm(&headers[*i]) == *name
                    && s.non_empty > 0
                    && s.share(s.dates) >= 0.8
            })
        })
    });
    if let Some(i) = date {
        taken[i] = true;
    }

    let text: Vec<usize> = if ov.text.is_empty() {
        (0..n)
            .filter(|i| !taken[*i])
            .filter(|i| {
                let s = &all_stats[*i];
                s.looks_like_free_text()
                    || (hinted(&label(*i), TEXT_HINTS)
                        && s.non_empty > 0
                        && s.share(s.numeric) < 0.5
                        && s.avg_chars() >= 8.0
                        // A large export repeats its short answers ("ok", "Hyvä palvelu")
                        // thousands of times: a share of distinct values alone would
                        // reject a real comment column once it is big enough.
                        && (s.distinct as f64 >= 0.3 * s.non_empty as f64 || s.distinct >= 100))
            })
            .collect()
    } else {
        ov.text
            .iter()
            .filter_map(|w| headers.iter().position(|h| norm(h) == norm(w)))
            .collect()
    };
    for i in &text {
        taken[*i] = true;
    }
    Roles {
        id,
        score,
        score_kind,
        date,
        text,
        metadata: (0..n).filter(|i| !taken[*i]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn finnish_headers() {
        let headers: Vec<String> = ["Vastaaja", "Pvm", "Arvosana", "Avoin palaute", "Toimipiste"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let rows = [
            vec![
                t("1"),
                t("1.9.2026"),
                t("4,5"),
                t("Hyvä palvelu, kiitos paljon"),
                t("Tampere"),
            ],
            vec![
                t("2"),
                t("2.9.2026"),
                t("2"),
                t("Jonotin puhelimessa puoli tuntia"),
                t("Tampere"),
            ],
            vec![t("3"), t("2.9.2026"), t("5"), t("ok"), t("Oulu")],
        ];
        let refs: Vec<&[Cell]> = rows.iter().map(|r| r.as_slice()).collect();
        let r = detect(
            &headers,
            &[None, None, None, None, None],
            &refs,
            &ColumnOverrides::default(),
        );
        assert_eq!(r.id, Some(0));
        assert_eq!(r.date, Some(1));
        assert_eq!((r.score, r.score_kind), (Some(2), Some(ScoreKind::Csat)));
        assert_eq!(r.text, vec![3]);
        assert_eq!(r.metadata, vec![4]);
    }
}
