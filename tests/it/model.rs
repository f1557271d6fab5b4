//! The cost formula checked exactly with known values, and the simulated means checked against
//! analytic expectations within Monte Carlo standard errors.

use icb_impact::engine;
use icb_impact::model::Model;
use icb_impact::month::Month;
use icb_impact::pipeline::{prepare, Config};
use icb_impact::scenario::{CostView, Scope};
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
    let p = prepare(&Config::new(sb.write("exact.toml", EXACT))).unwrap();
    let draws = engine::run(&p.model, 50, &|_| {});
    let s = RunSummary::new(&p.scenario, &p.table, &p.model, &draws);
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
            "prob_above_reference",
            "mcse_mean_gbp",
            "mcse_p05_gbp",
            "mcse_p95_gbp",
            "cost_view"
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
    let p = prepare(&Config::new(sb.write("s.toml", STOCHASTIC))).unwrap();
    let iterations = 40_000;
    let draws = engine::run(&p.model, iterations, &|_| {});
    let s = RunSummary::new(&p.scenario, &p.table, &p.model, &draws);
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
        let p = prepare(&Config::new(sb.write("v.toml", &scenario(vary)))).unwrap();
        let d = engine::run(&p.model, 100, &|_| {});
        let (a, b) = (d.icb(0), d.icb(1));
        assert_eq!(a == b, same, "vary = {vary}");
    }
}

const EXTENSIONS: &str = r#"
[scenario]
name = "extensions"
start = "2024-08"
months = 6
iterations = 20
data = "icbs.csv"

[engagement]
curve = { "2024-07" = 0.4, "2024-10" = 0.7 }
icb = 1.2

[actions.build]
start = "2024-08"
ramp = { shape = "exponential", tau_months = 4 }

[[actions.build.costs]]
driver = "registered_patients"
factors = { rate = 2.0 }

[actions.notice]
engaged = false
notice_months = 2

[[actions.notice.costs]]
factors = { flat = 1200 }

[[actions.notice.costs]]
negative = true
factors = { fee = 300 }

[actions.additional]
engaged = false
factors = { share = { dist = "fixed", value = 0.6, baseline = 0.25 } }

[[actions.additional.costs]]
driver = "gp_practices"
factors = { cost = 100, cash_share = { dist = "fixed", value = 0.5, view = "icb_cash" } }

[[actions.additional.costs]]
views = ["economic"]
factors = { admin = 1000 }
"#;

#[test]
fn each_extension_gives_exactly_its_documented_formula() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let path = sb.write("ext.toml", EXTENSIONS);
    let patients = [1_000_000.0, 250_000.0, 2_000_000.0, 0.0];
    let practices = [100.0, 30.0, 180.0, 0.0];
    let start: Month = "2024-08".parse().unwrap();
    // The engagement curve, linear from 0.4 in July to 0.7 in October, then flat.
    let curve = [0.5, 0.6, 0.7, 0.7, 0.7, 0.7];
    for view in [CostView::IcbCash, CostView::Economic] {
        let config = Config {
            view: Some(view),
            ..Config::new(&path)
        };
        let p = prepare(&config).unwrap();
        let d = engine::run(&p.model, 20, &|_| {});
        let s = RunSummary::new(&p.scenario, &p.table, &p.model, &d);
        for i in 0..4 {
            let (mut build, mut notice) = (0.0, 0.0);
            for (m, share) in curve.iter().enumerate() {
                // Exponential build-up from August: 1 − exp(−k / 4) in the k-th month.
                let w = 1.0 - (-(m as f64 + 1.0) / 4.0).exp();
                build += patients[i] * 2.0 * 1.2 * share * w / 12.0;
                // Two months' notice: nothing in August and September, then a step.
                let step = if m >= 2 { 1.0 } else { 0.0 };
                notice += (1200.0 - 300.0) * step / 12.0;
            }
            // Net of the baseline: 0.6 − 0.25, a factor of the action and so of both its lines;
            // the cash share counts only in the ICB cash view, the admin line only in the
            // economic view.
            let additional = match view {
                CostView::IcbCash => practices[i] * 100.0 * 0.35 * 0.5 * 6.0 / 12.0,
                CostView::Economic => (practices[i] * 100.0 + 1000.0) * 0.35 * 6.0 / 12.0,
            };
            let got: Vec<f64> = s.icb_actions[i * 3..i * 3 + 3]
                .iter()
                .map(|r| r.cost.mean)
                .collect();
            for (g, e) in got.iter().zip([build, notice, additional]) {
                assert!(
                    (g - e).abs() <= 1e-9 * e.abs().max(1.0),
                    "{view:?} ICB {i}: {got:?} vs {build}, {notice}, {additional}"
                );
            }
        }
        assert_eq!(start, p.scenario.start);
    }
}

#[test]
fn a_baseline_is_subtracted_draw_by_draw_and_floored_at_zero() {
    // E[max(0, U − 0.5)] for U uniform on [0, 1] is 1/8; the variance is 1/24 − 1/64.
    let sb = Sandbox::new();
    sb.write("icbs.csv", "icb_code,icb_name\nA,A\n");
    let text = "[scenario]\nname = \"b\"\nstart = \"2024-01\"\nmonths = 12\ndata = \"icbs.csv\"\n\
                [actions.a]\nfactors = { x = { dist = \"uniform\", min = 0, max = 1, baseline = 0.5 } }\n\
                [[actions.a.costs]]\nfactors = { k = 1 }\n";
    let p = prepare(&Config::new(sb.write("b.toml", text))).unwrap();
    let n = 40_000;
    let d = engine::run(&p.model, n, &|_| {});
    let values = d.icb(0);
    let mean = values.iter().sum::<f64>() / n as f64;
    let se = ((1.0 / 24.0 - 1.0 / 64.0) / n as f64).sqrt();
    assert!((mean - 0.125).abs() < 4.0 * se, "{mean} vs 0.125 ± {se}");
    assert!(values.iter().all(|&v| v >= 0.0));
    assert!(
        values.iter().filter(|&&v| v == 0.0).count() > n / 3,
        "about half the draws are floored at 0"
    );
}

