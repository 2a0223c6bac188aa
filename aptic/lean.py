"""The lean path of the API: a call under /api/ with a personal token (`Authorization:
Token …` or `Bearer …`) does not pay for what only pages need.

DRF authenticates such a call by its token and never by a session (a bad token is refused,
it does not fall back on the cookie), so sessions, messages and Django's user middleware
have nothing to do for it. The middleware below wrap those page-only middleware and step
aside for these calls. (Django's CSRF middleware stays: API views are exempt from it, so it
costs them a cookie read, and `check --deploy` wants it by name.)

Everything else runs for every request: the security headers (SecurityMiddleware,
X-Frame-Options, CSP), the language of messages (Accept-Language), input hygiene, outages,
and the API's throttles (DRF). A call from a page (the scan page POSTs to the API with its
session cookie and CSRF token) carries no token: it takes the full path, CSRF check
included (DRF's SessionAuthentication checks it too).
"""

from django.contrib.auth.models import AnonymousUser
from django.utils.module_loading import import_string

TOKEN_KEYWORDS = ("token", "bearer")
HOOKS = ("process_view", "process_exception", "process_template_response")


def is_token_api_call(request):
    if not request.path_info.startswith("/api/"):
        return False
    keyword = request.META.get("HTTP_AUTHORIZATION", "").split(" ", 1)[0]
    return keyword.lower() in TOKEN_KEYWORDS


def pages_only(path, skipped=None):
    """The middleware at `path`, skipped for token API calls (a subclass, so that checks
    looking for it, such as the admin's, still find it); `skipped(request)` is called
    instead."""
    base = import_string(path)

    def __call__(self, request):
        if is_token_api_call(request):
            if skipped is not None:
                skipped(request)
            return self.get_response(request)
        return base.__call__(self, request)

    def skipping(hook):
        def method(self, request, *args):
            if is_token_api_call(request):
                return None
            return getattr(base, hook)(self, request, *args)
        return method

    namespace = {"__call__": __call__, "__module__": __name__,
                 "__doc__": f"{path}, skipped for API calls with a personal token."}
    namespace.update({hook: skipping(hook) for hook in HOOKS if hasattr(base, hook)})
    return type(base.__name__, (base,), namespace)


SessionMiddleware = pages_only("django.contrib.sessions.middleware.SessionMiddleware")


def _anonymous_until_drf(request):
    # DRF puts the token's user here once it has authenticated the call; until then (and
    # for an address no view matches, whose 404 page is rendered before being turned into
    # the API's error shape) nobody is signed in.
    request.user = AnonymousUser()


AuthenticationMiddleware = pages_only("django.contrib.auth.middleware.AuthenticationMiddleware",
                                      _anonymous_until_drf)
MessageMiddleware = pages_only("django.contrib.messages.middleware.MessageMiddleware")
