"""Pages and the domain's refusals (aptic.errors.DomainError), mapped once.

A refusal of access (403, 404) answers with its status and a page that says why. Any other
refusal (a state, a rule) after a form (POST) becomes a message on the page the person came
from (`show_refusal`, or a field error with `form_error`); on a page that shows something
(GET), the page that says why. `DomainErrorMiddleware` applies this to whatever a view does
not catch. The API maps the same error in aptic.api.exception_handler.
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


def is_access_refusal(error):
    return error.status in (403, 404)


def show_refusal(request, error, default="/"):
    if is_access_refusal(error):
        raise error
    messages.error(request, error.detail)
    return redirect(back(request, default))


def perform(request, action, done, back):
    """A page's domain action, after a form: `action()` runs; its success message (`done`,
    or `done(result)`) is shown on `back`, and so is its refusal (`show_refusal`)."""
    try:
        result = action()
    except DomainError as error:
        return show_refusal(request, error, back)
    messages.success(request, done(result) if callable(done) else done)
    return redirect(back)


CONFIRMED = "confirmed"


def confirm_first(request, *, title, consequence, button, cancel, carry=None):
    """What cannot be taken back is confirmed first, on a step that works without
    JavaScript: a GET, or a POST without `confirmed` (the button of a list), answers a page
    that says what will happen (`consequence`) with a form that posts again, carrying the
    fields `carry` (name → value), and a way back (`cancel`). Returns that page, or None
    once the person confirmed: then the view acts."""
    if request.method == "POST" and request.POST.get(CONFIRMED) == "yes":
        return None
    return render(request, "confirm.html", {
        "title": title, "consequence": consequence, "button": button, "cancel": cancel,
        "carry": carry or {}, "confirmed_field": CONFIRMED,
    })


def form_error(form, field, error):
    form.add_error(field, error.detail)


def submit(request, form, field, action, done, back):
    """A form's domain action: on success, `done` (a message, or `done(result)`) is shown on
    `back`; a refusal becomes the error of `field`, and None is returned so that the view
    shows the form again."""
    try:
        result = action()
    except DomainError as error:
        form_error(form, field, error)
        return None
    messages.success(request, done(result) if callable(done) else done)
    return redirect(back)


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        if request.method == "POST" and not is_access_refusal(exception):
            return show_refusal(request, exception, default=request.path)
        return render(request, "refused.html", {"error": exception}, status=exception.status)
