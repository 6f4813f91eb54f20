//! The embedded sandbox cluster: an in-process server on a loopback port that
//! speaks the Kubernetes REST API for kube-rs and kubectl to work against it
//! unchanged. Nothing runs in it; objects are only stored.
//!
//! `bi start` runs it when no kubeconfig is given, and tests use it wherever
//! they need a cluster. It follows a real kube-apiserver (v1.36): discovery
//! (built-in kinds and CRDs), CRUD with selectors and paging, patches and
//! server-side apply with managed fields and conflicts, strict field
//! validation (k8s-openapi types, CRD schemas), name rules per kind,
//! protected CRD groups, finalizers and Terminating namespaces, `/status`
//! and `/scale`, dry runs, watches, and `Status` errors worded as a real
//! server words them. The API tests (`tests/sandbox_api.rs`,
//! `tests/sandbox_watch.rs`) run every story on both; where they differ, the
//! sandbox is wrong.
//!
//! Its extras, which a real server does not have (and which its tests say are
//! sandbox-only):
//! - workloads settle by themselves: Deployments, StatefulSets and Knative
//!   Services report ready shortly after a write (`workloads.rs`), where a
//!   real cluster needs a kubelet (and Knative), and Services matching a
//!   settled workload get an EndpointSlice with ready endpoints
//!   (`endpoints.rs`);
//! - fake nodes of a configurable size (`nodes.rs`);
//! - injected faults for tests (`faults.rs`) and a request counter
//!   (`counter.rs`);
//! - persistence in the data directory and a kubeconfig for kubectl;
//! - resourceVersions are increasing integers (a real server's are opaque);
//! - the namespace controller's work happens at once: a deleted Namespace
//!   is gone as soon as nothing in it holds a finalizer.
//!
//! Known approximations: a strategic merge patch replaces lists (it is a
//! merge patch), and apply merges lists by `name` or not at all (no schema's
//! list keys); built-in kinds know the fields of k8s-openapi's Kubernetes
//! 1.33 types; `/version` says 1.33.

mod cluster;
mod config;
mod counter;
mod discovery;
mod endpoints;
mod error;
mod faults;
pub mod keycloak;
mod kubeconfig;
mod managed;
mod nodes;
mod openapi;
mod patch;
mod path;
mod persist;
mod pods;
mod scale;
mod schema;
mod selector;
mod server;
mod status;
mod store;
mod table;
mod watch;
mod workloads;

pub use cluster::Sandbox;
pub use config::SandboxConfig;
pub use counter::RequestCounts;
pub use error::SandboxError;
pub use faults::Fault;
