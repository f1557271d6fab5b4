//! The top-level sections of a scenario file besides its actions: `[scenario]`, `[reference]`,
//! `[engagement]` and `[[correlations]]`.

use std::path::Path;

use toml::de::DeValue;

use super::read_factor::read_factor;
use super::reader::{join, kind, OrAbsent, Reader, Reported, Table, Value};
use super::{
    default_reference, Action, Correlation, CostView, Engagement, Factor, Granularity, Reference,
    Sampling, Scenario, Settings, Vary, DEFAULT_ITERATIONS, DEFAULT_SEED, MAX_MONTHS,
};
use crate::month::Month;
use crate::price::{Deflators, PriceYear};

/// `[scenario]`, with `actions`, `engagement` and `reference` left for the caller to fill.
pub(super) fn read_scenario(
    r: &mut Reader,
    top: &mut Table,
    base: &Path,
    settings: &Settings,
) -> Result<Scenario, Reported> {
    let Some(value) = top.take("scenario") else {
        let reported = r.problem(
            &(0..0),
            "scenario",
            "required: a [scenario] table with name, start and months",
        );
        // Factors' price years are not checked against a scenario that is not there.
        r.price_year = Some(Err(reported));
        return Err(reported);
    };
    let mut t = match Table::from_value(r, "scenario", value, "a table") {
        Ok(t) => t,
        Err(reported) => {
            r.price_year = Some(Err(reported));
            return Err(reported);
        }
    };
    let price_year = read_price_year(r, &mut t);
    r.price_year = price_year.transpose();
    let name = t.required::<String>(r, "name");
    let description = t
        .value::<String>(r, "description")
        .or_absent()
        .unwrap_or_default();
    let start = t.month(r, "start");
    let start = t.require(r, "start", start);
    let months = t.int_in(
        r,
        "months",
        1,
        i64::from(MAX_MONTHS),
        &format!("a whole number from 1 to {MAX_MONTHS}"),
    );
    let months = t.require(r, "months", months);
    let iterations = t.int_in(r, "iterations", 1, i64::MAX, "at least 1");
    let seed = t.int_in(r, "seed", 0, i64::MAX, "a non-negative integer");
    let data = t
        .value::<String>(r, "data")
        .or_absent()
        .map(|v| base.join(v));
    let cost_view = t.choice::<CostView>(r, "cost_view");
    let sampling = t.choice::<Sampling>(r, "sampling");
    let granularity = t.choice::<Granularity>(r, "granularity");
    let practices = t
        .value::<String>(r, "practices")
        .or_absent()
        .map(|v| base.join(v));
    let footprint = t
        .value::<String>(r, "footprint")
        .or_absent()
        .map(|v| base.join(v));
    let icb_map = t
        .value::<String>(r, "icb_map")
        .or_absent()
        .map(|v| base.join(v));
    let posterior = t
        .value::<String>(r, "posterior")
        .or_absent()
        .map(|v| base.join(v));
    let calibration_discrepancy = match t.get::<f64>(r, "calibration_discrepancy") {
        Ok(Some((share, span))) if !(share.is_finite() && share >= 0.0) => Err(r.problem(
            &span,
            &t.field("calibration_discrepancy"),
            format!("must be a share of each figure, 0 or more (0.1 is 10%), found {share}"),
        )),
        Ok(got) => Ok(got.map(|(share, _)| share)),
        Err(reported) => Err(reported),
    };
    t.finish(r);
    if settings.iterations == Some(0) {
        return Err(r.problem_of_setting("iterations", "at least 1 (0 was asked for)"));
    }
    Ok(Scenario {
        name: name?.0,
        description,
        start: start?.0,
        months: months? as u32,
        iterations: settings
            .iterations
            .unwrap_or(iterations?.map_or(DEFAULT_ITERATIONS, |v| v as u64)),
        seed: settings
            .seed
            .unwrap_or(seed?.map_or(DEFAULT_SEED, |v| v as u64)),
        data,
        cost_view: settings.cost_view.unwrap_or(cost_view?.unwrap_or_default()),
        granularity: settings
            .granularity
            .unwrap_or(granularity?.unwrap_or_default()),
        practices,
        footprint,
        icb_map,
        posterior,
        calibration_discrepancy: calibration_discrepancy?,
        price_year: price_year?,
        reference: default_reference(),
        engagement: None,
        sampling: sampling?.unwrap_or_default(),
        correlations: Vec::new(),
        actions: Vec::new(),
        overrides: Vec::new(),
        options: Vec::new(),
        factor_groups: Vec::new(),
    })
}

