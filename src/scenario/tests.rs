//! Scenario parsing: defaults, and data-driven error tests (a snippet of TOML and the exact
//! problems expected, each with its line and field).

use super::*;
use crate::rng;

const MINIMAL: &str = r#"
[scenario]
name = "t"
start = "2024-08"
months = 6

[actions.a]
[[actions.a.costs]]
driver = "registered_patients"
factors = { rate = 2.5 }
"#;

fn parse_ok(text: &str) -> Scenario {
    match parse(text, "s.toml", Path::new("/base")) {
        Ok(s) => s,
        Err(e) => panic!("unexpected problems:\n{e}"),
    }
}

/// The problems reported for `text`, one per line, as a user would see them.
fn problems(text: &str) -> Vec<String> {
    match parse(text, "s.toml", Path::new("")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string().lines().map(str::to_string).collect(),
    }
}

/// `MINIMAL` with `line` replaced by `with`.
fn edit(line: &str, with: &str) -> String {
    assert!(MINIMAL.contains(line), "{line} not in the minimal scenario");
    MINIMAL.replacen(line, with, 1)
}

/// Each case edits `MINIMAL` (a line, what replaces it) and expects a problem that `found`
/// pairs with the expected text.
fn check_each(cases: &[(&str, &str, &str)], found: fn(&str, &str) -> bool) {
    for (line, with, expected) in cases {
        let got = problems(&edit(line, with));
        assert!(
            got.iter().any(|p| found(p, expected)),
            "{with}\nexpected: {expected}\ngot: {got:#?}"
        );
    }
}

#[test]
fn minimal_scenario_takes_documented_defaults() {
    let s = parse_ok(MINIMAL);
    assert_eq!(s.iterations, DEFAULT_ITERATIONS);
    assert_eq!(s.seed, DEFAULT_SEED);
    assert_eq!(s.reference, default_reference());
    assert_eq!(s.data, None);
    assert_eq!(s.end().to_string(), "2025-01");
    assert_eq!(s.period(), "2024-08 to 2025-01 (6 months)");
    let a = &s.actions[0];
    assert_eq!(
        (
            a.label.as_str(),
            a.timing.start,
            a.timing.end,
            a.timing.ramp
        ),
        ("a", s.start, None, Ramp::Linear { months: 1 })
    );
    assert_eq!(
        (a.engaged, a.timing.notice_months, s.cost_view),
        (false, 0, CostView::IcbCash)
    );
    let line = &a.costs[0];
    assert_eq!(
        (line.negative, line.views.len(), &line.timing),
        (false, 2, &a.timing)
    );
    assert_eq!(a.costs[0].label, "cost line 1");
    let f = &a.costs[0].factors[0];
    assert_eq!(
        (f.path.as_str(), f.vary, f.dist.mean()),
        ("actions.a.costs[0].factors.rate", Vary::National, 2.5)
    );
}

#[test]
fn full_scenario_reads_every_field() {
    let s = parse_ok(
        r#"
[scenario]
name = "n"
description = "d"
start = "2024-08"
months = 12
iterations = 500
seed = 7
data = "../data/icbs.csv"

[reference]
per_icb_gbp = 4200000
label = "BOB"
source = "HL"

[actions.b]
label = "Second"
start = "2024-09"
end = "2025-01"
ramp_months = 3
factors = { p = { dist = "pert", min = 0.2, mode = 0.35, max = 0.65, vary = "icb", source = "src", assumption = true } }

[[actions.b.costs]]
label = "L"
factors = { x = { dist = "lognormal", p05 = 1, p95 = 4 }, y = { dist = "bernoulli", p = 0.5 } }

[actions.a]
[[actions.a.costs]]
factors = { z = { dist = "fixed", value = 3, source = "known" } }
"#,
    );
    assert_eq!((s.iterations, s.seed, s.months), (500, 7, 12));
    assert_eq!(s.data.as_deref(), Some(Path::new("/base/../data/icbs.csv")));
    assert_eq!(s.reference.label, "BOB");
    // File order, not alphabetical.
    assert_eq!(
        s.actions.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );
    let b = &s.actions[0];
    assert_eq!(
        (b.timing.ramp, b.timing.end.unwrap().to_string()),
        (Ramp::Linear { months: 3 }, "2025-01".to_string())
    );
    let p = &b.factors[0];
    assert_eq!(
        (p.vary, p.assumption, p.source.as_deref()),
        (Vary::Icb, true, Some("src"))
    );
    assert_eq!(p.line, 21);
    assert_eq!(s.factors().count(), 4);
    assert_eq!(s.actions[1].costs[0].factors[0].dist.mean(), 3.0);
}

#[test]
fn a_custom_reference_without_label_is_labelled_by_its_value() {
    let s = parse_ok(&format!("{MINIMAL}\n[reference]\nper_icb_gbp = 4200000\n"));
    assert_eq!(s.reference.label, "£4.20m per ICB");
    assert_eq!(s.reference.source, "");
}

#[test]
fn malformed_toml_names_the_line() {
    assert_eq!(problems("[scenario]\nname = \"t\nmonths = 6\n").len(), 1);
    let p = problems("[scenario]\nname = \"t\"\nmonths = = 6\n");
    assert!(p[0].starts_with("s.toml:3: toml: malformed TOML"), "{p:?}");
}

