//! Admission webhooks: which planned writes a webhook bi registered
//! intercepts, and whether the Service it calls can answer yet.
//!
//! On a real cluster an operator's webhook answers only once its pods are
//! ready; until then every write it intercepts is refused ("failed calling
//! webhook"). So before such a write the engine waits, bounded, until the
//! webhook's Service has a ready endpoint; when the wait runs out the objects
//! are recorded as waiting for that webhook (no request is sent) and the
//! reconciler retries them soon. Only webhooks that refuse when they cannot
//! be called (`failurePolicy: Fail`, the default) hold writes back.

use std::collections::{BTreeMap, BTreeSet};

use bi_model::generate::{Resource, ResourcePath};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ListParams};
use serde::Deserialize;
use serde_json::Value;

/// The label that ties an EndpointSlice to its Service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The kinds that register admission webhooks.
const WEBHOOK_KINDS: [&str; 2] = [
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
];

/// Whether `path` is an admission webhook configuration.
pub(crate) fn is_webhook_configuration(path: &ResourcePath) -> bool {
    path.api_version
        .starts_with("admissionregistration.k8s.io/")
        && WEBHOOK_KINDS.contains(&path.kind.as_str())
}

/// One webhook of a configuration, as far as matching needs it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookSpec {
    name: String,
    #[serde(default)]
    client_config: ClientConfig,
    #[serde(default)]
    failure_policy: Option<String>,
    #[serde(default)]
    namespace_selector: Option<LabelSelector>,
    #[serde(default)]
    object_selector: Option<LabelSelector>,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ClientConfig {
    #[serde(default)]
    service: Option<ServiceRef>,
}

#[derive(Debug, Clone, Deserialize)]
struct ServiceRef {
    namespace: String,
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    api_groups: Vec<String>,
    #[serde(default)]
    api_versions: Vec<String>,
    #[serde(default)]
    operations: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// A Service a webhook calls: `(namespace, name)`.
pub(crate) type WebhookService = (String, String);

/// A webhook that may hold writes back.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    /// `ValidatingWebhookConfiguration cert-manager-webhook`.
    configuration: String,
    spec: WebhookSpec,
    service: WebhookService,
}

impl Webhook {
    /// How the outcome names it.
    pub(crate) fn describe(&self) -> String {
        format!(
            "admission webhook {} ({}, Service {}/{})",
            self.spec.name, self.configuration, self.service.0, self.service.1
        )
    }

    /// The Service it calls.
    pub(crate) fn service(&self) -> &WebhookService {
        &self.service
    }
}

/// One planned write, as a webhook's rules see it.
#[derive(Debug)]
pub(crate) struct Write<'a> {
    /// The object's API group ("" for the core group).
    pub(crate) group: &'a str,
    /// Its version.
    pub(crate) version: &'a str,
    /// Its resource (plural), from discovery.
    pub(crate) plural: &'a str,
    /// Whether the type is namespaced.
    pub(crate) namespaced: bool,
    /// `CREATE`, `UPDATE` or `DELETE`.
    pub(crate) operation: &'a str,
    /// The object's path.
    pub(crate) path: &'a ResourcePath,
    /// Its labels (as desired; none for a delete).
    pub(crate) labels: BTreeMap<String, String>,
}

/// The webhooks bi registered that hold writes back, and the labels of the
/// namespaces bi creates (what their namespace selectors are matched against).
#[derive(Debug, Default)]
pub(crate) struct Webhooks {
    hooks: Vec<Webhook>,
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
}

impl Webhooks {
    /// The `failurePolicy: Fail` webhooks among the configurations in
    /// `desired` for which `registered` is true (those the API server calls
    /// now), and the labels of the desired namespaces.
    pub(crate) fn of(desired: &[Resource], registered: impl Fn(&ResourcePath) -> bool) -> Self {
        let mut hooks = Vec::new();
        let mut namespaces = BTreeMap::new();
        for resource in desired {
            if resource.path.kind == "Namespace" && resource.path.api_version == "v1" {
                namespaces.insert(resource.path.name.clone(), labels_of(&resource.body));
            }
            if !is_webhook_configuration(&resource.path) || !registered(&resource.path) {
                continue;
            }
            let specs: Vec<WebhookSpec> = resource
                .body
                .get("webhooks")
                .cloned()
                .and_then(|webhooks| serde_json::from_value(webhooks).ok())
                .unwrap_or_default();
            for spec in specs {
                let fails_closed = spec.failure_policy.as_deref().is_none_or(|p| p == "Fail");
                let Some(service) = spec.client_config.service.clone() else {
                    continue;
                };
                if fails_closed {
                    hooks.push(Webhook {
                        configuration: format!("{} {}", resource.path.kind, resource.path.name),
                        service: (service.namespace, service.name),
                        spec,
                    });
                }
            }
        }
        Self { hooks, namespaces }
    }

