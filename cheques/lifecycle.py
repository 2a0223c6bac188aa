"""The life of issued cheques: look-up, hand-over, cancellation and end of validity.

Cheques go ``issued → distributed → redeemed → reimbursed``, or ``cancelled`` / ``expired``;
booklets follow (``started`` once one of their cheques is redeemed). Each change is a
conditional update on the current state, inside a transaction that writes the audit rows
(one per booklet, with the number of cheques, for bulk changes).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from aptic import audit
from aptic.errors import DomainError
from aptic.permissions import may_act_for_place
from places.departments import department_name

from . import access, codes, ledger, validity
from .models import Booklet, Cheque, Order

# --- look-up -------------------------------------------------------------------------------


def parse_code(raw_code, signature=None):
    """The normalised code, or a DomainError; no database access."""
    code = codes.normalise(raw_code)
    if not codes.is_well_formed(code):
        raise DomainError("invalid_format", _(
            "Code invalide : un code de chèque compte 13 caractères (XXXX-XXXX-XXXX-C)."))
    if not codes.has_valid_check(code):
        raise DomainError("bad_check_character", _(
            "Ce code comporte une erreur de saisie : vérifiez chaque caractère."))
    if signature is not None and not codes.verify_signature(code, signature):
        raise DomainError("bad_signature", _(
            "Ce QR code n’est pas authentique : saisissez le code imprimé."))
    return code


def lookup_cheque(raw_code, signature=None, *, for_update=False):
    """The cheque of a typed or scanned code. The format, the check character and the QR
    signature are verified before any database query."""
    code = parse_code(raw_code, signature)
    queryset = Cheque.objects.select_related("order", "booklet")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    cheque = queryset.filter(code=code).first()
    if cheque is None:
        raise unknown_cheque()
    return cheque


def unknown_cheque():
    """The answer for a code that matches no cheque, and for a cheque the actor may not see:
    the two must be indistinguishable."""
    return DomainError("unknown_cheque", _("Aucun chèque ne porte ce code."))


def unknown_booklet(number):
    return DomainError("unknown_booklet", _("Aucun carnet ne porte le numéro %(number)s.")
                       % {"number": number})


def refusal(cheque, today=None, *, user=None):
    """Why this cheque cannot be redeemed today, as a DomainError, or None if it can. Each
    refusal says what to do; an earlier redemption says when, and where when `user` acts
    for that place (another structure learns the moment only)."""
    today = today or timezone.localdate()
    order = cheque.order
    if cheque.state == Cheque.State.CANCELLED:
        return DomainError("cancelled", _(
            "Ce chèque a été annulé (perte ou vol) : il ne peut pas être encaissé."))
    if cheque.state == Cheque.State.REPLACED:
        number = replacement_number(cheque.booklet_id)
        return DomainError("replaced", _("Ce chèque a été remplacé par le carnet %(number)s : "
                                         "il n’est plus valable.") % {"number": number},
                           replacement=number)
    if cheque.state in (Cheque.State.REDEEMED, Cheque.State.REIMBURSED):
        return _already_redeemed(cheque, user)
    if cheque.state == Cheque.State.EXPIRED or today > order.expiry_date:
        return DomainError("expired", _(
            "Ce chèque a expiré : il était accepté jusqu’au %(date)s inclus."
        ) % {"date": validity.short(order.expiry_date)},
            accepted_until=order.expiry_date.isoformat())
    if order.requires_activation and cheque.activated_at is None:
        return DomainError("not_activated", _(
            "Ce chèque n’est pas encore activé : sa remise n’a pas été enregistrée. "
            "Invitez la personne à demander au prescripteur qui lui a remis le carnet "
            "d’enregistrer cette remise."))
    return None


def _already_redeemed(cheque, user):
    live = cheque.redemptions.filter(undone_at=None).select_related("place").first()
    if live is None:
        return DomainError("already_redeemed", _("Ce chèque a déjà été encaissé."))
    when = validity.short_moment(live.redeemed_at)
    extra = {"redeemed_at": live.redeemed_at.isoformat()}
    if user is not None and may_act_for_place(user, live.place):
        extra["place"] = {"id": live.place_id, "name": live.place.name}
        return DomainError("already_redeemed", _(
            "Ce chèque a déjà été encaissé le %(date)s à %(time)s, ici : %(place)s. "
            "Un chèque ne se paie qu’une fois ; voyez l’historique des encaissements."
        ) % {**when, "place": live.place.name}, **extra)
    if live.place.department:
        # Another structure's place is not named (where a cheque was used stays between its
        # funder and that place), but its département tells the mediator where to look.
        extra["department"] = live.place.department
        return DomainError("already_redeemed", _(
            "Ce chèque a déjà été encaissé le %(date)s à %(time)s, dans un autre lieu "
            "(%(department)s) : il ne peut pas être payé une seconde fois."
        ) % {**when, "department": department_name(live.place.department)}, **extra)
    return DomainError("already_redeemed", _(
        "Ce chèque a déjà été encaissé le %(date)s à %(time)s, dans un autre lieu : il ne "
        "peut pas être payé une seconde fois."
    ) % when, **extra)


def ensure_redeemable(cheque, today=None):
    error = refusal(cheque, today)
    if error:
        raise error
    return cheque


def replacement_number(booklet_id):
    """The number of the booklet that replaced this one (cheques.replacement), or ""."""
    return Booklet.objects.filter(replaces_id=booklet_id).values_list(
        "number", flat=True).first() or ""


@dataclass(frozen=True)
class Status:
    """Where a cheque stands, as its holder reads it: `code` (usable, to_activate, used,
    expired, cancelled, replaced), a short `label` and a sentence that says what to do."""

    code: str
    label: str
    detail: str


def status(cheque, today=None):
    """The cheque's state in plain French, judged by `refusal`: the public page of a cheque
    says what the scan page would answer."""
    today = today or timezone.localdate()
    error = refusal(cheque, today)
    if error is None:
        return Status("usable", _("Utilisable"), _(
            "Présentez-le dans un lieu #APTIC : une médiatrice ou un médiateur numérique vous "
            "aidera (démarches en ligne, ordinateur, smartphone…)."))
    if error.code == "not_activated":
        return Status("to_activate", _("À faire activer"), _(
            "Ce chèque doit d’abord être activé : demandez à la personne qui vous a remis "
            "le carnet d’enregistrer sa remise."))
    if error.code == "already_redeemed":
        used = (cheque.redemptions.filter(undone_at=None).values_list("redeemed_at", flat=True)
                .first() or cheque.state_changed_at)
        return Status("used", _("Utilisé le %(date)s") % {
            "date": formats.date_format(timezone.localtime(used), "DATE_FORMAT")},
            _("Ce chèque a déjà servi : il ne peut plus être utilisé."))
    labels = {"expired": _("Expiré"), "cancelled": _("Annulé"), "replaced": _("Remplacé")}
    return Status(error.code, labels.get(error.code, _("Inutilisable")), error.detail)



# --- booklets ------------------------------------------------------------------------------


def booklet_after_undo(booklet_id, *, now):
    """A redemption of the booklet was undone: with no other cheque used, the booklet is no
    longer started (handed out again, or issued if it never was)."""
    if Cheque.objects.filter(booklet_id=booklet_id, state__in=(
            Cheque.State.REDEEMED, Cheque.State.REIMBURSED)).exists():
        return
    state = (Booklet.State.DISTRIBUTED
             if Booklet.objects.filter(pk=booklet_id, distributed_at__isnull=False).exists()
             else Booklet.State.ISSUED)
    Booklet.objects.filter(pk=booklet_id, state=Booklet.State.STARTED).update(
        state=state, state_changed_at=now)


def get_booklet(number, *, for_update=False):
    number = (number or "").strip().upper().replace(" ", "")
    queryset = Booklet.objects.select_related("order", "order__funder")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    booklet = queryset.filter(number=number).first()
    if booklet is None:
        raise unknown_booklet(number)
    return booklet






def distribute_booklet(number, *, actor, age_bracket="", postcode="", situation="",
                       today=None):
    """Record the hand-over of a booklet to a beneficiary (an anonymous profile only)."""
    today = today or timezone.localdate()
    if not access.may_hand_over_booklets(actor):
        raise DomainError("forbidden", _("Réservé aux prescripteurs et aux financeurs."))
    with transaction.atomic():
        booklet = get_booklet(number, for_update=True)
        order = booklet.order
        if not access.may_distribute(actor, order):
            raise unknown_booklet(booklet.number)
        if booklet.state == Booklet.State.CANCELLED:
            raise DomainError("cancelled", _("Ce carnet a été annulé : il ne peut être remis."))
        if booklet.state == Booklet.State.EXPIRED or today > order.valid_until:
            raise DomainError("expired", _("Ce carnet n’est plus valable."))
        if booklet.state != Booklet.State.ISSUED:
            raise DomainError("already_distributed", _("Ce carnet a déjà été remis le %(date)s.")
                              % {"date": timezone.localtime(booklet.distributed_at)
                                 .strftime("%d/%m/%Y") if booklet.distributed_at else "?"})
        if today > order.handover_deadline:
            raise DomainError("handover_closed", _(
                "Les remises sont closes : la fin de validité (%(date)s) est trop proche."
            ) % {"date": order.valid_until.strftime("%d/%m/%Y")})
        now = timezone.now()
        department, commune = territory_of(postcode)
        holder = booklet.holder_id or handing_prescriber(actor, order)
        Booklet.objects.filter(pk=booklet.pk, state=Booklet.State.ISSUED).update(
            state=Booklet.State.DISTRIBUTED, state_changed_at=now, distributed_at=now,
            distributed_by=actor if actor and actor.is_authenticated else None,
            age_bracket=age_bracket or "", postcode=postcode or "", situation=situation or "",
            department=department, commune=commune, holder_id=holder,
            held_since=booklet.held_since or (now if holder else None),
        )
        count = Cheque.objects.filter(booklet=booklet, state=Cheque.State.ISSUED).update(
            state=Cheque.State.DISTRIBUTED, state_changed_at=now, activated_at=now,
        )
        booklet.refresh_from_db()
        audit.record(actor, booklet, "booklet.distributed", Booklet.State.ISSUED,
                     Booklet.State.DISTRIBUTED, cheques=count, age_bracket=age_bracket,
                     postcode=postcode, situation=situation)
    return booklet


def territory_of(postcode):
    """(département, commune) of a beneficiary's postcode, as the funnel groups hand-overs:
    the commune when the gazetteer knows only one for the postcode."""
    from places.departments import department_of
    from places.models import Commune

    if not postcode:
        return "", ""
    names = list(Commune.objects.filter(postcode=postcode).values_list("name", flat=True)
                 .distinct()[:2])
    return department_of(postcode), (names[0][:150] if len(names) == 1 else "")


def handing_prescriber(actor, order):
    """The prescriber organisation of the funder's that `actor` hands booklets for (the
    booklet's holder from now on), or None (the funder itself, the operator)."""
    from aptic.models import Organisation, Role
    from aptic.permissions import organisations_for

    return (organisations_for(actor, Role.PRESCRIBER)
            .filter(kind=Organisation.Kind.PRESCRIBER, funder_id=order.funder_id)
            .order_by("pk").values_list("pk", flat=True).first())


