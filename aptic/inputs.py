"""Input hygiene, once for the whole site.

- `parse_int` reads an integer from a query string or a form the only way we accept one:
  ASCII digits. `str.isdigit` also says yes to « ² » or « ٣ », which `int()` then refuses
  or, worse, reads.
- `AsciiIntegerField` and `AsciiDateTimeField` are DRF's fields that read ASCII digits only:
  DRF's own read « ١ » as 1 and « ٢٠٢٦-١٢-٣١ » as a date.
- `ControlCharacterMiddleware` refuses control characters (NUL above all, which Postgres
  cannot store) in the address, the query string and the body before any view or query
  sees them: 400 with the API's error shape under /api/, a plain page elsewhere.
"""

import re

from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

# 18 digits always fit a bigint.
ASCII_INTEGER = re.compile(r"[0-9]{1,18}")

# C0 controls and DEL; tab, line feed and carriage return are text in a body (a textarea),
# but never in an address or a query string.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_IN_ADDRESS = re.compile(r"[\x00-\x1f\x7f]")
# The same characters written as JSON escapes (\u0000), not preceded by an escaped backslash.
CONTROL_IN_JSON = re.compile(
    r"(?<!\\)(?:\\\\)*\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])")


def parse_int(value, default=None):
    """The integer written in ASCII digits in `value`, else `default`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and ASCII_INTEGER.fullmatch(value):
        return int(value)
    return default


def has_foreign_digits(value):
    """Whether `value` (a string) holds decimal digits other than 0 to 9 (« ٣ », « ３ »)."""
    return isinstance(value, str) and any(c.isdecimal() and not c.isascii() for c in value)


class _AsciiDigits:
    default_error_messages = {"foreign_digits": gettext_lazy(
        "Écrivez les chiffres avec les chiffres 0 à 9.")}

    def to_internal_value(self, data):
        if has_foreign_digits(data):
            self.fail("foreign_digits")
        return super().to_internal_value(data)


class AsciiIntegerField(_AsciiDigits, serializers.IntegerField):
    pass


class AsciiDateTimeField(_AsciiDigits, serializers.DateTimeField):
    pass


def has_control_characters(request):
    if CONTROL_IN_ADDRESS.search(request.path):
        return True
    for key, values in request.GET.lists():
        if CONTROL_IN_ADDRESS.search(key) or any(CONTROL_IN_ADDRESS.search(v) for v in values):
            return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    content_type = request.content_type or ""
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return any(CONTROL.search(key) or any(CONTROL.search(v) for v in values)
                   for key, values in request.POST.lists())
    if content_type.endswith("json"):
        body = request.body.decode("utf-8", errors="replace")
        return bool(CONTROL.search(body) or CONTROL_IN_JSON.search(body))
    return False


class ControlCharacterMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_control_characters(request):
            detail = _("La demande contient des caractères de contrôle (par exemple un "
                       "caractère nul) : retirez-les et réessayez.")
            if request.path.startswith("/api/"):
                from .api import _json, error_body

                return _json(error_body("control_characters", detail), 400)
            return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
