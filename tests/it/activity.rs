//! `data activity` on generated files in NHS England's published layouts: a planted fall in GP
//! appointments recovered in the ICBs that had it (and not in the others), England the sum of
//! its ICBs and of the practices in none, the publication's Mapping.csv, specialist advice
//! requests by ICB, the benchmarks table, and bad files refused with nothing written.

use std::collections::BTreeMap;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::SplitMix64;

use crate::column_index as column;
use crate::{read_csv, stderr, stdout, Sandbox};

/// The practice-level crosstab's header, as NHS England publishes it.
const HEADER: &str = "APPOINTMENT_MONTH_START_DATE,GP_CODE,GP_NAME,SUPPLIER,PCN_CODE,PCN_NAME,SUB_ICB_LOCATION_CODE,SUB_ICB_LOCATION_NAME,HCP_TYPE,APPT_MODE,NATIONAL_CATEGORY,TIME_BETWEEN_BOOK_AND_APPT,COUNT_OF_APPOINTMENTS,APPT_STATUS";

/// ICBs of the embedded tables with three of their practices each (data/practices.csv), and
/// a sub-ICB location code for each (for the mapping file).
const ICBS: [(&str, [&str; 3], &str); 4] = [
    ("QE1", ["A82003", "A82005", "A82007"], "01A"),
    ("QHM", ["A81001", "A81002", "A81004"], "00L"),
    ("QOQ", ["B81002", "B81003", "B81004"], "02Y"),
    ("QU9", ["J82054", "K81002", "K81003"], "10Q"),
];
/// A practice in no ICB of the practice table, in a sub-ICB location the mapping file lacks.
const UNMAPPED: (&str, &str) = ("Y99999", "99Z");

/// The ICBs (indices into `ICBS`) whose GP appointments fall from the change month.
const PLANTED: [usize; 2] = [0, 2];
/// Attended GP appointments each practice of a planted ICB loses a month from 2024-08.
const FALL: i64 = 150;

const HCP_TYPES: [&str; 3] = ["GP", "Other Practice staff", "Unknown"];
const STATUSES: [&str; 3] = ["Attended", "DNA", "Unknown"];
const NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// 24 months, 2023-02 to 2025-01.
fn months() -> Vec<(i32, u32)> {
    (0..24u32)
        .map(|k| (2023 + ((1 + k) / 12) as i32, (1 + k) % 12 + 1))
        .collect()
}

/// A practice's expected appointments in a breakdown row: a level by professional and
/// status, a rising trend and a season (10% higher in January than in July).
fn expected(hcp: usize, status: usize, t: usize, month: u32) -> f64 {
    let level = [800.0, 500.0, 60.0][hcp] * [0.9, 0.05, 0.05][status];
    let season = 1.0 + 0.05 * (2.0 * std::f64::consts::PI * f64::from(month) / 12.0).cos();
    level * (1.0 + 0.004 * t as f64) * season
}

/// A factor of noise about 1: uniform within ±5%, so no count is negative.
fn noise(rng: &mut SplitMix64) -> f64 {
    0.95 + 0.1 * rng.random_range(0..1001u64) as f64 / 1000.0
}

/// Generated appointments: the files' names and each month's GP and all appointments of the
/// unmapped practice (which England counts and no ICB does).
struct Appointments {
    files: Vec<String>,
    unmapped: BTreeMap<String, (i64, i64)>,
}