    /// Whether no webhook holds anything back.
    pub(crate) fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// The webhooks that intercept `write`.
    pub(crate) fn intercepting(&self, write: &Write<'_>) -> Vec<&Webhook> {
        self.hooks
            .iter()
            .filter(|hook| self.intercepts(&hook.spec, write))
            .collect()
    }

    fn intercepts(&self, spec: &WebhookSpec, write: &Write<'_>) -> bool {
        let rule_matches = spec.rules.iter().any(|rule| rule.matches(write));
        if !rule_matches {
            return false;
        }
        if let Some(selector) = &spec.object_selector
            && !selects(selector, &write.labels)
        {
            return false;
        }
        // NB: the API server matches a namespace selector against the
        // namespace of a namespaced object, against a Namespace's own labels,
        // and never skips a webhook for other cluster-scoped objects.
        let Some(selector) = &spec.namespace_selector else {
            return true;
        };
        let namespace = if write.path.kind == "Namespace" && write.group.is_empty() {
            Some(write.path.name.as_str())
        } else if write.namespaced {
            write.path.namespace.as_deref()
        } else {
            None
        };
        match namespace {
            None => true,
            Some(namespace) => {
                let mut labels = self.namespaces.get(namespace).cloned().unwrap_or_default();
                labels.insert(
                    "kubernetes.io/metadata.name".to_owned(),
                    namespace.to_owned(),
                );
                selects(selector, &labels)
            }
        }
    }
}

impl Rule {
    fn matches(&self, write: &Write<'_>) -> bool {
        let any = |list: &[String], value: &str| list.iter().any(|e| e == "*" || e == value);
        let scope_matches = match self.scope.as_deref() {
            Some("Cluster") => !write.namespaced,
            Some("Namespaced") => write.namespaced,
            _ => true,
        };
        // NB: "*" is every resource but no subresource; "*/*" both.
        let resource_matches = self
            .resources
            .iter()
            .any(|r| r == "*" || r == "*/*" || r == write.plural);
        scope_matches
            && resource_matches
            && any(&self.api_groups, write.group)
            && any(&self.api_versions, write.version)
            && any(&self.operations, write.operation)
    }
}

/// Whether `selector` selects an object with `labels`.
fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_match = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    let expressions_match = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.as_deref().unwrap_or_default();
        let found = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => found.is_some_and(|v| values.contains(v)),
            "NotIn" => found.is_none_or(|v| !values.contains(v)),
            "Exists" => found.is_some(),
            "DoesNotExist" => found.is_none(),
            // NB: an operator this code does not know: assume it selects,
            // so the write waits rather than fails.
            _ => true,
        }
    });
    labels_match && expressions_match
}

/// The labels in an object's body.
pub(crate) fn labels_of(body: &Value) -> BTreeMap<String, String> {
    body.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the Service `(namespace, name)` has a ready endpoint: one of its
/// EndpointSlices lists an endpoint whose `ready` condition is not false.
pub(crate) async fn answers(client: &kube::Client, service: &WebhookService) -> bool {
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), &service.0);
    let params = ListParams::default().labels(&format!("{SERVICE_NAME_LABEL}={}", service.1));
    match slices.list(&params).await {
        Ok(list) => list.items.iter().any(|slice| {
            slice.endpoints.iter().any(|endpoint| {
                endpoint
                    .conditions
                    .as_ref()
                    .and_then(|conditions| conditions.ready)
                    != Some(false)
            })
        }),
        Err(err) => {
            tracing::debug!(%err, namespace = service.0, name = service.1, "listing endpoint slices");
            false
        }
    }
}

/// Whether the API server's message says it could not call a webhook.
pub(crate) fn is_webhook_unreachable(message: &str) -> bool {
    message.contains("failed calling webhook")
}

