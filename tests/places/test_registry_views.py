"""A structure joining the scheme online; its bank details, SIRET and places; the operator's
queue. Through the Django test client."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from aptic.models import AuditEvent, Membership, Organisation, Role, User
from places.models import Place, Qualification, StructureProfile, StructureSignup
from places.signup import StructureForm
from places.web.forms import BankDetailsForm, PlaceForm
from services.models import Service
from tests.factories import OrganisationFactory, member
from tests.helpers import confirmation_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def structure(nomenclature):
    return OrganisationFactory(kind=Organisation.Kind.STRUCTURE, siret="44312345000019")


def place_data(**fields):
    data = {"name": "Médiathèque Mériadeck", "address": "85 cours du Maréchal Juin",
            "postcode": "33000", "town": "Bordeaux", "insee_code": "33063",
            "latitude": "44.8386", "longitude": "-0.5879",
            "opening_hours": "Tu-Sa 10:00-18:00", "phone": "05 56 10 30 00",
            "services": [Service.objects.get(slug="demarches-atelier").pk],
            "emails": "bib@mairie-bordeaux.example", "fees": ["Gratuit"]}
    data.update(fields)
    return data


# --- Bank details ---------------------------------------------------------------------------

def test_valid_bank_details_are_compacted():
    form = BankDetailsForm({"iban": "fr76 3000 6000 0112 3456 7890 189", "bic": "agri fr pp",
                            "account_holder": "  Association   Clic & Lien "})

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"iban": "FR7630006000011234567890189", "bic": "AGRIFRPP",
                                 "account_holder": "Association Clic & Lien"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("iban", "FR7630006000011234567890180", "clé de contrôle"),
    ("iban", "FR76300060000112345678901", "longueur"),
    ("iban", "ZZ7630006000011234567890189", "code pays"),
    ("bic", "AGRIFRP", "BIC invalide"),
    ("account_holder", " ", "obligatoire"),
])
def test_invalid_bank_details_are_refused_with_a_clear_message(field, value, message):
    data = {"iban": "FR7630006000011234567890189", "bic": "AGRIFRPP",
            "account_holder": "Association"}
    data[field] = value

    form = BankDetailsForm(data)

    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_a_bic_from_another_country_than_the_iban_is_refused():
    form = BankDetailsForm({"iban": "FR7630006000011234567890189", "bic": "DEUTDEFF",
                            "account_holder": "Association"})

    assert not form.is_valid()
    assert "ne correspond pas au pays" in form.errors["bic"][0]


def test_bank_details_page_saves_them_and_audits_without_the_iban(client, structure, manager):
    client.force_login(manager)

    response = client.post("/structure/banque/", {
        "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPP",
        "account_holder": "Association Test"})

    assert response.status_code == 302
    profile = StructureProfile.objects.get(organisation=structure)
    assert profile.has_bank_details and profile.iban == "FR7630006000011234567890189"
    event = AuditEvent.objects.get(action="structure.bank_details_changed")
    assert "FR76" not in str(event.details)


# --- SIRET and signing up -------------------------------------------------------------------

@pytest.mark.parametrize(("siret", "message"), [
    ("44312345000018", "SIRET invalide"),
    ("4431234500001", "SIRET invalide"),
    ("", "obligatoire"),
])
def test_a_structure_needs_a_valid_siret(nomenclature, siret, message):
    form = StructureForm({"name": "Asso", "siret": siret, "email": "a@example.org"})

    assert not form.is_valid()
    assert message in " ".join(form.errors["siret"])


def test_a_siret_already_registered_is_refused(structure):
    form = StructureForm({"name": "Copie", "siret": "443 123 450 00019",
                          "email": "a@example.org"})

    assert not form.is_valid()
    assert "existe déjà" in str(form.errors)


SIGNUP = {"account-first_name": "Alice", "account-last_name": "Martin",
          "account-email": "alice@asso.example", "account-password": "un-mot-de-passe-solide",
          "structure-name": "Association Connectée", "structure-siret": "443 123 450 00019",
          "structure-email": "contact@asso.example"}


def test_a_structure_signs_up_online_confirms_its_address_and_becomes_its_place_manager(
        client, nomenclature):
    response = client.post("/structure/inscription/", SIGNUP)

    # Nothing exists until the address is confirmed.
    assert response.status_code == 200
    assert "Vérifiez votre messagerie" in response.content.decode()
    assert not Organisation.objects.exists() and not User.objects.exists()
    assert mail.outbox[0].to == ["alice@asso.example"]
    link = confirmation_path(mail.outbox[0])
    assert client.get(link).status_code == 200
    assert not User.objects.exists()  # a GET (a mail scanner) creates nothing

    confirmed = client.post(link)

    structure = Organisation.objects.get(siret="44312345000019")
    assert confirmed.status_code == 302
    assert structure.kind == Organisation.Kind.STRUCTURE
    membership = Membership.objects.get(organisation=structure)
    assert (membership.user.email, membership.role) == ("alice@asso.example",
                                                        Role.PLACE_MANAGER)
    assert membership.user.check_password("un-mot-de-passe-solide")
    assert client.get("/structure/lieux/").status_code == 200
    assert AuditEvent.objects.filter(action="structure.registered").count() == 1
    # The link works once.
    assert client.post(link).status_code == 404
    assert Organisation.objects.filter(siret="44312345000019").count() == 1


def page_text(response, email):
    """A page's text, the address typed and the CSRF token left out."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "",
                  response.content.decode().replace(email, "<adresse>"))


