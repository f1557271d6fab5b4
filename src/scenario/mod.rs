//! Scenario files: TOML read into a validated [`Scenario`] whose invariants hold (months
//! parse, distributions are valid, at least one action with one cost line). Every problem in a
//! file is reported at once, each with its line and field. Code after this point never
//! re-checks the scenario.
//!
//! This file holds the types, [`from_bytes`], [`parse`] and the [`Settings`] that replace a
//! file's own before it is validated; `reader.rs` the walk over the spanned TOML tree;
//! `read_scenario.rs`, `read_action.rs`, `read_factor.rs` and `read_overrides.rs` the sections,
//! actions, factors and ICBs' own inputs read with it. The enums' words are read from their serde derives (`crate::names`).

mod read_action;
mod read_factor;
mod read_options;
mod read_overrides;
mod read_scenario;
mod reader;
mod scope;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::dist::{Dist, Spec};
use crate::error::{Error, FileProblems, Problem};
use crate::month::Month;
use crate::names;
use crate::price::PriceYear;
use read_action::read_actions;
use read_options::{read_factor_groups, read_options};
use read_overrides::read_overrides;
use read_scenario::{read_correlations, read_engagement, read_reference, read_scenario};
use reader::{Reader, Table};
pub use scope::{option_action_id, Scope};

/// Iterations when a scenario gives none.
pub const DEFAULT_ITERATIONS: u64 = 10_000;
/// Seed when a scenario gives none: the day collective action began (1 August 2024).
pub const DEFAULT_SEED: u64 = 20_240_801;
/// Upper bound on the horizon: 50 years.
pub const MAX_MONTHS: u32 = 600;

/// The public anchor every result is compared with when a scenario names no other.
pub fn default_reference() -> Reference {
    Reference {
        per_icb_gbp: 2_000_000.0,
        label: "Pulse FOI, Feb 2025: £2m, the average the six ICBs that disclosed a cost expected".to_string(),
        source: "Pulse, 'ICBs estimate average £2m cost of GP collective action' (FOI to all 42 ICBs), \
                 https://pulsetoday.co.uk/news/politics/icbs-estimate-average-2m-cost-of-gp-collective-action; \
                 Healthcare Leader, 11 Feb 2025"
            .to_string(),
    }
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// First simulated month.
    pub start: Month,
    /// Horizon in months (≥ 1).
    pub months: u32,
    pub iterations: u64,
    pub seed: u64,
    /// ICB table named by the scenario, resolved against the scenario's folder.
    pub data: Option<PathBuf>,
    /// The financial year whose prices money amounts are in: a factor that gives its own
    /// `price_year` has been converted to it. `None`: no conversion.
    pub price_year: Option<PriceYear>,
    /// Whose costs are counted.
    pub cost_view: CostView,
    /// Whether participation is a share of each ICB or drawn practice by practice.
    pub granularity: Granularity,
    /// Practice table named by the scenario (resolved against its folder); the embedded one
    /// when `None`. Used with [`Granularity::Practice`].
    pub practices: Option<PathBuf>,
    /// The footprint the run is on (each practice's ICB), resolved against the scenario's
    /// folder: the ICB table and the practice table are rebuilt on its ICBs; `None`: the ICB
    /// table's own rows.
    pub footprint: Option<PathBuf>,
    /// ICB reconfiguration map (old ICB code → new body), resolved against the scenario's folder:
    /// results are also reported for the new bodies.
    pub icb_map: Option<PathBuf>,
    /// A calibration's directory (or its `posterior_draws.parquet`), resolved against the
    /// scenario's folder: the national factors are drawn from its posterior.
    pub posterior: Option<PathBuf>,
    /// The model-discrepancy sd `calibrate` gives a published figure that states none, as a
    /// share of the figure; `None`: the documented default.
    pub calibration_discrepancy: Option<f64>,
    pub reference: Reference,
    /// Engagement shared by all (engaged) actions of an ICB.
    pub engagement: Option<Engagement>,
    /// How national factors are sampled.
    pub sampling: Sampling,
    /// Target rank correlations between national factors.
    pub correlations: Vec<Correlation>,
    /// In file order.
    pub actions: Vec<Action>,
    /// ICBs' own values of factors: `[[overrides]]` in file order (a `--set` in place of the
    /// entry it replaces), then the other `--set` values.
    pub overrides: Vec<Override>,
    /// What an ICB can do about it (`[[options]]`), in file order; the scenario as it stands
    /// is the option [`NO_OPTION`].
    pub options: Vec<DecisionOption>,
    /// Sets of factors whose value of information is reported together (`[[factor_groups]]`).
    pub factor_groups: Vec<FactorGroup>,
}

