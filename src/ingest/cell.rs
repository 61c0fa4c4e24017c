//! Typed cell values shared by every tabular reader, plus the lenient parsers for the values
//! survey tools actually write (decimal commas, "10 - Erittäin todennäköisesti", US dates).

use chrono::{NaiveDate, NaiveDateTime};

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as a researcher would see it in the spreadsheet.
    pub fn display(&self) -> Option<String> {
        match self {
            Cell::Empty => None,
            Cell::Text(s) if s.trim().is_empty() => None,
            Cell::Text(s) => Some(s.trim().to_string()),
            Cell::Number(n) => Some(format_number(*n)),
            Cell::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
        }
    }

    pub fn as_number(&self) -> Option<Result<f64, ()>> {
        match self {
            Cell::Empty => None,
            Cell::Number(n) => Some(Ok(*n)),
            Cell::Text(s) if s.trim().is_empty() => None,
            Cell::Text(s) => Some(parse_number(s).ok_or(())),
            Cell::Date(_) => Some(Err(())),
        }
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Cell::Date(d) => Some(*d),
            Cell::Text(s) => parse_date(s),
            _ => None,
        }
    }
}

pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A score as written by people and tools: `8`, `8,0`, ` 9 `, `4.5`, `10 - Erittäin
/// todennäköisesti` (Qualtrics choice text). Words alone ("kymmenen") are not numbers.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim().trim_matches('"').trim();
    let bytes = t.as_bytes();
    let mut end = usize::from(bytes.first() == Some(&b'-'));
    let digits_start = end;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if end == digits_start {
        return None;
    }
    if end + 1 < bytes.len() && matches!(bytes[end], b'.' | b',') && bytes[end + 1].is_ascii_digit()
    {
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    let (num, rest) = t.split_at(end);
    // A trailing label is fine ("10 - Very likely", "9 (promoter)"); glued letters ("9a") are not.
    let labelled = rest.starts_with(char::is_whitespace)
        || rest.starts_with(['-', '\u{2013}', '(', '=', ':', '/']);
    if !rest.is_empty() && !labelled {
        return None;
    }
    num.replace(',', ".").parse().ok()
}

/// Date formats of the exports we meet: ISO (Qualtrics, Webropol), `14.9.2026` (Finnish),
/// `09/14/2026 08:31:02 AM` (SurveyMonkey, US), RFC 3339 (JSON APIs). Only the day is kept:
/// analysis is monthly, and a time of day would only make reruns timezone-dependent.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.date_naive());
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(dt.date());
    }
    let day = t.split([' ', 'T']).next().unwrap_or(t);
    const FORMATS: &[&str] = &[
        "%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d", "%Y.%m.%d",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(day, f).ok())
        .filter(|d| (1900..=2200).contains(&chrono::Datelike::year(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_written() {
        assert_eq!(parse_number("8,0"), Some(8.0));
        assert_eq!(parse_number(" 9 "), Some(9.0));
        assert_eq!(parse_number("4.5"), Some(4.5));
        assert_eq!(parse_number("10 - Erittäin todennäköisesti"), Some(10.0));
        assert_eq!(parse_number("0 – Ei lainkaan"), Some(0.0));
        assert_eq!(parse_number("kymmenen"), None);
        assert_eq!(parse_number("9a"), None);
        assert_eq!(parse_number("-"), None);
    }

    #[test]
    fn dates_as_written() {
        let d = NaiveDate::from_ymd_opt(2026, 9, 14).unwrap();
        for s in [
            "2026-09-14 08:31:02",
            "2026-09-14",
            "14.9.2026",
            "14.09.2026 klo 8.31",
            "09/14/2026 08:31:02 AM",
            "2026-09-14T08:31:02Z",
            "2026-09-14T08:31:02+03:00",
        ] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        assert_eq!(parse_date("Uusimaa"), None);
    }
}