#[test]
fn each_bad_value_is_reported_with_line_and_field() {
    let cases: &[(&str, &str, &str)] = &[
        ("months = 6", "months = 0", "s.toml:5: scenario.months: must be a whole number from 1 to 600, found 0"),
        ("months = 6", "months = -3", "s.toml:5: scenario.months: must be a whole number from 1 to 600, found -3"),
        ("months = 6", "months = \"six\"", "s.toml:5: scenario.months: invalid type: string \"six\", expected i64"),
        ("start = \"2024-08\"", "start = \"2024-13\"", "s.toml:4: scenario.start: '2024-13' is not a month: write YYYY-MM, e.g. 2024-08"),
        ("start = \"2024-08\"", "start = \"Aug 2024\"", "s.toml:4: scenario.start: 'Aug 2024' is not a month: write YYYY-MM, e.g. 2024-08"),
        ("name = \"t\"", "", "s.toml:2: scenario.name: required but missing"),
        ("rate = 2.5", "rate = { dist = \"gamma\", shape = 2 }", "s.toml:10: actions.a.costs[0].factors.rate.dist: unknown dist 'gamma'; expected one of: fixed, uniform, triangular, pert, normal, lognormal, beta, bernoulli"),
        ("rate = 2.5", "rate = { dist = \"uniform\", min = 3, max = 1 }", "s.toml:10: actions.a.costs[0].factors.rate: min 3 must be less than max 1 (for a known value write a number)"),
        ("rate = 2.5", "rate = { dist = \"pert\", min = 0, mode = 2, max = 1 }", "s.toml:10: actions.a.costs[0].factors.rate: mode 2 is outside [min 0, max 1]"),
        ("rate = 2.5", "rate = { dist = \"triangular\", min = 0, mode = -1, max = 1 }", "s.toml:10: actions.a.costs[0].factors.rate: mode -1 is outside [min 0, max 1]"),
        ("rate = 2.5", "rate = { dist = \"normal\", mean = 1, sd = 0 }", "s.toml:10: actions.a.costs[0].factors.rate: sd 0 must be greater than 0"),
        ("rate = 2.5", "rate = { dist = \"normal\", mean = 1, sd = -2 }", "s.toml:10: actions.a.costs[0].factors.rate: sd -2 must be greater than 0"),
        ("rate = 2.5", "rate = { dist = \"lognormal\", p05 = 5, p95 = 5 }", "s.toml:10: actions.a.costs[0].factors.rate: p05 5 must be less than p95 5"),
        ("rate = 2.5", "rate = { dist = \"bernoulli\", p = 1.2 }", "s.toml:10: actions.a.costs[0].factors.rate: p 1.2 is a probability and must lie in [0, 1]"),
        ("rate = 2.5", "rate = { dist = \"bernoulli\", p = -0.1 }", "s.toml:10: actions.a.costs[0].factors.rate: p -0.1 is a probability and must lie in [0, 1]"),
        ("rate = 2.5", "rate = { dist = \"beta\", alpha = 0, beta = 2 }", "s.toml:10: actions.a.costs[0].factors.rate: alpha 0 must be greater than 0"),
        ("rate = 2.5", "rate = { dist = \"pert\", min = 0, max = 1 }", "s.toml:10: actions.a.costs[0].factors.rate.mode: required but missing"),
        ("rate = 2.5", "rate = { dist = \"pert\", min = 0, mode = 0.5, max = 1, vary = \"region\" }", "s.toml:10: actions.a.costs[0].factors.rate.vary: unknown vary 'region'; expected \"national\" or \"icb\""),
        ("rate = 2.5", "rate = \"high\"", "s.toml:10: actions.a.costs[0].factors.rate: expected a number or a distribution such as { dist = \"pert\", min = 0.2, mode = 0.35, max = 0.65 }, found a string"),
        ("rate = 2.5", "rate = nan", "s.toml:10: actions.a.costs[0].factors.rate: value must be a finite number, found NaN"),
        ("[actions.a]", "[actions.a]\nstart = \"2025-01\"\nend = \"2024-12\"", "s.toml:9: actions.a.end: end 2024-12 is before start 2025-01"),
        ("[actions.a]", "[actions.a]\nramp_months = 0", "s.toml:8: actions.a.ramp_months: must be a whole number of months from 1 to 600, found 0"),
    ];
    check_each(cases, |problem, expected| problem == expected);
}

#[test]
fn unknown_keys_are_rejected_at_every_level() {
    // Each message lists the keys the reader asked for, in the order it reads them: the one
    // list of a table's keys is the code that reads them.
    let cases: &[(&str, &str, &str)] = &[
        ("[scenario]", "[scenario]\nseeds = 1", "s.toml:3: scenario.seeds: unknown key 'seeds'; expected one of: price_year, name, description, start, months, iterations, seed, data, cost_view, sampling, granularity, practices, footprint, icb_map, posterior, calibration_discrepancy"),
        ("[actions.a]", "[output]\nx = 1\n[actions.a]", "s.toml:7: output: unknown key 'output'; expected one of: scenario, reference, engagement, actions, correlations, overrides, options, factor_groups"),
        ("[actions.a]", "[actions.a]\nlable = \"x\"", "s.toml:8: actions.a.lable: unknown key 'lable'; expected one of: label, description, start, end, ramp_months, ramp, notice_months, recovery, engaged, factors, costs"),
        ("driver = \"registered_patients\"", "driver = \"registered_patients\"\ndrivers = \"x\"", "s.toml:10: actions.a.costs[0].drivers: unknown key 'drivers'; expected one of: label, driver, factors, description, negative, views, ramp_months, ramp, notice_months, recovery, activity, unit_cost"),
        ("rate = 2.5", "rate = { dist = \"pert\", min = 0, mde = 0.5, max = 1 }", "s.toml:10: actions.a.costs[0].factors.rate.mde: unknown key 'mde'; expected one of: dist, source, assumption, price_year, participation, vary, view, baseline, region_correlation, min, mode, max"),
    ];
    check_each(cases, |problem, expected| problem == expected);
}

