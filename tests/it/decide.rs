//! `decide`: options against the scenario as it stands on common random numbers, checked on a
//! case with a known answer (expected costs exact, the probability best, the EVPI and EVPPI
//! against their closed forms within their standard errors), an option that changes nothing
//! saving exactly nothing, byte-identical outputs across thread counts, the briefing's and the
//! one-pager's sections, and bad options refused with exit 2 and nothing written.

use crate::{files, read_csv, read_json, shipped, stderr, stdout, Sandbox, TINY_ICBS};

/// Six months of action `a`: each patient costs θ / 2 over the six months, θ ~ U(0, 24) a
/// year, drawn once nationally. Action `b` costs φ ~ U(0, 1) a patient a year whatever the
/// option: no option changes it, so learning it is worth nothing.
///
/// Option `fixed` sets θ = 6 and pays £2 a patient a year for the six months: £4 a patient,
/// every iteration. Against `none` (θ / 2 a patient) it is the cheaper when θ > 8, so
/// P(best) = 2/3; expected saving 6 − 4 = £2 a patient; the option is best by expectation and
/// EVPI = E[max(0, 4 − θ / 2)] = ∫₀⁴ (4 − u) du / 12 = 2/3 a patient, all of it from θ
/// (EVPPI(θ) = EVPI, EVPPI(φ) = 0).
const SCENARIO: &str = r#"[scenario]
name = "decision"
start = "2024-08"
months = 6
iterations = 20000
seed = 11
data = "icbs.csv"

[actions.a]
start = "2024-08"

[[actions.a.costs]]
driver = "registered_patients"
factors = { theta = { dist = "uniform", min = 0, max = 24 } }

[actions.b]
start = "2024-08"

[[actions.b.costs]]
driver = "registered_patients"
factors = { phi = { dist = "uniform", min = 0, max = 1 } }

[[options]]
id = "fixed"
label = "Fix theta and pay for it"
set = { "actions.a.costs[0].factors.theta" = 6 }

[[options.costs]]
label = "Payment"
driver = "registered_patients"
factors = { gbp_per_patient_per_year = 2 }
OTHER
"#;

/// An option that sets θ to the distribution it already has, on its own stream: nothing
/// changes in any iteration.
const SAME: &str = r#"
[[options]]
id = "same"
set = { "actions.a.costs[0].factors.theta" = { dist = "uniform", min = 0, max = 24 } }
"#;

const THETA: &str = "actions.a.costs[0].factors.theta";
const PHI: &str = "actions.b.costs[0].factors.phi";

fn number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

/// The rows of `table` whose `key` columns hold `values`, as maps of column to cell.
fn row(rows: &[Vec<String>], keys: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    let found: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| {
            keys.iter()
                .all(|(k, v)| r[crate::column_index(rows, k)] == *v)
        })
        .collect();
    assert_eq!(found.len(), 1, "{keys:?}");
    rows[0]
        .iter()
        .cloned()
        .zip(found[0].iter().cloned())
        .collect()
}

fn decided(sb: &Sandbox, other: &str, out: &str) -> std::process::Output {
    sb.write("icbs.csv", TINY_ICBS);
    sb.write("s.toml", &SCENARIO.replace("OTHER", other));
    sb.run(&["decide", "s.toml", "--out", out, "-q"])
}

