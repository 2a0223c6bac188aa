"""Reimbursement of places: statements (relevés), payment batches (SEPA), transfers and
what the bank says of them.

- `run(until=...)` draws up, for each structure, a draft statement of its live redemptions
  up to `until` (a day, Europe/Paris; by default the last day of the previous month) that
  are in no statement yet, and of its adjustments not yet carried (cheques.corrections: a
  correction's debit, a goodwill payment). A redemption is taken once: it is attached by a
  conditional update (``statement IS NULL AND undone_at IS NULL``) and the lines are built
  from the rows that update actually attached, so concurrent or repeated runs cannot
  overlap; adjustments are locked while their remaining amount is computed.
- A statement never goes below zero: when its debits exceed the rest, a carry-over line
  brings it to zero and the next statement deducts what is left.
- Corrections: a validated statement is immutable; a redemption undone or corrected after
  its statement is a debit line on a later one (cheques.corrections).
- `validate(statement)`: operator only, draft statements with lines only. A statement whose
  total is zero is settled there and then: there is nothing to transfer.
- `create_batch(statement_ids)`: validated statements (or statements to pay again after a
  rejection) not yet in a batch become one SEPA credit-transfer file (pain.001.001.03,
  checked against its XSD), one transfer each, found again in the bank's files by its
  EndToEndId. Every structure must have valid bank details, not those the bank rejected;
  otherwise nothing is written and the error lists the blocked ones.
- A batch is ``draft`` until its file is downloaded (``sent``); the bank's files
  (cheques.bank_reports) accept, reject or pay its transfers, and the batch's state follows
  them. `mark_paid(batch)` records the payment by hand, for an operator without the bank's
  files. A paid transfer settles its statement: statement paid, cheques reimbursed, ledger
  moved; a rejected one puts its statement back to pay (« à repayer »), flags the bank
  details when the reason is theirs and tells the place managers by e-mail.

Every function that changes a state writes its audit rows in the same transaction.
"""

import datetime
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aptic import audit
from aptic.errors import DomainError
from aptic.l10n import format_decimal, translated_label
from aptic.pdf import in_french, render_pdf
from places import banking

from . import access, bank_reasons, ledger
from .models import (
    Adjustment,
    Cheque,
    PaymentBatch,
    Redemption,
    Statement,
    StatementLine,
    Transfer,
)

# --- periods -------------------------------------------------------------------------------


def default_until(today=None):
    """The last day of the previous month."""
    today = today or timezone.localdate()
    return today.replace(day=1) - datetime.timedelta(days=1)


def parse_until(value):
    """A date from ``YYYY-MM-DD`` (or a date), or a DomainError."""
    if value in (None, ""):
        return default_until()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise DomainError("invalid_date", _(
            "Date invalide : utilisez le format AAAA-MM-JJ.")) from None


def _end_of_day(day):
    """The first instant after `day` in the site's time zone (an aware datetime)."""
    next_day = day + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(next_day, datetime.time.min))


# --- runs ----------------------------------------------------------------------------------


def pending_redemptions(until):
    return Redemption.objects.filter(statement=None, undone_at=None,
                                     redeemed_at__lt=_end_of_day(until))


def pending_adjustments(structure_id=None):
    """Adjustments with an amount still to carry on a statement, each annotated with
    ``remaining`` (cents, positive): a correction's debit not yet deducted (its debit lines
    are negative, its carry-overs positive), a goodwill payment not yet on a statement."""
    adjustments = Adjustment.objects.annotate(
        carried=Coalesce(Sum("lines__amount_cents"), 0))
    if structure_id is not None:
        adjustments = adjustments.filter(structure_id=structure_id)
    pending = []
    for adjustment in adjustments.order_by("created_at", "pk"):
        if adjustment.kind == Adjustment.Kind.CORRECTION:
            adjustment.remaining = adjustment.amount_cents + adjustment.carried
        else:
            adjustment.remaining = adjustment.amount_cents - adjustment.carried
        if adjustment.remaining > 0:
            pending.append(adjustment)
    return pending


