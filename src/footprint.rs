//! Footprints: the ICBs in force at a date, defined practice by practice. A footprint file
//! gives each practice of the practice table the ICB it belongs to (the ICBs of 1 April 2026,
//! say: `data/footprint-2026.csv`); the ICB table and the practice table are rebuilt on it
//! before anything is compiled, so a run simulates and reports the footprint's ICBs as if they
//! were the table's rows. Each old ICB's figures (patients, practices, prescribing, any other
//! driver column) are shared out between the bodies its practices go to, in proportion to the
//! practices' patients, prescribing or number, so every column's national total is unchanged.

use std::collections::HashMap;

use crate::data::{read_text_csv, text_column, FormerIcb, IcbTable, TextCells, PATIENTS};
use crate::error::{FileProblems, Problem};
use crate::practices::PracticeTable;
use crate::provenance::InputFile;

/// How the footprint built into the tool is named in outputs and messages.
pub const EMBEDDED_2026_NAME: &str = "embedded:data/footprint-2026.csv";
/// The ICBs of 1 April 2026, practice by practice (`data/footprint-2026.csv`), built into the
/// tool for scenarios sent as text.
pub const EMBEDDED_2026_CSV: &[u8] = include_bytes!("../data/footprint-2026.csv");

/// How many practices a problem names before it says "and N more".
const NAMED: usize = 5;

/// A validated footprint against an ICB table and a practice table.
#[derive(Debug, Clone)]
pub struct Footprint {
    /// The file as the user named it, its hash and its bytes.
    pub file: InputFile,
    /// The practice table it places (a run records it, at ICB level too).
    pub practices: InputFile,
    /// The footprint's ICBs in order of first appearance in the file.
    pub bodies: Vec<FootprintIcb>,
    /// For each practice of the practice table: its body (an index of `bodies`), or `None`
    /// for a practice whose ICB is not in the ICB table (left out, as without a footprint).
    placed: Vec<Option<usize>>,
}

/// One ICB of a footprint.
#[derive(Debug, Clone, PartialEq)]
pub struct FootprintIcb {
    pub code: String,
    pub name: String,
    pub region: String,
}

