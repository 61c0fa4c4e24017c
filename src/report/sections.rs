//! Per-theme evidence (sentiment split, stages, keywords, months, quotes with provenance) and
//! the run facts (inputs, counts, classification, timings, rejects).

use std::fmt::Write as _;

use super::data::{Quote, ReportData, Theme};
use super::fmt::{dec, esc, heat, int, pct, seconds, timestamp};
use super::html::w;
use super::i18n::Strings;
use super::UiLang;

/// Where a quote comes from: file, row or time, speaker and role, score, sentiment.
pub fn provenance(q: &Quote, t: &Strings, lang: UiLang) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(f) = &q.source_file {
        parts.push(f.clone());
    }
    if let Some(r) = q.source_row {
        parts.push(format!("{} {}", t.row, int(r, lang)));
    }
    if let Some(ts) = q.t_start {
        parts.push(timestamp(ts));
    }
    match (&q.speaker, q.role.as_deref().and_then(|r| t.role(r))) {
        (Some(s), Some(r)) => parts.push(format!("{s} ({r})")),
        (Some(s), None) => parts.push(s.clone()),
        (None, Some(r)) => parts.push(r.to_string()),
        (None, None) => {}
    }
    if let Some(s) = q.score {
        parts.push(format!(
            "{} {}",
            t.score,
            dec(s, if s.fract() == 0.0 { 0 } else { 1 }, lang)
        ));
    }
    if let Some(s) = &q.sentiment {
        parts.push(t.sentiment(s).to_string());
    }
    parts.join(" · ")
}

fn quote_html(h: &mut String, q: &Quote, t: &Strings, lang: UiLang) {
    let sentiment = q.sentiment.as_deref().unwrap_or("neutral");
    w!(
        h,
        "<li class=\"quote {}\"><blockquote data-quote data-sentiment=\"{}\"{}>{}</blockquote>\
         <p class=\"prov\">{}</p></li>\n",
        esc(sentiment),
        esc(sentiment),
        q.lang
            .as_deref()
            .filter(|l| *l != "und")
            .map(|l| format!(" lang=\"{}\"", esc(l)))
            .unwrap_or_default(),
        esc(&q.text),
        esc(&provenance(q, t, lang))
    );
}

pub fn themes(h: &mut String, d: &ReportData, t: &Strings, lang: UiLang) {
    w!(
        h,
        "<section id=\"themes\" aria-labelledby=\"h-themes\">\n<h2 id=\"h-themes\">{}</h2>\n",
        esc(t.nav_themes)
    );
    let shown: Vec<(usize, &Theme)> = d
        .themes
        .iter()
        .enumerate()
        .filter(|(ti, _)| d.theme_shown(*ti))
        .collect();
    if shown.is_empty() {
        w!(
            h,
            "<div class=\"notice\" role=\"note\"><p>{}</p></div>\n</section>\n",
            esc(t.themes_empty)
        );
        return;
    }
    w!(
        h,
        "<p class=\"intro\">{}</p>\n<div class=\"theme-grid\">\n",
        esc(t.themes_intro)
    );
    for (ti, th) in shown {
        theme(h, d, ti, th, t, lang);
    }
    h.push_str("</div>\n</section>\n");
}

