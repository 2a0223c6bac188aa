"""Redemption (encaissement): a mediator at a qualified place pays cheques for a service.

One function, `redeem`, holds every rule; the scan page and the API both call it. A basket
of cheques is redeemed atomically or not at all, and a cheque is paid once: rows are locked
in primary-key order, changed by a conditional update on their state, and a partial unique
constraint on the live redemption of a cheque is the last line of defence.
"""

import datetime
import hashlib
import json
import uuid
from dataclasses import dataclass

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.postgres.expressions import ArraySubquery
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Subquery, Sum
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from aptic import audit, prepared, statements
from aptic.errors import DomainError
from aptic.models import AuditEvent
from aptic.permissions import may_act_for_place
from places.access import places_for_redemption
from places.departments import department_name
from places.models import Place
from services.models import Service

from . import access, fraud, guard, ledger, offline
from .lifecycle import booklet_after_undo, parse_code, refusal
from .models import Booklet, Cheque, IdempotentResponse, LedgerEntry, Order, Redemption

MAX_CODES = 50
UNDO_WINDOW = datetime.timedelta(hours=24)


@dataclass
class RedemptionResult:
    basket: uuid.UUID
    redemptions: list
    total_cents: int
    answer: dict = None  # the stored answer of an Idempotency-Key


# --- who may redeem where ------------------------------------------------------------------


def place_for_redemption(user, place_id):
    """The place, if it exists, is qualified and the user is its mediator or manager."""
    return _checked_place(user, _places(user, place_id).first())


def service_for_redemption(place, slug):
    return _checked_service(_services(slug, place.pk).first())


def place_and_service(user, place_id, slug):
    """place_for_redemption and service_for_redemption in one query (one round trip),
    compiled once (aptic.prepared)."""
    place_id = _place_id(place_id)
    if getattr(user, "is_authenticated", False):
        rows = _PLACE_AND_SERVICE(user.pk, place_id, slug or "")
    else:
        rows = list(_place_and_service(user, place_id, slug or ""))
    place = _checked_place(user, rows[0] if rows else None)
    return place, _checked_service(_service_from(place.service))


def _place_and_service(user, place_id, slug):
    service = JSONObject(offered=F("offered"), **{
        field.attname: F(field.attname) for field in Service._meta.concrete_fields})
    return (_places(user, place_id)
            .annotate(service=Subquery(_services(slug, OuterRef(OuterRef("pk")))
                                       .values(json=service)[:1]))
            .order_by("pk")[:1])


_PLACE_AND_SERVICE = prepared.Prepared(
    lambda user_id, place_id, slug: _place_and_service(get_user_model()(pk=user_id),
                                                       place_id, slug))


def _place_id(place_id):
    try:
        return int(place_id)
    except (TypeError, ValueError):
        raise DomainError("unknown_place", _("Lieu inconnu.")) from None


def _places(user, place_id):
    return (Place.objects.filter(pk=_place_id(place_id))
            .only("id", "name", "structure_id", "qualification", "department")
            .annotate(may_redeem=Exists(places_for_redemption(user).filter(pk=OuterRef("pk")))))


def _checked_place(user, place):
    if place is None:
        raise DomainError("unknown_place", _("Lieu inconnu."))
    if place.may_redeem:
        return place
    if not may_act_for_place(user, place):
        raise DomainError("forbidden", _("Vous n’êtes pas médiateur de ce lieu."))
    if not place.is_qualified:
        raise DomainError("place_not_qualified", _(
            "Ce lieu n’est pas (ou plus) qualifié : il ne peut pas encaisser de chèques."))
    return place


def _services(slug, place_id):
    return (Service.objects.filter(slug=slug or "", active=True, category__active=True)
            .annotate(offered=Exists(Place.services.through.objects.filter(
                place_id=place_id, service_id=OuterRef("pk")))))


def _service_from(row):
    if row is None:
        return None
    if isinstance(row, str):  # SQLite answers JSON as text
        row = json.loads(row)
    names = [field.attname for field in Service._meta.concrete_fields]
    service = Service.from_db("default", names, [row[name] for name in names])
    service.offered = row["offered"]
    return service


def _checked_service(service):
    if service is None:
        raise DomainError("unknown_service", _("Service inconnu ou désactivé."))
    if not service.offered:
        raise DomainError("service_not_allowed", _("Ce lieu ne propose pas ce service."))
    return service


