//! Briefings: the self-contained HTML report, the per-ICB one-pager and the Excel workbook,
//! checked as files, in headless Chromium and in LibreOffice.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use icb_impact::chart::short_icb_name;
use icb_impact::money::{gbp, gbp_full, ordinal, pence, percent};

use crate::{read_csv, read_json, shipped, stderr, stdout, Sandbox};

/// A run of the shipped whole-menu scenario with `--report`.
fn reported(sb: &Sandbox) -> PathBuf {
    let s = shipped("collective-action-2024.toml");
    let out = sb.run(&[
        "run",
        s.to_str().unwrap(),
        "--iterations",
        "2000",
        "--report",
        "--out",
        "run",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    sb.path("run")
}

#[test]
fn the_report_is_self_contained_and_complete() {
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    // No external resources: no links, no script or image sources, no fonts from elsewhere.
    for forbidden in ["<link", "src=", "@import", "url(", "<iframe"] {
        assert!(
            !html.contains(forbidden),
            "report.html contains {forbidden}"
        );
    }
    assert_eq!(html.matches("<figure").count(), 7, "every chart");
    assert_eq!(
        html.matches("<figcaption>").count(),
        7,
        "every chart has a caption"
    );
    for section in [
        "headline",
        "charts",
        "icbs",
        "regions",
        "assumptions",
        "model",
        "caveats",
        "manifest",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{section}\">")),
            "{section} missing"
        );
    }
    assert_eq!(html.matches("<tr><td>Q").count(), 42, "one row per ICB");
    // Captions are written from the numbers.
    assert!(html.contains("In 9 of 10 simulated futures the average ICB loses between"));
    assert!(html.contains("Assumption."), "assumptions are marked");
    let manifest: serde_json::Value = read_json(&dir.join("manifest.json"));
    assert!(html.contains(manifest["scenario"]["sha256"].as_str().unwrap()));
}

