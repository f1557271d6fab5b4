//! Practice-level participation (`granularity = "practice"`) and ICB reconfiguration
//! (`icb_map`): exact results on tiny tables, reproducibility, and bad input.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use icb_impact::engine;
use icb_impact::pipeline::{prepare, Config};
use icb_impact::rng::{key, stream};
use icb_impact::scenario::Granularity;
use icb_impact::summary::RunSummary;
use rand::RngExt;

use crate::{assert_same_bits, read_csv, shipped, stderr, Sandbox};

const ICBS: &str =
    "icb_code,icb_name,region,registered_patients,gp_practices,prescribing_cost_gbp\n\
AAA,Alpha ICB,North,1000000,3,900000\n\
BBB,Beta ICB,South,250000,2,500000\n";

const PRACTICES: &str = "practice_code,icb_code,registered_patients,prescribing_cost_gbp\n\
P1,AAA,5000,100\n\
P2,AAA,3000,300\n\
P3,AAA,2000,600\n\
P4,BBB,1000,1\n\
P5,BBB,3000,3\n\
P9,ZZZ,7000,7\n";

/// One action over twelve months: £1 a patient a year and 2% of prescribing, taken part in with
/// probability `engagement curve × 0.6`.
const SCENARIO: &str = r#"
[scenario]
name = "practices"
start = "2024-01"
months = 12
iterations = 400
seed = 7
data = "icbs.csv"
practices = "practices.csv"
granularity = "practice"

[engagement]
curve = { "2024-01" = 0.5, "2024-04" = 0.8 }
icb = { dist = "fixed", value = 1.0 }

[actions.act]
factors = { uptake = { dist = "fixed", value = 0.6, participation = true } }

[[actions.act.costs]]
driver = "registered_patients"
factors = { per_patient = 1.0 }

[[actions.act.costs]]
driver = "prescribing_cost_gbp"
factors = { share_of_spend = 0.02 }
"#;

fn curve(m: usize) -> f64 {
    // Linear from 0.5 in January to 0.8 in April, flat after.
    0.5 + (0.8 - 0.5) * (m.min(3) as f64) / 3.0
}

#[test]
fn each_practice_takes_part_when_its_own_draw_is_below_the_share_exactly() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write("practices.csv", PRACTICES);
    let p = prepare(&Config::new(sb.write("s.toml", SCENARIO))).unwrap();
    let n = 400;
    let d = engine::run(&p.model, n, &|_| {});
    // (ICB patients, ICB prescribing, [(code, patients, prescribing)]) from the tables above.
    let icbs = [
        (
            1e6,
            9e5,
            vec![
                ("P1", 5000.0, 100.0),
                ("P2", 3000.0, 300.0),
                ("P3", 2000.0, 600.0),
            ],
        ),
        (2.5e5, 5e5, vec![("P4", 1000.0, 1.0), ("P5", 3000.0, 3.0)]),
    ];
    let stream_of_action = key("participation:act");
    for it in 0..n as u64 {
        for (i, (patients, prescribing, practices)) in icbs.iter().enumerate() {
            let (total_pat, total_pre): (f64, f64) = practices
                .iter()
                .fold((0.0, 0.0), |(a, b), (_, p, q)| (a + p, b + q));
            let mut expected = 0.0;
            for m in 0..12 {
                for (code, pat, pre) in practices {
                    let u: f64 = stream(7, it, key(code), stream_of_action).random();
                    if u < curve(m) * 0.6 {
                        expected += (patients * pat / total_pat * 1.0
                            + prescribing * pre / total_pre * 0.02)
                            / 12.0;
                    }
                }
            }
            let got = d.icb(i)[it as usize];
            assert!(
                (got - expected).abs() <= 1e-9 * expected.max(1.0),
                "iteration {it}, ICB {i}: {got} vs {expected}"
            );
        }
    }
    // P9 belongs to no ICB of the table: left out, and said so.
    assert!(
        p.model.warnings.iter().any(|w| w.contains("1 practices")),
        "{:?}",
        p.model.warnings
    );
}

#[test]
fn practice_level_keeps_the_icb_level_mean_within_standard_errors() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write("practices.csv", PRACTICES);
    let path = sb.write(
        "s.toml",
        &SCENARIO.replace("iterations = 400", "iterations = 20000"),
    );
    let practice = prepare(&Config::new(&path)).unwrap();
    let icb = prepare(&Config {
        granularity: Some(Granularity::Icb),
        ..Config::new(&path)
    })
    .unwrap();
    assert!(icb.model.practices.is_none() && practice.model.practices.is_some());
    let run = |p: &icb_impact::pipeline::Prepared| {
        let d = engine::run(&p.model, 20_000, &|_| {});
        RunSummary::new(&p.scenario, &p.table, &p.model, &d)
    };
    let (a, b) = (run(&icb), run(&practice));
    for (x, y) in a.icbs.iter().zip(&b.icbs) {
        // The ICB-level run has no uncertain factor: its cost is the expectation.
        assert_eq!(x.cost.sd, 0.0);
        let se = y.cost.mcse_mean;
        assert!(
            (y.cost.mean - x.cost.mean).abs() <= 4.0 * se,
            "{}: {} vs {} ± {se}",
            x.code,
            y.cost.mean,
            x.cost.mean
        );
        assert!(y.cost.sd > 0.0);
    }
}