def run(*, until=None, actor=None, today=None):
    """Draft statements of every structure's redemptions up to `until`, not yet in a
    statement, and of its adjustments not yet carried. Returns the statements created (none
    when there is nothing to pay)."""
    access.require(access.may_act_as_platform(actor), _("Seul l’opérateur peut faire cela."))
    today = today or timezone.localdate()
    until = parse_until(until) if until is not None else default_until(today)
    if until > today:
        raise DomainError("future_period", _(
            "La période se termine le %(until)s, dans le futur : choisissez une date passée "
            "ou aujourd’hui.") % {"until": until.strftime("%d/%m/%Y")})
    structure_ids = set(pending_redemptions(until).order_by()
                        .values_list("structure_id", flat=True).distinct())
    # A debit alone waits: it joins the structure's next statement with something to pay.
    structure_ids |= {adjustment.structure_id for adjustment in pending_adjustments()
                      if adjustment.kind == Adjustment.Kind.GOODWILL}
    created = []
    for structure_id in sorted(structure_ids):
        statement = _draw_up(structure_id, until, actor)
        if statement is not None:
            created.append(statement)
    return created


def _redemption_line(statement, r):
    return StatementLine(
        statement=statement, kind=StatementLine.Kind.REDEMPTION, redemption=r,
        order_id=r.order_id, redeemed_at=r.redeemed_at, place_id=r.place_id,
        place_name=r.place.name[:250], cheque_number=r.cheque.number,
        service_id=r.service_id, service_label=r.service.label[:250],
        mediator_name=(r.mediator.get_full_name() or r.mediator.username)[:300],
        amount_cents=r.amount_cents)


def _adjustment_line(statement, adjustment, amount, kind=None, label=None):
    return StatementLine(
        statement=statement, adjustment=adjustment, order_id=adjustment.order_id,
        kind=kind or (StatementLine.Kind.CORRECTION
                      if adjustment.kind == Adjustment.Kind.CORRECTION
                      else StatementLine.Kind.GOODWILL),
        cheque_number=adjustment.redemption.cheque.number if adjustment.redemption_id else "",
        label=(label or adjustment_label(adjustment))[:400], amount_cents=amount)


def adjustment_label(adjustment):
    """What a statement line says of an adjustment: its reason, and for a correction the
    original (the cheque, the day it was redeemed and the statement that paid it)."""
    if adjustment.kind == Adjustment.Kind.GOODWILL:
        return _("Geste commercial : %(reason)s") % {"reason": adjustment.reason}
    redemption = adjustment.redemption
    return _("Correction : %(reason)s — chèque %(cheque)s encaissé le %(date)s, relevé "
             "%(statement)s") % {
        "reason": adjustment.reason, "cheque": redemption.cheque.number,
        "date": timezone.localtime(redemption.redeemed_at).strftime("%d/%m/%Y"),
        "statement": adjustment.original_statement.reference
        if adjustment.original_statement_id else "—"}


def _carry_over(statement, lines, total):
    """Carry-over lines (positive) that bring a negative total back to zero, taken from
    the latest debits first; the next statement deducts them again."""
    excess = -total
    carried = []
    for line in reversed([line for line in lines if line.kind == StatementLine.Kind.CORRECTION]):
        if excess <= 0:
            break
        amount = min(excess, -line.amount_cents)
        carried.append(_adjustment_line(
            statement, line.adjustment, amount, kind=StatementLine.Kind.CARRY_OVER,
            label=_("Report au relevé suivant : %(label)s") % {"label": line.label}))
        excess -= amount
    return carried


def _draw_up(structure_id, until, actor):
    with transaction.atomic():
        statement = Statement.objects.create(structure_id=structure_id, until=until,
                                             created_by=_user(actor))
        attached = pending_redemptions(until).filter(structure_id=structure_id).update(
            statement=statement)
        # Locked, then counted again: a concurrent run waits here and finds them carried.
        list(Adjustment.objects.select_for_update().filter(structure_id=structure_id)
             .order_by("pk").values_list("pk", flat=True))
        adjustments = pending_adjustments(structure_id)
        if not attached and not any(a.kind == Adjustment.Kind.GOODWILL for a in adjustments):
            # A concurrent run took them all (a debit alone waits for something to pay).
            transaction.set_rollback(True)
            return None
        redemptions = list(
            Redemption.objects.filter(statement=statement)
            .select_related("cheque", "place", "service", "mediator").order_by("redeemed_at", "id")
        )
        lines = [_redemption_line(statement, r) for r in redemptions]
        for adjustment in Adjustment.objects.filter(
                pk__in=[a.pk for a in adjustments]).select_related(
                "redemption__cheque", "original_statement").order_by("created_at", "pk"):
            remaining = next(a.remaining for a in adjustments if a.pk == adjustment.pk)
            sign = -1 if adjustment.kind == Adjustment.Kind.CORRECTION else 1
            lines.append(_adjustment_line(statement, adjustment, sign * remaining))
        total = sum(line.amount_cents for line in lines)
        if total < 0:
            lines += _carry_over(statement, lines, total)
        StatementLine.objects.bulk_create(lines, batch_size=2000)
        statement.line_count = len(lines)
        statement.total_cents = sum(line.amount_cents for line in lines)
        if redemptions:
            statement.first_redemption_on = timezone.localdate(redemptions[0].redeemed_at)
            statement.last_redemption_on = timezone.localdate(redemptions[-1].redeemed_at)
        statement.save(update_fields=["line_count", "total_cents", "first_redemption_on",
                                      "last_redemption_on"])
        audit.record(actor, statement, "statement.created", "", Statement.State.DRAFT,
                     until=until.isoformat(), lines=statement.line_count,
                     total_cents=statement.total_cents, adjustments=[a.pk for a in adjustments])
    return statement


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --- statements ----------------------------------------------------------------------------


