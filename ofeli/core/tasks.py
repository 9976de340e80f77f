"""Thin Huey tasks of the core app, and the job log: one line per job start and end (ofeli.core.joblog).

Huey's worker imports every app's `tasks` module, so connecting the log receiver here covers every task.
"""

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from .health import worker_heartbeat
from .joblog import connecter

connecter(HUEY)


@db_periodic_task(crontab(minute="*"))
def heartbeat():
    worker_heartbeat()
