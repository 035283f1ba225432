//! Users, their bans and the attempt counts in Mongo: the only code of
//! this service that touches the database. A ban, its lifting and a
//! sign-out stage their events in the same transaction as the change.

mod attempts;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use common::events::{SessionEnded, UserBanned, UserUnbanned};
use common::outbox::Outbox;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

pub use attempts::{Attempts, Checked};

use crate::domain::{Email, PasswordHash};

/// A user as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub email: String,
    pub password_hash: String,
    #[serde(default)]
    pub banned: bool,
    /// What the admin who banned the user gave as the reason.
    #[serde(default, rename = "banReason", skip_serializing_if = "Option::is_none")]
    pub ban_reason: Option<String>,
    /// Grows by one with every ban and lifting: the events' version.
    #[serde(default)]
    pub version: i64,
}

/// What inserting a user came to.
pub enum Inserted {
    Created(UserRecord),
    EmailTaken,
}

#[derive(Clone)]
pub struct Users {
    collection: Collection<UserRecord>,
    outbox: Outbox,
}

impl Users {
    pub fn new(database: &Database) -> Self {
        Self {
            collection: database.collection("users"),
            outbox: Outbox::new(database),
        }
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The unique index that makes "Email in use" hold under concurrent signups.
    pub async fn init(&self) -> anyhow::Result<()> {
        self.outbox.init().await?;
        let index = common::mongo::index("email_unique", doc! { "email": 1 }, true);
        self.collection
            .create_index(index)
            .await
            .context("cannot create the users' email index")?;
        Ok(())
    }

    pub async fn insert(
        &self,
        email: &Email,
        hash: &PasswordHash,
    ) -> mongodb::error::Result<Inserted> {
        let user = UserRecord {
            id: ObjectId::new(),
            email: email.as_str().to_string(),
            password_hash: hash.as_str().to_string(),
            banned: false,
            ban_reason: None,
            version: 0,
        };
        match self.collection.insert_one(&user).await {
            Ok(_) => Ok(Inserted::Created(user)),
            Err(err) if common::mongo::is_duplicate_key(&err) => Ok(Inserted::EmailTaken),
            Err(err) => Err(err),
        }
    }

    pub async fn find_by_email(&self, email: &Email) -> mongodb::error::Result<Option<UserRecord>> {
        self.collection
            .find_one(doc! { "email": email.as_str() })
            .await
    }

    pub async fn find(&self, id: ObjectId) -> mongodb::error::Result<Option<UserRecord>> {
        self.collection.find_one(doc! { "_id": id }).await
    }

    /// Bans or lets back `id`; every session from before a ban ends with it.
    /// Asking for what holds already changes nothing. `None`: no such user.
    pub async fn set_banned(
        &self,
        id: ObjectId,
        banned: bool,
        reason: Option<&str>,
        now: DateTime<Utc>,
        sessions_expire: DateTime<Utc>,
    ) -> mongodb::error::Result<Option<UserRecord>> {
        common::transaction!(self.outbox, |session| {
            let changed = common::mongo::update_and_read(
                &self.collection,
                session,
                // Users from before bans have no `banned` field: not banned.
                if banned {
                    doc! { "_id": id, "banned": { "$ne": true } }
                } else {
                    doc! { "_id": id, "banned": true }
                },
                doc! { "$set": { "banned": banned, "banReason": reason }, "$inc": { "version": 1 } },
            )
            .await?;
            let Some(user) = changed else {
                return self
                    .collection
                    .find_one(doc! { "_id": id })
                    .session(&mut *session)
                    .await;
            };
            let user_id = user.id.to_hex();
            if banned {
                self.outbox
                    .stage(
                        session,
                        &UserBanned {
                            id: user_id.clone(),
                            version: user.version,
                        },
                    )
                    .await?;
                let ended = SessionEnded {
                    user_id,
                    session_id: None,
                    at: now,
                    expires_at: sessions_expire,
                };
                self.outbox.stage(session, &ended).await?;
            } else {
                self.outbox
                    .stage(
                        session,
                        &UserUnbanned {
                            id: user_id,
                            version: user.version,
                        },
                    )
                    .await?;
            }
            Ok(Some(user))
        })
        .await
    }

    /// Publishes that a session (or every session of a user before `at`) ended.
    pub async fn end_sessions(&self, ended: &SessionEnded) -> mongodb::error::Result<()> {
        common::transaction!(self.outbox, |session| {
            self.outbox.stage(session, ended).await
        })
        .await
    }
}
