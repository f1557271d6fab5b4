//! Which assumptions drive the result: a one-way tornado, rank correlations (Spearman and
//! PRCC) from the draws of an ordinary run, and variance-based Sobol indices.
//!
//! Tornado and Sobol evaluate the model's expected national cost given the national factors,
//! `g(x) = Σ_lines sign × constants × Π x_j × Σ_m w(m)/12 × Σ_i driver_i × Π E[ICB-level factors]`,
//! exactly (no sampling noise): ICB-level factors are independent of the national ones and
//! enter each line as a product, so they are replaced by their expectations. This is the
//! national question (uncertainty about the world); variation between ICBs averages out.

pub mod kernels;

use rayon::prelude::*;

use crate::engine::Draws;
use crate::model::{Model, Slot};
use crate::rng::{key, NATIONAL};
use crate::scenario::Scenario;
use crate::stats::spearman;
pub use kernels::SobolIndex;
use kernels::{prcc, sobol, SobolDesign};

/// The expected national cost as a function of the national factors' values.
#[derive(Debug, Clone)]
pub struct ExpectedCost {
    /// Per line: its national factor indices and `sign × constants × Σw/12 × Σ_i driver_i × Π E[ICB factors]`.
    lines: Vec<(Vec<usize>, f64)>,
}

/// Draws used to estimate the mean of a factor net of a baseline (no closed form).
const BASELINE_DRAWS: u64 = 20_000;

impl ExpectedCost {
    pub fn new(model: &Model) -> ExpectedCost {
        let icb_means: Vec<f64> = model
            .per_icb
            .iter()
            .map(|s| expected(s, model.seed))
            .collect();
        let icb_product =
            |indices: &[usize]| -> f64 { indices.iter().map(|&k| icb_means[k]).product() };
        let mut lines: Vec<(Vec<usize>, f64)> = model
            .lines
            .iter()
            .map(|line| {
                let drivers: f64 = match &line.driver {
                    Some(d) => d.iter().sum(),
                    None => model.n_icb() as f64,
                };
                (
                    line.national.clone(),
                    line.constant * line.weight_sum * drivers * icb_product(&line.per_icb),
                )
            })
            .collect();
        // An ICB with its own values: its share of each line taken out, and its own put in.
        for own in &model.own {
            let own_means: Vec<f64> = own.slots.iter().map(|s| expected(s, model.seed)).collect();
            for (line, own_line) in model.lines.iter().zip(&own.lines) {
                let driver = line.driver.as_ref().map_or(1.0, |d| d[own.icb]);
                lines.push((
                    line.national.clone(),
                    -line.constant * line.weight_sum * driver * icb_product(&line.per_icb),
                ));
                let own_product: f64 = own_line.own.iter().map(|&o| own_means[o]).product();
                lines.push((
                    own_line.national.clone(),
                    own_line.constant
                        * line.weight_sum
                        * driver
                        * icb_product(&own_line.per_icb)
                        * own_product,
                ));
            }
        }
        ExpectedCost { lines }
    }

    /// `g(x)` for national factor values `x` (in the model's national slot order).
    pub fn at(&self, x: &[f64]) -> f64 {
        self.lines
            .iter()
            .map(|(factors, scale)| factors.iter().fold(*scale, |p, &j| p * x[j]))
            .sum()
    }
}

/// The mean of a factor: analytic, or for a factor net of a baseline, `E[max(0, X − B)]`
/// estimated from 20,000 keyed draws (deterministic for the seed).
pub fn expected(slot: &Slot, seed: u64) -> f64 {
    if slot.baseline.is_none() {
        return slot.dist.mean();
    }
    let entity = key("sensitivity:expectation");
    (0..BASELINE_DRAWS)
        .map(|it| slot.draw(seed, it, entity, entity))
        .sum::<f64>()
        / BASELINE_DRAWS as f64
}

