//! The Monte Carlo loop. It does no I/O: it fills [`Draws`] and reports progress through a
//! callback. Blocks of iterations run in parallel with rayon; every draw comes from a stream
//! keyed by what it draws (see [`crate::rng`]) and every sum runs in a fixed order, so the
//! result is the same bit for bit whatever the thread count.

use rayon::prelude::*;

use rand::seq::SliceRandom;
use rand::RngExt;

use std::sync::Mutex;

use crate::correlation;
use crate::error::Problem;
use crate::model::{Model, PracticeModel};
use crate::rng::{key, stream, NATIONAL};
use crate::scenario::Sampling;
use crate::tally::{Moments, Tally};

/// Iterations handed to one rayon task. Moments are gathered per block and merged in block
/// order, so a run extended batch by batch equals a single run when batches start at a
/// multiple of this (see [`run_from`]).
pub const BLOCK: usize = 512;

/// Where each summarised quantity sits in [`Draws::tallies`]: every ICB's total, every ICB ×
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
    fn of(model: &Model) -> Layout {
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
    tallies: Vec<Tally>,
    /// `[block][quantity]`: moments of each block of [`BLOCK`] iterations, merged in order by
    /// [`Draws::tally`].
    block_moments: Vec<Vec<Moments>>,
    /// Per-iteration values, with [`Keep::PerIteration`].
    pub kept: Option<PerIteration>,
    /// The first iteration whose cost is not finite (such iterations are not tallied).
    pub non_finite: Option<NonFinite>,
}

