//! The Monte Carlo loop. It does no I/O: it fills [`Draws`] and reports progress through a
//! callback. Blocks of iterations run in parallel with rayon; every draw comes from a stream
//! keyed by what it draws (see [`crate::rng`]) and every sum runs in a fixed order, so the
//! result is the same bit for bit whatever the thread count.
//!
//! `draws.rs` holds what a run hands back ([`Draws`], its [`Layout`]) and explains a cost that
//! is not finite; `sampling.rs` draws the national factors together for a Latin hypercube or
//! correlated inputs, and the sampling floor that benchmarks measure the loop against.

mod draws;
mod sampling;

use rayon::prelude::*;

use rand::RngExt;

use crate::model::{Model, Own, PracticeModel};
use crate::rng::{entity_key, iteration_key, keyed, NATIONAL};
use crate::tally::{Moments, Tally};

pub use draws::{non_finite, Draws, Keep, Layout, NonFinite, PerIteration};
pub use sampling::{national_columns, needs_whole_run, sampling_floor};

/// Iterations handed to one rayon task. Moments are gathered per block and merged in block
/// order, so a run extended batch by batch equals a single run when batches start at a
/// multiple of this (see [`run_from`]).
pub const BLOCK: usize = 512;

/// Runs iterations `0..iterations` of the model keeping every per-iteration value;
/// `progress` is called with the number of iterations each finished block held.
pub fn run(model: &Model, iterations: usize, progress: &(dyn Fn(u64) + Sync)) -> Draws {
    run_from(model, 0, iterations, Keep::PerIteration, progress)
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
    assert!(
        first == 0 || !needs_whole_run(model),
        "a Latin hypercube or correlated run is drawn whole"
    );
    let preset = needs_whole_run(model).then(|| national_columns(model, iterations));
    run_inner(model, first, iterations, keep, preset, progress)
}

/// Runs iterations `0..n` with the national factors' values given, one column per factor of
/// [`Model::national`] (`n` values each), instead of drawn: a calibrated run draws them from a
/// posterior. Everything drawn per ICB is drawn as in [`run`].
pub fn run_given(
    model: &Model,
    columns: Vec<Vec<f64>>,
    keep: Keep,
    progress: &(dyn Fn(u64) + Sync),
) -> Draws {
    assert_eq!(
        columns.len(),
        model.national.len(),
        "a column per national factor"
    );
    let iterations = columns.first().map_or(0, Vec::len);
    assert!(
        columns.iter().all(|c| c.len() == iterations),
        "columns of one length"
    );
    run_inner(model, 0, iterations, keep, Some(columns), progress)
}

