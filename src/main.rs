//! The `icb-impact` binary: all the work is in the library.

fn main() -> std::process::ExitCode {
    icb_impact::cli::main()
}
