//! Rebuilding a replica from the log (`ops rebuild`): the log's events are
//! replayed through the same version gate the listeners use into records
//! held in memory, and the live replica is then switched to them record by
//! record while its service keeps serving. Each write is guarded by the
//! version it was decided on, so a change the live listener applies
//! meanwhile is never overwritten; it is read from the log in the next pass.
//!
//! A replica's service may keep fields of its own on a replicated record
//! (orders: which order holds a ticket). Those are its decisions, not the
//! owner's: a rebuild leaves them as they are, and gives a record it has to
//! insert the ones the service's own events in the log say.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, doc};

use crate::replica::{Step, step};

/// A replicated record as the log gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub version: i64,
    /// The owner's fields, as the replica stores them.
    pub fields: Document,
}

/// The records replayed so far.
#[derive(Debug, Default)]
pub struct Replay {
    pub records: BTreeMap<ObjectId, Record>,
    /// Versions that came before the one they follow.
    waiting: BTreeMap<(ObjectId, i64), Document>,
    /// The service's own fields, for records it has to insert.
    pub own: BTreeMap<ObjectId, Document>,
}

impl Replay {
    /// Replays version `version` of record `id`, as a listener applies it:
    /// the next version applies, a duplicate is ignored, an early one waits.
    pub fn version(&mut self, id: ObjectId, version: i64, fields: Document) {
        let held = self.records.get(&id).map(|r| r.version);
        match step(held, version) {
            Step::Duplicate => {}
            Step::Early => {
                self.waiting.insert((id, version), fields);
            }
            Step::Apply => {
                let record = self.records.entry(id).or_insert_with(|| Record {
                    version,
                    fields: Document::new(),
                });
                record.version = version;
                record.fields.extend(fields);
                if let Some(next) = self.waiting.remove(&(id, version + 1)) {
                    self.version(id, version + 1, next);
                }
            }
        }
    }

    /// The service's own fields of record `id`, to change.
    pub fn own(&mut self, id: ObjectId) -> &mut Document {
        self.own.entry(id).or_default()
    }

    /// Versions still waiting for the one they follow.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

/// What the switch does to one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Switch {
    /// The live replica lacks it.
    Insert,
    /// The live one is older or differs: set the owner's fields on it,
    /// if it still holds `guard`.
    Update { guard: i64 },
    /// The live one is the same.
    Same,
    /// The live one is newer: its change is read in the next pass.
    Ahead,
}

/// Decides for one rebuilt record, given the live one.
pub fn decide(live: Option<&Document>, rebuilt: &Record) -> Switch {
    let Some(live) = live else {
        return Switch::Insert;
    };
    let version = live.get_i64("version").unwrap_or(-1);
    if version > rebuilt.version {
        return Switch::Ahead;
    }
    let differs = rebuilt
        .fields
        .iter()
        .any(|(key, value)| !same(live.get(key), value));
    if version < rebuilt.version || differs {
        Switch::Update { guard: version }
    } else {
        Switch::Same
    }
}

/// A missing field is the same as a null one.
fn same(live: Option<&Bson>, rebuilt: &Bson) -> bool {
    match live {
        Some(live) => live == rebuilt,
        None => *rebuilt == Bson::Null,
    }
}

/// What one pass of the switch did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Switched {
    pub inserted: u64,
    pub updated: u64,
    pub same: u64,
    /// Records the live listener moved on meanwhile: the next pass reads on.
    pub ahead: u64,
    /// Live records the log does not know: left as they are.
    pub unknown: u64,
}

/// Switches `live` to the rebuilt records.
pub async fn switch(live: &Collection<Document>, replay: &Replay) -> anyhow::Result<Switched> {
    let mut held: BTreeMap<ObjectId, Document> = BTreeMap::new();
    let mut cursor = live.find(doc! {}).await?;
    while let Some(record) = cursor.try_next().await? {
        if let Ok(id) = record.get_object_id("_id") {
            held.insert(id, record);
        }
    }
    let mut switched = Switched {
        unknown: held
            .keys()
            .filter(|id| !replay.records.contains_key(id))
            .count() as u64,
        ..Switched::default()
    };
    for (id, record) in &replay.records {
        match decide(held.get(id), record) {
            Switch::Same => switched.same += 1,
            Switch::Ahead => switched.ahead += 1,
            Switch::Insert => {
                let mut document = doc! { "_id": id, "version": record.version };
                document.extend(record.fields.clone());
                document.extend(replay.own.get(id).cloned().unwrap_or_default());
                match live.insert_one(document).await {
                    Ok(_) => switched.inserted += 1,
                    // The listener inserted it meanwhile.
                    Err(err) if crate::mongo::is_duplicate_key(&err) => switched.ahead += 1,
                    Err(err) => return Err(err.into()),
                }
            }
            Switch::Update { guard } => {
                let mut fields = record.fields.clone();
                fields.insert("version", record.version);
                let written = live
                    .update_one(
                        doc! { "_id": id, "version": guard },
                        doc! { "$set": fields },
                    )
                    .await?;
                if written.matched_count == 1 {
                    switched.updated += 1;
                } else {
                    switched.ahead += 1;
                }
            }
        }
    }
    Ok(switched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ObjectId {
        ObjectId::parse_str("0123456789abcdef01234567").unwrap()
    }

    #[test]
    fn given_versions_out_of_order_when_replayed_then_the_record_has_the_last() {
        let mut replay = Replay::default();
        replay.version(id(), 2, doc! { "price": 3 });
        replay.version(id(), 0, doc! { "price": 1, "title": "a" });
        assert_eq!(replay.waiting(), 1);
        replay.version(id(), 1, doc! { "price": 2 });
        replay.version(id(), 1, doc! { "price": 99 });

        let record = &replay.records[&id()];
        assert_eq!(record.version, 2);
        assert_eq!(record.fields, doc! { "price": 3, "title": "a" });
        assert_eq!(replay.waiting(), 0);
    }

    #[test]
    fn given_a_live_record_when_compared_then_the_switch_follows_its_version_and_fields() {
        let rebuilt = Record {
            version: 2,
            fields: doc! { "price": 3, "startsAt": Bson::Null },
        };
        assert_eq!(decide(None, &rebuilt), Switch::Insert);
        let same = doc! { "version": 2_i64, "price": 3, "heldBy": "o1" };
        assert_eq!(
            decide(Some(&same), &rebuilt),
            Switch::Same,
            "a missing field is null"
        );
        let wrong = doc! { "version": 2_i64, "price": 4 };
        assert_eq!(decide(Some(&wrong), &rebuilt), Switch::Update { guard: 2 });
        let behind = doc! { "version": 1_i64, "price": 3 };
        assert_eq!(decide(Some(&behind), &rebuilt), Switch::Update { guard: 1 });
        let ahead = doc! { "version": 3_i64, "price": 5 };
        assert_eq!(decide(Some(&ahead), &rebuilt), Switch::Ahead);
    }
}
