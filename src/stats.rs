//! Summaries of simulated values: mean, standard deviation, Monte Carlo standard error and
//! percentiles; and the correlation measures built on them (ranks, Pearson, Spearman, the
//! Pearson correlation matrix). The lowest layer of the crate's own modules: it uses none of
//! them, so the streaming tallies, the correlation structure of the inputs and the sensitivity
//! analysis all read their statistics from here.

use nalgebra::DMatrix;
use serde::Serialize;

/// The summary of one simulated quantity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub sd: f64,
    /// Monte Carlo standard error of the mean, `sd / √n`.
    pub mcse_mean: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
    /// Monte Carlo standard errors of the percentiles (order-statistic intervals, see
    /// [`quantile_mcse`]).
    pub mcse_p05: f64,
    pub mcse_p50: f64,
    pub mcse_p95: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// Summarises `values` (taken by value: they are sorted in place).
    pub fn of(mut values: Vec<f64>) -> Summary {
        assert!(!values.is_empty(), "a summary needs at least one value");
        let (mean, sd) = mean_sd(&values);
        values.sort_unstable_by(f64::total_cmp);
        let n = values.len() as f64;
        Summary {
            mean,
            sd,
            mcse_mean: sd / n.sqrt(),
            p05: quantile_sorted(&values, 0.05),
            p50: quantile_sorted(&values, 0.50),
            p95: quantile_sorted(&values, 0.95),
            mcse_p05: quantile_mcse(&values, 0.05),
            mcse_p50: quantile_mcse(&values, 0.50),
            mcse_p95: quantile_mcse(&values, 0.95),
            min: values[0],
            max: values[values.len() - 1],
        }
    }
}

/// Mean and sample standard deviation, computed about the first value so that a constant
/// column gives its value exactly and large equal offsets lose no precision.
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let shift = values[0];
    let (sum, sum_sq) = values.iter().fold((0.0, 0.0), |(s, q), &x| {
        (s + (x - shift), q + (x - shift) * (x - shift))
    });
    let mean_shifted = sum / n;
    let var = if values.len() > 1 {
        ((sum_sq - sum * mean_shifted) / (n - 1.0)).max(0.0)
    } else {
        0.0
    };
    (shift + mean_shifted, var.sqrt())
}

/// Quantile of sorted values by linear interpolation between order statistics at
/// `h = (n − 1) p` (Hyndman and Fan type 7: R's and numpy's default).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    quantile_of_order_statistics(sorted.len() as u64, p, |k| sorted[k as usize])
}

/// The type-7 quantile of [`quantile_sorted`] for `n` values whose `k`-th smallest (0-based) is
/// `order_statistic(k)`: `x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎)` with `h = (n − 1) p`. For
/// values that are not held sorted, such as a quantile sketch's.
pub fn quantile_of_order_statistics(n: u64, p: f64, order_statistic: impl Fn(u64) -> f64) -> f64 {
    let h = (n - 1) as f64 * p;
    let lo = h.floor() as u64;
    let hi = (lo + 1).min(n - 1);
    let (below, above) = (order_statistic(lo), order_statistic(hi));
    below + (h - lo as f64) * (above - below)
}

/// Monte Carlo standard error of the `p` quantile of sorted values, from the distribution-free
/// order-statistic interval: the ranks `np ± 1.96 √(np(1 − p))` bound a 95% interval for the
/// quantile, and its half-width divided by 1.96 is the standard error.
pub fn quantile_mcse(sorted: &[f64], p: f64) -> f64 {
    quantile_mcse_of_order_statistics(sorted.len() as u64, p, |k| sorted[k as usize])
}

/// The standard error of [`quantile_mcse`] for `n` values whose `k`-th smallest (0-based) is
/// `order_statistic(k)`; ranks (1-based) are rounded and kept within `1..=n`.
pub fn quantile_mcse_of_order_statistics(
    n: u64,
    p: f64,
    order_statistic: impl Fn(u64) -> f64,
) -> f64 {
    let count = n as f64;
    let half = 1.96 * (count * p * (1.0 - p)).sqrt();
    let rank = |r: f64| order_statistic((r.round().max(1.0) as u64 - 1).min(n - 1));
    (rank(count * p + half) - rank(count * p - half)) / (2.0 * 1.96)
}

