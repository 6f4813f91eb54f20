//! The project page's add forms: which inputs each kind of object has, and
//! the typed builders (shared by the browser, which checks as you type, and
//! the server, which checks again) that turn the texts into a
//! [`ProjectObject`]. Problems name the form's flat keys (`memory`, not
//! `resources.memory_request`).

use std::collections::BTreeMap;

use crate::capacity::{Demand, Demanding};
use crate::generate::Owned;
use crate::image::ImageRef;
use crate::objects::{
    FerretService, KnativeService, ModelInstance, Notebook, ObjectKind, OllamaModel, PortProtocol,
    PostgresCluster, PostgresDatabase, PostgresUser, ProjectObject, RedisInstance, RedisMode,
    Resources, ServicePort, TraditionalService,
};
use crate::units::{Cpu, Memory, Storage};
use crate::{FieldError, Problems, Rule};

/// One input of an add form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddField {
    /// The key problems name (`storage`).
    pub key: &'static str,
    /// The label shown.
    pub label: &'static str,
    /// The text it starts with.
    pub default: &'static str,
    /// A hint under the label; empty for none.
    pub hint: &'static str,
}

const fn field(
    key: &'static str,
    label: &'static str,
    default: &'static str,
    hint: &'static str,
) -> AddField {
    AddField {
        key,
        label,
        default,
        hint,
    }
}

const NAME: AddField = field("name", "Name", "", "Lowercase letters, digits and '-'.");

/// The kinds the project page adds, in the order its tabs show them.
pub const ADDABLE: [ObjectKind; 7] = [
    ObjectKind::PostgresCluster,
    ObjectKind::RedisInstance,
    ObjectKind::FerretService,
    ObjectKind::KnativeService,
    ObjectKind::TraditionalService,
    ObjectKind::Notebook,
    ObjectKind::ModelInstance,
];

/// The add form's short name for `kind`: its test id is `add-<short>` and
/// its inputs' ids `<prefix>-<key>`.
pub fn short(kind: ObjectKind) -> (&'static str, &'static str) {
    match kind {
        ObjectKind::PostgresCluster => ("postgres", "pg"),
        ObjectKind::RedisInstance => ("redis", "rd"),
        ObjectKind::FerretService => ("ferret", "fr"),
        ObjectKind::KnativeService => ("knative", "kn"),
        ObjectKind::TraditionalService => ("traditional", "tr"),
        ObjectKind::Notebook => ("notebook", "nb"),
        ObjectKind::ModelInstance => ("model", "md"),
    }
}

/// The title of `kind`'s add form and the label of its button.
pub fn titles(kind: ObjectKind) -> (&'static str, &'static str) {
    match kind {
        ObjectKind::PostgresCluster => ("PostgreSQL cluster", "Add cluster"),
        ObjectKind::RedisInstance => ("Redis", "Add Redis"),
        ObjectKind::FerretService => ("FerretDB", "Add FerretDB"),
        ObjectKind::KnativeService => ("Knative service", "Add service"),
        ObjectKind::TraditionalService => ("Traditional service", "Add service"),
        ObjectKind::Notebook => ("Notebook", "Add notebook"),
        ObjectKind::ModelInstance => ("Model", "Add model"),
    }
}

