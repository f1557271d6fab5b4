//! Decisions under uncertainty: what each option an ICB can take costs in expectation, the
//! probability that each is the cheapest, and what it would be worth to learn a factor's
//! value before choosing.
//!
//! Every option is run on the same draws (common random numbers), so each iteration is one
//! possible state of the world with the cost of every option in it. With net benefit
//! `NB_d = −cost_d`:
//!
//! ```text
//! EVPI      = E[max_d NB_d] − max_d E[NB_d]
//! EVPPI(θ)  = E_θ[max_d E[NB_d | θ]] − max_d E[NB_d]
//! ```
//!
//! `E[NB_d | θ]` is estimated by nonparametric regression on the same draws (Strong, Oakley &
//! Brennan 2014, "Estimating multiparameter partial expected value of perfect information
//! from a probabilistic sensitivity analysis sample", Medical Decision Making 34:311–326):
//! the incremental net benefit of each option over the best by expectation is regressed on
//! the factor through a natural cubic regression spline with knots at Harrell's quantiles
//! (cell means for a factor with few distinct values), and on a group of factors through the
//! sum of their splines and the pairwise products of their linear terms. Its standard error
//! combines the regression's own (coefficients drawn from their approximate sampling
//! distribution, as that paper proposes) with the Monte Carlo error of the outer mean.

use nalgebra::DMatrix;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::rng;
use crate::stats::{mean_sd, Summary};

/// An estimate and its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub se: f64,
}

/// An option of the decision: `none` (the scenario as it stands) first.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub id: String,
    pub label: String,
    /// The one ICB (table index) that takes it; `None`: every ICB.
    pub icb: Option<usize>,
}

/// One option within one scope.
#[derive(Debug, Clone)]
pub struct OptionResult {
    /// Index into [`Decision::options`].
    pub option: usize,
    /// The cost with the option taken: the scenario's cost plus the option's own.
    pub cost: Summary,
    /// Share of iterations in which the option is the cheapest (a tie shared equally).
    pub prob_best: f64,
    /// Expected saving against `none` (`none`'s cost − this option's, draw by draw), with its
    /// Monte Carlo standard error.
    pub saving: Estimate,
}

/// The decision within one scope: the nation or one ICB.
#[derive(Debug, Clone)]
pub struct ScopeDecision {
    /// `national` or the ICB's code.
    pub code: String,
    pub name: String,
    /// The options open in this scope (every option nationally; in an ICB, the options of
    /// every ICB and its own), `none` first.
    pub options: Vec<OptionResult>,
    /// Index into `options` of the option with the lowest expected cost (the first of equals).
    pub best: usize,
    /// Expected value of perfect information.
    pub evpi: Estimate,
}

/// The expected value of learning one factor (or a group) before choosing, in one scope.
#[derive(Debug, Clone)]
pub struct Evppi {
    /// The factor's path, or the group's id.
    pub factor: String,
    pub label: String,
    /// A `[[factor_groups]]` entry rather than one factor.
    pub group: bool,
    /// Index into [`Decision::scopes`].
    pub scope: usize,
    pub value: Estimate,
}

/// A decision between options, nationally and in every ICB.
#[derive(Debug, Clone)]
pub struct Decision {
    pub options: Vec<Choice>,
    /// The nation first, then each ICB in table order.
    pub scopes: Vec<ScopeDecision>,
    /// For each scope with more than one option: each uncertain national factor, then each
    /// group, in the order given.
    pub evppi: Vec<Evppi>,
    pub iterations: usize,
}

impl Decision {
    /// The scope of `code` (`national` or an ICB code).
    pub fn scope(&self, code: &str) -> Option<&ScopeDecision> {
        self.scopes.iter().find(|s| s.code == code)
    }

    /// The EVPPI rows of scope `scope`, largest first.
    pub fn evppi_of(&self, scope: usize) -> Vec<&Evppi> {
        let mut rows: Vec<&Evppi> = self.evppi.iter().filter(|e| e.scope == scope).collect();
        rows.sort_by(|a, b| b.value.value.total_cmp(&a.value.value));
        rows
    }
}

/// A scope's costs, draw by draw, for each option open in it.
pub(crate) struct ScopeCosts {
    pub code: String,
    pub name: String,
    /// `(index into the options, cost per iteration)`, `none` first.
    pub costs: Vec<(usize, Vec<f64>)>,
}