/// The smallest iteration count at which at least 50 draws lie beyond the 5th and the 95th
/// percentiles, below which those percentiles are unstable.
pub const MIN_STABLE_TAIL_ITERATIONS: usize = 1000;

/// The running estimate of a mean after the first `iterations` draws.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TracePoint {
    pub iterations: usize,
    pub mean: f64,
    pub mcse_mean: f64,
    /// Relative standard error: `mcse_mean / |mean|`.
    pub rse: f64,
}

/// The running mean and its standard error at each checkpoint (a prefix length of `values`).
pub fn convergence_trace(values: &[f64], checkpoints: &[usize]) -> Vec<TracePoint> {
    checkpoints
        .iter()
        .filter(|&&n| n >= 2 && n <= values.len())
        .map(|&n| {
            let (mean, sd) = mean_sd(&values[..n]);
            let mcse_mean = sd / (n as f64).sqrt();
            TracePoint {
                iterations: n,
                mean,
                mcse_mean,
                rse: if mean == 0.0 {
                    f64::INFINITY
                } else {
                    mcse_mean / mean.abs()
                },
            }
        })
        .collect()
}

/// About 40 checkpoints spread evenly on a log scale up to `n`, ending at `n`.
pub fn log_checkpoints(n: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..40)
        .map(|k| (100.0 * (n as f64 / 100.0).powf(f64::from(k) / 39.0)).round() as usize)
        .filter(|&c| c >= 100 && c <= n)
        .collect();
    out.push(n);
    out.dedup();
    out
}

/// Share of values strictly above `threshold`.
pub fn share_above(values: &[f64], threshold: f64) -> f64 {
    values.iter().filter(|&&x| x > threshold).count() as f64 / values.len() as f64
}

/// Percentile (0–100) at which `x` falls among `values`: the share at or below it.
pub fn percentile_of(values: &[f64], x: f64) -> f64 {
    100.0 * values.iter().filter(|&&v| v <= x).count() as f64 / values.len() as f64
}

/// Ranks of `values`, 1-based, with tied values sharing the average of the
/// ranks they span ("fractional" or "mid" ranking).
///
/// Formula: if the sorted values at 0-based positions `s..e` are all equal,
/// each gets rank `(s + 1 + e) / 2`, the mean of ranks `s+1, …, e`. Ranks
/// therefore always sum to `n (n + 1) / 2`. This is the ranking used by
/// Spearman's coefficient (e.g. Kendall & Gibbons, *Rank Correlation
/// Methods*, 5th ed., 1990, ch. 3).
///
/// Values are ordered by [`f64::total_cmp`]; `-0.0` and `0.0` count as tied.
/// NaN inputs are not meaningful (each NaN gets its own rank after all
/// numbers).
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));

    let mut result = vec![0.0; n];
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        for &index in &order[start..end] {
            result[index] = average_rank;
        }
        start = end;
    }
    result
}

/// Pearson product-moment correlation coefficient of `x` and `y`.
///
/// Formula: `r = Σ (xᵢ − x̄)(yᵢ − ȳ) / sqrt(Σ (xᵢ − x̄)² · Σ (yᵢ − ȳ)²)`,
/// computed with the two-pass (centred) algorithm and clamped to `[−1, 1]`
/// against rounding.
///
/// Returns NaN when fewer than two points are given or when either sample has
/// zero variance (the coefficient is undefined).
///
/// # Panics
/// If `x` and `y` have different lengths.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "pearson: x and y must have equal length");
    if x.len() < 2 {
        return f64::NAN;
    }
    let mean_x = plain_mean(x);
    let mean_y = plain_mean(y);
    let (mut sum_xy, mut sum_xx, mut sum_yy) = (0.0, 0.0, 0.0);
    for (&xi, &yi) in x.iter().zip(y) {
        let dx = xi - mean_x;
        let dy = yi - mean_y;
        sum_xy += dx * dy;
        sum_xx += dx * dx;
        sum_yy += dy * dy;
    }
    if sum_xx == 0.0 || sum_yy == 0.0 {
        return f64::NAN;
    }
    (sum_xy / (sum_xx * sum_yy).sqrt()).clamp(-1.0, 1.0)
}

