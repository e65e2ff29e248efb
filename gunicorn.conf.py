"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py` (or `make serve`).

A sign-in costs one argon2id hash (64 MiB, 4 lanes: about 180 ms of CPU, 120 ms wall on 2 cores), so one
worker per core is right; more workers or threads only queue hashes, and each hash at once holds 64 MiB
(workers x threads x 64 MiB at worst). Configuration of Portal itself comes from PORTAL_*."""
import multiprocessing
import os

wsgi_app = "wsgi:app"
bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PORTAL_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("PORTAL_THREADS", 4))  # pages other than sign-in wait on the database, not the CPU
timeout = 30
graceful_timeout = 30
keepalive = 5
max_requests = 10000  # recycle workers now and then, so a slow leak cannot grow without bound
max_requests_jitter = 1000
accesslog = None  # Portal writes its own one-line JSON log per request (with request id, without secrets)
errorlog = "-"
# gunicorn believes X-Forwarded-Proto from this host only; Portal itself reads X-Forwarded-* from as many
# proxies as PORTAL_PROXY_COUNT says, and from none when it is 0.
forwarded_allow_ips = "127.0.0.1"
control_socket_disable = True  # gunicorn 27's shared ~/.gunicorn socket would clash between instances
# TLS in gunicorn itself, when no TLS-terminating proxy is in front (PORTAL_BASE_URL is then https://).
certfile = os.environ.get("PORTAL_TLS_CERTFILE") or None
keyfile = os.environ.get("PORTAL_TLS_KEYFILE") or None
