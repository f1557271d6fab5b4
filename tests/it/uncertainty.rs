//! Uncertainty analysis: correlated inputs, regional structure, Latin hypercube sampling,
//! convergence to a target standard error, paired comparison, samples and sensitivity.

use icb_impact::engine;
use icb_impact::pipeline::{prepare, Config};
use icb_impact::sensitivity::kernels::pearson;
use icb_impact::stats::mean_sd;

use crate::{read_csv, read_json, shipped, stderr, stdout, Sandbox, TINY_ICBS};

/// Three national factors and one ICB-level one, with room for `[[correlations]]`.
fn scenario(extra: &str) -> String {
    format!(
        r#"
[scenario]
name = "u"
start = "2024-08"
months = 6
iterations = 10000
data = "icbs.csv"
{extra}

[actions.a]
factors = {{ p = {{ dist = "pert", min = 0.2, mode = 0.35, max = 0.65 }}, e = {{ dist = "uniform", min = 0.5, max = 1.5, vary = "icb" }} }}

[[actions.a.costs]]
driver = "registered_patients"
factors = {{ s = {{ dist = "lognormal", p05 = 0.5, p95 = 6.2 }} }}

[actions.b]
[[actions.b.costs]]
factors = {{ u = {{ dist = "uniform", min = 100000, max = 300000 }} }}
"#
    )
}

const P: &str = "actions.a.factors.p";
const S: &str = "actions.a.costs[0].factors.s";
const U: &str = "actions.b.costs[0].factors.u";

fn correlations(pairs: &[(&str, &str, f64)]) -> String {
    pairs
        .iter()
        .map(|(a, b, rho)| {
            format!("\n[[correlations]]\nbetween = [\"{a}\", \"{b}\"]\nrank_correlation = {rho}\n")
        })
        .collect()
}

/// Whether a rank correlation `achieved` on `n` draws is within four standard errors of
/// `target`, on Fisher's z scale: for Spearman's coefficient the variance of atanh(r) is about
/// 1.06 / (n − 3) (Fieller, Hartley & Pearson 1957).
fn within_rank_se(achieved: f64, target: f64, n: usize) -> bool {
    let se = (1.06 / (n as f64 - 3.0)).sqrt();
    (achieved.atanh() - target.atanh()).abs() < 4.0 * se
}

#[test]
fn target_rank_correlations_are_achieved_within_their_standard_errors_at_10000_draws() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let text = scenario("") + &correlations(&[(P, S, 0.5), (P, U, -0.3), (S, U, 0.2)]);
    sb.write("c.toml", &text);
    let out = sb.run(&["run", "c.toml", "--out", "o", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&sb.path("o/correlations.csv"));
    assert_eq!(
        rows[0],
        [
            "factor_a",
            "factor_b",
            "target",
            "applied",
            "achieved",
            "cost_view"
        ]
    );
    assert_eq!(rows.len(), 4);
    for r in &rows[1..] {
        let (target, achieved): (f64, f64) = (r[2].parse().unwrap(), r[4].parse().unwrap());
        assert!(within_rank_se(achieved, target, 10_000), "{r:?}");
    }
}

#[test]
fn correlation_reorders_draws_without_changing_their_distribution() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let plain = prepare(&Config::new(sb.write("a.toml", &scenario("")))).unwrap();
    let text = scenario("") + &correlations(&[(P, S, 0.6)]);
    let correlated = prepare(&Config::new(sb.write("b.toml", &text))).unwrap();
    let (a, b) = (
        engine::national_columns(&plain.model, 2000),
        engine::national_columns(&correlated.model, 2000),
    );
    for (x, y) in a.iter().zip(&b) {
        let (mut x, mut y) = (x.clone(), y.clone());
        x.sort_by(f64::total_cmp);
        y.sort_by(f64::total_cmp);
        assert_eq!(x, y, "the same values, reordered");
    }
    assert_ne!(a, b);
}

#[test]
fn impossible_correlations_are_repaired_to_the_nearest_valid_matrix_with_a_warning() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let text = scenario("") + &correlations(&[(P, S, 0.9), (P, U, -0.9), (S, U, 0.9)]);
    sb.write("c.toml", &text);
    let out = sb.run(&["run", "c.toml", "--out", "o", "-q", "--iterations", "5000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not jointly possible"),
        "{}",
        stderr(&out)
    );
    let rows = read_csv(&sb.path("o/correlations.csv"));
    for r in &rows[1..] {
        let (target, applied, achieved): (f64, f64, f64) = (
            r[2].parse().unwrap(),
            r[3].parse().unwrap(),
            r[4].parse().unwrap(),
        );
        assert!(
            (applied - target).abs() > 0.1,
            "the matrix was repaired: {r:?}"
        );
        assert!(within_rank_se(achieved, applied, 5_000), "{r:?}");
    }
}

