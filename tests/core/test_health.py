import datetime

import pytest
import time_machine
from django.utils import timezone

from ofeli.core.health import worker_heartbeat


@pytest.mark.django_db
def test_health_is_503_until_the_worker_has_beaten_then_200(client):
    response = client.get("/sante/")
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["worker"]["ok"] is False

    worker_heartbeat()
    response = client.get("/sante/")
    assert response.status_code == 200
    assert response.json()["ok"] is True


@pytest.mark.django_db
def test_health_flags_a_silent_worker(client):
    worker_heartbeat()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=10)):
        response = client.get("/sante/")
    assert response.status_code == 503
    assert response.json()["worker"]["ok"] is False


@pytest.mark.django_db
def test_health_reports_an_unreachable_redis_without_raising(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    worker_heartbeat()
    response = client.get("/sante/")
    assert response.status_code == 503
    assert response.json()["redis"] == {"ok": False, "detail": "ConnectionError"}


def test_a_daily_schedule_runs_at_paris_time_all_year():
    import datetime

    from ofeli.core.horaires import chaque_jour_a

    a_trois_heures_trente = chaque_jour_a(3, 30)
    assert a_trois_heures_trente(datetime.datetime(2026, 1, 15, 2, 30))  # naive UTC, winter: UTC+1
    assert a_trois_heures_trente(datetime.datetime(2026, 7, 15, 1, 30))  # summer: UTC+2
    assert not a_trois_heures_trente(datetime.datetime(2026, 1, 15, 3, 30))
    assert not a_trois_heures_trente(datetime.datetime(2026, 1, 15, 2, 31))
