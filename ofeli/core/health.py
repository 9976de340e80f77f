"""Health of the running system: database, Redis (when configured) and the Huey worker.

`/sante/` answers 200 with a JSON body when everything is up, 503 otherwise; a load balancer
or a monitoring probe reads it. It reveals states, never secrets.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from ofeli.organismes.gate import public

from .models import Heartbeat

WORKER_MAX_SILENCE = timedelta(minutes=3)


def worker_heartbeat():
    Heartbeat.objects.update_or_create(name="worker", defaults={"at": timezone.now()})


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "engine": connection.vendor}


def check_redis():
    if not settings.REDIS_URL:
        return {"ok": True, "configured": False}
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    client.ping()
    return {"ok": True, "configured": True}


def check_worker():
    beat = Heartbeat.objects.filter(name="worker").first()
    if beat is None:
        return {"ok": False, "detail": "aucun signe de vie du worker"}
    age = timezone.now() - beat.at
    return {"ok": age <= WORKER_MAX_SILENCE, "last_seen": beat.at.isoformat(), "age_seconds": int(age.total_seconds())}


CHECKS = {"database": check_database, "redis": check_redis, "worker": check_worker}


@public
@never_cache
def sante(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # a probe reports every failure, it never raises
            results[name] = {"ok": False, "detail": exc.__class__.__name__}
    ok = all(r["ok"] for r in results.values())
    return JsonResponse({"ok": ok, **results}, status=200 if ok else 503)
