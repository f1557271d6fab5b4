//! Scenario files: TOML read into a validated [`Scenario`] whose invariants hold (months
//! parse, distributions are valid, at least one action with one cost line). Every problem in a
//! file is reported at once, each with its line and field. Code after this point never
//! re-checks the scenario.

mod reader;

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::dist::{Dist, Spec, NAMES};
use crate::error::{Error, FileProblems, Problem};
use crate::month::Month;
use crate::rng;
use reader::{join, kind, Reader, Table, Value};

/// Iterations when a scenario gives none.
pub const DEFAULT_ITERATIONS: u64 = 10_000;
/// Seed when a scenario gives none: the day collective action began (1 August 2024).
pub const DEFAULT_SEED: u64 = 20_240_801;
/// Upper bound on the horizon: 50 years.
pub const MAX_MONTHS: u32 = 600;

/// The public anchor every result is compared with when a scenario names no other.
pub fn default_reference() -> Reference {
    Reference {
        per_icb_gbp: 2_000_000.0,
        label: "Pulse FOI, Feb 2025: ICBs expected about £2m each".to_string(),
        source: "Pulse, 'ICBs estimate average £2m cost of GP collective action' (FOI to all 42 ICBs), \
                 https://pulsetoday.co.uk/news/politics/icbs-estimate-average-2m-cost-of-gp-collective-action; \
                 Healthcare Leader, 11 Feb 2025"
            .to_string(),
    }
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// First simulated month.
    pub start: Month,
    /// Horizon in months (≥ 1).
    pub months: u32,
    pub iterations: u64,
    pub seed: u64,
    /// ICB table named by the scenario, resolved against the scenario's folder.
    pub data: Option<PathBuf>,
    pub reference: Reference,
    /// In file order.
    pub actions: Vec<Action>,
}

/// The figure results are set against.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub per_icb_gbp: f64,
    pub label: String,
    pub source: String,
}

/// One collective action and the costs it causes.
#[derive(Debug, Clone)]
pub struct Action {
    pub id: String,
    pub label: String,
    pub description: String,
    /// First active month.
    pub start: Month,
    /// Last active month, inclusive; `None` runs to the end of the horizon.
    pub end: Option<Month>,
    /// Months to reach full effect (≥ 1).
    pub ramp_months: u32,
    /// Factors shared by every cost line of the action.
    pub factors: Vec<Factor>,
    pub costs: Vec<CostLine>,
}

/// `driver × factors × time weight / 12`, summed over months.
#[derive(Debug, Clone)]
pub struct CostLine {
    pub label: String,
    /// Numeric column of the ICB table; `None` is 1 per ICB.
    pub driver: Option<String>,
    /// Line of the `driver` key, for problems found against the data.
    pub driver_line: Option<usize>,
    pub factors: Vec<Factor>,
}

/// Whether a factor is one draw per iteration shared by all ICBs, or one draw per ICB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vary {
    /// Uncertainty about the world: the same value for every ICB in an iteration.
    National,
    /// Variation between ICBs: an independent draw for each ICB in each iteration.
    Icb,
}

impl Vary {
    pub fn as_str(self) -> &'static str {
        match self {
            Vary::National => "national",
            Vary::Icb => "icb",
        }
    }
}

/// An uncertain (or known) multiplier.
#[derive(Debug, Clone)]
pub struct Factor {
    pub name: String,
    /// Full path in the scenario, e.g. `actions.cap.factors.uptake`: the factor's identity.
    pub path: String,
    pub dist: Dist,
    pub vary: Vary,
    pub source: Option<String>,
    /// The scenario marks this value as an assumption rather than evidence.
    pub assumption: bool,
    /// `rng::key(path)`: the factor's random stream.
    pub stream: u64,
    pub line: usize,
}

impl Scenario {
    /// Last simulated month.
    pub fn end(&self) -> Month {
        self.start.plus(self.months as i32 - 1)
    }

    /// Every factor with the action it belongs to, in file order.
    pub fn factors(&self) -> impl Iterator<Item = (&Action, &Factor)> {
        self.actions.iter().flat_map(|a| {
            a.factors
                .iter()
                .chain(a.costs.iter().flat_map(|c| c.factors.iter()))
                .map(move |f| (a, f))
        })
    }

    /// The ICB-table columns the scenario uses as drivers, without repeats.
    pub fn driver_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for line in self.actions.iter().flat_map(|a| &a.costs) {
            if let Some(d) = &line.driver {
                if !out.contains(d) {
                    out.push(d.clone());
                }
            }
        }
        out
    }
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::input(
            path.display().to_string(),
            Problem::new(None, "file", format!("cannot read the scenario: {e}")),
        )
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    parse(&text, &path.display().to_string(), base).map_err(|p| Error::Input(vec![p]))
}