MAX_MOVED = 500


def move_booklets(numbers, *, to_holder, actor):
    """Move undistributed booklets to another prescriber of their funder (`to_holder`, an
    organisation or its id; None: back to the funder's own stock). All or nothing: a
    booklet already handed out (or cancelled, expired) is refused, and so is a booklet of
    another funder than the actor's (as an unknown one). Audited and counted."""
    from aptic.models import Organisation

    from .models import BookletMove

    if not access.may_move_booklets(actor):
        raise DomainError("forbidden", _("Réservé aux financeurs et à l’opérateur."))
    wanted = []
    for number in numbers or ():
        number = (str(number) or "").strip().upper().replace(" ", "")
        if number and number not in wanted:
            wanted.append(number)
    if not wanted:
        raise DomainError("no_booklets", _("Indiquez au moins un numéro de carnet."))
    if len(wanted) > MAX_MOVED:
        raise DomainError("too_many_booklets", _("Au plus %(max)s carnets à la fois.")
                          % {"max": MAX_MOVED})
    target = None
    if to_holder not in (None, ""):
        target_id = getattr(to_holder, "pk", to_holder)
        target = Organisation.objects.filter(pk=target_id,
                                             kind=Organisation.Kind.PRESCRIBER).first() \
            if str(target_id).isdigit() else None
        if target is None:
            raise DomainError("unknown_prescriber", _("Prescripteur inconnu."))
    now = timezone.now()
    with transaction.atomic():
        booklets = list(Booklet.objects.select_for_update(of=("self",))
                        .select_related("order").filter(number__in=wanted).order_by("pk"))
        found = {booklet.number: booklet for booklet in booklets}
        for number in wanted:
            booklet = found.get(number)
            if booklet is None or not access.may_move(actor, booklet.order):
                raise unknown_booklet(number)
            if target is not None and target.funder_id != booklet.order.funder_id:
                raise DomainError("unknown_prescriber", _(
                    "Ce prescripteur ne distribue pas les carnets de ce financeur."))
            if booklet.state != Booklet.State.ISSUED:
                raise DomainError("already_handed_out", _(
                    "Le carnet %(number)s est « %(state)s » : seul un carnet pas encore remis "
                    "change de prescripteur.") % {"number": booklet.number,
                                                   "state": booklet.get_state_display()})
        moving = [b for b in booklets if b.holder_id != (target.pk if target else None)]
        if not moving:
            return []
        Booklet.objects.filter(pk__in=[b.pk for b in moving],
                               state=Booklet.State.ISSUED).update(
            holder=target, held_since=now)
        BookletMove.objects.bulk_create([
            BookletMove(booklet=b, order_id=b.order_id, from_holder_id=b.holder_id,
                        to_holder=target, at=now,
                        actor=actor if getattr(actor, "is_authenticated", False) else None)
            for b in moving])
        for holder in {b.holder_id for b in moving}:
            audit.record_many(actor, [b for b in moving if b.holder_id == holder],
                              "booklet.moved", Booklet.State.ISSUED, Booklet.State.ISSUED,
                              from_holder=holder, to_holder=target.pk if target else None)
        for booklet in moving:
            booklet.holder, booklet.held_since = target, now
    return moving