fn run_inner(
    model: &Model,
    first: u64,
    iterations: usize,
    keep: Keep,
    preset: Option<Vec<Vec<f64>>>,
    progress: &(dyn Fn(u64) + Sync),
) -> Draws {
    let (n_icb, n_actions) = (model.n_icb(), model.n_actions);
    let layout = Layout::of(model);
    let k = model.national.len();
    assert!(
        u32::try_from(iterations).is_ok(),
        "at most u32::MAX iterations"
    );
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
    // Tallies per piece of work, merged after: sketch counts, extremes and exceedances do not
    // depend on which piece counted what, so the result is the same however rayon splits the
    // blocks. Each piece folds its blocks into scratch of its own (no lock, so a nested rayon
    // call cannot deadlock on a thread's scratch); splits are at least a quarter of a thread's
    // share of the blocks, so few are allocated.
    let threshold = vec![model.reference; n_icb];
    let plan = LinePlan::new(model);
    let min_len = outs.len().div_ceil(4 * rayon::current_num_threads()).max(1);
    let new_worker = || Worker {
        tallies: vec![Tally::default(); layout.len()],
        scratch: Scratch::new(model, &plan, &layout),
        sums: BlockSums::new(layout.len()),
    };
    let locals: Vec<Vec<Tally>> = outs
        .par_iter_mut()
        .enumerate()
        .with_min_len(min_len)
        .fold(new_worker, |mut worker, (block, out)| {
            if crate::cancel::requested() {
                return worker;
            }
            let Worker {
                tallies,
                scratch,
                sums,
            } = &mut worker;
            sums.reset();
            for j in 0..out.national.len() {
                let row = block * BLOCK + j;
                let iteration = first + row as u64;
                match &preset {
                    Some(columns) => {
                        for (value, column) in scratch.national.iter_mut().zip(columns) {
                            *value = column[row];
                        }
                    }
                    None => match &model.posterior {
                        Some(posterior) => {
                            posterior.fill(model.seed, iteration, &mut scratch.national);
                            if !posterior.missing.is_empty() {
                                let key =
                                    entity_key(iteration_key(model.seed, iteration), NATIONAL);
                                for &k in &posterior.missing {
                                    scratch.national[k] = model.national[k]
                                        .draw_keyed(key, model.seed, iteration, NATIONAL, NATIONAL);
                                }
                            }
                        }
                        None => {
                            let key = entity_key(iteration_key(model.seed, iteration), NATIONAL);
                            for (value, slot) in scratch.national.iter_mut().zip(&model.national) {
                                *value =
                                    slot.draw_keyed(key, model.seed, iteration, NATIONAL, NATIONAL);
                            }
                        }
                    },
                }
                one_iteration(model, &plan, &layout, iteration, scratch);
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
                sums.add(values, tallies);
                // Exceedances of the reference: each ICB's, and the national total's.
                for ((t, &x), &limit) in tallies.iter_mut().zip(values).zip(&threshold) {
                    t.count(x, limit);
                }
                let national = layout.national();
                tallies[national].count(values[national], model.reference * n_icb as f64);
            }
            sums.flush(tallies);
            *out.moments = sums.moments();
            progress(out.national.len() as u64);
            worker
        })
        .map(|worker| worker.tallies)
        .collect();
    let non_finite = outs.iter_mut().find_map(|o| o.non_finite.take());
    drop(outs);
    // The first piece's tallies take in the others', quantity by quantity in parallel (the
    // order of the merges does not matter to the result).
    let mut locals = locals.into_iter();
    let mut tallies = locals
        .next()
        .unwrap_or_else(|| vec![Tally::default(); layout.len()]);
    let others: Vec<Vec<Tally>> = locals.collect();
    tallies.par_iter_mut().enumerate().for_each(|(q, t)| {
        for other in &others {
            t.merge(&other[q]);
        }
    });
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
        whole_run: preset,
    }
}

/// A worker thread's tallies, and the buffers its blocks reuse (allocated once per thread, not
/// per block: a block's buffers are too large to come and go without system calls).
struct Worker {
    tallies: Vec<Tally>,
    scratch: Scratch,
    sums: BlockSums,
}

/// Iterations whose values are gathered before they are tallied quantity by quantity, so that
/// each quantity's sketch is touched in a run of this many values rather than once an
/// iteration (the sketches of every quantity together do not fit in a core's cache).
const CHUNK: usize = 64;

/// Shifted sums of one block's values, quantity by quantity (shifted by each quantity's first
/// value, so a constant gives its value exactly), each in iteration order, and the rows not
/// yet tallied.
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

    /// Starts a block.
    fn reset(&mut self) {
        self.n = 0;
        self.sum.fill(0.0);
        self.sum_sq.fill(0.0);
        self.rows.clear();
    }

    /// Adds one iteration's values to the sums (every quantity at once, so the compiler
    /// vectorises it), and to the (thread's) tallies.
    fn add(&mut self, values: &[f64], tallies: &mut [Tally]) {
        if self.n == 0 {
            self.shift.copy_from_slice(values);
        }
        self.n += 1;
        let sums = self.sum.iter_mut().zip(&mut self.sum_sq);
        for ((sum, sum_sq), (&x, &shift)) in sums.zip(values.iter().zip(&self.shift)) {
            let d = x - shift;
            *sum += d;
            *sum_sq += d * d;
        }
        self.rows.extend_from_slice(values);
        if self.rows.len() == CHUNK * values.len() {
            self.flush(tallies);
        }
    }

    /// Tallies the rows gathered, quantity by quantity, in iteration order.
    fn flush(&mut self, tallies: &mut [Tally]) {
        if self.rows.is_empty() {
            return;
        }
        let len = self.shift.len();
        for (q, t) in tallies.iter_mut().enumerate().take(len) {
            for &x in self.rows[q..].iter().step_by(len) {
                t.add(x);
            }
        }
        self.rows.clear();
    }

    fn moments(&self) -> Vec<Moments> {
        (0..self.shift.len())
            .map(|q| Moments::of_shifted_sums(self.n, self.shift[q], self.sum[q], self.sum_sq[q]))
            .collect()
    }
}

