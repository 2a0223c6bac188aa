"""`{{ amount_cents|euros }}` → « 1 234,50 € »: money is stored in integer cents."""

from django import template

register = template.Library()


def format_grouped(number):
    """« 100 000 »: thousands set apart by narrow no-break spaces, French style."""
    return f"{number:,}".replace(",", "\u202f")


def format_euros(cents):
    if cents in (None, ""):
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    euros, remainder = divmod(abs(cents), 100)
    return f"{sign}{format_grouped(euros)},{remainder:02d}\u00a0€"


register.filter("euros", format_euros)