/// Writes one crosstab file a month, `Practice_Level_Crosstab_<Mon>_<YY>.csv`, with a fall of
/// [`FALL`] attended GP appointments a practice in the planted ICBs from 2024-08.
fn write_appointments(sb: &Sandbox, seed: u64) -> Appointments {
    let mut rng = SplitMix64::seed_from_u64(seed);
    let mut files = Vec::new();
    let mut unmapped = BTreeMap::new();
    for (t, (y, m)) in months().into_iter().enumerate() {
        let date = format!("01{}{y}", NAMES[m as usize - 1]);
        let mut text = format!("{HEADER}\n");
        let practices = ICBS
            .iter()
            .enumerate()
            .flat_map(|(i, (_, ps, sub))| ps.iter().map(move |p| (Some(i), *p, *sub)))
            .chain(std::iter::once((None, UNMAPPED.0, UNMAPPED.1)));
        for (icb, practice, sub) in practices {
            let (mut gp, mut all) = (0, 0);
            for (h, hcp) in HCP_TYPES.iter().enumerate() {
                for (s, status) in STATUSES.iter().enumerate() {
                    let mean = expected(h, s, t, m);
                    let mut count = (mean * noise(&mut rng)).round() as i64;
                    let planted = icb.is_some_and(|i| PLANTED.contains(&i));
                    if planted && h == 0 && s == 0 && (y, m) >= (2024, 8) {
                        count -= FALL;
                    }
                    if h == 0 {
                        gp += count;
                    }
                    all += count;
                    text.push_str(&format!(
                        "{date},{practice},\"THE SURGERY, {practice}\",EMIS,U{practice},PCN,{sub},NHS SUB-ICB {sub},{hcp},Face-to-Face,General Consultation Routine,1 Day,{count},{status}\n"
                    ));
                }
            }
            if icb.is_none() {
                unmapped.insert(format!("{y}-{m:02}"), (gp, all));
            }
        }
        let name = format!(
            "Practice_Level_Crosstab_{}{}_{:02}.csv",
            &NAMES[m as usize - 1][..1],
            NAMES[m as usize - 1][1..].to_lowercase(),
            y % 100
        );
        sb.write(&name, &text);
        files.push(name);
    }
    Appointments { files, unmapped }
}

fn activity(sb: &Sandbox, files: &[String], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["data", "activity"];
    args.extend(files.iter().map(String::as_str));
    args.extend(extra);
    sb.run(&args)
}

/// Student's t quantile for a 95% interval with 15 degrees of freedom: 24 months less the
/// eight coefficients (level, trend, four seasonal, step, slope) less the AR(1) coefficient.
const T_15: f64 = 2.131_449_5;

/// Checks the rows of `activity_observed.csv` for `activity`: the effect within two
/// half-widths of its 95% interval (about four standard errors) of `truth(icb_code)`, and
/// found (the interval below zero) where something was planted.
fn recovered(rows: &[Vec<String>], activity: &str, truth: &dyn Fn(&str) -> f64, what: &str) {
    let (code, act, effect, low, high) = (
        column(rows, "icb_code"),
        column(rows, "activity"),
        column(rows, "effect_per_month"),
        column(rows, "effect_low_per_month"),
        column(rows, "effect_high_per_month"),
    );
    let mut seen = 0;
    for r in rows[1..].iter().filter(|r| r[act] == activity) {
        let value = |k: usize| r[k].parse::<f64>().unwrap();
        let (est, lo, hi) = (value(effect), value(low), value(high));
        let want = truth(&r[code]);
        assert!(
            (est - want).abs() < hi - lo,
            "{what}, {activity}, {}: {est} ({lo} to {hi}) against {want} planted",
            r[code]
        );
        if want < 0.0 {
            assert!(
                hi < 0.0,
                "{what}, {activity}, {}: the fall is found: {lo} to {hi}",
                r[code]
            );
        }
        seen += 1;
    }
    assert!(seen > 0, "{what}: no rows for {activity}");
}

/// The planted change a month in an ICB (or England) of the practice table.
fn planted(code: &str) -> f64 {
    let per_icb = -3.0 * FALL as f64;
    match code {
        "national" => PLANTED.len() as f64 * per_icb,
        c if PLANTED.iter().any(|&k| ICBS[k].0 == c) => per_icb,
        _ => 0.0,
    }
}

