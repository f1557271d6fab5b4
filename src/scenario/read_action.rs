//! `[actions.<id>]` and their `[[actions.<id>.costs]]` lines: timing (start, end, notice,
//! ramp), engagement, views and the factors each carries.

use toml::de::DeValue;

use super::read_factor::read_factors;
use super::read_scenario::read_month;
use super::reader::{join, kind, Reader, Table, Value};
use super::{Action, CostLine, CostView, Ramp, Timing, MAX_MONTHS};
use crate::month::Month;

pub(super) fn read_actions(
    r: &mut Reader,
    value: Value,
    scenario_start: Option<Month>,
    has_engagement: bool,
) -> Vec<Action> {
    let Some(mut t) = Table::from_value(r, "actions", value, "a table of actions") else {
        return Vec::new();
    };
    let entries = t.drain();
    if entries.is_empty() {
        r.problem(&t.span, "actions", "at least one action is required");
    }
    entries
        .into_iter()
        .filter_map(|(id, _, v)| read_action(r, &id, v, scenario_start, has_engagement))
        .collect()
}

/// `ramp_months = N` or `ramp = { shape = "linear", months = N }` or
/// `ramp = { shape = "exponential", tau_months = T }`: `Ok(None)` when absent.
pub(super) fn read_ramp(r: &mut Reader, t: &mut Table) -> Result<Option<Ramp>, ()> {
    let months_what = format!("a whole number of months from 1 to {MAX_MONTHS}");
    let simple = t.int_in(r, "ramp_months", 1, i64::from(MAX_MONTHS), &months_what)?;
    let Some(value) = t.take("ramp") else {
        return Ok(simple.map(|m| Ramp::Linear { months: m as u32 }));
    };
    let field = t.field("ramp");
    let span = value.span();
    if simple.is_some() {
        r.problem(&span, &field, "give either ramp_months or ramp, not both");
        return Err(());
    }
    let mut rt = Table::from_value(
        r,
        &field,
        value,
        "a table such as { shape = \"exponential\", tau_months = 8 }",
    )
    .ok_or(())?;
    let shape = rt.choice(r, "shape", &["linear", "exponential"]);
    let ramp = match shape {
        Ok(Some(s)) if s == "linear" => {
            match rt.int_in(r, "months", 1, i64::from(MAX_MONTHS), &months_what) {
                Ok(Some(m)) => Ok(Ramp::Linear { months: m as u32 }),
                Ok(None) => {
                    r.problem(&span, &rt.field("months"), "required for a linear ramp");
                    Err(())
                }
                Err(()) => Err(()),
            }
        }
        Ok(Some(_)) => match rt.get::<f64>(r, "tau_months") {
            Some((tau, _)) if tau.is_finite() && tau > 0.0 && tau <= f64::from(MAX_MONTHS) => {
                Ok(Ramp::Exponential { tau_months: tau })
            }
            Some((tau, tspan)) => {
                r.problem(
                    &tspan,
                    &rt.field("tau_months"),
                    format!("must be a number of months above 0, found {tau}"),
                );
                Err(())
            }
            None => {
                r.problem(
                    &span,
                    &rt.field("tau_months"),
                    "required for an exponential ramp",
                );
                Err(())
            }
        },
        Ok(None) => {
            r.problem(
                &span,
                &rt.field("shape"),
                "required: \"linear\" or \"exponential\"",
            );
            Err(())
        }
        Err(()) => Err(()),
    };
    rt.finish(r, &["shape", "months", "tau_months"]);
    ramp.map(Some)
}

