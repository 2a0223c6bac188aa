"""The permission matrix: every URL pattern of the project (web pages and API), for every
role, answers as the single table below says.

The patterns come from the resolver, so a new URL cannot escape: a pattern without a row in
`MATRIX` fails the test with its route and name. Each request runs in a savepoint that is
rolled back, so every (pattern, role) pair sees the same world, even after a POST that would
approve, cancel or pay something.

How to read a row: `row(method, kwargs=…, query=…, data=…, others=X, <group or role>=Y…)`.
`others` is the outcome of every role not named; a group (`signed_in`, `funders`, `places`)
overrides it, a role overrides its group. An outcome is an HTTP status, or `"→/path"`: a 302
to that path (query string ignored). `LOGIN` is the redirect to the login page. Strings in
kwargs, query, data and redirect targets are formatted with the world's ids (`"{order_a}"`).

A status says nothing about what a list shows, so lists and pages that every role may open
name a `secret`: a text of funder A's or structure X's that the `shown_to` roles find in a 200
answer and no other role does.
"""

import copy
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from aptic import tokens
from aptic.models import Organisation, Role
from cheques import codes, printing, reimbursement
from cheques.models import Cheque, PrintJob
from places import claims, publication, signup
from places.models import ChangeRequest, StructureSignup
from tests.cheques.reimbursement_support import SERVICE, bank, redeem
from tests.factories import OrganisationFactory, make_order, make_place, member
from tests.helpers import CONFIRMED

ROLES = ("anon", "funderA", "funderB", "prescriberA", "managerX", "mediatorX", "mediatorY",
         "operator")
GROUPS = {
    "signed_in": ROLES[1:],
    "funders": ("funderA", "funderB"),
    "places": ("managerX", "mediatorX", "mediatorY"),
}
LOGIN = "→/connexion/"
ADMIN_LOGIN = f"→/{settings.ADMIN_URL}login/"
# Django's admin brings about ninety patterns (seven per registered model, plus its own):
# they share one row, keyed by this label, exercised through the admin index.
ADMIN = "<admin: every pattern under ADMIN_URL>"


@dataclass(frozen=True)
class Row:
    method: str
    expected: dict
    kwargs: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    secret: str = ""
    shown_to: tuple = ()


def row(method="GET", *, others, kwargs=None, query=None, data=None, secret="", shown_to=(),
        **outcomes):
    unknown = set(outcomes) - set(ROLES) - set(GROUPS)
    assert not unknown, f"unknown roles or groups: {unknown}"
    expected = dict.fromkeys(ROLES, others)
    for group, members in GROUPS.items():
        if group in outcomes:
            expected.update(dict.fromkeys(members, outcomes[group]))
    expected.update({role: outcome for role, outcome in outcomes.items() if role in ROLES})
    assert set(shown_to) <= set(ROLES)
    return Row(method, expected, kwargs or {}, query or {}, data or {}, secret, shown_to)


def public():
    return row(others=200)


ORDER_A = {"pk": "{order_a}"}
SUBMITTED_A = {"pk": "{submitted_a}"}
STATEMENT_X = {"pk": "{statement_x}"}
BATCH = {"pk": "{batch}"}
# Secrets: funder A's name, links to its order, place X's name, X's statement reference.
FUNDER_A = ("funderA", "operator")
ORDER_A_LINK = '"/commandes/{order_a}/"'
DASHBOARD_A_LINK = '"/financeur/tableau-de-bord/commande/{order_a}/"'
# The funnel names funder A's order: a text no other funder may see.
DASHBOARD_A_FUNNEL = "Commande n° {order_a}<"
PLACE_X = "Lieu Xylophone"
AT_X = ("managerX", "mediatorX")
STATEMENT_X_READERS = ("managerX", "operator")

