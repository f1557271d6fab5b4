//! Cost lines that count activity: `activity.csv` and `activity_monthly.csv` exact on known
//! factors and right in expectation on uncertain ones, an activity line with no price adding
//! nothing to the cost, and the activity and unit_cost keys refused when wrong.

use crate::column_index as column;
use crate::{read_csv, stderr, Sandbox, TINY_ICBS};

/// Patients 1m, 0.25m, 2m, 0. The cap removes `rate × share` GP appointments a patient-year
/// and sends `ae_per_lost` of each to A&E at `price`, of which `cash` is ICB cash.
fn scenario(rate: &str, share: &str, price: &str, extra: &str) -> String {
    format!(
        r#"
[scenario]
name = "activity"
start = "2024-08"
months = 4
iterations = 4000
seed = 11
data = "icbs.csv"

[actions.cap]
start = "2024-09"
ramp_months = 2
factors = {{ rate = {rate}, share = {share} }}

[[actions.cap.costs]]
label = "A&E"
activity = "a_and_e_attendances"
unit_cost = "price"
driver = "registered_patients"
factors = {{ ae_per_lost = 0.1, price = {price}, cash = {{ dist = "fixed", value = 0.2, view = "icb_cash" }} }}
{extra}"#
    )
}

const REMOVED: &str = r#"
[[actions.cap.costs]]
label = "GP appointments not given"
activity = "gp_appointments"
driver = "registered_patients"
negative = true
"#;

const PATIENTS: [f64; 4] = [1.0e6, 0.25e6, 2.0e6, 0.0];
/// The time weights of the four months from 2024-08 (start 2024-09, a two-month ramp).
const WEIGHTS: [f64; 4] = [0.0, 0.5, 1.0, 1.0];

fn value(rows: &[Vec<String>], scope: &str, activity: &str, name: &str) -> f64 {
    let (s, a, k) = (
        column(rows, "scope"),
        column(rows, "activity"),
        column(rows, name),
    );
    rows.iter()
        .find(|r| r[s] == scope && r[a] == activity)
        .unwrap_or_else(|| panic!("no row {scope} {activity}"))[k]
        .parse()
        .unwrap()
}