/// Validates scenario text; `file` names it in problems and `base` resolves its `data` path.
pub fn parse(text: &str, file: &str, base: &Path) -> Result<Scenario, FileProblems> {
    let fail = |problems| FileProblems {
        file: file.to_string(),
        problems,
    };
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            let mut r = Reader::new(text);
            let span = e.span().unwrap_or(0..0);
            r.problem(
                &span,
                "toml",
                format!("malformed TOML: {}", e.message().trim_end()),
            );
            return Err(fail(r.problems));
        }
    };
    let mut r = Reader::new(text);
    let span = root.span();
    let mut top = Table::from_value(
        &mut r,
        "",
        Spanned::new(span, DeValue::Table(root.into_inner())),
        "a table",
    )
    .expect("a TOML document is a table");
    let scenario = read_scenario(&mut r, &mut top, base);
    let reference = top
        .take("reference")
        .and_then(|v| read_reference(&mut r, v));
    let actions = match top.take("actions") {
        Some(v) => read_actions(&mut r, v, scenario.as_ref().map(|s| s.start)),
        None => {
            r.problem(
                &(0..0),
                "actions",
                "required: at least one [actions.<id>] table with a [[actions.<id>.costs]] line",
            );
            Vec::new()
        }
    };
    top.finish(&mut r, &["scenario", "reference", "actions"]);
    match scenario {
        Some(s) if r.problems.is_empty() => Ok(Scenario {
            reference: reference.unwrap_or_else(default_reference),
            actions,
            ..s
        }),
        _ => Err(fail(r.problems)),
    }
}

/// `[scenario]`, with `actions` and `reference` left empty for the caller to fill.
fn read_scenario(r: &mut Reader, top: &mut Table, base: &Path) -> Option<Scenario> {
    let Some(value) = top.take("scenario") else {
        r.problem(
            &(0..0),
            "scenario",
            "required: a [scenario] table with name, start and months",
        );
        return None;
    };
    let mut t = Table::from_value(r, "scenario", value, "a table")?;
    let name = t.required::<String>(r, "name").map(|(v, _)| v);
    let description = t
        .get::<String>(r, "description")
        .map(|(v, _)| v)
        .unwrap_or_default();
    let start = read_month(r, &mut t, "start", true);
    let months = t.required::<i64>(r, "months").and_then(|(v, span)| {
        if (1..=i64::from(MAX_MONTHS)).contains(&v) {
            Some(v as u32)
        } else {
            r.problem(
                &span,
                &t.field("months"),
                format!("must be a whole number from 1 to {MAX_MONTHS}, found {v}"),
            );
            None
        }
    });
    let iterations = match t.get::<i64>(r, "iterations") {
        Some((v, _)) if v >= 1 => Some(v as u64),
        Some((v, span)) => {
            r.problem(
                &span,
                &t.field("iterations"),
                format!("must be at least 1, found {v}"),
            );
            None
        }
        None => Some(DEFAULT_ITERATIONS),
    };
    let seed = match t.get::<i64>(r, "seed") {
        Some((v, _)) if v >= 0 => Some(v as u64),
        Some((v, span)) => {
            r.problem(
                &span,
                &t.field("seed"),
                format!("must be a non-negative integer, found {v}"),
            );
            None
        }
        None => Some(DEFAULT_SEED),
    };
    let data = t.get::<String>(r, "data").map(|(v, _)| base.join(v));
    t.finish(
        r,
        &[
            "name",
            "description",
            "start",
            "months",
            "iterations",
            "seed",
            "data",
        ],
    );
    Some(Scenario {
        name: name?,
        description,
        start: start.ok()??.0,
        months: months?,
        iterations: iterations?,
        seed: seed?,
        data,
        reference: default_reference(),
        actions: Vec::new(),
    })
}

/// A `YYYY-MM` key: `Ok(None)` when absent and optional, `Err(())` when missing but required
/// or invalid (the problem is recorded).
fn read_month(
    r: &mut Reader,
    t: &mut Table,
    key: &str,
    required: bool,
) -> Result<Option<(Month, Range<usize>)>, ()> {
    let present = t.has(key);
    let got = if required {
        t.required::<String>(r, key)
    } else {
        t.get::<String>(r, key)
    };
    match got {
        None if present || required => Err(()),
        None => Ok(None),
        Some((text, span)) => match text.parse::<Month>() {
            Ok(m) => Ok(Some((m, span))),
            Err(msg) => {
                r.problem(&span, &t.field(key), msg);
                Err(())
            }
        },
    }
}

