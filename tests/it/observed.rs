//! `data observed` on generated English Prescribing Dataset months: the excess of a hand-made
//! table computed by hand, a planted rise in brand prescribing recovered in the ICBs that had
//! it (and not in the others), the benchmarks table read back by `benchmark`, and bad input
//! refused with nothing written.

use std::path::PathBuf;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::SplitMix64;

use icb_impact::observed::excess;
use icb_impact::prescribing::ReadMode;

use crate::column_index as column;
use crate::prescribing::{HEADER, ICBS};
use crate::{read_csv, shipped, stderr, stdout, Sandbox};

/// The ICBs (indices into `ICBS`) where brand prescribing rises from the change month.
const PLANTED: [usize; 2] = [0, 2];

/// Equivalence groups: the generic's code, the brand's code (same chemical and
/// generic-equivalent parts), the generic's and the brand's price per unit in £.
const GROUPS: [(&str, &str, f64, f64); 3] = [
    ("0212000B0AAABAB", "0212000B0BBABAB", 0.02, 0.08),
    ("0103050P0AAAAAA", "0103050P0BBAAAA", 0.05, 0.12),
    ("0601022B0AAABAB", "0601022B0BEABAB", 0.10, 0.25),
];

const PRACTICES_PER_ICB: usize = 6;
/// Mean quantity a practice prescribes of a group in a month, before the season.
const MEAN_QUANTITY: f64 = 10_000.0;
/// The brand's share of a group's quantity, before and (in the planted ICBs) after the change.
const BRAND_SHARE: (f64, f64) = (0.10, 0.30);

/// The season: quantities 10% higher in January than in July.
fn season(month: u32) -> f64 {
    1.0 + 0.05 * (2.0 * std::f64::consts::PI * f64::from(month) / 12.0).cos()
}

/// One EPD row.
fn row(
    month: (i32, u32),
    icb: usize,
    practice: &str,
    code: &str,
    quantity: u64,
    cost: f64,
) -> String {
    let (icb_code, icb_name) = ICBS[icb];
    format!(
        "{y}{m:02},NORTH EAST AND YORKSHIRE,Y63,{icb_name},{icb_code},{icb_code} SUB-ICB,03F,\"THE SURGERY, {practice}\",{practice},1 HIGH STREET,,TOWN,COUNTY,HU1 1AA,{chem},Some substance,{code},\"Some drug, tablets\",02: Cardiovascular System,{quantity},1,{quantity},{adq},{nic:.2},{cost:.5},0\n",
        y = month.0,
        m = month.1,
        chem = &code[..9],
        adq = quantity as f64 / 10.0,
        nic = cost * 1.1,
    )
}

/// 24 months, 2023-02 to 2025-01, one file each; brand share rising from `change` in the
/// planted ICBs. Returns the files' names.
fn write_months(sb: &Sandbox, seed: u64, change: (i32, u32)) -> Vec<String> {
    write_months_from(sb, seed, (2023, 2), 24, change, 1.0)
}

