//! Detectors of personal data in free text. Each finds candidates with a pattern, then keeps
//! only what validates — a check character, Luhn, mod-97, a phone number plan — so prices,
//! order numbers, dates and times survive: `4500123`, `49,90 €`, `12.3.2025`, `klo 9.30`.

use std::sync::LazyLock;

use regex::Regex;

use super::{Kind, Span};

/// Every built-in detector's spans in `text` (byte offsets), unsorted and possibly
/// overlapping; [`super::Redactor`] resolves overlaps by [`Span::priority`].
pub fn builtin(
    text: &str,
    kinds: &[Kind],
    regions: &[phonenumber::country::Id],
    out: &mut Vec<Span>,
) {
    for kind in kinds {
        match kind {
            Kind::Email => email(text, out),
            Kind::Phone => phone(text, regions, out),
            Kind::Hetu => hetu(text, out),
            Kind::Personnummer => personnummer(text, out),
            Kind::Iban => iban(text, out),
            Kind::Card => card(text, out),
            Kind::Name | Kind::Custom(_) => {}
        }
    }
}

fn push(out: &mut Vec<Span>, kind: Kind, m: regex::Match, priority: u8) {
    out.push(Span {
        start: m.start(),
        end: m.end(),
        kind,
        priority,
    });
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9][a-z0-9._%+\-]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,24}\b")
        .expect("valid regex")
});

fn email(text: &str, out: &mut Vec<Span>) {
    for m in EMAIL.find_iter(text) {
        push(out, Kind::Email, m, 0);
    }
}

/// Finnish henkilötunnus: DDMMYY, century sign (+ 1800s; - Y X W V U 1900s; A–F 2000s),
/// individual number, check character over DDMMYYNNN mod 31.
static HETU: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{2})(\d{2})(\d{2})[-+YXWVUABCDEF](\d{3})([0-9ABCDEFHJKLMNPRSTUVWXY])\b")
        .expect("valid regex")
});

fn hetu(text: &str, out: &mut Vec<Span>) {
    const CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    for c in HETU.captures_iter(text) {
        let n = |i: usize| c[i].parse::<u64>().unwrap_or(u64::MAX);
        let (day, month) = (n(1), n(2));
        if !(1..=31).contains(&day) || !(1..=12).contains(&month) {
            continue;
        }
        let number = n(1) * 10_000_000 + n(2) * 100_000 + n(3) * 1000 + n(4);
        if CHECK[(number % 31) as usize] == c[5].as_bytes()[0] {
            push(out, Kind::Hetu, c.get(0).expect("whole match"), 1);
        }
    }
}

/// Swedish personnummer and samordningsnummer (day + 60): [YY]YYMMDD[-+]NNNC with a Luhn
/// check digit over the ten digits YYMMDDNNNC.
static PERSONNUMMER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:(?:18|19|20)\d{2}|\d{2})(\d{2})(\d{2})([-+]?)(\d{4})\b").expect("valid regex")
});

fn personnummer(text: &str, out: &mut Vec<Span>) {
    for c in PERSONNUMMER.captures_iter(text) {
        let whole = c.get(0).expect("whole match");
        let digits: Vec<u32> = whole
            .as_str()
            .chars()
            .filter_map(|ch| ch.to_digit(10))
            .collect();
        let ten = &digits[digits.len() - 10..];
        let month: u32 = c[1].parse().unwrap_or(0);
        let day: u32 = c[2].parse().unwrap_or(0);
        let day_ok = (1..=31).contains(&day) || (61..=91).contains(&day);
        if !(1..=12).contains(&month) || !day_ok || !luhn(ten) {
            continue;
        }
        // Ten bare digits starting with 0 are more often a phone number (0701234567): the
        // phone detector wins those when they are one; with a separator it is an id.
        let priority = if c[3].is_empty() { 4 } else { 2 };
        push(out, Kind::Personnummer, whole, priority);
    }
}

