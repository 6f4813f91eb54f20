//! `bi-model`: the typed models shared by the control server and the browser.
//!
//! Everything here is pure (no I/O, no clocks, no tokio) so that it compiles for
//! `wasm32-unknown-unknown` and the same validation runs in the browser for
//! immediate feedback and on the server before anything is stored.

pub mod capacity;
pub mod catalog;
pub mod dependencies;
pub mod events;
pub mod examples;
pub mod generate;
pub mod image;
pub mod input;
pub mod installation;
pub mod keycloak;
pub mod names;
pub mod objects;
pub mod reach;
pub mod units;
pub mod validation;

pub use installation::{
    ClusterSummary, InstallationName, InstallationOverview, IntervalSettings, ReconcileIntervals,
};
pub use validation::{FieldError, Problems, Rule};
