//! `ops rebuild orders|payments`: a service's replica rebuilt from the
//! whole log while the service keeps serving (see `common::rebuild`). Each
//! pass reads the log up to its end as it stands, replays what is new and
//! switches the live replica to the result; it ends when a pass finds the
//! live replica no further on than the rebuilt one.

use std::time::Duration;

use anyhow::{Context as _, bail};
use common::config::Secret;
use common::rebuild::{Replay, Switched};
use mongodb::bson::Document;

use crate::event_log::Log;

/// Passes before giving up on a replica that keeps moving on.
const PASSES: usize = 10;

/// A replica that can be rebuilt, as its service defines it.
#[derive(Clone, Copy)]
pub struct Definition {
    /// Its service, whose database it lives in (`MONGO_DB` defaults to it).
    pub service: &'static str,
    pub collection: &'static str,
    pub subjects: &'static [&'static str],
    pub replay: fn(&mut Replay, &str, &[u8]) -> anyhow::Result<()>,
}

/// The replicas `ops rebuild` knows.
pub fn definition(service: &str) -> Option<Definition> {
    match service {
        "orders" => Some(Definition {
            service: "orders",
            collection: orders::rebuild::COLLECTION,
            subjects: &orders::rebuild::SUBJECTS,
            replay: orders::rebuild::replay,
        }),
        "payments" => Some(Definition {
            service: "payments",
            collection: payments::rebuild::COLLECTION,
            subjects: &payments::rebuild::SUBJECTS,
            replay: payments::rebuild::replay,
        }),
        _ => None,
    }
}

/// What a rebuild did.
#[derive(Debug, Default)]
pub struct Report {
    pub events: usize,
    /// Events that could not be replayed (they do not decode: their
    /// listeners parked them too), by sequence, with why. Left out.
    pub unreadable: Vec<(u64, String)>,
    pub records: usize,
    pub passes: usize,
    pub switched: Switched,
}

/// Whether the log still holds its first event. A log whose first events
/// were removed cannot give every record.
pub fn refusal(first_sequence: u64) -> Option<String> {
    (first_sequence > 1).then(|| {
        format!(
            "the log starts at event {first_sequence}: the events before it were removed, so a \
             replica rebuilt from it would lack their records; nothing was changed"
        )
    })
}

/// Rebuilds `definition`'s replica in the database `database` at `mongo_uri`.
pub async fn rebuild(
    log: &Log,
    mongo_uri: &str,
    database: &str,
    definition: Definition,
) -> anyhow::Result<Report> {
    let mut stream = log.stream.clone();
    if let Some(refused) = refusal(stream.info().await?.state.first_sequence) {
        bail!(refused);
    }
    let (_, db) = common::mongo::connect(&Secret::new(mongo_uri.to_string()), database).await?;
    tokio::time::timeout(Duration::from_secs(15), common::mongo::ping(&db))
        .await
        .ok()
        .and_then(Result::ok)
        .with_context(|| {
            let at = redacted(mongo_uri);
            format!("cannot reach MongoDB at {at}: is the platform running?")
        })?;
    let live = db.collection::<Document>(definition.collection);
    let mut replay = Replay::default();
    let mut report = Report::default();
    let mut from = 1;
    for pass in 1..=PASSES {
        let end = stream.info().await?.state.last_sequence;
        let mut events = Vec::new();
        for subject in definition.subjects {
            let filter = format!("{}.{subject}", log.prefix);
            for message in log.read(&filter, from).await? {
                let seq = message
                    .info()
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .stream_sequence;
                if seq <= end {
                    events.push((seq, *subject, message.payload.clone()));
                }
            }
        }
        events.sort_by_key(|(seq, _, _)| *seq);
        for (seq, subject, payload) in &events {
            if let Err(err) = (definition.replay)(&mut replay, subject, payload) {
                report
                    .unreadable
                    .push((*seq, format!("{subject}: {err:#}")));
            }
        }
        report.events += events.len();
        from = end + 1;
        let switched = common::rebuild::switch(&live, &replay).await?;
        report.passes = pass;
        report.records = replay.records.len();
        let caught_up = switched.ahead == 0;
        report.switched = add(&report.switched, &switched);
        if caught_up {
            return Ok(report);
        }
    }
    bail!("the live replica kept moving on for {PASSES} passes; try again when it is quieter")
}

/// A connection string without its user and password, to print.
pub fn redacted(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_string();
    };
    let hosts = &rest[..rest.find('/').unwrap_or(rest.len())];
    match hosts.rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => uri.to_string(),
    }
}

fn add(total: &Switched, pass: &Switched) -> Switched {
    Switched {
        inserted: total.inserted + pass.inserted,
        updated: total.updated + pass.updated,
        same: pass.same,
        ahead: pass.ahead,
        unknown: pass.unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_string_is_printed_without_its_credentials() {
        assert_eq!(
            redacted("mongodb://orders:s3cret@db-0,db-1/?replicaSet=rs"),
            "mongodb://***@db-0,db-1/?replicaSet=rs"
        );
        assert_eq!(
            redacted("mongodb://127.0.0.1:27017/"),
            "mongodb://127.0.0.1:27017/"
        );
    }

    #[test]
    fn a_log_that_starts_after_its_first_event_is_refused() {
        assert_eq!(refusal(1), None);
        let refused = refusal(40).unwrap();
        assert!(refused.contains("starts at event 40"), "{refused}");
        assert!(refused.contains("nothing was changed"), "{refused}");
    }
}
