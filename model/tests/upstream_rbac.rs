//! bi's RBAC for each operator it deploys, checked rule by rule against the
//! ClusterRoles/Roles upstream ships at the pinned version
//! (`third_party/upstream/`, vendored byte for byte).
//!
//! Both sides are flattened into grants: (scope, apiGroup, resource, verb),
//! one per combination of a rule's lists. Upstream's `*` is kept as a
//! wildcard: only a bi `*` covers it, and it covers any bi grant. A ClusterRole
//! grant covers a Role grant of the same triple (it is wider), never the other
//! way round. `resourceNames` and `nonResourceURLs` are not compared: the names
//! are mostly Helm-templated, and no operator here grants a URL bi would need.
//!
//! The test fails naming every grant upstream has and bi lacks, and every grant
//! bi has beyond upstream unless it is listed with a reason in the operator's
//! `extra` list (a listed extra that bi no longer grants fails too, so the list
//! stays true).
//!
//! Helm templates are read with a small line-based reader: a line holding only
//! a `{{ }}` action is dropped; an `if`/`with`/`range` block is kept unless its
//! condition contains one of the operator's `skip` strings (each one a chart
//! default bi shares, named in a comment); `else` flips the block; any other
//! `{{ }}` inside a line becomes the placeholder `TEMPLATED` (role names thus
//! read `TEMPLATED-controller`). Rules pulled in with `include` from
//! `_helpers.tpl` are not vendored and so not compared; the operator says so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use bi_model::catalog::{BatteryConfig, BatteryKind, ClusterProvider};
use bi_model::generate::{DesiredState, Resource, Secrets, generate};
use serde::Deserialize;
use serde_json::Value;

/// Where a grant applies: cluster-wide (ClusterRole) or in one namespace (Role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    Cluster,
    Namespace,
}

/// One (scope, apiGroup, resource, verb).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    scope: Scope,
    group: String,
    resource: String,
    verb: String,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = match self.scope {
            Scope::Cluster => "ClusterRole",
            Scope::Namespace => "Role",
        };
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        write!(f, "{scope}: ({group}, {}, {})", self.resource, self.verb)
    }
}

/// Whether `pattern` (which may be `*`, `*/sub` or `res/*`) matches `name`.
fn matches(pattern: &str, name: &str) -> bool {
    if pattern == "*" || pattern == name {
        return true;
    }
    match (pattern.split_once('/'), name.split_once('/')) {
        (Some(("*", sub)), Some((_, name_sub))) => sub == name_sub,
        (Some((res, "*")), Some((name_res, _))) => res == name_res,
        _ => false,
    }
}

/// Whether `wide` grants at least what `narrow` grants.
fn covers(wide: &Grant, narrow: &Grant) -> bool {
    (wide.scope == Scope::Cluster || wide.scope == narrow.scope)
        && matches(&wide.group, &narrow.group)
        && matches(&wide.resource, &narrow.resource)
        && matches(&wide.verb, &narrow.verb)
}

/// The grants of one Role/ClusterRole body.
fn grants_of(body: &Value) -> Vec<Grant> {
    let scope = match body["kind"].as_str() {
        Some("ClusterRole") => Scope::Cluster,
        Some("Role") => Scope::Namespace,
        other => panic!("not a role: {other:?}"),
    };
    let list = |rule: &Value, key: &str| -> Vec<String> {
        rule[key]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|item| item.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for rule in body["rules"].as_array().into_iter().flatten() {
        for group in list(rule, "apiGroups") {
            for resource in list(rule, "resources") {
                for verb in list(rule, "verbs") {
                    out.push(Grant {
                        scope,
                        group: group.clone(),
                        resource: resource.clone(),
                        verb,
                    });
                }
            }
        }
    }
    out
}

/// One vendored upstream file and which of its roles belong to the operator.
struct Upstream {
    /// Path under `third_party/upstream/`.
    path: &'static str,
    /// Only roles whose (templated) name contains one of these; empty: all.
    names: &'static [&'static str],
}

