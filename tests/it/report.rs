//! Briefings: the self-contained HTML report, the per-ICB one-pager and the Excel workbook,
//! checked as files, in headless Chromium and in LibreOffice.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{shipped, stderr, stdout, Sandbox};

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
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
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
    assert!(html.contains("rank by mean cost nationally"));
    assert!(html.contains("Registered patients"));
    assert!(!html.contains("src="));
    let bad = sb.run(&["report", "run", "--icb", "XYZ"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("unknown ICB code 'XYZ'; the run's ICBs are: QOQ, QHM"),
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

/// Whether an external tool the next two tests need is here; in CI it must be.
fn have(program: &str, why: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is missing: {why} (.ci/run installs it)"
        );
        eprintln!("skipped: {program} is not installed ({why})");
    }
    found
}

#[test]
fn the_report_opens_cleanly_in_headless_chromium() {
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !have("chromium", "Debian's chromium package") || !have("node", "Node.js") {
        return;
    }
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir()
            || std::env::var_os("CI").is_none(),
        "run npm ci in tests/browser"
    );
    if !browser_dir.join("node_modules/playwright-core").is_dir() {
        eprintln!("skipped: npm ci has not been run in tests/browser");
        return;
    }
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let (shot, pdf) = (dir.join("screenshot.png"), dir.join("print.pdf"));
    let out = Command::new("node")
        .arg(browser_dir.join("check.mjs"))
        .args([dir.join("report.html"), shot.clone(), pdf.clone()])
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
    assert_eq!(result["figures"], 7);
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
    // The screenshot is not blank: a good share of its pixels are not white.
    let png = resvg::tiny_skia::Pixmap::load_png(&shot).unwrap();
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

#[test]
fn the_workbook_opens_in_libreoffice() {
    if !have("libreoffice", "LibreOffice Calc, to open the workbook") {
        return;
    }
    let sb = Sandbox::new();
    let dir = reported(&sb);
    let profile = sb.path("lo-profile");
    let out = Command::new("libreoffice")
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
