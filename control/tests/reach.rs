//! Reach read from the cluster: every address of the desired state with
//! what the gateway controller says of its route and cert-manager of its
//! certificate, on the sandbox and on a real kube-apiserver.
//!
//! Neither runs istiod or cert-manager, so the test writes the status they
//! would (an HTTPRoute's `Accepted` parent condition, a Certificate's
//! `Ready`) through the status subresource, as they do. What only a cluster
//! with nodes shows (istiod accepting the route, envoy answering on 443,
//! cert-manager signing) is not shown here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use bi_control::cache::Cache;
use bi_control::desired_state;
use bi_control::engine::{Engine, EngineSettings};
use bi_control::events::EventBus;
use bi_control::reach::{self, Progress};
use bi_model::catalog::BatteryKind;
use bi_model::generate::Owned;
use bi_model::objects::{PortProtocol, Project, ServicePort, TraditionalService};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::json;
use support::cluster::on_sandbox_and_real;

fn settings() -> EngineSettings {
    EngineSettings {
        webhook_wait: Duration::from_secs(2),
        base_backoff: Duration::from_millis(20),
        ..EngineSettings::default()
    }
}

fn api(client: &kube::Client, gvk: (&str, &str, &str), namespace: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(gvk.0, gvk.1, gvk.2));
    Api::namespaced_with(client.clone(), namespace, &resource)
}

