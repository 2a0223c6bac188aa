from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Organisation, normalise_siret


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Adresse e-mail ou identifiant"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _(
            "Identifiant ou mot de passe incorrect. Vérifiez-les et réessayez."
        ),
        "inactive": _("Ce compte est désactivé."),
    }


class OrganisationForm(forms.ModelForm):
    # Wider than the model field: people type SIRETs with spaces, compacted in clean_siret.
    siret = forms.CharField(label=_("SIRET"), max_length=20, required=False,
                            help_text=_("14 chiffres."))

    class Meta:
        model = Organisation
        fields = ["name", "siret", "email", "phone", "address"]

    def clean_siret(self):
        return normalise_siret(self.cleaned_data.get("siret"))


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Nom du jeton"), max_length=100,
        help_text=_("Pour vous souvenir de son usage, par exemple « logiciel de réservation »."),
    )
