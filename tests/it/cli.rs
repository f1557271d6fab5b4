//! The command line as a user meets it: help, validate, run from any directory on the
//! embedded table, the files written and what they hold.

use crate::{read_csv, read_json, shipped, stderr, stdout, Sandbox, TINY_ICBS};

#[test]
fn help_and_version_succeed() {
    let sb = Sandbox::new();
    let help = sb.run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = stdout(&help);
    for word in ["run", "validate", "decide", "Exit codes"] {
        assert!(text.contains(word), "{word} missing from --help:\n{text}");
    }
    let decide_help = stdout(&sb.run(&["decide", "--help"]));
    for flag in [
        "--iterations",
        "--seed",
        "--out",
        "--png",
        "--threads",
        "EVPPI",
    ] {
        assert!(
            decide_help.contains(flag),
            "{flag} missing from decide --help"
        );
    }
    let run_help = stdout(&sb.run(&["run", "--help"]));
    for flag in [
        "--iterations",
        "--seed",
        "--out",
        "--data",
        "--quiet",
        "--threads",
    ] {
        assert!(run_help.contains(flag), "{flag} missing from run --help");
    }
    let version = sb.run(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(stdout(&version).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_readme_example_is_exactly_what_run_prints() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("```text\nMedicines optimisation switch-off")
        .expect("the README's example output")
        + "```text\n".len();
    let example = &readme[start..start + readme[start..].find("```").unwrap()];
    // The README's command, from the repository's root: the scenario by its relative path,
    // results under output/.
    let sb = Sandbox::new();
    std::fs::create_dir(sb.path("scenarios")).unwrap();
    std::fs::copy(
        shipped("medicines-optimisation-2024.toml"),
        sb.path("scenarios/medicines-optimisation-2024.toml"),
    )
    .unwrap();
    let out = sb.run(&["run", "scenarios/medicines-optimisation-2024.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), example);
}

#[test]
fn validate_prints_what_would_be_simulated_and_writes_nothing() {
    let sb = Sandbox::new();
    let out = sb.run(&[
        "validate",
        shipped("medicines-optimisation-2024.toml")
            .to_str()
            .unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "is valid",
        "Period:     2024-08 to 2025-01 (6 months)",
        "ICB table:  embedded:data/icbs.csv (42 ICBs",
        "Action medicines_optimisation (Switch off medicines optimisation software): 2024-08 to 2025-01",
        "Cost view:  icb_cash (ICB cash)",
        "participation (icb, participation): PERT from 0.2 to 0.65, most likely 0.35; mean 0.375000; ASSUMPTION",
        "  path: actions.medicines_optimisation.factors.participation\n",
        "    path: actions.medicines_optimisation.costs[0].factors.savings_per_patient_gbp\n",
        "Cost line: Prescribing savings lost = registered_patients × factors × w(m) / 12",
        "source: ",
        "Prices:     2024/25: 1 factor with a price year, converted to 2024/25 with the HM Treasury GDP deflator (embedded:data/deflators.csv)",
        "      as written: min 0.5 (2019/20 prices), mode 1.25 (2019/20), max 2.5 (2019/20); in 2024/25 prices (the HM Treasury GDP deflator): min 0.62, mode 1.55, max 3.09\n",
    ] {
        assert!(text.contains(expected), "missing «{expected}» in:\n{text}");
    }
    assert_eq!(std::fs::read_dir(sb.dir.path()).unwrap().count(), 0);
}

#[test]
fn run_works_from_any_directory_on_the_embedded_table() {
    let sb = Sandbox::new();
    let scenario = shipped("medicines-optimisation-2024.toml");
    let out = sb.run(&["run", scenario.to_str().unwrap(), "--iterations", "2000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Default directory: output/<scenario file stem>, relative to where it was run.
    let dir = sb.path("output/medicines-optimisation-2024");
    assert!(dir.join("manifest.json").is_file());
    let text = stdout(&out);
    assert!(
        text.contains("National cost:")
            && text.contains("Results in output/medicines-optimisation-2024"),
        "{text}"
    );
    // Progress and messages go to stderr, not stdout.
    assert!(stderr(&out).contains("Simulating"));

    let icbs = read_csv(&dir.join("icb_summary.csv"));
    assert_eq!(icbs.len(), 43);
    assert_eq!(icbs[1][0], "QOQ");
    let actions = read_csv(&dir.join("action_summary.csv"));
    assert_eq!(
        actions[0],
        [
            "icb_code",
            "action",
            "mean_gbp",
            "p05_gbp",
            "p50_gbp",
            "p95_gbp",
            "cost_view"
        ]
    );
    assert_eq!(actions.len(), 1 + 42);
    let monthly = read_csv(&dir.join("monthly.csv"));
    assert_eq!(
        monthly[0],
        [
            "month",
            "mean_gbp",
            "p05_gbp",
            "p50_gbp",
            "p95_gbp",
            "cost_view"
        ]
    );
    assert_eq!(
        monthly
            .iter()
            .skip(1)
            .map(|r| r[0].as_str())
            .collect::<Vec<_>>(),
        ["2024-08", "2024-09", "2024-10", "2024-11", "2024-12", "2025-01"]
    );

    // The ICB rows and the national figures agree: means add up.
    let sum_of_means: f64 = icbs
        .iter()
        .skip(1)
        .map(|r| r[3].parse::<f64>().unwrap())
        .sum();
    let summary: serde_json::Value = read_json(&dir.join("summary.json"));
    let national = summary["national_total_gbp"]["mean"].as_f64().unwrap();
    assert!(
        (sum_of_means - national).abs() < 1.0,
        "{sum_of_means} vs {national}"
    );
    let last_month: f64 = monthly[6][1].parse().unwrap();
    assert!((last_month - national).abs() < 1.0);
    assert_eq!(summary["iterations"], 2000);
    assert_eq!(summary["reference"]["per_icb_gbp"], 2_000_000.0);
    assert!((summary["mean_per_icb_gbp"]["mean"].as_f64().unwrap() - national / 42.0).abs() < 0.01);
    assert!(summary["national_total_gbp"]["mcse_mean"].as_f64().unwrap() > 0.0);

    let manifest: serde_json::Value = read_json(&dir.join("manifest.json"));
    assert_eq!(manifest["data"]["path"], "embedded:data/icbs.csv");
    assert_eq!(manifest["scenario"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(manifest["seed"], 20240801);

    for chart in ["icb_costs", "distribution", "actions", "monthly"] {
        // PNGs only when asked for (see charts_are_svg_and_png_when_asked_for).
        assert!(!dir.join(format!("charts/{chart}.png")).exists());
        let svg = std::fs::read_to_string(dir.join(format!("charts/{chart}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("£"),
            "{chart}.svg has no £ labels"
        );
    }
}

/// The charts of `dir`, each with `svg` and `png` when it has that file.
fn chart_files(dir: &std::path::Path) -> Vec<(String, bool, bool)> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("charts"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let has = |ext: &str| dir.join(format!("charts/{name}.{ext}")).is_file();
            (name.clone(), has("svg"), has("png"))
        })
        .collect()
}

#[test]
fn charts_are_svg_and_png_when_asked_for() {
    let sb = Sandbox::new();
    let s = shipped("medicines-optimisation-2024.toml");
    let run = |out: &str, more: &[&str]| {
        let args = [
            &[
                "run",
                s.to_str().unwrap(),
                "--iterations",
                "500",
                "--out",
                out,
                "-q",
            ],
            more,
        ]
        .concat();
        let o = sb.run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        read_json(&sb.path(&format!("{out}/manifest.json")))["png"].clone()
    };
    assert_eq!(run("svg", &[]), false);
    assert_eq!(run("both", &["--png", "--settlement"]), true);
    let (svg, both) = (chart_files(&sb.path("svg")), chart_files(&sb.path("both")));
    assert_eq!(svg.len(), 7, "{svg:?}");
    assert!(svg.iter().all(|(_, svg, png)| *svg && !*png), "{svg:?}");
    assert_eq!(both.len(), 8, "the seven and the cost of delay: {both:?}");
    assert!(both.iter().all(|(_, svg, png)| *svg && *png), "{both:?}");
    for (name, _, _) in &both {
        let png = std::fs::read(sb.path(&format!("both/charts/{name}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{name}.png is not a PNG");
    }
    // `report DIR` reproduces the run as it was written: with its PNGs, or without.
    for (dir, before) in [("svg", svg), ("both", both)] {
        let o = sb.run(&["report", dir, "-q"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(chart_files(&sb.path(dir)), before, "{dir}");
    }
}

#[test]
fn png_charts_have_rendered_text() {
    // Without a font the PNG would hold only lines and boxes; the title and labels add many
    // dark anti-aliased pixels in the title band at the top.
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let scenario = std::fs::read_to_string(shipped("medicines-optimisation-2024.toml")).unwrap();
    let scenario = scenario.replace(
        "driver = \"prescribing_cost_gbp\"",
        "driver = \"gp_practices\"",
    );
    sb.write("s.toml", &scenario);
    let out = sb.run(&[
        "run",
        "s.toml",
        "--data",
        "icbs.csv",
        "--out",
        "o",
        "--iterations",
        "300",
        "--png",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = std::fs::read_to_string(sb.path("o/charts/icb_costs.svg")).unwrap();
    assert!(
        svg.contains("of 4 ICBs have a mean cost above the £2.00m reference"),
        "title missing"
    );
    let png = std::fs::read(sb.path("o/charts/icb_costs.png")).unwrap();
    // The PNG is compressed; a rendered title makes it far larger than the bare frame would.
    assert!(
        png.len() > 20_000,
        "icb_costs.png is only {} bytes",
        png.len()
    );
}

/// The attribute `name` of an SVG element's text.
fn attr<'a>(element: &'a str, name: &str) -> &'a str {
    let start = element
        .find(&format!(" {name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {element}"))
        + name.len()
        + 3;
    &element[start..start + element[start..].find('"').unwrap()]
}

#[test]
fn category_charts_keep_bars_apart_and_titles_inside_the_chart() {
    // The whole menu: eight actions with long labels, seven regions.
    let sb = Sandbox::new();
    let out = sb.run(&[
        "run",
        shipped("collective-action-2024.toml").to_str().unwrap(),
        "--out",
        "o",
        "--iterations",
        "300",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut charts = 0;
    for entry in std::fs::read_dir(sb.path("o/charts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "svg") {
            continue;
        }
        charts += 1;
        let svg = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let width: f64 = attr(&svg, "width").parse().unwrap();
        // Titles: bold text, measured with the bundled font at the size drawn (plotters
        // writes a font of size s as font-size s / 1.24).
        let titles: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter(|t| t.contains("font-weight=\"bold\""))
            .collect();
        assert!(!titles.is_empty(), "{name}: no title");
        for t in titles {
            let x: f64 = attr(t, "x").parse().unwrap();
            let size: f64 = attr(t, "font-size").parse::<f64>().unwrap() * 1.24;
            let text = t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()].trim();
            let text = text.replace("&amp;", "&");
            let right = x + icb_impact::chart::text_width(&text, size, true);
            assert!(
                right <= width - 10.0,
                "{name}: «{text}» runs to {right:.0} of {width} pixels"
            );
        }
        // Bar charts of categories: bars a row apart, each 60% of its row.
        if ["actions.svg", "regions.svg"].contains(&name.as_str()) {
            let mut bars: Vec<(f64, f64)> = svg
                .split("<rect")
                .skip(2)
                .map(|r| {
                    (
                        attr(r, "y").parse().unwrap(),
                        attr(r, "height").parse().unwrap(),
                    )
                })
                .collect();
            bars.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(bars.len() >= 7, "{name}: {} bars", bars.len());
            let pitch = (bars[bars.len() - 1].0 - bars[0].0) / (bars.len() - 1) as f64;
            for w in bars.windows(2) {
                assert!(
                    (w[1].0 - w[0].0 - pitch).abs() <= 1.0,
                    "{name}: uneven rows"
                );
                assert!(
                    w[1].0 - (w[0].0 + w[0].1) >= 0.35 * pitch,
                    "{name}: bars touch"
                );
            }
            for &(_, height) in &bars {
                assert!(
                    (height - 0.6 * pitch).abs() <= 1.0,
                    "{name}: bar {height} of a {pitch} row"
                );
            }
        }
    }
    assert!(charts >= 7, "{charts} charts");
}

#[test]
fn data_flag_replaces_the_table_and_is_recorded() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    sb.write(
        "s.toml",
        "[scenario]\nname = \"d\"\nstart = \"2024-08\"\nmonths = 2\n[actions.a]\n[[actions.a.costs]]\ndriver = \"registered_patients\"\nfactors = { r = 1.2 }\n",
    );
    let out = sb.run(&[
        "run",
        "s.toml",
        "--data",
        "icbs.csv",
        "--out",
        "o",
        "-q",
        "--iterations",
        "5",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&sb.path("o/icb_summary.csv"));
    assert_eq!(rows.len(), 5);
    // 1,000,000 patients × £1.2 a year × 2 months / 12.
    assert_eq!(rows[1][3], "200000.0");
    let manifest: serde_json::Value = read_json(&sb.path("o/manifest.json"));
    assert_eq!(manifest["data"]["path"], "icbs.csv");
}

#[test]
fn an_action_outside_the_horizon_is_warned_about() {
    let sb = Sandbox::new();
    sb.write(
        "s.toml",
        "[scenario]\nname = \"w\"\nstart = \"2024-08\"\nmonths = 2\n[actions.late]\nstart = \"2026-01\"\n[[actions.late.costs]]\nfactors = { r = 1 }\n",
    );
    let out = sb.run(&["validate", "s.toml"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("warning: action 'late' has effect 2026-01 to the end, outside the horizon 2024-08 to 2024-09: it adds nothing"), "{}", stderr(&out));
}

/// A scenario with one money factor, in the prices `scenario_year` (none when empty) with the
/// factor's `factor_year` (none when empty).
fn priced_scenario(scenario_year: &str, factor_year: &str) -> String {
    let scenario_year = match scenario_year {
        "" => String::new(),
        y => format!("price_year = \"{y}\"\n"),
    };
    let factor_year = match factor_year {
        "" => String::new(),
        y => format!(", price_year = \"{y}\""),
    };
    format!(
        "[scenario]\nname = \"p\"\nstart = \"2024-08\"\nmonths = 6\n{scenario_year}\n\
         [actions.a]\n[[actions.a.costs]]\ndriver = \"registered_patients\"\n\
         factors = {{ cost_gbp = {{ dist = \"pert\", min = 0.5, mode = 2.5, max = 6.2{factor_year} }} }}\n"
    )
}

#[test]
fn price_years_convert_money_factors_and_the_manifest_records_them() {
    let sb = Sandbox::new();
    let run = |name: &str, text: &str| -> (f64, serde_json::Value) {
        sb.write(&format!("{name}.toml"), text);
        let out = sb.run(&[
            "run",
            &format!("{name}.toml"),
            "--out",
            name,
            "--iterations",
            "500",
            "-q",
        ]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let read = |file: &str| -> serde_json::Value { read_json(&sb.path(name).join(file)) };
        let summary = read("summary.json");
        (
            summary["national_total_gbp"]["mean"].as_f64().unwrap(),
            read("manifest.json"),
        )
    };
    let (plain, plain_manifest) = run("plain", &priced_scenario("", ""));
    let (same, _) = run("same", &priced_scenario("2024/25", "2024/25"));
    let (old, manifest) = run("old", &priced_scenario("2024/25", "2016/17"));
    // Without a price year nothing is converted, and the manifest has no prices.
    assert!(plain_manifest.get("prices").is_none(), "{plain_manifest}");
    // A factor already in the scenario's prices is unchanged, bit for bit.
    assert_eq!(plain.to_bits(), same.to_bits());
    // From 2016/17 prices every draw is scaled by index[2024/25] ÷ index[2016/17].
    let ratio = 100.0 / 76.0754;
    assert!(
        ((old / plain) / ratio - 1.0).abs() < 1e-9,
        "{old} / {plain} is not {ratio}"
    );
    assert_eq!(manifest["prices"]["price_year"], "2024/25");
    assert_eq!(
        manifest["prices"]["deflators"]["path"],
        "embedded:data/deflators.csv"
    );
    assert_eq!(
        manifest["prices"]["deflators"]["sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
}