#[test]
fn report_reproduces_the_run_from_its_recorded_inputs() {
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let before = std::fs::read(dir.join("report.html")).unwrap();
    let summary = std::fs::read(dir.join("summary.json")).unwrap();
    std::fs::remove_file(dir.join("report.html")).unwrap();
    let out = sb.run(&["report", "run", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(dir.join("report.html")).unwrap(), before);
    assert_eq!(std::fs::read(dir.join("summary.json")).unwrap(), summary);
    assert!(dir.join("report.xlsx").is_file());
}

#[test]
fn a_one_pager_for_any_icb_and_a_clear_error_for_an_unknown_code() {
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let out = sb.run(&["report", "run", "--icb", "QE1", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("icb-QE1.html"));
    let html = std::fs::read_to_string(dir.join("icb-QE1.html")).unwrap();
    assert!(html.contains("Lancashire and South Cumbria (QE1)"));
    assert_eq!(
        html.matches("<figure").count(),
        3,
        "distribution, actions, monthly path"
    );
    assert_eq!(cards(&html), one_pager_cards(&Figures::of(&dir), "QE1"));
    assert_eq!(inputs(&html), one_pager_inputs(&dir, "QE1"));
    assert!(!html.contains("src="));
    let bad = sb.run(&["report", "run", "--icb", "XYZ"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("--icb: icb: unknown ICB 'XYZ'; the ICB table ")
            && stderr(&bad).contains(" has: QOQ, QHM"),
        "{}",
        stderr(&bad)
    );
    assert!(!dir.join("icb-XYZ.html").exists());
}

#[test]
fn report_of_a_directory_that_is_not_a_run_is_bad_input() {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.path("empty")).unwrap();
    let out = sb.run(&["report", "empty"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a run directory"),
        "{}",
        stderr(&out)
    );
}

fn zip_entry(path: &Path, name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn the_workbook_has_its_sheets_formats_frozen_headers_and_a_native_chart() {
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let xlsx = dir.join("report.xlsx");
    let workbook = zip_entry(&xlsx, "xl/workbook.xml");
    for sheet in [
        "Summary",
        "ICBs",
        "Actions",
        "Monthly",
        "Activity",
        "Assumptions",
        "Manifest",
    ] {
        assert!(
            workbook.contains(&format!("name=\"{sheet}\"")),
            "sheet {sheet} missing"
        );
    }
    assert!(
        zip_entry(&xlsx, "xl/styles.xml").contains("£#,##0"),
        "£ number format"
    );
    let icbs = zip_entry(&xlsx, "xl/worksheets/sheet2.xml");
    assert!(icbs.contains("state=\"frozen\""), "frozen header row");
    assert!(icbs.contains("<cols>"), "column widths");
    assert!(
        zip_entry(&xlsx, "xl/charts/chart1.xml").contains("ICBs!$D$2:$D$43"),
        "chart of the ICB costs"
    );
}

/// The run's own figures, which the briefings must show: `summary.json` and the rows of
/// `icb_summary.csv` (without the header).
struct Figures {
    summary: serde_json::Value,
    icbs: Vec<Vec<String>>,
}

/// Columns of `icb_summary.csv`.
const MEAN: usize = 3;
const P05: usize = 5;
const P50: usize = 6;
const P95: usize = 7;
const PROB: usize = 8;

impl Figures {
    fn of(dir: &Path) -> Figures {
        let summary = read_json(&dir.join("summary.json"));
        let mut icbs = read_csv(&dir.join("icb_summary.csv"));
        assert_eq!(
            icbs[0][..=PROB],
            [
                "icb_code",
                "icb_name",
                "region",
                "mean_gbp",
                "sd_gbp",
                "p05_gbp",
                "p50_gbp",
                "p95_gbp",
                "prob_above_reference"
            ]
        );
        icbs.remove(0);
        Figures { summary, icbs }
    }

    /// The number at `pointer` in `summary.json`.
    fn json(&self, pointer: &str) -> f64 {
        self.summary
            .pointer(pointer)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or_else(|| panic!("summary.json has no number at {pointer}"))
    }

    fn text(&self, pointer: &str) -> &str {
        self.summary
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_else(|| panic!("summary.json has no text at {pointer}"))
    }

    fn reference(&self) -> f64 {
        self.json("/reference/per_icb_gbp")
    }

    fn icb(&self, code: &str) -> &[String] {
        self.icbs
            .iter()
            .find(|r| r[0] == code)
            .unwrap_or_else(|| panic!("{code} is not in icb_summary.csv"))
    }
}

fn number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|_| panic!("'{text}' is not a number"))
}

/// The report's headline cards (value, label) as they must read, from the run's figures.
fn headline_cards(f: &Figures) -> Vec<(String, String)> {
    let reference = f.reference();
    let probs: Vec<f64> = f.icbs.iter().map(|r| number(&r[PROB])).collect();
    let above = f
        .icbs
        .iter()
        .filter(|r| number(&r[MEAN]) > reference)
        .count();
    assert_eq!(f.json("/reference/icbs_with_mean_above"), above as f64);
    vec![
        (
            gbp(f.json("/national_total_gbp/mean")),
            format!(
                "national cost, mean (90% interval {} to {})",
                gbp(f.json("/national_total_gbp/p05")),
                gbp(f.json("/national_total_gbp/p95"))
            ),
        ),
        (
            gbp(f.json("/mean_per_icb_gbp/mean")),
            format!(
                "mean cost per ICB, against the {} reference ({})",
                gbp(reference),
                f.text("/reference/label")
            ),
        ),
        (
            percent(probs.iter().sum::<f64>() / probs.len() as f64),
            format!("probability an ICB's cost exceeds {}", gbp(reference)),
        ),
        (
            format!("{above} of {}", f.icbs.len()),
            format!("ICBs whose mean cost exceeds {}", gbp(reference)),
        ),
    ]
}

/// The one-pager's cards (value, label) for ICB `code` as they must read.
fn one_pager_cards(f: &Figures, code: &str) -> Vec<(String, String)> {
    let me = f.icb(code);
    let mean = number(&me[MEAN]);
    let rank = 1 + f.icbs.iter().filter(|r| number(&r[MEAN]) > mean).count();
    let national = f.json("/national_total_gbp/mean");
    vec![
        (
            gbp(mean),
            format!(
                "mean cost (90% interval {} to {})",
                gbp(number(&me[P05])),
                gbp(number(&me[P95]))
            ),
        ),
        (
            percent(number(&me[PROB])),
            format!(
                "probability the cost exceeds {} ({})",
                gbp(f.reference()),
                f.text("/reference/label")
            ),
        ),
        (
            format!("{} of {}", ordinal(rank as u32), f.icbs.len()),
            "rank by mean cost nationally (1st = costliest)".to_string(),
        ),
        (
            format!("{:.1}%", 100.0 * mean / national),
            format!("of the national cost ({})", gbp(national)),
        ),
    ]
}

/// The one-pager's table of the ICB's own inputs as it must read, from the ICB table the run
/// recorded.
fn one_pager_inputs(dir: &Path, code: &str) -> Vec<(String, String)> {
    let table = read_csv(&dir.join("inputs/icbs.csv"));
    let row = table
        .iter()
        .find(|r| r[0] == code)
        .unwrap_or_else(|| panic!("{code} is not in the recorded ICB table"));
    let cell = |column: &str| {
        let k = table[0].iter().position(|c| c == column).unwrap();
        number(&row[k])
    };
    let f = Figures::of(dir);
    vec![
        ("Region".to_string(), f.icb(code)[2].clone()),
        (
            "Registered patients".to_string(),
            gbp_full(cell("registered_patients")).replace('£', ""),
        ),
        (
            "GP practices".to_string(),
            gbp_full(cell("gp_practices")).replace('£', ""),
        ),
        (
            "Prescribing spend a year (estimate)".to_string(),
            gbp_full(cell("prescribing_cost_gbp")),
        ),
    ]
}

/// Undoes the report's HTML escaping.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text between the first `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in the page"))
        + start.len();
    let len = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("no {end} after {start}"));
    &text[from..from + len]
}

