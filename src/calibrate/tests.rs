use super::*;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// A prior N(mu0, tau0²) on θ, the quantity a·θ, one observation y with sd sigma.
fn linear(
    n: usize,
    seed: u64,
    (mu0, tau0): (f64, f64),
    a: f64,
    y: f64,
    sigma: f64,
) -> (Vec<FactorDraws>, Vec<Target>) {
    let prior = Normal::new(mu0, tau0).unwrap();
    let mut r = rng(seed);
    let theta: Vec<f64> = (0..n).map(|_| prior.sample(&mut r)).collect();
    let factors = vec![FactorDraws {
        path: "actions.a.factors.theta".into(),
        values: theta.clone(),
    }];
    let targets = vec![Target {
        unit: "gbp".into(),
        id: "y".into(),
        label: "y".into(),
        published: y,
        observation_sd: sigma,
        discrepancy_sd: 0.0,
        observation: Observation::Normal,
        values: theta.iter().map(|t| a * t).collect(),
    }];
    (factors, targets)
}

#[test]
fn the_conjugate_normal_posterior_is_recovered_within_monte_carlo_error() {
    let (mu0, tau0, a, y, sigma) = (10.0, 2.0, 3.0, 36.0, 4.0);
    let (factors, targets) = linear(200_000, 1, (mu0, tau0), a, y, sigma);
    let c = calibrate(&factors, &targets);
    assert!(c.posterior_reported);
    // Exact: precision 1/τ0² + a²/σ², mean (μ0/τ0² + a·y/σ²) / precision, truncated to the
    // non-implausible θ, |y − aθ| ≤ 3σ.
    let precision = 1.0 / tau0.powi(2) + a * a / sigma.powi(2);
    let (m, s) = (
        (mu0 / tau0.powi(2) + a * y / sigma.powi(2)) / precision,
        precision.recip().sqrt(),
    );
    let exact = truncated_normal(m, s, (y - CUTOFF * sigma) / a, (y + CUTOFF * sigma) / a);
    let theta = &factors[0].values;
    let got_mean: f64 = theta.iter().zip(&c.weights).map(|(t, w)| t * w).sum();
    let got_sd = theta
        .iter()
        .zip(&c.weights)
        .map(|(t, w)| w * (t - got_mean).powi(2))
        .sum::<f64>()
        .sqrt();
    // Importance-sampling standard errors: sd / √ESS for the mean, sd / √(2 ESS) for the sd,
    // √(p(1 − p)) / (f(q) √ESS) for a quantile q.
    let root = c.ess.sqrt();
    assert!(
        (got_mean - exact.mean).abs() <= 4.0 * s / root,
        "mean {got_mean} vs {}",
        exact.mean
    );
    assert!(
        (got_sd - exact.sd).abs() <= 4.0 * s / (2.0f64).sqrt() / root,
        "sd {got_sd} vs {}",
        exact.sd
    );
    let post = c.factors[0].posterior.unwrap();
    assert!((post.mean - got_mean).abs() < 1e-9);
    for (got, p) in [(post.p05, 0.05), (post.p95, 0.95)] {
        let q = exact.quantile(p);
        let se = (p * (1.0 - p)).sqrt() / (exact.density(q) * root);
        assert!((got - q).abs() <= 4.0 * se, "p{p}: {got} vs {q} (se {se})");
    }
}

/// A normal N(m, s²) truncated to [lo, hi].
struct Truncated {
    normal: statrs::distribution::Normal,
    lo: f64,
    mass: f64,
    mean: f64,
    sd: f64,
}

fn truncated_normal(m: f64, s: f64, lo: f64, hi: f64) -> Truncated {
    use statrs::distribution::{Continuous, ContinuousCDF};
    let normal = statrs::distribution::Normal::new(m, s).unwrap();
    let (a, b) = ((lo - m) / s, (hi - m) / s);
    let std = statrs::distribution::Normal::new(0.0, 1.0).unwrap();
    let mass = std.cdf(b) - std.cdf(a);
    let (pa, pb) = (std.pdf(a), std.pdf(b));
    let mean = m + s * (pa - pb) / mass;
    let var = s * s * (1.0 + (a * pa - b * pb) / mass - ((pa - pb) / mass).powi(2));
    Truncated {
        normal,
        lo,
        mass,
        mean,
        sd: var.sqrt(),
    }
}

impl Truncated {
    fn quantile(&self, p: f64) -> f64 {
        use statrs::distribution::ContinuousCDF;
        self.normal
            .inverse_cdf(self.normal.cdf(self.lo) + p * self.mass)
    }

    fn density(&self, x: f64) -> f64 {
        use statrs::distribution::Continuous;
        self.normal.pdf(x) / self.mass
    }
}