impl Draws {
    /// Appends the draws of the iterations that follow these.
    pub fn append(&mut self, more: Draws) {
        assert_eq!(
            (self.layout, self.n_national, self.kept.is_some()),
            (more.layout, more.n_national, more.kept.is_some())
        );
        assert!(
            self.iterations % BLOCK == 0,
            "batches start at a multiple of BLOCK"
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

/// Runs iterations `0..iterations` of the model keeping every per-iteration value;
/// `progress` is called with the number of iterations each finished block held.
pub fn run(model: &Model, iterations: usize, progress: &(dyn Fn(u64) + Sync)) -> Draws {
    run_from(model, 0, iterations, Keep::PerIteration, progress)
}

/// Whether the model's national factors are drawn together for a whole run (Latin hypercube,
/// correlated inputs), so that a run cannot be extended batch by batch.
pub fn needs_whole_run(model: &Model) -> bool {
    model.sampling == Sampling::LatinHypercube || model.correlation.is_some()
}

/// One block's share of the run's outputs.
struct BlockOut<'a> {
    national: &'a mut [f64],
    moments: &'a mut Vec<Moments>,
    icb: Option<&'a mut [f64]>,
    action: Option<&'a mut [f64]>,
    factors: Option<&'a mut [f64]>,
    non_finite: Option<NonFinite>,
}

/// Runs iterations `first..first + iterations`. Draws are keyed by iteration, so running
/// `0..n` and then `n..m` and appending gives exactly the draws of `0..m` when `n` is a
/// multiple of [`BLOCK`] (for Monte Carlo sampling without correlations: see
/// [`needs_whole_run`]).
pub fn run_from(
    model: &Model,
    first: u64,
    iterations: usize,
    keep: Keep,
    progress: &(dyn Fn(u64) + Sync),
) -> Draws {
    let (n_icb, n_actions) = (model.n_icb(), model.n_actions);
    let layout = Layout::of(model);
    let k = model.national.len();
    assert!(
        first == 0 || !needs_whole_run(model),
        "a Latin hypercube or correlated run is drawn whole"
    );
    assert!(
        u32::try_from(iterations).is_ok(),
        "at most u32::MAX iterations"
    );
    let preset = needs_whole_run(model).then(|| national_columns(model, iterations));
    let mut national = vec![0.0; iterations];
    let blocks = iterations.div_ceil(BLOCK);
    let mut block_moments = vec![Vec::new(); blocks];
    let mut kept = (keep == Keep::PerIteration).then(|| PerIteration {
        icb_total: vec![0.0; iterations * n_icb],
        action_total: vec![0.0; iterations * n_icb * n_actions],
        national_factors: vec![0.0; iterations * k],
    });
    let mut outs: Vec<BlockOut> = national
        .chunks_mut(BLOCK)
        .zip(block_moments.iter_mut())
        .map(|(national, moments)| BlockOut {
            national,
            moments,
            icb: None,
            action: None,
            factors: None,
            non_finite: None,
        })
        .collect();
    if let Some(kept) = &mut kept {
        let chunks = kept
            .icb_total
            .chunks_mut(BLOCK * n_icb)
            .zip(kept.action_total.chunks_mut(BLOCK * n_icb * n_actions));
        for (out, (icb, action)) in outs.iter_mut().zip(chunks) {
            (out.icb, out.action) = (Some(icb), Some(action));
        }
        if k > 0 {
            for (out, f) in outs
                .iter_mut()
                .zip(kept.national_factors.chunks_mut(BLOCK * k))
            {
                out.factors = Some(f);
            }
        }
    }
    // One set of tallies per worker thread: sketch counts, extremes and exceedances do not
    // depend on which thread counted what.
    let threshold = vec![model.reference; n_icb];
    let plan = LinePlan::new(model);
    let locals: Vec<Mutex<Vec<Tally>>> = (0..rayon::current_num_threads())
        .map(|_| Mutex::new(vec![Tally::default(); layout.len()]))
        .collect();
    outs.par_iter_mut().enumerate().for_each(|(block, out)| {
        if crate::cancel::requested() {
            return;
        }
        let thread = rayon::current_thread_index().unwrap_or(0) % locals.len();
        let mut tallies = locals[thread].lock().expect("no panic while tallying");
        let mut scratch = Scratch::new(model, &plan, &layout);
        let mut sums = BlockSums::new(layout.len());
        for j in 0..out.national.len() {
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
            one_iteration(model, &plan, &layout, iteration, &mut scratch);
            let values = &scratch.values;
            out.national[j] = values[layout.national()];
            if let Some(icb) = &mut out.icb {
                icb[j * n_icb..(j + 1) * n_icb].copy_from_slice(&values[..n_icb]);
            }
            if let Some(action) = &mut out.action {
                action[j * n_icb * n_actions..(j + 1) * n_icb * n_actions]
                    .copy_from_slice(&values[n_icb..n_icb * (1 + n_actions)]);
            }
            if let Some(f) = &mut out.factors {
                f[j * k..(j + 1) * k].copy_from_slice(&scratch.national);
            }
            if !values.iter().all(|x| x.is_finite()) {
                if out.non_finite.is_none() {
                    out.non_finite = Some(NonFinite {
                        iteration,
                        icb: values[..n_icb].iter().position(|x| !x.is_finite()),
                        national_factors: scratch.national.clone(),
                    });
                }
                continue;
            }
            sums.add(values, &mut tallies);
            // Exceedances of the reference: each ICB's, and the national total's.
            for ((t, &x), &limit) in tallies.iter_mut().zip(values).zip(&threshold) {
                t.count(x, limit);
            }
            let national = layout.national();
            tallies[national].count(values[national], model.reference * n_icb as f64);
        }
        sums.flush(&mut tallies);
        *out.moments = sums.moments();
        progress(out.national.len() as u64);
    });
    let non_finite = outs.iter_mut().find_map(|o| o.non_finite.take());
    drop(outs);
    let mut tallies = vec![Tally::default(); layout.len()];
    for local in locals {
        let local = local.into_inner().expect("no panic while tallying");
        for (t, l) in tallies.iter_mut().zip(&local) {
            t.merge(l);
        }
    }
    Draws {
        iterations,
        n_icb,
        n_actions,
        months: model.months,
        n_national: k,
        layout,
        national,
        tallies,
        block_moments,
        kept,
        non_finite,
    }
}

/// Iterations whose values are gathered before they are tallied quantity by quantity, so that
/// each quantity's sketch is touched in a run of this many values rather than once an
/// iteration (the sketches of every quantity together do not fit in a core's cache).
const CHUNK: usize = 64;

/// Shifted sums of one block's values, quantity by quantity (shifted by each quantity's first
/// value, so a constant gives its value exactly), and the rows not yet tallied.
struct BlockSums {
    n: u64,
    shift: Vec<f64>,
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
    /// Up to [`CHUNK`] iterations' values, iteration by iteration.
    rows: Vec<f64>,
}

impl BlockSums {
    fn new(len: usize) -> Self {
        BlockSums {
            n: 0,
            shift: vec![0.0; len],
            sum: vec![0.0; len],
            sum_sq: vec![0.0; len],
            rows: Vec::with_capacity(CHUNK * len),
        }
    }

    /// Adds one iteration's values to the sums, and to the (thread's) tallies.
    fn add(&mut self, values: &[f64], tallies: &mut [Tally]) {
        if self.n == 0 {
            self.shift.copy_from_slice(values);
        }
        self.n += 1;
        self.rows.extend_from_slice(values);
        if self.rows.len() == CHUNK * values.len() {
            self.flush(tallies);
        }
    }

    /// Sums and tallies the rows gathered, quantity by quantity, in iteration order.
    fn flush(&mut self, tallies: &mut [Tally]) {
        if self.rows.is_empty() {
            return;
        }
        let len = self.shift.len();
        let sums = self.sum.iter_mut().zip(&mut self.sum_sq).zip(&self.shift);
        for (q, (((sum, sum_sq), &shift), t)) in sums.zip(tallies.iter_mut()).enumerate() {
            let (mut s, mut sq) = (*sum, *sum_sq);
            for &x in self.rows[q..].iter().step_by(len) {
                let d = x - shift;
                s += d;
                sq += d * d;
                t.add(x);
            }
            (*sum, *sum_sq) = (s, sq);
        }
        self.rows.clear();
    }

    fn moments(&self) -> Vec<Moments> {
        let n = self.n as f64;
        (0..self.shift.len())
            .map(|q| {
                if self.n == 0 {
                    return Moments::default();
                }
                let mean_d = self.sum[q] / n;
                Moments {
                    n: self.n,
                    mean: self.shift[q] + mean_d,
                    m2: (self.sum_sq[q] - self.sum[q] * mean_d).max(0.0),
                }
            })
            .collect()
    }
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
/// The engine's time over this is its own overhead (benches/engine.rs). This is the floor of
/// an ICB-level model: at practice level a run also draws a uniform per practice and action.
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

/// The cost lines laid out for the ICB-level loop: drivers ICB by ICB, and the ICB-level
/// factors of each line as one of a few distinct sets (most lines share theirs).
struct LinePlan {
    /// `[icb][line]`: the line's driver (1 for none).
    drivers: Vec<f64>,
    action: Vec<usize>,
    weight_sum: Vec<f64>,
    /// Index of each line's set in `sets`.
    set: Vec<usize>,
    /// Distinct lists of [`Model::per_icb`] indices.
    sets: Vec<Vec<usize>>,
}

impl LinePlan {
    fn new(model: &Model) -> Self {
        let n_icb = model.n_icb();
        let mut sets: Vec<Vec<usize>> = Vec::new();
        let set = model
            .lines
            .iter()
            .map(|line| match sets.iter().position(|s| *s == line.per_icb) {
                Some(k) => k,
                None => {
                    sets.push(line.per_icb.clone());
                    sets.len() - 1
                }
            })
            .collect();
        LinePlan {
            drivers: (0..n_icb)
                .flat_map(|i| {
                    model
                        .lines
                        .iter()
                        .map(move |l| l.driver.as_ref().map_or(1.0, |d| d[i]))
                })
                .collect(),
            action: model.lines.iter().map(|l| l.action).collect(),
            weight_sum: model.lines.iter().map(|l| l.weight_sum).collect(),
            set,
            sets,
        }
    }
}

/// Per-task buffers, reused across iterations.
struct Scratch {
    /// Product of each set of ICB-level factors ([`LinePlan::sets`]), for the current ICB.
    set_product: Vec<f64>,
    national: Vec<f64>,
    per_icb: Vec<f64>,
    /// Product of each line's constant and national factors.
    line_national: Vec<f64>,
    /// Each line's annual amount summed over the ICBs.
    line_sum: Vec<f64>,
    /// One iteration's value of every quantity of the [`Layout`].
    values: Vec<f64>,
    /// National cost in each month.
    month_total: Vec<f64>,
    /// At practice level, `[Share][level]`: the share of an ICB's practices taking part at
    /// each level of the engagement curve.
    taking_part: [Vec<f64>; 3],
}

impl Scratch {
    fn new(model: &Model, plan: &LinePlan, layout: &Layout) -> Self {
        Scratch {
            set_product: vec![1.0; plan.sets.len()],
            national: vec![0.0; model.national.len()],
            per_icb: vec![0.0; model.per_icb.len()],
            line_national: vec![0.0; model.lines.len()],
            line_sum: vec![0.0; model.lines.len()],
            values: vec![0.0; layout.len()],
            month_total: vec![0.0; model.months],
            taking_part: std::array::from_fn(|_| vec![0.0; model.months]),
        }
    }
}

/// ICB `i` at practice level: for each action, each practice takes part in month m when its
/// uniform draw is below `curve[m] × p` (p the product of the action's participation factors),
/// so a practice that joins stays in while the curve does not fall. Each line's amount in the
/// month is its ICB amount times the share (of its driver) of the practices taking part.
fn practice_level(
    model: &Model,
    plan: &LinePlan,
    practices: &PracticeModel,
    iteration: u64,
    i: usize,
    s: &mut Scratch,
    by_action: &mut [f64],
) {
    let seed = model.seed;
    for (a, part) in practices.actions.iter().enumerate() {
        if part.lines.is_empty() {
            continue;
        }
        let p = part
            .national
            .iter()
            .map(|&j| s.national[j])
            .chain(part.per_icb.iter().map(|&k| s.per_icb[k]))
            .fold(part.constant, |p, x| p * x);
        let levels = part.levels.len();
        for bins in &mut s.taking_part {
            bins[..levels].fill(0.0);
        }
        for k in practices.ranges[i].clone() {
            let u: f64 = stream(seed, iteration, practices.keys[k], part.stream).random();
            // Taking part from the first level whose probability exceeds the draw.
            let first = part.levels.partition_point(|&c| c * p <= u);
            if first < levels {
                for (bins, shares) in s.taking_part.iter_mut().zip(&practices.shares) {
                    bins[first] += shares[k];
                }
            }
        }
        for bins in &mut s.taking_part {
            let mut running = 0.0;
            for b in &mut bins[..levels] {
                running += *b;
                *b = running;
            }
        }
        let n_lines = plan.action.len();
        for l in part.lines.clone() {
            let line = &model.lines[l];
            let amount =
                plan.drivers[i * n_lines + l] * s.line_national[l] * s.set_product[plan.set[l]];
            let taking_part = &s.taking_part[line.share as usize];
            let mut total = 0.0;
            for ((month, &w), &level) in s
                .month_total
                .iter_mut()
                .zip(&line.month_weights)
                .zip(&part.month_level)
            {
                let x = amount * w * taking_part[level];
                *month += x;
                total += x;
            }
            by_action[a] += total;
        }
    }
}

/// One iteration, with the national factors already in `s.national`: fills `s.values` with
/// every quantity of the layout.
fn one_iteration(model: &Model, plan: &LinePlan, layout: &Layout, iteration: u64, s: &mut Scratch) {
    let seed = model.seed;
    for (product, line) in s.line_national.iter_mut().zip(&model.lines) {
        *product = line
            .national
            .iter()
            .fold(line.constant, |p, &j| p * s.national[j]);
    }
    s.line_sum.fill(0.0);
    let (n_icb, n_actions) = (layout.n_icb, layout.n_actions);
    // Taken out for the iteration, so that the rest of the scratch can be lent alongside.
    let mut values = std::mem::take(&mut s.values);
    let (icbs, rest) = values.split_at_mut(n_icb);
    let (icb_actions, rest) = rest.split_at_mut(n_icb * n_actions);
    let (actions, rest) = rest.split_at_mut(n_actions);
    let (cumulative, rest) = rest.split_at_mut(layout.months);
    let (groups, national) = rest.split_at_mut(layout.n_groups);
    actions.fill(0.0);
    s.month_total.fill(0.0);
    for (i, (&icb_key, &region)) in model.icb_keys.iter().zip(&model.region_keys).enumerate() {
        for (value, slot) in s.per_icb.iter_mut().zip(&model.per_icb) {
            *value = slot.draw(seed, iteration, icb_key, region);
        }
        for (product, set) in s.set_product.iter_mut().zip(&plan.sets) {
            *product = set.iter().fold(1.0, |p, &k| p * s.per_icb[k]);
        }
        let by_action = &mut icb_actions[i * n_actions..(i + 1) * n_actions];
        by_action.fill(0.0);
        match &model.practices {
            None => {
                let n_lines = plan.action.len();
                let lines = plan.drivers[i * n_lines..(i + 1) * n_lines]
                    .iter()
                    .zip(&s.line_national)
                    .zip(&plan.set)
                    .zip(&plan.action)
                    .zip(&plan.weight_sum)
                    .zip(&mut s.line_sum);
                for (((((&driver, &national), &set), &action), &weight), sum) in lines {
                    let amount = driver * national * s.set_product[set];
                    by_action[action] += amount * weight;
                    *sum += amount;
                }
            }
            Some(practices) => practice_level(model, plan, practices, iteration, i, s, by_action),
        }
        icbs[i] = by_action.iter().sum();
        for (total, &x) in actions.iter_mut().zip(by_action.iter()) {
            *total += x;
        }
    }
    if model.practices.is_none() {
        for (m, out) in s.month_total.iter_mut().enumerate() {
            *out = model
                .lines
                .iter()
                .zip(&s.line_sum)
                .map(|(line, amount)| amount * line.month_weights[m])
                .sum();
        }
    }
    let mut running = 0.0;
    for (out, month) in cumulative.iter_mut().zip(&s.month_total) {
        running += month;
        *out = running;
    }
    for (out, group) in groups.iter_mut().zip(&model.groups) {
        *out = group.members.iter().map(|&(i, w)| icbs[i] * w).sum();
    }
    national[0] = icbs.iter().sum();
    s.values = values;
}
