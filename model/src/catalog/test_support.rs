//! Lookups the battery generators' unit tests share.

use crate::generate::Resource;

/// The generated resource of `kind` named `name`, if any.
pub fn find<'a>(resources: &'a [Resource], kind: &str, name: &str) -> Option<&'a Resource> {
    resources
        .iter()
        .find(|r| r.path.kind == kind && r.path.name == name)
}

/// The generated resource of `kind` named `name`; panics naming it when absent.
pub fn find_required<'a>(resources: &'a [Resource], kind: &str, name: &str) -> &'a Resource {
    find(resources, kind, name).unwrap_or_else(|| panic!("no {kind} {name}"))
}