/// IBAN: country code, two check digits and 11–30 alphanumerics, optionally in groups of
/// four; valid when the rearranged number is 1 mod 97.
static IBAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}\b").expect("valid regex")
});

fn iban(text: &str, out: &mut Vec<Span>) {
    for m in IBAN.find_iter(text) {
        let compact: String = m.as_str().chars().filter(|c| !c.is_whitespace()).collect();
        if !(15..=34).contains(&compact.len()) {
            continue;
        }
        let rearranged = compact[4..].chars().chain(compact[..4].chars());
        let mut rem = 0u32;
        for ch in rearranged {
            let v = ch.to_digit(36).unwrap_or(0);
            rem = if v >= 10 {
                (rem * 100 + v) % 97
            } else {
                (rem * 10 + v) % 97
            };
        }
        if rem == 1 {
            push(out, Kind::Iban, m, 1);
        }
    }
}

/// Payment cards: 13–19 digits in groups separated by spaces or dashes, an issuer prefix
/// (Visa, Mastercard, Amex, Discover, JCB, Diners) and a valid Luhn digit.
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d(?:[ \-]?\d){12,18}\b").expect("valid regex"));

fn card(text: &str, out: &mut Vec<Span>) {
    for m in CARD.find_iter(text) {
        let digits: Vec<u32> = m.as_str().chars().filter_map(|c| c.to_digit(10)).collect();
        let prefix = |n: usize| digits[..n].iter().fold(0u32, |a, d| a * 10 + d);
        let issuer = digits[0] == 4
            || (51..=55).contains(&prefix(2))
            || (2221..=2720).contains(&prefix(4))
            || matches!(prefix(2), 34 | 37 | 36 | 38 | 65 | 35)
            || prefix(4) == 6011;
        if issuer && luhn(&digits) {
            push(out, Kind::Card, m, 1);
        }
    }
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                *d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Phone candidates: international (`+358 40 123 4567`, `0046 70…`), national with a trunk
/// 0 (`040-123 4567`, `0401234567`, `070-123 45 67`, `09 123 4567`) and North American
/// `(555) 123-4567`. Digits grouped by spaces, dashes or parentheses only: a dot or comma
/// (dates, times, prices) ends a candidate.
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:\+|\b00|\b0|\()\d[\d \-()]{4,17}\d\b").expect("valid regex"));

static NANP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\(\d{3}\) ?\d{3}[\- ]\d{4}$").expect("valid regex"));

fn phone(text: &str, regions: &[phonenumber::country::Id], out: &mut Vec<Span>) {
    for m in PHONE.find_iter(text) {
        // The pattern is greedy: a number followed by another figure ("040-123 4567 2025")
        // is retried without its trailing groups until it validates.
        let mut s = m.as_str().trim_end_matches([' ', '-', '(', ')']);
        loop {
            let digits = s.chars().filter(char::is_ascii_digit).count();
            if digits < 7 {
                break;
            }
            if digits <= 15 && valid_phone(s, regions) {
                out.push(Span {
                    start: m.start(),
                    end: m.start() + s.len(),
                    kind: Kind::Phone,
                    priority: 3,
                });
                break;
            }
            match s.rfind([' ', '-']) {
                Some(cut) => s = s[..cut].trim_end_matches([' ', '-', '(', ')']),
                None => break,
            }
        }
    }
}

fn valid_phone(s: &str, regions: &[phonenumber::country::Id]) -> bool {
    if s.starts_with('+') {
        phonenumber::parse(None, s).is_ok_and(|n| n.is_valid())
    } else if let Some(rest) = s.strip_prefix("00") {
        phonenumber::parse(None, format!("+{rest}")).is_ok_and(|n| n.is_valid())
    } else {
        // The (555) 123-4567 layout is a phone number by its shape alone; 555 is the
        // fictional exchange, which a number plan would reject.
        NANP.is_match(s)
            || regions
                .iter()
                .any(|r| phonenumber::parse(Some(*r), s).is_ok_and(|n| n.is_valid()))
    }
}
