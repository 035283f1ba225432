//! Ended sessions in a service's own database: kept only until the
//! sessions they end would have expired, so the store stays small.

use chrono::{Duration, Utc};
use common::events::SessionEnded;
use common::handling::Outcome;
use common::revocations::Revocations;
use common::testing::service_settings;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};

#[tokio::test]
async fn an_ended_session_is_kept_until_it_would_have_expired_and_once() {
    let settings = service_settings("revocations");
    let (_, database) = common::mongo::connect(&settings.mongo_uri, &settings.mongo_db)
        .await
        .unwrap();
    let revocations = Revocations::new(&database);
    revocations.init().await.unwrap();
    let expires_at = Utc::now() + Duration::minutes(50);
    let ended = SessionEnded {
        user_id: "u1".into(),
        session_id: Some("s1".into()),
        at: Utc::now(),
        expires_at,
    };

    assert!(matches!(
        revocations.end(&ended, None).await.unwrap(),
        Outcome::Applied { .. }
    ));
    assert!(matches!(
        revocations.end(&ended, None).await.unwrap(),
        Outcome::Duplicate
    ));

    let rows = database.collection::<Document>("ended_sessions");
    let stored: Vec<Document> = rows
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let kept_until = stored[0]
        .get_datetime("expiresAt")
        .unwrap()
        .timestamp_millis();
    assert_eq!(kept_until, expires_at.timestamp_millis());
    // The server removes a row once its expiresAt has passed.
    let indexes: Vec<_> = rows
        .list_indexes()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let ttl = indexes
        .iter()
        .find(|index| index.keys == doc! { "expiresAt": 1 })
        .and_then(|index| index.options.as_ref()?.expire_after);
    assert_eq!(ttl, Some(std::time::Duration::ZERO), "{indexes:?}");
}
