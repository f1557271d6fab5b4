//! Hostile input and faults: numbers that overflow, interrupted and killed runs, unwritable
//! outputs, absurd sizes; and pinned values that catch an accidental change in sampling.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use icb_impact::engine;
use icb_impact::pipeline::{prepare, Config};
use icb_impact::summary::RunSummary;

use crate::{files, read_json, shipped, stderr, Sandbox, TINY_ICBS};

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".icb-impact-"))
        .collect()
}

/// Fails if a temporary directory of the tool is left in the sandbox.
fn no_leftovers(sb: &Sandbox) {
    let left = leftovers(sb.dir.path());
    assert!(left.is_empty(), "temporary directories left: {left:?}");
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

/// The shipped scenario the interruption tests run, with `iterations` iterations into `run`.
fn run_args(iterations: &str) -> Vec<String> {
    let s = shipped("medicines-optimisation-2024.toml");
    [
        "run",
        s.to_str().unwrap(),
        "--iterations",
        iterations,
        "--out",
        "run",
        "-q",
    ]
    .map(String::from)
    .to_vec()
}

/// Runs into `run` once, for results an interrupted run must leave as they were; returns every
/// file of them.
fn previous_run(sb: &Sandbox) -> BTreeMap<String, Vec<u8>> {
    let out = sb.run(
        &run_args("200")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    files(&sb.path("run"))
}

/// Sends `signal` to `child` with kill(1).
fn signal(child: &Child, signal: &str) {
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Starts a long run into `run` (which already holds a finished run), sends `signal` after a
/// second and a half, while it is still simulating, and returns the exit status.
fn interrupt_while_simulating(sb: &Sandbox, sig: &str) -> std::process::ExitStatus {
    let mut child = Command::new(env!("CARGO_BIN_EXE_icb-impact"))
        .args(run_args("4000000"))
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
    signal(&child, sig);
    child.wait().unwrap()
}

/// Starts a run into `run` (which already holds a finished run) that pauses once its new
/// directory is fully written, before moving it into place (`ICB_IMPACT_PAUSE_BEFORE_RENAME`,
/// see `output::replace_dir`); sends `signal` during the pause and returns the exit status.
fn interrupt_while_writing(sb: &Sandbox, sig: &str) -> std::process::ExitStatus {
    let paused = sb.path("paused");
    let mut child = Command::new(env!("CARGO_BIN_EXE_icb-impact"))
        .args(run_args("300"))
        .env("ICB_IMPACT_PAUSE_BEFORE_RENAME", &paused)
        .current_dir(sb.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !paused.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before it paused");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run did not pause within a minute"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The pause comes after everything is written: the new results sit, complete, in the
    // temporary directory beside `run`.
    let new = format!(".icb-impact-new-{}-", child.id());
    let pending = leftovers(sb.dir.path());
    assert!(
        matches!(&pending[..], [name] if name.starts_with(&new)),
        "{pending:?}"
    );
    let written = sb.path(&pending[0]).join("manifest.json");
    let manifest: serde_json::Value = read_json(&written);
    assert_eq!(manifest["iterations"], 300);
    signal(&child, sig);
    child.wait().unwrap()
}

fn previous_run_is_intact(sb: &Sandbox, before: &BTreeMap<String, Vec<u8>>) {
    let after = files(&sb.path("run"));
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in before {
        assert!(&after[name] == bytes, "{name} of the previous run changed");
    }
}

#[test]
fn ctrl_c_while_simulating_stops_with_exit_130_and_leaves_the_previous_results() {
    let sb = Sandbox::new();
    let before = previous_run(&sb);
    let status = interrupt_while_simulating(&sb, "-INT");
    assert_eq!(status.code(), Some(130));
    previous_run_is_intact(&sb, &before);
    no_leftovers(&sb);
}

#[test]
fn ctrl_c_while_writing_exits_130_keeps_the_previous_results_and_removes_the_new_ones() {
    let sb = Sandbox::new();
    let before = previous_run(&sb);
    let status = interrupt_while_writing(&sb, "-INT");
    assert_eq!(status.code(), Some(130));
    previous_run_is_intact(&sb, &before);
    no_leftovers(&sb);
}

#[test]
fn sigterm_while_writing_stops_the_same_way() {
    let sb = Sandbox::new();
    let before = previous_run(&sb);
    let status = interrupt_while_writing(&sb, "-TERM");
    assert_eq!(status.code(), Some(130));
    previous_run_is_intact(&sb, &before);
    no_leftovers(&sb);
}

#[test]
fn a_run_killed_while_writing_loses_nothing_and_the_next_run_clears_its_temporary_directory() {
    let sb = Sandbox::new();
    let before = previous_run(&sb);
    let status = interrupt_while_writing(&sb, "-KILL");
    assert_eq!(status.code(), None, "killed by a signal");
    previous_run_is_intact(&sb, &before);
    // A killed process cannot clean up: its temporary directory is left behind...
    let abandoned = leftovers(sb.dir.path());
    assert_eq!(abandoned.len(), 1, "{abandoned:?}");
    assert!(abandoned[0].starts_with(".icb-impact-new-"));
    // ...until the next run beside it, which removes it and replaces the results.
    let out = sb.run(
        &run_args("300")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    no_leftovers(&sb);
    let manifest: serde_json::Value = read_json(&sb.path("run/manifest.json"));
    assert_eq!(manifest["iterations"], 300);
}

#[test]
fn pinned_values_catch_any_change_in_sampling() {
    // A tiny scenario with one factor of every distribution. These numbers were produced by
    // this code with the keyed SplitMix64 streams (v2), the table sampler for PERT and Beta,
    // rand 0.10.3 and rand_distr 0.6.0; a change in any of them, in the stream keys or in the
    // formula shows up here.
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
    let p = prepare(&Config::new(sb.write("p.toml", text))).unwrap();
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

const PINNED_MEAN: f64 = 387891.25990970235;
const PINNED_P05: f64 = 17184.549310135513;
const PINNED_P95: f64 = 1276245.0342856308;
const PINNED_ICB0_MEAN: f64 = 117289.91462738161;