#[test]
fn simulation_based_calibration_gives_uniform_ranks() {
    // Talts et al. (2018): draw a truth from the prior, a figure from the truth, calibrate,
    // and rank the truth among L posterior draws. Over many replications the rank is uniform
    // on 0..=L if the posterior is right. Chi-square on L + 1 = 10 bins, 9 degrees of freedom:
    // 27.88 is its 0.999 quantile, so a correct method fails one seed in a thousand.
    let (mu0, tau0, a, sigma) = (0.0, 1.0, 2.0, 1.0);
    let (replications, l) = (1000, 9);
    let mut counts = vec![0usize; l + 1];
    let mut r = rng(7);
    for rep in 0..replications {
        let truth: f64 = Normal::new(mu0, tau0).unwrap().sample(&mut r);
        let y = a * truth + Normal::new(0.0, sigma).unwrap().sample(&mut r);
        let (factors, targets) = linear(2000, 100 + rep as u64, (mu0, tau0), a, y, sigma);
        let c = calibrate(&factors, &targets);
        let mut cdf = Vec::with_capacity(c.weights.len());
        let mut total = 0.0;
        for w in &c.weights {
            total += w;
            cdf.push(total);
        }
        let rank = (0..l)
            .filter(|_| {
                let u: f64 = r.random::<f64>() * total;
                let i = cdf.partition_point(|&c| c < u).min(cdf.len() - 1);
                factors[0].values[i] < truth
            })
            .count();
        counts[rank] += 1;
    }
    let expected = replications as f64 / (l + 1) as f64;
    let chi2: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    assert!(chi2 < 27.88, "ranks {counts:?}, chi-square {chi2}");
}

#[test]
fn a_figure_no_draw_reaches_gives_no_posterior_and_names_the_conflict() {
    let (factors, mut targets) = linear(5000, 3, (10.0, 1.0), 1.0, 10.5, 0.5);
    let far = Target {
        unit: "gbp".into(),
        id: "far".into(),
        published: 100.0,
        ..targets[0].clone()
    };
    targets.push(far);
    let c = calibrate(&factors, &targets);
    assert!(!c.posterior_reported, "ESS {}", c.ess);
    assert!(c.factors.iter().all(|f| f.posterior.is_none()));
    assert_eq!(c.conflicts.len(), 1);
    let conflict = &c.conflicts[0];
    assert_eq!(conflict.figures, ["far"]);
    // No draw comes within (100 − the largest θ) / 0.5 of it.
    let top = factors[0].values.iter().copied().fold(f64::MIN, f64::max);
    assert!((conflict.best_implausibility - (100.0 - top) / 0.5).abs() < 1e-9);
    assert_eq!(c.non_implausible_share, 0.0);
}

#[test]
fn two_figures_that_each_fit_but_not_together_are_named_as_a_pair() {
    let (factors, mut targets) = linear(20000, 4, (0.0, 3.0), 1.0, -3.0, 0.1);
    let other = Target {
        unit: "gbp".into(),
        id: "other".into(),
        published: 3.0,
        ..targets[0].clone()
    };
    targets.push(other);
    let c = calibrate(&factors, &targets);
    assert!(!c.posterior_reported);
    assert_eq!(c.conflicts.len(), 1);
    assert_eq!(c.conflicts[0].figures, ["y", "other"]);
    // The best a single θ can do is to sit midway: 3 / 0.1 = 30 sds from each.
    assert!((c.conflicts[0].best_implausibility - 30.0).abs() < 1.0);
}

#[test]
fn leave_one_out_places_a_consistent_figure_inside_its_predictive() {
    let (factors, mut targets) = linear(50000, 5, (10.0, 2.0), 1.0, 11.0, 1.0);
    let twin = Target {
        unit: "gbp".into(),
        id: "twin".into(),
        published: 11.2,
        ..targets[0].clone()
    };
    targets.push(twin);
    let c = calibrate(&factors, &targets);
    for f in &c.figures {
        let p = f.loo_percentile.unwrap();
        assert!((20.0..80.0).contains(&p), "{}: {p}", f.id);
    }
}

#[test]
fn weighted_quantiles_and_ess_follow_their_definitions() {
    let values = [3.0, 1.0, 2.0, 4.0];
    let w = [0.1, 0.2, 0.3, 0.4];
    assert_eq!(weighted_quantile(&values, &w, 0.05), 1.0);
    assert_eq!(weighted_quantile(&values, &w, 0.5), 2.0);
    assert_eq!(weighted_quantile(&values, &w, 0.6), 3.0);
    assert_eq!(weighted_quantile(&values, &w, 0.95), 4.0);
    assert!((ess(&[0.25; 4]) - 4.0).abs() < 1e-12);
    assert!((ess(&[1.0, 0.0]) - 1.0).abs() < 1e-12);
    assert!((weighted_percentile(&values, &w, 2.5) - 50.0).abs() < 1e-9);
}

#[test]
fn a_lognormal_observation_compares_on_the_log_scale() {
    let t = Target {
        unit: "gbp".into(),
        id: "l".into(),
        label: "l".into(),
        published: 100.0,
        observation_sd: 50.0,
        discrepancy_sd: 0.0,
        observation: Observation::Lognormal,
        values: vec![100.0, 200.0, 0.0],
    };
    let (imp, _) = t.terms();
    let s = (1.0f64 + 0.25).ln().sqrt();
    assert_eq!(imp[0], 0.0);
    assert!((imp[1] - 2f64.ln() / s).abs() < 1e-12);
    assert_eq!(imp[2], f64::INFINITY);
}
