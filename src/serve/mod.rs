//! `serve`: the scenario explorer, a local web app. The binary serves one page (HTML, CSS and
//! JavaScript built into it; no CDN, no request beyond this server) and the JSON API the page
//! is a client of, which scripts can use too (README, "The explorer").
//!
//! Safe by default: it listens on 127.0.0.1 (another address only when asked, with a
//! warning) and answers only requests for that host from its own page (a check against DNS
//! rebinding and cross-site requests); a posted scenario may name only the tables built into
//! the tool, never a file on this machine; bodies are limited to [`BODY_LIMIT`] bytes,
//! iterations to `--max-iterations` and the simulation a request asks for to `--max-work`
//! iteration-months (refused at once, 400, naming the limit); at most `--max-runs`
//! simulations run at once, and as many scenario checks (`validate`, `edit`) beside them,
//! others wait up to `--queue-wait` and then get 503 with `Retry-After`; a request ends
//! within `--timeout` (a simulation still running is stopped and answered 503, or its stream
//! ends with an error line, as it does when the run fails in any way); a run whose client
//! goes away is stopped. `mod.rs` holds the options, the router and its guard; `api.rs` the
//! handlers; `answer.rs` what a request that fails is answered; `work.rs` the simulations run
//! for requests (permits, cancellation, progress); `edit.rs` the scenario edited in place;
//! `describe.rs` the scenario as JSON.

mod answer;
mod api;
mod describe;
mod edit;
mod work;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{BoxError, Router};
use tokio::sync::Semaphore;

use crate::error::{Error, Problem, Result};

/// The largest request body, in bytes (a scenario is a few tens of kilobytes).
pub const BODY_LIMIT: usize = 1 << 20;
/// Iterations a request may ask for when `--max-iterations` is not given.
pub const DEFAULT_MAX_ITERATIONS: u64 = 200_000;
/// Simulations at once when `--max-runs` is not given.
pub const DEFAULT_MAX_RUNS: usize = 2;
/// How long a request waits for a free run before it is answered 503, when
/// `--queue-wait` is not given.
pub const DEFAULT_QUEUE_WAIT: Duration = Duration::from_secs(30);
/// The simulation a request may ask for when `--max-work` is not given, in iteration-months
/// (iterations × simulated months, summed over the request's runs): every shipped request at
/// the iteration cap fits (the cost of delay of a twelve-month scenario at 200,000 iterations
/// is 28.8 million), and it is about ten seconds of work on two cores at ICB level (a
/// 600-month cost of delay at 2,000 iterations, 720 million, took 74 s).
pub const DEFAULT_MAX_WORK: u64 = 100_000_000;
/// How long a request may take when `--timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How `serve` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The address to listen on: loopback unless the user asks otherwise.
    pub host: IpAddr,
    /// 0: any free port (the URL printed says which).
    pub port: u16,
    /// Open the page in the default browser once listening.
    pub open: bool,
    pub max_iterations: u64,
    pub max_runs: usize,
    /// How long a request waits for a free run before it is answered 503.
    pub queue_wait: Duration,
    /// The most iteration-months one request may ask for.
    pub max_work: u64,
    /// How long a request may take, waiting included.
    pub timeout: Duration,
    /// Worker threads of each run (`None`: one per core).
    pub threads: Option<usize>,
    /// Serve the page's files from this folder, read at each request, instead of the copies
    /// built into the binary (for working on the page).
    pub page_dir: Option<PathBuf>,
}

/// What every handler shares.
struct App {
    options: Options,
    /// One permit per simulation that may run at once.
    runs: Arc<Semaphore>,
    /// One permit per scenario check (`validate`, `edit`) that may run at once, beside them.
    checks: Arc<Semaphore>,
}

/// Listens and serves until Ctrl-C. `say` receives the line with the address, `warn` the
/// warning for an address other than loopback.
pub fn serve(options: Options, say: &dyn Fn(&str), warn: &dyn Fn(&str)) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Output(format!("cannot start the server: {e}")))?;
    runtime.block_on(async {
        let address = SocketAddr::new(options.host, options.port);
        let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
            Error::input(
                "--port",
                Problem::new(None, "port", format!("cannot listen on {address}: {e}")),
            )
        })?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::Output(format!("cannot read the server's address: {e}")))?;
        let url = format!("http://{local}/");
        if !options.host.is_loopback() {
            warn(&format!(
                "listening on {} makes the explorer (and its CPU) available to every machine that can reach this one; it has no login",
                options.host
            ));
        }
        say(&format!("Explorer at {url} (Ctrl-C to stop)"));
        if options.open {
            open_browser(&url);
        }
        let app = Arc::new(App {
            runs: Arc::new(Semaphore::new(options.max_runs.max(1))),
            checks: Arc::new(Semaphore::new(options.max_runs.max(1))),
            options,
        });
        axum::serve(listener, router(app))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| Error::Output(format!("the server stopped: {e}")))
    })
}

fn router(app: Arc<App>) -> Router {
    let timeout = app.options.timeout;
    Router::new()
        .route("/", get(api::page_html))
        .route("/app.js", get(api::page_js))
        .route("/format.js", get(api::page_format_js))
        .route("/style.css", get(api::page_css))
        .route("/api/scenarios", get(api::scenarios))
        .route("/api/scenarios/{id}", get(api::scenario))
        .route("/api/icbs", get(api::icbs))
        .route("/api/limits", get(api::limits))
        .route("/api/families", get(api::families))
        .route("/api/validate", post(api::validate))
        .route("/api/edit", post(api::edit))
        .route("/api/run", post(api::run))
        .route("/api/compare", post(api::compare))
        .route("/api/settlement", post(api::settlement))
        .route("/api/decide", post(api::decide))
        .route("/api/nowcast", post(api::nowcast))
        .route("/api/report", post(api::report))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(
            tower::ServiceBuilder::new()
                .layer(HandleErrorLayer::new(move |_: BoxError| async move {
                    answer::timed_out(timeout)
                }))
                .timeout(timeout),
        )
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Refuses a request for another host while listening on loopback (DNS rebinding) and one
/// sent by another site's page (its `Origin` is not this server), and sets the headers every
/// response carries: no script, style or connection but this server's, no caching.
async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let local_name = host
        .rsplit_once(':')
        .map_or(host.as_str(), |(name, _)| name)
        .trim_matches(['[', ']']);
    let host_ok =
        !app.options.host.is_loopback() || ["127.0.0.1", "localhost", "::1"].contains(&local_name);
    let origin_ok = request
        .headers()
        .get(header::ORIGIN)
        .is_none_or(|o| o.to_str().ok() == Some(format!("http://{host}").as_str()));
    let mut response = match (host_ok, origin_ok) {
        (false, _) => answer::ApiError::new(
            StatusCode::FORBIDDEN,
            format!("this server answers only requests for 127.0.0.1 or localhost, not '{host}'"),
        )
        .into_response(),
        (_, false) => answer::ApiError::new(
            StatusCode::FORBIDDEN,
            "requests from another site's page are refused",
        )
        .into_response(),
        _ => next.run(request).await,
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Opens `url` in the desktop's browser (xdg-open, `open` on macOS, the shell on Windows, by
/// the `open` crate), without waiting for it; where there is none, the printed address is
/// enough.
fn open_browser(url: &str) {
    let _ = open::that_detached(url);
}
