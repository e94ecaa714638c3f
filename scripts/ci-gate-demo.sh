#!/usr/bin/env bash
# The CI gate's "must show", in a throwaway repository: with a failing `ci: test`, `git commit`
# of code fails and `wt done` refuses; after fixing the command both succeed, and the done
# commit names the tree that was green.
#
#   cargo build && scripts/ci-gate-demo.sh        (WT=path/to/wt to use another build)
set -uo pipefail
WT=${WT:-$(cd "$(dirname "$0")/.." && pwd)/target/debug/wt}
[ -x "$WT" ] || { echo "no wt at $WT (cargo build, or set WT=...)" >&2; exit 2; }
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 WT_AGENT=agent-1
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com
export GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" && git init -q -b main repo && cd repo
echo "# demo" > README.md && git add README.md && git commit -qm initial
run() { echo; echo "\$ $*"; "$@"; echo "[exit $?]"; }

run "$WT" init
sed -i 's/^ci: {}$/ci:\n  test: "echo running tests; echo FAIL: expected 2, got 1; exit 1"/' .work/config.yaml
run git commit -q -m "ci: a test command that fails" -- .work/config.yaml
ID=$("$WT" new job "Add main")
run "$WT" claim "$ID"
echo 'fn main() {}' > main.rs && git add main.rs
run git commit -m "add main"
run "$WT" done "$ID"
sed -i 's/^  test: .*/  test: "echo running tests; echo 1 passed"/' .work/config.yaml
run git commit -q -m "ci: fix the test command" -- .work/config.yaml
run git commit -m "add main"
run "$WT" done "$ID"
run git log -1 --format=%B
TREE=$(git log -1 --format=%B | sed -n 's/^Wt-CI-Tree: //p')
run git ls-tree "$TREE"
