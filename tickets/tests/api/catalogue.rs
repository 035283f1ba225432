//! The listing people shop: found by words and price, in four orders, a
//! page at a time by cursor; only what is for sale; details and the code.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Order, TestApp, errors, spawn_app, user};

/// The next page's path, from the `Link` header.
fn next_link(response: &reqwest::Response) -> Option<String> {
    let link = response.headers().get("link")?.to_str().ok()?;
    let (target, rel) = link.split_once(';')?;
    assert_eq!(rel.trim(), "rel=\"next\"");
    Some(
        target
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string(),
    )
}

/// Every page of `path`, followed by its links: the ids in the order seen.
async fn walk(app: &TestApp, path: &str, while_walking: impl AsyncFn(usize)) -> Vec<String> {
    let (mut seen, mut next, mut pages) = (Vec::new(), Some(path.to_string()), 0);
    while let Some(path) = next {
        let response = app.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        next = next_link(&response);
        let page: Vec<Value> = response.json().await.unwrap();
        seen.extend(page.iter().map(|t| t["id"].as_str().unwrap().to_string()));
        pages += 1;
        while_walking(pages).await;
    }
    seen
}

fn ids(tickets: &[Value]) -> Vec<String> {
    tickets
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn paging_with_every_order_visits_each_ticket_once_while_tickets_are_being_listed() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let start = Utc::now() + Duration::days(30);
    let mut listed = Vec::new();
    for i in 0..250 {
        // Prices and dates repeat, so that the cursor's tie-break on id counts.
        let mut body = json!({ "title": format!("Seat {i}"), "price": 10 + i % 7 });
        if i % 5 != 0 {
            body["startsAt"] = json!((start + Duration::hours(i % 11)).to_rfc3339());
        }
        listed.push(app.listed_with(&cookie, &body).await);
    }
    let expected: BTreeSet<String> = ids(&listed).into_iter().collect();

    for sort in ["newest", "price", "-price", "startsAt"] {
        let newcomer = async |page: usize| {
            let body = json!({ "title": format!("Late {sort} {page}"), "price": 12 });
            app.listed_with(&cookie, &body).await;
        };
        let seen = walk(
            &app,
            &format!("/api/tickets?sort={sort}&limit=30"),
            newcomer,
        )
        .await;
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: a ticket was shown twice");
        let missing: Vec<_> = expected.iter().filter(|id| !unique.contains(id)).collect();
        assert!(
            missing.is_empty(),
            "{sort}: {} tickets skipped",
            missing.len()
        );
    }
}

#[tokio::test]
async fn pages_come_in_the_order_asked_for() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let soon = Utc::now() + Duration::days(1);
    let later = Utc::now() + Duration::days(9);
    let cheap = app
        .listed_with(
            &cookie,
            &json!({ "title": "Cheap", "price": 5, "startsAt": later.to_rfc3339() }),
        )
        .await;
    let dear = app
        .listed_with(&cookie, &json!({ "title": "Dear", "price": 500 }))
        .await;
    let middle = app
        .listed_with(
            &cookie,
            &json!({ "title": "Middle", "price": 50, "startsAt": soon.to_rfc3339() }),
        )
        .await;
    let order = |sort: &str| format!("/api/tickets?sort={sort}");
    let cases = [
        ("newest", [&middle, &dear, &cheap]),
        ("price", [&cheap, &middle, &dear]),
        ("-price", [&dear, &middle, &cheap]),
        ("startsAt", [&middle, &cheap, &dear]),
    ];
    for (sort, expected) in cases {
        let listed: Vec<Value> = app.get(&order(sort)).await.json().await.unwrap();
        assert_eq!(ids(&listed), ids(&expected.map(Clone::clone)), "{sort}");
    }
}