# --- the rules -----------------------------------------------------------------------------


def parse_basket(raw_codes, signatures=None):
    """Normalised codes of a basket; format, check characters and QR signatures are checked
    before any database query."""
    if not raw_codes:
        raise DomainError("empty_basket", _("Le panier est vide : ajoutez au moins un chèque."))
    if len(raw_codes) > MAX_CODES:
        raise DomainError("too_many_codes", _("Au plus %(max)s chèques par encaissement.")
                     % {"max": MAX_CODES})
    signatures = signatures or {}
    parsed = []
    for raw in raw_codes:
        if not isinstance(raw, str):
            raise DomainError("invalid_format", _("Code invalide."))
        try:
            code = parse_code(raw, signatures.get(raw))
        except DomainError as error:
            raise DomainError(error.code, error.detail, cheque=raw) from None
        if code in parsed:
            raise DomainError("duplicate_code", _(
                "Le chèque %(code)s figure deux fois dans le panier.") % {"code": raw},
                cheque=raw)
        parsed.append(code)
    return parsed


def _check_cheque(cheque, *, place, service, user, today, allowed_services):
    """Raise why `cheque` cannot pay `service` at `place` (either may be None when not yet
    chosen: only what is known is checked)."""
    error = refusal(cheque, today, user=user)
    if error is not None:
        raise DomainError(error.code, error.detail, cheque=cheque.display_code, **error.extra)
    order = cheque.order
    allowed = allowed_services.get(order.pk)
    if service is not None and allowed and service.pk not in allowed:
        labels = [s.display_label for s in Service.objects.filter(pk__in=allowed)
                  .order_by("label")]
        raise DomainError("service_not_allowed", _(
            "Le financeur de ce chèque ne paie pas « %(service)s ». Il accepte : %(list)s.")
            % {"service": service.display_label, "list": ", ".join(labels)},
            cheque=cheque.display_code)
    if place is not None and order.territory and place.department not in order.territory:
        raise DomainError("territory_not_allowed", _(
            "Ce chèque n’est accepté que dans ces départements : %(list)s. Ce lieu est dans "
            "le département %(place)s.")
            % {"list": ", ".join(department_name(code) for code in order.territory),
               "place": department_name(place.department) if place.department else "—"},
            cheque=cheque.display_code, territory=list(order.territory))


def basket_refusal(cheque, *, user, place=None, service=None, today=None):
    """Why `cheque`, once in a basket for `service` at `place`, would be refused (a
    DomainError), or None: what the scan page shows on each row before redeeming."""
    today = today or timezone.localdate()
    try:
        _check_cheque(cheque, place=place, service=service, user=user, today=today,
                      allowed_services=_allowed_services({cheque.order_id}))
    except DomainError as error:
        return error
    return None


# --- the price of a service ----------------------------------------------------------------


def cheques_per_session(service):
    """What one session of `service` costs, in cheques (at least one)."""
    return max(service.default_cheques, 1)


def check_price(service, count, sessions=None):
    """A basket pays for whole sessions: its `count` of cheques is a multiple of the
    service's price, and exactly `sessions` × price when the caller states `sessions`."""
    price = cheques_per_session(service)
    if sessions is not None:
        if isinstance(sessions, bool) or not isinstance(sessions, int) or sessions < 1:
            raise DomainError("invalid", _("Le nombre de séances doit être un entier positif."))
        expected = sessions * price
        if count != expected:
            raise DomainError("wrong_cheque_count", _(
                "« %(service)s » coûte %(price)s par séance : pour %(sessions)s, le panier "
                "doit compter %(expected)s ; il en compte %(count)s.") % {
                    "service": service.display_label, "price": _cheques(price),
                    "sessions": ngettext("%(n)s séance", "%(n)s séances", sessions)
                    % {"n": sessions},
                    "expected": _cheques(expected), "count": count},
                expected=[expected], cheques_per_session=price)
        return
    if count % price:
        lower = count - count % price
        expected = [n for n in (lower, lower + price) if n]
        raise DomainError("wrong_cheque_count", _(
            "« %(service)s » coûte %(price)s par séance : le panier doit en compter un "
            "multiple. Il en compte %(count)s ; il en faut %(expected)s.") % {
                "service": service.display_label, "price": _cheques(price), "count": count,
                "expected": (_("%(a)s ou %(b)s") % {"a": expected[0], "b": expected[1]}
                             if len(expected) == 2 else expected[0])},
            expected=expected, cheques_per_session=price)