/// The expected cost of ICB `icb` in each month of the horizon: every factor at its mean
/// (exact for the product form; see [`expected`] for factors net of a baseline).
pub fn expected_monthly(model: &Model, icb: usize) -> Vec<f64> {
    let national: Vec<f64> = model
        .national
        .iter()
        .map(|s| expected(s, model.seed))
        .collect();
    let per_icb: Vec<f64> = model
        .per_icb
        .iter()
        .map(|s| expected(s, model.seed))
        .collect();
    let own = model.own.iter().find(|o| o.icb == icb);
    let own_means: Vec<f64> = own.map_or(Vec::new(), |o| {
        o.slots.iter().map(|s| expected(s, model.seed)).collect()
    });
    let mut months = vec![0.0; model.months];
    for (l, line) in model.lines.iter().enumerate() {
        let driver = line.driver.as_ref().map_or(1.0, |d| d[icb]);
        let amount = match own.map(|o| &o.lines[l]) {
            None => {
                line.national.iter().map(|&j| national[j]).product::<f64>()
                    * line.per_icb.iter().map(|&k| per_icb[k]).product::<f64>()
                    * line.constant
                    * driver
            }
            Some(own_line) => {
                own_line
                    .national
                    .iter()
                    .map(|&j| national[j])
                    .product::<f64>()
                    * own_line
                        .per_icb
                        .iter()
                        .map(|&k| per_icb[k])
                        .product::<f64>()
                    * own_line.own.iter().map(|&o| own_means[o]).product::<f64>()
                    * own_line.constant
                    * driver
            }
        };
        for (m, w) in months.iter_mut().zip(&line.month_weights) {
            *m += amount * w;
        }
    }
    months
}

/// A national factor as outputs name it.
#[derive(Debug, Clone)]
pub struct FactorName {
    pub path: String,
    /// The id of the action it belongs to.
    pub action: String,
}

pub fn factor_names(model: &Model) -> Vec<FactorName> {
    model
        .national
        .iter()
        .map(|s| FactorName {
            path: s.path.clone(),
            action: s.path.split('.').nth(1).unwrap_or("").to_string(),
        })
        .collect()
}

/// One bar of the tornado.
#[derive(Debug, Clone)]
pub struct TornadoRow {
    pub factor: usize,
    /// The factor's 10th and 90th percentiles.
    pub low_value: f64,
    pub high_value: f64,
    /// Expected national cost with the factor at its low and high value.
    pub national_low: f64,
    pub national_high: f64,
}

impl TornadoRow {
    pub fn swing(&self) -> f64 {
        (self.national_high - self.national_low).abs()
    }
}

/// One-way sensitivity: each national factor at its 10th and 90th percentile with the others
/// at their medians. Returns the cost at the medians and the rows, largest swing first.
pub fn tornado(model: &Model) -> (f64, Vec<TornadoRow>) {
    let g = ExpectedCost::new(model);
    // A baseline shifts a factor; its percentiles are those of max(0, X − B), which has no
    // closed form, so a factor with a baseline is taken at its own percentiles less the
    // baseline's mean.
    let at = |slot: &Slot, p: f64| {
        let x = slot.dist.spec().quantile(p);
        match &slot.baseline {
            None => x,
            Some((_, b)) => (x - b.mean()).max(0.0),
        }
    };
    let medians: Vec<f64> = model.national.iter().map(|s| at(s, 0.5)).collect();
    let base = g.at(&medians);
    let mut rows: Vec<TornadoRow> = model
        .national
        .iter()
        .enumerate()
        .map(|(j, slot)| {
            let mut x = medians.clone();
            let (low_value, high_value) = (at(slot, 0.1), at(slot, 0.9));
            x[j] = low_value;
            let national_low = g.at(&x);
            x[j] = high_value;
            let national_high = g.at(&x);
            TornadoRow {
                factor: j,
                low_value,
                high_value,
                national_low,
                national_high,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.swing()
            .total_cmp(&a.swing())
            .then(a.factor.cmp(&b.factor))
    });
    (base, rows)
}

/// Rank correlation of a national factor with one total.
#[derive(Debug, Clone)]
pub struct RankRow {
    pub factor: usize,
    /// `national` or an ICB code.
    pub target: String,
    pub spearman: f64,
    pub prcc: f64,
}

/// Spearman and partial rank correlations of each national factor with the national total
/// and with each ICB's total, from the draws of an ordinary run.
pub fn rank_sensitivity(draws: &Draws, icb_codes: &[String]) -> Vec<RankRow> {
    let k = draws.n_national;
    let inputs: Vec<Vec<f64>> = (0..k).map(|j| draws.national_factor(j)).collect();
    let mut targets: Vec<(String, Vec<f64>)> =
        vec![("national".to_string(), draws.national.clone())];
    targets.extend(
        icb_codes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), draws.icb(i))),
    );
    targets
        .par_iter()
        .map(|(name, output)| {
            let partial = prcc(&inputs, output);
            (0..k)
                .map(|j| RankRow {
                    factor: j,
                    target: name.clone(),
                    spearman: spearman(&inputs[j], output),
                    prcc: partial[j],
                })
                .collect::<Vec<_>>()
        })
        .flatten()
        .collect()
}

