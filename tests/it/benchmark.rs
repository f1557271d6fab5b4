//! `benchmark`: each published figure against the simulated quantity on the same scope and
//! period, checked exactly on a scenario of known values.

use icb_impact::engine;
use icb_impact::pipeline::{prepare, Config};

use crate::{read_csv, shipped, stderr, stdout, Sandbox};

/// Eight ICBs whose costs are 1..8 × £1m a year; one action `a` and one action `b` of £0.5m a
/// year per ICB, over 6 months.
const ICBS: &str = "icb_code,icb_name,size\nI1,One,1\nI2,Two,2\nI3,Three,3\nI4,Four,4\nI5,Five,5\nI6,Six,6\nI7,Seven,7\nI8,Eight,8\n";
const SCENARIO: &str = r#"
[scenario]
name = "known"
start = "2024-08"
months = 6
iterations = 10
data = "icbs.csv"

[actions.a]
[[actions.a.costs]]
driver = "size"
factors = { per_unit = 1000000 }

[actions.b]
[[actions.b.costs]]
factors = { flat = 500000 }
"#;
const FIGURES: &str = "id,label,published_gbp,published_sd_gbp,quantity,icb_code,actions,start,end,cost_view,conditions,source\n\
disclosed_mean,Mean of six that disclosed,2000000,1000000,disclosed_mean,,,,,,,s\n\
disclosed_sum,Sum of six that disclosed,12200000,6100000,disclosed_sum,,,,,,,s\n\
mean,Mean per ICB,2000000,1000000,mean_per_icb,,,,,,,s\n\
nation,National over four months,20000000,5000000,national_total,,,2024-08,2024-11,,,s\n\
icb,ICB Five in a year,4200000,2100000,icb_total,I5,a,2024-08,2025-07,,,s\n\
known,ICB Five with its flat fee known,1000000,1,icb_total,I5,b,2024-08,2025-07,,actions.b.costs[0].factors.flat=100000,s\n\
own,ICB Five with its own flat fee known,1000000,1,icb_total,I5,b,2024-08,2025-07,,I5:actions.b.costs[0].factors.flat=200000,s\n\
own_elsewhere,ICB Four while ICB Five's fee is known,1000000,1,icb_total,I4,b,2024-08,2025-07,,I5:actions.b.costs[0].factors.flat=200000,s\n\
count,Ten of 42,,,count,,,,,,,s\n\
absent,An action the scenario lacks,1,1,national_total,,cap,,,,,s\n\
no_factor,A condition on a factor the scenario lacks,1,1,national_total,,a,,,,actions.a.factors.uptake=0.5,s\n";

/// The cost of ICB `k` of [`ICBS`] over `months` months, from action `a`, `b` or both.
fn cost(k: f64, months: f64, a: bool, b: bool) -> f64 {
    (f64::from(u8::from(a)) * k * 1e6 + f64::from(u8::from(b)) * 0.5e6) * months / 12.0
}