#[test]
fn every_problem_in_a_file_is_reported_at_once() {
    let text = r#"
[scenario]
name = "t"
start = "2024-13"
months = 0
colour = "red"

[actions.a]
end = "someday"
[[actions.a.costs]]
factors = { x = { dist = "pert", min = 1, mode = 5, max = 2 }, y = { dist = "normal", mean = 0, sd = 0 } }

[actions.b]
label = "no costs"
"#;
    let got = problems(text);
    let expected = [
        "s.toml:4: scenario.start",
        "s.toml:5: scenario.months",
        "s.toml:6: scenario.colour: unknown key",
        "s.toml:9: actions.a.end",
        "s.toml:11: actions.a.costs[0].factors.x: mode 5 is outside",
        "s.toml:11: actions.a.costs[0].factors.y: sd 0",
        "s.toml:13: actions.b.costs: at least one",
    ];
    for e in expected {
        assert!(
            got.iter().any(|p| p.starts_with(e)),
            "missing {e} in {got:#?}"
        );
    }
    assert_eq!(got.len(), expected.len(), "{got:#?}");
}

#[test]
fn a_scenario_needs_actions_with_cost_lines() {
    let only_scenario = "[scenario]\nname = \"t\"\nstart = \"2024-08\"\nmonths = 6\n";
    assert!(problems(only_scenario)[0].contains("actions: required"));
    let empty_costs = format!("{only_scenario}[actions.a]\ncosts = []\n");
    assert!(
        problems(&empty_costs)[0].contains("actions.a.costs: at least one cost line is required")
    );
    assert!(problems("")[0].contains("scenario: required"));
}

#[test]
fn stream_identity_is_the_factor_path() {
    // Adding an action must not change another factor's stream.
    let one = parse_ok(MINIMAL);
    let two = parse_ok(&format!(
        "{MINIMAL}\n[actions.b]\n[[actions.b.costs]]\nfactors = {{ q = 1 }}\n"
    ));
    assert_eq!(
        one.actions[0].costs[0].factors[0].stream,
        two.actions[0].costs[0].factors[0].stream
    );
    assert_eq!(
        two.actions[1].costs[0].factors[0].stream,
        rng::key("actions.b.costs[0].factors.q")
    );
}

#[test]
fn extension_keys_are_read() {
    let s = parse_ok(
        r#"
[scenario]
name = "x"
start = "2024-08"
months = 12
cost_view = "economic"

[engagement]
curve = { "2024-11" = 0.70, "2024-08" = 0.46 }
icb = { dist = "pert", min = 0.5, mode = 1, max = 1.35 }

[actions.a]
ramp = { shape = "exponential", tau_months = 8 }
notice_months = 2

[[actions.a.costs]]
negative = true
views = ["icb_cash"]
ramp_months = 4
factors = { p = { dist = "uniform", min = 0.2, max = 0.6, baseline = { dist = "pert", min = 0.05, mode = 0.1, max = 0.2 }, view = "icb_cash" } }

[actions.b]
engaged = false
[[actions.b.costs]]
notice_months = 0
"#,
    );
    assert_eq!(s.cost_view, CostView::Economic);
    let e = s.engagement.as_ref().unwrap();
    // Points sorted by month; linear between, flat outside.
    assert_eq!(e.curve[0].1, 0.46);
    assert_eq!(e.icb.vary, Vary::Icb);
    assert!((e.share("2024-09".parse().unwrap()) - 0.54).abs() < 1e-12);
    assert_eq!(e.share("2024-01".parse().unwrap()), 0.46);
    assert_eq!(e.share("2026-01".parse().unwrap()), 0.70);
    let a = &s.actions[0];
    assert!(a.engaged);
    assert_eq!(a.timing.ramp, Ramp::Exponential { tau_months: 8.0 });
    assert_eq!(a.timing.effect_start().to_string(), "2024-10");
    let line = &a.costs[0];
    assert!(line.negative);
    assert_eq!(line.views, vec![CostView::IcbCash]);
    assert_eq!(line.timing.ramp, Ramp::Linear { months: 4 });
    assert_eq!(line.timing.notice_months, 2);
    let f = &line.factors[0];
    assert_eq!(f.view, Some(CostView::IcbCash));
    let b = f.baseline.as_ref().unwrap();
    assert_eq!(b.stream, rng::key("actions.a.costs[0].factors.p.baseline"));
    assert!(!s.actions[1].engaged);
    assert_eq!(s.actions[1].costs[0].timing.notice_months, 0);
}