/// The cost lines laid out for the ICB-level loop: drivers ICB by ICB, and the ICB-level
/// factors of each line as one of a few distinct sets (most lines share theirs).
struct LinePlan {
    /// `[icb][line]`: the line's driver (1 for none).
    drivers: Vec<f64>,
    /// `[line][icb]`: the same, line by line, for [`icb_level`].
    drivers_by_line: Vec<f64>,
    action: Vec<usize>,
    weight_sum: Vec<f64>,
    /// Index of each line's set in `sets`.
    set: Vec<usize>,
    /// Distinct lists of [`Model::per_icb`] indices.
    sets: Vec<Vec<usize>>,
    /// For an ICB with its own values ([`Model::own`]): each line's own set, after `sets` in
    /// the scratch's products.
    own_set: Vec<usize>,
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
            drivers_by_line: model
                .lines
                .iter()
                .flat_map(|l| (0..n_icb).map(move |i| l.driver.as_ref().map_or(1.0, |d| d[i])))
                .collect(),
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
            own_set: (sets.len()..sets.len() + model.lines.len()).collect(),
            sets,
        }
    }
}

/// Per-task buffers, reused across iterations.
struct Scratch {
    /// Product of each set of ICB-level factors ([`LinePlan::sets`]), for the current ICB, then
    /// (for an ICB with its own values) each line's own ([`LinePlan::own_set`]).
    set_product: Vec<f64>,
    national: Vec<f64>,
    per_icb: Vec<f64>,
    /// Product of each line's constant and national factors.
    line_national: Vec<f64>,
    /// Each line's annual amount summed over the ICBs.
    line_sum: Vec<f64>,
    /// One iteration's value of every quantity of the [`Layout`].
    values: Vec<f64>,
    /// `line_national` kept aside while an ICB with its own values is evaluated.
    kept_national: Vec<f64>,
    /// That ICB's own draws in the current iteration ([`Own::slots`]).
    own_values: Vec<f64>,
    /// National cost in each month.
    month_total: Vec<f64>,
    /// At practice level, `[Share][level]`: the share of an ICB's practices taking part at
    /// each level of the engagement curve.
    taking_part: [Vec<f64>; 3],
    /// At practice level, the probability of taking part at each level of the current action,
    /// and the practices of the current ICB taking part in it (index in the ICB, first level).
    thresholds: Vec<f64>,
    taking: Vec<(usize, usize)>,
    /// For [`icb_level`]: `[set][icb]`, each set's product ICB by ICB; `[action][icb]`, each
    /// ICB's cost by action; `[line][icb]`, each line's amount.
    set_by_icb: Vec<f64>,
    action_by_icb: Vec<f64>,
    amounts: Vec<f64>,
    /// At practice level, the key part of each practice of the current ICB.
    practice_keys: Vec<u64>,
}

impl Scratch {
    fn new(model: &Model, plan: &LinePlan, layout: &Layout) -> Self {
        Scratch {
            set_product: vec![1.0; plan.sets.len() + model.lines.len()],
            national: vec![0.0; model.national.len()],
            per_icb: vec![0.0; model.per_icb.len()],
            line_national: vec![0.0; model.lines.len()],
            line_sum: vec![0.0; model.lines.len()],
            values: vec![0.0; layout.len()],
            kept_national: Vec::new(),
            own_values: Vec::new(),
            month_total: vec![0.0; model.months],
            taking_part: std::array::from_fn(|_| vec![0.0; model.months]),
            thresholds: Vec::with_capacity(model.months),
            taking: Vec::new(),
            set_by_icb: vec![0.0; plan.sets.len() * model.n_icb()],
            action_by_icb: vec![0.0; model.n_actions * model.n_icb()],
            amounts: vec![0.0; model.n_icb() * model.lines.len()],
            practice_keys: Vec::new(),
        }
    }
}