#[test]
fn bad_correlations_are_bad_input() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let cases = [
        (
            correlations(&[(P, "actions.a.factors.nope", 0.5)]),
            "'actions.a.factors.nope' is not an uncertain national factor",
        ),
        (
            correlations(&[(P, "actions.a.factors.e", 0.5)]),
            "'actions.a.factors.e' is not an uncertain national factor",
        ),
        (
            correlations(&[(P, S, 1.5)]),
            "1.5 is not a correlation in [-1, 1]",
        ),
        (
            correlations(&[(P, S, 0.5), (S, P, 0.1)]),
            "this pair already has a correlation",
        ),
    ];
    for (extra, message) in cases {
        sb.write("c.toml", &(scenario("") + &extra));
        let out = sb.run(&["validate", "c.toml"]);
        assert_eq!(out.status.code(), Some(2), "{extra}");
        assert!(
            stderr(&out).contains(message),
            "{message}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn regional_component_correlates_icbs_of_one_region_only() {
    // ICBs AAA and BBB are in the North, CCC and DDD in the South. With a regional component
    // ρ, the normal scores of one factor are correlated ρ between ICBs of a region and 0
    // across regions; the standard error of a correlation is about (1 − ρ²)/√n.
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let text = "[scenario]\nname = \"r\"\nstart = \"2024-01\"\nmonths = 12\ndata = \"icbs.csv\"\n\
                [actions.a]\n[[actions.a.costs]]\n\
                factors = { e = { dist = \"uniform\", min = 0, max = 1, vary = \"icb\", region_correlation = 0.5 } }\n";
    let p = prepare(&Config::new(sb.write("r.toml", text))).unwrap();
    let n = 20_000;
    let d = engine::run(&p.model, n, &|_| {});
    // Uniform on [0, 1]: the value is its own CDF, so the normal score is Φ⁻¹(x).
    let scores = |i: usize| -> Vec<f64> { d.icb(i).iter().map(|&x| probit(x)).collect() };
    let (north_a, north_b, south_a) = (scores(0), scores(1), scores(2));
    let within = pearson(&north_a, &north_b);
    let across = pearson(&north_a, &south_a);
    let se = |rho: f64| (1.0 - rho * rho) / (n as f64).sqrt();
    assert!(
        (within - 0.5).abs() < 4.0 * se(0.5),
        "within a region: {within}"
    );
    assert!(across.abs() < 4.0 * se(0.0), "across regions: {across}");
    // The marginal is still uniform: mean 1/2, variance 1/12.
    let (mean, sd) = mean_sd(&d.icb(3));
    assert!(
        (mean - 0.5).abs() < 4.0 * (1.0f64 / 12.0 / n as f64).sqrt(),
        "{mean}"
    );
    // The sample variance's standard error: √((μ₄ − σ⁴)/n), μ₄ = 1/80 and σ⁴ = 1/144 for a
    // uniform.
    let var_se = ((1.0 / 80.0 - 1.0 / 144.0) / n as f64).sqrt();
    assert!((sd * sd - 1.0 / 12.0).abs() < 4.0 * var_se, "{sd}");
}

/// Φ⁻¹ by Acklam's rational approximation (relative error below 1.2e-9), written out here so
/// that the copula's check does not rest on the library's own Φ; checked against published
/// quantiles of the standard normal below.
fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let low = 0.02425;
    if p < low {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - low {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[test]
fn the_test_probit_matches_published_normal_quantiles() {
    // Φ⁻¹ at 0.5, 0.9, 0.975, 0.999 and 0.01, to 16 digits (standard tables, e.g. R's qnorm).
    for (p, z) in [
        (0.5, 0.0),
        (0.9, 1.2815515655446004),
        (0.975, 1.959963984540054),
        (0.999, 3.090232306167813),
        (0.01, -2.3263478740408408),
    ] {
        assert!(
            (probit(p) - z).abs() <= 1.2e-9 * z.abs().max(1.0),
            "{p}: {}",
            probit(p)
        );
    }
}

#[test]
fn latin_hypercube_gives_a_less_variable_mean_than_plain_monte_carlo() {
    // 40 replications of a 200-iteration estimate of the national mean with each method:
    // the Latin hypercube stratifies every national factor, so its estimates vary far less.
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let spread = |extra: &str| -> f64 {
        let mut p = prepare(&Config::new(sb.write("l.toml", &scenario(extra)))).unwrap();
        let means: Vec<f64> = (0..40)
            .map(|seed| {
                p.model.seed = seed;
                mean_sd(&engine::run(&p.model, 200, &|_| {}).national).0
            })
            .collect();
        mean_sd(&means).1
    };
    let (mc, lhs) = (spread(""), spread("sampling = \"lhs\""));
    assert!(
        lhs < 0.5 * mc,
        "Latin hypercube sd {lhs} vs Monte Carlo {mc}"
    );
}

#[test]
fn latin_hypercube_uses_every_stratum_once() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let p = prepare(&Config::new(
        sb.write("l.toml", &scenario("sampling = \"lhs\"")),
    ))
    .unwrap();
    let n = 500;
    let columns = engine::national_columns(&p.model, n);
    // Factor u is uniform on [100000, 300000]: each of the n strata holds exactly one value.
    let j = p.model.national.iter().position(|s| s.path == U).unwrap();
    let mut strata: Vec<usize> = columns[j]
        .iter()
        .map(|x| ((x - 100_000.0) / 200_000.0 * n as f64) as usize)
        .collect();
    strata.sort();
    assert_eq!(strata, (0..n).collect::<Vec<_>>());
}

#[test]
fn a_run_to_a_target_standard_error_equals_a_plain_run_of_the_same_length() {
    let sb = Sandbox::new();
    let s = shipped("medicines-optimisation-2024.toml");
    let s = s.to_str().unwrap();
    let out = sb.run(&[
        "run",
        s,
        "--target-rse",
        "0.01",
        "--iterations",
        "1000",
        "--out",
        "t",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trace = read_csv(&sb.path("t/convergence.csv"));
    assert_eq!(
        trace[0],
        [
            "iterations",
            "mean_gbp",
            "mcse_mean_gbp",
            "rse",
            "cost_view"
        ]
    );
    let last = trace.last().unwrap();
    let n: usize = last[0].parse().unwrap();
    assert!(last[3].parse::<f64>().unwrap() <= 0.01);
    assert!(
        trace[trace.len() - 2][3].parse::<f64>().unwrap() > 0.01,
        "stopped at the first batch below the target"
    );
    // Batches of 1000 rounded up to whole blocks of 512.
    assert_eq!(n % 1024, 0);
    let plain = sb.run(&["run", s, "--iterations", &n.to_string(), "--out", "p", "-q"]);
    assert!(plain.status.success());
    assert_eq!(
        std::fs::read(sb.path("t/icb_summary.csv")).unwrap(),
        std::fs::read(sb.path("p/icb_summary.csv")).unwrap()
    );
    let summary: serde_json::Value = read_json(&sb.path("t/summary.json"));
    assert_eq!(summary["target_rse"], 0.01);
}

#[test]
fn a_target_standard_error_needs_independent_monte_carlo_draws() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write("l.toml", &scenario("sampling = \"lhs\""));
    let out = sb.run(&["run", "l.toml", "--target-rse", "0.01", "--out", "o"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("need a fixed iteration count"));
    assert!(!sb.path("o").exists());
}

#[test]
fn too_few_iterations_are_warned_about() {
    let sb = Sandbox::new();
    let s = shipped("medicines-optimisation-2024.toml");
    let out = sb.run(&[
        "run",
        s.to_str().unwrap(),
        "--iterations",
        "200",
        "--out",
        "o",
        "-q",
    ]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("too few for stable 5th and 95th percentiles"),
        "{}",
        stderr(&out)
    );
    let summary: serde_json::Value = read_json(&sb.path("o/summary.json"));
    assert_eq!(summary["warnings"].as_array().unwrap().len(), 1);
    for key in ["mcse_mean", "mcse_p05", "mcse_p50", "mcse_p95"] {
        assert!(
            summary["national_total_gbp"][key].as_f64().unwrap() > 0.0,
            "{key}"
        );
    }
}

#[test]
fn comparing_a_scenario_with_itself_gives_exactly_zero() {
    let sb = Sandbox::new();
    let s = shipped("medicines-optimisation-2024.toml");
    let s = s.to_str().unwrap();
    let out = sb.run(&[
        "compare",
        s,
        s,
        "--iterations",
        "2000",
        "--out",
        "c",
        "--png",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&sb.path("c/compare.csv"));
    assert_eq!(
        rows[0],
        [
            "scenario_a",
            "scenario_b",
            "icb_code",
            "icb_name",
            "mean_a_gbp",
            "mean_b_gbp",
            "mean_diff_gbp",
            "p05_diff_gbp",
            "p50_diff_gbp",
            "p95_diff_gbp",
            "prob_b_greater",
            "cost_view"
        ]
    );
    assert_eq!(rows.len(), 1 + 42 + 1);
    for r in &rows[1..] {
        assert_eq!(r[4], r[5]);
        for v in &r[6..11] {
            assert_eq!(v.parse::<f64>().unwrap(), 0.0, "{r:?}");
        }
    }
    assert!(sb
        .path("c/charts/compare_medicines-optimisation-2024.png")
        .is_file());
    assert!(stdout(&out).contains("P(B > A) = 0.000"));
}

#[test]
fn a_paired_difference_is_the_added_action_draw_for_draw() {
    // B = A plus one action, run with common random numbers: B − A is exactly the added
    // action's cost in every iteration, so its national mean and interval are the action's.
    let sb = Sandbox::new();
    let base = std::fs::read_to_string(shipped("medicines-optimisation-2024.toml")).unwrap();
    let extra = format!(
        "{base}\n[actions.extra]\n[[actions.extra.costs]]\ndriver = \"gp_practices\"\n\
         factors = {{ per_practice = {{ dist = \"uniform\", min = 1000, max = 3000 }} }}\n"
    );
    sb.write("a.toml", &base);
    sb.write("b.toml", &extra);
    assert!(sb
        .run(&[
            "compare",
            "a.toml",
            "b.toml",
            "--iterations",
            "3000",
            "--out",
            "c",
            "-q"
        ])
        .status
        .success());
    assert!(sb
        .run(&["run", "b.toml", "--iterations", "3000", "--out", "r", "-q"])
        .status
        .success());
    let diff = read_csv(&sb.path("c/compare.csv"));
    let national = diff.iter().find(|r| r[2] == "national").unwrap();
    let summary: serde_json::Value = read_json(&sb.path("r/summary.json"));
    let action = summary["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "extra")
        .unwrap();
    for (column, key) in [(6, "mean"), (7, "p05"), (9, "p95")] {
        let got: f64 = national[column].parse().unwrap();
        let expected = action["national_gbp"][key].as_f64().unwrap();
        // compare.csv is exact; summary.json's percentiles come from the run's streaming
        // tallies, within their stated relative error.
        let bound = 0.02 + icb_impact::tally::RELATIVE_ERROR * expected.abs();
        assert!(
            (got - expected).abs() <= bound,
            "{key}: {got} vs {expected}"
        );
    }
    assert_eq!(national[10], "1.0");
}

#[test]
fn samples_parquet_holds_every_iteration_and_icb() {
    use polars::prelude::*;
    let sb = Sandbox::new();
    let s = shipped("medicines-optimisation-2024.toml");
    let out = sb.run(&[
        "run",
        s.to_str().unwrap(),
        "--iterations",
        "300",
        "--samples",
        "--out",
        "o",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = std::fs::File::open(sb.path("o/samples.parquet")).unwrap();
    let frame = ParquetReader::new(file).finish().unwrap();
    assert_eq!(frame.height(), 300 * 42);
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    for expected in [
        "iteration",
        "icb_code",
        "total_gbp",
        "medicines_optimisation_gbp",
        "actions.medicines_optimisation.costs[0].factors.savings_per_patient_gbp",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    // The first ICB's mean total across iterations is the one in icb_summary.csv.
    let totals: Vec<f64> = frame
        .column("total_gbp")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .step_by(42)
        .collect();
    let mean = totals.iter().sum::<f64>() / totals.len() as f64;
    let rows = read_csv(&sb.path("o/icb_summary.csv"));
    assert!((mean - rows[1][3].parse::<f64>().unwrap()).abs() < 0.01);
}

#[test]
fn sensitivity_writes_tornado_ranks_and_sobol_for_a_shipped_scenario() {
    let sb = Sandbox::new();
    let s = shipped("collective-action-2024.toml");
    let out = sb.run(&[
        "sensitivity",
        s.to_str().unwrap(),
        "--iterations",
        "2000",
        "--sobol-samples",
        "512",
        "--bootstrap",
        "50",
        "--png",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = sb.path("output/collective-action-2024-sensitivity");
    let tornado = read_csv(&dir.join("tornado.csv"));
    let swings: Vec<f64> = tornado[1..].iter().map(|r| r[7].parse().unwrap()).collect();
    assert!(swings.windows(2).all(|w| w[0] >= w[1]), "sorted by swing");
    let ranks = read_csv(&dir.join("rank_sensitivity.csv"));
    let factors = tornado.len() - 1;
    assert_eq!(
        ranks.len() - 1,
        factors * 43,
        "each factor against the nation and 42 ICBs"
    );
    let sobol = read_csv(&dir.join("sobol.csv"));
    assert!(sobol
        .iter()
        .any(|r| r[0] == "action" && r[1] == "contact_cap"));
    for chart in ["tornado", "rank_sensitivity", "sobol"] {
        assert!(dir.join(format!("charts/{chart}.png")).is_file(), "{chart}");
    }
}