/// The id of the scenario as it stands among the options of a decision: doing nothing more.
pub const NO_OPTION: &str = "none";

/// An option an ICB (or every ICB) can take: the scenario with some factors set to other
/// values and some cost lines added, run on the same draws of everything else.
#[derive(Debug, Clone)]
pub struct DecisionOption {
    /// A word (`keep_software_les`), never [`NO_OPTION`].
    pub id: String,
    pub label: String,
    /// The one ICB that takes the option, as the scenario gives its code (checked against the
    /// ICB table when the scenario is prepared); `None`: every ICB.
    pub icb: Option<String>,
    /// The factors the option changes, each to a value or a distribution.
    pub set: Vec<OptionSet>,
    /// What the option costs: cost lines over the horizon, whose factors are named
    /// `options.<id>.costs[<n>].factors.<name>`.
    pub costs: Vec<CostLine>,
    pub source: Option<String>,
    /// The line of the `[[options]]` entry.
    pub line: usize,
}

/// One factor an option changes.
#[derive(Debug, Clone)]
pub struct OptionSet {
    /// The factor's path (a factor of the scenario).
    pub factor: String,
    /// Its value (fixed) or distribution under the option, drawn from the factor's own stream.
    pub dist: Dist,
    pub source: Option<String>,
}

/// Factors whose expected value of partial perfect information is reported together.
#[derive(Debug, Clone)]
pub struct FactorGroup {
    pub id: String,
    pub label: String,
    /// Factor paths: uncertain national factors of the scenario or of its options.
    pub factors: Vec<String>,
    pub line: usize,
}

/// An ICB's own value of a factor: that ICB draws the factor from `dist` (from a stream keyed
/// by the ICB and the factor's path) instead of the scenario's distribution; every other ICB
/// is unchanged.
#[derive(Debug, Clone)]
pub struct Override {
    /// The ICB's code as the scenario gives it (checked against the ICB table by the model).
    pub icb: String,
    /// The factor's path, e.g. `actions.cap.factors.uptake` (a factor of the scenario).
    pub factor: String,
    pub dist: Dist,
    pub source: Option<String>,
    /// The line of the `[[overrides]]` entry; `None` for a `--set` on the command line.
    pub line: Option<usize>,
}

impl Override {
    /// Where the override was given, for problems: `overrides[<n>]` or `--set`.
    pub fn field(&self, n: usize) -> String {
        match self.line {
            Some(_) => format!("overrides[{n}]"),
            None => "--set".to_string(),
        }
    }

    /// The `--set` it came from, if it came from one.
    pub fn assignment(&self) -> Option<Assignment> {
        self.line.is_none().then(|| Assignment {
            icb: self.icb.clone(),
            factor: self.factor.clone(),
            value: self.dist.mean(),
        })
    }
}

/// `--set ICB:PATH=VALUE`: a fixed value of one factor for one ICB, put in place like an
/// `[[overrides]]` entry while the scenario is read (it replaces an entry of the file for the
/// same ICB and factor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub icb: String,
    pub factor: String,
    pub value: f64,
}

