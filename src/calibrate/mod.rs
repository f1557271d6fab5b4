//! Calibration: which values of the national factors are consistent with the published
//! figures, and what the model says once it respects them.
//!
//! The model is cheap, so it is simulated directly (no emulator). Draw *i* of the prior is one
//! iteration: its national factors `θ_i`, and for each figure *k* the like-for-like quantity
//! `z_k(i)` from the run derived for that figure's scope (the derived runs share the
//! scenario's keyed streams, so iteration *i* of each is the same `θ_i`). Each figure is an
//! observation `y_k` with the figure's own sd and a model-discrepancy sd, `s_k² = obs_k² +
//! disc_k²` (on the log scale for a lognormal observation, `s = √ln(1 + s_k² / y_k²)`).
//!
//! - **History matching**: the implausibility of draw *i* for figure *k* is
//!   `|y_k − z_k(i)| / s_k`; a draw is non-implausible when the largest over figures is at
//!   most [`CUTOFF`].
//! - **Posterior** by importance weighting of the non-implausible draws:
//!   `w_i ∝ Π_k φ((y_k − z_k(i)) / s_k)` where every figure's implausibility is within the
//!   cut-off, 0 elsewhere (a likelihood truncated at three sds, which moves a normal
//!   posterior by well under 1% of its sd), with the effective sample size `(Σw)² / Σw²`.
//!   Below [`MIN_ESS`] no posterior is reported; the figures that conflict, with the priors
//!   or with each other, are named instead.
//! - **Leave-one-out**: each figure's percentile in the posterior predictive of the other
//!   figures' calibration.
//!
//! This module is arithmetic on those draws; `pipeline::calibrate` makes them.

use rand::RngExt;
use serde::Serialize;

use crate::model::Slot;
use crate::rng::{key, stream, NATIONAL};

/// The implausibility cut-off: three standard deviations (Pukelsheim's three-sigma rule, as
/// history matching uses it).
pub const CUTOFF: f64 = 3.0;
/// Below this effective sample size no posterior is reported.
pub const MIN_ESS: f64 = 200.0;
/// Waves of refocusing at most (the first included).
pub const MAX_WAVES: usize = 5;
/// The model-discrepancy sd when a figure states none: this share of the published figure.
pub const DEFAULT_DISCREPANCY: f64 = 0.10;

/// How a published figure scatters around the modelled quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observation {
    /// `y ~ Normal(z, s²)`.
    #[default]
    Normal,
    /// `ln y ~ Normal(ln z, ln(1 + s² / y²))`: a figure known within a factor rather than a
    /// margin.
    Lognormal,
}

impl Observation {
    pub fn as_str(self) -> &'static str {
        crate::names::name_of(&self)
    }
}

/// One published figure as an observation, with the simulated quantity in each draw.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub label: String,
    pub published: f64,
    /// The figure's unit: `gbp`, or the activity it counts.
    pub unit: String,
    /// The figure's own sd as an observation, in its unit.
    pub observation_sd: f64,
    /// The model-discrepancy sd, in its unit.
    pub discrepancy_sd: f64,
    pub observation: Observation,
    /// `z(i)`, one per draw.
    pub values: Vec<f64>,
}

impl Target {
    /// The total sd, on the scale the observation is compared on.
    fn scale(&self) -> f64 {
        let s2 = self.observation_sd.powi(2) + self.discrepancy_sd.powi(2);
        match self.observation {
            Observation::Normal => s2.sqrt(),
            Observation::Lognormal => (1.0 + s2 / self.published.powi(2)).ln().sqrt(),
        }
    }

    /// `(y − z) / s` for draw value `z` (on the log scale for a lognormal observation; −∞ or
    /// +∞ where `z ≤ 0` there).
    fn standardised(&self, z: f64, scale: f64) -> f64 {
        match self.observation {
            Observation::Normal => (self.published - z) / scale,
            Observation::Lognormal if z > 0.0 => (self.published.ln() - z.ln()) / scale,
            Observation::Lognormal => f64::INFINITY,
        }
    }

    /// The implausibility of each draw, and its log-likelihood up to a constant.
    fn terms(&self) -> (Vec<f64>, Vec<f64>) {
        let scale = self.scale();
        self.values
            .iter()
            .map(|&z| {
                let d = self.standardised(z, scale);
                (d.abs(), -0.5 * d * d)
            })
            .unzip()
    }
}

