//! Same scenario, data and seed → the same bytes, whatever the thread count; draws keyed by
//! factor identity, so adding an action leaves the others' results unchanged.

use icb_impact::engine::{self, Keep};
use icb_impact::pipeline::{prepare, Config};

use crate::{assert_same_bits, files, read_csv, read_json, shipped, Sandbox};

/// The manifest without the two fields that describe the machine rather than the result.
fn manifest_without_circumstances(bytes: &[u8]) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let m = v.as_object_mut().unwrap();
    assert!(m.remove("threads").is_some() && m.remove("wall_time_seconds").is_some());
    v
}

#[test]
fn outputs_are_byte_identical_for_one_and_two_threads() {
    let sb = Sandbox::new();
    let scenario = shipped("medicines-optimisation-2024.toml");
    let scenario = scenario.to_str().unwrap();
    let args = |out: &'static str| {
        vec![
            "run",
            scenario,
            "--iterations",
            "3000",
            "--report",
            "--samples",
            "--png",
            "--out",
            out,
            "--quiet",
        ]
    };
    let one = sb.run_env(&args("one"), &[("RAYON_NUM_THREADS", "1")]);
    let two = sb.run_env(&args("two"), &[("RAYON_NUM_THREADS", "2")]);
    let three = sb.run(&[args("three"), vec!["--threads", "3"]].concat());
    for o in [&one, &two, &three] {
        assert!(o.status.success(), "{}", crate::stderr(o));
    }
    let (a, b, c) = (
        files(&sb.path("one")),
        files(&sb.path("two")),
        files(&sb.path("three")),
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let expected = [
        "action_summary.csv",
        "activity.csv",
        "activity_monthly.csv",
        "charts/actions.png",
        "charts/actions.svg",
        "charts/convergence.png",
        "charts/convergence.svg",
        "charts/distribution.png",
        "charts/distribution.svg",
        "charts/exceedance.png",
        "charts/exceedance.svg",
        "charts/icb_costs.png",
        "charts/icb_costs.svg",
        "charts/monthly.png",
        "charts/monthly.svg",
        "charts/regions.png",
        "charts/regions.svg",
        "convergence.csv",
        "icb_summary.csv",
        "inputs/icbs.csv",
        "inputs/scenario.toml",
        "manifest.json",
        "monthly.csv",
        "region_summary.csv",
        "report.html",
        "report.xlsx",
        "samples.parquet",
        "summary.json",
    ];
    assert_eq!(a.keys().map(String::as_str).collect::<Vec<_>>(), expected);
    for (name, bytes) in &a {
        if name == "manifest.json" {
            let m = manifest_without_circumstances(bytes);
            assert_eq!(m, manifest_without_circumstances(&b[name]));
            assert_eq!(m, manifest_without_circumstances(&c[name]));
        } else {
            assert!(
                bytes == &b[name] && bytes == &c[name],
                "{name} differs between thread counts"
            );
        }
    }
    let m: serde_json::Value = serde_json::from_slice(&a["manifest.json"]).unwrap();
    assert_eq!(m["threads"], 1);
    let m: serde_json::Value = serde_json::from_slice(&b["manifest.json"]).unwrap();
    assert_eq!(m["threads"], 2);
}

#[test]
fn another_seed_gives_other_numbers_and_the_same_seed_the_same() {
    let sb = Sandbox::new();
    let scenario = shipped("medicines-optimisation-2024.toml");
    let s = scenario.to_str().unwrap();
    for (out, seed) in [("a", "1"), ("b", "1"), ("c", "2")] {
        assert!(sb
            .run(&[
                "run",
                s,
                "--iterations",
                "500",
                "--seed",
                seed,
                "--out",
                out,
                "-q"
            ])
            .status
            .success());
    }
    let read = |d: &str| std::fs::read(sb.path(d).join("icb_summary.csv")).unwrap();
    assert_eq!(read("a"), read("b"));
    assert_ne!(read("a"), read("c"));
    let summary: serde_json::Value = read_json(&sb.path("c/summary.json"));
    assert_eq!(summary["seed"], 2);
}

#[test]
fn adding_an_action_leaves_every_other_draw_unchanged() {
    let sb = Sandbox::new();
    let base = std::fs::read_to_string(shipped("medicines-optimisation-2024.toml")).unwrap();
    // An uncertain action inserted before the existing one, with national and ICB-level factors.
    let extra = base.replacen(
        "[actions.medicines_optimisation]",
        "[actions.advice_and_guidance]\nfactors = { p = { dist = \"uniform\", min = 0, max = 1, vary = \"icb\" } }\n\
         [[actions.advice_and_guidance.costs]]\ndriver = \"registered_patients\"\n\
         factors = { r = { dist = \"pert\", min = 0.1, mode = 0.2, max = 0.5 } }\n\n[actions.medicines_optimisation]",
        1,
    );
    sb.write("base.toml", &base);
    sb.write("extra.toml", &extra);
    for (s, out) in [("base.toml", "base"), ("extra.toml", "extra")] {
        let o = sb.run(&["run", s, "--iterations", "2000", "--out", out, "-q"]);
        assert!(o.status.success(), "{}", crate::stderr(&o));
    }
    let rows = |out: &str| -> Vec<Vec<String>> {
        read_csv(&sb.path(out).join("action_summary.csv"))
            .into_iter()
            .filter(|r| r[1] == "medicines_optimisation")
            .collect()
    };
    let (base_rows, extra_rows) = (rows("base"), rows("extra"));
    assert_eq!(base_rows.len(), 42);
    assert_eq!(base_rows, extra_rows);
    // ...while the totals do change.
    assert_ne!(
        std::fs::read(sb.path("base/icb_summary.csv")).unwrap(),
        std::fs::read(sb.path("extra/icb_summary.csv")).unwrap()
    );
}