impl Footprint {
    /// Parses `practice_code,icb_code,icb_name[,region]` (other columns are for readers and
    /// ignored). Every practice of the practice table whose ICB is in the ICB table is placed
    /// exactly once, every practice of the file is in the practice table, a code has one name
    /// and one region, and every ICB of the table has practices. Without a `region` column an
    /// ICB's region is that of the old ICBs its practices come from, which must agree.
    pub fn from_csv(
        bytes: &[u8],
        source: &str,
        table: &IcbTable,
        practices: &PracticeTable,
    ) -> Result<Footprint, FileProblems> {
        let frame = read_text_csv(bytes, source)?;
        let mut problems = Vec::new();
        let cells = TextCells::new(&frame);
        let codes = text_column(&cells, "practice_code", &mut problems);
        let icbs = text_column(&cells, "icb_code", &mut problems);
        let names = text_column(&cells, "icb_name", &mut problems);
        let regions = match cells.has("region") {
            true => text_column(&cells, "region", &mut problems).map(Some),
            false => Some(None),
        };
        let fail = |problems| FileProblems {
            file: source.to_string(),
            problems,
        };
        let (Some(codes), Some(icbs), Some(names), Some(regions)) = (codes, icbs, names, regions)
        else {
            return Err(fail(problems));
        };
        if codes.is_empty() {
            problems.push(Problem::new(
                None,
                "practice_code",
                "the file places no practices",
            ));
        }
        let row_of: HashMap<&str, usize> = practices
            .codes
            .iter()
            .enumerate()
            .map(|(row, c)| (c.as_str(), row))
            .collect();
        let old_of: Vec<Option<usize>> = practices
            .icb_codes
            .iter()
            .map(|c| table.codes.iter().position(|t| t == c))
            .collect();
        let mut bodies: Vec<FootprintIcb> = Vec::new();
        // Per body: the line that named it first, and the old ICBs' regions (without a
        // region column).
        let mut first_line: Vec<usize> = Vec::new();
        let mut old_regions: Vec<Vec<String>> = Vec::new();
        let mut placed: Vec<Option<usize>> = vec![None; practices.len()];
        let mut line_of: Vec<Option<usize>> = vec![None; practices.len()];
        for row in 0..codes.len() {
            let line = row + 2;
            let Some(&p) = row_of.get(codes[row].as_str()) else {
                problems.push(Problem::new(
                    Some(line),
                    "practice_code",
                    format!(
                        "'{}' is not in the practice table {}",
                        codes[row], practices.file.source
                    ),
                ));
                continue;
            };
            if let Some(first) = line_of[p] {
                problems.push(Problem::new(
                    Some(line),
                    "practice_code",
                    format!(
                        "practice '{}' is placed twice (first on line {first})",
                        codes[row]
                    ),
                ));
                continue;
            }
            line_of[p] = Some(line);
            let region = regions.as_ref().map(|r| r[row].clone());
            let body = match bodies.iter().position(|b| b.code == icbs[row]) {
                Some(b) => {
                    let known = &bodies[b];
                    if known.name != names[row] {
                        problems.push(Problem::new(
                            Some(line),
                            "icb_name",
                            format!(
                                "'{}' is named '{}' on line {}",
                                icbs[row], known.name, first_line[b]
                            ),
                        ));
                    }
                    if let Some(region) = &region {
                        if known.region != *region {
                            problems.push(Problem::new(
                                Some(line),
                                "region",
                                format!(
                                    "'{}' is in '{}' on line {}",
                                    icbs[row], known.region, first_line[b]
                                ),
                            ));
                        }
                    }
                    b
                }
                None => {
                    bodies.push(FootprintIcb {
                        code: icbs[row].clone(),
                        name: names[row].clone(),
                        region: region.unwrap_or_default(),
                    });
                    first_line.push(line);
                    old_regions.push(Vec::new());
                    bodies.len() - 1
                }
            };
            if let Some(old) = old_of[p] {
                placed[p] = Some(body);
                let r = &table.regions[old];
                if !old_regions[body].contains(r) {
                    old_regions[body].push(r.clone());
                }
            }
        }
        let unplaced: Vec<&str> = (0..practices.len())
            .filter(|&p| old_of[p].is_some() && line_of[p].is_none())
            .map(|p| practices.codes[p].as_str())
            .collect();
        if !unplaced.is_empty() {
            problems.push(Problem::new(
                None,
                "practice_code",
                format!(
                    "{} practices of the practice table {} are not placed: {}",
                    unplaced.len(),
                    practices.file.source,
                    named(&unplaced)
                ),
            ));
        }
        let mut has_practices = vec![false; table.len()];
        for old in old_of.iter().flatten() {
            has_practices[*old] = true;
        }
        let without: Vec<&str> = (0..table.len())
            .filter(|&i| !has_practices[i])
            .map(|i| table.codes[i].as_str())
            .collect();
        if !without.is_empty() {
            problems.push(Problem::new(
                None,
                "icb_code",
                format!(
                    "the practice table {} has no practices for {} of the ICB table {}, so the footprint cannot place them",
                    practices.file.source,
                    without.join(", "),
                    table.file.source
                ),
            ));
        }
        if regions.is_none() {
            for (b, body) in bodies.iter_mut().enumerate() {
                match old_regions[b].as_slice() {
                    [one] => body.region = one.clone(),
                    [] => {}
                    several => problems.push(Problem::new(
                        Some(first_line[b]),
                        "region",
                        format!(
                            "'{}' takes practices of ICBs in several regions ({}): give a region column",
                            body.code,
                            several.join(", ")
                        ),
                    )),
                }
            }
        }
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        Ok(Footprint {
            file: InputFile::new(source, bytes),
            practices: practices.file.clone(),
            bodies,
            placed,
        })
    }

