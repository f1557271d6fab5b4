//! `data activity`'s directory: `activity_observed.csv` (the change in each activity,
//! nationally and per ICB), `activity_observed_monthly.csv` (observed and counterfactual by
//! month), the charts and a manifest; and, when asked, the estimates as activity observations
//! of the benchmarks table beside it.

use std::path::Path;

use serde::Serialize;

use super::tables::write_json;
use super::{replace_dir, write_charts, write_file, write_file_atomically};
use crate::activity::{self, ActivityObserved};
use crate::chart;
use crate::error::Result;
use crate::observed::{Series, NATIONAL};
use crate::prescribing::{csv_field as field, FileRead};
use crate::provenance::MANIFEST;

/// Each (scope, activity) in the outputs' order: England first, then each ICB in code order,
/// each with its activities in their kind's order; a scope an activity could not fit is left
/// out of that activity.
fn scopes(a: &ActivityObserved) -> Vec<(&'static str, &Series)> {
    let mut out = Vec::new();
    let codes = std::iter::once(NATIONAL).chain(a.icb_codes());
    for code in codes {
        for m in &a.measures {
            let o = &m.observed;
            let series = match code == NATIONAL {
                true => Some(&o.national),
                false => o.icbs.iter().find(|s| s.icb_code == code),
            };
            if let Some(s) = series {
                out.push((m.activity, s));
            }
        }
    }
    out
}

/// `activity_observed.csv`: a row per scope and activity; counts a month (or in all) to two
/// decimals; the intervals are 95%.
pub fn activity_observed_csv(a: &ActivityObserved) -> String {
    let mut text = "icb_code,activity,months_before,months_after,baseline_per_month,effect_per_month,effect_low_per_month,effect_high_per_month,cumulative_change,cumulative_low,cumulative_high,seasonal,ar1_rho\n".to_string();
    for (activity, s) in scopes(a) {
        let mut fields = vec![field(&s.icb_code), activity.to_string()];
        fields.extend(super::observed::fit_fields(&s.fit));
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    text
}

/// `activity_observed_monthly.csv`: for every month of every scope and activity, the observed
/// count, the counterfactual and its 95% band, and whether the month is after the first
/// change.
pub fn activity_observed_monthly_csv(a: &ActivityObserved) -> String {
    let mut text = "month,icb_code,activity,observed,counterfactual,counterfactual_low,counterfactual_high,after_change\n".to_string();
    for (activity, s) in scopes(a) {
        let f = &s.fit;
        for (k, month) in a.months.iter().enumerate() {
            let fields = [
                month.to_string(),
                field(&s.icb_code),
                activity.to_string(),
                format!("{:.0}", s.observed[k]),
                format!("{:.2}", f.counterfactual[k]),
                format!("{:.2}", f.counterfactual_low[k]),
                format!("{:.2}", f.counterfactual_high[k]),
                (k >= f.months_before).to_string(),
            ];
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

#[derive(Serialize)]
struct Fitted {
    activity: &'static str,
    ar1_rho: Option<f64>,
    skipped: Vec<String>,
}

/// What `data activity` read and how, recorded beside its outputs.
#[derive(Serialize)]
struct ActivityManifest {
    command: &'static str,
    tool_version: &'static str,
    kind: &'static str,
    files: Vec<FileEntry>,
    changes: Vec<String>,
    /// The table that placed practices in ICBs (appointments).
    mapping: Option<String>,
    /// Practices in no ICB: counted nationally only.
    unmapped_practices: Vec<String>,
    activities: Vec<Fitted>,
}

/// Writes `data activity`'s directory to `out` (replacing a previous one atomically; the
/// charts also as PNG when `png`) and, with `benchmarks_out`, the estimates as a benchmarks
/// table (atomically, after the directory).
pub fn write_activity(
    out: &Path,
    a: &ActivityObserved,
    files: &[FileRead],
    benchmarks_out: Option<&Path>,
    png: bool,
) -> Result<()> {
    let charts = chart::activity_charts(a)?;
    let benchmarks = activity::benchmarks_csv(a);
    let manifest = ActivityManifest {
        command: "data activity",
        tool_version: env!("CARGO_PKG_VERSION"),
        kind: a.kind.name(),
        files: files
            .iter()
            .map(|f| FileEntry {
                path: f.path.display().to_string(),
                rows: f.rows,
                months: f.months.iter().map(|m| m.to_string()).collect(),
            })
            .collect(),
        changes: a.changes.iter().map(|c| c.to_string()).collect(),
        mapping: a.mapping.clone(),
        unmapped_practices: a.unmapped.clone(),
        activities: a
            .measures
            .iter()
            .map(|m| Fitted {
                activity: m.activity,
                ar1_rho: m.observed.national.fit.rho,
                skipped: m
                    .observed
                    .skipped
                    .iter()
                    .map(|s| format!("{}: {}", s.icb_code, s.reason))
                    .collect(),
            })
            .collect(),
    };
    replace_dir(out, |dir| {
        write_file(
            &dir.join("activity_observed.csv"),
            activity_observed_csv(a).as_bytes(),
        )?;
        write_file(
            &dir.join("activity_observed_monthly.csv"),
            activity_observed_monthly_csv(a).as_bytes(),
        )?;
        write_charts(dir, &charts, png)?;
        write_json(&dir.join(MANIFEST), &manifest)
    })?;
    if let Some(path) = benchmarks_out {
        write_file_atomically(path, benchmarks.as_bytes())?;
    }
    Ok(())
}