#[tokio::test]
async fn a_search_finds_the_tickets_holding_every_word_in_title_or_venue_in_any_case() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let both = app
        .listed_with(&cookie, &json!({ "title": "Blue Moon Tour", "price": 30 }))
        .await;
    let split = app
        .listed_with(
            &cookie,
            &json!({ "title": "MOON night", "price": 30, "venue": "The Blue Hall" }),
        )
        .await;
    app.listed_with(&cookie, &json!({ "title": "Blue Sky", "price": 30 }))
        .await;
    app.listed_with(
        &cookie,
        &json!({ "title": "Moonlight", "price": 30, "venue": "Blueberry Hill" }),
    )
    .await;

    let found: Vec<Value> = app
        .get("/api/tickets?q=bLuE%20moon")
        .await
        .json()
        .await
        .unwrap();

    let found: BTreeSet<String> = ids(&found).into_iter().collect();
    assert_eq!(found, ids(&[both, split]).into_iter().collect());
}

#[tokio::test]
async fn a_price_range_keeps_the_tickets_within_it() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    for price in [5, 10, 20, 30] {
        app.listed(&cookie, &format!("At {price}"), price as f64)
            .await;
    }
    let listed: Vec<Value> = app
        .get("/api/tickets?minPrice=10&maxPrice=20&sort=price")
        .await
        .json()
        .await
        .unwrap();
    let prices: Vec<f64> = listed
        .iter()
        .map(|t| t["price"].as_f64().unwrap())
        .collect();
    assert_eq!(prices, [10.0, 20.0]);
}