/// Every card of a page: (value, label), unescaped, in order.
fn cards(html: &str) -> Vec<(String, String)> {
    html.split("<div class=\"card\"><div class=\"v\">")
        .skip(1)
        .map(|card| {
            let (value, rest) = card.split_once("</div><div class=\"l\">").unwrap();
            let (label, _) = rest.split_once("</div></div>").unwrap();
            (unescape(value), unescape(label))
        })
        .collect()
}

/// The rows of the one-pager's inputs table: (heading, value), unescaped.
fn inputs(html: &str) -> Vec<(String, String)> {
    let table = between(html, "<table id=\"inputs-table\"><tbody>", "</tbody>");
    table
        .split("<tr><th>")
        .skip(1)
        .map(|row| {
            let (heading, rest) = row.split_once("</th>").unwrap();
            let value = between(rest, ">", "</td>");
            (unescape(heading), unescape(value))
        })
        .collect()
}

/// The body rows of the table with `id`: each cell's `data-value`, if it has one, and text.
fn table_rows(html: &str, id: &str) -> Vec<Vec<(Option<String>, String)>> {
    let table = between(html, &format!("id=\"{id}\">"), "</table>");
    between(table, "<tbody>", "</tbody>")
        .split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let (attributes, rest) = cell.split_once('>').unwrap();
                    let text = rest.split_once("</td>").unwrap().0;
                    let value = attributes
                        .split_once("data-value=\"")
                        .map(|(_, v)| v.split_once('"').unwrap().0.to_string());
                    (value, unescape(text))
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_reports_headline_and_icb_table_show_the_runs_figures() {
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let f = Figures::of(&dir);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let headline = between(&html, "<section id=\"headline\">", "</section>");
    assert_eq!(cards(headline), headline_cards(&f));
    let error = gbp(f.json("/national_total_gbp/mcse_mean"));
    assert!(
        unescape(headline).contains(&format!(
            "the national mean carries a standard error of {error}."
        )),
        "{headline}"
    );
    let rows = table_rows(&html, "icb-table");
    assert_eq!(rows.len(), f.icbs.len());
    for (row, icb) in rows.iter().zip(&f.icbs) {
        let text: Vec<&str> = row.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            text[..3],
            [icb[0].as_str(), short_icb_name(&icb[1]), icb[2].as_str()]
        );
        // Money cells: the amount to the penny to sort by, and the short form to read.
        for ((value, text), column) in row[3..6].iter().zip([MEAN, P05, P95]) {
            let x = number(&icb[column]);
            assert_eq!(
                value.as_deref(),
                Some(format!("{x:.2}").as_str()),
                "{icb:?}"
            );
            assert_eq!(*text, gbp(x), "{icb:?}");
        }
        let p = number(&icb[PROB]);
        assert_eq!(row[6].0.as_deref().map(number), Some(p), "{icb:?}");
        assert_eq!(row[6].1, percent(p), "{icb:?}");
    }
}

/// A workbook cell.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Number(f64),
}

