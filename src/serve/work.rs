//! Simulations run for requests: a run's permit (at most `--max-runs` at once, others wait up
//! to `--queue-wait`, then 503 with `Retry-After`), the work on a blocking thread with a
//! cancellation token that its worker threads see and that is cancelled when the request is
//! dropped (the client went away), and its progress sent as it goes.

use std::sync::Mutex;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::OwnedSemaphorePermit;

use super::answer::{internal, Answer, ApiError};
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
        let permit = self.permit().await?;
        let (stop, task) = self.spawn(permit, work, Box::new(Silent));
        let result = task.await.map_err(internal)?.map_err(ApiError::from);
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
        let permit = self.permit().await?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
        let last = tx.clone();
        let (stop, task) = self.spawn(
            permit,
            move |sim, obs| {
                let line = match work(sim, obs) {
                    Ok(result) => json!({ "result": result }),
                    Err(e) => ApiError::from(e).line(),
                };
                let _ = last.send(line);
                Ok(())
            },
            Box::new(Progress::new(tx)),
        );
        drop(task);
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

    /// A run's permit: at once if one is free, else within `--queue-wait`, else 503.
    async fn permit(&self) -> Answer<OwnedSemaphorePermit> {
        let wait = self.options.queue_wait;
        match tokio::time::timeout(wait, self.runs.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                let mut busy = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the server is busy: {} runs at once, and none finished within {} s",
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
    /// telling `observer` how it goes; the guard returned stops the work when dropped.
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
        let stop = StopOnDrop(token.clone());
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

/// Cancels its token when dropped: the run stops if its request is abandoned.
struct StopOnDrop(Token);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}
