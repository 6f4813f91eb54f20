//! oauth2-proxy in front of bi's UIs (Grafana, notebooks, …) with Keycloak as the identity provider.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind};
use super::{BatteryConfig, checks, victoria_metrics};
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::names::DnsLabel;
use crate::objects::Resources;
use crate::units::{Cpu, Memory};
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Sso,
    id: "sso",
    name: "Single Sign-On",
    group: BatteryGroup::NetSecurity,
    description: "oauth2-proxy in front of bi's UIs (Grafana, notebooks, …) with Keycloak as the identity provider.",
    dependencies: &[BatteryKind::BatteryCore, BatteryKind::Keycloak],
    integrations: &[],
    removable: true,
    providers: &[],
};

/// Configuration of Single Sign-On.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SsoConfig {
    /// oauth2-proxy.
    pub oauth2_proxy_image: ImageRef,
    /// Require a second factor at sign-in.
    pub mfa: bool,
    /// The first administrator bi creates in Keycloak (in `bi-admins`), with
    /// an initial password bi stores (`bi sso initial-password`) that must be
    /// changed at the first sign-in.
    pub admin_username: DnsLabel,
}

impl Default for SsoConfig {
    fn default() -> Self {
        Self {
            oauth2_proxy_image: image(images::OAUTH2_PROXY),
            mfa: false,
            admin_username: checks::label("admin"),
        }
    }
}

impl SsoConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(
            &mut problems,
            "oauth2_proxy_image",
            &self.oauth2_proxy_image,
        );
        problems.into_result()
    }
}

/// The Keycloak realm every bi UI signs in through.
pub const REALM: &str = "batterycore";


/// Port oauth2-proxy listens on inside its pod.
const PROXY_PORT: u16 = 4180;

/// What a proxy's Deployment, Service and Secret are named: `oauth2-proxy-<name>`.
pub const PROXY_PREFIX: &str = "oauth2-proxy-";

/// Port oauth2-proxy serves its metrics on.
const METRICS_PORT: u16 = 44180;

/// The Keycloak service every proxy asks for tokens.
fn issuer_url(ctx: &Context<'_>) -> String {
    format!("{}/realms/{REALM}", super::keycloak::internal_url(ctx))
}

/// The installed SSO config, or None when SSO is not installed.
fn installed_config<'a>(ctx: &Context<'a>) -> Option<&'a SsoConfig> {
    match ctx.state.batteries.get(&BatteryKind::Sso) {
        Some(BatteryConfig::Sso(config)) => Some(config),
        _ => None,
    }
}

/// An oauth2-proxy in front of `upstream:upstream_port` (a Service name in
/// `namespace`, or a fully qualified host): a Secret with the client and
/// cookie secrets, a Deployment and a Service `oauth2-proxy-<name>` on port
/// 80 (and its metrics, scraped once VictoriaMetrics is installed). Signs people in through Keycloak's `batterycore` realm. Empty when
/// SSO is not installed.
///
/// Each proxy signs in as its own Keycloak client, `bi-<name>` (see
/// [`crate::keycloak`]), whose secret its Secret publishes.
///
/// Reads the stored secrets `sso/cookie-secret` and `sso/clients/<name>`;
/// the proxy reads them from its Secret by `secretKeyRef`.
pub fn oauth2_proxy(
    ctx: &Context<'_>,
    app: &str,
    namespace: &str,
    name: &str,
    upstream: &str,
    upstream_port: u16,
) -> Result<Vec<Resource>, GenerateError> {
    oauth2_proxy_under(ctx, app, namespace, name, (upstream, upstream_port), None)
}