/// The cells of sheet `name` of a workbook by (row, column), from 0, with shared strings
/// resolved.
fn sheet(xlsx: &Path, name: &str) -> HashMap<(u32, u32), Cell> {
    let workbook = zip_entry(xlsx, "xl/workbook.xml");
    let id = between(
        between(&workbook, &format!("<sheet name=\"{name}\""), "/>"),
        "r:id=\"",
        "\"",
    )
    .to_string();
    let relations = zip_entry(xlsx, "xl/_rels/workbook.xml.rels");
    let target = between(
        between(&relations, &format!("Id=\"{id}\""), "/>"),
        "Target=\"",
        "\"",
    );
    let strings: Vec<String> = zip_entry(xlsx, "xl/sharedStrings.xml")
        .split("<si>")
        .skip(1)
        .map(|si| {
            let si = si.split_once("</si>").unwrap().0;
            si.split("<t")
                .skip(1)
                .filter(|t| t.starts_with('>') || t.starts_with(' '))
                .map(|t| unescape(t.split_once('>').unwrap().1.split_once("</t>").unwrap().0))
                .collect()
        })
        .collect();
    let xml = zip_entry(xlsx, &format!("xl/{target}"));
    let mut cells = HashMap::new();
    for c in xml.split("<c ").skip(1) {
        let (attributes, rest) = c.split_once('>').unwrap();
        if attributes.ends_with('/') {
            continue;
        }
        let reference = between(attributes, "r=\"", "\"");
        let letters = reference.trim_end_matches(|c: char| c.is_ascii_digit());
        let column = letters
            .bytes()
            .fold(0, |n, b| n * 26 + u32::from(b - b'A' + 1))
            - 1;
        let row = number(&reference[letters.len()..]) as u32 - 1;
        let value = between(rest, "<v>", "</v>");
        let kind = attributes
            .split_once(" t=\"")
            .map(|(_, t)| t.split_once('"').unwrap().0);
        let cell = match kind {
            None | Some("n") => Cell::Number(number(value)),
            Some("s") => Cell::Text(strings[number(value) as usize].clone()),
            Some("str") => Cell::Text(unescape(value)),
            Some(other) => panic!("{reference}: cell type {other}"),
        };
        cells.insert((row, column), cell);
    }
    cells
}

/// The number in a cell.
fn cell_number(cells: &HashMap<(u32, u32), Cell>, at: (u32, u32)) -> f64 {
    match cells.get(&at) {
        Some(Cell::Number(x)) => *x,
        other => panic!("{at:?}: {other:?} is not a number"),
    }
}

fn cell_text(cells: &HashMap<(u32, u32), Cell>, at: (u32, u32)) -> &str {
    match cells.get(&at) {
        Some(Cell::Text(t)) => t,
        other => panic!("{at:?}: {other:?} is not text"),
    }
}

#[test]
fn the_workbooks_summary_and_icb_sheets_hold_the_runs_figures() {
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let f = Figures::of(&dir);
    let xlsx = dir.join("report.xlsx");
    let summary = sheet(&xlsx, "Summary");
    assert_eq!(cell_text(&summary, (0, 0)), f.text("/scenario"));
    // (label, where summary.json has it, whether summary.json rounds it to whole pence: the
    // workbook keeps every digit).
    let rows = [
        ("National cost, mean", "/national_total_gbp/mean", true),
        (
            "National cost, 5th percentile",
            "/national_total_gbp/p05",
            true,
        ),
        (
            "National cost, 95th percentile",
            "/national_total_gbp/p95",
            true,
        ),
        (
            "National cost, Monte Carlo standard error of the mean",
            "/national_total_gbp/mcse_mean",
            true,
        ),
        ("Mean cost per ICB", "/mean_per_icb_gbp/mean", true),
        (
            "Mean cost per ICB, 5th percentile",
            "/mean_per_icb_gbp/p05",
            true,
        ),
        (
            "Mean cost per ICB, 95th percentile",
            "/mean_per_icb_gbp/p95",
            true,
        ),
        ("Reference figure per ICB", "/reference/per_icb_gbp", false),
        (
            "Probability the mean cost per ICB exceeds the reference",
            "/reference/prob_mean_per_icb_above",
            false,
        ),
        (
            "ICBs whose mean cost exceeds the reference",
            "/reference/icbs_with_mean_above",
            false,
        ),
    ];
    for (k, (label, pointer, in_pence)) in rows.into_iter().enumerate() {
        let row = 3 + k as u32;
        assert_eq!(cell_text(&summary, (row, 0)), label);
        let x = cell_number(&summary, (row, 1));
        let x = if in_pence { pence(x) } else { x };
        assert_eq!(x, f.json(pointer), "{label}");
    }
    assert_eq!(
        cell_text(&summary, (14, 0)),
        format!("Reference: {}", f.text("/reference/label"))
    );
    assert_eq!(
        cell_text(&summary, (15, 0)),
        format!(
            "Iterations: {}, seed {}",
            f.summary["iterations"], f.summary["seed"]
        )
    );

    let icbs = sheet(&xlsx, "ICBs");
    let last = icbs.keys().map(|&(row, _)| row).max().unwrap();
    assert_eq!(
        last as usize,
        f.icbs.len(),
        "one row per ICB below the header"
    );
    for (k, icb) in f.icbs.iter().enumerate() {
        let row = 1 + k as u32;
        assert_eq!(cell_text(&icbs, (row, 0)), icb[0]);
        assert_eq!(cell_text(&icbs, (row, 1)), short_icb_name(&icb[1]));
        assert_eq!(cell_text(&icbs, (row, 2)), icb[2]);
        for (col, column) in [(3, MEAN), (4, P05), (5, P50), (6, P95)] {
            let x = cell_number(&icbs, (row, col));
            assert_eq!(pence(x), number(&icb[column]), "{icb:?}, column {col}");
        }
        assert_eq!(cell_number(&icbs, (row, 7)), number(&icb[PROB]), "{icb:?}");
    }
}