#[test]
fn expected_costs_probability_best_evpi_and_evppi_on_a_known_case() {
    let sb = Sandbox::new();
    let o = decided(&sb, "", "d");
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_csv(&sb.path("d/decision.csv"));
    let n: f64 = 20000.0;
    for (scope, patients) in [("national", 3.25e6), ("AAA", 1e6), ("CCC", 2e6)] {
        let fixed = row(&rows, &[("option", "fixed"), ("scope", scope)]);
        let none = row(&rows, &[("option", "none"), ("scope", scope)]);
        // `b`'s cost is in both; the option's cost less `none`'s is exact draw by draw, so
        // the saving's expectation is 2 a patient within its own standard error.
        let saving = number(&fixed["saving_vs_none_gbp"]);
        let se = number(&fixed["mcse_saving_gbp"]);
        assert!(se > 0.0);
        assert!(
            (saving - 2.0 * patients).abs() < 4.0 * se,
            "{scope}: saving {saving} ± {se}"
        );
        // The saving's standard error is θ/2's: 12/√12 a patient over √n.
        let exact_se = patients * 12.0 / 12f64.sqrt() / n.sqrt();
        assert!(
            (se / exact_se - 1.0).abs() < 0.05,
            "{scope}: {se} vs {exact_se}"
        );
        let mean_none = number(&none["mean_gbp"]);
        let mean_fixed = number(&fixed["mean_gbp"]);
        assert!(
            ((mean_none - mean_fixed) - saving).abs() < 1e-6 * patients,
            "{scope}"
        );
        // P(best): the share of draws with θ > 8, binomial about 2/3.
        let p = number(&fixed["prob_best"]);
        let p_se = (2.0 / 9.0 / n).sqrt();
        assert!((p - 2.0 / 3.0).abs() < 4.0 * p_se, "{scope}: P(best) {p}");
        assert_eq!(number(&none["prob_best"]) + p, 1.0, "{scope}");
        assert_eq!(fixed["best"], "true");
        assert_eq!(none["best"], "false");
    }
    let evppi = read_csv(&sb.path("d/evppi.csv"));
    let summary = read_json(&sb.path("d/summary.json"));
    assert_eq!(summary["best"], "fixed");
    for (scope, patients) in [("national", 3.25e6), ("AAA", 1e6)] {
        let evpi_row = row(&evppi, &[("factor", THETA), ("scope", scope)]);
        let evpi = number(&evpi_row["evpi_gbp"]);
        let exact = 2.0 / 3.0 * patients;
        // EVPI's standard error: sd of max(0, 4 − u) a patient, u ~ U(0, 12), over √n.
        let second = 64.0 / 36.0; // E[max(0, 4 − u)²] = ∫₀⁴ (4 − u)² du / 12
        let sd = (second - (2.0f64 / 3.0).powi(2)).sqrt() * patients;
        assert!(
            (evpi - exact).abs() < 4.0 * sd / n.sqrt(),
            "{scope}: EVPI {evpi} against {exact}"
        );
        let theta = number(&evpi_row["evppi_gbp"]);
        let theta_se = number(&evpi_row["se_gbp"]);
        assert!(theta_se > 0.0);
        assert!(
            (theta - exact).abs() < 4.0 * theta_se,
            "{scope}: EVPPI(θ) {theta} ± {theta_se} against {exact}"
        );
        let phi_row = row(&evppi, &[("factor", PHI), ("scope", scope)]);
        let (phi, phi_se) = (number(&phi_row["evppi_gbp"]), number(&phi_row["se_gbp"]));
        assert!(
            phi < 4.0 * phi_se + 1e-9 * patients,
            "{scope}: EVPPI(φ) {phi} ± {phi_se} against 0"
        );
    }
    let national = &summary["national"];
    assert_eq!(national["best"], "fixed");
    assert_eq!(
        summary["evpi_gbp"], national["evpi_gbp"],
        "the headline EVPI is the nation's"
    );
    assert_eq!(summary["icbs"].as_array().unwrap().len(), 4);
    // DDD has no patients: both options cost nothing, tie in every draw, and none (the first
    // of equals) is kept.
    let ddd = &summary["icbs"][3];
    assert_eq!(ddd["scope"], "DDD");
    assert_eq!(ddd["best"], "none");
    assert_eq!(ddd["evpi_gbp"], 0.0);
    let tie = row(&rows, &[("option", "fixed"), ("scope", "DDD")]);
    assert_eq!(number(&tie["prob_best"]), 0.5);
    for chart in ["decision_costs", "decision_prob_best", "decision_evppi"] {
        assert!(
            sb.path(&format!("d/charts/{chart}.svg")).is_file(),
            "{chart}"
        );
    }
    let m = read_json(&sb.path("d/manifest.json"));
    assert_eq!(m["decide"], true);
    let text = stdout(&o);
    assert!(text.contains("* fixed"), "{text}");
}

