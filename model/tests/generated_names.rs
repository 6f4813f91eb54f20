//! Names a person chooses end up in the names and labels of generated
//! objects, with prefixes and suffixes added; a real API server refuses
//! them when they outgrow Kubernetes' limits. Here every user-named kind
//! gets the longest name validation accepts, with every battery installed,
//! and every generated object's name, namespace and labels (its own, its
//! pod template's, its selectors') must pass Kubernetes' rules. One
//! character more must be refused, naming the field.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use bi_model::catalog::{self, BatteryConfig, BatteryKind, ClusterProvider};
use bi_model::generate::{DesiredState, Owned, Resource, Secrets, generate};
use bi_model::image::ImageRef;
use bi_model::names::{DNS_LABEL_MAX_LEN, DNS_SUBDOMAIN_MAX_LEN, DerivedName, DnsLabel};
use bi_model::objects::{
    self, FerretService, IpAddressPool, IpRange, KnativeService, ModelInstance, NodeType, Notebook,
    PortProtocol, PostgresCluster, PostgresDatabase, PostgresUser, Project, RedisInstance,
    RedisMode, ServicePort, SizePreset, TraditionalService, WorkloadKind,
};
use bi_model::{InstallationName, Problems, Rule};
use serde_json::Value;

/// A valid name of exactly `len` characters starting with `lead`.
fn long_name(lead: &str, len: usize) -> String {
    format!("{lead}{}", "x".repeat(len - lead.len()))
}

fn image(reference: &str) -> ImageRef {
    ImageRef::parse(reference).unwrap()
}

fn label(lead: &str) -> DnsLabel {
    DnsLabel::parse(&long_name(lead, DNS_LABEL_MAX_LEN)).unwrap()
}

/// Every battery offered on `provider`, with the longest namespaces and
/// usernames their configs accept.
fn batteries(provider: ClusterProvider) -> DesiredState {
    let kinds: Vec<_> = BatteryKind::ALL
        .into_iter()
        .filter(|kind| kind.info().offered_on(provider))
        .collect();
    let mut state = DesiredState::with_batteries(&kinds).unwrap();
    state.provider = provider;
    state.installation = InstallationName::parse(&long_name("inst", DNS_LABEL_MAX_LEN)).unwrap();
    for config in state.batteries.values_mut() {
        match config {
            BatteryConfig::BatteryCore(core) => {
                core.core_namespace = label("core");
                core.base_namespace = label("base");
                core.data_namespace = label("data");
                core.ai_namespace = label("ai");
                core.monitoring_namespace = label("mon");
            }
            BatteryConfig::Knative(knative) => knative.namespace = label("kn"),
            BatteryConfig::Istio(istio) => istio.namespace = label("istio"),
            BatteryConfig::TraditionalServices(traditional) => {
                traditional.namespace = label("trad");
            }
            BatteryConfig::Keycloak(keycloak) => keycloak.admin_username = label("kc"),
            BatteryConfig::Forgejo(forgejo) => forgejo.admin_username = label("fj"),
            BatteryConfig::Karpenter(karpenter) => {
                karpenter.node_role_name = "bi-nodes".into();
                karpenter.queue_name = "bi-interruptions".into();
            }
            _ => {}
        }
    }
    state
}