@dataclass
class Totals:
    by_place: list  # [(place name, count, cents)]
    by_service: list  # [(service label, count, cents)]


def totals(statement):
    """Totals per place and per service, from the statement's own redemption lines."""
    lines = statement.lines.filter(kind=StatementLine.Kind.REDEMPTION)

    def group(field):
        return [(row[field], row["n"], row["cents"]) for row in lines.values(field).annotate(
            n=Count("id"), cents=Sum("amount_cents")).order_by(field)]

    return Totals(by_place=group("place_name"), by_service=group("service_label"))


def validate(statement, *, actor):
    """The operator checks a draft and validates it: from now on it never changes. A
    statement whose corrections bring it to zero is settled at once (nothing to transfer)."""
    access.require(access.may_act_as_platform(actor), _("Seul l’opérateur peut faire cela."))
    with transaction.atomic():
        statement = Statement.objects.select_for_update().get(pk=statement.pk)
        if statement.state != Statement.State.DRAFT:
            raise DomainError("not_draft", _(
                "Ce relevé est déjà « %(state)s » : seul un brouillon peut être validé.")
                % {"state": statement.get_state_display()})
        if not statement.line_count or statement.total_cents < 0:
            raise DomainError("empty_statement", _(
                "Ce relevé est vide : il n’y a rien à valider."))
        now = timezone.now()
        Statement.objects.filter(pk=statement.pk, state=Statement.State.DRAFT).update(
            state=Statement.State.VALIDATED, validated_at=now, validated_by=_user(actor))
        statement.refresh_from_db()
        audit.record(actor, statement, "statement.validated", Statement.State.DRAFT,
                     Statement.State.VALIDATED, total_cents=statement.total_cents)
        if statement.total_cents == 0:
            _settle(statement, paid_on=timezone.localdate(now), actor=actor,
                    reference=f"statement:{statement.pk}")
            statement.refresh_from_db()
    return statement


def _settle(statement, *, paid_on, actor, reference):
    """The structure was paid this statement (or it needed no transfer): the statement is
    paid, its redeemed cheques reimbursed, the ledger moved. Inside a transaction, with
    the statement locked by the caller."""
    now = timezone.now()
    previous = statement.state
    redemptions = list(Redemption.objects.filter(statement=statement, undone_at=None)
                       .select_related("cheque").order_by("cheque_id"))
    cheque_ids = [r.cheque_id for r in redemptions]
    changed = Cheque.objects.filter(pk__in=cheque_ids, state=Cheque.State.REDEEMED).update(
        state=Cheque.State.REIMBURSED, state_changed_at=now)
    if changed != len(cheque_ids):
        raise DomainError("inconsistent", _(
            "Des chèques du relevé %(ref)s ne sont plus à l’état encaissé : rien n’a été "
            "changé.") % {"ref": statement.reference})
    Statement.objects.filter(pk=statement.pk).update(state=Statement.State.PAID, paid_at=now,
                                                     paid_on=paid_on)
    audit.record(actor, statement, "statement.paid", previous, Statement.State.PAID,
                 paid_on=paid_on.isoformat(), reference=reference)
    audit.record_many(actor, [r.cheque for r in redemptions], "cheque.reimbursed",
                      Cheque.State.REDEEMED, Cheque.State.REIMBURSED, statement=statement.pk)
    ledger.paid_out(list(statement.lines.all()), actor=actor, reference=reference)


