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
//!
//! Extensions, each a special case of the same product (see `docs/model.md`): an exponential
//! ramp `1 − exp(−(months since start + 1) / tau)`; a notice period that moves the start of the
//! effect; a recovery after the end, `w(m) = w(end) × r(m − end)`; negative lines (×−1); a
//! factor net of a baseline, `max(0, x − b)`; an engagement curve that multiplies `w(m)` (held
//! at its value in the last active month through a recovery) and an ICB engagement factor
//! shared by all engaged actions (with the additional share of their participation, if given);
//! factors and lines that count in one cost view only.

use crate::correlation;
use crate::data::IcbTable;
use crate::dist::Dist;
use crate::error::Problem;
use crate::month::Month;
use crate::practices::PracticeTable;
use crate::rng::{self, stream};
use crate::scenario::{Factor, Override, Ramp, Sampling, Scenario, Timing, Vary};
use nalgebra::DMatrix;
use rand_distr::{Distribution, StandardNormal};

mod own;
mod practice;
mod resample;

use own::owns;
pub use own::{Own, OwnLine};
pub use practice::{Participation, PracticeModel, Share};
pub use resample::Resample;

/// The time weight `w(m)` of a timing in month `m` (0 to 1): the build-up to the end, then
/// `w(end) × r(m − end)` with the timing's recovery `r` (0 without one).
pub fn time_weight(timing: &Timing, month: Month) -> f64 {
    match timing.end {
        Some(end) if month > end => timing.recovery.as_ref().map_or(0.0, |r| {
            build_up(timing, end) * r.remaining(month.since(end) as u32)
        }),
        _ => build_up(timing, month),
    }
}

/// The weight in month `m` of an action that has not ended: 0 before the effect starts, then
/// the ramp.
fn build_up(timing: &Timing, month: Month) -> f64 {
    let since = month.since(timing.effect_start());
    if since < 0 {
        return 0.0;
    }
    let k = f64::from(since + 1);
    match timing.ramp {
        Ramp::Linear { months } => (k / f64::from(months)).min(1.0),
        Ramp::Exponential { tau_months } => 1.0 - (-k / tau_months).exp(),
    }
}

/// A factor the engine draws: its stream and its distribution, and optionally a baseline
/// subtracted from it.
#[derive(Debug, Clone)]
pub struct Slot {
    /// The factor's path in the scenario.
    pub path: String,
    /// The factor's line in the scenario file.
    pub line: usize,
    pub stream: u64,
    pub dist: Dist,
    pub baseline: Option<(u64, Dist)>,
    /// Correlation of normal scores between ICBs of one region (ICB-level factors only).
    pub region_correlation: f64,
}

impl Slot {
    fn of(f: &Factor) -> Slot {
        Slot {
            path: f.path.clone(),
            line: f.line,
            stream: f.stream,
            dist: f.dist.clone(),
            baseline: f.baseline.as_ref().map(|b| (b.stream, b.dist.clone())),
            region_correlation: f.region_correlation,
        }
    }

    /// The factor's value in one iteration for one entity (an ICB, or [`rng::NATIONAL`]),
    /// whose NHS region is `region` (ignored without a regional component).
    ///
    /// With a regional component ρ the draw goes through a Gaussian copula:
    /// `z = √ρ Z_region + √(1 − ρ) Z_icb`, value `F⁻¹(Φ(z))`, so ICBs of one region have
    /// normal scores correlated ρ and the factor's distribution is unchanged.
    #[inline]
    pub fn draw(&self, seed: u64, iteration: u64, entity: u64, region: u64) -> f64 {
        let x = if self.region_correlation > 0.0 {
            let rho = self.region_correlation;
            let z_region: f64 =
                StandardNormal.sample(&mut stream(seed, iteration, region, self.stream));
            let z_icb: f64 =
                StandardNormal.sample(&mut stream(seed, iteration, entity, self.stream));
            let z = rho.sqrt() * z_region + (1.0 - rho).sqrt() * z_icb;
            self.dist.spec().quantile(normal_cdf(z))
        } else {
            self.dist
                .sample(&mut stream(seed, iteration, entity, self.stream))
        };
        self.net_of_baseline(x, seed, iteration, entity)
    }

