//! One module per page.

mod batteries;
mod dashboard;
mod deploys;
mod live;
mod not_found;
mod projects;
mod services;
mod settings;

pub use batteries::{Batteries, BatteryPage};
pub use dashboard::Dashboard;
pub use deploys::{Deploys, DiffPage, SnapshotPage};
pub use live::LivePlan;
pub use not_found::NotFound;
pub use projects::{ProjectPage, Projects};
pub use services::Services;
pub use settings::Settings;
