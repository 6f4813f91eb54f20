//! PostgreSQL clusters (run by CloudNativePG): instances, storage, users
//! with their role attributes, databases and their owners, backups.
//!
//! User and database names are DNS labels because they also name the
//! Kubernetes Secrets that hold each user's password.

use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::names::{check_at, check_derived_name, check_dns_label, check_unique};
use crate::objects::resources::{ResourceFloor, Resources, SizePreset};
use crate::units::{Memory, Storage};
use crate::validation::{Problems, Rule};

/// The longest name: what the names and labels bi and the operator derive
/// from it leave room for (see `catalog::cloudnative_pg::CLUSTER_NAMES`).
pub const NAME_MAX_LEN: usize = catalog::cloudnative_pg::CLUSTER_NAME_MAX_LEN;

/// The most instances (one primary, the rest replicas).
pub const MAX_INSTANCES: u32 = 9;

/// Names PostgreSQL or CloudNativePG keep for themselves.
const RESERVED_USERS: &[&str] = &["postgres"];
const RESERVED_DATABASES: &[&str] = &["postgres", "template0", "template1"];

/// A PostgreSQL cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresCluster {
    /// The cluster's name, a DNS label.
    pub name: String,
    /// How many instances: one primary and `instances - 1` replicas (1–9).
    pub instances: u32,
    /// The volume of each instance; at least 512 MiB, and it may not shrink.
    pub storage: Storage,
    /// CPU and memory of each instance (memory at least 256 MiB).
    pub resources: Resources,
    /// Roles to create.
    #[serde(default)]
    pub users: Vec<PostgresUser>,
    /// Databases to create.
    #[serde(default)]
    pub databases: Vec<PostgresDatabase>,
    /// Where backups go.
    #[serde(default)]
    pub backup: PostgresBackup,
}

/// A PostgreSQL role that can log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresUser {
    /// The role's name, a DNS label.
    pub name: String,
    /// Its attributes.
    #[serde(default)]
    pub roles: Vec<PostgresRole>,
}

/// A role attribute, as in `CREATE ROLE … WITH <attribute>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostgresRole {
    Superuser,
    Nosuperuser,
    Createdb,
    Nocreatedb,
    Createrole,
    Nocreaterole,
    Inherit,
    Noinherit,
    Login,
    Nologin,
    Replication,
    Noreplication,
    Bypassrls,
    Nobypassrls,
}

impl PostgresRole {
    /// The keyword as PostgreSQL writes it (`SUPERUSER`).
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Superuser => "SUPERUSER",
            Self::Nosuperuser => "NOSUPERUSER",
            Self::Createdb => "CREATEDB",
            Self::Nocreatedb => "NOCREATEDB",
            Self::Createrole => "CREATEROLE",
            Self::Nocreaterole => "NOCREATEROLE",
            Self::Inherit => "INHERIT",
            Self::Noinherit => "NOINHERIT",
            Self::Login => "LOGIN",
            Self::Nologin => "NOLOGIN",
            Self::Replication => "REPLICATION",
            Self::Noreplication => "NOREPLICATION",
            Self::Bypassrls => "BYPASSRLS",
            Self::Nobypassrls => "NOBYPASSRLS",
        }
    }

    /// The attribute that says the opposite (`LOGIN` ↔ `NOLOGIN`).
    pub fn opposite(self) -> PostgresRole {
        match self {
            Self::Superuser => Self::Nosuperuser,
            Self::Nosuperuser => Self::Superuser,
            Self::Createdb => Self::Nocreatedb,
            Self::Nocreatedb => Self::Createdb,
            Self::Createrole => Self::Nocreaterole,
            Self::Nocreaterole => Self::Createrole,
            Self::Inherit => Self::Noinherit,
            Self::Noinherit => Self::Inherit,
            Self::Login => Self::Nologin,
            Self::Nologin => Self::Login,
            Self::Replication => Self::Noreplication,
            Self::Noreplication => Self::Replication,
            Self::Bypassrls => Self::Nobypassrls,
            Self::Nobypassrls => Self::Bypassrls,
        }
    }
}

/// A database and the user who owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresDatabase {
    /// The database's name, a DNS label.
    pub name: String,
    /// One of the cluster's users.
    pub owner: String,
}

/// Where a cluster's backups go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostgresBackup {
    /// No backups.
    #[default]
    None,
    /// To the installation's object store (barman-cloud).
    ObjectStore,
}

