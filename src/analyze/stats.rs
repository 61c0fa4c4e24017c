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
//! - Relative importance: the Shapley (LMG) decomposition of the R² of an OLS regression of
//!   y on the themes' mention indicators — each theme's average gain in R² over all orders
//!   of entry (Lindeman, Merenda & Gold 1980; Grömping 2006), exact over all 2^p subsets up to
//!   `shapley_exact_max` themes, else averaged over seeded random orders (the same estimand,
//!   sampled). Either way the importances sum to R².

use rand::{Rng, SeedableRng};
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
    /// Seed of the resamples and of sampled Shapley orders.
    pub seed: u64,
    /// Themes with fewer scored mentioners are flagged `low_base` and not ranked.
    pub min_respondents: usize,
    /// Significance level of the Holm-adjusted p-value.
    pub alpha: f64,
    /// Exact Shapley decomposition up to this many themes; sampled orders beyond.
    pub shapley_exact_max: usize,
    /// Random orders averaged when the decomposition is sampled.
    pub shapley_orders: usize,
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
            shapley_exact_max: 12,
            shapley_orders: 64,
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
                    let (cov, cxy, vy) = moments(y, m, p, &w);
                    shapley(&cov, &cxy, vy, cfg, b as u64 + 1).0
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

/// Weighted covariance matrix of the mention indicators (p × p, row-major), their covariance
/// with y, and the variance of y. Mentions are sparse, so the sums run over each
/// respondent's own themes.
pub fn moments(
    y: &[f64],
    mentions: &[Vec<usize>],
    p: usize,
    w: &[u32],
) -> (Vec<f64>, Vec<f64>, f64) {
    let (mut sw, mut sy, mut syy) = (0f64, 0f64, 0f64);
    let mut sx = vec![0f64; p];
    let mut sxy = vec![0f64; p];
    let mut sxx = vec![0f64; p * p];
    for ((yr, m), wr) in y.iter().zip(mentions).zip(w) {
        let wr = *wr as f64;
        if wr == 0.0 {
            continue;
        }
        sw += wr;
        sy += wr * yr;
        syy += wr * yr * yr;
        for &j in m {
            sx[j] += wr;
            sxy[j] += wr * yr;
            for &k in m {
                sxx[j * p + k] += wr;
            }
        }
    }
    let my = sy / sw;
    let cov: Vec<f64> = (0..p * p)
        .map(|i| sxx[i] / sw - (sx[i / p] / sw) * (sx[i % p] / sw))
        .collect();
    let cxy = (0..p).map(|j| sxy[j] / sw - (sx[j] / sw) * my).collect();
    (cov, cxy, syy / sw - my * my)
}

/// R² of y on the indicators in `subset` (indices into the p × p covariance), by Cholesky.
/// A column that adds nothing new (constant, or collinear with those before it) is skipped,
/// which leaves R² as it is.
fn r2(cov: &[f64], cxy: &[f64], vy: f64, subset: &[usize]) -> f64 {
    let p = cxy.len();
    if subset.is_empty() || vy <= 0.0 {
        return 0.0;
    }
    let mut kept: Vec<usize> = Vec::with_capacity(subset.len());
    // Rows of L (C_SS = L·Lᵀ) and z = L⁻¹·c_xy; R² = |z|² / var(y).
    let mut l: Vec<Vec<f64>> = Vec::with_capacity(subset.len());
    let mut z: Vec<f64> = Vec::with_capacity(subset.len());
    for &j in subset {
        let mut row: Vec<f64> = Vec::with_capacity(kept.len() + 1);
        for (i, &ki) in kept.iter().enumerate() {
            let s: f64 = (0..i).map(|t| row[t] * l[i][t]).sum();
            row.push((cov[j * p + ki] - s) / l[i][i]);
        }
        let cjj = cov[j * p + j];
        let d = cjj - row.iter().map(|v| v * v).sum::<f64>();
        if cjj <= 1e-12 || d <= 1e-9 * cjj {
            continue;
        }
        let dii = d.sqrt();
        let zj = (cxy[j] - row.iter().zip(&z).map(|(a, b)| a * b).sum::<f64>()) / dii;
        row.push(dii);
        kept.push(j);
        l.push(row);
        z.push(zj);
    }
    (z.iter().map(|v| v * v).sum::<f64>() / vy).clamp(0.0, 1.0)
}