def test_signing_up_with_an_existing_address_reveals_nothing_and_mails_its_owner(
        client, nomenclature):
    owner = member(Role.FUNDER_MANAGER, email="alice@asso.example")
    new = Client().post("/structure/inscription/", {**SIGNUP, "account-email": "bob@asso.example"})
    mail.outbox.clear()

    response = client.post("/structure/inscription/", {**SIGNUP, "account-email":
                                                       "Alice@Asso.example"})

    # The same answer as for the new address, but for the address itself.
    assert response.status_code == new.status_code == 200
    assert ([t.name for t in response.templates][0] == [t.name for t in new.templates][0]
            == "places/registry/signup_sent.html")
    assert page_text(response, "alice@asso.example") == page_text(new, "bob@asso.example")
    assert "existe déjà" not in response.content.decode()
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([owner.email], "Tentative d’inscription avec votre adresse")]
    assert "/connexion/" in mail.outbox[0].body
    assert "Association Connectée" not in mail.outbox[0].body
    assert not Organisation.objects.filter(kind=Organisation.Kind.STRUCTURE).exists()
    assert not StructureSignup.objects.filter(email="alice@asso.example").exists()


def test_signup_is_throttled_per_address_for_visitors_and_per_account_once_signed_in(
        client, nomenclature, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "signup": "2/hour"}}

    statuses = [client.post("/structure/inscription/",
                            {**SIGNUP, "account-email": f"a{n}@asso.example"}).status_code
                for n in range(3)]

    assert statuses == [200, 200, 429]
    refused = client.post("/structure/inscription/", SIGNUP)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Trop d’inscriptions en peu de temps" in refused.content.decode()
    assert StructureSignup.objects.count() == 2
    # A signed-in person behind the same address counts on their own account.
    signed_in = Client()
    signed_in.force_login(member(Role.FUNDER_MANAGER))
    assert signed_in.post("/structure/inscription/", {
        "structure-name": "Autre association", "structure-siret": "443 123 450 00019",
        "structure-email": "autre@asso.example"}).status_code == 302


def test_a_bad_siret_at_signup_creates_nothing(client, nomenclature):
    response = client.post("/structure/inscription/", {
        "account-first_name": "Alice", "account-last_name": "Martin",
        "account-email": "alice@asso.example", "account-password": "un-mot-de-passe-solide",
        "structure-name": "Association", "structure-siret": "12345678901234",
        "structure-email": "contact@asso.example"})

    assert response.status_code == 200
    assert "SIRET invalide" in response.content.decode()
    assert not Organisation.objects.exists()
    assert not Membership.objects.exists()


# --- Places ---------------------------------------------------------------------------------

