//! The timeline and the archive of deleted objects, on every backend, the
//! sandbox and a real kube-apiserver: stored changes with their author,
//! snapshots, a cluster Event (counted up when it repeats) with its
//! battery, filters and search; an object deleted outside bi archived and
//! restored by a snapshot; objects bi deleted archived and restored as
//! unmanaged objects that no snapshot deletes again; retention.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bi_control::archive;
use bi_control::desired_state;
use bi_control::engine::Engine;
use bi_control::entities::{deleted_object, timeline_event};
use bi_control::reconciler::{Reconciler, ReconcilerSettings};
use bi_control::timeline::{self, TimelinePage, TimelineQuery};
use bi_model::catalog::BatteryKind;
use bi_model::generate::ResourcePath;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Secret};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;
use support::cluster::on_every_cluster;

/// Polls `read` (every 100 ms, at most 30 s) until `done` holds; the last
/// reading.
async fn eventually<T, F, Fut>(what: &str, read: F, done: impl Fn(&T) -> bool) -> T
where
    T: std::fmt::Debug,
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
{
    let mut last = read().await;
    for _ in 0..300 {
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        last = read().await;
    }
    panic!("{what}: not seen in 30 s; last reading: {last:#?}");
}

/// Migrates `db` and installs the Timeline battery, as alice.
async fn install_timeline(db: &bi_control::Database) {
    db.migrate().await.unwrap();
    desired_state::change(db, "alice", "install timeline", |s| {
        s.install(&[BatteryKind::Timeline]).unwrap();
        Ok(())
    })
    .await
    .unwrap();
}

fn has(page: &TimelinePage, category: &str, reason: &str) -> bool {
    page.entries
        .iter()
        .any(|e| e.category == category && e.reason == reason)
}

