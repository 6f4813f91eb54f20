//! JupyterLab notebooks with persistent storage, optionally behind single sign-on.

use k8s_openapi::api::core::v1::{SecretVolumeSource, Volume};
use serde::{Deserialize, Serialize};

use super::checks;
use super::images::{self, image};
use super::kind::{BatteryGroup, BatteryInfo, BatteryKind, Integration};
use super::sso;
use crate::generate::build::{self, ContainerSpec, Health};
use crate::generate::{Context, GenerateError, Resource};
use crate::image::ImageRef;
use crate::names::{self, DerivedName};
use crate::objects::Notebook;
use crate::validation::Problems;

/// Catalog entry.
pub const INFO: BatteryInfo = BatteryInfo {
    kind: BatteryKind::Notebooks,
    id: "notebooks",
    name: "Jupyter Notebooks",
    group: BatteryGroup::Ai,
    description: "JupyterLab notebooks with persistent storage, optionally behind single sign-on.",
    dependencies: &[BatteryKind::BatteryCore],
    integrations: &[
        Integration {
            partner: BatteryKind::Sso,
            what: "sign-in through Keycloak via oauth2-proxy",
        },
        Integration {
            partner: BatteryKind::NvidiaDevicePlugin,
            what: "GPU notebooks",
        },
        Integration {
            partner: BatteryKind::IstioGateway,
            what: "each notebook at https://notebooks.<domain>/<name>/",
        },
    ],
    removable: true,
    providers: &[],
};

/// Configuration of Jupyter Notebooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotebooksConfig {
    /// Image for new notebooks.
    pub default_image: ImageRef,
}

impl Default for NotebooksConfig {
    fn default() -> Self {
        Self {
            default_image: image(images::JUPYTER),
        }
    }
}

impl NotebooksConfig {
    /// Every problem with this config.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        checks::pinned(&mut problems, "default_image", &self.default_image);
        problems.into_result()
    }
}

/// JupyterLab's port.
pub const PORT: u16 = 8888;

/// The Secret holding the cookie secret every notebook signs its cookies with.
const COOKIE_SECRET: &str = "notebooks-cookie-secret";

/// Where the cookie secret is mounted in each notebook.
const COOKIE_SECRET_DIR: &str = "/etc/jupyter-secrets";

/// The jovyan user and users group of the Jupyter docker-stacks images:
/// their conda environment is writable by that group only.
const JOVYAN_UID: i64 = 1000;
const USERS_GID: i64 = 100;

/// What a notebook's StatefulSet, Service, Secret and labels are named:
/// `notebook-<name>`.
const APP_PREFIX: &str = "notebook-";

/// The Service (and app label) of the notebook `name`: `notebook-<name>`.
pub fn service_name(name: &str) -> String {
    format!("{APP_PREFIX}{name}")
}

/// The names and labels derived from a notebook's name; the longest name
/// validation accepts is what they all leave room for (its sign-in proxy's
/// Service, `oauth2-proxy-notebook-<name>`, binds).
pub const NOTEBOOK_NAMES: &[DerivedName] = &[
    DerivedName {
        by: "bi",
        what: "the StatefulSet",
        prefix: &[APP_PREFIX],
        suffix: "",
        limit: names::STATEFUL_SET_NAME,
    },
    DerivedName {
        by: "bi",
        what: "the sign-in proxy's Service",
        prefix: &[sso::PROXY_PREFIX, APP_PREFIX],
        suffix: "",
        limit: names::SERVICE_NAME,
    },
];

/// The longest notebook name (41).
pub const NOTEBOOK_NAME_MAX_LEN: usize = names::derived_max_len(NOTEBOOK_NAMES);

