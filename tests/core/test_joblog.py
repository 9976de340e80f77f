"""Structured logs: one key=value line per request and one per Huey job start and end, with ids."""

import logging
import re

import pytest
from huey.contrib.djhuey import HUEY, task

import ofeli.core.tasks  # noqa: F401  (connects the job log, as the worker does)
from ofeli.core.joblog import kv


def _parse(line: str) -> dict:
    return {k: v.strip('"') for k, v in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line)}


@task()
def _tache_ok(x):
    return x * 2


@task()
def _tache_echec():
    raise ValueError("fichier illisible")


def test_job_success_logs_start_and_end_with_id_duration_and_outcome(caplog):
    assert HUEY.immediate
    caplog.set_level(logging.INFO, logger="ofeli.jobs")
    result = _tache_ok(21)
    assert result() == 42
    lines = [_parse(r.getMessage()) for r in caplog.records if r.name == "ofeli.jobs"]
    start = next(line for line in lines if line["event"] == "job_start")
    end = next(line for line in lines if line["event"] == "job_end")
    assert start["task"] == end["task"] and end["task"].endswith("_tache_ok")
    assert start["task_id"] == end["task_id"] == result.id
    assert end["outcome"] == "success"
    assert float(end["duration_ms"]) >= 0


def test_job_failure_logs_error_outcome_and_the_exception(caplog):
    caplog.set_level(logging.INFO, logger="ofeli.jobs")
    result = _tache_echec()
    ends = [r for r in caplog.records if r.name == "ofeli.jobs" and "event=job_end" in r.getMessage()]
    assert len(ends) == 1
    line = _parse(ends[0].getMessage())
    assert ends[0].levelno == logging.ERROR
    assert line["task_id"] == result.id
    assert line["outcome"] == "error"
    assert "ValueError: fichier illisible" in line["error"]


def test_connecting_twice_still_logs_one_line_per_event(caplog):
    from ofeli.core.joblog import connecter

    connecter(HUEY)
    caplog.set_level(logging.INFO, logger="ofeli.jobs")
    _tache_ok(1)
    assert sum("event=job_end" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.django_db
def test_one_request_line_with_id_status_and_user(client, caplog):
    caplog.set_level(logging.INFO, logger="ofeli.request")
    response = client.get("/formations/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    lines = [_parse(r.getMessage()) for r in caplog.records if r.name == "ofeli.request"]
    assert len(lines) == 1
    assert lines[0] == {
        "event": "request",
        "request_id": "abc-123",
        "method": "GET",
        "path": "/formations/",
        "status": str(response.status_code),
        "duration_ms": lines[0]["duration_ms"],
        "user": "-",
    }


@pytest.mark.django_db
def test_a_forged_path_or_request_id_cannot_forge_a_log_line(client, caplog):
    caplog.set_level(logging.INFO, logger="ofeli.request")
    response = client.get("/inconnu%0Aevent=request status=200 x", HTTP_X_REQUEST_ID="a b\nstatus=200")
    assert response["X-Request-ID"] != "a b\nstatus=200"
    messages = [r.getMessage() for r in caplog.records if r.name == "ofeli.request"]
    assert len(messages) == 1 and "\n" not in messages[0]
    line = _parse(messages[0])
    assert line["status"] == "404"
    assert line["path"].startswith("/inconnu\\n")


def test_kv_quotes_only_what_needs_it():
    assert kv(a="simple", b=None, c=1.25, d="deux mots", e='x="y"') == (
        'a=simple b=- c=1.2 d="deux mots" e="x=\\"y\\""'
    )
