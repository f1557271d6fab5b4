//! Correlation structure between uncertain inputs of the cost simulation.
//!
//! * [`is_valid_correlation`] and [`is_positive_definite`] check a
//!   user-supplied correlation matrix.
//! * [`nearest_correlation`] repairs an invalid (e.g. elicited, not positive
//!   semidefinite) matrix with Higham's (2002) alternating projections and
//!   returns a positive definite correlation matrix.
//! * [`iman_conover`] reorders independently sampled inputs so that their
//!   rank correlation matches a target, without changing any marginal
//!   distribution (Iman & Conover 1982).
//! * [`rank_correlation_matrix`] measures the Spearman correlation matrix of
//!   sampled columns.

use nalgebra::{DMatrix, SymmetricEigen};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use statrs::distribution::{ContinuousCDF, Normal};
use std::f64::consts::PI;

use crate::stats::{pearson_matrix, ranks};

/// Absolute tolerance for symmetry and for a unit diagonal in
/// [`is_valid_correlation`].
const VALIDITY_TOLERANCE: f64 = 1e-12;

/// Smallest eigenvalue kept by [`nearest_correlation`] before rescaling, so
/// that the result is positive definite rather than only semidefinite.
const MIN_EIGENVALUE: f64 = 1e-8;

/// Convergence tolerance of the alternating projections, on the relative
/// Frobenius-norm change of the iterates and their distance to each other.
const PROJECTION_TOLERANCE: f64 = 1e-12;

/// Iteration cap for the alternating projections (linear convergence).
const MAX_PROJECTION_ITERATIONS: usize = 100_000;

/// Checks that `m` is a correlation matrix in the elementary sense: square,
/// finite, symmetric (`|mᵢⱼ − mⱼᵢ| ≤ 1e-12`), unit diagonal
/// (`|mᵢᵢ − 1| ≤ 1e-12`) and every entry in `[−1, 1]`.
///
/// Positive semidefiniteness is *not* checked here; see
/// [`is_positive_definite`]. An empty (0 × 0) matrix is accepted.
///
/// Returns `Err` with a message naming the first violated condition and the
/// offending position.
pub fn is_valid_correlation(m: &DMatrix<f64>) -> Result<(), String> {
    let (rows, cols) = m.shape();
    if rows != cols {
        return Err(format!(
            "correlation matrix must be square, got {rows}×{cols}"
        ));
    }
    for i in 0..rows {
        for j in 0..cols {
            let value = m[(i, j)];
            if !value.is_finite() {
                return Err(format!("entry ({i}, {j}) is not finite: {value}"));
            }
            if !(-1.0..=1.0).contains(&value) && i != j {
                return Err(format!("entry ({i}, {j}) = {value} is outside [-1, 1]"));
            }
            if (value - m[(j, i)]).abs() > VALIDITY_TOLERANCE {
                return Err(format!(
                    "matrix is not symmetric: ({i}, {j}) = {value} but ({j}, {i}) = {}",
                    m[(j, i)]
                ));
            }
        }
        if (m[(i, i)] - 1.0).abs() > VALIDITY_TOLERANCE {
            return Err(format!(
                "diagonal entry ({i}, {i}) = {} is not 1",
                m[(i, i)]
            ));
        }
    }
    Ok(())
}

/// Whether `m` is symmetric positive definite, decided by attempting a
/// Cholesky factorisation `m = L Lᵀ` (which exists, with positive pivots,
/// exactly for symmetric positive definite matrices; Golub & Van Loan,
/// *Matrix Computations*, 4th ed., Thm 4.2.7).
///
/// Returns `false` for a non-square matrix, a matrix that is not symmetric
/// within 1e-12, or one containing non-finite entries.
pub fn is_positive_definite(m: &DMatrix<f64>) -> bool {
    if !m.is_square() || m.iter().any(|v| !v.is_finite()) {
        return false;
    }
    let n = m.nrows();
    for i in 0..n {
        for j in 0..i {
            if (m[(i, j)] - m[(j, i)]).abs() > VALIDITY_TOLERANCE {
                return false;
            }
        }
    }
    m.clone().cholesky().is_some()
}

