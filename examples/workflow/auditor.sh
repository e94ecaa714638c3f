#!/usr/bin/env bash
# A fake auditor agent. Usage: auditor.sh AGENT
#
# Claims the next job waiting for review (never one it implemented), checks the files, and
# passes it or fails it with an amendment for the next attempt. Prints the verdict.
set -euo pipefail
WT=${WT:-wt}
agent=$1
job=$("$WT" claim --next --review --agent "$agent" | awk 'NR == 1 {print $2}')
title=$("$WT" show "$job" | sed -n 's/^title: //p' | head -n 1)
amend=""
case "$title" in
  Schema)
    grep -q 'lower(email)' src/db/schema.sql ||
      amend="The unique index is on email; it must be on lower(email), so that A@x.org and a@x.org cannot both sign up." ;;
  "Import legacy users")
    grep -q -- '--dry-run' tools/import.py ||
      amend="tools/import.py has no --dry-run mode: it must print what it would change and change nothing." ;;
esac
if [ -z "$amend" ]; then
  "$WT" pass "$job" --agent "$agent" -m "checked the files against the job" >/dev/null
  echo "pass $job $title"
else
  "$WT" fail "$job" --agent "$agent" -m "$amend" >/dev/null
  echo "fail $job $title"
fi
