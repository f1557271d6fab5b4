//! Published figures set against the simulated quantity of the same scope: each figure states
//! the actions, period, cost view, population and known factor values it covers, and is
//! evaluated on a run derived from the scenario for exactly that scope ([`Scenario::within`]).
//! Nothing is scaled; a figure the scenario cannot express is `not_comparable`, with the reason.

use std::path::Path;

use rand::seq::index;

use crate::calibrate::{FactorDraws, Observation};
use crate::data::IcbTable;
use crate::engine::{self, Draws, Keep};
use crate::error::{Error, FileProblems, Problem};
use crate::model::Model;
use crate::month::Month;
use crate::names;
use crate::practices::PracticeTable;
use crate::rng;
use crate::scenario::{CostView, Scenario, Scope};
use crate::stats::{percentile_of, Summary};

/// How `data/benchmarks.csv` is named in outputs and messages.
pub const EMBEDDED_NAME: &str = "embedded:data/benchmarks.csv";
/// `data/benchmarks.csv` as shipped.
pub const EMBEDDED_CSV: &[u8] = include_bytes!("../data/benchmarks.csv");

/// The Pulse FOI's answers (Feb 2025, all 42 ICBs): 19 "had not yet carried out a specific
/// financial assessment"; of the rest, 10 "had identified risks and possible financial
/// impact" and the others "had not found any quantifiable financial impact"; of the 10, six
/// "disclosed specific costs".
pub const NOT_ASSESSED: usize = 19;
/// ICBs in the Pulse FOI that identified a financial impact.
pub const FOUND: usize = 10;
/// ICBs in the Pulse FOI that disclosed a cost.
pub const DISCLOSED: usize = 6;

/// What a published figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// One ICB's cost (`icb_code`).
    IcbTotal,
    /// The national cost.
    NationalTotal,
    /// The national cost divided by the number of ICBs.
    MeanPerIcb,
    /// The mean cost of the [`DISCLOSED`] ICBs that disclosed one, selected in each iteration
    /// as the FOI's answers describe ([`disclosing`]): which ICBs assessed the cost is drawn
    /// at random, those that found an impact are the [`FOUND`] costliest of them, and the
    /// disclosing six are drawn from those (docs/model.md, "Validation").
    DisclosedMean,
    /// The total cost of the [`DISCLOSED`] ICBs that disclosed one, selected as for
    /// `disclosed_mean`. With `icb_code`, that ICB's own disclosure is taken out of both: the
    /// figure is the other five's, selected among the other 41.
    DisclosedSum,
    /// A count, not a cost: shown for context.
    Count,
    /// The national change in an activity (`activity`), in its units.
    NationalActivity,
    /// One ICB's change in an activity (`icb_code`, `activity`), in its units.
    IcbActivity,
}

impl Quantity {
    fn parse(text: &str) -> Option<Quantity> {
        names::from_name(text)
    }

    pub fn as_str(self) -> &'static str {
        names::name_of(&self)
    }

    /// Whether the figure counts activity rather than money.
    pub fn is_activity(self) -> bool {
        matches!(self, Quantity::NationalActivity | Quantity::IcbActivity)
    }

    /// Whether the figure is one ICB's.
    fn is_icb(self) -> bool {
        matches!(self, Quantity::IcbTotal | Quantity::IcbActivity)
    }
}

/// The unit of money figures (`unit = "gbp"`); an activity figure's unit is its activity.
pub const GBP: &str = "gbp";

/// One published figure and its scope.
#[derive(Debug, Clone)]
pub struct Benchmark {
    /// The figure's line in its file (the header is line 1).
    pub line: usize,
    pub id: String,
    pub label: String,
    /// The figure in its `unit`; `None` for counts.
    pub published: Option<f64>,
    /// The figure's own uncertainty as an observation (an ex-ante estimate is not an audited
    /// outturn), in its unit; the reasoning is in `source`.
    pub published_sd: Option<f64>,
    /// [`GBP`] for money, or the activity's name.
    pub unit: String,
    pub quantity: Quantity,
    pub icb_code: Option<String>,
    /// The activity an activity figure counts ([`crate::activities::VOCABULARY`]).
    pub activity: Option<String>,
    /// The actions, period, cost view and known factor values the figure covers (`None` and
    /// empty: the scenario's own).
    pub scope: Scope,
    pub source: String,
    /// The model-discrepancy sd for calibration, in the figure's unit (`None`: the documented
    /// default, [`crate::calibrate::DEFAULT_DISCREPANCY`] of the figure's size).
    pub discrepancy_sd: Option<f64>,
    /// How the figure scatters around the modelled quantity, for calibration.
    pub observation: Observation,
    /// The id of a figure this one restates (the same answers summed or averaged another
    /// way): calibration counts one observation once, so it uses only that one.
    pub same_as: Option<String>,
}

