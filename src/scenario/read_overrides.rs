//! `[[overrides]]`: an ICB's own value of a factor, and the command line's `--set` entries put
//! in place after them. The ICB code is checked against the ICB table when the model is
//! compiled; everything else here.

use toml::de::DeValue;

use super::read_factor::read_factor;
use super::reader::{kind, OrAbsent, Reader, Table, Value};
use super::{Assignment, Override, Vary};
use crate::dist::{Dist, Spec};
use crate::error::Problem;

/// Every valid override of the file, in file order, then `set` (each in place of a file entry
/// for the same ICB and factor, if there is one, so that an entry's index stays its index in
/// the file). `paths` are the scenario's factors. Problems: a factor the scenario does not have, a bad
/// distribution, an ICB and factor given twice.
pub(super) fn read_overrides(
    r: &mut Reader,
    value: Option<Value>,
    paths: &[&str],
    set: &[Assignment],
) -> Vec<Override> {
    let unknown = |factor: &str| {
        format!(
            "'{factor}' is not a factor of this scenario; name one as actions.<id>.factors.<name>, actions.<id>.costs[<n>].factors.<name> or engagement.<name> (`validate` lists them)"
        )
    };
    let mut out: Vec<Override> = Vec::new();
    let items = match value.map(|v| (v.span(), v.into_inner())) {
        None => Vec::new(),
        Some((_, DeValue::Array(items))) => items.into_iter().collect(),
        Some((span, other)) => {
            r.problem(
                &span,
                "overrides",
                format!("expected [[overrides]] tables, found {}", kind(&other)),
            );
            Vec::new()
        }
    };
    for (n, item) in items.into_iter().enumerate() {
        let path = format!("overrides[{n}]");
        let Ok(mut t) = Table::from_value(r, &path, item, "a table") else {
            continue;
        };
        let icb = t.required::<String>(r, "icb");
        let factor = t.required::<String>(r, "factor");
        let dist = match t.take("value") {
            Some(v) => read_factor(r, &t.field("value"), "value", v, Vary::National, false)
                .map(|f| (f.dist, f.source)),
            None => Err(r.problem(&t.span, &t.field("value"), "required: a number or a distribution such as { dist = \"pert\", min = 0.5, mode = 0.65, max = 0.8 }")),
        };
        let source = t.value::<String>(r, "source").or_absent();
        let factor_field = t.field("factor");
        t.finish(r);
        let factor = factor.and_then(|(factor, span)| {
            if paths.contains(&factor.as_str()) {
                Ok(factor)
            } else {
                Err(r.problem(&span, &factor_field, unknown(&factor)))
            }
        });
        let (Ok((icb, icb_span)), Ok(factor), Ok((dist, own_source))) = (icb, factor, dist) else {
            continue;
        };
        // The entry's line is its ICB's: an unknown ICB is reported there.
        let line = r.line(&icb_span);
        if out
            .iter()
            .any(|o| o.icb.eq_ignore_ascii_case(&icb) && o.factor == factor)
        {
            r.problems.push(Problem::new(
                Some(line),
                path,
                format!("{icb} already has its own value of {factor}"),
            ));
            continue;
        }
        out.push(Override {
            icb,
            factor,
            dist,
            source: source.or(own_source),
            line: Some(line),
        });
    }
    let mut given: Vec<&Assignment> = Vec::new();
    for a in set {
        let mut problems = Vec::new();
        if !paths.contains(&a.factor.as_str()) {
            problems.push(unknown(&a.factor));
        }
        if given
            .iter()
            .any(|g| g.icb.eq_ignore_ascii_case(&a.icb) && g.factor == a.factor)
        {
            problems.push(format!("{}:{} is set twice", a.icb, a.factor));
        }
        given.push(a);
        if !problems.is_empty() {
            r.problems
                .extend(problems.into_iter().map(|p| Problem::new(None, "--set", p)));
            continue;
        }
        let set = Override {
            icb: a.icb.clone(),
            factor: a.factor.clone(),
            dist: Dist::new(Spec::Fixed { value: a.value }).expect("a finite value"),
            source: Some(format!("--set {a}")),
            line: None,
        };
        // In place of the entry it replaces, so the file's entries keep their indices.
        match out
            .iter_mut()
            .find(|o| o.icb.eq_ignore_ascii_case(&a.icb) && o.factor == a.factor)
        {
            Some(entry) => *entry = set,
            None => out.push(set),
        }
    }
    out
}
