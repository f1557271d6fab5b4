//! Streaming summaries: a simulated quantity is tallied as it is drawn, in memory that does not
//! grow with the number of iterations, so a run of a million iterations keeps no per-iteration
//! table of every ICB, action and month.
//!
//! A [`Tally`] holds exact moments (count, mean, sum of squared deviations), the exact minimum
//! and maximum, an exact count of values above a threshold, and a [`Sketch`]: a histogram with
//! buckets of relative width at most 2⁻¹¹, from which quantiles are read to within
//! [`RELATIVE_ERROR`] of the order statistics they interpolate. Sketch counts are integers, so
//! sketches merge exactly in any order; moments are merged in block order (see
//! [`Moments::merge`]), so a tally is the same bit for bit whatever the thread count.

use crate::stats::{quantile_mcse_of_order_statistics, quantile_of_order_statistics, Summary};

/// Mantissa bits a bucket keeps: 2¹¹ buckets per power of two.
const BITS: u32 = 11;
/// Bit shift from an `f64`'s bits to its bucket.
const SHIFT: u32 = f64::MANTISSA_DIGITS - 1 - BITS;
/// Most buckets one sign of a sketch holds (64 powers of two, about 19 orders of magnitude);
/// values further below the largest are merged into the lowest bucket kept.
const MAX_BUCKETS: usize = 64 << BITS;

/// Bound on the relative error of a quantile read from a sketch: each order statistic is
/// estimated by interpolation within its bucket (the `k`-th of a bucket's `c` values at the
/// fraction (`k` + ½) / `c` of it), so it lies in the bucket, whose width is at most
/// 2⁻¹¹ ≈ 0.049% of every value in it. A type-7 quantile, interpolated between two order
/// statistics, is within this fraction of the larger of the two in magnitude.
pub const RELATIVE_ERROR: f64 = 1.0 / (1u64 << BITS) as f64;

/// Count, mean and sum of squared deviations from the mean (Chan et al.'s parallel form).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub mean: f64,
    pub m2: f64,
}

impl Moments {
    /// The moments of `values`, computed about the first value so that a constant column gives
    /// its value exactly.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Moments {
        let mut shift = None;
        let (mut n, mut sum, mut sum_sq) = (0u64, 0.0, 0.0);
        for x in values {
            let s = *shift.get_or_insert(x);
            let d = x - s;
            n += 1;
            sum += d;
            sum_sq += d * d;
        }
        Moments::of_shifted_sums(n, shift.unwrap_or(0.0), sum, sum_sq)
    }

    /// The moments of `n` values from `Σ (x − shift)` and `Σ (x − shift)²`, summed in order,
    /// with `shift` the first value.
    pub fn of_shifted_sums(n: u64, shift: f64, sum: f64, sum_sq: f64) -> Moments {
        if n == 0 {
            return Moments::default();
        }
        let mean_d = sum / n as f64;
        Moments {
            n,
            mean: shift + mean_d,
            m2: (sum_sq - sum * mean_d).max(0.0),
        }
    }

    /// Adds `other`, the moments of the values that follow. Not associative in floating point:
    /// callers merge in a fixed order.
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let n = self.n + other.n;
        let delta = other.mean - self.mean;
        let (na, nb) = (self.n as f64, other.n as f64);
        self.mean += delta * (nb / n as f64);
        self.m2 += other.m2 + delta * delta * (na * nb / n as f64);
        self.n = n;
    }

    /// Sample standard deviation (n − 1).
    pub fn sd(&self) -> f64 {
        if self.n > 1 {
            (self.m2 / (self.n - 1) as f64).sqrt()
        } else {
            0.0
        }
    }
}

/// Counts of positive magnitudes by bucket, over a dense range of buckets that grows as needed.
#[derive(Debug, Clone, Default)]
struct Store {
    /// Bucket of `counts[0]`.
    offset: u64,
    counts: Vec<u32>,
}

impl Store {
    /// The buckets that hold values, with their counts.
    fn occupied(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        (self.offset..)
            .zip(self.counts.iter().copied())
            .filter(|&(_, c)| c > 0)
    }
}

/// Two stores are equal when they count the same values in the same buckets, whatever spare
/// range each holds.
impl PartialEq for Store {
    fn eq(&self, other: &Store) -> bool {
        self.occupied().eq(other.occupied())
    }
}

fn bucket(magnitude: f64) -> u64 {
    magnitude.to_bits() >> SHIFT
}