impl std::str::FromStr for Assignment {
    type Err = String;

    fn from_str(text: &str) -> Result<Assignment, String> {
        let expected = "expected ICB:PATH=VALUE, e.g. QU9:actions.cap.factors.uptake=0.65";
        let (icb, rest) = text
            .split_once(':')
            .ok_or_else(|| format!("'{text}': {expected}"))?;
        let (factor, value) = rest
            .split_once('=')
            .ok_or_else(|| format!("'{text}': {expected}"))?;
        let (icb, factor, value) = (icb.trim(), factor.trim(), value.trim());
        if icb.is_empty() || factor.is_empty() {
            return Err(format!("'{text}': {expected}"));
        }
        let value: f64 = value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("'{text}': the value '{value}' is not a finite number"))?;
        Ok(Assignment {
            icb: icb.to_string(),
            factor: factor.to_string(),
            value,
        })
    }
}

impl std::fmt::Display for Assignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}={}", self.icb, self.factor, self.value)
    }
}

/// At what level taking part is decided. Named as in scenario files and on the command line:
/// `icb` (the default), `practice`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Granularity {
    /// Each ICB takes part in proportion: its costs are scaled by the share of practices
    /// taking part.
    #[default]
    Icb,
    /// Each practice takes part or not, with probability the share of practices taking part;
    /// an ICB's cost sums its practices'.
    Practice,
}

impl Granularity {
    /// The name scenario files, the command line and manifests use.
    pub fn as_str(self) -> &'static str {
        names::name_of(&self)
    }
}

/// How the national factors' values are drawn across iterations.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sampling {
    /// Independent draws in every iteration (`mc`, the default).
    #[default]
    #[serde(rename = "mc")]
    MonteCarlo,
    /// Latin hypercube: each national factor's range is cut into as many equally likely strata
    /// as there are iterations, and each stratum is used once (`lhs`).
    #[serde(rename = "lhs")]
    LatinHypercube,
}

impl Sampling {
    /// The name scenario files use (`mc`, `lhs`).
    pub fn as_str(self) -> &'static str {
        match self {
            Sampling::MonteCarlo => "mc",
            Sampling::LatinHypercube => "lhs",
        }
    }

    /// What a command that draws one iteration at a time tells a user to write instead:
    /// `sampling = "mc"` (the default) and no `[[correlations]]`.
    pub fn one_at_a_time_hint() -> String {
        format!(
            "use sampling = \"{}\" (or leave it out) and no [[correlations]]",
            Sampling::MonteCarlo.as_str()
        )
    }
}

/// A target rank (Spearman) correlation between two national factors, induced by the
/// Iman–Conover method.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// Factor paths, e.g. `actions.cap.factors.uptake`.
    pub a: String,
    pub b: String,
    pub rank_correlation: f64,
    pub source: Option<String>,
    pub line: usize,
}

/// The figure results are set against.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub per_icb_gbp: f64,
    pub label: String,
    pub source: String,
}

/// Whose costs a run counts. Named as in scenario files, on the command line and in outputs:
/// `icb_cash` (the default), `economic`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum CostView {
    /// What lands on the ICB's budget (e.g. only the variable part of extra hospital activity).
    #[default]
    IcbCash,
    /// The whole-NHS economic cost, whoever pays.
    Economic,
}

impl CostView {
    /// The name scenario files, the command line and outputs use.
    pub fn as_str(self) -> &'static str {
        names::name_of(&self)
    }

    /// Words for titles and summaries.
    pub fn describe(self) -> &'static str {
        match self {
            CostView::IcbCash => "ICB cash",
            CostView::Economic => "whole-NHS economic cost",
        }
    }

    /// The view named `text`, if any.
    pub fn parse(text: &str) -> Option<CostView> {
        names::from_name(text)
    }
}