/// Where `program` is on the PATH.
fn which(program: &str) -> Option<PathBuf> {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
}

/// `program`, which a test needs: a missing one fails the test, naming the variable that skips
/// such tests on purpose.
fn require(program: &str, what: &str, skip: &str) -> PathBuf {
    which(program).unwrap_or_else(|| {
        panic!(
            "{program} is missing ({what}): install it, or set {skip}=1 to skip the tests \
             that need it (cargo then reports them as ignored)"
        )
    })
}

const SKIP_BROWSER: &str = "ICB_IMPACT_SKIP_BROWSER";
const SKIP_LIBREOFFICE: &str = "ICB_IMPACT_SKIP_LIBREOFFICE";

/// Node.js, for the explorer's unit tests (skipped with the browser's tests).
pub fn node() -> PathBuf {
    require(
        "node",
        "Node.js, which runs the explorer's unit tests",
        SKIP_BROWSER,
    )
}

/// What opening a page in a browser takes: Chromium, Node.js and playwright-core.
pub struct Browser {
    pub chromium: PathBuf,
    pub node: PathBuf,
    /// tests/browser/check.mjs, which opens a report's page.
    pub script: PathBuf,
}

/// Finds Chromium (`$CHROMIUM`, or `chromium` on the PATH), Node.js and playwright-core, or
/// fails saying what is missing and how to skip the tests that need them.
pub fn browser() -> Browser {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = match std::env::var_os("CHROMIUM") {
        Some(path) => PathBuf::from(path),
        None => require("chromium", "Debian's chromium package", SKIP_BROWSER),
    };
    let node = require("node", "Node.js, which drives Chromium", SKIP_BROWSER);
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `cd tests/browser && npm ci`, or set \
         {SKIP_BROWSER}=1 to skip the tests that need Chromium"
    );
    Browser {
        chromium,
        node,
        script: dir.join("check.mjs"),
    }
}

/// Opens `page` in headless Chromium with tests/browser/check.mjs, which also writes a
/// screenshot and an A4 print beside it. Returns what the script reports, after checking that
/// the page logged no error or warning and made no request.
fn open_in_chromium(browser: &Browser, page: &Path) -> serde_json::Value {
    let (shot, pdf) = (page.with_extension("png"), page.with_extension("pdf"));
    let out = Command::new(&browser.node)
        .arg(&browser.script)
        .arg(page)
        .args([&shot, &pdf])
        .env("CHROMIUM", &browser.chromium)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let result: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        result["problems"].as_array().unwrap().len(),
        0,
        "{}",
        result["problems"]
    );
    assert!(result["pages"].as_u64().unwrap() >= 1, "prints to A4 pages");
    assert_not_blank(&shot);
    result
}

/// A screenshot is not blank: more than one pixel in fifty is not (near) white.
pub fn assert_not_blank(shot: &Path) {
    let png = resvg::tiny_skia::Pixmap::load_png(shot).unwrap();
    let inked = png
        .pixels()
        .iter()
        .filter(|p| p.red() < 200 || p.green() < 200 || p.blue() < 200)
        .count();
    assert!(
        inked * 50 > png.pixels().len(),
        "screenshot nearly blank: {inked} of {} pixels",
        png.pixels().len()
    );
}

