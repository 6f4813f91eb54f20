//! What can go wrong starting, running or stopping a sandbox (not the
//! Kubernetes `Status` errors its API answers with: see `status.rs`).

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can go wrong with a [`Sandbox`](super::Sandbox) itself.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The sandbox only listens on loopback: it has no authentication.
    #[error("the sandbox cluster only listens on a loopback address, not {addr}")]
    NotLoopback {
        /// The refused address.
        addr: SocketAddr,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file in the data directory could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The persisted objects could not be read back or written out.
    #[error("the sandbox store {path} cannot be used: {reason}")]
    Persist {
        /// The store file.
        path: PathBuf,
        /// Why (corrupt JSON, wrong format…).
        reason: String,
    },
    /// The HTTP server stopped with an error.
    #[error("the sandbox server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The server task could not be joined (it panicked).
    #[error("the sandbox server task failed: {0}")]
    Task(String),
    /// The sandbox URL could not be turned into a kube client configuration.
    #[error("cannot use {url} as a cluster URL: {reason}")]
    ClientUrl {
        /// The URL.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The kube client could not be built.
    #[error("cannot build a kube client for the sandbox: {0}")]
    Client(#[from] kube::Error),
}