#[test]
fn an_option_that_changes_nothing_saves_exactly_nothing_in_every_draw() {
    let sb = Sandbox::new();
    let o = decided(&sb, SAME, "d");
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_csv(&sb.path("d/decision.csv"));
    for scope in ["national", "AAA", "BBB", "CCC", "DDD"] {
        let same = row(&rows, &[("option", "same"), ("scope", scope)]);
        let none = row(&rows, &[("option", "none"), ("scope", scope)]);
        // A zero mean and a zero standard error: every draw's saving is exactly zero.
        assert_eq!(same["saving_vs_none_gbp"], "0.0", "{scope}");
        assert_eq!(same["mcse_saving_gbp"], "0.0", "{scope}");
        for column in ["mean_gbp", "p05_gbp", "p95_gbp", "mcse_mean_gbp"] {
            assert_eq!(same[column], none[column], "{scope}: {column}");
        }
        // Tied in every draw with none (and so with each other when fixed is not cheaper).
        assert_eq!(
            number(&same["prob_best"]),
            number(&none["prob_best"]),
            "{scope}"
        );
    }
}

#[test]
fn an_option_of_one_icb_is_open_there_alone_and_leaves_the_others_unchanged() {
    let sb = Sandbox::new();
    let one = r#"
[[options]]
id = "aaa_only"
icb = "AAA"
set = { "actions.a.costs[0].factors.theta" = 6 }
"#;
    let o = decided(&sb, one, "d");
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_csv(&sb.path("d/decision.csv"));
    let options_in = |scope: &str| -> Vec<String> {
        let j = crate::column_index(&rows, "option");
        let s = crate::column_index(&rows, "scope");
        rows[1..]
            .iter()
            .filter(|r| r[s] == scope)
            .map(|r| r[j].clone())
            .collect()
    };
    assert_eq!(options_in("AAA"), ["none", "fixed", "aaa_only"]);
    assert_eq!(options_in("BBB"), ["none", "fixed"]);
    assert_eq!(options_in("national"), ["none", "fixed", "aaa_only"]);
    // AAA's θ fixed at 6 saves (θ − 6) / 2 a patient of its 1m: £3m in expectation; the
    // nation saves exactly what AAA saves, the other ICBs' draws being unchanged.
    let aaa = row(&rows, &[("option", "aaa_only"), ("scope", "AAA")]);
    let national = row(&rows, &[("option", "aaa_only"), ("scope", "national")]);
    let (s, se) = (
        number(&aaa["saving_vs_none_gbp"]),
        number(&aaa["mcse_saving_gbp"]),
    );
    assert!((s - 3e6).abs() < 4.0 * se, "{s} ± {se}");
    assert!(
        (number(&national["saving_vs_none_gbp"]) - s).abs() < 1e-6 * 1e6,
        "the nation saves what AAA saves"
    );
}

#[test]
fn decide_is_byte_identical_whatever_the_thread_count() {
    let sb = Sandbox::new();
    let scenario = shipped("medicines-optimisation-2024.toml");
    let scenario = scenario.to_str().unwrap();
    let args = |out: &'static str| {
        vec![
            "decide",
            scenario,
            "--iterations",
            "3000",
            "--png",
            "--out",
            out,
            "-q",
        ]
    };
    let one = sb.run_env(&args("one"), &[("RAYON_NUM_THREADS", "1")]);
    let two = sb.run_env(&args("two"), &[("RAYON_NUM_THREADS", "2")]);
    let three = sb.run(&[args("three"), vec!["--threads", "3"]].concat());
    for o in [&one, &two, &three] {
        assert!(o.status.success(), "{}", stderr(o));
    }
    let (a, b, c) = (
        files(&sb.path("one")),
        files(&sb.path("two")),
        files(&sb.path("three")),
    );
    assert_eq!(
        a.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "charts/decision_costs.png",
            "charts/decision_costs.svg",
            "charts/decision_evppi.png",
            "charts/decision_evppi.svg",
            "charts/decision_prob_best.png",
            "charts/decision_prob_best.svg",
            "decision.csv",
            "evppi.csv",
            "inputs/icbs.csv",
            "inputs/scenario.toml",
            "manifest.json",
            "summary.json",
        ]
    );
    let without = |bytes: &[u8]| {
        let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        let m = v.as_object_mut().unwrap();
        assert!(m.remove("threads").is_some() && m.remove("wall_time_seconds").is_some());
        v
    };
    for (name, bytes) in &a {
        if name == "manifest.json" {
            assert_eq!(without(bytes), without(&b[name]));
            assert_eq!(without(bytes), without(&c[name]));
        } else {
            assert!(
                bytes == &b[name] && bytes == &c[name],
                "{name} differs between thread counts"
            );
        }
    }
}

