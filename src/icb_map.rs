//! ICB reconfiguration: a map from the ICBs of the table to the bodies that replaced them (the
//! mergers of 1 April 2026, say). Each old ICB's cost, times its share, is added to its new
//! body in every iteration, so the new bodies' results are tallied like regions'.

use crate::data::{read_text_csv, text_column, IcbTable, TextCells};
use crate::error::{FileProblems, Problem};
use crate::model::{Group, GroupKind};
use crate::provenance::InputFile;

/// How the map built into the tool is named in outputs and messages.
pub const EMBEDDED_2026_NAME: &str = "embedded:data/icb-map-2026.csv";
/// The map of the ICB mergers of 1 April 2026 (`data/icb-map-2026.csv`), built into the tool
/// for scenarios sent as text.
pub const EMBEDDED_2026_CSV: &[u8] = include_bytes!("../data/icb-map-2026.csv");

/// A validated map against an ICB table.
#[derive(Debug, Clone)]
pub struct IcbMap {
    /// The file as the user named it, its hash and its bytes.
    pub file: InputFile,
    /// The new bodies in order of first appearance, members in table order.
    pub bodies: Vec<Body>,
}

/// One new body.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub code: String,
    pub name: String,
    /// `(ICB index in the table, share of its cost)`.
    pub members: Vec<(usize, f64)>,
}

impl IcbMap {
    /// Parses `icb_code,new_code,new_name[,share]`. Every ICB of the table appears at least
    /// once; shares lie in (0, 1] and an old ICB's shares add up to 1; a new code has one name.
    pub fn from_csv(bytes: &[u8], source: &str, table: &IcbTable) -> Result<IcbMap, FileProblems> {
        let frame = read_text_csv(bytes, source)?;
        let mut problems = Vec::new();
        let cells = TextCells::new(&frame);
        let old = text_column(&cells, "icb_code", &mut problems);
        let new = text_column(&cells, "new_code", &mut problems);
        let names = text_column(&cells, "new_name", &mut problems);
        let shares = match cells.has("share") {
            true => cells.numbers("share", &mut problems),
            false => old.as_ref().map(|o| vec![1.0; o.len()]),
        };
        let fail = |problems| FileProblems {
            file: source.to_string(),
            problems,
        };
        let (Some(old), Some(new), Some(names), Some(shares)) = (old, new, names, shares) else {
            return Err(fail(problems));
        };
        let mut bodies: Vec<Body> = Vec::new();
        let mut total = vec![0.0; table.len()];
        for row in 0..old.len() {
            let line = Some(row + 2);
            let Some(icb) = table.codes.iter().position(|c| *c == old[row]) else {
                problems.push(Problem::new(
                    line,
                    "icb_code",
                    format!(
                        "'{}' is not in the ICB table {}",
                        old[row], table.file.source
                    ),
                ));
                continue;
            };
            let share = shares[row];
            if !(share > 0.0 && share <= 1.0) {
                problems.push(Problem::new(
                    line,
                    "share",
                    format!("{share} is not in (0, 1]"),
                ));
                continue;
            }
            total[icb] += share;
            match bodies.iter_mut().find(|b| b.code == new[row]) {
                Some(b) if b.name != names[row] => problems.push(Problem::new(
                    line,
                    "new_name",
                    format!("'{}' has another name earlier: '{}'", new[row], b.name),
                )),
                Some(b) if b.members.iter().any(|&(i, _)| i == icb) => problems.push(Problem::new(
                    line,
                    "icb_code",
                    format!("'{}' → '{}' is given twice", old[row], new[row]),
                )),
                Some(b) => b.members.push((icb, share)),
                None => bodies.push(Body {
                    code: new[row].clone(),
                    name: names[row].clone(),
                    members: vec![(icb, share)],
                }),
            }
        }
        for (i, &t) in total.iter().enumerate() {
            if (t - 1.0).abs() > 1e-9 {
                problems.push(Problem::new(
                    None,
                    "share",
                    match t {
                        0.0 => format!("ICB {} of the table is not mapped", table.codes[i]),
                        _ => format!("the shares of ICB {} add up to {t}, not 1", table.codes[i]),
                    },
                ));
            }
        }
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        for b in &mut bodies {
            b.members.sort_by_key(|&(i, _)| i);
        }
        Ok(IcbMap {
            file: InputFile::new(source, bytes),
            bodies,
        })
    }

    /// The bodies as groups for the engine to tally.
    pub fn groups(&self) -> Vec<Group> {
        self.bodies
            .iter()
            .map(|b| Group {
                kind: GroupKind::Body,
                code: b.code.clone(),
                name: b.name.clone(),
                members: b.members.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> IcbTable {
        IcbTable::from_csv(
            b"icb_code,icb_name\nA,Alpha\nB,Beta\nC,Gamma\n",
            "t.csv",
            &[],
        )
        .unwrap()
    }

    #[test]
    fn merges_and_splits_become_weighted_groups() {
        let csv = "icb_code,new_code,new_name,share\nA,AB,Merged,1\nB,AB,Merged,1\nC,C,Gamma,0.25\nC,AB,Merged,0.75\n";
        let m = IcbMap::from_csv(csv.as_bytes(), "m.csv", &table()).unwrap();
        assert_eq!(m.bodies.len(), 2);
        assert_eq!(m.bodies[0].members, vec![(0, 1.0), (1, 1.0), (2, 0.75)]);
        assert_eq!(m.bodies[1].members, vec![(2, 0.25)]);
    }

    #[test]
    fn every_rule_is_checked_with_its_line() {
        let csv = "icb_code,new_code,new_name,share\nA,AB,Merged,1\nB,AB,Other name,1\nZ,AB,Merged,1\nC,C,Gamma,0.5\nA,AB,Merged,1.5\n";
        let unmapped = "icb_code,new_code,new_name\nA,A,Alpha\nC,C,Gamma\n";
        let e = IcbMap::from_csv(unmapped.as_bytes(), "m.csv", &table())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "m.csv: share: ICB B of the table is not mapped");
        let e = IcbMap::from_csv(csv.as_bytes(), "m.csv", &table())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m.csv:3: new_name: 'AB' has another name earlier: 'Merged'"),
            "{e}"
        );
        assert!(
            e.contains("m.csv:4: icb_code: 'Z' is not in the ICB table t.csv"),
            "{e}"
        );
        assert!(e.contains("m.csv:6: share: 1.5 is not in (0, 1]"), "{e}");
        assert!(
            e.contains("m.csv: share: the shares of ICB C add up to 0.5, not 1"),
            "{e}"
        );
    }
}
