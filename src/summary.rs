//! From the draws of a run to the figures every output shows: per ICB, per ICB and action,
//! per month, nationally, and against the reference figure.

use rayon::prelude::*;

use crate::data::IcbTable;
use crate::decide::Decision;
use crate::engine::Draws;
use crate::model::{GroupKind, Model};
use crate::month::Month;
use crate::scenario::Scenario;
use crate::settlement::Settlement;
use crate::stats::{
    convergence_trace, log_checkpoints, percentile_of, share_above, Summary, TracePoint,
    MIN_STABLE_TAIL_ITERATIONS,
};

/// One ICB's cost over the horizon.
#[derive(Debug, Clone)]
pub struct IcbResult {
    pub code: String,
    pub name: String,
    pub region: String,
    pub cost: Summary,
    /// Share of iterations in which the ICB's cost exceeds the reference.
    pub prob_above_reference: f64,
}

/// One ICB's cost from one action.
#[derive(Debug, Clone)]
pub struct IcbActionResult {
    pub icb: usize,
    pub action: usize,
    pub cost: Summary,
}

/// An action's national cost.
#[derive(Debug, Clone)]
pub struct ActionResult {
    pub id: String,
    pub label: String,
    pub cost: Summary,
}

/// Cumulative national cost to the end of a month.
#[derive(Debug, Clone)]
pub struct MonthResult {
    pub month: Month,
    pub cumulative: Summary,
}

/// What the model expects to see in the data: the change in one activity over the horizon
/// (counts, not money; negative for activity removed), from the run of
/// [`Model::of_activity`] on the same draws.
#[derive(Debug, Clone)]
pub struct ActivityResult {
    /// The activity's name ([`crate::activities::VOCABULARY`]).
    pub name: String,
    /// Nationally over the horizon; percentiles exact.
    pub national: Summary,
    /// Each ICB over the horizon, in table order.
    pub icbs: Vec<Summary>,
    /// Nationally by month: the mean change in that month, and the change cumulated to its end.
    pub monthly: Vec<ActivityMonth>,
}

/// One month of an activity's national change.
#[derive(Debug, Clone)]
pub struct ActivityMonth {
    pub month: Month,
    /// The mean change in this month alone (the difference of the cumulative means).
    pub mean_in_month: f64,
    pub cumulative: Summary,
}

impl ActivityResult {
    /// The activity `name` from the draws of its model's run over `scenario`'s horizon.
    pub fn new(name: &str, scenario: &Scenario, draws: &Draws) -> ActivityResult {
        let layout = draws.layout;
        let icbs = (0..draws.n_icb)
            .into_par_iter()
            .map(|i| draws.tally(layout.icb(i)).summary())
            .collect();
        let cumulative: Vec<Summary> = (0..draws.months)
            .into_par_iter()
            .map(|m| draws.tally(layout.cumulative(m)).summary())
            .collect();
        let monthly = cumulative
            .iter()
            .enumerate()
            .map(|(m, c)| ActivityMonth {
                month: scenario.start.plus(m as i32),
                mean_in_month: c.mean - m.checked_sub(1).map_or(0.0, |p| cumulative[p].mean),
                cumulative: *c,
            })
            .collect();
        ActivityResult {
            name: name.to_string(),
            national: Summary::of(draws.national.clone()),
            icbs,
            monthly,
        }
    }
}

/// One NHS region's cost: the sum of its ICBs.
#[derive(Debug, Clone)]
pub struct RegionResult {
    pub name: String,
    pub icbs: usize,
    pub cost: Summary,
}

/// Everything the tables, charts and printed summary show.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub iterations: usize,
    pub icbs: Vec<IcbResult>,
    /// ICB-major, actions in scenario order.
    pub icb_actions: Vec<IcbActionResult>,
    pub actions: Vec<ActionResult>,
    pub monthly: Vec<MonthResult>,
    pub national: Summary,
    /// National cost ÷ number of ICBs, per iteration.
    pub per_icb_average: Summary,
    /// The per-iteration values behind `per_icb_average`, for the histogram.
    pub per_icb_average_draws: Vec<f64>,
    pub reference_gbp: f64,
    /// Percentile (0–100) of the per-ICB average at which the reference falls.
    pub reference_percentile: f64,
    /// Share of iterations in which the per-ICB average exceeds the reference.
    pub prob_average_above_reference: f64,
    /// ICBs whose mean cost exceeds the reference.
    pub icbs_mean_above_reference: usize,
    /// The running national mean and its relative standard error.
    pub trace: Vec<TracePoint>,
    /// The relative standard error the run was asked to reach, if any.
    pub target_rse: Option<f64>,
    /// NHS regions in order of first appearance in the table (empty without regions).
    pub regions: Vec<RegionResult>,
    /// The bodies of the scenario's ICB map, in order of first appearance (empty without one).
    pub bodies: Vec<BodyResult>,
    /// With a footprint, the ICBs of the table it rebuilt, in that table's order: each the sum
    /// of its parts of the bodies its practices are in (empty without a footprint).
    pub former: Vec<BodyResult>,
    /// With `[[correlations]]`: each pair's target, applied and achieved rank correlation.
    pub correlations: Option<Vec<CorrelationResult>>,
    /// A calibrated run (national factors from a posterior): the same scenario's headline
    /// figures on its priors, for side-by-side display.
    pub calibrated: Option<CalibratedHeadline>,
    /// The cost of delay (`run --settlement`): the scenario settled in each month of its
    /// horizon, on the same draws.
    pub settlement: Option<Settlement>,
    /// The decision between the scenario's options (`run --decide`), on the same draws.
    pub decision: Option<Decision>,
    /// Each activity the scenario's cost lines count, in the vocabulary's order.
    pub activity: Vec<ActivityResult>,
}

