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

    /// Counts a sign-in for `email` as under way before its password is
    /// checked, so that guesses sent at once are counted at once too, and
    /// decides it (`limits::attempt`). One that may go must be settled
    /// with `checked`; the others are settled here.
    pub async fn attempt(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> mongodb::error::Result<limits::Attempt> {
        let (row, since) = count(&self.failures, email, "checking", WINDOW, now).await?;
        let number = |field| {
            let value = row.get_i32(field).map(i64::from).or(row.get_i64(field));
            u32::try_from(value.unwrap_or(0)).unwrap_or(0)
        };
        let others = number("checking").saturating_sub(1);
        let decided = limits::attempt(number("count"), others, since, now);
        if decided != limits::Attempt::Go {
            self.checked(email, Checked::NotTried).await?;
        }
        Ok(decided)
    }

    /// Settles a sign-in that `attempt` let go: a failure is counted, a
    /// success forgets the email's failures.
    pub async fn checked(&self, email: &str, checked: Checked) -> mongodb::error::Result<()> {
        let change = match checked {
            Checked::Succeeded => {
                self.failures.delete_one(doc! { "_id": email }).await?;
                return Ok(());
            }
            Checked::Failed => doc! { "$inc": { "checking": -1, "count": 1 } },
            Checked::NotTried => doc! { "$inc": { "checking": -1 } },
        };
        self.failures
            .update_one(doc! { "_id": email, "checking": { "$gt": 0 } }, change)
            .await?;
        Ok(())
    }

    /// Counts an attempt from `address` in the minute since its first; how
    /// long to wait if it is one more than `per_minute` allows.
    pub async fn from_address(
        &self,
        address: &str,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> mongodb::error::Result<Option<Duration>> {
        if per_minute == 0 {
            return Ok(None);
        }
        let (row, since) = count(&self.addresses, address, "count", MINUTE, now).await?;
        let tries = row
            .get_i32("count")
            .map(i64::from)
            .or(row.get_i64("count"))
            .unwrap_or(1);
        let until = since + chrono::Duration::from_std(MINUTE).unwrap_or_default();
        let wait = (until - now).to_std().unwrap_or_default();
        Ok((tries > i64::from(per_minute)).then_some(wait))
    }
}

/// The window an address's attempts are counted in.
const MINUTE: Duration = Duration::from_secs(60);

/// How a sign-in that was let go ended.
pub enum Checked {
    Succeeded,
    Failed,
    /// Auth was too busy to check it.
    NotTried,
}

/// Adds one to `field` of `key`'s row in the window that began with its
/// first attempt (a window past its end starts again): the row after it,
/// and when the window began. One atomic update each, so attempts at once
/// on any replica are all counted.
async fn count(
    collection: &Collection<Document>,
    key: &str,
    field: &str,
    window: Duration,
    now: DateTime<Utc>,
) -> mongodb::error::Result<(Document, DateTime<Utc>)> {
    let window = chrono::Duration::from_std(window).unwrap_or_default();
    let in_window = || {
        collection
            .find_one_and_update(
                doc! { "_id": key, "since": { "$gt": at(now - window) } },
                doc! { "$inc": { field: 1 } },
            )
            .return_document(ReturnDocument::After)
    };
    let fresh = doc! { field: 1, "since": at(now), "expiresAt": at(now + window) };
    let row = match in_window().await? {
        Some(row) => Some(row),
        None => {
            let restarted = collection
                .find_one_and_update(
                    doc! { "_id": key, "since": { "$lte": at(now - window) } },
                    doc! { "$set": fresh.clone() },
                )
                .await?;
            match restarted {
                Some(_) => Some(fresh.clone()),
                None => {
                    let mut first = doc! { "_id": key };
                    first.extend(fresh.clone());
                    match collection.insert_one(first).await {
                        Ok(_) => Some(fresh.clone()),
                        // Another attempt made the row first: count on it.
                        Err(err) if common::mongo::is_duplicate_key(&err) => in_window().await?,
                        Err(err) => return Err(err),
                    }
                }
            }
        }
    };
    let row = row.unwrap_or(fresh);
    let since = row
        .get_datetime("since")
        .ok()
        .and_then(|d| DateTime::from_timestamp_millis(d.timestamp_millis()))
        .unwrap_or(now);
    Ok((row, since))
}