/// `batteries(provider)` with one object of every kind (several where the
/// kind's variants generate differently), each at its longest name.
fn longest_names(provider: ClusterProvider) -> DesiredState {
    let mut state = batteries(provider);
    let project = long_name("project", DNS_LABEL_MAX_LEN);
    state.projects.push(Project {
        name: project.clone(),
        description: String::new(),
    });
    let cluster = long_name("pg", objects::postgres::NAME_MAX_LEN);
    let user = long_name("user", DNS_LABEL_MAX_LEN);
    state.postgres_clusters.push(Owned {
        project: Some(project.clone()),
        object: PostgresCluster {
            name: cluster.clone(),
            instances: 2,
            users: vec![PostgresUser {
                name: user.clone(),
                roles: Vec::new(),
            }],
            databases: vec![PostgresDatabase {
                name: long_name("db", DNS_LABEL_MAX_LEN),
                owner: user,
            }],
            backup: objects::PostgresBackup::ObjectStore,
            ..PostgresCluster::default()
        },
    });

    for (lead, mode, instances) in [
        ("rs", RedisMode::Standalone, 1),
        ("rr", RedisMode::Replication, 2),
        ("rc", RedisMode::Cluster, 3),
    ] {
        state.redis_instances.push(Owned {
            project: Some(project.clone()),
            object: RedisInstance {
                name: long_name(lead, objects::redis::NAME_MAX_LEN),
                mode,
                instances,
                storage: Some(bi_model::units::Storage::gibibytes(1)),
                ..RedisInstance::default()
            },
        });
    }
    state.ferret_services.push(Owned {
        project: Some(project.clone()),
        object: FerretService {
            name: long_name("fe", objects::ferret::NAME_MAX_LEN),
            postgres_cluster: cluster,
            ..FerretService::default()
        },
    });
    for (lead, kind) in [
        ("td", WorkloadKind::Deployment),
        ("ts", WorkloadKind::StatefulSet),
    ] {
        let mut service = TraditionalService::new(
            long_name(lead, objects::traditional::NAME_MAX_LEN),
            image("ghcr.io/example/web:1.0.0"),
        );
        service.kind = kind;
        service.ports = vec![
            ServicePort {
                name: long_name("h", bi_model::names::PORT_NAME_MAX_LEN),
                number: 8080,
                protocol: PortProtocol::Http,
            },
            ServicePort {
                name: catalog::traditional_services::METRICS_PORT_NAME.into(),
                number: 9100,
                protocol: PortProtocol::Http,
            },
        ];
        state.traditional_services.push(Owned {
            project: Some(project.clone()),
            object: service,
        });
    }
    state.knative_services.push(Owned {
        project: Some(project.clone()),
        object: KnativeService::new(
            long_name("kn", objects::knative::NAME_MAX_LEN),
            image("ghcr.io/example/fn:1.0.0"),
        ),
    });
    state.notebooks.push(Owned {
        project: Some(project.clone()),
        object: Notebook {
            name: long_name("nb", objects::notebook::NAME_MAX_LEN),
            ..Notebook::default()
        },
    });
    for (lead, node_type, gpu_count) in [
        ("mc", NodeType::Default, 0),
        ("mg", NodeType::NvidiaH100, 1),
    ] {
        state.model_instances.push(Owned {
            project: Some(project.clone()),
            object: ModelInstance {
                name: long_name(lead, objects::model_instance::NAME_MAX_LEN),
                node_type,
                gpu_count,
                resources: SizePreset::Small.resources(),
                ..ModelInstance::default()
            },
        });
    }
    state.ip_address_pools.push(IpAddressPool {
        name: long_name("pool", objects::ip_address_pool::NAME_MAX_LEN),
        range: IpRange::parse("192.168.1.240-192.168.1.250").unwrap(),
    });
    state
}

/// What Kubernetes requires of an object's name, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameRule {
    /// DNS-1123 label: Namespaces.
    Label,
    /// DNS-1035 label (starts with a letter): Services, Knative Services.
    Dns1035,
    /// DNS-1123 subdomain of at most this many characters (StatefulSets and
    /// CronJobs: 52, for the labels derived from them).
    Subdomain(usize),
    /// RBAC names: any path segment.
    PathSegment,
}

fn name_rule(resource: &Resource) -> NameRule {
    let path = &resource.path;
    match (path.group(), path.kind.as_str()) {
        ("", "Namespace") => NameRule::Label,
        ("", "Service") | ("serving.knative.dev", "Service") => NameRule::Dns1035,
        ("apps", "StatefulSet") | ("batch", "CronJob") => NameRule::Subdomain(52),
        // Jobs' Pods carry their name in the `job-name` label.
        ("batch", "Job") => NameRule::Label,
        // CloudNativePG's webhook: the Pods, Jobs and Services it derives need room.
        ("postgresql.cnpg.io", "Cluster") => NameRule::Subdomain(50),
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Subdomain(DNS_SUBDOMAIN_MAX_LEN),
    }
}

fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= DNS_LABEL_MAX_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// DNS-1123 subdomain: dot-separated parts like a DNS label's (their own
/// length is not limited), at most `max` characters in all.
fn is_subdomain(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && part.starts_with(|c: char| c.is_ascii_alphanumeric())
                && part.ends_with(|c: char| c.is_ascii_alphanumeric())
        })
}

/// Why `name` breaks `rule`, if it does.
fn name_problem(rule: NameRule, name: &str) -> Option<String> {
    let ok = match rule {
        NameRule::Label => is_dns_label(name),
        NameRule::Dns1035 => {
            is_dns_label(name) && name.starts_with(|c: char| c.is_ascii_lowercase())
        }
        NameRule::Subdomain(max) => is_subdomain(name, max),
        NameRule::PathSegment => {
            !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '%'])
        }
    };
    (!ok).then(|| format!("{rule:?} ({} characters)", name.len()))
}

