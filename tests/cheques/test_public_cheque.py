"""The public page of a cheque (its QR code, /c/<code>?s=…) tells what the scan page would
answer, in plain French; a code typed without its QR code reaches a small form, throttled
like every look-up, that tells only the value, the validity and the state."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.utils import formats, timezone

from cheques import codes, lifecycle, replacement
from cheques.models import Cheque
from services.models import Service

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(make_order, funder_a, manager_a, operator):
    """Restricted to two services in Gironde and Dordogne, to activate at hand-over."""
    order = make_order(funder_a, manager_a, approve_by=operator, booklets=2,
                       cheques_per_booklet=5, requires_activation=True,
                       territory=["33", "24"])
    order.allowed_services.set(Service.objects.filter(
        slug__in=["outils-atelier", "demarches-accompagnement"]))
    return order


def public_url(cheque):
    return f"/c/{cheque.code}?s={codes.sign(cheque.code)}"


def text_of(response):
    """The page's visible words, one space between them."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def scan_verdict(api, mediator, cheque):
    """What the scan page's look-up answers for this cheque: redeemable, or why not."""
    api.force_authenticate(mediator)
    body = api.get(f"/api/v1/cheques/{cheque.code}/").json()
    return "usable" if body["redeemable"] else body["refusal"]["code"]


def to_activate(order, **_):
    return order.cheques.order_by("number").first()


def usable(order, manager_a, **_):
    booklet = order.booklet_set.order_by("number").first()
    lifecycle.distribute_booklet(booklet.number, actor=manager_a)
    return booklet.cheques.order_by("number").first()


def used(order, manager_a, api, mediator_x, place, **_):
    cheque = usable(order, manager_a)
    api.force_authenticate(mediator_x)
    response = api.post("/api/v1/redemptions/", {"codes": [cheque.code], "place": place.pk,
                                                 "service": "demarches-accompagnement"},
                        format="json")
    assert response.status_code == 201, response.json()
    return cheque


def cancelled(order, manager_a, **_):
    cheque = usable(order, manager_a)
    lifecycle.cancel_cheque(cheque.code, actor=manager_a, reason="Perdu")
    return cheque


def replaced(order, manager_a, operator, **_):
    cheque = usable(order, manager_a)
    replacement.replace_booklet(cheque.booklet.number, actor=operator)
    return cheque


def expired(order, manager_a, clock, **_):
    cheque = usable(order, manager_a)
    clock.move_to(order.expiry_date + datetime.timedelta(days=1))
    return cheque


STATES = {
    "to_activate": (to_activate, "À faire activer", "not_activated"),
    "usable": (usable, "Utilisable", "usable"),
    "used": (used, "Utilisé le", "already_redeemed"),
    "expired": (expired, "Expiré", "expired"),
    "cancelled": (cancelled, "Annulé", "cancelled"),
    "replaced": (replaced, "Remplacé", "replaced"),
}


@pytest.mark.parametrize("state", list(STATES))
def test_the_public_page_tells_each_state_as_the_scan_page_judges_it(
    state, clock, client, api, order, manager_a, operator, mediator_x, place
):
    make, label, verdict = STATES[state]
    cheque = make(order=order, manager_a=manager_a, operator=operator, api=api,
                  mediator_x=mediator_x, place=place, clock=clock)
    cheque.refresh_from_db()
    response = client.get(public_url(cheque))
    assert response.status_code == 200
    text = text_of(response)
    assert f"{label}" in text
    # One judge: the page's state is the scan page's verdict.
    assert lifecycle.status(cheque).code == state
    assert scan_verdict(api, mediator_x, cheque) == verdict
    # Value, allowed services, territory, last day of acceptance, on every state.
    assert "10,00 €" in text or "10 €" in text
    assert "Atelier collectif (2 h)" in text
    assert "Accompagnement individuel aux démarches en ligne (1 h)" in text
    assert "Dordogne (24), Gironde (33)" in text
    last_day = order.expiry_date
    assert f"Dernier jour d’acceptation {last_day.day}" in text
    map_link = f'href="{order.map_path.replace("&", "&amp;")}"'
    if state in ("usable", "to_activate", "replaced"):
        assert map_link in response.content.decode()
        assert "Voir les lieux où utiliser ce chèque" in text
    else:
        assert "Voir les lieux où utiliser ce chèque" not in text
    if state == "used":
        # The day of use in Paris, where the cheque was redeemed (not in UTC).
        day = timezone.localtime(cheque.redemptions.get().redeemed_at)
        assert f"Utilisé le {formats.date_format(day, 'DATE_FORMAT')}" in text
        assert "Présentez-le" not in text  # the page no longer contradicts itself
    if state == "replaced":
        new = cheque.booklet.replacements.get()
        assert f"remplacé par le carnet {new.number}" in text
    if state == "to_activate":
        assert "Présentez-le" not in text
        assert "activé" in text