def _unsettle(statement, *, actor, reference):
    """The bank gave back a transfer it had paid: the statement is to pay again, its
    cheques redeemed again, the ledger moved back."""
    now = timezone.now()
    redemptions = list(Redemption.objects.filter(statement=statement, undone_at=None)
                       .select_related("cheque").order_by("cheque_id"))
    Cheque.objects.filter(pk__in=[r.cheque_id for r in redemptions],
                          state=Cheque.State.REIMBURSED).update(
        state=Cheque.State.REDEEMED, state_changed_at=now)
    audit.record_many(actor, [r.cheque for r in redemptions], "cheque.reimbursement_returned",
                      Cheque.State.REIMBURSED, Cheque.State.REDEEMED, statement=statement.pk)
    ledger.paid_out(list(statement.lines.all()), actor=actor, reference=reference, sign=-1)


# --- bank details --------------------------------------------------------------------------


def bank_details(structure):
    """The structure's checked bank details (places.banking), or the DomainError saying
    what is wrong."""
    return banking.payable(getattr(structure, "structure_profile", None))


def rejected_details(structure):
    """The transfer the bank rejected because of the bank details the structure still has
    (IBAN, BIC and holder unchanged since), or None: once they change, the next batch may
    try again."""
    profile = getattr(structure, "structure_profile", None)
    if profile is None:
        return None
    try:
        current = bank_details(structure)
    except DomainError:
        return None
    return (Transfer.objects.filter(structure=structure, state=Transfer.State.REJECTED,
                                    bank_details_to_fix=True, iban=current.iban,
                                    bic=current.bic, holder=current.holder)
            .order_by("-changed_at", "-pk").first())


def blocked_reason(structure):
    """Why this structure cannot be paid by transfer (a French sentence), or None."""
    try:
        bank_details(structure)
    except DomainError as error:
        return error.detail
    rejected = rejected_details(structure)
    if rejected is not None:
        return _("Virement rejeté par la banque (%(reason)s) : coordonnées bancaires à "
                 "corriger.") % {"reason": bank_reasons.label(rejected.reason_code)}
    return None


PAYABLE_STATES = (Statement.State.VALIDATED, Statement.State.TO_REPAY)


def payable_statements():
    """Validated statements, and statements to pay again, waiting for a payment batch."""
    return (Statement.objects.filter(state__in=PAYABLE_STATES, batch=None)
            .select_related("structure", "structure__structure_profile").order_by("id"))


def blocked_structures():
    """[(structure, reason, amount owed in cents)] for structures with validated statements
    waiting for payment whose bank details are missing or invalid: listed, never skipped."""
    owed = defaultdict(int)
    structures = {}
    for statement in payable_statements():
        owed[statement.structure_id] += statement.total_cents
        structures[statement.structure_id] = statement.structure
    blocked = []
    for structure_id, structure in structures.items():
        reason = blocked_reason(structure)
        if reason:
            blocked.append((structure, reason, owed[structure_id]))
    return blocked


# --- payment batches -----------------------------------------------------------------------


# The EPC's Latin character set (EPC217-08): what every bank of the SEPA zone accepts.
SEPA_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")
# Conversions the EPC recommends before transliteration, in French: « & » becomes « et »
# (never a blank, which would make « Clic & Lien » read « Clic   Lien »).
SEPA_CONVERSIONS = [(re.compile(r"\s*&\s*"), " et "),
                    (re.compile(r"[\u2010-\u2015\u2212]"), "-"),
                    (re.compile(r"[\u2018\u2019\u201a\u201b\u02bc]"), "'"),
                    (re.compile("[°º]"), "o")]


def sepa_latin(text, length):
    """`text` in the SEPA Latin character set, at most `length` characters: accents dropped
    (« Émile » → « Emile »), « & » → « et », any other character outside the set → a blank,
    blanks collapsed, cut at `length`."""
    from text_unidecode import unidecode

    for pattern, replacement in SEPA_CONVERSIONS:
        text = pattern.sub(replacement, text or "")
    text = "".join(c if c in SEPA_CHARACTERS else " " for c in unidecode(text))
    return " ".join(text.split())[:length].strip()


