//! Where a run's numbers come from: the input files it read (name, hash, exact bytes), the
//! generator that drew them, and the manifest that records both in every output directory.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Problem};
use crate::scenario::{Assignment, CostView, Granularity};

/// The versions that decide the sampled numbers (kept equal to the exact pins in Cargo.toml;
/// a test checks).
pub const GENERATOR: &str = "keyed SplitMix64 streams v2 (counter-based: the k-th output of stream (seed, iteration, ICB, factor) is the SplitMix64 finaliser of its mixed key plus k + 1 increments); PERT and Beta with shapes of at least 1 by rejection from a 256-bin table; rand 0.10.3; rand_distr 0.6.0; rand_xoshiro 0.8.1 (Iman-Conover, sensitivity, calibration)";

/// The file that marks a directory as a run's, so that `--out` never replaces anything else.
pub const MANIFEST: &str = "manifest.json";

/// Where a run directory records the exact inputs it was made from.
pub const INPUTS: &str = "inputs";

/// SHA-256 of bytes, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An input file as it was read: what the user called it, its hash and its exact bytes (so a
/// run can record the input it used, byte for byte).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The file as the user named it, or `embedded:…` for a table built into the binary.
    pub source: String,
    /// SHA-256 of `bytes`, hex.
    pub sha256: String,
    pub bytes: Vec<u8>,
}

impl InputFile {
    /// The record of `bytes` read from `source`.
    pub fn new(source: &str, bytes: &[u8]) -> InputFile {
        InputFile {
            source: source.to_string(),
            sha256: sha256_hex(bytes),
            bytes: bytes.to_vec(),
        }
    }

    /// Reads a file; a file that cannot be read is a problem with the input, named `what`
    /// ("the ICB table").
    pub fn read(path: &Path, what: &str) -> Result<InputFile, Error> {
        let source = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            Error::input(
                &source,
                Problem::new(None, "file", format!("cannot read {what}: {e}")),
            )
        })?;
        Ok(InputFile::new(&source, &bytes))
    }

    /// Its name and hash, as a manifest records them.
    pub fn record(&self) -> FileRecord {
        FileRecord {
            path: self.source.clone(),
            sha256: self.sha256.clone(),
        }
    }
}

/// How a run came about: the scenario as given, the other inputs it read, the machine's part.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The scenario file as the user named it (the manifest's `scenario.path`).
    pub scenario_path: PathBuf,
    /// The scenario's bytes, recorded in `inputs/scenario.toml`.
    pub scenario: InputFile,
    /// The practice table and the ICB map, when the run read them, with their names in
    /// `inputs/`.
    pub other_inputs: Vec<(&'static str, InputFile)>,
    pub threads: usize,
    pub wall_seconds: f64,
    /// Each chart was also written as PNG.
    pub png: bool,
}

impl RunInfo {
    /// The other input recorded as `name` in `inputs/`, if the run read it.
    pub fn other_input(&self, name: &str) -> Option<&InputFile> {
        self.other_inputs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| f)
    }
}

/// A file as a manifest names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: String,
    pub sha256: String,
}

/// `manifest.json`: what made the numbers of an output directory. `run` writes it and
/// `report DIR` reads it back to reproduce the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub generator: String,
    pub scenario: FileRecord,
    pub data: FileRecord,
    /// The practice table and the ICB map, when the run read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practices: Option<FileRecord>,
    /// The footprint the run's ICBs are on, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footprint: Option<FileRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icb_map: Option<FileRecord>,
    /// A calibrated run's posterior draws (`calibrate`'s `posterior_draws.parquet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posterior: Option<FileRecord>,
    /// The scenario's price year and the deflator table its money factors were converted
    /// with, when it gives a price year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prices: Option<Prices>,
    /// Scenarios compared with `scenario` (`compare` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compared_with: Vec<FileRecord>,
    pub cost_view: CostView,
    /// Absent in manifests written before practice level existed: ICB level.
    #[serde(default)]
    pub granularity: Granularity,
    pub seed: u64,
    pub iterations: usize,
    /// ICBs' own fixed values given on the command line (`--set`), put in place again by
    /// `report DIR`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<Assignment>,
    /// The run also computed the cost of delay over its horizon (`run --settlement`), which
    /// `report DIR` computes again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub settlement: bool,
    /// The run also decided between the scenario's options (`run --decide`, or `decide`),
    /// which `report DIR` decides again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub decide: bool,
    /// Each chart was also written as PNG (`--png`), which `report DIR` does again. Absent in
    /// manifests written when every run wrote PNGs.
    #[serde(default = "every_run_wrote_png")]
    pub png: bool,
    pub threads: usize,
    pub wall_time_seconds: f64,
}

