//! The layering of `src/`, pinned: every folder is a layer, and a layer uses only the layers
//! below it. git2 and `git` subprocesses live in `src/store/` alone; the caches in
//! `src/derived/` are seen by the workspace and nothing above it.
//!
//! The check reads every `src/**/*.rs` file and looks at each `crate::<layer>` path outside
//! comments and string literals.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each layer and what it may use besides itself (and the crate root's `error`).
const LAYERS: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("schedule", &["model"]),
    ("plan", &["model", "schedule"]),
    ("store", &["model"]),
    ("derived", &["model", "schedule", "store"]),
    ("workspace", &["model", "schedule", "store", "derived"]),
    ("app", &["model", "schedule", "plan", "store", "workspace"]),
    ("cli", &["model", "schedule", "plan", "workspace", "app"]),
];

/// Modules at the crate root that every layer may use.
const ROOT: &[&str] = &["error", "Error", "ErrorKind", "Result"];

fn layer_of(rel: &Path) -> Option<&'static str> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    LAYERS.iter().map(|(l, _)| *l).find(|l| *l == first)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The source without `//` comments (doc comments included) and string literals, so prose
/// that names a module is not an import.
fn code_only(src: &str) -> String {
    strip(src, true)
}

/// The source without `//` comments; string literals too when `strings` is set.
fn strip(src: &str, strings: bool) -> String {
    let mut out = String::with_capacity(src.len());
    for line in src.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if !in_str && c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
                if !strings {
                    out.push(c);
                }
            } else if !in_str || !strings {
                out.push(c);
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
        }
        out.push('\n');
    }
    out
}

/// The layers `code` names through `prefix` (`crate::` or `wt::`), each with its line.
fn used_layers(code: &str, prefix: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().last();
            let after = &rest[i + prefix.len()..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if let Some(rest) = after.strip_prefix('{') {
                // `crate::{a, b}`: every name in the group.
                let group = rest.split('}').next().unwrap_or("");
                for part in group.split(',') {
                    let head = part.trim().split("::").next().unwrap_or("").trim();
                    if !head.is_empty() {
                        found.push((head.to_string(), n + 1));
                    }
                }
            } else if !name.is_empty() {
                found.push((name, n + 1));
            }
        }
    }
    found
}

/// Every forbidden use in one file: `(file:line, what)`.
fn violations_in(rel: &Path, src: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let code = code_only(src);
    let Some(layer) = layer_of(rel) else {
        // The crate root (lib.rs, main.rs, error.rs) declares the layers and uses none.
        if rel != Path::new("lib.rs") {
            for (name, line) in used_layers(&code, "crate::") {
                if !ROOT.contains(&name.as_str()) {
                    bad.push(format!("{}:{line}: uses {name}", rel.display()));
                }
            }
        }
        if code.contains("git2::") || code.contains("libgit2_sys") {
            bad.push(format!("{}: uses git2 outside src/store/", rel.display()));
        }
        return bad;
    };
    let allowed = LAYERS
        .iter()
        .find(|(l, _)| *l == layer)
        .map(|(_, a)| *a)
        .unwrap_or(&[]);
    for (name, line) in used_layers(&code, "crate::") {
        let ok = name == layer || allowed.contains(&name.as_str()) || ROOT.contains(&name.as_str());
        if !ok {
            bad.push(format!(
                "{}:{line}: layer `{layer}` uses `{name}` (allowed: {})",
                rel.display(),
                allowed.join(", ")
            ));
        }
    }
    if layer != "store" {
        for (n, l) in strip(src, false).lines().enumerate() {
            if l.contains("git2::")
                || l.contains("libgit2_sys")
                || l.trim_start().starts_with("use git2")
            {
                bad.push(format!(
                    "{}:{}: git2 outside src/store/",
                    rel.display(),
                    n + 1
                ));
            }
            if l.contains("Command::new(\"git\")") || l.contains("Command::new(GIT)") {
                bad.push(format!(
                    "{}:{}: a git subprocess outside src/store/",
                    rel.display(),
                    n + 1
                ));
            }
        }
    }
    bad
}

#[test]
fn layers_only_use_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 40,
        "found only {} files under src/",
        files.len()
    );
    let mut bad = Vec::new();
    let mut seen = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        if let Some(l) = layer_of(rel) {
            seen.insert(l);
        }
        let text = std::fs::read_to_string(f).expect("read source");
        bad.extend(violations_in(rel, &text));
    }
    assert!(bad.is_empty(), "forbidden uses:\n{}", bad.join("\n"));
    let all: BTreeSet<&str> = LAYERS.iter().map(|(l, _)| *l).collect();
    assert_eq!(seen, all, "every layer has a folder under src/");
}

