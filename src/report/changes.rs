//! "What changed": the significant rows of `comparisons.parquet` (a group against the rest,
//! or a period against the one before), largest differences first. Shown only when the run
//! wrote that table (`[analyze] compare` or `period`).

use std::fmt::Write as _;
use std::path::Path;

use super::data::ReportData;
use super::fmt::{esc, pct, signed};
use super::html::w;
use super::i18n::Strings;
use super::table::Table;
use super::{ReportError, UiLang};

/// Rows shown at most: the section is a summary; the table has them all.
pub const MAX_CHANGES: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub dimension: String,
    pub group: String,
    pub baseline: String,
    pub theme: String,
    pub share: f64,
    pub baseline_share: f64,
    pub diff: f64,
    pub ci: Option<(f64, f64)>,
    pub nps_impact: Option<f64>,
    /// The theme's negative share of segments in the baseline and the group, and the
    /// difference's interval.
    pub negative: Option<(f64, f64)>,
    pub negative_ci: Option<(f64, f64)>,
}

/// The significant comparisons, largest absolute difference first (ties by dimension, group,
/// theme, so the page is deterministic); `None` when the folder has no comparisons table.
pub fn load(dir: &Path) -> Result<Option<Vec<Change>>, ReportError> {
    let cols = [
        "dimension",
        "group",
        "baseline",
        "theme_id",
        "share",
        "baseline_share",
        "share_diff",
        "share_diff_low",
        "share_diff_high",
        "significant",
        "nps_impact",
        "negative_share",
        "baseline_negative_share",
        "negative_share_diff_low",
        "negative_share_diff_high",
    ];
    let Some(t) = Table::read_optional(dir, "comparisons.parquet", &cols)? else {
        return Ok(None);
    };
    let (dim, group, base, theme) = (
        t.strs("dimension")?,
        t.strs("group")?,
        t.strs("baseline")?,
        t.strs("theme_id")?,
    );
    let (share, bshare, diff) = (
        t.f64s("share")?,
        t.f64s("baseline_share")?,
        t.f64s("share_diff")?,
    );
    let (lo, hi, impact) = (
        t.f64s("share_diff_low")?,
        t.f64s("share_diff_high")?,
        t.f64s("nps_impact")?,
    );
    let significant = t.bools("significant")?;
    let (neg, bneg, neg_lo, neg_hi) = (
        t.f64s("negative_share")?,
        t.f64s("baseline_negative_share")?,
        t.f64s("negative_share_diff_low")?,
        t.f64s("negative_share_diff_high")?,
    );
    let mut out: Vec<Change> = (0..t.height())
        .filter(|i| significant[*i] == Some(true))
        .filter_map(|i| {
            Some(Change {
                dimension: dim[i].clone()?,
                group: group[i].clone()?,
                baseline: base[i].clone()?,
                theme: theme[i].clone()?,
                share: share[i]?,
                baseline_share: bshare[i]?,
                diff: diff[i]?,
                ci: lo[i].zip(hi[i]),
                nps_impact: impact[i],
                negative: bneg[i].zip(neg[i]),
                negative_ci: neg_lo[i].zip(neg_hi[i]),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.diff.abs().total_cmp(&a.diff.abs()).then_with(|| {
            (&a.dimension, &a.group, &a.theme).cmp(&(&b.dimension, &b.group, &b.theme))
        })
    });
    out.truncate(MAX_CHANGES);
    Ok(Some(out))
}

pub fn render(h: &mut String, d: &ReportData, t: &Strings, lang: UiLang) {
    let Some(changes) = &d.changes else { return };
    w!(
        h,
        "<section id=\"changes\" aria-labelledby=\"h-changes\">\n<h2 id=\"h-changes\">{}</h2>\n<p class=\"intro\">{}</p>\n",
        esc(t.changes_title),
        esc(t.changes_intro)
    );
    if changes.is_empty() {
        w!(
            h,
            "<div class=\"notice\" role=\"note\" data-changes-empty><p>{}</p></div>\n</section>\n",
            esc(t.changes_none)
        );
        return;
    }
    w!(
        h,
        "<div class=\"scroll\"><table class=\"drivers\" data-changes>\n<thead><tr><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th><th scope=\"col\" class=\"num\">{}</th>\
         <th scope=\"col\" class=\"num\">{}</th><th scope=\"col\" class=\"num\">{}</th></tr></thead>\n<tbody>\n",
        esc(t.changes_group),
        esc(t.theme),
        esc(t.share_of_respondents),
        esc(t.changes_difference),
        esc(t.negative_share),
        esc(t.nps_impact_points)
    );
    for c in changes {
        let label = d
            .themes
            .iter()
            .find(|x| x.id == c.theme)
            .map_or(c.theme.as_str(), |x| x.label.as_str());
        let dimension = c.dimension.strip_prefix("meta_").unwrap_or(&c.dimension);
        let points = |v: f64| signed(v * 100.0, 0, lang);
        let interval = |ci: Option<(f64, f64)>| {
            ci.map_or(String::new(), |(l, u)| {
                format!(" ({}…{})", points(l), points(u))
            })
        };
        let ci = interval(c.ci);
        // Baseline → group, and the difference's interval when it was computed.
        let negative = c.negative.map_or("–".to_string(), |(b, g)| {
            format!(
                "{} → {}{}",
                pct(b, lang),
                pct(g, lang),
                interval(c.negative_ci)
            )
        });
        w!(
            h,
            "<tr data-theme=\"{}\" data-group=\"{}\"><td>{}: {} <span class=\"caveat\">{} {}</span></td><th scope=\"row\">{}</th>\
             <td class=\"num\">{} → {}</td><td class=\"num\">{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            esc(&c.theme),
            esc(&c.group),
            esc(dimension),
            esc(&c.group),
            esc(t.changes_vs),
            esc(&c.baseline),
            esc(label),
            esc(&pct(c.baseline_share, lang)),
            esc(&pct(c.share, lang)),
            esc(&points(c.diff)),
            esc(&ci),
            esc(&negative),
            c.nps_impact.map_or("–".to_string(), |v| esc(&signed(v, 1, lang))),
        );
    }
    h.push_str("</tbody></table></div>\n</section>\n");
}
