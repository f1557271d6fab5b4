//! An ICB's own inputs (`[[overrides]]` and `run --set`): the overridden ICB's costs follow its
//! own values exactly, every other ICB's draws are bit-equal to the run without them, `--set`
//! equals the file's entry and `report DIR` reproduces it, and bad entries are refused.

use icb_impact::dist::{Dist, Spec};
use icb_impact::engine::{self, Draws};
use icb_impact::pipeline::{prepare, Config, Prepared};
use icb_impact::rng;
use icb_impact::sensitivity::{expected_monthly, ExpectedCost};

use crate::{assert_same_bits, files, stderr, Sandbox, TINY_ICBS};

const SCENARIO: &str = r#"[scenario]
name = "own inputs"
start = "2024-08"
months = 6
iterations = 2000
seed = 11
data = "icbs.csv"

[actions.switch]
start = "2024-08"
ramp_months = 2
factors = { uptake = { dist = "pert", min = 0.2, mode = 0.4, max = 0.7 }, spread = { dist = "uniform", min = 0.5, max = 1.5, vary = "icb" } }

[[actions.switch.costs]]
driver = "registered_patients"
factors = { per_patient = { dist = "uniform", min = 1, max = 3 } }

[[actions.switch.costs]]
factors = { flat = 100000 }

[actions.other]
start = "2024-09"
factors = { share = { dist = "pert", min = 0.1, mode = 0.3, max = 0.5 } }

[[actions.other.costs]]
driver = "gp_practices"
factors = { per_practice = 1000, level = { dist = "uniform", min = 0.8, max = 1.2, vary = "icb" } }
"#;

const UPTAKE: &str = "actions.switch.factors.uptake";
const SPREAD: &str = "actions.switch.factors.spread";
const ITERATIONS: usize = 2000;

/// The scenario with `overrides` appended, prepared and run keeping every iteration.
fn run_with(sb: &Sandbox, name: &str, overrides: &str) -> (Prepared, Draws) {
    let path = sb.write(name, &format!("{SCENARIO}\n{overrides}"));
    let p = prepare(&Config::new(path)).unwrap();
    let draws = engine::run(&p.model, ITERATIONS, &|_| {});
    (p, draws)
}

/// Every ICB but `own` has bit-equal totals and action totals; the national total moves by
/// exactly the own ICB's change (to rounding).
fn others_unchanged(base: &Draws, with: &Draws, own: usize) {
    for i in (0..4).filter(|&i| i != own) {
        assert_same_bits(&base.icb(i), &with.icb(i), &format!("ICB {i}"));
        for a in 0..2 {
            assert_same_bits(
                &base.icb_action(i, a),
                &with.icb_action(i, a),
                &format!("ICB {i}, action {a}"),
            );
        }
    }
    // The other action of the overridden ICB is untouched too.
    assert_same_bits(&base.icb_action(own, 1), &with.icb_action(own, 1), "other");
    let (b, w) = (base.icb(own), with.icb(own));
    for (it, (nb, nw)) in base.national.iter().zip(&with.national).enumerate() {
        let expected = nb - b[it] + w[it];
        assert!((nw - expected).abs() <= 1e-9 * expected.abs(), "{it}");
    }
}

/// The overridden ICB's own value of a factor in each iteration, read from its costs: the
/// action's cost with the override over the cost without, times the value the ICB drew
/// without it.
fn own_values(base: &Draws, with: &Draws, own: usize, drawn: &[f64]) -> Vec<f64> {
    let (b, w) = (base.icb_action(own, 0), with.icb_action(own, 0));
    (0..ITERATIONS)
        .map(|it| w[it] / b[it] * drawn[it])
        .collect()
}

fn close(got: f64, expected: f64) -> bool {
    (got - expected).abs() <= 1e-9 * expected.abs()
}

