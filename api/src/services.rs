//! Knative and traditional services as the services pages show them: the
//! list with each one's scale, and one service with its settings and its
//! state in the cluster.

use bi_model::generate::ConnectionSecret;
use bi_model::objects::{ObjectKind, ProjectObject};
use serde::{Deserialize, Serialize};

use crate::health::{Readiness, WorkloadHealth};

/// One Kubernetes Event about one of the service's objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEvent {
    /// `Normal` or `Warning`.
    pub kind: String,
    /// The reason, e.g. `ScalingReplicaSet`, `BackOff`.
    pub reason: String,
    /// What happened.
    pub message: String,
    /// The object it is about (`Deployment web`).
    pub object: String,
    /// How many times it happened.
    pub count: u32,
    /// When it last happened (RFC 3339), if the Event says.
    pub last_seen: Option<String>,
}

/// One of bi's recent writes of the service's objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyOutcome {
    /// The snapshot that wrote it.
    pub snapshot: i64,
    /// The object (`apps/v1/Deployment/battery-traditional/web`).
    pub path: String,
    /// `created`, `updated`, `deleted`, `failed` or `waiting`.
    pub outcome: String,
    /// The API server's message when it failed.
    pub message: Option<String>,
}

/// Everything about a service that is not its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// The namespace its objects are generated in.
    pub namespace: Option<String>,
    /// Its state in the cluster.
    pub readiness: Readiness,
    /// Its workloads (a traditional service's Deployment or StatefulSet).
    pub workloads: Vec<WorkloadHealth>,
    /// A Knative service's Ready condition message, when it reports one.
    pub condition: Option<String>,
    /// A Knative service's URL, when it reports one.
    pub url: Option<String>,
    /// Events about its objects, newest first.
    pub events: Vec<ServiceEvent>,
    /// bi's recent writes of its objects, newest first (no-ops left out).
    pub outcomes: Vec<ApplyOutcome>,
    /// The connection Secrets it can reference in its environment.
    pub connection_secrets: Vec<ConnectionSecret>,
    /// Its pods (a traditional service's; Knative's run under Knative's names).
    #[serde(default)]
    pub pods: Vec<crate::explorer::PodRow>,
}

/// One service: its settings and, when the cluster could be read, its
/// state there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDetail {
    /// Its name.
    pub name: String,
    /// The service itself (its settings; the browser builds the form from it).
    pub object: ProjectObject,
    /// Its state in the cluster; None when the cluster could not be read.
    pub status: Option<ServiceStatus>,
    /// Why the cluster could not be read, in a sentence that leaks nothing.
    pub cluster_error: Option<String>,
    /// The desired-state version the settings were read at: what the
    /// service's form sends back as `expected_version`.
    pub version: i32,
}

impl ServiceDetail {
    /// `knative_service` or `traditional_service`.
    pub fn kind(&self) -> ObjectKind {
        self.object.kind()
    }

    /// `ready`, `progressing`, `missing`, `configured`, or `unknown` when
    /// the cluster could not be read.
    pub fn readiness(&self) -> &'static str {
        self.status
            .as_ref()
            .map_or("unknown", |status| status.readiness.as_str())
    }
}

/// How a service scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceScale {
    /// A Knative service: between `min` and `max` instances.
    Knative {
        /// The fewest instances (0 scales to zero).
        min: u32,
        /// The most instances.
        max: u32,
    },
    /// A traditional service: a fixed number of replicas.
    Traditional {
        /// Replicas (0 stops it).
        replicas: u32,
    },
}

/// One service as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    /// Its name.
    pub name: String,
    /// Its project, if any.
    pub project: Option<String>,
    /// Its image.
    pub image: String,
    /// How it scales now.
    pub scale: ServiceScale,
    /// The desired-state version it was read at: what its scale form sends
    /// back as `expected_version`.
    pub version: i32,
}
