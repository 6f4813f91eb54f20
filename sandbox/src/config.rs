//! How a sandbox cluster is run: where it listens, where it keeps its files,
//! how many fake nodes it reports and how quickly workloads "become ready".

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use bi_model::units::{Cpu, Memory};

/// How to run the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to bind; default 127.0.0.1:0 (a free port). Loopback only.
    pub listen: SocketAddr,
    /// When set: objects persist in `<dir>/sandbox.json` (written atomically after every
    /// write: temp file + rename) and loaded at start; the kubeconfig is written to
    /// `<dir>/sandbox.kubeconfig`. When None: memory only, no files.
    pub data_dir: Option<PathBuf>,
    /// Nodes to create at start (when the store has none): default 3, each with
    /// allocatable `node_cpu` / `node_memory`.
    pub nodes: u32,
    /// Allocatable CPU of each node (default 4 cores).
    pub node_cpu: Cpu,
    /// Allocatable memory of each node (default 16 GiB).
    pub node_memory: Memory,
    /// Delay before Deployments/StatefulSets report readyReplicas = replicas (default 200 ms; 0 = at once).
    pub ready_after: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            data_dir: None,
            nodes: 3,
            node_cpu: Cpu::cores(4),
            node_memory: Memory::gibibytes(16),
            ready_after: Duration::from_millis(200),
        }
    }
}

impl SandboxConfig {
    /// `<data_dir>/sandbox.json`, where objects persist.
    pub(crate) fn store_path(&self) -> Option<PathBuf> {
        self.data_dir.as_ref().map(|dir| dir.join("sandbox.json"))
    }

    /// `<data_dir>/sandbox.kubeconfig`, the kubeconfig pointing at the sandbox.
    pub(crate) fn kubeconfig_path(&self) -> Option<PathBuf> {
        self.data_dir
            .as_ref()
            .map(|dir| dir.join("sandbox.kubeconfig"))
    }
}
