"""Numbers and money in the active language: the one formatter of pages, CSV files, PDFs
and, through the page's locale, scripts (static/aptic/format.js).

Money is integer cents. French reads « 1 234,50 € », English « €1,234.50 »; the
separators come from the language's formats (aptic/formats/, settings.FORMAT_MODULE_PATH),
the place of the euro sign from `CURRENCY`. Dates and times use Django's named formats
(`|date:"SHORT_DATE_FORMAT"`), defined in the same format modules.
"""

from decimal import Decimal

from django.utils import formats
from django.utils.translation import get_language, gettext

# Where the euro sign goes, by language ({} is the amount); the same for the percent sign.
CURRENCY = {"fr": "{}\u00a0€", "en": "€{}"}
PERCENT = {"fr": "{}\u00a0%", "en": "{}%"}  # as Intl writes them (format.js)
# The BCP 47 locale that scripts hand to Intl, by language: the same conventions as the
# format modules (day before month in English too).
LOCALES = {"fr": "fr-FR", "en": "en-GB"}


def language():
    """The active language among ours ("fr" when none or another one is active)."""
    code = (get_language() or "fr").split("-")[0]
    return code if code in CURRENCY else "fr"


def locale():
    return LOCALES[language()]


def context(request):
    """`locale`: the page's BCP 47 locale, for scripts (<html data-locale>, format.js)."""
    return {"locale": locale()}


def format_grouped(number):
    """A whole number with its thousands set apart: « 100 000 », « 100,000 »."""
    grouped = f"{int(number):,}"
    return grouped.replace(",", formats.get_format("THOUSAND_SEPARATOR"))



def format_euros(cents, *, whole=False):
    """An amount of cents with its currency: « 1 234,50 € », « €1,234.50 »; with
    `whole`, a whole number of euros drops its decimals (« 50 € », the axis of a chart)."""
    if cents in (None, ""):
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    euros, remainder = divmod(abs(cents), 100)
    amount = format_grouped(euros)
    if not (whole and remainder == 0):
        amount += f"{formats.get_format('DECIMAL_SEPARATOR')}{remainder:02d}"
    return sign + CURRENCY[language()].format(amount)


def format_percent(value, decimals=1):
    """A rate: « 20,0 % », « 20.0% »."""
    return PERCENT[language()].format(
        formats.number_format(value or 0, decimal_pos=decimals, use_l10n=True))


def format_plain(number, decimals=None):
    """A number for a CSV cell that spreadsheets of the language read as a number:
    « 1234,5 », « 1234.5 » (the language's decimal separator, no grouping)."""
    return formats.number_format(number, decimal_pos=decimals, use_l10n=True,
                                 force_grouping=False)


def format_decimal(cents):
    """An amount of cents as a plain number of euros for a CSV cell: « 1234,50 »,
    « 1234.50 » (no grouping, no currency)."""
    return format_plain(Decimal(int(cents or 0)).scaleb(-2), 2)


def translated_label(value):
    """A French label kept as data (a service of the nomenclature, a word of the national
    standard, copied onto a statement line) in the active language, through the catalogue;
    text the catalogue does not know (a label the operator wrote) stays as written."""
    return gettext(value) if value else value
