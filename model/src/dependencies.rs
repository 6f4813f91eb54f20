//! Dependencies between batteries: what installing one brings along, what
//! uninstalling one would break, and which optional integrations turn on or off.
//!
//! Everything is deterministic: dependencies are visited in the order the
//! catalog declares them, so the same request always yields the same plan.

use std::collections::BTreeSet;
use std::fmt;

use crate::catalog::{BatteryKind, ClusterProvider};

/// Why a dependency request cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependencyError {
    /// The dependency graph loops; the cycle is listed from where it starts.
    #[error("dependency cycle: {}", path(.0))]
    Cycle(Vec<BatteryKind>),
    /// Other installed batteries need this one.
    #[error("cannot uninstall {battery}: {} depend(s) on it; uninstall them first", list(.dependents))]
    Required {
        /// The battery asked to be removed.
        battery: BatteryKind,
        /// The installed batteries that need it, directly or through others.
        dependents: Vec<BatteryKind>,
    },
    /// bi cannot run without this battery.
    #[error("{0} cannot be uninstalled: bi needs it")]
    NotRemovable(BatteryKind),
    /// The battery is not installed, so there is nothing to remove.
    #[error("{0} is not installed")]
    NotInstalled(BatteryKind),
    /// The battery is not offered where the cluster runs.
    #[error("{battery} is not available on {provider:?} clusters")]
    NotOffered {
        /// The battery asked for (or one of its dependencies).
        battery: BatteryKind,
        /// Where the cluster runs.
        provider: ClusterProvider,
    },
}

fn path(kinds: &[BatteryKind]) -> String {
    kinds.iter().map(|k| k.id()).collect::<Vec<_>>().join(" → ")
}

fn list(kinds: &[BatteryKind]) -> String {
    kinds.iter().map(|k| k.id()).collect::<Vec<_>>().join(", ")
}

/// The closure of `roots` under `dependencies_of`, dependencies before
/// dependents (topological order), each node once. Dependencies are visited
/// in declaration order, so the result is deterministic. A cycle is an error
/// listing it, first node repeated at the end (`a → b → a`).
pub fn closure_with<'a, K, F>(roots: &[K], dependencies_of: F) -> Result<Vec<K>, Vec<K>>
where
    K: Copy + Eq + 'a,
    F: Fn(K) -> &'a [K],
{
    fn visit<'a, K: Copy + Eq + 'a>(
        node: K,
        dependencies_of: &dyn Fn(K) -> &'a [K],
        stack: &mut Vec<K>,
        done: &mut Vec<K>,
    ) -> Result<(), Vec<K>> {
        if done.contains(&node) {
            return Ok(());
        }
        if let Some(start) = stack.iter().position(|k| *k == node) {
            let mut cycle = stack[start..].to_vec();
            cycle.push(node);
            return Err(cycle);
        }
        stack.push(node);
        for dependency in dependencies_of(node) {
            visit(*dependency, dependencies_of, stack, done)?;
        }
        stack.pop();
        done.push(node);
        Ok(())
    }

    let mut done = Vec::new();
    let mut stack = Vec::new();
    for root in roots {
        visit(*root, &dependencies_of, &mut stack, &mut done)?;
    }
    Ok(done)
}

/// The catalog's hard dependencies of `kind`, transitively, in install order,
/// ending with `kind` itself.
pub fn closure(kinds: &[BatteryKind]) -> Result<Vec<BatteryKind>, DependencyError> {
    closure_with(kinds, |kind| kind.info().dependencies).map_err(DependencyError::Cycle)
}

/// An optional integration that turns on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegrationChange {
    /// The battery that declares the integration.
    pub battery: BatteryKind,
    /// The partner whose presence switches it.
    pub partner: BatteryKind,
    /// What it does.
    pub what: &'static str,
}

impl fmt::Display for IntegrationChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (with {}): {}",
            self.battery.info().name,
            self.partner.info().name,
            self.what
        )
    }
}

/// What installing a set of batteries does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallPlan {
    /// Batteries to install, dependencies first; ones already installed are left out.
    pub to_install: Vec<BatteryKind>,
    /// Integrations that start working once they are installed.
    pub integrations_on: Vec<IntegrationChange>,
}

