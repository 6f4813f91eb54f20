//! `bi start --kind`: a kind cluster for bi on a workstation, and MetalLB
//! addresses inside kind's Docker network so LoadBalancer IPs are routable
//! from the host.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, anyhow, bail};
use bi_control::Database;
use bi_model::catalog::BatteryKind;
use bi_model::objects::{IpAddressPool, IpRange};

/// The name of the address pool `bi start --kind` adds.
pub const POOL_NAME: &str = "kind";

/// Fails, saying what to install, unless `docker` and `kind` are on PATH.
pub fn require_tools() -> anyhow::Result<()> {
    let missing: Vec<&str> = ["docker", "kind"]
        .into_iter()
        .filter(|tool| on_path(tool).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "`bi start --kind` needs {} on PATH: install Docker (https://docs.docker.com/engine/install/) \
         and kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), \
         or run `bi start` without --kind to use the embedded sandbox cluster",
        missing
            .iter()
            .map(|tool| format!("`{tool}`"))
            .collect::<Vec<_>>()
            .join(" and ")
    )
}

fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

/// Creates the kind cluster `name` unless it exists, and writes its
/// kubeconfig to `kubeconfig`.
pub async fn ensure_cluster(name: &str, kubeconfig: &Path) -> anyhow::Result<()> {
    let name = name.to_owned();
    let kubeconfig = kubeconfig.to_owned();
    // NB: kind takes minutes to create a cluster; run it off the async workers.
    tokio::task::spawn_blocking(move || {
        let clusters = run(Command::new("kind").args(["get", "clusters"]))?;
        let exists = clusters.lines().any(|line| line.trim() == name);
        let kubeconfig = kubeconfig.to_string_lossy().into_owned();
        if exists {
            run(Command::new("kind").args([
                "export",
                "kubeconfig",
                "--name",
                &name,
                "--kubeconfig",
                &kubeconfig,
            ]))?;
        } else {
            run(Command::new("kind").args([
                "create",
                "cluster",
                "--name",
                &name,
                "--kubeconfig",
                &kubeconfig,
                "--wait",
                "120s",
            ]))?;
        }
        Ok(())
    })
    .await
    .context("while waiting for kind")?
}

fn run(command: &mut Command) -> anyhow::Result<String> {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .with_context(|| format!("while running {shown}"))?;
    if !output.status.success() {
        bail!(
            "{shown} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A MetalLB range inside the IPv4 subnet of `docker network inspect kind`
/// output: `.200`–`.250` of the subnet's last /24, clear of the addresses
/// Docker hands to containers from the bottom.
pub fn metallb_range(inspect_json: &str) -> anyhow::Result<IpRange> {
    let networks: serde_json::Value = serde_json::from_str(inspect_json)
        .context("while reading `docker network inspect kind`")?;
    let configs = networks
        .pointer("/0/IPAM/Config")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| anyhow!("`docker network inspect kind` shows no IPAM config"))?;
    for config in configs {
        let Some(subnet) = config.get("Subnet").and_then(serde_json::Value::as_str) else {
            continue;
        };
        let Some((network, prefix)) = subnet.split_once('/') else {
            continue;
        };
        let (Ok(network), Ok(prefix)) = (network.parse::<Ipv4Addr>(), prefix.parse::<u32>()) else {
            continue;
        };
        if prefix > 24 {
            continue;
        }
        let size = 1u32 << (32 - prefix);
        let base = u32::from(network) & !(size - 1);
        let last_block = base + size - 256;
        let start = Ipv4Addr::from(last_block + 200);
        let end = Ipv4Addr::from(last_block + 250);
        return IpRange::parse(&format!("{start}-{end}"))
            .map_err(|err| anyhow!("{subnet}: {}", err.message));
    }
    bail!("the kind docker network has no IPv4 subnet of /24 or larger")
}

/// When MetalLB is installed and has no address pool, adds one inside the
/// kind network; returns the range added.
pub async fn add_metallb_pool(db: &Database) -> anyhow::Result<Option<IpRange>> {
    let (_, state) = bi_control::desired_state::current(db).await?;
    if !state.batteries.contains_key(&BatteryKind::Metallb) || !state.ip_address_pools.is_empty() {
        return Ok(None);
    }
    let inspect = tokio::task::spawn_blocking(|| {
        run(Command::new("docker").args(["network", "inspect", "kind"]))
    })
    .await
    .context("while waiting for docker")??;
    let range = metallb_range(&inspect)?;
    bi_control::desired_state::change(
        db,
        "bi start --kind",
        &format!("add IP address pool {POOL_NAME} ({range}) in the kind docker network"),
        |state| {
            state.ip_address_pools.push(IpAddressPool {
                name: POOL_NAME.to_owned(),
                range,
            });
            Ok(())
        },
    )
    .await?;
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSPECT: &str = r#"[{
        "Name": "kind",
        "Driver": "bridge",
        "EnableIPv6": true,
        "IPAM": {"Driver": "default", "Options": {}, "Config": [
            {"Subnet": "fc00:f853:ccd:e793::/64", "Gateway": "fc00:f853:ccd:e793::1"},
            {"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}
        ]}
    }]"#;

    #[test]
    fn picks_the_top_of_the_ipv4_subnet() {
        let range = metallb_range(INSPECT).unwrap();
        assert_eq!(range.to_string(), "172.18.255.200-172.18.255.250");
    }

    #[test]
    fn a_slash_24_uses_its_own_top() {
        let json = INSPECT.replace("172.18.0.0/16", "192.168.49.0/24");
        let range = metallb_range(&json).unwrap();
        assert_eq!(range.to_string(), "192.168.49.200-192.168.49.250");
    }

    #[test]
    fn a_network_without_ipv4_is_refused() {
        let json = INSPECT.replace("172.18.0.0/16", "fd00::/64");
        assert!(metallb_range(&json).is_err());
    }
}