impl Default for PostgresCluster {
    /// One tiny instance, no users.
    fn default() -> Self {
        Self {
            name: String::new(),
            instances: 1,
            storage: SizePreset::Tiny.storage(),
            resources: SizePreset::Tiny.resources(),
            users: Vec::new(),
            databases: Vec::new(),
            backup: PostgresBackup::None,
        }
    }
}

impl PostgresCluster {
    /// The smallest volume: the smallest preset's 512 MiB. NB: generation must
    /// keep `max_wal_size` well below the volume, or WAL alone can fill it.
    pub fn min_storage() -> Storage {
        Storage::mebibytes(512)
    }

    /// The smallest memory request: PostgreSQL's buffers and a few
    /// connections do not start reliably in less than 256 MiB.
    pub fn resource_floor() -> ResourceFloor {
        ResourceFloor::with_memory(Memory::mebibytes(256))
    }

    /// Every problem with the cluster.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        check_at(
            &mut problems,
            "name",
            check_derived_name(&self.name, catalog::cloudnative_pg::CLUSTER_NAMES),
        );
        if self.name == catalog::battery_core::DATABASE_CLUSTER {
            problems.push(
                "name",
                Rule::Format,
                format!(
                    "\"{}\" is the name of bi's own database cluster; pick another name",
                    self.name
                ),
            );
        }
        problems.range("instances", self.instances, 1, MAX_INSTANCES);
        let min_storage = Self::min_storage();
        if self.storage < min_storage {
            problems.push(
                "storage",
                Rule::Range,
                format!(
                    "must be at least {}; {} is less",
                    min_storage.human(),
                    self.storage.human()
                ),
            );
        }
        problems.merge(
            "resources",
            self.resources.validate_at_least(&Self::resource_floor()),
        );

        for (i, user) in self.users.iter().enumerate() {
            problems.merge(&format!("users[{i}]"), user.validate());
        }
        check_unique(
            &mut problems,
            "users",
            "name",
            "user",
            self.users.iter().map(|u| u.name.as_str()),
        );

        for (i, database) in self.databases.iter().enumerate() {
            let at = format!("databases[{i}]");
            check_at(
                &mut problems,
                &format!("{at}.name"),
                check_dns_label(&database.name),
            );
            if RESERVED_DATABASES.contains(&database.name.as_str()) {
                problems.push(
                    format!("{at}.name"),
                    Rule::Format,
                    format!(
                        "\"{}\" is PostgreSQL's own database; pick another name",
                        database.name
                    ),
                );
            }
            self.check_owner(&mut problems, &format!("{at}.owner"), &database.owner);
        }
        check_unique(
            &mut problems,
            "databases",
            "name",
            "database",
            self.databases.iter().map(|d| d.name.as_str()),
        );
        problems.into_result()
    }

    /// Problems with changing `before` into `self`: the name is fixed once
    /// created, and storage may not shrink (volumes cannot be made smaller).
    pub fn validate_change(&self, before: &PostgresCluster) -> Result<(), Problems> {
        let mut problems = Problems::new();
        if self.name != before.name {
            problems.push(
                "name",
                Rule::Immutable,
                format!("cannot be changed once created; it is \"{}\"", before.name),
            );
        }
        if self.storage < before.storage {
            problems.push(
                "storage",
                Rule::Immutable,
                format!(
                    "cannot shrink from {} to {}: volumes can only grow",
                    before.storage.human(),
                    self.storage.human()
                ),
            );
        }
        problems.into_result()
    }

    fn check_owner(&self, problems: &mut Problems, field: &str, owner: &str) {
        if owner.is_empty() {
            problems.push(
                field,
                Rule::Required,
                "must name one of the cluster's users",
            );
            return;
        }
        if self.users.iter().any(|user| user.name == owner) {
            return;
        }
        let message = if self.users.is_empty() {
            format!("\"{owner}\" is not a user of this cluster; add the user first")
        } else {
            let names: Vec<&str> = self.users.iter().map(|u| u.name.as_str()).collect();
            format!(
                "\"{owner}\" is not a user of this cluster; pick one of {}",
                names.join(", ")
            )
        };
        problems.push(field, Rule::Consistency, message);
    }
}

