//! The inbox: events that arrived before what they follow, kept in the
//! consuming service's own database until the gate they wait for opens.
//! An early event is acked as soon as it is kept here, so it never uses up
//! deliveries however long it waits: minutes of lag, a consumer stopped for
//! an hour, replicas applying events in any order.
//!
//! Each row is looked at again when its gate opens (right after the event
//! that opens it was applied), and, as a backstop for a crash between the
//! two, by a sweep that looks at each row less and less often.

use std::time::Duration;

use anyhow::Context as _;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

use crate::handling::Gate;

/// The sweep's first look at a row, and its longest pause between looks.
/// The first comes soon: a replica that applies what a row waits for before
/// it has read back that the inbox holds anything lets nothing through, and
/// under load that read can come after the keeper's own later look.
const FIRST_SWEEP: Duration = Duration::from_secs(3);
const LONGEST_SWEEP: Duration = Duration::from_secs(600);

/// An event waiting for a gate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Waiting {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub waits_for: String,
    /// The subject without the deployment's prefix, e.g. `ticket.updated`.
    pub subject: String,
    /// The event's own id (`ticket.updated:<id>:<version>`): an event kept
    /// twice is one row.
    pub message_id: String,
    /// Where the stream holds the message: names its dead letter, if any.
    pub sequence: i64,
    /// The event as JSON, exactly as it was delivered.
    pub payload: String,
    pub received_at: bson::DateTime,
    /// When the sweep looks at it next, and how often it has.
    pub next_look: bson::DateTime,
    #[serde(default)]
    pub looks: i32,
}

impl Waiting {
    pub fn gate(&self) -> Gate {
        Gate::from_stored(self.waits_for.clone())
    }
}

/// A service's inbox collection. Cheap to clone.
#[derive(Clone)]
pub struct Inbox {
    rows: Collection<Waiting>,
}

impl Inbox {
    pub fn new(database: &Database) -> Self {
        Self {
            rows: database.collection("inbox"),
        }
    }

    /// One row per event; rows found by their gate and by the sweep's time.
    pub async fn init(&self) -> anyhow::Result<()> {
        let indexes = [
            crate::mongo::index("one_per_event", doc! { "subject": 1, "messageId": 1 }, true),
            crate::mongo::index("by_gate", doc! { "waitsFor": 1, "_id": 1 }, false),
            crate::mongo::index("by_next_look", doc! { "nextLook": 1 }, false),
        ];
        self.rows
            .create_indexes(indexes)
            .await
            .context("cannot create the inbox's indexes")?;
        Ok(())
    }

    /// Keeps an event until `gate` opens; an event kept already now waits
    /// for `gate`.
    pub async fn keep(
        &self,
        gate: &Gate,
        subject: &str,
        message_id: &str,
        sequence: u64,
        payload: &[u8],
    ) -> anyhow::Result<()> {
        let payload = std::str::from_utf8(payload).context("an event that is not UTF-8")?;
        let now = bson::DateTime::now();
        let filter = doc! { "subject": subject, "messageId": message_id };
        let change = doc! {
            "$set": { "waitsFor": gate.as_str() },
            "$setOnInsert": {
                "sequence": i64::try_from(sequence).unwrap_or(i64::MAX),
                "payload": payload,
                "receivedAt": now,
                "nextLook": later(now, FIRST_SWEEP),
                "looks": 0,
            },
        };
        match self
            .rows
            .update_one(filter.clone(), change.clone())
            .upsert(true)
            .await
        {
            Ok(_) => Ok(()),
            // Two replicas kept it at once: the other's insert won; update it.
            Err(err) if crate::mongo::is_duplicate_key(&err) => {
                self.rows.update_one(filter, change).await?;
                Ok(())
            }
            Err(err) => Err(err).context("cannot keep an early event"),
        }
    }

    /// The events waiting for `gate`, oldest first.
    pub async fn waiting_for(&self, gate: &Gate) -> mongodb::error::Result<Vec<Waiting>> {
        self.rows
            .find(doc! { "waitsFor": gate.as_str() })
            .sort(doc! { "_id": 1 })
            .await?
            .try_collect()
            .await
    }

    /// The event now waits for another gate.
    pub async fn wait_for(&self, row: &Waiting, gate: &Gate) -> mongodb::error::Result<()> {
        self.rows
            .update_one(key(row), doc! { "$set": { "waitsFor": gate.as_str() } })
            .await?;
        Ok(())
    }

    /// The event was applied, was a duplicate, or was parked: it waits no more.
    pub async fn forget(&self, row: &Waiting) -> mongodb::error::Result<()> {
        self.rows.delete_one(key(row)).await?;
        Ok(())
    }

    /// Rows due for the sweep's look, each then put off for longer.
    pub async fn due_for_sweep(&self, limit: i64) -> mongodb::error::Result<Vec<Waiting>> {
        let now = bson::DateTime::now();
        let due: Vec<Waiting> = self
            .rows
            .find(doc! { "nextLook": { "$lte": now } })
            .sort(doc! { "nextLook": 1 })
            .limit(limit)
            .await?
            .try_collect()
            .await?;
        for row in &due {
            let pause = sweep_pause(row.looks + 1);
            self.rows
                .update_one(
                    doc! { "_id": row.id },
                    doc! { "$set": { "nextLook": later(now, pause) }, "$inc": { "looks": 1 } },
                )
                .await?;
        }
        Ok(due)
    }

    /// How many events wait.
    pub async fn waiting(&self) -> mongodb::error::Result<u64> {
        self.rows.count_documents(doc! {}).await
    }

    /// Whether any event waits.
    pub async fn any(&self) -> mongodb::error::Result<bool> {
        Ok(self
            .rows
            .find_one(doc! {})
            .projection(doc! { "_id": 1 })
            .await?
            .is_some())
    }
}

/// A row by the event it holds.
fn key(row: &Waiting) -> bson::Document {
    doc! { "subject": &row.subject, "messageId": &row.message_id }
}

/// The sweep's pause after its `looks`th look at a row: doubling from the
/// first, at most [`LONGEST_SWEEP`].
fn sweep_pause(looks: i32) -> Duration {
    let doublings = u32::try_from(looks).unwrap_or(0).min(10);
    FIRST_SWEEP
        .saturating_mul(1 << doublings)
        .min(LONGEST_SWEEP)
}

fn later(now: bson::DateTime, by: Duration) -> bson::DateTime {
    bson::DateTime::from_millis(now.timestamp_millis() + by.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_looks_at_a_row_less_and_less_often() {
        assert_eq!(sweep_pause(1), FIRST_SWEEP * 2);
        assert_eq!(sweep_pause(2), FIRST_SWEEP * 4);
        assert!(sweep_pause(6) < LONGEST_SWEEP);
        assert_eq!(sweep_pause(9), LONGEST_SWEEP);
    }
}
