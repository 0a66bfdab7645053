//! Application errors. User errors carry a stable code (used by the web layer's JSON and by the
//! CLI's exit messages); internal errors are logged and shown generically.

use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid e-mail or password")]
    BadCredentials,
    #[error("you do not have permission for this")]
    Forbidden,
    #[error("the form expired or did not come from salesops; reload the page and try again")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many attempts; try again in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: i64 },
    #[error("{0}")]
    Refused(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid { field: field.into(), message: message.into() }
    }

    /// The stable, documented error code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::BadCredentials => "bad_credentials",
            AppError::Forbidden => "forbidden",
            AppError::Csrf => "csrf",
            AppError::NotFound => "not_found",
            AppError::Invalid { .. } => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Refused(_) => "refused",
            AppError::Internal(_) => "internal",
        }
    }
}

impl From<model::ValueError> for AppError {
    fn from(e: model::ValueError) -> Self {
        AppError::Invalid { field: e.field.to_string(), message: e.reason }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::InvalidReference(m) => AppError::invalid("reference", m),
            StoreError::Refused(m) => AppError::Refused(m),
            other => AppError::Internal(other.to_string()),
        }
    }
}
