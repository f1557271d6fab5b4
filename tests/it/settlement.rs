//! `settlement`: the cost of delay, exactly on a scenario of known values, with common random
//! numbers across settlement months, and bad ranges refused.

use crate::{files, read_csv, stderr, stdout, Sandbox, TINY_ICBS};

/// £12 a patient a year is £1 a patient a month: £3.25m a month over the tiny table's 3.25m
/// patients, for six months from 2024-08.
const SCENARIO: &str = r#"[scenario]
name = "delay"
start = "2024-08"
months = 6
iterations = 1000
seed = 9
data = "icbs.csv"

[actions.a]
start = "2024-08"
RECOVERY

[[actions.a.costs]]
driver = "registered_patients"
factors = { per_patient = PER_PATIENT }
"#;

fn scenario(recovery: &str, per_patient: &str) -> String {
    SCENARIO
        .replace("RECOVERY", recovery)
        .replace("PER_PATIENT", per_patient)
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let j = crate::column_index(rows, name);
    rows[1..].iter().map(|r| r[j].clone()).collect()
}

fn number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

#[test]
fn each_month_of_delay_costs_exactly_a_months_cost_and_the_recovery_after() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let month = 3.25e6;
    for (recovery, tail) in [
        ("", [0.0; 6]),
        (
            "end = \"2025-01\"\nrecovery = { \"1\" = 0.5, \"2\" = 0 }",
            [0.5, 0.5, 0.5, 0.5, 0.5, 0.0],
        ),
    ] {
        sb.write("s.toml", &scenario(recovery, "12"));
        let out = sb.run(&["settlement", "s.toml", "--out", "delay", "-q"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let rows = read_csv(&sb.path("delay/settlement.csv"));
        assert_eq!(
            column(&rows, "settlement_month"),
            ["2024-08", "2024-09", "2024-10", "2024-11", "2024-12", "2025-01"]
        );
        // Settled in the k-th month: k months of cost, then half a month as it fades (inside
        // the horizon only).
        let national = column(&rows, "national_mean_gbp");
        for (k, got) in national.iter().enumerate() {
            let expected = month * (k as f64 + 1.0 + tail[k]);
            assert!(
                (number(got) - expected).abs() < 0.01,
                "{recovery}: month {k}: {got} vs {expected}"
            );
        }
        let marginal = column(&rows, "marginal_mean_gbp");
        assert_eq!(marginal[0], "");
        for k in 1..6 {
            let expected = month * (1.0 + tail[k] - tail[k - 1]);
            assert!(
                (number(&marginal[k]) - expected).abs() < 0.01,
                "{recovery}: {k}"
            );
        }
        let per_icb = column(&rows, "mean_per_icb_gbp");
        assert!((number(&per_icb[0]) - month * (1.0 + tail[0]) / 4.0).abs() < 0.01);
    }
    let text = stdout(&sb.run(&["settlement", "s.toml", "--out", "delay", "-q"]));
    assert!(
        text.contains("Each month without a settlement costs"),
        "{text}"
    );
}

#[test]
fn settling_later_never_costs_less_in_any_draw_and_threads_do_not_matter() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    // Uncertain, non-negative factors: with common random numbers every draw's cost rises
    // with the settlement month.
    sb.write(
        "s.toml",
        &scenario(
            "ramp_months = 3\nfactors = { uptake = { dist = \"uniform\", min = 0.1, max = 0.9, vary = \"icb\" } }",
            "{ dist = \"pert\", min = 5, mode = 12, max = 30 }",
        ),
    );
    for threads in ["1", "2"] {
        let out = sb.run(&[
            "settlement",
            "s.toml",
            "--threads",
            threads,
            "--out",
            threads,
            "--png",
            "-q",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let rows = read_csv(&sb.path("1/settlement.csv"));
    for (share, p05) in column(&rows, "marginal_negative_share")
        .iter()
        .zip(column(&rows, "marginal_p05_gbp"))
        .skip(1)
    {
        assert_eq!(number(share), 0.0);
        assert!(number(&p05) > 0.0);
    }
    let (one, two) = (files(&sb.path("1")), files(&sb.path("2")));
    for (name, bytes) in &one {
        if name != "manifest.json" {
            assert!(
                bytes == &two[name],
                "{name} differs between 1 and 2 threads"
            );
        }
    }
    assert!(one.contains_key("charts/settlement.png"));
}

#[test]
fn a_range_outside_the_horizon_or_backwards_is_refused() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write("s.toml", &scenario("", "12"));
    for (range, expected) in [
        (
            "2024-01..2024-09",
            "2024-01..2024-09 is not within the scenario's horizon",
        ),
        ("2024-10..2024-09", "2024-09 is before 2024-10"),
        ("2024-10", "is not a range of months"),
    ] {
        let out = sb.run(&[
            "settlement",
            "s.toml",
            "--months",
            range,
            "--out",
            "x",
            "-q",
        ]);
        assert_eq!(out.status.code(), Some(2), "{range}");
        assert!(stderr(&out).contains(expected), "{range}: {}", stderr(&out));
        assert!(!sb.path("x").exists());
    }
    let out = sb.run(&[
        "settlement",
        "s.toml",
        "--months",
        "2024-09..2024-10",
        "--out",
        "x",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(read_csv(&sb.path("x/settlement.csv")).len(), 3);
}

#[test]
fn a_run_with_settlement_has_the_same_table_a_briefing_section_and_reproduces() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write(
        "s.toml",
        &scenario(
            "factors = { uptake = { dist = \"uniform\", min = 0.1, max = 0.9 } }",
            "{ dist = \"pert\", min = 5, mode = 12, max = 30 }",
        ),
    );
    let alone = sb.run(&["settlement", "s.toml", "--out", "alone", "-q"]);
    assert!(alone.status.success(), "{}", stderr(&alone));
    let run = sb.run(&[
        "run",
        "s.toml",
        "--settlement",
        "--report",
        "--out",
        "run",
        "-q",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let table = std::fs::read(sb.path("run/settlement.csv")).unwrap();
    assert_eq!(
        table,
        std::fs::read(sb.path("alone/settlement.csv")).unwrap()
    );
    let html = std::fs::read_to_string(sb.path("run/report.html")).unwrap();
    assert!(html.contains("<section id=\"settlement\"><h2>The cost of delay</h2>"));
    assert!(html.contains("Each month without a settlement costs"));
    // `report DIR` computes it again: the same briefing.
    std::fs::remove_file(sb.path("run/report.html")).unwrap();
    let again = sb.run(&["report", "run", "-q"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(sb.path("run/report.html")).unwrap(),
        html
    );
    // Without the flag there is none.
    let plain = sb.run(&["run", "s.toml", "--report", "--out", "plain", "-q"]);
    assert!(plain.status.success());
    assert!(!sb.path("plain/settlement.csv").exists());
    assert!(!std::fs::read_to_string(sb.path("plain/report.html"))
        .unwrap()
        .contains("id=\"settlement\""));
}

#[test]
fn a_cost_of_delay_whose_months_cannot_be_held_in_memory_is_refused_before_it_runs() {
    // One run of 600 months at 50 million iterations fits in a few GiB; each of the 600
    // months settled keeps its national total of every iteration (8 bytes), 240 GB in all.
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let text = scenario("", "12").replace("months = 6", "months = 600");
    sb.write("s.toml", &text);
    let out = sb.run(&[
        "settlement",
        "s.toml",
        "--iterations",
        "50000000",
        "--out",
        "x",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("50000000 iterations need about") && message.contains("GiB of memory"),
        "{message}"
    );
    assert!(!sb.path("x").exists());
}

#[test]
fn an_action_settled_before_it_starts_never_acts() {
    // Action b starts in October 2024 and costs as a does, fading slowly once it ends:
    // settled in August or September it never acts (nor fades), so those months cost a's
    // alone, exactly; settled in October it acts, and fades over the months after.
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let text = scenario("", "12")
        + "\n[actions.b]\nstart = \"2024-10\"\nend = \"2025-01\"\nrecovery = { \"12\" = 0.5 }\n\
           [[actions.b.costs]]\ndriver = \"registered_patients\"\nfactors = { per_patient = 12 }\n";
    sb.write("s.toml", &text);
    let out = sb.run(&["settlement", "s.toml", "--out", "delay", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&sb.path("delay/settlement.csv"));
    let national = column(&rows, "national_mean_gbp");
    let month = 3.25e6;
    for (k, want) in [month, 2.0 * month].iter().enumerate() {
        assert!(
            (number(&national[k]) - want).abs() < 0.01,
            "{}: {} against {want}",
            rows[k + 1][0],
            national[k]
        );
    }
    assert!(number(&national[2]) > 4.0 * month, "{}", national[2]);
}
