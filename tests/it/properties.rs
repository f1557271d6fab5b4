//! Property tests: for any valid generated scenario the outputs are finite, ordered and add
//! up; and the scenario parser and the readers of the ICB table, the practice table and the
//! ICB map never panic, whatever they are given.

use std::path::Path;

use icb_impact::data::IcbTable;
use icb_impact::icb_map::IcbMap;
use icb_impact::practices::PracticeTable;
use icb_impact::scenario::parse;
use icb_impact::summary::RunSummary;
use proptest::prelude::*;

use crate::{Sandbox, TINY_ICBS};

/// A valid distribution table (or a bare number), as TOML.
fn dist() -> impl Strategy<Value = String> {
    prop_oneof![
        (0.0f64..5.0).prop_map(|v| format!("{v}")),
        (0.0f64..2.0, 0.1f64..3.0)
            .prop_map(|(a, w)| format!("{{ dist = \"uniform\", min = {a}, max = {} }}", a + w)),
        (0.0f64..2.0, 0.0f64..1.0, 0.1f64..3.0).prop_map(|(a, m, w)| format!(
            "{{ dist = \"pert\", min = {a}, mode = {}, max = {} }}",
            a + m * w,
            a + w
        )),
        (0.0f64..2.0, 0.0f64..1.0, 0.1f64..3.0, any::<bool>()).prop_map(|(a, m, w, icb)| format!(
            "{{ dist = \"triangular\", min = {a}, mode = {}, max = {}, vary = \"{}\" }}",
            a + m * w,
            a + w,
            if icb { "icb" } else { "national" }
        )),
        (0.01f64..1.0, 1.1f64..5.0)
            .prop_map(|(a, r)| format!("{{ dist = \"lognormal\", p05 = {a}, p95 = {} }}", a * r)),
        (0.1f64..5.0, 0.1f64..5.0)
            .prop_map(|(a, b)| format!("{{ dist = \"beta\", alpha = {a}, beta = {b} }}")),
        (0.0f64..=1.0).prop_map(|p| format!("{{ dist = \"bernoulli\", p = {p}, vary = \"icb\" }}")),
        (0.2f64..1.0, 0.0f64..0.5).prop_map(|(x, b)| format!(
            "{{ dist = \"uniform\", min = 0, max = {x}, baseline = {b} }}"
        )),
    ]
}

