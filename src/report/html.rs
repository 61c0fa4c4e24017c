//! The page: head with inline CSS, overview, heatmap and drivers chart (theme sections and run
//! facts are in `sections`), then the bounded JSON the popovers read and the inline script.
//! All text goes through [`esc`]; all embedded JSON through [`json_for_script`].

use std::fmt::Write as _;

use serde_json::json;

use super::data::{Cell, ReportData};
use super::fmt::{dec, esc, heat, heat_gradient, int, json_for_script, pct, signed};
use super::i18n::{strings, Strings};
use super::sections;
use super::UiLang;

const CSS: &str = include_str!("../../assets/report/report.css");
const JS: &str = include_str!("../../assets/report/report.js");

/// `write!` into a String cannot fail; this keeps the call sites short.
macro_rules! w {
    ($h:expr, $($arg:tt)*) => {{
        let _ = write!($h, $($arg)*);
    }};
}
pub(super) use w;

pub fn render(d: &ReportData, lang: UiLang) -> String {
    let t = strings(lang);
    let mut h = String::with_capacity(128 * 1024);
    w!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"palaute {}\">\n<title>{}</title>\n<style>\n{}</style>\n</head>\n<body>\n",
        t.html_lang,
        esc(d.facts.version.as_deref().unwrap_or("")),
        esc(t.title),
        CSS
    );
    header(&mut h, d, t, lang);
    h.push_str("<main class=\"wrap\">\n");
    overview(&mut h, d, t, lang);
    heatmap(&mut h, d, t, lang);
    drivers(&mut h, d, t, lang);
    super::changes::render(&mut h, d, t, lang);
    sections::themes(&mut h, d, t, lang);
    sections::run_facts(&mut h, d, t, lang);
    h.push_str("</main>\n");
    footer(&mut h, d, t);
    w!(
        h,
        "<script type=\"application/json\" id=\"palaute-data\">{}</script>\n<script>\n{}</script>\n</body>\n</html>\n",
        json_for_script(&page_data(d, t, lang)),
        JS
    );
    h
}

fn header(h: &mut String, d: &ReportData, t: &Strings, lang: UiLang) {
    let mut meta = Vec::new();
    for (k, v) in &d.facts.counts {
        match *k {
            "files" => meta.push(format!("{} {}", int(*v, lang), t.files.to_lowercase())),
            "documents" => meta.push(format!("{} {}", int(*v, lang), t.documents.to_lowercase())),
            _ => {}
        }
    }
    if let (Some(a), Some(b)) = (&d.overview.first_date, &d.overview.last_date) {
        meta.push(format!(
            "{} {} – {}",
            t.period,
            super::fmt::date(a, lang),
            super::fmt::date(b, lang)
        ));
    }
    w!(
        h,
        "<header class=\"page-head\"><div class=\"wrap\">\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n\
         <nav aria-label=\"{}\"><a href=\"#overview\">{}</a><a href=\"#heatmap\">{}</a>\
         <a href=\"#drivers\">{}</a><a href=\"#themes\">{}</a><a href=\"#run\">{}</a></nav>\n</div></header>\n",
        esc(t.title),
        esc(&meta.join(" · ")),
        esc(t.title),
        esc(t.nav_overview),
        esc(t.nav_heatmap),
        esc(t.nav_drivers),
        esc(t.nav_themes),
        esc(t.nav_run)
    );
}

fn count(d: &ReportData, key: &str) -> Option<u64> {
    d.facts
        .counts
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
}

