//! The expiry run: orders placed at a steady pace, each by a buyer of its
//! own, and how late each `order.cancelled` reaches the bus after its
//! `expiresAt`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use futures::StreamExt;
use mongodb::bson::oid::ObjectId;
use serde_json::{Value, json};

use crate::load::Load;
use crate::stats::Spread;

impl Load<'_> {
    /// Places an order on each ticket, `rate` a second, and waits for all of
    /// them to expire: they come due at the rate they were placed. Returns
    /// how late each cancellation was published (its arrival on the bus minus
    /// its `expiresAt`), and how many orders were pending at once at the peak.
    pub async fn expiry(&self, tickets: &[ObjectId], rate: u32) -> anyhow::Result<(Spread, usize)> {
        let nats = self.platform.nats().await?;
        let mut cancellations = nats.subscribe("ticketing.order.cancelled").await?;
        let seen = Arc::new(std::sync::Mutex::new(HashMap::new()));
        let watcher = tokio::spawn({
            let seen = seen.clone();
            async move {
                while let Some(message) = cancellations.next().await {
                    let event: Value = serde_json::from_slice(&message.payload).unwrap_or_default();
                    if let Some(id) = event["id"].as_str() {
                        let mut seen = seen.lock().unwrap();
                        seen.entry(id.to_string()).or_insert_with(chrono::Utc::now);
                    }
                }
            }
        });
        nats.flush().await?;

        // A buyer per order: one buyer may hold only a few unpaid orders.
        let cookies: Vec<String> = tickets
            .iter()
            .map(|_| Self::cookie_for(&self.sessions))
            .collect::<anyhow::Result<_>>()?;
        let url = self.service("orders", "/api/orders");
        let started = tokio::time::Instant::now();
        let placed: Vec<anyhow::Result<(String, chrono::DateTime<chrono::Utc>)>> =
            futures::stream::iter(tickets.iter().enumerate())
                .map(|(n, ticket)| {
                    let due = started + Duration::from_secs(n as u64) / rate;
                    let request = self
                        .http
                        .post(&url)
                        .header("cookie", &cookies[n])
                        .json(&json!({ "ticketId": ticket.to_hex() }));
                    async move {
                        tokio::time::sleep_until(due).await;
                        let response = request.send().await?;
                        ensure!(
                            response.status() == 201,
                            "ordering answered {}",
                            response.status()
                        );
                        let order: Value = response.json().await?;
                        let id = order["id"].as_str().context("an order id")?.to_string();
                        let expires_at =
                            order["expiresAt"].as_str().context("expiresAt")?.parse()?;
                        Ok((id, expires_at))
                    }
                })
                // Enough in flight that the pace, not the replies, sets the rate.
                .buffer_unordered(64)
                .collect()
                .await;
        let placed = placed.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        let all_placed = chrono::Utc::now();

        let deadline = Instant::now() + Duration::from_secs(900);
        while seen.lock().unwrap().len() < placed.len() {
            ensure!(
                Instant::now() < deadline,
                "orders were still pending after 15 minutes"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        watcher.abort();
        let seen = seen.lock().unwrap().clone();
        let mut lateness = Vec::with_capacity(placed.len());
        let mut expired_early = 0;
        for (id, expires_at) in &placed {
            let at = seen
                .get(id)
                .with_context(|| format!("no order.cancelled for {id}"))?;
            lateness.push((*at - *expires_at).to_std().unwrap_or_default());
            if *at < all_placed {
                expired_early += 1;
            }
        }
        Ok((Spread::new(lateness), placed.len() - expired_early))
    }
}