def test_invalid_opening_hours_give_a_field_error_naming_the_syntax(nomenclature):
    form = PlaceForm(place_data(opening_hours="du lundi au vendredi 9h-17h"),
                     instance=Place())

    assert not form.is_valid()
    assert "opening_hours" in form.errors["opening_hours"][0]
    assert "OpenStreetMap" in form.errors["opening_hours"][0]


def test_coordinates_outside_france_are_refused_in_the_place_form(nomenclature):
    form = PlaceForm(place_data(latitude="40.4168", longitude="-3.7038"), instance=Place())

    assert not form.is_valid()
    assert "hors de France" in form.errors["latitude"][0]


def test_a_place_manager_adds_a_place_to_the_structure(client, structure, manager):
    client.force_login(manager)

    response = client.post("/structure/lieux/nouveau/", place_data())

    assert response.status_code == 302
    place = Place.objects.get()
    assert place.structure == structure
    assert place.qualification == Qualification.DRAFT
    assert place.phone == "+33556103000"
    assert place.emails == ["bib@mairie-bordeaux.example"]
    assert list(place.services.values_list("slug", flat=True)) == ["demarches-atelier"]
    assert AuditEvent.objects.for_object(place).get().action == "place.created"


def test_a_structure_cannot_edit_another_structures_place(client, structure, manager):
    other = OrganisationFactory(kind=Organisation.Kind.STRUCTURE)
    place = Place.objects.create(structure=other, name="Autre", address="1 rue",
                                 postcode="33000", town="Bordeaux")
    client.force_login(manager)

    get = client.get(f"/structure/lieux/{place.pk}/modifier/")
    post = client.post(f"/structure/lieux/{place.pk}/modifier/", place_data(name="Volé"))
    submit = client.post(f"/structure/lieux/{place.pk}/soumettre/")
    listed = client.get(f"/structure/lieux/?structure={other.pk}")

    # A draft of another structure is out of sight (404); that structure is not theirs to
    # act for (403).
    assert (get.status_code, post.status_code, submit.status_code,
            listed.status_code) == (404, 404, 404, 403)
    place.refresh_from_db()
    assert place.name == "Autre" and place.qualification == Qualification.DRAFT
    # Another structure's public place is in sight: editing it is refused (403).
    public = Place.objects.create(structure=other, name="Public", address="1 rue",
                                  postcode="33000", town="Bordeaux",
                                  qualification=Qualification.QUALIFIED)
    assert client.get(f"/structure/lieux/{public.pk}/modifier/").status_code == 403
    assert client.post(f"/structure/lieux/{public.pk}/modifier/",
                       place_data(name="Volé")).status_code == 403
    public.refresh_from_db()
    assert public.name == "Public"


def test_a_mediator_cannot_manage_the_places_of_the_structure(client, structure):
    client.force_login(member(Role.MEDIATOR, structure))

    response = client.post("/structure/lieux/nouveau/", place_data())

    assert response.status_code == 302 and response["Location"] == "/structure/inscription/"
    assert not Place.objects.exists()


def test_the_whole_file_online_then_the_operator_qualifies(client, structure, manager):
    client.force_login(manager)
    client.post("/structure/lieux/nouveau/", place_data())
    place = Place.objects.get()
    client.post("/structure/eligibilite/", {
        "activity": "association", "mediators": 2, "yearly_people": 300,
        "public_reception": "yes", "trained_mediators": "yes", "no_extra_charge": "yes",
        "equipment": "no"})
    client.post("/structure/charte/", {"accept": "on"})
    client.post("/structure/banque/", {"iban": "FR7630006000011234567890189",
                                       "bic": "AGRIFRPP", "account_holder": "Asso"})

    client.post(f"/structure/lieux/{place.pk}/soumettre/")
    place.refresh_from_db()
    assert place.qualification == Qualification.SUBMITTED

    operator = member(Role.OPERATOR_STAFF)
    client.force_login(operator)
    queue = client.get("/operateur/qualification/")
    assert place.name in queue.content.decode()
    client.post(f"/operateur/qualification/{place.pk}/", {"decision": "qualify"})
    place.refresh_from_db()
    assert place.qualification == Qualification.QUALIFIED


