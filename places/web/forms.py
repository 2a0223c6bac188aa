"""Forms of the registry: a structure joining the scheme (its structure: places.signup), its
places, its file; the decisions of the structure and of the operator."""

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from aptic.errors import DomainError
from aptic.models import User
from aptic.web import form_error
from services.models import Service

from .. import banking
from ..models import Place, StructureProfile
from ..standard import values, vocabulary


def standard_choices(label, labels):
    """Check boxes for one multi-valued field of the national standard: its French values,
    shown in the reader's language."""
    return forms.MultipleChoiceField(label=label, required=False,
                                     choices=[(value, _(value)) for value in labels],
                                     widget=forms.CheckboxSelectMultiple)


class AccountForm(forms.Form):
    """The person who registers the structure (becomes its place manager)."""

    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    email = forms.EmailField(label=_("Adresse e-mail"),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label=_("Mot de passe"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Au moins 8 caractères, pas uniquement des chiffres."),
    )

    def clean_email(self):
        # Whether the address has an account is never said here (places.signup).
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            user = User(email=cleaned.get("email", ""), first_name=cleaned.get("first_name", ""),
                        last_name=cleaned.get("last_name", ""))
            try:
                validate_password(password, user)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


def _split(value):
    return [item for item in (part.strip() for part in
                              value.replace(";", ",").replace("|", ",").split(",")) if item]


class PlaceForm(forms.ModelForm):
    """A place of a structure, with the fields of the national standard."""

    services = forms.ModelMultipleChoiceField(
        label=_("Services proposés"), required=False,
        queryset=Service.objects.active().filter(category__active=True)
        .select_related("category"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ce que les chèques #APTIC paient dans ce lieu."),
    )
    emails = forms.CharField(label=_("Courriels"), required=False,
                             help_text=_("Séparés par des virgules."))
    websites = forms.CharField(label=_("Sites web"), required=False,
                               help_text=_("Séparés par des virgules."))
    publics = standard_choices(_("Publics spécifiquement adressés"), vocabulary.PUBLICS)
    specific_support = standard_choices(_("Prise en charge spécifique"),
                                        vocabulary.SPECIFIC_SUPPORT)
    fees = standard_choices(_("Frais à charge"), vocabulary.FEES)
    access_modes = standard_choices(_("Modalités d’accès"), vocabulary.ACCESS_MODES)
    support_modes = standard_choices(_("Modalités d’accompagnement"), vocabulary.SUPPORT_MODES)
    itinerancy = standard_choices(_("Itinérance"), vocabulary.ITINERANCY)
    accessibility_url = forms.URLField(label=_("Fiche Accès libre"), required=False,
                                       assume_scheme="https", max_length=500)
    booking_url = forms.URLField(label=_("Prise de rendez-vous en ligne"), required=False,
                                 assume_scheme="https", max_length=500)
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90,
                                help_text=_("Par exemple 44.8378 (Bordeaux)."))
    longitude = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180,
                                 help_text=_("Par exemple -0.5792 (Bordeaux)."))

    class Meta:
        model = Place
        fields = ["name", "address", "address_complement", "postcode", "insee_code", "town",
                  "latitude", "longitude", "opening_hours", "services", "phone", "emails",
                  "websites", "summary", "description", "publics", "specific_support", "fees",
                  "access_modes", "support_modes", "itinerancy", "accessibility_url",
                  "booking_url"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 2}),
                   "description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Lists are typed as comma-separated text (a new place shows empty boxes, not "[]").
        self.initial["emails"] = ", ".join(self.instance.emails or [])
        self.initial["websites"] = ", ".join(self.instance.websites or [])

    def clean_postcode(self):
        postcode = self.cleaned_data["postcode"].replace(" ", "")
        if not (postcode.isdigit() and len(postcode) == 5):
            raise forms.ValidationError(_("Le code postal compte 5 chiffres."))
        return postcode

    def clean_insee_code(self):
        code = self.cleaned_data["insee_code"].strip().upper()
        if code and not values.INSEE_PATTERN.match(code):
            raise forms.ValidationError(_("Code INSEE invalide (5 caractères, ex. 33063)."))
        return code

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        if not phone:
            return ""
        normalised = values.normalise_phone(phone)
        if not normalised:
            raise forms.ValidationError(
                _("Numéro de téléphone invalide : par exemple 05 56 00 00 00."))
        return normalised

    def clean_emails(self):
        emails = _split(self.cleaned_data["emails"])
        validator = forms.EmailField()
        for email in emails:
            validator.clean(email)
        return emails

    def clean_websites(self):
        validator = forms.URLField(assume_scheme="https")
        return [validator.clean(url) for url in _split(self.cleaned_data["websites"])]

    def clean(self):
        cleaned = super().clean()
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if latitude is not None and longitude is not None \
                and not values.in_france(latitude, longitude):
            self.add_error("latitude", _("Ces coordonnées sont hors de France : vérifiez la "
                                         "latitude et la longitude."))
        return cleaned


