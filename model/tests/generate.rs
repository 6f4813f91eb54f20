//! Resource generation across the whole catalog: every battery produces
//! resources, output is deterministic, built-in objects round-trip through
//! their k8s-openapi types, custom resources validate against the CRDs bi
//! generates, the YAML stream is in apply order, and golden files pin the
//! output (regenerate with `BI_UPDATE_GOLDEN=1 cargo test -p bi-model --test generate`).

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use bi_model::catalog::{BatteryKind, ClusterProvider};
use bi_model::generate::{
    DesiredState, GenerateError, Owned, Resource, SECRET_PLACEHOLDER, Secrets, Stage, generate,
    required_secrets, schema, stage_of, to_yaml_stream,
};
use bi_model::image::ImageRef;
use bi_model::objects::{
    EnvValue, EnvVar, FerretService, IpAddressPool, IpRange, KnativeService, ModelInstance,
    Notebook, PortProtocol, PostgresCluster, PostgresDatabase, PostgresUser, Project,
    RedisInstance, ServicePort, TraditionalService,
};
use proptest::prelude::*;
use serde_json::Value;

fn image(reference: &str) -> ImageRef {
    ImageRef::parse(reference).unwrap()
}

/// The provider a battery is offered on (AWS-only ones need AWS).
fn provider_for(kind: BatteryKind) -> ClusterProvider {
    if kind.info().offered_on(ClusterProvider::Kind) {
        ClusterProvider::Kind
    } else {
        ClusterProvider::Aws
    }
}

/// A state with `kind` and its dependencies, defaults everywhere (Karpenter
/// gets the AWS names it cannot default).
fn battery_state(kind: BatteryKind) -> DesiredState {
    let mut state = DesiredState::with_batteries(&[kind]).unwrap();
    state.provider = provider_for(kind);
    if let Some(bi_model::catalog::BatteryConfig::Karpenter(karpenter)) =
        state.batteries.get_mut(&BatteryKind::Karpenter)
    {
        karpenter.node_role_name = "bi-nodes".into();
        karpenter.queue_name = "bi-interruptions".into();
    }
    state
}

/// Every battery offered on kind clusters, and one of each user object.
fn full_state() -> DesiredState {
    let kinds: Vec<_> = BatteryKind::ALL
        .into_iter()
        .filter(|k| k.info().offered_on(ClusterProvider::Kind))
        .collect();
    let mut state = DesiredState::with_batteries(&kinds).unwrap();
    state.provider = ClusterProvider::Kind;
    let project = Some("shop".to_owned());
    state.projects.push(Project {
        name: "shop".into(),
        description: "The web shop".into(),
    });
    state.postgres_clusters.push(Owned {
        project: project.clone(),
        object: PostgresCluster {
            name: "orders".into(),
            instances: 2,
            users: vec![PostgresUser {
                name: "app".into(),
                roles: Vec::new(),
            }],
            databases: vec![PostgresDatabase {
                name: "orders".into(),
                owner: "app".into(),
            }],
            ..PostgresCluster::default()
        },
    });
    state.redis_instances.push(Owned {
        project: project.clone(),
        object: RedisInstance {
            name: "sessions".into(),
            ..RedisInstance::default()
        },
    });
    state.ferret_services.push(Owned {
        project: project.clone(),
        object: FerretService {
            name: "catalog".into(),
            postgres_cluster: "orders".into(),
            ..FerretService::default()
        },
    });
    let mut web = TraditionalService::new("web", image("ghcr.io/example/shop-web:2.1.0"));
    // NB: an HTTP port, so the goldens show a service's route and its
    // project's listener and certificate.
    web.ports.push(ServicePort {
        name: "http".into(),
        number: 8080,
        protocol: PortProtocol::Http,
    });
    web.env.push(EnvVar {
        name: "DATABASE_URL".into(),
        value: EnvValue::SecretRef {
            secret: "postgres-orders-app-connection".into(),
            key: "url".into(),
        },
    });
    state.traditional_services.push(Owned {
        project: project.clone(),
        object: web,
    });
    state.knative_services.push(Owned {
        project: project.clone(),
        object: KnativeService::new("thumbnails", image("ghcr.io/example/thumbnails:0.3.1")),
    });
    state.notebooks.push(Owned {
        project: project.clone(),
        object: Notebook {
            name: "analysis".into(),
            ..Notebook::default()
        },
    });
    state.model_instances.push(Owned {
        project,
        object: ModelInstance {
            name: "assistant".into(),
            ..ModelInstance::default()
        },
    });
    state.ip_address_pools.push(IpAddressPool {
        name: "lan".into(),
        range: IpRange::parse("192.168.1.240-192.168.1.250").unwrap(),
    });
    state
}

