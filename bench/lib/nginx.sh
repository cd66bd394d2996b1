# Shared by the bench scripts: a one-worker nginx answering "Hello, World!" on
# 127.0.0.1:PORT, the server of known behaviour the generators are measured on.
# Source it, then: nginx_config WORK PORT; nginx_start WORK PORT [CPU]; and in
# the EXIT trap: stop_group PID.

# The config (and its temp dirs) under WORK.
nginx_config() { # work port
    local work=$1 port=$2
    mkdir -p "$work"/{body,proxy,fastcgi,uwsgi,scgi}
    cat >"$work/nginx.conf" <<CONF
$([[ $(id -u) == 0 ]] && echo "user root;")
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    server {
        listen 127.0.0.1:$port;
        location / { default_type text/plain; return 200 "Hello, World!"; }
    }
}
CONF
}

# Start nginx in its own session (pinned to CPU when given), wait until it
# answers, and set nginx_pid: its master's pid, which is its process group.
# setsid may fork, so the pid comes from nginx's own pid file.
nginx_start() { # work port [cpu]
    local work=$1 port=$2 cpu=${3:-}
    nginx_config "$work" "$port"
    if [[ -n "$cpu" ]]; then
        setsid taskset -c "$cpu" nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.out" 2>&1 &
    else
        setsid nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.out" 2>&1 &
    fi
    for i in $(seq 101); do
        if [[ -s "$work/nginx.pid" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            nginx_pid=$(cat "$work/nginx.pid")
            return 0
        fi
        if [[ $i == 101 ]]; then
            echo "error: nginx did not start on 127.0.0.1:$port (is the port taken? set PORT=...):" >&2
            cat "$work/nginx.out" "$work/error.log" >&2 2>/dev/null
            exit 1
        fi
        sleep 0.1
    done
}

# Stop a process group (TERM, up to 5 s, then KILL).
stop_group() { # pid
    local pid=$1
    [[ -n "$pid" ]] || return 0
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
}
