//! The API contract: `/api/openapi.json` as the repository holds it, and
//! `/docs/api`, the reference page rendered here from that document (no
//! script, no asset from outside the platform).

use std::sync::LazyLock;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use serde_json::Value;

use super::{AppState, Browser, PageResult};
use crate::api::Api;
use crate::views::page;

/// The document `cargo run -p ops -- openapi` writes, built into the client.
const DOCUMENT: &str = include_str!("../../../openapi.json");

static PARSED: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(DOCUMENT).expect("openapi.json is JSON"));

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(document))
        .route("/docs/api", get(reference))
}

async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

#[tracing::instrument(skip_all)]
async fn reference(State(api): State<Api>, browser: Browser) -> PageResult {
    let user = api.current_user(browser.session()).await?;
    Ok(page("API reference", user.as_ref(), render(&PARSED)).into_response())
}

const METHODS: [&str; 4] = ["get", "post", "put", "delete"];

/// The reference: the operations of each tag, in the document's order.
fn render(doc: &Value) -> Markup {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
    let operations: Vec<(&str, &str, &Value)> = doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            METHODS
                .into_iter()
                .filter_map(move |method| item.get(method).map(|op| (method, path.as_str(), op)))
        })
        .collect();
    html! {
        p { (prose(&text(&doc["info"]["description"]))) }
        p { "The machine-readable document: " a href="/api/openapi.json" { code { "/api/openapi.json" } } " (OpenAPI " (text(&doc["openapi"])) ")." }
        @for tag in doc["tags"].as_array().into_iter().flatten() {
            h2 { (text(&tag["description"])) }
            @for (method, path, op) in operations.iter().filter(|(_, _, op)| op["tags"][0] == tag["name"]) {
                section.card id=(text(&op["operationId"])) {
                    h3 { code { (method.to_uppercase()) " " (path) } }
                    p { (prose(&text(&op["summary"]))) }
                    @if op.get("security").is_some() { p { "Needs the " code { "session" } " cookie." } }
                    (parameters(op))
                    @if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                        p { "Body: " (schema_name(schema)) }
                    }
                    (answers(op))
                }
            }
        }
    }
}

/// Text whose `backticked` parts are code.
fn prose(text: &str) -> Markup {
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

fn parameters(op: &Value) -> Markup {
    html! {
        @if let Some(list) = op["parameters"].as_array().filter(|list| !list.is_empty()) {
            dl {
                @for parameter in list {
                    dt { code { (parameter["name"].as_str().unwrap_or_default()) } " (" (parameter["in"].as_str().unwrap_or_default()) ")" }
                    dd { (prose(parameter["description"].as_str().unwrap_or_default())) }
                }
            }
        }
    }
}

fn answers(op: &Value) -> Markup {
    html! {
        table {
            thead { tr { th { "Status" } th { "Meaning" } th { "Body" } } }
            tbody {
                @for (status, answer) in op["responses"].as_object().into_iter().flatten() {
                    tr {
                        td { (status) }
                        td { (prose(answer["description"].as_str().unwrap_or_default())) }
                        td { (answer.pointer("/content/application~1json/schema").map(schema_name).unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

/// A schema as a name: `Ticket`, `array of Ticket`, `object`.
fn schema_name(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference
            .rsplit('/')
            .next()
            .unwrap_or(reference)
            .to_string();
    }
    match schema["type"].as_str() {
        Some("array") => format!("array of {}", schema_name(&schema["items"])),
        Some(kind) => kind.to_string(),
        None => "JSON".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_shows_every_operation_of_the_document_with_its_answers() {
        // Given the document the client is built with
        let doc: &Value = &PARSED;
        // When the reference is rendered
        let html = render(doc).into_string();
        // Then each operation has its section, and its answers' bodies are named
        for (_, item) in doc["paths"].as_object().unwrap() {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let id = op["operationId"].as_str().unwrap();
                    assert!(html.contains(&format!("id=\"{id}\"")), "{id} is missing");
                }
            }
        }
        assert!(html.contains("<h3><code>POST /api/orders</code></h3>"));
        assert!(html.contains("<h2>Holding a ticket (orders)</h2>"));
        assert!(html.contains("ErrorBody"));
    }
}
