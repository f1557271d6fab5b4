//! The Monte Carlo loop. It does no I/O: it fills [`Draws`] and reports progress through a
//! callback. Blocks of iterations run in parallel with rayon; every draw comes from a stream
//! keyed by what it draws (see [`crate::rng`]) and every sum runs in a fixed order, so the
//! result is the same bit for bit whatever the thread count.

use rayon::prelude::*;

use rand::seq::SliceRandom;
use rand::RngExt;

use crate::correlation;
use crate::error::Problem;
use crate::model::Model;
use crate::rng::{key, stream, NATIONAL};
use crate::scenario::Sampling;

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
    /// Uncertain national factors recorded per iteration.
    pub n_national: usize,
    /// `[iteration][national factor]`: the value each uncertain national factor took, with a
    /// stride of `max(1, n_national)` (one unused slot per iteration when there are none, so
    /// the parallel blocks line up).
    pub national_factors: Vec<f64>,
}

impl Draws {
    /// Appends the draws of the iterations that follow these.
    pub fn append(&mut self, more: Draws) {
        assert_eq!(
            (self.n_icb, self.n_actions, self.months, self.n_national),
            (more.n_icb, more.n_actions, more.months, more.n_national)
        );
        self.iterations += more.iterations;
        self.icb_total.extend(more.icb_total);
        self.action_total.extend(more.action_total);
        self.monthly.extend(more.monthly);
        self.national.extend(more.national);
        self.national_factors.extend(more.national_factors);
    }

