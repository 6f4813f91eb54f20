//! The labels and annotation every generated resource carries.

/// Marks an object as bi's: only objects with it are ever pruned.
pub const MANAGED_LABEL: &str = "battery/managed";
/// The battery or user object the resource belongs to.
pub const APP_LABEL: &str = "battery/app";
/// The Kubernetes-wide "who manages this" label.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The Kubernetes-wide name label.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// sha256 of the canonical JSON of the resource without this annotation.
pub const HASH_ANNOTATION: &str = "battery/hash";
