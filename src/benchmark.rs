//! Published figures and the simulated quantity on the same scope and period: where each
//! published figure falls in the simulated distribution.

use std::path::Path;

use crate::data::{read_text_csv, IcbTable};
use crate::engine::Draws;
use crate::error::{Error, FileProblems, Problem};
use crate::names;
use crate::scenario::{CostView, Scenario};
use crate::stats::{percentile_of, Summary};

/// How `data/benchmarks.csv` is named in outputs and messages.
pub const EMBEDDED_NAME: &str = "embedded:data/benchmarks.csv";
/// `data/benchmarks.csv` as shipped.
pub const EMBEDDED_CSV: &[u8] = include_bytes!("../data/benchmarks.csv");

/// ICBs in the Pulse FOI that disclosed a cost.
pub const DISCLOSED: usize = 6;

/// What a published figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// One ICB's cost.
    IcbTotal,
    /// The national cost.
    NationalTotal,
    /// The national cost divided by the number of ICBs.
    MeanPerIcb,
    /// The mean of the six highest ICB costs in each iteration (the ICBs with a cost are the
    /// ones that disclosed).
    Top6Mean,
    /// The sum of the six highest ICB costs in each iteration.
    Top6Sum,
    /// A count, not a cost: shown for context.
    Count,
}

impl Quantity {
    fn parse(text: &str) -> Option<Quantity> {
        names::from_name(text)
    }

    pub fn as_str(self) -> &'static str {
        names::name_of::<Self>(self as usize)
    }
}

/// One published figure.
#[derive(Debug, Clone)]
pub struct Benchmark {
    pub id: String,
    pub label: String,
    /// `None` for counts.
    pub published_gbp: Option<f64>,
    pub quantity: Quantity,
    pub icb_code: Option<String>,
    /// Action ids the figure covers; empty = all.
    pub actions: Vec<String>,
    /// Months the figure covers; `None` = the scenario's horizon as it is.
    pub months: Option<u32>,
    /// The cost view the figure is in, when the table says (optional column `cost_view`).
    pub cost_view: Option<CostView>,
    pub source: String,
}

/// A published figure set against the simulation.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub benchmark: Benchmark,
    /// `None` when the scenario cannot produce the quantity (see `note`).
    pub simulated: Option<Summary>,
    /// Percentile (0–100) of the simulated distribution at which the published figure falls.
    pub published_percentile: Option<f64>,
    pub note: String,
}

/// Reads a benchmark table (the embedded one when `path` is `None`).
pub fn load(path: Option<&Path>) -> Result<(String, Vec<Benchmark>), Error> {
    let (name, bytes) = match path {
        None => (EMBEDDED_NAME.to_string(), EMBEDDED_CSV.to_vec()),
        Some(p) => {
            let name = p.display().to_string();
            let bytes = std::fs::read(p).map_err(|e| {
                Error::input(
                    &name,
                    Problem::new(
                        None,
                        "file",
                        format!("cannot read the benchmark table: {e}"),
                    ),
                )
            })?;
            (name, bytes)
        }
    };
    let rows = parse(&bytes, &name).map_err(|p| Error::Input(vec![p]))?;
    Ok((name, rows))
}

