//! The handlers: the page's three files and the JSON API. Every input problem is answered
//! 400 with the CLI's own words, field by field; work that simulates runs on a blocking
//! thread under a permit, and stops when its client goes away.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{internal, Answer, ApiError};
use super::{describe, edit, App, BODY_LIMIT};
use crate::data::{IcbTable, PATIENTS};
use crate::error::Error;
use crate::month::Month;
use crate::output;
use crate::pipeline::{self, Config, Optional, Silent, SimConfig};
use crate::scenario::{self, Scenario, Settings};

/// The name a posted scenario goes by in problems and manifests.
const POSTED: &str = "scenario.toml";
/// In a comparison: the scenario as loaded (A) and as edited (B).
const LOADED: &str = "loaded.toml";
const EDITED: &str = "edited.toml";

/// The shipped scenarios, built into the binary.
const SCENARIOS: [(&str, &str); 4] = [
    (
        "collective-action-2024",
        include_str!("../../scenarios/collective-action-2024.toml"),
    ),
    (
        "medicines-optimisation-2024",
        include_str!("../../scenarios/medicines-optimisation-2024.toml"),
    ),
    (
        "nhse-activity-loss",
        include_str!("../../scenarios/nhse-activity-loss.toml"),
    ),
    (
        "escalation-2026",
        include_str!("../../scenarios/escalation-2026.toml"),
    ),
];

/// The page's files, built into the binary: (name, content type, text).
const PAGE: [(&str, &str, &str); 4] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("page/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("page/app.js"),
    ),
    (
        "format.js",
        "text/javascript; charset=utf-8",
        include_str!("page/format.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("page/style.css"),
    ),
];

/// The page's file `name`, from `--page-dir` when given.
fn page(app: &App, name: &str) -> Response {
    let (_, kind, text) = PAGE
        .iter()
        .find(|(n, _, _)| *n == name)
        .expect("a page file");
    let body = match &app.options.page_dir {
        Some(dir) => std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| format!("{e}")),
        None => text.to_string(),
    };
    ([(header::CONTENT_TYPE, *kind)], body).into_response()
}

pub(super) async fn page_html(State(app): State<Arc<App>>) -> Response {
    page(&app, "index.html")
}

pub(super) async fn page_js(State(app): State<Arc<App>>) -> Response {
    page(&app, "app.js")
}

pub(super) async fn page_format_js(State(app): State<Arc<App>>) -> Response {
    page(&app, "format.js")
}

pub(super) async fn page_css(State(app): State<Arc<App>>) -> Response {
    page(&app, "style.css")
}

pub(super) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such page or API")
}

/// `GET /api/scenarios`: the shipped scenarios, with their names and descriptions.
pub(super) async fn scenarios() -> Answer<Json<Value>> {
    let list = SCENARIOS
        .iter()
        .map(|(id, text)| {
            let s = scenario::from_bytes(text.as_bytes(), id, Path::new(""), &Settings::default())?;
            Ok(json!({ "id": id, "name": s.name, "description": s.description }))
        })
        .collect::<Result<Vec<Value>, Error>>()?;
    Ok(Json(Value::Array(list)))
}

/// `GET /api/scenarios/{id}`: a shipped scenario's TOML text.
pub(super) async fn scenario(UrlPath(id): UrlPath<String>) -> Answer<Response> {
    let text = shipped(&id)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// A shipped scenario's text by id (404 for another).
fn shipped(id: &str) -> Answer<&'static str> {
    SCENARIOS
        .iter()
        .find(|(name, _)| *name == id)
        .map(|(_, text)| *text)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no shipped scenario is called '{id}'"),
            )
        })
}

/// `GET /api/icbs[?scenario=ID]`: the ICBs of the built-in table, or those a shipped
/// scenario reports on (its footprint's, when it has one).
pub(super) async fn icbs(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Answer<Json<Value>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct IcbsQuery {
        scenario: Option<String>,
    }
    let query = query.unwrap_or_default();
    let q: IcbsQuery = serde_urlencoded::from_str(&query)
        .map_err(|e| ApiError::field("query", "query", format!("'{query}': {e}")))?;
    let Some(id) = q.scenario else {
        let column = PATIENTS.to_string();
        let table = IcbTable::load(None, std::slice::from_ref(&column))?;
        return Ok(Json(icb_rows(&table)));
    };
    let text = shipped(&id)?;
    let table = app
        .check(move || pipeline::prepare(&posted(POSTED, text.as_bytes())).map(|p| p.table))
        .await?;
    Ok(Json(icb_rows(&table)))
}