#[tokio::test]
async fn a_bad_parameter_is_a_400_naming_it() {
    let app = spawn_app().await;
    let cases = [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=many", "limit"),
        ("sort=cheapest", "sort"),
        ("minPrice=-1", "minPrice"),
        ("maxPrice=abc", "maxPrice"),
        ("maxPrice=1.234", "maxPrice"),
        ("minPrice=20&maxPrice=10", "maxPrice"),
        ("after=not-a-cursor", "after"),
        (
            "q=w1%20w2%20w3%20w4%20w5%20w6%20w7%20w8%20w9%20w10%20w11",
            "q",
        ),
    ];
    for (query, field) in cases {
        let items = errors(
            app.get(&format!("/api/tickets?{query}")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(items[0].1.as_deref(), Some(field), "{query}");
    }
    let (cookie, _) = user();
    let items = errors(
        app.get_as(Some(&cookie), "/api/tickets/mine?limit=0").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(items[0].1.as_deref(), Some("limit"));
}

#[tokio::test]
async fn started_withdrawn_reserved_and_sold_tickets_are_never_listed() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let soon = Utc::now() + Duration::seconds(2);
    let starting = app
        .listed_with(
            &cookie,
            &json!({ "title": "Starting", "price": 9, "startsAt": soon.to_rfc3339() }),
        )
        .await;
    let withdrawn = app.listed(&cookie, "Withdrawn", 9.0).await;
    let reserved = app.listed(&cookie, "Reserved", 9.0).await;
    let sold = app.listed(&cookie, "Sold", 9.0).await;
    let open = app.listed(&cookie, "Open", 9.0).await;
    let id = |t: &Value| t["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.withdraw(Some(&cookie), &id(&withdrawn)).await.status(),
        StatusCode::NO_CONTENT
    );
    app.bus
        .publish(&Order::of(&reserved, 0).created())
        .await
        .unwrap();
    let buying = Order::of(&sold, 0);
    app.bus.publish(&buying.created()).await.unwrap();
    app.bus.publish(&buying.completed()).await.unwrap();
    app.at_version(&id(&reserved), 1).await;
    app.at_version(&id(&sold), 2).await;

    // Only a listing asked for after the start is bound to leave it out.
    let listed = common::testing::eventually("the event to have started", || async {
        let asked = Utc::now();
        let listed: Vec<Value> = app.get("/api/tickets").await.json().await.ok()?;
        (asked > soon).then_some(listed)
    })
    .await;
    assert_eq!(ids(&listed), [id(&open)]);
    assert_eq!(
        app.ticket(&id(&starting)).await["status"],
        "available",
        "still shown on its own"
    );
}

#[tokio::test]
async fn a_seller_s_own_tickets_come_in_every_status_a_page_at_a_time() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let (other, _) = user();
    let mut mine = Vec::new();
    for i in 0..5 {
        mine.push(
            app.listed_with(
                &cookie,
                &json!({ "title": format!("Mine {i}"), "price": 5, "code": "DOOR-1" }),
            )
            .await,
        );
    }
    app.listed(&other, "Not mine", 5.0).await;
    app.withdraw(Some(&cookie), mine[0]["id"].as_str().unwrap())
        .await;

    let first = app.get_as(Some(&cookie), "/api/tickets/mine?limit=3").await;
    let next = next_link(&first).expect("a second page");
    let first: Vec<Value> = first.json().await.unwrap();
    let second: Vec<Value> = app.get_as(Some(&cookie), &next).await.json().await.unwrap();

    let mut seen = ids(&first);
    seen.extend(ids(&second));
    let mut expected = ids(&mine);
    expected.reverse();
    assert_eq!(seen, expected, "newest first, each once");
    assert_eq!(second.last().unwrap()["status"], "withdrawn");
    assert!(
        first.iter().all(|t| t["code"] == "DOOR-1"),
        "the seller sees the codes"
    );
    assert_eq!(
        app.get("/api/tickets/mine").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_code_is_shown_to_the_seller_and_to_the_buyer_once_paid_and_to_nobody_else() {
    let app = spawn_app().await;
    let (seller, _) = user();
    let (buyer, buyer_id) = user();
    let (stranger, _) = user();
    let ticket = app
        .listed_with(
            &seller,
            &json!({ "title": "Gig", "price": 15, "code": "https://transfer.example/xyz" }),
        )
        .await;
    let id = ticket["id"].as_str().unwrap();
    let code = async |cookie: Option<&str>| -> Value {
        let shown: Value = app
            .get_as(cookie, &format!("/api/tickets/{id}"))
            .await
            .json()
            .await
            .unwrap();
        shown["code"].clone()
    };
    let order = Order::of(&ticket, 0).by(&buyer_id);
    app.bus.publish(&order.created()).await.unwrap();
    app.at_version(id, 1).await;
    assert_eq!(code(Some(&buyer)).await, Value::Null, "not before paying");

    app.bus.publish(&order.completed()).await.unwrap();
    app.at_version(id, 2).await;

    let expected = json!("https://transfer.example/xyz");
    assert_eq!(code(Some(&seller)).await, expected);
    assert_eq!(code(Some(&buyer)).await, expected);
    assert_eq!(code(Some(&stranger)).await, Value::Null);
    assert_eq!(code(None).await, Value::Null);
    let listed: Vec<Value> = app.get("/api/tickets").await.json().await.unwrap();
    assert!(listed.iter().all(|t| t.get("code").is_none()));
}

#[tokio::test]
async fn a_ticket_s_record_stays_the_same_size_however_many_orders_held_it() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let ticket = app.listed(&cookie, "Popular", 20.0).await;
    let id = ticket["id"].as_str().unwrap();
    let size = async || {
        let record = app
            .database
            .collection::<mongodb::bson::Document>("tickets")
            .find_one(
                mongodb::bson::doc! { "_id": mongodb::bson::oid::ObjectId::parse_str(id).unwrap() },
            )
            .await
            .unwrap()
            .unwrap();
        mongodb::bson::serialize_to_vec(&record).unwrap().len()
    };
    let mut sizes = BTreeMap::new();
    for hold in 0..30 {
        let order = Order::of(&ticket, hold);
        app.bus.publish(&order.created()).await.unwrap();
        app.bus.publish(&order.cancelled()).await.unwrap();
        app.at_version(id, 2 * (hold + 1)).await;
        if hold == 0 || hold == 29 {
            sizes.insert(hold, size().await);
        }
    }
    assert_eq!(sizes[&0], sizes[&29], "{sizes:?}");
}

#[tokio::test]
async fn a_listing_is_compressed_for_a_client_that_accepts_it() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    for i in 0..30 {
        app.listed(
            &cookie,
            &format!("A rather long title for seat number {i}"),
            10.0,
        )
        .await;
    }
    let response = app
        .client
        .get(format!("{}/api/tickets?limit=30", app.address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
}