    /// The same value as [`Slot::draw`], with the entity's part of the stream key already
    /// mixed (`rng::entity_key(rng::iteration_key(seed, iteration), entity)`), so a loop over
    /// an entity's factors mixes it once.
    #[inline]
    pub fn draw_keyed(
        &self,
        entity_key: u64,
        seed: u64,
        iteration: u64,
        entity: u64,
        region: u64,
    ) -> f64 {
        if self.region_correlation > 0.0 {
            return self.draw(seed, iteration, entity, region);
        }
        let x = self.dist.sample(&mut rng::keyed(entity_key, self.stream));
        match &self.baseline {
            None => x,
            Some((key, dist)) => (x - dist.sample(&mut rng::keyed(entity_key, *key))).max(0.0),
        }
    }

    /// `max(0, x − baseline)` with the baseline drawn from its own stream; `x` without one.
    #[inline]
    pub fn net_of_baseline(&self, x: f64, seed: u64, iteration: u64, entity: u64) -> f64 {
        match &self.baseline {
            None => x,
            Some((key, dist)) => {
                (x - dist.sample(&mut stream(seed, iteration, entity, *key))).max(0.0)
            }
        }
    }

    /// The value when nothing about it is uncertain.
    fn fixed_value(f: &Factor) -> Option<f64> {
        let base = match &f.baseline {
            None => Some(None),
            Some(b) => b.dist.is_fixed().then(|| Some(b.dist.mean())),
        };
        match (f.dist.is_fixed(), base) {
            (true, Some(None)) => Some(f.dist.mean()),
            (true, Some(Some(b))) => Some((f.dist.mean() - b).max(0.0)),
            _ => None,
        }
    }
}

/// The target correlation matrix over the national slots, repaired to the nearest valid one
/// (with a warning) when the pairs given are not jointly possible.
fn correlation_matrix(
    scenario: &Scenario,
    national: &[Slot],
    warnings: &mut Vec<String>,
) -> Option<DMatrix<f64>> {
    if scenario.correlations.is_empty() {
        return None;
    }
    let k = national.len();
    let mut m = DMatrix::<f64>::identity(k, k);
    for c in &scenario.correlations {
        let index = |path: &str| national.iter().position(|s| s.path == path);
        match (index(&c.a), index(&c.b)) {
            (Some(i), Some(j)) => {
                m[(i, j)] = c.rank_correlation;
                m[(j, i)] = c.rank_correlation;
            }
            _ => warnings.push(format!(
                "the correlation between {} and {} is not applied: one of them does not count in the {} view",
                c.a,
                c.b,
                scenario.cost_view.as_str()
            )),
        }
    }
    if !correlation::is_positive_definite(&m) {
        let repaired = correlation::nearest_correlation(&m);
        let largest = (&repaired - &m).abs().max();
        warnings.push(format!(
            "the correlations given are not jointly possible (the matrix is not positive definite); \
             using the nearest valid correlation matrix (largest change {largest:.3})"
        ));
        m = repaired;
    }
    Some(m)
}

/// The standard normal CDF.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2)
}

/// One cost line, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Line {
    /// `actions.<id>.costs[<n>]`.
    pub path: String,
    /// Index of the action in the scenario.
    pub action: usize,
    /// The driver per ICB; `None` is 1 per ICB.
    pub driver: Option<Vec<f64>>,
    /// Product of the line's fixed factors (action's and line's), and −1 for a negative line.
    pub constant: f64,
    /// Indices into [`Model::national`] of the line's national factors.
    pub national: Vec<usize>,
    /// Indices into [`Model::per_icb`] of the line's ICB-level factors.
    pub per_icb: Vec<usize>,
    /// `w(m) / 12` for each month of the horizon (times the engagement curve, if engaged, at
    /// ICB level; at practice level the curve decides which practices take part instead).
    pub month_weights: Vec<f64>,
    /// `Σ_m w(m) / 12`.
    pub weight_sum: f64,
    /// At practice level: which share of its ICB each practice takes of this line's driver
    /// ([`PracticeModel::shares`]).
    pub share: Share,
}

