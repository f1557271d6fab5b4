//! `[actions.<id>]` and their `[[actions.<id>.costs]]` lines: timing (start, end, notice,
//! ramp, recovery), engagement, views and the factors each carries.

use std::ops::Range;

use serde::Deserialize;
use toml::de::DeValue;

use super::read_factor::read_factors;
use super::reader::{join, kind, read_all, OrAbsent, Reader, Reported, Table, Value};
use super::{Action, CostLine, CostView, Factor, LineActivity, Ramp, Recovery, Timing, MAX_MONTHS};
use crate::month::Month;
use crate::names;

/// `[actions]`: the actions read without problems, in file order. `scenario_start` is the
/// start of an action that gives none.
pub(super) fn read_actions(
    r: &mut Reader,
    value: Value,
    scenario_start: Result<Month, Reported>,
    has_engagement: bool,
) -> Vec<Action> {
    let Ok(mut t) = Table::from_value(r, "actions", value, "a table of actions") else {
        return Vec::new();
    };
    let entries = t.drain();
    if entries.is_empty() {
        r.problem(&t.span, "actions", "at least one action is required");
    }
    entries
        .into_iter()
        .filter_map(|(id, _, v)| read_action(r, &id, v, scenario_start, has_engagement).ok())
        .collect()
}

/// The notice, ramp and recovery an action gives, or a cost line gives in place of its
/// action's.
#[derive(Debug, Clone)]
struct Effect {
    notice_months: Option<u32>,
    ramp: Option<Ramp>,
    /// With the span of the `recovery` value, to say when there is no end to recover from.
    recovery: Option<(Recovery, Range<usize>)>,
}

impl Effect {
    /// A problem when a recovery is given but `end` is not: it counts months after the end.
    fn check_recovery(
        &self,
        r: &mut Reader,
        field: &str,
        end: Option<Month>,
    ) -> Result<(), Reported> {
        match (&self.recovery, end) {
            (Some((_, span)), None) => Err(r.problem(
                span,
                field,
                "needs the action's end: a recovery counts months after the end",
            )),
            _ => Ok(()),
        }
    }
}

/// `ramp_months` or `ramp`, then `notice_months`, then `recovery`.
fn read_effect(r: &mut Reader, t: &mut Table) -> Result<Effect, Reported> {
    let ramp = read_ramp(r, t);
    let notice_months = read_months(r, t, "notice_months", 0);
    let recovery = read_recovery(r, t);
    Ok(Effect {
        notice_months: notice_months?,
        ramp: ramp?,
        recovery: recovery?,
    })
}

