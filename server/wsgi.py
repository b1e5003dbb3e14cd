"""Web tier: running the app under gunicorn, in-process, for ``mkg serve``.

Production deployments may equally run ``gunicorn 'server.app:create_app()'``; this module only
lets the ``mkg`` command start the same server with its options.

May import: gunicorn, ``app``.
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from .app import create_app

__all__ = ["run_gunicorn"]


class _Server(BaseApplication):
    def __init__(self, overrides: dict, options: dict):
        self.overrides, self.options = overrides, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app(self.overrides)


def run_gunicorn(overrides: dict, *, bind: str, workers: int = 1, threads: int = 8) -> None:
    """Serve the publisher with gunicorn until interrupted."""
    _Server(overrides, {"bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
                        "accesslog": None, "timeout": 60, "graceful_timeout": 10}).run()