/// The inputs of `kind`'s add form.
pub fn add_fields(kind: ObjectKind) -> Vec<AddField> {
    let mut fields = vec![NAME];
    fields.extend(match kind {
        ObjectKind::PostgresCluster => vec![
            field("instances", "Instances", "1", "1 primary plus replicas."),
            field("storage", "Storage", "1Gi", "Per instance, e.g. 10Gi."),
            field(
                "owner",
                "App user and database",
                "app",
                "Both get this name; its connection Secret is what services read. Empty for none.",
            ),
        ],
        ObjectKind::RedisInstance => vec![
            field(
                "mode",
                "Mode",
                "standalone",
                "standalone, replication or cluster.",
            ),
            field("instances", "Instances", "1", ""),
            field("memory", "Memory per instance", "256Mi", ""),
            field(
                "storage",
                "Storage per instance",
                "",
                "Empty keeps data in memory only.",
            ),
        ],
        ObjectKind::FerretService => vec![
            field(
                "postgres_cluster",
                "PostgreSQL cluster",
                "",
                "Where the data is stored.",
            ),
            field("instances", "Instances", "1", ""),
        ],
        ObjectKind::KnativeService => {
            vec![field("image", "Image", "", "e.g. ghcr.io/acme/web:1.0")]
        }
        ObjectKind::TraditionalService => vec![
            field("image", "Image", "", "e.g. nginx:1.27"),
            field("replicas", "Replicas", "1", ""),
            field("port", "Port", "8080", "Empty for none."),
            field("memory", "Memory per replica", "256Mi", ""),
            field("cpu", "CPU per replica", "250m", ""),
        ],
        ObjectKind::Notebook => vec![
            field("storage", "Home volume", "16Gi", ""),
            field("memory", "Memory", "1Gi", ""),
            field("cpu", "CPU", "500m", ""),
        ],
        ObjectKind::ModelInstance => vec![
            field(
                "model",
                "Model",
                "llama3.2:1b",
                "e.g. llama3.2:1b, qwen3:8b",
            ),
            field("instances", "Instances", "1", ""),
            field(
                "memory",
                "Memory per instance",
                "4Gi",
                "Must hold the model.",
            ),
            field("cpu", "CPU per instance", "500m", ""),
        ],
    });
    fields
}

/// Reads the form's texts, noting a problem under each bad one.
struct Reader<'a> {
    values: &'a BTreeMap<String, String>,
    problems: Problems,
}

impl Reader<'_> {
    fn text(&self, key: &str) -> &str {
        self.values.get(key).map_or("", |text| text.trim())
    }

    fn count(&mut self, key: &str, example: &str) -> u32 {
        self.text(key).parse::<u32>().unwrap_or_else(|_| {
            self.problems.push(
                key,
                Rule::Format,
                format!("must be a whole number, e.g. {example}"),
            );
            1
        })
    }

    fn memory(&mut self, key: &str) -> Option<Memory> {
        Memory::parse(self.text(key))
            .map_err(|err| self.problems.add(err.at(key)))
            .ok()
    }

    fn cpu(&mut self, key: &str) -> Option<Cpu> {
        Cpu::parse(self.text(key))
            .map_err(|err| self.problems.add(err.at(key)))
            .ok()
    }

    fn storage(&mut self, key: &str) -> Option<Storage> {
        Storage::parse(self.text(key))
            .map_err(|err| self.problems.add(err.at(key)))
            .ok()
    }

    /// Adds the model's own problems, renamed to the form's keys.
    fn merge(&mut self, found: Result<(), Problems>) {
        if let Err(found) = found {
            for mut problem in found.iter().cloned() {
                problem.field = form_key(&problem.field).to_owned();
                self.problems.add(problem);
            }
        }
    }
}

/// The form key a model field's problem belongs under.
pub fn form_key(field: &str) -> &str {
    let field = field.strip_prefix("object.").unwrap_or(field);
    match field {
        "resources.memory_request" | "resources.memory_limit" => "memory",
        "resources.cpu_request" | "resources.cpu_limit" => "cpu",
        field if field.starts_with("ports") => "port",
        field => field,
    }
}

/// CPU and memory of one instance from the form: the memory is the request
/// and the limit (a container over it is killed, not slowed), the CPU a
/// request only (a container may use more when the node has it).
fn resources(memory: Memory, cpu: Option<Cpu>, defaults: &Resources) -> Resources {
    Resources {
        cpu_request: cpu.unwrap_or(defaults.cpu_request),
        cpu_limit: None,
        memory_request: memory,
        memory_limit: Some(memory),
    }
}

