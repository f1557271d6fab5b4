//! `[[options]]`: what an ICB can do about the action (fund a local enhanced service, pay for
//! Advice & Guidance, commission a service), each as factor values it sets and cost lines it
//! adds; and `[[factor_groups]]`, the sets of factors whose value of information is reported
//! together.

use toml::de::DeValue;

use super::read_action::read_costs;
use super::read_factor::read_factor;
use super::reader::{join, kind, OrAbsent, Reader, Reported, Table, Value};
use super::{DecisionOption, Factor, FactorGroup, OptionSet, Ramp, Timing, Vary, NO_OPTION};
use crate::month::Month;

/// The items of an array of tables (`[[key]]`), or a problem when the key holds anything else.
fn tables<'i>(r: &mut Reader, key: &str, value: Option<Value<'i>>) -> Vec<Value<'i>> {
    match value.map(|v| (v.span(), v.into_inner())) {
        None => Vec::new(),
        Some((_, DeValue::Array(items))) => items.into_iter().collect(),
        Some((span, other)) => {
            r.problem(
                &span,
                key,
                format!("expected [[{key}]] tables, found {}", kind(&other)),
            );
            Vec::new()
        }
    }
}

/// Whether `id` is a word of lower-case letters, digits and underscores, starting with a letter.
fn is_word(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Every valid option of the file, in file order. `paths` are the scenario's factors (those a
/// `set` may name); `start` is the scenario's first month, from which an option's cost lines
/// run to the end of the horizon (each may give its own notice and ramp). Problems: an id that
/// is missing, not a word, `none` or given twice; a `set` path the scenario does not have or a
/// bad value; bad cost lines; unknown keys.
pub(super) fn read_options(
    r: &mut Reader,
    value: Option<Value>,
    paths: &[&str],
    start: Result<Month, Reported>,
) -> Vec<DecisionOption> {
    let mut out: Vec<DecisionOption> = Vec::new();
    for (n, item) in tables(r, "options", value).into_iter().enumerate() {
        let at = format!("options[{n}]");
        let line = r.line(&item.span());
        let Ok(mut t) = Table::from_value(r, &at, item, "a table") else {
            continue;
        };
        let id = t.required::<String>(r, "id").and_then(|(id, span)| {
            let field = t.field("id");
            if id == NO_OPTION {
                Err(r.problem(&span, &field, format!("'{NO_OPTION}' is the scenario as it stands, compared with every option: give this option another id")))
            } else if !is_word(&id) {
                Err(r.problem(&span, &field, format!("'{id}' is not an id: use lower-case letters, digits and underscores, starting with a letter (e.g. keep_software_les)")))
            } else if out.iter().any(|o| o.id == id) {
                Err(r.problem(&span, &field, format!("option '{id}' is given twice")))
            } else {
                Ok(id)
            }
        });
        // Cost lines and their factors are named by the option's id, so that their draws do
        // not depend on the options' order.
        let path = id.as_ref().map_or(at.clone(), |id| join("options", id));
        let label = t.value::<String>(r, "label").or_absent();
        let source = t.value::<String>(r, "source").or_absent();
        let icb = t.value::<String>(r, "icb").or_absent();
        let set = match t.take("set") {
            Some(v) => read_set(r, &t.field("set"), v, paths),
            None => Ok(Vec::new()),
        };
        let timing = start.map(|start| Timing {
            start,
            end: None,
            notice_months: 0,
            ramp: Ramp::Linear { months: 1 },
            recovery: None,
        });
        let costs = match t.take("costs") {
            Some(v) => read_costs(r, &path, v, timing),
            None => Ok(Vec::new()),
        };
        let span = t.span.clone();
        t.finish(r);
        let (Ok(id), Ok(set), Ok(costs)) = (id, set, costs) else {
            continue;
        };
        if set.is_empty() && costs.is_empty() {
            r.problem(
                &span,
                &at,
                format!("option '{id}' neither sets a factor nor adds a cost line: give it set = {{ \"<factor path>\" = value }} or [[options.costs]]"),
            );
            continue;
        }
        out.push(DecisionOption {
            label: label.unwrap_or_else(|| id.clone()),
            id,
            icb,
            set,
            costs,
            source,
            line,
        });
    }
    out
}

/// `set = { "<factor path>" = value or DIST, ... }`: each path a factor of the scenario.
fn read_set(
    r: &mut Reader,
    field: &str,
    value: Value,
    paths: &[&str],
) -> Result<Vec<OptionSet>, Reported> {
    let mut t = Table::from_value(
        r,
        field,
        value,
        "a table of factor path = value, e.g. { \"actions.cap.factors.uptake\" = 0.05 }",
    )?;
    let mut out = Vec::new();
    let mut read = Ok(());
    for (path, key_span, v) in t.drain() {
        let at = join(field, &format!("\"{path}\""));
        if !paths.contains(&path.as_str()) {
            read = Err(r.problem(
                &key_span,
                &at,
                format!("'{path}' is not a factor of this scenario; name one as actions.<id>.factors.<name>, actions.<id>.costs[<n>].factors.<name> or engagement.<name> (`validate` lists them)"),
            ));
            continue;
        }
        match read_factor(r, &at, &path, v, Vary::National, false) {
            Ok(f) => out.push(OptionSet {
                factor: path,
                dist: f.dist,
                source: f.source,
            }),
            Err(reported) => read = Err(reported),
        }
    }
    read.map(|()| out)
}

/// `[[factor_groups]]`: `id`, `label`, `factors = [path, ...]` (two or more uncertain national
/// factors of the scenario or of its options' cost lines, `national` being every factor not
/// marked `vary = "icb"`).
pub(super) fn read_factor_groups(
    r: &mut Reader,
    value: Option<Value>,
    national: &[&Factor],
) -> Vec<FactorGroup> {
    let mut out: Vec<FactorGroup> = Vec::new();
    for (n, item) in tables(r, "factor_groups", value).into_iter().enumerate() {
        let at = format!("factor_groups[{n}]");
        let line = r.line(&item.span());
        let Ok(mut t) = Table::from_value(r, &at, item, "a table") else {
            continue;
        };
        let id = t.required::<String>(r, "id").and_then(|(id, span)| {
            let field = t.field("id");
            if !is_word(&id) {
                Err(r.problem(&span, &field, format!("'{id}' is not an id: use lower-case letters, digits and underscores, starting with a letter")))
            } else if out.iter().any(|g| g.id == id) {
                Err(r.problem(&span, &field, format!("factor group '{id}' is given twice")))
            } else {
                Ok(id)
            }
        });
        let label = t.value::<String>(r, "label").or_absent();
        let factors = t.required::<Vec<String>>(r, "factors");
        let field = t.field("factors");
        t.finish(r);
        let factors = factors.and_then(|(factors, span)| {
            let mut read = Ok(());
            for (k, p) in factors.iter().enumerate() {
                let uncertain = national
                    .iter()
                    .any(|f| &f.path == p && f.vary == Vary::National && !f.dist.is_fixed());
                if !uncertain {
                    read = Err(r.problem(&span, &field, format!("'{p}' is not an uncertain national factor of this scenario or of its options")));
                } else if factors[..k].contains(p) {
                    read = Err(r.problem(&span, &field, format!("'{p}' is named twice")));
                }
            }
            if read.is_ok() && factors.len() < 2 {
                read = Err(r.problem(&span, &field, "a group names two or more factors (each factor's value of information is reported on its own)"));
            }
            read.map(|()| factors)
        });
        let (Ok(id), Ok(factors)) = (id, factors) else {
            continue;
        };
        out.push(FactorGroup {
            label: label.unwrap_or_else(|| id.clone()),
            id,
            factors,
            line,
        });
    }
    out
}