def message_id(moment):
    """The file's message identifier (MsgId, 35 characters at most, unique): the Paris time
    of `moment` on a 24-hour clock, then 12 random hexadecimal digits."""
    return f"{timezone.localtime(moment):%Y%m%d%H%M%S}-{secrets.token_hex(6)}"


def sepa_file(statements, *, execution_date, end_to_end_ids=None, now=None):
    """(message id, the pain.001.001.03 file of these statements as bytes, checked against
    the XSD); each transfer carries the EndToEndId given for its statement
    (`end_to_end_ids`)."""
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException
    from sepaxml import SepaTransfer
    from sepaxml.validation import ValidationError as SepaValidationError

    class Pain001(SepaTransfer):
        """sepaxml's transfer file with our message id and creation time (sepaxml's read the
        server's clock, on a 12-hour clock for the id)."""

        def _create_header(self):
            self.msg_id = message_id(moment)
            super()._create_header()
            self._xml.find("CstmrCdtTrfInitn/GrpHdr/CreDtTm").text = (
                f"{timezone.localtime(moment):%Y-%m-%dT%H:%M:%S}")

    moment = now or timezone.now()
    try:
        debtor_iban = str(IBAN(settings.OPERATOR_IBAN).compact)
        debtor_bic = str(BIC(settings.OPERATOR_BIC).compact)
    except (SchwiftyException, ValueError):
        raise DomainError("operator_account", _(
            "Le compte de l’opérateur (OPERATOR_IBAN / OPERATOR_BIC) est invalide.")) from None
    transfer = Pain001({
        "name": sepa_latin(settings.OPERATOR_ACCOUNT_NAME, 70),
        "IBAN": debtor_iban, "BIC": debtor_bic, "batch": True, "currency": "EUR",
    }, clean=False)
    for statement in statements:
        details = bank_details(statement.structure)
        transfer.add_payment({
            "name": sepa_latin(details.holder, 70),
            "IBAN": details.iban,
            "BIC": details.bic,
            "amount": int(statement.total_cents),
            "execution_date": execution_date,
            "description": sepa_latin(
                f"APTIC releve {statement.reference} cheques au {statement.until:%d/%m/%Y}", 140),
            "endtoend_id": (end_to_end_ids or {}).get(statement.pk)
            or f"APTIC-{statement.reference}",
        })
    try:
        return transfer.msg_id, transfer.export(validate=True)
    except SepaValidationError as error:
        raise DomainError("invalid_sepa", _(
            "Le fichier SEPA ne respecte pas le schéma pain.001.001.03 : %(error)s")
            % {"error": error.__cause__ or error}) from None


def end_to_end_id(statement):
    """The EndToEndId of the next transfer of `statement` (locked by the caller): its
    reference and the attempt, so that a transfer paid again after a rejection is told
    apart from the first one in the bank's files."""
    return f"APTIC-{statement.reference}-{statement.transfers.count() + 1}"


