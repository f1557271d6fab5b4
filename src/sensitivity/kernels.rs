//! Global sensitivity analysis kernels: which uncertain inputs drive the
//! uncertainty of a simulated cost?
//!
//! Two families of measures are provided:
//!
//! * **Rank-based correlation measures** — [`prcc`] (partial rank
//!   correlation coefficients, Iman & Conover 1980; Marino et al. 2008, "A
//!   methodology for performing global uncertainty and sensitivity analysis
//!   in systems biology", J. Theor. Biol. 254), built on [`ranks`],
//!   [`pearson`] and [`spearman`] (from [`crate::stats`], re-exported here).
//!   They are cheap, work on any existing Monte Carlo sample, and measure
//!   monotone association.
//! * **Variance-based Sobol' indices** — [`SobolDesign`] and [`sobol`]
//!   (Saltelli et al. 2010, "Variance based sensitivity analysis of model
//!   output. Design and estimator for the total sensitivity index",
//!   Comput. Phys. Commun. 181, 259–270; Jansen 1999, "Analysis of variance
//!   designs for model output", Comput. Phys. Commun. 117, 35–43). They need
//!   a dedicated design of `(2 + groups) × n` model evaluations but capture
//!   non-monotone effects and interactions, for single factors or for groups
//!   of factors.
//!
//! All randomness is driven by caller-supplied seeds through
//! [`Xoshiro256PlusPlus`], so results are reproducible.

use nalgebra::SymmetricEigen;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

pub use crate::stats::{pearson, ranks, spearman};
use crate::stats::{pearson_matrix, quantile_sorted};

/// Smallest eigenvalue a rank correlation matrix may have before [`prcc`]
/// treats it as singular. A correlation matrix has trace equal to its
/// dimension, so this is a relative threshold on its conditioning.
const SINGULAR_EIGENVALUE_THRESHOLD: f64 = 1e-10;

/// Partial rank correlation coefficients between each input column and the
/// output.
///
/// `inputs` holds `k` columns of `n` sampled values each (one column per
/// uncertain input); `output` holds the `n` corresponding model outputs.
///
/// Formula (Iman & Conover 1980; Marino et al. 2008, eq. 5): rank-transform
/// every column and the output, form the `(k+1) × (k+1)` matrix `R` of
/// Pearson correlations of the ranks (output last), let `P = R⁻¹`, then
///
/// `PRCC_j = −P[j][y] / sqrt(P[j][j] · P[y][y])`.
///
/// This equals the correlation between the residuals of rank(x_j) and
/// rank(y) after linear regression on the ranks of all other inputs.
///
/// Degenerate cases:
/// * an input column with zero variance gets NaN; it is left out of `R`
///   (a constant cannot change a partial correlation), so the other columns
///   still get finite coefficients;
/// * if the output has zero variance, or `R` (without the constant columns)
///   is singular — smallest eigenvalue ≤ 1e-10, e.g. two inputs with the same
///   rank order, or `n ≤ k + 1` — every coefficient is NaN, because the
///   partial correlations are not identifiable.
///
/// # Panics
/// If any input column's length differs from `output.len()`.
pub fn prcc(inputs: &[Vec<f64>], output: &[f64]) -> Vec<f64> {
    let n = output.len();
    for (j, column) in inputs.iter().enumerate() {
        assert_eq!(
            column.len(),
            n,
            "prcc: input column {j} has {} values, output has {n}",
            column.len()
        );
    }
    let all_nan = vec![f64::NAN; inputs.len()];
    if has_zero_variance(output) {
        return all_nan;
    }

    let varying: Vec<usize> = (0..inputs.len())
        .filter(|&j| !has_zero_variance(&inputs[j]))
        .collect();
    let mut ranked: Vec<Vec<f64>> = varying.iter().map(|&j| ranks(&inputs[j])).collect();
    ranked.push(ranks(output));

    let correlation = pearson_matrix(&ranked);
    let min_eigenvalue = SymmetricEigen::new(correlation.clone()).eigenvalues.min();
    if min_eigenvalue.is_nan() || min_eigenvalue <= SINGULAR_EIGENVALUE_THRESHOLD {
        return all_nan;
    }
    let precision = match correlation.cholesky() {
        Some(cholesky) => cholesky.inverse(),
        None => return all_nan,
    };

    let y = ranked.len() - 1;
    let mut result = all_nan;
    for (slot, &j) in varying.iter().enumerate() {
        let coefficient =
            -precision[(slot, y)] / (precision[(slot, slot)] * precision[(y, y)]).sqrt();
        result[j] = coefficient.clamp(-1.0, 1.0);
    }
    result
}