/// A Sobol index of one factor or one action's factors.
#[derive(Debug, Clone)]
pub struct SobolRow {
    /// The factor's path, or the action id when grouped by action.
    pub name: String,
    pub index: SobolIndex,
}

/// Sobol first- and total-order indices of the expected national cost, from a Saltelli
/// design of `n` rows (each factor drawn from its own distribution and stream, bernoulli
/// factors as 0/1), with `bootstrap` resamples for 95% intervals; per factor, or per action.
pub fn sobol_indices(model: &Model, n: usize, by_action: bool, bootstrap: usize) -> Vec<SobolRow> {
    let g = ExpectedCost::new(model);
    let names = factor_names(model);
    let k = model.national.len();
    let seed = model.seed;
    let matrix_key = |m: char| key(if m == 'A' { "sobol:A" } else { "sobol:B" });
    let design = SobolDesign::new(n, k, |row, col, m| {
        model.national[col].draw(seed, row as u64, matrix_key(m), NATIONAL)
    });
    let groups: Vec<(String, Vec<usize>)> = if by_action {
        let mut actions: Vec<String> = names.iter().map(|f| f.action.clone()).collect();
        actions.dedup();
        actions
            .into_iter()
            .map(|a| {
                let cols = (0..k).filter(|&j| names[j].action == a).collect();
                (a, cols)
            })
            .collect()
    } else {
        names
            .iter()
            .enumerate()
            .map(|(j, f)| (f.path.clone(), vec![j]))
            .collect()
    };
    let indices = sobol(
        &design,
        &groups
            .iter()
            .map(|(_, cols)| cols.clone())
            .collect::<Vec<_>>(),
        |x| g.at(x),
        bootstrap,
        seed ^ key("sobol:bootstrap"),
    );
    groups
        .into_iter()
        .zip(indices)
        .map(|((name, _), index)| SobolRow { name, index })
        .collect()
}

/// The scenario's action label for an action id, for charts.
pub fn action_label<'a>(scenario: &'a Scenario, id: &'a str) -> &'a str {
    scenario
        .actions
        .iter()
        .find(|a| a.id == id)
        .map_or(id, |a| a.label.as_str())
}

