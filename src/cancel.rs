//! Cancellation: Ctrl-C or SIGTERM sets a flag that the engine checks between blocks of
//! iterations and the output layer checks before it moves results into place, so an
//! interrupted run stops soon, writes nothing and leaves any previous results as they were.
//!
//! One piece of work can also be stopped alone (a server's run whose client went away): its
//! [`Token`], entered on the threads that do the work, is seen by [`requested`] there only.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

static REQUESTED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// The token of the work this thread is doing, if it was entered.
    static CURRENT: RefCell<Option<Token>> = const { RefCell::new(None) };
}

/// Sets the flag on SIGINT and SIGTERM (once per process; later calls do nothing).
pub fn install_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // If a handler cannot be installed the process keeps the default behaviour (it dies,
        // and the next run removes its temporary directory).
        let _ = ctrlc::set_handler(|| REQUESTED.store(true, Ordering::SeqCst));
    });
}

/// Whether the work on this thread has been asked to stop: by a signal, or through the token
/// this thread entered.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
        || CURRENT.with(|t| t.borrow().as_ref().is_some_and(Token::is_cancelled))
}

/// Stops one piece of work: cancelled once, it stays cancelled.
#[derive(Debug, Clone, Default)]
pub struct Token(Arc<AtomicBool>);

impl Token {
    pub fn new() -> Token {
        Token::default()
    }

    /// Asks the work to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Makes [`requested`] on this thread see this token for as long as the thread lives (a
    /// worker of the work's own pool).
    pub fn adopt(&self) {
        CURRENT.with(|t| *t.borrow_mut() = Some(self.clone()));
    }

    /// Makes [`requested`] on this thread see this token until the guard is dropped.
    pub fn enter(&self) -> Entered {
        let previous = CURRENT.with(|t| t.replace(Some(self.clone())));
        Entered { previous }
    }
}

/// While it lives, the current thread works for a [`Token`] (see [`Token::enter`]).
pub struct Entered {
    previous: Option<Token>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|t| *t.borrow_mut() = self.previous.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_stops_only_the_threads_that_entered_it() {
        let token = Token::new();
        let other = std::thread::spawn(|| {
            let token = Token::new();
            let _in = token.enter();
            requested()
        });
        {
            let _in = token.enter();
            assert!(!requested());
            token.cancel();
            assert!(requested(), "seen on the thread that entered it");
            let elsewhere = std::thread::spawn(requested).join().unwrap();
            assert!(!elsewhere, "not seen on a thread that did not");
        }
        assert!(!requested(), "left when the guard is dropped");
        assert!(!other.join().unwrap());
    }
}
