"""Claims on listed places: a request, never a takeover. The place stays qualified and on the
map until the operator — and the structure that holds it, if one does — accept."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client

from aptic.errors import DomainError
from aptic.models import AuditEvent, Organisation, Role
from places import claims
from places.models import Place, PlaceClaim, Qualification, Request
from tests.factories import OrganisationFactory, make_place, member
from tests.helpers import confirmation_path, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(nomenclature):
    """Ten imported places, qualified by the operator's import, that no structure holds."""
    return [make_place(None, name=f"Lieu importé {n}", source="import", source_id=str(n))
            for n in range(10)]


@pytest.fixture
def claimant():
    return OrganisationFactory(kind=Organisation.Kind.STRUCTURE, name="Nouvelle structure",
                               siret="44312345000019")


@pytest.fixture
def claimant_manager(claimant):
    return member(Role.PLACE_MANAGER, claimant)


@pytest.fixture
def holder():
    return OrganisationFactory(kind=Organisation.Kind.STRUCTURE, name="Structure actuelle",
                               email="contact@actuelle.example")


@pytest.fixture
def holder_manager(holder):
    return member(Role.PLACE_MANAGER, holder)


def on_the_map(places):
    """The places the public API and map still show, by id."""
    client = Client()
    ids = {place.pk for place in places
           if client.get(f"/api/v1/places/{place.pk}/").status_code == 200}
    found = client.get("/api/v1/places/", {"lat": "44.8412", "lon": "-0.57",
                                           "limit": "50"}).json()["results"]
    assert ids == {hit["id"] for hit in found} & {place.pk for place in places}
    return ids


def claim_post(client, structure, place, reason=""):
    return client.post("/structure/lieux/revendiquer/",
                       {"structure": structure.pk, "place": place.pk, "reason": reason})


def test_a_signup_then_claim_posts_no_longer_take_places_off_the_map(imported):
    attacker = Client()
    attacker.post("/structure/inscription/", {
        "account-first_name": "Eve", "account-last_name": "Attaque",
        "account-email": "eve@attaque.example", "account-password": "un-mot-de-passe-solide",
        "structure-name": "Structure fantôme", "structure-siret": "443 123 450 00019",
        "structure-email": "eve@attaque.example"})
    attacker.post(confirmation_path(mail.outbox[-1]))
    structure = Organisation.objects.get(siret="44312345000019")

    for place in imported:
        assert claim_post(attacker, structure, place).status_code == 302

    assert on_the_map(imported) == {place.pk for place in imported}
    assert set(Place.objects.filter(pk__in=[p.pk for p in imported])
               .values_list("qualification", "structure")) == {(Qualification.QUALIFIED, None)}
    assert PlaceClaim.objects.filter(structure=structure, state=Request.PENDING).count() == 10


def test_a_claim_leaves_the_place_on_the_map_until_the_operator_decides(
        imported, claimant, claimant_manager):
    place = imported[0]

    response = claim_post(signed_in(claimant_manager), claimant, place,
                          reason="Nous animons ce lieu depuis 2019.")

    assert response.status_code == 302
    place.refresh_from_db()
    assert (place.structure, place.qualification) == (None, Qualification.QUALIFIED)
    assert on_the_map([place]) == {place.pk}
    claim = PlaceClaim.objects.get()
    assert (claim.structure, claim.holder, claim.requested_by, claim.reason, claim.state) == (
        claimant, None, claimant_manager, "Nous animons ce lieu depuis 2019.", Request.PENDING)
    event = AuditEvent.objects.for_object(claim).get()
    assert (event.action, event.actor, event.to_state) == ("claim.requested", claimant_manager,
                                                           "pending")
    own_page = signed_in(claimant_manager).get("/structure/lieux/").content.decode()
    assert "Vos demandes de rattachement" in own_page and place.name in own_page


