//! Work done for requests: the budget a request's simulation must fit (`--max-work`), a
//! run's permit (at most `--max-runs` at once, others wait up to `--queue-wait`, then 503
//! with `Retry-After`) and a check's (as many again, for `validate` and `edit`), the work on
//! a blocking thread with a cancellation token that its worker threads see and that is
//! cancelled when the request is dropped (the client went away) or at `--timeout`, and its
//! progress sent as it goes, ending with its result or an error line, whatever happened
//! (a failure, a panic, the timeout).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinError;

use super::answer::{internal, timed_out, Answer, ApiError};
use super::App;
use crate::cancel::Token;
use crate::error::Error;
use crate::pipeline::{Observer, Silent, SimConfig};

impl App {
    /// Runs `work` on a blocking thread once a run's permit is free (waiting at most
    /// `--queue-wait`, then 503), with a cancellation token that the work's threads see and
    /// that is cancelled when this future is dropped, as it is when the client goes away.
    pub(super) async fn simulate<T: Send + 'static>(
        &self,
        work: impl FnOnce(SimConfig, &dyn Observer) -> Result<T, Error> + Send + 'static,
    ) -> Answer<T> {
        let permit = self.permit(&self.runs, "runs").await?;
        let (stop, task) = self.spawn(permit, work, Box::new(Silent));
        let result = ended(task.await, &stop.expired, self.options.timeout);
        drop(stop);
        result
    }

    /// [`App::simulate`] answered as it goes, with `progress` true: newline-delimited JSON,
    /// `{"progress": {"done": …, "total": …}}` lines as the simulation advances, then one
    /// `{"result": …}` (or `{"error": …, "problems": […], "status": …}`). Without, the result
    /// alone as JSON. Dropping the answer (the client went away) stops the work.
    pub(super) async fn answer(
        &self,
        progress: bool,
        work: impl FnOnce(SimConfig, &dyn Observer) -> Result<Value, Error> + Send + 'static,
    ) -> Answer<Response> {
        if !progress {
            return self.simulate(work).await.map(|v| Json(v).into_response());
        }
        let permit = self.permit(&self.runs, "runs").await?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
        let (stop, task) = self.spawn(permit, work, Box::new(Progress::new(tx.clone())));
        // The last line, whatever ended the work: its result, its error, a panic or the
        // timeout.
        let expired = stop.expired.clone();
        let timeout = self.options.timeout;
        tokio::spawn(async move {
            let line = match ended(task.await, &expired, timeout) {
                Ok(result) => json!({ "result": result }),
                Err(e) => e.line(),
            };
            let _ = tx.send(line);
        });
        let lines = futures_util::stream::unfold((rx, stop), |(mut rx, stop)| async move {
            let line = rx.recv().await?;
            let mut text = line.to_string();
            text.push('\n');
            Some((Ok::<_, std::convert::Infallible>(text), (rx, stop)))
        });
        Ok((
            [(header::CONTENT_TYPE, "application/x-ndjson")],
            axum::body::Body::from_stream(lines),
        )
            .into_response())
    }

    /// `work`, a scenario check (`validate`, `edit`: no simulation), on a blocking thread once
    /// a check's permit is free (waiting at most `--queue-wait`, then 503).
    pub(super) async fn check<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Answer<T> {
        let permit = self.permit(&self.checks, "scenario checks").await?;
        let task = tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        });
        ended(task.await, &AtomicBool::new(false), self.options.timeout)
    }

    /// Refuses at once a request whose simulation is over `--max-work`: `iterations` ×
    /// `months` × `runs` iteration-months, `runs` described by `what` (e.g. "3 options").
    pub(super) fn budget(
        &self,
        file: &str,
        iterations: u64,
        months: u64,
        (runs, what): (u64, &str),
    ) -> Answer<()> {
        let work = u128::from(iterations) * u128::from(months) * u128::from(runs);
        let max = self.options.max_work;
        if work <= u128::from(max) {
            return Ok(());
        }
        let count = |n: u128| crate::money::thousands(u64::try_from(n).unwrap_or(u64::MAX));
        Err(ApiError::field(
            file,
            "iterations",
            format!(
                "this request asks for {} iteration-months of simulation ({} iterations × {months} months × {what}), more than this server does for one request (at most {}; `serve --max-work` sets it): ask for fewer iterations, months or runs",
                count(work),
                count(u128::from(iterations)),
                count(u128::from(max)),
            ),
        ))
    }

    /// A permit of `pool` (`what` it limits): at once if one is free, else within
    /// `--queue-wait`, else 503.
    async fn permit(&self, pool: &Arc<Semaphore>, what: &str) -> Answer<OwnedSemaphorePermit> {
        let wait = self.options.queue_wait;
        match tokio::time::timeout(wait, pool.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                let mut busy = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the server is busy: {} {what} at once, and none finished within {} s",
                        self.options.max_runs,
                        wait.as_secs_f64()
                    ),
                );
                busy.retry_after = Some(5);
                Err(busy)
            }
        }
    }

    /// Starts `work` on a blocking thread holding `permit` (given up when the work ends),
    /// telling `observer` how it goes; the guard returned stops the work when dropped, and
    /// the work is stopped at `--timeout` (the guard then says it expired).
    fn spawn<T: Send + 'static>(
        &self,
        permit: OwnedSemaphorePermit,
        work: impl FnOnce(SimConfig, &dyn Observer) -> Result<T, Error> + Send + 'static,
        observer: Box<dyn Observer + Send>,
    ) -> (StopOnDrop, tokio::task::JoinHandle<Result<T, Error>>) {
        let token = Token::new();
        let sim = SimConfig {
            threads: self.options.threads,
            cancel: Some(token.clone()),
            ..SimConfig::default()
        };
        let expired = Arc::new(AtomicBool::new(false));
        let timer = tokio::spawn({
            let (token, expired, timeout) = (token.clone(), expired.clone(), self.options.timeout);
            async move {
                tokio::time::sleep(timeout).await;
                expired.store(true, Ordering::SeqCst);
                token.cancel();
            }
        });
        let stop = StopOnDrop {
            token: token.clone(),
            timer,
            expired,
        };
        let task = tokio::task::spawn_blocking(move || {
            let _in = token.enter();
            let result = work(sim, observer.as_ref());
            drop(permit);
            result
        });
        (stop, task)
    }
}

