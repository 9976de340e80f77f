"""Login throttling with django-axes: a growing delay, never a permanent lock.

After 5 failures on an account the next try waits 1 minute, then the delay doubles with each
further failure (2, 4, 8... minutes), capped so that at most 25 failures fit in 24 hours
(CNIL 2022, case 2). A success resets the count. Answers never reveal whether the e-mail
is known: the lockout page is the same for every address.
"""

from datetime import timedelta

from django.shortcuts import render

BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=24)
FAILURE_LIMIT = 5


def delay_for_failures(failures: int) -> timedelta:
    """Delay imposed once `failures` failures have been recorded (0 before the limit)."""
    if failures < FAILURE_LIMIT:
        return timedelta(0)
    extra = failures - FAILURE_LIMIT
    if failures >= 25:
        return MAX_DELAY
    return min(BASE_DELAY * (2**extra), MAX_DELAY)


def _failures(request) -> int:
    from axes.helpers import get_client_username
    from axes.models import AccessAttempt

    username = (get_client_username(request) or "").strip().lower()
    attempts = AccessAttempt.objects.filter(username=username)
    return max((a.failures_since_start for a in attempts), default=0)


def cooloff_time(request) -> timedelta:
    if request is None:
        return BASE_DELAY
    return max(delay_for_failures(_failures(request)), BASE_DELAY)


def lockout_response(request, *args, **kwargs):
    delay = cooloff_time(request)
    minutes = max(1, int(delay.total_seconds() // 60))
    return render(request, "accounts/lockout.html", {"minutes": minutes}, status=429)
