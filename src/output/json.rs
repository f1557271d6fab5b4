//! `summary.json`: the headline figures of a run, in pounds rounded to pence.

use serde::Serialize;

use crate::data::IcbTable;
use crate::money::pence;
use crate::scenario::Scenario;
use crate::stats::Summary;
use crate::summary::RunSummary;

#[derive(Serialize)]
struct MoneySummary {
    mean: f64,
    sd: f64,
    p05: f64,
    p50: f64,
    p95: f64,
    /// Monte Carlo standard errors beside each figure.
    mcse_mean: f64,
    mcse_p05: f64,
    mcse_p50: f64,
    mcse_p95: f64,
}

impl From<&Summary> for MoneySummary {
    fn from(s: &Summary) -> Self {
        MoneySummary {
            mean: pence(s.mean),
            sd: pence(s.sd),
            p05: pence(s.p05),
            p50: pence(s.p50),
            p95: pence(s.p95),
            mcse_mean: pence(s.mcse_mean),
            mcse_p05: pence(s.mcse_p05),
            mcse_p50: pence(s.mcse_p50),
            mcse_p95: pence(s.mcse_p95),
        }
    }
}

#[derive(Serialize)]
struct ActionJson<'a> {
    id: &'a str,
    label: &'a str,
    national_gbp: MoneySummary,
}

#[derive(Serialize)]
struct ReferenceJson<'a> {
    per_icb_gbp: f64,
    label: &'a str,
    source: &'a str,
    /// Percentile of the simulated mean cost per ICB at which the reference falls.
    percentile_of_mean_per_icb: f64,
    /// Probability that the mean cost per ICB exceeds the reference.
    prob_mean_per_icb_above: f64,
    icbs_with_mean_above: usize,
    share_of_icbs_with_mean_above: f64,
}

#[derive(Serialize)]
pub(super) struct SummaryJson<'a> {
    scenario: &'a str,
    cost_view: &'static str,
    cost_view_label: &'static str,
    period_start: String,
    period_end: String,
    months: u32,
    icbs: usize,
    iterations: usize,
    seed: u64,
    /// Things a reader should know about these numbers (too few iterations, say).
    warnings: Vec<String>,
    /// Relative standard error of the national mean asked for (`--target-rse`), if any.
    target_rse: Option<f64>,
    national_total_gbp: MoneySummary,
    mean_per_icb_gbp: MoneySummary,
    reference: ReferenceJson<'a>,
    actions: Vec<ActionJson<'a>>,
    /// A calibrated run: its posterior, and the same run's headline on the priors.
    #[serde(skip_serializing_if = "Option::is_none")]
    calibrated: Option<CalibratedJson<'a>>,
}

#[derive(Serialize)]
struct CalibratedJson<'a> {
    /// The posterior draws file the national factors were resampled from.
    posterior: &'a str,
    effective_sample_size: f64,
    prior_national_total_gbp: MoneySummary,
    prior_mean_per_icb_gbp: MoneySummary,
}

pub(super) fn summary_json<'a>(
    scenario: &'a Scenario,
    table: &IcbTable,
    s: &'a RunSummary,
) -> SummaryJson<'a> {
    SummaryJson {
        scenario: &scenario.name,
        cost_view: scenario.cost_view.as_str(),
        cost_view_label: scenario.cost_view.describe(),
        period_start: scenario.start.to_string(),
        period_end: scenario.end().to_string(),
        months: scenario.months,
        icbs: table.len(),
        iterations: s.iterations,
        seed: scenario.seed,
        warnings: s.warnings(),
        target_rse: s.target_rse,
        national_total_gbp: (&s.national).into(),
        mean_per_icb_gbp: (&s.per_icb_average).into(),
        reference: ReferenceJson {
            per_icb_gbp: scenario.reference.per_icb_gbp,
            label: &scenario.reference.label,
            source: &scenario.reference.source,
            percentile_of_mean_per_icb: s.reference_percentile,
            prob_mean_per_icb_above: s.prob_average_above_reference,
            icbs_with_mean_above: s.icbs_mean_above_reference,
            share_of_icbs_with_mean_above: s.icbs_mean_above_reference as f64 / table.len() as f64,
        },
        actions: s
            .actions
            .iter()
            .map(|a| ActionJson {
                id: &a.id,
                label: &a.label,
                national_gbp: (&a.cost).into(),
            })
            .collect(),
        calibrated: s.calibrated.as_ref().map(|c| CalibratedJson {
            posterior: &c.posterior,
            effective_sample_size: c.ess,
            prior_national_total_gbp: (&c.prior_national).into(),
            prior_mean_per_icb_gbp: (&c.prior_per_icb_average).into(),
        }),
    }
}