MATRIX = {
    # --- aptic: home, login, account, language, admin, API schema -------------------------
    "": public(),
    "connexion/": row(others="→/", anon=200),
    "deconnexion/": row("POST", others="→/"),
    # A forgotten password: the same pages for everyone (an unknown link says so).
    "mot-de-passe/oublie/": public(),
    "mot-de-passe/oublie/envoye/": public(),
    "mot-de-passe/nouveau/<uidb64>/<token>/": row(kwargs={"uidb64": "MQ", "token": "x-y"},
                                                  others=200),
    "mot-de-passe/nouveau/termine/": public(),
    "compte/": row(others=200, anon=LOGIN),
    "compte/jetons/<int:pk>/revoquer/": row(
        "POST", kwargs={"pk": "{token_a}"}, others=404, anon=LOGIN,
        funderA="→/compte/", operator="→/compte/"),
    "i18n/setlang/": row("POST", data={"language": "fr", "next": "/"}, others="→/"),
    ADMIN: row(others=ADMIN_LOGIN, operator=200),
    "api/schema/": public(),
    "api/docs/": public(),

    # --- services, places: public search, the caller, the open-data export ---------------
    "api/v1/services/": public(),
    "api/v1/me/": row(others=200, anon=401),
    # Public: the credentials are in the body (none here, hence a 400 for everyone).
    "api/v1/auth/token/": row("POST", others=400),
    "api/v1/places/": row(query={"lat": "44.84", "lon": "-0.57"}, others=200),
    "api/v1/places/geojson/": row(query={"bbox": "-1,44,0,45"}, others=200),
    "api/v1/places/<int:pk>/": row(kwargs={"pk": "{place_x}"}, others=200),
    "api/v1/communes/": row(query={"q": "bord"}, others=200),
    "api/v1/places/export.csv": public(),
    "lieux/": public(),
    "lieux/<int:pk>/": row(kwargs={"pk": "{place_x}"}, others=200),
    "donnees/": public(),
    "donnees/lieux/<int:pk>.json": row(kwargs={"pk": "{place_x}"}, others=200),
    "donnees/<str:name>": row(kwargs={"name": "lieux.csv"}, others=200),

    # --- places: the registry (structures) and the operator's qualification ---------------
    "structure/inscription/": public(),
    # The link of a signup's confirmation e-mail: whoever holds it sees the button.
    "structure/inscription/confirmer/<str:token>/": row(kwargs={"token": "{signup_token}"},
                                                        others=200),
    "structure/lieux/": row(others="→/structure/inscription/", anon=LOGIN, managerX=200),
    "structure/lieux/nouveau/": row(others="→/structure/inscription/", anon=LOGIN,
                                    managerX=200),
    "structure/lieux/revendiquer/": row(others="→/structure/inscription/", anon=LOGIN,
                                        managerX=200),
    "structure/eligibilite/": row(others="→/structure/inscription/", anon=LOGIN,
                                  managerX=200),
    "structure/banque/": row(others="→/structure/inscription/", anon=LOGIN, managerX=200),
    "structure/charte/": row(others="→/structure/inscription/", anon=LOGIN, managerX=200),
    "structure/lieux/<int:pk>/modifier/": row(
        kwargs={"pk": "{place_x}"}, others=403, anon=LOGIN, managerX=200, operator=200),
    # Place X is already qualified: its managers are sent back with a message.
    "structure/lieux/<int:pk>/soumettre/": row(
        "POST", kwargs={"pk": "{place_x}"}, others=403, anon=LOGIN,
        managerX="→/structure/lieux/", operator="→/structure/lieux/"),
    "operateur/qualification/": row(others=403, anon=LOGIN, operator=200),
    "operateur/qualification/<int:pk>/": row(kwargs={"pk": "{place_x}"}, others=403,
                                             anon=LOGIN, operator=200),
    # Structure Y claims place X: X's manager sees the claim and decides as its holder; the
    # operator sees it and decides on its own page, not on the holder's.
    "structure/revendications/<int:pk>/decision/": row(
        "POST", kwargs={"pk": "{claim_x}"}, data={"decision": "approve"}, others=404,
        anon=LOGIN, managerX="→/structure/lieux/", operator=403),
    "operateur/revendications/<int:pk>/": row(kwargs={"pk": "{claim_x}"}, others=404,
                                              anon=LOGIN, managerX=403, operator=200),
    # X's manager asked to rename place X: they see the request, only the operator decides.
    "operateur/modifications/<int:pk>/": row(kwargs={"pk": "{change_x}"}, others=404,
                                             anon=LOGIN, managerX=403, operator=200),

    # --- cheques: orders (web) ------------------------------------------------------------
    "commandes/": row(others=403, anon=LOGIN, funders=200, operator=200,
                      secret=ORDER_A_LINK, shown_to=FUNDER_A),
    "commandes/nouvelle/": row(others=403, anon=LOGIN, funders=200),
    "commandes/nouvelle/recapitulatif/": row(others=403, anon=LOGIN,
                                             funders="→/commandes/nouvelle/"),
    "commandes/<int:pk>/": row(kwargs=ORDER_A, others=403, anon=LOGIN, funderA=200,
                               funderB=404, operator=200),
    "commandes/<int:pk>/progression.json": row(kwargs=ORDER_A, others=403, anon=LOGIN,
                                               funderA=200, funderB=404, operator=200),
    # Order A is approved: it has its invoice (a submitted order's facture.pdf is a 404).
    "commandes/<int:pk>/devis.pdf": row(kwargs=ORDER_A, others=403, anon=LOGIN, funderA=200,
                                        funderB=404, operator=200),
    "commandes/<int:pk>/facture.pdf": row(kwargs=ORDER_A, others=403, anon=LOGIN,
                                          funderA=200, funderB=404, operator=200),
    "commandes/<int:pk>/annuler/": row(
        "POST", kwargs=SUBMITTED_A, data=CONFIRMED, others=403, anon=LOGIN,
        funderA="→/commandes/{submitted_a}/", funderB=404),
    # The live price of the order form (cheques.pricing, formatted by the server).
    "commandes/nouvelle/prix.json": row(
        query={"booklets": "2", "cheques_per_booklet": "5", "face_value": "10"}, others=403,
        anon=LOGIN, funders=200),
    # cheques.access: a role without order pages gets 403 whatever the order; a funder
    # manager gets 404 for another funder's order, 403 for an action on their own.
    "commandes/<int:pk>/prolonger/": row(
        "POST", kwargs=ORDER_A, data={"valid_until": "{next_year}-06-30"}, others=403,
        anon=LOGIN, funderB=404, operator="→/commandes/{order_a}/"),
    "operateur/commandes/": row(others=403, anon=LOGIN, operator=200),
    "operateur/commandes/<int:pk>/valider/": row(
        "POST", kwargs=SUBMITTED_A, data=CONFIRMED, others=403, anon=LOGIN, funderB=404,
        operator="→/operateur/commandes/"),
    "operateur/commandes/<int:pk>/refuser/": row(
        "POST", kwargs=SUBMITTED_A, data={"reason": "Budget", **CONFIRMED}, others=403,
        anon=LOGIN, funderB=404, operator="→/operateur/commandes/"),
    "carnets/remise/": row(others=200, anon=LOGIN, places=403),
    "carnets/annulation/": row(others=403, anon=LOGIN, funders=200, operator=200),
    "carnets/deplacer/": row(others=403, anon=LOGIN, funders=200, operator=200),

    # --- cheques: printing (web). Anonymous visitors get a 403, not the login page: these
    # are downloads and JSON polled by scripts (cheques/web/printing.py). ------------------
    "commandes/<int:pk>/impression/": row(kwargs=ORDER_A, others=403, anon=LOGIN,
                                          funderA=200, funderB=404, operator=200),
    "commandes/<int:pk>/impression/etat.json": row(kwargs=ORDER_A, others=403, anon=403,
                                                   funderA=200, funderB=404, operator=200),
    "commandes/<int:pk>/impression/pdf/": row(kwargs=ORDER_A, others=403, anon=403,
                                              funderA=200, funderB=404, operator=200),
    "commandes/<int:pk>/imprimer/": row("POST", kwargs=ORDER_A, others=403, anon=403,
                                        funderB=404,
                                        operator="→/commandes/{order_a}/impression/"),
    # Order A is printed: the operator is past every permission and told there is nothing
    # to restart; funder A sees the order but may not restart its printing.
    "commandes/<int:pk>/impression/relancer/": row(
        "POST", kwargs=ORDER_A, others=403, anon=403, funderB=404, operator=409),
    # Replacing a booklet of order A (handed out or not): the operator's alone.
    "commandes/<int:pk>/remplacer-un-carnet/": row(
        "POST", kwargs=ORDER_A, data={"booklet": "{booklet_a}"}, others=403, anon=403,
        funderB=404, operator="→/commandes/{order_a}/impression/"),
    "commandes/<int:pk>/reimprimer-un-carnet/": row(
        "POST", kwargs=ORDER_A, data={"booklet": "{booklet_a}"}, others=403, anon=403,
        funderB=404, operator="→/commandes/{order_a}/impression/"),
    "impressions/<int:job_pk>/pdf/": row(kwargs={"job_pk": "{reprint_job}"}, others=403,
                                         anon=403, funderA=200, funderB=404, operator=200),

    # --- cheques: redemption (web) --------------------------------------------------------
    "encaisser/": row(others=403, anon=LOGIN, places=200, secret=PLACE_X, shown_to=AT_X),
    # The scan page's service worker is a script like any other; the fresh CSRF token that
    # the page asks for before sending its kept baskets says 403 once the session is over.
    "encaisser/sw.js": public(),
    "encaisser/jeton/": row(others=200, anon=403),
    "encaissements/": row(others=403, anon=LOGIN, places=200, secret=PLACE_X,
                          shown_to=AT_X),
    "encaissements/<int:pk>/annuler/": row(
        "POST", kwargs={"pk": "{recent_redemption}"}, data=CONFIRMED, others=403,
        anon=LOGIN, managerX="→/encaissements/", mediatorX="→/encaissements/", mediatorY=404),
    # The QR code's page is public; a mediator's phone goes straight to the scan page.
    "c/<str:code>": row(kwargs={"code": "{cheque_code}"}, query={"s": "{cheque_signature}"},
                        others=200, places="→/encaisser/"),
    # A code typed without its QR code: a form for anyone (throttled when sent).
    "c/": public(),

    # --- cheques: dashboards (web) --------------------------------------------------------
    "financeur/tableau-de-bord/": row(others=403, anon=LOGIN, funders=200, operator=200,
                                      secret=DASHBOARD_A_LINK, shown_to=FUNDER_A),
    "financeur/tableau-de-bord/commande/<int:pk>/": row(
        kwargs=ORDER_A, others=403, anon=LOGIN, funderA=200, funderB=404, operator=200),
    "financeur/tableau-de-bord/lieux.json": row(
        query={"order": "{order_a}"}, others=403, anon=LOGIN, funderA=200, funderB=404,
        operator=200),
    "operateur/tableau-de-bord/": row(others=403, anon=LOGIN, operator=200),
    "financeur/entonnoir/": row(others=403, anon=LOGIN, funders=200, operator=200,
                                secret=DASHBOARD_A_FUNNEL, shown_to=FUNDER_A),

    # --- cheques: reimbursement (web) -----------------------------------------------------
    "remboursements/": row(others=403, anon=LOGIN, managerX=200, operator=200,
                           secret="{statement_x_reference}", shown_to=STATEMENT_X_READERS),
    "remboursements/lancer/": row("POST", others=403, anon=LOGIN,
                                  operator="→/remboursements/"),
    "remboursements/releves/<int:pk>/": row(kwargs=STATEMENT_X, others=403, anon=LOGIN,
                                            managerX=200, operator=200),
    "remboursements/releves/<int:pk>.pdf": row(kwargs=STATEMENT_X, others=403, anon=LOGIN,
                                               managerX=200, operator=200),
    "remboursements/releves/<int:pk>.csv": row(kwargs=STATEMENT_X, others=403, anon=LOGIN,
                                               managerX=200, operator=200),
    "remboursements/releves/<int:pk>/valider/": row(
        "POST", kwargs=STATEMENT_X, others=403, anon=LOGIN, operator="→/remboursements/"),
    "remboursements/lots/": row("POST", data={"statements": "{statement_x}"}, others=403,
                                anon=LOGIN, operator="→/remboursements/"),
    "remboursements/lots/<int:pk>/sepa.xml": row(kwargs=BATCH, others=403, anon=LOGIN,
                                                 operator=200),
    "remboursements/lots/<int:pk>/payer/": row("POST", kwargs=BATCH, data=CONFIRMED,
                                               others=403, anon=LOGIN,
                                               operator="→/remboursements/"),
    "remboursements/lots/<int:pk>/": row(kwargs=BATCH, others=403, anon=LOGIN, operator=200),
    # Without a file: the operator is told on the page it came from.
    "remboursements/fichiers-banque/": row("POST", others=403, anon=LOGIN,
                                           operator="→/remboursements/"),
    "remboursements/corrections/": row(others=403, anon=LOGIN, operator=200),
    "remboursements/corrections/encaissement/": row("POST", others=403, anon=LOGIN,
                                                    operator=400),
    "remboursements/corrections/geste-commercial/": row("POST", others=403, anon=LOGIN,
                                                        operator=400),

    # --- API: orders, booklets, cheques ---------------------------------------------------
    # Lists are scoped to the caller (an empty list for a role with nothing to see).
    "api/v1/orders/": row(others=200, anon=401, secret="Financeur Alpha", shown_to=FUNDER_A),
    "api/v1/orders/<int:pk>/": row(kwargs=ORDER_A, others=404, anon=401, funderA=200,
                                   operator=200),
    "api/v1/orders/<int:pk>/approve/": row("POST", kwargs=SUBMITTED_A, others=403, anon=401,
                                           funderB=404, operator=200),
    "api/v1/orders/<int:pk>/reject/": row("POST", kwargs=SUBMITTED_A, data={"reason": "Non"},
                                          others=403, anon=401, funderB=404, operator=200),
    "api/v1/orders/<int:pk>/cheques/": row(kwargs=ORDER_A, others=403, anon=401, funderB=404,
                                           operator=200),
    # Another funder's booklet answers as an unknown one would (no existence oracle).
    "api/v1/booklets/<str:number>/distribute/": row(
        "POST", kwargs={"number": "{booklet_a}"}, others=403, anon=401, funderA=200,
        prescriberA=200, operator=200, funderB=404),
    # Back to the funder's own stock (where it is): nothing moves, nothing is refused.
    "api/v1/booklets/move/": row(
        "POST", data={"booklets": ["{booklet_a}"], "prescriber": None}, others=403, anon=401,
        funderA=200, funderB=404, operator=200),
    "api/v1/booklets/<str:number>/cancel/": row(
        "POST", kwargs={"number": "{booklet_a}"}, data={"reason": "Perdu"}, others=403,
        anon=401, funderA=200, operator=200, funderB=404),
    # Any mediator checks any cheque a beneficiary brings; funders and prescribers do not.
    "api/v1/cheques/<str:code>/": row(kwargs={"code": "{cheque_code}"}, others=403, anon=401,
                                      places=200, operator=200),
    # Open to anyone signed in or not (cheques/api/printing.py), with the access rule.
    "api/v1/orders/<int:pk>/pdf/": row(kwargs=ORDER_A, others=403, funderA=200, funderB=404,
                                       operator=200),
    "api/v1/orders/<int:pk>/print/": row("POST", kwargs=ORDER_A, others=403, anon=401,
                                         funderB=404, operator=202),
    "api/v1/orders/<int:pk>/print/restart/": row("POST", kwargs=ORDER_A, others=403, anon=401,
                                                 funderB=404, operator=409),
    "api/v1/orders/<int:pk>/ledger/": row(kwargs=ORDER_A, others=403, anon=401, funderA=200,
                                          funderB=404, operator=200),
    "api/v1/reporting/summary/": row(query={"order": "{order_a}"}, others=403, anon=401,
                                     funderA=200, funderB=404, operator=200),

    # --- API: redemption ------------------------------------------------------------------
    "api/v1/redemptions/": row(others=200, anon=401, secret=PLACE_X, shown_to=AT_X),
    # What a redemption would answer, without redeeming: only at one's own place.
    "api/v1/redemptions/check/": row(
        "POST", data={"codes": ["{cheque_code}"], "place": "{place_x}", "service": SERVICE},
        others=403, anon=401, managerX=200, mediatorX=200),
    "api/v1/redemptions/<int:pk>/": row("DELETE", kwargs={"pk": "{recent_redemption}"},
                                        others=403, anon=401, managerX=204, mediatorX=204,
                                        mediatorY=404),

    # --- API: reimbursement ---------------------------------------------------------------
    "api/v1/statements/": row(others=200, anon=401, secret="{statement_x_reference}",
                              shown_to=STATEMENT_X_READERS),
    "api/v1/statements/<int:pk>/": row(kwargs=STATEMENT_X, others=403, anon=401,
                                       managerX=200, operator=200),
    "api/v1/statements/<int:pk>.pdf": row(kwargs=STATEMENT_X, others=403, anon=401,
                                          managerX=200, operator=200),
    "api/v1/statements/<int:pk>.csv": row(kwargs=STATEMENT_X, others=403, anon=401,
                                          managerX=200, operator=200),
    "api/v1/statements/<int:pk>/validate/": row("POST", kwargs=STATEMENT_X, others=403,
                                                anon=401, managerX=403, operator=200),
    "api/v1/payouts/": row(others=403, anon=401, operator=200),
    "api/v1/payouts/<int:pk>/": row(kwargs=BATCH, others=403, anon=401, operator=200),
    "api/v1/payouts/<int:pk>/sepa.xml": row(kwargs=BATCH, others=403, anon=401,
                                            operator=200),
    "api/v1/payouts/<int:pk>/paid/": row("POST", kwargs=BATCH, others=403, anon=401,
                                         operator=200),
    # A file is sent as multipart: JSON is not a file (415) once past the permission.
    "api/v1/payouts/bank-files/": row("POST", others=403, anon=401, operator=415),
}