def create_batch(statement_ids, *, actor, execution_date=None):
    """One payment batch (a draft until its SEPA file is downloaded) for these validated
    statements, or statements to pay again: one transfer each."""
    access.require(access.may_act_as_platform(actor), _("Seul l’opérateur peut faire cela."))
    try:
        ids = sorted({int(pk) for pk in statement_ids or ()})
    except (TypeError, ValueError):
        raise DomainError("invalid", _("Identifiants de relevés invalides.")) from None
    if not ids:
        raise DomainError("no_statements", _("Choisissez au moins un relevé validé."))
    execution_date = execution_date or timezone.localdate() + datetime.timedelta(days=1)
    with transaction.atomic():
        statements = list(Statement.objects.select_for_update(of=("self",))
                          .select_related("structure", "structure__structure_profile")
                          .filter(pk__in=ids).order_by("pk"))
        if len(statements) != len(ids):
            missing = sorted(set(ids) - {s.pk for s in statements})
            raise DomainError("unknown_statement", _("Relevé inconnu : %(ids)s.")
                                     % {"ids": ", ".join(map(str, missing))})
        for statement in statements:
            if statement.state not in PAYABLE_STATES or statement.total_cents <= 0:
                raise DomainError("not_validated", _(
                    "Le relevé %(ref)s est « %(state)s » : seuls les relevés validés se paient.")
                    % {"ref": statement.reference, "state": statement.get_state_display()})
            if statement.batch_id:
                raise DomainError("already_in_batch", _(
                    "Le relevé %(ref)s figure déjà dans le lot n° %(batch)s.")
                    % {"ref": statement.reference, "batch": statement.batch_id})
        blocked = [(s.structure, blocked_reason(s.structure)) for s in statements]
        blocked = [(structure, reason) for structure, reason in blocked if reason]
        if blocked:
            raise DomainError("blocked_structures", _(
                "Paiement impossible, coordonnées bancaires à corriger : %(list)s")
                % {"list": " ; ".join(f"{s.name} ({reason})" for s, reason in blocked)},
                blocked=[{"structure": s.pk, "name": s.name, "reason": str(reason)}
                         for s, reason in blocked])
        ids_of = {s.pk: end_to_end_id(s) for s in statements}
        msg_id, xml = sepa_file(statements, execution_date=execution_date,
                                end_to_end_ids=ids_of)
        batch = PaymentBatch.objects.create(
            execution_date=execution_date, total_cents=sum(s.total_cents for s in statements),
            transfers=len(statements), message_id=msg_id, sepa_xml=xml.decode("utf-8"),
            created_by=_user(actor),
        )
        transfers = []
        for statement in statements:
            details = bank_details(statement.structure)
            transfers.append(Transfer(
                batch=batch, statement=statement, structure_id=statement.structure_id,
                end_to_end_id=ids_of[statement.pk], amount_cents=statement.total_cents,
                iban=details.iban, bic=details.bic, holder=details.holder[:140]))
        Transfer.objects.bulk_create(transfers)
        attached = Statement.objects.filter(
            pk__in=ids, state__in=PAYABLE_STATES, batch=None).update(batch=batch)
        if attached != len(ids):
            raise DomainError("already_in_batch", _(
                "Un relevé vient d’être mis dans un autre lot."))
        audit.record(actor, batch, "payment_batch.created", "", PaymentBatch.State.DRAFT,
                     statements=ids, total_cents=batch.total_cents, message_id=msg_id,
                     transfers=[t.end_to_end_id for t in transfers])
        for state in {s.state for s in statements}:
            audit.record_many(actor, [s for s in statements if s.state == state],
                              "statement.batched", state, state, batch=batch.pk)
    return batch


def mark_sent(batch, *, actor):
    """The operator downloaded the batch's file to give it to the bank: a draft is sent
    (once; later downloads change nothing)."""
    with transaction.atomic():
        if PaymentBatch.objects.filter(pk=batch.pk, state=PaymentBatch.State.DRAFT).update(
                state=PaymentBatch.State.SENT, sent_at=timezone.now(), sent_by=_user(actor)):
            batch.refresh_from_db()
            audit.record(actor, batch, "payment_batch.sent", PaymentBatch.State.DRAFT,
                         PaymentBatch.State.SENT)
    return batch


# --- transfers: what the bank did ----------------------------------------------------------


def batch_state_of(batch, transfer_states):
    """The state a batch has once its transfers are in `transfer_states`: rejected when
    all are, paid when every one the bank did not reject is paid, partly rejected when some
    are rejected, accepted when all are accepted or paid; otherwise unchanged."""
    states = set(transfer_states)
    T = Transfer.State
    if states == {T.REJECTED}:
        return PaymentBatch.State.REJECTED
    if T.PAID in states and states <= {T.PAID, T.REJECTED}:
        return PaymentBatch.State.PAID
    if T.REJECTED in states:
        return PaymentBatch.State.PARTLY_REJECTED
    if states and states <= {T.ACCEPTED, T.PAID}:
        return PaymentBatch.State.ACCEPTED
    return batch.state


def refresh_batch(batch, *, actor):
    """Give the (locked) batch the state of its transfers, audited when it changes."""
    new = batch_state_of(batch, batch.credit_transfers.values_list("state", flat=True))
    if new == batch.state:
        return batch
    previous = batch.state
    changes = {"state": new}
    if new == PaymentBatch.State.PAID:
        changes.update(paid_at=timezone.now(), paid_by=_user(actor))
    if previous == PaymentBatch.State.DRAFT:
        changes.update(sent_at=batch.sent_at or timezone.now())
    PaymentBatch.objects.filter(pk=batch.pk).update(**changes)
    batch.refresh_from_db()
    audit.record(actor, batch, f"payment_batch.{new}", previous, new)
    return batch