#[test]
fn activity_is_exact_on_known_factors_and_an_unpriced_line_costs_nothing() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write("with.toml", &scenario("3.0", "0.4", "150", REMOVED));
    sb.write("without.toml", &scenario("3.0", "0.4", "150", ""));
    for (file, out) in [("with.toml", "with"), ("without.toml", "without")] {
        let o = sb.run(&["run", file, "--out", out, "-q"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // An activity line with no price changes no cost, bit for bit.
    for table in [
        "icb_summary.csv",
        "action_summary.csv",
        "monthly.csv",
        "summary.json",
    ] {
        assert_eq!(
            std::fs::read(sb.path(&format!("with/{table}"))).unwrap(),
            std::fs::read(sb.path(&format!("without/{table}"))).unwrap(),
            "{table}"
        );
    }
    let rows = read_csv(&sb.path("with/activity.csv"));
    assert_eq!(
        rows[0],
        [
            "scope",
            "activity",
            "mean",
            "sd",
            "p05",
            "p50",
            "p95",
            "mcse_mean"
        ]
    );
    let per_patient = 3.0 * 0.4 * WEIGHTS.iter().sum::<f64>() / 12.0;
    let round = |x: f64| (x * 10.0).round() / 10.0;
    for (code, patients) in ["AAA", "BBB", "CCC", "DDD"].iter().zip(PATIENTS) {
        // A&E attendances: the line without its price and without its ICB-cash share.
        let ae = patients * per_patient * 0.1;
        let gp = -patients * per_patient;
        for name in ["mean", "p05", "p50", "p95"] {
            assert_eq!(value(&rows, code, "a_and_e_attendances", name), round(ae));
            assert_eq!(value(&rows, code, "gp_appointments", name), round(gp));
        }
        assert_eq!(value(&rows, code, "gp_appointments", "sd"), 0.0);
    }
    let national = PATIENTS.iter().sum::<f64>() * per_patient;
    assert_eq!(
        value(&rows, "national", "gp_appointments", "mean"),
        round(-national)
    );
    assert_eq!(
        value(&rows, "national", "a_and_e_attendances", "p95"),
        round(national * 0.1)
    );
    // The same counts in the economic view, where the cash share is not applied.
    let o = sb.run(&[
        "run",
        "with.toml",
        "--out",
        "econ",
        "--view",
        "economic",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(sb.path("econ/activity.csv")).unwrap(),
        std::fs::read(sb.path("with/activity.csv")).unwrap()
    );
    // By month: the mean in each month and the cumulative change.
    let monthly = read_csv(&sb.path("with/activity_monthly.csv"));
    let (a, m, cum) = (
        column(&monthly, "activity"),
        column(&monthly, "mean_in_month"),
        column(&monthly, "cumulative_mean"),
    );
    let gp: Vec<&Vec<String>> = monthly[1..]
        .iter()
        .filter(|r| r[a] == "gp_appointments")
        .collect();
    assert_eq!(gp.len(), 4);
    let mut total = 0.0;
    for (row, w) in gp.iter().zip(WEIGHTS) {
        let month = -PATIENTS.iter().sum::<f64>() * 3.0 * 0.4 * w / 12.0;
        total += month;
        assert!(
            (row[m].parse::<f64>().unwrap() - month).abs() <= 0.1,
            "{row:?}"
        );
        assert_eq!(row[cum].parse::<f64>().unwrap(), round(total));
    }
}

#[test]
fn activity_means_match_their_expectation_and_do_not_depend_on_the_price() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    // rate ~ U(2, 4) national; share ~ PERT(0.2, 0.3, 0.7) per ICB: E = 3 × 0.35.
    let rate = r#"{ dist = "uniform", min = 2, max = 4 }"#;
    let share = r#"{ dist = "pert", min = 0.2, mode = 0.3, max = 0.7, vary = "icb" }"#;
    sb.write("a.toml", &scenario(rate, share, "150", REMOVED));
    let price = r#"{ dist = "lognormal", p05 = 100, p95 = 300 }"#;
    sb.write("b.toml", &scenario(rate, share, price, REMOVED));
    for (file, out) in [("a.toml", "a"), ("b.toml", "b")] {
        let o = sb.run(&["run", file, "--out", out, "-q"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // Another price is another cost, but the same activity (common random numbers).
    assert_ne!(
        std::fs::read(sb.path("a/icb_summary.csv")).unwrap(),
        std::fs::read(sb.path("b/icb_summary.csv")).unwrap()
    );
    assert_eq!(
        std::fs::read(sb.path("a/activity.csv")).unwrap(),
        std::fs::read(sb.path("b/activity.csv")).unwrap()
    );
    let rows = read_csv(&sb.path("a/activity.csv"));
    let weight: f64 = WEIGHTS.iter().sum::<f64>() / 12.0;
    let expected = -PATIENTS.iter().sum::<f64>() * 3.0 * 0.35 * weight;
    let mean = value(&rows, "national", "gp_appointments", "mean");
    let se = value(&rows, "national", "gp_appointments", "mcse_mean");
    assert!(
        (mean - expected).abs() <= 4.0 * se,
        "{mean} against {expected} (se {se})"
    );
    let icb = value(&rows, "CCC", "a_and_e_attendances", "mean");
    let icb_se = value(&rows, "CCC", "a_and_e_attendances", "mcse_mean");
    let icb_expected = 2.0e6 * 3.0 * 0.35 * weight * 0.1;
    assert!(
        (icb - icb_expected).abs() <= 4.0 * icb_se,
        "{icb} against {icb_expected} (se {icb_se})"
    );
}

#[test]
fn a_wrong_activity_or_unit_cost_is_refused_with_its_line_and_field() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let base = scenario("3.0", "0.4", "150", "");
    for (from, to, expected) in [
        (
            "activity = \"a_and_e_attendances\"",
            "activity = \"ae\"",
            "bad.toml:17: actions.cap.costs[0].activity: unknown activity 'ae'; expected one of: gp_appointments, ",
        ),
        (
            "unit_cost = \"price\"",
            "unit_cost = \"cost\"",
            "bad.toml:18: actions.cap.costs[0].unit_cost: 'cost' is not one of this line's factors (ae_per_lost, price, cash)",
        ),
        (
            "activity = \"a_and_e_attendances\"\n",
            "",
            "bad.toml:17: actions.cap.costs[0].unit_cost: unit_cost names the factor that prices the line's activity: give the activity too",
        ),
    ] {
        assert!(base.contains(from));
        sb.write("bad.toml", &base.replacen(from, to, 1));
        let o = sb.run(&["run", "bad.toml", "--out", "output/bad", "-q"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(expected), "{}", stderr(&o));
        assert!(!sb.path("output/bad").exists());
        let v = sb.run(&["validate", "bad.toml"]);
        assert_eq!(v.status.code(), Some(2));
    }
}