/// Sample matrices `A` and `B` of the Saltelli design for Sobol' indices.
///
/// `a[row][col]` and `b[row][col]` hold `n` rows of `k` factor values; `A`
/// and `B` must be two *independent* samples of the same joint input
/// distribution (independent factors). Source: Saltelli et al. (2010),
/// section 3, and Saltelli et al., *Global Sensitivity Analysis: The Primer*
/// (Wiley 2008), ch. 4.
#[derive(Debug, Clone, PartialEq)]
pub struct SobolDesign {
    /// Number of rows (base sample size) of each matrix.
    pub n: usize,
    /// Number of factors (columns).
    pub k: usize,
    /// Matrix `A`, row-major: `a[row][col]`.
    pub a: Vec<Vec<f64>>,
    /// Matrix `B`, row-major: `b[row][col]`.
    pub b: Vec<Vec<f64>>,
}

impl SobolDesign {
    /// Builds the design by calling `sampler(row, col, matrix)` once for every
    /// cell, with `matrix` equal to `'A'` or `'B'`.
    ///
    /// The sampler draws factor `col` from that factor's own marginal
    /// distribution (continuous, or discrete such as Bernoulli 0/1 — values
    /// are stored as returned). Call order is fixed: all of `A` row by row
    /// (columns in order within a row), then all of `B` the same way, so a
    /// sampler driven by one seeded generator gives a reproducible design.
    pub fn new(n: usize, k: usize, mut sampler: impl FnMut(usize, usize, char) -> f64) -> Self {
        let mut draw = |matrix: char| -> Vec<Vec<f64>> {
            (0..n)
                .map(|row| (0..k).map(|col| sampler(row, col, matrix)).collect())
                .collect()
        };
        let a = draw('A');
        let b = draw('B');
        SobolDesign { n, k, a, b }
    }
}

/// First- and total-order Sobol' indices of one factor or group of factors,
/// with bootstrap 95% percentile intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SobolIndex {
    /// First-order (closed) index `S = V[E(Y | X_g)] / V(Y)`.
    pub first: f64,
    /// Lower end of the 95% bootstrap percentile interval of `first`.
    pub first_lo: f64,
    /// Upper end of the 95% bootstrap percentile interval of `first`.
    pub first_hi: f64,
    /// Total-order index `ST = E[V(Y | X_~g)] / V(Y)`.
    pub total: f64,
    /// Lower end of the 95% bootstrap percentile interval of `total`.
    pub total_lo: f64,
    /// Upper end of the 95% bootstrap percentile interval of `total`.
    pub total_hi: f64,
}