/// A scenario compiled against an ICB table.
#[derive(Debug, Clone)]
pub struct Model {
    pub seed: u64,
    pub months: usize,
    pub n_actions: usize,
    /// `rng::key(icb_code)` for each ICB, in table order.
    pub icb_keys: Vec<u64>,
    /// `rng::key("region:" + region)` for each ICB: the stream of its regional components.
    pub region_keys: Vec<u64>,
    pub sampling: Sampling,
    /// Target rank correlations among the national slots (positive definite), if any.
    pub correlation: Option<DMatrix<f64>>,
    /// Things worth saying about the compiled model (a repaired correlation matrix, say).
    pub warnings: Vec<String>,
    /// Uncertain factors drawn once per iteration for all ICBs.
    pub national: Vec<Slot>,
    /// Uncertain factors drawn per ICB.
    pub per_icb: Vec<Slot>,
    pub lines: Vec<Line>,
    /// Sums of ICBs the engine tallies as it runs: the NHS regions (in order of first
    /// appearance in the table).
    pub groups: Vec<Group>,
    /// The per-ICB reference figure: the engine counts the iterations above it.
    pub reference: f64,
    /// Practice-level participation, with `granularity = "practice"`.
    pub practices: Option<PracticeModel>,
    /// The ICBs with their own values of factors (`[[overrides]]`), in table order; empty
    /// when there are none, and then the engine never looks at it.
    pub own: Vec<Own>,
    /// A calibrated model's national factors, resampled from a posterior instead of drawn.
    pub posterior: Option<Resample>,
}

/// A sum of ICBs, each weighted, tallied per iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub kind: GroupKind,
    /// The body's code (empty for a region).
    pub code: String,
    pub name: String,
    /// `(ICB index, weight)`, in table order.
    pub members: Vec<(usize, f64)>,
}

/// What a group of ICBs is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// An NHS England region.
    Region,
    /// A body that replaced ICBs (`icb_map`).
    Body,
    /// An ICB of the table a footprint rebuilt: its part of each body its practices are in,
    /// by registered patients.
    Former,
}

/// The ICBs of the table a footprint rebuilt `table` from, as groups of its rows (none for a
/// table as read).
pub fn former_groups(table: &IcbTable) -> Vec<Group> {
    table
        .former
        .iter()
        .map(|f| Group {
            kind: GroupKind::Former,
            code: f.code.clone(),
            name: f.name.clone(),
            members: f.parts.iter().map(|&(row, part, _)| (row, part)).collect(),
        })
        .collect()
}

/// A product of factors being compiled: a line's, or an action's participation.
struct Product<'a> {
    constant: &'a mut f64,
    national: &'a mut Vec<usize>,
    per_icb: &'a mut Vec<usize>,
}

impl Product<'_> {
    /// Multiplies by `factor`: a fixed value into the constant, an uncertain one by its slot,
    /// added if new (a factor shared by several lines, the action's or the engagement, is one
    /// draw).
    fn multiply(self, factor: &Factor, national: &mut Vec<Slot>, per_icb: &mut Vec<Slot>) {
        if let Some(value) = Slot::fixed_value(factor) {
            *self.constant *= value;
            return;
        }
        let (slots, indices) = match factor.vary {
            Vary::National => (national, self.national),
            Vary::Icb => (per_icb, self.per_icb),
        };
        let at = slots
            .iter()
            .position(|s| s.stream == factor.stream)
            .unwrap_or_else(|| {
                slots.push(Slot::of(factor));
                slots.len() - 1
            });
        indices.push(at);
    }
}