/// What the model expects of an observed figure month by month (the nowcast): its
/// quantity cumulated from the figure's first month to the end of the scenario's horizon, on
/// the run derived for its scope, on the priors and calibrated to the figures.
#[derive(Debug, Clone)]
pub struct Expected {
    /// The figure: its id, label, value and standard error as published.
    pub id: String,
    pub label: String,
    pub published: f64,
    pub published_sd: f64,
    /// The months the figure observed, first and last.
    pub observed: (Month, Month),
    /// Each month's end, from the figure's first month.
    pub months: Vec<Month>,
    /// The quantity cumulated to each month's end, on the priors.
    pub prior: Vec<Summary>,
    /// The same, calibrated (`None` when the calibration reported no posterior).
    pub calibrated: Option<Vec<Summary>>,
}

/// A calibrated run's posterior and the uncalibrated headline beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibratedHeadline {
    /// The posterior draws file.
    pub posterior: String,
    /// The effective sample size of its weights.
    pub ess: f64,
    /// The national cost and the mean per ICB with every factor drawn from its prior (same
    /// seed and iterations).
    pub prior_national: Summary,
    pub prior_per_icb_average: Summary,
}

/// A target rank correlation between two national factors and what the run achieved.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationResult {
    /// Factor paths.
    pub a: String,
    pub b: String,
    pub target: f64,
    /// The target after any repair to a valid correlation matrix.
    pub applied: f64,
    /// Spearman's correlation of the two factors' values across the run's iterations.
    pub achieved: f64,
}

/// The correlations of a run whose model induces them (its national factors were drawn whole).
fn correlations(
    scenario: &Scenario,
    model: &Model,
    draws: &Draws,
) -> Option<Vec<CorrelationResult>> {
    let applied = model.correlation.as_ref()?;
    let columns = draws
        .whole_run
        .as_ref()
        .expect("a correlated run is drawn whole");
    let achieved = crate::correlation::rank_correlation_matrix(columns);
    let index = |path: &str| model.national.iter().position(|s| s.path == path);
    Some(
        scenario
            .correlations
            .iter()
            .filter_map(|c| {
                let (i, j) = (index(&c.a)?, index(&c.b)?);
                Some(CorrelationResult {
                    a: c.a.clone(),
                    b: c.b.clone(),
                    target: c.rank_correlation,
                    applied: applied[(i, j)],
                    achieved: achieved[(i, j)],
                })
            })
            .collect(),
    )
}

/// A body that replaced ICBs (`icb_map`): the sum of its old ICBs' costs, each times its share.
#[derive(Debug, Clone)]
pub struct BodyResult {
    pub code: String,
    pub name: String,
    /// `(code of an ICB of the run, weight)`: for a body of the ICB map, an old ICB and the
    /// share of its cost; for a former ICB, a body and the share of the body's patients that
    /// were the former ICB's.
    pub members: Vec<(String, f64)>,
    pub cost: Summary,
}