/// The ICBs of `table` for the page: code, name, region, registered patients and, for a
/// footprint's ICB, the ICBs it took practices from with the share of each one's patients.
fn icb_rows(table: &IcbTable) -> Value {
    let patients = table.numeric(PATIENTS).unwrap_or(&[]);
    let rows = (0..table.len())
        .map(|i| {
            let former: Vec<Value> = table
                .former
                .iter()
                .flat_map(|f| {
                    f.parts
                        .iter()
                        .filter(|&&(row, _, _)| row == i)
                        .map(|&(_, _, own)| json!({ "code": f.code, "name": f.name, "share_of_its_patients": own }))
                })
                .collect();
            json!({
                "code": table.codes[i],
                "name": table.names[i],
                "region": table.regions.get(i),
                "registered_patients": patients.get(i),
                "former": former,
            })
        })
        .collect();
    Value::Array(rows)
}

/// `GET /api/families`: the distribution families of the scenario language (`name`,
/// `parameters` in the order users write them, `words`) and each parameter's name in words:
/// the page builds its forms from these.
pub(super) async fn families() -> Json<Value> {
    let parameters: Vec<Value> = crate::dist::PARAMETERS
        .iter()
        .map(|(key, words)| json!({ "key": key, "words": words }))
        .collect();
    Json(json!({ "families": crate::dist::FAMILIES, "parameters": parameters }))
}

/// `GET /api/limits`: what this server allows.
pub(super) async fn limits(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({
        "max_iterations": app.options.max_iterations,
        "max_runs": app.options.max_runs,
        "max_work_iteration_months": app.options.max_work,
        "timeout_seconds": app.options.timeout.as_secs_f64(),
        "queue_wait_seconds": app.options.queue_wait.as_secs_f64(),
        "body_limit_bytes": BODY_LIMIT,
    }))
}