/// Plans installing `wanted` on a cluster that has `installed`: the missing
/// part of their dependency closure, in order, and the integrations it turns on.
pub fn plan_install(
    installed: &BTreeSet<BatteryKind>,
    wanted: &[BatteryKind],
    provider: ClusterProvider,
) -> Result<InstallPlan, DependencyError> {
    let to_install: Vec<BatteryKind> = closure(wanted)?
        .into_iter()
        .filter(|kind| !installed.contains(kind))
        .collect();
    if let Some(battery) = to_install.iter().find(|k| !k.info().offered_on(provider)) {
        return Err(DependencyError::NotOffered {
            battery: *battery,
            provider,
        });
    }
    let mut after = installed.clone();
    after.extend(to_install.iter().copied());
    let integrations_on = integration_changes(installed, &after);
    Ok(InstallPlan {
        to_install,
        integrations_on,
    })
}

/// What uninstalling a battery does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UninstallPlan {
    /// The battery that goes.
    pub battery: BatteryKind,
    /// Integrations that stop working.
    pub integrations_off: Vec<IntegrationChange>,
}

/// Plans uninstalling `battery`: refused while any installed battery needs it
/// (directly or through another), or when bi cannot run without it.
pub fn plan_uninstall(
    installed: &BTreeSet<BatteryKind>,
    battery: BatteryKind,
) -> Result<UninstallPlan, DependencyError> {
    if !installed.contains(&battery) {
        return Err(DependencyError::NotInstalled(battery));
    }
    if !battery.info().removable {
        return Err(DependencyError::NotRemovable(battery));
    }
    let mut dependents = Vec::new();
    for other in installed.iter().filter(|k| **k != battery) {
        if closure(&[*other])?.contains(&battery) {
            dependents.push(*other);
        }
    }
    if !dependents.is_empty() {
        return Err(DependencyError::Required {
            battery,
            dependents,
        });
    }
    let mut after = installed.clone();
    after.remove(&battery);
    Ok(UninstallPlan {
        battery,
        integrations_off: integration_changes(&after, installed),
    })
}

