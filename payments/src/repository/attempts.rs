//! Charge attempts: one lock per order, so that of any number of concurrent
//! requests to pay an order only one talks to Stripe at a time. The lock is
//! a lease: a process that dies while charging lets it lapse. The attempt
//! also counts declines, which picks the idempotency key of the next charge.

use chrono::{DateTime, Utc};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};

use super::Payments;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AttemptRecord {
    /// The order's id.
    #[serde(rename = "_id")]
    id: ObjectId,
    locked_until: bson::DateTime,
    declines: i64,
}

/// The right to charge an order, until the lease ends.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub order_id: ObjectId,
    declines: i64,
}

impl Attempt {
    /// The first charge of an order uses the order id as its idempotency
    /// key, as the design asks. A decline is stored by Stripe under its key,
    /// so each later charge, after a decline, needs a key of its own. A
    /// charge whose outcome is unknown (a crash, a timeout) keeps its key,
    /// so that retrying it can never charge twice.
    pub fn idempotency_key(&self) -> String {
        match self.declines {
            0 => self.order_id.to_hex(),
            n => format!("{}:{n}", self.order_id.to_hex()),
        }
    }
}

/// The lease of an attempt nobody holds: long over.
pub(super) fn unlocked() -> bson::DateTime {
    bson::DateTime::from_millis(0)
}

impl Payments {
    /// Takes the order's lock until `until`, unless someone holds it.
    pub async fn lock(
        &self,
        order_id: ObjectId,
        until: DateTime<Utc>,
    ) -> mongodb::error::Result<Option<Attempt>> {
        let now = bson::DateTime::now();
        let locked = self
            .attempts
            .find_one_and_update(
                doc! { "_id": order_id, "lockedUntil": { "$lt": now } },
                doc! {
                    "$set": { "lockedUntil": bson::DateTime::from_millis(until.timestamp_millis()) },
                    "$setOnInsert": { "declines": 0_i64 },
                },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await;
        match locked {
            Ok(Some(attempt)) => Ok(Some(Attempt {
                order_id,
                declines: attempt.declines,
            })),
            Ok(None) => Ok(None),
            // The lock exists and is held: the upsert collided with it.
            Err(err) if common::mongo::is_duplicate_key(&err) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Gives the lock back; a decline moves the next charge to a new key.
    pub async fn unlock(&self, attempt: &Attempt, declined: bool) -> mongodb::error::Result<()> {
        let mut change = doc! { "$set": { "lockedUntil": unlocked() } };
        if declined {
            change.insert("$inc", doc! { "declines": 1_i64 });
        }
        self.attempts
            .update_one(doc! { "_id": attempt.order_id }, change)
            .await?;
        Ok(())
    }
}
