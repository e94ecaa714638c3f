#!/usr/bin/env bash
# What the CI gate costs on top of the checks themselves. Prints figures; asserts nothing.
#
#   cargo build --release && scripts/ci-gate-bench.sh [FILES] [COMMITS]
#
# In a throwaway repository with FILES tracked files (default 20000) it measures:
#   - computing the working tree's code tree (`wt ci` with a green record to reuse);
#   - `wt ci` running one trivial check (`true`), i.e. tree + run + record;
#   - `git commit` of one changed file with wt's pre-commit hook vs --no-verify
#     (check `true`, so nearly all of the difference is wt's own work);
#   - `wt done` reusing a green result vs `wt done --no-ci`.
set -euo pipefail
FILES=${1:-20000}
COMMITS=${2:-10}
WT=${WT:-$(cd "$(dirname "$0")/.." && pwd)/target/release/wt}
[ -x "$WT" ] || { echo "no wt at $WT (cargo build --release, or set WT=...)" >&2; exit 2; }
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com WT_AGENT=bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
git init -q -b main repo && cd repo
for d in $(seq 1 $((FILES / 100))); do
  mkdir -p "src/d$d"
  for f in $(seq 1 100); do echo "file $d/$f" > "src/d$d/f$f.txt"; done
done
git add -A && git commit -qm "$FILES files"
"$WT" init >/dev/null
sed -i 's/^ci: {}$/ci:\n  test: "true"/' .work/config.yaml
git commit -qm "ci: true" -- .work/config.yaml

ms() { # run "$@" quietly, print elapsed milliseconds
  local s e
  s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
  echo $(((e - s) / 1000000))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "repository: $FILES tracked files, wt: $WT"
"$WT" ci -q >/dev/null 2>&1
reuse=$(for _ in $(seq 1 "$COMMITS"); do ms "$WT" ci -q; done | median)
echo "wt ci, green result reused (tree id of the working tree + record lookup): ${reuse} ms (median of $COMMITS)"
rerun=$(for _ in $(seq 1 "$COMMITS"); do ms "$WT" ci -q --rerun; done | median)
echo "wt ci --rerun with one check \`true\` (tree + run + record):                ${rerun} ms"

hook=$(for i in $(seq 1 "$COMMITS"); do
  echo "h$i" >> src/d1/f1.txt; git add src/d1/f1.txt; ms git commit -qm "hook $i"
done | median)
plain=$(for i in $(seq 1 "$COMMITS"); do
  echo "p$i" >> src/d1/f1.txt; git add src/d1/f1.txt; ms git commit -q --no-verify -m "plain $i"
done | median)
echo "git commit with wt's hook (check \`true\` runs each time): ${hook} ms; with --no-verify: ${plain} ms"

"$WT" ci -q >/dev/null 2>&1
done_reuse=$(for i in $(seq 1 "$COMMITS"); do
  id=$("$WT" new job "bench $i"); "$WT" claim "$id" >/dev/null
  ms "$WT" done "$id"
done | median)
done_skip=$(for i in $(seq 1 "$COMMITS"); do
  id=$("$WT" new job "skip $i"); "$WT" claim "$id" >/dev/null
  ms "$WT" done "$id" --no-ci --reason bench
done | median)
echo "wt done reusing a green result: ${done_reuse} ms; wt done --no-ci: ${done_skip} ms"
