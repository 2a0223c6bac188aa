"""`{% print_status order as print %}` and `{% may_print as flag %}` for the progress include
(templates/cheques/print/progress.html)."""

from django import template

from cheques import print_jobs

register = template.Library()


@register.simple_tag
def print_status(order):
    return print_jobs.status(order)


@register.simple_tag(takes_context=True)
def may_print(context):
    request = context.get("request")
    return bool(request) and print_jobs.may_print(request.user)
