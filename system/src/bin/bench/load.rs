//! The platform under load, through its HTTP API, with the databases and
//! the bus read directly to see when the work has arrived.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use common::config::Secret;
use common::session::{SessionUser, Sessions};
use futures::StreamExt;
use mongodb::bson::{Document, doc, oid::ObjectId};
use serde_json::{Value, json};
use system::{Platform, SERVICES};

use crate::stats::{Run, Spread};

pub struct Load<'a> {
    pub(crate) platform: &'a Platform,
    pub(crate) http: reqwest::Client,
    pub(crate) sessions: Sessions,
    seller: String,
    mongo: mongodb::Client,
}

impl<'a> Load<'a> {
    pub async fn new(platform: &'a Platform) -> anyhow::Result<Self> {
        // Sessions signed with the platform's key: the figures are about
        // orders and events, not about argon2 in sign-up.
        let sessions = Sessions::new(
            &Secret::new(platform.jwt_key()),
            Duration::from_secs(3600),
            false,
        );
        let seller = Self::cookie_for(&sessions)?;
        Ok(Self {
            platform,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .pool_max_idle_per_host(1024)
                .build()?,
            sessions,
            seller,
            mongo: mongodb::Client::with_uri_str(platform.mongo_uri()).await?,
        })
    }

    pub(crate) fn cookie_for(sessions: &Sessions) -> anyhow::Result<String> {
        let user = SessionUser {
            id: ObjectId::new().to_hex(),
            email: "someone@example.com".into(),
            role: common::session::Role::User,
        };
        Ok(format!("session={}", sessions.token_for(&user)?))
    }

