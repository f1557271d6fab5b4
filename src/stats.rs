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
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
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
    fn shares_and_percentiles_count_correctly() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(share_above(&v, 2.0), 0.5);
        assert_eq!(percentile_of(&v, 3.0), 75.0);
        assert_eq!(percentile_of(&v, 0.5), 0.0);
    }
}