# --- the patterns, from the resolver -------------------------------------------------------


def url_patterns(patterns=None, prefix="", namespace=""):
    """(route, name) of every pattern, routes in full from the site's root."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from url_patterns(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and ":".join(filter(None, [namespace, pattern.name]))
            yield route, name


def table_key(route):
    return ADMIN if route.startswith(settings.ADMIN_URL) else route


def representative_url(key, row, world):
    if key == ADMIN:
        return f"/{settings.ADMIN_URL}"
    kwargs = {name: fill(value, world) for name, value in row.kwargs.items()}
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(kwargs[match.group(1)]), key)


def fill(value, world):
    if isinstance(value, list):
        return [fill(item, world) for item in value]
    return value.format(**world) if isinstance(value, str) else value


# --- the world -----------------------------------------------------------------------------


@pytest.fixture
def world(clock, db, nomenclature, settings, tmp_path, django_capture_on_commit_callbacks):
    """Funder A with an issued, printed order (and a submitted one), funder B with its own
    order, a prescriber of A, structures X and Y with a qualified place each, redemptions of
    last month in statements (X's a draft, Y's validated in a payment batch), a redemption of
    today at X, a reprinted booklet, an API token of funder A's manager, structure Y's claim
    on place X, X's pending rename of it and a signup waiting for its confirmation."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OPEN_DATA_ROOT = tmp_path / "donnees"
    operator = member(Role.OPERATOR_STAFF, is_staff=True)
    funder_a = OrganisationFactory(kind=Organisation.Kind.FUNDER, name="Financeur Alpha")
    funder_b = OrganisationFactory(kind=Organisation.Kind.FUNDER, name="Financeur Bravo")
    prescriber = OrganisationFactory(kind=Organisation.Kind.PRESCRIBER, funder=funder_a)
    structure_x = OrganisationFactory(kind=Organisation.Kind.STRUCTURE, name="Structure X")
    structure_y = OrganisationFactory(kind=Organisation.Kind.STRUCTURE, name="Structure Y")
    users = {
        "funderA": member(Role.FUNDER_MANAGER, funder_a),
        "funderB": member(Role.FUNDER_MANAGER, funder_b),
        "prescriberA": member(Role.PRESCRIBER, prescriber),
        "managerX": member(Role.PLACE_MANAGER, structure_x),
        "mediatorX": member(Role.MEDIATOR, structure_x),
        "mediatorY": member(Role.MEDIATOR, structure_y),
        "operator": operator,
    }
    place_x = make_place(structure_x, name=PLACE_X)
    place_y = make_place(structure_y, name="Lieu Yeti")

    def order(funder, user, approve=True):
        return make_order(funder, user, approve_by=operator if approve else None)

    with django_capture_on_commit_callbacks(execute=True):  # issued, then printed
        order_a = order(funder_a, users["funderA"])
    order(funder_b, users["funderB"])
    submitted_a = order(funder_a, users["funderA"], approve=False)
    first, second = order_a.booklet_set.order_by("number")
    with django_capture_on_commit_callbacks(execute=True):
        reprint = printing.start_printing(order_a, actor=operator, booklet=first)
    reprint.refresh_from_db()
    assert reprint.state == PrintJob.State.PRINTED
    assert printing.current_job(order_a).state == PrintJob.State.PRINTED

    redeem(order_a, users["mediatorX"], place_x, 2, now=clock.last_month())
    redeem(order_a, users["mediatorY"], place_y, 1, skip=2, now=clock.last_month())
    statements = {s.structure_id: s for s in reimbursement.run(actor=operator)}
    statement_x, statement_y = statements[structure_x.pk], statements[structure_y.pk]
    bank(structure_y)
    reimbursement.validate(statement_y, actor=operator)
    batch = reimbursement.create_batch([statement_y.pk], actor=operator)
    recent = redeem(order_a, users["mediatorX"], place_x, 1, skip=3, now=clock.now)
    cheque = Cheque.objects.filter(booklet=second).order_by("number").first()
    token, _key = tokens.create_token(user=users["funderA"], name="Script")
    claim = claims.request(place_x, by=member(Role.PLACE_MANAGER, structure_y),
                           structure=structure_y)
    change = ChangeRequest.objects.create(
        kind=ChangeRequest.Kind.PLACE, structure=structure_x, place=place_x,
        values={"name": "Lieu renommé"}, previous={"name": PLACE_X},
        requested_by=users["managerX"])
    publication.publish()  # the open-data files of places X and Y
    pending_signup = StructureSignup.objects.create(
        email="nouvelle@structure.example", first_name="N", last_name="S", password="!",
        structure={"name": "Nouvelle", "siret": "44312345000019",
                   "email": "nouvelle@structure.example"})
    return users, {
        "order_a": order_a.pk, "submitted_a": submitted_a.pk, "booklet_a": second.number,
        "reprint_job": reprint.pk, "place_x": place_x.pk, "statement_x": statement_x.pk,
        "statement_x_reference": statement_x.reference, "batch": batch.pk,
        "recent_redemption": recent.redemptions[0].pk,
        "cheque_code": cheque.code, "cheque_signature": codes.sign(cheque.code),
        "token_a": token.pk, "next_year": clock.today.year + 1, "claim_x": claim.pk,
        "change_x": change.pk, "signup_token": signup.token_for(pending_signup),
    }


