//! Applying another service's records in version order: the one
//! version-gated apply every replica uses. A replicated record carries a
//! version that grows by one with every change; version N is applied only
//! on top of N-1, so the outcome never depends on the order in which the
//! bus delivers changes, nor on duplicates. An early version waits in the
//! inbox for the gate its predecessor opens.

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use mongodb::{ClientSession, Collection};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::handling::{Gate, Outcome};

/// What to do with an incoming version, given the version already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// It is the next version: apply it.
    Apply,
    /// It was applied already: acknowledge and ignore it.
    Duplicate,
    /// A version before it is missing: it waits.
    Early,
}

/// Decides for `incoming` when `stored` is the version we hold (`None` when
/// we hold nothing yet; records start at version 0).
pub fn step(stored: Option<i64>, incoming: i64) -> Step {
    let next = stored.map_or(0, |version| version + 1);
    match incoming.cmp(&next) {
        std::cmp::Ordering::Equal => Step::Apply,
        std::cmp::Ordering::Less => Step::Duplicate,
        std::cmp::Ordering::Greater => Step::Early,
    }
}

/// A collection of records copied from their owner, each with `_id` and
/// `version`. `kind` names the records in the gates they open.
#[derive(Clone)]
pub struct Replica<T: Send + Sync> {
    records: Collection<T>,
    kind: &'static str,
}

#[derive(serde::Deserialize)]
struct Versioned {
    version: i64,
}

impl<T> Replica<T>
where
    T: Serialize + DeserializeOwned + Send + Sync,
{
    pub fn new(records: Collection<T>, kind: &'static str) -> Self {
        Self { records, kind }
    }

    pub fn records(&self) -> &Collection<T> {
        &self.records
    }

    /// The gate version `version` of record `id` opens once applied.
    pub fn gate(&self, id: ObjectId, version: i64) -> Gate {
        Gate::at(self.kind, id, version)
    }

    /// Applies version 0 of a record: one insert. A record we hold already
    /// is this version or a later one.
    pub async fn insert_first(
        &self,
        id: ObjectId,
        record: &T,
        session: Option<&mut ClientSession>,
    ) -> mongodb::error::Result<Outcome> {
        let inserted = match session {
            Some(session) => self.records.insert_one(record).session(session).await,
            None => self.records.insert_one(record).await,
        };
        match inserted {
            Ok(_) => Ok(Outcome::opening(self.gate(id, 0))),
            Err(err) if crate::mongo::is_duplicate_key(&err) => Ok(Outcome::Duplicate),
            Err(err) => Err(err),
        }
    }

    /// Applies version `version` (at least 1) of record `id`: sets `fields`
    /// on the version before it, in one write. Only when that writes nothing
    /// is the held version read, to tell a duplicate from an early version.
    pub async fn apply_next(
        &self,
        id: ObjectId,
        version: i64,
        mut fields: Document,
        mut session: Option<&mut ClientSession>,
    ) -> mongodb::error::Result<Outcome> {
        fields.insert("version", version);
        let filter = doc! { "_id": id, "version": version - 1 };
        let change = doc! { "$set": fields };
        let updated = match session.as_deref_mut() {
            Some(session) => {
                self.records
                    .update_one(filter, change)
                    .session(session)
                    .await?
            }
            None => self.records.update_one(filter, change).await?,
        };
        if updated.matched_count == 1 {
            return Ok(Outcome::opening(self.gate(id, version)));
        }
        let versions = self.records.clone_with_type::<Versioned>();
        let held = match session {
            Some(session) => {
                versions
                    .find_one(doc! { "_id": id })
                    .session(session)
                    .await?
            }
            None => versions.find_one(doc! { "_id": id }).await?,
        };
        Ok(match step(held.map(|record| record.version), version) {
            Step::Duplicate => Outcome::Duplicate,
            // Apply: the version before it arrived just now; the inbox looks again.
            Step::Early | Step::Apply => Outcome::Early(self.gate(id, version - 1)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_version_applies_to_nothing() {
        assert_eq!(step(None, 0), Step::Apply);
    }

    #[test]
    fn a_later_version_before_the_first_is_early() {
        assert_eq!(step(None, 1), Step::Early);
    }

    #[test]
    fn the_next_version_applies() {
        assert_eq!(step(Some(3), 4), Step::Apply);
    }

    #[test]
    fn a_version_already_held_or_older_is_a_duplicate() {
        assert_eq!(step(Some(3), 3), Step::Duplicate);
        assert_eq!(step(Some(3), 0), Step::Duplicate);
    }

    #[test]
    fn a_version_that_skips_one_is_early() {
        assert_eq!(step(Some(3), 5), Step::Early);
    }
}
