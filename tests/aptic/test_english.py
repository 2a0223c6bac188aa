"""English everywhere a person reads.

The crawl renders every page of every role in English (the URL patterns and roles of the
permission matrix, each page its role may open) and fails on French left in what a person
reads: a sentence of the catalogue shown as is, French words, French typography (a blank
before a colon, « quotes »), French money (« 10,00 € ») or hours (« 9 h 30 »). CSV files
are read too, and the messages the scan page's script shows. The catalogue itself has no
untranslated or fuzzy entry. The legal documents (quote, invoice, statement) stay French,
and the pages that offer them say so.
"""

import csv
import datetime
import io
import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import formats, timezone, translation

from aptic.l10n import format_euros, format_percent
from aptic.models import Organisation, Role, User
from cheques import reimbursement
from cheques.models import Order, StatementLine
from places.models import ChangeRequest, Place
from services.models import Service

# The permission matrix's world (a fixture): every role, with something on each page.
from tests.aptic.test_permission_matrix import (
    ADMIN,
    MATRIX,
    ROLES,
    fill,
    representative_url,
    world,  # noqa: F401  (the fixture: every role, with something on each page)
)
from tests.cheques.reimbursement_support import redeem
from tests.factories import OrganisationFactory, make_order, make_place, member
from tests.helpers import pdf_text

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"

# --- what French looks like ----------------------------------------------------------------

FRENCH_WORDS = {
    "le", "la", "les", "des", "du", "une", "est", "sont", "pour", "avec", "dans", "sur", "vos",
    "votre", "aux", "au", "et", "à", "pas", "qui", "que", "ce", "cette", "ces", "nous", "vous",
    "par", "de", "leur", "ou", "où", "ni", "très", "été", "être", "avoir", "chèque", "chèques",
    "carnet", "carnets", "lieu", "lieux", "commande", "commandes", "relevé", "relevés",
    "encaissé", "encaissés", "encaissement", "encaissements", "financeur", "médiateur",
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre", "janv", "févr", "avr", "juil", "sept", "déc",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
}
# A word: letters only, not a piece of a code or a token (« 2ce5614e » holds no « ce »).
WORD = re.compile(r"(?<!\w)[^\W\d_]+(?:[’'][^\W\d_]+)*(?!\w)")
FRENCH_SHAPES = [
    ("a blank before a colon, semicolon, ! or ?", re.compile(r"\S[ \u00a0\u202f][:;!?](?=\s|$)")),
    ("French quotes", re.compile(r"[«»]")),
    ("French money", re.compile(r"\d,\d\d[\s\u00a0\u202f]?€|\d[\s\u00a0\u202f]€")),
    ("French hours", re.compile(r"\b\d{1,2} h(?: \d\d)?\b")),
    ("an elided French article", re.compile(r"\b[lLdDqQnNjJ][’']\w")),
]


# Not prose: addresses and file names (« lieux.csv », « /donnees/… »), and what English
# quotes as a literal value (“Accepte les chèques #APTIC”).
NOT_PROSE = re.compile(r"\S*[/.]\S*\w|“[^”]*”")


def french_in(text):
    """What looks French in one piece of text a person reads: [(why, excerpt)]."""
    found = []
    words = {word.lower() for word in WORD.findall(NOT_PROSE.sub(" ", text))}
    if words & FRENCH_WORDS:
        found.append((f"French words {sorted(words & FRENCH_WORDS)}", text))
    for why, shape in FRENCH_SHAPES:
        if shape.search(text):
            found.append((why, text))
    return found


# --- what a person reads -------------------------------------------------------------------


class Reader(HTMLParser):
    """The texts of a page a person reads: text nodes, the labels in attributes, the strings
    of the JSON a script shows (json_script), but not the language menu, whose names are each
    in their own language."""

    ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "data-label"}

    def __init__(self):
        super().__init__()
        self.texts, self.skip, self.json = [], 0, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.skip or tag in ("style",) or attrs.get("id") == "language-select":
            self.skip += tag not in ("br", "input", "img", "meta", "link")
            return
        if tag == "script":
            if attrs.get("type") == "application/json":
                self.json = []
            else:
                self.skip += 1
            return
        self.texts.extend(value for name, value in attrs.items()
                          if name in self.ATTRIBUTES and value)
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.texts.append(attrs["value"])

    def handle_endtag(self, tag):
        if self.json is not None and tag == "script":
            self.texts.extend(strings_of(json.loads("".join(self.json) or "null")))
            self.json = None
        elif self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if self.json is not None:
            self.json.append(data)
        elif not self.skip and data.strip():
            self.texts.append(" ".join(data.split()))


def strings_of(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item)


def readable_texts(html):
    reader = Reader()
    reader.feed(html)
    return reader.texts


# --- the catalogue -------------------------------------------------------------------------