# --- requests ------------------------------------------------------------------------------


def answer(client, method, url, row, world):
    """The response to one request, inside a savepoint rolled back afterwards."""
    query = {name: fill(value, world) for name, value in row.query.items()}
    data = {name: fill(value, world) for name, value in row.data.items()}
    if query:
        url = f"{url}?{urlencode(query)}"
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        elif url.startswith("/api/"):
            response = client.generic(method, url, json.dumps(data),
                                      content_type="application/json")
        else:
            response = client.generic(method, url, urlencode(data),
                                      content_type="application/x-www-form-urlencoded")
        # A streamed file is read here: the client closes it once read (closing it by hand
        # would close the database connection of the test, too).
        response.body_text = (b"".join(response.streaming_content) if response.streaming
                              else response.content).decode("utf-8", "replace")
        transaction.set_rollback(True)
    return response


def describe(response):
    if response.status_code in (301, 302, 303, 307, 308):
        return f"{response.status_code} → {response['Location']}"
    return str(response.status_code)


def matches(expected, response, world):
    if isinstance(expected, int):
        return response.status_code == expected
    target = fill(expected.removeprefix("→"), world)
    return (response.status_code == 302
            and urlsplit(response["Location"]).path == target)


def missing_patterns():
    return sorted({(route, name) for route, name in url_patterns()
                   if table_key(route) not in MATRIX})


