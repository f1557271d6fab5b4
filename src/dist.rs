//! Input distributions: what a scenario may say about an uncertain factor, validated once,
//! with analytic moments and a sampler: rand_distr's, but for PERT and Beta with both shapes
//! at least 1, which are drawn exactly by rejection from a table built once per parameter set
//! ([`BetaTable`]).

use std::sync::Arc;

use rand::Rng;
use rand_distr::{Bernoulli, Beta, Distribution, LogNormal, Normal, Triangular, Uniform};

/// z such that P(Z ≤ z) = 0.95 for a standard normal Z.
pub const Z95: f64 = 1.644_853_626_951_472_2;

/// The parameters of a distribution as the scenario gives them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spec {
    /// A known value.
    Fixed { value: f64 },
    /// Uniform on [min, max].
    Uniform { min: f64, max: f64 },
    /// Triangular on [min, max] with its peak at `mode`.
    Triangular { min: f64, mode: f64, max: f64 },
    /// Beta-PERT with shape 4: `min + (max − min) × Beta(1 + 4(mode − min)/(max − min),
    /// 1 + 4(max − mode)/(max − min))`, mean `(min + 4 mode + max) / 6`.
    Pert { min: f64, mode: f64, max: f64 },
    /// Normal with mean and standard deviation.
    Normal { mean: f64, sd: f64 },
    /// Lognormal given by its 5th and 95th percentiles: `ln X ~ Normal(μ, σ)` with
    /// `μ = (ln p05 + ln p95) / 2`, `σ = (ln p95 − ln p05) / (2 × 1.6449)`.
    LogNormal { p05: f64, p95: f64 },
    /// Beta(alpha, beta) on [0, 1].
    Beta { alpha: f64, beta: f64 },
    /// 1 with probability p, else 0 ("does this happen").
    Bernoulli { p: f64 },
}

/// A family of the scenario language: its name in `dist = "..."`, its parameters in the order
/// users write them, and its name in words (the explorer's forms are built from these,
/// through `GET /api/families`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Family {
    pub name: &'static str,
    pub parameters: &'static [&'static str],
    pub words: &'static str,
}

/// Every family, in the order the explorer offers them: the one list of them.
pub const FAMILIES: [Family; 8] = [
    Family {
        name: "fixed",
        parameters: &["value"],
        words: "Fixed value",
    },
    Family {
        name: "uniform",
        parameters: &["min", "max"],
        words: "Uniform (min to max)",
    },
    Family {
        name: "triangular",
        parameters: &["min", "mode", "max"],
        words: "Triangular (min, most likely, max)",
    },
    Family {
        name: "pert",
        parameters: &["min", "mode", "max"],
        words: "PERT (min, most likely, max)",
    },
    Family {
        name: "normal",
        parameters: &["mean", "sd"],
        words: "Normal (mean, standard deviation)",
    },
    Family {
        name: "lognormal",
        parameters: &["p05", "p95"],
        words: "Log-normal (5th and 95th percentiles)",
    },
    Family {
        name: "beta",
        parameters: &["alpha", "beta"],
        words: "Beta (alpha, beta)",
    },
    Family {
        name: "bernoulli",
        parameters: &["p"],
        words: "Yes/no (probability)",
    },
];

/// Every parameter of any family, in the order users write them, with its name in words.
pub const PARAMETERS: [(&str, &str); 11] = [
    ("value", "Value"),
    ("min", "Min"),
    ("mode", "Most likely"),
    ("max", "Max"),
    ("mean", "Mean"),
    ("sd", "Standard deviation"),
    ("p05", "5th percentile"),
    ("p95", "95th percentile"),
    ("alpha", "Alpha"),
    ("beta", "Beta"),
    ("p", "Probability"),
];

/// The names accepted in `dist = "..."`, in [`FAMILIES`]' order.
pub fn names() -> Vec<&'static str> {
    FAMILIES.iter().map(|f| f.name).collect()
}