#[test]
fn extension_keys_are_checked() {
    let cases: &[(&str, &str, &str)] = &[
        ("[actions.a]", "[actions.a]\nramp = { shape = \"sigmoid\" }", "s.toml:8: actions.a.ramp.shape: unknown shape 'sigmoid'; expected \"linear\" or \"exponential\""),
        ("[actions.a]", "[actions.a]\nramp = { shape = \"exponential\", tau_months = 0 }", "s.toml:8: actions.a.ramp.tau_months: must be a number of months above 0, found 0"),
        ("[actions.a]", "[actions.a]\nramp = { shape = \"exponential\" }", "s.toml:8: actions.a.ramp.tau_months: required for an exponential ramp"),
        ("[actions.a]", "[actions.a]\nramp_months = 2\nramp = { shape = \"linear\", months = 2 }", "s.toml:9: actions.a.ramp: give either ramp_months or ramp, not both"),
        ("[actions.a]", "[actions.a]\nnotice_months = -1", "s.toml:8: actions.a.notice_months: must be a whole number of months from 0 to 600, found -1"),
        ("[actions.a]", "[actions.a]\nengaged = true", "s.toml:8: actions.a.engaged: there is no [engagement] section to apply"),
        ("driver = \"registered_patients\"", "driver = \"registered_patients\"\nviews = [\"cash\"]", "s.toml:10: actions.a.costs[0].views: expected a non-empty list of \"icb_cash\" and \"economic\", found [\"cash\"]"),
        ("rate = 2.5", "rate = { dist = \"fixed\", value = 1, view = \"nhs\" }", "s.toml:10: actions.a.costs[0].factors.rate.view: unknown view 'nhs'; expected \"icb_cash\" or \"economic\""),
        ("rate = 2.5", "rate = { dist = \"fixed\", value = 1, baseline = { dist = \"fixed\", value = 0, vary = \"icb\" } }", "s.toml:10: actions.a.costs[0].factors.rate.baseline.vary: unknown key 'vary'; expected one of: dist, source, assumption, value"),
        ("months = 6", "months = 6\ncost_view = \"cash\"", "s.toml:6: scenario.cost_view: unknown cost_view 'cash'; expected \"icb_cash\" or \"economic\""),
        ("[actions.a]", "[engagement]\ncurve = { \"2024-08\" = 1.5 }\nicb = 1\n[actions.a]", "s.toml:8: engagement.curve.2024-08: share 1.5 must lie in [0, 1]"),
        ("[actions.a]", "[engagement]\ncurve = { \"Aug\" = 0.5 }\n[actions.a]", "s.toml:8: engagement.curve.Aug: 'Aug' is not a month: write YYYY-MM, e.g. 2024-08"),
        ("[actions.a]", "[engagement]\ncurve = { \"Aug\" = 0.5 }\n[actions.a]", "s.toml:7: engagement.icb: required: the ICB's engagement relative to the national mean, e.g. { dist = \"pert\", min = 0.5, mode = 1, max = 1.35 }"),
    ];
    check_each(cases, |problem, expected| problem == expected);
}

