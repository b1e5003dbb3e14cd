"""Web tier: running the app under gunicorn, in-process, for ``mkg serve``.

It uses the settings of :mod:`server.gunicorn_conf` (also the production config), with the
command's bind address, workers and threads.

May import: gunicorn, ``app``, ``gunicorn_conf``.
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from . import gunicorn_conf
from .app import create_app

__all__ = ["gunicorn_options", "run_gunicorn"]

_SETTINGS = ("worker_class", "timeout", "graceful_timeout", "limit_request_line", "limit_request_field_size")


class _Server(BaseApplication):
    def __init__(self, overrides: dict, options: dict):
        self.overrides, self.options = overrides, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app(self.overrides)


def gunicorn_options(*, bind: str, workers: int, threads: int) -> dict:
    """The gunicorn settings of ``mkg serve``."""
    options = {name: getattr(gunicorn_conf, name) for name in _SETTINGS}
    return {**options, "bind": bind, "workers": workers, "threads": threads, "accesslog": None}


def run_gunicorn(overrides: dict, *, bind: str, workers: int = 1, threads: int = 8) -> None:
    """Serve the publisher with gunicorn until interrupted."""
    _Server(overrides, gunicorn_options(bind=bind, workers=workers, threads=threads)).run()