impl Spec {
    /// The parameter keys each distribution takes, in the order users write them.
    pub fn parameters(name: &str) -> Option<&'static [&'static str]> {
        FAMILIES
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.parameters)
    }

    /// Builds a spec from its name and parameters in the order of [`Spec::parameters`].
    pub fn from_parts(name: &str, p: &[f64]) -> Option<Spec> {
        Some(match (name, p) {
            ("fixed", &[value]) => Spec::Fixed { value },
            ("uniform", &[min, max]) => Spec::Uniform { min, max },
            ("triangular", &[min, mode, max]) => Spec::Triangular { min, mode, max },
            ("pert", &[min, mode, max]) => Spec::Pert { min, mode, max },
            ("normal", &[mean, sd]) => Spec::Normal { mean, sd },
            ("lognormal", &[p05, p95]) => Spec::LogNormal { p05, p95 },
            ("beta", &[alpha, beta]) => Spec::Beta { alpha, beta },
            ("bernoulli", &[p]) => Spec::Bernoulli { p },
            _ => return None,
        })
    }

    /// The name scenarios write in `dist = "..."`.
    pub fn name(&self) -> &'static str {
        match self {
            Spec::Fixed { .. } => "fixed",
            Spec::Uniform { .. } => "uniform",
            Spec::Triangular { .. } => "triangular",
            Spec::Pert { .. } => "pert",
            Spec::Normal { .. } => "normal",
            Spec::LogNormal { .. } => "lognormal",
            Spec::Beta { .. } => "beta",
            Spec::Bernoulli { .. } => "bernoulli",
        }
    }

    /// The parameters with their names, in the order of [`Spec::parameters`].
    pub fn values(&self) -> Vec<(&'static str, f64)> {
        match *self {
            Spec::Fixed { value } => vec![("value", value)],
            Spec::Uniform { min, max } => vec![("min", min), ("max", max)],
            Spec::Triangular { min, mode, max } | Spec::Pert { min, mode, max } => {
                vec![("min", min), ("mode", mode), ("max", max)]
            }
            Spec::Normal { mean, sd } => vec![("mean", mean), ("sd", sd)],
            Spec::LogNormal { p05, p95 } => vec![("p05", p05), ("p95", p95)],
            Spec::Beta { alpha, beta } => vec![("alpha", alpha), ("beta", beta)],
            Spec::Bernoulli { p } => vec![("p", p)],
        }
    }

    /// The same distribution with its parameters rounded to two decimals (to the penny, for a
    /// money amount), for reading.
    pub fn to_pennies(&self) -> Spec {
        let values: Vec<f64> = self
            .values()
            .iter()
            .map(|(_, v)| (v * 100.0).round() / 100.0)
            .collect();
        Spec::from_parts(self.name(), &values).expect("parameters match the dist")
    }

    /// Whether every parameter of the dist `name` is in the unit of the values drawn, so that
    /// scaling the values (converting money to another year's prices) scales each parameter by
    /// the same factor: a value, bounds, a mode, a normal's mean and sd, a lognormal's
    /// percentiles. A beta's shapes and a bernoulli's probability are not.
    pub fn scales(name: &str) -> bool {
        Spec::parameters(name).is_some() && !matches!(name, "beta" | "bernoulli")
    }

    /// Every reason these parameters do not make a distribution (empty when they do).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, v) in &self.values() {
            if !v.is_finite() {
                out.push(format!("{name} must be a finite number, found {v}"));
            }
        }
        if !out.is_empty() {
            return out;
        }
        match *self {
            Spec::Fixed { .. } => {}
            Spec::Uniform { min, max } => {
                if min >= max {
                    out.push(format!(
                        "min {min} must be less than max {max} (for a known value write a number)"
                    ));
                }
            }
            Spec::Triangular { min, mode, max } | Spec::Pert { min, mode, max } => {
                if min >= max {
                    out.push(format!(
                        "min {min} must be less than max {max} (for a known value write a number)"
                    ));
                } else if !(min..=max).contains(&mode) {
                    out.push(format!("mode {mode} is outside [min {min}, max {max}]"));
                }
            }
            Spec::Normal { sd, .. } => {
                if sd <= 0.0 {
                    out.push(format!("sd {sd} must be greater than 0"));
                }
            }
            Spec::LogNormal { p05, p95 } => {
                if p05 <= 0.0 {
                    out.push(format!(
                        "p05 {p05} must be greater than 0 (a lognormal is positive)"
                    ));
                }
                if p05 >= p95 {
                    out.push(format!("p05 {p05} must be less than p95 {p95}"));
                }
            }
            Spec::Beta { alpha, beta } => {
                if alpha <= 0.0 {
                    out.push(format!("alpha {alpha} must be greater than 0"));
                }
                if beta <= 0.0 {
                    out.push(format!("beta {beta} must be greater than 0"));
                }
            }
            Spec::Bernoulli { p } => {
                if !(0.0..=1.0).contains(&p) {
                    out.push(format!("p {p} is a probability and must lie in [0, 1]"));
                }
            }
        }
        out
    }

    /// μ and σ of ln X for the lognormal given by its 90% interval.
    fn lognormal_mu_sigma(p05: f64, p95: f64) -> (f64, f64) {
        let (a, b) = (p05.ln(), p95.ln());
        ((a + b) / 2.0, (b - a) / (2.0 * Z95))
    }

    /// The analytic mean.
    pub fn mean(&self) -> f64 {
        match *self {
            Spec::Fixed { value } => value,
            Spec::Uniform { min, max } => (min + max) / 2.0,
            Spec::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Spec::Pert { min, mode, max } => (min + 4.0 * mode + max) / 6.0,
            Spec::Normal { mean, .. } => mean,
            Spec::LogNormal { p05, p95 } => {
                let (mu, sigma) = Self::lognormal_mu_sigma(p05, p95);
                (mu + sigma * sigma / 2.0).exp()
            }
            Spec::Beta { alpha, beta } => alpha / (alpha + beta),
            Spec::Bernoulli { p } => p,
        }
    }

    /// The analytic variance.
    pub fn variance(&self) -> f64 {
        match *self {
            Spec::Fixed { .. } => 0.0,
            Spec::Uniform { min, max } => (max - min).powi(2) / 12.0,
            Spec::Triangular { min, mode, max } => {
                (min * min + mode * mode + max * max - min * mode - min * max - mode * max) / 18.0
            }
            Spec::Pert { min, max, .. } => {
                let mean = self.mean();
                (mean - min) * (max - mean) / 7.0
            }
            Spec::Normal { sd, .. } => sd * sd,
            Spec::LogNormal { p05, p95 } => {
                let (mu, sigma) = Self::lognormal_mu_sigma(p05, p95);
                let s2 = sigma * sigma;
                (s2.exp() - 1.0) * (2.0 * mu + s2).exp()
            }
            Spec::Beta { alpha, beta } => {
                let s = alpha + beta;
                alpha * beta / (s * s * (s + 1.0))
            }
            Spec::Bernoulli { p } => p * (1.0 - p),
        }
    }

    /// The value below which a share `p` of draws falls (the inverse CDF), for Latin hypercube
    /// sampling, copulas and the tornado's 10th and 90th percentiles. For a bernoulli, the
    /// smallest value with CDF ≥ p: 0 when `p ≤ 1 − prob`, else 1.
    pub fn quantile(&self, p: f64) -> f64 {
        use statrs::distribution::{
            Beta as SBeta, ContinuousCDF, LogNormal as SLogNormal, Normal as SNormal,
        };
        let p = p.clamp(0.0, 1.0);
        match *self {
            Spec::Fixed { value } => value,
            Spec::Uniform { min, max } => min + p * (max - min),
            Spec::Triangular { min, mode, max } => {
                let split = (mode - min) / (max - min);
                if p < split {
                    min + (p * (max - min) * (mode - min)).sqrt()
                } else {
                    max - ((1.0 - p) * (max - min) * (max - mode)).sqrt()
                }
            }
            Spec::Pert { min, mode, max } => {
                let r = max - min;
                let beta = SBeta::new(1.0 + 4.0 * (mode - min) / r, 1.0 + 4.0 * (max - mode) / r)
                    .expect("validated PERT parameters");
                min + r * beta.inverse_cdf(p)
            }
            Spec::Normal { mean, sd } => SNormal::new(mean, sd)
                .expect("validated normal")
                .inverse_cdf(p),
            Spec::LogNormal { p05, p95 } => {
                let (mu, sigma) = Self::lognormal_mu_sigma(p05, p95);
                SLogNormal::new(mu, sigma)
                    .expect("validated lognormal")
                    .inverse_cdf(p)
            }
            Spec::Beta { alpha, beta } => SBeta::new(alpha, beta)
                .expect("validated beta")
                .inverse_cdf(p),
            Spec::Bernoulli { p: prob } => {
                if p <= 1.0 - prob {
                    0.0
                } else {
                    1.0
                }
            }
        }
    }

    /// The distribution in words, for `validate` and reports.
    pub fn describe(&self) -> String {
        match *self {
            Spec::Fixed { value } => format!("fixed at {value}"),
            Spec::Uniform { min, max } => format!("uniform between {min} and {max}"),
            Spec::Triangular { min, mode, max } => {
                format!("triangular from {min} to {max}, most likely {mode}")
            }
            Spec::Pert { min, mode, max } => {
                format!("PERT from {min} to {max}, most likely {mode}")
            }
            Spec::Normal { mean, sd } => format!("normal with mean {mean} and sd {sd}"),
            Spec::LogNormal { p05, p95 } => format!("lognormal with 90% interval {p05} to {p95}"),
            Spec::Beta { alpha, beta } => format!("beta({alpha}, {beta})"),
            Spec::Bernoulli { p } => format!("1 with probability {p}, else 0"),
        }
    }
}

