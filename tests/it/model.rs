//! The cost formula checked exactly with known values, and the simulated means checked against
//! analytic expectations within Monte Carlo standard errors.

use icb_impact::cli::prepare;
use icb_impact::engine;
use icb_impact::month::Month;
use icb_impact::summary::RunSummary;

use crate::{Sandbox, TINY_ICBS};

/// The documented time weight, written out again here so the test does not trust the model's.
fn w(month: Month, start: &str, end: Option<&str>, ramp: f64) -> f64 {
    let start: Month = start.parse().unwrap();
    let since = f64::from(month.since(start));
    let after_end = end.is_some_and(|e| month > e.parse().unwrap());
    if since < 0.0 || after_end {
        0.0
    } else {
        ((since + 1.0) / ramp).min(1.0)
    }
}

const EXACT: &str = r#"
[scenario]
name = "exact"
start = "2024-08"
months = 7
iterations = 50
data = "icbs.csv"

[actions.early]
start = "2024-06"
end = "2024-12"
ramp_months = 4
factors = { participation = 0.4 }

[[actions.early.costs]]
driver = "registered_patients"
factors = { per_patient = 2.5, share = { dist = "fixed", value = 0.55, source = "test" } }

[[actions.early.costs]]
factors = { flat = 120000 }

[actions.late]
start = "2024-11"

[[actions.late.costs]]
driver = "gp_practices"
factors = { per_practice = 1000 }
"#;

#[test]
fn fixed_values_give_exactly_the_documented_formula() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let p = prepare(&sb.write("exact.toml", EXACT), None).unwrap();
    let draws = engine::run(&p.model, 50, &|_| {});
    let s = RunSummary::new(&p.scenario, &p.table, &draws);
    let patients = [1_000_000.0, 250_000.0, 2_000_000.0, 0.0];
    let practices = [100.0, 30.0, 180.0, 0.0];
    let months: Vec<Month> = (0..7).map(|m| p.scenario.start.plus(m)).collect();
    let mut national_by_month = [0.0f64; 7];
    for i in 0..4 {
        let (mut early, mut late) = (0.0, 0.0);
        for (m, &month) in months.iter().enumerate() {
            // cost(i, m) = driver_i × product of factors × w(m) / 12
            let e = (patients[i] * 0.4 * 2.5 * 0.55 + 1.0 * 0.4 * 120_000.0)
                * w(month, "2024-06", Some("2024-12"), 4.0)
                / 12.0;
            let l = practices[i] * 1000.0 * w(month, "2024-11", None, 1.0) / 12.0;
            early += e;
            late += l;
            national_by_month[m] += e + l;
        }
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        let icb = &s.icbs[i].cost;
        for got in [icb.mean, icb.p05, icb.p50, icb.p95, icb.min, icb.max] {
            assert!(
                close(got, early + late),
                "ICB {i}: {got} vs {}",
                early + late
            );
        }
        assert_eq!(icb.sd, 0.0);
        let by_action = &s.icb_actions[i * 2..i * 2 + 2];
        assert!(close(by_action[0].cost.mean, early) && close(by_action[1].cost.mean, late));
    }
    let mut cumulative = 0.0;
    for (m, got) in s.monthly.iter().enumerate() {
        cumulative += national_by_month[m];
        assert_eq!(got.month, months[m]);
        assert!(
            (got.cumulative.mean - cumulative).abs() <= 1e-9 * cumulative.max(1.0),
            "month {m}"
        );
    }
    // Hand check of one figure: Alpha in 2024-08 is month 3 of a 4-month ramp.
    let alpha_aug: f64 = (1_000_000.0 * 0.4 * 2.5 * 0.55 + 0.4 * 120_000.0) * 0.75 / 12.0;
    assert!((alpha_aug - 37_375.0).abs() < 1e-9);
}

#[test]
fn exact_results_reach_the_csv_rounded_to_pence() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write("exact.toml", EXACT);
    let out = sb.run(&["run", "exact.toml", "--out", "out", "--quiet"]);
    assert!(out.status.success(), "{}", crate::stderr(&out));
    let rows = crate::read_csv(&sb.path("out/icb_summary.csv"));
    assert_eq!(
        rows[0],
        [
            "icb_code",
            "icb_name",
            "region",
            "mean_gbp",
            "sd_gbp",
            "p05_gbp",
            "p50_gbp",
            "p95_gbp",
            "prob_above_reference"
        ]
    );
    // Delta has no patients and no practices: only the flat line, 0.4 × 120,000 × Σw / 12,
    // with Σw = 0.75 + 1 × 4 (Aug–Dec; Jan and Feb are after the end) = 4.75.
    assert_eq!(rows[4][..3], ["DDD", "Delta ICB", "South"]);
    let expected = 0.4 * 120_000.0 * 4.75 / 12.0;
    assert_eq!(rows[4][3].parse::<f64>().unwrap(), expected);
    assert_eq!(rows[4][4].parse::<f64>().unwrap(), 0.0);
}

