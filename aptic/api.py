"""Shared pieces of the partner API: one error shape, `{"code": ..., "detail": ...}`."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


def error_body(code, detail, **extra):
    return {"code": code, "detail": str(detail), **extra}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        response = Response(exc.body(), status=exc.status)
        if exc.retry_after:
            response["Retry-After"] = str(max(1, int(exc.retry_after)))
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Introuvable."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(_("Vous n’avez pas le droit de faire cela."))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            "invalid", _("Certaines données sont invalides."), errors=exc.detail
        )
    elif isinstance(exc, exceptions.Throttled):
        response.data = error_body(
            "throttled",
            _("Trop de demandes : réessayez dans %(seconds)s secondes.")
            % {"seconds": int(exc.wait or 1)},
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(code, detail)
    return response


def _json(body, status_code):
    return JsonResponse(body, status=status_code, json_dumps_params={"ensure_ascii": False})


def _is_api(request):
    return request.path.startswith("/api/")


class ApiNotFoundMiddleware:
    """An address under /api/ that no route matches (say `/api/v1/orders/abc/`) answers in
    the error shape, not with an HTML page: Django's own 404 page in production, its debug
    page in the demo, where partners try the API first. (Listed before CommonMiddleware,
    it sees the response after it: a missing trailing slash still redirects.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (response.status_code == 404 and _is_api(request)
                and response.get("Content-Type", "").startswith("text/html")):
            return _json(error_body("not_found", _("Introuvable.")), 404)
        return response


def server_error(request):
    if _is_api(request):
        return _json(error_body("server_error", _(
            "Erreur interne du serveur. Réessayez plus tard ; si elle persiste, contactez "
            "l’opérateur #APTIC.")), 500)
    return defaults.server_error(request)