/// An operator bi deploys and how its RBAC lines up with upstream's.
struct Operator {
    /// Upstream's name for it.
    name: &'static str,
    /// The battery that generates it.
    battery: BatteryKind,
    /// bi's ClusterRoles/Roles for this operator, by name.
    roles: &'static [&'static str],
    /// Upstream's roles for it.
    upstream: &'static [Upstream],
    /// Helm `if`/`with`/`range` conditions (substrings) treated as false.
    skip: &'static [&'static str],
    /// Grants bi has beyond upstream, each as `(apiGroup, resource, verb, why)`
    /// for the ClusterRole scope (`"Role"`-scoped extras are written with the
    /// resource prefixed `Role:`).
    extra: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

fn upstream_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../third_party/upstream")
}

/// The action inside a line that is a single `{{ }}` and nothing else.
fn sole_action(line: &str) -> Option<&str> {
    let trimmed = line.trim();
    let inner = trimmed.strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") {
        return None;
    }
    Some(inner.trim_start_matches('-').trim_end_matches('-').trim())
}

/// Template variables whose chart default matters to a rule: istio's
/// `$mcsAPIGroup` is `or .Values.env.MCS_API_GROUP "multicluster.x-k8s.io"`.
const DEFAULTS: &[(&str, &str)] = &[("$mcsAPIGroup", "multicluster.x-k8s.io")];

/// Replaces every inline `{{ … }}` with its value from [`DEFAULTS`], else
/// with `TEMPLATED`.
fn untemplate(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => {
                let action = &rest[start + 2..start + end];
                let value = DEFAULTS
                    .iter()
                    .find(|(var, _)| action.trim_matches(['-', ' ']) == *var)
                    .map_or("TEMPLATED", |(_, value)| value);
                out.push_str(value);
                rest = &rest[start + end + 2..];
            }
            None => panic!("unclosed template action in {line:?}"),
        }
    }
    out.push_str(rest);
    out
}

/// The YAML a Helm template renders to with the `skip` conditions false and
/// every other block kept; `.Files.Get "x"` splices `chart/x` in.
fn render(text: &str, skip: &[&str], chart: &Path) -> String {
    let mut active = vec![true];
    let mut out = String::new();
    for line in text.lines() {
        if let Some(action) = sole_action(line) {
            let parent = *active.last().unwrap();
            if ["if ", "with ", "range "]
                .iter()
                .any(|opener| action.starts_with(opener))
            {
                let skipped = skip.iter().any(|cond| action.contains(cond));
                active.push(parent && !skipped);
            } else if action.starts_with("else") {
                let top = active.pop().unwrap();
                let grand = *active.last().unwrap();
                active.push(grand && !top);
            } else if action == "end" {
                active.pop();
                assert!(!active.is_empty(), "unbalanced {{{{ end }}}}");
            } else if let Some(file) = action.strip_prefix(".Files.Get ")
                && parent
            {
                let path = chart.join(file.trim_matches('"'));
                let spliced = std::fs::read_to_string(&path)
                    .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
                out.push_str(&spliced);
            }
            continue;
        }
        if *active.last().unwrap() {
            out.push_str(&untemplate(line));
            out.push('\n');
        }
    }
    out
}

/// Upstream's grants for the operator.
fn upstream_grants(operator: &Operator) -> Vec<Grant> {
    let mut out = Vec::new();
    for file in operator.upstream {
        let path = upstream_dir().join(file.path);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
        // The chart's root: where `templates/` is.
        let chart = match file.path.split_once("/templates/") {
            Some((root, _)) => upstream_dir().join(root),
            None => upstream_dir(),
        };
        let yaml = render(&text, operator.skip, &chart);
        for doc in serde_yaml_ng::Deserializer::from_str(&yaml) {
            let body = Value::deserialize(doc)
                .unwrap_or_else(|err| panic!("parsing {} as rendered: {err}\n{yaml}", file.path));
            if !matches!(body["kind"].as_str(), Some("ClusterRole" | "Role")) {
                continue;
            }
            let name = body["metadata"]["name"].as_str().unwrap_or_default();
            if file.names.is_empty() || file.names.iter().any(|n| name.contains(n)) {
                out.extend(grants_of(&body));
            }
        }
    }
    out
}

