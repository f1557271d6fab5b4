//! Practice-level participation: each practice's share of its ICB and what makes the
//! probability that it takes part in an action.

use super::*;

/// How a practice's part of its ICB's driver is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// Its share of the ICB's registered patients (drivers other than the two below, and none).
    Patients = 0,
    /// Its share of the ICB's prescribing cost (patients where the practice table has none).
    Prescribing = 1,
    /// One practice of the ICB's practices (the `gp_practices` driver).
    Count = 2,
}

impl Share {
    pub(super) fn of_driver(column: Option<&str>) -> Share {
        match column {
            Some("prescribing_cost_gbp") => Share::Prescribing,
            Some("gp_practices") => Share::Count,
            _ => Share::Patients,
        }
    }
}

/// Practice-level participation (`granularity = "practice"`): whether each practice takes part
/// in an action is drawn, and the lines then carry no participation factors and no
/// engagement curve: those make each practice's probability of taking part.
#[derive(Debug, Clone)]
pub struct PracticeModel {
    /// The practices of each ICB (table order): a range of `keys` and `shares`.
    pub ranges: Vec<std::ops::Range<usize>>,
    /// `rng::key(practice code)`: each practice's random stream.
    pub keys: Vec<u64>,
    /// `[Share][practice]`: the practice's share of its ICB's patients, prescribing and
    /// practices (each adds up to 1 over an ICB's practices).
    pub shares: [Vec<f64>; 3],
    /// Per action, in scenario order.
    pub actions: Vec<Participation>,
    /// Practices of the table whose ICB is not in the ICB table (left out).
    pub left_out: usize,
}

/// What makes the probability that a practice takes part in one action in month m:
/// `curve[m] × constant × national factors × ICB-level factors` (at most 1).
#[derive(Debug, Clone)]
pub struct Participation {
    /// `rng::key("participation:" + action id)`: the stream of each practice's uniform draw.
    pub stream: u64,
    pub constant: f64,
    pub national: Vec<usize>,
    pub per_icb: Vec<usize>,
    /// The distinct values of the curve over the horizon, ascending.
    pub levels: Vec<f64>,
    /// Each month's index into `levels`.
    pub month_level: Vec<usize>,
    /// The lines of the action: a range of [`Model::lines`].
    pub lines: std::ops::Range<usize>,
}

impl PracticeModel {
    /// The practices of ICB `i`, each as its part of its streams' keys in an iteration
    /// (`iteration_key`: [`crate::rng::iteration_key`]), mixed once for all the actions.
    pub fn practice_keys(&self, i: usize, iteration_key: u64) -> impl Iterator<Item = u64> + '_ {
        self.keys[self.ranges[i].clone()]
            .iter()
            .map(move |&k| crate::rng::entity_key(iteration_key, k))
    }

    /// Each practice's shares of its ICB, practices grouped by ICB in table order (table order
    /// within an ICB). Practices of ICBs not in the table are left out; an ICB without
    /// practices, or whose practices have no patients, is a problem.
    pub(super) fn new(
        practices: &PracticeTable,
        table: &IcbTable,
        actions: Vec<Participation>,
    ) -> Result<PracticeModel, Problem> {
        let mut by_icb: Vec<Vec<usize>> = vec![Vec::new(); table.len()];
        let mut left_out = 0;
        for (p, code) in practices.icb_codes.iter().enumerate() {
            match table.codes.iter().position(|c| c == code) {
                Some(i) => by_icb[i].push(p),
                None => left_out += 1,
            }
        }
        let patients = &practices.patients;
        let prescribing = practices.prescribing.as_ref().unwrap_or(patients);
        let mut model = PracticeModel {
            ranges: Vec::new(),
            keys: Vec::new(),
            shares: [Vec::new(), Vec::new(), Vec::new()],
            actions,
            left_out,
        };
        let mut empty = Vec::new();
        for (i, members) in by_icb.iter().enumerate() {
            let total = |v: &[f64]| members.iter().map(|&p| v[p]).sum::<f64>();
            let (pat, pre) = (total(patients), total(prescribing));
            if members.is_empty() || pat <= 0.0 {
                empty.push(table.codes[i].clone());
                continue;
            }
            let start = model.keys.len();
            for &p in members {
                model.keys.push(rng::key(&practices.codes[p]));
                model.shares[Share::Patients as usize].push(patients[p] / pat);
                model.shares[Share::Prescribing as usize].push(match pre > 0.0 {
                    true => prescribing[p] / pre,
                    false => patients[p] / pat,
                });
                model.shares[Share::Count as usize].push(1.0 / members.len() as f64);
            }
            model.ranges.push(start..model.keys.len());
        }
        if !empty.is_empty() {
            return Err(Problem::new(
                None,
                "scenario.practices",
                format!(
                    "granularity = \"practice\" needs practices with patients in every ICB; the practice table {} has none for {}",
                    practices.file.source,
                    empty.join(", ")
                ),
            ));
        }
        Ok(model)
    }
}
