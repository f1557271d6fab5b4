//! Scenario files: TOML read into a validated [`Scenario`] whose invariants hold (months
//! parse, distributions are valid, at least one action with one cost line). Every problem in a
//! file is reported at once, each with its line and field. Code after this point never
//! re-checks the scenario.

mod reader;

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::dist::{Dist, Spec, NAMES};
use crate::error::{Error, FileProblems, Problem};
use crate::month::Month;
use crate::rng;
use reader::{join, kind, Reader, Table, Value};

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
        label: "Pulse FOI, Feb 2025: ICBs expected about £2m each".to_string(),
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
    /// Whose costs are counted.
    pub cost_view: CostView,
    /// Whether participation is a share of each ICB or drawn practice by practice.
    pub granularity: Granularity,
    /// Practice table named by the scenario (resolved against its folder); the embedded one
    /// when `None`. Used with [`Granularity::Practice`].
    pub practices: Option<PathBuf>,
    /// ICB reconfiguration map (old ICB code → new body), resolved against the scenario's folder:
    /// results are also reported for the new bodies.
    pub icb_map: Option<PathBuf>,
    pub reference: Reference,
    /// Engagement shared by all (engaged) actions of an ICB.
    pub engagement: Option<Engagement>,
    /// How national factors are sampled.
    pub sampling: Sampling,
    /// Target rank correlations between national factors.
    pub correlations: Vec<Correlation>,
    /// In file order.
    pub actions: Vec<Action>,
}

/// At what level taking part is decided.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
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

/// How the national factors' values are drawn across iterations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Independent draws in every iteration.
    MonteCarlo,
    /// Latin hypercube: each national factor's range is cut into as many equally likely strata
    /// as there are iterations, and each stratum is used once.
    LatinHypercube,
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

/// Whose costs a run counts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum CostView {
    /// What lands on the ICB's budget (e.g. only the variable part of extra hospital activity).
    IcbCash,
    /// The whole-NHS economic cost, whoever pays.
    Economic,
}

impl CostView {
    pub const NAMES: [&'static str; 2] = ["icb_cash", "economic"];

    pub fn as_str(self) -> &'static str {
        match self {
            CostView::IcbCash => "icb_cash",
            CostView::Economic => "economic",
        }
    }

    /// Words for titles and summaries.
    pub fn describe(self) -> &'static str {
        match self {
            CostView::IcbCash => "ICB cash",
            CostView::Economic => "whole-NHS economic cost",
        }
    }

    pub fn parse(text: &str) -> Option<CostView> {
        match text {
            "icb_cash" => Some(CostView::IcbCash),
            "economic" => Some(CostView::Economic),
            _ => None,
        }
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

/// When an action (or one of its cost lines) has effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// First month of the action.
    pub start: Month,
    /// Last active month, inclusive; `None` runs to the end of the horizon.
    pub end: Option<Month>,
    /// Months between the start and the first month of effect (a notice period: a step).
    pub notice_months: u32,
    pub ramp: Ramp,
}

impl Timing {
    /// First month with an effect.
    pub fn effect_start(&self) -> Month {
        self.start.plus(self.notice_months as i32)
    }
}

/// A latent engagement per ICB, shared by all engaged actions: participation in month m is
/// `curve(m) × icb multiplier × the action's own factors`.
#[derive(Debug, Clone)]
pub struct Engagement {
    /// National mean share of practices taking part, by month: linear between points, flat
    /// before the first and after the last.
    pub curve: Vec<(Month, f64)>,
    /// The ICB's engagement relative to the national mean (mean about 1).
    pub icb: Factor,
    pub source: Option<String>,
}

impl Engagement {
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
    /// The action's timing with the line's own notice and ramp, if it gives them.
    pub timing: Timing,
}

/// Whether a factor is one draw per iteration shared by all ICBs, or one draw per ICB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vary {
    /// Uncertainty about the world: the same value for every ICB in an iteration.
    National,
    /// Variation between ICBs: an independent draw for each ICB in each iteration.
    Icb,
}

