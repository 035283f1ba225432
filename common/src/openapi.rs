//! What every service's part of the OpenAPI document shares: the error
//! shape, the session cookie as the security scheme, and the answers any
//! operation can give whatever its handler does (the layers' 500, 503 and
//! 413, the extractors' 400 and 401, a suspended account's 403).
//!
//! A handler documents the answers that are its own; [`complete`] adds the
//! shared ones it did not name, so that no operation forgets one.

use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};
use utoipa::{PartialSchema, ToSchema};

use crate::error::{ErrorBody, ErrorItem};

/// The security scheme's name: the `session` cookie the auth service sets.
pub const SESSION: &str = "session";

/// An answer in the error shape.
pub fn error(description: &str) -> Response {
    let mut response = Response::new(description);
    response.content.insert(
        "application/json".into(),
        Content::new(Some(Ref::from_schema_name(ErrorBody::name()))),
    );
    response
}

/// Adds the session cookie scheme, the error shape's schemas, and to every
/// operation the shared answers its handler did not document.
pub fn complete(mut api: OpenApi) -> OpenApi {
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SESSION,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            SESSION,
            "The session cookie that sign-up and sign-in set (HttpOnly, SameSite=Lax).",
        ))),
    );
    for (name, schema) in [
        (ErrorBody::name(), ErrorBody::schema()),
        (ErrorItem::name(), ErrorItem::schema()),
    ] {
        components.schemas.insert(name.into_owned(), schema);
    }
    for item in api.paths.paths.values_mut() {
        for (method, operation) in operations(item) {
            add_shared_answers(method, operation);
        }
    }
    api
}

fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|op| (method, op)))
}

/// The answers `operation` can give whatever its handler does.
fn add_shared_answers(method: HttpMethod, operation: &mut Operation) {
    let signed_in = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let has_input = operation.request_body.is_some()
        || operation
            .parameters
            .as_ref()
            .is_some_and(|parameters| !parameters.is_empty());
    let changes = !matches!(method, HttpMethod::Get);
    let mut shared: Vec<(&str, &str)> = Vec::new();
    if has_input {
        shared.push(("400", "Invalid input, named by `field`"));
    }
    if signed_in {
        shared.push(("401", "Not signed in, or the session was ended"));
    }
    if signed_in || changes {
        shared.push((
            "403",
            "The account is suspended, or the request came from another site",
        ));
    }
    if operation.request_body.is_some() {
        shared.push(("413", "The body is larger than the limit"));
    }
    shared.push((
        "500",
        "Something unexpected went wrong (the cause is logged)",
    ));
    shared.push((
        "503",
        "A dependency is unavailable or the request passed its deadline; `Retry-After` says when to ask again",
    ));
    for (status, description) in shared {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(error(description)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{OperationBuilder, PathItem};
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{OpenApiBuilder, PathsBuilder};

    fn statuses(api: &OpenApi, path: &str, method: HttpMethod) -> Vec<String> {
        let item = &api.paths.paths[path];
        let operation = match method {
            HttpMethod::Get => item.get.as_ref(),
            HttpMethod::Delete => item.delete.as_ref(),
            _ => None,
        };
        operation
            .unwrap()
            .responses
            .responses
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn a_public_read_gains_only_the_layers_answers() {
        // Given a GET without input or session, documenting its 200
        let get = OperationBuilder::new().response("200", Response::new("the list"));
        let paths = PathsBuilder::new().path("/api/things", PathItem::new(HttpMethod::Get, get));
        // When the document is completed
        let api = complete(OpenApiBuilder::new().paths(paths).build());
        // Then it answers 200, 500 and 503, and the cookie scheme exists
        assert_eq!(
            statuses(&api, "/api/things", HttpMethod::Get),
            ["200", "500", "503"]
        );
        let components = api.components.unwrap();
        assert!(components.security_schemes.contains_key(SESSION));
        assert!(components.schemas.contains_key("ErrorBody"));
    }

    #[test]
    fn a_signed_in_change_gains_401_and_403_but_keeps_its_own_404() {
        // Given a DELETE that needs the session and documents its 404
        let delete = OperationBuilder::new()
            .response("204", Response::new("gone"))
            .response("404", error("Unknown, or someone else's"))
            .security(SecurityRequirement::new(SESSION, Vec::<String>::new()));
        let paths = PathsBuilder::new().path(
            "/api/things/{id}",
            PathItem::new(HttpMethod::Delete, delete),
        );
        // When the document is completed
        let api = complete(OpenApiBuilder::new().paths(paths).build());
        // Then the shared answers are added beside its own
        assert_eq!(
            statuses(&api, "/api/things/{id}", HttpMethod::Delete),
            ["204", "401", "403", "404", "500", "503"]
        );
    }
}
