"""Offline redemption: a basket scanned where the network dropped, uploaded later.

The scan page keeps such a basket on the device with a client nonce (sent as the
Idempotency-Key, so that an upload made twice counts once: cheques.redemption.redeem_once),
the moment of the scan and the device's name. The server accepts the scan's own time within
bounds, judges the cheques' validity on the day of the scan, and keeps the moment it received
the basket as `redeemed_at`: undo windows and reimbursement statements follow that one, so
that a closed statement never gains a late line (a late basket goes into the next one).
"""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from aptic.errors import DomainError

from . import validity

# A device offline for a long weekend still uploads its baskets; older ones are refused.
MAX_SCAN_AGE = datetime.timedelta(hours=72)
# A device's clock may run a little ahead of the server's.
CLOCK_SKEW = datetime.timedelta(minutes=5)
# A basket received this long after its scan is a late upload (cheques.fraud).
LATE_UPLOAD = datetime.timedelta(hours=1)
DEVICE_MAX_LENGTH = 60


def check_scan_time(scanned_at, now):
    """The scan time in UTC (as the server's own times), or None; refused in the future
    (beyond CLOCK_SKEW) or older than MAX_SCAN_AGE."""
    if scanned_at is None:
        return None
    if timezone.is_naive(scanned_at):
        scanned_at = timezone.make_aware(scanned_at)
    scanned_at = scanned_at.astimezone(datetime.UTC)
    if scanned_at > now + CLOCK_SKEW:
        raise DomainError("scan_in_future", _(
            "L’heure du scan (%(scanned)s) est dans le futur : vérifiez la date et l’heure "
            "de l’appareil.") % {"scanned": _moment(scanned_at)},
            scanned_at=scanned_at.isoformat())
    if now - scanned_at > MAX_SCAN_AGE:
        raise DomainError("scan_too_old", _(
            "Ce panier a été scanné le %(scanned)s, il y a plus de %(hours)s heures : il ne "
            "peut plus être encaissé. Contactez l’opérateur.")
            % {"scanned": _moment(scanned_at),
               "hours": int(MAX_SCAN_AGE.total_seconds() // 3600)},
            scanned_at=scanned_at.isoformat())
    return scanned_at


def scan_day(scanned_at, now):
    """The day on which the cheques' validity is judged: the scan's, when given."""
    return timezone.localdate(scanned_at or now)


def scan_differs(scanned_at, received_at):
    """Whether the history shows the scan time next to the time received (they differ at
    the minute it displays)."""
    if scanned_at is None:
        return False
    minute = datetime.timedelta(minutes=1)
    return abs(received_at - scanned_at) >= minute


def clean_device(device):
    return " ".join(str(device or "").split())[:DEVICE_MAX_LENGTH]


def _moment(moment):
    return _("%(date)s à %(time)s") % validity.short_moment(moment)


def audit_details(scanned_at, device):
    """What the audit trail adds for a basket scanned offline."""
    if scanned_at is None and not device:
        return {}
    return {"scanned_at": scanned_at.isoformat() if scanned_at else "", "device": device}
