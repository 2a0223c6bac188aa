"""Reimbursement of places: statements (relevés), payment batches (SEPA) and payment.

- `run(until=...)` draws up, for each structure, a draft statement of its live redemptions
  up to `until` (a day, Europe/Paris; by default the last day of the previous month) that
  are in no statement yet. A redemption is taken once: it is attached by a conditional
  update (``statement IS NULL AND undone_at IS NULL``) and the lines are built from the rows
  that update actually attached, so concurrent or repeated runs cannot overlap.
- Corrections: an undo is refused once a redemption is in a statement, draft or not (the
  undo's own conditional update also requires ``statement IS NULL``), so a statement never
  loses a line. A validated statement is immutable: no function edits its lines or totals;
  a correction discovered later belongs in a later statement.
- `validate(statement)`: operator only, draft and non-empty statements only.
- `create_batch(statement_ids)`: validated statements not yet in a batch become one SEPA
  credit-transfer file (pain.001.001.03, checked against its XSD). Every structure must have
  valid bank details; otherwise nothing is written and the error lists the blocked ones.
- `mark_paid(batch)`: the batch, its statements (→ paid) and their cheques (redeemed →
  reimbursed) change together with the ledger (redeemed-unpaid → paid).

Every function that changes a state writes its audit rows in the same transaction.
"""

import datetime
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aptic import audit
from aptic.errors import DomainError
from aptic.l10n import format_decimal
from aptic.pdf import in_french, render_pdf
from places import banking

from . import access, ledger
from .models import Cheque, PaymentBatch, Redemption, Statement, StatementLine

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


def run(*, until=None, actor=None, today=None):
    """Draft statements of every structure's redemptions up to `until`, not yet in a
    statement. Returns the statements created (none when there is nothing to pay)."""
    access.require(access.may_act_as_platform(actor), _("Seul l’opérateur peut faire cela."))
    today = today or timezone.localdate()
    until = parse_until(until) if until is not None else default_until(today)
    if until > today:
        raise DomainError("future_period", _(
            "La période se termine le %(until)s, dans le futur : choisissez une date passée "
            "ou aujourd’hui.") % {"until": until.strftime("%d/%m/%Y")})
    structure_ids = list(pending_redemptions(until).order_by("structure_id")
                         .values_list("structure_id", flat=True).distinct())
    created = []
    for structure_id in structure_ids:
        statement = _draw_up(structure_id, until, actor)
        if statement is not None:
            created.append(statement)
    return created


def _draw_up(structure_id, until, actor):
    with transaction.atomic():
        statement = Statement.objects.create(structure_id=structure_id, until=until,
                                             created_by=_user(actor))
        attached = pending_redemptions(until).filter(structure_id=structure_id).update(
            statement=statement)
        if not attached:  # a concurrent run took them all
            transaction.set_rollback(True)
            return None
        redemptions = list(
            Redemption.objects.filter(statement=statement)
            .select_related("cheque", "place", "service", "mediator").order_by("redeemed_at", "id")
        )
        StatementLine.objects.bulk_create([
            StatementLine(
                statement=statement, redemption=r, order_id=r.order_id,
                redeemed_at=r.redeemed_at, place_id=r.place_id, place_name=r.place.name[:250],
                cheque_number=r.cheque.number, service_id=r.service_id,
                service_label=r.service.label[:250],
                mediator_name=(r.mediator.get_full_name() or r.mediator.username)[:300],
                amount_cents=r.amount_cents,
            )
            for r in redemptions
        ], batch_size=2000)
        statement.line_count = len(redemptions)
        statement.total_cents = sum(r.amount_cents for r in redemptions)
        statement.first_redemption_on = timezone.localdate(redemptions[0].redeemed_at)
        statement.last_redemption_on = timezone.localdate(redemptions[-1].redeemed_at)
        statement.save(update_fields=["line_count", "total_cents", "first_redemption_on",
                                      "last_redemption_on"])
        audit.record(actor, statement, "statement.created", "", Statement.State.DRAFT,
                     until=until.isoformat(), lines=statement.line_count,
                     total_cents=statement.total_cents)
    return statement


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --- statements ----------------------------------------------------------------------------