/// Integrations active in `after` that were not active in `before`.
fn integration_changes(
    before: &BTreeSet<BatteryKind>,
    after: &BTreeSet<BatteryKind>,
) -> Vec<IntegrationChange> {
    let active = |set: &BTreeSet<BatteryKind>, battery: BatteryKind, partner: BatteryKind| {
        set.contains(&battery) && set.contains(&partner)
    };
    let mut changes = Vec::new();
    for battery in BatteryKind::ALL {
        for integration in battery.info().integrations {
            if active(after, battery, integration.partner)
                && !active(before, battery, integration.partner)
            {
                changes.push(IntegrationChange {
                    battery,
                    partner: integration.partner,
                    what: integration.what,
                });
            }
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use BatteryKind::*;

    fn set(kinds: &[BatteryKind]) -> BTreeSet<BatteryKind> {
        kinds.iter().copied().collect()
    }

    #[test]
    fn the_catalog_has_no_cycles_and_every_closure_starts_with_core() {
        for kind in BatteryKind::ALL {
            let order = closure(&[kind]).unwrap();
            assert_eq!(order.last(), Some(&kind));
            if kind != BatteryCore {
                assert_eq!(order.first(), Some(&BatteryCore), "{kind}: {order:?}");
            }
        }
    }

    #[test]
    fn dependencies_come_before_dependents_in_every_closure() {
        let order = closure(&BatteryKind::ALL).unwrap();
        assert_eq!(order.len(), BatteryKind::ALL.len());
        for (i, kind) in order.iter().enumerate() {
            for dependency in kind.info().dependencies {
                let at = order.iter().position(|k| k == dependency).unwrap();
                assert!(at < i, "{dependency} must come before {kind}");
            }
        }
    }

    #[test]
    fn installing_sso_brings_keycloak_and_postgres_in_order() {
        let plan = plan_install(&set(&[BatteryCore]), &[Sso], ClusterProvider::Sandbox).unwrap();
        assert_eq!(plan.to_install, [CloudnativePg, Keycloak, Sso]);
    }

    #[test]
    fn install_order_is_deterministic_whatever_the_request_order() {
        let a = plan_install(&set(&[]), &[Kiali, Promtail, Sso], ClusterProvider::Kind).unwrap();
        let b = plan_install(&set(&[]), &[Kiali, Promtail, Sso], ClusterProvider::Kind).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn reports_the_integrations_that_turn_on() {
        let installed = set(&[BatteryCore, Grafana]);
        let plan = plan_install(&installed, &[Loki], ClusterProvider::Sandbox).unwrap();
        assert_eq!(plan.to_install, [Loki]);
        let on: Vec<_> = plan
            .integrations_on
            .iter()
            .map(|c| (c.battery, c.partner))
            .collect();
        assert_eq!(on, [(Grafana, Loki)]);
    }

    #[test]
    fn aws_only_batteries_are_refused_elsewhere() {
        let err =
            plan_install(&set(&[BatteryCore]), &[Karpenter], ClusterProvider::Kind).unwrap_err();
        assert_eq!(
            err,
            DependencyError::NotOffered {
                battery: Karpenter,
                provider: ClusterProvider::Kind
            }
        );
        assert!(plan_install(&set(&[BatteryCore]), &[Karpenter], ClusterProvider::Aws).is_ok());
    }

    #[test]
    fn uninstall_is_refused_naming_every_dependent() {
        let installed = set(&[BatteryCore, CloudnativePg, Keycloak, Sso, Ferretdb]);
        let err = plan_uninstall(&installed, Keycloak).unwrap_err();
        assert_eq!(
            err,
            DependencyError::Required {
                battery: Keycloak,
                dependents: vec![Sso]
            }
        );
        assert_eq!(
            err.to_string(),
            "cannot uninstall keycloak: sso depend(s) on it; uninstall them first"
        );
        // CloudnativePg is not removable at all; Ferretdb and Keycloak need it.
        assert_eq!(
            plan_uninstall(&installed, CloudnativePg),
            Err(DependencyError::NotRemovable(CloudnativePg))
        );
        assert_eq!(
            plan_uninstall(&installed, BatteryCore),
            Err(DependencyError::NotRemovable(BatteryCore))
        );
    }

    #[test]
    fn transitive_dependents_block_uninstall_too() {
        let installed = set(&[BatteryCore, CertManager, BatteryCa, TrustManager]);
        let err = plan_uninstall(&installed, CertManager).unwrap_err();
        assert_eq!(
            err,
            DependencyError::Required {
                battery: CertManager,
                dependents: vec![BatteryCa, TrustManager]
            }
        );
    }

    #[test]
    fn uninstall_reports_the_integrations_that_turn_off() {
        let installed = set(&[BatteryCore, Grafana, Loki, VmAgent, VictoriaMetrics]);
        let plan = plan_uninstall(&installed, Loki).unwrap();
        let off: Vec<_> = plan
            .integrations_off
            .iter()
            .map(|c| (c.battery, c.partner))
            .collect();
        assert_eq!(off, [(Grafana, Loki)]);
        assert_eq!(
            plan_uninstall(&installed, Redis),
            Err(DependencyError::NotInstalled(Redis))
        );
    }

    #[test]
    fn a_cycle_is_an_error_naming_it() {
        // A made-up graph: 1 → 2 → 3 → 1, with 0 → 1.
        let graph: [&[u8]; 4] = [&[1], &[2], &[3], &[1]];
        let err = closure_with(&[0u8], |n| graph[usize::from(n)]).unwrap_err();
        assert_eq!(err, [1, 2, 3, 1]);
        let err = DependencyError::Cycle(vec![Grafana, Loki, Grafana]);
        assert_eq!(
            err.to_string(),
            "dependency cycle: grafana → loki → grafana"
        );
    }

    #[test]
    fn shared_dependencies_appear_once() {
        let graph: [&[u8]; 4] = [&[1, 2], &[3], &[3], &[]];
        assert_eq!(
            closure_with(&[0u8], |n| graph[usize::from(n)]).unwrap(),
            [3, 1, 2, 0]
        );
    }
}
