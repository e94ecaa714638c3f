//! Build fingerprint for the parse cache (`src/cache.rs`).
//!
//! The cache stores what parsing a ticket produced. Any change to the code that parses
//! (a new field, a new rule, another YAML crate version) must make old cache files
//! unusable, even if nobody remembers to bump the cache's format version. So the cache
//! key includes a hash of every source file under `src/`, of `Cargo.lock` and of the
//! package version: a different build of wt never trusts another build's cache.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let mut files = Vec::new();
    collect(&root.join("src"), &mut files);
    let lock = root.join("Cargo.lock");
    if lock.is_file() {
        files.push(lock.clone());
        println!("cargo:rerun-if-changed=Cargo.lock");
    }
    files.sort();
    let mut h = DefaultHasher::new();
    std::env::var("CARGO_PKG_VERSION")
        .unwrap_or_default()
        .hash(&mut h);
    for f in &files {
        f.strip_prefix(&root).unwrap_or(f).hash(&mut h);
        std::fs::read(f).unwrap_or_default().hash(&mut h);
    }
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=WT_BUILD_FINGERPRINT={:016x}", h.finish());
}