def test_the_eligibility_questionnaire_refuses_extra_charges(client, structure, manager):
    client.force_login(manager)

    response = client.post("/structure/eligibilite/", {
        "activity": "association", "mediators": 2, "yearly_people": 300,
        "public_reception": "yes", "trained_mediators": "yes", "no_extra_charge": "no",
        "equipment": "yes"})

    assert response.status_code == 200
    assert "ne peut rien coûter de plus" in response.content.decode()
    assert not StructureProfile.objects.filter(organisation=structure).exclude(
        eligibility={}).exists()


def test_the_operator_queue_is_closed_to_structures(client, structure, manager):
    place = Place.objects.create(structure=structure, name="Lieu", address="1 rue",
                                 postcode="33000", town="Bordeaux",
                                 qualification=Qualification.SUBMITTED)
    client.force_login(manager)

    assert client.get("/operateur/qualification/").status_code == 403
    response = client.post(f"/operateur/qualification/{place.pk}/", {"decision": "qualify"})

    assert response.status_code == 403
    place.refresh_from_db()
    assert place.qualification == Qualification.SUBMITTED


def test_rejecting_without_a_reason_shows_an_error_and_changes_nothing(client, structure):
    place = Place.objects.create(structure=structure, name="Lieu", address="1 rue",
                                 postcode="33000", town="Bordeaux",
                                 qualification=Qualification.SUBMITTED)
    client.force_login(member(Role.OPERATOR_STAFF))

    response = client.post(f"/operateur/qualification/{place.pk}/",
                           {"decision": "reject", "reason": ""})

    assert response.status_code == 200
    assert "Indiquez le motif" in response.content.decode()
    place.refresh_from_db()
    assert place.qualification == Qualification.SUBMITTED


def test_the_home_page_lists_the_registry_actions_by_role(client, structure, manager):
    client.force_login(manager)
    assert "/structure/lieux/" in client.get("/").content.decode()
    client.force_login(member(Role.OPERATOR_STAFF))
    assert "/operateur/qualification/" in client.get("/").content.decode()


def test_the_demo_gives_the_structure_a_qualified_place_in_bordeaux(demo, settings):
    from io import StringIO

    from places.demo import load

    load(demo, StringIO())
    load(demo, StringIO())

    place = Place.objects.get(structure=demo["structure"])
    assert (place.postcode, place.qualification) == ("33000", Qualification.QUALIFIED)
    assert place.services.count() == Service.objects.active().count()
    assert place.is_open_at(timezone.make_aware(timezone.datetime(2025, 3, 4, 10, 0)))
    profile = demo["structure"].structure_profile
    assert profile.has_bank_details and profile.charter_accepted_at
    assert BankDetailsForm({"iban": profile.iban, "bic": profile.bic,
                            "account_holder": profile.account_holder}).is_valid()
    assert Place.objects.qualified().count() == 688


def test_every_registry_page_renders_for_its_audience(client, structure, manager):
    place = Place.objects.create(structure=structure, name="Lieu", address="1 rue",
                                 postcode="33000", town="Bordeaux",
                                 qualification=Qualification.SUBMITTED)
    Place.objects.create(name="Lieu importé", address="2 rue", postcode="33000",
                         town="Bordeaux")
    client.force_login(manager)
    for url in ["/structure/lieux/", "/structure/lieux/nouveau/",
                f"/structure/lieux/{place.pk}/modifier/", "/structure/eligibilite/",
                "/structure/banque/", "/structure/charte/",
                "/structure/lieux/revendiquer/?postcode=33000"]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Lieu importé" in response.content.decode()
    client.force_login(member(Role.OPERATOR_STAFF))
    for url in ["/operateur/qualification/", f"/operateur/qualification/{place.pk}/"]:
        assert client.get(url).status_code == 200, url
    client.logout()
    assert client.get("/structure/inscription/").status_code == 200
    assert client.get("/structure/lieux/").status_code == 302


def test_a_new_place_form_shows_empty_email_and_website_boxes(client, structure, manager):
    client.force_login(manager)
    page = client.get("/structure/lieux/nouveau/").content.decode()
    assert 'name="emails" value="[]"' not in page and 'name="websites" value="[]"' not in page
    assert PlaceForm(instance=Place())["emails"].value() == ""
