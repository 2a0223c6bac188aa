"""Fraud signals: patterns the operator should look at. They never block anything by
themselves; redemption rules live in cheques.redemption, throttling in cheques.guard.

- a whole booklet redeemed at one place within a few minutes (FRAUD_BOOKLET_WINDOW_MINUTES);
- a mediator redeeming more than FRAUD_MAX_REDEMPTIONS_PER_HOUR cheques within an hour;
- redemptions refused because the place is outside the order's territory (recorded by the
  redemption API as "redemption.territory_refused" audit events);
- cheque look-ups blocked after many failures ("cheque_lookup.blocked", cheques.guard);
- baskets uploaded late: scanned offline more than cheques.offline.LATE_UPLOAD before the
  server received them (a device kept offline on purpose could hide a pattern).
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, Min
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aptic import audit
from aptic.models import AuditEvent

from . import codes, offline
from .models import Cheque, Redemption

TERRITORY_REFUSED = "redemption.territory_refused"
LOOKUP_BLOCKED = "cheque_lookup.blocked"


@dataclass
class Signal:
    kind: str
    label: str
    at: datetime.datetime
    detail: str
    count: int = 1
    place: object = None
    user: object = None
    extra: dict = field(default_factory=dict)


def default_since(now=None):
    return (now or timezone.now()) - datetime.timedelta(days=settings.FRAUD_LOOKBACK_DAYS)


# --- recording -----------------------------------------------------------------------------


def record_territory_refusal(user, place_id, cheque_code):
    """Called by cheques.redemption after a `territory_not_allowed` refusal (the refused
    redemption rolled back, so the attempt is recorded on its own)."""
    from places.models import Place

    place = Place.objects.filter(pk=getattr(place_id, "pk", place_id)).first()
    if place is None:
        return None
    code = codes.normalise(cheque_code or "")
    cheque = Cheque.objects.filter(code=code).values("number", "order_id").first() or {}
    with transaction.atomic():
        return audit.record(user, place, TERRITORY_REFUSED, department=place.department,
                            cheque=cheque.get("number", ""), order=cheque.get("order_id"))


# --- detection -----------------------------------------------------------------------------


def booklet_bursts(since=None):
    """Whole booklets redeemed at one place within FRAUD_BOOKLET_WINDOW_MINUTES."""
    since = since or default_since()
    window = datetime.timedelta(minutes=settings.FRAUD_BOOKLET_WINDOW_MINUTES)
    rows = (Redemption.objects.filter(undone_at=None, redeemed_at__gte=since)
            .values("cheque__booklet_id", "cheque__booklet__number", "place_id",
                    "order__cheques_per_booklet")
            .annotate(n=Count("*"), first=Min("redeemed_at"), last=Max("redeemed_at"))
            .order_by())
    found = [row for row in rows
             if row["n"] >= row["order__cheques_per_booklet"] > 1
             and row["last"] - row["first"] <= window]
    places = _places({row["place_id"] for row in found})
    return [
        Signal("booklet_burst", str(_("Carnet entier encaissé en quelques minutes")),
               row["last"], str(_("Carnet %(number)s : %(count)s chèques en %(minutes)s min"))
               % {"number": row["cheque__booklet__number"], "count": row["n"],
                  "minutes": int((row["last"] - row["first"]).total_seconds() // 60)},
               count=row["n"], place=places.get(row["place_id"]))
        for row in found
    ]


def mediator_bursts(since=None):
    """Mediators who redeemed more than FRAUD_MAX_REDEMPTIONS_PER_HOUR cheques within any
    sliding hour; one signal per mediator, for the busiest hour."""
    from django.contrib.auth import get_user_model

    since = since or default_since()
    limit = settings.FRAUD_MAX_REDEMPTIONS_PER_HOUR
    live = Redemption.objects.filter(undone_at=None, redeemed_at__gte=since)
    # A sliding hour spans at most two clock hours: one of them holds more than half.
    candidates = set(live.annotate(hour=TruncHour("redeemed_at"))
                     .values("mediator_id", "hour").annotate(n=Count("*"))
                     .filter(n__gte=(limit + 2) // 2).values_list("mediator_id", flat=True))
    users = get_user_model().objects.in_bulk(candidates)
    hour = datetime.timedelta(hours=1)
    signals = []
    timestamps = {}
    for mediator_id, moment in (live.filter(mediator_id__in=candidates)
                                .order_by("mediator_id", "redeemed_at")
                                .values_list("mediator_id", "redeemed_at")):
        timestamps.setdefault(mediator_id, []).append(moment)
    for mediator_id in candidates:
        moments = timestamps.get(mediator_id, [])
        best, best_end, start = 0, None, 0
        for end, moment in enumerate(moments):
            while moment - moments[start] >= hour:
                start += 1
            if end - start + 1 > best:
                best, best_end = end - start + 1, moment
        if best > limit:
            user = users.get(mediator_id)
            signals.append(Signal(
                "mediator_burst", str(_("Trop d’encaissements en une heure")), best_end,
                str(_("%(count)s encaissements en moins d’une heure (seuil : %(limit)s)"))
                % {"count": best, "limit": limit}, count=best, user=user))
    return signals


def territory_refusals(since=None):
    """Attempts to redeem cheques outside their order's territory, by place and user."""
    since = since or default_since()
    events = (AuditEvent.objects.filter(action=TERRITORY_REFUSED, at__gte=since)
              .values("object_id", "actor_id").annotate(n=Count("*"), last=Max("at"))
              .order_by("-last"))
    events = list(events)
    places = _places({int(row["object_id"]) for row in events})
    users = _users({row["actor_id"] for row in events})
    return [
        Signal("territory_refused", str(_("Encaissements hors territoire tentés")),
               row["last"], str(_("%(count)s tentative(s) refusée(s)")) % {"count": row["n"]},
               count=row["n"], place=places.get(int(row["object_id"])),
               user=users.get(row["actor_id"]))
        for row in events
    ]


