//! Each order's PaymentIntent and the lock on paying it. Of any number of
//! concurrent requests to pay an order only one talks to Stripe at a time;
//! the lock is a lease, so a process that dies while charging lets it
//! lapse. The record keeps the intent's id (stored before it is ever
//! confirmed), what Stripe last said of it and when, and whether it must be
//! called off because its order ended unpaid.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};

use super::Payments;
use crate::stripe::Intent;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntentRecord {
    /// The order's id.
    #[serde(rename = "_id")]
    pub order_id: ObjectId,
    locked_until: bson::DateTime,
    #[serde(default)]
    pub intent_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// What Stripe last said the intent's status was.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub checked_at: Option<bson::DateTime>,
    /// The order ended unpaid: the intent is to be cancelled at Stripe.
    #[serde(default)]
    pub cancel_due: bool,
}

/// The right to charge an order, until the lease ends.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub order_id: ObjectId,
    /// The order's PaymentIntent, if it was created already.
    pub intent_id: Option<String>,
}

/// The lease of a lock nobody holds: long over.
fn unlocked() -> bson::DateTime {
    bson::DateTime::from_millis(0)
}

/// Statuses after which nothing more happens to an intent.
const FINAL: [&str; 2] = ["succeeded", "canceled"];

impl Payments {
    /// Takes the order's lock until `until`, unless someone holds it.
    pub async fn lock(
        &self,
        order_id: ObjectId,
        until: DateTime<Utc>,
    ) -> mongodb::error::Result<Option<Attempt>> {
        let now = bson::DateTime::now();
        let locked = self
            .intents
            .find_one_and_update(
                doc! { "_id": order_id, "lockedUntil": { "$lt": now } },
                doc! { "$set": { "lockedUntil": bson::DateTime::from_millis(until.timestamp_millis()) } },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await;
        match locked {
            Ok(Some(record)) => Ok(Some(Attempt {
                order_id,
                intent_id: record.intent_id,
            })),
            Ok(None) => Ok(None),
            // The lock exists and is held: the upsert collided with it.
            Err(err) if common::mongo::is_duplicate_key(&err) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Gives the lock back.
    pub async fn unlock(&self, order_id: ObjectId) -> mongodb::error::Result<()> {
        self.intents
            .update_one(
                doc! { "_id": order_id },
                doc! { "$set": { "lockedUntil": unlocked() } },
            )
            .await?;
        Ok(())
    }

    /// Notes what Stripe said of the order's intent, and when.
    pub async fn note_intent(
        &self,
        order_id: ObjectId,
        intent: &Intent,
    ) -> mongodb::error::Result<()> {
        let mut set = doc! {
            "intentId": &intent.id,
            "status": intent.status.as_str(),
            "checkedAt": bson::DateTime::now(),
        };
        if let Some(secret) = &intent.client_secret {
            set.insert("clientSecret", secret);
        }
        if intent.status.is_final() {
            set.insert("cancelDue", false);
        }
        self.intents
            .update_one(doc! { "_id": order_id }, doc! { "$set": set })
            .upsert(true)
            .await?;
        Ok(())
    }

    /// The order's intent record, if it has one.
    pub async fn intent_of(
        &self,
        order_id: ObjectId,
    ) -> mongodb::error::Result<Option<IntentRecord>> {
        self.intents.find_one(doc! { "_id": order_id }).await
    }

    /// Intents whose outcome we have not heard since `before`: neither
    /// succeeded nor final.
    pub async fn unsettled_intents(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> mongodb::error::Result<Vec<IntentRecord>> {
        let before = bson::DateTime::from_millis(before.timestamp_millis());
        self.intents
            .find(doc! {
                "intentId": { "$ne": null },
                "status": { "$nin": FINAL.to_vec() },
                "checkedAt": { "$lt": before },
            })
            .sort(doc! { "checkedAt": 1 })
            .limit(limit)
            .await?
            .try_collect()
            .await
    }

    /// Notes that Stripe could not be asked about the order's intent now:
    /// it goes to the back of the reconciler's queues, so one that keeps
    /// failing waits its turn instead of holding up the others.
    pub async fn put_back(&self, order_id: ObjectId) -> mongodb::error::Result<()> {
        self.intents
            .update_one(
                doc! { "_id": order_id },
                doc! { "$set": { "checkedAt": bson::DateTime::now() } },
            )
            .await?;
        Ok(())
    }

    /// Intents to call off at Stripe, longest unasked first: their orders
    /// ended unpaid.
    pub async fn intents_to_cancel(&self, limit: i64) -> mongodb::error::Result<Vec<IntentRecord>> {
        self.intents
            .find(doc! { "cancelDue": true, "intentId": { "$ne": null } })
            .sort(doc! { "checkedAt": 1 })
            .limit(limit)
            .await?
            .try_collect()
            .await
    }
}
