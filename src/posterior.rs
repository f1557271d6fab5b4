//! A calibration's posterior as an input: the weighted draws of the national factors that
//! `calibrate` wrote (`posterior_draws.parquet`), read back for a calibrated run.

use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Problem};
use crate::provenance::InputFile;

/// The file `calibrate` writes its weighted draws to, in its output directory.
pub const DRAWS_FILE: &str = "posterior_draws.parquet";

/// Columns of the draws file that are not national factors.
const NOT_FACTORS: [&str; 4] = ["draw", "weight", "max_implausibility", "posterior_reported"];

/// The weighted draws of a calibration whose posterior was reported.
#[derive(Debug, Clone)]
pub struct Posterior {
    pub file: InputFile,
    /// Normalised weights, one per draw.
    pub weights: Vec<f64>,
    /// Each national factor's path and its value in every draw.
    pub factors: Vec<(String, Vec<f64>)>,
}

impl Posterior {
    /// Reads `path`: a calibration directory (its [`DRAWS_FILE`] is read) or the draws file.
    pub fn read(path: &Path) -> Result<Posterior, Error> {
        let file_path = if path.is_dir() {
            path.join(DRAWS_FILE)
        } else {
            path.to_path_buf()
        };
        let file = InputFile::read(&file_path, "the posterior draws of a calibration")?;
        let bad =
            |what: String| Error::input(file.source.clone(), Problem::new(None, "posterior", what));
        let frame = ParquetReader::new(Cursor::new(file.bytes.as_slice()))
            .finish()
            .map_err(|e| bad(format!("not the draws `calibrate` writes ({e})")))?;
        let floats = |name: &str| -> Result<Vec<f64>, Error> {
            let column = frame.column(name).map_err(|_| {
                bad(format!(
                    "no column '{name}': not the draws `calibrate` writes"
                ))
            })?;
            let values = column
                .f64()
                .map_err(|_| bad(format!("column '{name}' is not numbers")))?;
            values
                .iter()
                .map(|v| v.filter(|x| x.is_finite()))
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| bad(format!("column '{name}' has a missing or infinite value")))
        };
        let reported = frame
            .column("posterior_reported")
            .ok()
            .and_then(|c| c.bool().ok().and_then(|b| b.get(0)))
            .ok_or_else(|| {
                bad("no column 'posterior_reported': not the draws `calibrate` writes".into())
            })?;
        if !reported {
            return Err(bad(
                "this calibration reported no posterior (its effective sample size was too small, or the figures conflict: see its summary.json)".into(),
            ));
        }
        let weights = floats("weight")?;
        let total: f64 = weights.iter().sum();
        if weights.iter().any(|&w| w < 0.0) || total <= 0.0 {
            return Err(bad(
                "the weights must be non-negative with a positive sum".into()
            ));
        }
        let mut factors = Vec::new();
        for column in frame.columns() {
            let name = column.name().as_str();
            if NOT_FACTORS.contains(&name) || name.starts_with("figure:") {
                continue;
            }
            factors.push((name.to_string(), floats(name)?));
        }
        Ok(Posterior {
            weights: weights.iter().map(|w| w / total).collect(),
            factors,
            file,
        })
    }
}
