//! What the API answers when it does not succeed: a status and JSON `{ error, problems }`,
//! with the CLI's own words for every problem of the input.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::describe;
use crate::error::{Error, FileProblems, Problem};

/// An answer that is not a success: a status and JSON `{ error, problems }`.
#[derive(Debug)]
pub struct ApiError {
    pub(super) status: StatusCode,
    pub(super) error: String,
    pub(super) problems: Vec<Value>,
    /// Seconds a busy server asks the client to wait (`Retry-After`).
    pub(super) retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            problems: Vec::new(),
            retry_after: None,
        }
    }

    /// A bad request about one field of `file`.
    pub(super) fn field(file: &str, field: &str, message: impl Into<String>) -> ApiError {
        ApiError::from(Error::Input(vec![FileProblems {
            file: file.to_string(),
            problems: vec![Problem::new(None, field, message)],
        }]))
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let status = match &e {
            Error::Input(_) => StatusCode::BAD_REQUEST,
            // The client went away: nobody reads this.
            Error::Interrupted => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            error: e.to_string(),
            problems: match &e {
                Error::Input(files) => describe::problems(files),
                _ => Vec::new(),
            },
            retry_after: None,
        }
    }
}

/// The problems of one input file: 400, as every input problem.
impl From<FileProblems> for ApiError {
    fn from(problems: FileProblems) -> ApiError {
        ApiError::from(Error::from(problems))
    }
}

impl ApiError {
    /// The error as the last line of an answer sent as it goes.
    pub(super) fn line(&self) -> Value {
        json!({ "error": self.error, "problems": self.problems, "status": self.status.as_u16() })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.error, "problems": self.problems }));
        match self.retry_after {
            Some(s) => (self.status, [(header::RETRY_AFTER, s.to_string())], body).into_response(),
            None => (self.status, body).into_response(),
        }
    }
}

pub(super) type Answer<T> = std::result::Result<T, ApiError>;

/// A request that ran past `--timeout` (`timeout`): 503, naming the limit.
pub(super) fn timed_out(timeout: std::time::Duration) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "the request took longer than this server allows ({} s, `serve --timeout` sets it) and was stopped: ask for fewer iterations or months",
            timeout.as_secs_f64()
        ),
    );
    e.retry_after = Some(5);
    e
}

/// A failure of the server itself (a task that panicked).
pub(super) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}
