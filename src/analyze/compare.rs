//! `comparisons.parquet`: what got worse, where, and is it real. Per theme and group (values
//! of a metadata column, e.g. region or channel: each group against all the others) or period
//! (month or quarter from the date: each against the one before), the share of respondents
//! who mention the theme, the difference with its 95 % Newcombe interval, a two-proportion
//! z-test Holm-adjusted over the themes of each comparison; and the theme's negative share and
//! NPS impact in the group against the baseline, each difference with its 95 % interval.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::stats::{self, AnalyzeConfig};
use super::{round2, Row};

/// Which period a date falls in, for `[analyze] period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Month,
    Quarter,
}

/// One group's respondents and what they said.
#[derive(Default)]
struct Group<'a> {
    respondents: BTreeSet<&'a str>,
    /// Theme → respondents mentioning it, and its (negative, all) segments.
    themes: BTreeMap<usize, (BTreeSet<&'a str>, usize, usize)>,
}

/// The value a document has in the `[analyze] compare` column (`meta_Region` or `Region`,
/// matched without regard to case), trimmed; blank values are no group.
pub fn compare_value(metadata: &[(String, Option<String>)], col: &str) -> Option<String> {
    let key = col.strip_prefix("meta_").unwrap_or(col);
    metadata
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_deref())
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.trim().to_string())
}

fn group_of(r: &Row, cfg: &AnalyzeConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let (Some(col), Some(v)) = (&cfg.compare, &r.doc.compare) {
        out.push((col.clone(), v.clone()));
    }
    if let (Some(p), Some(d)) = (cfg.period, r.doc.date) {
        let label = match p {
            Period::Month => d.format("%Y-%m").to_string(),
            Period::Quarter => {
                use chrono::Datelike;
                format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1)
            }
        };
        out.push(("period".into(), label));
    }
    out
}

/// Newcombe's hybrid-score interval of p1 − p2 from the two Wilson intervals.
fn newcombe(k1: usize, n1: usize, k2: usize, n2: usize) -> Option<(f64, f64)> {
    let (l1, u1) = stats::wilson(k1, n1)?;
    let (l2, u2) = stats::wilson(k2, n2)?;
    let (p1, p2) = (k1 as f64 / n1 as f64, k2 as f64 / n2 as f64);
    let d = p1 - p2;
    Some((
        d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
        d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt(),
    ))
}

/// Two-sided p-value of a difference of two proportions (pooled z-test).
fn two_proportions(k1: usize, n1: usize, k2: usize, n2: usize) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (k1 + k2) as f64 / (n1f + n2f);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    let d = k1 as f64 / n1f - k2 as f64 / n2f;
    if se == 0.0 {
        return Some(if d == 0.0 { 1.0 } else { 0.0 });
    }
    Some(libm::erfc((d.abs() / se) / std::f64::consts::SQRT_2))
}

#[derive(Default)]
struct Cols {
    dimension: Vec<String>,
    group: Vec<String>,
    baseline: Vec<String>,
    theme: Vec<String>,
    respondents: Vec<u32>,
    group_respondents: Vec<u32>,
    share: Vec<f64>,
    baseline_share: Vec<f64>,
    diff: Vec<f64>,
    diff_low: Vec<Option<f64>>,
    diff_high: Vec<Option<f64>>,
    p_value: Vec<Option<f64>>,
    p_adjusted: Vec<Option<f64>>,
    significant: Vec<Option<bool>>,
    low_base: Vec<bool>,
    negative_share: Vec<Option<f64>>,
    baseline_negative_share: Vec<Option<f64>>,
    negative_share_diff: Vec<Option<f64>>,
    negative_share_diff_low: Vec<Option<f64>>,
    negative_share_diff_high: Vec<Option<f64>>,
    nps_impact: Vec<Option<f64>>,
    baseline_nps_impact: Vec<Option<f64>>,
    nps_impact_diff: Vec<Option<f64>>,
    nps_impact_diff_low: Vec<Option<f64>>,
    nps_impact_diff_high: Vec<Option<f64>>,
}