/// The results of a sensitivity analysis, as the tables and charts show them.
pub struct Sensitivity<'a> {
    pub names: &'a [FactorName],
    /// The expected national cost with every national factor at its median.
    pub base_national: f64,
    pub tornado: &'a [TornadoRow],
    pub ranks: &'a [RankRow],
    pub sobol: &'a [SobolRow],
    pub sobol_by_action: &'a [SobolRow],
    pub n_icb: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{prepare, Config};

    fn model(text: &str) -> Model {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("icbs.csv"),
            "icb_code,icb_name,n\nA,A,10\nB,B,30\n",
        )
        .unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        prepare(&Config::new(&path)).unwrap().model
    }

    const TWO_FACTORS: &str = "[scenario]\nname = \"s\"\nstart = \"2024-01\"\nmonths = 12\ndata = \"icbs.csv\"\n\
        [actions.a]\nfactors = { x = { dist = \"uniform\", min = 1, max = 3 }, e = { dist = \"uniform\", min = 0, max = 2, vary = \"icb\" } }\n\
        [[actions.a.costs]]\ndriver = \"n\"\nfactors = { y = { dist = \"uniform\", min = 0, max = 10 } }\n\
        [actions.b]\n[[actions.b.costs]]\nfactors = { z = { dist = \"uniform\", min = 0, max = 1 } }\n";

    #[test]
    fn expected_cost_is_the_exact_conditional_expectation() {
        let m = model(TWO_FACTORS);
        let g = ExpectedCost::new(&m);
        // Slots in order x, y, z. Action a: (10 + 30) × x × y × E[e] = 40 x y; action b: 2 z.
        assert_eq!(g.at(&[2.0, 5.0, 0.5]), 40.0 * 2.0 * 5.0 + 2.0 * 0.5);
    }

    #[test]
    fn tornado_swings_are_exact_and_sorted() {
        let m = model(TWO_FACTORS);
        let (base, rows) = tornado(&m);
        assert_eq!(base, 40.0 * 2.0 * 5.0 + 2.0 * 0.5);
        // x: 40 × 5 × (2.8 − 1.2) = 320; y: 40 × 2 × (9 − 1) = 640; z: 2 × 0.8 = 1.6.
        let swings: Vec<f64> = rows
            .iter()
            .map(|r| (r.swing() * 1e9).round() / 1e9)
            .collect();
        assert_eq!(swings, vec![640.0, 320.0, 1.6]);
        assert_eq!(rows[0].factor, 1);
    }

    #[test]
    fn sobol_of_a_product_matches_its_analytic_indices() {
        // g = 40 x y + 2 z with independent uniforms: for a product of two independent
        // factors the indices are known. V = 1600 Var(xy) + 4 Var(z); S_x = 1600 Var(x) E[y]² / V;
        // ST_x = 1600 Var(x) E[y²] / V; likewise for y. Over 30 seeds the estimates must be
        // unbiased (mean within 4 standard errors) and the 95% intervals must cover the
        // analytic values in at least 24 of 30 runs (P(fewer) < 1e-4 at 95% coverage).
        let mut m = model(TWO_FACTORS);
        let (vx, vy, vz) = (4.0 / 12.0, 100.0 / 12.0, 1.0 / 12.0);
        let (ex, ey) = (2.0f64, 5.0f64);
        let var_xy = (vx + ex * ex) * (vy + ey * ey) - (ex * ey).powi(2);
        let v = 1600.0 * var_xy + 4.0 * vz;
        let analytic = [
            (1600.0 * vx * ey * ey / v, 1600.0 * vx * (vy + ey * ey) / v),
            (1600.0 * ex * ex * vy / v, 1600.0 * vy * (vx + ex * ex) / v),
        ];
        let runs = 30;
        let mut estimates = [[Vec::new(), Vec::new()], [Vec::new(), Vec::new()]];
        let mut covered = [[0; 2]; 2];
        for seed in 0..runs {
            m.seed = seed;
            let rows = sobol_indices(&m, 4096, false, 100);
            for (f, (s, st)) in analytic.iter().enumerate() {
                let i = &rows[f].index;
                estimates[f][0].push(i.first);
                estimates[f][1].push(i.total);
                covered[f][0] += usize::from(i.first_lo <= *s && *s <= i.first_hi);
                covered[f][1] += usize::from(i.total_lo <= *st && *st <= i.total_hi);
            }
        }
        for (f, (s, st)) in analytic.iter().enumerate() {
            for (k, truth) in [*s, *st].into_iter().enumerate() {
                let e = &estimates[f][k];
                let (mean, sd) = crate::stats::mean_sd(e);
                let se = sd / (runs as f64).sqrt();
                assert!(
                    (mean - truth).abs() < 4.0 * se,
                    "factor {f} index {k}: mean {mean} vs {truth} ± {se}"
                );
                assert!(
                    covered[f][k] >= 24,
                    "factor {f} index {k}: intervals covered {} of {runs}",
                    covered[f][k]
                );
            }
        }
        m.seed = 1;
        let grouped = sobol_indices(&m, 4096, true, 100);
        assert_eq!(
            grouped.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(grouped[0].index.first > 0.99);
    }
}
