//! One module per page.

mod dashboard;
mod not_found;
mod planned;

pub use dashboard::Dashboard;
pub use not_found::NotFound;
pub use planned::{Planned, PlannedPage};