fn theme(h: &mut String, d: &ReportData, ti: usize, th: &Theme, t: &Strings, lang: UiLang) {
    w!(
        h,
        "<article class=\"theme\" id=\"theme-{ti}\" data-theme=\"{}\">\n<h3>{}{}</h3>\n",
        esc(&th.id),
        esc(&th.label),
        if th.emergent {
            format!(" <span class=\"badge\">{}</span>", esc(t.emergent))
        } else {
            String::new()
        }
    );
    if let Some(desc) = &th.description {
        w!(h, "<p class=\"desc\">{}</p>\n", esc(desc));
    }
    let mut stats = vec![
        format!("{} {}", int(th.segments, lang), t.segments.to_lowercase()),
        format!(
            "{} {}",
            int(th.respondents, lang),
            t.respondents.to_lowercase()
        ),
    ];
    if let Some(n) = th.negative_share {
        stats.push(format!("{} {}", pct(n, lang), t.negative));
    }
    if th.root_cause_segments > 0 {
        stats.push(format!(
            "{} {}",
            t.root_cause.to_lowercase(),
            int(th.root_cause_segments, lang)
        ));
    }
    w!(h, "<p class=\"stats\">{}</p>\n", esc(&stats.join(" · ")));

    if let Some(split) = th.sentiment.filter(|s| s.iter().sum::<u64>() > 0) {
        let total = split.iter().sum::<u64>() as f64;
        let parts = [
            ("neg", t.negative, split[0]),
            ("neu", t.neutral, split[1]),
            ("pos", t.positive, split[2]),
        ];
        let label: Vec<String> = parts
            .iter()
            .map(|(_, name, n)| {
                format!(
                    "{name} {} ({})",
                    int(*n, lang),
                    pct(*n as f64 / total, lang)
                )
            })
            .collect();
        w!(
            h,
            "<h4>{}</h4>\n<div class=\"split\" role=\"img\" aria-label=\"{}\">",
            esc(t.sentiment),
            esc(&label.join(", "))
        );
        for (class, _, n) in parts.iter().filter(|p| p.2 > 0) {
            w!(
                h,
                "<span class=\"{class}\" style=\"width:{:.2}%\"></span>",
                *n as f64 / total * 100.0
            );
        }
        h.push_str("</div>\n<ul class=\"split-legend\">");
        for ((class, _, _), text) in parts.iter().zip(&label) {
            w!(h, "<li><i class=\"sw {class}\"></i>{}</li>", esc(text));
        }
        h.push_str("</ul>\n");
    }

    let cells: Vec<_> = d.cells.iter().filter(|c| c.theme == ti).collect();
    if !cells.is_empty() {
        w!(h, "<h4>{}</h4>\n<ul class=\"chips\">", esc(t.stages));
        for c in cells {
            let (bg, _) = heat(c.negative_share);
            w!(
                h,
                "<li title=\"{}\"><i class=\"sw\" style=\"background:{bg}\"></i>{} <b>{}</b></li>",
                esc(&format!(
                    "{}: {}",
                    t.negative_share,
                    pct(c.negative_share, lang)
                )),
                esc(&d.stages[c.stage].label),
                int(c.segments, lang)
            );
        }
        h.push_str("</ul>\n");
    }
    if !th.keywords.is_empty() {
        w!(h, "<h4>{}</h4>\n<ul class=\"chips kw\">", esc(t.keywords));
        for k in &th.keywords {
            w!(h, "<li>{}</li>", esc(k));
        }
        h.push_str("</ul>\n");
    }
    if !th.months.is_empty() {
        w!(h, "<h4>{}</h4>\n<ul class=\"chips\">", esc(t.by_month));
        // The most recent two years at most: older months add length, not insight.
        for (m, n, neg) in th.months.iter().rev().take(24).rev() {
            w!(
                h,
                "<li title=\"{}\">{} <b>{}</b></li>",
                esc(&format!("{}: {}", t.negative_share, pct(*neg, lang))),
                esc(m),
                int(*n, lang)
            );
        }
        h.push_str("</ul>\n");
    }
    w!(h, "<h4>{}</h4>\n", esc(t.quotes));
    if th.quotes.is_empty() {
        w!(h, "<p class=\"note\">{}</p>\n", esc(t.no_quotes));
    } else {
        h.push_str("<ul class=\"quotes\">\n");
        for qi in &th.quotes {
            quote_html(h, &d.quotes[*qi], t, lang);
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</article>\n");
}

fn short_hash(s: &str) -> String {
    s.chars().take(12).collect()
}

pub fn run_facts(h: &mut String, d: &ReportData, t: &Strings, lang: UiLang) {
    let f = &d.facts;
    let opt = |v: Option<u64>| v.map_or("–".to_string(), |v| int(v, lang));
    w!(
        h,
        "<section id=\"run\" aria-labelledby=\"h-run\">\n<h2 id=\"h-run\">{}</h2>\n<h3>{}</h3>\n\
         <div class=\"scroll\"><table class=\"facts\" data-inputs>\n<thead><tr><th scope=\"col\">{}</th>\
         <th scope=\"col\">SHA-256</th><th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th>\
         <th scope=\"col\" class=\"num\">{}</th><th scope=\"col\" class=\"num\">{}</th></tr></thead>\n<tbody>\n",
        esc(t.nav_run),
        esc(t.inputs),
        esc(t.file),
        esc(t.format),
        esc(t.rows),
        esc(t.documents),
        esc(t.rejects)
    );
    for i in &f.inputs {
        w!(
            h,
            "<tr><td class=\"path\">{}</td><td><code title=\"{}\">{}</code></td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            esc(&i.path),
            esc(i.sha256.as_deref().unwrap_or("")),
            esc(&short_hash(i.sha256.as_deref().unwrap_or(""))),
            esc(i.format.as_deref().unwrap_or("")),
            opt(i.rows),
            opt(i.documents),
            opt(i.rejects)
        );
    }
    h.push_str("</tbody></table></div>\n<div class=\"facts-grid\">\n");

    w!(h, "<div><h3>{}</h3>\n<dl class=\"pairs\">", esc(t.counts));
    for (k, v) in &f.counts {
        let label = match *k {
            "files" => t.files,
            "rows" => t.rows,
            "documents" => t.documents,
            "segments" => t.segments,
            _ => t.rejects,
        };
        dt(h, label, int(*v, lang));
    }
    if !f.by_lang.is_empty() {
        let langs: Vec<String> = f
            .by_lang
            .iter()
            .map(|(l, n)| format!("{l} {}", int(*n, lang)))
            .collect();
        dt(h, t.segments_by_lang, esc(&langs.join(" · ")));
    }
    h.push_str("</dl></div>\n");

    w!(
        h,
        "<div><h3>{}</h3>\n<dl class=\"pairs\" data-classification>",
        esc(t.classification)
    );
    if let Some(s) = &f.status {
        dt(h, t.status, esc(&t.status(s)));
    }
    if let Some(r) = &f.reason {
        dt(h, t.reason, esc(r));
    }
    for (label, v) in [(t.codebook, &f.codebook), (t.journey, &f.journey)] {
        if let (Some(v), true) = (v, f.status.as_deref() == Some("done")) {
            dt(h, label, esc(v));
        }
    }
    for m in &f.models {
        let mut s = m.id.clone();
        if let Some(r) = &m.revision {
            s.push_str(&format!(" @ {r}"));
        }
        w!(h, "<dt>{}</dt><dd>{}", esc(t.models), esc(&s));
        if let Some(sha) = &m.weights_sha256 {
            w!(
                h,
                " <code title=\"{}\">{}</code>",
                esc(sha),
                esc(&short_hash(sha))
            );
        }
        h.push_str("</dd>");
    }
    if !f.heads.is_empty() {
        let heads: Vec<String> = f
            .heads
            .iter()
            .map(|x| match x.training_rows {
                Some(n) => esc(&format!("{}: {} {}", x.task, int(n, lang), t.training_rows)),
                None => esc(&x.task),
            })
            .collect();
        dt(h, t.heads, heads.join("<br>"));
    }
    if let Some(n) = f.negative_segments {
        dt(h, t.negative_segments, int(n, lang));
    }
    if let Some(n) = f.emergent_themes {
        dt(h, t.emergent_themes, int(n, lang));
    }
    if let Some(s) = f.unexplained_negative_share {
        dt(h, t.unexplained_negative, esc(&pct(s, lang)));
    }
    h.push_str("</dl></div>\n");

    if !f.timings.is_empty() {
        let max = f
            .timings
            .iter()
            .map(|(_, s)| *s)
            .fold(0.0, f64::max)
            .max(1e-9);
        w!(
            h,
            "<div><h3>{}</h3>\n<table class=\"timings\" data-timings><tbody>\n",
            esc(t.timings)
        );
        for (k, s) in &f.timings {
            w!(
                h,
                "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"tbar\"><span style=\"width:{:.1}%\"></span></td></tr>\n",
                esc(&t.stage_name(k)),
                esc(&seconds(*s, lang)),
                s / max * 100.0
            );
        }
        if let Some(total) = f.total_s {
            w!(
                h,
                "<tr class=\"sum\"><th scope=\"row\">{}</th><td class=\"num\">{}</td><td></td></tr>\n",
                esc(t.total),
                esc(&seconds(total, lang))
            );
        }
        h.push_str("</tbody></table></div>\n");
    }
    h.push_str("</div>\n");
    rejects(h, d, t, lang);
    h.push_str("</section>\n");
}

fn rejects(h: &mut String, d: &ReportData, t: &Strings, lang: UiLang) {
    let r = &d.facts.rejects;
    w!(
        h,
        "<h3 id=\"rejects\">{} <span class=\"count\">{}</span></h3>\n",
        esc(t.rejects),
        int(r.total, lang)
    );
    if r.total == 0 {
        w!(
            h,
            "<p class=\"note\" data-rejects=\"0\">{}</p>\n",
            esc(t.no_rejects)
        );
        return;
    }
    let line = |l: Option<u64>| l.map_or_else(|| t.whole_file.to_string(), |l| int(l, lang));
    w!(
        h,
        "<h4>{}</h4>\n<div class=\"scroll\"><table class=\"facts\" data-rejects=\"{}\">\n<thead><tr>\
         <th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n",
        esc(t.rejects_by_reason),
        r.total,
        esc(t.reason),
        esc(t.count),
        esc(t.first_example)
    );
    for g in &r.by_reason {
        w!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"path first\">{}:{}</td></tr>\n",
            esc(&g.reason),
            int(g.count, lang),
            esc(&g.first.file),
            esc(&line(g.first.line))
        );
    }
    h.push_str("</tbody></table></div>\n");
    let shown_of = |shown: usize, total: &str| {
        t.shown_of
            .replace("{shown}", &shown.to_string())
            .replace("{total}", total)
    };
    if r.reasons_total > r.by_reason.len() {
        let note = shown_of(r.by_reason.len(), &r.reasons_total.to_string());
        w!(h, "<p class=\"note\">{}</p>\n", esc(&note));
    }
    let note = shown_of(r.examples.len(), &int(r.total, lang));
    w!(
        h,
        "<h4>{} <span class=\"count\">({})</span></h4>\n<div class=\"scroll\"><table class=\"facts rejects\">\n<thead><tr>\
         <th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n",
        esc(t.examples),
        esc(&note),
        esc(t.file),
        esc(t.line),
        esc(t.reason),
        esc(t.record)
    );
    for x in &r.examples {
        w!(
            h,
            "<tr><td class=\"path\">{}</td><td class=\"num\">{}</td><td>{}</td><td><code class=\"raw\">{}</code></td></tr>\n",
            esc(&x.file),
            esc(&line(x.line)),
            esc(&x.reason),
            esc(x.raw.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</tbody></table></div>\n");
}

/// A term of a run-facts list; `value` is HTML (already escaped where it is text).
fn dt(h: &mut String, label: &str, value: impl std::fmt::Display) {
    w!(h, "<dt>{}</dt><dd>{}</dd>", esc(label), value);
}