/// The comparisons table, or `None` when neither `compare` nor `period` is set.
pub(super) fn table(
    rows: &[Row],
    theme_order: &[String],
    nps_of: &BTreeMap<String, f64>,
    cfg: &AnalyzeConfig,
) -> PolarsResult<Option<DataFrame>> {
    if cfg.compare.is_none() && cfg.period.is_none() {
        return Ok(None);
    }
    let mut dims: BTreeMap<String, BTreeMap<String, Group>> = BTreeMap::new();
    for r in rows {
        for (dim, g) in group_of(r, cfg) {
            let group = dims.entry(dim).or_default().entry(g).or_default();
            group.respondents.insert(r.respondent);
            for &t in &r.fact.themes {
                if (t as usize) < theme_order.len() {
                    let e = group.themes.entry(t as usize).or_default();
                    e.0.insert(r.respondent);
                    e.1 += usize::from(r.negative());
                    e.2 += 1;
                }
            }
        }
    }
    let mut c = Cols::default();
    for (dim, groups) in &dims {
        let names: Vec<&String> = groups.keys().collect();
        for (gi, name) in names.iter().enumerate() {
            let g = &groups[*name];
            // Periods against the one before; groups against all the others together.
            let (label, base): (String, Vec<&Group>) = if dim == "period" {
                let Some(prev) = gi.checked_sub(1).map(|i| names[i]) else {
                    continue;
                };
                (prev.to_string(), vec![&groups[prev]])
            } else {
                let rest = groups.iter().filter(|(k, _)| k != name).map(|(_, v)| v);
                ("rest".to_string(), rest.collect())
            };
            if base.is_empty() {
                continue;
            }
            let n1 = g.respondents.len();
            let n2: usize = base.iter().map(|b| b.respondents.len()).sum();
            // Too few respondents on either side for the normal approximation: shown, not
            // tested.
            let low_base = n1.min(n2) < cfg.min_respondents.max(1);
            let start = c.theme.len();
            for (ti, (resp, neg, segs)) in &g.themes {
                let k1 = resp.len();
                let k2: usize = base
                    .iter()
                    .filter_map(|b| b.themes.get(ti))
                    .map(|t| t.0.len())
                    .sum();
                let (p1, p2) = (k1 as f64 / n1 as f64, k2 as f64 / n2 as f64);
                let ci = newcombe(k1, n1, k2, n2);
                c.dimension.push(dim.clone());
                c.group.push((*name).clone());
                c.baseline.push(label.clone());
                c.theme.push(theme_order[*ti].clone());
                c.respondents.push(k1 as u32);
                c.group_respondents.push(n1 as u32);
                c.share.push(round2(p1));
                c.baseline_share.push(round2(p2));
                c.diff.push(round2(p1 - p2));
                c.diff_low.push(ci.map(|x| round2(x.0)));
                c.diff_high.push(ci.map(|x| round2(x.1)));
                c.p_value
                    .push(two_proportions(k1, n1, k2, n2).filter(|_| !low_base));
                c.low_base.push(low_base);
                let (base_neg, base_segs) = base
                    .iter()
                    .filter_map(|b| b.themes.get(ti))
                    .fold((0, 0), |(n, s), t| (n + t.1, s + t.2));
                let share_of = |n: usize, s: usize| (s > 0).then(|| n as f64 / s as f64);
                let (neg1, neg2) = (share_of(*neg, *segs), share_of(base_neg, base_segs));
                c.negative_share.push(neg1.map(round2));
                c.baseline_negative_share.push(neg2.map(round2));
                c.negative_share_diff
                    .push(neg1.zip(neg2).map(|(a, b)| round2(a - b)));
                let ci = (!low_base)
                    .then(|| newcombe(*neg, *segs, base_neg, base_segs))
                    .flatten();
                c.negative_share_diff_low.push(ci.map(|x| round2(x.0)));
                c.negative_share_diff_high.push(ci.map(|x| round2(x.1)));
                let base_members: BTreeSet<&str> = base
                    .iter()
                    .flat_map(|b| b.respondents.iter().copied())
                    .collect();
                let base_mentioners: BTreeSet<&str> = base
                    .iter()
                    .filter_map(|b| b.themes.get(ti))
                    .flat_map(|t| t.0.iter().copied())
                    .collect();
                let (imp, base_imp) = (
                    raw_impact(&g.respondents, resp, nps_of),
                    raw_impact(&base_members, &base_mentioners, nps_of),
                );
                c.nps_impact.push(imp.map(round2));
                c.baseline_nps_impact.push(base_imp.map(round2));
                c.nps_impact_diff
                    .push(imp.zip(base_imp).map(|(a, b)| round2(a - b)));
                let ci = (!low_base)
                    .then(|| {
                        let (ya, ga) = scored(&g.respondents, resp, nps_of);
                        let (yb, gb) = scored(&base_members, &base_mentioners, nps_of);
                        stats::impact_difference(&ya, &ga, &yb, &gb, cfg)
                    })
                    .flatten();
                c.nps_impact_diff_low.push(ci.map(|x| round2(x.0)));
                c.nps_impact_diff_high.push(ci.map(|x| round2(x.1)));
            }
            // Holm over the themes tested in this group's comparison.
            let tested: Vec<usize> = (start..c.p_value.len())
                .filter(|i| c.p_value[*i].is_some())
                .collect();
            let ps: Vec<f64> = tested.iter().filter_map(|i| c.p_value[*i]).collect();
            c.p_adjusted.resize(c.p_value.len(), None);
            c.significant.resize(c.p_value.len(), None);
            for (i, adj) in tested.into_iter().zip(stats::holm(&ps)) {
                c.p_adjusted[i] = Some((adj * 1e6).round() / 1e6);
                c.significant[i] = Some(adj < cfg.alpha);
            }
        }
    }
    let p_value: Vec<Option<f64>> = c
        .p_value
        .iter()
        .map(|p| p.map(|p| (p * 1e6).round() / 1e6))
        .collect();
    Ok(Some(DataFrame::new_infer_height(vec![
        Column::new("dimension".into(), c.dimension),
        Column::new("group".into(), c.group),
        Column::new("baseline".into(), c.baseline),
        Column::new("theme_id".into(), c.theme),
        Column::new("respondents".into(), c.respondents),
        Column::new("group_respondents".into(), c.group_respondents),
        Column::new("share".into(), c.share),
        Column::new("baseline_share".into(), c.baseline_share),
        Column::new("share_diff".into(), c.diff),
        Column::new("share_diff_low".into(), c.diff_low),
        Column::new("share_diff_high".into(), c.diff_high),
        Column::new("p_value".into(), p_value),
        Column::new("p_adjusted".into(), c.p_adjusted),
        Column::new("significant".into(), c.significant),
        Column::new("low_base".into(), c.low_base),
        Column::new("negative_share".into(), c.negative_share),
        Column::new("baseline_negative_share".into(), c.baseline_negative_share),
        Column::new("negative_share_diff".into(), c.negative_share_diff),
        Column::new("negative_share_diff_low".into(), c.negative_share_diff_low),
        Column::new(
            "negative_share_diff_high".into(),
            c.negative_share_diff_high,
        ),
        Column::new("nps_impact".into(), c.nps_impact),
        Column::new("baseline_nps_impact".into(), c.baseline_nps_impact),
        Column::new("nps_impact_diff".into(), c.nps_impact_diff),
        Column::new("nps_impact_diff_low".into(), c.nps_impact_diff_low),
        Column::new("nps_impact_diff_high".into(), c.nps_impact_diff_high),
    ])?))
}

