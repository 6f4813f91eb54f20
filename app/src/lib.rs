//! `bi-app`: bi's web UI, rendered on the server (feature `ssr`) and hydrated
//! in the browser (feature `hydrate`).
//!
//! Pages call server functions declared in [`api`]; their bodies exist only
//! on the server, where they call `bi-control`. What they send and return,
//! errors included ([`ApiError`]), is `bi-api`'s: the same types as the
//! JSON API and the CLI.

// NB: deeply nested views make deep types; hydration code needs the room.
#![recursion_limit = "512"]

pub mod api;
pub mod components;
pub mod csrf;
pub mod live;
pub mod pages;
pub mod shell;

pub use bi_api::ApiError;
pub use shell::{App, shell};