def _cancellation_reason(actor, reason):
    """The reason of a cancellation by `actor`, who must be allowed to cancel at all."""
    if not access.may_cancel_cheques(actor):
        raise DomainError("forbidden", _("Réservé aux financeurs et à l’opérateur."))
    if not (reason or "").strip():
        raise DomainError("reason_required", _("Indiquez le motif de l’annulation."))
    return reason.strip()


def cancel_booklet(number, *, actor, reason):
    """A lost or stolen booklet: its unused cheques can never be redeemed."""
    reason = _cancellation_reason(actor, reason)
    with transaction.atomic():
        booklet = get_booklet(number, for_update=True)
        if not access.may_cancel(actor, booklet.order):
            raise unknown_booklet(booklet.number)
        if booklet.state in (Booklet.State.CANCELLED, Booklet.State.EXPIRED):
            raise DomainError(booklet.state, _("Ce carnet est déjà %(state)s.")
                              % {"state": booklet.get_state_display().lower()})
        now = timezone.now()
        count = Cheque.objects.filter(booklet=booklet, state__in=Cheque.OPEN_STATES).update(
            state=Cheque.State.CANCELLED, state_changed_at=now, cancellation_reason=reason[:300]
        )
        previous = booklet.state
        Booklet.objects.filter(pk=booklet.pk).update(
            state=Booklet.State.CANCELLED, state_changed_at=now,
            cancellation_reason=reason[:300],
        )
        booklet.refresh_from_db()
        audit.record(actor, booklet, "booklet.cancelled", previous, Booklet.State.CANCELLED,
                     cheques=count, reason=reason)
        ledger.cancelled(booklet.order, cheques=count, actor=actor, reference=booklet.number)
    return booklet, count


