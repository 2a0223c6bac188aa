"""Pages and the domain's refusals (aptic.errors.DomainError), mapped once.

A page view that wants a refusal next to a field catches it and calls `form_error`. Any other
refusal reaches `DomainErrorMiddleware`: after a form (POST) it becomes a message on the page
the person came from; on a page that shows something (GET), a page that says why, with the
refusal's status. The API maps the same error in aptic.api.exception_handler.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from .errors import DomainError


def back(request, default="/"):
    """Where the person came from (`next`, then the referer), when it is this site."""
    for target in (request.POST.get("next"), request.GET.get("next"),
                   request.META.get("HTTP_REFERER")):
        if target and url_has_allowed_host_and_scheme(
                target, {request.get_host()}, require_https=request.is_secure()):
            return target
    return default


def show_refusal(request, error, default="/"):
    messages.error(request, error.detail)
    return redirect(back(request, default))


def form_error(form, field, error):
    form.add_error(field, error.detail)


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        if request.method == "POST":
            return show_refusal(request, exception, default=request.path)
        return render(request, "refused.html", {"error": exception}, status=exception.status)