impl Vary {
    pub fn as_str(self) -> &'static str {
        match self {
            Vary::National => "national",
            Vary::Icb => "icb",
        }
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
}

/// The baseline of a factor, drawn like the factor (same `vary`) from its own stream.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub dist: Dist,
    /// `rng::key(path + ".baseline")`.
    pub stream: u64,
}

/// Settings that replace the scenario file's own, put in place before the scenario is
/// validated (the command line's `--view`, `--granularity`, `--iterations`, `--seed`). `None`
/// keeps the file's setting.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Settings {
    pub cost_view: Option<CostView>,
    pub granularity: Option<Granularity>,
    pub iterations: Option<u64>,
    pub seed: Option<u64>,
}

impl Scenario {
    /// Last simulated month.
    pub fn end(&self) -> Month {
        self.start.plus(self.months as i32 - 1)
    }

    /// The simulated period in words: `2024-08 to 2025-01 (6 months)`.
    pub fn period(&self) -> String {
        format!("{} to {} ({} months)", self.start, self.end(), self.months)
    }

    /// Every factor with the action it belongs to, in file order.
    pub fn factors(&self) -> impl Iterator<Item = (&Action, &Factor)> {
        self.actions.iter().flat_map(|a| {
            a.factors
                .iter()
                .chain(a.costs.iter().flat_map(|c| c.factors.iter()))
                .map(move |f| (a, f))
        })
    }

    /// The ICB-table columns the scenario uses as drivers, without repeats.
    pub fn driver_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for line in self.actions.iter().flat_map(|a| &a.costs) {
            if let Some(d) = &line.driver {
                if !out.contains(d) {
                    out.push(d.clone());
                }
            }
        }
        out
    }
}

/// Reads and validates a scenario file; returns it with the file's bytes (for its hash and
/// the record a run keeps).
pub fn load(path: &Path, settings: &Settings) -> Result<(Scenario, Vec<u8>), Error> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        Error::input(
            &file,
            Problem::new(None, "file", format!("cannot read the scenario: {e}")),
        )
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        Error::input(
            &file,
            Problem::new(None, "file", format!("not UTF-8 text: {e}")),
        )
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let scenario = parse_with(text, &file, base, settings).map_err(|p| Error::Input(vec![p]))?;
    Ok((scenario, bytes))
}

/// Validates scenario text; `file` names it in problems and `base` resolves its `data` path.
pub fn parse(text: &str, file: &str, base: &Path) -> Result<Scenario, FileProblems> {
    parse_with(text, file, base, &Settings::default())
}

