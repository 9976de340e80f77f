"""Signal receivers of the accounts app (connected in AccountsConfig.ready)."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from ofeli.core.middleware import SESSION_START_KEY


@receiver(user_logged_in, dispatch_uid="ofeli_accounts_session_start")
def start_session_clock(sender, request, user, **kwargs):
    """The session's absolute lifetime (ofeli.core.middleware) counts from the login itself."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_START_KEY] = time.time()
