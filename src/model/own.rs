//! An ICB's own values of factors (`[[overrides]]`, `--set`): its lines' products of factors,
//! with its own values in place of the model's.

use super::*;

/// An ICB's own values of factors: its lines are evaluated with these products instead of the
/// model's. Every other ICB, and every draw the model makes, is unchanged.
#[derive(Debug, Clone)]
pub struct Own {
    /// Index of the ICB in the table.
    pub icb: usize,
    /// The ICB's own uncertain factors, drawn for it from the factor's stream keyed by the ICB
    /// (a national factor too).
    pub slots: Vec<Slot>,
    /// One for each of [`Model::lines`].
    pub lines: Vec<OwnLine>,
}

/// One line's product of factors for an ICB with its own values.
#[derive(Debug, Clone)]
pub struct OwnLine {
    /// The line's sign and fixed factors, the ICB's own fixed values among them.
    pub constant: f64,
    /// Indices into [`Model::national`] of the factors it does not override.
    pub national: Vec<usize>,
    /// Indices into [`Model::per_icb`] of the factors it does not override.
    pub per_icb: Vec<usize>,
    /// Indices into [`Own::slots`].
    pub own: Vec<usize>,
}

impl Own {
    /// Multiplies the ICB's product for one line by `factor`: its own value if it has one, the
    /// model's otherwise (whose slot the model's line has already added).
    pub(super) fn multiply(
        &mut self,
        overrides: &[&Override],
        line: &mut OwnLine,
        factor: &Factor,
        national: &mut Vec<Slot>,
        per_icb: &mut Vec<Slot>,
    ) {
        let Some(o) = overrides.iter().find(|o| o.factor == factor.path) else {
            Product {
                constant: &mut line.constant,
                national: &mut line.national,
                per_icb: &mut line.per_icb,
            }
            .multiply(factor, national, per_icb);
            return;
        };
        let own = Factor {
            dist: o.dist.clone(),
            line: o.line.unwrap_or(factor.line),
            ..factor.clone()
        };
        if let Some(value) = Slot::fixed_value(&own) {
            line.constant *= value;
            return;
        }
        let at = self
            .slots
            .iter()
            .position(|s| s.stream == own.stream)
            .unwrap_or_else(|| {
                self.slots.push(Slot::of(&own));
                self.slots.len() - 1
            });
        line.own.push(at);
    }
}

/// An empty [`Own`] for each ICB with its own values, in table order, with the overrides it
/// has. Problems: an ICB the table does not have; at practice level, an override of a share of
/// practices taking part (each practice's probability of taking part is drawn from the
/// national and ICB-level draws, and a practice's draw is not made per override).
pub(super) fn owns<'s>(
    scenario: &'s Scenario,
    table: &IcbTable,
    at_practices: bool,
    problems: &mut Vec<Problem>,
) -> (Vec<Own>, Vec<Vec<&'s Override>>) {
    let mut by_icb: Vec<(usize, Vec<&Override>)> = Vec::new();
    for (n, o) in scenario.overrides.iter().enumerate() {
        let i = match table.row_of(&o.icb) {
            Ok(i) => i,
            Err(why) => {
                problems.push(Problem::new(o.line, format!("{}.icb", o.field(n)), why));
                continue;
            }
        };
        let engagement = scenario
            .engagement
            .iter()
            .flat_map(|e| e.factors())
            .any(|f| f.path == o.factor);
        let participation = engagement
            || scenario
                .factors()
                .any(|(_, f)| f.path == o.factor && f.participation);
        if at_practices && participation {
            problems.push(Problem::new(
                o.line,
                format!("{}.factor", o.field(n)),
                format!(
                    "{} is the share of practices taking part, drawn practice by practice with granularity = \"practice\"; an ICB's own value of it is used at ICB level only",
                    o.factor
                ),
            ));
            continue;
        }
        match by_icb.iter_mut().find(|(icb, _)| *icb == i) {
            Some((_, given)) => given.push(o),
            None => by_icb.push((i, vec![o])),
        }
    }
    by_icb.sort_by_key(|(i, _)| *i);
    by_icb
        .into_iter()
        .map(|(icb, given)| {
            let own = Own {
                icb,
                slots: Vec::new(),
                lines: Vec::new(),
            };
            (own, given)
        })
        .unzip()
}
