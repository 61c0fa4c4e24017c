//! Relative importance of drivers: how much of the explained variance of y (+1 promoter,
//! 0 passive, −1 detractor) each theme accounts for when themes are mentioned together.
//!
//! - Up to `shapley_exact_max` themes (15): the exact Shapley (LMG) decomposition of the R² of
//!   an OLS regression of y on the mention indicators — each theme's mean R² gain over all
//!   orders of entry (Lindeman, Merenda & Gold 1980; Grömping 2006). The R² of all 2^p subsets
//!   is computed in one depth-first walk that extends a Cholesky factor by one row per step,
//!   so a subset costs O(p²), not O(p³).
//! - Beyond: Johnson's (2000) relative weights, the usual fast approximation of the same
//!   decomposition — y regressed on the orthogonal counterpart Z = X·R^{-1/2} of the
//!   standardised indicators, each Z's R² share handed back to the X's by the squared loadings
//!   of R^{1/2}. Deterministic, one symmetric eigendecomposition.
//!
//! Either way the importances sum to R² (up to rounding) and are never negative.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::stats::AnalyzeConfig;

/// Upper bound of `shapley_exact_max`: 2^20 subsets per resample is already minutes.
pub const EXACT_LIMIT: usize = 20;

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

/// A Cholesky factor C_SS = L·Lᵀ of the covariance of the indicators entered so far, and
/// z = L⁻¹·c_xy, so that R² = |z|² / var(y). Entering an indicator adds one row.
struct Factor<'a> {
    cov: &'a [f64],
    cxy: &'a [f64],
    kept: Vec<usize>,
    rows: Vec<Vec<f64>>,
    z: Vec<f64>,
}

impl<'a> Factor<'a> {
    fn new(cov: &'a [f64], cxy: &'a [f64]) -> Self {
        Factor {
            cov,
            cxy,
            kept: Vec::new(),
            rows: Vec::new(),
            z: Vec::new(),
        }
    }

    /// Enters indicator j; false (and nothing changes) when it adds nothing new — constant, or
    /// collinear with those entered — which leaves R² as it is.
    fn push(&mut self, j: usize) -> bool {
        let p = self.cxy.len();
        let mut row: Vec<f64> = Vec::with_capacity(self.kept.len() + 1);
        for (i, &ki) in self.kept.iter().enumerate() {
            let s: f64 = (0..i).map(|t| row[t] * self.rows[i][t]).sum();
            row.push((self.cov[j * p + ki] - s) / self.rows[i][i]);
        }
        let cjj = self.cov[j * p + j];
        let d = cjj - row.iter().map(|v| v * v).sum::<f64>();
        if cjj <= 1e-12 || d <= 1e-9 * cjj {
            return false;
        }
        let dii = d.sqrt();
        let zj = (self.cxy[j] - row.iter().zip(&self.z).map(|(a, b)| a * b).sum::<f64>()) / dii;
        row.push(dii);
        self.kept.push(j);
        self.rows.push(row);
        self.z.push(zj);
        true
    }

    fn pop(&mut self) {
        self.kept.pop();
        self.rows.pop();
        self.z.pop();
    }

    fn r2(&self, vy: f64) -> f64 {
        if vy <= 0.0 {
            return 0.0;
        }
        (self.z.iter().map(|v| v * v).sum::<f64>() / vy).clamp(0.0, 1.0)
    }
}

/// R² of y on all p indicators.
fn r2_all(cov: &[f64], cxy: &[f64], vy: f64) -> f64 {
    let mut f = Factor::new(cov, cxy);
    for j in 0..cxy.len() {
        f.push(j);
    }
    f.r2(vy)
}

