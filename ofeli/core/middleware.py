import logging
import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect

from .joblog import kv

SESSION_START_KEY = "_ofeli_login_at"
_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


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


class NoStoreWhenAuthenticatedMiddleware:
    """Pages shown to a logged-in user hold personal or unpublished data: never cached."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response


request_logger = logging.getLogger("ofeli.request")


class RequestLogMiddleware:
    """One log line per request (ofeli.core.joblog.kv): id, method, path, status, duration, user id.

    The id comes from the proxy's X-Request-ID when it is a short token, else is made here; it is sent back in
    the response's X-Request-ID header so a user's report can be matched to the line.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _ID.fullmatch(incoming) else uuid.uuid4().hex[:16]
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        user_id = request.user.pk if getattr(request, "user", None) and request.user.is_authenticated else None
        request_logger.info(
            kv(
                event="request",
                request_id=request.request_id,
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=duration_ms,
                user=user_id,
            )
        )
        response["X-Request-ID"] = request.request_id
        return response