/// Nearest correlation matrix to `m` in the Frobenius norm, made positive
/// definite.
///
/// Algorithm (Higham 2002, "Computing the nearest correlation matrix — a
/// problem from finance", IMA J. Numer. Anal. 22, 329–343, Algorithm 3.3,
/// unit weights): alternating projections with Dykstra's correction between
/// the positive semidefinite cone `S` and the unit-diagonal matrices `U`:
///
/// ```text
/// ΔS₀ = 0, Y₀ = A
/// repeat:  R = Y − ΔS
///          X = P_S(R)          (eigenvalues of R clipped at 0)
///          ΔS = X − R          (Dykstra's correction)
///          Y = P_U(X)          (diagonal set to 1)
/// until the relative changes of X and Y and ‖X − Y‖/‖Y‖ are ≤ 1e-12
/// (or 100 000 iterations).
/// ```
///
/// The limit is positive *semi*definite. To return a positive definite
/// matrix, its eigenvalues are then clipped at `1e-8` and the result is
/// rescaled to unit diagonal, `Z = D^{-1/2} Y' D^{-1/2}` with `D = diag(Y')`,
/// which perturbs entries by about `1e-8`. A matrix that already is a valid
/// correlation matrix with smallest eigenvalue ≥ 1e-8 comes back unchanged
/// up to rounding.
///
/// `m` is first symmetrised as `(m + mᵀ)/2`; its diagonal is irrelevant.
///
/// # Panics
/// If `m` is not square or contains non-finite entries.
pub fn nearest_correlation(m: &DMatrix<f64>) -> DMatrix<f64> {
    assert!(m.is_square(), "nearest_correlation: matrix must be square");
    assert!(
        m.iter().all(|v| v.is_finite()),
        "nearest_correlation: matrix entries must be finite"
    );
    let n = m.nrows();
    if n == 0 {
        return m.clone();
    }

    let a = (m + m.transpose()) * 0.5;
    let mut y = a.clone();
    set_unit_diagonal(&mut y);
    let mut x = y.clone();
    let mut dykstra_correction = DMatrix::zeros(n, n);
    for _ in 0..MAX_PROJECTION_ITERATIONS {
        let r = &y - &dykstra_correction;
        let x_next = project_onto_psd(&r, 0.0);
        dykstra_correction = &x_next - &r;
        let mut y_next = x_next.clone();
        set_unit_diagonal(&mut y_next);

        let scale = y_next.norm();
        let change_x = (&x_next - &x).norm() / scale;
        let change_y = (&y_next - &y).norm() / scale;
        let gap = (&y_next - &x_next).norm() / scale;
        x = x_next;
        y = y_next;
        if change_x.max(change_y).max(gap) <= PROJECTION_TOLERANCE {
            break;
        }
    }

    let mut result = project_onto_psd(&y, MIN_EIGENVALUE);
    let scales: Vec<f64> = (0..n).map(|i| result[(i, i)].sqrt()).collect();
    for i in 0..n {
        for j in 0..i {
            let value = (result[(i, j)] / (scales[i] * scales[j])).clamp(-1.0, 1.0);
            result[(i, j)] = value;
            result[(j, i)] = value;
        }
    }
    set_unit_diagonal(&mut result);
    result
}