fn preview(state: &DesiredState) -> Vec<Resource> {
    generate(state, Secrets::Preview).unwrap_or_else(|err| panic!("generating: {err}"))
}

/// Every `image` string in what bi generates, with where it was found.
fn images_in(value: &Value, at: &str, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}/{key}");
                match child {
                    Value::String(reference) if key == "image" => {
                        found.push((here, reference.clone()));
                    }
                    _ => images_in(child, &here, found),
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                images_in(child, &format!("{at}/{index}"), found);
            }
        }
        _ => {}
    }
}

/// Images are pinned and written canonically wherever a battery names them
/// (in `catalog/images.rs` or its own file): checked on what is generated,
/// for every battery alone and for the full installation at the limits.
#[test]
fn every_image_bi_ships_is_pinned_and_canonical() {
    let mut states: Vec<DesiredState> = BatteryKind::ALL.into_iter().map(battery_state).collect();
    states.push(full_state());
    states.push(bi_model::examples::at_the_limits(ClusterProvider::Aws));
    let mut found = Vec::new();
    for state in &states {
        for resource in preview(state) {
            images_in(&resource.body, &resource.path.to_string(), &mut found);
        }
    }
    assert!(found.len() > 40, "too few images found: {}", found.len());
    for (at, reference) in found {
        let image = ImageRef::parse(&reference).unwrap_or_else(|err| panic!("{at}: {err}"));
        assert!(
            image.is_pinned(),
            "{at}: {reference} is not pinned to a version"
        );
        assert_eq!(image.to_string(), reference, "{at}: not in canonical form");
    }
}

#[test]
fn every_battery_generates_its_own_resources() {
    let mut silent = Vec::new();
    for kind in BatteryKind::ALL {
        let resources = preview(&battery_state(kind));
        if !resources.iter().any(|r| r.app == kind.id()) {
            silent.push(kind.id());
        }
    }
    assert!(
        silent.is_empty(),
        "batteries that generate nothing: {silent:?}"
    );
}

#[test]
fn every_user_object_becomes_resources() {
    let resources = preview(&full_state());
    for app in [
        "postgres-orders",
        "redis-sessions",
        "ferret-catalog",
        "service-web",
        "knative-thumbnails",
        "notebook-analysis",
        "model-assistant",
        "ippool-lan",
    ] {
        assert!(
            resources.iter().any(|r| r.app == app),
            "nothing generated for {app}"
        );
    }
}

#[test]
fn generating_twice_is_byte_identical() {
    let state = full_state();
    let first = to_yaml_stream(&preview(&state)).unwrap();
    let second = to_yaml_stream(&preview(&state)).unwrap();
    assert_eq!(first, second);
}

/// `full_state` with a second object of each list kind, so order can matter.
fn crowded_state() -> DesiredState {
    let mut state = full_state();
    let mut billing = state.postgres_clusters[0].clone();
    billing.object.name = "billing".into();
    state.postgres_clusters.push(billing);
    let mut cache = state.redis_instances[0].clone();
    cache.object.name = "cache".into();
    state.redis_instances.push(cache);
    state.projects.push(Project {
        name: "admin".into(),
        description: String::new(),
    });
    state.ip_address_pools.push(IpAddressPool {
        name: "dmz".into(),
        range: IpRange::parse("10.10.0.0/28").unwrap(),
    });
    state
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Lists built in another order (as rows may come back from a database)
    /// give the same bytes.
    #[test]
    fn list_order_does_not_change_the_output(
        order in Just(vec![0usize, 1]).prop_shuffle(),
        other in Just(vec![0usize, 1]).prop_shuffle(),
    ) {
        let state = crowded_state();
        let expected = to_yaml_stream(&preview(&state)).unwrap();
        let mut shuffled = state.clone();
        shuffled.postgres_clusters = order.iter().map(|&i| state.postgres_clusters[i].clone()).collect();
        shuffled.redis_instances = other.iter().map(|&i| state.redis_instances[i].clone()).collect();
        shuffled.projects = order.iter().map(|&i| state.projects[i].clone()).collect();
        shuffled.ip_address_pools = other.iter().map(|&i| state.ip_address_pools[i].clone()).collect();
        prop_assert_eq!(to_yaml_stream(&preview(&shuffled)).unwrap(), expected);
    }
}