def _cheques(count):
    return ngettext("%(n)s chèque", "%(n)s chèques", count) % {"n": count}


def _allowed_services(order_ids):
    through = Order.allowed_services.through
    allowed = {}
    for order_id, service_id in through.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "service_id"
    ):
        allowed.setdefault(order_id, set()).add(service_id)
    return allowed


def redeem(*, user, place, service, codes, signatures=None, now=None, sessions=None,
           scanned_at=None, device="", idempotency=None):
    """Redeem every cheque of the basket for `service` at `place`, or none of them.

    `place` and `service` are ids/slugs (or objects already checked); `sessions`, when the
    caller states it, is how many sessions the basket pays for; `scanned_at` and `device`,
    for a basket kept offline, when and on what it was scanned (cheques.offline). Raises
    DomainError (with .code, .detail, .status and .extra) on the first refusal; nothing is
    written then. With `idempotency` (an Idempotency), the basket's summary is stored as the
    key's answer in the same transaction (result.answer); when the key already has one,
    KeyTaken is raised and nothing is written.
    """
    now = now or timezone.now()
    parsed, place, service, scanned_at, today = _basket(
        user=user, place=place, service=service, codes=codes, signatures=signatures,
        sessions=sessions, scanned_at=scanned_at, now=now)
    basket = uuid.uuid4()
    try:
        return _redeem_locked(user=user, place=place, service=service, parsed=parsed,
                              now=now, today=today, basket=basket, scanned_at=scanned_at,
                              device=offline.clean_device(device), idempotency=idempotency)
    except IntegrityError:
        # The partial unique constraint caught a concurrent redemption of the same cheque.
        raise DomainError("already_redeemed", _("Un chèque du panier est déjà encaissé.")) from None


def _basket(*, user, place, service, codes, signatures, sessions, scanned_at, now):
    """The rules of a basket that need no lock (its codes, the place, the service, the
    price, the scan time); the basket's codes, place, service, scan time (UTC) and the day
    its cheques are judged on."""
    parsed = parse_basket(codes, signatures)
    if not isinstance(place, Place) and not isinstance(service, Service):
        place, service = place_and_service(user, place, service)
    if not isinstance(place, Place):
        place = place_for_redemption(user, place)
    if not isinstance(service, Service):
        service = service_for_redemption(place, service)
    check_price(service, len(parsed), sessions)
    scanned_at = offline.check_scan_time(scanned_at, now)
    return parsed, place, service, scanned_at, offline.scan_day(scanned_at, now)


def _ensure_found(parsed, cheques):
    if len(cheques) != len(parsed):
        found = {cheque.code for cheque in cheques}
        missing = next(code for code in parsed if code not in found)
        raise DomainError("unknown_cheque", _("Aucun chèque ne porte le code %(code)s.")
                          % {"code": missing}, cheque=missing)


def check(*, user, place, service, codes, signatures=None, now=None, sessions=None,
          scanned_at=None):
    """What `redeem` would answer for this basket now, without changing anything: the
    same rules (raised as the same DomainError), no lock, no write. Returns what the basket
    would pay."""
    now = now or timezone.now()
    parsed, place, service, _scanned_at, today = _basket(
        user=user, place=place, service=service, codes=codes, signatures=signatures,
        sessions=sessions, scanned_at=scanned_at, now=now)
    cheques = list(Cheque.objects.select_related("order").filter(code__in=parsed)
                   .order_by("pk"))
    _ensure_found(parsed, cheques)
    allowed = _allowed_services({cheque.order_id for cheque in cheques})
    for cheque in cheques:
        _check_cheque(cheque, place=place, service=service, user=user, today=today,
                      allowed_services=allowed)
    by_code = {cheque.code: cheque for cheque in cheques}
    return {
        "redeemable": True,
        "total_cents": sum(cheque.face_value_cents for cheque in cheques),
        "place": place.pk, "service": service.slug,
        "cheques": [{"cheque": by_code[code].number, "code": by_code[code].display_code,
                     "amount_cents": by_code[code].face_value_cents} for code in parsed],
    }