/// An uncertain input whose value of information is estimated: a factor's or a group's
/// values, draw by draw.
pub(crate) struct Input {
    pub factor: String,
    pub label: String,
    pub group: bool,
    /// One column per factor (one for a single factor), each a value per iteration.
    pub columns: Vec<Vec<f64>>,
}

/// Draws of the regression coefficients for a standard error.
const SE_DRAWS: usize = 100;
/// The most iterations a coefficient draw is evaluated on.
const SE_ROWS: usize = 1000;
/// Knot quantiles of the natural cubic spline: Harrell's for six knots (Regression Modeling
/// Strategies, 2nd ed., table 2.3).
const KNOTS: [f64; 6] = [0.05, 0.23, 0.41, 0.59, 0.77, 0.95];
/// A factor with at most this many distinct values is regressed on by cell means.
const MAX_CELLS: usize = 12;

/// The decision in every scope, with the EVPPI of every input where there is a choice;
/// `seed` keys the coefficient draws of the standard errors.
pub(crate) fn decide(
    options: Vec<Choice>,
    scopes: Vec<ScopeCosts>,
    inputs: &[Input],
    seed: u64,
) -> Decision {
    let iterations = scopes.first().map_or(0, |s| s.costs[0].1.len());
    let decided: Vec<ScopeDecision> = scopes.par_iter().map(compare_options).collect();
    // The design of each input is shared by every scope.
    let designs: Vec<Design> = inputs.par_iter().map(|i| Design::of(&i.columns)).collect();
    let pairs: Vec<(usize, usize)> = (0..scopes.len())
        .filter(|&s| scopes[s].costs.len() > 1)
        .flat_map(|s| (0..inputs.len()).map(move |k| (s, k)))
        .collect();
    let evppi = pairs
        .par_iter()
        .map(|&(s, k)| {
            let costs: Vec<&[f64]> = scopes[s].costs.iter().map(|(_, c)| c.as_slice()).collect();
            let key = rng::key(&format!("evppi:{}:{}", scopes[s].code, inputs[k].factor));
            Evppi {
                factor: inputs[k].factor.clone(),
                label: inputs[k].label.clone(),
                group: inputs[k].group,
                scope: s,
                value: designs[k].evppi(&costs, decided[s].best, seed, key),
            }
        })
        .collect();
    Decision {
        options,
        scopes: decided,
        evppi,
        iterations,
    }
}

/// Expected costs, the probability that each option is the cheapest, savings against the
/// first (`none`) and the EVPI of one scope.
pub(crate) fn compare_options(scope: &ScopeCosts) -> ScopeDecision {
    let costs: Vec<&[f64]> = scope.costs.iter().map(|(_, c)| c.as_slice()).collect();
    let n = costs[0].len();
    let mut wins = vec![0.0; costs.len()];
    let mut lowest = vec![0.0; n];
    for i in 0..n {
        let min = costs.iter().map(|c| c[i]).fold(f64::INFINITY, f64::min);
        lowest[i] = min;
        let tied = costs.iter().filter(|c| c[i] == min).count() as f64;
        for (w, c) in wins.iter_mut().zip(&costs) {
            if c[i] == min {
                *w += 1.0 / tied;
            }
        }
    }
    let options: Vec<OptionResult> = scope
        .costs
        .iter()
        .zip(&wins)
        .map(|((option, c), w)| {
            let saving: Vec<f64> = costs[0].iter().zip(c).map(|(a, b)| a - b).collect();
            let saving = Summary::of(saving);
            OptionResult {
                option: *option,
                cost: Summary::of(c.clone()),
                prob_best: w / n as f64,
                saving: Estimate {
                    value: saving.mean,
                    se: saving.mcse_mean,
                },
            }
        })
        .collect();
    let best = best_by_mean(&options);
    let loss: Vec<f64> = costs[best]
        .iter()
        .zip(&lowest)
        .map(|(c, l)| c - l)
        .collect();
    let (value, sd) = mean_sd(&loss);
    ScopeDecision {
        code: scope.code.clone(),
        name: scope.name.clone(),
        best,
        evpi: Estimate {
            value,
            se: sd / (n as f64).sqrt(),
        },
        options,
    }
}

/// The option with the lowest expected cost; the first of equals.
fn best_by_mean(options: &[OptionResult]) -> usize {
    let mut best = 0;
    for (d, o) in options.iter().enumerate() {
        if o.cost.mean < options[best].cost.mean {
            best = d;
        }
    }
    best
}