/// The object `kind`'s add form describes, in `project`, checked by
/// `bi-model`.
pub fn new_object(
    kind: ObjectKind,
    project: &str,
    values: &BTreeMap<String, String>,
) -> Result<ProjectObject, Problems> {
    fn owned<T>(project: &str, object: T) -> Owned<T> {
        Owned {
            project: Some(project.to_owned()),
            object,
        }
    }
    let text = |key: &str| values.get(key).map_or("", String::as_str);
    match kind {
        ObjectKind::PostgresCluster => {
            postgres_cluster(text("name"), text("instances"), text("storage"))
                .and_then(|cluster| with_owner(cluster, text("owner")))
                .map(|o| ProjectObject::PostgresCluster(owned(project, o)))
        }
        ObjectKind::KnativeService => knative_service(text("name"), text("image"))
            .map(|o| ProjectObject::KnativeService(owned(project, o))),
        ObjectKind::TraditionalService => traditional_service(
            text("name"),
            text("image"),
            text("replicas"),
            text("port"),
            text("memory"),
            text("cpu"),
        )
        .map(|o| ProjectObject::TraditionalService(owned(project, o))),
        ObjectKind::RedisInstance => {
            redis_instance(values).map(|o| ProjectObject::RedisInstance(owned(project, o)))
        }
        ObjectKind::FerretService => {
            ferret_service(values).map(|o| ProjectObject::FerretService(owned(project, o)))
        }
        ObjectKind::Notebook => {
            notebook(values).map(|o| ProjectObject::Notebook(owned(project, o)))
        }
        ObjectKind::ModelInstance => {
            model_instance(values).map(|o| ProjectObject::ModelInstance(owned(project, o)))
        }
    }
}

/// What `object` asks of the cluster; None for a Knative service (it
/// scales from zero on demand).
pub fn demand(object: &ProjectObject) -> Option<Demand> {
    match object {
        ProjectObject::PostgresCluster(o) => Some(o.object.demand()),
        ProjectObject::RedisInstance(o) => Some(o.object.demand()),
        ProjectObject::FerretService(o) => Some(o.object.demand()),
        ProjectObject::KnativeService(_) => None,
        ProjectObject::TraditionalService(o) => Some(o.object.demand()),
        ProjectObject::Notebook(o) => Some(o.object.demand()),
        ProjectObject::ModelInstance(o) => Some(o.object.demand()),
    }
}

/// The capacity shortfalls of `object`, under the form's keys.
pub fn shortfalls(
    capacity: &crate::capacity::ClusterCapacity,
    object: &ProjectObject,
) -> Vec<FieldError> {
    demand(object)
        .map(|demand| crate::capacity::check(capacity, &demand))
        .unwrap_or_default()
        .into_iter()
        .map(|mut problem| {
            problem.field = form_key(&problem.field).to_owned();
            problem
        })
        .collect()
}

fn redis_instance(values: &BTreeMap<String, String>) -> Result<RedisInstance, Problems> {
    let mut form = Reader {
        values,
        problems: Problems::new(),
    };
    let mode = match form.text("mode") {
        "standalone" | "" => RedisMode::Standalone,
        "replication" => RedisMode::Replication,
        "cluster" => RedisMode::Cluster,
        _ => {
            form.problems.push(
                "mode",
                Rule::Format,
                "must be standalone, replication or cluster",
            );
            RedisMode::Standalone
        }
    };
    let instances = form.count("instances", "1");
    let memory = form.memory("memory");
    let storage = match form.text("storage") {
        "" => Some(None),
        _ => form.storage("storage").map(Some),
    };
    let (Some(memory), Some(storage)) = (memory, storage) else {
        return Err(form.problems);
    };
    let defaults = RedisInstance::default();
    let instance = RedisInstance {
        name: form.text("name").to_owned(),
        mode,
        instances,
        resources: resources(memory, None, &defaults.resources),
        storage,
    };
    if form.problems.is_empty() {
        form.merge(instance.validate());
    }
    form.problems.into_result().map(|()| instance)
}

fn ferret_service(values: &BTreeMap<String, String>) -> Result<FerretService, Problems> {
    let mut form = Reader {
        values,
        problems: Problems::new(),
    };
    let instances = form.count("instances", "1");
    let service = FerretService {
        name: form.text("name").to_owned(),
        instances,
        postgres_cluster: form.text("postgres_cluster").to_owned(),
        ..FerretService::default()
    };
    if form.problems.is_empty() {
        form.merge(service.validate());
    }
    form.problems.into_result().map(|()| service)
}

