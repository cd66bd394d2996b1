"""gunicorn settings for the Django contender, from bakeoff's environment.

WORKER_CLASS selects the worker model: `gthread` (default) or `sync` (the
`python-django@sync` variant, this contender's configuration before threads).
"""

import multiprocessing
import os
import time

bind = f"127.0.0.1:{os.environ['PORT']}"
# gunicorn's documented starting point: (2 x cores) + 1 workers, where
# BAKEOFF_WORKERS is the number of cores given to the app.
workers = 2 * int(os.environ.get("BAKEOFF_WORKERS", "1")) + 1
worker_class = os.environ.get("WORKER_CLASS", "gthread")
if worker_class == "gthread":
    # gunicorn recommends threaded (or async) workers for apps that call other
    # services; 4 threads a worker as TechEmpower's Django (gunicorn_conf.py),
    # in gunicorn's documented 2-4 x cores range. Keep-alive is served only by
    # non-sync workers; 5 s, as uvicorn's and Node's defaults.
    threads = 4
    keepalive = 5
elif worker_class != "sync":
    raise SystemExit(f"WORKER_CLASS={worker_class!r}: expected 'gthread' (default) or 'sync'")
# Load the app (and the dataset, when there is one) once in the master, then
# fork: /health then means every worker has the data, shared copy-on-write.
preload_app = True
# gunicorn >= 25.1 opens a control socket in $XDG_RUNTIME_DIR or ~/.gunicorn by
# default: a path shared by every gunicorn of the user, and unused here.
control_socket_disable = True
accesslog = None  # no access log, as in most production deployments
errorlog = "-"


# /health turns 200 only once every worker serves (docs/contract.md), as the
# Node contenders' cluster primary: the master binds the socket before it forks
# the workers, 0-0.1 s apart, so the first worker up would otherwise answer the
# health check alone and start-up and idle memory would read short. Each worker
# counts itself in once its app is loaded and waits for the rest before it
# accepts; a worker forked later (a replacement) finds the event set.
# (The fork context, as gunicorn forks: no resource tracker process.)
_fork = multiprocessing.get_context("fork")
_booted = _fork.Value("i", 0)
_all_booted = _fork.Event()
BOOT_WAIT_S = 20.0  # then serve anyway, under the manifest's start timeout


def post_worker_init(worker):
    with _booted.get_lock():
        _booted.value += 1
        if _booted.value >= workers:
            _all_booted.set()
    deadline = time.monotonic() + BOOT_WAIT_S
    while not _all_booted.wait(0.05):
        if not worker.alive:
            return
        if time.monotonic() > deadline:
            worker.log.warning("not every worker started within %.0f s; serving anyway", BOOT_WAIT_S)
            return
