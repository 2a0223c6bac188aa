"""`{{ value|translated }}`: a French label kept as data (a service of the nomenclature, a
word of the national standard's vocabulary, copied onto a statement line) in the reader's
language (aptic.l10n.translated_label); a list gives a list."""

from django import template

from aptic.l10n import translated_label

register = template.Library()


@register.filter
def translated(value):
    if isinstance(value, list | tuple):
        return [translated_label(item) for item in value]
    return translated_label(value)
