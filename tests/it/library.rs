//! The scenario library: every shipped scenario validates and runs, and every factor names
//! its source.

use std::path::PathBuf;

use icb_impact::engine;
use icb_impact::pipeline::{prepare, Config};

use crate::{read_json, stderr, Sandbox};

fn scenarios() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_library_holds_the_four_documented_scenarios() {
    let names: Vec<String> = scenarios()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "collective-action-2024.toml",
            "escalation-2026.toml",
            "medicines-optimisation-2024.toml",
            "nhse-activity-loss.toml"
        ]
    );
}

#[test]
fn every_factor_of_every_scenario_names_its_source() {
    for path in scenarios() {
        let p = prepare(&Config::new(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut missing: Vec<String> = p
            .scenario
            .factors()
            .filter(|(_, f)| f.source.as_deref().is_none_or(|s| s.trim().is_empty()))
            .map(|(_, f)| f.path.clone())
            .collect();
        if let Some(e) = &p.scenario.engagement {
            if e.icb.source.is_none() || e.source.is_none() {
                missing.push("engagement".to_string());
            }
        }
        assert!(
            missing.is_empty(),
            "{}: factors without a source: {missing:?}",
            path.display()
        );
        // Assumptions are marked as such, and say so in their source.
        for (_, f) in p.scenario.factors().filter(|(_, f)| f.assumption) {
            assert!(!f.source.as_deref().unwrap_or("").is_empty(), "{}", f.path);
        }
    }
}

#[test]
fn every_money_factor_of_every_scenario_gives_its_price_year() {
    for path in scenarios() {
        let p = prepare(&Config::new(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            p.scenario.price_year.map(|y| y.to_string()).as_deref(),
            Some("2024/25"),
            "{}",
            path.display()
        );
        let unpriced: Vec<&str> = p
            .scenario
            .factors()
            .filter(|(_, f)| f.name.ends_with("_gbp") && f.price.is_none())
            .map(|(_, f)| f.path.as_str())
            .collect();
        assert!(
            unpriced.is_empty(),
            "{}: money factors without a price year: {unpriced:?}",
            path.display()
        );
        // Each says how it was converted, or why its year is assumed.
        for (_, f) in p.scenario.factors().filter(|(_, f)| f.price.is_some()) {
            let source = f.source.as_deref().unwrap_or("");
            assert!(
                source.contains("Price year") || source.contains("price year"),
                "{}: {source}",
                f.path
            );
        }
    }
}

#[test]
fn every_scenario_runs_in_both_cost_views() {
    for path in scenarios() {
        for view in ["icb_cash", "economic"] {
            let sb = Sandbox::new();
            let out = sb.run(&[
                "run",
                path.to_str().unwrap(),
                "--view",
                view,
                "--iterations",
                "300",
                "--out",
                "o",
                "-q",
            ]);
            assert!(
                out.status.success(),
                "{} ({view}): {}",
                path.display(),
                stderr(&out)
            );
            let summary: serde_json::Value = read_json(&sb.path("o/summary.json"));
            assert_eq!(summary["cost_view"], view);
            assert!(summary["national_total_gbp"]["mean"]
                .as_f64()
                .unwrap()
                .is_finite());
        }
    }
}

#[test]
fn the_whole_menu_models_all_nine_actions() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/collective-action-2024.toml");
    let p = prepare(&Config::new(&path)).unwrap();
    let ids: Vec<&str> = p.scenario.actions.iter().map(|a| a.id.as_str()).collect();
    // The BMA's 2024 menu, item by item, and the action that models it: items 6 (withdraw from
    // data-sharing agreements) and 7 (sign no new ones) are one action, `data_sharing`.
    let menu = [
        (1, "contact_cap"),
        (2, "advice_and_guidance"),
        (3, "notice_unfunded_services"),
        (4, "stop_rationing"),
        (5, "gp_connect_update_record"),
        (6, "data_sharing"),
        (7, "data_sharing"),
        (8, "medicines_optimisation"),
        (9, "digital_declarations"),
    ];
    let mut modelled: Vec<&str> = menu.iter().map(|&(_, id)| id).collect();
    modelled.dedup();
    assert_eq!(
        ids, modelled,
        "one action per menu item, 6 and 7 together, in menu order"
    );
    let data_sharing = &p.scenario.actions[ids.iter().position(|&i| i == "data_sharing").unwrap()];
    assert!(
        data_sharing
            .description
            .starts_with("Actions 6 and 7 together."),
        "{}",
        data_sharing.description
    );
    // docs/actions.md describes each item under the action that models it.
    let docs =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/actions.md"))
            .unwrap();
    for (item, id) in menu {
        let heading = match item {
            6 | 7 => "## Actions 6 and 7: ".to_string(),
            _ => format!("## Action {item}: "),
        };
        assert!(
            docs.lines()
                .any(|l| l.starts_with(&heading) && l.ends_with(&format!("(`{id}`)"))),
            "docs/actions.md has no heading for menu item {item} ({id})"
        );
    }
    assert!(p.scenario.engagement.is_some());
    // The withheld digital payments are a negative line that is zero by default.
    let d = engine::run(&p.model, 100, &|_| {});
    let digital = ids
        .iter()
        .position(|&i| i == "digital_declarations")
        .unwrap();
    assert!((0..42).all(|i| d.icb_action(i, digital).iter().all(|&x| x == 0.0)));
}

#[test]
fn a_scenario_sent_as_text_runs_as_its_file_does_and_may_not_name_files() {
    use icb_impact::pipeline::prepare_text;
    let (mut mapped, mut footprints) = (0, 0);
    for path in scenarios() {
        let text = std::fs::read(&path).unwrap();
        let config = Config {
            iterations: Some(300),
            ..Config::new(&path)
        };
        let from_file = prepare(&config).unwrap();
        let from_text = prepare_text("posted.toml", &text, &config).unwrap();
        if let Some(map) = &from_file.icb_map {
            // The shipped map is a table built into the tool, named as the scenario names it.
            let built_in = from_text.icb_map.as_ref().unwrap();
            assert_eq!(built_in.file.source, "embedded:data/icb-map-2026.csv");
            assert_eq!(built_in.file.sha256, map.file.sha256);
            assert_eq!(built_in.bodies, map.bodies);
            mapped += 1;
        }
        if let Some(rebuilt) = &from_file.footprint {
            // The shipped footprint is built into the tool too, and builds the same tables.
            let built_in = &from_text.footprint.as_ref().unwrap().footprint;
            assert_eq!(built_in.file.source, "embedded:data/footprint-2026.csv");
            assert_eq!(built_in.file.sha256, rebuilt.footprint.file.sha256);
            assert_eq!(built_in.bodies, rebuilt.footprint.bodies);
            assert_eq!(from_text.table.codes, from_file.table.codes);
            footprints += 1;
        }
        // The same through the configuration's text.
        let via_config = prepare(&Config {
            text: Some(text.clone()),
            ..config.clone()
        })
        .unwrap();
        assert_eq!(
            via_config.scenario_file.sha256,
            from_text.scenario_file.sha256
        );
        assert_eq!(from_text.scenario_file.source, "posted.toml");
        assert_eq!(
            from_text.scenario_file.sha256,
            from_file.scenario_file.sha256
        );
        let (a, b) = (
            engine::run(&from_file.model, 300, &|_| {}),
            engine::run(&from_text.model, 300, &|_| {}),
        );
        assert_eq!(a.national, b.national, "{}", path.display());
    }
    assert_eq!(mapped, 0, "no shipped scenario names an ICB map");
    assert_eq!(
        footprints, 1,
        "escalation-2026 names the built-in footprint"
    );
    // A file named in the text, or in the configuration, is refused before anything is read:
    // the message names the key and nothing of the file.
    let text = std::fs::read_to_string(&scenarios()[0]).unwrap();
    for (key, value) in [
        ("data", "/etc/passwd"),
        ("practices", "p.csv"),
        ("footprint", "f.csv"),
        ("icb_map", "m.csv"),
        ("posterior", "cal"),
    ] {
        let posted = text.replacen(
            "[scenario]\n",
            &format!("[scenario]\n{key} = \"{value}\"\n"),
            1,
        );
        let err = prepare_text("posted.toml", posted.as_bytes(), &Config::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(&format!("posted.toml: scenario.{key}: a scenario sent as text may use only the tables built into the tool")),
            "{err}"
        );
        assert!(!err.contains("root:"), "{err}");
    }
    let err = prepare_text(
        "posted.toml",
        text.as_bytes(),
        &Config {
            data: Some("/etc/passwd".into()),
            ..Config::default()
        },
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("scenario.data"), "{err}");
}
