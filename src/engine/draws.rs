//! What a run hands back: the layout of its tallied quantities, its tallies and block moments,
//! the per-iteration values it kept, and the first cost that was not finite, explained.

use super::BLOCK;
use crate::error::Problem;
use crate::model::Model;
use crate::tally::{Moments, Tally};

/// Where each summarised quantity sits in `Draws::tallies`: every ICB's total, every ICB ×
/// action, every action nationally, the cumulative national cost to the end of every month,
/// every group of ICBs ([`Model::groups`]), and the national total, in that order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    pub n_icb: usize,
    pub n_actions: usize,
    pub months: usize,
    pub n_groups: usize,
}

impl Layout {
    pub(super) fn of(model: &Model) -> Layout {
        Layout {
            n_icb: model.n_icb(),
            n_actions: model.n_actions,
            months: model.months,
            n_groups: model.groups.len(),
        }
    }
    pub fn icb(&self, i: usize) -> usize {
        i
    }
    pub fn icb_action(&self, i: usize, a: usize) -> usize {
        self.n_icb + i * self.n_actions + a
    }
    pub fn action(&self, a: usize) -> usize {
        self.n_icb * (1 + self.n_actions) + a
    }
    pub fn cumulative(&self, m: usize) -> usize {
        self.action(self.n_actions) + m
    }
    pub fn group(&self, g: usize) -> usize {
        self.cumulative(self.months) + g
    }
    pub fn national(&self) -> usize {
        self.group(self.n_groups)
    }
    /// Number of quantities.
    pub fn len(&self) -> usize {
        self.national() + 1
    }
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// What one run keeps beyond its tallies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Tallies and the national total per iteration: memory that grows by 8 bytes an
    /// iteration, whatever the number of ICBs, actions and months.
    Tallies,
    /// Also every iteration's cost per ICB and action and the national factors' values, for
    /// the consumers that need them draw by draw (benchmarks, paired comparisons, rank
    /// sensitivity, samples, one-pagers).
    PerIteration,
}

/// Every iteration's values, kept with [`Keep::PerIteration`].
#[derive(Debug, Clone, Default)]
pub struct PerIteration {
    /// `[iteration][icb]`: cost over the horizon.
    pub icb_total: Vec<f64>,
    /// `[iteration][icb][action]`: cost over the horizon.
    pub action_total: Vec<f64>,
    /// `[iteration][national factor]`: the value each uncertain national factor took (an empty
    /// row per iteration when there are none).
    pub national_factors: Vec<f64>,
}

/// The first cost of a run that is not finite: where it happened and what the national factors
/// were in that iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFinite {
    pub iteration: u64,
    /// The ICB, or `None` when every ICB is finite but their sum overflows.
    pub icb: Option<usize>,
    pub national_factors: Vec<f64>,
}

/// Everything one run keeps.
#[derive(Debug, Clone)]
pub struct Draws {
    pub iterations: usize,
    pub n_icb: usize,
    pub n_actions: usize,
    pub months: usize,
    /// Uncertain national factors drawn per iteration.
    pub n_national: usize,
    pub layout: Layout,
    /// `[iteration]`: national cost over the horizon (sum of the ICBs in table order).
    pub national: Vec<f64>,
    /// Every quantity of [`Layout`], tallied as it was drawn; moments are in `block_moments`.
    pub(super) tallies: Vec<Tally>,
    /// `[block][quantity]`: moments of each block of [`BLOCK`] iterations, merged in order by
    /// [`Draws::tally`].
    pub(super) block_moments: Vec<Vec<Moments>>,
    /// Per-iteration values, with [`Keep::PerIteration`].
    pub kept: Option<PerIteration>,
    /// The first iteration whose cost is not finite (such iterations are not tallied).
    pub non_finite: Option<NonFinite>,
    /// `[factor][iteration]`: the national factors' values when they were drawn together for
    /// the whole run (Latin hypercube, correlated inputs; see [`super::needs_whole_run`]).
    pub whole_run: Option<Vec<Vec<f64>>>,
}

impl Draws {
    /// Appends the draws of the iterations that follow these.
    pub fn append(&mut self, more: Draws) {
        assert_eq!(
            (self.layout, self.n_national, self.kept.is_some()),
            (more.layout, more.n_national, more.kept.is_some())
        );
        assert!(
            self.iterations.is_multiple_of(BLOCK),
            "batches start at a multiple of BLOCK"
        );
        assert!(
            self.whole_run.is_none() && more.whole_run.is_none(),
            "a run drawn whole is not extended"
        );
        self.iterations += more.iterations;
        self.national.extend(more.national);
        for (t, m) in self.tallies.iter_mut().zip(&more.tallies) {
            t.merge(m);
        }
        self.block_moments.extend(more.block_moments);
        if let (Some(kept), Some(more)) = (&mut self.kept, more.kept) {
            kept.icb_total.extend(more.icb_total);
            kept.action_total.extend(more.action_total);
            kept.national_factors.extend(more.national_factors);
        }
        if self.non_finite.is_none() {
            self.non_finite = more.non_finite;
        }
    }