/// How an effect builds up once it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ramp {
    /// `min(1, k / months)` in the k-th month of effect (k = 1, 2, …).
    Linear { months: u32 },
    /// `1 − exp(−k / tau_months)` in the k-th month of effect: a build-up that approaches full
    /// effect without reaching it (new prescriptions replacing old ones, say).
    Exponential { tau_months: f64 },
}

/// How an effect fades once an action has ended: the share of the last active month's effect
/// still present k months after the end (k = 1, 2, …).
#[derive(Debug, Clone, PartialEq)]
pub enum Recovery {
    /// `(k, share)` points, k ≥ 1 in increasing order and shares in [0, 1] that never rise:
    /// linear between points, from a share of 1 at k = 0 to the first point, and the last
    /// share held after the last point.
    Points(Vec<(u32, f64)>),
    /// `0.5^(k / half_life_months)`: halving every `half_life_months`, never quite gone.
    HalfLife { half_life_months: f64 },
}

impl Recovery {
    /// The share of the effect still present `k` months after the end (1 at k = 0).
    pub fn remaining(&self, k: u32) -> f64 {
        match self {
            Recovery::HalfLife { half_life_months } => 0.5f64.powf(f64::from(k) / half_life_months),
            Recovery::Points(points) => {
                let mut before = (0, 1.0);
                for &(at, share) in points {
                    if k == at {
                        return share;
                    }
                    if k < at {
                        let (k0, v0) = before;
                        return v0 + (share - v0) * f64::from(k - k0) / f64::from(at - k0);
                    }
                    before = (at, share);
                }
                before.1
            }
        }
    }

    /// The last month after the end (counted from it) with any effect left, or `None` when
    /// some share remains for good.
    pub fn last_month(&self) -> Option<u32> {
        match self {
            Recovery::HalfLife { .. } => None,
            Recovery::Points(points) => points
                .iter()
                .find(|&&(_, share)| share == 0.0)
                .map(|&(at, _)| at - 1),
        }
    }

    /// Words for listings: "fading linearly: 80% after 1 month, 30% after 6, none after 12".
    pub fn describe(&self) -> String {
        match self {
            Recovery::HalfLife { half_life_months } => {
                format!("fading with a half-life of {half_life_months} months")
            }
            Recovery::Points(points) => {
                let said: Vec<String> = points
                    .iter()
                    .enumerate()
                    .map(|(n, &(at, share))| {
                        let share = if share == 0.0 {
                            "none".to_string()
                        } else {
                            format!("{}%", (share * 1e4).round() / 100.0)
                        };
                        match (n, at) {
                            (0, 1) => format!("{share} after 1 month"),
                            (0, _) => format!("{share} after {at} months"),
                            _ => format!("{share} after {at}"),
                        }
                    })
                    .collect();
                let held = match points.last() {
                    Some(&(_, share)) if share > 0.0 => ", then held",
                    _ => "",
                };
                format!("fading linearly: {}{held}", said.join(", "))
            }
        }
    }
}

/// When an action (or one of its cost lines) has effect.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// First month of the action.
    pub start: Month,
    /// Last active month, inclusive; `None` runs to the end of the horizon.
    pub end: Option<Month>,
    /// Months between the start and the first month of effect (a notice period: a step).
    pub notice_months: u32,
    pub ramp: Ramp,
    /// How the effect fades after `end` (only with an `end`); `None` stops it at once.
    pub recovery: Option<Recovery>,
}

impl Timing {
    /// When, in words: `2024-08 to 2025-01 after 3 months' notice, full effect at once`.
    pub fn describe(&self) -> String {
        let ramp = match self.ramp {
            Ramp::Linear { months: 1 } => "full effect at once".to_string(),
            Ramp::Linear { months } => format!("linear ramp over {months} months"),
            Ramp::Exponential { tau_months } => {
                format!("exponential build-up, tau {tau_months} months")
            }
        };
        let notice = match self.notice_months {
            0 => String::new(),
            n => format!(" after {n} months' notice"),
        };
        let recovery = self.recovery.as_ref().map_or(String::new(), |r| {
            format!("; after the end, {}", r.describe())
        });
        format!(
            "{} to {}{notice}, {ramp}{recovery}",
            self.start,
            self.end.map_or("the end".to_string(), |e| e.to_string())
        )
    }