def _locked_cheques(parsed):
    """The basket's cheques with their orders, locked in primary-key order so that two
    baskets sharing cheques cannot deadlock, and the services their orders allow
    ({order id: service ids}, for the orders that restrict them). On Postgres, one round
    trip by a query compiled once per basket size (aptic.prepared), each cheque carrying
    the id its redemption will take."""
    if connection.vendor != "postgresql":
        cheques = list(_cheques_to_lock(parsed))
        return cheques, _allowed_services({cheque.order_id for cheque in cheques})
    cheques = _LOCKED_CHEQUES(list(parsed))
    return cheques, {cheque.order_id: set(cheque.allowed) for cheque in cheques
                     if cheque.allowed}


def _cheques_to_lock(codes):
    return (Cheque.objects.select_for_update(of=("self",)).select_related("order")
            .filter(code__in=codes).order_by("pk"))


_LOCKED_CHEQUES = prepared.Prepared(lambda codes: _cheques_to_lock(codes).annotate(
    allowed=ArraySubquery(Order.allowed_services.through.objects
                          .filter(order_id=OuterRef("order_id")).values("service_id")),
    redemption_id=RawSQL("nextval(pg_get_serial_sequence(%s, 'id'))",
                         (Redemption._meta.db_table,))))


def _redeem_locked(*, user, place, service, parsed, now, today, basket, scanned_at=None,
                   device="", idempotency=None):
    with transaction.atomic():
        cheques, allowed = _locked_cheques(parsed)
        _ensure_found(parsed, cheques)
        for cheque in cheques:
            _check_cheque(cheque, place=place, service=service, user=user, today=today,
                          allowed_services=allowed)
        redemptions = [
            Redemption(id=getattr(cheque, "redemption_id", None), cheque=cheque,
                       order_id=cheque.order_id, place=place,
                       structure_id=place.structure_id, service=service, mediator=user,
                       amount_cents=cheque.face_value_cents, redeemed_at=now,
                       previous_state=cheque.state, basket=basket, scanned_at=scanned_at,
                       device=device)
            for cheque in cheques
        ]
        result = RedemptionResult(basket=basket, redemptions=redemptions,
                                  total_cents=sum(r.amount_cents for r in redemptions))
        result.answer = _write_redemption(user=user, place=place, service=service,
                                          cheques=cheques, result=result, now=now,
                                          idempotency=idempotency,
                                          details=offline.audit_details(scanned_at, device))
        for cheque in cheques:
            cheque.state = Cheque.State.REDEEMED
    return result


# A cheque is paid once: only an open cheque changes (the rows changed are counted).
_REDEEM_CHEQUES = statements.Update(
    "cheques", lambda ids: Cheque.objects.filter(pk__in=ids, state__in=Cheque.OPEN_STATES),
    returning="id")
_START_BOOKLETS = statements.Update("booklets", lambda ids: Booklet.objects.filter(
    pk__in=ids, state__in=(Booklet.State.ISSUED, Booklet.State.DISTRIBUTED)))


def _write_redemption(*, user, place, service, cheques, result, now, idempotency, details):
    """Everything a redemption writes, in one round trip on Postgres: the cheques' state
    (a conditional update: a cheque is paid once), the redemptions, the booklets started,
    the audit events, the ledger entries and, with a key, the stored answer. Returns the
    stored answer (as the database keeps it, so that a replay is the same to the byte)."""
    redemptions = result.redemptions
    writes = [_REDEEM_CHEQUES([cheque.pk for cheque in cheques],
                              state=Cheque.State.REDEEMED, state_changed_at=now)]
    together = redemptions[0].pk is not None
    if together:
        writes.append(statements.insert("redemptions", Redemption, redemptions))
    else:  # no sequence to draw ids from (SQLite): the ids come back from the INSERT
        changed = statements.run(writes)["cheques"]
        if len(changed) != len(cheques):
            raise DomainError("already_redeemed", _("Un chèque du panier vient d’être encaissé."))
        Redemption.objects.bulk_create(redemptions)
        writes = []
    writes.append(_START_BOOKLETS(sorted({cheque.booklet_id for cheque in cheques}),
                                  state=Booklet.State.STARTED, state_changed_at=now))
    events = []
    for previous in sorted({cheque.state for cheque in cheques}):
        events += audit.events(user, [c for c in cheques if c.state == previous],
                               "cheque.redeemed", previous, Cheque.State.REDEEMED,
                               place=place.pk, service=service.slug, basket=str(result.basket),
                               **details)
    writes.append(statements.insert("audit", AuditEvent, events))
    writes.append(statements.insert("ledger", LedgerEntry,
                                    ledger.redeemed_entries(redemptions, actor=user)))
    if idempotency is not None:
        writes.append(idempotency.insert(201, summary_of(result)))
    written = statements.run(writes)
    if together and len(written["cheques"]) != len(cheques):
        raise DomainError("already_redeemed", _("Un chèque du panier vient d’être encaissé."))
    if idempotency is None:
        return None
    return idempotency.answer(written)