def test_the_map_button_opens_the_map_filtered_for_this_cheque(client, order, manager_a):
    cheque = usable(order, manager_a)
    assert order.map_path == ("/lieux/?service=demarches-accompagnement,outils-atelier"
                              "&department=24,33")
    page = client.get(order.map_path)
    text = text_of(page)
    assert "Carte limitée aux lieux où vos chèques sont acceptés" in text
    assert "Dordogne (24), Gironde (33)" in text
    assert client.get(public_url(cheque)).status_code == 200


# --- a code typed without its QR code ------------------------------------------------------


def test_a_code_without_its_signature_reaches_the_form_that_asks_for_it(client, order):
    cheque = order.cheques.first()
    response = client.get(f"/c/{cheque.code}")
    assert response.status_code == 200
    text = text_of(response)
    assert "Vérifier un chèque #APTIC" in text
    assert f'value="{cheque.display_code}"' in response.content.decode()
    # Nothing about the cheque before the form is sent: not even whether it exists.
    assert order.funder.name not in text and "10,00" not in text
    unknown = codes.normalise("ABCD-EFGH-JKMN") + codes.check_character("ABCDEFGHJKMN")
    other = client.get(f"/c/{unknown}")
    assert other.status_code == 200
    assert (text_of(other).replace(codes.format_code(unknown), "")
            == text.replace(cheque.display_code, ""))
    forged = client.get(f"/c/{cheque.code}?s=k1.forged")
    assert "n’est pas celui d’un QR code" in text_of(forged)


def test_the_typed_code_shows_only_value_validity_and_state(client, order, manager_a):
    cheque = usable(order, manager_a)
    response = client.post("/c/", {"code": cheque.display_code.lower().replace("-", " ")})
    assert response.status_code == 200
    text = text_of(response)
    assert f"Chèque {cheque.display_code}" in text
    assert "Utilisable" in text and "10,00 €" in text
    assert f"Dernier jour d’acceptation {order.expiry_date.day}" in text
    for secret in (order.funder.name, "Atelier collectif", "Gironde", cheque.booklet.number,
                   cheque.number, manager_a.username):
        assert secret not in text


def test_a_wrong_code_is_told_without_a_500_and_changes_nothing(client, order):
    cheque = order.cheques.first()
    typo = cheque.code[:-1] + ("0" if cheque.code[-1] != "0" else "1")
    assert client.post("/c/", {"code": typo}).status_code == 422
    unknown = "ABCDEFGHJKMN" + codes.check_character("ABCDEFGHJKMN")
    response = client.post("/c/", {"code": unknown})
    assert response.status_code == 404
    assert "Aucun chèque ne porte ce code." in text_of(response)
    for bad in ("", "x" * 41, "٣٣٣٣-٣٣٣٣-٣٣٣٣-٣"):
        assert client.post("/c/", {"code": bad}).status_code in (400, 422)
    assert set(Cheque.objects.values_list("state", flat=True)) == {Cheque.State.ISSUED}


def test_typed_codes_are_throttled_per_address_like_the_other_look_ups(client, order,
                                                                      settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "cheque_lookup": "3/min"}}
    cheque = order.cheques.first()
    for _attempt in range(3):
        assert client.post("/c/", {"code": cheque.code}).status_code == 200
    throttled = client.post("/c/", {"code": cheque.code})
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) >= 1
    assert "Trop de vérifications" in text_of(throttled)
    assert client.get("/c/").status_code == 200  # reading the form is not counted


def test_guessed_codes_block_the_form_for_a_while(client, order, settings):
    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 3
    cheque = order.cheques.first()
    for index in range(3):
        body = f"ABCDEFGHJK{index}M"
        assert client.post("/c/", {"code": body + codes.check_character(body)}
                           ).status_code == 404
    blocked = client.post("/c/", {"code": cheque.code})
    assert blocked.status_code == 429
    assert "Trop de codes erronés" in text_of(blocked)
    assert "10,00" not in text_of(blocked)
    cache.clear()
    assert client.post("/c/", {"code": cheque.code}).status_code == 200