    /// The values national factor `j` took, by iteration.
    pub fn national_factor(&self, j: usize) -> Vec<f64> {
        assert!(j < self.n_national, "no national factor {j}");
        self.national_factors
            .iter()
            .skip(j)
            .step_by(self.n_national)
            .copied()
            .collect()
    }

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

/// Runs iterations `0..iterations` of the model; `progress` is called with the number of
/// iterations each finished block held.
pub fn run(model: &Model, iterations: usize, progress: &(dyn Fn(u64) + Sync)) -> Draws {
    run_from(model, 0, iterations, progress)
}

/// Whether the model's national factors are drawn together for a whole run (Latin hypercube,
/// correlated inputs), so that a run cannot be extended batch by batch.
pub fn needs_whole_run(model: &Model) -> bool {
    model.sampling == Sampling::LatinHypercube || model.correlation.is_some()
}

/// Runs iterations `first..first + iterations`. Draws are keyed by iteration, so running
/// `0..n` and then `n..m` and appending gives exactly the draws of `0..m` (for Monte Carlo
/// sampling without correlations: see [`needs_whole_run`]).
pub fn run_from(
    model: &Model,
    first: u64,
    iterations: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Draws {
    let (n_icb, n_actions, months) = (model.n_icb(), model.n_actions, model.months);
    let k = model.national.len();
    assert!(
        first == 0 || !needs_whole_run(model),
        "a Latin hypercube or correlated run is drawn whole"
    );
    let preset = needs_whole_run(model).then(|| national_columns(model, iterations));
    let mut draws = Draws {
        iterations,
        n_icb,
        n_actions,
        months,
        icb_total: vec![0.0; iterations * n_icb],
        action_total: vec![0.0; iterations * n_icb * n_actions],
        monthly: vec![0.0; iterations * months],
        national: vec![0.0; iterations],
        n_national: k,
        national_factors: vec![0.0; iterations * k.max(1)],
    };
    draws
        .icb_total
        .par_chunks_mut(BLOCK * n_icb)
        .zip(draws.action_total.par_chunks_mut(BLOCK * n_icb * n_actions))
        .zip(draws.monthly.par_chunks_mut(BLOCK * months))
        .zip(draws.national.par_chunks_mut(BLOCK))
        .zip(draws.national_factors.par_chunks_mut(BLOCK * k.max(1)))
        .enumerate()
        .for_each(|(block, ((((icb, action), monthly), national), factors))| {
            if crate::cancel::requested() {
                return;
            }
            let mut scratch = Scratch::new(model);
            for (j, national) in national.iter_mut().enumerate() {
                let row = block * BLOCK + j;
                let iteration = first + row as u64;
                match &preset {
                    Some(columns) => {
                        for (value, column) in scratch.national.iter_mut().zip(columns) {
                            *value = column[row];
                        }
                    }
                    None => {
                        for (value, slot) in scratch.national.iter_mut().zip(&model.national) {
                            *value = slot.draw(model.seed, iteration, NATIONAL, NATIONAL);
                        }
                    }
                }
                if k > 0 {
                    factors[j * k..(j + 1) * k].copy_from_slice(&scratch.national);
                }
                *national = one_iteration(
                    model,
                    iteration,
                    &mut scratch,
                    &mut icb[j * n_icb..(j + 1) * n_icb],
                    &mut action[j * n_icb * n_actions..(j + 1) * n_icb * n_actions],
                    &mut monthly[j * months..(j + 1) * months],
                );
            }
            progress(national.len() as u64);
        });
    draws
}

/// The national factors' values for iterations `0..n`, one column per factor, when they are
/// drawn together: a Latin hypercube (each factor's n equally likely strata used once, in an
/// order shuffled by the factor's own stream, a uniform point within each stratum), then the
/// Iman–Conover reordering for target rank correlations. Marginals are unchanged by the
/// reordering.
pub fn national_columns(model: &Model, n: usize) -> Vec<Vec<f64>> {
    let seed = model.seed;
    let mut columns: Vec<Vec<f64>> = model
        .national
        .par_iter()
        .map(|slot| match model.sampling {
            Sampling::MonteCarlo => (0..n as u64)
                .map(|it| slot.draw(seed, it, NATIONAL, NATIONAL))
                .collect(),
            Sampling::LatinHypercube => {
                let mut strata: Vec<usize> = (0..n).collect();
                strata.shuffle(&mut stream(
                    seed,
                    u64::MAX,
                    key("latin-hypercube"),
                    slot.stream,
                ));
                strata
                    .iter()
                    .enumerate()
                    .map(|(it, &stratum)| {
                        let u: f64 = stream(seed, it as u64, NATIONAL, slot.stream).random();
                        let x = slot.dist.spec().quantile((stratum as f64 + u) / n as f64);
                        slot.net_of_baseline(x, seed, it as u64, NATIONAL)
                    })
                    .collect()
            }
        })
        .collect();
    if let Some(target) = &model.correlation {
        correlation::iman_conover(&mut columns, target, seed).expect(
            "a positive definite target and more iterations than factors (checked in cli::prepare)",
        );
    }
    columns
}

/// The sampling floor: draws exactly the variates a run of `iterations` needs (the same
/// distributions, counts, keyed generators and parallel blocks) and sums them, nothing else.
/// The engine's time over this is its own overhead (benches/engine.rs).
pub fn sampling_floor(model: &Model, iterations: usize) -> f64 {
    let seed = model.seed;
    let blocks = iterations.div_ceil(BLOCK);
    let sums: Vec<f64> = (0..blocks)
        .into_par_iter()
        .map(|block| {
            let mut sum = 0.0;
            for row in block * BLOCK..((block + 1) * BLOCK).min(iterations) {
                let it = row as u64;
                for slot in &model.national {
                    sum += slot.draw(seed, it, NATIONAL, NATIONAL);
                }
                for (&icb, &region) in model.icb_keys.iter().zip(&model.region_keys) {
                    for slot in &model.per_icb {
                        sum += slot.draw(seed, it, icb, region);
                    }
                }
            }
            sum
        })
        .collect();
    sums.iter().sum()
}

/// A value that overflowed to infinity or is not a number, explained: the first iteration and
/// ICB whose cost is not finite, and the factor (or driver) that made it so. `None` when every
/// cost is finite.
pub fn non_finite(model: &Model, icb_codes: &[String], draws: &Draws) -> Option<Problem> {
    let at = draws.icb_total.iter().position(|x| !x.is_finite());
    let Some(at) = at else {
        return draws.national.iter().position(|x| !x.is_finite()).map(|it| {
            Problem::new(None, "scenario", format!("the national total overflows in iteration {it}: the costs are too large to add up"))
        });
    };
    let (iteration, icb) = (at / draws.n_icb, at % draws.n_icb);
    let national: Vec<f64> = (0..draws.n_national)
        .map(|j| draws.national_factors[iteration * draws.n_national + j])
        .collect();
    let (seed, it) = (model.seed, iteration as u64);
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

/// One iteration, with the national factors already in `s.national`: fills the ICB, action and
/// monthly slices and returns the national total.
fn one_iteration(
    model: &Model,
    iteration: u64,
    s: &mut Scratch,
    icb_out: &mut [f64],
    action_out: &mut [f64],
    monthly_out: &mut [f64],
) -> f64 {
    let seed = model.seed;
    for (product, line) in s.line_national.iter_mut().zip(&model.lines) {
        *product = line
            .national
            .iter()
            .fold(line.constant, |p, &j| p * s.national[j]);
    }
    s.line_sum.fill(0.0);
    let n_actions = model.n_actions;
    let mut total = 0.0;
    for (i, (&icb_key, &region)) in model.icb_keys.iter().zip(&model.region_keys).enumerate() {
        for (value, slot) in s.per_icb.iter_mut().zip(&model.per_icb) {
            *value = slot.draw(seed, iteration, icb_key, region);
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