/// The NHS regions of a table, in order of first appearance (none where the table has no
/// regions).
fn regions(table: &IcbTable) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (i, r) in table.regions.iter().enumerate() {
        if r.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|g| &g.name == r) {
            Some(g) => g.members.push((i, 1.0)),
            None => groups.push(Group {
                kind: GroupKind::Region,
                code: String::new(),
                name: r.clone(),
                members: vec![(i, 1.0)],
            }),
        }
    }
    groups
}

/// A warning for each action whose effect (its recovery included) lies wholly outside the
/// horizon: it adds nothing.
fn idle_actions(scenario: &Scenario) -> Vec<String> {
    let (first, last) = (scenario.start, scenario.end());
    scenario
        .actions
        .iter()
        .filter(|a| !a.acts_within(first, last))
        .map(|a| {
            let t = &a.timing;
            format!(
                "action '{}' has effect {} to {}, outside the horizon {first} to {last}: it adds nothing",
                a.id,
                t.effect_start(),
                t.effect_end().map_or("the end".to_string(), |e| e.to_string())
            )
        })
        .collect()
}

impl Model {
    /// Compiles the scenario for its cost view with ICB-level participation; problems name
    /// scenario fields (a driver column the table lacks).
    pub fn new(scenario: &Scenario, table: &IcbTable) -> Result<Model, Vec<Problem>> {
        Self::compile(scenario, table, None)
    }

    /// Compiles the scenario with practice-level participation over `practices`.
    pub fn at_practices(
        scenario: &Scenario,
        table: &IcbTable,
        practices: &PracticeTable,
    ) -> Result<Model, Vec<Problem>> {
        Self::compile(scenario, table, Some(practices))
    }