/// Each variant's `as_str` is its serde name both ways; the names, in declaration order.
fn words<T>(variants: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug + Copy,
{
    for &v in variants {
        let quoted = format!("\"{}\"", as_str(v));
        assert_eq!(serde_json::to_string(&v).unwrap(), quoted);
        assert_eq!(serde_json::from_str::<T>(&quoted).unwrap(), v);
    }
    variants.iter().map(|&v| as_str(v)).collect()
}

#[test]
fn enum_words_are_their_derived_names() {
    use clap::ValueEnum;
    assert_eq!(
        words(CostView::value_variants(), CostView::as_str),
        ["icb_cash", "economic"]
    );
    assert_eq!(
        words(Granularity::value_variants(), Granularity::as_str),
        ["icb", "practice"]
    );
    assert_eq!(
        words(&[Vary::National, Vary::Icb], Vary::as_str),
        ["national", "icb"]
    );
    assert_eq!(names::variant_names::<Sampling>(), ["mc", "lhs"]);
    assert_eq!(
        serde_json::to_string(&Sampling::LatinHypercube).unwrap(),
        "\"lhs\""
    );
    // The command line takes the same words.
    for view in CostView::value_variants() {
        assert_eq!(view.to_possible_value().unwrap().get_name(), view.as_str());
    }
    for level in Granularity::value_variants() {
        assert_eq!(
            level.to_possible_value().unwrap().get_name(),
            level.as_str()
        );
    }
    assert_eq!(CostView::parse("economic"), Some(CostView::Economic));
    assert_eq!(CostView::parse("cash"), None);
}

const OWN: &str = r#"
[[overrides]]
icb = "QU9"
factor = "actions.a.costs[0].factors.rate"
value = { dist = "pert", min = 0.5, mode = 0.65, max = 0.8 }
source = "LMC survey"

[[overrides]]
icb = "QHM"
factor = "actions.a.costs[0].factors.rate"
value = 3
"#;

#[test]
fn overrides_are_read_with_their_line_and_source() {
    let s = parse_ok(&format!("{MINIMAL}{OWN}"));
    let o = &s.overrides;
    assert_eq!(o.len(), 2);
    assert_eq!(
        (o[0].icb.as_str(), o[0].factor.as_str()),
        ("QU9", "actions.a.costs[0].factors.rate")
    );
    assert_eq!(
        o[0].dist.spec().describe(),
        "PERT from 0.5 to 0.8, most likely 0.65"
    );
    assert_eq!(o[0].source.as_deref(), Some("LMC survey"));
    assert_eq!(o[0].line, Some(MINIMAL.lines().count() + 3));
    assert_eq!((o[1].dist.mean(), o[1].source.as_deref()), (3.0, None));
    assert_eq!(o[0].assignment(), None);
}

#[test]
fn a_set_replaces_the_files_override_of_the_same_icb_and_factor() {
    let settings = Settings {
        set: vec!["qu9:actions.a.costs[0].factors.rate=4.5".parse().unwrap()],
        ..Settings::default()
    };
    let text = format!("{MINIMAL}{OWN}");
    let s = parse_with(&text, "s.toml", Path::new(""), &settings).unwrap();
    assert_eq!(s.overrides.len(), 2);
    // In the place of the entry it replaces, so the other keeps its index in the file.
    let (set, other) = (&s.overrides[0], &s.overrides[1]);
    assert_eq!(
        (other.icb.as_str(), other.field(1)),
        ("QHM", "overrides[1]".to_string())
    );
    assert_eq!(
        (set.icb.as_str(), set.dist.mean(), set.line),
        ("qu9", 4.5, None)
    );
    assert_eq!(set.field(0), "--set");
    assert_eq!(set.assignment(), Some(settings.set[0].clone()));
    assert_eq!(
        set.assignment().unwrap().to_string(),
        "qu9:actions.a.costs[0].factors.rate=4.5"
    );
}

#[test]
fn bad_overrides_are_reported_with_line_and_field() {
    let at = MINIMAL.lines().count() + 1;
    let text = format!(
        "{MINIMAL}[[overrides]]\nicb = \"QU9\"\nfactor = \"actions.a.factors.rate\"\nvalue = {{ dist = \"beta\", alpha = 0, beta = 2 }}\nvary = \"icb\"\n\n\
         [[overrides]]\nfactor = \"actions.a.costs[0].factors.rate\"\nvalue = \"high\"\n\n\
         [[overrides]]\nicb = \"QU9\"\nfactor = \"actions.a.costs[0].factors.rate\"\nvalue = 1\n\n\
         [[overrides]]\nicb = \"qu9\"\nfactor = \"actions.a.costs[0].factors.rate\"\nvalue = {{ dist = \"uniform\", min = 1, max = 2, vary = \"icb\" }}\n"
    );
    let got = problems(&text);
    let expected = [
        format!("s.toml:{}: overrides[0].factor: 'actions.a.factors.rate' is not a factor of this scenario", at + 2),
        format!("s.toml:{}: overrides[0].value: alpha 0 must be greater than 0", at + 3),
        format!("s.toml:{}: overrides[0].vary: unknown key 'vary'", at + 4),
        format!("s.toml:{}: overrides[1].icb: required but missing", at + 6),
        format!("s.toml:{}: overrides[1].value: expected a number or a distribution", at + 8),
        format!("s.toml:{}: overrides[3].value.vary: unknown key 'vary'", at + 18),
        format!("s.toml:{}: overrides[3]: qu9 already has its own value of actions.a.costs[0].factors.rate", at + 16),
    ];
    for e in &expected {
        assert!(
            got.iter().any(|p| p.starts_with(e.as_str())),
            "expected: {e}\ngot: {got:#?}"
        );
    }
    // A repeat is reported once, at its ICB's line.
    let repeat = format!("{MINIMAL}{OWN}[[overrides]]\nicb = \"qu9\"\nfactor = \"actions.a.costs[0].factors.rate\"\nvalue = 2\n");
    let at = MINIMAL.lines().count() + OWN.lines().count() + 2;
    assert_eq!(
        problems(&repeat),
        [format!("s.toml:{at}: overrides[2]: qu9 already has its own value of actions.a.costs[0].factors.rate")]
    );
}

#[test]
fn a_set_must_name_a_factor_once_and_be_well_formed() {
    for (text, message) in [
        ("QU9", "'QU9': expected ICB:PATH=VALUE"),
        (
            "QU9:actions.a.costs[0].factors.rate",
            "expected ICB:PATH=VALUE",
        ),
        (
            ":actions.a.costs[0].factors.rate=1",
            "expected ICB:PATH=VALUE",
        ),
        (
            "QU9:actions.a.costs[0].factors.rate=inf",
            "the value 'inf' is not a finite number",
        ),
    ] {
        let err = text.parse::<Assignment>().unwrap_err();
        assert!(err.contains(message), "{text}: {err}");
    }
    let set = |texts: &[&str]| Settings {
        set: texts.iter().map(|t| t.parse().unwrap()).collect(),
        ..Settings::default()
    };
    let got = |settings: &Settings| match parse_with(MINIMAL, "s.toml", Path::new(""), settings) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    };
    assert!(got(&set(&["QU9:actions.a.factors.x=1"]))
        .starts_with("s.toml: --set: 'actions.a.factors.x' is not a factor of this scenario"));
    let twice = "QU9:actions.a.costs[0].factors.rate=1";
    assert!(got(&set(&[twice, twice]))
        .starts_with("s.toml: --set: QU9:actions.a.costs[0].factors.rate is set twice"));
}

