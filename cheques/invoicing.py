"""Quotes (devis) and invoices (factures) of orders: the funder's paperwork before issuance.

The quote is drawn from the order's terms whenever it is asked for: numbered
``D-<year of the order>-<order id>``, dated the day of the order, valid 30 days. The invoice
is written once, in the transaction that approves the order (cheques.ordering), numbered
``F-<year>-<NNNNN>`` from a yearly sequence without gaps, payable in advance; it keeps its own
copy of the lines, the amounts and both parties, so that nothing edited later changes an
invoice already sent. Both print through one template with WeasyPrint.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aptic import audit
from aptic.errors import DomainError
from aptic.l10n import format_euros, format_grouped
from aptic.models import normalise_siret
from aptic.pdf import in_french, render_pdf
from places import banking

from .models import Invoice, InvoiceSequence

QUOTE_VALIDITY_DAYS = 30


def order_lines(order):
    """The lines of an order: its cheques, then the per-booklet fee when there is one."""
    lines = [{
        "kind": "cheques", "booklets": order.booklets,
        "cheques_per_booklet": order.cheques_per_booklet, "quantity": order.cheque_count,
        "unit_cents": order.face_value_cents, "amount_cents": order.price.cheques_cents,
    }]
    if order.per_booklet_fee_cents:
        lines.append({
            "kind": "fees", "quantity": order.booklets,
            "unit_cents": order.per_booklet_fee_cents, "amount_cents": order.price.fees_cents,
        })
    return lines


def line_label(line):
    if line["kind"] == "fees":
        return _("Frais de fabrication par carnet")
    return _("Chèques #APTIC : %(booklets)s carnets × %(cheques)s chèques, à leur valeur "
             "faciale") % {"booklets": format_grouped(line["booklets"]),
                           "cheques": line["cheques_per_booklet"]}


# --- the quote -----------------------------------------------------------------------------


def quote_number(order):
    return f"D-{timezone.localtime(order.created_at).year}-{order.pk:05d}"


@in_french
def quote_pdf(order):
    date = timezone.localtime(order.created_at).date()
    funder = order.funder
    return _render({
        "title": _("Devis"), "quote": True, "number": quote_number(order), "date": date,
        "order_id": order.pk,
        "validity_days": QUOTE_VALIDITY_DAYS,
        "valid_until": date + datetime.timedelta(days=QUOTE_VALIDITY_DAYS),
        "issuer": _operator(), "client": _party(funder.name, funder.siret, funder.address),
        "lines": order_lines(order), "total_cents": order.total_cents,
        "legal_mention": settings.INVOICE_LEGAL_MENTION,
    })


# --- the invoice ---------------------------------------------------------------------------


def invoice_of(order):
    """The order's invoice, or None before its approval."""
    return Invoice.objects.filter(order=order).first()


@transaction.atomic
def issue_invoice(order, *, actor):
    """Write the invoice of an order being approved. Called by cheques.ordering.approve_order
    inside the approval's transaction: no approved order without its invoice, no invoice
    (nor invoice number) for an approval that rolls back."""
    lines = order_lines(order)
    lines_cents = sum(line["amount_cents"] for line in lines)
    if lines_cents != order.total_cents:
        # The terms were edited after the order was priced (in the admin): the funder agreed
        # to the total, the lines would say otherwise.
        raise DomainError("invoice_mismatch", _(
            "Le total de la commande (%(total)s) ne correspond plus à ses conditions "
            "(%(lines)s) : corrigez la commande avant de la valider."
        ) % {"total": format_euros(order.total_cents), "lines": format_euros(lines_cents)})
    issued_at = timezone.now()
    year = timezone.localtime(issued_at).year
    funder = order.funder
    invoice = Invoice.objects.create(
        order=order, number=f"F-{year}-{InvoiceSequence.reserve(year):05d}",
        issued_at=issued_at, lines=lines, total_cents=order.total_cents,
        funder_name=funder.name, funder_siret=funder.siret, funder_address=funder.address,
        operator_name=settings.OPERATOR_NAME,
        operator_siret=normalise_siret(settings.OPERATOR_SIRET),
        operator_address=settings.OPERATOR_ADDRESS,
        operator_iban=_compact(settings.OPERATOR_IBAN),
        operator_bic=_compact(settings.OPERATOR_BIC),
        operator_account_name=settings.OPERATOR_ACCOUNT_NAME,
        legal_mention=settings.INVOICE_LEGAL_MENTION,
    )
    audit.record(actor, invoice, "invoice.issued", "", "issued", number=invoice.number,
                 order=order.pk, total_cents=invoice.total_cents)
    return invoice


@in_french
def invoice_pdf(invoice):
    """The invoice as it was issued: everything printed comes from its own copy."""
    return _render({
        "title": _("Facture"), "quote": False, "number": invoice.number,
        "date": timezone.localtime(invoice.issued_at).date(), "order_id": invoice.order_id,
        "issuer": _party(invoice.operator_name, invoice.operator_siret,
                         invoice.operator_address),
        "client": _party(invoice.funder_name, invoice.funder_siret, invoice.funder_address),
        "lines": invoice.lines, "total_cents": invoice.total_cents,
        "payment": {"iban": banking.format_iban(invoice.operator_iban),
                    "bic": invoice.operator_bic,
                    "account_name": invoice.operator_account_name,
                    "reference": invoice.number},
        "legal_mention": invoice.legal_mention,
    })


# --- rendering -----------------------------------------------------------------------------


def _party(name, siret, address):
    return {"name": name, "siret": siret, "address": address}


def _operator():
    return _party(settings.OPERATOR_NAME, normalise_siret(settings.OPERATOR_SIRET),
                  settings.OPERATOR_ADDRESS)


def _compact(value):
    return "".join(value.split()).upper()


def _render(context):
    context["parties"] = [(_("Émetteur"), context.pop("issuer")),
                          (_("Client"), context.pop("client"))]
    context["lines"] = [{**line, "label": line_label(line),
                         "quantity_display": format_grouped(line["quantity"])}
                        for line in context["lines"]]
    return render_pdf("cheques/invoicing/document.html", context)
