//! Timestamps as transcript tools write them: `00:01:02.345` (WebVTT), `00:01:02,345` (SRT),
//! `0:0:4.150` (older Teams), `1:02` and `1:02:03` (Otter).

/// Seconds, or `None` when `s` is not a timestamp.
pub fn parse(s: &str) -> Option<f64> {
    let s = s.trim();
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let mut total = 0.0;
    for (i, p) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        let ok = !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_digit() || (last && (c == '.' || c == ',')))
            && p.chars().next().is_some_and(|c| c.is_ascii_digit());
        if !ok {
            return None;
        }
        let v: f64 = p.replace(',', ".").parse().ok()?;
        total = total * 60.0 + v;
    }
    // Millisecond precision, as written; avoids 81.27799999999999 in the tables.
    Some((total * 1000.0).round() / 1000.0)
}

/// `start --> end [cue settings]`.
pub fn parse_range(line: &str) -> Option<(f64, f64)> {
    let (a, b) = line.split_once("-->")?;
    let b = b.split_whitespace().next()?;
    Some((parse(a)?, parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(parse("00:01:02.345"), Some(62.345));
        assert_eq!(parse("00:01:02,5"), Some(62.5));
        assert_eq!(parse("0:0:4.150"), Some(4.15));
        assert_eq!(parse("1:02:03"), Some(3723.0));
        assert_eq!(parse("0:02"), Some(2.0));
        assert_eq!(parse("klo 9"), None);
        assert_eq!(
            parse_range("00:00:01.000 --> 00:00:04.500 align:start"),
            Some((1.0, 4.5))
        );
    }
}
