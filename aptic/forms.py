from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.utils.translation import gettext_lazy as _

from .logins import LoginDelayed
from .models import Organisation, normalise_siret


class FormRenderer(TemplatesSetting):
    """Every field of every form through one template, templates/forms/field.html: label,
    widget, help and errors, the last two under the ids that the widget's aria-describedby
    names."""

    field_template_name = "forms/field.html"


class DelayedLoginMixin:
    """A login form that says when an attempt must wait (aptic.logins): `delayed` holds the
    refusal, for the view to answer 429."""

    delayed = None

    def clean(self):
        try:
            return super().clean()
        except LoginDelayed as delayed:
            self.delayed = delayed
            raise ValidationError(delayed.message, code="delayed") from None


class LoginForm(DelayedLoginMixin, AuthenticationForm):
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


class AdminLoginForm(DelayedLoginMixin, AdminAuthenticationForm):
    pass


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