/// `n` months from `first`, one file each, quantities `scale` times [`MEAN_QUANTITY`]; brand
/// share rising from `change` in the planted ICBs. Returns the files' names.
fn write_months_from(
    sb: &Sandbox,
    seed: u64,
    first: (i32, u32),
    n: u32,
    change: (i32, u32),
    scale: f64,
) -> Vec<String> {
    let mut rng = SplitMix64::seed_from_u64(seed);
    let mut names = Vec::new();
    for k in 0..n {
        let index = first.1 - 1 + k;
        let (y, m) = (first.0 + (index / 12) as i32, index % 12 + 1);
        let mut text = format!("{HEADER}\n");
        for icb in 0..ICBS.len() {
            for p in 0..PRACTICES_PER_ICB {
                let practice = format!("{}{:04}", (b'A' + icb as u8) as char, p);
                let after = (y, m) >= change;
                let share = match after && PLANTED.contains(&icb) {
                    true => BRAND_SHARE.1,
                    false => BRAND_SHARE.0,
                };
                for (generic, brand, pg, pb) in GROUPS {
                    let noise = 0.9 + 0.2 * rng.random_range(0..1000u64) as f64 / 1000.0;
                    let total = scale * MEAN_QUANTITY * season(m) * noise;
                    let brand_q = (total * share).round() as u64;
                    let generic_q = (total - brand_q as f64).round() as u64;
                    text.push_str(&row(
                        (y, m),
                        icb,
                        &practice,
                        generic,
                        generic_q,
                        generic_q as f64 * pg,
                    ));
                    text.push_str(&row(
                        (y, m),
                        icb,
                        &practice,
                        brand,
                        brand_q,
                        brand_q as f64 * pb,
                    ));
                }
            }
        }
        let name = format!("EPD_{y}{m:02}.csv");
        sb.write(&name, &text);
        names.push(name);
    }
    names
}

/// The planted rise in one ICB's monthly excess, averaged over the months after the change
/// (2024-08 to 2025-01): the brand's extra share × the mean quantity × the price gap, over
/// practices and groups. The generic's price per unit is the same for every practice, and
/// fewer than 90% of each group's rows are brands, so the low price is the generic's.
fn planted_effect() -> f64 {
    let months = [8, 9, 10, 11, 12, 1];
    let mean_season: f64 = months.iter().map(|&m| season(m)).sum::<f64>() / 6.0;
    let gap: f64 = GROUPS.iter().map(|g| g.3 - g.2).sum();
    PRACTICES_PER_ICB as f64 * (BRAND_SHARE.1 - BRAND_SHARE.0) * MEAN_QUANTITY * mean_season * gap
}

fn observed(sb: &Sandbox, files: &[String], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["data", "observed"];
    args.extend(files.iter().map(String::as_str));
    args.extend(extra);
    sb.run(&args)
}

#[test]
fn excess_of_a_hand_made_table_is_computed_exactly() {
    let sb = Sandbox::new();
    let row = |practice: &str, icb: usize, code: &str, quantity: &str, cost: &str| {
        let (icb_code, icb_name) = ICBS[icb];
        format!("202401,R,Y63,{icb_name},{icb_code},P,03F,N,{practice},,,,,,{chem},S,{code},D,C,{quantity},1,{quantity},1,{cost},{cost},0\n", chem = &code[..9])
    };
    let text = [
        HEADER.to_string() + "\n",
        // Atorvastatin 20mg: P1's generic in two quantities, at 10p and 11p a unit.
        row("P1", 0, "0212000B0AAABAB", "28", "2.80"),
        row("P1", 0, "0212000B0AAABAB", "56", "6.16"),
        // P2's brand (Lipitor 20mg, the same group): 100 units, £30: 30p.
        row("P2", 0, "0212000B0BBABAB", "100", "30.00"),
        // P3, another ICB: generic at 11p, brand at 40p.
        row("P3", 1, "0212000B0AAABAB", "200", "22.00"),
        row("P3", 1, "0212000B0BBABAB", "50", "20.00"),
        // Atorvastatin 40mg is another group: P1 alone, so at the group's low price.
        row("P1", 0, "0212000B0AAACAC", "30", "9.00"),
        // A device (chapter 21) has no equivalent: no excess.
        row("P2", 0, "21220000523ABAA", "10", "55.00"),
    ]
    .concat();
    let path = sb.write("EPD_202401.csv", &text);
    for mode in [ReadMode::Streaming, ReadMode::Eager] {
        let t = excess(std::slice::from_ref(&path), mode, &mut |_| {}).unwrap();
        // The 20mg group's rows' prices per unit, sorted: 0.10, 0.11, 0.11, 0.30, 0.40. The
        // 10th percentile is at position 0.1 × 4 = 0.4: 0.4 of the way from the first to the
        // second, 0.104.
        let low = 0.10 + 0.4 * (0.11 - 0.10);
        let want = [
            ("P1", (0.11 - low) * 56.0),
            ("P2", (0.30 - low) * 100.0),
            ("P3", (0.11 - low) * 200.0 + (0.40 - low) * 50.0),
        ];
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.input_rows(), 7);
        let of = |practice: &str| t.rows.iter().find(|r| r.practice_code == practice).unwrap();
        for (practice, excess) in want {
            let r = of(practice);
            assert!(
                (r.excess_gbp - excess).abs() < 1e-9,
                "{practice}: {} against {excess} by hand ({mode:?})",
                r.excess_gbp
            );
        }
        // By hand, to the penny: 0.6p × 56, 19.6p × 100, 0.6p × 200 + 29.6p × 50.
        assert_eq!(format!("{:.3}", of("P1").excess_gbp), "0.336");
        assert_eq!(format!("{:.2}", of("P2").excess_gbp), "19.60");
        assert_eq!(format!("{:.2}", of("P3").excess_gbp), "16.00");
        assert_eq!(format!("{:.2}", of("P2").actual_cost_gbp), "85.00");
        assert_eq!(of("P3").icb_code, "QHM");
    }
}

