from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aptic.home import Action


def actions(user):
    """Home-page actions of the places app for `user` (see aptic.home)."""
    return [Action(_("Trouver un lieu"), reverse("public-map"),
                   _("La carte des lieux qualifiés où utiliser des chèques #APTIC."))]
