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
pub mod router;
pub mod serve;
pub mod start;
pub mod state;
pub mod tls;