/// Writes the months of `seed`, runs `data observed` into `obs` (and the benchmarks table),
/// and checks that the planted rise is found in the ICBs that had it and nowhere else.
fn recovered(sb: &Sandbox, seed: u64) {
    let files = write_months(sb, seed, (2024, 8));
    let out = observed(
        sb,
        &files,
        &[
            "--change",
            "2024-08",
            "--out",
            "obs",
            "--benchmarks-out",
            "observed-benchmarks.csv",
            "--png",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains("18 months before, 6 after; trend and seasonality"),
        "{report}"
    );
    let rows = read_csv(&sb.path("obs/observed.csv"));
    assert_eq!(rows.len(), 1 + 1 + ICBS.len(), "national and four ICBs");
    let (code, effect, low, high) = (
        column(&rows, "icb_code"),
        column(&rows, "effect_gbp_per_month"),
        column(&rows, "effect_low_gbp_per_month"),
        column(&rows, "effect_high_gbp_per_month"),
    );
    let planted = planted_effect();
    for r in &rows[1..] {
        let value = |k: usize| r[k].parse::<f64>().unwrap();
        let (est, lo, hi) = (value(effect), value(low), value(high));
        let truth = match r[code].as_str() {
            "national" => PLANTED.len() as f64 * planted,
            c if PLANTED.iter().any(|&k| ICBS[k].0 == c) => planted,
            _ => 0.0,
        };
        // Within two half-widths of the 95% interval (about four standard errors).
        assert!(
            (est - truth).abs() < hi - lo,
            "seed {seed}, {}: {est} ({lo} to {hi}) against {truth} planted",
            r[code]
        );
        if truth > 0.0 {
            assert!(
                lo > 0.0,
                "seed {seed}, {}: the rise is found: {lo} to {hi}",
                r[code]
            );
        }
    }
}

#[test]
fn a_planted_rise_is_recovered_in_the_icbs_that_had_it_and_fed_to_benchmark() {
    let sb = Sandbox::new();
    for seed in [11, 21, 31] {
        recovered(&sb, seed);
    }
    let monthly = read_csv(&sb.path("obs/observed_monthly.csv"));
    assert_eq!(monthly.len(), 1 + 24 * (1 + ICBS.len()));
    for chart in ["observed_national", "observed_icbs"] {
        for ext in ["svg", "png"] {
            assert!(
                sb.path(&format!("obs/charts/{chart}.{ext}")).is_file(),
                "{chart}.{ext}"
            );
        }
    }
    // The estimates as published figures, read by `benchmark`.
    let figures = read_csv(&sb.path("observed-benchmarks.csv"));
    assert_eq!(figures.len(), 1 + 1 + ICBS.len());
    let scenario = shipped("medicines-optimisation-2024.toml");
    let out = sb.run(&[
        "benchmark",
        scenario.to_str().unwrap(),
        "--benchmarks",
        "observed-benchmarks.csv",
        "--iterations",
        "200",
        "--out",
        "b",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let compared = read_csv(&sb.path("b/benchmarks.csv"));
    let (id, status) = (column(&compared, "id"), column(&compared, "status"));
    let national = compared
        .iter()
        .find(|r| r[id] == "observed_excess_national")
        .expect("the national figure");
    assert_eq!(national[status], "compared", "{national:?}");
    assert_eq!(compared.len(), figures.len());
    // And by `calibrate`, which counts the ICB rows (restating the national one) once.
    let out = sb.run(&[
        "calibrate",
        scenario.to_str().unwrap(),
        "--benchmarks",
        "observed-benchmarks.csv",
        "--iterations",
        "500",
        "--out",
        "c",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let used = read_csv(&sb.path("c/calibration.csv"));
    assert!(
        used.iter().any(|r| r[0] == "observed_excess_national"),
        "{used:?}"
    );
}

#[test]
fn by_practice_fits_each_practice() {
    let sb = Sandbox::new();
    let files = write_months(&sb, 12, (2024, 8));
    let out = observed(
        &sb,
        &files,
        &[
            "--change", "2024-08", "--by", "practice", "--out", "p", "-q",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&sb.path("p/observed.csv"));
    assert_eq!(rows[0][..2], ["icb_code", "practice_code"]);
    assert_eq!(rows.len(), 1 + 1 + ICBS.len() * PRACTICES_PER_ICB);
}

/// Runs the command expecting exit 2 and nothing written; returns stderr.
fn refused(sb: &Sandbox, files: &[String], extra: &[&str]) -> String {
    let before = std::fs::read_dir(sb.dir.path()).unwrap().count();
    let mut args = vec!["--out", "out", "--benchmarks-out", "b.csv"];
    args.extend(extra);
    let out = observed(sb, files, &args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!sb.path("out").exists(), "output written");
    assert!(!sb.path("b.csv").exists(), "benchmarks written");
    assert_eq!(std::fs::read_dir(sb.dir.path()).unwrap().count(), before);
    stderr(&out)
}

#[test]
fn a_bad_value_names_the_file_line_and_column() {
    let sb = Sandbox::new();
    let files = write_months(&sb, 13, (2024, 8));
    let path: PathBuf = sb.path(&files[3]);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // Line 5 (the header is line 1): ACTUAL_COST, the second field from the end.
    let mut fields: Vec<String> = lines[4].split(',').map(String::from).collect();
    let at = fields.len() - 2;
    fields[at] = "abc".to_string();
    lines[4] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = refused(&sb, &files, &["--change", "2024-08"]);
    assert!(
        err.contains(&format!(
            "{}:5: ACTUAL_COST: 'abc' is not a number",
            files[3]
        )),
        "{err}"
    );
}

#[test]
fn a_cost_or_quantity_too_large_to_sum_is_refused() {
    // Before, a cost of 1e300 entered the excess as a number no month could hold.
    for (from_end, value) in [(2, "1e300"), (5, "5e13")] {
        let sb = Sandbox::new();
        let files = write_months(&sb, 13, (2024, 8));
        let path: PathBuf = sb.path(&files[3]);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let mut fields: Vec<String> = lines[4].split(',').map(String::from).collect();
        let at = fields.len() - from_end;
        fields[at] = value.to_string();
        lines[4] = fields.join(",");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let err = refused(&sb, &files, &["--change", "2024-08"]);
        assert!(
            err.contains(&format!("{}:5:", files[3]))
                && err.contains(&format!("'{value}' is too large")),
            "{err}"
        );
    }
}

#[test]
fn a_missing_column_is_named() {
    let sb = Sandbox::new();
    let files = write_months(&sb, 14, (2024, 8));
    let path = sb.path(&files[0]);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("BNF_CODE", "BNF_KODE", 1);
    std::fs::write(&path, text).unwrap();
    let err = refused(&sb, &files, &["--change", "2024-08"]);
    assert!(
        err.contains("required column 'BNF_CODE' is missing"),
        "{err}"
    );
}

#[test]
fn missing_months_and_short_pre_periods_are_named() {
    let sb = Sandbox::new();
    let files = write_months(&sb, 15, (2024, 8));
    let mut gap = files.clone();
    gap.remove(5);
    let err = refused(&sb, &gap, &["--change", "2024-08"]);
    assert!(
        err.contains("months missing between 2023-02 and 2025-01: 2023-07"),
        "{err}"
    );
    let err = refused(&sb, &files, &["--change", "2023-05"]);
    assert!(
        err.contains("--change: the national series: 3 months before the first change; at least 6"),
        "{err}"
    );
    let err = refused(&sb, &files, &["--change", "2024-12"]);
    assert!(err.contains("2 months from the change 2024-12"), "{err}");
    let err = refused(&sb, &files, &["--change", "2025-06"]);
    assert!(
        err.contains("the change 2025-06 is not inside the months read"),
        "{err}"
    );
    let err = refused(&sb, &[], &["--change", "2024-08"]);
    assert!(
        err.contains("FILE: no EPD files given: name the monthly files"),
        "{err}"
    );
}

#[test]
fn the_monthly_nowcast_runs_from_the_prescribing_data_to_a_calibrated_2026_run() {
    // The sequence a finance team repeats each month (README, "The monthly nowcast"): EPD
    // months from two years before the June 2026 switch-off to the latest published, then
    // data observed → calibrate escalation-2026 → run --posterior.
    let sb = Sandbox::new();
    let files = write_months_from(&sb, 5, (2024, 6), 27, (2026, 6), 30.0);
    assert_eq!(files.last().unwrap(), "EPD_202608.csv");
    let out = observed(
        &sb,
        &files,
        &[
            "--change",
            "2026-06",
            "--out",
            "obs",
            "--benchmarks-out",
            "obs.csv",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(report.contains("24 months before, 3 after"), "{report}");
    let scenario = shipped("escalation-2026.toml");
    let scenario = scenario.to_str().unwrap();
    let out = sb.run(&[
        "calibrate",
        scenario,
        "--benchmarks",
        "obs.csv",
        "--iterations",
        "2000",
        "--out",
        "cal",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let figures = read_csv(&sb.path("cal/calibration.csv"));
    let national = figures
        .iter()
        .find(|r| r[0] == "observed_excess_national")
        .expect("the national excess is used");
    // Scoped to the switch-off from June to the last month observed, August 2026.
    let compared = sb.run(&[
        "benchmark",
        scenario,
        "--benchmarks",
        "obs.csv",
        "--iterations",
        "500",
        "--out",
        "b",
        "-q",
    ]);
    assert!(compared.status.success(), "{}", stderr(&compared));
    let rows = read_csv(&sb.path("b/benchmarks.csv"));
    let row = rows
        .iter()
        .find(|r| r[0] == "observed_excess_national")
        .unwrap();
    let (start, end) = (column(&rows, "start"), column(&rows, "end"));
    assert_eq!(
        (row[start].as_str(), row[end].as_str()),
        ("2026-06", "2026-08")
    );
    let summary: serde_json::Value = crate::read_json(&sb.path("cal/summary.json"));
    assert_eq!(
        summary["posterior_reported"], true,
        "no posterior for the generated months: {national:?} {summary}"
    );
    let out = sb.run(&[
        "run",
        scenario,
        "--posterior",
        "cal",
        "--iterations",
        "2000",
        "--out",
        "post",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Calibrated:"), "{}", stdout(&out));
    let run: serde_json::Value = crate::read_json(&sb.path("post/summary.json"));
    assert!(run["calibrated"].is_object(), "{run}");
}
