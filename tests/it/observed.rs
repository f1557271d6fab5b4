//! `data observed` on generated English Prescribing Dataset months: the excess of a hand-made
//! table computed by hand, a planted rise in brand prescribing recovered in the ICBs that had
//! it (and not in the others), the benchmarks table read back by `benchmark`, and bad input
//! refused with nothing written.

use std::path::PathBuf;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::SplitMix64;

use icb_impact::observed::{analyse, excess, fit_rows, Cost, Row};
use icb_impact::prescribing::Grouping;
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

/// NHSBSA's first month of the EPD with SNOMED Code alone: the EPD without SNOMED codes was
/// retired after June 2025.
pub(crate) const SNOMED_FROM: (i32, u32) = (2025, 7);
/// The first month whose SNOMED_CODE is written as text (NHSBSA's change of May 2026).
const SNOMED_TEXT_FROM: (i32, u32) = (2026, 5);

/// One EPD row: `cost` is the ACTUAL_COST, the NIC is `nic` (both £). From [`SNOMED_FROM`] the
/// row is in the EPD with SNOMED Code's layout: a SNOMED_CODE at the end, a number until
/// [`SNOMED_TEXT_FROM`], then text (leading zeros, and letters the reader must never parse).
#[allow(clippy::too_many_arguments)]
fn row(
    month: (i32, u32),
    icb: usize,
    practice: &str,
    code: &str,
    quantity: u64,
    cost: f64,
    nic: f64,
    layout: Layout,
) -> String {
    let (icb_code, icb_name) = ICBS[icb];
    let snomed = match layout {
        Layout::Epd => String::new(),
        Layout::AsPublished if month < SNOMED_FROM => String::new(),
        Layout::AsPublished if month < SNOMED_TEXT_FROM => ",35936411000001109".to_string(),
        Layout::AsPublished => format!(",00{}{}", quantity % 97, &code[9..11]),
    };
    format!(
        "{y}{m:02},NORTH EAST AND YORKSHIRE,Y63,{icb_name},{icb_code},{icb_code} SUB-ICB,03F,\"THE SURGERY, {practice}\",{practice},1 HIGH STREET,,TOWN,COUNTY,HU1 1AA,{chem},Some substance,{code},\"Some drug, tablets\",02: Cardiovascular System,{quantity},1,{quantity},{adq},{nic:.2},{cost:.5},0{snomed}\n",
        y = month.0,
        m = month.1,
        chem = &code[..9],
        adq = quantity as f64 / 10.0,
    )
}

/// Which layout the generated files have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// The EPD's columns in every month.
    Epd,
    /// As NHSBSA publishes them: the EPD to June 2025, the EPD with SNOMED Code after.
    AsPublished,
}

/// Generated EPD months: `n` from `first`, one file each, quantities `scale` times
/// [`MEAN_QUANTITY`], brand share rising from `change` in the planted ICBs; NIC is 1.1 times
/// the actual cost, and from `discount`'s month on the actual cost is its factor times what it
/// would have been (a change in the method of discount, NIC unchanged).
#[derive(Debug, Clone, Copy)]
struct Months {
    first: (i32, u32),
    n: u32,
    change: (i32, u32),
    scale: f64,
    layout: Layout,
    discount: Option<((i32, u32), f64)>,
}

impl Default for Months {
    /// 24 months, 2023-02 to 2025-01, the rise from 2024-08, as published.
    fn default() -> Self {
        Months {
            first: (2023, 2),
            n: 24,
            change: (2024, 8),
            scale: 1.0,
            layout: Layout::AsPublished,
            discount: None,
        }
    }
}