    pub(crate) fn service(&self, name: &str, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.platform.port(name))
    }

    /// Resident memory of each service, in kB, read from /proc.
    pub fn resident_memory(&self) -> Vec<(&'static str, u64)> {
        SERVICES
            .iter()
            .map(|service| (*service, resident_kb(self.platform.pid(service))))
            .collect()
    }

    async fn sell(&self, cookie: &str) -> anyhow::Result<ObjectId> {
        let response = self
            .http
            .post(self.service("tickets", "/api/tickets"))
            .header("cookie", cookie)
            .json(&json!({ "title": "Seat", "price": 20 }))
            .send()
            .await?;
        ensure!(
            response.status() == 201,
            "selling answered {}",
            response.status()
        );
        let ticket: Value = response.json().await?;
        Ok(ObjectId::parse_str(
            ticket["id"].as_str().context("a ticket id")?,
        )?)
    }

    /// Sells `count` tickets, `concurrency` at a time, and waits until the
    /// orders service knows them all.
    pub async fn sell_many(
        &self,
        count: usize,
        concurrency: usize,
    ) -> anyhow::Result<Vec<ObjectId>> {
        let ids: Vec<anyhow::Result<ObjectId>> = futures::stream::iter(0..count)
            .map(|_| self.sell(&self.seller))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let ids = ids.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        let replica = self
            .mongo
            .database("orders")
            .collection::<Document>("tickets");
        let deadline = Instant::now() + Duration::from_secs(300);
        while replica
            .count_documents(doc! { "_id": { "$in": &ids } })
            .await?
            < count as u64
        {
            ensure!(
                Instant::now() < deadline,
                "orders did not learn of {count} tickets"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(ids)
    }

    /// Puts tickets on sale at `rate` a second for `seconds`, and measures
    /// how long after each 201 the orders service has stored the ticket, as
    /// a change stream on its replica reports it. Returns the tickets, the
    /// rate reached, and the lags.
    pub async fn propagation(
        &self,
        rate: u32,
        seconds: u32,
    ) -> anyhow::Result<(Vec<ObjectId>, f64, Spread)> {
        let replica = self
            .mongo
            .database("orders")
            .collection::<Document>("tickets");
        let mut inserts = replica
            .watch()
            .pipeline([doc! { "$match": { "operationType": "insert" } }])
            .await?;
        let stored: Arc<std::sync::Mutex<HashMap<ObjectId, Instant>>> = Arc::default();
        let watcher = tokio::spawn({
            let stored = stored.clone();
            async move {
                while let Some(change) = inserts.next().await {
                    let at = Instant::now();
                    if let Some(id) = change?
                        .document_key
                        .and_then(|key| key.get_object_id("_id").ok())
                    {
                        stored.lock().unwrap().insert(id, at);
                    }
                }
                anyhow::Ok(())
            }
        });

        let total = (rate * seconds) as usize;
        let started = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
        let mut sales = futures::stream::FuturesUnordered::new();
        let mut created: Vec<(ObjectId, Instant)> = Vec::with_capacity(total);
        for _ in 0..total {
            tick.tick().await;
            sales.push(async {
                let id = self.sell(&self.seller).await?;
                anyhow::Ok((id, Instant::now()))
            });
            // Collect finished sales without waiting for the next tick.
            while let Some(Some(sold)) = futures::FutureExt::now_or_never(sales.next()) {
                created.push(sold?);
            }
        }
        while let Some(sold) = sales.next().await {
            created.push(sold?);
        }
        let sending = started.elapsed();

        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let arrived = {
                let stored = stored.lock().unwrap();
                created
                    .iter()
                    .filter(|(id, _)| stored.contains_key(id))
                    .count()
            };
            if arrived == total {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "orders never stored {} tickets",
                total - arrived
            );
            ensure!(!watcher.is_finished(), "the change stream ended");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        watcher.abort();
        let stored = stored.lock().unwrap();
        let lags = created
            .iter()
            .map(|(id, at)| stored[id].saturating_duration_since(*at))
            .collect();
        let ids = created.iter().map(|(id, _)| *id).collect();
        Ok((ids, total as f64 / sending.as_secs_f64(), Spread::new(lags)))
    }

    /// Orders every ticket in `tickets`, `concurrency` at a time, one
    /// order after another, straight at the orders service: each order by a
    /// buyer of its own, as a buyer may hold only a few unpaid orders.
    pub async fn saturate_orders(
        &self,
        tickets: &[ObjectId],
        concurrency: usize,
    ) -> anyhow::Result<Run> {
        let cookies: Vec<String> = (0..tickets.len())
            .map(|_| Self::cookie_for(&self.sessions))
            .collect::<anyhow::Result<_>>()?;
        let cookies = &cookies;
        let next = Arc::new(AtomicUsize::new(0));
        let url = self.service("orders", "/api/orders");
        let started = Instant::now();
        let buyers = (0..concurrency).map(|_| {
            let (next, url) = (next.clone(), url.clone());
            async move {
                let (mut latencies, mut failures) = (Vec::new(), 0);
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(ticket) = tickets.get(at) else { break };
                    let start = Instant::now();
                    let response = self
                        .http
                        .post(&url)
                        .header("cookie", &cookies[at])
                        .json(&json!({ "ticketId": ticket.to_hex() }))
                        .send()
                        .await?;
                    if response.status() == 201 {
                        latencies.push(start.elapsed());
                    } else {
                        failures += 1;
                    }
                }
                anyhow::Ok((latencies, failures))
            }
        });
        let mut latencies = Vec::with_capacity(tickets.len());
        let mut failures = 0;
        for result in futures::future::join_all(buyers).await {
            let (mine, failed) = result?;
            latencies.extend(mine);
            failures += failed;
        }
        Ok(Run::new(latencies, started.elapsed(), failures))
    }

    /// Waits until every consumer of the platform's stream has handled all
    /// it was sent, and gives how long that took.
    pub async fn drained(&self) -> anyhow::Result<Duration> {
        use futures::TryStreamExt;
        let started = Instant::now();
        let nats = self.platform.nats().await?;
        // `make up` leaves the services on their default stream.
        let stream = async_nats::jetstream::new(nats)
            .get_stream(common::config::DEFAULT_STREAM)
            .await?;
        loop {
            let consumers: Vec<_> = stream.consumers().try_collect().await?;
            if consumers
                .iter()
                .all(|info| info.num_pending == 0 && info.num_ack_pending == 0)
            {
                return Ok(started.elapsed());
            }
            ensure!(
                started.elapsed() < Duration::from_secs(300),
                "the services were still busy after 5 minutes"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `buyers` people at once through the proxy for `tickets.len()` tickets;
    /// the time until every response is in and the tickets service holds
    /// every ticket for its winner.
    pub async fn settle(&self, tickets: &[ObjectId], buyers: usize) -> anyhow::Result<Duration> {
        let cookies: Vec<String> = (0..buyers)
            .map(|_| Self::cookie_for(&self.sessions))
            .collect::<anyhow::Result<_>>()?;
        let url = format!("{}/api/orders", self.platform.url);
        let started = Instant::now();
        let attempts = cookies.iter().enumerate().map(|(n, cookie)| {
            self.http
                .post(&url)
                .header("cookie", cookie)
                .json(&json!({ "ticketId": tickets[n % tickets.len()].to_hex() }))
                .send()
        });
        let mut won = 0;
        for response in futures::future::join_all(attempts).await {
            let status = response?.status();
            match status.as_u16() {
                201 => won += 1,
                400 => {}
                other => bail!("a buyer got {other}"),
            }
        }
        ensure!(
            won == tickets.len(),
            "{won} orders for {} tickets",
            tickets.len()
        );
        let source = self
            .mongo
            .database("tickets")
            .collection::<Document>("tickets");
        let held = doc! { "_id": { "$in": tickets }, "status": "reserved" };
        while source.count_documents(held.clone()).await? < tickets.len() as u64 {
            ensure!(
                started.elapsed() < Duration::from_secs(300),
                "tickets never caught up"
            );
            // Not more often: each count is work for the server being measured.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(started.elapsed())
    }
}

/// The resident memory (VmRSS) of process `pid`, in kB; 0 once it has gone.
pub fn resident_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
