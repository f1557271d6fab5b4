//! Input distributions: what a scenario may say about an uncertain factor, validated once,
//! with analytic moments and a sampler built on `rand_distr`.

use rand::Rng;
use rand_distr::{Bernoulli, Beta, Distribution, LogNormal, Normal, Pert, Triangular, Uniform};

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

/// Names accepted in `dist = "..."`.
pub const NAMES: &[&str] = &[
    "fixed",
    "uniform",
    "triangular",
    "pert",
    "normal",
    "lognormal",
    "beta",
    "bernoulli",
];

impl Spec {
    /// The parameter keys each distribution takes, in the order users write them.
    pub fn parameters(name: &str) -> Option<&'static [&'static str]> {
        Some(match name {
            "fixed" => &["value"],
            "uniform" => &["min", "max"],
            "triangular" | "pert" => &["min", "mode", "max"],
            "normal" => &["mean", "sd"],
            "lognormal" => &["p05", "p95"],
            "beta" => &["alpha", "beta"],
            "bernoulli" => &["p"],
            _ => return None,
        })
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
    Pert(Pert<f64>),
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    Beta(Beta<f64>),
    Bernoulli(Bernoulli),
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
            Spec::Pert { min, mode, max } => Sampler::Pert(
                Pert::new(min, max)
                    .with_mode(mode)
                    .map_err(|e| failed(&e))?,
            ),
            Spec::Normal { mean, sd } => {
                Sampler::Normal(Normal::new(mean, sd).map_err(|e| failed(&e))?)
            }
            Spec::LogNormal { p05, p95 } => {
                let (mu, sigma) = Spec::lognormal_mu_sigma(p05, p95);
                Sampler::LogNormal(LogNormal::new(mu, sigma).map_err(|e| failed(&e))?)
            }
            Spec::Beta { alpha, beta } => {
                Sampler::Beta(Beta::new(alpha, beta).map_err(|e| failed(&e))?)
            }
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
            Sampler::Pert(d) => d.sample(rng),
            Sampler::Normal(d) => d.sample(rng),
            Sampler::LogNormal(d) => d.sample(rng),
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