    /// First month with an effect.
    pub fn effect_start(&self) -> Month {
        self.start.plus(self.notice_months as i32)
    }

    /// Last month with an effect: the end, or the last month of a recovery that fades to
    /// nothing; `None` when the effect runs on (no end, or a recovery that never reaches 0).
    pub fn effect_end(&self) -> Option<Month> {
        let end = self.end?;
        match &self.recovery {
            None => Some(end),
            Some(r) => r.last_month().map(|k| end.plus(k as i32)),
        }
    }

    /// Whether the effect falls (at least in part) within `first` to `last`, inclusive.
    pub fn acts_within(&self, first: Month, last: Month) -> bool {
        self.effect_start() <= last && self.effect_end().is_none_or(|e| e >= first)
    }
}

/// What the engagement's factors belong to, in tables of factors.
pub const ENGAGEMENT_LABEL: &str = "Engagement (all engaged actions)";

/// A latent engagement per ICB, shared by all engaged actions: participation in month m is
/// `curve(m) × icb multiplier × the action's own factors`.
#[derive(Debug, Clone)]
pub struct Engagement {
    /// National mean share of practices taking part, by month: linear between points, flat
    /// before the first and after the last.
    pub curve: Vec<(Month, f64)>,
    /// The ICB's engagement relative to the national mean (mean about 1).
    pub icb: Factor,
    /// The share of the practices taking part whose action is additional: not what they
    /// would have done anyway (national). Multiplies every engaged action except one whose
    /// share of practices taking part has its own baseline (that baseline is its additionality).
    pub additional: Option<Factor>,
    pub source: Option<String>,
}

impl Engagement {
    /// The engagement's factors: the ICB's engagement, then the additional share if given.
    pub fn factors(&self) -> impl Iterator<Item = &Factor> {
        std::iter::once(&self.icb).chain(&self.additional)
    }

    /// Whether the additional share applies to `action`: an engaged action whose share of
    /// practices taking part has no baseline of its own.
    pub fn additional_for(&self, action: &Action) -> Option<&Factor> {
        let own_baseline = action
            .factors
            .iter()
            .any(|f| f.participation && f.baseline.is_some());
        self.additional
            .as_ref()
            .filter(|_| action.engaged && !own_baseline)
    }

    /// The curve at `month`.
    pub fn share(&self, month: Month) -> f64 {
        let (first, last) = (self.curve[0], self.curve[self.curve.len() - 1]);
        if month <= first.0 {
            return first.1;
        }
        if month >= last.0 {
            return last.1;
        }
        let k = self
            .curve
            .windows(2)
            .position(|w| month < w[1].0)
            .expect("month inside the curve");
        let ((m0, v0), (m1, v1)) = (self.curve[k], self.curve[k + 1]);
        v0 + (v1 - v0) * f64::from(month.since(m0)) / f64::from(m1.since(m0))
    }
}

/// One collective action and the costs it causes.
#[derive(Debug, Clone)]
pub struct Action {
    pub id: String,
    pub label: String,
    pub description: String,
    pub timing: Timing,
    /// Whether the scenario's engagement applies to this action.
    pub engaged: bool,
    /// Factors shared by every cost line of the action.
    pub factors: Vec<Factor>,
    pub costs: Vec<CostLine>,
}

impl Action {
    /// Whether the action, or any of its cost lines (which may give their own notice and
    /// recovery), has effect within `first` to `last`, inclusive.
    pub fn acts_within(&self, first: Month, last: Month) -> bool {
        self.timing.acts_within(first, last)
            || self.costs.iter().any(|c| c.timing.acts_within(first, last))
    }

