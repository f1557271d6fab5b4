//! Factors: a bare number or a distribution table with its `vary`, `view`, `baseline`,
//! `region_correlation` and `participation`, validated into a [`Dist`].

use std::ops::Range;

use toml::de::DeValue;

use super::reader::{join, kind, read_all, OrAbsent, Reader, Reported, Table, Value};
use super::{Baseline, CostView, Factor, Uprating, Vary};
use crate::dist::{self, Dist, Spec};
use crate::price::{Deflators, PriceYear};
use crate::rng;

/// A table of factors: every factor, or `Reported` if any failed (each is read, so every
/// problem is reported).
pub(super) fn read_factors(
    r: &mut Reader,
    path: &str,
    value: Value,
) -> Result<Vec<Factor>, Reported> {
    let mut t = Table::from_value(r, path, value, "a table of factors")?;
    read_all(
        t.drain()
            .into_iter()
            .map(|(name, _, v)| read_factor(r, &join(path, &name), &name, v, Vary::National, true)),
    )
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
) -> Result<Factor, Reported> {
    let span = value.span();
    let line = r.line(&span);
    let DistTable {
        dist,
        role,
        source,
        assumption,
        price,
    } = match value.get_ref() {
        DeValue::Integer(_) | DeValue::Float(_) => {
            let v: f64 = r.de(path, value)?;
            DistTable {
                dist: build_dist(r, &span, path, Spec::Fixed { value: v })?,
                role: Role::plain(default_vary),
                source: None,
                assumption: false,
                price: None,
            }
        }
        DeValue::Table(_) => read_dist_table(r, path, value, default_vary, full)?,
        other => {
            return Err(r.problem(
                &span,
                path,
                format!(
                    "expected a number or a distribution such as {{ dist = \"pert\", min = 0.2, mode = 0.35, max = 0.65 }}, found {}",
                    kind(other)
                ),
            ));
        }
    };
    Ok(Factor {
        name: name.to_string(),
        path: path.to_string(),
        dist,
        vary: role.vary,
        source,
        assumption,
        participation: role.participation,
        view: role.view,
        baseline: role.baseline,
        region_correlation: role.region_correlation,
        stream: rng::key(path),
        line,
        price,
    })
}

/// What a factor's value or table says.
struct DistTable {
    dist: Dist,
    role: Role,
    source: Option<String>,
    assumption: bool,
    price: Option<Uprating>,
}

/// What a factor table says besides its distribution, its source and whether it is an
/// assumption. A baseline says none of it.
struct Role {
    vary: Vary,
    view: Option<CostView>,
    baseline: Option<Baseline>,
    region_correlation: f64,
    participation: bool,
}

impl Role {
    /// A bare number's or a baseline's.
    fn plain(vary: Vary) -> Role {
        Role {
            vary,
            view: None,
            baseline: None,
            region_correlation: 0.0,
            participation: false,
        }
    }
}