impl Months {
    /// Writes the files; returns their names.
    fn write(&self, sb: &Sandbox, seed: u64) -> Vec<String> {
        let mut rng = SplitMix64::seed_from_u64(seed);
        let mut names = Vec::new();
        for k in 0..self.n {
            let index = self.first.1 - 1 + k;
            let (y, m) = (self.first.0 + (index / 12) as i32, index % 12 + 1);
            let factor = match self.discount {
                Some((from, f)) if (y, m) >= from => f,
                _ => 1.0,
            };
            let header = match self.layout == Layout::AsPublished && (y, m) >= SNOMED_FROM {
                true => format!("{HEADER},SNOMED_CODE"),
                false => HEADER.to_string(),
            };
            let mut text = format!("{header}\n");
            for icb in 0..ICBS.len() {
                for p in 0..PRACTICES_PER_ICB {
                    let practice = format!("{}{:04}", (b'A' + icb as u8) as char, p);
                    let after = (y, m) >= self.change;
                    let share = match after && PLANTED.contains(&icb) {
                        true => BRAND_SHARE.1,
                        false => BRAND_SHARE.0,
                    };
                    for (generic, brand, pg, pb) in GROUPS {
                        let noise = 0.9 + 0.2 * rng.random_range(0..1000u64) as f64 / 1000.0;
                        let total = self.scale * MEAN_QUANTITY * season(m) * noise;
                        let brand_q = (total * share).round() as u64;
                        let generic_q = (total - brand_q as f64).round() as u64;
                        for (code, q, price) in [(generic, generic_q, pg), (brand, brand_q, pb)] {
                            let cost = q as f64 * price;
                            text.push_str(&row(
                                (y, m),
                                icb,
                                &practice,
                                code,
                                q,
                                cost * factor,
                                cost * 1.1,
                                self.layout,
                            ));
                        }
                    }
                }
            }
            let name = format!("EPD_{y}{m:02}.csv");
            sb.write(&name, &text);
            names.push(name);
        }
        names
    }
}