#[test]
fn each_figure_is_evaluated_on_its_own_scope_exactly() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write(
        "s.toml",
        &SCENARIO.replace("iterations = 10", "iterations = 4000"),
    );
    sb.write("figures.csv", FIGURES);
    let out = sb.run(&[
        "benchmark",
        "s.toml",
        "--benchmarks",
        "figures.csv",
        "--out",
        "b",
        "--png",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&sb.path("b/benchmarks.csv"));
    assert_eq!(
        rows[0],
        [
            "id",
            "label",
            "status",
            "reason",
            "quantity",
            "icb_code",
            "actions",
            "start",
            "end",
            "figure_cost_view",
            "conditions",
            "published",
            "published_sd",
            "simulated_mean",
            "simulated_p05",
            "simulated_p50",
            "simulated_p95",
            "published_percentile",
            "unit",
            "activity",
            "source",
            "cost_view"
        ]
    );
    let row = |id: &str| {
        rows.iter()
            .find(|r| r[0] == id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .clone()
    };
    let mean = |id: &str| -> f64 { row(id)[13].parse().unwrap_or_else(|_| panic!("{id}")) };
    // The scenario as it is: both actions, six months.
    let national: f64 = (1..=8).map(|k| cost(f64::from(k), 6.0, true, true)).sum();
    assert_eq!(mean("mean"), national / 8.0);
    // Its own period, never a scaled one: four months.
    let four: f64 = (1..=8).map(|k| cost(f64::from(k), 4.0, true, true)).sum();
    assert!(
        (mean("nation") - four).abs() <= 0.005,
        "written to the penny"
    );
    assert_eq!(row("nation")[7..9], ["2024-08", "2024-11"]);
    // Action a only, over twelve months run as twelve months: £5m.
    assert_eq!(mean("icb"), 5e6);
    assert_eq!(row("icb")[6], "a");
    assert_eq!(
        row("icb")[17],
        "0.0",
        "£4.2m is below every simulated value"
    );
    // A known factor value replaces the scenario's: £100k a year instead of £500k.
    assert_eq!(mean("known"), 1e5);
    assert_eq!(row("known")[10], "actions.b.costs[0].factors.flat=100000");
    // A value known for one ICB is that ICB's own: the others keep the scenario's.
    assert_eq!(mean("own"), 2e5);
    assert_eq!(row("own")[10], "I5:actions.b.costs[0].factors.flat=200000");
    assert_eq!(mean("own_elsewhere"), 5e5);
    // The FOI's selection scaled to eight ICBs: 5 assessed at random (23 of 42), the 2
    // costliest of them found an impact (10 of 42), and both disclose (6 of those 10, at most
    // 2). Costs are fixed, so ICB i (rank i by cost) is disclosed with probability
    // 5/8 × P(fewer than 2 of the 7 − i costlier ICBs among the other 4 assessed).
    let icbs: Vec<f64> = (1..=8)
        .map(|k| cost(f64::from(k), 6.0, true, true))
        .collect();
    assert!(icbs.windows(2).all(|w| w[0] < w[1]), "costs rise with k");
    let choose = |n: u64, k: u64| -> f64 {
        if k > n {
            return 0.0;
        }
        (0..k).map(|j| (n - j) as f64 / (k - j) as f64).product()
    };
    let expected: f64 = icbs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (costlier, cheaper) = (7 - i as u64, i as u64);
            let top: f64 = (0..2u64)
                .map(|m| choose(costlier, m) * choose(cheaper, 4 - m) / choose(7, 4))
                .sum();
            c * 5.0 / 8.0 * top
        })
        .sum();
    // The sum of two lies between the two cheapest and the two costliest: its sd is at most
    // half that range (Popoviciu), its standard error that over √4000.
    let (least, most) = (icbs[0] + icbs[1], icbs[6] + icbs[7]);
    let se = (most - least) / 2.0 / (4000f64).sqrt();
    assert!(
        (mean("disclosed_sum") - expected).abs() < 4.0 * se,
        "{} against {expected}",
        mean("disclosed_sum")
    );
    assert!((mean("disclosed_mean") - expected / 2.0).abs() < 4.0 * se / 2.0);
    let p05: f64 = row("disclosed_sum")[14].parse().unwrap();
    let p95: f64 = row("disclosed_sum")[16].parse().unwrap();
    assert!(p05 >= least && p95 <= most);
    // What cannot be compared says why, and has no simulated value.
    for (id, reason) in [
        ("count", "a count, not a cost: shown for context"),
        ("absent", "the scenario has no action cap"),
        (
            "no_factor",
            "the scenario has no factor actions.a.factors.uptake in scope",
        ),
    ] {
        assert_eq!(row(id)[2..4], ["not_comparable", reason], "{id}");
        assert_eq!(row(id)[13], "", "{id}");
    }
    assert!(rows[1..].iter().filter(|r| r[2] == "compared").count() == 8);
    let text = stdout(&out);
    assert!(
        text.contains("not comparable: the scenario has no action cap")
            && text.contains("Results in b"),
        "{text}"
    );
    for f in [
        "b/charts/benchmarks.png",
        "b/charts/benchmarks.svg",
        "b/manifest.json",
    ] {
        assert!(sb.path(f).is_file(), "{f}");
    }
}

