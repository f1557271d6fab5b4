//! Footprints (`footprint`): the ICBs of 1 April 2026 built practice by practice from the 42
//! of 2022, their totals against `data/icbs.csv`, named practices of the split ICBs in the
//! body their sub-ICB location or local authority gives, and escalation-2026 on 36 ICBs in
//! every output, at ICB and practice level.

use std::collections::{BTreeMap, HashMap};

use icb_impact::pipeline::{prepare, Config};
use icb_impact::scenario::Granularity;

use crate::{column_index, read_csv, read_json, shipped, stderr, Sandbox};

fn data(name: &str) -> Vec<Vec<String>> {
    read_csv(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data")
            .join(name),
    )
}

/// `data/icbs.csv`: code → (patients, practices, prescribing).
fn icbs_2022() -> BTreeMap<String, [f64; 3]> {
    let rows = data("icbs.csv");
    let col = |n| column_index(&rows, n);
    let (p, g, s) = (
        col("registered_patients"),
        col("gp_practices"),
        col("prescribing_cost_gbp"),
    );
    rows[1..]
        .iter()
        .map(|r| {
            let n = |i: usize| r[i].parse::<f64>().unwrap();
            (r[0].clone(), [n(p), n(g), n(s)])
        })
        .collect()
}

fn escalation(granularity: Granularity) -> icb_impact::pipeline::Prepared {
    prepare(&Config {
        granularity: Some(granularity),
        iterations: Some(100),
        ..Config::new(shipped("escalation-2026.toml"))
    })
    .unwrap()
}

const ABOLISHED: [&str; 12] = [
    "QMJ", "QRV", "QHG", "QUE", "QM7", "QH8", "QJG", "QMM", "QU9", "QNQ", "QXU", "QNX",
];
const CREATED: [&str; 6] = ["Z9B2Z", "S1Y5D", "D7T5G", "T6Y0W", "S0E4D", "S9B9J"];

#[test]
fn the_2026_footprint_has_36_icbs_and_keeps_the_totals_of_the_42() {
    let old = icbs_2022();
    let p = escalation(Granularity::Icb);
    let t = &p.table;
    assert_eq!(t.len(), 36);
    for code in ABOLISHED {
        assert!(!t.codes.iter().any(|c| c == code), "{code} is abolished");
    }
    for code in CREATED.iter().chain(&["QRL"]) {
        assert!(t.codes.iter().any(|c| c == code), "{code} is in force");
    }
    let column = |name: &str| t.numeric(name).unwrap().to_vec();
    let (patients, practices, prescribing) = (
        column("registered_patients"),
        column("gp_practices"),
        column("prescribing_cost_gbp"),
    );
    // Whole numbers split by largest remainder: the national totals are exact.
    let total = |k: usize| old.values().map(|v| v[k]).sum::<f64>();
    assert_eq!(patients.iter().sum::<f64>(), total(0));
    assert_eq!(practices.iter().sum::<f64>(), total(1));
    assert_eq!(prescribing.iter().sum::<f64>(), total(2));
    assert_eq!(total(0), 63_878_949.0);
    assert_eq!(total(1), 6_208.0);
    assert!(patients.iter().chain(&practices).all(|v| v.fract() == 0.0));
    // An ICB that continues unchanged keeps its row exactly; a whole merger is the sum.
    let at = |code: &str| t.codes.iter().position(|c| c == code).unwrap();
    assert_eq!(patients[at("QE1")], old["QE1"][0]);
    assert_eq!(practices[at("QKS")], old["QKS"][1]);
    assert_eq!(
        patients[at("Z9B2Z")],
        old["QMJ"][0] + old["QRV"][0],
        "West and North London is North Central London + North West London"
    );
    // Every body against the shares recomputed here from the practice files: an old ICB's
    // patients go to each body in proportion to the patients of its practices there.
    let practices_rows = data("practices.csv");
    let list: HashMap<&str, (&str, f64)> = practices_rows[1..]
        .iter()
        .map(|r| (r[0].as_str(), (r[1].as_str(), r[2].parse::<f64>().unwrap())))
        .collect();
    let footprint = data("footprint-2026.csv");
    let mut part: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    let mut whole: BTreeMap<&str, f64> = BTreeMap::new();
    for r in &footprint[1..] {
        let (old_icb, n) = list[r[0].as_str()];
        *part.entry((old_icb, r[1].as_str())).or_default() += n;
        *whole.entry(old_icb).or_default() += n;
    }
    let mut expected: BTreeMap<&str, f64> = BTreeMap::new();
    for ((o, new), n) in &part {
        *expected.entry(new).or_default() += old[*o][0] * n / whole[o];
    }
    assert_eq!(expected.len(), 36);
    for (code, e) in &expected {
        let got = patients[at(code)];
        assert!((got - e).abs() <= 1.0, "{code}: {got} against {e}");
    }
    // Frimley's 2022 patients are all somewhere, and the three bodies it went to have more.
    let frimley: f64 = ["S0E4D", "S9B9J", "QRL"]
        .iter()
        .map(|c| patients[at(c)])
        .sum::<f64>();
    let before = old["QU9"][0] + old["QXU"][0] + old["QNX"][0] + old["QRL"][0] + old["QNQ"][0];
    assert_eq!(frimley, before);
}

