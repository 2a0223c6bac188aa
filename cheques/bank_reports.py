"""The bank's answer to our transfer files: status reports (pain.002.001.03), account
notifications (camt.054.001.02) and account statements (camt.053.001.02).

`read(data, actor=...)` takes the file as the operator uploads it and:

1. refuses anything but a well-formed file valid against the official ISO 20022 schema of
   one of the three messages (cheques/data/iso20022, read with xmlschema: no DTD, no
   entity), with a clear message;
2. finds each transfer by its EndToEndId (a status report names its batch by the message
   id of our file first): a file that concerns no transfer of ours, names a batch or a
   transfer we never sent, gives another amount than ours or another account than the
   operator's is refused whole;
3. in one transaction, accepts, rejects or pays each transfer (cheques.reimbursement), moves
   the batches' states, and keeps the file (content, fingerprint, summary) so that the
   same file read again changes nothing.

What the statuses mean here:
- pain.002 ``ACTC``, ``ACCP``, ``ACSP``, ``ACWC``: accepted; ``ACSC`` (settlement completed):
  paid, on the acceptance date of the transaction (or the report's date); ``RJCT``: rejected
  with its reason code; ``PDNG``, ``RCVD``: nothing yet. A transaction the report does not
  list takes the status of its payment information, or of the whole group (with ``PART``,
  the unlisted ones are accepted).
- camt.054 / camt.053: a booked debit of our EndToEndId is the transfer paid, on its
  booking date (value date failing that); a credit that returns one (return information or
  reversal) is the transfer rejected with its return reason, even after it was paid. Other
  entries of the account are not ours and are left alone.
"""

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aptic import audit
from aptic.errors import DomainError
from aptic.l10n import format_euros

from . import access, reimbursement
from .models import BankFile, PaymentBatch, Transfer

SCHEMA_DIR = Path(__file__).resolve().parent / "data" / "iso20022"
NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:"
KINDS = {
    NAMESPACE + BankFile.Kind.STATUS_REPORT: BankFile.Kind.STATUS_REPORT,
    NAMESPACE + BankFile.Kind.NOTIFICATION: BankFile.Kind.NOTIFICATION,
    NAMESPACE + BankFile.Kind.ACCOUNT_STATEMENT: BankFile.Kind.ACCOUNT_STATEMENT,
}
MAX_BYTES = 5 * 1024 * 1024
OUR_PREFIX = "APTIC-"

ACCEPTED = {"ACTC", "ACCP", "ACSP", "ACWC"}
SETTLED = {"ACSC"}
REJECTED = {"RJCT"}

_schemas = {}


def _schema(kind):
    import xmlschema

    if kind not in _schemas:
        _schemas[kind] = xmlschema.XMLSchema(str(SCHEMA_DIR / f"{kind}.xsd"))
    return _schemas[kind]


@dataclass
class Instruction:
    """What the file says of one of our transfers."""

    end_to_end_id: str
    action: str  # "accept", "pay" or "reject"
    code: str = ""
    detail: str = ""
    paid_on: datetime.date | None = None
    amount_cents: int | None = None


@dataclass
class Outcome:
    file: BankFile
    duplicate: bool = False
    counts: dict = field(default_factory=dict)


def refused(code, detail, **extra):
    return DomainError(code, detail, **extra)


# --- reading -------------------------------------------------------------------------------


