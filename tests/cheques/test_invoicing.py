"""Quotes and invoices of orders: the invoice is written with the approval, numbered without
gaps, keeps what it billed, and both PDFs go only to the funder and the operator."""

import re
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from aptic.errors import DomainError
from aptic.models import AuditEvent, Organisation, Role
from cheques import ordering
from cheques.models import Invoice, Order, PricingSettings
from tests.clock import paris
from tests.factories import OrganisationFactory, member
from tests.helpers import CONFIRMED, pdf_text

pytestmark = pytest.mark.django_db

FUNDER_SIRET = "21330063500017"
OPERATOR_SIRET = "73282932000074"


@pytest.fixture(autouse=True)
def _operator_identity(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.OPERATOR_NAME = "Opérateur de test"
    settings.OPERATOR_SIRET = OPERATOR_SIRET
    settings.OPERATOR_ADDRESS = "2 rue du Test, 33000 Bordeaux"
    settings.OPERATOR_IBAN = "FR76 3000 6000 0112 3456 7890 189"
    settings.OPERATOR_BIC = "AGRIFRPP"
    settings.INVOICE_LEGAL_MENTION = "Mention légale de test."


@pytest.fixture
def funder(funder_a):
    funder_a.siret = FUNDER_SIRET
    funder_a.address = "Esplanade Charles-de-Gaulle, 33000 Bordeaux"
    funder_a.save()
    return funder_a


@pytest.fixture
def priced(funder, manager_a, make_order):
    """An order of 20 booklets of 10 cheques at 12,50 € with a fee of 0,50 € per booklet:
    2 500,00 € + 10,00 € = 2 510,00 €."""
    PricingSettings.objects.update_or_create(pk=1, defaults={"per_booklet_fee_cents": 50})
    return make_order(funder, manager_a, booklets=20, cheques_per_booklet=10,
                      face_value_cents=1250)


@pytest.fixture
def number_of(clock):
    """The sequence number of an invoice, which must be numbered in this year."""
    def number(invoice):
        match = re.fullmatch(r"F-(\d{4})-(\d{5})", invoice.number)
        assert match, invoice.number
        assert int(match[1]) == clock.today.year
        return int(match[2])

    return number


# --- the invoice is written with the approval ----------------------------------------------


def test_approval_writes_one_invoice_of_the_order_total_with_its_audit_row(number_of, priced,
                                                                          operator):
    assert priced.total_cents == 251_000
    order = ordering.approve_order(priced, actor=operator)

    invoice = Invoice.objects.get()
    assert invoice.order_id == order.pk
    assert invoice.total_cents == order.total_cents == 251_000
    assert sum(line["amount_cents"] for line in invoice.lines) == order.total_cents
    assert [(line["kind"], line["quantity"], line["unit_cents"], line["amount_cents"])
            for line in invoice.lines] == [("cheques", 200, 1250, 250_000),
                                           ("fees", 20, 50, 1000)]
    assert (invoice.funder_name, invoice.funder_siret) == (priced.funder.name, FUNDER_SIRET)
    assert (invoice.operator_siret, invoice.operator_iban) == (
        OPERATOR_SIRET, "FR7630006000011234567890189")
    assert invoice.issued_at is not None
    number_of(invoice)
    event = AuditEvent.objects.for_object(invoice).get(action="invoice.issued")
    assert event.actor == operator
    assert event.details == {"number": invoice.number, "order": order.pk,
                             "total_cents": 251_000}


def test_an_order_without_fee_has_a_single_line(funder, manager_a, operator, make_order):
    order = make_order(funder, manager_a, approve_by=operator, booklets=3)
    invoice = Invoice.objects.get(order=order)
    assert [line["kind"] for line in invoice.lines] == ["cheques"]
    assert invoice.total_cents == order.total_cents == 3 * 5 * 1000


def test_an_order_is_invoiced_once(priced, operator):
    ordering.approve_order(priced, actor=operator)
    with pytest.raises(DomainError):
        ordering.approve_order(priced, actor=operator)
    assert Invoice.objects.filter(order=priced).count() == 1
    assert AuditEvent.objects.filter(action="invoice.issued").count() == 1


def test_rejected_and_cancelled_orders_get_no_invoice(funder, manager_a, operator,
                                                      make_order):
    rejected = make_order(funder, manager_a)
    ordering.reject_order(rejected, actor=operator, reason="Budget épuisé")
    cancelled = make_order(funder, manager_a)
    ordering.cancel_order(cancelled, actor=manager_a)
    assert not Invoice.objects.exists()
    assert not AuditEvent.objects.filter(action="invoice.issued").exists()


def test_an_invoice_that_cannot_be_written_leaves_the_order_waiting(priced, operator):
    # The terms no longer add up to the agreed total: no invoice, so no approval either.
    Order.objects.filter(pk=priced.pk).update(booklets=21)
    priced.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        ordering.approve_order(priced, actor=operator)
    assert refused.value.code == "invoice_mismatch"
    assert "2 510,00" in refused.value.detail.replace("\u202f", " ")
    priced.refresh_from_db()
    assert priced.status == Order.Status.SUBMITTED
    assert not Invoice.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["order.approved",
                                                     "invoice.issued"]).exists()


