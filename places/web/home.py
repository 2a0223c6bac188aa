from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aptic.home import Action
from aptic.models import Role
from aptic.permissions import is_operator, roles_of


def actions(user):
    """Home-page actions of the places app for `user` (see aptic.home): the map comes first
    for visitors (beneficiaries looking for a place), after their own pages for the others."""
    the_map = Action(_("Trouver un lieu"), reverse("public-map"),
                     _("La carte des lieux qualifiés où utiliser des chèques #APTIC."),
                     short=_("Carte des lieux"))
    found = []
    roles = roles_of(user)
    if Role.PLACE_MANAGER in roles:
        found.append(Action(_("Mes lieux et ma qualification"), reverse("registry-places"),
                            _("Lieux, horaires, services, coordonnées bancaires et demande "
                              "de qualification."), short=_("Mes lieux")))
    elif user.is_authenticated and not roles:
        found.append(Action(_("Inscrire une structure"), reverse("registry-signup"),
                            _("Rejoindre le réseau des lieux qualifiés #APTIC.")))
    if not user.is_authenticated:
        found.append(Action(_("Inscrire une structure"), reverse("registry-signup"),
                            _("Association, médiathèque, mairie : rejoignez le réseau des "
                              "lieux qualifiés #APTIC.")))
    if is_operator(user):
        found.append(Action(_("Qualification des lieux"), reverse("operator-qualification"),
                            _("Examiner les demandes, qualifier, refuser, suspendre."),
                            short=_("Qualification")))
    return [the_map, *found] if not user.is_authenticated else [*found, the_map]
