//! Paired comparison of two scenarios run with common random numbers: the same seed and the
//! same keyed streams, so each factor shared by both takes the same value in each iteration
//! and the difference B − A is measured draw by draw.

use std::path::PathBuf;

use crate::data::IcbTable;
use crate::engine::Draws;
use crate::scenario::Scenario;
use crate::stats::{share_above, Summary};

/// One scenario compared with the baseline.
#[derive(Debug, Clone)]
pub struct Compared {
    pub path: PathBuf,
    pub sha256: String,
    pub scenario: Scenario,
    /// Per ICB, then national.
    pub rows: Vec<PairedDiff>,
}

/// The difference B − A for one ICB or the nation.
#[derive(Debug, Clone)]
pub struct PairedDiff {
    /// ICB code, or `national`.
    pub code: String,
    pub name: String,
    pub mean_a: f64,
    pub mean_b: f64,
    /// Summary of B − A across iterations.
    pub diff: Summary,
    /// Share of iterations in which B costs more than A.
    pub prob_b_greater: f64,
}

/// Why two runs cannot be paired.
pub fn unpairable(a: &IcbTable, b: &IcbTable, da: &Draws, db: &Draws) -> Option<String> {
    if a.codes != b.codes {
        return Some("the two scenarios use ICB tables with different ICB codes".to_string());
    }
    (da.iterations != db.iterations).then(|| {
        format!(
            "the runs have {} and {} iterations",
            da.iterations, db.iterations
        )
    })
}

/// Paired differences per ICB (table order) and then nationally.
pub fn paired(table: &IcbTable, a: &Draws, b: &Draws) -> Vec<PairedDiff> {
    let row = |code: &str, name: &str, xa: Vec<f64>, xb: Vec<f64>| {
        let diff: Vec<f64> = xa.iter().zip(&xb).map(|(x, y)| y - x).collect();
        PairedDiff {
            code: code.to_string(),
            name: name.to_string(),
            mean_a: Summary::of(xa).mean,
            mean_b: Summary::of(xb).mean,
            prob_b_greater: share_above(&diff, 0.0),
            diff: Summary::of(diff),
        }
    };
    let mut out: Vec<PairedDiff> = (0..a.n_icb)
        .map(|i| row(&table.codes[i], &table.names[i], a.icb(i), b.icb(i)))
        .collect();
    out.push(row(
        "national",
        "England",
        a.national.clone(),
        b.national.clone(),
    ));
    out
}