/// `recovery = { "1" = 0.8, "6" = 0.3, "12" = 0 }` (the share of the effect still present so
/// many months after the end) or `recovery = { half_life_months = 4 }`: `Ok(None)` when absent.
fn read_recovery(
    r: &mut Reader,
    t: &mut Table,
) -> Result<Option<(Recovery, Range<usize>)>, Reported> {
    let Some(value) = t.take("recovery") else {
        return Ok(None);
    };
    let field = t.field("recovery");
    let span = value.span();
    let mut rt = Table::from_value(
        r,
        &field,
        value,
        "a table of months after the end = share still present, such as { \"1\" = 0.8, \"6\" = 0.3, \"12\" = 0 }, or { half_life_months = 4 }",
    )?;
    if let Some(got) = rt.get::<f64>(r, "half_life_months").transpose() {
        let half_life = got.and_then(|(h, hspan)| {
            if h.is_finite() && h > 0.0 && h <= f64::from(MAX_MONTHS) {
                Ok(h)
            } else {
                Err(r.problem(
                    &hspan,
                    &rt.field("half_life_months"),
                    format!("must be a number of months above 0, up to {MAX_MONTHS}, found {h}"),
                ))
            }
        });
        let mut read = half_life.map(|half_life_months| Recovery::HalfLife { half_life_months });
        for (key, key_span, _) in rt.drain() {
            read = Err(r.problem(
                &key_span,
                &join(&field, &key),
                "give either shares by month after the end or half_life_months, not both",
            ));
        }
        return read.map(|recovery| Some((recovery, span)));
    }
    // (months after the end, share, the key's span, its field)
    let mut points: Vec<(u32, f64, Range<usize>, String)> = Vec::new();
    let mut read = Ok(());
    for (key, key_span, v) in rt.drain() {
        let kfield = join(&field, &key);
        let months = match key.parse::<u32>() {
            Ok(k) if (1..=MAX_MONTHS).contains(&k) && key.bytes().all(|b| b.is_ascii_digit()) => Ok(k),
            _ => Err(r.problem(
                &key_span,
                &kfield,
                format!("'{key}' is not a number of months after the end: write a whole number from 1 to {MAX_MONTHS}, e.g. \"6\""),
            )),
        };
        let vspan = v.span();
        let share = r.de::<f64>(&kfield, v).and_then(|s| {
            if (0.0..=1.0).contains(&s) {
                Ok(s)
            } else {
                Err(r.problem(&vspan, &kfield, format!("share {s} must lie in [0, 1]")))
            }
        });
        match (months, share) {
            (Ok(k), Ok(s)) => points.push((k, s, key_span, kfield)),
            (Err(reported), _) | (_, Err(reported)) => read = Err(reported),
        }
    }
    points.sort_by_key(|p| p.0);
    if read.is_ok() && points.is_empty() {
        read = Err(r.problem(
            &span,
            &field,
            "needs at least one point, such as { \"12\" = 0 }, or half_life_months",
        ));
    }
    for w in points.windows(2) {
        let ((k0, v0, _, _), (k1, v1, span1, field1)) = (&w[0], &w[1]);
        if k0 == k1 {
            read = Err(r.problem(span1, field1, format!("month {k1} appears twice")));
        } else if v1 > v0 {
            read = Err(r.problem(
                span1,
                field1,
                format!("share {v1} at month {k1} is more than {v0} at month {k0}: what remains can only fall"),
            ));
        }
    }
    read.map(|()| {
        Some((
            Recovery::Points(points.into_iter().map(|(k, s, _, _)| (k, s)).collect()),
            span,
        ))
    })
}

/// An optional whole number of months from `min` to [`MAX_MONTHS`].
fn read_months(
    r: &mut Reader,
    t: &mut Table,
    key: &str,
    min: u32,
) -> Result<Option<u32>, Reported> {
    let what = format!("a whole number of months from {min} to {MAX_MONTHS}");
    let months = t.int_in(r, key, i64::from(min), i64::from(MAX_MONTHS), &what)?;
    Ok(months.map(|m| m as u32))
}

/// `shape` of a `ramp` table.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Shape {
    Linear,
    Exponential,
}

/// `ramp_months = N` or `ramp = { shape = "linear", months = N }` or
/// `ramp = { shape = "exponential", tau_months = T }`: `Ok(None)` when absent.
fn read_ramp(r: &mut Reader, t: &mut Table) -> Result<Option<Ramp>, Reported> {
    let simple = read_months(r, t, "ramp_months", 1)?;
    let Some(value) = t.take("ramp") else {
        return Ok(simple.map(|months| Ramp::Linear { months }));
    };
    let field = t.field("ramp");
    let span = value.span();
    if simple.is_some() {
        return Err(r.problem(&span, &field, "give either ramp_months or ramp, not both"));
    }
    let mut rt = Table::from_value(
        r,
        &field,
        value,
        "a table such as { shape = \"exponential\", tau_months = 8 }",
    )?;
    let ramp = match rt.choice::<Shape>(r, "shape") {
        Ok(Some(Shape::Linear)) => read_months(r, &mut rt, "months", 1)
            .and_then(|months| {
                months.ok_or_else(|| {
                    r.problem(&span, &rt.field("months"), "required for a linear ramp")
                })
            })
            .map(|months| Ramp::Linear { months }),
        // A tau_months of the wrong type is reported twice: as such, and as missing.
        Ok(Some(Shape::Exponential)) => match rt.get::<f64>(r, "tau_months").or_absent() {
            Some((tau, _)) if tau.is_finite() && tau > 0.0 && tau <= f64::from(MAX_MONTHS) => {
                Ok(Ramp::Exponential { tau_months: tau })
            }
            Some((tau, tspan)) => Err(r.problem(
                &tspan,
                &rt.field("tau_months"),
                format!("must be a number of months above 0, found {tau}"),
            )),
            None => Err(r.problem(
                &span,
                &rt.field("tau_months"),
                "required for an exponential ramp",
            )),
        },
        Ok(None) => Err(r.problem(
            &span,
            &rt.field("shape"),
            format!("required: {}", names::quoted::<Shape>(" or ")),
        )),
        Err(reported) => Err(reported),
    };
    rt.finish(r);
    ramp.map(Some)
}