/// The value at `fraction` (0 to 1) of a bucket from its lower edge, on the scale of the
/// logarithm: buckets are (nearly) equal in relative width, so a bucket is divided as the
/// sketch divides values. It differs from the linear fraction by under 2⁻²⁵ of the value,
/// and is not a round binary number (a bucket edge or middle) where a bucket holds a power
/// of two of values.
fn within(b: u64, fraction: f64) -> f64 {
    let lo = f64::from_bits(b << SHIFT);
    let hi = f64::from_bits((b + 1) << SHIFT);
    if !hi.is_finite() || lo == 0.0 {
        lo
    } else if fraction >= 1.0 {
        hi
    } else {
        (lo * (hi / lo).powf(fraction)).clamp(lo, hi)
    }
}

impl Store {
    /// Counts `count` values in bucket `b`: an increment when the bucket is in range, the
    /// common case.
    #[inline]
    fn add_bucket(&mut self, b: u64, count: u32) {
        match b.checked_sub(self.offset) {
            Some(at) if (at as usize) < self.counts.len() => {
                self.counts[at as usize] += count;
            }
            _ => self.add_outside(b, count),
        }
    }

    /// Counts values in a bucket outside the range held: grows the range, merging the lowest
    /// buckets into one when it would exceed [`MAX_BUCKETS`].
    #[cold]
    fn add_outside(&mut self, b: u64, count: u32) {
        if self.counts.is_empty() {
            self.offset = b;
            self.counts.push(0);
        }
        if b < self.offset {
            let lowest =
                (self.offset + self.counts.len() as u64).saturating_sub(MAX_BUCKETS as u64);
            // Half again below at least (amortised O(1)), never below the lowest allowed.
            let start = b
                .min(self.offset.saturating_sub(self.counts.len() as u64 / 2))
                .max(lowest);
            if start < self.offset {
                let grow = (self.offset - start) as usize;
                self.counts.splice(0..0, std::iter::repeat_n(0, grow));
                self.offset = start;
            }
        } else {
            let at = (b - self.offset) as usize;
            if at >= MAX_BUCKETS {
                // Keep the top MAX_BUCKETS buckets; everything below joins the lowest.
                let extra = at + 1 - MAX_BUCKETS;
                let cut = extra.min(self.counts.len());
                let merged: u32 = self.counts.drain(..cut).sum();
                self.counts.resize(MAX_BUCKETS, 0);
                self.counts[0] += merged;
                self.offset += extra as u64;
            } else {
                // Grow by half again at least, so that a drifting range costs amortised O(1).
                let len = (at + 1).max((self.counts.len() * 3 / 2).min(MAX_BUCKETS));
                self.counts.resize(len, 0);
            }
        }
        let at = (b.max(self.offset) - self.offset) as usize;
        self.counts[at] += count;
    }

    fn merge(&mut self, other: &Store) {
        for (b, c) in other.occupied() {
            self.add_bucket(b, c);
        }
    }

    /// Values counted (summed when asked: the count is not kept, to keep adding cheap).
    fn total(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// The estimate of the `rank`-th smallest magnitude (0-based): the `k`-th of the `c`
    /// values in its bucket is placed at (`k` + ½) / `c` of the bucket (see [`within`]), as if
    /// the bucket's values were spread evenly across it. Every estimate lies inside its bucket,
    /// and the estimates rise with the rank, through a bucket and from one to the next.
    fn value_of_rank(&self, rank: u64) -> f64 {
        let mut seen = 0u64;
        for (k, &c) in self.counts.iter().enumerate() {
            let before = seen;
            seen += u64::from(c);
            if seen > rank {
                let fraction = ((rank - before) as f64 + 0.5) / f64::from(c);
                return within(self.offset + k as u64, fraction);
            }
        }
        within(self.offset + self.counts.len() as u64 - 1, 1.0)
    }
}

/// A quantile sketch with relative error [`RELATIVE_ERROR`]: negative values, zeros and
/// positive values, each magnitude counted in its bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sketch {
    negative: Store,
    zeros: u64,
    positive: Store,
}

impl Sketch {
    /// Counts `x`, which must be finite.
    #[inline]
    pub fn add(&mut self, x: f64) {
        debug_assert!(x.is_finite());
        if x > 0.0 {
            self.positive.add_bucket(bucket(x), 1);
        } else if x < 0.0 {
            self.negative.add_bucket(bucket(-x), 1);
        } else {
            self.zeros += 1;
        }
    }

