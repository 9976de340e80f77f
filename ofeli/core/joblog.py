"""Structured log lines: one per request (ofeli.core.middleware) and one per Huey job start and end.

Lines are key=value pairs, in a fixed order, readable by people and by log tools (logfmt):

    event=job_start task=diffuser_partenaire_task task_id=3f2… retries=3
    event=job_end task=diffuser_partenaire_task task_id=3f2… outcome=success duration_ms=5321.4

`outcome` is one of success, error (with `error=` the exception class and message), retry (the task will run
again), canceled, locked, timeout, revoked, expired, interrupted. A value with a space, a quote, an `=` or a
control character is written as a JSON string, so a path or a message can never forge a second line or field.
"""

import json
import logging
import threading
import time

from huey import signals as S

job_logger = logging.getLogger("ofeli.jobs")

_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@,+%[]()")


def valeur(value) -> str:
    """One logfmt value: bare when it is made of safe characters, a JSON string otherwise."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value)
    if text and all(c in _SAFE for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def kv(**fields) -> str:
    return " ".join(f"{key}={valeur(value)}" for key, value in fields.items())


_started: dict[str, float] = {}
_lock = threading.Lock()

_OUTCOMES = {
    S.SIGNAL_COMPLETE: "success",
    S.SIGNAL_ERROR: "error",
    S.SIGNAL_CANCELED: "canceled",
    S.SIGNAL_LOCKED: "locked",
    S.SIGNAL_TIMEOUT: "timeout",
    S.SIGNAL_REVOKED: "revoked",
    S.SIGNAL_EXPIRED: "expired",
    S.SIGNAL_INTERRUPTED: "interrupted",
    S.SIGNAL_RATE_LIMITED: "rate_limited",
}


def _task_fields(task) -> dict:
    return {"task": task.name, "task_id": task.id}


def on_signal(signal, task, exc=None):
    """Huey signal receiver: a start line when a task begins, an end line with its outcome and duration."""
    if signal == S.SIGNAL_EXECUTING:
        with _lock:
            _started[task.id] = time.monotonic()
        job_logger.info(kv(event="job_start", **_task_fields(task), retries=task.retries))
        return
    if signal == S.SIGNAL_RETRYING:
        job_logger.warning(kv(event="job_retry", **_task_fields(task), retries_left=task.retries))
        return
    outcome = _OUTCOMES.get(signal)
    if outcome is None:  # enqueued, scheduled: not a run
        return
    with _lock:
        started = _started.pop(task.id, None)
    duration_ms = (time.monotonic() - started) * 1000 if started is not None else None
    fields = {"event": "job_end", **_task_fields(task), "outcome": outcome, "duration_ms": duration_ms}
    if exc is not None:
        fields["error"] = f"{type(exc).__name__}: {exc}"[:500]
    level = logging.INFO if outcome == "success" else logging.ERROR
    job_logger.log(level, kv(**fields))


_connected: set[int] = set()


def connecter(huey) -> None:
    """Connects the receiver once to the project's Huey instance (called when ofeli.core.tasks is imported)."""
    if id(huey) in _connected:
        return
    huey.signal()(on_signal)
    _connected.add(id(huey))