impl PostgresUser {
    /// Every problem with this user: its name, and roles given twice or
    /// together with their opposite.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        check_at(&mut problems, "name", check_dns_label(&self.name));
        if RESERVED_USERS.contains(&self.name.as_str()) {
            problems.push(
                "name",
                Rule::Format,
                format!(
                    "\"{}\" is managed by CloudNativePG itself; pick another name",
                    self.name
                ),
            );
        }
        for (k, role) in self.roles.iter().enumerate() {
            if self.roles[..k].contains(role) {
                problems.push(
                    format!("roles[{k}]"),
                    Rule::Unique,
                    format!("{} is listed twice", role.keyword()),
                );
            } else if self.roles[..k].contains(&role.opposite()) {
                problems.push(
                    format!("roles[{k}]"),
                    Rule::Consistency,
                    format!(
                        "{} contradicts {}, listed before it; keep one",
                        role.keyword(),
                        role.opposite().keyword()
                    ),
                );
            }
        }
        problems.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Cpu;

    fn user(name: &str, roles: &[PostgresRole]) -> PostgresUser {
        PostgresUser {
            name: name.into(),
            roles: roles.to_vec(),
        }
    }

    fn database(name: &str, owner: &str) -> PostgresDatabase {
        PostgresDatabase {
            name: name.into(),
            owner: owner.into(),
        }
    }

    fn cluster() -> PostgresCluster {
        PostgresCluster {
            name: "main".into(),
            instances: 3,
            storage: Storage::gibibytes(10),
            resources: SizePreset::Small.resources(),
            users: vec![
                user("app", &[PostgresRole::Login, PostgresRole::Createdb]),
                user("reporting", &[PostgresRole::Login]),
            ],
            databases: vec![database("shop", "app"), database("stats", "reporting")],
            backup: PostgresBackup::ObjectStore,
        }
    }

    fn fields(problems: &Problems) -> Vec<(&str, Rule)> {
        problems
            .iter()
            .map(|e| (e.field.as_str(), e.rule))
            .collect()
    }

    #[test]
    fn a_complete_cluster_is_valid() {
        assert_eq!(cluster().validate(), Ok(()));
    }

    #[test]
    fn the_default_cluster_only_lacks_a_name() {
        let problems = PostgresCluster::default().validate().unwrap_err();
        assert_eq!(fields(&problems), [("name", Rule::Required)]);
    }

    #[test]
    fn every_preset_fits_a_postgres_cluster() {
        for preset in SizePreset::ALL {
            let pg = PostgresCluster {
                storage: preset.storage(),
                resources: preset.resources(),
                ..cluster()
            };
            assert_eq!(pg.validate(), Ok(()), "{preset:?}");
        }
    }

    #[test]
    fn instances_must_be_between_one_and_nine() {
        for (instances, ok) in [(0, false), (1, true), (9, true), (10, false)] {
            let pg = PostgresCluster {
                instances,
                ..cluster()
            };
            assert_eq!(pg.validate().is_ok(), ok, "{instances}");
        }
    }

    #[test]
    fn storage_and_memory_have_postgres_minimums() {
        let mut pg = cluster();
        pg.storage = Storage::mebibytes(256);
        pg.resources.memory_request = Memory::mebibytes(128);
        pg.resources.memory_limit = None;
        let problems = pg.validate().unwrap_err();
        assert_eq!(
            problems.for_field("storage").map(|e| e.message.as_str()),
            Some("must be at least 512 MiB; 256 MiB is less")
        );
        assert_eq!(
            problems
                .for_field("resources.memory_request")
                .map(|e| e.message.as_str()),
            Some("must be at least 256 MiB; 128 MiB is less")
        );
    }

    #[test]
    fn three_bad_fields_give_three_problems_with_their_paths() {
        let mut pg = cluster();
        pg.name = "Main".into();
        pg.users[1].name = "bad_name".into();
        pg.databases[1].owner = "bad_name".into();
        pg.resources.memory_limit = Some(Memory::mebibytes(512));
        let problems = pg.validate().unwrap_err();
        assert_eq!(
            fields(&problems),
            [
                ("name", Rule::DnsLabel),
                ("resources.memory_limit", Rule::Consistency),
                ("users[1].name", Rule::DnsLabel),
            ]
        );
        assert_eq!(
            problems
                .for_field("resources.memory_limit")
                .map(|e| e.message.as_str()),
            Some("memory limit 512Mi is below the request 1Gi")
        );
    }

    #[test]
    fn user_and_database_names_must_be_unique() {
        let mut pg = cluster();
        pg.users.push(user("app", &[]));
        pg.databases.push(database("shop", "app"));
        let problems = pg.validate().unwrap_err();
        assert_eq!(
            fields(&problems),
            [
                ("users[2].name", Rule::Unique),
                ("databases[2].name", Rule::Unique)
            ]
        );
        assert_eq!(
            problems.iter().next().map(|e| e.message.as_str()),
            Some("another user is already named \"app\" (users[0])")
        );
    }