/// Iterations enough for several blocks, the last one partial, so that a second thread has
/// work to take.
const SEVERAL_BLOCKS: usize = 5 * engine::BLOCK + 100;

/// Runs the model in a pool of `threads` workers; returns the draws and the workers that
/// finished a block. The progress callback runs on the worker that finished the block: the
/// first one waits there (up to 20 s) until another worker has finished one too, so that one
/// fast thread cannot do all the work before the others start and the test does not depend
/// on timing.
fn run_on(model: &icb_impact::model::Model, threads: usize) -> (engine::Draws, HashSet<usize>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let workers = Mutex::new(HashSet::new());
    let deadline = Instant::now() + Duration::from_secs(20);
    let draws = pool.install(|| {
        engine::run(model, SEVERAL_BLOCKS, &|_| {
            let worker = rayon::current_thread_index().expect("progress comes from a worker");
            workers.lock().unwrap().insert(worker);
            while workers.lock().unwrap().len() < threads && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    });
    (draws, workers.into_inner().unwrap())
}

#[test]
fn practice_level_work_is_shared_by_two_threads_and_gives_the_same_draws_as_one() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write("practices.csv", PRACTICES);
    let p = prepare(&Config::new(sb.write("s.toml", SCENARIO))).unwrap();
    let (one, one_workers) = run_on(&p.model, 1);
    let (two, two_workers) = run_on(&p.model, 2);
    assert_eq!(one_workers, HashSet::from([0]));
    assert_eq!(
        two_workers,
        HashSet::from([0, 1]),
        "both workers of the pool finished blocks"
    );
    assert_same_bits(&one.national, &two.national, "national totals");
    let (a, b) = (one.per_iteration(), two.per_iteration());
    assert_same_bits(&a.icb_total, &b.icb_total, "ICB totals");
    assert_same_bits(&a.action_total, &b.action_total, "ICB × action totals");
    // The tallies too (moments, sketches, exceedances), through everything a run shows: Debug
    // prints each f64 exactly.
    let summary =
        |d: &engine::Draws| format!("{:?}", RunSummary::new(&p.scenario, &p.table, &p.model, d));
    assert_eq!(summary(&one), summary(&two));
}

#[test]
fn practice_level_runs_are_identical_for_one_and_two_threads() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write("practices.csv", PRACTICES);
    sb.write("s.toml", SCENARIO);
    let iterations = SEVERAL_BLOCKS.to_string();
    for threads in ["1", "2"] {
        let out = sb.run(&[
            "run",
            "s.toml",
            "--iterations",
            &iterations,
            "--threads",
            threads,
            "--out",
            threads,
            "-q",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for file in [
        "icb_summary.csv",
        "action_summary.csv",
        "monthly.csv",
        "summary.json",
    ] {
        assert_eq!(
            std::fs::read(sb.path(&format!("1/{file}"))).unwrap(),
            std::fs::read(sb.path(&format!("2/{file}"))).unwrap(),
            "{file}"
        );
    }
    let manifest = std::fs::read_to_string(sb.path("1/manifest.json")).unwrap();
    assert!(
        manifest.contains("\"granularity\": \"practice\""),
        "{manifest}"
    );
    assert!(sb.path("1/inputs/practices.csv").is_file());
}

#[test]
fn every_shipped_scenario_runs_at_practice_level_on_the_embedded_tables() {
    for name in [
        "collective-action-2024.toml",
        "escalation-2026.toml",
        "medicines-optimisation-2024.toml",
        "nhse-activity-loss.toml",
    ] {
        let sb = Sandbox::new();
        let s = shipped(name);
        let out = sb.run(&[
            "run",
            s.to_str().unwrap(),
            "--granularity",
            "practice",
            "--iterations",
            "200",
            "--out",
            "o",
            "-q",
        ]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let rows = read_csv(&sb.path("o/icb_summary.csv"));
        // escalation-2026 is on the footprint of April 2026 (36 ICBs), the others on 2022's.
        let icbs = if name == "escalation-2026.toml" {
            36
        } else {
            42
        };
        assert_eq!(rows.len(), icbs + 1, "{name}");
    }
}

#[test]
fn practice_level_needs_to_know_the_share_taking_part() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write("practices.csv", PRACTICES);
    let text = SCENARIO
        .replace("[engagement]\ncurve = { \"2024-01\" = 0.5, \"2024-04\" = 0.8 }\nicb = { dist = \"fixed\", value = 1.0 }\n", "")
        .replace(", participation = true", "");
    sb.write("s.toml", &text);
    let out = sb.run(&["run", "s.toml", "--out", "o"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("s.toml: actions.act: granularity = \"practice\" draws whether each practice takes part"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("o").exists());
    // A participation flag on a cost line's factor is refused where it is.
    let text = SCENARIO.replace(
        "per_patient = 1.0",
        "per_patient = { dist = \"fixed\", value = 1.0, participation = true }",
    );
    sb.write("c.toml", &text);
    let out = sb.run(&["validate", "c.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("c.toml:21: actions.act.costs[0].factors.per_patient.participation: only an action's own factors"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_icb_without_practices_or_a_bad_practice_table_is_refused_with_its_line() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write(
        "practices.csv",
        "practice_code,icb_code,registered_patients\nP1,AAA,10\n",
    );
    sb.write("s.toml", SCENARIO);
    let out = sb.run(&["run", "s.toml", "--out", "o"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("has none for BBB"),
        "{}",
        stderr(&out)
    );
    sb.write(
        "practices.csv",
        "practice_code,icb_code,registered_patients\nP1,AAA,10\nP2,BBB,many\n",
    );
    let out = sb.run(&["run", "s.toml", "--out", "o"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("practices.csv:3: registered_patients: 'many' is not a number"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("o").exists());
}

#[test]
fn an_icb_map_adds_up_old_icbs_into_new_bodies() {
    let sb = Sandbox::new();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/icb-map-example.csv");
    let s = shipped("collective-action-2024.toml");
    let text = std::fs::read_to_string(&s).unwrap().replacen(
        "[scenario]\n",
        &format!("[scenario]\nicb_map = {:?}\n", fixture.to_str().unwrap()),
        1,
    );
    sb.write("s.toml", &text);
    let out = sb.run(&[
        "run",
        "s.toml",
        "--iterations",
        "2000",
        "--report",
        "--out",
        "o",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let icbs = read_csv(&sb.path("o/icb_summary.csv"));
    let mean_of = |code: &str| -> f64 {
        icbs.iter().find(|r| r[0] == code).unwrap()[3]
            .parse()
            .unwrap()
    };
    let map = read_csv(&fixture);
    let bodies = read_csv(&sb.path("o/body_summary.csv"));
    assert_eq!(
        &bodies[0][..4],
        ["body_code", "body_name", "former_icbs", "mean_gbp"]
    );
    let mut national = 0.0;
    for body in &bodies[1..] {
        let expected: f64 = map[1..]
            .iter()
            .filter(|r| r[1] == body[0])
            .map(|r| r[3].parse::<f64>().unwrap() * mean_of(&r[0]))
            .sum();
        let got: f64 = body[3].parse().unwrap();
        // Means are linear: to the rounding of the written figures.
        assert!(
            (got - expected).abs() <= 0.01 * map.len() as f64,
            "{}: {got} vs {expected}",
            body[0]
        );
        national += got;
    }
    let all: f64 = icbs[1..].iter().map(|r| r[3].parse::<f64>().unwrap()).sum();
    assert!((national - all).abs() <= 1.0, "{national} vs {all}");
    assert!(sb.path("o/inputs/icb_map.csv").is_file());
    // The briefing shows the new bodies too.
    let html = std::fs::read_to_string(sb.path("o/report.html")).unwrap();
    assert!(html.contains("<h2>The ICBs as reconfigured</h2>"));
    assert!(
        html.contains("QOX × 0.6"),
        "the split is shown with its share"
    );
    // The shipped map of the 2026 merger that can be sourced validates against the embedded table.
    let shipped_map = shipped("../data/icb-map-2026.csv");
    let m = sb.write(
        "m.toml",
        &text.replace(fixture.to_str().unwrap(), shipped_map.to_str().unwrap()),
    );
    let merged = sb.run(&["validate", m.to_str().unwrap()]);
    assert!(merged.status.success(), "{}", stderr(&merged));
}

#[test]
fn a_bad_icb_map_is_refused_with_every_problem() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", ICBS);
    sb.write(
        "map.csv",
        "icb_code,new_code,new_name,share\nAAA,N1,New,0.5\nXXX,N1,New,1\n",
    );
    let text = SCENARIO.replace("granularity = \"practice\"\n", "icb_map = \"map.csv\"\n");
    sb.write("s.toml", &text);
    let out = sb.run(&["run", "s.toml", "--out", "o"]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("map.csv:3: icb_code: 'XXX' is not in the ICB table"),
        "{e}"
    );
    assert!(
        e.contains("map.csv: share: the shares of ICB AAA add up to 0.5, not 1"),
        "{e}"
    );
    assert!(
        e.contains("map.csv: share: ICB BBB of the table is not mapped"),
        "{e}"
    );
    assert!(!sb.path("o").exists());
}
