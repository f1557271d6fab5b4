//! `calibrate` end to end: a conjugate case whose posterior is known exactly, a figure no draw
//! reaches, bad benchmark tables, and outputs that do not depend on the thread count.

use std::process::Output;

use crate::column_index as column;
use crate::{files, read_csv, read_json, stderr, stdout, Sandbox};

/// Two ICBs of 1m and 2m patients; one action whose cost is patients × θ a year over a year,
/// θ ~ Normal(2, 0.5²) national: the national total is 3m × θ, linear in θ.
const ICBS: &str =
    "icb_code,icb_name,region,registered_patients\nA1,One,North,1000000\nA2,Two,South,2000000\n";
const SCENARIO: &str = r#"
[scenario]
name = "conjugate"
start = "2024-08"
months = 12
iterations = 20000
seed = 3
data = "icbs.csv"

[actions.a]
factors = { theta = { dist = "normal", mean = 2, sd = 0.5 } }

[[actions.a.costs]]
driver = "registered_patients"
factors = { per_patient = 1 }
"#;
const HEADER: &str = "id,label,published_gbp,published_sd_gbp,quantity,discrepancy_sd_gbp\n";
const A: f64 = 3.0e6;
const THETA: &str = "actions.a.factors.theta";

/// The exact posterior of θ given y ~ Normal(Aθ, σ²), truncated to the non-implausible
/// |y − Aθ| ≤ 3σ: its mean, and its 5% and 95% quantiles with the density there, by
/// integration on a fine grid.
fn exact(y: f64, sigma: f64) -> (f64, [(f64, f64); 2]) {
    let (lo, hi) = ((y - 3.0 * sigma) / A, (y + 3.0 * sigma) / A);
    let n = 200_000;
    let h = (hi - lo) / n as f64;
    let density =
        |t: f64| (-0.5 * ((t - 2.0) / 0.5f64).powi(2) - 0.5 * ((y - A * t) / sigma).powi(2)).exp();
    let grid: Vec<(f64, f64)> = (0..=n)
        .map(|k| {
            let t = lo + k as f64 * h;
            (t, density(t))
        })
        .collect();
    let total: f64 = grid.iter().map(|(_, f)| f * h).sum();
    let mean = grid.iter().map(|(t, f)| t * f * h).sum::<f64>() / total;
    let quantile = |p: f64| {
        let mut c = 0.0;
        for &(t, f) in &grid {
            c += f * h / total;
            if c >= p {
                return (t, f / total);
            }
        }
        (hi, 0.0)
    };
    (mean, [quantile(0.05), quantile(0.95)])
}

/// `calibrate SCENARIO --benchmarks figures.csv --out OUT -q` in the sandbox.
fn calibrate(sb: &Sandbox, scenario: &str, out: &str) -> Output {
    sb.run(&[
        "calibrate",
        scenario,
        "--benchmarks",
        "figures.csv",
        "--out",
        out,
        "-q",
    ])
}