/// Mean within 4 standard errors of `mean`.
fn mean_within_4_se(values: &[f64], mean: f64, what: &str) {
    let n = values.len() as f64;
    let m = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let se = (var / n).sqrt();
    assert!(
        (m - mean).abs() <= 4.0 * se,
        "{what}: mean {m}, expected {mean} (se {se})"
    );
}

/// The draw the engine makes for `icb` from a stream keyed by it and the factor's path.
fn keyed(dist: &Dist, seed: u64, it: usize, icb: &str, path: &str) -> f64 {
    dist.sample(&mut rng::stream(
        seed,
        it as u64,
        rng::key(icb),
        rng::key(path),
    ))
}

#[test]
fn a_national_factor_overridden_for_one_icb_changes_only_that_icbs_costs() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let (p, base) = run_with(&sb, "base.toml", "");
    let uptake = p
        .model
        .national
        .iter()
        .position(|s| s.path == UPTAKE)
        .unwrap();
    let national = base.national_factor(uptake);
    // A fixed value: BBB's cost is the run's, scaled by 0.65 / the national draw.
    let fixed = "[[overrides]]\nicb = \"BBB\"\nfactor = \"actions.switch.factors.uptake\"\nvalue = 0.65\nsource = \"LMC survey\"\n";
    let (q, with) = run_with(&sb, "fixed.toml", fixed);
    assert_eq!(q.scenario.overrides.len(), 1);
    others_unchanged(&base, &with, 1);
    let (b, w) = (base.icb_action(1, 0), with.icb_action(1, 0));
    for it in 0..ITERATIONS {
        assert!(close(w[it], b[it] * 0.65 / national[it]), "{it}");
    }
    // The national draws the engine keeps are the nation's, not BBB's.
    assert_same_bits(&national, &with.national_factor(uptake), "national uptake");
    // A distribution: BBB draws it from its own stream, with its analytic mean.
    let dist = "[[overrides]]\nicb = \"BBB\"\nfactor = \"actions.switch.factors.uptake\"\nvalue = { dist = \"beta\", alpha = 2, beta = 5 }\n";
    let (_, with) = run_with(&sb, "dist.toml", dist);
    others_unchanged(&base, &with, 1);
    let beta = Dist::new(Spec::Beta {
        alpha: 2.0,
        beta: 5.0,
    })
    .unwrap();
    let own = own_values(&base, &with, 1, &national);
    for (it, &value) in own.iter().enumerate() {
        assert!(close(value, keyed(&beta, 11, it, "BBB", UPTAKE)), "{it}");
    }
    mean_within_4_se(&own, 2.0 / 7.0, "BBB's uptake");
}

#[test]
fn an_icb_level_factor_overridden_for_one_icb_changes_only_that_icbs_costs() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let (_, base) = run_with(&sb, "base.toml", "");
    let spread = Dist::new(Spec::Uniform { min: 0.5, max: 1.5 }).unwrap();
    let drawn: Vec<f64> = (0..ITERATIONS)
        .map(|it| keyed(&spread, 11, it, "CCC", SPREAD))
        .collect();
    let fixed =
        "[[overrides]]\nicb = \"CCC\"\nfactor = \"actions.switch.factors.spread\"\nvalue = 1.2\n";
    let (_, with) = run_with(&sb, "fixed.toml", fixed);
    others_unchanged(&base, &with, 2);
    let (b, w) = (base.icb_action(2, 0), with.icb_action(2, 0));
    for it in 0..ITERATIONS {
        assert!(close(w[it], b[it] * 1.2 / drawn[it]), "{it}");
    }
    let dist = "[[overrides]]\nicb = \"ccc\"\nfactor = \"actions.switch.factors.spread\"\nvalue = { dist = \"normal\", mean = 2, sd = 0.1 }\n";
    let (_, with) = run_with(&sb, "dist.toml", dist);
    others_unchanged(&base, &with, 2);
    let normal = Dist::new(Spec::Normal { mean: 2.0, sd: 0.1 }).unwrap();
    let own = own_values(&base, &with, 2, &drawn);
    for (it, &value) in own.iter().enumerate() {
        assert!(close(value, keyed(&normal, 11, it, "CCC", SPREAD)), "{it}");
    }
    mean_within_4_se(&own, 2.0, "CCC's spread");
}

