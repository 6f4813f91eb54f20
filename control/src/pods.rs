//! Pods and their logs: the pods of a service or battery (from the cluster
//! cache, matched by its workloads' selectors) and a container's log from
//! the cluster's pod log API (`…/pods/NAME/log`), whole or followed.
//!
//! The sandbox keeps Pod objects for the workloads it settles and serves
//! their log endpoint with lines saying they come from the sandbox; a real
//! cluster's kubelet serves the containers' own output. A real API server
//! without nodes has Pods that stay Pending, whose log the server refuses.

use std::collections::BTreeMap;

use futures::{AsyncBufReadExt, Stream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use serde_json::Value;

use crate::cache::{Cache, CachedKind};
use crate::db::Database;
use crate::error::{Error, Result};

pub use bi_api::explorer::{LogQuery, PodRow};

/// The pods of the battery or object `app` (its `battery/app`): every pod
/// a Deployment, StatefulSet or DaemonSet bi generates for it selects.
pub async fn of_app(db: &Database, cache: &Cache, app: &str) -> Result<Vec<PodRow>> {
    let selectors = selectors(db, cache, app).await?;
    matching(cache, &selectors).await
}

/// [`of_app`] for a name someone typed (`bi logs NAME`, the REST route):
/// refused as not found when nothing bi generates for `app` runs pods, so
/// a wrong name is told at once and a right one whose pods are still to
/// come answers an empty list (worth waiting for).
pub async fn of_named(db: &Database, cache: &Cache, name: &str, app: &str) -> Result<Vec<PodRow>> {
    let selectors = selectors(db, cache, app).await?;
    if selectors.is_empty() {
        return Err(Error::NotFound(format!(
            "{name} runs no pods: it is not a service or battery with a \
             Deployment, StatefulSet or DaemonSet in the desired state"
        )));
    }
    matching(cache, &selectors).await
}

/// Each workload's namespace and pod selector bi generates for `app`.
async fn selectors(
    db: &Database,
    cache: &Cache,
    app: &str,
) -> Result<Vec<(String, BTreeMap<String, String>)>> {
    let generated = cache.generated(db).await?;
    Ok(generated
        .resources
        .iter()
        .filter(|r| r.app == app)
        .filter(|r| {
            matches!(
                r.path.kind.as_str(),
                "Deployment" | "StatefulSet" | "DaemonSet"
            )
        })
        .filter_map(|r| {
            let labels = r.body.pointer("/spec/selector/matchLabels")?.as_object()?;
            let labels = labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect();
            Some((r.path.namespace.clone().unwrap_or_default(), labels))
        })
        .collect())
}

/// The cached pods any of `selectors` selects, by namespace and name.
async fn matching(
    cache: &Cache,
    selectors: &[(String, BTreeMap<String, String>)],
) -> Result<Vec<PodRow>> {
    let pods = cache.list(&CachedKind::new("v1", "Pod")).await?;
    let mut rows: Vec<PodRow> = pods
        .iter()
        .filter(|pod| {
            let labels = pod.metadata.labels.clone().unwrap_or_default();
            selectors.iter().any(|(namespace, wanted)| {
                pod.metadata.namespace.as_deref() == Some(namespace.as_str())
                    && !wanted.is_empty()
                    && wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
            })
        })
        .map(|pod| row(pod))
        .collect();
    rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(rows)
}

fn row(pod: &kube::api::DynamicObject) -> PodRow {
    let data = &pod.data;
    let statuses = data
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let containers: Vec<String> = data
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let ready = statuses
        .iter()
        .filter(|s| s.get("ready").and_then(Value::as_bool) == Some(true))
        .count();
    PodRow {
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        name: pod.metadata.name.clone().unwrap_or_default(),
        phase: data
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("Pending")
            .to_owned(),
        ready: format!("{ready}/{}", containers.len()),
        restarts: statuses
            .iter()
            .filter_map(|s| s.get("restartCount").and_then(Value::as_u64))
            .sum(),
        node: data
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .map(str::to_owned),
        containers,
        created: pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| bi_api::Timestamp::from_rfc3339(&t.0.to_string())),
    }
}

fn params(query: &LogQuery) -> LogParams {
    LogParams {
        container: query.container.clone().filter(|c| !c.is_empty()),
        follow: query.follow,
        previous: query.previous,
        tail_lines: query.tail.map(i64::from),
        ..LogParams::default()
    }
}

/// Why the cluster refused a log, in its own words (a container that must
/// be named, a pod still Pending, no previous container).
fn refused(query: &LogQuery, err: kube::Error) -> Error {
    match err {
        kube::Error::Api(status) if status.code == 404 => Error::NotFound(format!(
            "there is no pod {} in {}",
            query.pod, query.namespace
        )),
        kube::Error::Api(status) if status.code == 400 => {
            Error::Invalid(bi_model::FieldError::new(
                "container",
                bi_model::Rule::Consistency,
                status.message.clone(),
            ))
        }
        source => Error::Cluster {
            action: format!("reading the log of {}/{}", query.namespace, query.pod),
            source,
        },
    }
}

/// The log's lines now (not followed).
pub async fn read(client: &kube::Client, query: &LogQuery) -> Result<Vec<String>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &query.namespace);
    let text = pods
        .logs(
            &query.pod,
            &LogParams {
                follow: false,
                ..params(query)
            },
        )
        .await
        .map_err(|err| refused(query, err))?;
    Ok(text.lines().map(str::to_owned).collect())
}

/// The log's lines as they come (followed when the query says so); the
/// stream ends when the container's log does or the client goes.
pub async fn stream(
    client: &kube::Client,
    query: &LogQuery,
) -> Result<impl Stream<Item = std::io::Result<String>> + Send + use<>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &query.namespace);
    let reader = pods
        .log_stream(&query.pod, &params(query))
        .await
        .map_err(|err| refused(query, err))?;
    Ok(reader.lines().boxed())
}

/// What `name` names, as a `battery/app`: a service (Knative or
/// traditional, any project), else a battery, else the label value itself.
pub async fn app_named(db: &Database, name: &str) -> Result<String> {
    if let Ok(found) = crate::service_status::find_service(db, name).await
        && let Some(app) = crate::service_status::app_of(found.object.kind(), name)
    {
        return Ok(app);
    }
    Ok(name.to_owned())
}
