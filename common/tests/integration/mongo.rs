use common::testing::service_settings;
use mongodb::bson::{Document, doc, oid::ObjectId};

#[tokio::test]
async fn update_and_read_gives_the_changed_document_or_none_when_nothing_matches() {
    let settings = service_settings("mongo");
    let (client, database) = common::mongo::connect(&settings.mongo_uri, &settings.mongo_db)
        .await
        .unwrap();
    let tickets = database.collection::<Document>("tickets");
    let id = ObjectId::new();
    tickets
        .insert_one(doc! { "_id": id, "version": 0_i64 })
        .await
        .unwrap();
    let mut session = client.start_session().await.unwrap();

    session.start_transaction().await.unwrap();
    let from_version_0 = doc! { "_id": id, "version": 0_i64 };
    let bump = doc! { "$inc": { "version": 1_i64 } };
    let changed = common::mongo::update_and_read(
        &tickets,
        &mut session,
        from_version_0.clone(),
        bump.clone(),
    )
    .await
    .unwrap();
    let missed = common::mongo::update_and_read(&tickets, &mut session, from_version_0, bump)
        .await
        .unwrap();
    let without_id = common::mongo::update_and_read(
        &tickets,
        &mut session,
        doc! {},
        doc! { "$set": { "x": 1 } },
    )
    .await;
    session.commit_transaction().await.unwrap();

    assert_eq!(changed.unwrap().get_i64("version").unwrap(), 1);
    assert_eq!(missed, None, "version 0 is gone");
    assert!(without_id.is_err());
    let stored = tickets.find_one(doc! { "_id": id }).await.unwrap().unwrap();
    assert_eq!(stored.get_i64("version").unwrap(), 1);
    assert!(
        !stored.contains_key("x"),
        "nothing was written without an _id"
    );
}