def cancel_cheque(raw_code, *, actor, reason):
    reason = _cancellation_reason(actor, reason)
    with transaction.atomic():
        cheque = lookup_cheque(raw_code, for_update=True)
        if not access.may_cancel(actor, cheque.order):
            raise unknown_cheque()
        previous = cheque.state
        updated = Cheque.objects.filter(pk=cheque.pk, state__in=Cheque.OPEN_STATES).update(
            state=Cheque.State.CANCELLED, state_changed_at=timezone.now(),
            cancellation_reason=reason[:300],
        )
        if not updated:
            raise DomainError(previous, _("Ce chèque est « %(state)s » : il ne peut être annulé.")
                              % {"state": cheque.get_state_display()})
        cheque.refresh_from_db()
        audit.record(actor, cheque, "cheque.cancelled", previous, Cheque.State.CANCELLED,
                     reason=reason)
        ledger.cancelled(cheque.order, cheques=1, actor=actor, reference=cheque.number)
    return cheque


# --- end of validity -----------------------------------------------------------------------


def extend_validity(order, *, actor, valid_until):
    """The operator pushes back an order's end of validity (before its cheques expire)."""
    access.require(access.may_extend(actor, order), _("Seul l’opérateur prolonge une validité."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.expired_at is not None:
            raise DomainError("expired", _("Les chèques de cette commande ont déjà expiré."))
        if valid_until <= order.valid_until:
            raise DomainError("invalid_date", _(
                "La nouvelle date doit être postérieure au %(date)s."
            ) % {"date": order.valid_until.strftime("%d/%m/%Y")})
        latest = validity.latest_valid_until()
        if valid_until > latest:
            raise DomainError("invalid_date", _(
                "La nouvelle date est trop lointaine : le %(date)s au plus tard."
            ) % {"date": validity.short(latest)})
        previous = order.valid_until
        order.valid_until = valid_until
        order.expiry_alert_sent_at = None
        order.save(update_fields=["valid_until", "expiry_alert_sent_at", "updated_at"])
        audit.record(actor, order, "order.validity_extended", order.status, order.status,
                     previous=previous.isoformat(), valid_until=valid_until.isoformat())
    return order


def end_of_validity(today=None):
    """The daily job (idempotent): J-30 alerts, then expiry and credit notes."""
    today = today or timezone.localdate()
    alerted = 0
    issued = Order.objects.filter(status=Order.Status.ISSUED)
    alert_until = today + datetime.timedelta(days=settings.EXPIRY_ALERT_DAYS)
    for order in issued.filter(expiry_alert_sent_at=None, expired_at=None,
                               valid_until__lte=alert_until, valid_until__gte=today):
        alerted += _alert(order)
    expired = 0
    grace = datetime.timedelta(days=settings.EXPIRY_GRACE_DAYS)
    for order_id in issued.filter(expired_at=None, valid_until__lt=today - grace) \
            .values_list("pk", flat=True):
        expired += expire_order(order_id, today=today)
    return {"alerted": alerted, "expired_cheques": expired}


def _alert(order):
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, expiry_alert_sent_at=None).update(
            expiry_alert_sent_at=timezone.now()
        ):
            return 0
        audit.record(None, order, "order.expiry_alert", order.status, order.status,
                     valid_until=order.valid_until.isoformat())
        recipients = [email for email in {order.contact_email, order.funder.email} if email]
        if recipients:
            subject = _("[#APTIC] Fin de validité de la commande n° %(id)s le %(date)s") % {
                "id": order.pk, "date": order.valid_until.strftime("%d/%m/%Y")}
            body = _(
                "Les chèques de votre commande n° %(id)s ne seront plus valables après le "
                "%(date)s. Les remises seront closes 15 jours avant cette date."
            ) % {"id": order.pk, "date": order.valid_until.strftime("%d/%m/%Y")}
            transaction.on_commit(lambda: send_mail(
                subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True))
    return 1


def expire_order(order_id, *, today=None):
    """Unredeemed cheques of an order past its grace period expire; the credit note is
    their face value. Runs once per order (guarded by `expired_at`)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.expired_at is not None or order.status != Order.Status.ISSUED:
            return 0
        now = timezone.now()
        open_cheques = Q(state__in=Cheque.OPEN_STATES)
        per_booklet = {
            row["booklet_id"]: row["n"]
            for row in order.cheques.filter(open_cheques).values("booklet_id")
            .annotate(n=Count("id")).order_by()
        }
        count = order.cheques.filter(open_cheques).update(
            state=Cheque.State.EXPIRED, state_changed_at=now)
        touched = list(order.booklet_set.filter(pk__in=list(per_booklet)))
        order.booklet_set.filter(
            state__in=[Booklet.State.ISSUED, Booklet.State.DISTRIBUTED]
        ).update(state=Booklet.State.EXPIRED, state_changed_at=now)
        order.expired_at = now
        order.credit_note_cents = count * order.face_value_cents
        order.save(update_fields=["expired_at", "credit_note_cents", "updated_at"])
        # One audit row per booklet with the number of its cheques that expired, written in
        # one INSERT per (previous state, count) group.
        groups = {}
        for booklet in touched:
            groups.setdefault((booklet.state, per_booklet[booklet.pk]), []).append(booklet)
        for (previous, cheques), group in groups.items():
            to_state = (Booklet.State.EXPIRED if previous in
                        (Booklet.State.ISSUED, Booklet.State.DISTRIBUTED) else previous)
            audit.record_many(None, group, "booklet.expired", previous, to_state,
                              cheques=cheques)
        audit.record(None, order, "order.expired", order.status, order.status,
                     expired_cheques=count, credit_note_cents=order.credit_note_cents)
        ledger.expired(order, cheques=count)
    return count
