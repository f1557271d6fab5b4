//! Lets the tests that open reports in Chromium or LibreOffice be skipped on purpose.
//!
//! Those tests fail when their tool is missing. `ICB_IMPACT_SKIP_BROWSER=1` or
//! `ICB_IMPACT_SKIP_LIBREOFFICE=1` at build time sets the cfg `skip_browser` or
//! `skip_libreoffice`, under which the tests are marked `#[ignore]`, so that cargo reports them
//! as ignored rather than passed. Changing either variable rebuilds this crate only.

fn main() {
    for (variable, cfg) in [
        ("ICB_IMPACT_SKIP_BROWSER", "skip_browser"),
        ("ICB_IMPACT_SKIP_LIBREOFFICE", "skip_libreoffice"),
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={variable}");
        if std::env::var_os(variable).is_some_and(|v| v == "1") {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
    println!("cargo::rerun-if-changed=build.rs");
}