# --- numbers: consecutive, never given twice -----------------------------------------------


def test_invoice_numbers_follow_each_other(number_of, funder, manager_a, operator, make_order):
    first = make_order(funder, manager_a, approve_by=operator)
    second = make_order(funder, manager_a, approve_by=operator)
    assert number_of(second.invoice) == number_of(first.invoice) + 1


def test_a_rolled_back_approval_leaves_no_gap_and_no_number_is_given_twice(number_of,
    funder, manager_a, operator, make_order
):
    first = make_order(funder, manager_a, approve_by=operator)
    undone = make_order(funder, manager_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        ordering.approve_order(undone, actor=operator)
        assert number_of(Invoice.objects.get(order=undone)) == number_of(first.invoice) + 1
        raise RuntimeError("the request failed after the approval")
    undone.refresh_from_db()
    assert undone.status == Order.Status.SUBMITTED
    assert not Invoice.objects.filter(order=undone).exists()

    second = make_order(funder, manager_a, approve_by=operator)
    ordering.approve_order(undone, actor=operator)
    numbers = [number_of(Invoice.objects.get(order=order)) for order in (first, second, undone)]
    start = numbers[0]
    assert numbers == [start, start + 1, start + 2]
    assert Invoice.objects.values("number").distinct().count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_get_consecutive_numbers(number_of, funder, manager_a, operator,
                                                          make_order):
    orders = [make_order(funder, manager_a) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors = []

    def approve(order):
        try:
            barrier.wait()
            ordering.approve_order(order, actor=operator)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(number_of(invoice) for invoice in Invoice.objects.all())
    assert numbers == [numbers[0], numbers[0] + 1]


# --- the PDFs ------------------------------------------------------------------------------


def test_the_quote_shows_its_number_the_lines_the_total_and_both_sirets(client, priced,
                                                                        manager_a):
    client.force_login(manager_a)
    response = client.get(f"/commandes/{priced.pk}/devis.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    number = f"D-{timezone.localtime(priced.created_at).year}-{priced.pk:05d}"
    assert response["Content-Disposition"] == f'attachment; filename="devis-{number}.pdf"'
    text = pdf_text(response.content)
    for expected in (number, "2 510,00 €", "2 500,00 €", "12,50 €", "10,00 €",
                     "20 carnets × 10 chèques", "Frais de fabrication par carnet",
                     FUNDER_SIRET, OPERATOR_SIRET, priced.funder.name, "Opérateur de test",
                     "Devis valable 30 jours", "Mention légale de test."):
        assert expected in text, expected


def test_the_invoice_shows_its_number_the_total_both_sirets_and_how_to_pay(client, priced,
                                                                           operator):
    ordering.approve_order(priced, actor=operator)
    invoice = Invoice.objects.get()
    client.force_login(operator)
    response = client.get(f"/commandes/{priced.pk}/facture.pdf")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="facture-{invoice.number}.pdf"')
    text = pdf_text(response.content)
    for expected in (invoice.number, "2 510,00 €", FUNDER_SIRET, OPERATOR_SIRET,
                     "Payable d’avance", "FR76 3000 6000 0112 3456 7890 189", "AGRIFRPP",
                     f"Référence de paiement à indiquer : {invoice.number}",
                     "Mention légale de test."):
        assert expected in text, expected


def test_the_invoice_keeps_what_it_billed_when_things_change_later(client, priced, operator,
                                                                   settings):
    ordering.approve_order(priced, actor=operator)
    funder = priced.funder
    funder.name, funder.siret = "Nouveau nom", "35600000000048"
    funder.save()
    settings.OPERATOR_IBAN = "FR1420041010050500013M02606"
    settings.INVOICE_LEGAL_MENTION = "Autre mention."
    client.force_login(operator)
    text = pdf_text(client.get(f"/commandes/{priced.pk}/facture.pdf").content)
    assert FUNDER_SIRET in text and "Financeur A" in text
    assert "35600000000048" not in text and "Nouveau nom" not in text
    assert "FR76 3000" in text and "Mention légale de test." in text
    # The quote is drawn from the order as it is now.
    quote = pdf_text(client.get(f"/commandes/{priced.pk}/devis.pdf").content)
    assert "35600000000048" in quote and "Autre mention." in quote


# --- who may download them ---------------------------------------------------------------


@pytest.fixture
def approved(priced, operator):
    return ordering.approve_order(priced, actor=operator)


@pytest.mark.parametrize("document", ["devis", "facture"])
def test_only_the_funder_and_the_operator_download_the_documents(client, approved, manager_a,
                                                                 manager_b, operator,
                                                                 document):
    url = f"/commandes/{approved.pk}/{document}.pdf"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")
    client.force_login(manager_b)
    assert client.get(url).status_code == 404
    prescriber = member(Role.PRESCRIBER, OrganisationFactory(
        kind=Organisation.Kind.PRESCRIBER, funder=approved.funder))
    client.force_login(prescriber)
    assert client.get(url).status_code == 403
    for user in (manager_a, operator):
        client.force_login(user)
        assert client.get(url).status_code == 200


def test_there_is_no_invoice_before_the_approval(client, priced, manager_a, operator):
    for user in (manager_a, operator):
        client.force_login(user)
        assert client.get(f"/commandes/{priced.pk}/facture.pdf").status_code == 404
        assert client.get(f"/commandes/{priced.pk}/devis.pdf").status_code == 200


# --- the pages -----------------------------------------------------------------------------


def test_the_order_page_links_the_quote_then_the_invoice(client, priced, manager_a, operator):
    client.force_login(manager_a)
    page = client.get(f"/commandes/{priced.pk}/").content.decode()
    assert f'href="/commandes/{priced.pk}/devis.pdf"' in page
    assert "Télécharger le devis (PDF)" in page
    assert "facture.pdf" not in page

    ordering.approve_order(priced, actor=operator)
    number = Invoice.objects.get().number
    for user in (manager_a, operator):
        client.force_login(user)
        page = client.get(f"/commandes/{priced.pk}/").content.decode()
        assert f'href="/commandes/{priced.pk}/facture.pdf"' in page
        assert "Télécharger la facture (PDF)" in page and number in page


def test_the_operator_sees_the_invoice_number_on_approval_and_in_the_queue(
    client, priced, operator, settings
):
    settings.ISSUANCE_ASYNC_THRESHOLD = 10  # issued by a task after commit: stays approved
    client.force_login(operator)
    response = client.post(f"/operateur/commandes/{priced.pk}/valider/", CONFIRMED,
                           follow=True)
    number = Invoice.objects.get(order=priced).number
    assert f"(facture {number})" in response.content.decode()
    assert Order.objects.get(pk=priced.pk).status == Order.Status.APPROVED
    queue = client.get("/operateur/commandes/").content.decode()
    assert f"facture {number}" in queue


def test_invoices_are_numbered_per_year_of_the_paris_calendar(clock, funder, manager_a,
                                                               operator, make_order):
    """31 December at 23:59 in Paris is still that year (22:59 UTC), and 1 January at 00:01
    starts a new sequence (still 31 December in UTC)."""
    year = clock.today.year
    clock.move_to(paris(year, 12, 31, 23, 59))
    december = make_order(funder, manager_a, approve_by=operator)
    clock.move_to(paris(year + 1, 1, 1, 0, 1))
    january = make_order(funder, manager_a, approve_by=operator)
    later = make_order(funder, manager_a, approve_by=operator)
    assert december.invoice.number == f"F-{year}-00001"
    assert january.invoice.number == f"F-{year + 1}-00001"
    assert later.invoice.number == f"F-{year + 1}-00002"
