"""Web tier: gunicorn settings for serving the publisher, used by ``mkg serve`` and production.

    gunicorn -c python:server.gunicorn_conf 'server.app:create_app()'

gunicorn's own request limits are lifted to the app's (``MAX_QUERY_LENGTH``, ``MAX_HEADER_BYTES``
in docs/limits.md), so that a client over a limit gets the app's clear error, not gunicorn's bare one.
"""

from server import config

_settings = config.load()

bind = "127.0.0.1:8080"
workers = 2
threads = 4
worker_class = "gthread"
timeout = 60
graceful_timeout = 10
# A GET URL carries the percent-encoded query (up to 3 bytes a character): no line limit here;
# the app answers 414 past MAX_QUERY_LENGTH.
limit_request_line = 0
limit_request_field_size = int(_settings["MAX_HEADER_BYTES"])