#[test]
fn a_recovery_is_read_for_an_action_and_a_cost_line_may_give_its_own() {
    let s = parse_ok(&edit(
        "[actions.a]",
        "[actions.a]\nend = \"2024-12\"\nrecovery = { \"12\" = 0, \"1\" = 0.8, 6 = 0.3 }\n\
         [[actions.a.costs]]\nrecovery = { half_life_months = 4.5 }",
    ));
    let a = &s.actions[0];
    // Sorted by month; bare and quoted keys alike; integers read as shares.
    let points = Recovery::Points(vec![(1, 0.8), (6, 0.3), (12, 0.0)]);
    assert_eq!(a.timing.recovery, Some(points.clone()));
    assert_eq!(
        a.costs[0].timing.recovery,
        Some(Recovery::HalfLife {
            half_life_months: 4.5
        })
    );
    assert_eq!(a.costs[1].timing.recovery, Some(points.clone()));
    assert_eq!(a.costs[1].timing.end, a.timing.end);
    assert_eq!(
        points.describe(),
        "fading linearly: 80% after 1 month, 30% after 6, none after 12"
    );
    assert_eq!(
        Recovery::Points(vec![(3, 0.25)]).describe(),
        "fading linearly: 25% after 3 months, then held"
    );
    assert_eq!(parse_ok(MINIMAL).actions[0].timing.recovery, None);
}

#[test]
fn a_bad_recovery_is_reported_with_line_and_field() {
    let end = "[actions.a]\nend = \"2024-12\"\nrecovery = ";
    let cases: Vec<(&str, String, &str)> = vec![
        ("[actions.a]", "[actions.a]\nrecovery = { \"6\" = 0 }".into(), "s.toml:8: actions.a.recovery: needs the action's end: a recovery counts months after the end"),
        ("[actions.a]", format!("{end}{{ Aug = 0.5 }}"), "s.toml:9: actions.a.recovery.Aug: 'Aug' is not a number of months after the end: write a whole number from 1 to 600, e.g. \"6\""),
        ("[actions.a]", format!("{end}{{ \"0\" = 0.5 }}"), "s.toml:9: actions.a.recovery.0: '0' is not a number of months after the end: write a whole number from 1 to 600, e.g. \"6\""),
        ("[actions.a]", format!("{end}{{ \"1.5\" = 0.5 }}"), "s.toml:9: actions.a.recovery.1.5: '1.5' is not a number of months after the end"),
        ("[actions.a]", format!("{end}{{ \"601\" = 0 }}"), "s.toml:9: actions.a.recovery.601: '601' is not a number of months after the end"),
        ("[actions.a]", format!("{end}{{ \"3\" = 1.2 }}"), "s.toml:9: actions.a.recovery.3: share 1.2 must lie in [0, 1]"),
        ("[actions.a]", format!("{end}{{ \"3\" = -0.1 }}"), "s.toml:9: actions.a.recovery.3: share -0.1 must lie in [0, 1]"),
        ("[actions.a]", format!("{end}{{ \"3\" = \"half\" }}"), "s.toml:9: actions.a.recovery.3: invalid type: string \"half\", expected f64"),
        ("[actions.a]", format!("{end}{{ \"6\" = 0.5, \"1\" = 0.3 }}"), "s.toml:9: actions.a.recovery.6: share 0.5 at month 6 is more than 0.3 at month 1: what remains can only fall"),
        ("[actions.a]", format!("{end}{{}}"), "s.toml:9: actions.a.recovery: needs at least one point, such as { \"12\" = 0 }, or half_life_months"),
        ("[actions.a]", format!("{end}0.5"), "s.toml:9: actions.a.recovery: expected a table of months after the end = share still present, such as { \"1\" = 0.8, \"6\" = 0.3, \"12\" = 0 }, or { half_life_months = 4 }, found a float"),
        ("[actions.a]", format!("{end}{{ half_life_months = 0 }}"), "s.toml:9: actions.a.recovery.half_life_months: must be a number of months above 0, up to 600, found 0"),
        ("[actions.a]", format!("{end}{{ half_life_months = 4, \"6\" = 0 }}"), "s.toml:9: actions.a.recovery.6: give either shares by month after the end or half_life_months, not both"),
        ("driver = \"registered_patients\"", "driver = \"registered_patients\"\nrecovery = { \"6\" = 0 }".into(), "s.toml:10: actions.a.costs[0].recovery: needs the action's end: a recovery counts months after the end"),
    ];
    for (line, with, expected) in &cases {
        let got = problems(&edit(line, with));
        assert!(
            got.iter().any(|p| p.starts_with(expected)),
            "{with}\nexpected: {expected}\ngot: {got:#?}"
        );
    }
    // The same month written twice ("1" and "01") is said once, at one of them.
    let got = problems(&edit(
        "[actions.a]",
        &format!("{end}{{ \"1\" = 0.5, \"01\" = 0.4 }}"),
    ));
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("s.toml:9: actions.a.recovery.")
            && got[0].ends_with("month 1 appears twice"),
        "{got:#?}"
    );
    // Every bad point is reported at once.
    let got = problems(&edit(
        "[actions.a]",
        &format!("{end}{{ x = 0.5, \"2\" = 2, \"3\" = 0.1 }}"),
    ));
    assert_eq!(got.len(), 2, "{got:#?}");
}

/// `MINIMAL` in 2024/25 prices with `factor` as its one factor (line 11).
fn priced(factor: &str) -> String {
    edit("months = 6", "months = 6\nprice_year = \"2024/25\"").replace("rate = 2.5", factor)
}

fn index(year: &str) -> f64 {
    crate::price::Deflators::embedded()
        .index(year.parse().unwrap())
        .unwrap()
}

