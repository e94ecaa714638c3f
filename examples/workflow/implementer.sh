#!/usr/bin/env bash
# A fake implementer agent. Usage: implementer.sh JOB-ID AGENT  (the job is already claimed)
#
# Like a real one it starts from nothing but `wt context`, does the job's tasks, writes the
# job's files, logs progress and hands the job in. It is sloppy on a first attempt at the
# schema and only gets the index right when an amendment tells it to; it never gets the
# import tool right.
set -euo pipefail
WT=${WT:-wt}
job=$1 agent=$2
mkdir -p .agents
ctx=.agents/$job.md
"$WT" context "$job" --out "$ctx" >/dev/null
attempt=$(grep -o 'attempt [0-9]*' "$ctx" | head -n 1 | cut -d' ' -f2)
cp "$ctx" ".agents/$job-attempt$attempt.md"
title=$(sed -n 's/^# [^ ]* //p' "$ctx" | head -n 1)
amendments=$(sed -n '/^#* *Amendments$/,/^## /p' "$ctx")

# The job's tasks: claim each open one, do it, finish it.
for task in $("$WT" list --parent "$job" --kind task --status open | awk '{print $1}'); do
  "$WT" claim "$task" --agent "$agent" >/dev/null
  "$WT" done "$task" --agent "$agent" >/dev/null
done

case "$title" in
  Schema)
    mkdir -p src/db
    if grep -q 'lower(email)' <<<"$amendments"; then
      index='CREATE UNIQUE INDEX users_email ON users (lower(email));'
    else
      index='CREATE UNIQUE INDEX users_email ON users (email);'
    fi
    printf 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n%s\n' "$index" \
      >src/db/schema.sql
    file=src/db/schema.sql ;;
  "Config loader")
    mkdir -p src
    printf 'pub fn database_url() -> String { std::env::var("DATABASE_URL").unwrap_or_default() }\n' \
      >src/config.rs
    file=src/config.rs ;;
  *)
    mkdir -p tools
    printf 'import sys\n# copies every legacy user\n' >tools/import.py
    file=tools/import.py ;;
esac
"$WT" progress "$job" "Wrote $file" --files "$file" --agent "$agent" >/dev/null
"$WT" done "$job" --agent "$agent" >/dev/null
