//! The documentation's own rules: the README stays short, and every relative link in the
//! README and `docs/` resolves — to a file, and with `#anchor` to a heading of that file,
//! slugged as GitHub does. Links are read from comrak's syntax tree, so links inside code
//! are not links.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use comrak::nodes::{AstNode, NodeValue};
use comrak::{parse_document, Arena, Options};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read docs/")
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let mut files = vec![root().join("README.md")];
    walk(&root().join("docs"), &mut files);
    files
}

fn options() -> Options<'static> {
    let mut o = Options::default();
    o.extension.table = true;
    o.extension.tasklist = true;
    o.extension.strikethrough = true;
    o
}

fn text_of<'a>(node: &'a AstNode<'a>) -> String {
    let mut s = String::new();
    for d in node.descendants() {
        match &d.data.borrow().value {
            NodeValue::Text(t) => s.push_str(t),
            NodeValue::Code(c) => s.push_str(&c.literal),
            _ => {}
        }
    }
    s
}

/// GitHub's heading anchor: lowercase, letters, digits, `-` and `_` kept, spaces to `-`,
/// everything else dropped; repeats get `-1`, `-2`, ….
fn slug(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

struct Doc {
    anchors: BTreeSet<String>,
    /// (line, target) of every link and image.
    links: Vec<(usize, String)>,
}

fn read_doc(path: &Path) -> Doc {
    let text = std::fs::read_to_string(path).expect("read markdown");
    let arena = Arena::new();
    let ast = parse_document(&arena, &text, &options());
    let mut anchors = BTreeSet::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut links = Vec::new();
    for node in ast.descendants() {
        let line = node.data.borrow().sourcepos.start.line;
        match &node.data.borrow().value {
            NodeValue::Heading(_) => {
                let base = slug(&text_of(node));
                let n = seen.entry(base.clone()).or_insert(0);
                anchors.insert(if *n == 0 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                });
                *n += 1;
            }
            NodeValue::Link(l) | NodeValue::Image(l) => links.push((line, l.url.clone())),
            _ => {}
        }
    }
    Doc { anchors, links }
}

#[test]
fn every_relative_link_in_readme_and_docs_resolves() {
    let files = markdown_files();
    assert!(files.len() >= 5, "README and docs/: {files:?}");
    let mut docs: HashMap<PathBuf, Doc> = HashMap::new();
    for f in &files {
        docs.insert(f.clone(), read_doc(f));
    }
    let mut broken = Vec::new();
    let mut checked = 0;
    for f in &files {
        for (line, target) in &docs[f].links {
            let external = target.contains("://") || target.starts_with("mailto:");
            if external || target.is_empty() {
                continue;
            }
            checked += 1;
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let dest = if file.is_empty() {
                f.clone()
            } else {
                f.parent().expect("a folder").join(file)
            };
            let rel = f.strip_prefix(root()).unwrap_or(f).display().to_string();
            if !dest.exists() {
                broken.push(format!("{rel}:{line}: {target}: no such file"));
                continue;
            }
            if anchor.is_empty() {
                continue;
            }
            let dest = dest.canonicalize().expect("canonical path");
            let anchors = match docs
                .iter()
                .find(|(p, _)| p.canonicalize().ok() == Some(dest.clone()))
            {
                Some((_, d)) => d.anchors.clone(),
                None if dest.extension().is_some_and(|x| x == "md") => read_doc(&dest).anchors,
                None => {
                    broken.push(format!(
                        "{rel}:{line}: {target}: an anchor in a file that is not markdown"
                    ));
                    continue;
                }
            };
            if !anchors.contains(anchor) {
                broken.push(format!(
                    "{rel}:{line}: {target}: no heading #{anchor} there"
                ));
            }
        }
    }
    assert!(checked > 20, "only {checked} relative links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn link_check_finds_a_broken_anchor_and_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a.md");
    std::fs::write(
        &p,
        "# Top Heading\n\n## Top Heading\n\nSee [x](#top-heading-1), [y](missing.md), `[z](nope.md)`.\n\n```\n[w](nope2.md)\n```\n",
    )
    .expect("write");
    let d = read_doc(&p);
    assert!(d.anchors.contains("top-heading") && d.anchors.contains("top-heading-1"));
    let targets: Vec<&str> = d.links.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(targets, vec!["#top-heading-1", "missing.md"]);
    assert_eq!(
        slug("`wt run`: the executor (v2)"),
        "wt-run-the-executor-v2"
    );
}

#[test]
fn readme_is_short() {
    let n = std::fs::metadata(root().join("README.md"))
        .expect("README.md")
        .len();
    assert!(
        n <= 15_000,
        "README.md is {n} bytes; the rest belongs in docs/"
    );
}
