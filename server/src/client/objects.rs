//! `bi postgres|redis|services …`: user objects, built here from typed
//! flags and sent whole; the server validates them like the UI's forms.

use anyhow::{Context, anyhow};
use bi_api::projects::ObjectRef;
use bi_model::generate::Owned;
use bi_model::objects::{
    KnativeService, PortProtocol, PostgresCluster, RedisInstance, Resources, ServicePort,
    SizePreset, TraditionalService,
};
use bi_model::objects::{ObjectKind, ProjectObject};
use bi_model::units::{Memory, Storage};

use super::ApiClient;
use super::output::{Table, or_dash, print};
use crate::client::output::OutputFormat;
use bi_api::audit::Changed;
use bi_api::projects::Scale;

/// A new PostgreSQL cluster from the flags of `bi postgres add`.
pub fn postgres_cluster(
    name: &str,
    instances: u32,
    storage: Option<&str>,
    size: &SizeArgs,
) -> anyhow::Result<PostgresCluster> {
    let mut cluster = PostgresCluster {
        name: name.to_owned(),
        instances,
        ..PostgresCluster::default()
    };
    if let Some(preset) = size.size.map(preset) {
        cluster.resources = preset.resources();
        cluster.storage = preset.storage();
    }
    if let Some(storage) = storage {
        cluster.storage = parse_storage(storage)?;
    }
    apply_memory(&mut cluster.resources, size.memory.as_deref())?;
    Ok(cluster)
}

/// A new Redis instance from the flags of `bi redis add`.
pub fn redis_instance(
    name: &str,
    instances: u32,
    storage: Option<&str>,
    size: &SizeArgs,
) -> anyhow::Result<RedisInstance> {
    let mut redis = RedisInstance {
        name: name.to_owned(),
        instances,
        ..RedisInstance::default()
    };
    if let Some(preset) = size.size.map(preset) {
        redis.resources = preset.resources();
    }
    redis.storage = storage.map(parse_storage).transpose()?;
    apply_memory(&mut redis.resources, size.memory.as_deref())?;
    Ok(redis)
}

/// The flags of `bi services add`.
#[derive(Debug, Clone)]
pub struct ServiceFlags<'a> {
    /// Its name.
    pub name: &'a str,
    /// The image.
    pub image: &'a str,
    /// Knative rather than traditional.
    pub knative: bool,
    /// Replicas (traditional).
    pub replicas: u32,
    /// Listening port.
    pub port: Option<u16>,
    /// Memory request and limit (traditional).
    pub memory: Option<&'a str>,
}

/// A new service, traditional or Knative, from the flags.
pub fn service(flags: &ServiceFlags<'_>, project: Option<String>) -> anyhow::Result<ProjectObject> {
    let image = bi_model::image::ImageRef::parse(flags.image)
        .map_err(|err| anyhow!("--image: {}", err.message))?;
    if flags.knative {
        let mut service = KnativeService::new(flags.name, image);
        if let Some(port) = flags.port {
            service.port = port;
        }
        return Ok(ProjectObject::KnativeService(Owned {
            project,
            object: service,
        }));
    }
    let mut service = TraditionalService::new(flags.name, image);
    service.replicas = flags.replicas;
    if let Some(port) = flags.port {
        service.ports.push(ServicePort {
            name: "http".to_owned(),
            number: port,
            protocol: PortProtocol::default(),
        });
    }
    apply_memory(&mut service.resources, flags.memory)?;
    Ok(ProjectObject::TraditionalService(Owned {
        project,
        object: service,
    }))
}

fn preset(arg: SizePresetArg) -> SizePreset {
    match arg {
        SizePresetArg::Tiny => SizePreset::Tiny,
        SizePresetArg::Small => SizePreset::Small,
        SizePresetArg::Medium => SizePreset::Medium,
        SizePresetArg::Large => SizePreset::Large,
        SizePresetArg::Xlarge => SizePreset::XLarge,
        SizePresetArg::Huge => SizePreset::Huge,
    }
}

fn parse_storage(text: &str) -> anyhow::Result<Storage> {
    Storage::parse(text).map_err(|err| anyhow!("--storage: {err}"))
}

fn apply_memory(resources: &mut Resources, memory: Option<&str>) -> anyhow::Result<()> {
    if let Some(text) = memory {
        let memory = Memory::parse(text).map_err(|err| anyhow!("--memory: {err}"))?;
        resources.memory_request = memory;
        resources.memory_limit = Some(memory);
    }
    Ok(())
}

/// Adds an object.
pub async fn add(api: &ApiClient, object: &ProjectObject) -> anyhow::Result<()> {
    let changed: Changed = api
        .post("/api/v1/objects", object)
        .await
        .with_context(|| format!("while adding {} {}", object.kind().label(), object.name()))?;
    println!(
        "added {} {} (desired-state version {})",
        object.kind().label(),
        object.name(),
        changed.version
    );
    Ok(())
}