/// Spearman rank correlation coefficient of `x` and `y`.
///
/// Formula: `ρₛ = pearson(ranks(x), ranks(y))`, i.e. the Pearson coefficient
/// of the average ranks, which is the general definition valid with ties
/// (Kendall & Gibbons 1990, ch. 3). Equals ±1 for any strictly monotone
/// relation.
///
/// Returns NaN when either sample is constant or has fewer than two points.
///
/// # Panics
/// If `x` and `y` have different lengths.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "spearman: x and y must have equal length");
    pearson(&ranks(x), &ranks(y))
}

/// Pearson correlation matrix of `columns` (equal lengths): entry `(i, j)` is [`pearson`] of
/// columns `i` and `j`; the diagonal is 1.
pub fn pearson_matrix(columns: &[Vec<f64>]) -> DMatrix<f64> {
    let k = columns.len();
    let mut matrix = DMatrix::identity(k, k);
    for i in 0..k {
        for j in 0..i {
            let r = pearson(&columns[i], &columns[j]);
            matrix[(i, j)] = r;
            matrix[(j, i)] = r;
        }
    }
    matrix
}

/// The sum divided by the count: [`pearson`]'s first pass (not [`mean_sd`]'s shifted sums, so
/// that a correlation stays what it was bit for bit).
fn plain_mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_type_7_definition() {
        // numpy.percentile([1, 2, 3, 4, 10], [5, 50, 95]) = [1.2, 3.0, 8.8]
        let s = Summary::of(vec![10.0, 2.0, 4.0, 1.0, 3.0]);
        assert!((s.p05 - 1.2).abs() < 1e-12);
        assert_eq!(s.p50, 3.0);
        assert!((s.p95 - 8.8).abs() < 1e-12);
        assert_eq!((s.min, s.max), (1.0, 10.0));
    }

    #[test]
    fn mean_and_sd_are_exact_for_small_samples() {
        let s = Summary::of(vec![2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.mean, 5.0);
        // Sample variance 32/7.
        assert!((s.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!((s.mcse_mean - s.sd / 8f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn constant_columns_summarise_to_their_value_exactly() {
        let v = 1234567.891;
        let s = Summary::of(vec![v; 1000]);
        assert_eq!((s.mean, s.sd, s.p05, s.p95), (v, 0.0, v, v));
    }

    #[test]
    fn quantile_standard_errors_match_the_asymptotic_formula() {
        // For a uniform on [0, 1] the p-quantile's standard error is √(p(1 − p)/n) / f = √(p(1 − p)/n).
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let n = 40_000;
        let mut v: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
        v.sort_by(f64::total_cmp);
        for p in [0.05, 0.5, 0.95] {
            let expected = (p * (1.0 - p) / n as f64).sqrt();
            let got = quantile_mcse(&v, p);
            assert!(
                (got / expected - 1.0).abs() < 0.15,
                "p {p}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn the_trace_at_the_last_checkpoint_is_the_full_summary() {
        let v: Vec<f64> = (0..1000).map(|k| ((k * 7919) % 1000) as f64).collect();
        let trace = convergence_trace(&v, &log_checkpoints(v.len()));
        let last = trace.last().unwrap();
        let full = Summary::of(v.clone());
        assert_eq!(
            (last.iterations, last.mean, last.mcse_mean),
            (1000, full.mean, full.mcse_mean)
        );
        assert!(trace.windows(2).all(|w| w[0].iterations < w[1].iterations));
        assert_eq!(trace[0].iterations, 100);
    }

    #[test]
    fn shares_and_percentiles_count_correctly() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(share_above(&v, 2.0), 0.5);
        assert_eq!(percentile_of(&v, 3.0), 75.0);
        assert_eq!(percentile_of(&v, 0.5), 0.0);
    }

    #[test]
    fn quantile_type7_matches_hand_values() {
        let data = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&data, 0.0), 1.0);
        assert_eq!(quantile_sorted(&data, 1.0), 5.0);
        assert_eq!(quantile_sorted(&data, 0.5), 3.0);
        assert!((quantile_sorted(&data, 0.025) - 1.1).abs() < 1e-12);
        assert!((quantile_sorted(&data, 0.975) - 4.9).abs() < 1e-12);
        assert_eq!(quantile_sorted(&[2.5], 0.975), 2.5);
    }

    // ---------------------------------------------------------------- ranks

    #[test]
    fn ranks_without_ties_are_positions_in_sorted_order() {
        assert_eq!(ranks(&[3.0, 1.0, 2.0, -5.0]), vec![4.0, 2.0, 3.0, 1.0]);
        assert_eq!(ranks(&[]), Vec::<f64>::new());
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 20.0, 5.0]), vec![2.0, 3.5, 3.5, 1.0]);
        assert_eq!(ranks(&[7.0; 5]), vec![3.0; 5]);
        assert_eq!(
            ranks(&[1.0, 0.0, 1.0, 0.0, 1.0, -0.0]),
            vec![5.0, 2.0, 5.0, 2.0, 5.0, 2.0]
        );
        // Ranks always sum to n(n+1)/2.
        let values = [2.0, 2.0, 1.0, 3.0, 3.0, 3.0, 0.5];
        let n = values.len() as f64;
        assert_eq!(ranks(&values).iter().sum::<f64>(), n * (n + 1.0) / 2.0);
    }

    // ------------------------------------------------------- pearson/spearman

    #[test]
    fn pearson_known_values() {
        // Hand computation: Sxy = 6, Sxx = 10, Syy = 6 => r = 6 / sqrt(60).
        let r = pearson(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 5.0, 4.0, 5.0]);
        assert!((r - 6.0 / 60f64.sqrt()).abs() < 1e-15);
        let x = [0.3, -1.0, 2.5, 4.0];
        let up: Vec<f64> = x.iter().map(|v| 3.0 * v + 1.0).collect();
        let down: Vec<f64> = x.iter().map(|v| -0.5 * v).collect();
        assert_eq!(pearson(&x, &up), 1.0);
        assert_eq!(pearson(&x, &down), -1.0);
    }

    #[test]
    fn pearson_undefined_cases_are_nan() {
        assert!(pearson(&[1.0, 2.0, 3.0], &[4.0, 4.0, 4.0]).is_nan());
        assert!(pearson(&[1.0], &[2.0]).is_nan());
        assert!(pearson(&[], &[]).is_nan());
    }

    #[test]
    #[should_panic(expected = "equal length")]
    fn pearson_panics_on_length_mismatch() {
        pearson(&[1.0, 2.0], &[1.0]);
    }

    #[test]
    fn spearman_of_monotone_transform_is_one() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        let x: Vec<f64> = (0..1000).map(|_| rng.random_range(-3.0..3.0)).collect();
        let increasing: Vec<f64> = x.iter().map(|v| v.exp() + v.powi(3)).collect();
        let decreasing: Vec<f64> = x.iter().map(|v| -v.powi(5)).collect();
        assert_eq!(spearman(&x, &increasing), 1.0);
        assert_eq!(spearman(&x, &decreasing), -1.0);
        // Pearson is not invariant to the same transform.
        assert!(pearson(&x, &increasing) < 0.95);
    }

    #[test]
    fn spearman_with_ties_matches_hand_computation() {
        // ranks(x) = [1, 2.5, 2.5, 4], ranks(y) = [1, 2, 3, 4];
        // centred: [-1.5, 0, 0, 1.5] and [-1.5, -0.5, 0.5, 1.5]
        // => Sxy = 4.5, Sxx = 4.5, Syy = 5 => rho = 4.5 / sqrt(22.5).
        let rho = spearman(&[1.0, 2.0, 2.0, 3.0], &[10.0, 20.0, 30.0, 40.0]);
        assert!((rho - 4.5 / 22.5f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn the_pearson_matrix_holds_every_pairs_coefficient() {
        let columns = vec![
            vec![1.0, 2.0, 3.0, 4.0, 5.0],
            vec![2.0, 4.0, 5.0, 4.0, 5.0],
            vec![5.0, 3.0, 4.0, 1.0, 2.0],
        ];
        let m = pearson_matrix(&columns);
        for i in 0..3 {
            assert_eq!(m[(i, i)], 1.0);
            for j in 0..3 {
                if i != j {
                    assert_eq!(m[(i, j)], pearson(&columns[i], &columns[j]));
                }
            }
        }
        assert_eq!(pearson_matrix(&[]).shape(), (0, 0));
    }

    /// The layer rule: `stats` is the bottom of the crate's own modules, so the tallies, the
    /// correlation structure and the sensitivity analysis can all use it without a cycle.
    #[test]
    fn stats_uses_no_other_module_of_the_crate() {
        let source = include_str!("stats.rs");
        let code = &source[..source.find("#[cfg(test)]").expect("a test module")];
        assert!(!code.contains("crate::"), "stats names another module");
    }
}