/// The Services of `hooks`, once each.
pub(crate) fn services<'a>(
    hooks: impl IntoIterator<Item = &'a Webhook>,
) -> BTreeSet<WebhookService> {
    hooks.into_iter().map(|hook| hook.service.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bi_model::generate::ContentHash;
    use serde_json::json;

    fn resource(api_version: &str, kind: &str, name: &str, body: Value) -> Resource {
        Resource {
            path: ResourcePath::new(api_version, kind, None, name),
            app: "test".into(),
            hash: ContentHash::of(&body),
            body,
        }
    }

    fn configuration(policy: Option<&str>, namespace_selector: Value) -> Resource {
        let mut webhook = json!({
            "name": "webhook.cert-manager.io",
            "clientConfig": { "service": { "namespace": "cert-manager", "name": "cert-manager-webhook" } },
            "rules": [{
                "apiGroups": ["cert-manager.io"],
                "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"],
                "resources": ["*/*"]
            }],
            "namespaceSelector": namespace_selector,
        });
        if let Some(policy) = policy {
            webhook["failurePolicy"] = json!(policy);
        }
        resource(
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
            "cert-manager-webhook",
            json!({ "webhooks": [webhook] }),
        )
    }

    fn namespace(name: &str, labels: Value) -> Resource {
        resource(
            "v1",
            "Namespace",
            name,
            json!({ "metadata": { "name": name, "labels": labels } }),
        )
    }

    fn certificate(namespace: &str) -> ResourcePath {
        ResourcePath::new("cert-manager.io/v1", "Certificate", Some(namespace), "tls")
    }

    fn write<'a>(path: &'a ResourcePath, operation: &'a str) -> Write<'a> {
        Write {
            group: path.group(),
            version: "v1",
            plural: "certificates",
            namespaced: true,
            operation,
            path,
            labels: BTreeMap::new(),
        }
    }

    fn opted_out() -> Value {
        json!({ "matchExpressions": [{ "key": "cert-manager.io/disable-validation", "operator": "NotIn", "values": ["true"] }] })
    }

    #[test]
    fn a_registered_webhook_intercepts_the_resources_its_rules_name() {
        let desired = [
            configuration(None, opted_out()),
            namespace("apps", json!({})),
        ];
        let hooks = Webhooks::of(&desired, |_| true);
        let path = certificate("apps");
        let found = hooks.intercepting(&write(&path, "CREATE"));
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].service(),
            &("cert-manager".to_owned(), "cert-manager-webhook".to_owned())
        );
        assert!(found[0].describe().contains("webhook.cert-manager.io"));
        assert!(hooks.intercepting(&write(&path, "DELETE")).is_empty());
        let secret = ResourcePath::new("v1", "Secret", Some("apps"), "s");
        let mut other = write(&secret, "CREATE");
        other.group = "";
        other.plural = "secrets";
        assert!(hooks.intercepting(&other).is_empty());
    }

    #[test]
    fn a_namespace_that_opts_out_by_label_is_not_intercepted() {
        let desired = [
            configuration(None, opted_out()),
            namespace(
                "cert-manager",
                json!({ "cert-manager.io/disable-validation": "true" }),
            ),
        ];
        let hooks = Webhooks::of(&desired, |_| true);
        let path = certificate("cert-manager");
        assert!(hooks.intercepting(&write(&path, "UPDATE")).is_empty());
    }

    #[test]
    fn ignore_policies_and_unregistered_configurations_hold_nothing_back() {
        let desired = [configuration(Some("Ignore"), json!({}))];
        assert!(Webhooks::of(&desired, |_| true).is_empty());
        let desired = [configuration(Some("Fail"), json!({}))];
        assert!(Webhooks::of(&desired, |_| false).is_empty());
        assert!(!Webhooks::of(&desired, |_| true).is_empty());
    }

    #[test]
    fn object_selectors_and_scopes_are_honoured() {
        let body = json!({ "webhooks": [{
            "name": "config.webhook.serving.knative.dev",
            "clientConfig": { "service": { "namespace": "knative-serving", "name": "webhook" } },
            "objectSelector": { "matchLabels": { "app.kubernetes.io/part-of": "knative-serving" } },
            "rules": [{ "apiGroups": [""], "apiVersions": ["v1"], "operations": ["*"],
                        "resources": ["configmaps"], "scope": "Namespaced" }]
        }]});
        let desired = [resource(
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
            "config.webhook.serving.knative.dev",
            body,
        )];
        let hooks = Webhooks::of(&desired, |_| true);
        let path = ResourcePath::new("v1", "ConfigMap", Some("knative-serving"), "config-network");
        let mut configmap = Write {
            group: "",
            version: "v1",
            plural: "configmaps",
            namespaced: true,
            operation: "UPDATE",
            path: &path,
            labels: BTreeMap::new(),
        };
        assert!(hooks.intercepting(&configmap).is_empty());
        configmap.labels.insert(
            "app.kubernetes.io/part-of".to_owned(),
            "knative-serving".to_owned(),
        );
        assert_eq!(hooks.intercepting(&configmap).len(), 1);
        configmap.namespaced = false;
        assert!(hooks.intercepting(&configmap).is_empty());
    }

    #[test]
    fn unreachable_webhooks_are_recognised_by_the_servers_message() {
        assert!(is_webhook_unreachable(
            "Internal error occurred: failed calling webhook \"webhook.cert-manager.io\": \
             failed to call webhook: Post \"https://cert-manager-webhook.cert-manager.svc:443/validate\": \
             service \"cert-manager-webhook\" not found"
        ));
        assert!(!is_webhook_unreachable("spec.replicas: Invalid value: -1"));
    }
}
