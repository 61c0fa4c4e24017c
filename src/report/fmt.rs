//! Escaping, number formatting per UI language, and the heatmap palette. Everything here is a
//! pure function of its inputs so the page is byte-identical for the same tables.

use super::UiLang;

/// Escape text for HTML element content and quoted attribute values alike.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that is safe inside `<script type="application/json">`: the HTML parser ends a script
/// element at the first `</script` whatever the JSON means, and `<!--` changes its state, so
/// `<`, `>` and `&` are written as JSON escapes (only strings can contain them). U+2028/2029
/// are escaped too, for tools that splice the text into JavaScript source.
pub fn json_for_script(value: &serde_json::Value) -> String {
    // `Value`'s Display is its compact JSON and cannot fail.
    let raw = value.to_string();
    let mut out = String::with_capacity(raw.len() + 16);
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, cut at a word boundary when one is near, with an ellipsis.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let at = cut
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map(|(i, _)| i)
        .filter(|i| cut[..*i].chars().count() > max * 3 / 4)
        .unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end())
}

/// Fi and sv group thousands with a no-break space and use a decimal comma and a real minus
/// sign; en uses commas and a point.
fn group_sep(lang: UiLang) -> &'static str {
    match lang {
        UiLang::En => ",",
        UiLang::Fi | UiLang::Sv => "\u{a0}",
    }
}

pub fn int(n: u64, lang: UiLang) -> String {
    let digits = n.to_string();
    if digits.len() <= 3 {
        return digits;
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(group_sep(lang));
        }
        out.push(c);
    }
    out
}

/// A decimal with `digits` places; `-0` prints as `0`.
pub fn dec(v: f64, digits: usize, lang: UiLang) -> String {
    let s = format!("{:.*}", digits, v.abs());
    let zero = s.chars().all(|c| c == '0' || c == '.');
    let (whole, frac) = s.split_once('.').map_or((s.as_str(), ""), |(w, f)| (w, f));
    let mut out = String::new();
    if v < 0.0 && !zero {
        out.push('\u{2212}');
    }
    out.push_str(&int(whole.parse().unwrap_or(0), lang));
    if !frac.is_empty() {
        out.push(if lang == UiLang::En { '.' } else { ',' });
        out.push_str(frac);
    }
    out
}

/// Like [`dec`] with an explicit `+` on positive values (NPS impacts, sentiment).
pub fn signed(v: f64, digits: usize, lang: UiLang) -> String {
    let s = dec(v, digits, lang);
    if v > 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("+{s}")
    } else {
        s
    }
}

/// A share 0–1 as a whole percentage.
pub fn pct(share: f64, lang: UiLang) -> String {
    let n = dec(share * 100.0, 0, lang);
    match lang {
        UiLang::En => format!("{n}%"),
        UiLang::Fi | UiLang::Sv => format!("{n}\u{a0}%"),
    }
}

pub fn seconds(s: f64, lang: UiLang) -> String {
    if s < 0.01 {
        format!("<{}\u{a0}s", dec(0.01, 2, lang))
    } else {
        format!("{}\u{a0}s", dec(s, 2, lang))
    }
}

/// Seconds from the start of a recording as `m:ss` or `h:mm:ss`.
pub fn timestamp(t: f64) -> String {
    let total = t.max(0.0).floor() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// ISO `YYYY-MM-DD` as the UI language writes dates (Finnish `14.9.2026`).
pub fn date(iso: &str, lang: UiLang) -> String {
    match (lang, chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")) {
        (UiLang::Fi, Ok(d)) => d.format("%-d.%-m.%Y").to_string(),
        _ => iso.to_string(),
    }
}

/// ColorBrewer "Reds" (9 classes): a single-hue lightness ramp, readable with every kind of
/// colour-vision deficiency and in greyscale print.
const REDS: [(u8, u8, u8); 9] = [
    (0xff, 0xf5, 0xf0),
    (0xfe, 0xe0, 0xd2),
    (0xfc, 0xbb, 0xa1),
    (0xfc, 0x92, 0x72),
    (0xfb, 0x6a, 0x4a),
    (0xef, 0x3b, 0x2c),
    (0xcb, 0x18, 0x1d),
    (0xa5, 0x0f, 0x15),
    (0x67, 0x00, 0x0d),
];

/// Background colour for a negative share (0–1) and whether text on it must be light.
pub fn heat(share: f64) -> (String, bool) {
    let x = share.clamp(0.0, 1.0) * (REDS.len() - 1) as f64;
    let i = (x.floor() as usize).min(REDS.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (REDS[i], REDS[i + 1]);
    let (r, g, bl) = (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2));
    // Relative luminance decides the text colour, so labels keep WCAG contrast on every step.
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let lum = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(bl);
    (format!("#{r:02x}{g:02x}{bl:02x}"), lum < 0.3)
}

/// CSS gradient of the same palette for the legend.
pub fn heat_gradient() -> String {
    let stops: Vec<String> = (0..=8)
        .map(|i| {
            let (c, _) = heat(i as f64 / 8.0);
            format!("{c} {}%", i as f64 * 12.5)
        })
        .collect();
    format!("linear-gradient(to right, {})", stops.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_ui_language() {
        assert_eq!(int(1076, UiLang::En), "1,076");
        assert_eq!(int(1076, UiLang::Fi), "1\u{a0}076");
        assert_eq!(int(1234567, UiLang::En), "1,234,567");
        assert_eq!(dec(-8.734, 1, UiLang::Fi), "\u{2212}8,7");
        assert_eq!(dec(-0.01, 1, UiLang::En), "0.0");
        assert_eq!(signed(6.14, 1, UiLang::En), "+6.1");
        assert_eq!(pct(0.414, UiLang::Sv), "41\u{a0}%");
        assert_eq!(pct(0.415, UiLang::En), "42%");
        assert_eq!(timestamp(783.7), "13:03");
        assert_eq!(timestamp(3725.0), "1:02:05");
        assert_eq!(date("2026-09-04", UiLang::Fi), "4.9.2026");
    }

    #[test]
    fn escaping_is_complete() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let j = json_for_script(&serde_json::json!({"t": "</script><!-- & \u{2028}"}));
        assert!(
            !j.contains('<') && !j.contains('>') && !j.contains('&'),
            "{j}"
        );
        let back: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(back["t"], "</script><!-- & \u{2028}");
    }

    #[test]
    fn truncation_and_palette() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("one two three four five", 15), "one two three…");
        assert_eq!(truncate("one two three four five", 12), "one two thre…");
        let (light, light_text) = heat(0.0);
        let (dark, dark_text) = heat(1.0);
        assert_eq!((light.as_str(), light_text), ("#fff5f0", false));
        assert_eq!((dark.as_str(), dark_text), ("#67000d", true));
    }
}