/// The resources this battery needs, in the AI namespace: a Secret with
/// the cookie secret all notebooks share (so sign-ins survive restarts),
/// and for each notebook (sorted by name; app `notebook-<name>`):
///
/// - a StatefulSet running its image on port 8888 under
///   `/<name>` (`ServerApp.base_url`), with its home (`/home/jovyan`) on a
///   volume claim of its `storage`, its CPU and memory, as the image's
///   non-root `jovyan` user;
/// - a Secret with its access token (Jupyter reads `JUPYTER_TOKEN`);
/// - a Service;
/// - with SSO installed, an oauth2-proxy in front of it
///   (see [`sso::oauth2_proxy`]). The token stays required behind the
///   proxy: the Service is reachable from inside the namespace too.
///
/// Reads the stored secrets `notebooks/cookie-secret` and
/// `notebooks/<name>/token` for each notebook.
pub fn generate(
    config: &NotebooksConfig,
    ctx: &Context<'_>,
) -> Result<Vec<Resource>, GenerateError> {
    // NB: the default image only pre-fills the form for a new notebook;
    // each notebook names its own image.
    let _ = config;
    let namespace = ctx.ai_namespace();
    let mut out = vec![Resource::new(
        INFO.id,
        &build::secret(
            namespace,
            COOKIE_SECRET,
            [(
                "cookie-secret".to_owned(),
                ctx.secret("notebooks/cookie-secret")?,
            )]
            .into(),
        ),
    )?];
    let mut notebooks: Vec<&Notebook> = ctx.state.notebooks.iter().map(|o| &o.object).collect();
    notebooks.sort_by(|a, b| a.name.cmp(&b.name));
    for notebook in notebooks {
        out.extend(notebook_resources(ctx, namespace, notebook)?);
    }
    Ok(out)
}

