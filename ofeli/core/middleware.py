import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect

SESSION_START_KEY = "_ofeli_login_at"


class SessionLifetimeMiddleware:
    """Ends an authenticated session after a fixed maximum, whatever the activity.

    The idle timeout is SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(SESSION_START_KEY)
            now = time.time()
            if started is None:
                request.session[SESSION_START_KEY] = now
            elif now - started > settings.OFELI_SESSION_ABSOLUTE_LIFETIME:
                logout(request)
                return redirect(settings.LOGIN_URL)
        return self.get_response(request)