    /// The action's own factors, then each cost line's, in file order.
    pub fn all_factors(&self) -> impl Iterator<Item = &Factor> {
        self.factors
            .iter()
            .chain(self.costs.iter().flat_map(|c| &c.factors))
    }
}

/// `driver × factors × time weight / 12`, summed over months.
#[derive(Debug, Clone)]
pub struct CostLine {
    pub label: String,
    /// Numeric column of the ICB table; `None` is 1 per ICB.
    pub driver: Option<String>,
    /// Line of the `driver` key, for problems found against the data.
    pub driver_line: Option<usize>,
    pub factors: Vec<Factor>,
    /// A saving or a fee no longer paid: the line is subtracted.
    pub negative: bool,
    /// The cost views the line counts in.
    pub views: Vec<CostView>,
    /// The action's timing with the line's own notice, ramp and recovery, if it gives them.
    pub timing: Timing,
    /// The activity the line counts, and the factor that prices it, if it names one.
    pub activity: Option<LineActivity>,
}

/// The activity a cost line counts (`activity = "..."`, from [`crate::activities::VOCABULARY`]):
/// the line without its `unit_cost` factor, and without the factors that count in one cost
/// view only, is that activity. A line with an activity and no `unit_cost` counts activity
/// alone and adds nothing to the cost; a negative line's activity is removed activity.
#[derive(Debug, Clone, PartialEq)]
pub struct LineActivity {
    pub name: String,
    /// The name of the line's own factor that is the price of one unit of the activity.
    pub unit_cost: Option<String>,
}

impl CostLine {
    /// A line that counts activity and no money: an activity without a price.
    pub fn counts_activity_only(&self) -> bool {
        self.activity
            .as_ref()
            .is_some_and(|a| a.unit_cost.is_none())
    }
}

/// Whether a factor is one draw per iteration shared by all ICBs, or one draw per ICB. Named
/// as in scenario files: `national`, `icb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vary {
    /// Uncertainty about the world: the same value for every ICB in an iteration.
    National,
    /// Variation between ICBs: an independent draw for each ICB in each iteration.
    Icb,
}

impl Vary {
    /// The name scenario files and listings use.
    pub fn as_str(self) -> &'static str {
        names::name_of(&self)
    }
}

/// An uncertain (or known) multiplier.
#[derive(Debug, Clone)]
pub struct Factor {
    pub name: String,
    /// Full path in the scenario, e.g. `actions.cap.factors.uptake`: the factor's identity.
    pub path: String,
    pub dist: Dist,
    pub vary: Vary,
    pub source: Option<String>,
    /// The scenario marks this value as an assumption rather than evidence.
    pub assumption: bool,
    /// Part of the share of practices taking part in the action (with the engagement, if the
    /// action is engaged): drawn practice by practice with `granularity = "practice"`.
    pub participation: bool,
    /// Applies only in this cost view (1 in the other).
    pub view: Option<CostView>,
    /// A share already there before the action: the factor counts `max(0, value − baseline)`.
    pub baseline: Option<Baseline>,
    /// For ICB-level factors: the correlation (of normal scores) between ICBs of one NHS
    /// region, through a regional component shared by them (0 = independent ICBs).
    pub region_correlation: f64,
    /// `rng::key(path)`: the factor's random stream.
    pub stream: u64,
    pub line: usize,
    /// A money amount written in other years' prices and converted to the scenario's price
    /// year: what the file wrote and each parameter's year. `dist` holds the converted values.
    pub price: Option<Uprating>,
}

impl Factor {
    /// The distribution in words; a factor converted to the scenario's price year has its
    /// parameters to the penny and names the prices they are in.
    pub fn describe(&self) -> String {
        match &self.price {
            None => self.dist.spec().describe(),
            Some(price) => format!(
                "{} ({} prices)",
                self.dist.spec().to_pennies().describe(),
                price.to
            ),
        }
    }
}

