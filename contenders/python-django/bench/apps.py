from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "bench"

    def ready(self):
        # Read the sales dataset at start-up (before gunicorn forks, as
        # preload_app is on), not on the first /data request; and only when
        # this launch has one, so other workloads never import pandas.
        from django.conf import settings

        if settings.BAKEOFF_DATA:
            from . import sales  # noqa: F401
