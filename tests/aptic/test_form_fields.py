"""Help and error texts are tied to their fields on every form of the site: one shared field
template (templates/forms/field.html, through aptic.forms.FormRenderer) writes them under
the ids that the widgets' aria-describedby names, and nothing points to an id that is not
on the page."""

import re
from html.parser import HTMLParser

import pytest

from tests.factories import make_order, make_place
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


class Descriptions(HTMLParser):
    """The ids on a page, what each aria-describedby names, and the ids of help and error
    texts."""

    def __init__(self):
        super().__init__()
        self.ids, self.described, self.texts, self.invalid = set(), [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
            # A hidden text (an error the page's script fills in) is named once shown.
            if attrs["id"].endswith(("_helptext", "_error")) and "hidden" not in attrs:
                self.texts.add(attrs["id"])
        if attrs.get("aria-describedby"):
            self.described.append((tag, attrs.get("id") or attrs.get("name"),
                                   attrs["aria-describedby"].split()))
        if attrs.get("aria-invalid") == "true":
            self.invalid.append(attrs.get("id"))


def problems(html):
    page = Descriptions()
    page.feed(html)
    named = {ref for _tag, _id, refs in page.described for ref in refs}
    missing = [(tag, name, ref) for tag, name, refs in page.described for ref in refs
               if ref not in page.ids]
    unreferenced = sorted(page.texts - named)
    # A radio button or a checkbox of a list is described by its fieldset: id_x_0 → id_x.
    invalid_without_error = [name for name in page.invalid
                             if f"{re.sub(r'_[0-9]+$', '', name)}_error" not in named]
    return missing, unreferenced, invalid_without_error


@pytest.fixture
def world(demo):
    place = make_place(demo["structure"], name="Médiathèque du Lac")
    order = make_order(demo["funder"], demo["financeur"])
    return {"place": place, "order": order, **demo}


# (who, method, path, data): each form of the site, shown empty and sent wrong.
FORMS = [
    (None, "POST", "/connexion/", {"username": "", "password": ""}),
    (None, "POST", "/structure/inscription/", {"structure-name": ""}),
    ("financeur", "GET", "/compte/", None),
    ("financeur", "POST", "/compte/", {"name": ""}),
    ("financeur", "POST", "/commandes/nouvelle/", {"booklets": "0"}),
    ("financeur", "POST", "/carnets/remise/", {"number": "", "postcode": "abc"}),
    ("financeur", "POST", "/carnets/annulation/", {"target": "", "identifier": ""}),
    ("operateur", "GET", "/commandes/{order}/", None),
    ("gestionnaire", "POST", "/structure/lieux/nouveau/", {"name": ""}),
    ("gestionnaire", "POST", "/structure/lieux/{place}/modifier/", {"name": ""}),
    ("gestionnaire", "POST", "/structure/banque/", {"iban": "FR00 1234"}),
    ("gestionnaire", "POST", "/structure/eligibilite/", {"sent": "1"}),
    ("gestionnaire", "POST", "/structure/charte/", {"sent": "1"}),
    ("gestionnaire", "GET", "/structure/lieux/revendiquer/?postcode=33000", None),
    ("operateur", "POST", "/operateur/qualification/{place}/", {"decision": "reject"}),
    ("mediateur", "GET", "/encaisser/", None),
]


@pytest.mark.parametrize("who, method, path, data", FORMS,
                         ids=[f"{m} {p}" for _w, m, p, _d in FORMS])
def test_help_and_errors_are_tied_to_their_fields(client, world, who, method, path, data):
    if who:
        client = signed_in(world[who])
    url = path.format(order=world["order"].pk, place=world["place"].pk)
    response = client.get(url) if method == "GET" else client.post(url, data)
    assert response.status_code in (200, 400, 422), response.status_code
    html = response.content.decode()
    missing, unreferenced, invalid = problems(html)
    assert not missing, f"aria-describedby names ids that are not on the page: {missing}"
    assert not unreferenced, f"help or error texts no field points to: {unreferenced}"
    assert not invalid, f"fields marked invalid without their error: {invalid}"
    if method == "POST" and who != "operateur":
        assert "_error" in html, "the wrong input shows no field error"


def test_the_shared_template_writes_the_ids_django_names(world):
    from cheques.web.forms import CancelForm

    form = CancelForm({"target": "booklet", "identifier": "", "reason": ""})
    html = str(form["identifier"].as_field_group())
    assert 'aria-describedby="id_identifier_helptext id_identifier_error"' in html
    assert 'id="id_identifier_helptext"' in html and 'id="id_identifier_error"' in html
    radios = str(form["target"].as_field_group())
    assert radios.lstrip().startswith("<fieldset") and "<legend>" in radios
