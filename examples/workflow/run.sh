#!/usr/bin/env bash
# The agent workflow on tickets, end to end, with fake agents (implementer.sh, auditor.sh):
# plan import with a gate → human approval → two implementers in parallel on jobs whose
# files do not overlap → audit: one job fails once and passes on its second attempt (the
# amendment is in its context bundle), another fails until it is escalated → a human
# reopens it. Prints each step and, at the end, the state branch's git log.
#
# Usage: bash examples/workflow/run.sh [DIR]   (DIR must not exist; default: a temp dir)
# Uses $WT as the wt binary (default: wt on PATH).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export WT=${WT:-wt}
dir=${1:-$(mktemp -d)/repo}
mkdir -p "$dir" && cd "$dir"
say() { printf '\n$ %s\n' "$*"; }
# Echo a command (quoting arguments that contain spaces), then run it.
run() {
  local shown=() a
  for a in "$@"; do [[ $a == *" "* ]] && shown+=("\"$a\"") || shown+=("$a"); done
  say "${shown[*]}"
  "$@"
}
wt() { "$WT" "$@"; }
id_of() { "$WT" list --kind "$1" | grep -E "  $2\$" | awk '{print $1}'; }

git init -q -b main
git config user.name "run.sh"
git config user.email "run@example.invalid"
echo "# sign-up" >README.md && git add README.md && git commit -q -m "initial"
echo ".agents/" >>.git/info/exclude

run wt init
say "(config: max_attempts 2 instead of 10, so that escalation comes quickly)"
sed -i.bak 's/^max_attempts: .*/max_attempts: 2/' .work/config.yaml && rm .work/config.yaml.bak
git commit -q -am "config: max_attempts 2" && echo "committed .work/config.yaml"

cp "$here/plan.md" plan.md
run wt plan import plan.md --agent planner
p1=$(id_of phase-spec "Phase 1: Storage")
schema=$(id_of job Schema) config=$(id_of job "Config loader") import=$(id_of job "Import legacy users")

run wt ready
run wt blocked --kind job
run wt approve "$p1" --agent alice
run wt ready --parallel 3
run wt claim --next --batch 2 --agent-prefix impl

say "implementer.sh $schema impl-1 & implementer.sh $config impl-2 & wait   (in parallel)"
bash "$here/implementer.sh" "$schema" impl-1 & first=$!
bash "$here/implementer.sh" "$config" impl-2 & second=$!
wait "$first" && wait "$second"
run wt ready --review
say "wt claim $schema --agent impl-1   (an implementer may not audit its own job)"
if wt claim "$schema" --agent impl-1; then echo "impl-1 audited its own work" >&2; exit 1; fi

say "auditor.sh auditor-1   (twice)"
bash "$here/auditor.sh" auditor-1
bash "$here/auditor.sh" auditor-1

run wt claim --next --agent impl-1
say "implementer.sh $schema impl-1   (second attempt: the amendment is in its context bundle)"
bash "$here/implementer.sh" "$schema" impl-1
grep -A 4 '^#### Amendment 1' ".agents/$schema-attempt2.md"
head -n 1 ".agents/$schema-attempt2.md"
say "auditor.sh auditor-1"
bash "$here/auditor.sh" auditor-1

for attempt in 1 2; do
  run wt claim --next --agent impl-3
  say "implementer.sh $import impl-3 && auditor.sh auditor-1   (attempt $attempt)"
  bash "$here/implementer.sh" "$import" impl-3
  bash "$here/auditor.sh" auditor-1
done
run wt list --status escalated
run wt status
run wt reopen "$import" --agent alice -m "Do the --dry-run mode first; see amendment 2."
run wt ready
run wt graph

say "git log --format=%s main"
git log --format=%s main