fn read_action(
    r: &mut Reader,
    id: &str,
    value: Value,
    scenario_start: Result<Month, Reported>,
    has_engagement: bool,
) -> Result<Action, Reported> {
    let path = join("actions", id);
    let mut t = Table::from_value(r, &path, value, "a table")?;
    let label = t
        .value::<String>(r, "label")
        .or_absent()
        .unwrap_or_else(|| id.to_string());
    let description = t
        .value::<String>(r, "description")
        .or_absent()
        .unwrap_or_default();
    let start = t.month(r, "start");
    let end = t.month(r, "end");
    let effect = read_effect(r, &mut t);
    let engaged = match t.get::<bool>(r, "engaged").or_absent() {
        Some((true, span)) if !has_engagement => Err(r.problem(
            &span,
            &t.field("engaged"),
            "there is no [engagement] section to apply",
        )),
        Some((v, _)) => Ok(v),
        None => Ok(has_engagement),
    };
    let factors = match t.take("factors") {
        Some(v) => read_factors(r, &t.field("factors"), v),
        None => Ok(Vec::new()),
    };
    let start = match start {
        Ok(Some((m, _))) => Ok(m),
        Ok(None) => scenario_start,
        Err(reported) => Err(reported),
    };
    if let (Ok(s), Ok(Some((e, span)))) = (start, &end) {
        if e < &s {
            r.problem(
                span,
                &t.field("end"),
                format!("end {e} is before start {s}"),
            );
        }
    }
    let timing = start.and_then(|start| {
        let effect = effect?;
        let end = end?.map(|(m, _)| m);
        effect.check_recovery(r, &t.field("recovery"), end)?;
        Ok(Timing {
            start,
            end,
            notice_months: effect.notice_months.unwrap_or(0),
            ramp: effect.ramp.unwrap_or(Ramp::Linear { months: 1 }),
            recovery: effect.recovery.map(|(recovery, _)| recovery),
        })
    });
    let costs = match t.take("costs") {
        Some(v) => read_costs(r, &path, v, timing.clone()),
        None => Err(r.problem(
            &t.span,
            &t.field("costs"),
            format!(
                "at least one [[{}]] cost line is required",
                t.field("costs")
            ),
        )),
    };
    t.finish(r);
    Ok(Action {
        id: id.to_string(),
        label,
        description,
        timing: timing?,
        engaged: engaged?,
        factors: factors?,
        costs: costs?,
    })
}

/// `[[actions.<id>.costs]]`: every line, or `Reported` if any failed (each is read, so every
/// problem is reported). A line takes the action's `timing`.
pub(super) fn read_costs(
    r: &mut Reader,
    action_path: &str,
    value: Value,
    timing: Result<Timing, Reported>,
) -> Result<Vec<CostLine>, Reported> {
    let span = value.span();
    let field = join(action_path, "costs");
    let items = match value.into_inner() {
        DeValue::Array(items) => items,
        other => {
            return Err(r.problem(
                &span,
                &field,
                format!(
                    "expected an array of tables ([[{field}]]), found {}",
                    kind(&other)
                ),
            ));
        }
    };
    if items.is_empty() {
        return Err(r.problem(&span, &field, "at least one cost line is required"));
    }
    read_all(
        items
            .into_iter()
            .enumerate()
            .map(|(n, item)| read_cost_line(r, &format!("{field}[{n}]"), n, item, timing.clone())),
    )
}