def parse(data):
    """(kind, decoded document) of a valid bank file, or the refusal saying what is wrong."""
    import xmlschema

    if not data or not data.strip():
        raise refused("empty_file", _("Le fichier est vide."))
    if len(data) > MAX_BYTES:
        raise refused("file_too_large", _("Fichier trop volumineux : %(max)s Mo au plus.")
                      % {"max": MAX_BYTES // (1024 * 1024)})
    try:
        resource = xmlschema.XMLResource(data, defuse="always")
    except (xmlschema.XMLResourceError, ValueError, SyntaxError) as error:
        raise refused("malformed_file", _(
            "Ce fichier n’est pas un XML lisible : %(error)s") % {"error": _short(error)}) \
            from None
    namespace = resource.namespace
    kind = KINDS.get(namespace)
    if kind is None:
        raise refused("unknown_format", _(
            "Ce fichier n’est ni un rapport d’état pain.002.001.03, ni un avis camt.054.001.02, "
            "ni un relevé camt.053.001.02 (espace de noms « %(ns)s »).")
            % {"ns": namespace or "—"})
    try:
        document = _schema(kind).to_dict(resource)
    except xmlschema.XMLSchemaValidationError as error:
        raise refused("malformed_file", _(
            "Ce fichier ne respecte pas le schéma %(kind)s : %(reason)s (à %(path)s).")
            % {"kind": kind, "reason": _short(error.reason), "path": error.path or "/"}) \
            from None
    return kind, document


def _short(error):
    return " ".join(str(error).split())[:300]


def _text(value):
    if isinstance(value, dict):
        value = value.get("$")
    return "" if value is None else str(value).strip()


def _list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _date(value):
    text = _text(value)
    if not text:
        return None
    try:
        if "T" in text:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                return timezone.localdate(moment)
            return moment.date()
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _cents(amount):
    """Cents of a decoded ActiveOrHistoricCurrencyAndAmount ({'@Ccy': 'EUR', '$': 30.00})."""
    if not isinstance(amount, dict):
        return None, ""
    value = Decimal(str(amount.get("$")))
    return int((value * 100).to_integral_value()), amount.get("@Ccy", "")


def _reason(status_reasons):
    for info in _list(status_reasons):
        code = _text((info.get("Rsn") or {}).get("Cd") or (info.get("Rsn") or {}).get("Prtry"))
        detail = " ".join(_text(x) for x in _list(info.get("AddtlInf")))
        if code or detail:
            return code, detail
    return "", ""


def _action(status):
    if status in REJECTED:
        return "reject"
    if status in SETTLED:
        return "pay"
    if status in ACCEPTED:
        return "accept"
    return None


def status_report(document):
    """(message id, original message id, [Instruction]) of a pain.002.001.03 report."""
    report = document["CstmrPmtStsRpt"]
    header = report["GrpHdr"]
    message_id = _text(header["MsgId"])
    report_day = _date(header.get("CreDtTm"))
    group = report["OrgnlGrpInfAndSts"]
    original = _text(group["OrgnlMsgId"])
    group_status = _text(group.get("GrpSts"))
    group_code, group_detail = _reason(group.get("StsRsnInf"))
    listed, defaults = [], []
    for payment in _list(report.get("OrgnlPmtInfAndSts")):
        payment_status = _text(payment.get("PmtInfSts")) or group_status
        payment_code, payment_detail = _reason(payment.get("StsRsnInf"))
        if payment_status and payment_status != "PART":
            defaults.append((payment_status, payment_code or group_code,
                             payment_detail or group_detail))
        for tx in _list(payment.get("TxInfAndSts")):
            status = _text(tx.get("TxSts")) or payment_status
            code, detail = _reason(tx.get("StsRsnInf"))
            end_to_end = _text(tx.get("OrgnlEndToEndId"))
            if not end_to_end:
                raise refused("malformed_file", _(
                    "Une transaction du rapport n’a pas de référence de bout en bout "
                    "(OrgnlEndToEndId) : impossible de la rapprocher."))
            action = _action(status)
            if action:
                listed.append(Instruction(
                    end_to_end, action, code=code or payment_code or group_code,
                    detail=detail or payment_detail,
                    paid_on=_date(tx.get("AccptncDtTm")) or report_day))
    if not defaults and group_status and group_status != "PART":
        defaults.append((group_status, group_code, group_detail))
    unlisted = defaults[0] if defaults else (("ACCP", "", "") if group_status == "PART"
                                            else None)
    return message_id, original, listed, unlisted, report_day


def account_report(kind, document):
    """(message id, [account IBANs], [Instruction]) of a camt.054 or camt.053 file; only
    the entries that carry one of our EndToEndIds."""
    body = document["BkToCstmrDbtCdtNtfctn" if kind == BankFile.Kind.NOTIFICATION
                    else "BkToCstmrStmt"]
    message_id = _text(body["GrpHdr"]["MsgId"])
    reports = _list(body.get("Ntfctn") or body.get("Stmt"))
    accounts, instructions = [], []
    for report in reports:
        accounts.append(_text(((report.get("Acct") or {}).get("Id") or {}).get("IBAN")))
        for entry in _list(report.get("Ntry")):
            status = _text(entry.get("Sts"))
            if status != "BOOK":
                continue
            direction = _text(entry.get("CdtDbtInd"))
            reversal = str(entry.get("RvslInd")).lower() == "true"
            booked = _date((entry.get("BookgDt") or {}).get("Dt")) or _date(
                (entry.get("BookgDt") or {}).get("DtTm")) or _date(
                (entry.get("ValDt") or {}).get("Dt"))
            entry_cents, entry_currency = _cents(entry.get("Amt"))
            details = [tx for group in _list(entry.get("NtryDtls"))
                       for tx in _list(group.get("TxDtls"))]
            for tx in details:
                end_to_end = _text((tx.get("Refs") or {}).get("EndToEndId"))
                if not end_to_end or end_to_end == "NOTPROVIDED":
                    continue
                amounts = tx.get("AmtDtls") or {}
                cents, currency = _cents((amounts.get("TxAmt") or amounts.get("InstdAmt")
                                          or {}).get("Amt"))
                if cents is None and len(details) == 1:
                    cents, currency = entry_cents, entry_currency
                returned = tx.get("RtrInf")
                if returned or direction == "CRDT" or reversal:
                    code, detail = _reason([returned] if returned else [])
                    instructions.append(Instruction(
                        end_to_end, "reject", code=code or "", detail=detail,
                        amount_cents=cents if currency in ("", "EUR") else -1))
                else:
                    instructions.append(Instruction(
                        end_to_end, "pay", paid_on=booked,
                        amount_cents=cents if currency in ("", "EUR") else -1))
    return message_id, accounts, instructions


# --- matching ------------------------------------------------------------------------------


def _match_status_report(message_id, original, listed, unlisted, report_day):
    batch = PaymentBatch.objects.filter(message_id=original).first()
    if batch is None:
        raise refused("unknown_batch", _(
            "Ce rapport d’état répond au fichier « %(id)s », qu’aucun lot de paiement de la "
            "plateforme n’a émis : rien n’a été changé.") % {"id": original})
    transfers = {t.end_to_end_id: t for t in batch.credit_transfers.all()}
    unknown = sorted({i.end_to_end_id for i in listed} - set(transfers))
    if unknown:
        raise refused("unknown_transfer", _(
            "Le rapport cite des virements absents du lot n° %(batch)s : %(ids)s. Rien n’a "
            "été changé.") % {"batch": batch.pk, "ids": ", ".join(unknown[:10])})
    instructions = list(listed)
    if unlisted is not None:
        action = _action(unlisted[0])
        seen = {i.end_to_end_id for i in listed}
        if action:
            instructions += [Instruction(e2e, action, code=unlisted[1], detail=unlisted[2],
                                         paid_on=report_day)
                             for e2e in sorted(transfers) if e2e not in seen]
    return [batch], instructions


def _match_account_report(accounts, instructions):
    from schwifty import IBAN

    try:
        ours = IBAN(settings.OPERATOR_IBAN).compact
    except ValueError:
        ours = settings.OPERATOR_IBAN
    others = sorted({a for a in accounts if a and a != ours})
    if others:
        raise refused("other_account", _(
            "Ce fichier concerne le compte %(iban)s, pas celui de l’opérateur : rien n’a été "
            "changé.") % {"iban": ", ".join(others)})
    ids = {i.end_to_end_id for i in instructions}
    transfers = {t.end_to_end_id: t for t in Transfer.objects.filter(end_to_end_id__in=ids)}
    unknown = sorted(e2e for e2e in ids - set(transfers) if e2e.startswith(OUR_PREFIX))
    if unknown:
        raise refused("unknown_transfer", _(
            "Le fichier cite des virements que la plateforme n’a jamais émis : %(ids)s. Rien "
            "n’a été changé.") % {"ids": ", ".join(unknown[:10])})
    mine = [i for i in instructions if i.end_to_end_id in transfers]
    if not mine:
        raise refused("unknown_batch", _(
            "Ce fichier ne concerne aucun virement d’un lot de paiement de la plateforme : "
            "rien n’a été changé."))
    for instruction in mine:
        transfer = transfers[instruction.end_to_end_id]
        if instruction.amount_cents is not None and instruction.amount_cents != \
                transfer.amount_cents:
            raise refused("amount_mismatch", _(
                "Le virement %(id)s porte %(got)s au fichier, %(want)s dans le lot : rien "
                "n’a été changé.") % {
                    "id": transfer.end_to_end_id,
                    "got": (format_euros(instruction.amount_cents)
                            if instruction.amount_cents >= 0 else _("une autre devise")),
                    "want": format_euros(transfer.amount_cents)})
    batches = sorted({transfers[i.end_to_end_id].batch for i in mine}, key=lambda b: b.pk)
    return batches, mine


# --- applying ------------------------------------------------------------------------------


def read(data, *, actor, name=""):
    """Read a bank file: accept, reject or pay the transfers it names (see the module).
    Returns an Outcome; the same file read again is an Outcome with ``duplicate`` and
    nothing changed. Refuses with a DomainError otherwise, changing nothing."""
    access.require(access.may_correct_redemptions(actor),
                   _("Seul l’opérateur dépose les fichiers de la banque."))
    if isinstance(data, str):
        data = data.encode("utf-8")
    digest = hashlib.sha256(data or b"").hexdigest()
    known = BankFile.objects.filter(sha256=digest).first()
    if known is not None:
        return Outcome(file=known, duplicate=True, counts=known.summary.get("counts", {}))
    kind, document = parse(data)
    if kind == BankFile.Kind.STATUS_REPORT:
        message_id, original, listed, unlisted, report_day = status_report(document)
    else:
        message_id, accounts, found = account_report(kind, document)
    known = BankFile.objects.filter(kind=kind, message_id=message_id).first()
    if known is not None:
        return Outcome(file=known, duplicate=True, counts=known.summary.get("counts", {}))
    if kind == BankFile.Kind.STATUS_REPORT:
        batches, instructions = _match_status_report(message_id, original, listed, unlisted,
                                                     report_day)
    else:
        batches, instructions = _match_account_report(accounts, found)
    try:
        return _apply(kind, message_id, digest, data, name, batches, instructions, actor)
    except IntegrityError:
        # The same file read at the same moment by another request: it went first.
        known = BankFile.objects.filter(sha256=digest).first() or BankFile.objects.filter(
            kind=kind, message_id=message_id).first()
        if known is None:
            raise
        return Outcome(file=known, duplicate=True, counts=known.summary.get("counts", {}))


def _apply(kind, message_id, digest, data, name, batches, instructions, actor):
    counts = {"accepted": 0, "rejected": 0, "paid": 0, "unchanged": 0}
    source = f"{kind}:{message_id}"
    with transaction.atomic():
        bank_file = BankFile.objects.create(
            kind=kind, message_id=message_id[:35], sha256=digest, name=(name or "")[:200],
            content=data.decode("utf-8", errors="replace"),
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None)
        locked = {b.pk: b for b in PaymentBatch.objects.select_for_update()
                  .filter(pk__in=[b.pk for b in batches]).order_by("pk")}
        transfers = {t.end_to_end_id: t for t in Transfer.objects.select_for_update()
                     .filter(end_to_end_id__in=[i.end_to_end_id for i in instructions])
                     .order_by("pk")}
        today = timezone.localdate()
        for instruction in instructions:
            transfer = transfers[instruction.end_to_end_id]
            if instruction.action == "accept":
                changed = reimbursement.accept_transfer(transfer, actor=actor, source=source)
                key = "accepted"
            elif instruction.action == "pay":
                changed = reimbursement.pay_transfer(
                    transfer, paid_on=instruction.paid_on or today, actor=actor, source=source)
                key = "paid"
            else:
                changed = reimbursement.reject_transfer(
                    transfer, code=instruction.code, detail=instruction.detail, actor=actor,
                    source=source)
                key = "rejected"
            counts[key if changed else "unchanged"] += 1
        for batch in locked.values():
            reimbursement.refresh_batch(batch, actor=actor)
        bank_file.batches.set(list(locked))
        bank_file.summary = {"counts": counts, "batches": sorted(locked),
                             "transfers": sorted(transfers)}
        bank_file.save(update_fields=["summary"])
        audit.record(actor, bank_file, "bank_file.read", "", kind, message_id=message_id,
                     batches=sorted(locked), **counts)
    return Outcome(file=bank_file, counts=counts)


def summary_text(outcome):
    """One French sentence for the operator: what the file changed."""
    counts = outcome.counts
    if outcome.duplicate:
        return _("Ce fichier a déjà été lu le %(date)s : rien n’a changé.") % {
            "date": timezone.localtime(outcome.file.uploaded_at).strftime("%d/%m/%Y %H:%M")}
    return _("Fichier %(kind)s lu : %(accepted)s virement(s) accepté(s), %(paid)s payé(s), "
             "%(rejected)s rejeté(s), %(unchanged)s sans changement.") % {
        "kind": outcome.file.kind, **{k: counts.get(k, 0) for k in
                                     ("accepted", "paid", "rejected", "unchanged")}}