/// The cards the browser rendered: (value, label).
fn rendered_cards(result: &serde_json::Value) -> Vec<(String, String)> {
    result["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["value"].as_str().unwrap().to_string(),
                c["label"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
#[cfg_attr(
    skip_browser,
    ignore = "ICB_IMPACT_SKIP_BROWSER=1: the tests that need Chromium are skipped"
)]
fn the_report_opens_cleanly_in_headless_chromium() {
    let browser = browser();
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let result = open_in_chromium(&browser, &dir.join("report.html"));
    assert_eq!(result["figures"], 7);
    assert_eq!(result["visible_figures"], 7);
    assert_eq!(result["captions"], 7);
    let tables = result["tables"].as_array().unwrap();
    let rows = |id: &str| {
        tables
            .iter()
            .find(|t| t["id"] == id)
            .map(|t| t["rows"].as_u64().unwrap())
    };
    assert_eq!(rows("icb-table"), Some(42));
    assert_eq!(rows("region-table"), Some(7));
    assert!(rows("assumption-table").unwrap() > 40);
    assert!(rows("manifest-table").is_some());
    assert_eq!(result["sorted"], true, "clicking Mean sorts the ICB table");
    assert!(result["pages"].as_u64().unwrap() >= 2, "prints to A4 pages");
    assert_eq!(rendered_cards(&result), headline_cards(&Figures::of(&dir)));
}

#[test]
#[cfg_attr(
    skip_browser,
    ignore = "ICB_IMPACT_SKIP_BROWSER=1: the tests that need Chromium are skipped"
)]
fn the_one_pager_opens_cleanly_in_headless_chromium() {
    let browser = browser();
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let out = sb.run(&["report", "run", "--icb", "QE1", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let result = open_in_chromium(&browser, &dir.join("icb-QE1.html"));
    assert_eq!(result["figures"], 3, "distribution, actions, monthly path");
    assert_eq!(result["visible_figures"], 3);
    assert_eq!(result["captions"], 3);
    assert_eq!(
        rendered_cards(&result),
        one_pager_cards(&Figures::of(&dir), "QE1")
    );
    let inputs: Vec<(String, String)> = result["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                r[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(inputs, one_pager_inputs(&dir, "QE1"));
}

#[test]
#[cfg_attr(
    skip_libreoffice,
    ignore = "ICB_IMPACT_SKIP_LIBREOFFICE=1: the tests that need LibreOffice are skipped"
)]
fn the_workbook_opens_in_libreoffice() {
    let libreoffice = require(
        "libreoffice",
        "LibreOffice Calc, to open the workbook",
        SKIP_LIBREOFFICE,
    );
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let profile = sb.path("lo-profile");
    let out = Command::new(libreoffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(sb.path("pdf"))
        .arg(dir.join("report.xlsx"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let pdf = std::fs::read(sb.path("pdf/report.pdf"))
        .unwrap_or_else(|e| panic!("no PDF: {e}\n{}", stderr(&out)));
    assert!(
        pdf.starts_with(b"%PDF") && pdf.len() > 10_000,
        "{} bytes",
        pdf.len()
    );
    assert!(!stderr(&out).contains("Error"), "{}", stderr(&out));
}

#[test]
fn the_briefing_and_the_workbook_show_the_activity_the_model_expects() {
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let section = html
        .split("<section id=\"activity\">")
        .nth(1)
        .expect("an activity section")
        .split("</section>")
        .next()
        .unwrap();
    let rows = crate::read_csv(&dir.join("activity.csv"));
    let (scope, activity, mean) = (
        crate::column_index(&rows, "scope"),
        crate::column_index(&rows, "activity"),
        crate::column_index(&rows, "mean"),
    );
    let national: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| r[scope] == "national")
        .collect();
    assert!(national.len() >= 5, "{national:?}");
    for r in national {
        // Each activity's national mean, as the CSV has it to a tenth, in the table's data.
        let value: f64 = r[mean].parse().unwrap();
        assert!(
            section.contains(&format!("data-value=\"{value:.1}\"")),
            "{} {value} not in the briefing's activity table",
            r[activity]
        );
    }
    assert!(
        section.contains("GP appointments") && section.contains("Appointments in General Practice")
    );
    let workbook = zip_entry(&dir.join("report.xlsx"), "xl/workbook.xml");
    assert!(workbook.contains("name=\"Activity\""));
}
