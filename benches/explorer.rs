//! The explorer's answer time: `POST /api/run` of the shipped six-month scenario at 10,000
//! iterations, over loopback to `icb-impact serve` (HTTP, the run, the summary, the tables
//! and the charts as SVG, all as the page receives them). The goal is under a second on 2
//! cores.
//!
//! Run: `cargo bench --bench explorer`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use criterion::{criterion_group, criterion_main, Criterion};

/// `POST path` with `body`; the status code of the answer, whose body is read to the end.
fn post(port: u16, path: &str, body: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    String::from_utf8_lossy(&answer[..12])
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

fn explorer(c: &mut Criterion) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_icb-impact"))
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .expect("the address printed");
    let scenario = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/collective-action-2024.toml"),
    )
    .unwrap();
    let mut group = c.benchmark_group("explorer");
    group.sample_size(20);
    group.bench_function("api_run_10000", |b| {
        b.iter(|| assert_eq!(post(port, "/api/run?iterations=10000", &scenario), 200))
    });
    group.bench_function("api_validate", |b| {
        b.iter(|| assert_eq!(post(port, "/api/validate", &scenario), 200))
    });
    group.finish();
    let _ = server.kill();
    let _ = server.wait();
}

criterion_group!(benches, explorer);
criterion_main!(benches);
