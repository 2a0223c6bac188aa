from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aptic.home import Action
from aptic.permissions import PLACE_ROLES, organisations_for


def actions(user):
    """Home-page actions of the cheques app for `user` (see aptic.home)."""
    found = []
    if organisations_for(user, *PLACE_ROLES).exists():
        found.append(Action(_("Encaisser des chèques"), reverse("redemption-scan"),
                            _("Scannez ou saisissez les chèques remis par un bénéficiaire.")))
        found.append(Action(_("Historique des encaissements"), reverse("redemption-history"),
                            _("Les chèques encaissés dans vos lieux, avec export CSV.")))
    return found