#[test]
fn practices_of_the_split_icbs_land_where_their_sub_icb_location_or_council_puts_them() {
    let p = escalation(Granularity::Practice);
    let practices = p.practices.as_ref().unwrap();
    let old = &p.footprint.as_ref().unwrap().old_practices;
    let icb_of = |code: &str| {
        let i = practices.codes.iter().position(|c| c == code).unwrap();
        (old.icb_codes[i].as_str(), practices.icb_codes[i].as_str())
    };
    for (practice, from, to, why) in [
        (
            "K81001",
            "QNQ",
            "S0E4D",
            "The Waterfield Practice, Bracknell Forest (East Berkshire)",
        ),
        (
            "K81043",
            "QNQ",
            "S0E4D",
            "Herschel Medical Centre, Slough (East Berkshire)",
        ),
        (
            "H81069",
            "QNQ",
            "S9B9J",
            "Park Road Group Practice, Camberley (Surrey Heath)",
        ),
        (
            "H81027",
            "QNQ",
            "S9B9J",
            "Farnham Park Health Group (Waverley: Farnham)",
        ),
        (
            "J82066",
            "QNQ",
            "QRL",
            "The Cambridge Practice, Aldershot (Rushmoor)",
        ),
        (
            "J82049",
            "QNQ",
            "QRL",
            "The Oakley Health Group, Yateley (Hart)",
        ),
        (
            "F81027",
            "QM7",
            "D7T5G",
            "Harlow: West Essex, sub-ICB location 07H",
        ),
        ("E82001", "QM7", "S1Y5D", "Dacorum: Herts Valleys, 06N"),
        (
            "F81012",
            "QJG",
            "D7T5G",
            "Colchester: North East Essex, 06T",
        ),
        (
            "D83001",
            "QJG",
            "T6Y0W",
            "Babergh: Ipswich and East Suffolk, 06L",
        ),
        (
            "A82003",
            "QE1",
            "QE1",
            "Lancashire and South Cumbria continues",
        ),
    ] {
        assert_eq!(icb_of(practice), (from, to), "{practice}: {why}");
    }
    // Each body's practices are the ones the footprint gives it, and its practice model's
    // patient shares add up to 1 within it.
    let model = p.model.practices.as_ref().unwrap();
    assert_eq!(model.ranges.len(), 36);
    for range in &model.ranges {
        let s: f64 = model.shares[0][range.clone()].iter().sum();
        assert!((s - 1.0).abs() < 1e-9, "{s}");
    }
    assert_eq!(model.left_out, 0);
}

/// escalation-2026 run through the command line, at `granularity`.
fn run(sb: &Sandbox, out: &str, extra: &[&str]) -> std::process::Output {
    let s = shipped("escalation-2026.toml");
    let mut args = vec![
        "run",
        s.to_str().unwrap(),
        "--iterations",
        "300",
        "--out",
        out,
        "-q",
    ];
    args.extend_from_slice(extra);
    sb.run(&args)
}