/// The regression design of one input: its basis evaluated at every iteration, and the
/// Cholesky factor of `XᵀX`.
pub(crate) struct Design {
    /// `n × p`.
    x: DMatrix<f64>,
    /// `(XᵀX)⁻¹`.
    xtx_inv: DMatrix<f64>,
}

impl Design {
    /// The basis of the columns' values: an intercept, each column's spline (or cells), and
    /// for two or more columns the products of their linear terms.
    pub(crate) fn of(columns: &[Vec<f64>]) -> Design {
        let n = columns[0].len();
        let mut basis: Vec<Vec<f64>> = vec![vec![1.0; n]];
        let mut linear: Vec<Vec<f64>> = Vec::new();
        for column in columns {
            let (terms, lin) = one_factor(column);
            basis.extend(terms);
            linear.push(lin);
        }
        for a in 0..linear.len() {
            for b in a + 1..linear.len() {
                basis.push(
                    linear[a]
                        .iter()
                        .zip(&linear[b])
                        .map(|(x, y)| x * y)
                        .collect(),
                );
            }
        }
        let p = basis.len();
        let x = DMatrix::from_fn(n, p, |i, j| basis[j][i]);
        let xtx = x.tr_mul(&x);
        // A tiny ridge keeps a basis with nearly collinear terms solvable.
        let ridge = 1e-12 * xtx.trace() / p as f64;
        let xtx = xtx + DMatrix::identity(p, p) * ridge;
        let xtx_inv = xtx
            .clone()
            .cholesky()
            .map(|c| c.inverse())
            .or_else(|| xtx.pseudo_inverse(1e-12).ok())
            .unwrap_or_else(|| DMatrix::zeros(p, p));
        Design { x, xtx_inv }
    }

    /// EVPPI of the input for options with `costs` (draw by draw), `best` the option with the
    /// lowest expected cost. `key` and `seed` key the coefficient draws.
    pub(crate) fn evppi(&self, costs: &[&[f64]], best: usize, seed: u64, key: u64) -> Estimate {
        let (n, p) = self.x.shape();
        // Incremental net benefit of each other option over the best: positive where it is
        // cheaper.
        let others: Vec<usize> = (0..costs.len()).filter(|&d| d != best).collect();
        let m = others.len();
        let y = DMatrix::from_fn(n, m, |i, k| costs[best][i] - costs[others[k]][i]);
        let beta = &self.xtx_inv * self.x.tr_mul(&y);
        let fitted = &self.x * &beta;
        let residuals = &y - &fitted;
        let h: Vec<f64> = (0..n)
            .map(|i| (0..m).map(|k| fitted[(i, k)]).fold(0.0, f64::max))
            .collect();
        let means: Vec<f64> = (0..m).map(|k| fitted.column(k).mean()).collect();
        let baseline = means.iter().copied().fold(0.0, f64::max);
        let (mean_h, sd_h) = mean_sd(&h);
        let value = (mean_h - baseline).max(0.0);
        // The regression's error: coefficients drawn from N(β̂, Σ ⊗ (XᵀX)⁻¹), Σ the residuals'
        // covariance across options, each draw's EVPPI on evenly spaced iterations.
        let dof = (n.saturating_sub(p)).max(1) as f64;
        let sigma = residuals.tr_mul(&residuals) / dof;
        let l_sigma = lower(&sigma);
        let l_x = lower(&self.xtx_inv);
        let step = n.div_ceil(SE_ROWS).max(1);
        let rows: Vec<usize> = (0..n).step_by(step).collect();
        let mut rng = rng::stream(seed, 0, key, rng::key("evppi coefficients"));
        let draws: Vec<f64> = (0..SE_DRAWS)
            .map(|_| {
                let z = DMatrix::from_fn(p, m, |_, _| StandardNormal.sample(&mut rng));
                let b = &beta + &l_x * z * l_sigma.transpose();
                let mut total = 0.0;
                let mut column_means = vec![0.0; m];
                for &i in &rows {
                    let row = self.x.row(i);
                    let mut top = 0.0f64;
                    for (k, mean) in column_means.iter_mut().enumerate() {
                        let g = row.dot(&b.column(k).transpose());
                        *mean += g;
                        top = top.max(g);
                    }
                    total += top;
                }
                let r = rows.len() as f64;
                total / r - column_means.iter().map(|s| s / r).fold(0.0, f64::max)
            })
            .collect();
        let (_, sd_regression) = mean_sd(&draws);
        Estimate {
            value,
            se: (sd_regression.powi(2) + sd_h.powi(2) / n as f64).sqrt(),
        }
    }
}

