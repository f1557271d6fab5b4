//! Writes the compiled whole-menu model over twelve months as JSON, with the engine's own
//! summaries of a run of the same size, for the NumPy peer (`benches/numpy_peer.py`): every
//! cost line (its action, driver per ICB, constant, national and ICB-level factors, month
//! weights), every uncertain factor's distribution (and baseline), the regions, and the mean
//! and standard deviation the engine finds for the national total, each action and each ICB.
//!
//! `cargo run --release --example numpy_model -- ITERATIONS OUT.json [SCENARIO]`

use std::path::Path;

use icb_impact::engine::{self, Keep};
use icb_impact::model::Slot;
use serde_json::{json, Value};

fn dist(slot: &Slot) -> Value {
    let spec = slot.dist.spec();
    let params: serde_json::Map<String, Value> = spec
        .values()
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let baseline = slot.baseline.as_ref().map(|(_, b)| {
        let params: serde_json::Map<String, Value> = b
            .spec()
            .values()
            .into_iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        json!({"dist": b.spec().name(), "params": params})
    });
    assert!(
        slot.region_correlation == 0.0,
        "the NumPy peer has no regional copula"
    );
    json!({"path": slot.path, "dist": spec.name(), "params": params, "baseline": baseline})
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (n, out, scenario) = match args.as_slice() {
        [_, n, out] => (n, out, None),
        [_, n, out, scenario] => (n, out, Some(scenario)),
        _ => {
            eprintln!("usage: numpy_model ITERATIONS OUT.json [SCENARIO]");
            std::process::exit(2);
        }
    };
    let n: usize = n.parse().expect("iterations");
    let path = scenario.map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/collective-action-2024.toml"),
        |s| Path::new(s).to_path_buf(),
    );
    let text =
        std::fs::read_to_string(&path)
            .expect("scenario")
            .replacen("months = 6", "months = 12", 1);
    let dir = tempfile::tempdir().expect("temporary directory");
    let twelve = dir.path().join("scenario-12-months.toml");
    std::fs::write(&twelve, text).expect("temporary scenario");
    let p = icb_impact::pipeline::prepare(&icb_impact::pipeline::Config::new(&twelve))
        .expect("valid scenario");
    let m = &p.model;
    assert!(
        m.practices.is_none() && m.own.is_empty() && m.correlation.is_none(),
        "the NumPy peer covers ICB-level Monte Carlo models without overrides or correlations"
    );
    let n_icb = m.n_icb();
    let lines: Vec<Value> = m
        .lines
        .iter()
        .map(|l| {
            json!({
                "action": l.action,
                "driver": l.driver.clone().unwrap_or_else(|| vec![1.0; n_icb]),
                "constant": l.constant,
                "national": l.national,
                "per_icb": l.per_icb,
                "month_weights": l.month_weights,
            })
        })
        .collect();
    let groups: Vec<Value> = m
        .groups
        .iter()
        .map(|g| json!({"members": g.members}))
        .collect();
    let draws = engine::run_from(m, 0, n, Keep::Tallies, &|_| {});
    let summary = |q: usize| {
        let t = draws.tally(q);
        json!({"mean": t.moments.mean, "sd": t.moments.sd()})
    };
    let layout = draws.layout;
    let engine = json!({
        "national": summary(layout.national()),
        "actions": (0..m.n_actions).map(|a| summary(layout.action(a))).collect::<Vec<_>>(),
        "icbs": (0..n_icb).map(|i| summary(layout.icb(i))).collect::<Vec<_>>(),
    });
    let model = json!({
        "iterations": n,
        "n_icb": n_icb,
        "n_actions": m.n_actions,
        "months": m.months,
        "reference": m.reference,
        "national": m.national.iter().map(dist).collect::<Vec<_>>(),
        "per_icb": m.per_icb.iter().map(dist).collect::<Vec<_>>(),
        "lines": lines,
        "groups": groups,
        "engine": engine,
    });
    std::fs::write(out, serde_json::to_string(&model).expect("JSON")).expect("write");
}
