"""gunicorn settings for the Django contender, from bakeoff's environment."""

import os

bind = f"127.0.0.1:{os.environ['PORT']}"
# gunicorn's documented starting point: (2 x cores) + 1 sync workers, where
# BAKEOFF_WORKERS is the number of cores given to the app.
workers = 2 * int(os.environ.get("BAKEOFF_WORKERS", "1")) + 1
worker_class = "sync"
# Load the app (and the dataset) once in the master, then fork: /health then
# means every worker has the data, and the DataFrame is shared copy-on-write.
preload_app = True
# gunicorn >= 25.1 opens a control socket in $XDG_RUNTIME_DIR or ~/.gunicorn by
# default: a path shared by every gunicorn of the user, and unused here.
control_socket_disable = True
accesslog = None  # no access log, as in most production deployments
errorlog = "-"
