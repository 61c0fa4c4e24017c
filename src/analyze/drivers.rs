//! `drivers.parquet`: each theme's NPS impact with its interval and significance, its
//! relative importance among the themes mentioned together, and the rank built from them.

use polars::prelude::*;

use super::importance;
use super::stats::{self, AnalyzeConfig};

/// Per-theme figures gathered by `analyze::build`, one entry per driver theme.
#[derive(Default)]
pub(super) struct DriverCols {
    pub id: Vec<String>,
    pub respondents: Vec<u32>,
    pub share: Vec<f64>,
    pub negative_share: Vec<f64>,
    pub nps_mentioners: Vec<Option<f64>>,
    pub nps_impact: Vec<Option<f64>>,
    pub lift: Vec<Option<f64>>,
    /// Indices (into the scored respondents) of the theme's scored mentioners.
    pub scored: Vec<Vec<usize>>,
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// The drivers table from the per-theme figures, `y` (each scored respondent's +1/0/−1) and
/// the settings; see [`stats`] for the methods and docs/SCHEMA.md for the columns.
pub(super) fn table(dr: DriverCols, y: &[f64], cfg: &AnalyzeConfig) -> PolarsResult<DataFrame> {
    let k = dr.id.len();
    let low_base: Vec<bool> = dr
        .scored
        .iter()
        .map(|g| g.len() < cfg.min_respondents.max(1))
        .collect();
    // Themes with enough base are tested and enter the importance model.
    let tested: Vec<usize> = (0..k).filter(|t| !low_base[*t]).collect();
    let p_raw: Vec<Option<f64>> = (0..k)
        .map(|t| {
            if low_base[t] {
                return None;
            }
            let mut inside = vec![false; y.len()];
            for &r in &dr.scored[t] {
                inside[r] = true;
            }
            let (with, rest): (Vec<f64>, Vec<f64>) = {
                let (a, b): (Vec<_>, Vec<_>) = y.iter().zip(&inside).partition(|(_, i)| **i);
                (
                    a.into_iter().map(|x| *x.0).collect(),
                    b.into_iter().map(|x| *x.0).collect(),
                )
            };
            stats::difference_p_value(&with, &rest)
        })
        .collect();
    let tested_p: Vec<f64> = tested.iter().filter_map(|t| p_raw[*t]).collect();
    let holm = stats::holm(&tested_p);
    let mut p_adj: Vec<Option<f64>> = vec![None; k];
    for (t, adj) in tested.iter().filter(|t| p_raw[**t].is_some()).zip(holm) {
        p_adj[*t] = Some(adj);
    }
    let significant: Vec<Option<bool>> = p_adj.iter().map(|p| p.map(|p| p < cfg.alpha)).collect();

    // Relative importance: decomposition of R² over the tested themes.
    let position: Vec<Option<usize>> = (0..k)
        .map(|t| tested.iter().position(|x| *x == t))
        .collect();
    let mut mentions: Vec<Vec<usize>> = vec![Vec::new(); y.len()];
    for (j, &t) in tested.iter().enumerate() {
        for &r in &dr.scored[t] {
            mentions[r].push(j);
        }
    }
    let p = tested.len();
    let (ri, r2) = if p > 0 && y.len() > 1 {
        let (cov, cxy, vy) = importance::moments(y, &mentions, p, &vec![1; y.len()]);
        importance::decompose(&cov, &cxy, vy, cfg)
    } else {
        (Vec::new(), 0.0)
    };
    let intervals = stats::bootstrap(y, &dr.scored, (p > 0).then_some((&mentions[..], p)), cfg);

    // Rank: tested themes, significant ones first, then by NPS impact (most negative first);
    // low-base themes are not ranked and come after, by impact. One order serves both the
    // rank column and the row order.
    let impact_key = |i: usize| dr.nps_impact[i].unwrap_or(f64::INFINITY);
    let mut order: Vec<usize> = tested.clone();
    order.sort_by(|a, b| {
        (!significant[*a].unwrap_or(false))
            .cmp(&!significant[*b].unwrap_or(false))
            .then(impact_key(*a).total_cmp(&impact_key(*b)))
            .then(dr.share[*b].total_cmp(&dr.share[*a]))
            .then(dr.id[*a].cmp(&dr.id[*b]))
    });
    let mut rank: Vec<Option<u32>> = vec![None; k];
    for (r, i) in order.iter().enumerate() {
        rank[*i] = Some(r as u32 + 1);
    }
    let mut unranked: Vec<usize> = (0..k).filter(|t| low_base[*t]).collect();
    unranked.sort_by(|a, b| impact_key(*a).total_cmp(&impact_key(*b)).then(a.cmp(b)));
    order.extend(unranked);
    let lo_hi = |v: &[Option<(f64, f64)>], digits: i32| -> (Vec<Option<f64>>, Vec<Option<f64>>) {
        (
            v.iter().map(|x| x.map(|x| round(x.0, digits))).collect(),
            v.iter().map(|x| x.map(|x| round(x.1, digits))).collect(),
        )
    };
    let (impact_lo, impact_hi) = lo_hi(&intervals.impact, 2);
    let ri_of = |t: usize| position[t].map(|j| round(ri[j], 4));
    let ri_ci: Vec<Option<(f64, f64)>> = (0..k)
        .map(|t| position[t].and_then(|j| intervals.importance.get(j).copied().flatten()))
        .collect();
    let (ri_lo, ri_hi) = lo_hi(&ri_ci, 4);
    let df = DataFrame::new_infer_height(vec![
        Column::new("theme_id".into(), dr.id),
        Column::new("respondents".into(), dr.respondents),
        Column::new(
            "scored_respondents".into(),
            dr.scored.iter().map(|g| g.len() as u32).collect::<Vec<_>>(),
        ),
        Column::new("share_of_respondents".into(), dr.share),
        Column::new("negative_share".into(), dr.negative_share),
        Column::new("nps_mentioners".into(), dr.nps_mentioners),
        Column::new("nps_impact".into(), dr.nps_impact),
        Column::new("nps_impact_low".into(), impact_lo),
        Column::new("nps_impact_high".into(), impact_hi),
        Column::new(
            "p_value".into(),
            p_raw
                .iter()
                .map(|p| p.map(|p| round(p, 6)))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "p_adjusted".into(),
            p_adj
                .iter()
                .map(|p| p.map(|p| round(p, 6)))
                .collect::<Vec<_>>(),
        ),
        Column::new("significant".into(), significant),
        Column::new("low_base".into(), low_base),
        Column::new(
            "relative_importance".into(),
            (0..k).map(ri_of).collect::<Vec<_>>(),
        ),
        Column::new("relative_importance_low".into(), ri_lo),
        Column::new("relative_importance_high".into(), ri_hi),
        Column::new("r2".into(), vec![(p > 0).then_some(round(r2, 4)); k]),
        Column::new("detractor_lift".into(), dr.lift),
        Column::new("rank".into(), rank),
    ])?;
    let idx: Vec<u32> = order.iter().map(|i| *i as u32).collect();
    df.take(&IdxCa::from_vec("idx".into(), idx))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40 scored respondents: theme `queue` is mentioned by 12 of them, all detractors (a
    /// real driver); `typo` by 3, detractors too (large naive impact, small base); `app` by
    /// 12 mixed ones (no effect).
    #[test]
    fn a_real_driver_is_significant_a_small_one_flagged_and_unranked() {
        let mut y = vec![1.0; 40];
        // queue's 12 and typo's 3 mentioners are all detractors.
        y[..15].fill(-1.0);
        let app: Vec<usize> = (20..32).collect();
        for r in (20..32).step_by(3) {
            y[r] = -1.0;
        }
        let dr = DriverCols {
            id: vec!["app".into(), "queue".into(), "typo".into()],
            respondents: vec![12, 12, 3],
            share: vec![0.3, 0.3, 0.075],
            negative_share: vec![0.3, 1.0, 1.0],
            nps_mentioners: vec![None; 3],
            nps_impact: vec![Some(2.0), Some(-35.0), Some(-9.0)],
            lift: vec![None; 3],
            scored: vec![app, (0..12).collect(), (12..15).collect()],
        };
        let cfg = AnalyzeConfig {
            bootstrap_resamples: 200,
            ..AnalyzeConfig::default()
        };
        let df = table(dr, &y, &cfg).unwrap();
        let ids: Vec<Option<&str>> = df
            .column("theme_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            ids,
            [Some("queue"), Some("app"), Some("typo")],
            "ranked, then the low base"
        );
        let col_b = |c: &str| -> Vec<Option<bool>> {
            df.column(c).unwrap().bool().unwrap().iter().collect()
        };
        assert_eq!(col_b("significant"), [Some(true), Some(false), None]);
        assert_eq!(col_b("low_base"), [Some(false), Some(false), Some(true)]);
        let rank: Vec<Option<u32>> = df.column("rank").unwrap().u32().unwrap().iter().collect();
        assert_eq!(rank, [Some(1), Some(2), None]);
        let f =
            |c: &str| -> Vec<Option<f64>> { df.column(c).unwrap().f64().unwrap().iter().collect() };
        // The two tested themes' importances sum to the model's R²; the low base has none.
        let ri = f("relative_importance");
        let r2 = f("r2")[0].unwrap();
        assert!(
            (ri[0].unwrap() + ri[1].unwrap() - r2).abs() < 2e-4,
            "{ri:?} {r2}"
        );
        assert!(ri[0].unwrap() > ri[1].unwrap() && ri[2].is_none());
        let (lo, hi) = (f("nps_impact_low"), f("nps_impact_high"));
        assert!(
            lo[0].unwrap() < 0.0 && hi[0].unwrap() < 0.0,
            "queue's interval excludes 0"
        );
        assert!(f("p_adjusted")[0].unwrap() < 0.05 && f("p_value")[2].is_none());
    }
}
