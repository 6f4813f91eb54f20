//! `bi-server`: the `bi` binary's library: the command line, layered
//! configuration, logging, the axum router and the control server's lifecycle.

pub mod api;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod export;
pub mod health;
pub mod logging;
pub mod metrics;
pub mod router;
pub mod serve;
pub mod shared_pages;
pub mod start;
pub mod state;
pub mod tls;

// NB: rendering a page allocates and frees many small strings from every
// worker thread; glibc's allocator spent a third of the dashboard's time
// in malloc and its consolidation (perf, `cargo bench --bench serve`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
