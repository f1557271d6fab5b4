//! Cancellation: Ctrl-C or SIGTERM sets a flag that the engine checks between blocks of
//! iterations and the output layer checks before it moves results into place, so an
//! interrupted run stops soon, writes nothing and leaves any previous results as they were.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Sets the flag on SIGINT and SIGTERM (once per process; later calls do nothing).
pub fn install_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // If a handler cannot be installed the process keeps the default behaviour (it dies,
        // and the next run removes its temporary directory).
        let _ = ctrlc::set_handler(|| REQUESTED.store(true, Ordering::SeqCst));
    });
}

/// Whether the run has been asked to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}