def accept_transfer(transfer, *, actor, source=""):
    """The bank accepted the transfer (it will pay it). A paid or rejected one stays."""
    if transfer.state != Transfer.State.PENDING:
        return False
    _change_transfer(transfer, Transfer.State.ACCEPTED, actor=actor, source=source)
    return True


def pay_transfer(transfer, *, paid_on, actor, source=""):
    """The bank paid the transfer on `paid_on`: its statement is settled."""
    if transfer.state in (Transfer.State.PAID, Transfer.State.REJECTED):
        return False
    statement = Statement.objects.select_for_update().get(pk=transfer.statement_id)
    _change_transfer(transfer, Transfer.State.PAID, actor=actor, source=source,
                     paid_on=paid_on)
    _settle(statement, paid_on=paid_on, actor=actor, reference=transfer.end_to_end_id)
    return True


def reject_transfer(transfer, *, code, detail="", actor, source=""):
    """The bank rejected (or gave back) the transfer: its statement is to pay again in a
    later batch, the structure's bank details are flagged when the reason is theirs, and
    its place managers are told by e-mail. A transfer already rejected stays as it is."""
    if transfer.state == Transfer.State.REJECTED:
        return False
    was_paid = transfer.state == Transfer.State.PAID
    statement = Statement.objects.select_for_update().get(pk=transfer.statement_id)
    code = (code or "").strip().upper()[:35]
    to_fix = bank_reasons.is_about_bank_details(code)
    _change_transfer(transfer, Transfer.State.REJECTED, actor=actor, source=source,
                     reason_code=code, reason_detail=(detail or "")[:300],
                     bank_details_to_fix=to_fix, paid_on=None)
    if was_paid:
        _unsettle(statement, actor=actor, reference=transfer.end_to_end_id)
    previous = statement.state
    Statement.objects.filter(pk=statement.pk).update(
        state=Statement.State.TO_REPAY, batch=None, paid_at=None, paid_on=None)
    statement.refresh_from_db()
    audit.record(actor, statement, "statement.to_repay", previous, Statement.State.TO_REPAY,
                 transfer=transfer.end_to_end_id, reason=code, bank_details_to_fix=to_fix)
    _tell_place_managers(transfer, statement)
    return True


def _change_transfer(transfer, state, *, actor, source, **fields):
    previous = transfer.state
    fields.update(state=state, changed_at=timezone.now())
    Transfer.objects.filter(pk=transfer.pk).update(**fields)
    for name, value in fields.items():
        setattr(transfer, name, value)
    audit.record(actor, transfer, f"transfer.{state}", previous, state, source=source,
                 **{k: (v.isoformat() if hasattr(v, "isoformat") else v)
                    for k, v in fields.items() if k not in ("state", "changed_at")})


def _tell_place_managers(transfer, statement):
    from aptic.models import Role

    structure = statement.structure
    managers = structure.memberships.filter(role=Role.PLACE_MANAGER, user__is_active=True)
    recipients = sorted({email for email in [structure.email, *managers.values_list(
        "user__email", flat=True)] if email})
    if not recipients:
        return
    subject = _("[#APTIC] Virement du relevé %(ref)s rejeté par la banque") % {
        "ref": statement.reference}
    lines = [
        _("Bonjour,"), "",
        _("La banque a rejeté le virement de %(amount)s € du relevé %(ref)s, motif : "
          "%(reason)s.") % {"amount": format_decimal(transfer.amount_cents),
                            "ref": statement.reference,
                            "reason": bank_reasons.label(transfer.reason_code)},
    ]
    if transfer.reason_detail:
        lines.append(_("Précision de la banque : %(detail)s") % {
            "detail": transfer.reason_detail})
    if transfer.bank_details_to_fix:
        lines += ["", _("Vos coordonnées bancaires sont à corriger : tant qu’elles restent "
                        "celles-ci (IBAN %(iban)s), le relevé ne pourra pas être payé. "
                        "Corrigez-les ici : %(url)s") % {
            "iban": transfer.iban, "url": settings.SITE_URL.rstrip("/") + "/structure/banque/"}]
    lines += ["", _("Le relevé est « à repayer » : il partira dans le prochain lot de "
                    "virements. Aucune démarche n’est nécessaire de votre part en dehors de "
                    "vos coordonnées bancaires."),
              "", settings.SITE_URL.rstrip("/") + f"/remboursements/releves/{statement.pk}/"]
    body = "\n".join(lines)
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL,
                                            recipients, fail_silently=True))