/// A factor's distribution as written, with each parameter's price year, converted to the
/// scenario's price year (`to`) as `value × index[to] ÷ index[year]` with the embedded
/// deflator table (`crate::price`).
#[derive(Debug, Clone, PartialEq)]
pub struct Uprating {
    /// The parameters as the file wrote them, in their sources' prices.
    pub written: Spec,
    /// Each parameter's price year, in the order of [`Spec::parameters`].
    pub years: Vec<(&'static str, PriceYear)>,
    /// The scenario's price year, the prices of the factor's `dist`.
    pub to: PriceYear,
}

/// The baseline of a factor, drawn like the factor (same `vary`) from its own stream.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub dist: Dist,
    /// `rng::key(path + ".baseline")`.
    pub stream: u64,
}

/// Settings that replace the scenario file's own (the command line's `--view`,
/// `--granularity`, `--iterations`, `--seed` and `--set`, or a report's recorded run), put in
/// place while the file is read, before anything is validated. `None` keeps the file's setting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub cost_view: Option<CostView>,
    pub granularity: Option<Granularity>,
    pub iterations: Option<u64>,
    pub seed: Option<u64>,
    /// ICBs' own fixed values, after the file's `[[overrides]]`.
    pub set: Vec<Assignment>,
}

impl Scenario {
    /// Last simulated month.
    pub fn end(&self) -> Month {
        self.start.plus(self.months as i32 - 1)
    }

    /// The simulated months in words: `2024-08 to 2025-01 (6 months)`.
    pub fn period(&self) -> String {
        format!("{} to {} ({} months)", self.start, self.end(), self.months)
    }

    /// Every factor with the action it belongs to, in file order.
    pub fn factors(&self) -> impl Iterator<Item = (&Action, &Factor)> {
        self.actions
            .iter()
            .flat_map(|a| a.all_factors().map(move |f| (a, f)))
    }

    /// Every factor with the label of what it belongs to: the engagement's first
    /// ([`ENGAGEMENT_LABEL`]), then each action's, in file order.
    pub fn labelled_factors(&self) -> impl Iterator<Item = (&str, &Factor)> {
        self.engagement
            .iter()
            .flat_map(|e| e.factors().map(|f| (ENGAGEMENT_LABEL, f)))
            .chain(self.factors().map(|(a, f)| (a.label.as_str(), f)))
    }

    /// The activities its cost lines count, each once, in the vocabulary's order.
    pub fn activities(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .actions
            .iter()
            .flat_map(|a| &a.costs)
            .filter_map(|c| c.activity.as_ref().map(|a| a.name.as_str()))
            .collect();
        names.sort_by_key(|n| crate::activities::order(n));
        names.dedup();
        names
    }

    /// The factor at `path` (the engagement's or an action's).
    pub fn factor(&self, path: &str) -> Option<&Factor> {
        self.labelled_factors()
            .map(|(_, f)| f)
            .find(|f| f.path == path)
    }

    /// Every override with the label of what its factor belongs to and the factor it
    /// replaces, in order.
    pub fn own_inputs(&self) -> impl Iterator<Item = (&str, &Factor, &Override)> {
        self.overrides.iter().filter_map(|o| {
            self.labelled_factors()
                .find(|(_, f)| f.path == o.factor)
                .map(|(label, f)| (label, f, o))
        })
    }

    /// The ICB-table columns the scenario (and its options' cost lines) use as drivers,
    /// without repeats.
    pub fn driver_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let options = self.options.iter().flat_map(|o| &o.costs);
        for line in self.actions.iter().flat_map(|a| &a.costs).chain(options) {
            if let Some(d) = &line.driver {
                if !out.contains(d) {
                    out.push(d.clone());
                }
            }
        }
        out
    }
}

