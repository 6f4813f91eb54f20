//! The operators' manifests in `third_party/upstream` are upstream's, byte
//! for byte: every file `SOURCES.tsv` lists has its recorded size and
//! sha256, and no file there is unlisted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn upstream() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../third_party/upstream")
}

/// Every file below `dir`, relative to it.
fn files(dir: &Path, base: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, base, found);
        } else {
            let relative = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            found.insert(relative);
        }
    }
}

#[test]
fn every_vendored_file_matches_its_recorded_size_and_sha256() {
    let root = upstream();
    let sources = std::fs::read_to_string(root.join("SOURCES.tsv")).unwrap();
    let mut lines = sources.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (local, bytes, sha) = (column("local_path"), column("bytes"), column("sha256"));
    let mut listed = BTreeSet::new();
    let mut wrong = Vec::new();
    for line in lines.filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let path = fields[local];
        listed.insert(path.to_owned());
        let Ok(content) = std::fs::read(root.join(path)) else {
            wrong.push(format!("{path}: listed but missing"));
            continue;
        };
        let digest = format!("{:x}", Sha256::digest(&content));
        if content.len().to_string() != fields[bytes] || digest != fields[sha] {
            wrong.push(format!(
                "{path}: {} bytes, sha256 {digest}; SOURCES.tsv records {} bytes, {}",
                content.len(),
                fields[bytes],
                fields[sha]
            ));
        }
    }
    assert!(
        listed.len() > 100,
        "SOURCES.tsv lists {} files",
        listed.len()
    );
    let mut present = BTreeSet::new();
    files(&root, &root, &mut present);
    for extra in present.difference(&listed) {
        if extra != "SOURCES.tsv" && extra != "README.md" {
            wrong.push(format!("{extra}: not listed in SOURCES.tsv"));
        }
    }
    assert!(
        wrong.is_empty(),
        "third_party/upstream differs from upstream:\n{}",
        wrong.join("\n")
    );
}