/// A figure of the benchmark table that calibration does not use, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unused {
    pub id: String,
    pub reason: String,
}

/// A national factor's values in each draw.
#[derive(Debug, Clone)]
pub struct FactorDraws {
    pub path: String,
    pub values: Vec<f64>,
}

/// Mean and 90% interval, from weighted draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub mean: f64,
    pub p05: f64,
    pub p95: f64,
}

impl Interval {
    /// Of `values` with `weights` (summing to 1).
    pub fn of(values: &[f64], weights: &[f64]) -> Interval {
        Interval {
            mean: values.iter().zip(weights).map(|(x, w)| x * w).sum(),
            p05: weighted_quantile(values, weights, 0.05),
            p95: weighted_quantile(values, weights, 0.95),
        }
    }
}

/// The smallest value whose cumulative weight reaches `p` (weights summing to 1); ties in
/// value keep draw order, so the result does not depend on how the draws were computed.
pub fn weighted_quantile(values: &[f64], weights: &[f64], p: f64) -> f64 {
    let mut order: Vec<usize> = (0..values.len()).filter(|&i| weights[i] > 0.0).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let mut cumulative = 0.0;
    for &i in &order {
        cumulative += weights[i];
        if cumulative >= p * (1.0 - 1e-12) {
            return values[i];
        }
    }
    order.last().map_or(f64::NAN, |&i| values[i])
}

/// Share of the weight on draws whose value is at most `x`, in percent.
fn weighted_percentile(values: &[f64], weights: &[f64], x: f64) -> f64 {
    100.0
        * values
            .iter()
            .zip(weights)
            .filter(|(&v, _)| v <= x)
            .map(|(_, w)| w)
            .sum::<f64>()
}

/// Normalised weights from log-weights (all −∞: all zero).
fn normalise(log_weights: &[f64]) -> Vec<f64> {
    let top = log_weights
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return vec![0.0; log_weights.len()];
    }
    let raw: Vec<f64> = log_weights.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = raw.iter().sum();
    raw.into_iter().map(|w| w / total).collect()
}

/// `(Σw)² / Σw²` of normalised weights.
pub fn ess(weights: &[f64]) -> f64 {
    let sq: f64 = weights.iter().map(|w| w * w).sum();
    if sq > 0.0 {
        1.0 / sq
    } else {
        0.0
    }
}

/// A factor before and after calibration.
#[derive(Debug, Clone)]
pub struct FactorRow {
    pub path: String,
    pub prior: Interval,
    /// `None` when no posterior is reported.
    pub posterior: Option<Interval>,
}

/// A figure before and after calibration.
#[derive(Debug, Clone)]
pub struct FigureRow {
    pub id: String,
    pub label: String,
    pub published: f64,
    /// The figure's unit: `gbp`, or the activity it counts.
    pub unit: String,
    /// The total sd it was compared with, in its unit: observation and discrepancy.
    pub sd: f64,
    pub observation: Observation,
    pub prior: Interval,
    pub posterior: Option<Interval>,
    /// Share of prior draws within [`CUTOFF`] of this figure.
    pub non_implausible_share: f64,
    /// The smallest implausibility any prior draw reaches for this figure.
    pub best_implausibility: f64,
    /// Where the figure falls (0–100) in the posterior predictive of a calibration to the
    /// other figures; `None` when that calibration has too small an ESS or there is no other
    /// figure.
    pub loo_percentile: Option<f64>,
}

/// Figures that cannot be matched together.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    /// One figure (conflicting with the priors) or two (with each other).
    pub figures: Vec<String>,
    /// The smallest, over draws, of the largest implausibility among these figures.
    pub best_implausibility: f64,
    /// The ESS of a calibration to these figures alone.
    pub ess: f64,
}

/// A calibration's results.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub draws: usize,
    /// Waves run (1: no refocusing).
    pub waves: usize,
    /// The non-implausible share of each wave's draws, the prior's first.
    pub wave_shares: Vec<f64>,
    pub ess: f64,
    /// Share of draws whose largest implausibility is at most [`CUTOFF`].
    pub non_implausible_share: f64,
    /// Whether the ESS reached [`MIN_ESS`], so that a posterior is reported.
    pub posterior_reported: bool,
    /// Normalised importance weights, one per draw.
    pub weights: Vec<f64>,
    /// The largest implausibility over figures, one per draw.
    pub implausibility: Vec<f64>,
    pub factors: Vec<FactorRow>,
    pub figures: Vec<FigureRow>,
    pub conflicts: Vec<Conflict>,
}