/// `price_year = "YYYY/YY"`: the financial year whose prices factors with a price year are
/// converted to; it must be in the deflator table.
fn read_price_year(r: &mut Reader, t: &mut Table) -> Result<Option<PriceYear>, Reported> {
    let Some((year, span)) = t.parsed(r, "price_year", str::parse::<PriceYear>)? else {
        return Ok(None);
    };
    let deflators = Deflators::embedded();
    if deflators.index(year).is_none() {
        return Err(r.problem(&span, &t.field("price_year"), deflators.missing(year)));
    }
    Ok(Some(year))
}

/// `[[correlations]]`: `between = [path, path]`, `rank_correlation = rho`, `source`. Each path
/// must name an uncertain national factor of the scenario. The valid ones, in file order.
pub(super) fn read_correlations(
    r: &mut Reader,
    value: Value,
    actions: &[Action],
) -> Vec<Correlation> {
    let span = value.span();
    let items = match value.into_inner() {
        DeValue::Array(items) => items,
        other => {
            r.problem(
                &span,
                "correlations",
                format!("expected [[correlations]] tables, found {}", kind(&other)),
            );
            return Vec::new();
        }
    };
    let national: Vec<&Factor> = actions
        .iter()
        .flat_map(Action::all_factors)
        .filter(|f| f.vary == Vary::National && !f.dist.is_fixed())
        .collect();
    let mut out: Vec<Correlation> = Vec::new();
    for (n, item) in items.into_iter().enumerate() {
        let path = format!("correlations[{n}]");
        let line = r.line(&item.span());
        let Ok(mut t) = Table::from_value(r, &path, item, "a table") else {
            continue;
        };
        let between = t.required::<Vec<String>>(r, "between");
        let rho = t.required::<f64>(r, "rank_correlation");
        let source = t.value::<String>(r, "source").or_absent();
        let (between_field, rho_field) = (t.field("between"), t.field("rank_correlation"));
        t.finish(r);
        let (Ok((between, bspan)), Ok((rho, rspan))) = (between, rho) else {
            continue;
        };
        let mut ok = true;
        if !(-1.0..=1.0).contains(&rho) || !rho.is_finite() {
            r.problem(
                &rspan,
                &rho_field,
                format!("{rho} is not a correlation in [-1, 1]"),
            );
            ok = false;
        }
        if between.len() != 2 || between[0] == between[1] {
            r.problem(&bspan, &between_field, "name two different factors, e.g. [\"actions.a.factors.x\", \"actions.b.factors.y\"]");
            continue;
        }
        for p in &between {
            if !national.iter().any(|f| &f.path == p) {
                r.problem(
                    &bspan,
                    &between_field,
                    format!("'{p}' is not an uncertain national factor of this scenario"),
                );
                ok = false;
            }
        }
        let same = |c: &Correlation| {
            (c.a == between[0] && c.b == between[1]) || (c.a == between[1] && c.b == between[0])
        };
        if out.iter().any(same) {
            r.problem(
                &bspan,
                &between_field,
                "this pair already has a correlation",
            );
            ok = false;
        }
        if ok {
            out.push(Correlation {
                a: between[0].clone(),
                b: between[1].clone(),
                rank_correlation: rho,
                source,
                line,
            });
        }
    }
    out
}

