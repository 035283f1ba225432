//! `ops openapi`: the platform's OpenAPI 3.1 document, put together from
//! each service's own part (its handlers and types), completed with what
//! every operation shares, and the links from one answer to the next
//! request (list a ticket, show it, order it, pay it, cancel it).

use serde_json::{Value, json};
use utoipa::openapi::{InfoBuilder, OpenApi, Server, Tag};

/// Where the document lives in the repository, and what it is served as.
pub const FILE: &str = "openapi.json";

/// The whole document, as `openapi.json` holds it.
pub fn document() -> OpenApi {
    let mut api = auth::routes::openapi();
    for part in [
        tickets::routes::openapi(),
        orders::routes::openapi(),
        payments::routes::openapi(),
    ] {
        api.merge(part);
    }
    api.info = InfoBuilder::new()
        .title("Ticketing")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "A marketplace for tickets: sellers list them, buyers hold one for 15 minutes \
             and pay with Stripe. Every error is `{\"errors\":[{\"message\",\"field\"}]}`; \
             prices are decimal numbers with at most two decimals; lists are bare arrays \
             paged by the `Link` header.",
        ))
        .build();
    api.servers = Some(vec![Server::new("/")]);
    api.tags = Some(
        [
            ("users", "Accounts and sessions (auth)"),
            ("admin", "What admins do (auth)"),
            ("tickets", "The catalogue (tickets)"),
            ("orders", "Holding a ticket (orders)"),
            ("payments", "Paying an order (payments)"),
        ]
        .into_iter()
        .map(|(name, about)| {
            let mut tag = Tag::new(name);
            tag.description = Some(about.into());
            tag
        })
        .collect(),
    );
    common::openapi::complete(api)
}

/// The document as the committed file holds it: pretty, with a final
/// newline, and the links of a purchase.
pub fn render() -> String {
    let mut document = serde_json::to_value(document()).expect("an OpenAPI document serialises");
    link_the_purchase(&mut document);
    let mut text = serde_json::to_string_pretty(&document).expect("JSON serialises");
    text.push('\n');
    text
}

/// From each POST answer that makes something, the requests that use it.
/// (Written as JSON: utoipa 5 names a link's fields in snake case, where
/// OpenAPI has `operationId` and `requestBody`.)
fn link_the_purchase(document: &mut Value) {
    let by_id = |from: &str| json!({"parameters": {"id": format!("$response.body#/{from}")}});
    let links = [
        (
            "/api/tickets",
            json!({
                "showTicket": by_id("id"),
                "updateTicket": by_id("id"),
                "withdrawTicket": by_id("id"),
                "createOrder": {"requestBody": {"ticketId": "$response.body#/id"}},
            }),
        ),
        (
            "/api/orders",
            json!({
                "showOrder": by_id("id"),
                "cancelOrder": by_id("id"),
                "createPayment": {"requestBody": {"orderId": "$response.body#/id", "token": "pm_card_visa"}},
            }),
        ),
        (
            "/api/payments",
            json!({"showOrder": by_id("orderId"), "cancelOrder": by_id("orderId")}),
        ),
    ];
    for (path, links) in links {
        let pointer = format!("/paths/{}/post/responses/201", path.replace('/', "~1"));
        let Some(Value::Object(answer)) = document.pointer_mut(&pointer) else {
            panic!("POST {path} documents no 201 to link from");
        };
        let mut links = links;
        for (target, link) in links.as_object_mut().into_iter().flatten() {
            link["operationId"] = json!(target);
        }
        answer.insert("links".into(), links);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_document_is_what_the_code_generates() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(FILE);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == render(),
            "{FILE} is stale: run `cargo run -p ops -- openapi` and commit it"
        );
    }

    #[test]
    fn every_public_route_is_documented_with_the_error_shape() {
        let api = document();
        let routes: Vec<String> = api
            .paths
            .paths
            .iter()
            .flat_map(|(path, item)| {
                [
                    ("get", item.get.is_some()),
                    ("put", item.put.is_some()),
                    ("post", item.post.is_some()),
                    ("delete", item.delete.is_some()),
                ]
                .into_iter()
                .filter(|(_, present)| *present)
                .map(move |(method, _)| format!("{method} {path}"))
            })
            .collect();
        for route in [
            "post /api/users/signup",
            "post /api/users/signin",
            "post /api/users/signout",
            "get /api/users/currentuser",
            "get /api/users",
            "post /api/users/{id}/ban",
            "delete /api/users/{id}/ban",
            "get /api/tickets",
            "post /api/tickets",
            "get /api/tickets/mine",
            "get /api/tickets/{id}",
            "put /api/tickets/{id}",
            "delete /api/tickets/{id}",
            "post /api/orders",
            "get /api/orders",
            "get /api/orders/{id}",
            "delete /api/orders/{id}",
            "post /api/payments",
            "post /api/payments/webhook",
        ] {
            assert!(
                routes.contains(&route.to_string()),
                "{route} is not documented"
            );
        }
        assert_eq!(routes.len(), 19, "{routes:?}");
        let text = render();
        assert!(text.contains("\"openapi\": \"3.1.0\""));
        assert!(text.contains("#/components/schemas/ErrorBody"));
    }
}
