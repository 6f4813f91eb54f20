//! SeaORM entities: one module per table.

pub mod desired_state_version;
pub mod installation;
pub mod stored_secret;
