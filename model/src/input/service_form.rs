//! The service edit form: a Knative or traditional service's settings as
//! the texts a person types (image, environment, ports, scale, memory and
//! CPU), and the typed builder that turns them back into the service,
//! shared by the browser (which checks as you type) and the server (which
//! checks again). Problems name the model's paths (`env[1].name`,
//! `ports[0].number`), except memory and CPU, which the form shows flat.

use crate::image::ImageRef;
use crate::objects::{
    EnvValue, EnvVar, KnativeService, PortProtocol, ProjectObject, ServicePort, TraditionalService,
};
use crate::units::{Cpu, Memory};
use crate::{Problems, Rule};
use serde::{Deserialize, Serialize};

/// One environment variable as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvRow {
    /// Its name.
    pub name: String,
    /// Read from a Secret (`secret`, `key`) rather than `value`.
    pub from_secret: bool,
    /// The literal value.
    pub value: String,
    /// The Secret's name.
    pub secret: String,
    /// The key in the Secret.
    pub key: String,
}

/// One port of a traditional service as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRow {
    /// Its name (`http`).
    pub name: String,
    /// Its number.
    pub number: String,
    /// `http`, `http2` or `tcp`.
    pub protocol: String,
}

impl Default for PortRow {
    fn default() -> Self {
        Self {
            name: String::new(),
            number: String::new(),
            protocol: "http2".to_owned(),
        }
    }
}

/// The settings a Knative service's form edits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnativeFields {
    /// The fewest instances (0 scales to zero).
    pub min_scale: String,
    /// The most instances.
    pub max_scale: String,
    /// Concurrent requests per instance.
    pub concurrency_target: String,
    /// The port the container listens on.
    pub port: String,
}

/// The settings a traditional service's form edits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraditionalFields {
    /// Replicas.
    pub replicas: String,
    /// Ports.
    pub ports: Vec<PortRow>,
    /// Memory per replica (request and limit).
    pub memory: String,
    /// CPU per replica (request).
    pub cpu: String,
}

/// What differs between the two kinds of service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KindFields {
    /// A Knative service.
    Knative(KnativeFields),
    /// A traditional service.
    Traditional(TraditionalFields),
}

/// A service's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceForm {
    /// The container image.
    pub image: String,
    /// Environment variables.
    pub env: Vec<EnvRow>,
    /// Reachable from outside the cluster at its hostname.
    pub expose: bool,
    /// The kind's own settings.
    pub kind: KindFields,
}

fn env_rows(env: &[EnvVar]) -> Vec<EnvRow> {
    env.iter()
        .map(|var| match &var.value {
            EnvValue::Literal(value) => EnvRow {
                name: var.name.clone(),
                value: value.clone(),
                ..EnvRow::default()
            },
            EnvValue::SecretRef { secret, key } => EnvRow {
                name: var.name.clone(),
                from_secret: true,
                secret: secret.clone(),
                key: key.clone(),
                ..EnvRow::default()
            },
        })
        .collect()
}

fn protocol_text(protocol: PortProtocol) -> &'static str {
    match protocol {
        PortProtocol::Http => "http",
        PortProtocol::Http2 => "http2",
        PortProtocol::Tcp => "tcp",
    }
}

impl ServiceForm {
    /// The form of `object`, filled with its settings; None when it is not a service.
    pub fn of(object: &ProjectObject) -> Option<Self> {
        match object {
            ProjectObject::KnativeService(owned) => {
                let service = &owned.object;
                Some(Self {
                    image: service.image.to_string(),
                    env: env_rows(&service.env),
                    expose: service.expose,
                    kind: KindFields::Knative(KnativeFields {
                        min_scale: service.min_scale.to_string(),
                        max_scale: service.max_scale.to_string(),
                        concurrency_target: service.concurrency_target.to_string(),
                        port: service.port.to_string(),
                    }),
                })
            }
            ProjectObject::TraditionalService(owned) => {
                let service = &owned.object;
                Some(Self {
                    image: service.image.to_string(),
                    env: env_rows(&service.env),
                    expose: service.expose,
                    kind: KindFields::Traditional(TraditionalFields {
                        replicas: service.replicas.to_string(),
                        ports: service
                            .ports
                            .iter()
                            .map(|port| PortRow {
                                name: port.name.clone(),
                                number: port.number.to_string(),
                                protocol: protocol_text(port.protocol).to_owned(),
                            })
                            .collect(),
                        memory: service.resources.memory_request.to_string(),
                        cpu: service.resources.cpu_request.to_string(),
                    }),
                })
            }
            _ => None,
        }
    }