fn overview(h: &mut String, d: &ReportData, t: &Strings, lang: UiLang) {
    w!(
        h,
        "<section id=\"overview\" aria-labelledby=\"h-overview\">\n<h2 id=\"h-overview\">{}</h2>\n<dl class=\"kpis\">\n",
        esc(t.nav_overview)
    );
    let mut kpi = |label: &str, value: String, sub: Option<String>| {
        w!(
            h,
            "<div class=\"kpi\"><dt>{}</dt><dd>{}{}</dd></div>\n",
            esc(label),
            esc(&value),
            sub.map(|s| format!("<small>{}</small>", esc(&s)))
                .unwrap_or_default()
        );
    };
    if let Some(n) = count(d, "documents") {
        let sub = count(d, "rows").map(|r| format!("{} {}", int(r, lang), t.rows.to_lowercase()));
        kpi(t.documents, int(n, lang), sub);
    }
    kpi(t.respondents, int(d.overview.respondents, lang), None);
    if let Some(n) = count(d, "segments") {
        kpi(t.segments, int(n, lang), None);
    }
    if let Some(nps) = d.overview.nps {
        kpi(
            t.overall_nps,
            signed(nps, 0, lang),
            Some(format!(
                "{} {}",
                int(d.overview.nps_respondents, lang),
                t.scored_respondents
            )),
        );
    }
    if d.overview.customer_segments > 0 {
        let share = d.overview.negative_segments as f64 / d.overview.customer_segments as f64;
        kpi(
            t.negative_segments,
            int(d.overview.negative_segments, lang),
            Some(pct(share, lang)),
        );
    }
    kpi(t.rejects, int(d.facts.rejects.total, lang), None);
    h.push_str("</dl>\n");
    if !d.classified {
        w!(
            h,
            "<div class=\"notice\" role=\"note\" data-no-classification><p>{}</p>",
            esc(t.no_classification)
        );
        let status = d.facts.status.as_deref().map(|s| t.status(s));
        if let Some(s) = status {
            w!(
                h,
                "<p><b>{}:</b> {}{}</p>",
                esc(t.classification),
                esc(&s),
                d.facts
                    .reason
                    .as_deref()
                    .map(|r| format!(" — {}", esc(r)))
                    .unwrap_or_default()
            );
        }
        h.push_str("</div>\n");
    } else if !d.missing.is_empty() {
        w!(
            h,
            "<p class=\"note\">{}: {}</p>\n",
            esc(t.missing_tables),
            esc(&d.missing.join(", "))
        );
    }
    h.push_str("</section>\n");
}

/// Label and tooltip facts of a cell, shared by the static title and the popover data.
fn cell_stats(c: &Cell, t: &Strings, lang: UiLang) -> Vec<(&'static str, String)> {
    let mut s = vec![
        (t.segments, int(c.segments, lang)),
        (
            t.negative_share,
            match c.negative_ci {
                Some((l, h)) => format!(
                    "{} ({}…{})",
                    pct(c.negative_share, lang),
                    pct(l, lang),
                    pct(h, lang)
                ),
                None => pct(c.negative_share, lang),
            },
        ),
        (t.documents, int(c.documents, lang)),
        (t.respondents, int(c.respondents, lang)),
        (t.root_cause, int(c.root_cause_segments, lang)),
    ];
    if let Some(m) = c.mean_sentiment {
        s.push((t.mean_sentiment, signed(m, 2, lang)));
    }
    if let Some(v) = c.nps_mentioners {
        s.push((t.nps_mentioners, signed(v, 0, lang)));
    }
    if let Some(v) = c.nps_impact {
        let ci = c.impact_ci.map_or(String::new(), |(l, h)| {
            format!(" ({}…{})", signed(l, 1, lang), signed(h, 1, lang))
        });
        s.push((t.nps_impact, format!("{}{ci}", signed(v, 1, lang))));
    }
    s
}

/// Below this many segments a share is too uncertain to stand out: such cells stay pale and
/// carry their colour as a corner mark (explained in the legend), so one angry sentence is not
/// read as a hotspot.
pub const FEW_SEGMENTS: u64 = 3;

/// A cell whose negative-share interval is wider than this is too uncertain to call either,
/// whatever its count (the Wilson interval of 3 of 3 negative is 44–100 %).
pub const MAX_SHARE_INTERVAL: f64 = 0.5;

/// Whether a cell is too uncertain to be coloured as a hotspot.
fn uncertain(c: &Cell) -> bool {
    c.segments < FEW_SEGMENTS
        || c.negative_ci
            .is_some_and(|(l, h)| h - l > MAX_SHARE_INTERVAL)
}