/// Deserializes a built-in object into its k8s-openapi type and back.
fn round_trip(resource: &Resource) -> Option<Value> {
    use k8s_openapi::api::admissionregistration::v1 as admission;
    use k8s_openapi::api::{
        apps::v1 as apps, batch::v1 as batch, core::v1 as core, networking::v1 as net,
        rbac::v1 as rbac,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as reg;
    macro_rules! via {
        ($ty:ty) => {{
            let typed: $ty = serde_json::from_value(resource.body.clone())
                .unwrap_or_else(|err| panic!("{}: {err}", resource.path));
            serde_json::to_value(&typed).unwrap()
        }};
    }
    Some(
        match (
            resource.path.api_version.as_str(),
            resource.path.kind.as_str(),
        ) {
            ("v1", "Namespace") => via!(core::Namespace),
            ("v1", "ServiceAccount") => via!(core::ServiceAccount),
            ("v1", "ConfigMap") => via!(core::ConfigMap),
            ("v1", "Secret") => via!(core::Secret),
            ("v1", "Service") => via!(core::Service),
            ("v1", "PersistentVolumeClaim") => via!(core::PersistentVolumeClaim),
            ("apps/v1", "Deployment") => via!(apps::Deployment),
            ("apps/v1", "StatefulSet") => via!(apps::StatefulSet),
            ("apps/v1", "DaemonSet") => via!(apps::DaemonSet),
            ("batch/v1", "Job") => via!(batch::Job),
            ("batch/v1", "CronJob") => via!(batch::CronJob),
            ("rbac.authorization.k8s.io/v1", "ClusterRole") => via!(rbac::ClusterRole),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
                via!(rbac::ClusterRoleBinding)
            }
            ("rbac.authorization.k8s.io/v1", "Role") => via!(rbac::Role),
            ("rbac.authorization.k8s.io/v1", "RoleBinding") => via!(rbac::RoleBinding),
            ("networking.k8s.io/v1", "NetworkPolicy") => via!(net::NetworkPolicy),
            ("networking.k8s.io/v1", "IngressClass") => via!(net::IngressClass),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => {
                via!(ext::CustomResourceDefinition)
            }
            ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration") => {
                via!(admission::MutatingWebhookConfiguration)
            }
            ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration") => {
                via!(admission::ValidatingWebhookConfiguration)
            }
            ("apiregistration.k8s.io/v1", "APIService") => via!(reg::APIService),
            _ => return None,
        },
    )
}

#[test]
fn built_in_objects_round_trip_through_their_types_without_losing_fields() {
    let mut unknown_kinds = BTreeSet::new();
    for resource in preview(&full_state()) {
        // NB: upstream's CRDs are shipped as upstream wrote them (some carry
        // an empty `status` with nulls), not as k8s-openapi would.
        let upstream = resource.body["metadata"]["annotations"]
            .get(bi_model::generate::UPSTREAM_ANNOTATION)
            .is_some();
        if stage_of(&resource.path) == Stage::CustomResources || upstream {
            continue;
        }
        match round_trip(&resource) {
            Some(again) => assert_eq!(
                again, resource.body,
                "{} changed in a round trip",
                resource.path
            ),
            None => {
                unknown_kinds.insert(format!(
                    "{}/{}",
                    resource.path.api_version, resource.path.kind
                ));
            }
        }
    }
    assert!(
        unknown_kinds.is_empty(),
        "add these kinds to round_trip(): {unknown_kinds:?}"
    );
}

#[test]
fn every_custom_resource_validates_against_the_crd_bi_generates() {
    custom_resources_fit_their_crds(&full_state());
}