const STOCHASTIC: &str = r#"
[scenario]
name = "stochastic"
start = "2024-08"
months = 6
seed = 99
data = "icbs.csv"

[actions.a]
ramp_months = 3
factors = { participation = { dist = "pert", min = 0.2, mode = 0.35, max = 0.65, vary = "icb" } }

[[actions.a.costs]]
driver = "registered_patients"
factors = { savings = { dist = "pert", min = 0.5, mode = 2.5, max = 6.2 }, lost = { dist = "lognormal", p05 = 0.4, p95 = 0.8 }, happens = { dist = "bernoulli", p = 0.7, vary = "icb" } }

[actions.b]
start = "2024-10"
factors = { scale = { dist = "uniform", min = 0.5, max = 1.5 } }

[[actions.b.costs]]
factors = { amount = { dist = "normal", mean = 100000, sd = 20000, vary = "icb" }, t = { dist = "triangular", min = 0.5, mode = 1, max = 2 }, share = { dist = "beta", alpha = 2, beta = 5 } }
"#;

#[test]
fn simulated_means_match_the_product_of_factor_means_within_four_standard_errors() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let p = prepare(&sb.write("s.toml", STOCHASTIC), None).unwrap();
    let iterations = 40_000;
    let draws = engine::run(&p.model, iterations, &|_| {});
    let s = RunSummary::new(&p.scenario, &p.table, &draws);
    // Expectations of independent factors multiply.
    let pert = |a: f64, m: f64, b: f64| (a + 4.0 * m + b) / 6.0;
    let lognormal_mean = {
        let (lo, hi) = (0.4f64.ln(), 0.8f64.ln());
        let sigma = (hi - lo) / (2.0 * 1.644_853_626_951_472_2);
        ((lo + hi) / 2.0 + sigma * sigma / 2.0).exp()
    };
    let months: Vec<Month> = (0..6).map(|m| p.scenario.start.plus(m)).collect();
    let weight_a: f64 = months
        .iter()
        .map(|&m| w(m, "2024-08", None, 3.0))
        .sum::<f64>()
        / 12.0;
    let weight_b: f64 = months
        .iter()
        .map(|&m| w(m, "2024-10", None, 1.0))
        .sum::<f64>()
        / 12.0;
    let line_a = pert(0.2, 0.35, 0.65) * pert(0.5, 2.5, 6.2) * lognormal_mean * 0.7 * weight_a;
    let line_b = 1.0 * 100_000.0 * (0.5 + 1.0 + 2.0) / 3.0 * (2.0 / 7.0) * weight_b;
    let patients = [1_000_000.0, 250_000.0, 2_000_000.0, 0.0];
    let mut national = 0.0;
    for (i, r) in s.icbs.iter().enumerate() {
        let expected = patients[i] * line_a + line_b;
        national += expected;
        let se = r.cost.mcse_mean;
        assert!(
            (r.cost.mean - expected).abs() < 4.0 * se,
            "{}: simulated {} vs analytic {expected} (standard error {se})",
            r.code,
            r.cost.mean
        );
        // The tolerance is tight enough to catch a 3% error in the model.
        assert!(4.0 * se < 0.03 * expected, "{}: test too weak", r.code);
    }
    let se = s.national.mcse_mean;
    assert!(
        (s.national.mean - national).abs() < 4.0 * se,
        "national {} vs {national} ± {se}",
        s.national.mean
    );
}

#[test]
fn icb_level_factors_vary_between_icbs_and_national_ones_do_not() {
    let sb = Sandbox::new();
    let icbs = "icb_code,icb_name,n\nA,A,1\nB,B,1\n";
    sb.write("icbs.csv", icbs);
    let scenario = |vary: &str| {
        format!(
            "[scenario]\nname = \"v\"\nstart = \"2024-01\"\nmonths = 1\ndata = \"icbs.csv\"\n\
             [actions.x]\n[[actions.x.costs]]\ndriver = \"n\"\nfactors = {{ f = {{ dist = \"uniform\", min = 0, max = 1, vary = \"{vary}\" }} }}\n"
        )
    };
    for (vary, same) in [("national", true), ("icb", false)] {
        let p = prepare(&sb.write("v.toml", &scenario(vary)), None).unwrap();
        let d = engine::run(&p.model, 100, &|_| {});
        let (a, b) = (d.icb(0), d.icb(1));
        assert_eq!(a == b, same, "vary = {vary}");
    }
}