/// Calibrates the draws of `factors` to `targets` (every vector one value per draw).
pub fn calibrate(factors: &[FactorDraws], targets: &[Target]) -> Calibration {
    let n = targets
        .first()
        .map(|t| t.values.len())
        .or(factors.first().map(|f| f.values.len()))
        .unwrap_or(0);
    let terms: Vec<(Vec<f64>, Vec<f64>)> = targets.iter().map(Target::terms).collect();
    // The log-weights of a calibration to the figures not in `skip`: zero weight where any of
    // them finds the draw implausible (history matching first), the likelihood elsewhere.
    let log_weights = |skip: &[usize]| -> Vec<f64> {
        (0..n)
            .map(|i| {
                let mut total = 0.0;
                for (_, (imp, ll)) in terms.iter().enumerate().filter(|(k, _)| !skip.contains(k)) {
                    if imp[i] > CUTOFF {
                        return f64::NEG_INFINITY;
                    }
                    total += ll[i];
                }
                total
            })
            .collect()
    };
    let only = |keep: &[usize]| -> Vec<usize> {
        (0..targets.len()).filter(|k| !keep.contains(k)).collect()
    };
    let weights = normalise(&log_weights(&[]));
    let ess_all = ess(&weights);
    let reported = ess_all >= MIN_ESS;
    let equal = vec![1.0 / n as f64; n];
    let implausibility: Vec<f64> = (0..n)
        .map(|i| terms.iter().map(|(imp, _)| imp[i]).fold(0.0, f64::max))
        .collect();
    let share = |imp: &[f64]| imp.iter().filter(|&&x| x <= CUTOFF).count() as f64 / n.max(1) as f64;
    let factor_rows = factors
        .iter()
        .map(|f| FactorRow {
            path: f.path.clone(),
            prior: Interval::of(&f.values, &equal),
            posterior: reported.then(|| Interval::of(&f.values, &weights)),
        })
        .collect();
    let figure_rows = targets
        .iter()
        .zip(&terms)
        .enumerate()
        .map(|(k, (t, (imp, _)))| {
            let loo = normalise(&log_weights(&[k]));
            FigureRow {
                id: t.id.clone(),
                label: t.label.clone(),
                published: t.published,
                unit: t.unit.clone(),
                sd: (t.observation_sd.powi(2) + t.discrepancy_sd.powi(2)).sqrt(),
                observation: t.observation,
                prior: Interval::of(&t.values, &equal),
                posterior: reported.then(|| Interval::of(&t.values, &weights)),
                non_implausible_share: share(imp),
                best_implausibility: imp.iter().copied().fold(f64::INFINITY, f64::min),
                loo_percentile: (targets.len() > 1 && ess(&loo) >= MIN_ESS)
                    .then(|| weighted_percentile(&t.values, &loo, t.published)),
            }
        })
        .collect();
    let conflicts = if reported {
        Vec::new()
    } else {
        conflicts(targets, &terms, n, &|keep| {
            ess(&normalise(&log_weights(&only(keep))))
        })
    };
    Calibration {
        draws: n,
        waves: 1,
        wave_shares: vec![share(&implausibility)],
        ess: ess_all,
        non_implausible_share: share(&implausibility),
        posterior_reported: reported,
        weights,
        implausibility,
        factors: factor_rows,
        figures: figure_rows,
        conflicts,
    }
}

impl Calibration {
    /// This calibration of a refocused wave, with what only the first wave (the prior's own
    /// draws) can say put back: each factor's prior interval, each figure's prior predictive,
    /// non-implausible share and best implausibility; and the waves' shares.
    pub fn with_prior_of(&mut self, first: &Calibration, wave_shares: Vec<f64>) {
        for (f, p) in self.factors.iter_mut().zip(&first.factors) {
            f.prior = p.prior;
        }
        for (f, p) in self.figures.iter_mut().zip(&first.figures) {
            f.prior = p.prior;
            f.non_implausible_share = p.non_implausible_share;
            f.best_implausibility = p.best_implausibility;
        }
        self.waves = wave_shares.len();
        self.wave_shares = wave_shares;
    }
}

