//! Mongo helpers every service needs: connecting, recognising a unique-index
//! violation, and reading a record id from a URL.

use std::time::Duration;

use anyhow::Context as _;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Database, IndexModel};

use crate::config::Secret;

/// The server's code for a unique-index violation.
const DUPLICATE_KEY: i32 = 11000;

/// Connects to `uri` and returns the client and the database `name`.
pub async fn connect(uri: &Secret, name: &str) -> anyhow::Result<(Client, Database)> {
    let mut options = ClientOptions::parse(uri.expose())
        .await
        .context("MONGO_URI is not a valid MongoDB URI")?;
    options
        .server_selection_timeout
        .get_or_insert(Duration::from_secs(10));
    let client = Client::with_options(options).context("cannot create the MongoDB client")?;
    let database = client.database(name);
    Ok((client, database))
}

/// An index named `name` on `keys`, unique if asked.
pub fn index(name: &str, keys: Document, unique: bool) -> IndexModel {
    let options = IndexOptions::builder()
        .name(name.to_string())
        .unique(unique.then_some(true))
        .build();
    IndexModel::builder().keys(keys).options(options).build()
}

/// Whether the server is reachable (for readiness).
pub async fn ping(database: &Database) -> anyhow::Result<()> {
    database.run_command(doc! { "ping": 1 }).await?;
    Ok(())
}

/// Whether `err` is a unique-index violation, wherever the server reported it.
pub fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == DUPLICATE_KEY,
        ErrorKind::Command(command) => command.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(insert) => insert
            .write_errors
            .as_ref()
            .is_some_and(|errors| errors.iter().any(|e| e.code == DUPLICATE_KEY)),
        _ => false,
    }
}

/// The record id in a path segment; a malformed one is `None` (a 404, not a 500).
pub fn parse_id(raw: &str) -> Option<ObjectId> {
    ObjectId::parse_str(raw).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_id_is_none() {
        assert!(parse_id("not-an-id").is_none());
        assert!(parse_id("").is_none());
        assert!(parse_id("507f1f77bcf86cd799439011").is_some());
    }
}
