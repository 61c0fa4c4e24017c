//! The statistics behind `drivers` and `theme_stage`: how sure a figure is, and how much of
//! the score each theme explains when themes are mentioned together.
//!
//! - A respondent's NPS contribution is y = +1 (promoter), 0 (passive), −1 (detractor); NPS
//!   is 100 × mean(y), with the closed-form variance 100²·[p + d − (p − d)²]/n for promoter
//!   share p and detractor share d.
//! - NPS impact of a group (a theme's mentioners) = NPS(all) − NPS(everyone else). Its 95 %
//!   interval is a respondent-level percentile bootstrap: resample b draws n respondents
//!   with replacement from a ChaCha8 stream (seed, b), so the result is the same whatever
//!   the number of threads.
//! - Significance: the two-sided z-test of NPS(mentioners) − NPS(others) with the
//!   closed-form variances, Holm-adjusted over the themes tested.
//! - Relative importance of themes mentioned together: see [`super::importance`]; its
//!   intervals come from the same resamples.

use rand::{Rng, SeedableRng};

use super::importance;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Two-sided 95 % normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

/// `[analyze]` in palaute.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyzeConfig {
    /// Respondent-level bootstrap resamples for intervals (0 = no intervals).
    pub bootstrap_resamples: usize,
    /// Seed of the resamples.
    pub seed: u64,
    /// Themes with fewer scored mentioners are flagged `low_base` and not ranked.
    pub min_respondents: usize,
    /// Significance level of the Holm-adjusted p-value.
    pub alpha: f64,
    /// Exact Shapley decomposition up to this many themes (at most 20); Johnson's relative
    /// weights beyond.
    pub shapley_exact_max: usize,
    /// `comparisons`: a metadata column (`meta_region` or `region`) whose groups are each
    /// compared with all the others.
    pub compare: Option<String>,
    /// `comparisons`: each month or quarter (from the date) against the one before.
    pub period: Option<super::compare::Period>,
}

impl Default for AnalyzeConfig {
    fn default() -> Self {
        AnalyzeConfig {
            bootstrap_resamples: 1000,
            seed: 0,
            min_respondents: 10,
            alpha: 0.05,
            shapley_exact_max: 15,
            compare: None,
            period: None,
        }
    }
}

/// y of an NPS score: +1 promoter, 0 passive, −1 detractor.
pub fn nps_value(score: f64) -> f64 {
    match crate::record::nps_group(score) {
        crate::record::NpsGroup::Promoter => 1.0,
        crate::record::NpsGroup::Detractor => -1.0,
        crate::record::NpsGroup::Passive => 0.0,
    }
}

/// NPS and its closed-form variance over `ys` (each +1/0/−1).
pub fn nps_with_variance(ys: impl Iterator<Item = f64>) -> Option<(f64, f64, usize)> {
    let (mut n, mut p, mut d) = (0usize, 0f64, 0f64);
    for y in ys {
        n += 1;
        if y > 0.0 {
            p += 1.0;
        } else if y < 0.0 {
            d += 1.0;
        }
    }
    if n == 0 {
        return None;
    }
    let (p, d) = (p / n as f64, d / n as f64);
    let var = 100f64.powi(2) * (p + d - (p - d).powi(2)) / n as f64;
    Some((100.0 * (p - d), var, n))
}

/// Two-sided p-value of NPS(group) − NPS(rest), z-test with closed-form variances. `None`
/// when either side is empty.
pub fn difference_p_value(group: &[f64], rest: &[f64]) -> Option<f64> {
    let (a, va, _) = nps_with_variance(group.iter().copied())?;
    let (b, vb, _) = nps_with_variance(rest.iter().copied())?;
    let se = (va + vb).sqrt();
    if se == 0.0 {
        return Some(if a == b { 1.0 } else { 0.0 });
    }
    let z = (a - b).abs() / se;
    Some(libm::erfc(z / std::f64::consts::SQRT_2))
}