    /// The ICB table and the practice table on this footprint. The ICB table has one row per
    /// body that holds practices (file order), with `icb_code`, `icb_name`, `region` and each
    /// numeric column of `table`: an old ICB's value is shared out between the bodies its
    /// practices go to, in proportion to their patients (their prescribing for
    /// `prescribing_cost_gbp`, their number for `gp_practices`, as at practice level). A
    /// whole-number column stays whole: an old ICB's value is split by largest remainder, so
    /// each old ICB, and the nation, keeps its total exactly. The practice table is the same
    /// practices with their footprint ICB; both keep the files they were read from.
    pub fn apply(&self, table: &IcbTable, practices: &PracticeTable) -> (IcbTable, PracticeTable) {
        let used: Vec<usize> = (0..self.bodies.len())
            .filter(|b| self.placed.contains(&Some(*b)))
            .collect();
        let row_of = |body: usize| used.iter().position(|&b| b == body).expect("a used body");
        let old_of = |p: usize| {
            table
                .codes
                .iter()
                .position(|c| *c == practices.icb_codes[p])
        };
        let patients = &practices.patients;
        let prescribing = practices.prescribing.as_ref().unwrap_or(patients);
        let ones = vec![1.0; practices.len()];
        // [old ICB][new row]: the weight of the old ICB's practices in each body.
        let parts_by = |weights: &[f64]| {
            let mut parts = vec![vec![0.0; used.len()]; table.len()];
            for (p, body) in self.placed.iter().enumerate() {
                if let (Some(body), Some(old)) = (body, old_of(p)) {
                    parts[old][row_of(*body)] += weights[p];
                }
            }
            parts
        };
        // [old ICB][new row]: the old ICB's `values` shared out by `parts`.
        let shared = |values: &[f64], parts: &[Vec<f64>]| -> Vec<Vec<f64>> {
            parts
                .iter()
                .enumerate()
                .map(|(old, part)| split(values[old], part))
                .collect()
        };
        let sum_rows = |shares: &[Vec<f64>]| {
            let mut out = vec![0.0; used.len()];
            for part in shares {
                for (row, v) in part.iter().enumerate() {
                    out[row] += v;
                }
            }
            out
        };
        let mut numeric = Vec::new();
        for (column, values) in table.numeric_columns() {
            let weights = match column.as_str() {
                "prescribing_cost_gbp" => prescribing,
                "gp_practices" => &ones,
                _ => patients,
            };
            numeric.push((
                column.clone(),
                sum_rows(&shared(values, &parts_by(weights))),
            ));
        }
        // Where each old ICB's patients went: the table's counts shared out as the table's
        // column is (the practices' own counts where the table has none).
        let by_patients = parts_by(patients);
        let patients_of_old = match table.numeric(PATIENTS) {
            Some(values) => shared(values, &by_patients),
            None => by_patients,
        };
        let body_patients = sum_rows(&patients_of_old);
        let former = (0..table.len())
            .map(|old| {
                let own: f64 = patients_of_old[old].iter().sum();
                FormerIcb {
                    code: table.codes[old].clone(),
                    name: table.names[old].clone(),
                    region: table.regions[old].clone(),
                    parts: patients_of_old[old]
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| **v > 0.0)
                        .map(|(row, v)| (row, v / body_patients[row], v / own))
                        .collect(),
                }
            })
            .collect();
        let body = |b: usize| &self.bodies[b];
        let built = IcbTable::from_parts(
            table.file.clone(),
            used.iter().map(|&b| body(b).code.clone()).collect(),
            used.iter().map(|&b| body(b).name.clone()).collect(),
            used.iter().map(|&b| body(b).region.clone()).collect(),
            numeric,
            former,
        );
        let mut moved = practices.clone();
        for (p, b) in self.placed.iter().enumerate() {
            if let Some(b) = b {
                moved.icb_codes[p] = body(*b).code.clone();
            }
        }
        (built, moved)
    }

    /// The old ICBs (codes of `table`) each body takes practices from, in table order.
    pub fn members(&self, table: &IcbTable, practices: &PracticeTable) -> Vec<Vec<String>> {
        let mut members = vec![Vec::new(); self.bodies.len()];
        for (p, b) in self.placed.iter().enumerate() {
            if let Some(b) = b {
                let old = &practices.icb_codes[p];
                if !members[*b].contains(old) {
                    members[*b].push(old.clone());
                }
            }
        }
        let rank = |c: &String| table.codes.iter().position(|t| t == c);
        for m in &mut members {
            m.sort_by_key(rank);
        }
        members
    }
}

/// `value` shared out in proportion to `weights`; a whole number into whole numbers by largest
/// remainder (ties to the earlier part), so the parts add up to it exactly.
fn split(value: f64, weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        // No weight anywhere (an old ICB whose practices all have none): nothing to share by.
        let n = weights.len().max(1) as f64;
        return weights.iter().map(|_| value / n).collect();
    }
    let exact: Vec<f64> = weights.iter().map(|w| value * w / total).collect();
    if value.fract() != 0.0 || value.abs() >= 2f64.powi(52) {
        return exact;
    }
    let mut parts: Vec<f64> = exact.iter().map(|e| e.floor()).collect();
    let left = (value - parts.iter().sum::<f64>()).round() as usize;
    let mut order: Vec<usize> = (0..parts.len()).filter(|&i| weights[i] > 0.0).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - parts[b])
            .total_cmp(&(exact[a] - parts[a]))
            .then(a.cmp(&b))
    });
    for &i in order.iter().take(left) {
        parts[i] += 1.0;
    }
    parts
}