/// Attributes of a coloured cell, and the corner mark that replaces the fill when it has few
/// segments.
fn heat_attrs(share: f64, few: bool) -> (String, String) {
    let (bg, light) = heat(share);
    if few {
        return (
            "data-few".to_string(),
            format!("<i class=\"mark\" style=\"background-color:{bg}\"></i>"),
        );
    }
    let fg = if light { "#fff" } else { "#1a1a1a" };
    (
        format!("style=\"background-color:{bg};color:{fg}\""),
        String::new(),
    )
}

fn total_cell(h: &mut String, share: f64, segments: u64, lang: UiLang, after: &str) {
    let (attrs, mark) = heat_attrs(share, segments < FEW_SEGMENTS);
    w!(
        h,
        "<td class=\"tot\" {attrs}>{mark}<b>{}</b><small>{}</small></td>{after}",
        int(segments, lang),
        esc(&pct(share, lang))
    );
}

fn heatmap(h: &mut String, d: &ReportData, t: &Strings, lang: UiLang) {
    w!(
        h,
        "<section id=\"heatmap\" aria-labelledby=\"h-heatmap\">\n<h2 id=\"h-heatmap\">{}</h2>\n",
        esc(t.nav_heatmap)
    );
    if d.cells.is_empty() {
        w!(
            h,
            "<div class=\"notice\" role=\"note\" data-heatmap-empty><p>{}</p></div>\n</section>\n",
            esc(t.heatmap_empty)
        );
        return;
    }
    w!(
        h,
        "<p class=\"intro\">{}</p>\n<div class=\"legend\"><span class=\"legend-label\">{}</span>\
         <span class=\"ramp-wrap\"><span class=\"ramp\" style=\"background:{}\"></span>\
         <span class=\"ticks\"><span>{}</span><span>{}</span><span>{}</span></span></span>\
         <span class=\"swatch-few\"><i class=\"mark\"></i></span><span>{}</span>\
         <span class=\"swatch-empty\"></span><span>{}</span></div>\n",
        esc(t.heatmap_intro),
        esc(t.negative_share),
        heat_gradient(),
        esc(&pct(0.0, lang)),
        esc(&pct(0.5, lang)),
        esc(&pct(1.0, lang)),
        esc(&t.few_segments.replace("{n}", &FEW_SEGMENTS.to_string())),
        esc(t.no_segments)
    );
    let rows: Vec<usize> = (0..d.themes.len())
        .filter(|ti| d.theme_shown(*ti))
        .collect();
    w!(
        h,
        "<div class=\"scroll\"><table class=\"heatmap\" data-heatmap data-rows=\"{}\" data-cols=\"{}\">\n\
         <thead><tr><th scope=\"col\" class=\"corner\">{}</th>",
        rows.len(),
        d.stages.len(),
        esc(t.theme)
    );
    for s in &d.stages {
        w!(
            h,
            "<th scope=\"col\" data-stage=\"{}\"><span>{}</span></th>",
            esc(&s.id),
            esc(&s.label)
        );
    }
    w!(
        h,
        "<th scope=\"col\" class=\"tot\">{}</th></tr></thead>\n<tbody>\n",
        esc(t.total)
    );
    for ti in rows {
        let th = &d.themes[ti];
        w!(
            h,
            "<tr data-theme=\"{}\"><th scope=\"row\"><a href=\"#theme-{ti}\">{}</a></th>",
            esc(&th.id),
            esc(&th.label)
        );
        for (si, s) in d.stages.iter().enumerate() {
            let Some((ci, c)) = d
                .cells
                .iter()
                .enumerate()
                .find(|(_, c)| c.theme == ti && c.stage == si)
            else {
                w!(h, "<td class=\"empty\" data-stage=\"{}\"></td>", esc(&s.id));
                continue;
            };
            let title = format!("{} × {}", th.label, s.label);
            let (attrs, mark) = heat_attrs(c.negative_share, uncertain(c));
            let stats: Vec<String> = cell_stats(c, t, lang)
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            w!(
                h,
                "<td class=\"cell\" data-theme=\"{}\" data-stage=\"{}\" data-segments=\"{}\" \
                 data-negative-share=\"{}\" {} title=\"{}\">\
                 <button type=\"button\" data-cell=\"{ci}\" aria-expanded=\"false\" aria-controls=\"cell-popover\" \
                 aria-label=\"{}: {} — {}\">{mark}<b>{}</b><small>{}</small></button></td>",
                esc(&th.id),
                esc(&s.id),
                c.segments,
                c.negative_share,
                attrs,
                esc(&format!("{title}\n{}", stats.join("\n"))),
                esc(&title),
                esc(&stats[..2].join(", ")),
                esc(t.select_cell),
                int(c.segments, lang),
                esc(&pct(c.negative_share, lang))
            );
        }
        match th.negative_share {
            Some(neg) if th.segments > 0 => total_cell(h, neg, th.segments, lang, "</tr>\n"),
            _ => h.push_str("<td class=\"tot\"></td></tr>\n"),
        }
    }
    h.push_str("</tbody>\n");
    if d.stages.iter().any(|s| s.segments > 0) {
        w!(h, "<tfoot><tr><th scope=\"row\">{}</th>", esc(t.total));
        for s in &d.stages {
            if s.segments == 0 {
                h.push_str("<td class=\"empty\"></td>");
                continue;
            }
            total_cell(
                h,
                s.negative as f64 / s.segments as f64,
                s.segments,
                lang,
                "",
            );
        }
        let o = &d.overview;
        let neg = o.negative_segments as f64 / o.customer_segments.max(1) as f64;
        total_cell(h, neg, o.customer_segments, lang, "</tr></tfoot>\n");
    }
    h.push_str("</table></div>\n");
    let unmentioned: Vec<&str> = d
        .themes
        .iter()
        .enumerate()
        .filter(|(ti, _)| !d.theme_shown(*ti))
        .map(|(_, th)| th.label.as_str())
        .collect();
    if !unmentioned.is_empty() {
        w!(
            h,
            "<p class=\"note\">{}: {}</p>\n",
            esc(t.not_mentioned),
            esc(&unmentioned.join(", "))
        );
    }
    h.push_str(
        "<div id=\"cell-popover\" class=\"popover\" role=\"dialog\" aria-labelledby=\"popover-title\" hidden></div>\n</section>\n",
    );
}