/// R² of every subset of the p indicators, indexed by bit mask.
fn all_subsets(cov: &[f64], cxy: &[f64], vy: f64) -> Vec<f64> {
    fn walk(f: &mut Factor, j: usize, mask: usize, vy: f64, out: &mut [f64]) {
        if j == f.cxy.len() {
            out[mask] = f.r2(vy);
            return;
        }
        walk(f, j + 1, mask, vy, out);
        let entered = f.push(j);
        walk(f, j + 1, mask | (1 << j), vy, out);
        if entered {
            f.pop();
        }
    }
    let mut out = vec![0f64; 1 << cxy.len()];
    walk(&mut Factor::new(cov, cxy), 0, 0, vy, &mut out);
    out
}

/// Exact Shapley (LMG) values from the R² of every subset.
fn shapley_exact(r: &[f64], p: usize) -> Vec<f64> {
    // Weight of a subset of size s not containing j: s!·(p − s − 1)!/p!.
    let fact: Vec<f64> = (0..=p)
        .scan(1f64, |acc, i| {
            *acc *= i.max(1) as f64;
            Some(*acc)
        })
        .collect();
    let mut out = vec![0f64; p];
    for (mask, r_mask) in r.iter().enumerate() {
        let s = mask.count_ones() as usize;
        for (j, o) in out.iter_mut().enumerate() {
            if mask & (1 << j) == 0 {
                *o += fact[s] * fact[p - s - 1] / fact[p] * (r[mask | (1 << j)] - r_mask);
            }
        }
    }
    out
}

/// Johnson's relative weights of the p indicators. Constant indicators get 0; directions of
/// the correlation matrix with a negligible eigenvalue (collinear indicators) are left out,
/// as a pseudo-inverse would.
pub fn relative_weights(cov: &[f64], cxy: &[f64], vy: f64) -> Vec<f64> {
    let p = cxy.len();
    let mut out = vec![0f64; p];
    if vy <= 0.0 {
        return out;
    }
    let live: Vec<usize> = (0..p).filter(|j| cov[j * p + j] > 1e-12).collect();
    let q = live.len();
    if q == 0 {
        return out;
    }
    let sd: Vec<f64> = live.iter().map(|j| cov[j * p + j].sqrt()).collect();
    let rxx = DMatrix::from_fn(q, q, |a, b| cov[live[a] * p + live[b]] / (sd[a] * sd[b]));
    let rxy = DVector::from_fn(q, |a, _| cxy[live[a]] / (sd[a] * vy.sqrt()));
    let eig = SymmetricEigen::new(rxx);
    let top = eig.eigenvalues.iter().fold(0f64, |m, v| m.max(*v));
    // Λ = R^{1/2} = Q·diag(√λ)·Qᵀ and β = R^{-1/2}·r_xy (the regression of y on Z).
    let (mut half, mut inv_half) = (DVector::zeros(q), DVector::zeros(q));
    for (k, l) in eig.eigenvalues.iter().enumerate() {
        if *l > 1e-10 * top {
            half[k] = l.sqrt();
            inv_half[k] = 1.0 / l.sqrt();
        }
    }
    let qm = &eig.eigenvectors;
    let lambda = qm * DMatrix::from_diagonal(&half) * qm.transpose();
    let beta = qm * DMatrix::from_diagonal(&inv_half) * qm.transpose() * rxy;
    for (a, &j) in live.iter().enumerate() {
        out[j] = (0..q)
            .map(|k| lambda[(a, k)].powi(2) * beta[k].powi(2))
            .sum::<f64>()
            .max(0.0);
    }
    out
}