/// Whether a figure could be set against the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Compared,
    NotComparable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Compared => "compared",
            Status::NotComparable => "not_comparable",
        }
    }
}

/// A published figure set against the run derived for its scope.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub benchmark: Benchmark,
    pub status: Status,
    /// Why a figure is not comparable; empty when it is.
    pub reason: String,
    /// The scope the derived run used: actions, first and last month, cost view.
    pub actions: Vec<String>,
    pub period: Option<(Month, Month)>,
    pub cost_view: Option<CostView>,
    /// `None` when not comparable.
    pub simulated: Option<Summary>,
    /// Percentile (0–100) of the simulated distribution at which the published figure falls.
    pub published_percentile: Option<f64>,
}

/// Reads a benchmark table (the embedded one when `path` is `None`).
pub fn load(path: Option<&Path>) -> Result<(String, Vec<Benchmark>), Error> {
    let (name, bytes) = match path {
        None => (EMBEDDED_NAME.to_string(), EMBEDDED_CSV.to_vec()),
        Some(p) => {
            let file = crate::provenance::InputFile::read(p, "the benchmark table")?;
            (file.source, file.bytes)
        }
    };
    let rows = parse(&bytes, &name).map_err(|p| Error::Input(vec![p]))?;
    Ok((name, rows))
}

/// The columns of a benchmark table, each with the older name it may go by (the tables of
/// money figures named their amounts `_gbp`).
const COLUMNS: &[(&str, Option<&str>)] = &[
    ("id", None),
    ("label", None),
    ("published", Some("published_gbp")),
    ("published_sd", Some("published_sd_gbp")),
    ("unit", None),
    ("quantity", None),
    ("icb_code", None),
    ("activity", None),
    ("actions", None),
    ("start", None),
    ("end", None),
    ("cost_view", None),
    ("conditions", None),
    ("source", None),
    ("discrepancy_sd", Some("discrepancy_sd_gbp")),
    ("observation", None),
    ("same_as", None),
];

