"""`{{ amount_cents|euros }}` → « 1 234,50 € » or « €1,234.50 », in the active language
(aptic.l10n): money is stored in integer cents."""

from django import template

from aptic.l10n import format_euros, format_grouped

register = template.Library()
register.filter("euros", format_euros)
register.filter("grouped", format_grouped)