/// Lists the objects of `kinds`.
pub async fn list(
    api: &ApiClient,
    kinds: &[ObjectKind],
    format: OutputFormat,
) -> anyhow::Result<()> {
    let objects = objects_of(api, kinds).await?;
    print(format, &objects, |objects| {
        let mut table = Table::new(["NAME", "KIND", "PROJECT"]);
        for object in objects {
            table.row([
                object.name.clone(),
                object.kind.id().to_owned(),
                or_dash(object.project.as_ref()),
            ]);
        }
        table.render()
    })
}

/// Every object of one of `kinds`.
async fn objects_of(api: &ApiClient, kinds: &[ObjectKind]) -> anyhow::Result<Vec<ObjectRef>> {
    let all: Vec<ObjectRef> = api
        .get("/api/v1/objects")
        .await
        .context("while listing objects")?;
    Ok(all
        .into_iter()
        .filter(|object| kinds.contains(&object.kind))
        .collect())
}

/// A service as `bi services list` shows it: with its address, if exposed.
#[derive(Debug, serde::Serialize)]
struct ServiceRow {
    name: String,
    kind: ObjectKind,
    project: Option<String>,
    url: Option<String>,
    route: Option<String>,
}

/// Every traditional and Knative service with its address and whether it
/// is routed yet.
pub async fn list_services(
    api: &ApiClient,
    kinds: &[ObjectKind],
    format: OutputFormat,
) -> anyhow::Result<()> {
    let objects = objects_of(api, kinds).await?;
    let reach: bi_api::reach::ReachView = api
        .get("/api/v1/reach")
        .await
        .context("while reading the addresses")?;
    let rows: Vec<ServiceRow> = objects
        .into_iter()
        .map(|object| {
            let address = reach.of_object(&object.name);
            ServiceRow {
                url: address.map(|a| a.url.clone()),
                route: address.map(|a| a.route.progress.word("routed").to_owned()),
                name: object.name,
                kind: object.kind,
                project: object.project,
            }
        })
        .collect();
    print(format, &rows, |rows| {
        let mut table = Table::new(["NAME", "KIND", "PROJECT", "URL", "ROUTE"]);
        for row in rows {
            table.row([
                row.name.clone(),
                row.kind.id().to_owned(),
                or_dash(row.project.as_ref()),
                or_dash(row.url.as_ref()),
                or_dash(row.route.as_ref()),
            ]);
        }
        table.render()
    })
}

/// Removes the object `name` of one of `kinds` (the first that has it).
pub async fn remove(api: &ApiClient, kinds: &[ObjectKind], name: &str) -> anyhow::Result<()> {
    let kind = find_kind(api, kinds, name).await?;
    let changed: Changed = api
        .delete(&format!("/api/v1/objects/{}/{name}", kind.id()))
        .await
        .with_context(|| format!("while removing {} {name}", kind.label()))?;
    println!(
        "removed {} {name} (desired-state version {})",
        kind.label(),
        changed.version
    );
    Ok(())
}

/// Scales a traditional (replicas) or Knative (min/max) service.
pub async fn scale(api: &ApiClient, name: &str, scale: &Scale) -> anyhow::Result<()> {
    let kind = if scale.replicas.is_some() {
        ObjectKind::TraditionalService
    } else {
        ObjectKind::KnativeService
    };
    let changed: Changed = api
        .post(
            &format!("/api/v1/objects/{}/{name}/scale", kind.id()),
            scale,
        )
        .await
        .with_context(|| format!("while scaling {} {name}", kind.label()))?;
    println!(
        "scaled {} {name} (desired-state version {})",
        kind.label(),
        changed.version
    );
    Ok(())
}

async fn find_kind(
    api: &ApiClient,
    kinds: &[ObjectKind],
    name: &str,
) -> anyhow::Result<ObjectKind> {
    let all: Vec<ObjectRef> = api
        .get("/api/v1/objects")
        .await
        .context("while listing objects")?;
    all.iter()
        .find(|object| object.name == name && kinds.contains(&object.kind))
        .map(|object| object.kind)
        .ok_or_else(|| {
            let labels: Vec<&str> = kinds.iter().map(|kind| kind.label()).collect();
            anyhow!(
                "there is no {} named \"{name}\"; list them with `bi … list`",
                labels.join(" or ")
            )
        })
}

/// Size options shared by object commands.
#[derive(Debug, Clone, clap::Args)]
pub struct SizeArgs {
    /// A preset for CPU, memory and storage.
    #[arg(long, value_enum, value_name = "PRESET")]
    pub size: Option<SizePresetArg>,
    /// Memory request and limit, with a unit, e.g. `1Gi`.
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
}

/// The size presets, as the command line names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SizePresetArg {
    /// 512 MiB storage, 500m CPU, 512 MiB memory.
    Tiny,
    /// 16 GiB storage, 500m–2 CPU, 1–4 GiB memory.
    Small,
    /// 64 GiB storage, 4 CPU, 8 GiB memory.
    Medium,
    /// 128 GiB storage, 8 CPU, 16 GiB memory.
    Large,
    /// 256 GiB storage, 10 CPU, 32 GiB memory.
    Xlarge,
    /// 1 TiB storage, 32 CPU, 256 GiB memory.
    Huge,
}