/// Horizontal bar on a linear scale `lo..hi` (lo ≤ 0 ≤ hi) with a zero line.
fn bar_svg(value: f64, lo: f64, hi: f64, width: f64, class: &str, label: &str) -> String {
    bar_ci_svg(value, None, lo, hi, width, class, label)
}

/// A bar from 0 to `value`, with the interval `ci` as an error bar (whisker with end ticks).
fn bar_ci_svg(
    value: f64,
    ci: Option<(f64, f64)>,
    lo: f64,
    hi: f64,
    width: f64,
    class: &str,
    label: &str,
) -> String {
    let x = |v: f64| ((v.clamp(lo, hi) - lo) / (hi - lo) * width).clamp(0.0, width);
    let (a, b) = (x(0.0), x(value));
    let whisker = ci.map_or(String::new(), |(l, h)| {
        let (l, h) = (x(l), x(h));
        format!(
            "<g class=\"ci\"><line x1=\"{l:.1}\" x2=\"{h:.1}\" y1=\"9\" y2=\"9\"></line>\
             <line x1=\"{l:.1}\" x2=\"{l:.1}\" y1=\"5\" y2=\"13\"></line>\
             <line x1=\"{h:.1}\" x2=\"{h:.1}\" y1=\"5\" y2=\"13\"></line></g>"
        )
    });
    format!(
        "<svg class=\"bar {class}\" width=\"{width}\" height=\"18\" viewBox=\"0 0 {width} 18\" role=\"img\" aria-label=\"{}\">\
         <rect x=\"{:.1}\" y=\"3\" width=\"{:.1}\" height=\"12\" rx=\"2\"></rect>\
         <line x1=\"{a:.1}\" x2=\"{a:.1}\" y1=\"0\" y2=\"18\"></line>{whisker}</svg>",
        esc(label),
        a.min(b),
        (b - a).abs().max(if value == 0.0 { 0.0 } else { 1.0 }),
    )
}

