# Shared by the bench scripts: a one-worker nginx answering "Hello, World!" on
# 127.0.0.1:PORT, the server of known behaviour the generators are measured on.
# Source it after lib/common.sh, then: nginx_start WORK PORT [CPU] (stopped at
# exit), or nginx_config WORK PORT to start it yourself; stop_group PID stops a
# process group.

nginx_pid=""

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
    nginx_work=$work
    on_exit nginx_stop
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

# At exit: stop nginx, also when it started before nginx_start read its pid.
nginx_stop() {
    if [[ -z "$nginx_pid" && -s "$nginx_work/nginx.pid" ]]; then nginx_pid=$(cat "$nginx_work/nginx.pid"); fi
    stop_group "$nginx_pid"
}

# Stop a process group (TERM, up to 5 s, then KILL).
stop_group() { # pid
    local pid=$1
    [[ -n "$pid" ]] || return 0
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
}
