#!/usr/bin/env bash
# Runs every command in README.md as written, in order, in a clean clone of the committed tree (HEAD), the way a
# new user would meet them; fails at the first one that does not exit 0. Run from anywhere. Most of its time is
# building, publishing and the PyTorch comparison: 19 minutes on this project's two cores at a load average of 38,
# a few minutes on idle ones.
#
# Which lines are commands: every line of a ```sh block (a `\` at the end joins the next line; a ` #` starts the
# reader's note and is dropped), and every `code span` in a table row that starts with `smnist `, `dotnet `,
# `/usr/bin/python3 `, `tools/` or `out/` (the results table's reproduce column). A command named in prose is not
# run; put it in a block or a table if it should be.
#
# What the check sets around the commands (their text is not changed):
# - SMNIST_DATA points to tests/Smnist.Tests/Fixtures/mnist, the committed subset of MNIST (2,000 training and
#   1,000 test images), so nothing is downloaded and a full `smnist train` takes seconds; accuracies differ from
#   the README's, which are on the full set.
# - `dotnet tool install --global` installs into a temporary home (DOTNET_CLI_HOME), whose tools folder is put on
#   PATH, and restores the tool from a package cache of its own, so that an smnist of the same version installed
#   earlier cannot stand in for this one. Other restores use the usual package cache.
# - A `serve` command runs until GET /healthz and /api/model answer on port 8000, then gets SIGINT (Ctrl+C) and
#   must stop cleanly (exit 0 or 130).
#
# Commands too long for CI, run with a limit (the only changes to a command's text):
# - `smnist train` with `--recipe pixels` or `--recipe permuted` (784-step views, one to two hours): `--max-steps 4
#   --limit-test 64` appended, which stops it after four steps, and a `--validation N` held out of the full
#   60,000 images becomes `--validation 200`, a tenth of the subset; everything else about the run (folder,
#   files) is as written.
# - `tools/compare_speed.py`: `--rounds 1 --steps 20 --data-dir $SMNIST_DATA`. It needs PyTorch
#   (apt-get install python3-torch libopenblas0-pthread); without it the command is reported as not run, by name.
#
# Usage: tools/check-readme-commands.sh [--list]   (--list prints the commands as they would run, and runs nothing)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

commit=$(git -C "$repo" rev-parse HEAD)
if ! git -C "$repo" diff --quiet HEAD -- README.md; then
    echo "check-readme-commands: README.md has uncommitted changes; this checks the committed one ($commit)" >&2
fi

# The commands, one a line, in the README's order.
extract() {
    awk '
        function emit(text) { sub(/[ \t]+#.*$/, "", text); sub(/^[ \t]+/, "", text); if (text != "") print text }
        /^```/ {
            if (fence) { fence = 0; sh = 0 } else { fence = 1; sh = ($0 ~ /^```(sh|bash)[ \t]*$/) }
            next
        }
        fence && sh {
            line = pending $0
            if (line ~ /\\$/) { pending = substr(line, 1, length(line) - 1) " "; next }
            pending = ""
            emit(line)
            next
        }
        !fence && /^\|/ {
            rest = $0
            while (match(rest, /`[^`]+`/)) {
                span = substr(rest, RSTART + 1, RLENGTH - 2)
                rest = substr(rest, RSTART + RLENGTH)
                if (span ~ /^(smnist |dotnet |\/usr\/bin\/python3 |tools\/|out\/)/) print span
            }
        }
    '
}
mapfile -t commands < <(git -C "$repo" show "$commit:README.md" | extract)
[ "${#commands[@]}" -gt 0 ] || { echo "check-readme-commands: no commands found in README.md" >&2; exit 1; }

# A command as the check runs it: with the limit of one too long for CI (see above), else as written.
as_run() {
    case "$1" in
        *"smnist train"*"--recipe pixels"* | *"smnist train"*"--recipe permuted"* | *"-- train"*"--recipe pixels"* | *"-- train"*"--recipe permuted"*)
            echo "$(sed -E 's/--validation [0-9]+/--validation 200/' <<<"$1") --max-steps 4 --limit-test 64" ;;
        *tools/compare_speed.py*)
            echo "$1 --rounds 1 --steps 20 --data-dir \$SMNIST_DATA" ;;
        *)
            echo "$1" ;;
    esac
}

if [ "${1:-}" = --list ]; then
    for command in "${commands[@]}"; do as_run "$command"; done
    exit 0
fi

git clone --quiet "$repo" "$work/clone"
git -C "$work/clone" checkout --quiet --detach "$commit"
cd "$work/clone"

packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
export NUGET_PACKAGES="$packages" DOTNET_CLI_HOME="$work/home" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export SMNIST_DATA="$work/clone/tests/Smnist.Tests/Fixtures/mnist"
export PATH="$work/home/.dotnet/tools:$PATH"

serve_and_stop() {
    local command=$1 log=$2
    # With job control on, the server gets a process group of its own and keeps SIGINT (a background job of a
    # script without job control starts with SIGINT ignored, and .NET leaves it so).
    set -m
    bash -c "$command" >"$log" 2>&1 </dev/null &
    server_pid=$!
    set +m
    local answered=""
    for _ in $(seq 1 120); do
        if curl -fsS http://127.0.0.1:8000/healthz >/dev/null 2>&1 && curl -fsS http://127.0.0.1:8000/api/model >/dev/null; then
            answered=yes
            break
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 1
    done
    # SIGINT to the whole group: `dotnet run` and the smnist it started.
    kill -INT -- "-$server_pid" 2>/dev/null || true
    local exit=0
    wait "$server_pid" || exit=$?
    server_pid=""
    [ -n "$answered" ] || { echo "the server did not answer /healthz and /api/model on port 8000"; return 1; }
    # A clean stop: 0, or 130 (128 + SIGINT); `dotnet run` passes the server's exit code on.
    [ "$exit" -eq 0 ] || [ "$exit" -eq 130 ] || { echo "the server exited $exit after SIGINT"; return 1; }
}

ran=0 limited=0 skipped=()
for i in "${!commands[@]}"; do
    command=${commands[$i]}
    if [[ $command == *tools/compare_speed.py* ]] && ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
        echo "[$((i + 1))/${#commands[@]}] not run (needs PyTorch): $command"
        skipped+=("$command")
        continue
    fi
    run=$(as_run "$command")   # bash -c expands the $SMNIST_DATA of a limit
    [ "$run" = "$command" ] || limited=$((limited + 1))
    echo "[$((i + 1))/${#commands[@]}] $run"
    log="$work/command-$i.log"
    start=$SECONDS
    case "$command" in
        *"smnist serve"* | *"-- serve"*) status=0; serve_and_stop "$run" "$log" >>"$log" || status=$? ;;
        "dotnet tool install"*) status=0; NUGET_PACKAGES="$work/tool-packages" bash -c "$run" >"$log" 2>&1 </dev/null || status=$? ;;
        *) status=0; bash -c "$run" >"$log" 2>&1 </dev/null || status=$? ;;
    esac
    if [ "$status" -ne 0 ]; then
        echo "check-readme-commands: failed (exit $status): $run" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
    ran=$((ran + 1))
    echo "    ok, $((SECONDS - start)) s"
done

echo "check-readme-commands: ${ran} of ${#commands[@]} README commands ran and exited 0 (${limited} with a limit); not run: ${#skipped[@]}"
