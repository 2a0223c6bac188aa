"""`{{ amount_cents|euros }}` → « 1 234,50 € » or « €1,234.50 », in the active language
(aptic.l10n): money is stored in integer cents. `{{ rate|percent }}` → « 20,0 % », « 20.0% »."""

from django import template

from aptic.l10n import format_euros, format_grouped, format_percent

register = template.Library()
register.filter("euros", format_euros)
register.filter("grouped", format_grouped)
register.filter("percent", format_percent)