/// A label value: empty, or at most 63 letters, digits, '-', '_', '.',
/// starting and ending with a letter or digit.
fn is_label_value(value: &str) -> bool {
    value.is_empty()
        || (value.len() <= DNS_LABEL_MAX_LEN
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// A label key: an optional DNS subdomain prefix and '/', then a non-empty
/// name that is a valid label value.
fn is_label_key(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    prefix.is_none_or(|prefix| is_subdomain(prefix, DNS_SUBDOMAIN_MAX_LEN))
        && !name.is_empty()
        && is_label_value(name)
}

/// Keys whose value, when a map of strings, is a set of labels: an object's
/// and a pod template's `labels`, selectors, node selectors.
const LABEL_MAPS: [&str; 4] = ["labels", "matchLabels", "selector", "nodeSelector"];

/// Every label (key, value) in `value`, with where it was found.
fn labels_in(value: &Value, at: &str, found: &mut Vec<(String, String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}.{key}");
                if let Some(pairs) = child
                    .as_object()
                    .filter(|_| LABEL_MAPS.contains(&key.as_str()))
                    && !pairs.is_empty()
                    && pairs.values().all(Value::is_string)
                {
                    for (label, text) in pairs {
                        let text = text.as_str().unwrap_or_default();
                        found.push((here.clone(), label.clone(), text.to_owned()));
                    }
                } else {
                    labels_in(child, &here, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                labels_in(item, &format!("{at}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// Every breach of Kubernetes' naming rules among `resources`, one line each.
fn breaches(resources: &[Resource]) -> Vec<String> {
    let mut found = Vec::new();
    for resource in resources {
        let path = &resource.path;
        if let Some(why) = name_problem(name_rule(resource), &path.name) {
            found.push(format!(
                "{path}: metadata.name {:?} breaks {why}",
                path.name
            ));
        }
        if let Some(namespace) = &path.namespace
            && !is_dns_label(namespace)
        {
            found.push(format!(
                "{path}: namespace {namespace:?} is not a DNS label"
            ));
        }
        // NB: a CRD's schema describes labels; only its own metadata carries them.
        let scope = if path.kind == "CustomResourceDefinition" {
            &resource.body["metadata"]
        } else {
            &resource.body
        };
        let mut labels = Vec::new();
        labels_in(scope, "", &mut labels);
        for (at, key, value) in labels {
            if !is_label_key(&key) {
                found.push(format!("{path}: label key {key:?} at {at} is not valid"));
            }
            if !is_label_value(&value) {
                found.push(format!(
                    "{path}: label {key} at {at} has value {value:?} ({} characters), not a valid label value",
                    value.len()
                ));
            }
        }
    }
    found
}

fn generated(state: &DesiredState) -> Vec<Resource> {
    generate(state, Secrets::Preview).unwrap_or_else(|err| panic!("generating: {err}"))
}

/// Every object's and config's validation accepts `state`.
fn assert_valid(state: &DesiredState) {
    let mut problems = Problems::new();
    for (kind, config) in &state.batteries {
        problems.merge(kind.id(), config.validate());
    }
    for (i, project) in state.projects.iter().enumerate() {
        problems.merge(&format!("projects[{i}]"), project.validate());
    }
    let objects = [
        (
            "postgres_clusters",
            state
                .postgres_clusters
                .iter()
                .map(|o| o.object.validate())
                .collect::<Vec<_>>(),
        ),
        (
            "redis_instances",
            state
                .redis_instances
                .iter()
                .map(|o| o.object.validate())
                .collect(),
        ),
        (
            "ferret_services",
            state
                .ferret_services
                .iter()
                .map(|o| o.object.validate())
                .collect(),
        ),
        (
            "knative_services",
            state
                .knative_services
                .iter()
                .map(|o| o.object.validate())
                .collect(),
        ),
        (
            "traditional_services",
            state
                .traditional_services
                .iter()
                .map(|o| o.object.validate())
                .collect(),
        ),
        (
            "notebooks",
            state
                .notebooks
                .iter()
                .map(|o| o.object.validate())
                .collect(),
        ),
        (
            "model_instances",
            state
                .model_instances
                .iter()
                .map(|o| o.object.validate())
                .collect(),
        ),
    ];
    for (list, results) in objects {
        for (i, result) in results.into_iter().enumerate() {
            problems.merge(&format!("{list}[{i}]"), result);
        }
    }
    problems.merge(
        "ip_address_pools",
        objects::validate_pools(&state.ip_address_pools),
    );
    assert!(
        problems.is_empty(),
        "the longest names must be valid: {problems}"
    );
}

#[test]
fn longest_accepted_names_generate_only_names_and_labels_kubernetes_accepts() {
    for provider in [ClusterProvider::Kind, ClusterProvider::Aws] {
        let state = longest_names(provider);
        assert_valid(&state);
        let resources = generated(&state);
        let found = breaches(&resources);
        assert!(
            found.is_empty(),
            "on {provider:?}, {} names or labels break Kubernetes' rules:\n{}",
            found.len(),
            found.join("\n")
        );
    }
}

#[test]
fn every_battery_runs_in_the_longest_names_states() {
    let mut apps = BTreeSet::new();
    for provider in [ClusterProvider::Kind, ClusterProvider::Aws] {
        apps.extend(
            generated(&longest_names(provider))
                .into_iter()
                .map(|r| r.app),
        );
    }
    let missing: Vec<_> = BatteryKind::ALL
        .into_iter()
        .filter(|kind| !apps.contains(kind.id()))
        .collect();
    assert!(missing.is_empty(), "no resources from {missing:?}");
}

/// Every user-named kind's derived names, with the name the longest-names
/// state gives it.
fn derived_names(state: &DesiredState) -> Vec<(&'static [DerivedName], String)> {
    let mut out = Vec::new();
    let first = |names: Vec<&str>| names.first().map(|n| (*n).to_owned()).unwrap_or_default();
    out.push((
        catalog::cloudnative_pg::CLUSTER_NAMES,
        first(
            state
                .postgres_clusters
                .iter()
                .map(|o| o.object.name.as_str())
                .collect(),
        ),
    ));
    out.push((
        catalog::redis::INSTANCE_NAMES,
        first(
            state
                .redis_instances
                .iter()
                .map(|o| o.object.name.as_str())
                .collect(),
        ),
    ));
    out.push((
        catalog::ferretdb::SERVICE_NAMES,
        first(
            state
                .ferret_services
                .iter()
                .map(|o| o.object.name.as_str())
                .collect(),
        ),
    ));
    out.push((
        catalog::knative::SERVICE_NAMES,
        first(
            state
                .knative_services
                .iter()
                .map(|o| o.object.name.as_str())
                .collect(),
        ),
    ));
    out.push((
        catalog::traditional_services::SERVICE_NAMES,
        first(
            state
                .traditional_services
                .iter()
                .map(|o| o.object.name.as_str())
                .collect(),
        ),
    ));
    out.push((
        catalog::notebooks::NOTEBOOK_NAMES,
        first(
            state
                .notebooks
                .iter()
                .map(|o| o.object.name.as_str())
                .collect(),
        ),
    ));
    out.push((
        catalog::ollama::INSTANCE_NAMES,
        first(
            state
                .model_instances
                .iter()
                .map(|o| o.object.name.as_str())
                .collect(),
        ),
    ));
    out.push((
        catalog::metallb::POOL_NAMES,
        first(
            state
                .ip_address_pools
                .iter()
                .map(|p| p.name.as_str())
                .collect(),
        ),
    ));
    out
}

#[test]
fn the_names_bi_says_it_derives_are_the_ones_it_generates() {
    let state = longest_names(ClusterProvider::Kind);
    let resources = generated(&state);
    let mut seen = BTreeSet::new();
    for resource in &resources {
        seen.insert(resource.path.name.clone());
        let mut labels = Vec::new();
        labels_in(&resource.body, "", &mut labels);
        seen.extend(labels.into_iter().map(|(_, _, value)| value));
    }
    let mut missing = Vec::new();
    for (derived, name) in derived_names(&state) {
        for one in derived.iter().filter(|d| d.by == "bi") {
            let expected = one.apply(&name);
            if !seen.contains(&expected) {
                missing.push(format!("{} ({})", one.pattern(), one.what));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "declared but not generated: {missing:?}"
    );
}

/// Each kind's validation, its longest name, and a name to build it with.
fn one_too_long() -> Vec<(&'static str, usize, Result<(), Problems>)> {
    let too_long = |lead: &str, max: usize| long_name(lead, max + 1);
    let mut out = Vec::new();
    let pg = PostgresCluster {
        name: too_long("pg", objects::postgres::NAME_MAX_LEN),
        ..PostgresCluster::default()
    };
    out.push((
        "postgres cluster",
        objects::postgres::NAME_MAX_LEN,
        pg.validate(),
    ));
    let redis = RedisInstance {
        name: too_long("r", objects::redis::NAME_MAX_LEN),
        ..RedisInstance::default()
    };
    out.push((
        "redis instance",
        objects::redis::NAME_MAX_LEN,
        redis.validate(),
    ));
    let ferret = FerretService {
        name: too_long("f", objects::ferret::NAME_MAX_LEN),
        postgres_cluster: "main".into(),
        ..FerretService::default()
    };
    out.push((
        "ferret service",
        objects::ferret::NAME_MAX_LEN,
        ferret.validate(),
    ));
    let knative = KnativeService::new(
        too_long("k", objects::knative::NAME_MAX_LEN),
        image("ghcr.io/example/fn:1.0.0"),
    );
    out.push((
        "knative service",
        objects::knative::NAME_MAX_LEN,
        knative.validate(),
    ));
    let traditional = TraditionalService::new(
        too_long("t", objects::traditional::NAME_MAX_LEN),
        image("ghcr.io/example/web:1.0.0"),
    );
    out.push((
        "traditional service",
        objects::traditional::NAME_MAX_LEN,
        traditional.validate(),
    ));
    let notebook = Notebook {
        name: too_long("n", objects::notebook::NAME_MAX_LEN),
        ..Notebook::default()
    };
    out.push((
        "notebook",
        objects::notebook::NAME_MAX_LEN,
        notebook.validate(),
    ));
    let model = ModelInstance {
        name: too_long("m", objects::model_instance::NAME_MAX_LEN),
        ..ModelInstance::default()
    };
    out.push((
        "model instance",
        objects::model_instance::NAME_MAX_LEN,
        model.validate(),
    ));
    let pool = IpAddressPool {
        name: too_long("p", objects::ip_address_pool::NAME_MAX_LEN),
        range: IpRange::parse("10.0.0.0/24").unwrap(),
    };
    out.push((
        "ip address pool",
        objects::ip_address_pool::NAME_MAX_LEN,
        pool.validate(),
    ));
    out
}

#[test]
fn a_name_one_longer_than_the_longest_is_refused_naming_the_field_and_the_rule() {
    for (kind, max, result) in one_too_long() {
        let problems = result.expect_err(kind);
        let error = problems
            .for_field("name")
            .unwrap_or_else(|| panic!("{kind}: no problem with name in {problems}"));
        assert_eq!(error.rule, Rule::DnsLabel, "{kind}");
        assert!(
            error
                .message
                .starts_with(&format!("must be at most {max} characters; ")),
            "{kind}: {}",
            error.message
        );
        assert!(
            error.message.contains("derives") && error.message.contains("<name>"),
            "{kind}: {}",
            error.message
        );
    }
}

#[test]
fn a_redis_name_too_long_says_which_derived_name_binds() {
    let state = DesiredState {
        redis_instances: vec![Owned::unowned(RedisInstance {
            name: long_name("cache", DNS_LABEL_MAX_LEN),
            ..RedisInstance::default()
        })],
        ..DesiredState::default()
    };
    let mut problems = Problems::new();
    for (i, owned) in state.redis_instances.iter().enumerate() {
        problems.merge(&format!("redis_instances[{i}]"), owned.object.validate());
    }
    let error = problems.for_field("redis_instances[0].name").unwrap();
    assert_eq!(
        error.to_string(),
        format!(
            "redis_instances[0].name: must be at most 43 characters; \"{}\" has 63: the Redis \
             operator derives the Service \"<name>-follower-additional\" from it, and Kubernetes \
             limits Service names to 63",
            long_name("cache", DNS_LABEL_MAX_LEN)
        )
    );
}

#[test]
fn the_longest_names_are_pinned_so_a_change_shows_in_review() {
    assert_eq!(
        [
            ("postgres cluster", objects::postgres::NAME_MAX_LEN),
            ("redis instance", objects::redis::NAME_MAX_LEN),
            ("ferret service", objects::ferret::NAME_MAX_LEN),
            ("knative service", objects::knative::NAME_MAX_LEN),
            ("traditional service", objects::traditional::NAME_MAX_LEN),
            ("notebook", objects::notebook::NAME_MAX_LEN),
            ("model instance", objects::model_instance::NAME_MAX_LEN),
            ("ip address pool", objects::ip_address_pool::NAME_MAX_LEN),
        ],
        [
            ("postgres cluster", 50),
            ("redis instance", 43),
            ("ferret service", 56),
            ("knative service", 49),
            ("traditional service", 52),
            ("notebook", 41),
            ("model instance", 46),
            ("ip address pool", 56),
        ]
    );
}