/// Calibrates `scenario` to `figures` (one figure: y = 6.9m, σ = 0.6m on A × θ) and checks
/// the exact posterior of θ and the figure's prior and posterior predictive.
fn conjugate(scenario: &str, figures: &str) {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write("s.toml", scenario);
    let (y, sigma) = (6.9e6, 0.6e6);
    sb.write("figures.csv", figures);
    let out = calibrate(&sb, "s.toml", "cal");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("calibrated to 1 figures"),
        "{}",
        stdout(&out)
    );
    let summary: serde_json::Value = read_json(&sb.path("cal/summary.json"));
    assert_eq!(summary["posterior_reported"], true);
    let ess = summary["ess"].as_f64().unwrap();
    let rows = read_csv(&sb.path("cal/posterior.csv"));
    assert_eq!(rows.len(), 2, "one national factor");
    assert_eq!(rows[1][0], THETA);
    let get = |name: &str| rows[1][column(&rows, name)].parse::<f64>().unwrap();
    let (mean, quantiles) = exact(y, sigma);
    // The posterior sd, for the standard errors: precision 1/0.25 + A²/σ².
    let s = (1.0 / 0.25 + (A / sigma).powi(2)).recip().sqrt();
    let root = ess.sqrt();
    assert!(
        (get("posterior_mean") - mean).abs() <= 4.0 * s / root,
        "{} vs {mean}",
        get("posterior_mean")
    );
    for ((q, f), name, p) in [
        (quantiles[0], "posterior_p05", 0.05),
        (quantiles[1], "posterior_p95", 0.95),
    ] {
        let se = (p * (1.0f64 - p)).sqrt() / (f * root);
        assert!(
            (get(name) - q).abs() <= 4.0 * se,
            "{name}: {} vs {q} (se {se})",
            get(name)
        );
    }
    // The prior is the prior: N(2, 0.5²) from 20,000 draws.
    assert!((get("prior_mean") - 2.0).abs() <= 4.0 * 0.5 / (20000f64).sqrt());
    // The figure's predictive moves to the figure.
    let figures = read_csv(&sb.path("cal/calibration.csv"));
    let f = |name: &str| figures[1][column(&figures, name)].parse::<f64>().unwrap();
    assert!((f("posterior_mean") - A * mean).abs() <= 4.0 * A * s / root);
    assert!((f("prior_mean") - A * 2.0).abs() <= 4.0 * A * 0.5 / (20000f64).sqrt());
    assert!(sb.path("cal/posterior_draws.parquet").exists());
}

#[test]
fn a_conjugate_case_gives_the_exact_posterior_within_monte_carlo_error() {
    conjugate(
        SCENARIO,
        &format!("{HEADER}nation,National cost in a year,6900000,600000,national_total,0\n"),
    );
}

#[test]
fn an_activity_figure_is_calibrated_exactly_as_a_money_figure() {
    // The action removes 3m × θ GP appointments a year, counted by a line with no price (it
    // costs nothing), observed as y ~ Normal(3m θ, σ²): the same posterior as the money case.
    let scenario = SCENARIO.replace(
        "driver = \"registered_patients\"\nfactors = { per_patient = 1 }",
        "activity = \"gp_appointments\"\ndriver = \"registered_patients\"",
    );
    assert!(scenario.contains("gp_appointments"));
    conjugate(
        &scenario,
        "id,label,published,published_sd,unit,quantity,activity,discrepancy_sd\n\
         appointments,GP appointments in a year,6900000,600000,gp_appointments,national_activity,gp_appointments,0\n",
    );
}

#[test]
fn a_figure_few_prior_draws_reach_is_calibrated_in_refocused_waves() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write("s.toml", SCENARIO);
    // σ = £3,000 on £6.9m: θ known to ±0.001 where the prior's sd is 0.5, so about 0.4% of
    // the prior draws are non-implausible and carry an effective sample of about 50.
    let (y, sigma) = (6.9e6, 3000.0);
    sb.write(
        "figures.csv",
        &format!("{HEADER}nation,National cost in a year,{y},{sigma},national_total,0\n"),
    );
    let out = calibrate(&sb, "s.toml", "cal");
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = read_json(&sb.path("cal/summary.json"));
    assert_eq!(summary["posterior_reported"], true, "{summary}");
    assert_eq!(summary["waves"], 2, "{summary}");
    let shares = summary["wave_shares"].as_array().unwrap();
    assert!(
        shares[0].as_f64().unwrap() < 0.01 && shares[1].as_f64().unwrap() > 0.9,
        "{summary}"
    );
    let ess = summary["ess"].as_f64().unwrap();
    let rows = read_csv(&sb.path("cal/posterior.csv"));
    let get = |name: &str| rows[1][column(&rows, name)].parse::<f64>().unwrap();
    // The prior interval is still the prior's, not the refocused wave's.
    assert!((get("prior_mean") - 2.0).abs() <= 4.0 * 0.5 / (20000f64).sqrt());
    let (mean, _) = exact(y, sigma);
    let s = (1.0 / 0.25 + (A / sigma).powi(2)).recip().sqrt();
    assert!(
        (get("posterior_mean") - mean).abs() <= 4.0 * s / ess.sqrt(),
        "{} vs {mean}",
        get("posterior_mean")
    );
}