def catalogue_entries():
    """[(msgid, [msgstr…], fuzzy)] of the English catalogue."""
    entries, entry, field = [], None, None
    for line in CATALOGUE.read_text().splitlines() + [""]:
        if not line.strip():
            if entry and entry["msgid"]:
                entries.append((entry["msgid"], list(entry["msgstr"].values()), entry["fuzzy"]))
            entry, field = None, None
            continue
        entry = entry or {"msgid": "", "msgstr": {}, "fuzzy": False}
        if line.startswith("#,") and "fuzzy" in line:
            entry["fuzzy"] = True
        elif line.startswith("#"):
            continue
        else:
            match = re.match(r'(msgid|msgid_plural|msgstr(?:\[\d\])?|msgctxt) "(.*)"$', line)
            if match:
                field = match[1]
                text = match[2]
            else:
                text = re.match(r'"(.*)"$', line)[1]
            text = text.encode().decode("unicode_escape").encode("latin-1").decode()
            if field == "msgid":
                entry["msgid"] += text
            elif field.startswith("msgstr"):
                entry["msgstr"][field] = entry["msgstr"].get(field, "") + text
    return entries


def french_sentences():
    """Pieces of the catalogue's French sentences that English pages can never show: the
    literal parts (placeholders cut out) of entries whose translation differs, when a piece
    has at least three words."""
    pieces = set()
    for msgid, msgstrs, _fuzzy in catalogue_entries():
        if msgid in msgstrs:
            continue
        for piece in re.split(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|\n", msgid):
            piece = piece.strip(" .,:;!?()«»—–-")
            if len(piece.split()) >= 3:
                pieces.add(piece)
    return pieces


def test_the_catalogue_has_no_untranslated_or_fuzzy_entry():
    result = subprocess.run(["msgfmt", "--statistics", "--check", "-o", "/dev/null",
                             str(CATALOGUE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr
    left = [msgid for msgid, msgstrs, fuzzy in catalogue_entries()
            if fuzzy or not all(msgstrs)]
    assert not left, f"untranslated or fuzzy: {left}"


# --- the crawl -----------------------------------------------------------------------------


def english_world(ids):
    """The matrix's world with names that are not French words, and with the national
    standard's vocabulary, hours and restricted services that the pages then show."""
    for organisation in Organisation.objects.all():
        organisation.name = f"Org {organisation.pk} Alpha"
        organisation.address = "10 Harbour Road, 33000 Bordeaux"
        organisation.save()
    for place in Place.objects.all():
        place.name = f"Hub {place.pk}"
        place.address = "10 Harbour Road"
        place.opening_hours = "Mo-Fr 09:00-12:00,14:00-17:30; Sa 09:30-12:00"
        place.access_modes = ["Se présenter", "Téléphoner"]
        place.specific_support = ["Surdité", "Déficience visuelle"]
        place.publics = ["Seniors", "Familles et/ou enfants"]
        place.fees = ["Gratuit"]
        place.summary = "A friendly hub."
        place.description = "Computers and help."
        place.save()
    StatementLine.objects.update(place_name="Hub")
    ChangeRequest.objects.update(values={"name": "Renamed hub"}, previous={"name": "Hub"})
    User.objects.update(first_name="Sam", last_name="Smith")
    order = Order.objects.get(pk=ids["order_a"])
    order.allowed_services.set(Service.objects.filter(slug__in=["outils-atelier",
                                                                "demarches-atelier"]))


def english_client(user=None):
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# Downloads whose first row people read as column names (the statement's CSV is in the
# matrix already).
CSV_PAGES = [("funderA", "/financeur/tableau-de-bord/?format=csv&table=" + table)
             for table in ("summary", "orders", "months", "services", "places",
                           "departments", "profile")] + [
    ("mediatorX", "/encaissements/?format=csv")]


def pages_of(role, ids):
    """(url, row) of every page of the matrix that `role` opens with a 200."""
    for key, row in MATRIX.items():
        if key == ADMIN or key.startswith("api/") or row.method != "GET":
            continue
        if row.expected[role] != 200:
            continue
        url = representative_url(key, row, ids)
        query = "&".join(f"{name}={fill(value, ids)}" for name, value in row.query.items())
        yield (f"{url}?{query}" if query else url), row


def test_every_page_of_every_role_reads_in_english(world):  # noqa: F811
    users, ids = world
    english_world(ids)
    sentences = french_sentences()
    problems, seen = [], 0
    for role in ROLES:
        client = english_client(users.get(role))
        for url, _row in pages_of(role, ids):
            response = client.get(url)
            assert response.status_code == 200, f"{role} {url}: {response.status_code}"
            kind = response.get("Content-Type", "")
            body = (b"".join(response.streaming_content) if response.streaming
                    else response.content).decode("utf-8", "replace")
            if kind.startswith("text/html"):
                texts = readable_texts(body)
                assert 'lang="en"' in body, f"{role} {url} is not in English"
            elif kind.startswith("text/csv"):
                texts = next(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
            else:
                continue
            seen += 1
            for text in texts:
                problems.extend(f"{role} {url}: {why}: {excerpt!r}"
                                for why, excerpt in french_in(text))
                problems.extend(f"{role} {url}: catalogue sentence left in French: {piece!r}"
                                for piece in sentences if piece in text)
    for role, url in CSV_PAGES:
        body = english_client(users[role]).get(url).content.decode().lstrip("\ufeff")
        header = next(csv.reader(io.StringIO(body), delimiter=";"))
        problems.extend(f"{role} {url}: {why}: {excerpt!r}"
                        for text in header for why, excerpt in french_in(text))
    assert seen > 60
    problems = sorted(set(problems))
    assert not problems, f"{len(problems)} French texts on English pages:\n" + "\n".join(
        problems)


# --- formats and legal documents ----------------------------------------------------------


@pytest.fixture
def statement_world(clock, nomenclature):
    """An issued order of a funder, two cheques redeemed last month at a place with hours and
    the standard's vocabulary, the structure's statement validated."""
    operator = member(Role.OPERATOR_STAFF)
    funder = OrganisationFactory(kind=Organisation.Kind.FUNDER, name="Fund")
    manager = member(Role.FUNDER_MANAGER, funder)
    structure = OrganisationFactory(kind=Organisation.Kind.STRUCTURE, name="Hub Org")
    place = make_place(structure, name="Hub", address="10 Harbour Road",
                       opening_hours="Mo-Fr 09:00-12:00,14:00-17:30; Sa 09:30-12:00",
                       access_modes=["Se présenter", "Téléphoner"], fees=["Gratuit"],
                       specific_support=["Surdité"])
    order = make_order(funder, manager, approve_by=operator, booklets=10,
                       cheques_per_booklet=10, face_value_cents=1050)
    redeem(order, member(Role.MEDIATOR, structure), place, 2, now=clock.last_month())
    [statement] = reimbursement.run(actor=operator)
    reimbursement.validate(statement, actor=operator)
    return {"order": order, "manager": manager, "place": place, "statement": statement,
            "place_manager": member(Role.PLACE_MANAGER, structure)}


def test_english_pages_write_money_dates_and_hours_the_english_way(statement_world):
    place, order = statement_world["place"], statement_world["order"]
    page = english_client().get(f"/lieux/{place.pk}/").content.decode()
    assert ("Monday to Friday from 09:00 to 12:00 and from 14:00 to 17:30; "
            "Saturday from 09:30 to 12:00") in page
    assert "Walk in, Phone" in page and "Deafness" in page and "Free of charge" in page
    detail = english_client(statement_world["manager"]).get(
        f"/commandes/{order.pk}/").content.decode()
    assert "€1,050.00" in detail and "1 050,00" not in detail
    statement = statement_world["statement"]
    html = english_client(statement_world["place_manager"]).get(
        f"/remboursements/releves/{statement.pk}/").content.decode()
    redeemed_at = statement.lines.first().redeemed_at
    assert timezone.localtime(redeemed_at).strftime("%d/%m/%Y %H:%M") in html
    assert "€21.00" in html
    rows = list(csv.reader(io.StringIO(english_client(statement_world["place_manager"]).get(
        f"/remboursements/releves/{statement.pk}.csv").content.decode().lstrip("\ufeff")),
        delimiter=";"))
    amount = rows[0].index("amount (€)")
    assert rows[0][0] == "statement" and rows[-1][amount] == "21.00"


def test_legal_documents_stay_french_and_english_pages_say_so(statement_world):
    order, statement = statement_world["order"], statement_world["statement"]
    client = english_client(statement_world["manager"])
    detail = client.get(f"/commandes/{order.pk}/").content.decode()
    assert "Quotes, invoices and statements are legal documents" in detail
    for response in (client.get(f"/commandes/{order.pk}/devis.pdf"),
                     client.get(f"/commandes/{order.pk}/facture.pdf")):
        text = pdf_text(response.content)
        assert ("Devis" in text or "Facture" in text) and "1 050,00 €" in text
        assert "Invoice" not in text and "Quote" not in text
    with translation.override("en"):
        text = pdf_text(reimbursement.statement_pdf(statement))
    assert "Relevé de remboursement" in text and "21,00 €" in text
    french = Client()
    french.force_login(statement_world["manager"])
    assert "documents légaux" not in french.get(f"/commandes/{order.pk}/").content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_scripts_write_money_and_dates_as_the_server_does(page, live_server, language):
    """The scan page's script formats through static/aptic/format.js: the same text as the
    server's formatter (aptic.l10n) in the page's language."""
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                               "url": live_server.url}])
    page.goto("/lieux/")
    shown = page.evaluate("[apticFormat.euros(123450), apticFormat.euros(1000), "
                          "apticFormat.percent(42.5), apticFormat.date('2027-01-31')]")
    with translation.override(language):
        assert shown == [format_euros(123450), format_euros(1000), format_percent(42.5),
                         formats.date_format(datetime.date(2027, 1, 31), "SHORT_DATE_FORMAT")]