fn read_cost_line(
    r: &mut Reader,
    path: &str,
    n: usize,
    value: Value,
    action_timing: Result<Timing, Reported>,
) -> Result<CostLine, Reported> {
    let mut t = Table::from_value(r, path, value, "a table")?;
    let label = t
        .value::<String>(r, "label")
        .or_absent()
        .unwrap_or_else(|| format!("cost line {}", n + 1));
    let driver = t
        .get::<String>(r, "driver")
        .or_absent()
        .map(|(v, span)| (v, r.line(&span)));
    let factors = match t.take("factors") {
        Some(v) => read_factors(r, &t.field("factors"), v),
        None => Ok(Vec::new()),
    };
    let _ = t.get::<String>(r, "description");
    let negative = t.value::<bool>(r, "negative").or_absent().unwrap_or(false);
    let views = match t.get::<Vec<String>>(r, "views").or_absent() {
        None => Ok(vec![CostView::IcbCash, CostView::Economic]),
        Some((given, span)) => {
            let views: Vec<Option<CostView>> = given.iter().map(|v| names::from_name(v)).collect();
            if given.is_empty() || views.contains(&None) {
                Err(r.problem(
                    &span,
                    &t.field("views"),
                    format!(
                        "expected a non-empty list of {}, found {given:?}",
                        names::quoted::<CostView>(" and ")
                    ),
                ))
            } else {
                Ok(views.into_iter().flatten().collect())
            }
        }
    };
    let effect = read_effect(r, &mut t);
    let recovery_field = t.field("recovery");
    let activity = read_line_activity(r, &mut t, factors.as_ref().ok());
    t.finish(r);
    let action_timing = action_timing?;
    let effect = effect?;
    effect.check_recovery(r, &recovery_field, action_timing.end)?;
    Ok(CostLine {
        label,
        driver_line: driver.as_ref().map(|d| d.1),
        driver: driver.map(|d| d.0),
        factors: factors?,
        negative,
        views: views?,
        activity: activity?,
        timing: Timing {
            ramp: effect.ramp.unwrap_or(action_timing.ramp),
            notice_months: effect.notice_months.unwrap_or(action_timing.notice_months),
            recovery: effect
                .recovery
                .map(|(recovery, _)| recovery)
                .or(action_timing.recovery),
            ..action_timing
        },
    })
}

/// A cost line's `activity` (a name of [`crate::activities::VOCABULARY`]) and `unit_cost` (the
/// name of one of the line's own `factors`, which prices one unit of it). `factors` is `None`
/// when the line's factors were reported, and then a `unit_cost` is not checked against them.
fn read_line_activity(
    r: &mut Reader,
    t: &mut Table,
    factors: Option<&Vec<Factor>>,
) -> Result<Option<LineActivity>, Reported> {
    let name = t.get::<String>(r, "activity").or_absent();
    let unit_cost = t.get::<String>(r, "unit_cost").or_absent();
    let name = match name {
        None => None,
        Some((name, span)) => match crate::activities::find(&name) {
            Some(_) => Some(name),
            None => {
                return Err(r.problem(
                    &span,
                    &t.field("activity"),
                    format!(
                        "unknown activity '{name}'; expected one of: {}",
                        crate::activities::names()
                    ),
                ));
            }
        },
    };
    let unit_cost = match unit_cost {
        None => None,
        Some((price, span)) => {
            if name.is_none() {
                return Err(r.problem(
                    &span,
                    &t.field("unit_cost"),
                    "unit_cost names the factor that prices the line's activity: give the activity too (activity = \"...\")",
                ));
            }
            if let Some(factors) = factors {
                if !factors.iter().any(|f| f.name == price) {
                    let own: Vec<&str> = factors.iter().map(|f| f.name.as_str()).collect();
                    return Err(r.problem(
                        &span,
                        &t.field("unit_cost"),
                        format!(
                            "'{price}' is not one of this line's factors ({}); unit_cost names the line's own factor that prices one unit of its activity",
                            if own.is_empty() { "it has none".to_string() } else { own.join(", ") }
                        ),
                    ));
                }
            }
            Some(price)
        }
    };
    Ok(name.map(|name| LineActivity { name, unit_cost }))
}
