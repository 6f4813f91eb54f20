//! The embedded sandbox cluster: an in-process server on a loopback port that
//! speaks enough of the Kubernetes REST API for kube-rs and kubectl to work
//! against it unchanged. Nothing runs in it; objects are only stored.
//!
//! `bi start` runs it when no kubeconfig is given, and tests use it wherever
//! they need a cluster. Discovery (built-in kinds and CRDs), CRUD with
//! selectors and paging, patches and server-side apply, dry runs, watches,
//! `Status` errors, injected faults for tests, workload readiness, fake nodes, persistence in the data
//! directory, a kubeconfig for kubectl, and a request counter.

mod cluster;
mod config;
mod counter;
mod discovery;
mod endpoints;
mod error;
mod faults;
mod kubeconfig;
mod managed;
mod nodes;
mod openapi;
mod patch;
mod path;
mod persist;
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