/// Every object at its defaults and at its largest passes its own
/// validation, and every custom resource generated from them fits the
/// operator's own CRD (the same state goes to a real API server in
/// control's `real_cluster` tests).
#[test]
fn every_custom_resource_at_the_limits_validates_against_upstreams_crds() {
    for provider in [ClusterProvider::Kind, ClusterProvider::Aws] {
        let state = bi_model::examples::at_the_limits(provider);
        for (kind, config) in &state.batteries {
            config
                .validate()
                .unwrap_or_else(|problems| panic!("{kind:?}: {problems:?}"));
        }
        let objects = state.postgres_clusters.iter().map(|o| o.object.validate());
        let objects = objects
            .chain(state.redis_instances.iter().map(|o| o.object.validate()))
            .chain(state.ferret_services.iter().map(|o| o.object.validate()))
            .chain(state.knative_services.iter().map(|o| o.object.validate()))
            .chain(
                state
                    .traditional_services
                    .iter()
                    .map(|o| o.object.validate()),
            )
            .chain(state.notebooks.iter().map(|o| o.object.validate()))
            .chain(state.model_instances.iter().map(|o| o.object.validate()));
        for result in objects {
            result.unwrap();
        }
        let written = custom_resources_fit_their_crds(&state);
        assert!(
            written > 20,
            "{provider:?}: only {written} custom resources"
        );
    }
}

/// Checks every custom resource `state` generates against its CRD's schema
/// and returns how many there are.
fn custom_resources_fit_their_crds(state: &DesiredState) -> usize {
    let resources = preview(state);
    let mut schemas = BTreeMap::new();
    for crd in resources
        .iter()
        .filter(|r| r.path.kind == "CustomResourceDefinition")
    {
        let spec = &crd.body["spec"];
        let group = spec["group"].as_str().unwrap().to_owned();
        let kind = spec["names"]["kind"].as_str().unwrap().to_owned();
        for version in spec["versions"].as_array().unwrap() {
            let api_version = format!("{group}/{}", version["name"].as_str().unwrap());
            schemas.insert(
                (api_version, kind.clone()),
                version["schema"]["openAPIV3Schema"].clone(),
            );
        }
    }
    let mut checked = 0;
    for resource in resources
        .iter()
        .filter(|r| stage_of(&r.path) == Stage::CustomResources)
    {
        let key = (
            resource.path.api_version.clone(),
            resource.path.kind.clone(),
        );
        let schema = schemas.get(&key).unwrap_or_else(|| {
            panic!("{} has no CRD among the generated resources", resource.path)
        });
        let violations = schema::violations(schema, &resource.body);
        assert!(violations.is_empty(), "{}: {violations:?}", resource.path);
        checked += 1;
    }
    checked
}

#[test]
fn the_yaml_stream_is_in_apply_order() {
    let resources = preview(&full_state());
    let stages: Vec<Stage> = resources.iter().map(|r| stage_of(&r.path)).collect();
    let mut sorted = stages.clone();
    sorted.sort();
    assert_eq!(stages, sorted);
    assert_eq!(stages.first(), Some(&Stage::Namespaces));
    let yaml = to_yaml_stream(&resources).unwrap();
    assert_eq!(yaml.matches("\n---\n").count() + 1, resources.len());
    assert!(
        yaml.starts_with("---\napiVersion: v1\nkind: Namespace\n"),
        "{}",
        &yaml[..80]
    );
}

#[test]
fn every_resource_is_labelled_and_hashed() {
    for resource in preview(&full_state()) {
        let metadata = &resource.body["metadata"];
        assert_eq!(
            metadata["labels"]["battery/managed"], "true",
            "{}",
            resource.path
        );
        assert_eq!(
            metadata["labels"]["app.kubernetes.io/managed-by"], "bi",
            "{}",
            resource.path
        );
        assert_eq!(
            metadata["annotations"]["battery/hash"],
            resource.hash.as_str(),
            "{}",
            resource.path
        );
    }
}

