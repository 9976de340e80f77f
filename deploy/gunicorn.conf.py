"""gunicorn settings for OFeli (deploy/ofeli-web.service): `gunicorn -c deploy/gunicorn.conf.py ofeli.wsgi`.

Threads, not more processes: a request mostly waits on PostgreSQL. 2 × cores workers of 4 threads each is the
starting point; measure with bench/load/run before changing it. Every value can be overridden with
GUNICORN_CMD_ARGS (e.g. "--workers 8").
"""

import multiprocessing
import os

# Behind the reverse proxy on the same machine (or the systemd socket, deploy/ofeli-web.socket).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# Longer than the slowest legitimate request (a synchronous export of OFELI_EXPORT_SYNC_MAX formations).
timeout = 120
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (bounded memory growth), staggered so they do not all restart.
max_requests = 2000
max_requests_jitter = 200
# The proxy sets X-Forwarded-For/Proto; only trust it from loopback (set FORWARDED_ALLOW_IPS for a remote proxy).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# One line per request is written by OFeli itself (ofeli.request, with the request id): no gunicorn access log.
accesslog = None
errorlog = "-"
loglevel = "warning"
# Load the app before forking: faster restarts, shared memory; a broken release fails before the old one stops.
preload_app = True