/// The whole-menu scenario with a new action inserted before all the others, with a national
/// factor, an ICB-level factor and a participation factor of its own, and `extra` factors on
/// its cost line.
fn with_an_action_first(base: &str, extra: &str) -> String {
    let first = format!(
        "[actions.first]\n\
         factors = {{ joining = {{ dist = \"pert\", min = 0.2, mode = 0.5, max = 0.9, participation = true }}, \
         local = {{ dist = \"uniform\", min = 0, max = 1, vary = \"icb\" }} }}\n\n\
         [[actions.first.costs]]\ndriver = \"registered_patients\"\n\
         factors = {{ rate = {{ dist = \"pert\", min = 0.1, mode = 0.2, max = 0.5 }}{extra} }}\n\n\
         [actions.contact_cap]"
    );
    assert!(base.contains("\n[actions.contact_cap]\n"));
    base.replacen("[actions.contact_cap]", &first, 1)
}

#[test]
fn an_action_inserted_before_the_others_leaves_each_of_their_draws_bit_equal() {
    let sb = Sandbox::new();
    let base = std::fs::read_to_string(shipped("collective-action-2024.toml")).unwrap();
    let iterations = 1500;
    let config = |path| Config {
        iterations: Some(iterations as u64),
        ..Config::new(path)
    };
    let a = prepare(&config(sb.write("a.toml", &base))).unwrap();
    let b = prepare(&config(
        sb.write("b.toml", &with_an_action_first(&base, "")),
    ))
    .unwrap();
    assert_eq!(b.scenario.actions[0].id, "first");
    assert_eq!(b.scenario.actions.len(), 9);
    // What `compare` does: both runs with the same seed and iterations, every iteration kept.
    assert_eq!(a.model.seed, b.model.seed);
    let run = |p: &icb_impact::pipeline::Prepared| {
        engine::run_from(&p.model, 0, iterations, Keep::PerIteration, &|_| {})
    };
    let (da, db) = (run(&a), run(&b));
    for (k, action) in a.scenario.actions.iter().enumerate() {
        assert_eq!(b.scenario.actions[k + 1].id, action.id);
        for (icb, code) in a.table.codes.iter().enumerate() {
            assert_same_bits(
                &da.icb_action(icb, k),
                &db.icb_action(icb, k + 1),
                &format!(
                    "{} in ICB {code}, by iteration, with an action inserted before it",
                    action.id
                ),
            );
        }
    }
    // The new action does cost something, so B − A is not zero.
    assert!(db.icb_action(0, 0).iter().any(|&x| x > 0.0));
}

#[test]
fn compare_finds_exactly_no_difference_when_the_inserted_action_costs_nothing() {
    // The inserted action draws all its factors, but a bernoulli that never happens zeroes its
    // cost: with common random numbers every ICB's B − A is then exactly zero in every
    // iteration, and so are the paired summaries.
    let sb = Sandbox::new();
    let base = std::fs::read_to_string(shipped("collective-action-2024.toml")).unwrap();
    sb.write("a.toml", &base);
    sb.write(
        "b.toml",
        &with_an_action_first(&base, ", never = { dist = \"bernoulli\", p = 0 }"),
    );
    let out = sb.run(&[
        "compare",
        "a.toml",
        "b.toml",
        "--iterations",
        "1500",
        "--out",
        "c",
        "-q",
    ]);
    assert!(out.status.success(), "{}", crate::stderr(&out));
    let rows = read_csv(&sb.path("c/compare.csv"));
    assert_eq!(
        rows[0][4..11].join(","),
        "mean_a_gbp,mean_b_gbp,mean_diff_gbp,p05_diff_gbp,p50_diff_gbp,p95_diff_gbp,prob_b_greater"
    );
    assert_eq!(rows.len(), 1 + 42 + 1);
    for r in &rows[1..] {
        assert_eq!(r[4], r[5], "{r:?}");
        assert!(r[4].parse::<f64>().unwrap() > 0.0, "{r:?}");
        for v in &r[6..11] {
            assert_eq!(v.parse::<f64>().unwrap(), 0.0, "{r:?}");
        }
    }
}
