//! The NPS drivers chart: impact bars with their 95 % intervals as error bars, share of
//! respondents, and why a driver is greyed (not significant, too few scores).

use std::fmt::Write as _;

use super::data::ReportData;
use super::fmt::{dec, esc, int, pct, signed};
use super::html::w;
use super::i18n::Strings;
use super::UiLang;

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

pub fn render(h: &mut String, d: &ReportData, t: &Strings, lang: UiLang) {
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