/// Sobol' first- and total-order indices for each group of factors, from the
/// Saltelli design, with bootstrap confidence intervals.
///
/// Each entry of `groups` is a set of column indices whose values are
/// swapped together; pass singletons (`vec![j]`) for per-factor indices. For
/// a group `g`, `A_B^g` is `A` with the columns in `g` taken from `B`.
///
/// Estimators, with `f_A`, `f_B`, `f_AB` the model outputs at the rows of
/// `A`, `B`, `A_B^g` and means over the `n` rows:
/// * `V` = sample variance (divisor `2n − 1`) of the pooled `f_A` and `f_B`;
/// * first order, the estimator proposed by Saltelli et al. (2010):
///   `S_g = mean(f_B · (f_AB − f_A)) / V`;
/// * total order, Jansen (1999), recommended by Saltelli et al. (2010):
///   `ST_g = mean((f_A − f_AB)²) / (2 V)`.
///
/// For a group, `S_g` is the closed index: the sum of the first-order and
/// all interaction indices of factors inside the group.
///
/// The model `f` is evaluated exactly once at each of the `(2 + groups) × n`
/// design points; the outputs are stored and reused by the bootstrap.
///
/// Bootstrap: `bootstrap` times, draw `n` row indices uniformly with
/// replacement (a [`Xoshiro256PlusPlus`] seeded with `seed`, so the result is
/// deterministic), recompute `V`, `S_g` and `ST_g` from the resampled rows
/// (rows keep their `f_A`, `f_B`, `f_AB` together), and report the 2.5% and
/// 97.5% percentiles (linear interpolation between order statistics,
/// Hyndman & Fan 1996 type 7) of the resampled estimates: Efron & Tibshirani,
/// *An Introduction to the Bootstrap* (1993), ch. 13, as used by Saltelli
/// et al. (2010). Resamples whose estimate is not finite (zero variance) are
/// skipped. With `bootstrap == 0`, or when no resample is finite, the
/// interval bounds are NaN. If `V = 0` the point estimates are NaN.
///
/// The intervals cover the sampling error of the estimators. Percentile
/// intervals under-cover a little at finite `n`: with 2000 rows and 200
/// resamples, the Ishigami function's intervals hold the true indices 93.5%
/// to 94.2% of the time rather than 95% (measured in this file's tests).
///
/// # Panics
/// If a group refers to a column `≥ design.k`, or if the design's matrices do
/// not have `n` rows of `k` values.
pub fn sobol(
    design: &SobolDesign,
    groups: &[Vec<usize>],
    f: impl Fn(&[f64]) -> f64 + Sync,
    bootstrap: usize,
    seed: u64,
) -> Vec<SobolIndex> {
    let SobolDesign { n, k, a, b } = design;
    let (n, k) = (*n, *k);
    assert!(
        a.len() == n && b.len() == n && a.iter().chain(b).all(|row| row.len() == k),
        "sobol: design matrices must have {n} rows of {k} values"
    );
    for group in groups {
        for &col in group {
            assert!(col < k, "sobol: group column {col} out of range (k = {k})");
        }
    }

    let outputs = SobolOutputs {
        f_a: a.iter().map(|row| f(row)).collect(),
        f_b: b.iter().map(|row| f(row)).collect(),
        f_ab: groups
            .iter()
            .map(|group| {
                let mut mixed = vec![0.0; k];
                (0..n)
                    .map(|row| {
                        mixed.copy_from_slice(&a[row]);
                        for &col in group {
                            mixed[col] = b[row][col];
                        }
                        f(&mixed)
                    })
                    .collect()
            })
            .collect(),
    };

    let all_rows: Vec<usize> = (0..n).collect();
    let point = outputs.estimates(&all_rows);

    let mut first_samples = vec![Vec::with_capacity(bootstrap); groups.len()];
    let mut total_samples = vec![Vec::with_capacity(bootstrap); groups.len()];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut rows = vec![0; n];
    for _ in 0..bootstrap {
        for row in rows.iter_mut() {
            *row = rng.random_range(0..n);
        }
        for (g, (first, total)) in outputs.estimates(&rows).into_iter().enumerate() {
            if first.is_finite() {
                first_samples[g].push(first);
            }
            if total.is_finite() {
                total_samples[g].push(total);
            }
        }
    }

    point
        .into_iter()
        .enumerate()
        .map(|(g, (first, total))| {
            let (first_lo, first_hi) = percentile_interval(&mut first_samples[g]);
            let (total_lo, total_hi) = percentile_interval(&mut total_samples[g]);
            SobolIndex {
                first,
                first_lo,
                first_hi,
                total,
                total_lo,
                total_hi,
            }
        })
        .collect()
}

/// Model outputs at the design points, stored once and reused by the
/// bootstrap.
struct SobolOutputs {
    f_a: Vec<f64>,
    f_b: Vec<f64>,
    /// `f_ab[g][row]`: output at row `row` of `A_B^g`.
    f_ab: Vec<Vec<f64>>,
}

impl SobolOutputs {
    /// `(first, total)` estimates for every group, using the given rows
    /// (possibly repeated, for a bootstrap resample).
    fn estimates(&self, rows: &[usize]) -> Vec<(f64, f64)> {
        let count = rows.len() as f64;
        let pooled_mean =
            rows.iter().map(|&r| self.f_a[r] + self.f_b[r]).sum::<f64>() / (2.0 * count);
        let pooled_variance = rows
            .iter()
            .map(|&r| (self.f_a[r] - pooled_mean).powi(2) + (self.f_b[r] - pooled_mean).powi(2))
            .sum::<f64>()
            / (2.0 * count - 1.0);
        if pooled_variance.is_nan() || pooled_variance <= 0.0 {
            return vec![(f64::NAN, f64::NAN); self.f_ab.len()];
        }

        self.f_ab
            .iter()
            .map(|f_ab| {
                let (mut first_sum, mut total_sum) = (0.0, 0.0);
                for &r in rows {
                    first_sum += self.f_b[r] * (f_ab[r] - self.f_a[r]);
                    total_sum += (self.f_a[r] - f_ab[r]).powi(2);
                }
                (
                    first_sum / count / pooled_variance,
                    total_sum / count / (2.0 * pooled_variance),
                )
            })
            .collect()
    }
}

/// 2.5% and 97.5% percentiles (type 7) of `samples`, which are sorted in
/// place; `(NaN, NaN)` if empty.
fn percentile_interval(samples: &mut [f64]) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    samples.sort_by(f64::total_cmp);
    (
        quantile_sorted(samples, 0.025),
        quantile_sorted(samples, 0.975),
    )
}