def test_the_operator_alone_approves_a_claim_on_a_place_without_structure(
        imported, claimant, claimant_manager, operator, django_capture_on_commit_callbacks):
    place = imported[0]
    claim = claims.request(place, by=claimant_manager, structure=claimant)
    operator_client = signed_in(operator)
    queue = operator_client.get("/operateur/qualification/").content.decode()
    assert f"/operateur/revendications/{claim.pk}/" in queue

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(f"/operateur/revendications/{claim.pk}/",
                                        {"decision": "approve"})

    assert response.status_code == 302
    place.refresh_from_db()
    assert (place.structure, place.qualification) == (claimant, Qualification.QUALIFIED)
    claim.refresh_from_db()
    assert (claim.state, claim.decided_by, claim.operator_approved_by) == (
        Request.APPROVED, operator, operator)
    moved = AuditEvent.objects.for_object(place).get()
    assert (moved.action, moved.actor, moved.details) == (
        "place.structure_changed", operator,
        {"from_structure": None, "to_structure": claimant.pk, "claim": claim.pk})
    assert [m.subject for m in mail.outbox] == [f"Rattachement accepté : {place.name}"]
    assert claimant_manager.email in mail.outbox[0].to


@pytest.mark.parametrize("first", [claims.OPERATOR, claims.HOLDER])
def test_a_claim_on_a_place_that_has_a_structure_needs_both_approvals(
        nomenclature, claimant, claimant_manager, holder, holder_manager, operator, first):
    place = make_place(holder, name="Médiathèque du quartier")
    claim = claims.request(place, by=claimant_manager, structure=claimant)
    clients = {claims.OPERATOR: signed_in(operator), claims.HOLDER: signed_in(holder_manager)}
    urls = {claims.OPERATOR: f"/operateur/revendications/{claim.pk}/",
            claims.HOLDER: f"/structure/revendications/{claim.pk}/decision/"}
    assert "Médiathèque du quartier" in clients[claims.HOLDER].get(
        "/structure/lieux/").content.decode()
    second = claims.HOLDER if first == claims.OPERATOR else claims.OPERATOR

    clients[first].post(urls[first], {"decision": "approve"})

    place.refresh_from_db()
    assert (place.structure, place.qualification) == (holder, Qualification.QUALIFIED)
    assert on_the_map([place]) == {place.pk}

    clients[second].post(urls[second], {"decision": "approve"})

    place.refresh_from_db()
    assert (place.structure, place.qualification) == (claimant, Qualification.QUALIFIED)
    claim.refresh_from_db()
    assert claim.state == Request.APPROVED
    assert (claim.operator_approved_by, claim.holder_approved_by) == (operator, holder_manager)
    assert list(AuditEvent.objects.for_object(claim).order_by("id")
                .values_list("action", flat=True)) == [
        "claim.requested", f"claim.approved_by_{first}", f"claim.approved_by_{second}",
        "claim.approved"]


def test_the_holder_is_told_of_a_claim_and_a_refusal_changes_nothing(
        nomenclature, claimant, claimant_manager, holder, holder_manager, operator,
        django_capture_on_commit_callbacks):
    place = make_place(holder, name="Médiathèque du quartier")
    with django_capture_on_commit_callbacks(execute=True):
        claim = claims.request(place, by=claimant_manager, structure=claimant)
    assert mail.outbox[0].subject == ("Demande de rattachement de votre lieu : "
                                      "Médiathèque du quartier")
    assert holder_manager.email in mail.outbox[0].to
    claims.approve(claim, by=operator, party=claims.OPERATOR)
    holder_client = signed_in(holder_manager)

    no_reason = holder_client.post(f"/structure/revendications/{claim.pk}/decision/",
                                   {"decision": "refuse"})
    with django_capture_on_commit_callbacks(execute=True):
        holder_client.post(f"/structure/revendications/{claim.pk}/decision/",
                           {"decision": "refuse", "reason": "Nous animons ce lieu."})

    assert no_reason.status_code == 302
    place.refresh_from_db()
    assert (place.structure, place.qualification) == (holder, Qualification.QUALIFIED)
    claim.refresh_from_db()
    assert (claim.state, claim.decided_by, claim.decision_reason) == (
        Request.REFUSED, holder_manager, "Nous animons ce lieu.")
    assert "Nous animons ce lieu." in mail.outbox[-1].body
    assert claimant_manager.email in mail.outbox[-1].to
    with pytest.raises(DomainError, match="déjà été traitée") as error:
        claims.approve(claim, by=operator, party=claims.OPERATOR)
    assert (error.value.code, error.value.status) == ("already_decided", 409)


