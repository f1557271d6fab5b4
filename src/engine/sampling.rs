//! National factors drawn together for a whole run (a Latin hypercube, or Iman–Conover
//! reordering for correlated inputs), and the sampling floor the engine's overhead is measured
//! against.

use rayon::prelude::*;

use rand::seq::SliceRandom;
use rand::RngExt;

use super::BLOCK;
use crate::correlation;
use crate::model::Model;
use crate::rng::{entity_key, iteration_key, key, keyed, stream, NATIONAL};
use crate::scenario::Sampling;

/// Whether the model's national factors are drawn together for a whole run (Latin hypercube,
/// correlated inputs), so that a run cannot be extended batch by batch.
pub fn needs_whole_run(model: &Model) -> bool {
    model.sampling == Sampling::LatinHypercube || model.correlation.is_some()
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
            "a positive definite target and more iterations than factors (checked by Model::new)",
        );
    }
    columns
}

/// The sampling floor: draws exactly the variates a run of `iterations` needs (the same
/// distributions, counts, keyed generators and parallel blocks) and sums them, nothing else.
/// The engine's time over this is its own overhead (benches/engine.rs). At practice level
/// that includes a uniform per practice and action, each practice's key mixed once per ICB
/// and iteration as the engine does.
pub fn sampling_floor(model: &Model, iterations: usize) -> f64 {
    let seed = model.seed;
    let blocks = iterations.div_ceil(BLOCK);
    let sums: Vec<f64> = (0..blocks)
        .into_par_iter()
        .map(|block| {
            let mut sum = 0.0;
            let mut keys = Vec::new();
            for row in block * BLOCK..((block + 1) * BLOCK).min(iterations) {
                let it = row as u64;
                let it_key = iteration_key(seed, it);
                let national = entity_key(it_key, NATIONAL);
                for slot in &model.national {
                    sum += slot.draw_keyed(national, seed, it, NATIONAL, NATIONAL);
                }
                for (i, (&icb, &region)) in
                    model.icb_keys.iter().zip(&model.region_keys).enumerate()
                {
                    let key = entity_key(it_key, icb);
                    for slot in &model.per_icb {
                        sum += slot.draw_keyed(key, seed, it, icb, region);
                    }
                    if let Some(practices) = &model.practices {
                        keys.clear();
                        keys.extend(practices.practice_keys(i, it_key));
                        for part in practices.actions.iter().filter(|a| !a.lines.is_empty()) {
                            for &key in &keys {
                                sum += keyed(key, part.stream).random::<f64>();
                            }
                        }
                    }
                }
            }
            sum
        })
        .collect();
    sums.iter().sum()
}
