#!/usr/bin/env bash
# Figures for the workflow verbs on a large generated plan. Prints timings; asserts only that
# the plan round-trips. Usage: bash benchmarks/workflow-scale.sh [PHASES JOBS_PER_PHASE TASKS_PER_JOB]
# Uses $WT (default: target/release/wt). Not part of `cargo test`.
set -euo pipefail
phases=${1:-20} jobs=${2:-25} tasks=${3:-4}
WT=${WT:-$(cd "$(dirname "$0")/.." && pwd)/target/release/wt}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
git init -q -b main && git config user.name bench && git config user.email bench@example.invalid
git commit -q --allow-empty -m initial
"$WT" init >/dev/null
{
  echo "# Generated plan"
  for p in $(seq 1 "$phases"); do
    printf '\n## Phase %d\n' "$p"
    [ "$p" -gt 1 ] && printf 'Depends on: Phase %d\n' $((p - 1))
    printf '\nWhat phase %d delivers, in a few sentences of prose.\n' "$p"
    for j in $(seq 1 "$jobs"); do
      printf '\n### Job %d.%d\nFiles: src/p%d/j%d/**\n' "$p" "$j" "$p" "$j"
      [ "$j" -gt 1 ] && printf 'Depends on: Job %d.%d\n' "$p" $((j - 1))
      printf '\nWhat job %d.%d does.\n\n' "$p" "$j"
      for t in $(seq 1 "$tasks"); do printf -- '- [ ] Task %d.%d.%d\n' "$p" "$j" "$t"; done
    done
  done
} >plan.md
n=$((phases + phases * jobs + phases * jobs * tasks))
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); printf '%-44s %6.2f s\n' "${*:2:3}" "$(echo "$e - $s" | bc)"; }
echo "plan: $phases phase-specs, $((phases * jobs)) jobs, $((phases * jobs * tasks)) tasks = $n tickets, $(wc -c <plan.md) bytes"
t "$WT" plan import plan.md --dry-run
t "$WT" plan import plan.md --agent bench
t "$WT" plan export --out back.md
cmp plan.md back.md && echo "round trip: identical"
job=$("$WT" list --kind job | head -n 1 | awk '{print $1}')
"$WT" approve "$job" >/dev/null 2>&1 || true
t "$WT" ready --parallel 8
t "$WT" graph --json
t "$WT" status
t "$WT" context "$job"
t "$WT" claim --next --batch 4 --agent-prefix impl
t "$WT" progress "$job" "a step" --agent impl-1