/// A round bound for the axis: 1, 2 or 5 times a power of ten at or above `v`.
fn nice(v: f64) -> f64 {
    if v <= 0.0 {
        return 0.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|x| *x >= v)
        .unwrap_or(10.0 * p)
}

fn drivers(h: &mut String, d: &ReportData, t: &Strings, lang: UiLang) {
    w!(
        h,
        "<section id=\"drivers\" aria-labelledby=\"h-drivers\">\n<h2 id=\"h-drivers\">{}</h2>\n",
        esc(t.nav_drivers)
    );
    if d.drivers.is_empty() {
        w!(
            h,
            "<div class=\"notice\" role=\"note\" data-drivers-empty><p>{}</p></div>\n</section>\n",
            esc(t.drivers_empty)
        );
        return;
    }
    // The scale covers the intervals too, so no whisker is cut off.
    let impacts = d.drivers.iter().flat_map(|x| {
        let ci = x.impact_ci.map(|c| [c.0, c.1]).unwrap_or_default();
        x.nps_impact
            .into_iter()
            .chain(x.impact_ci.is_some().then_some(ci).into_iter().flatten())
    });
    let lo = -nice(-impacts.clone().fold(0.0, f64::min));
    let hi = nice(impacts.fold(0.0, f64::max));
    let (lo, hi) = if lo == hi { (-1.0, 1.0) } else { (lo, hi) };
    let share_hi = nice(d.drivers.iter().map(|x| x.share).fold(0.0, f64::max)).max(0.01);
    const IMPACT_W: f64 = 200.0;
    const SHARE_W: f64 = 120.0;
    w!(
        h,
        "<p class=\"intro\">{}</p>\n<div class=\"scroll\"><table class=\"drivers\" data-drivers>\n<thead><tr>\
         <th scope=\"col\" class=\"num\">#</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th><th scope=\"col\" class=\"num\">{}</th>\
         <th scope=\"col\" class=\"num\">{}</th></tr></thead>\n<tbody>\n",
        esc(t.drivers_intro),
        esc(t.theme),
        esc(t.nps_impact_points),
        esc(t.share_of_respondents),
        esc(t.negative_share),
        esc(t.nps_mentioners),
        esc(t.detractor_lift)
    );
    let dash = "–".to_string();
    for x in &d.drivers {
        let th = &d.themes[x.theme];
        let impact = x.nps_impact.map(|v| {
            let ci = x.impact_ci.map_or(String::new(), |(l, h)| {
                format!(" ({}…{})", signed(l, 1, lang), signed(h, 1, lang))
            });
            format!("{}{ci}", signed(v, 1, lang))
        });
        // Why a driver is greyed: not significant after the correction, or too few scores.
        let caveat = match (x.low_base, x.significant) {
            (true, _) => Some(t.low_base),
            (false, Some(false)) => Some(t.not_significant),
            _ => None,
        };
        let impact_cell = match x.nps_impact {
            Some(v) => format!(
                "{}<span class=\"val\">{}</span>{}",
                bar_ci_svg(
                    v,
                    x.impact_ci,
                    lo,
                    hi,
                    IMPACT_W,
                    if v < 0.0 { "neg" } else { "pos" },
                    impact.as_deref().unwrap_or("")
                ),
                esc(impact.as_deref().unwrap_or("")),
                caveat.map_or(String::new(), |c| format!(
                    " <span class=\"caveat\">{}</span>",
                    esc(c)
                ))
            ),
            None => dash.clone(),
        };
        let rank = if x.rank == u64::MAX {
            dash.clone()
        } else {
            x.rank.to_string()
        };
        let share = pct(x.share, lang);
        w!(
            h,
            "<tr data-theme=\"{}\" data-rank=\"{}\"{}><td class=\"num\">{}</td><th scope=\"row\"><a href=\"#theme-{}\">{}</a></th>\
             <td class=\"barcell\">{}</td><td class=\"barcell\">{}<span class=\"val\">{}</span></td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            esc(&th.id),
            rank,
            if caveat.is_some() {
                " class=\"ns\" data-significant=\"false\""
            } else {
                " data-significant=\"true\""
            },
            rank,
            x.theme,
            esc(&th.label),
            impact_cell,
            bar_svg(x.share, 0.0, share_hi, SHARE_W, "share", &share),
            esc(&format!("{share} ({})", int(x.respondents, lang))),
            x.negative_share.map_or(dash.clone(), |v| pct(v, lang)),
            x.nps_mentioners.map_or(dash.clone(), |v| signed(v, 0, lang)),
            x.detractor_lift
                .map_or(dash.clone(), |v| format!("{}×", dec(v, 2, lang))),
        );
    }
    // Axis under the impact bars: the scale ends and zero.
    let x0 = -lo / (hi - lo) * IMPACT_W;
    w!(
        h,
        "</tbody>\n<tfoot><tr><td></td><td></td><td class=\"barcell\"><svg class=\"axis\" width=\"{IMPACT_W}\" height=\"16\" \
         viewBox=\"0 0 {IMPACT_W} 16\" aria-hidden=\"true\"><text x=\"0\" y=\"12\" text-anchor=\"start\">{}</text>\
         <text x=\"{x0:.1}\" y=\"12\" text-anchor=\"middle\">0</text><text x=\"{IMPACT_W}\" y=\"12\" text-anchor=\"end\">{}</text></svg></td>\
         <td class=\"barcell\"><svg class=\"axis\" width=\"{SHARE_W}\" height=\"16\" viewBox=\"0 0 {SHARE_W} 16\" aria-hidden=\"true\">\
         <text x=\"0\" y=\"12\">{}</text><text x=\"{SHARE_W}\" y=\"12\" text-anchor=\"end\">{}</text></svg></td>\
         <td></td><td></td><td></td></tr></tfoot>\n</table></div>\n",
        if lo < 0.0 { esc(&signed(lo, 0, lang)) } else { String::new() },
        if hi > 0.0 { esc(&signed(hi, 0, lang)) } else { String::new() },
        esc(&pct(0.0, lang)),
        esc(&pct(share_hi, lang)),
    );
    if let Some(nps) = d.overview.nps {
        w!(
            h,
            "<p class=\"note\">{}: <b>{}</b> ({} {})</p>\n",
            esc(t.overall_nps),
            esc(&signed(nps, 0, lang)),
            int(d.overview.nps_respondents, lang),
            esc(t.scored_respondents)
        );
    }
    h.push_str("</section>\n");
}