#[tokio::test]
async fn the_timeline_records_and_the_archive_restores() {
    on_every_cluster(
        "the_timeline_records_and_the_archive_restores",
        |t, cluster| async move {
            install_timeline(&t.db).await;
            let client = cluster.client();
            let engine = Arc::new(Engine::new(t.db.clone(), client.clone()).await.unwrap());
            let (reconciler, task) = Reconciler::start(
                Arc::clone(&engine),
                ReconcilerSettings {
                    recheck_every: Duration::from_secs(3600),
                    drift_every: Duration::from_secs(3600),
                },
            );
            let cache = engine.cache().clone();
            let db = t.db.clone();
            let read = |query: TimelineQuery| {
                let (db, cache) = (db.clone(), cache.clone());
                async move { timeline::query(&db, &cache, &query).await.unwrap() }
            };

            // The first snapshot, then a stored change: one entry per
            // battery and object it touched, with who made it.
            eventually("the first snapshot", || read(TimelineQuery::default()), |p| {
                has(p, "snapshot", "succeeded")
            })
            .await;
            support::install_redis(&t.db).await;
            let redis = TimelineQuery {
                battery: Some("redis".to_owned()),
                category: Some("change".to_owned()),
                ..TimelineQuery::default()
            };
            let changes = eventually("redis's change", || read(redis.clone()), |p| {
                has(p, "change", "install") && has(p, "change", "create")
            })
            .await;
            assert!(changes.recording && changes.retention.as_deref() == Some("720h"));
            let install = changes.entries.iter().find(|e| e.reason == "install").unwrap();
            assert!(
                install.message.starts_with("test: install redis (version 2)"),
                "{install:?}"
            );
            assert_eq!(install.source, "bi");
            reconciler.request("test").finished().await.unwrap();

            // A cluster Event about redis's operator: its battery found,
            // a repeat counted on the same row.
            let events: Api<Event> = Api::namespaced(client.clone(), "battery-base");
            let event: Event = serde_json::from_value(json!({
                "metadata": {"name": "redis-operator.backoff", "namespace": "battery-base"},
                "involvedObject": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "battery-base", "name": "redis-operator"},
                "reason": "BackOff",
                "message": "Back-off pulling image",
                "type": "Warning",
                "count": 1,
                "firstTimestamp": "2026-12-05T10:00:00Z",
                "lastTimestamp": "2026-12-05T10:00:00Z",
                "source": {"component": "test"},
            }))
            .unwrap();
            events.create(&PostParams::default(), &event).await.unwrap();
            let warnings = TimelineQuery {
                battery: Some("redis".to_owned()),
                kind: Some("Deployment".to_owned()),
                warnings: true,
                search: Some("back-OFF".to_owned()),
                ..TimelineQuery::default()
            };
            let found = eventually("the cluster Event", || read(warnings.clone()), |p| {
                has(p, "event", "BackOff")
            })
            .await;
            assert_eq!(found.entries.len(), 1, "{found:#?}");
            assert_eq!(found.entries[0].source, "cluster");
            events
                .patch(
                    "redis-operator.backoff",
                    &PatchParams::default(),
                    &Patch::Merge(json!({"count": 3, "lastTimestamp": "2026-12-05T10:05:00Z"})),
                )
                .await
                .unwrap();
            let counted = eventually("the repeat", || read(warnings.clone()), |p| {
                p.entries.first().is_some_and(|e| e.count == 3)
            })
            .await;
            assert_eq!(counted.entries.len(), 1, "one row per Event: {counted:#?}");
            let nothing = read(TimelineQuery {
                battery: Some("grafana".to_owned()),
                ..TimelineQuery::default()
            })
            .await;
            assert!(nothing.entries.is_empty(), "{nothing:#?}");

            // Someone deletes an object bi manages and still wants: it is
            // archived as theirs, on the timeline as a warning, and
            // undeleting it runs the snapshot that creates it again.
            let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "battery-core");
            let mut written = db.watch_timeline();
            let before = *written.borrow_and_update();
            config_maps
                .delete("timeline", &DeleteParams::default())
                .await
                .unwrap();
            let path = "v1/ConfigMap/battery-core/timeline";
            let listed = eventually(
                "the archived ConfigMap",
                || async { archive::list(&db, &cache).await.unwrap() },
                |list| list.objects.iter().any(|o| o.path == path),
            )
            .await;
            let theirs = listed.objects.iter().find(|o| o.path == path).unwrap();
            // NB: the row is listed as soon as it is stored; the followers
            // are told right after.
            tokio::time::timeout(
                std::time::Duration::from_secs(10),
                written.wait_for(|revision| *revision > before),
            )
            .await
            .expect("the archive's write is told to the pages that follow it")
            .unwrap();
            assert_eq!(theirs.deleted_by, "outside bi");
            assert_eq!(theirs.app, "timeline");
            assert!(theirs.desired && theirs.snapshot.is_none());
            let deletions = TimelineQuery {
                category: Some("deletion".to_owned()),
                battery: Some("timeline".to_owned()),
                ..TimelineQuery::default()
            };
            let entry = eventually("the deletion entry", || read(deletions.clone()), |p| {
                !p.entries.is_empty()
            })
            .await;
            assert!(entry.entries[0].warning);
            assert!(
                entry.entries[0].message.contains("deleted outside bi"),
                "{entry:#?}"
            );
            let restored = archive::undelete(&reconciler, theirs.id, "alice")
                .await
                .unwrap();
            assert!(restored.message.contains("snapshot"), "{restored:?}");
            assert!(config_maps.get_opt("timeline").await.unwrap().is_some());
            let again = archive::undelete(&reconciler, theirs.id, "alice").await;
            assert!(
                matches!(&again, Err(bi_control::Error::Conflict(m)) if m.contains("restored already")),
                "{again:?}"
            );

            // bi deletes the objects of a removed Redis instance: each
            // archived as bi's, with its snapshot.
            desired_state::change(&t.db, "alice", "remove redis cache", |s| {
                s.redis_instances.clear();
                Ok(())
            })
            .await
            .unwrap();
            let report = reconciler.request("test").finished().await.unwrap();
            assert!(report.counts.deleted > 0, "{report:?}");
            let list = archive::list(&db, &cache).await.unwrap();
            let secret = list
                .objects
                .iter()
                .find(|o| o.path.ends_with("/redis-cache-connection") && o.path.starts_with("v1/Secret/"))
                .unwrap_or_else(|| panic!("the connection Secret is archived: {list:#?} ({report:?})"));
            assert_eq!(secret.deleted_by, "bi");
            assert!(secret.snapshot.is_some() && !secret.desired);
            // Its last body is kept, its values never shown.
            let detail = archive::detail(&db, &cache, secret.id).await.unwrap();
            assert!(detail.yaml.contains("<redacted>"), "{}", detail.yaml);
            let password = detail.yaml.lines().any(|l| l.contains("password:") && !l.contains("<redacted>"));
            assert!(!password, "{}", detail.yaml);
            eventually("bi's deletion on the timeline", || read(TimelineQuery {
                category: Some("deletion".to_owned()),
                search: Some("redis-cache-connection".to_owned()),
                ..TimelineQuery::default()
            }), |p| p.entries.iter().any(|e| e.message.contains("deleted by snapshot") && e.battery.as_deref() == Some("redis"))).await;

            // Undeleted: created from its last body, no longer bi's, and
            // the next snapshot leaves it alone.
            let done = archive::undelete(&reconciler, secret.id, "alice").await.unwrap();
            assert!(done.message.contains("does not manage it"), "{done:?}");
            let namespace = secret.path.split('/').nth(2).unwrap();
            let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
            let back = secrets.get("redis-cache-connection").await.unwrap();
            let labels = back.metadata.labels.clone().unwrap();
            assert_eq!(labels.get(archive::UNDELETED_LABEL).map(String::as_str), Some("true"));
            assert!(!labels.contains_key(bi_model::generate::MANAGED_LABEL));
            assert!(back.data.is_some_and(|d| d.contains_key("password")), "its values are restored");
            reconciler.request("test").finished().await.unwrap();
            assert!(secrets.get_opt("redis-cache-connection").await.unwrap().is_some());
            let undeletes = read(TimelineQuery {
                category: Some("undelete".to_owned()),
                ..TimelineQuery::default()
            })
            .await;
            assert_eq!(undeletes.entries.len(), 2, "{undeletes:#?}");
            assert!(undeletes.entries.iter().all(|e| e.message.starts_with("alice: ")));

            // Refused, naming the field.
            let refused = timeline::query(&db, &cache, &TimelineQuery {
                category: Some("gossip".to_owned()),
                ..TimelineQuery::default()
            })
            .await;
            assert!(matches!(&refused, Err(bi_control::Error::Invalid(e)) if e.field == "category"), "{refused:?}");
            let refused = timeline::query(&db, &cache, &TimelineQuery {
                limit: Some(0),
                ..TimelineQuery::default()
            })
            .await;
            assert!(matches!(&refused, Err(bi_control::Error::Invalid(e)) if e.field == "limit"), "{refused:?}");

            // Pages: the newest first, `before` goes on.
            let first = read(TimelineQuery { limit: Some(2), ..TimelineQuery::default() }).await;
            assert_eq!(first.entries.len(), 2);
            assert!(first.entries[0].id > first.entries[1].id);
            let next = read(TimelineQuery { limit: Some(2), before: first.next_before, ..TimelineQuery::default() }).await;
            assert!(next.entries.iter().all(|e| e.id < first.entries[1].id));

            // Retention: what is older goes.
            let all = read(TimelineQuery { limit: Some(500), ..TimelineQuery::default() }).await;
            let oldest = all.entries.last().unwrap().id;
            let row = timeline_event::Entity::find_by_id(oldest).one(db.connection()).await.unwrap().unwrap();
            let mut aged: timeline_event::ActiveModel = row.into();
            aged.at = Set(chrono::Utc::now() - chrono::Duration::days(2));
            aged.update(db.connection()).await.unwrap();
            let pruned = timeline::prune(&db, bi_model::units::Duration::hours(24)).await.unwrap();
            assert_eq!(pruned, 1);
            let after = read(TimelineQuery { limit: Some(500), ..TimelineQuery::default() }).await;
            assert_eq!(after.entries.len(), all.entries.len() - 1);

            task.abort();
        },
    )
    .await;
}

