//! `bi-migrations`: the schema of bi's database, one module per migration.
//!
//! The control server runs [`Migrator`] at start-up; the same migrations serve
//! SQLite (the embedded default) and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_installation;
mod m20261125_000001_create_desired_state;
mod m20261125_000002_create_snapshots;
mod m20261203_000001_add_reconcile_intervals;
mod m20261205_000001_create_accounts;
mod m20261206_000001_inventory_sets;
mod m20261207_000001_drift_findings;
mod m20261208_000001_timeline_and_archive;

/// Every migration bi knows, oldest first.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_installation::Migration),
            Box::new(m20261125_000001_create_desired_state::Migration),
            Box::new(m20261125_000002_create_snapshots::Migration),
            Box::new(m20261203_000001_add_reconcile_intervals::Migration),
            Box::new(m20261205_000001_create_accounts::Migration),
            Box::new(m20261206_000001_inventory_sets::Migration),
            Box::new(m20261207_000001_drift_findings::Migration),
            Box::new(m20261208_000001_timeline_and_archive::Migration),
        ]
    }
}