/// [`oauth2_proxy`] for a UI served under `path_prefix` of a shared host
/// (a notebook's `/<name>`): its sign-in pages and callback live under it.
pub fn oauth2_proxy_under(
    ctx: &Context<'_>,
    app: &str,
    namespace: &str,
    name: &str,
    (upstream, upstream_port): (&str, u16),
    path_prefix: Option<&str>,
) -> Result<Vec<Resource>, GenerateError> {
    let Some(config) = installed_config(ctx) else {
        return Ok(Vec::new());
    };
    let proxy = format!("{PROXY_PREFIX}{name}");
    let secret = build::secret(
        namespace,
        &proxy,
        BTreeMap::from([
            (
                "client-secret".to_owned(),
                ctx.secret(&crate::keycloak::client_secret_key(name))?,
            ),
            ("cookie-secret".to_owned(), ctx.secret("sso/cookie-secret")?),
        ]),
    );

    let mut container = ContainerSpec::new("oauth2-proxy", &config.oauth2_proxy_image);
    container.args = vec!["--provider=keycloak-oidc".to_owned()];
    match super::keycloak::public_url(ctx) {
        // NB: browsers go to Keycloak's public address; the proxy redeems
        // codes and reads keys at its Service (the public name may not
        // resolve inside the cluster), and Keycloak names the public
        // address as the tokens' issuer (KC_HOSTNAME).
        Some(public) => {
            let inside = issuer_url(ctx);
            let oidc = "protocol/openid-connect";
            container.args.extend([
                format!("--oidc-issuer-url={public}/realms/{REALM}"),
                "--skip-oidc-discovery=true".to_owned(),
                format!("--login-url={public}/realms/{REALM}/{oidc}/auth"),
                format!("--redeem-url={inside}/{oidc}/token"),
                format!("--oidc-jwks-url={inside}/{oidc}/certs"),
                format!("--validate-url={inside}/{oidc}/userinfo"),
            ]);
        }
        None => container
            .args
            .push(format!("--oidc-issuer-url={}", issuer_url(ctx))),
    }
    container.args.extend([
        format!("--client-id={}", crate::keycloak::client_id(name)),
        format!(
            "--proxy-prefix={}/oauth2",
            path_prefix.unwrap_or_default()
        ),
        format!("--oidc-groups-claim={}", crate::keycloak::GROUPS_CLAIM),
        format!("--upstream=http://{upstream}:{upstream_port}/"),
        format!("--http-address=0.0.0.0:{PROXY_PORT}"),
        format!("--metrics-address=0.0.0.0:{METRICS_PORT}"),
        "--email-domain=*".to_owned(),
        "--reverse-proxy=true".to_owned(),
        "--skip-provider-button=true".to_owned(),
        // NB: the gateway serves every UI over HTTPS and redirects plain
        // HTTP there, so the session cookie never travels in the clear;
        // without it the proxy is reached by port-forward, over HTTP, where
        // browsers drop Secure cookies.
        format!("--cookie-secure={}", crate::reach::gateway(ctx).is_some()),
        "--cookie-samesite=lax".to_owned(),
        "--cookie-httponly=true".to_owned(),
        format!("--cookie-name=_bi_{}", name.replace('-', "_")),
        "--code-challenge-method=S256".to_owned(),
    ]);
    container.env = vec![
        build::env_from_secret("OAUTH2_PROXY_CLIENT_SECRET", &proxy, "client-secret"),
        build::env_from_secret("OAUTH2_PROXY_COOKIE_SECRET", &proxy, "cookie-secret"),
    ];
    container.ports = vec![("http", PROXY_PORT), ("metrics", METRICS_PORT)];
    container.health = Some(Health::Http("/ping", PROXY_PORT));
    container.resources = Some(Resources {
        cpu_request: Cpu::millicores(20),
        cpu_limit: None,
        memory_request: Memory::mebibytes(64),
        memory_limit: Some(Memory::mebibytes(128)),
    });
    // NB: the proxy never talks to the Kubernetes API: no service account.
    let deployment = build::deployment(namespace, &proxy, 1, None, &[container], Vec::new());
    let service = build::service(
        namespace,
        &proxy,
        &proxy,
        &[("http", 80), ("metrics", METRICS_PORT)],
    );

    let mut out = vec![
        Resource::new(app, &secret)?,
        Resource::new(app, &deployment)?,
        Resource::new(app, &service)?,
    ];
    if let Some(scrape) = victoria_metrics::scrape(ctx, app, namespace, &proxy, &proxy, "metrics")?
    {
        out.push(scrape);
    }
    Ok(out)
}

