//! The cost model, compiled from a scenario and an ICB table into flat arrays the engine
//! walks without lookups.
//!
//! The cost of one cost line for ICB *i* in month *m* is
//!
//! ```text
//! cost(i, m) = driver_i × (product of the action's factors and the line's factors) × w(m) / 12
//! ```
//!
//! where `w(m) = 0` outside the action's [start, end], else
//! `min(1, (months since start + 1) / ramp_months)`. Factors are annual rates. An ICB's cost
//! is the sum over actions, lines and the months of the horizon.

use crate::data::IcbTable;
use crate::dist::Dist;
use crate::error::Problem;
use crate::month::Month;
use crate::rng;
use crate::scenario::{Action, Scenario, Vary};

/// The time weight `w(m)` of an action in month `m` (0 to 1).
pub fn time_weight(action: &Action, month: Month) -> f64 {
    let since = month.since(action.start);
    let ended = action.end.is_some_and(|end| month > end);
    if since < 0 || ended {
        0.0
    } else {
        (f64::from(since + 1) / f64::from(action.ramp_months)).min(1.0)
    }
}

/// A factor the engine draws: its stream and its distribution.
#[derive(Debug, Clone)]
pub struct Slot {
    pub stream: u64,
    pub dist: Dist,
}

/// One cost line, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Line {
    /// Index of the action in the scenario.
    pub action: usize,
    /// The driver per ICB; `None` is 1 per ICB.
    pub driver: Option<Vec<f64>>,
    /// Product of the line's fixed factors (action's and line's).
    pub constant: f64,
    /// Indices into [`Model::national`] of the line's national factors.
    pub national: Vec<usize>,
    /// Indices into [`Model::per_icb`] of the line's ICB-level factors.
    pub per_icb: Vec<usize>,
    /// `w(m) / 12` for each month of the horizon.
    pub month_weights: Vec<f64>,
    /// `Σ_m w(m) / 12`.
    pub weight_sum: f64,
}

/// A scenario compiled against an ICB table.
#[derive(Debug, Clone)]
pub struct Model {
    pub seed: u64,
    pub months: usize,
    pub n_actions: usize,
    /// `rng::key(icb_code)` for each ICB, in table order.
    pub icb_keys: Vec<u64>,
    /// Uncertain factors drawn once per iteration for all ICBs.
    pub national: Vec<Slot>,
    /// Uncertain factors drawn per ICB.
    pub per_icb: Vec<Slot>,
    pub lines: Vec<Line>,
}

impl Model {
    /// Compiles the scenario; problems name scenario fields (a driver column the table lacks).
    pub fn new(scenario: &Scenario, table: &IcbTable) -> Result<Model, Vec<Problem>> {
        let horizon: Vec<Month> = (0..scenario.months as i32)
            .map(|m| scenario.start.plus(m))
            .collect();
        let mut national = Vec::new();
        let mut per_icb = Vec::new();
        let mut problems = Vec::new();
        let mut lines = Vec::new();
        for (a, action) in scenario.actions.iter().enumerate() {
            let weights: Vec<f64> = horizon
                .iter()
                .map(|&m| time_weight(action, m) / 12.0)
                .collect();
            let weight_sum = weights.iter().sum();
            for (n, cost) in action.costs.iter().enumerate() {
                let driver = match &cost.driver {
                    None => None,
                    Some(column) => match table.numeric(column) {
                        Some(values) => Some(values.to_vec()),
                        None => {
                            problems.push(Problem::new(
                                cost.driver_line,
                                format!("actions.{}.costs[{n}].driver", action.id),
                                format!(
                                    "column '{column}' is not in the ICB table {}; it has: {}",
                                    table.source,
                                    table.columns.join(", ")
                                ),
                            ));
                            None
                        }
                    },
                };
                let mut line = Line {
                    action: a,
                    driver,
                    constant: 1.0,
                    national: Vec::new(),
                    per_icb: Vec::new(),
                    month_weights: weights.clone(),
                    weight_sum,
                };
                for factor in action.factors.iter().chain(&cost.factors) {
                    if factor.dist.is_fixed() {
                        line.constant *= factor.dist.mean();
                        continue;
                    }
                    let (slots, indices) = match factor.vary {
                        Vary::National => (&mut national, &mut line.national),
                        Vary::Icb => (&mut per_icb, &mut line.per_icb),
                    };
                    // An action's factor is one draw shared by all its lines.
                    let at = slots
                        .iter()
                        .position(|s: &Slot| s.stream == factor.stream)
                        .unwrap_or_else(|| {
                            slots.push(Slot {
                                stream: factor.stream,
                                dist: factor.dist.clone(),
                            });
                            slots.len() - 1
                        });
                    indices.push(at);
                }
                lines.push(line);
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Model {
            seed: scenario.seed,
            months: horizon.len(),
            n_actions: scenario.actions.len(),
            icb_keys: table.codes.iter().map(|c| rng::key(c)).collect(),
            national,
            per_icb,
            lines,
        })
    }

    pub fn n_icb(&self) -> usize {
        self.icb_keys.len()
    }

    /// Draws of uncertain factors one iteration makes (national plus per-ICB).
    pub fn draws_per_iteration(&self) -> usize {
        self.national.len() + self.per_icb.len() * self.n_icb()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(start: &str, end: Option<&str>, ramp: u32) -> Action {
        Action {
            id: "a".into(),
            label: "a".into(),
            description: String::new(),
            start: start.parse().unwrap(),
            end: end.map(|e| e.parse().unwrap()),
            ramp_months: ramp,
            factors: vec![],
            costs: vec![],
        }
    }

    #[test]
    fn time_weight_is_zero_outside_the_window_and_ramps_linearly() {
        let a = action("2024-08", Some("2025-01"), 3);
        let w = |m: &str| time_weight(&a, m.parse().unwrap());
        assert_eq!(w("2024-07"), 0.0);
        assert_eq!(w("2024-08"), 1.0 / 3.0);
        assert_eq!(w("2024-09"), 2.0 / 3.0);
        assert_eq!(w("2024-10"), 1.0);
        assert_eq!(w("2025-01"), 1.0);
        assert_eq!(w("2025-02"), 0.0);
    }

    #[test]
    fn ramp_of_one_is_full_from_the_first_month_and_no_end_runs_on() {
        let a = action("2024-08", None, 1);
        assert_eq!(time_weight(&a, "2024-08".parse().unwrap()), 1.0);
        assert_eq!(time_weight(&a, "2030-01".parse().unwrap()), 1.0);
    }

    #[test]
    fn ramp_counts_from_the_action_start_even_before_the_horizon() {
        // An action that began before the scenario is already part-way up its ramp.
        let a = action("2024-06", None, 4);
        assert_eq!(time_weight(&a, "2024-08".parse().unwrap()), 0.75);
    }
}
