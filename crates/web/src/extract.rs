//! JSON, query and path extractors whose rejections are our JSON errors with stable codes,
//! instead of axum's plain-text defaults.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body. Unknown fields are refused by the DTOs (`deny_unknown_fields`).
pub struct ApiJson<T>(pub T);

/// Pulls the field name out of serde's messages ("unknown field `x`", "missing field `y`").
fn field_of(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let end = msg[start..].find('`')? + start;
    Some(msg[start..end].to_string())
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(match rej {
                JsonRejection::JsonDataError(e) => {
                    let msg = e.body_text();
                    let detail = msg.split(": ").skip(1).collect::<Vec<_>>().join(": ");
                    let mut err = ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid",
                        if detail.is_empty() { msg.clone() } else { detail.clone() },
                    );
                    // "name: invalid type ..." names the path; "unknown field `x`" names it in quotes.
                    let path = detail.split_once(": ").map(|(p, _)| p).filter(|p| !p.contains(' ') && *p != ".");
                    if let Some(f) = path.map(str::to_string).or_else(|| field_of(&detail)) {
                        err = err.with_field(f);
                    }
                    err
                }
                JsonRejection::JsonSyntaxError(e) => ApiError::new(StatusCode::BAD_REQUEST, "bad_json", e.body_text()),
                JsonRejection::MissingJsonContentType(_) => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send JSON with 'Content-Type: application/json'",
                ),
                JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "request body is larger than 1 MiB")
                }
                other => ApiError::new(other.status(), "bad_request", other.body_text()),
            }),
        }
    }
}

/// Query-string parameters.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let msg = e.body_text();
                let detail = msg.trim_start_matches("Failed to deserialize query string: ").to_string();
                let mut err = ApiError::new(StatusCode::BAD_REQUEST, "bad_query", detail.clone());
                if let Some(f) = detail.split(':').next().filter(|s| !s.contains(' ')) {
                    err = err.with_field(f.to_string());
                }
                Err(err)
            }
            Err(other) => Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_query", other.body_text())),
        }
    }
}

/// A numeric id in the path; anything else is `400 bad_id`.
pub struct ApiId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for ApiId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw): axum::extract::Path<String> =
            axum::extract::Path::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_id", e.body_text()))?;
        raw.parse::<i64>().ok().filter(|id| *id > 0).map(ApiId).ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_id", format!("'{raw}' is not a valid id")).with_field("id")
        })
    }
}
