# Shared by the bench scripts: the repository root, a work directory that goes
# at exit, and the tool checks. Source it first, then:
#   bench_work NAME   work=/tmp/bakeoff-NAME.XXXXXX; at exit (or INT/TERM, exit
#                     130) the functions given to on_exit run, then it is removed
#   on_exit FUNC      run FUNC at exit, before the work directory goes
#   require TOOL...   exit 2 naming the first tool missing from PATH

# The repository root (this file is bench/lib/common.sh).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

exit_hooks=()

on_exit() { # func
    exit_hooks+=("$1")
}

bench_exit() {
    local hook
    for hook in "${exit_hooks[@]}"; do "$hook"; done
    rm -rf "$work"
}

bench_work() { # name
    work=$(mktemp -d "/tmp/bakeoff-$1.XXXXXX")
    trap bench_exit EXIT
    trap 'exit 130' INT TERM
}

require() { # tool...
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 2; }
    done
}
