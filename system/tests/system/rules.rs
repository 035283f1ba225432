//! The rules of the design, read off every service's database once the
//! platform has settled: what the fault and lag tests end on.

use std::time::Duration;

use mongodb::bson::Document;
use system::Platform;

use crate::helpers::documents;

/// Waits until the services have settled into a state where every rule of
/// the design holds, and panics with what is still broken if they do not.
pub async fn rules_hold(platform: &Platform) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let broken = broken_rules(platform).await;
        if broken.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "rules still broken after a minute:\n{}",
            broken.join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each record of a collection by id, with the values at `paths` (dotted).
async fn records(
    platform: &Platform,
    (service, collection): (&str, &str),
    paths: &[&str],
) -> std::collections::BTreeMap<String, Vec<String>> {
    let value = |document: &Document, path: &str| {
        let mut at = mongodb::bson::Bson::Document(document.clone());
        for part in path.split('.') {
            at = match at {
                mongodb::bson::Bson::Document(inner) => {
                    inner.get(part).cloned().unwrap_or_default()
                }
                _ => mongodb::bson::Bson::Null,
            };
        }
        // Numbers compare by value whatever their width.
        match at {
            mongodb::bson::Bson::Int32(n) => n.to_string(),
            mongodb::bson::Bson::Int64(n) => n.to_string(),
            other => other.to_string(),
        }
    };
    documents(platform, service, collection)
        .await
        .iter()
        .map(|d| {
            let id = d
                .get_object_id("_id")
                .map(|id| id.to_hex())
                .unwrap_or_default();
            (id, paths.iter().map(|path| value(d, path)).collect())
        })
        .collect()
}

/// The rules the databases must satisfy once every event is handled: each
/// replica equal to its source (rule 9: versions and the fields it copies);
/// at most one live order per ticket, and tickets, the orders replica and
/// payments agreeing on which; a complete order paid exactly once.
async fn broken_rules(platform: &Platform) -> Vec<String> {
    use std::collections::BTreeMap;
    let mut broken = Vec::new();
    let copies = [
        (
            (
                ("tickets", "tickets"),
                &["version", "title", "price", "userId"][..],
            ),
            (
                ("orders", "tickets"),
                &["version", "title", "price", "userId"][..],
            ),
        ),
        (
            (
                ("orders", "orders"),
                &["version", "status", "userId", "ticket.price"][..],
            ),
            (
                ("payments", "orders"),
                &["version", "status", "userId", "price"][..],
            ),
        ),
    ];
    for ((source, source_paths), (replica, replica_paths)) in copies {
        let (expected, copied) = (
            records(platform, source, source_paths).await,
            records(platform, replica, replica_paths).await,
        );
        let differ = expected
            .iter()
            .filter(|(id, fields)| copied.get(*id) != Some(fields))
            .count()
            + copied
                .keys()
                .filter(|id| !expected.contains_key(*id))
                .count();
        if differ > 0 {
            broken.push(format!(
                "{}.{} differs from {}.{} in {differ} records",
                replica.0, replica.1, source.0, source.1
            ));
        }
    }

    let id = |d: &Document| d.get_object_id("_id").unwrap().to_hex();
    let orders = documents(platform, "orders", "orders").await;
    let mut live: BTreeMap<String, (String, String)> = BTreeMap::new();
    for order in &orders {
        let status = order.get_str("status").unwrap();
        if status == "cancelled" {
            continue;
        }
        let ticket = order.get_document("ticket").unwrap().get_str("id").unwrap();
        if let Some((other, _)) = live.insert(ticket.into(), (id(order), status.into())) {
            broken.push(format!(
                "ticket {ticket} has live orders {other} and {}",
                id(order)
            ));
        }
    }
    for ticket in documents(platform, "orders", "tickets").await {
        let expected = live.get(&id(&ticket)).map(|(order, _)| order.as_str());
        let held_by = ticket.get_str("heldBy").ok();
        if held_by != expected {
            broken.push(format!(
                "orders holds ticket {} for {held_by:?}, not {expected:?}",
                id(&ticket)
            ));
        }
    }
    for ticket in documents(platform, "tickets", "tickets").await {
        let expected = live.get(&id(&ticket));
        let holder = ticket.get_document("holder").ok();
        let order_id = holder
            .filter(|holder| holder.get_str("stage").ok() != Some("released"))
            .and_then(|holder| holder.get_str("orderId").ok());
        let sold = ticket.get_str("status").ok() == Some("sold");
        if order_id != expected.map(|(order, _)| order.as_str())
            || sold != expected.is_some_and(|(_, status)| status == "complete")
        {
            broken.push(format!(
                "tickets has ticket {} with order {order_id:?} (sold: {sold}), not {expected:?}",
                id(&ticket)
            ));
        }
    }

    let mut paid: BTreeMap<String, usize> = BTreeMap::new();
    for payment in documents(platform, "payments", "payments").await {
        *paid
            .entry(payment.get_object_id("orderId").unwrap().to_hex())
            .or_default() += 1;
    }
    for order in &orders {
        let payments = paid.get(&id(order)).copied().unwrap_or(0);
        let complete = order.get_str("status").unwrap() == "complete";
        if payments > 1 || (complete && payments != 1) {
            broken.push(format!(
                "order {} ({complete}) has {payments} payments",
                id(order)
            ));
        }
    }
    broken
}
