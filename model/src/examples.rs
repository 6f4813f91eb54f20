//! Desired states that drive every generator to its limits: every battery a
//! provider offers, and each kind of user object at its defaults and at the
//! largest values its validation accepts. Tests here check the custom
//! resources they produce against the operators' own CRD schemas; control's
//! tests apply them to a real API server under strict field validation.

use crate::catalog::{BatteryConfig, BatteryKind, ClusterProvider};
use crate::generate::{DesiredState, Owned};
use crate::image::ImageRef;
use crate::objects::{
    EnvValue, EnvVar, FerretService, KnativeService, ModelInstance, NodeType, Notebook,
    PortProtocol, PostgresBackup, PostgresCluster, PostgresDatabase, PostgresRole, PostgresUser,
    Project, RedisInstance, RedisMode, Resources, ServicePort, TraditionalService, WorkloadKind,
    ferret, knative, model_instance, postgres, redis, traditional,
};
use crate::units::Storage;

/// The project every example object belongs to.
pub const PROJECT: &str = "limits";

/// Every battery `provider` offers, one object of each kind at its defaults
/// (`default-…`) and one or more at their largest (`max-…`); every object
/// passes its own validation.
pub fn at_the_limits(provider: ClusterProvider) -> DesiredState {
    let kinds: Vec<_> = BatteryKind::ALL
        .into_iter()
        .filter(|kind| kind.info().offered_on(provider))
        .collect();
    let mut state = DesiredState::with_batteries(&kinds).expect("the catalog has no cycle");
    state.provider = provider;
    // NB: a battery config must pass its own validation, as every stored one
    // has; the defaults leave blank what only the user can know.
    if let Some(BatteryConfig::Karpenter(karpenter)) =
        state.batteries.get_mut(&BatteryKind::Karpenter)
    {
        karpenter.node_role_name = "KarpenterNodeRole-limits".into();
        karpenter.queue_name = "limits".into();
    }
    state.projects.push(Project {
        name: PROJECT.into(),
        description: "Every object at its defaults and at its largest".into(),
    });
    let largest = Resources {
        cpu_request: Resources::max_cpu(),
        cpu_limit: Some(Resources::max_cpu()),
        memory_request: Resources::max_memory(),
        memory_limit: Some(Resources::max_memory()),
    };
    let image = |reference: &str| ImageRef::parse(reference).expect("a valid image reference");

    // NB: with the app user and database the UI proposes.
    state.postgres_clusters.push(owned(PostgresCluster {
        name: "default-pg".into(),
        users: vec![PostgresUser {
            name: "app".into(),
            roles: Vec::new(),
        }],
        databases: vec![PostgresDatabase {
            name: "app".into(),
            owner: "app".into(),
        }],
        ..PostgresCluster::default()
    }));
    let roles = vec![
        PostgresRole::Superuser,
        PostgresRole::Createdb,
        PostgresRole::Createrole,
        PostgresRole::Noinherit,
        PostgresRole::Login,
        PostgresRole::Replication,
        PostgresRole::Bypassrls,
    ];
    state.postgres_clusters.push(owned(PostgresCluster {
        name: name("max-pg", postgres::NAME_MAX_LEN),
        instances: postgres::MAX_INSTANCES,
        storage: Storage::gibibytes(64 * 1024),
        resources: largest.clone(),
        users: ["app", "admin", "reporting"]
            .into_iter()
            .map(|user| PostgresUser {
                name: user.into(),
                roles: roles.clone(),
            })
            .collect(),
        databases: ["app", "analytics", "audit"]
            .into_iter()
            .map(|database| PostgresDatabase {
                name: database.into(),
                owner: "admin".into(),
            })
            .collect(),
        backup: PostgresBackup::ObjectStore,
    }));

    state.redis_instances.push(owned(RedisInstance {
        name: "default-redis".into(),
        ..RedisInstance::default()
    }));
    for (prefix, mode) in [
        ("max-replication", RedisMode::Replication),
        ("max-cluster", RedisMode::Cluster),
    ] {
        state.redis_instances.push(owned(RedisInstance {
            name: name(prefix, redis::NAME_MAX_LEN),
            mode,
            instances: mode.instance_bounds().1,
            resources: largest.clone(),
            storage: Some(Storage::gibibytes(64 * 1024)),
        }));
    }

    state.ferret_services.push(owned(FerretService {
        name: "default-ferret".into(),
        postgres_cluster: "default-pg".into(),
        ..FerretService::default()
    }));
    state.ferret_services.push(owned(FerretService {
        name: "max-ferret".into(),
        instances: ferret::MAX_INSTANCES,
        postgres_cluster: name("max-pg", postgres::NAME_MAX_LEN),
        resources: largest.clone(),
    }));

    let env = vec![
        EnvVar {
            name: "DATABASE_URL".into(),
            value: EnvValue::SecretRef {
                secret: "postgres-default-pg-app-connection".into(),
                key: "url".into(),
            },
        },
        EnvVar {
            name: "LOG_LEVEL".into(),
            value: EnvValue::Literal("debug".into()),
        },
    ];
    state.knative_services.push(owned(KnativeService::new(
        "default-knative",
        image("ghcr.io/example/hello:1.0.0"),
    )));
    let mut busiest = KnativeService::new(
        name("max-knative", knative::NAME_MAX_LEN),
        image(
            "ghcr.io/example/hello@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
    );
    busiest.env = env.clone();
    busiest.min_scale = knative::MAX_SCALE;
    busiest.max_scale = knative::MAX_SCALE;
    busiest.scale_to_zero = false;
    busiest.concurrency_target = knative::MAX_CONCURRENCY_TARGET;
    busiest.port = u16::MAX;
    state.knative_services.push(owned(busiest));

    state
        .traditional_services
        .push(owned(TraditionalService::new(
            "default-traditional",
            image("nginx:1.27"),
        )));
    let mut widest = TraditionalService::new(
        name("max-traditional", traditional::NAME_MAX_LEN),
        image("registry.example.com:5000/team/api:2.0.0"),
    );
    widest.kind = WorkloadKind::StatefulSet;
    widest.replicas = traditional::MAX_REPLICAS;
    widest.resources = largest.clone();
    widest.env = env;
    widest.ports = [
        ("http", 1, PortProtocol::Http),
        ("grpc", 8443, PortProtocol::Http2),
        ("tcp", u16::MAX, PortProtocol::Tcp),
    ]
    .into_iter()
    .map(|(port, number, protocol)| ServicePort {
        name: port.into(),
        number,
        protocol,
    })
    .collect();
    state.traditional_services.push(owned(widest));

    state.notebooks.push(owned(Notebook {
        name: "default-notebook".into(),
        ..Notebook::default()
    }));
    state.notebooks.push(owned(Notebook {
        name: "max-notebook".into(),
        storage: Storage::gibibytes(64 * 1024),
        resources: largest.clone(),
        ..Notebook::default()
    }));

    state.model_instances.push(owned(ModelInstance {
        name: "default-model".into(),
        ..ModelInstance::default()
    }));
    state.model_instances.push(owned(ModelInstance {
        name: "max-model".into(),
        instances: model_instance::MAX_INSTANCES,
        gpu_count: model_instance::MAX_GPUS,
        node_type: NodeType::AnyNvidia,
        resources: largest,
        ..ModelInstance::default()
    }));
    state
}

/// `object` in the examples' project.
fn owned<T>(object: T) -> Owned<T> {
    Owned {
        project: Some(PROJECT.to_owned()),
        object,
    }
}

/// `prefix` padded with `x` to `len` characters: the longest name allowed.
fn name(prefix: &str, len: usize) -> String {
    format!(
        "{prefix}-{}",
        "x".repeat(len.saturating_sub(prefix.len() + 1))
    )
}
