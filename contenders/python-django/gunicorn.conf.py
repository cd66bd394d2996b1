"""gunicorn settings for the Django contender, from bakeoff's environment.

WORKER_CLASS selects the worker model: `gthread` (default) or `sync` (the
`python-django@sync` variant, this contender's configuration before threads).
"""

import os

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
