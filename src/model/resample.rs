//! A calibrated model's national factors: drawn jointly from a calibration's weighted draws
//! instead of from their priors.

use rand::RngExt;

use super::Slot;
use crate::error::Problem;
use crate::posterior::Posterior;
use crate::rng::{key, stream};

/// The posterior draws of a model's national slots, resampled by weight: iteration *i* takes
/// draw *j* chosen from a stream keyed by the iteration, so a calibrated run is the same
/// whatever the thread count or batch size.
#[derive(Debug, Clone)]
pub struct Resample {
    /// Cumulative normalised weights.
    cumulative: Vec<f64>,
    /// For each of [`super::Model::national`], its value in every draw.
    columns: Vec<Vec<f64>>,
    /// The effective sample size of the weights, `1 / Σw²`.
    pub ess: f64,
    /// The draws file, for provenance.
    pub source: String,
}

impl Resample {
    /// The posterior's draws of `national`, in order; a slot the posterior has no draws of is
    /// a problem (the posterior calibrated another scenario).
    pub fn new(posterior: &Posterior, national: &[Slot]) -> Result<Resample, Problem> {
        let columns = national
            .iter()
            .map(|slot| {
                posterior
                    .factors
                    .iter()
                    .find(|(path, _)| path == &slot.path)
                    .map(|(_, values)| values.clone())
                    .ok_or_else(|| {
                        Problem::new(
                            None,
                            "posterior",
                            format!(
                                "{} has no draws of {}: it calibrated another scenario or view; run calibrate on this one",
                                posterior.file.source, slot.path
                            ),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut total = 0.0;
        let cumulative = posterior
            .weights
            .iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Ok(Resample {
            cumulative,
            columns,
            ess: 1.0 / posterior.weights.iter().map(|w| w * w).sum::<f64>(),
            source: posterior.file.source.clone(),
        })
    }

    /// The same draws for the slots `to`, each found by path among `from` (the slots these
    /// draws are of); `None` if one is not there.
    pub fn for_slots(&self, from: &[Slot], to: &[Slot]) -> Option<Resample> {
        let columns = to
            .iter()
            .map(|slot| {
                from.iter()
                    .position(|s| s.path == slot.path)
                    .map(|j| self.columns[j].clone())
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Resample {
            columns,
            ..self.clone()
        })
    }

    /// The draw iteration `iteration` takes.
    #[inline]
    pub fn pick(&self, seed: u64, iteration: u64) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u: f64 = stream(seed, iteration, key("posterior"), 0).random::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c <= u)
            .min(self.cumulative.len() - 1)
    }

    /// Fills `values` (one per national slot) with iteration `iteration`'s draw.
    #[inline]
    pub fn fill(&self, seed: u64, iteration: u64, values: &mut [f64]) {
        let j = self.pick(seed, iteration);
        for (value, column) in values.iter_mut().zip(&self.columns) {
            *value = column[j];
        }
    }
}
