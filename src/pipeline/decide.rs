//! `decide`: every option of the scenario run on the same draws as the scenario as it stands
//! (`none`), and the decision between them nationally and in every ICB.

use std::path::Path;
use std::time::Instant;

use crate::data::IcbTable;
use crate::decide::{self, Choice, Decision, Input, ScopeCosts};
use crate::engine::{self, Keep};
use crate::error::{Error, Problem, Result};
use crate::model::Model;
use crate::output;
use crate::practices::PracticeTable;
use crate::scenario::{option_action_id, Scenario, NO_OPTION};

use super::simulate::{per_iteration, run_info};
use super::{in_scenario, Config, Observer, Prepared, SimConfig};

/// The ICB (table index) each option is for, `None` for every ICB, in the scenario's order;
/// problems name the option's `icb` with its line.
fn option_icbs(
    scenario: &Scenario,
    table: &IcbTable,
) -> std::result::Result<Vec<Option<usize>>, Vec<Problem>> {
    let mut problems = Vec::new();
    let icbs = scenario
        .options
        .iter()
        .enumerate()
        .map(|(n, o)| {
            let code = o.icb.as_ref()?;
            let found = table
                .codes
                .iter()
                .position(|c| c.eq_ignore_ascii_case(code));
            if found.is_none() {
                problems.push(Problem::new(
                    Some(o.line),
                    format!("options[{n}].icb"),
                    format!(
                        "unknown ICB code '{code}' in the ICB table {}",
                        table.file.source
                    ),
                ));
            }
            found
        })
        .collect();
    match problems.is_empty() {
        true => Ok(icbs),
        false => Err(problems),
    }
}

/// The model of each option of `scenario` (in order), compiled as the scenario is (at
/// practice level with `practices`), an option of one ICB adding its cost lines there alone.
/// Problems are those of the options' cost lines against the table and of their ICBs.
pub(super) fn option_models(
    scenario: &Scenario,
    table: &IcbTable,
    practices: Option<&PracticeTable>,
) -> std::result::Result<Vec<Model>, Vec<Problem>> {
    let icbs = option_icbs(scenario, table)?;
    let mut problems = Vec::new();
    let mut models = Vec::new();
    for (n, (option, icb)) in scenario.options.iter().zip(icbs).enumerate() {
        let derived = scenario.with_option(option);
        let compiled = match practices {
            Some(p) => Model::at_practices(&derived, table, p),
            None => Model::new(&derived, table),
        };
        match compiled {
            Ok(mut model) => {
                let action = option_action_id(&option.id);
                if let (Some(i), Some(a)) =
                    (icb, derived.actions.iter().position(|a| a.id == action))
                {
                    model.only_for(a, i);
                }
                models.push(model);
            }
            // An option of one ICB gives that ICB its own inputs: a problem with them is the
            // option's.
            Err(found) => problems.extend(found.into_iter().map(|mut p| {
                if p.field.starts_with("overrides[") && p.line == Some(option.line) {
                    p.field = format!("options[{n}].set");
                }
                p
            })),
        }
    }
    match problems.is_empty() {
        true => Ok(models),
        false => Err(problems),
    }
}

/// The results of `decide`.
pub struct Decided {
    pub prepared: Prepared,
    pub decision: Decision,
    /// Worker threads.
    pub threads: usize,
}

/// `decide`: the decision between the scenario's options, written to `out`.
pub fn decide(config: &Config, sim: &SimConfig, out: &Path, obs: &dyn Observer) -> Result<Decided> {
    let started = Instant::now();
    let decided = decision(config, sim, obs)?;
    let p = &decided.prepared;
    let info = run_info(p, decided.threads, &config.scenario, started, sim);
    output::write_decide(out, &p.scenario, &p.table, &decided.decision, &info)?;
    Ok(decided)
}

/// `decide` in memory: `none` and every option run on the same draws, and the decision
/// between them; nothing written.
pub fn decision(config: &Config, sim: &SimConfig, obs: &dyn Observer) -> Result<Decided> {
    sim.fixed_count(
        "--target-rse",
        "decide runs every option for one fixed iteration count: use --iterations",
    )?;
    let ready = super::simulate::ready(config, &per_iteration(sim), obs)?;
    let decision = decide_on(&ready.prepared, &ready.pool, ready.iterations, obs)?;
    Ok(Decided {
        prepared: ready.prepared,
        decision,
        threads: ready.threads,
    })
}