/// Holm's step-down adjustment of `p` (family-wise error over all of them).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| p[*a].total_cmp(&p[*b]).then(a.cmp(b)));
    let mut out = vec![0.0; m];
    let mut running = 0f64;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(((m - k) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// Wilson score interval (95 %) of a proportion k/n.
pub fn wilson(k: usize, n: usize) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (n, p, z2) = (n as f64, k as f64 / n as f64, Z95 * Z95);
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Percentile (linear interpolation between order statistics, as R's type 7) of sorted `v`.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// 95 % percentile interval of the finite values.
fn interval(mut v: Vec<f64>) -> Option<(f64, f64)> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some((percentile(&v, 0.025), percentile(&v, 0.975)))
}

/// How many times each of `n` respondents is drawn in resample `b`.
fn resample(n: usize, seed: u64, b: usize) -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(b as u64);
    let mut w = vec![0u32; n];
    for _ in 0..n {
        w[rng.random_range(0..n)] += 1;
    }
    w
}

/// (Σw, Σw·y) of all respondents under weights `w`.
fn totals(y: &[f64], w: &[u32]) -> (f64, f64) {
    y.iter().zip(w).fold((0f64, 0f64), |(a, s), (y, w)| {
        (a + *w as f64, s + *w as f64 * y)
    })
}

/// NPS impact of a group under weights `w`: 100 × (mean(y) − mean(y | not in group)).
fn impact(y: &[f64], w: &[u32], group: &[usize], total: (f64, f64)) -> f64 {
    let (sw, sy) = group.iter().fold((0f64, 0f64), |(a, b), &r| {
        (a + w[r] as f64, b + w[r] as f64 * y[r])
    });
    let (all_w, all_y) = total;
    100.0 * (all_y / all_w - (all_y - sy) / (all_w - sw))
}

/// Point NPS impact of each group (respondent indices into `y`).
pub fn impacts(y: &[f64], groups: &[Vec<usize>]) -> Vec<f64> {
    let w = vec![1u32; y.len()];
    let total = (y.len() as f64, y.iter().sum());
    groups.iter().map(|g| impact(y, &w, g, total)).collect()
}

/// Bootstrap 95 % interval of a difference of two NPS impacts from independent samples: side
/// A (`ya`, its mentioners `ga`) minus side B (`yb`, `gb`). Respondents are resampled within
/// each side (a stratified bootstrap: the sides keep their sizes), A from streams (seed, b)
/// and B from streams (seed + φ·2⁶⁴, b), so the interval is the same whatever the thread
/// count. A resample where a side has no non-mentioner is skipped.
pub fn impact_difference(
    ya: &[f64],
    ga: &[usize],
    yb: &[f64],
    gb: &[usize],
    cfg: &AnalyzeConfig,
) -> Option<(f64, f64)> {
    if cfg.bootstrap_resamples == 0 || ya.len() < 2 || yb.len() < 2 {
        return None;
    }
    let seed_b = cfg.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let side = |y: &[f64], g: &[usize], seed: u64, b: usize| {
        let w = resample(y.len(), seed, b);
        impact(y, &w, g, totals(y, &w))
    };
    let diffs: Vec<f64> = (0..cfg.bootstrap_resamples)
        .into_par_iter()
        .map(|b| side(ya, ga, cfg.seed, b) - side(yb, gb, seed_b, b))
        .collect();
    interval(diffs)
}

/// Bootstrap 95 % intervals of each group's NPS impact and, when `mentions` is given (the
/// model's themes each respondent mentions), of each theme's relative importance.
pub struct Intervals {
    pub impact: Vec<Option<(f64, f64)>>,
    pub importance: Vec<Option<(f64, f64)>>,
}

pub fn bootstrap(
    y: &[f64],
    groups: &[Vec<usize>],
    mentions: Option<(&[Vec<usize>], usize)>,
    cfg: &AnalyzeConfig,
) -> Intervals {
    let n = y.len();
    let p = mentions.map_or(0, |m| m.1);
    if cfg.bootstrap_resamples == 0 || n < 2 {
        return Intervals {
            impact: vec![None; groups.len()],
            importance: vec![None; p],
        };
    }
    let draws: Vec<(Vec<f64>, Vec<f64>)> = (0..cfg.bootstrap_resamples)
        .into_par_iter()
        .map(|b| {
            let w = resample(n, cfg.seed, b);
            let total = totals(y, &w);
            let imp = groups.iter().map(|g| impact(y, &w, g, total)).collect();
            let ri = match mentions {
                Some((m, p)) => {
                    let (cov, cxy, vy) = importance::moments(y, m, p, &w);
                    importance::decompose(&cov, &cxy, vy, cfg).0
                }
                None => Vec::new(),
            };
            (imp, ri)
        })
        .collect();
    Intervals {
        impact: (0..groups.len())
            .map(|g| interval(draws.iter().map(|d| d.0[g]).collect()))
            .collect(),
        importance: (0..p)
            .map(|j| interval(draws.iter().map(|d| d.1[j]).collect()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::importance::tests::{mentions, X, Y};
    use crate::analyze::importance::{decompose, moments};

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn nps_variance_wilson_holm_and_the_z_test() {
        let (nps, var, n) = nps_with_variance(Y.iter().copied()).unwrap();
        assert_eq!((nps, n), (0.0, 12));
        assert!(close(var, 694.4444444444445, 1e-9));
        let (lo, hi) = wilson(3, 10).unwrap();
        assert!(close(lo, 0.10779126740630099, 1e-12) && close(hi, 0.6032218525388546, 1e-12));
        assert_eq!(wilson(0, 0), None);
        // Holm: sorted 0.01, 0.02, 0.04 × 3, 2, 1 → 0.03, 0.04, 0.04 (monotone).
        let adj = holm(&[0.04, 0.01, 0.02]);
        assert!(
            close(adj[1], 0.03, 1e-12) && close(adj[2], 0.04, 1e-12) && close(adj[0], 0.04, 1e-12)
        );
        let (with, without): (Vec<f64>, Vec<f64>) = {
            let m = mentions();
            let w = Y
                .iter()
                .zip(&m)
                .filter(|(_, m)| m.contains(&0))
                .map(|(y, _)| *y)
                .collect();
            let o = Y
                .iter()
                .zip(&m)
                .filter(|(_, m)| !m.contains(&0))
                .map(|(y, _)| *y)
                .collect();
            (w, o)
        };
        let p = difference_p_value(&with, &without).unwrap();
        assert!(close(p, 2.9543129457076645e-05, 1e-12), "{p}");
        let group: Vec<usize> = (0..12).filter(|r| X[*r][0] == 1).collect();
        assert!(close(impacts(&Y, &[group])[0], -57.14285714285714, 1e-9));
    }

    #[test]
    fn bootstrap_is_deterministic_across_threads_and_covers_the_estimate() {
        // A larger sample: the fixture repeated, so intervals are not degenerate.
        let y: Vec<f64> = (0..20).flat_map(|_| Y).collect();
        let m: Vec<Vec<usize>> = (0..20).flat_map(|_| mentions()).collect();
        let groups: Vec<Vec<usize>> = (0..3)
            .map(|j| (0..y.len()).filter(|r| m[*r].contains(&j)).collect())
            .collect();
        let cfg = AnalyzeConfig {
            bootstrap_resamples: 300,
            ..AnalyzeConfig::default()
        };
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| bootstrap(&y, &groups, Some((&m, 3)), &cfg))
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one.impact, two.impact);
        assert_eq!(one.importance, two.importance);
        let point = impacts(&y, &groups);
        let (cov, cxy, vy) = moments(&y, &m, 3, &vec![1; y.len()]);
        let (ri, _) = decompose(&cov, &cxy, vy, &cfg);
        for j in 0..3 {
            let (lo, hi) = one.impact[j].unwrap();
            assert!(
                lo <= point[j] && point[j] <= hi,
                "{j}: {lo} {} {hi}",
                point[j]
            );
            let (lo, hi) = one.importance[j].unwrap();
            assert!(lo <= ri[j] && ri[j] <= hi, "{j}: {lo} {} {hi}", ri[j]);
        }
    }
}