/// `{ dist = "...", <parameters>, source, assumption, ... }`: the distribution, the factor's
/// role (`full`) or the plain one, its source, whether it is an assumption and (`full`) its
/// price years, the distribution converted to the scenario's.
fn read_dist_table(
    r: &mut Reader,
    path: &str,
    value: Value,
    default_vary: Vary,
    full: bool,
) -> Result<DistTable, Reported> {
    let span = value.span();
    let mut t = Table::from_value(r, path, value, "a table")?;
    let dist_name = t.required::<String>(r, "dist");
    let source = t.value::<String>(r, "source").or_absent();
    let assumption = t
        .value::<bool>(r, "assumption")
        .or_absent()
        .unwrap_or(false);
    let price_field = t.field("price_year");
    let price_value = if full { t.take("price_year") } else { None };
    let role = if full {
        read_role(r, &mut t, path, default_vary)
    } else {
        Ok(Role::plain(default_vary))
    };
    let (dist_name, dist_span) = match dist_name {
        Ok(named) => named,
        Err(reported) => {
            t.drain();
            return Err(reported);
        }
    };
    let Some(params) = Spec::parameters(&dist_name) else {
        let reported = r.problem(
            &dist_span,
            &t.field("dist"),
            format!(
                "unknown dist '{dist_name}'; expected one of: {}",
                dist::names().join(", ")
            ),
        );
        t.drain();
        return Err(reported);
    };
    let values: Vec<Result<f64, Reported>> = params
        .iter()
        .map(|p| {
            t.required::<f64>(r, p).and_then(|(v, span)| {
                if v.is_finite() {
                    Ok(v)
                } else {
                    Err(r.problem(
                        &span,
                        &t.field(p),
                        format!("must be a finite number, found {v}"),
                    ))
                }
            })
        })
        .collect();
    t.finish(r);
    let years = price_value
        .map(|v| read_price_years(r, &price_field, v, &dist_name, params))
        .transpose();
    let values = values.into_iter().collect::<Result<Vec<f64>, _>>()?;
    let spec = Spec::from_parts(&dist_name, &values).expect("parameters match the dist");
    // The distribution is checked even when the role failed, so both sets of problems show.
    let written = build_dist(r, &span, path, spec);
    let (dist, price) = match years? {
        None => (written?, None),
        Some(PriceYears { years, to, span }) => {
            written?;
            convert(r, &span, &price_field, spec, years, to)?
        }
    };
    Ok(DistTable {
        dist,
        role: role?,
        source,
        assumption,
        price,
    })
}

