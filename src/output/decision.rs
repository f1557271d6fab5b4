//! `decide`'s files: `decision.csv` (each option in each scope), `evppi.csv` (the value of
//! learning each factor first), `summary.json` (the best option and the EVPI nationally and per
//! ICB), the charts and the manifest.

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

use crate::chart;
use crate::data::IcbTable;
use crate::decide::{Decision, OptionResult, ScopeDecision};
use crate::error::Result;
use crate::money::pence;
use crate::provenance::RunInfo;
use crate::scenario::Scenario;

use super::tables::{with_view, write_csv, write_json};
use super::{manifest, write_charts, write_inputs};

/// `decision.csv`: for each scope (`national`, then each ICB) and each option open in it, the
/// expected cost with the option taken and its 90% interval, the share of draws in which it is
/// the cheapest, and the expected saving against `none` with its Monte Carlo standard error.
pub(super) fn decision_table(d: &Decision) -> Result<DataFrame> {
    let rows: Vec<(&ScopeDecision, usize, &OptionResult)> = d
        .scopes
        .iter()
        .flat_map(|s| s.options.iter().enumerate().map(move |(k, o)| (s, k, o)))
        .collect();
    let money =
        |f: fn(&OptionResult) -> f64| rows.iter().map(|(_, _, o)| pence(f(o))).collect::<Vec<_>>();
    Ok(df!(
        "option" => rows.iter().map(|(_, _, o)| d.options[o.option].id.as_str()).collect::<Vec<_>>(),
        "label" => rows.iter().map(|(_, _, o)| d.options[o.option].label.as_str()).collect::<Vec<_>>(),
        "scope" => rows.iter().map(|(s, _, _)| s.code.as_str()).collect::<Vec<_>>(),
        "scope_name" => rows.iter().map(|(s, _, _)| s.name.as_str()).collect::<Vec<_>>(),
        "mean_gbp" => money(|o| o.cost.mean),
        "mcse_mean_gbp" => money(|o| o.cost.mcse_mean),
        "p05_gbp" => money(|o| o.cost.p05),
        "p95_gbp" => money(|o| o.cost.p95),
        "prob_best" => rows.iter().map(|(_, _, o)| o.prob_best).collect::<Vec<_>>(),
        "saving_vs_none_gbp" => money(|o| o.saving.value),
        "mcse_saving_gbp" => money(|o| o.saving.se),
        "best" => rows.iter().map(|(s, k, _)| s.best == *k).collect::<Vec<_>>(),
    )?)
}

/// `evppi.csv`: for each scope with a choice and each uncertain national factor (then each
/// group), the expected value of learning it before choosing, its standard error, and the
/// scope's EVPI beside it.
pub(super) fn evppi_table(d: &Decision) -> Result<DataFrame> {
    let e = &d.evppi;
    Ok(df!(
        "factor" => e.iter().map(|r| r.factor.as_str()).collect::<Vec<_>>(),
        "label" => e.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(),
        "kind" => e.iter().map(|r| if r.group { "group" } else { "factor" }).collect::<Vec<_>>(),
        "scope" => e.iter().map(|r| d.scopes[r.scope].code.as_str()).collect::<Vec<_>>(),
        "evppi_gbp" => e.iter().map(|r| pence(r.value.value)).collect::<Vec<_>>(),
        "se_gbp" => e.iter().map(|r| pence(r.value.se)).collect::<Vec<_>>(),
        "evpi_gbp" => e.iter().map(|r| pence(d.scopes[r.scope].evpi.value)).collect::<Vec<_>>(),
    )?)
}

#[derive(Serialize)]
struct OptionJson<'a> {
    id: &'a str,
    label: &'a str,
    /// The one ICB that takes it, or null for every ICB.
    icb: Option<&'a str>,
}

