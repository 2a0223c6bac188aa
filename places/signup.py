"""A structure joining the scheme: its account, its SIRET, its first place manager.

The signup form must not tell who has an account. Someone without an account therefore
gets the same answer whatever address they type — « check your mailbox » — and:

- for a new address, the signup is kept aside (StructureSignup) and a link to confirm it is
  mailed there; the account and the structure are created only when the link is used, so
  that a SIRET cannot be used to learn what the form does not say;
- for an address that has an account, nothing is kept; its owner is told by e-mail that
  someone tried, and how to register a structure from their account.

The password is hashed in both cases, so that both answers take as long. A signed-in user
registers a structure at once: their address is known already.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aptic import audit
from aptic.errors import DomainError
from aptic.forms import OrganisationForm
from aptic.models import Membership, Organisation, Role, User

from .models import StructureProfile, StructureSignup

SALT = "places.signup"
CONFIRMATION_DAYS = 3


class StructureForm(OrganisationForm):
    """The structure itself: an organisation of kind « structure de médiation », SIRET
    required and checked (Luhn, unique). The signup page shows it; a confirmation checks the
    answers kept aside with it again, the SIRET having possibly been taken since."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("instance", Organisation(kind=Organisation.Kind.STRUCTURE))
        super().__init__(*args, **kwargs)
        self.fields["siret"].required = True
        self.fields["email"].required = True
        self.fields["name"].label = gettext_lazy("Nom de la structure")
        self.fields["address"].label = gettext_lazy("Adresse du siège")

    def clean_siret(self):
        siret = super().clean_siret()
        if not siret:
            raise forms.ValidationError(
                gettext_lazy("Le SIRET est obligatoire pour une structure."))
        return siret


@transaction.atomic
def register_structure(structure_form, *, user):
    """Create the structure of a valid StructureForm with `user` as its place manager."""
    structure = structure_form.save()
    Membership.objects.create(user=user, organisation=structure, role=Role.PLACE_MANAGER)
    StructureProfile.objects.create(organisation=structure)
    audit.record(user, structure, "structure.registered", "", "", siret=structure.siret)
    return structure


def sign_up(*, account, structure):
    """Someone without an account signs up: `account` and `structure` are the cleaned data
    of the account and structure forms. Answers nothing: the mailbox does."""
    email = account["email"]
    password = make_password(account["password"])
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        _mail_existing_account(existing.email)
        return
    with transaction.atomic():
        signup = StructureSignup.objects.create(
            email=email, first_name=account["first_name"], last_name=account["last_name"],
            password=password, structure=structure)
        audit.record(None, signup, "structure.signup_requested", "", "",
                     siret=structure.get("siret", ""))
    _mail_confirmation(signup)


def token_for(signup):
    return signing.dumps(signup.pk, salt=SALT)


def pending(token):
    """The signup of a confirmation link, or None when the link is unknown, expired or
    used already."""
    try:
        pk = signing.loads(token, salt=SALT, max_age=CONFIRMATION_DAYS * 24 * 3600)
    except signing.BadSignature:
        return None
    return StructureSignup.objects.filter(pk=pk, confirmed_at=None).first()


def confirm(token):
    """Create the account and the structure of a confirmed signup: (user, structure)."""
    with transaction.atomic():
        signup = pending(token)
        if signup is None:
            raise DomainError("invalid_link", _(
                "Ce lien n’est plus valable : il a déjà servi ou il a expiré. Inscrivez à "
                "nouveau la structure."))
        signup = StructureSignup.objects.select_for_update().get(pk=signup.pk)
        if signup.confirmed_at is not None:
            raise DomainError("already_confirmed",
                              _("Cette inscription est déjà confirmée : connectez-vous."))
        if User.objects.filter(email__iexact=signup.email).exists():
            raise DomainError("account_exists", _(
                "Un compte existe déjà avec cette adresse : connectez-vous, puis inscrivez la "
                "structure depuis votre compte."))
        form = StructureForm(signup.structure)
        if not form.is_valid():
            # The SIRET was registered by someone else since the signup.
            raise DomainError("siret_taken", " ".join(
                message for messages in form.errors.values() for message in messages))
        user = User(email=signup.email, username=signup.email, first_name=signup.first_name,
                    last_name=signup.last_name, password=signup.password)
        user.save()
        structure = register_structure(form, user=user)
        signup.confirmed_at = timezone.now()
        signup.save(update_fields=["confirmed_at"])
        audit.record(user, signup, "structure.signup_confirmed", "", "", structure=structure.pk)
    return user, structure


def _mail_confirmation(signup):
    link = settings.SITE_URL + reverse("registry-signup-confirm", args=[token_for(signup)])
    send_mail(
        _("Confirmez l’inscription de votre structure sur #APTIC"),
        _("Bonjour,\n\nPour terminer l’inscription de votre structure sur la plateforme des "
          "chèques #APTIC, ouvrez ce lien dans les %(days)s jours :\n\n%(link)s\n\n"
          "Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : rien ne sera "
          "créé.") % {"days": CONFIRMATION_DAYS, "link": link},
        None, [signup.email],
    )


def _mail_existing_account(email):
    # Nothing typed in the form goes into this message: it reaches someone else's mailbox.
    login = settings.SITE_URL + reverse("login")
    signup = settings.SITE_URL + reverse("registry-signup")
    send_mail(
        _("Tentative d’inscription avec votre adresse"),
        _("Bonjour,\n\nQuelqu’un vient d’essayer de créer un compte #APTIC avec votre adresse "
          "e-mail, qui a déjà un compte. Si c’était vous, connectez-vous :\n\n%(login)s\n\n"
          "puis inscrivez la structure depuis votre compte : %(signup)s\n\n"
          "Si vous avez oublié votre mot de passe, contactez l’opérateur #APTIC. Si ce "
          "n’était pas vous, ignorez ce message : rien n’a été créé ni modifié.")
        % {"login": login, "signup": signup},
        None, [email],
    )
