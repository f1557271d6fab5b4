//! Every distribution of the scenario language, drawn the way the engine draws it (each value
//! from a stream keyed by seed, iteration and factor), checked against its analytic law:
//! continuous ones with a Kolmogorov–Smirnov test, the bernoulli by the frequency of ones, and
//! a fixed value by not being drawn at all. Plain Monte Carlo and Latin hypercube sampling.

use icb_impact::dist::names;
use icb_impact::engine::{self, Keep};
use icb_impact::pipeline::{prepare, Config};
use statrs::distribution::{Beta, ContinuousCDF, LogNormal, Normal, Triangular, Uniform};

use crate::{Sandbox, TINY_ICBS};

/// Draws per factor.
const N: usize = 20_000;

/// Significance level of each test. With fixed seeds a test passes or fails the same way every
/// time; alpha says how unusual a sample must be for a correct sampler to fail it.
const ALPHA: f64 = 0.001;

/// The Kolmogorov–Smirnov critical value for `n` draws at `alpha`: `√(−ln(α/2) / 2) / √n`
/// (the asymptotic Kolmogorov distribution, within 1% of the exact one for n above 1,000):
/// 0.0138 for 20,000 draws at 0.001.
fn ks_critical(n: usize, alpha: f64) -> f64 {
    (-(alpha / 2.0).ln() / 2.0).sqrt() / (n as f64).sqrt()
}

/// Largest gap between the empirical CDF of `values` and `cdf`.
fn ks_statistic(mut values: Vec<f64>, cdf: &dyn Fn(f64) -> f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len() as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).max((i + 1) as f64 / n - f)
        })
        .fold(0.0, f64::max)
}

/// A continuous distribution as a scenario writes it, and its CDF computed here from the
/// definitions in docs (not through the crate).
struct Continuous {
    toml: &'static str,
    cdf: Box<dyn Fn(f64) -> f64>,
}

fn continuous() -> Vec<Continuous> {
    let pert = |min: f64, mode: f64, max: f64| -> Box<dyn Fn(f64) -> f64> {
        let r = max - min;
        let beta = Beta::new(1.0 + 4.0 * (mode - min) / r, 1.0 + 4.0 * (max - mode) / r).unwrap();
        Box::new(move |x| beta.cdf(((x - min) / r).clamp(0.0, 1.0)))
    };
    // A lognormal is given by its 5th and 95th percentiles.
    let lognormal = |p05: f64, p95: f64| -> Box<dyn Fn(f64) -> f64> {
        let z95 = Normal::new(0.0, 1.0).unwrap().inverse_cdf(0.95);
        let (mu, sigma) = (
            (p05.ln() + p95.ln()) / 2.0,
            (p95.ln() - p05.ln()) / (2.0 * z95),
        );
        let d = LogNormal::new(mu, sigma).unwrap();
        Box::new(move |x| d.cdf(x))
    };
    let law = |d: Box<dyn Fn(f64) -> f64>, toml| Continuous { toml, cdf: d };
    let uniform = |a, b| -> Box<dyn Fn(f64) -> f64> {
        let d = Uniform::new(a, b).unwrap();
        Box::new(move |x| d.cdf(x))
    };
    let triangular = |min, mode, max| -> Box<dyn Fn(f64) -> f64> {
        let d = Triangular::new(min, max, mode).unwrap();
        Box::new(move |x| d.cdf(x))
    };
    let normal = |mean, sd| -> Box<dyn Fn(f64) -> f64> {
        let d = Normal::new(mean, sd).unwrap();
        Box::new(move |x| d.cdf(x))
    };
    let beta = |a, b| -> Box<dyn Fn(f64) -> f64> {
        let d = Beta::new(a, b).unwrap();
        Box::new(move |x| d.cdf(x))
    };
    vec![
        law(
            uniform(0.5, 1.5),
            r#"{ dist = "uniform", min = 0.5, max = 1.5 }"#,
        ),
        law(
            uniform(2.0, 10.0),
            r#"{ dist = "uniform", min = 2, max = 10 }"#,
        ),
        law(
            triangular(0.0, 1.0, 3.0),
            r#"{ dist = "triangular", min = 0, mode = 1, max = 3 }"#,
        ),
        law(
            triangular(2.0, 2.0, 5.0),
            r#"{ dist = "triangular", min = 2, mode = 2, max = 5 }"#,
        ),
        law(
            pert(0.5, 2.5, 6.2),
            r#"{ dist = "pert", min = 0.5, mode = 2.5, max = 6.2 }"#,
        ),
        law(
            pert(0.29, 0.5, 1.0),
            r#"{ dist = "pert", min = 0.29, mode = 0.5, max = 1.0 }"#,
        ),
        law(
            pert(1.0, 4.0, 4.0),
            r#"{ dist = "pert", min = 1, mode = 4, max = 4 }"#,
        ),
        law(
            normal(1.0, 0.1),
            r#"{ dist = "normal", mean = 1, sd = 0.1 }"#,
        ),
        law(
            normal(50.0, 20.0),
            r#"{ dist = "normal", mean = 50, sd = 20 }"#,
        ),
        law(
            lognormal(0.4, 0.8),
            r#"{ dist = "lognormal", p05 = 0.4, p95 = 0.8 }"#,
        ),
        law(
            lognormal(1e3, 1e5),
            r#"{ dist = "lognormal", p05 = 1000, p95 = 100000 }"#,
        ),
        law(beta(2.0, 5.0), r#"{ dist = "beta", alpha = 2, beta = 5 }"#),
        law(
            beta(0.5, 0.5),
            r#"{ dist = "beta", alpha = 0.5, beta = 0.5 }"#,
        ),
    ]
}

/// Bernoulli probabilities tested, the certain ones included.
const BERNOULLI: [f64; 4] = [0.3, 0.02, 0.0, 1.0];

/// The fixed value tested, and the one action that carries it alone.
const FIXED: f64 = 1.5;

/// A scenario with one action per distribution, each with one national factor `x` on a cost
/// line (`c0`, `c1`, … for the continuous cases, `b0`, … for the bernoullis, `fixed`), and
/// `sampling` in its `[scenario]` table.
fn scenario(sampling: &str) -> String {
    let mut text = format!(
        "[scenario]\nname = \"distributions\"\nstart = \"2024-01\"\nmonths = 12\nseed = 11\n\
         data = \"icbs.csv\"\n{sampling}\n"
    );
    let mut action = |id: String, factor: &str| {
        text.push_str(&format!(
            "\n[actions.{id}]\n[[actions.{id}.costs]]\ndriver = \"registered_patients\"\n\
             factors = {{ x = {factor} }}\n"
        ));
    };
    for (k, c) in continuous().iter().enumerate() {
        action(format!("c{k}"), c.toml);
    }
    for (k, p) in BERNOULLI.iter().enumerate() {
        action(
            format!("b{k}"),
            &format!("{{ dist = \"bernoulli\", p = {p} }}"),
        );
    }
    action(
        "fixed".to_string(),
        &format!("{{ dist = \"fixed\", value = {FIXED} }}"),
    );
    text
}

/// The values each national factor took, by action id.
type Drawn = Vec<(String, Vec<f64>)>;

/// Runs `scenario(sampling)` for [`N`] iterations keeping every iteration's values; returns the
/// values each national factor took, the draws and the actions' ids.
fn drawn(sampling: &str) -> (Drawn, engine::Draws, Vec<String>) {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let p = prepare(&Config::new(sb.write("d.toml", &scenario(sampling)))).unwrap();
    let draws = engine::run_from(&p.model, 0, N, Keep::PerIteration, &|_| {});
    let factors = p
        .model
        .national
        .iter()
        .enumerate()
        .map(|(j, slot)| {
            let id = slot
                .path
                .strip_prefix("actions.")
                .and_then(|rest| rest.strip_suffix(".costs[0].factors.x"))
                .unwrap_or_else(|| panic!("unexpected factor {}", slot.path));
            (id.to_string(), draws.national_factor(j))
        })
        .collect();
    let ids = p.scenario.actions.iter().map(|a| a.id.clone()).collect();
    (factors, draws, ids)
}

fn values_of<'a>(factors: &'a [(String, Vec<f64>)], id: &str) -> &'a [f64] {
    &factors
        .iter()
        .find(|(i, _)| i == id)
        .unwrap_or_else(|| panic!("{id} was not drawn as a national factor"))
        .1
}