#[derive(Serialize)]
struct ScopeJson<'a> {
    scope: &'a str,
    name: &'a str,
    /// The option with the lowest expected cost.
    best: &'a str,
    best_label: &'a str,
    best_mean_gbp: f64,
    best_saving_vs_none_gbp: f64,
    best_prob_best: f64,
    evpi_gbp: f64,
    evpi_se_gbp: f64,
    /// The factor whose value is worth most to learn first, and that value.
    top_factor: Option<&'a str>,
    top_evppi_gbp: Option<f64>,
}

fn scope_json<'a>(d: &'a Decision, s: usize) -> ScopeJson<'a> {
    let scope = &d.scopes[s];
    let best = &scope.options[scope.best];
    let choice = &d.options[best.option];
    let top = d.evppi_of(s).into_iter().find(|e| !e.group);
    ScopeJson {
        scope: &scope.code,
        name: &scope.name,
        best: &choice.id,
        best_label: &choice.label,
        best_mean_gbp: pence(best.cost.mean),
        best_saving_vs_none_gbp: pence(best.saving.value),
        best_prob_best: best.prob_best,
        evpi_gbp: pence(scope.evpi.value),
        evpi_se_gbp: pence(scope.evpi.se),
        top_factor: top.map(|e| e.factor.as_str()),
        top_evppi_gbp: top.map(|e| pence(e.value.value)),
    }
}

/// `decide`'s `summary.json`.
fn summary_json(scenario: &Scenario, table: &IcbTable, d: &Decision) -> Value {
    let options: Vec<OptionJson> = d
        .options
        .iter()
        .map(|o| OptionJson {
            id: &o.id,
            label: &o.label,
            icb: o.icb.map(|i| table.codes[i].as_str()),
        })
        .collect();
    let national = scope_json(d, 0);
    let icbs: Vec<ScopeJson> = (1..d.scopes.len()).map(|s| scope_json(d, s)).collect();
    json!({
        "scenario": scenario.name,
        "period": scenario.period(),
        "cost_view": scenario.cost_view.as_str(),
        "iterations": d.iterations,
        "seed": scenario.seed,
        "options": options,
        "best": national.best,
        "evpi_gbp": national.evpi_gbp,
        "national": national,
        "icbs": icbs,
    })
}

/// Writes `decide`'s outputs to `out`, replacing a previous directory as a whole.
pub fn write_decide(
    out: &Path,
    scenario: &Scenario,
    table: &IcbTable,
    d: &Decision,
    info: &RunInfo,
) -> Result<()> {
    let charts = chart::decision_charts(scenario, d, 0)?;
    let view = scenario.cost_view.as_str();
    let decision = with_view(decision_table(d)?, view)?;
    let evppi = with_view(evppi_table(d)?, view)?;
    super::replace_dir(out, |dir| {
        write_csv(&dir.join("decision.csv"), decision)?;
        write_csv(&dir.join("evppi.csv"), evppi)?;
        write_json(&dir.join("summary.json"), &summary_json(scenario, table, d))?;
        write_charts(dir, &charts, info.png)?;
        write_inputs(dir, table, info)?;
        let mut m = manifest(scenario, table, d.iterations, info);
        m.decide = true;
        write_json(&dir.join(crate::provenance::MANIFEST), &m)
    })
}

/// What `decide` writes, but for the inputs and the manifest: `summary` (its `summary.json`),
/// `decision` and `evppi` (the CSVs' rows) and `charts` (SVG text by name).
pub fn decide_document(scenario: &Scenario, table: &IcbTable, d: &Decision) -> Result<Value> {
    let view = scenario.cost_view.as_str();
    let charts = chart::decision_charts(scenario, d, 0)?;
    let rows = |frame: DataFrame| super::memory::rows(&frame);
    Ok(json!({
        "summary": summary_json(scenario, table, d),
        "decision": rows(with_view(decision_table(d)?, view)?)?,
        "evppi": rows(with_view(evppi_table(d)?, view)?)?,
        "charts": Value::Object(
            charts
                .iter()
                .map(|c| (c.name.clone(), Value::String(c.svg.clone())))
                .collect()
        ),
    }))
}