pub(super) fn read_action(
    r: &mut Reader,
    id: &str,
    value: Value,
    scenario_start: Option<Month>,
    has_engagement: bool,
) -> Option<Action> {
    let path = join("actions", id);
    let mut t = Table::from_value(r, &path, value, "a table")?;
    let label = t
        .get::<String>(r, "label")
        .map(|(v, _)| v)
        .unwrap_or_else(|| id.to_string());
    let description = t
        .get::<String>(r, "description")
        .map(|(v, _)| v)
        .unwrap_or_default();
    let start = read_month(r, &mut t, "start", false);
    let end = read_month(r, &mut t, "end", false);
    let ramp = read_ramp(r, &mut t);
    let notice = t.int_in(
        r,
        "notice_months",
        0,
        i64::from(MAX_MONTHS),
        &format!("a whole number of months from 0 to {MAX_MONTHS}"),
    );
    let engaged = match t.get::<bool>(r, "engaged") {
        Some((true, span)) if !has_engagement => {
            r.problem(
                &span,
                &t.field("engaged"),
                "there is no [engagement] section to apply",
            );
            None
        }
        Some((v, _)) => Some(v),
        None => Some(has_engagement),
    };
    let factors = match t.take("factors") {
        Some(v) => read_factors(r, &t.field("factors"), v),
        None => Some(Vec::new()),
    };
    let start = match start {
        Ok(Some((m, _))) => Some(m),
        Ok(None) => scenario_start,
        Err(()) => None,
    };
    if let (Some(s), Ok(Some((e, span)))) = (start, &end) {
        if e < &s {
            r.problem(
                span,
                &t.field("end"),
                format!("end {e} is before start {s}"),
            );
        }
    }
    let timing = match (start, end, ramp, notice) {
        (Some(start), Ok(end), Ok(ramp), Ok(notice)) => Some(Timing {
            start,
            end: end.map(|(m, _)| m),
            notice_months: notice.unwrap_or(0) as u32,
            ramp: ramp.unwrap_or(Ramp::Linear { months: 1 }),
        }),
        _ => None,
    };
    let costs = match t.take("costs") {
        Some(v) => read_costs(r, &path, v, timing),
        None => {
            r.problem(
                &t.span,
                &t.field("costs"),
                format!(
                    "at least one [[{}]] cost line is required",
                    t.field("costs")
                ),
            );
            None
        }
    };
    t.finish(
        r,
        &[
            "label",
            "description",
            "start",
            "end",
            "ramp_months",
            "ramp",
            "notice_months",
            "engaged",
            "factors",
            "costs",
        ],
    );
    Some(Action {
        id: id.to_string(),
        label,
        description,
        timing: timing?,
        engaged: engaged?,
        factors: factors?,
        costs: costs?,
    })
}

pub(super) fn read_costs(
    r: &mut Reader,
    action_path: &str,
    value: Value,
    timing: Option<Timing>,
) -> Option<Vec<CostLine>> {
    let span = value.span();
    let field = join(action_path, "costs");
    let items = match value.into_inner() {
        DeValue::Array(items) => items,
        other => {
            r.problem(
                &span,
                &field,
                format!(
                    "expected an array of tables ([[{field}]]), found {}",
                    kind(&other)
                ),
            );
            return None;
        }
    };
    if items.is_empty() {
        r.problem(&span, &field, "at least one cost line is required");
        return None;
    }
    let mut lines = Vec::new();
    let mut ok = true;
    for (n, item) in items.into_iter().enumerate() {
        match read_cost_line(r, &format!("{field}[{n}]"), n, item, timing) {
            Some(line) => lines.push(line),
            None => ok = false,
        }
    }
    ok.then_some(lines)
}

pub(super) fn read_cost_line(
    r: &mut Reader,
    path: &str,
    n: usize,
    value: Value,
    timing: Option<Timing>,
) -> Option<CostLine> {
    let mut t = Table::from_value(r, path, value, "a table")?;
    let label = t
        .get::<String>(r, "label")
        .map(|(v, _)| v)
        .unwrap_or_else(|| format!("cost line {}", n + 1));
    let driver = t
        .get::<String>(r, "driver")
        .map(|(v, span)| (v, r.line(&span)));
    let factors = match t.take("factors") {
        Some(v) => read_factors(r, &t.field("factors"), v),
        None => Some(Vec::new()),
    };
    let _ = t.get::<String>(r, "description");
    let negative = t.get::<bool>(r, "negative").is_some_and(|(v, _)| v);
    let views = match t.get::<Vec<String>>(r, "views") {
        None => Some(vec![CostView::IcbCash, CostView::Economic]),
        Some((names, span)) => {
            let views: Vec<Option<CostView>> = names.iter().map(|v| CostView::parse(v)).collect();
            if names.is_empty() || views.contains(&None) {
                r.problem(&span, &t.field("views"), format!("expected a non-empty list of \"icb_cash\" and \"economic\", found {names:?}"));
                None
            } else {
                Some(views.into_iter().flatten().collect())
            }
        }
    };
    let ramp = read_ramp(r, &mut t);
    let notice = t.int_in(
        r,
        "notice_months",
        0,
        i64::from(MAX_MONTHS),
        &format!("a whole number of months from 0 to {MAX_MONTHS}"),
    );
    t.finish(
        r,
        &[
            "label",
            "description",
            "driver",
            "factors",
            "negative",
            "views",
            "ramp_months",
            "ramp",
            "notice_months",
        ],
    );
    let timing = match (timing, ramp, notice) {
        (Some(t), Ok(ramp), Ok(notice)) => Timing {
            ramp: ramp.unwrap_or(t.ramp),
            notice_months: notice.map_or(t.notice_months, |n| n as u32),
            ..t
        },
        _ => return None,
    };
    Some(CostLine {
        label,
        driver_line: driver.as_ref().map(|d| d.1),
        driver: driver.map(|d| d.0),
        factors: factors?,
        negative,
        views: views?,
        timing,
    })
}