@dataclass
class Totals:
    by_place: list  # [(place name, count, cents)]
    by_service: list  # [(service label, count, cents)]


def totals(statement):
    """Totals per place and per service, from the statement's own lines."""
    lines = statement.lines.all()

    def group(field):
        return [(row[field], row["n"], row["cents"]) for row in lines.values(field).annotate(
            n=Count("id"), cents=Sum("amount_cents")).order_by(field)]

    return Totals(by_place=group("place_name"), by_service=group("service_label"))


def validate(statement, *, actor):
    """The operator checks a draft and validates it: from now on it never changes."""
    access.require(access.may_act_as_platform(actor), _("Seul l’opérateur peut faire cela."))
    with transaction.atomic():
        statement = Statement.objects.select_for_update().get(pk=statement.pk)
        if statement.state != Statement.State.DRAFT:
            raise DomainError("not_draft", _(
                "Ce relevé est déjà « %(state)s » : seul un brouillon peut être validé.")
                % {"state": statement.get_state_display()})
        if not statement.line_count or statement.total_cents <= 0:
            raise DomainError("empty_statement", _(
                "Ce relevé est vide : il n’y a rien à valider."))
        now = timezone.now()
        Statement.objects.filter(pk=statement.pk, state=Statement.State.DRAFT).update(
            state=Statement.State.VALIDATED, validated_at=now, validated_by=_user(actor))
        statement.refresh_from_db()
        audit.record(actor, statement, "statement.validated", Statement.State.DRAFT,
                     Statement.State.VALIDATED, total_cents=statement.total_cents)
    return statement


# --- bank details --------------------------------------------------------------------------


def bank_details(structure):
    """The structure's checked bank details (places.banking), or the DomainError saying
    what is wrong."""
    return banking.payable(getattr(structure, "structure_profile", None))


def blocked_reason(structure):
    """Why this structure cannot be paid by transfer (a French sentence), or None."""
    try:
        bank_details(structure)
    except DomainError as error:
        return error.detail
    return None