/// A validated distribution ready to draw from.
#[derive(Debug, Clone)]
pub struct Dist {
    spec: Spec,
    sampler: Sampler,
}

#[derive(Debug, Clone)]
enum Sampler {
    Fixed(f64),
    Uniform(Uniform<f64>),
    Triangular(Triangular<f64>),
    /// `min + range × Beta`.
    Pert {
        min: f64,
        range: f64,
        beta: BetaTable,
    },
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    /// Both shapes at least 1: a bounded, unimodal density.
    BetaTable(BetaTable),
    /// A shape below 1 (an unbounded density): rand_distr's Cheng sampler.
    Beta(Beta<f64>),
    Bernoulli(Bernoulli),
}

/// log2 of the number of bins of a [`BetaTable`].
const BIN_BITS: u32 = 8;
const BINS: usize = 1 << BIN_BITS;
// A bin's alias is a `u8`.
const _: () = assert!(BINS == 1 << u8::BITS);
/// Bits of a 64-bit draw left after the bin index: the alias test's resolution.
const ALIAS_BITS: u32 = 64 - BIN_BITS;

/// An exact sampler of Beta(a, b) with a, b ≥ 1 (PERT's shapes always are): rejection from a
/// piecewise-constant envelope over 256 equal bins of [0, 1], built once per parameter set.
///
/// On each bin the envelope is the largest value of the (unnormalised) density
/// `x^(a−1) (1−x)^(b−1)` there and the squeeze the smallest: the density is unimodal (log-
/// concave), so they are at the bin's ends or the mode. A draw picks a bin in proportion to the
/// envelope's area (Walker's alias method: one 64-bit draw gives the bin and the alias test), a
/// point uniformly within it, and a uniform height under the envelope; the point is accepted
/// when the height is under the squeeze (most draws: no density evaluated) or under the
/// density. Accepted points have exactly the Beta law; the envelope's area is within a few
/// percent of the density's, so about three 64-bit draws make a value, with no `log` or `exp`
/// in most of them.
#[derive(Debug, Clone)]
pub struct BetaTable {
    a1: f64,
    b1: f64,
    /// A fixed number of bins, so that an index taken from a draw's top bits (or an alias,
    /// below [`BINS`] by its type) needs no bounds check.
    bins: Arc<[Bin; BINS]>,
}