    fn compile(
        scenario: &Scenario,
        table: &IcbTable,
        practices: Option<&PracticeTable>,
    ) -> Result<Model, Vec<Problem>> {
        let at_practices = practices.is_some();
        let mut participation = Vec::new();
        let view = scenario.cost_view;
        let horizon: Vec<Month> = (0..scenario.months as i32)
            .map(|m| scenario.start.plus(m))
            .collect();
        let mut national = Vec::new();
        let mut per_icb = Vec::new();
        let mut problems = Vec::new();
        let mut lines = Vec::new();
        let (mut own, given) = owns(scenario, table, at_practices, &mut problems);
        for (a, action) in scenario.actions.iter().enumerate() {
            let engagement = scenario.engagement.as_ref().filter(|_| action.engaged);
            let first_line = lines.len();
            // Through a recovery the effect is what the practices taking part in the last
            // active month left behind: the curve is held at that month.
            let curve: Vec<f64> = horizon
                .iter()
                .map(|&m| {
                    let m = action.timing.end.map_or(m, |end| m.min(end));
                    engagement.map_or(1.0, |e| e.share(m))
                })
                .collect();
            let mut part = Participation {
                stream: rng::key(&format!("participation:{}", action.id)),
                constant: 1.0,
                national: Vec::new(),
                per_icb: Vec::new(),
                levels: Vec::new(),
                month_level: Vec::new(),
                lines: 0..0,
            };
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
                                    table.file.source,
                                    table.columns.join(", ")
                                ),
                            ));
                            None
                        }
                    },
                };
                if !cost.views.contains(&view) {
                    continue;
                }
                // At practice level the curve decides which practices take part instead.
                let month_weights: Vec<f64> = horizon
                    .iter()
                    .zip(&curve)
                    .map(|(&m, &c)| {
                        time_weight(&cost.timing, m) * if at_practices { 1.0 } else { c } / 12.0
                    })
                    .collect();
                let mut line = Line {
                    path: format!("actions.{}.costs[{n}]", action.id),
                    action: a,
                    share: Share::of_driver(cost.driver.as_deref()),
                    driver,
                    constant: if cost.negative { -1.0 } else { 1.0 },
                    national: Vec::new(),
                    per_icb: Vec::new(),
                    weight_sum: month_weights.iter().sum(),
                    month_weights,
                };
                let mut own_lines: Vec<OwnLine> = own
                    .iter()
                    .map(|_| OwnLine {
                        constant: line.constant,
                        national: Vec::new(),
                        per_icb: Vec::new(),
                        own: Vec::new(),
                    })
                    .collect();
                let factors = engagement
                    .map(|e| &e.icb)
                    .into_iter()
                    .chain(engagement.and_then(|e| e.additional_for(action)))
                    .chain(&action.factors)
                    .chain(&cost.factors);
                for factor in factors.filter(|f| f.view.is_none_or(|v| v == view)) {
                    // At practice level the participation factors (and the engagement, the
                    // first of the chain) make each practice's probability of taking part,
                    // gathered with the action's first line, so that slots come in the same
                    // order as at ICB level.
                    let participates = factor.participation
                        || engagement.is_some_and(|e| e.factors().any(|f| f.path == factor.path));
                    let product = match at_practices && participates {
                        true if lines.len() > first_line => continue,
                        true => Product {
                            constant: &mut part.constant,
                            national: &mut part.national,
                            per_icb: &mut part.per_icb,
                        },
                        false => Product {
                            constant: &mut line.constant,
                            national: &mut line.national,
                            per_icb: &mut line.per_icb,
                        },
                    };
                    product.multiply(factor, &mut national, &mut per_icb);
                    if at_practices && participates {
                        continue;
                    }
                    for ((own, given), own_line) in own.iter_mut().zip(&given).zip(&mut own_lines) {
                        own.multiply(given, own_line, factor, &mut national, &mut per_icb);
                    }
                }
                // A line that counts activity without a price adds nothing to the cost; its
                // factors are still drawn, so that calibration, posteriors and sensitivity see
                // them as the activity's runs draw them.
                if cost.counts_activity_only() {
                    line.constant = 0.0;
                    own_lines.iter_mut().for_each(|l| l.constant = 0.0);
                }
                lines.push(line);
                for (own, own_line) in own.iter_mut().zip(own_lines) {
                    own.lines.push(own_line);
                }
            }
            if at_practices
                && lines.len() > first_line
                && engagement.is_none()
                && !action.factors.iter().any(|f| f.participation)
            {
                problems.push(Problem::new(
                    None,
                    format!("actions.{}", action.id),
                    "granularity = \"practice\" draws whether each practice takes part, so the action needs the share of practices taking part: mark that factor with participation = true (or apply the [engagement])",
                ));
            }
            let mut levels = curve.clone();
            levels.sort_by(f64::total_cmp);
            levels.dedup();
            part.month_level = curve
                .iter()
                .map(|c| levels.partition_point(|l| l < c))
                .collect();
            part.levels = levels;
            part.lines = first_line..lines.len();
            participation.push(part);
        }
        let practices = match practices {
            Some(p) => match PracticeModel::new(p, table, participation) {
                Ok(m) => Some(m),
                Err(problem) => {
                    problems.push(problem);
                    None
                }
            },
            None => None,
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut warnings = Vec::new();
        let correlation = correlation_matrix(scenario, &national, &mut warnings);
        if correlation.is_some() && scenario.iterations <= national.len() as u64 + 1 {
            return Err(vec![Problem::new(
                None,
                "correlations",
                format!(
                    "inducing correlations needs more iterations than factors: {} iterations for {} national factors",
                    scenario.iterations,
                    national.len()
                ),
            )]);
        }
        if let Some(left_out) = practices.as_ref().map(|p| p.left_out).filter(|&n| n > 0) {
            warnings.push(format!(
                "{left_out} practices of the practice table belong to ICBs that are not in the ICB table and are left out"
            ));
        }
        warnings.extend(idle_actions(scenario));
        Ok(Model {
            seed: scenario.seed,
            months: horizon.len(),
            n_actions: scenario.actions.len(),
            icb_keys: table.codes.iter().map(|c| rng::key(c)).collect(),
            region_keys: table
                .regions
                .iter()
                .map(|r| rng::key(&format!("region:{r}")))
                .collect(),
            sampling: scenario.sampling,
            correlation,
            warnings,
            national,
            per_icb,
            lines,
            groups: regions(table),
            reference: scenario.reference.per_icb_gbp,
            practices,
            own,
            posterior: None,
        })
    }

    pub fn n_icb(&self) -> usize {
        self.icb_keys.len()
    }

    /// Keeps the lines of action `action` for ICB `icb` alone (table index): every other ICB's
    /// driver of them becomes 0, so they add nothing there. Their factors are drawn as
    /// before, so no other draw changes. An option one ICB takes adds its lines this way.
    pub fn only_for(&mut self, action: usize, icb: usize) {
        let n = self.n_icb();
        for line in self.lines.iter_mut().filter(|l| l.action == action) {
            let driver = line.driver.get_or_insert_with(|| vec![1.0; n]);
            for (i, d) in driver.iter_mut().enumerate() {
                if i != icb {
                    *d = 0.0;
                }
            }
        }
    }

    /// The model of activity `name` beside this model of `scenario` on `table` (and
    /// `practices`, at practice level): [`Scenario::for_activity`] compiled the same way, with
    /// no groups to tally and, for a calibrated model, the same posterior draws of the factors
    /// it keeps, so iteration *i* takes the posterior draw this model's iteration *i* takes
    /// (a factor this model's view never drew, and so no calibration saw, from its prior).
    /// `Err` says why the activity cannot be counted.
    pub fn of_activity(
        &self,
        scenario: &Scenario,
        table: &IcbTable,
        practices: Option<&PracticeTable>,
        name: &str,
    ) -> Result<Model, String> {
        let derived = scenario.for_activity(name)?;
        let compiled = match (&self.practices, practices) {
            (Some(_), Some(p)) => Model::at_practices(&derived, table, p),
            _ => Model::new(&derived, table),
        };
        let mut model = compiled.map_err(|problems| {
            problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        model.groups.clear();
        model.posterior = self
            .posterior
            .as_ref()
            .map(|r| r.for_slots(&self.national, &model.national));
        Ok(model)
    }

    /// Draws of uncertain factors one iteration makes (national plus per-ICB).
    pub fn draws_per_iteration(&self) -> usize {
        self.national.len() + self.per_icb.len() * self.n_icb()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Recovery;

    fn m(text: &str) -> Month {
        text.parse().unwrap()
    }

    #[test]
    fn exponential_ramp_builds_up_towards_full_effect() {
        let t = Timing {
            start: m("2024-06"),
            end: None,
            notice_months: 0,
            ramp: Ramp::Exponential { tau_months: 8.0 },
            recovery: None,
        };
        assert_eq!(time_weight(&t, m("2024-05")), 0.0);
        assert_eq!(time_weight(&t, m("2024-06")), 1.0 - (-1.0f64 / 8.0).exp());
        assert_eq!(time_weight(&t, m("2025-05")), 1.0 - (-12.0f64 / 8.0).exp());
    }

    #[test]
    fn notice_period_delays_the_effect_as_a_step() {
        let t = Timing {
            start: m("2024-08"),
            end: Some(m("2025-03")),
            notice_months: 3,
            ramp: Ramp::Linear { months: 1 },
            recovery: None,
        };
        let got: Vec<f64> = (0..9)
            .map(|k| time_weight(&t, m("2024-08").plus(k)))
            .collect();
        assert_eq!(got, [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
    }

    fn action(start: &str, end: Option<&str>, ramp: u32) -> Timing {
        Timing {
            start: start.parse().unwrap(),
            end: end.map(|e| e.parse().unwrap()),
            notice_months: 0,
            ramp: Ramp::Linear { months: ramp },
            recovery: None,
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

    fn recovering(end: &str, ramp: u32, recovery: Recovery) -> Timing {
        Timing {
            recovery: Some(recovery),
            ..action("2024-08", Some(end), ramp)
        }
    }

    #[test]
    fn after_the_end_the_weight_of_the_last_month_fades_along_the_curve() {
        // Ends in its second month of a 4-month ramp: w(end) = 2/4.
        let t = recovering(
            "2024-09",
            4,
            Recovery::Points(vec![(1, 0.8), (6, 0.3), (12, 0.0)]),
        );
        let w = |k: i32| time_weight(&t, m("2024-09").plus(k));
        assert_eq!(w(0), 0.5);
        assert_eq!(w(1), 0.5 * 0.8);
        // Linear between the points at 1 and 6 months.
        assert_eq!(w(3), 0.5 * (0.8 + (0.3 - 0.8) * 2.0 / 5.0));
        assert_eq!(w(6), 0.5 * 0.3);
        assert_eq!(w(9), 0.5 * (0.3 + (0.0 - 0.3) * 3.0 / 6.0));
        assert_eq!(w(11), 0.5 * (0.3 + (0.0 - 0.3) * 5.0 / 6.0));
        assert_eq!((w(12), w(13), w(120)), (0.0, 0.0, 0.0));
        assert_eq!(t.effect_end(), Some(m("2025-08")));
    }

    #[test]
    fn before_the_first_point_the_curve_starts_from_one_and_the_last_value_holds() {
        let t = recovering("2024-10", 1, Recovery::Points(vec![(4, 0.2)]));
        let w = |k: i32| time_weight(&t, m("2024-10").plus(k));
        assert_eq!(w(1), 1.0 + (0.2 - 1.0) * 1.0 / 4.0);
        assert_eq!(w(2), 1.0 + (0.2 - 1.0) * 2.0 / 4.0);
        assert_eq!(w(4), 0.2);
        assert_eq!((w(5), w(60), w(590)), (0.2, 0.2, 0.2));
        assert_eq!(t.effect_end(), None, "a fifth remains for good");
        let half = recovering(
            "2024-10",
            1,
            Recovery::HalfLife {
                half_life_months: 4.0,
            },
        );
        let w = |k: i32| time_weight(&half, m("2024-10").plus(k));
        assert_eq!((w(4), w(8)), (0.5, 0.25));
        assert_eq!(w(1), 0.5f64.powf(0.25));
        assert_eq!(half.effect_end(), None);
    }

    #[test]
    fn a_recovery_from_an_effect_not_yet_started_adds_nothing() {
        let t = Timing {
            notice_months: 3,
            ..recovering("2024-09", 1, Recovery::Points(vec![(12, 0.5)]))
        };
        assert!((0..24).all(|k| time_weight(&t, m("2024-08").plus(k)) == 0.0));
    }

    #[test]
    fn an_action_whose_recovery_reaches_into_the_horizon_is_not_idle() {
        let text = |recovery: &str| {
            format!(
                "[scenario]\nname = \"t\"\nstart = \"2025-01\"\nmonths = 6\n\
                 [actions.a]\nstart = \"2024-06\"\nend = \"2024-10\"\n{recovery}\n\
                 [[actions.a.costs]]\nfactors = {{ k = 1 }}\n"
            )
        };
        let idle = |recovery: &str| {
            let s = crate::scenario::parse(&text(recovery), "s.toml", std::path::Path::new(""))
                .unwrap();
            idle_actions(&s)
        };
        // Ends in 2024-10; the effect is gone after 2 months (2024-12) or lasts to 2025-01.
        assert_eq!(
            idle(""),
            ["action 'a' has effect 2024-06 to 2024-10, outside the horizon 2025-01 to 2025-06: it adds nothing"]
        );
        assert_eq!(
            idle("recovery = { \"3\" = 0 }"),
            ["action 'a' has effect 2024-06 to 2024-12, outside the horizon 2025-01 to 2025-06: it adds nothing"]
        );
        assert!(idle("recovery = { \"4\" = 0 }").is_empty());
        assert!(idle("recovery = { half_life_months = 1 }").is_empty());
    }
}
