"""gunicorn settings for the web service (docker-compose, Procfile)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "2"))
timeout = 30
graceful_timeout = 30
accesslog = "-"
# The access log masks the OAuth callback's `code` and `state` query parameters.
logger_class = "thetavue_site.gunicorn_logging.MaskingLogger"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Bound request line and header sizes; bodies are bounded by Django (413).
limit_request_line = 8190
limit_request_fields = 100