/// Everything bi generates, with every battery this operator's battery is
/// offered with (AWS-only batteries on AWS, with the names Karpenter needs).
fn generated(battery: BatteryKind) -> Vec<Resource> {
    let provider = if battery.info().offered_on(ClusterProvider::Kind) {
        ClusterProvider::Kind
    } else {
        ClusterProvider::Aws
    };
    let kinds: Vec<_> = BatteryKind::ALL
        .into_iter()
        .filter(|k| k.info().offered_on(provider))
        .collect();
    let mut state = DesiredState::with_batteries(&kinds).unwrap();
    state.provider = provider;
    if let Some(BatteryConfig::Karpenter(karpenter)) =
        state.batteries.get_mut(&BatteryKind::Karpenter)
    {
        karpenter.node_role_name = "bi-nodes".into();
        karpenter.queue_name = "bi-interruptions".into();
    }
    generate(&state, Secrets::Preview).unwrap()
}

/// bi's grants for the operator, and the names of its battery's roles that no
/// operator entry claims.
fn bi_grants(operator: &Operator, resources: &[Resource]) -> Vec<Grant> {
    let mut out = Vec::new();
    for name in operator.roles {
        let found: Vec<_> = resources
            .iter()
            .filter(|r| {
                r.app == operator.battery.id()
                    && matches!(r.path.kind.as_str(), "ClusterRole" | "Role")
                    && r.path.name == *name
            })
            .collect();
        assert!(
            !found.is_empty(),
            "{}: bi generates no role named {name}",
            operator.name
        );
        for role in found {
            out.extend(grants_of(&role.body));
        }
    }
    out
}

/// What is wrong with one operator's RBAC, as lines; empty when it matches.
fn compare(operator: &Operator, resources: &[Resource]) -> Vec<String> {
    let upstream = upstream_grants(operator);
    let bi = bi_grants(operator, resources);
    let extra: Vec<Grant> = operator
        .extra
        .iter()
        .map(|(group, resource, verb, _why)| {
            let (scope, resource) = match resource.strip_prefix("Role:") {
                Some(resource) => (Scope::Namespace, resource),
                None => (Scope::Cluster, *resource),
            };
            Grant {
                scope,
                group: (*group).to_owned(),
                resource: resource.to_owned(),
                verb: (*verb).to_owned(),
            }
        })
        .collect();
    let mut problems = BTreeSet::new();
    for grant in &upstream {
        if !bi.iter().any(|have| covers(have, grant)) {
            problems.insert(format!("missing (upstream grants it) {grant}"));
        }
    }
    for grant in &bi {
        let allowed = upstream.iter().any(|up| covers(up, grant)) || extra.contains(grant);
        if !allowed {
            problems.insert(format!("excess (no reason given) {grant}"));
        }
    }
    for grant in &extra {
        if !bi.contains(grant) {
            problems.insert(format!("stale extra (bi does not grant it) {grant}"));
        }
        if upstream.iter().any(|up| covers(up, grant)) {
            problems.insert(format!("needless extra (upstream grants it) {grant}"));
        }
    }
    problems.into_iter().collect()
}

/// trust-manager's chart includes these from `_helpers.tpl`
/// (`trust-manager.rbac.namespacedResourcesRules`), which is not vendored.
const HELPER: &str = "upstream grants it via the chart helper namespacedResourcesRules";

