"""`{{ profile.iban|iban }}` → « FR76 3000 6000 0112 3456 7890 189 » (places.banking)."""

from django import template

from places.banking import format_iban

register = template.Library()
register.filter("iban", format_iban)