#[test]
fn set_gives_the_same_outputs_as_the_files_entry_and_report_reproduces_it() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write("s.toml", SCENARIO);
    sb.write(
        "own.toml",
        &format!("{SCENARIO}\n[[overrides]]\nicb = \"BBB\"\nfactor = \"{UPTAKE}\"\nvalue = 0.65\n"),
    );
    let run = |args: &[&str]| {
        let out = sb.run(&[&["run", "--iterations", "3000", "-q"], args].concat());
        assert!(out.status.success(), "{}", stderr(&out));
    };
    run(&["own.toml", "--out", "file"]);
    run(&[
        "s.toml",
        "--set",
        &format!("BBB:{UPTAKE}=0.65"),
        "--out",
        "set",
    ]);
    run(&["s.toml", "--out", "none"]);
    let csvs = |dir: &str| {
        files(&sb.path(dir))
            .into_iter()
            .filter(|(name, _)| name.ends_with(".csv") && !name.starts_with("inputs"))
            .collect::<Vec<_>>()
    };
    let (file, set) = (csvs("file"), csvs("set"));
    assert!(
        file.len() >= 4,
        "{:?}",
        file.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(file, set);
    assert_ne!(file, csvs("none"));
    let manifest = std::fs::read_to_string(sb.path("set/manifest.json")).unwrap();
    assert!(manifest.contains("\"set\""), "{manifest}");
    assert!(!std::fs::read_to_string(sb.path("none/manifest.json"))
        .unwrap()
        .contains("\"set\""));
    // report DIR runs the recorded scenario again with the recorded --set.
    let out = sb.run(&["report", "set", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(csvs("set"), set);
    let html = std::fs::read_to_string(sb.path("set/report.html")).unwrap();
    assert!(
        html.contains("<tr class=\"own-input\"><td>switch</td><td><code>uptake</code></td><td>fixed at 0.65</td><td>BBB only (its own input)</td>"),
        "no row for the override in the report's assumptions"
    );
    // BBB's one-pager lists its own value among its inputs.
    let out = sb.run(&["report", "set", "--icb", "bbb", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(sb.path("set/icb-BBB.html")).unwrap();
    assert!(
        page.contains(&format!("<tr class=\"own-input\"><th>Its own <code>{UPTAKE}</code></th><td>fixed at 0.65 (source: --set BBB:{UPTAKE}=0.65)</td></tr>")),
        "no own input on the one-pager"
    );
    // validate lists the file's overrides.
    let out = sb.run(&["validate", "own.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        crate::stdout(&out).contains(&format!(
            "  BBB: {UPTAKE}: fixed at 0.65; mean 0.650000\n    source: not given"
        )),
        "{}",
        crate::stdout(&out)
    );
}

/// Runs `args` in a sandbox holding `text` as s.toml, expecting bad input with nothing written.
fn refused(text: &str, args: &[&str]) -> String {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write("s.toml", text);
    let out = sb.run(
        &[
            &[
                "run",
                "s.toml",
                "--iterations",
                "10",
                "--out",
                "results/run",
            ],
            args,
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!sb.path("results").exists(), "output written");
    stderr(&out)
}

#[test]
fn bad_overrides_are_refused_together_with_file_line_and_field() {
    let bad = format!(
        "{SCENARIO}
[[overrides]]
icb = \"BBB\"
factor = \"actions.switch.factors.uptak\"
value = 0.5

[[overrides]]
icb = \"BBB\"
factor = \"{UPTAKE}\"
value = {{ dist = \"pert\", min = 0.7, mode = 0.4, max = 0.2 }}

[[overrides]]
icb = \"CCC\"
factor = \"{UPTAKE}\"
value = 0.5

[[overrides]]
icb = \"CCC\"
factor = \"{UPTAKE}\"
value = 0.6
wrong = 1
"
    );
    let line = |needle: &str, nth: usize| {
        bad.lines()
            .enumerate()
            .filter(|(_, l)| l.contains(needle))
            .nth(nth)
            .unwrap()
            .0
            + 1
    };
    let err = refused(&bad, &[]);
    for expected in [
        format!(
            "s.toml:{}: overrides[0].factor: 'actions.switch.factors.uptak' is not a factor of this scenario",
            line("uptak\"", 0)
        ),
        format!(
            "s.toml:{}: overrides[1].value: min 0.7 must be less than max 0.2",
            line("min = 0.7", 0)
        ),
        format!("s.toml:{}: overrides[3].wrong: unknown key 'wrong'", line("wrong", 0)),
        format!(
            "s.toml:{}: overrides[3]: CCC already has its own value of {UPTAKE}",
            line("icb = \"CCC\"", 1)
        ),
    ] {
        assert!(err.contains(&expected), "expected: {expected}\ngot: {err}");
    }
    // The ICB is checked against the table once the scenario is valid.
    let unknown =
        format!("{SCENARIO}\n[[overrides]]\nicb = \"ZZZ\"\nfactor = \"{UPTAKE}\"\nvalue = 0.5\n");
    let err = refused(&unknown, &[]);
    let at = unknown.lines().position(|l| l == "icb = \"ZZZ\"").unwrap() + 1;
    assert!(
        err.contains(&format!(
            "s.toml:{at}: overrides[0].icb: unknown ICB 'ZZZ'; the ICB table"
        )),
        "{err}"
    );
}

#[test]
fn a_bad_set_is_refused_by_name() {
    let err = refused(SCENARIO, &["--set", "BBB:actions.switch.factors.uptake"]);
    assert!(
        err.contains("--set") && err.contains("ICB:PATH=VALUE"),
        "{err}"
    );
    let err = refused(
        SCENARIO,
        &["--set", "BBB:actions.switch.factors.uptake=high"],
    );
    assert!(
        err.contains("--set") && err.contains("'high' is not a finite number"),
        "{err}"
    );
    let err = refused(SCENARIO, &["--set", "BBB:actions.nope.factors.x=1"]);
    assert!(
        err.contains("s.toml: --set: 'actions.nope.factors.x' is not a factor of this scenario"),
        "{err}"
    );
    let err = refused(SCENARIO, &["--set", "ZZZ:actions.switch.factors.uptake=1"]);
    assert!(
        err.contains("s.toml: --set.icb: unknown ICB 'ZZZ'"),
        "{err}"
    );
    let twice = format!("BBB:{UPTAKE}=1");
    let err = refused(SCENARIO, &["--set", &twice, "--set", &twice]);
    assert!(
        err.contains(&format!("--set: BBB:{UPTAKE} is set twice")),
        "{err}"
    );
}

#[test]
fn sensitivitys_expected_cost_counts_each_icbs_own_values() {
    // Every ICB with its own fixed uptake is the scenario with uptake fixed nationally.
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let every: String = ["AAA", "BBB", "CCC", "DDD"]
        .iter()
        .map(|icb| format!("[[overrides]]\nicb = \"{icb}\"\nfactor = \"{UPTAKE}\"\nvalue = 0.65\n"))
        .collect();
    let own = prepare(&Config::new(
        sb.write("own.toml", &format!("{SCENARIO}\n{every}")),
    ))
    .unwrap();
    let fixed = SCENARIO.replace(
        "uptake = { dist = \"pert\", min = 0.2, mode = 0.4, max = 0.7 }",
        "uptake = 0.65",
    );
    let fixed = prepare(&Config::new(sb.write("fixed.toml", &fixed))).unwrap();
    assert_eq!(own.model.national[0].path, UPTAKE);
    let (g_own, g_fixed) = (
        ExpectedCost::new(&own.model),
        ExpectedCost::new(&fixed.model),
    );
    for x in [[0.3, 2.0, 0.2], [0.6, 1.1, 0.45]] {
        let (a, b) = (g_own.at(&x), g_fixed.at(&x[1..]));
        assert!((a - b).abs() <= 1e-9 * b.abs(), "{a} vs {b}");
    }
    for icb in 0..4 {
        let (a, b) = (
            expected_monthly(&own.model, icb),
            expected_monthly(&fixed.model, icb),
        );
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-9 * y.abs(), "{icb}: {x} vs {y}");
        }
    }
}

#[test]
fn a_share_taking_part_is_not_overridden_at_practice_level() {
    let text = SCENARIO.replace("uptake = { dist", "uptake = { participation = true, dist");
    let own =
        format!("{text}\n[[overrides]]\nicb = \"BBB\"\nfactor = \"{UPTAKE}\"\nvalue = 0.65\n");
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let path = sb.write("s.toml", &own);
    assert!(prepare(&Config::new(&path)).is_ok());
    let err = prepare(&Config {
        granularity: Some(icb_impact::scenario::Granularity::Practice),
        ..Config::new(&path)
    })
    .err()
    .unwrap()
    .to_string();
    let at = own.lines().position(|l| l == "icb = \"BBB\"").unwrap() + 1;
    assert!(
        err.contains(&format!(
            "s.toml:{at}: overrides[0].factor: {UPTAKE} is the share of practices taking part"
        )),
        "{err}"
    );
}

#[test]
fn at_practice_level_an_icbs_own_cost_factor_changes_only_that_icb() {
    let icbs = "icb_code,icb_name,region,registered_patients,gp_practices,prescribing_cost_gbp\n\
                AAA,Alpha ICB,North,1000000,3,900000\n\
                BBB,Beta ICB,South,250000,2,500000\n";
    let practices = "practice_code,icb_code,registered_patients,prescribing_cost_gbp\n\
                     P1,AAA,5000,100\nP2,AAA,3000,300\nP3,BBB,1000,1\nP4,BBB,3000,3\n";
    let scenario = r#"[scenario]
name = "practices"
start = "2024-01"
months = 12
seed = 7
data = "icbs.csv"
practices = "practices.csv"
granularity = "practice"

[actions.act]
factors = { uptake = { dist = "uniform", min = 0.3, max = 0.9, participation = true } }

[[actions.act.costs]]
driver = "registered_patients"
factors = { per_patient = 1.0 }

[[actions.act.costs]]
driver = "prescribing_cost_gbp"
factors = { share_of_spend = { dist = "uniform", min = 0.01, max = 0.03, vary = "icb" } }
"#;
    let sb = Sandbox::new();
    sb.write("icbs.csv", icbs);
    sb.write("practices.csv", practices);
    let run = |name: &str, per_patient: Option<&str>| {
        let own = per_patient.map_or(String::new(), |v| {
            format!("[[overrides]]\nicb = \"BBB\"\nfactor = \"actions.act.costs[0].factors.per_patient\"\nvalue = {v}\n")
        });
        let p = prepare(&Config::new(sb.write(name, &format!("{scenario}\n{own}")))).unwrap();
        engine::run(&p.model, 600, &|_| {})
    };
    let base = run("base.toml", None);
    // The scenario's own value given as BBB's: the same numbers bit for bit.
    let same = run("same.toml", Some("1.0"));
    for i in 0..2 {
        assert_same_bits(&base.icb(i), &same.icb(i), "the same value");
    }
    let (none, three) = (run("none.toml", Some("0")), run("three.toml", Some("3")));
    assert_same_bits(&base.icb(0), &none.icb(0), "AAA");
    assert_same_bits(&base.icb(0), &three.icb(0), "AAA");
    let (b, n, t) = (base.icb(1), none.icb(1), three.icb(1));
    for it in 0..600 {
        // The spend line alone, plus three times the patient line.
        let expected = n[it] + 3.0 * (b[it] - n[it]);
        assert!((t[it] - expected).abs() <= 1e-9 * expected.abs(), "{it}");
    }
}
