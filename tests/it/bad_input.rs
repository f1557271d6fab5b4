//! Every kind of bad input: exit code 2, a message naming file, line and field, and nothing
//! written (a previous result survives untouched).

use crate::{stderr, Sandbox, TINY_ICBS};

const GOOD: &str = r#"[scenario]
name = "t"
start = "2024-08"
months = 6
data = "icbs.csv"

[actions.a]
end = "2025-01"

[[actions.a.costs]]
driver = "registered_patients"
factors = { rate = { dist = "pert", min = 0.5, mode = 2.5, max = 6.2 } }
"#;

/// Runs `GOOD` with `from` replaced by `to` (and the ICB table `icbs`), expecting failure.
fn fails(from: &str, to: &str, icbs: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    let sb = Sandbox::new();
    sb.write("icbs.csv", icbs);
    sb.write("s.toml", &GOOD.replacen(from, to, 1));
    let out = sb.run(&[
        "run",
        "s.toml",
        "--out",
        "results/run",
        "--iterations",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(2), "{to}: {}", stderr(&out));
    // Nothing written: not the output directory, not even its parent or a temporary directory.
    assert!(!sb.path("results").exists(), "{to}: output written");
    assert_eq!(std::fs::read_dir(sb.dir.path()).unwrap().count(), 2);
    stderr(&out)
}

fn expect(from: &str, to: &str, icbs: &str, message: &str) {
    let err = fails(from, to, icbs);
    assert!(
        err.contains(message),
        "{to}\nexpected: {message}\ngot: {err}"
    );
}

#[test]
fn the_good_scenario_runs() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write("s.toml", GOOD);
    let out = sb.run(&[
        "run",
        "s.toml",
        "--out",
        "results/run",
        "--iterations",
        "10",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn malformed_toml() {
    expect(
        "months = 6",
        "months = = 6",
        TINY_ICBS,
        "error: s.toml:4: toml: malformed TOML",
    );
}

#[test]
fn unknown_keys() {
    expect(
        "end = \"2025-01\"",
        "end = \"2025-01\"\nfinish = \"2025-02\"",
        TINY_ICBS,
        "s.toml:9: actions.a.finish: unknown key 'finish'",
    );
}

#[test]
fn unknown_driver_column() {
    expect(
        "driver = \"registered_patients\"",
        "driver = \"patients\"",
        TINY_ICBS,
        "s.toml:11: actions.a.costs[0].driver: column 'patients' is not in the ICB table icbs.csv; it has: icb_code, icb_name, region, registered_patients, gp_practices",
    );
}

#[test]
fn unknown_dist() {
    expect(
        "dist = \"pert\"",
        "dist = \"weibull\"",
        TINY_ICBS,
        "s.toml:12: actions.a.costs[0].factors.rate.dist: unknown dist 'weibull'",
    );
}

#[test]
fn min_above_max() {
    expect(
        "min = 0.5, mode = 2.5, max = 6.2",
        "min = 7, mode = 2.5, max = 6.2",
        TINY_ICBS,
        "s.toml:12: actions.a.costs[0].factors.rate: min 7 must be less than max 6.2",
    );
}

#[test]
fn mode_outside_range() {
    expect(
        "mode = 2.5",
        "mode = 9",
        TINY_ICBS,
        "s.toml:12: actions.a.costs[0].factors.rate: mode 9 is outside [min 0.5, max 6.2]",
    );
}

#[test]
fn non_positive_sd() {
    let normal = "{ dist = \"normal\", mean = 1, sd = 0 }";
    expect(
        "{ dist = \"pert\", min = 0.5, mode = 2.5, max = 6.2 }",
        normal,
        TINY_ICBS,
        "s.toml:12: actions.a.costs[0].factors.rate: sd 0 must be greater than 0",
    );
}

#[test]
fn lognormal_interval_reversed() {
    let lognormal = "{ dist = \"lognormal\", p05 = 6, p95 = 2 }";
    expect(
        "{ dist = \"pert\", min = 0.5, mode = 2.5, max = 6.2 }",
        lognormal,
        TINY_ICBS,
        "s.toml:12: actions.a.costs[0].factors.rate: p05 6 must be less than p95 2",
    );
}

#[test]
fn probability_outside_unit_interval() {
    let b = "{ dist = \"bernoulli\", p = 1.5 }";
    expect(
        "{ dist = \"pert\", min = 0.5, mode = 2.5, max = 6.2 }",
        b,
        TINY_ICBS,
        "s.toml:12: actions.a.costs[0].factors.rate: p 1.5 is a probability and must lie in [0, 1]",
    );
}

#[test]
fn bad_price_years() {
    expect(
        "months = 6",
        "months = 6\nprice_year = \"2024-25\"",
        TINY_ICBS,
        "s.toml:5: scenario.price_year: '2024-25' is not a financial year: write YYYY/YY, e.g. \"2024/25\"",
    );
    expect(
        "max = 6.2 }",
        "max = 6.2, price_year = \"2016/17\" }",
        TINY_ICBS,
        "s.toml:12: actions.a.costs[0].factors.rate.price_year: the scenario has no price year to convert to: add price_year = \"2024/25\"",
    );
    expect(
        "max = 6.2 }",
        "max = 6.2, price_year = { min = \"2012/13\", mode = \"2016/17\", max = \"2016/17\" } }",
        TINY_ICBS,
        "actions.a.costs[0].factors.rate.price_year.min: no deflator for 2012/13: data/deflators.csv has 2014/15, 2015/16,",
    );
}

#[test]
fn bad_month_string() {
    expect(
        "start = \"2024-08\"",
        "start = \"08/2024\"",
        TINY_ICBS,
        "s.toml:3: scenario.start: '08/2024' is not a month: write YYYY-MM",
    );
    expect(
        "end = \"2025-01\"",
        "end = \"2025-1\"",
        TINY_ICBS,
        "s.toml:8: actions.a.end: '2025-1' is not a month",
    );
}

#[test]
fn months_not_positive() {
    expect(
        "months = 6",
        "months = 0",
        TINY_ICBS,
        "s.toml:4: scenario.months: must be a whole number from 1 to 600, found 0",
    );
}

#[test]
fn end_before_start() {
    expect(
        "end = \"2025-01\"",
        "end = \"2024-07\"",
        TINY_ICBS,
        "s.toml:8: actions.a.end: end 2024-07 is before start 2024-08",
    );
}

#[test]
fn missing_data_file() {
    expect(
        "data = \"icbs.csv\"",
        "data = \"nowhere.csv\"",
        TINY_ICBS,
        "nowhere.csv: file: cannot read the ICB table",
    );
}

#[test]
fn data_file_missing_columns() {
    let icbs = "code,icb_name,registered_patients\nAAA,Alpha,10\n";
    expect("months = 6", "months = 6", icbs, "icbs.csv: icb_code: required column 'icb_code' is missing; the table has: code, icb_name, registered_patients");
}

#[test]
fn non_numeric_driver() {
    let icbs = TINY_ICBS.replace("250000", "a quarter million");
    expect(
        "months = 6",
        "months = 6",
        &icbs,
        "icbs.csv:3: registered_patients: 'a quarter million' is not a number (ICB BBB)",
    );
}

#[test]
fn negative_driver() {
    let icbs = TINY_ICBS.replace("2000000", "-2000000");
    expect(
        "months = 6",
        "months = 6",
        &icbs,
        "icbs.csv:4: registered_patients: -2000000 is negative; it must be 0 or more (ICB CCC)",
    );
}

#[test]
fn duplicate_icb_codes() {
    let icbs = TINY_ICBS.replace("CCC,Gamma", "AAA,Gamma");
    expect(
        "months = 6",
        "months = 6",
        &icbs,
        "icbs.csv:4: icb_code: duplicate ICB code 'AAA' (first on line 2)",
    );
}

#[test]
fn every_problem_is_reported_in_one_pass() {
    let to = "start = \"2024-13\"\nmonths = 0\ncolour = \"red\"";
    let err = fails("start = \"2024-08\"\nmonths = 6", to, TINY_ICBS);
    for m in [
        "s.toml:3: scenario.start",
        "s.toml:4: scenario.months",
        "s.toml:5: scenario.colour",
        "3 problems found",
    ] {
        assert!(err.contains(m), "missing {m} in {err}");
    }
}

#[test]
fn missing_scenario_file() {
    let sb = Sandbox::new();
    let out = sb.run(&["run", "absent.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("absent.toml: file: cannot read the scenario"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_input_leaves_a_previous_result_intact() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write("s.toml", GOOD);
    assert!(sb
        .run(&["run", "s.toml", "--out", "run", "-q", "--iterations", "20"])
        .status
        .success());
    let before = std::fs::read(sb.path("run/icb_summary.csv")).unwrap();
    sb.write("s.toml", &GOOD.replace("months = 6", "months = -1"));
    let out = sb.run(&["run", "s.toml", "--out", "run", "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read(sb.path("run/icb_summary.csv")).unwrap(),
        before
    );
}

#[test]
fn output_directory_that_is_not_a_run_is_not_replaced() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write("s.toml", GOOD);
    std::fs::create_dir(sb.path("docs")).unwrap();
    sb.write("docs/notes.txt", "keep me");
    let out = sb.run(&["run", "s.toml", "--out", "docs", "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("docs: --out: exists and does not hold a previous run"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(sb.path("docs/notes.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn bad_arguments_exit_2() {
    let sb = Sandbox::new();
    for args in [&["run"][..], &["frobnicate"]] {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn an_iteration_count_that_is_not_a_positive_whole_number_is_refused_by_name() {
    // On a scenario that runs, so that only the count can be what is refused.
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write("s.toml", GOOD);
    let ok = sb.run(&["run", "s.toml", "--iterations", "1", "--out", "one", "-q"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    for (count, why) in [("0", "0 is not in 1.."), ("many", "invalid digit")] {
        let out = sb.run(&["run", "s.toml", "--iterations", count, "--out", "o"]);
        assert_eq!(out.status.code(), Some(2), "{count}");
        let e = stderr(&out);
        assert!(
            e.contains(&format!("invalid value '{count}' for '--iterations <N>'"))
                && e.contains(why),
            "{count}: {e}"
        );
        assert!(!sb.path("o").exists());
    }
}