fn notebook(values: &BTreeMap<String, String>) -> Result<Notebook, Problems> {
    let mut form = Reader {
        values,
        problems: Problems::new(),
    };
    let storage = form.storage("storage");
    let memory = form.memory("memory");
    let cpu = form.cpu("cpu");
    let (Some(storage), Some(memory), Some(cpu)) = (storage, memory, cpu) else {
        return Err(form.problems);
    };
    let defaults = Notebook::default();
    let notebook = Notebook {
        name: form.text("name").to_owned(),
        storage,
        resources: resources(memory, Some(cpu), &defaults.resources),
        ..defaults
    };
    if form.problems.is_empty() {
        form.merge(notebook.validate());
    }
    form.problems.into_result().map(|()| notebook)
}

fn model_instance(values: &BTreeMap<String, String>) -> Result<ModelInstance, Problems> {
    let mut form = Reader {
        values,
        problems: Problems::new(),
    };
    let wanted = form.text("model").to_owned();
    let model = OllamaModel::ALL
        .into_iter()
        .find(|model| model.tag() == wanted);
    if model.is_none() {
        let known: Vec<&str> = OllamaModel::ALL.iter().map(|model| model.tag()).collect();
        form.problems.push(
            "model",
            Rule::Format,
            format!("must be one of {}", known.join(", ")),
        );
    }
    let instances = form.count("instances", "1");
    let memory = form.memory("memory");
    let cpu = form.cpu("cpu");
    let (Some(model), Some(memory), Some(cpu)) = (model, memory, cpu) else {
        return Err(form.problems);
    };
    let defaults = ModelInstance::default();
    let instance = ModelInstance {
        name: form.text("name").to_owned(),
        model,
        instances,
        resources: resources(memory, Some(cpu), &defaults.resources),
        ..defaults
    };
    if form.problems.is_empty() {
        form.merge(instance.validate());
    }
    form.problems.into_result().map(|()| instance)
}

/// A PostgreSQL cluster from the add form, checked by `bi-model`; the
/// problems name `name`, `instances` and `storage`.
pub fn postgres_cluster(
    name: &str,
    instances: &str,
    storage: &str,
) -> Result<PostgresCluster, Problems> {
    let mut problems = Problems::new();
    let instances = instances.trim().parse::<u32>().unwrap_or_else(|_| {
        problems.push("instances", Rule::Format, "must be a whole number, e.g. 1");
        1
    });
    let storage = Storage::parse(storage).unwrap_or_else(|err| {
        problems.add(err.at("storage"));
        Storage::mebibytes(512)
    });
    let cluster = PostgresCluster {
        name: name.trim().to_owned(),
        instances,
        storage,
        ..PostgresCluster::default()
    };
    if problems.is_empty() {
        problems.merge("", cluster.validate());
    }
    problems.into_result().map(|()| cluster)
}

/// `cluster` with a login user `owner` owning a database of the same name
/// (unchanged when `owner` is empty), checked again by `bi-model`.
fn with_owner(mut cluster: PostgresCluster, owner: &str) -> Result<PostgresCluster, Problems> {
    let owner = owner.trim();
    if owner.is_empty() {
        return Ok(cluster);
    }
    cluster.users.push(PostgresUser {
        name: owner.to_owned(),
        roles: Vec::new(),
    });
    cluster.databases.push(PostgresDatabase {
        name: owner.to_owned(),
        owner: owner.to_owned(),
    });
    cluster.validate().map(|()| cluster).map_err(|found| {
        let mut problems = Problems::new();
        for mut problem in found.iter().cloned() {
            if problem.field.starts_with("users") || problem.field.starts_with("databases") {
                problem.field = "owner".to_owned();
            }
            problems.add(problem);
        }
        problems
    })
}

/// A Knative service from the add form, checked by `bi-model`; the
/// problems name `name` and `image`.
pub fn knative_service(name: &str, image: &str) -> Result<KnativeService, Problems> {
    let image = ImageRef::parse(image).map_err(|err| {
        let mut problems = Problems::new();
        problems.add(err.under("image"));
        problems
    })?;
    let service = KnativeService::new(name.trim(), image);
    service.validate().map(|()| service)
}

