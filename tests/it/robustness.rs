//! Hostile input and faults: numbers that overflow, interrupted and killed runs, unwritable
//! outputs, absurd sizes; and pinned values that catch an accidental change in sampling.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use icb_impact::engine;
use icb_impact::pipeline::{prepare, Config};
use icb_impact::summary::RunSummary;

use crate::{shipped, stderr, Sandbox, TINY_ICBS};

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".icb-impact-"))
        .collect()
}

#[test]
fn an_overflowing_driver_is_a_clear_error_naming_the_line() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", "icb_code,icb_name,n\nA,Alpha,1e308\nB,Beta,1\n");
    sb.write(
        "s.toml",
        "[scenario]\nname = \"o\"\nstart = \"2024-01\"\nmonths = 12\ndata = \"icbs.csv\"\n[actions.a]\n[[actions.a.costs]]\ndriver = \"n\"\n\
         factors = { rate = { dist = \"uniform\", min = 10, max = 20 } }\n",
    );
    let out = sb.run(&["run", "s.toml", "--out", "o", "--iterations", "50"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("s.toml:9: actions.a.costs[0].factors.rate: multiplying by its draw"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("makes the cost inf (iteration 0, ICB A)"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("o").exists());
}

#[test]
fn a_lognormal_with_an_extreme_interval_is_caught_before_anything_is_written() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write(
        "s.toml",
        "[scenario]\nname = \"o\"\nstart = \"2024-01\"\nmonths = 12\ndata = \"icbs.csv\"\n[actions.a]\n[[actions.a.costs]]\ndriver = \"registered_patients\"\n\
         factors = { wild = { dist = \"lognormal\", p05 = 1e-300, p95 = 1e300 } }\n",
    );
    let out = sb.run(&["run", "s.toml", "--out", "o", "--iterations", "2000"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("actions.a.costs[0].factors.wild"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("o").exists());
}

#[test]
fn an_unwritable_output_directory_fails_with_exit_1_and_writes_nothing() {
    let sb = Sandbox::new();
    sb.write("not-a-directory", "x");
    let s = shipped("medicines-optimisation-2024.toml");
    let out = sb.run(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        "not-a-directory/run",
        "--iterations",
        "100",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot create"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(sb.path("not-a-directory")).unwrap(),
        "x"
    );
    assert!(leftovers(sb.dir.path()).is_empty());
}

#[test]
fn an_absurd_iteration_count_is_refused_before_any_work() {
    let sb = Sandbox::new();
    let s = shipped("collective-action-2024.toml");
    let started = Instant::now();
    let out = sb.run(&[
        "run",
        s.to_str().unwrap(),
        "--iterations",
        "100000000000",
        "--out",
        "o",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("100000000000 iterations need about"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!sb.path("o").exists());
}

/// Starts a long run into `run` (which already holds a finished run), sends `signal` after a
/// second, and returns the exit status.
fn interrupt(sb: &Sandbox, signal: &str) -> std::process::ExitStatus {
    let s = shipped("medicines-optimisation-2024.toml");
    let s = s.to_str().unwrap();
    assert!(sb
        .run(&["run", s, "--iterations", "200", "--out", "run", "-q"])
        .status
        .success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_icb-impact"))
        .args(["run", s, "--iterations", "4000000", "--out", "run", "-q"])
        .current_dir(sb.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run finished before it could be interrupted"
    );
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    child.wait().unwrap()
}

fn previous_run_is_intact(sb: &Sandbox) {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.path("run/manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["iterations"], 200,
        "the previous results were replaced"
    );
    assert_eq!(
        std::fs::read_to_string(sb.path("run/icb_summary.csv"))
            .unwrap()
            .lines()
            .count(),
        43
    );
}

#[test]
fn ctrl_c_stops_a_run_with_exit_130_and_leaves_the_previous_results() {
    let sb = Sandbox::new();
    let status = interrupt(&sb, "-INT");
    assert_eq!(status.code(), Some(130));
    previous_run_is_intact(&sb);
    assert!(
        leftovers(sb.dir.path()).is_empty(),
        "{:?}",
        leftovers(sb.dir.path())
    );
}

#[test]
fn sigterm_stops_a_run_the_same_way() {
    let sb = Sandbox::new();
    let status = interrupt(&sb, "-TERM");
    assert_eq!(status.code(), Some(130));
    previous_run_is_intact(&sb);
    assert!(leftovers(sb.dir.path()).is_empty());
}

#[test]
fn a_killed_run_loses_nothing_and_the_next_run_clears_its_temporary_directory() {
    let sb = Sandbox::new();
    let status = interrupt(&sb, "-KILL");
    assert_eq!(status.code(), None, "killed by a signal");
    previous_run_is_intact(&sb);
    let s = shipped("medicines-optimisation-2024.toml");
    assert!(sb
        .run(&[
            "run",
            s.to_str().unwrap(),
            "--iterations",
            "300",
            "--out",
            "other",
            "-q"
        ])
        .status
        .success());
    assert!(
        leftovers(sb.dir.path()).is_empty(),
        "{:?}",
        leftovers(sb.dir.path())
    );
}

#[test]
fn pinned_values_catch_any_change_in_sampling() {
    // A tiny scenario with one factor of every distribution. These numbers were produced by
    // this code with rand 0.10.3, rand_distr 0.6.0 and rand_xoshiro 0.8.1; a change in any of
    // them, in the stream keys or in the formula shows up here.
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let text = r#"
[scenario]
name = "pinned"
start = "2024-08"
months = 6
seed = 7
data = "icbs.csv"

[actions.a]
ramp = { shape = "exponential", tau_months = 4 }
factors = { u = { dist = "uniform", min = 0.5, max = 1.5 }, t = { dist = "triangular", min = 0, mode = 1, max = 3, vary = "icb" } }

[[actions.a.costs]]
driver = "registered_patients"
factors = { p = { dist = "pert", min = 0.5, mode = 2.5, max = 6.2 }, n = { dist = "normal", mean = 1, sd = 0.1 }, l = { dist = "lognormal", p05 = 0.4, p95 = 0.8 }, b = { dist = "beta", alpha = 2, beta = 5 }, h = { dist = "bernoulli", p = 0.7, vary = "icb" } }
"#;
    let p = prepare(&Config::new(&sb.write("p.toml", text))).unwrap();
    let d = engine::run(&p.model, 1000, &|_| {});
    let s = RunSummary::new(&p.scenario, &p.table, &p.model, &d);
    let pinned = [
        (s.national.mean, PINNED_MEAN),
        (s.national.p05, PINNED_P05),
        (s.national.p95, PINNED_P95),
        (s.icbs[0].cost.mean, PINNED_ICB0_MEAN),
    ];
    for (k, (got, expected)) in pinned.iter().enumerate() {
        assert!(
            (got - expected).abs() <= 1e-12 * expected.abs(),
            "value {k}: {got:?} vs pinned {expected:?}"
        );
    }
}

const PINNED_MEAN: f64 = 405137.33957008744;
const PINNED_P05: f64 = 8590.477997849388;
const PINNED_P95: f64 = 1349048.735448609;
const PINNED_ICB0_MEAN: f64 = 117901.5561995455;
