"""`{% print_status order as print %}` and `{% may_print as flag %}` for the progress include
(templates/cheques/print/progress.html)."""

from django import template

from cheques import access, printing

register = template.Library()


@register.simple_tag
def print_status(order):
    return printing.status(order)


@register.simple_tag(takes_context=True)
def may_print(context):
    request = context.get("request")
    return bool(request) and access.may_print(request.user)
