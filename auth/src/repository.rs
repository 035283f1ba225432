//! Users in Mongo: the only code of this service that touches the database.

use anyhow::Context as _;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

use crate::domain::{Email, PasswordHash};

/// A user as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub email: String,
    pub password_hash: String,
}

/// What inserting a user came to.
pub enum Inserted {
    Created(UserRecord),
    EmailTaken,
}

#[derive(Clone)]
pub struct Users {
    collection: Collection<UserRecord>,
}

impl Users {
    pub fn new(database: &Database) -> Self {
        Self {
            collection: database.collection("users"),
        }
    }

    /// The unique index that makes "Email in use" hold under concurrent signups.
    pub async fn init(&self) -> anyhow::Result<()> {
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
}
