//! Runs the engine, or the sampling floor, once on the whole-menu scenario over twelve months,
//! for a profiler: `valgrind --tool=callgrind target/release/examples/engine_profile run 2000`
//! counts the instructions of a run (reproducibly, on however noisy a machine), and
//! `... floor 2000` those of the floor. `benches/measure.sh` prints their ratio.

use std::path::Path;

use icb_impact::engine::{self, Keep};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (what, n) = match args.as_slice() {
        [_, what, n] => (what.as_str(), n.parse::<usize>().expect("iterations")),
        _ => {
            eprintln!("usage: engine_profile run|floor ITERATIONS");
            std::process::exit(2);
        }
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/collective-action-2024.toml");
    let text = std::fs::read_to_string(&path)
        .expect("shipped scenario")
        .replacen("months = 6", "months = 12", 1);
    let dir = tempfile::tempdir().expect("temporary directory");
    let twelve = dir.path().join("collective-action-12-months.toml");
    std::fs::write(&twelve, text).expect("temporary scenario");
    let p = icb_impact::pipeline::prepare(&icb_impact::pipeline::Config::new(&twelve))
        .expect("valid scenario");
    match what {
        "run" => {
            let d = engine::run_from(&p.model, 0, n, Keep::Tallies, &|_| {});
            println!("{}", d.national.iter().sum::<f64>());
        }
        "floor" => println!("{}", engine::sampling_floor(&p.model, n)),
        _ => {
            eprintln!("usage: engine_profile run|floor ITERATIONS");
            std::process::exit(2);
        }
    }
}
