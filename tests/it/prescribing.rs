//! `data prescribing` and `data build` on generated English Prescribing Dataset files: sums
//! checked to the penny against sums computed here, independently, in integers.

use std::collections::BTreeMap;
use std::path::Path;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::SplitMix64;

use crate::{read_csv, shipped, stderr, stdout, Sandbox};

/// NHSBSA's EPD header, in its order.
pub(crate) const HEADER: &str = "YEAR_MONTH,REGIONAL_OFFICE_NAME,REGIONAL_OFFICE_CODE,ICB_NAME,ICB_CODE,PCO_NAME,PCO_CODE,PRACTICE_NAME,PRACTICE_CODE,ADDRESS_1,ADDRESS_2,ADDRESS_3,ADDRESS_4,POSTCODE,BNF_CHEMICAL_SUBSTANCE,CHEMICAL_SUBSTANCE_BNF_DESCR,BNF_CODE,BNF_DESCRIPTION,BNF_CHAPTER_PLUS_CODE,QUANTITY,ITEMS,TOTAL_QUANTITY,ADQUSAGE,NIC,ACTUAL_COST,UNIDENTIFIED";

/// ICBs of the embedded table (code, name as EPD spells it), and one code it does not have.
pub(crate) const ICBS: [(&str, &str); 4] = [
    (
        "QOQ",
        "NHS HUMBER AND NORTH YORKSHIRE INTEGRATED CARE BOARD",
    ),
    (
        "QHM",
        "NHS NORTH EAST AND NORTH CUMBRIA INTEGRATED CARE BOARD",
    ),
    ("QF7", "NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD"),
    ("QWO", "NHS WEST YORKSHIRE INTEGRATED CARE BOARD"),
];

/// One generated EPD row's values that the sums use.
#[derive(Clone)]
struct Line {
    month: u32,
    icb: usize,
    practice: String,
    items: i64,
    /// Pence.
    nic: i64,
    /// Hundred-thousandths of a pound (EPD gives actual cost to five decimals).
    actual: i64,
}

