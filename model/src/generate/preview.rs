//! A change seen before it is saved: what the changed desired state
//! generates, planned against what the state of the last snapshot generated,
//! with the fields each update changes.
//!
//! The browser runs this on every edit of a form (both states generate with
//! [`Secrets::Preview`], so no secret value is needed or shown), and the plan
//! is the engine's own [`plan`] run as if the cluster held exactly what the
//! last snapshot applied.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::context::Secrets;
use super::error::GenerateError;
use super::fields::{FieldChange, field_changes};
use super::order::Stage;
use super::pipeline::generate;
use super::plan::{Action, Observed, PlanCounts, plan};
use super::resource::{Resource, ResourcePath};
use super::state::DesiredState;

/// One object the change writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewItem {
    /// The object.
    pub path: ResourcePath,
    /// Create, update or delete (never unchanged).
    pub action: Action,
    /// Its apply stage.
    pub stage: Stage,
    /// The battery or user object it belongs to (for a deletion, the one it
    /// belonged to).
    pub app: String,
    /// Its body after the change; for a deletion, the body it had.
    pub body: Value,
    /// For an update, every field that changes (the hash annotation aside).
    pub fields: Vec<FieldChange>,
}

/// What saving a change would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    /// How many objects are created, updated, left alone and deleted.
    pub counts: PlanCounts,
    /// The objects written, in the order the engine would write them.
    pub items: Vec<PreviewItem>,
    /// Every object the changed state generates, in apply order.
    pub resources: Vec<Resource>,
}

/// Plans `after` against `before` (the state the last snapshot applied) as
/// the engine would against a cluster holding exactly what `before`
/// generates. Fails as generation does: on a state a generator refuses.
pub fn preview(before: &DesiredState, after: &DesiredState) -> Result<Preview, GenerateError> {
    let old = generate(before, Secrets::Preview)?;
    let new = generate(after, Secrets::Preview)?;
    let observed: Vec<Observed> = old
        .iter()
        .map(|resource| Observed {
            path: resource.path.clone(),
            managed: true,
            hash: Some(resource.hash.clone()),
            owned: false,
        })
        .collect();
    let inventory: BTreeSet<ResourcePath> = old.iter().map(|r| r.path.clone()).collect();
    let planned = plan(&new, &observed, &inventory);
    let old_by_path: BTreeMap<&ResourcePath, &Resource> =
        old.iter().map(|r| (&r.path, r)).collect();
    let new_by_path: BTreeMap<&ResourcePath, &Resource> =
        new.iter().map(|r| (&r.path, r)).collect();
    let items = planned
        .items
        .iter()
        .filter(|item| item.action.writes())
        .filter_map(|item| {
            let was = old_by_path.get(&item.path).copied();
            let is = new_by_path.get(&item.path).copied();
            let shown = is.or(was)?;
            let fields = match (item.action, was, is) {
                (Action::Update, Some(was), Some(is)) => field_changes(&was.body, &is.body),
                _ => Vec::new(),
            };
            Some(PreviewItem {
                path: item.path.clone(),
                action: item.action,
                stage: item.stage,
                app: shown.app.clone(),
                body: shown.body.clone(),
                fields,
            })
        })
        .collect();
    Ok(Preview {
        counts: planned.counts(),
        items,
        resources: new,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{BatteryConfig, BatteryKind};
    use crate::units::Storage;

    fn with_grafana() -> DesiredState {
        DesiredState::with_batteries(&[BatteryKind::Grafana]).unwrap()
    }

    #[test]
    fn the_same_state_writes_nothing() {
        let state = with_grafana();
        let preview = preview(&state, &state).unwrap();
        assert_eq!(preview.items, vec![]);
        assert_eq!(preview.counts.writes(), 0);
        assert_eq!(preview.counts.unchanged, preview.resources.len());
        assert!(preview.counts.unchanged > 10, "{:?}", preview.counts);
    }

    #[test]
    fn a_config_change_updates_only_its_objects_and_names_the_fields() {
        let before = with_grafana();
        let mut after = before.clone();
        let Some(BatteryConfig::Grafana(grafana)) = after.batteries.get_mut(&BatteryKind::Grafana)
        else {
            panic!("grafana is installed");
        };
        grafana.storage = Storage::gibibytes(7);
        let preview = preview(&before, &after).unwrap();
        assert!(
            preview
                .items
                .iter()
                .all(|item| item.action == Action::Update),
            "{:#?}",
            preview.items
        );
        let changed: Vec<(&str, Vec<&str>)> = preview
            .items
            .iter()
            .map(|item| {
                (
                    item.path.kind.as_str(),
                    item.fields.iter().map(|f| f.pointer.as_str()).collect(),
                )
            })
            .collect();
        assert!(
            changed
                .iter()
                .any(|(_, pointers)| pointers.iter().any(|p| p.contains("storage"))),
            "{changed:?}"
        );
        let storage = preview
            .items
            .iter()
            .flat_map(|item| &item.fields)
            .find(|field| field.pointer.ends_with("/storage"))
            .unwrap();
        assert_eq!(storage.after, Some(Value::from("7Gi")));
        assert_eq!(preview.counts.update, preview.items.len());
        assert_eq!(
            preview.counts.unchanged + preview.counts.update,
            preview.resources.len()
        );
    }

    #[test]
    fn installing_creates_and_uninstalling_deletes_in_reverse_stage_order() {
        let before = DesiredState::with_batteries(&[]).unwrap();
        let after = with_grafana();
        let install = preview(&before, &after).unwrap();
        assert_eq!(install.counts.create, install.resources.len());
        assert!(
            install
                .items
                .iter()
                .all(|item| item.action == Action::Create)
        );
        assert!(install.items.is_sorted_by_key(|item| item.stage));

        let uninstall = preview(&after, &before).unwrap();
        assert_eq!(uninstall.counts.delete, install.resources.len());
        assert!(
            uninstall
                .items
                .iter()
                .all(|item| item.action == Action::Delete)
        );
        assert!(
            uninstall
                .items
                .windows(2)
                .all(|pair| pair[0].stage >= pair[1].stage)
        );
        // A deletion shows the body the object had, and whose it was.
        assert!(uninstall.items.iter().all(|item| !item.app.is_empty()));
        assert!(uninstall.resources.is_empty());
    }

    #[test]
    fn secrets_are_placeholders() {
        let state = DesiredState::with_batteries(&[BatteryKind::Grafana]).unwrap();
        let preview = preview(&DesiredState::default(), &state).unwrap();
        let text = serde_json::to_string(&preview).unwrap();
        let secrets = preview
            .items
            .iter()
            .filter(|item| item.path.kind == "Secret")
            .count();
        assert!(secrets > 0);
        assert!(text.contains(crate::generate::SECRET_PLACEHOLDER));
    }
}