const OPERATORS: &[Operator] = &[
    Operator {
        name: "cert-manager controller",
        battery: BatteryKind::CertManager,
        roles: &[
            "cert-manager-controller",
            "cert-manager:leaderelection",
            "cert-manager-tokenrequest",
        ],
        upstream: &[Upstream {
            path: "cert-manager/v1.19.2/deploy/charts/cert-manager/templates/rbac.yaml",
            // NB: the -view/-edit/-cluster-view roles are for users, not the controller.
            names: &["-controller-", ":leaderelection", "-tokenrequest"],
        }],
        skip: &[],
        extra: &[],
    },
    Operator {
        name: "cert-manager cainjector",
        battery: BatteryKind::CertManager,
        roles: &[
            "cert-manager-cainjector",
            "cert-manager-cainjector:leaderelection",
        ],
        upstream: &[Upstream {
            path: "cert-manager/v1.19.2/deploy/charts/cert-manager/templates/cainjector-rbac.yaml",
            names: &[],
        }],
        // NB: bi serves metrics without dynamic TLS (the chart's default).
        skip: &["metricsTLSConfig"],
        extra: &[],
    },
    Operator {
        name: "cert-manager webhook",
        battery: BatteryKind::CertManager,
        roles: &[
            "cert-manager-webhook:subjectaccessreviews",
            "cert-manager-webhook:dynamic-serving",
        ],
        upstream: &[Upstream {
            path: "cert-manager/v1.19.2/deploy/charts/cert-manager/templates/webhook-rbac.yaml",
            names: &[],
        }],
        skip: &["metricsTLSConfig"],
        extra: &[],
    },
    Operator {
        name: "trust-manager",
        battery: BatteryKind::TrustManager,
        roles: &["trust-manager", "trust-manager:leaderelection"],
        // NB: the chart's clusterrole.yaml also pulls in
        // `trust-manager.rbac.namespacedResourcesRules` from `_helpers.tpl`,
        // which is not vendored; those rules are not compared.
        upstream: &[
            Upstream {
                path: "trust-manager/v0.20.2/deploy/charts/trust-manager/templates/clusterrole.yaml",
                names: &[],
            },
            Upstream {
                path: "trust-manager/v0.20.2/deploy/charts/trust-manager/templates/role.yaml",
                names: &[],
            },
            Upstream {
                path: "trust-manager/v0.20.2/deploy/charts/trust-manager/templates/rbac-per-namespace.yaml",
                names: &[],
            },
        ],
        // NB: bi does not restrict trust-manager to target namespaces (chart default).
        skip: &["targetNamespaces"],
        extra: &[
            ("", "configmaps", "get", HELPER),
            ("", "configmaps", "list", HELPER),
            ("", "configmaps", "create", HELPER),
            ("", "configmaps", "patch", HELPER),
            ("", "configmaps", "watch", HELPER),
            ("", "configmaps", "delete", HELPER),
            ("", "events", "create", HELPER),
            ("", "events", "patch", HELPER),
            ("events.k8s.io", "events", "create", HELPER),
            ("events.k8s.io", "events", "patch", HELPER),
        ],
    },
    Operator {
        name: "cloudnative-pg",
        battery: BatteryKind::CloudnativePg,
        roles: &["cnpg-manager"],
        upstream: &[Upstream {
            path: "cloudnative-pg/1.28.0/config/rbac/role.yaml",
            names: &[],
        }],
        skip: &[],
        extra: &[],
    },
    Operator {
        name: "plugin-barman-cloud",
        battery: BatteryKind::CloudnativePgBarman,
        roles: &["barman-cloud"],
        upstream: &[
            Upstream {
                path: "plugin-barman-cloud/v0.9.0/config/rbac/role.yaml",
                names: &[],
            },
            Upstream {
                path: "plugin-barman-cloud/v0.9.0/config/rbac/leader_election_role.yaml",
                names: &[],
            },
            Upstream {
                path: "plugin-barman-cloud/v0.9.0/config/rbac/metrics_auth_role.yaml",
                names: &[],
            },
        ],
        skip: &[],
        extra: &[],
    },
    Operator {
        name: "redis-operator",
        battery: BatteryKind::Redis,
        roles: &["redis-operator"],
        // NB: the chart's role.yaml repeats role.yaml's rules but for a typo
        // (`namespace` for `namespaces`), so only config/rbac is compared.
        upstream: &[
            Upstream {
                path: "redis-operator/v0.22.1/config/rbac/role.yaml",
                names: &[],
            },
            Upstream {
                path: "redis-operator/v0.22.1/config/rbac/leader_election_role.yaml",
                names: &[],
            },
        ],
        skip: &[],
        extra: &[],
    },
    Operator {
        name: "victoriametrics-operator",
        battery: BatteryKind::VictoriaMetrics,
        roles: &["vm-operator"],
        upstream: &[
            Upstream {
                path: "victoriametrics-operator/v0.66.1/config/rbac/role.yaml",
                names: &[],
            },
            Upstream {
                path: "victoriametrics-operator/v0.66.1/config/rbac/leader_election_role.yaml",
                names: &[],
            },
        ],
        skip: &[],
        extra: &[],
    },
    Operator {
        name: "istiod",
        battery: BatteryKind::Istio,
        roles: &["istiod"],
        // NB: the istio-reader ClusterRole is for remote clusters' readers, not istiod.
        upstream: &[
            Upstream {
                path: "istio/1.28.1/manifests/charts/istio-control/istio-discovery/templates/clusterrole.yaml",
                names: &[],
            },
            Upstream {
                path: "istio/1.28.1/manifests/charts/istio-control/istio-discovery/templates/role.yaml",
                names: &[],
            },
        ],
        // NB: chart defaults bi shares: no config analysis, no taint
        // controller, istiod is its own CA, no ClusterTrustBundles.
        skip: &[
            "enableAnalysis",
            "taint.enabled",
            "EXTERNAL_CA",
            "ENABLE_CLUSTER_TRUST_BUNDLE_API",
        ],
        extra: &[],
    },
    Operator {
        name: "knative-serving controller",
        battery: BatteryKind::Knative,
        roles: &["knative-serving-admin"],
        // NB: upstream binds the controller to `knative-serving-admin`, which
        // aggregates every ClusterRole labelled `serving.knative.dev/controller`.
        // bi runs no net-istio controller, so net-istio's
        // `knative-serving-istio` role is not bi's to grant; net-gateway-api's
        // role is bound on its own (below).
        upstream: &[
            Upstream {
                path: "knative-serving/v1.20.0/config/core/200-roles/clusterrole.yaml",
                names: &[],
            },
            Upstream {
                path: "knative-serving/v1.20.0/config/core/200-roles/activator.yaml",
                names: &["activator-cluster"],
            },
        ],
        skip: &[],
        extra: &[],
    },
    Operator {
        name: "knative net-gateway-api controller",
        battery: BatteryKind::Knative,
        roles: &["knative-gateway-api-core"],
        upstream: &[Upstream {
            path: "knative-net-gateway-api/v1.20.0/config/200-clusterrole.yaml",
            names: &["-core"],
        }],
        skip: &[],
        extra: &[],
    },
    Operator {
        name: "knative-serving activator",
        battery: BatteryKind::Knative,
        roles: &[
            "knative-serving-activator",
            "knative-serving-activator-cluster",
        ],
        upstream: &[Upstream {
            path: "knative-serving/v1.20.0/config/core/200-roles/activator.yaml",
            names: &[],
        }],
        skip: &[],
        extra: &[],
    },
    Operator {
        name: "metallb controller",
        battery: BatteryKind::Metallb,
        roles: &["metallb:metallb-controller", "metallb-controller"],
        upstream: &[Upstream {
            path: "metallb/v0.15.3/charts/metallb/templates/rbac.yaml",
            names: &[":controller", "-controller"],
        }],
        // NB: chart defaults bi shares: no secure metrics port, no FRR-K8s.
        // bi runs speakers without memberlist (see metallb.rs).
        skip: &["secureMetricsPort", "frrk8s", "memberlist"],
        extra: &[],
    },
    Operator {
        name: "metallb speaker",
        battery: BatteryKind::Metallb,
        roles: &["metallb:metallb-speaker", "metallb-speaker"],
        upstream: &[Upstream {
            path: "metallb/v0.15.3/charts/metallb/templates/rbac.yaml",
            names: &[":speaker", "-pod-lister"],
        }],
        skip: &["secureMetricsPort", "frrk8s", "memberlist"],
        extra: &[],
    },
    Operator {
        name: "node-feature-discovery master",
        battery: BatteryKind::NodeFeatureDiscovery,
        roles: &["nfd-master"],
        // NB: the chart, not deployment/base, whose master role misspells
        // `nodefeaturegroups/status` as `nodefeaturegroup/status`.
        upstream: &[Upstream {
            path: "node-feature-discovery/v0.18.2/deployment/helm/node-feature-discovery/templates/clusterrole.yaml",
            names: &[],
        }],
        // NB: bi runs neither the topology updater nor the garbage collector.
        skip: &["topologyUpdater.enable", "gc.enable"],
        extra: &[],
    },
    Operator {
        name: "node-feature-discovery worker",
        battery: BatteryKind::NodeFeatureDiscovery,
        roles: &["nfd-worker"],
        upstream: &[Upstream {
            path: "node-feature-discovery/v0.18.2/deployment/helm/node-feature-discovery/templates/role.yaml",
            names: &[],
        }],
        skip: &[],
        extra: &[],
    },
    Operator {
        name: "nvidia-device-plugin",
        battery: BatteryKind::NvidiaDevicePlugin,
        roles: &[],
        upstream: &[Upstream {
            path: "nvidia-device-plugin/v0.18.0/deployments/helm/nvidia-device-plugin/templates/role.yml",
            names: &[],
        }],
        // NB: bi gives the plugin no config map and runs no GPU feature
        // discovery, so upstream's chart creates no role either.
        skip: &["hasConfigMap"],
        extra: &[],
    },
    Operator {
        name: "trivy-operator",
        battery: BatteryKind::TrivyOperator,
        roles: &["trivy-operator"],
        upstream: &[
            Upstream {
                path: "trivy-operator/v0.29.0/deploy/helm/templates/rbac/clusterrole.yaml",
                names: &[],
            },
            Upstream {
                path: "trivy-operator/v0.29.0/deploy/helm/templates/rbac/role.yaml",
                names: &[],
            },
            Upstream {
                path: "trivy-operator/v0.29.0/deploy/helm/templates/rbac/leader-election-role.yaml",
                names: &[],
            },
        ],
        skip: &[],
        extra: &[],
    },
    Operator {
        name: "karpenter",
        battery: BatteryKind::Karpenter,
        roles: &["karpenter", "karpenter-dns"],
        // NB: the -admin ClusterRole aggregates to users' admin role.
        upstream: &[
            Upstream {
                path: "karpenter-provider-aws/1.8.1/charts/karpenter/templates/clusterrole-core.yaml",
                names: &[],
            },
            Upstream {
                path: "karpenter-provider-aws/1.8.1/charts/karpenter/templates/clusterrole.yaml",
                names: &[],
            },
            Upstream {
                path: "karpenter-provider-aws/1.8.1/charts/karpenter/templates/role.yaml",
                names: &[],
            },
        ],
        // NB: bi adds no `additionalClusterRoleRules`.
        skip: &["additionalClusterRoleRules"],
        extra: &[],
    },
    Operator {
        name: "aws-load-balancer-controller",
        battery: BatteryKind::AwsLoadBalancerController,
        roles: &["aws-load-balancer-controller"],
        upstream: &[Upstream {
            path: "aws-load-balancer-controller/v2.16.0/helm/aws-load-balancer-controller/templates/rbac.yaml",
            names: &[],
        }],
        // NB: the chart's default: no read access to every Secret.
        skip: &["allowAllSecrets"],
        extra: &[],
    },
];