def test_every_url_pattern_answers_every_role_as_the_table_says(world):
    users, ids = world
    mismatches = [f"{route!r} (name {name!r}): no row in MATRIX, add one"
                  for route, name in missing_patterns()]

    clients = {"anon": Client(raise_request_exception=False)}
    for role, user in users.items():
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(user)
    cookies = {role: copy.deepcopy(client.cookies) for role, client in clients.items()}

    live = {table_key(route) for route, _name in url_patterns()}
    for key, row in MATRIX.items():
        if key not in live:  # a stale row: the other test names it
            continue
        url = representative_url(key, row, ids)
        for role in ROLES:
            client = clients[role]
            # A logout or a login cycles the session: every request starts from the role's.
            client.cookies = copy.deepcopy(cookies[role])
            response = answer(client, row.method, url, row, ids)
            expected = row.expected[role]
            where = f"{key!r} {role}: {row.method} {url}"
            if not matches(expected, response, ids):
                mismatches.append(f"{where} expected {fill(expected, ids)}, "
                                  f"got {describe(response)}")
            elif row.secret and response.status_code == 200:
                secret = fill(row.secret, ids)
                shown = secret in response.body_text
                if shown != (role in row.shown_to):
                    mismatches.append(f"{where} {'shows' if shown else 'does not show'} "
                                      f"{secret!r}")
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches)


def test_the_table_has_no_row_for_a_pattern_that_no_longer_exists():
    keys = {table_key(route) for route, _name in url_patterns()}
    stale = sorted(set(MATRIX) - keys)
    assert not stale, f"rows of MATRIX without a URL pattern: {stale}"
