"""Opening hours in plain words, in the reader's language.

Places store their hours in OpenStreetMap `opening_hours` syntax
(« Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00 »). Beneficiaries read
« du lundi au vendredi de 9 h à 12 h et de 14 h à 17 h ; samedi de 9 h à 12 h », or in
English « Monday to Friday from 09:00 to 12:00 and from 14:00 to 17:00; Saturday from 09:00
to 12:00 » (times in the language's TIME_FORMAT, aptic/formats). `in_words` handles the
common forms and returns None for anything else, so that callers fall back to the raw
string; `today` lists today's opening times with opening-hours-py.

Places share a handful of distinct hours strings, and the public search reads them for every
result: parses and French renderings are memoised per distinct string (and language, and
day for `today`), which is exact since they depend on nothing else.
"""

import datetime
import functools
import re

import opening_hours
from django.utils import formats, timezone
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

CACHE_SIZE = 4096

DAY_CODES = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]

_DAY = r"(?:Mo|Tu|We|Th|Fr|Sa|Su)"
_DAY_SELECTOR = rf"{_DAY}(?:-{_DAY})?(?:,{_DAY}(?:-{_DAY})?)*"
_TIME = r"(?:[01]?\d|2[0-4]):[0-5]\d"
_SPAN = rf"{_TIME}-{_TIME}"
_RULE = re.compile(
    rf"^(?:(?P<days>{_DAY_SELECTOR})|(?P<ph>PH))?\s*"
    rf"(?P<what>{_SPAN}(?:\s*,\s*{_SPAN})*|off|closed)?$"
)


def day_names():
    return [_("lundi"), _("mardi"), _("mercredi"), _("jeudi"), _("vendredi"), _("samedi"),
            _("dimanche")]


def join_words(items):
    """« a », « a et b », « a, b et c »."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return _("%(first)s et %(last)s") % {"first": ", ".join(items[:-1]), "last": items[-1]}


def time_text(value):
    """« 09:00 » → « 9 h », « 14:30 » → « 14 h 30 » in French, as French signs write
    them; the language's TIME_FORMAT otherwise (« 09:00 », « 14:30 »)."""
    hours, minutes = (int(part) for part in value.split(":"))
    if get_language().split("-")[0] == "fr":
        return f"{hours} h" if minutes == 0 else f"{hours} h {minutes:02d}"
    if hours == 24:  # the end of the day, which datetime.time cannot hold
        return value
    return formats.time_format(datetime.time(hours, minutes))


def span_text(start, end):
    return _("de %(start)s à %(end)s") % {"start": start, "end": end}


def _days_in_words(selector):
    names = day_names()
    if selector == "Mo-Su":
        return _("tous les jours")
    parts = []
    for item in selector.split(","):
        if "-" in item:
            first, last = item.split("-")
            parts.append(_("du %(first)s au %(last)s") % {
                "first": names[DAY_CODES.index(first)], "last": names[DAY_CODES.index(last)]})
        else:
            parts.append(names[DAY_CODES.index(item)])
    return join_words(parts)


def _rule_in_words(rule):
    rule = rule.strip()
    if rule == "24/7":
        return _("tous les jours, 24 h sur 24")
    match = _RULE.match(rule)
    if not match or not (match["days"] or match["ph"] or match["what"]):
        return None
    if match["ph"]:
        days = _("les jours fériés")
    elif match["days"]:
        days = _days_in_words(match["days"])
    else:
        days = _("tous les jours")
    what = match["what"]
    if what in (None, "off", "closed"):
        if what is None and not match["ph"]:
            return None
        return _("fermé %(days)s") % {"days": days}
    spans = [span_text(*(time_text(time) for time in span.strip().split("-")))
             for span in what.split(",")]
    return f"{days} {join_words(spans)}"


def in_words(value):
    """The hours in plain words of the active language, or None when the expression is not
    one of the common forms (the caller then shows the raw string)."""
    if not value or not value.strip():
        return None
    return _in_words(value, get_language())


@functools.lru_cache(maxsize=CACHE_SIZE)
def _in_words(value, _language):
    rules = [rule for rule in value.split(";") if rule.strip()]
    texts = [_rule_in_words(rule) for rule in rules]
    if not texts or any(text is None for text in texts):
        return None
    return pgettext("between the rules of opening hours", " ; ").join(texts)


@functools.lru_cache(maxsize=CACHE_SIZE)
def parse(value):
    """The parsed hours (immutable, hence shared), or None when empty or unreadable."""
    if not value:
        return None
    try:
        return opening_hours.OpeningHours(value)
    except (opening_hours.ParserError, ValueError, SyntaxError):
        return None


def is_open(value, moment):
    """True/False at the aware datetime `moment`, or None when the hours are unknown."""
    hours = parse(value)
    if hours is None:
        return None
    return hours.is_open(timezone.localtime(moment).replace(tzinfo=None))


def today(value, moment=None):
    """Today's opening times in plain words (« de 9 h à 12 h et de 14 h à 17 h »),
    « fermé aujourd’hui », or None when the hours are unknown or unreadable."""
    if not value:
        return None
    local = timezone.localtime(moment or timezone.now())
    if isinstance(value, str):
        return _today(value, local.date(), get_language())
    return _today_of(value, local.date())


@functools.lru_cache(maxsize=CACHE_SIZE)
def _today(value, day, _language):
    return _today_of(parse(value), day)


def _today_of(hours, day):
    if hours is None:
        return None
    start = datetime.datetime.combine(day, datetime.time())
    end = start + datetime.timedelta(days=1)
    spans = []
    try:
        for begin, finish, state, _comment in hours.intervals(start, end):
            if state == opening_hours.State.OPEN:
                spans.append((max(begin, start), min(finish or end, end)))
    except (ValueError, OverflowError):
        return None
    if not spans:
        return _("fermé aujourd’hui")
    if spans == [(start, end)]:
        return _("ouvert toute la journée")
    return join_words(
        span_text(time_text(begin.strftime("%H:%M")),
                  time_text("24:00" if finish == end else finish.strftime("%H:%M")))
        for begin, finish in spans
    )