/// Reorders each column of `columns` so that the columns' rank correlation
/// matrix approximately equals `target`, keeping every column's values
/// (hence its marginal distribution) unchanged.
///
/// `columns` holds `k` columns of `n` independent samples each; `target` is a
/// `k × k` positive definite correlation matrix (repair an elicited one with
/// [`nearest_correlation`] first).
///
/// Steps (Iman & Conover 1982, "A distribution-free approach to inducing
/// rank correlation among input variables", Commun. Statist. Simul. Comput.
/// 11(3), 311–334):
/// 1. van der Waerden scores `aᵢ = Φ⁻¹(i / (n + 1))`, `i = 1..n`.
/// 2. Score matrix `S` (`n × k`): column `j` is a random permutation of the
///    scores, from a [`Xoshiro256PlusPlus`] seeded with `seed` and used for
///    columns `0, 1, …, k−1` in order (so the result is a deterministic
///    function of `seed` and the column index).
/// 3. `E` = Pearson correlation matrix of the columns of `S`; Cholesky
///    factors `E = F Fᵀ` and `C = P Pᵀ` (lower triangular), where `C` is the
///    Pearson correlation the scores need (see below).
/// 4. `S* = S (P F⁻¹)ᵀ`, whose Pearson correlation matrix equals `C`
///    exactly.
/// 5. Rearrange each input column so that its ranks equal the ranks of the
///    corresponding column of `S*`: the value of rank `r` goes to the row
///    where `S*` has rank `r`.
///
/// Score correlation `C`: the induced *rank* correlation is the Spearman
/// correlation of the near-normal scores `S*`, which for Pearson correlation
/// `ρ` is `(6/π) asin(ρ/2)` (Pearson 1907; Kruskal 1958) — up to 0.018 closer
/// to zero than `ρ`. Using `C = target` (the literal 1982 recipe) therefore
/// under-shoots, e.g. 0.483 for a target of 0.5. Instead, as in NORTA
/// (Cario & Nelson 1997), `Cᵢⱼ = 2 sin(π targetᵢⱼ / 6)`, the inverse
/// relation, so the rank correlation matches `target` up to sampling error.
/// If that adjusted matrix is not positive definite (only possible for a
/// nearly singular target), it is replaced by [`nearest_correlation`] of it.
/// Ties in an input column (e.g. Bernoulli factors) lower the achievable
/// rank correlation further.
///
/// Returns `Err` if `target` is not a valid positive definite correlation
/// matrix, or if the score correlation matrix is not positive definite
/// (too few rows, `n ≤ k`). Nothing is reordered on error.
///
/// # Panics
/// If the columns have different lengths or `target` is not `k × k`.
pub fn iman_conover(
    columns: &mut [Vec<f64>],
    target: &DMatrix<f64>,
    seed: u64,
) -> Result<(), String> {
    let k = columns.len();
    assert_eq!(
        target.shape(),
        (k, k),
        "iman_conover: target must be {k}×{k} for {k} columns"
    );
    let n = columns.first().map_or(0, Vec::len);
    assert!(
        columns.iter().all(|column| column.len() == n),
        "iman_conover: all columns must have the same length"
    );
    is_valid_correlation(target).map_err(|e| format!("invalid target: {e}"))?;
    if !is_positive_definite(target) {
        return Err(
            "target correlation matrix is not positive definite (use nearest_correlation)".into(),
        );
    }
    if k == 0 || n == 0 {
        return Ok(());
    }
    let mut score_target = target.map(|rho| 2.0 * (PI * rho / 6.0).sin());
    score_target.fill_diagonal(1.0);
    if !is_positive_definite(&score_target) {
        score_target = nearest_correlation(&score_target);
    }
    let score_target_factor = score_target
        .cholesky()
        .ok_or("adjusted score correlation matrix is not positive definite")?
        .l();

    // 1–2. Randomly permuted van der Waerden scores.
    let standard_normal = Normal::standard();
    let scores: Vec<f64> = (1..=n)
        .map(|i| standard_normal.inverse_cdf(i as f64 / (n + 1) as f64))
        .collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let score_columns: Vec<Vec<f64>> = (0..k)
        .map(|_| {
            let mut column = scores.clone();
            column.shuffle(&mut rng);
            column
        })
        .collect();

    // 3. Cholesky factor of the scores' own correlation matrix.
    let score_correlation = pearson_matrix(&score_columns);
    let score_factor = score_correlation
        .cholesky()
        .ok_or("score correlation matrix is not positive definite (too few rows?)")?
        .l();
    let score_factor_inverse = score_factor
        .solve_lower_triangular(&DMatrix::identity(k, k))
        .ok_or("score correlation Cholesky factor is singular")?;

    // 4. S* = S (P F⁻¹)ᵀ.
    let transform = &score_target_factor * score_factor_inverse;
    let scores_matrix = DMatrix::from_fn(n, k, |row, col| score_columns[col][row]);
    let correlated_scores = scores_matrix * transform.transpose();

    // 5. Give each input column the rank order of its S* column.
    for (j, column) in columns.iter_mut().enumerate() {
        let target_column = correlated_scores.column(j);
        let mut rows_by_score: Vec<usize> = (0..n).collect();
        rows_by_score.sort_by(|&a, &b| target_column[a].total_cmp(&target_column[b]));
        let mut sorted_values = column.clone();
        sorted_values.sort_by(f64::total_cmp);
        for (value, &row) in sorted_values.into_iter().zip(&rows_by_score) {
            column[row] = value;
        }
    }
    Ok(())
}

