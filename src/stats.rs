//! Summaries of simulated values: mean, standard deviation, Monte Carlo standard error and
//! percentiles.

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
}