    /// Quantity `q` of [`Layout`], with its moments merged in block order.
    pub fn tally(&self, q: usize) -> Tally {
        let mut t = self.tallies[q].clone();
        t.moments = Moments::default();
        for block in &self.block_moments {
            t.moments.merge(&block[q]);
        }
        t
    }

    /// The per-iteration values; panics for a run that kept only its tallies.
    pub fn per_iteration(&self) -> &PerIteration {
        self.kept
            .as_ref()
            .expect("the run kept its per-iteration values (Keep::PerIteration)")
    }

    /// The values national factor `j` took, by iteration.
    pub fn national_factor(&self, j: usize) -> Vec<f64> {
        assert!(j < self.n_national, "no national factor {j}");
        self.per_iteration()
            .national_factors
            .iter()
            .skip(j)
            .step_by(self.n_national)
            .copied()
            .collect()
    }

    /// ICB `icb`'s total in each iteration.
    pub fn icb(&self, icb: usize) -> Vec<f64> {
        self.per_iteration()
            .icb_total
            .iter()
            .skip(icb)
            .step_by(self.n_icb)
            .copied()
            .collect()
    }

    /// ICB `icb`'s cost from action `action` in each iteration.
    pub fn icb_action(&self, icb: usize, action: usize) -> Vec<f64> {
        self.per_iteration()
            .action_total
            .iter()
            .skip(icb * self.n_actions + action)
            .step_by(self.n_icb * self.n_actions)
            .copied()
            .collect()
    }
}

/// A value that overflowed to infinity or is not a number, explained: the first iteration and
/// ICB whose cost is not finite, and the factor (or driver) that made it so. `None` when every
/// cost is finite.
pub fn non_finite(model: &Model, icb_codes: &[String], draws: &Draws) -> Option<Problem> {
    let at = draws.non_finite.as_ref()?;
    let (iteration, national) = (at.iteration, &at.national_factors);
    let Some(icb) = at.icb else {
        return Some(Problem::new(None, "scenario", format!("the national total overflows in iteration {iteration}: the costs are too large to add up")));
    };
    let (seed, it) = (model.seed, iteration);
    let (icb_key, region) = (model.icb_keys[icb], model.region_keys[icb]);
    let code = format!("iteration {iteration}, ICB {}", icb_codes[icb]);
    for line in &model.lines {
        let driver = line.driver.as_ref().map_or(1.0, |d| d[icb]);
        let mut value = driver * line.constant;
        if !value.is_finite() {
            return Some(Problem::new(
                None,
                line.path.clone(),
                format!("driver × fixed factors is {value} ({code})"),
            ));
        }
        let factors = line
            .national
            .iter()
            .map(|&j| (&model.national[j], national[j]))
            .chain(line.per_icb.iter().map(|&k| {
                let slot = &model.per_icb[k];
                (slot, slot.draw(seed, it, icb_key, region))
            }));
        for (slot, x) in factors {
            value *= x;
            if !x.is_finite() || !value.is_finite() {
                let what = if x.is_finite() {
                    format!("multiplying by its draw {x} makes the cost {value}")
                } else {
                    format!("drew {x}")
                };
                return Some(Problem::new(
                    Some(slot.line),
                    slot.path.clone(),
                    format!("{what} ({code}): check the distribution's parameters and the drivers"),
                ));
            }
        }
    }
    Some(Problem::new(
        None,
        "scenario",
        format!("the cost overflows when the lines are added up ({code})"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_numbers_every_quantity_once_in_its_order() {
        // The order `one_iteration` splits an iteration's values in.
        let layout = Layout {
            n_icb: 3,
            n_actions: 2,
            months: 4,
            n_groups: 2,
        };
        let mut at: Vec<usize> = (0..3).map(|i| layout.icb(i)).collect();
        for i in 0..3 {
            at.extend((0..2).map(|a| layout.icb_action(i, a)));
        }
        at.extend((0..2).map(|a| layout.action(a)));
        at.extend((0..4).map(|m| layout.cumulative(m)));
        at.extend((0..2).map(|g| layout.group(g)));
        at.push(layout.national());
        assert_eq!(at, (0..layout.len()).collect::<Vec<_>>());
    }
}
