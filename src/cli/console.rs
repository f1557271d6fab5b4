//! The console a command reports to: a progress bar on stderr (indicatif), notes unless
//! quiet, warnings always.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::pipeline::Observer;

/// Progress on stderr with indicatif, notes unless quiet, warnings always.
pub(super) struct Console {
    quiet: bool,
    bar: Mutex<ProgressBar>,
}

impl Console {
    pub(super) fn new(quiet: bool) -> Console {
        Console {
            quiet,
            bar: Mutex::new(ProgressBar::hidden()),
        }
    }

    fn bar(&self) -> std::sync::MutexGuard<'_, ProgressBar> {
        self.bar.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Observer for Console {
    fn note(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    fn warn(&self, text: &str) {
        eprintln!("warning: {text}");
    }

    fn start(&self, total: u64) {
        if self.quiet {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} iterations ({per_sec}, {eta} left)")
        {
            bar.set_style(style);
        }
        *self.bar() = bar;
    }

    fn advance(&self, n: u64) {
        self.bar().inc(n);
    }

    fn finish(&self) {
        self.bar().finish_and_clear();
    }
}