/// The resources this battery needs: a ConfigMap `sso-keycloak-client` in
/// the base namespace saying which realm and issuer the proxies use,
/// whether a second factor is required, and which Keycloak clients bi keeps
/// there (see [`crate::keycloak`]). The proxies themselves come from
/// [`oauth2_proxy`], called by each UI's battery. Reads no secrets into it.
pub fn generate(config: &SsoConfig, ctx: &Context<'_>) -> Result<Vec<Resource>, GenerateError> {
    let clients: Vec<String> = crate::keycloak::generate(ctx)?
        .into_iter()
        .filter(|item| item.path.kind == crate::keycloak::KeycloakKind::Client)
        .map(|item| item.path.name)
        .collect();
    let data = BTreeMap::from([
        ("realm".to_owned(), REALM.to_owned()),
        (
            "issuer".to_owned(),
            super::keycloak::public_url(ctx)
                .map_or_else(|| issuer_url(ctx), |url| format!("{url}/realms/{REALM}")),
        ),
        ("mfa".to_owned(), config.mfa.to_string()),
        ("clients".to_owned(), clients.join("\n")),
    ]);
    let config_map = build::config_map(ctx.base_namespace(), "sso-keycloak-client", data);
    Ok(vec![Resource::new(INFO.id, &config_map)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{DesiredState, Secrets};
    use k8s_openapi::api::apps::v1::Deployment;

    fn state(kinds: &[BatteryKind]) -> DesiredState {
        DesiredState::with_batteries(kinds).unwrap()
    }

    fn kinds_and_names(resources: &[Resource]) -> Vec<(String, String)> {
        resources
            .iter()
            .map(|r| (r.path.kind.clone(), r.path.name.clone()))
            .collect()
    }

    #[test]
    fn the_battery_publishes_its_keycloak_client_with_the_mfa_flag() {
        let state = state(&[BatteryKind::Sso]);
        let ctx = Context::new(&state, Secrets::Preview);
        let config = SsoConfig {
            mfa: true,
            ..SsoConfig::default()
        };
        let resources = generate(&config, &ctx).unwrap();
        assert_eq!(
            kinds_and_names(&resources),
            [("ConfigMap".to_owned(), "sso-keycloak-client".to_owned())]
        );
        let data = &resources[0].body["data"];
        assert_eq!(data["mfa"], "true");
        assert_eq!(data["realm"], REALM);
        assert_eq!(resources[0].path.namespace.as_deref(), Some("battery-base"));
        // No gateway: bi's own client only (the proxies have no host).
        assert_eq!(data["clients"], crate::keycloak::BI_CLIENT);
    }

    #[test]
    fn a_proxy_appears_only_when_sso_is_installed() {
        let without = state(&[BatteryKind::Grafana]);
        let ctx = Context::new(&without, Secrets::Preview);
        let none = oauth2_proxy(
            &ctx,
            "grafana",
            "battery-monitoring",
            "grafana",
            "grafana",
            3000,
        );
        assert_eq!(none, Ok(Vec::new()));

        let with = state(&[BatteryKind::Grafana, BatteryKind::Sso]);
        let ctx = Context::new(&with, Secrets::Preview);
        let proxy = oauth2_proxy(
            &ctx,
            "grafana",
            "battery-monitoring",
            "grafana",
            "grafana",
            3000,
        )
        .unwrap();
        assert_eq!(
            kinds_and_names(&proxy),
            [
                ("Secret".to_owned(), "oauth2-proxy-grafana".to_owned()),
                ("Deployment".to_owned(), "oauth2-proxy-grafana".to_owned()),
                ("Service".to_owned(), "oauth2-proxy-grafana".to_owned()),
            ]
        );
        assert!(proxy.iter().all(|r| r.app == "grafana"));
    }

    #[test]
    fn the_proxy_reads_its_secrets_by_reference_and_uses_the_pinned_image() {
        let mut state = state(&[BatteryKind::Sso]);
        let custom =
            crate::image::ImageRef::parse("quay.io/oauth2-proxy/oauth2-proxy:v7.12.0").unwrap();
        state.batteries.insert(
            BatteryKind::Sso,
            BatteryConfig::Sso(SsoConfig {
                oauth2_proxy_image: custom.clone(),
                ..SsoConfig::default()
            }),
        );
        let stored = BTreeMap::from([
            ("sso/clients/lab".to_owned(), "client-s3cret".to_owned()),
            (
                "sso/cookie-secret".to_owned(),
                "cookie-s3cret-0123456789abcdef".to_owned(),
            ),
        ]);
        let ctx = Context::new(&state, Secrets::Stored(&stored));
        let proxy = oauth2_proxy(&ctx, "notebook-lab", "battery-ai", "lab", "lab", 8888).unwrap();

        let secret = &proxy[0].body;
        assert_eq!(secret["stringData"]["client-secret"], "client-s3cret");
        let deployment: Deployment = serde_json::from_value(proxy[1].body.clone()).unwrap();
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(
            container.image.as_deref(),
            Some(custom.to_string().as_str())
        );
        let text = serde_json::to_string(container).unwrap();
        assert!(
            !text.contains("s3cret"),
            "a secret value was copied: {text}"
        );
        let env = container.env.as_ref().unwrap();
        let reference = env[0]
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!(reference.name, "oauth2-proxy-lab");
        let args = container.args.as_ref().unwrap();
        assert!(args.contains(&"--upstream=http://lab:8888/".to_owned()));
        // Its own Keycloak client, whose secret its Secret publishes.
        assert!(args.contains(&"--client-id=bi-lab".to_owned()));
        assert!(args.contains(&"--proxy-prefix=/oauth2".to_owned()));
        assert!(args.contains(
            &"--oidc-issuer-url=http://keycloak.battery-base.svc.cluster.local:8080/realms/batterycore"
                .to_owned()
        ));
        assert!(container.liveness_probe.is_some() && container.resources.is_some());
        assert_eq!(pod.service_account_name, None);
    }

    #[test]
    fn behind_the_gateway_browsers_go_to_keycloaks_public_address_and_the_proxy_to_its_service() {
        let state = state(&[
            BatteryKind::Sso,
            BatteryKind::Grafana,
            BatteryKind::IstioGateway,
        ]);
        let resources = crate::generate::generate(&state, Secrets::Preview).unwrap();
        let args = |name: &str| -> Vec<String> {
            let deployment = resources
                .iter()
                .find(|r| r.path.kind == "Deployment" && r.path.name == name)
                .unwrap();
            let container = &deployment.body["spec"]["template"]["spec"]["containers"][0];
            let mut all: Vec<String> =
                serde_json::from_value(container["args"].clone()).unwrap_or_default();
            for env in container["env"].as_array().unwrap() {
                if let Some(value) = env["value"].as_str() {
                    all.push(format!("{}={value}", env["name"].as_str().unwrap()));
                }
            }
            all
        };
        let proxy = args("oauth2-proxy-grafana");
        let inside = "http://keycloak.battery-base.svc.cluster.local:8080/realms/batterycore";
        for expected in [
            "--oidc-issuer-url=https://keycloak.bi.localhost/realms/batterycore".to_owned(),
            "--skip-oidc-discovery=true".to_owned(),
            "--login-url=https://keycloak.bi.localhost/realms/batterycore/protocol/openid-connect/auth".to_owned(),
            format!("--redeem-url={inside}/protocol/openid-connect/token"),
            format!("--oidc-jwks-url={inside}/protocol/openid-connect/certs"),
        ] {
            assert!(proxy.contains(&expected), "{expected} not in {proxy:?}");
        }
        // Keycloak names its public address in the tokens it issues, also to the proxy.
        let keycloak = args("keycloak");
        assert!(keycloak.contains(&"KC_HOSTNAME=https://keycloak.bi.localhost".to_owned()));
        assert!(keycloak.contains(&"KC_HOSTNAME_BACKCHANNEL_DYNAMIC=true".to_owned()));
        assert!(!keycloak.iter().any(|a| a.starts_with("KC_HOSTNAME_STRICT")));
    }

    #[test]
    fn the_proxy_is_scraped_only_with_victoria_metrics() {
        let with = state(&[BatteryKind::Sso, BatteryKind::VictoriaMetrics]);
        let ctx = Context::new(&with, Secrets::Preview);
        let proxy = oauth2_proxy(&ctx, "notebook-lab", "battery-ai", "lab", "lab", 8888).unwrap();
        let scrape = proxy
            .iter()
            .find(|r| r.path.kind == "VMServiceScrape")
            .unwrap();
        assert_eq!(scrape.path.name, "oauth2-proxy-lab");
        assert_eq!(scrape.body["spec"]["endpoints"][0]["port"], "metrics");
    }

    #[test]
    fn a_missing_stored_secret_is_an_error() {
        let state = state(&[BatteryKind::Sso]);
        let empty = BTreeMap::new();
        let ctx = Context::new(&state, Secrets::Stored(&empty));
        assert_eq!(
            oauth2_proxy(
                &ctx,
                "grafana",
                "battery-monitoring",
                "grafana",
                "grafana",
                3000
            ),
            Err(GenerateError::MissingSecret("sso/clients/grafana".to_owned()))
        );
    }
}