/// Shapley (LMG) decomposition of the R² of y on all p indicators: (importance of each, R²).
/// Exact over all subsets up to `shapley_exact_max` indicators; beyond, the mean gain over
/// `shapley_orders` random orders drawn from ChaCha8 stream `stream`.
pub fn shapley(
    cov: &[f64],
    cxy: &[f64],
    vy: f64,
    cfg: &AnalyzeConfig,
    stream: u64,
) -> (Vec<f64>, f64) {
    let p = cxy.len();
    let all: Vec<usize> = (0..p).collect();
    let total = r2(cov, cxy, vy, &all);
    let mut out = vec![0f64; p];
    if p == 0 {
        return (out, 0.0);
    }
    if p <= cfg.shapley_exact_max.min(20) {
        let subsets = 1usize << p;
        let r: Vec<f64> = (0..subsets)
            .map(|mask| {
                let s: Vec<usize> = (0..p).filter(|j| mask & (1 << j) != 0).collect();
                r2(cov, cxy, vy, &s)
            })
            .collect();
        // Weight of a subset of size s not containing j: s!·(p − s − 1)!/p!.
        let fact: Vec<f64> = (0..=p)
            .scan(1f64, |acc, i| {
                *acc *= i.max(1) as f64;
                Some(*acc)
            })
            .collect();
        for (mask, r_mask) in r.iter().enumerate() {
            let s = mask.count_ones() as usize;
            for (j, o) in out.iter_mut().enumerate() {
                if mask & (1 << j) == 0 {
                    *o += fact[s] * fact[p - s - 1] / fact[p] * (r[mask | (1 << j)] - r_mask);
                }
            }
        }
        return (out, total);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    rng.set_stream((1u64 << 40) + stream);
    let orders = cfg.shapley_orders.max(1);
    for _ in 0..orders {
        let mut order = all.clone();
        rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng);
        let mut prev = 0f64;
        for k in 0..p {
            let r = r2(cov, cxy, vy, &order[..=k]);
            out[order[k]] += r - prev;
            prev = r;
        }
    }
    for o in &mut out {
        *o /= orders as f64;
    }
    (out, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 12 respondents (y: +1 promoter, 0 passive, −1 detractor) × 3 themes. Reference figures
    // computed once outside the project with numpy 2 (`np.linalg.lstsq` R² of every subset,
    // LMG as the mean R² gain over all 3! orders) and the textbook Wilson formula.
    const Y: [f64; 12] = [-1., -1., -1., -1., 0., 0., 1., 1., 1., 1., -1., 1.];
    const X: [[usize; 3]; 12] = [
        [1, 0, 0],
        [1, 1, 0],
        [1, 0, 1],
        [0, 1, 0],
        [0, 0, 0],
        [1, 0, 0],
        [0, 0, 1],
        [0, 1, 1],
        [0, 0, 0],
        [0, 0, 1],
        [1, 1, 0],
        [0, 0, 0],
    ];

    fn mentions() -> Vec<Vec<usize>> {
        X.iter()
            .map(|r| (0..3).filter(|j| r[*j] == 1).collect())
            .collect()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn shapley_matches_an_independent_reference_and_sums_to_r2() {
        let (cov, cxy, vy) = moments(&Y, &mentions(), 3, &[1; 12]);
        let cfg = AnalyzeConfig::default();
        let (ri, total) = shapley(&cov, &cxy, vy, &cfg, 0);
        assert!(close(total, 0.674235807860262, 1e-9), "{total}");
        for (got, want) in
            ri.iter()
                .zip([0.474477686627867, 0.11079803294821323, 0.08896008828418178])
        {
            assert!(close(*got, want, 1e-9), "{ri:?}");
        }
        // Sampled orders estimate the same decomposition and still sum to R².
        let sampled = AnalyzeConfig {
            shapley_exact_max: 0,
            shapley_orders: 2000,
            ..cfg
        };
        let (est, total2) = shapley(&cov, &cxy, vy, &sampled, 0);
        assert!(close(est.iter().sum::<f64>(), total2, 1e-9));
        for (a, b) in est.iter().zip(&ri) {
            assert!(close(*a, *b, 0.02), "{est:?} vs {ri:?}");
        }
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
        let (ri, _) = shapley(&cov, &cxy, vy, &cfg, 0);
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

    proptest::proptest! {
        #[test]
        fn importances_sum_to_r2_and_stay_in_range(
            rows in proptest::collection::vec((0u8..3, proptest::collection::vec(proptest::bool::ANY, 5)), 2..60)
        ) {
            let y: Vec<f64> = rows.iter().map(|(s, _)| *s as f64 - 1.0).collect();
            let m: Vec<Vec<usize>> = rows.iter().map(|(_, x)| (0..5).filter(|j| x[*j]).collect()).collect();
            let (cov, cxy, vy) = moments(&y, &m, 5, &vec![1; y.len()]);
            for cfg in [AnalyzeConfig::default(), AnalyzeConfig { shapley_exact_max: 0, ..AnalyzeConfig::default() }] {
                let (ri, total) = shapley(&cov, &cxy, vy, &cfg, 0);
                proptest::prop_assert!((ri.iter().sum::<f64>() - total).abs() < 1e-7, "{ri:?} {total}");
                proptest::prop_assert!((0.0..=1.0).contains(&total));
                proptest::prop_assert!(ri.iter().all(|v| *v > -1e-7));
            }
        }
    }
}