# --- undo ----------------------------------------------------------------------------------


def undo(*, redemption, user, now=None):
    """Cancel a redemption within 24 hours. Once it is in a reimbursement statement, the
    undo becomes a correction (cheques.corrections): the cheque comes back all the same,
    and the structure owes the amount back on its next statement."""
    from . import corrections

    now = now or timezone.now()
    if not access.may_undo(user, redemption):
        raise DomainError("forbidden", _(
            "Seul le médiateur qui a encaissé, ou un gestionnaire du lieu, peut annuler."))
    if redemption.undone_at is not None:
        raise DomainError("already_undone", _("Cet encaissement a déjà été annulé."))
    if now - redemption.redeemed_at > UNDO_WINDOW:
        raise DomainError("undo_window_closed", _(
            "Un encaissement ne peut être annulé que dans les 24 heures."))
    if getattr(redemption, "statement_id", None):
        return corrections.undo_after_statement(redemption, user=user, now=now)
    with transaction.atomic():
        undone = Redemption.objects.filter(pk=redemption.pk, undone_at=None, statement=None).update(
            undone_at=now, undone_by=user)
        if not undone:
            fresh = Redemption.objects.filter(pk=redemption.pk).first()
            if fresh is not None and fresh.undone_at is None and fresh.statement_id:
                # Put in a statement since this copy was loaded: a correction after all.
                return corrections.undo_after_statement(fresh, user=user, now=now)
            raise DomainError("already_undone", _("Cet encaissement a déjà été annulé."))
        reverted = Cheque.objects.filter(
            pk=redemption.cheque_id, state=Cheque.State.REDEEMED
        ).update(state=redemption.previous_state, state_changed_at=now)
        if not reverted:
            raise DomainError("already_undone", _("Cet encaissement a déjà été annulé."))
        cheque = redemption.cheque
        booklet_after_undo(cheque.booklet_id, now=now)
        audit.record(user, cheque, "cheque.redemption_undone", Cheque.State.REDEEMED,
                     redemption.previous_state, redemption=redemption.pk)
        ledger.undone(redemption, actor=user)
    redemption.undone_at, redemption.undone_by = now, user
    return redemption


# --- history -------------------------------------------------------------------------------



@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class RedemptionFilter(django_filters.FilterSet):
    place = IdFilter(field_name="place_id", label="Lieu (identifiant)")
    mediator = IdFilter(field_name="mediator_id", label="Médiateur (identifiant)")
    service = django_filters.CharFilter(field_name="service__slug",
                                        label="Service (identifiant, par exemple outils-atelier)")
    since = django_filters.DateFilter(field_name="redeemed_at", lookup_expr="date__gte",
                                      label="Encaissés à partir de ce jour (AAAA-MM-JJ)")
    until = django_filters.DateFilter(field_name="redeemed_at", lookup_expr="date__lte",
                                      label="Encaissés jusqu’à ce jour inclus (AAAA-MM-JJ)")

    class Meta:
        model = Redemption
        fields = ["place", "mediator", "service", "since", "until"]


def totals(queryset):
    live = queryset.filter(undone_at=None)
    return {"count": live.count(), "amount_cents": live.aggregate(s=Sum("amount_cents"))["s"] or 0}


# --- idempotency ---------------------------------------------------------------------------


def request_digest(payload):
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def summary_of(result):
    """What a redeemed basket tells the caller (and a retry with the same key)."""
    return {
        "basket": str(result.basket),
        "total_cents": result.total_cents,
        "redemptions": [
            {"id": r.pk, "cheque": r.cheque.number, "code": r.cheque.display_code,
             "amount_cents": r.amount_cents, "redeemed_at": r.redeemed_at.isoformat(),
             "scanned_at": r.scanned_at.isoformat() if r.scanned_at else None,
             "place": r.place_id, "service": r.service.slug}
            for r in result.redemptions
        ],
    }