/// A valid scenario of one to three actions with one or two cost lines each.
fn scenario() -> impl Strategy<Value = String> {
    let line = (
        prop::option::of(prop_oneof![
            Just("registered_patients"),
            Just("gp_practices")
        ]),
        prop::collection::vec(dist(), 0..3),
        any::<bool>(),
    );
    let action = (
        0u32..4,
        prop::option::of(1u32..6),
        1u32..4,
        any::<bool>(),
        prop::collection::vec(dist(), 0..2),
        prop::collection::vec(line, 1..3),
    );
    (1u32..13, prop::collection::vec(action, 1..4)).prop_map(|(months, actions)| {
        let mut text = format!("[scenario]\nname = \"p\"\nstart = \"2024-08\"\nmonths = {months}\ndata = \"icbs.csv\"\n");
        for (a, (offset, length, ramp, exponential, factors, lines)) in actions.iter().enumerate() {
            let start = 8 + offset;
            text.push_str(&format!("[actions.a{a}]\nstart = \"{}-{:02}\"\n", 2024 + (start - 1) / 12, (start - 1) % 12 + 1));
            if let Some(len) = length {
                let end = start + len;
                text.push_str(&format!("end = \"{}-{:02}\"\n", 2024 + (end - 1) / 12, (end - 1) % 12 + 1));
            }
            if *exponential {
                text.push_str(&format!("ramp = {{ shape = \"exponential\", tau_months = {ramp} }}\n"));
            } else {
                text.push_str(&format!("ramp_months = {ramp}\n"));
            }
            let named = |fs: &[String], p: &str| -> String {
                fs.iter().enumerate().map(|(k, f)| format!("{p}{k} = {f}")).collect::<Vec<_>>().join(", ")
            };
            text.push_str(&format!("factors = {{ {} }}\n", named(factors, "f")));
            for (driver, factors, negative) in lines {
                text.push_str(&format!("[[actions.a{a}.costs]]\n"));
                if let Some(d) = driver {
                    text.push_str(&format!("driver = \"{d}\"\n"));
                }
                text.push_str(&format!("negative = {negative}\nfactors = {{ {} }}\n", named(factors, "g")));
            }
        }
        text
    })
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    // 48 cases in CI; PROPTEST_CASES=N runs more (a longer fuzz, locally).
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48), ..ProptestConfig::default() })]

    #[test]
    fn outputs_of_any_valid_scenario_are_finite_ordered_and_add_up(text in scenario()) {
        let sb = Sandbox::new();
        sb.write("icbs.csv", TINY_ICBS);
        let path = sb.write("s.toml", &text);
        let p = icb_impact::pipeline::prepare(&icb_impact::pipeline::Config::new(&path)).unwrap();
        let d = icb_impact::engine::run(&p.model, 300, &|_| {});
        let s = RunSummary::new(&p.scenario, &p.table, &p.model, &d);
        let all = s.icbs.iter().map(|r| &r.cost)
            .chain(s.icb_actions.iter().map(|r| &r.cost))
            .chain(s.actions.iter().map(|r| &r.cost))
            .chain(s.monthly.iter().map(|r| &r.cumulative))
            .chain(s.regions.iter().map(|r| &r.cost))
            .chain([&s.national, &s.per_icb_average]);
        for c in all {
            for v in [c.mean, c.sd, c.p05, c.p50, c.p95, c.min, c.max, c.mcse_mean] {
                prop_assert!(v.is_finite());
            }
            prop_assert!(c.min <= c.p05 && c.p05 <= c.p50 && c.p50 <= c.p95 && c.p95 <= c.max);
            prop_assert!(c.min - 1e-9 * c.min.abs() <= c.mean && c.mean <= c.max + 1e-9 * c.max.abs());
        }
        // Actions add up to ICBs, ICBs to regions and to the nation, months to the nation.
        for it in 0..d.iterations {
            let row = &d.per_iteration().icb_total[it * d.n_icb..(it + 1) * d.n_icb];
            for (i, total) in row.iter().enumerate() {
                let parts: f64 = (0..d.n_actions).map(|a| d.per_iteration().action_total[(it * d.n_icb + i) * d.n_actions + a]).sum();
                prop_assert!(close(parts, *total));
            }
            prop_assert!(close(row.iter().sum(), d.national[it]));
        }
        let months = &s.monthly.last().expect("a month").cumulative;
        prop_assert!(close(months.mean, s.national.mean));
        let regions: f64 = s.regions.iter().map(|r| r.cost.mean).sum();
        prop_assert!(close(regions, s.national.mean));
        let actions: f64 = s.actions.iter().map(|a| a.cost.mean).sum();
        prop_assert!(close(actions, s.national.mean));
    }

    #[test]
    fn the_scenario_parser_never_panics_on_mutated_input(text in scenario(), cut in 0usize..4000, junk in "[ -~\\n\\[\\]{}=\"]{0,40}") {
        // Splice printable junk into a valid scenario at any point: the parser reports
        // problems (or accepts), but never panics.
        let at = text.char_indices().map(|(k, _)| k).nth(cut % text.chars().count().max(1)).unwrap_or(0);
        let mutated = format!("{}{junk}{}", &text[..at], &text[at..]);
        let _ = parse(&mutated, "m.toml", Path::new(""));
    }

    #[test]
    fn a_value_of_another_kind_anywhere_in_a_scenario_is_judged_with_problems_on_its_lines(
        text in scenario(),
        pick in 0usize..400,
        value in prop_oneof![
            Just("\"text\""), Just("true"), Just("[1, 2]"), Just("{ a = 1 }"), Just("-1.0e308"),
            Just("nan"), Just("inf"), Just("-0"), Just("1979-05-27"), Just("\"2024-13\""),
            Just("[]"), Just("{}"), Just("18446744073709551615"), Just("-5"),
        ],
    ) {
        // Structured: the TOML stays valid and only one value changes kind or range, so the
        // reader gets past the first line and judges every field. It never panics, and every
        // problem it finds is on a line of the file.
        let starts: Vec<usize> = text.match_indices(" = ").map(|(k, _)| k + 3).collect();
        let at = starts[pick % starts.len()];
        let end = at + text[at..].find([',', '}', '\n']).unwrap_or(text.len() - at);
        let mutated = format!("{}{value}{}", &text[..at], &text[end..]);
        let lines = mutated.lines().count();
        if let Err(problems) = parse(&mutated, "m.toml", Path::new("")) {
            prop_assert!(!problems.problems.is_empty());
            for p in &problems.problems {
                prop_assert!(p.line.is_none_or(|l| (1..=lines).contains(&l)), "{p:?} in\n{mutated}");
                prop_assert!(!p.message.is_empty());
            }
        }
    }

    #[test]
    fn the_scenario_parser_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
        let _ = parse(&text, "a.toml", Path::new(""));
    }

    #[test]
    fn the_icb_table_reader_never_panics(text in "[a-z0-9_,.\\-\\n\" ]{0,300}") {
        let _ = IcbTable::from_csv(text.as_bytes(), "t.csv", &["n".to_string(), "icb_name".to_string()]);
        let with_header = format!("icb_code,icb_name,n\n{text}");
        let _ = IcbTable::from_csv(with_header.as_bytes(), "t.csv", &["n".to_string()]);
    }

    #[test]
    fn the_practice_table_and_icb_map_readers_never_panic(text in "[A-Za-z0-9_,.\\-\\n\" ]{0,300}") {
        let table = IcbTable::from_csv(TINY_ICBS.as_bytes(), "icbs.csv", &[]).unwrap();
        let _ = PracticeTable::from_csv(text.as_bytes(), "p.csv");
        let with_header = format!("practice_code,icb_code,registered_patients,prescribing_cost_gbp\n{text}");
        let _ = PracticeTable::from_csv(with_header.as_bytes(), "p.csv");
        let _ = IcbMap::from_csv(text.as_bytes(), "m.csv", &table);
        let with_header = format!("icb_code,new_code,new_name,share\n{text}");
        let _ = IcbMap::from_csv(with_header.as_bytes(), "m.csv", &table);
    }
}
