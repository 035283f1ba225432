//! Attempt counts, kept in the database so that every replica sees the
//! same: failed sign-ins per email, and sign-ups and sign-ins per client
//! address per minute. Both are gone once they no longer count (TTL).

use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Document, doc};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, Database, IndexModel};

use crate::domain::limits::{self, WINDOW};

#[derive(Clone)]
pub struct Attempts {
    failures: Collection<Document>,
    addresses: Collection<Document>,
}

fn at(time: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(time.timestamp_millis())
}

impl Attempts {
    pub fn new(database: &Database) -> Self {
        Self {
            failures: database.collection("signin_failures"),
            addresses: database.collection("address_attempts"),
        }
    }

    pub async fn init(&self) -> anyhow::Result<()> {
        for collection in [&self.failures, &self.addresses] {
            let ttl = IndexModel::builder()
                .keys(doc! { "expiresAt": 1 })
                .options(
                    IndexOptions::builder()
                        .name("gone_when_past".to_string())
                        .expire_after(Duration::ZERO)
                        .build(),
                )
                .build();
            collection
                .create_index(ttl)
                .await
                .context("cannot create an attempts index")?;
        }
        Ok(())
    }

    /// How long `email` is locked for, if it is.
    pub async fn locked(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> mongodb::error::Result<Option<Duration>> {
        let Some(row) = self.failures.find_one(doc! { "_id": email }).await? else {
            return Ok(None);
        };
        let count = row
            .get_i32("count")
            .map(|c| c as u32)
            .or(row.get_i64("count").map(|c| c as u32))
            .unwrap_or(0);
        let since = row
            .get_datetime("since")
            .ok()
            .and_then(|d| DateTime::from_timestamp_millis(d.timestamp_millis()))
            .unwrap_or(now);
        Ok(limits::locked_for(count, since, now))
    }

    /// Counts a failed sign-in for `email`; a count past its window starts again.
    pub async fn failed(&self, email: &str, now: DateTime<Utc>) -> mongodb::error::Result<()> {
        let window_start = now - chrono::Duration::from_std(WINDOW).unwrap_or_default();
        let counted = self
            .failures
            .update_one(
                doc! { "_id": email, "since": { "$gt": at(window_start) } },
                doc! { "$inc": { "count": 1 } },
            )
            .await?;
        if counted.matched_count == 0 {
            let expires = now + chrono::Duration::from_std(WINDOW).unwrap_or_default();
            self.failures
                .update_one(
                    doc! { "_id": email },
                    doc! { "$set": { "count": 1, "since": at(now), "expiresAt": at(expires) } },
                )
                .upsert(true)
                .await?;
        }
        Ok(())
    }

    /// A sign-in succeeded: the email's failures are forgotten.
    pub async fn succeeded(&self, email: &str) -> mongodb::error::Result<()> {
        self.failures.delete_one(doc! { "_id": email }).await?;
        Ok(())
    }

    /// Counts an attempt from `address` this minute; how long to wait if it
    /// is one more than `per_minute` allows.
    pub async fn from_address(
        &self,
        address: &str,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> mongodb::error::Result<Option<Duration>> {
        if per_minute == 0 {
            return Ok(None);
        }
        let (minute, left) = limits::minute(now);
        let expires = now + chrono::Duration::from_std(left).unwrap_or_default();
        let key = format!("{address}@{minute}");
        let count = || {
            self.addresses
                .find_one_and_update(
                    doc! { "_id": &key },
                    doc! { "$inc": { "count": 1 }, "$setOnInsert": { "expiresAt": at(expires) } },
                )
                .upsert(true)
                .return_document(ReturnDocument::After)
        };
        let row = match count().await {
            // Two replicas made the minute's row at once: the other's stands.
            Err(err) if common::mongo::is_duplicate_key(&err) => count().await?,
            other => other?,
        };
        let count = row
            .and_then(|row| {
                row.get_i32("count")
                    .map(i64::from)
                    .or(row.get_i64("count"))
                    .ok()
            })
            .unwrap_or(1);
        Ok((count > i64::from(per_minute)).then_some(left))
    }
}