#[test]
fn a_scenario_without_price_year_converts_nothing() {
    let s = parse_ok(MINIMAL);
    assert_eq!(s.price_year, None);
    assert!(s.factors().all(|(_, f)| f.price.is_none()));
    // A price year with no factor that gives one changes no value either.
    let t = parse_ok(&priced(
        "rate = { dist = \"pert\", min = 148, mode = 266, max = 282 }",
    ));
    assert_eq!(
        t.price_year.map(|y| y.to_string()).as_deref(),
        Some("2024/25")
    );
    let f = &t.actions[0].costs[0].factors[0];
    assert_eq!(
        (f.price.as_ref(), *f.dist.spec()),
        (
            None,
            Spec::Pert {
                min: 148.0,
                mode: 266.0,
                max: 282.0
            }
        )
    );
}

#[test]
fn one_price_year_scales_every_parameter_by_the_ratio_of_the_indices() {
    let ratio = |from: &str| index("2024/25") / index(from);
    let cases: &[(&str, Spec)] = &[
        (
            "{ dist = \"fixed\", value = 20, price_year = \"2016/17\" }",
            Spec::Fixed { value: 20.0 },
        ),
        (
            "{ dist = \"uniform\", min = 30, max = 150, price_year = \"2016/17\" }",
            Spec::Uniform {
                min: 30.0,
                max: 150.0,
            },
        ),
        (
            "{ dist = \"triangular\", min = 1, mode = 2, max = 4, price_year = \"2016/17\" }",
            Spec::Triangular {
                min: 1.0,
                mode: 2.0,
                max: 4.0,
            },
        ),
        (
            "{ dist = \"pert\", min = 148, mode = 266, max = 282, price_year = \"2016/17\" }",
            Spec::Pert {
                min: 148.0,
                mode: 266.0,
                max: 282.0,
            },
        ),
        (
            "{ dist = \"normal\", mean = 100, sd = 15, price_year = \"2016/17\" }",
            Spec::Normal {
                mean: 100.0,
                sd: 15.0,
            },
        ),
        (
            "{ dist = \"lognormal\", p05 = 10, p95 = 40, price_year = \"2016/17\" }",
            Spec::LogNormal {
                p05: 10.0,
                p95: 40.0,
            },
        ),
    ];
    for (factor, written) in cases {
        let s = parse_ok(&priced(&format!("rate = {factor}")));
        let f = &s.actions[0].costs[0].factors[0];
        let price = f.price.as_ref().expect("converted");
        assert_eq!(price.written, *written);
        assert_eq!(price.to.to_string(), "2024/25");
        let got = f.dist.spec().values();
        for ((name, v), (w_name, w)) in got.iter().zip(written.values()) {
            assert_eq!(name, &w_name);
            // Exactly value × index[2024/25] ÷ index[2016/17].
            assert_eq!(
                *v,
                w * index("2024/25") / index("2016/17"),
                "{factor}: {name}"
            );
        }
        assert!((f.dist.mean() - written.mean() * ratio("2016/17")).abs() < 1e-9 * written.mean());
        assert!(price.years.iter().all(|(_, y)| y.to_string() == "2016/17"));
    }
    // A year's own prices are left as they are.
    let s = parse_ok(&priced(
        "rate = { dist = \"fixed\", value = 15, price_year = \"2024/25\" }",
    ));
    assert_eq!(s.actions[0].costs[0].factors[0].dist.mean(), 15.0);
}

#[test]
fn a_table_of_price_years_converts_each_parameter_from_its_own_year() {
    let s = parse_ok(&priced(
        "rate = { dist = \"pert\", min = 148, mode = 266, max = 282, price_year = { min = \"2016/17\", mode = \"2024/25\", max = \"2022/23\" } }",
    ));
    let f = &s.actions[0].costs[0].factors[0];
    assert_eq!(
        *f.dist.spec(),
        Spec::Pert {
            min: 148.0 * index("2024/25") / index("2016/17"),
            mode: 266.0,
            max: 282.0 * index("2024/25") / index("2022/23"),
        }
    );
    assert_eq!(
        f.describe(),
        "PERT from 194.54 to 308.87, most likely 266 (2024/25 prices)"
    );
    let years: Vec<(&str, String)> = f
        .price
        .as_ref()
        .unwrap()
        .years
        .iter()
        .map(|(p, y)| (*p, y.to_string()))
        .collect();
    assert_eq!(
        years,
        [
            ("min", "2016/17".to_string()),
            ("mode", "2024/25".to_string()),
            ("max", "2022/23".to_string())
        ]
    );
    // A price year other than the table's base converts to it too.
    let t = parse_ok(
        &priced("rate = { dist = \"normal\", mean = 100, sd = 10, price_year = { mean = \"2020/21\", sd = \"2014/15\" } }")
            .replace("\"2024/25\"", "\"2025/26\""),
    );
    assert_eq!(
        *t.actions[0].costs[0].factors[0].dist.spec(),
        Spec::Normal {
            mean: 100.0 * index("2025/26") / index("2020/21"),
            sd: 10.0 * index("2025/26") / index("2014/15"),
        }
    );
}