fn footer(h: &mut String, d: &ReportData, t: &Strings) {
    let text = t
        .footer
        .replace("{version}", d.facts.version.as_deref().unwrap_or("?"))
        .replace("{cell}", &super::MAX_QUOTES_PER_CELL.to_string())
        .replace("{theme}", &super::MAX_QUOTES_PER_THEME.to_string())
        .replace("{total}", &super::MAX_QUOTES_TOTAL.to_string())
        .replace("{chars}", &super::MAX_QUOTE_CHARS.to_string());
    w!(
        h,
        "<footer class=\"page-foot\"><div class=\"wrap\"><p data-caps>{}</p>",
        esc(&text)
    );
    if d.quotes_dropped > 0 {
        w!(
            h,
            "<p>{}</p>",
            esc(&t
                .quotes_capped
                .replace("{n}", &d.quotes_dropped.to_string()))
        );
    }
    h.push_str("</div></footer>\n");
}

/// What the popovers need, pre-formatted so the script has no number or language logic.
fn page_data(d: &ReportData, t: &Strings, lang: UiLang) -> serde_json::Value {
    let cells: Vec<_> = d
        .cells
        .iter()
        .map(|c| {
            json!({
                "title": format!("{} × {}", d.themes[c.theme].label, d.stages[c.stage].label),
                "stats": cell_stats(c, t, lang),
                "q": c.quotes,
            })
        })
        .collect();
    let quotes: Vec<_> = d
        .quotes
        .iter()
        .map(|q| {
            json!({
                "t": q.text,
                "p": sections::provenance(q, t, lang),
                "s": q.sentiment.as_deref().unwrap_or("neutral"),
                "l": q.lang,
            })
        })
        .collect();
    json!({
        "ui": {"close": t.close, "quotes": t.quotes, "noQuotes": t.no_quotes},
        "cells": cells,
        "quotes": quotes,
    })
}