fn every_run_wrote_png() -> bool {
    true
}

/// What a manifest says about prices: the year results are in and the deflator table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prices {
    /// `YYYY/YY`.
    pub price_year: String,
    pub deflators: FileRecord,
}

impl Manifest {
    /// The manifest of a run of `iterations` with the given view, granularity and seed.
    pub fn new(
        info: &RunInfo,
        data: &InputFile,
        cost_view: CostView,
        granularity: Granularity,
        seed: u64,
        iterations: usize,
    ) -> Manifest {
        Manifest {
            tool: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            generator: GENERATOR.to_string(),
            scenario: FileRecord {
                path: info.scenario_path.display().to_string(),
                sha256: info.scenario.sha256.clone(),
            },
            data: data.record(),
            practices: info.other_input("practices.csv").map(InputFile::record),
            footprint: info.other_input("footprint.csv").map(InputFile::record),
            icb_map: info.other_input("icb_map.csv").map(InputFile::record),
            posterior: info
                .other_input("posterior_draws.parquet")
                .map(InputFile::record),
            prices: None,
            compared_with: Vec::new(),
            cost_view,
            granularity,
            seed,
            iterations,
            set: Vec::new(),
            settlement: false,
            decide: false,
            png: info.png,
            threads: info.threads,
            wall_time_seconds: (info.wall_seconds * 1000.0).round() / 1000.0,
        }
    }

    /// Reads the manifest of run directory `dir`; a missing or malformed one is bad input.
    pub fn read(dir: &Path) -> Result<Manifest, Error> {
        let path = dir.join(MANIFEST);
        let bad = |what: String| {
            Error::input(
                path.display().to_string(),
                Problem::new(None, "manifest", what),
            )
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            bad(format!(
                "not a run directory (cannot read its manifest: {e})"
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| bad(format!("not a manifest of this tool: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_names_the_exact_pins_of_cargo_toml() {
        let manifest = include_str!("../Cargo.toml");
        for (krate, version) in [
            ("rand", "0.10.3"),
            ("rand_distr", "0.6.0"),
            ("rand_xoshiro", "0.8.1"),
        ] {
            assert!(
                manifest.lines().any(|l| l.starts_with(&format!("{krate} "))
                    && l.contains(&format!("\"={version}\""))),
                "Cargo.toml does not pin {krate} = \"={version}\""
            );
            assert!(GENERATOR.contains(&format!("{krate} {version}")));
        }
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_manifest_reads_back_as_written() {
        let info = RunInfo {
            scenario_path: PathBuf::from("scenarios/x.toml"),
            scenario: InputFile::new("scenarios/x.toml", b"[scenario]"),
            other_inputs: vec![("practices.csv", InputFile::new("p.csv", b"p"))],
            threads: 2,
            wall_seconds: 1.23456,
            png: false,
        };
        let data = InputFile::new("embedded:data/icbs.csv", b"icb_code");
        let m = Manifest::new(
            &info,
            &data,
            CostView::Economic,
            Granularity::Practice,
            7,
            1000,
        );
        let text = serde_json::to_string_pretty(&m).unwrap();
        assert!(text.contains("\"cost_view\": \"economic\""), "{text}");
        assert!(text.contains("\"granularity\": \"practice\""), "{text}");
        assert!(!text.contains("icb_map"), "{text}");
        let back: Manifest = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.wall_time_seconds, 1.235);
        assert_eq!(back.practices.unwrap().path, "p.csv");
        // A manifest from before PNGs were optional: its run wrote them.
        assert!(text.contains("\"png\": false"), "{text}");
        let earlier = text.replace("\"png\": false,", "");
        assert!(serde_json::from_str::<Manifest>(&earlier).unwrap().png);
    }

    #[test]
    fn a_manifest_without_granularity_is_icb_level() {
        let text = r#"{"tool":"icb-impact","version":"0","generator":"g",
            "scenario":{"path":"s.toml","sha256":"a"},"data":{"path":"d","sha256":"b"},
            "cost_view":"icb_cash","seed":1,"iterations":10,"threads":1,"wall_time_seconds":0.1}"#;
        let m: Manifest = serde_json::from_str(text).unwrap();
        assert_eq!(m.granularity, Granularity::Icb);
        assert_eq!(m.cost_view, CostView::IcbCash);
    }
}
