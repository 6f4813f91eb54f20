//! The README's "Batteries" table is generated from the catalog, never
//! hand-copied: this test fails when they differ. Regenerate it with
//! `BI_UPDATE_README=1 cargo test -p bi-model --test readme_catalog`.

use std::path::Path;

use bi_model::catalog::{self, BatteryGroup};

const START: &str = "<!-- batteries:start (generated from model/src/catalog; see model/tests/readme_catalog.rs) -->";
const END: &str = "<!-- batteries:end -->";

fn table() -> String {
    let mut out = String::from(
        "| battery | id | what it does | needs | integrates with |\n|---|---|---|---|---|\n",
    );
    for group in BatteryGroup::ALL {
        for info in catalog::all().filter(|info| info.group == group) {
            let needs: Vec<_> = info.dependencies.iter().map(|k| format!("`{k}`")).collect();
            let with: Vec<_> = info
                .integrations
                .iter()
                .map(|i| format!("`{}`", i.partner))
                .collect();
            let mut what = info.description.to_owned();
            if !info.removable {
                what.push_str(" *Cannot be uninstalled.*");
            }
            if !info.providers.is_empty() {
                let on: Vec<_> = info.providers.iter().map(|p| format!("{p:?}")).collect();
                what.push_str(&format!(" *Offered on: {}.*", on.join(", ")));
            }
            let or_dash = |items: Vec<String>| {
                if items.is_empty() {
                    "–".to_owned()
                } else {
                    items.join(", ")
                }
            };
            out.push_str(&format!(
                "| **{}** ({}) | `{}` | {} | {} | {} |\n",
                info.name,
                group.title(),
                info.id,
                what.replace('|', "\\|"),
                or_dash(needs),
                or_dash(with),
            ));
        }
    }
    out
}

#[test]
fn readme_battery_table_matches_the_catalog() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md lacks the markers {START} … {END}");
    };
    let current = &readme[start + START.len()..end];
    let wanted = format!("\n{}", table());
    if current == wanted {
        return;
    }
    if std::env::var("BI_UPDATE_README").is_ok_and(|v| v == "1") {
        let updated = format!("{}{START}{wanted}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).expect("writing README.md");
        return;
    }
    panic!(
        "README.md's battery table is out of date; run \
         `BI_UPDATE_README=1 cargo test -p bi-model --test readme_catalog`"
    );
}
