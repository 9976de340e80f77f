"""Thin Huey tasks of the core app."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .health import worker_heartbeat


@db_periodic_task(crontab(minute="*"))
def heartbeat():
    worker_heartbeat()