/// Parses a benchmark table: every column as text, each converted with row-precise problems.
pub fn parse(bytes: &[u8], file: &str) -> Result<Vec<Benchmark>, FileProblems> {
    let fail = |problems| FileProblems {
        file: file.to_string(),
        problems,
    };
    let frame = read_text_csv(bytes, file)?;
    let wanted = [
        "id",
        "label",
        "published_gbp",
        "quantity",
        "icb_code",
        "actions",
        "months",
        "source",
    ];
    let mut columns = Vec::new();
    let mut problems = Vec::new();
    for name in wanted {
        match frame.column(name).and_then(|c| c.str().cloned()) {
            Ok(c) => columns.push(c),
            Err(_) => problems.push(Problem::new(
                None,
                name,
                format!("required column '{name}' is missing"),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    let cell = |c: usize, row: usize| columns[c].get(row).unwrap_or("").trim().to_string();
    let views = frame
        .column("cost_view")
        .and_then(|c| c.str().cloned())
        .ok();
    let mut out = Vec::new();
    for row in 0..frame.height() {
        let line = Some(row + 2);
        let quantity = Quantity::parse(&cell(3, row));
        if quantity.is_none() {
            problems.push(Problem::new(
                line,
                "quantity",
                format!(
                    "unknown quantity '{}'; expected one of: {}",
                    cell(3, row),
                    names::variant_names::<Quantity>().join(", ")
                ),
            ));
        }
        let published = cell(2, row);
        let published_gbp = match published.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
            _ if published.is_empty() && quantity == Some(Quantity::Count) => None,
            _ => {
                problems.push(Problem::new(
                    line,
                    "published_gbp",
                    format!("'{published}' is not an amount in pounds"),
                ));
                None
            }
        };
        let icb_code = Some(cell(4, row)).filter(|c| !c.is_empty());
        if quantity == Some(Quantity::IcbTotal) && icb_code.is_none() {
            problems.push(Problem::new(
                line,
                "icb_code",
                "an icb_total figure needs an ICB code",
            ));
        }
        let months_text = cell(6, row);
        let months = match months_text.parse::<u32>() {
            Ok(m) if m >= 1 => Some(m),
            _ if months_text.is_empty() => None,
            _ => {
                problems.push(Problem::new(
                    line,
                    "months",
                    format!("'{months_text}' is not a whole number of months"),
                ));
                None
            }
        };
        let view_text = views.as_ref().and_then(|v| v.get(row)).unwrap_or("").trim();
        let cost_view = CostView::parse(view_text);
        if cost_view.is_none() && !view_text.is_empty() {
            problems.push(Problem::new(
                line,
                "cost_view",
                format!("'{view_text}' is not icb_cash or economic"),
            ));
        }
        out.push(Benchmark {
            cost_view,
            id: cell(0, row),
            label: cell(1, row),
            published_gbp,
            quantity: quantity.unwrap_or(Quantity::Count),
            icb_code,
            actions: cell(5, row)
                .split(';')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect(),
            months,
            source: cell(7, row),
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(fail(problems))
    }
}

/// Sets each figure against the run's draws.
pub fn compare(
    benchmarks: &[Benchmark],
    scenario: &Scenario,
    table: &IcbTable,
    draws: &Draws,
) -> Vec<Comparison> {
    benchmarks
        .iter()
        .map(|b| compare_one(b, scenario, table, draws))
        .collect()
}

fn compare_one(b: &Benchmark, scenario: &Scenario, table: &IcbTable, draws: &Draws) -> Comparison {
    let missing = |note: String| Comparison {
        benchmark: b.clone(),
        simulated: None,
        published_percentile: None,
        note,
    };
    let Some(published) = b.published_gbp else {
        return missing("a count, not a cost: shown for context".to_string());
    };
    let actions: Vec<usize> = if b.actions.is_empty() {
        (0..scenario.actions.len()).collect()
    } else {
        scenario
            .actions
            .iter()
            .enumerate()
            .filter(|(_, a)| b.actions.contains(&a.id))
            .map(|(k, _)| k)
            .collect()
    };
    if actions.is_empty() {
        return missing(format!(
            "the scenario has none of the actions it covers ({})",
            b.actions.join(", ")
        ));
    }
    let absent: Vec<&str> = b
        .actions
        .iter()
        .filter(|id| !scenario.actions.iter().any(|a| &a.id == *id))
        .map(String::as_str)
        .collect();
    let icb = match &b.icb_code {
        Some(code) if b.quantity == Quantity::IcbTotal => {
            match table.codes.iter().position(|c| c == code) {
                Some(i) => Some(i),
                None => return missing(format!("ICB {code} is not in the ICB table")),
            }
        }
        _ => None,
    };
    let scale = b
        .months
        .map_or(1.0, |m| f64::from(m) / f64::from(scenario.months));
    let n_icb = draws.n_icb;
    let mut totals = vec![0.0; n_icb];
    let values: Vec<f64> = (0..draws.iterations)
        .map(|it| {
            let row = &draws.per_iteration().action_total
                [it * n_icb * draws.n_actions..(it + 1) * n_icb * draws.n_actions];
            for (i, total) in totals.iter_mut().enumerate() {
                *total = actions.iter().map(|&a| row[i * draws.n_actions + a]).sum();
            }
            let value = match b.quantity {
                Quantity::IcbTotal => totals[icb.expect("checked above")],
                Quantity::NationalTotal => totals.iter().sum(),
                Quantity::MeanPerIcb => totals.iter().sum::<f64>() / n_icb as f64,
                Quantity::Top6Mean | Quantity::Top6Sum => {
                    let k = DISCLOSED.min(n_icb);
                    totals.select_nth_unstable_by(n_icb - k, |a, b| a.total_cmp(b));
                    let top: f64 = totals[n_icb - k..].iter().sum();
                    if b.quantity == Quantity::Top6Mean {
                        top / k as f64
                    } else {
                        top
                    }
                }
                Quantity::Count => unreachable!("counts have no published amount"),
            };
            value * scale
        })
        .collect();
    let mut notes = Vec::new();
    if scale != 1.0 {
        notes.push(format!(
            "simulated {} months scaled to {}",
            scenario.months,
            b.months.unwrap_or(0)
        ));
    }
    if !absent.is_empty() {
        notes.push(format!("not in the scenario: {}", absent.join(", ")));
    }
    if let Some(view) = b.cost_view.filter(|v| *v != scenario.cost_view) {
        notes.push(format!(
            "the figure is {}, this run {}: compare with --view {}",
            view.describe(),
            scenario.cost_view.describe(),
            view.as_str()
        ));
    }
    Comparison {
        benchmark: b.clone(),
        published_percentile: Some(percentile_of(&values, published)),
        simulated: Some(Summary::of(values)),
        note: notes.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses() {
        let (_, rows) = load(None).unwrap();
        assert!(rows.len() >= 8);
        assert!(rows.iter().any(|r| r.quantity == Quantity::Top6Mean));
        assert!(rows.iter().any(|r| r.icb_code.as_deref() == Some("QU9")));
    }

    #[test]
    fn bad_rows_are_reported_with_line_and_field() {
        let csv = b"id,label,published_gbp,quantity,icb_code,actions,months,cost_view,source\n\
a,A,lots,national_total,,,,,s\n\
b,B,1,icb_total,,,,icb_cash,s\n\
c,C,1,median,,,x,nhs,s\n";
        let e = parse(csv, "b.csv").unwrap_err().to_string();
        for m in [
            "b.csv:2: published_gbp: 'lots' is not an amount in pounds",
            "b.csv:3: icb_code: an icb_total figure needs an ICB code",
            "b.csv:4: quantity: unknown quantity 'median'",
            "b.csv:4: months: 'x' is not a whole number of months",
            "b.csv:4: cost_view: 'nhs' is not icb_cash or economic",
        ] {
            assert!(e.contains(m), "missing {m} in {e}");
        }
    }
}
