//! A validated scenario as the explorer shows it: its settings, every action with its timing
//! and every factor with its distribution as written, in words, its source and whether it is
//! an assumption, and the ICBs' own inputs.

use serde_json::{json, Map, Value};

use crate::dist::Spec;
use crate::error::FileProblems;
use crate::scenario::{Factor, Scenario};

/// The scenario for `POST /api/validate`.
pub fn scenario(s: &Scenario) -> Value {
    let actions: Vec<Value> = s
        .actions
        .iter()
        .map(|a| {
            let costs: Vec<Value> = a
                .costs
                .iter()
                .map(|c| {
                    json!({
                        "label": c.label,
                        "driver": c.driver,
                        "negative": c.negative,
                        "counted": c.views.contains(&s.cost_view),
                    })
                })
                .collect();
            json!({
                "id": a.id,
                "label": a.label,
                "description": a.description,
                "costs": costs,
                "start": a.timing.start.to_string(),
                "end": a.timing.end.map(|m| m.to_string()),
                "timing": a.timing.describe(),
                "engaged": a.engaged,
            })
        })
        .collect();
    let action_of = |path: &str| {
        s.actions
            .iter()
            .find(|a| path.starts_with(&format!("actions.{}.", a.id)))
            .map(|a| a.id.clone())
    };
    let factors: Vec<Value> = s
        .labelled_factors()
        .map(|(owner, f)| factor(owner, action_of(&f.path), f))
        .collect();
    let overrides: Vec<Value> = s
        .overrides
        .iter()
        .map(|o| {
            json!({
                "icb": o.icb,
                "factor": o.factor,
                "dist": spec(o.dist.spec()),
                "words": o.dist.spec().describe(),
                "mean": o.dist.mean(),
                "source": o.source,
                "line": o.line,
            })
        })
        .collect();
    let options: Vec<Value> = s
        .options
        .iter()
        .map(|o| {
            json!({
                "id": o.id,
                "label": o.label,
                "icb": o.icb,
                "sets": o.set.iter().map(|set| &set.factor).collect::<Vec<_>>(),
                "cost_lines": o.costs.iter().map(|c| &c.label).collect::<Vec<_>>(),
                "source": o.source,
            })
        })
        .collect();
    let factor_groups: Vec<Value> = s
        .factor_groups
        .iter()
        .map(|g| json!({ "id": g.id, "label": g.label, "factors": g.factors }))
        .collect();
    json!({
        "name": s.name,
        "description": s.description,
        "start": s.start.to_string(),
        "end": s.end().to_string(),
        "months": s.months,
        "iterations": s.iterations,
        "seed": s.seed,
        "cost_view": s.cost_view.as_str(),
        "cost_view_words": s.cost_view.describe(),
        "granularity": s.granularity.as_str(),
        "price_year": s.price_year.map(|y| y.to_string()),
        "reference": {
            "per_icb_gbp": s.reference.per_icb_gbp,
            "label": s.reference.label,
            "source": s.reference.source,
        },
        "actions": actions,
        "factors": factors,
        "overrides": overrides,
        "options": options,
        "factor_groups": factor_groups,
    })
}

fn factor(owner: &str, action: Option<String>, f: &Factor) -> Value {
    // What the file wrote: a money amount in another year's prices is edited as written.
    let written = f.price.as_ref().map_or(f.dist.spec(), |p| &p.written);
    json!({
        // The path is also the TOML table `/api/edit` sets.
        "path": f.path,
        "owner": owner,
        "action": action,
        "name": f.name,
        "dist": spec(written),
        "words": f.describe(),
        "mean": f.dist.mean(),
        "vary": f.vary.as_str(),
        "source": f.source,
        "assumption": f.assumption,
        "participation": f.participation,
        "price_year": f.price.as_ref().map(|p| price_years(&p.years)),
        "line": f.line,
    })
}

/// A factor's price year (`2023/24`), or each parameter's where they differ
/// (`min 2023/24, max 2024/25`).
fn price_years(years: &[(&str, crate::price::PriceYear)]) -> String {
    match years {
        [(_, first), rest @ ..] if rest.iter().all(|(_, y)| y == first) => first.to_string(),
        _ => years
            .iter()
            .map(|(name, year)| format!("{name} {year}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `{ "dist": "pert", "min": …, "mode": …, "max": … }`: a distribution as a scenario writes it.
fn spec(s: &Spec) -> Value {
    let mut out = Map::new();
    out.insert("dist".into(), Value::from(s.name()));
    for (name, value) in s.values() {
        out.insert(name.into(), Value::from(value));
    }
    Value::Object(out)
}

/// Problems as JSON: `{ file, line, field, message }` each.
pub fn problems(files: &[FileProblems]) -> Vec<Value> {
    files
        .iter()
        .flat_map(|f| {
            f.problems.iter().map(move |p| {
                json!({ "file": f.file, "line": p.line, "field": p.field, "message": p.message })
            })
        })
        .collect()
}