/// `price_year = "YYYY/YY"` or `{ <parameter> = "YYYY/YY", ... }` with every parameter of the
/// dist: each parameter's year, the scenario's price year and the span to report at.
fn read_price_years(
    r: &mut Reader,
    field: &str,
    value: Value,
    dist_name: &str,
    params: &[&'static str],
) -> Result<PriceYears, Reported> {
    let span = value.span();
    let years: Result<Vec<(&'static str, PriceYear)>, Reported> = match value.get_ref() {
        DeValue::String(_) => {
            let year = year_at(r, field, value);
            year.map(|y| params.iter().map(|p| (*p, y)).collect())
        }
        DeValue::Table(_) => {
            let mut t = Table::from_value(r, field, value, "a table")?;
            let each: Vec<Result<(&'static str, PriceYear), Reported>> = params
                .iter()
                .map(|p| match t.take(p) {
                    Some(v) => year_at(r, &join(field, p), v).map(|y| (*p, y)),
                    None => Err(r.problem(
                        &span,
                        &join(field, p),
                        format!(
                            "required: a price year for each parameter of the {dist_name} ({})",
                            params.join(", ")
                        ),
                    )),
                })
                .collect();
            t.finish(r);
            read_all(each)
        }
        other => {
            return Err(r.problem(
                &span,
                field,
                format!(
                    "expected a financial year such as \"2016/17\", or one for each parameter such as {{ min = \"2016/17\", mode = \"2024/25\", max = \"2022/23\" }}, found {}",
                    kind(other)
                ),
            ));
        }
    };
    if !Spec::scales(dist_name) {
        return Err(r.problem(
            &span,
            field,
            format!("a {dist_name} is not a money amount, so it has no price year; price years apply to fixed, uniform, triangular, pert, normal and lognormal values"),
        ));
    }
    let to = match r.price_year {
        Some(Ok(to)) => to,
        Some(Err(reported)) => return Err(reported),
        None => {
            return Err(r.problem(
                &span,
                field,
                "the scenario has no price year to convert to: add price_year = \"2024/25\" (the year whose prices the results are in) to [scenario]",
            ));
        }
    };
    Ok(PriceYears {
        years: years?,
        to,
        span,
    })
}

/// A factor's price years as read: each parameter's, the scenario's, where they were given.
struct PriceYears {
    years: Vec<(&'static str, PriceYear)>,
    to: PriceYear,
    span: Range<usize>,
}

/// One price year, which must be in the deflator table.
fn year_at(r: &mut Reader, field: &str, value: Value) -> Result<PriceYear, Reported> {
    let at = value.span();
    let text: String = r.de(field, value)?;
    let year = text
        .parse::<PriceYear>()
        .map_err(|m| r.problem(&at, field, m))?;
    let deflators = Deflators::embedded();
    match deflators.index(year) {
        Some(_) => Ok(year),
        None => Err(r.problem(&at, field, deflators.missing(year))),
    }
}

/// The distribution `written` with each parameter converted from its price year to `to`; a
/// problem when the conversion puts the parameters out of order.
fn convert(
    r: &mut Reader,
    span: &Range<usize>,
    field: &str,
    written: Spec,
    years: Vec<(&'static str, PriceYear)>,
    to: PriceYear,
) -> Result<(Dist, Option<Uprating>), Reported> {
    let deflators = Deflators::embedded();
    let converted: Vec<f64> = written
        .values()
        .iter()
        .zip(&years)
        .map(|((_, v), (_, year))| {
            deflators
                .convert(*v, *year, to)
                .expect("price years are checked against the table")
        })
        .collect();
    let spec = Spec::from_parts(written.name(), &converted).expect("parameters match the dist");
    let dist = Dist::new(spec).map_err(|_| {
        let shown: Vec<String> = spec
            .values()
            .iter()
            .map(|(p, v)| format!("{p} {}", (v * 100.0).round() / 100.0))
            .collect();
        r.problem(
            span,
            field,
            format!(
                "converted to {to} prices the parameters are out of order ({}); check each parameter's price year",
                shown.join(", ")
            ),
        )
    })?;
    Ok((dist, Some(Uprating { written, years, to })))
}

/// `participation`, `vary`, `view`, `baseline` and `region_correlation`.
fn read_role(
    r: &mut Reader,
    t: &mut Table,
    path: &str,
    default_vary: Vary,
) -> Result<Role, Reported> {
    let participation = match t.get::<bool>(r, "participation").or_absent() {
        Some((flag, span)) => {
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
            flag && own
        }
        None => false,
    };
    let vary = t
        .choice::<Vary>(r, "vary")
        .map(|v| v.unwrap_or(default_vary));
    let view = t.choice::<CostView>(r, "view");
    let baseline = t
        .take("baseline")
        .map(|v| {
            let b = read_factor(
                r,
                &join(path, "baseline"),
                "baseline",
                v,
                default_vary,
                false,
            )?;
            Ok(Baseline {
                dist: b.dist,
                stream: b.stream,
            })
        })
        .transpose();
    let region_correlation = match t.get::<f64>(r, "region_correlation").or_absent() {
        None => Ok(0.0),
        Some((rho, span)) if !(0.0..1.0).contains(&rho) => Err(r.problem(
            &span,
            &t.field("region_correlation"),
            format!("must lie in [0, 1), found {rho}"),
        )),
        Some((rho, span)) if rho > 0.0 && vary != Ok(Vary::Icb) => Err(r.problem(
            &span,
            &t.field("region_correlation"),
            "applies only to a factor with vary = \"icb\"",
        )),
        Some((rho, _)) => Ok(rho),
    };
    Ok(Role {
        participation,
        vary: vary?,
        view: view?,
        baseline: baseline?,
        region_correlation: region_correlation?,
    })
}

/// The distribution of `spec`, or its problems reported at `span`.
fn build_dist(
    r: &mut Reader,
    span: &Range<usize>,
    path: &str,
    spec: Spec,
) -> Result<Dist, Reported> {
    Dist::new(spec).map_err(|problems| {
        let mut reported = None;
        for p in problems {
            reported = Some(r.problem(span, path, p));
        }
        reported.expect("a rejected spec names its problems")
    })
}