/// Validates the bytes of a scenario file (UTF-8 TOML) with `settings` in place of the file's
/// own; `file` names it in problems and `base` (its directory) resolves its relative paths.
pub fn from_bytes(
    bytes: &[u8],
    file: &str,
    base: &Path,
    settings: &Settings,
) -> Result<Scenario, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::input(
            file,
            Problem::new(None, "file", format!("not UTF-8 text: {e}")),
        )
    })?;
    parse_with(text, file, base, settings).map_err(|p| Error::Input(vec![p]))
}

/// Validates scenario text; `file` names it in problems and `base` resolves its `data` path.
pub fn parse(text: &str, file: &str, base: &Path) -> Result<Scenario, FileProblems> {
    parse_with(text, file, base, &Settings::default())
}

/// [`parse`] with `settings` in place of the file's own, before anything is validated.
pub fn parse_with(
    text: &str,
    file: &str,
    base: &Path,
    settings: &Settings,
) -> Result<Scenario, FileProblems> {
    let fail = |problems| FileProblems {
        file: file.to_string(),
        problems,
    };
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            let mut r = Reader::new(text);
            let span = e.span().unwrap_or(0..0);
            r.problem(
                &span,
                "toml",
                format!("malformed TOML: {}", e.message().trim_end()),
            );
            return Err(fail(r.problems));
        }
    };
    let mut r = Reader::new(text);
    let span = root.span();
    let mut top = Table::from_value(
        &mut r,
        "",
        Spanned::new(span, DeValue::Table(root.into_inner())),
        "a table",
    )
    .expect("a TOML document is a table");
    let scenario = read_scenario(&mut r, &mut top, base, settings);
    let reference = top
        .take("reference")
        .map(|v| read_reference(&mut r, v))
        .transpose();
    let engagement = top
        .take("engagement")
        .map(|v| read_engagement(&mut r, v))
        .transpose();
    let actions = match top.take("actions") {
        Some(v) => read_actions(
            &mut r,
            v,
            scenario.as_ref().map(|s| s.start).map_err(|&e| e),
            matches!(engagement, Ok(Some(_))),
        ),
        None => {
            r.problem(
                &(0..0),
                "actions",
                "required: at least one [actions.<id>] table with a [[actions.<id>.costs]] line",
            );
            Vec::new()
        }
    };
    let correlations = match top.take("correlations") {
        Some(v) => read_correlations(&mut r, v, &actions),
        None => Vec::new(),
    };
    let paths: Vec<&str> = engagement
        .as_ref()
        .ok()
        .and_then(Option::as_ref)
        .into_iter()
        .flat_map(Engagement::factors)
        .chain(actions.iter().flat_map(Action::all_factors))
        .map(|f| f.path.as_str())
        .collect();
    let overrides = read_overrides(&mut r, top.take("overrides"), &paths, &settings.set);
    let start = scenario.as_ref().map(|s| s.start).map_err(|&e| e);
    let options = read_options(&mut r, top.take("options"), &paths, start);
    let national: Vec<&Factor> = engagement
        .as_ref()
        .ok()
        .and_then(Option::as_ref)
        .into_iter()
        .flat_map(Engagement::factors)
        .chain(actions.iter().flat_map(Action::all_factors))
        .chain(
            options
                .iter()
                .flat_map(|o| o.costs.iter().flat_map(|c| &c.factors)),
        )
        .collect();
    let factor_groups = read_factor_groups(&mut r, top.take("factor_groups"), &national);
    top.finish(&mut r);
    match (scenario, reference, engagement) {
        (Ok(s), Ok(reference), Ok(engagement)) if r.problems.is_empty() => Ok(Scenario {
            reference: reference.unwrap_or_else(default_reference),
            engagement,
            correlations,
            actions,
            overrides,
            options,
            factor_groups,
            ..s
        }),
        _ => Err(fail(r.problems)),
    }
}

#[cfg(test)]
mod tests;