ELIGIBILITY_QUESTIONS = [
    ("public_reception", _("Accueillez-vous du public dans un lieu ouvert à heures fixes ?")),
    ("trained_mediators", _("Les accompagnements sont-ils assurés par des médiateurs "
                            "numériques formés ?")),
    ("no_extra_charge", _("Vous engagez-vous à ne rien faire payer en plus au bénéficiaire "
                          "pour un service payé par chèques ?")),
    ("equipment", _("Mettez-vous du matériel (ordinateurs, connexion) à disposition ?")),
]


class EligibilityForm(forms.Form):
    """The eligibility questionnaire; answers are kept in StructureProfile.eligibility."""

    activity = forms.ChoiceField(
        label=_("Activité principale de la structure"),
        choices=[("", "—"), ("association", _("Association")),
                 ("public", _("Collectivité ou service public (mairie, médiathèque, CCAS…)")),
                 ("company", _("Entreprise de l’économie sociale et solidaire")),
                 ("other", _("Autre"))])
    mediators = forms.IntegerField(label=_("Nombre de médiateurs numériques"), min_value=1,
                                   max_value=1000)
    yearly_people = forms.IntegerField(
        label=_("Nombre de personnes accompagnées par an (environ)"), min_value=0,
        max_value=1_000_000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in ELIGIBILITY_QUESTIONS:
            self.fields[name] = forms.TypedChoiceField(
                label=label, choices=[("yes", _("Oui")), ("no", _("Non"))],
                widget=forms.RadioSelect, coerce=lambda value: value == "yes")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("no_extra_charge") is False:
            self.add_error("no_extra_charge", _(
                "Un service payé par chèques ne peut rien coûter de plus au bénéficiaire : "
                "c’est une condition de la qualification."))
        return cleaned


class BankDetailsForm(forms.ModelForm):
    """Where the structure's reimbursements are paid (SEPA transfer)."""

    iban = forms.CharField(label=_("IBAN"), max_length=50,
                           help_text=_("Par exemple FR76 3000 6000 0112 3456 7890 189."))
    bic = forms.CharField(label=_("BIC"), max_length=15,
                          help_text=_("8 ou 11 caractères, par exemple AGRIFRPP."))
    account_holder = forms.CharField(label=_("Titulaire du compte"), max_length=140,
                                     help_text=_("Tel qu’il figure sur le RIB."))

    class Meta:
        model = StructureProfile
        fields = ["iban", "bic", "account_holder"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.iban:
            self.initial["iban"] = banking.format_iban(self.instance.iban)

    def clean_iban(self):
        return _checked(banking.clean_iban, self.cleaned_data["iban"])

    def clean_bic(self):
        return _checked(banking.clean_bic, self.cleaned_data["bic"])

    def clean_account_holder(self):
        return _checked(banking.clean_holder, self.cleaned_data["account_holder"])

    def clean(self):
        cleaned = super().clean()
        iban, bic = cleaned.get("iban"), cleaned.get("bic")
        if iban and bic:
            try:
                banking.check_countries(iban, bic)
            except DomainError as error:
                form_error(self, "bic", error)
        return cleaned


def _checked(clean, value):
    """One field checked by places.banking, its refusal as the field's error."""
    try:
        return clean(value)
    except DomainError as error:
        raise forms.ValidationError(error.detail, code=error.code) from error


class CharterForm(forms.Form):
    accept = forms.BooleanField(
        label=_("J’ai lu la charte #APTIC et je l’accepte au nom de la structure."),
        error_messages={"required": _("Cochez la case pour accepter la charte.")})


class ClaimForm(forms.Form):
    """A structure asks for a listed place (the place's id is read with parse_int)."""

    reason = forms.CharField(
        label=_("Pourquoi ce lieu est-il le vôtre ?"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Par exemple : « nous animons ce lieu depuis 2019 ». L’opérateur et, le "
                    "cas échéant, la structure actuelle du lieu le liront."))


class RequestDecisionForm(forms.Form):
    """A decision on a claim or on a change waiting for review."""

    decision = forms.ChoiceField(choices=[("approve", _("Accepter")), ("refuse", _("Refuser"))])
    reason = forms.CharField(label=_("Motif (obligatoire pour refuser)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class DecisionForm(forms.Form):
    """The operator's decision on a place."""

    DECISIONS = [("qualify", _("Qualifier")), ("reject", _("Refuser")),
                 ("suspend", _("Suspendre")), ("reinstate", _("Rétablir"))]
    decision = forms.ChoiceField(choices=DECISIONS)
    reason = forms.CharField(label=_("Motif (envoyé à la structure)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                             help_text=_("Obligatoire pour refuser ou suspendre."))