/// The first few codes of a list and how many more there are.
fn named(codes: &[&str]) -> String {
    match codes.len() > NAMED {
        true => format!(
            "{} and {} more",
            codes[..NAMED].join(", "),
            codes.len() - NAMED
        ),
        false => codes.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> IcbTable {
        let csv = b"icb_code,icb_name,region,registered_patients,gp_practices\nA,Alpha,North,1000,3\nB,Beta,North,500,2\nC,Gamma,South,300,1\n";
        IcbTable::from_csv(
            csv,
            "t.csv",
            &["registered_patients".into(), "gp_practices".into()],
        )
        .unwrap()
    }

    fn practices() -> PracticeTable {
        let csv = "practice_code,icb_code,registered_patients\nP1,A,100\nP2,A,100\nP3,A,200\nP4,B,50\nP5,B,50\nP6,C,10\nP9,Z,5\n";
        PracticeTable::from_csv(csv.as_bytes(), "p.csv").unwrap()
    }

    #[test]
    fn a_split_icb_is_shared_by_its_practices_and_totals_are_kept() {
        // A splits: P1 to AB with B, P2 and P3 to A2; C continues.
        let csv = "practice_code,icb_code,icb_name\nP1,AB,Merged\nP4,AB,Merged\nP5,AB,Merged\nP2,A2,Rest\nP3,A2,Rest\nP6,C,Gamma\n";
        let (t, p) = (table(), practices());
        let f = Footprint::from_csv(csv.as_bytes(), "f.csv", &t, &p).unwrap();
        let (built, moved) = f.apply(&t, &p);
        assert_eq!(built.codes, ["AB", "A2", "C"]);
        assert_eq!(built.regions, ["North", "North", "South"]);
        // A's 1000 patients split 100:300 → 250 / 750; AB also takes B's 500.
        assert_eq!(
            built.numeric("registered_patients").unwrap(),
            &[750.0, 750.0, 300.0]
        );
        // A's 3 practices split 1:2 → 1 / 2; AB also takes B's 2.
        assert_eq!(built.numeric("gp_practices").unwrap(), &[3.0, 2.0, 1.0]);
        assert_eq!(moved.icb_codes, ["AB", "A2", "A2", "AB", "AB", "C", "Z"]);
        assert_eq!(built.file.source, "t.csv");
        assert_eq!(
            f.members(&t, &p),
            vec![vec!["A", "B"], vec!["A"], vec!["C"]]
        );
    }

    #[test]
    fn whole_numbers_split_by_largest_remainder_add_up() {
        assert_eq!(split(10.0, &[1.0, 1.0, 1.0]), [4.0, 3.0, 3.0]);
        assert_eq!(split(7.0, &[0.0, 2.0, 1.0]), [0.0, 5.0, 2.0]);
        assert_eq!(split(1.5, &[1.0, 2.0]), [0.5, 1.0]);
    }

    #[test]
    fn every_rule_is_checked_with_its_line() {
        let csv = "practice_code,icb_code,icb_name\nP1,AB,Merged\nP1,AB,Merged\nP4,AB,Other\nQQ,AB,Merged\nP6,AB,Merged\n";
        let e = Footprint::from_csv(csv.as_bytes(), "f.csv", &table(), &practices())
            .unwrap_err()
            .to_string();
        for expected in [
            "f.csv:3: practice_code: practice 'P1' is placed twice (first on line 2)",
            "f.csv:4: icb_name: 'AB' is named 'Merged' on line 2",
            "f.csv:5: practice_code: 'QQ' is not in the practice table p.csv",
            "f.csv: practice_code: 3 practices of the practice table p.csv are not placed: P2, P3, P5",
            "f.csv:2: region: 'AB' takes practices of ICBs in several regions (North, South): give a region column",
        ] {
            assert!(e.contains(expected), "missing «{expected}» in:\n{e}");
        }
        let missing = Footprint::from_csv(
            b"practice_code,icb\nP1,A\n",
            "f.csv",
            &table(),
            &practices(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            missing.contains("required column 'icb_code' is missing"),
            "{missing}"
        );
        let regions =
            "practice_code,icb_code,icb_name,region\nP1,A,Alpha,North\nP2,A,Alpha,South\n";
        let e = Footprint::from_csv(regions.as_bytes(), "f.csv", &table(), &practices())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.csv:3: region: 'A' is in 'North' on line 2"),
            "{e}"
        );
    }

    #[test]
    fn an_icb_without_practices_cannot_be_placed() {
        let p = PracticeTable::from_csv(
            b"practice_code,icb_code,registered_patients\nP1,A,1\nP4,B,1\n",
            "p.csv",
        )
        .unwrap();
        let e = Footprint::from_csv(
            b"practice_code,icb_code,icb_name\nP1,A,Alpha\nP4,B,Beta\n",
            "f.csv",
            &table(),
            &p,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("f.csv: icb_code: the practice table p.csv has no practices for C of the ICB table t.csv"), "{e}");
    }
}