def mark_paid(batch, *, actor, paid_on=None):
    """The operator records by hand that the bank paid the batch (no bank file): every
    transfer not rejected is paid on `paid_on` (today by default)."""
    access.require(access.may_act_as_platform(actor), _("Seul l’opérateur peut faire cela."))
    paid_on = paid_on or timezone.localdate()
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.state == PaymentBatch.State.PAID:
            raise DomainError("already_paid", _("Ce lot est déjà marqué payé."))
        if batch.state == PaymentBatch.State.REJECTED:
            raise DomainError("batch_rejected", _(
                "La banque a rejeté tout ce lot : il n’y a rien à payer."))
        for transfer in batch.credit_transfers.select_for_update().order_by("pk"):
            if transfer.state in (Transfer.State.PENDING, Transfer.State.ACCEPTED):
                pay_transfer(transfer, paid_on=paid_on, actor=actor, source="manual")
        batch = refresh_batch(batch, actor=actor)
    return batch


# --- documents -----------------------------------------------------------------------------


def _day(value):
    """A date (or an aware datetime, in Paris) as YYYY-MM-DD; empty for None."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value)
    return value.isoformat()


def statement_date(statement):
    """The statement's date: the day it was drawn up (Paris)."""
    return timezone.localdate(statement.created_at)


def payment_dates(statement):
    """[statement date, payment date] as every CSV export writes them (YYYY-MM-DD; the
    payment date is empty until the bank paid)."""
    if statement is None:
        return ["", ""]
    return [_day(statement_date(statement)), _day(statement.paid_on)]


PAYMENT_DATE_HEADERS = (gettext_lazy("date du relevé"), gettext_lazy("date de paiement"))


def statement_csv(statement):
    """The statement's lines as CSV (semicolons, UTF-8 with BOM for spreadsheets), written
    by aptic.spreadsheet: a place or mediator name cannot run as a formula. Each line
    carries the redemption date, the statement date and the payment date."""
    import io

    from aptic import spreadsheet

    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = spreadsheet.writer(buffer)
    writer.writerow([_("relevé"), _("nature"), _("date d’encaissement"), _("lieu"),
                     _("chèque"), _("service"), _("médiateur"), _("libellé"),
                     _("montant (€)"), _("montant (centimes)"), *PAYMENT_DATE_HEADERS])
    dates = payment_dates(statement)
    for line in statement.lines.order_by("redeemed_at", "id"):
        writer.writerow([
            statement.reference, line.get_kind_display(),
            timezone.localtime(line.redeemed_at).strftime("%Y-%m-%d %H:%M")
            if line.redeemed_at else "", line.place_name,
            line.cheque_number, translated_label(line.service_label), line.mediator_name,
            line.label, format_decimal(line.amount_cents), line.amount_cents, *dates,
        ])
    writer.writerow([statement.reference, "", "", "", "", "", "", _("total"),
                     format_decimal(statement.total_cents), statement.total_cents, *dates])
    return buffer.getvalue()


@in_french
def statement_pdf(statement):
    """The statement as a PDF with the cheques' visual identity (WeasyPrint, DejaVu fonts)."""
    profile = getattr(statement.structure, "structure_profile", None)
    return render_pdf("cheques/reimbursement/statement_pdf.html", {
        "statement": statement,
        "lines": statement.lines.order_by("redeemed_at", "id"),
        "totals": totals(statement),
        "statement_date": statement_date(statement),
        "transfer": latest_transfer(statement),
        "profile": profile,
        "blocked": blocked_reason(statement.structure),
        "generated_at": timezone.localtime(),
    })


def statement_download(statement, kind):
    """(content, content type, file name) of a statement as "pdf" or "csv"."""
    if kind == "pdf":
        return statement_pdf(statement), "application/pdf", f"releve-{statement.reference}.pdf"
    return (statement_csv(statement), "text/csv; charset=utf-8",
            f"releve-{statement.reference}.csv")


def latest_transfer(statement):
    """The statement's last transfer (what the bank said of it), or None."""
    return statement.transfers.select_related("batch").order_by("-pk").first()


def sepa_download(batch):
    """(content, content type, file name) of a payment batch's SEPA credit-transfer file."""
    return (batch.sepa_xml.encode("utf-8"), "application/xml; charset=utf-8",
            f"aptic-virements-{batch.pk}.xml")