    #[test]
    fn database_owners_must_be_users() {
        let mut pg = cluster();
        pg.databases.push(database("logs", "bob"));
        pg.databases.push(database("audit", ""));
        let problems = pg.validate().unwrap_err();
        assert_eq!(
            problems
                .for_field("databases[2].owner")
                .map(|e| e.message.as_str()),
            Some("\"bob\" is not a user of this cluster; pick one of app, reporting")
        );
        assert_eq!(
            problems.for_field("databases[3].owner").map(|e| e.rule),
            Some(Rule::Required)
        );
        pg.users.clear();
        let problems = pg.validate().unwrap_err();
        assert!(
            problems
                .iter()
                .any(|e| e.message.ends_with("add the user first"))
        );
    }

    #[test]
    fn reserved_names_are_refused() {
        let mut pg = cluster();
        pg.users.push(user("postgres", &[]));
        pg.databases.push(database("template1", "app"));
        let problems = pg.validate().unwrap_err();
        assert_eq!(
            fields(&problems),
            [
                ("users[2].name", Rule::Format),
                ("databases[2].name", Rule::Format)
            ]
        );
    }

    #[test]
    fn repeated_and_contradictory_roles_are_refused() {
        use PostgresRole::*;
        let problems = user("app", &[Login, Superuser, Login, Nosuperuser])
            .validate()
            .unwrap_err();
        assert_eq!(
            fields(&problems),
            [("roles[2]", Rule::Unique), ("roles[3]", Rule::Consistency)]
        );
        assert_eq!(
            problems.for_field("roles[3]").map(|e| e.message.as_str()),
            Some("NOSUPERUSER contradicts SUPERUSER, listed before it; keep one")
        );
    }

    #[test]
    fn every_role_has_an_opposite_that_leads_back() {
        use PostgresRole::*;
        for role in [
            Superuser,
            Nosuperuser,
            Createdb,
            Nocreatedb,
            Createrole,
            Nocreaterole,
            Inherit,
            Noinherit,
            Login,
            Nologin,
            Replication,
            Noreplication,
            Bypassrls,
            Nobypassrls,
        ] {
            assert_ne!(role.opposite(), role);
            assert_eq!(role.opposite().opposite(), role);
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json.trim_matches('"').to_uppercase(), role.keyword());
        }
    }

    #[test]
    fn storage_may_grow_but_not_shrink_and_the_name_is_fixed() {
        let before = cluster();
        let mut grown = cluster();
        grown.storage = Storage::gibibytes(20);
        assert_eq!(grown.validate_change(&before), Ok(()));
        let mut shrunk = cluster();
        shrunk.storage = Storage::gibibytes(5);
        shrunk.name = "other".into();
        let problems = shrunk.validate_change(&before).unwrap_err();
        assert_eq!(
            fields(&problems),
            [("name", Rule::Immutable), ("storage", Rule::Immutable)]
        );
        assert_eq!(
            problems.for_field("storage").map(|e| e.message.as_str()),
            Some("cannot shrink from 10 GiB to 5 GiB: volumes can only grow")
        );
    }

    #[test]
    fn round_trips_through_serde() {
        let pg = cluster();
        let json = serde_json::to_value(&pg).unwrap();
        assert_eq!(json["storage"], "10Gi");
        assert_eq!(json["backup"], "object_store");
        assert_eq!(
            json["users"][0]["roles"],
            serde_json::json!(["login", "createdb"])
        );
        assert_eq!(serde_json::from_value::<PostgresCluster>(json).unwrap(), pg);
    }

    #[test]
    fn deserializing_fills_optional_lists_and_refuses_unknown_fields() {
        let json = r#"{"name":"db","instances":1,"storage":"1Gi",
            "resources":{"cpu_request":"500m","memory_request":"512Mi"}}"#;
        let pg: PostgresCluster = serde_json::from_str(json).unwrap();
        assert_eq!(pg.backup, PostgresBackup::None);
        assert!(pg.users.is_empty());
        assert_eq!(pg.resources.cpu_request, Cpu::millicores(500));
        let unknown = json.replace("\"instances\"", "\"replicas\":1,\"instances\"");
        assert!(serde_json::from_str::<PostgresCluster>(&unknown).is_err());
    }
}
