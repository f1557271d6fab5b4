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
    /// The slots these draws have no column for (empty, but for the factors a calibration
    /// never saw: [`Resample::for_slots`]); they are drawn from their priors.
    pub missing: Vec<usize>,
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
            missing: Vec::new(),
            source: posterior.file.source.clone(),
        })
    }

    /// The same draws for the slots `to`, each found by path among `from` (the slots these
    /// draws are of). A slot that is not there is a factor the calibration never saw (one
    /// that counts in another cost view only, say): no figure informed it, so its posterior
    /// is its prior, and it is drawn from that ([`Resample::missing`]).
    pub fn for_slots(&self, from: &[Slot], to: &[Slot]) -> Resample {
        let found: Vec<Option<usize>> = to
            .iter()
            .map(|slot| from.iter().position(|s| s.path == slot.path))
            .collect();
        Resample {
            columns: found
                .iter()
                .map(|j| j.map_or_else(Vec::new, |j| self.columns[j].clone()))
                .collect(),
            missing: (0..to.len()).filter(|&k| found[k].is_none()).collect(),
            ..self.clone()
        }
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
            // A missing slot's column is empty: the caller draws it from its prior.
            if let Some(&x) = column.get(j) {
                *value = x;
            }
        }
    }
}
