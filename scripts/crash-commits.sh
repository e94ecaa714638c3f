#!/usr/bin/env bash
# Crash test (not part of `cargo test`): kill -9 wt at random moments during WRITES mixed writes
# (new, claim, release, done --no-ci, import), each followed by an ordinary `git commit -a` of
# unrelated code through wt's installed pre-commit hook; then `git fsck --strict` and a count of
# the tickets lost. Prints its figures; exits 1 when a ticket was lost or fsck failed.
#
#   cargo build --release && scripts/crash-commits.sh [WRITES]
#
#   WRITES        writes to make (default 1000)
#   WT            the wt binary (default $CARGO_TARGET_DIR/release/wt, else target/release/wt)
#   MAX_DELAY_MS  each write is killed after a random 0..MAX_DELAY_MS ms; a write that finished
#                 first is not killed (default: 3 times the slowest of 5 `wt new` timed first,
#                 so that kills land throughout a write however loaded the machine is)
#   SEED          seed for bash's $RANDOM (default: the time), printed for a rerun
#   KEEP=1        keep the throwaway repository and print its path
#
# When the hook refuses a commit (it would undo a wt write that was killed after its commit),
# the script does what the refusal says, `wt doctor --fix`, and commits again, as a user would.
# Lost tickets: the IDs in the `Wt-Ticket` trailers of the `new` and `import` commits on the
# state branch, less the tickets on the branch at the end (before any final repair).
set -uo pipefail
WRITES=${1:-1000}
SEED=${SEED:-$(date +%s)}
RANDOM=$SEED
here=$(cd "$(dirname "$0")/.." && pwd)
WT=${WT:-${CARGO_TARGET_DIR:-$here/target}/release/wt}
[ -x "$WT" ] || { echo "no wt at $WT (cargo build --release, or set WT=...)" >&2; exit 2; }
WT=$(cd "$(dirname "$WT")" && pwd)/$(basename "$WT")

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
export GIT_AUTHOR_NAME=crash GIT_AUTHOR_EMAIL=crash@example.com
export GIT_COMMITTER_NAME=crash GIT_COMMITTER_EMAIL=crash@example.com WT_AGENT=crash
# The hook runs `wt` from PATH.
export PATH="$(dirname "$WT"):$PATH"

tmp=$(mktemp -d)
if [ "${KEEP:-}" = 1 ]; then
  trap 'echo "kept: $tmp/repo"' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi
cd "$tmp"
git init -q -b main repo && cd repo
printf 'fn main() {}\n' > code.rs
git add code.rs && git commit -qm "code"
"$WT" init >/dev/null 2>&1 || { echo "wt init failed" >&2; exit 2; }
# A CI check, so the hook's checks really run on every code commit.
sed -i 's/^ci: {}$/ci:\n  test: "test -s code.rs"/' .work/config.yaml
git commit -q --no-verify -m "ci check" -- .work/config.yaml
[ -x "$(git rev-parse --git-path hooks)/pre-commit" ] || { echo "no hook installed" >&2; exit 2; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }
if [ -z "${MAX_DELAY_MS:-}" ]; then
  slowest=1
  for j in 1 2 3 4 5; do
    t0=$(now_ms)
    "$WT" new job "Timing $j" > /dev/null 2>&1
    t=$(($(now_ms) - t0))
    [ $t -gt $slowest ] && slowest=$t
  done
  MAX_DELAY_MS=$((3 * slowest))
fi

ms_sleep() { # sleep $1 milliseconds
  [ "$1" -gt 0 ] && sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
  return 0
}