def test_approving_a_claim_refuses_the_other_claims_on_that_place(
        imported, claimant, claimant_manager, operator):
    rival = OrganisationFactory(kind=Organisation.Kind.STRUCTURE)
    place = imported[0]
    mine = claims.request(place, by=claimant_manager, structure=claimant)
    theirs = claims.request(place, by=member(Role.PLACE_MANAGER, rival), structure=rival)

    claims.approve(mine, by=operator, party=claims.OPERATOR)

    theirs.refresh_from_db()
    assert theirs.state == Request.REFUSED
    assert "autre structure" in theirs.decision_reason
    assert not claims.pending_for_operator().exists()


def test_only_the_holder_decides_as_holder_and_only_the_operator_as_operator(
        nomenclature, claimant, claimant_manager, holder, holder_manager, operator):
    place = make_place(holder, name="Médiathèque du quartier")
    claim = claims.request(place, by=claimant_manager, structure=claimant)
    stranger = member(Role.PLACE_MANAGER)

    assert signed_in(claimant_manager).post(
        f"/structure/revendications/{claim.pk}/decision/",
        {"decision": "approve"}).status_code == 403
    assert signed_in(operator).post(f"/structure/revendications/{claim.pk}/decision/",
                                    {"decision": "approve"}).status_code == 403
    assert signed_in(stranger).post(f"/structure/revendications/{claim.pk}/decision/",
                                    {"decision": "approve"}).status_code == 404
    assert signed_in(holder_manager).post(f"/operateur/revendications/{claim.pk}/",
                                          {"decision": "approve"}).status_code == 403
    assert signed_in(stranger).get(f"/operateur/revendications/{claim.pk}/").status_code == 404
    claim.refresh_from_db()
    assert (claim.operator_approved_at, claim.holder_approved_at) == (None, None)


def test_another_structures_unpublished_place_cannot_be_found_or_claimed(
        nomenclature, claimant, claimant_manager, holder):
    draft = make_place(holder, name="Brouillon d’une autre structure", qualified=False)
    client = signed_in(claimant_manager)

    search = client.get("/structure/lieux/revendiquer/", {"postcode": "33000"})
    response = claim_post(client, claimant, draft)

    assert "Brouillon d’une autre structure" not in search.content.decode()
    assert response.status_code == 404
    assert not PlaceClaim.objects.exists()


def test_a_mediator_cannot_claim_a_place_for_the_structure(imported, claimant):
    with pytest.raises(PermissionDenied):
        claims.request(imported[0], by=member(Role.MEDIATOR, claimant), structure=claimant)
    assert not PlaceClaim.objects.exists()


def test_claims_are_throttled_per_account_with_a_french_message(
        imported, claimant, claimant_manager, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "claim": "3/hour"}}
    client = signed_in(claimant_manager)

    statuses = [claim_post(client, claimant, place).status_code for place in imported[:4]]

    assert statuses == [302, 302, 302, 429]
    refused = claim_post(client, claimant, imported[4])
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Trop de demandes de rattachement" in refused.content.decode()
    assert PlaceClaim.objects.count() == 3
    # Someone else behind the same address is not held back: claims count per account.
    colleague = member(Role.PLACE_MANAGER, claimant)
    assert claim_post(signed_in(colleague), claimant, imported[5]).status_code == 302