pub(super) fn read_reference(r: &mut Reader, value: Value) -> Result<Reference, Reported> {
    let mut t = Table::from_value(r, "reference", value, "a table")?;
    let default = default_reference();
    let per_icb_gbp = match t.get::<f64>(r, "per_icb_gbp").or_absent() {
        Some((v, _)) if v.is_finite() && v > 0.0 => Ok(v),
        Some((v, span)) => Err(r.problem(
            &span,
            "reference.per_icb_gbp",
            format!("must be a positive amount in pounds, found {v}"),
        )),
        None => Ok(default.per_icb_gbp),
    };
    let label = t.value::<String>(r, "label").or_absent();
    let source = t.value::<String>(r, "source").or_absent();
    t.finish(r);
    let per_icb_gbp = per_icb_gbp?;
    // A figure of the user's own without a label is labelled by its value, not by the Pulse text.
    let custom = per_icb_gbp != default.per_icb_gbp;
    Ok(Reference {
        per_icb_gbp,
        label: label.unwrap_or_else(|| {
            if custom {
                format!("{} per ICB", crate::money::gbp(per_icb_gbp))
            } else {
                default.label.clone()
            }
        }),
        source: source.unwrap_or_else(|| {
            if custom {
                String::new()
            } else {
                default.source
            }
        }),
    })
}

/// `[engagement]`.
pub(super) fn read_engagement(r: &mut Reader, value: Value) -> Result<Engagement, Reported> {
    let mut t = Table::from_value(r, "engagement", value, "a table")?;
    let curve = match t.take("curve") {
        None => Err(r.problem(
            &t.span,
            &t.field("curve"),
            "required: national shares by month, e.g. { \"2024-08\" = 0.46, \"2024-11\" = 0.70 }",
        )),
        Some(v) => read_curve(r, &t.field("curve"), v),
    };
    let icb = match t.take("icb") {
        Some(v) => read_factor(r, "engagement.icb", "icb", v, Vary::Icb, true),
        None => Err(r.problem(&t.span, &t.field("icb"), "required: the ICB's engagement relative to the national mean, e.g. { dist = \"pert\", min = 0.5, mode = 1, max = 1.35 }")),
    };
    let additional = t
        .take("additional")
        .map(|v| read_additional(r, v))
        .transpose();
    let source = t.value::<String>(r, "source").or_absent();
    t.finish(r);
    Ok(Engagement {
        curve: curve?,
        icb: icb?,
        additional: additional?,
        source,
    })
}

/// `[engagement] additional`: one national share in [0, 1].
fn read_additional(r: &mut Reader, value: Value) -> Result<Factor, Reported> {
    let path = "engagement.additional";
    let span = value.span();
    let f = read_factor(r, path, "additional", value, Vary::National, true)?;
    let (low, high) = (f.dist.spec().quantile(0.0), f.dist.spec().quantile(1.0));
    if f.vary != Vary::National || f.baseline.is_some() || f.view.is_some() {
        return Err(r.problem(
            &span,
            path,
            "is one national share for every view: it takes no vary, baseline or view",
        ));
    }
    if !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) {
        return Err(r.problem(
            &span,
            path,
            format!(
                "is a share and must lie in [0, 1]; this distribution ranges from {low} to {high}"
            ),
        ));
    }
    Ok(f)
}

/// `month = share` points, sorted by month.
fn read_curve(r: &mut Reader, path: &str, value: Value) -> Result<Vec<(Month, f64)>, Reported> {
    let mut t = Table::from_value(r, path, value, "a table of month = share")?;
    let mut points = Vec::new();
    let mut read = Ok(());
    for (key, key_span, v) in t.drain() {
        let field = join(path, &key);
        let month = key
            .parse::<Month>()
            .map_err(|m| r.problem(&key_span, &field, m));
        let share = r.de::<f64>(&field, v).and_then(|s| {
            if (0.0..=1.0).contains(&s) {
                Ok(s)
            } else {
                Err(r.problem(&key_span, &field, format!("share {s} must lie in [0, 1]")))
            }
        });
        match (month, share) {
            (Ok(m), Ok(s)) => points.push((m, s)),
            (Err(reported), _) | (_, Err(reported)) => read = Err(reported),
        }
    }
    points.sort_by_key(|p| p.0);
    // Good points are still checked for repeats when others failed; emptiness only when none did.
    if read.is_ok() && points.is_empty() {
        read = Err(r.problem(&t.span, path, "needs at least one month = share point"));
    }
    if points.windows(2).any(|w| w[0].0 == w[1].0) {
        read = Err(r.problem(&t.span, path, "a month appears twice"));
    }
    read.map(|()| points)
}
