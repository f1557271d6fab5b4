//! The Monte Carlo loop. It does no I/O: it fills [`Draws`] and reports progress through a
//! callback. Blocks of iterations run in parallel with rayon; every draw comes from a stream
//! keyed by what it draws (see [`crate::rng`]) and every sum runs in a fixed order, so the
//! result is the same bit for bit whatever the thread count.

use rayon::prelude::*;

use crate::model::Model;
use crate::rng::NATIONAL;

/// Iterations handed to one rayon task.
const BLOCK: usize = 512;

/// Everything one run keeps: totals per iteration, never per iteration × ICB × month.
#[derive(Debug, Clone)]
pub struct Draws {
    pub iterations: usize,
    pub n_icb: usize,
    pub n_actions: usize,
    pub months: usize,
    /// `[iteration][icb]`: cost over the horizon.
    pub icb_total: Vec<f64>,
    /// `[iteration][icb][action]`: cost over the horizon.
    pub action_total: Vec<f64>,
    /// `[iteration][month]`: national cost in the month (not cumulative).
    pub monthly: Vec<f64>,
    /// `[iteration]`: national cost over the horizon (sum of the ICBs in table order).
    pub national: Vec<f64>,
}

impl Draws {
    /// ICB `icb`'s total in each iteration.
    pub fn icb(&self, icb: usize) -> Vec<f64> {
        self.icb_total
            .iter()
            .skip(icb)
            .step_by(self.n_icb)
            .copied()
            .collect()
    }

    /// ICB `icb`'s cost from action `action` in each iteration.
    pub fn icb_action(&self, icb: usize, action: usize) -> Vec<f64> {
        let stride = self.n_icb * self.n_actions;
        self.action_total
            .iter()
            .skip(icb * self.n_actions + action)
            .step_by(stride)
            .copied()
            .collect()
    }

    /// National cost of action `action` in each iteration (ICBs summed in table order).
    pub fn national_action(&self, action: usize) -> Vec<f64> {
        self.action_total
            .chunks_exact(self.n_icb * self.n_actions)
            .map(|it| it.iter().skip(action).step_by(self.n_actions).sum())
            .collect()
    }

    /// Cumulative national cost to the end of month `month` in each iteration.
    pub fn cumulative_to(&self, month: usize) -> Vec<f64> {
        self.monthly
            .chunks_exact(self.months)
            .map(|it| it[..=month].iter().sum())
            .collect()
    }
}

/// Runs `iterations` iterations of the model; `progress` is called with the number of
/// iterations each finished block held.
pub fn run(model: &Model, iterations: usize, progress: &(dyn Fn(u64) + Sync)) -> Draws {
    let (n_icb, n_actions, months) = (model.n_icb(), model.n_actions, model.months);
    let mut draws = Draws {
        iterations,
        n_icb,
        n_actions,
        months,
        icb_total: vec![0.0; iterations * n_icb],
        action_total: vec![0.0; iterations * n_icb * n_actions],
        monthly: vec![0.0; iterations * months],
        national: vec![0.0; iterations],
    };
    draws
        .icb_total
        .par_chunks_mut(BLOCK * n_icb)
        .zip(draws.action_total.par_chunks_mut(BLOCK * n_icb * n_actions))
        .zip(draws.monthly.par_chunks_mut(BLOCK * months))
        .zip(draws.national.par_chunks_mut(BLOCK))
        .enumerate()
        .for_each(|(block, (((icb, action), monthly), national))| {
            let mut scratch = Scratch::new(model);
            for (k, national) in national.iter_mut().enumerate() {
                let iteration = (block * BLOCK + k) as u64;
                *national = one_iteration(
                    model,
                    iteration,
                    &mut scratch,
                    &mut icb[k * n_icb..(k + 1) * n_icb],
                    &mut action[k * n_icb * n_actions..(k + 1) * n_icb * n_actions],
                    &mut monthly[k * months..(k + 1) * months],
                );
            }
            progress(national.len() as u64);
        });
    draws
}

/// Per-task buffers, reused across iterations.
struct Scratch {
    national: Vec<f64>,
    per_icb: Vec<f64>,
    /// Product of each line's constant and national factors.
    line_national: Vec<f64>,
    /// Each line's annual amount summed over the ICBs.
    line_sum: Vec<f64>,
}

impl Scratch {
    fn new(model: &Model) -> Self {
        Scratch {
            national: vec![0.0; model.national.len()],
            per_icb: vec![0.0; model.per_icb.len()],
            line_national: vec![0.0; model.lines.len()],
            line_sum: vec![0.0; model.lines.len()],
        }
    }
}

/// One iteration: fills the ICB, action and monthly slices and returns the national total.
fn one_iteration(
    model: &Model,
    iteration: u64,
    s: &mut Scratch,
    icb_out: &mut [f64],
    action_out: &mut [f64],
    monthly_out: &mut [f64],
) -> f64 {
    let seed = model.seed;
    for (value, slot) in s.national.iter_mut().zip(&model.national) {
        *value = slot.draw(seed, iteration, NATIONAL);
    }
    for (product, line) in s.line_national.iter_mut().zip(&model.lines) {
        *product = line
            .national
            .iter()
            .fold(line.constant, |p, &j| p * s.national[j]);
    }
    s.line_sum.fill(0.0);
    let n_actions = model.n_actions;
    let mut total = 0.0;
    for (i, &icb_key) in model.icb_keys.iter().enumerate() {
        for (value, slot) in s.per_icb.iter_mut().zip(&model.per_icb) {
            *value = slot.draw(seed, iteration, icb_key);
        }
        let actions = &mut action_out[i * n_actions..(i + 1) * n_actions];
        actions.fill(0.0);
        for (l, line) in model.lines.iter().enumerate() {
            let driver = line.driver.as_ref().map_or(1.0, |d| d[i]);
            let amount = line
                .per_icb
                .iter()
                .fold(driver * s.line_national[l], |p, &k| p * s.per_icb[k]);
            actions[line.action] += amount * line.weight_sum;
            s.line_sum[l] += amount;
        }
        icb_out[i] = actions.iter().sum();
        total += icb_out[i];
    }
    for (m, out) in monthly_out.iter_mut().enumerate() {
        *out = model
            .lines
            .iter()
            .zip(&s.line_sum)
            .map(|(line, amount)| amount * line.month_weights[m])
            .sum();
    }
    total
}