#[tokio::test]
async fn addresses_are_listed_with_what_the_gateway_and_cert_manager_say() {
    on_sandbox_and_real(
        "addresses_are_listed_with_what_the_gateway_and_cert_manager_say",
        |t, cluster| async move {
            t.db.migrate().await.unwrap();
            let client = cluster.client();

            // A UI without a gateway: reachable only inside, and said so.
            desired_state::change(&t.db, "test", "grafana", |s| {
                s.install(&[BatteryKind::Grafana]).unwrap();
                Ok(())
            })
            .await
            .unwrap();
            let inside = reach::read(&t.db, &Cache::new(client.clone())).await.unwrap();
            assert!(inside.gateway.is_none() && inside.addresses.is_empty());
            let grafana = inside
                .unreachable
                .iter()
                .find(|u| u.battery == BatteryKind::Grafana)
                .unwrap();
            assert!(grafana.words.contains("install Istio Ingress Gateway"));

            desired_state::change(&t.db, "test", "gateway and a service", |s| {
                s.install(&[BatteryKind::IstioGateway, BatteryKind::TraditionalServices])
                    .unwrap();
                s.projects.push(Project {
                    name: "shop".to_owned(),
                    description: String::new(),
                });
                let mut web = TraditionalService::new(
                    "web",
                    bi_model::image::ImageRef::parse("docker.io/library/nginx:1.27").unwrap(),
                );
                web.ports.push(ServicePort {
                    name: "http".to_owned(),
                    number: 8080,
                    protocol: PortProtocol::Http,
                });
                s.traditional_services.push(Owned {
                    project: Some("shop".to_owned()),
                    object: web,
                });
                Ok(())
            })
            .await
            .unwrap();
            let before = reach::read(&t.db, &Cache::new(client.clone())).await.unwrap();
            let gateway = before.gateway.clone().unwrap();
            assert_eq!(gateway.domain, "bi.localhost");
            assert!(gateway.how_to_open.contains("kubectl port-forward -n battery-istio"));
            let urls: Vec<&str> = before.addresses.iter().map(|a| a.url.as_str()).collect();
            assert_eq!(
                urls,
                [
                    "https://control.bi.localhost/",
                    "https://grafana.bi.localhost/",
                    "https://web.shop.bi.localhost/",
                ]
            );
            assert!(
                before
                    .addresses
                    .iter()
                    .all(|a| a.route.progress == Progress::Missing
                        && a.certificate.progress == Progress::Missing),
                "nothing is applied yet: {before:#?}"
            );

            let engine = Engine::with_settings(t.db.clone(), client.clone(), settings(), EventBus::new())
                .await
                .unwrap();
            engine.snapshot("test").await.unwrap();
            let applied = reach::read(&t.db, &Cache::new(client.clone())).await.unwrap();
            for address in &applied.addresses {
                assert_eq!(
                    address.route.progress,
                    Progress::Pending,
                    "{}: {}",
                    address.url,
                    address.route.words
                );
            }

            // istiod accepts Grafana's route.
            let routes = api(&client, ("gateway.networking.k8s.io", "v1", "HTTPRoute"), "battery-monitoring");
            let status = json!({ "status": { "parents": [{
                "parentRef": { "group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "bi", "namespace": "battery-istio", "sectionName": "https" },
                "controllerName": "istio.io/gateway-controller",
                "conditions": [{
                    "type": "Accepted", "status": "True", "reason": "Accepted", "message": "Route was valid",
                    "lastTransitionTime": "2026-12-05T10:00:00Z", "observedGeneration": 1,
                }],
            }] } });
            routes
                .patch_status("grafana", &PatchParams::default(), &Patch::Merge(&status))
                .await
                .unwrap();
            let routed = reach::read(&t.db, &Cache::new(client.clone())).await.unwrap();
            let grafana = routed.addresses.iter().find(|a| a.host == "grafana.bi.localhost").unwrap();
            assert_eq!(grafana.route.progress, Progress::Done, "{}", grafana.route.words);
            let web = routed.addresses.iter().find(|a| a.host == "web.shop.bi.localhost").unwrap();
            assert_eq!(web.route.progress, Progress::Pending);

            // cert-manager issues the batteries' certificate, where it could
            // be applied (its webhook never answers on a real server).
            let certificates = api(&client, ("cert-manager.io", "v1", "Certificate"), "battery-istio");
            if certificates.get_opt("bi-gateway").await.unwrap().is_some() {
                assert_eq!(grafana.certificate.progress, Progress::Pending);
                let ready = json!({ "status": {
                    "conditions": [{ "type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date and has not expired", "lastTransitionTime": "2026-12-05T10:00:00Z" }],
                    "notAfter": "2027-03-05T10:00:00Z",
                } });
                certificates
                    .patch_status("bi-gateway", &PatchParams::default(), &Patch::Merge(&ready))
                    .await
                    .unwrap();
                let issued = reach::read(&t.db, &Cache::new(client.clone())).await.unwrap();
                let grafana = issued.addresses.iter().find(|a| a.host == "grafana.bi.localhost").unwrap();
                assert_eq!(grafana.certificate.progress, Progress::Done);
                assert_eq!(
                    grafana.certificate.words,
                    "issued by the Battery CA, valid until 2027-03-05T10:00:00Z"
                );
            } else {
                assert!(cluster.is_real(), "the sandbox answers cert-manager's webhook");
                assert_eq!(grafana.certificate.progress, Progress::Missing);
            }

            // The CA certificate is handed out; its key never is.
            assert_eq!(reach::ca_certificate(&t.db, &client).await.unwrap(), None);
            let pem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
            let secret: Secret = serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": { "name": "battery-ca", "namespace": "battery-base" },
                "type": "kubernetes.io/tls",
                "stringData": { "ca.crt": pem, "tls.crt": pem, "tls.key": "-----BEGIN EC PRIVATE KEY-----\nsecret\n-----END EC PRIVATE KEY-----\n" },
            }))
            .unwrap();
            let secrets: Api<Secret> = Api::namespaced(client.clone(), "battery-base");
            secrets.create(&PostParams::default(), &secret).await.unwrap();
            let handed = reach::ca_certificate(&t.db, &client).await.unwrap().unwrap();
            assert_eq!(handed, pem);
            assert!(!handed.contains("PRIVATE KEY"));
            cluster.shutdown().await;
        },
    )
    .await;
}