impl BodyResult {
    /// The members as read: `A + B × 0.377` (a weight that is not whole to four decimals).
    pub fn members_text(&self) -> String {
        self.members
            .iter()
            .map(|(code, share)| match *share == 1.0 {
                true => code.clone(),
                false => {
                    let w = format!("{share:.4}");
                    format!("{code} × {}", w.trim_end_matches('0').trim_end_matches('.'))
                }
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

impl RunSummary {
    /// Caveats about the run itself.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let (Some(target), Some(last)) = (self.target_rse, self.trace.last()) {
            if last.rse > target {
                out.push(format!(
                    "the relative standard error of the national mean is {:.4} after {} iterations, above the target {target}: raise --max-iterations",
                    last.rse, last.iterations
                ));
            }
        }
        if self.iterations < MIN_STABLE_TAIL_ITERATIONS {
            out.push(format!(
                "{} iterations are too few for stable 5th and 95th percentiles (fewer than 50 draws lie beyond each); use at least {}",
                self.iterations, MIN_STABLE_TAIL_ITERATIONS
            ));
        }
        out
    }

    /// The summary of a run; every figure but those of the national total (kept per
    /// iteration) comes from the run's streaming tallies, percentiles within
    /// [`crate::tally::RELATIVE_ERROR`].
    pub fn new(scenario: &Scenario, table: &IcbTable, model: &Model, draws: &Draws) -> RunSummary {
        let reference = scenario.reference.per_icb_gbp;
        let layout = draws.layout;
        let icbs: Vec<IcbResult> = (0..draws.n_icb)
            .into_par_iter()
            .map(|i| {
                let tally = draws.tally(layout.icb(i));
                IcbResult {
                    code: table.codes[i].clone(),
                    name: table.names[i].clone(),
                    region: table.regions[i].clone(),
                    prob_above_reference: tally.share_above(),
                    cost: tally.summary(),
                }
            })
            .collect();
        let icb_actions = (0..draws.n_icb * draws.n_actions)
            .into_par_iter()
            .map(|k| {
                let (icb, action) = (k / draws.n_actions, k % draws.n_actions);
                IcbActionResult {
                    icb,
                    action,
                    cost: draws.tally(layout.icb_action(icb, action)).summary(),
                }
            })
            .collect();
        let actions = scenario
            .actions
            .par_iter()
            .enumerate()
            .map(|(a, action)| ActionResult {
                id: action.id.clone(),
                label: action.label.clone(),
                cost: draws.tally(layout.action(a)).summary(),
            })
            .collect();
        let monthly = (0..draws.months)
            .into_par_iter()
            .map(|m| MonthResult {
                month: scenario.start.plus(m as i32),
                cumulative: draws.tally(layout.cumulative(m)).summary(),
            })
            .collect();
        let groups = |kind: GroupKind| {
            model
                .groups
                .iter()
                .enumerate()
                .filter(move |(_, group)| group.kind == kind)
                .map(|(g, group)| (group, draws.tally(layout.group(g)).summary()))
        };
        let regions = groups(GroupKind::Region)
            .map(|(group, cost)| RegionResult {
                name: group.name.clone(),
                icbs: group.members.len(),
                cost,
            })
            .collect();
        let sums = |kind| {
            groups(kind)
                .map(|(group, cost)| BodyResult {
                    code: group.code.clone(),
                    name: group.name.clone(),
                    members: group
                        .members
                        .iter()
                        .map(|&(i, share)| (table.codes[i].clone(), share))
                        .collect(),
                    cost,
                })
                .collect()
        };
        let bodies = sums(GroupKind::Body);
        let former = sums(GroupKind::Former);
        let n_icb = draws.n_icb as f64;
        let per_icb_average_draws: Vec<f64> = draws.national.iter().map(|x| x / n_icb).collect();
        RunSummary {
            iterations: draws.iterations,
            icbs_mean_above_reference: icbs.iter().filter(|r| r.cost.mean > reference).count(),
            icbs,
            icb_actions,
            actions,
            monthly,
            national: Summary::of(draws.national.clone()),
            per_icb_average: Summary::of(per_icb_average_draws.clone()),
            reference_percentile: percentile_of(&per_icb_average_draws, reference),
            prob_average_above_reference: share_above(&per_icb_average_draws, reference),
            per_icb_average_draws,
            reference_gbp: reference,
            trace: convergence_trace(&draws.national, &log_checkpoints(draws.iterations)),
            target_rse: None,
            regions,
            bodies,
            former,
            correlations: correlations(scenario, model, draws),
            calibrated: None,
            settlement: None,
            decision: None,
            activity: Vec::new(),
        }
    }
}

impl CalibratedHeadline {
    /// The headline of a calibrated `model`'s run beside `prior`, the same model's run with
    /// its national factors drawn from their priors.
    pub fn new(model: &Model, prior: &Draws) -> Option<CalibratedHeadline> {
        let posterior = model.posterior.as_ref()?;
        let n_icb = prior.n_icb as f64;
        Some(CalibratedHeadline {
            posterior: posterior.source.clone(),
            ess: posterior.ess,
            prior_national: Summary::of(prior.national.clone()),
            prior_per_icb_average: Summary::of(prior.national.iter().map(|x| x / n_icb).collect()),
        })
    }
}