/// Type 7 quantile of sorted values (R's and numpy's default), as the tool reports them.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[test]
fn a_derived_run_equals_a_plain_run_of_the_restricted_scenario() {
    // NHS England's 10% figure on the activity-loss scenario: its cut known to be 10%. The
    // same scenario written with the cut fixed at 10% and run plainly gives the same draws.
    let sb = Sandbox::new();
    let scenario = shipped("nhse-activity-loss.toml");
    let iterations = 2000;
    let out = sb.run(&[
        "benchmark",
        scenario.to_str().unwrap(),
        "--iterations",
        &iterations.to_string(),
        "--out",
        "b",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&sb.path("b/benchmarks.csv"));
    let text = std::fs::read_to_string(&scenario).unwrap();
    let uncertain = r#"gp_activity_reduction = { participation = true, dist = "uniform", min = 0.10, max = 0.30,"#;
    assert!(text.contains(uncertain), "the shipped scenario changed");
    for (id, cut) in [
        ("nhse_activity_loss_10pct", "0.1"),
        ("nhse_activity_loss_30pct", "0.3"),
    ] {
        let fixed = format!(
            r#"gp_activity_reduction = {{ participation = true, dist = "fixed", value = {cut},"#
        );
        let plain = sb.write(&format!("{id}.toml"), &text.replace(uncertain, &fixed));
        let p = prepare(&Config {
            iterations: Some(iterations as u64),
            ..Config::new(&plain)
        })
        .unwrap();
        let draws = engine::run(&p.model, iterations, &|_| {});
        let mut values = draws.national.clone();
        let mean = values.iter().sum::<f64>() / iterations as f64;
        values.sort_by(f64::total_cmp);
        let row = rows.iter().find(|r| r[0] == id).unwrap();
        assert_eq!(row[2], "compared", "{row:?}");
        let simulated: Vec<f64> = row[13..17].iter().map(|x| x.parse().unwrap()).collect();
        let expected = [
            mean,
            quantile(&values, 0.05),
            quantile(&values, 0.5),
            quantile(&values, 0.95),
        ];
        for (got, want) in simulated.iter().zip(expected) {
            // Written to the penny; a sum in another order may differ in the last bits.
            assert!(
                (got - want).abs() <= 0.005 + 1e-9 * want.abs(),
                "{id}: {simulated:?} vs {expected:?}"
            );
        }
    }
}

#[test]
fn the_shipped_figures_compare_only_like_for_like() {
    let sb = Sandbox::new();
    let expect = [
        // scenario, figures compared
        (
            "collective-action-2024.toml",
            &[
                "pulse_foi_disclosed_mean",
                "pulse_foi_disclosed_sum",
                "pulse_foi_disclosed_five_sum",
                "bob_medicines_optimisation_year",
                "appointments_practice_change_2024_10",
            ][..],
        ),
        (
            "nhse-activity-loss.toml",
            &[
                "nhse_activity_loss_10pct",
                "nhse_activity_loss_30pct",
                "appointments_practice_change_2024_10",
            ][..],
        ),
        (
            "medicines-optimisation-2024.toml",
            &["bob_medicines_optimisation_year_share"][..],
        ),
        ("escalation-2026.toml", &[][..]),
    ];
    for (name, compared) in expect {
        let out = sb.run(&[
            "benchmark",
            shipped(name).to_str().unwrap(),
            "--iterations",
            "300",
            "--out",
            name,
            "-q",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let rows = read_csv(&sb.path(&format!("{name}/benchmarks.csv")));
        for r in &rows[1..] {
            let is_compared = compared.contains(&r[0].as_str());
            assert_eq!(
                r[2],
                if is_compared {
                    "compared"
                } else {
                    "not_comparable"
                },
                "{name}: {r:?}"
            );
            assert_eq!(
                r[3].is_empty(),
                is_compared,
                "{name}: a reason when not compared"
            );
        }
    }
}

#[test]
fn a_bad_benchmark_table_is_bad_input() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write("s.toml", SCENARIO);
    sb.write("figures.csv", "id,label\nx,y\n");
    let out = sb.run(&[
        "benchmark",
        "s.toml",
        "--benchmarks",
        "figures.csv",
        "--out",
        "b",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "figures.csv: published: required column 'published' (or 'published_gbp') is missing"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("b").exists());
}

#[test]
fn a_target_standard_error_is_refused_because_each_figure_runs_a_fixed_count() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write("s.toml", SCENARIO);
    let out = sb.run(&["benchmark", "s.toml", "--target-rse", "0.01", "--out", "b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "--target-rse: iterations: benchmark runs each figure for a fixed iteration count"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("b").exists());
}