/// `none` and every option of `p` run `n` iterations each on the same draws in `pool`, and
/// the decision between them. Refused: a calibrated run, a scenario without options, one with
/// `[[correlations]]`.
pub(super) fn decide_on(
    p: &Prepared,
    pool: &rayon::ThreadPool,
    n: usize,
    obs: &dyn Observer,
) -> Result<Decision> {
    p.prior_only("decide")?;
    let source = p.scenario_file.source.clone();
    let refuse = |field: &str, message: &str| {
        Err(in_scenario(
            Path::new(&source),
            vec![Problem::new(None, field, message)],
        ))
    };
    if p.scenario.options.is_empty() {
        return refuse(
            "options",
            "decide compares the scenario's options, and it has none: add [[options]] entries (see docs/decisions.md)",
        );
    }
    if p.model.correlation.is_some() {
        return refuse(
            "correlations",
            "decide runs every option on the same draws, which reordering for [[correlations]] would not keep: remove them to decide",
        );
    }
    let mut models = vec![p.model.clone()];
    models.extend(
        option_models(&p.scenario, &p.table, p.practices.as_ref())
            .map_err(|problems| in_scenario(Path::new(&source), problems))?,
    );
    let icbs = option_icbs(&p.scenario, &p.table).expect("checked when prepared");
    obs.note(&format!(
        "Deciding between {} options and {NO_OPTION}, {n} iterations each on the same draws",
        p.scenario.options.len()
    ));
    obs.start((n * models.len()) as u64);
    let n_icb = p.table.len();
    // Each option's national and ICB costs, draw by draw, and the values its uncertain
    // national factors took.
    let mut national: Vec<Vec<f64>> = Vec::new();
    let mut by_icb: Vec<Vec<Vec<f64>>> = Vec::new();
    let mut factors: Vec<(String, Vec<f64>)> = Vec::new();
    for model in &models {
        let draws =
            pool.install(|| engine::run_from(model, 0, n, Keep::PerIteration, &|k| obs.advance(k)));
        if crate::cancel::requested() {
            obs.finish();
            return Err(Error::Interrupted);
        }
        if let Some(problem) = engine::non_finite(model, &p.table.codes, &draws) {
            obs.finish();
            return Err(in_scenario(Path::new(&source), vec![problem]));
        }
        for (j, slot) in model.national.iter().enumerate() {
            if !factors.iter().any(|(path, _)| path == &slot.path) {
                factors.push((slot.path.clone(), draws.national_factor(j)));
            }
        }
        by_icb.push((0..n_icb).map(|i| draws.icb(i)).collect());
        national.push(draws.national);
    }
    obs.finish();
    let mut options = vec![Choice {
        id: NO_OPTION.to_string(),
        label: "The scenario as it stands".to_string(),
        icb: None,
    }];
    options.extend(p.scenario.options.iter().zip(&icbs).map(|(o, icb)| Choice {
        id: o.id.clone(),
        label: o.label.clone(),
        icb: *icb,
    }));
    let mut scopes = vec![ScopeCosts {
        code: "national".to_string(),
        name: "England".to_string(),
        costs: national.into_iter().enumerate().collect(),
    }];
    for i in 0..n_icb {
        scopes.push(ScopeCosts {
            code: p.table.codes[i].clone(),
            name: p.table.names[i].clone(),
            costs: by_icb
                .iter_mut()
                .enumerate()
                .filter(|(d, _)| options[*d].icb.is_none_or(|own| own == i))
                .map(|(d, costs)| (d, std::mem::take(&mut costs[i])))
                .collect(),
        });
    }
    let label = |path: &str| factor_label(&p.scenario, path);
    let mut inputs: Vec<Input> = factors
        .iter()
        .map(|(path, values)| Input {
            factor: path.clone(),
            label: label(path),
            group: false,
            columns: vec![values.clone()],
        })
        .collect();
    for g in &p.scenario.factor_groups {
        inputs.push(Input {
            factor: g.id.clone(),
            label: g.label.clone(),
            group: true,
            columns: g
                .factors
                .iter()
                .map(|path| {
                    factors
                        .iter()
                        .find(|(p, _)| p == path)
                        .map_or_else(|| vec![0.0; n], |(_, v)| v.clone())
                })
                .collect(),
        });
    }
    Ok(pool.install(|| decide::decide(options, scopes, &inputs, p.scenario.seed)))
}

/// What a factor is, in words: the label of its action (or option) and its name.
fn factor_label(scenario: &Scenario, path: &str) -> String {
    let name = path.rsplit('.').next().unwrap_or(path);
    let owner = scenario
        .labelled_factors()
        .find(|(_, f)| f.path == path)
        .map(|(label, _)| label.to_string())
        .or_else(|| {
            scenario
                .options
                .iter()
                .find(|o| path.starts_with(&format!("options.{}.", o.id)))
                .map(|o| o.label.clone())
        });
    match owner {
        Some(owner) => format!("{owner}: {}", name.replace('_', " ")),
        None => name.replace('_', " "),
    }
}