#[test]
fn a_figure_no_draw_reaches_gives_no_posterior_and_a_clear_message() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write(
        "s.toml",
        &SCENARIO.replace("iterations = 20000", "iterations = 2000"),
    );
    sb.write(
        "figures.csv",
        &format!("{HEADER}far,Far too high,100000000,1000000,national_total,0\nnear,Near,6000000,600000,national_total,\n"),
    );
    let out = calibrate(&sb, "s.toml", "cal");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("No posterior"), "{text}");
    assert!(
        text.contains("far with the priors: the closest draw is"),
        "{text}"
    );
    let rows = read_csv(&sb.path("cal/posterior.csv"));
    assert_eq!(
        rows[1][column(&rows, "posterior_mean")],
        "",
        "no posterior value"
    );
    let summary: serde_json::Value = read_json(&sb.path("cal/summary.json"));
    assert_eq!(summary["posterior_reported"], false);
    assert_eq!(summary["conflicts"][0]["figures"][0], "far");
}

#[test]
fn bad_benchmark_tables_are_refused_with_line_and_field() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write(
        "s.toml",
        &SCENARIO.replace("iterations = 20000", "iterations = 200"),
    );
    let cases = [
        (
            "id,label,published_gbp,quantity\nx,X,100,national_total\n",
            "figures.csv:2: published_sd: 'x': calibration needs the figure's observation sd",
        ),
        (
            "id,label,published_gbp,published_sd_gbp,quantity,observation\nx,X,100,10,national_total,poisson\n",
            "figures.csv:2: observation: unknown observation 'poisson'; expected one of: normal, lognormal",
        ),
        (
            "id,label,published_gbp,published_sd_gbp,quantity,discrepancy_sd_gbp\nx,X,100,10,national_total,-5\n",
            "figures.csv:2: discrepancy_sd_gbp: '-5' is not an amount in pounds",
        ),
        (
            "id,label,published_gbp,published_sd_gbp,quantity,same_as\nx,X,100,10,national_total,nope\n",
            "figures.csv:2: same_as: 'nope' is not the id of a figure in this table",
        ),
        (
            "id,label,published_gbp,published_sd_gbp,quantity,actions\nx,X,100,10,national_total,cap\n",
            "no figure can be set against conjugate: x (the scenario has no action cap)",
        ),
    ];
    for (table, expected) in cases {
        sb.write("figures.csv", table);
        let out = calibrate(&sb, "s.toml", "cal");
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "expected {expected}\ngot {}",
            stderr(&out)
        );
        assert!(!sb.path("cal").exists(), "nothing written");
    }
}

