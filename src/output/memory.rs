//! A command's outputs in memory, as the explorer's API sends them: one JSON document with
//! the same `summary.json`, the same tables (each row an object keyed by the CSV's column
//! names) and the same charts (SVG text) that the command writes as files.

use std::path::Path;

use polars::prelude::{AnyValue, DataFrame};
use serde_json::{json, Map, Value};

use crate::chart::{self, Chart};
use crate::compare::Compared;
use crate::data::IcbTable;
use crate::error::{Error, Result};
use crate::month::Month;
use crate::scenario::Scenario;
use crate::settlement::Settlement;
use crate::summary::{Expected, RunSummary};

use super::json::summary_json;
use super::tables::{self, with_view};

/// What `run` writes, but for the inputs, the manifest and the PNGs: `summary` (exactly
/// `summary.json`), `tables` (keyed by file name without `.csv`: `icb_summary`,
/// `action_summary`, `monthly`, `convergence`, `region_summary`, and `settlement` or
/// `body_summary` when the run has them) and `charts` (SVG text by chart name).
pub fn run_document(scenario: &Scenario, table: &IcbTable, summary: &RunSummary) -> Result<Value> {
    let super::RunOutputs { frames, charts } = super::run_outputs(scenario, summary)?;
    let mut out = Map::new();
    for (name, frame) in frames {
        let key = name.trim_end_matches(".csv").to_string();
        out.insert(key, Value::Array(rows(&frame)?));
    }
    let summary = serde_json::to_value(summary_json(scenario, table, summary)).map_err(json)?;
    Ok(json!({ "summary": summary, "tables": out, "charts": svgs(&charts) }))
}

/// The explorer's nowcast: `calibration` ([`super::calibration_document`]), `run` (the
/// calibrated run as [`run_document`] gives it, its summary holding the priors' headline; the
/// run on the priors when the calibration reported no posterior), `expected` (the national figure month by month: each month's
/// cumulative mean, 5th and 95th percentiles on the priors and calibrated, and `observed`,
/// the excess observed cumulated to that month's end, where given) and `chart` (its SVG).
pub fn nowcast_document(
    scenario: &Scenario,
    table: &IcbTable,
    calibration: Value,
    run: &RunSummary,
    expected: Option<&Expected>,
    observed: &[(Month, f64)],
) -> Result<Value> {
    let run = run_document(scenario, table, run)?;
    let (expected, chart) = match expected {
        Some(e) => {
            let band = |s: Option<&crate::stats::Summary>| match s {
                Some(s) => json!({ "mean": s.mean, "p05": s.p05, "p95": s.p95 }),
                None => Value::Null,
            };
            let months: Vec<Value> = e
                .months
                .iter()
                .enumerate()
                .map(|(k, m)| {
                    json!({
                        "month": m.to_string(),
                        "prior": band(e.prior.get(k)),
                        "calibrated": band(e.calibrated.as_ref().and_then(|c| c.get(k))),
                        "observed": observed.iter().find(|(o, _)| o == m).map(|(_, v)| *v),
                    })
                })
                .collect();
            let document = json!({
                "id": e.id,
                "label": e.label,
                "published": e.published,
                "published_sd": e.published_sd,
                "first": e.observed.0.to_string(),
                "last": e.observed.1.to_string(),
                "months": months,
            });
            let chart = chart::nowcast_chart(scenario, e, observed)?;
            (document, Value::String(chart.svg))
        }
        None => (Value::Null, Value::Null),
    };
    Ok(json!({ "calibration": calibration, "run": run, "expected": expected, "chart": chart }))
}

/// What `settlement` writes, but for the inputs and the manifest: `rows` (`settlement.csv`)
/// and `chart` (`charts/settlement.svg`).
pub fn settlement_document(
    scenario: &Scenario,
    settlement: &Settlement,
    iterations: usize,
) -> Result<Value> {
    let frame = with_view(
        tables::settlement_table(settlement)?,
        scenario.cost_view.as_str(),
    )?;
    let charts = chart::settlement_charts(scenario, settlement, iterations)?;
    Ok(json!({ "rows": rows(&frame)?, "chart": only(&charts) }))
}

/// What `compare` writes, but for the manifest: `rows` (`compare.csv`, `baseline` naming
/// scenario A) and `charts` (one per compared scenario, by chart name).
pub fn compare_document(
    baseline_path: &Path,
    baseline: &Scenario,
    compared: &[Compared],
    iterations: usize,
) -> Result<Value> {
    let frame = with_view(
        tables::compare_table(baseline_path, compared)?,
        baseline.cost_view.as_str(),
    )?;
    let charts = compared
        .iter()
        .map(|c| chart::compare_chart(baseline, c, iterations))
        .collect::<Result<Vec<Chart>>>()?;
    Ok(json!({ "rows": rows(&frame)?, "charts": svgs(&charts) }))
}

/// Charts by name, as SVG text.
fn svgs(charts: &[Chart]) -> Value {
    Value::Object(
        charts
            .iter()
            .map(|c| (c.name.clone(), Value::String(c.svg.clone())))
            .collect(),
    )
}

/// The SVG of a command's one chart.
fn only(charts: &[Chart]) -> Value {
    charts
        .first()
        .map_or(Value::Null, |c| Value::String(c.svg.clone()))
}

/// Each row of `frame` as an object keyed by column name: numbers as numbers (a value that
/// is not finite as null), text as text.
pub(super) fn rows(frame: &DataFrame) -> Result<Vec<Value>> {
    let columns = frame.columns();
    (0..frame.height())
        .map(|i| {
            let mut row = Map::new();
            for column in columns {
                row.insert(column.name().to_string(), cell(column.get(i)?));
            }
            Ok(Value::Object(row))
        })
        .collect()
}

fn cell(value: AnyValue) -> Value {
    match value {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(b),
        AnyValue::String(s) => Value::String(s.to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Float64(x) => Value::from(x),
        AnyValue::Float32(x) => Value::from(f64::from(x)),
        AnyValue::Int64(x) => Value::from(x),
        AnyValue::Int32(x) => Value::from(x),
        AnyValue::UInt64(x) => Value::from(x),
        AnyValue::UInt32(x) => Value::from(x),
        other => Value::String(other.to_string()),
    }
}

fn json(e: serde_json::Error) -> Error {
    Error::Output(format!("json: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_objects_keyed_by_column_with_numbers_text_and_nulls() {
        let frame = polars::df!(
            "icb_code" => ["QU9", "QE1"],
            "mean_gbp" => [1.5, f64::NAN],
            "icbs" => [3u32, 4],
        )
        .unwrap();
        assert_eq!(
            Value::Array(rows(&frame).unwrap()),
            json!([
                { "icb_code": "QU9", "mean_gbp": 1.5, "icbs": 3 },
                { "icb_code": "QE1", "mean_gbp": null, "icbs": 4 },
            ])
        );
    }
}