#[test]
fn escalation_2026_speaks_of_the_36_everywhere_at_icb_and_practice_level() {
    let sb = Sandbox::new();
    for (out, extra) in [
        ("icb", &[][..]),
        ("practice", &["--granularity", "practice"][..]),
    ] {
        let o = run(&sb, out, extra);
        assert!(o.status.success(), "{out}: {}", stderr(&o));
        let rows = read_csv(&sb.path(&format!("{out}/icb_summary.csv")));
        assert_eq!(rows.len(), 37, "{out}");
        let codes: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert!(codes.contains(&"S0E4D") && codes.contains(&"S9B9J") && codes.contains(&"QRL"));
        assert!(!codes.contains(&"QNQ") && !codes.contains(&"QU9"));
        let thames = &rows[1..].iter().find(|r| r[0] == "S0E4D").unwrap()[1];
        assert_eq!(thames, "NHS Thames Valley Integrated Care Board");
        let summary = read_json(&sb.path(&format!("{out}/summary.json")));
        assert_eq!(summary["icbs"], 36, "{out}");
        let national = summary["national_total_gbp"]["mean"].as_f64().unwrap();
        let per_icb = summary["mean_per_icb_gbp"]["mean"].as_f64().unwrap();
        assert!(
            (per_icb * 36.0 - national).abs() <= 1e-6 * national,
            "{per_icb} × 36 vs {national}"
        );
        // The run recorded the footprint and the practice table it placed, and `report`
        // reproduces it: the briefing, and the one-pager of a new ICB.
        for input in ["footprint.csv", "practices.csv", "icbs.csv"] {
            assert!(
                sb.path(&format!("{out}/inputs/{input}")).is_file(),
                "{out}: {input}"
            );
        }
        let manifest = read_json(&sb.path(&format!("{out}/manifest.json")));
        assert!(manifest["footprint"]["sha256"].is_string(), "{manifest}");
        let dir = sb.path(out);
        let r = sb.run(&["report", dir.to_str().unwrap(), "--icb", "S0E4D", "-q"]);
        assert!(r.status.success(), "{out}: {}", stderr(&r));
        let page = std::fs::read_to_string(dir.join("icb-S0E4D.html")).unwrap();
        assert!(page.contains("Thames Valley (S0E4D)"), "{out}");
        let old = sb.run(&["report", dir.to_str().unwrap(), "--icb", "QNQ", "-q"]);
        assert_eq!(old.status.code(), Some(2), "{out}: Frimley is abolished");
        assert!(!dir.join("icb-QNQ.html").exists());
    }
    let r = sb.run(&["report", sb.path("icb").to_str().unwrap(), "-q"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let html = std::fs::read_to_string(sb.path("icb/report.html")).unwrap();
    assert!(
        html.contains("<td>S0E4D</td><td>Thames Valley</td>"),
        "the ICB table has it"
    );
    assert!(
        !html.contains("Frimley"),
        "no ICB of 2022 that was abolished"
    );
}

#[test]
fn an_icbs_own_input_is_set_by_its_2026_code_and_an_abolished_code_is_refused() {
    let sb = Sandbox::new();
    let factor = "actions.medicines_optimisation.factors.share_of_engaged_practices_switching_off";
    let base = run(&sb, "base", &[]);
    assert!(base.status.success(), "{}", stderr(&base));
    let set = format!("S0E4D:{factor}=1");
    let o = run(&sb, "set", &["--set", &set]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mean = |dir: &str| -> BTreeMap<String, String> {
        let rows = read_csv(&sb.path(&format!("{dir}/icb_summary.csv")));
        let m = column_index(&rows, "mean_gbp");
        rows[1..]
            .iter()
            .map(|r| (r[0].clone(), r[m].clone()))
            .collect()
    };
    let (a, b) = (mean("base"), mean("set"));
    assert_ne!(
        a["S0E4D"], b["S0E4D"],
        "Thames Valley's own value changes its cost"
    );
    for code in a.keys().filter(|c| *c != "S0E4D") {
        assert_eq!(a[code], b[code], "{code} is unchanged");
    }
    let bad = format!("QNQ:{factor}=1");
    let o = run(&sb, "bad", &["--set", &bad]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--set.icb: unknown ICB 'QNQ'"), "{e}");
    assert!(e.contains("S0E4D"), "the 2026 codes are listed: {e}");
    assert!(!sb.path("bad").exists(), "nothing written");
}

#[test]
fn a_bad_footprint_is_refused_with_every_problem_and_nothing_written() {
    let sb = Sandbox::new();
    let footprint = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/footprint-2026.csv"),
    )
    .unwrap();
    let mut lines: Vec<String> = footprint.lines().map(String::from).collect();
    // Line 3 renames its ICB, a practice is left out (the last line) and one is made up.
    let renamed = lines[2].replacen("NHS Essex Integrated Care Board", "NHS Greater Essex", 1);
    assert_ne!(renamed, lines[2], "line 3 is an Essex practice");
    lines[2] = renamed;
    let dropped = lines.pop().unwrap();
    lines.push("ZZZ999,S0E4D,NHS Thames Valley Integrated Care Board,South East".into());
    sb.write("f.csv", &(lines.join("\n") + "\n"));
    let text = std::fs::read_to_string(shipped("escalation-2026.toml"))
        .unwrap()
        .replace(
            "footprint = \"../data/footprint-2026.csv\"",
            &format!("footprint = \"{}\"", sb.path("f.csv").display()),
        );
    sb.write("s.toml", &text);
    let o = sb.run(&["run", "s.toml", "--iterations", "100", "--out", "o"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    let last = lines.len();
    for expected in [
        "f.csv:3: icb_name: 'D7T5G' is named 'NHS Essex Integrated Care Board' on line 2".to_string(),
        format!("f.csv:{last}: practice_code: 'ZZZ999' is not in the practice table embedded:data/practices.csv"),
        format!(
            "f.csv: practice_code: 1 practices of the practice table embedded:data/practices.csv are not placed: {}",
            dropped.split(',').next().unwrap()
        ),
    ] {
        assert!(e.contains(&expected), "missing «{expected}» in:\n{e}");
    }
    assert!(!sb.path("o").exists());
}