#[test]
fn outputs_do_not_depend_on_the_thread_count() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write(
        "s.toml",
        &SCENARIO.replace("iterations = 20000", "iterations = 3000"),
    );
    sb.write(
        "figures.csv",
        "id,label,published_gbp,published_sd_gbp,quantity,discrepancy_sd_gbp,icb_code,same_as\n\
         nation,National,6900000,600000,national_total,,,\n\
         one,ICB One,2300000,400000,icb_total,,A1,\n\
         mean,National per ICB,3450000,300000,mean_per_icb,,,nation\n",
    );
    for threads in ["1", "2"] {
        let out = sb.run(&[
            "calibrate",
            "s.toml",
            "--benchmarks",
            "figures.csv",
            "--threads",
            threads,
            "--out",
            threads,
            "-q",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // A figure that restates another is not counted twice.
    let summary: serde_json::Value = read_json(&sb.path("1/summary.json"));
    assert_eq!(
        summary["figures_used"],
        serde_json::json!(["nation", "one"])
    );
    assert_eq!(summary["figures_not_used"][0]["id"], "mean");
    assert_eq!(
        summary["figures_not_used"][0]["reason"],
        "restates nation: one observation is counted once"
    );
    let (one, two) = (files(&sb.path("1")), files(&sb.path("2")));
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &one {
        if name != "manifest.json" {
            assert!(
                bytes == &two[name],
                "{name} differs between 1 and 2 threads"
            );
        }
    }
}

/// Calibrates [`SCENARIO`] to a national figure in `dir` of the sandbox.
fn calibrated(sb: &Sandbox, dir: &str) {
    sb.write("icbs.csv", ICBS);
    sb.write(
        "s.toml",
        &SCENARIO.replace("iterations = 20000", "iterations = 4000"),
    );
    sb.write(
        "figures.csv",
        &format!("{HEADER}nation,National cost in a year,6900000,600000,national_total,0\n"),
    );
    let out = sb.run(&[
        "calibrate",
        "s.toml",
        "--benchmarks",
        "figures.csv",
        "--out",
        dir,
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_calibrated_run_draws_its_national_factors_from_the_posterior() {
    use icb_impact::engine;
    use icb_impact::pipeline::{prepare, Config};
    use icb_impact::posterior::Posterior;
    let sb = Sandbox::new();
    calibrated(&sb, "cal");
    let posterior = Posterior::read(&sb.path("cal")).unwrap();
    let (weights, theta) = (&posterior.weights, &posterior.factors[0].1);
    assert_eq!(posterior.factors[0].0, THETA);
    let p = prepare(&Config {
        posterior: Some(sb.path("cal")),
        iterations: Some(20000),
        ..Config::new(sb.path("s.toml"))
    })
    .unwrap();
    let draws = engine::run(&p.model, 20000, &|_| {});
    let values = draws.national_factor(0);
    // Every iteration takes one of the posterior's draws, and costs A × that θ.
    for (it, v) in values.iter().enumerate() {
        let j = theta
            .iter()
            .position(|t| t == v)
            .unwrap_or_else(|| panic!("{it}: {v}"));
        assert!(weights[j] > 0.0, "{it}: a draw of weight 0");
        assert!((draws.national[it] - A * v).abs() <= 1e-6 * A * v);
    }
    // Resampled by weight: the run's mean of θ is the weighted mean, within the standard
    // error of 20,000 draws of the weighted distribution.
    let mean: f64 = theta.iter().zip(weights).map(|(t, w)| t * w).sum();
    let sd = theta
        .iter()
        .zip(weights)
        .map(|(t, w)| w * (t - mean).powi(2))
        .sum::<f64>()
        .sqrt();
    let got = values.iter().sum::<f64>() / values.len() as f64;
    assert!(
        (got - mean).abs() <= 4.0 * sd / (20000f64).sqrt(),
        "{got} vs {mean}"
    );
}

#[test]
fn a_calibrated_run_records_its_posterior_is_reproducible_and_shows_the_prior_beside_it() {
    let sb = Sandbox::new();
    calibrated(&sb, "cal");
    let run = |threads: &str, out: &str| {
        let o = sb.run(&[
            "run",
            "s.toml",
            "--posterior",
            "cal",
            "--threads",
            threads,
            "--out",
            out,
            "-q",
            "--report",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let text = run("1", "one");
    assert!(text.contains("Calibrated:     national factors drawn from the posterior in cal/posterior_draws.parquet"), "{text}");
    run("2", "two");
    let (one, two) = (files(&sb.path("one")), files(&sb.path("two")));
    for (name, bytes) in &one {
        if name != "manifest.json" {
            assert!(
                bytes == &two[name],
                "{name} differs between 1 and 2 threads"
            );
        }
    }
    let summary: serde_json::Value = serde_json::from_slice(&one["summary.json"]).unwrap();
    assert_eq!(
        summary["calibrated"]["posterior"],
        "cal/posterior_draws.parquet"
    );
    // The prior's headline is the uncalibrated run's.
    let plain = sb.run(&["run", "s.toml", "--out", "plain", "-q"]);
    assert!(plain.status.success());
    let prior: serde_json::Value = read_json(&sb.path("plain/summary.json"));
    assert_eq!(
        summary["calibrated"]["prior_national_total_gbp"],
        prior["national_total_gbp"]
    );
    assert_ne!(summary["national_total_gbp"], prior["national_total_gbp"]);
    let manifest: serde_json::Value = serde_json::from_slice(&one["manifest.json"]).unwrap();
    assert_eq!(manifest["posterior"]["path"], "cal/posterior_draws.parquet");
    assert!(one.contains_key("inputs/posterior_draws.parquet"));
    assert!(String::from_utf8_lossy(&one["report.html"]).contains("id=\"calibrated\""));
    // `report DIR` reproduces the calibrated run from the inputs it recorded.
    let before = one["summary.json"].clone();
    let o = sb.run(&["report", "one", "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(sb.path("one/summary.json")).unwrap(), before);
}

#[test]
fn a_posterior_that_cannot_apply_is_refused() {
    let sb = Sandbox::new();
    calibrated(&sb, "cal");
    // Another scenario: its factor has another path.
    sb.write("other.toml", &SCENARIO.replace("theta", "phi"));
    let o = sb.run(&[
        "run",
        "other.toml",
        "--posterior",
        "cal",
        "-q",
        "--out",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("has no draws of actions.a.factors.phi"),
        "{}",
        stderr(&o)
    );
    // A calibration that reported no posterior.
    sb.write(
        "far.csv",
        &format!("{HEADER}far,Far,100000000,1000000,national_total,0\n"),
    );
    let c = sb.run(&[
        "calibrate",
        "s.toml",
        "--benchmarks",
        "far.csv",
        "--out",
        "far",
        "-q",
    ]);
    assert!(c.status.success(), "{}", stderr(&c));
    let o = sb.run(&["run", "s.toml", "--posterior", "far", "-q", "--out", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("this calibration reported no posterior"),
        "{}",
        stderr(&o)
    );
    // Commands that work on the priors.
    for command in ["benchmark", "sensitivity"] {
        let o = sb.run(&[command, "s.toml", "--posterior", "cal", "-q", "--out", "x"]);
        assert_eq!(o.status.code(), Some(2), "{command}");
        assert!(stderr(&o).contains("works on the priors"), "{}", stderr(&o));
    }
    // The scenario's own key, resolved against its folder.
    sb.write(
        "keyed.toml",
        &SCENARIO.replace("seed = 3", "seed = 3\nposterior = \"cal\""),
    );
    let o = sb.run(&["run", "keyed.toml", "-q", "--out", "keyed"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Calibrated:"));
    assert!(!sb.path("x").exists());
}

#[test]
fn the_scenario_may_state_the_discrepancy_a_figure_does_not() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write(
        "figures.csv",
        "id,label,published_gbp,published_sd_gbp,quantity,discrepancy_sd_gbp\n\
         stated,States its own,6900000,600000,national_total,30000\n\
         unstated,States none,7000000,400000,national_total,\n",
    );
    let sd = |share: Option<&str>| {
        let text = SCENARIO.replace("iterations = 20000", "iterations = 500");
        let text = match share {
            Some(v) => text.replace(
                "seed = 3",
                &format!("seed = 3\ncalibration_discrepancy = {v}"),
            ),
            None => text,
        };
        sb.write("s.toml", &text);
        let out = calibrate(&sb, "s.toml", "cal");
        assert!(out.status.success(), "{}", stderr(&out));
        let rows = read_csv(&sb.path("cal/calibration.csv"));
        let j = column(&rows, "sd");
        (
            rows[1][j].parse::<f64>().unwrap(),
            rows[2][j].parse::<f64>().unwrap(),
        )
    };
    let hyp = |a: f64, b: f64| (a * a + b * b).sqrt();
    let pence = |x: f64| (x * 100.0).round() / 100.0;
    // A figure's own discrepancy wins; otherwise the scenario's share, else the default 10%.
    assert_eq!(sd(None), (pence(hyp(6e5, 3e4)), pence(hyp(4e5, 7e5))));
    assert_eq!(sd(Some("0")), (pence(hyp(6e5, 3e4)), 4e5));
    assert_eq!(
        sd(Some("0.5")),
        (pence(hyp(6e5, 3e4)), pence(hyp(4e5, 3.5e6)))
    );
    sb.write(
        "bad.toml",
        &SCENARIO.replace("seed = 3", "seed = 3\ncalibration_discrepancy = -0.1"),
    );
    let out = calibrate(&sb, "bad.toml", "x");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.toml:8: scenario.calibration_discrepancy: must be a share of each figure, 0 or more"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_calibrated_run_counts_the_activity_of_lines_the_calibration_never_saw() {
    // A line that counts only in the economic view, calibrated in ICB cash: its factor enters
    // no figure, so a calibrated run draws it from its prior and still counts its activity.
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    let scenario = format!(
        "{SCENARIO}\n[[actions.a.costs]]\nactivity = \"pharmacy_consultations\"\nunit_cost = \"fee\"\nviews = [\"economic\"]\n\
         driver = \"registered_patients\"\nfactors = {{ visits = {{ dist = \"uniform\", min = 0.1, max = 0.3 }}, fee = 15 }}\n"
    );
    sb.write(
        "s.toml",
        &scenario.replace("iterations = 20000", "iterations = 4000"),
    );
    sb.write(
        "figures.csv",
        &format!("{HEADER}nation,National cost in a year,6900000,600000,national_total,0\n"),
    );
    let out = calibrate(&sb, "s.toml", "cal");
    assert!(out.status.success(), "{}", stderr(&out));
    let o = sb.run(&["run", "s.toml", "--posterior", "cal", "--out", "post", "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_csv(&sb.path("post/activity.csv"));
    let row = rows
        .iter()
        .find(|r| r[0] == "national" && r[1] == "pharmacy_consultations")
        .expect("the economic line's activity");
    let (mean, se): (f64, f64) = (
        row[column(&rows, "mean")].parse().unwrap(),
        row[column(&rows, "mcse_mean")].parse().unwrap(),
    );
    // 3m patients × θ (its posterior) × visits (its prior, mean 0.2): the posterior mean of θ
    // is the conjugate case's.
    // The weighted posterior's own error in θ's mean is the posterior sd over √ESS.
    let (theta, _) = exact(6.9e6, 0.6e6);
    let expected = A * theta * 0.2;
    let ess = read_json(&sb.path("cal/summary.json"))["ess"]
        .as_f64()
        .unwrap();
    let posterior_sd = (1.0 / 0.25 + (A / 0.6e6).powi(2)).recip().sqrt();
    let se = (se.powi(2) + (A * 0.2 * posterior_sd / ess.sqrt()).powi(2)).sqrt();
    assert!(
        (mean - expected).abs() <= 4.0 * se,
        "{mean} against {expected} (se {se})"
    );
}

#[test]
fn the_advice_for_a_latin_hypercube_names_a_value_the_parser_accepts() {
    // calibrate and run --posterior refuse a Latin hypercube and say what to write instead;
    // writing exactly that makes the refusal go.
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    let lhs = SCENARIO
        .replace("iterations = 20000", "iterations = 2000")
        .replace("seed = 3", "seed = 3\nsampling = \"lhs\"");
    sb.write("s.toml", &lhs);
    sb.write(
        "figures.csv",
        &format!("{HEADER}nation,National cost in a year,6900000,600000,national_total,0\n"),
    );
    let out = calibrate(&sb, "s.toml", "cal");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    let advised = message
        .split("use sampling = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no value advised: {message}"));
    sb.write(
        "s.toml",
        &lhs.replace("sampling = \"lhs\"", &format!("sampling = \"{advised}\"")),
    );
    let out = calibrate(&sb, "s.toml", "cal");
    assert!(out.status.success(), "advised {advised}: {}", stderr(&out));
    // The same advice for a calibrated run of a Latin hypercube.
    sb.write("lhs.toml", &lhs);
    let o = sb.run(&[
        "run",
        "lhs.toml",
        "--posterior",
        "cal",
        "--out",
        "post",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("use sampling = \"{advised}\"")),
        "{}",
        stderr(&o)
    );
}