/// `value / 10^decimals` written as EPD might: trailing zeros dropped.
fn decimal(value: i64, decimals: u32) -> String {
    let scale = 10i64.pow(decimals);
    let text = format!(
        "{}.{:0width$}",
        value / scale,
        value % scale,
        width = decimals as usize
    );
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Rows for `months` over the ICBs given (index into `ICBS`, or the unknown ICB `QZZ`),
/// three practices each, a few drugs each.
fn generate(seed: u64, months: &[u32], icbs: &[usize]) -> Vec<Line> {
    let mut rng = SplitMix64::seed_from_u64(seed);
    let mut lines = Vec::new();
    for &month in months {
        for &icb in icbs {
            for p in 0..3 {
                let practice = format!("{}{:03}", (b'A' + icb as u8) as char, p);
                for _ in 0..(2 + rng.random_range(0..6u64)) {
                    let nic = 1 + rng.random_range(0..2_000_000u64) as i64;
                    // Actual cost: the NIC less a discount of 0–10%, to the 1e-5 pound.
                    let actual =
                        nic * 1000 - (nic * 1000 * rng.random_range(0..1000u64) as i64) / 10_000;
                    lines.push(Line {
                        month,
                        icb,
                        practice: practice.clone(),
                        items: 1 + rng.random_range(0..40u64) as i64,
                        nic,
                        actual,
                    });
                }
            }
        }
    }
    lines
}

fn icb_of(index: usize) -> (&'static str, &'static str) {
    ICBS.get(index)
        .copied()
        .unwrap_or(("QZZ", "NHS NOWHERE ICB"))
}

/// An EPD CSV of `lines`, every column filled plausibly (names with commas quoted).
fn epd_csv(lines: &[Line]) -> String {
    let mut text = format!("{HEADER}\n");
    for (k, l) in lines.iter().enumerate() {
        let (code, name) = icb_of(l.icb);
        let quantity = 28 * (1 + k % 3);
        text.push_str(&format!(
            "{month},NORTH EAST AND YORKSHIRE,Y63,{name},{code},{code} SUB-ICB - 03F,03F,\"THE SURGERY, {p}\",{p},1 HIGH STREET,,TOWN,COUNTY,HU1 1AA,0212000B0,Atorvastatin,0212000B0AAABAB,\"Atorvastatin 20mg tablets, {k}\",02: Cardiovascular System,{quantity},{items},{total},{adq},{nic},{actual},0\n",
            month = l.month,
            p = l.practice,
            items = l.items,
            total = quantity as i64 * l.items,
            adq = decimal(quantity as i64 * l.items * 10, 1),
            nic = decimal(l.nic, 2),
            actual = decimal(l.actual, 5),
        ));
    }
    text
}

/// Pence from hundred-thousandths of a pound × `num` / `den`, half away from zero.
fn pence(value: i128, num: i128, den: i128) -> i128 {
    let (n, d) = (value * num, den * 1000);
    (2 * n + d) / (2 * d)
}

fn gbp(pence: i128) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

fn month_text(m: u32) -> String {
    format!("{}-{:02}", m / 100, m % 100)
}

/// The table `data prescribing` must write for `lines`, computed here.
fn expected(lines: &[Line], by_practice: bool) -> String {
    #[derive(Default)]
    struct Sum {
        months: std::collections::BTreeSet<u32>,
        items: i64,
        nic: i128,
        actual: i128,
    }
    let mut sums: BTreeMap<(String, String), (String, Sum)> = BTreeMap::new();
    for l in lines {
        let (code, name) = icb_of(l.icb);
        let practice = if by_practice {
            l.practice.clone()
        } else {
            String::new()
        };
        let (_, s) = sums
            .entry((code.to_string(), practice))
            .or_insert_with(|| (name.to_string(), Sum::default()));
        s.months.insert(l.month);
        s.items += l.items;
        s.nic += l.nic as i128;
        s.actual += l.actual as i128;
    }
    let mut text = if by_practice {
        "icb_code,icb_name,practice_code,months,first_month,last_month,items,nic_gbp,actual_cost_gbp,actual_cost_gbp_per_year\n".to_string()
    } else {
        "icb_code,icb_name,months,first_month,last_month,items,nic_gbp,actual_cost_gbp,actual_cost_gbp_per_year\n".to_string()
    };
    for ((code, practice), (name, s)) in &sums {
        let months = s.months.len() as i128;
        let practice = if by_practice {
            format!("{practice},")
        } else {
            String::new()
        };
        text.push_str(&format!(
            "{code},{name},{practice}{months},{},{},{},{},{},{}\n",
            month_text(*s.months.first().unwrap()),
            month_text(*s.months.last().unwrap()),
            s.items,
            gbp(s.nic),
            gbp(pence(s.actual, 1, 1)),
            gbp(pence(s.actual, 12, months)),
        ));
    }
    text
}

/// Writes one EPD file per month and returns their names.
fn write_months(sb: &Sandbox, lines: &[Line]) -> Vec<String> {
    let mut months: Vec<u32> = lines.iter().map(|l| l.month).collect();
    months.dedup();
    months
        .iter()
        .map(|m| {
            let name = format!("EPD_{m}.csv");
            let these: Vec<Line> = lines.iter().filter(|l| l.month == *m).cloned().collect();
            sb.write(&name, &epd_csv(&these));
            name
        })
        .collect()
}

fn prescribing(sb: &Sandbox, files: &[String], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["data", "prescribing"];
    args.extend(files.iter().map(String::as_str));
    args.extend(extra);
    sb.run(&args)
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn by_icb_sums_are_exact_to_the_penny() {
    let sb = Sandbox::new();
    let lines = generate(1, &[202401, 202402, 202403], &[0, 1, 2, 3]);
    let files = write_months(&sb, &lines);
    let out = prescribing(&sb, &files, &["--out", "data/prescribing.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        text(&sb.path("data/prescribing.csv")),
        expected(&lines, false)
    );
    let report = stdout(&out);
    assert!(
        report.contains(&format!("Read 3 files, {} rows", lines.len())),
        "{report}"
    );
    assert!(
        report.contains("2024-01 to 2024-03, 3 months present"),
        "{report}"
    );
    assert!(!report.contains("MISSING"), "{report}");
    // Progress goes to stderr, one line a file.
    assert_eq!(stderr(&out).lines().count(), 3, "{}", stderr(&out));
}

#[test]
fn by_practice_sums_are_exact_to_the_penny() {
    let sb = Sandbox::new();
    let lines = generate(2, &[202311, 202312], &[0, 3]);
    let files = write_months(&sb, &lines);
    let out = prescribing(&sb, &files, &["--by", "practice", "--out", "p.csv", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(text(&sb.path("p.csv")), expected(&lines, true));
    assert!(stderr(&out).is_empty(), "--quiet: {}", stderr(&out));
    assert!(
        stdout(&out).contains("6 practices in 2 ICBs"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn streaming_and_eager_reads_agree() {
    let sb = Sandbox::new();
    let lines = generate(3, &[202404], &[0, 1, 2]);
    let files = write_months(&sb, &lines);
    for (flags, out) in [(vec![], "s.csv"), (vec!["--eager"], "e.csv")] {
        let mut args = flags;
        args.extend(["--out", out, "-q"]);
        let run = prescribing(&sb, &files, &args);
        assert!(run.status.success(), "{}", stderr(&run));
    }
    assert_eq!(text(&sb.path("s.csv")), text(&sb.path("e.csv")));
    assert_eq!(text(&sb.path("s.csv")), expected(&lines, false));
}

#[test]
fn parquet_input_gives_the_same_table() {
    use polars::prelude::*;
    let sb = Sandbox::new();
    let lines = generate(4, &[202401, 202402], &[0, 1]);
    let mut files = write_months(&sb, &lines);
    // The second month as Parquet, with typed columns (as a user's own conversion would have).
    let second: Vec<&Line> = lines.iter().filter(|l| l.month == 202402).collect();
    let mut frame = df!(
        "YEAR_MONTH" => second.iter().map(|l| l.month as i64).collect::<Vec<_>>(),
        "ICB_CODE" => second.iter().map(|l| icb_of(l.icb).0).collect::<Vec<_>>(),
        "ICB_NAME" => second.iter().map(|l| icb_of(l.icb).1).collect::<Vec<_>>(),
        "PRACTICE_CODE" => second.iter().map(|l| l.practice.clone()).collect::<Vec<_>>(),
        "BNF_CODE" => second.iter().map(|_| "0212000B0AAABAB").collect::<Vec<_>>(),
        "ITEMS" => second.iter().map(|l| l.items).collect::<Vec<_>>(),
        "NIC" => second.iter().map(|l| l.nic as f64 / 100.0).collect::<Vec<_>>(),
        "ACTUAL_COST" => second.iter().map(|l| l.actual as f64 / 1e5).collect::<Vec<_>>(),
    )
    .unwrap();
    let file = std::fs::File::create(sb.path("EPD_202402.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
    files[1] = "EPD_202402.parquet".to_string();
    let out = prescribing(&sb, &files, &["--out", "p.csv", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(text(&sb.path("p.csv")), expected(&lines, false));
}

#[test]
fn missing_months_unknown_and_absent_icbs_are_reported() {
    let sb = Sandbox::new();
    // Jan, Feb and Apr: March is missing. ICB 4 is QZZ, not in the embedded table.
    let lines = generate(5, &[202401, 202402, 202404], &[0, 4]);
    let mut lines = lines;
    // QHM only in April: annualised from one month.
    lines.extend(generate(6, &[202404], &[1]));
    lines.sort_by_key(|l| l.month);
    let files = write_months(&sb, &lines);
    let out = prescribing(&sb, &files, &["--out", "p.csv", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    for wanted in [
        "2024-01 to 2024-04, 3 months present; MISSING within the span: 2024-03",
        "ICB codes not in the reference table (embedded:data/icbs.csv):\n  QZZ NHS NOWHERE ICB: ",
        "Reference ICBs absent from the data (40):",
        "  QWO NHS West Yorkshire Integrated Care Board",
        "ICBs annualised from fewer months than the data holds: QHM (1 of 3)",
    ] {
        assert!(report.contains(wanted), "missing «{wanted}» in:\n{report}");
    }
    // The unknown ICB is still in the table: the data are what they are.
    assert_eq!(text(&sb.path("p.csv")), expected(&lines, false));
    assert!(text(&sb.path("p.csv")).contains("\nQZZ,"));
}

/// Runs `data prescribing` expecting exit 2, no output file and nothing else new in the
/// sandbox; returns stderr.
fn refused(sb: &Sandbox, files: &[String], extra: &[&str]) -> String {
    let before = std::fs::read_dir(sb.dir.path()).unwrap().count();
    let mut args = vec!["--out", "out/p.csv"];
    args.extend(extra);
    let out = prescribing(sb, files, &args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!sb.path("out").exists(), "output written");
    assert_eq!(std::fs::read_dir(sb.dir.path()).unwrap().count(), before);
    stderr(&out)
}

#[test]
fn no_files_is_refused() {
    let sb = Sandbox::new();
    let err = refused(&sb, &[], &[]);
    assert!(err.contains("no EPD files given"), "{err}");
}

#[test]
fn a_missing_file_is_named() {
    let sb = Sandbox::new();
    let files = write_months(&sb, &generate(7, &[202401], &[0]));
    let err = refused(&sb, &[files[0].clone(), "EPD_202402.csv".into()], &[]);
    assert!(
        err.contains("error: EPD_202402.csv: file: cannot read: No such file"),
        "{err}"
    );
}

#[test]
fn a_missing_column_names_the_file_and_the_column() {
    let sb = Sandbox::new();
    let files = write_months(&sb, &generate(8, &[202401, 202402], &[0]));
    let csv = text(&sb.path(&files[1])).replacen(",ACTUAL_COST,", ",ACTUAL_COSTS,", 1);
    sb.write(&files[1], &csv);
    let err = refused(&sb, &files, &[]);
    assert!(
        err.contains("EPD_202402.csv: ACTUAL_COST: required column 'ACTUAL_COST' is missing"),
        "{err}"
    );
    assert!(!err.contains("EPD_202401.csv"), "{err}");
    // PRACTICE_CODE is read only by practice.
    let csv = text(&sb.path(&files[0])).replacen(",PRACTICE_CODE,", ",PRACTICE,", 1);
    sb.write(&files[0], &csv);
    let err = refused(&sb, &files[..1], &["--by", "practice"]);
    assert!(
        err.contains("EPD_202401.csv: PRACTICE_CODE: required column 'PRACTICE_CODE' is missing"),
        "{err}"
    );
}

/// A CSV line with field `index` replaced (quoted fields kept whole).
fn set_field(line: &str, index: usize, value: &str) -> String {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                fields.last_mut().unwrap().push(c);
            }
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields[index] = value.to_string();
    fields.join(",")
}

#[test]
fn a_cost_too_large_to_sum_is_refused_alone_and_nothing_is_written() {
    // The one bad value of the files: before, it became null and dropped out of the sums.
    for value in ["1e300", "-2e12"] {
        let sb = Sandbox::new();
        let files = write_months(&sb, &generate(9, &[202401, 202402], &[0, 1]));
        let path = sb.path(&files[0]);
        let mut rows: Vec<String> = text(&path).lines().map(str::to_string).collect();
        rows[2] = set_field(&rows[2], 24, value);
        sb.write(&files[0], &(rows.join("\n") + "\n"));
        let err = refused(&sb, &files, &[]);
        assert!(
            err.contains(&format!(
                "EPD_202401.csv:3: ACTUAL_COST: '{value}' is too large"
            )),
            "{err}"
        );
    }
}

#[test]
fn mistyped_values_name_the_file_line_and_column() {
    let sb = Sandbox::new();
    let files = write_months(&sb, &generate(9, &[202401, 202402], &[0, 1]));
    let path = sb.path(&files[1]);
    let mut rows: Vec<String> = text(&path).lines().map(str::to_string).collect();
    // Lines 4, 6 and 7 (the header is line 1): ACTUAL_COST (field 24) not a number, ITEMS
    // (field 20) empty, YEAR_MONTH (field 0) not a month.
    rows[3] = set_field(&rows[3], 24, "abc");
    rows[5] = set_field(&rows[5], 20, "");
    rows[6] = set_field(&rows[6], 0, "202413");
    // Line 8: a cost too large to sum exactly, which must be refused, not dropped.
    rows[7] = set_field(&rows[7], 24, "1e300");
    sb.write(&files[1], &(rows.join("\n") + "\n"));
    let err = refused(&sb, &files, &[]);
    for wanted in [
        "EPD_202402.csv:4: ACTUAL_COST: 'abc' is not a number",
        "EPD_202402.csv:6: ITEMS: empty value",
        "EPD_202402.csv:7: YEAR_MONTH: 202413 is not a month: EPD writes YYYYMM, e.g. 202401",
        "EPD_202402.csv:8: ACTUAL_COST: '1e300' is too large",
    ] {
        assert!(err.contains(wanted), "missing «{wanted}» in:\n{err}");
    }
}

#[test]
fn an_empty_value_or_code_alone_is_found_with_its_line() {
    // Values that parse (empty cells are nulls) but cannot be summed or grouped.
    let sb = Sandbox::new();
    let files = write_months(&sb, &generate(13, &[202401], &[0, 1]));
    let path = sb.path(&files[0]);
    let mut rows: Vec<String> = text(&path).lines().map(str::to_string).collect();
    rows[2] = set_field(&rows[2], 23, "");
    rows[4] = set_field(&rows[4], 8, "");
    sb.write(&files[0], &(rows.join("\n") + "\n"));
    let err = refused(&sb, &files, &["--by", "practice"]);
    assert!(err.contains("EPD_202401.csv:3: NIC: empty value"), "{err}");
    assert!(
        err.contains("EPD_202401.csv:5: PRACTICE_CODE: empty value"),
        "{err}"
    );
    assert!(err.contains("2 problems found"), "{err}");
}

#[test]
fn a_month_given_twice_is_refused() {
    let sb = Sandbox::new();
    let files = write_months(&sb, &generate(10, &[202401], &[0]));
    std::fs::copy(sb.path(&files[0]), sb.path("copy.csv")).unwrap();
    let err = refused(&sb, &[files[0].clone(), "copy.csv".into()], &[]);
    assert!(
        err.contains("copy.csv: YEAR_MONTH: 2024-01 is also in EPD_202401.csv"),
        "{err}"
    );
    let err = refused(&sb, &[files[0].clone(), files[0].clone()], &[]);
    assert!(err.contains("EPD_202401.csv: file: given twice"), "{err}");
}

#[test]
fn data_build_replaces_exactly_the_icbs_with_data() {
    let sb = Sandbox::new();
    let lines = generate(11, &[202401, 202402], &[0, 2, 4]);
    let files = write_months(&sb, &lines);
    let out = prescribing(&sb, &files, &["--out", "data/prescribing.csv", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sb.run(&[
        "data",
        "build",
        "--prescribing",
        "data/prescribing.csv",
        "--out",
        "data/icbs.csv",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let spend: BTreeMap<String, String> = read_csv(&sb.path("data/prescribing.csv"))
        .into_iter()
        .skip(1)
        .map(|r| (r[0].clone(), r[8].clone()))
        .collect();
    let embedded = std::fs::write(sb.path("embedded.csv"), icb_impact::data::EMBEDDED_CSV);
    embedded.unwrap();
    let old = read_csv(&sb.path("embedded.csv"));
    let new = read_csv(&sb.path("data/icbs.csv"));
    assert_eq!(old.len(), 43);
    assert_eq!(new.len(), old.len());
    assert_eq!(new[0], old[0]);
    let column = old[0]
        .iter()
        .position(|c| c == "prescribing_cost_gbp")
        .unwrap();
    let mut replaced = Vec::new();
    for (o, n) in old.iter().zip(&new).skip(1) {
        for (k, (a, b)) in o.iter().zip(n).enumerate() {
            if k == column {
                match spend.get(&o[0]) {
                    Some(v) => {
                        assert_eq!(b, v, "{}", o[0]);
                        replaced.push(o[0].clone());
                    }
                    None => assert_eq!(a, b, "{}", o[0]),
                }
            } else {
                assert_eq!(a, b, "{} column {k}", o[0]);
            }
        }
    }
    assert_eq!(replaced, ["QOQ", "QF7"]);
    let report = stdout(&out);
    for wanted in [
        "replaces the estimate in embedded:data/icbs.csv for 2 of 42 ICBs:",
        "QOQ   NHS Humber and North Yorkshire Integrated Care Board",
        "Kept the estimate (no prescribing data): 40",
        "In the prescribing data but not the ICB table (ignored): QZZ",
    ] {
        assert!(report.contains(wanted), "missing «{wanted}» in:\n{report}");
    }
    assert_eq!(report.matches('%').count(), 2, "{report}");
    // The new table runs, in the scenario whose formulary action is driven by prescribing spend.
    let scenario = shipped("escalation-2026.toml");
    let run = sb.run(&[
        "run",
        scenario.to_str().unwrap(),
        "--data",
        "data/icbs.csv",
        "--iterations",
        "20",
        "--out",
        "run",
        "-q",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let inputs = text(&sb.path("run/inputs/icbs.csv"));
    assert_eq!(inputs, text(&sb.path("data/icbs.csv")));
}

#[test]
fn data_build_refuses_a_practice_table_and_writes_nothing() {
    let sb = Sandbox::new();
    let files = write_months(&sb, &generate(12, &[202401], &[0]));
    let out = prescribing(&sb, &files, &["--by", "practice", "--out", "p.csv", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sb.run(&[
        "data",
        "build",
        "--prescribing",
        "p.csv",
        "--out",
        "icbs.csv",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("p.csv: practice_code: this is a practice-level table"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("icbs.csv").exists());
    // A bad value in a by-ICB table is named with its line.
    sb.write(
        "bad.csv",
        "icb_code,icb_name,months,actual_cost_gbp_per_year\nQOQ,A,12,12.50\nQHM,B,12,lots\n",
    );
    let out = sb.run(&[
        "data",
        "build",
        "--prescribing",
        "bad.csv",
        "--out",
        "icbs.csv",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "bad.csv:3: actual_cost_gbp_per_year: 'lots' is not an amount of 0 or more (ICB QHM)"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("icbs.csv").exists());
}

#[test]
fn data_practices_puts_each_practices_real_spend_in_the_practice_table() {
    let sb = Sandbox::new();
    sb.write(
        "base.csv",
        "practice_code,icb_code,registered_patients,prescribing_cost_gbp\n\
         P1,QOQ,1000,50\nP2,QOQ,2000,70\nP3,QHM,500,9\n",
    );
    sb.write(
        "spend.csv",
        "icb_code,icb_name,practice_code,months,first_month,last_month,items,nic_gbp,actual_cost_gbp,actual_cost_gbp_per_year\n\
         QOQ,A,P1,12,2023-04,2024-03,10,120.00,110.00,110.00\n\
         QHM,B,P3,6,2023-10,2024-03,4,20.00,18.50,37.00\n\
         QHM,B,P9,12,2023-04,2024-03,1,1.00,1.00,1.00\n",
    );
    let out = sb.run(&[
        "data",
        "practices",
        "--prescribing",
        "spend.csv",
        "--practices",
        "base.csv",
        "--out",
        "practices.csv",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // P1 and P3 take their yearly actual cost; P2 keeps its figure; P9 has no patients.
    assert_eq!(
        std::fs::read_to_string(sb.path("practices.csv")).unwrap(),
        "practice_code,icb_code,registered_patients,prescribing_cost_gbp\n\
         P1,QOQ,1000,110.00\nP2,QOQ,2000,70\nP3,QHM,500,37.00\n"
    );
    let text = stdout(&out);
    assert!(text.contains("for 2 of 3 practices"), "{text}");
    assert!(
        text.contains("Kept the table's figure (no prescribing data): 1: P2"),
        "{text}"
    );
    assert!(
        text.contains("not the practice table (ignored: no patients): 1: P9"),
        "{text}"
    );
    // A by-ICB table is refused, and nothing is written.
    let out = sb.run(&[
        "data",
        "practices",
        "--prescribing",
        "base.csv",
        "--out",
        "x.csv",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = sb.run(&[
        "data",
        "practices",
        "--prescribing",
        &sb.write(
            "icb.csv",
            "icb_code,icb_name,months,actual_cost_gbp_per_year\nQOQ,A,12,1\n",
        )
        .to_string_lossy(),
        "--out",
        "x.csv",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("this is a by-ICB table"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.path("x.csv").exists());
}
