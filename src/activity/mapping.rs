//! Which ICB each practice of the appointments files is in: the project's practice table
//! (practice code → ICB code, the ICBs' names from the ICB table), or the publication's
//! `Mapping.csv` (sub-ICB location → ICB code and name).

use std::collections::HashMap;
use std::path::Path;

use crate::data::{read_text_csv, text_column, IcbTable, TextCells};
use crate::error::{Error, FileProblems, Problem};
use crate::practices::PracticeTable;
use crate::provenance::InputFile;

/// `Mapping.csv`'s column of sub-ICB location codes (as the appointments files'
/// `SUB_ICB_LOCATION_CODE`).
pub const SUB_ICB_LOCATION_CODE: &str = "SUB_ICB_LOCATION_CODE";
/// `Mapping.csv`'s ICB code (ODS, e.g. `QE1`).
pub const ICB_CODE: &str = "ICB_CODE";
pub const ICB_NAME: &str = "ICB_NAME";

/// Places practices in ICBs.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The table as the user named it, or the embedded practice table's name.
    pub source: String,
    by: By,
}

#[derive(Debug, Clone)]
enum By {
    /// Practice code → (ICB code, ICB name).
    Practice(HashMap<String, (String, String)>),
    /// Sub-ICB location code → (ICB code, ICB name).
    SubIcb(HashMap<String, (String, String)>),
}

impl Mapping {
    /// The practice table embedded in the binary (`data/practices.csv`), each ICB named as the
    /// embedded ICB table names it.
    pub fn practices() -> Result<Mapping, Error> {
        let practices = PracticeTable::load(None)?;
        let icbs = IcbTable::load(None, &[])?;
        let names: HashMap<&str, &str> = icbs
            .codes
            .iter()
            .map(String::as_str)
            .zip(icbs.names.iter().map(String::as_str))
            .collect();
        let by = practices
            .codes
            .iter()
            .zip(&practices.icb_codes)
            .map(|(p, icb)| {
                let name = names.get(icb.as_str()).copied().unwrap_or(icb);
                (p.clone(), (icb.clone(), name.to_string()))
            })
            .collect();
        Ok(Mapping {
            source: practices.file.source,
            by: By::Practice(by),
        })
    }

    /// The publication's `Mapping.csv` at `path`: `SUB_ICB_LOCATION_CODE`, `ICB_CODE` and
    /// `ICB_NAME` (other columns are ignored). A sub-ICB location may appear on several lines
    /// (one per practice, say) but always in the same ICB.
    pub fn load(path: &Path) -> Result<Mapping, Error> {
        let file = InputFile::read(path, "the mapping file")?;
        Self::from_csv(&file.bytes, &file.source).map_err(|p| Error::Input(vec![p]))
    }

    /// [`Mapping::load`] on bytes; every problem with its line.
    pub fn from_csv(bytes: &[u8], source: &str) -> Result<Mapping, FileProblems> {
        let fail = |problems| FileProblems {
            file: source.to_string(),
            problems,
        };
        let frame = read_text_csv(bytes, source)?;
        let cells = TextCells::new(&frame);
        let mut problems = Vec::new();
        let subs = text_column(&cells, SUB_ICB_LOCATION_CODE, &mut problems);
        let codes = text_column(&cells, ICB_CODE, &mut problems);
        let names = cells.text(ICB_NAME, &mut problems);
        let (Some(subs), Some(codes), Some(names)) = (subs, codes, names) else {
            return Err(fail(problems));
        };
        let mut by: HashMap<String, (String, String)> = HashMap::new();
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (row, ((sub, code), name)) in subs.iter().zip(&codes).zip(&names).enumerate() {
            match by.get(sub) {
                Some((other, _)) if other != code => problems.push(Problem::new(
                    Some(row + 2),
                    ICB_CODE,
                    format!(
                        "sub-ICB location '{sub}' is in ICB {code} here but in {other} on line {}",
                        first[sub.as_str()] + 2
                    ),
                )),
                Some(_) => {}
                None => {
                    first.insert(sub, row);
                    by.insert(sub.clone(), (code.clone(), name.clone()));
                }
            }
        }
        if subs.is_empty() {
            problems.push(Problem::new(
                None,
                SUB_ICB_LOCATION_CODE,
                "the table maps no sub-ICB location",
            ));
        }
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        Ok(Mapping {
            source: source.to_string(),
            by: By::SubIcb(by),
        })
    }

    /// The ICB (code, name) of a practice in a sub-ICB location, or `None` when the table
    /// does not place it.
    pub fn icb(&self, practice: &str, sub_icb: &str) -> Option<(&str, &str)> {
        let found = match &self.by {
            By::Practice(m) => m.get(practice),
            By::SubIcb(m) => m.get(sub_icb),
        };
        found.map(|(c, n)| (c.as_str(), n.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_practice_table_places_practices_in_named_icbs() {
        let m = Mapping::practices().unwrap();
        let (code, name) = m.icb("A82003", "ignored").unwrap();
        assert_eq!(code, "QE1");
        assert!(name.contains("Lancashire"), "{name}");
        assert_eq!(m.icb("Z99999", ""), None);
    }

    #[test]
    fn a_mapping_file_places_sub_icb_locations_and_names_its_problems() {
        let csv = "GP_CODE,SUB_ICB_LOCATION_CODE,ICB_CODE,ICB_NAME\n\
                   P1,00L,QHM,NHS North East\nP2,00L,QHM,NHS North East\nP3,01A,QE1,NHS L&SC\n";
        let m = Mapping::from_csv(csv.as_bytes(), "Mapping.csv").unwrap();
        assert_eq!(m.icb("anything", "00L"), Some(("QHM", "NHS North East")));
        assert_eq!(m.icb("P3", "99Z"), None);
        let bad = "SUB_ICB_LOCATION_CODE,ICB_CODE,ICB_NAME\n00L,QHM,A\n00L,QE1,B\n,QE1,C\n";
        let e = Mapping::from_csv(bad.as_bytes(), "Mapping.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Mapping.csv:4: SUB_ICB_LOCATION_CODE: empty value"),
            "{e}"
        );
        let e = Mapping::from_csv(b"SUB_ICB_LOCATION_CODE,ICB\n00L,QHM\n", "m.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("required column 'ICB_CODE' is missing"), "{e}");
        let clash = "SUB_ICB_LOCATION_CODE,ICB_CODE,ICB_NAME\n00L,QHM,A\n00L,QE1,B\n";
        let e = Mapping::from_csv(clash.as_bytes(), "Mapping.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Mapping.csv:3: ICB_CODE: sub-ICB location '00L' is in ICB QE1 here but in QHM on line 2"),
            "{e}"
        );
    }
}