#[test]
fn rbac_grants_what_upstream_grants() {
    let mut report = Vec::new();
    let mut cache: Vec<(BatteryKind, Vec<Resource>)> = Vec::new();
    for operator in OPERATORS {
        if !cache.iter().any(|(kind, _)| *kind == operator.battery) {
            cache.push((operator.battery, generated(operator.battery)));
        }
        let resources = &cache
            .iter()
            .find(|(kind, _)| *kind == operator.battery)
            .unwrap()
            .1;
        for problem in compare(operator, resources) {
            report.push(format!("{}: {problem}", operator.name));
        }
    }
    assert!(
        report.is_empty(),
        "RBAC differs from upstream ({} problems):\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn every_role_of_these_batteries_is_compared() {
    let mut unclaimed = Vec::new();
    let mut seen = Vec::new();
    for operator in OPERATORS {
        if seen.contains(&operator.battery) {
            continue;
        }
        seen.push(operator.battery);
        for resource in generated(operator.battery) {
            let is_role = matches!(resource.path.kind.as_str(), "ClusterRole" | "Role");
            if !is_role || resource.app != operator.battery.id() {
                continue;
            }
            let claimed = OPERATORS.iter().any(|other| {
                other.battery == operator.battery
                    && other.roles.contains(&resource.path.name.as_str())
            });
            if !claimed {
                unclaimed.push(format!("{} {}", resource.path.kind, resource.path.name));
            }
        }
    }
    assert!(
        unclaimed.is_empty(),
        "roles no operator entry compares: {unclaimed:?}"
    );
}

#[test]
fn only_a_wildcard_covers_an_upstream_wildcard() {
    let grant = |resource: &str, verb: &str| Grant {
        scope: Scope::Cluster,
        group: "monitoring.coreos.com".to_owned(),
        resource: resource.to_owned(),
        verb: verb.to_owned(),
    };
    assert!(covers(&grant("*", "*"), &grant("podmonitors", "get")));
    assert!(!covers(&grant("podmonitors", "get"), &grant("*", "*")));
    assert!(!covers(&grant("podmonitors", "*"), &grant("*", "get")));
    assert!(covers(
        &grant("*/status", "patch"),
        &grant("podmonitors/status", "patch")
    ));
    assert!(!covers(
        &grant("*/status", "patch"),
        &grant("podmonitors", "patch")
    ));
    let namespaced = Grant {
        scope: Scope::Namespace,
        ..grant("podmonitors", "get")
    };
    assert!(covers(&grant("podmonitors", "get"), &namespaced));
    assert!(!covers(&namespaced, &grant("podmonitors", "get")));
}

#[test]
fn skipped_helm_conditions_drop_their_rules_and_keep_the_rest() {
    let template = "\
{{- if .Values.rbac.create }}
kind: ClusterRole
metadata:
  name: {{ template \"x.fullname\" . }}-controller
rules:
  - apiGroups: [\"\"]
    resources: [\"pods\"]
    verbs: [\"get\"]
{{- if .Values.taint.enabled }}
  - apiGroups: [\"\"]
    resources: [\"nodes\"]
    verbs: [\"patch\"]
{{- else }}
  - apiGroups: [\"\"]
    resources: [\"nodes\"]
    verbs: [\"get\"]
{{- end }}
{{- end }}
";
    let rendered = render(template, &["taint.enabled"], Path::new("."));
    let body: Value = serde_yaml_ng::from_str(&rendered).unwrap();
    assert_eq!(body["metadata"]["name"], "TEMPLATED-controller");
    let grants: Vec<String> = grants_of(&body)
        .iter()
        .map(|g| format!("{}/{}", g.resource, g.verb))
        .collect();
    assert_eq!(grants, ["pods/get", "nodes/get"]);
}
