//! The control server's HTTP JSON API, `/api/v1/…`, used by the `bi` CLI
//! and the live plan viewer. Handlers are thin: validate, call
//! `bi-control`, map to a response. Every route is listed in
//! [`crate::router`]; bodies are JSON unless said otherwise.
//!
//! | Method | Route | Body | Response |
//! |---|---|---|---|
//! | GET | `/api/v1/status` | | [`bi_api::status::Status`]: installation, cluster, installed batteries, desired version, last snapshot, drifted paths |
//! | GET | `/api/v1/cluster/kinds` | | [`bi_api::explorer::KindRow`] list: every kind the explorer shows, with its objects counted (from the cluster cache) |
//! | GET | `/api/v1/cluster/objects?kind=apps/v1/Deployment&namespace=&labels=&app=` | | [`bi_api::explorer::ObjectList`]: the kind's objects that match |
//! | GET | `/api/v1/cluster/object?path=apps/v1/Deployment/ns/name` | | [`bi_api::explorer::ObjectDetail`]: YAML (a Secret's values redacted), conditions, owners, children, events, what bi knows |
//! | GET | `/api/v1/cluster/changes` | | server-sent events: the cluster cache's revision each time it changes |
//! | GET | `/api/v1/cluster/pods?of=web` | | [`bi_api::explorer::PodRow`] list: the pods of a service, a battery, or a `battery/app` (404 when it runs no workloads) |
//! | GET | `/api/v1/cluster/logs?namespace=&pod=&container=&previous=&tail=&follow=` | | a container's log (`text/plain`), streamed while `follow` |
//! | GET | `/api/v1/cluster/logs/events?…` | | the same log as server-sent events (one per line), then `end` (or `refused` with why) |
//! | GET | `/api/v1/timeline?battery=&project=&kind=&category=&warnings=&search=&before=&limit=` | | [`bi_api::timeline::TimelinePage`]: cluster Events and bi's changes, snapshots, drift, deletions and undeletes, newest first |
//! | GET | `/api/v1/timeline/changes` | | server-sent events: a message each time bi writes the timeline or the archive |
//! | GET | `/api/v1/deleted` | | [`bi_api::timeline::DeletedList`]: the archive of deleted objects bi managed |
//! | GET | `/api/v1/deleted/{id}` | | [`bi_api::timeline::DeletedDetail`]: one, with its last body as YAML (a Secret's values redacted) |
//! | POST | `/api/v1/deleted/{id}/undelete` | | [`bi_api::timeline::Undeleted`]: restored, by a snapshot while bi still wants it, else from its last body as an unmanaged object (editors) |
//! | GET | `/api/v1/drift` | | [`bi_api::drift::DriftView`]: open drift findings, the latest closed ones, the last sweep and the drift mode |
//! | POST | `/api/v1/drift/sweep` | | sweeps now; the [`bi_api::drift::DriftView`] after it (editors) |
//! | POST | `/api/v1/drift/repair` | | 202 [`bi_api::snapshots::Requested`]: the snapshot that re-applies every open finding's object (editors) |
//! | POST | `/api/v1/drift/mode` | [`bi_api::drift::DriftMode`] `{"report_only":true}` | the [`bi_api::drift::DriftView`] after it (admins) |
//! | GET | `/api/v1/reach` | | [`bi_api::reach::ReachView`]: every address (battery UIs, notebooks, exposed services) with its route's and certificate's status, the gateway, and UIs nothing routes to |
//! | GET | `/api/v1/sso` | | [`bi_api::sso::SsoView`]: Keycloak's users (with the bi role their groups give) and clients, read now (admins) |
//! | POST | `/api/v1/sso/users` | [`bi_api::sso::NewSsoUser`] `{"username","email","role","password"}` | the [`bi_api::sso::SsoView`] after it (admins) |
//! | POST | `/api/v1/sso/users/{username}` | [`bi_api::sso::SsoUserChange`] `{"change":"disable"}`, `enable`, `{"change":"reset_password","password"}`, `{"change":"set_role","role"}` | the [`bi_api::sso::SsoView`] after it (admins) |
//! | GET | `/api/v1/sso/initial-password` | | [`sso::InitialPassword`]: the first Keycloak administrator's initial password (admins, with a token only: never to a browser) |
//! | GET | `/api/v1/ca.crt` | | the Battery CA's certificate (PEM, `application/x-pem-file`), to trust the gateway's certificates; 404 while there is none |
//! | GET | `/api/v1/batteries` | | every catalog battery ([`bi_api::batteries::BatteryStatus`]) |
//! | GET | `/api/v1/batteries/{id}` | | [`bi_api::batteries::BatteryDetail`], with the `version` it was read at |
//! | GET | `/api/v1/batteries/{id}/install` | | what installing would do ([`bi_api::batteries::InstallPreview`]) |
//! | POST | `/api/v1/batteries/{id}/install` | [`bi_api::batteries::Settings`] `{"settings": ["memory=512Mi"]}` | [`bi_api::batteries::InstallOutcome`] |
//! | POST | `/api/v1/batteries/{id}/configure` | [`bi_api::batteries::Settings`] `{"settings", "expected_version"}` | [`Changed`] |
//! | DELETE | `/api/v1/batteries/{id}?expected_version=N` | | [`bi_api::batteries::UninstallOutcome`] |
//! | GET | `/api/v1/projects` | | [`bi_api::projects::ProjectSummary`] list |
//! | POST | `/api/v1/projects` | [`bi_model::objects::Project`] `{"name","description"}` | [`Changed`] |
//! | GET | `/api/v1/projects/{name}` | | [`bi_api::projects::ProjectDetail`], with `version` |
//! | POST | `/api/v1/projects/{name}/rename` | [`bi_api::projects::Rename`] `{"new_name", "expected_version"}` | [`Changed`] |
//! | DELETE | `/api/v1/projects/{name}?cascade=true&expected_version=N` | | [`Changed`] |
//! | GET | `/api/v1/objects?kind=redis_instance` | | [`bi_api::projects::ObjectRef`] list |
//! | POST | `/api/v1/objects` | [`bi_control::operations::ProjectObject`] `{"kind","project","object"}` | [`Changed`] |
//! | GET | `/api/v1/objects/{kind}/{name}` | | [`bi_api::projects::ObjectRead`]: the object and `version` |
//! | PUT | `/api/v1/objects/{kind}/{name}` | [`bi_api::projects::ObjectUpdate`]: the object and `expected_version` | [`Changed`] |
//! | DELETE | `/api/v1/objects/{kind}/{name}?expected_version=N` | | [`Changed`] |
//! | POST | `/api/v1/objects/{kind}/{name}/scale` | [`bi_api::projects::Scale`] `{"replicas"}` or `{"min_scale","max_scale"}`, and `expected_version` | [`Changed`] |
//! | GET | `/api/v1/plan` | | what a snapshot would do now ([`bi_api::snapshots::PlanPreview`]) |
//! | POST | `/api/v1/snapshots` | | 202 [`bi_api::snapshots::Requested`] `{"request"}`: follow it on `/api/v1/events` |
//! | GET | `/api/v1/snapshots?limit=20` | | [`bi_api::snapshots::SnapshotSummary`] list, newest first |
//! | GET | `/api/v1/snapshots/{id}` | | [`bi_api::snapshots::SnapshotDetail`] |
//! | GET | `/api/v1/snapshots/diff?a=1&b=2` | | [`bi_api::snapshots::SnapshotDiff`] |
//! | POST | `/api/v1/snapshots/prune` | [`bi_api::snapshots::PruneRequest`] `{"keep_snapshots","keep_days","dry_run"}` (each optional) | [`bi_api::snapshots::PruneReport`] (admins) |
//! | GET | `/api/v1/orphans` | | the orphans' paths: managed objects no inventory knows |
//! | POST | `/api/v1/orphans/prune` | [`bi_api::snapshots::OrphanPrune`] `{"paths"}` (none: all) | [`bi_api::snapshots::OrphansPruned`] (after the snapshot that deleted them ran) |
//! | POST | `/api/v1/rollback` | [`bi_api::snapshots::RollbackRequest`] `{"snapshot"}` | [`bi_api::snapshots::RollbackDone`] (after the rollback's snapshot ran) |
//! | GET | `/api/v1/export` | | the desired resources as one YAML stream (`application/yaml`), secrets as placeholders |
//! | GET | `/api/v1/audit` | | [`bi_api::audit::AuditEntry`] list: who changed what, when, newest first |
//! | GET | `/api/v1/settings` | | [`bi_control::operations::settings::IntervalSettings`]: the re-check and drift intervals in force |
//! | PUT | `/api/v1/settings` | [`bi_api::server::Intervals`] `{"recheck_every":"2m","drift_every":"1h"}` | [`bi_control::operations::settings::IntervalSettings`] |
//! | DELETE | `/api/v1/settings` | | back to the server's options: [`bi_control::operations::settings::IntervalSettings`] |
//! | GET | `/api/v1/events?since=latest\|now\|N` | | websocket of [`bi_model::events::EventEnvelope`] (see [`events`]) |
//! | POST | `/api/v1/login` | [`bi_api::auth::Login`] | [`bi_api::auth::CreatedToken`] (public; rate-limited) |
//! | POST | `/api/v1/setup` | [`bi_api::auth::Setup`] | 201 [`bi_api::auth::AccountView`]: the first admin (public; needs the setup token) |
//! | GET | `/api/v1/me` | | [`bi_api::auth::Me`] |
//! | GET, POST | `/api/v1/users` | [`bi_api::auth::NewAccount`] | [`bi_api::auth::AccountView`] (admins) |
//! | PATCH, DELETE | `/api/v1/users/{name}` | [`bi_api::auth::AccountChange`] | [`bi_api::auth::AccountView`], 204 (admins) |
//! | GET, POST | `/api/v1/tokens` | [`bi_api::auth::NewToken`] | [`bi_api::auth::TokenView`] list, 201 [`bi_api::auth::CreatedToken`] |
//! | DELETE | `/api/v1/tokens/{id}` | | [`bi_api::auth::TokenView`] |
//!
//! Who may call each route is in [`crate::router`]; every route but the
//! health checks and the sign-in routes needs `Authorization: Bearer` (or
//! the browser's session cookie).
//!
//! Request and response types are `bi-api`'s (the contract the web UI's
//! server functions use too), re-exported by `bi-control` where it returns
//! them.
//!
//! Errors are [`bi_api::ApiError`], the same as the server functions':
//! a refused change is 422 with
//! `{"error":{"code":"rejected","message":…,"problems":[{"field","rule","message"}]}}`
//! (`invalid` for one problem), an unknown battery, project or snapshot 404
//! (`not_found`), a malformed request 400 (`bad_request`), a write whose
//! `expected_version` is stale 409 (`conflict`, each changed field as a
//! problem with rule `changed_meanwhile`; see [`bi_control::staleness`]),
//! and anything else
//! 500 (`internal`, a sentence that leaks nothing; the details are in the
//! server's log); each with `{"error":{"code","message"}}`.

pub mod batteries;
pub mod cluster;
pub mod desired_state;
pub mod drift;
pub mod events;
pub mod projects;
pub mod reach;
pub mod settings;
pub mod snapshots;
pub mod sso;
pub mod status;
pub mod timeline;

pub use bi_api::audit::Changed;
pub use bi_api::{ApiError, ErrorBody, ErrorDetail};
