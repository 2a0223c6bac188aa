"""`{{ value|translated }}`: a French label kept as data (a service of the nomenclature, a
word of the national standard's vocabulary, copied onto a statement line) in the reader's
language, through the catalogue; a list gives a list. Text the catalogue does not know
(a label the operator wrote) shows as written."""

from django import template
from django.utils.translation import gettext

register = template.Library()


def translate_label(value):
    return gettext(value) if value else value


@register.filter
def translated(value):
    if isinstance(value, list | tuple):
        return [translate_label(item) for item in value]
    return translate_label(value)