#[derive(Debug, Clone, Copy)]
struct Bin {
    /// Keep this bin when the alias draw is below this (out of 2^ALIAS_BITS), else take `alias`.
    keep: u64,
    alias: u8,
    /// The envelope on the bin.
    hat: f64,
    /// The squeeze over the envelope, in 32-bit steps rounded down: a height (the draw's low
    /// 32 bits) below it is under the squeeze.
    squeeze_bits: u64,
    /// The squeeze itself (for the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    squeeze: f64,
}

impl BetaTable {
    /// Largest `alpha + beta` a table is built for: beyond it the density is so narrow that
    /// few of the 256 bins hold it and rand_distr's sampler is faster.
    pub const MAX_SHAPE_SUM: f64 = 200.0;

    /// The table for Beta(alpha, beta); `None` unless both shapes are at least 1 and their sum
    /// at most [`BetaTable::MAX_SHAPE_SUM`] (PERT's sum is always 6).
    pub fn new(alpha: f64, beta: f64) -> Option<BetaTable> {
        if !(alpha >= 1.0 && beta >= 1.0 && alpha + beta <= Self::MAX_SHAPE_SUM) {
            return None;
        }
        let (a1, b1) = (alpha - 1.0, beta - 1.0);
        let density = |x: f64| x.powf(a1) * (1.0 - x).powf(b1);
        let mode = if a1 + b1 > 0.0 { a1 / (a1 + b1) } else { 0.5 };
        let width = 1.0 / BINS as f64;
        // Margins cover the rounding of `powf`, so the envelope is never below the density
        // and the squeeze never above it.
        let (hats, squeezes): (Vec<f64>, Vec<f64>) = (0..BINS)
            .map(|j| {
                let (lo, hi) = (j as f64 * width, (j + 1) as f64 * width);
                let (f_lo, f_hi) = (density(lo), density(hi));
                let top = if (lo..=hi).contains(&mode) {
                    density(mode).max(f_lo).max(f_hi)
                } else {
                    f_lo.max(f_hi)
                };
                (top * (1.0 + 1e-9), f_lo.min(f_hi) * (1.0 - 1e-9))
            })
            .unzip();
        // Walker's alias table (Vose's construction) over the envelope's areas.
        let total: f64 = hats.iter().sum();
        let mut scaled: Vec<f64> = hats.iter().map(|h| h / total * BINS as f64).collect();
        let mut alias: Vec<u8> = (0..=u8::MAX).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..BINS).partition(|&j| scaled[j] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            alias[s] = l as u8;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left holds (up to rounding) exactly 1: always kept.
        for j in small.into_iter().chain(large) {
            scaled[j] = 1.0;
        }
        let one = (1u64 << ALIAS_BITS) as f64;
        let bins: Vec<Bin> = (0..BINS)
            .map(|j| Bin {
                keep: (scaled[j].clamp(0.0, 1.0) * one).round() as u64,
                alias: alias[j],
                hat: hats[j],
                squeeze_bits: if hats[j] > 0.0 {
                    (squeezes[j] / hats[j] * (1u64 << 32) as f64).floor() as u64
                } else {
                    0
                },
                squeeze: squeezes[j],
            })
            .collect();
        let bins: Box<[Bin; BINS]> = bins.into_boxed_slice().try_into().ok()?;
        Some(BetaTable {
            a1,
            b1,
            bins: Arc::from(bins),
        })
    }