fn has_zero_variance(values: &[f64]) -> bool {
    values.windows(2).all(|pair| pair[0] == pair[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;
    use rand_distr::{Bernoulli, Distribution, Normal};
    use std::f64::consts::PI;
    use std::sync::atomic::{AtomicUsize, Ordering};

    // ------------------------------------------------------------------ PRCC

    /// Partial correlation of variable `j` with the last variable, from the
    /// inverse of a correlation matrix.
    fn partial_from_correlation(correlation: &DMatrix<f64>) -> Vec<f64> {
        let precision = correlation.clone().try_inverse().expect("invertible");
        let y = correlation.nrows() - 1;
        (0..y)
            .map(|j| -precision[(j, y)] / (precision[(j, j)] * precision[(y, y)]).sqrt())
            .collect()
    }

    /// Standard error of a Spearman (partial) correlation on the Fisher-z
    /// scale: var(atanh ρₛ) ≈ 1.06 / (n − 3) (Fieller, Hartley & Pearson
    /// 1957, Biometrika 44), with `n − 3 − c` for `c` controlled variables
    /// (as for Pearson partial correlations).
    fn spearman_z_standard_error(n: usize, controlled: usize) -> f64 {
        (1.06 / (n - 3 - controlled) as f64).sqrt()
    }

    #[test]
    fn prcc_linear_model_signs_order_and_partial_correlations() {
        // y = 2 x1 − x2 + 0.5 x3 + ε, xᵢ ~ U(0, 1) independent, ε ~ N(0, σ²).
        // Given the other inputs, the residual of y is βⱼ xⱼ + ε, so the
        // Pearson partial correlation is βⱼ σₓ / sqrt(βⱼ² σₓ² + σ²) with
        // σₓ² = 1/12.
        let coefficients = [2.0, -1.0, 0.5];
        let noise_sd = 0.5;
        let n = 5000;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
        let noise = Normal::new(0.0, noise_sd).expect("valid normal");
        let inputs: Vec<Vec<f64>> = (0..3)
            .map(|_| (0..n).map(|_| rng.random_range(0.0..1.0)).collect())
            .collect();
        let output: Vec<f64> = (0..n)
            .map(|i| {
                (0..3).map(|j| coefficients[j] * inputs[j][i]).sum::<f64>() + noise.sample(&mut rng)
            })
            .collect();

        let coefficients_prcc = prcc(&inputs, &output);
        let variance_x: f64 = 1.0 / 12.0;
        let analytic: Vec<f64> = coefficients
            .iter()
            .map(|beta| {
                beta * variance_x.sqrt() / (beta * beta * variance_x + noise_sd * noise_sd).sqrt()
            })
            .collect();

        for j in 0..3 {
            assert_eq!(coefficients_prcc[j].signum(), coefficients[j].signum());
        }
        assert!(coefficients_prcc[0].abs() > coefficients_prcc[1].abs());
        assert!(coefficients_prcc[1].abs() > coefficients_prcc[2].abs());

        // Tolerance on the Fisher-z scale: 4 standard errors (two controlled
        // variables) for sampling error, plus a systematic term. PRCC is a
        // partial correlation of *ranks*; y is not uniform, so its rank
        // transform is non-linear and the PRCC limit is not exactly the
        // Pearson partial correlation. Measured at n = 2·10⁶ (two seeds) the
        // limit differs from the analytic values by +0.0067, +0.0168 and
        // −0.0120 in z (+0.003, +0.013, −0.011 in r), so 0.02 in z bounds
        // it. The exact-limit comparison is
        // `prcc_gaussian_model_matches_exact_rank_limit`.
        let rank_transform_bias = 0.02;
        let z_tolerance = 4.0 * spearman_z_standard_error(n, 2) + rank_transform_bias;
        for j in 0..3 {
            let z_difference = coefficients_prcc[j].atanh() - analytic[j].atanh();
            assert!(
                z_difference.abs() < z_tolerance,
                "factor {j}: PRCC {} vs analytic partial correlation {} \
                 (|Δz| = {} ≥ {z_tolerance})",
                coefficients_prcc[j],
                analytic[j],
                z_difference.abs()
            );
        }
    }

    #[test]
    fn prcc_gaussian_model_matches_exact_rank_limit() {
        // With Gaussian inputs and noise, (x1, x2, x3, y) is jointly normal
        // with Pearson correlations corr(xᵢ, y) = βᵢ / σ_y, and the population
        // Spearman correlation is (6/π) asin(r/2) elementwise (Pearson 1907;
        // Kruskal 1958). PRCC converges to the partial correlation computed
        // from that Spearman matrix, which we can evaluate exactly.
        let coefficients = [1.5, -1.0, 0.3];
        let noise_sd = 1.0;
        let n = 20_000;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(77);
        let standard = Normal::new(0.0, 1.0).expect("valid normal");
        let inputs: Vec<Vec<f64>> = (0..3)
            .map(|_| (0..n).map(|_| standard.sample(&mut rng)).collect())
            .collect();
        let output: Vec<f64> = (0..n)
            .map(|i| {
                (0..3).map(|j| coefficients[j] * inputs[j][i]).sum::<f64>()
                    + noise_sd * standard.sample(&mut rng)
            })
            .collect();

        let output_sd =
            (coefficients.iter().map(|b| b * b).sum::<f64>() + noise_sd * noise_sd).sqrt();
        let spearman_matrix = DMatrix::from_fn(4, 4, |i, j| {
            let pearson_r = if i == j {
                1.0
            } else if i == 3 {
                coefficients[j] / output_sd
            } else if j == 3 {
                coefficients[i] / output_sd
            } else {
                0.0
            };
            6.0 / PI * (pearson_r / 2.0).asin()
        });
        let expected = partial_from_correlation(&spearman_matrix);
        let measured = prcc(&inputs, &output);

        let z_tolerance = 4.0 * spearman_z_standard_error(n, 2);
        for j in 0..3 {
            let z_difference = measured[j].atanh() - expected[j].atanh();
            assert!(
                z_difference.abs() < z_tolerance,
                "factor {j}: PRCC {} vs exact limit {}",
                measured[j],
                expected[j]
            );
        }
    }

    #[test]
    fn prcc_constant_column_is_nan_and_ignored() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let n = 500;
        let x1: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
        let x2: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| x1[i] - 0.5 * x2[i] + rng.random_range(0.0..0.3))
            .collect();
        let with_constant = prcc(&[x1.clone(), vec![4.2; n], x2.clone()], &y);
        let without = prcc(&[x1, x2], &y);
        assert!(with_constant[1].is_nan());
        assert!((with_constant[0] - without[0]).abs() < 1e-12);
        assert!((with_constant[2] - without[1]).abs() < 1e-12);
    }

    #[test]
    fn prcc_degenerate_cases_are_all_nan() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
        let n = 200;
        let x1: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
        // Same rank order as x1: the rank correlation matrix is singular.
        let x1_cubed: Vec<f64> = x1.iter().map(|v| v.powi(3)).collect();
        let x3: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
        let y: Vec<f64> = (0..n).map(|i| x1[i] + x3[i]).collect();
        assert!(prcc(&[x1.clone(), x1_cubed, x3.clone()], &y)
            .iter()
            .all(|v| v.is_nan()));
        // Constant output.
        assert!(prcc(&[x1.clone(), x3.clone()], &vec![1.0; n])
            .iter()
            .all(|v| v.is_nan()));
        // Too few points: n = k + 1 leaves no degrees of freedom.
        assert!(prcc(&[x1[..3].to_vec(), x3[..3].to_vec()], &y[..3])
            .iter()
            .all(|v| v.is_nan()));
    }

    // ----------------------------------------------------------------- Sobol

    const ISHIGAMI_A: f64 = 7.0;
    const ISHIGAMI_B: f64 = 0.1;

    fn ishigami(x: &[f64]) -> f64 {
        x[0].sin() + ISHIGAMI_A * x[1].sin().powi(2) + ISHIGAMI_B * x[2].powi(4) * x[0].sin()
    }

    /// Closed-form partial variances of the Ishigami function with
    /// xᵢ ~ U(−π, π) (Ishigami & Homma 1990; Sobol' & Levitan 1999; Saltelli
    /// et al. 2000, *Sensitivity Analysis*, Wiley):
    /// V = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2, V1 = (1 + bπ⁴/5)²/2, V2 = a²/8,
    /// V3 = 0, V13 = b²π⁸ (1/18 − 1/50); all other terms vanish.
    struct IshigamiVariances {
        total: f64,
        v1: f64,
        v2: f64,
        v13: f64,
    }

    fn ishigami_variances() -> IshigamiVariances {
        let (a, b) = (ISHIGAMI_A, ISHIGAMI_B);
        let (pi4, pi8) = (PI.powi(4), PI.powi(8));
        let variances = IshigamiVariances {
            total: a * a / 8.0 + b * pi4 / 5.0 + b * b * pi8 / 18.0 + 0.5,
            v1: 0.5 * (1.0 + b * pi4 / 5.0).powi(2),
            v2: a * a / 8.0,
            v13: b * b * pi8 * (1.0 / 18.0 - 1.0 / 50.0),
        };
        // The decomposition must add up.
        let sum = variances.v1 + variances.v2 + variances.v13;
        assert!((sum - variances.total).abs() < 1e-12 * variances.total);
        variances
    }

    fn ishigami_design(n: usize, seed: u64) -> SobolDesign {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        SobolDesign::new(n, 3, |_, _, _| rng.random_range(-PI..PI))
    }

    /// The groups the Ishigami tests estimate: each factor, and {x1, x3}, whose closed
    /// first-order index S1 + S3 + S13 equals its total index because x2 interacts with
    /// neither.
    const ISHIGAMI_GROUPS: [&[usize]; 4] = [&[0], &[1], &[2], &[0, 2]];
    const ISHIGAMI_LABELS: [&str; 4] = ["1", "2", "3", "{1,3}"];

    /// The analytic `(first, total)` index of each of [`ISHIGAMI_GROUPS`].
    fn ishigami_indices() -> [(f64, f64); 4] {
        let variances = ishigami_variances();
        let v = variances.total;
        let closed = (variances.v1 + variances.v13) / v;
        [
            (variances.v1 / v, closed),
            (variances.v2 / v, variances.v2 / v),
            (0.0, variances.v13 / v),
            (closed, closed),
        ]
    }

    #[test]
    fn ishigami_indices_match_the_published_values() {
        // Transcription check against the rounded values in the literature.
        let published = [(0.3139, 0.5576), (0.4424, 0.4424), (0.0, 0.2437)];
        for ((first, total), (expected_first, expected_total)) in
            ishigami_indices().into_iter().zip(published)
        {
            assert!((first - expected_first).abs() < 1e-4, "{first}");
            assert!((total - expected_total).abs() < 1e-4, "{total}");
        }
    }

    /// Design rows and bootstrap resamples of each coverage replicate.
    const COVERAGE_ROWS: usize = 2000;
    const COVERAGE_BOOTSTRAP: usize = 200;

    /// The whole procedure run once per replicate in `replicates` (design seed 10 000 +
    /// replicate, bootstrap seed replicate): how many times each analytic index of
    /// [`ISHIGAMI_GROUPS`] fell inside its 95% interval, `[group][first, total]`.
    fn ishigami_coverage(replicates: std::ops::Range<u64>) -> [[u64; 2]; 4] {
        use rayon::prelude::*;
        let analytic = ishigami_indices();
        let groups: Vec<Vec<usize>> = ISHIGAMI_GROUPS.iter().map(|g| g.to_vec()).collect();
        replicates
            .into_par_iter()
            .map(|replicate| {
                let design = ishigami_design(COVERAGE_ROWS, 10_000 + replicate);
                let indices = sobol(&design, &groups, ishigami, COVERAGE_BOOTSTRAP, replicate);
                let mut covered = [[0; 2]; 4];
                for ((inside, index), (first, total)) in
                    covered.iter_mut().zip(&indices).zip(analytic)
                {
                    inside[0] = u64::from(index.first_lo <= first && first <= index.first_hi);
                    inside[1] = u64::from(index.total_lo <= total && total <= index.total_hi);
                }
                covered
            })
            .reduce(
                || [[0; 2]; 4],
                |mut sum, covered| {
                    for (s, c) in sum.iter_mut().flatten().zip(covered.iter().flatten()) {
                        *s += c;
                    }
                    sum
                },
            )
    }

    /// The counts a two-sided exact binomial test at level `alpha` accepts for `trials`
    /// trials of success probability `p`: every `k` with P(X ≤ k) > α/2 and P(X ≥ k) > α/2.
    fn binomial_acceptance(trials: u64, p: f64, alpha: f64) -> std::ops::RangeInclusive<u64> {
        use statrs::distribution::{Binomial, DiscreteCDF};
        let binomial = Binomial::new(p, trials).expect("a probability");
        let lowest = (0..=trials)
            .find(|&k| binomial.cdf(k) > alpha / 2.0)
            .expect("P(X ≤ trials) = 1");
        let highest = (0..=trials)
            .rev()
            .find(|&k| k == 0 || binomial.sf(k - 1) > alpha / 2.0)
            .expect("P(X ≥ 0) = 1");
        lowest..=highest
    }

    #[test]
    fn the_binomial_acceptance_region_holds_the_stated_probability() {
        use statrs::distribution::{Binomial, Discrete};
        for (trials, p) in [(200, 0.95), (400, 0.93), (50, 0.5)] {
            let region = binomial_acceptance(trials, p, 0.001);
            let binomial = Binomial::new(p, trials).unwrap();
            let inside: f64 = region.clone().map(|k| binomial.pmf(k)).sum();
            let below: f64 = (0..*region.start()).map(|k| binomial.pmf(k)).sum();
            let above: f64 = (region.end() + 1..=trials).map(|k| binomial.pmf(k)).sum();
            assert!(inside >= 0.999 && below <= 0.0005 && above <= 0.0005);
            // One more count on either side would take a tail over α/2.
            assert!(below + binomial.pmf(*region.start()) > 0.0005);
            assert!(above + binomial.pmf(*region.end()) > 0.0005);
        }
    }

    /// The coverage the 95% percentile-bootstrap intervals achieve for each analytic index at
    /// [`COVERAGE_ROWS`] rows and [`COVERAGE_BOOTSTRAP`] resamples, `[group][first, total]`:
    /// measured by `sobol_interval_coverage_study` over 20 000 replicates (standard error
    /// 0.0017 each), rounded to three decimals.
    const ACHIEVED_COVERAGE: [[f64; 2]; 4] = [
        [0.935, 0.937],
        [0.942, 0.940],
        [0.938, 0.940],
        [0.937, 0.940],
    ];

    #[test]
    fn sobol_intervals_cover_the_analytic_ishigami_indices() {
        // What it tests: that the bootstrap intervals of `sobol` are calibrated. The whole
        // procedure (a new design, a new bootstrap seed) is repeated R times and, for each of
        // the eight analytic indices (S and ST of x1, x2, x3 and of the group {x1, x3}), the
        // number of intervals holding it is counted. Each count is Binomial(R, c), c the
        // coverage the intervals achieve, so the test accepts exactly the counts of a two-sided
        // exact binomial test at the 99.9% level: a new set of seeds fails one of the eight
        // counts with probability at most 8 × 0.001 (Bonferroni). No single run has to be
        // lucky; biased estimators, intervals too narrow (rows not resampled together, the
        // wrong percentiles) or too wide (too few misses: the region stops short of R) fail.
        //
        // c is not the nominal 0.95. Percentile-bootstrap intervals are known to under-cover
        // at finite n (they take no account of the estimators' bias and skewness, and 200
        // resamples place their ends with some noise): at this design size they achieve 0.935
        // to 0.942, measured on 20 000 other replicates (ACHIEVED_COVERAGE). Against the
        // nominal 0.95 a set of seeds would fail about one time in thirteen (8%, not 0.8%),
        // and more often the more replicates were run. So each count is tested against the
        // coverage measured for its index; the measurement's own error (0.7 of a count at
        // R = 400, against a binomial SD of about 4.8) barely changes the acceptance
        // probability. R = 400 takes about a second in release.
        let replicates = 400;
        let covered = ishigami_coverage(0..replicates);
        for (g, counts) in covered.iter().enumerate() {
            for (kind, (&count, &coverage)) in ["S", "ST"]
                .iter()
                .zip(counts.iter().zip(&ACHIEVED_COVERAGE[g]))
            {
                let label = format!("{kind}{}", ISHIGAMI_LABELS[g]);
                let accepted = binomial_acceptance(replicates, coverage, 0.001);
                println!(
                    "{label}: {count} of {replicates} intervals cover the analytic index \
                     (accepted {accepted:?} at coverage {coverage})"
                );
                assert!(
                    accepted.contains(&count),
                    "{label}: {count} of {replicates} intervals cover the analytic index, \
                     outside {accepted:?} for coverage {coverage}"
                );
            }
        }
    }

    /// The study behind [`ACHIEVED_COVERAGE`], on replicates the test does not use:
    /// `cargo test --release --lib sobol_interval_coverage_study -- --ignored --nocapture`.
    #[test]
    #[ignore = "a study of a few minutes, whose result is ACHIEVED_COVERAGE"]
    fn sobol_interval_coverage_study() {
        let replicates = 20_000;
        let covered = ishigami_coverage(1_000_000..1_000_000 + replicates);
        for (g, counts) in covered.iter().enumerate() {
            for (kind, &count) in ["S", "ST"].iter().zip(counts) {
                let coverage = count as f64 / replicates as f64;
                let standard_error = (coverage * (1.0 - coverage) / replicates as f64).sqrt();
                println!(
                    "{kind}{}: coverage {coverage:.4} ± {standard_error:.4}",
                    ISHIGAMI_LABELS[g]
                );
            }
        }
    }

    #[test]
    fn sobol_additive_model_with_bernoulli_factor() {
        // y = x1 + x2, x1 ~ Bernoulli(0.5) in {0, 1}, x2 ~ U(0, 1):
        // V1 = 1/4, V2 = 1/12, no interaction, so S1 = ST1 = 3/4 and
        // S2 = ST2 = 1/4.
        let bernoulli = Bernoulli::new(0.5).expect("valid probability");
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let design = SobolDesign::new(20_000, 2, |_, col, _| {
            if col == 0 {
                f64::from(u8::from(bernoulli.sample(&mut rng)))
            } else {
                rng.random_range(0.0..1.0)
            }
        });
        assert!(design.a.iter().all(|row| row[0] == 0.0 || row[0] == 1.0));
        let indices = sobol(&design, &[vec![0], vec![1]], |x| x[0] + x[1], 500, 6);
        let expected = [0.75, 0.25];
        // Criterion: within 4 bootstrap standard errors (SE taken from the
        // 95% interval as its width / (2 · 1.96)), a per-check false-failure
        // rate of ~6e-5 instead of the 5% of a bare interval check.
        for (j, index) in indices.iter().enumerate() {
            let checks = [
                ("S", index.first, index.first_lo, index.first_hi),
                ("ST", index.total, index.total_lo, index.total_hi),
            ];
            for (kind, estimate, lo, hi) in checks {
                let standard_error = (hi - lo) / (2.0 * 1.96);
                println!(
                    "bernoulli model {kind}{}: estimate {estimate:.4} [{lo:.4}, {hi:.4}], \
                     analytic {:.4}",
                    j + 1,
                    expected[j]
                );
                assert!((estimate - expected[j]).abs() <= 4.0 * standard_error);
            }
        }
    }

    #[test]
    fn sobol_evaluates_each_point_once_and_is_deterministic() {
        let design = ishigami_design(300, 9);
        let groups = vec![vec![0], vec![1], vec![2], vec![0, 2]];
        let calls = AtomicUsize::new(0);
        let counted = |x: &[f64]| {
            calls.fetch_add(1, Ordering::Relaxed);
            ishigami(x)
        };
        let first_run = sobol(&design, &groups, counted, 200, 42);
        assert_eq!(calls.load(Ordering::Relaxed), (2 + groups.len()) * design.n);
        let second_run = sobol(&design, &groups, ishigami, 200, 42);
        assert_eq!(first_run, second_run);
        let other_seed = sobol(&design, &groups, ishigami, 200, 43);
        assert_ne!(first_run[0].first_lo, other_seed[0].first_lo);
        // Point estimates do not depend on the bootstrap seed.
        assert_eq!(first_run[0].first, other_seed[0].first);
        for index in &first_run {
            assert!(index.first_lo <= index.first_hi && index.total_lo <= index.total_hi);
        }
    }

    #[test]
    fn sobol_design_calls_sampler_in_documented_order() {
        let mut calls = Vec::new();
        let design = SobolDesign::new(2, 2, |row, col, matrix| {
            calls.push((matrix, row, col));
            (calls.len() - 1) as f64
        });
        assert_eq!(
            calls,
            vec![
                ('A', 0, 0),
                ('A', 0, 1),
                ('A', 1, 0),
                ('A', 1, 1),
                ('B', 0, 0),
                ('B', 0, 1),
                ('B', 1, 0),
                ('B', 1, 1)
            ]
        );
        assert_eq!(design.a, vec![vec![0.0, 1.0], vec![2.0, 3.0]]);
        assert_eq!(design.b, vec![vec![4.0, 5.0], vec![6.0, 7.0]]);
    }

    #[test]
    fn sobol_degenerate_inputs() {
        let design = ishigami_design(50, 10);
        // Constant model: zero variance, NaN estimates and intervals.
        let constant = sobol(&design, &[vec![0]], |_| 3.0, 20, 1);
        assert!(constant[0].first.is_nan() && constant[0].total.is_nan());
        assert!(constant[0].first_lo.is_nan() && constant[0].total_hi.is_nan());
        // No bootstrap: finite point estimates, NaN intervals.
        let no_bootstrap = sobol(&design, &[vec![1]], ishigami, 0, 1);
        assert!(no_bootstrap[0].first.is_finite() && no_bootstrap[0].first_lo.is_nan());
        // A factor the model ignores has exactly zero indices.
        let ignored = sobol(&design, &[vec![2]], |x| x[0] + x[1], 20, 1);
        assert_eq!(ignored[0].first, 0.0);
        assert_eq!(ignored[0].total, 0.0);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn sobol_panics_on_bad_group_column() {
        let design = ishigami_design(10, 1);
        sobol(&design, &[vec![3]], ishigami, 0, 1);
    }
}
