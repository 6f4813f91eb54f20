//! bi's admission webhook configurations are the ones each operator ships,
//! read from `third_party/upstream` (the operators' own manifests at the
//! pinned tags): for every operator bi installs, the same webhooks by kind
//! and name, and for each the same rules, failure, side-effect and match
//! policies, selectors, review versions, timeout and path. Only where the
//! API server calls differs: `clientConfig.service` names bi's own Service,
//! which bi must generate with the port it names. Where bi deliberately
//! differs, a commented [`Exception`] says why (and the test fails once the
//! exception no longer holds).
//!
//! Helm templates are rendered here by a deliberately tiny renderer (`if`,
//! `with`, `range`, `else`, `define`/`include`, trim markers) driven by a
//! per-operator table of the chart's default values: an expression missing
//! from the table fails the test by name, so a new upstream template cannot
//! be misread silently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bi_model::catalog::{BatteryConfig, BatteryKind, ClusterProvider};
use bi_model::generate::{DesiredState, Resource, Secrets, generate};
use serde::Deserialize;
use serde_json::{Value, json};

const MUTATING: &str = "MutatingWebhookConfiguration";
const VALIDATING: &str = "ValidatingWebhookConfiguration";

/// Where upstream's webhook configurations are, and how to read them.
enum Source {
    /// A plain manifest (kustomize base, static YAML).
    Plain(&'static str),
    /// A Helm template, rendered with the chart's default values: each
    /// expression the template uses, as written between `{{ }}`, and its
    /// value (`""` or `"false"` is false in a condition).
    Helm(&'static str, &'static [(&'static str, &'static str)]),
}

/// Where bi deliberately differs from upstream, and why.
// NB: no operator needs a per-webhook exception today; the variants stay so
// that the next one is written down rather than hidden.
#[allow(dead_code)]
enum Exception {
    /// bi registers none of the operator's webhooks.
    AllOmitted(&'static str),
    /// bi leaves this webhook out.
    Omitted {
        webhook: &'static str,
        why: &'static str,
    },
    /// bi's value of this field differs.
    Field {
        webhook: &'static str,
        field: &'static str,
        why: &'static str,
    },
}

/// An operator bi installs whose upstream ships webhook configurations.
struct Operator {
    name: &'static str,
    battery: BatteryKind,
    sources: &'static [Source],
    exceptions: &'static [Exception],
}

const CERT_MANAGER_VALUES: &[(&str, &str)] = &[
    ("include \"webhook.fullname\" .", "cert-manager-webhook"),
    ("template \"webhook.fullname\" .", "cert-manager-webhook"),
    ("include \"webhook.name\" .", "webhook"),
    ("include \"cert-manager.namespace\" .", "cert-manager"),
    (".Release.Name", "cert-manager"),
    ("include \"labels\" . | nindent 4", ""),
    (
        "printf \"%s/%s-ca\" (include \"cert-manager.namespace\" .) (include \"webhook.fullname\" .) | quote",
        "\"cert-manager/cert-manager-webhook-ca\"",
    ),
    (
        ".Values.webhook.mutatingWebhookConfigurationAnnotations",
        "",
    ),
    (
        ".Values.webhook.validatingWebhookConfigurationAnnotations",
        "",
    ),
    // values.yaml: `mutatingWebhookConfiguration.namespaceSelector: {}`.
    (
        ".Values.webhook.mutatingWebhookConfiguration.namespaceSelector",
        "",
    ),
    (
        ".Values.webhook.validatingWebhookConfiguration.namespaceSelector",
        "true",
    ),
    (
        "toYaml . | nindent 6",
        "\n      matchExpressions:\n      - key: \"cert-manager.io/disable-validation\"\n        operator: \"NotIn\"\n        values:\n        - \"true\"",
    ),
    (".Values.webhook.timeoutSeconds", "30"),
    (".Values.webhook.url.host", ""),
];

const TRUST_MANAGER_VALUES: &[(&str, &str)] = &[
    (
        "and .Values.app.webhook.tls.helmCert.enabled .Values.app.webhook.tls.approverPolicy.enabled",
        "false",
    ),
    (".Values.app.webhook.tls.helmCert.enabled", "false"),
    ("not .Values.app.webhook.tls.helmCert.enabled", "true"),
    (
        "or (not .Values.app.webhook.tls.helmCert.enabled) .Values.commonAnnotations",
        "true",
    ),
    ("include \"trust-manager.name\" .", "trust-manager"),
    ("include \"trust-manager.namespace\" .", "cert-manager"),
    ("include \"trust-manager.labels\" . | nindent 4", ""),
    (".Values.commonAnnotations", ""),
    (".Values.app.webhook.service.type", "ClusterIP"),
    (".Values.app.webhook.service.ipFamilyPolicy", ""),
    (".Values.app.webhook.service.ipFamilies", ""),
    (".Values.app.webhook.service.nodePort", ""),
    (".Values.app.webhook.port", "6443"),
    (".Values.app.webhook.timeoutSeconds", "5"),
];

const ISTIO_VALUES: &[(&str, &str)] = &[
    (
        "or (eq .Values.global.resourceScope \"all\") (eq .Values.global.resourceScope \"cluster\")",
        "true",
    ),
    ("not .Values.global.operatorManageWebhooks", "true"),
    ("eq .Release.Namespace \"istio-system\"", "true"),
    ("not (eq .Values.revision \"\")", "false"),
    ("(eq .Values.revision \"\")", "true"),
    (".Values.revision", ""),
    (
        ".Values.revision | default \"default\" | quote",
        "\"default\"",
    ),
    (".Values.ownerName | default \"unknown\"", "unknown"),
    (".Release.Name", "istiod"),
    (".Release.Namespace", "istio-system"),
    ("include \"istio.labels\" . | nindent 4", ""),
    ("$.Values.sidecarInjectorWebhookAnnotations", ""),
    (
        ".Values.sidecarInjectorWebhook.enableNamespacesByDefault",
        "false",
    ),
    // values.yaml: `revisionTags: []`.
    ("$tagName := $.Values.revisionTags", ""),
    // The "core" webhook template's own variables.
    (".injectionURL", ""),
    ("not (eq .revision \"\")", "false"),
    (".revision", ""),
    (".namespace", "istio-system"),
    (".injectionPath", "/inject"),
    (".caBundle", ""),
    (".reinvocationPolicy", "Never"),
    // The validation webhooks (istio-discovery and base charts).
    (
        "or (not .Values.istiodRemote.enabled) (and .Values.istiodRemote.enabled (or .Values.global.configCluster .Values.istiodRemote.enabledLocalInjectorIstiod))",
        "true",
    ),
    (".Values.global.configValidation", "true"),
    (".Values.global.istioNamespace", "istio-system"),
    (".Values.base.validationURL", ""),
    (".Values.base.validationCABundle", ""),
    ("not (eq .Values.defaultRevision \"\")", "true"),
    ("(eq .Values.defaultRevision \"default\")", "true"),
    (".Values.defaultRevision", "default"),
    (".Values.defaultRevision | quote", "\"default\""),
];

/// Every operator bi installs whose upstream ships webhook configurations.
/// Not here because bi does not install it: knative-net-istio (bi's
/// Knative routes through net-gateway-api).
const OPERATORS: &[Operator] = &[
    Operator {
        name: "cert-manager",
        battery: BatteryKind::CertManager,
        sources: &[
            Source::Helm(
                "cert-manager/v1.19.2/deploy/charts/cert-manager/templates/webhook-mutating-webhook.yaml",
                CERT_MANAGER_VALUES,
            ),
            Source::Helm(
                "cert-manager/v1.19.2/deploy/charts/cert-manager/templates/webhook-validating-webhook.yaml",
                CERT_MANAGER_VALUES,
            ),
        ],
        exceptions: &[],
    },
    Operator {
        name: "trust-manager",
        battery: BatteryKind::TrustManager,
        sources: &[Source::Helm(
            "trust-manager/v0.20.2/deploy/charts/trust-manager/templates/webhook.yaml",
            TRUST_MANAGER_VALUES,
        )],
        exceptions: &[],
    },
    Operator {
        name: "cloudnative-pg",
        battery: BatteryKind::CloudnativePg,
        sources: &[Source::Plain(
            "cloudnative-pg/1.28.0/config/webhook/manifests.yaml",
        )],
        exceptions: &[],
    },
    Operator {
        name: "istio",
        battery: BatteryKind::Istio,
        sources: &[
            Source::Helm(
                "istio/1.28.1/manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml",
                ISTIO_VALUES,
            ),
            Source::Helm(
                "istio/1.28.1/manifests/charts/istio-control/istio-discovery/templates/validatingwebhookconfiguration.yaml",
                ISTIO_VALUES,
            ),
            Source::Helm(
                "istio/1.28.1/manifests/charts/base/templates/defaultrevision-validatingwebhookconfiguration.yaml",
                ISTIO_VALUES,
            ),
            Source::Helm(
                "istio/1.28.1/manifests/charts/istio-control/istio-discovery/templates/revision-tags-mwc.yaml",
                ISTIO_VALUES,
            ),
        ],
        exceptions: &[],
    },
    Operator {
        name: "knative-serving",
        battery: BatteryKind::Knative,
        sources: &[
            Source::Plain("knative-serving/v1.20.0/config/core/webhooks/defaulting.yaml"),
            Source::Plain("knative-serving/v1.20.0/config/core/webhooks/resource-validation.yaml"),
            Source::Plain("knative-serving/v1.20.0/config/core/webhooks/configmap-validation.yaml"),
            Source::Plain("knative-net-gateway-api/v1.20.0/config/500-validating-webhook.yaml"),
        ],
        exceptions: &[],
    },
    Operator {
        name: "metallb",
        battery: BatteryKind::Metallb,
        sources: &[Source::Plain(
            "metallb/v0.15.3/config/webhook/manifests.yaml",
        )],
        // NB: bi runs the controller with `--webhook-mode=disabled`, so nothing
        // serves these; bi validates address pools itself before generating.
        exceptions: &[Exception::AllOmitted(
            "the controller runs with --webhook-mode=disabled",
        )],
    },
    Operator {
        name: "redis-operator",
        battery: BatteryKind::Redis,
        sources: &[Source::Plain(
            "redis-operator/v0.22.1/config/webhook/manifests.yaml",
        )],
        // NB: the operator runs with ENABLE_WEBHOOKS=false (the chart's
        // default too: `redisOperator.webhook: false`), so nothing serves these.
        exceptions: &[Exception::AllOmitted(
            "the operator runs with ENABLE_WEBHOOKS=false, as the chart does by default",
        )],
    },
    Operator {
        name: "victoriametrics-operator",
        battery: BatteryKind::VictoriaMetrics,
        sources: &[Source::Plain(
            "victoriametrics-operator/v0.66.1/config/webhook/manifests.yaml",
        )],
        // NB: the operator's webhook server is off unless `-webhook.enable`
        // is passed; bi does not pass it (the chart's default is off too).
        exceptions: &[Exception::AllOmitted(
            "the operator runs without -webhook.enable, as the chart does by default",
        )],
    },
    Operator {
        name: "aws-load-balancer-controller",
        battery: BatteryKind::AwsLoadBalancerController,
        sources: &[Source::Plain(
            "aws-load-balancer-controller/v2.16.0/config/webhook/manifests.yaml",
        )],
        // NB: bi does not register the controller's webhooks: the ingress
        // gateway's Service opts in with annotations (the Service mutator is
        // off), and bi creates no Ingresses, TargetGroupBindings or
        // IngressClassParams and relies on no pod readiness gates.
        exceptions: &[Exception::AllOmitted(
            "bi relies on none of them: Services opt in with annotations, and bi creates no Ingress, TargetGroupBinding or IngressClassParams",
        )],
    },
];

/// The compared fields of a webhook; absent fields get the API server's
/// defaults, so an explicit default equals an omitted one.
const FIELDS: &[&str] = &[
    "rules",
    "failurePolicy",
    "sideEffects",
    "matchPolicy",
    "namespaceSelector",
    "objectSelector",
    "admissionReviewVersions",
    "timeoutSeconds",
    "reinvocationPolicy",
    "path",
    "port",
];

fn upstream_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../third_party/upstream")
}

// ---------------------------------------------------------------- Helm --

enum Token {
    Text(String),
    Action(String),
}

/// Text and `{{ }}` actions, with `{{-` / `-}}` whitespace trimming applied.
fn tokenize(source: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut rest = source;
    let mut trim_next = false;
    while let Some(start) = rest.find("{{") {
        let mut text = &rest[..start];
        if trim_next {
            text = text.trim_start();
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").expect("an unclosed {{ action");
        let mut body = &after[..end];
        if body.starts_with('-') && body[1..].starts_with(char::is_whitespace) {
            text = text.trim_end();
            body = &body[1..];
        }
        trim_next = body.ends_with('-') && body[..body.len() - 1].ends_with(char::is_whitespace);
        if trim_next {
            body = &body[..body.len() - 1];
        }
        tokens.push(Token::Text(text.to_owned()));
        tokens.push(Token::Action(body.trim().to_owned()));
        rest = &after[end + 2..];
    }
    let text = if trim_next { rest.trim_start() } else { rest };
    tokens.push(Token::Text(text.to_owned()));
    tokens
}

enum Node {
    Text(String),
    Output(String),
    /// `if`/`with`/`range` and their `else` branches (`None`: plain else).
    Branches(Vec<(Option<String>, Vec<Node>)>),
    Define(String, Vec<Node>),
}

enum Stop {
    End,
    Else(Option<String>),
    Eof,
}

fn parse(tokens: &[Token], pos: &mut usize) -> (Vec<Node>, Stop) {
    let mut nodes = Vec::new();
    while *pos < tokens.len() {
        let token = &tokens[*pos];
        *pos += 1;
        let action = match token {
            Token::Text(text) => {
                nodes.push(Node::Text(text.clone()));
                continue;
            }
            Token::Action(action) => action.as_str(),
        };
        let block = ["if ", "with ", "range "]
            .iter()
            .find_map(|keyword| action.strip_prefix(keyword));
        if action.starts_with("/*") || (action.starts_with('$') && action.contains(":=")) {
        } else if let Some(condition) = block {
            let mut branches = Vec::new();
            let mut condition = Some(condition.trim().to_owned());
            loop {
                let (body, stop) = parse(tokens, pos);
                branches.push((condition, body));
                match stop {
                    Stop::End => break,
                    Stop::Else(next) => condition = next,
                    Stop::Eof => panic!("`{action}` has no end"),
                }
            }
            nodes.push(Node::Branches(branches));
        } else if let Some(name) = action.strip_prefix("define ") {
            let (body, _) = parse(tokens, pos);
            nodes.push(Node::Define(name.trim().trim_matches('"').to_owned(), body));
        } else if action == "end" {
            return (nodes, Stop::End);
        } else if action == "else" {
            return (nodes, Stop::Else(None));
        } else if let Some(condition) = action.strip_prefix("else if ") {
            return (nodes, Stop::Else(Some(condition.trim().to_owned())));
        } else {
            nodes.push(Node::Output(action.to_owned()));
        }
    }
    (nodes, Stop::Eof)
}

struct Renderer<'a> {
    file: &'a str,
    values: &'a [(&'a str, &'a str)],
    defines: BTreeMap<String, &'a [Node]>,
}

impl<'a> Renderer<'a> {
    fn value(&self, expression: &str, locals: &[(String, String)]) -> String {
        locals
            .iter()
            .find(|(key, _)| key == expression)
            .map(|(_, value)| value.clone())
            .or_else(|| {
                self.values
                    .iter()
                    .find(|(key, _)| *key == expression)
                    .map(|(_, value)| (*value).to_owned())
            })
            .unwrap_or_else(|| {
                panic!(
                    "{}: the Helm expression `{expression}` has no value in the test's table",
                    self.file
                )
            })
    }

    fn render(&mut self, nodes: &'a [Node], locals: &[(String, String)], out: &mut String) {
        for node in nodes {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Define(name, body) => {
                    self.defines.insert(name.clone(), body);
                }
                Node::Branches(branches) => {
                    let taken = branches.iter().find(|(condition, _)| match condition {
                        None => true,
                        Some(condition) => {
                            let value = self.value(condition, locals);
                            !value.is_empty() && value != "false"
                        }
                    });
                    if let Some((_, body)) = taken {
                        self.render(body, locals, out);
                    }
                }
                Node::Output(expression) => {
                    let include = expression
                        .strip_prefix("include \"")
                        .and_then(|rest| rest.split('"').next())
                        .and_then(|name| self.defines.get(name).copied());
                    match include {
                        // `include "core" (… (dict "Prefix" "rev.namespace."))`:
                        // the define with the dict's keys as `.Key`.
                        Some(body) => {
                            let mut inner = locals.to_vec();
                            if let Some((_, dict)) = expression.rsplit_once("(dict ") {
                                let strings: Vec<&str> =
                                    dict.split('"').skip(1).step_by(2).collect();
                                for pair in strings.chunks(2) {
                                    inner.push((format!(".{}", pair[0]), pair[1].to_owned()));
                                }
                            }
                            self.render(body, &inner, out);
                        }
                        None => out.push_str(&self.value(expression, locals)),
                    }
                }
            }
        }
    }
}

fn render_helm(file: &str, source: &str, values: &[(&str, &str)]) -> String {
    let tokens = tokenize(source);
    let (nodes, stop) = parse(&tokens, &mut 0);
    assert!(
        matches!(stop, Stop::Eof),
        "{file}: an unmatched {{{{ end }}}}"
    );
    let mut renderer = Renderer {
        file,
        values,
        defines: BTreeMap::new(),
    };
    let mut out = String::new();
    renderer.render(&nodes, &[], &mut out);
    out
}

// ------------------------------------------------------------ webhooks --

/// One webhook: its configuration's kind, its name, and the compared fields.
#[derive(Debug)]
struct Webhook {
    kind: String,
    name: String,
    fields: BTreeMap<&'static str, Value>,
    service: Option<(String, String)>,
}

fn sorted_strings(value: Option<&Value>) -> Value {
    let mut items: Vec<String> = value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| item.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    items.sort();
    json!(items)
}

/// A label selector with `{}` for none and requirement values sorted.
fn selector(value: Option<&Value>) -> Value {
    let mut selector = serde_json::Map::new();
    if let Some(labels) = value
        .and_then(|v| v.get("matchLabels"))
        .filter(|l| l.as_object().is_some_and(|l| !l.is_empty()))
    {
        selector.insert("matchLabels".into(), labels.clone());
    }
    if let Some(requirements) = value
        .and_then(|v| v.get("matchExpressions"))
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
    {
        let requirements: Vec<Value> = requirements
            .iter()
            .map(|r| {
                json!({
                    "key": r["key"],
                    "operator": r["operator"],
                    "values": sorted_strings(r.get("values")),
                })
            })
            .collect();
        selector.insert("matchExpressions".into(), json!(requirements));
    }
    Value::Object(selector)
}

fn webhooks_of(config: &Value) -> Vec<Webhook> {
    let kind = config["kind"].as_str().unwrap_or_default().to_owned();
    let Some(webhooks) = config["webhooks"].as_array() else {
        return Vec::new();
    };
    webhooks
        .iter()
        .map(|webhook| {
            let or = |field: &str, default: Value| {
                webhook
                    .get(field)
                    .filter(|v| !v.is_null())
                    .cloned()
                    .unwrap_or(default)
            };
            let mut rules: Vec<Value> = webhook["rules"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|rule| {
                    json!({
                        "operations": sorted_strings(rule.get("operations")),
                        "apiGroups": sorted_strings(rule.get("apiGroups")),
                        "apiVersions": sorted_strings(rule.get("apiVersions")),
                        "resources": sorted_strings(rule.get("resources")),
                        "scope": rule.get("scope").cloned().unwrap_or(json!("*")),
                    })
                })
                .collect();
            rules.sort_by_key(Value::to_string);
            let service = &webhook["clientConfig"]["service"];
            let mut fields = BTreeMap::from([
                ("rules", json!(rules)),
                ("failurePolicy", or("failurePolicy", json!("Fail"))),
                ("sideEffects", or("sideEffects", Value::Null)),
                ("matchPolicy", or("matchPolicy", json!("Equivalent"))),
                (
                    "namespaceSelector",
                    selector(webhook.get("namespaceSelector")),
                ),
                ("objectSelector", selector(webhook.get("objectSelector"))),
                (
                    "admissionReviewVersions",
                    or("admissionReviewVersions", Value::Null),
                ),
                ("timeoutSeconds", or("timeoutSeconds", json!(10))),
                ("path", service.get("path").cloned().unwrap_or(Value::Null)),
                ("port", service.get("port").cloned().unwrap_or(json!(443))),
            ]);
            if kind == MUTATING {
                fields.insert(
                    "reinvocationPolicy",
                    or("reinvocationPolicy", json!("Never")),
                );
            }
            Webhook {
                kind: kind.clone(),
                name: webhook["name"].as_str().unwrap_or_default().to_owned(),
                fields,
                service: service.get("name").map(|name| {
                    (
                        service["namespace"].as_str().unwrap_or_default().to_owned(),
                        name.as_str().unwrap_or_default().to_owned(),
                    )
                }),
            }
        })
        .collect()
}

fn upstream_webhooks(operator: &Operator) -> Vec<Webhook> {
    let mut webhooks = Vec::new();
    for source in operator.sources {
        let (file, values) = match source {
            Source::Plain(file) => (*file, None),
            Source::Helm(file, values) => (*file, Some(*values)),
        };
        let text = std::fs::read_to_string(upstream_root().join(file))
            .unwrap_or_else(|err| panic!("reading {file}: {err}"));
        let text = match values {
            Some(values) => render_helm(file, &text, values),
            None => text,
        };
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let config = Value::deserialize(document)
                .unwrap_or_else(|err| panic!("{file}: not YAML once rendered: {err}\n{text}"));
            if matches!(config["kind"].as_str(), Some(MUTATING | VALIDATING)) {
                webhooks.extend(webhooks_of(&config));
            }
        }
    }
    assert!(
        !webhooks.is_empty(),
        "{}: upstream ships no webhooks in {:?}: is the table out of date?",
        operator.name,
        operator.sources.len()
    );
    webhooks
}

/// The state with `kind` and its dependencies, on a provider it is offered on.
fn battery_state(kind: BatteryKind) -> DesiredState {
    let mut state = DesiredState::with_batteries(&[kind]).unwrap();
    state.provider = if kind.info().offered_on(ClusterProvider::Kind) {
        ClusterProvider::Kind
    } else {
        ClusterProvider::Aws
    };
    if let Some(BatteryConfig::Karpenter(karpenter)) =
        state.batteries.get_mut(&BatteryKind::Karpenter)
    {
        karpenter.node_role_name = "bi-nodes".into();
        karpenter.queue_name = "bi-interruptions".into();
    }
    state
}

fn generated(kind: BatteryKind) -> Vec<Resource> {
    generate(&battery_state(kind), Secrets::Preview)
        .unwrap_or_else(|err| panic!("generating {kind:?}: {err}"))
}

/// The webhooks bi generates for `kind` itself (not its dependencies).
fn bi_webhooks(kind: BatteryKind, resources: &[Resource]) -> Vec<Webhook> {
    resources
        .iter()
        .filter(|r| r.app == kind.info().id)
        .filter(|r| matches!(r.path.kind.as_str(), MUTATING | VALIDATING))
        .flat_map(|r| webhooks_of(&r.body))
        .collect()
}

/// Problems with how bi's webhook reaches its Service.
fn check_service(operator: &str, webhook: &Webhook, resources: &[Resource]) -> Option<String> {
    let at = format!(
        "{operator}: {} `{}`: clientConfig.service",
        webhook.kind, webhook.name
    );
    let Some((namespace, name)) = &webhook.service else {
        return Some(format!("{at}: bi names no Service"));
    };
    let Some(service) = resources.iter().find(|r| {
        r.path.kind == "Service"
            && r.path.namespace.as_deref() == Some(namespace.as_str())
            && r.path.name == *name
    }) else {
        return Some(format!("{at}: bi generates no Service {namespace}/{name}"));
    };
    let port = &webhook.fields["port"];
    let ports = service.body["spec"]["ports"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (!ports.iter().any(|p| p["port"] == *port))
        .then(|| format!("{at}: Service {namespace}/{name} has no port {port}"))
}

/// Every difference between bi's and upstream's webhooks for one operator,
/// after its exceptions.
fn differences(operator: &Operator) -> Vec<String> {
    let resources = generated(operator.battery);
    let ours = bi_webhooks(operator.battery, &resources);
    let theirs = upstream_webhooks(operator);
    let mut problems = Vec::new();
    let name = operator.name;

    if let Some(Exception::AllOmitted(_)) = operator.exceptions.first() {
        if !ours.is_empty() {
            problems.push(format!(
                "{name}: the exception says bi registers none of upstream's webhooks, but bi generates {:?}: compare them instead",
                ours.iter().map(|w| &w.name).collect::<Vec<_>>()
            ));
        }
        return problems;
    }

    let key = |w: &Webhook| (w.kind.clone(), w.name.clone());
    let our_keys: BTreeSet<_> = ours.iter().map(key).collect();
    let their_keys: BTreeSet<_> = theirs.iter().map(key).collect();
    let omitted = |webhook: &str| {
        operator
            .exceptions
            .iter()
            .any(|e| matches!(e, Exception::Omitted { webhook: w, .. } if *w == webhook))
    };
    for (kind, webhook) in their_keys.difference(&our_keys) {
        if !omitted(webhook) {
            problems.push(format!(
                "{name}: {kind} `{webhook}`: upstream ships it, bi does not"
            ));
        }
    }
    for (kind, webhook) in our_keys.difference(&their_keys) {
        problems.push(format!(
            "{name}: {kind} `{webhook}`: bi generates it, upstream ships none"
        ));
    }
    for exception in operator.exceptions {
        if let Exception::Omitted { webhook, .. } = exception
            && (ours.iter().any(|w| w.name == *webhook)
                || !theirs.iter().any(|w| w.name == *webhook))
        {
            problems.push(format!(
                "{name}: webhook `{webhook}`: the exception that bi omits it is out of date"
            ));
        }
    }

    for our in &ours {
        problems.extend(check_service(name, our, &resources));
        let Some(their) = theirs.iter().find(|t| key(t) == key(our)) else {
            continue;
        };
        for field in FIELDS {
            let excepted = operator.exceptions.iter().any(|e| {
                matches!(e, Exception::Field { webhook, field: f, .. } if *webhook == our.name && f == field)
            });
            let (a, b) = (&our.fields.get(field), &their.fields.get(field));
            match (a == b, excepted) {
                (true, true) => problems.push(format!(
                    "{name}: {} `{}`: field `{field}`: the exception is out of date, bi and upstream agree",
                    our.kind, our.name
                )),
                (false, false) => problems.push(format!(
                    "{name}: {} `{}`: field `{field}`: bi has {}, upstream has {}",
                    our.kind,
                    our.name,
                    a.map(Value::to_string).unwrap_or_default(),
                    b.map(Value::to_string).unwrap_or_default(),
                )),
                _ => {}
            }
        }
    }
    problems
}

#[test]
fn webhook_configurations_match_upstream() {
    let problems: Vec<String> = OPERATORS.iter().flat_map(differences).collect();
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn every_battery_with_webhooks_is_compared_with_upstream() {
    let known: BTreeSet<_> = OPERATORS.iter().map(|o| o.battery).collect();
    let mut unchecked = Vec::new();
    for kind in BatteryKind::ALL {
        let resources = generated(kind);
        let webhooks = bi_webhooks(kind, &resources);
        if !webhooks.is_empty() && !known.contains(&kind) {
            unchecked.push(format!(
                "{}: generates {:?} but upstream ships none (or the test does not know where)",
                kind.info().id,
                webhooks.iter().map(|w| &w.name).collect::<Vec<_>>()
            ));
        }
    }
    assert!(unchecked.is_empty(), "\n{}\n", unchecked.join("\n"));
}

#[test]
fn every_exception_says_why() {
    for operator in OPERATORS {
        for exception in operator.exceptions {
            let why = match exception {
                Exception::AllOmitted(why)
                | Exception::Omitted { why, .. }
                | Exception::Field { why, .. } => why,
            };
            assert!(
                !why.trim().is_empty(),
                "{}: an exception without a reason",
                operator.name
            );
        }
    }
}

#[test]
fn helm_rendering_trims_and_branches() {
    let values = &[
        (".Values.on", "true"),
        (".Values.off", ""),
        (".Values.name", "x"),
    ];
    let source = "a:\n{{- if .Values.on }}\n  b: {{ .Values.name }}\n{{- else }}\n  b: no\n{{- end }}\n{{- with .Values.off }}\n  c: 1\n{{- end }}\n";
    assert_eq!(render_helm("test", source, values), "a:\n  b: x\n");
}