    /// One draw in [0, 1). Two 64-bit outputs an attempt: the first picks the bin (its top 8
    /// bits) and makes the alias test (the other 56); the second places the point in the bin
    /// (its top 32 bits: a resolution of 2⁻⁴⁰ of the range) and the height (its low 32 bits).
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        const UNIT: f64 = 1.0 / (1u64 << 32) as f64;
        loop {
            let r = rng.next_u64();
            let first = &self.bins[(r >> ALIAS_BITS) as usize];
            // The alias test is a coin toss for many bins, so the bin is chosen by a mask, not
            // a branch; `black_box` keeps the compiler from making a branch of it again.
            let top = (r >> ALIAS_BITS) as u8;
            let alias =
                std::hint::black_box(u8::from(r & ((1u64 << ALIAS_BITS) - 1) >= first.keep))
                    .wrapping_neg();
            let j = top ^ ((top ^ first.alias) & alias);
            let bin = &self.bins[usize::from(j)];
            let r = rng.next_u64();
            let x = (f64::from(j) + (r >> 32) as f64 * UNIT) * (1.0 / BINS as f64);
            let height = r & 0xffff_ffff;
            if height < bin.squeeze_bits
                || (height as f64 + 0.5) * UNIT * bin.hat
                    < x.powf(self.a1) * (1.0 - x).powf(self.b1)
            {
                return x;
            }
        }
    }
}

