//! JSON errors: every 4xx/5xx answer is `{"error": {"status", "code", "field", "message"}}`.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    /// machine-readable kind: invalid_parameter, not_found, payload_too_large, unauthorized …
    pub code: &'static str,
    /// the request field at fault, when there is one
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl ApiError {
    pub fn bad(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_parameter",
            field: Some(field.into()),
            message: message.into(),
        }
    }
    pub fn missing(field: &str) -> Self {
        Self::bad(field, format!("required parameter '{field}' is missing"))
    }
    pub fn not_found(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            field: Some(field.into()),
            message: message.into(),
        }
    }
    pub fn too_large(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            field: Some(field.into()),
            message: message.into(),
        }
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            field: Some("Authorization".into()),
            message: message.into(),
        }
    }
    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::CONFLICT,
            code: "conflict",
            field: Some(field.into()),
            message: message.into(),
        }
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            field: None,
            message: message.into(),
        }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            field: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(x) => write!(f, "{}: {}", x, self.message),
            None => f.write_str(&self.message),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: ErrBody<'a>,
}
#[derive(Serialize)]
struct ErrBody<'a> {
    status: u16,
    #[serde(flatten)]
    e: &'a ApiError,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(Body {
            error: ErrBody {
                status: self.status.as_u16(),
                e: self,
            },
        })
    }
}

/// Turns actix's JSON body errors into [`ApiError`]s (413 for oversized bodies).
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let e = match &err {
        J::OverflowKnownLength { length, limit } => ApiError::too_large(
            "body",
            format!("request body of {length} bytes exceeds the limit of {limit} bytes"),
        ),
        J::Overflow { limit } => ApiError::too_large(
            "body",
            format!("request body exceeds the limit of {limit} bytes"),
        ),
        J::ContentType => ApiError::bad("Content-Type", "expected Content-Type: application/json"),
        J::Deserialize(de) => {
            let msg = de.to_string();
            // serde messages name the field as "unknown field `x`" / "missing field `x`"
            let field = msg
                .split('`')
                .nth(1)
                .filter(|_| msg.contains("field"))
                .unwrap_or("body")
                .to_string();
            ApiError::bad(field, format!("malformed JSON: {msg}"))
        }
        other => ApiError::bad("body", format!("cannot read JSON body: {other}")),
    };
    e.into()
}

/// Query-string errors from typed extractors.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::bad("query", format!("bad query string: {err}")).into()
}

/// Path errors from typed extractors.
pub fn path_error(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::bad("path", format!("bad path parameter: {err}")).into()
}