    /// `object` with this form's settings, checked by `bi-model`; every
    /// problem names the field it is about.
    pub fn apply(&self, object: &ProjectObject) -> Result<ProjectObject, Problems> {
        let mut problems = Problems::new();
        let image = ImageRef::parse(&self.image)
            .map_err(|err| problems.add(err.under("image")))
            .ok();
        let env = self.env_vars();
        match (object, &self.kind) {
            (ProjectObject::KnativeService(owned), KindFields::Knative(fields)) => {
                let min_scale = count(&mut problems, "min_scale", &fields.min_scale, "0");
                let max_scale = count(&mut problems, "max_scale", &fields.max_scale, "10");
                let concurrency_target = count(
                    &mut problems,
                    "concurrency_target",
                    &fields.concurrency_target,
                    "100",
                );
                let port = port_number(&mut problems, "port", &fields.port);
                let Some(image) = image else {
                    return Err(problems);
                };
                let service = KnativeService {
                    name: owned.object.name.clone(),
                    image,
                    env,
                    min_scale,
                    max_scale,
                    scale_to_zero: min_scale == 0,
                    concurrency_target,
                    port,
                    expose: self.expose,
                };
                if problems.is_empty() {
                    problems.merge("", service.validate());
                }
                let mut owned = owned.clone();
                owned.object = service;
                problems
                    .into_result()
                    .map(|()| ProjectObject::KnativeService(owned))
            }
            (ProjectObject::TraditionalService(owned), KindFields::Traditional(fields)) => {
                let replicas = count(&mut problems, "replicas", &fields.replicas, "2");
                let ports = fields
                    .ports
                    .iter()
                    .enumerate()
                    .map(|(i, row)| ServicePort {
                        name: row.name.trim().to_owned(),
                        number: port_number(
                            &mut problems,
                            &format!("ports[{i}].number"),
                            &row.number,
                        ),
                        protocol: match row.protocol.as_str() {
                            "http" => PortProtocol::Http,
                            "tcp" => PortProtocol::Tcp,
                            _ => PortProtocol::Http2,
                        },
                    })
                    .collect();
                let memory = Memory::parse(&fields.memory)
                    .map_err(|err| problems.add(err.at("memory")))
                    .ok();
                let cpu = Cpu::parse(&fields.cpu)
                    .map_err(|err| problems.add(err.at("cpu")))
                    .ok();
                let (Some(image), Some(memory), Some(cpu)) = (image, memory, cpu) else {
                    return Err(problems);
                };
                let mut service = TraditionalService {
                    name: owned.object.name.clone(),
                    image,
                    replicas,
                    ports,
                    env,
                    expose: self.expose,
                    ..owned.object.clone()
                };
                service.resources.memory_request = memory;
                service.resources.memory_limit = Some(memory);
                service.resources.cpu_request = cpu;
                if service.resources.cpu_limit.is_some_and(|limit| limit < cpu) {
                    service.resources.cpu_limit = Some(cpu);
                }
                if problems.is_empty()
                    && let Err(found) = service.validate()
                {
                    for mut problem in found.iter().cloned() {
                        problem.field = form_key(&problem.field).to_owned();
                        problems.add(problem);
                    }
                }
                let mut owned = owned.clone();
                owned.object = service;
                problems
                    .into_result()
                    .map(|()| ProjectObject::TraditionalService(owned))
            }
            _ => {
                problems.push(
                    "kind",
                    Rule::Consistency,
                    format!("this form does not edit a {}", object.kind().label()),
                );
                Err(problems)
            }
        }
    }

    fn env_vars(&self) -> Vec<EnvVar> {
        self.env
            .iter()
            .map(|row| {
                if row.from_secret {
                    EnvVar::secret(row.name.trim(), row.secret.trim(), row.key.trim())
                } else {
                    EnvVar::literal(row.name.trim(), row.value.clone())
                }
            })
            .collect()
    }
}

/// The form key a model field's problem shows under.
pub fn form_key(field: &str) -> &str {
    let field = field.strip_prefix("object.").unwrap_or(field);
    match field {
        "resources.memory_request" | "resources.memory_limit" => "memory",
        "resources.cpu_request" | "resources.cpu_limit" => "cpu",
        field => field,
    }
}

fn count(problems: &mut Problems, field: &str, text: &str, example: &str) -> u32 {
    text.trim().parse::<u32>().unwrap_or_else(|_| {
        problems.push(
            field,
            Rule::Format,
            format!("must be a whole number, e.g. {example}"),
        );
        0
    })
}

fn port_number(problems: &mut Problems, field: &str, text: &str) -> u16 {
    match text.trim().parse::<u16>() {
        Ok(number) if number > 0 => number,
        _ => {
            problems.push(field, Rule::Range, "must be a port number from 1 to 65535");
            // NB: any valid number, so the other checks still run.
            8080
        }
    }
}