/// Parses a benchmark table: every column as text, each converted with row-precise problems.
/// Required: `id`, `label`, `published` (or `published_gbp`), `quantity`; optional:
/// `published_sd` (or `published_sd_gbp`), `unit` (`gbp`, or the activity's name), `icb_code`,
/// `activity` (for `national_activity` and `icb_activity`), `actions` (ids separated by `;`),
/// `start` and `end` (`YYYY-MM`, inclusive), `cost_view`, `conditions` (`path=value`,
/// separated by `;`), `source`, and for calibration `discrepancy_sd` (or
/// `discrepancy_sd_gbp`), `observation` (`normal` or `lognormal`) and `same_as` (the id of the
/// figure this one restates, which must be in the table). Any other column is refused.
pub fn parse(bytes: &[u8], file: &str) -> Result<Vec<Benchmark>, FileProblems> {
    let fail = |problems| FileProblems {
        file: file.to_string(),
        problems,
    };
    let frame = crate::data::read_text_csv(bytes, file)?;
    let mut problems = Vec::new();
    let present = |name: &str| frame.column(name).is_ok();
    // The name each column goes by in this file.
    let given: Vec<&str> = COLUMNS
        .iter()
        .map(|&(name, old)| match old.filter(|o| present(o)) {
            Some(old) if !present(name) => old,
            Some(old) => {
                problems.push(Problem::new(
                    None,
                    name,
                    format!("give '{name}' or '{old}' (its older name), not both"),
                ));
                name
            }
            None => name,
        })
        .collect();
    if present("months") {
        problems.push(Problem::new(
            None,
            "months",
            "the months column is replaced by start and end (the first and last month, YYYY-MM)",
        ));
    }
    for column in frame.get_column_names() {
        let known = COLUMNS
            .iter()
            .any(|&(name, old)| column == name || Some(column.as_str()) == old);
        if !known && column != "months" {
            problems.push(Problem::new(
                None,
                column.as_str(),
                format!(
                    "unknown column '{column}'; a benchmark table has: {}",
                    COLUMNS.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    for k in [0, 1, 2, 5] {
        if !present(given[k]) {
            let also = COLUMNS[k]
                .1
                .map_or(String::new(), |o| format!(" (or '{o}')"));
            problems.push(Problem::new(
                None,
                given[k],
                format!("required column '{}'{also} is missing", given[k]),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    let columns: Vec<_> = given
        .iter()
        .map(|n| frame.column(n).and_then(|c| c.str().cloned()).ok())
        .collect();
    let cell = |c: usize, row: usize| {
        columns[c]
            .as_ref()
            .and_then(|col| col.get(row))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let mut out = Vec::new();
    for row in 0..frame.height() {
        let line = Some(row + 2);
        let mut problem = |field: &str, message: String| {
            problems.push(Problem::new(line, field, message));
        };
        let quantity = Quantity::parse(&cell(5, row));
        if quantity.is_none() {
            problem(
                "quantity",
                format!(
                    "unknown quantity '{}'; expected one of: {}",
                    cell(5, row),
                    names::variant_names::<Quantity>().join(", ")
                ),
            );
        }
        let activity = Some(cell(7, row)).filter(|a| !a.is_empty());
        match (&activity, quantity.map(Quantity::is_activity)) {
            (Some(a), Some(true)) if crate::activities::find(a).is_none() => problem(
                "activity",
                format!(
                    "unknown activity '{a}'; expected one of: {}",
                    crate::activities::names()
                ),
            ),
            (None, Some(true)) => problem(
                "activity",
                format!("a {} figure names its activity", cell(5, row)),
            ),
            (Some(a), Some(false)) => problem(
                "activity",
                format!(
                    "'{a}' is given, but a {} figure is money, not activity (quantity national_activity or icb_activity counts activity)",
                    cell(5, row)
                ),
            ),
            _ => {}
        }
        let is_activity = quantity.is_some_and(Quantity::is_activity);
        let unit_text = cell(4, row);
        let expected_unit = match is_activity {
            true => activity.clone().unwrap_or_default(),
            false => GBP.to_string(),
        };
        if !unit_text.is_empty() && unit_text != expected_unit && !expected_unit.is_empty() {
            problem(
                "unit",
                format!(
                    "'{unit_text}' is not the unit of this figure: {}",
                    match is_activity {
                        true => format!(
                            "an activity figure is in its activity's units, '{expected_unit}'"
                        ),
                        false => format!("a money figure is in pounds, '{GBP}'"),
                    }
                ),
            );
        }
        // Money is never negative; a change in activity may be.
        let amount = |k: usize, signed: bool, problem: &mut dyn FnMut(&str, String)| {
            let text = cell(k, row);
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() && (signed || v >= 0.0) => Some(v),
                _ if text.is_empty() => None,
                _ => {
                    let what = match is_activity {
                        true => "a number",
                        false => "an amount in pounds",
                    };
                    problem(given[k], format!("'{text}' is not {what}"));
                    None
                }
            }
        };
        let published = amount(2, is_activity, &mut problem);
        if cell(2, row).is_empty() && quantity.is_some_and(|q| q != Quantity::Count) {
            problem(
                given[2],
                match is_activity {
                    true => "required for an activity figure".to_string(),
                    false => "required for a cost".to_string(),
                },
            );
        }
        let published_sd = amount(3, false, &mut problem);
        let discrepancy_sd = amount(14, false, &mut problem);
        let observation_text = cell(15, row);
        let observation = match names::from_name::<Observation>(&observation_text) {
            Some(o) => o,
            None if observation_text.is_empty() => Observation::Normal,
            None => {
                problem(
                    "observation",
                    format!(
                        "unknown observation '{observation_text}'; expected one of: {}",
                        names::variant_names::<Observation>().join(", ")
                    ),
                );
                Observation::Normal
            }
        };
        if is_activity && observation == Observation::Lognormal {
            problem(
                "observation",
                "a change in activity may be negative, so its observation is normal".to_string(),
            );
        }
        let icb_code = Some(cell(6, row)).filter(|c| !c.is_empty());
        if quantity.is_some_and(Quantity::is_icb) && icb_code.is_none() {
            problem(
                "icb_code",
                format!("an {} figure needs an ICB code", cell(5, row)),
            );
        }
        let mut month = |field: &str| {
            let text = cell(if field == "start" { 9 } else { 10 }, row);
            match text.parse::<Month>() {
                Ok(m) => Some(m),
                Err(_) if text.is_empty() => None,
                Err(e) => {
                    problem(field, e);
                    None
                }
            }
        };
        let (start, end) = (month("start"), month("end"));
        let period = match (start, end) {
            (Some(a), Some(b)) if b >= a => Some((a, b)),
            (None, None) => None,
            (Some(a), Some(b)) => {
                problem("end", format!("{b} is before the start, {a}"));
                None
            }
            _ => {
                problem("start", "give both start and end, or neither".to_string());
                None
            }
        };
        let view_text = cell(11, row);
        let cost_view = CostView::parse(&view_text);
        if cost_view.is_none() && !view_text.is_empty() {
            problem(
                "cost_view",
                format!("'{view_text}' is not icb_cash or economic"),
            );
        }
        let (mut conditions, mut icb_conditions) = (Vec::new(), Vec::new());
        for item in cell(12, row)
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            // `path=value` for every ICB, `CODE:path=value` for one.
            let (icb, rest) = match item.split_once(':') {
                Some((icb, rest)) if !icb.contains('.') => (Some(icb.trim()), rest),
                _ => (None, item),
            };
            match rest.split_once('=').map(|(p, v)| (p.trim(), v.trim().parse::<f64>())) {
                Some((path, Ok(value)))
                    if (path.starts_with("actions.") || path.starts_with("engagement."))
                        && value.is_finite() =>
                {
                    match icb {
                        Some(icb) => icb_conditions.push((icb.to_string(), path.to_string(), value)),
                        None => conditions.push((path.to_string(), value)),
                    }
                }
                _ => problem(
                    "conditions",
                    format!("'{item}' is not a factor path = a number (actions.<id>.factors.<name>=0.1 or engagement.<name>=0.9, or QU9:actions.<id>.factors.<name>=0.65 for one ICB)"),
                ),
            }
        }
        let actions: Vec<String> = cell(8, row)
            .split(';')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect();
        out.push(Benchmark {
            line: row + 2,
            id: cell(0, row),
            label: cell(1, row),
            published,
            published_sd,
            unit: expected_unit,
            quantity: quantity.unwrap_or(Quantity::Count),
            icb_code,
            activity: activity.filter(|_| is_activity),
            scope: Scope {
                actions: (!actions.is_empty()).then_some(actions),
                period,
                cost_view,
                conditions,
                icb_conditions,
            },
            source: cell(13, row),
            discrepancy_sd,
            observation,
            same_as: Some(cell(16, row)).filter(|c| !c.is_empty()),
        });
    }
    for b in &out {
        if let Some(id) = b
            .same_as
            .as_ref()
            .filter(|id| !out.iter().any(|o| &o.id == *id))
        {
            problems.push(Problem::new(
                Some(b.line),
                "same_as",
                format!("'{id}' is not the id of a figure in this table"),
            ));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(fail(problems))
    }
}

/// Sets each figure against a run of `iterations` derived from `scenario` for its scope, on
/// the same table (and practice table at practice level). Runs in the current rayon pool; the
/// derived runs share the scenario's seed, so figures of one scope share their draws.
pub fn compare(
    benchmarks: &[Benchmark],
    scenario: &Scenario,
    table: &IcbTable,
    practices: Option<&PracticeTable>,
) -> Vec<Comparison> {
    benchmarks
        .iter()
        .map(|b| compare_one(b, scenario, table, practices))
        .collect()
}

fn compare_one(
    b: &Benchmark,
    scenario: &Scenario,
    table: &IcbTable,
    practices: Option<&PracticeTable>,
) -> Comparison {
    match evaluate(b, scenario, table, practices, None) {
        Ok(e) => Comparison {
            benchmark: b.clone(),
            status: Status::Compared,
            reason: String::new(),
            actions: e.actions,
            period: Some(e.period),
            cost_view: Some(e.cost_view),
            published_percentile: b.published.map(|p| percentile_of(&e.values, p)),
            simulated: Some(Summary::of(e.values)),
        },
        Err(reason) => Comparison {
            benchmark: b.clone(),
            status: Status::NotComparable,
            reason,
            actions: b.scope.actions.clone().unwrap_or_default(),
            period: b.scope.period,
            cost_view: b.scope.cost_view,
            simulated: None,
            published_percentile: None,
        },
    }
}

/// A figure evaluated on the run derived for its scope.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// The scope the derived run used: actions, first and last month, cost view.
    pub actions: Vec<String>,
    pub period: (Month, Month),
    pub cost_view: CostView,
    /// The figure's quantity in each iteration.
    pub values: Vec<f64>,
}

/// Runs the scenario derived for the figure's scope (its iterations, its seed) and returns the
/// figure's quantity in each iteration, or why the figure is not comparable. Iteration *i*
/// draws every factor the derived run shares with the scenario as the scenario's iteration *i*
/// does (keyed streams), unless the scenario draws its national factors together (a Latin
/// hypercube or correlations). With `given`, the national factors take those values instead
/// (a refocused wave of calibration), matched by path.
pub fn evaluate(
    b: &Benchmark,
    scenario: &Scenario,
    table: &IcbTable,
    practices: Option<&PracticeTable>,
    given: Option<&[FactorDraws]>,
) -> Result<Evaluated, String> {
    if b.published.is_none() {
        return Err("a count, not a cost: shown for context".to_string());
    }
    if let Some((icb, _, _)) = b
        .scope
        .icb_conditions
        .iter()
        .find(|(icb, _, _)| !table.codes.iter().any(|c| c.eq_ignore_ascii_case(icb)))
    {
        return Err(format!("ICB {icb} is not in the ICB table"));
    }
    let derived = scenario.within(&b.scope)?;
    let named = b.quantity.is_icb()
        || matches!(b.quantity, Quantity::DisclosedMean | Quantity::DisclosedSum);
    let icb = match &b.icb_code {
        Some(code) if named => match table.codes.iter().position(|c| c == code) {
            Some(i) => Some(i),
            None => return Err(format!("ICB {code} is not in the ICB table")),
        },
        _ => None,
    };
    let model = match practices {
        Some(p) => Model::at_practices(&derived, table, p),
        None => Model::new(&derived, table),
    }
    .map_err(|problems| {
        let why: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        why.join("; ")
    })?;
    let model = match &b.activity {
        None => model,
        Some(name) => model.of_activity(&derived, table, practices, name)?,
    };
    let draws = match given {
        None => engine::run_from(
            &model,
            0,
            derived.iterations as usize,
            Keep::PerIteration,
            &|_| {},
        ),
        Some(given) => {
            let columns = model
                .national
                .iter()
                .map(|slot| {
                    given
                        .iter()
                        .find(|f| f.path == slot.path)
                        .map(|f| f.values.clone())
                        .ok_or_else(|| format!("no draws of {} were given", slot.path))
                })
                .collect::<Result<Vec<_>, _>>()?;
            engine::run_given(&model, columns, Keep::PerIteration, &|_| {})
        }
    };
    Ok(Evaluated {
        actions: derived.actions.iter().map(|a| a.id.clone()).collect(),
        period: (derived.start, derived.end()),
        cost_view: derived.cost_view,
        values: quantity(b.quantity, icb, &draws, derived.seed),
    })
}

/// The quantity a figure measures, in each iteration of a derived run.
pub fn quantity(quantity: Quantity, icb: Option<usize>, draws: &Draws, seed: u64) -> Vec<f64> {
    let n_icb = draws.n_icb;
    let totals = &draws.per_iteration().icb_total;
    (0..draws.iterations)
        .map(|it| {
            let icbs = &totals[it * n_icb..(it + 1) * n_icb];
            match quantity {
                Quantity::IcbTotal | Quantity::IcbActivity => {
                    icbs[icb.expect("an ICB for an ICB's figure")]
                }
                Quantity::NationalTotal | Quantity::NationalActivity => draws.national[it],
                Quantity::MeanPerIcb => draws.national[it] / n_icb as f64,
                Quantity::DisclosedMean | Quantity::DisclosedSum => {
                    // A named ICB's own disclosure is taken out of the figure.
                    let chosen: Vec<usize> = match icb {
                        None => disclosing(icbs, seed, it as u64, 0),
                        Some(out) => {
                            let others: Vec<usize> = (0..n_icb).filter(|&i| i != out).collect();
                            let costs: Vec<f64> = others.iter().map(|&i| icbs[i]).collect();
                            disclosing(&costs, seed, it as u64, 1)
                                .into_iter()
                                .map(|j| others[j])
                                .collect()
                        }
                    };
                    let k = chosen.len().max(1);
                    let sum: f64 = chosen.iter().map(|&i| icbs[i]).sum();
                    match quantity {
                        Quantity::DisclosedMean => sum / k as f64,
                        _ => sum,
                    }
                }
                Quantity::Count => unreachable!("counts have no published amount"),
            }
        })
        .collect()
}

/// The ICBs that disclose a cost in iteration `iteration`, given every ICB's cost in it
/// (`costs`), as the FOI's answers describe the selection: the ICBs that assessed the cost
/// (all but [`NOT_ASSESSED`], scaled to the table's size) are a uniform draw without
/// replacement, since nothing published ties assessing to the size of the cost; those that
/// "identified risks and possible financial impact" are the [`FOUND`] costliest of them
/// (finding a quantifiable impact depends on its size; the others "had not found any
/// quantifiable financial impact"); and the [`DISCLOSED`] that disclosed are a uniform draw
/// from those. Every stream is keyed by the iteration, so every figure and every run with the
/// same seed selects the same ICBs for the same costs. Ties are broken by table order.
/// With `without` ICBs taken out of the table (one whose own disclosure a figure leaves out),
/// each count is that many fewer.
pub fn disclosing(costs: &[f64], seed: u64, iteration: u64, without: usize) -> Vec<usize> {
    let n = costs.len();
    let all = n + without;
    let scaled = |k: usize| ((k * all).div_ceil(42).saturating_sub(without)).clamp(1.min(n), n);
    let assessed_n = scaled(42 - NOT_ASSESSED);
    let found_n = scaled(FOUND).min(assessed_n);
    let disclosed_n = DISCLOSED.saturating_sub(without).max(1).min(found_n);
    let mut assessed = index::sample(
        &mut rng::stream(seed, iteration, rng::key("benchmark:assessed"), 0),
        n,
        assessed_n,
    )
    .into_vec();
    assessed.sort_by(|&a, &b| costs[b].total_cmp(&costs[a]).then(a.cmp(&b)));
    assessed.truncate(found_n);
    assessed.sort_unstable();
    index::sample(
        &mut rng::stream(seed, iteration, rng::key("benchmark:disclosing"), 0),
        found_n,
        disclosed_n,
    )
    .iter()
    .map(|j| assessed[j])
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses_with_its_scopes() {
        let (_, rows) = load(None).unwrap();
        assert!(rows.len() >= 8);
        let nhse = rows
            .iter()
            .find(|r| r.id == "nhse_activity_loss_10pct")
            .unwrap();
        assert_eq!(nhse.scope.cost_view, Some(CostView::Economic));
        assert_eq!(
            nhse.scope.period,
            Some(("2024-08".parse().unwrap(), "2024-11".parse().unwrap()))
        );
        assert_eq!(
            nhse.scope.conditions,
            [(
                "actions.gp_activity_loss.factors.gp_activity_reduction".to_string(),
                0.1
            )]
        );
        // Every cost states its observation uncertainty.
        for r in rows.iter().filter(|r| r.quantity != Quantity::Count) {
            assert!(r.published_sd.is_some_and(|sd| sd > 0.0), "{}", r.id);
        }
    }

    #[test]
    fn bad_rows_are_reported_with_line_and_field() {
        let csv = b"id,label,published_gbp,quantity,icb_code,actions,start,end,cost_view,conditions,source\n\
a,A,lots,national_total,,,,,,,s\n\
b,B,1,icb_total,,,,,icb_cash,,s\n\
c,C,1,median,,,2024-13,,nhs,x=1,s\n\
d,D,1,national_total,,,2024-09,2024-08,,actions.a.factors.b=high,s\n";
        let e = parse(csv, "b.csv").unwrap_err().to_string();
        for m in [
            "b.csv:2: published_gbp: 'lots' is not an amount in pounds",
            "b.csv:3: icb_code: an icb_total figure needs an ICB code",
            "b.csv:4: quantity: unknown quantity 'median'",
            "b.csv:4: start: '2024-13' is not a month",
            "b.csv:4: cost_view: 'nhs' is not icb_cash or economic",
            "b.csv:4: conditions: 'x=1' is not a factor path = a number",
            "b.csv:5: end: 2024-08 is before the start, 2024-09",
            "b.csv:5: conditions: 'actions.a.factors.b=high' is not a factor path = a number",
        ] {
            assert!(e.contains(m), "missing {m} in {e}");
        }
    }

    #[test]
    fn a_months_column_is_refused_with_what_replaces_it() {
        let csv = b"id,label,published_gbp,quantity,months,source\na,A,1,national_total,12,s\n";
        let e = parse(csv, "b.csv").unwrap_err().to_string();
        assert!(
            e.contains("months: the months column is replaced by start and end"),
            "{e}"
        );
    }

    #[test]
    fn the_disclosing_icbs_are_six_of_the_ten_costliest_of_the_twenty_three_that_assessed() {
        // Costs 1..=42 (ICB i costs i + 1): rank statistics give the exact law. ICB i is
        // disclosed when it is assessed (23 of 42 at random), is among the ten costliest
        // assessed (fewer than ten costlier ICBs assessed with it) and then drawn (6 of 10).
        let n = 42;
        let costs: Vec<f64> = (0..n).map(|i| (i + 1) as f64).collect();
        let iterations = 20_000u64;
        let mut counts = vec![0u32; n];
        for it in 0..iterations {
            let mut drawn = disclosing(&costs, 7, it, 0);
            assert_eq!(drawn.len(), DISCLOSED);
            drawn.sort_unstable();
            drawn.dedup();
            assert_eq!(drawn.len(), DISCLOSED, "distinct");
            for i in drawn {
                counts[i] += 1;
            }
        }
        // P(assessed) × P(fewer than 10 of the 41 − i costlier are among the other 22 assessed
        // of 41) × 6/10, the middle term hypergeometric.
        let choose = |n: u64, k: u64| -> f64 {
            if k > n {
                return 0.0;
            }
            (0..k).map(|j| (n - j) as f64 / (k - j) as f64).product()
        };
        for (i, &c) in counts.iter().enumerate() {
            let costlier = (n - 1 - i) as u64;
            let cheaper = i as u64;
            let among_top: f64 = (0..10u64)
                .map(|m| choose(costlier, m) * choose(cheaper, 22 - m) / choose(41, 22))
                .sum();
            let p = 23.0 / 42.0 * among_top * 0.6;
            let (mean, se) = (
                iterations as f64 * p,
                (iterations as f64 * p * (1.0 - p)).sqrt().max(1.0),
            );
            assert!(
                (f64::from(c) - mean).abs() < 4.0 * se,
                "ICB {i}: {c} against {mean}"
            );
        }
        // The cheapest ICBs are never disclosed: ten costlier ICBs are always assessed with
        // them unless fewer than ten of the 22 others assessed are costlier.
        assert_eq!(counts[0], 0);
        // Keyed by the iteration: the same seed selects the same ICBs.
        assert_eq!(disclosing(&costs, 7, 3, 0), disclosing(&costs, 7, 3, 0));
    }
}
