"""Login throttling: a growing delay after 5 failures, never a permanent lock (docs/security.md).

django-axes records every failed login (AccessFailureLog) and every success (AccessLog). From
those records, for one account (the e-mail typed, lowercased, known or not):

- the failures counted are those of the last 24 hours since the last successful login;
- from the 5th failure on, the next try must wait 1 minute after the last failure, then 2, 4,
  8... minutes (doubling with each further failure, at most 24 hours);
- at most 25 failures fit in any 24 hours (CNIL délibération 2022-100, case 2);
- a success resets the count.

The login view (accounts.views.LoginView) asks `etat()` before checking a password, and answers a
locked account with the same page whether the e-mail exists or not. Axes' own lock (5 failures,
`AXES_COOLOFF_TIME = cooloff_time`) agrees with this one: it only fires when this one would.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.shortcuts import render
from django.utils import timezone

BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=24)
WINDOW = timedelta(hours=24)
FAILURE_LIMIT = 5
DAILY_LIMIT = 25


def delay_for_failures(failures: int) -> timedelta:
    """Delay imposed once `failures` failures have been recorded (0 before the limit)."""
    if failures < FAILURE_LIMIT:
        return timedelta(0)
    if failures >= DAILY_LIMIT:
        return MAX_DELAY
    return min(BASE_DELAY * (2 ** (failures - FAILURE_LIMIT)), MAX_DELAY)


@dataclass(frozen=True)
class Etat:
    failures: int
    retry_at: datetime | None

    @property
    def bloque(self) -> bool:
        return self.retry_at is not None and timezone.now() < self.retry_at

    @property
    def attente(self) -> timedelta:
        if not self.bloque:
            return timedelta(0)
        return self.retry_at - timezone.now()


def normaliser_identifiant(username: str | None) -> str:
    # NUL is never part of an e-mail, and PostgreSQL refuses it even in a lookup.
    return (username or "").replace("\x00", "").strip().lower()


def etat(username: str | None, *, now: datetime | None = None) -> Etat:
    """The throttling state of one account (an e-mail as typed, known to OFeli or not)."""
    from axes.models import AccessFailureLog, AccessLog

    username = normaliser_identifiant(username)
    if not username:
        return Etat(0, None)
    now = now or timezone.now()
    since = now - WINDOW
    last_success = AccessLog.objects.filter(username=username, attempt_time__gt=since).order_by("-attempt_time").first()
    if last_success:
        since = last_success.attempt_time
    times = list(
        AccessFailureLog.objects.filter(username=username, attempt_time__gt=since)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)[:DAILY_LIMIT]
    )
    failures = len(times)
    if failures >= DAILY_LIMIT:
        # The oldest of the last 25 failures must leave the 24-hour window.
        return Etat(failures, times[DAILY_LIMIT - 1] + WINDOW)
    if failures >= FAILURE_LIMIT:
        return Etat(failures, times[0] + delay_for_failures(failures))
    return Etat(failures, None)


def cooloff_time(request) -> timedelta:
    """AXES_COOLOFF_TIME: the delay of the account being tried (at least a minute)."""
    if request is None:
        return BASE_DELAY
    from axes.helpers import get_client_username

    return max(delay_for_failures(etat(get_client_username(request)).failures), BASE_DELAY)


def attente_en_clair(attente: timedelta) -> str:
    """ "1 minute", "12 minutes", "3 heures" (rounded up)."""
    minutes = max(1, -(-int(attente.total_seconds()) // 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes > 1 else ''}"
    heures = -(-minutes // 60)
    return f"{heures} heure{'s' if heures > 1 else ''}"


def lockout_page(request, attente: timedelta):
    response = render(request, "accounts/lockout.html", {"attente": attente_en_clair(attente)}, status=429)
    response["Retry-After"] = str(max(1, int(attente.total_seconds())))
    return response


def lockout_response(request, *args, **kwargs):
    """AXES_LOCKOUT_CALLABLE: the same page as the login view's own throttling."""
    from axes.helpers import get_client_username

    state = etat(get_client_username(request))
    return lockout_page(request, state.attente if state.bloque else BASE_DELAY)