/// Spearman rank correlation matrix of `columns` (`k` columns of equal
/// length): entry `(i, j)` is [`crate::stats::spearman`] of columns `i`
/// and `j`, i.e. the Pearson correlation of their average ranks; the
/// diagonal is 1. Off-diagonal entries involving a constant column are NaN.
///
/// # Panics
/// If the columns have different lengths.
pub fn rank_correlation_matrix(columns: &[Vec<f64>]) -> DMatrix<f64> {
    let ranked: Vec<Vec<f64>> = columns.iter().map(|column| ranks(column)).collect();
    pearson_matrix(&ranked)
}

/// Projection of the symmetric matrix `m` onto symmetric matrices with all
/// eigenvalues ≥ `floor` (for `floor = 0`, the Frobenius-nearest positive
/// semidefinite matrix; Higham 1988): `Q diag(max(λᵢ, floor)) Qᵀ`,
/// symmetrised against rounding.
fn project_onto_psd(m: &DMatrix<f64>, floor: f64) -> DMatrix<f64> {
    let eigen = SymmetricEigen::new(m.clone());
    let clipped = eigen.eigenvalues.map(|lambda| lambda.max(floor));
    let q = &eigen.eigenvectors;
    let projected = q * DMatrix::from_diagonal(&clipped) * q.transpose();
    (&projected + projected.transpose()) * 0.5
}

