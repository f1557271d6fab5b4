//! Factors: a bare number or a distribution table with its `vary`, `view`, `baseline`,
//! `region_correlation` and `participation`, validated into a [`Dist`].

use std::ops::Range;

use toml::de::DeValue;

use super::reader::{join, kind, Reader, Table, Value};
use super::{Baseline, CostView, Factor, Vary};
use crate::dist::{Dist, Spec, NAMES};
use crate::rng;

pub(super) fn read_factors(r: &mut Reader, path: &str, value: Value) -> Option<Vec<Factor>> {
    let mut t = Table::from_value(r, path, value, "a table of factors")?;
    let mut out = Vec::new();
    let mut ok = true;
    for (name, _, v) in t.drain() {
        match read_factor(r, &join(path, &name), &name, v, Vary::National, true) {
            Some(f) => out.push(f),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// A DIST: a bare number (known value) or `{ dist = "...", <parameters>, vary, source,
/// assumption, view, baseline }`. A baseline (`full = false`) takes only `dist`, its
/// parameters, `source` and `assumption`.
pub(super) fn read_factor(
    r: &mut Reader,
    path: &str,
    name: &str,
    value: Value,
    default_vary: Vary,
    full: bool,
) -> Option<Factor> {
    let span = value.span();
    let line = r.line(&span);
    let make = |dist, vary, source, assumption, view, baseline, region_correlation| Factor {
        name: name.to_string(),
        path: path.to_string(),
        dist,
        vary,
        source,
        assumption,
        participation: false,
        view,
        baseline,
        region_correlation,
        stream: rng::key(path),
        line,
    };
    match value.get_ref() {
        DeValue::Integer(_) | DeValue::Float(_) => {
            let v: f64 = r.de(path, value)?;
            let dist = build_dist(r, &span, path, Spec::Fixed { value: v })?;
            return Some(make(dist, default_vary, None, false, None, None, 0.0));
        }
        DeValue::Table(_) => {}
        other => {
            r.problem(
                &span,
                path,
                format!(
                    "expected a number or a distribution such as {{ dist = \"pert\", min = 0.2, mode = 0.35, max = 0.65 }}, found {}",
                    kind(other)
                ),
            );
            return None;
        }
    }
    let mut t = Table::from_value(r, path, value, "a table")?;
    let dist_name = t.required::<String>(r, "dist");
    let source = t.get::<String>(r, "source").map(|(v, _)| v);
    let assumption = t.get::<bool>(r, "assumption").is_some_and(|(v, _)| v);
    let mut common = vec!["dist", "source", "assumption"];
    let mut participation = false;
    let (vary, view, baseline, region) = if full {
        common.extend([
            "vary",
            "view",
            "baseline",
            "region_correlation",
            "participation",
        ]);
        if let Some((flag, span)) = t.get::<bool>(r, "participation") {
            // Only an action's own factors: every cost line of the action shares its share of
            // practices taking part.
            let own = path.starts_with("actions.")
                && path.contains(".factors.")
                && !path.contains(".costs[");
            if flag && !own {
                r.problem(
                    &span,
                    &t.field("participation"),
                    "only an action's own factors ([actions.<id>.factors]) can be the share of practices taking part",
                );
            }
            participation = flag && own;
        }
        let vary = t
            .choice(r, "vary", &["national", "icb"])
            .map(|v| match v.as_deref() {
                Some("icb") => Vary::Icb,
                Some(_) => Vary::National,
                None => default_vary,
            });
        let view = t
            .choice(r, "view", &CostView::NAMES)
            .map(|v| v.as_deref().and_then(CostView::parse));
        let baseline = match t.take("baseline") {
            None => Ok(None),
            Some(v) => {
                let bpath = join(path, "baseline");
                read_factor(r, &bpath, "baseline", v, default_vary, false)
                    .map(|b| {
                        Some(Baseline {
                            dist: b.dist,
                            stream: b.stream,
                        })
                    })
                    .ok_or(())
            }
        };
        let region = match t.get::<f64>(r, "region_correlation") {
            None => Ok(0.0),
            Some((rho, span)) if !(0.0..1.0).contains(&rho) => {
                r.problem(
                    &span,
                    &t.field("region_correlation"),
                    format!("must lie in [0, 1), found {rho}"),
                );
                Err(())
            }
            Some((rho, span)) if rho > 0.0 && vary != Ok(Vary::Icb) => {
                r.problem(
                    &span,
                    &t.field("region_correlation"),
                    "applies only to a factor with vary = \"icb\"",
                );
                Err(())
            }
            Some((rho, _)) => Ok(rho),
        };
        (vary, view, baseline, region)
    } else {
        (Ok(default_vary), Ok(None), Ok(None), Ok(0.0))
    };
    let Some((dist_name, dist_span)) = dist_name else {
        t.drain();
        return None;
    };
    let Some(params) = Spec::parameters(&dist_name) else {
        r.problem(
            &dist_span,
            &t.field("dist"),
            format!(
                "unknown dist '{dist_name}'; expected one of: {}",
                NAMES.join(", ")
            ),
        );
        t.drain();
        return None;
    };
    let values: Vec<Option<f64>> = params
        .iter()
        .map(|p| {
            t.required::<f64>(r, p).and_then(|(v, span)| {
                if v.is_finite() {
                    Some(v)
                } else {
                    r.problem(
                        &span,
                        &t.field(p),
                        format!("must be a finite number, found {v}"),
                    );
                    None
                }
            })
        })
        .collect();
    let allowed: Vec<&str> = common.iter().chain(params.iter()).copied().collect();
    t.finish(r, &allowed);
    let values: Vec<f64> = values.into_iter().collect::<Option<_>>()?;
    let spec = Spec::from_parts(&dist_name, &values).expect("parameters match the dist");
    let dist = build_dist(r, &span, path, spec)?;
    Some(Factor {
        participation,
        ..make(
            dist,
            vary.ok()?,
            source,
            assumption,
            view.ok()?,
            baseline.ok()?,
            region.ok()?,
        )
    })
}

pub(super) fn build_dist(
    r: &mut Reader,
    span: &Range<usize>,
    path: &str,
    spec: Spec,
) -> Option<Dist> {
    match Dist::new(spec) {
        Ok(d) => Some(d),
        Err(problems) => {
            for p in problems {
                r.problem(span, path, p);
            }
            None
        }
    }
}
