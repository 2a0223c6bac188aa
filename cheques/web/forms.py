"""Forms of the order pages: the order itself, hand-over, cancellation, operator decisions.

The rules on an order's terms live in cheques.ordering (validate_order_terms); these forms
turn what people type (euros, a list of départements, a logo file) into its arguments.
"""

import datetime
import re
from decimal import Decimal

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from aptic.models import Organisation
from places.departments import DEPARTMENTS
from services.models import Service

from .. import logos
from ..models import (
    MAX_BOOKLETS_PER_ORDER,
    MAX_CHEQUES_PER_BOOKLET,
    MAX_WORDING_LENGTH,
    Booklet,
)
from ..validity import default_valid_until, validate_valid_until


def parse_territory(text):
    """Département codes from free text (``33, 2a 64``): upper case, one digit padded."""
    codes = []
    for item in re.split(r"[\s,;]+", (text or "").strip()):
        if not item:
            continue
        item = item.upper()
        if item.isdigit() and len(item) == 1:
            item = f"0{item}"
        if item not in codes:
            codes.append(item)
    return codes


def grouped_services():
    """Active services grouped by category, for grouped checkboxes: [(category, [(slug,
    label), …]), …]."""
    groups = {}
    for service in Service.objects.active().filter(category__active=True) \
            .select_related("category"):
        groups.setdefault(service.category.display_label, []).append(
            (service.slug, service.display_label))
    return list(groups.items())