    pub fn merge(&mut self, other: &Sketch) {
        self.negative.merge(&other.negative);
        self.zeros += other.zeros;
        self.positive.merge(&other.positive);
    }

    pub fn count(&self) -> u64 {
        self.negative.total() + self.zeros + self.positive.total()
    }

    /// The estimate of the `rank`-th smallest value (0-based), given the count of negative
    /// values: a sketch does not keep its counts (to keep adding cheap), so a reader of many
    /// ranks sums them once.
    fn value_at_rank(&self, rank: u64, negatives: u64) -> f64 {
        if rank < negatives {
            -self.negative.value_of_rank(negatives - 1 - rank)
        } else if rank < negatives + self.zeros {
            0.0
        } else {
            self.positive.value_of_rank(rank - negatives - self.zeros)
        }
    }
}

/// One simulated quantity, summarised as it streams past.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub moments: Moments,
    pub sketch: Sketch,
    pub min: f64,
    pub max: f64,
    /// Values strictly above the threshold the tally was made with.
    pub above: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            moments: Moments::default(),
            sketch: Sketch::default(),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            above: 0,
        }
    }
}

impl Tally {
    /// Counts `x` in the sketch and the extremes (the moments are gathered per block, see
    /// [`Moments::merge`], and exceedances where a threshold applies, see [`Tally::count`]).
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.sketch.add(x);
        // `x` is finite (the engine tallies only finite iterations), so plain comparisons
        // give `f64::min` and `f64::max` without their NaN handling.
        if x < self.min {
            self.min = x;
        }
        if x > self.max {
            self.max = x;
        }
    }

    /// Counts `x` against the threshold the tally is read against.
    #[inline]
    pub fn count(&mut self, x: f64, threshold: f64) {
        self.above += u64::from(x > threshold);
    }

    /// Adds another tally's values, which follow this one's (the order matters for the
    /// moments only).
    pub fn merge(&mut self, other: &Tally) {
        self.moments.merge(&other.moments);
        self.sketch.merge(&other.sketch);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.above += other.above;
    }

    /// The type-7 quantile, read from the sketch and kept within the exact minimum and maximum.
    pub fn quantile(&self, p: f64) -> f64 {
        self.ranks().quantile(p)
    }

    /// The sketch's counts, summed once for reading many ranks.
    fn ranks(&self) -> Ranks<'_> {
        Ranks {
            tally: self,
            n: self.sketch.count(),
            negatives: self.sketch.negative.total(),
        }
    }

    /// Share of values above the threshold.
    pub fn share_above(&self) -> f64 {
        self.above as f64 / self.moments.n as f64
    }

    /// The summary every output shows; percentiles within [`RELATIVE_ERROR`].
    pub fn summary(&self) -> Summary {
        assert!(self.moments.n > 0, "a summary needs at least one value");
        let ranks = self.ranks();
        assert_eq!(self.moments.n, ranks.n, "moments and sketch disagree");
        let sd = self.moments.sd();
        Summary {
            mean: self.moments.mean,
            sd,
            mcse_mean: sd / (self.moments.n as f64).sqrt(),
            p05: ranks.quantile(0.05),
            p50: ranks.quantile(0.50),
            p95: ranks.quantile(0.95),
            mcse_p05: ranks.quantile_mcse(0.05),
            mcse_p50: ranks.quantile_mcse(0.50),
            mcse_p95: ranks.quantile_mcse(0.95),
            min: self.min,
            max: self.max,
        }
    }

    /// Tallies `values` in one block (for tests and small columns).
    pub fn of(values: &[f64], threshold: f64) -> Tally {
        let mut t = Tally {
            moments: Moments::of(values.iter().copied()),
            ..Tally::default()
        };
        for &x in values {
            t.add(x);
            t.count(x, threshold);
        }
        t
    }
}

/// A tally's order statistics, with the sketch's counts summed once.
struct Ranks<'a> {
    tally: &'a Tally,
    n: u64,
    negatives: u64,
}