/// The factors with a posterior, by how far the mean moved in units of the prior's 90%
/// interval, most first.
pub fn moved(c: &Calibration) -> Vec<(&FactorRow, Interval)> {
    let mut moved: Vec<(f64, &FactorRow, Interval)> = c
        .factors
        .iter()
        .filter_map(|f| {
            let post = f.posterior?;
            let width = f.prior.p95 - f.prior.p05;
            (width > 0.0).then(|| ((post.mean - f.prior.mean).abs() / width, f, post))
        })
        .collect();
    moved.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.path.cmp(&b.1.path)));
    moved.into_iter().map(|(_, f, post)| (f, post)).collect()
}

/// Figures that conflict with the priors (alone, too small an ESS), then pairs of figures
/// each matched alone that conflict with each other.
fn conflicts(
    targets: &[Target],
    terms: &[(Vec<f64>, Vec<f64>)],
    n: usize,
    ess_of: &dyn Fn(&[usize]) -> f64,
) -> Vec<Conflict> {
    let best = |set: &[usize]| {
        (0..n)
            .map(|i| set.iter().map(|&k| terms[k].0[i]).fold(0.0, f64::max))
            .fold(f64::INFINITY, f64::min)
    };
    let mut out = Vec::new();
    let mut alone_ok = Vec::new();
    for (k, target) in targets.iter().enumerate() {
        let e = ess_of(&[k]);
        if e < MIN_ESS {
            out.push(Conflict {
                figures: vec![target.id.clone()],
                best_implausibility: best(&[k]),
                ess: e,
            });
        } else {
            alone_ok.push(k);
        }
    }
    for (a, &j) in alone_ok.iter().enumerate() {
        for &k in &alone_ok[a + 1..] {
            let e = ess_of(&[j, k]);
            if e < MIN_ESS {
                out.push(Conflict {
                    figures: vec![targets[j].id.clone(), targets[k].id.clone()],
                    best_implausibility: best(&[j, k]),
                    ess: e,
                });
            }
        }
    }
    out
}

/// The seed of wave `wave` (1 is the scenario's own): fresh keyed streams for every draw of a
/// refocused wave, the same whatever the thread count.
pub fn wave_seed(seed: u64, wave: usize) -> u64 {
    if wave <= 1 {
        seed
    } else {
        seed ^ key(&format!("calibrate:wave:{wave}"))
    }
}

/// The prior draws of the national factors: `n` draws of each slot from its keyed stream.
pub fn prior_draws(slots: &[Slot], seed: u64, n: usize) -> Vec<FactorDraws> {
    slots
        .iter()
        .map(|slot| FactorDraws {
            path: slot.path.clone(),
            values: (0..n as u64)
                .map(|i| slot.draw(seed, i, NATIONAL, NATIONAL))
                .collect(),
        })
        .collect()
}

/// The draws of the next wave: each factor's prior truncated to the range its non-implausible
/// draws of this wave span (history matching's refocusing), drawn by inversion from keyed
/// streams with `seed`. A factor net of a baseline is drawn from its whole prior. Weighting the
/// new draws by the likelihood alone is then exact within the box, since the proposal is the
/// prior there; the posterior outside the box, which the previous wave found implausible, is
/// taken as nil.
pub fn refocus(
    slots: &[Slot],
    previous: &[FactorDraws],
    implausibility: &[f64],
    seed: u64,
    n: usize,
) -> Vec<FactorDraws> {
    slots
        .iter()
        .zip(previous)
        .map(|(slot, prev)| {
            let kept = prev
                .values
                .iter()
                .zip(implausibility)
                .filter(|(_, &imp)| imp <= CUTOFF)
                .map(|(&v, _)| v);
            let (lo, hi) = kept.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
            let values = if slot.baseline.is_some() || lo > hi {
                (0..n as u64)
                    .map(|i| slot.draw(seed, i, NATIONAL, NATIONAL))
                    .collect()
            } else {
                let spec = slot.dist.spec();
                let (a, b) = (
                    cdf(&|p| spec.quantile(p), lo),
                    cdf(&|p| spec.quantile(p), hi),
                );
                (0..n as u64)
                    .map(|i| {
                        let u: f64 = stream(seed, i, NATIONAL, slot.stream).random();
                        spec.quantile(a + u * (b - a)).clamp(lo, hi)
                    })
                    .collect()
            };
            FactorDraws {
                path: slot.path.clone(),
                values,
            }
        })
        .collect()
}

/// The probability `p` at which a quantile function reaches `x`, by bisection (to 2⁻⁵²).
fn cdf(quantile: &dyn Fn(f64) -> f64, x: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if quantile(mid) < x {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests;