/// A variable name for `key` of the connection Secret of `app`
/// (`postgres-main`, `url` → `POSTGRES_MAIN_URL`).
pub fn suggested_name(app: &str, key: &str) -> String {
    format!("{app}_{key}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::generate::Owned;

    use super::*;

    fn traditional() -> ProjectObject {
        let image = ImageRef::parse("nginx:1.27").unwrap();
        let mut service = TraditionalService::new("web", image);
        service.ports = vec![ServicePort {
            name: "http".into(),
            number: 8080,
            protocol: PortProtocol::Http,
        }];
        service.env = vec![EnvVar::secret(
            "DATABASE_URL",
            "postgres-main-app-connection",
            "url",
        )];
        ProjectObject::TraditionalService(Owned {
            project: Some("shop".into()),
            object: service,
        })
    }

    fn knative() -> ProjectObject {
        let image = ImageRef::parse("ghcr.io/acme/web:1.0").unwrap();
        ProjectObject::KnativeService(Owned {
            project: Some("shop".into()),
            object: KnativeService::new("api", image),
        })
    }

    #[test]
    fn an_unchanged_form_gives_back_the_same_service() {
        for object in [traditional(), knative()] {
            let form = ServiceForm::of(&object).unwrap();
            assert_eq!(form.apply(&object).unwrap(), object);
        }
    }

    #[test]
    fn edits_land_in_the_typed_service() {
        let object = traditional();
        let mut form = ServiceForm::of(&object).unwrap();
        form.image = "nginx:1.28".into();
        form.env.push(EnvRow {
            name: "LOG_LEVEL".into(),
            value: "debug".into(),
            ..EnvRow::default()
        });
        let KindFields::Traditional(fields) = &mut form.kind else {
            panic!("traditional");
        };
        fields.replicas = "3".into();
        fields.memory = "1Gi".into();
        fields.ports.push(PortRow {
            name: "metrics".into(),
            number: "9090".into(),
            protocol: "tcp".into(),
        });
        let ProjectObject::TraditionalService(edited) = form.apply(&object).unwrap() else {
            panic!("traditional");
        };
        let service = edited.object;
        assert_eq!(service.image.to_string(), "nginx:1.28");
        assert_eq!(service.replicas, 3);
        assert_eq!(service.env.len(), 2);
        assert_eq!(service.env[1], EnvVar::literal("LOG_LEVEL", "debug"));
        assert_eq!(service.ports[1].number, 9090);
        assert_eq!(service.ports[1].protocol, PortProtocol::Tcp);
        assert_eq!(service.resources.memory_limit, Some(Memory::gibibytes(1)));
        assert_eq!(edited.project.as_deref(), Some("shop"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let object = traditional();
        let mut form = ServiceForm::of(&object).unwrap();
        form.env.push(EnvRow {
            name: "DATABASE_URL".into(),
            from_secret: true,
            secret: "Bad_Secret".into(),
            key: "url".into(),
            ..EnvRow::default()
        });
        let KindFields::Traditional(fields) = &mut form.kind else {
            panic!("traditional");
        };
        fields.ports.push(PortRow {
            name: "http".into(),
            number: "8080".into(),
            protocol: "http".into(),
        });
        let problems = form.apply(&object).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert!(fields.contains(&"ports[1].number"), "{fields:?}");
        assert!(fields.contains(&"env[1].name"), "{fields:?}");
        assert!(
            fields.contains(&"env[1].value.secret_ref.secret"),
            "{fields:?}"
        );

        let mut form = ServiceForm::of(&object).unwrap();
        form.image = "Not An Image".into();
        let KindFields::Traditional(fields) = &mut form.kind else {
            panic!("traditional");
        };
        fields.memory = "512".into();
        let problems = form.apply(&object).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["image", "memory"], "{problems:?}");
    }

    #[test]
    fn a_knative_minimum_above_zero_turns_scale_to_zero_off() {
        let object = knative();
        let mut form = ServiceForm::of(&object).unwrap();
        let KindFields::Knative(fields) = &mut form.kind else {
            panic!("knative");
        };
        fields.min_scale = "2".into();
        fields.port = "9090".into();
        let problems = form.apply(&object).unwrap_err();
        assert!(problems.for_field("port").is_some(), "{problems:?}");
        let KindFields::Knative(fields) = &mut form.kind else {
            panic!("knative");
        };
        fields.port = "8080".into();
        let ProjectObject::KnativeService(edited) = form.apply(&object).unwrap() else {
            panic!("knative");
        };
        assert_eq!(edited.object.min_scale, 2);
        assert!(!edited.object.scale_to_zero);
    }

    #[test]
    fn a_form_of_the_other_kind_is_refused() {
        let form = ServiceForm::of(&knative()).unwrap();
        assert!(
            form.apply(&traditional())
                .unwrap_err()
                .for_field("kind")
                .is_some()
        );
    }

    #[test]
    fn suggested_names_are_environment_variable_names() {
        assert_eq!(suggested_name("postgres-main", "url"), "POSTGRES_MAIN_URL");
    }
}