/// A traditional service from the add form, checked by `bi-model`; the
/// problems name `name`, `image`, `replicas`, `port`, `memory` and `cpu`.
pub fn traditional_service(
    name: &str,
    image: &str,
    replicas: &str,
    port: &str,
    memory: &str,
    cpu: &str,
) -> Result<TraditionalService, Problems> {
    let mut problems = Problems::new();
    let image = ImageRef::parse(image)
        .map_err(|err| problems.add(err.under("image")))
        .ok();
    let replicas = replicas.trim().parse::<u32>().unwrap_or_else(|_| {
        problems.push("replicas", Rule::Format, "must be a whole number, e.g. 2");
        1
    });
    let port = match port.trim() {
        "" => None,
        text => text.parse::<u16>().map(Some).unwrap_or_else(|_| {
            problems.push("port", Rule::Range, "must be a port number from 1 to 65535");
            None
        }),
    };
    let memory = Memory::parse(memory)
        .map_err(|err| problems.add(err.at("memory")))
        .ok();
    let cpu = Cpu::parse(cpu)
        .map_err(|err| problems.add(err.at("cpu")))
        .ok();
    let (Some(image), Some(memory), Some(cpu)) = (image, memory, cpu) else {
        return Err(problems);
    };
    let mut service = TraditionalService::new(name.trim(), image);
    service.replicas = replicas;
    service.ports = port
        .map(|number| ServicePort {
            name: "http".to_owned(),
            number,
            protocol: PortProtocol::default(),
        })
        .into_iter()
        .collect();
    service.resources = Resources {
        cpu_request: cpu,
        cpu_limit: None,
        memory_request: memory,
        memory_limit: Some(memory),
    };
    if let Err(found) = service.validate() {
        // NB: the form's fields are flat; the model's are nested.
        for mut problem in found.iter().cloned() {
            problem.field = match problem.field.as_str() {
                "resources.memory_request" | "resources.memory_limit" => "memory".to_owned(),
                "resources.cpu_request" => "cpu".to_owned(),
                field if field.starts_with("ports") => "port".to_owned(),
                field => field.to_owned(),
            };
            problems.add(problem);
        }
    }
    problems.into_result().map(|()| service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traditional_service_form_names_each_bad_field() {
        let problems =
            traditional_service("web", "nginx:1.27", "many", "http", "500", "2 cores").unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["replicas", "port", "memory"], "{problems:?}");
        let memory = problems.for_field("memory").map(|p| p.message.clone());
        assert!(memory.is_some_and(|m| m.contains("no unit")));
    }

    #[test]
    fn a_valid_traditional_service_form_builds_the_typed_service() {
        let service =
            traditional_service("web", "nginx:1.27", "3", "8080", "512Mi", "250m").unwrap();
        assert_eq!(service.replicas, 3);
        assert_eq!(service.ports[0].number, 8080);
        assert_eq!(service.resources.memory_request, Memory::mebibytes(512));
        assert_eq!(service.resources.cpu_request, Cpu::millicores(250));
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn defaults(kind: ObjectKind, name: &str) -> BTreeMap<String, String> {
        let mut form: BTreeMap<String, String> = add_fields(kind)
            .into_iter()
            .map(|field| (field.key.to_owned(), field.default.to_owned()))
            .collect();
        form.insert("name".to_owned(), name.to_owned());
        form
    }

    #[test]
    fn every_kind_builds_from_its_defaults_and_a_name_except_those_needing_more() {
        for kind in ADDABLE {
            let built = new_object(kind, "shop", &defaults(kind, "one"));
            match kind {
                // A service needs an image; FerretDB the cluster it stores in.
                ObjectKind::KnativeService | ObjectKind::TraditionalService => {
                    let problems = built.unwrap_err();
                    assert!(problems.for_field("image").is_some(), "{problems:?}");
                }
                ObjectKind::FerretService => {
                    let problems = built.unwrap_err();
                    assert!(
                        problems.for_field("postgres_cluster").is_some(),
                        "{problems:?}"
                    );
                }
                _ => {
                    let object = built.unwrap_or_else(|p| panic!("{kind}: {p:?}"));
                    assert_eq!(object.kind(), kind);
                    assert_eq!(object.name(), "one");
                    assert_eq!(object.project(), Some("shop"));
                }
            }
        }
    }

    #[test]
    fn a_postgres_form_creates_its_app_user_and_database_unless_emptied() {
        let form = defaults(ObjectKind::PostgresCluster, "main");
        let ProjectObject::PostgresCluster(cluster) =
            new_object(ObjectKind::PostgresCluster, "shop", &form).unwrap()
        else {
            panic!("a postgres cluster");
        };
        assert_eq!(cluster.object.users[0].name, "app");
        assert_eq!(cluster.object.databases[0].owner, "app");

        let mut form = defaults(ObjectKind::PostgresCluster, "main");
        form.insert("owner".to_owned(), String::new());
        let ProjectObject::PostgresCluster(cluster) =
            new_object(ObjectKind::PostgresCluster, "shop", &form).unwrap()
        else {
            panic!("a postgres cluster");
        };
        assert!(cluster.object.users.is_empty());

        form.insert("owner".to_owned(), "App!".to_owned());
        let problems = new_object(ObjectKind::PostgresCluster, "shop", &form).unwrap_err();
        assert!(problems.for_field("owner").is_some(), "{problems:?}");
    }

    #[test]
    fn a_redis_form_names_its_bad_fields_under_the_form_keys() {
        let problems = new_object(
            ObjectKind::RedisInstance,
            "shop",
            &values(&[
                ("name", "cache"),
                ("mode", "ring"),
                ("instances", "1"),
                ("memory", "512"),
            ]),
        )
        .unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["mode", "memory"], "{problems:?}");

        // A mode's instance bounds come from the model, under `instances`.
        let problems = new_object(
            ObjectKind::RedisInstance,
            "shop",
            &values(&[
                ("name", "cache"),
                ("mode", "cluster"),
                ("instances", "2"),
                ("memory", "512Mi"),
            ]),
        )
        .unwrap_err();
        assert!(problems.for_field("instances").is_some(), "{problems:?}");
    }

    #[test]
    fn a_redis_form_builds_memory_and_optional_storage() {
        let object = new_object(
            ObjectKind::RedisInstance,
            "shop",
            &values(&[
                ("name", "cache"),
                ("mode", "replication"),
                ("instances", "3"),
                ("memory", "1Gi"),
                ("storage", "2Gi"),
            ]),
        )
        .unwrap();
        let ProjectObject::RedisInstance(redis) = object else {
            panic!("a redis instance");
        };
        assert_eq!(redis.object.mode, RedisMode::Replication);
        assert_eq!(redis.object.instances, 3);
        assert_eq!(
            redis.object.resources.memory_limit,
            Some(Memory::gibibytes(1))
        );
        assert_eq!(redis.object.storage, Some(Storage::gibibytes(2)));
    }

    #[test]
    fn a_model_too_big_for_its_memory_is_refused_under_memory() {
        let mut form = defaults(ObjectKind::ModelInstance, "chat");
        form.insert("model".to_owned(), "llama3.1:70b".to_owned());
        let problems = new_object(ObjectKind::ModelInstance, "ai", &form).unwrap_err();
        assert!(problems.for_field("memory").is_some(), "{problems:?}");
        form.insert("model".to_owned(), "gpt-9".to_owned());
        let problems = new_object(ObjectKind::ModelInstance, "ai", &form).unwrap_err();
        assert!(
            problems
                .for_field("model")
                .is_some_and(|p| p.message.contains("llama3.2:1b")),
            "{problems:?}"
        );
    }

    #[test]
    fn shortfalls_land_under_the_form_keys() {
        let capacity = crate::capacity::ClusterCapacity {
            allocatable_cpu: Cpu::cores(2),
            allocatable_memory: Memory::gibibytes(2),
            allocatable_storage: None,
            requested_cpu: Cpu::ZERO,
            requested_memory: Memory::ZERO,
            requested_storage: Storage::ZERO,
            nodes: 1,
        };
        let mut form = defaults(ObjectKind::Notebook, "lab");
        form.insert("memory".to_owned(), "3Gi".to_owned());
        let object = new_object(ObjectKind::Notebook, "ai", &form).unwrap();
        let found: Vec<String> = shortfalls(&capacity, &object)
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(found, ["memory"]);
        let knative = new_object(
            ObjectKind::KnativeService,
            "ai",
            &values(&[("name", "web"), ("image", "nginx:1.27")]),
        )
        .unwrap();
        assert_eq!(shortfalls(&capacity, &knative), []);
    }
}