/// Relative importance of each of the p indicators and the model's R²: exact Shapley up to
/// `shapley_exact_max` indicators, relative weights beyond.
pub fn decompose(cov: &[f64], cxy: &[f64], vy: f64, cfg: &AnalyzeConfig) -> (Vec<f64>, f64) {
    let p = cxy.len();
    if p == 0 {
        return (Vec::new(), 0.0);
    }
    if p <= cfg.shapley_exact_max.min(EXACT_LIMIT) {
        let r = all_subsets(cov, cxy, vy);
        let total = r[r.len() - 1];
        return (shapley_exact(&r, p), total);
    }
    (relative_weights(cov, cxy, vy), r2_all(cov, cxy, vy))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // 12 respondents (y: +1 promoter, 0 passive, −1 detractor) × 3 themes. Reference figures
    // computed once outside the project with numpy 2: `np.linalg.lstsq` R² of every subset,
    // LMG as the mean R² gain over all 3! orders, and Johnson's relative weights from
    // `np.corrcoef` + `np.linalg.eigh` (Λ = Q·diag(√λ)·Qᵀ, β = Λ⁻¹·r_xy, ε = (Λ∘Λ)·β²).
    pub(crate) const Y: [f64; 12] = [-1., -1., -1., -1., 0., 0., 1., 1., 1., 1., -1., 1.];
    pub(crate) const X: [[usize; 3]; 12] = [
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

    pub(crate) fn mentions() -> Vec<Vec<usize>> {
        X.iter()
            .map(|r| (0..3).filter(|j| r[*j] == 1).collect())
            .collect()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn shapley_and_relative_weights_match_an_independent_reference() {
        let (cov, cxy, vy) = moments(&Y, &mentions(), 3, &[1; 12]);
        let cfg = AnalyzeConfig::default();
        let (ri, total) = decompose(&cov, &cxy, vy, &cfg);
        assert!(close(total, 0.674235807860262, 1e-9), "{total}");
        for (got, want) in
            ri.iter()
                .zip([0.474477686627867, 0.11079803294821323, 0.08896008828418178])
        {
            assert!(close(*got, want, 1e-9), "{ri:?}");
        }
        // Beyond the exact limit: relative weights, which also sum to R².
        let approx = AnalyzeConfig {
            shapley_exact_max: 0,
            ..cfg
        };
        let (rw, total2) = decompose(&cov, &cxy, vy, &approx);
        assert!(close(total2, total, 1e-12));
        for (got, want) in
            rw.iter()
                .zip([0.4744240764502681, 0.11135628341455542, 0.08845544799543839])
        {
            assert!(close(*got, want, 1e-9), "{rw:?}");
        }
    }

    #[test]
    fn the_subset_walk_agrees_with_one_factor_per_subset() {
        // 6 indicators, two of them identical (collinear) and one never mentioned.
        let y: Vec<f64> = (0..40)
            .map(|i| [(-1.0), 0.0, 1.0][(i * 7 % 11) % 3])
            .collect();
        let m: Vec<Vec<usize>> = (0..40)
            .map(|i| {
                let mut v: Vec<usize> = (0..4).filter(|j| (i * (j + 3)) % 5 < 2).collect();
                if v.contains(&0) {
                    v.push(4);
                }
                v
            })
            .collect();
        let (cov, cxy, vy) = moments(&y, &m, 6, &[1; 40]);
        let r = all_subsets(&cov, &cxy, vy);
        for (mask, got) in r.iter().enumerate() {
            let mut f = Factor::new(&cov, &cxy);
            for j in (0..6).filter(|j| mask & (1 << j) != 0) {
                f.push(j);
            }
            assert!(close(*got, f.r2(vy), 1e-12), "{mask:b}");
        }
        let (ri, total) = decompose(&cov, &cxy, vy, &AnalyzeConfig::default());
        assert!(
            close(ri.iter().sum(), total, 1e-9) && ri[5] == 0.0,
            "{ri:?}"
        );
        // Collinear twins split their credit equally.
        assert!(close(ri[0], ri[4], 1e-9), "{ri:?}");
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
                let (ri, total) = decompose(&cov, &cxy, vy, &cfg);
                proptest::prop_assert!((ri.iter().sum::<f64>() - total).abs() < 1e-7, "{ri:?} {total}");
                proptest::prop_assert!((0.0..=1.0).contains(&total));
                proptest::prop_assert!(ri.iter().all(|v| *v > -1e-7));
            }
        }
    }
}