def payable_statements():
    """Validated statements waiting for a payment batch."""
    return (Statement.objects.filter(state=Statement.State.VALIDATED, batch=None)
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


def sepa_file(statements, *, execution_date, now=None):
    """(message id, the pain.001.001.03 file of these statements as bytes, checked against
    the XSD)."""
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException
    from sepaxml import SepaTransfer
    from sepaxml.validation import ValidationError as SepaValidationError

    class Transfer(SepaTransfer):
        """sepaxml's transfer with our message id and creation time (sepaxml's read the
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
    transfer = Transfer({
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
            "endtoend_id": f"APTIC-{statement.reference}",
        })
    try:
        return transfer.msg_id, transfer.export(validate=True)
    except SepaValidationError as error:
        raise DomainError("invalid_sepa", _(
            "Le fichier SEPA ne respecte pas le schéma pain.001.001.03 : %(error)s")
            % {"error": error.__cause__ or error}) from None


def create_batch(statement_ids, *, actor, execution_date=None):
    """One payment batch (and its SEPA file) for these validated statements."""
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
            if statement.state != Statement.State.VALIDATED:
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
        msg_id, xml = sepa_file(statements, execution_date=execution_date)
        batch = PaymentBatch.objects.create(
            execution_date=execution_date, total_cents=sum(s.total_cents for s in statements),
            transfers=len(statements), message_id=msg_id, sepa_xml=xml.decode("utf-8"),
            created_by=_user(actor),
        )
        attached = Statement.objects.filter(
            pk__in=ids, state=Statement.State.VALIDATED, batch=None).update(batch=batch)
        if attached != len(ids):
            raise DomainError("already_in_batch", _(
                "Un relevé vient d’être mis dans un autre lot."))
        audit.record(actor, batch, "payment_batch.exported", "", PaymentBatch.State.EXPORTED,
                     statements=ids, total_cents=batch.total_cents, message_id=msg_id)
        audit.record_many(actor, statements, "statement.batched", Statement.State.VALIDATED,
                          Statement.State.VALIDATED, batch=batch.pk)
    return batch


def mark_paid(batch, *, actor):
    """The bank paid the batch: statements paid, cheques reimbursed, ledger moved."""
    access.require(access.may_act_as_platform(actor), _("Seul l’opérateur peut faire cela."))
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.state != PaymentBatch.State.EXPORTED:
            raise DomainError("already_paid", _("Ce lot est déjà marqué payé."))
        now = timezone.now()
        statements = list(batch.statements.select_for_update().order_by("pk"))
        if any(s.state != Statement.State.VALIDATED for s in statements):
            raise DomainError("not_validated", _(
                "Un relevé du lot n’est pas à l’état validé."))
        redemptions = list(Redemption.objects.filter(statement__batch=batch, undone_at=None)
                           .select_related("cheque").order_by("cheque_id"))
        cheque_ids = [r.cheque_id for r in redemptions]
        changed = Cheque.objects.filter(pk__in=cheque_ids, state=Cheque.State.REDEEMED).update(
            state=Cheque.State.REIMBURSED, state_changed_at=now)
        if changed != len(cheque_ids):
            raise DomainError("inconsistent", _(
                "Des chèques du lot ne sont plus à l’état encaissé : rien n’a été changé."))
        Statement.objects.filter(pk__in=[s.pk for s in statements]).update(
            state=Statement.State.PAID, paid_at=now)
        PaymentBatch.objects.filter(pk=batch.pk).update(
            state=PaymentBatch.State.PAID, paid_at=now, paid_by=_user(actor))
        batch.refresh_from_db()
        audit.record(actor, batch, "payment_batch.paid", PaymentBatch.State.EXPORTED,
                     PaymentBatch.State.PAID, total_cents=batch.total_cents)
        audit.record_many(actor, statements, "statement.paid", Statement.State.VALIDATED,
                          Statement.State.PAID, batch=batch.pk)
        audit.record_many(actor, [r.cheque for r in redemptions], "cheque.reimbursed",
                          Cheque.State.REDEEMED, Cheque.State.REIMBURSED, batch=batch.pk)
        ledger.reimbursed(redemptions, actor=actor, reference=f"batch:{batch.pk}")
    return batch


# --- documents -----------------------------------------------------------------------------


def statement_csv(statement):
    """The statement's lines as CSV (semicolons, UTF-8 with BOM for spreadsheets), written
    by aptic.spreadsheet: a place or mediator name cannot run as a formula."""
    import io

    from aptic import spreadsheet

    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = spreadsheet.writer(buffer)
    writer.writerow([_("relevé"), _("date"), _("lieu"), _("chèque"), _("service"),
                     _("médiateur"), _("montant (€)"), _("montant (centimes)")])
    for line in statement.lines.order_by("redeemed_at", "id"):
        writer.writerow([
            statement.reference,
            timezone.localtime(line.redeemed_at).strftime("%Y-%m-%d %H:%M"), line.place_name,
            line.cheque_number, _(line.service_label), line.mediator_name,
            format_decimal(line.amount_cents), line.amount_cents,
        ])
    writer.writerow([statement.reference, "", "", "", "", _("total"),
                     format_decimal(statement.total_cents), statement.total_cents])
    return buffer.getvalue()


@in_french
def statement_pdf(statement):
    """The statement as a PDF with the cheques' visual identity (WeasyPrint, DejaVu fonts)."""
    profile = getattr(statement.structure, "structure_profile", None)
    return render_pdf("cheques/reimbursement/statement_pdf.html", {
        "statement": statement,
        "lines": statement.lines.order_by("redeemed_at", "id"),
        "totals": totals(statement),
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


def sepa_download(batch):
    """(content, content type, file name) of a payment batch's SEPA credit-transfer file."""
    return (batch.sepa_xml.encode("utf-8"), "application/xml; charset=utf-8",
            f"aptic-virements-{batch.pk}.xml")