fn set_unit_diagonal(m: &mut DMatrix<f64>) {
    m.fill_diagonal(1.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::spearman;
    use rand::RngExt;
    use rand_distr::{Distribution, Exp, LogNormal};

    fn matrix(rows: &[&[f64]]) -> DMatrix<f64> {
        DMatrix::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j])
    }

    fn max_abs_difference(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        (a - b).amax()
    }

    fn example_target() -> DMatrix<f64> {
        matrix(&[&[1.0, 0.5, -0.3], &[0.5, 1.0, 0.2], &[-0.3, 0.2, 1.0]])
    }

    /// Three independent columns with different marginals: uniform,
    /// exponential and lognormal.
    fn independent_columns(n: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let exponential = Exp::new(0.5).expect("valid rate");
        let lognormal = LogNormal::new(1.0, 0.8).expect("valid parameters");
        vec![
            (0..n).map(|_| rng.random_range(10.0..20.0)).collect(),
            (0..n).map(|_| exponential.sample(&mut rng)).collect(),
            (0..n).map(|_| lognormal.sample(&mut rng)).collect(),
        ]
    }

    // ------------------------------------------------------------- validity

    #[test]
    fn valid_correlation_accepts_correlation_matrices() {
        assert!(is_valid_correlation(&DMatrix::identity(4, 4)).is_ok());
        assert!(is_valid_correlation(&example_target()).is_ok());
        // Not PSD, but elementwise valid: accepted (definiteness is separate).
        let indefinite = matrix(&[&[1.0, 0.9, -0.9], &[0.9, 1.0, 0.9], &[-0.9, 0.9, 1.0]]);
        assert!(is_valid_correlation(&indefinite).is_ok());
        assert!(is_valid_correlation(&DMatrix::zeros(0, 0)).is_ok());
    }

    #[test]
    fn valid_correlation_rejects_each_violation() {
        let not_square = DMatrix::from_element(2, 3, 0.0);
        assert!(is_valid_correlation(&not_square)
            .unwrap_err()
            .contains("square"));

        let mut asymmetric = example_target();
        asymmetric[(0, 1)] = 0.5 + 1e-9;
        assert!(is_valid_correlation(&asymmetric)
            .unwrap_err()
            .contains("symmetric"));
        // Within the 1e-12 tolerance: accepted.
        asymmetric[(0, 1)] = 0.5 + 1e-13;
        assert!(is_valid_correlation(&asymmetric).is_ok());

        let mut bad_diagonal = example_target();
        bad_diagonal[(2, 2)] = 0.99;
        assert!(is_valid_correlation(&bad_diagonal)
            .unwrap_err()
            .contains("diagonal"));

        let out_of_range = matrix(&[&[1.0, 1.2], &[1.2, 1.0]]);
        assert!(is_valid_correlation(&out_of_range)
            .unwrap_err()
            .contains("outside"));

        let non_finite = matrix(&[&[1.0, f64::NAN], &[f64::NAN, 1.0]]);
        assert!(is_valid_correlation(&non_finite)
            .unwrap_err()
            .contains("finite"));
    }

    #[test]
    fn positive_definite_check() {
        assert!(is_positive_definite(&DMatrix::identity(3, 3)));
        assert!(is_positive_definite(&example_target()));
        let indefinite = matrix(&[&[1.0, 0.9, -0.9], &[0.9, 1.0, 0.9], &[-0.9, 0.9, 1.0]]);
        assert!(!is_positive_definite(&indefinite));
        // Singular (semidefinite) is not definite.
        assert!(!is_positive_definite(&matrix(&[&[1.0, 1.0], &[1.0, 1.0]])));
        assert!(!is_positive_definite(&DMatrix::from_element(2, 3, 0.0)));
        assert!(!is_positive_definite(&matrix(&[&[2.0, 0.1], &[0.0, 2.0]])));
    }

    // ------------------------------------------------- nearest correlation

    #[test]
    fn nearest_correlation_repairs_inconsistent_matrix() {
        // A = I + 0.9 M with M the off-diagonal sign pattern below. M has
        // eigenvalues 1, 1, −2 (char. polynomial λ³ − 3λ + 2), so A has
        // eigenvalues 1.9, 1.9, −0.8. A is invariant under a group of signed
        // permutations acting transitively on its off-diagonal entries, so the
        // unique nearest correlation matrix is I + c M with the largest
        // feasible c, i.e. 1 − 2c = 0: c = 0.5 (singular).
        let sign_pattern = matrix(&[&[0.0, 1.0, -1.0], &[1.0, 0.0, 1.0], &[-1.0, 1.0, 0.0]]);
        let a = DMatrix::identity(3, 3) + &sign_pattern * 0.9;
        assert!(!is_positive_definite(&a));

        let repaired = nearest_correlation(&a);
        assert!(is_valid_correlation(&repaired).is_ok());
        assert!(is_positive_definite(&repaired));
        let analytic = DMatrix::identity(3, 3) + &sign_pattern * 0.5;
        // The eigenvalue floor of 1e-8 moves entries by O(1e-8).
        assert!(max_abs_difference(&repaired, &analytic) < 1e-6);
    }

    #[test]
    fn nearest_correlation_reproduces_highams_examples() {
        // Higham (2002), section 4; published to four decimals, so agreement
        // within half a unit in the last place (5e-5) plus the 1e-8 floor.
        let tolerance = 5e-5 + 1e-7;
        let a = matrix(&[&[1.0, 1.0, 0.0], &[1.0, 1.0, 1.0], &[0.0, 1.0, 1.0]]);
        let expected = matrix(&[
            &[1.0000, 0.7607, 0.1573],
            &[0.7607, 1.0000, 0.7607],
            &[0.1573, 0.7607, 1.0000],
        ]);
        let repaired = nearest_correlation(&a);
        assert!(max_abs_difference(&repaired, &expected) < tolerance);
        assert!(is_positive_definite(&repaired));

        let tridiagonal = matrix(&[
            &[2.0, -1.0, 0.0, 0.0],
            &[-1.0, 2.0, -1.0, 0.0],
            &[0.0, -1.0, 2.0, -1.0],
            &[0.0, 0.0, -1.0, 2.0],
        ]);
        let expected = matrix(&[
            &[1.0000, -0.8084, 0.1916, 0.1068],
            &[-0.8084, 1.0000, -0.6562, 0.1916],
            &[0.1916, -0.6562, 1.0000, -0.8084],
            &[0.1068, 0.1916, -0.8084, 1.0000],
        ]);
        let repaired = nearest_correlation(&tridiagonal);
        assert!(max_abs_difference(&repaired, &expected) < tolerance);
        assert!(is_positive_definite(&repaired));
    }

    #[test]
    fn nearest_correlation_keeps_valid_matrix() {
        let target = example_target();
        assert!(max_abs_difference(&nearest_correlation(&target), &target) < 1e-9);
        let identity = DMatrix::identity(5, 5);
        assert!(max_abs_difference(&nearest_correlation(&identity), &identity) < 1e-9);
    }

    #[test]
    fn nearest_correlation_of_random_symmetric_matrices_is_valid_and_near() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
        for size in [2, 5, 8] {
            let mut m = DMatrix::from_fn(size, size, |_, _| rng.random_range(-1.0..1.0));
            m = (&m + m.transpose()) * 0.5;
            m.fill_diagonal(1.0);
            let repaired = nearest_correlation(&m);
            assert!(is_valid_correlation(&repaired).is_ok());
            assert!(is_positive_definite(&repaired));
            // No farther than the simple repair "clip eigenvalues, rescale".
            let mut naive = project_onto_psd(&m, MIN_EIGENVALUE);
            let d: Vec<f64> = (0..size).map(|i| naive[(i, i)].sqrt()).collect();
            naive = DMatrix::from_fn(size, size, |i, j| naive[(i, j)] / (d[i] * d[j]));
            assert!((&repaired - &m).norm() <= (&naive - &m).norm() + 1e-9);
        }
    }

    // --------------------------------------------------------- Iman–Conover

    #[test]
    fn iman_conover_preserves_marginals() {
        let original = independent_columns(2000, 1);
        let mut reordered = original.clone();
        iman_conover(&mut reordered, &example_target(), 7).expect("valid target");
        for (before, after) in original.iter().zip(&reordered) {
            assert_ne!(before, after, "columns should have been reordered");
            let mut sorted_before = before.clone();
            let mut sorted_after = after.clone();
            sorted_before.sort_by(f64::total_cmp);
            sorted_after.sort_by(f64::total_cmp);
            assert_eq!(sorted_before, sorted_after);
        }
    }

    #[test]
    fn iman_conover_achieves_target_rank_correlation() {
        // Tolerance 0.02. Measured over 100 replicates (new data and seed
        // each) at this n, achieved − target has mean within ±0.0006 and SD
        // ≈ 0.003 for every entry, so 0.02 is ~7 SD. Without the
        // 2 sin(πρ/6) score adjustment the 0.5 entry would sit at ≈ 0.483,
        // leaving almost no margin.
        let n = 10_000;
        let target = example_target();
        let mut columns = independent_columns(n, 2);
        let before = rank_correlation_matrix(&columns);
        iman_conover(&mut columns, &target, 3).expect("valid target");
        let achieved = rank_correlation_matrix(&columns);
        println!("Iman–Conover target {target:.3} achieved {achieved:.4}");
        for i in 0..3 {
            for j in 0..i {
                // Independent before: within 4 standard errors 1/sqrt(n − 1).
                assert!(before[(i, j)].abs() < 4.0 / ((n - 1) as f64).sqrt());
                assert!(
                    (achieved[(i, j)] - target[(i, j)]).abs() < 0.02,
                    "({i}, {j}): achieved {} vs target {}",
                    achieved[(i, j)],
                    target[(i, j)]
                );
            }
        }
    }

    #[test]
    fn iman_conover_is_deterministic_in_seed() {
        let target = example_target();
        let mut first = independent_columns(500, 4);
        let mut second = first.clone();
        let mut other_seed = first.clone();
        iman_conover(&mut first, &target, 11).expect("valid target");
        iman_conover(&mut second, &target, 11).expect("valid target");
        iman_conover(&mut other_seed, &target, 12).expect("valid target");
        assert_eq!(first, second);
        assert_ne!(first, other_seed);
    }

    #[test]
    fn iman_conover_rejects_bad_targets_without_reordering() {
        let original = independent_columns(100, 5);
        let mut columns = original.clone();
        let indefinite = matrix(&[&[1.0, 0.9, -0.9], &[0.9, 1.0, 0.9], &[-0.9, 0.9, 1.0]]);
        let error = iman_conover(&mut columns, &indefinite, 1).unwrap_err();
        assert!(error.contains("positive definite"));
        let mut bad_diagonal = example_target();
        bad_diagonal[(0, 0)] = 2.0;
        assert!(iman_conover(&mut columns, &bad_diagonal, 1).is_err());
        // Too few rows for a positive definite score correlation.
        let mut tiny: Vec<Vec<f64>> = original.iter().map(|c| c[..2].to_vec()).collect();
        assert!(iman_conover(&mut tiny, &example_target(), 1).is_err());
        assert_eq!(columns, original);
    }

    #[test]
    fn iman_conover_after_repair_of_inconsistent_target() {
        // The elicited matrix is inconsistent; repairing it first gives a
        // usable target whose rank correlation is then induced.
        let elicited = matrix(&[&[1.0, 0.9, -0.9], &[0.9, 1.0, 0.9], &[-0.9, 0.9, 1.0]]);
        let target = nearest_correlation(&elicited);
        let mut columns = independent_columns(10_000, 6);
        iman_conover(&mut columns, &target, 9).expect("repaired target is PD");
        let achieved = rank_correlation_matrix(&columns);
        // The repaired target (±0.5, singular up to the 1e-8 floor) leaves
        // no room for the 2 sin(πρ/6) adjustment: the adjusted matrix is
        // repaired back to ≈ ±0.5, so the achieved rank correlation is the
        // normal-theory (6/π) asin(0.5/2) ≈ ±0.483 rather than ±0.5.
        // Tolerance 0.02 as in the previous test (sampling SD ≈ 0.003).
        let mut score_target = target.map(|rho| 2.0 * (PI * rho / 6.0).sin());
        score_target.fill_diagonal(1.0);
        let score_target = nearest_correlation(&score_target);
        for i in 0..3 {
            for j in 0..i {
                let expected = 6.0 / PI * (score_target[(i, j)] / 2.0).asin();
                assert!(
                    (achieved[(i, j)] - expected).abs() < 0.02,
                    "({i}, {j}): achieved {} vs expected {expected}",
                    achieved[(i, j)]
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "target must be")]
    fn iman_conover_panics_on_dimension_mismatch() {
        let mut columns = independent_columns(10, 1);
        let _ = iman_conover(&mut columns, &DMatrix::identity(2, 2), 1);
    }

    #[test]
    fn rank_correlation_matrix_matches_pairwise_spearman() {
        let columns = independent_columns(300, 10);
        let matrix = rank_correlation_matrix(&columns);
        for i in 0..3 {
            assert_eq!(matrix[(i, i)], 1.0);
            for j in 0..3 {
                assert_eq!(matrix[(i, j)], matrix[(j, i)]);
                if i != j {
                    assert_eq!(matrix[(i, j)], spearman(&columns[i], &columns[j]));
                }
            }
        }
        let with_constant = rank_correlation_matrix(&[columns[0].clone(), vec![1.0; 300]]);
        assert!(with_constant[(0, 1)].is_nan());
    }

    /// The layer rule: the correlation structure of the inputs sits below the sensitivity
    /// analysis (which reads sampled inputs), so it takes its statistics from `stats`.
    #[test]
    fn correlation_uses_nothing_above_stats() {
        let source = include_str!("correlation.rs");
        let code = &source[..source.find("#[cfg(test)]").expect("a test module")];
        for line in code.lines().filter(|line| line.contains("crate::")) {
            assert!(
                line.contains("crate::stats::"),
                "correlation names a module other than stats: {line}"
            );
        }
    }
}
