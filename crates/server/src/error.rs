//! One error type for the whole API: every failure is answered with the same JSON shape,
//! `{"error": {"code", "message", "field"?, ...details}}`, and internal errors are logged, never
//! shown.

use crate::db;
use axum::{
    Json as AxumJson,
    extract::{
        FromRequest, FromRequestParts, RawPathParams, Request, path::ErrorKind,
        rejection::PathRejection,
    },
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), field: None, details: None }
    }

    /// Bad input, naming the field at fault.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.into()),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
        }
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "log in first")
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// Something that does not exist, or that the caller may not see (the same answer, so that
    /// ids of other companies cannot be probed).
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    /// An internal failure: logged with its cause, answered without it.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl From<db::Error> for ApiError {
    fn from(e: db::Error) -> Self {
        if e.is_unique_violation() {
            return ApiError::conflict("already_exists", "this already exists");
        }
        if e.is_foreign_key_violation() {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_reference",
                "this refers to something that does not exist",
            );
        }
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = serde_json::Map::new();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.message));
        if let Some(field) = self.field {
            error.insert("field".into(), json!(field));
        }
        if let Some(Value::Object(details)) = self.details {
            error.extend(details);
        }
        (self.status, AxumJson(json!({ "error": error }))).into_response()
    }
}

/// A JSON body, read strictly: a body that is not JSON, or does not fit, is answered in the
/// API's error format with the path of the field at fault.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(
                |v| v.split(';').next().is_some_and(|m| m.trim() == "application/json"),
            );
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not_json",
                "send the body as application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.to_string())
        })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
            if inner.is_syntax() || inner.is_eof() {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_json",
                    format!("the body is not valid JSON: {message}"),
                )
            } else {
                ApiError::invalid(field_at(&path, &message), message)
            }
        })?;
        Ok(Json(value))
    }
}

/// The query string, read strictly: a parameter that does not fit (`?limit=abc`) is answered
/// in the API's error format, naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(pairs).map(Query).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            ApiError::invalid(field_at(&path, &message), message)
        })
    }
}

/// The parameters of the path (`/api/workflows/{id}/versions/{version}`): one that does not
/// fit (`versions/x`) is answered in the API's error format, naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let kind = match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => return Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => e.into_kind(),
            Err(other) => return Err(ApiError::internal(other.body_text())),
        };
        let names: Vec<String> = match RawPathParams::from_request_parts(parts, state).await {
            Ok(params) => params.iter().map(|(name, _)| name.to_owned()).collect(),
            Err(_) => Vec::new(),
        };
        let name = |index: usize| names.get(index).cloned().unwrap_or_else(|| "path".to_owned());
        let not_a = |value: &str, expected: &str| {
            let bits = expected.strip_prefix(['i', 'u']).unwrap_or_default();
            let integer = bits == "size" || bits.parse::<u8>().is_ok();
            let expected = if integer { "a whole number" } else { expected };
            format!("\"{value}\" is not {expected}")
        };
        Err(match kind {
            ErrorKind::ParseErrorAtKey { key, value, expected_type } => {
                ApiError::invalid(key, not_a(&value, expected_type))
            }
            ErrorKind::ParseErrorAtIndex { index, value, expected_type } => {
                ApiError::invalid(name(index), not_a(&value, expected_type))
            }
            ErrorKind::ParseError { value, expected_type } => {
                ApiError::invalid(name(0), not_a(&value, expected_type))
            }
            ErrorKind::InvalidUtf8InPathParam { key } => {
                ApiError::invalid(key, "not valid UTF-8 once decoded")
            }
            other => ApiError::internal(other),
        })
    }
}

/// The field a deserialization error is about: its path, and for a missing field (which serde
/// reports at the path of the object that lacks it) the field's own name under that path.
pub fn field_at(path: &str, message: &str) -> String {
    let parent = if path == "." { "" } else { path };
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .filter(|name| !name.is_empty());
    match (missing, parent) {
        (Some(name), "") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, parent) => parent.to_owned(),
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        AxumJson(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::field_at;

    #[test]
    fn a_missing_field_is_named_under_its_object() {
        assert_eq!(field_at(".", "missing field `to_version`"), "to_version");
        assert_eq!(field_at("claimed", "missing field `total`"), "claimed.total");
        assert_eq!(field_at("claimed.total", "invalid type: integer"), "claimed.total");
        assert_eq!(field_at(".", "invalid type: integer"), "");
    }
}