#[test]
fn the_briefing_and_a_one_pager_have_a_decision_section() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write(
        "s.toml",
        &SCENARIO
            .replace("OTHER", "")
            .replace("iterations = 20000", "iterations = 2000"),
    );
    let o = sb.run(&["run", "s.toml", "--decide", "--report", "--out", "r", "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(sb.path("r/report.html")).unwrap();
    for id in [
        "id=\"decision\"",
        "id=\"decision-table\"",
        "id=\"chart-decision_costs\"",
        "id=\"chart-decision_prob_best\"",
        "id=\"chart-decision_evppi\"",
        "id=\"decision-icb-table\"",
    ] {
        assert!(html.contains(id), "{id}");
    }
    assert!(html.contains("Fix theta and pay for it"));
    // The run's decision is decide's: the same seed and iterations, the same draws.
    let d = sb.run(&["decide", "s.toml", "--out", "d", "-q"]);
    assert!(d.status.success(), "{}", stderr(&d));
    assert_eq!(
        std::fs::read(sb.path("r/decision.csv")).unwrap(),
        std::fs::read(sb.path("d/decision.csv")).unwrap()
    );
    assert_eq!(
        std::fs::read(sb.path("r/evppi.csv")).unwrap(),
        std::fs::read(sb.path("d/evppi.csv")).unwrap()
    );
    assert_eq!(read_json(&sb.path("r/manifest.json"))["decide"], true);
    let o = sb.run(&["report", "r", "--icb", "AAA", "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(sb.path("r/icb-AAA.html")).unwrap();
    assert!(page.contains("id=\"decision\""));
    assert!(page.contains("id=\"decision-verdict\""));
    // `report DIR` decides again: the briefing keeps its section.
    std::fs::remove_file(sb.path("r/report.html")).unwrap();
    let o = sb.run(&["report", "r", "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = std::fs::read_to_string(sb.path("r/report.html")).unwrap();
    assert!(again.contains("id=\"decision-table\""));
}

#[test]
fn validate_lists_the_options_and_the_shipped_examples_decide() {
    let sb = Sandbox::new();
    for name in ["medicines-optimisation-2024.toml", "escalation-2026.toml"] {
        let s = shipped(name);
        let o = sb.run(&["validate", s.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains("Option keep_software_les"), "{name}: {text}");
        assert!(text.contains("Factor group software_savings"), "{name}");
        let o = sb.run(&[
            "decide",
            s.to_str().unwrap(),
            "--iterations",
            "1000",
            "--out",
            "d",
            "-q",
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let summary = read_json(&sb.path("d/summary.json"));
        let options = summary["options"].as_array().unwrap();
        assert_eq!(options[0]["id"], "none");
        assert!(options.len() >= 2, "{name}");
        // Every ICB of the scenario's footprint has its own best option and EVPI.
        let icbs = summary["icbs"].as_array().unwrap().len();
        assert_eq!(
            icbs,
            if name.starts_with("escalation") {
                36
            } else {
                42
            }
        );
    }
    // Decide without options is bad input.
    let s = shipped("collective-action-2024.toml");
    let o = sb.run(&["decide", s.to_str().unwrap(), "--out", "none", "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("options: decide compares the scenario's options, and it has none"));
    assert!(!sb.path("none").exists());
}

/// `decide` on the scenario with `from` replaced by `to`: exit 2, nothing written, and the
/// message.
fn refused(from: &str, to: &str) -> String {
    let sb = Sandbox::new();
    assert!(SCENARIO.contains(from), "{from}");
    sb.write("icbs.csv", TINY_ICBS);
    sb.write(
        "s.toml",
        &SCENARIO.replacen(from, to, 1).replace("OTHER", ""),
    );
    let o = sb.run(&[
        "decide",
        "s.toml",
        "--out",
        "results/d",
        "--iterations",
        "50",
    ]);
    assert_eq!(o.status.code(), Some(2), "{to}: {}", stderr(&o));
    assert!(!sb.path("results").exists(), "{to}: output written");
    stderr(&o)
}

#[test]
fn bad_options_are_refused_with_line_and_field_and_nothing_written() {
    let set = r#"set = { "actions.a.costs[0].factors.theta" = 6 }"#;
    for (to, expected) in [
        (
            r#"set = { "actions.a.factors.nope" = 6 }"#,
            "s.toml:26: options[0].set.\"actions.a.factors.nope\": 'actions.a.factors.nope' is not a factor of this scenario",
        ),
        (
            r#"set = { "actions.a.costs[0].factors.theta" = "lots" }"#,
            "s.toml:26: options[0].set.\"actions.a.costs[0].factors.theta\"",
        ),
        (
            r#"set = { "actions.a.costs[0].factors.theta" = { dist = "uniform", min = 3, max = 1 } }"#,
            "s.toml:26: options[0].set.\"actions.a.costs[0].factors.theta\"",
        ),
        (
            "set = { \"actions.a.costs[0].factors.theta\" = 6 }\ncolour = \"red\"",
            "s.toml:27: options[0].colour: unknown key 'colour'",
        ),
        (
            "set = { \"actions.a.costs[0].factors.theta\" = 6 }\nicb = \"ZZZ\"",
            "options[0].icb: unknown ICB code 'ZZZ'",
        ),
    ] {
        let err = refused(set, to);
        assert!(err.contains(expected), "{to}\nexpected: {expected}\ngot: {err}");
    }
    for (from, to, expected) in [
        (
            "id = \"fixed\"",
            "id = \"none\"",
            "s.toml:24: options[0].id: 'none' is the scenario as it stands",
        ),
        (
            "id = \"fixed\"",
            "id = \"Fixed Theta\"",
            "s.toml:24: options[0].id: 'Fixed Theta' is not an id",
        ),
        (
            "factors = { gbp_per_patient_per_year = 2 }",
            "factors = { gbp_per_patient_per_year = 2 }\ncolour = 1",
            "options.fixed.costs[0].colour: unknown key 'colour'",
        ),
        (
            "driver = \"registered_patients\"\nfactors = { gbp_per_patient_per_year = 2 }",
            "driver = \"no_such_column\"\nfactors = { gbp_per_patient_per_year = 2 }",
            "no_such_column",
        ),
    ] {
        let err = refused(from, to);
        assert!(
            err.contains(expected),
            "{to}\nexpected: {expected}\ngot: {err}"
        );
    }
    let group = "\n[[factor_groups]]\nid = \"g\"\nfactors = [\"actions.a.costs[0].factors.theta\", \"actions.a.factors.nope\"]\n";
    let err = refused("OTHER", group);
    assert!(
        err.contains("factor_groups[0].factors: 'actions.a.factors.nope' is not an uncertain national factor"),
        "{err}"
    );
}

#[test]
fn the_readme_example_is_exactly_what_decide_prints() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("```text\nGP collective action 2026: monthly escalation, ICB cash: 2026-05 to 2027-04 (12 months), ICB cash, 10000 iterations, seed 20240801; every option")
        .expect("the README's decide output")
        + "```text\n".len();
    let example = &readme[start..start + readme[start..].find("```").unwrap()];
    // From the repository's root: the scenario by its relative path (its footprint beside
    // it in data/), results under output/.
    let sb = Sandbox::new();
    std::fs::create_dir(sb.path("scenarios")).unwrap();
    std::fs::create_dir(sb.path("data")).unwrap();
    std::fs::copy(
        shipped("escalation-2026.toml"),
        sb.path("scenarios/escalation-2026.toml"),
    )
    .unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/footprint-2026.csv"),
        sb.path("data/footprint-2026.csv"),
    )
    .unwrap();
    let out = sb.run(&["decide", "scenarios/escalation-2026.toml", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), example);
    assert!(sb
        .path("output/escalation-2026-decide/decision.csv")
        .is_file());
}