/// Sends a simulation's progress as `{"progress": {"done", "total"}}` lines, at most about
/// one per percent, in order (worker threads report under one lock).
struct Progress {
    tx: tokio::sync::mpsc::UnboundedSender<Value>,
    /// Units of work, units done, and the last percent sent.
    state: Mutex<(u64, u64, u64)>,
}

impl Progress {
    fn new(tx: tokio::sync::mpsc::UnboundedSender<Value>) -> Progress {
        Progress {
            tx,
            state: Mutex::new((0, 0, 0)),
        }
    }

    fn send(&self, done: u64, total: u64) {
        let _ = self
            .tx
            .send(json!({ "progress": { "done": done, "total": total } }));
    }
}

impl Observer for Progress {
    fn start(&self, total: u64) {
        let mut state = self.state.lock().expect("no panic while reporting");
        *state = (total, 0, 0);
        self.send(0, total);
    }

    fn advance(&self, n: u64) {
        let mut state = self.state.lock().expect("no panic while reporting");
        let (total, done, sent) = &mut *state;
        *done += n;
        let percent = *done * 100 / (*total).max(1);
        if percent > *sent {
            *sent = percent;
            self.send(*done, *total);
        }
    }
}

/// What ended a piece of work, as the API answers it: its result, its error, a panic (500,
/// with the panic's message), or, when `expired` (its `timeout` passed), the timeout.
fn ended<T>(
    joined: Result<Result<T, Error>, JoinError>,
    expired: &AtomicBool,
    timeout: Duration,
) -> Answer<T> {
    match joined {
        Err(e) => Err(internal(format!("the work failed inside the server: {e}"))),
        Ok(Err(Error::Interrupted)) if expired.load(Ordering::SeqCst) => Err(timed_out(timeout)),
        Ok(result) => result.map_err(ApiError::from),
    }
}

/// Cancels its token when dropped (the run stops if its request is abandoned), and the timer
/// that cancels it at `--timeout`.
struct StopOnDrop {
    token: Token,
    timer: tokio::task::JoinHandle<()>,
    /// Set when the timer cancelled the work.
    expired: Arc<AtomicBool>,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.token.cancel();
        self.timer.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::Options;

    fn app() -> App {
        App {
            options: Options {
                host: std::net::Ipv4Addr::LOCALHOST.into(),
                port: 0,
                open: false,
                max_iterations: 1000,
                max_runs: 1,
                queue_wait: Duration::from_secs(1),
                max_work: 1000,
                timeout: Duration::from_secs(60),
                threads: Some(1),
                page_dir: None,
            },
            runs: Arc::new(Semaphore::new(1)),
            checks: Arc::new(Semaphore::new(1)),
        }
    }

    async fn lines(response: Response) -> Vec<Value> {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn a_run_that_panics_ends_its_stream_with_an_error_line_and_frees_its_permit() {
        let app = app();
        let response = app
            .answer(true, |_, obs| {
                obs.start(10);
                obs.advance(5);
                panic!("a bug in the work");
            })
            .await
            .unwrap();
        let lines = lines(response).await;
        assert_eq!(lines[0]["progress"], json!({ "done": 0, "total": 10 }));
        let last = lines.last().unwrap();
        assert_eq!(last["status"], 500, "{lines:?}");
        let error = last["error"].as_str().unwrap();
        assert!(
            error.starts_with("the work failed inside the server: ")
                && error.contains("a bug in the work"),
            "{error}"
        );
        assert_eq!(app.runs.available_permits(), 1);
        // Answered at once, the same.
        let e = app
            .simulate(|_, _| -> Result<(), Error> { panic!("a bug in the work") })
            .await
            .unwrap_err();
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(app.runs.available_permits(), 1);
        let e = app
            .check(|| -> Result<(), Error> { panic!("a bug in the check") })
            .await
            .unwrap_err();
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(app.checks.available_permits(), 1);
    }

    #[tokio::test]
    async fn the_budget_is_iterations_by_months_by_runs_and_names_its_limit() {
        let app = app();
        assert!(app.budget("s.toml", 10, 50, (2, "2 scenarios")).is_ok());
        let e = app.budget("s.toml", 10, 50, (3, "3 options")).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.problems[0]["field"], "iterations");
        assert_eq!(
            e.problems[0]["message"],
            "this request asks for 1,500 iteration-months of simulation (10 iterations × 50 months × 3 options), more than this server does for one request (at most 1,000; `serve --max-work` sets it): ask for fewer iterations, months or runs"
        );
        // No overflow at the largest values.
        assert!(app
            .budget("s.toml", u64::MAX, u64::MAX, (u64::MAX, "many"))
            .is_err());
    }
}