def lookup_blocks(since=None):
    """Look-ups suspended after too many wrong codes (cheques.guard)."""
    since = since or default_since()
    events = list(AuditEvent.objects.filter(action=LOOKUP_BLOCKED, at__gte=since)
                  .select_related("actor").order_by("-at")[:200])
    return [
        Signal("lookup_blocked", str(_("Vérifications suspendues (codes erronés)")),
               event.at, str(_("%(failures)s codes erronés, adresse %(ip)s"))
               % {"failures": event.details.get("failures", "?"),
                  "ip": event.details.get("ip") or "?"},
               count=event.details.get("failures") or 1, user=event.actor)
        for event in events
    ]


def late_uploads(since=None):
    """Cheques received more than offline.LATE_UPLOAD after their scan, by place and
    mediator: how many, and the longest delay. (Few rows: grouped here, which also keeps
    duration arithmetic out of SQL, where SQLite and Postgres differ.)"""
    since = since or default_since()
    late = (Redemption.objects.filter(undone_at=None, redeemed_at__gte=since,
                                      scanned_at__isnull=False,
                                      redeemed_at__gt=F("scanned_at") + offline.LATE_UPLOAD)
            .values_list("place_id", "mediator_id", "redeemed_at", "scanned_at"))
    groups = {}
    for place_id, mediator_id, received, scanned in late:
        group = groups.setdefault((place_id, mediator_id),
                                  {"n": 0, "last": received, "delay": received - scanned})
        group["n"] += 1
        group["last"] = max(group["last"], received)
        group["delay"] = max(group["delay"], received - scanned)
    places = _places({place_id for place_id, _ in groups})
    users = _users({mediator_id for _, mediator_id in groups})
    return sorted((
        Signal("late_upload", str(_("Encaissements envoyés tard (hors ligne)")), row["last"],
               str(_("%(count)s chèque(s) reçu(s) jusqu’à %(hours)s h après leur scan"))
               % {"count": row["n"], "hours": int(row["delay"].total_seconds() // 3600)},
               count=row["n"], place=places.get(place_id), user=users.get(mediator_id))
        for (place_id, mediator_id), row in groups.items()
    ), key=lambda signal: signal.at, reverse=True)


def signals(since=None):
    """Every signal of the period, newest first."""
    since = since or default_since()
    found = (booklet_bursts(since) + mediator_bursts(since) + territory_refusals(since)
             + lookup_blocks(since) + late_uploads(since))
    return sorted(found, key=lambda signal: signal.at, reverse=True)


def _places(ids):
    from places.models import Place

    return Place.objects.in_bulk([pk for pk in ids if pk]) if ids else {}


def _users(ids):
    from django.contrib.auth import get_user_model

    ids = [pk for pk in ids if pk]
    return get_user_model().objects.in_bulk(ids) if ids else {}
