"""What each person can do: the pages of their role, listed on their home page (with a
description) and in the header menu of every page (by their short name, aptic.navigation).
A new page joins both with one `Action(...)` line in its app's provider."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from .permissions import is_operator


@dataclass(frozen=True)
class Action:
    label: str
    url: str
    description: str = ""
    short: str = ""  # the name in the header menu, when the label is too long for it

    @property
    def menu_label(self):
        return self.short or self.label


def actions(user):
    """The project's own actions; the domain apps add theirs through providers."""
    found = []
    if getattr(user, "is_authenticated", False):
        found.append(Action(_("Mon compte et jetons d’API"), reverse("account"),
                            _("Créez ou révoquez vos jetons pour l’API partenaires."),
                            short=_("Mon compte")))
    if is_operator(user):
        found.append(Action(_("Administration"), reverse("admin:index"),
                            _("Nomenclature des services, organisations, comptes, journal.")))
    return found


def actions_for(user):
    found = []
    for path in settings.HOME_ACTION_PROVIDERS:
        found.extend(import_string(path)(user))
    found.extend(actions(user))
    return found