fn read_reference(r: &mut Reader, value: Value) -> Option<Reference> {
    let mut t = Table::from_value(r, "reference", value, "a table")?;
    let default = default_reference();
    let per_icb_gbp = match t.get::<f64>(r, "per_icb_gbp") {
        Some((v, _)) if v.is_finite() && v > 0.0 => Some(v),
        Some((v, span)) => {
            r.problem(
                &span,
                "reference.per_icb_gbp",
                format!("must be a positive amount in pounds, found {v}"),
            );
            None
        }
        None => Some(default.per_icb_gbp),
    };
    let label = t.get::<String>(r, "label").map(|(v, _)| v);
    let source = t.get::<String>(r, "source").map(|(v, _)| v);
    t.finish(r, &["per_icb_gbp", "label", "source"]);
    let per_icb_gbp = per_icb_gbp?;
    // A figure of the user's own without a label is labelled by its value, not by the Pulse text.
    let custom = per_icb_gbp != default.per_icb_gbp;
    Some(Reference {
        per_icb_gbp,
        label: label.unwrap_or_else(|| {
            if custom {
                format!("£{per_icb_gbp} per ICB")
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

fn read_actions(r: &mut Reader, value: Value, scenario_start: Option<Month>) -> Vec<Action> {
    let Some(mut t) = Table::from_value(r, "actions", value, "a table of actions") else {
        return Vec::new();
    };
    let entries = t.drain();
    if entries.is_empty() {
        r.problem(&t.span, "actions", "at least one action is required");
    }
    entries
        .into_iter()
        .filter_map(|(id, _, v)| read_action(r, &id, v, scenario_start))
        .collect()
}

fn read_action(
    r: &mut Reader,
    id: &str,
    value: Value,
    scenario_start: Option<Month>,
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
    let ramp_months = match t.get::<i64>(r, "ramp_months") {
        Some((v, _)) if (1..=i64::from(MAX_MONTHS)).contains(&v) => Some(v as u32),
        Some((v, span)) => {
            r.problem(
                &span,
                &t.field("ramp_months"),
                format!("must be a whole number of months from 1 to {MAX_MONTHS}, found {v}"),
            );
            None
        }
        None => Some(1),
    };
    let factors = match t.take("factors") {
        Some(v) => read_factors(r, &t.field("factors"), v),
        None => Some(Vec::new()),
    };
    let costs = match t.take("costs") {
        Some(v) => read_costs(r, &path, v),
        None => {
            r.problem(
                &t.span,
                &t.field("costs"),
                "at least one [[".to_string() + &t.field("costs") + "]] cost line is required",
            );
            None
        }
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
    let end = end.ok().map(|e| e.map(|(m, _)| m));
    t.finish(
        r,
        &[
            "label",
            "description",
            "start",
            "end",
            "ramp_months",
            "factors",
            "costs",
        ],
    );
    Some(Action {
        id: id.to_string(),
        label,
        description,
        start: start?,
        end: end?,
        ramp_months: ramp_months?,
        factors: factors?,
        costs: costs?,
    })
}

fn read_costs(r: &mut Reader, action_path: &str, value: Value) -> Option<Vec<CostLine>> {
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
        match read_cost_line(r, &format!("{field}[{n}]"), n, item) {
            Some(line) => lines.push(line),
            None => ok = false,
        }
    }
    ok.then_some(lines)
}

fn read_cost_line(r: &mut Reader, path: &str, n: usize, value: Value) -> Option<CostLine> {
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
    t.finish(r, &["label", "description", "driver", "factors"]);
    Some(CostLine {
        label,
        driver_line: driver.as_ref().map(|d| d.1),
        driver: driver.map(|d| d.0),
        factors: factors?,
    })
}

fn read_factors(r: &mut Reader, path: &str, value: Value) -> Option<Vec<Factor>> {
    let mut t = Table::from_value(r, path, value, "a table of factors")?;
    let mut out = Vec::new();
    let mut ok = true;
    for (name, _, v) in t.drain() {
        match read_factor(r, &join(path, &name), &name, v) {
            Some(f) => out.push(f),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// A DIST: a bare number (known value) or `{ dist = "...", <parameters>, vary, source, assumption }`.
fn read_factor(r: &mut Reader, path: &str, name: &str, value: Value) -> Option<Factor> {
    let span = value.span();
    let line = r.line(&span);
    let make = |dist, vary, source, assumption| Factor {
        name: name.to_string(),
        path: path.to_string(),
        dist,
        vary,
        source,
        assumption,
        stream: rng::key(path),
        line,
    };
    match value.get_ref() {
        DeValue::Integer(_) | DeValue::Float(_) => {
            let v: f64 = r.de(path, value)?;
            let dist = build_dist(r, &span, path, Spec::Fixed { value: v })?;
            return Some(make(dist, Vary::National, None, false));
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
    let vary = match t.get::<String>(r, "vary") {
        None => Some(Vary::National),
        Some((v, _)) if v == "national" => Some(Vary::National),
        Some((v, _)) if v == "icb" => Some(Vary::Icb),
        Some((v, span)) => {
            r.problem(
                &span,
                &t.field("vary"),
                format!("unknown vary '{v}'; expected \"national\" or \"icb\""),
            );
            None
        }
    };
    let source = t.get::<String>(r, "source").map(|(v, _)| v);
    let assumption = t
        .get::<bool>(r, "assumption")
        .map(|(v, _)| v)
        .unwrap_or(false);
    let common = ["dist", "vary", "source", "assumption"];
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
    Some(make(dist, vary?, source, assumption))
}

fn build_dist(r: &mut Reader, span: &Range<usize>, path: &str, spec: Spec) -> Option<Dist> {
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

#[cfg(test)]
mod tests;
