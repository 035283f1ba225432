//! What ends a session before its time: a sign-out (one session, or every
//! session a user had), and a ban. Every service with routes keeps them in
//! its own database (applied from `session.ended`, `user.banned`,
//! `user.unbanned`; auth writes them itself) and reads them back twice a
//! second into a view the session check consults, so a request never waits
//! on the database for it. Ended sessions are kept only until they would
//! have expired anyway (a TTL index).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};
use mongodb::options::IndexOptions;
use mongodb::{ClientSession, Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::events::{Event, SessionEnded, UserBanned, UserUnbanned};
use crate::handling::Outcome;

/// How often the view is read back from the database.
const REFRESH: Duration = Duration::from_millis(500);
/// How far back each read looks for rows, beyond the newest it saw: ids
/// made by other replicas in the same moments may sort a little earlier.
const OVERLAP_SECONDS: u32 = 10;

/// Why a session no longer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Ended,
    Banned,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EndedRow {
    #[serde(rename = "_id")]
    id: ObjectId,
    /// The event's id: an event applied twice is one row.
    key: String,
    user_id: String,
    #[serde(default)]
    session_id: Option<String>,
    at: bson::DateTime,
    expires_at: bson::DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BannedRow {
    #[serde(rename = "_id")]
    user_id: String,
    version: i64,
    banned: bool,
}

#[derive(Default)]
struct View {
    /// Ended sessions, with when they expire.
    sessions: HashMap<String, i64>,
    /// Users whose sessions issued up to a time (unix milliseconds) ended,
    /// with when (unix seconds) the last of those expires.
    users: HashMap<String, (i64, i64)>,
    /// Each user's newest ban state known, by version: whether banned.
    bans: HashMap<String, (i64, bool)>,
    /// The newest row read, by id.
    newest: Option<ObjectId>,
}

impl View {
    fn is_banned(&self, user_id: &str) -> bool {
        self.bans.get(user_id).is_some_and(|(_, banned)| *banned)
    }

    /// Takes version `version` of a user's ban state unless a newer one is
    /// known: a read that began before a ban was applied here must not undo it.
    fn take_ban(&mut self, user_id: &str, version: i64, banned: bool) {
        let held = self.bans.get(user_id).map(|(held, _)| *held);
        if supersedes(held, version) {
            self.bans.insert(user_id.to_string(), (version, banned));
        }
    }
}

/// Whether version `seen` of a ban state replaces the `held` one.
fn supersedes(held: Option<i64>, seen: i64) -> bool {
    held.is_none_or(|held| seen >= held)
}

/// The revocations as last read. Cheap to clone.
#[derive(Clone, Default)]
pub struct RevokedView(Arc<RwLock<View>>);

impl RevokedView {
    /// Whether user `user_id`'s session `sid`, issued at `issued_at_ms`,
    /// no longer counts, and why.
    pub fn check(&self, user_id: &str, sid: &str, issued_at_ms: u64) -> Option<Revoked> {
        let view = self.0.read().expect("revocations");
        if view.is_banned(user_id) {
            return Some(Revoked::Banned);
        }
        let issued = i64::try_from(issued_at_ms).unwrap_or(i64::MAX);
        let user_ended = view
            .users
            .get(user_id)
            .is_some_and(|(before, _)| issued <= *before);
        (view.sessions.contains_key(sid) || user_ended).then_some(Revoked::Ended)
    }

    fn note(&self, row: &EndedRow) {
        let mut view = self.0.write().expect("revocations");
        let expires = row.expires_at.timestamp_millis() / 1000;
        match &row.session_id {
            Some(sid) => {
                view.sessions.insert(sid.clone(), expires);
            }
            None => {
                let at = row.at.timestamp_millis();
                let entry = view
                    .users
                    .entry(row.user_id.clone())
                    .or_insert((at, expires));
                *entry = (entry.0.max(at), entry.1.max(expires));
            }
        }
    }
}

/// A service's store of revocations. Cheap to clone.
#[derive(Clone)]
pub struct Revocations {
    ended: Collection<EndedRow>,
    banned: Collection<BannedRow>,
    view: RevokedView,
}

impl Revocations {
    pub fn new(database: &Database) -> Self {
        Self {
            ended: database.collection("ended_sessions"),
            banned: database.collection("banned_users"),
            view: RevokedView::default(),
        }
    }

    /// One row per event; rows gone once their sessions would have expired.
    pub async fn init(&self) -> anyhow::Result<()> {
        let ttl = IndexModel::builder()
            .keys(doc! { "expiresAt": 1 })
            .options(
                IndexOptions::builder()
                    .name("gone_when_expired".to_string())
                    .expire_after(Duration::ZERO)
                    .build(),
            )
            .build();
        let one_per_event = crate::mongo::index("one_per_event", doc! { "key": 1 }, true);
        self.ended
            .create_indexes([ttl, one_per_event])
            .await
            .context("cannot create the ended sessions' indexes")?;
        self.refresh().await
    }

    /// What the session check consults.
    pub fn view(&self) -> RevokedView {
        self.view.clone()
    }

    /// Notes an ended session (or every session of a user before a time),
    /// in `session`'s transaction if given.
    pub async fn end(
        &self,
        ended: &SessionEnded,
        session: Option<&mut ClientSession>,
    ) -> mongodb::error::Result<Outcome> {
        let row = EndedRow {
            id: ObjectId::new(),
            key: ended.message_id(),
            user_id: ended.user_id.clone(),
            session_id: ended.session_id.clone(),
            at: bson::DateTime::from_millis(ended.at.timestamp_millis()),
            expires_at: bson::DateTime::from_millis(ended.expires_at.timestamp_millis()),
        };
        let inserted = match session {
            Some(session) => self.ended.insert_one(&row).session(session).await,
            None => self.ended.insert_one(&row).await,
        };
        match inserted {
            Ok(_) => {
                self.view.note(&row);
                Ok(Outcome::applied())
            }
            Err(err) if crate::mongo::is_duplicate_key(&err) => Ok(Outcome::Duplicate),
            Err(err) => Err(err),
        }
    }

    /// Applies version `version` of a user's ban (`banned` or lifted); the
    /// first is version 1, the user's record before any ban being version 0.
    pub async fn ban(
        &self,
        user_id: &str,
        version: i64,
        banned: bool,
    ) -> mongodb::error::Result<Outcome> {
        let gate = |v| crate::handling::Gate::at("ban", user_id, v);
        let written = if version == 1 {
            let row = BannedRow {
                user_id: user_id.to_string(),
                version,
                banned,
            };
            match self.banned.insert_one(&row).await {
                Ok(_) => true,
                Err(err) if crate::mongo::is_duplicate_key(&err) => false,
                Err(err) => return Err(err),
            }
        } else {
            self.banned
                .update_one(
                    doc! { "_id": user_id, "version": version - 1 },
                    doc! { "$set": { "version": version, "banned": banned } },
                )
                .await?
                .matched_count
                == 1
        };
        if written {
            let mut view = self.view.0.write().expect("revocations");
            view.take_ban(user_id, version, banned);
            return Ok(Outcome::opening(gate(version)));
        }
        let held = self
            .banned
            .find_one(doc! { "_id": user_id })
            .await?
            .map(|row| row.version);
        Ok(match crate::replica::step(held.or(Some(0)), version) {
            crate::replica::Step::Duplicate => Outcome::Duplicate,
            _ => Outcome::Early(gate(version - 1)),
        })
    }

    /// Adds the handlers of `session.ended`, `user.banned` and
    /// `user.unbanned` to a service's consumers. After a ban or its lifting
    /// is applied (or met again), `effect` brings the service's own records
    /// in line with whether the user is banned now: it must be idempotent.
    pub fn consume<F, Fut>(
        &self,
        consumers: crate::consumers::Consumers,
        effect: F,
    ) -> crate::consumers::Consumers
    where
        F: Fn(String, bool) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let (ends, bans, unbans) = (self.clone(), self.clone(), self.clone());
        let (ban_effect, unban_effect) = (effect.clone(), effect);
        consumers
            .on(move |ended: SessionEnded| {
                let ends = ends.clone();
                async move { Ok(ends.end(&ended, None).await?) }
            })
            .on(move |event: UserBanned| {
                let (bans, effect) = (bans.clone(), ban_effect.clone());
                async move { bans.apply_ban(&event.id, event.version, true, effect).await }
            })
            .on(move |event: UserUnbanned| {
                let (unbans, effect) = (unbans.clone(), unban_effect.clone());
                async move {
                    unbans
                        .apply_ban(&event.id, event.version, false, effect)
                        .await
                }
            })
    }

    async fn apply_ban<F, Fut>(
        &self,
        user_id: &str,
        version: i64,
        banned: bool,
        effect: F,
    ) -> crate::handling::Handled
    where
        F: Fn(String, bool) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let outcome = self.ban(user_id, version, banned).await?;
        if !matches!(outcome, Outcome::Early(_)) {
            let now = self
                .banned
                .find_one(doc! { "_id": user_id })
                .await?
                .is_some_and(|row| row.banned);
            effect(user_id.to_string(), now).await?;
        }
        Ok(outcome)
    }

    /// Whether a user is banned, as this service knows.
    pub fn is_banned(&self, user_id: &str) -> bool {
        self.view.0.read().expect("revocations").is_banned(user_id)
    }

    /// Reads what other replicas wrote since the last read, and forgets what expired.
    pub async fn refresh(&self) -> anyhow::Result<()> {
        let newest = self.view.0.read().expect("revocations").newest;
        let filter = match newest {
            Some(newest) => {
                let since =
                    newest.timestamp().timestamp_millis() / 1000 - i64::from(OVERLAP_SECONDS);
                let since =
                    ObjectId::from_parts(u32::try_from(since.max(0)).unwrap_or(0), [0; 5], [0; 3]);
                doc! { "_id": { "$gt": since } }
            }
            None => doc! {},
        };
        let rows: Vec<EndedRow> = self.ended.find(filter).await?.try_collect().await?;
        let bans: Vec<BannedRow> = self.banned.find(doc! {}).await?.try_collect().await?;
        for row in &rows {
            self.view.note(row);
        }
        let now = Utc::now().timestamp();
        let mut view = self.view.0.write().expect("revocations");
        for row in bans {
            view.take_ban(&row.user_id, row.version, row.banned);
        }
        view.sessions.retain(|_, expires| *expires > now);
        view.users.retain(|_, (_, expires)| *expires > now);
        if let Some(last) = rows.iter().map(|row| row.id).max() {
            view.newest = Some(view.newest.map_or(last, |seen| seen.max(last)));
        }
        Ok(())
    }

    /// Reads back twice a second until `shutdown`. Run it under supervision.
    pub async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let Err(err) = self.refresh().await {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "cannot read the revocations back"
                );
            }
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(REFRESH) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_from_before_a_lifted_ban_does_not_ban_again() {
        let mut view = View::default();
        view.take_ban("u1", 1, true);
        view.take_ban("u1", 2, false);
        // A refresh whose read came before version 2 was written.
        view.take_ban("u1", 1, true);
        assert!(!view.is_banned("u1"));
    }

    #[test]
    fn a_read_from_before_a_ban_does_not_lift_it() {
        let mut view = View::default();
        view.take_ban("u1", 3, true);
        view.take_ban("u1", 2, false);
        assert!(view.is_banned("u1"));
    }

    #[test]
    fn a_newer_state_read_back_replaces_the_one_held() {
        let mut view = View::default();
        view.take_ban("u1", 1, true);
        view.take_ban("u1", 2, false);
        assert!(!view.is_banned("u1"));
        assert!(!view.is_banned("u2"), "never banned");
    }
}
