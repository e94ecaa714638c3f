#!/usr/bin/env bash
# `wt run` with the REAL Claude Code and Codex CLIs (issue 14, "The real thing"), in a
# throwaway repository with one ticket per agent, with no login and no network on purpose
# (a temporary HOME, so no saved login is used and nothing is billed):
#   - the built-in `claude` profile must end its iteration with Claude's own result,
#     "Not logged in · Please run /login", as the reason;
#   - Codex offline retries forever while printing, so only the wall timer (set to 20s here)
#     can end it, and nothing it started may be left running afterwards.
#
# Needs the npm packages (anywhere outside this repository) and a built wt:
#   mkdir -p /tmp/agents && cd /tmp/agents \
#     && npm install @anthropic-ai/claude-code@2.1.328 @openai/codex@0.169.0
#   cargo build && scripts/real-agents.sh /tmp/agents/node_modules/.bin
# Without an argument `claude` and `codex` come from PATH. WT=path/to/wt uses another build.
# Exit 0 when all three checks hold, 1 otherwise.
set -uo pipefail
WT=${WT:-$(cd "$(dirname "$0")/.." && pwd)/target/debug/wt}
[ -x "$WT" ] || { echo "no wt at $WT (cargo build, or set WT=...)" >&2; exit 2; }
if [ $# -ge 1 ]; then
  BIN=$(cd "$1" && pwd) || exit 2
  export PATH="$BIN:$PATH"
fi
for tool in claude codex; do
  command -v "$tool" >/dev/null || { echo "no $tool on PATH (see the header of $0)" >&2; exit 2; }
done
echo "claude: $(claude --version 2>/dev/null)   codex: $(codex --version 2>/dev/null)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp/home" && mkdir -p "$HOME"
unset ANTHROPIC_API_KEY OPENAI_API_KEY CODEX_API_KEY
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 WT_AGENT=real-agents
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com
export GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com
cd "$tmp" && git init -q -b main repo && cd repo || exit 2
echo "# real agents" > README.md && git add README.md && git commit -qm initial
"$WT" init >/dev/null || exit 2
# The built-in profiles, adjusted only in their timers (a profile named like a built-in
# without `cmd` keeps the built-in's command, prompt and parser).
cat >> .work/config.yaml <<'EOF'
agents:
  claude:
    timeouts: {wall: 2m, idle: 1m, after_result: 10s}
  codex:
    timeouts: {wall: 20s, idle: 5m, after_result: 10s}
run:
  max_iterations: 1
EOF
git commit -qm "agents: short timers" -- .work/config.yaml

ok=0
fail() { echo "FAIL: $*"; ok=1; }

# Processes (other than this script) whose working directory is inside the throwaway repo or
# its worktrees: agents left behind.
leftovers() {
  local p cwd
  for p in /proc/[0-9]*; do
    cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
    case "$cwd" in "$tmp"*) [ "${p#/proc/}" != "$$" ] && echo "${p#/proc/} $(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)";; esac
  done
}

run_agent() { # name -> events in $tmp/<name>.jsonl, seconds in $secs
  local name=$1 id start
  id=$("$WT" new job "Say hello ($name)") || { fail "wt new"; return; }
  echo
  echo "== wt run --agent $name ($id)"
  start=$(date +%s)
  "$WT" run --agent "$name" --max-iterations 1 --json > "$tmp/$name.jsonl" 2> "$tmp/$name.err"
  echo "[exit $?]"
  if [ -s "$tmp/$name.err" ]; then echo "-- stderr (tail):"; tail -5 "$tmp/$name.err"; fi
  secs=$(( $(date +%s) - start ))
  echo "elapsed: ${secs}s"
  echo "-- iteration events:"
  grep -E '"(event|type|kind)" *: *"iteration' "$tmp/$name.jsonl" || {
    echo "(no iteration event found; all of stdout and stderr:)"
    cat "$tmp/$name.jsonl" "$tmp/$name.err"
  }
}

run_agent claude
grep -q 'Not logged in' "$tmp/claude.jsonl" \
  || fail "claude's iteration does not report its 'Not logged in' result"

run_agent codex
grep -qiE 'wall' "$tmp/codex.jsonl" || fail "codex's iteration was not ended by the wall timer"
[ "$secs" -ge 20 ] && [ "$secs" -le 60 ] || fail "codex run took ${secs}s (wall timer 20s)"

sleep 1
cd / || exit 2   # so this script's own processes are not counted
left=$(leftovers | grep -v "^$$ ")
if [ -n "$left" ]; then fail "processes left running:"; echo "$left"; else echo; echo "left running: nothing"; fi

logs="$tmp/repo/.git/wt/run/logs"
echo "logs: $logs"
for f in "$logs"/*/1.log "$logs"/*/1.stderr; do [ -f "$f" ] && { echo "--- $f"; tail -c 600 "$f"; echo; }; done
[ $ok -eq 0 ] && echo "OK" || echo "FAILED"
exit $ok