class EurosField(forms.DecimalField):
    """Euros typed with a comma or a dot (« 12,50 » or « 12.50 »)."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace(",", ".").replace("€", "").replace("\u00a0", "").strip()
        return super().to_python(value)


class OrderPriceForm(forms.Form):
    """The figures that make an order's price (cheques.pricing). Face value in euros here,
    in cents everywhere else."""

    booklets = forms.IntegerField(
        label=_("Nombre de carnets"), min_value=1, max_value=MAX_BOOKLETS_PER_ORDER,
        initial=10, widget=forms.NumberInput(attrs={"data-price": "booklets"}))
    cheques_per_booklet = forms.IntegerField(
        label=_("Chèques par carnet"), min_value=1, max_value=MAX_CHEQUES_PER_BOOKLET,
        initial=10, widget=forms.NumberInput(attrs={"data-price": "cheques"}),
        help_text=_("De 1 à 20 ; d’ordinaire 5 ou 10."))
    face_value = EurosField(
        label=_("Valeur d’un chèque (€)"), max_digits=8, decimal_places=2,
        initial=Decimal("10.00"),
        validators=[MinValueValidator(Decimal("0.01"), _("La valeur faciale doit être "
                                                         "positive.")),
                    MaxValueValidator(Decimal("1000"), _("Au plus 1 000 € par chèque."))],
        widget=forms.NumberInput(attrs={"data-price": "face-value", "step": "0.01"}),
        help_text=_("Un chèque paie d’ordinaire une heure d’accompagnement (10 €)."))

    @property
    def face_value_cents(self):
        return int(self.cleaned_data["face_value"] * 100)


class OrderForm(OrderPriceForm):
    """What a funder manager orders."""

    field_order = ["funder"]

    funder = forms.ModelChoiceField(label=_("Financeur"), queryset=Organisation.objects.none(),
                                    empty_label=None)
    valid_until = forms.DateField(
        label=_("Valable jusqu’au"), initial=default_valid_until,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Les chèques restent acceptés pendant le délai de grâce qui suit."))
    allowed_services = forms.MultipleChoiceField(
        label=_("Services autorisés"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucune case cochée : tous les services de la nomenclature."))
    territory = forms.CharField(
        label=_("Territoire (codes des départements)"), required=False, max_length=500,
        help_text=_("Par exemple « 33, 24, 47 » ; vide : tout le territoire."))
    target_public = forms.CharField(label=_("Public visé"), required=False, max_length=300)
    requires_activation = forms.BooleanField(
        label=_("Activation à la remise"), required=False,
        help_text=_("Les chèques ne peuvent être encaissés qu’après leur remise enregistrée."))
    logo = forms.FileField(
        label=_("Logo (PNG ou SVG, 1 Mo au plus)"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/svg+xml"}))
    custom_wording = forms.CharField(
        label=_("Mention personnalisée"), required=False, max_length=MAX_WORDING_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Un texte imprimé sur la couverture de chaque carnet (500 caractères au "
                    "plus)."))
    contact_name = forms.CharField(label=_("Nom du contact"), max_length=200)
    contact_email = forms.EmailField(label=_("E-mail du contact"))
    contact_phone = forms.CharField(label=_("Téléphone du contact"), required=False,
                                    max_length=30)

    def __init__(self, *args, funders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funder"].queryset = funders
        self.only_funder = funders.first() if len(funders) == 1 else None
        if self.only_funder:
            self.fields["funder"].initial = self.only_funder.pk
            self.fields["funder"].required = False
            self.fields["funder"].widget = forms.HiddenInput()
        self.fields["allowed_services"].choices = grouped_services()
        self.logo_type = None

    def clean_funder(self):
        return self.cleaned_data.get("funder") or self.only_funder

    def clean_valid_until(self):
        value = self.cleaned_data["valid_until"]
        validate_valid_until(value)
        return value

    def clean_territory(self):
        codes = parse_territory(self.cleaned_data["territory"])
        unknown = [code for code in codes if code not in DEPARTMENTS]
        if unknown:
            raise forms.ValidationError(_("Départements inconnus : %(codes)s.")
                                        % {"codes": ", ".join(unknown)})
        return sorted(codes)

    def clean_logo(self):
        """The logo as it will be kept: judged by its content, an SVG sanitised, and named
        with the extension of what it really is (printing reads the type from the name)."""
        logo = self.cleaned_data.get("logo")
        if not logo:
            return None
        if logo.size > logos.MAX_BYTES:
            raise forms.ValidationError(_("Le logo dépasse 1 Mo : réduisez-le avant de "
                                          "l’envoyer."))
        try:
            data, self.logo_type = logos.clean_logo(logo.read())
        except logos.LogoError as error:
            raise forms.ValidationError(str(error)) from error
        stem = (logo.name or "logo").rsplit(".", 1)[0][:90] or "logo"
        return SimpleUploadedFile(stem + logos.EXTENSIONS[self.logo_type], data,
                                  self.logo_type)

class OrderDecisionForm(forms.Form):
    reason = forms.CharField(label=_("Motif du refus"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ExtendValidityForm(forms.Form):
    valid_until = forms.DateField(label=_("Nouvelle date de fin de validité"),
                                  widget=forms.DateInput(attrs={"type": "date"}))


class DistributeForm(forms.Form):
    number = forms.CharField(
        label=_("Numéro du carnet"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True,
                                      "placeholder": "2025-000001", "spellcheck": "false"}),
        help_text=_("Saisi au clavier ou lu par une douchette (AAAA-NNNNNN)."))
    age_bracket = forms.ChoiceField(label=_("Tranche d’âge (facultatif)"), required=False,
                                    choices=[("", "—"), *Booklet.AgeBracket.choices])
    postcode = forms.RegexField(
        label=_("Code postal du bénéficiaire (facultatif)"), required=False,
        regex=r"^\d{5}$", max_length=5,
        error_messages={"invalid": _("Un code postal compte 5 chiffres.")})
    situation = forms.ChoiceField(label=_("Situation (facultatif)"), required=False,
                                  choices=[("", "—"), *Booklet.Situation.choices])

    def clean_number(self):
        number = re.sub(r"\s+", "", self.cleaned_data["number"]).upper()
        if not re.fullmatch(r"\d{4}-\d{6}", number):
            raise forms.ValidationError(_("Un numéro de carnet s’écrit AAAA-NNNNNN "
                                          "(par exemple 2025-000123)."))
        return number


class CancelForm(forms.Form):
    BOOKLET, CHEQUE = "booklet", "cheque"

    target = forms.ChoiceField(
        label=_("Que faut-il annuler ?"), widget=forms.RadioSelect, initial=BOOKLET,
        choices=[(BOOKLET, _("Un carnet entier")), (CHEQUE, _("Un seul chèque"))])
    identifier = forms.CharField(
        label=_("Numéro du carnet ou code du chèque"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Carnet : AAAA-NNNNNN ; chèque : le code XXXX-XXXX-XXXX-X."))
    reason = forms.CharField(label=_("Motif de l’annulation"), max_length=300,
                             help_text=_("Par exemple : perte, vol, erreur de remise."))


def default_extension(order):
    return order.valid_until + datetime.timedelta(days=90)


class CodeForm(forms.Form):
    """A cheque's code, typed by the person who holds the cheque."""

    code = forms.CharField(
        label=_("Code du chèque"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                      "autocapitalize": "characters",
                                      "placeholder": "XXXX-XXXX-XXXX-X"}),
        help_text=_("Les 13 caractères imprimés à côté de « Code » sur le chèque."))