impl Ranks<'_> {
    /// The `rank`-th smallest value (0-based): the exact extremes, else the sketch's estimate
    /// kept within them.
    fn value(&self, rank: u64) -> f64 {
        let t = self.tally;
        if rank == 0 {
            t.min
        } else if rank == self.n - 1 {
            t.max
        } else {
            t.sketch
                .value_at_rank(rank, self.negatives)
                .clamp(t.min, t.max)
        }
    }

    fn quantile(&self, p: f64) -> f64 {
        quantile_of_order_statistics(self.n, p, |rank| self.value(rank))
    }

    /// Monte Carlo standard error of the `p` quantile by the order-statistic interval of
    /// [`crate::stats::quantile_mcse`], with the ranks read from the sketch.
    fn quantile_mcse(&self, p: f64) -> f64 {
        quantile_mcse_of_order_statistics(self.n, p, |rank| self.value(rank))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::quantile_sorted;
    use rand::{RngExt, SeedableRng};
    use rand_distr::{Distribution, LogNormal, Normal};

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    /// The stated bound: within RELATIVE_ERROR of the larger neighbouring order statistic.
    fn assert_within_bound(values: &[f64], t: &Tally) {
        let s = sorted(values.to_vec());
        for p in [0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0] {
            let exact = quantile_sorted(&s, p);
            let h = (s.len() - 1) as f64 * p;
            let (lo, hi) = (
                h.floor() as usize,
                (h.floor() as usize + 1).min(s.len() - 1),
            );
            let bound = RELATIVE_ERROR * s[lo].abs().max(s[hi].abs());
            let got = t.quantile(p);
            assert!(
                (got - exact).abs() <= bound,
                "p {p}: sketch {got}, exact {exact}, bound {bound}"
            );
        }
    }

    #[test]
    fn quantiles_lie_within_the_stated_relative_error_of_the_exact_ones() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        let lognormal = LogNormal::new(13.0, 0.8).unwrap();
        let normal = Normal::new(0.0, 1e6).unwrap();
        for values in [
            (0..50_000)
                .map(|_| lognormal.sample(&mut rng))
                .collect::<Vec<f64>>(),
            (0..50_000).map(|_| normal.sample(&mut rng)).collect(),
            (0..7).map(|_| rng.random::<f64>() * 1e5).collect(),
            // A point mass at zero beside a spread of savings and costs.
            (0..10_000)
                .map(|k| {
                    if k % 3 == 0 {
                        0.0
                    } else {
                        normal.sample(&mut rng)
                    }
                })
                .collect(),
        ] {
            assert_within_bound(&values, &Tally::of(&values, 0.0));
        }
    }

    #[test]
    fn the_relative_error_is_below_a_twentieth_of_a_percent() {
        const { assert!(RELATIVE_ERROR < 0.0005) };
        // Every point of a value's bucket, edges included, is within the bound of it, across
        // magnitudes.
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        for _ in 0..100_000 {
            let x = 10f64.powf(rng.random::<f64>() * 24.0 - 6.0);
            let (lo, hi) = (within(bucket(x), 0.0), within(bucket(x), 1.0));
            assert!(lo <= x && x < hi, "{x}");
            assert!(hi - lo <= RELATIVE_ERROR * x, "{x}");
        }
    }

    #[test]
    fn percentiles_of_a_continuous_distribution_are_not_bucket_edges_or_middles() {
        // Read from bucket middles, the percentiles of 10,000 lognormal costs came out as
        // £2,888,704.00 and £4,536,320.00: round binary numbers that look rounded. Interpolated
        // within their buckets, they are not, and they are nearer the exact ones on average.
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(17);
        let lognormal = LogNormal::new(15.2, 0.35).unwrap();
        let (mut round, mut total) = (0, 0);
        let (mut error, mut error_of_middles) = (0.0, 0.0);
        for _ in 0..20 {
            let v: Vec<f64> = (0..10_000).map(|_| lognormal.sample(&mut rng)).collect();
            let t = Tally::of(&v, 0.0);
            let s = sorted(v.clone());
            for p in [0.05, 0.25, 0.5, 0.75, 0.95] {
                let q = t.quantile(p);
                total += 1;
                // Bucket edges and middles of values in millions are whole pounds.
                round += usize::from(q.fract() == 0.0);
                let exact = quantile_sorted(&s, p);
                let h = (s.len() - 1) as f64 * p;
                let lo = h.floor() as usize;
                let mid = |x: f64| within(bucket(x), 0.5);
                let old = mid(s[lo]) + (h - lo as f64) * (mid(s[lo + 1]) - mid(s[lo]));
                error += (q - exact).abs() / exact;
                error_of_middles += (old - exact).abs() / exact;
            }
        }
        assert_eq!(round, 0, "{round} of {total} percentiles are whole pounds");
        assert!(
            error < 0.8 * error_of_middles,
            "mean relative error {} against {} from bucket middles",
            error / total as f64,
            error_of_middles / total as f64
        );
        // A bucket's values are placed evenly across it, in order.
        let t = Tally::of(&[1000.0, 1000.05, 1000.1, 1000.15, 5000.0], 0.0);
        let (lo, hi) = (within(bucket(1000.0), 0.0), within(bucket(1000.0), 1.0));
        assert_eq!(bucket(1000.15), bucket(1000.0));
        let placed: Vec<f64> = (1..4).map(|rank| t.ranks().value(rank)).collect();
        for (k, &x) in placed.iter().enumerate() {
            let linear = lo + (hi - lo) * (k as f64 + 1.5) / 4.0;
            assert!((x - linear).abs() <= 1e-6 * x, "{x} against {linear}");
        }
        assert!(lo < placed[0] && placed[0] < placed[1] && placed[1] < placed[2] && placed[2] < hi);
    }

    #[test]
    fn constants_and_extremes_are_exact() {
        let t = Tally::of(&[1234567.891; 1000], 0.0);
        let s = t.summary();
        assert_eq!(
            (s.mean, s.sd, s.p05, s.p50, s.p95),
            (1234567.891, 0.0, 1234567.891, 1234567.891, 1234567.891)
        );
        let v = [3.0, -2.0, 7.5, 0.0, 1e9];
        let s = Tally::of(&v, 0.0).summary();
        assert_eq!((s.min, s.max), (-2.0, 1e9));
    }

    #[test]
    fn merging_in_any_grouping_gives_the_same_sketch_and_exact_moments_in_order() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let v: Vec<f64> = (0..10_000)
            .map(|_| rng.random::<f64>() * 1e4 - 2e3)
            .collect();
        let whole = Tally::of(&v, 100.0);
        let mut parts = Tally::default();
        for chunk in v.chunks(777) {
            parts.merge(&Tally::of(chunk, 100.0));
        }
        assert_eq!(parts.sketch, whole.sketch);
        assert_eq!(
            (parts.min, parts.max, parts.above),
            (whole.min, whole.max, whole.above)
        );
        assert_eq!(parts.above, v.iter().filter(|&&x| x > 100.0).count() as u64);
        let (m, sd) = crate::stats::mean_sd(&v);
        assert!((parts.moments.mean - m).abs() <= 1e-12 * m.abs());
        assert!((parts.moments.sd() - sd).abs() <= 1e-12 * sd);
        // Reversed merge order: the same sketch, bit for bit.
        let mut reversed = Tally::default();
        for chunk in v.chunks(777).rev() {
            reversed.merge(&Tally::of(chunk, 100.0));
        }
        assert_eq!(reversed.sketch, whole.sketch);
    }

    #[test]
    fn a_range_wider_than_the_sketch_keeps_its_upper_quantiles_and_bounded_memory() {
        let mut t = Tally::default();
        let values: Vec<f64> = (0..2000)
            .map(|k| 10f64.powi(k % 40 - 20) * (1.0 + k as f64 / 2000.0))
            .collect();
        for &x in &values {
            t.add(x);
        }
        t.moments = Moments::of(values.iter().copied());
        assert!(t.sketch.positive.counts.len() <= MAX_BUCKETS);
        let s = sorted(values.clone());
        let exact = quantile_sorted(&s, 0.95);
        assert!((t.quantile(0.95) - exact).abs() <= RELATIVE_ERROR * exact * 1.01);
        assert_eq!(t.sketch.count(), 2000);
    }

    #[test]
    fn quantile_standard_errors_match_the_exact_computation() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(8);
        let v: Vec<f64> = (0..40_000).map(|_| 1.0 + rng.random::<f64>()).collect();
        let exact = Summary::of(v.clone());
        let streamed = Tally::of(&v, 0.0).summary();
        for (a, b) in [
            (exact.mcse_p05, streamed.mcse_p05),
            (exact.mcse_p50, streamed.mcse_p50),
            (exact.mcse_p95, streamed.mcse_p95),
        ] {
            // The difference of two order statistics, each within RELATIVE_ERROR × 2.
            assert!(
                (a - b).abs() <= 2.0 * 2.0 * RELATIVE_ERROR / (2.0 * 1.96),
                "{a} vs {b}"
            );
        }
    }
}