/// Draws each practice's uniform (`keys`: the practices' parts of their keys) and writes the
/// practices that take part, with the first level at which they do, at the start of `taking`
/// (as long as `keys`); returns how many. A practice takes part from the first level whose
/// threshold exceeds its draw: the thresholds are ascending, so those at or below the draw are
/// the first ones, all of them when it does not take part. The list is kept without a branch
/// (each practice is written at the next place, which moves on only if it takes part), as a
/// branch would be as unpredictable as the draw.
#[inline]
fn gather_taking_part(
    keys: &[u64],
    stream: u64,
    thresholds: &[f64],
    taking: &mut [(usize, usize)],
) -> usize {
    let levels = thresholds.len();
    let mut n = 0;
    for (k, &key) in keys.iter().enumerate() {
        let u: f64 = keyed(key, stream).random();
        let first = thresholds.iter().filter(|&&t| t <= u).count();
        taking[n] = (k, first);
        n += usize::from(first < levels);
    }
    n
}

/// ICB `i` at practice level: for each action, each practice takes part in month m when its
/// uniform draw is below `curve[m] × p` (p the product of the action's participation factors),
/// so a practice that joins stays in while the curve does not fall. Each line's amount in the
/// month is its ICB amount times the share (of its driver) of the practices taking part.
#[allow(clippy::too_many_arguments)]
fn practice_level(
    model: &Model,
    plan: &LinePlan,
    practices: &PracticeModel,
    iteration: u64,
    i: usize,
    sets: &[usize],
    s: &mut Scratch,
    by_action: &mut [f64],
) {
    let it_key = iteration_key(model.seed, iteration);
    // Each practice's part of its streams' keys, mixed once for all the actions.
    let range = practices.ranges[i].clone();
    s.practice_keys.clear();
    s.practice_keys.extend(practices.practice_keys(i, it_key));
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
        // A practice takes part from the first level whose probability exceeds its draw; the
        // probabilities, each level's `curve × p`, are the same for every practice.
        s.thresholds.clear();
        s.thresholds.extend(part.levels.iter().map(|&c| c * p));
        for bins in &mut s.taking_part {
            bins[..levels].fill(0.0);
        }
        // The practices taking part and their first levels, then the sums: drawing does not
        // wait on the sums' stores, and those not taking part are never summed.
        s.taking.resize(s.practice_keys.len(), (0, 0));
        let n = gather_taking_part(&s.practice_keys, part.stream, &s.thresholds, &mut s.taking);
        let [patients, prescribing, count] = s.taking_part.each_mut().map(|b| &mut b[..levels]);
        let [patients_share, prescribing_share, count_share] = practices
            .shares
            .each_ref()
            .map(|shares| &shares[range.clone()]);
        for &(k, first) in &s.taking[..n] {
            patients[first] += patients_share[k];
            prescribing[first] += prescribing_share[k];
            count[first] += count_share[k];
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
                plan.drivers[i * n_lines + l] * s.line_national[l] * s.set_product[sets[l]];
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

/// Puts an ICB's own products in place of the model's for its lines: each line's constant and
/// national factors go into `s.line_national` (the model's kept in `s.kept_national`, put back
/// once the ICB is done) and its ICB-level and own factors into a set of its own
/// ([`LinePlan::own_set`]), multiplied in the model's order, so a line the ICB's own values do
/// not touch costs the same bit for bit. Only ICBs with their own values come here, so a model
/// without any costs nothing.
fn own_products(
    plan: &LinePlan,
    own: &Own,
    seed: u64,
    iteration: u64,
    icb_key: u64,
    region: u64,
    s: &mut Scratch,
) {
    s.own_values.clear();
    s.own_values.extend(
        own.slots
            .iter()
            .map(|slot| slot.draw(seed, iteration, icb_key, region)),
    );
    s.kept_national.clone_from(&s.line_national);
    let line_sets = &mut s.set_product[plan.sets.len()..];
    for ((product, set), line) in s.line_national.iter_mut().zip(line_sets).zip(&own.lines) {
        *product = line
            .national
            .iter()
            .fold(line.constant, |p, &j| p * s.national[j]);
        *set = line
            .per_icb
            .iter()
            .map(|&k| s.per_icb[k])
            .chain(line.own.iter().map(|&o| s.own_values[o]))
            .fold(1.0, |p, x| p * x);
    }
}

/// The ICB-level loop of a model without practices or ICBs' own values, line by line across
/// the ICBs rather than ICB by ICB, so that no step waits on the one before (each ICB's
/// cost by action is its own accumulator). Every sum runs in the same order as ICB by ICB
/// (lines in file order, ICBs in table order), so the values are the same bit for bit.
#[allow(clippy::too_many_arguments)]
fn icb_level(
    model: &Model,
    plan: &LinePlan,
    iteration: u64,
    it_key: u64,
    s: &mut Scratch,
    icbs: &mut [f64],
    icb_actions: &mut [f64],
    actions: &mut [f64],
) {
    let (n_icb, n_actions) = (model.n_icb(), model.n_actions);
    for (i, (&icb_key, &region)) in model.icb_keys.iter().zip(&model.region_keys).enumerate() {
        let key = entity_key(it_key, icb_key);
        for (value, slot) in s.per_icb.iter_mut().zip(&model.per_icb) {
            *value = slot.draw_keyed(key, model.seed, iteration, icb_key, region);
        }
        for (k, set) in plan.sets.iter().enumerate() {
            s.set_by_icb[k * n_icb + i] = set.iter().fold(1.0, |p, &k| p * s.per_icb[k]);
        }
    }
    s.action_by_icb.fill(0.0);
    for (l, ((drivers, &national), (&set, (&action, &weight)))) in plan
        .drivers_by_line
        .chunks_exact(n_icb)
        .zip(&s.line_national)
        .zip(
            plan.set
                .iter()
                .zip(plan.action.iter().zip(&plan.weight_sum)),
        )
        .enumerate()
    {
        let set = &s.set_by_icb[set * n_icb..(set + 1) * n_icb];
        let by_action = &mut s.action_by_icb[action * n_icb..(action + 1) * n_icb];
        let amounts = &mut s.amounts[l * n_icb..(l + 1) * n_icb];
        // Each ICB its own lane: no bounds checks and no step waiting on another, so the
        // compiler vectorises it.
        for (((&driver, &product), total), out) in drivers
            .iter()
            .zip(set)
            .zip(by_action.iter_mut())
            .zip(amounts.iter_mut())
        {
            let amount = driver * national * product;
            *total += amount * weight;
            *out = amount;
        }
        // The line summed over the ICBs in table order.
        s.line_sum[l] = amounts.iter().fold(0.0, |sum, &x| sum + x);
    }
    for i in 0..n_icb {
        let by_action = &mut icb_actions[i * n_actions..(i + 1) * n_actions];
        for (a, x) in by_action.iter_mut().enumerate() {
            *x = s.action_by_icb[a * n_icb + i];
        }
        icbs[i] = by_action.iter().sum();
        for (total, &x) in actions.iter_mut().zip(by_action.iter()) {
            *total += x;
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
    let it_key = iteration_key(seed, iteration);
    if model.practices.is_none() && model.own.is_empty() {
        icb_level(
            model,
            plan,
            iteration,
            it_key,
            s,
            icbs,
            icb_actions,
            actions,
        );
    } else {
        for (i, (&icb_key, &region)) in model.icb_keys.iter().zip(&model.region_keys).enumerate() {
            let key = entity_key(it_key, icb_key);
            for (value, slot) in s.per_icb.iter_mut().zip(&model.per_icb) {
                *value = slot.draw_keyed(key, seed, iteration, icb_key, region);
            }
            for (product, set) in s.set_product.iter_mut().zip(&plan.sets) {
                *product = set.iter().fold(1.0, |p, &k| p * s.per_icb[k]);
            }
            let own = model.own.iter().find(|o| o.icb == i);
            let sets = match own {
                Some(own) => {
                    own_products(plan, own, seed, iteration, icb_key, region, s);
                    &plan.own_set
                }
                None => &plan.set,
            };
            let by_action = &mut icb_actions[i * n_actions..(i + 1) * n_actions];
            by_action.fill(0.0);
            match &model.practices {
                None => {
                    let n_lines = plan.action.len();
                    let lines = plan.drivers[i * n_lines..(i + 1) * n_lines]
                        .iter()
                        .zip(&s.line_national)
                        .zip(sets)
                        .zip(&plan.action)
                        .zip(&plan.weight_sum)
                        .zip(&mut s.line_sum);
                    for (((((&driver, &national), &set), &action), &weight), sum) in lines {
                        let amount = driver * national * s.set_product[set];
                        by_action[action] += amount * weight;
                        *sum += amount;
                    }
                }
                Some(practices) => {
                    practice_level(model, plan, practices, iteration, i, sets, s, by_action)
                }
            }
            if own.is_some() {
                s.line_national.copy_from_slice(&s.kept_national);
            }
            icbs[i] = by_action.iter().sum();
            for (total, &x) in actions.iter_mut().zip(by_action.iter()) {
                *total += x;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_sums_give_each_quantitys_moments_bit_for_bit() {
        // More rows than one CHUNK and not a multiple of it, so that the sums carry across a
        // full flush and a partial one; a large offset, a constant and a signed column.
        let rows: Vec<[f64; 3]> = (0..150)
            .map(|k| {
                let x = k as f64;
                [1e9 + 0.37 * x, 42.0, 1e3 * (7.3 * x).sin()]
            })
            .collect();
        let mut tallies = vec![Tally::default(); 3];
        let mut sums = BlockSums::new(3);
        for row in &rows {
            sums.add(row, &mut tallies);
        }
        sums.flush(&mut tallies);
        for (q, (moments, tally)) in sums.moments().iter().zip(&tallies).enumerate() {
            let column: Vec<f64> = rows.iter().map(|row| row[q]).collect();
            assert_eq!(*moments, Moments::of(column.iter().copied()));
            let whole = Tally::of(&column, 0.0);
            assert_eq!(
                (&tally.sketch, tally.min, tally.max),
                (&whole.sketch, whole.min, whole.max)
            );
        }
        assert_eq!(BlockSums::new(2).moments(), vec![Moments::default(); 2]);
    }

    #[test]
    fn practices_take_part_from_the_first_level_whose_threshold_exceeds_their_draw() {
        let keys: Vec<u64> = (0..500u64).map(|k| k.wrapping_mul(0x9e37_79b9)).collect();
        let stream = crate::rng::key("participation:x");
        // Ascending thresholds with a repeat, none at all, and a level every draw is under.
        for thresholds in [
            vec![0.1, 0.25, 0.25, 0.6],
            vec![],
            vec![0.3, 1.0],
            vec![0.0, 0.0],
        ] {
            let mut taking = vec![(0, 0); keys.len()];
            let n = gather_taking_part(&keys, stream, &thresholds, &mut taking);
            let expected: Vec<(usize, usize)> = keys
                .iter()
                .enumerate()
                .map(|(k, &key)| {
                    let u: f64 = keyed(key, stream).random();
                    (k, thresholds.partition_point(|&t| t <= u))
                })
                .filter(|&(_, first)| first < thresholds.len())
                .collect();
            assert_eq!(&taking[..n], &expected[..], "{thresholds:?}");
        }
        // About 60% of the draws fall under the last threshold of the first list.
        let mut taking = vec![(0, 0); keys.len()];
        let n = gather_taking_part(&keys, stream, &[0.1, 0.25, 0.25, 0.6], &mut taking);
        let se = (0.6 * 0.4 / 500.0f64).sqrt();
        assert!((n as f64 / 500.0 - 0.6).abs() < 4.0 * se, "{n} of 500");
    }
}