impl Dist {
    /// Validates the parameters; the error lists every reason they are wrong.
    pub fn new(spec: Spec) -> Result<Dist, Vec<String>> {
        let problems = spec.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        let failed = |e: &dyn std::fmt::Display| vec![format!("invalid parameters: {e}")];
        let sampler = match spec {
            Spec::Fixed { value } => Sampler::Fixed(value),
            Spec::Uniform { min, max } => {
                Sampler::Uniform(Uniform::new_inclusive(min, max).map_err(|e| failed(&e))?)
            }
            Spec::Triangular { min, mode, max } => {
                Sampler::Triangular(Triangular::new(min, max, mode).map_err(|e| failed(&e))?)
            }
            Spec::Pert { min, mode, max } => {
                let range = max - min;
                let beta = BetaTable::new(
                    1.0 + 4.0 * (mode - min) / range,
                    1.0 + 4.0 * (max - mode) / range,
                )
                .ok_or_else(|| vec!["invalid parameters: PERT shapes not finite".to_string()])?;
                Sampler::Pert { min, range, beta }
            }
            Spec::Normal { mean, sd } => {
                Sampler::Normal(Normal::new(mean, sd).map_err(|e| failed(&e))?)
            }
            Spec::LogNormal { p05, p95 } => {
                let (mu, sigma) = Spec::lognormal_mu_sigma(p05, p95);
                Sampler::LogNormal(LogNormal::new(mu, sigma).map_err(|e| failed(&e))?)
            }
            Spec::Beta { alpha, beta } => match BetaTable::new(alpha, beta) {
                Some(table) => Sampler::BetaTable(table),
                None => Sampler::Beta(Beta::new(alpha, beta).map_err(|e| failed(&e))?),
            },
            Spec::Bernoulli { p } => Sampler::Bernoulli(Bernoulli::new(p).map_err(|e| failed(&e))?),
        };
        Ok(Dist { spec, sampler })
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    pub fn mean(&self) -> f64 {
        self.spec.mean()
    }

    pub fn is_fixed(&self) -> bool {
        matches!(self.sampler, Sampler::Fixed(_))
    }

    /// One draw.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.sampler {
            Sampler::Fixed(v) => *v,
            Sampler::Uniform(d) => d.sample(rng),
            Sampler::Triangular(d) => d.sample(rng),
            Sampler::Pert { min, range, beta } => min + range * beta.sample(rng),
            Sampler::Normal(d) => d.sample(rng),
            Sampler::LogNormal(d) => d.sample(rng),
            Sampler::BetaTable(d) => d.sample(rng),
            Sampler::Beta(d) => d.sample(rng),
            Sampler::Bernoulli(d) => {
                if d.sample(rng) {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Statistical tests the rand_distr way: fixed seeds, the sample mean within 4 standard
    //! errors of the analytic mean, and a Kolmogorov–Smirnov test against the analytic CDF.
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use statrs::distribution::{
        Beta as SBeta, ContinuousCDF, LogNormal as SLogNormal, Normal as SNormal,
        Triangular as STriangular, Uniform as SUniform,
    };

    #[test]
    fn every_family_is_built_named_and_read_back_by_its_own_parameters() {
        let keys: Vec<&str> = PARAMETERS.iter().map(|(k, _)| *k).collect();
        for f in FAMILIES {
            let values: Vec<f64> = (0..f.parameters.len())
                .map(|k| 0.1 + 0.2 * k as f64)
                .collect();
            let spec = Spec::from_parts(f.name, &values)
                .unwrap_or_else(|| panic!("{} is not built from {:?}", f.name, f.parameters));
            assert_eq!(spec.name(), f.name);
            let read: Vec<&str> = spec.values().iter().map(|(k, _)| *k).collect();
            assert_eq!(read, f.parameters, "{}", f.name);
            // Each family's parameters are in PARAMETERS, in its order.
            let at: Vec<usize> = f
                .parameters
                .iter()
                .map(|p| {
                    keys.iter()
                        .position(|k| k == p)
                        .expect("a parameter with words")
                })
                .collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{}", f.name);
        }
        // And every parameter belongs to a family.
        for k in keys {
            assert!(FAMILIES.iter().any(|f| f.parameters.contains(&k)), "{k}");
        }
        assert_eq!(names().len(), FAMILIES.len());
    }

    const N: usize = 20_000;

    fn draws(spec: Spec, seed: u64) -> Vec<f64> {
        let dist = Dist::new(spec).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..N).map(|_| dist.sample(&mut rng)).collect()
    }

    fn analytic_cdf(spec: Spec) -> Box<dyn Fn(f64) -> f64> {
        match spec {
            Spec::Uniform { min, max } => {
                let d = SUniform::new(min, max).unwrap();
                Box::new(move |x| d.cdf(x))
            }
            Spec::Triangular { min, mode, max } => {
                let d = STriangular::new(min, max, mode).unwrap();
                Box::new(move |x| d.cdf(x))
            }
            Spec::Pert { min, mode, max } => {
                let r = max - min;
                let d =
                    SBeta::new(1.0 + 4.0 * (mode - min) / r, 1.0 + 4.0 * (max - mode) / r).unwrap();
                Box::new(move |x| d.cdf(((x - min) / r).clamp(0.0, 1.0)))
            }
            Spec::Normal { mean, sd } => {
                let d = SNormal::new(mean, sd).unwrap();
                Box::new(move |x| d.cdf(x))
            }
            Spec::LogNormal { p05, p95 } => {
                let (mu, sigma) = Spec::lognormal_mu_sigma(p05, p95);
                let d = SLogNormal::new(mu, sigma).unwrap();
                Box::new(move |x| d.cdf(x))
            }
            Spec::Beta { alpha, beta } => {
                let d = SBeta::new(alpha, beta).unwrap();
                Box::new(move |x| d.cdf(x))
            }
            Spec::Fixed { .. } | Spec::Bernoulli { .. } => unreachable!("not continuous"),
        }
    }

    /// Largest gap between the empirical and analytic CDF.
    fn ks_statistic(mut xs: Vec<f64>, cdf: &dyn Fn(f64) -> f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf(x);
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max)
    }

    fn continuous_specs() -> Vec<Spec> {
        vec![
            Spec::Uniform {
                min: -1.0,
                max: 3.0,
            },
            Spec::Triangular {
                min: 0.0,
                mode: 0.2,
                max: 1.0,
            },
            Spec::Triangular {
                min: 1.0,
                mode: 1.0,
                max: 2.0,
            },
            Spec::Pert {
                min: 0.2,
                mode: 0.35,
                max: 0.65,
            },
            Spec::Pert {
                min: 0.5,
                mode: 2.5,
                max: 6.2,
            },
            Spec::Pert {
                min: 0.0,
                mode: 1.0,
                max: 1.0,
            },
            Spec::Normal {
                mean: 10.0,
                sd: 2.5,
            },
            Spec::LogNormal { p05: 0.5, p95: 6.2 },
            Spec::LogNormal { p05: 1e5, p95: 4e6 },
            Spec::Beta {
                alpha: 2.0,
                beta: 5.0,
            },
            Spec::Beta {
                alpha: 0.5,
                beta: 0.5,
            },
        ]
    }

    #[test]
    fn sample_means_lie_within_four_standard_errors() {
        let mut specs = continuous_specs();
        specs.extend([Spec::Bernoulli { p: 0.3 }, Spec::Bernoulli { p: 0.97 }]);
        for (k, spec) in specs.into_iter().enumerate() {
            let xs = draws(spec, 1000 + k as u64);
            let mean = xs.iter().sum::<f64>() / N as f64;
            let se = (spec.variance() / N as f64).sqrt();
            assert!(
                (mean - spec.mean()).abs() < 4.0 * se,
                "{spec:?}: sample mean {mean}, analytic {} ± {se}",
                spec.mean()
            );
        }
    }

    #[test]
    fn sample_variances_match_analytic_variances() {
        // The variance formulas feed the analytic tests of the engine, so check them too:
        // the sample variance has standard error ≈ sqrt((μ4 − σ⁴)/n); 10% is > 4 SE here.
        for (k, spec) in continuous_specs().into_iter().enumerate() {
            let xs = draws(spec, 2000 + k as u64);
            let mean = xs.iter().sum::<f64>() / N as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (N - 1) as f64;
            let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / N as f64;
            let se = ((m4 - var * var) / N as f64).sqrt();
            assert!(
                (var - spec.variance()).abs() < 4.0 * se,
                "{spec:?}: sample variance {var}, analytic {} (se {se})",
                spec.variance()
            );
        }
    }

    #[test]
    fn kolmogorov_smirnov_against_analytic_cdf() {
        // Critical value at α = 0.001: 1.949 / sqrt(n).
        let critical = 1.949 / (N as f64).sqrt();
        for (k, spec) in continuous_specs().into_iter().enumerate() {
            let d = ks_statistic(draws(spec, 3000 + k as u64), &*analytic_cdf(spec));
            assert!(d < critical, "{spec:?}: KS statistic {d} ≥ {critical}");
        }
    }

    #[test]
    fn ks_test_detects_a_wrong_distribution() {
        // The test above must be able to fail: PERT draws against a uniform CDF.
        let xs = draws(
            Spec::Pert {
                min: 0.0,
                mode: 0.3,
                max: 1.0,
            },
            7,
        );
        let d = ks_statistic(xs, &*analytic_cdf(Spec::Uniform { min: 0.0, max: 1.0 }));
        assert!(d > 1.949 / (N as f64).sqrt());
    }

    #[test]
    fn quantiles_invert_the_analytic_cdf() {
        for spec in continuous_specs() {
            let cdf = analytic_cdf(spec);
            for p in [0.01, 0.1, 0.25, 0.5, 0.9, 0.99] {
                let x = spec.quantile(p);
                assert!(
                    (cdf(x) - p).abs() < 1e-6,
                    "{spec:?}: F(Q({p})) = {}",
                    cdf(x)
                );
            }
        }
        let b = Spec::Bernoulli { p: 0.3 };
        assert_eq!(
            (b.quantile(0.5), b.quantile(0.71), b.quantile(0.69)),
            (0.0, 1.0, 0.0)
        );
        assert_eq!(Spec::Fixed { value: 4.0 }.quantile(0.9), 4.0);
    }

    /// Shapes for the table sampler: flat, each end at the mode (PERT with the mode at min or
    /// max), skewed either way, symmetric, near the PERT shapes of the shipped scenarios, and
    /// large.
    const TABLE_SHAPES: &[(f64, f64)] = &[
        (1.0, 1.0),
        (1.0, 5.0),
        (5.0, 1.0),
        (2.333_333_333_333_333, 3.666_666_666_666_667),
        (1.1, 4.9),
        (4.9, 1.1),
        (3.0, 3.0),
        (2.0, 7.0),
        (1.5, 1.5),
        (60.0, 90.0),
    ];

    #[test]
    fn beta_table_draws_have_the_beta_law() {
        // Moments within 4 standard errors and a KS test at α = 0.001, shape by shape.
        let critical = 1.949 / (N as f64).sqrt();
        for (k, &(alpha, beta)) in TABLE_SHAPES.iter().enumerate() {
            let spec = Spec::Beta { alpha, beta };
            let table = BetaTable::new(alpha, beta).expect("shapes at least 1");
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(4000 + k as u64);
            let xs: Vec<f64> = (0..N).map(|_| table.sample(&mut rng)).collect();
            assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
            let mean = xs.iter().sum::<f64>() / N as f64;
            let se = (spec.variance() / N as f64).sqrt();
            assert!(
                (mean - spec.mean()).abs() < 4.0 * se,
                "Beta({alpha}, {beta}): mean {mean}, analytic {} ± {se}",
                spec.mean()
            );
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (N - 1) as f64;
            let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / N as f64;
            let se_var = ((m4 - var * var) / N as f64).sqrt();
            assert!(
                (var - spec.variance()).abs() < 4.0 * se_var,
                "Beta({alpha}, {beta}): variance {var}, analytic {} (se {se_var})",
                spec.variance()
            );
            let d = ks_statistic(xs, &*analytic_cdf(spec));
            assert!(d < critical, "Beta({alpha}, {beta}): KS {d} ≥ {critical}");
        }
    }

    #[test]
    fn beta_table_envelope_covers_the_density_and_the_squeeze_lies_under_it() {
        for &(alpha, beta) in TABLE_SHAPES {
            let t = BetaTable::new(alpha, beta).unwrap();
            let density = |x: f64| x.powf(t.a1) * (1.0 - x).powf(t.b1);
            for (j, bin) in t.bins.iter().enumerate() {
                for step in 0..=64 {
                    let x = (j as f64 + step as f64 / 64.0) / BINS as f64;
                    let f = density(x);
                    assert!(
                        bin.squeeze <= f && f <= bin.hat,
                        "Beta({alpha}, {beta}) at {x}"
                    );
                }
            }
            // The alias table picks each bin in proportion to its envelope's area.
            let total: f64 = t.bins.iter().map(|b| b.hat).sum();
            let one = (1u64 << ALIAS_BITS) as f64;
            let mut picked = vec![0.0; BINS];
            for (j, bin) in t.bins.iter().enumerate() {
                picked[j] += bin.keep as f64 / one / BINS as f64;
                picked[bin.alias as usize] += (1.0 - bin.keep as f64 / one) / BINS as f64;
            }
            for (bin, p) in t.bins.iter().zip(&picked) {
                assert!((p - bin.hat / total).abs() < 1e-12, "Beta({alpha}, {beta})");
            }
        }
    }

    #[test]
    fn shapes_the_table_does_not_cover_use_rand_distr() {
        for (alpha, beta) in [(0.5, 0.5), (0.9, 3.0), (150.0, 100.0)] {
            assert!(BetaTable::new(alpha, beta).is_none());
            let dist = Dist::new(Spec::Beta { alpha, beta }).unwrap();
            assert!(matches!(dist.sampler, Sampler::Beta(_)));
        }
        let pert = Dist::new(Spec::Pert {
            min: 1.0,
            mode: 1.0,
            max: 2.0,
        })
        .unwrap();
        assert!(matches!(pert.sampler, Sampler::Pert { .. }));
    }

    #[test]
    fn lognormal_percentiles_are_the_given_interval() {
        let spec = Spec::LogNormal { p05: 0.5, p95: 6.2 };
        let cdf = analytic_cdf(spec);
        assert!((cdf(0.5) - 0.05).abs() < 1e-9);
        assert!((cdf(6.2) - 0.95).abs() < 1e-9);
    }

    #[test]
    fn bernoulli_draws_only_zero_or_one() {
        assert!(draws(Spec::Bernoulli { p: 0.5 }, 9)
            .iter()
            .all(|&x| x == 0.0 || x == 1.0));
    }

    #[test]
    fn invalid_parameters_are_each_named() {
        let cases = [
            (
                Spec::Uniform { min: 2.0, max: 1.0 },
                "min 2 must be less than max 1",
            ),
            (
                Spec::Pert {
                    min: 0.0,
                    mode: 2.0,
                    max: 1.0,
                },
                "mode 2 is outside [min 0, max 1]",
            ),
            (
                Spec::Triangular {
                    min: 0.0,
                    mode: -1.0,
                    max: 1.0,
                },
                "mode -1 is outside",
            ),
            (
                Spec::Normal { mean: 1.0, sd: 0.0 },
                "sd 0 must be greater than 0",
            ),
            (
                Spec::LogNormal { p05: 3.0, p95: 2.0 },
                "p05 3 must be less than p95 2",
            ),
            (
                Spec::LogNormal {
                    p05: -1.0,
                    p95: 2.0,
                },
                "p05 -1 must be greater than 0",
            ),
            (
                Spec::Beta {
                    alpha: 0.0,
                    beta: 1.0,
                },
                "alpha 0 must be greater than 0",
            ),
            (Spec::Bernoulli { p: 1.5 }, "p 1.5 is a probability"),
            (
                Spec::Fixed { value: f64::NAN },
                "value must be a finite number",
            ),
        ];
        for (spec, expected) in cases {
            let problems = Dist::new(spec).unwrap_err();
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{spec:?}: {problems:?}"
            );
        }
    }
}