#[test]
fn engagement_moves_an_icbs_actions_together() {
    // With the ICB engagement the only uncertainty, two engaged actions of one ICB keep a
    // constant ratio in every iteration, and differ between ICBs.
    let sb = Sandbox::new();
    sb.write("icbs.csv", "icb_code,icb_name,n\nA,A,1\nB,B,1\n");
    let text = "[scenario]\nname = \"e\"\nstart = \"2024-08\"\nmonths = 3\ndata = \"icbs.csv\"\n\
                [engagement]\ncurve = { \"2024-08\" = 0.5 }\nicb = { dist = \"uniform\", min = 0.5, max = 1.5 }\n\
                [actions.x]\n[[actions.x.costs]]\ndriver = \"n\"\nfactors = { r = 3 }\n\
                [actions.y]\n[[actions.y.costs]]\ndriver = \"n\"\nfactors = { r = 5 }\n";
    let p = prepare(&Config::new(sb.write("e.toml", text))).unwrap();
    let d = engine::run(&p.model, 200, &|_| {});
    for i in 0..2 {
        let (x, y) = (d.icb_action(i, 0), d.icb_action(i, 1));
        assert!(x
            .iter()
            .zip(&y)
            .all(|(a, b)| (b / a - 5.0 / 3.0).abs() < 1e-12));
    }
    assert_ne!(d.icb_action(0, 0), d.icb_action(1, 0));
}

#[test]
fn a_recovery_adds_exactly_the_faded_weight_after_the_end_also_within_a_later_period() {
    // The `early` action of EXACT ends in 2024-12 at full effect (its 4-month ramp is done);
    // the horizon runs to 2025-02, so two months of recovery fall inside it.
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let recovering = EXACT.replace(
        "end = \"2024-12\"\n",
        "end = \"2024-12\"\nrecovery = { \"1\" = 0.8, \"4\" = 0.2 }\n",
    );
    let run = |name: &str, text: &str, period: Option<(&str, &str)>| {
        let p = prepare(&Config::new(sb.write(name, text))).unwrap();
        let scenario = match period {
            None => p.scenario.clone(),
            Some((first, last)) => p
                .scenario
                .within(&Scope {
                    period: Some((first.parse().unwrap(), last.parse().unwrap())),
                    ..Scope::default()
                })
                .unwrap(),
        };
        let model = Model::new(&scenario, &p.table).unwrap();
        let d = engine::run(&model, 10, &|_| {});
        (0..4).map(|i| d.icb_action(i, 0)[0]).collect::<Vec<f64>>()
    };
    let patients = [1_000_000.0, 250_000.0, 2_000_000.0, 0.0];
    // r(1) = 0.8; r(2) = 0.8 + (0.2 − 0.8) × 1/3, a third of the way from month 1 to month 4.
    let tail = 0.8 + (0.8 + (0.2 - 0.8) * 1.0 / 3.0);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    let (without, with) = (run("a.toml", EXACT, None), run("b.toml", &recovering, None));
    // A run restricted to the two months after the end (as a benchmark's period would be)
    // counts the tail and nothing else of the action; without a recovery, nothing.
    let later = run("c.toml", &recovering, Some(("2025-01", "2025-02")));
    let idle = run("d.toml", EXACT, Some(("2025-01", "2025-02")));
    for i in 0..4 {
        let annual = patients[i] * 0.4 * 2.5 * 0.55 + 0.4 * 120_000.0;
        // w(end) = 1, so the two months after the end add annual × (r(1) + r(2)) / 12.
        let added = annual * 1.0 * tail / 12.0;
        assert!(
            close(with[i] - without[i], added),
            "ICB {i}: {} vs {added}",
            with[i] - without[i]
        );
        assert!(close(later[i], added), "ICB {i}: {} vs {added}", later[i]);
        assert_eq!(idle[i], 0.0);
    }
}

#[test]
fn through_a_recovery_the_engagement_curve_is_held_at_the_end_month() {
    // Curve 0.5, 0.6, 0.7, 0.8 from August; the action ends in September and half its effect
    // remains in October, none in November. A rate of 12 a year makes each month's cost its
    // weight × the curve.
    let sb = Sandbox::new();
    sb.write("icbs.csv", "icb_code,icb_name\nA,A\n");
    let text = "[scenario]\nname = \"e\"\nstart = \"2024-08\"\nmonths = 4\ndata = \"icbs.csv\"\n\
                [engagement]\ncurve = { \"2024-08\" = 0.5, \"2024-11\" = 0.8 }\nicb = 1\n\
                [actions.x]\nend = \"2024-09\"\nrecovery = { \"2\" = 0 }\n\
                [[actions.x.costs]]\nfactors = { r = 12 }\n";
    let p = prepare(&Config::new(sb.write("e.toml", text))).unwrap();
    let d = engine::run(&p.model, 5, &|_| {});
    // October: 0.5 of September's effect at September's 0.6, not October's 0.7.
    let expected = 0.5 + 0.6 + 0.6 * 0.5;
    let got = d.icb(0)[0];
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
}
