"""Schedules of the periodic Huey jobs, in Paris time whatever the worker's clock (UTC or local).

Huey's `crontab` compares the hour with the time it passes, naive UTC by default: a crontab(hour="2") would run
at 03:00 or 04:00 in Paris depending on the season. `chaque_jour_a(2)` runs at 02:00 in Paris all year.
"""

import datetime
import zoneinfo

from django.conf import settings

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def heure_de_paris(dt: datetime.datetime) -> datetime.datetime:
    """The time Huey passes (naive UTC, or naive local time when HUEY's "utc" is False) in Paris."""
    if dt.tzinfo is None:
        utc = getattr(settings, "HUEY", {}).get("utc", True)
        dt = dt.replace(tzinfo=datetime.UTC) if utc else dt.replace(tzinfo=PARIS)
    return dt.astimezone(PARIS)


def chaque_jour_a(heure: int, minute: int = 0):
    """A Huey schedule: True once a day, at `heure`:`minute` in Paris."""

    def horaire(dt: datetime.datetime) -> bool:
        paris = heure_de_paris(dt)
        return paris.hour == heure and paris.minute == minute

    horaire.__name__ = f"chaque_jour_a_{heure:02d}h{minute:02d}_paris"
    return horaire