/// [`parse`] with `settings` in place of the file's own.
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
        .and_then(|v| read_reference(&mut r, v));
    let engagement = match top.take("engagement") {
        Some(v) => read_engagement(&mut r, v).ok_or(()),
        None => Ok(None),
    };
    let has_engagement = matches!(engagement, Ok(Some(_)));
    let actions = match top.take("actions") {
        Some(v) => read_actions(
            &mut r,
            v,
            scenario.as_ref().map(|s| s.start),
            has_engagement,
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
    top.finish(
        &mut r,
        &[
            "scenario",
            "reference",
            "engagement",
            "correlations",
            "actions",
        ],
    );
    match (scenario, engagement) {
        (Some(s), Ok(engagement)) if r.problems.is_empty() => Ok(Scenario {
            reference: reference.unwrap_or_else(default_reference),
            engagement,
            correlations,
            actions,
            ..s
        }),
        _ => Err(fail(r.problems)),
    }
}

/// `[scenario]`, with `actions`, `engagement` and `reference` left for the caller to fill.
fn read_scenario(
    r: &mut Reader,
    top: &mut Table,
    base: &Path,
    settings: &Settings,
) -> Option<Scenario> {
    let Some(value) = top.take("scenario") else {
        r.problem(
            &(0..0),
            "scenario",
            "required: a [scenario] table with name, start and months",
        );
        return None;
    };
    let mut t = Table::from_value(r, "scenario", value, "a table")?;
    let name = t.required::<String>(r, "name").map(|(v, _)| v);
    let description = t
        .get::<String>(r, "description")
        .map(|(v, _)| v)
        .unwrap_or_default();
    let start = read_month(r, &mut t, "start", true);
    let months = if t.has("months") {
        t.int_in(
            r,
            "months",
            1,
            i64::from(MAX_MONTHS),
            &format!("a whole number from 1 to {MAX_MONTHS}"),
        )
    } else {
        r.problem(&t.span, &t.field("months"), "required but missing");
        Err(())
    };
    let iterations = t.int_in(r, "iterations", 1, i64::MAX, "at least 1");
    let seed = t.int_in(r, "seed", 0, i64::MAX, "a non-negative integer");
    let data = t.get::<String>(r, "data").map(|(v, _)| base.join(v));
    let cost_view = t.choice(r, "cost_view", &CostView::NAMES);
    let sampling = t.choice(r, "sampling", &["mc", "lhs"]);
    let granularity = t.choice(r, "granularity", &["icb", "practice"]);
    let practices = t.get::<String>(r, "practices").map(|(v, _)| base.join(v));
    let icb_map = t.get::<String>(r, "icb_map").map(|(v, _)| base.join(v));
    t.finish(
        r,
        &[
            "name",
            "description",
            "start",
            "months",
            "iterations",
            "seed",
            "data",
            "cost_view",
            "sampling",
            "granularity",
            "practices",
            "icb_map",
        ],
    );
    Some(Scenario {
        name: name?,
        description,
        start: start.ok()??.0,
        months: months.ok()?? as u32,
        iterations: settings
            .iterations
            .unwrap_or(iterations.ok()?.map_or(DEFAULT_ITERATIONS, |v| v as u64)),
        seed: settings
            .seed
            .unwrap_or(seed.ok()?.map_or(DEFAULT_SEED, |v| v as u64)),
        data,
        cost_view: settings.cost_view.unwrap_or(
            cost_view
                .ok()?
                .as_deref()
                .and_then(CostView::parse)
                .unwrap_or(CostView::IcbCash),
        ),
        granularity: settings
            .granularity
            .unwrap_or(match granularity.ok()?.as_deref() {
                Some("practice") => Granularity::Practice,
                _ => Granularity::Icb,
            }),
        practices,
        icb_map,
        reference: default_reference(),
        engagement: None,
        sampling: match sampling.ok()?.as_deref() {
            Some("lhs") => Sampling::LatinHypercube,
            _ => Sampling::MonteCarlo,
        },
        correlations: Vec::new(),
        actions: Vec::new(),
    })
}

/// `[[correlations]]`: `between = [path, path]`, `rank_correlation = rho`, `source`. Each path
/// must name an uncertain national factor of the scenario.
fn read_correlations(r: &mut Reader, value: Value, actions: &[Action]) -> Vec<Correlation> {
    let span = value.span();
    let items = match value.into_inner() {
        DeValue::Array(items) => items,
        other => {
            r.problem(
                &span,
                "correlations",
                format!("expected [[correlations]] tables, found {}", kind(&other)),
            );
            return Vec::new();
        }
    };
    let national: Vec<&Factor> = actions
        .iter()
        .flat_map(|a| {
            a.factors
                .iter()
                .chain(a.costs.iter().flat_map(|c| &c.factors))
        })
        .filter(|f| f.vary == Vary::National && !f.dist.is_fixed())
        .collect();
    let mut out: Vec<Correlation> = Vec::new();
    for (n, item) in items.into_iter().enumerate() {
        let path = format!("correlations[{n}]");
        let line = r.line(&item.span());
        let Some(mut t) = Table::from_value(r, &path, item, "a table") else {
            continue;
        };
        let between = t.required::<Vec<String>>(r, "between");
        let rho = t.required::<f64>(r, "rank_correlation");
        let source = t.get::<String>(r, "source").map(|(v, _)| v);
        let (between_field, rho_field) = (t.field("between"), t.field("rank_correlation"));
        t.finish(r, &["between", "rank_correlation", "source"]);
        let (Some((between, bspan)), Some((rho, rspan))) = (between, rho) else {
            continue;
        };
        let mut ok = true;
        if !(-1.0..=1.0).contains(&rho) || !rho.is_finite() {
            r.problem(
                &rspan,
                &rho_field,
                format!("{rho} is not a correlation in [-1, 1]"),
            );
            ok = false;
        }
        if between.len() != 2 || between[0] == between[1] {
            r.problem(&bspan, &between_field, "name two different factors, e.g. [\"actions.a.factors.x\", \"actions.b.factors.y\"]");
            continue;
        }
        for p in &between {
            if !national.iter().any(|f| &f.path == p) {
                r.problem(
                    &bspan,
                    &between_field,
                    format!("'{p}' is not an uncertain national factor of this scenario"),
                );
                ok = false;
            }
        }
        let same = |c: &Correlation| {
            (c.a == between[0] && c.b == between[1]) || (c.a == between[1] && c.b == between[0])
        };
        if out.iter().any(same) {
            r.problem(
                &bspan,
                &between_field,
                "this pair already has a correlation",
            );
            ok = false;
        }
        if ok {
            out.push(Correlation {
                a: between[0].clone(),
                b: between[1].clone(),
                rank_correlation: rho,
                source,
                line,
            });
        }
    }
    out
}

/// A `YYYY-MM` key: `Ok(None)` when absent and optional, `Err(())` when missing but required
/// or invalid (the problem is recorded).
fn read_month(
    r: &mut Reader,
    t: &mut Table,
    key: &str,
    required: bool,
) -> Result<Option<(Month, Range<usize>)>, ()> {
    let present = t.has(key);
    let got = if required {
        t.required::<String>(r, key)
    } else {
        t.get::<String>(r, key)
    };
    match got {
        None if present || required => Err(()),
        None => Ok(None),
        Some((text, span)) => match text.parse::<Month>() {
            Ok(m) => Ok(Some((m, span))),
            Err(msg) => {
                r.problem(&span, &t.field(key), msg);
                Err(())
            }
        },
    }
}

fn read_reference(r: &mut Reader, value: Value) -> Option<Reference> {
    let mut t = Table::from_value(r, "reference", value, "a table")?;
    let default = default_reference();
    let per_icb_gbp = match t.get::<f64>(r, "per_icb_gbp") {
        Some((v, _)) if v.is_finite() && v > 0.0 => Some(v),
        Some((v, span)) => {
            r.problem(
                &span,
                "reference.per_icb_gbp",
                format!("must be a positive amount in pounds, found {v}"),
            );
            None
        }
        None => Some(default.per_icb_gbp),
    };
    let label = t.get::<String>(r, "label").map(|(v, _)| v);
    let source = t.get::<String>(r, "source").map(|(v, _)| v);
    t.finish(r, &["per_icb_gbp", "label", "source"]);
    let per_icb_gbp = per_icb_gbp?;
    // A figure of the user's own without a label is labelled by its value, not by the Pulse text.
    let custom = per_icb_gbp != default.per_icb_gbp;
    Some(Reference {
        per_icb_gbp,
        label: label.unwrap_or_else(|| {
            if custom {
                format!("£{per_icb_gbp} per ICB")
            } else {
                default.label.clone()
            }
        }),
        source: source.unwrap_or_else(|| {
            if custom {
                String::new()
            } else {
                default.source
            }
        }),
    })
}

/// `[engagement]`: `None` (with problems recorded) when invalid.
fn read_engagement(r: &mut Reader, value: Value) -> Option<Option<Engagement>> {
    let mut t = Table::from_value(r, "engagement", value, "a table")?;
    let curve = match t.take("curve") {
        None => {
            r.problem(&t.span, &t.field("curve"), "required: national shares by month, e.g. { \"2024-08\" = 0.46, \"2024-11\" = 0.70 }");
            None
        }
        Some(v) => read_curve(r, &t.field("curve"), v),
    };
    let icb = match t.take("icb") {
        Some(v) => read_factor(r, "engagement.icb", "icb", v, Vary::Icb, true),
        None => {
            r.problem(&t.span, &t.field("icb"), "required: the ICB's engagement relative to the national mean, e.g. { dist = \"pert\", min = 0.5, mode = 1, max = 1.35 }");
            None
        }
    };
    let source = t.get::<String>(r, "source").map(|(v, _)| v);
    t.finish(r, &["curve", "icb", "source"]);
    Some(Some(Engagement {
        curve: curve?,
        icb: icb?,
        source,
    }))
}

fn read_curve(r: &mut Reader, path: &str, value: Value) -> Option<Vec<(Month, f64)>> {
    let mut t = Table::from_value(r, path, value, "a table of month = share")?;
    let mut points = Vec::new();
    let mut ok = true;
    for (key, key_span, v) in t.drain() {
        let field = join(path, &key);
        let month = key
            .parse::<Month>()
            .map_err(|m| r.problem(&key_span, &field, m))
            .ok();
        let share = r.de::<f64>(&field, v).filter(|s| {
            let fine = (0.0..=1.0).contains(s);
            if !fine {
                r.problem(&key_span, &field, format!("share {s} must lie in [0, 1]"));
            }
            fine
        });
        match (month, share) {
            (Some(m), Some(s)) => points.push((m, s)),
            _ => ok = false,
        }
    }
    points.sort_by_key(|p| p.0);
    if ok && points.is_empty() {
        r.problem(&t.span, path, "needs at least one month = share point");
        ok = false;
    }
    if points.windows(2).any(|w| w[0].0 == w[1].0) {
        r.problem(&t.span, path, "a month appears twice");
        ok = false;
    }
    ok.then_some(points)
}

fn read_actions(
    r: &mut Reader,
    value: Value,
    scenario_start: Option<Month>,
    has_engagement: bool,
) -> Vec<Action> {
    let Some(mut t) = Table::from_value(r, "actions", value, "a table of actions") else {
        return Vec::new();
    };
    let entries = t.drain();
    if entries.is_empty() {
        r.problem(&t.span, "actions", "at least one action is required");
    }
    entries
        .into_iter()
        .filter_map(|(id, _, v)| read_action(r, &id, v, scenario_start, has_engagement))
        .collect()
}

/// `ramp_months = N` or `ramp = { shape = "linear", months = N }` or
/// `ramp = { shape = "exponential", tau_months = T }`: `Ok(None)` when absent.
fn read_ramp(r: &mut Reader, t: &mut Table) -> Result<Option<Ramp>, ()> {
    let months_what = format!("a whole number of months from 1 to {MAX_MONTHS}");
    let simple = t.int_in(r, "ramp_months", 1, i64::from(MAX_MONTHS), &months_what)?;
    let Some(value) = t.take("ramp") else {
        return Ok(simple.map(|m| Ramp::Linear { months: m as u32 }));
    };
    let field = t.field("ramp");
    let span = value.span();
    if simple.is_some() {
        r.problem(&span, &field, "give either ramp_months or ramp, not both");
        return Err(());
    }
    let mut rt = Table::from_value(
        r,
        &field,
        value,
        "a table such as { shape = \"exponential\", tau_months = 8 }",
    )
    .ok_or(())?;
    let shape = rt.choice(r, "shape", &["linear", "exponential"]);
    let ramp = match shape {
        Ok(Some(s)) if s == "linear" => {
            match rt.int_in(r, "months", 1, i64::from(MAX_MONTHS), &months_what) {
                Ok(Some(m)) => Ok(Ramp::Linear { months: m as u32 }),
                Ok(None) => {
                    r.problem(&span, &rt.field("months"), "required for a linear ramp");
                    Err(())
                }
                Err(()) => Err(()),
            }
        }
        Ok(Some(_)) => match rt.get::<f64>(r, "tau_months") {
            Some((tau, _)) if tau.is_finite() && tau > 0.0 && tau <= f64::from(MAX_MONTHS) => {
                Ok(Ramp::Exponential { tau_months: tau })
            }
            Some((tau, tspan)) => {
                r.problem(
                    &tspan,
                    &rt.field("tau_months"),
                    format!("must be a number of months above 0, found {tau}"),
                );
                Err(())
            }
            None => {
                r.problem(
                    &span,
                    &rt.field("tau_months"),
                    "required for an exponential ramp",
                );
                Err(())
            }
        },
        Ok(None) => {
            r.problem(
                &span,
                &rt.field("shape"),
                "required: \"linear\" or \"exponential\"",
            );
            Err(())
        }
        Err(()) => Err(()),
    };
    rt.finish(r, &["shape", "months", "tau_months"]);
    ramp.map(Some)
}

fn read_action(
    r: &mut Reader,
    id: &str,
    value: Value,
    scenario_start: Option<Month>,
    has_engagement: bool,
) -> Option<Action> {
    let path = join("actions", id);
    let mut t = Table::from_value(r, &path, value, "a table")?;
    let label = t
        .get::<String>(r, "label")
        .map(|(v, _)| v)
        .unwrap_or_else(|| id.to_string());
    let description = t
        .get::<String>(r, "description")
        .map(|(v, _)| v)
        .unwrap_or_default();
    let start = read_month(r, &mut t, "start", false);
    let end = read_month(r, &mut t, "end", false);
    let ramp = read_ramp(r, &mut t);
    let notice = t.int_in(
        r,
        "notice_months",
        0,
        i64::from(MAX_MONTHS),
        &format!("a whole number of months from 0 to {MAX_MONTHS}"),
    );
    let engaged = match t.get::<bool>(r, "engaged") {
        Some((true, span)) if !has_engagement => {
            r.problem(
                &span,
                &t.field("engaged"),
                "there is no [engagement] section to apply",
            );
            None
        }
        Some((v, _)) => Some(v),
        None => Some(has_engagement),
    };
    let factors = match t.take("factors") {
        Some(v) => read_factors(r, &t.field("factors"), v),
        None => Some(Vec::new()),
    };
    let start = match start {
        Ok(Some((m, _))) => Some(m),
        Ok(None) => scenario_start,
        Err(()) => None,
    };
    if let (Some(s), Ok(Some((e, span)))) = (start, &end) {
        if e < &s {
            r.problem(
                span,
                &t.field("end"),
                format!("end {e} is before start {s}"),
            );
        }
    }
    let timing = match (start, end, ramp, notice) {
        (Some(start), Ok(end), Ok(ramp), Ok(notice)) => Some(Timing {
            start,
            end: end.map(|(m, _)| m),
            notice_months: notice.unwrap_or(0) as u32,
            ramp: ramp.unwrap_or(Ramp::Linear { months: 1 }),
        }),
        _ => None,
    };
    let costs = match t.take("costs") {
        Some(v) => read_costs(r, &path, v, timing),
        None => {
            r.problem(
                &t.span,
                &t.field("costs"),
                format!(
                    "at least one [[{}]] cost line is required",
                    t.field("costs")
                ),
            );
            None
        }
    };
    t.finish(
        r,
        &[
            "label",
            "description",
            "start",
            "end",
            "ramp_months",
            "ramp",
            "notice_months",
            "engaged",
            "factors",
            "costs",
        ],
    );
    Some(Action {
        id: id.to_string(),
        label,
        description,
        timing: timing?,
        engaged: engaged?,
        factors: factors?,
        costs: costs?,
    })
}

fn read_costs(
    r: &mut Reader,
    action_path: &str,
    value: Value,
    timing: Option<Timing>,
) -> Option<Vec<CostLine>> {
    let span = value.span();
    let field = join(action_path, "costs");
    let items = match value.into_inner() {
        DeValue::Array(items) => items,
        other => {
            r.problem(
                &span,
                &field,
                format!(
                    "expected an array of tables ([[{field}]]), found {}",
                    kind(&other)
                ),
            );
            return None;
        }
    };
    if items.is_empty() {
        r.problem(&span, &field, "at least one cost line is required");
        return None;
    }
    let mut lines = Vec::new();
    let mut ok = true;
    for (n, item) in items.into_iter().enumerate() {
        match read_cost_line(r, &format!("{field}[{n}]"), n, item, timing) {
            Some(line) => lines.push(line),
            None => ok = false,
        }
    }
    ok.then_some(lines)
}

fn read_cost_line(
    r: &mut Reader,
    path: &str,
    n: usize,
    value: Value,
    timing: Option<Timing>,
) -> Option<CostLine> {
    let mut t = Table::from_value(r, path, value, "a table")?;
    let label = t
        .get::<String>(r, "label")
        .map(|(v, _)| v)
        .unwrap_or_else(|| format!("cost line {}", n + 1));
    let driver = t
        .get::<String>(r, "driver")
        .map(|(v, span)| (v, r.line(&span)));
    let factors = match t.take("factors") {
        Some(v) => read_factors(r, &t.field("factors"), v),
        None => Some(Vec::new()),
    };
    let _ = t.get::<String>(r, "description");
    let negative = t.get::<bool>(r, "negative").is_some_and(|(v, _)| v);
    let views = match t.get::<Vec<String>>(r, "views") {
        None => Some(vec![CostView::IcbCash, CostView::Economic]),
        Some((names, span)) => {
            let views: Vec<Option<CostView>> = names.iter().map(|v| CostView::parse(v)).collect();
            if names.is_empty() || views.contains(&None) {
                r.problem(&span, &t.field("views"), format!("expected a non-empty list of \"icb_cash\" and \"economic\", found {names:?}"));
                None
            } else {
                Some(views.into_iter().flatten().collect())
            }
        }
    };
    let ramp = read_ramp(r, &mut t);
    let notice = t.int_in(
        r,
        "notice_months",
        0,
        i64::from(MAX_MONTHS),
        &format!("a whole number of months from 0 to {MAX_MONTHS}"),
    );
    t.finish(
        r,
        &[
            "label",
            "description",
            "driver",
            "factors",
            "negative",
            "views",
            "ramp_months",
            "ramp",
            "notice_months",
        ],
    );
    let timing = match (timing, ramp, notice) {
        (Some(t), Ok(ramp), Ok(notice)) => Timing {
            ramp: ramp.unwrap_or(t.ramp),
            notice_months: notice.map_or(t.notice_months, |n| n as u32),
            ..t
        },
        _ => return None,
    };
    Some(CostLine {
        label,
        driver_line: driver.as_ref().map(|d| d.1),
        driver: driver.map(|d| d.0),
        factors: factors?,
        negative,
        views: views?,
        timing,
    })
}

fn read_factors(r: &mut Reader, path: &str, value: Value) -> Option<Vec<Factor>> {
    let mut t = Table::from_value(r, path, value, "a table of factors")?;
    let mut out = Vec::new();
    let mut ok = true;
    for (name, _, v) in t.drain() {
        match read_factor(r, &join(path, &name), &name, v, Vary::National, true) {
            Some(f) => out.push(f),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// A DIST: a bare number (known value) or `{ dist = "...", <parameters>, vary, source,
/// assumption, view, baseline }`. A baseline (`full = false`) takes only `dist`, its
/// parameters, `source` and `assumption`.
fn read_factor(
    r: &mut Reader,
    path: &str,
    name: &str,
    value: Value,
    default_vary: Vary,
    full: bool,
) -> Option<Factor> {
    let span = value.span();
    let line = r.line(&span);
    let make = |dist, vary, source, assumption, view, baseline, region_correlation| Factor {
        name: name.to_string(),
        path: path.to_string(),
        dist,
        vary,
        source,
        assumption,
        participation: false,
        view,
        baseline,
        region_correlation,
        stream: rng::key(path),
        line,
    };
    match value.get_ref() {
        DeValue::Integer(_) | DeValue::Float(_) => {
            let v: f64 = r.de(path, value)?;
            let dist = build_dist(r, &span, path, Spec::Fixed { value: v })?;
            return Some(make(dist, default_vary, None, false, None, None, 0.0));
        }
        DeValue::Table(_) => {}
        other => {
            r.problem(
                &span,
                path,
                format!(
                    "expected a number or a distribution such as {{ dist = \"pert\", min = 0.2, mode = 0.35, max = 0.65 }}, found {}",
                    kind(other)
                ),
            );
            return None;
        }
    }
    let mut t = Table::from_value(r, path, value, "a table")?;
    let dist_name = t.required::<String>(r, "dist");
    let source = t.get::<String>(r, "source").map(|(v, _)| v);
    let assumption = t.get::<bool>(r, "assumption").is_some_and(|(v, _)| v);
    let mut common = vec!["dist", "source", "assumption"];
    let mut participation = false;
    let (vary, view, baseline, region) = if full {
        common.extend([
            "vary",
            "view",
            "baseline",
            "region_correlation",
            "participation",
        ]);
        if let Some((flag, span)) = t.get::<bool>(r, "participation") {
            // Only an action's own factors: every cost line of the action shares its share of
            // practices taking part.
            let own = path.starts_with("actions.")
                && path.contains(".factors.")
                && !path.contains(".costs[");
            if flag && !own {
                r.problem(
                    &span,
                    &t.field("participation"),
                    "only an action's own factors ([actions.<id>.factors]) can be the share of practices taking part",
                );
            }
            participation = flag && own;
        }
        let vary = t
            .choice(r, "vary", &["national", "icb"])
            .map(|v| match v.as_deref() {
                Some("icb") => Vary::Icb,
                Some(_) => Vary::National,
                None => default_vary,
            });
        let view = t
            .choice(r, "view", &CostView::NAMES)
            .map(|v| v.as_deref().and_then(CostView::parse));
        let baseline = match t.take("baseline") {
            None => Ok(None),
            Some(v) => {
                let bpath = join(path, "baseline");
                read_factor(r, &bpath, "baseline", v, default_vary, false)
                    .map(|b| {
                        Some(Baseline {
                            dist: b.dist,
                            stream: b.stream,
                        })
                    })
                    .ok_or(())
            }
        };
        let region = match t.get::<f64>(r, "region_correlation") {
            None => Ok(0.0),
            Some((rho, span)) if !(0.0..1.0).contains(&rho) => {
                r.problem(
                    &span,
                    &t.field("region_correlation"),
                    format!("must lie in [0, 1), found {rho}"),
                );
                Err(())
            }
            Some((rho, span)) if rho > 0.0 && vary != Ok(Vary::Icb) => {
                r.problem(
                    &span,
                    &t.field("region_correlation"),
                    "applies only to a factor with vary = \"icb\"",
                );
                Err(())
            }
            Some((rho, _)) => Ok(rho),
        };
        (vary, view, baseline, region)
    } else {
        (Ok(default_vary), Ok(None), Ok(None), Ok(0.0))
    };
    let Some((dist_name, dist_span)) = dist_name else {
        t.drain();
        return None;
    };
    let Some(params) = Spec::parameters(&dist_name) else {
        r.problem(
            &dist_span,
            &t.field("dist"),
            format!(
                "unknown dist '{dist_name}'; expected one of: {}",
                NAMES.join(", ")
            ),
        );
        t.drain();
        return None;
    };
    let values: Vec<Option<f64>> = params
        .iter()
        .map(|p| {
            t.required::<f64>(r, p).and_then(|(v, span)| {
                if v.is_finite() {
                    Some(v)
                } else {
                    r.problem(
                        &span,
                        &t.field(p),
                        format!("must be a finite number, found {v}"),
                    );
                    None
                }
            })
        })
        .collect();
    let allowed: Vec<&str> = common.iter().chain(params.iter()).copied().collect();
    t.finish(r, &allowed);
    let values: Vec<f64> = values.into_iter().collect::<Option<_>>()?;
    let spec = Spec::from_parts(&dist_name, &values).expect("parameters match the dist");
    let dist = build_dist(r, &span, path, spec)?;
    Some(Factor {
        participation,
        ..make(
            dist,
            vary.ok()?,
            source,
            assumption,
            view.ok()?,
            baseline.ok()?,
            region.ok()?,
        )
    })
}

fn build_dist(r: &mut Reader, span: &Range<usize>, path: &str, spec: Spec) -> Option<Dist> {
    match Dist::new(spec) {
        Ok(d) => Some(d),
        Err(problems) => {
            for p in problems {
                r.problem(span, path, p);
            }
            None
        }
    }
}

#[cfg(test)]
mod tests;