#[test]
fn stored_secrets_are_required_and_previews_never_carry_real_ones() {
    let state = full_state();
    let keys = required_secrets(&state).unwrap();
    assert!(!keys.is_empty());
    let first_missing = keys.iter().next().unwrap().clone();
    let err = generate(&state, Secrets::Stored(&BTreeMap::new())).unwrap_err();
    assert!(matches!(err, GenerateError::MissingSecret(_)), "{err}");
    let _ = first_missing;

    let stored: BTreeMap<String, String> = keys
        .iter()
        .map(|k| (k.clone(), format!("real-value-of-{k}")))
        .collect();
    let real = generate(&state, Secrets::Stored(&stored)).unwrap();
    let real_yaml = to_yaml_stream(&real).unwrap();
    assert!(real_yaml.contains("real-value-of-"));
    let preview_yaml = to_yaml_stream(&preview(&state)).unwrap();
    assert!(!preview_yaml.contains("real-value-of-"));
    assert!(preview_yaml.contains(SECRET_PLACEHOLDER));
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.yaml"))
}

fn check_golden(name: &str, yaml: &str) -> Option<String> {
    let path = golden_path(name);
    if std::env::var("BI_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, yaml).unwrap();
        return None;
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) if expected == yaml => None,
        Ok(_) => Some(format!("{name}: differs from {}", path.display())),
        Err(_) => Some(format!("{name}: no golden file at {}", path.display())),
    }
}

/// `resources` as the golden files show them: upstream's CRDs by their
/// metadata only (their source and sha256 are in it; that the rest is
/// upstream's, byte for byte, is tested with each battery), so the files stay
/// readable and a change to bi's own output stands out.
fn golden(mut resources: Vec<Resource>) -> Vec<Resource> {
    for resource in &mut resources {
        let upstream = resource.body["metadata"]["annotations"]
            .get(bi_model::generate::UPSTREAM_ANNOTATION)
            .is_some();
        if upstream {
            resource.body = serde_json::json!({
                "apiVersion": resource.body["apiVersion"],
                "kind": resource.body["kind"],
                "metadata": resource.body["metadata"],
            });
        }
    }
    resources
}

#[test]
fn output_matches_the_golden_files() {
    let mut stale = Vec::new();
    for kind in BatteryKind::ALL {
        let yaml = to_yaml_stream(&golden(preview(&battery_state(kind)))).unwrap();
        stale.extend(check_golden(kind.id(), &yaml));
    }
    let yaml = to_yaml_stream(&golden(preview(&full_state()))).unwrap();
    stale.extend(check_golden("full-installation", &yaml));
    assert!(
        stale.is_empty(),
        "{stale:#?}\nreview the change, then regenerate with \
         `BI_UPDATE_GOLDEN=1 cargo test -p bi-model --test generate`"
    );
}

/// `ObjectKind::app` is the `battery/app` each user object's resources
/// carry: the timeline and the archive find an object's battery and
/// project by it.
#[test]
fn every_user_object_generates_under_its_kinds_app() {
    use bi_model::objects::{Named, ObjectKind};
    let state = bi_model::examples::at_the_limits(ClusterProvider::Kind);
    let apps: BTreeSet<String> = generate(&state, Secrets::Preview)
        .unwrap()
        .into_iter()
        .map(|resource| resource.app)
        .collect();
    fn names<T: Named>(list: &[Owned<T>]) -> Vec<String> {
        list.iter().map(|o| o.object.name().to_owned()).collect()
    }
    let objects = [
        (ObjectKind::PostgresCluster, names(&state.postgres_clusters)),
        (ObjectKind::RedisInstance, names(&state.redis_instances)),
        (ObjectKind::FerretService, names(&state.ferret_services)),
        (ObjectKind::KnativeService, names(&state.knative_services)),
        (
            ObjectKind::TraditionalService,
            names(&state.traditional_services),
        ),
        (ObjectKind::Notebook, names(&state.notebooks)),
        (ObjectKind::ModelInstance, names(&state.model_instances)),
    ];
    for (kind, names) in objects {
        assert!(!names.is_empty(), "the example has no {kind}");
        for name in names {
            let app = kind.app(&name);
            assert!(
                apps.contains(&app),
                "{kind} {name}: no resource of app {app}"
            );
            assert!(app.starts_with(kind.app_prefix()));
        }
    }
}