/// 24 months, 2023-02 to 2025-01, one file each; brand share rising from `change` in the
/// planted ICBs. Returns the files' names.
fn write_months(sb: &Sandbox, seed: u64, change: (i32, u32)) -> Vec<String> {
    Months {
        change,
        ..Months::default()
    }
    .write(sb, seed)
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
        let t = excess(std::slice::from_ref(&path), mode, Cost::Actual, &mut |_| {}).unwrap();
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
        assert_eq!(format!("{:.2}", of("P2").cost_gbp), "85.00");
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
fn months_across_the_june_2025_changeover_give_the_same_estimates_in_either_layout() {
    use polars::prelude::*;
    // February 2024 to May 2026: the EPD to June 2025, then the EPD with SNOMED Code (its code
    // a number, then text from May 2026), one month of it as Parquet; against the same months
    // all in the EPD's layout.
    let months = |layout| Months {
        first: (2024, 2),
        n: 28,
        change: (2025, 8),
        layout,
        ..Months::default()
    };
    let (published, old) = (Sandbox::new(), Sandbox::new());
    let mut files = months(Layout::AsPublished).write(&published, 41);
    let same = months(Layout::Epd).write(&old, 41);
    assert_eq!(files, same);
    let csv = published.path("EPD_202509.csv");
    assert!(std::fs::read_to_string(&csv)
        .unwrap()
        .starts_with(&format!("{HEADER},SNOMED_CODE\n")));
    let mut frame = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(csv.clone()))
        .unwrap()
        .finish()
        .unwrap();
    assert!(frame.column("SNOMED_CODE").unwrap().dtype().is_integer());
    let file = std::fs::File::create(published.path("EPD_202509.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
    std::fs::remove_file(csv).unwrap();
    files[19] = "EPD_202509.parquet".to_string();
    let last = std::fs::read_to_string(published.path("EPD_202605.csv")).unwrap();
    assert!(last
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next_back()
        .unwrap()
        .starts_with("00"));
    for (sb, files) in [(&published, &files), (&old, &same)] {
        let out = observed(sb, files, &["--change", "2025-08", "--out", "obs", "-q"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for name in ["observed.csv", "observed_monthly.csv"] {
        let read = |sb: &Sandbox| std::fs::read(sb.path(&format!("obs/{name}"))).unwrap();
        assert!(
            read(&published) == read(&old),
            "{name} differs between the layouts"
        );
    }
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
        err.contains("months missing between 2023-02 and 2025-01: 2023-07 (2023-07 in the baseline, before 2024-08); the time series needs every month"),
        "{err}"
    );
    // A month missing after the change is refused too: the figure would count one month
    // fewer of the loss, and the AR(1) errors need equally spaced months.
    let mut gap = files.clone();
    gap.remove(20);
    let err = refused(&sb, &gap, &["--change", "2024-08"]);
    assert!(
        err.contains("months missing between 2023-02 and 2025-01: 2024-10 (2024-10 after the change 2024-08)"),
        "{err}"
    );
    let mut gap = files.clone();
    gap.remove(20);
    gap.remove(5);
    let err = refused(&sb, &gap, &["--change", "2024-08"]);
    assert!(
        err.contains("2023-07, 2024-10 (2023-07 in the baseline, before 2024-08; 2024-10 after the change 2024-08)"),
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
    observe_to_august_2026(&sb);
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

/// The nowcast's first step on generated months: EPD months from June 2024 (two years before
/// the June 2026 switch-off) to August 2026, the rise planted from June 2026, through
/// `data observed --change 2026-06 --out obs --benchmarks-out obs.csv`.
pub(crate) fn observe_to_august_2026(sb: &Sandbox) {
    let files = Months {
        first: (2024, 6),
        n: 27,
        change: (2026, 6),
        scale: 30.0,
        ..Months::default()
    }
    .write(sb, 5);
    assert_eq!(files.last().unwrap(), "EPD_202608.csv");
    let out = observed(
        sb,
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
}

/// The national row of `dir/observed.csv`: the effect a month and its 95% interval.
fn national_effect(sb: &Sandbox, dir: &str) -> (f64, f64, f64) {
    let rows = read_csv(&sb.path(&format!("{dir}/observed.csv")));
    let k = |name| column(&rows, name);
    let n = &rows[1];
    assert_eq!(n[k("icb_code")], "national");
    let v = |name| n[k(name)].parse::<f64>().unwrap();
    (
        v("effect_gbp_per_month"),
        v("effect_low_gbp_per_month"),
        v("effect_high_gbp_per_month"),
    )
}

#[test]
fn a_change_in_the_discount_method_of_actual_cost_is_not_read_as_excess() {
    // No change in prescribing at all, but ACTUAL_COST 20% lower from April 2024, as a new
    // method of discount would make it (NIC unchanged); the change point is August 2024, four
    // months later.
    let mut last = None;
    for seed in [51, 52, 53] {
        let sb = Sandbox::new();
        let files = Months {
            change: (2099, 1),
            discount: Some(((2024, 4), 0.8)),
            ..Months::default()
        }
        .write(&sb, seed);
        let paths: Vec<PathBuf> = files.iter().map(|f| sb.path(f)).collect();
        let change = "2024-08".parse().unwrap();
        let table = excess(&paths, ReadMode::Streaming, Cost::Actual, &mut |_| {}).unwrap();
        // Protected: a level shift at 2024-04 in the counterfactual. The estimate is zero
        // within its 95% interval (about two standard errors).
        let protected = analyse(&table, &[change], Grouping::Icb).unwrap();
        assert_eq!(protected.shifts, vec!["2024-04".parse().unwrap()]);
        let f = protected.national.fit.clone();
        // Unprotected (what the command did before): the drop is taken for trend, season and
        // autocorrelated noise; the estimate is pulled down by many of the protected
        // estimate's standard errors, and its own interval is far wider.
        let rows = table.rows.iter().map(|r| Row {
            month: r.month,
            icb: Some((&r.icb_code, &r.icb_name)),
            practice_code: Some(&r.practice_code),
            value: r.excess_gbp,
        });
        let bare = fit_rows("t", &table.months, rows, &[change], &[], Grouping::Icb).unwrap();
        let b = &bare.national.fit;
        eprintln!(
            "seed {seed}: protected {:.0} ± {:.0} (ρ {:.2}); unprotected {:.0} ± {:.0} (ρ {:.2})",
            f.effect_per_month,
            f.effect_se,
            f.rho.unwrap(),
            b.effect_per_month,
            b.effect_se,
            b.rho.unwrap()
        );
        assert!(
            f.effect_low < 0.0 && 0.0 < f.effect_high,
            "seed {seed}: {f:?}"
        );
        assert!(
            b.effect_per_month.abs() > 4.0 * f.effect_se && b.effect_se > 3.0 * f.effect_se,
            "seed {seed}: unprotected {b:?}"
        );
        last = Some((sb, files, f));
    }
    let (sb, files, f) = last.unwrap();
    // The command, by default in actual cost: the same estimate, and the choice recorded.
    let out = observed(
        &sb,
        &files,
        &[
            "--change",
            "2024-08",
            "--as-of",
            "2025-04",
            "--out",
            "a",
            "--benchmarks-out",
            "a.csv",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (est, low, high) = national_effect(&sb, "a");
    assert!((est - f.effect_per_month).abs() < 0.01, "{est}");
    assert!(low < 0.0 && 0.0 < high, "{low} to {high}");
    let manifest = crate::read_json(&sb.path("a/manifest.json"));
    assert_eq!(manifest["cost"], "actual");
    assert_eq!(manifest["cost_column"], "ACTUAL_COST");
    assert_eq!(manifest["level_shifts"], serde_json::json!(["2024-04"]));
    let note = "a level shift at 2024-04 fitted in the counterfactual, for NHSBSA's new method of discount in ACTUAL_COST from April 2024 data";
    assert!(
        manifest["notes"][0].as_str().unwrap().contains(note),
        "{manifest}"
    );
    assert!(stdout(&out).contains(note), "{}", stdout(&out));
    let bench = read_csv(&sb.path("a.csv"));
    let source = column(&bench, "source");
    assert!(
        bench[1..].iter().all(|r| r[source].contains(note)),
        "{bench:?}"
    );
    // In list prices: nothing to protect, and zero within the interval too.
    let out = observed(
        &sb,
        &files,
        &[
            "--change", "2024-08", "--cost", "nic", "--as-of", "2025-04", "--out", "n",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, low, high) = national_effect(&sb, "n");
    assert!(low < 0.0 && 0.0 < high, "nic: {low} to {high}");
    let manifest = crate::read_json(&sb.path("n/manifest.json"));
    assert_eq!(
        (manifest["cost"].as_str(), manifest["cost_column"].as_str()),
        (Some("nic"), Some("NIC"))
    );
    assert_eq!(manifest["level_shifts"], serde_json::json!([]));
    // List prices are not the ICB cash view of the benchmarks table; a change at the discount
    // change cannot be told from it.
    let err = refused(&sb, &files, &["--change", "2024-08", "--cost", "nic"]);
    assert!(
        err.contains("--cost: nic is the list price before discount"),
        "{err}"
    );
    let err = refused(&sb, &files, &["--change", "2024-04"]);
    assert!(
        err.contains("--change: 2024-04 is the month NHSBSA changed how ACTUAL_COST is discounted")
            && err.contains("--cost nic"),
        "{err}"
    );
}

#[test]
fn months_expected_but_not_read_are_said_on_stderr_in_the_manifest_and_the_benchmarks() {
    // 2023-02 to 2025-01. In June 2025, February's and March's EPD should be out.
    let sb = Sandbox::new();
    let files = write_months(&sb, 16, (2024, 8));
    let run = |as_of: &str, out: &str| {
        let mut args = vec!["--change", "2024-08", "--out", out, "--benchmarks-out"];
        let bench = format!("{out}.csv");
        args.push(&bench);
        if !as_of.is_empty() {
            args.extend(["--as-of", as_of]);
        }
        observed(&sb, &files, &args)
    };
    let out = run("2025-06", "late");
    assert!(
        out.status.success(),
        "late months are a warning: {}",
        stderr(&out)
    );
    let note = "2025-02, 2025-03 expected by 2025-06 but not read (NHSBSA publishes each EPD month about 2 months after it ends); the figures end at 2025-01, the last month read";
    assert!(
        stderr(&out).contains(&format!("warning: {note}")),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains(note), "{}", stdout(&out));
    let manifest = crate::read_json(&sb.path("late/manifest.json"));
    assert_eq!(manifest["as_of"], "2025-06");
    assert_eq!(manifest["expected_through"], "2025-03");
    assert_eq!(
        manifest["late_months"],
        serde_json::json!(["2025-02", "2025-03"])
    );
    assert!(manifest["notes"][1].as_str().unwrap() == note, "{manifest}");
    let bench = read_csv(&sb.path("late.csv"));
    let source = column(&bench, "source");
    assert!(
        bench[1..]
            .iter()
            .all(|r| r[source].ends_with(&format!("{note}."))),
        "{bench:?}"
    );
    // In April 2025 January's is the latest due: nothing is late, nothing said.
    let out = run("2025-04", "due");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let manifest = crate::read_json(&sb.path("due/manifest.json"));
    assert_eq!(manifest["late_months"], serde_json::json!([]));
    assert_eq!(manifest["notes"].as_array().unwrap().len(), 1, "{manifest}");
    // The figures themselves do not depend on the month the run is in.
    assert_eq!(
        std::fs::read(sb.path("late/observed.csv")).unwrap(),
        std::fs::read(sb.path("due/observed.csv")).unwrap()
    );
    // By default the run is in the clock's month.
    let out = run("", "now");
    assert!(out.status.success(), "{}", stderr(&out));
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let now = icb_impact::month::Month::from_unix_seconds(seconds).unwrap();
    let manifest = crate::read_json(&sb.path("now/manifest.json"));
    assert_eq!(manifest["as_of"], now.to_string());
    // A month the data are not all before is not the run's month.
    let err = refused(&sb, &files, &["--change", "2024-08", "--as-of", "2025-01"]);
    assert!(
        err.contains("--as-of: 2025-01 is not after the last month read, 2025-01"),
        "{err}"
    );
    let err = refused(&sb, &files, &["--change", "2024-08", "--as-of", "2025-1"]);
    assert!(err.contains("'2025-1' is not a month"), "{err}");
}