class KeyTaken(Exception):
    """The Idempotency-Key already has an answer: the change was rolled back."""


@dataclass
class Idempotency:
    """An Idempotency-Key of `user` for a request of digest `digest`; its answer is stored
    by an INSERT … ON CONFLICT DO NOTHING, in the transaction of the change it answers."""

    user: object
    key: str
    digest: str

    def insert(self, status_code, body):
        return statements.insert("answer", IdempotentResponse, [IdempotentResponse(
            user=self.user, key=self.key, request_digest=self.digest, status_code=status_code,
            body=body)], returning=["body"], on_conflict=OnConflict.IGNORE)

    def answer(self, written):
        """The stored answer's body; KeyTaken when the key had one already."""
        rows = written["answer"]
        if not rows:
            raise KeyTaken
        body = rows[0]["body"]
        return json.loads(body) if isinstance(body, str) else body

    def store_refusal(self, refusal):
        """Store a refusal as the key's answer and return it as stored (the one its
        retries will get); KeyTaken when the key had an answer already."""
        with transaction.atomic():
            written = statements.run([self.insert(refusal.status, refusal.body())])
        return _stored_refusal(refusal.status, self.answer(written))


def _stored_refusal(status_code, body):
    refusal = dict(body)
    return DomainError(refusal.pop("code"), refusal.pop("detail"), status=status_code,
                       **refusal)


def _replay(user, key, digest):
    """The first outcome stored for (user, key): its summary, or its refusal raised again;
    None when nothing is stored. A key reused for another request is refused."""
    stored = IdempotentResponse.objects.filter(user=user, key=key).first()
    if stored is None:
        return None
    if stored.request_digest != digest:
        raise DomainError("idempotency_key_reused", _(
            "Cette clé d’idempotence a déjà servi pour une autre demande."))
    if stored.status_code >= 400:
        raise _stored_refusal(stored.status_code, stored.body)
    return stored.body


def redeem_once(*, user, ip_address, key, payload, place, service, codes, signatures=None,
                sessions=None, **options):
    """Redeem a basket once per (user, Idempotency-Key): a retry with the same request gets
    the first outcome again, to the byte, and a reuse of the key for another request is
    refused. The outcome is stored in the transaction of the redemption itself, so a crash
    cannot separate them.

    The key is not looked up first: the redemption is tried, and its answer stored with an
    INSERT … ON CONFLICT DO NOTHING; when the key had an answer already, the redemption is
    rolled back and the stored answer replayed (a retry finds its cheques redeemed, or its
    refusal again, and is rolled back the same way). Extra `options` go to `redeem`.

    A refused basket also feeds the brute-force guard (codes that look guessed) and the
    fraud signals (a cheque tried outside its territory); a blocked caller is refused first,
    a replayed refusal is not counted twice. A basket kept offline uses its client nonce as
    the key (cheques.offline).
    Returns the basket's summary, or raises the refusal (DomainError)."""
    guard.ensure_not_blocked(user, ip_address)
    idempotency = Idempotency(user, key, request_digest(payload)) if key else None
    try:
        result = redeem(user=user, place=place, service=service, codes=codes,
                        signatures=signatures, sessions=sessions, idempotency=idempotency,
                        **options)
    except KeyTaken:
        return _replay(user, key, idempotency.digest)
    except DomainError as refusal:
        answer = refusal
        if idempotency is not None:
            try:
                answer = idempotency.store_refusal(refusal)
            except KeyTaken:
                return _replay(user, key, idempotency.digest)
        guard.record_failure(user, ip_address, refusal)
        if refusal.code == "territory_not_allowed":
            fraud.record_territory_refusal(user, place, refusal.extra.get("cheque"))
        if answer is refusal:
            raise
        raise answer from refusal
    return result.answer if idempotency is not None else summary_of(result)


def check_for(*, user, ip_address, place, service, codes, signatures=None, sessions=None,
              scanned_at=None):
    """`check` for a caller: a look-up like any other, so a blocked caller is refused and a
    code that looks guessed feeds the brute-force guard (cheques.guard). Nothing else is
    recorded: no idempotency row, no fraud signal."""
    guard.ensure_not_blocked(user, ip_address)
    try:
        return check(user=user, place=place, service=service, codes=codes,
                     signatures=signatures, sessions=sessions, scanned_at=scanned_at)
    except DomainError as refusal:
        guard.record_failure(user, ip_address, refusal)
        raise