/// The resources of one notebook.
fn notebook_resources(
    ctx: &Context<'_>,
    namespace: &str,
    notebook: &Notebook,
) -> Result<Vec<Resource>, GenerateError> {
    let name = service_name(&notebook.name);
    let app = name.as_str();
    let token = build::secret(
        namespace,
        &name,
        [(
            "token".to_owned(),
            ctx.secret(&format!("notebooks/{}/token", notebook.name))?,
        )]
        .into(),
    );

    let container = ContainerSpec {
        args: vec![
            "start-notebook.py".to_owned(),
            format!("--ServerApp.base_url=/{}", notebook.name),
            format!("--ServerApp.cookie_secret_file={COOKIE_SECRET_DIR}/cookie-secret"),
        ],
        env: vec![build::env_from_secret("JUPYTER_TOKEN", &name, "token")],
        ports: vec![("http", PORT)],
        resources: Some(notebook.resources.clone()),
        // NB: every HTTP path sits under the base URL, so a TCP check it is.
        health: Some(Health::Tcp(PORT)),
        mounts: vec![
            ("data".to_owned(), "/home/jovyan".to_owned()),
            ("cookie-secret".to_owned(), COOKIE_SECRET_DIR.to_owned()),
        ],
        ..ContainerSpec::new("notebook", &notebook.image)
    };
    let mut stateful_set = build::stateful_set(
        namespace,
        &name,
        1,
        None,
        &[container],
        Some(&notebook.storage),
    );
    if let Some(pod) = stateful_set
        .spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
    {
        if let Some(context) = pod.security_context.as_mut() {
            context.run_as_user = Some(JOVYAN_UID);
            context.run_as_group = Some(USERS_GID);
            context.fs_group = Some(USERS_GID);
        }
        pod.volumes.get_or_insert_with(Vec::new).push(Volume {
            name: "cookie-secret".to_owned(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(COOKIE_SECRET.to_owned()),
                default_mode: Some(0o440),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        });
    }

    let mut out = vec![
        Resource::new(app, &token)?,
        Resource::new(app, &stateful_set)?,
        Resource::new(
            app,
            &build::service(namespace, &name, &name, &[("http", PORT)]),
        )?,
    ];
    // NB: notebooks share a host by path; the proxy's sign-in pages and
    // callback live under the notebook's path too.
    out.extend(sso::oauth2_proxy_under(
        ctx,
        app,
        namespace,
        &name,
        (&name, PORT),
        Some(&format!("/{}", notebook.name)),
    )?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::catalog::test_support::find;
    use std::collections::BTreeMap;

    use super::*;
    use crate::generate::{DesiredState, Owned, Secrets};
    use crate::image::ImageRef;
    use crate::objects::SizePreset;
    use crate::units::Storage;

    fn state(kinds: &[BatteryKind], names: &[&str]) -> DesiredState {
        let mut state = DesiredState::with_batteries(kinds).unwrap();
        for name in names {
            state.notebooks.push(Owned::unowned(Notebook {
                name: (*name).to_owned(),
                ..Notebook::default()
            }));
        }
        state
    }

    fn generated(state: &DesiredState) -> Vec<Resource> {
        generate(
            &NotebooksConfig::default(),
            &Context::new(state, Secrets::Preview),
        )
        .unwrap()
    }

    #[test]
    fn each_notebook_gets_a_stateful_set_a_service_and_a_token_sorted_by_name() {
        let resources = generated(&state(&[BatteryKind::Notebooks], &["zeta", "alpha"]));
        let paths: Vec<String> = resources
            .iter()
            .map(|r| format!("{}/{} ({})", r.path.kind, r.path.name, r.app))
            .collect();
        assert_eq!(
            paths,
            [
                "Secret/notebooks-cookie-secret (notebooks)",
                "Secret/notebook-alpha (notebook-alpha)",
                "StatefulSet/notebook-alpha (notebook-alpha)",
                "Service/notebook-alpha (notebook-alpha)",
                "Secret/notebook-zeta (notebook-zeta)",
                "StatefulSet/notebook-zeta (notebook-zeta)",
                "Service/notebook-zeta (notebook-zeta)",
            ]
        );
        assert!(
            resources
                .iter()
                .all(|r| r.path.namespace.as_deref() == Some("battery-ai"))
        );
    }

    #[test]
    fn the_pod_follows_the_notebook() {
        let mut state = state(&[BatteryKind::Notebooks], &[]);
        state.notebooks.push(Owned::unowned(Notebook {
            name: "lab".into(),
            image: ImageRef::parse("registry.example/lab:1.0").unwrap(),
            storage: Storage::gibibytes(3),
            resources: SizePreset::Medium.resources(),
        }));
        let resources = generated(&state);
        let set = &find(&resources, "StatefulSet", "notebook-lab")
            .unwrap()
            .body["spec"];
        assert_eq!(
            set["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
            "3Gi"
        );
        let pod = &set["template"]["spec"];
        let container = &pod["containers"][0];
        assert_eq!(container["image"], "registry.example/lab:1.0");
        assert_eq!(container["ports"][0]["containerPort"], 8888);
        assert_eq!(container["resources"]["requests"]["cpu"], "4");
        assert_eq!(container["resources"]["limits"]["memory"], "8Gi");
        assert_eq!(
            container["env"][0]["valueFrom"]["secretKeyRef"]["name"],
            "notebook-lab"
        );
        assert!(
            container["args"]
                .to_string()
                .contains("--ServerApp.base_url=/lab")
        );
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(pod["securityContext"]["runAsUser"], 1000);
        let service = &find(&resources, "Service", "notebook-lab").unwrap().body["spec"];
        assert_eq!(service["ports"][0]["port"], 8888);
    }

    #[test]
    fn sso_puts_an_oauth2_proxy_in_front_of_each_notebook() {
        let without = generated(&state(&[BatteryKind::Notebooks], &["lab"]));
        assert!(find(&without, "Deployment", "oauth2-proxy-notebook-lab").is_none());
        let with = generated(&state(
            &[BatteryKind::Notebooks, BatteryKind::Sso],
            &["lab"],
        ));
        let proxy = find(&with, "Deployment", "oauth2-proxy-notebook-lab").unwrap();
        assert_eq!(proxy.app, "notebook-lab");
        assert_eq!(proxy.path.namespace.as_deref(), Some("battery-ai"));
    }

    #[test]
    fn tokens_and_the_cookie_secret_come_from_the_stored_secrets() {
        let state = state(&[BatteryKind::Notebooks], &["lab"]);
        let mut stored =
            BTreeMap::from([("notebooks/cookie-secret".to_owned(), "cookie".to_owned())]);
        let err = generate(
            &NotebooksConfig::default(),
            &Context::new(&state, Secrets::Stored(&stored)),
        )
        .unwrap_err();
        assert_eq!(
            err,
            GenerateError::MissingSecret("notebooks/lab/token".into())
        );
        stored.insert("notebooks/lab/token".into(), "t0ken".into());
        let resources = generate(
            &NotebooksConfig::default(),
            &Context::new(&state, Secrets::Stored(&stored)),
        )
        .unwrap();
        let secret = find(&resources, "Secret", "notebook-lab").unwrap();
        assert_eq!(secret.body["stringData"]["token"], "t0ken");
    }
}
