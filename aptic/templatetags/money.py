"""`{{ amount_cents|euros }}` → « 1 234,50 € »: money is stored in integer cents."""

from django import template

register = template.Library()


def format_euros(cents):
    if cents in (None, ""):
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    euros, remainder = divmod(abs(cents), 100)
    grouped = f"{euros:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{remainder:02d}\u00a0€"


register.filter("euros", format_euros)
