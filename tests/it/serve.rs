//! `serve` on loopback: the JSON API against the CLI's own outputs, every refusal, a busy
//! server, a run abandoned by its client, handlers fuzzed with generated bodies and query
//! strings, and a load test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{read_csv, read_json, shipped, stderr, Sandbox};

/// A server started for one test, stopped when dropped.
pub struct Server {
    child: Child,
    client: Client,
}

/// Requests to a server on loopback.
#[derive(Clone, Copy)]
pub struct Client {
    pub port: u16,
}

impl std::ops::Deref for Server {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

/// An answer: status, headers (names in lower case) and body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&self.body));
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    /// `icb-impact serve --port 0` with `args`; waits for the address it prints.
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_icb-impact"))
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server {
            child,
            client: Client { port },
        }
    }

    /// The server's peak resident memory, in bytes (VmHWM).
    fn peak_memory(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            * 1024
    }

    /// Whether the process is still running.
    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Client {
    /// One request (HTTP/1.1, one connection), with the host header a browser would send.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(300)))
            .unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("Host: 127.0.0.1:{}\r\n", self.port));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        // A body the server refuses may not be read in full: it answers and closes.
        let _ = stream.write_all(body);
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        parse(&raw)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }

    pub fn post(&self, path: &str, body: &[u8]) -> Reply {
        self.request("POST", path, &[], body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP/1.1 response: status line, headers, body (by Content-Length, chunks or to the end).
fn parse(raw: &[u8]) -> Reply {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = match chunked {
        false => rest.to_vec(),
        true => {
            let mut body = Vec::new();
            let mut at = 0;
            loop {
                let line_end = at + rest[at..].windows(2).position(|w| w == b"\r\n").unwrap();
                let size =
                    usize::from_str_radix(String::from_utf8_lossy(&rest[at..line_end]).trim(), 16)
                        .unwrap();
                if size == 0 {
                    break body;
                }
                body.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
                at = line_end + 2 + size + 2;
            }
        }
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn scenario_text(name: &str) -> String {
    std::fs::read_to_string(shipped(name)).unwrap()
}

/// The CLI's `run` of `scenario` (a file) with `args`, in `sb`: its summary.json and tables.
fn cli_run(sb: &Sandbox, scenario: &std::path::Path, args: &[&str]) -> std::path::PathBuf {
    let out = sb.path(&format!(
        "run-{}",
        sb.dir.path().read_dir().unwrap().count()
    ));
    let mut all = vec![
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    all.extend_from_slice(args);
    let o = sb.run(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

/// Every row of a CSV written by the CLI against the API's rows: the same columns and cells,
/// numbers equal as numbers.
fn assert_rows_equal(csv: &std::path::Path, rows: &Value) {
    let table = read_csv(csv);
    let (header, lines) = table.split_first().unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(lines.len(), rows.len(), "{}", csv.display());
    for (cells, row) in lines.iter().zip(rows) {
        let line = cells.join(",");
        assert_eq!(cells.len(), header.len(), "{line}");
        for (name, cell) in header.iter().zip(cells) {
            let value = &row[name.as_str()];
            match (cell.parse::<f64>(), value) {
                // Polars' CSV text of a float may differ from the shortest one in its last digit.
                (Ok(x), Value::Number(v)) => {
                    let v = v.as_f64().unwrap();
                    assert!(
                        (x - v).abs() <= 4.0 * f64::EPSILON * x.abs(),
                        "{name}: {x} against {v} in {line}"
                    )
                }
                (_, Value::String(v)) => assert_eq!(cell, v, "{name} in {line}"),
                (_, Value::Bool(v)) => assert_eq!(cell, &v.to_string(), "{name} in {line}"),
                (_, Value::Null) => assert!(cell.is_empty() || cell == "NaN", "{name} in {line}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_run_through_the_api_is_the_cli_run_for_every_shipped_scenario() {
    let server = Server::start(&[]);
    let sb = Sandbox::new();
    for name in [
        "collective-action-2024",
        "medicines-optimisation-2024",
        "nhse-activity-loss",
        "escalation-2026",
    ] {
        let path = shipped(&format!("{name}.toml"));
        let reply = server.post(
            "/api/run?iterations=600&seed=11",
            scenario_text(&format!("{name}.toml")).as_bytes(),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.text());
        let api = reply.json();
        let out = cli_run(&sb, &path, &["--iterations", "600", "--seed", "11"]);
        assert_eq!(
            api["summary"],
            read_json(&out.join("summary.json")),
            "{name}"
        );
        for (table, file) in [
            ("icb_summary", "icb_summary.csv"),
            ("action_summary", "action_summary.csv"),
            ("monthly", "monthly.csv"),
            ("region_summary", "region_summary.csv"),
        ] {
            assert_rows_equal(&out.join(file), &api["tables"][table]);
        }
        if name == "escalation-2026" {
            // Its footprint is the one built into the tool: the 36 ICBs of April 2026.
            assert_eq!(api["summary"]["icbs"], 36);
        }
        for chart in ["distribution", "icb_costs", "actions", "monthly"] {
            let svg = api["charts"][chart].as_str().unwrap();
            assert_eq!(
                svg,
                std::fs::read_to_string(out.join(format!("charts/{chart}.svg"))).unwrap()
            );
        }
        assert!(api["elapsed_seconds"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn the_shipped_scenarios_icbs_and_limits_are_served() {
    let server = Server::start(&["--max-iterations", "5000"]);
    let list = server.get("/api/scenarios").json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "collective-action-2024",
            "medicines-optimisation-2024",
            "nhse-activity-loss",
            "escalation-2026"
        ]
    );
    for id in ids {
        let reply = server.get(&format!("/api/scenarios/{id}"));
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.text(),
            scenario_text(&format!("{id}.toml")),
            "byte for byte"
        );
    }
    let missing = server.get("/api/scenarios/nope");
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json()["error"],
        "no shipped scenario is called 'nope'"
    );
    let icbs = server.get("/api/icbs").json();
    assert_eq!(icbs.as_array().unwrap().len(), 42);
    assert!(icbs[0]["registered_patients"].as_f64().unwrap() > 100_000.0);
    // A scenario on a footprint lists its ICBs: the 36 of April 2026, with every patient of
    // the 42, and for each new body the ICBs it took practices from.
    let patients = |list: &Value| -> f64 {
        let rows = list.as_array().unwrap();
        rows.iter()
            .map(|r| r["registered_patients"].as_f64().unwrap())
            .sum()
    };
    let on_footprint = server.get("/api/icbs?scenario=escalation-2026").json();
    assert_eq!(on_footprint.as_array().unwrap().len(), 36);
    assert_eq!(patients(&on_footprint), patients(&icbs));
    let body = |code: &str| {
        let rows = on_footprint.as_array().unwrap();
        rows.iter().find(|r| r["code"] == code).unwrap().clone()
    };
    assert_eq!(
        body("S0E4D")["former"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["QU9", "QNQ"],
        "Thames Valley: all of BOB and part of Frimley"
    );
    assert_eq!(body("S0E4D")["former"][0]["share_of_its_patients"], 1.0);
    assert_eq!(
        body("QE1")["former"][0]["code"],
        "QE1",
        "unchanged ICBs are their own former"
    );
    for bad in ["/api/icbs?scenario=nope", "/api/icbs?other=1"] {
        let reply = server.get(bad);
        assert!(
            [400, 404].contains(&reply.status),
            "{bad}: {}",
            reply.status
        );
    }
    assert_eq!(
        server.get("/api/limits").json(),
        json!({
            "max_iterations": 5000,
            "max_runs": 2,
            "max_work_iteration_months": 100_000_000,
            "timeout_seconds": 300.0,
            "queue_wait_seconds": 30.0,
            "body_limit_bytes": 1_048_576
        })
    );
    // The distribution families the page builds its forms from: the scenario language's.
    let families = server.get("/api/families").json();
    let names: Vec<&str> = families["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, icb_impact::dist::names());
    for f in families["families"].as_array().unwrap() {
        let parameters = icb_impact::dist::Spec::parameters(f["name"].as_str().unwrap()).unwrap();
        assert_eq!(f["parameters"], json!(parameters));
        assert!(!f["words"].as_str().unwrap().is_empty());
    }
    // The page and its files, with the headers that keep it to this server.
    for (path, kind) in [
        ("/", "text/html"),
        ("/app.js", "text/javascript"),
        ("/format.js", "text/javascript"),
        ("/style.css", "text/css"),
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}");
        assert!(
            reply.header("content-type").unwrap().starts_with(kind),
            "{path}"
        );
        assert!(reply
            .header("content-security-policy")
            .unwrap()
            .starts_with("default-src 'self'"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    }
    assert!(server.get("/").text().contains("app.js"));
}

#[test]
fn validate_lists_every_factor_or_every_problem_in_the_cli_words() {
    let server = Server::start(&[]);
    let text = scenario_text("collective-action-2024.toml");
    let ok = server.post("/api/validate", text.as_bytes()).json();
    assert_eq!(ok["ok"], true);
    // The ICBs the scenario reports on, for the page's list: the table's, or its footprint's.
    assert_eq!(ok["icbs"], server.get("/api/icbs").json());
    let on_footprint = scenario_text("escalation-2026.toml");
    assert_eq!(
        server.post("/api/validate", on_footprint.as_bytes()).json()["icbs"],
        server.get("/api/icbs?scenario=escalation-2026").json()
    );
    let s = &ok["scenario"];
    assert_eq!(s["start"], "2024-08");
    assert_eq!(s["months"], 6);
    assert_eq!(s["cost_view"], "icb_cash");
    // Every factor `validate` prints, with its distribution, source and assumption mark.
    let sb = Sandbox::new();
    let o = sb.run(&[
        "validate",
        shipped("collective-action-2024.toml").to_str().unwrap(),
    ]);
    let printed = crate::stdout(&o);
    let factors = s["factors"].as_array().unwrap();
    assert!(factors.len() > 20);
    for f in factors {
        assert!(
            printed.contains(f["words"].as_str().unwrap()),
            "{}",
            f["path"]
        );
        assert!(
            f["source"].as_str().is_some_and(|s| !s.is_empty()),
            "{}",
            f["path"]
        );
        assert!(f["dist"]["dist"].is_string());
    }
    assert!(factors.iter().any(|f| f["assumption"] == true));
    // Each action's cost lines, in order (a factor's `costs[n]` is the n-th).
    let cap = s["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "contact_cap")
        .unwrap();
    assert!(cap["costs"].as_array().unwrap().len() >= 2);
    assert!(cap["costs"][0]["label"]
        .as_str()
        .is_some_and(|l| !l.is_empty()));
    assert!(factors.iter().any(|f| f["path"] == "engagement.icb"));
    assert!(factors
        .iter()
        .any(|f| f["path"].as_str().unwrap().contains(".costs[0].factors.")));
    // A broken scenario: each problem with line, field and the CLI's message.
    let broken = text.replacen(
        "min = 0.05, mode = 0.15, max = 0.24",
        "min = 0.5, mode = 0.15, max = 0.24",
        1,
    );
    let bad = server.post("/api/validate", broken.as_bytes()).json();
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["scenario"], Value::Null);
    let file = sb.write("broken.toml", &broken);
    let o = sb.run(&["validate", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let problems = bad["problems"].as_array().unwrap();
    assert!(!problems.is_empty());
    for p in problems {
        assert!(p["line"].as_u64().is_some());
        let said = format!(
            "{}: {}",
            p["field"].as_str().unwrap(),
            p["message"].as_str().unwrap()
        );
        assert!(stderr(&o).contains(&said), "{said} not in {}", stderr(&o));
    }
}

#[test]
fn an_edited_scenario_downloaded_runs_with_the_cli_to_the_same_outputs() {
    let server = Server::start(&[]);
    let text = scenario_text("collective-action-2024.toml");
    let request = json!({
        "toml": text,
        "edits": [
            { "table": "actions.contact_cap.factors.share_of_contacts_above_25",
              "set": { "dist": "pert", "min": 0.3, "mode": 0.4, "max": 0.45 } },
            { "table": "actions.advice_and_guidance", "set": { "start": "2024-10" } },
            { "remove": "actions.data_sharing" },
            { "overrides": [ { "icb": "QU9",
                "factor": "actions.medicines_optimisation.factors.share_of_engaged_practices_switching_off",
                "value": 0.65, "source": "an ICB's own survey" } ] },
            { "table": "scenario", "set": { "iterations": 700, "seed": 5 } },
        ]
    });
    let reply = server.post("/api/edit", request.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let edited = reply.json();
    assert_eq!(edited["validation"]["ok"], true, "{}", edited["validation"]);
    let toml = edited["toml"].as_str().unwrap();
    // Comments and the untouched text are kept.
    assert!(toml.starts_with("# GP collective action, the whole BMA menu"));
    assert!(!toml.contains("[actions.data_sharing]"));
    let v = &edited["validation"]["scenario"];
    assert_eq!(v["overrides"][0]["icb"], "QU9");
    assert!(v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == "advice_and_guidance" && a["start"] == "2024-10"));
    // The download is this text: the CLI runs it to the API's outputs.
    let sb = Sandbox::new();
    let file = sb.write("edited.toml", toml);
    let out = cli_run(&sb, &file, &[]);
    let api = server.post("/api/run", toml.as_bytes()).json();
    assert_eq!(api["summary"], read_json(&out.join("summary.json")));
    assert_eq!(api["summary"]["iterations"], 700);
    // Byte for byte: the run directory the explorer downloads against the CLI's.
    let zip = server.post("/api/report?format=zip", toml.as_bytes());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.body)).unwrap();
    for name in [
        "summary.json",
        "icb_summary.csv",
        "action_summary.csv",
        "monthly.csv",
        "region_summary.csv",
        "charts/distribution.svg",
        "charts/icb_costs.svg",
        "inputs/scenario.toml",
    ] {
        let mut bytes = Vec::new();
        archive
            .by_name(&format!("icb-impact-run/{name}"))
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        assert!(
            bytes == std::fs::read(out.join(name)).unwrap(),
            "{name} differs"
        );
    }
    // And the edit moved the result the right way: a larger share above 25 costs more.
    let before = server
        .post("/api/run?iterations=700&seed=5", text.as_bytes())
        .json();
    let cap = |run: &Value| {
        run["summary"]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == "contact_cap")
            .unwrap()["national_gbp"]["mean"]
            .as_f64()
            .unwrap()
    };
    assert!(cap(&api) > cap(&before));
    // An edit that cannot be made is named.
    let bad = server.post(
        "/api/edit",
        json!({ "toml": text, "edits": [ { "table": "actions.nope", "set": { "start": "2024-09" } } ] }).to_string().as_bytes(),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["problems"][0]["field"], "actions.nope");
}

#[test]
fn compare_and_settlement_through_the_api_are_the_cli_outputs() {
    let server = Server::start(&[]);
    let sb = Sandbox::new();
    let a = scenario_text("collective-action-2024.toml");
    let b = a.replacen(
        "min = 0.15, mode = 0.30, max = 0.33",
        "min = 0.2, mode = 0.35, max = 0.4",
        1,
    );
    let reply = server.post(
        "/api/compare?iterations=500&seed=3",
        json!({ "a": a, "b": b }).to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (fa, fb) = (sb.write("loaded.toml", &a), sb.write("edited.toml", &b));
    let out = sb.path("compare");
    let o = sb.run(&[
        "compare",
        fa.to_str().unwrap(),
        fb.to_str().unwrap(),
        "--iterations",
        "500",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_rows_equal(&out.join("compare.csv"), &reply.json()["rows"]);

    let reply = server.post(
        "/api/settlement?months=2024-09..2024-12&iterations=500",
        a.as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let out = sb.path("settlement");
    let o = sb.run(&[
        "settlement",
        fa.to_str().unwrap(),
        "--months",
        "2024-09..2024-12",
        "--iterations",
        "500",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let api = reply.json();
    assert_rows_equal(&out.join("settlement.csv"), &api["rows"]);
    assert_eq!(api["rows"].as_array().unwrap().len(), 4);
    assert!(api["chart"].as_str().unwrap().starts_with("<svg"));
}

#[test]
fn decide_through_the_api_is_the_cli_decision() {
    let server = Server::start(&[]);
    let sb = Sandbox::new();
    let text = scenario_text("medicines-optimisation-2024.toml");
    let reply = server.post("/api/decide?iterations=500&seed=3", text.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let file = sb.write("m.toml", &text);
    let out = sb.path("decide");
    let o = sb.run(&[
        "decide",
        file.to_str().unwrap(),
        "--iterations",
        "500",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let api = reply.json();
    assert_rows_equal(&out.join("decision.csv"), &api["decision"]);
    assert_rows_equal(&out.join("evppi.csv"), &api["evppi"]);
    let summary = crate::read_json(&out.join("summary.json"));
    assert_eq!(api["summary"], summary);
    for chart in ["decision_costs", "decision_prob_best", "decision_evppi"] {
        assert!(
            api["charts"][chart].as_str().unwrap().starts_with("<svg"),
            "{chart}"
        );
    }
    // A scenario without options is refused in the CLI's words, 400.
    let reply = server.post(
        "/api/decide?iterations=50",
        scenario_text("collective-action-2024.toml").as_bytes(),
    );
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(reply
        .text()
        .contains("it has none: add [[options]] entries"));
}

#[test]
fn the_briefing_workbook_and_tables_download() {
    let server = Server::start(&[]);
    let text = scenario_text("medicines-optimisation-2024.toml");
    let html = server.post("/api/report?format=html&iterations=400", text.as_bytes());
    assert_eq!(html.status, 200, "{}", html.text());
    assert!(html
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(
        html.header("content-disposition"),
        Some("attachment; filename=\"report.html\"")
    );
    assert!(html.text().starts_with("<!DOCTYPE html>"));
    let xlsx = server.post("/api/report?format=xlsx&iterations=400", text.as_bytes());
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.body.starts_with(b"PK"));
    let zip = server.post("/api/report?format=zip&iterations=400", text.as_bytes());
    assert_eq!(zip.status, 200);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.body)).unwrap();
    let names: Vec<String> = archive
        .file_names()
        .map(|n| n.unwrap().to_string())
        .collect();
    for name in [
        "summary.json",
        "icb_summary.csv",
        "report.html",
        "report.xlsx",
        "manifest.json",
        "charts/distribution.png",
        "inputs/scenario.toml",
    ] {
        assert!(
            names.contains(&format!("icb-impact-run/{name}")),
            "{name} in {names:?}"
        );
    }
    let mut recorded = String::new();
    archive
        .by_name("icb-impact-run/inputs/scenario.toml")
        .unwrap()
        .read_to_string(&mut recorded)
        .unwrap();
    assert_eq!(recorded, text, "the run records the scenario it was sent");
}

#[test]
fn every_refusal_is_a_clear_4xx_and_nothing_of_a_named_file_is_read() {
    let server = Server::start(&["--max-iterations", "5000"]);
    let text = scenario_text("collective-action-2024.toml");
    // A file on this machine: refused before anything is read, for every command.
    let passwd = text.replacen("[scenario]\n", "[scenario]\ndata = \"/etc/passwd\"\n", 1);
    for path in [
        "/api/validate",
        "/api/run?iterations=100",
        "/api/settlement?iterations=100",
        "/api/report?iterations=100",
    ] {
        let reply = server.post(path, passwd.as_bytes());
        let body = reply.text();
        assert!(!body.contains("root:"), "{path}: {body}");
        let problems = match path {
            "/api/validate" => reply.json()["problems"].clone(),
            _ => {
                assert_eq!(reply.status, 400, "{path}");
                reply.json()["problems"].clone()
            }
        };
        assert_eq!(problems[0]["field"], "scenario.data", "{path}");
        assert!(problems[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("a scenario sent as text may use only the tables built into the tool"));
    }
    let fail = |reply: Reply, status: u16, field: &str| {
        assert_eq!(reply.status, status, "{}", reply.text());
        let body = reply.json();
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
        if !field.is_empty() {
            assert_eq!(body["problems"][0]["field"], field, "{body}");
        }
    };
    fail(
        server.post("/api/run?iterations=5001", text.as_bytes()),
        400,
        "iterations",
    );
    // The scenario's own 10,000 iterations are over this server's 5,000.
    fail(server.post("/api/run", text.as_bytes()), 400, "iterations");
    fail(
        server.post("/api/run?iterations=0", text.as_bytes()),
        400,
        "iterations",
    );
    fail(
        server.post("/api/run?iterations=ten", text.as_bytes()),
        400,
        "query",
    );
    fail(
        server.post("/api/run?format=zip", text.as_bytes()),
        400,
        "format",
    );
    fail(
        server.post("/api/run?colour=red", text.as_bytes()),
        400,
        "query",
    );
    fail(
        server.post(
            "/api/settlement?months=2030-01..2030-02&iterations=100",
            text.as_bytes(),
        ),
        400,
        "months",
    );
    fail(
        server.post(
            "/api/settlement?months=soon&iterations=100",
            text.as_bytes(),
        ),
        400,
        "months",
    );
    fail(
        server.post("/api/report?format=pdf&iterations=100", text.as_bytes()),
        400,
        "format",
    );
    fail(server.post("/api/run", &[0xff, 0xfe, 0x00]), 400, "file");
    fail(server.post("/api/edit", b"{ not json"), 400, "body");
    fail(server.post("/api/compare", b"{\"a\": \"x\"}"), 400, "body");
    fail(
        server.post("/api/validate", &vec![b'#'; (1 << 20) + 1]),
        413,
        "",
    );
    fail(server.get("/api/nothing"), 404, "");
    fail(
        server.request("GET", "/", &[("Host", "evil.example:8080")], b""),
        403,
        "",
    );
    fail(
        server.request(
            "POST",
            "/api/run",
            &[("Origin", "http://evil.example")],
            text.as_bytes(),
        ),
        403,
        "",
    );
    assert_eq!(server.get("/api/run").status, 405);
    // A page of this server may post.
    let own = format!("http://127.0.0.1:{}", server.port);
    assert_eq!(
        server
            .request(
                "POST",
                "/api/validate",
                &[("Origin", &own)],
                text.as_bytes()
            )
            .status,
        200
    );
}

/// Starts a practice-level run of 200,000 iterations (minutes of work) with its progress
/// streamed, and returns its connection once the first progress line has come: the run then
/// holds its permit, until the connection is dropped.
/// The whole menu at practice level: minutes of work at 200,000 iterations.
fn practice_level() -> String {
    scenario_text("collective-action-2024.toml").replacen(
        "cost_view = \"icb_cash\"",
        "cost_view = \"icb_cash\"\ngranularity = \"practice\"",
        1,
    )
}

fn long_run(server: &Server) -> TcpStream {
    let text = practice_level();
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let head = format!(
        "POST /api/run?iterations=200000&progress=true HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        server.port,
        text.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(text.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    while !line.contains("\"progress\"") {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the run ended before it started"
        );
    }
    stream
}

#[test]
fn a_busy_server_answers_503_and_a_run_abandoned_by_its_client_stops() {
    let server = Server::start(&[
        "--max-runs",
        "1",
        "--queue-wait",
        "0",
        "--max-iterations",
        "200000",
    ]);
    let small = scenario_text("medicines-optimisation-2024.toml");
    let running = long_run(&server);
    let busy = server.post("/api/run?iterations=100", small.as_bytes());
    assert_eq!(busy.status, 503, "{}", busy.text());
    assert_eq!(busy.header("retry-after"), Some("5"));
    drop(running);
    drop(server);

    // The long run alone takes minutes; abandoned, it gives its place up within seconds, so a
    // request waiting (up to 20 s) for the only run gets it.
    let server = Server::start(&[
        "--max-runs",
        "1",
        "--queue-wait",
        "20",
        "--max-iterations",
        "200000",
    ]);
    let running = long_run(&server);
    let waiting = {
        let (client, small) = (server.client, small.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            (
                client.post("/api/run?iterations=100", small.as_bytes()),
                started.elapsed(),
            )
        })
    };
    // The request waits for the only run; its client goes away.
    std::thread::sleep(Duration::from_millis(300));
    drop(running);
    let (next, waited) = waiting.join().unwrap();
    assert_eq!(next.status, 200, "{}", next.text());
    assert!(waited < Duration::from_secs(20), "waited {waited:?}");
}

#[test]
fn handlers_answer_generated_bodies_and_queries_with_a_status_never_a_crash() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let mut server = Server::start(&["--max-iterations", "300"]);
    let text = scenario_text("medicines-optimisation-2024.toml");
    let paths = [
        "/api/validate",
        "/api/edit",
        "/api/run",
        "/api/compare",
        "/api/settlement",
        "/api/report",
    ];
    let ok = |status: u16| [200, 400, 404, 405, 413].contains(&status);
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    // Arbitrary bytes to every handler.
    runner
        .run(
            &(
                0..paths.len(),
                proptest::collection::vec(any::<u8>(), 0..400),
            ),
            |(k, body)| {
                let reply = server.post(paths[k], &body);
                prop_assert!(
                    ok(reply.status),
                    "{} {}: {}",
                    paths[k],
                    reply.status,
                    reply.text()
                );
                Ok(())
            },
        )
        .unwrap();
    // A valid scenario with one character changed, and arbitrary query strings.
    runner
        .run(
            &(0..text.len(), any::<char>(), "[a-z=&%0-9.]{0,24}"),
            |(at, c, query)| {
                let mut mutated: String = text.chars().take(at).collect();
                mutated.push(c);
                mutated.extend(text.chars().skip(at + 1));
                let reply = server.post("/api/validate", mutated.as_bytes());
                prop_assert_eq!(reply.status, 200);
                let run = server.post(&format!("/api/run?{query}"), text.as_bytes());
                prop_assert!(ok(run.status), "?{}: {} {}", query, run.status, run.text());
                Ok(())
            },
        )
        .unwrap();
    // Edits of every shape, well formed or not.
    let value = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(|b| json!(b)),
        any::<f64>().prop_map(|x| json!(x)),
        "[a-z0-9.-]{0,8}".prop_map(|s| json!(s)),
        Just(json!([1])),
    ];
    let edit = (
        prop_oneof![
            Just("scenario".to_string()),
            Just("actions.medicines_optimisation".to_string()),
            "[a-z._\\[\\]0-9]{0,30}",
        ],
        "[a-z_]{1,8}",
        value,
    );
    runner
        .run(&edit, |(table, key, value)| {
            let body =
                json!({ "toml": text, "edits": [ { "table": table, "set": { key: value } } ] });
            let reply = server.post("/api/edit", body.to_string().as_bytes());
            prop_assert!(ok(reply.status), "{}: {}", reply.status, reply.text());
            Ok(())
        })
        .unwrap();
    assert!(server.alive());
}

#[test]
fn a_loopback_load_test_answers_every_request_correctly_in_bounded_memory_and_time() {
    let server = Server::start(&["--max-runs", "2"]);
    let text = scenario_text("medicines-optimisation-2024.toml");
    let reference = server
        .post("/api/run?iterations=500&seed=9", text.as_bytes())
        .json();
    let started = Instant::now();
    let (clients, each) = (8, 40);
    let client = server.client;
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let text = text.clone();
            let reference = reference["summary"].clone();
            std::thread::spawn(move || {
                let server = client;
                let mut answered = 0;
                for k in 0..each {
                    match (c + k) % 4 {
                        0 => {
                            let r = server.post("/api/run?iterations=500&seed=9", text.as_bytes());
                            assert_eq!(r.status, 200, "{}", r.text());
                            assert_eq!(r.json()["summary"], reference);
                        }
                        1 => {
                            let r = server.post("/api/validate", text.as_bytes());
                            assert_eq!(r.json()["ok"], true);
                        }
                        2 => assert_eq!(
                            server
                                .get("/api/scenarios")
                                .json()
                                .as_array()
                                .unwrap()
                                .len(),
                            4
                        ),
                        _ => assert_eq!(server.get("/app.js").status, 200),
                    }
                    answered += 1;
                }
                answered
            })
        })
        .collect();
    let answered: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(answered, clients * each);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(240),
        "{} requests took {elapsed:?}",
        clients * each
    );
    let peak = server.peak_memory();
    assert!(peak < 1 << 30, "peak memory {peak} bytes");
    eprintln!(
        "{} requests in {elapsed:.1?}, {clients} at a time; peak memory {} MB",
        clients * each,
        peak >> 20
    );
}

#[test]
fn serve_says_where_it_listens_warns_off_loopback_and_refuses_a_port_in_use() {
    let sb = Sandbox::new();
    let help = crate::stdout(&sb.run(&["serve", "--help"]));
    for flag in [
        "--port",
        "--open",
        "--host",
        "--max-iterations",
        "--max-runs",
        "--queue-wait",
    ] {
        assert!(help.contains(flag), "{flag} missing from serve --help");
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let o = sb.run(&["serve", "--port", &port]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{}",
        stderr(&o)
    );
    let o = sb.run(&["serve", "--host", "localhost"]);
    assert_eq!(o.status.code(), Some(2), "an address, not a name");

    // Another address than loopback: a warning on stderr, and the explorer answers there.
    let mut child = Command::new(env!("CARGO_BIN_EXE_icb-impact"))
        .args(["serve", "--host", "0.0.0.0", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let mut warning = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut warning)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("Explorer at http://0.0.0.0:"), "{line}");
    assert!(
        warning.starts_with("warning: listening on 0.0.0.0 makes the explorer"),
        "{warning}"
    );
}

#[test]
#[cfg_attr(
    skip_browser,
    ignore = "ICB_IMPACT_SKIP_BROWSER=1: the tests that need Chromium are skipped"
)]
fn the_explorer_page_edits_runs_compares_and_downloads_in_headless_chromium() {
    let browser = crate::report::browser();
    let server = Server::start(&[]);
    let sb = Sandbox::new();
    let (shot, downloads) = (sb.path("explorer.png"), sb.path("downloads"));
    crate::observed::observe_to_august_2026(&sb);
    let script = browser.script.with_file_name("explorer.mjs");
    let o = Command::new(&browser.node)
        .arg(&script)
        .arg(format!("http://127.0.0.1:{}", server.port))
        .args([&shot, &downloads])
        .env("CHROMIUM", &browser.chromium)
        .env("NOWCAST_DIR", sb.path(""))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}\n{}", crate::stdout(&o), stderr(&o));
    let result: Value = serde_json::from_str(crate::stdout(&o).trim()).unwrap();
    // No console error, no failed request, no request beyond this server, no failed step.
    assert_eq!(result["problems"], json!([]), "{result}");
    // Raising the share of contacts above 25 raises the national cost.
    let (before, after) = (
        result["mean_before"].as_f64().unwrap(),
        result["mean_after"].as_f64().unwrap(),
    );
    assert!(after > before, "{before} then {after}");
    // An invalid value: the CLI's message beside the factor, and Run disabled.
    assert_eq!(
        result["field_error"],
        "min 0.5 must be less than max 0.45 (for a known value write a number)"
    );
    assert_eq!(result["run_disabled"], true);
    // The downloaded TOML is what the page ran: the CLI runs it to the page's figure (the page
    // ran 2,000 iterations with the scenario's seed).
    let toml = std::path::PathBuf::from(result["downloaded_toml"].as_str().unwrap());
    let out = cli_run(&sb, &toml, &["--iterations", "2000"]);
    assert_eq!(
        read_json(&out.join("summary.json"))["national_total_gbp"]["mean"]
            .as_f64()
            .unwrap(),
        after
    );
    assert_eq!(result["icb_highlighted"], true);
    // The page shows what the model expects to see in the data: each activity of activity.csv.
    let activity = crate::read_csv(&out.join("activity.csv"));
    let national = activity[1..].iter().filter(|r| r[0] == "national").count();
    assert!(national > 0);
    assert_eq!(result["activity_rows"], national, "{result}");
    assert_eq!(result["activity_has_my_icb"], true);
    // Common random numbers: the paired difference of the means is the difference of the means.
    let diff = result["compare_national_diff"].as_f64().unwrap();
    assert!(
        (diff - (after - before)).abs() < 0.02,
        "{diff} against {}",
        after - before
    );
    assert_eq!(
        result["settlement_rows"], 6,
        "one row per month of the horizon"
    );
    assert_eq!(result["cards"].as_array().unwrap().len(), 4);
    crate::report::assert_not_blank(&shot);
    // On the 2026 footprint the list is the scenario's ICBs, and QU9, chosen on the 2024
    // scenario, became NHS Thames Valley, which holds all its patients, as the page says.
    let icbs = server.get("/api/icbs?scenario=escalation-2026").json();
    let n = icbs.as_array().unwrap().len();
    assert_eq!(
        result["footprint"]["options"],
        n + 1,
        "'None chosen' and each ICB"
    );
    assert_eq!(result["footprint"]["selected"], "S0E4D");
    // The nowcast: the page shows the API's two headlines for the same request, a row for each
    // month from June 2026 to the scenario's end, three of them observed, and the chart.
    let nowcast = &result["nowcast"];
    let text = scenario_text("escalation-2026.toml");
    let body = json!({
        "scenario": text,
        "observations": std::fs::read_to_string(sb.path("obs.csv")).unwrap(),
        "monthly": std::fs::read_to_string(sb.path("obs/observed_monthly.csv")).unwrap(),
    });
    // The page's query, answered at once rather than as it goes.
    let query = nowcast["query"]
        .as_str()
        .unwrap()
        .replace("&progress=true", "");
    let api = server.post(&format!("/api/nowcast{query}"), body.to_string().as_bytes());
    assert_eq!(api.status, 200, "{}", api.text());
    let run = &api.json()["run"]["summary"];
    assert_eq!(
        nowcast["prior"], run["calibrated"]["prior_national_total_gbp"]["mean"],
        "{result}"
    );
    assert_eq!(nowcast["calibrated"], run["national_total_gbp"]["mean"]);
    assert_eq!(
        (nowcast["months"].as_u64(), nowcast["observed"].as_u64()),
        (Some(11), Some(3)),
        "{result}"
    );
    assert_eq!(nowcast["chart"], 1);
    assert_eq!(
        result["footprint"]["note"],
        "Buckinghamshire, Oxfordshire and Berkshire West ICB (QU9) is not one of this scenario's ICBs: 100% of its patients are now in Thames Valley ICB (S0E4D), chosen instead."
    );
}

#[test]
fn progress_comes_line_by_line_before_the_result_of_the_same_run() {
    let server = Server::start(&[]);
    let text = scenario_text("collective-action-2024.toml");
    let plain = server
        .post("/api/run?iterations=20000&seed=4", text.as_bytes())
        .json();
    let streamed = server.post(
        "/api/run?iterations=20000&seed=4&progress=true",
        text.as_bytes(),
    );
    assert_eq!(streamed.status, 200);
    assert_eq!(
        streamed.header("content-type"),
        Some("application/x-ndjson")
    );
    let lines: Vec<Value> = streamed
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (last, progress) = lines.split_last().unwrap();
    assert_eq!(last["result"]["summary"], plain["summary"]);
    assert!(progress.len() >= 10, "{} progress lines", progress.len());
    let done: Vec<u64> = progress
        .iter()
        .map(|p| p["progress"]["done"].as_u64().unwrap())
        .collect();
    assert!(done.windows(2).all(|w| w[0] <= w[1]), "{done:?}");
    assert!(progress.iter().all(|p| p["progress"]["total"] == 20000));
    assert_eq!(*done.last().unwrap(), 20000);
    // The cost of delay too; a problem found once the work has started comes as the last line.
    let settled = server.post(
        "/api/settlement?iterations=500&progress=true",
        text.as_bytes(),
    );
    let last: Value = serde_json::from_str(settled.text().lines().last().unwrap()).unwrap();
    assert_eq!(last["result"]["rows"].as_array().unwrap().len(), 6);
    let outside = server.post(
        "/api/settlement?iterations=500&months=2024-01..2024-09&progress=true",
        text.as_bytes(),
    );
    let last: Value = serde_json::from_str(outside.text().lines().last().unwrap()).unwrap();
    assert_eq!(last["status"], 400);
    assert_eq!(last["problems"][0]["field"], "months");
}

#[test]
fn the_nowcast_through_the_api_is_the_cli_sequence_with_its_months() {
    // data observed (generated months to August 2026) → the explorer's nowcast, set against
    // calibrate → run --posterior on the same scenario, seed and iterations.
    let sb = Sandbox::new();
    crate::observed::observe_to_august_2026(&sb);
    let observations = std::fs::read_to_string(sb.path("obs.csv")).unwrap();
    let monthly = std::fs::read_to_string(sb.path("obs/observed_monthly.csv")).unwrap();
    let text = scenario_text("escalation-2026.toml");
    let server = Server::start(&[]);
    let body = json!({ "scenario": text, "observations": observations, "monthly": monthly });
    let reply = server.post(
        "/api/nowcast?iterations=2000&seed=11",
        body.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let api = reply.json();
    assert_eq!(api["calibration"]["posterior_reported"], true, "{api}");

    let file = shipped("escalation-2026.toml");
    let file = file.to_str().unwrap();
    let settings = ["--iterations", "2000", "--seed", "11", "-q"];
    let o = sb.run(
        &[
            &["calibrate", file, "--benchmarks", "obs.csv", "--out", "cal"][..],
            &settings,
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = sb.run(
        &[
            &["run", file, "--posterior", "cal", "--out", "post"][..],
            &settings,
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The calibration and the calibrated run are the CLI's, figure for figure.
    assert_rows_equal(
        &sb.path("cal/calibration.csv"),
        &api["calibration"]["figures"],
    );
    assert_rows_equal(
        &sb.path("cal/posterior.csv"),
        &api["calibration"]["posterior"],
    );
    let summary = read_json(&sb.path("post/summary.json"));
    let (run, calibrated) = (&api["run"]["summary"], &summary["calibrated"]);
    assert_eq!(run["national_total_gbp"], summary["national_total_gbp"]);
    for key in [
        "prior_national_total_gbp",
        "prior_mean_per_icb_gbp",
        "effective_sample_size",
    ] {
        assert!(!calibrated[key].is_null(), "{key}: {summary}");
        assert_eq!(run["calibrated"][key], calibrated[key], "{key}");
    }
    assert_eq!(
        run["calibrated"]["posterior"],
        "the calibration to observations.csv in this request"
    );

    // The national figure month by month: from its first month, June 2026, to the end of the
    // scenario; the observed excess cumulated from the monthly table; its last month is the
    // figure as published (to the penny of each month's rounding).
    let e = &api["expected"];
    let figure = read_csv(&sb.path("obs.csv"));
    let national = figure
        .iter()
        .find(|r| r[0] == "observed_excess_national")
        .unwrap();
    let published: f64 = national[2].parse().unwrap();
    assert_eq!(e["id"], "observed_excess_national");
    assert_eq!(
        (e["first"].as_str(), e["last"].as_str()),
        (Some("2026-06"), Some("2026-08"))
    );
    let months = e["months"].as_array().unwrap();
    assert_eq!(months[0]["month"], "2026-06");
    assert_eq!(months.last().unwrap()["month"], summary["period_end"]);
    let rows = read_csv(&sb.path("obs/observed_monthly.csv"));
    let (o, c, after) = (
        crate::column_index(&rows, "observed_gbp"),
        crate::column_index(&rows, "counterfactual_gbp"),
        crate::column_index(&rows, "after_change"),
    );
    let mut sum = 0.0;
    let expected_observed: Vec<f64> = rows[1..]
        .iter()
        .filter(|r| r[1] == "national" && r[after] == "true")
        .map(|r| {
            sum += r[o].parse::<f64>().unwrap() - r[c].parse::<f64>().unwrap();
            sum
        })
        .collect();
    let got: Vec<f64> = months
        .iter()
        .filter_map(|m| m["observed"].as_f64())
        .collect();
    assert_eq!(got, expected_observed);
    // The figure is the fitted effect cumulated, the line the data less the counterfactual:
    // they differ by the residuals after the change, well within the figure's standard error.
    let sd: f64 = national[3].parse().unwrap();
    assert!(
        (got[2] - published).abs() <= sd,
        "{} against {published} ± {sd}",
        got[2]
    );
    for m in months {
        for view in ["prior", "calibrated"] {
            let b = &m[view];
            let (lo, mean, hi) = (
                b["p05"].as_f64().unwrap(),
                b["mean"].as_f64().unwrap(),
                b["p95"].as_f64().unwrap(),
            );
            assert!(lo <= mean && mean <= hi, "{m}");
        }
    }
    // Cumulated: the expected mean never falls from one month to the next.
    let means: Vec<f64> = months
        .iter()
        .map(|m| m["prior"]["mean"].as_f64().unwrap())
        .collect();
    assert!(means.windows(2).all(|w| w[1] >= w[0] - 1e-6), "{means:?}");
    assert!(api["chart"].as_str().unwrap().starts_with("<svg"));

    // The observations alone: the same calibration, no observed months in the chart.
    let body = json!({ "scenario": text, "observations": observations });
    let reply = server.post(
        "/api/nowcast?iterations=2000&seed=11",
        body.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let alone = reply.json();
    assert_eq!(alone["calibration"], api["calibration"]);
    assert!(alone["expected"]["months"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["observed"].is_null()));

    // A table that is not the observations, or not the monthly file, is refused by file, line
    // and column, 400.
    let body =
        json!({ "scenario": text, "observations": observations, "monthly": "month,icb_code\n" });
    let reply = server.post("/api/nowcast?iterations=200", body.to_string().as_bytes());
    assert_eq!(reply.status, 400, "{}", reply.text());
    let problem = &reply.json()["problems"][0];
    assert_eq!(
        (problem["file"].as_str(), problem["line"].as_u64()),
        (Some("observed_monthly.csv"), Some(1)),
        "{problem}"
    );
    let body = json!({ "scenario": text, "observations": monthly });
    let reply = server.post("/api/nowcast?iterations=200", body.to_string().as_bytes());
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json()["problems"][0]["file"], "observations.csv");
}

/// A scenario of `months` months from January 2025 with the medicines optimisation action
/// of the shipped scenario.
fn long_scenario(months: u32) -> String {
    scenario_text("medicines-optimisation-2024.toml")
        .lines()
        .map(|l| match l.starts_with("months = ") {
            true => format!("months = {months}"),
            false => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_request_over_the_work_budget_is_refused_at_once_naming_the_limit() {
    let server = Server::start(&["--max-work", "1000000"]);
    // A 600-month cost of delay at 2,000 iterations: 720 million iteration-months.
    let text = long_scenario(600);
    let started = Instant::now();
    let reply = server.post("/api/settlement?iterations=2000", text.as_bytes());
    assert_eq!(reply.status, 400, "{}", reply.text());
    let message = reply.json()["problems"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        message,
        "this request asks for 720,000,000 iteration-months of simulation (2,000 iterations × 600 months × 600 settlement months), more than this server does for one request (at most 1,000,000; `serve --max-work` sets it): ask for fewer iterations, months or runs"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // Within the budget it runs: 100 iterations × 600 months × 1 run.
    let reply = server.post("/api/run?iterations=100", text.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    // A comparison counts two runs, a decision one per option.
    let reply = server.post(
        "/api/compare?iterations=1000",
        json!({ "a": text, "b": text }).to_string().as_bytes(),
    );
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(
        reply
            .text()
            .contains("1,000 iterations × 600 months × 2 scenarios"),
        "{}",
        reply.text()
    );
    let limits = server.get("/api/limits").json();
    assert_eq!(limits["max_work_iteration_months"], 1_000_000);
}

#[test]
fn a_run_past_the_timeout_is_stopped_and_says_so_in_its_answer_and_its_stream() {
    let server = Server::start(&[
        "--timeout",
        "1",
        "--max-runs",
        "1",
        "--max-iterations",
        "200000",
    ]);
    let text = practice_level();
    let limit = "the request took longer than this server allows (1 s, `serve --timeout` sets it) and was stopped: ask for fewer iterations or months";
    let started = Instant::now();
    let reply = server.post("/api/run?iterations=200000", text.as_bytes());
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.json()["error"], limit);
    // Sent as it goes: progress lines, then the error as the last line.
    let reply = server.post("/api/run?iterations=200000&progress=true", text.as_bytes());
    assert_eq!(reply.status, 200);
    let body = reply.text();
    let last: Value = serde_json::from_str(body.lines().last().unwrap()).unwrap();
    assert_eq!(last["error"], limit, "{body}");
    assert_eq!(last["status"], 503);
    assert!(
        body.lines().next().unwrap().contains("\"progress\""),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    // The only run's permit is free again.
    let small = scenario_text("medicines-optimisation-2024.toml");
    assert_eq!(
        server
            .post("/api/run?iterations=100", small.as_bytes())
            .status,
        200
    );
}

#[test]
fn scenario_checks_have_permits_of_their_own_beside_the_runs() {
    let server = Server::start(&[
        "--max-runs",
        "1",
        "--queue-wait",
        "0",
        "--max-iterations",
        "200000",
    ]);
    let running = long_run(&server);
    // The only run is taken: another run is refused, a check is answered.
    let small = scenario_text("medicines-optimisation-2024.toml");
    assert_eq!(
        server
            .post("/api/run?iterations=100", small.as_bytes())
            .status,
        503
    );
    let reply = server.post("/api/validate", small.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["ok"], true);
    drop(running);
}

#[test]
#[cfg_attr(
    skip_browser,
    ignore = "ICB_IMPACT_SKIP_BROWSER=1: the tests that need Chromium and Node.js are skipped"
)]
fn the_page_s_pure_functions_pass_their_node_tests_and_format_as_the_cli_does() {
    use icb_impact::money;
    // Money at every magnitude the page shows, with the ties and carries of three significant
    // figures, and probabilities across [0, 1] with their ties.
    let mut cases = Vec::new();
    for power in -4..13 {
        for mantissa in [
            1.0, 1.004, 1.005, 1.0049999, 1.2345, 2.5, 4.3216, 6.1, 9.994, 9.995, 9.9951, 9.999,
        ] {
            for sign in [1.0, -1.0] {
                let x: f64 = sign * mantissa * 10f64.powi(power);
                cases.push(json!({ "fn": "gbp", "x": x, "cli": money::gbp(x) }));
            }
        }
    }
    for x in [
        0.0,
        1005.0,
        1015.0,
        2_125_000.0,
        999_950.0,
        999_949.0,
        12_345.0,
        0.125,
    ] {
        cases.push(json!({ "fn": "gbp", "x": x, "cli": money::gbp(x) }));
    }
    for k in 0..=400 {
        let p = k as f64 / 400.0;
        cases.push(json!({ "fn": "percent", "x": p, "cli": money::percent(p) }));
    }
    for p in [
        0.005, 0.015, 0.025, 0.125, 0.375, 0.985, 0.995, 0.0099, 0.9901,
    ] {
        cases.push(json!({ "fn": "percent", "x": p, "cli": money::percent(p) }));
    }
    let sb = Sandbox::new();
    let path = sb.write("cases.json", &Value::Array(cases).to_string());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = Command::new(crate::report::node())
        .arg("--test")
        .arg(root.join("tests/browser/format.test.mjs"))
        .env("CASES", &path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}\n{}", crate::stdout(&o), stderr(&o));
    assert!(
        crate::stdout(&o).contains("# fail 0"),
        "{}",
        crate::stdout(&o)
    );
}