/// The lower Cholesky factor of a covariance matrix (zeros where it is not positive definite).
fn lower(m: &DMatrix<f64>) -> DMatrix<f64> {
    let k = m.nrows();
    let ridge = 1e-12 * m.trace().abs().max(f64::MIN_POSITIVE) / k.max(1) as f64;
    (m + DMatrix::identity(k, k) * ridge)
        .cholesky()
        .map(|c| c.l())
        .unwrap_or_else(|| DMatrix::zeros(k, k))
}

/// The terms of one factor besides the intercept, and its linear term: with few distinct
/// values, an indicator of each but the first (cell means); otherwise a natural cubic spline
/// (ESL 5.2.1: `x`, then `d_k(x) − d_{K−1}(x)`), on the factor scaled to [0, 1].
fn one_factor(values: &[f64]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let width = if hi > lo { hi - lo } else { 1.0 };
    let x: Vec<f64> = values.iter().map(|v| (v - lo) / width).collect();
    let mut distinct = x.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if distinct.len() <= MAX_CELLS {
        let cells = distinct[1..]
            .iter()
            .map(|&c| x.iter().map(|&v| f64::from(u8::from(v == c))).collect())
            .collect();
        return (cells, x);
    }
    let mut sorted = x.clone();
    sorted.sort_by(f64::total_cmp);
    let mut knots: Vec<f64> = KNOTS
        .iter()
        .map(|&q| crate::stats::quantile_sorted(&sorted, q))
        .collect();
    knots.dedup();
    let mut terms = vec![x.clone()];
    if knots.len() >= 3 {
        let k = knots.len();
        let last = knots[k - 1];
        let d = |v: f64, j: usize| {
            let cube = |t: f64| t.max(0.0).powi(3);
            (cube(v - knots[j]) - cube(v - last)) / (last - knots[j])
        };
        for j in 0..k - 2 {
            terms.push(x.iter().map(|&v| d(v, j) - d(v, k - 2)).collect());
        }
    }
    (terms, x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    fn uniforms(seed: u64, stream: &str, n: usize) -> Vec<f64> {
        (0..n as u64)
            .map(|i| rng::stream(seed, i, 0, rng::key(stream)).random::<f64>())
            .collect()
    }

    fn scope(costs: Vec<Vec<f64>>) -> ScopeCosts {
        ScopeCosts {
            code: "national".into(),
            name: "England".into(),
            costs: costs.into_iter().enumerate().collect(),
        }
    }

    #[test]
    fn expected_costs_and_the_probability_best_on_a_known_case() {
        // Four draws: B is cheaper in draws 0 and 2, A in 1, tied in 3.
        let a = vec![10.0, 10.0, 10.0, 10.0];
        let b = vec![4.0, 16.0, 8.0, 10.0];
        let d = compare_options(&scope(vec![a, b]));
        assert_eq!(d.options[0].cost.mean, 10.0);
        assert_eq!(d.options[1].cost.mean, 9.5);
        assert_eq!(d.options[0].prob_best, 1.5 / 4.0);
        assert_eq!(d.options[1].prob_best, 2.5 / 4.0);
        assert_eq!(d.best, 1);
        assert_eq!(d.options[1].saving.value, 0.5);
        // EVPI: choosing B always loses (16 − 10) in draw 1 only.
        assert_eq!(d.evpi.value, 6.0 / 4.0);
    }

    #[test]
    fn an_option_identical_to_none_saves_exactly_nothing() {
        let a = uniforms(7, "a", 1000);
        let d = compare_options(&scope(vec![a.clone(), a]));
        assert_eq!(
            d.options[1].saving,
            Estimate {
                value: 0.0,
                se: 0.0
            }
        );
        assert_eq!(
            d.evpi,
            Estimate {
                value: 0.0,
                se: 0.0
            }
        );
        assert_eq!(d.options[0].prob_best, 0.5);
    }

    /// Two options, cost(none) = 1, cost(option) = 2 − θ − φ with θ, φ ~ U(0, 1): the
    /// incremental net benefit is θ + φ − 1. Then EVPI = E[max(0, θ + φ − 1)] = 1/6,
    /// EVPPI(θ) = E[max(0, θ − 1/2)] = 1/8, and EVPPI of both together is the EVPI.
    fn two_options(seed: u64, n: usize) -> (ScopeCosts, Vec<f64>, Vec<f64>) {
        let theta = uniforms(seed, "theta", n);
        let phi = uniforms(seed, "phi", n);
        let none = vec![1.0; n];
        let option: Vec<f64> = theta.iter().zip(&phi).map(|(t, f)| 2.0 - t - f).collect();
        (scope(vec![none, option]), theta, phi)
    }

    #[test]
    fn evpi_and_evppi_match_their_closed_forms_within_their_standard_errors() {
        let (costs, theta, phi) = two_options(20_240_801, 20_000);
        let d = compare_options(&costs);
        assert_eq!(d.best, 0, "both cost 1 in expectation; none is the first");
        let within = |e: Estimate, exact: f64, what: &str| {
            assert!(e.se > 0.0, "{what}: a standard error");
            assert!(
                (e.value - exact).abs() < 4.0 * e.se,
                "{what}: {} ± {} against {exact}",
                e.value,
                e.se
            );
        };
        within(d.evpi, 1.0 / 6.0, "EVPI");
        let c: Vec<&[f64]> = costs.costs.iter().map(|(_, c)| c.as_slice()).collect();
        for (column, name) in [(&theta, "theta"), (&phi, "phi")] {
            let e = Design::of(std::slice::from_ref(column)).evppi(&c, d.best, 1, 2);
            within(e, 1.0 / 8.0, name);
        }
        let both = Design::of(&[theta.clone(), phi.clone()]).evppi(&c, d.best, 1, 3);
        within(both, 1.0 / 6.0, "both");
        // A factor the costs do not depend on is worth nothing to learn.
        let other = uniforms(20_240_801, "other", 20_000);
        let e = Design::of(&[other]).evppi(&c, d.best, 1, 4);
        within(e, 0.0, "an unrelated factor");
    }

    #[test]
    fn a_nonlinear_evppi_matches_its_closed_form() {
        // cost(option) = 1.3 − θ² + (φ − 1/2): INB = θ² − 0.3 + (φ − 1/2), so
        // EVPPI(θ) = E[max(0, θ² − 0.3)] − max(0, E[θ² − 0.3])
        //          = ∫_{√0.3}^1 (t² − 0.3) dt − (1/3 − 0.3): the option is the better by
        // expectation.
        let n = 20_000;
        let theta = uniforms(11, "theta", n);
        let phi = uniforms(11, "phi", n);
        let none = vec![1.0; n];
        let option: Vec<f64> = theta
            .iter()
            .zip(&phi)
            .map(|(t, f)| 1.3 - t * t + (f - 0.5))
            .collect();
        let c: Vec<&[f64]> = vec![&none, &option];
        let d = compare_options(&scope(vec![none.clone(), option.clone()]));
        let r = 0.3f64.sqrt();
        let exact = (1.0 - r.powi(3)) / 3.0 - 0.3 * (1.0 - r) - (1.0 / 3.0 - 0.3);
        assert_eq!(d.best, 1);
        let e = Design::of(&[theta]).evppi(&c, d.best, 1, 5);
        assert!(
            (e.value - exact).abs() < 4.0 * e.se,
            "{} ± {} against {exact}",
            e.value,
            e.se
        );
    }

    #[test]
    fn a_factor_with_two_values_is_regressed_by_cell_means() {
        // INB = 1 − 2b + noise with b ~ Bernoulli(1/2): learning b is worth E[max(0, 1 − 2b)] = 1/2.
        let n = 10_000;
        let b: Vec<f64> = uniforms(3, "b", n)
            .iter()
            .map(|u| f64::from(u8::from(*u < 0.5)))
            .collect();
        let noise = uniforms(3, "noise", n);
        let none = vec![0.0; n];
        let option: Vec<f64> = b
            .iter()
            .zip(&noise)
            .map(|(b, e)| -(1.0 - 2.0 * b) - (e - 0.5))
            .collect();
        let c: Vec<&[f64]> = vec![&none, &option];
        let d = compare_options(&scope(vec![none.clone(), option.clone()]));
        let e = Design::of(&[b]).evppi(&c, d.best, 1, 6);
        let exact = 0.5;
        assert!(
            (e.value - exact).abs() < 4.0 * e.se,
            "{} ± {} against {exact}",
            e.value,
            e.se
        );
    }
}