#[test]
fn the_layer_check_catches_an_upward_use() {
    let bad = |path: &str, src: &str| violations_in(Path::new(path), src);
    assert_eq!(
        bad("model/ticket.rs", "use crate::workspace::Snapshot;\n").len(),
        1
    );
    assert_eq!(
        bad("model/ticket.rs", "use crate::{model::id, app::x};\n").len(),
        1
    );
    assert_eq!(
        bad("app/claim.rs", "let d = crate::derived::cache::dir();\n").len(),
        1
    );
    assert_eq!(bad("app/log.rs", "use git2::Sort;\n").len(), 1);
    assert_eq!(
        bad(
            "workspace/mod.rs",
            "unsafe { libgit2_sys::git_libgit2_init() };\n"
        )
        .len(),
        1
    );
    assert_eq!(
        bad("cli/commands/x.rs", "use crate::store::Store;\n").len(),
        1
    );
    assert_eq!(
        bad("app/hooks.rs", "Command::new(\"git\").arg(\"x\");\n").len(),
        1
    );
    // Allowed uses, and prose, pass.
    assert!(bad("app/claim.rs", "use crate::workspace::Workspace;\n").is_empty());
    assert!(bad("store/mod.rs", "use git2::Oid;\nuse crate::model::clock;\n").is_empty());
    assert!(bad(
        "model/ticket.rs",
        "/// see [`crate::workspace`]\nlet s = \"crate::app\";\n"
    )
    .is_empty());
    assert!(bad(
        "cli/commands/x.rs",
        "use crate::app::claim;\nuse crate::cli::Ctx;\n"
    )
    .is_empty());
}

/// The module path of a file under `src/` (`app/ci/mod.rs` -> `app::ci`).
fn module_of(rel: &Path) -> String {
    let s = rel.to_string_lossy().replace('\\', "/");
    let s = s.trim_end_matches(".rs");
    let s = s.strip_suffix("/mod").unwrap_or(s);
    s.replace('/', "::")
}

/// Which of `modules` the path `crate::a::b::c` (given as `a::b::c`) lands in: the longest
/// module that is a prefix of it.
fn resolve<'m>(path: &str, modules: &'m BTreeSet<String>) -> Option<&'m String> {
    let mut parts: Vec<&str> = path.split("::").collect();
    while !parts.is_empty() {
        let cand = parts.join("::");
        if let Some(m) = modules.get(&cand) {
            return Some(m);
        }
        parts.pop();
    }
    None
}

/// Every `crate::x::y` and `super::y` path in `code`, as a path from the crate root.
fn paths_in(code: &str, module: &str, is_mod_rs: bool) -> Vec<String> {
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut out = Vec::new();
    // A file's `super` is its parent module; for `x/mod.rs` that is the parent of `x`.
    let mut parent: Vec<&str> = module.split("::").collect();
    if !is_mod_rs || !parent.is_empty() {
        parent.pop();
    }
    for (prefix, base) in [("crate::", String::new()), ("super::", parent.join("::"))] {
        let mut rest = code;
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().last();
            let after = &rest[i + prefix.len()..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let tail: String = after.chars().take_while(|c| ident(*c)).collect();
            let tail = tail.trim_end_matches(':');
            if tail.is_empty() {
                continue;
            }
            out.push(if base.is_empty() {
                tail.to_string()
            } else {
                format!("{base}::{tail}")
            });
        }
    }
    out
}

#[test]
fn no_two_sibling_files_use_each_other() {
    // Within a folder, files form layers too: a cycle between siblings (a::x uses a::y and
    // a::y uses a::x) means the two are one module, or a third one is missing. A folder's
    // mod.rs (its interface) and its children may use each other.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut modules = BTreeSet::new();
    let mut texts = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src").to_path_buf();
        let m = module_of(&rel);
        modules.insert(m.clone());
        let text = std::fs::read_to_string(f).expect("read source");
        // Unit tests (a trailing `#[cfg(test)]` module) may use any sibling as a fixture.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        let code = code_only(text);
        let is_mod = rel
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs");
        texts.push((m, code, is_mod));
    }
    let parent_of = |m: &str| {
        m.rsplit_once("::")
            .map(|(p, _)| p.to_string())
            .unwrap_or_default()
    };
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, code, is_mod) in &texts {
        for p in paths_in(code, m, *is_mod) {
            let Some(target) = resolve(&p, &modules) else {
                continue;
            };
            // Only siblings: same parent, neither inside the other.
            if target != m && parent_of(target) == parent_of(m) {
                edges.entry(m.clone()).or_default().insert(target.clone());
            }
        }
    }
    let mut cycles = Vec::new();
    for (a, outs) in &edges {
        for b in outs {
            if a < b && edges.get(b).is_some_and(|o| o.contains(a)) {
                cycles.push(format!("{a} <-> {b}"));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "sibling modules that use each other:\n{}",
        cycles.join("\n")
    );
    assert!(
        edges.len() > 10,
        "the scan found too few uses: {}",
        edges.len()
    );
}