#[test]
fn the_scenario_covers_every_distribution_the_language_offers() {
    let text = scenario("");
    for name in names() {
        assert!(
            text.contains(&format!("dist = \"{name}\"")),
            "{name} is not tested"
        );
    }
}

#[test]
fn continuous_factors_drawn_by_the_engine_follow_their_analytic_laws() {
    let critical = ks_critical(N, ALPHA);
    for sampling in ["", "sampling = \"lhs\""] {
        let (factors, _, _) = drawn(sampling);
        for (k, case) in continuous().iter().enumerate() {
            let values = values_of(&factors, &format!("c{k}"));
            assert_eq!(values.len(), N);
            let d = ks_statistic(values.to_vec(), &case.cdf);
            assert!(
                d < critical,
                "{} ({sampling:?}): KS statistic {d:.5} ≥ {critical:.5} at alpha {ALPHA}",
                case.toml
            );
        }
    }
}

#[test]
fn bernoulli_factors_drawn_by_the_engine_are_one_with_their_probability() {
    for sampling in ["", "sampling = \"lhs\""] {
        let (factors, _, _) = drawn(sampling);
        for (k, &p) in BERNOULLI.iter().enumerate() {
            let values = values_of(&factors, &format!("b{k}"));
            assert!(values.iter().all(|&x| x == 0.0 || x == 1.0), "p = {p}");
            let ones = values.iter().filter(|&&x| x == 1.0).count() as f64;
            let expected = N as f64 * p;
            // Monte Carlo: the count of ones is binomial, within 4 standard errors (a
            // chi-square test with one degree of freedom at alpha 6e-5). A Latin hypercube
            // uses each stratum once: the count is within one of N p. Certain outcomes are
            // exact either way.
            let bound = match sampling {
                "" => 4.0 * (N as f64 * p * (1.0 - p)).sqrt(),
                _ if p == 0.0 || p == 1.0 => 0.0,
                _ => 1.0,
            };
            assert!(
                (ones - expected).abs() <= bound,
                "p = {p} ({sampling:?}): {ones} ones in {N}, expected {expected} ± {bound}"
            );
        }
    }
}

#[test]
fn a_fixed_factor_is_not_drawn_and_gives_its_value_in_every_iteration() {
    let (factors, draws, ids) = drawn("");
    assert!(factors.iter().all(|(id, _)| id != "fixed"));
    let fixed = ids.iter().position(|id| id == "fixed").unwrap();
    // Twelve months of a factor that is annual: the ICB's patients × the value, every time.
    for (icb, patients) in [1e6, 2.5e5, 2e6, 0.0].into_iter().enumerate() {
        let values = draws.icb_action(icb, fixed);
        let expected = patients * FIXED;
        assert!(
            (values[0] - expected).abs() <= 1e-9 * expected,
            "ICB {icb}: {} vs {expected}",
            values[0]
        );
        assert!(values.iter().all(|x| x.to_bits() == values[0].to_bits()));
    }
}
