//! One table of stable error codes, rendered as JSON for the API and as a page for the UI.
//! Internal errors are logged with detail and shown generically.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use app::AppError;

/// The JSON error body: `{ "code", "message", "field"? }`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid`, `not_found`, `bad_json`.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error from an API handler.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, body: ErrorBody { code: code.into(), message: message.into(), field: None } }
    }
    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.body.field = Some(field.into());
        self
    }
}

pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
        AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict(_) | AppError::Refused(_) => StatusCode::CONFLICT,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = status_of(&e);
        if let AppError::Internal(detail) = &e {
            tracing::error!(error = %detail, "internal error");
            return ApiError::new(status, "internal", "internal error; it has been logged");
        }
        let field = match &e {
            AppError::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        let message = match &e {
            AppError::Invalid { message, .. } => message.clone(),
            e => e.to_string(),
        };
        ApiError { status, body: ErrorBody { code: e.code().into(), message, field } }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}
