# Shared by the bench scripts: one launch of a contender by `bakeoff serve`,
# as `bakeoff run` starts it. Source it, then:
#   serve_start BIN CONTENDER URL_FILE LOG_FILE [SERVE_ARGS...]
# starts it in the background (its pid in serve_pid) and waits up to 120 s
# for the URL it prints; exits 1 with its log if it ends or never serves
# (stopping it first).

serve_pid=""

serve_start() { # bin contender url_file log_file [args...]
    local bin=$1 contender=$2 url_file=$3 log=$4
    shift 4
    "$bin" serve "$contender" "$@" >"$url_file" 2>"$log" &
    serve_pid=$!
    for _ in $(seq 1 1200); do
        [[ -s "$url_file" ]] && return 0
        kill -0 "$serve_pid" 2>/dev/null || { echo "bakeoff serve $contender ended:" >&2; cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    kill -INT "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null || true
    echo "$contender never served in 120 s:" >&2
    cat "$log" >&2
    exit 1
}