#[test]
fn bad_price_years_are_reported_with_line_and_field() {
    let years = "2014/15, 2015/16, 2016/17, 2017/18, 2018/19, 2019/20, 2020/21, 2021/22, 2022/23, 2023/24, 2024/25, 2025/26";
    let cases: Vec<(String, String)> = vec![
        (
            edit("months = 6", "months = 6\nprice_year = \"2024-25\""),
            "s.toml:6: scenario.price_year: '2024-25' is not a financial year: write YYYY/YY, e.g. \"2024/25\"".to_string(),
        ),
        (
            edit("months = 6", "months = 6\nprice_year = \"2024/26\""),
            "s.toml:6: scenario.price_year: '2024/26' is not a financial year: 2024/ must be followed by 25, the next year".to_string(),
        ),
        (
            edit("months = 6", "months = 6\nprice_year = \"2030/31\""),
            format!("s.toml:6: scenario.price_year: no deflator for 2030/31: data/deflators.csv has {years}"),
        ),
        (
            edit("months = 6", "months = 6\nprice_year = 2024"),
            "s.toml:6: scenario.price_year: invalid type: integer `2024`, expected a string".to_string(),
        ),
        (
            edit("rate = 2.5", "rate = { dist = \"fixed\", value = 20, price_year = \"2016/17\" }"),
            "s.toml:10: actions.a.costs[0].factors.rate.price_year: the scenario has no price year to convert to: add price_year = \"2024/25\" (the year whose prices the results are in) to [scenario]".to_string(),
        ),
        (
            priced("rate = { dist = \"fixed\", value = 20, price_year = \"2010/11\" }"),
            format!("s.toml:11: actions.a.costs[0].factors.rate.price_year: no deflator for 2010/11: data/deflators.csv has {years}"),
        ),
        (
            priced("rate = { dist = \"pert\", min = 1, mode = 2, max = 3, price_year = { min = \"2016/17\", mode = \"2013/14\", max = \"2016/17\" } }"),
            format!("s.toml:11: actions.a.costs[0].factors.rate.price_year.mode: no deflator for 2013/14: data/deflators.csv has {years}"),
        ),
        (
            priced("rate = { dist = \"pert\", min = 1, mode = 2, max = 3, price_year = { min = \"2016/17\", max = \"2016/17\" } }"),
            "s.toml:11: actions.a.costs[0].factors.rate.price_year.mode: required: a price year for each parameter of the pert (min, mode, max)".to_string(),
        ),
        (
            priced("rate = { dist = \"uniform\", min = 1, max = 3, price_year = { min = \"2016/17\", max = \"2016/17\", mode = \"2016/17\" } }"),
            "s.toml:11: actions.a.costs[0].factors.rate.price_year.mode: unknown key 'mode'; expected one of: min, max".to_string(),
        ),
        (
            priced("rate = { dist = \"fixed\", value = 20, price_year = 2016 }"),
            "s.toml:11: actions.a.costs[0].factors.rate.price_year: expected a financial year such as \"2016/17\", or one for each parameter such as { min = \"2016/17\", mode = \"2024/25\", max = \"2022/23\" }, found an integer".to_string(),
        ),
        (
            priced("rate = { dist = \"fixed\", value = 20, price_year = \"2016\" }"),
            "s.toml:11: actions.a.costs[0].factors.rate.price_year: '2016' is not a financial year".to_string(),
        ),
        (
            priced("rate = { dist = \"beta\", alpha = 2, beta = 3, price_year = \"2016/17\" }"),
            "s.toml:11: actions.a.costs[0].factors.rate.price_year: a beta is not a money amount, so it has no price year".to_string(),
        ),
        (
            // Converted, the min (2016/17 prices) passes the mode and the max (2024/25 prices).
            priced("rate = { dist = \"pert\", min = 90, mode = 100, max = 110, price_year = { min = \"2014/15\", mode = \"2024/25\", max = \"2024/25\" } }"),
            "s.toml:11: actions.a.costs[0].factors.rate.price_year: converted to 2024/25 prices the parameters are out of order (min 121.51, mode 100, max 110); check each parameter's price year".to_string(),
        ),
        (
            priced("rate = { dist = \"lognormal\", p05 = 10, p95 = 11, price_year = { p05 = \"2014/15\", p95 = \"2024/25\" } }"),
            "s.toml:11: actions.a.costs[0].factors.rate.price_year: converted to 2024/25 prices the parameters are out of order (p05 13.5, p95 11)".to_string(),
        ),
        (
            // The written values are checked as written, and not converted.
            priced("rate = { dist = \"pert\", min = 3, mode = 2, max = 1, price_year = \"2016/17\" }"),
            "s.toml:11: actions.a.costs[0].factors.rate: min 3 must be less than max 1".to_string(),
        ),
        (
            // A baseline is a share of practices, not money.
            priced("rate = { dist = \"uniform\", min = 0.2, max = 0.6, baseline = { dist = \"fixed\", value = 0.1, price_year = \"2016/17\" } }"),
            "s.toml:11: actions.a.costs[0].factors.rate.baseline.price_year: unknown key 'price_year'".to_string(),
        ),
    ];
    for (text, expected) in cases {
        let got = problems(&text);
        assert!(
            got.iter().any(|p| p.starts_with(&expected)),
            "{text}\nexpected: {expected}\ngot: {got:#?}"
        );
    }
    // A bad scenario price year is reported once, not again for every factor converted to it.
    let got = problems(
        &priced("rate = { dist = \"fixed\", value = 20, price_year = \"2016/17\" }")
            .replace("\"2024/25\"", "\"2024-25\""),
    );
    assert_eq!(got.len(), 1, "{got:#?}");
}
