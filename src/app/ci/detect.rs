//! The checks `wt init` proposes from the project it finds at the repository root:
//! `Cargo.toml` → cargo fmt / clippy / test; `package.json` → its type-check, lint, test and
//! build scripts, run with the package manager its lock file names.

use std::path::Path;

use super::Check;

/// What `wt init` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Detected {
    /// The file that gave it away (`Cargo.toml`, `package.json`).
    pub source: String,
    pub checks: Vec<Check>,
}

fn check(name: &str, command: impl Into<String>) -> Check {
    Check {
        name: name.to_string(),
        command: command.into(),
    }
}

/// Detect the project type in `root` (first match wins: Cargo, then npm).
pub fn detect(root: &Path) -> Option<Detected> {
    if root.join("Cargo.toml").is_file() {
        return Some(Detected {
            source: "Cargo.toml".into(),
            checks: vec![
                check("fmt", "cargo fmt --all -- --check"),
                check("lint", "cargo clippy --all-targets -- -D warnings"),
                check("test", "cargo test"),
            ],
        });
    }
    if let Ok(text) = std::fs::read_to_string(root.join("package.json")) {
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        let scripts = json.get("scripts").and_then(|s| s.as_object());
        let runner = if root.join("pnpm-lock.yaml").is_file() {
            "pnpm"
        } else if root.join("yarn.lock").is_file() {
            "yarn"
        } else if root.join("bun.lockb").is_file() || root.join("bun.lock").is_file() {
            "bun"
        } else {
            "npm"
        };
        let mut checks = Vec::new();
        // The seeds' shape: type_check, lint, test, build.
        for (name, candidates) in [
            (
                "type_check",
                &["type-check", "typecheck", "check-types", "tsc"][..],
            ),
            ("lint", &["lint"][..]),
            ("test", &["test"][..]),
            ("build", &["build"][..]),
        ] {
            let found = candidates.iter().find(|c| {
                scripts
                    .and_then(|s| s.get(**c))
                    .and_then(|v| v.as_str())
                    // npm init's placeholder test script always fails.
                    .is_some_and(|cmd| !cmd.contains("no test specified"))
            });
            if let Some(script) = found {
                let command = if runner == "npm" && *script == "test" {
                    "npm test".to_string()
                } else {
                    format!("{runner} run {script}")
                };
                checks.push(check(name, command));
            }
        }
        return Some(Detected {
            source: "package.json".into(),
            checks,
        });
    }
    None
}

/// The `ci:` section of a new config.yaml, with a comment saying where it came from.
pub fn config_section(detected: Option<&Detected>) -> String {
    let mut s = String::from(
        "\n# CI checks: name: shell command, run in this order from the repository root by\n\
         # `wt ci`, by `wt done` (which refuses on red) and by the pre-commit hook (which blocks\n\
         # the commit). Only this committed file decides what runs.\n",
    );
    match detected {
        Some(d) if !d.checks.is_empty() => {
            s.push_str(&format!(
                "# Proposed by `wt init` from {}.\nci:\n",
                d.source
            ));
            for c in &d.checks {
                // A JSON string is a valid YAML double-quoted scalar.
                let quoted = serde_json::to_string(&c.command).unwrap_or_default();
                s.push_str(&format!("  {}: {quoted}\n", c.name));
            }
        }
        Some(d) => {
            s.push_str(&format!(
                "# {} has none of the scripts wt looks for (type-check, lint, test, build).\n\
                 # Example:  test: \"npm test\"\nci: {{}}\n",
                d.source
            ));
        }
        None => {
            s.push_str("# Example:  test: \"make test\"\nci: {}\n");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::Config;

    #[test]
    fn proposed_section_parses_back_to_the_same_checks_in_order() {
        let d = Detected {
            source: "Cargo.toml".into(),
            checks: vec![
                check("fmt", "cargo fmt --all -- --check"),
                check("test", "echo \"a: b\" # not a comment"),
            ],
        };
        let text = format!("version: 1\n{}", config_section(Some(&d)));
        let cfg = Config::parse(&text).expect("parses");
        let got = crate::app::ci::checks_from(&cfg).expect("valid");
        assert_eq!(got, d.checks);
    }

    #[test]
    fn section_without_detection_means_no_checks() {
        let cfg = Config::parse(&config_section(None)).expect("parses");
        assert!(cfg.ci.is_empty());
    }
}