# --- reimbursement: the bank's files, corrections, goodwill --------------------------------


class BankFileForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier de la banque (XML)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
        help_text=_("Rapport d’état pain.002, avis d’opération camt.054 ou relevé de compte "
                    "camt.053. Un fichier déjà lu ne change plus rien."))


class CorrectionForm(forms.Form):
    cheque = forms.CharField(
        label=_("Numéro du chèque encaissé à tort"), max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                      "placeholder": "2025-000001-01"}))
    reason = forms.CharField(
        label=_("Motif de la correction"), max_length=300,
        help_text=_("Par exemple : chèque d’un autre financeur, lieu non qualifié ce jour-là. "
                    "Le chèque est annulé et son montant déduit du prochain relevé."))

    def clean_cheque(self):
        number = re.sub(r"\s+", "", self.cleaned_data["cheque"]).upper()
        if not re.fullmatch(r"\d{4}-\d{6}-\d{2}", number):
            raise forms.ValidationError(_("Un numéro de chèque s’écrit AAAA-NNNNNN-NN."))
        return number


class GoodwillForm(forms.Form):
    structure = forms.ModelChoiceField(
        label=_("Structure"), queryset=Organisation.objects.filter(
            kind=Organisation.Kind.STRUCTURE).order_by("name"))
    amount = EurosField(
        label=_("Montant (€)"), max_digits=9, decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"), _("Le montant doit être positif.")),
                    MaxValueValidator(Decimal("10000"), _("Au plus 10 000 €."))],
        widget=forms.NumberInput(attrs={"step": "0.01"}))
    reason = forms.CharField(label=_("Motif du geste commercial"), max_length=300)

    def clean_amount(self):
        return int(self.cleaned_data["amount"] * 100)


class MoveForm(forms.Form):
    """Booklets not yet handed out, moved to another prescriber of their funder."""

    numbers = forms.CharField(
        label=_("Numéros des carnets"), max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false",
                                     "placeholder": "2025-000001 2025-000002"}),
        help_text=_("Séparés par des espaces, des virgules ou des retours à la ligne. Seuls "
                    "les carnets pas encore remis changent de prescripteur."))
    holder = forms.ChoiceField(label=_("Nouveau détenteur"))

    def __init__(self, *args, prescribers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = [
            ("", _("Le stock du financeur (aucun prescripteur)")),
            *[(str(p.pk), f"{p.name} ({p.funder.name})" if p.funder_id else p.name)
              for p in prescribers]]
        self.fields["holder"].required = False

    def clean_numbers(self):
        numbers = [n.upper() for n in re.split(r"[\s,;]+", self.cleaned_data["numbers"]) if n]
        bad = [n for n in numbers if not re.fullmatch(r"\d{4}-\d{6}", n)]
        if bad:
            raise forms.ValidationError(_("Numéro de carnet invalide : %(list)s (AAAA-NNNNNN).")
                                        % {"list": ", ".join(bad[:5])})
        if not numbers:
            raise forms.ValidationError(_("Indiquez au moins un numéro de carnet."))
        return numbers