claimed=()          # tickets a claim printed (release and done pick from them)
writes=0 ok=0 kills=0 failed=0
user_commits=0 refused=0 index_locked=0 commit_failures=0 repaired_by_commands=0
start=$(date +%s)
for i in $(seq 1 "$WRITES"); do
  r=$((RANDOM % 100))
  args=()
  if [ $r -lt 35 ]; then
    args=(new job "Crash $i")
  elif [ $r -lt 55 ]; then
    args=(claim --next)
  elif [ $r -lt 80 ] && [ ${#claimed[@]} -gt 0 ]; then
    k=$((RANDOM % ${#claimed[@]}))
    id=${claimed[$k]}
    claimed=("${claimed[@]:0:$k}" "${claimed[@]:$((k + 1))}")
    if [ $r -lt 65 ]; then
      args=(release "$id")
    else
      args=(done "$id" --no-ci --reason "crash test")
    fi
  else
    n=$((RANDOM % 20 + 1))
    plan="$tmp/plan.json"
    {
      printf '['
      for j in $(seq 1 $n); do
        [ $j -gt 1 ] && printf ','
        printf '{"key":"k%d","kind":"job","title":"Imported %d.%d"}' "$j" "$i" "$j"
      done
      printf ']'
    } > "$plan"
    args=(import "$plan")
  fi
  writes=$((writes + 1))
  "$WT" "${args[@]}" > "$tmp/out" 2> "$tmp/err" &
  pid=$!
  ms_sleep $((RANDOM % (MAX_DELAY_MS + 1)))
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  rc=$?
  case $rc in
    0) ok=$((ok + 1)) ;;
    137) kills=$((kills + 1)) ;;
    *) failed=$((failed + 1)) ;;
  esac
  if [ $rc -eq 0 ] && [ "${args[0]}" = claim ]; then
    id=$(grep -o '[A-Z]-[0-9a-z]\{8\}' "$tmp/out" | head -1)
    [ -n "$id" ] && claimed+=("$id")
  fi
  repaired_by_commands=$((repaired_by_commands + $(grep -c 'refreshed' "$tmp/err")))

  # Unrelated code, committed the ordinary way, through the hook.
  echo "// change $i" >> code.rs
  user_commits=$((user_commits + 1))
  if ! git commit -q -a -m "code $i" > "$tmp/cout" 2>&1; then
    # The hook refused (and names the fix), or git found an index.lock a killed wt left
    # (git's "Another git process seems to be running"): `wt doctor --fix` for both.
    if grep -q -e 'wt doctor --fix' -e 'index.lock' "$tmp/cout"; then
      if grep -q 'index.lock' "$tmp/cout"; then
        index_locked=$((index_locked + 1))
      else
        refused=$((refused + 1))
      fi
      "$WT" doctor --fix > /dev/null 2>&1
      git commit -q -a -m "code $i" > "$tmp/cout" 2>&1 || {
        commit_failures=$((commit_failures + 1))
        sed 's/^/  /' "$tmp/cout" >&2
      }
    else
      commit_failures=$((commit_failures + 1))
      sed 's/^/  /' "$tmp/cout" >&2
    fi
  fi
  if [ $((i % 100)) -eq 0 ]; then
    echo "... $i writes, $kills killed, $(($(date +%s) - start))s" >&2
  fi
done

# What wt committed, what the branch has.
git log -E --grep='^Wt-Verb: (new|import)$' --format=%B main \
  | sed -n 's/^Wt-Ticket: //p' | sort -u > "$tmp/committed"
git ls-tree -r --name-only main -- .work \
  | sed -n 's|^.*/\([A-Z]-[0-9a-z]\{8\}\)-[^/]*\.md$|\1|p' | sort -u > "$tmp/present"
lost=$(comm -23 "$tmp/committed" "$tmp/present" | wc -l)
# Commits that are not wt's and changed ticket files (the config commit above changes none).
user_ticket_commits=0
for c in $(git log --invert-grep --grep='^Wt-Verb: ' --format=%H main -- .work); do
  if git diff-tree --no-commit-id -r --name-only "$c" -- .work \
    | grep -v -e '^\.work/config\.yaml$' -e '^\.work/templates/' | grep -q .; then
    user_ticket_commits=$((user_ticket_commits + 1))
  fi
done
# git commit starts `git gc --auto` in the background now and then: fsck once it is done.
for _ in $(seq 1 600); do
  [ -e .git/gc.pid ] || break
  sleep 0.1
done
fsck_failures=0
git fsck --strict --no-dangling > "$tmp/fsck" 2>&1 || fsck_failures=1
grep -qiE 'error|fatal' "$tmp/fsck" && fsck_failures=1
[ $fsck_failures -eq 0 ] || sed 's/^/  fsck: /' "$tmp/fsck" >&2
doctor_out=$("$WT" doctor 2>&1)
doctor=$(echo "$doctor_out" | tail -1)
echo "$doctor_out" | grep -q '^ok:' || echo "$doctor_out" | sed 's/^/  doctor: /' >&2
"$WT" check > /dev/null 2>&1 && check=ok || check="problems (wt check)"

echo "seed: $SEED, wt: $WT, kill delay: 0..${MAX_DELAY_MS} ms, $(($(date +%s) - start))s"
echo "writes: $writes ($ok finished, $kills killed with SIGKILL, $failed refused or failed)"
echo "kills: $kills"
echo "user commits: $user_commits (failed: $commit_failures; made after \`wt doctor --fix\`: $refused refused by the hook first, $index_locked blocked by an index.lock a killed wt left)"
echo "interrupted writes finished by the next wt command: $repaired_by_commands; packs at the end (git gc --auto ran): $(ls .git/objects/pack/*.pack 2>/dev/null | wc -l)"
echo "user commits that changed ticket files: $user_ticket_commits"
echo "tickets committed by wt: $(wc -l < "$tmp/committed"), on the branch at the end: $(wc -l < "$tmp/present")"
echo "tickets lost: $lost"
echo "fsck failures: $fsck_failures"
echo "wt doctor: $doctor; wt check: $check"
if [ "$lost" -ne 0 ]; then
  echo "lost:" >&2
  comm -23 "$tmp/committed" "$tmp/present" | head -20 >&2
fi
[ "$lost" -eq 0 ] && [ "$fsck_failures" -eq 0 ]
