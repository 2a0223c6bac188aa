"""How long cheques last: the default end of validity, the bounds an order's validity must
respect, and the dates that follow from it (the J-15 hand-over stop, the last day a cheque
is accepted after the grace period).

An order placed before 1 July is valid until 31 December of that year; from 1 July on, until
31 December of the next year, so that a funder always gets at least six months of use. A
shorter or longer validity may be asked for explicitly, within the bounds below.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

MAX_VALIDITY_YEARS = 3
# A bound no row may pass (a database constraint): date arithmetic on it never overflows.
LAST_POSSIBLE = datetime.date(2999, 12, 31)


def default_valid_until(today=None):
    today = today or timezone.localdate()
    year = today.year if today.month < 7 else today.year + 1
    return datetime.date(year, 12, 31)


def earliest_valid_until(today=None):
    """The first end of validity that is not already inside the J-30 alert window."""
    today = today or timezone.localdate()
    return today + datetime.timedelta(days=settings.EXPIRY_ALERT_DAYS + 1)


def latest_valid_until(today=None):
    """The same day MAX_VALIDITY_YEARS years on (28 February for a 29 February)."""
    today = today or timezone.localdate()
    year = today.year + MAX_VALIDITY_YEARS
    try:
        return today.replace(year=year)
    except ValueError:
        return today.replace(year=year, day=28)


def validate_valid_until(value, today=None):
    """Refuse an end of validity too close (the funder would be warned at once and
    prescribers would barely hand anything out) or too far away; a date this far from today
    can never reach date arithmetic afterwards."""
    today = today or timezone.localdate()
    if value <= today:
        raise ValidationError(_("La date de fin de validité doit être dans le futur."),
                              code="past")
    earliest = earliest_valid_until(today)
    if value < earliest:
        raise ValidationError(_(
            "Trop proche : la fin de validité doit laisser plus de %(days)s jours d’usage, "
            "soit le %(date)s au plus tôt."
        ) % {"days": settings.EXPIRY_ALERT_DAYS, "date": short(earliest)}, code="too_short")
    latest = latest_valid_until(today)
    if value > latest:
        raise ValidationError(_(
            "Trop lointaine : la fin de validité est à %(years)s ans au plus, soit le "
            "%(date)s au plus tard."
        ) % {"years": MAX_VALIDITY_YEARS, "date": short(latest)}, code="too_far")


def short(day):
    return date_format(day, "SHORT_DATE_FORMAT")


def short_moment(instant):
    """The local date and time of `instant` as messages print them ({"date", "time"})."""
    local = timezone.localtime(instant)
    return {"date": short(local.date()), "time": local.strftime("%H:%M")}


def last_day_of_acceptance(valid_until):
    """Cheques are still accepted during the grace period after their validity."""
    return valid_until + datetime.timedelta(days=settings.EXPIRY_GRACE_DAYS)


def handover_deadline(valid_until):
    """The last day a booklet may be handed over: hand-overs are refused from J-15 on."""
    return valid_until - datetime.timedelta(days=settings.HANDOVER_STOP_DAYS + 1)
