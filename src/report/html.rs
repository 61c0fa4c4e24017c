//! The page: head with inline CSS, overview and heatmap (the drivers chart is in `drivers`,
//! "what changed" in `changes`, theme sections and run facts in `sections`), then the bounded
//! JSON the popovers read and the inline script.
//! All text goes through [`esc`]; all embedded JSON through [`json_for_script`].

use std::fmt::Write as _;

use serde_json::json;

use super::data::{Cell, ReportData};
use super::fmt::{esc, heat, heat_gradient, int, json_for_script, pct, signed};
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
    super::drivers::render(&mut h, d, t, lang);
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
         <a href=\"#drivers\">{}</a>{}<a href=\"#themes\">{}</a><a href=\"#run\">{}</a></nav>\n</div></header>\n",
        esc(t.title),
        esc(&meta.join(" · ")),
        esc(t.title),
        esc(t.nav_overview),
        esc(t.nav_heatmap),
        esc(t.nav_drivers),
        // The "what changed" section exists only when the run compared groups or periods.
        if d.changes.is_some() {
            format!("<a href=\"#changes\">{}</a>", esc(t.changes_title))
        } else {
            String::new()
        },
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