/// `POST /api/validate`: every problem of the scenario posted, or the scenario as the page
/// shows it.
pub(super) async fn validate(
    State(app): State<Arc<App>>,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Json<Value>> {
    let text = text(body)?;
    Ok(Json(app.check(move || validation(&text)).await?))
}

/// The validation of `text` as JSON (an error only for a failure that is not the input's).
fn validation(text: &[u8]) -> Result<Value, Error> {
    match pipeline::prepare(&posted(POSTED, text)) {
        Ok(p) => Ok(json!({
            "ok": true,
            "problems": [],
            "warnings": p.model.warnings,
            "scenario": describe::scenario(&p.scenario),
            "icbs": icb_rows(&p.table),
        })),
        Err(Error::Input(files)) => Ok(json!({
            "ok": false,
            "problems": describe::problems(&files),
            "warnings": [],
            "scenario": null,
            "icbs": null,
        })),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditRequest {
    toml: String,
    edits: Vec<edit::Edit>,
}

/// `POST /api/edit`: the posted TOML with the edits made in place, and its validation.
pub(super) async fn edit(
    State(app): State<Arc<App>>,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Json<Value>> {
    let request: EditRequest = json_body(body)?;
    let edited = edit::apply(&request.toml, &request.edits)
        .map_err(|e| ApiError::field(POSTED, &e.field, e.message))?;
    let bytes = edited.clone().into_bytes();
    let validation = app.check(move || validation(&bytes)).await?;
    Ok(Json(json!({ "toml": edited, "validation": validation })))
}

/// What a simulating request may set in its query string.
#[derive(Debug, Deserialize, serde::Serialize, Default)]
#[serde(deny_unknown_fields)]
struct RunQuery {
    iterations: Option<u64>,
    seed: Option<u64>,
    /// `settlement`: the range of settlement months.
    months: Option<String>,
    /// `report`: html, xlsx or zip.
    format: Option<String>,
    /// `run`, `compare`, `settlement`, `decide`: answer as it goes (newline-delimited JSON).
    #[serde(default)]
    progress: bool,
}

/// `POST /api/run?iterations=N&seed=S[&progress=true]`: the run's `summary.json`, tables
/// and charts.
pub(super) async fn run(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Response> {
    let q = parse_query(query, &["iterations", "seed", "progress"])?;
    let (config, s) = app.checked(POSTED, &text(body)?, &q)?;
    app.budget(POSTED, s.iterations, s.months.into(), (1, "1 run"))?;
    let started = Instant::now();
    app.answer(q.progress, move |sim, obs| {
        let out = pipeline::summarise(&config, &sim, pipeline::Also::default(), obs)?;
        let p = &out.simulation.prepared;
        let mut document = output::run_document(&p.scenario, &p.table, &out.summary)?;
        document["elapsed_seconds"] = json!(started.elapsed().as_secs_f64());
        Ok(document)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareRequest {
    /// The scenario as loaded (A).
    a: String,
    /// As edited (B).
    b: String,
}

/// `POST /api/compare?iterations=N&seed=S[&progress=true]` with `{ a, b }`: B − A with
/// common random numbers, as `compare` writes it.
pub(super) async fn compare(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Response> {
    let q = parse_query(query, &["iterations", "seed", "progress"])?;
    let request: CompareRequest = json_body(body)?;
    let (a, s) = app.checked(LOADED, request.a.as_bytes(), &q)?;
    let b = posted(EDITED, request.b.as_bytes());
    // B runs with A's iterations; its months are its own.
    let b_months = scenario::from_bytes(
        b.text.as_deref().unwrap_or_default(),
        EDITED,
        Path::new(""),
        &Settings::default(),
    )?
    .months;
    app.budget(
        LOADED,
        s.iterations,
        s.months.max(b_months).into(),
        (2, "2 scenarios"),
    )?;
    app.answer(q.progress, move |sim, obs| {
        let runs = pipeline::pair(&a, &[b], &sim, obs)?;
        output::compare_document(
            Path::new(LOADED),
            &runs.baseline.prepared.scenario,
            &runs.compared,
            runs.baseline.draws.iterations,
        )
    })
    .await
}

/// `POST /api/settlement?months=M1..M2&iterations=N&seed=S[&progress=true]`: the cost of
/// delay, as `settlement` writes it.
pub(super) async fn settlement(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Response> {
    let q = parse_query(query, &["iterations", "seed", "months", "progress"])?;
    let range: Option<(Month, Month)> = match &q.months {
        None => None,
        Some(m) => Some(
            crate::settlement::parse_range(m).map_err(|e| ApiError::field("query", "months", e))?,
        ),
    };
    let (config, s) = app.checked(POSTED, &text(body)?, &q)?;
    let settled_in = range.map_or(s.months.into(), |(first, last)| {
        (last.since(first) + 1).max(1) as u64
    });
    app.budget(
        POSTED,
        s.iterations,
        s.months.into(),
        (settled_in, &format!("{settled_in} settlement months")),
    )?;
    app.answer(q.progress, move |sim, obs| {
        let settled = pipeline::cost_of_delay(&config, &sim, range, obs)?;
        output::settlement_document(
            &settled.prepared.scenario,
            &settled.settlement,
            settled.iterations,
        )
    })
    .await
}

/// `POST /api/decide?iterations=N&seed=S[&progress=true]`: the decision between the posted
/// scenario's options, as `decide` writes it (`summary`, `decision`, `evppi`, `charts`).
pub(super) async fn decide(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Response> {
    let q = parse_query(query, &["iterations", "seed", "progress"])?;
    let (config, s) = app.checked(POSTED, &text(body)?, &q)?;
    let options = s.options.len().max(1) as u64;
    app.budget(
        POSTED,
        s.iterations,
        s.months.into(),
        (options, &format!("{options} options")),
    )?;
    let started = Instant::now();
    app.answer(q.progress, move |sim, obs| {
        let decided = pipeline::decision(&config, &sim, obs)?;
        let p = &decided.prepared;
        let mut document = output::decide_document(&p.scenario, &p.table, &decided.decision)?;
        document["elapsed_seconds"] = json!(started.elapsed().as_secs_f64());
        Ok(document)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NowcastRequest {
    /// The scenario's TOML.
    scenario: String,
    /// The figures of `data observed --benchmarks-out` (a benchmarks table).
    observations: String,
    /// `data observed`'s `observed_monthly.csv`, for the observed months in the chart.
    #[serde(default)]
    monthly: Option<String>,
}

/// The names posted observations go by in problems.
const OBSERVATIONS: &str = "observations.csv";
const MONTHLY: &str = "observed_monthly.csv";

/// `POST /api/nowcast?iterations=N&seed=S[&progress=true]` with `{ scenario, observations,
/// monthly? }`: the scenario calibrated to the observed figures (`calibrate`), run calibrated
/// with the priors' headline beside (`run --posterior`), and the national figure month by
/// month against what the model expects, with its chart.
pub(super) async fn nowcast(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Response> {
    let q = parse_query(query, &["iterations", "seed", "progress"])?;
    let request: NowcastRequest = json_body(body)?;
    let figures = crate::benchmark::parse(request.observations.as_bytes(), OBSERVATIONS)?;
    let observed = match &request.monthly {
        Some(text) => crate::observed::read_national(text.as_bytes(), MONTHLY)?,
        None => Vec::new(),
    };
    let (config, s) = app.checked(POSTED, request.scenario.as_bytes(), &q)?;
    // Each figure's derived run in every wave, then the calibrated run, the priors' headline
    // and the national figure's months on both: at most the scenario's months each.
    let runs = (figures.len() * crate::calibrate::MAX_WAVES + 4) as u64;
    app.budget(
        POSTED,
        s.iterations,
        s.months.into(),
        (
            runs,
            &format!(
                "{runs} runs ({} figures × {} waves at most, and 4)",
                figures.len(),
                crate::calibrate::MAX_WAVES
            ),
        ),
    )?;
    let cumulated = crate::observed::cumulative_excess(&observed);
    app.answer(q.progress, move |sim, obs| {
        let n = pipeline::nowcast(&config, &sim, (OBSERVATIONS.to_string(), figures), obs)?;
        let c = &n.calibrated;
        let p = &c.prepared;
        let calibration =
            output::calibration_document(&p.scenario, &c.calibration, &c.unused, &c.benchmarks)?;
        let mut document = output::nowcast_document(
            &p.scenario,
            &p.table,
            calibration,
            &n.run.summary,
            n.expected.as_ref(),
            &cumulated,
        )?;
        // The posterior was this request's own, in a directory now gone.
        if let Some(c) = document.pointer_mut("/run/summary/calibrated/posterior") {
            *c = json!(format!("the calibration to {OBSERVATIONS} in this request"));
        }
        Ok(document)
    })
    .await
}

/// `POST /api/report?format=html|xlsx|zip&iterations=N&seed=S`: the briefing, the workbook,
/// or the whole run directory as a zip, from `run` itself.
pub(super) async fn report(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Response> {
    let q = parse_query(query, &["iterations", "seed", "format"])?;
    let format = q.format.clone().unwrap_or_else(|| "html".into());
    let (file, kind) = match format.as_str() {
        "html" => ("report.html", "text/html; charset=utf-8"),
        "xlsx" => (
            "report.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "zip" => ("icb-impact-run.zip", "application/zip"),
        other => {
            return Err(ApiError::field(
                "query",
                "format",
                format!("'{other}' is not a format: html, xlsx or zip"),
            ))
        }
    };
    let (config, s) = app.checked(POSTED, &text(body)?, &q)?;
    app.budget(POSTED, s.iterations, s.months.into(), (1, "1 run"))?;
    let bytes = app
        .simulate(move |sim, _| {
            let dir = tempfile::tempdir()
                .map_err(|e| Error::io("cannot create", "a temporary directory", e))?;
            let out = dir.path().join("run");
            let optional = Optional {
                report: true,
                ..Optional::default()
            };
            // The whole directory, as `run --png` writes it: the charts also for slides.
            let sim = SimConfig {
                png: format == "zip",
                ..sim
            };
            pipeline::run(&config, &sim, &out, optional, &Silent)?;
            match format.as_str() {
                "zip" => zip_dir(&out),
                _ => std::fs::read(out.join(file))
                    .map_err(|e| Error::io("cannot read", out.join(file), e)),
            }
        })
        .await?;
    let disposition = format!("attachment; filename=\"{file}\"");
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

impl App {
    /// The configuration of a posted scenario with the query's settings, and the scenario
    /// as read, refused when it asks for more iterations than this server runs (read before
    /// any work).
    fn checked(&self, name: &str, text: &[u8], q: &RunQuery) -> Answer<(Config, Scenario)> {
        let settings = Settings {
            iterations: q.iterations,
            seed: q.seed,
            ..Settings::default()
        };
        let s = scenario::from_bytes(text, name, Path::new(""), &settings)?;
        let max = self.options.max_iterations;
        if s.iterations > max {
            return Err(ApiError::field(
                name,
                "iterations",
                format!(
                    "{} iterations is more than this server runs (at most {max}; `serve --max-iterations` sets it): ask for fewer with ?iterations=",
                    s.iterations
                ),
            ));
        }
        let config = Config {
            iterations: q.iterations,
            seed: q.seed,
            ..posted(name, text)
        };
        Ok((config, s))
    }
}

/// A posted scenario's configuration.
fn posted(name: &str, text: &[u8]) -> Config {
    Config {
        text: Some(text.to_vec()),
        ..Config::new(name)
    }
}

/// The body as text: over the limit is 413, not UTF-8 is 400.
fn text(body: Result<Bytes, BytesRejection>) -> Answer<Vec<u8>> {
    let bytes = body.map_err(|e| {
        ApiError::new(
            e.status(),
            match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => {
                    format!("the request body is over {BODY_LIMIT} bytes")
                }
                _ => e.body_text(),
            },
        )
    })?;
    match std::str::from_utf8(&bytes) {
        Ok(_) => Ok(bytes.to_vec()),
        Err(e) => Err(ApiError::field(
            POSTED,
            "file",
            format!("not UTF-8 text: {e}"),
        )),
    }
}

/// The body as JSON of type `T`.
fn json_body<T: serde::de::DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Answer<T> {
    let bytes = text(body)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::field(
            "request",
            "body",
            format!("not the JSON this API takes: {e}"),
        )
    })
}

/// The query string, with only the keys in `allowed`.
fn parse_query(query: Option<String>, allowed: &[&str]) -> Answer<RunQuery> {
    let query = query.unwrap_or_default();
    let q: RunQuery = serde_urlencoded::from_str(&query)
        .map_err(|e| ApiError::field("query", "query", format!("'{query}': {e}")))?;
    // The keys given are the fields set (not absent, not false): read from the struct itself.
    let fields = serde_json::to_value(&q).map_err(internal)?;
    let given = fields
        .as_object()
        .into_iter()
        .flatten()
        .find(|(key, value)| {
            !matches!(value, Value::Null | Value::Bool(false)) && !allowed.contains(&key.as_str())
        });
    match given {
        Some((key, _)) => Err(ApiError::field(
            "query",
            key,
            format!("this API takes only {}", allowed.join(", ")),
        )),
        None => Ok(q),
    }
}

/// Every file under `dir` in one zip, paths relative to it under `icb-impact-run/`, in name
/// order.
fn zip_dir(dir: &Path) -> Result<Vec<u8>, Error> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io("cannot read", &d, e))? {
            let path = entry.map_err(|e| Error::io("cannot read", &d, e))?.path();
            match path.is_dir() {
                true => stack.push(path),
                false => files.push(path),
            }
        }
    }
    files.sort();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let failed = |e: zip::result::ZipError| Error::Output(format!("zip: {e}"));
    for path in files {
        let name = path
            .strip_prefix(dir)
            .expect("under dir")
            .display()
            .to_string();
        zip.start_file(format!("icb-impact-run/{name}"), options)
            .map_err(failed)?;
        let bytes = std::fs::read(&path).map_err(|e| Error::io("cannot read", &path, e))?;
        zip.write_all(&bytes)
            .map_err(|e| Error::io("cannot write", "the zip", e))?;
    }
    Ok(zip.finish().map_err(failed)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_offers_every_shipped_scenario() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut shipped: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        let mut offered: Vec<String> = SCENARIOS.iter().map(|(id, _)| id.to_string()).collect();
        shipped.sort();
        offered.sort();
        assert_eq!(offered, shipped, "add a new scenario to SCENARIOS");
    }

    #[test]
    fn queries_take_only_their_keys_and_say_which() {
        let q = parse_query(
            Some("iterations=20&seed=3&progress=true".into()),
            &["iterations", "seed", "progress"],
        )
        .unwrap();
        assert_eq!(
            (q.iterations, q.seed, q.progress),
            (Some(20), Some(3), true)
        );
        let e = parse_query(Some("format=zip".into()), &["iterations"]).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.problems[0]["field"], "format");
        assert_eq!(e.problems[0]["message"], "this API takes only iterations");
        let e = parse_query(Some("iterations=-1".into()), &["iterations"]).unwrap_err();
        assert_eq!(e.problems[0]["field"], "query");
    }
}
