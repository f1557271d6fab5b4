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
const FIGURES: &str = "id,label,published_gbp,quantity,icb_code,actions,months,source\n\
top6_mean,Mean of the top six,2000000,top6_mean,,,,s\n\
top6_sum,Sum of the top six,12200000,top6_sum,,,,s\n\
mean,Mean per ICB,2000000,mean_per_icb,,,,s\n\
nation,National,20000000,national_total,,,4,s\n\
icb,ICB Five in a year,4200000,icb_total,I5,a,12,s\n\
count,Ten of 42,,count,,,,s\n\
absent,An action the scenario lacks,1,national_total,,cap,,s\n";

#[test]
fn simulated_quantities_are_exact_on_known_values() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write("s.toml", SCENARIO);
    sb.write("figures.csv", FIGURES);
    let out = sb.run(&[
        "benchmark",
        "s.toml",
        "--benchmarks",
        "figures.csv",
        "--out",
        "b",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&sb.path("b/benchmarks.csv"));
    assert_eq!(
        rows[0],
        [
            "id",
            "label",
            "quantity",
            "published_gbp",
            "simulated_mean_gbp",
            "simulated_p05_gbp",
            "simulated_p50_gbp",
            "simulated_p95_gbp",
            "published_percentile",
            "note",
            "source",
            "cost_view"
        ]
    );
    let mean = |id: &str| -> f64 {
        let row = rows
            .iter()
            .find(|r| r[0] == id)
            .unwrap_or_else(|| panic!("{id} missing"));
        row[4].parse().unwrap_or_else(|_| panic!("{id}: {row:?}"))
    };
    // Six months of ICB k: (k × £1m + £0.5m) / 2. The top six are ICBs 3 to 8.
    let icb = |k: f64| (k * 1e6 + 0.5e6) / 2.0;
    let top: f64 = (3..=8).map(|k| icb(k as f64)).sum();
    assert_eq!(mean("top6_sum"), top);
    assert_eq!(mean("top6_mean"), top / 6.0);
    let national: f64 = (1..=8).map(|k| icb(k as f64)).sum();
    assert_eq!(mean("mean"), national / 8.0);
    // Scaled from the 6 simulated months to the figure's 4.
    assert!((mean("nation") - national * 4.0 / 6.0).abs() < 0.01);
    // Action a only, scaled to 12 months: £5m.
    assert_eq!(mean("icb"), 5e6);
    let row = |id: &str| rows.iter().find(|r| r[0] == id).unwrap().clone();
    assert_eq!(row("icb")[8], "0.0", "£4.2m is below every simulated value");
    assert_eq!(row("icb")[9], "simulated 6 months scaled to 12");
    assert_eq!(row("count")[4], "");
    assert_eq!(row("count")[9], "a count, not a cost: shown for context");
    assert!(row("absent")[9].contains("none of the actions it covers (cap)"));
    let text = stdout(&out);
    assert!(
        text.contains("Sum of the top six") && text.contains("Results in b"),
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
fn the_shipped_figures_run_against_the_shipped_scenario() {
    let sb = Sandbox::new();
    let scenario = shipped("collective-action-2024.toml");
    let iterations = 500;
    let out = sb.run(&[
        "benchmark",
        scenario.to_str().unwrap(),
        "--iterations",
        &iterations.to_string(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&sb.path("output/collective-action-2024-benchmark/benchmarks.csv"));
    let figures =
        read_csv(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/benchmarks.csv"));
    assert_eq!(rows.len(), figures.len(), "one row per published figure");
    // The same draws, from the library: every simulated figure recomputed here from the cost
    // of each ICB and action in each iteration.
    let p = prepare(&Config {
        iterations: Some(iterations as u64),
        ..Config::new(&scenario)
    })
    .unwrap();
    let draws = engine::run(&p.model, iterations, &|_| {});
    let months = f64::from(p.scenario.months);
    let n_icb = p.table.len();
    for (row, figure) in rows[1..].iter().zip(&figures[1..]) {
        assert_eq!(row[0], figure[0]);
        let (quantity, icb_code, actions, figure_months) =
            (&figure[3], &figure[4], &figure[5], &figure[6]);
        assert_eq!(row[2], *quantity);
        if quantity == "count" {
            assert_eq!(row[4..9].join(""), "", "{row:?}");
            assert_eq!(row[9], "a count, not a cost: shown for context");
            continue;
        }
        let covered: Vec<usize> = (0..p.scenario.actions.len())
            .filter(|&a| {
                actions.is_empty() || actions.split(';').any(|id| id == p.scenario.actions[a].id)
            })
            .collect();
        let scale = match figure_months.as_str() {
            "" => 1.0,
            m => m.parse::<f64>().unwrap() / months,
        };
        let mut values: Vec<f64> = (0..iterations)
            .map(|it| {
                let mut totals: Vec<f64> = (0..n_icb)
                    .map(|i| covered.iter().map(|&a| draws.icb_action(i, a)[it]).sum())
                    .collect();
                let value = match quantity.as_str() {
                    "icb_total" => {
                        totals[p.table.codes.iter().position(|c| c == icb_code).unwrap()]
                    }
                    "national_total" => totals.iter().sum(),
                    "mean_per_icb" => totals.iter().sum::<f64>() / n_icb as f64,
                    "top6_sum" | "top6_mean" => {
                        totals.sort_by(|a, b| b.total_cmp(a));
                        let top: f64 = totals[..6].iter().sum();
                        if quantity == "top6_sum" {
                            top
                        } else {
                            top / 6.0
                        }
                    }
                    other => panic!("quantity {other}"),
                };
                value * scale
            })
            .collect();
        let mean = values.iter().sum::<f64>() / iterations as f64;
        let published: f64 = figure[2].parse().unwrap();
        let below = values.iter().filter(|&&v| v <= published).count();
        values.sort_by(f64::total_cmp);
        let simulated: Vec<f64> = row[4..8].iter().map(|x| x.parse().unwrap()).collect();
        let expected = [
            mean,
            quantile(&values, 0.05),
            quantile(&values, 0.5),
            quantile(&values, 0.95),
        ];
        for (got, want) in simulated.iter().zip(expected) {
            // Written to the penny; sums in another order differ in the last bits.
            assert!(
                (got - want).abs() <= 0.005 + 1e-9 * want.abs(),
                "{}: {simulated:?} vs {expected:?}",
                row[0]
            );
        }
        assert!(simulated[0] > 0.0, "{}: a cost, simulated", row[0]);
        let percentile: f64 = row[8].parse().unwrap();
        assert_eq!(
            percentile,
            100.0 * below as f64 / iterations as f64,
            "{}",
            row[0]
        );
    }
    // The notes say what differs between a figure and the run.
    let note = |id: &str| rows.iter().find(|r| r[0] == id).unwrap()[9].clone();
    assert_eq!(
        note("bob_medicines_optimisation_year"),
        "simulated 6 months scaled to 12"
    );
    assert!(note("nhse_activity_loss_10pct").contains("not in the scenario: gp_activity_loss"));
    assert!(note("nhse_activity_loss_10pct").contains("compare with --view economic"));
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
        stderr(&out)
            .contains("figures.csv: published_gbp: required column 'published_gbp' is missing"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("b").exists());
}
