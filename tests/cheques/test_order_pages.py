"""The web pages of ordering: form, summary, list, detail, queue, hand-over, cancellation."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from aptic.models import AuditEvent, Organisation, Role
from cheques import logos
from cheques.models import Booklet, Cheque, Order, PricingSettings
from cheques.validity import default_valid_until
from cheques.web.orders import DRAFT_KEY
from services.models import Service
from tests.cheques.conftest import next_june
from tests.factories import OrganisationFactory, member
from tests.helpers import CONFIRMED

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png_bytes(size=(40, 20)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(buffer, "PNG")
    return buffer.getvalue()


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
       b'height="10"><rect width="10" height="10" fill="red"/></svg>')


@pytest.fixture
def prescriber_a(funder_a):
    office = OrganisationFactory(kind=Organisation.Kind.PRESCRIBER, funder=funder_a)
    return member(Role.PRESCRIBER, office)


@pytest.fixture
def prescriber_b(funder_b):
    office = OrganisationFactory(kind=Organisation.Kind.PRESCRIBER, funder=funder_b)
    return member(Role.PRESCRIBER, office)


# --- the order form, the summary, the confirmation -----------------------------------------


def test_the_form_shows_the_defaults_and_the_per_booklet_fee_for_the_live_price(
        clock, client, manager_a, nomenclature):
    PricingSettings.objects.update_or_create(pk=1, defaults={"per_booklet_fee_cents": 150})
    client.force_login(manager_a)
    response = client.get("/commandes/nouvelle/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-fee-cents="150"' in html
    assert f'value="{default_valid_until(clock.today).isoformat()}"' in html
    assert "cheques/order_form.js" in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline code or style
    # services grouped by category, one fieldset each
    category = Service.objects.active().select_related("category").first().category
    assert f"<legend>{category.label}</legend>" in html
    # 10 booklets × 10 cheques × 10 € + 10 × 1.50 € rendered before any script runs
    assert "1\u202f015,00\u00a0€" in html


def test_the_summary_step_writes_nothing_and_the_confirmation_creates_the_order(
        form_data, clock, client, manager_a, funder_a, nomenclature):
    slugs = list(Service.objects.active().values_list("slug", flat=True)[:2])
    client.force_login(manager_a)
    response = client.post("/commandes/nouvelle/", form_data(allowed_services=slugs))
    assert response.status_code == 302
    assert response["Location"] == "/commandes/nouvelle/recapitulatif/"
    summary = client.get("/commandes/nouvelle/recapitulatif/")
    assert summary.status_code == 200
    html = summary.content.decode()
    assert "375,00\u00a0€" in html  # 3 × 10 × 12.50 €
    assert "2A Corse-du-Sud" in html and "33 Gironde" in html
    assert not Order.objects.exists()
    assert not AuditEvent.objects.exists()

    response = client.post("/commandes/nouvelle/recapitulatif/", {"step": "confirmer"})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/commandes/{order.pk}/"
    assert order.funder == funder_a
    assert order.created_by == manager_a
    assert order.face_value_cents == 1250
    assert order.total_cents == 37500
    assert order.territory == ["2A", "33"]
    assert order.valid_until == next_june(clock.today)
    assert sorted(order.allowed_services.values_list("slug", flat=True)) == sorted(slugs)
    assert order.status == Order.Status.SUBMITTED
    assert AuditEvent.objects.for_object(order).filter(action="order.submitted").exists()
    assert DRAFT_KEY not in client.session
    assert "2A Corse-du-Sud, 33 Gironde" in client.get(response["Location"]).content.decode()
    # a second confirmation (reload, double click) creates nothing more
    client.post("/commandes/nouvelle/recapitulatif/", {"step": "confirmer"})
    assert Order.objects.count() == 1


def test_the_summary_can_be_modified_before_confirming(form_data, client, manager_a, nomenclature):
    client.force_login(manager_a)
    client.post("/commandes/nouvelle/", form_data())
    response = client.get("/commandes/nouvelle/?modifier=1")
    assert 'value="Seniors"' in response.content.decode()
    client.post("/commandes/nouvelle/", form_data(booklets="4"))
    client.post("/commandes/nouvelle/recapitulatif/", {"step": "confirmer"})
    assert Order.objects.get().booklets == 4


@pytest.mark.parametrize(("field", "value", "message"), [
    ("booklets", "0", "supérieure ou égale à 1"),
    ("booklets", "-1", "supérieure ou égale à 1"),
    ("booklets", "100001", "inférieure ou égale à 100000"),
    ("booklets", "dix", "Saisissez un nombre entier"),
    ("cheques_per_booklet", "21", "inférieure ou égale à 20"),
    ("face_value", "0", "La valeur faciale doit être positive"),
    ("valid_until", "2000-01-01", "doit être dans le futur"),
    ("territory", "33, 99", "Départements inconnus : 99"),
    ("allowed_services", "service-inconnu", "Sélectionnez un choix valide"),
    ("contact_email", "pas-une-adresse", "Saisissez une adresse e-mail valide"),
])
def test_bad_input_gives_a_french_field_error_and_writes_nothing(
        form_data, client, manager_a, nomenclature, field, value, message):
    client.force_login(manager_a)
    response = client.post("/commandes/nouvelle/", form_data(**{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message.replace("’", "'") in " ".join(errors[field]).replace("’", "'")
    assert DRAFT_KEY not in client.session
    assert not Order.objects.exists()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("gros.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024), "dépasse 1 Mo"),
    ("texte.png", b"Ceci n'est pas une image.", "PNG ou SVG valide"),
    ("faux.png", b"\x89PNG\r\n\x1a\n" + b"pas vraiment un PNG" * 10, "PNG ou SVG valide"),
    ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 100, "PNG ou SVG valide"),
    ("page.svg", b"<html><body>bonjour</body></html>", "PNG ou SVG valide"),
    ("entites.svg", b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>', "entités XML"),
])
def test_a_bad_logo_is_refused_with_a_french_error(form_data, client, manager_a, nomenclature, name,
                                                   content, message):
    client.force_login(manager_a)
    response = client.post("/commandes/nouvelle/", {
        **form_data(), "logo": SimpleUploadedFile(name, content, "image/png")})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["logo"])
    assert DRAFT_KEY not in client.session
    assert not Order.objects.exists()


@pytest.mark.parametrize(("name", "content"), [("logo.png", png_bytes()), ("logo.svg", SVG),
                                               ("sans-extension", png_bytes())])
def test_a_png_or_svg_logo_is_kept_through_the_summary_and_saved_with_the_order(
        form_data, client, manager_a, nomenclature, name, content):
    client.force_login(manager_a)
    response = client.post("/commandes/nouvelle/", {
        **form_data(), "logo": SimpleUploadedFile(name, content, "application/octet-stream")})
    assert response.status_code == 302
    assert name in client.get("/commandes/nouvelle/recapitulatif/").content.decode()
    client.post("/commandes/nouvelle/recapitulatif/", {"step": "confirmer"})
    order = Order.objects.get()
    with order.logo.open("rb") as stored:
        assert stored.read() == logos.clean_logo(content)[0]  # an SVG is kept sanitised


def test_only_funder_managers_reach_the_order_form(form_data, client, prescriber_a, mediator,
                                                   operator, nomenclature):
    for user in (prescriber_a, mediator, operator):
        client.force_login(user)
        assert client.get("/commandes/nouvelle/").status_code == 403
        assert client.post("/commandes/nouvelle/", form_data()).status_code == 403
    client.logout()
    assert client.get("/commandes/nouvelle/").status_code == 302  # to the login page
    assert not Order.objects.exists()


# --- list, detail, progress ----------------------------------------------------------------


def test_funder_a_never_sees_the_orders_of_funder_b(client, make_order, funder_a, manager_a,
                                                    funder_b, manager_b, operator):
    mine = make_order(funder_a, manager_a)
    theirs = make_order(funder_b, manager_b, approve_by=operator)
    client.force_login(manager_a)
    listing = client.get("/commandes/").content.decode()
    assert f"/commandes/{mine.pk}/" in listing
    assert f"/commandes/{theirs.pk}/" not in listing
    for url in (f"/commandes/{theirs.pk}/", f"/commandes/{theirs.pk}/progression.json"):
        assert client.get(url).status_code == 404
    assert client.post(f"/commandes/{theirs.pk}/annuler/", CONFIRMED).status_code == 404
    client.force_login(operator)
    listing = client.get("/commandes/").content.decode()
    assert f"/commandes/{mine.pk}/" in listing and f"/commandes/{theirs.pk}/" in listing


def test_the_detail_shows_counts_by_state_and_the_progress_json_says_issued(
        client, make_order, funder_a, manager_a, operator):
    order = make_order(funder_a, manager_a, approve_by=operator)
    booklet = order.booklet_set.first()
    Cheque.objects.filter(pk=booklet.cheques.first().pk).update(state=Cheque.State.CANCELLED)
    client.force_login(manager_a)
    response = client.get(f"/commandes/{order.pk}/")
    assert response.status_code == 200
    assert ("Émis", 9) in response.context["counts"]
    assert ("Annulé", 1) in response.context["counts"]
    assert booklet.number in response.content.decode()
    progress = client.get(f"/commandes/{order.pk}/progression.json").json()
    assert progress == {"status": "issued", "status_label": "Émise", "issued": 10,
                        "total": 10, "percent": 100}


def test_the_progress_json_reads_the_running_issuance_from_the_cache(
        client, make_order, funder_a, manager_a):
    from django.core.cache import cache

    from cheques.issuance import progress_key

    order = make_order(funder_a, manager_a, booklets=4)  # 20 cheques
    Order.objects.filter(pk=order.pk).update(status=Order.Status.APPROVED)
    cache.set(progress_key(order.pk), 5)
    client.force_login(manager_a)
    body = client.get(f"/commandes/{order.pk}/progression.json").json()
    assert (body["status"], body["issued"], body["total"], body["percent"]) == \
        ("approved", 5, 20, 25)


def test_the_funder_cancels_a_submitted_order_but_not_an_approved_one(
        client, make_order, funder_a, manager_a, operator):
    waiting = make_order(funder_a, manager_a)
    issued = make_order(funder_a, manager_a, approve_by=operator)
    client.force_login(manager_a)
    assert "Annuler la commande" in client.get(f"/commandes/{waiting.pk}/").content.decode()
    client.post(f"/commandes/{waiting.pk}/annuler/", CONFIRMED)
    waiting.refresh_from_db()
    assert waiting.status == Order.Status.CANCELLED
    response = client.post(f"/commandes/{issued.pk}/annuler/", CONFIRMED, follow=True)
    assert "impossible de faire cela" in response.content.decode()
    issued.refresh_from_db()
    assert issued.status == Order.Status.ISSUED


# --- the operator's queue ------------------------------------------------------------------


def test_the_operator_approves_from_the_queue_and_a_small_order_is_issued_at_once(
        client, make_order, funder_a, manager_a, operator):
    order = make_order(funder_a, manager_a)
    client.force_login(operator)
    queue = client.get("/operateur/commandes/").content.decode()
    assert f"/operateur/commandes/{order.pk}/valider/" in queue
    response = client.post(f"/operateur/commandes/{order.pk}/valider/", CONFIRMED,
                           follow=True)
    assert "10 chèques émis" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.ISSUED
    assert Cheque.objects.filter(order=order).count() == 10


def test_a_rejection_needs_a_reason(client, make_order, funder_a, manager_a, operator):
    order = make_order(funder_a, manager_a)
    client.force_login(operator)
    response = client.post(f"/operateur/commandes/{order.pk}/refuser/", {"reason": "  "},
                           follow=True)
    assert "Indiquez le motif du refus" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED
    assert not AuditEvent.objects.filter(action="order.rejected").exists()
    client.post(f"/operateur/commandes/{order.pk}/refuser/", {"reason": "Budget non voté",
                                                             **CONFIRMED})
    order.refresh_from_db()
    assert (order.status, order.rejection_reason) == (Order.Status.REJECTED, "Budget non voté")


def test_only_the_operator_sees_the_queue_and_decides(client, make_order, funder_a, manager_a):
    order = make_order(funder_a, manager_a)
    client.force_login(manager_a)  # sees the order, may not decide on it
    assert client.get("/operateur/commandes/").status_code == 403
    assert client.post(f"/operateur/commandes/{order.pk}/valider/").status_code == 403
    assert client.post(f"/operateur/commandes/{order.pk}/refuser/",
                       {"reason": "non"}).status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED


def test_the_operator_extends_the_validity_and_the_funder_cannot(
        client, make_order, funder_a, manager_a, operator):
    order = make_order(funder_a, manager_a, approve_by=operator)
    later = order.valid_until + datetime.timedelta(days=60)
    client.force_login(manager_a)
    assert client.post(f"/commandes/{order.pk}/prolonger/",
                       {"valid_until": later.isoformat()}).status_code == 403
    client.force_login(operator)
    page = client.get(f"/commandes/{order.pk}/").content.decode()
    assert "Prolonger la validité" in page
    earlier = order.valid_until - datetime.timedelta(days=1)
    response = client.post(f"/commandes/{order.pk}/prolonger/",
                           {"valid_until": earlier.isoformat()}, follow=True)
    assert "La nouvelle date doit être postérieure" in response.content.decode()
    client.post(f"/commandes/{order.pk}/prolonger/", {"valid_until": later.isoformat()})
    order.refresh_from_db()
    assert order.valid_until == later
    assert AuditEvent.objects.for_object(order).filter(
        action="order.validity_extended").count() == 1


# --- hand-over and cancellation ------------------------------------------------------------


def test_a_prescriber_of_the_funder_hands_over_a_booklet_with_an_anonymous_profile(
        client, make_order, funder_a, manager_a, operator, prescriber_a):
    order = make_order(funder_a, manager_a, approve_by=operator)
    booklet = order.booklet_set.first()
    client.force_login(prescriber_a)
    response = client.post("/carnets/remise/", {
        "number": f" {booklet.number.lower()} ", "age_bracket": "65_79", "postcode": "33000",
        "situation": "retired"}, follow=True)
    assert f"Carnet {booklet.number} remis" in response.content.decode()
    booklet.refresh_from_db()
    assert (booklet.state, booklet.age_bracket, booklet.postcode, booklet.situation) == \
        (Booklet.State.DISTRIBUTED, "65_79", "33000", "retired")
    assert set(booklet.cheques.values_list("state", flat=True)) == {Cheque.State.DISTRIBUTED}


@pytest.mark.parametrize(("data", "message"), [
    ({"number": "12345"}, "AAAA-NNNNNN"),
    ({"number": "2020-999999"}, "Aucun carnet ne porte le numéro"),
    ({"number": "{number}", "postcode": "3300"}, "5 chiffres"),
    ({"number": "{number}", "age_bracket": "centenaire"}, "Sélectionnez un choix valide"),
])
def test_a_bad_hand_over_is_refused_in_french_and_changes_nothing(
        client, make_order, funder_a, manager_a, operator, prescriber_a, data, message):
    order = make_order(funder_a, manager_a, approve_by=operator)
    booklet = order.booklet_set.first()
    data = {key: value.format(number=booklet.number) for key, value in data.items()}
    client.force_login(prescriber_a)
    response = client.post("/carnets/remise/", data)
    assert response.status_code == 200
    assert message.replace("’", "'") in response.content.decode().replace("&#x27;", "'") \
        .replace("’", "'")
    assert not Booklet.objects.exclude(state=Booklet.State.ISSUED).exists()


def test_a_prescriber_of_another_funder_cannot_hand_over(
        client, make_order, funder_a, manager_a, operator, prescriber_b, mediator):
    order = make_order(funder_a, manager_a, approve_by=operator)
    booklet = order.booklet_set.first()
    client.force_login(prescriber_b)
    response = client.post("/carnets/remise/", {"number": booklet.number})
    assert f"Aucun carnet ne porte le numéro {booklet.number}" in response.content.decode()
    client.force_login(mediator)
    assert client.get("/carnets/remise/").status_code == 403
    booklet.refresh_from_db()
    assert booklet.state == Booklet.State.ISSUED


def test_the_funder_cancels_a_booklet_or_a_single_cheque_with_a_reason(
        client, make_order, funder_a, manager_a, operator):
    order = make_order(funder_a, manager_a, approve_by=operator)
    first, second = order.booklet_set.order_by("number")
    client.force_login(manager_a)
    response = client.post("/carnets/annulation/", {
        "target": "booklet", "identifier": first.number, "reason": ""})
    assert "Ce champ est obligatoire" in response.content.decode()
    first.refresh_from_db()
    assert first.state == Booklet.State.ISSUED
    response = client.post("/carnets/annulation/", {
        "target": "booklet", "identifier": first.number, "reason": "Volé", **CONFIRMED},
        follow=True)
    assert "(5 chèques)" in response.content.decode()
    first.refresh_from_db()
    assert first.state == Booklet.State.CANCELLED
    cheque = second.cheques.first()
    client.post("/carnets/annulation/", {
        "target": "cheque", "identifier": cheque.display_code.lower(), "reason": "Perdu",
        **CONFIRMED})
    cheque.refresh_from_db()
    assert (cheque.state, cheque.cancellation_reason) == (Cheque.State.CANCELLED, "Perdu")
    assert second.cheques.filter(state=Cheque.State.ISSUED).count() == 4


def test_funder_b_cannot_cancel_the_cheques_of_funder_a(
        client, make_order, funder_a, manager_a, manager_b, operator, prescriber_a):
    order = make_order(funder_a, manager_a, approve_by=operator)
    booklet = order.booklet_set.first()
    client.force_login(manager_b)
    response = client.post("/carnets/annulation/", {
        "target": "booklet", "identifier": booklet.number, "reason": "Volé", **CONFIRMED})
    assert f"Aucun carnet ne porte le numéro {booklet.number}" in response.content.decode()
    client.force_login(prescriber_a)  # prescribers hand over, they do not cancel
    assert client.get("/carnets/annulation/").status_code == 403
    booklet.refresh_from_db()
    assert booklet.state == Booklet.State.ISSUED


# --- home page -----------------------------------------------------------------------------


def test_the_home_page_lists_the_actions_of_each_role(client, manager_a, prescriber_a,
                                                      operator, mediator):
    expected = {
        manager_a: ({"/commandes/nouvelle/", "/commandes/", "/carnets/remise/",
                     "/carnets/annulation/"}, {"/operateur/commandes/"}),
        prescriber_a: ({"/carnets/remise/"}, {"/commandes/nouvelle/", "/carnets/annulation/"}),
        operator: ({"/operateur/commandes/", "/commandes/", "/carnets/annulation/"},
                   {"/commandes/nouvelle/"}),
        mediator: ({"/encaisser/"}, {"/commandes/", "/carnets/remise/"}),
    }
    for user, (present, absent) in expected.items():
        client.force_login(user)
        urls = {action.url for action in client.get("/").context["actions"]}
        assert present <= urls, user
        assert not absent & urls, user