#[tokio::test]
async fn an_object_deleted_while_bi_was_not_watching_is_archived_when_found_missing() {
    on_every_cluster(
        "an_object_deleted_while_bi_was_not_watching_is_archived_when_found_missing",
        |t, cluster| async move {
            install_timeline(&t.db).await;
            let client = cluster.client();
            // NB: no reconciler and no timeline recorder: nothing watches
            // the cluster between snapshots, as when bi is stopped.
            let engine = Engine::new(t.db.clone(), client.clone()).await.unwrap();
            let db = t.db.clone();
            let cache = engine.cache().clone();
            engine.snapshot("test").await.unwrap();
            let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "battery-core");
            let old = config_maps.get("timeline").await.unwrap();
            // NB: creation times are whole seconds; the deletion comes later.
            tokio::time::sleep(Duration::from_millis(1100)).await;
            config_maps
                .delete("timeline", &DeleteParams::default())
                .await
                .unwrap();
            let path = "v1/ConfigMap/battery-core/timeline";
            assert!(archive::list(&db, &cache).await.unwrap().objects.is_empty());

            // The next snapshot creates it again and archives the body bi
            // last applied, as deleted outside bi and restored by it.
            let report = engine.snapshot("test").await.unwrap();
            let created = report.outcomes.iter().find(|(p, _)| p.to_string() == path);
            assert!(
                matches!(created, Some((_, bi_control::engine::Outcome::Created))),
                "{report:?}"
            );
            let list = archive::list(&db, &cache).await.unwrap();
            assert_eq!(list.objects.len(), 1, "{list:#?}");
            let found = &list.objects[0];
            assert_eq!(found.path, path);
            assert_eq!(found.deleted_by, archive::UNSEEN);
            assert_eq!(found.app, "timeline");
            assert_eq!(found.undeleted_by.as_deref(), Some("bi"));
            let restored_by = format!("snapshot {}", report.id);
            assert_eq!(found.restored.as_deref(), Some(restored_by.as_str()));
            let detail = archive::detail(&db, &cache, found.id).await.unwrap();
            assert!(detail.yaml.contains("kind: ConfigMap"), "{}", detail.yaml);
            assert!(detail.yaml.contains("name: timeline"), "{}", detail.yaml);
            let entries = timeline::query(
                &db,
                &cache,
                &TimelineQuery {
                    category: Some("deletion".to_owned()),
                    ..TimelineQuery::default()
                },
            )
            .await
            .unwrap();
            assert!(
                entries.entries.iter().any(|e| e.warning
                    && e.message.contains("while bi was not watching")
                    && e.battery.as_deref() == Some("timeline")),
                "{entries:#?}"
            );

            // The watch telling of the same deletion late adds nothing;
            // a later deletion of the object created again is archived.
            let late = archive::record(
                &db,
                &ResourcePath::new("v1", "ConfigMap", Some("battery-core"), "timeline"),
                &serde_json::from_value(serde_json::to_value(&old).unwrap()).unwrap(),
                None,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
            assert!(late.is_none(), "{late:?}");
            let again = engine.snapshot("test").await.unwrap();
            assert_eq!(again.counts.created, 0, "{again:?}");
            assert_eq!(archive::list(&db, &cache).await.unwrap().objects.len(), 1);
            let new = config_maps.get("timeline").await.unwrap();
            let later = archive::record(
                &db,
                &ResourcePath::new("v1", "ConfigMap", Some("battery-core"), "timeline"),
                &serde_json::from_value(serde_json::to_value(&new).unwrap()).unwrap(),
                None,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
            assert!(later.is_some());

            // Kept as long as the timeline's entries: older rows go.
            let row = deleted_object::Entity::find_by_id(found.id)
                .one(db.connection())
                .await
                .unwrap()
                .unwrap();
            let mut aged: deleted_object::ActiveModel = row.into();
            aged.deleted_at = Set(chrono::Utc::now() - chrono::Duration::days(2));
            aged.update(db.connection()).await.unwrap();
            let pruned = archive::prune(&db, bi_model::units::Duration::hours(24))
                .await
                .unwrap();
            assert_eq!(pruned, 1);
            let left = archive::list(&db, &cache).await.unwrap();
            assert_eq!(left.objects.len(), 1, "{left:#?}");
            assert!(left.objects.iter().all(|o| o.id != found.id));
        },
    )
    .await;
}