#[test]
fn a_planted_fall_in_gp_appointments_is_recovered_where_it_was_planted() {
    let sb = Sandbox::new();
    for seed in [3, 13] {
        let data = write_appointments(&sb, seed);
        let out = activity(
            &sb,
            &data.files,
            &[
                "--kind",
                "appointments",
                "--change",
                "2024-08",
                "--out",
                "act",
                "--benchmarks-out",
                "activity-benchmarks.csv",
                "--png",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let report = stdout(&out);
        assert!(
            report.contains(
                "1 practice in no ICB (counted in England's series only, in no ICB's): Y99999"
            ),
            "{report}"
        );
        assert!(report.contains("18 months before, 6 after; trend and seasonality"));
        let rows = read_csv(&sb.path("act/activity_observed.csv"));
        assert_eq!(
            rows[0].join(","),
            "icb_code,activity,months_before,months_after,baseline_per_month,effect_per_month,effect_low_per_month,effect_high_per_month,cumulative_change,cumulative_low,cumulative_high,seasonal,ar1_rho"
        );
        // England first, then the four ICBs in code order, each with both activities.
        let scopes: Vec<(&str, &str)> = rows[1..]
            .iter()
            .map(|r| (r[0].as_str(), r[1].as_str()))
            .collect();
        let mut want = Vec::new();
        for code in ["national", "QE1", "QHM", "QOQ", "QU9"] {
            want.push((code, "gp_appointments"));
            want.push((code, "practice_appointments"));
        }
        assert_eq!(scopes, want);
        // Other staff did not change, so both activities fell by the GP appointments lost.
        for a in ["gp_appointments", "practice_appointments"] {
            recovered(&rows, a, &planted, &format!("seed {seed}"));
        }
        england_is_the_sum(&sb, "act", &data.unmapped);
    }
    for chart in ["gp_appointments", "practice_appointments"] {
        for scope in ["national", "icbs"] {
            for ext in ["svg", "png"] {
                let name = format!("act/charts/activity_{chart}_{scope}.{ext}");
                assert!(sb.path(&name).is_file(), "{name}");
            }
        }
    }
    let manifest = crate::read_json(&sb.path("act/manifest.json"));
    assert_eq!(manifest["kind"], "appointments");
    assert_eq!(manifest["mapping"], "embedded:data/practices.csv");
    assert_eq!(manifest["unmapped_practices"][0], "Y99999");
    benchmarks_table(&sb, "act", "activity-benchmarks.csv", 4);
}

/// England's monthly series is the sum of its ICBs' and of the practices in no ICB.
fn england_is_the_sum(sb: &Sandbox, dir: &str, unmapped: &BTreeMap<String, (i64, i64)>) {
    let monthly = read_csv(&sb.path(&format!("{dir}/activity_observed_monthly.csv")));
    assert_eq!(
        monthly[0].join(","),
        "month,icb_code,activity,observed,counterfactual,counterfactual_low,counterfactual_high,after_change"
    );
    let mut sums: BTreeMap<(String, String, bool), i64> = BTreeMap::new();
    for r in &monthly[1..] {
        let value: i64 = r[3].parse().unwrap();
        *sums
            .entry((r[0].clone(), r[2].clone(), r[1] == "national"))
            .or_default() += value;
    }
    for ((month, activity, national), total) in &sums {
        if !national {
            continue;
        }
        let icbs = sums[&(month.clone(), activity.clone(), false)];
        let (gp, all) = unmapped[month];
        let outside = if activity == "gp_appointments" {
            gp
        } else {
            all
        };
        assert_eq!(*total, icbs + outside, "{month} {activity}");
    }
}

/// The benchmarks table: the header, a row for England and one per ICB for each activity,
/// the ICB rows restating England's, and each figure and sd those of `activity_observed.csv`.
fn benchmarks_table(sb: &Sandbox, dir: &str, file: &str, icbs: usize) {
    let text = std::fs::read_to_string(sb.path(file)).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "id,label,published,published_sd,unit,quantity,icb_code,activity,actions,start,end,cost_view,conditions,source,discrepancy_sd,observation,same_as"
    );
    let figures = read_csv(&sb.path(file));
    let observed = read_csv(&sb.path(&format!("{dir}/activity_observed.csv")));
    assert_eq!(figures.len(), observed.len());
    let f = |name: &str| column(&figures, name);
    for r in &figures[1..] {
        let activity = &r[f("activity")];
        let code = &r[f("icb_code")];
        let scope = if code.is_empty() { "national" } else { code };
        let o = observed[1..]
            .iter()
            .find(|o| o[0] == scope && &o[1] == activity)
            .unwrap();
        let national_id = format!("observed_{activity}_national");
        assert_eq!(r[f("unit")], *activity);
        assert_eq!(r[f("start")], "2024-08");
        assert_eq!(r[f("end")], "2025-01");
        for empty in [
            "actions",
            "cost_view",
            "conditions",
            "discrepancy_sd",
            "observation",
        ] {
            assert_eq!(r[f(empty)], "", "{empty}");
        }
        assert_eq!(r[f("published")], o[column(&observed, "cumulative_change")]);
        // The sd is the standard error behind the cumulative change's 95% interval.
        let width: f64 = o[column(&observed, "cumulative_high")]
            .parse::<f64>()
            .unwrap()
            - o[column(&observed, "cumulative_low")]
                .parse::<f64>()
                .unwrap();
        let sd: f64 = r[f("published_sd")].parse().unwrap();
        assert!(
            (2.0 * T_15 * sd - width).abs() < 0.05,
            "{sd} against {width}"
        );
        match code.is_empty() {
            true => {
                assert_eq!(r[f("id")], national_id);
                assert_eq!(r[f("quantity")], "national_activity");
                assert_eq!(r[f("same_as")], "");
            }
            false => {
                assert_eq!(
                    r[f("id")],
                    format!("observed_{activity}_{}", code.to_lowercase())
                );
                assert_eq!(r[f("quantity")], "icb_activity");
                assert_eq!(r[f("same_as")], national_id);
            }
        }
    }
    let activities = figures[1..]
        .iter()
        .map(|r| r[f("activity")].clone())
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(figures.len() - 1, activities.len() * (1 + icbs));
    // `benchmark` reads the table: the national appointments set against the activity the
    // whole menu's cap removes, on the months observed after the change.
    let scenario = crate::shipped("collective-action-2024.toml");
    let out = sb.run(&[
        "benchmark",
        scenario.to_str().unwrap(),
        "--benchmarks",
        file,
        "--iterations",
        "300",
        "--out",
        &format!("{dir}-benchmark"),
        "-q",
    ]);
    assert!(out.status.success(), "{}", crate::stderr(&out));
    let compared = read_csv(&sb.path(&format!("{dir}-benchmark/benchmarks.csv")));
    let (id, status, unit) = (
        column(&compared, "id"),
        column(&compared, "status"),
        column(&compared, "unit"),
    );
    for activity in &activities {
        let national = compared
            .iter()
            .find(|r| r[id] == format!("observed_{activity}_national"))
            .expect("the national figure");
        // The shipped scenario counts each: the cap's appointments, the A&G requests not sent.
        assert_eq!(national[status], "compared", "{national:?}");
        assert_eq!(national[unit], *activity);
    }
}

#[test]
fn the_publications_mapping_places_practices_by_sub_icb_location() {
    let sb = Sandbox::new();
    let data = write_appointments(&sb, 23);
    // Each sub-ICB location in an ICB of its own name; 99Z (the unmapped practice's) absent.
    let mut mapping =
        "GP_CODE,SUB_ICB_LOCATION_CODE,SUB_ICB_LOCATION_NAME,ICB_CODE,ICB_NAME\n".to_string();
    for (k, (_, practices, sub)) in ICBS.iter().enumerate() {
        for p in practices {
            mapping.push_str(&format!(
                "{p},{sub},NHS SUB-ICB {sub},QX{k},\"NHS Test ICB {k}, Mapped\"\n"
            ));
        }
    }
    sb.write("Mapping.csv", &mapping);
    let out = activity(
        &sb,
        &data.files,
        &[
            "--kind",
            "appointments",
            "--change",
            "2024-08",
            "--mapping",
            "Mapping.csv",
            "--out",
            "mapped",
            "--benchmarks-out",
            "mapped.csv",
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Practices placed in ICBs by Mapping.csv"),
        "{}",
        stdout(&out)
    );
    let rows = read_csv(&sb.path("mapped/activity_observed.csv"));
    let codes: std::collections::BTreeSet<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        ["QX0", "QX1", "QX2", "QX3", "national"]
    );
    let truth = |code: &str| match code {
        "QX0" | "QX2" => planted(ICBS[0].0),
        "national" => planted("national"),
        _ => 0.0,
    };
    recovered(&rows, "gp_appointments", &truth, "mapped");
    england_is_the_sum(&sb, "mapped", &data.unmapped);
    let figures = std::fs::read_to_string(sb.path("mapped.csv")).unwrap();
    assert!(
        figures.contains("\"GP appointments: change against the counterfactual, NHS Test ICB 2, Mapped (QX2), 2024-08 to 2025-01\""),
        "{figures}"
    );
    benchmarks_table(&sb, "mapped", "mapped.csv", 4);
}

/// Specialist advice requests by ICB in one file holding every month, two rows (specialties)
/// for each ICB and month; requests in `FALLING` fall by `ADVICE_FALL` a month from 2024-08.
const FALLING: usize = 1;
const ADVICE_FALL: i64 = 120;

fn write_advice(sb: &Sandbox, seed: u64) -> String {
    let mut rng = SplitMix64::seed_from_u64(seed);
    let mut text = "MONTH,ICB_CODE,ICB_NAME,SPECIALTY,TOTAL_REQUESTS\n".to_string();
    for (t, (y, m)) in months().into_iter().enumerate() {
        for (k, (code, _, _)) in ICBS.iter().enumerate() {
            for (s, specialty) in ["Dermatology", "Cardiology"].iter().enumerate() {
                let mean = expected(0, 0, t, m) * [0.5, 0.3][s];
                let mut n = (mean * noise(&mut rng)).round() as i64;
                if k == FALLING && s == 0 && (y, m) >= (2024, 8) {
                    n -= ADVICE_FALL;
                }
                text.push_str(&format!(
                    "{y}-{m:02},{code},\"NHS {code}, ICB\",{specialty},{n}\n"
                ));
            }
        }
    }
    sb.write("advice.csv", &text);
    "advice.csv".to_string()
}

#[test]
fn a_fall_in_advice_requests_is_recovered_in_its_icb() {
    let sb = Sandbox::new();
    let file = write_advice(&sb, 5);
    let out = activity(
        &sb,
        &[file],
        &[
            "--kind",
            "advice",
            "--change",
            "2024-08",
            "--out",
            "adv",
            "--benchmarks-out",
            "adv.csv",
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&sb.path("adv/activity_observed.csv"));
    assert_eq!(rows.len(), 1 + 1 + ICBS.len());
    let truth = |code: &str| match code {
        "national" => -ADVICE_FALL as f64,
        c if c == ICBS[FALLING].0 => -ADVICE_FALL as f64,
        _ => 0.0,
    };
    recovered(&rows, "advice_and_guidance_requests", &truth, "advice");
    england_is_the_sum(
        &sb,
        "adv",
        &months()
            .into_iter()
            .map(|(y, m)| (format!("{y}-{m:02}"), (0, 0)))
            .collect(),
    );
    benchmarks_table(&sb, "adv", "adv.csv", 4);
    let figures = read_csv(&sb.path("adv.csv"));
    assert_eq!(
        figures[1][0],
        "observed_advice_and_guidance_requests_national"
    );
}

/// Runs the command expecting exit 2 and nothing written; returns stderr.
fn refused(sb: &Sandbox, files: &[String], extra: &[&str]) -> String {
    let before = std::fs::read_dir(sb.dir.path()).unwrap().count();
    let mut args = vec!["--out", "out", "--benchmarks-out", "b.csv"];
    args.extend(extra);
    let out = activity(sb, files, &args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!sb.path("out").exists(), "output written");
    assert!(!sb.path("b.csv").exists(), "benchmarks written");
    assert_eq!(std::fs::read_dir(sb.dir.path()).unwrap().count(), before);
    stderr(&out)
}

/// Replaces field `field` of line `line` (the header is line 1) of `file` with `value`.
fn set_cell(sb: &Sandbox, file: &str, line: usize, field: usize, value: &str) {
    let path = sb.path(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // The names are quoted with a comma inside: split on the last fields only.
    let l = &lines[line - 1];
    let mut fields: Vec<String> = l.split(',').map(String::from).collect();
    let at = match field {
        0 => 0,
        k => fields.len() - k,
    };
    fields[at] = value.to_string();
    lines[line - 1] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

const APPOINTMENTS: [&str; 4] = ["--kind", "appointments", "--change", "2024-08"];

#[test]
fn bad_counts_and_months_are_named_by_file_line_and_column() {
    let sb = Sandbox::new();
    let data = write_appointments(&sb, 31);
    let files = &data.files;
    // COUNT_OF_APPOINTMENTS is the second field from the end; the month the first.
    set_cell(&sb, &files[2], 4, 2, "abc");
    set_cell(&sb, &files[2], 7, 2, "-3");
    set_cell(&sb, &files[5], 3, 0, "AUG-2023");
    let err = refused(&sb, files, &APPOINTMENTS);
    for want in [
        format!(
            "{}:4: COUNT_OF_APPOINTMENTS: 'abc' is not a count: a whole number, 0 or more",
            files[2]
        ),
        format!(
            "{}:7: COUNT_OF_APPOINTMENTS: -3 is negative: a count is a whole number, 0 or more",
            files[2]
        ),
        format!(
            "{}:3: APPOINTMENT_MONTH_START_DATE: 'AUG-2023' is not a month start date: the publication writes DDMONYYYY, e.g. 01AUG2024",
            files[5]
        ),
    ] {
        assert!(err.contains(&want), "{want}\n{err}");
    }
}

#[test]
fn missing_columns_months_in_two_files_and_gaps_are_refused() {
    let sb = Sandbox::new();
    let data = write_appointments(&sb, 41);
    let files = data.files.clone();
    // A month given twice, under another name.
    let copy = "copy_of_march.csv".to_string();
    std::fs::copy(sb.path(&files[1]), sb.path(&copy)).unwrap();
    let mut twice = files.clone();
    twice.push(copy.clone());
    let err = refused(&sb, &twice, &APPOINTMENTS);
    assert!(
        err.contains(&format!(
            "{copy}: APPOINTMENT_MONTH_START_DATE: 2023-03 is also in {}: each month must come from one file",
            files[1]
        )),
        "{err}"
    );
    std::fs::remove_file(sb.path(&copy)).unwrap();
    // A month missing inside the span.
    let mut gap = files.clone();
    gap.remove(5);
    let err = refused(&sb, &gap, &APPOINTMENTS);
    assert!(
        err.contains("data activity: FILE: months missing between 2023-02 and 2025-01: 2023-07"),
        "{err}"
    );
    // A pre-period too short, and a change after the data.
    let err = refused(
        &sb,
        &files,
        &["--kind", "appointments", "--change", "2023-05"],
    );
    assert!(
        err.contains("--change: the national series: 3 months before the first change; at least 6"),
        "{err}"
    );
    let err = refused(
        &sb,
        &files,
        &["--kind", "appointments", "--change", "2025-06"],
    );
    assert!(
        err.contains("the change 2025-06 is not inside the months read"),
        "{err}"
    );
    // No files.
    let err = refused(&sb, &[], &APPOINTMENTS);
    assert!(
        err.contains("FILE: no Appointments in General Practice practice-level files given"),
        "{err}"
    );
    // A missing column.
    let path = sb.path(&files[0]);
    let text =
        std::fs::read_to_string(&path)
            .unwrap()
            .replacen("COUNT_OF_APPOINTMENTS", "COUNT", 1);
    std::fs::write(&path, text).unwrap();
    let err = refused(&sb, &files, &APPOINTMENTS);
    assert!(
        err.contains(&format!(
            "{}: COUNT_OF_APPOINTMENTS: required column 'COUNT_OF_APPOINTMENTS' is missing",
            files[0]
        )),
        "{err}"
    );
}

#[test]
fn bad_advice_files_and_mappings_are_refused() {
    let sb = Sandbox::new();
    let file = write_advice(&sb, 7);
    let advice = ["--kind", "advice", "--change", "2024-08"];
    set_cell(&sb, &file, 10, 1, "12.5");
    set_cell(&sb, &file, 12, 0, "2024-13");
    let err = refused(&sb, std::slice::from_ref(&file), &advice);
    assert!(
        err.contains(
            "advice.csv:10: TOTAL_REQUESTS: '12.5' is not a count: a whole number, 0 or more"
        ),
        "{err}"
    );
    assert!(
        err.contains("advice.csv:12: MONTH: '2024-13' is not a month: write YYYY-MM, e.g. 2024-08"),
        "{err}"
    );
    let file = write_advice(&sb, 7);
    sb.write(
        "Mapping.csv",
        "SUB_ICB_LOCATION_CODE,ICB_CODE,ICB_NAME\n00L,QHM,A\n",
    );
    let mut with_mapping = advice.to_vec();
    with_mapping.extend(["--mapping", "Mapping.csv"]);
    let err = refused(&sb, std::slice::from_ref(&file), &with_mapping);
    assert!(
        err.contains("--mapping: Mapping.csv is for --kind appointments"),
        "{err}"
    );
    // A mapping file without its ICB column.
    let data = write_appointments(&sb, 43);
    sb.write("Mapping.csv", "SUB_ICB_LOCATION_CODE,ICB_NAME\n00L,A\n");
    let mut mapped = APPOINTMENTS.to_vec();
    mapped.extend(["--mapping", "Mapping.csv"]);
    let err = refused(&sb, &data.files, &mapped);
    assert!(
        err.contains("Mapping.csv: ICB_CODE: required column 'ICB_CODE' is missing"),
        "{err}"
    );
}