/// NPS impact of `mentioners` within `members`: NPS(members) − NPS(members without them),
/// unrounded.
fn raw_impact(
    members: &BTreeSet<&str>,
    mentioners: &BTreeSet<&str>,
    nps_of: &BTreeMap<String, f64>,
) -> Option<f64> {
    let score = |keep: &dyn Fn(&str) -> bool| {
        super::nps(
            members
                .iter()
                .filter(|r| keep(r))
                .filter_map(|r| nps_of.get(*r)),
        )
    };
    let all = score(&|_| true)?;
    let without = score(&|r| !mentioners.contains(r))?;
    Some(all - without)
}

/// The scored among `members` as y (+1/0/−1, in key order) and the positions of `mentioners`.
fn scored(
    members: &BTreeSet<&str>,
    mentioners: &BTreeSet<&str>,
    nps_of: &BTreeMap<String, f64>,
) -> (Vec<f64>, Vec<usize>) {
    let mut y = Vec::new();
    let mut g = Vec::new();
    for r in members {
        if let Some(s) = nps_of.get(*r) {
            if mentioners.contains(r) {
                g.push(y.len());
            }
            y.push(stats::nps_value(*s));
        }
    }
    (y, g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{DocFact, Fact};
    use crate::record::Sentiment;

    fn doc(region: &str, month: u32, respondent: u32) -> DocFact {
        DocFact {
            respondent,
            date: chrono::NaiveDate::from_ymd_opt(2025, month, 1),
            compare: compare_value(
                &[("Region".into(), Some(format!(" {region} ")))],
                "meta_Region",
            ),
        }
    }

    /// 40 respondents in the north (30 of them about queues) and 40 in the south (4 of them):
    /// a real difference; the 3-respondent west is shown but not tested. By month: January
    /// (south) against nothing, February (north) against January.
    #[test]
    fn groups_against_the_rest_and_periods_against_the_one_before() {
        let mut docs = Vec::new();
        let mut facts = Vec::new();
        let mut keys = Vec::new();
        for i in 0..83u32 {
            let (region, month, queue) = match i {
                0..40 => ("north", 2, i < 30),
                40..80 => ("south", 1, i < 44),
                _ => ("west", 2, true),
            };
            docs.push(doc(region, month, i));
            keys.push(super::super::respondent_key(
                "f.csv",
                None,
                &format!("d{i}"),
            ));
            facts.push(Fact {
                doc: i,
                // Two of the south's queue remarks are positive.
                sentiment: if (40..42).contains(&i) {
                    Sentiment::Positive
                } else {
                    Sentiment::Negative
                },
                sentiment_score: -1.0,
                // 0 = wait_time, 1 = other
                themes: vec![if queue { 0 } else { 1 }],
                stage: None,
                root_cause: None,
            });
        }
        let rows: Vec<Row> = facts
            .iter()
            .map(|fact| Row {
                fact,
                doc: &docs[fact.doc as usize],
                respondent: keys[fact.doc as usize].as_str(),
            })
            .collect();
        let nps_of: BTreeMap<String, f64> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), if i % 2 == 0 { 2.0 } else { 10.0 }))
            .collect();
        let order = ["wait_time".to_string(), "other".to_string()];
        let cfg = AnalyzeConfig {
            compare: Some("meta_Region".into()),
            period: Some(Period::Month),
            ..AnalyzeConfig::default()
        };
        let df = table(&rows, &order, &nps_of, &cfg).unwrap().unwrap();
        let s = |c: &str| -> Vec<Option<String>> {
            df.column(c)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(String::from))
                .collect()
        };
        let b = |c: &str| -> Vec<Option<bool>> {
            df.column(c).unwrap().bool().unwrap().iter().collect()
        };
        let f =
            |c: &str| -> Vec<Option<f64>> { df.column(c).unwrap().f64().unwrap().iter().collect() };
        let find = |dim: &str, group: &str, theme: &str| {
            (0..df.height())
                .find(|i| {
                    s("dimension")[*i].as_deref() == Some(dim)
                        && s("group")[*i].as_deref() == Some(group)
                        && s("theme_id")[*i].as_deref() == Some(theme)
                })
                .unwrap_or_else(|| panic!("{dim} {group} {theme}\n{df}"))
        };
        let north = find("meta_Region", "north", "wait_time");
        assert_eq!(s("baseline")[north].as_deref(), Some("rest"));
        // 30/40 vs (4 + 3)/43.
        assert_eq!(f("share")[north], Some(0.75));
        assert_eq!(f("baseline_share")[north], Some(0.16));
        assert!(f("share_diff_low")[north].unwrap() > 0.3);
        assert_eq!(b("significant")[north], Some(true));
        let west = find("meta_Region", "west", "wait_time");
        assert_eq!(
            (b("low_base")[west], b("significant")[west]),
            (Some(true), None)
        );
        // NPS impact within north (20 detractors, 20 promoters; the 10 non-mentioners 5 + 5)
        // is 0 − 0 = 0; within the rest (south + west: 22 detractors, 21 promoters of 43;
        // its 36 non-mentioners 18 + 18) it is −2.33 − 0; the difference 2.33, with a
        // bootstrap interval around it.
        assert_eq!(f("nps_impact")[north], Some(0.0));
        assert_eq!(f("baseline_nps_impact")[north], Some(-2.33));
        assert_eq!(f("nps_impact_diff")[north], Some(2.33));
        let (lo, hi) = (
            f("nps_impact_diff_low")[north].unwrap(),
            f("nps_impact_diff_high")[north].unwrap(),
        );
        assert!(lo < 2.33 && 2.33 < hi, "{lo} {hi}");
        assert_eq!(
            f("nps_impact_diff_low")[west],
            None,
            "low base: no interval"
        );
        // Negative share of the theme's segments: north 30/30 against the rest's 5/7 (south
        // 2 of 4, west 3 of 3); Newcombe interval worked out with the Wilson formula in
        // Python: 0.05 to 0.64.
        assert_eq!(f("negative_share")[north], Some(1.0));
        assert_eq!(f("baseline_negative_share")[north], Some(0.71));
        assert_eq!(f("negative_share_diff")[north], Some(0.29));
        assert_eq!(f("negative_share_diff_low")[north], Some(0.05));
        assert_eq!(f("negative_share_diff_high")[north], Some(0.64));
        assert_eq!(f("negative_share_diff_low")[west], None);
        // Seeded, stratified resamples: the same table again.
        assert!(df.equals_missing(&table(&rows, &order, &nps_of, &cfg).unwrap().unwrap()));
        // February against January; January has no month before it.
        let feb = find("period", "2025-02", "wait_time");
        assert_eq!(s("baseline")[feb].as_deref(), Some("2025-01"));
        assert_eq!(b("significant")[feb], Some(true));
        assert!(!s("group").contains(&Some("2025-01".into())));
        // Without compare or period there is no table.
        assert!(table(&rows, &order, &nps_of, &AnalyzeConfig::default())
            .unwrap()
            .is_none());
    }

    #[test]
    fn newcombe_and_the_two_proportion_test() {
        // Newcombe (1998, Statistics in Medicine 17:873), example 56/70 vs 48/80: method 10
        // gives 0.0524 to 0.3339 for p1 − p2 = 0.2.
        let (l, u) = newcombe(56, 70, 48, 80).unwrap();
        assert!(
            (l - 0.0524).abs() < 5e-4 && (u - 0.3339).abs() < 5e-4,
            "{l} {u}"
        );
        assert!(two_proportions(56, 70, 48, 80).unwrap() < 0.01);
        assert_eq!(two_proportions(0, 10, 0, 10), Some(1.0));
        assert_eq!(two_proportions(1, 0, 0, 10), None);
    }
}
