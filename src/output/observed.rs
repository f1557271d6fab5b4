//! `data observed`'s directory: `observed.csv` (the effect per ICB, or practice, and
//! nationally), `observed_monthly.csv` (observed and counterfactual by month), the charts and
//! a manifest; and, when asked, the estimates as a benchmarks table beside it.

use std::path::Path;

use serde::Serialize;

use super::tables::write_json;
use super::{replace_dir, write_charts, write_file, write_file_atomically};
use crate::chart;
use crate::error::Result;
use crate::observed::{self, Cost, Observed, Series};
use crate::prescribing::{csv_field as field, FileRead, Grouping, PublishedMonths};
use crate::provenance::MANIFEST;

fn keys(s: &Series, grouping: Grouping) -> Vec<String> {
    let mut k = vec![field(&s.icb_code)];
    if grouping == Grouping::Practice {
        k.push(field(s.practice_code.as_deref().unwrap_or("")));
    }
    k
}

fn key_header(grouping: Grouping) -> &'static str {
    match grouping {
        Grouping::Icb => "icb_code",
        Grouping::Practice => "icb_code,practice_code",
    }
}

/// A fit's columns in `observed.csv` and `activity_observed.csv`, from `months_before` to
/// `ar1_rho`: amounts to two decimals, ρ to three.
pub(super) fn fit_fields(f: &crate::observed::ItsFit) -> [String; 11] {
    [
        f.months_before.to_string(),
        f.months_after.to_string(),
        format!("{:.2}", f.baseline_per_month),
        format!("{:.2}", f.effect_per_month),
        format!("{:.2}", f.effect_low),
        format!("{:.2}", f.effect_high),
        format!("{:.2}", f.cumulative),
        format!("{:.2}", f.cumulative_low),
        format!("{:.2}", f.cumulative_high),
        f.seasonal.to_string(),
        f.rho.map_or(String::new(), |r| format!("{r:.3}")),
    ]
}

/// `observed.csv`: the national row, then each ICB (or practice) fitted. Money in pounds to
/// the penny; the intervals are 95%.
pub fn observed_csv(o: &Observed) -> String {
    let mut text = format!(
        "{},months_before,months_after,baseline_gbp_per_month,effect_gbp_per_month,effect_low_gbp_per_month,effect_high_gbp_per_month,cumulative_excess_gbp,cumulative_low_gbp,cumulative_high_gbp,seasonal,ar1_rho\n",
        key_header(o.grouping)
    );
    for s in std::iter::once(&o.national).chain(o.units()) {
        let f = &s.fit;
        let mut fields = keys(s, o.grouping);
        fields.extend(fit_fields(f));
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    text
}

/// `observed_monthly.csv`: for every month of every series, the observed excess, the
/// counterfactual and its 95% band, and whether the month is after the first change.
pub fn observed_monthly_csv(o: &Observed) -> String {
    let columns = &observed::MONTHLY_COLUMNS;
    let mut text = format!(
        "{},{},{}\n",
        columns[0],
        key_header(o.grouping),
        columns[2..].join(",")
    );
    for s in std::iter::once(&o.national).chain(o.units()) {
        let f = &s.fit;
        for (k, month) in o.months.iter().enumerate() {
            let mut fields = vec![month.to_string()];
            fields.extend(keys(s, o.grouping));
            fields.extend([
                format!("{:.2}", s.observed[k]),
                format!("{:.2}", f.counterfactual[k]),
                format!("{:.2}", f.counterfactual_low[k]),
                format!("{:.2}", f.counterfactual_high[k]),
                (k >= f.months_before).to_string(),
            ]);
            text.push_str(&fields.join(","));
            text.push('\n');
        }
    }
    text
}

#[derive(Serialize)]
struct FileEntry {
    path: String,
    rows: u64,
    months: Vec<String>,
}

/// What `data observed` read and how, recorded beside its outputs.
#[derive(Serialize)]
struct ObservedManifest {
    command: &'static str,
    tool_version: &'static str,
    files: Vec<FileEntry>,
    changes: Vec<String>,
    grouping: &'static str,
    /// `nic` or `actual` (`--cost`), and the EPD column read for it.
    cost: &'static str,
    cost_column: &'static str,
    /// Level shifts of method fitted in the counterfactual (the discount change, in actual
    /// cost, when the months straddle it).
    level_shifts: Vec<String>,
    /// The month the run was in (`--as-of`), the last month NHSBSA should have published by
    /// then, and the months expected but not read.
    as_of: String,
    expected_through: String,
    late_months: Vec<String>,
    low_percentile: f64,
    ar1_rho: Option<f64>,
    skipped: Vec<String>,
    /// What the figures rest on, as the report and the benchmarks table say it.
    notes: Vec<String>,
}

/// Writes `data observed`'s directory to `out` (replacing a previous one atomically; the
/// charts also as PNG when `png`) and, with `benchmarks_out`, the estimates as a benchmarks
/// table (atomically, after the directory). `cost` is the cost the excess was measured in and
/// `months` the months read against those published by the run's month; the manifest
/// records both, and their notes ([`observed::notes`]) end the benchmarks' sources.
#[allow(clippy::too_many_arguments)]
pub fn write_observed(
    out: &Path,
    observed: &Observed,
    files: &[FileRead],
    cost: Cost,
    months: &PublishedMonths,
    benchmarks_out: Option<&Path>,
    png: bool,
) -> Result<()> {
    let charts = chart::observed_charts(observed)?;
    let notes = observed::notes(observed, cost, months);
    let text =
        |m: &[crate::month::Month]| -> Vec<String> { m.iter().map(|m| m.to_string()).collect() };
    let manifest = ObservedManifest {
        command: "data observed",
        tool_version: env!("CARGO_PKG_VERSION"),
        files: files
            .iter()
            .map(|f| FileEntry {
                path: f.path.display().to_string(),
                rows: f.rows,
                months: f.months.iter().map(|m| m.to_string()).collect(),
            })
            .collect(),
        changes: observed.changes.iter().map(|c| c.to_string()).collect(),
        grouping: match observed.grouping {
            Grouping::Icb => "icb",
            Grouping::Practice => "practice",
        },
        cost: cost.name(),
        cost_column: cost.column(),
        level_shifts: text(&observed.shifts),
        as_of: months.as_of.to_string(),
        expected_through: months.expected_through.to_string(),
        late_months: text(&months.late),
        low_percentile: observed::LOW_PERCENTILE,
        ar1_rho: observed.national.fit.rho,
        skipped: observed
            .skipped
            .iter()
            .map(|s| {
                format!(
                    "{}{}: {}",
                    s.icb_code,
                    s.practice_code
                        .as_ref()
                        .map_or(String::new(), |p| format!(" {p}")),
                    s.reason
                )
            })
            .collect(),
        notes: notes.clone(),
    };
    replace_dir(out, |dir| {
        write_file(&dir.join("observed.csv"), observed_csv(observed).as_bytes())?;
        write_file(
            &dir.join("observed_monthly.csv"),
            observed_monthly_csv(observed).as_bytes(),
        )?;
        write_charts(dir, &charts, png)?;
        write_json(&dir.join(MANIFEST), &manifest)
    })?;
    if let Some(path) = benchmarks_out {
        write_file_atomically(path, observed::benchmarks_csv(observed, &notes).as_bytes())?;
    }
    Ok(())
}
