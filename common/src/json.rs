//! `AppJson`: the JSON body extractor and response whose rejections come out
//! in the platform's error shape (400, naming the field), never axum's 422 or
//! plain text.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorItem};

/// JSON in, JSON out.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_body(req, state).await?;
        parse(&bytes).map(AppJson)
    }
}

/// As [`AppJson`], with the body's bytes kept beside it, for the fields
/// that must be read as written (see [`raw_field`]).
#[derive(Debug, Clone)]
pub struct AppJsonWithRaw<T>(pub T, pub Bytes);

impl<T, S> FromRequest<S> for AppJsonWithRaw<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_body(req, state).await?;
        parse(&bytes).map(|value| AppJsonWithRaw(value, bytes))
    }
}

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The body of a request that says it is JSON.
async fn json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    if !has_json_content_type(&req) {
        return Err(ApiError::bad_request(
            "Expected a JSON body (Content-Type: application/json)",
        ));
    }
    Bytes::from_request(req, state)
        .await
        .map_err(body_rejection)
}

fn has_json_content_type(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::bad_request("Could not read the request body")
    }
}

/// The text of one top-level field of a JSON object, exactly as the client
/// wrote it (`12.50`, `1.25e1`): for values a parse into a machine number
/// would round, such as money.
pub fn raw_field(bytes: &[u8], name: &str) -> Option<String> {
    let fields: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_slice(bytes).ok()?;
    fields.get(name).map(|raw| raw.get().to_string())
}

/// Parses a JSON document, naming the offending field when the document is
/// well-formed but does not fit `T`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde would read a struct from an array too (`[1]`): every body here
    // is an object, and a message about `[0]` would puzzle a client.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let valid = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        return Err(ApiError::bad_request(if valid {
            "Body must be a JSON object"
        } else {
            "Body is not valid JSON"
        }));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(describe)?;
    deserializer
        .end()
        .map_err(|_| ApiError::bad_request("Body is not valid JSON"))?;
    Ok(value)
}

fn describe(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::bad_request("Body is not valid JSON");
    }
    let message = strip_location(&inner.to_string());
    // serde reports a missing field at the parent's path; name the field itself.
    if let Some(name) = missing_field(&message) {
        let field = if path == "." {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        return ApiError::BadRequest(vec![ErrorItem::field(
            &field,
            format!("{field} is required"),
        )]);
    }
    if path == "." {
        ApiError::bad_request("Body must be a JSON object")
    } else {
        ApiError::BadRequest(vec![ErrorItem::field(&path, in_our_words(&path, &message))])
    }
}

/// serde's message about a field (`invalid type: integer `5`, expected a
/// string`, `expected struct Ticket`) in the platform's words: Rust's type
/// names mean nothing to a client.
fn in_our_words(field: &str, message: &str) -> String {
    let expected = message
        .rsplit_once("expected ")
        .map(|(_, what)| what.trim());
    let kind = match expected {
        Some("a string" | "a borrowed string") => "a string",
        Some("a boolean") => "true or false",
        Some(what) if what.starts_with(['f', 'i', 'u']) && what[1..].parse::<u8>().is_ok() => {
            "a number"
        }
        Some(what) if what.starts_with("struct") || what == "a map" => "an object",
        Some(what) if what.starts_with("a sequence") => "an array",
        _ => return format!("{field} is not valid"),
    };
    format!("{field} must be {kind}")
}

/// serde_json appends " at line L column C"; that is noise to an API client.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Credentials {
        email: String,
        age: u32,
    }

    fn errors(bytes: &[u8]) -> Vec<ErrorItem> {
        match parse::<Credentials>(bytes) {
            Err(ApiError::BadRequest(items)) => items,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn malformed_json_is_reported_without_a_field() {
        assert_eq!(
            errors(b"{\"email\":"),
            vec![ErrorItem::new("Body is not valid JSON")]
        );
        let trailing = br#"{"email":"a@b.co","age":1} trailing"#;
        assert_eq!(
            errors(trailing),
            vec![ErrorItem::new("Body is not valid JSON")]
        );
    }

    #[test]
    fn a_missing_field_is_named() {
        let items = errors(br#"{"email":"a@b.co"}"#);
        assert_eq!(items, vec![ErrorItem::field("age", "age is required")]);
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named() {
        let items = errors(br#"{"email":5,"age":1}"#);
        assert_eq!(
            items,
            vec![ErrorItem::field("email", "email must be a string")]
        );
        let items = errors(br#"{"email":"a@b.co","age":"one"}"#);
        assert_eq!(items, vec![ErrorItem::field("age", "age must be a number")]);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_without_rust_type_names() {
        for body in [&br#"[1,2]"#[..], br#""text""#, b"5", b"null"] {
            assert_eq!(
                errors(body),
                vec![ErrorItem::new("Body must be a JSON object")],
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn unknown_fields_are_ignored() {
        assert!(parse::<Credentials>(br#"{"email":"a","age":1,"userId":"x"}"#).is_ok());
    }
}
